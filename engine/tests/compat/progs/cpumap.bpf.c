// SPDX-License-Identifier: BSD-3-Clause
/*
 * CPU steering in the style of the kernel's xdp_redirect_cpu sample and
 * xdp-tools' xdp-redirect cpu: IPv4/IPv6 packets are spread over the CPUs
 * listed in cpus_available by a hash of the addresses and protocol and
 * redirected through cpu_map (empty entries make the redirect fail with
 * the flags' fallback, XDP_PASS); other packets go to the first CPU.
 * Counters per CPU slot picked. In sluice a CPUMAP entry names a worker.
 *
 * xdp_cpu_entry is a CPUMAP entry program (section xdp/cpumap, the
 * kernel's BPF_XDP_CPUMAP), run on the target CPU before the packet goes
 * on: by the low byte of the IPv4 identification, n % 4 == 0 drops, 1
 * passes, 2 redirects to ifindex 0, 3 returns XDP_TX (which a CPUMAP
 * program may not: aborted); other frames pass. It counts what it saw per
 * CPU (bpf_get_smp_processor_id) in entry_seen.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define MAX_CPUS 4

struct {
	__uint(type, BPF_MAP_TYPE_CPUMAP);
	__uint(max_entries, MAX_CPUS);
	__type(key, __u32);
	__type(value, struct bpf_cpumap_val);
} cpu_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MAX_CPUS);
	__type(key, __u32);
	__type(value, __u32);
} cpus_available SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} cpus_count SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MAX_CPUS);
	__type(key, __u32);
	__type(value, __u64);
} cpu_picked SEC(".maps");

static __always_inline __u32 spread(void *data, void *data_end)
{
	struct ethhdr *eth = data;
	__u32 h = 0;

	if ((void *)(eth + 1) > data_end)
		return 0;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);

		if ((void *)(ip + 1) > data_end)
			return 0;
		h = ip->saddr ^ ip->daddr ^ ip->protocol;
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		if ((void *)(ip6 + 1) > data_end)
			return 0;
		h = ip6->saddr.in6_u.u6_addr32[3] ^ ip6->daddr.in6_u.u6_addr32[3] ^ ip6->nexthdr;
	}
	h ^= h >> 16;
	return h * 0x9e3779b1u;
}

SEC("xdp")
int xdp_cpu_steer(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
	__u32 zero = 0, slot, *count, *cpu;
	__u64 *picked;

	count = bpf_map_lookup_elem(&cpus_count, &zero);
	if (!count || *count == 0 || *count > MAX_CPUS)
		return XDP_PASS;
	slot = spread(data, data_end) % *count;
	cpu = bpf_map_lookup_elem(&cpus_available, &slot);
	if (!cpu)
		return XDP_ABORTED;
	picked = bpf_map_lookup_elem(&cpu_picked, &slot);
	if (picked)
		__sync_fetch_and_add(picked, 1);
	return bpf_redirect_map(&cpu_map, *cpu, XDP_PASS);
}

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MAX_CPUS);
	__type(key, __u32);
	__type(value, __u64);
} entry_seen SEC(".maps");

SEC("xdp/cpumap")
int xdp_cpu_entry(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	__u32 cpu = bpf_get_smp_processor_id();
	__u64 *seen = bpf_map_lookup_elem(&entry_seen, &cpu);

	if (seen)
		__sync_fetch_and_add(seen, 1);
	if ((void *)(ip + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	switch (((__u8 *)ip)[5] % 4) {
	case 0:
		return XDP_DROP;
	case 1:
		return XDP_PASS;
	case 2:
		return bpf_redirect(0, 0);
	default:
		return XDP_TX;
	}
}

char LICENSE[] SEC("license") = "GPL";
