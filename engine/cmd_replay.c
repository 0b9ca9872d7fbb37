/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sluice replay: option parsing (the replay itself is replay.c).
 *
 *   sluice replay (--prog X.o [--section S] | -c sluice.yaml | --filter EXPR [-s SNAPLEN])
 *                 [--map NAME=FILE]...
 *                 -r IN [-w [PORT=]OUT]... [--drops FILE] [--json FILE]
 *                 [--interp] [--quiet] [--no-maps] [--progress|--no-progress]
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "engine_internal.h"
#include "pcapio.h"
#include "replay.h"
#include "replay_par.h"
#include "sl_num.h"

static int replay_usage(FILE *out)
{
	fprintf(out,
		"usage: sluice replay (--prog X.o [--section S] | -c sluice.yaml | --filter EXPR [-s SNAPLEN])\n"
		"                     -r IN.pcap [-w [PORT=]OUT.pcap]... [--drops FILE] [--json FILE]\n"
		"                     [--map NAME=FILE]...\n"
		"                     [--interp] [--quiet] [--no-maps] [--progress|--no-progress]\n"
		"                     [--io-threads on|off] [--workers N]\n"
		"  --prog X.o        an XDP or socket-filter program (first one, or --section S)\n"
		"  -c sluice.yaml    program, engine, map sizes and preloads from a config file\n"
		"                    (its ports are not used: the replay's ports are its -w)\n"
		"  --map NAME=FILE   preload map NAME from FILE before the first packet\n"
		"  --filter EXPR     a tcpdump expression instead (compiled for the file's link type)\n"
		"  -s SNAPLEN        with --filter: keep at most SNAPLEN bytes of each packet\n"
		"  -r IN             pcap (micro/nanoseconds, either byte order) or pcapng; - is stdin\n"
		"  -w [PORT=]OUT     packets leaving by port PORT (default 0), as pcap\n"
		"  --drops FILE      packets dropped or aborted, as read\n"
		"  --json FILE       stats and maps as JSON (as sluice run --json)\n"
		"  --interp          the interpreter instead of the JIT\n"
		"  --quiet           errors only; --no-maps leaves the maps out of the report\n"
		"  --progress        progress on stderr (default: when stderr is a terminal)\n"
		"  --io-threads on|off  a thread reads the input ahead, one per output file\n"
		"                    writes behind (default: inputs of 512 KiB and more,\n"
		"                    with 2 CPUs or more)\n"
		"  --workers N       N threads run the records, outputs in record order (socket\n"
		"                    filters and --filter without maps, pcap in host byte order;\n"
		"                    default: one per CPU, up to 8, for --filter on such a pcap\n"
		"                    of 512 KiB and more when --io-threads is auto, else 1)\n");
	return out == stdout ? 0 : 2;
}

/* "-w FILE" or "-w PORT=FILE". */
static int add_out(struct sl_replay_opts *o, const char *arg)
{
	const char *eq = strchr(arg, '=');
	uint64_t port = 0;
	char num[16];

	if (eq && eq > arg && (size_t)(eq - arg) < sizeof(num) &&
	    strspn(arg, "0123456789") == (size_t)(eq - arg)) {
		memcpy(num, arg, (size_t)(eq - arg));
		num[eq - arg] = '\0';
		if (sl_num_opt_u64("replay", "-w PORT", num, 0, SL_RUN_MAX_PORTS - 1, &port))
			return -1;
		arg = eq + 1;
	}
	if (!*arg) {
		fprintf(stderr, "sluice replay: -w: empty file name\n");
		return -1;
	}
	for (unsigned i = 0; i < o->nouts; i++)
		if (o->outs[i].port == port) {
			fprintf(stderr, "sluice replay: -w: port %u has two files (%s, %s)\n",
				(unsigned)port, o->outs[i].path, arg);
			return -1;
		}
	if (o->nouts == SL_REPLAY_MAX_OUT) {
		fprintf(stderr, "sluice replay: -w: at most %u outputs\n", SL_REPLAY_MAX_OUT);
		return -1;
	}
	o->outs[o->nouts++] = (struct sl_replay_out){ .port = (unsigned)port, .path = arg };
	return 0;
}

