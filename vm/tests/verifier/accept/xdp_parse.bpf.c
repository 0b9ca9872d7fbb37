// SPDX-License-Identifier: BSD-3-Clause
/* Must-accept: Ethernet/IPv4/TCP-UDP parser with data_end checks, a variable
 * IP header length (ihl * 4, masked), a hash map keyed by ports and an array
 * counter with null checks. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u64);
} ports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

static __always_inline void count(__u32 slot)
{
	__u64 *v = bpf_map_lookup_elem(&stats, &slot);

	if (v)
		*v += 1;
}

SEC("xdp")
int xdp_parse(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip;
	__u32 ihl, key;
	__u16 sport, dport;

	if ((void *)(eth + 1) > data_end)
		return XDP_PASS;
	if (eth->h_proto != bpf_htons(ETH_P_IP)) {
		count(0);
		return XDP_PASS;
	}
	ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > data_end)
		return XDP_DROP;
	ihl = (ip->ihl * 4) & 0x3c;
	if (ihl < sizeof(*ip))
		return XDP_DROP;
	if (ip->protocol != IPPROTO_TCP && ip->protocol != IPPROTO_UDP) {
		count(1);
		return XDP_PASS;
	}
	/* TCP and UDP both start with the two ports */
	__u16 *l4 = (void *)ip + ihl;

	if ((void *)(l4 + 2) > data_end)
		return XDP_DROP;
	sport = l4[0];
	dport = l4[1];
	key = ((__u32)sport << 16) | dport;
	__u64 *seen = bpf_map_lookup_elem(&ports, &key);
	if (seen) {
		__sync_fetch_and_add(seen, 1);
	} else {
		__u64 one = 1;

		bpf_map_update_elem(&ports, &key, &one, BPF_ANY);
	}
	count(2);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
