/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * maps/lpm.c: BPF_MAP_TYPE_LPM_TRIE, longest-prefix match on keys
 * struct bpf_lpm_trie_key { u32 prefixlen; u8 data[key_size - 4]; }.
 *
 * Structure: a multibit trie with controlled prefix expansion. The root
 * node indexes the first 16 bits of data (8 when data is one byte), each
 * deeper level the next 8 bits. A slot holds two pointers: the longest
 * prefix ending at this level that covers the slot (leaf), and the child
 * node for longer prefixes. A prefix of length p lives at the level whose
 * bit range contains p (p = 0 at the root) and fills 2^(level end - p)
 * slots, except those already taken by longer prefixes of the same level.
 * A lookup of a full-length key reads one slot per level, remembering the
 * last leaf seen: an IPv4 lookup is at most three dependent loads, and
 * one when no prefix is longer than /16 there. Beside the trie, every
 * prefix is also in an exact-match hash (length + masked data), used by
 * updates, deletes (to find the prefix that takes a deleted one's slots
 * back), get_next_key, and lookups whose key prefixlen is shorter than
 * the data (the kernel's "match at most prefixlen bits").
 *
 * get_next_key order: the exact-match hash's bucket order (the kernel
 * walks its trie in post-order; any order that visits each key once is
 * conforming). Update of a full map fails with -ENOSPC, as the kernel's.
 *
 * Concurrency
 *   - Lookups take no lock: acquire loads of slot and chain pointers.
 *     Every pointer a reader can load is either NULL or a complete prefix
 *     element or node, so a reader sees the old or the new answer per
 *     slot, never a torn value: updates of an existing prefix publish a
 *     new element in place of the old one.
 *   - Writers (workers or the control thread) take one map spinlock; LPM
 *     updates are rare next to lookups. Prefix elements come from 64 KB
 *     chunks and trie nodes from 2 MB chunks, both reused after grace
 *     periods, so an update allocates only when a chunk is used up (the
 *     kernel, which requires BPF_F_NO_PREALLOC here, allocates on every
 *     update); at most max_entries + spare elements are made, and a worker
 *     that then finds none out of its grace period gets -EBUSY. Lookups
 *     never allocate.
 *   - Deleted elements and emptied nodes are retired with an epoch and
 *     freed under the writer lock once every online worker has passed
 *     sl_map_quiescent() (rcu.c). The control thread reads under the
 *     writer lock, so it never sees memory being freed.
 */
#include <sched.h>
#include <stdlib.h>
#include <time.h>

#include "maps_internal.h"

#define LPM_DATA_MIN 1
#define LPM_DATA_MAX 256
#define LPM_VALUE_MAX (1u << 20)
#define LPM_SPARE 256u         /* elements awaiting reuse (at least max/4) */
#define CTL_WAIT_NS 2000000000ull
#define LPM_CHUNK SL_HUGE_PAGE /* node memory comes in 2 MB chunks (huge pages) */
#define LPM_FLAGS (BPF_F_NO_PREALLOC | BPF_F_NUMA_NODE | BPF_F_RDONLY | BPF_F_WRONLY | \
		   BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG)

struct lpm_elem {
	struct sl_rcu_node rcu;                 /* retire list (writer lock) */
	_Atomic(struct lpm_elem *) next;        /* exact-match chain */
	uint32_t prefixlen;
	uint32_t hash;
	uint8_t data_value[];                   /* data (dsize, masked), then value at voff */
};

struct lpm_slot {
	_Atomic(struct lpm_elem *) leaf;
	_Atomic(struct lpm_node *) child;
};

struct lpm_node {
	struct sl_rcu_node rcu;
	struct lpm_node *parent;
	uint32_t parent_idx;
	uint32_t nprefixes;                     /* prefixes stored at this node */
	uint32_t nchildren;
	uint32_t pad;
	struct lpm_slot slots[];
};

struct rcu_list {
	struct sl_rcu_node *head, *tail;
};

