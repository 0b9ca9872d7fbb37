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
#include "sl_jit.h"
#include "sl_maps.h"
#include "sl_vm.h"
#include "verdict.h"

#define RING_CAP 8192u   /* slots per worker ring (a power of 2: one stays free) */
#define STAT_ADD(field, v) __atomic_store_n(&(field), (field) + (v), __ATOMIC_RELAXED)

/* The object's programs by id - 1: the entry programs ready to run. */
struct cpu_progs {
	unsigned n;
	struct cpu_prog {
		struct sl_exec exec;
		struct sl_jit *jit;
		bool entry;    /* an entry program, verified and ready */
	} p[];
};

struct sl_cpumap {
	struct rte_ring *ring[SL_RUN_MAX_WORKERS];
	uint16_t port_index[RTE_MAX_ETHPORTS];  /* DPDK port id -> engine port index */
	struct cpu_progs *progs;                /* workers: acquire load per burst */
};

bool sl_cpumap_is_entry_prog(const struct sl_prog *p)
{
	return p->type == SL_PROG_XDP &&
	       (!strcmp(p->section, "xdp/cpumap") || !strcmp(p->section, "xdp.frags/cpumap"));
}

static void progs_free(struct cpu_progs *pg)
{
	for (unsigned i = 0; pg && i < pg->n; i++)
		sl_jit_free(pg->p[i].jit);
	free(pg);
}

/* verify and compile one entry program (the engine's choice of JIT or interpreter) */
static int prog_ready(const struct sl_engine *eng, struct sl_prog *prog, struct cpu_prog *cp)
{
	char log[512] = "";
	int err = prog->verified ? 0 : sl_prog_verify(prog, 0, NULL, log, sizeof(log));

	if (!err && eng->opts->exec != SL_RUN_EXEC_INTERP) {
		struct sl_jit_opts jo = { .sz = sizeof(jo) };

		cp->jit = sl_jit_compile(prog, &jo, log, sizeof(log));
		if (!cp->jit && eng->opts->exec == SL_RUN_EXEC_JIT)
			err = -EINVAL;
	}
	if (!err && !cp->jit)
		err = sl_vm_prepare(prog, log, sizeof(log));
	if (err) {
		fprintf(stderr, "sluice: %s: CPUMAP entry program '%s' (section %s): %s\n",
			eng->opts->prog_path, prog->name, prog->section,
			log[0] ? log : strerror(-err));
		return err;
	}
	sl_exec_init(&cp->exec, prog, cp->jit ? sl_jit_entry(cp->jit) : NULL);
	cp->entry = true;
	return 0;
}

/* every entry program of @p obj, by id; NULL after a line on stderr */
static struct cpu_progs *progs_build(const struct sl_engine *eng, const struct sl_obj *obj)
{
	unsigned n = sl_obj_prog_count(obj);
	struct cpu_progs *pg = calloc(1, sizeof(*pg) + n * sizeof(pg->p[0]));

	if (!pg) {
		fprintf(stderr, "sluice: CPUMAP: out of memory\n");
		return NULL;
	}
	pg->n = n;
	for (unsigned i = 0; i < n; i++) {
		struct sl_prog *prog = sl_obj_prog(obj, i);

		if (sl_cpumap_is_entry_prog(prog) && prog_ready(eng, prog, &pg->p[i])) {
			progs_free(pg);
			return NULL;
		}
	}
	return pg;
}

/* sl_map_cpumap_set_prog_check(): an entry program's id (control thread) */
static int prog_check(uint32_t id, void *ctx)
{
	const struct sl_cpumap *cm = ((const struct sl_engine *)ctx)->cpumap;

	if (!cm->progs || id == 0 || id > cm->progs->n)
		return -EBADF;     /* kernel: not a program fd */
	return cm->progs->p[id - 1].entry ? 0 : -EINVAL;  /* kernel: not BPF_XDP_CPUMAP */
}

static bool has_cpumap(const struct sl_engine *eng)
{
	for (unsigned i = 0; i < sl_obj_map_count(eng->obj); i++)
		if (sl_map_get_def(sl_obj_map(eng->obj, i))->type == BPF_MAP_TYPE_CPUMAP)
			return true;
	return false;
}

int sl_cpumap_prepare(struct sl_engine *eng)
{
	struct sl_cpumap *cm;

	if (!has_cpumap(eng))
		return 0;
	cm = calloc(1, sizeof(*cm));
	if (!cm) {
		fprintf(stderr, "sluice: CPUMAP: out of memory\n");
		return -ENOMEM;
	}
	eng->cpumap = cm;
	cm->progs = progs_build(eng, eng->obj);
	if (!cm->progs)
		return -EINVAL;
	for (unsigned i = 0; i < sl_obj_map_count(eng->obj); i++)
		sl_map_cpumap_set_prog_check(sl_obj_map(eng->obj, i), prog_check, eng);
	return 0;
}

int sl_cpumap_reload(struct sl_engine *eng, const struct sl_obj *obj, struct cpu_progs **old)
{
	struct cpu_progs *pg;

	*old = NULL;
	if (!eng->cpumap)
		return 0;
	pg = progs_build(eng, obj);
	if (!pg)
		return -EINVAL;
	for (unsigned i = 0; i < sl_obj_map_count(obj); i++)   /* maps the new object made */
		sl_map_cpumap_set_prog_check(sl_obj_map(obj, i), prog_check, eng);
	*old = eng->cpumap->progs;
	__atomic_store_n(&eng->cpumap->progs, pg, __ATOMIC_RELEASE);
	return 0;
}

void sl_cpumap_progs_free(struct cpu_progs *pg)
{
	progs_free(pg);
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
static unsigned run_entry(struct sl_worker *w, const struct cpu_progs *pg, uint32_t id,
			  struct rte_mbuf *m, unsigned port, uint64_t *counts, uint64_t *drop,
			  uint64_t *error)
{
	struct sl_verdict_out out;
	struct sl_pkt pkt;
	enum sl_verdict v = SL_VERDICT_ABORTED;

	pkt.data = rte_pktmbuf_mtod(m, uint8_t *);
	pkt.len = m->data_len;
	pkt.pkt_len = m->pkt_len;
	pkt.hard_start = m->buf_addr;
	pkt.hard_end = m->nb_segs == 1 ? (uint8_t *)m->buf_addr + m->buf_len : NULL;
	pkt.owner = m;
	pkt.rss_hash = 0;
	pkt.vlan_stripped = false;
	pkt.vlan_tci = 0;
	w->vstate.queue = 0;   /* the kernel's cpumap kthread reports queue 0 */
	if (pg && id <= pg->n && pg->p[id - 1].entry)
		v = sl_verdict_run(&w->vstate, &pg->p[id - 1].exec, port, &pkt, &out);
	if (v == SL_VERDICT_TX)
		v = SL_VERDICT_ABORTED;   /* the kernel allows PASS, DROP and REDIRECT only */
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
	const struct cpu_progs *pg = __atomic_load_n(&cm->progs, __ATOMIC_ACQUIRE);
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
	progs_free(cm->progs);
	free(cm);
	eng->cpumap = NULL;
}
