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

/**
 * Worker slot of the calling thread (0 outside workers). Initial-exec TLS
 * (the libraries link statically into executables): a read is one %fs
 * load, never a __tls_get_addr call, so the map functions that read it
 * stay leaf functions (no registers saved around a possible call).
 */
extern __thread uint32_t sl_map_cpu __attribute__((tls_model("initial-exec")));

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

/**
 * Bytes a map of @p def with @p ncpus worker slots reserves and uses once
 * every entry is filled: its tables as maps/ lays them out (hash: chain
 * heads, elements with spares, pool bookkeeping; array: values per slot;
 * LPM: elements and the root, trie nodes come on demand). Big tables are
 * reserved lazily, so an emptier map costs less resident memory. The
 * loader charges this against sl_obj_opts.map_mem_limit. No allocation.
 */
uint64_t sl_map_mem_cost(const struct sl_map_def *def, unsigned ncpus);

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
/**
 * Bytes between the slots of a PERCPU_ARRAY: sl_map_array_base(map, cpu)
 * == sl_map_array_base(map, 0) + cpu * slot_bytes (a cache-line multiple).
 * 0 for ARRAY and other types.
 */
size_t sl_map_array_slot_bytes(const struct sl_map *map);

/** Data-path lookup of one map type: what bpf_map_lookup_elem does for that type. */
typedef void *(*sl_map_lookup_fn)(struct sl_map *map, const void *key);

/** Data-path update of one map type: what bpf_map_update_elem does for that type. */
typedef long (*sl_map_update_fn)(struct sl_map *map, const void *key, const void *value,
				 uint64_t flags);
/** Data-path delete of one map type: what bpf_map_delete_elem does for that type. */
typedef long (*sl_map_delete_fn)(struct sl_map *map, const void *key);

/** The functions compiled code calls for one map (sl_map_jit_fns()). */
struct sl_map_jit_fns {
	sl_map_lookup_fn lookup;   /**< as sl_map_lookup_elem(); NULL: the type has none */
	sl_map_update_fn update;   /**< as sl_map_update_elem(); NULL: the type has none */
	sl_map_delete_fn delete;   /**< as sl_map_delete_elem(); NULL: the type has none */
};

/**
 * The lookup, update and delete functions of @p map (maps/map_jit.c), for
 * the JIT to call directly instead of the helpers, which dispatch on the
 * type at run time: the type's own, specialised where the type has
 * versions for the map's key size (hash maps). Each has the contract of
 * the sl_map_*_elem() it stands for, for this map only. Control thread
 * (compile time); the functions are for workers.
 */
void sl_map_jit_fns(const struct sl_map *map, struct sl_map_jit_fns *fns);

/** sl_map_jit_fns()'s lookup: NULL when @p map is NULL or its type has no lookup. */
sl_map_lookup_fn sl_map_jit_lookup_fn(const struct sl_map *map);

/**
 * A HASH or LRU_HASH map's table as compiled code reads it to look a key
 * up in place (sl_map_htab_jit()). The hash of a key: h = seed; CRC32-C
 * (the SSE4.2 crc32 instruction) of h and each key_word-byte word of the
 * key in turn, then of a 2- and a 1-byte word for what is left (key_size
 * mod key_word); h ^= h >> 15. The bucket's head word is heads[h & mask]:
 * the first element's address (& head_ptr_mask), bit head_more_bit set
 * when the chain has more than one element, the first element's hash >>
 * 16 in the bits from head_hash_shift up (neither matching: a miss). An
 * element: next (8 bytes, NULL ends the chain), hash (u32), the key, the
 * value; in an LRU map, the byte at ref_off is set to 1 by a lookup that
 * finds it 0. All offsets are from the element's address. Per-CPU maps
 * (percpu): the u32 at value_off is the element's number i, and the value
 * of worker slot c (NULL when c >= ncpus) is at pcpu + c * pcpu_bytes +
 * i * value_stride.
 */
struct sl_map_htab_jit {
	const void *heads;
	uint32_t mask, seed, key_size;
	uint8_t key_word;                 /**< 8 or 4 */
	bool lru;
	int32_t next_off, hash_off, ref_off, key_off, value_off;
	uint64_t head_ptr_mask;
	uint8_t head_more_bit, head_hash_shift;
	bool percpu;
	const void *pcpu;
	uint64_t pcpu_bytes;
	uint32_t value_stride, ncpus;
};

/**
 * Fill @p l for @p map: HASH, LRU_HASH, PERCPU_HASH, LRU_PERCPU_HASH.
 * Control thread (compile time); the table stays where it is for the
 * map's life. @return 0, or -ENOTSUP for any other map type.
 */
int sl_map_htab_jit(const struct sl_map *map, struct sl_map_htab_jit *l);

