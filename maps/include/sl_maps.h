/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file sl_maps.h
 * sluice maps: the kernel's map types and semantics (enum bpf_map_type
 * numbering, BPF_ANY/BPF_NOEXIST/BPF_EXIST, -ENOENT/-EEXIST/-E2BIG), with
 * two APIs:
 *
 *  - the data path (worker lcores, called from programs through helpers or
 *    inlined by the JIT): no locks, no allocation, no logging;
 *  - the control thread: list, info, lookup/update/delete by copy,
 *    get_next_key iteration and per-CPU values while workers run.
 *
 * "CPU" means worker slot: per-CPU maps hold ncpus values per key, one per
 * worker, and a worker writes only its own slot. The current thread's slot
 * is sl_map_cpu, set once per thread with sl_map_set_cpu().
 *
 * Per-CPU values in the control API are packed as in the kernel's syscall:
 * ncpus values, each rounded up to 8 bytes.
 */
#ifndef SL_MAPS_H
#define SL_MAPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/bpf.h>

/** Most worker slots a per-CPU map can have. */
#define SL_MAX_CPUS 128
/** Longest map name kept, including the NUL. */
#define SL_MAP_NAME_LEN 64

/** What a map is: the fields of the kernel's bpf_map_create attributes. */
struct sl_map_def {
	uint32_t type;         /**< enum bpf_map_type */
	uint32_t key_size;
	uint32_t value_size;
	uint32_t max_entries;
	uint32_t map_flags;    /**< BPF_F_NO_PREALLOC, BPF_F_RDONLY_PROG, ... */
};

struct sl_map;

/** Worker slot of the calling thread (0 outside workers). */
extern __thread uint32_t sl_map_cpu;

/** Set the calling thread's worker slot. Call once per worker thread. */
static inline void sl_map_set_cpu(uint32_t cpu) { sl_map_cpu = cpu; }

/**
 * Create a map. Control thread; allocates.
 * @param name  map name (copied, truncated to SL_MAP_NAME_LEN - 1)
 * @param def   type and sizes; checked as the kernel checks them
 * @param ncpus worker slots for per-CPU maps (1..SL_MAX_CPUS)
 * @return the map (free with sl_map_destroy), or NULL with errno EINVAL
 *         (bad sizes or flags for the type), ENOTSUP (type sluice lacks), ENOMEM.
 */
struct sl_map *sl_map_create(const char *name, const struct sl_map_def *def, unsigned ncpus);

/** Free a map. No worker may use it any more. NULL is allowed. */
void sl_map_destroy(struct sl_map *map);

/** Name given at creation. */
const char *sl_map_name(const struct sl_map *map);
/** Definition given at creation. */
const struct sl_map_def *sl_map_get_def(const struct sl_map *map);
/** Worker slots (1 for maps that are not per-CPU). */
unsigned sl_map_ncpus(const struct sl_map *map);
/** True for PERCPU_ARRAY, PERCPU_HASH, LRU_PERCPU_HASH. */
bool sl_map_is_percpu(const struct sl_map *map);
/** Lower-case kernel-style type name ("percpu_array"), or "unknown". */
const char *sl_map_type_name(uint32_t type);
/** Type number from a name as sl_map_type_name() gives it; -ENOENT if unknown. */
int sl_map_type_from_name(const char *name);

/* ---- data path: worker, lock-free, called by helpers ---- */

/**
 * bpf_map_lookup_elem: pointer to the value (this worker's slot for
 * per-CPU maps), or NULL. The pointer stays valid until the worker's next
 * quiescent state.
 */
void *sl_map_lookup_elem(struct sl_map *map, const void *key);
/** bpf_map_update_elem: 0 or -errno (-EEXIST, -ENOENT, -E2BIG, -EINVAL). */
long sl_map_update_elem(struct sl_map *map, const void *key, const void *value, uint64_t flags);
/** bpf_map_delete_elem: 0 or -errno (-ENOENT, -EINVAL for arrays). */
long sl_map_delete_elem(struct sl_map *map, const void *key);
/** bpf_map_lookup_percpu_elem: slot @p cpu of a per-CPU map, or NULL. */
void *sl_map_lookup_percpu_elem(struct sl_map *map, const void *key, uint32_t cpu);

/**
 * ARRAY / PERCPU_ARRAY layout, for the JIT to inline lookups: the value
 * of index i in slot cpu is at sl_map_array_base(map, cpu) + i * stride.
 * @return NULL for other map types.
 */
void *sl_map_array_base(struct sl_map *map, uint32_t cpu);
/** Bytes between consecutive array values (value_size rounded up to 8). */
uint32_t sl_map_array_stride(const struct sl_map *map);

/* ---- control thread ---- */

/**
 * Copy the value of @p key into @p value (for per-CPU maps: every slot,
 * packed, ncpus * round_up(value_size, 8) bytes). 0, -ENOENT.
 */
int sl_map_ctl_lookup(struct sl_map *map, const void *key, void *value);
/** Update from the control thread (per-CPU: all slots packed as above). 0 or -errno. */
int sl_map_ctl_update(struct sl_map *map, const void *key, const void *value, uint64_t flags);
/** Delete from the control thread. 0 or -errno. */
int sl_map_ctl_delete(struct sl_map *map, const void *key);
/**
 * Iterate keys: @p key NULL gives the first key. 0, or -ENOENT after the
 * last key. As in the kernel, a key that vanished restarts from the first.
 */
int sl_map_ctl_get_next_key(struct sl_map *map, const void *key, void *next_key);
/** Bytes of a control-API value: value_size, or ncpus * round_up(value_size, 8). */
size_t sl_map_ctl_value_size(const struct sl_map *map);

/**
 * Mark the calling worker quiescent: it holds no pointer into any map.
 * Workers call it once per burst; memory freed by deletes is reclaimed
 * once every worker has passed such a point.
 */
void sl_map_quiescent(void);

#endif /* SL_MAPS_H */
