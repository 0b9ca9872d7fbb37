// SPDX-License-Identifier: BSD-3-Clause
/*
 * classify: a branchy first-match classifier (section "raw"), the shape of
 * hand-written XDP/tc policies: a chain of 16 rules, each a test of the
 * protocol, a source or destination IPv4 prefix and a destination port or
 * port range, in order; the first that matches gives the class. IPv6
 * frames match on the top 32 bits of their addresses. Returns the class
 * (1-16, 0 when nothing matches) with the destination port, 0xff for a
 * frame that is not IP. See shapes.h.
 */
#include "shapes.h"

#define PFX(a, len) (((a) & (0xffffffffu << (32 - (len)))))
#define IN(addr, net, len) (PFX(addr, len) == (net))

static __always_inline __u32 rules(__u32 l4, __u32 src, __u32 dst, __u32 sport, __u32 dport)
{
	if (l4 == 6 && dport == 22 && IN(src, 0xc0a80d00, 24))          /* 192.168.13.0/24 ssh */
		return 1;
	if (IN(src, 0x0a420000, 16))                                     /* 10.66.0.0/16 */
		return 2;
	if (l4 == 17 && (dport == 53 || sport == 53))                    /* DNS */
		return 3;
	if (l4 == 17 && dport == 123)                                    /* NTP */
		return 4;
	if (l4 == 6 && (dport == 80 || dport == 8080) && IN(dst, 0x0a000000, 8))
		return 5;
	if (l4 == 6 && dport == 443)
		return 6;
	if (l4 == 6 && dport >= 6000 && dport <= 6063)                   /* X11 */
		return 7;
	if (IN(dst, 0xe0000000, 4))                                      /* multicast */
		return 8;
	if (l4 == 132)                                                   /* SCTP */
		return 9;
	if (l4 == 1 || l4 == 58)                                         /* ICMP, ICMPv6 */
		return 10;
	if (l4 == 17 && dport >= 33434 && dport <= 33534)                /* traceroute */
		return 11;
	if (IN(src, 0xac100000, 12) && IN(dst, 0xac100000, 12))          /* 172.16/12 internal */
		return 12;
	if (l4 == 6 && sport < 1024 && dport >= 1024)
		return 13;
	if (l4 == 17 && dport >= 49152)
		return 14;
	if (IN(src, 0x0a000000, 8))
		return 15;
	if (l4 == 6)
		return 16;
	return 0;
}

#ifdef SL_NATIVE
__u64 entry(__u8 *pkt);
#endif

SEC("raw")
__u64 BENCH_ENTRY(classify)(__u8 *pkt)
{
	__u32 proto, l4, src, dst, sport = 0, dport = 0;
	const __u8 *ip = l3_of(pkt, &proto), *l4h;

	if (proto == ETH_P_IP) {
		__u32 ihl = (ip[0] & 0x0f) * 4;

		if (ihl < 20)
			return 0xff;
		l4 = ip[9];
		src = BE32(ip, 12);
		dst = BE32(ip, 16);
		l4h = ip + ihl;
	} else if (proto == ETH_P_IPV6) {
		l4 = ip[6];
		src = BE32(ip, 8);
		dst = BE32(ip, 24);
		l4h = ip + 40;
	} else {
		return 0xff;
	}
	if (l4 == 6 || l4 == 17) {
		sport = BE16(l4h, 0);
		dport = BE16(l4h, 2);
	}
	return rules(l4, src, dst, sport, dport) | dport << 8;
}

#ifndef SL_NATIVE
char LICENSE[] SEC("license") = "Dual BSD/GPL";
#endif
