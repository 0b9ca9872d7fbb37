/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * At stop: the packets sluice's own TX left where only sluice reads them.
 *
 * A net_ring port is a loop: DPDK's ring driver makes one rte_ring per queue
 * pair of a vdev "net_ringN", and TX queue i enqueues into the ring RX queue
 * i dequeues from. What the engine sent into such a port and had not read
 * back when the workers stopped is still in the ring; closing the port frees
 * the ring, not the mbufs in it, so they would count as "not back in the
 * pool" although the engine lost none. With `egress: self` on a net_ring
 * port the ring is never empty while packets circulate.
 *
 * So after the workers have stopped (rte_eal_mp_wait_lcore) and the CPUMAP
 * rings were emptied, before the ports stop (a stopped port's rx_burst is
 * DPDK's dummy one), sl_ports_drain() reads every RX queue of every started
 * net_ring port until it is empty and frees each mbuf. The mbuf count
 * (port.c, after the ports closed) then means exactly "held by nobody".
 * Before that, at the end of a finite input, the control loop (stats.c)
 * waits for these rings to empty, or to stop emptying (a loop), so that
 * what a ring further down the path holds is forwarded rather than drained.
 *
 * Counting: a drained packet was transmitted by the engine (counted in tx
 * and in its port's tx when the ring took it) and is never received again:
 * it is in no rx, so rx = tx + drop + error still holds, and it is reported
 * apart, as "drained_at_stop" (per port and in total). For a net_ring port,
 * tx = rx + drained_at_stop exactly: what went into its rings came out to a
 * worker or was drained.
 *
 * Only rings whose both ends the engine holds are drained. A port whose RX
 * reads an outside source is never read here: net_pcap would read its file
 * on, net_null makes packets, net_tap reads the kernel, a NIC the wire. The
 * other drivers hold no mbuf of ours past rte_eth_dev_close: net_memif (its
 * default copy mode) copies into its shared memory and frees on TX, and
 * allocates on RX; net_tap and net_af_packet copy to the kernel; net_null
 * and net_pcap free on TX; mbufs in RX descriptors (a NIC's, net_pcap's
 * infinite_rx copy of its file) and in TX descriptors not yet completed
 * are freed when close releases the queues, before the count
 * (rte_eth_tx_done_cleanup would only free the completed ones earlier).
 * A driver that keeps one anyway is what the count is there to catch.
 */
#include <string.h>

#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "engine_internal.h"

/* Is the port's RX fed only by its own TX (DPDK's ring driver)? */
static bool rx_is_own_tx(uint16_t pid)
{
	struct rte_eth_dev_info info;

	return rte_eth_dev_info_get(pid, &info) == 0 && info.driver_name &&
	       !strcmp(info.driver_name, "net_ring");
}

/*
 * Every RX queue of port @p i read until empty, at most @p budget mbufs
 * (every mbuf of the pools: more cannot be in its rings, so a ring that
 * someone still filled could not keep this loop going).
 */
static uint64_t drain_port(struct sl_engine *eng, unsigned i, uint64_t budget)
{
	struct rte_mbuf *pkts[SL_RUN_BURST];
	uint64_t n = 0;

	for (uint16_t q = 0; q < eng->port_rxq[i]; q++) {
		uint16_t got;

		do {
			got = rte_eth_rx_burst(eng->port_id[i], q, pkts, SL_RUN_BURST);
			rte_pktmbuf_free_bulk(pkts, got);
			n += got;
		} while (got && n < budget);
	}
	return n;
}

void sl_ports_find_rings(struct sl_engine *eng)
{
	for (unsigned i = 0; i < eng->nports; i++)
		eng->port_ring[i] = eng->port_started[i] && rx_is_own_tx(eng->port_id[i]);
}

void sl_ports_drain(struct sl_engine *eng)
{
	uint64_t budget;

	if (!eng->pool)
		return;
	budget = (uint64_t)eng->pool->size + (eng->jumbo_pool ? eng->jumbo_pool->size : 0);
	sl_ports_find_rings(eng);  /* also after a start that failed midway */
	for (unsigned i = 0; i < eng->nports; i++) {
		uint64_t n;

		if (!eng->port_started[i] || !eng->port_ring[i])
			continue;
		n = drain_port(eng, i, budget);
		eng->port_drained[i] += n;
		eng->drained_at_stop += n;
	}
}
