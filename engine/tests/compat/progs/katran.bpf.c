// SPDX-License-Identifier: BSD-3-Clause
/*
 * A katran-like L4 load balancer (written for sluice's compatibility
 * tests after katran's published design): IPv4 TCP/UDP packets to a VIP
 * (vip_map: address, port, protocol -> vip number) pick a real server
 * through a consistent-hashing ring (ch_rings: vip_num * RING_SIZE +
 * jhash(5-tuple) % RING_SIZE -> real index, reals: index -> address),
 * remember the choice in a per-CPU connection table reached through a
 * map-in-map (lru_maps, an ARRAY_OF_MAPS whose slot 0 is the LRU hash
 * lru_0, given as an initial value), and are encapsulated in IPIP
 * (bpf_xdp_adjust_head grows the head by an outer IPv4 header, whose
 * checksum is computed here) and sent back with XDP_TX. Per-VIP packet
 * and byte counters in a PERCPU_ARRAY. Anything else passes.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/in.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define RING_SIZE 13
#define MAX_VIPS 8
#define MAX_REALS 64
#define HASH_SEED 0x5c1ce

struct vip_key {
	__be32 addr;
	__be16 port;
	__u8 proto;
	__u8 pad;
};

struct vip_meta {
	__u32 flags;
	__u32 vip_num;
};

struct flow_key {
	__be32 src, dst;
	__be16 sport, dport;
	__u8 proto;
	__u8 pad[3];
};

struct real {
	__be32 addr;
};

struct counters {
	__u64 pkts, bytes;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_VIPS);
	__type(key, struct vip_key);
	__type(value, struct vip_meta);
} vip_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MAX_VIPS * RING_SIZE);
	__type(key, __u32);
	__type(value, __u32);
} ch_rings SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MAX_REALS);
	__type(key, __u32);
	__type(value, struct real);
} reals SEC(".maps");

struct lru_conn {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, struct flow_key);
	__type(value, __u32);
};

struct lru_conn lru_0 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 4);
	__type(key, __u32);
	__array(values, struct lru_conn);
} lru_maps SEC(".maps") = {
	.values = { [0] = &lru_0 },
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, MAX_VIPS);
	__type(key, __u32);
	__type(value, struct counters);
} vip_stats SEC(".maps");

/* Bob Jenkins' lookup3 (the kernel's jhash), for whole 32-bit words */
static __always_inline __u32 rol32(__u32 w, unsigned s)
{
	return (w << s) | (w >> (32 - s));
}

#define JH_MIX(a, b, c) do { \
	a -= c; a ^= rol32(c, 4); c += b; \
	b -= a; b ^= rol32(a, 6); a += c; \
	c -= b; c ^= rol32(b, 8); b += a; \
	a -= c; a ^= rol32(c, 16); c += b; \
	b -= a; b ^= rol32(a, 19); a += c; \
	c -= b; c ^= rol32(b, 4); b += a; \
} while (0)

#define JH_FINAL(a, b, c) do { \
	c ^= b; c -= rol32(b, 14); \
	a ^= c; a -= rol32(c, 11); \
	b ^= a; b -= rol32(a, 25); \
	c ^= b; c -= rol32(b, 16); \
	a ^= c; a -= rol32(c, 4); \
	b ^= a; b -= rol32(a, 14); \
	c ^= b; c -= rol32(b, 24); \
} while (0)

/* jhash2 of 4 words */
static __always_inline __u32 jhash_flow(const struct flow_key *f, __u32 seed)
{
	const __u32 *k = (const __u32 *)f;
	__u32 a, b, c;

	a = b = c = 0xdeadbeef + (4 << 2) + seed;
	a += k[0];
	b += k[1];
	c += k[2];
	JH_MIX(a, b, c);
	a += k[3];
	JH_FINAL(a, b, c);
	return c;
}

