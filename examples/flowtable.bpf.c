// SPDX-License-Identifier: BSD-3-Clause
/*
 * flowtable: per-flow packets, bytes, first and last seen, in an LRU_HASH.
 *
 * For every IPv4 or IPv6 packet (behind at most one 802.1Q tag; the whole
 * fixed IP header captured) the flow key is the 5-tuple:
 *   family 4 or 6; protocol (IPv4 protocol / IPv6 next header, extension
 *   headers not followed); source and destination address (IPv4 in the
 *   first 4 bytes of the 16, the other 12 zero); source and destination
 *   port (host order) for TCP and UDP when the 4 port bytes were captured
 *   (IPv4: after IHL*4 bytes, first fragment only), 0 otherwise.
 * The value adds 1 packet and the frame's bytes (data_end - data) and sets
 * last_seen_ns; first_seen_ns is set when the flow is created. Times are
 * bpf_ktime_get_ns() (CLOCK_MONOTONIC). Every packet passes (XDP_PASS); a
 * frame that is not IP is passed without an entry.
 *
 * The map is shared by all workers: packets and bytes are atomic adds, so
 * no count is lost when two workers see the same flow; when the table is
 * full the least recently used flows are evicted (raise max_entries when
 * flows go missing). The per-CPU array flow_stats counts
 * slot 0 packets accounted to a flow, slot 1 flows created, slot 2 creations
 * that failed (table busy). The object loads into the kernel unmodified.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct vlan_tag {
	__be16 tci;
	__be16 inner_proto;
};

struct flow_key {
	__u8 family;   /* 4 or 6 */
	__u8 proto;
	__u16 sport;   /* host order; 0 when the protocol has no ports */
	__u16 dport;
	__u16 pad;
	__u8 saddr[16];
	__u8 daddr[16];
};

struct flow_value {
	__u64 packets;
	__u64 bytes;
	__u64 first_seen_ns;
	__u64 last_seen_ns;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct flow_key);
	__type(value, struct flow_value);
} flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 3);
	__type(key, __u32);
	__type(value, __u64);
} flow_stats SEC(".maps");

static __always_inline void count(__u32 slot)
{
	__u64 *v = bpf_map_lookup_elem(&flow_stats, &slot);

	if (v)
		*v += 1;
}

static __always_inline void ports(struct flow_key *k, void *l4, void *data_end)
{
	__be16 *p = l4;

	if (k->proto != IPPROTO_TCP && k->proto != IPPROTO_UDP)
		return;
	if ((void *)(p + 2) > data_end)
		return;
	k->sport = bpf_ntohs(p[0]);
	k->dport = bpf_ntohs(p[1]);
}

/* Fill @k from the packet; 0 when it is an IP packet. */
static __always_inline int flow_of(void *data, void *data_end, struct flow_key *k)
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
		k->family = 4;
		k->proto = ip->protocol;
		__builtin_memcpy(k->saddr, &ip->saddr, 4);
		__builtin_memcpy(k->daddr, &ip->daddr, 4);
		if (ip->ihl >= 5 && !(ip->frag_off & bpf_htons(0x1fff)))
			ports(k, (void *)ip + ip->ihl * 4, data_end);
		return 0;
	}
	if (proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = l3;

		if ((void *)(ip6 + 1) > data_end)
			return -1;
		k->family = 6;
		k->proto = ip6->nexthdr;
		__builtin_memcpy(k->saddr, &ip6->saddr, 16);
		__builtin_memcpy(k->daddr, &ip6->daddr, 16);
		ports(k, ip6 + 1, data_end);
		return 0;
	}
	return -1;
}

SEC("xdp")
int flowtable(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u64 bytes = data_end - data, now;
	struct flow_key k = {};
	struct flow_value *v;

	if (flow_of(data, data_end, &k))
		return XDP_PASS;
	now = bpf_ktime_get_ns();
	v = bpf_map_lookup_elem(&flows, &k);
	if (!v) {
		struct flow_value nv = { 1, bytes, now, now };

		if (bpf_map_update_elem(&flows, &k, &nv, BPF_NOEXIST) == 0) {
			count(0);
			count(1);
			return XDP_PASS;
		}
		/* Another worker created it meanwhile (or the table is busy). */
		v = bpf_map_lookup_elem(&flows, &k);
		if (!v) {
			count(2);
			return XDP_PASS;
		}
	}
	__sync_fetch_and_add(&v->packets, 1);
	__sync_fetch_and_add(&v->bytes, bytes);
	if (now > v->last_seen_ns)
		v->last_seen_ns = now;
	count(0);
	return XDP_PASS;
}

char _license[] SEC("license") = "Dual BSD/GPL";
