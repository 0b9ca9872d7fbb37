/* SPDX-License-Identifier: BSD-3-Clause */
/* Internal header of the sluice command: one entry point per subcommand. */
#ifndef SL_ENGINE_INTERNAL_H
#define SL_ENGINE_INTERNAL_H

/** A subcommand: argv[0] is the subcommand's name. Returns the exit code. */
typedef int (*sl_cmd_fn)(int argc, char **argv);

struct sl_cmd {
	const char *name;
	sl_cmd_fn fn;
	const char *summary;  /**< one line for `sluice help` */
};

/* One declaration per subcommand, each in its own cmd_<name>.c. */
int sl_cmd_run(int argc, char **argv);
int sl_cmd_verify(int argc, char **argv);
int sl_cmd_disasm(int argc, char **argv);
int sl_cmd_test_run(int argc, char **argv);
int sl_cmd_bench(int argc, char **argv);

#endif
