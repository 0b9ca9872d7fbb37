/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The packet-facing half of the engine that the live worker and the
 * offline replay share: build the program's context over one packet, run
 * the program, and turn its return value into a verdict and a target port.
 * No DPDK type appears here: the worker passes an mbuf's first segment, the
 * replay a record of a capture file; each applies the verdict to its own
 * packet (free or send an mbuf, write or skip a record).
 */
#ifndef SL_ENGINE_VERDICT_H
#define SL_ENGINE_VERDICT_H

#include <stdbool.h>
#include <stdint.h>

#include "sl_jit.h"
#include "sl_vm.h"

/**
 * What the program decided for one packet. Every packet gets exactly one,
 * so the counts of a run add up to its rx.
 */
enum sl_verdict {
	SL_VERDICT_ABORTED,          /**< XDP_ABORTED, an unknown return value, a fault */
	SL_VERDICT_DROP,             /**< XDP_DROP; a socket filter's 0 */
	SL_VERDICT_PASS,             /**< XDP_PASS; a socket filter keeping the whole packet */
	SL_VERDICT_TX,               /**< XDP_TX */
	SL_VERDICT_REDIRECT,         /**< XDP_REDIRECT to a port this engine drives */
	SL_VERDICT_REDIRECT_FAILED,  /**< XDP_REDIRECT with no usable target */
	SL_VERDICT_TRIM,             /**< a socket filter's N < len: keep the first N bytes */
	SL_VERDICT_COUNT,
};

/** Name of a verdict as the reports and the JSON spell it ("redirect_failed"). */
const char *sl_verdict_name(enum sl_verdict v);

/** sl_verdict_port: the packet leaves through no port (egress "drop"). */
#define SL_PORT_NONE 0xffffu

/** What an XDP program can see of its context per packet (struct sl_exec.xdp_ctx). */
enum sl_xdp_ctx_use {
	/** a helper takes the context (adjust_head/tail/meta, load/store_bytes, tail calls, ...) */
	SL_XDP_CTX_FULL = 0,
	/**
	 * the program reads data, data_end or data_meta and calls no helper that
	 * takes the context: only those three change per packet, and the packet's
	 * bounds cannot move (the verifier refuses stores to the context)
	 */
	SL_XDP_CTX_BOUNDS,
	/** neither: only the fields that are the same for a whole burst (ingress_ifindex, ...) */
	SL_XDP_CTX_CONST,
};

/** A program ready to run: what a worker reads, once per burst, to run packets. */
struct sl_exec {
	struct sl_prog *prog;
	sl_jit_fn fn;  /**< JIT entry, or NULL for the (verified) interpreter */
	/**
	 * Socket filters: bit i set when 32-bit word i of struct __sk_buff is
	 * neither read nor written by the program (sl_exec_init), so the
	 * per-packet fill may leave it alone. 0 (a zeroed struct) fills all.
	 */
	uint64_t skb_untouched;
	/**
	 * XDP programs: what of struct xdp_md the program (and the helpers it
	 * calls) can observe per packet (sl_exec_init), so that the worker's
	 * JIT path fills only that. 0 (a zeroed struct): everything.
	 */
	enum sl_xdp_ctx_use xdp_ctx;
	/**
	 * XDP programs that are not SL_XDP_CTX_FULL: the JIT's burst entry
	 * (sl_jit_burst_entry), set by the worker's sl_worker_exec_init; NULL: none.
	 */
	sl_jit_burst_fn burst;
	/**
	 * The burst entry prefetches packet data a few packets ahead: the
	 * caller prefetches the first ones and pads the descriptor array
	 * (sl_worker_exec_init: not when every port receives into cache).
	 */
	bool burst_prefetch;
};

/**
 * Set up @p ex for @p prog (verified) and its JIT entry @p fn (NULL: the
 * interpreter): works out which __sk_buff words a socket filter touches
 * from the verifier's marks of context accesses (every word when it may
 * tail-call another program), and for an XDP program which context
 * fields it can observe per packet (xdp_ctx: a helper that takes the
 * context, or a tail call, needs all of them). Control thread, once per
 * program.
 */
void sl_exec_init(struct sl_exec *ex, struct sl_prog *prog, sl_jit_fn fn);

