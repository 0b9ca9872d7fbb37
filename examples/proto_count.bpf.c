// SPDX-License-Identifier: BSD-3-Clause
/*
 * proto_count: count packets per IP protocol number, per worker core.
 *
 * For every Ethernet frame, optionally behind one 802.1Q VLAN tag (0x8100):
 *   IPv4 (0x0800): slot = the protocol field of the fixed header;
 *   IPv6 (0x86DD): slot = the next-header field of the fixed header
 *                  (extension headers are not followed: a hop-by-hop header
 *                  counts in slot 0).
 * A packet is counted only when its captured bytes hold the whole fixed IP
 * header (20 bytes for IPv4, 40 for IPv6). Non-IP frames (ARP, ...) and
 * truncated IP headers are not counted in any slot. Every packet is passed
 * (XDP_PASS) unchanged.
 *
 * The same object loads into the Linux kernel's XDP hook unmodified.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

/* 802.1Q tag following the source MAC: TCI, then the inner EtherType. */
struct vlan_tag {
	__be16 tci;
	__be16 inner_proto;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, __u64);
} proto_count SEC(".maps");

/* Protocol number of the packet in [data, data_end), or -1 if none. */
static __always_inline int ip_proto(void *data, void *data_end)
{
	struct ethhdr *eth = data;
	void *l3 = eth + 1;
	__u16 proto;

	if (l3 > data_end)
		return -1;
	proto = eth->h_proto;
	if (proto == bpf_htons(ETH_P_8021Q)) {
		struct vlan_tag *tag = l3;

		if ((void *)(tag + 1) > data_end)
			return -1;
		proto = tag->inner_proto;
		l3 = tag + 1;
	}
	if (proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = l3;

		if ((void *)(ip + 1) > data_end)
			return -1;
		return ip->protocol;
	}
	if (proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = l3;

		if ((void *)(ip6 + 1) > data_end)
			return -1;
		return ip6->nexthdr;
	}
	return -1;
}

SEC("xdp")
int proto_count_prog(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	int proto = ip_proto(data, data_end);
	__u32 key;
	__u64 *count;

	if (proto < 0)
		return XDP_PASS;
	key = proto;
	count = bpf_map_lookup_elem(&proto_count, &key);
	if (count)
		*count += 1;
	return XDP_PASS;
}

char _license[] SEC("license") = "Dual BSD/GPL";
