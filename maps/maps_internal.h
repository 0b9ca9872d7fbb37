/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * maps/ internals: the map header every type embeds, the per-type ops
 * table, the quiescent-state reclamation (rcu.c) shared by the types that
 * free memory under readers (hash, lpm), and small helpers.
 */
#ifndef SL_MAPS_INTERNAL_H
#define SL_MAPS_INTERNAL_H

#include <errno.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "sl_maps.h"

#define SL_CACHE_LINE 64
#define SL_ROUND_UP(x, a) (((x) + (a) - 1) / (a) * (a))
#define SL_CONTAINER_OF(p, type, member) \
	((type *)(void *)((char *)(p) - offsetof(type, member)))

struct sl_map;

/**
 * Operations of one map type. Data-path entries run on workers without
 * locks or allocation; ctl_* entries run on the control thread, which is
 * not a registered reader: they must not read memory that a concurrent
 * delete may free without holding the writer lock covering it, or a read
 * section (map_rcu_read_begin(), below). An entry
 * left NULL means "not supported by this type" (-EOPNOTSUPP / NULL),
 * except ctl_lookup/ctl_update/ctl_delete which default to the data-path
 * entries plus a copy (map.c).
 */
struct sl_map_ops {
	/** Check def beyond the common checks; -EINVAL when the kernel refuses it. */
	int (*check)(const struct sl_map_def *def, unsigned ncpus);
	/**
	 * Bytes a map of @p def reserves once full (sl_map_mem_cost()); NULL:
	 * max_entries * (key_size + value_size rounded up to 8) per slot.
	 */
	uint64_t (*mem_cost)(const struct sl_map_def *def, unsigned ncpus);
	/** Allocate the type's struct (embedding struct sl_map first), zeroed. */
	struct sl_map *(*alloc)(const struct sl_map_def *def, unsigned ncpus);
	void (*free)(struct sl_map *map);
	void *(*lookup)(struct sl_map *map, const void *key);
	long (*update)(struct sl_map *map, const void *key, const void *value, uint64_t flags);
	long (*delete)(struct sl_map *map, const void *key);
	void *(*lookup_percpu)(struct sl_map *map, const void *key, uint32_t cpu);
	/**
	 * The JIT's direct calls for this map (sl_map_jit_fns()): lookup,
	 * update and delete specialised for it (key size), each with the
	 * contract of the op it stands for; NULL: the ops themselves.
	 */
	void (*jit_fns)(const struct sl_map *map, struct sl_map_jit_fns *fns);
	int (*ctl_lookup)(struct sl_map *map, const void *key, void *value);
	int (*ctl_update)(struct sl_map *map, const void *key, const void *value, uint64_t flags);
	int (*ctl_delete)(struct sl_map *map, const void *key);
	int (*get_next_key)(struct sl_map *map, const void *key, void *next_key);
	/** Entries present, exact (NULL: counted with dump). */
	uint64_t (*count)(struct sl_map *map);
	/** Visit every entry once (control thread); see sl_map_ctl_dump(). */
	int (*dump)(struct sl_map *map, sl_map_dump_cb cb, void *ctx);
	/** Part of a dump from *cursor (sl_map_ctl_dump_part()); NULL: dump does it all at once. */
	int (*dump_part)(struct sl_map *map, uint64_t *cursor, uint32_t max, sl_map_dump_cb cb,
			 void *ctx);
};

/** The part of every map that map.c knows; each type embeds it first. */
struct sl_map {
	const struct sl_map_ops *ops;
	struct sl_map_def def;
	unsigned ncpus;
	uint32_t value_stride;   /**< value_size rounded up to 8 */
	char name[SL_MAP_NAME_LEN];
};

/* ops tables, one per file */
extern const struct sl_map_ops array_map_ops;
extern const struct sl_map_ops percpu_array_map_ops;
extern const struct sl_map_ops hash_map_ops;
extern const struct sl_map_ops percpu_hash_map_ops;
extern const struct sl_map_ops lru_hash_map_ops;
extern const struct sl_map_ops lru_percpu_hash_map_ops;
extern const struct sl_map_ops devmap_hash_map_ops;
extern const struct sl_map_ops lpm_map_ops;
extern const struct sl_map_ops prog_array_map_ops;
extern const struct sl_map_ops devmap_map_ops;
extern const struct sl_map_ops ringbuf_map_ops;
extern const struct sl_map_ops perf_event_map_ops;
extern const struct sl_map_ops outer_map_ops;
extern const struct sl_map_ops xskmap_map_ops;
extern const struct sl_map_ops cpumap_map_ops;

/** sl_map_create() for every type, outer maps too (their template is set after). */
struct sl_map *map_create_checked(const char *name, const struct sl_map_def *def,
				     unsigned ncpus);

#define SL_HUGE_PAGE (2u << 20)
#define SL_HUGE_MIN (1u << 20)

/**
 * Cache-line aligned, zeroed allocation (no EAL needed); from SL_HUGE_MIN
 * bytes up, 2 MB aligned and advised to transparent huge pages, so that
 * big tables cost fewer TLB misses. Free with free(). NULL on failure.
 */
void *map_zalloc(size_t size);

/**
 * Whether the @p n-byte keys @p a and @p b are equal, as hash maps compare
 * them once their hashes match (maps/hash.c; for tests, which cannot make
 * hashes collide at will).
 */
bool map_htab_keys_equal(const void *a, const void *b, uint32_t n);

/**
 * Zeroed memory for a table that grows with max_entries: from SL_HUGE_MIN
 * bytes up, anonymous memory reserved without backing (MAP_NORESERVE),
 * 2 MB aligned and advised to transparent huge pages: it costs only the
 * pages that are written (reads of untouched pages share the zero page).
 * Smaller sizes come from map_zalloc(). Free with map_lazy_free() and the
 * same size. NULL on failure.
 */
