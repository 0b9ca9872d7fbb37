// SPDX-License-Identifier: BSD-3-Clause
/*
 * csum: Internet checksum arithmetic (RFC 1071 / RFC 1624) as the kernel's
 * csum_partial / bpf_csum_diff / csum_fold do it (section "raw"): 32-bit
 * one's-complement adds with the carry added back, folded to 16 bits.
 * IPv4: checks the header checksum (the 20-byte header as five words),
 * then rewrites the destination to 10.1.1.1:8080 (a DNAT) and updates the
 * IP and the TCP/UDP checksums incrementally by csum_diff of the old and
 * new words. IPv6: the same for the L4 checksum over the 16-byte
 * destination address and the ports. Returns the new checksums and
 * whether the IPv4 header checked out, or 0 for a frame that is not IP.
 * See shapes.h.
 */
#include "shapes.h"

#define NEW_V4 0x0101010aU      /* 10.1.1.1, network order on a little-endian host */
#define NEW_PORT 0x901fU        /* 8080, network order */

static __always_inline __u32 csum_add(__u32 csum, __u32 addend)
{
	csum += addend;
	return csum + (csum < addend);
}

static __always_inline __u32 csum_sub(__u32 csum, __u32 addend)
{
	return csum_add(csum, ~addend);
}

static __always_inline __u32 csum_fold(__u32 csum)
{
	csum = (csum & 0xffff) + (csum >> 16);
	csum = (csum & 0xffff) + (csum >> 16);
	return ~csum & 0xffff;
}

/* RFC 1624 update of folded checksum @old by the word change @diff (an unfolded sum). */
static __always_inline __u32 csum_replace(__u32 old, __u32 diff)
{
	return csum_fold(csum_add(~old & 0xffff, diff));
}

#ifdef SL_NATIVE
__u64 entry(__u8 *pkt);
#endif

SEC("raw")
__u64 BENCH_ENTRY(csum)(__u8 *pkt)
{
	__u32 proto, l4proto, sum = 0, diff, ports = 0, l4csum = 0, ok = 0, ipcsum = 0;
	const __u8 *ip = l3_of(pkt, &proto), *l4;

	if (proto == ETH_P_IP) {
		__u32 ihl = (ip[0] & 0x0f) * 4;

		if (ihl < 20)
			return 0;
UNROLL
		for (int i = 0; i < 5; i++)
			sum = csum_add(sum, ld32(ip, 4 * i));
		ok = csum_fold(sum) == 0;
		l4proto = ip[9];
		l4 = ip + ihl;
		diff = csum_add(csum_sub(0, ld32(ip, 16)), NEW_V4);
		ipcsum = csum_replace(ld16(ip, 10), diff);
	} else if (proto == ETH_P_IPV6) {
		l4proto = ip[6];
		l4 = ip + 40;
		diff = 0;
UNROLL
		for (int i = 0; i < 4; i++)
			diff = csum_sub(diff, ld32(ip, 24 + 4 * i));
		diff = csum_add(diff, 0x000080fe);
		diff = csum_add(diff, 0x01000000);
	} else {
		return 0;
	}
	if (l4proto == 6 || l4proto == 17) {
		ports = ld32(l4, 0);
		diff = csum_sub(diff, ports);
		diff = csum_add(diff, (ports & 0xffff) | NEW_PORT << 16);
		l4csum = csum_replace(ld16(l4, l4proto == 6 ? 16 : 6), diff);
	}
	return (__u64)ipcsum << 32 | l4csum << 1 | ok;
}

#ifndef SL_NATIVE
char LICENSE[] SEC("license") = "Dual BSD/GPL";
#endif
