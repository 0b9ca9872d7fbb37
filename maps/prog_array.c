/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * maps/prog_array.c: BPF_MAP_TYPE_PROG_ARRAY, the jump table of
 * bpf_tail_call.
 *
 * Key: u32 index < max_entries. Value: u32, as in the kernel's syscall
 * where it is a program fd on update and a program id on lookup. Inside,
 * each slot holds a struct sl_prog * (what bpf_tail_call jumps to) and the
 * u32 id the control API reads back. The control thread sets slots with
 * sl_map_prog_array_set(); sl_map_ctl_update() with a u32 value works
 * when a resolver (id -> program) was registered with
 * sl_map_prog_array_set_resolver(). Programs cannot look up or update a
 * PROG_ARRAY (the kernel's verifier refuses it); the data path only reads
 * the program pointer through sl_map_prog_array_get().
 *
 * Concurrency: a slot's program pointer is one atomic pointer, stored
 * with release and loaded with acquire by workers; no locks. The map
 * does not own the programs: whoever replaces one waits with
 * sl_map_synchronize() before freeing it.
 */
#include <stdlib.h>

#include "maps_internal.h"

#define PROG_ARRAY_FLAGS (BPF_F_NUMA_NODE | BPF_F_RDONLY | BPF_F_WRONLY | \
			  BPF_F_PRESERVE_ELEMS | BPF_F_INNER_MAP)

struct sl_prog_array {
	struct sl_map map;
	uint32_t max;
	sl_prog_resolver_fn resolve;
	void *resolve_ctx;
	_Atomic(struct sl_prog *) *progs;
	uint32_t *ids;
};

static inline struct sl_prog_array *to_pa(struct sl_map *m)
{
	return SL_CONTAINER_OF(m, struct sl_prog_array, map);
}

static int pa_check(const struct sl_map_def *def, unsigned ncpus)
{
	if (def->key_size != 4 || def->value_size != 4 || def->max_entries == 0 ||
	    (def->map_flags & ~PROG_ARRAY_FLAGS))
		return -EINVAL;
	return 0;
}

static struct sl_map *pa_alloc(const struct sl_map_def *def, unsigned ncpus)
{
	struct sl_prog_array *a = map_zalloc(sizeof(*a));

	if (a) {
		a->max = def->max_entries;
		a->progs = map_lazy_alloc(sizeof(*a->progs) * a->max);
		a->ids = map_lazy_alloc(sizeof(*a->ids) * a->max);
		if (a->progs && a->ids)
			return &a->map;
		map_lazy_free((void *)a->progs, sizeof(*a->progs) * a->max);
		map_lazy_free(a->ids, sizeof(*a->ids) * a->max);
		free(a);
	}
	errno = ENOMEM;
	return NULL;
}

static void pa_free(struct sl_map *map)
{
	struct sl_prog_array *a = to_pa(map);

	map_lazy_free((void *)a->progs, sizeof(*a->progs) * a->max);
	map_lazy_free(a->ids, sizeof(*a->ids) * a->max);
	free(a);
}

int sl_map_prog_array_set(struct sl_map *map, uint32_t index, struct sl_prog *prog, uint32_t id)
{
	struct sl_prog_array *a;

	if (map->def.type != BPF_MAP_TYPE_PROG_ARRAY)
		return -EINVAL;
	a = to_pa(map);
	if (index >= a->max)
		return -E2BIG;
	a->ids[index] = prog ? id : 0;
	atomic_store_explicit(&a->progs[index], prog, memory_order_release);
	return 0;
}

int sl_map_prog_array_set_resolver(struct sl_map *map, sl_prog_resolver_fn fn, void *ctx)
{
	if (map->def.type != BPF_MAP_TYPE_PROG_ARRAY)
		return -EINVAL;
	to_pa(map)->resolve = fn;
	to_pa(map)->resolve_ctx = ctx;
	return 0;
}

/* worker, lock-free */
struct sl_prog *sl_map_prog_array_get(struct sl_map *map, uint32_t index)
{
	struct sl_prog_array *a;

	if (map->def.type != BPF_MAP_TYPE_PROG_ARRAY)
		return NULL;
	a = to_pa(map);
	if (index >= a->max)
		return NULL;
	return atomic_load_explicit(&a->progs[index], memory_order_acquire);
}

static int pa_ctl_lookup(struct sl_map *map, const void *key, void *value)
{
	struct sl_prog_array *a = to_pa(map);
	uint32_t i = sl_key_u32(key);

	if (i >= a->max || !atomic_load(&a->progs[i]))
		return -ENOENT;
	*(uint32_t *)value = a->ids[i];
	return 0;
}

static int pa_ctl_update(struct sl_map *map, const void *key, const void *value, uint64_t flags)
{
	struct sl_prog_array *a = to_pa(map);
	uint32_t i = sl_key_u32(key), id = sl_key_u32(value);
	struct sl_prog *prog;

	if (!sl_update_flags_ok(flags))
		return -EINVAL;
	if (i >= a->max)
		return -E2BIG;
	if (flags == BPF_NOEXIST)
		return -EEXIST;
	if (!a->resolve)
		return -EOPNOTSUPP;
	prog = a->resolve(id, a->resolve_ctx);
	if (!prog)
		return -EBADF;  /* kernel: not a program fd */
	return sl_map_prog_array_set(map, i, prog, id);
}

static int pa_ctl_delete(struct sl_map *map, const void *key)
{
	struct sl_prog_array *a = to_pa(map);
	uint32_t i = sl_key_u32(key);

	if (i >= a->max)
		return -E2BIG;
	if (!atomic_exchange(&a->progs[i], NULL))
		return -ENOENT;
	a->ids[i] = 0;
	return 0;
}

static int pa_get_next_key(struct sl_map *map, const void *key, void *next_key)
{
	return sl_index_next_key(to_pa(map)->max, key, next_key);
}

static int pa_dump(struct sl_map *map, sl_map_dump_cb cb, void *ctx)
{
	struct sl_prog_array *a = to_pa(map);
	int ret = 0;

	for (uint32_t i = 0; i < a->max && !ret; i++) {
		uint32_t id;

		if (pa_ctl_lookup(map, &i, &id) == 0)
			ret = cb(&i, &id, ctx);
	}
	return ret;
}

const struct sl_map_ops prog_array_map_ops = {
	.check = pa_check,
	.alloc = pa_alloc,
	.free = pa_free,
	.ctl_lookup = pa_ctl_lookup,
	.ctl_update = pa_ctl_update,
	.ctl_delete = pa_ctl_delete,
	.get_next_key = pa_get_next_key,
	.dump = pa_dump,
};
