/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The worker: burst loop, verdicts applied to mbufs, TX.
 *
 * Each worker lcore polls RX queues <worker index> + k * <workers> of every
 * port (one queue each unless the config gives a port more rx_queues), and
 * sends on TX queue <worker index> of every port, so no two workers share
 * a queue and nothing locks. Per burst:
 *
 *   rte_eth_rx_burst (32)
 *   -> the program to run is read once (eng->exec: hot reload swaps it)
 *   -> a JIT-compiled XDP program with an egress port (the common case):
 *      the xdp_md fields that never change are set once per burst; per
 *      packet only what the program can observe (sl_exec.xdp_ctx: all
 *      fields when a helper takes the context, else data/data_meta/
 *      data_end, else nothing). With the JIT's burst entry (sl_exec.burst,
 *      jit/burst.c: the program compiled inside a loop over the mbufs)
 *      burst_fast(), inlined in the loop, calls it once for a run of
 *      passes, and a burst of plain passes goes straight to TX and its
 *      counts; otherwise process_burst() -> process_burst_xdp() calls the
 *      program per packet. A packet passed
 *      with its bounds untouched stays in the RX array (compacted in
 *      place, in order; nothing moves before the first other verdict), so
 *      an all-pass burst goes to rte_eth_tx_burst as received; any other
 *      outcome goes through sl_verdict_xdp_result (verdict.c) and is
 *      applied like below. Pass is counted once per burst (n - others);
 *      the TX buffers are flushed and the other verdicts published only
 *      after a burst that had others.
 *   -> otherwise (socket filters, the interpreter, egress "drop"): for each
 *      mbuf sl_verdict_run (verdict.c, the code the replay runs too) over
 *      its first segment, then the verdict applied: free, or into the TX
 *      buffer of the target port
 *   -> rte_eth_tx_burst of the in-place array and of every non-empty TX
 *      buffer; what TX refuses is freed and counted in drop (tx_drop)
 *   -> the burst's counters published, rx last with release order: once the
 *      control thread sees rx of a port reach N, N packets are fully
 *      processed and counted
 *   -> sl_map_quiescent()
 *
 * While `sluice ctl capture` runs, bursts take process_burst_capture()
 * (capture.h); otherwise the cost is one load and one predictable branch
 * per burst.
 *
 * Every received packet ends in exactly one of tx, drop, error, and has
 * exactly one verdict, so rx = tx + drop + error and rx = the sum of the
 * verdict counts hold at every burst boundary.
 *
 *   verdict                      mbuf                          outcome
 *   aborted, redirect_failed     freed                         error
 *   drop                         freed                         drop
 *   pass, tx, redirect, trim     bounds synced, to the port    tx (or drop if the
 *                                (egress "drop": freed)        port refuses it)
 *
 * If the program moved data (bpf_xdp_adjust_head) or data_end
 * (bpf_xdp_adjust_tail), the mbuf is adjusted to match before TX; a change
 * that cannot be applied (a multi-segment packet cut inside a later
 * segment) is an error, never a silent cut.
 *
 * Worker, no locks, no allocation, no logging: it counts.
 */
#include <stddef.h>
#include <string.h>
#include <time.h>

#include <rte_branch_prediction.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>

#include "capture.h"
#include "engine_internal.h"
#include "sl_maps.h"
#include "verdict.h"

#define PREFETCH_AHEAD 4

/* Single-writer counter update that the control thread may read at any time. */
#define STAT_ADD(field, v) __atomic_store_n(&(field), (field) + (v), __ATOMIC_RELAXED)

/* One burst's counts, kept in registers and the stack, published once. */
struct burst_counts {
	uint64_t verdict[SL_VERDICT_COUNT];
	uint64_t drop;
	uint64_t error;
	/* packets that went through apply() (TX buffers, frees), not kept in place */
	uint64_t other;
};

/* Make the mbuf match the bounds the program left in @p out. */
static int sync_mbuf(struct rte_mbuf *m, const struct sl_verdict_out *out)
{
	char *data = rte_pktmbuf_mtod(m, char *);
	ptrdiff_t head = (char *)out->data - data;

	if (head > 0 && !rte_pktmbuf_adj(m, (uint16_t)head))
		return -1;
	if (head < 0 && !rte_pktmbuf_prepend(m, (uint16_t)-head))
		return -1;
	if (out->len == m->data_len)
		return 0;
	if (m->nb_segs != 1)
		return -1;  /* the program saw only the first segment */
	if (out->len < m->data_len)
		return rte_pktmbuf_trim(m, (uint16_t)(m->data_len - out->len));
	return rte_pktmbuf_append(m, (uint16_t)(out->len - m->data_len)) ? 0 : -1;
}

/* Queue @p m for out->port with the bounds the program left; counts what cannot go. */
static inline void forward(struct sl_worker *w, struct rte_mbuf *m,
			   const struct sl_verdict_out *out, struct burst_counts *bc)
{
	struct sl_txbuf *tb;

	if (unlikely(out->port == SL_PORT_NONE)) {
		rte_pktmbuf_free(m);
		bc->drop++;
		return;
	}
	if (unlikely((out->data != rte_pktmbuf_mtod(m, uint8_t *) || out->len != m->data_len) &&
		     sync_mbuf(m, out))) {
		rte_pktmbuf_free(m);
		bc->error++;
		return;
	}
	if (unlikely(out->port >= SL_PORT_CPU)) {  /* CPUMAP hand-over (cpumap.c) */
		sl_cpumap_put(w, m, out->port - SL_PORT_CPU, &bc->drop);
		return;
	}
	tb = &w->txbuf[out->port];
	tb->pkts[tb->n++] = m;
}

