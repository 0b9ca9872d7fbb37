// SPDX-License-Identifier: BSD-3-Clause
/*
 * v6walk: an IPv6 header walk (RFC 8200 section 4) with a bounded loop
 * (section "raw"): up to 8 extension headers (hop-by-hop, routing,
 * destination options: (len + 1) * 8 bytes; fragment: 8 bytes, and only
 * the first fragment has ports; AH: (len + 2) * 4 bytes), then the TCP/UDP
 * ports. IPv4 frames take the short way (IHL). Returns the upper-layer
 * protocol, the L4 offset and the ports, or 0 for a frame that is not IP
 * or a walk that does not end within 8 headers / 512 bytes. See shapes.h.
 */
#include "shapes.h"

#define MAX_EXT 8
#define MAX_OFF 512

#ifdef SL_NATIVE
__u64 entry(__u8 *pkt);
#endif

SEC("raw")
__u64 BENCH_ENTRY(v6walk)(__u8 *pkt)
{
	__u32 proto, nh, ports = 0, first = 1;
	__u64 off;                              /* 64-bit: v1 bounds checks stay on the same register */
	const __u8 *ip = l3_of(pkt, &proto);

	if (proto == ETH_P_IP) {
		nh = ip[9];
		off = (ip[0] & 0x0f) * 4;
		first = !(BE16(ip, 6) & 0x1fff);
	} else if (proto == ETH_P_IPV6) {
		nh = ip[6];
		off = 40;
		for (int i = 0; i < MAX_EXT; i++) {
			const __u8 *h;

			OPAQUE(off);
			if (off > MAX_OFF)
				return 0;
			h = ip + off;
			if (nh == 0 || nh == 43 || nh == 60) {          /* hop-by-hop, routing, dst opts */
				nh = h[0];
				off += (h[1] + 1) * 8;
			} else if (nh == 44) {                          /* fragment */
				nh = h[0];
				first = !(BE16(h, 2) & 0xfff8);
				off += 8;
			} else if (nh == 51) {                          /* authentication header */
				nh = h[0];
				off += (h[1] + 2) * 4;
			} else {
				break;
			}
		}
		if (nh == 0 || nh == 43 || nh == 60 || nh == 44 || nh == 51)
			return 0;                                       /* more than MAX_EXT */
	} else {
		return 0;
	}
	if (off > MAX_OFF)
		return 0;
	if ((nh == 6 || nh == 17) && first)
		ports = BE32(ip, off);
	return (__u64)nh << 48 | (__u64)off << 32 | ports;
}

#ifndef SL_NATIVE
char LICENSE[] SEC("license") = "Dual BSD/GPL";
#endif
