// SPDX-License-Identifier: BSD-3-Clause
/*
 * Inline source-address blocklist: an XDP program for two ports wired to
 * each other (examples/blocklist.yaml). Frames from an IPv4 source inside
 * a prefix of block4, or an IPv6 source inside a prefix of block6, are
 * dropped; every other frame passes (to the other port). Both tries are
 * filled before traffic starts from preload files ("10.0.0.0/8 1" per
 * line; the value, a rule number, is for the reader of a map dump).
 *
 * counters (per-CPU, summed by the control thread): [0] passed,
 * [1] dropped IPv4, [2] dropped IPv6. One VLAN tag is skipped.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

struct lpm_v4 {
	__u32 prefixlen;
	__u8 addr[4];
};

struct lpm_v6 {
	__u32 prefixlen;
	__u8 addr[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 4096);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct lpm_v4);
	__type(value, __u32);
} block4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 4096);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct lpm_v6);
	__type(value, __u32);
} block6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 3);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

static __always_inline int count(__u32 slot, int verdict)
{
	__u64 *n = bpf_map_lookup_elem(&counters, &slot);

	if (n)
		*n += 1;
	return verdict;
}

SEC("xdp")
int blocklist(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	__u16 proto;
	void *l3;

	if ((void *)(eth + 1) > data_end)
		return count(0, XDP_PASS);
	proto = eth->h_proto;
	l3 = eth + 1;
	if (proto == bpf_htons(ETH_P_8021Q)) {
		if (l3 + 4 > data_end)
			return count(0, XDP_PASS);
		proto = *(__u16 *)(l3 + 2);
		l3 += 4;
	}
	if (proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = l3;
		struct lpm_v4 key = { .prefixlen = 32 };

		if ((void *)(ip + 1) > data_end)
			return count(0, XDP_PASS);
		__builtin_memcpy(key.addr, &ip->saddr, 4);
		if (bpf_map_lookup_elem(&block4, &key))
			return count(1, XDP_DROP);
	} else if (proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = l3;
		struct lpm_v6 key = { .prefixlen = 128 };

		if ((void *)(ip6 + 1) > data_end)
			return count(0, XDP_PASS);
		__builtin_memcpy(key.addr, &ip6->saddr, 16);
		if (bpf_map_lookup_elem(&block6, &key))
			return count(2, XDP_DROP);
	}
	return count(0, XDP_PASS);
}

char _license[] SEC("license") = "Dual BSD/GPL";
