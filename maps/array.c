/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * maps/array.c: BPF_MAP_TYPE_ARRAY and BPF_MAP_TYPE_PERCPU_ARRAY.
 *
 * Layout: one cache-aligned block per slot; slot s holds max_entries
 * values of `stride` bytes (value_size rounded up to 8). ARRAY has one
 * slot; PERCPU_ARRAY has ncpus slots, each starting on its own cache line
 * so that workers never share lines. sl_map_array_base()/stride() expose
 * this so the JIT can inline lookups: value(i, cpu) = base(cpu) + i*stride.
 * Global data (.rodata/.data/.bss) are one-element ARRAYs created by the
 * loader with BPF_F_RDONLY_PROG / BPF_F_MMAPABLE.
 *
 * Concurrency (as the kernel's arraymap):
 *   - Elements always exist; lookup is an index computation, no locks.
 *   - ARRAY: updates copy in place. A reader racing with an update of the
 *     same index may see a mix of old and new bytes, exactly as in the
 *     kernel; programs that need atomicity use atomic instructions on the
 *     value or a HASH map (whose updates publish a new element).
 *   - PERCPU_ARRAY: a worker reads and writes only its own slot
 *     (sl_map_cpu), so the data path never races with another worker. The
 *     control thread reads every slot (a u64 counter read is atomic on
 *     x86-64, so sums of u64 counters are exact at some instant per slot)
 *     and may write them (ctl_update), racing only with that slot's worker.
 *   - Nothing is ever freed before sl_map_destroy(), so no reclamation.
 */
#include <stdlib.h>

#include "maps_internal.h"

#define ARRAY_FLAGS (BPF_F_NUMA_NODE | BPF_F_MMAPABLE | BPF_F_RDONLY | BPF_F_WRONLY | \
		     BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG | BPF_F_PRESERVE_ELEMS | \
		     BPF_F_INNER_MAP)
#define PERCPU_VALUE_MAX 32768u  /* kernel: PCPU_MIN_UNIT_SIZE */

struct sl_array {
	struct sl_map map;
	uint32_t max;
	uint32_t stride;
	size_t slot_bytes;    /* bytes between slots, cache-line multiple */
	unsigned nslots;
	uint8_t *values;      /* owned, nslots * slot_bytes, lazily backed (map_lazy_alloc) */
};

static inline struct sl_array *to_array(struct sl_map *m)
{
	return SL_CONTAINER_OF(m, struct sl_array, map);
}

static int check_common(const struct sl_map_def *def, uint32_t allowed)
{
	if (def->key_size != 4 || def->value_size == 0 || def->max_entries == 0)
		return -EINVAL;
	if (def->map_flags & ~allowed)
		return -EINVAL;
	if ((def->map_flags & BPF_F_RDONLY_PROG) && (def->map_flags & BPF_F_WRONLY_PROG))
		return -EINVAL;
	if ((def->map_flags & BPF_F_RDONLY) && (def->map_flags & BPF_F_WRONLY))
		return -EINVAL;
	/* keep max * stride well inside size_t and sane (kernel: U32_MAX) */
	if ((uint64_t)def->max_entries * SL_ROUND_UP(def->value_size, 8) > (1ull << 32))
		return -E2BIG;
	return 0;
}

static int array_check(const struct sl_map_def *def, unsigned ncpus)
{
	return check_common(def, ARRAY_FLAGS);
}

static int percpu_array_check(const struct sl_map_def *def, unsigned ncpus)
{
	if (def->value_size > PERCPU_VALUE_MAX)
		return -E2BIG;
	return check_common(def, ARRAY_FLAGS & ~BPF_F_MMAPABLE);
}

static struct sl_map *alloc_slots(const struct sl_map_def *def, unsigned nslots)
{
	struct sl_array *a = map_zalloc(sizeof(*a));

	if (!a) {
		errno = ENOMEM;
		return NULL;
	}
	a->max = def->max_entries;
	a->stride = SL_ROUND_UP(def->value_size, 8);
	a->slot_bytes = SL_ROUND_UP((size_t)a->max * a->stride, SL_CACHE_LINE);
	a->nslots = nslots;
	a->values = map_lazy_alloc(a->slot_bytes * nslots);
	if (!a->values) {
		free(a);
		errno = ENOMEM;
		return NULL;
	}
	return &a->map;
}

static struct sl_map *array_alloc(const struct sl_map_def *def, unsigned ncpus)
{
	return alloc_slots(def, 1);
}

static struct sl_map *percpu_array_alloc(const struct sl_map_def *def, unsigned ncpus)
{
	return alloc_slots(def, ncpus);
}

static void array_free(struct sl_map *map)
{
	struct sl_array *a = to_array(map);

	map_lazy_free(a->values, a->slot_bytes * a->nslots);
	free(a);
}

static uint64_t array_mem_cost(const struct sl_map_def *def, unsigned ncpus)
{
	uint64_t slot = SL_ROUND_UP((uint64_t)def->max_entries * SL_ROUND_UP(def->value_size, 8),
				    SL_CACHE_LINE);

	return sizeof(struct sl_array) +
	       slot * (def->type == BPF_MAP_TYPE_PERCPU_ARRAY ? ncpus : 1);
}

/* worker, no locks */
static void *array_lookup(struct sl_map *map, const void *key)
{
	struct sl_array *a = to_array(map);
	uint32_t i = sl_key_u32(key);

	if (i >= a->max)
		return NULL;
	return a->values + (size_t)i * a->stride;
}

