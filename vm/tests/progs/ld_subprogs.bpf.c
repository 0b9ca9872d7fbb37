// SPDX-License-Identifier: BSD-3-Clause
/*
 * Loader test: bpf-to-bpf calls. A static and a global subprogram in .text
 * (the global one uses a map and calls the static one), called from two
 * programs sharing the "xdp" section and from a socket filter.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} calls SEC(".maps");

static __attribute__((noinline)) int scale(int x)
{
	return x * 3 + 1;
}

__attribute__((noinline)) int count_and_scale(int x)
{
	__u32 k = x & 3;
	__u64 *v = bpf_map_lookup_elem(&calls, &k);

	if (v)
		(*v)++;
	return scale(x) + 7;
}

SEC("xdp")
int xdp_first(struct xdp_md *ctx)
{
	return count_and_scale(ctx->rx_queue_index) & 3;
}

SEC("xdp")
int xdp_second(struct xdp_md *ctx)
{
	return scale(ctx->ingress_ifindex) & 3;
}

SEC("socket")
int sock_sub(struct __sk_buff *skb)
{
	return count_and_scale(skb->len) + scale(skb->protocol);
}

char LICENSE[] SEC("license") = "GPL";