/* A socket filter's N < len: cut the packet (all segments) to N bytes, then forward. */
static inline void trim(struct sl_worker *w, struct rte_mbuf *m, struct sl_verdict_out *out,
			struct burst_counts *bc)
{
	if (out->port != SL_PORT_NONE && rte_pktmbuf_trim(m, (uint16_t)(m->pkt_len - out->len))) {
		rte_pktmbuf_free(m);  /* the cut falls before the last segment */
		bc->error++;
		return;
	}
	out->data = rte_pktmbuf_mtod(m, uint8_t *);
	out->len = m->data_len;
	forward(w, m, out, bc);
}

static inline void apply(struct sl_worker *w, struct rte_mbuf *m, enum sl_verdict v,
			 struct sl_verdict_out *out, struct burst_counts *bc)
{
	bc->verdict[v]++;
	switch (v) {
	case SL_VERDICT_DROP:
		rte_pktmbuf_free(m);
		bc->drop++;
		return;
	case SL_VERDICT_PASS:
	case SL_VERDICT_TX:
	case SL_VERDICT_REDIRECT:
		forward(w, m, out, bc);
		return;
	case SL_VERDICT_TRIM:
		trim(w, m, out, bc);
		return;
	default:  /* aborted, redirect_failed */
		rte_pktmbuf_free(m);
		bc->error++;
		return;
	}
}

/* The program's view of @p m: its first segment with the headroom and tailroom around it. */
static inline void pkt_of(struct rte_mbuf *m, struct sl_pkt *pkt)
{
	pkt->data = rte_pktmbuf_mtod(m, uint8_t *);
	pkt->len = m->data_len;
	pkt->pkt_len = m->pkt_len;
	pkt->hard_start = m->buf_addr;
	pkt->hard_end = m->nb_segs == 1 ? (uint8_t *)m->buf_addr + m->buf_len : NULL;
	pkt->owner = m;
	pkt->rss_hash = (m->ol_flags & RTE_MBUF_F_RX_RSS_HASH) ? m->hash.rss : 0;
	pkt->vlan_stripped = (m->ol_flags & RTE_MBUF_F_RX_VLAN_STRIPPED) != 0;
	pkt->vlan_tci = m->vlan_tci;
}

/*
 * Verdict @p v of a packet of the XDP path that is not a plain XDP_PASS
 * (another verdict, or moved bounds). True when it goes to @p egress (the
 * caller keeps it in the RX array, in order); otherwise it was applied as
 * usual (TX buffer of another port, or freed).
 */
static bool xdp_keep_or_apply(struct sl_worker *w, struct rte_mbuf *m, enum sl_verdict v,
			      struct sl_verdict_out *out, unsigned egress,
			      struct burst_counts *bc)
{
	if ((v != SL_VERDICT_PASS && v != SL_VERDICT_TX && v != SL_VERDICT_REDIRECT) ||
	    out->port != egress) {
		apply(w, m, v, out, bc);
		return false;
	}
	bc->verdict[v]++;
	if ((out->data != rte_pktmbuf_mtod(m, uint8_t *) || out->len != m->data_len) &&
	    sync_mbuf(m, out)) {
		rte_pktmbuf_free(m);
		bc->error++;
		return false;
	}
	return true;
}

/* The shared verdict code on a packet that is not a plain pass: xdp_keep_or_apply(). */
static __attribute__((noinline)) bool
xdp_other(struct sl_worker *w, unsigned port, unsigned egress, uint64_t r0,
	  const struct sl_xdp_ctx *ctx, struct burst_counts *bc)
{
	struct sl_verdict_out out;
	enum sl_verdict v = sl_verdict_xdp_result(&w->vstate, port, r0, ctx, &out);

	return xdp_keep_or_apply(w, ctx->pkt_owner, v, &out, egress, bc);
}

/* Point @p ctx at @p m's first segment (all the per-packet fields); @return data. */
static inline __attribute__((always_inline)) uint8_t *xdp_fill(struct sl_xdp_ctx *ctx,
							       struct rte_mbuf *m)
{
	uint8_t *buf = m->buf_addr;
	uint8_t *data = buf + m->data_off;

	ctx->data = data;
	ctx->data_meta = data;
	ctx->data_end = data + m->data_len;
	ctx->data_hard_start = buf;
	ctx->data_hard_end = m->nb_segs == 1 ? buf + m->buf_len : NULL;
	ctx->pkt_owner = m;
	return data;
}

/* Point @p ctx at @p m's first segment and run @p fn; *plain: an XDP_PASS of unmoved bounds. */
static inline __attribute__((always_inline)) uint64_t xdp_one(sl_jit_fn fn,
							     struct sl_xdp_ctx *ctx,
							     struct rte_mbuf *m, bool *plain)
{
	uint8_t *data = xdp_fill(ctx, m);
	uint8_t *end = data + m->data_len;
	uint64_t r0;

