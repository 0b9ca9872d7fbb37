/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Context, program run and verdict for one packet: the one implementation
 * that the live worker (worker.c, over an mbuf's first segment) and the
 * offline replay (over a capture record) both call, so that a capture
 * replayed gives exactly what the engine would do with it live.
 *
 * XDP: struct xdp_md over the packet (data, data_end, data_meta = data,
 * ingress_ifindex = DPDK port id, rx_queue_index = the worker's queue,
 * data_hard_start/end for bpf_xdp_adjust_head/tail). Return values:
 *
 *   XDP_ABORTED, > XDP_REDIRECT, a fault   ABORTED (the kernel's
 *                                          bpf_warn_invalid_xdp_action path)
 *   XDP_DROP                               DROP
 *   XDP_PASS                               PASS to egress[port]
 *   XDP_TX                                 TX back out of port
 *   XDP_REDIRECT                           REDIRECT to the port whose id
 *                                          bpf_redirect[_map] chose, or
 *                                          REDIRECT_FAILED when no port of
 *                                          this engine has that id (a
 *                                          bpf_redirect_map miss leaves
 *                                          the last bpf_redirect's ifindex
 *                                          or hit's key: helpers.c)
 *
 * Socket filters see struct __sk_buff as the kernel's AF_PACKET hook fills
 * it for a frame starting at its Ethernet header (only the words the
 * program touches are filled per packet: sl_exec_init() works them out
 * once per program) and return a length N:
 * 0 DROP, N < len TRIM to N, otherwise PASS; both leave by egress[port].
 *
 * Worker (or replay thread): no locks, no allocation, no logging.
 */
#include <stddef.h>
#include <string.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>

#include "sl_helpers.h"
#include "sl_maps.h"
#include "verdict.h"

#define NO_REDIRECT UINT32_MAX

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

static const char *const verdict_names[SL_VERDICT_COUNT] = {
	[SL_VERDICT_ABORTED] = "aborted",
	[SL_VERDICT_DROP] = "drop",
	[SL_VERDICT_PASS] = "pass",
	[SL_VERDICT_TX] = "tx",
	[SL_VERDICT_REDIRECT] = "redirect",
	[SL_VERDICT_REDIRECT_FAILED] = "redirect_failed",
	[SL_VERDICT_TRIM] = "trim",
};

const char *sl_verdict_name(enum sl_verdict v)
{
	return (unsigned)v < SL_VERDICT_COUNT ? verdict_names[v] : "?";
}

void sl_verdict_state_init(struct sl_verdict_state *st, const struct sl_ports_view *ports,
			   uint32_t queue)
{
	memset(st, 0, sizeof(*st));
	st->ports = ports;
	st->queue = queue;
	sl_helper_redirect()->ifindex = NO_REDIRECT;
	sl_helper_redirect()->tgt_index = NO_REDIRECT;   /* a lone miss names no port */
}

/* The interpreter, out of line: its result struct stays off the JIT path's frame. */
static __attribute__((noinline)) bool run_interp(const struct sl_exec *ex, void *ctx,
						 uint64_t *r0)
{
	static const struct sl_vm_run_opts opts = { .sz = sizeof(opts) };
	struct sl_vm_result res;

	res.err = 0;
	*r0 = sl_vm_exec(ex->prog, ctx, &opts, &res);
	return likely(res.err == 0);
}

/* Run the program on @p ctx; false on an interpreter fault. */
static inline bool run_prog(const struct sl_exec *ex, void *ctx, uint64_t *r0)
{
	if (likely(ex->fn != NULL)) {
		*r0 = ex->fn(ctx, 0);
		return true;
	}
	return run_interp(ex, ctx, r0);
}

/* The port index bpf_redirect / bpf_redirect_map chose, or SL_PORT_NONE. */
static unsigned redirect_target(const struct sl_ports_view *pv)
{
	struct sl_redirect *rd = sl_helper_redirect();
	uint32_t target = rd->ifindex;

	rd->ifindex = NO_REDIRECT;
	rd->tgt_index = NO_REDIRECT;
	if (unlikely(pv->ncpus) && rd->map &&  /* CPUMAP: the key is a worker (cpumap.c) */
	    sl_map_get_def(rd->map)->type == BPF_MAP_TYPE_CPUMAP)
		return target < pv->ncpus ? SL_PORT_CPU + target : SL_PORT_NONE;
	for (unsigned i = 0; i < pv->nports; i++)
		if (pv->port_id[i] == target)
			return i;
	return SL_PORT_NONE;
}

enum sl_verdict sl_verdict_xdp_result(const struct sl_verdict_state *st, unsigned port,
				      uint64_t r0, const struct sl_xdp_ctx *ctx,
				      struct sl_verdict_out *out)
{
	const struct sl_ports_view *pv = st->ports;

	out->data = ctx->data;
	out->len = (uint32_t)((uint8_t *)ctx->data_end - (uint8_t *)ctx->data);
	switch (r0) {
	case XDP_DROP:
		return SL_VERDICT_DROP;
	case XDP_PASS:
		out->port = pv->egress[port];
		return SL_VERDICT_PASS;
	case XDP_TX:
		out->port = port;
		return SL_VERDICT_TX;
	case XDP_REDIRECT:
		out->port = redirect_target(pv);
		return out->port == SL_PORT_NONE ? SL_VERDICT_REDIRECT_FAILED : SL_VERDICT_REDIRECT;
	default:
		return SL_VERDICT_ABORTED;
	}
}

/* Out of line like run_socket(): sl_verdict_run() is then two compares and a jump. */
static __attribute__((noinline)) enum sl_verdict
run_xdp(struct sl_verdict_state *st, const struct sl_exec *ex, unsigned port,
	struct sl_pkt *pkt, struct sl_verdict_out *out)
{
	struct sl_xdp_ctx ctx;
	uint64_t v;

	sl_verdict_xdp_ctx_init(st, port, &ctx);
	ctx.data = pkt->data;
	ctx.data_end = pkt->data + pkt->len;
	ctx.data_meta = ctx.data;
	ctx.data_hard_start = pkt->hard_start;
	ctx.data_hard_end = pkt->hard_end;
	ctx.pkt_owner = pkt->owner;
	if (unlikely(!run_prog(ex, &ctx, &v)))
		return SL_VERDICT_ABORTED;
	return sl_verdict_xdp_result(st, port, v, &ctx, out);
}

/* skb->pkt_type as the kernel sets it for a frame arriving on @p port. */
static uint32_t pkt_type_of(const struct sl_ports_view *pv, unsigned port, const uint8_t *eth,
			    uint32_t len)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

	if (len < 6)
		return PACKET_HOST;
	if (eth[0] & 1)
		return memcmp(eth, bcast, 6) ? PACKET_MULTICAST : PACKET_BROADCAST;
	return memcmp(eth, pv->mac[port], 6) ? PACKET_OTHERHOST : PACKET_HOST;
}

/* Words of struct __sk_buff (bit i: bytes 4i..4i+3). */
#define SKB_WORD(f) (1ull << (offsetof(struct __sk_buff, f) / 4))
#define SKB_WORDS(f) (((1ull << (sizeof(((struct __sk_buff *)0)->f) / 4)) - 1) << \
		      (offsetof(struct __sk_buff, f) / 4))
