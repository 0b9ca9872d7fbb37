/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The worker: burst loop, program run, verdicts, TX.
 *
 * Each worker lcore polls RX queue <worker index> of every port, and sends
 * on TX queue <worker index> of every port, so no two workers share a
 * queue and nothing locks. Per burst:
 *
 *   rte_eth_rx_burst (32) -> for each mbuf (prefetching a few ahead):
 *     build struct sl_xdp_ctx over the mbuf's first segment
 *     run the program (JIT entry, or the interpreter)
 *     verdict (table below) -> free, or append to the TX buffer of a port
 *   -> rte_eth_tx_burst of every non-empty TX buffer; what TX refuses is
 *      freed and counted in drop (tx_drop)
 *   -> counters published (rx last, with release order: once the control
 *      thread sees rx of a port reach N, N packets are fully processed)
 *   -> sl_map_quiescent()
 *
 * Every received packet ends in exactly one of tx, drop, error, so
 * rx = tx + drop + error holds at every burst boundary.
 *
 * Verdicts: XDP_ABORTED, unknown values and interpreter faults: free, error.
 * XDP_DROP: free, drop. XDP_PASS: to the ingress port's egress port (see
 * port.c). XDP_TX: back out of the ingress port. XDP_REDIRECT: to the port
 * whose DPDK port id bpf_redirect / bpf_redirect_map chose; a port this
 * engine does not drive is an error.
 *
 * If the program moved ctx->data (bpf_xdp_adjust_head) or ctx->data_end
 * (bpf_xdp_adjust_tail), the mbuf is adjusted to match before TX.
 *
 * Socket filters (section "socket") see struct __sk_buff as the kernel's
 * AF_PACKET hook fills it (packet from the Ethernet header, protocol as
 * eth_type_trans() sets it, pkt_type from the destination MAC) and return a length N:
 * 0 drops, N < len cuts the packet to N bytes, anything else keeps it
 * whole; kept packets go to the egress port, as XDP_PASS.
 *
 * Worker, no locks, no allocation, no logging: it counts.
 */
#include <stddef.h>
#include <string.h>
#include <linux/if_packet.h>

#include <rte_branch_prediction.h>
#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>

#include "engine_internal.h"
#include "sl_helpers.h"
#include "sl_maps.h"

#define PREFETCH_AHEAD 4
#define NO_REDIRECT UINT32_MAX
#define VERDICT_MAX XDP_REDIRECT

/* Single-writer counter update that the control thread may read at any time. */
#define STAT_ADD(field, v) __atomic_store_n(&(field), (field) + (v), __ATOMIC_RELAXED)

typedef void (*verdict_fn)(struct sl_worker *w, unsigned port, struct rte_mbuf *m,
			   const struct sl_xdp_ctx *ctx);

/* Make the mbuf match the bounds the program left in ctx. */
static int sync_mbuf(struct rte_mbuf *m, const struct sl_xdp_ctx *ctx)
{
	char *data = rte_pktmbuf_mtod(m, char *);
	ptrdiff_t head = (char *)ctx->data - data;
	size_t len;

	if (head > 0 && !rte_pktmbuf_adj(m, (uint16_t)head))
		return -1;
	if (head < 0 && !rte_pktmbuf_prepend(m, (uint16_t)-head))
		return -1;
	len = (size_t)((char *)ctx->data_end - (char *)ctx->data);
	if (len == m->data_len)
		return 0;
	if (m->nb_segs != 1)
		return -1;  /* the program saw only the first segment */
	if (len < m->data_len)
		return rte_pktmbuf_trim(m, (uint16_t)(m->data_len - len));
	return rte_pktmbuf_append(m, (uint16_t)(len - m->data_len)) ? 0 : -1;
}

static void fail(struct sl_worker *w, struct rte_mbuf *m)
{
	rte_pktmbuf_free(m);
	STAT_ADD(w->stats.error, 1);
}

static void forward(struct sl_worker *w, unsigned port, struct rte_mbuf *m,
		    const struct sl_xdp_ctx *ctx)
{
	struct sl_txbuf *tb = &w->txbuf[port];

	if (unlikely(ctx->data != rte_pktmbuf_mtod(m, void *) ||
		     (char *)ctx->data_end - (char *)ctx->data != m->data_len) &&
	    sync_mbuf(m, ctx)) {
		fail(w, m);
		return;
	}
	tb->pkts[tb->n++] = m;
}

