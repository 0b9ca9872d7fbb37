// SPDX-License-Identifier: BSD-3-Clause
/*
 * Engine test program: every XDP verdict, chosen by byte 11 of the frame
 * (the last byte of the source MAC, random in sl-pcapgen captures), with
 * byte 10 as flags. Frames shorter than 12 bytes pass.
 *
 *   byte11 % 6 == 0  XDP_ABORTED
 *              == 1  XDP_DROP
 *              == 2  XDP_PASS; flag 1 and >= 64 bytes: bpf_xdp_adjust_head(+4) first
 *              == 3  XDP_TX;   flag 4 and >= 64 bytes: bpf_xdp_adjust_tail(-10) first
 *              == 4  bpf_redirect(flag 2 ? 1 : 7): DPDK port 1, or a port nobody drives
 *              == 5  7, not a verdict
 *
 * engine/tests/test_engine.py computes the expected counters and output
 * captures from the same rules.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int verdicts(struct xdp_md *ctx)
{
	__u8 *data = (void *)(long)ctx->data;
	__u8 *data_end = (void *)(long)ctx->data_end;
	int big = data + 64 <= data_end;
	__u8 sel, flag;

	if (data + 12 > data_end)
		return XDP_PASS;
	sel = data[11] % 6;
	flag = data[10];
	switch (sel) {
	case 0:
		return XDP_ABORTED;
	case 1:
		return XDP_DROP;
	case 2:
		if ((flag & 1) && big && bpf_xdp_adjust_head(ctx, 4))
			return XDP_ABORTED;
		return XDP_PASS;
	case 3:
		if ((flag & 4) && big && bpf_xdp_adjust_tail(ctx, -10))
			return XDP_ABORTED;
		return XDP_TX;
	case 4:
		return bpf_redirect(flag & 2 ? 1 : 7, 0);
	default:
		return 7;
	}
}

char _license[] SEC("license") = "Dual BSD/GPL";
