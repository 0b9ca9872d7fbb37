/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * jit-redirect: bpf_redirect, bpf_redirect_map and DEVMAP / XSKMAP lookups
 * emitted in place by the JIT (jit/redirect.c), against the interpreter
 * (which calls the helpers of vm/helpers.c) and against a model of the
 * kernel's semantics kept here (__bpf_xdp_redirect_map(), bpf_xdp_redirect()):
 *
 *  - flags outside the map type's mask (the two low bits; DEVMAP also
 *    BPF_F_EXCLUDE_INGRESS; BPF_F_BROADCAST is not provided) give
 *    XDP_ABORTED and leave the thread's redirect state alone;
 *  - the key is r2's low 32 bits; a key past max_entries or an empty slot
 *    gives flags & 3 and clears the map (the kernel: map_type UNSPEC,
 *    map_id INT_MAX, tgt_index kept; "the last lookup takes precedence"),
 *    which leaves the state bpf_redirect(tgt_index) would: { tgt_index,
 *    flags as they were, NULL, tgt_index };
 *  - a hit sets the state to { port (CPUMAP: the key), (u32)flags, map,
 *    key } and returns XDP_REDIRECT; bpf_redirect(ifindex, 0) sets
 *    { ifindex, 0, NULL, ifindex }, any flag gives XDP_ABORTED;
 *  - a lookup returns the entry (its port) or NULL.
 *
 * Programs: redirect_map with constant flags (the inlined form that reads
 * only r2, every flag value of interest), with flags read from the context
 * at run time, with a key whose upper 32 bits are set, two redirects in a
 * row (a hit, a miss or a bpf_redirect, then any key), lookups, and
 * bpf_redirect; maps: DEVMAP (4- and 8-byte values), XSKMAP, CPUMAP with
 * some slots empty, and a DEVMAP_HASH (still the helper: compared too).
 * Every program runs for keys 0 .. max_entries + 2 and 2^32 - 1, from a
 * sentinel state, under the interpreter, the JIT and the JIT with
 * constant blinding (where the constant-flags form reads rdx instead);
 * the inlined forms must not call the helper.
 *
 * usage: test_jit_redirect
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl_helpers.h"
#include "sl_jit.h"
#include "sl_maps.h"
#include "sl_vm.h"
#include "sl_test.h"
#include "sl_test_bpf.h"

#define I(c, d, s, o, i) ((struct bpf_insn){ .code = (c), .dst_reg = (d), .src_reg = (s), \
					     .off = (o), .imm = (i) })
#define MOV_K(d, i) I(BPF_ALU64 | BPF_MOV | BPF_K, d, 0, 0, i)
#define LDX_CTX(d, off) I(BPF_LDX | BPF_MEM | BPF_W, d, 1, off, 0)
#define CALL(f) I(BPF_JMP | BPF_CALL, 0, 0, 0, f)
#define EXIT I(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)
#define CTX_INGRESS 12   /* struct xdp_md: ingress_ifindex */
#define CTX_QUEUE 16     /* rx_queue_index */
#define NULL_R0 7        /* what the lookup programs return for NULL */
#define SENT_IFINDEX 0xdead
#define SENT_FLAGS 0xbeef
#define SENT_MAP ((struct sl_map *)(uintptr_t)0x5e17)
#define SENT_TGT 0x7a6
#define SENTINEL { SENT_IFINDEX, SENT_FLAGS, SENT_MAP, SENT_TGT }
#define BROADCAST (1ull << 3)   /* BPF_F_BROADCAST */
#define EXCL (1ull << 4)        /* BPF_F_EXCLUDE_INGRESS */

struct tmap {
	const char *name;
	struct sl_map *map;
	uint32_t type, max;
	uint32_t port[8];   /* 0: empty */
	bool inlined;       /* redirect.c emits it in place (not DEVMAP_HASH) */
};

/* The model: r0 of bpf_redirect_map(m, key, flags) and the state after it (from @p st). */
static uint64_t model_redirect_map(const struct tmap *m, uint64_t key, uint64_t flags,
				   struct sl_redirect *st)
{
	uint64_t mask = 3 | (m->type == BPF_MAP_TYPE_DEVMAP ||
			     m->type == BPF_MAP_TYPE_DEVMAP_HASH ? EXCL : 0);
	uint32_t k = (uint32_t)key;

