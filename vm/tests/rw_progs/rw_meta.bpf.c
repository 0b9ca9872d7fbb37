// SPDX-License-Identifier: BSD-3-Clause
/* Writes 4 bytes of XDP metadata (1, 2, 3, 4) before the packet: `sluice
 * test-run` must show them as the kernel's test run returns data_meta. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int meta4(struct xdp_md *ctx)
{
	unsigned char *meta, *data;

	if (bpf_xdp_adjust_meta(ctx, -4))
		return XDP_ABORTED;
	meta = (void *)(long)ctx->data_meta;
	data = (void *)(long)ctx->data;
	if (meta + 4 > data)
		return XDP_ABORTED;
	meta[0] = 1;
	meta[1] = 2;
	meta[2] = 3;
	meta[3] = 4;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