static __always_inline __u16 csum_fold(__u32 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

/* IPIP: a new outer header in front of the inner one, MACs kept (swapped) */
static __always_inline int encap(struct xdp_md *ctx, __be32 dst, __u16 inner_len, __u8 tos)
{
	void *data, *data_end;
	struct ethhdr *eth, *old;
	struct iphdr *ip;
	__u32 sum = 0;
	__u16 *w;

	if (bpf_xdp_adjust_head(ctx, 0 - (int)sizeof(struct iphdr)))
		return XDP_DROP;
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	eth = data;
	ip = data + sizeof(*eth);
	old = data + sizeof(*ip);
	if ((void *)(ip + 1) > data_end || (void *)(old + 1) > data_end)
		return XDP_DROP;
	__builtin_memcpy(eth->h_dest, old->h_source, ETH_ALEN);
	__builtin_memcpy(eth->h_source, old->h_dest, ETH_ALEN);
	eth->h_proto = bpf_htons(ETH_P_IP);
	ip->version = 4;
	ip->ihl = 5;
	ip->tos = tos;
	ip->tot_len = bpf_htons(inner_len + sizeof(*ip));
	ip->id = 0;
	ip->frag_off = 0;
	ip->ttl = 64;
	ip->protocol = IPPROTO_IPIP;
	ip->check = 0;
	ip->saddr = bpf_htonl(0x0aff0001);   /* 10.255.0.1 */
	ip->daddr = dst;
	w = (__u16 *)ip;
#pragma unroll
	for (int i = 0; i < (int)sizeof(*ip) / 2; i++)
		sum += w[i];
	ip->check = csum_fold(sum);
	return XDP_TX;
}

SEC("xdp")
int katran_lb(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct flow_key flow = {};
	struct vip_key vk = {};
	struct vip_meta *vip;
	struct counters *cnt;
	struct real *real;
	__u32 zero = 0, pos, *idx, *cached, real_idx;
	struct iphdr *ip;
	void *lru;

	if ((void *)(eth + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > data_end || ip->ihl != 5 || (ip->frag_off & bpf_htons(0x3fff)))
		return XDP_PASS;
	if (ip->protocol != IPPROTO_TCP && ip->protocol != IPPROTO_UDP)
		return XDP_PASS;
	{
		struct udphdr *l4 = (void *)(ip + 1);   /* ports: same place in TCP */

		if ((void *)(l4 + 1) > data_end)
			return XDP_PASS;
		flow.sport = l4->source;
		flow.dport = l4->dest;
	}
	flow.src = ip->saddr;
	flow.dst = ip->daddr;
	flow.proto = ip->protocol;
	vk.addr = ip->daddr;
	vk.port = flow.dport;
	vk.proto = flow.proto;
	vip = bpf_map_lookup_elem(&vip_map, &vk);
	if (!vip) {
		vk.addr = 0;   /* port-only VIP */
		vip = bpf_map_lookup_elem(&vip_map, &vk);
		if (!vip)
			return XDP_PASS;
	}
	if (vip->vip_num >= MAX_VIPS)
		return XDP_DROP;
	cnt = bpf_map_lookup_elem(&vip_stats, &vip->vip_num);
	if (cnt) {
		cnt->pkts++;
		cnt->bytes += data_end - data;
	}
	lru = bpf_map_lookup_elem(&lru_maps, &zero);
	cached = lru ? bpf_map_lookup_elem(lru, &flow) : NULL;
	if (cached) {
		real_idx = *cached;
	} else {
		pos = vip->vip_num * RING_SIZE + jhash_flow(&flow, HASH_SEED) % RING_SIZE;
		idx = bpf_map_lookup_elem(&ch_rings, &pos);
		if (!idx)
			return XDP_DROP;
		real_idx = *idx;
		if (lru)
			bpf_map_update_elem(lru, &flow, &real_idx, BPF_ANY);
	}
	real = bpf_map_lookup_elem(&reals, &real_idx);
	if (!real || !real->addr)
		return XDP_DROP;
	return encap(ctx, real->addr, bpf_ntohs(ip->tot_len), ip->tos);
}

char LICENSE[] SEC("license") = "GPL";
