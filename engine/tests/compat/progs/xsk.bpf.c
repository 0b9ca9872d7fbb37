// SPDX-License-Identifier: BSD-3-Clause
/*
 * AF_XDP-style redirect (after the XDP tutorial's af_xdp_kern.c and
 * libxdp's default XSK program): every other packet of a queue goes to
 * the AF_XDP socket of that queue in xsks_map, if one is bound, else
 * passes; a per-CPU counter per queue decides. A second program redirects
 * with XDP_PASS as the fallback verdict of bpf_redirect_map (libxdp's
 * 5.3+ variant). In sluice an XSKMAP entry names a port.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u32);
} xsks_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u32);
} xdp_stats_map SEC(".maps");

SEC("xdp")
int xdp_sock_prog(struct xdp_md *ctx)
{
	__u32 index = ctx->rx_queue_index;
	__u32 *pkt_count = bpf_map_lookup_elem(&xdp_stats_map, &index);

	if (pkt_count && (*pkt_count)++ & 1)
		return XDP_PASS;
	if (bpf_map_lookup_elem(&xsks_map, &index))
		return bpf_redirect_map(&xsks_map, index, 0);
	return XDP_PASS;
}

SEC("xdp")
int xdp_sock_fallback(struct xdp_md *ctx)
{
	return bpf_redirect_map(&xsks_map, ctx->rx_queue_index, XDP_PASS);
}

char LICENSE[] SEC("license") = "GPL";
