/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sluice bench --prog FILE.o [--section S] --pcap FILE [--repeat N]
 *              [--native LIB.so] [--interp|--jit]
 *
 * ns per packet of one program over a pcap held in memory, for several
 * engines in one process: the sluice interpreter, the sluice JIT, DPDK's
 * librte_bpf interpreter and JIT (raw programs without maps or calls), and a
 * native build (--native LIB.so exporting `uint64_t entry(void *pkt,
 * uint64_t len)`; an `entry(void *pkt)` works too). Each column runs
 * BENCH_RUNS times over all packets x --repeat and reports the median;
 * the sum of r0 over a run must agree between columns.
 *
 * sluice's columns run as the engine's workers do: as an online worker
 * (slot 0, its hash-map element caches) passing a quiescent state after
 * every BENCH_BURST packets (a worker does once per RX burst), so that
 * map updates take the workers' path and retired elements are reused.
 *
 * Raw programs (section "raw"): r1 = the packet at the start of a
 * zero-padded 2048-byte buffer (the verifier is told 2048 bytes), r2 = the
 * packet length (librte_bpf passes r1 only). XDP and socket programs run on
 * sluice's own engines with the context the engine builds.
 */
#include <dlfcn.h>
#include <errno.h>
/* libpcap's classic struct bpf_insn would clash with <linux/bpf.h>'s. */
#define bpf_insn pcap_bpf_insn
#include <pcap/pcap.h>
#undef bpf_insn
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>

#include <rte_bpf.h>
#include <rte_errno.h>

#include "engine_internal.h"
#include "sl_jit.h"
#include "sl_maps.h"
#include "sl_num.h"
#include "sl_vm.h"

#define BENCH_BUF 2048        /* raw buffer, as librte_bpf data-pointer programs see it */
#define BENCH_HEADROOM 256
#define BENCH_MAX_PKTS 8192   /* packets kept (each in its own buffer) */
#define BENCH_RUNS 7
#define BENCH_BURST 32        /* packets between quiescent states (the engine's RX burst) */
#define BENCH_MAX_REPEAT 1000000  /* passes over the pcap per run */

typedef uint64_t (*native_fn)(void *pkt, uint64_t len);

struct bench {
	struct sl_prog *prog;
	unsigned npkts;
	uint8_t **buf;            /* per packet: BENCH_HEADROOM + BENCH_BUF bytes */
	uint32_t *len;
	unsigned repeat;
	struct sl_xdp_ctx *xdp;   /* per packet (XDP programs) */
	struct sl_skb_ctx *skb;   /* per packet (socket programs) */
	struct rte_bpf *rte;
	struct rte_bpf_jit rte_jit;
	native_fn native;
	struct sl_jit *jit;
	sl_jit_fn jit_fn;
	struct sl_jit *jit_blind;  /* the JIT with constant blinding */
	sl_jit_fn jit_blind_fn;
	int linktype;              /* the capture's (DLT_*) */
};

static uint8_t *pkt_data(const struct bench *b, unsigned i)
{
	return b->buf[i] + BENCH_HEADROOM;
}

/* r1 for packet i in the program's convention. */
static void *pkt_ctx(struct bench *b, unsigned i)
{
	switch (b->prog->type) {
	case SL_PROG_XDP:
		b->xdp[i].data = b->xdp[i].data_meta = pkt_data(b, i);
		b->xdp[i].data_end = pkt_data(b, i) + b->len[i];
		return &b->xdp[i];
	case SL_PROG_SOCKET:
		return &b->skb[i];
	default:
		return pkt_data(b, i);
	}
}

/* ---- one pass of each column over every packet; returns the sum of r0 ---- */

static uint64_t pass_interp(struct bench *b)
{
	struct sl_vm_run_opts o = { .sz = sizeof(o) };
	struct sl_vm_result res;
	uint64_t sum = 0;

	for (unsigned i = 0; i < b->npkts; i++) {
		o.mem = pkt_data(b, i);
		o.mem_len = b->len[i];
		sum += sl_vm_exec(b->prog, pkt_ctx(b, i), &o, &res);
		if (i % BENCH_BURST == BENCH_BURST - 1)
			sl_map_quiescent();
	}
	return sum;
}

