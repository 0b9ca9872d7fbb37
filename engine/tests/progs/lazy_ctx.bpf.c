// SPDX-License-Identifier: BSD-3-Clause
/*
 * Engine test programs for the worker's lazy XDP context (worker.c,
 * sl_exec.xdp_ctx): neither calls a helper that takes the context, so the
 * worker fills only what each can observe.
 *
 * lazy_bounds (section xdp/bounds) reads data/data_end (SL_XDP_CTX_BOUNDS): the verdict comes
 * from byte 11 of the frame (random in sl-pcapgen captures), byte 10 is a flag:
 *   byte11 % 8 == 0  XDP_ABORTED
 *              == 1  XDP_DROP
 *              == 3  XDP_TX
 *              == 4  bpf_redirect(flag & 2 ? 1 : 7)
 *              == 5  9, not a verdict
 *   otherwise (and frames shorter than 12 bytes) XDP_PASS
 *
 * lazy_const (section xdp/const) reads no packet pointer (SL_XDP_CTX_CONST): the verdict comes
 * from the count c (0, 1, ...) of frames it has seen, kept in .bss, and
 * ingress_ifindex (0 here: the test sends on DPDK port 0 only):
 *   c / 64 odd: XDP_PASS (whole bursts of passes)
 *   else c % 8 == 4  XDP_DROP,  == 5  XDP_TX,  == 6  bpf_redirect(1),
 *        == 7  9 (not a verdict), otherwise XDP_PASS
 *   ingress_ifindex != 0: XDP_DROP
 *
 * engine/tests/test_engine.py (case lazy) computes the expected counters and
 * output captures from the same rules.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

__u64 seen;

SEC("xdp/bounds")
int lazy_bounds(struct xdp_md *ctx)
{
	__u8 *data = (void *)(long)ctx->data;
	__u8 *data_end = (void *)(long)ctx->data_end;

	if (data + 12 > data_end)
		return XDP_PASS;
	switch (data[11] % 8) {
	case 0:
		return XDP_ABORTED;
	case 1:
		return XDP_DROP;
	case 3:
		return XDP_TX;
	case 4:
		return bpf_redirect(data[10] & 2 ? 1 : 7, 0);
	case 5:
		return 9;
	default:
		return XDP_PASS;
	}
}

SEC("xdp/const")
int lazy_const(struct xdp_md *ctx)
{
	__u64 c = seen++;

	if (ctx->ingress_ifindex != 0)
		return XDP_DROP;
	if ((c / 64) & 1)
		return XDP_PASS;
	switch (c % 8) {
	case 4:
		return XDP_DROP;
	case 5:
		return XDP_TX;
	case 6:
		return bpf_redirect(1, 0);
	case 7:
		return 9;
	default:
		return XDP_PASS;
	}
}

char _license[] SEC("license") = "Dual BSD/GPL";
