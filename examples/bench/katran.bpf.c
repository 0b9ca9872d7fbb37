// SPDX-License-Identifier: BSD-3-Clause
/*
 * katran: the parse -> lookup -> encapsulate path of an L4 load balancer
 * in the style of Facebook's katran (section "raw"), one bpf-to-bpf call
 * per stage (noinline functions; the native build calls them too):
 *   parse:  Ethernet (one 802.1Q tag), IPv4 or IPv6, TCP/UDP ports into a
 *           flow struct on the caller's stack;
 *   lookup: the VIP check (destination port 80 or 443), jhash of the flow
 *           (lookup3, as katran), the real server by hash modulo 251;
 *   encap:  an outer IPv4 header for IP-in-IP (katran's encap_v4) built on
 *           the stack, its checksum computed (ten 16-bit words, folded).
 * Returns the outer header's checksum, the real's address and the inner
 * length, 1 for a non-VIP packet (passed), 0 for a frame that is not IP.
 * See shapes.h.
 */
#include "shapes.h"

#define N_REALS 251

#if !defined(SL_NATIVE) || defined(__clang__)
#define NOINLINE static __attribute__((noinline))
#else  /* gcc: keep each stage a real call in the native build too */
#define NOINLINE static __attribute__((noinline, noclone))
#endif

struct flow {
	__u32 src[4], dst[4];
	__u32 ports;
	__u32 proto;
	__u32 len;          /* inner packet length (the L3 total) */
	__u32 v6;
};

struct iphdr_out {
	__u8 ver_ihl, tos;
	__u16 tot_len, id, frag_off;
	__u8 ttl, protocol;
	__u16 check;
	__u32 saddr, daddr;
};

NOINLINE int parse(const __u8 *pkt, struct flow *f)
{
	__u32 proto;
	const __u8 *ip = l3_of(pkt, &proto);

	f->ports = 0;
	if (proto == ETH_P_IP) {
		__u32 ihl = (ip[0] & 0x0f) * 4;

		if (ihl < 20)
			return 0;
		f->v6 = 0;
		f->proto = ip[9];
		f->src[0] = ld32(ip, 12);
		f->dst[0] = ld32(ip, 16);
		f->src[1] = f->src[2] = f->src[3] = f->dst[1] = f->dst[2] = f->dst[3] = 0;
		f->len = BE16(ip, 2);
		if ((f->proto == 6 || f->proto == 17) && !(BE16(ip, 6) & 0x1fff))
			f->ports = ld32(ip + ihl, 0);
		return 1;
	}
	if (proto == ETH_P_IPV6) {
		f->v6 = 1;
		f->proto = ip[6];
UNROLL
		for (int i = 0; i < 4; i++) {
			f->src[i] = ld32(ip, 8 + 4 * i);
			f->dst[i] = ld32(ip, 24 + 4 * i);
		}
		f->len = BE16(ip, 4) + 40;
		if (f->proto == 6 || f->proto == 17)
			f->ports = ld32(ip, 40);
		return 1;
	}
	return 0;
}

/* The real server's address for a VIP flow, 0 for a packet to pass. */
NOINLINE __u32 lookup(const struct flow *f)
{
	__u32 dport = f->ports >> 16, h;

	if (dport != 0x5000 && dport != 0xbb01)            /* 80, 443 in network order */
		return 0;
	if (f->v6)
		h = jhash_3words(f->src[0] ^ f->src[1], f->src[2] ^ f->src[3], f->ports,
				 f->dst[3] ^ f->proto);
	else
		h = jhash_3words(f->src[0], f->dst[0], f->ports, f->proto);
	return 0x0a000000 | (h % N_REALS + 1);             /* 10.0.0.x */
}

NOINLINE __u64 encap(const struct flow *f, __u32 real)
{
	struct iphdr_out o;
	__u16 w[10];
	__u32 sum = 0;

	o.ver_ihl = 0x45;
	o.tos = 0;
	o.tot_len = __builtin_bswap16((__u16)(f->len + 20));
	o.id = 0;
	o.frag_off = 0;
	o.ttl = 64;
	o.protocol = f->v6 ? 41 : 4;                       /* IPv6-in-IPv4 or IP-in-IP */
	o.check = 0;
	o.saddr = 0x0100000a ^ (f->src[0] & 0xff000000);   /* 10.0.0.1 ^ source's low byte */
	o.daddr = __builtin_bswap32(real);
	__builtin_memcpy(w, &o, sizeof(w));
UNROLL
	for (int i = 0; i < 10; i++)
		sum += w[i];
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	o.check = (__u16)~sum;
	return (__u64)o.check << 48 | (__u64)o.daddr << 16 | o.tot_len;
}

#ifdef SL_NATIVE
__u64 entry(__u8 *pkt);
#endif

SEC("raw")
__u64 BENCH_ENTRY(katran)(__u8 *pkt)
{
	struct flow f;
	__u32 real;

	if (!parse(pkt, &f))
		return 0;
	real = lookup(&f);
	if (!real)
		return 1;
	return encap(&f, real);
}

#ifndef SL_NATIVE
char LICENSE[] SEC("license") = "Dual BSD/GPL";
#endif