	if (flags & ~mask)
		return XDP_ABORTED;
	if (k >= m->max || !m->port[k]) {
		st->ifindex = st->tgt_index;
		st->map = NULL;
		return flags & 3;
	}
	st->ifindex = m->type == BPF_MAP_TYPE_CPUMAP ? k : m->port[k];
	st->tgt_index = k;
	st->flags = (uint32_t)flags;
	st->map = m->map;
	return XDP_REDIRECT;
}

static void make_map(struct tmap *m, uint32_t type, uint32_t vsize, uint32_t max,
		     const char *name)
{
	struct sl_map_def def = { .type = type, .key_size = 4, .value_size = vsize,
				  .max_entries = max };

	memset(m->port, 0, sizeof(m->port));
	m->name = name;
	m->type = type;
	m->max = max;
	m->inlined = type != BPF_MAP_TYPE_DEVMAP_HASH;
	m->map = sl_map_create(name, &def, 1);
	if (!m->map)
		FATAL("sl_map_create %s: %s", name, strerror(errno));
	/* slots 0, 2, 3 set (CPUMAP: qsize 64), the others empty */
	for (uint32_t k = 0; k < max; k++) {
		uint32_t v[2] = { type == BPF_MAP_TYPE_CPUMAP ? 64 : 10 + k, 0 };

		if (k == 1 || k >= 4)
			continue;
		if (sl_map_ctl_update(m->map, &k, v, 0))
			FATAL("update %s[%u]", name, k);
		m->port[k] = v[0];
	}
}

struct run {
	struct sl_prog *prog;
	struct sl_jit *jit[2];   /* plain, blinded */
};

static bool build(struct run *r, const struct bpf_insn *insns, unsigned n, struct sl_map *map)
{
	struct sl_jit_opts o = { .sz = sizeof(o) };
	char log[512];

	r->prog = sl_prog_from_raw(insns, n * sizeof(*insns), SL_PROG_XDP, 0, log, sizeof(log));
	if (!r->prog)
		FATAL("sl_prog_from_raw: %s", log);
	r->prog->maps = calloc(1, sizeof(*r->prog->maps));
	if (!r->prog->maps)
		FATAL("out of memory");
	r->prog->maps[0] = map;
	r->prog->n_maps = map ? 1 : 0;
	if (sl_prog_verify(r->prog, 0, NULL, log, sizeof(log)))
		FATAL("verify: %s", log);
	for (int b = 0; b < 2; b++) {
		o.blind_constants = b;
		r->jit[b] = sl_jit_compile(r->prog, &o, log, sizeof(log));
		if (!CHECK(r->jit[b], "jit (blind %d): %s", b, log))
			return false;
	}
	return true;
}

static void drop(struct run *r)
{
	sl_jit_free(r->jit[0]);
	sl_jit_free(r->jit[1]);
	sl_prog_free(r->prog);
}

/* Run @p r on a context with rx_queue_index @p q, ingress_ifindex @p in; every engine vs @p want. */
static void run_all(struct run *r, uint32_t q, uint32_t in, uint64_t want,
		    const struct sl_redirect *want_st, const char *what)
{
	static uint8_t buf[64];
	struct sl_redirect *st = sl_helper_redirect();
	struct sl_xdp_ctx x;

	for (int e = 0; e < 3; e++) {
		uint64_t r0;

		memset(&x, 0, sizeof(x));
		x.data = x.data_meta = x.data_hard_start = buf;
		x.data_end = buf + sizeof(buf);
		x.rx_queue_index = q;
		x.ingress_ifindex = in;
		*st = (struct sl_redirect)SENTINEL;
		r0 = e == 0 ? sl_vm_exec(r->prog, &x, NULL, NULL) : sl_jit_entry(r->jit[e - 1])(&x, 0);
		CHECK(r0 == want && st->ifindex == want_st->ifindex && st->flags == want_st->flags &&
		      st->map == want_st->map && st->tgt_index == want_st->tgt_index,
		      "%s, %s, queue %u, ingress %#x: r0 %llu state {%#x %#x %p %#x}, "
		      "want %llu {%#x %#x %p %#x}",
		      what, e == 0 ? "interpreter" : e == 1 ? "JIT" : "JIT blinded", q, in,
		      (unsigned long long)r0, st->ifindex, st->flags, (void *)st->map,
		      st->tgt_index, (unsigned long long)want, want_st->ifindex, want_st->flags,
		      (void *)want_st->map, want_st->tgt_index);
	}
}

