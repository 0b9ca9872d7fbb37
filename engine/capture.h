/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Capture by verdict (`sluice ctl capture`): the worker half, inline, and
 * the control-thread API (capture.c).
 *
 * Each worker owns one single-producer single-consumer byte ring. The worker
 * is the producer (head), the control thread the consumer (tail); each
 * index is written by one side only, on its own cache line, so nothing
 * locks and the worker never waits: a record that does not fit is not
 * written and counted in `lost`. A record is a struct sl_cap_rec followed
 * by caplen bytes, padded to 8; records may wrap around the end of the
 * buffer (copied in two parts).
 *
 * A capturing burst (worker.c's capture hook) keeps its producer state in a
 * struct sl_cap_burst, in registers:
 *   - the decision is taken after sl_verdict_run: a packet whose verdict or
 *     port is not chosen costs one test of a bit mask, nothing else;
 *   - a chosen packet is copied then, up to snaplen, straight from the
 *     packet: its bytes are still the received ones when the running program
 *     cannot write packet memory (capture.c proves that once per program:
 *     sl_capture_prog_ro()). Only for a program that may write packets
 *     (or that tail-calls, or passes packet pointers to a helper that
 *     writes) is each packet of a chosen port copied before the program,
 *     unpublished past the write position (the old way);
 *   - the producer keeps its own copy of the consumer's tail (tail_seen,
 *     on the producer's line) and reads the consumer's line only when that
 *     copy says the ring is full;
 *   - head is published once per burst, with release order.
 * With capture off, the worker pays one load and one predictable branch per
 * burst (worker.c). Settings change only while the capture is off and every
 * worker has passed a quiescent state (sl_map_synchronize), so a burst sees
 * one set of them; the read-only program (ro_exec) may change while on
 * (hot reload clears it before its swap: see sl_capture_prog_changed()).
 */
#ifndef SL_ENGINE_CAPTURE_H
#define SL_ENGINE_CAPTURE_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <rte_branch_prediction.h>

#include "engine_internal.h"
#include "verdict.h"

#define SL_CAP_RING_BYTES (4u << 20)  /**< per worker, a power of two */
#define SL_CAP_MAX_SNAPLEN 65535u

/** One record's header in the ring. */
struct sl_cap_rec {
	uint32_t size;      /**< bytes of the record with this header, a multiple of 8 */
	uint32_t caplen;    /**< bytes that follow */
	uint32_t orig_len;  /**< the packet's length on the wire (all segments) */
	uint16_t port;      /**< port index */
	uint8_t verdict;    /**< enum sl_verdict */
	uint8_t after;      /**< 0: as received, 1: as the program left it (--both) */
	uint64_t ts_ns;     /**< CLOCK_REALTIME of the burst */
	uint64_t pad;
};

/** A worker's ring: the producer's line, then the consumer's. */
struct sl_cap_ring {
	uint64_t head;       /**< producer (worker): published end, release, once per burst */
	uint64_t tail_seen;  /**< producer: the consumer's tail when last read */
	uint64_t lost;       /**< chosen packets that did not fit (worker; reset while off) */
	uint8_t *buf;
	uint64_t pad0[4];
	uint64_t tail;       /**< consumer (control thread), release */
	uint64_t pad1[7];
} __attribute__((aligned(SL_RUN_CACHE_LINE)));

/** The engine's capture: settings, rings, and the control thread's session. */
struct sl_capture {
	/* what workers read (fixed while on, but ro_exec) */
	uint32_t verdicts;  /**< bit per enum sl_verdict */
	uint32_t ports;     /**< bit per port index */
	uint32_t snaplen;
	bool both;
	const struct sl_exec *ro_exec;  /**< running exec proven not to write packets, or NULL */
	struct sl_cap_ring *rings;      /**< one per worker */
	unsigned nrings;
	/* control thread only */
	struct ctl_client *client;  /**< the stream it goes to, NULL: off */
	uint64_t count;             /**< packets wanted, 0: until stopped */
	uint64_t packets;           /**< packets sent (a --both pair counts once) */
	uint64_t records;
};

/** One capturing burst's producer state (worker, on the stack / in registers). */
struct sl_cap_burst {
	struct sl_cap_ring *r;
	uint8_t *buf;
	uint64_t pos;       /**< where the next record goes (past head: unpublished) */
	uint64_t limit;     /**< pos may grow up to this (tail_seen + ring size) */
	uint64_t ts;        /**< the burst's time, taken at its first record */
	uint32_t verdicts;  /**< chosen verdicts, 0 when the port is not chosen */
	uint32_t snaplen;
	uint16_t port;
	bool pre;           /**< copy before the program (it may write packets) */
	bool both;
};

static inline uint32_t sl_cap_rec_size(uint32_t caplen)
{
	return (uint32_t)((sizeof(struct sl_cap_rec) + caplen + 7u) & ~7u);
}

/* Copy @p n bytes to ring position @p pos (wrapping). Worker. */
static inline void sl_cap_put(uint8_t *buf, uint64_t pos, const void *src, uint32_t n)
{
	uint32_t off = (uint32_t)(pos & (SL_CAP_RING_BYTES - 1));
	uint32_t first = SL_CAP_RING_BYTES - off;

	if (likely(n <= first)) {
		memcpy(buf + off, src, n);
	} else {
		memcpy(buf + off, src, first);
		memcpy(buf, (const uint8_t *)src + first, n - first);
	}
}

/** Start a capturing burst of port @p port run by @p ex. Worker. */
static inline void sl_cap_burst_begin(struct sl_cap_burst *b, const struct sl_capture *cap,
				      unsigned worker, unsigned port, const struct sl_exec *ex)
{
	struct sl_cap_ring *r = &cap->rings[worker];

	b->r = r;
	b->buf = r->buf;
	b->pos = r->head;
	b->limit = r->tail_seen + SL_CAP_RING_BYTES;
	b->ts = 0;
	b->verdicts = ((cap->ports >> port) & 1) ? cap->verdicts : 0;
	b->snaplen = cap->snaplen;
	b->port = (uint16_t)port;
	b->pre = b->verdicts && ex != __atomic_load_n(&cap->ro_exec, __ATOMIC_RELAXED);
	b->both = cap->both;
}

/* Room for @p n more bytes past pos? Reads the consumer's line only when the cached tail says no. */
static inline bool sl_cap_room(struct sl_cap_burst *b, uint64_t n)
{
	if (likely(b->pos + n <= b->limit))
		return true;
	b->r->tail_seen = __atomic_load_n(&b->r->tail, __ATOMIC_ACQUIRE);
	b->limit = b->r->tail_seen + SL_CAP_RING_BYTES;
	return b->pos + n <= b->limit;
}

/**
 * Before the program, when b->pre: copy the packet's first @p len bytes (up
 * to snaplen) past pos, unpublished. @return caplen + 1, or 0 when it does
 * not fit (the packet is lost if its verdict turns out chosen). Worker.
 */
static inline uint32_t sl_cap_pre(struct sl_cap_burst *b, const uint8_t *data, uint32_t len)
{
	uint32_t caplen = len < b->snaplen ? len : b->snaplen;

	if (!sl_cap_room(b, sl_cap_rec_size(caplen)))
		return 0;
	sl_cap_put(b->buf, b->pos + sizeof(struct sl_cap_rec), data, caplen);
	return caplen + 1;
}

/** Is verdict @p v recorded in this burst? Worker. */
static inline bool sl_cap_chosen(const struct sl_cap_burst *b, enum sl_verdict v)
{
	return (b->verdicts >> v) & 1;
}

/** A chosen packet, as sl_cap_take() records it. */
struct sl_cap_pkt {
	const uint8_t *data;   /**< the first segment as received */
	uint32_t len;          /**< its bytes */
	uint32_t orig_len;     /**< wire length as received */
	uint32_t pre;          /**< sl_cap_pre()'s result when b->pre */
	enum sl_verdict verdict;
	const uint8_t *adata;  /**< --both: the first segment as the program left it */
	uint32_t alen;         /**< its bytes */
	uint32_t aorig_len;    /**< the wire length after the program */
};

static inline uint64_t sl_cap_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/*
 * After the program, for a chosen verdict: write the record (and the after
 * record with --both) at pos, all or nothing; what does not fit is one lost
 * packet. Published by sl_cap_burst_end(). Worker.
 */
static inline void sl_cap_take(struct sl_cap_burst *b, const struct sl_cap_pkt *p)
{
	struct sl_cap_rec h = { .orig_len = p->orig_len, .port = b->port,
				.verdict = (uint8_t)p->verdict };
	uint32_t acap = 0, asize = 0;

	h.caplen = b->pre ? p->pre - 1 : (p->len < b->snaplen ? p->len : b->snaplen);
	h.size = sl_cap_rec_size(h.caplen);
	if (b->both) {
		acap = p->alen < b->snaplen ? p->alen : b->snaplen;
		asize = sl_cap_rec_size(acap);
	}
	if ((b->pre && !p->pre) || !sl_cap_room(b, (uint64_t)h.size + asize)) {
		b->r->lost++;
		return;
	}
	if (!b->ts)
		b->ts = sl_cap_now();
	h.ts_ns = b->ts;
	if (!b->pre)
		sl_cap_put(b->buf, b->pos + sizeof(h), p->data, h.caplen);
	sl_cap_put(b->buf, b->pos, &h, sizeof(h));
	b->pos += h.size;
	if (b->both) {
		h.caplen = acap;
		h.size = asize;
		h.after = 1;
		h.orig_len = p->aorig_len;
		sl_cap_put(b->buf, b->pos, &h, sizeof(h));
		sl_cap_put(b->buf, b->pos + sizeof(h), p->adata, acap);
		b->pos += asize;
	}
}

/** End of a capturing burst: publish its records with one release store. Worker. */
static inline void sl_cap_burst_end(struct sl_cap_burst *b)
{
	if (b->pos != b->r->head)
		__atomic_store_n(&b->r->head, b->pos, __ATOMIC_RELEASE);
}

struct sl_ctl;
struct ctl_client;
struct json_t;

/** `capture` request: start streaming to @p c. The response result, or NULL + err. Control thread. */
struct json_t *sl_capture_open(struct sl_ctl *ctl, struct ctl_client *c, struct json_t *req,
			       char *err, size_t err_len);
/** Move ring records to the capture client (as far as it reads). Control loop turn. */
void sl_capture_drain(struct sl_ctl *ctl);
/** End the capture of @p c (if it has one), with an end line saying @p why. */
void sl_capture_finish(struct sl_ctl *ctl, struct ctl_client *c, const char *why);
/** The client went away: capture off, no line. */
void sl_capture_gone(struct sl_ctl *ctl, struct ctl_client *c);
/**
 * Hot reload, control thread: before the swap (@p before true) no program
 * counts as read-only; after it and sl_map_synchronize(), the new one is
 * checked (sl_capture_prog_ro) while a capture runs.
 */
void sl_capture_prog_changed(struct sl_engine *eng, bool before);
/**
 * True when @p prog provably never writes packet memory: no store through a
 * register that may hold a packet pointer, no tail call, no packet pointer
 * given to a helper that writes memory. Conservative (flow-insensitive): a
 * false answer only means the capture copies before the program. Control thread.
 */
bool sl_capture_prog_ro(const struct sl_prog *prog);
/** Free the rings (engine exit, workers stopped). */
void sl_capture_free(struct sl_engine *eng);

#endif
