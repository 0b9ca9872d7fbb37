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
 *       (cpu_out) with the entry's program id in the mbuf (hash.usr, 0:
 *       none), else freed and counted (cpu_full, and drop): never lost
 *   worker k, every loop: sl_cpumap_take() dequeues a burst of its ring;
 *     a packet with an entry program runs it first (below); what passes
 *     goes to its TX buffer for the egress of the packet's ingress port
 *     (m->port), as XDP_PASS does; worker.c flushes and publishes (tx,
 *     drop, then cpu_in last)
 *
 * Entry programs (the kernel's BPF_XDP_CPUMAP attach type: sections
 * "xdp/cpumap" and "xdp.frags/cpumap") are programs of the running object.
 * A CPUMAP value's bpf_prog.fd/id is a program id: 1 + the program's
 * position in the object (preload files, the config and ctl may write the
 * program's name instead: config/text.c). sl_cpumap_prepare() verifies and
 * compiles every entry program of the object before the maps are
 * preloaded and registers the check that makes a CPUMAP accept exactly
 * their ids (others: -EBADF, not an entry program: -EINVAL, as the
 * kernel). On the target worker the program sees the packet as it was
 * handed over (ingress_ifindex its ingress port, rx_queue_index 0, as the
 * kernel's cpumap kthread), through the shared verdict code (verdict.c):
 * XDP_PASS goes on as above, XDP_DROP drops, XDP_REDIRECT goes to its
 * target (a port, or another hand-over); XDP_TX, XDP_ABORTED and other
 * values abort (freed, counted as error) as in the kernel, and a failed
 * redirect is an error too. Per worker, cpu_prog[verdict] counts the
 * entry programs' verdicts (TX counted as aborted). A hot reload builds
 * the table again from the new object (sl_cpumap_reload).
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
#include "verdict.h"

#define RING_CAP 8192u   /* slots per worker ring (a power of 2: one stays free) */
#define STAT_ADD(field, v) __atomic_store_n(&(field), (field) + (v), __ATOMIC_RELAXED)

struct sl_cpumap {
	struct rte_ring *ring[SL_RUN_MAX_WORKERS];
	uint16_t port_index[RTE_MAX_ETHPORTS];  /* DPDK port id -> engine port index */
	struct sl_cpu_progs *progs;             /* entry programs; workers: acquire load per burst */
};

int sl_cpumap_prepare(struct sl_engine *eng)
{
	struct sl_cpumap *cm;

	if (!sl_obj_has_cpumap(eng->obj))
		return 0;
	cm = calloc(1, sizeof(*cm));
	if (!cm) {
		fprintf(stderr, "sluice: CPUMAP: out of memory\n");
		return -ENOMEM;
	}
	eng->cpumap = cm;
	cm->progs = sl_cpu_progs_build(eng->obj, eng->opts->exec, eng->opts->prog_path);
	if (!cm->progs)
		return -EINVAL;
	sl_cpu_progs_attach(eng->obj, &cm->progs);
	return 0;
}

int sl_cpumap_reload(struct sl_engine *eng, const struct sl_obj *obj, struct sl_cpu_progs **old)
{
	struct sl_cpu_progs *pg;

	*old = NULL;
	if (!eng->cpumap)
		return 0;
	pg = sl_cpu_progs_build(obj, eng->opts->exec, eng->opts->prog_path);
	if (!pg)
		return -EINVAL;
	sl_cpu_progs_attach(obj, &eng->cpumap->progs);   /* maps the new object made */
	*old = eng->cpumap->progs;
	__atomic_store_n(&eng->cpumap->progs, pg, __ATOMIC_RELEASE);
	return 0;
}

int sl_cpumap_start(struct sl_engine *eng)
{
	struct sl_cpumap *cm = eng->cpumap;

	if (!cm)
		return 0;
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

/* the qsize and program id of the CPUMAP entry the program redirected through (worker) */
static uint32_t entry_qsize(unsigned cpu, uint32_t *prog_id)
{
	struct sl_redirect *rd = sl_helper_redirect();
	uint32_t q = 0;

	*prog_id = 0;
	if (rd->map)
		sl_map_cpumap_get(rd->map, cpu, &q, prog_id);
	return q && q < RING_CAP ? q : RING_CAP - 1;
}

void sl_cpumap_put(struct sl_worker *w, struct rte_mbuf *m, unsigned cpu, uint64_t *drop)
{
	struct rte_ring *r = w->eng->cpumap->ring[cpu];
	uint32_t prog_id;

	uint32_t qsize = entry_qsize(cpu, &prog_id);

	m->hash.usr = prog_id;   /* before the enqueue's release: the consumer reads it after */
	if (rte_ring_count(r) >= qsize || rte_ring_mp_enqueue(r, m) != 0) {
		rte_pktmbuf_free(m);
		STAT_ADD(w->stats.cpu_full, 1);
		(*drop)++;
		return;
	}
	STAT_ADD(w->stats.cpu_out, 1);
}

/*
 * Run the entry program @p id on @p m (arrived on port index @p port); its
 * verdict counted in @p counts. Returns the port index it goes to, or
 * SL_PORT_NONE when it was freed (drop: counted in *drop, else in *error)
 * or handed over again (SL_PORT_CPU + k).
 */
static unsigned run_entry(struct sl_worker *w, const struct sl_cpu_progs *pg, uint32_t id,
			  struct rte_mbuf *m, unsigned port, uint64_t *counts, uint64_t *drop,
			  uint64_t *error)
{
	struct sl_verdict_out out;
	struct sl_pkt pkt;
	enum sl_verdict v;

	pkt.data = rte_pktmbuf_mtod(m, uint8_t *);
	pkt.len = m->data_len;
	pkt.pkt_len = m->pkt_len;
	pkt.hard_start = m->buf_addr;
	pkt.hard_end = m->nb_segs == 1 ? (uint8_t *)m->buf_addr + m->buf_len : NULL;
	pkt.owner = m;
	pkt.rss_hash = 0;
	pkt.vlan_stripped = false;
	pkt.vlan_tci = 0;
	v = sl_cpu_progs_run(pg, id, &w->vstate, port, &pkt, &out);
	counts[v]++;
	if (v == SL_VERDICT_DROP || ((v == SL_VERDICT_PASS || v == SL_VERDICT_REDIRECT) &&
				     out.port == SL_PORT_NONE)) {
		rte_pktmbuf_free(m);
		(*drop)++;
		return SL_PORT_NONE;
	}
	if ((v != SL_VERDICT_PASS && v != SL_VERDICT_REDIRECT) || sl_worker_sync_mbuf(m, &out)) {
		rte_pktmbuf_free(m);
		(*error)++;
		return SL_PORT_NONE;
	}
	if (out.port >= SL_PORT_CPU) {
		sl_cpumap_put(w, m, out.port - SL_PORT_CPU, drop);
		return SL_PORT_NONE;
	}
	return out.port;
}

/* publish what the entry programs did in this burst (single writer: the worker) */
static void publish_entry(struct sl_worker *w, const uint64_t *counts, uint64_t error)
{
	for (unsigned v = 0; v < SL_VERDICT_COUNT; v++)
		if (counts[v])
			STAT_ADD(w->stats.cpu_prog[v], counts[v]);
	if (error)
		STAT_ADD(w->stats.error, error);
}

unsigned sl_cpumap_take(struct sl_worker *w, uint64_t *drop)
{
	struct sl_engine *eng = w->eng;
	struct sl_cpumap *cm = eng->cpumap;
	const struct sl_cpu_progs *pg = __atomic_load_n(&cm->progs, __ATOMIC_ACQUIRE);
	struct rte_mbuf *pkts[SL_RUN_BURST];
	uint64_t counts[SL_VERDICT_COUNT] = { 0 }, error = 0;
	unsigned n = rte_ring_sc_dequeue_burst(cm->ring[w->index], (void **)pkts, SL_RUN_BURST,
					       NULL);

	for (unsigned i = 0; i < n; i++) {
		unsigned port = cm->port_index[pkts[i]->port];
		uint16_t eg = eng->egress[port];
		struct sl_txbuf *tb;

		if (unlikely(pkts[i]->hash.usr != 0)) {
			eg = (uint16_t)run_entry(w, pg, pkts[i]->hash.usr, pkts[i], port, counts, drop,
						 &error);
			if (eg == SL_PORT_NONE)
				continue;
		} else if (eg == SL_PORT_NONE) {   /* egress "drop" */
			rte_pktmbuf_free(pkts[i]);
			(*drop)++;
			continue;
		}
		tb = &w->txbuf[eg];
		tb->pkts[tb->n++] = pkts[i];
	}
	publish_entry(w, counts, error);
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
	sl_cpu_progs_free(cm->progs);
	free(cm);
	eng->cpumap = NULL;
}
