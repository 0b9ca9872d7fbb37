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
 * (map-in-map, prog-array initialisers) is rejected, as is any unknown
 * member (libbpf's strict mode).
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

enum field_kind { F_UINT, F_TYPE, F_IGNORE, F_REJECT };

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
	{ "values", F_REJECT, 0 },
};

static int btf_load(struct ld_ctx *ctx)
{
	const struct ld_sec *s = NULL;
	libbpf_print_fn_t old;

	for (size_t i = 1; i < ctx->n_secs; i++)
		if (!strcmp(ctx->secs[i].name, ".BTF"))
			s = &ctx->secs[i];
	if (!s || !s->data)
		return ld_err(ctx, ENOEXEC, "section '.maps' needs BTF: no '.BTF' section "
			      "(compile with -g)");
	if (s->size > UINT32_MAX)
		return ld_err(ctx, ENOEXEC, "section '.BTF': too large");
	/* libbpf would print its own diagnostics to stderr: one line is ours */
	old = libbpf_set_print(NULL);
	ctx->btf = btf__new(s->data, (uint32_t)s->size);
	libbpf_set_print(old);
	if (!ctx->btf) {
		int err = errno ? errno : EINVAL;

		ctx->btf = NULL;
		return ld_err(ctx, ENOEXEC, "section '.BTF': malformed BTF: %s", strerror(err));
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
		return ld_err(ctx, EINVAL, "map '%s': field '%s' is not a pointer type", map, field);
	if (kind == F_UINT) {
		arr = btf__type_by_id(ctx->btf, ptr->type);
		if (!arr || !btf_is_array(arr))
			return ld_err(ctx, EINVAL, "map '%s': field '%s' is not __uint(...)", map,
				      field);
		*val = btf_array(arr)->nelems;
		return 0;
	}
	*type_id = ptr->type;
	size = btf__resolve_size(ctx->btf, ptr->type);
	if (size < 0 || size > UINT32_MAX)
		return ld_err(ctx, EINVAL, "map '%s': cannot size the type of field '%s'", map,
			      field);
	*val = (uint32_t)size;
	return 0;
}

/* Apply one member of a map definition struct to @p def. */
static int map_field(struct ld_ctx *ctx, const char *map, const struct btf_member *m,
		     struct sl_map_def *def, uint32_t *seen, struct ld_map_btf *types)
{
	const char *field = btf_name(ctx->btf, m->name_off);
	uint32_t val = 0, *dst, type_id = 0;
	size_t f;
	int err;

	for (f = 0; f < sizeof(btf_fields) / sizeof(btf_fields[0]); f++)
		if (!strcmp(field, btf_fields[f].name))
			break;
	if (f == sizeof(btf_fields) / sizeof(btf_fields[0]))
		return ld_err(ctx, EINVAL, "map '%s': unknown field '%s'", map, field);
	if (btf_fields[f].kind == F_IGNORE)
		return 0;
	if (btf_fields[f].kind == F_REJECT)
		return ld_err(ctx, EINVAL, "map '%s': field '%s': map-in-map and initial values "
			      "are not supported", map, field);
	err = member_value(ctx, map, field, m, btf_fields[f].kind, &val, &type_id);
	if (err)
		return err;
	if (!strcmp(field, "key"))
		types->key = type_id;
	else if (!strcmp(field, "value"))
		types->value = type_id;
	dst = (uint32_t *)((char *)def + btf_fields[f].off);
	if ((*seen & (1u << (btf_fields[f].off / 4))) && *dst != val)
		return ld_err(ctx, EINVAL, "map '%s': field '%s' (%u) conflicts with an earlier "
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
	return ld_err(ctx, ENOEXEC, "map '%s': no symbol in section '.maps'", name);
}

static int btf_map(struct ld_ctx *ctx, uint32_t sec, const struct btf_var_secinfo *vsi)
{
	const struct btf_type *var = btf__type_by_id(ctx->btf, vsi->type), *st;
	const struct btf_member *m;
	struct sl_map_def def = { 0 };
	struct ld_map_btf types = { 0, 0 };
	uint32_t seen = 0;
	const char *name;
	uint64_t off = 0;
	int err;

	if (!var || !btf_is_var(var))
		return ld_err(ctx, ENOEXEC, "section '.maps': BTF type %u is not a variable",
			      vsi->type);
	name = btf_name(ctx->btf, var->name_off);
	st = skip_mods(ctx->btf, var->type);
	if (!st || !btf_is_struct(st))
		return ld_err(ctx, EINVAL, "map '%s': definition is not a struct", name);
	m = btf_members(st);
	for (unsigned i = 0; i < btf_vlen(st); i++) {
		err = map_field(ctx, name, &m[i], &def, &seen, &types);
		if (err)
			return err;
	}
	err = map_symbol(ctx, sec, name, &off);
	if (err)
		return err;
	err = ld_add_map(ctx, name, &def, sec, off, true);
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
		return ld_err(ctx, ENOEXEC, "section '.maps': no BTF DATASEC '.maps'");
	vsi = btf_var_secinfos(ds);
	for (unsigned i = 0; i < btf_vlen(ds); i++) {
		err = btf_map(ctx, sec, &vsi[i]);
		if (err)
			return err;
	}
	return 0;
}
