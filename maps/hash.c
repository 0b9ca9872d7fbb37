/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * maps/hash.c: BPF_MAP_TYPE_HASH, PERCPU_HASH, LRU_HASH, LRU_PERCPU_HASH
 * and DEVMAP_HASH: one chained hash table with preallocated elements.
 *
 * Layout
 *   heads[nbuckets]   chain heads (nbuckets = 2 * max_entries rounded up to
 *                     a power of 2), each one word carrying the first
 *                     element's hash bits so that most misses read nothing
 *                     else, and in bit 0 the bucket's writer spinlock (a
 *                     writer holds one at a time): a write misses the cache
 *                     once for the bucket, not once more for a lock kept
 *                     apart (readers ignore the bit; taking it dirties the
 *                     head's line, which a write of the chain does anyway
 *                     in most cases)
 *   elements          max_entries + spare, reserved at creation (also
 *                     with BPF_F_NO_PREALLOC, which sluice accepts and
 *                     ignores: the data path never allocates) but touched
 *                     only when used: big tables are lazily backed anonymous
 *                     memory (map_lazy_alloc), elements are handed out from
 *                     a never-used watermark before the free stack fills,
 *                     so a big map costs what its entries touch
 *   retired ring      element numbers awaiting a grace period (4 bytes
 *                     each), tagged by batches of up to RET_BATCH with the
 *                     epoch of the batch's latest member (conservative)
 *   per-CPU values    PERCPU types: one region per worker slot, value of
 *                     element i for slot c at pcpu + c*pcpu_bytes + i*stride,
 *                     so workers never share cache lines
 * Hash: CRC32-C (SSE4.2 crc32 instruction) of the key with a per-map seed.
 * Lookups, worker updates and deletes are compiled once per common key
 * size (HTAB_KEY_SIZES: every size up to 16 bytes and some larger ones)
 * with hashing, comparison and key copy unrolled; a map calls the set of
 * its size through a pointer, the JIT calls them directly. Keys are read
 * as words that never overlap (hash_sized()), never with a memcmp call.
 *
 * Concurrency
 *   - Lookups take no lock: an RCU-style walk of the chain with acquire
 *     loads. A published element's key is never modified by the map
 *     again, nor, for shared types with values over 8 bytes, its value:
 *     readers never see a torn value written by an update. Shared values
 *     of at most 8 bytes are updated in place (below) with one atomic
 *     8-byte store: a reader sees the old or the new value, never a mix.
 *   - Writers (workers or the control thread) take the bucket's spinlock
 *     for the chain edit only. An update of an existing key with a value
 *     over 8 bytes builds a new element and swaps it into the old one's
 *     place with one release store (old->next is left intact for readers
 *     standing on it); an insert pushes at the head; a delete bypasses
 *     the element. No insert is lost: chain edits are serialised per
 *     bucket. The walk under the lock finds the element and the one
 *     before it at once (no second walk to relink).
 *   - In place (t->in_place: PERCPU types, and shared values of at most 8
 *     bytes): a worker's update of an existing key (BPF_ANY, BPF_EXIST)
 *     finds it lock-free and writes the value where it is, as the kernel
 *     does for per-CPU maps: its own slot (only that worker writes it), or
 *     the one word. A worker is an RCU reader, so the element cannot be
 *     reused under the write; if it is unlinked meanwhile, the update is
 *     ordered before that delete or replacement. The control thread (no
 *     RCU reader) does the same under the bucket lock, every slot word by
 *     word. Workers also fail BPF_NOEXIST of a key they find, and
 *     BPF_EXIST of one they do not, without a lock or a new element, and
 *     a delete of a key they do not find (-ENOENT) without a lock.
 *   - Unlinked elements are retired with an epoch (rcu.c) and reused only
 *     after every online worker has called sl_map_quiescent(); elements
 *     come from a pool (pool spinlock, writers only). The pool has spare
 *     elements beyond max_entries for those awaiting reuse; a worker that
 *     finds none ready gets -EBUSY (bounded by SPARE per worker per
 *     burst), the control thread waits for a grace period instead.
 *   - Per-worker element caches: an online worker (sl_map_worker_online,
 *     one thread per slot) keeps up to CPU_CACHE free element numbers, a
 *     batch of up to RET_BATCH retired ones, and a ring of CPU_BATCHES
 *     sealed batches, in memory of the map that no other thread touches.
 *     A full batch is sealed with one epoch (taken at sealing: later than
 *     each member's unlink, so conservative; one global epoch increment
 *     per batch). A worker whose free list runs out takes its own oldest
 *     sealed batch once every reader is done with it (no lock: in steady
 *     traffic, a worker's updates recycle its own elements), else takes
 *     the pool lock and refills to CPU_CACHE / 2. A sealed batch pushed
 *     out of a full ring goes to the pool (its free stack if already
 *     reusable, else the retired ring). The control thread and threads
 *     that are not online workers use the pool directly. A cache holds at
 *     most CPU_CACHE + RET_BATCH * (CPU_BATCHES + 1) elements; a worker
 *     that goes offline for good strands them, which the spare
 *     (SPARE_PER_CPU per slot) covers.
 *   - The entry count is reserved with a CAS before an insert links its
 *     element, so max_entries holds exactly across buckets (-E2BIG).
 *   - LRU types: lookups set a reference bit; an insert into a full map
 *     evicts by a clock sweep over the elements (approximate LRU, as the
 *     kernel's) with no bucket lock held, then retries, so updates never
 *     fail with -E2BIG.
 *   - The control thread reads (lookup, get_next_key) under the lock of
 *     the bucket it reads, one bucket at a time and never inside a
 *     callback: it holds back neither reclamation nor other buckets.
 *     A dump reads lock-free instead, as lookups do, inside a short read
 *     section (rcu.c) per chunk of buckets: it writes no head word (a
 *     dump that locked every bucket would take every line of heads a
 *     worker reads away from it, at every dump). Its callbacks run
 *     between chunks, outside the section. A dump sees each key at most
 *     once: a key stays in its bucket, an update replaces an element in
 *     place (a walk sees the old one or the new one), an insert goes in
 *     at the head (behind the walk), and a bucket is copied in one pass.
 */
#include <nmmintrin.h>
#include <sched.h>
#include <stdlib.h>
#include <time.h>

#include "maps_internal.h"

#define HTAB_FLAGS (BPF_F_NO_PREALLOC | BPF_F_NO_COMMON_LRU | BPF_F_NUMA_NODE | \
		    BPF_F_RDONLY | BPF_F_WRONLY | BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG | \
		    BPF_F_ZERO_SEED)
#define KEY_MAX 65536u         /* sanity bound (the kernel no longer limits keys to the stack) */
#define PERCPU_VALUE_MAX 32768u
#define SPARE_PER_CPU 1024u    /* elements awaiting reuse per writer (at least max/4) */
#define CTL_WAIT_NS 2000000000ull
#define LRU_TRIES 16           /* evictions an insert attempts before -EBUSY */
#define RET_BATCH 32u          /* retired elements sharing one epoch tag */
#define CPU_CACHE 32u          /* free element numbers a worker's cache holds */
#define CPU_BATCHES 8u         /* sealed retired batches a worker keeps for its own reuse */

/*
 * An element is only what readers touch: 16 bytes of header, the key
 * (rounded up to 8), then the value, or for per-CPU maps the element's
 * number (u32) that indexes the per-CPU value regions. Pool bookkeeping
 * lives in arrays of element numbers beside it.
 */
struct htab_elem {
	_Atomic(struct htab_elem *) next;  /* chain (readers) */
	_Atomic uint32_t hash;
	atomic_uchar ref;                  /* LRU: referenced since last sweep */
	atomic_uchar linked;               /* in a chain */
	uint8_t pad[2];
	uint8_t key[];
};

/* retired ring positions [previous batch's end, end) wait for epoch */
struct htab_batch {
	uint64_t epoch;
	uint32_t end;      /* free-running ring counter */
	uint32_t pad;
};

/* one online worker's element cache (only that worker touches it) */
struct htab_cpu {
	_Alignas(SL_CACHE_LINE) uint32_t nfree, nret;
	uint32_t bat_head, bat_tail;        /* ring of sealed batches (free-running) */
	uint32_t free[CPU_CACHE];
	uint32_t ret[RET_BATCH];            /* retired, not yet given an epoch */
	uint64_t bat_epoch[CPU_BATCHES];    /* sealed batches: epoch, members */
	uint32_t bat[CPU_BATCHES][RET_BATCH];
};
_Static_assert(RET_BATCH <= CPU_CACHE, "a sealed batch refills the free list in one copy");

struct sl_htab {
	struct sl_map map;
	uint32_t mask;                     /* nbuckets - 1 */
	uint32_t seed;
	uint32_t key_size;
	uint32_t value_off;                /* from elem->key */
	struct sl_map_jit_fns fns;         /* lookup/update/delete of key_size (htab_fns_for()) */
	uint32_t elem_size;
	uint32_t nelems;
	bool percpu, lru, devmap;
	bool plain;                        /* neither: a lookup returns the value at once */
	bool in_place;                     /* updates of existing keys write the value in place */
	_Atomic uint64_t *heads;           /* head words, see head_word() */
	uint8_t *elems;
	uint8_t *pcpu;
	size_t pcpu_bytes;
	_Alignas(SL_CACHE_LINE) sl_spinlock_t pool_lock;
	uint32_t *free_idx;                /* stack of free element numbers */
	uint32_t nfree;
	uint32_t fresh;                    /* elements >= fresh were never used */
	uint32_t *ret_idx;                 /* FIFO ring of ret_mask + 1 >= nelems numbers */
	uint32_t ret_head, ret_tail;       /* free-running counters */
	uint32_t ret_mask;
	struct htab_batch *batches;        /* FIFO ring of nbatches, epochs ascending */
	uint32_t nbatches, bat_head, bat_tail;
	uint32_t bat_mask;                 /* nbatches - 1 (rings: powers of 2, no division) */
	uint32_t idx_shift;                /* elem_index(): elem_size = inv_odd^-1 << idx_shift */
	uint64_t inv_odd;
	struct htab_cpu *cpus;             /* ncache per-worker caches */
	uint32_t ncache;
	_Alignas(SL_CACHE_LINE) _Atomic uint32_t count;
	_Alignas(SL_CACHE_LINE) _Atomic uint32_t hand;  /* LRU clock */
};

static inline struct sl_htab *to_htab(struct sl_map *m)
{
	return SL_CONTAINER_OF(m, struct sl_htab, map);
}

static inline struct htab_elem *elem_at(const struct sl_htab *t, uint32_t i)
{
	return (struct htab_elem *)(void *)(t->elems + (size_t)i * t->elem_size);
}

/* the writer lock of bucket b: bit 0 of its head word (test and test-and-set) */
static inline void bucket_lock(struct sl_htab *t, uint32_t b)
{
	_Atomic uint64_t *w = &t->heads[b];

	for (;;) {
		if (!(atomic_fetch_or_explicit(w, 1, memory_order_acquire) & 1))
			return;
		while (atomic_load_explicit(w, memory_order_relaxed) & 1)
			__builtin_ia32_pause();
	}
}

static inline void bucket_unlock(struct sl_htab *t, uint32_t b)
{
	uint64_t w = atomic_load_explicit(&t->heads[b], memory_order_relaxed);

	atomic_store_explicit(&t->heads[b], w & ~1ull, memory_order_release);
}

static inline uint32_t elem_index(const struct sl_htab *t, const struct htab_elem *e)
{
	/* an exact multiple of elem_size: shift out its power of 2, multiply by the inverse of its odd part */
	return (uint32_t)((((uint64_t)((const uint8_t *)e - t->elems)) >> t->idx_shift) * t->inv_odd);
}

static inline void *elem_value(const struct sl_htab *t, struct htab_elem *e, uint32_t cpu)
{
	if (t->percpu) {
		uint32_t idx = *(const uint32_t *)(const void *)(e->key + t->value_off);

		return t->pcpu + cpu * t->pcpu_bytes + (size_t)idx * t->map.value_stride;
	}
	return e->key + t->value_off;
}

/* ---- hashing and key comparison ---- */

/*
 * A key of n bytes is read as words, never past its end and never
 * overlapping: a size that is a multiple of 8 as 8-byte words; any other
 * as 4-byte words, then a 2- and a 1-byte word as the rest needs (6
 * bytes: 4 at 0, 2 at 4; 12 bytes: 4, 4, 4; 13: 4, 4, 4, 1). A program
 * builds its key on its stack just before the call, field by field (a
 * MAC as a 4- and a 2-byte store, addresses as 4-byte stores): a load
 * spanning two of those stores cannot take its bytes from the store
 * buffer and waits until both reach the cache (a store-to-load
 * forwarding stall, some 10-20 cycles), as 8-byte words and words
 * overlapping the one before (4 at 0 and 4 at 2 for a 6-byte key) did.
 * A C struct's size is a multiple of its alignment, so a key whose size
 * is not a multiple of 8 has no 8-byte field and its stores are at most
 * 4 bytes wide (or wider, merged by the compiler: a word inside one
 * store still forwards). Hashing and comparison read the same words:
 * unrolled straight-line code for a constant n, a short loop for another,
 * and no memcmp call for any size.
 */
/* the size of a key's words before its 2- and 1-byte rest (also sl_map_htab_jit()) */
static inline uint32_t key_word(uint32_t n)
{
	return n % 8 ? 4 : 8;
}

static inline uint64_t key_w8(const void *k, uint32_t i)
{
	uint64_t w;

	memcpy(&w, (const uint8_t *)k + i, 8);
	return w;
}

static inline uint32_t key_w4(const void *k, uint32_t i)
{
	uint32_t w;

	memcpy(&w, (const uint8_t *)k + i, 4);
	return w;
}

static inline uint16_t key_w2(const void *k, uint32_t i)
{
	uint16_t w;

	memcpy(&w, (const uint8_t *)k + i, 2);
	return w;
}

static inline __attribute__((always_inline)) uint32_t
hash_sized(const struct sl_htab *t, const void *key, uint32_t n)
{
	const uint8_t *k = key;
	uint64_t h = t->seed;
	uint32_t i = 0, n8 = key_word(n) == 8 ? n : 0, n4 = n & ~3u;

#pragma GCC unroll 8
	for (; i < n8; i += 8)
		h = _mm_crc32_u64(h, key_w8(k, i));
#pragma GCC unroll 16
	for (; i < n4; i += 4)
		h = _mm_crc32_u32((uint32_t)h, key_w4(k, i));
	if (n & 2)
		h = _mm_crc32_u16((uint32_t)h, key_w2(k, i)), i += 2;
	if (n & 1)
		h = _mm_crc32_u8((uint32_t)h, k[i]);
	return (uint32_t)h ^ (uint32_t)(h >> 15);
}

/*
 * The key sizes data-path functions are compiled for, with the size a
 * constant so that hashing, comparison and key copies unroll: every size
 * up to 16 bytes (addresses, MACs, IPv4 flow keys of 12 or 13 bytes), and
 * 20, 24, 32, 36, 40 (IPv6 5-tuple flow keys, katran's and flow tables'),
 * 48 and 64. Other sizes use the map's size read at run time.
 */
#define HTAB_KEY_SIZES(X) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11) X(12) \
	X(13) X(14) X(15) X(16) X(20) X(24) X(32) X(36) X(40) X(48) X(64)

/* control thread: the hash of a key (the data path's functions give the same) */
static inline uint32_t htab_hash(const struct sl_htab *t, const void *key)
{
	return hash_sized(t, key, t->key_size);
}

static inline __attribute__((always_inline)) bool key_eq(const void *a, const void *b,
							  uint32_t n)
{
	const uint8_t *x = a, *y = b;
	uint64_t d = 0;
	uint32_t i = 0, n8 = key_word(n) == 8 ? n : 0, n4 = n & ~3u;

#pragma GCC unroll 8
	for (; i < n8; i += 8)
		d |= key_w8(x, i) ^ key_w8(y, i);
#pragma GCC unroll 16
	for (; i < n4; i += 4)
		d |= key_w4(x, i) ^ key_w4(y, i);
	if (n & 2)
		d |= (uint32_t)(key_w2(x, i) ^ key_w2(y, i)), i += 2;
	if (n & 1)
		d |= (uint32_t)(x[i] ^ y[i]);
	return d == 0;
}

bool map_htab_keys_equal(const void *a, const void *b, uint32_t n)
{
	return key_eq(a, b, n);
}

/*
 * A bucket head is one word: the first element's address (bits 0-46),
 * MORE (bit 47: the chain has a second element) and the top 16 bits of
 * the first element's hash (bits 48-63). A lookup that misses a bucket
 * of one element, or an empty one, reads only this word. Writers rewrite
 * it, under the bucket lock, with every change of the first element or of
 * its next pointer being NULL or not.
 */
#define HEAD_MORE (1ull << 47)
#define HEAD_LOCK 1ull          /* bit 0: the bucket's writer lock (elements are 8-aligned) */
#define HEAD_PTR_MASK ((HEAD_MORE - 1) & ~HEAD_LOCK)

static inline struct htab_elem *head_elem(uint64_t w)
{
	return (struct htab_elem *)(uintptr_t)(w & HEAD_PTR_MASK);
}

static inline uint64_t head_word(struct htab_elem *e)
{
	if (!e)
		return 0;
	return (uintptr_t)e | (uint64_t)(atomic_load_explicit(&e->hash, memory_order_relaxed) >> 16) << 48 |
	       (atomic_load_explicit(&e->next, memory_order_relaxed) ? HEAD_MORE : 0);
}

static inline struct htab_elem *first(const struct sl_htab *t, uint32_t b)
{
	return head_elem(atomic_load_explicit(&t->heads[b], memory_order_acquire));
}

/* readers and writers: the element of key in bucket h, or NULL (ks: key size) */
static inline __attribute__((always_inline)) struct htab_elem *
find_sized(const struct sl_htab *t, uint32_t h, const void *key, uint32_t ks)
{
	uint64_t w = atomic_load_explicit(&t->heads[h & t->mask], memory_order_acquire);
	struct htab_elem *e = head_elem(w);

	if ((w >> 48) != (h >> 16) && !(w & HEAD_MORE))
		return NULL;  /* empty, or one element of another hash */
	for (; e; e = atomic_load_explicit(&e->next, memory_order_acquire))
		if (atomic_load_explicit(&e->hash, memory_order_relaxed) == h &&
		    key_eq(e->key, key, ks))
			return e;
	return NULL;
}

static inline struct htab_elem *find(const struct sl_htab *t, uint32_t h, const void *key)
{
	return find_sized(t, h, key, t->key_size);
}

/* ---- element pool ---- */

/* pool lock held: batches every reader is done with become free */
static void pool_reclaim(struct sl_htab *t)
{
	uint64_t min;

	if (t->bat_head == t->bat_tail)
		return;
	min = map_rcu_min_epoch();
	while (t->bat_head != t->bat_tail && t->batches[t->bat_head & t->bat_mask].epoch <= min) {
		uint32_t end = t->batches[t->bat_head++ & t->bat_mask].end;

		while (t->ret_head != end)
			t->free_idx[t->nfree++] = t->ret_idx[t->ret_head++ & t->ret_mask];
	}
}

/* pool lock held: a free element's number, or UINT32_MAX */
static uint32_t pool_take_locked(struct sl_htab *t)
{
	uint32_t i;

	if (!t->nfree)
		pool_reclaim(t);
	if (t->nfree)
		return t->free_idx[--t->nfree];
	if (t->fresh == t->nelems)
		return UINT32_MAX;
	i = t->fresh++;   /* never used before */
	if (t->percpu)    /* its per-CPU value slots: set once, kept across reuse */
		*(uint32_t *)(void *)(elem_at(t, i)->key + t->value_off) = i;
	return i;
}

/*
 * Pool lock held: the n elements of idx wait for a grace period from
 * epoch. They join the last batch while that holds fewer than RET_BATCH
 * (raising the batch's epoch: its older members wait a little longer,
 * never less), else open a batch. Every batch but the last holds at least
 * RET_BATCH, so nelems / RET_BATCH + 2 batches suffice.
 */
static void retire_locked(struct sl_htab *t, const uint32_t *idx, uint32_t n, uint64_t epoch)
{
	struct htab_batch *last;

	for (uint32_t i = 0; i < n; i++)
		t->ret_idx[t->ret_tail++ & t->ret_mask] = idx[i];
	last = t->bat_head != t->bat_tail ? &t->batches[(t->bat_tail - 1) & t->bat_mask] : NULL;
	if (last && last->end - (t->bat_tail - 1 == t->bat_head ? t->ret_head :
				  t->batches[(t->bat_tail - 2) & t->bat_mask].end) < RET_BATCH) {
		last->end = t->ret_tail;
		if (epoch > last->epoch)
			last->epoch = epoch;
	} else {
		t->batches[t->bat_tail++ & t->bat_mask] = (struct htab_batch){
			.epoch = epoch, .end = t->ret_tail };
	}
}

/* pool lock held: a worker's cache filled to CPU_CACHE / 2, from the free stack in one copy */
static void cache_refill_locked(struct sl_htab *t, struct htab_cpu *pc)
{
	uint32_t want = CPU_CACHE / 2 - pc->nfree, k, idx;

	if (!t->nfree)
		pool_reclaim(t);
	k = t->nfree < want ? t->nfree : want;
	t->nfree -= k;
	memcpy(pc->free + pc->nfree, t->free_idx + t->nfree, k * sizeof(*pc->free));
	pc->nfree += k;
	while (pc->nfree < CPU_CACHE / 2 && (idx = pool_take_locked(t)) != UINT32_MAX)
		pc->free[pc->nfree++] = idx;   /* never-used elements */
}

/* the calling online worker's cache, or NULL (control thread, other threads) */
static inline struct htab_cpu *own_cache(const struct sl_htab *t, bool ctl)
{
	int slot = map_rcu_worker_slot();

	return !ctl && slot >= 0 && (uint32_t)slot < t->ncache ? &t->cpus[slot] : NULL;
}

/* the worker's oldest sealed batch, once every reader is done with it, becomes its free list */
static bool cache_reuse(struct htab_cpu *pc)
{
	uint32_t i;

	if (pc->bat_head == pc->bat_tail ||
	    pc->bat_epoch[pc->bat_head % CPU_BATCHES] > map_rcu_min_epoch())
		return false;
	i = pc->bat_head++ % CPU_BATCHES;
	memcpy(pc->free + pc->nfree, pc->bat[i], sizeof(pc->bat[i]));
	pc->nfree += RET_BATCH;
	return true;
}

/* pool_get() when the worker's free list is empty (pc) or for other threads (no pc) */
static __attribute__((noinline)) struct htab_elem *pool_get_slow(struct sl_htab *t,
								 struct htab_cpu *pc)
{
	uint32_t idx;

	if (pc && cache_reuse(pc))
		return elem_at(t, pc->free[--pc->nfree]);
	sl_spin_lock(&t->pool_lock);
	if (pc) {
		cache_refill_locked(t, pc);
		idx = pc->nfree ? pc->free[--pc->nfree] : UINT32_MAX;
	} else {
		idx = pool_take_locked(t);
	}
	sl_spin_unlock(&t->pool_lock);
	return idx == UINT32_MAX ? NULL : elem_at(t, idx);
}

/*
 * An element: from the worker's free list, else its own oldest sealed
 * batch once reusable, else the pool (the free list refilled to CPU_CACHE
 * / 2); other threads take from the pool.
 */
static inline struct htab_elem *pool_get(struct sl_htab *t, struct htab_cpu *pc)
{
	if (pc && pc->nfree)
		return elem_at(t, pc->free[--pc->nfree]);
	return pool_get_slow(t, pc);
}

/* an element that was never published goes straight back */
static void pool_put(struct sl_htab *t, struct htab_cpu *pc, struct htab_elem *e)
{
	uint32_t idx = elem_index(t, e);

	if (pc && pc->nfree < CPU_CACHE) {
		pc->free[pc->nfree++] = idx;
		return;
	}
	sl_spin_lock(&t->pool_lock);
	t->free_idx[t->nfree++] = idx;
	sl_spin_unlock(&t->pool_lock);
}

/*
 * A worker's full batch of retirements gets one (current) epoch and joins
 * its ring of sealed batches; when the ring is full, its oldest batch goes
 * to the pool: to the free stack when every reader is done with it, else
 * to the retired ring with its epoch (a batch behind a later one waits for
 * that one too: conservative).
 */
static __attribute__((noinline)) void cache_seal(struct sl_htab *t, struct htab_cpu *pc)
{
	uint32_t i;

	if (pc->bat_tail - pc->bat_head == CPU_BATCHES) {
		i = pc->bat_head++ % CPU_BATCHES;
		sl_spin_lock(&t->pool_lock);
		if (pc->bat_epoch[i] <= map_rcu_min_epoch()) {
			memcpy(t->free_idx + t->nfree, pc->bat[i], sizeof(pc->bat[i]));
			t->nfree += RET_BATCH;
		} else {
			retire_locked(t, pc->bat[i], RET_BATCH, pc->bat_epoch[i]);
		}
		sl_spin_unlock(&t->pool_lock);
	}
	i = pc->bat_tail++ % CPU_BATCHES;
	memcpy(pc->bat[i], pc->ret, sizeof(pc->ret));
	pc->bat_epoch[i] = map_rcu_retire_epoch();
	pc->nret = 0;
}

/* an unlinked element waits for a grace period (a worker's: batched in its cache) */
static inline void pool_retire(struct sl_htab *t, struct htab_cpu *pc, struct htab_elem *e)
{
	uint32_t idx = elem_index(t, e);

	if (pc) {
		pc->ret[pc->nret++] = idx;
		if (pc->nret == RET_BATCH)
			cache_seal(t, pc);
		return;
	}
	sl_spin_lock(&t->pool_lock);
	retire_locked(t, &idx, 1, map_rcu_retire_epoch());
	sl_spin_unlock(&t->pool_lock);
}

/* ---- chain edits (bucket lock held) ---- */

static void set_head(struct sl_htab *t, uint32_t b, struct htab_elem *e)
{
	atomic_store_explicit(&t->heads[b], head_word(e) | HEAD_LOCK, memory_order_release);
}

/* whether e is in bucket b; *pred = the element before it (NULL: e is first) */
static bool locate(struct sl_htab *t, uint32_t b, struct htab_elem *e, struct htab_elem **pred)
{
	struct htab_elem *cur = head_elem(atomic_load_explicit(&t->heads[b], memory_order_relaxed));

	for (*pred = NULL; cur; *pred = cur,
	     cur = atomic_load_explicit(&cur->next, memory_order_relaxed))
		if (cur == e)
			return true;
	return false;
}

static void unlink_elem(struct sl_htab *t, uint32_t b, struct htab_elem *pred,
			struct htab_elem *e)
{
	struct htab_elem *nx = atomic_load_explicit(&e->next, memory_order_relaxed);

	if (pred) {
		atomic_store_explicit(&pred->next, nx, memory_order_release);
		set_head(t, b, first(t, b));  /* MORE may have changed */
	} else {
		set_head(t, b, nx);
	}
	atomic_store_explicit(&e->linked, 0, memory_order_relaxed);
	atomic_fetch_sub_explicit(&t->count, 1, memory_order_relaxed);
}

/* LRU: evict one element that was not referenced since the last sweep */
static void lru_evict(struct sl_htab *t, struct htab_cpu *pc)
{
	for (uint64_t n = 0; n < 2ull * t->nelems + 1; n++) {
		uint32_t i = atomic_fetch_add_explicit(&t->hand, 1, memory_order_relaxed) % t->nelems;
		struct htab_elem *e = elem_at(t, i);
		struct htab_elem *pred;
		uint32_t b;
		bool found;

		if (!atomic_load_explicit(&e->linked, memory_order_relaxed))
			continue;
		if (atomic_load_explicit(&e->ref, memory_order_relaxed) && n < t->nelems) {
			atomic_store_explicit(&e->ref, 0, memory_order_relaxed);
			continue;
		}
		b = atomic_load_explicit(&e->hash, memory_order_relaxed) & t->mask;
		bucket_lock(t, b);
		found = locate(t, b, e, &pred);
		if (found)
			unlink_elem(t, b, pred, e);
		bucket_unlock(t, b);
		if (found) {
			pool_retire(t, pc, e);
			return;
		}
	}
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/*
 * An element for an insert or a replacement. Workers never wait (NULL
 * when no spare element has finished its grace period); the control
 * thread, which holds no map pointer here, waits for one (bounded).
 */
static __attribute__((noinline)) struct htab_elem *elem_wait(struct sl_htab *t,
							      struct htab_cpu *pc)
{
	struct htab_elem *e;
	uint64_t deadline = now_ns() + CTL_WAIT_NS;

	while (!(e = pool_get(t, pc)) && now_ns() <= deadline)
		sched_yield();
	return e;
}

static inline struct htab_elem *elem_get(struct sl_htab *t, struct htab_cpu *pc, bool ctl)
{
	struct htab_elem *e = pool_get(t, pc);

	return e || !ctl ? e : elem_wait(t, pc);
}

/* ---- data path ---- */

static inline __attribute__((always_inline)) struct htab_elem *
lookup_sized(const struct sl_htab *t, const void *key, uint32_t ks)
{
	return find_sized(t, hash_sized(t, key, ks), key, ks);
}

/* worker, no locks: the value of key (ks bytes), or NULL */
static inline __attribute__((always_inline)) void *
htab_lookup_sized(struct sl_htab *t, const void *key, uint32_t ks)
{
	struct htab_elem *e = lookup_sized(t, key, ks);

	if (!e)
		return NULL;
	if (t->plain)   /* the value right after the key (value_off, a constant here) */
		return e->key + SL_ROUND_UP(ks, 8);
	if (t->lru && !atomic_load_explicit(&e->ref, memory_order_relaxed))
		atomic_store_explicit(&e->ref, 1, memory_order_relaxed);
	if (!t->percpu)
		return e->key + SL_ROUND_UP(ks, 8);
	if (sl_map_cpu >= t->map.ncpus)
		return NULL;  /* a thread whose slot the map was not made for */
	return elem_value(t, e, sl_map_cpu);
}

/* worker, no locks: the function of the map's key size (htab_fns_for()) */
static void *htab_lookup(struct sl_map *map, const void *key)
{
	return to_htab(map)->fns.lookup(map, key);
}

static void *htab_lookup_percpu(struct sl_map *map, const void *key, uint32_t cpu)
{
	struct sl_htab *t = to_htab(map);
	struct htab_elem *e = find(t, htab_hash(t, key), key);

	return e ? elem_value(t, e, cpu) : NULL;
}

/* ---- updates ---- */

/* n bytes from src (any alignment) to d: words, then the tail; unrolled for constant n */
static inline __attribute__((always_inline)) void copy_in(uint8_t *d, const void *src, uint32_t n)
{
	const uint8_t *s = src;
	uint64_t w;
	uint32_t w4;
	uint16_t w2;

	if (n > 64) {
		memcpy(d, s, n);
		return;
	}
#pragma GCC unroll 8
	for (; n >= 8; n -= 8, d += 8, s += 8)
		memcpy(&w, s, 8), memcpy(d, &w, 8);
	if (n & 4)
		memcpy(&w4, s, 4), memcpy(d, &w4, 4), d += 4, s += 4;
	if (n & 2)
		memcpy(&w2, s, 2), memcpy(d, &w2, 2), d += 2, s += 2;
	if (n & 1)
		*d = *s;
}

/* per-CPU types: a fresh element's slots (ctl: all slots packed; else own slot, others 0) */
static void elem_fill_percpu(struct sl_htab *t, struct htab_elem *e, const void *value, bool ctl)
{
	uint32_t vs = t->map.def.value_size, stride = t->map.value_stride;

	for (unsigned c = 0; c < t->map.ncpus; c++) {
		uint8_t *v = elem_value(t, e, c);

		if (ctl)
			memcpy(v, (const uint8_t *)value + c * stride, vs);
		else if (c == sl_map_cpu)
			memcpy(v, value, vs);
		else
			memset(v, 0, vs);
	}
}

/* fill a fresh element (not yet published): hash, key (ks bytes), value */
static inline __attribute__((always_inline)) void
elem_fill(struct sl_htab *t, struct htab_elem *e, uint32_t h, const void *key, uint32_t ks,
	  const void *value, bool ctl)
{
	atomic_store_explicit(&e->hash, h, memory_order_relaxed);
	atomic_store_explicit(&e->ref, 0, memory_order_relaxed);
	copy_in(e->key, key, ks);
	if (t->percpu)
		elem_fill_percpu(t, e, value, ctl);
	else
		copy_in(e->key + t->value_off, value, t->map.def.value_size);
}

/* one more entry, unless max_entries are there (exact across buckets) */
static bool count_reserve(struct sl_htab *t)
{
	uint32_t c = atomic_load_explicit(&t->count, memory_order_relaxed);

	while (c < t->map.def.max_entries)
		if (atomic_compare_exchange_weak_explicit(&t->count, &c, c + 1,
							  memory_order_relaxed,
							  memory_order_relaxed))
			return true;
	return false;
}

/*
 * Bucket lock held: link n in place of old (pred: the element before old,
 * NULL when old is first), or at the head when there is no old; the error
 * or 0.
 */
static inline __attribute__((always_inline)) long
publish(struct sl_htab *t, uint32_t b, struct htab_elem *pred, struct htab_elem *old,
	struct htab_elem *n, uint64_t flags)
{
	_Atomic uint64_t *head = &t->heads[b];
	uint64_t w = atomic_load_explicit(head, memory_order_relaxed);

	if (old && flags == BPF_NOEXIST)
		return -EEXIST;
	if (!old && flags == BPF_EXIST)
		return -ENOENT;
	if (!old && !count_reserve(t))
		return t->lru ? -EAGAIN : -E2BIG;  /* LRU: evict, then retry */
	atomic_store_explicit(&n->linked, 1, memory_order_relaxed);
	if (!old) {   /* new first element: its hash bits, MORE if the bucket had one */
		atomic_store_explicit(&n->next, head_elem(w), memory_order_relaxed);
		atomic_store_explicit(head, (uintptr_t)n | HEAD_LOCK | (head_elem(w) ? HEAD_MORE : 0) |
				      (uint64_t)(atomic_load_explicit(&n->hash, memory_order_relaxed) >> 16) << 48,
				      memory_order_release);
		return 0;
	}
	atomic_store_explicit(&n->next, atomic_load_explicit(&old->next, memory_order_relaxed),
			      memory_order_relaxed);
	atomic_store_explicit(&old->linked, 0, memory_order_relaxed);
	if (pred)
		atomic_store_explicit(&pred->next, n, memory_order_release);
	else   /* same key and same next: only the address in the head word changes */
		atomic_store_explicit(head, (w & ~HEAD_PTR_MASK) | (uintptr_t)n, memory_order_release);
	return 0;
}

/*
 * An existing element's value written in place: one slot of a per-CPU
 * element (a worker's own) or every slot (ctl, packed values), or the one
 * word of a shared value of at most 8 bytes (one atomic store: readers see
 * the old or the new value, never a mix).
 */
static inline __attribute__((always_inline)) void
write_in_place(struct sl_htab *t, struct htab_elem *e, const void *value, bool ctl)
{
	uint32_t vs = t->map.def.value_size;
	uint64_t w = 0;

	if (!t->percpu) {
		memcpy(&w, value, vs < 8 ? vs : 8);
		__atomic_store_n((uint64_t *)(void *)(e->key + t->value_off), w, __ATOMIC_RELAXED);
	} else if (!ctl) {
		sl_write_shared(elem_value(t, e, sl_map_cpu), value, vs);
	} else {
		for (unsigned c = 0; c < t->map.ncpus; c++)
			sl_write_shared(elem_value(t, e, c),
					(const uint8_t *)value + c * t->map.value_stride, vs);
	}
}

/* bucket lock held: the element of key and the one before it (*pred, NULL: first) */
static inline __attribute__((always_inline)) struct htab_elem *
find_locked(const struct sl_htab *t, uint32_t b, uint32_t h, const void *key, uint32_t ks,
	    struct htab_elem **pred)
{
	struct htab_elem *e = head_elem(atomic_load_explicit(&t->heads[b], memory_order_relaxed));

	for (*pred = NULL; e; *pred = e, e = atomic_load_explicit(&e->next, memory_order_relaxed))
		if (atomic_load_explicit(&e->hash, memory_order_relaxed) == h && key_eq(e->key, key, ks))
			return e;
	return NULL;
}

/*
 * Control thread, in-place types (t->in_place): an existing element's
 * value written under the bucket lock (the control thread is no RCU
 * reader); false when the key is absent.
 */
static bool ctl_in_place(struct sl_htab *t, uint32_t b, uint32_t h, const void *key,
			 const void *value)
{
	struct htab_elem *old, *pred;

	bucket_lock(t, b);
	old = find_locked(t, b, h, key, t->key_size, &pred);
	if (old)
		write_in_place(t, old, value, true);
	bucket_unlock(t, b);
	return old != NULL;
}

/* a new element for key, linked in place of the old one if any (see publish) */
static inline __attribute__((always_inline)) long
insert_or_replace(struct sl_htab *t, uint32_t h, const void *key, uint32_t ks, const void *value,
		  uint64_t flags, bool ctl)
{
	struct htab_cpu *pc = own_cache(t, ctl);
	struct htab_elem *old, *pred, *n = elem_get(t, pc, ctl);
	uint32_t b = h & t->mask;
	long err;

	if (!n)
		return -EBUSY;
	elem_fill(t, n, h, key, ks, value, ctl);
	for (int tries = 0;; tries++) {
		bucket_lock(t, b);
		old = find_locked(t, b, h, key, ks, &pred);
		err = publish(t, b, pred, old, n, flags);
		bucket_unlock(t, b);
		if (err != -EAGAIN)
			break;
		if (tries == LRU_TRIES) {
			err = -EBUSY;
			break;
		}
		lru_evict(t, pc);  /* full LRU map: make room (no bucket lock held) */
	}
	if (err)
		pool_put(t, pc, n);
	else if (old)
		pool_retire(t, pc, old);
	return err;
}

/*
 * Every update; key size ks (a constant where the caller specialises).
 * Workers (RCU readers) first look the key up without a lock, unless a
 * new element is built anyway (BPF_ANY, not in place): an existing
 * element of an in-place type takes the value where it is (BPF_ANY,
 * BPF_EXIST), and BPF_NOEXIST of an existing key / BPF_EXIST of an absent
 * one fail at once (the key was there / absent at that moment: the
 * update is ordered then). Everything else builds a new element.
 */
static inline __attribute__((always_inline)) long
update_sized(struct sl_htab *t, const void *key, const void *value, uint64_t flags, bool ctl,
	     uint32_t ks)
{
	uint32_t h = hash_sized(t, key, ks);
	struct htab_elem *old;

	if (!sl_update_flags_ok(flags) || (t->percpu && !ctl && sl_map_cpu >= t->map.ncpus))
		return -EINVAL;
	if (!ctl && (t->in_place || flags != BPF_ANY)) {
		old = find_sized(t, h, key, ks);
		if (old && flags == BPF_NOEXIST)
			return -EEXIST;
		if (!old && flags == BPF_EXIST)
			return -ENOENT;
		if (old && t->in_place) {
			write_in_place(t, old, value, false);
			return 0;
		}
	} else if (ctl && t->in_place && flags != BPF_NOEXIST &&
		   ctl_in_place(t, h & t->mask, h, key, value)) {
		return 0;
	}
	return insert_or_replace(t, h, key, ks, value, flags, ctl);
}

static long htab_update_common(struct sl_htab *t, const void *key, const void *value,
			       uint64_t flags, bool ctl)
{
	return update_sized(t, key, value, flags, ctl, t->key_size);
}

/* worker: the function of the map's key size, as lookups */
static long htab_update(struct sl_map *map, const void *key, const void *value, uint64_t flags)
{
	return to_htab(map)->fns.update(map, key, value, flags);
}

static inline __attribute__((always_inline)) long
delete_sized(struct sl_htab *t, const void *key, bool ctl, uint32_t ks)
{
	uint32_t h = hash_sized(t, key, ks), b = h & t->mask;
	struct htab_elem *e, *pred;

	if (!ctl && !find_sized(t, h, key, ks))
		return -ENOENT;  /* a worker (RCU reader): absent at this moment, no lock taken */
	bucket_lock(t, b);
	e = find_locked(t, b, h, key, ks, &pred);
	if (e)
		unlink_elem(t, b, pred, e);
	bucket_unlock(t, b);
	if (!e)
		return -ENOENT;
	pool_retire(t, own_cache(t, ctl), e);
	return 0;
}

static long htab_delete_common(struct sl_htab *t, const void *key, bool ctl)
{
	return delete_sized(t, key, ctl, t->key_size);
}

static long htab_delete(struct sl_map *map, const void *key)
{
	return to_htab(map)->fns.delete(map, key);
}

/*
 * A worker's lookup, update and delete compiled for one key size (each
 * of HTAB_KEY_SIZES, and "any": the map's size read at run time). The
 * map's ops call the set of its size through t->fns (htab_fns_for()); the
 * JIT calls them directly (htab_jit_fns(), jit/map_calls.c), skipping the
 * helper and the ops.
 */
#define HTAB_SIZED_FNS(name, ks)                                                        \
	static void *htab_lookup_##name(struct sl_map *m, const void *key)              \
	{                                                                               \
		return htab_lookup_sized(to_htab(m), key, ks);                          \
	}                                                                               \
	static long htab_update_##name(struct sl_map *m, const void *key, const void *value, \
				       uint64_t flags)                                  \
	{                                                                               \
		return update_sized(to_htab(m), key, value, flags, false, ks);          \
	}                                                                               \
	static long htab_delete_##name(struct sl_map *m, const void *key)               \
	{                                                                               \
		return delete_sized(to_htab(m), key, false, ks);                        \
	}
#define HTAB_SIZED_FNS_K(n) HTAB_SIZED_FNS(k##n, n)
HTAB_KEY_SIZES(HTAB_SIZED_FNS_K)
HTAB_SIZED_FNS(kany, to_htab(m)->key_size)

/* the functions of key size ks */
static struct sl_map_jit_fns htab_fns_for(uint32_t ks)
{
#define HTAB_FNS_ENTRY(n) [n] = { htab_lookup_k##n, htab_update_k##n, htab_delete_k##n },
	static const struct sl_map_jit_fns by_size[] = { HTAB_KEY_SIZES(HTAB_FNS_ENTRY) };
#undef HTAB_FNS_ENTRY

	if (ks < sizeof(by_size) / sizeof(by_size[0]) && by_size[ks].lookup)
		return by_size[ks];
	return (struct sl_map_jit_fns){ htab_lookup_kany, htab_update_kany, htab_delete_kany };
}

/* control thread (compile time): the functions of this map's key size */
static void htab_jit_fns(const struct sl_map *map, struct sl_map_jit_fns *fns)
{
	*fns = SL_CONTAINER_OF(map, const struct sl_htab, map)->fns;
}

/* ---- control thread ---- */

static void copy_ctl_value(struct sl_htab *t, struct htab_elem *e, void *out)
{
	if (!t->percpu) {
		sl_read_shared(out, e->key + t->value_off, t->map.def.value_size);
		return;
	}
	for (unsigned c = 0; c < t->map.ncpus; c++)
		sl_read_shared((uint8_t *)out + c * t->map.value_stride, elem_value(t, e, c),
			       t->map.value_stride);
}

/* control thread: under the bucket lock, so nothing it reads is reclaimed */
static int htab_ctl_lookup(struct sl_map *map, const void *key, void *value)
{
	struct sl_htab *t = to_htab(map);
	uint32_t h = htab_hash(t, key);
	struct htab_elem *e;

	bucket_lock(t, h & t->mask);
	e = find(t, h, key);
	if (e)
		copy_ctl_value(t, e, value);
	bucket_unlock(t, h & t->mask);
	return e ? 0 : -ENOENT;
}

static int htab_ctl_update(struct sl_map *map, const void *key, const void *value,
			   uint64_t flags)
{
	return (int)htab_update_common(to_htab(map), key, value, flags, true);
}

/* control thread, bucket lock held: the key after `key` in its chain */
static int next_in_chain(struct sl_htab *t, uint32_t h, const void *key, void *next_key,
			 bool *found)
{
	struct htab_elem *e = find(t, h, key), *nx;

	*found = e != NULL;
	nx = e ? atomic_load_explicit(&e->next, memory_order_acquire) : NULL;
	if (nx)
		memcpy(next_key, nx->key, t->key_size);
	return nx ? 0 : -ENOENT;
}

/* control thread: kernel order (rest of the key's chain, then later buckets) */
static int htab_get_next_key(struct sl_map *map, const void *key, void *next_key)
{
	struct sl_htab *t = to_htab(map);
	uint32_t b = 0;

	if (key) {
		uint32_t h = htab_hash(t, key);
		bool found;
		int r;

		bucket_lock(t, h & t->mask);
		r = next_in_chain(t, h, key, next_key, &found);
		bucket_unlock(t, h & t->mask);
		if (r == 0)
			return 0;
		if (found)
			b = (h & t->mask) + 1;
	}
	for (; b <= t->mask; b++) {
		struct htab_elem *e;

		if (!atomic_load_explicit(&t->heads[b], memory_order_relaxed))
			continue;
		bucket_lock(t, b);
		e = first(t, b);
		if (e)
			memcpy(next_key, e->key, t->key_size);
		bucket_unlock(t, b);
		if (e)
			return 0;
	}
	return -ENOENT;
}

struct dump_buf {
	uint8_t *rec;        /* key_size + ctl value size per record */
	size_t rec_size, cap, n;
};

/* append bucket b's entries (bucket lock or read section held) */
static int dump_bucket(struct sl_htab *t, uint32_t b, struct dump_buf *d)
{
	for (struct htab_elem *e = first(t, b); e;
	     e = atomic_load_explicit(&e->next, memory_order_acquire), d->n++) {
		uint8_t *r;

		if (d->n == d->cap) {
			void *p = realloc(d->rec, (d->cap * 2 + 8) * d->rec_size);

			if (!p)
				return -ENOMEM;
			d->rec = p;
			d->cap = d->cap * 2 + 8;
		}
		r = d->rec + d->n * d->rec_size;
		memcpy(r, e->key, t->key_size);
		copy_ctl_value(t, e, r + t->value_off);  /* values 8-byte aligned */
	}
	return 0;
}

#define DUMP_SCAN 4096u   /* buckets one chunk of a dump looks at, at most */
#define DUMP_CHUNK 256u   /* entries one chunk copies before its callbacks run (about) */

/*
 * Copy the entries of the buckets from *b on (a chunk, bounded by both
 * limits above) into d, advancing *b past them. Lock-free inside a read
 * section (rcu.c): head words are only read, so the dump dirties no cache
 * line that a worker reads or writes (taking each bucket's lock would, at
 * every dump, for every bucket a worker uses); without a reader slot,
 * under each bucket's lock as before.
 */
static int dump_chunk(struct sl_htab *t, uint32_t *b, struct dump_buf *d)
{
	bool rcu = map_rcu_read_begin();
	uint32_t end = t->mask - *b < DUMP_SCAN ? t->mask + 1 : *b + DUMP_SCAN;
	int ret = 0;

	for (d->n = 0; *b < end && d->n < DUMP_CHUNK && !ret; (*b)++) {
		if (!atomic_load_explicit(&t->heads[*b], memory_order_relaxed))
			continue;
		if (!rcu)
			bucket_lock(t, *b);
		ret = dump_bucket(t, *b, d);
		if (!rcu)
			bucket_unlock(t, *b);
	}
	map_rcu_read_end();
	return ret;
}

/* buckets from *cursor on, until about max entries went to cb (sl_map_ctl_dump_part) */
static int htab_dump_part(struct sl_map *map, uint64_t *cursor, uint32_t max, sl_map_dump_cb cb,
			  void *ctx)
{
	struct sl_htab *t = to_htab(map);
	struct dump_buf d = {.rec_size = t->value_off + SL_ROUND_UP(sl_map_ctl_value_size(map), 8)};
	uint32_t b = *cursor > t->mask ? t->mask + 1 : (uint32_t)*cursor;
	uint64_t done = 0;
	int ret = 0;

	while (b <= t->mask && done < max && !ret) {
		ret = dump_chunk(t, &b, &d);
		for (size_t i = 0; i < d.n && !ret; i++)
			ret = cb(d.rec + i * d.rec_size, d.rec + i * d.rec_size + t->value_off, ctx);
		done += d.n;
	}
	free(d.rec);
	*cursor = b > t->mask ? SL_MAP_DUMP_END : b;
	return ret;
}

static int htab_dump(struct sl_map *map, sl_map_dump_cb cb, void *ctx)
{
	uint64_t cursor = 0;

	return htab_dump_part(map, &cursor, UINT32_MAX, cb, ctx);
}

static uint64_t htab_count(struct sl_map *map)
{
	return atomic_load_explicit(&to_htab(map)->count, memory_order_relaxed);
}

/* ---- creation ---- */

#define HTAB_MAX_ENTRIES (1u << 30)  /* the largest max_entries a hash map takes */

static int htab_check(const struct sl_map_def *def, unsigned ncpus)
{
	bool lru = def->type == BPF_MAP_TYPE_LRU_HASH || def->type == BPF_MAP_TYPE_LRU_PERCPU_HASH;
	bool percpu = def->type == BPF_MAP_TYPE_PERCPU_HASH ||
		      def->type == BPF_MAP_TYPE_LRU_PERCPU_HASH;

	if (def->key_size == 0 || def->key_size > KEY_MAX || def->value_size == 0 ||
	    def->max_entries == 0 || (def->map_flags & ~HTAB_FLAGS))
		return -EINVAL;
	if (lru && (def->map_flags & BPF_F_NO_PREALLOC))
		return -ENOTSUP;  /* kernel: LRU maps are always preallocated */
	if (!lru && (def->map_flags & BPF_F_NO_COMMON_LRU))
		return -EINVAL;
	if (percpu && def->value_size > PERCPU_VALUE_MAX)
		return -E2BIG;
	if (def->max_entries > HTAB_MAX_ENTRIES || def->value_size > (1u << 20))
		return -E2BIG;
	return 0;
}

static int devmap_hash_check(const struct sl_map_def *def, unsigned ncpus)
{
	if (def->key_size != 4 || (def->value_size != 4 && def->value_size != 8) ||
	    def->max_entries == 0 || (def->map_flags & ~(BPF_F_NUMA_NODE | BPF_F_RDONLY | BPF_F_WRONLY)))
		return -EINVAL;
	return 0;
}

static void htab_free(struct sl_map *map)
{
	struct sl_htab *t = to_htab(map);

	map_lazy_free((void *)t->heads, sizeof(*t->heads) * ((size_t)t->mask + 1));
	map_lazy_free(t->elems, (size_t)t->elem_size * t->nelems);
	map_lazy_free(t->free_idx, sizeof(*t->free_idx) * (size_t)t->nelems);
	map_lazy_free(t->ret_idx, sizeof(*t->ret_idx) * ((size_t)t->ret_mask + 1));
	map_lazy_free(t->batches, sizeof(*t->batches) * (size_t)t->nbatches);
	map_lazy_free(t->pcpu, t->pcpu_bytes * t->map.ncpus);
	free(t->cpus);
	free(t);
}

/* the least power of two >= @p n, for n <= 2^31 (htab_check's bound keeps it there) */
static uint32_t pow2_at_least(uint32_t n)
{
	uint32_t p = 1;

	while (p < n && p < (1u << 31))
		p <<= 1;
	return p;
}

/* the inverse of odd d modulo 2^64 (Newton's iteration: each step doubles the bits) */
static uint64_t inverse_odd(uint64_t d)
{
	uint64_t x = d;   /* right to 3 bits */

	for (int i = 0; i < 5; i++)
		x *= 2 - d * x;
	return x;
}

/* Bytes the tables of a map of @p def take once every element is used. */
static void htab_sizes(const struct sl_map_def *def, unsigned ncpus, struct sl_htab *t,
		       uint32_t *nbuckets)
{
	bool percpu = def->type == BPF_MAP_TYPE_PERCPU_HASH ||
		      def->type == BPF_MAP_TYPE_LRU_PERCPU_HASH;
	uint32_t nb = 1, spare;

	while (nb < def->max_entries * 2ull && nb < (1u << 31))
		nb <<= 1;  /* load factor <= 1/2: most misses read one head word */
	*nbuckets = nb;
	t->mask = nb - 1;
	t->key_size = def->key_size;
	t->fns = htab_fns_for(def->key_size);
	t->value_off = SL_ROUND_UP(def->key_size, 8);
	t->map.value_stride = SL_ROUND_UP(def->value_size, 8);
	t->map.ncpus = percpu ? ncpus : 1;
	t->percpu = percpu;
	t->elem_size = (uint32_t)sizeof(struct htab_elem) + t->value_off +
		       (percpu ? 8 : t->map.value_stride);
	if (t->elem_size <= SL_CACHE_LINE / 2)
		t->elem_size = SL_CACHE_LINE / 2;  /* never across a cache line */
	else if (t->elem_size <= SL_CACHE_LINE)
		t->elem_size = SL_CACHE_LINE;
	spare = SPARE_PER_CPU * (ncpus + 1);
	t->nelems = def->max_entries + (spare > def->max_entries / 4 ? spare : def->max_entries / 4);
	t->nbatches = pow2_at_least(t->nelems / RET_BATCH + 2);
	t->bat_mask = t->nbatches - 1;
	t->ret_mask = pow2_at_least(t->nelems) - 1;
	t->idx_shift = (uint32_t)__builtin_ctz(t->elem_size);
	t->inv_odd = inverse_odd(t->elem_size >> t->idx_shift);
	t->pcpu_bytes = percpu ? SL_ROUND_UP((size_t)t->nelems * t->map.value_stride,
					     SL_CACHE_LINE) : 0;
}

static uint64_t htab_mem_cost(const struct sl_map_def *def, unsigned ncpus)
{
	struct sl_htab t = { 0 };
	uint32_t nb;

	if (def->max_entries > HTAB_MAX_ENTRIES)
		return UINT64_MAX;  /* never created (htab_check): more than any limit */
	htab_sizes(def, ncpus, &t, &nb);
	return sizeof(t) + (uint64_t)nb * sizeof(*t.heads) +
	       (uint64_t)t.nelems * (t.elem_size + sizeof(*t.free_idx)) +
	       ((uint64_t)t.ret_mask + 1) * sizeof(*t.ret_idx) +
	       (uint64_t)t.nbatches * sizeof(*t.batches) + (uint64_t)t.pcpu_bytes * t.map.ncpus +
	       (uint64_t)ncpus * sizeof(struct htab_cpu);
}

static int htab_alloc_arrays(struct sl_htab *t, uint32_t nbuckets, unsigned ncpus)
{
	t->heads = map_lazy_alloc(sizeof(*t->heads) * (size_t)nbuckets);
	t->elems = map_lazy_alloc((size_t)t->elem_size * t->nelems);
	t->free_idx = map_lazy_alloc(sizeof(*t->free_idx) * (size_t)t->nelems);
	t->ret_idx = map_lazy_alloc(sizeof(*t->ret_idx) * ((size_t)t->ret_mask + 1));
	t->batches = map_lazy_alloc(sizeof(*t->batches) * (size_t)t->nbatches);
	if (t->percpu)
		t->pcpu = map_lazy_alloc(t->pcpu_bytes * ncpus);
	if (!t->heads || !t->elems || !t->free_idx || !t->ret_idx || !t->batches ||
	    (t->percpu && !t->pcpu))
		return -ENOMEM;
	/* head words keep 47 address bits (x86-64 user space) */
	if (((uintptr_t)t->elems + (size_t)t->elem_size * t->nelems) & ~(uintptr_t)HEAD_PTR_MASK)
		return -ENOMEM;
	return 0;   /* nothing touched: elements come from the watermark (pool_fresh) */
}

static struct sl_map *htab_alloc(const struct sl_map_def *def, unsigned ncpus)
{
	struct sl_htab *t = map_zalloc(sizeof(*t));
	uint32_t nbuckets;

	if (!t) {
		errno = ENOMEM;
		return NULL;
	}
	t->lru = def->type == BPF_MAP_TYPE_LRU_HASH || def->type == BPF_MAP_TYPE_LRU_PERCPU_HASH;
	t->devmap = def->type == BPF_MAP_TYPE_DEVMAP_HASH;
	t->in_place = !t->devmap && (def->type == BPF_MAP_TYPE_PERCPU_HASH ||
				     def->type == BPF_MAP_TYPE_LRU_PERCPU_HASH || def->value_size <= 8);
	htab_sizes(def, ncpus, t, &nbuckets);
	t->plain = !t->lru && !t->percpu;
	t->seed = (def->map_flags & BPF_F_ZERO_SEED) ? 0 : (uint32_t)now_ns() * 2654435761u;
	t->ncache = ncpus;
	t->cpus = aligned_alloc(SL_CACHE_LINE, sizeof(*t->cpus) * ncpus);
	if (t->cpus)
		memset(t->cpus, 0, sizeof(*t->cpus) * ncpus);
	if (!t->cpus || htab_alloc_arrays(t, nbuckets, t->map.ncpus)) {
		htab_free(&t->map);
		errno = ENOMEM;
		return NULL;
	}
	return &t->map;
}

/* DEVMAP_HASH: control-thread updates only, no device programs */
static int devmap_hash_ctl_update(struct sl_map *map, const void *key, const void *value,
				  uint64_t flags)
{
	uint32_t v[2] = {0, 0};

	memcpy(v, value, map->def.value_size);
	if (v[1] != 0)
		return -EOPNOTSUPP;  /* devmap entry programs are not provided */
	return htab_ctl_update(map, key, value, flags);
}

static int htab_ctl_delete(struct sl_map *map, const void *key)
{
	return (int)htab_delete_common(to_htab(map), key, true);
}

#define HTAB_OPS(chk) \
	.check = chk, \
	.mem_cost = htab_mem_cost, \
	.alloc = htab_alloc, \
	.free = htab_free, \
	.lookup = htab_lookup, \
	.ctl_lookup = htab_ctl_lookup, \
	.ctl_delete = htab_ctl_delete, \
	.get_next_key = htab_get_next_key, \
	.count = htab_count, \
	.dump = htab_dump, \
	.dump_part = htab_dump_part

const struct sl_map_ops hash_map_ops = {
	HTAB_OPS(htab_check), .update = htab_update, .delete = htab_delete,
	.ctl_update = htab_ctl_update, .jit_fns = htab_jit_fns,
};
const struct sl_map_ops lru_hash_map_ops = {
	HTAB_OPS(htab_check), .update = htab_update, .delete = htab_delete,
	.ctl_update = htab_ctl_update, .jit_fns = htab_jit_fns,
};
const struct sl_map_ops percpu_hash_map_ops = {
	HTAB_OPS(htab_check), .update = htab_update, .delete = htab_delete,
	.ctl_update = htab_ctl_update, .jit_fns = htab_jit_fns, .lookup_percpu = htab_lookup_percpu,
};
const struct sl_map_ops lru_percpu_hash_map_ops = {
	HTAB_OPS(htab_check), .update = htab_update, .delete = htab_delete,
	.ctl_update = htab_ctl_update, .jit_fns = htab_jit_fns, .lookup_percpu = htab_lookup_percpu,
};
const struct sl_map_ops devmap_hash_map_ops = {
	HTAB_OPS(devmap_hash_check), .ctl_update = devmap_hash_ctl_update,
};

/*
 * Control thread (compile time): what jit/map_hash.c needs to emit a
 * lookup in @p map in place (the four hash types; per-CPU ones also
 * elem_value()'s regions). Its hash and walk are those of
 * htab_lookup_sized(): CRC32-C from the seed over the key's words
 * (key_word()), h ^ h >> 15, the head word of bucket h & mask, its
 * early miss, the chain, the LRU reference byte.
 */
int sl_map_htab_jit(const struct sl_map *map, struct sl_map_htab_jit *l)
{
	const struct sl_htab *t;

	if (!map || (map->ops != &hash_map_ops && map->ops != &lru_hash_map_ops &&
		     map->ops != &percpu_hash_map_ops && map->ops != &lru_percpu_hash_map_ops))
		return -ENOTSUP;
	t = SL_CONTAINER_OF(map, const struct sl_htab, map);
	*l = (struct sl_map_htab_jit){
		.heads = (const void *)t->heads,
		.mask = t->mask,
		.seed = t->seed,
		.key_size = t->key_size,
		.key_word = key_word(t->key_size),
		.lru = t->lru,
		.next_off = (int32_t)offsetof(struct htab_elem, next),
		.hash_off = (int32_t)offsetof(struct htab_elem, hash),
		.ref_off = (int32_t)offsetof(struct htab_elem, ref),
		.key_off = (int32_t)offsetof(struct htab_elem, key),
		.value_off = (int32_t)(offsetof(struct htab_elem, key) + t->value_off),
		.head_ptr_mask = HEAD_PTR_MASK,
		.head_more_bit = (uint8_t)__builtin_ctzll(HEAD_MORE),
		.head_hash_shift = 48,   /* head_word(): the hash's top 16 bits */
		.percpu = t->percpu,
		.pcpu = t->pcpu,
		.pcpu_bytes = t->pcpu_bytes,
		.value_stride = t->map.value_stride,
		.ncpus = t->map.ncpus,
	};
	return 0;
}