#define SKB_NWORDS (sizeof(struct __sk_buff) / 4)
_Static_assert(SKB_NWORDS < 64, "struct __sk_buff words must fit a uint64_t");

/* Words a context access of @p in touches (the verifier allows no modified ctx pointer). */
static uint64_t ctx_words(const struct bpf_insn *in)
{
	static const uint8_t size[4] = { [BPF_W >> 3] = 4, [BPF_H >> 3] = 2, [BPF_B >> 3] = 1,
					 [BPF_DW >> 3] = 8 };
	unsigned off = (uint16_t)in->off, n = size[BPF_SIZE(in->code) >> 3];
	unsigned first = off / 4, last = (off + n - 1) / 4;

	if (in->off < 0 || last >= SKB_NWORDS)
		return ~0ull;
	return (last - first == 63 ? ~0ull : ((2ull << (last - first)) - 1)) << first;
}

/* Does the call at @p in give a helper the context (or is it no plain helper call)? */
static bool call_takes_ctx(const struct bpf_insn *in)
{
	const struct sl_helper *h = in->src_reg == 0 ? sl_helper_get((uint32_t)in->imm) : NULL;

	if (in->src_reg == BPF_PSEUDO_CALL)
		return false;  /* a subprogram: its own instructions are scanned too */
	if (!h || in->imm == BPF_FUNC_tail_call)
		return true;
	for (unsigned a = 0; a < 5; a++)
		if (h->args[a] == SL_ARG_PTR_TO_CTX)
			return true;
	return false;
}

/*
 * What of struct sl_xdp_ctx a verified XDP program can observe per packet:
 * its context loads were rewritten to sl_xdp_ctx offsets (the verifier's
 * marks say which instructions they are); the pointers data, data_end and
 * data_meta come first, the per-burst fields (ingress_ifindex, ...) after.
 */
static enum sl_xdp_ctx_use xdp_ctx_use(const struct sl_prog *prog)
{
	enum sl_xdp_ctx_use use = SL_XDP_CTX_CONST;