/* ---- control thread ----
 * As the kernel's syscall: maps created with BPF_F_RDONLY refuse
 * ctl_update/ctl_delete, maps with BPF_F_WRONLY refuse lookups, iteration
 * and dumps, with -EPERM.
 */

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
 * Visitor of sl_map_ctl_dump(): @p key (key_size bytes) and @p value in the
 * control-API layout (per-CPU maps: every slot packed). Both are copies
 * valid for the call only. Return 0 to go on, nonzero to stop the dump.
 */
typedef int (*sl_map_dump_cb)(const void *key, const void *value, void *ctx);

/**
 * Batch dump: call @p cb once per entry present (control thread; workers
 * may run). Each key is visited at most once per dump; entries inserted
 * or deleted during the dump may or may not be seen. Arrays visit every
 * index; DEVMAP only present entries; RINGBUF and PROG_ARRAY: see their
 * notes (ringbuf -EOPNOTSUPP; prog array visits set entries, value = id).
 * @return 0, the callback's nonzero value if it stopped, or -errno.
 */
int sl_map_ctl_dump(struct sl_map *map, sl_map_dump_cb cb, void *ctx);

#define SL_MAP_DUMP_END UINT64_MAX  /**< sl_map_ctl_dump_part(): the walk is over */

/**
 * A dump in parts (control thread), for a caller that spreads one dump
 * over several turns of its loop: visits entries from *@p cursor on (0 to
 * begin), stops after about @p max of them, and sets *@p cursor where the
 * next part goes on, or to SL_MAP_DUMP_END. Together the parts give what
 * one sl_map_ctl_dump() gives (each key at most once; entries changed
 * meanwhile may or may not be seen). HASH types resume by bucket; the
 * other types visit everything in their first part. The map must stay
 * alive between parts. @return as sl_map_ctl_dump() (0 for a part).
 */
int sl_map_ctl_dump_part(struct sl_map *map, uint64_t *cursor, uint32_t max, sl_map_dump_cb cb,
			 void *ctx);

/**
 * Sum of the per-CPU u64 values of @p key (per-CPU maps with value_size 8;
 * for other maps with value_size 8, the value itself). Control thread.
 * @return 0 with *sum set, -ENOENT (no such key), -EINVAL (value_size != 8).
 */
int sl_map_ctl_sum_u64(struct sl_map *map, const void *key, uint64_t *sum);

/**
 * Number of entries present (control thread): exact for hash and LPM
 * maps (their entry counter), max_entries for arrays, the present
 * entries for DEVMAP and PROG_ARRAY.
 */
uint64_t sl_map_ctl_count(struct sl_map *map);

/* ---- quiescent-state based reclamation (workers) ----
 *
 * HASH / LRU / LPM maps free deleted elements only after every online
 * worker has called sl_map_quiescent() since the deletion. Threads that
 * never call sl_map_worker_online() are not waited for: offline tools and
 * single-threaded tests get immediate reclamation, which is safe as long
 * as they hold no map pointer across their own deletes.
 */

/**
 * Register the calling thread as worker slot @p cpu (0..SL_MAX_CPUS-1):
 * sets sl_map_cpu and marks the slot online (holding map pointers).
 * @return 0, or -EINVAL when @p cpu is out of range.
 */
int sl_map_worker_online(uint32_t cpu);

/** The calling worker holds no map pointer any more and stops being waited for. */
void sl_map_worker_offline(void);

/**
 * Mark the calling worker quiescent: it holds no pointer into any map.
 * Workers call it once per burst; memory freed by deletes is reclaimed
 * once every worker has passed such a point. No-op for threads that are
 * not online. Worker, lock-free (one load, one store).
 */
void sl_map_quiescent(void);

/**
 * Wait until every online worker has passed a quiescent state (control
 * thread; never call it from an online worker). Use before freeing
 * anything workers may still hold, e.g. a program replaced in a
 * PROG_ARRAY.
 */
void sl_map_synchronize(void);

/* ---- PROG_ARRAY (tail calls) ---- */

struct sl_prog;

/**
 * Set entry @p index of a PROG_ARRAY to @p prog (NULL clears it). @p id
 * is what the control API reads back as the u32 value (the kernel gives
 * prog ids). The map does not own the program: keep it alive until it is
 * replaced and sl_map_synchronize() has returned. Control thread.
 * @return 0, -EINVAL (not a PROG_ARRAY), -E2BIG (index >= max_entries).
 */
int sl_map_prog_array_set(struct sl_map *map, uint32_t index, struct sl_prog *prog, uint32_t id);

/** Resolver of u32 values written to a PROG_ARRAY through sl_map_ctl_update(). */
typedef struct sl_prog *(*sl_prog_resolver_fn)(uint32_t id, void *ctx);

