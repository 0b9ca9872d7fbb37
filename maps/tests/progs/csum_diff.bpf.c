// SPDX-License-Identifier: BSD-3-Clause
/*
 * bpf_csum_diff driven by the packet, for the kernel differential test
 * (maps/tests/test_csum_kdiff.c). Input: struct req, then 1024 bytes of
 * "from" and 1024 bytes of "to". Output: the helper's 64-bit result in the
 * first 8 bytes of the packet, verdict XDP_TX.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct req {
	__u32 from_size;
	__u32 to_size;
	__u64 seed;
	__u32 mode;   /* 0: both buffers, 1: from NULL, 2: to NULL, 3: both NULL */
	__u32 pad;
};

#define AREA 1024

SEC("xdp")
int csum_diff(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct req *r = data;
	__u8 *from = data + sizeof(*r), *to = from + AREA;
	__u32 fs, ts;
	__s64 res;

	if (data + sizeof(*r) + 2 * AREA > end)
		return XDP_ABORTED;
	fs = r->from_size & (AREA - 1);
	ts = r->to_size & (AREA - 1);
	switch (r->mode) {
	case 1:
		res = bpf_csum_diff(0, 0, (__be32 *)to, ts, r->seed);
		break;
	case 2:
		res = bpf_csum_diff((__be32 *)from, fs, 0, 0, r->seed);
		break;
	case 3:
		res = bpf_csum_diff(0, 0, 0, 0, r->seed);
		break;
	default:
		res = bpf_csum_diff((__be32 *)from, fs, (__be32 *)to, ts, r->seed);
		break;
	}
	*(__s64 *)data = res;
	return XDP_TX;
}

/* NULL with a size that may be nonzero: both verifiers must refuse it. */
SEC("xdp")
int csum_null_size(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	__u32 *p = data;

	if (data + 8 > end)
		return XDP_ABORTED;
	return bpf_csum_diff(0, p[0] & 4, p, 4, 0) ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
