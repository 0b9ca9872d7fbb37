// SPDX-License-Identifier: BSD-3-Clause
/*
 * Packet parsing in the style of xdp-tutorial's parsing_helpers.h: a stack
 * of up to 4 VLAN tags (802.1Q / 802.1ad) walked in a bounded loop, IPv6
 * extension headers (hop-by-hop, routing, destination options, fragment,
 * AH) walked in a bounded loop, IPv4 with options, then TCP/UDP/ICMP.
 * Counts packets and bytes per (L4 protocol) and per L4 offset; drops
 * ICMP(v6) echo requests and IPv4/IPv6 fragments that are not the first,
 * passes the rest.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/in.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define VLAN_MAX 4
#define EXTHDR_MAX 6

struct hdr_cursor {
	void *pos;
};

struct vlan_hdr {
	__be16 tci;
	__be16 encap_proto;
};

struct frag_hdr {
	__u8 nexthdr;
	__u8 reserved;
	__be16 frag_off;
	__be32 id;
};

/* <linux/icmp.h> pulls in libc headers; the two fields needed here */
struct icmp_hdr {
	__u8 type;
	__u8 code;
	__sum16 checksum;
	__be32 rest;
};

#define ICMP_ECHO 8
#define ICMPV6_ECHO_REQUEST 128

struct stat {  /* packets, and header bytes before L4 */
	__u64 packets;
	__u64 bytes;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, struct stat);
} proto_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 128);
	__type(key, __u32);
	__type(value, __u64);
} l4_offsets SEC(".maps");

static __always_inline int proto_is_vlan(__u16 h_proto)
{
	return h_proto == bpf_htons(ETH_P_8021Q) || h_proto == bpf_htons(ETH_P_8021AD);
}

static __always_inline int parse_ethhdr(struct hdr_cursor *nh, void *data_end, __u16 *vids)
{
	struct ethhdr *eth = nh->pos;
	struct vlan_hdr *vlh;
	__u16 h_proto;
	int i;

	if ((void *)(eth + 1) > data_end)
		return -1;
	nh->pos = eth + 1;
	vlh = nh->pos;
	h_proto = eth->h_proto;
#pragma unroll
	for (i = 0; i < VLAN_MAX; i++) {
		if (!proto_is_vlan(h_proto))
			break;
		if ((void *)(vlh + 1) > data_end)
			break;
		h_proto = vlh->encap_proto;
		vids[i] = bpf_ntohs(vlh->tci) & 0x0fff;
		vlh++;
	}
	nh->pos = vlh;
	return h_proto;
}

static __always_inline int parse_iphdr(struct hdr_cursor *nh, void *data_end, int *frag)
{
	struct iphdr *iph = nh->pos;
	int hdrsize;

	if ((void *)(iph + 1) > data_end)
		return -1;
	hdrsize = iph->ihl * 4;
	if (hdrsize < (int)sizeof(*iph))
		return -1;
	if (nh->pos + hdrsize > data_end)
		return -1;
	*frag = (iph->frag_off & bpf_htons(0x1fff)) != 0;
	nh->pos += hdrsize;
	return iph->protocol;
}

static __always_inline int skip_ip6hdrext(struct hdr_cursor *nh, void *data_end, __u8 next_hdr,
					  int *frag)
{
	for (int i = 0; i < EXTHDR_MAX; ++i) {
		struct ipv6_opt_hdr *hdr = nh->pos;

		if ((void *)(hdr + 1) > data_end)
			return -1;
		switch (next_hdr) {
		case IPPROTO_HOPOPTS:
		case IPPROTO_DSTOPTS:
		case IPPROTO_ROUTING:
		case IPPROTO_MH:
			nh->pos = (char *)hdr + (hdr->hdrlen + 1) * 8;
			next_hdr = hdr->nexthdr;
			break;
		case IPPROTO_AH:
			nh->pos = (char *)hdr + (hdr->hdrlen + 2) * 4;
			next_hdr = hdr->nexthdr;
			break;
		case IPPROTO_FRAGMENT: {
			struct frag_hdr *fh = nh->pos;

			if ((void *)(fh + 1) > data_end)
				return -1;
			*frag = (fh->frag_off & bpf_htons(0xfff8)) != 0;
			nh->pos = (char *)hdr + 8;
			next_hdr = hdr->nexthdr;
			break;
		}
		default:
			return next_hdr;
		}
	}
	return -1;
}

static __always_inline int parse_ip6hdr(struct hdr_cursor *nh, void *data_end, int *frag)
{
	struct ipv6hdr *ip6h = nh->pos;

	if ((void *)(ip6h + 1) > data_end)
		return -1;
	nh->pos = ip6h + 1;
	return skip_ip6hdrext(nh, data_end, ip6h->nexthdr, frag);
}

static __always_inline void count(__u32 proto, __u64 len, __u32 l4off)
{
	struct stat *st = bpf_map_lookup_elem(&proto_stats, &proto);
	__u64 *n;

	if (st) {
		st->packets++;
		st->bytes += len;
	}
	l4off &= 127;
	n = bpf_map_lookup_elem(&l4_offsets, &l4off);
	if (n)
		__sync_fetch_and_add(n, 1);
}

SEC("xdp")
int xdp_parse(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct hdr_cursor nh = { .pos = data };
	__u16 vids[VLAN_MAX] = { 0 };
	int eth_type, proto = -1, frag = 0;
	__u32 l4off;

	eth_type = parse_ethhdr(&nh, data_end, vids);
	if (eth_type == bpf_htons(ETH_P_IP))
		proto = parse_iphdr(&nh, data_end, &frag);
	else if (eth_type == bpf_htons(ETH_P_IPV6))
		proto = parse_ip6hdr(&nh, data_end, &frag);
	else
		return XDP_PASS;
	if (proto < 0)
		return XDP_ABORTED;
	l4off = (__u32)(nh.pos - data);
	count((__u32)proto, l4off, l4off + vids[0] + vids[1]);
	if (frag)
		return XDP_DROP;
	if (proto == IPPROTO_ICMP) {
		struct icmp_hdr *icmp = nh.pos;

		if ((void *)(icmp + 1) <= data_end && icmp->type == ICMP_ECHO)
			return XDP_DROP;
	} else if (proto == IPPROTO_ICMPV6) {
		struct icmp_hdr *icmp6 = nh.pos;

		if ((void *)(icmp6 + 1) <= data_end && icmp6->type == ICMPV6_ECHO_REQUEST)
			return XDP_DROP;
	} else if (proto == IPPROTO_TCP) {
		struct tcphdr *tcp = nh.pos;

		if ((void *)(tcp + 1) > data_end)
			return XDP_ABORTED;
		if (tcp->doff < 5)
			return XDP_DROP;
	} else if (proto == IPPROTO_UDP) {
		struct udphdr *udp = nh.pos;

		if ((void *)(udp + 1) > data_end)
			return XDP_ABORTED;
	}
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