static void verdict_aborted(struct sl_worker *w, unsigned port, struct rte_mbuf *m,
			    const struct sl_xdp_ctx *ctx)
{
	fail(w, m);
}

static void verdict_drop(struct sl_worker *w, unsigned port, struct rte_mbuf *m,
			 const struct sl_xdp_ctx *ctx)
{
	rte_pktmbuf_free(m);
	STAT_ADD(w->stats.drop, 1);
}

static void verdict_pass(struct sl_worker *w, unsigned port, struct rte_mbuf *m,
			 const struct sl_xdp_ctx *ctx)
{
	forward(w, w->eng->egress[port], m, ctx);
}

static void verdict_tx(struct sl_worker *w, unsigned port, struct rte_mbuf *m,
		       const struct sl_xdp_ctx *ctx)
{
	forward(w, port, m, ctx);
}

static void verdict_redirect(struct sl_worker *w, unsigned port, struct rte_mbuf *m,
			     const struct sl_xdp_ctx *ctx)
{
	struct sl_redirect *rd = sl_helper_redirect();
	uint32_t target = rd->ifindex;

	rd->ifindex = NO_REDIRECT;
	for (unsigned i = 0; i < w->eng->nports; i++) {
		if (w->eng->port_id[i] == target) {
			forward(w, i, m, ctx);
			return;
		}
	}
	fail(w, m);
}

/* XDP verdict -> action. Values above XDP_REDIRECT are errors. */
static const verdict_fn verdicts[VERDICT_MAX + 1] = {
	[XDP_ABORTED] = verdict_aborted,
	[XDP_DROP] = verdict_drop,
	[XDP_PASS] = verdict_pass,
	[XDP_TX] = verdict_tx,
	[XDP_REDIRECT] = verdict_redirect,
};

/* Run the program on @p ctx; false on an interpreter fault. */
static inline bool run_prog(const struct sl_worker *w, void *ctx, uint64_t *r0)
{
	static const struct sl_vm_run_opts opts = { .sz = sizeof(opts) };
	struct sl_vm_result res;

	if (likely(w->jit_fn != NULL)) {
		*r0 = w->jit_fn(ctx, 0);
		return true;
	}
	res.err = 0;
	*r0 = sl_vm_exec(w->eng->prog, ctx, &opts, &res);
	return likely(res.err == 0);
}

static inline void run_xdp(struct sl_worker *w, unsigned port, uint16_t pid, struct rte_mbuf *m)
{
	struct sl_xdp_ctx ctx;
	uint64_t v;

	ctx.data = rte_pktmbuf_mtod(m, void *);
	ctx.data_end = (char *)ctx.data + m->data_len;
	ctx.data_meta = ctx.data;
	ctx.ingress_ifindex = pid;
	ctx.rx_queue_index = w->index;
	ctx.egress_ifindex = 0;
	ctx.reserved = 0;
	ctx.data_hard_start = m->buf_addr;
	ctx.data_hard_end = m->nb_segs == 1 ? (char *)m->buf_addr + m->buf_len : NULL;
	ctx.pkt_owner = m;
	if (unlikely(!run_prog(w, &ctx, &v) || v > VERDICT_MAX)) {
		fail(w, m);
		return;
	}
	STAT_ADD(w->stats.verdict[v], 1);
	verdicts[v](w, port, m, &ctx);
}

/* skb->pkt_type as the kernel sets it for a frame arriving on @p port. */
static uint32_t pkt_type_of(const struct sl_engine *eng, unsigned port, const uint8_t *eth,
			    uint32_t len)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

	if (len < 6)
		return PACKET_HOST;
	if (eth[0] & 1)
		return memcmp(eth, bcast, 6) ? PACKET_MULTICAST : PACKET_BROADCAST;
	return memcmp(eth, eng->port_mac[port], 6) ? PACKET_OTHERHOST : PACKET_HOST;
}

/*
 * The __sk_buff fields a socket filter reads, as the kernel's AF_PACKET
 * hook fills them for a frame that starts at its Ethernet header; fields
 * after tc_classid stay zero (c was zeroed once per burst).
 */