static const struct option longopts[] = {
	{ "prog", required_argument, NULL, 'P' },
	{ "section", required_argument, NULL, 'S' },
	{ "filter", required_argument, NULL, 'F' },
	{ "config", required_argument, NULL, 'c' },
	{ "map", required_argument, NULL, 'm' },
	{ "drops", required_argument, NULL, 'D' },
	{ "json", required_argument, NULL, 'J' },
	{ "interp", no_argument, NULL, 'I' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "no-maps", no_argument, NULL, 'M' },
	{ "progress", no_argument, NULL, 'G' },
	{ "no-progress", no_argument, NULL, 'g' },
	{ "io-threads", required_argument, NULL, 'A' },
	{ "workers", required_argument, NULL, 'W' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* --io-threads on|off|auto */
static int parse_io(struct sl_replay_opts *o, const char *arg)
{
	static const char *const names[] = { [SL_REPLAY_IO_AUTO] = "auto",
					     [SL_REPLAY_IO_ON] = "on", [SL_REPLAY_IO_OFF] = "off" };

	for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(arg, names[i])) {
			o->io = (enum sl_replay_io)i;
			return 0;
		}
	fprintf(stderr, "sluice replay: --io-threads '%s': give on, off or auto\n", arg);
	return -1;
}

/* --workers N: threads that run the records (replay_par.c). */
static int parse_workers(struct sl_replay_opts *o, const char *arg)
{
	uint64_t n;

	if (sl_num_opt_u64("replay", "--workers", arg, 1, SL_REPLAY_MAX_WORKERS, &n))
		return -1;
	o->workers = (unsigned)n;
	return 0;
}

static int parse_opt(struct sl_replay_opts *o, int c, const char *arg)
{
	switch (c) {
	case 'A': return parse_io(o, arg);
	case 'W': return parse_workers(o, arg);
	case 'P': o->prog_path = arg; return 0;
	case 'S': o->section = arg; return 0;
	case 'F': o->filter = arg; return 0;
	case 'c': o->config_path = arg; return 0;
	case 'm':
		if (o->nmaps == sizeof(o->maps) / sizeof(o->maps[0])) {
			fprintf(stderr, "sluice replay: --map: at most %zu maps\n",
				sizeof(o->maps) / sizeof(o->maps[0]));
			return -1;
		}
		o->maps[o->nmaps++] = arg;
		return 0;
	case 's': return sl_num_opt_u64("replay", "-s", arg, 1, SL_PCAP_MAX_SNAPLEN, &o->snaplen);
	case 'r': o->in_path = arg; return 0;
	case 'w': return add_out(o, arg);
	case 'D': o->drops_path = arg; return 0;
	case 'J': o->json_path = arg; return 0;
	case 'I': o->interp = true; return 0;
	case 'q': o->quiet = true; return 0;
	case 'M': o->no_maps = true; return 0;
	case 'G': o->progress = 1; return 0;
	case 'g': o->progress = 0; return 0;
	default: return -1;
	}
}

/* 0 to run, 1 for --help, -1 on a bad command line (message printed). */
static int parse_args(struct sl_replay_opts *o, int argc, char **argv)
{
	int c;

	memset(o, 0, sizeof(*o));
	o->progress = -1;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "r:w:s:c:qh", longopts, NULL)) != -1) {
		if (c == 'h')
			return 1;
		if (c == '?' || c == ':') {
			fprintf(stderr, "sluice replay: %s: unknown option, or its value is missing "
				"(see sluice replay --help)\n", argv[optind - 1]);
			return -1;
		}
		if (parse_opt(o, c, optarg))
			return -1;
	}
	if (optind < argc) {
		fprintf(stderr, "sluice replay: unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	if (!(o->prog_path || o->config_path) == !o->filter) {
		fprintf(stderr, "sluice replay: give one of --prog X.o (or -c sluice.yaml) or --filter "
			"EXPR\n");
		return -1;
	}
	if (o->filter && o->nmaps) {
		fprintf(stderr, "sluice replay: --map goes with --prog or -c (a filter has no maps)\n");
		return -1;
	}
	if (!o->in_path) {
		fprintf(stderr, "sluice replay: -r IN.pcap is required\n");
		return -1;
	}
	if (o->snaplen && !o->filter) {
		fprintf(stderr, "sluice replay: -s goes with --filter\n");
		return -1;
	}
	if (o->section && !o->prog_path) {
		fprintf(stderr, "sluice replay: --section goes with --prog\n");
		return -1;
	}
	return 0;
}