static uint64_t pass_jit(struct bench *b)
{
	uint64_t sum = 0;

	if (b->prog->type == SL_PROG_RAW) {   /* same loop as the native column's */
		for (unsigned i = 0; i < b->npkts; i++)
			sum += b->jit_fn(pkt_data(b, i), b->len[i]);
		return sum;
	}
	for (unsigned i = 0; i < b->npkts; i++) {
		sum += b->jit_fn(pkt_ctx(b, i), b->len[i]);
		if (i % BENCH_BURST == BENCH_BURST - 1)
			sl_map_quiescent();
	}
	return sum;
}

static uint64_t pass_jit_blind(struct bench *b)
{
	uint64_t sum = 0;

	for (unsigned i = 0; i < b->npkts; i++) {
		sum += b->jit_blind_fn(pkt_ctx(b, i), b->len[i]);
		if (i % BENCH_BURST == BENCH_BURST - 1)
			sl_map_quiescent();
	}
	return sum;
}

static uint64_t pass_rte_interp(struct bench *b)
{
	uint64_t sum = 0;

	for (unsigned i = 0; i < b->npkts; i++)
		sum += rte_bpf_exec(b->rte, pkt_data(b, i));
	return sum;
}

static uint64_t pass_rte_jit(struct bench *b)
{
	uint64_t sum = 0;

	for (unsigned i = 0; i < b->npkts; i++)
		sum += b->rte_jit.func(pkt_data(b, i));
	return sum;
}

static uint64_t pass_native(struct bench *b)
{
	uint64_t sum = 0;

	for (unsigned i = 0; i < b->npkts; i++)
		sum += b->native(pkt_data(b, i), b->len[i]);
	return sum;
}

/* A column: a pass function and a setup that says why it cannot run. */
struct column {
	const char *name;
	uint64_t (*pass)(struct bench *b);
	int (*setup)(struct bench *b, const struct sl_run_opts *unused, char *why, size_t len);
	double ns;        /* median ns per packet, < 0 when not run */
	uint64_t sum;
};

static int setup_interp(struct bench *b, const struct sl_run_opts *u, char *why, size_t len)
{
	return 0;
}

/* The sluice JIT column: one compiled copy; r1 = context, r2 = length. */
static int setup_jit(struct bench *b, const struct sl_run_opts *u, char *why, size_t len)
{
	if (!b->jit)
		b->jit = sl_jit_compile(b->prog, NULL, why, len);
	if (!b->jit)
		return -1;
	b->jit_fn = sl_jit_entry(b->jit);
	return 0;
}

/* The same with constant blinding: what hardening costs. */
static int setup_jit_blind(struct bench *b, const struct sl_run_opts *u, char *why, size_t len)
{
	struct sl_jit_opts jo = { .sz = sizeof(jo), .blind_constants = true };

	if (!b->jit_blind)
		b->jit_blind = sl_jit_compile(b->prog, &jo, why, len);
	if (!b->jit_blind)
		return -1;
	b->jit_blind_fn = sl_jit_entry(b->jit_blind);
	return 0;
}

static int setup_rte(struct bench *b, const struct sl_run_opts *u, char *why, size_t len)
{
	struct rte_bpf_prm prm = { 0 };

	if (b->rte)
		return 0;
	if (b->prog->type != SL_PROG_RAW) {
		snprintf(why, len, "only raw programs (this one is %s)",
			 b->prog->type == SL_PROG_XDP ? "xdp" : "socket");
		return -1;
	}
	if (b->prog->n_maps) {
		snprintf(why, len, "the program uses maps");
		return -1;
	}
	prm.ins = (const struct ebpf_insn *)b->prog->insns;
	prm.nb_ins = b->prog->n_insns;
	prm.prog_arg.type = RTE_BPF_ARG_PTR;
	prm.prog_arg.size = BENCH_BUF;
	b->rte = rte_bpf_load(&prm);
	if (!b->rte) {
		snprintf(why, len, "rte_bpf_load refused the program: %s", rte_strerror(rte_errno));
		return -1;
	}
	return 0;
}

static int setup_rte_jit(struct bench *b, const struct sl_run_opts *u, char *why, size_t len)
{
	if (setup_rte(b, u, why, len))
		return -1;
	if (rte_bpf_get_jit(b->rte, &b->rte_jit) || !b->rte_jit.func) {
		snprintf(why, len, "librte_bpf has no JIT code for it");
		return -1;
	}
	return 0;
}