/**
 * Let sl_map_ctl_update() on PROG_ARRAY @p map accept u32 values: @p fn
 * maps a value (a program id chosen by the caller) to a program, or NULL
 * (the update then fails with -EBADF). Without a resolver such updates
 * fail with -EOPNOTSUPP. Control thread. @return 0, -EINVAL (not a PROG_ARRAY).
 */
int sl_map_prog_array_set_resolver(struct sl_map *map, sl_prog_resolver_fn fn, void *ctx);

/**
 * Data path of bpf_tail_call: program at @p index, or NULL (out of range,
 * empty, not a PROG_ARRAY). Worker, lock-free.
 */
struct sl_prog *sl_map_prog_array_get(struct sl_map *map, uint32_t index);

/* ---- DEVMAP / DEVMAP_HASH / XSKMAP / CPUMAP ---- */

/**
 * Redirect target of @p key in a DEVMAP (u32 index), DEVMAP_HASH (u32
 * key) or XSKMAP (u32 index): the port; in a CPUMAP: the worker index,
 * which is @p key itself when the entry is set. 0 with *ifindex set,
 * -ENOENT when absent, -EINVAL for other map types. Worker, lock-free
 * (used by bpf_redirect_map; the caller tells the kinds apart by the
 * map's type).
 */
int sl_map_devmap_get(struct sl_map *map, uint32_t key, uint32_t *ifindex);

/**
 * sl_map_devmap_get() in one return value, for bpf_redirect_map's data
 * path: the port (or CPUMAP worker) >= 0, -ENOENT when absent, -EINVAL
 * for other map types. Worker, lock-free.
 */
int64_t sl_map_redirect_target(struct sl_map *map, uint32_t key);

/**
 * Where a DEVMAP / XSKMAP / CPUMAP keeps its entries, for JIT code that
 * reads them in place (jit/redirect.c): entry i (< *max) is set when
 * present[i] != 0 (read it first: the control thread publishes it with
 * release after the entry), and its 8-byte word vals[i] holds the port
 * (CPUMAP: the qsize) in its low 4 bytes. The arrays never move.
 * @return 0, or -EINVAL for other map types (DEVMAP_HASH included).
 */
int sl_map_devmap_layout(struct sl_map *map, const uint64_t **vals, const uint8_t **present,
			 uint32_t *max);

/**
 * Who accepts CPUMAP entry programs (bpf_cpumap_val.bpf_prog, an id):
 * @p check returns 0 when @p id names a program that may run on a CPUMAP
 * entry, else -errno (the update fails with it). Without a check, entries
 * with a program fail with -EOPNOTSUPP. Control thread.
 * @return 0, or -EINVAL when @p map is not a CPUMAP.
 */
int sl_map_cpumap_set_prog_check(struct sl_map *map, int (*check)(uint32_t id, void *ctx),
				 void *ctx);

/**
 * A CPUMAP entry: its qsize and program id (0: none). 0, or -ENOENT when
 * the entry is empty, -EINVAL for other map types. Worker, lock-free.
 */
int sl_map_cpumap_get(struct sl_map *map, uint32_t key, uint32_t *qsize, uint32_t *prog_id);

/* ---- ARRAY_OF_MAPS / HASH_OF_MAPS ---- */

/**
 * Create an ARRAY_OF_MAPS or HASH_OF_MAPS (value_size 4; ARRAY_OF_MAPS
 * key_size 4) whose inner maps follow @p inner (the kernel's inner map
 * template: type, key and value size, flags, and max_entries unless
 * @p inner has BPF_F_INNER_MAP). sl_map_create() refuses these types.
 * Control thread; allocates. @return the map, or NULL with errno EINVAL
 * (bad definition, inner map-in-map), ENOTSUP, ENOMEM.
 */
struct sl_map *sl_map_create_outer(const char *name, const struct sl_map_def *def,
				   const struct sl_map_def *inner, unsigned ncpus);

/**
 * The template of an outer map (an empty map of the inner definition,
 * owned by @p map), or NULL for other types. The verifier checks uses of
 * looked-up inner maps against it.
 */
struct sl_map *sl_map_inner_template(const struct sl_map *map);

/**
 * Set entry @p key of an outer map to @p inner (NULL deletes it); @p id is
 * the u32 the control API reads back (the kernel gives map ids). Programs
 * see the new map from their next lookup. The outer map does not own
 * @p inner: keep it alive until it is replaced and sl_map_synchronize()
 * has returned. Control thread.
 * @return 0, -EINVAL (not an outer map, or @p inner does not fit the
 *         template), -E2BIG (index >= max_entries, or the hash is full),
 *         -ENOENT (deleting an absent entry), -ENOMEM.
 */