	r0 = fn(ctx, 0);
	*plain = ((r0 ^ XDP_PASS) | ((uintptr_t)ctx->data ^ (uintptr_t)data) |
		  ((uintptr_t)ctx->data_end ^ (uintptr_t)end)) == 0;
	return r0;
}

/*
 * Call @p fn on @p ctx. A verified XDP program reads only r1 at entry (the
 * verifier refuses reads of r2-r5 before they are written), so r2 is not
 * set: one instruction less per packet.
 */
static inline __attribute__((always_inline)) uint64_t xdp_call(sl_jit_fn fn,
							      struct sl_xdp_ctx *ctx)
{
	return ((uint64_t (*)(void *))(void (*)(void))fn)(ctx);
}

/*
 * xdp_one() for a program that can observe less of the context (@p use, a
 * constant: sl_exec.xdp_ctx): BOUNDS fills data, data_meta and data_end,
 * CONST nothing; neither can move the bounds (no helper takes the
 * context), so an XDP_PASS is plain. A packet that is not a plain pass
 * gets the whole context filled afterwards, for xdp_other().
 */
static inline __attribute__((always_inline)) uint64_t
xdp_one_lazy(sl_jit_fn fn, struct sl_xdp_ctx *ctx, struct rte_mbuf *m, bool *plain,
	     const enum sl_xdp_ctx_use use)
{
	uint64_t r0;

	if (use == SL_XDP_CTX_FULL)
		return xdp_one(fn, ctx, m, plain);
	if (use == SL_XDP_CTX_BOUNDS) {
		uint8_t *data = rte_pktmbuf_mtod(m, uint8_t *);

		ctx->data = data;
		ctx->data_meta = data;
		ctx->data_end = data + m->data_len;
	}
	r0 = xdp_call(fn, ctx);
	*plain = r0 == XDP_PASS;
	if (unlikely(!*plain))
		xdp_fill(ctx, m);
	return r0;
}

/* One packet of process_burst_xdp(): kept in place in @p pkts when passed untouched. */
static inline __attribute__((always_inline)) void
xdp_step(struct sl_worker *w, sl_jit_fn fn, struct sl_xdp_ctx *ctx, unsigned port,
	 unsigned egress, struct rte_mbuf **pkts, struct rte_mbuf *m, unsigned *kept,
	 unsigned *other, struct burst_counts *bc, const enum sl_xdp_ctx_use use)
{
	bool plain;
	uint64_t r0 = xdp_one_lazy(fn, ctx, m, &plain, use);

	if (likely(plain)) {
		pkts[(*kept)++] = m;
		return;
	}
	(*other)++;
	if (xdp_other(w, port, egress, r0, ctx, bc))
		pkts[(*kept)++] = m;
}

static bool cap_xdp_other(struct sl_worker *w, struct sl_cap_burst *cb, unsigned port,
			  unsigned egress, uint64_t r0, const struct sl_xdp_ctx *ctx,
			  uint32_t pre, struct burst_counts *bc);

/*
 * xdp_burst() after the entry stopped at pkts[j], the first packet that is
 * not a plain pass (@p r0): that one gets the whole context and
 * xdp_other() (with @p cb, a capture of verdicts other than pass and
 * without copies before the program: cap_xdp_other()), the entry goes on
 * from the next, and so on; the passes between two others move down over
 * the ones that left (kept in order).
 */
static __attribute__((noinline)) uint16_t
xdp_burst_rest(struct sl_worker *w, sl_jit_burst_fn entry, struct sl_jit_burst *b,
	       unsigned port, unsigned egress, struct rte_mbuf **pkts, uint16_t n,
	       struct burst_counts *bc, uint64_t r0, struct sl_cap_burst *cb)
{
	void *const *all = (void *const *)pkts;
	unsigned j = (unsigned)(b->cur - all), kept = j, other = 0;

	for (;;) {
		unsigned i;

		other++;
		xdp_fill(&b->ctx, pkts[j]);
		if (cb ? cap_xdp_other(w, cb, port, egress, r0, &b->ctx, 0, bc)
		       : xdp_other(w, port, egress, r0, &b->ctx, bc))
			pkts[kept++] = pkts[j];
		i = j + 1;
		if (i == n)
			break;
		b->cur = all + i;
		r0 = entry(b);
		j = (unsigned)(b->cur - all);
		if (kept != i)
			memmove(&pkts[kept], &pkts[i], (j - i) * sizeof(pkts[0]));
		kept += j - i;
		if (j == n)
			break;
	}
	bc->verdict[SL_VERDICT_PASS] += n - other;
	bc->other = other;
	return (uint16_t)kept;
}

/*
 * xdp_loop() with the JIT's burst entry (sl_exec.burst): the entry runs the
 * packets in a loop of its own until one is not a plain pass (then
 * xdp_burst_rest()). @p b has its per-burst context fields set.
 */