struct sl_lpm {
	struct sl_map map;
	uint32_t dsize;                         /* data bytes */
	uint32_t nbits;                         /* dsize * 8 */
	uint32_t root_bits;                     /* 16, or 8 for one-byte data */
	uint32_t voff;                          /* value offset in data_value */
	uint32_t hmask;                         /* exact-match buckets - 1 */
	uint32_t count;                         /* writer lock */
	struct lpm_node *root;
	_Atomic(struct lpm_elem *) *heads;      /* exact-match buckets */
	sl_spinlock_t lock;                     /* writers */
	struct rcu_list retired;                /* elements */
	struct rcu_list retired_nodes;
	/* node arena (writer lock): 2 MB chunks, carved into nodes, reused */
	uint8_t *chunks;                        /* list linked through the first word */
	uint8_t *carve;
	size_t carve_left;
	size_t node_bytes;
	struct sl_rcu_node *free_nodes;
	/* element pool (writer lock): chunks of elements, reused after grace periods */
	uint8_t *elem_chunks;                   /* list linked through the first word */
	size_t elem_bytes;
	uint64_t elems_made, elems_cap;         /* cap: max_entries + spare */
	struct sl_rcu_node *free_elems;
};

static inline struct sl_lpm *to_lpm(struct sl_map *m)
{
	return SL_CONTAINER_OF(m, struct sl_lpm, map);
}

/* ---- bit helpers ---- */

/* bits [start, start + n) of data as an integer (n <= 16, start byte aligned) */
static inline uint32_t bits_at(const uint8_t *data, uint32_t start, uint32_t n)
{
	uint32_t b = start / 8;

	return n == 16 ? (uint32_t)data[b] << 8 | data[b + 1] : data[b];
}

static void mask_copy(uint8_t *dst, const uint8_t *src, uint32_t dsize, uint32_t plen)
{
	for (uint32_t i = 0; i < dsize; i++) {
		uint32_t keep = plen >= (i + 1) * 8 ? 8 : plen > i * 8 ? plen - i * 8 : 0;

		dst[i] = keep ? src[i] & (uint8_t)(0xff00 >> keep) : 0;
	}
}

static uint32_t lpm_hash(const uint8_t *masked, uint32_t dsize, uint32_t plen)
{
	uint32_t h = 2166136261u ^ plen;

	for (uint32_t i = 0; i < dsize; i++)
		h = (h ^ masked[i]) * 16777619u;
	return h ^ (h >> 16);
}

/* level of a prefix length, and that level's first bit and width */
static inline uint32_t level_of(const struct sl_lpm *t, uint32_t plen)
{
	return plen <= t->root_bits ? 0 : 1 + (plen - t->root_bits - 1) / 8;
}

static inline uint32_t level_start(const struct sl_lpm *t, uint32_t lvl)
{
	return lvl ? t->root_bits + (lvl - 1) * 8 : 0;
}

static inline uint32_t level_width(const struct sl_lpm *t, uint32_t lvl)
{
	return lvl ? 8 : t->root_bits;
}

/* ---- exact-match table (readers lock-free, writers under the lock) ---- */

static struct lpm_elem *exact_find(struct sl_lpm *t, const uint8_t *masked, uint32_t plen)
{
	uint32_t h = lpm_hash(masked, t->dsize, plen);
	struct lpm_elem *e = atomic_load_explicit(&t->heads[h & t->hmask], memory_order_acquire);

	for (; e; e = atomic_load_explicit(&e->next, memory_order_acquire))
		if (e->hash == h && e->prefixlen == plen &&
		    !memcmp(e->data_value, masked, t->dsize))
			return e;
	return NULL;
}

/* writer: the link pointing at e */
static _Atomic(struct lpm_elem *) *exact_link(struct sl_lpm *t, struct lpm_elem *e)
{
	_Atomic(struct lpm_elem *) *prev = &t->heads[e->hash & t->hmask];
	struct lpm_elem *cur;

	while ((cur = atomic_load_explicit(prev, memory_order_relaxed)) != e)
		prev = &cur->next;
	return prev;
}

/* ---- reclamation (writer lock held) ---- */

static void retire(struct rcu_list *l, struct sl_rcu_node *n)
{
	n->epoch = map_rcu_retire_epoch();
	n->next = NULL;
	if (l->tail)
		l->tail->next = n;
	else
		l->head = n;
	l->tail = n;
}

