/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * maps/ringbuf.c: BPF_MAP_TYPE_RINGBUF, events from programs (workers) to
 * the control thread, with the kernel's helper semantics: reserve returns
 * NULL when full, output returns -EAGAIN, records are consumed in
 * reservation order, a record still being written holds back the ones
 * after it, discarded records are skipped.
 *
 * Layout: max_entries bytes (a power-of-2 multiple of 4096) of 8-byte
 * aligned records, each an 8-byte header { u32 state; u32 offset of the
 * header from the data area } followed by the data. state is 0 (claimed,
 * header not written yet), BUSY|len, READY|len (submitted) or
 * DISCARD|len. A record never wraps: when it would, the producer claims
 * the tail of the area as well and marks it as a discarded padding record.
 *
 * Concurrency: lock-free multi-producer, single consumer.
 *   - Producers claim [prod, prod + size) with a CAS on prod after checking
 *     the space against cons (acquire); then write the header (release).
 *   - Invariant: every byte outside [cons, prod) is zero. The consumer
 *     zeroes each record after handing it out and only then advances cons
 *     (release), so a header still reading 0 means "claimed, not written":
 *     the consumer stops there, as the kernel's consumer stops at BUSY.
 *   - submit/discard publish the state word with release, after the data.
 * The data area is preceded by a cache line holding the ringbuf pointer,
 * so submit/discard find their map from the record alone.
 */
#include <stdlib.h>

#include "maps_internal.h"

#define RB_BUSY (1u << 31)
#define RB_DISCARD (1u << 30)
#define RB_READY (1u << 29)
#define RB_LEN_MASK (RB_READY - 1)
#define RB_HDR 8u
#define RB_PAGE 4096u

struct rb_hdr {
	_Atomic uint32_t state;
	uint32_t off;
};

struct sl_ringbuf {
	struct sl_map map;
	uint64_t size;
	uint8_t *area;                           /* owned: one line + data */
	uint8_t *data;                           /* area + SL_CACHE_LINE */
	_Alignas(SL_CACHE_LINE) _Atomic uint64_t prod;
	_Alignas(SL_CACHE_LINE) _Atomic uint64_t cons;
	_Atomic uint64_t dropped;                /* reservations refused: ring full */
};

static inline struct sl_ringbuf *to_rb(struct sl_map *m)
{
	return SL_CONTAINER_OF(m, struct sl_ringbuf, map);
}

static int rb_check(const struct sl_map_def *def, unsigned ncpus)
{
	uint32_t n = def->max_entries;

	if (def->key_size || def->value_size || (def->map_flags & ~BPF_F_NUMA_NODE))
		return -EINVAL;
	if (n < RB_PAGE || (n & (n - 1)) || n > (1u << 30))
		return -EINVAL;
	return 0;
}

static struct sl_map *rb_alloc(const struct sl_map_def *def, unsigned ncpus)
{
	struct sl_ringbuf *rb = map_zalloc(sizeof(*rb));

	if (rb) {
		rb->size = def->max_entries;
		rb->area = map_zalloc(SL_CACHE_LINE + rb->size);
		if (rb->area) {
			rb->data = rb->area + SL_CACHE_LINE;
			*(struct sl_ringbuf **)rb->area = rb;
			return &rb->map;
		}
		free(rb);
	}
	errno = ENOMEM;
	return NULL;
}

static void rb_free(struct sl_map *map)
{
	struct sl_ringbuf *rb = to_rb(map);

	free(rb->area);
	free(rb);
}

static inline struct rb_hdr *hdr_at(struct sl_ringbuf *rb, uint64_t pos)
{
	return (struct rb_hdr *)(void *)(rb->data + (pos & (rb->size - 1)));
}

/* worker, lock-free: claim space with CAS, then write the BUSY header */
void *sl_map_ringbuf_reserve(struct sl_map *map, uint64_t size, uint64_t flags)
{
	struct sl_ringbuf *rb;
	uint64_t pos, total, pad, cons;
	struct rb_hdr *h;

	if (map->def.type != BPF_MAP_TYPE_RINGBUF || flags)
		return NULL;
	rb = to_rb(map);
	total = SL_ROUND_UP(size + RB_HDR, 8);
	if (size > RB_LEN_MASK || total > rb->size)
		return NULL;
	pos = atomic_load_explicit(&rb->prod, memory_order_relaxed);
	do {
		uint64_t off = pos & (rb->size - 1);

		cons = atomic_load_explicit(&rb->cons, memory_order_acquire);
		pad = off + total > rb->size ? rb->size - off : 0;
		if (pos + pad + total - cons > rb->size) {
			atomic_fetch_add_explicit(&rb->dropped, 1, memory_order_relaxed);
			return NULL;
		}
	} while (!atomic_compare_exchange_weak_explicit(&rb->prod, &pos, pos + pad + total,
							memory_order_acq_rel,
							memory_order_relaxed));
	if (pad) {
		h = hdr_at(rb, pos);
		h->off = (uint32_t)(pos & (rb->size - 1));
		atomic_store_explicit(&h->state, RB_DISCARD | (uint32_t)(pad - RB_HDR),
				      memory_order_release);
	}
	h = hdr_at(rb, pos + pad);
	h->off = (uint32_t)((pos + pad) & (rb->size - 1));
	atomic_store_explicit(&h->state, RB_BUSY | (uint32_t)size, memory_order_release);
	return h + 1;
}

