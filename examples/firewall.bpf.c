// SPDX-License-Identifier: BSD-3-Clause
/*
 * firewall: an inline XDP filter with source blocklists and port allow rules.
 *
 * For every Ethernet frame, behind at most one 802.1Q tag (0x8100):
 *   1. shorter than an Ethernet header (or tag)       -> DROP, reason malformed
 *   2. not IPv4/IPv6 (ARP, LLDP, ...)                  -> PASS
 *   3. IPv4 with fewer than 20 captured header bytes,
 *      or IHL < 5; IPv6 with fewer than 40            -> DROP, reason malformed
 *   4. source address inside a prefix of blocklist_v4 /
 *      blocklist_v6 (LPM_TRIE, longest match)          -> DROP, reason blocked_v4/v6
 *   5. TCP (6) or UDP (17) (IPv4 protocol, IPv6 next header; IPv6 extension
 *      headers are not followed, so they are "other protocols"):
 *      - IPv4 fragment other than the first (offset != 0) -> DROP, reason fragment
 *      - fewer than 4 captured L4 bytes (the ports)       -> DROP, reason malformed
 *      - {proto, destination port} not in allow_ports     -> DROP, reason port
 *   6. everything else (ICMP, allowed TCP/UDP, ...)        -> PASS
 *
 * Drops are counted per reason in the per-CPU array fw_stats (one slot per
 * worker, summed by the control thread): 0 blocked_v4, 1 blocked_v6,
 * 2 port, 3 malformed, 4 fragment. Passed packets are counted in slot 5.
 *
 * Operators fill the maps from preload files (config `maps:`) and edit them
 * live with `sluice ctl map update/delete` (see examples/firewall.yaml):
 *   blocklist_v4: "10.0.0.0/8" lines   blocklist_v6: "2001:db8::/32" lines
 *   allow_ports:  "{proto: 6, port: 443}" lines (port in host order)
 * The object loads into the Linux kernel's XDP hook unmodified.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

enum fw_reason {
	FW_BLOCKED_V4 = 0,
	FW_BLOCKED_V6 = 1,
	FW_PORT = 2,
	FW_MALFORMED = 3,
	FW_FRAGMENT = 4,
	FW_PASSED = 5,
	FW_NSLOTS = 6,
};

struct vlan_tag {
	__be16 tci;
	__be16 inner_proto;
};

/* struct bpf_lpm_trie_key layout: prefix length, then the address bytes. */
struct lpm_v4_key {
	__u32 prefixlen;
	__u8 addr[4];
};

struct lpm_v6_key {
	__u32 prefixlen;
	__u8 addr[16];
};

/* One allow rule: protocol (6 TCP, 17 UDP) and destination port (host order). */
struct allow_key {
	__u8 proto;
	__u8 pad;
	__u16 port;
};

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 65536);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct lpm_v4_key);
	__type(value, __u32);
} blocklist_v4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 65536);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct lpm_v6_key);
	__type(value, __u32);
} blocklist_v6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct allow_key);
	__type(value, __u32);
} allow_ports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, FW_NSLOTS);
	__type(key, __u32);
	__type(value, __u64);
} fw_stats SEC(".maps");

static __always_inline int count(__u32 slot, int verdict)
{
	__u64 *n = bpf_map_lookup_elem(&fw_stats, &slot);

	if (n)
		*n += 1;
	return verdict;
}

/* Step 5: the ports of a TCP/UDP header at l4. */
static __always_inline int check_port(void *l4, void *data_end, __u8 proto)
{
	struct allow_key key = { .proto = proto };
	__be16 *ports = l4;

	if ((void *)(ports + 2) > data_end)
		return count(FW_MALFORMED, XDP_DROP);
	key.port = bpf_ntohs(ports[1]);
	if (!bpf_map_lookup_elem(&allow_ports, &key))
		return count(FW_PORT, XDP_DROP);
	return count(FW_PASSED, XDP_PASS);
}

static __always_inline int filter_v4(struct iphdr *ip, void *data_end)
{
	struct lpm_v4_key key = { .prefixlen = 32 };

	if ((void *)(ip + 1) > data_end || ip->ihl < 5)
		return count(FW_MALFORMED, XDP_DROP);
	__builtin_memcpy(key.addr, &ip->saddr, 4);
	if (bpf_map_lookup_elem(&blocklist_v4, &key))
		return count(FW_BLOCKED_V4, XDP_DROP);
	if (ip->protocol != IPPROTO_TCP && ip->protocol != IPPROTO_UDP)
		return count(FW_PASSED, XDP_PASS);
	if (ip->frag_off & bpf_htons(0x1fff))
		return count(FW_FRAGMENT, XDP_DROP);
	return check_port((void *)ip + ip->ihl * 4, data_end, ip->protocol);
}

static __always_inline int filter_v6(struct ipv6hdr *ip6, void *data_end)
{
	struct lpm_v6_key key = { .prefixlen = 128 };

	if ((void *)(ip6 + 1) > data_end)
		return count(FW_MALFORMED, XDP_DROP);
	__builtin_memcpy(key.addr, &ip6->saddr, 16);
	if (bpf_map_lookup_elem(&blocklist_v6, &key))
		return count(FW_BLOCKED_V6, XDP_DROP);
	if (ip6->nexthdr != IPPROTO_TCP && ip6->nexthdr != IPPROTO_UDP)
		return count(FW_PASSED, XDP_PASS);
	return check_port(ip6 + 1, data_end, ip6->nexthdr);
}

SEC("xdp")
int firewall(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	void *l3 = eth + 1;
	__u16 proto;

	if (l3 > data_end)
		return count(FW_MALFORMED, XDP_DROP);
	proto = eth->h_proto;
	if (proto == bpf_htons(ETH_P_8021Q)) {
		struct vlan_tag *tag = l3;

		if ((void *)(tag + 1) > data_end)
			return count(FW_MALFORMED, XDP_DROP);
		proto = tag->inner_proto;
		l3 = tag + 1;
	}
	if (proto == bpf_htons(ETH_P_IP))
		return filter_v4(l3, data_end);
	if (proto == bpf_htons(ETH_P_IPV6))
		return filter_v6(l3, data_end);
	return count(FW_PASSED, XDP_PASS);
}

char _license[] SEC("license") = "Dual BSD/GPL";