void *map_lazy_alloc(size_t size);
/** Free what map_lazy_alloc(@p size) returned. NULL is allowed. */
void map_lazy_free(void *p, size_t size);

/* ---- quiescent-state based reclamation (rcu.c) ---- */

/** Deferred-free node embedded in objects freed under readers. */
struct sl_rcu_node {
	struct sl_rcu_node *next;
	uint64_t epoch;          /**< retirement epoch: reusable once every reader passed it */
};

/**
 * Open a new grace period: returns the retirement epoch to tag an object
 * that has just been unlinked (every reader that can still see it holds
 * an older epoch). Any thread.
 */
uint64_t map_rcu_retire_epoch(void);

/**
 * True when an object retired with @p epoch can be reused or freed: every
 * online reader has passed a quiescent state since. Any thread, no locks.
 */
bool map_rcu_safe(uint64_t epoch);

/**
 * Smallest epoch an online reader holds (UINT64_MAX when none): objects
 * retired with epoch <= it are reusable. One scan for a batch of checks.
 */
uint64_t map_rcu_min_epoch(void);

/**
 * A read section of a thread that is not an online worker (the control
 * thread): until map_rcu_read_end(), nothing retired from now on is
 * reused, so the thread may walk chains lock-free, as a worker's lookup
 * does. False (nothing to end) when every reader slot is taken: read under
 * the writer locks instead. An online worker is always inside one (true).
 * Keep it short: it holds back reuse for every map. Never nested, never
 * around sl_map_synchronize().
 */
bool map_rcu_read_begin(void);
/** End the calling thread's read section (nothing if it has none). */
void map_rcu_read_end(void);

/*
 * The calling thread's worker slot (sl_map_worker_online()), or -1 for a
 * thread that is not an online worker (control thread, offline tools).
 * Unlike sl_map_cpu, a slot belongs to one thread at a time.
 */
extern __thread int map_rcu_slot __attribute__((tls_model("initial-exec")));
static inline int map_rcu_worker_slot(void)
{
	return map_rcu_slot;
}

/** Simple test-and-test-and-set spinlock for writers (never readers). */
typedef struct { atomic_int v; } sl_spinlock_t;

static inline void sl_spin_lock(sl_spinlock_t *l)
{
	for (;;) {
		if (!atomic_exchange_explicit(&l->v, 1, memory_order_acquire))
			return;
		while (atomic_load_explicit(&l->v, memory_order_relaxed))
			__builtin_ia32_pause();
	}
}

static inline bool sl_spin_trylock(sl_spinlock_t *l)
{
	return !atomic_load_explicit(&l->v, memory_order_relaxed) &&
	       !atomic_exchange_explicit(&l->v, 1, memory_order_acquire);
}

static inline void sl_spin_unlock(sl_spinlock_t *l)
{
	atomic_store_explicit(&l->v, 0, memory_order_release);
}

/**
 * Copy @p n bytes out of a value other threads may be writing: 8-byte
 * words (and the tail bytes) are read with relaxed atomic loads, so a u64
 * counter is never torn and the race is a defined one. @p src is 8-byte
 * aligned (values are); @p dst may be anything.
 */
static inline void sl_read_shared(void *dst, const void *src, size_t n)
{
	const uint64_t *s8 = src;
	uint8_t *d = dst;

	for (; n >= 8; n -= 8, d += 8, s8++) {
		uint64_t w = __atomic_load_n(s8, __ATOMIC_RELAXED);

		memcpy(d, &w, 8);
	}
	for (const uint8_t *s1 = (const uint8_t *)s8; n; n--)
		*d++ = __atomic_load_n(s1++, __ATOMIC_RELAXED);
}

/** The converse of sl_read_shared(): @p dst (8-byte aligned) is shared. */
static inline void sl_write_shared(void *dst, const void *src, size_t n)
{
	uint64_t *d8 = dst;
	const uint8_t *s = src;

	for (; n >= 8; n -= 8, s += 8, d8++) {
		uint64_t w;

		memcpy(&w, s, 8);
		__atomic_store_n(d8, w, __ATOMIC_RELAXED);
	}
	for (uint8_t *d1 = (uint8_t *)d8; n; n--)
		__atomic_store_n(d1++, *s++, __ATOMIC_RELAXED);
}

/** Kernel flag check of update: BPF_ANY, BPF_NOEXIST or BPF_EXIST only. */
static inline bool sl_update_flags_ok(uint64_t flags)
{
	return flags <= BPF_EXIST;
}

/**
 * The u32 index a key holds. Keys come from program memory at any
 * alignment (a stack slot, a packet), so they are read with memcpy (one
 * plain load on x86-64), never through a uint32_t pointer.
 */
static inline uint32_t sl_key_u32(const void *key)
{
	uint32_t v;

	memcpy(&v, key, sizeof(v));
	return v;
}

/**
 * get_next_key of maps indexed by u32 0..max-1 (arrays, prog arrays,
 * devmaps), in the kernel's order: a NULL or out-of-range key gives 0, the
 * last index gives -ENOENT. Control thread.
 */
static inline int sl_index_next_key(uint32_t max, const void *key, void *next_key)
{
	uint32_t i = key ? sl_key_u32(key) : UINT32_MAX;

	if (i >= max) {
		*(uint32_t *)next_key = 0;
		return 0;
	}
	if (i == max - 1)
		return -ENOENT;
	*(uint32_t *)next_key = i + 1;
	return 0;
}

#endif /* SL_MAPS_INTERNAL_H */
