/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Maps of an ELF object that need no BTF: the legacy "maps" section and
 * global data.
 *
 * Legacy maps: every non-section symbol of "maps" is one
 * struct bpf_map_def { u32 type, key_size, value_size, max_entries,
 * map_flags; ... } at the symbol's value. As libbpf does, the size of one
 * definition is the section size divided by the number of symbols; longer
 * definitions (iproute2's) keep their first five fields, shorter ones
 * leave the missing fields zero.
 *
 * Global data: each non-empty .rodata*, .data*, .bss* section becomes a
 * one-element ARRAY (key 4 bytes, value = the section) named after the
 * section, holding the section's bytes (zero for .bss); .rodata* maps are
 * read-only for programs (BPF_F_RDONLY_PROG), as in libbpf.
 * Control thread only.
 */
#include <errno.h>
#include <string.h>

#include "loader_internal.h"

/* Bytes of the fields sluice reads from a struct bpf_map_def. */
#define LEGACY_DEF_SIZE 20

static size_t count_legacy(struct ld_ctx *ctx, uint32_t sec, int *err)
{
	GElf_Sym sym;
	size_t n = 0;

	*err = 0;
	for (size_t i = 1; i < ctx->n_syms; i++) {
		*err = ld_sym(ctx, i, &sym);
		if (*err)
			return 0;
		if (sym.st_shndx == sec && GELF_ST_TYPE(sym.st_info) != STT_SECTION)
			n++;
	}
	return n;
}

static int legacy_map(struct ld_ctx *ctx, const struct ld_sec *s, uint32_t sec,
		      const GElf_Sym *sym, size_t def_size)
{
	const char *name = ld_sym_name(ctx, sym);
	uint32_t raw[LEGACY_DEF_SIZE / 4] = { 0 };
	struct sl_map_def def;

	if (sym->st_value > s->size || def_size > s->size - sym->st_value)
		return ld_err(ctx, ENOEXEC, "section 'maps': map '%s' at offset %llu extends past "
			      "the section (%zu bytes)", name, (unsigned long long)sym->st_value,
			      s->size);
	memcpy(raw, s->data + sym->st_value, def_size < sizeof(raw) ? def_size : sizeof(raw));
	def = (struct sl_map_def){
		.type = raw[0], .key_size = raw[1], .value_size = raw[2],
		.max_entries = raw[3], .map_flags = raw[4],
	};
	return ld_add_map(ctx, name, &def, NULL, 0, sec, sym->st_value, true);
}

int ld_legacy_maps(struct ld_ctx *ctx, uint32_t sec)
{
	const struct ld_sec *s = &ctx->secs[sec];
	size_t n, def_size;
	GElf_Sym sym;
	int err;

	n = count_legacy(ctx, sec, &err);
	if (err)
		return err;
	if (!n)
		return 0;
	if (!s->data || s->size == 0 || s->size % n)
		return ld_err(ctx, ENOEXEC, "section 'maps': %zu bytes do not hold %zu map "
			      "definitions of equal size", s->size, n);
	def_size = s->size / n;
	if (def_size < 4)
		return ld_err(ctx, ENOEXEC, "section 'maps': map definitions of %zu bytes are too "
			      "small", def_size);
	for (size_t i = 1; i < ctx->n_syms; i++) {
		err = ld_sym(ctx, i, &sym);
		if (err)
			return err;
		if (sym.st_shndx != sec || GELF_ST_TYPE(sym.st_info) == STT_SECTION)
			continue;
		err = legacy_map(ctx, s, sec, &sym, def_size);
		if (err)
			return err;
	}
	return 0;
}

int ld_data_map(struct ld_ctx *ctx, uint32_t sec)
{
	struct ld_sec *s = &ctx->secs[sec];
	struct sl_obj *obj = ctx->obj;
	struct sl_map_def def = {
		.type = BPF_MAP_TYPE_ARRAY,
		.key_size = 4,
		.max_entries = 1,
	};
	uint8_t *value;
	int err;

	if (s->size == 0)
		return 0;
	if (s->size > UINT32_MAX)
		return ld_err(ctx, ENOEXEC, "section '%s': %zu bytes is too large for a map",
			      s->name, s->size);
	def.value_size = (uint32_t)s->size;
	if (!strncmp(s->name, ".rodata", 7))
		def.map_flags = BPF_F_RDONLY_PROG;
	err = ld_add_map(ctx, s->name, &def, NULL, 0, sec, 0, false);
	if (err)
		return err;
	s->map_idx = (int)(obj->n_maps - 1);
	value = sl_map_array_base(obj->maps[s->map_idx], 0);
	if (!value)
		return ld_err(ctx, EINVAL, "section '%s': map has no array storage", s->name);
	if (s->data)
		memcpy(value, s->data, s->size);
	else
		memset(value, 0, s->size);
	return 0;
}
