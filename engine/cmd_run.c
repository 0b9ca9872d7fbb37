/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sluice run: the engine on ports, described by a config file
 * (-c sluice.yaml, config/) and/or command-line options.
 *
 *   options read; config file loaded; options override it    (one struct sl_config)
 *   config resolved (names, egress) and turned into run options (config_apply.c)
 *   --check: object loaded, program verified (and compiled), maps sized,
 *            preload files stored, without DPDK; exit 0 or one error line
 *   EAL start                                (eal.c)
 *   object opened (maps with one slot per worker, config sizes), program
 *   found, type checked, verified, compiled (or prepared for the interpreter);
 *   or --filter EXPR: the tcpdump expression as a socket filter (filter.c,
 *   vm/cbpf.c, as `sluice replay --filter`), no object, no maps
 *   preload files stored into the maps       (before any packet)
 *   mempool and ports started, egress table  (port.c, config_apply.c)
 *   workers launched on the worker lcores    (worker.c)
 *   control loop on the main lcore           (stats.c) until a signal,
 *                                            --duration or end of input
 *   report and JSON                          (report.c, json.c)
 *   everything freed, rte_eal_cleanup
 *
 * Every failure is one line on stderr: exit code 2 for a wrong command
 * line, 1 for anything else; a config error is "FILE:LINE:COL: what was
 * wrong, what was expected" (a preload file's "FILE:LINE: ...").
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

#include "capture.h"
#include "ctl_internal.h"
#include "engine_internal.h"
#include "persist.h"
#include "replay.h"
#include "sl_config.h"
#include "sl_maps.h"
#include "sl_num.h"

#define LOG_LEN 1024

static void usage(FILE *out)
{
	fprintf(out,
		"usage: sluice run -c CONFIG.yaml [--check] [options] [-- EAL args]\n"
		"       sluice run --prog FILE.o --port DEVSTR [--port DEVSTR ...] [options] [-- EAL args]\n"
		"\n"
		"  -c, --config FILE     the engine described by a YAML file (see README: config)\n"
		"  --check               validate the config, the program (loaded, verified) and\n"
		"                        every preload file, without starting DPDK\n"
		"options (each overrides the config file):\n"
		"  --prog FILE.o         eBPF object (clang -O2 -g -target bpf)\n"
		"  --section S           program section (default: the first program)\n"
		"  --filter 'EXPR'       a tcpdump expression instead of --prog: a socket filter\n"
		"                        that keeps the packets it matches (EN10MB, snaplen 262144)\n"
		"  --port DEVSTR         a DPDK vdev ('net_pcap0,rx_pcap=in.pcap,tx_pcap=out.pcap',\n"
		"                        'net_null0', ...) or a PCI address; repeatable (up to %d);\n"
		"                        replaces the config's ports\n"
		"  --forward IN:OUT      XDP_PASS of port IN goes to OUT (port index or name, drop,\n"
		"                        or self); default: ports paired 0<->1, 2<->3, ..., the\n"
		"                        odd one out sends back out of itself\n"
		"  --workers N           worker lcores (default 1); each polls its own RX queue\n"
		"                        of every port (net_pcap has one RX queue per rx_pcap)\n"
		"  --map NAME=FILE       preload map NAME from FILE before traffic starts\n"
		"  --json FILE           write the final stats and maps as JSON (stats.json)\n"
		"  --stats-interval SEC  seconds between rate lines (default 1, 0: none)\n"
		"  --interp / --jit      execution engine (default: the JIT)\n"
		"  --duration SEC        stop after SEC seconds (default: at the end of every\n"
		"                        finite rx_pcap input, or on SIGINT/SIGTERM)\n"
		"  --quiet               print errors only\n"
		"  --no-maps             leave the maps out of the final report (not the JSON)\n"
		"  --ctl-socket PATH     serve `sluice ctl` on this Unix socket (mode 0600) and\n"
		"                        DPDK telemetry (/sluice/...)\n"
		"  --type xdp|socket     every function of every executable section is a program\n"
		"                        of that type (sections not named xdp*/socket*)\n"
		"  --map-size NAME=N     entries of map NAME (maps declared with max_entries 0)\n"
		"  --fib FILE            routes, neighbours and ports for bpf_fib_lookup\n"
		"  --metrics ADDR:PORT   Prometheus metrics over HTTP (metrics.listen)\n",
		SL_RUN_MAX_PORTS);
}