static const struct sl_redirect sentinel = SENTINEL;

/* keys tried: every slot, a few past the end, and 2^32 - 1 */
static unsigned keys(const struct tmap *m, uint32_t *k)
{
	unsigned n = 0;

	for (uint32_t i = 0; i < m->max + 3; i++)
		k[n++] = i;
	k[n++] = UINT32_MAX;
	return n;
}

/* bpf_redirect_map(m, rx_queue_index (| 2^32 when @p high), constant @p flags) */
static void const_flags(const struct tmap *m, uint64_t flags, bool high)
{
	const void *helper = sl_helper_get(BPF_FUNC_redirect_map)->fn;
	struct bpf_insn p[16];
	unsigned n = 0, nk;
	uint32_t k[16];
	struct run r;
	char what[128];

	p[n++] = LDX_CTX(2, CTX_QUEUE);
	if (high) {
		p[n++] = MOV_K(4, 1);
		p[n++] = I(BPF_ALU64 | BPF_LSH | BPF_K, 4, 0, 0, 32);
		p[n++] = I(BPF_ALU64 | BPF_OR | BPF_X, 2, 4, 0, 0);
	}
	p[n++] = I(BPF_LD | BPF_IMM | BPF_DW, 1, BPF_PSEUDO_MAP_IDX, 0, 0);
	p[n++] = I(0, 0, 0, 0, 0);
	if (flags >> 31) {
		p[n++] = I(BPF_LD | BPF_IMM | BPF_DW, 3, 0, 0, (int32_t)(uint32_t)flags);
		p[n++] = I(0, 0, 0, 0, (int32_t)(uint32_t)(flags >> 32));
	} else {
		p[n++] = MOV_K(3, (int32_t)flags);
	}
	p[n++] = CALL(BPF_FUNC_redirect_map);
	p[n++] = EXIT;
	if (!build(&r, p, n, m->map))
		return;
	snprintf(what, sizeof(what), "%s redirect_map flags %#llx%s", m->name,
		 (unsigned long long)flags, high ? " key | 2^32" : "");
	CHECK(sl_test_jit_calls(r.jit[0], helper) == !m->inlined, "%s: calls the helper: %d", what,
	      sl_test_jit_calls(r.jit[0], helper));
	nk = keys(m, k);
	for (unsigned i = 0; i < nk; i++) {
		struct sl_redirect st = sentinel;
		uint64_t want = model_redirect_map(m, k[i] | (high ? 1ull << 32 : 0), flags, &st);

		run_all(&r, k[i], 0, want, &st, what);
	}
	drop(&r);
}

/* bpf_redirect_map(m, rx_queue_index, ingress_ifindex): flags known only at run time */
static void run_flags(const struct tmap *m)
{
	static const uint32_t fl[] = { 0, 1, 2, 3, 4, 8, 16, 17, 19, 0x80000002u };
	const struct bpf_insn p[] = {
		LDX_CTX(2, CTX_QUEUE), LDX_CTX(3, CTX_INGRESS),
		I(BPF_LD | BPF_IMM | BPF_DW, 1, BPF_PSEUDO_MAP_IDX, 0, 0), I(0, 0, 0, 0, 0),
		CALL(BPF_FUNC_redirect_map), EXIT,
	};
	const void *helper = sl_helper_get(BPF_FUNC_redirect_map)->fn;
	uint32_t k[16];
	unsigned nk;
	struct run r;
	char what[128];

	if (!build(&r, p, sizeof(p) / sizeof(p[0]), m->map))
		return;
	snprintf(what, sizeof(what), "%s redirect_map, flags at run time", m->name);
	CHECK(sl_test_jit_calls(r.jit[0], helper) == !m->inlined, "%s: calls the helper", what);
	nk = keys(m, k);
	for (unsigned f = 0; f < sizeof(fl) / sizeof(fl[0]); f++)
		for (unsigned i = 0; i < nk; i++) {
			struct sl_redirect st = sentinel;
			uint64_t want = model_redirect_map(m, k[i], fl[f], &st);

			run_all(&r, k[i], fl[f], want, &st, what);
		}
	drop(&r);
}

