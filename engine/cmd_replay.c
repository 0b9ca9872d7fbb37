/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sluice replay: option parsing (the replay itself is replay.c).
 *
 *   sluice replay (--prog X.o [--section S] | --filter EXPR [-s SNAPLEN])
 *                 -r IN [-w [PORT=]OUT]... [--drops FILE] [--json FILE]
 *                 [--interp] [--quiet] [--no-maps] [--progress|--no-progress]
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "engine_internal.h"
#include "pcapio.h"
#include "replay.h"
#include "sl_num.h"

static int replay_usage(FILE *out)
{
	fprintf(out,
		"usage: sluice replay (--prog X.o [--section S] | --filter EXPR [-s SNAPLEN])\n"
		"                     -r IN.pcap [-w [PORT=]OUT.pcap]... [--drops FILE] [--json FILE]\n"
		"                     [--interp] [--quiet] [--no-maps] [--progress|--no-progress]\n"
		"  --prog X.o        an XDP or socket-filter program (first one, or --section S)\n"
		"  --filter EXPR     a tcpdump expression instead (compiled for the file's link type)\n"
		"  -s SNAPLEN        with --filter: keep at most SNAPLEN bytes of each packet\n"
		"  -r IN             pcap (micro/nanoseconds, either byte order) or pcapng\n"
		"  -w [PORT=]OUT     packets leaving by port PORT (default 0), as pcap\n"
		"  --drops FILE      packets dropped or aborted, as read\n"
		"  --json FILE       stats and maps as JSON (as sluice run --json)\n"
		"  --interp          the interpreter instead of the JIT\n"
		"  --quiet           errors only; --no-maps leaves the maps out of the report\n"
		"  --progress        progress on stderr (default: when stderr is a terminal)\n");
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
	{ "drops", required_argument, NULL, 'D' },
	{ "json", required_argument, NULL, 'J' },
	{ "interp", no_argument, NULL, 'I' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "no-maps", no_argument, NULL, 'M' },
	{ "progress", no_argument, NULL, 'G' },
	{ "no-progress", no_argument, NULL, 'g' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int parse_opt(struct sl_replay_opts *o, int c, const char *arg)
{
	switch (c) {
	case 'P': o->prog_path = arg; return 0;
	case 'S': o->section = arg; return 0;
	case 'F': o->filter = arg; return 0;
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
	while ((c = getopt_long(argc, argv, "r:w:s:qh", longopts, NULL)) != -1) {
		if (c == 'h')
			return 1;
		if (c == '?' || c == ':') {
			if (optopt)
				fprintf(stderr, "sluice replay: option -%c needs a value or is unknown\n",
					optopt);
			else
				fprintf(stderr, "sluice replay: unknown option or missing value: %s\n",
					argv[optind - 1]);
			return -1;
		}
		if (parse_opt(o, c, optarg))
			return -1;
	}
	if (optind < argc) {
		fprintf(stderr, "sluice replay: unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	if (!!o->prog_path == !!o->filter) {
		fprintf(stderr, "sluice replay: give one of --prog X.o or --filter EXPR\n");
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

int sl_cmd_replay(int argc, char **argv)
{
	static struct sl_replay_opts o;
	int ret = parse_args(&o, argc, argv);

	if (ret > 0)
		return replay_usage(stdout);
	if (ret < 0) {
		replay_usage(stderr);
		return 2;
	}
	return sl_replay_main(&o);
}