int sl_map_outer_set(struct sl_map *map, const void *key, struct sl_map *inner, uint32_t id);

/**
 * Let sl_map_ctl_update() on outer map @p map take u32 values: @p fn maps a
 * value (a map id chosen by the caller) to a map, or NULL (the update then
 * fails with -EBADF). Without a resolver such updates fail with
 * -EOPNOTSUPP. Control thread. @return 0, -EINVAL (not an outer map).
 */
int sl_map_outer_set_resolver(struct sl_map *map, struct sl_map *(*fn)(uint32_t id, void *ctx),
			      void *ctx);

/* ---- RINGBUF ---- */

/** Record visitor of sl_map_ringbuf_consume(); return nonzero to stop after it. */
typedef int (*sl_map_ringbuf_cb)(const void *data, uint32_t len, void *ctx);

/**
 * Consume submitted records in order (control thread, one consumer per
 * ring). Stops at the first record still being written (reserved, not yet
 * submitted or discarded); discarded records are skipped silently.
 * @return records handed to @p cb, or -EINVAL (not a RINGBUF).
 */
long sl_map_ringbuf_consume(struct sl_map *map, sl_map_ringbuf_cb cb, void *ctx);

/** Reservations (and outputs) refused because the ring was full, so far; 0 for other maps. */
uint64_t sl_map_ringbuf_dropped(struct sl_map *map);

/** Bytes reserved and not yet consumed (control thread; a snapshot). */
uint64_t sl_map_ringbuf_avail(struct sl_map *map);

/**
 * bpf_ringbuf_query: BPF_RB_AVAIL_DATA (bytes not consumed), BPF_RB_RING_SIZE,
 * BPF_RB_CONS_POS, BPF_RB_PROD_POS; 0 for other flags or map types. A snapshot.
 */
uint64_t sl_map_ringbuf_query(struct sl_map *map, uint64_t flags);
/** Data path: bpf_ringbuf_reserve; NULL when full, size too big or flags != 0. */
void *sl_map_ringbuf_reserve(struct sl_map *map, uint64_t size, uint64_t flags);
/** Data path: bpf_ringbuf_submit of a pointer from sl_map_ringbuf_reserve(). */
void sl_map_ringbuf_submit(void *data, uint64_t flags);
/** Data path: bpf_ringbuf_discard of a pointer from sl_map_ringbuf_reserve(). */
void sl_map_ringbuf_discard(void *data, uint64_t flags);
/** Data path: bpf_ringbuf_output; 0, -EAGAIN (full), -EINVAL (flags, map type). */
long sl_map_ringbuf_output(struct sl_map *map, const void *data, uint64_t size, uint64_t flags);

/* ---- PERF_EVENT_ARRAY ---- */

/** Bytes of records per worker slot of a PERF_EVENT_ARRAY (a power of 2). */
#define SL_PERF_RING_SIZE (256u << 10)

/**
 * Sample visitor of sl_map_perf_event_consume(): the worker slot that wrote it,
 * the sample (bpf_perf_event_output's data, then the packet bytes it
 * asked for; exactly that many bytes, where the kernel's reader sees the
 * raw size rounded up so that size + 4 is a multiple of 8), valid for the
 * call only. Return nonzero to stop after it.
 */
typedef int (*sl_map_perf_event_cb)(uint32_t cpu, const void *data, uint32_t len, void *ctx);

/**
 * Data path (bpf_perf_event_output): append one sample of @p size bytes of
 * @p data followed by @p extra_size bytes of @p extra to the ring of slot
 * @p index (BPF_F_CURRENT_CPU: this worker's, sl_map_cpu). Worker,
 * lock-free; the only writer of its slot.
 * @return 0, -E2BIG (index >= max_entries, or a sample too large for a
 *         ring / perf record), -ENOENT (no ring at that index: >= ncpus),
 *         -EOPNOTSUPP (another worker's index), -ENOSPC (ring full: the
 *         sample is counted as lost), -EINVAL (not a PERF_EVENT_ARRAY).
 */
long sl_map_perf_event_output(struct sl_map *map, uint64_t index, const void *data, uint64_t size,
			  const void *extra, uint64_t extra_size);

/**
 * Hand every sample written so far to @p cb, slot by slot, each slot's in
 * order (control thread, one consumer; workers may write meanwhile).
 * @return samples handed to @p cb, or -EINVAL (not a PERF_EVENT_ARRAY).
 */
long sl_map_perf_event_consume(struct sl_map *map, sl_map_perf_event_cb cb, void *ctx);

/** Samples lost so far (rings full), all slots together; 0 for other maps. */
uint64_t sl_map_perf_event_lost(struct sl_map *map);

#endif /* SL_MAPS_H */