static inline __attribute__((always_inline)) uint16_t
xdp_burst(struct sl_worker *w, sl_jit_burst_fn entry, struct sl_jit_burst *b, unsigned port,
	  unsigned egress, struct rte_mbuf **pkts, uint16_t n, struct burst_counts *bc,
	  bool prefetch, struct sl_cap_burst *cb)
{
	uint64_t r0;

	/* the entry's prefetch reads PREFETCH_AHEAD descriptors past n */
	for (unsigned k = 0; prefetch && k < PREFETCH_AHEAD; k++)
		pkts[n + k] = pkts[n - 1];
	b->cur = (void *const *)pkts;
	b->end = b->cur + n;
	r0 = entry(b);
	if (unlikely(b->cur != b->end))
		return xdp_burst_rest(w, entry, b, port, egress, pkts, n, bc, r0, cb);
	bc->verdict[SL_VERDICT_PASS] += n;
	return n;
}

/*
 * A burst through the JIT's burst entry (sl_exec.burst, set only for a
 * program that sees at most its bounds): the per-burst context, the first
 * packets prefetched for a program that reads them, xdp_burst(). @p cb:
 * the capture (of verdicts other than pass) or NULL.
 */
static inline __attribute__((always_inline)) uint16_t
xdp_burst_entry_run(struct sl_worker *w, const struct sl_exec *ex, unsigned port,
		    unsigned egress, struct rte_mbuf **pkts, uint16_t n,
		    struct burst_counts *bc, struct sl_cap_burst *cb)
{
	struct sl_jit_burst b;

	sl_verdict_xdp_ctx_init(&w->vstate, port, &b.ctx);
	if (ex->burst_prefetch)
		for (unsigned k = 0; k < n && k < PREFETCH_AHEAD; k++)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[k], void *));
	return xdp_burst(w, ex->burst, &b, port, egress, pkts, n, bc, ex->burst_prefetch, cb);
}

/*
 * The common case, a JIT-compiled XDP program with an egress port: per
 * packet only the context fields that change and that the program can
 * observe (@p use, a constant), the call, and one test. A packet the
 * program passed untouched stays in @p pkts (compacted in place, order
 * kept), so an all-pass burst is sent as it came in: until the first
 * packet that is not a plain pass nothing moves in @p pkts, and from then
 * on xdp_step() compacts. Packet data is prefetched (a few packets ahead)
 * only for a program that can read it. Returns how many packets of @p pkts
 * go to the ingress port's egress; bc->other counts the others. (A program
 * with a burst entry takes burst_fast() in the worker's loop; this
 * per-packet loop serves every program, so one that gets here anyway, in
 * the instant a capture ends, is run correctly too.)
 */
static inline __attribute__((always_inline)) uint16_t
xdp_loop(struct sl_worker *w, const struct sl_exec *ex, unsigned port, unsigned egress,
	 struct rte_mbuf **pkts, uint16_t n, struct burst_counts *bc,
	 const enum sl_xdp_ctx_use use)
{
	unsigned pf_end = use == SL_XDP_CTX_CONST || n <= PREFETCH_AHEAD ? 0 : n - PREFETCH_AHEAD;
	unsigned kept, other = 0, i = 0;
	sl_jit_fn fn = ex->fn;
	struct sl_xdp_ctx ctx;
	uint64_t r0 = XDP_PASS;
	bool plain = true;

	sl_verdict_xdp_ctx_init(&w->vstate, port, &ctx);
	for (unsigned k = 0; use != SL_XDP_CTX_CONST && k < n && k < PREFETCH_AHEAD; k++)
		rte_prefetch0(rte_pktmbuf_mtod(pkts[k], void *));
	/* all plain passes so far; two loops, so that the prefetch needs no test */
	for (; plain && i < pf_end; i++) {
		rte_prefetch0(rte_pktmbuf_mtod(pkts[i + PREFETCH_AHEAD], void *));
		r0 = xdp_one_lazy(fn, &ctx, pkts[i], &plain, use);
	}
	for (; plain && i < n; i++)
		r0 = xdp_one_lazy(fn, &ctx, pkts[i], &plain, use);
	if (likely(plain)) {
		bc->verdict[SL_VERDICT_PASS] += n;
		return n;
	}
	/* pkts[i - 1] is the first that is not a plain pass: from here on, compact */
	kept = i - 1;
	other = 1;
	if (xdp_other(w, port, egress, r0, &ctx, bc))
		pkts[kept++] = pkts[i - 1];
	for (; i < pf_end; i++) {
		rte_prefetch0(rte_pktmbuf_mtod(pkts[i + PREFETCH_AHEAD], void *));
		xdp_step(w, fn, &ctx, port, egress, pkts, pkts[i], &kept, &other, bc, use);
	}
	for (; i < n; i++)
		xdp_step(w, fn, &ctx, port, egress, pkts, pkts[i], &kept, &other, bc, use);
	bc->verdict[SL_VERDICT_PASS] += n - other;
	bc->other = other;
	return (uint16_t)kept;
}

/* xdp_loop() for what the program can observe of its context (sl_exec.xdp_ctx). */
static uint16_t process_burst_xdp(struct sl_worker *w, const struct sl_exec *ex, unsigned port,
				  unsigned egress, struct rte_mbuf **pkts, uint16_t n,
				  struct burst_counts *bc)
{
	switch (ex->xdp_ctx) {
	case SL_XDP_CTX_CONST:
		return xdp_loop(w, ex, port, egress, pkts, n, bc, SL_XDP_CTX_CONST);
	case SL_XDP_CTX_BOUNDS:
		return xdp_loop(w, ex, port, egress, pkts, n, bc, SL_XDP_CTX_BOUNDS);
	default:
		return xdp_loop(w, ex, port, egress, pkts, n, bc, SL_XDP_CTX_FULL);
	}
}

