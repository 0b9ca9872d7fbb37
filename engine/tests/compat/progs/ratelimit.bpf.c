// SPDX-License-Identifier: BSD-3-Clause
/*
 * A per-source packet limiter and flow accounting in the style of public
 * XDP DDoS filters, written the way many of them are: values are read,
 * changed in a copy on the stack and written back with
 * bpf_map_update_elem(BPF_ANY) on every packet (no in-place atomics), so
 * each packet makes three hash-map updates of existing keys:
 *   src_count    HASH, IPv4 source -> packets seen; a source past LIMIT
 *                packets is dropped (a count, not a time window, so that
 *                verdicts do not depend on the clock)
 *   flow_bytes   HASH, IPv4 5-tuple -> {packets, bytes}
 *   nd_last_seen LRU_HASH, the same 5-tuple -> {bpf_ktime_get_ns(), length}
 *                (time stamps: compared by key only)
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/in.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define LIMIT 100000

struct flow4 {
	__be32 saddr;
	__be32 daddr;
	__be16 sport;
	__be16 dport;
	__u8 proto;
	__u8 pad[3];
};

struct counts {
	__u64 packets;
	__u64 bytes;
};

struct seen {
	__u64 ns;
	__u64 len;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, __u64);
} src_count SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8192);
	__type(key, struct flow4);
	__type(value, struct counts);
} flow_bytes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, struct flow4);
	__type(value, struct seen);
} nd_last_seen SEC(".maps");

SEC("xdp")
int xdp_ratelimit(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	struct flow4 k = { 0 };
	struct counts c = { 0 }, *cp;
	struct seen s;
	__u64 n = 0, *np, len = data_end - data;
	__u32 src;

	if ((void *)(ip + 1) > data_end)
		return XDP_DROP;
	if (eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	src = ip->saddr;
	np = bpf_map_lookup_elem(&src_count, &src);
	if (np)
		n = *np;
	n++;
	bpf_map_update_elem(&src_count, &src, &n, BPF_ANY);
	if (n > LIMIT)
		return XDP_DROP;
	k.saddr = ip->saddr;
	k.daddr = ip->daddr;
	k.proto = ip->protocol;
	if (ip->protocol == IPPROTO_TCP || ip->protocol == IPPROTO_UDP) {
		__be16 *ports = (void *)ip + ip->ihl * 4;

		if ((void *)(ports + 2) > data_end)
			return XDP_DROP;
		k.sport = ports[0];
		k.dport = ports[1];
	}
	cp = bpf_map_lookup_elem(&flow_bytes, &k);
	if (cp)
		c = *cp;
	c.packets++;
	c.bytes += len;
	bpf_map_update_elem(&flow_bytes, &k, &c, BPF_ANY);
	s.ns = bpf_ktime_get_ns();
	s.len = len;
	bpf_map_update_elem(&nd_last_seen, &k, &s, BPF_ANY);
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
