// SPDX-License-Identifier: BSD-3-Clause
/*
 * jhash: Bob Jenkins' lookup3 hash (the kernel's <linux/jhash.h>, as used
 * by katran and most XDP load balancers) over the 5-tuple (section "raw").
 * IPv4: jhash_3words(saddr, daddr, ports, proto). IPv6: jhash2 over ten
 * 32-bit words (saddr, daddr, ports, proto): three mix rounds and the final.
 * 32-bit state words and 32-bit rotates: the shape that v1 code (no 32-bit
 * jumps, zero extensions by shift pairs) makes expensive for a JIT.
 * Returns the hash, or 0 for a frame that is not IPv4/IPv6.
 * See shapes.h for the two builds and the raw-program convention.
 */
#include "shapes.h"

#define SEED 0x2545f491

/* jhash2 of 10 words: k[0..7] the addresses, then ports and proto. */
static __always_inline __u32 jhash2_10(const __u8 *addrs, __u32 ports, __u32 proto, __u32 initval)
{
	__u32 a, b, c;

	a = b = c = JHASH_INITVAL + (10 << 2) + initval;
	a += ld32(addrs, 0);  b += ld32(addrs, 4);  c += ld32(addrs, 8);
	JHASH_MIX(a, b, c);
	a += ld32(addrs, 12); b += ld32(addrs, 16); c += ld32(addrs, 20);
	JHASH_MIX(a, b, c);
	a += ld32(addrs, 24); b += ld32(addrs, 28); c += ports;
	JHASH_MIX(a, b, c);
	a += proto;
	JHASH_FINAL(a, b, c);
	return c;
}

#ifdef SL_NATIVE
__u64 entry(__u8 *pkt);
#endif

SEC("raw")
__u64 BENCH_ENTRY(jhash)(__u8 *pkt)
{
	__u32 proto, l4proto, ports = 0;
	const __u8 *ip = l3_of(pkt, &proto);

	if (proto == ETH_P_IP) {
		__u32 ihl = (ip[0] & 0x0f) * 4;

		if (ihl < 20)
			return 0;
		l4proto = ip[9];
		if ((l4proto == 6 || l4proto == 17) && !(BE16(ip, 6) & 0x1fff))
			ports = ld32(ip + ihl, 0);
		return jhash_3words(ld32(ip, 12), ld32(ip, 16), ports, SEED ^ l4proto);
	}
	if (proto == ETH_P_IPV6) {
		l4proto = ip[6];
		if (l4proto == 6 || l4proto == 17)
			ports = ld32(ip, 40);
		return jhash2_10(ip + 8, ports, l4proto, SEED);
	}
	return 0;
}

#ifndef SL_NATIVE
char LICENSE[] SEC("license") = "Dual BSD/GPL";
#endif
