// SPDX-License-Identifier: BSD-3-Clause
/* Loader test (must be rejected): a reference to an undefined variable. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

extern __u32 ext_limit;

SEC("xdp")
int xdp_extern(struct xdp_md *ctx)
{
	return ctx->rx_queue_index < ext_limit ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