	if (!prog->verified || !prog->aux)
		return SL_XDP_CTX_FULL;
	for (uint32_t pc = 0; pc < prog->n_insns; pc++) {
		const struct bpf_insn *in = &prog->insns[pc];

		if (in->code == (BPF_JMP | BPF_CALL) && call_takes_ctx(in))
			return SL_XDP_CTX_FULL;
		if (prog->aux[pc].ctx_access &&
		    (uint16_t)in->off < offsetof(struct sl_xdp_ctx, ingress_ifindex))
			use = SL_XDP_CTX_BOUNDS;
	}
	return use;
}

void sl_exec_init(struct sl_exec *ex, struct sl_prog *prog, sl_jit_fn fn)
{
	uint64_t touched = 0;

	ex->prog = prog;
	ex->fn = fn;
	ex->skb_untouched = 0;
	ex->burst = NULL;
	ex->burst_prefetch = false;
	ex->xdp_ctx = prog->type == SL_PROG_XDP ? xdp_ctx_use(prog) : SL_XDP_CTX_FULL;
	if (prog->type != SL_PROG_SOCKET || !prog->verified || !prog->aux)
		return;
	for (uint32_t pc = 0; pc < prog->n_insns; pc++) {
		const struct bpf_insn *in = &prog->insns[pc];

		if (in->code == (BPF_JMP | BPF_CALL) && in->src_reg == 0 &&
		    in->imm == BPF_FUNC_tail_call)
			return;  /* the next program may read anything */
		if (prog->aux[pc].ctx_access)
			touched |= ctx_words(in);
	}
	ex->skb_untouched = ~touched;
}

/*
 * The __sk_buff fields the program touches, as the kernel's AF_PACKET hook
 * fills them. Only cb is writable (zeroed per packet when touched, as
 * bpf_prog_run_save_cb does); the fields never filled stay zero from
 * sl_verdict_state_init. Out of line: most filters read no field at all.
 */
static void skb_fill_fields(struct sl_verdict_state *st, unsigned port,
			    const struct sl_pkt *pkt, uint64_t need)
{
	const struct sl_ports_view *pv = st->ports;
	struct __sk_buff *s = &st->skb.skb;

	s->len = pkt->pkt_len;
	if (need & SKB_WORD(pkt_type))
		s->pkt_type = pkt_type_of(pv, port, pkt->data, pkt->len);
	s->queue_mapping = st->queue;
	if (need & SKB_WORD(protocol))
		s->protocol = sl_skb_eth_protocol(pkt->data, pkt->len);
	s->vlan_present = pkt->vlan_stripped;
	s->vlan_tci = pkt->vlan_stripped ? pkt->vlan_tci : 0;
	s->vlan_proto = pkt->vlan_stripped ? htons(ETH_P_8021Q) : 0;
	s->ingress_ifindex = pv->port_id[port];
	s->ifindex = pv->port_id[port];
	s->hash = pkt->rss_hash;
	if (need & SKB_WORDS(cb))
		memset(s->cb, 0, sizeof(s->cb));
}

static inline void skb_fill(struct sl_verdict_state *st, const struct sl_exec *ex,
			    unsigned port, const struct sl_pkt *pkt)
{
	uint64_t need = ~ex->skb_untouched & ((1ull << SKB_NWORDS) - 1);

	st->skb.pkt = pkt->data;
	st->skb.pkt_len = pkt->len;
	if (need)
		skb_fill_fields(st, port, pkt, need);
}

/* Out of line, so that its frame is its own (small) one, not the XDP path's. */
static __attribute__((noinline)) enum sl_verdict
run_socket(struct sl_verdict_state *st, const struct sl_exec *ex, unsigned port,
	   struct sl_pkt *pkt, struct sl_verdict_out *out)
{
	uint32_t pkt_len = pkt->pkt_len, n;
	uint64_t r0;

	/* where a kept packet goes, set before the run: less to keep across the call */
	out->port = st->ports->egress[port];
	out->data = pkt->data;
	out->len = pkt->len;
	skb_fill(st, ex, port, pkt);
	if (unlikely(!run_prog(ex, &st->skb, &r0)))
		return SL_VERDICT_ABORTED;
	n = (uint32_t)r0;
	if (n == 0)
		return SL_VERDICT_DROP;
	if (n < pkt_len) {
		out->len = n;
		return SL_VERDICT_TRIM;
	}
	return SL_VERDICT_PASS;
}

enum sl_verdict sl_verdict_run(struct sl_verdict_state *st, const struct sl_exec *ex,
			       unsigned port, struct sl_pkt *pkt, struct sl_verdict_out *out)
{
	if (ex->prog->type == SL_PROG_SOCKET)
		return run_socket(st, ex, port, pkt, out);
	return run_xdp(st, ex, port, pkt, out);
}