/* pop what every reader is done with; nodes go back to the arena */
static void reclaim_list(struct sl_lpm *t, struct rcu_list *l, uint64_t min, bool nodes)
{
	while (l->head && l->head->epoch <= min) {
		struct sl_rcu_node *n = l->head;

		l->head = n->next;
		if (nodes) {
			n->next = t->free_nodes;
			t->free_nodes = n;
		} else {  /* rcu is the first member of an element */
			n->next = t->free_elems;
			t->free_elems = n;
		}
	}
	if (!l->head)
		l->tail = NULL;
}

static void reclaim(struct sl_lpm *t)
{
	uint64_t min;

	if (!t->retired.head && !t->retired_nodes.head)
		return;
	min = map_rcu_min_epoch();
	reclaim_list(t, &t->retired, min, false);
	reclaim_list(t, &t->retired_nodes, min, true);
}

/* ---- lookup ---- */

/* IPv4 keys (data of 4 bytes): the same walk unrolled, 16 + 8 + 8 bits */
static inline struct lpm_elem *trie_match4(struct sl_lpm *t, const uint8_t *data)
{
	struct lpm_slot *s = &t->root->slots[(uint32_t)data[0] << 8 | data[1]];
	struct lpm_elem *best = atomic_load_explicit(&s->leaf, memory_order_acquire), *leaf;
	struct lpm_node *n = atomic_load_explicit(&s->child, memory_order_acquire);

	if (__builtin_expect(!n, 1))
		return best;
	s = &n->slots[data[2]];
	leaf = atomic_load_explicit(&s->leaf, memory_order_acquire);
	best = leaf ? leaf : best;
	n = atomic_load_explicit(&s->child, memory_order_acquire);
	if (!n)
		return best;
	leaf = atomic_load_explicit(&n->slots[data[3]].leaf, memory_order_acquire);
	return leaf ? leaf : best;
}

/* full-length key: one slot per level */
static struct lpm_elem *trie_match(struct sl_lpm *t, const uint8_t *data)
{
	struct lpm_node *n = t->root;
	struct lpm_elem *best = NULL;
	uint32_t start = 0, width = t->root_bits;

	while (n) {
		struct lpm_slot *s = &n->slots[bits_at(data, start, width)];
		struct lpm_elem *leaf = atomic_load_explicit(&s->leaf, memory_order_acquire);

		if (leaf)
			best = leaf;
		n = atomic_load_explicit(&s->child, memory_order_acquire);
		start += width;
		width = 8;
		if (start >= t->nbits)
			break;
	}
	return best;
}

/* key with a shorter prefixlen: longest stored prefix of length <= it */
static __attribute__((noinline)) struct lpm_elem *exact_match(struct sl_lpm *t, const uint8_t *data, uint32_t plen)
{
	uint8_t masked[LPM_DATA_MAX];

	for (uint32_t l = plen + 1; l-- > 0;) {
		struct lpm_elem *e;

		mask_copy(masked, data, t->dsize, l);
		e = exact_find(t, masked, l);
		if (e)
			return e;
	}
	return NULL;
}

/* worker, no locks */
static void *lpm_lookup(struct sl_map *map, const void *key)
{
	struct sl_lpm *t = to_lpm(map);
	const struct bpf_lpm_trie_key *k = key;
	uint32_t plen = sl_key_u32(key);  /* keys may sit at any alignment */
	struct lpm_elem *e;

	if (__builtin_expect(t->nbits == 32 && plen == 32, 1))
		e = trie_match4(t, k->data);
	else if (plen == t->nbits)
		e = trie_match(t, k->data);
	else if (plen > t->nbits)
		return NULL;  /* as the kernel: longer than the data */
	else
		e = exact_match(t, k->data, plen);
	return e ? e->data_value + t->voff : NULL;
}

/* control thread: the same match under the writer lock (no reclamation meanwhile) */
static int lpm_ctl_lookup(struct sl_map *map, const void *key, void *value)
{
	struct sl_lpm *t = to_lpm(map);
	const void *v;

	sl_spin_lock(&t->lock);
	v = lpm_lookup(map, key);
	if (v)
		memcpy(value, v, map->def.value_size);
	sl_spin_unlock(&t->lock);
	return v ? 0 : -ENOENT;
}

/* ---- writers (map lock held) ---- */

/* a zeroed 256-slot node from the arena (writer lock held) */
static struct lpm_node *node_get(struct sl_lpm *t)
{
	void *n;

