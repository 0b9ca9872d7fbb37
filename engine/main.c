/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The sluice command: signals first (signals.c), then dispatch to a
 * subcommand. Only main() exits. Exit codes: 0 success, 1 a run error
 * (bad input file, program, device, ...), 2 a usage error (unknown
 * command or option, bad option value).
 */
#include <stdio.h>
#include <string.h>

#include "engine_internal.h"

/* Subcommands that exist. Add one line per command as it lands. */
static const struct sl_cmd commands[] = {
	{ "verify", sl_cmd_verify, "verify programs, print OK with counts or the first error" },
	{ "run", sl_cmd_run, "run a program on DPDK ports (sluice run --help)" },
	{ "test-run", sl_cmd_test_run, "run a program once on given bytes, print r0 and the packet" },
	{ "disasm", sl_cmd_disasm, "print a program's instructions in the kernel's syntax" },
	{ "bench", sl_cmd_bench, "ns per packet of a program over a pcap, per engine" },
	{ "replay", sl_cmd_replay, "run a program or a tcpdump filter over a capture file, offline" },
	{ "ctl", sl_cmd_ctl, "talk to a running engine over its control socket" },
};

static void usage(FILE *out)
{
	fprintf(out, "usage: sluice COMMAND [ARGS]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(out, "\n`sluice COMMAND --help` describes a command.\n");
}

int main(int argc, char **argv)
{
	sl_signals_init();
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "help") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(stdout);
		return 0;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name)) {
			if (!strcmp(argv[1], "run"))  /* stops, reports and cleans up itself */
				sl_signals_defer();
			if (!strcmp(argv[1], "replay"))  /* stops at the first, reports, re-raises */
				sl_signals_defer_first();
			return commands[i].fn(argc - 1, argv + 1);
		}
	fprintf(stderr, "sluice: unknown command '%s' (try `sluice help`)\n", argv[1]);
	return 2;
}