/**
 * The ports as the program sees them. Port i (an index into these arrays)
 * has ifindex port_id[i]; XDP_PASS and kept socket-filter packets leave by
 * egress[i] (another index, or SL_PORT_NONE).
 */
struct sl_ports_view {
	unsigned nports;
	const uint16_t *port_id;
	const uint16_t *egress;
	const uint8_t (*mac)[6];  /**< each port's MAC, for a socket filter's pkt_type */
	unsigned ncpus;           /**< CPUMAP targets (the engine's workers), 0: none (cpumap.c) */
};

/** sl_verdict_out.port SL_PORT_CPU + w: a CPUMAP hand-over to worker w (cpumap.c). */
#define SL_PORT_CPU 0x8000u

/** One packet as the program sees it: its first (or only) contiguous segment. */
struct sl_pkt {
	uint8_t *data;        /**< first byte of the frame */
	uint32_t len;         /**< bytes at data (the first segment) */
	uint32_t pkt_len;     /**< bytes of the whole packet (all segments) */
	uint8_t *hard_start;  /**< start of the headroom before data */
	uint8_t *hard_end;    /**< end of the tailroom, NULL when more segments follow */
	void *owner;          /**< the engine's handle (an mbuf), or NULL */
	uint32_t rss_hash;    /**< skb->hash, 0 if none */
	uint16_t vlan_tci;    /**< a tag the NIC stripped, when vlan_stripped */
	bool vlan_stripped;
};

/** Where a forwarded packet goes and how the program left it. */
struct sl_verdict_out {
	unsigned port;  /**< target port index, or SL_PORT_NONE */
	uint8_t *data;  /**< the packet's first byte after the program (XDP may move it) */
	uint32_t len;   /**< bytes from data in the first segment (XDP), or the kept length (TRIM) */
};

/**
 * Per-thread state of the shared code: one per worker, one for the replay.
 * The socket-filter context is kept here so that its unused fields are
 * zeroed once, not per packet.
 */
struct sl_verdict_state {
	const struct sl_ports_view *ports;
	uint32_t queue;            /**< rx_queue_index / queue_mapping */
	struct sl_skb_ctx skb;
};

/** Prepare @p st (zeroes the socket context). Any thread, before its packets. */
void sl_verdict_state_init(struct sl_verdict_state *st, const struct sl_ports_view *ports,
			   uint32_t queue);

/**
 * Run @p ex on @p pkt, which arrived on port index @p port.
 * @return the verdict; for PASS, TX, REDIRECT and TRIM @p out says where the
 *         packet goes and its bounds after the program (PASS to an egress of
 *         "drop" has out->port == SL_PORT_NONE).
 * Worker (or replay thread): no locks, no allocation, no logging.
 */
enum sl_verdict sl_verdict_run(struct sl_verdict_state *st, const struct sl_exec *ex,
			       unsigned port, struct sl_pkt *pkt, struct sl_verdict_out *out);

/*
 * The XDP half of sl_verdict_run() in two pieces, for a caller that runs a
 * JIT-compiled program over a whole burst itself (the worker's XDP path):
 * it fills the per-packet fields (data, data_end, data_meta = data,
 * data_hard_start, data_hard_end, pkt_owner) and calls the program; these
 * two give it everything else, so both paths decide alike.
 */

/**
 * Fill the fields of @p ctx that are the same for every packet from port
 * index @p port on this thread (ingress_ifindex, rx_queue_index, ...). A
 * program cannot write them (the verifier refuses stores to xdp_md), so once
 * per burst is enough. Inline: the worker's burst path calls it per burst.
 * Worker: no locks.
 */
static inline void sl_verdict_xdp_ctx_init(const struct sl_verdict_state *st, unsigned port,
					   struct sl_xdp_ctx *ctx)
{
	ctx->ingress_ifindex = st->ports->port_id[port];
	ctx->rx_queue_index = st->queue;
	ctx->egress_ifindex = 0;
	ctx->reserved = 0;
}

/**
 * The verdict of an XDP program that returned @p r0 after running on
 * @p ctx for a packet from port index @p port; @p out as sl_verdict_run()
 * fills it (bounds from ctx->data and ctx->data_end). Worker: no locks.
 */
enum sl_verdict sl_verdict_xdp_result(const struct sl_verdict_state *st, unsigned port,
				      uint64_t r0, const struct sl_xdp_ctx *ctx,
				      struct sl_verdict_out *out);

#endif
