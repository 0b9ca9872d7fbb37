// SPDX-License-Identifier: BSD-3-Clause
/*
 * ratelimit: per-source token buckets; packets over the rate are dropped.
 *
 * rl_config (ARRAY, one slot) holds {rate_pps, burst}: each source address
 * may send `burst` packets at once and `rate_pps` packets a second after
 * that. Both 0 (never configured): nothing is limited. Sources are IPv4 and
 * IPv6 source addresses (behind at most one 802.1Q tag, whole fixed header
 * captured); IPv4 is keyed as the v4-mapped IPv6 address ::ffff:a.b.c.d.
 * Frames that are not IP pass uncounted by the buckets.
 *
 * Buckets live in the PERCPU_HASH rl_buckets: every worker keeps its own
 * bucket per source, lock-free, so a source spread by RSS over W workers
 * may send up to W times the rate (with one RX queue per port a source's
 * packets stay on one worker). Credit is kept in nano-packets (1e9 = one
 * packet): refill = elapsed ns (bpf_ktime_get_ns) * rate_pps, capped at
 * burst * 1e9; a packet costs 1e9. A new bucket (or another worker's first
 * packet of a known source: its slot reads zero) starts full. rate_pps is
 * taken up to 1e8 and burst up to 1e9 (larger values are clamped), so the
 * arithmetic cannot overflow.
 *
 * With rate_pps 0 a source gets exactly `burst` packets, ever; with a huge
 * rate nothing is dropped: both are deterministic (the tests use them).
 * Per-CPU counters in rl_stats: 0 passed, 1 dropped, 2 not IP, 3 no bucket
 * (table full: passed). The object loads into the kernel unmodified.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define NS 1000000000ULL
#define MAX_RATE 100000000ULL
#define MAX_BURST 1000000000ULL
#define MAX_ELAPSED (10 * NS)

struct vlan_tag {
	__be16 tci;
	__be16 inner_proto;
};

struct rl_cfg {
	__u64 rate_pps;
	__u64 burst;
};

struct rl_key {
	__u8 addr[16];
};

struct rl_bucket {
	__u64 credit;   /* nano-packets */
	__u64 last_ns;  /* 0: never used on this worker */
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct rl_cfg);
} rl_config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct rl_key);
	__type(value, struct rl_bucket);
} rl_buckets SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} rl_stats SEC(".maps");

static __always_inline int count(__u32 slot, int verdict)
{
	__u64 *v = bpf_map_lookup_elem(&rl_stats, &slot);

	if (v)
		*v += 1;
	return verdict;
}

/* The source of the packet in @k; 0 when it is IP. */
static __always_inline int source_of(void *data, void *data_end, struct rl_key *k)
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
		k->addr[10] = 0xff;
		k->addr[11] = 0xff;
		__builtin_memcpy(&k->addr[12], &ip->saddr, 4);
		return 0;
	}
	if (proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = l3;

		if ((void *)(ip6 + 1) > data_end)
			return -1;
		__builtin_memcpy(k->addr, &ip6->saddr, 16);
		return 0;
	}
	return -1;
}

/* Refill @b up to @now, then take one packet: 1 if it may pass. */
static __always_inline int take(struct rl_bucket *b, __u64 rate, __u64 burst, __u64 now)
{
	__u64 cap = burst * NS, elapsed;

	if (!b->last_ns) {
		b->credit = cap;
	} else {
		elapsed = now > b->last_ns ? now - b->last_ns : 0;
		if (elapsed > MAX_ELAPSED)
			elapsed = MAX_ELAPSED;
		b->credit += elapsed * rate;
		if (b->credit > cap)
			b->credit = cap;
	}
	b->last_ns = now ? now : 1;
	if (b->credit < NS)
		return 0;
	b->credit -= NS;
	return 1;
}

SEC("xdp")
int ratelimit(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct rl_key k = {};
	struct rl_bucket *b;
	struct rl_cfg *cfg;
	__u64 rate, burst, now;
	__u32 zero = 0;

	if (source_of(data, data_end, &k))
		return count(2, XDP_PASS);
	cfg = bpf_map_lookup_elem(&rl_config, &zero);
	if (!cfg || (!cfg->rate_pps && !cfg->burst))
		return count(0, XDP_PASS);
	rate = cfg->rate_pps < MAX_RATE ? cfg->rate_pps : MAX_RATE;
	burst = cfg->burst < MAX_BURST ? cfg->burst : MAX_BURST;
	now = bpf_ktime_get_ns();
	b = bpf_map_lookup_elem(&rl_buckets, &k);
	if (!b) {
		struct rl_bucket nb = {};

		/* BPF_NOEXIST: another worker's insert of the same source wins. */
		bpf_map_update_elem(&rl_buckets, &k, &nb, BPF_NOEXIST);
		b = bpf_map_lookup_elem(&rl_buckets, &k);
		if (!b)
			return count(3, XDP_PASS);
	}
	return take(b, rate, burst, now) ? count(0, XDP_PASS) : count(1, XDP_DROP);
}

char _license[] SEC("license") = "Dual BSD/GPL";
