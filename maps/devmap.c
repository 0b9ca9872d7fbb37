/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * maps/devmap.c: BPF_MAP_TYPE_DEVMAP, XSKMAP and CPUMAP, the redirect
 * tables of bpf_redirect_map. (DEVMAP_HASH is a hash map flavour: hash.c.)
 *
 * XSKMAP: key u32 index, value u32 (the kernel's AF_XDP socket fd); in
 * sluice the value names the port that hands packets to the other
 * application (net_ring, net_memif, a pcap file), so a redirect through
 * it goes to that port as through a DEVMAP.
 * CPUMAP: key u32 CPU, value u32 qsize or the kernel's struct
 * bpf_cpumap_val { u32 qsize; u32 bpf_prog.fd/id }; in sluice the key names
 * the worker that takes the packet over; qsize 0 empties the entry (as
 * the kernel). An entry program (bpf_prog.fd/id > 0) is a program id the
 * engine gives meaning to (engine/cpumap.c): it registers a check
 * (sl_map_cpumap_set_prog_check) that accepts or refuses each id;
 * without one such updates fail with -EOPNOTSUPP.
 * Programs may not look CPUMAP entries up (the kernel's verifier refuses).
 *
 * Key: u32 index < max_entries. Value: u32 ifindex, or the kernel's
 * struct bpf_devmap_val { u32 ifindex; u32 bpf_prog.fd/id } (value_size
 * 4 or 8). In sluice the ifindex is the engine's port id. Programs on
 * devmap entries (bpf_prog.fd > 0) are not provided: such updates fail
 * with -EOPNOTSUPP.
 *
 * Concurrency: each entry is one 8-byte word (ifindex | prog id << 32)
 * written with a single atomic store, plus a present flag published with
 * release after the word; readers (bpf_redirect_map, lookup) load the
 * flag with acquire and the word atomically, so they never see a torn
 * entry and take no lock. As in the kernel, programs only look up and
 * redirect; updates and deletes come from the control thread.
 */
#include <stdlib.h>

#include "maps_internal.h"

#define DEVMAP_FLAGS (BPF_F_NUMA_NODE | BPF_F_RDONLY | BPF_F_WRONLY)

struct sl_devmap {
	struct sl_map map;
	uint32_t max;
	int (*prog_check)(uint32_t id, void *ctx);  /* CPUMAP entry programs, or NULL */
	void *prog_ctx;
	_Atomic uint64_t *vals;    /* ifindex | prog_id << 32 */
	atomic_uchar *present;
};

static inline struct sl_devmap *to_devmap(struct sl_map *m)
{
	return SL_CONTAINER_OF(m, struct sl_devmap, map);
}

static int devmap_check(const struct sl_map_def *def, unsigned ncpus)
{
	if (def->key_size != 4 || (def->value_size != 4 && def->value_size != 8) ||
	    def->max_entries == 0 || (def->map_flags & ~DEVMAP_FLAGS))
		return -EINVAL;
	return 0;
}

static int xskmap_check(const struct sl_map_def *def, unsigned ncpus)
{
	if (def->key_size != 4 || def->value_size != 4 || def->max_entries == 0 ||
	    (def->map_flags & ~DEVMAP_FLAGS))
		return -EINVAL;
	return 0;
}

static int cpumap_check(const struct sl_map_def *def, unsigned ncpus)
{
	return devmap_check(def, ncpus);   /* same shape: u32 key, 4- or 8-byte value */
}

static struct sl_map *devmap_alloc(const struct sl_map_def *def, unsigned ncpus)
{
	struct sl_devmap *d = map_zalloc(sizeof(*d));

	if (d) {
		d->max = def->max_entries;
		d->vals = map_lazy_alloc(sizeof(*d->vals) * d->max);
		d->present = map_lazy_alloc(d->max);
		if (d->vals && d->present)
			return &d->map;
		map_lazy_free((void *)d->vals, sizeof(*d->vals) * d->max);
		map_lazy_free((void *)d->present, d->max);
		free(d);
	}
	errno = ENOMEM;
	return NULL;
}

static void devmap_free(struct sl_map *map)
{
	struct sl_devmap *d = to_devmap(map);

	map_lazy_free((void *)d->vals, sizeof(*d->vals) * d->max);
	map_lazy_free((void *)d->present, d->max);
	free(d);
}

/* worker, no locks: entry @p i's word, or NULL when out of range or empty */
static inline _Atomic uint64_t *devmap_at(struct sl_map *map, uint32_t i)
{
	struct sl_devmap *d = to_devmap(map);

	if (i >= d->max || !atomic_load_explicit(&d->present[i], memory_order_acquire))
		return NULL;
	return &d->vals[i];
}

/* worker, no locks: pointer to the 4- or 8-byte value, read-only for programs */
static void *devmap_lookup(struct sl_map *map, const void *key)
{
	return (void *)devmap_at(map, sl_key_u32(key));
}

/* control thread */
static int devmap_ctl_update(struct sl_map *map, const void *key, const void *value,
			     uint64_t flags)
{
	struct sl_devmap *d = to_devmap(map);
	uint32_t i = sl_key_u32(key);
	uint32_t v[2] = {0, 0};

	if (!sl_update_flags_ok(flags))
		return -EINVAL;
	if (i >= d->max)
		return -E2BIG;
	if (flags == BPF_NOEXIST)
		return -EEXIST;  /* kernel: every devmap slot "exists" */
	memcpy(v, value, map->def.value_size);
	if (v[1] != 0 && (map->def.type != BPF_MAP_TYPE_CPUMAP || !d->prog_check))
		return -EOPNOTSUPP;  /* devmap entry programs are not provided */
	if (v[1] != 0 && v[0] != 0) {
		int err = d->prog_check(v[1], d->prog_ctx);

		if (err)
			return err;
	}
	if (map->def.type == BPF_MAP_TYPE_CPUMAP && v[0] == 0) {
		atomic_store_explicit(&d->present[i], 0, memory_order_release);
		return 0;        /* kernel: qsize 0 removes the CPU */
	}
	atomic_store_explicit(&d->vals[i], v[0] | (uint64_t)v[1] << 32, memory_order_relaxed);
	atomic_store_explicit(&d->present[i], 1, memory_order_release);
	return 0;
}

static int devmap_ctl_delete(struct sl_map *map, const void *key)
{
	struct sl_devmap *d = to_devmap(map);
	uint32_t i = sl_key_u32(key);

	if (i >= d->max)
		return -EINVAL;
	atomic_store_explicit(&d->present[i], 0, memory_order_release);
	return 0;  /* kernel: deleting an empty slot succeeds too */
}

static int devmap_ctl_lookup(struct sl_map *map, const void *key, void *value)
{
	const uint64_t *v = devmap_lookup(map, key);
	uint64_t w;

	if (!v)
		return -ENOENT;
	w = atomic_load((const _Atomic uint64_t *)v);
	memcpy(value, &w, map->def.value_size);
	return 0;
}

/* control thread: kernel devmap order, every index (present or not) */
static int devmap_get_next_key(struct sl_map *map, const void *key, void *next_key)
{
	return sl_index_next_key(to_devmap(map)->max, key, next_key);
}

static int devmap_dump(struct sl_map *map, sl_map_dump_cb cb, void *ctx)
{
	struct sl_devmap *d = to_devmap(map);
	int ret = 0;

	for (uint32_t i = 0; i < d->max && !ret; i++) {
		uint64_t v;

		if (devmap_ctl_lookup(map, &i, &v) == 0)
			ret = cb(&i, &v, ctx);
	}
	return ret;
}

/* DEVMAP_HASH's target by its ops (out of line: the key goes by address) */
static __attribute__((noinline)) int64_t hash_target(struct sl_map *map, uint32_t key)
{
	const uint32_t *v = map->ops->lookup(map, &key);

	return v ? (int64_t)*v : -ENOENT;
}

/* worker, no locks (bpf_redirect_map): the array types' lookup inline, DEVMAP_HASH's by its ops */
int64_t sl_map_redirect_target(struct sl_map *map, uint32_t key)
{
	const uint32_t *v;

	switch (map->def.type) {
	case BPF_MAP_TYPE_DEVMAP: case BPF_MAP_TYPE_XSKMAP:
		v = (const uint32_t *)devmap_at(map, key);
		return v ? (int64_t)*v : -ENOENT;
	case BPF_MAP_TYPE_CPUMAP:
		return devmap_at(map, key) ? (int64_t)key : -ENOENT;   /* CPUMAP: the worker */
	case BPF_MAP_TYPE_DEVMAP_HASH:
		return hash_target(map, key);
	default:
		return -EINVAL;
	}
}

/* control thread (JIT compile time): the arrays devmap_at() reads */
int sl_map_devmap_layout(struct sl_map *map, const uint64_t **vals, const uint8_t **present,
			 uint32_t *max)
{
	uint32_t t = map ? map->def.type : 0;

	if (t != BPF_MAP_TYPE_DEVMAP && t != BPF_MAP_TYPE_XSKMAP && t != BPF_MAP_TYPE_CPUMAP)
		return -EINVAL;
	*vals = (const uint64_t *)(const void *)to_devmap(map)->vals;
	*present = (const uint8_t *)(const void *)to_devmap(map)->present;
	*max = to_devmap(map)->max;
	return 0;
}

int sl_map_devmap_get(struct sl_map *map, uint32_t key, uint32_t *ifindex)
{
	int64_t t = sl_map_redirect_target(map, key);

	if (t < 0)
		return (int)t;
	*ifindex = (uint32_t)t;
	return 0;
}

int sl_map_cpumap_set_prog_check(struct sl_map *map, int (*check)(uint32_t id, void *ctx),
				 void *ctx)
{
	if (!map || map->def.type != BPF_MAP_TYPE_CPUMAP)
		return -EINVAL;
	to_devmap(map)->prog_check = check;
	to_devmap(map)->prog_ctx = ctx;
	return 0;
}

int sl_map_cpumap_get(struct sl_map *map, uint32_t key, uint32_t *qsize, uint32_t *prog_id)
{
	const _Atomic uint64_t *v;
	uint64_t w;

	if (!map || map->def.type != BPF_MAP_TYPE_CPUMAP)
		return -EINVAL;
	v = devmap_lookup(map, &key);
	if (!v)
		return -ENOENT;
	w = atomic_load_explicit(v, memory_order_relaxed);
	*qsize = (uint32_t)w;
	*prog_id = (uint32_t)(w >> 32);
	return 0;
}

#define DEVMAP_OPS \
	.alloc = devmap_alloc, \
	.free = devmap_free, \
	.lookup = devmap_lookup, \
	.ctl_lookup = devmap_ctl_lookup, \
	.ctl_update = devmap_ctl_update, \
	.ctl_delete = devmap_ctl_delete, \
	.get_next_key = devmap_get_next_key, \
	.dump = devmap_dump

const struct sl_map_ops xskmap_map_ops = { .check = xskmap_check, DEVMAP_OPS };
const struct sl_map_ops cpumap_map_ops = { .check = cpumap_check, DEVMAP_OPS };

const struct sl_map_ops devmap_map_ops = {
	.check = devmap_check,
	.alloc = devmap_alloc,
	.free = devmap_free,
	.lookup = devmap_lookup,
	.ctl_lookup = devmap_ctl_lookup,
	.ctl_update = devmap_ctl_update,
	.ctl_delete = devmap_ctl_delete,
	.get_next_key = devmap_get_next_key,
	.dump = devmap_dump,
};
