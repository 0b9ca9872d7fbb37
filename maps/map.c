/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * maps/map.c: creation, destruction and dispatch of every map type.
 *
 * Each type supplies one constant struct sl_map_ops (array.c, hash.c,
 * lpm.c, devmap.c, prog_array.c, ringbuf.c, perf_event.c); this file
 * holds the table
 * from enum bpf_map_type to ops, the common checks of the kernel's
 * map_create, the type names, and the control-thread API.
 *
 * Concurrency: nothing here has state of its own; see each type's file.
 * The control thread is not a registered reader: each type's ctl_* entries
 * protect themselves (writer locks of the bucket or map they read, or
 * memory that is never freed), so a control thread that is preempted in
 * the middle of a call never holds back the reclamation of workers'
 * deletes.
 */
#include <stdio.h>
#include <stdlib.h>

#include "maps_internal.h"

/* map type -> ops, indexed by enum bpf_map_type (NULL: not provided) */
static const struct sl_map_ops *const map_ops[] = {
	[BPF_MAP_TYPE_HASH] = &hash_map_ops,
	[BPF_MAP_TYPE_ARRAY] = &array_map_ops,
	[BPF_MAP_TYPE_PROG_ARRAY] = &prog_array_map_ops,
	[BPF_MAP_TYPE_PERCPU_HASH] = &percpu_hash_map_ops,
	[BPF_MAP_TYPE_PERCPU_ARRAY] = &percpu_array_map_ops,
	[BPF_MAP_TYPE_LRU_HASH] = &lru_hash_map_ops,
	[BPF_MAP_TYPE_LRU_PERCPU_HASH] = &lru_percpu_hash_map_ops,
	[BPF_MAP_TYPE_LPM_TRIE] = &lpm_map_ops,
	[BPF_MAP_TYPE_DEVMAP] = &devmap_map_ops,
	[BPF_MAP_TYPE_DEVMAP_HASH] = &devmap_hash_map_ops,
	[BPF_MAP_TYPE_RINGBUF] = &ringbuf_map_ops,
	[BPF_MAP_TYPE_PERF_EVENT_ARRAY] = &perf_event_map_ops,
	[BPF_MAP_TYPE_ARRAY_OF_MAPS] = &outer_map_ops,
	[BPF_MAP_TYPE_HASH_OF_MAPS] = &outer_map_ops,
	[BPF_MAP_TYPE_XSKMAP] = &xskmap_map_ops,
	[BPF_MAP_TYPE_CPUMAP] = &cpumap_map_ops,
};

/* kernel type names (bpftool's spelling), indexed by enum bpf_map_type */
static const char *const type_names[] = {
	[BPF_MAP_TYPE_UNSPEC] = "unspec",
	[BPF_MAP_TYPE_HASH] = "hash",
	[BPF_MAP_TYPE_ARRAY] = "array",
	[BPF_MAP_TYPE_PROG_ARRAY] = "prog_array",
	[BPF_MAP_TYPE_PERF_EVENT_ARRAY] = "perf_event_array",
	[BPF_MAP_TYPE_PERCPU_HASH] = "percpu_hash",
	[BPF_MAP_TYPE_PERCPU_ARRAY] = "percpu_array",
	[BPF_MAP_TYPE_STACK_TRACE] = "stack_trace",
	[BPF_MAP_TYPE_CGROUP_ARRAY] = "cgroup_array",
	[BPF_MAP_TYPE_LRU_HASH] = "lru_hash",
	[BPF_MAP_TYPE_LRU_PERCPU_HASH] = "lru_percpu_hash",
	[BPF_MAP_TYPE_LPM_TRIE] = "lpm_trie",
	[BPF_MAP_TYPE_ARRAY_OF_MAPS] = "array_of_maps",
	[BPF_MAP_TYPE_HASH_OF_MAPS] = "hash_of_maps",
	[BPF_MAP_TYPE_DEVMAP] = "devmap",
	[BPF_MAP_TYPE_SOCKMAP] = "sockmap",
	[BPF_MAP_TYPE_CPUMAP] = "cpumap",
	[BPF_MAP_TYPE_XSKMAP] = "xskmap",
	[BPF_MAP_TYPE_SOCKHASH] = "sockhash",
	[BPF_MAP_TYPE_CGROUP_STORAGE] = "cgroup_storage",
	[BPF_MAP_TYPE_REUSEPORT_SOCKARRAY] = "reuseport_sockarray",
	[BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE] = "percpu_cgroup_storage",
	[BPF_MAP_TYPE_QUEUE] = "queue",
	[BPF_MAP_TYPE_STACK] = "stack",
	[BPF_MAP_TYPE_SK_STORAGE] = "sk_storage",
	[BPF_MAP_TYPE_DEVMAP_HASH] = "devmap_hash",
	[BPF_MAP_TYPE_STRUCT_OPS] = "struct_ops",
	[BPF_MAP_TYPE_RINGBUF] = "ringbuf",
};

