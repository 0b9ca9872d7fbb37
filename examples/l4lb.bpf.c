// SPDX-License-Identifier: BSD-3-Clause
/*
 * l4lb: an L4 load balancer: Maglev consistent hashing, IPv4-in-IPv4 out.
 *
 * A packet for a virtual service (lb_vips: {addr, port, proto} of an
 * untagged IPv4 TCP or UDP packet's destination) goes to one backend:
 *   h    = hash of the 5-tuple (lb_hash below)
 *   id   = lb_maglev[h % LB_RING]   (ARRAY, the Maglev lookup table)
 *   be   = lb_backends[id]          (HASH: backend IPv4 address and MAC)
 * The frame is encapsulated IPv4-in-IPv4 (RFC 2003): bpf_xdp_adjust_head
 * grows the front by 20 bytes, the Ethernet header is rebuilt (destination
 * the backend's MAC, source the original destination MAC), and a new outer
 * IPv4 header is written: source lb_cfg.local_addr, destination the
 * backend, protocol 4, TTL 64, TOS and DF copied from the inner header,
 * total length inner + 20, header checksum computed. The inner packet is
 * unchanged. Verdict XDP_TX (back out of the port it came in on).
 *
 * Everything else passes (XDP_PASS): non-IPv4, VLAN-tagged, IPv4
 * fragments (no ports to hash), other protocols, destinations that are not
 * a VIP. A VIP packet whose table slot
 * names no backend is dropped. Per-CPU counters in lb_stats: 0 forwarded,
 * 1 passed (not a VIP), 2 dropped (no backend), 3 dropped (malformed or
 * adjust_head failed).
 *
 * The Maglev table is built by the control plane, not here:
 * examples/l4lb-maglev.py turns a backend list into the preload files of
 * lb_maglev and lb_backends (every backend owns LB_RING/N slots, +-1, and
 * removing one moves only its own slots). The object loads into the kernel
 * unmodified.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define LB_RING 65537  /* prime: the Maglev table size */

struct vip_key {
	__be32 addr;
	__u16 port;    /* host order */
	__u8 proto;
	__u8 pad;
};

struct backend {
	__be32 addr;
	__u8 mac[6];
	__u16 pad;
};

struct lb_cfg {
	__be32 local_addr;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, struct vip_key);
	__type(value, __u32);
} lb_vips SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, LB_RING);
	__type(key, __u32);
	__type(value, __u32);
} lb_maglev SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct backend);
} lb_backends SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct lb_cfg);
} lb_config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} lb_stats SEC(".maps");

static __always_inline int count(__u32 slot, int verdict)
{
	__u64 *v = bpf_map_lookup_elem(&lb_stats, &slot);

	if (v)
		*v += 1;
	return verdict;
}

/* murmur3's 32-bit finaliser. */
static __always_inline __u32 mix32(__u32 h)
{
	h ^= h >> 16;
	h *= 0x85ebca6b;
	h ^= h >> 13;
	h *= 0xc2b2ae35;
	h ^= h >> 16;
	return h;
}

/* The flow hash (addresses and ports as host-order numbers). */
static __always_inline __u32 lb_hash(__u32 saddr, __u32 daddr, __u32 sport, __u32 dport,
				     __u32 proto)
{
	__u32 h = mix32(saddr);

	h = mix32(h ^ daddr);
	h = mix32(h ^ ((sport << 16) | dport));
	return mix32(h ^ proto);
}

/* One's-complement sum of the 10 words of a 20-byte IPv4 header. */
static __always_inline __u16 ip_csum(const __u16 *w)
{
	__u32 sum = 0;

#pragma unroll
	for (int i = 0; i < 10; i++)
		sum += w[i];
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

/* Grow the front, rebuild Ethernet, write the outer header; the verdict. */
static __always_inline int encap(struct xdp_md *ctx, const struct backend *be, __be32 local)
{
	struct ethhdr *eth;
	struct iphdr *outer, *inner;
	__u8 our_mac[6];
	void *data, *data_end;

	if (bpf_xdp_adjust_head(ctx, -(int)sizeof(struct iphdr)))
		return count(3, XDP_DROP);
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	eth = data;
	outer = (void *)(eth + 1);
	inner = (void *)(outer + 1);
	if ((void *)(inner + 1) > data_end)
		return count(3, XDP_DROP);
	/* The old Ethernet header now sits where the outer IP header goes. */
	__builtin_memcpy(our_mac, (__u8 *)data + sizeof(struct iphdr), 6);
	__builtin_memcpy(eth->h_dest, be->mac, 6);
	__builtin_memcpy(eth->h_source, our_mac, 6);
	eth->h_proto = bpf_htons(ETH_P_IP);
	outer->version = 4;
	outer->ihl = 5;
	outer->tos = inner->tos;
	outer->tot_len = bpf_htons(bpf_ntohs(inner->tot_len) + sizeof(struct iphdr));
	outer->id = 0;
	outer->frag_off = inner->frag_off & bpf_htons(0x4000);
	outer->ttl = 64;
	outer->protocol = IPPROTO_IPIP;
	outer->check = 0;
	outer->saddr = local;
	outer->daddr = be->addr;
	outer->check = ip_csum((const __u16 *)outer);
	return count(0, XDP_TX);
}

SEC("xdp")
int l4lb(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	struct vip_key vk = {};
	struct backend *be;
	struct lb_cfg *cfg;
	__u32 zero = 0, sport, dport, slot, *id;
	__be16 *ports;

	if ((void *)(ip + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
		return count(1, XDP_PASS);
	if (ip->ihl < 5 || (ip->protocol != IPPROTO_TCP && ip->protocol != IPPROTO_UDP) ||
	    (ip->frag_off & bpf_htons(0x3fff)))
		return count(1, XDP_PASS);
	ports = (void *)ip + ip->ihl * 4;
	if ((void *)(ports + 2) > data_end)
		return count(1, XDP_PASS);
	vk.addr = ip->daddr;
	vk.port = bpf_ntohs(ports[1]);
	vk.proto = ip->protocol;
	if (!bpf_map_lookup_elem(&lb_vips, &vk))
		return count(1, XDP_PASS);
	sport = bpf_ntohs(ports[0]);
	dport = vk.port;
	slot = lb_hash(bpf_ntohl(ip->saddr), bpf_ntohl(ip->daddr), sport, dport, ip->protocol)
		% LB_RING;
	id = bpf_map_lookup_elem(&lb_maglev, &slot);
	be = id ? bpf_map_lookup_elem(&lb_backends, id) : NULL;
	cfg = bpf_map_lookup_elem(&lb_config, &zero);
	if (!be || !cfg)
		return count(2, XDP_DROP);
	return encap(ctx, be, cfg->local_addr);
}

char _license[] SEC("license") = "Dual BSD/GPL";