static inline void skb_fill(const struct sl_worker *w, unsigned port, uint16_t pid,
			    struct rte_mbuf *m, struct sl_skb_ctx *c)
{
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);
	struct __sk_buff *s = &c->skb;

	memset(s, 0, offsetof(struct __sk_buff, data));
	s->len = m->pkt_len;
	s->pkt_type = pkt_type_of(w->eng, port, p, m->data_len);
	s->queue_mapping = w->index;
	s->protocol = sl_skb_eth_protocol(p, m->data_len);
	if (m->ol_flags & RTE_MBUF_F_RX_VLAN_STRIPPED) {
		s->vlan_present = 1;
		s->vlan_tci = m->vlan_tci;
		s->vlan_proto = rte_cpu_to_be_16(RTE_ETHER_TYPE_VLAN);
	}
	s->ingress_ifindex = pid;
	s->ifindex = pid;
	s->hash = (m->ol_flags & RTE_MBUF_F_RX_RSS_HASH) ? m->hash.rss : 0;
	c->pkt = p;
	c->pkt_len = m->data_len;
}

/* Socket filter verdict N: 0 drops; N < len trims to N; otherwise whole. To the egress port. */
static inline void run_socket(struct sl_worker *w, unsigned port, uint16_t pid, struct rte_mbuf *m,
			      struct sl_skb_ctx *c)
{
	struct sl_txbuf *tb = &w->txbuf[w->eng->egress[port]];
	uint64_t r0;
	uint32_t n;

	skb_fill(w, port, pid, m, c);
	if (unlikely(!run_prog(w, c, &r0))) {
		fail(w, m);
		return;
	}
	n = (uint32_t)r0;
	if (n == 0) {
		STAT_ADD(w->stats.verdict[XDP_DROP], 1);
		verdict_drop(w, port, m, NULL);
		return;
	}
	if (n < m->pkt_len) {
		if (rte_pktmbuf_trim(m, (uint16_t)(m->pkt_len - n))) {
			fail(w, m);  /* the cut falls before the last segment */
			return;
		}
		STAT_ADD(w->stats.trimmed, 1);
	}
	STAT_ADD(w->stats.verdict[XDP_PASS], 1);
	tb->pkts[tb->n++] = m;
}

static void process_burst(struct sl_worker *w, unsigned port, struct rte_mbuf **pkts, uint16_t n)
{
	uint16_t pid = w->eng->port_id[port];
	struct sl_skb_ctx skb;
	bool socket = w->eng->prog->type == SL_PROG_SOCKET;

	if (socket)
		memset(&skb, 0, sizeof(skb));
	for (uint16_t i = 0; i < n && i < PREFETCH_AHEAD; i++)
		rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void *));
	for (uint16_t i = 0; i < n; i++) {
		if (i + PREFETCH_AHEAD < n)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + PREFETCH_AHEAD], void *));
		if (socket)
			run_socket(w, port, pid, pkts[i], &skb);
		else
			run_xdp(w, port, pid, pkts[i]);
	}
}

/* Send every TX buffer; free and count what the port refused. */
static void flush_tx(struct sl_worker *w)
{
	struct sl_engine *eng = w->eng;

	for (unsigned p = 0; p < eng->nports; p++) {
		struct sl_txbuf *tb = &w->txbuf[p];
		uint16_t sent;

		if (!tb->n)
			continue;
		sent = rte_eth_tx_burst(eng->port_id[p], (uint16_t)w->index, tb->pkts, tb->n);
		for (uint16_t i = sent; i < tb->n; i++)
			rte_pktmbuf_free(tb->pkts[i]);
		STAT_ADD(w->stats.tx, sent);
		STAT_ADD(w->stats.port_tx[p], sent);
		STAT_ADD(w->stats.tx_drop, tb->n - sent);
		STAT_ADD(w->stats.drop, tb->n - sent);
		tb->n = 0;
	}
}

int sl_worker_main(void *arg)
{
	struct sl_worker *w = arg;
	struct sl_engine *eng = w->eng;
	struct rte_mbuf *pkts[SL_RUN_BURST];

	sl_map_worker_online(w->index);
	sl_helper_redirect()->ifindex = NO_REDIRECT;
	while (!__atomic_load_n(&eng->stop, __ATOMIC_RELAXED)) {
		for (unsigned p = 0; p < eng->nports; p++) {
			uint16_t n = rte_eth_rx_burst(eng->port_id[p], (uint16_t)w->index,
						      pkts, SL_RUN_BURST);

			if (!n)
				continue;
			process_burst(w, p, pkts, n);
			flush_tx(w);
			STAT_ADD(w->stats.rx, n);
			__atomic_store_n(&w->stats.port_rx[p], w->stats.port_rx[p] + n,
					 __ATOMIC_RELEASE);
		}
		sl_map_quiescent();
	}
	sl_map_worker_offline();
	return 0;
}