/* One path the replay reads or writes. */
struct rpath {
	const char *path, *what;
	bool output, exists;
	struct stat st;
};

/* An output: not an input or another output (by inode), and creatable or writable. */
static int check_output(const struct rpath *ps, unsigned n, unsigned i)
{
	const struct rpath *o = &ps[i];
	int fd;

	for (unsigned j = 0; j < i; j++) {
		const struct rpath *x = &ps[j];
		bool same = o->exists && x->exists && !S_ISCHR(o->st.st_mode) &&
			    x->st.st_dev == o->st.st_dev && x->st.st_ino == o->st.st_ino;

		if (same || (!o->exists && x->output && !x->exists && !strcmp(x->path, o->path))) {
			fprintf(stderr, "sluice replay: %s '%s' is the same file as %s '%s': refusing "
				"to write over %s\n", o->what, o->path, x->what, x->path,
				x->output ? "another output" : "an input");
			return -EEXIST;
		}
	}
	if (o->exists && S_ISDIR(o->st.st_mode)) {
		fprintf(stderr, "sluice replay: %s %s: %s\n", o->what, o->path, strerror(EISDIR));
		return -EISDIR;
	}
	fd = open(o->path, O_WRONLY | O_CLOEXEC | (o->exists ? 0 : O_CREAT | O_EXCL), 0644);
	if (fd < 0) {
		fprintf(stderr, "sluice replay: %s %s: %s\n", o->what, o->path, strerror(errno));
		return -errno;
	}
	close(fd);
	if (!o->exists)
		unlink(o->path);  /* a failed replay leaves nothing behind */
	return 0;
}

/*
 * Before anything is read or written: an output that is an input (-r,
 * --prog, -c) or another output is refused, whatever path reaches it, and
 * every output must be writable ("-" is stdout).
 */
static int check_paths(const struct sl_replay_opts *o)
{
	struct rpath ps[SL_REPLAY_MAX_OUT + 5];
	unsigned n = 0;
	int err = 0;

	ps[n++] = (struct rpath){ o->in_path, "-r", false };
	if (o->prog_path)
		ps[n++] = (struct rpath){ o->prog_path, "--prog", false };
	if (o->config_path)
		ps[n++] = (struct rpath){ o->config_path, "-c", false };
	for (unsigned i = 0; i < o->nouts; i++)
		if (strcmp(o->outs[i].path, "-"))
			ps[n++] = (struct rpath){ o->outs[i].path, "-w", true };
	if (o->drops_path && strcmp(o->drops_path, "-"))
		ps[n++] = (struct rpath){ o->drops_path, "--drops", true };
	if (o->json_path)
		ps[n++] = (struct rpath){ o->json_path, "--json", true };
	for (unsigned i = 0; i < n; i++)
		ps[i].exists = stat(ps[i].path, &ps[i].st) == 0;
	for (unsigned i = 0; i < n && !err; i++)
		if (ps[i].output)
			err = check_output(ps, n, i);
	return err;
}

/* What sl_cmd_replay returns, unless a stop signal came: then it dies of it (signals.c). */
static int replay_exit(int code)
{
	sl_signal_reraise();
	return code;
}

int sl_cmd_replay(int argc, char **argv)
{
	static struct sl_replay_opts o;
	int ret = parse_args(&o, argc, argv);

	if (ret > 0)
		return replay_usage(stdout);
	if (ret < 0)
		return replay_exit(2);  /* the one line is printed; usage with --help */
	if (check_paths(&o))
		return replay_exit(1);
	return replay_exit(sl_replay_main(&o));
}