/* The command line, kept apart until it is laid over the config file. */
struct run_cli {
	const char *config, *prog, *section, *json, *ctl_socket;
	const char *filter;   /* --filter EXPR */
	const char *metrics;  /* --metrics ADDR:PORT */
	const char *ports[SL_RUN_MAX_PORTS + 1];
	unsigned nports;
	const char *fwd[SL_RUN_MAX_PORTS + 1];
	unsigned nfwd;
	const char *maps[SL_CONFIG_MAX_MAPS + 1];
	unsigned nmaps;
	bool check, has_workers, has_interval, quiet, no_maps;
	unsigned workers;
	double interval, duration;
	enum sl_run_exec exec;
	struct sl_cli_obj obj;  /* --type, --map-size */
	const char *fib;        /* --fib FILE */
	int eal_argc;
	char **eal_argv;
};

static const struct option long_opts[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "check", no_argument, NULL, 'C' },
	{ "prog", required_argument, NULL, 'p' },
	{ "section", required_argument, NULL, 's' },
	{ "filter", required_argument, NULL, 'X' },
	{ "port", required_argument, NULL, 'P' },
	{ "forward", required_argument, NULL, 'f' },
	{ "map", required_argument, NULL, 'm' },
	{ "ctl-socket", required_argument, NULL, 'S' },
	{ "metrics", required_argument, NULL, 'H' },
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

/* Append to a bounded list of option values. */
static int push(const char **list, unsigned *n, unsigned max, const char *opt, const char *v)
{
	if (*n >= max) {
		fprintf(stderr, "sluice run: %s: at most %u\n", opt, max);
		return -EINVAL;
	}
	list[(*n)++] = v;
	return 0;
}

/* One option; 1 for --help, 0 to go on, -errno on a bad option. */
static int parse_opt(struct run_cli *c, int opt, const char *arg)
{
	uint64_t n;
	int ret;

	switch (opt) {
	case 'c': c->config = arg; return 0;
	case 'C': c->check = true; return 0;
	case 'p': c->prog = arg; return 0;
	case 's': c->section = arg; return 0;
	case 'X': c->filter = arg; return 0;
	case 'P': return push(c->ports, &c->nports, SL_RUN_MAX_PORTS, "--port", arg);
	case 'f': return push(c->fwd, &c->nfwd, SL_RUN_MAX_PORTS, "--forward", arg);
	case 'm': return push(c->maps, &c->nmaps, SL_CONFIG_MAX_MAPS, "--map", arg);
	case 'S': c->ctl_socket = arg; return 0;
	case 'H': c->metrics = arg; return 0;
	case 'j': c->json = arg; return 0;
	case 'I': case 'J':
		if (c->exec != SL_RUN_EXEC_AUTO) {
			fprintf(stderr, "sluice run: --interp and --jit exclude each other\n");
			return -EINVAL;
		}
		c->exec = opt == 'I' ? SL_RUN_EXEC_INTERP : SL_RUN_EXEC_JIT;
		return 0;
	case 'd': return sl_num_opt_seconds("run", "--duration", arg, 1e-3, 1e9, &c->duration);
	case 'i':
		c->has_interval = true;
		return sl_num_opt_seconds("run", "--stats-interval", arg, 0, 86400, &c->interval);
	case 'w':
		ret = sl_num_opt_u64("run", "--workers", arg, 1,
				     SL_RUN_MAX_WORKERS < SL_MAX_CPUS ? SL_RUN_MAX_WORKERS : SL_MAX_CPUS,
				     &n);
		c->workers = (unsigned)n;
		c->has_workers = true;
		return ret;
	case 'q': c->quiet = true; return 0;
	case 'M': c->no_maps = true; return 0;
	case 'T': return sl_cli_obj_arg("run", &c->obj, "--type", arg) < 0 ? -EINVAL : 0;
	case 'Z': return sl_cli_obj_arg("run", &c->obj, "--map-size", arg) < 0 ? -EINVAL : 0;
	case 'F': c->fib = arg; return 0;
	case 'h': usage(stdout); return 1;
	default:
		return -EINVAL;  /* named by parse_args */
	}
}

