// SPDX-License-Identifier: BSD-3-Clause
/*
 * siphash: SipHash-1-3 (Aumasson and Bernstein; one compression round,
 * three finalization rounds, as the Linux kernel's hsiphash on 64-bit)
 * of the 5-tuple under a fixed 128-bit key (section "raw"). The message
 * is the addresses (8 bytes IPv4, 32 IPv6) as little-endian 64-bit words,
 * then the last block: the ports, the protocol byte and the message
 * length in the top byte (13 or 37). 64-bit adds, xors and rotates.
 * Returns the 64-bit hash, or 0 for a frame that is not IP. See shapes.h.
 */
#include "shapes.h"

#define K0 0x0706050403020100ull
#define K1 0x0f0e0d0c0b0a0908ull

#define SIPROUND do {                                                        \
	v0 += v1; v1 = rol64(v1, 13); v1 ^= v0; v0 = rol64(v0, 32);          \
	v2 += v3; v3 = rol64(v3, 16); v3 ^= v2;                              \
	v0 += v3; v3 = rol64(v3, 21); v3 ^= v0;                              \
	v2 += v1; v1 = rol64(v1, 17); v1 ^= v2; v2 = rol64(v2, 32);          \
} while (0)

#define ABSORB(m) do { __u64 m_ = (m); v3 ^= m_; SIPROUND; v0 ^= m_; } while (0)

#ifdef SL_NATIVE
__u64 entry(__u8 *pkt);
#endif

SEC("raw")
__u64 BENCH_ENTRY(siphash)(__u8 *pkt)
{
	__u64 v0 = K0 ^ 0x736f6d6570736575ull, v1 = K1 ^ 0x646f72616e646f6dull;
	__u64 v2 = K0 ^ 0x6c7967656e657261ull, v3 = K1 ^ 0x7465646279746573ull;
	__u32 proto, l4proto, ports = 0;
	const __u8 *ip = l3_of(pkt, &proto);
	__u64 last;

	if (proto == ETH_P_IP) {
		__u32 ihl = (ip[0] & 0x0f) * 4;

		if (ihl < 20)
			return 0;
		l4proto = ip[9];
		if ((l4proto == 6 || l4proto == 17) && !(BE16(ip, 6) & 0x1fff))
			ports = ld32(ip + ihl, 0);
		ABSORB(ld64(ip, 12));
		last = 13ull << 56;
	} else if (proto == ETH_P_IPV6) {
		l4proto = ip[6];
		if (l4proto == 6 || l4proto == 17)
			ports = ld32(ip, 40);
UNROLL
		for (int i = 0; i < 4; i++)
			ABSORB(ld64(ip, 8 + 8 * i));
		last = 37ull << 56;
	} else {
		return 0;
	}
	ABSORB(last | (__u64)l4proto << 32 | ports);
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

#ifndef SL_NATIVE
char LICENSE[] SEC("license") = "Dual BSD/GPL";
#endif