#define N_TYPES (sizeof(type_names) / sizeof(type_names[0]))
#define N_OPS (sizeof(map_ops) / sizeof(map_ops[0]))

uint64_t sl_map_mem_cost(const struct sl_map_def *def, unsigned ncpus)
{
	const struct sl_map_ops *ops = def && def->type < N_OPS ? map_ops[def->type] : NULL;
	uint64_t entry, bytes;

	if (!def)
		return 0;
	if (ncpus == 0)
		ncpus = 1;
	if (ops && ops->mem_cost)
		return ops->mem_cost(def, ncpus);
	entry = (uint64_t)def->key_size + (((uint64_t)def->value_size + 7) & ~7ull);
	bytes = (uint64_t)def->max_entries * (entry ? entry : 1);
	if (def->type == BPF_MAP_TYPE_PERCPU_ARRAY || def->type == BPF_MAP_TYPE_PERCPU_HASH ||
	    def->type == BPF_MAP_TYPE_LRU_PERCPU_HASH)
		bytes *= ncpus;
	return bytes;
}

const char *sl_map_type_name(uint32_t type)
{
	if (type < N_TYPES && type_names[type])
		return type_names[type];
	return "unknown";
}

int sl_map_type_from_name(const char *name)
{
	for (uint32_t t = 0; t < N_TYPES; t++)
		if (type_names[t] && !strcmp(type_names[t], name))
			return (int)t;
	return -ENOENT;
}

struct sl_map *sl_map_create(const char *name, const struct sl_map_def *def, unsigned ncpus)
{
	if (def && (def->type == BPF_MAP_TYPE_ARRAY_OF_MAPS ||
		    def->type == BPF_MAP_TYPE_HASH_OF_MAPS)) {
		errno = EINVAL;   /* needs an inner template: sl_map_create_outer() */
		return NULL;
	}
	return map_create_checked(name, def, ncpus);
}

struct sl_map *map_create_checked(const char *name, const struct sl_map_def *def,
				     unsigned ncpus)
{
	const struct sl_map_ops *ops = def && def->type < N_OPS ? map_ops[def->type] : NULL;
	struct sl_map *map;
	struct sl_map_def d;
	int err;

	if (!def) {
		errno = EINVAL;
		return NULL;
	}
	if (!ops) {
		errno = ENOTSUP;
		return NULL;
	}
	if (ncpus == 0)
		ncpus = 1;
	if (ncpus > SL_MAX_CPUS) {
		errno = EINVAL;
		return NULL;
	}
	if (def->type == BPF_MAP_TYPE_PERF_EVENT_ARRAY && !def->max_entries) {
		/* libbpf's default for this type: one entry per CPU */
		d = *def;
		d.max_entries = ncpus;
		def = &d;
	}
	err = ops->check(def, ncpus);
	if (err) {
		errno = -err;
		return NULL;
	}
	map = ops->alloc(def, ncpus);
	if (!map)
		return NULL;
	map->ops = ops;
	map->def = *def;
	map->ncpus = sl_map_is_percpu(map) ? ncpus : 1;
	map->value_stride = SL_ROUND_UP(def->value_size, 8);
	snprintf(map->name, sizeof(map->name), "%s", name ? name : "");
	return map;
}

void sl_map_destroy(struct sl_map *map)
{
	if (map)
		map->ops->free(map);
}

const char *sl_map_name(const struct sl_map *map) { return map->name; }
const struct sl_map_def *sl_map_get_def(const struct sl_map *map) { return &map->def; }
unsigned sl_map_ncpus(const struct sl_map *map) { return map->ncpus; }

/* ---- data path ---- */

void *sl_map_lookup_elem(struct sl_map *map, const void *key)
{
	return map->ops->lookup ? map->ops->lookup(map, key) : NULL;
}

long sl_map_update_elem(struct sl_map *map, const void *key, const void *value, uint64_t flags)
{
	return map->ops->update ? map->ops->update(map, key, value, flags) : -EOPNOTSUPP;
}

