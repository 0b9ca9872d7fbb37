/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Tracked numbers: a value whose bits are each known (0 or 1) or unknown.
 * (value, mask): a bit set in mask is unknown; value holds the known bits
 * and is 0 where mask is 1. The arithmetic follows the kernel's tnum.c
 * algorithms (Harishankar Vishwanathan et al. for add/sub/mul).
 */
#include <stdio.h>

#include "verifier_internal.h"

struct tnum v_tnum_const(uint64_t v)
{
	return (struct tnum){ v, 0 };
}

struct tnum v_tnum_unknown(void)
{
	return (struct tnum){ 0, UINT64_MAX };
}

/* Smallest tnum holding every value of [min, max]. */
struct tnum v_tnum_range(uint64_t min, uint64_t max)
{
	uint64_t chi = min ^ max, delta;
	unsigned bits = chi ? 64 - (unsigned)__builtin_clzll(chi) : 0;

	if (min > max || bits > 63)
		return v_tnum_unknown();
	delta = (1ull << bits) - 1;
	return (struct tnum){ min & ~delta, delta };
}

struct tnum v_tnum_add(struct tnum a, struct tnum b)
{
	uint64_t sm = a.mask + b.mask, sv = a.value + b.value;
	uint64_t chi = (sm + sv) ^ sv, mu = chi | a.mask | b.mask;

	return (struct tnum){ sv & ~mu, mu };
}

struct tnum v_tnum_sub(struct tnum a, struct tnum b)
{
	uint64_t dv = a.value - b.value;
	uint64_t alpha = dv + a.mask, beta = dv - b.mask;
	uint64_t mu = (alpha ^ beta) | a.mask | b.mask;

	return (struct tnum){ dv & ~mu, mu };
}

struct tnum v_tnum_and(struct tnum a, struct tnum b)
{
	uint64_t alpha = a.value | a.mask, beta = b.value | b.mask, v = a.value & b.value;

	return (struct tnum){ v, alpha & beta & ~v };
}

struct tnum v_tnum_or(struct tnum a, struct tnum b)
{
	uint64_t v = a.value | b.value, mu = a.mask | b.mask;

	return (struct tnum){ v, mu & ~v };
}

struct tnum v_tnum_xor(struct tnum a, struct tnum b)
{
	uint64_t v = a.value ^ b.value, mu = a.mask | b.mask;

	return (struct tnum){ v & ~mu, mu };
}

struct tnum v_tnum_lshift(struct tnum a, unsigned s)
{
	return (struct tnum){ a.value << s, a.mask << s };
}

struct tnum v_tnum_rshift(struct tnum a, unsigned s)
{
	return (struct tnum){ a.value >> s, a.mask >> s };
}

/* Arithmetic right shift of a @p width-bit (32 or 64) tnum. */
struct tnum v_tnum_arshift(struct tnum a, unsigned s, unsigned width)
{
	if (width == 32)
		return (struct tnum){ (uint32_t)((int32_t)a.value >> s),
				      (uint32_t)((int32_t)a.mask >> s) };
	return (struct tnum){ (uint64_t)((int64_t)a.value >> s), (uint64_t)((int64_t)a.mask >> s) };
}

struct tnum v_tnum_mul(struct tnum a, struct tnum b)
{
	uint64_t acc_v = a.value * b.value;
	struct tnum acc_m = { 0, 0 };

	while (a.value || a.mask) {
		if (a.value & 1)
			acc_m = v_tnum_add(acc_m, (struct tnum){ 0, b.mask });
		else if (a.mask & 1)
			acc_m = v_tnum_add(acc_m, (struct tnum){ 0, b.value | b.mask });
		a = v_tnum_rshift(a, 1);
		b = v_tnum_lshift(b, 1);
	}
	return v_tnum_add((struct tnum){ acc_v, 0 }, acc_m);
}

/* Values in both a and b (callers check v_tnum_conflict() first). */
struct tnum v_tnum_intersect(struct tnum a, struct tnum b)
{
	uint64_t v = a.value | b.value, mu = a.mask & b.mask;

	return (struct tnum){ v & ~mu, mu };
}

/* True when a and b share no value (a known bit differs). */
bool v_tnum_conflict(struct tnum a, struct tnum b)
{
	return ((a.value ^ b.value) & ~(a.mask | b.mask)) != 0;
}

struct tnum v_tnum_cast(struct tnum a, unsigned bytes)
{
	if (bytes >= 8)
		return a;
	uint64_t m = (1ull << (bytes * 8)) - 1;

	return (struct tnum){ a.value & m, a.mask & m };
}

struct tnum v_tnum_subreg(struct tnum a)
{
	return v_tnum_cast(a, 4);
}

struct tnum v_tnum_clear_subreg(struct tnum a)
{
	return v_tnum_lshift(v_tnum_rshift(a, 32), 32);
}

/* @p reg with its low 32 bits replaced by @p sub. */
struct tnum v_tnum_with_subreg(struct tnum reg, struct tnum sub)
{
	return v_tnum_or(v_tnum_clear_subreg(reg), v_tnum_subreg(sub));
}

bool v_tnum_is_const(struct tnum a)
{
	return a.mask == 0;
}

/* True when every value of @p inner is a value of @p outer. */
bool v_tnum_in(struct tnum outer, struct tnum inner)
{
	if (inner.mask & ~outer.mask)
		return false;
	return outer.value == (inner.value & ~outer.mask);
}

int v_tnum_str(char *buf, size_t len, struct tnum a)
{
	return snprintf(buf, len, "(0x%llx; 0x%llx)", (unsigned long long)a.value,
			(unsigned long long)a.mask);
}
