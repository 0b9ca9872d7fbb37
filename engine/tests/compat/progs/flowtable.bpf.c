// SPDX-License-Identifier: BSD-3-Clause
/*
 * A flow table in the style of public XDP flow monitors: IPv4 and IPv6
 * TCP/UDP 5-tuples in an LRU_HASH with packet and byte counts and TCP
 * flags seen; first/last time stamps (bpf_ktime_get_ns) in a second
 * LRU_HASH (`nd_` prefix: its values differ between runs by nature). A
 * SYN-flood guard counts SYNs without ACK per source address and drops a
 * source's SYNs past a limit; a flow that saw a RST is deleted.
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

#define SYN_LIMIT 3

struct flow_key {
	__u8 saddr[16];
	__u8 daddr[16];
	__be16 sport;
	__be16 dport;
	__u8 proto;
	__u8 family;
	__u16 pad;
};

struct flow_stats {
	__u64 packets;
	__u64 bytes;
	__u32 tcp_flags;
	__u32 pad;
};

struct flow_times {
	__u64 first_ns;
	__u64 last_ns;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, struct flow_key);
	__type(value, struct flow_stats);
} flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, struct flow_key);
	__type(value, struct flow_times);
} nd_flow_times SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, __u32);
} syn_count SEC(".maps");

static __always_inline int syn_guard(__u32 src)
{
	__u32 one = 1, *n = bpf_map_lookup_elem(&syn_count, &src);

	if (!n) {
		bpf_map_update_elem(&syn_count, &src, &one, BPF_NOEXIST);
		return 0;
	}
	if (*n >= SYN_LIMIT)
		return 1;
	__sync_fetch_and_add(n, 1);
	return 0;
}

static __always_inline void account(struct flow_key *k, __u64 len, __u32 flags)
{
	struct flow_stats *st = bpf_map_lookup_elem(&flows, k), init = { 0 };
	struct flow_times *t = bpf_map_lookup_elem(&nd_flow_times, k);
	__u64 now = bpf_ktime_get_ns();

	if (!st) {
		init.packets = 1;
		init.bytes = len;
		init.tcp_flags = flags;
		bpf_map_update_elem(&flows, k, &init, BPF_ANY);
	} else {
		__sync_fetch_and_add(&st->packets, 1);
		__sync_fetch_and_add(&st->bytes, len);
		st->tcp_flags |= flags;
	}
	if (t) {
		t->last_ns = now;
	} else {
		struct flow_times nt = { .first_ns = now, .last_ns = now };

		bpf_map_update_elem(&nd_flow_times, k, &nt, BPF_ANY);
	}
}

SEC("xdp")
int xdp_flowtable(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct ethhdr *eth = data;
	struct flow_key k = { 0 };
	__u64 len = ctx->data_end - ctx->data;
	__u32 flags = 0, src4 = 0;
	void *l4;

	if ((void *)(eth + 1) > data_end)
		return XDP_DROP;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);

		if ((void *)(ip + 1) > data_end)
			return XDP_DROP;
		__builtin_memcpy(k.saddr, &ip->saddr, 4);
		__builtin_memcpy(k.daddr, &ip->daddr, 4);
		src4 = ip->saddr;
		k.proto = ip->protocol;
		k.family = 4;
		l4 = (void *)ip + ip->ihl * 4;
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		if ((void *)(ip6 + 1) > data_end)
			return XDP_DROP;
		__builtin_memcpy(k.saddr, &ip6->saddr, 16);
		__builtin_memcpy(k.daddr, &ip6->daddr, 16);
		k.proto = ip6->nexthdr;
		k.family = 6;
		l4 = ip6 + 1;
	} else {
		return XDP_PASS;
	}
	if (k.proto == IPPROTO_TCP) {
		struct tcphdr *tcp = l4;

		if ((void *)(tcp + 1) > data_end)
			return XDP_DROP;
		k.sport = tcp->source;
		k.dport = tcp->dest;
		flags = ((__u8 *)tcp)[13];
		if (tcp->syn && !tcp->ack && k.family == 4 && syn_guard(src4))
			return XDP_DROP;
		if (tcp->rst) {
			bpf_map_delete_elem(&flows, &k);
			bpf_map_delete_elem(&nd_flow_times, &k);
			return XDP_PASS;
		}
	} else if (k.proto == IPPROTO_UDP) {
		struct udphdr *udp = l4;

		if ((void *)(udp + 1) > data_end)
			return XDP_DROP;
		k.sport = udp->source;
		k.dport = udp->dest;
	}
	account(&k, len, flags);
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
