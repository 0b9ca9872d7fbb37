/* SPDX-License-Identifier: BSD-3-Clause */
/* ISA suite through the `sluice test-run` command line, and random-bytes fuzzing. */
#ifndef SL_ISA_CLI_H
#define SL_ISA_CLI_H

/** Write a case's program and memory as test-run input files. Exit code. */
int isa_cli_write_case(const char *case_path, const char *prog_bin, const char *mem_bin);

/** Run raw cases through `SLUICE test-run --raw`; check r0 line and exit codes. Exit code. */
int isa_cli_run(const char *sluice, char **files, unsigned n);

/**
 * Random programs for @p seconds on the checked interpreter (in process) and,
 * when @p sluice is given, through `test-run --no-verify`: no crash, no hang,
 * every run ends with r0 or one error line. Exit code.
 */
int isa_fuzz(int seconds, const char *sluice);

#endif
