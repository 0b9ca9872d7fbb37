// SPDX-License-Identifier: BSD-3-Clause
/*
 * Benchmark program of `ctl capture --verdict drop` (scripts/bench_capture.py):
 * drops every 100th frame a worker sees (1%), passes the others; it never
 * writes the packet, so a capture copies only the dropped frames, after
 * the verdict. One worker: the plain counter in .bss is its own.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

__u64 seen;

SEC("xdp")
int drop_1pct(struct xdp_md *ctx)
{
	return ++seen % 100 == 0 ? XDP_DROP : XDP_PASS;
}

char _license[] SEC("license") = "Dual BSD/GPL";