static int parse_args(struct run_cli *c, int argc, char **argv)
{
	int opt, ret;

	memset(c, 0, sizeof(*c));
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+:c:", long_opts, NULL)) != -1) {
		if (opt == '?' || opt == ':') {
			fprintf(stderr, "sluice run: %s '%s' (see sluice run --help)\n",
				opt == ':' ? "option needs a value:" : "unknown option", argv[optind - 1]);
			return -EINVAL;
		}
		if ((ret = parse_opt(c, opt, optarg)))
			return ret;
	}
	if (optind < argc && strcmp(argv[optind - 1], "--")) {
		fprintf(stderr, "sluice run: unexpected argument '%s' (EAL arguments go after --)\n",
			argv[optind]);
		return -EINVAL;
	}
	c->eal_argc = argc - optind;
	c->eal_argv = argv + optind;
	return 0;
}

/* A string option into a config field; -EINVAL when too long. */
static int set_str(char *dst, size_t len, const char *opt, const char *v)
{
	if (snprintf(dst, len, "%s", v) < (int)len)
		return 0;
	fprintf(stderr, "sluice run: %s: longer than %zu bytes\n", opt, len - 1);
	return -EINVAL;
}

/* Does @p log start with "FILE:LINE:" (a config or preload file position)? */
static bool located(const char *log)
{
	size_t n = strcspn(log, ": ");

	return log[n] == ':' && n > 0 && log[n + 1] >= '0' && log[n + 1] <= '9' &&
	       log[n + 1 + strspn(log + n + 1, "0123456789")] == ':';
}

/*
 * A config error: "FILE:LINE[:COL]: ..." as it is (-EBADMSG: a file is
 * wrong, exit 1), anything else after "sluice run: " (-EINVAL: the command
 * line is, a usage error, exit 2).
 */
static int say_cfg(const struct sl_config *cfg, const char *log)
{
	bool at = located(log);

	fprintf(stderr, "%s%s\n", at ? "" : "sluice run: ", log);
	return at ? -EBADMSG : -EINVAL;
}

/* The command line over the config (or over the defaults, without a file). */
static int apply_cli(const struct run_cli *c, struct sl_config *cfg)
{
	char log[LOG_LEN];
	int err = 0;

	if (c->prog && c->filter) {
		fprintf(stderr, "sluice run: --prog and --filter exclude each other\n");
		return -EINVAL;
	}
	if (c->prog)
		err = set_str(cfg->object, sizeof(cfg->object), "--prog", c->prog);
	if (c->filter)  /* the program slot names the option: load_filter() compiles o->filter */
		err = set_str(cfg->object, sizeof(cfg->object), "--filter", "--filter");
	if (!err && c->section)
		err = set_str(cfg->section, sizeof(cfg->section), "--section", c->section);
	if (!err && c->json)
		err = set_str(cfg->stats_json, sizeof(cfg->stats_json), "--json", c->json);
	if (!err && c->ctl_socket)
		err = set_str(cfg->ctl_socket, sizeof(cfg->ctl_socket), "--ctl-socket", c->ctl_socket);
	if (!err && c->metrics)
		err = set_str(cfg->metrics_listen, sizeof(cfg->metrics_listen), "--metrics",
			      c->metrics);
	if (err)
		return err;
	if (c->prog || c->filter)
		cfg->object_loc = (struct sl_config_loc){ 0, 0 };
	if (c->section)
		cfg->section_loc = (struct sl_config_loc){ 0, 0 };
	if (c->nports)
		cfg->nports = 0;  /* --port replaces the file's ports */
	for (unsigned i = 0; i < c->nports && !err; i++)
		err = sl_config_add_port(cfg, c->ports[i], log, sizeof(log));
	for (unsigned i = 0; i < c->nfwd && !err; i++)
		err = sl_config_add_forward(cfg, c->fwd[i], log, sizeof(log));
	for (unsigned i = 0; i < c->nmaps && !err; i++)
		err = sl_config_add_map(cfg, c->maps[i], log, sizeof(log));
	if (err)
		return say_cfg(cfg, log);
	if (c->has_workers) {
		cfg->nworkers = c->workers;
		cfg->nlcores = 0;
	}
	if (c->has_interval)
		cfg->stats_interval = c->interval;
	if (c->exec != SL_RUN_EXEC_AUTO)
		cfg->engine = c->exec == SL_RUN_EXEC_JIT ? SL_ENGINE_JIT : SL_ENGINE_INTERP;
	if (sl_config_resolve(cfg, log, sizeof(log)))
		return say_cfg(cfg, log);
	return 0;
}

