/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Sluice side of the differential tests (sl_test_bpf.h): load, verify,
 * prepare and compile a program the way `sluice test-run` does, and run it
 * on an XDP frame laid out like the kernel's test run.
 */
#include <string.h>

#include "sl_test_bpf.h"

struct sl_prog *sl_test_find_prog(const struct sl_obj *obj, const char *name)
{
	for (unsigned i = 0; obj && i < sl_obj_prog_count(obj); i++)
		if (!strcmp(sl_obj_prog(obj, i)->name, name))
			return sl_obj_prog(obj, i);
	return NULL;
}

static int finish(struct sl_test_prog *s, bool jit)
{
	if (sl_prog_verify(s->prog, 0, &s->st, s->err, sizeof(s->err)) ||
	    sl_vm_prepare(s->prog, s->err, sizeof(s->err)))
		return -1;
	if (jit && !(s->jit = sl_jit_compile(s->prog, NULL, s->err, sizeof(s->err))))
		return -1;
	return 0;
}

int sl_test_prog_open(struct sl_test_prog *s, const char *path, const char *name, unsigned ncpus,
		      bool jit)
{
	struct sl_obj_opts oo = { .sz = sizeof(oo), .ncpus = ncpus };

	memset(s, 0, sizeof(*s));
	s->obj = sl_obj_open(path, &oo, s->err, sizeof(s->err));
	if (!s->obj)
		return -1;
	s->prog = sl_test_find_prog(s->obj, name);
	if (!s->prog)
		return snprintf(s->err, sizeof(s->err), "no program '%s'", name), -1;
	return finish(s, jit);
}

int sl_test_prog_raw(struct sl_test_prog *s, const struct bpf_insn *insns, unsigned n,
		     enum sl_prog_type type, bool jit)
{
	memset(s, 0, sizeof(*s));
	s->prog = sl_prog_from_raw(insns, (size_t)n * sizeof(*insns), type, 0, s->err,
				   sizeof(s->err));
	return s->prog ? finish(s, jit) : -1;
}

void sl_test_prog_close(struct sl_test_prog *s)
{
	sl_jit_free(s->jit);
	if (s->obj)
		sl_obj_close(s->obj);
	else
		sl_prog_free(s->prog);
	s->jit = NULL;
	s->obj = NULL;
	s->prog = NULL;
}

uint64_t sl_test_prog_exec(struct sl_test_prog *s, void *ctx, bool jit)
{
	return jit ? sl_jit_entry(s->jit)(ctx, 0) : sl_vm_exec(s->prog, ctx, NULL, NULL);
}

void sl_test_xdp_frame(struct sl_xdp_ctx *x, uint8_t *buf, size_t headroom, const void *pkt,
		       uint32_t len, size_t tailroom, bool zero, uint32_t ifindex)
{
	if (zero)
		memset(buf, 0, headroom + len + tailroom);
	memcpy(buf + headroom, pkt, len);
	memset(x, 0, sizeof(*x));
	x->data_hard_start = buf;
	x->data = x->data_meta = buf + headroom;
	x->data_end = buf + headroom + len;
	x->data_hard_end = buf + headroom + len + tailroom;
	x->ingress_ifindex = ifindex;
}

bool sl_test_jit_calls(const struct sl_jit *jit, const void *fn)
{
	const uint8_t *c = sl_jit_code(jit);
	size_t n = sl_jit_code_size(jit);
	uintptr_t f = (uintptr_t)fn;

	if (memmem(c, n, &f, sizeof(f)))
		return true;
	for (size_t i = 0; i + 5 <= n; i++) {
		int32_t rel;

		memcpy(&rel, c + i + 1, 4);
		if (c[i] == 0xe8 && (uintptr_t)(c + i + 5) + (uintptr_t)(intptr_t)rel == f)
			return true;
	}
	return false;
}