	if (t->free_nodes) {
		n = t->free_nodes;
		t->free_nodes = t->free_nodes->next;
		memset(n, 0, t->node_bytes);
		return n;
	}
	if (t->carve_left < t->node_bytes) {
		uint8_t *c = map_zalloc(LPM_CHUNK);

		if (!c)
			return NULL;
		*(uint8_t **)(void *)c = t->chunks;
		t->chunks = c;
		t->carve = c + SL_CACHE_LINE;
		t->carve_left = LPM_CHUNK - SL_CACHE_LINE;
	}
	n = t->carve;
	t->carve += t->node_bytes;
	t->carve_left -= t->node_bytes;
	return n;
}

static struct lpm_node *node_new(struct sl_lpm *t, uint32_t lvl, struct lpm_node *parent,
				 uint32_t idx)
{
	size_t nslots = (size_t)1 << level_width(t, lvl);
	struct lpm_node *n = lvl ? node_get(t) :
			     map_zalloc(sizeof(*n) + nslots * sizeof(struct lpm_slot));

	if (n) {
		n->parent = parent;
		n->parent_idx = idx;
	}
	return n;
}

/* the node holding prefixes of level lvl along data (created if asked) */
static struct lpm_node *node_for(struct sl_lpm *t, const uint8_t *data, uint32_t lvl, bool create)
{
	struct lpm_node *n = t->root;

	for (uint32_t l = 0; l < lvl; l++) {
		uint32_t idx = bits_at(data, level_start(t, l), level_width(t, l));
		struct lpm_slot *s = &n->slots[idx];
		struct lpm_node *c = atomic_load_explicit(&s->child, memory_order_relaxed);

		if (!c) {
			if (!create || !(c = node_new(t, l + 1, n, idx)))
				return NULL;
			atomic_store_explicit(&s->child, c, memory_order_release);
			n->nchildren++;
		}
		n = c;
	}
	return n;
}

/* slots [base, base + cnt) of prefix e's level: replace `from` (or shorter) by `to` */
static void fill_slots(struct sl_lpm *t, struct lpm_node *n, const struct lpm_elem *e,
		       struct lpm_elem *from, struct lpm_elem *to, bool insert)
{
	uint32_t lvl = level_of(t, e->prefixlen);
	uint32_t start = level_start(t, lvl), w = level_width(t, lvl);
	uint32_t base = bits_at(e->data_value, start, w);
	uint32_t cnt = 1u << (start + w - (e->prefixlen > start ? e->prefixlen : start));

	for (uint32_t i = base; i < base + cnt; i++) {
		struct lpm_elem *cur = atomic_load_explicit(&n->slots[i].leaf, memory_order_relaxed);

		if (cur == from || (insert && (!cur || cur->prefixlen < e->prefixlen)))
			atomic_store_explicit(&n->slots[i].leaf, to, memory_order_release);
	}
}