/* ---- capture hook (ops): the loops while `ctl capture` is on (capture.h) ---- */

/* Record a chosen packet: @p data/@p len/@p pkt_len as received, @p out as the program left it. */
static inline void cap_record(struct sl_cap_burst *cb, enum sl_verdict v, const uint8_t *data,
			      uint32_t len, uint32_t pkt_len, uint32_t pre,
			      const struct sl_verdict_out *out)
{
	struct sl_cap_pkt cp = {
		.data = data, .len = len, .orig_len = pkt_len, .pre = pre, .verdict = v,
		.adata = out->data,
		.alen = v == SL_VERDICT_TRIM ? RTE_MIN(out->len, len) : out->len,
		.aorig_len = v == SL_VERDICT_TRIM ? out->len : pkt_len - len + out->len };

	sl_cap_take(cb, &cp);
}

/*
 * The general path (socket filters, the interpreter, egress drop): the
 * shared verdict code per packet, then apply(). With @p cb (capture on) a
 * chosen packet is recorded between the verdict and its application;
 * inlined with NULL when capture is off, so that path has no capture test.
 */
static inline __attribute__((always_inline)) void
burst_general(struct sl_worker *w, const struct sl_exec *ex, unsigned port,
	      struct rte_mbuf **pkts, uint16_t n, struct burst_counts *bc,
	      struct sl_cap_burst *cb)
{
	for (uint16_t i = 0; i < n && i < PREFETCH_AHEAD; i++)
		rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void *));
	for (uint16_t i = 0; i < n; i++) {
		struct sl_verdict_out out;
		struct sl_pkt pkt;
		enum sl_verdict v;
		uint32_t pre = 0;

		if (i + PREFETCH_AHEAD < n)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + PREFETCH_AHEAD], void *));
		pkt_of(pkts[i], &pkt);
		out.data = pkt.data;
		out.len = pkt.len;
		if (cb && unlikely(cb->pre))
			pre = sl_cap_pre(cb, pkt.data, pkt.len);
		v = sl_verdict_run(&w->vstate, ex, port, &pkt, &out);
		if (cb && unlikely(sl_cap_chosen(cb, v)))
			cap_record(cb, v, pkt.data, pkt.len, pkt.pkt_len, pre, &out);
		apply(w, pkts[i], v, &out, bc);
	}
}

/* xdp_other() with the capture's decision between the verdict and its application. */
static bool cap_xdp_other(struct sl_worker *w, struct sl_cap_burst *cb, unsigned port,
			  unsigned egress, uint64_t r0, const struct sl_xdp_ctx *ctx,
			  uint32_t pre, struct burst_counts *bc)
{
	struct rte_mbuf *m = ctx->pkt_owner;
	struct sl_verdict_out out;
	enum sl_verdict v = sl_verdict_xdp_result(&w->vstate, port, r0, ctx, &out);

	if (unlikely(sl_cap_chosen(cb, v)))
		cap_record(cb, v, rte_pktmbuf_mtod(m, uint8_t *), m->data_len, m->pkt_len, pre,
			   &out);
	return xdp_keep_or_apply(w, m, v, &out, egress, bc);
}

/*
 * process_burst_xdp() while capturing: the verdict decides, then a chosen
 * packet is recorded. Inlined with constant @p pre_on / @p pass_on, so that
 * the usual capture (drops of a read-only program) runs perf's loop with
 * the capture only in the path of the packets that are not plain passes.
 */
static inline __attribute__((always_inline)) uint16_t
cap_xdp_loop(struct sl_worker *w, struct sl_cap_burst *cb, sl_jit_fn fn, unsigned port,
	     unsigned egress, struct rte_mbuf **pkts, uint16_t n, struct burst_counts *bc,
	     const bool pre_on, const bool pass_on)
{
	struct sl_xdp_ctx ctx;
	uint16_t kept = 0, other = 0;

	sl_verdict_xdp_ctx_init(&w->vstate, port, &ctx);
	for (uint16_t i = 0; i < n && i < PREFETCH_AHEAD; i++)
		rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void *));
	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		uint8_t *data = rte_pktmbuf_mtod(m, uint8_t *);
		uint32_t pre = 0;
		uint64_t r0;
		bool plain;

		if (i + PREFETCH_AHEAD < n)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + PREFETCH_AHEAD], void *));
		if (unlikely(pre_on))  /* the packet as received, before the program */
			pre = sl_cap_pre(cb, data, m->data_len);
		r0 = xdp_one(fn, &ctx, m, &plain);
		if (likely(plain)) {
			if (unlikely(pass_on)) {
				struct sl_verdict_out out = { .data = data, .len = m->data_len };

				cap_record(cb, SL_VERDICT_PASS, data, m->data_len, m->pkt_len, pre,
					   &out);
			}
			pkts[kept++] = m;
			continue;
		}
		other++;
		if (cap_xdp_other(w, cb, port, egress, r0, &ctx, pre, bc))
			pkts[kept++] = m;
	}
	bc->verdict[SL_VERDICT_PASS] += (uint16_t)(n - other);
	return kept;
}