static int setup_native(struct bench *b, const struct sl_run_opts *u, char *why, size_t len)
{
	if (!b->native) {
		snprintf(why, len, "no --native LIB.so given");
		return -1;
	}
	return 0;
}

/* CPU time of this thread: time the thread was descheduled does not count. */
static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/*
 * Median ns per packet over BENCH_RUNS runs of repeat passes. Runs of the
 * columns are interleaved (run r of every column, then run r+1) so that a
 * busy machine slows all of them alike.
 */
static void measure(struct bench *b, struct column *cols, unsigned n)
{
	double t[8][BENCH_RUNS];

	for (unsigned c = 0; c < n && c < 8; c++)
		if (cols[c].ns == 0)
			cols[c].sum = cols[c].pass(b);   /* warm-up, and the checksum */
	for (int r = 0; r < BENCH_RUNS; r++) {
		for (unsigned c = 0; c < n && c < 8; c++) {
			double t0;

			if (cols[c].ns != 0)
				continue;
			t0 = now_ns();
			for (unsigned k = 0; k < b->repeat; k++)
				cols[c].pass(b);
			t[c][r] = (now_ns() - t0) / ((double)b->repeat * b->npkts);
		}
	}
	for (unsigned c = 0; c < n && c < 8; c++) {
		if (cols[c].ns != 0)
			continue;
		qsort(t[c], BENCH_RUNS, sizeof(t[c][0]), cmp_double);
		cols[c].ns = t[c][BENCH_RUNS / 2];
	}
}

/* ---- input ---- */

static int add_packet(struct bench *b, const uint8_t *data, uint32_t caplen)
{
	uint32_t n = caplen < BENCH_BUF ? caplen : BENCH_BUF;
	uint8_t *buf = calloc(1, BENCH_HEADROOM + BENCH_BUF);

	if (!buf)
		return -ENOMEM;
	memcpy(buf + BENCH_HEADROOM, data, n);
	b->buf[b->npkts] = buf;
	b->len[b->npkts] = n;
	b->npkts++;
	return 0;
}

static int read_pcap(struct bench *b, const char *path)
{
	char err[PCAP_ERRBUF_SIZE];
	pcap_t *p = pcap_open_offline(path, err);
	struct pcap_pkthdr *h;
	const u_char *data;

	if (!p) {
		fprintf(stderr, "sluice bench: %s\n", err);
		return -1;
	}
	b->linktype = pcap_datalink(p);
	b->buf = calloc(BENCH_MAX_PKTS, sizeof(*b->buf));
	b->len = calloc(BENCH_MAX_PKTS, sizeof(*b->len));
	while (b->buf && b->len && b->npkts < BENCH_MAX_PKTS && pcap_next_ex(p, &h, &data) == 1)
		if (add_packet(b, data, h->caplen))
			break;
	pcap_close(p);
	if (!b->npkts) {
		fprintf(stderr, "sluice bench: %s: no packets\n", path);
		return -1;
	}
	return 0;
}

/* Contexts for XDP and socket programs, one per packet. */
static int build_ctxs(struct bench *b)
{
	b->xdp = calloc(b->npkts, sizeof(*b->xdp));
	b->skb = calloc(b->npkts, sizeof(*b->skb));
	if (!b->xdp || !b->skb)
		return -ENOMEM;
	for (unsigned i = 0; i < b->npkts; i++) {
		uint8_t *d = pkt_data(b, i);

		b->xdp[i].data_hard_start = b->buf[i];
		b->xdp[i].ingress_ifindex = 1;
		b->skb[i].skb.len = b->len[i];
		b->skb[i].skb.protocol = sl_skb_eth_protocol(d, b->len[i]);
		b->skb[i].skb.ifindex = b->skb[i].skb.ingress_ifindex = 1;
		b->skb[i].pkt = d;
		b->skb[i].pkt_len = b->len[i];
	}
	return 0;
}

static void bench_free(struct bench *b)
{
	for (unsigned i = 0; i < b->npkts; i++)
		free(b->buf[i]);
	free(b->buf);
	free(b->len);
	free(b->xdp);
	free(b->skb);
	if (b->rte)
		rte_bpf_destroy(b->rte);
	if (b->jit)
		sl_jit_free(b->jit);
	sl_jit_free(b->jit_blind);
}

/* ---- command ---- */

