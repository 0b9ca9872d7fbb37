// SPDX-License-Identifier: BSD-3-Clause
/*
 * Loader test: global data. .rodata holds a const table, .data an
 * initialised variable, .bss two counters (one of them static, which
 * clang references through the section symbol plus an offset).
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

const volatile __u32 primes[8] = { 2, 3, 5, 7, 11, 13, 17, 19 };
__u64 seed = 0x1122334455667788ULL;
__u32 hits;
static volatile __u64 total;

SEC("xdp")
int xdp_globals(struct xdp_md *ctx)
{
	__u32 i = ctx->rx_queue_index & 7;

	hits++;
	total += primes[i] + seed;
	seed ^= total;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
