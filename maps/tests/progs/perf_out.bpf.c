// SPDX-License-Identifier: BSD-3-Clause
/*
 * bpf_perf_event_output driven by the packet, for the kernel differential
 * test (maps/tests/test_perf_kdiff.c). Input: struct req, then payload.
 * The helper gets flags = req.flags, data = a stack copy of the payload's
 * first req.meta_len (<= 64) bytes. Output: the helper's result in the first 8
 * bytes of the packet, verdict XDP_TX.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} events SEC(".maps");

struct req {
	__u64 flags;
	__u32 meta_len;
	__u32 pad;
};

SEC("xdp")
int perf_out(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct req *r = data;
	__u8 meta[64];
	__u32 n;
	long res;

	if (data + sizeof(*r) + 64 > end)
		return XDP_ABORTED;
	__builtin_memcpy(meta, data + sizeof(*r), sizeof(meta));
	n = r->meta_len & 127;
	if (n > 64)
		n = 64;
	res = bpf_perf_event_output(ctx, &events, r->flags, meta, n);
	*(__s64 *)data = res;
	return XDP_TX;
}

/* data in the packet: the kernel refuses it (no pkt_access), so must sluice */
SEC("xdp")
int perf_pkt_data(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;

	if (data + 8 > end)
		return XDP_ABORTED;
	return bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, data, 8) ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
