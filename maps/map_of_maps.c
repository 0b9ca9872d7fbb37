/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * maps/map_of_maps.c: BPF_MAP_TYPE_ARRAY_OF_MAPS and HASH_OF_MAPS.
 *
 * An outer map holds other maps. As in the kernel, its value is a u32 in
 * the control API (a map id chosen by the caller where the kernel has map
 * fds and ids) and a map in programs: bpf_map_lookup_elem() returns the
 * inner map itself (or NULL), which the program then passes to
 * bpf_map_lookup_elem() & co. Every inner map must match the template
 * given at creation (type, key and value size, flags, and max_entries
 * unless the template has BPF_F_INNER_MAP), so the verifier can check
 * programs against the template alone.
 *
 * Layout: ARRAY_OF_MAPS is one slot per index (an atomic map pointer and
 * the id); HASH_OF_MAPS is a private HASH map whose 16-byte values hold
 * {map pointer, id}. The template is an empty map of the inner definition
 * (lazily reserved: it costs next to nothing), owned by the outer map.
 *
 * Concurrency: only the control thread changes entries
 * (sl_map_outer_set(), or sl_map_ctl_update() with a resolver); programs
 * may not update or delete (the kernel's verifier refuses it). Workers
 * read slot pointers with acquire loads, lock-free; a HASH_OF_MAPS entry
 * is replaced as any hash entry (readers see the old or the new map).
 * The outer map does not own its inner maps: whoever replaces one keeps
 * it alive until sl_map_synchronize() has returned.
 */
#include <stdio.h>
#include <stdlib.h>

#include "maps_internal.h"

#define OUTER_FLAGS (BPF_F_NUMA_NODE | BPF_F_RDONLY | BPF_F_WRONLY | BPF_F_NO_PREALLOC)

struct outer_entry {
	struct sl_map *map;
	uint32_t id;
	uint32_t pad;
};

struct sl_outer {
	struct sl_map map;
	uint32_t max;
	bool hash;
	struct sl_map *tmpl;                /* owned: an empty map of the inner definition */
	struct sl_map *table;               /* HASH_OF_MAPS: owned hash of outer_entry */
	_Atomic(struct sl_map *) *slots;    /* ARRAY_OF_MAPS */
	uint32_t *ids;
	struct sl_map *(*resolve)(uint32_t id, void *ctx);
	void *resolve_ctx;
};

static inline struct sl_outer *to_outer(struct sl_map *m)
{
	return SL_CONTAINER_OF(m, struct sl_outer, map);
}

static bool is_outer_type(uint32_t type)
{
	return type == BPF_MAP_TYPE_ARRAY_OF_MAPS || type == BPF_MAP_TYPE_HASH_OF_MAPS;
}

static int outer_check(const struct sl_map_def *def, unsigned ncpus)
{
	if (def->value_size != 4 || def->max_entries == 0 || (def->map_flags & ~OUTER_FLAGS))
		return -EINVAL;
	if (def->type == BPF_MAP_TYPE_ARRAY_OF_MAPS && def->key_size != 4)
		return -EINVAL;
	if (def->key_size == 0 || def->key_size > 512)
		return -EINVAL;
	return 0;
}

static struct sl_map_def table_def(const struct sl_map_def *def)
{
	return (struct sl_map_def){ .type = BPF_MAP_TYPE_HASH, .key_size = def->key_size,
				    .value_size = sizeof(struct outer_entry),
				    .max_entries = def->max_entries };
}

static void outer_free(struct sl_map *map)
{
	struct sl_outer *o = to_outer(map);

	sl_map_destroy(o->tmpl);
	sl_map_destroy(o->table);
	map_lazy_free((void *)o->slots, sizeof(*o->slots) * (size_t)o->max);
	map_lazy_free(o->ids, sizeof(*o->ids) * (size_t)o->max);
	free(o);
}

static struct sl_map *outer_alloc(const struct sl_map_def *def, unsigned ncpus)
{
	struct sl_outer *o = map_zalloc(sizeof(*o));
	struct sl_map_def td = table_def(def);

	if (!o) {
		errno = ENOMEM;
		return NULL;
	}
	o->max = def->max_entries;
	o->hash = def->type == BPF_MAP_TYPE_HASH_OF_MAPS;
	if (o->hash) {
		o->table = sl_map_create("", &td, 1);
	} else {
		o->slots = map_lazy_alloc(sizeof(*o->slots) * (size_t)o->max);
		o->ids = map_lazy_alloc(sizeof(*o->ids) * (size_t)o->max);
	}
	if (o->hash ? !o->table : !o->slots || !o->ids) {
		outer_free(&o->map);
		errno = ENOMEM;
		return NULL;
	}
	return &o->map;
}

static uint64_t outer_mem_cost(const struct sl_map_def *def, unsigned ncpus)
{
	struct sl_map_def td = table_def(def);

	if (def->type == BPF_MAP_TYPE_HASH_OF_MAPS)
		return sizeof(struct sl_outer) + sl_map_mem_cost(&td, 1);
	return sizeof(struct sl_outer) + (uint64_t)def->max_entries * (8 + 4);
}

struct sl_map *sl_map_create_outer(const char *name, const struct sl_map_def *def,
				   const struct sl_map_def *inner, unsigned ncpus)
{
	struct sl_map *map, *tmpl;
	char tname[SL_MAP_NAME_LEN];

	if (!def || !inner || !is_outer_type(def->type) || is_outer_type(inner->type)) {
		errno = EINVAL;   /* the kernel nests one level only */
		return NULL;
	}
	snprintf(tname, sizeof(tname), "%.50s.inner", name ? name : "");
	tmpl = sl_map_create(tname, inner, ncpus);
	if (!tmpl)
		return NULL;
	map = map_create_checked(name, def, ncpus);
	if (!map) {
		int err = errno;

		sl_map_destroy(tmpl);
		errno = err;
		return NULL;
	}
	to_outer(map)->tmpl = tmpl;
	return map;
}

struct sl_map *sl_map_inner_template(const struct sl_map *map)
{
	if (!map || !is_outer_type(map->def.type))
		return NULL;
	return to_outer((struct sl_map *)map)->tmpl;
}

/* worker, lock-free: the inner map at @p key, or NULL */
static void *outer_lookup(struct sl_map *map, const void *key)
{
	struct sl_outer *o = to_outer(map);
	uint32_t i;

	if (o->hash) {
		struct outer_entry *e = sl_map_lookup_elem(o->table, key);

		return e ? e->map : NULL;
	}
	i = sl_key_u32(key);
	return i < o->max ? atomic_load_explicit(&o->slots[i], memory_order_acquire) : NULL;
}

/* Does @p inner fit the template, as the kernel's bpf_map_meta_equal()? */
static bool fits(const struct sl_map *tmpl, const struct sl_map *inner)
{
	const struct sl_map_def *t = &tmpl->def, *d = &inner->def;

	return t->type == d->type && t->key_size == d->key_size &&
	       t->value_size == d->value_size &&
	       (t->map_flags & ~BPF_F_INNER_MAP) == (d->map_flags & ~BPF_F_INNER_MAP) &&
	       ((t->map_flags & BPF_F_INNER_MAP) || t->max_entries == d->max_entries) &&
	       inner->ncpus == tmpl->ncpus;
}

int sl_map_outer_set(struct sl_map *map, const void *key, struct sl_map *inner, uint32_t id)
{
	struct sl_outer *o;
	uint32_t i;

	if (!map || !is_outer_type(map->def.type))
		return -EINVAL;
	o = to_outer(map);
	if (inner && (is_outer_type(inner->def.type) || !fits(o->tmpl, inner)))
		return -EINVAL;
	if (o->hash) {
		struct outer_entry e = { .map = inner, .id = id };

		return inner ? sl_map_ctl_update(o->table, key, &e, BPF_ANY) :
		       sl_map_ctl_delete(o->table, key);
	}
	i = sl_key_u32(key);
	if (i >= o->max)
		return -E2BIG;
	if (!inner && !atomic_load(&o->slots[i]))
		return -ENOENT;
	o->ids[i] = inner ? id : 0;
	atomic_store_explicit(&o->slots[i], inner, memory_order_release);
	return 0;
}

int sl_map_outer_set_resolver(struct sl_map *map, struct sl_map *(*fn)(uint32_t id, void *ctx),
			      void *ctx)
{
	if (!map || !is_outer_type(map->def.type))
		return -EINVAL;
	to_outer(map)->resolve = fn;
	to_outer(map)->resolve_ctx = ctx;
	return 0;
}

static int outer_ctl_lookup(struct sl_map *map, const void *key, void *value)
{
	struct sl_outer *o = to_outer(map);
	struct outer_entry e;
	uint32_t i;
	int err;

	if (o->hash) {
		err = sl_map_ctl_lookup(o->table, key, &e);
		if (!err)
			memcpy(value, &e.id, 4);
		return err;
	}
	i = sl_key_u32(key);
	if (i >= o->max || !atomic_load(&o->slots[i]))
		return -ENOENT;
	memcpy(value, &o->ids[i], 4);
	return 0;
}

static int outer_ctl_update(struct sl_map *map, const void *key, const void *value,
			    uint64_t flags)
{
	struct sl_outer *o = to_outer(map);
	uint32_t id = sl_key_u32(value), unused;
	struct sl_map *inner;
	bool exists;

	if (!sl_update_flags_ok(flags))
		return -EINVAL;
	if (!o->hash && sl_key_u32(key) >= o->max)
		return -E2BIG;
	exists = outer_ctl_lookup(map, key, &unused) == 0;
	if ((flags == BPF_NOEXIST && (exists || !o->hash)) || (flags == BPF_EXIST && !exists))
		return flags == BPF_NOEXIST ? -EEXIST : -ENOENT;
	if (!o->resolve)
		return -EOPNOTSUPP;
	inner = o->resolve(id, o->resolve_ctx);
	if (!inner)
		return -EBADF;   /* kernel: not a map fd */
	return sl_map_outer_set(map, key, inner, id);
}

static int outer_ctl_delete(struct sl_map *map, const void *key)
{
	return sl_map_outer_set(map, key, NULL, 0);
}

static int outer_get_next_key(struct sl_map *map, const void *key, void *next_key)
{
	struct sl_outer *o = to_outer(map);

	return o->hash ? sl_map_ctl_get_next_key(o->table, key, next_key) :
	       sl_index_next_key(o->max, key, next_key);
}

struct outer_dump {
	sl_map_dump_cb cb;
	void *ctx;
};

static int outer_dump_one(const void *key, const void *value, void *arg)
{
	const struct outer_entry *e = value;
	struct outer_dump *d = arg;

	return d->cb(key, &e->id, d->ctx);
}

static int outer_dump(struct sl_map *map, sl_map_dump_cb cb, void *ctx)
{
	struct sl_outer *o = to_outer(map);
	struct outer_dump d = { cb, ctx };
	int ret = 0;

	if (o->hash)
		return sl_map_ctl_dump(o->table, outer_dump_one, &d);
	for (uint32_t i = 0; i < o->max && !ret; i++) {
		uint32_t id;

		if (outer_ctl_lookup(map, &i, &id) == 0)
			ret = cb(&i, &id, ctx);
	}
	return ret;
}

static uint64_t outer_count(struct sl_map *map)
{
	struct sl_outer *o = to_outer(map);
	uint64_t n = 0;

	if (o->hash)
		return sl_map_ctl_count(o->table);
	for (uint32_t i = 0; i < o->max; i++)
		n += atomic_load_explicit(&o->slots[i], memory_order_relaxed) != NULL;
	return n;
}

const struct sl_map_ops outer_map_ops = {
	.check = outer_check,
	.mem_cost = outer_mem_cost,
	.alloc = outer_alloc,
	.free = outer_free,
	.lookup = outer_lookup,
	.ctl_lookup = outer_ctl_lookup,
	.ctl_update = outer_ctl_update,
	.ctl_delete = outer_ctl_delete,
	.get_next_key = outer_get_next_key,
	.count = outer_count,
	.dump = outer_dump,
};