static void rb_commit(void *data, uint32_t flag)
{
	struct rb_hdr *h = (struct rb_hdr *)data - 1;
	uint32_t len = atomic_load_explicit(&h->state, memory_order_relaxed) & RB_LEN_MASK;

	atomic_store_explicit(&h->state, flag | len, memory_order_release);
}

/* worker: flags BPF_RB_NO_WAKEUP / BPF_RB_FORCE_WAKEUP mean nothing here */
void sl_map_ringbuf_submit(void *data, uint64_t flags)
{
	rb_commit(data, RB_READY);
}

void sl_map_ringbuf_discard(void *data, uint64_t flags)
{
	rb_commit(data, RB_DISCARD);
}

long sl_map_ringbuf_output(struct sl_map *map, const void *data, uint64_t size, uint64_t flags)
{
	void *rec;

	if (map->def.type != BPF_MAP_TYPE_RINGBUF ||
	    (flags & ~(uint64_t)(BPF_RB_NO_WAKEUP | BPF_RB_FORCE_WAKEUP)))
		return -EINVAL;
	rec = sl_map_ringbuf_reserve(map, size, 0);
	if (!rec)
		return -EAGAIN;
	memcpy(rec, data, size);
	sl_map_ringbuf_submit(rec, 0);
	return 0;
}

/* control thread, single consumer */
long sl_map_ringbuf_consume(struct sl_map *map, sl_map_ringbuf_cb cb, void *ctx)
{
	struct sl_ringbuf *rb;
	uint64_t c, p;
	long n = 0;
	int stop = 0;

	if (map->def.type != BPF_MAP_TYPE_RINGBUF)
		return -EINVAL;
	rb = to_rb(map);
	c = atomic_load_explicit(&rb->cons, memory_order_relaxed);
	p = atomic_load_explicit(&rb->prod, memory_order_acquire);
	while (c < p && !stop) {
		struct rb_hdr *h = hdr_at(rb, c);
		uint32_t st = atomic_load_explicit(&h->state, memory_order_acquire);
		uint32_t len = st & RB_LEN_MASK;
		uint64_t total = SL_ROUND_UP((uint64_t)len + RB_HDR, 8);

		if (st == 0 || (st & RB_BUSY))
			break;
		if (st & RB_READY) {
			stop = cb(h + 1, len, ctx);
			n++;
		}
		memset(h + 1, 0, total - RB_HDR);
		h->off = 0;
		atomic_store_explicit(&h->state, 0, memory_order_relaxed);
		c += total;
		atomic_store_explicit(&rb->cons, c, memory_order_release);
	}
	return n;
}

/* worker or control thread: bpf_ringbuf_query */
uint64_t sl_map_ringbuf_query(struct sl_map *map, uint64_t flags)
{
	struct sl_ringbuf *rb;

	if (map->def.type != BPF_MAP_TYPE_RINGBUF)
		return 0;
	rb = to_rb(map);
	switch (flags) {
	case BPF_RB_AVAIL_DATA:
		return sl_map_ringbuf_avail(map);
	case BPF_RB_RING_SIZE:
		return rb->size;
	case BPF_RB_CONS_POS:
		return atomic_load_explicit(&rb->cons, memory_order_acquire);
	case BPF_RB_PROD_POS:
		return atomic_load_explicit(&rb->prod, memory_order_acquire);
	default:
		return 0;
	}
}

uint64_t sl_map_ringbuf_avail(struct sl_map *map)
{
	struct sl_ringbuf *rb;

	if (map->def.type != BPF_MAP_TYPE_RINGBUF)
		return 0;
	rb = to_rb(map);
	return atomic_load(&rb->prod) - atomic_load(&rb->cons);
}

const struct sl_map_ops ringbuf_map_ops = {
	.check = rb_check,
	.alloc = rb_alloc,
	.free = rb_free,
};

uint64_t sl_map_ringbuf_dropped(struct sl_map *map)
{
	if (map->def.type != BPF_MAP_TYPE_RINGBUF)
		return 0;
	return atomic_load_explicit(&to_rb(map)->dropped, memory_order_relaxed);
}
