/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Capture by verdict (`sluice ctl capture`): the worker half, inline, and
 * the control-thread API (capture.c).
 *
 * Each worker owns one single-producer single-consumer byte ring. The worker
 * is the producer (head), the control thread the consumer (tail); each
 * index is written by one side only and read by the other with acquire
 * order, so nothing locks and the worker never waits: a record that does not
 * fit is not written and counted in `lost`.
 *
 * A record is a struct sl_cap_rec followed by caplen bytes, padded to 8;
 * records may wrap around the end of the buffer (copied in two parts).
 *
 * Per packet, while a capture is on and the port is chosen:
 *   before sl_verdict_run: the first segment (up to snaplen) is copied into
 *     the ring past head, without publishing it (the program may change the
 *     packet in place, so this is the only moment its bytes are still the
 *     received ones);
 *   after it: if the verdict is chosen, the header goes in front (and with
 *     --both a second record with the bytes as the program left them) and
 *     head moves with release order; otherwise the copy is simply
 *     overwritten by the next packet.
 * With capture off, the worker pays one load and one predictable branch per
 * burst (worker.c); the per-packet code below runs only in capturing bursts.
 * Settings change only while the capture is off and every worker has passed
 * a quiescent state (sl_map_synchronize), so a burst sees one set of them.
 */
#ifndef SL_ENGINE_CAPTURE_H
#define SL_ENGINE_CAPTURE_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "engine_internal.h"

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

/** A worker's ring. */
struct sl_cap_ring {
	uint64_t head;   /**< producer (worker), release */
	uint64_t lost;   /**< chosen packets that did not fit (worker; reset while off) */
	uint8_t *buf;
	uint64_t pad0[5];
	uint64_t tail;   /**< consumer (control thread), release */
	uint64_t pad1[7];
} __attribute__((aligned(SL_RUN_CACHE_LINE)));

/** The engine's capture: settings, rings, and the control thread's session. */
struct sl_capture {
	/* what workers read (fixed while on) */
	uint32_t verdicts;  /**< bit per enum sl_verdict */
	uint32_t ports;     /**< bit per port index */
	uint32_t snaplen;
	bool both;
	struct sl_cap_ring *rings;  /**< one per worker */
	unsigned nrings;
	/* control thread only */
	struct ctl_client *client;  /**< the stream it goes to, NULL: off */
	uint64_t count;             /**< packets wanted, 0: until stopped */
	uint64_t packets;           /**< packets sent (a --both pair counts once) */
	uint64_t records;
};

static inline uint32_t sl_cap_rec_size(uint32_t caplen)
{
	return (uint32_t)((sizeof(struct sl_cap_rec) + caplen + 7u) & ~7u);
}

/* Copy @p n bytes to ring position @p pos (wrapping). Worker. */
static inline void sl_cap_put(struct sl_cap_ring *r, uint64_t pos, const void *src, uint32_t n)
{
	uint32_t off = (uint32_t)(pos & (SL_CAP_RING_BYTES - 1));
	uint32_t first = SL_CAP_RING_BYTES - off;

	if (n <= first) {
		memcpy(r->buf + off, src, n);
	} else {
		memcpy(r->buf + off, src, first);
		memcpy(r->buf, (const uint8_t *)src + first, n - first);
	}
}

static inline uint64_t sl_cap_free(const struct sl_cap_ring *r)
{
	return SL_CAP_RING_BYTES - (r->head - __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE));
}

/**
 * Before the program: copy the packet's first @p len bytes (up to snaplen)
 * past head, unpublished. @return the caplen copied + 1, or 0 when it does
 * not fit (the packet is lost if its verdict turns out chosen). Worker.
 */
static inline uint32_t sl_cap_pre(const struct sl_capture *cap, struct sl_cap_ring *r,
				  const uint8_t *data, uint32_t len)
{
	uint32_t caplen = len < cap->snaplen ? len : cap->snaplen;

	if (sl_cap_rec_size(caplen) > sl_cap_free(r))
		return 0;
	sl_cap_put(r, r->head + sizeof(struct sl_cap_rec), data, caplen);
	return caplen + 1;
}

/** One chosen packet as sl_cap_commit writes it. */
struct sl_cap_pkt {
	uint32_t pre;          /**< sl_cap_pre's result */
	unsigned port;
	enum sl_verdict verdict;
	uint32_t orig_len;     /**< wire length as received */
	uint64_t ts;
	const uint8_t *adata;  /**< --both: the first segment as the program left it */
	uint32_t alen;         /**< its bytes */
	uint32_t aorig_len;    /**< the wire length after the program */
};

/**
 * After the program, for a chosen verdict: publish the copy made by
 * sl_cap_pre, with the after record when --both; all or nothing (what does
 * not fit is one lost packet). Worker.
 */
static inline void sl_cap_commit(const struct sl_capture *cap, struct sl_cap_ring *r,
				 const struct sl_cap_pkt *p)
{
	struct sl_cap_rec h = { .orig_len = p->orig_len, .port = (uint16_t)p->port,
				.verdict = (uint8_t)p->verdict, .ts_ns = p->ts };
	uint64_t pos = r->head;

	if (!p->pre) {
		r->lost++;
		return;
	}
	h.caplen = p->pre - 1;
	h.size = sl_cap_rec_size(h.caplen);
	if (cap->both) {
		uint32_t acap = p->alen < cap->snaplen ? p->alen : cap->snaplen;
		struct sl_cap_rec a = h;

		if (h.size + sl_cap_rec_size(acap) > sl_cap_free(r)) {
			r->lost++;
			return;
		}
		a.caplen = acap;
		a.size = sl_cap_rec_size(acap);
		a.after = 1;
		a.orig_len = p->aorig_len;
		sl_cap_put(r, pos + h.size, &a, sizeof(a));
		sl_cap_put(r, pos + h.size + sizeof(a), p->adata, acap);
		sl_cap_put(r, pos, &h, sizeof(h));
		__atomic_store_n(&r->head, pos + h.size + a.size, __ATOMIC_RELEASE);
		return;
	}
	sl_cap_put(r, pos, &h, sizeof(h));
	__atomic_store_n(&r->head, pos + h.size, __ATOMIC_RELEASE);
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
/** Free the rings (engine exit, workers stopped). */
void sl_capture_free(struct sl_engine *eng);

#endif
