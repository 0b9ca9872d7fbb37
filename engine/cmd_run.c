/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sluice run: the engine on ports given as DPDK device strings.
 *
 *   options, ports and pcap inputs checked   (before EAL: one-line errors)
 *   EAL start                                (eal.c)
 *   object opened (maps with one slot per worker), program found,
 *   verified, compiled (or prepared for the interpreter)
 *   mempool and ports started                (port.c)
 *   workers launched on the worker lcores    (worker.c)
 *   control loop on the main lcore           (stats.c) until a signal,
 *                                            --duration or end of input
 *   report and --json                        (report.c, json.c)
 *   everything freed, rte_eal_cleanup
 *
 * Every failure is one line on stderr and exit code 1.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_lcore.h>

#include "engine_internal.h"
#include "sl_maps.h"

#define LOG_LEN 1024

static void usage(FILE *out)
{
	fprintf(out,
		"usage: sluice run --prog FILE.o [--section S] --port DEVSTR [--port DEVSTR ...]\n"
		"                  [--json FILE] [--interp|--jit] [--duration SEC]\n"
		"                  [--stats-interval SEC] [--workers N] [--quiet] [--no-maps]\n"
		"                  [-- EAL args]\n"
		"\n"
		"  --prog FILE.o         eBPF object (clang -O2 -g -target bpf)\n"
		"  --section S           program section (default: the first program)\n"
		"  --port DEVSTR         a DPDK vdev ('net_pcap0,rx_pcap=in.pcap,tx_pcap=out.pcap',\n"
		"                        'net_null0', ...) or a PCI address; repeatable (up to %d).\n"
		"                        XDP_PASS forwards between ports 0<->1, 2<->3, ...;\n"
		"                        a port without a partner sends back out of itself\n"
		"  --json FILE           write the final stats and maps as JSON\n"
		"  --interp / --jit      execution engine (default: the JIT)\n"
		"  --duration SEC        stop after SEC seconds (default: at the end of every\n"
		"                        finite rx_pcap input, or on SIGINT/SIGTERM)\n"
		"  --stats-interval SEC  seconds between rate lines (default 1, 0: none)\n"
		"  --workers N           worker lcores (default 1); each polls its own RX queue\n"
		"                        of every port (net_pcap has one RX queue per rx_pcap)\n"
		"  --quiet               print errors only\n"
		"  --no-maps             leave the maps out of the final report (not the JSON)\n"
		"  --type xdp|socket     every function of every executable section is a program\n"
		"                        of that type (sections not named xdp*/socket*)\n"
		"  --map-size NAME=N     entries of map NAME (maps declared with max_entries 0)\n"
		"  --fib FILE            routes, neighbours and ports for bpf_fib_lookup\n",
		SL_RUN_MAX_PORTS);
}

static int parse_seconds(const char *opt, const char *s, double *v)
{
	char *end;

	errno = 0;
	*v = strtod(s, &end);
	if (errno || end == s || *end || *v < 0 || *v > 1e9) {
		fprintf(stderr, "sluice run: %s: bad number of seconds '%s'\n", opt, s);
		return -EINVAL;
	}
	return 0;
}

static int parse_workers(const char *s, unsigned *n)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v < 1 || v > SL_RUN_MAX_WORKERS || v > SL_MAX_CPUS) {
		fprintf(stderr, "sluice run: --workers: want 1..%d, not '%s'\n", SL_RUN_MAX_WORKERS, s);
		return -EINVAL;
	}
	*n = (unsigned)v;
	return 0;
}

static int add_port(struct sl_run_opts *o, const char *devstr)
{
	if (o->nports >= SL_RUN_MAX_PORTS) {
		fprintf(stderr, "sluice run: at most %d ports\n", SL_RUN_MAX_PORTS);
		return -EINVAL;
	}
	if (sl_port_parse(devstr, &o->ports[o->nports]))
		return -EINVAL;
	for (unsigned j = 0; j < o->nports; j++)
		if (!strcmp(o->ports[j].name, o->ports[o->nports].name)) {
			fprintf(stderr, "sluice run: port '%s' given twice\n", o->ports[j].name);
			return -EINVAL;
		}
	o->nports++;
	return 0;
}

