/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Shared shims of the real-world-shape benchmark programs (jhash, crc32,
 * siphash, maglev, csum, v6walk, katran, classify): one source builds as
 * an eBPF object (clang -target bpf, section "raw", -mcpu=v1 or v3) and
 * natively (gcc -O2 -DSL_NATIVE, a shared module exporting `entry`), as
 * flowhash.bpf.c does.
 *
 * Raw convention (sluice bench, librte_bpf data-pointer programs): r1
 * points to the packet at the start of a zero-padded 2048-byte buffer, so
 * reads up to a fixed offset need no length check (a short packet reads
 * zeros).
 *
 * Loads of header fields are written as real programs write them: a
 * struct field / pointer load and bpf_ntohs / bpf_ntohl (a byte swap).
 */
#ifndef SL_BENCH_SHAPES_H
#define SL_BENCH_SHAPES_H

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
#define BENCH_ENTRY(name) entry
#define UNROLL _Pragma("GCC unroll 16")
/* Packet fields are only 2-byte aligned: memcpy is how C says "unaligned load". */
static __always_inline __u32 ld16(const __u8 *p, __u32 off)
{
	__u16 v;

	__builtin_memcpy(&v, p + off, 2);
	return v;
}

static __always_inline __u32 ld32(const __u8 *p, __u32 off)
{
	__u32 v;

	__builtin_memcpy(&v, p + off, 4);
	return v;
}

static __always_inline __u64 ld64(const __u8 *p, __u32 off)
{
	__u64 v;

	__builtin_memcpy(&v, p + off, 8);
	return v;
}
#else
#include <linux/types.h>
#include <bpf/bpf_helpers.h>
#define BENCH_ENTRY(name) name
#define UNROLL _Pragma("unroll")
static __always_inline __u32 ld16(const __u8 *p, __u32 off)
{
	return *(const __u16 *)(p + off);
}

static __always_inline __u32 ld32(const __u8 *p, __u32 off)
{
	return *(const __u32 *)(p + off);
}

static __always_inline __u64 ld64(const __u8 *p, __u32 off)
{
	return *(const __u64 *)(p + off);
}
#endif

/* Hide a value from the compiler (a bounds check it would drop must stay for the verifier). */
#define OPAQUE(x) __asm__ volatile("" : "+r"(x))

#define BE16(p, off) ((__u32)__builtin_bswap16((__u16)ld16(p, off)))
#define BE32(p, off) __builtin_bswap32(ld32(p, off))

#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86dd
#define ETH_P_8021Q 0x8100

/* The L3 header after Ethernet and at most one 802.1Q tag; *proto = the ethertype. */
static __always_inline const __u8 *l3_of(const __u8 *pkt, __u32 *proto)
{
	__u32 p = BE16(pkt, 12);

	if (p == ETH_P_8021Q) {
		*proto = BE16(pkt, 16);
		return pkt + 18;
	}
	*proto = p;
	return pkt + 14;
}

static __always_inline __u32 rol32(__u32 x, int r)
{
	return (x << r) | (x >> (32 - r));
}

static __always_inline __u64 rol64(__u64 x, int r)
{
	return (x << r) | (x >> (64 - r));
}

/* lookup3 (Bob Jenkins), as the kernel's <linux/jhash.h> */
#define JHASH_INITVAL 0xdeadbeef

#define JHASH_MIX(a, b, c) do {                              \
	a -= c; a ^= rol32(c, 4);  c += b;                   \
	b -= a; b ^= rol32(a, 6);  a += c;                   \
	c -= b; c ^= rol32(b, 8);  b += a;                   \
	a -= c; a ^= rol32(c, 16); c += b;                   \
	b -= a; b ^= rol32(a, 19); a += c;                   \
	c -= b; c ^= rol32(b, 4);  b += a;                   \
} while (0)

#define JHASH_FINAL(a, b, c) do {                            \
	c ^= b; c -= rol32(b, 14);                           \
	a ^= c; a -= rol32(c, 11);                           \
	b ^= a; b -= rol32(a, 25);                           \
	c ^= b; c -= rol32(b, 16);                           \
	a ^= c; a -= rol32(c, 4);                            \
	b ^= a; b -= rol32(a, 14);                           \
	c ^= b; c -= rol32(b, 24);                           \
} while (0)

static __always_inline __u32 jhash_3words(__u32 a, __u32 b, __u32 c, __u32 initval)
{
	initval += JHASH_INITVAL + (3 << 2);
	a += initval;
	b += initval;
	c += initval;
	JHASH_FINAL(a, b, c);
	return c;
}

#endif /* SL_BENCH_SHAPES_H */