/* The first call of two_redirects(). */
enum first { FIRST_HIT, FIRST_MISS, FIRST_REDIRECT };
#define FIRST_IFINDEX 3   /* FIRST_REDIRECT's bpf_redirect(3, 0) */

/*
 * A first call (bpf_redirect_map on slot 0, which is set, or on slot 1,
 * which is empty, or bpf_redirect(3, 0)), then bpf_redirect_map(m,
 * rx_queue_index, XDP_DROP): the second call's result and the state the
 * two leave (hit then miss: no map, ifindex = the hit's key).
 */
static void two_redirects(const struct tmap *m, enum first first)
{
	static const char *const names[] = { "hit", "miss", "bpf_redirect" };
	struct bpf_insn p[16];
	unsigned n = 0, nk;
	uint32_t k[16];
	struct run r;
	char what[128];

	p[n++] = I(BPF_ALU64 | BPF_MOV | BPF_X, 6, 1, 0, 0);
	if (first == FIRST_REDIRECT) {
		p[n++] = MOV_K(1, FIRST_IFINDEX);
		p[n++] = MOV_K(2, 0);
		p[n++] = CALL(BPF_FUNC_redirect);
	} else {
		p[n++] = MOV_K(2, first == FIRST_HIT ? 0 : 1);
		p[n++] = I(BPF_LD | BPF_IMM | BPF_DW, 1, BPF_PSEUDO_MAP_IDX, 0, 0);
		p[n++] = I(0, 0, 0, 0, 0);
		p[n++] = MOV_K(3, 0);
		p[n++] = CALL(BPF_FUNC_redirect_map);
	}
	p[n++] = I(BPF_LDX | BPF_MEM | BPF_W, 2, 6, CTX_QUEUE, 0);
	p[n++] = I(BPF_LD | BPF_IMM | BPF_DW, 1, BPF_PSEUDO_MAP_IDX, 0, 0);
	p[n++] = I(0, 0, 0, 0, 0);
	p[n++] = MOV_K(3, XDP_DROP);
	p[n++] = CALL(BPF_FUNC_redirect_map);
	p[n++] = EXIT;
	if (!build(&r, p, n, m->map))
		return;
	snprintf(what, sizeof(what), "%s %s, then a redirect_map", m->name, names[first]);
	nk = keys(m, k);
	for (unsigned i = 0; i < nk; i++) {
		struct sl_redirect st = sentinel;
		uint64_t want;

		if (first == FIRST_REDIRECT)
			st = (struct sl_redirect){ FIRST_IFINDEX, 0, NULL, FIRST_IFINDEX };
		else
			model_redirect_map(m, first == FIRST_HIT ? 0 : 1, 0, &st);
		want = model_redirect_map(m, k[i], XDP_DROP, &st);
		run_all(&r, k[i], 0, want, &st, what);
	}
	drop(&r);
}