/* Config file, command line over it, then the run options. */
static int build_opts(const struct run_cli *c, struct sl_config *cfg, struct sl_run_opts *o)
{
	char log[LOG_LEN];
	int err;

	sl_config_init(cfg);
	if (c->config && sl_config_load(cfg, c->config, log, sizeof(log)))
		return say_cfg(cfg, log);
	err = apply_cli(c, cfg);
	if (err)
		return err;
	memset(o, 0, sizeof(*o));
	o->duration = c->duration;
	o->quiet = c->quiet;
	o->no_maps = c->no_maps;
	o->obj = c->obj;
	o->fib_path = c->fib;
	o->eal_argc = c->eal_argc;  /* after the config's eal: list */
	o->eal_argv = c->eal_argv;
	o->filter = c->filter;
	return sl_config_apply_opts(cfg, o);
}

/* The section asked for is not in the object: say which ones are. */
static int no_section(const struct sl_engine *eng)
{
	const struct sl_run_opts *o = eng->opts;
	const struct sl_config *cfg = o->cfg;
	char list[512] = "";

	for (unsigned i = 0; i < sl_obj_prog_count(eng->obj); i++)
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", i ? ", " : "",
			 sl_obj_prog(eng->obj, i)->section);
	if (cfg->section_loc.line)
		fprintf(stderr, "%s:%u:%u: program.section: %s has no program '%s', want one of: "
			"%s\n", cfg->path, cfg->section_loc.line, cfg->section_loc.col, o->prog_path,
			o->section, list[0] ? list : "(none)");
	else
		fprintf(stderr, "sluice run: %s: no program in section '%s'%s%s\n", o->prog_path,
			o->section ? o->section : "(any)", list[0] ? ", want one of: " : "", list);
	return -ENOENT;
}

/*
 * --filter EXPR: the expression compiled for Ethernet frames with
 * tcpdump's default snaplen (a match keeps the whole packet), verified;
 * no object and no maps.
 */
static int load_filter(struct sl_engine *eng)
{
	const struct sl_run_opts *o = eng->opts;
	const struct sl_config *cfg = o->cfg;
	char log[LOG_LEN] = "";
	int err;

	if (cfg->nmaps) {
		fprintf(stderr, "sluice run: --filter: a filter has no maps, but %s names map '%s'\n",
			cfg->path[0] ? cfg->path : "--map", cfg->maps[0].name);
		return -EINVAL;
	}
	if (o->obj.nsizes || o->fib_path) {
		fprintf(stderr, "sluice run: --filter: a filter has no maps (--map-size, --fib)\n");
		return -EINVAL;
	}
	eng->prog = sl_filter_compile(o->filter, 1 /* EN10MB */, 262144, log, sizeof(log));
	if (!eng->prog) {
		fprintf(stderr, "sluice run: %s\n", log);
		return -EINVAL;
	}
	err = sl_prog_verify(eng->prog, 0, NULL, log, sizeof(log));
	if (err) {
		fprintf(stderr, "sluice run: --filter: rejected by the verifier: %s\n", log);
		return err;
	}
	snprintf(eng->info.path, sizeof(eng->info.path), "filter '%s'", o->filter);
	return 0;
}

