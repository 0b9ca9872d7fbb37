/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sluice-replay: `sluice replay` (cmd_replay.c, replay.c: the same code,
 * the same sl_verdict_run()) in a binary that links neither DPDK nor the
 * control/metrics libraries (libmicrohttpd and its TLS stack, libsystemd),
 * which replay never uses: a process that loads a third of the shared
 * libraries starts in a third of the time (README, replay speed).
 */
#include "engine_internal.h"

int main(int argc, char **argv)
{
	sl_signals_init();
	sl_signals_defer_first();  /* as `sluice replay` (signals.c) */
	return sl_cmd_replay(argc, argv);
}