struct bench_args {
	const char *prog, *section, *pcap, *native;
	unsigned repeat;
	bool only_interp, only_jit;
	struct sl_cli_obj obj;  /* --type, --map-size */
};

static int bench_usage(FILE *out)
{
	fprintf(out, "usage: sluice bench --prog FILE.o [--section S] --pcap FILE [--repeat N]\n"
		     "                    [--native LIB.so] [--interp|--jit] [--type xdp|socket]\n"
		     "                    [--map-size NAME=N]...\n"
		     "ns per packet (median of %d runs) for the sluice interpreter and JIT,\n"
		     "librte_bpf's interpreter and JIT (raw programs without maps), and a native\n"
		     "build (LIB.so exporting uint64_t entry(void *pkt, uint64_t len)).\n", BENCH_RUNS);
	return out == stdout ? 0 : 2;
}

static int bench_parse(int argc, char **argv, struct bench_args *a)
{
	uint64_t repeat = 100;

	for (int i = 1; i < argc; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		int taken = sl_cli_obj_arg("bench", &a->obj, argv[i], v);

		if (taken < 0)
			return 2;
		if (taken) {
			i++;
			continue;
		}
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return bench_usage(stdout) - 1;
		if (!strcmp(argv[i], "--interp")) {
			a->only_interp = true;
			continue;
		}
		if (!strcmp(argv[i], "--jit")) {
			a->only_jit = true;
			continue;
		}
		if (!strcmp(argv[i], "--prog"))
			a->prog = v;
		else if (!strcmp(argv[i], "--section"))
			a->section = v;
		else if (!strcmp(argv[i], "--pcap"))
			a->pcap = v;
		else if (!strcmp(argv[i], "--native"))
			a->native = v;
		else if (!strcmp(argv[i], "--repeat")) {
			if (v && sl_num_opt_u64("bench", "--repeat", v, 1, BENCH_MAX_REPEAT, &repeat))
				return 2;
		} else {
			fprintf(stderr, "sluice bench: unknown option '%s' (see sluice bench --help)\n",
				argv[i]);
			return 2;
		}
		if (!v) {
			fprintf(stderr, "sluice bench: option needs a value: '%s'\n", argv[i]);
			return 2;
		}
		i++;
	}
	a->repeat = (unsigned)repeat;
	if (!a->prog || !a->pcap) {
		fprintf(stderr, "sluice bench: --prog and --pcap are required (see sluice bench --help)\n");
		return 2;
	}
	return 0;
}

static int load_native(struct bench *b, const char *path)
{
	void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);

	if (!h) {
		fprintf(stderr, "sluice bench: %s\n", dlerror());
		return -1;
	}
	*(void **)&b->native = dlsym(h, "entry");
	if (!b->native) {
		fprintf(stderr, "sluice bench: %s: no symbol 'entry'\n", path);
		return -1;
	}
	return 0;
}

static const struct column *find_column(const struct column *cols, unsigned n, const char *name)
{
	for (unsigned i = 0; i < n; i++)
		if (cols[i].ns > 0 && !strcmp(cols[i].name, name))
			return &cols[i];
	return NULL;
}

/* The JIT's targets: <= 1.15x native gcc -O2, <= 0.9x librte_bpf's JIT. */
static void report_jit(const struct bench *b, const struct column *cols, unsigned n)
{
	const struct column *sj = find_column(cols, n, "sluice jit");
	const struct column *rj = find_column(cols, n, "librte_bpf jit");
	const struct column *nat = find_column(cols, n, "native");

	if (sj && nat)
		printf("  sluice jit / native = %.2fx\n", sj->ns / nat->ns);
	if (sj && rj)
		printf("  sluice jit / librte_bpf jit = %.2fx\n", sj->ns / rj->ns);
	if (sj && b->jit)
		printf("  sluice jit code = %zu bytes\n", sl_jit_code_size(b->jit));
}

