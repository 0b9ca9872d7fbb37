/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Programs outside of ELF objects: flat bytecode (test-run --raw, bench),
 * section name -> program type, and freeing what a struct sl_prog owns.
 * Control thread; allocates.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl_errlog.h"
#include "sl_vm.h"

/* Decode one little-endian 8-byte instruction. */
static void insn_from_le(struct bpf_insn *insn, const uint8_t *b)
{
	insn->code = b[0];
	insn->dst_reg = b[1] & 0x0f;
	insn->src_reg = b[1] >> 4;
	insn->off = (int16_t)(uint16_t)(b[2] | (b[3] << 8));
	insn->imm = (int32_t)((uint32_t)b[4] | ((uint32_t)b[5] << 8) |
			      ((uint32_t)b[6] << 16) | ((uint32_t)b[7] << 24));
}

struct sl_prog *sl_prog_from_raw(const void *bytes, size_t len, enum sl_prog_type type,
				 uint32_t mem_size, char *log, size_t log_len)
{
	struct sl_errlog elog = { .buf = log, .len = log_len };
	struct sl_prog *prog;
	size_t n;

	if (!bytes || len == 0 || len % 8 != 0 || len / 8 > SL_MAX_INSNS) {
		errno = -sl_errlog_set(&elog, -EINVAL, NULL, "program of %zu bytes: size must be "
				       "a nonzero multiple of 8 and at most %u instructions",
				       len, SL_MAX_INSNS);
		return NULL;
	}
	n = len / 8;
	prog = calloc(1, sizeof(*prog));
	if (!prog)
		goto nomem;
	prog->insns = calloc(n, sizeof(*prog->insns));
	prog->aux = calloc(n, sizeof(*prog->aux));
	prog->subprogs = calloc(1, sizeof(*prog->subprogs));
	if (!prog->insns || !prog->aux || !prog->subprogs)
		goto nomem;
	for (size_t i = 0; i < n; i++)
		insn_from_le(&prog->insns[i], (const uint8_t *)bytes + i * 8);
	prog->n_insns = (uint32_t)n;
	prog->subprogs[0].start = 0;
	prog->subprogs[0].end = (uint32_t)n;
	prog->n_subprogs = 1;
	prog->type = type;
	prog->mem_size = mem_size;
	snprintf(prog->name, sizeof(prog->name), "raw");
	snprintf(prog->section, sizeof(prog->section), "raw");
	snprintf(prog->license, sizeof(prog->license), "GPL");
	return prog;
nomem:
	sl_prog_free(prog);
	errno = -sl_errlog_set(&elog, -ENOMEM, NULL, "out of memory for a program of %zu "
			       "instructions", n);
	return NULL;
}

void sl_prog_fini(struct sl_prog *prog)
{
	if (!prog)
		return;
	free(prog->vm_code);   /* one allocation, see sl_vm_prepare() */
	prog->vm_code = NULL;
	free(prog->insns);
	free(prog->aux);
	free(prog->subprogs);
	free(prog->maps);
	prog->insns = NULL;
	prog->aux = NULL;
	prog->subprogs = NULL;
	prog->maps = NULL;
	prog->n_insns = 0;
	prog->n_subprogs = 0;
	prog->n_maps = 0;
}

void sl_prog_free(struct sl_prog *prog)
{
	if (!prog)
		return;
	sl_prog_fini(prog);
	free(prog);
}

/*
 * Section prefix -> type. A prefix matches the name itself or name + "/...";
 * any_suffix prefixes match every name they start (libbpf before 1.0
 * matched "xdp" and "socket" so: xdp_stats1, xdp_prog_kern, socket1).
 */
static const struct {
	const char *prefix;
	bool any_suffix;
	enum sl_prog_type type;
} section_types[] = {
	{ "xdp", true, SL_PROG_XDP },
	{ "socket", true, SL_PROG_SOCKET },
	{ "raw", false, SL_PROG_RAW },
};

int sl_prog_type_from_section(const char *section, enum sl_prog_type *type)
{
	if (!section)
		return -ENOENT;
	for (size_t i = 0; i < sizeof(section_types) / sizeof(section_types[0]); i++) {
		size_t n = strlen(section_types[i].prefix);

		if (strncmp(section, section_types[i].prefix, n))
			continue;
		if (section[n] == '\0' || section[n] == '/' || section_types[i].any_suffix) {
			if (type)
				*type = section_types[i].type;
			return 0;
		}
	}
	return -ENOENT;
}

int sl_prog_type_from_name(const char *name, enum sl_prog_type *type)
{
	static const struct { const char *name; enum sl_prog_type type; } names[] = {
		{ "xdp", SL_PROG_XDP }, { "socket", SL_PROG_SOCKET }, { "raw", SL_PROG_RAW },
	};

	for (size_t i = 0; name && i < sizeof(names) / sizeof(names[0]); i++) {
		if (!strcmp(name, names[i].name)) {
			if (type)
				*type = names[i].type;
			return 0;
		}
	}
	return -EINVAL;
}
