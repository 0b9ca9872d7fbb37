// SPDX-License-Identifier: BSD-3-Clause
/*
 * Helper return values against the kernel: bpf_csum_diff (the raw 32-bit
 * sum, before folding, with and without a seed, of 4 to 40 bytes, and the
 * folded form load balancers use), bpf_xdp_load_bytes / bpf_xdp_store_bytes
 * at offsets and lengths taken from the packet (in and out of bounds),
 * bpf_xdp_get_buff_len. Every result is written into the packet (bytes
 * 14.. of the output), so the kernel's output packet checks them all.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>

struct out {
	__u32 diff_ip;
	__u32 diff_seed;
	__u32 diff_swap;
	__u16 folded;
	__u16 pad;
	__s32 load_ret;
	__u32 loaded;
	__s32 store_ret;
	__u32 buff_len;
};

static __always_inline __u16 fold(__u32 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

SEC("xdp")
int xdp_helpers(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct out *o = data + 14;
	struct out r = { 0 };
	__u32 hdr[10], a[2], b[2];
	__u32 off, len, v = 0xdeadbeef;

	if ((void *)(o + 1) > data_end || (void *)(data + 14 + 40) > data_end)
		return XDP_PASS;
	__builtin_memcpy(hdr, data + 14, sizeof(hdr));
	a[0] = hdr[3];
	a[1] = hdr[4];
	b[0] = hdr[4];
	b[1] = hdr[3];
	r.diff_ip = (__u32)bpf_csum_diff(0, 0, hdr, sizeof(hdr), 0);
	r.diff_seed = (__u32)bpf_csum_diff(a, 4, b, 4, hdr[5]);
	r.diff_swap = (__u32)bpf_csum_diff(a, sizeof(a), b, sizeof(b), ~hdr[2]);
	r.folded = fold(r.diff_ip);
	/* offset and length from the packet: some land past its end */
	off = ((__u8 *)data)[6] & 0x7f;
	len = (((__u8 *)data)[7] & 3) + 1;
	r.load_ret = (__s32)bpf_xdp_load_bytes(ctx, off, a, len);
	/* on failure the kernel leaves the buffer as it was, sluice zeroes it
	 * (the verifier counts it as written): read it only on success */
	r.loaded = r.load_ret == 0 ? a[0] : 0;
	r.store_ret = (__s32)bpf_xdp_store_bytes(ctx, off + 8, &v, len);
	r.buff_len = (__u32)bpf_xdp_get_buff_len(ctx);
	/* the packet may have been written: bounds again */
	data_end = (void *)(long)ctx->data_end;
	data = (void *)(long)ctx->data;
	o = data + 14;
	if ((void *)(o + 1) > data_end)
		return XDP_ABORTED;
	__builtin_memcpy(o, &r, sizeof(r));
	return XDP_TX;
}

char _license[] SEC("license") = "GPL";
