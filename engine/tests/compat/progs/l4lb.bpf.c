// SPDX-License-Identifier: BSD-3-Clause
/*
 * A port-based L4 load balancer in the style of public XDP balancers
 * (xdp-tutorial's packet rewriting, katran's VIP/real tables without the
 * encapsulation): an IPv4 TCP or UDP packet whose (destination address,
 * destination port, protocol) is a service in `services` goes to one of
 * the service's backends, chosen by a hash of the 5-tuple (a service with
 * address 0 is port-based: it matches any destination address). Destination
 * address and MACs are rewritten, the IPv4 header checksum and the TCP /
 * UDP checksum are updated incrementally (RFC 1624), TTL is decremented,
 * and the packet goes back out with XDP_TX. Counters per backend.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/in.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define MAX_BACKENDS 16

struct svc_key {
	__be32 vip;
	__be16 port;
	__u8 proto;
	__u8 pad;
};

struct svc {
	__u32 first;   /* first backend index */
	__u32 count;   /* backends in use, 1..MAX_BACKENDS */
};

struct backend {
	__be32 ip;
	__u8 mac[6];
	__u16 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, struct svc_key);
	__type(value, struct svc);
} services SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, struct backend);
} backends SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u64);
} backend_pkts SEC(".maps");

static __always_inline __u16 csum_fold(__u32 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

/* RFC 1624: HC' = ~(~HC + ~m + m') for a 32-bit field changing m -> m' */
static __always_inline __u16 csum_replace4(__u16 check, __be32 from, __be32 to)
{
	__u32 sum = (__u16)~check;

	sum += (~from & 0xffff) + (~from >> 16);
	sum += (to & 0xffff) + (to >> 16);
	return csum_fold(sum);
}

static __always_inline __u32 flow_hash(__be32 saddr, __be32 daddr, __u32 ports, __u8 proto)
{
	__u32 h = saddr * 0x9e3779b1u;

	h ^= daddr + 0x7f4a7c15u + (h << 6) + (h >> 2);
	h ^= ports + 0x165667b1u + (h << 6) + (h >> 2);
	h ^= proto;
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	return h;
}

SEC("xdp")
int xdp_l4lb(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	struct svc_key key = { 0 };
	struct backend *be;
	struct svc *svc;
	__u16 *l4check;
	__u32 ports, idx;
	__u64 *n;
	void *l4;

	if ((void *)(ip + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	if (ip->ihl != 5 || (ip->frag_off & bpf_htons(0x3fff)))
		return XDP_PASS;
	l4 = ip + 1;
	if (ip->protocol == IPPROTO_TCP) {
		struct tcphdr *tcp = l4;

		if ((void *)(tcp + 1) > data_end)
			return XDP_DROP;
		key.port = tcp->dest;
		l4check = &tcp->check;
	} else if (ip->protocol == IPPROTO_UDP) {
		struct udphdr *udp = l4;

		if ((void *)(udp + 1) > data_end)
			return XDP_DROP;
		key.port = udp->dest;
		l4check = &udp->check;
	} else {
		return XDP_PASS;
	}
	key.vip = ip->daddr;
	key.proto = ip->protocol;
	svc = bpf_map_lookup_elem(&services, &key);
	if (!svc) {  /* port-based service on any address */
		key.vip = 0;
		svc = bpf_map_lookup_elem(&services, &key);
	}
	if (!svc || svc->count == 0 || svc->count > MAX_BACKENDS)
		return XDP_PASS;
	if (ip->ttl <= 1)
		return XDP_DROP;
	ports = *(__u32 *)l4;
	idx = svc->first + flow_hash(ip->saddr, ip->daddr, ports, ip->protocol) % svc->count;
	be = bpf_map_lookup_elem(&backends, &idx);
	if (!be)
		return XDP_ABORTED;
	n = bpf_map_lookup_elem(&backend_pkts, &idx);
	if (n)
		*n += 1;
	/* L4 checksum covers the pseudo header's destination address too */
	if (!(ip->protocol == IPPROTO_UDP && *l4check == 0))
		*l4check = csum_replace4(*l4check, ip->daddr, be->ip);
	ip->check = csum_replace4(ip->check, ip->daddr, be->ip);
	ip->daddr = be->ip;
	/* TTL is the high byte of the 16-bit word at offset 8 */
	ip->check = csum_replace4(ip->check, bpf_htons(ip->ttl << 8), bpf_htons((ip->ttl - 1) << 8));
	ip->ttl--;
	__builtin_memcpy(eth->h_source, eth->h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, be->mac, ETH_ALEN);
	return XDP_TX;
}

char _license[] SEC("license") = "GPL";
