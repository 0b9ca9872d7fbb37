// SPDX-License-Identifier: BSD-3-Clause
/*
 * Packet size changes in the style of xdp-tutorial's packet02 (VLAN tag
 * pop and push with bpf_xdp_adjust_head) and of snaplen trimmers
 * (bpf_xdp_adjust_tail): an 802.1Q-tagged frame loses its tag; an
 * untagged IPv4 UDP frame gets tag 100 pushed; ICMP frames longer than
 * 98 bytes are cut to 98; UDP frames shorter than 64 bytes are padded to
 * 64 with zero bytes (the tail grows). Data stays bounds-checked after
 * every adjustment, as the verifier demands.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct vlan_hdr {
	__be16 tci;
	__be16 encap_proto;
};

static __always_inline int vlan_pop(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct ethhdr *eth = data, copy;
	struct vlan_hdr *vlh = (void *)(eth + 1);

	if ((void *)(vlh + 1) > data_end)
		return -1;
	__builtin_memcpy(&copy, eth, sizeof(copy));
	copy.h_proto = vlh->encap_proto;
	if (bpf_xdp_adjust_head(ctx, (int)sizeof(*vlh)))
		return -1;
	data_end = (void *)(long)ctx->data_end;
	eth = (void *)(long)ctx->data;
	if ((void *)(eth + 1) > data_end)
		return -1;
	__builtin_memcpy(eth, &copy, sizeof(*eth));
	return 0;
}

static __always_inline int vlan_push(struct xdp_md *ctx, __u16 vid)
{
	struct ethhdr *eth = (void *)(long)ctx->data, copy;
	void *data_end = (void *)(long)ctx->data_end;
	struct vlan_hdr *vlh;

	if ((void *)(eth + 1) > data_end)
		return -1;
	__builtin_memcpy(&copy, eth, sizeof(copy));
	if (bpf_xdp_adjust_head(ctx, 0 - (int)sizeof(*vlh)))
		return -1;
	data_end = (void *)(long)ctx->data_end;
	eth = (void *)(long)ctx->data;
	if ((void *)(eth + 1) > data_end)
		return -1;
	__builtin_memcpy(eth, &copy, sizeof(*eth));
	vlh = (void *)(eth + 1);
	if ((void *)(vlh + 1) > data_end)
		return -1;
	vlh->tci = bpf_htons(vid);
	vlh->encap_proto = eth->h_proto;
	eth->h_proto = bpf_htons(ETH_P_8021Q);
	return 0;
}

SEC("xdp")
int xdp_vlan_edit(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	int len = (int)(ctx->data_end - ctx->data);

	if ((void *)(eth + 1) > data_end)
		return XDP_DROP;
	if (eth->h_proto == bpf_htons(ETH_P_8021Q))
		return vlan_pop(ctx) ? XDP_ABORTED : XDP_PASS;
	if (eth->h_proto != bpf_htons(ETH_P_IP) || (void *)(ip + 1) > data_end)
		return XDP_PASS;
	if (ip->protocol == IPPROTO_ICMP && len > 98)
		return bpf_xdp_adjust_tail(ctx, 98 - len) ? XDP_ABORTED : XDP_TX;
	if (ip->protocol != IPPROTO_UDP)
		return XDP_PASS;
	if (len < 64 && bpf_xdp_adjust_tail(ctx, 64 - len))
		return XDP_ABORTED;
	return vlan_push(ctx, 100) ? XDP_ABORTED : XDP_TX;
}

char _license[] SEC("license") = "GPL";