static const struct option long_opts[] = {
	{ "prog", required_argument, NULL, 'p' },
	{ "section", required_argument, NULL, 's' },
	{ "port", required_argument, NULL, 'P' },
	{ "json", required_argument, NULL, 'j' },
	{ "interp", no_argument, NULL, 'I' },
	{ "jit", no_argument, NULL, 'J' },
	{ "duration", required_argument, NULL, 'd' },
	{ "stats-interval", required_argument, NULL, 'i' },
	{ "workers", required_argument, NULL, 'w' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "no-maps", no_argument, NULL, 'M' },
	{ "type", required_argument, NULL, 'T' },
	{ "map-size", required_argument, NULL, 'Z' },
	{ "fib", required_argument, NULL, 'F' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* One option; 1 for --help, 0 to go on, -errno on a bad option. */
static int parse_opt(struct sl_run_opts *o, int c, const char *arg)
{
	switch (c) {
	case 'p': o->prog_path = arg; return 0;
	case 's': o->section = arg; return 0;
	case 'P': return add_port(o, arg);
	case 'j': o->json_path = arg; return 0;
	case 'I': case 'J':
		if (o->exec != SL_RUN_EXEC_AUTO) {
			fprintf(stderr, "sluice run: --interp and --jit exclude each other\n");
			return -EINVAL;
		}
		o->exec = c == 'I' ? SL_RUN_EXEC_INTERP : SL_RUN_EXEC_JIT;
		return 0;
	case 'd': return parse_seconds("--duration", arg, &o->duration);
	case 'i': return parse_seconds("--stats-interval", arg, &o->stats_interval);
	case 'w': return parse_workers(arg, &o->nworkers);
	case 'q': o->quiet = true; return 0;
	case 'M': o->no_maps = true; return 0;
	case 'T': return sl_cli_obj_arg("run", &o->obj, "--type", arg) < 0 ? -EINVAL : 0;
	case 'Z': return sl_cli_obj_arg("run", &o->obj, "--map-size", arg) < 0 ? -EINVAL : 0;
	case 'F': o->fib_path = arg; return 0;
	case 'h': usage(stdout); return 1;
	default:
		fprintf(stderr, "sluice run: bad option (see sluice run --help)\n");
		return -EINVAL;
	}
}

static int parse_args(struct sl_run_opts *o, int argc, char **argv)
{
	int c, ret;

	memset(o, 0, sizeof(*o));
	o->nworkers = 1;
	o->stats_interval = 1;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+", long_opts, NULL)) != -1)
		if ((ret = parse_opt(o, c, optarg)))
			return ret;
	if (optind < argc && strcmp(argv[optind - 1], "--")) {
		fprintf(stderr, "sluice run: unexpected argument '%s' (EAL arguments go after --)\n",
			argv[optind]);
		return -EINVAL;
	}
	o->eal_argc = argc - optind;
	o->eal_argv = argv + optind;
	if (!o->prog_path || !o->nports) {
		fprintf(stderr, "sluice run: --prog and at least one --port are required "
			"(see sluice run --help)\n");
		return -EINVAL;
	}
	if (access(o->prog_path, R_OK)) {
		fprintf(stderr, "sluice run: %s: %s\n", o->prog_path, strerror(errno));
		return -ENOENT;
	}
	return 0;
}

/* Open the object, find, verify and compile (or prepare) the program. */
static int load_prog(struct sl_engine *eng)
{
	const struct sl_run_opts *o = eng->opts;
	struct sl_obj_opts oo = { .sz = sizeof(oo), .ncpus = eng->nworkers };
	char log[LOG_LEN] = "";
	int err;

	sl_cli_obj_apply(&o->obj, &oo);
	if (o->fib_path && !(eng->fib = sl_cli_fib_load("run", o->fib_path)))
		return -EINVAL;
	eng->obj = sl_obj_open(o->prog_path, &oo, log, sizeof(log));
	if (!eng->obj) {
		fprintf(stderr, "sluice run: %s\n", log[0] ? log : strerror(errno));
		return -EINVAL;
	}
	for (unsigned i = 0; i < sl_obj_map_count(eng->obj); i++) {
		if (sl_map_get_def(sl_obj_map(eng->obj, i))->type == BPF_MAP_TYPE_CPUMAP) {
			fprintf(stderr, "sluice run: %s: map '%s' is a CPUMAP: redirects to other "
				"workers are not supported by the engine yet (verify and test-run "
				"take it)\n", o->prog_path, sl_map_name(sl_obj_map(eng->obj, i)));
			return -ENOTSUP;
		}
	}
	eng->prog = sl_obj_find_prog(eng->obj, o->section);
	if (!eng->prog) {
		fprintf(stderr, "sluice run: %s: no program in section '%s'\n", o->prog_path,
			o->section ? o->section : "(any)");
		return -ENOENT;
	}
	if (eng->prog->type != SL_PROG_XDP && eng->prog->type != SL_PROG_SOCKET) {
		fprintf(stderr, "sluice run: %s: section '%s' is neither an XDP nor a socket "
			"filter program\n", o->prog_path, eng->prog->section);
		return -EINVAL;
	}
	err = sl_prog_verify(eng->prog, 0, NULL, log, sizeof(log));
	if (err) {
		fprintf(stderr, "sluice run: %s: section '%s' program '%s': rejected by the "
			"verifier: %s\n", o->prog_path, eng->prog->section, eng->prog->name,
			log[0] ? log : strerror(-err));
		return err;
	}
	return 0;
}

/* The JIT (one copy for every worker), or the interpreter's prepared form. */
static int compile_prog(struct sl_engine *eng)
{
	const struct sl_run_opts *o = eng->opts;
	struct sl_jit_opts jo = { .sz = sizeof(jo) };
	char log[LOG_LEN] = "";
	int err;

	if (o->exec != SL_RUN_EXEC_INTERP) {
		eng->jit = sl_jit_compile(eng->prog, &jo, log, sizeof(log));
		if (!eng->jit && o->exec == SL_RUN_EXEC_JIT) {
			fprintf(stderr, "sluice run: %s: JIT: %s\n", o->prog_path,
				log[0] ? log : strerror(errno));
			return -EINVAL;
		}
		if (!eng->jit && !o->quiet)
			printf("sluice: JIT unavailable for this program (%s): using the interpreter\n",
			       log[0] ? log : strerror(errno));
	}
	for (unsigned w = 0; w < eng->nworkers; w++)
		eng->workers[w].jit_fn = eng->jit ? sl_jit_entry(eng->jit) : NULL;
	eng->exec_name = eng->jit ? "jit" : "interpreter";
	if (eng->jit)
		return 0;
	log[0] = '\0';
	err = sl_vm_prepare(eng->prog, log, sizeof(log));
	if (err)
		fprintf(stderr, "sluice run: %s: interpreter: %s\n", o->prog_path,
			log[0] ? log : strerror(-err));
	return err;
}

static int workers_create(struct sl_engine *eng)
{
	size_t sz = sizeof(struct sl_worker) * eng->nworkers;

	eng->workers = aligned_alloc(SL_RUN_CACHE_LINE, sz);
	if (!eng->workers) {
		fprintf(stderr, "sluice run: out of memory\n");
		return -ENOMEM;
	}
	memset(eng->workers, 0, sz);
	for (unsigned w = 0; w < eng->nworkers; w++) {
		eng->workers[w].index = w;
		eng->workers[w].eng = eng;
	}
	return 0;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Workers on the first nworkers worker lcores; control loop here. */
static int run_engine(struct sl_engine *eng, double *secs)
{
	unsigned lcore, w = 0;
	const char *why = "stopped";
	double start;
	int err;

	RTE_LCORE_FOREACH_WORKER(lcore) {
		if (w < eng->nworkers)
			eng->workers[w++].lcore = lcore;
	}
	start = now();
	for (w = 0; w < eng->nworkers; w++) {
		err = rte_eal_remote_launch(sl_worker_main, &eng->workers[w], eng->workers[w].lcore);
		if (err) {
			fprintf(stderr, "sluice run: cannot launch worker %u on lcore %u: %s\n", w,
				eng->workers[w].lcore, strerror(-err));
			__atomic_store_n(&eng->stop, 1, __ATOMIC_RELEASE);
			rte_eal_mp_wait_lcore();
			return err;
		}
	}
	if (!eng->opts->quiet)
		printf("sluice: running %s (%s) on %u port%s, %u worker%s\n", eng->prog->section,
		       eng->exec_name, eng->nports, eng->nports == 1 ? "" : "s", eng->nworkers,
		       eng->nworkers == 1 ? "" : "s");
	sl_stats_loop(eng, &why);
	rte_eal_mp_wait_lcore();
	*secs = now() - start;
	if (!eng->opts->quiet)
		printf("sluice: stopped (%s) after %.2f s\n", why, *secs);
	return 0;
}

static void engine_free(struct sl_engine *eng)
{
	sl_ports_stop(eng);
	sl_jit_free(eng->jit);
	sl_obj_close(eng->obj);
	sl_cli_fib_free(eng->fib);
	free(eng->workers);
}

int sl_cmd_run(int argc, char **argv)
{
	static struct sl_run_opts o;
	struct sl_engine eng;
	double secs = 0;
	int err = parse_args(&o, argc, argv);

	if (err)
		return err > 0 ? 0 : 1;
	if (sl_eal_start(&o))
		return 1;
	memset(&eng, 0, sizeof(eng));
	eng.opts = &o;
	eng.nports = o.nports;
	eng.nworkers = o.nworkers;
	err = workers_create(&eng);
	err = err ? err : load_prog(&eng);
	err = err ? err : compile_prog(&eng);
	err = err ? err : sl_ports_start(&eng);
	sl_log_capture_end(err == 0);
	err = err ? err : run_engine(&eng, &secs);
	if (!err && !o.quiet)
		sl_report_print(&eng, secs, stdout);
	if (!err && o.json_path)
		err = sl_json_write(&eng, o.json_path);
	engine_free(&eng);
	sl_eal_stop();
	return err ? 1 : 0;
}