static long insert_locked(struct sl_lpm *t, struct lpm_elem *n, uint64_t flags)
{
	struct lpm_elem *old = exact_find(t, n->data_value, n->prefixlen);
	struct lpm_node *node;
	_Atomic(struct lpm_elem *) *link;

	if (old && flags == BPF_NOEXIST)
		return -EEXIST;
	if (!old && flags == BPF_EXIST)
		return -ENOENT;
	if (!old && t->count >= t->map.def.max_entries)
		return -ENOSPC;
	node = node_for(t, n->data_value, level_of(t, n->prefixlen), true);
	if (!node)
		return -ENOMEM;
	fill_slots(t, node, n, old, n, true);
	if (old) {
		link = exact_link(t, old);
		atomic_store_explicit(&n->next, atomic_load_explicit(&old->next,
			memory_order_relaxed), memory_order_relaxed);
		atomic_store_explicit(link, n, memory_order_release);
		retire(&t->retired, &old->rcu);
		return 0;
	}
	link = &t->heads[n->hash & t->hmask];
	atomic_store_explicit(&n->next, atomic_load_explicit(link, memory_order_relaxed),
			      memory_order_relaxed);
	atomic_store_explicit(link, n, memory_order_release);
	node->nprefixes++;
	t->count++;
	return 0;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* writer lock held: one more chunk of free elements (64 KB), up to the cap */
static void elem_chunk(struct sl_lpm *t)
{
	uint64_t k = (1u << 16) / t->elem_bytes + 1;
	uint8_t *c;

	if (k > t->elems_cap - t->elems_made)
		k = t->elems_cap - t->elems_made;
	if (!k || !(c = map_zalloc(SL_CACHE_LINE + k * t->elem_bytes)))
		return;
	*(uint8_t **)(void *)c = t->elem_chunks;
	t->elem_chunks = c;
	t->elems_made += k;
	for (uint64_t i = 0; i < k; i++) {
		struct sl_rcu_node *e = (struct sl_rcu_node *)(void *)
					(c + SL_CACHE_LINE + i * t->elem_bytes);

		e->next = t->free_elems;
		t->free_elems = e;
	}
}

/*
 * Writer lock held: a free element. A new chunk is allocated only when
 * every element made so far is in use or in its grace period. Workers
 * never wait (NULL once the cap is reached and every spare element is
 * still in its grace period); the control thread waits for one (bounded),
 * dropping the lock meanwhile.
 */
static struct lpm_elem *elem_get(struct sl_lpm *t, bool ctl)
{
	uint64_t deadline = 0;

	for (;;) {
		struct sl_rcu_node *n;

		reclaim(t);
		if (!t->free_elems)
			elem_chunk(t);
		n = t->free_elems;
		if (n) {
			t->free_elems = n->next;
			memset(n, 0, t->elem_bytes);
			return (struct lpm_elem *)(void *)n;
		}
		if (!ctl)
			return NULL;
		if (!deadline)
			deadline = now_ns() + CTL_WAIT_NS;
		else if (now_ns() > deadline)
			return NULL;
		sl_spin_unlock(&t->lock);
		sched_yield();
		sl_spin_lock(&t->lock);
	}
}

static long lpm_update_common(struct sl_map *map, const void *key, const void *value,
			      uint64_t flags, bool ctl)
{
	struct sl_lpm *t = to_lpm(map);
	const struct bpf_lpm_trie_key *k = key;
	struct lpm_elem *n;
	long err = -EBUSY;

	if (!sl_update_flags_ok(flags) || sl_key_u32(k) > t->nbits)
		return -EINVAL;
	sl_spin_lock(&t->lock);
	n = elem_get(t, ctl);
	if (n) {
		n->prefixlen = sl_key_u32(k);
		mask_copy(n->data_value, k->data, t->dsize, sl_key_u32(k));
		n->hash = lpm_hash(n->data_value, t->dsize, n->prefixlen);
		memcpy(n->data_value + t->voff, value, map->def.value_size);
		err = insert_locked(t, n, flags);
		if (err) {
			n->rcu.next = t->free_elems;
			t->free_elems = &n->rcu;
		}
	}
	sl_spin_unlock(&t->lock);
	return err;
}

static long lpm_update(struct sl_map *map, const void *key, const void *value, uint64_t flags)
{
	return lpm_update_common(map, key, value, flags, false);
}

static int lpm_ctl_update(struct sl_map *map, const void *key, const void *value,
			  uint64_t flags)
{
	return (int)lpm_update_common(map, key, value, flags, true);
}

/* the prefix that takes back e's slots: longest shorter one at e's level */
static struct lpm_elem *replacement(struct sl_lpm *t, const struct lpm_elem *e)
{
	uint32_t lvl = level_of(t, e->prefixlen);
	uint32_t lo = lvl ? level_start(t, lvl) + 1 : 0;
	uint8_t masked[LPM_DATA_MAX];

	for (uint32_t l = e->prefixlen; l-- > lo;) {
		struct lpm_elem *r;

		mask_copy(masked, e->data_value, t->dsize, l);
		r = exact_find(t, masked, l);
		if (r)
			return r;
	}
	return NULL;
}

/* free empty nodes bottom-up (never the root) */
static void prune(struct sl_lpm *t, struct lpm_node *n)
{
	while (n != t->root && !n->nprefixes && !n->nchildren) {
		struct lpm_node *parent = n->parent;

		atomic_store_explicit(&parent->slots[n->parent_idx].child, NULL,
				      memory_order_release);
		parent->nchildren--;
		retire(&t->retired_nodes, &n->rcu);
		n = parent;
	}
}

static long lpm_delete(struct sl_map *map, const void *key)
{
	struct sl_lpm *t = to_lpm(map);
	const struct bpf_lpm_trie_key *k = key;
	uint8_t masked[LPM_DATA_MAX];
	struct lpm_elem *e;
	struct lpm_node *node;

	if (sl_key_u32(k) > t->nbits)
		return -EINVAL;
	mask_copy(masked, k->data, t->dsize, sl_key_u32(k));
	sl_spin_lock(&t->lock);
	reclaim(t);
	e = exact_find(t, masked, sl_key_u32(k));
	if (!e) {
		sl_spin_unlock(&t->lock);
		return -ENOENT;
	}
	node = node_for(t, masked, level_of(t, e->prefixlen), false);
	fill_slots(t, node, e, e, replacement(t, e), false);
	atomic_store_explicit(exact_link(t, e), atomic_load_explicit(&e->next,
		memory_order_relaxed), memory_order_release);
	retire(&t->retired, &e->rcu);
	t->count--;
	node->nprefixes--;
	prune(t, node);
	sl_spin_unlock(&t->lock);
	return 0;
}

/* ---- control thread ---- */

static void put_key(const struct sl_lpm *t, const struct lpm_elem *e, void *out)
{
	struct bpf_lpm_trie_key *k = out;

	memcpy(&k->prefixlen, &e->prefixlen, sizeof(e->prefixlen));
	memcpy(k->data, e->data_value, t->dsize);
}

static int lpm_get_next_key(struct sl_map *map, const void *key, void *next_key)
{
	struct sl_lpm *t = to_lpm(map);
	const struct bpf_lpm_trie_key *k = key;
	struct lpm_elem *e = NULL;
	uint32_t b = 0;
	int ret = -ENOENT;

	sl_spin_lock(&t->lock);
	if (k && sl_key_u32(k) <= t->nbits) {
		uint8_t masked[LPM_DATA_MAX];

		mask_copy(masked, k->data, t->dsize, sl_key_u32(k));
		e = exact_find(t, masked, sl_key_u32(k));
	}
	if (e) {
		b = (e->hash & t->hmask) + 1;
		e = atomic_load_explicit(&e->next, memory_order_relaxed);
	}
	for (; !e && b <= t->hmask; b++)
		e = atomic_load_explicit(&t->heads[b], memory_order_relaxed);
	if (e) {
		put_key(t, e, next_key);
		ret = 0;
	}
	sl_spin_unlock(&t->lock);
	return ret;
}

static int lpm_dump(struct sl_map *map, sl_map_dump_cb cb, void *ctx)
{
	struct sl_lpm *t = to_lpm(map);
	size_t koff = SL_ROUND_UP(map->def.key_size, 8);  /* values 8-byte aligned */
	size_t rec = koff + SL_ROUND_UP(map->def.value_size, 8), cap = 0, n;
	uint8_t *buf = NULL;
	int ret = 0;

	for (uint32_t b = 0; b <= t->hmask && !ret; b++) {
		struct lpm_elem *e;

		if (!atomic_load_explicit(&t->heads[b], memory_order_relaxed))
			continue;
		sl_spin_lock(&t->lock);
		n = 0;
		for (e = atomic_load_explicit(&t->heads[b], memory_order_relaxed); e;
		     e = atomic_load_explicit(&e->next, memory_order_relaxed), n++) {
			if (n == cap) {
				void *p = realloc(buf, (cap * 2 + 8) * rec);

				if (!p) {
					ret = -ENOMEM;
					break;
				}
				buf = p;
				cap = cap * 2 + 8;
			}
			put_key(t, e, buf + n * rec);
			memcpy(buf + n * rec + koff, e->data_value + t->voff,
			       map->def.value_size);
		}
		sl_spin_unlock(&t->lock);
		for (size_t i = 0; i < n && !ret; i++)
			ret = cb(buf + i * rec, buf + i * rec + koff, ctx);
	}
	free(buf);
	return ret;
}

static uint64_t lpm_count(struct sl_map *map)
{
	struct sl_lpm *t = to_lpm(map);
	uint64_t n;

	sl_spin_lock(&t->lock);
	n = t->count;
	sl_spin_unlock(&t->lock);
	return n;
}

/* ---- creation ---- */

static int lpm_check(const struct sl_map_def *def, unsigned ncpus)
{
	if (def->key_size < 4 + LPM_DATA_MIN || def->key_size > 4 + LPM_DATA_MAX ||
	    def->value_size == 0 || def->value_size > LPM_VALUE_MAX || def->max_entries == 0)
		return -EINVAL;
	if (!(def->map_flags & BPF_F_NO_PREALLOC) || (def->map_flags & ~LPM_FLAGS))
		return -EINVAL;  /* the kernel requires BPF_F_NO_PREALLOC */
	return 0;
}

static void lpm_free(struct sl_map *map)
{
	struct sl_lpm *t = to_lpm(map);

	while (t->chunks) {
		uint8_t *c = t->chunks;

		t->chunks = *(uint8_t **)(void *)c;
		free(c);
	}
	free(t->root);
	while (t->elem_chunks) {
		uint8_t *c = t->elem_chunks;

		t->elem_chunks = *(uint8_t **)(void *)c;
		free(c);
	}
	map_lazy_free((void *)t->heads, sizeof(*t->heads) * ((size_t)t->hmask + 1));
	free(t);
}

static void lpm_init_elems(struct sl_lpm *t, const struct sl_map_def *def)
{
	uint32_t spare = def->max_entries / 4 > LPM_SPARE ? def->max_entries / 4 : LPM_SPARE;

	t->elem_bytes = SL_ROUND_UP(sizeof(struct lpm_elem) + t->voff + def->value_size, 8);
	t->elems_cap = (uint64_t)def->max_entries + spare;
}

/* Elements (with spares), exact-match heads and the root node; trie nodes
 * below the root come in LPM_CHUNK chunks as prefixes need them. */
static uint64_t lpm_mem_cost(const struct sl_map_def *def, unsigned ncpus)
{
	struct sl_lpm t = { 0 };
	uint64_t nb = 1;
	uint32_t dbits = (def->key_size - 4) * 8;

	(void)ncpus;
	t.voff = SL_ROUND_UP(def->key_size - 4, 8);
	lpm_init_elems(&t, def);
	while (nb < def->max_entries && nb < (1u << 22))
		nb <<= 1;
	return sizeof(t) + t.elems_cap * t.elem_bytes + nb * sizeof(*t.heads) +
	       sizeof(struct lpm_node) + ((uint64_t)1 << (dbits >= 16 ? 16 : 8)) *
	       sizeof(struct lpm_slot);
}

static struct sl_map *lpm_alloc(const struct sl_map_def *def, unsigned ncpus)
{
	struct sl_lpm *t = map_zalloc(sizeof(*t));
	uint32_t nb = 1;

	if (!t) {
		errno = ENOMEM;
		return NULL;
	}
	t->dsize = def->key_size - 4;
	t->nbits = t->dsize * 8;
	t->root_bits = t->nbits >= 16 ? 16 : 8;
	t->voff = SL_ROUND_UP(t->dsize, 8);
	t->node_bytes = SL_ROUND_UP(sizeof(struct lpm_node) + 256 * sizeof(struct lpm_slot),
				    SL_CACHE_LINE);
	while (nb < def->max_entries && nb < (1u << 22))
		nb <<= 1;
	t->hmask = nb - 1;
	t->heads = map_lazy_alloc(sizeof(*t->heads) * nb);
	t->root = node_new(t, 0, NULL, 0);
	lpm_init_elems(t, def);
	if (!t->heads || !t->root) {
		t->map.def = *def;
		lpm_free(&t->map);
		errno = ENOMEM;
		return NULL;
	}
	return &t->map;
}

const struct sl_map_ops lpm_map_ops = {
	.check = lpm_check,
	.alloc = lpm_alloc,
	.mem_cost = lpm_mem_cost,
	.free = lpm_free,
	.lookup = lpm_lookup,
	.update = lpm_update,
	.delete = lpm_delete,
	.ctl_lookup = lpm_ctl_lookup,
	.ctl_update = lpm_ctl_update,
	.count = lpm_count,
	.get_next_key = lpm_get_next_key,
	.dump = lpm_dump,
};