/* Open the object (maps sized by the config), find, check and verify the program. */
static int load_prog(struct sl_engine *eng)
{
	const struct sl_run_opts *o = eng->opts;
	const struct sl_config *cfg = o->cfg;
	struct sl_obj_map_size sizes[SL_CLI_MAX_MAP_SIZES + SL_CONFIG_MAX_MAPS];
	struct sl_obj_opts oo = { .sz = sizeof(oo), .ncpus = eng->nworkers };
	struct sl_verify_stats vs = { 0 };
	char log[LOG_LEN] = "";
	unsigned n = 0;
	int err;

	sl_cli_obj_apply(&o->obj, &oo);  /* --type; --map-size first: the first size given wins */
	if (!oo.force_type && cfg->type[0])  /* program.type, as bpftool's "type xdp" */
		oo.force_type = !sl_prog_type_from_name(cfg->type, &oo.prog_type);
	for (unsigned i = 0; i < o->obj.nsizes; i++)
		sizes[n++] = o->obj.sizes[i];
	for (unsigned i = 0; i < cfg->nmaps; i++)
		if (cfg->maps[i].size)
			sizes[n++] = (struct sl_obj_map_size){ cfg->maps[i].name, cfg->maps[i].size };
	oo.map_sizes = n ? sizes : NULL;
	oo.n_map_sizes = n;
	if (o->fib_path && !(eng->fib = sl_cli_fib_load("run", o->fib_path)))
		return -EINVAL;
	eng->obj = sl_obj_open(o->prog_path, &oo, log, sizeof(log));
	if (!eng->obj) {
		fprintf(stderr, "sluice run: %s\n", log[0] ? log : strerror(errno));
		return -EINVAL;
	}
	if (sl_config_check_maps(cfg, eng->obj, log, sizeof(log)))
		return say_cfg(cfg, log);
	eng->prog = sl_obj_find_prog(eng->obj, o->section);
	if (!eng->prog)
		return no_section(eng);
	if (eng->prog->type != SL_PROG_XDP && eng->prog->type != SL_PROG_SOCKET) {
		fprintf(stderr, "sluice run: %s: section '%s' is neither an XDP nor a socket "
			"filter program\n", o->prog_path, eng->prog->section);
		return -EINVAL;
	}
	err = sl_prog_verify(eng->prog, 0, &vs, log, sizeof(log));
	if (err) {
		fprintf(stderr, "sluice run: %s: section '%s' program '%s': rejected by the "
			"verifier: %s\n", o->prog_path, eng->prog->section, eng->prog->name,
			log[0] ? log : strerror(-err));
		return err;
	}
	snprintf(eng->info.path, sizeof(eng->info.path), "%s", o->prog_path);
	eng->info.verify_ns = vs.ns;
	return 0;
}

/* Every preload file into its map, before any packet. */
static int preload_maps(struct sl_engine *eng, unsigned *entries)
{
	char log[LOG_LEN] = "";
	int err = sl_config_preload(eng->opts->cfg, eng->obj, entries, log, sizeof(log));

	if (err)
		say_cfg(eng->opts->cfg, log);
	return err;
}