/* worker, no locks: this worker's slot */
static void *percpu_array_lookup(struct sl_map *map, const void *key)
{
	struct sl_array *a = to_array(map);
	uint32_t i = sl_key_u32(key);

	if (i >= a->max || sl_map_cpu >= map->ncpus)
		return NULL;  /* a thread whose slot the map was not made for */
	return a->values + sl_map_cpu * a->slot_bytes + (size_t)i * a->stride;
}

/* worker, no locks: slot cpu (checked < ncpus by map.c) */
static void *percpu_array_lookup_cpu(struct sl_map *map, const void *key, uint32_t cpu)
{
	struct sl_array *a = to_array(map);
	uint32_t i = sl_key_u32(key);

	if (i >= a->max)
		return NULL;
	return a->values + cpu * a->slot_bytes + (size_t)i * a->stride;
}

static long check_update(struct sl_array *a, uint32_t i, uint64_t flags)
{
	if (!sl_update_flags_ok(flags))
		return -EINVAL;
	if (i >= a->max)
		return -E2BIG;
	if (flags == BPF_NOEXIST)
		return -EEXIST;  /* all elements exist */
	return 0;
}

/* worker (data path): copy in place; this worker's slot for per-CPU */
static long array_update(struct sl_map *map, const void *key, const void *value, uint64_t flags)
{
	struct sl_array *a = to_array(map);
	uint32_t i = sl_key_u32(key);
	long err = check_update(a, i, flags);
	size_t slot = map->def.type == BPF_MAP_TYPE_PERCPU_ARRAY ? sl_map_cpu : 0;

	if (err)
		return err;
	if (map->def.map_flags & BPF_F_RDONLY_PROG)
		return -EPERM;
	if (slot >= map->ncpus)
		return -EINVAL;  /* a thread whose slot the map was not made for */
	sl_write_shared(a->values + slot * a->slot_bytes + (size_t)i * a->stride, value,
			map->def.value_size);
	return 0;
}

static long array_delete(struct sl_map *map, const void *key)
{
	return -EINVAL;
}

/* control thread: copy every slot, packed with stride */
static int percpu_array_ctl_lookup(struct sl_map *map, const void *key, void *value)
{
	struct sl_array *a = to_array(map);
	uint32_t i = sl_key_u32(key);

	if (i >= a->max)
		return -ENOENT;
	for (unsigned c = 0; c < map->ncpus; c++)
		sl_read_shared((uint8_t *)value + c * a->stride,
			       a->values + c * a->slot_bytes + (size_t)i * a->stride, a->stride);
	return 0;
}

/* control thread: every slot from a packed value (a shared array has one slot) */
static int array_ctl_update(struct sl_map *map, const void *key, const void *value,
			    uint64_t flags)
{
	struct sl_array *a = to_array(map);
	uint32_t i = sl_key_u32(key);
	long err = check_update(a, i, flags);

	if (err)
		return (int)err;
	for (unsigned c = 0; c < map->ncpus; c++)
		sl_write_shared(a->values + c * a->slot_bytes + (size_t)i * a->stride,
				(const uint8_t *)value + c * a->stride, map->def.value_size);
	return 0;
}

/* control thread: kernel order, NULL or out-of-range key restarts at 0 */
static int array_get_next_key(struct sl_map *map, const void *key, void *next_key)
{
	return sl_index_next_key(to_array(map)->max, key, next_key);
}

static int array_dump(struct sl_map *map, sl_map_dump_cb cb, void *ctx)
{
	struct sl_array *a = to_array(map);
	void *buf = malloc(sl_map_ctl_value_size(map));
	int ret = 0;

	if (!buf)
		return -ENOMEM;
	for (uint32_t i = 0; i < a->max && !ret; i++) {
		if (map->def.type == BPF_MAP_TYPE_PERCPU_ARRAY)
			percpu_array_ctl_lookup(map, &i, buf);
		else
			sl_read_shared(buf, a->values + (size_t)i * a->stride, map->def.value_size);
		ret = cb(&i, buf, ctx);
	}
	free(buf);
	return ret;
}

void *sl_map_array_base(struct sl_map *map, uint32_t cpu)
{
	struct sl_array *a = to_array(map);

	switch (map->def.type) {
	case BPF_MAP_TYPE_ARRAY:
		return a->values;
	case BPF_MAP_TYPE_PERCPU_ARRAY:
		return cpu < map->ncpus ? a->values + cpu * a->slot_bytes : NULL;
	default:
		return NULL;
	}
}

uint32_t sl_map_array_stride(const struct sl_map *map)
{
	return map->value_stride;
}

/** Bytes between the slots of a PERCPU_ARRAY (for the JIT); 0 for ARRAY. */
size_t sl_map_array_slot_bytes(const struct sl_map *map)
{
	const struct sl_array *a = SL_CONTAINER_OF(map, const struct sl_array, map);

	if (map->def.type != BPF_MAP_TYPE_PERCPU_ARRAY)
		return 0;
	return a->slot_bytes;
}

const struct sl_map_ops array_map_ops = {
	.check = array_check,
	.alloc = array_alloc,
	.mem_cost = array_mem_cost,
	.free = array_free,
	.lookup = array_lookup,
	.update = array_update,
	.delete = array_delete,
	.ctl_update = array_ctl_update,
	.get_next_key = array_get_next_key,
	.dump = array_dump,
};

const struct sl_map_ops percpu_array_map_ops = {
	.check = percpu_array_check,
	.alloc = percpu_array_alloc,
	.mem_cost = array_mem_cost,
	.free = array_free,
	.lookup = percpu_array_lookup,
	.update = array_update,
	.delete = array_delete,
	.lookup_percpu = percpu_array_lookup_cpu,
	.ctl_lookup = percpu_array_ctl_lookup,
	.ctl_update = array_ctl_update,
	.get_next_key = array_get_next_key,
	.dump = array_dump,
};