static uint16_t cap_burst_xdp(struct sl_worker *w, struct sl_cap_burst *cb,
			      const struct sl_exec *ex, unsigned port, unsigned egress,
			      struct rte_mbuf **pkts, uint16_t n, struct burst_counts *bc)
{
	sl_jit_fn fn = ex->fn;

	/*
	 * Verdicts other than pass, without copies before the program (the
	 * usual capture: drops of a read-only program): over the JIT's burst
	 * entry where there is one, as with capture off; only the packets the
	 * entry stops at, those that are not plain passes, see the capture.
	 */
	if (!cb->pre && !sl_cap_chosen(cb, SL_VERDICT_PASS))
		return ex->burst ? xdp_burst_entry_run(w, ex, port, egress, pkts, n, bc, cb)
				 : cap_xdp_loop(w, cb, fn, port, egress, pkts, n, bc, false, false);
	return cap_xdp_loop(w, cb, fn, port, egress, pkts, n, bc, cb->pre,
			    sl_cap_chosen(cb, SL_VERDICT_PASS));
}

/*
 * process_burst() while `ctl capture` is on: the same two paths, each
 * deciding after the verdict; a burst's records are published at its end.
 */
static uint16_t process_burst_capture(struct sl_worker *w, const struct sl_exec *ex,
				      unsigned port, struct rte_mbuf **pkts, uint16_t n,
				      struct burst_counts *bc, unsigned *to)
{
	struct sl_cap_burst cb;
	uint16_t kept = 0;

	sl_cap_burst_begin(&cb, w->eng->capture, w->index, port, ex);
	*to = w->eng->egress[port];
	if (ex->fn != NULL && ex->prog->type == SL_PROG_XDP && *to != SL_PORT_NONE) {
		kept = cap_burst_xdp(w, &cb, ex, port, *to, pkts, n, bc);
		sl_cap_burst_end(&cb);
		return kept;
	}
	burst_general(w, ex, port, pkts, n, bc, &cb);
	sl_cap_burst_end(&cb);
	return 0;
}

/* ---- end of the capture hook ---- */

/*
 * Run the program over a burst that burst_fast() did not take: returns how
 * many packets stay in @p pkts for port *@p to (the XDP path's in-place
 * egress); the others went into the TX buffers or were freed. Out of line:
 * the fast path's loop stays small.
 */
static __attribute__((noinline)) uint16_t
process_burst(struct sl_worker *w, const struct sl_exec *ex, unsigned port,
		    struct rte_mbuf **pkts, uint16_t n, struct burst_counts *bc, unsigned *to)
{
	uint16_t kept;

	if (unlikely(__atomic_load_n(&w->eng->capture_on, __ATOMIC_ACQUIRE))) {
		kept = process_burst_capture(w, ex, port, pkts, n, bc, to);
		bc->other = n;  /* TX buffers may hold some: flush them */
		return kept;
	}
	*to = w->eng->egress[port];
	if (likely(ex->fn != NULL && ex->prog->type == SL_PROG_XDP && *to != SL_PORT_NONE))
		return process_burst_xdp(w, ex, port, *to, pkts, n, bc);
	burst_general(w, ex, port, pkts, n, bc, NULL);
	bc->other = n;
	return 0;
}

/* rte_eth_tx_burst of @p n packets to port index @p p; free and count what it refused. */
static inline __attribute__((always_inline)) void
tx_send(struct sl_worker *w, unsigned p, struct rte_mbuf **pkts, uint16_t n,
	struct burst_counts *bc)
{
	struct sl_engine *eng = w->eng;
	uint16_t sent;

	if (unlikely(eng->port_linearize[p]) && n)  /* net_pcap: long chains */
		n = sl_port_tx_linearize(eng, pkts, n, &bc->error);
	if (!n)
		return;
	sent = rte_eth_tx_burst(eng->port_id[p], (uint16_t)w->index, pkts, n);
	for (uint16_t i = sent; i < n; i++)
		rte_pktmbuf_free(pkts[i]);
	STAT_ADD(w->stats.tx, sent);
	STAT_ADD(w->stats.port_tx[p], sent);
	if (unlikely(sent < n)) {
		STAT_ADD(w->stats.tx_drop, n - sent);
		bc->drop += n - sent;
	}
}

/* Send every TX buffer. */
static void flush_tx(struct sl_worker *w, struct burst_counts *bc)
{
	for (unsigned p = 0; p < w->eng->nports; p++) {
		struct sl_txbuf *tb = &w->txbuf[p];

		if (!tb->n)
			continue;
		tx_send(w, p, tb->pkts, tb->n, bc);
		tb->n = 0;
	}
}

/*
 * Publish one burst's counts; rx of the port last, with release order. A
 * burst of plain passes only (bc->other 0) has no other verdict count.
 */
