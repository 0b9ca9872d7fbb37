// SPDX-License-Identifier: BSD-3-Clause
/*
 * An inline firewall in the style of public XDP firewalls: an LPM_TRIE
 * blocklist of IPv4 source prefixes and one of IPv6 source prefixes, each
 * prefix carrying a rule number; an exact HASH of blocked (protocol,
 * destination port); per-rule packet and byte counters in a PERCPU_ARRAY
 * and a global verdict counter updated with atomics. One 802.1Q tag is
 * followed.
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

#define MAX_RULES 64

struct lpm_v4 {
	__u32 prefixlen;
	__u32 addr;
};

struct lpm_v6 {
	__u32 prefixlen;
	__u8 addr[16];
};

struct port_key {
	__u8 proto;
	__u8 pad;
	__u16 port;  /* network order */
};

struct counter {
	__u64 packets;
	__u64 bytes;
};

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 1024);
	__type(key, struct lpm_v4);
	__type(value, __u32);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} block_v4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 1024);
	__type(key, struct lpm_v6);
	__type(value, __u32);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} block_v6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, struct port_key);
	__type(value, __u32);
} block_ports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, MAX_RULES);
	__type(key, __u32);
	__type(value, struct counter);
} rule_hits SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} verdicts SEC(".maps");

static __always_inline int hit(__u32 rule, __u64 len)
{
	struct counter *c;
	__u32 key = rule < MAX_RULES ? rule : 0;

	c = bpf_map_lookup_elem(&rule_hits, &key);
	if (c) {
		c->packets += 1;
		c->bytes += len;
	}
	return XDP_DROP;
}

static __always_inline int verdict(int v)
{
	__u32 key = (__u32)v & 3;
	__u64 *n = bpf_map_lookup_elem(&verdicts, &key);

	if (n)
		__sync_fetch_and_add(n, 1);
	return v;
}

static __always_inline int check_l4(void *l4, void *data_end, __u8 proto, __u64 len)
{
	struct port_key pk = { .proto = proto };
	__u32 *rule;

	if (proto == IPPROTO_TCP) {
		struct tcphdr *tcp = l4;

		if ((void *)(tcp + 1) > data_end)
			return XDP_DROP;
		pk.port = tcp->dest;
	} else if (proto == IPPROTO_UDP) {
		struct udphdr *udp = l4;

		if ((void *)(udp + 1) > data_end)
			return XDP_DROP;
		pk.port = udp->dest;
	} else {
		return XDP_PASS;
	}
	rule = bpf_map_lookup_elem(&block_ports, &pk);
	return rule ? hit(*rule, len) : XDP_PASS;
}

SEC("xdp")
int xdp_firewall(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct ethhdr *eth = data;
	__u64 len = ctx->data_end - ctx->data;
	void *l3 = eth + 1;
	__u16 proto;
	__u32 *rule;

	if (l3 > data_end)
		return verdict(XDP_DROP);
	proto = eth->h_proto;
	if (proto == bpf_htons(ETH_P_8021Q)) {
		__be16 *inner = l3 + 2;

		if ((void *)(inner + 1) > data_end)
			return verdict(XDP_DROP);
		proto = *inner;
		l3 += 4;
	}
	if (proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = l3;
		struct lpm_v4 k = { .prefixlen = 32 };

		if ((void *)(ip + 1) > data_end || ip->ihl < 5)
			return verdict(XDP_DROP);
		k.addr = ip->saddr;
		rule = bpf_map_lookup_elem(&block_v4, &k);
		if (rule)
			return verdict(hit(*rule, len));
		return verdict(check_l4(l3 + ip->ihl * 4, data_end, ip->protocol, len));
	}
	if (proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = l3;
		struct lpm_v6 k = { .prefixlen = 128 };

		if ((void *)(ip6 + 1) > data_end)
			return verdict(XDP_DROP);
		__builtin_memcpy(k.addr, &ip6->saddr, 16);
		rule = bpf_map_lookup_elem(&block_v6, &k);
		if (rule)
			return verdict(hit(*rule, len));
		return verdict(check_l4(ip6 + 1, data_end, ip6->nexthdr, len));
	}
	return verdict(XDP_PASS);
}

char _license[] SEC("license") = "GPL";
