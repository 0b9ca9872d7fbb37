// SPDX-License-Identifier: BSD-3-Clause
/*
 * l4filter: a branchy firewall-style benchmark program (section "raw"),
 * the kind of code where an interpreter's dispatch cost dominates.
 *
 * Parses Ethernet (one optional 802.1Q tag), IPv4 (with options) or IPv6,
 * TCP or UDP, and walks a small rule list: deny 10.66.0.0/16, allow DNS,
 * allow TCP to 22/80/443 except from 192.168.13.0/24 to 22, count TCP
 * flags. Returns a verdict code (0 drop, 1 allow, 2 not IP) in the low
 * byte and a flag/port summary above it.
 *
 * Raw convention (sluice bench, librte_bpf): r1 = the packet at the start
 * of a zero-padded 2048-byte buffer; every offset stays below 14 + 4 + 60 +
 * 20, so no length is needed.
 *
 *   clang -O2 -target bpf -c l4filter.bpf.c           eBPF object, section "raw"
 *   gcc -O2 -shared -fPIC -DSL_NATIVE l4filter.bpf.c   native, symbol `entry`
 */
#ifdef SL_NATIVE
#include <stdint.h>
typedef uint8_t __u8;
typedef uint32_t __u32;
typedef uint64_t __u64;
#define SEC(name)
#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif
#define L4FILTER_ENTRY entry
#else
#include <linux/types.h>
#include <bpf/bpf_helpers.h>
#define L4FILTER_ENTRY l4filter
#endif

static __always_inline __u32 rd16(const __u8 *p, __u32 off)
{
	return ((__u32)p[off] << 8) | p[off + 1];
}

static __always_inline __u32 rd32(const __u8 *p, __u32 off)
{
	return ((__u32)p[off] << 24) | ((__u32)p[off + 1] << 16) | ((__u32)p[off + 2] << 8) |
	       p[off + 3];
}

/* Rule walk on an L4 header: 1 allow, 0 drop. */
static __always_inline __u64 rules(__u32 saddr, __u32 l4proto, const __u8 *l4)
{
	__u32 sport = rd16(l4, 0), dport = rd16(l4, 2);
	__u64 summary = (__u64)dport << 16;

	if ((saddr & 0xffff0000) == 0x0a420000)            /* 10.66.0.0/16 */
		return summary;
	if (l4proto == 17) {
		if (dport == 53 || sport == 53)
			return summary | 1;
		return summary | (dport >= 1024 && sport >= 1024);
	}
	if (l4proto != 6)
		return summary;
	summary |= (__u64)(l4[13] & 0x3f) << 8;             /* TCP flags */
	if (dport == 22)
		return summary | ((saddr & 0xffffff00) != 0xc0a80d00);
	if (dport == 80 || dport == 443 || dport == 8080)
		return summary | 1;
	if ((l4[13] & 0x12) == 0x12)                         /* SYN-ACK from a server */
		return summary | 1;
	return summary | (sport == 80 || sport == 443);
}

#ifdef SL_NATIVE
__u64 entry(__u8 *pkt);
#endif

SEC("raw")
__u64 L4FILTER_ENTRY(__u8 *pkt)
{
	__u32 proto = rd16(pkt, 12), off = 14;

	if (proto == 0x8100) {
		proto = rd16(pkt, 16);
		off = 18;
	}
	if (proto == 0x0800) {
		const __u8 *ip = pkt + off;
		__u32 ihl = (ip[0] & 0x0f) * 4;

		if ((ip[0] >> 4) != 4 || ihl < 20 || (rd16(ip, 6) & 0x1fff))
			return 2;
		return rules(rd32(ip, 12), ip[9], ip + ihl);
	}
	if (proto == 0x86dd) {
		const __u8 *ip = pkt + off;

		if ((ip[0] >> 4) != 6)
			return 2;
		/* IPv6: the low 32 bits of the source take part in the prefix rules */
		return rules(rd32(ip, 20), ip[6], ip + 40);
	}
	return 2;
}

#ifndef SL_NATIVE
char LICENSE[] SEC("license") = "Dual BSD/GPL";
#endif
