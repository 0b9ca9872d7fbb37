// SPDX-License-Identifier: BSD-3-Clause
/* Section names of pre-1.0 libbpf objects (xdp_stats1, socket1) and a
 * custom one ("prog") that needs --type; an XSKMAP, a CPUMAP and a map
 * declared with max_entries 0 (sized at load time, as xdp-bench's). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u32);
} xsks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_CPUMAP);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, struct bpf_cpumap_val);
} cpus SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
} unsized SEC(".maps");

SEC("xdp_stats1")
int stats1(struct xdp_md *ctx)
{
	__u32 k = ctx->rx_queue_index;
	__u64 *c = bpf_map_lookup_elem(&unsized, &k);

	if (c)
		(*c)++;
	return bpf_redirect_map(&xsks, k, XDP_PASS);
}

SEC("prog")
int custom(struct xdp_md *ctx)
{
	return bpf_redirect_map(&cpus, ctx->rx_queue_index, XDP_DROP);
}

SEC("socket1")
int sock1(struct __sk_buff *skb)
{
	return skb->len;
}

char LICENSE[] SEC("license") = "GPL";