/* *(u32 *)bpf_map_lookup_elem(m, &rx_queue_index), or NULL_R0 */
static void lookups(const struct tmap *m)
{
	const struct bpf_insn p[] = {
		LDX_CTX(2, CTX_QUEUE), I(BPF_STX | BPF_MEM | BPF_W, 10, 2, -4, 0),
		I(BPF_ALU64 | BPF_MOV | BPF_X, 2, 10, 0, 0), I(BPF_ALU64 | BPF_ADD | BPF_K, 2, 0, 0, -4),
		I(BPF_LD | BPF_IMM | BPF_DW, 1, BPF_PSEUDO_MAP_IDX, 0, 0), I(0, 0, 0, 0, 0),
		CALL(BPF_FUNC_map_lookup_elem),
		I(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 2, 0),
		I(BPF_LDX | BPF_MEM | BPF_W, 0, 0, 0, 0), EXIT,
		MOV_K(0, NULL_R0), EXIT,
	};
	const void *helper = sl_helper_get(BPF_FUNC_map_lookup_elem)->fn;
	uint32_t k[16];
	unsigned nk;
	struct run r;
	char what[128];

	if (!build(&r, p, sizeof(p) / sizeof(p[0]), m->map))
		return;
	snprintf(what, sizeof(what), "%s lookup", m->name);
	CHECK(!sl_test_jit_calls(r.jit[0], helper) &&
	      !sl_test_jit_calls(r.jit[0], sl_map_jit_lookup_fn(m->map)),
	      "%s: calls a function", what);
	nk = keys(m, k);
	for (unsigned i = 0; i < nk; i++) {
		uint64_t want = k[i] < m->max && m->port[k[i]] ? m->port[k[i]] : NULL_R0;

		run_all(&r, k[i], 0, want, &sentinel, what);
	}
	drop(&r);
}

/* bpf_redirect(rx_queue_index, ingress_ifindex) */
static void plain_redirect(void)
{
	static const uint32_t fl[] = { 0, 1, 4, 0x80000000u };
	static const uint32_t ifx[] = { 0, 3, 0xffffffffu };
	const struct bpf_insn p[] = {
		LDX_CTX(2, CTX_INGRESS), LDX_CTX(1, CTX_QUEUE), CALL(BPF_FUNC_redirect), EXIT,
	};
	struct run r;

	if (!build(&r, p, sizeof(p) / sizeof(p[0]), NULL))
		return;
	CHECK(!sl_test_jit_calls(r.jit[0], sl_helper_get(BPF_FUNC_redirect)->fn), "bpf_redirect: a call");
	for (unsigned f = 0; f < sizeof(fl) / sizeof(fl[0]); f++)
		for (unsigned i = 0; i < sizeof(ifx) / sizeof(ifx[0]); i++) {
			struct sl_redirect st = fl[f] ? sentinel :
						(struct sl_redirect){ ifx[i], 0, NULL, ifx[i] };

			run_all(&r, ifx[i], fl[f], fl[f] ? XDP_ABORTED : XDP_REDIRECT, &st,
				"bpf_redirect");
		}
	drop(&r);
}

int main(void)
{
	static const uint64_t flags[] = { 0, 1, 2, 3, 4, 8, 16, 18, 19, 32, 1ull << 32, 0x80000001ull };
	struct tmap m[5];

	make_map(&m[0], BPF_MAP_TYPE_DEVMAP, 4, 6, "devmap");
	make_map(&m[1], BPF_MAP_TYPE_DEVMAP, 8, 5, "devmap8");
	make_map(&m[2], BPF_MAP_TYPE_XSKMAP, 4, 6, "xskmap");
	make_map(&m[3], BPF_MAP_TYPE_CPUMAP, 8, 4, "cpumap");
	make_map(&m[4], BPF_MAP_TYPE_DEVMAP_HASH, 4, 6, "devmap_hash");
	for (unsigned i = 0; i < 5; i++) {
		for (unsigned f = 0; f < sizeof(flags) / sizeof(flags[0]); f++)
			const_flags(&m[i], flags[f], false);
		const_flags(&m[i], XDP_PASS, true);
		run_flags(&m[i]);
		two_redirects(&m[i], FIRST_HIT);
		two_redirects(&m[i], FIRST_MISS);
		two_redirects(&m[i], FIRST_REDIRECT);
		if (m[i].type == BPF_MAP_TYPE_DEVMAP || m[i].type == BPF_MAP_TYPE_XSKMAP)
			lookups(&m[i]);
	}
	plain_redirect();
	for (unsigned i = 0; i < 5; i++)
		sl_map_destroy(m[i].map);
	return sl_test_done("jit-redirect");
}
