// SPDX-License-Identifier: BSD-3-Clause
/*
 * Forwarding in the style of xdp-tutorial's redirect lessons: UDP frames
 * go out of the port a DEVMAP holds for (destination port & 3), falling
 * back to XDP_PASS when that slot is empty (the action in the flags'
 * low bits, as the kernel defines it); TCP frames are redirected to
 * ifindex 1 with bpf_redirect; the MACs are swapped first. The return
 * value (XDP_REDIRECT or the fallback) is compared with the kernel's.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/in.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u32);
} tx_ports SEC(".maps");

SEC("xdp")
int xdp_redirect_ports(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	unsigned char tmp[ETH_ALEN];

	if ((void *)(ip + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP) || ip->ihl != 5)
		return XDP_PASS;
	__builtin_memcpy(tmp, eth->h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, eth->h_source, ETH_ALEN);
	__builtin_memcpy(eth->h_source, tmp, ETH_ALEN);
	if (ip->protocol == IPPROTO_UDP) {
		struct udphdr *udp = (void *)(ip + 1);

		if ((void *)(udp + 1) > data_end)
			return XDP_DROP;
		return bpf_redirect_map(&tx_ports, bpf_ntohs(udp->dest) & 3, XDP_PASS);
	}
	if (ip->protocol == IPPROTO_TCP)
		return bpf_redirect(1, 0);
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
