// SPDX-License-Identifier: BSD-3-Clause
/*
 * ops test program: writes every frame in place (swaps the destination and
 * source MAC addresses), then drops the frames whose length is a multiple
 * of 4 and passes the others. A capture must record the bytes as received
 * (before the swap) and, with --both, as the program left them: the engine
 * has to copy before the program for it (capture.c finds the store).
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int cap_write(struct xdp_md *ctx)
{
	__u8 *data = (void *)(long)ctx->data;
	__u8 *data_end = (void *)(long)ctx->data_end;
	__u8 t;

	if (data + 12 > data_end)
		return XDP_PASS;
	for (int i = 0; i < 6; i++) {
		t = data[i];
		data[i] = data[i + 6];
		data[i + 6] = t;
	}
	return (data_end - data) % 4 == 0 ? XDP_DROP : XDP_PASS;
}

char _license[] SEC("license") = "Dual BSD/GPL";
