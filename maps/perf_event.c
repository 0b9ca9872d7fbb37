/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * maps/perf_event.c: BPF_MAP_TYPE_PERF_EVENT_ARRAY, the older channel for
 * events from programs (bpf_perf_event_output) to user space, as xdpdump
 * and many tracing-style XDP programs use it.
 *
 * In the kernel each index holds a perf event opened by user space on one
 * CPU, and a program may only write to the event of the CPU it runs on.
 * sluice has no perf events: index i is worker slot i (sl_map_cpu), and
 * every slot below min(max_entries, ncpus) has a ring from creation on, as
 * if user space had opened an event on every CPU (libbpf's perf_buffer).
 * max_entries 0 means ncpus (libbpf's default for this type).
 *
 * Errors as the kernel's __bpf_perf_event_output: index >= max_entries
 * -E2BIG; an index with no ring (>= ncpus) -ENOENT; another worker's
 * index -EOPNOTSUPP (the kernel: event->oncpu != this CPU); a full ring
 * -ENOSPC and the sample is counted as lost (the kernel counts lost
 * samples and reports them to the reader). Samples larger than a
 * perf record can carry (65535 bytes with headers) or than the ring
 * give -E2BIG.
 *
 * Layout: per slot, SL_PERF_RING_SIZE bytes of records, each an 8-byte
 * header { u32 len; u32 flags } and the data padded to 8 bytes. A record
 * never wraps: when it would, the producer writes a PAD header for the
 * rest of the area and starts again at offset 0.
 *
 * Concurrency: one lock-free single-producer / single-consumer ring per
 * slot. The producer is the worker whose sl_map_cpu is the slot (the only
 * thread writing that slot), the consumer the control thread. The
 * producer writes the record, then publishes head (release); the consumer
 * reads head (acquire), the records, then publishes tail (release), which
 * the producer reads (acquire) before reusing the space. lost is written
 * only by the producer and read by the control thread (relaxed atomics).
 */
#include <stdlib.h>

#include "maps_internal.h"

#define PE_HDR 8u
#define PE_PAD 1u              /* header flag: skip to the start of the area */
#define PE_MAX_SAMPLE (0xffffu - 16u)  /* perf header + raw size word, 8-aligned */

struct pe_hdr {
	uint32_t len;
	uint32_t flags;
};

struct pe_ring {
	_Alignas(SL_CACHE_LINE) _Atomic uint64_t head;   /* producer */
	_Atomic uint64_t lost;                             /* producer */
	_Alignas(SL_CACHE_LINE) _Atomic uint64_t tail;   /* consumer */
	uint8_t *data;
};

struct sl_perf_map {
	struct sl_map map;
	unsigned nrings;             /* min(max_entries, ncpus) */
	struct pe_ring *rings;
};

static inline struct sl_perf_map *to_pe(struct sl_map *m)
{
	return SL_CONTAINER_OF(m, struct sl_perf_map, map);
}

static int pe_check(const struct sl_map_def *def, unsigned ncpus)
{
	if (def->key_size != 4 || def->value_size != 4 || !def->max_entries)
		return -EINVAL;
	if (def->map_flags & ~(uint32_t)(BPF_F_NUMA_NODE | BPF_F_RDONLY | BPF_F_WRONLY |
					 BPF_F_PRESERVE_ELEMS))
		return -EINVAL;
	return 0;
}

static void pe_free(struct sl_map *map)
{
	struct sl_perf_map *pe = to_pe(map);

	for (unsigned i = 0; pe->rings && i < pe->nrings; i++)
		free(pe->rings[i].data);
	free(pe->rings);
	free(pe);
}

static struct sl_map *pe_alloc(const struct sl_map_def *def, unsigned ncpus)
{
	struct sl_perf_map *pe = map_zalloc(sizeof(*pe));

	if (!pe)
		goto nomem;
	pe->nrings = def->max_entries < ncpus ? def->max_entries : ncpus;
	pe->rings = map_zalloc(pe->nrings * sizeof(*pe->rings));
	if (!pe->rings)
		goto nomem_pe;
	for (unsigned i = 0; i < pe->nrings; i++) {
		pe->rings[i].data = map_zalloc(SL_PERF_RING_SIZE);
		if (!pe->rings[i].data)
			goto nomem_pe;
	}
	return &pe->map;
nomem_pe:
	pe_free(&pe->map);
nomem:
	errno = ENOMEM;
	return NULL;
}

static struct pe_hdr *hdr_at(struct pe_ring *r, uint64_t pos)
{
	return (struct pe_hdr *)(void *)(r->data + (pos & (SL_PERF_RING_SIZE - 1)));
}

/* worker, this slot's only producer: claim room for @p total bytes, or NULL */
static uint8_t *ring_claim(struct pe_ring *r, uint64_t total, uint64_t *next)
{
	uint64_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
	uint64_t tail = atomic_load_explicit(&r->tail, memory_order_acquire);
	uint64_t off = head & (SL_PERF_RING_SIZE - 1);
	uint64_t pad = off + total > SL_PERF_RING_SIZE ? SL_PERF_RING_SIZE - off : 0;

	if (head + pad + total - tail > SL_PERF_RING_SIZE)
		return NULL;
	if (pad)
		*hdr_at(r, head) = (struct pe_hdr){ (uint32_t)(pad - PE_HDR), PE_PAD };
	*next = head + pad + total;
	return (uint8_t *)hdr_at(r, head + pad);
}

long sl_map_perf_event_output(struct sl_map *map, uint64_t index, const void *data, uint64_t size,
			  const void *extra, uint64_t extra_size)
{
	struct sl_perf_map *pe;
	struct pe_ring *r;
	uint64_t len = size + extra_size, total, next;
	uint8_t *rec;

	if (map->def.type != BPF_MAP_TYPE_PERF_EVENT_ARRAY)
		return -EINVAL;
	pe = to_pe(map);
	if (index == BPF_F_CURRENT_CPU)
		index = sl_map_cpu;
	if (index >= map->def.max_entries)
		return -E2BIG;
	if (index >= pe->nrings)
		return -ENOENT;
	if (index != sl_map_cpu)
		return -EOPNOTSUPP;
	total = SL_ROUND_UP(len + PE_HDR, 8);
	if (len > PE_MAX_SAMPLE || total > SL_PERF_RING_SIZE)
		return -E2BIG;
	r = &pe->rings[index];
	rec = ring_claim(r, total, &next);
	if (!rec) {
		atomic_store_explicit(&r->lost, atomic_load_explicit(&r->lost, memory_order_relaxed) + 1,
				      memory_order_relaxed);
		return -ENOSPC;
	}
	*(struct pe_hdr *)(void *)rec = (struct pe_hdr){ (uint32_t)len, 0 };
	if (size)
		memcpy(rec + PE_HDR, data, size);
	if (extra_size)
		memcpy(rec + PE_HDR + size, extra, extra_size);
	atomic_store_explicit(&r->head, next, memory_order_release);
	return 0;
}

/* control thread: the records of one slot; *stop set when @p cb asked to */
static long ring_consume(struct pe_ring *r, uint32_t cpu, sl_map_perf_event_cb cb, void *ctx,
			 int *stop)
{
	uint64_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
	uint64_t head = atomic_load_explicit(&r->head, memory_order_acquire);
	long n = 0;

	while (tail < head && !*stop) {
		const struct pe_hdr *h = hdr_at(r, tail);

		if (!(h->flags & PE_PAD)) {
			*stop = cb(cpu, h + 1, h->len, ctx);
			n++;
		}
		tail += SL_ROUND_UP((uint64_t)h->len + PE_HDR, 8);
		atomic_store_explicit(&r->tail, tail, memory_order_release);
	}
	return n;
}

long sl_map_perf_event_consume(struct sl_map *map, sl_map_perf_event_cb cb, void *ctx)
{
	struct sl_perf_map *pe;
	long n = 0;
	int stop = 0;

	if (map->def.type != BPF_MAP_TYPE_PERF_EVENT_ARRAY)
		return -EINVAL;
	pe = to_pe(map);
	for (uint32_t c = 0; c < pe->nrings && !stop; c++)
		n += ring_consume(&pe->rings[c], c, cb, ctx, &stop);
	return n;
}

uint64_t sl_map_perf_event_lost(struct sl_map *map)
{
	struct sl_perf_map *pe;
	uint64_t lost = 0;

	if (map->def.type != BPF_MAP_TYPE_PERF_EVENT_ARRAY)
		return 0;
	pe = to_pe(map);
	for (unsigned c = 0; c < pe->nrings; c++)
		lost += atomic_load_explicit(&pe->rings[c].lost, memory_order_relaxed);
	return lost;
}

const struct sl_map_ops perf_event_map_ops = {
	.check = pe_check,
	.alloc = pe_alloc,
	.free = pe_free,
};