/* The JIT (one copy for every worker), or the interpreter's form (verify built it). */
static int compile_prog(struct sl_engine *eng)
{
	const struct sl_run_opts *o = eng->opts;
	char log[LOG_LEN];
	int err = sl_cli_prog_build(eng->prog, o->exec, &eng->jit, log, sizeof(log));

	if (err) {
		fprintf(stderr, "sluice run: %s: %s\n", o->prog_path, log);
		return err;
	}
	if (!eng->jit && o->exec != SL_RUN_EXEC_INTERP && !o->quiet)
		printf("sluice: JIT unavailable for this program (%s): using the interpreter\n", log);
	sl_worker_exec_init(eng, &eng->exec_main, eng->prog, eng->jit);
	eng->exec = &eng->exec_main;
	eng->exec_name = eng->jit ? "jit" : "interpreter";
	return 0;
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

static double wall_clock(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* The control socket and DPDK telemetry, when asked for. */
static int ctl_start(struct sl_engine *eng)
{
	int err;

	if (!eng->opts->ctl_socket)
		return 0;
	if (!sl_ctl_open(eng, eng->opts->ctl_socket))
		return -errno;
	err = sl_telemetry_register(eng->ctl);
	if (err)
		fprintf(stderr, "sluice run: telemetry: cannot register /sluice commands: %s\n",
			strerror(-err));
	return err;
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
	eng->info.load_time = wall_clock();
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
	if (!eng->opts->quiet && eng->exec->burst)
		printf("sluice: JIT burst entry: the program runs in a loop over each burst%s\n",
		       eng->exec->burst_prefetch ? ", packet data prefetched ahead" : "");
	sl_service_ready(eng);  /* sd_notify READY=1: ports up, workers launched */
	sl_stats_loop(eng, &why);
	rte_eal_mp_wait_lcore();
	*secs = now() - start;
	if (!eng->opts->quiet)
		printf("sluice: stopped (%s) after %.2f s\n", why, *secs);
	return 0;
}

static void engine_free(struct sl_engine *eng)
{
	sl_metrics_stop(eng);
	sl_ctl_close(eng->ctl);
	sl_capture_free(eng);
	sl_slot_progs_free(eng);
	sl_cpumap_stop(eng);
	sl_ports_stop(eng);
	sl_jit_free(eng->jit);
	sl_obj_close(eng->obj);
	sl_inner_free_all(eng);  /* after the object: no outer map refers to them any more */
	if (eng->exec != &eng->exec_main)
		free(eng->exec);  /* the last hot reload's (reload.c) */
	if (!eng->obj)
		sl_prog_free(eng->prog);  /* --filter: no object owns it */
	sl_cli_fib_free(eng->fib);
	free(eng->workers);
}

/*
 * What a run and --check both do before any port: workers, the program
 * loaded, verified and compiled, maps preloaded and restored.
 */
static int prepare(struct sl_engine *eng, const struct sl_run_opts *o, unsigned *entries)
{
	int err;

	memset(eng, 0, sizeof(*eng));
	eng->opts = o;
	eng->nports = o->nports;
	eng->nworkers = o->nworkers;
	err = workers_create(eng);
	err = err ? err : o->filter ? load_filter(eng) : load_prog(eng);
	err = err ? err : compile_prog(eng);
	err = err ? err : sl_cpumap_prepare(eng);  /* entry programs: before CPUMAP preloads */
	err = err ? err : preload_maps(eng, entries);
	return err ? err : sl_persist_restore_all(eng);
}

/*
 * --check: everything a run would do before DPDK starts, and the program's
 * load, verification, compilation and preloads, on the real object.
 */
static int run_check(const struct sl_run_opts *o, const struct sl_config *cfg)
{
	struct sl_engine eng;
	unsigned entries = 0;
	int err = prepare(&eng, o, &entries);

	if (!err && !o->quiet)
		printf("sluice: %s: ok: program '%s' (%s) verified, %u port%s, %u worker%s, "
		       "%u preloaded map entr%s\n", cfg->path[0] ? cfg->path : "command line",
		       eng.prog->section, eng.exec_name, o->nports, o->nports == 1 ? "" : "s",
		       o->nworkers, o->nworkers == 1 ? "" : "s", entries, entries == 1 ? "y" : "ies");
	sl_cpumap_stop(&eng);
	sl_jit_free(eng.jit);
	sl_obj_close(eng.obj);
	if (!eng.obj)
		sl_prog_free(eng.prog);
	free(eng.workers);
	return err ? 1 : 0;
}

static int run(struct sl_run_opts *o)
{
	struct sl_engine eng;
	unsigned entries = 0;
	double secs = 0;
	int err;

	err = sl_eal_start(o);
	if (err)  /* -EINVAL: bad EAL arguments */
		return err == -EINVAL ? 2 : 1;
	err = prepare(&eng, o, &entries);
	err = err ? err : sl_ports_start(&eng);
	if (!err)
		sl_ports_find_rings(&eng);  /* drain.c: net_ring ports, for the end of input */
	err = err ? err : sl_cpumap_start(&eng);
	if (!err)
		sl_config_apply_egress(&eng);
	err = err ? err : ctl_start(&eng);
	err = err ? err : sl_metrics_start(&eng);
	sl_log_capture_end(err == 0);
	if (!err && entries && !o->quiet)
		printf("sluice: %u map entr%s preloaded\n", entries, entries == 1 ? "y" : "ies");
	err = err ? err : run_engine(&eng, &secs);
	sl_cpumap_stop(&eng);  /* workers stopped: what the rings still hold is counted */
	if (!err && sl_persist_save_all(&eng))  /* workers stopped: the final state */
		eng.failed = true;
	if (!err)
		sl_ports_stop(&eng);  /* NIC counters and the mbuf count, for the report */
	if (!err && !o->quiet)
		sl_report_print(&eng, secs, stdout);
	if (!err && o->json_path && sl_json_write(&eng, o->json_path)) {
		if (o->quiet || fflush(stdout))  /* the results are not lost: stats on stderr */
			sl_report_print(&eng, secs, stderr);
		eng.failed = true;
	}
	engine_free(&eng);
	sl_eal_stop();
	return err || eng.failed ? 1 : 0;
}

int sl_cmd_run(int argc, char **argv)
{
	static struct run_cli c;
	static struct sl_config cfg;
	static struct sl_run_opts o;
	int err = parse_args(&c, argc, argv);

	if (err)  /* usage errors exit 2 */
		return err > 0 ? 0 : 2;
	err = build_opts(&c, &cfg, &o);
	err = err ? err : sl_paths_check(&o);
	if (err)  /* the command line's own values are usage errors, bad files run errors */
		err = err == -EINVAL || err == -ERANGE ? 2 : 1;
	else
		err = c.check ? run_check(&o, &cfg) : run(&o);
	sl_config_fini(&cfg);
	return err;
}
