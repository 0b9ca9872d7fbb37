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
 *
 * ld_add_map() creates every map of the object (these and the BTF-defined
 * ones of loader_btf.c): the size the caller gives, a map the caller lends
 * (sl_obj_opts.map_reuse), the object's memory limit.
 * Control thread only.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
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
		return ld_err(ctx, -ENOEXEC, "section 'maps': map '%s' at offset %llu extends past "
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
		return ld_err(ctx, -ENOEXEC, "section 'maps': %zu bytes do not hold %zu map "
			      "definitions of equal size", s->size, n);
	def_size = s->size / n;
	if (def_size < 4)
		return ld_err(ctx, -ENOEXEC, "section 'maps': map definitions of %zu bytes are too "
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
		return ld_err(ctx, -ENOEXEC, "section '%s': %zu bytes is too large for a map",
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
		return ld_err(ctx, -EINVAL, "section '%s': map has no array storage", s->name);
	if (s->data)
		memcpy(value, s->data, s->size);
	else
		memset(value, 0, s->size);
	return 0;
}

/* ---- creating a map of the object ---- */

/* Count what a map really costs once full (sl_map_mem_cost) against the object's limit. */
static int charge_map(struct ld_ctx *ctx, const char *name, const struct sl_map_def *def)
{
	uint64_t bytes = sl_map_mem_cost(def, ctx->ncpus);

	if (bytes > ctx->map_mem_limit || ctx->map_mem > ctx->map_mem_limit - bytes)
		return ld_err(ctx, -E2BIG, "map '%s' (%s, max_entries %u, key %u, value %u) costs "
			      "%llu bytes when full: the object's maps would need more than %llu "
			      "bytes", name, sl_map_type_name(def->type), def->max_entries,
			      def->key_size, def->value_size, (unsigned long long)bytes,
			      (unsigned long long)ctx->map_mem_limit);
	ctx->map_mem += bytes;
	return 0;
}

/* sl_obj_opts.map_reuse: 0 with *map set to a map to borrow or left NULL, or -errno. */
static int reuse_map(struct ld_ctx *ctx, const char *name, const struct sl_map_def *def,
		     struct sl_map **map)
{
	char msg[256] = "";
	int ret;

	if (!OPTS_HAS(ctx->opts, map_reuse_ctx) || !ctx->opts->map_reuse)
		return 0;
	ret = ctx->opts->map_reuse(ctx->opts->map_reuse_ctx, name, def, map, msg, sizeof(msg));
	if (ret < 0)
		return ld_err(ctx, ret, "map '%s': %s", name, msg[0] ? msg : strerror(-ret));
	if (ret == 0)
		*map = NULL;
	return 0;
}

/*
 * The size the caller gave for map @p name (sl_obj_opts.map_sizes), else
 * the declared one; max_entries 0 without a size is an error (but for
 * PERF_EVENT_ARRAY, one entry per CPU as libbpf).
 */
static int size_map(struct ld_ctx *ctx, const char *name, struct sl_map_def *def)
{
	for (unsigned i = 0; i < ctx->n_map_sizes; i++) {
		if (ctx->map_sizes[i].name && !strcmp(ctx->map_sizes[i].name, name) &&
		    ctx->map_sizes[i].max_entries) {
			def->max_entries = ctx->map_sizes[i].max_entries;
			return 0;
		}
	}
	if (def->max_entries == 0 && def->type != BPF_MAP_TYPE_PERF_EVENT_ARRAY)
		return ld_err(ctx, -EINVAL, "map '%s' (%s) has max_entries 0: its size is set at "
			      "load time; give it with --map-size %s=N", name,
			      sl_map_type_name(def->type), name);
	return 0;
}

int ld_add_map(struct ld_ctx *ctx, const char *name, const struct sl_map_def *decl,
	       const struct sl_map_def *inner, uint32_t values_off, uint32_t sec, uint64_t off,
	       bool has_sym)
{
	struct sl_obj *obj = ctx->obj;
	struct sl_map_def d = *decl, *def = &d;
	struct sl_map *map;
	int err;

	err = size_map(ctx, name, def);
	if (err)
		return err;
	if (obj->n_maps == obj->map_cap) {
		unsigned cap = obj->map_cap ? obj->map_cap * 2 : 8;
		struct sl_map **m = realloc(obj->maps, cap * sizeof(*m));
		struct ld_map_btf *mb;
		bool *b = m ? realloc(obj->map_borrowed, cap * sizeof(*b)) : NULL;

		if (m)
			obj->maps = m;
		if (!b)
			return ld_err(ctx, -ENOMEM, "out of memory");
		obj->map_borrowed = b;
		mb = realloc(obj->map_btf, cap * sizeof(*mb));
		if (!mb)
			return ld_err(ctx, -ENOMEM, "out of memory");
		obj->map_btf = mb;
		obj->map_cap = cap;
	}
	if (has_sym && ctx->n_map_syms == ctx->map_sym_cap) {
		size_t cap = ctx->map_sym_cap ? ctx->map_sym_cap * 2 : 8;
		struct ld_map_sym *ms = realloc(ctx->map_syms, cap * sizeof(*ms));

		if (!ms)
			return ld_err(ctx, -ENOMEM, "out of memory");
		ctx->map_syms = ms;
		ctx->map_sym_cap = cap;
	}
	map = NULL;
	err = has_sym ? reuse_map(ctx, name, def, &map) : 0;
	if (err)
		return err;
	obj->map_borrowed[obj->n_maps] = map != NULL;
	err = map ? 0 : charge_map(ctx, name, def);
	if (err)
		return err;
	if (!map)
		map = inner ? sl_map_create_outer(name, def, inner, ctx->ncpus) :
			      sl_map_create(name, def, ctx->ncpus);
	if (!map) {
		err = errno ? -errno : -EINVAL;

		if (inner)
			return ld_err(ctx, err, "map '%s' (%s, key %u, max_entries %u) with inner "
				      "%s (key %u, value %u, max_entries %u): cannot create: %s",
				      name, sl_map_type_name(def->type), def->key_size,
				      def->max_entries, sl_map_type_name(inner->type),
				      inner->key_size, inner->value_size, inner->max_entries,
				      strerror(-err));
		return ld_err(ctx, err, "map '%s' (type %u, key %u, value %u, max_entries %u): "
			      "cannot create: %s", name, def->type, def->key_size,
			      def->value_size, def->max_entries, strerror(-err));
	}
	if (has_sym)
		ctx->map_syms[ctx->n_map_syms++] = (struct ld_map_sym){
			.sec = sec, .off = off, .map_idx = obj->n_maps, .outer = inner != NULL,
			.values_off = values_off };
	obj->map_btf[obj->n_maps] = (struct ld_map_btf){ 0, 0 };
	obj->maps[obj->n_maps++] = map;
	return 0;
}
