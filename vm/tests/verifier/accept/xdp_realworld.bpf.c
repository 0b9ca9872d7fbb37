// SPDX-License-Identifier: BSD-3-Clause
/* Must-accept (issue 13): what real-world XDP objects do that a root
 * kernel accepts. bpf_printk with fewer than three arguments leaves r3-r5
 * unset (bpf_trace_printk's prototype checks fmt and its size only); a
 * packet pointer read before bpf_xdp_adjust_head/tail is still held
 * (and read as a number) after the call, which makes it an unknown scalar,
 * not an unreadable register. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int xdp_realworld(struct xdp_md *ctx)
{
	void *old = (void *)(long)ctx->data;
	long seen;

	bpf_printk("xdp");
	bpf_printk("len %d", (int)(ctx->data_end - ctx->data));
	if (bpf_xdp_adjust_head(ctx, 0))
		return XDP_ABORTED;
	/* read the stale pointer's register after the call */
	asm volatile("%0 = %1" : "=r"(seen) : "r"(old));
	if (bpf_xdp_adjust_tail(ctx, 0))
		return XDP_ABORTED;
	asm volatile("%0 += 0" : "+r"(seen));
	return seen == (long)ctx->data ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
