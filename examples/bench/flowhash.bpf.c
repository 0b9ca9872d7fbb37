// SPDX-License-Identifier: BSD-3-Clause
/*
 * flowhash: a compute-heavy benchmark program (section "raw").
 *
 * Parses Ethernet with up to two VLAN tags (802.1Q / 802.1ad), IPv4 (with
 * options) or IPv6 (skipping one hop-by-hop / routing / destination-options
 * header), TCP or UDP ports (none for IPv4 fragments), and hashes the
 * 5-tuple with several mixing rounds. Returns the 64-bit hash, or 0 for a
 * frame that is not IP.
 *
 * Raw program convention (sluice bench, librte_bpf data-pointer programs):
 * r1 points to the packet at the start of a zero-padded 2048-byte buffer.
 * The length is not needed: every offset stays inside the buffer by
 * construction (at most 22 + 40 + 256 + 4 bytes in), and the zero padding
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

static __always_inline __u32 rd16(const __u8 *p, __u32 off)
{
	return ((__u32)p[off] << 8) | p[off + 1];
}

static __always_inline __u32 rd32(const __u8 *p, __u32 off)
{
	return ((__u32)p[off] << 24) | ((__u32)p[off + 1] << 16) | ((__u32)p[off + 2] << 8) |
	       p[off + 3];
}

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
	__u32 off = 12, proto, l4 = 0, l4proto = 0, ports = 0;
	__u64 h = 0x736c75696365ull;  /* "sluice" */

	proto = rd16(pkt, off);
	if (proto == 0x88a8 || proto == 0x8100) {      /* outer tag */
		off += 4;
		proto = rd16(pkt, off);
		if (proto == 0x8100) {                      /* inner tag */
			off += 4;
			proto = rd16(pkt, off);
		}
	}
	off += 2;                                           /* L3, at most 22 */
	if (proto == 0x0800) {
		__u32 ihl = (pkt[off] & 0x0f) * 4;

		if ((pkt[off] >> 4) != 4 || ihl < 20)
			return 0;
		l4proto = pkt[off + 9];
		h = absorb(h, rd32(pkt, off + 12));
		h = absorb(h, rd32(pkt, off + 16));
		if ((rd16(pkt, off + 6) & 0x1fff) == 0)     /* first fragment or whole */
			l4 = off + ihl;
	} else if (proto == 0x86dd) {
		if ((pkt[off] >> 4) != 6)
			return 0;
		l4proto = pkt[off + 6];
UNROLL
		for (int i = 0; i < 8; i++)
			h = absorb(h, rd32(pkt, off + 8 + 4 * i));
		l4 = off + 40;
		if (l4proto == 0 || l4proto == 43 || l4proto == 60) {  /* one extension header */
			__u32 hlen = pkt[l4 + 1];

			l4proto = pkt[l4];
			if (hlen < 32)                      /* longer ones: no ports */
				l4 += ((hlen & 31) + 1) * 8; /* at most 62 + 256 */
			else
				l4 = 0;
		}
	} else {
		return 0;
	}
	if ((l4proto == 6 || l4proto == 17) && l4)
		ports = rd32(pkt, l4);                      /* source port, destination port */
	h = absorb(h, ((__u64)l4proto << 32) | ports);
	return finish(h);
}

#ifndef SL_NATIVE
char LICENSE[] SEC("license") = "Dual BSD/GPL";
#endif
