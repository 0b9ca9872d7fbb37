/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * BTF-defined maps (the ".maps" section), read with libbpf's BTF parser.
 *
 * bpf_helpers.h encodes a map definition in the type of a variable of
 * ".maps": a struct whose members are pointers,
 *   __uint(name, N)   int (*name)[N]   -> N is the array's element count
 *   __type(name, T)   T *name          -> the size of T
 * Members: type, key_size, value_size, max_entries, map_flags (__uint);
 * key, value (__type; must agree with key_size/value_size when both are
 * given); pinning, numa_node, map_extra are accepted and ignored; values
 * (__array(values, struct inner)) gives ARRAY_OF_MAPS and HASH_OF_MAPS
 * their inner map template, and the ".rel.maps" relocations into it their
 * initial inner maps (prog-array initialisers are refused); any unknown
 * member is refused (libbpf's strict mode).
 *
 * Clang leaves the DATASEC's variable offsets zero in objects, so, as
 * libbpf does, each variable's offset in the section is taken from the ELF
 * symbol of the same name; relocations find maps by that offset.
 * Every type reference is followed with btf__type_by_id(), which checks
 * bounds; chains of modifiers are followed a bounded number of times.
 * Control thread only.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "loader_internal.h"

/* Longest chain of typedef/const/volatile followed. */
#define BTF_MAX_MODS 32

enum field_kind { F_UINT, F_TYPE, F_IGNORE, F_VALUES };

static const struct {
	const char *name;
	enum field_kind kind;
	size_t off;   /* field of struct sl_map_def set by F_UINT / F_TYPE */
} btf_fields[] = {
	{ "type", F_UINT, offsetof(struct sl_map_def, type) },
	{ "max_entries", F_UINT, offsetof(struct sl_map_def, max_entries) },
	{ "map_flags", F_UINT, offsetof(struct sl_map_def, map_flags) },
	{ "key_size", F_UINT, offsetof(struct sl_map_def, key_size) },
	{ "value_size", F_UINT, offsetof(struct sl_map_def, value_size) },
	{ "key", F_TYPE, offsetof(struct sl_map_def, key_size) },
	{ "value", F_TYPE, offsetof(struct sl_map_def, value_size) },
	{ "pinning", F_IGNORE, 0 },
	{ "numa_node", F_IGNORE, 0 },
	{ "map_extra", F_IGNORE, 0 },
	{ "values", F_VALUES, 0 },
};

static int btf_load(struct ld_ctx *ctx)
{
	const struct ld_sec *s = NULL;
	libbpf_print_fn_t old;

	for (size_t i = 1; i < ctx->n_secs; i++)
		if (!strcmp(ctx->secs[i].name, ".BTF"))
			s = &ctx->secs[i];
	if (!s || !s->data)
		return ld_err(ctx, -ENOEXEC, "section '.maps' needs BTF: no '.BTF' section "
			      "(compile with -g)");
	if (s->size > UINT32_MAX)
		return ld_err(ctx, -ENOEXEC, "section '.BTF': too large");
	/* libbpf would print its own diagnostics to stderr: one line is ours */
	old = libbpf_set_print(NULL);
	ctx->btf = btf__new(s->data, (uint32_t)s->size);
	libbpf_set_print(old);
	if (!ctx->btf) {
		int err = errno ? errno : EINVAL;

		ctx->btf = NULL;
		return ld_err(ctx, -ENOEXEC, "section '.BTF': malformed BTF: %s", strerror(err));
	}
	return 0;
}

/* Type @p id with typedefs and modifiers skipped, or NULL. */
static const struct btf_type *skip_mods(const struct btf *btf, uint32_t id)
{
	const struct btf_type *t = btf__type_by_id(btf, id);

	for (int i = 0; t && i < BTF_MAX_MODS && (btf_is_mod(t) || btf_is_typedef(t)); i++)
		t = btf__type_by_id(btf, t->type);
	return t && !btf_is_mod(t) && !btf_is_typedef(t) ? t : NULL;
}

/* Id of type @p id with typedefs and modifiers skipped, or 0. */
static uint32_t skip_mods_id(const struct btf *btf, uint32_t id)
{
	const struct btf_type *t = btf__type_by_id(btf, id);

	for (int i = 0; t && i < BTF_MAX_MODS && (btf_is_mod(t) || btf_is_typedef(t)); i++) {
		id = t->type;
		t = btf__type_by_id(btf, id);
	}
	return t && !btf_is_mod(t) && !btf_is_typedef(t) ? id : 0;
}

static const char *btf_name(const struct btf *btf, uint32_t off)
{
	const char *name = btf__name_by_offset(btf, off);

	return name ? name : "";
}

/* Value of one pointer-typed member: N of int (*)[N], or sizeof(T) of T *. */
static int member_value(struct ld_ctx *ctx, const char *map, const char *field,
			const struct btf_member *m, enum field_kind kind, uint32_t *val,
			uint32_t *type_id)
{
	const struct btf_type *ptr = skip_mods(ctx->btf, m->type), *arr;
	int64_t size;

	if (!ptr || !btf_is_ptr(ptr))
		return ld_err(ctx, -EINVAL, "map '%s': field '%s' is not a pointer type", map, field);
	if (kind == F_UINT) {
		arr = btf__type_by_id(ctx->btf, ptr->type);
		if (!arr || !btf_is_array(arr))
			return ld_err(ctx, -EINVAL, "map '%s': field '%s' is not __uint(...)", map,
				      field);
		*val = btf_array(arr)->nelems;
		return 0;
	}
	*type_id = ptr->type;
	size = btf__resolve_size(ctx->btf, ptr->type);
	if (size < 0 || size > UINT32_MAX)
		return ld_err(ctx, -EINVAL, "map '%s': cannot size the type of field '%s'", map,
			      field);
	*val = (uint32_t)size;
	return 0;
}

/* The "values" member of a map definition: struct type of the inner map, byte offset. */
struct values_member {
	bool present;
	uint32_t inner_id;   /* BTF id of the inner map's definition struct */
	uint32_t off;        /* bytes from the map variable's start */
};

/* __array(values, struct inner): struct inner *values[] */
static int values_field(struct ld_ctx *ctx, const char *map, const struct btf_member *m,
			struct values_member *v)
{
	const struct btf_type *arr = skip_mods(ctx->btf, m->type), *ptr, *st;
	uint32_t id;

	ptr = arr && btf_is_array(arr) ? skip_mods(ctx->btf, btf_array(arr)->type) : NULL;
	id = ptr && btf_is_ptr(ptr) ? skip_mods_id(ctx->btf, ptr->type) : 0;
	st = id ? btf__type_by_id(ctx->btf, id) : NULL;
	if (!st || (!btf_is_struct(st) && !btf_is_func_proto(st)))
		return ld_err(ctx, -EINVAL, "map '%s': field 'values' is not __array(values, ...)",
			      map);
	if (btf_is_func_proto(st))
		return ld_err(ctx, -EINVAL, "map '%s': initial values of program arrays are not "
			      "supported (set them with the control API)", map);
	v->present = true;
	v->inner_id = id;
	return 0;   /* v->off: set by the caller, which knows the member's index */
}

/* Apply one member of a map definition struct to @p def. */
static int map_field(struct ld_ctx *ctx, const char *map, const struct btf_member *m,
		     struct sl_map_def *def, uint32_t *seen, struct ld_map_btf *types,
		     struct values_member *v)
{
	const char *field = btf_name(ctx->btf, m->name_off);
	uint32_t val = 0, *dst, type_id = 0;
	size_t f;
	int err;

	for (f = 0; f < sizeof(btf_fields) / sizeof(btf_fields[0]); f++)
		if (!strcmp(field, btf_fields[f].name))
			break;
	if (f == sizeof(btf_fields) / sizeof(btf_fields[0]))
		return ld_err(ctx, -EINVAL, "map '%s': unknown field '%s'", map, field);
	if (btf_fields[f].kind == F_IGNORE)
		return 0;
	if (btf_fields[f].kind == F_VALUES) {
		if (!v)
			return ld_err(ctx, -EINVAL, "map '%s': an inner map cannot hold maps", map);
		return values_field(ctx, map, m, v);
	}
	err = member_value(ctx, map, field, m, btf_fields[f].kind, &val, &type_id);
	if (err)
		return err;
	if (types && !strcmp(field, "key"))
		types->key = type_id;
	else if (types && !strcmp(field, "value"))
		types->value = type_id;
	dst = (uint32_t *)((char *)def + btf_fields[f].off);
	if ((*seen & (1u << (btf_fields[f].off / 4))) && *dst != val)
		return ld_err(ctx, -EINVAL, "map '%s': field '%s' (%u) conflicts with an earlier "
			      "size (%u)", map, field, val, *dst);
	*seen |= 1u << (btf_fields[f].off / 4);
	*dst = val;
	return 0;
}

/* Offset of the ELF symbol @p name in section @p sec; -ENOENT if none. */
static int map_symbol(struct ld_ctx *ctx, uint32_t sec, const char *name, uint64_t *off)
{
	GElf_Sym sym;
	int err;

	for (size_t i = 1; i < ctx->n_syms; i++) {
		err = ld_sym(ctx, i, &sym);
		if (err)
			return err;
		if (sym.st_shndx != sec || GELF_ST_TYPE(sym.st_info) == STT_SECTION)
			continue;
		if (!strcmp(ld_sym_name(ctx, &sym), name)) {
			*off = sym.st_value;
			return 0;
		}
	}
	return ld_err(ctx, -ENOEXEC, "map '%s': no symbol in section '.maps'", name);
}

/*
 * The fields of map definition struct @p st into @p def, the BTF ids of its
 * key and value into @p types (if not NULL), and "values" into @p v.
 */
static int map_struct(struct ld_ctx *ctx, const char *name, const struct btf_type *st,
		      struct sl_map_def *def, struct ld_map_btf *types, struct values_member *v)
{
	const struct btf_member *m = btf_members(st);
	uint32_t seen = 0;
	int err;

	for (unsigned i = 0; i < btf_vlen(st); i++) {
		bool had = v && v->present;

		err = map_field(ctx, name, &m[i], def, &seen, types, v);
		if (err)
			return err;
		if (v && v->present && !had)
			v->off = btf_member_bit_offset(st, i) / 8;
	}
	return 0;
}

static bool is_outer(uint32_t type)
{
	return type == BPF_MAP_TYPE_ARRAY_OF_MAPS || type == BPF_MAP_TYPE_HASH_OF_MAPS;
}

static int btf_map(struct ld_ctx *ctx, uint32_t sec, const struct btf_var_secinfo *vsi)
{
	const struct btf_type *var = btf__type_by_id(ctx->btf, vsi->type), *st;
	struct sl_map_def def = { 0 }, inner = { 0 };
	struct ld_map_btf types = { 0, 0 };
	struct values_member v = { 0 };
	const char *name;
	uint64_t off = 0;
	int err;

	if (!var || !btf_is_var(var))
		return ld_err(ctx, -ENOEXEC, "section '.maps': BTF type %u is not a variable",
			      vsi->type);
	name = btf_name(ctx->btf, var->name_off);
	st = skip_mods(ctx->btf, var->type);
	if (!st || !btf_is_struct(st))
		return ld_err(ctx, -EINVAL, "map '%s': definition is not a struct", name);
	err = map_struct(ctx, name, st, &def, &types, &v);
	if (err)
		return err;
	if (v.present && !is_outer(def.type))
		return ld_err(ctx, -EINVAL, "map '%s': __array(values, ...) on a %s map: only "
			      "array_of_maps and hash_of_maps take inner maps", name,
			      sl_map_type_name(def.type));
	if (is_outer(def.type) && !v.present)
		return ld_err(ctx, -EINVAL, "map '%s' (%s): no inner map template; declare it with "
			      "__array(values, struct { ... })", name, sl_map_type_name(def.type));
	if (v.present) {
		if (!def.value_size)
			def.value_size = 4;   /* as libbpf: the map id (fd in the kernel) */
		err = map_struct(ctx, name, btf__type_by_id(ctx->btf, v.inner_id), &inner, NULL, NULL);
		if (err)
			return err;
	}
	err = map_symbol(ctx, sec, name, &off);
	if (err)
		return err;
	err = ld_add_map(ctx, name, &def, v.present ? &inner : NULL, v.off, sec, off, true);
	if (!err)
		ctx->obj->map_btf[ctx->obj->n_maps - 1] = types;
	return err;
}

int ld_btf_maps(struct ld_ctx *ctx, uint32_t sec)
{
	const struct btf_var_secinfo *vsi;
	const struct btf_type *ds;
	int32_t id;
	int err;

	if (!ctx->btf) {
		err = btf_load(ctx);
		if (err)
			return err;
	}
	id = btf__find_by_name_kind(ctx->btf, ".maps", BTF_KIND_DATASEC);
	ds = id > 0 ? btf__type_by_id(ctx->btf, (uint32_t)id) : NULL;
	if (!ds)
		return ld_err(ctx, -ENOEXEC, "section '.maps': no BTF DATASEC '.maps'");
	vsi = btf_var_secinfos(ds);
	for (unsigned i = 0; i < btf_vlen(ds); i++) {
		err = btf_map(ctx, sec, &vsi[i]);
		if (err)
			return err;
	}
	return 0;
}

/*
 * ".rel.maps": a relocation at values[i] of an outer map's variable points
 * at another map of ".maps": inner map i of the outer map, as libbpf sets
 * it at load time. Its id (what the control API reads) is its index in
 * the object + 1.
 */
int ld_btf_map_relo(struct ld_ctx *ctx, uint32_t sec, size_t j, const GElf_Rel *rel)
{
	const struct ld_map_sym *outer = NULL, *target = NULL;
	uint64_t at = rel->r_offset, slot;
	struct sl_map *om;
	GElf_Sym sym;
	uint32_t idx;
	int err;

	for (size_t i = 0; i < ctx->n_map_syms; i++) {
		const struct ld_map_sym *ms = &ctx->map_syms[i];

		if (ms->sec == sec && ms->outer && at >= ms->off + ms->values_off &&
		    (!outer || ms->off > outer->off))
			outer = ms;
	}
	if (!outer || (at - outer->off - outer->values_off) % 8)
		return ld_err(ctx, -EINVAL, "section '.maps': relocation %zu at offset %llu is not "
			      "an initial value of a map-in-map", j, (unsigned long long)at);
	err = ld_sym(ctx, GELF_R_SYM(rel->r_info), &sym);
	if (err)
		return err;
	for (size_t i = 0; i < ctx->n_map_syms; i++)
		if (ctx->map_syms[i].sec == sym.st_shndx && ctx->map_syms[i].off == sym.st_value)
			target = &ctx->map_syms[i];
	om = ctx->obj->maps[outer->map_idx];
	if (!target)
		return ld_err(ctx, -EINVAL, "map '%s': initial value refers to '%s', which is not a "
			      "map", sl_map_name(om), ld_sym_name(ctx, &sym));
	slot = (at - outer->off - outer->values_off) / 8;
	if (slot >= sl_map_get_def(om)->max_entries || sl_map_get_def(om)->key_size != 4)
		return ld_err(ctx, -EINVAL, "map '%s': initial value %llu out of range (max_entries "
			      "%u)", sl_map_name(om), (unsigned long long)slot,
			      sl_map_get_def(om)->max_entries);
	idx = (uint32_t)slot;
	err = sl_map_outer_set(om, &idx, ctx->obj->maps[target->map_idx], target->map_idx + 1);
	if (err)
		return ld_err(ctx, err, "map '%s': initial value %u: map '%s' does not fit the "
			      "inner map template: %s", sl_map_name(om), idx,
			      sl_map_name(ctx->obj->maps[target->map_idx]), strerror(-err));
	return 0;
}
