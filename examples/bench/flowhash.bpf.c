// SPDX-License-Identifier: BSD-3-Clause
/*
 * flowhash: a compute-heavy benchmark program (section "raw").
 *
 * Parses Ethernet with up to two VLAN tags (802.1Q / 802.1ad), IPv4 (with
 * options) or IPv6 (no extension headers: their ports count as 0), TCP or
 * UDP ports (none for IPv4 fragments), and hashes the
 * 5-tuple with several mixing rounds. Returns the 64-bit hash, or 0 for a
 * frame that is not IP.
 *
 * Raw program convention (sluice bench, librte_bpf data-pointer programs):
 * r1 points to the packet at the start of a zero-padded 2048-byte buffer.
 * The length is not needed: every offset stays inside the buffer by
 * construction (at most 22 + 60 + 4 bytes in), and the zero padding
 * reads as zero bytes past the end of a short packet.
 *
 * One source, two builds:
 *   clang -O2 -target bpf -c flowhash.bpf.c          eBPF object, section "raw"
 *   gcc -O2 -shared -fPIC -DSL_NATIVE flowhash.bpf.c  native, symbol `entry`
 *                                                     (sluice bench --native)
 */
#ifdef SL_NATIVE
#include <stdint.h>
typedef uint8_t __u8;
typedef uint16_t __u16;
typedef uint32_t __u32;
typedef uint64_t __u64;
#define SEC(name)
#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif
#define FLOWHASH_ENTRY entry
#define UNROLL _Pragma("GCC unroll 8")
#else
#include <linux/types.h>
#include <bpf/bpf_helpers.h>
#define FLOWHASH_ENTRY flowhash
#define UNROLL _Pragma("unroll")
#endif

#define MIX_ROUNDS 4

/*
 * Big-endian loads as real programs write them (struct fields + ntohs/ntohl):
 * one 16/32-bit load and a byte swap. Packet headers are only 2-byte
 * aligned; x86 does not care, and the eBPF JITs do not either.
 */
#ifdef SL_NATIVE
static __always_inline __u32 rd16(const __u8 *p, __u32 off)
{
	__u16 v;

	__builtin_memcpy(&v, p + off, 2);
	return __builtin_bswap16(v);
}

static __always_inline __u32 rd32(const __u8 *p, __u32 off)
{
	__u32 v;

	__builtin_memcpy(&v, p + off, 4);
	return __builtin_bswap32(v);
}
#else
static __always_inline __u32 rd16(const __u8 *p, __u32 off)
{
	return __builtin_bswap16(*(const __u16 *)(p + off));
}

static __always_inline __u32 rd32(const __u8 *p, __u32 off)
{
	return __builtin_bswap32(*(const __u32 *)(p + off));
}
#endif

static __always_inline __u64 rotl(__u64 x, int r)
{
	return (x << r) | (x >> (64 - r));
}

/* One absorption step: murmur-style multiply, rotate, multiply. */
static __always_inline __u64 absorb(__u64 h, __u64 v)
{
	v *= 0x87c37b91114253d5ull;
	v = rotl(v, 31);
	v *= 0x4cf5ad432745937full;
	h ^= v;
	h = rotl(h, 27) * 5 + 0x52dce729;
	return h;
}

/* Final avalanche, repeated MIX_ROUNDS times with different constants. */
static __always_inline __u64 finish(__u64 h)
{
UNROLL
	for (int i = 0; i < MIX_ROUNDS; i++) {
		h ^= h >> 33;
		h *= 0xff51afd7ed558ccdull + 2 * (__u64)i;
		h ^= h >> 29;
		h *= 0xc4ceb9fe1a85ec53ull;
		h ^= h >> 32;
	}
	return h;
}

#ifdef SL_NATIVE
__u64 entry(__u8 *pkt);
#endif

SEC("raw")
__u64 FLOWHASH_ENTRY(__u8 *pkt)
{
	__u32 proto, l4proto, ports = 0, l4ok = 0;
	const __u8 *ip = pkt + 14, *l4;
	__u64 h = 0x736c75696365ull;  /* "sluice" */

	proto = rd16(pkt, 12);
	if (proto == 0x88a8 || proto == 0x8100) {      /* outer tag */
		proto = rd16(pkt, 16);
		ip = pkt + 18;
		if (proto == 0x8100) {                      /* inner tag */
			proto = rd16(pkt, 20);
			ip = pkt + 22;
		}
	}
	if (proto == 0x0800) {
		__u32 ihl = (ip[0] & 0x0f) * 4;

		if ((ip[0] >> 4) != 4 || ihl < 20)
			return 0;
		l4proto = ip[9];
		h = absorb(h, rd32(ip, 12));
		h = absorb(h, rd32(ip, 16));
		l4 = ip + ihl;
		l4ok = (rd16(ip, 6) & 0x1fff) == 0;         /* first fragment or whole */
	} else if (proto == 0x86dd) {
		if ((ip[0] >> 4) != 6)
			return 0;
		l4proto = ip[6];
UNROLL
		for (int i = 0; i < 8; i++)
			h = absorb(h, rd32(ip, 8 + 4 * i));
		l4 = ip + 40;
		l4ok = 1;
	} else {
		return 0;
	}
	if ((l4proto == 6 || l4proto == 17) && l4ok)
		ports = rd32(l4, 0);                        /* source port, destination port */
	h = absorb(h, ((__u64)l4proto << 32) | ports);
	return finish(h);
}

#ifndef SL_NATIVE
char LICENSE[] SEC("license") = "Dual BSD/GPL";
#endif