static inline __attribute__((always_inline)) void
publish(struct sl_worker *w, unsigned port, uint16_t n, const struct burst_counts *bc)
{
	struct sl_worker_stats *s = &w->stats;

	if (likely(!bc->other))
		STAT_ADD(s->verdict[SL_VERDICT_PASS], bc->verdict[SL_VERDICT_PASS]);
	else
		for (unsigned v = 0; v < SL_VERDICT_COUNT; v++)
			if (bc->verdict[v])
				STAT_ADD(s->verdict[v], bc->verdict[v]);
	if (bc->drop)
		STAT_ADD(s->drop, bc->drop);
	if (bc->error)
		STAT_ADD(s->error, bc->error);
	STAT_ADD(s->rx, n);
	__atomic_store_n(&s->port_rx[port], s->port_rx[port] + n, __ATOMIC_RELEASE);
}

/*
 * The rest of a burst the JIT's burst entry stopped in (at b->cur, the
 * first packet that is not a plain pass, r0 @p r0): xdp_burst_rest(), then
 * TX of what stays in @p pkts and of the TX buffers, and the counts.
 */
static __attribute__((noinline)) void
burst_rest(struct sl_worker *w, const struct sl_exec *ex, struct sl_jit_burst *b,
	   unsigned port, unsigned egress, struct rte_mbuf **pkts, uint16_t n, uint64_t r0)
{
	struct burst_counts bc;
	uint16_t kept;

	memset(&bc, 0, sizeof(bc));
	kept = xdp_burst_rest(w, ex->burst, b, port, egress, pkts, n, &bc, r0, NULL);
	if (kept)
		tx_send(w, egress, pkts, kept, &bc);
	flush_tx(w, &bc);
	publish(w, port, n, &bc);
}

/* A burst of plain passes the lean way cannot take (net_pcap TX): tx_send() and publish(). */
static __attribute__((noinline)) void
pass_send_slow(struct sl_worker *w, unsigned port, unsigned egress, struct rte_mbuf **pkts,
	       uint16_t n)
{
	struct burst_counts bc;

	memset(&bc, 0, sizeof(bc));
	bc.verdict[SL_VERDICT_PASS] = n;
	tx_send(w, egress, pkts, n, &bc);
	publish(w, port, n, &bc);
}

/* The @p n packets at @p pkts that TX refused: freed, counted in tx_drop and drop. */
static __attribute__((noinline)) void
tx_refused(struct sl_worker *w, struct rte_mbuf **pkts, uint16_t n)
{
	for (uint16_t i = 0; i < n; i++)
		rte_pktmbuf_free(pkts[i]);
	STAT_ADD(w->stats.tx_drop, n);
	STAT_ADD(w->stats.drop, n);
}

/*
 * A burst of plain passes, sent to @p egress as received: tx_send() and
 * publish() for this one case, the counts straight from registers (no
 * struct burst_counts, no test of other verdicts); rx of the port last,
 * with release order, as publish() does.
 */
static inline __attribute__((always_inline)) void
pass_send(struct sl_worker *w, unsigned port, unsigned egress, struct rte_mbuf **pkts,
	  uint16_t n)
{
	struct sl_engine *eng = w->eng;
	struct sl_worker_stats *s = &w->stats;
	uint16_t sent;

	if (unlikely(eng->port_linearize[egress])) {
		pass_send_slow(w, port, egress, pkts, n);
		return;
	}
	sent = rte_eth_tx_burst(eng->port_id[egress], (uint16_t)w->index, pkts, n);
	if (unlikely(sent < n))
		tx_refused(w, pkts + sent, (uint16_t)(n - sent));
	STAT_ADD(s->tx, sent);
	STAT_ADD(s->port_tx[egress], sent);
	STAT_ADD(s->verdict[SL_VERDICT_PASS], n);
	STAT_ADD(s->rx, n);
	__atomic_store_n(&s->port_rx[port], s->port_rx[port] + n, __ATOMIC_RELEASE);
}

/*
 * A whole burst through the JIT's burst entry (sl_exec.burst), inlined in
 * the worker's loop: the entry runs the packets; a burst of plain passes
 * goes to the egress port as received and is counted as such (no TX
 * buffer, no verdict but pass); one the entry stopped in goes on in
 * burst_rest(). False, with nothing done, when the entry does not take the
 * burst (no entry, egress "drop", capture on): process_burst() does.
 */
static inline __attribute__((always_inline)) bool
burst_fast(struct sl_worker *w, const struct sl_exec *ex, unsigned port,
	   struct rte_mbuf **pkts, uint16_t n)
{
	unsigned egress = w->eng->egress[port];
	struct sl_jit_burst b;
	uint64_t r0;

	if (unlikely(ex->burst == NULL || egress == SL_PORT_NONE ||
		     __atomic_load_n(&w->eng->capture_on, __ATOMIC_ACQUIRE)))
		return false;
	sl_verdict_xdp_ctx_init(&w->vstate, port, &b.ctx);
	if (ex->burst_prefetch) {
		for (unsigned k = 0; k < n && k < PREFETCH_AHEAD; k++)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[k], void *));
		/* the entry's prefetch reads PREFETCH_AHEAD descriptors past n */
		for (unsigned k = 0; k < PREFETCH_AHEAD; k++)
			pkts[n + k] = pkts[n - 1];
	}
	b.cur = (void *const *)pkts;
	b.end = b.cur + n;
	r0 = ex->burst(&b);
	if (unlikely(b.cur != b.end)) {
		burst_rest(w, ex, &b, port, egress, pkts, n, r0);
		return true;
	}
	pass_send(w, port, egress, pkts, n);
	return true;
}