static void report(const struct bench *b, struct column *cols, unsigned n)
{
	const struct column *si = NULL, *ri = NULL;

	for (unsigned i = 0; i < n; i++) {
		if (cols[i].ns < 0)
			continue;
		printf("  %-20s %9.2f ns/packet", cols[i].name, cols[i].ns);
		if (cols[0].ns >= 0 && cols[i].sum != cols[0].sum)
			printf("   (r0 sum 0x%llx differs from the interpreter's 0x%llx!)",
			       (unsigned long long)cols[i].sum, (unsigned long long)cols[0].sum);
		putchar('\n');
		if (!strcmp(cols[i].name, "sluice interp"))
			si = &cols[i];
		if (!strcmp(cols[i].name, "librte_bpf interp"))
			ri = &cols[i];
	}
	if (si && ri)
		printf("  sluice interp / librte_bpf interp = %.2fx\n", si->ns / ri->ns);
	report_jit(b, cols, n);
}

static int bench_run(struct bench *b, const struct bench_args *a)
{
	struct column cols[] = {
		{ "sluice interp", pass_interp, setup_interp, -1, 0 },
		{ "sluice jit", pass_jit, setup_jit, -1, 0 },
		{ "sluice jit blinded", pass_jit_blind, setup_jit_blind, -1, 0 },
		{ "librte_bpf interp", pass_rte_interp, setup_rte, -1, 0 },
		{ "librte_bpf jit", pass_rte_jit, setup_rte_jit, -1, 0 },
		{ "native", pass_native, setup_native, -1, 0 },
	};
	unsigned n = sizeof(cols) / sizeof(cols[0]);

	printf("bench: %s section %s (%s), %u packets x %u repeats, median of %d runs\n", a->prog,
	       b->prog->section, b->prog->type == SL_PROG_RAW ? "raw" :
	       b->prog->type == SL_PROG_XDP ? "xdp" : "socket", b->npkts, b->repeat, BENCH_RUNS);
	for (unsigned i = 0; i < n; i++) {
		char why[160] = "";

		if ((a->only_jit && i == 0) || (a->only_interp && (i == 1 || i == 2)))
			continue;
		if (cols[i].setup(b, NULL, why, sizeof(why))) {
			printf("  %-20s not run: %s\n", cols[i].name, why);
			continue;
		}
		cols[i].ns = 0;   /* selected: measured below */
	}
	sl_map_worker_online(0);
	measure(b, cols, n);
	sl_map_worker_offline();
	report(b, cols, n);
	return 0;
}

int sl_cmd_bench(int argc, char **argv)
{
	struct sl_obj_opts oo = { .sz = sizeof(oo), .ncpus = 1 };
	struct bench_args a = { 0 };
	struct bench b = { 0 };
	struct sl_obj *obj = NULL;
	struct sl_prog *prog;
	char log[512] = "";
	int ret = 1, err = bench_parse(argc, argv, &a);

	if (err)
		return err < 0 ? 0 : err;
	b.repeat = a.repeat;
	if (read_pcap(&b, a.pcap) || build_ctxs(&b) || (a.native && load_native(&b, a.native)))
		goto out;
	sl_cli_obj_apply(&a.obj, &oo);
	obj = sl_obj_open(a.prog, &oo, log, sizeof(log));
	if (!obj) {
		fprintf(stderr, "sluice bench: %s\n", log[0] ? log : strerror(errno));
		goto out;
	}
	prog = sl_obj_find_prog(obj, a.section);
	if (!prog) {
		fprintf(stderr, "sluice bench: %s: no section or program named '%s'\n", a.prog,
			a.section ? a.section : "");
		goto out;
	}
	if (prog->type != SL_PROG_RAW && b.linktype != DLT_EN10MB) {
		/* XDP and socket programs see frames from their Ethernet header */
		fprintf(stderr, "sluice bench: %s: link type %s (%d) is not supported for %s "
			"programs: only Ethernet (EN10MB) captures\n", a.pcap,
			pcap_datalink_val_to_name(b.linktype) ? pcap_datalink_val_to_name(b.linktype) :
			"unknown", b.linktype, prog->type == SL_PROG_XDP ? "XDP" : "socket filter");
		goto out;
	}
	if (prog->type == SL_PROG_RAW)
		prog->mem_size = BENCH_BUF;
	if (sl_prog_verify(prog, 0, NULL, log, sizeof(log))) {  /* also prepares the interpreter */
		char label[512];

		fprintf(stderr, "sluice bench: %s: %s\n",
			sl_cli_prog_label(a.prog, prog, label, sizeof(label)), log);
		goto out;
	}
	b.prog = prog;
	ret = bench_run(&b, &a);
out:
	bench_free(&b);
	sl_obj_close(obj);
	return ret;
}