long sl_map_delete_elem(struct sl_map *map, const void *key)
{
	return map->ops->delete ? map->ops->delete(map, key) : -EOPNOTSUPP;
}

void *sl_map_lookup_percpu_elem(struct sl_map *map, const void *key, uint32_t cpu)
{
	if (!map->ops->lookup_percpu || cpu >= map->ncpus)
		return NULL;
	return map->ops->lookup_percpu(map, key, cpu);
}

/* ---- control thread ---- */

/* the kernel's syscall-side access flags: BPF_F_RDONLY / BPF_F_WRONLY */
static inline bool ctl_can_read(const struct sl_map *map)
{
	return !(map->def.map_flags & BPF_F_WRONLY);
}

static inline bool ctl_can_write(const struct sl_map *map)
{
	return !(map->def.map_flags & BPF_F_RDONLY);
}

int sl_map_ctl_lookup(struct sl_map *map, const void *key, void *value)
{
	int ret = 0;

	if (!ctl_can_read(map))
		return -EPERM;
	if (map->ops->ctl_lookup) {
		ret = map->ops->ctl_lookup(map, key, value);
	} else if (map->ops->lookup) {
		const void *v = map->ops->lookup(map, key);

		if (v)
			memcpy(value, v, map->def.value_size);
		else
			ret = -ENOENT;
	} else {
		ret = -EOPNOTSUPP;
	}
	return ret;
}

int sl_map_ctl_update(struct sl_map *map, const void *key, const void *value, uint64_t flags)
{
	int ret;

	if (!ctl_can_write(map))
		return -EPERM;
	if (map->ops->ctl_update)
		ret = map->ops->ctl_update(map, key, value, flags);
	else if (map->ops->update)
		ret = (int)map->ops->update(map, key, value, flags);
	else
		ret = -EOPNOTSUPP;
	return ret;
}

int sl_map_ctl_delete(struct sl_map *map, const void *key)
{
	int ret;

	if (!ctl_can_write(map))
		return -EPERM;
	if (map->ops->ctl_delete)
		ret = map->ops->ctl_delete(map, key);
	else if (map->ops->delete)
		ret = (int)map->ops->delete(map, key);
	else
		ret = -EOPNOTSUPP;
	return ret;
}

int sl_map_ctl_get_next_key(struct sl_map *map, const void *key, void *next_key)
{
	int ret;

	if (!map->ops->get_next_key)
		return -EOPNOTSUPP;
	if (!ctl_can_read(map))
		return -EPERM;
	ret = map->ops->get_next_key(map, key, next_key);
	return ret;
}

int sl_map_ctl_dump(struct sl_map *map, sl_map_dump_cb cb, void *ctx)
{
	int ret;

	if (!map->ops->dump)
		return -EOPNOTSUPP;
	if (!ctl_can_read(map))
		return -EPERM;
	ret = map->ops->dump(map, cb, ctx);
	return ret;
}

int sl_map_ctl_dump_part(struct sl_map *map, uint64_t *cursor, uint32_t max, sl_map_dump_cb cb,
			 void *ctx)
{
	int ret;

	if (*cursor == SL_MAP_DUMP_END)
		return 0;
	if (!map->ops->dump)
		return -EOPNOTSUPP;
	if (!ctl_can_read(map))
		return -EPERM;
	if (map->ops->dump_part)
		return map->ops->dump_part(map, cursor, max, cb, ctx);
	ret = map->ops->dump(map, cb, ctx);  /* no cursor: all of it in the first part */
	*cursor = SL_MAP_DUMP_END;
	return ret;
}

int sl_map_ctl_sum_u64(struct sl_map *map, const void *key, uint64_t *sum)
{
	uint64_t vals[SL_MAX_CPUS];
	int ret;

	if (map->def.value_size != 8)
		return -EINVAL;
	ret = sl_map_ctl_lookup(map, key, vals);
	if (ret)
		return ret;
	*sum = 0;
	for (unsigned c = 0; c < map->ncpus; c++)
		*sum += vals[c];
	return 0;
}

static int count_cb(const void *key, const void *value, void *ctx)
{
	(*(uint64_t *)ctx)++;
	return 0;
}

uint64_t sl_map_ctl_count(struct sl_map *map)
{
	uint64_t n = 0;

	if (map->ops->count)
		return map->ops->count(map);
	sl_map_ctl_dump(map, count_cb, &n);
	return n;
}