void sl_worker_exec_init(const struct sl_engine *eng, struct sl_exec *ex, struct sl_prog *prog,
			 struct sl_jit *jit)
{
	bool hot = true;
	struct sl_jit_burst_layout l = {
		.buf_addr = offsetof(struct rte_mbuf, buf_addr),
		.data_off = offsetof(struct rte_mbuf, data_off),
		.data_len = offsetof(struct rte_mbuf, data_len),
	};

	sl_exec_init(ex, prog, jit ? sl_jit_entry(jit) : NULL);
	if (!jit || prog->type != SL_PROG_XDP || ex->xdp_ctx == SL_XDP_CTX_FULL)
		return;
	for (unsigned i = 0; i < eng->opts->nports; i++)
		hot = hot && sl_port_rx_data_hot(&eng->opts->ports[i]);
	l.bounds = ex->xdp_ctx == SL_XDP_CTX_BOUNDS;
	l.prefetch = l.bounds && !hot ? PREFETCH_AHEAD : 0;
	/* a received packet's data: right after the mbuf (no private area in
	 * the engine's pools, port.c) and the headroom */
	l.prefetch_at = (uint16_t)(sizeof(struct rte_mbuf) + RTE_PKTMBUF_HEADROOM);
	ex->burst = sl_jit_burst_entry(jit, &l);  /* NULL (ENOTSUP): per-packet calls */
	ex->burst_prefetch = ex->burst && l.prefetch;
}

/* CPUMAP: packets other workers handed over, sent on as XDP_PASS (cpumap.c) */
static void take_over(struct sl_worker *w)
{
	struct burst_counts bc;
	unsigned n;

	memset(&bc, 0, sizeof(bc));
	n = sl_cpumap_take(w, &bc.drop);
	if (!n)
		return;
	flush_tx(w, &bc);
	STAT_ADD(w->stats.drop, bc.drop);
	STAT_ADD(w->stats.error, bc.error);
	__atomic_store_n(&w->stats.cpu_in, w->stats.cpu_in + n, __ATOMIC_RELEASE);
}

/* One RX queue a worker polls. */
struct rx_poll {
	uint16_t port;   /* port index */
	uint16_t queue;  /* its RX queue */
};

#define MAX_POLLS (SL_RUN_MAX_PORTS * SL_RUN_MAX_WORKERS)

/* RX queues index, index + nworkers, ... of every port (port_rxq), port by port. */
static unsigned polls_of(const struct sl_worker *w, struct rx_poll *polls)
{
	const struct sl_engine *eng = w->eng;
	unsigned n = 0;

	for (unsigned p = 0; p < eng->nports; p++)
		for (unsigned q = w->index; q < eng->port_rxq[p] && n < MAX_POLLS; q += eng->nworkers)
			polls[n++] = (struct rx_poll){ .port = (uint16_t)p, .queue = (uint16_t)q };
	return n;
}

int sl_worker_main(void *arg)
{
	struct sl_worker *w = arg;
	struct sl_engine *eng = w->eng;
	struct rte_mbuf *pkts[SL_RUN_BURST + PREFETCH_AHEAD];  /* room for xdp_loop's padding */
	struct rx_poll polls[MAX_POLLS];
	unsigned npolls = polls_of(w, polls);

	sl_map_worker_online(w->index);
	sl_verdict_state_init(&w->vstate, &eng->ports_view, w->index);
	while (!__atomic_load_n(&eng->stop, __ATOMIC_RELAXED)) {
		for (unsigned i = 0; i < npolls; i++) {
			unsigned p = polls[i].port;
			uint16_t n = rte_eth_rx_burst(eng->port_id[p], polls[i].queue, pkts,
						      SL_RUN_BURST);
			const struct sl_exec *ex;
			struct burst_counts bc;
			unsigned to = SL_PORT_NONE;
			uint16_t kept;

			if (!n)
				continue;
			w->vstate.queue = polls[i].queue;  /* rx_queue_index, queue_mapping */
			ex = __atomic_load_n(&eng->exec, __ATOMIC_ACQUIRE);
			if (likely(burst_fast(w, ex, p, pkts, n)))
				continue;
			memset(&bc, 0, sizeof(bc));
			kept = process_burst(w, ex, p, pkts, n, &bc, &to);
			if (kept)
				tx_send(w, to, pkts, kept, &bc);
			if (unlikely(bc.other))  /* else every TX buffer is empty */
				flush_tx(w, &bc);
			publish(w, p, n, &bc);
		}
		if (unlikely(eng->cpumap != NULL))
			take_over(w);
		sl_map_quiescent();
	}
	sl_map_worker_offline();
	return 0;
}

int sl_worker_sync_mbuf(struct rte_mbuf *m, const struct sl_verdict_out *out)
{
	if (out->data == rte_pktmbuf_mtod(m, uint8_t *) && out->len == m->data_len)
		return 0;
	return sync_mbuf(m, out);
}
