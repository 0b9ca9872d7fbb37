/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * CPUMAP hand-over: bpf_redirect_map(&cpu_map, cpu, flags) as the kernel
 * means it, in a DPDK engine. In the kernel the packet is queued to the
 * target CPU's ring (the entry's qsize), and a kthread there runs the
 * entry's program (bpf_cpumap_val.bpf_prog), if any, then hands the packet
 * to the network stack. Here a CPU is a worker (entry key = worker index,
 * 0..nworkers-1) and the stack is the XDP_PASS path:
 *
 *   worker A: program -> XDP_REDIRECT through a CPUMAP entry k
 *     verdict.c: out.port = SL_PORT_CPU + k (k >= nworkers: redirect_failed)
 *     worker.c forward(): mbuf bounds synced, then sl_cpumap_put():
 *       ring k holds fewer than the entry's qsize packets -> enqueued
 *       (cpu_out), else freed and counted (cpu_full, and drop): never lost
 *   worker k, every loop: sl_cpumap_take() dequeues a burst of its ring,
 *     puts each packet in its TX buffer for the egress of the packet's
 *     ingress port (m->port), as XDP_PASS does; worker.c flushes and
 *     publishes (tx, drop, then cpu_in last)
 *
 * Entry programs (bpf_cpumap_val.bpf_prog.fd != 0) are refused when the
 * entry is set (maps/devmap.c: -EINVAL), so no entry has one.
 *
 * Rings: one per worker, multi-producer (any worker, itself included),
 * single consumer (its worker), RING_CAP slots; an entry's qsize above
 * that is capped to RING_CAP. A hand-over keeps the packet's verdict
 * (redirect) on the worker that ran the program.
 *
 * Accounting: per worker, rx + cpu_in = tx + drop + error + cpu_out at
 * every burst boundary; over the run cpu_in catches up with cpu_out, so
 * the totals keep rx = tx + drop + error. A finite run (pcap inputs)
 * stops once every input packet is received and the rings are empty
 * (stats.c: cpu_in == cpu_out). Packets left in the rings when a run is
 * stopped otherwise are freed at stop and counted as their target's drop.
 *
 * Worker functions: no locks, no allocation, no logging.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_mbuf.h>
#include <rte_errno.h>
#include <rte_ring.h>

#include "engine_internal.h"
#include "sl_helpers.h"
#include "sl_maps.h"

#define RING_CAP 8192u   /* slots per worker ring (a power of 2: one stays free) */
#define STAT_ADD(field, v) __atomic_store_n(&(field), (field) + (v), __ATOMIC_RELAXED)

struct sl_cpumap {
	struct rte_ring *ring[SL_RUN_MAX_WORKERS];
	uint16_t port_index[RTE_MAX_ETHPORTS];  /* DPDK port id -> engine port index */
};

static bool has_cpumap(const struct sl_engine *eng)
{
	for (unsigned i = 0; i < sl_obj_map_count(eng->obj); i++)
		if (sl_map_get_def(sl_obj_map(eng->obj, i))->type == BPF_MAP_TYPE_CPUMAP)
			return true;
	return false;
}

int sl_cpumap_start(struct sl_engine *eng)
{
	struct sl_cpumap *cm;

	if (!has_cpumap(eng))
		return 0;
	cm = calloc(1, sizeof(*cm));
	if (!cm) {
		fprintf(stderr, "sluice run: CPUMAP: out of memory\n");
		return -ENOMEM;
	}
	eng->cpumap = cm;
	for (unsigned p = 0; p < eng->nports; p++)
		cm->port_index[eng->port_id[p]] = (uint16_t)p;
	for (unsigned w = 0; w < eng->nworkers; w++) {
		char name[RTE_RING_NAMESIZE];

		snprintf(name, sizeof(name), "sl_cpumap%u", w);
		cm->ring[w] = rte_ring_create(name, RING_CAP, (int)rte_socket_id(), RING_F_SC_DEQ);
		if (!cm->ring[w]) {
			fprintf(stderr, "sluice run: CPUMAP: cannot create the ring of worker %u: %s\n",
				w, rte_strerror(rte_errno));
			return -ENOMEM;
		}
	}
	eng->ports_view.ncpus = eng->nworkers;
	return 0;
}

/* the qsize of the CPUMAP entry the program redirected through (worker) */
static uint32_t entry_qsize(unsigned cpu)
{
	struct sl_redirect *rd = sl_helper_redirect();
	const uint32_t *v = rd->map ? sl_map_lookup_elem(rd->map, &cpu) : NULL;
	uint32_t q = v ? __atomic_load_n(v, __ATOMIC_RELAXED) : 0;

	return q && q < RING_CAP ? q : RING_CAP - 1;
}

void sl_cpumap_put(struct sl_worker *w, struct rte_mbuf *m, unsigned cpu, uint64_t *drop)
{
	struct rte_ring *r = w->eng->cpumap->ring[cpu];

	if (rte_ring_count(r) >= entry_qsize(cpu) || rte_ring_mp_enqueue(r, m) != 0) {
		rte_pktmbuf_free(m);
		STAT_ADD(w->stats.cpu_full, 1);
		(*drop)++;
		return;
	}
	STAT_ADD(w->stats.cpu_out, 1);
}

unsigned sl_cpumap_take(struct sl_worker *w, uint64_t *drop)
{
	struct sl_engine *eng = w->eng;
	struct sl_cpumap *cm = eng->cpumap;
	struct rte_mbuf *pkts[SL_RUN_BURST];
	unsigned n = rte_ring_sc_dequeue_burst(cm->ring[w->index], (void **)pkts, SL_RUN_BURST,
					       NULL);

	for (unsigned i = 0; i < n; i++) {
		uint16_t eg = eng->egress[cm->port_index[pkts[i]->port]];
		struct sl_txbuf *tb;

		if (eg == SL_PORT_NONE) {   /* egress "drop" */
			rte_pktmbuf_free(pkts[i]);
			(*drop)++;
			continue;
		}
		tb = &w->txbuf[eg];
		tb->pkts[tb->n++] = pkts[i];
	}
	return n;
}

void sl_cpumap_stop(struct sl_engine *eng)
{
	struct sl_cpumap *cm = eng->cpumap;

	if (!cm)
		return;
	for (unsigned w = 0; w < eng->nworkers; w++) {
		struct sl_worker_stats *s = &eng->workers[w].stats;
		void *m;

		while (cm->ring[w] && rte_ring_sc_dequeue(cm->ring[w], &m) == 0) {
			rte_pktmbuf_free(m);
			STAT_ADD(s->drop, 1);
			STAT_ADD(s->cpu_in, 1);
		}
		rte_ring_free(cm->ring[w]);
	}
	free(cm);
	eng->cpumap = NULL;
}
