/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sluice-ctl: `sluice ctl` (cmd_ctl.c: the same code, the same options and
 * output) in a binary that links neither DPDK nor libpcap, libbpf,
 * libmicrohttpd (and its TLS stack) or libsystemd, which the client never
 * uses: only jansson and libc, linked in (static-pie, engine/meson.build,
 * where static glibc and jansson exist and no sanitizer runs). A script that
 * runs a client process per request (`sluice-ctl --json map dump NAME` in a
 * loop) starts a process with no dynamic loader and no shared library to
 * map: about 50 page faults, where the dynamic `sluice-ctl` took 88 and
 * `sluice ctl` (42 shared libraries) 590. On the VM this project is measured
 * on, every process started and ended anywhere costs a DPDK worker on the
 * other CPU, more the more it maps (README, ctl section: the worker's rate
 * while a client dumps a map in a loop).
 */
#include "engine_internal.h"

int main(int argc, char **argv)
{
	sl_signals_init();
	return sl_cmd_ctl(argc, argv);
}
