/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sluice replay: a capture file through a program, offline, without DPDK.
 *
 * Every record goes through sl_verdict_run() (verdict.c), the very code
 * the live worker runs on an mbuf: same context, same program run, same
 * return-value -> verdict table. Only what happens to the packet afterwards
 * differs: the live worker frees or transmits an mbuf; the replay writes
 * the record to a file or skips it.
 *
 * The packet as the program sees it:
 *   XDP      a copy of the record in a buffer laid out as a default DPDK
 *            mbuf (128 bytes of headroom, 2048 of data room), so that
 *            bpf_xdp_adjust_head/tail and packet writes behave as live;
 *            a record longer than the data room is given whole with no
 *            tailroom (live, it would span segments).
 *   socket   the record in the reader's window (socket filters cannot write
 *            it); skb->len is the length on the wire, the bytes the
 *            captured ones, as libpcap's filter sees a record.
 * Time: bpf_ktime_get_ns() and its kin return the record's capture time
 * (the helpers' per-thread virtual clock), so a replay of the same file
 * gives the same maps every time.
 * Ports: port 0 is the ingress (ifindex 0); `-w N=FILE` adds ports up to
 * N; XDP_PASS leaves by port 0's egress as `sluice run` pairs ports (its
 * partner 1 when there is one, else itself), XDP_TX by port 0, a redirect
 * by the port with that ifindex (none: redirect_failed). A redirect
 * through a CPUMAP is the live hand-over (cpumap.c) done in place: key k
 * below the config's worker count (1 without -c) with an entry is a
 * worker that runs the entry's program, if any (cpumap_entry.c, the
 * code the live target worker runs), and sends what passes as XDP_PASS
 * does; counted as the live engine counts it (cpumap_* in the report).
 * Outputs: a packet leaving by port P is appended to P's file, with the
 * record's timestamp (the file's resolution), caplen = the bytes the
 * program left (a socket filter's N cuts caplen to at most N, the wire
 * length stays; an XDP length change moves the wire length by as much);
 * dropped, aborted, failed and "egress drop" packets go to --drops as read.
 * Counters: one struct sl_worker_stats, printed by report.c / json.c as
 * for `sluice run` (one worker, one port per output).
 *
 * Bad input stops the loop with one line; what was read before it is
 * processed, written and counted, and the exit code is 1.
 *
 * A stop signal (SIGINT, SIGTERM, ...; signals.c's sl_signals_defer_first)
 * is looked at before the first record and every 4096 records (with
 * several workers, before each 256 KiB chunk): the loop stops there, what
 * ran is written and counted, one line says so, the report and --json
 * follow, and the command then dies of that signal (sl_signal_reraise in
 * cmd_replay.c), as before, so a script sees the replay interrupted. A
 * second signal acts at once, as by default.
 */
#include <errno.h>
#include <inttypes.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "engine_internal.h"
#include "pcapio.h"
#include "replay.h"
#include "replay_par.h"
#include "sl_cbpf.h"
#include "sl_config.h"
#include "sl_helpers.h"
#include "sl_maps.h"
#include "verdict.h"

#define LOG_LEN 2048
#define XDP_HEADROOM 128u    /* RTE_PKTMBUF_HEADROOM */
#define XDP_DATAROOM 2048u   /* RTE_MBUF_DEFAULT_DATAROOM */
#define QUIESCE_MASK 0xfffu  /* sl_map_quiescent() every 4096 records */
#define PROGRESS_MASK 0x3ffffu
#define AUTO_WORKERS_MAX 8u  /* workers without --workers */

_Static_assert(sizeof(struct sl_filter_insn) == sizeof(struct sock_filter) &&
	       offsetof(struct sl_filter_insn, k) == offsetof(struct sock_filter, k),
	       "struct sl_filter_insn must be laid out as struct sock_filter");

/* The replay (one thread). */
struct replay {
	const struct sl_replay_opts *o;
	struct sl_config cfg;              /* -c and --map: object, engine, map sizes, preloads */
	const char *prog_path;             /* --prog, else the config's object */
	struct sl_run_opts ropts;          /* for report.c / json.c: port names, no_maps */
	struct sl_engine eng;
	struct sl_pcap_reader rd;
	struct sl_pcap_writer out[SL_RUN_MAX_PORTS];
	struct sl_pcap_writer drops;
	struct sl_exec ex;
	struct sl_verdict_state vs;
	struct sl_ports_view pv;
	struct sl_cpu_progs *cpu_progs;    /* CPUMAP entry programs (cpumap_entry.c), or NULL */
	uint8_t mac[SL_RUN_MAX_PORTS][6];  /* zero: no frame is PACKET_HOST */
	uint8_t *buf;                      /* XDP packet buffer */
	size_t buf_len;
	bool socket;
	bool clock;                        /* the program calls helpers: keep the virtual clock */
	uint64_t frac_ns;                  /* nanoseconds per unit of a record's fraction */
	FILE *report;                      /* stdout, or stderr when a capture goes to stdout */
	bool io_threads;                   /* read-ahead, write-behind (--io-threads) */
	unsigned workers;                  /* --workers, or auto_workers() */
	double start;
};

static double clock_s(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double now(void)
{
	return clock_s(CLOCK_MONOTONIC);
}

struct sl_prog *sl_filter_compile(const char *expr, uint32_t linktype, uint32_t snaplen,
				  char *log, size_t log_len)
{
	struct sl_filter_insn *insns = NULL;
	struct sl_prog *prog;
	char xlog[256] = "";
	unsigned n = 0;

	if (sl_filter_cbpf(expr, linktype, snaplen, &insns, &n, log, log_len))
		return NULL;
	prog = sl_cbpf_translate((const struct sock_filter *)insns, n, xlog, sizeof(xlog));
	if (!prog)
		snprintf(log, log_len, "filter '%s': %s", expr, xlog[0] ? xlog : strerror(errno));
	free(insns);
	return prog;
}

/* ---- program ---- */

/* -c FILE and --map NAME=FILE: the same config code as `sluice run` (config/). */
static int load_config(struct replay *rp, char *log)
{
	const struct sl_replay_opts *o = rp->o;
	int err = 0;

	/*
	 * Without -c or --map the (zero) config stays untouched: zeroing its
	 * 160 KiB would fault 40 pages in for nothing (see sl_replay_main).
	 */
	if (o->config_path || o->nmaps)
		sl_config_init(&rp->cfg);
	if (o->config_path && (err = sl_config_load(&rp->cfg, o->config_path, log, LOG_LEN)))
		return err;
	for (unsigned i = 0; i < o->nmaps && !err; i++)
		err = sl_config_add_map(&rp->cfg, o->maps[i], log, LOG_LEN);
	if (err)
		return err;
	rp->prog_path = o->prog_path ? o->prog_path : rp->cfg.object[0] ? rp->cfg.object : NULL;
	if (!rp->prog_path && !o->filter) {
		snprintf(log, LOG_LEN, "%s names no program (program.object), and no --prog was given",
			 o->config_path);
		return -EINVAL;
	}
	return 0;
}

static const char *section_of(const struct replay *rp)
{
	if (rp->o->section)
		return rp->o->section;
	return rp->o->prog_path || !rp->cfg.section[0] ? NULL : rp->cfg.section;
}

static int load_object(struct replay *rp, char *log)
{
	struct sl_obj_map_size sizes[SL_CONFIG_MAX_MAPS];
	struct sl_obj_opts oo = { .sz = sizeof(oo), .ncpus = 1, .map_sizes = sizes };
	const char *section = section_of(rp);

	for (unsigned i = 0; i < rp->cfg.nmaps; i++)
		if (rp->cfg.maps[i].size)
			sizes[oo.n_map_sizes++] = (struct sl_obj_map_size){ rp->cfg.maps[i].name,
									    rp->cfg.maps[i].size };
	rp->eng.obj = sl_obj_open(rp->prog_path, &oo, log, LOG_LEN);
	if (!rp->eng.obj)
		return -EINVAL;
	if (sl_config_check_maps(&rp->cfg, rp->eng.obj, log, LOG_LEN))
		return -ENOENT;
	rp->eng.prog = sl_obj_find_prog(rp->eng.obj, section);
	if (!rp->eng.prog) {
		snprintf(log, LOG_LEN, "%s: no program in section '%s'", rp->prog_path,
			 section ? section : "(any)");
		return -ENOENT;
	}
	if (rp->eng.prog->type != SL_PROG_XDP && rp->eng.prog->type != SL_PROG_SOCKET) {
		snprintf(log, LOG_LEN, "%s: section '%s' is neither an XDP nor a socket filter "
			 "program", rp->prog_path, rp->eng.prog->section);
		return -EINVAL;
	}
	if (rp->cfg.type[0] && strcmp(rp->cfg.type,
				      rp->eng.prog->type == SL_PROG_XDP ? "xdp" : "socket")) {
		snprintf(log, LOG_LEN, "%s:%u:%u: program.type: section '%s' is not a%s %s program",
			 rp->cfg.path, rp->cfg.type_loc.line, rp->cfg.type_loc.col,
			 rp->eng.prog->section, rp->cfg.type[0] == 'x' ? "n" : "", rp->cfg.type);
		return -EINVAL;
	}
	if (rp->rd.linktype != 1) {
		snprintf(log, LOG_LEN, "%s: link type %u: programs run on Ethernet frames, the only "
			 "link type --prog supports is EN10MB (1); --filter supports %s",
			 rp->o->in_path, rp->rd.linktype, sl_filter_supported_names());
		return -ENOTSUP;
	}
	return 0;
}

static int load_filter(struct replay *rp, char *log)
{
	const struct sl_replay_opts *o = rp->o;
	uint32_t snap = o->snaplen ? (uint32_t)o->snaplen : rp->rd.snaplen;

	if (!sl_filter_linktype_ok(rp->rd.linktype)) {
		snprintf(log, LOG_LEN, "%s: link type %u is not supported (supported: %s)", o->in_path,
			 rp->rd.linktype, sl_filter_supported_names());
		return -ENOTSUP;
	}
	rp->eng.prog = sl_filter_compile(o->filter, rp->rd.linktype, snap, log, LOG_LEN);
	return rp->eng.prog ? 0 : -EINVAL;
}

/*
 * Whether the program calls a helper or kfunc: only then can it see the
 * clock (bpf_ktime_get*_ns, trace_printk's stamps, prandom's seed, a
 * tail-called program), and only then is the virtual clock set per record.
 */
static bool calls_helpers(const struct sl_prog *prog)
{
	for (uint32_t pc = 0; pc < prog->n_insns; pc++)
		if (prog->insns[pc].code == (BPF_JMP | BPF_CALL) &&
		    prog->insns[pc].src_reg != BPF_PSEUDO_CALL)
			return true;
	return false;
}

/* Load (object or filter), verify, compile; the interpreter on request. */
static int load_prog(struct replay *rp)
{
	const struct sl_replay_opts *o = rp->o;
	char log[LOG_LEN] = "";
	const char *what = o->filter ? "--filter" : rp->prog_path;
	unsigned entries = 0;
	int err = load_config(rp, log);
	int exec = o->interp || rp->cfg.engine == SL_ENGINE_INTERP ? SL_RUN_EXEC_INTERP :
		   rp->cfg.engine == SL_ENGINE_JIT ? SL_RUN_EXEC_JIT : SL_RUN_EXEC_AUTO;

	err = err ? err : o->filter ? load_filter(rp, log) : load_object(rp, log);
	if (!err && (err = sl_prog_verify(rp->eng.prog, 0, NULL, log, sizeof(log))))
		fprintf(stderr, "sluice replay: %s: rejected by the verifier: %s\n", what, log);
	else if (err)
		fprintf(stderr, "%s%s\n", log[0] && rp->cfg.path[0] &&
			!strncmp(log, rp->cfg.path, strlen(rp->cfg.path)) ? "" : "sluice replay: ",
			log[0] ? log : strerror(-err));
	if (!err && sl_obj_has_cpumap(rp->eng.obj)) {  /* entry programs: before CPUMAP preloads */
		rp->cpu_progs = sl_cpu_progs_build(rp->eng.obj, exec, what);
		err = rp->cpu_progs ? 0 : -EINVAL;
		if (!err)
			sl_cpu_progs_attach(rp->eng.obj, &rp->cpu_progs);
	}
	if (!err && rp->eng.obj &&
	    (err = sl_config_preload(&rp->cfg, rp->eng.obj, &entries, log, sizeof(log))))
		fprintf(stderr, "%s\n", log);
	if (err)
		return err;
	if (entries && !o->quiet)
		fprintf(rp->report, "sluice: %u map entr%s preloaded\n", entries,
			entries == 1 ? "y" : "ies");
	err = sl_cli_prog_build(rp->eng.prog, exec, &rp->eng.jit, log, sizeof(log));
	if (err) {
		fprintf(stderr, "sluice replay: %s: %s\n", what, log);
		return err;
	}
	if (!rp->eng.jit && exec != SL_RUN_EXEC_INTERP && !o->quiet)
		fprintf(stderr, "sluice replay: JIT unavailable for this program (%s): using "
			"the interpreter\n", log);
	sl_exec_init(&rp->ex, rp->eng.prog, rp->eng.jit ? sl_jit_entry(rp->eng.jit) : NULL);
	rp->eng.exec_main = rp->ex;
	rp->eng.exec = &rp->eng.exec_main;
	rp->eng.exec_name = rp->eng.jit ? "jit" : "interpreter";
	rp->socket = rp->eng.prog->type == SL_PROG_SOCKET;
	rp->clock = calls_helpers(rp->eng.prog);
	return 0;
}

/* ---- ports and files ---- */

static int setup_ports(struct replay *rp)
{
	const struct sl_replay_opts *o = rp->o;
	struct sl_engine *eng = &rp->eng;
	unsigned n = 1;

	for (unsigned i = 0; i < o->nouts; i++)
		if (o->outs[i].port + 1 > n)
			n = o->outs[i].port + 1;
	eng->nports = n;
	rp->ropts.nports = n;
	for (unsigned p = 0; p < n; p++) {
		eng->port_id[p] = (uint16_t)p;
		eng->egress[p] = (uint16_t)((p ^ 1u) < n ? (p ^ 1u) : p);  /* as port.c pairs ports */
		snprintf(rp->ropts.ports[p].name, sizeof(rp->ropts.ports[p].name), "%s",
			 p ? "replay-out" : "replay");
	}
	for (unsigned i = 0; i < o->nouts; i++)
		snprintf(rp->ropts.ports[o->outs[i].port].name, sizeof(rp->ropts.ports[0].name),
			 "%s", o->outs[i].path);
	rp->pv = (struct sl_ports_view){ .nports = n, .port_id = eng->port_id,
					 .egress = eng->egress,
					 .mac = (const uint8_t (*)[6])rp->mac,
					 .ncpus = rp->cpu_progs ? (rp->cfg.nworkers ? rp->cfg.nworkers : 1) :
						  0 };
	eng->ports_view = rp->pv;
	return 0;
}

/* The write-behind thread of an output that is a regular file (not a terminal, pipe or /dev/null). */
static void write_behind(struct replay *rp, struct sl_pcap_writer *w, const char *what)
{
	char log[LOG_LEN];
	struct stat st;

	if (rp->io_threads && !fstat(w->fd, &st) && S_ISREG(st.st_mode) &&
	    sl_pcap_write_behind(w, log, sizeof(log)))
		fprintf(stderr, "sluice replay: %s %s (writing without)\n", what, log);
}

static int open_outputs(struct replay *rp)
{
	const struct sl_replay_opts *o = rp->o;
	uint32_t snap = rp->rd.snaplen;
	char log[LOG_LEN];

	if (o->filter && o->snaplen && o->snaplen < snap)
		snap = (uint32_t)o->snaplen;
	for (unsigned i = 0; i < o->nouts; i++) {
		struct sl_pcap_writer *w = &rp->out[o->outs[i].port];

		if (sl_pcap_wopen(w, o->outs[i].path, rp->rd.res, snap, rp->rd.linktype, log,
				  sizeof(log))) {
			fprintf(stderr, "sluice replay: -w %s\n", log);
			return -EIO;
		}
		write_behind(rp, w, "-w");
	}
	if (o->drops_path && sl_pcap_wopen(&rp->drops, o->drops_path, rp->rd.res, rp->rd.snaplen,
					   rp->rd.linktype, log, sizeof(log))) {
		fprintf(stderr, "sluice replay: --drops %s\n", log);
		return -EIO;
	}
	if (o->drops_path)
		write_behind(rp, &rp->drops, "--drops");
	return 0;
}

static int close_outputs(struct replay *rp)
{
	char log[LOG_LEN];
	int err = 0;

	for (unsigned p = 0; p < SL_RUN_MAX_PORTS; p++)
		if (rp->out[p].buf && sl_pcap_wclose(&rp->out[p], log, sizeof(log))) {
			fprintf(stderr, "sluice replay: -w %s\n", log);
			err = -EIO;
		}
	if (rp->drops.buf && sl_pcap_wclose(&rp->drops, log, sizeof(log))) {
		fprintf(stderr, "sluice replay: --drops %s\n", log);
		err = -EIO;
	}
	return err;
}

/* ---- the loop (replay thread: no allocation, no logging) ---- */

static inline void to_drops(struct replay *rp, const struct sl_pcap_rec *rec)
{
	if (rp->drops.buf)
		sl_pcap_write(&rp->drops, rec, rec->data, rec->caplen);
}

/* A packet that leaves by out->port with out->len bytes from out->data. */
static inline void leave(struct replay *rp, struct sl_worker_stats *s, const struct sl_pcap_rec *rec,
			 const struct sl_verdict_out *out, bool trim)
{
	struct sl_pcap_rec h = *rec;
	uint32_t caplen = out->len;

	if (out->port == SL_PORT_NONE) {  /* egress "drop" */
		s->drop++;
		to_drops(rp, rec);
		return;
	}
	if (trim)
		caplen = caplen < rec->caplen ? caplen : rec->caplen;  /* wire length stays */
	else
		h.len = rec->len - rec->caplen + caplen;  /* XDP: what the program added or cut */
	s->tx++;
	s->port_tx[out->port]++;
	if (rp->out[out->port].buf)
		sl_pcap_write(&rp->out[out->port], &h, out->data, caplen);
}

/*
 * A CPUMAP redirect (out->port SL_PORT_CPU + k), as the live target worker
 * takes it over (cpumap.c): the entry's program, if any, then the XDP_PASS
 * path; an entry program's redirect goes on (another CPUMAP: once more, up
 * to 8 times). Returns how the packet ends: PASS or REDIRECT (out says
 * where), DROP or ABORTED.
 */
static enum sl_verdict cpu_hand_over(struct replay *rp, struct sl_worker_stats *s,
				     struct sl_pkt *pkt, struct sl_verdict_out *out)
{
	for (int hop = 0; hop < 8; hop++) {
		uint32_t qsize = 0, id = 0;
		enum sl_verdict v;

		sl_map_cpumap_get(sl_helper_redirect()->map, out->port - SL_PORT_CPU, &qsize, &id);
		s->cpu_out++;
		s->cpu_in++;
		if (!id) {
			out->port = rp->pv.egress[0];
			return SL_VERDICT_PASS;
		}
		pkt->data = out->data;
		pkt->len = pkt->pkt_len = out->len;
		v = sl_cpu_progs_run(rp->cpu_progs, id, &rp->vs, 0, pkt, out);
		s->cpu_prog[v]++;
		if ((v != SL_VERDICT_PASS && v != SL_VERDICT_REDIRECT) || out->port < SL_PORT_CPU)
			return v;
	}
	return SL_VERDICT_ABORTED;
}

static inline void replay_one(struct replay *rp, struct sl_worker_stats *s,
			      const struct sl_pcap_rec *rec)
{
	struct sl_verdict_out out;
	struct sl_pkt pkt;
	enum sl_verdict v;

	pkt.len = rec->caplen;
	pkt.owner = NULL;
	pkt.rss_hash = 0;
	pkt.vlan_tci = 0;
	pkt.vlan_stripped = false;
	if (rp->socket) {
		pkt.data = (uint8_t *)(uintptr_t)rec->data;
		pkt.pkt_len = rec->len;
		pkt.hard_start = NULL;
		pkt.hard_end = NULL;
	} else {
		pkt.hard_start = rp->buf;
		pkt.data = rp->buf + XDP_HEADROOM;
		pkt.hard_end = rec->caplen <= XDP_DATAROOM ? rp->buf + XDP_HEADROOM + XDP_DATAROOM :
			       NULL;
		pkt.pkt_len = rec->caplen;
		memcpy(pkt.data, rec->data, rec->caplen);
	}
	if (rp->clock)
		sl_helper_clock_set(rec->sec * 1000000000ull + rec->frac * rp->frac_ns);
	v = sl_verdict_run(&rp->vs, &rp->ex, 0, &pkt, &out);
	s->verdict[v]++;
	if (__builtin_expect(v == SL_VERDICT_REDIRECT && out.port >= SL_PORT_CPU, 0))
		v = cpu_hand_over(rp, s, &pkt, &out);   /* how it ends after the hand-over */
	switch (v) {
	case SL_VERDICT_DROP:
		s->drop++;
		to_drops(rp, rec);
		break;
	case SL_VERDICT_PASS:
	case SL_VERDICT_TX:
	case SL_VERDICT_REDIRECT:
		leave(rp, s, rec, &out, false);
		break;
	case SL_VERDICT_TRIM:
		leave(rp, s, rec, &out, true);
		break;
	default:  /* aborted, redirect_failed */
		s->error++;
		to_drops(rp, rec);
		break;
	}
}

/* packets, percent of the file (@p f), rate, ETA on stderr (a terminal). */
static void progress_at(const struct replay *rp, uint64_t n, double f, bool last)
{
	double t = now() - rp->start;
	double rate = t > 0 ? (double)n / t : 0, eta = f > 0 ? t / f - t : 0;

	fprintf(stderr, "\r%" PRIu64 " packets  %5.1f%%  %.2f Mpps  ETA %.0f s   %s", n, f * 100,
		rate * 1e-6, last ? 0.0 : eta, last ? "\n" : "");
}

static void progress(const struct replay *rp, uint64_t n, bool last)
{
	progress_at(rp, n, sl_pcap_progress(&rp->rd), last);
}

/*
 * Every 4096 records: the maps' quiescent state, and true when a stop
 * signal came (the caller stops after this record); every 256 Ki: the
 * progress line.
 */
static inline bool every_4k(const struct replay *rp, uint64_t n, bool show)
{
	if (__builtin_expect(!(n & QUIESCE_MASK), 0)) {
		sl_map_quiescent();
		if (show && !(n & PROGRESS_MASK))
			progress(rp, n, false);
		return sl_signal_stop() != 0;
	}
	return false;
}

/* What a socket filter's verdicts amount to, as replay_one() counts them one by one. */
static void socket_counts(struct replay *rp, struct sl_worker_stats *s,
			  const uint64_t vc[SL_VERDICT_COUNT])
{
	unsigned eg = rp->pv.egress[0];
	uint64_t keep = vc[SL_VERDICT_PASS] + vc[SL_VERDICT_TRIM];

	for (unsigned v = 0; v < SL_VERDICT_COUNT; v++)
		s->verdict[v] += vc[v];
	s->drop += vc[SL_VERDICT_DROP];
	s->error += vc[SL_VERDICT_ABORTED];
	if (eg == SL_PORT_NONE) {
		s->drop += keep;
	} else {
		s->tx += keep;
		s->port_tx[eg] += keep;
	}
}

/*
 * The common case at full speed: a socket filter over a classic pcap in
 * host byte order. Each record goes through the same sl_verdict_run() as
 * in replay_one(); what is lighter is the bookkeeping around it: headers
 * read in place, a record that leaves (or goes to --drops) copied with its
 * header in one memcpy (the input's header is the output's, caplen
 * patched for a trim), verdicts counted in a local array and turned into
 * the stats at the end (socket_counts). Takes the records that lie whole
 * in the reader's window; the caller's loop then reads on (or reports
 * the fault) through sl_pcap_next().
 */
static bool socket_fast(struct replay *rp, struct sl_worker_stats *s, uint64_t *np, bool show)
{
	struct sl_pcap_reader *rd = &rp->rd;
	struct sl_pcap_writer *dst[SL_VERDICT_COUNT] = { 0 };
	const uint8_t *base = rd->base;
	size_t off = rd->off, size = rd->size;
	uint32_t snaplen = rd->snaplen;
	unsigned eg = rp->pv.egress[0];
	uint64_t vc[SL_VERDICT_COUNT] = { 0 }, n = *np, n0 = n;
	uint64_t frac_ns = rp->frac_ns;
	bool clock = rp->clock;
	struct sl_pkt pkt = { 0 };
	struct sl_verdict_out out;
	bool stop = false;

	dst[SL_VERDICT_ABORTED] = dst[SL_VERDICT_DROP] = rp->drops.buf ? &rp->drops : NULL;
	dst[SL_VERDICT_PASS] = eg == SL_PORT_NONE ? dst[SL_VERDICT_DROP] :
			       rp->out[eg].buf ? &rp->out[eg] : NULL;
	dst[SL_VERDICT_TRIM] = dst[SL_VERDICT_PASS];
	while (size - off >= 16) {
		const uint8_t *h = base + off;
		uint32_t caplen, len;
		enum sl_verdict v;

		__builtin_prefetch(h + SL_PCAP_PREFETCH);
		memcpy(&caplen, h + 8, 4);
		memcpy(&len, h + 12, 4);
		if (__builtin_expect(caplen > len || caplen > snaplen || caplen > size - off - 16, 0))
			break;
		pkt.data = (uint8_t *)(uintptr_t)(h + 16);
		pkt.len = caplen;
		pkt.pkt_len = len;
		if (clock) {
			uint32_t t[2];

			memcpy(t, h, 8);
			sl_helper_clock_set(t[0] * 1000000000ull + t[1] * frac_ns);
		}
		v = sl_verdict_run(&rp->vs, &rp->ex, 0, &pkt, &out);
		vc[v]++;
		if (dst[v])
			sl_pcap_write_raw(dst[v], h, v == SL_VERDICT_TRIM && out.len < caplen ? out.len :
						     caplen);
		off += 16 + (size_t)caplen;
		if (every_4k(rp, ++n, show)) {
			stop = true;
			break;
		}
	}
	rd->off = off;
	rd->nrec += n - n0;
	*np = n;
	socket_counts(rp, s, vc);
	return stop;
}

static void progress_cb(const void *arg, uint64_t n, double done)
{
	progress_at(arg, n, done, false);
}

/*
 * --workers N: the records on N threads (replay_par.c) up to the end of
 * the file or the first record the reader refuses, which the loop below
 * then meets. 0 or -errno with one line in @p log.
 */
static int replay_par(struct replay *rp, struct sl_worker_stats *s, uint64_t *np, bool show,
		      char *log, size_t log_len)
{
	unsigned eg = rp->pv.egress[0];
	struct sl_replay_par p = {
		.ex = &rp->ex, .pv = &rp->pv, .rd = &rp->rd,
		.kept = eg != SL_PORT_NONE && rp->out[eg].buf ? &rp->out[eg] : NULL,
		.drops = rp->drops.buf ? &rp->drops : NULL,
		.kept_dropped = eg == SL_PORT_NONE, .clock = rp->clock, .frac_ns = rp->frac_ns,
		.workers = rp->workers, .show = show, .progress = progress_cb, .progress_arg = rp,
	};
	int err = sl_replay_par_run(&p, log, log_len);

	*np += p.n;
	socket_counts(rp, s, p.vc);
	return err;
}

static int replay_loop(struct replay *rp, char *log, size_t log_len)
{
	struct sl_worker_stats *s = &rp->eng.workers[0].stats;
	bool show = rp->o->progress > 0 || (rp->o->progress < 0 && isatty(2));
	bool fast = rp->socket && !rp->rd.ng && !rp->rd.swap;
	struct sl_pcap_rec rec;
	uint64_t n = 0;
	int ret = rp->workers > 1 ? replay_par(rp, s, &n, show, log, log_len) : 0;
	bool stop = sl_signal_stop() != 0;  /* one during start-up: no record runs */

	while (!ret && !stop) {
		if (fast && (stop = socket_fast(rp, s, &n, show)))
			break;
		ret = sl_pcap_next(&rp->rd, &rec, log, log_len);  /* reads on, or says why not */
		if (ret != 1)
			break;
		replay_one(rp, s, &rec);
		stop = every_4k(rp, ++n, show);
		ret = 0;
	}
	if (stop)  /* before the report, as an input error's line */
		fprintf(stderr, "sluice replay: stopped by %s after %" PRIu64 " records of %s: "
			"those are written and counted, the rest is not read\n",
			sl_signal_name(sl_signal_stop()), n, rp->o->in_path);
	if (show)
		progress(rp, n, true);
	s->rx = n;
	s->port_rx[0] = n;
	return ret;
}

static void replay_free(struct replay *rp)
{
	sl_cpu_progs_free(rp->cpu_progs);
	sl_jit_free(rp->eng.jit);
	if (rp->eng.obj)
		sl_obj_close(rp->eng.obj);
	else
		sl_prog_free(rp->eng.prog);
	sl_pcap_close(&rp->rd);
	free(rp->eng.workers);
	free(rp->buf);
	sl_config_fini(&rp->cfg);
}

static int replay_setup(struct replay *rp)
{
	int err;

	rp->eng.workers = aligned_alloc(SL_RUN_CACHE_LINE, sizeof(struct sl_worker));
	rp->buf_len = XDP_HEADROOM + SL_PCAP_MAX_SNAPLEN;  /* any record (pcapng: any interface's) */
	rp->buf = calloc(1, rp->buf_len);
	if (!rp->eng.workers || !rp->buf) {
		fprintf(stderr, "sluice replay: out of memory\n");
		return -ENOMEM;
	}
	memset(rp->eng.workers, 0, sizeof(struct sl_worker));
	rp->eng.workers[0].eng = &rp->eng;
	rp->eng.nworkers = 1;
	err = load_prog(rp);
	err = err ? err : setup_ports(rp);
	err = err ? err : open_outputs(rp);
	if (err)
		return err;
	sl_verdict_state_init(&rp->vs, &rp->pv, 0);
	return 0;
}

/*
 * --workers N > 1 runs socket filters without maps over a classic pcap in
 * host byte order (replay_par.c); anything else is refused: NULL, or what.
 */
static const char *workers_refusal(const struct replay *rp)
{
	if (!rp->socket)
		return "XDP programs";
	if (rp->eng.obj && sl_obj_map_count(rp->eng.obj))
		return "programs with maps (their results would depend on the order of the records)";
	if (rp->cpu_progs)
		return "CPUMAP entry programs";
	if (rp->rd.ng)
		return "pcapng files";
	if (rp->rd.swap)
		return "pcap files in the other byte order";
	return NULL;
}

/* CPUs this process may run on: the I/O threads pay only with a second one. */
static int cpus_allowed(void)
{
	cpu_set_t set;

	return sched_getaffinity(0, sizeof(set), &set) ? 1 : CPU_COUNT(&set);
}

/*
 * Without --workers: a --filter (a socket filter without maps) over a pcap
 * in host byte order of SL_PCAP_THREADS_MIN and more, with the I/O threads
 * left to auto, runs on a worker per CPU (up to AUTO_WORKERS_MAX); anything
 * else on one (decided before the program is compiled, while the file is
 * read: a --prog's type and maps are not known yet).
 */
static unsigned auto_workers(const struct replay *rp)
{
	int cpus;

	if (!rp->o->filter || rp->o->io != SL_REPLAY_IO_AUTO || rp->rd.ng || rp->rd.swap ||
	    rp->rd.file_size < SL_PCAP_THREADS_MIN || (cpus = cpus_allowed()) < 2)
		return 1;
	return (unsigned)cpus > AUTO_WORKERS_MAX ? AUTO_WORKERS_MAX : (unsigned)cpus;
}

/* The options in, the input open, the read-ahead started. 0 or -errno (the line printed). */
static int replay_open(struct replay *rp, const struct sl_replay_opts *o)
{
	char log[LOG_LEN] = "";
	int err;

	rp->o = o;
	rp->ropts.quiet = o->quiet;
	rp->ropts.no_maps = o->no_maps;
	rp->ropts.json_path = o->json_path;
	rp->eng.opts = &rp->ropts;
	rp->report = stdout;
	for (unsigned i = 0; i < o->nouts; i++)
		if (!strcmp(o->outs[i].path, "-"))
			rp->report = stderr;
	if (o->drops_path && !strcmp(o->drops_path, "-"))
		rp->report = stderr;
	err = sl_pcap_open(&rp->rd, o->in_path, log, sizeof(log));
	if (err) {
		fprintf(stderr, "sluice replay: -r %s\n", log);
		return err;
	}
	rp->workers = o->workers ? o->workers : auto_workers(rp);
	rp->io_threads = rp->workers > 1 ? false : o->io == SL_REPLAY_IO_ON ||
			 (o->io == SL_REPLAY_IO_AUTO && rp->rd.file_size >= SL_PCAP_THREADS_MIN &&
			  cpus_allowed() > 1);
	/* started now, the thread reads while the program is compiled */
	if (rp->io_threads && sl_pcap_read_ahead(&rp->rd, log, sizeof(log)))
		fprintf(stderr, "sluice replay: -r %s (reading without)\n", log);
	return 0;
}

int sl_replay_main(const struct sl_replay_opts *o)
{
	/*
	 * Static, so zero at start without being written: its 310 KiB (mostly
	 * the config) are faulted in only where used, at up to 15 us a page
	 * on a virtual machine (README, replay speed). Zeroed on a second call.
	 */
	static struct replay rp;
	static bool used;
	char log[LOG_LEN] = "";
	double secs, cpu;
	clockid_t cpu_clock;
	int err, in_err;

	if (used)
		memset(&rp, 0, sizeof(rp));
	used = true;
	if (replay_open(&rp, o))
		return 1;
	err = replay_setup(&rp);
	if (!err && o->workers > 1 && workers_refusal(&rp)) {
		fprintf(stderr, "sluice replay: --workers %u: several workers run socket filters "
			"(and --filter) without maps over a pcap file in host byte order, not %s\n",
			o->workers, workers_refusal(&rp));
		err = 2;
	}
	if (err) {
		close_outputs(&rp);
		replay_free(&rp);
		return err == 2 ? 2 : 1;
	}
	sl_map_worker_online(0);
	rp.frac_ns = rp.rd.res == SL_PCAP_NSEC ? 1 : 1000;
	rp.start = now();
	cpu_clock = rp.workers > 1 ? CLOCK_PROCESS_CPUTIME_ID : CLOCK_THREAD_CPUTIME_ID;
	cpu = clock_s(cpu_clock);
	in_err = replay_loop(&rp, log, sizeof(log));
	secs = now() - rp.start;
	cpu = clock_s(cpu_clock) - cpu;
	sl_helper_clock_real();
	sl_map_worker_offline();
	if (in_err)
		fprintf(stderr, "sluice replay: -r %s\n", log);
	err = close_outputs(&rp);
	if (!o->quiet) {
		fprintf(rp.report, "sluice: replayed %" PRIu64 " records of %s in %.3f s, %.3f s of CPU "
		       "(%.2f Mpps per core)\n", rp.eng.workers[0].stats.rx, o->in_path, secs, cpu,
		       cpu > 0 ? (double)rp.eng.workers[0].stats.rx / cpu * 1e-6 : 0.0);
		sl_report_print(&rp.eng, secs, rp.report);
	}
	if (o->json_path && sl_json_write(&rp.eng, o->json_path))
		err = -EIO;
	replay_free(&rp);
	return in_err || err ? 1 : 0;
}
