/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Scalars: known bits (tnum) plus signed and unsigned ranges, in 64 bits and
 * in the low 32 bits, kept consistent by v_reg_sync(); the ALU transfer
 * functions; and the refinement of both operands of a conditional jump on
 * each branch, which also decides branches (a branch whose constraint makes
 * a range empty is dead).
 *
 * Every operation works on a "view": the 64-bit value, or the 32-bit
 * subregister (values in the low bits, signed bounds sign-extended), so one
 * function serves ALU and ALU64, JMP and JMP32.
 */
#include <errno.h>
#include <string.h>

#include "verifier_internal.h"

struct bview {
	struct tnum t;
	uint64_t umin, umax;
	int64_t smin, smax;
	unsigned bits;
};

#define SIGN64 (1ull << 63)

static uint64_t umax_w(unsigned bits)
{
	return bits == 64 ? UINT64_MAX : UINT32_MAX;
}

static int64_t smin_w(unsigned bits)
{
	return bits == 64 ? INT64_MIN : INT32_MIN;
}

static int64_t smax_w(unsigned bits)
{
	return bits == 64 ? INT64_MAX : INT32_MAX;
}

static void view_full(struct bview *v, unsigned bits)
{
	v->bits = bits;
	v->t = v_tnum_cast(v_tnum_unknown(), bits / 8);
	v->umin = 0;
	v->umax = umax_w(bits);
	v->smin = smin_w(bits);
	v->smax = smax_w(bits);
}

static void view_const(struct bview *v, unsigned bits, uint64_t x)
{
	v->bits = bits;
	if (bits == 32)
		x = (uint32_t)x;
	v->t = v_tnum_const(x);
	v->umin = v->umax = x;
	v->smin = v->smax = bits == 32 ? (int64_t)(int32_t)x : (int64_t)x;
}

static struct bview view_of(const struct vreg *r, unsigned bits)
{
	struct bview v = { .bits = bits };

	if (bits == 64) {
		v.t = r->var_off;
		v.umin = r->umin, v.umax = r->umax, v.smin = r->smin, v.smax = r->smax;
	} else {
		v.t = v_tnum_subreg(r->var_off);
		v.umin = r->u32min, v.umax = r->u32max, v.smin = r->s32min, v.smax = r->s32max;
	}
	return v;
}

static bool view_is_const(const struct bview *v)
{
	return v_tnum_is_const(v->t);
}

/* ---- register basics ---- */

void v_reg_mark_not_init(struct vreg *r)
{
	memset(r, 0, sizeof(*r));
}

static void reg_unbound(struct vreg *r)
{
	r->var_off = v_tnum_unknown();
	r->smin = INT64_MIN, r->smax = INT64_MAX;
	r->umin = 0, r->umax = UINT64_MAX;
	r->s32min = INT32_MIN, r->s32max = INT32_MAX;
	r->u32min = 0, r->u32max = UINT32_MAX;
}

void v_reg_mark_unknown(struct vreg *r)
{
	memset(r, 0, sizeof(*r));
	r->type = V_SCALAR;
	reg_unbound(r);
}

void v_reg_mark_const(struct vreg *r, uint64_t v)
{
	memset(r, 0, sizeof(*r));
	r->type = V_SCALAR;
	r->var_off = v_tnum_const(v);
	r->smin = r->smax = (int64_t)v;
	r->umin = r->umax = v;
	r->s32min = r->s32max = (int32_t)v;
	r->u32min = r->u32max = (uint32_t)v;
}

bool v_reg_is_const(const struct vreg *r)
{
	return r->type == V_SCALAR && v_tnum_is_const(r->var_off);
}

bool v_reg_is_const32(const struct vreg *r)
{
	return r->type == V_SCALAR && v_tnum_is_const(v_tnum_subreg(r->var_off));
}

bool v_reg_invalid(const struct vreg *r)
{
	return r->smin > r->smax || r->umin > r->umax || r->s32min > r->s32max ||
	       r->u32min > r->u32max || (r->var_off.value & r->var_off.mask);
}

#define TIGHTEN(lo, hi, nlo, nhi) do { if ((nlo) > (lo)) (lo) = (nlo); \
				       if ((nhi) < (hi)) (hi) = (nhi); } while (0)

static void bounds_from_tnum(struct vreg *r)
{
	struct tnum t = r->var_off, t32 = v_tnum_subreg(r->var_off);

	TIGHTEN(r->umin, r->umax, t.value, t.value | t.mask);
	TIGHTEN(r->smin, r->smax, (int64_t)(t.value | (t.mask & SIGN64)),
		(int64_t)(t.value | (t.mask & ~SIGN64)));
	TIGHTEN(r->u32min, r->u32max, (uint32_t)t32.value, (uint32_t)(t32.value | t32.mask));
	TIGHTEN(r->s32min, r->s32max, (int32_t)(t32.value | (t32.mask & 0x80000000u)),
		(int32_t)(t32.value | (t32.mask & 0x7fffffffu)));
}

/*
 * deduce64 / deduce32: make a register's signed and unsigned ranges agree.
 *
 * Invariant (what every bound means): the register's 64-bit pattern x lies in
 * [umin, umax] read as unsigned AND in [smin, smax] read as signed; both are
 * sound over-approximations kept apart because each ALU op is easier to bound
 * in one view. Nothing here widens a bound, so the result stays sound; it may
 * come out empty (lo > hi): no x satisfies both, the path cannot happen, and
 * v_reg_invalid() is how callers see it (a branch refined into nothing is not
 * walked).
 *
 * The two views order bit patterns the same way within each half of the
 * number line: patterns with the sign bit clear are the same numbers in both
 * views; patterns with it set are u = s + 2^64, still in the same order. So
 * when every possible x is known to lie in ONE half, the two ranges are two
 * intervals of the same ordered set and can simply be intersected. Which half
 * x lies in can be learnt from either view; that gives the three cases (the
 * kernel's __reg64_deduce_bounds reasons the same way: first "learn sign from
 * signed bounds", then "learn sign from unsigned bounds"):
 *
 *   1. [smin, smax] does not cross 0 (smin >= 0: all x in the low half, or
 *      smax < 0: all in the high half). The signed bounds cast to unsigned
 *      keep their order, so both views become [max(umin, (u64)smin),
 *      min(umax, (u64)smax)].
 *   2. The signed range crosses 0 but umax has the sign bit clear: every x is
 *      below 2^63, i.e. non-negative. Then smin (< 0) is replaced by umin
 *      (>= 0, larger); smax (>= 0) and umax are now bounds on the same numbers,
 *      so both become their minimum.
 *   3. The signed range crosses 0 and umin has the sign bit set: every x is
 *      negative as signed. umin and (u64)smin are both in the high half:
 *      keep the larger and copy it to smin. smax (>= 0) says nothing a negative
 *      number does not already satisfy, so smax simply becomes (s64)umax
 *      (negative, below it), and umax is left alone.
 *   Otherwise (signed crosses 0, unsigned crosses 2^63) x may lie in either
 *   half: nothing can be learnt, both ranges stay as they are.
 *
 * deduce32 is the same reasoning for the low 32 bits (u32min.. / s32min..,
 * sign bit 31). v_reg_sync() runs both between the 64<->32 and tnum syncs,
 * twice, so facts learnt in one view reach the others.
 */
static void deduce64(struct vreg *r)
{
	if (r->smin >= 0 || r->smax < 0) {
		uint64_t lo = (uint64_t)r->smin > r->umin ? (uint64_t)r->smin : r->umin;
		uint64_t hi = (uint64_t)r->smax < r->umax ? (uint64_t)r->smax : r->umax;

		r->umin = lo, r->smin = (int64_t)lo;
		r->umax = hi, r->smax = (int64_t)hi;
	} else if ((int64_t)r->umax >= 0) {
		r->smin = (int64_t)r->umin;
		if ((uint64_t)r->smax < r->umax)
			r->umax = (uint64_t)r->smax;
		r->smax = (int64_t)r->umax;
	} else if ((int64_t)r->umin < 0) {
		if ((uint64_t)r->smin > r->umin)
			r->umin = (uint64_t)r->smin;
		r->smin = (int64_t)r->umin;
		r->smax = (int64_t)r->umax;
	}
}

/* deduce64's three cases on the 32-bit subregister bounds (see above). */
static void deduce32(struct vreg *r)
{
	if (r->s32min >= 0 || r->s32max < 0) {
		uint32_t lo = (uint32_t)r->s32min > r->u32min ? (uint32_t)r->s32min : r->u32min;
		uint32_t hi = (uint32_t)r->s32max < r->u32max ? (uint32_t)r->s32max : r->u32max;

		r->u32min = lo, r->s32min = (int32_t)lo;
		r->u32max = hi, r->s32max = (int32_t)hi;
	} else if ((int32_t)r->u32max >= 0) {
		r->s32min = (int32_t)r->u32min;
		if ((uint32_t)r->s32max < r->u32max)
			r->u32max = (uint32_t)r->s32max;
		r->s32max = (int32_t)r->u32max;
	} else if ((int32_t)r->u32min < 0) {
		if ((uint32_t)r->s32min > r->u32min)
			r->u32min = (uint32_t)r->s32min;
		r->s32min = (int32_t)r->u32min;
		r->s32max = (int32_t)r->u32max;
	}
}

/* The low 32 bits of a 64-bit range whose upper half is fixed. */
static void sync_64_to_32(struct vreg *r)
{
	if ((r->umin >> 32) == (r->umax >> 32)) {
		TIGHTEN(r->u32min, r->u32max, (uint32_t)r->umin, (uint32_t)r->umax);
		if ((int32_t)r->umin <= (int32_t)r->umax)
			TIGHTEN(r->s32min, r->s32max, (int32_t)r->umin, (int32_t)r->umax);
	}
	if ((r->smin >> 32) == (r->smax >> 32)) {
		if ((uint32_t)r->smin <= (uint32_t)r->smax)
			TIGHTEN(r->u32min, r->u32max, (uint32_t)r->smin, (uint32_t)r->smax);
		if ((int32_t)r->smin <= (int32_t)r->smax)
			TIGHTEN(r->s32min, r->s32max, (int32_t)r->smin, (int32_t)r->smax);
	}
}

static void sync_32_to_64(struct vreg *r)
{
	if ((r->umin >> 32) == (r->umax >> 32)) {
		uint64_t hi = r->umin & ~0xffffffffull;

		TIGHTEN(r->umin, r->umax, hi | r->u32min, hi | r->u32max);
	}
	if ((r->smin >> 32) == (r->smax >> 32)) {
		uint64_t hi = (uint64_t)r->smin & ~0xffffffffull;

		TIGHTEN(r->smin, r->smax, (int64_t)(hi | r->u32min), (int64_t)(hi | r->u32max));
	}
}

static void tnum_from_bounds(struct vreg *r)
{
	struct tnum t = v_tnum_range(r->umin, r->umax), t32;

	if (r->umin <= r->umax) {
		if (v_tnum_conflict(r->var_off, t))
			r->umin = 1, r->umax = 0;
		else
			r->var_off = v_tnum_intersect(r->var_off, t);
	}
	t = v_tnum_range(r->u32min, r->u32max);
	t32 = v_tnum_subreg(r->var_off);
	if (r->u32min <= r->u32max) {
		if (v_tnum_conflict(t32, t))
			r->u32min = 1, r->u32max = 0;
		else
			r->var_off = v_tnum_with_subreg(r->var_off, v_tnum_intersect(t32, t));
	}
}

/* Make tnum, 64-bit and 32-bit bounds agree; only ever tightens. */
void v_reg_sync(struct vreg *r)
{
	for (int round = 0; round < 2; round++) {
		bounds_from_tnum(r);
		sync_64_to_32(r);
		deduce32(r);
		sync_32_to_64(r);
		deduce64(r);
		tnum_from_bounds(r);
	}
	bounds_from_tnum(r);
}

/*
 * Zero-extended: the low @p bytes of @p r (a truncation, as the kernel's
 * coerce_reg_to_size(): bounds survive only when the high bits are fixed).
 * Sign-extended: bounds of a freshly loaded value (@p r unknown).
 */
void v_reg_mark_sized(struct vreg *r, unsigned bytes, bool sign)
{
	uint64_t mask;

	if (bytes >= 8)
		return;
	mask = (1ull << (bytes * 8)) - 1;   /* after the check: a shift by 64 is undefined */
	if (sign) {
		int64_t lim = 1ll << (bytes * 8 - 1);

		TIGHTEN(r->smin, r->smax, -lim, lim - 1);
		v_reg_sync(r);
		return;
	}
	r->var_off = v_tnum_cast(r->var_off, bytes);
	if ((r->umin & ~mask) == (r->umax & ~mask))
		r->umin &= mask, r->umax &= mask;
	else
		r->umin = 0, r->umax = mask;
	r->smin = (int64_t)r->umin, r->smax = (int64_t)r->umax;
	r->u32min = 0, r->u32max = UINT32_MAX;
	r->s32min = INT32_MIN, r->s32max = INT32_MAX;
	v_reg_sync(r);
}

/* Zero-extend the low 32 bits into the register (result of a 32-bit op). */
void v_reg_zext32(struct vreg *r)
{
	r->var_off = v_tnum_subreg(r->var_off);
	r->umin = r->u32min, r->umax = r->u32max;
	r->smin = (int64_t)r->umin, r->smax = (int64_t)r->umax;
	v_reg_sync(r);
}

static void view_store_result(struct vreg *r, const struct bview *v)
{
	v_reg_mark_unknown(r);
	if (v->bits == 64) {
		r->var_off = v->t;
		r->umin = v->umin, r->umax = v->umax, r->smin = v->smin, r->smax = v->smax;
		v_reg_sync(r);
		return;
	}
	r->var_off = v_tnum_subreg(v->t);
	r->u32min = (uint32_t)v->umin, r->u32max = (uint32_t)v->umax;
	r->s32min = (int32_t)v->smin, r->s32max = (int32_t)v->smax;
	v_reg_sync(r);
	v_reg_zext32(r);
}

static void view_store_refined(struct vreg *r, const struct bview *v)
{
	if (v->bits == 64) {
		r->var_off = v->t;
		r->umin = v->umin, r->umax = v->umax, r->smin = v->smin, r->smax = v->smax;
	} else {
		r->var_off = v_tnum_with_subreg(r->var_off, v->t);
		r->u32min = (uint32_t)v->umin, r->u32max = (uint32_t)v->umax;
		r->s32min = (int32_t)v->smin, r->s32max = (int32_t)v->smax;
	}
	if (v->umin > v->umax || v->smin > v->smax)
		r->umin = 1, r->umax = 0;
	v_reg_sync(r);
}

/* ---- constant folding with the RFC 9669 semantics ---- */

static uint64_t eval_alu(uint8_t op, int16_t off, unsigned bits, uint64_t a, uint64_t b)
{
	uint64_t m = umax_w(bits);
	unsigned sh = (unsigned)(b & (bits - 1));

	a &= m, b &= m;
	switch (op) {
	case BPF_ADD: return (a + b) & m;
	case BPF_SUB: return (a - b) & m;
	case BPF_MUL: return (a * b) & m;
	case BPF_OR: return a | b;
	case BPF_AND: return a & b;
	case BPF_XOR: return a ^ b;
	case BPF_LSH: return (a << sh) & m;
	case BPF_RSH: return a >> sh;
	case BPF_ARSH:
		return bits == 64 ? (uint64_t)((int64_t)a >> sh) : (uint32_t)((int32_t)a >> sh);
	case BPF_NEG: return (0 - a) & m;
	case BPF_DIV:
		if (!b)
			return 0;
		if (!off)
			return a / b;
		if (bits == 64)
			return (int64_t)b == -1 ? (0 - a) : (uint64_t)((int64_t)a / (int64_t)b);
		return (int32_t)b == -1 ? (0 - a) & m : (uint32_t)((int32_t)a / (int32_t)b);
	case BPF_MOD:
		if (!b)
			return a;
		if (!off)
			return a % b;
		if (bits == 64)
			return (int64_t)b == -1 ? 0 : (uint64_t)((int64_t)a % (int64_t)b);
		return (int32_t)b == -1 ? 0 : (uint32_t)((int32_t)a % (int32_t)b);
	}
	return 0;
}

/* ---- transfer functions on views ---- */

static void alu_add(struct bview *r, const struct bview *a, const struct bview *b)
{
	unsigned bits = a->bits;
	uint64_t m = umax_w(bits);

	r->t = v_tnum_cast(v_tnum_add(a->t, b->t), bits / 8);
	if (a->umax + b->umax < a->umax || a->umax + b->umax > m)
		r->umin = 0, r->umax = m;
	else
		r->umin = a->umin + b->umin, r->umax = a->umax + b->umax;
	int64_t lo, hi;

	if (__builtin_add_overflow(a->smin, b->smin, &lo) ||
	    __builtin_add_overflow(a->smax, b->smax, &hi) || lo < smin_w(bits) || hi > smax_w(bits))
		r->smin = smin_w(bits), r->smax = smax_w(bits);
	else
		r->smin = lo, r->smax = hi;
}

static void alu_sub(struct bview *r, const struct bview *a, const struct bview *b)
{
	unsigned bits = a->bits;
	int64_t lo, hi;

	r->t = v_tnum_cast(v_tnum_sub(a->t, b->t), bits / 8);
	if (a->umin < b->umax)
		r->umin = 0, r->umax = umax_w(bits);
	else
		r->umin = a->umin - b->umax, r->umax = a->umax - b->umin;
	if (__builtin_sub_overflow(a->smin, b->smax, &lo) ||
	    __builtin_sub_overflow(a->smax, b->smin, &hi) || lo < smin_w(bits) || hi > smax_w(bits))
		r->smin = smin_w(bits), r->smax = smax_w(bits);
	else
		r->smin = lo, r->smax = hi;
}

static void alu_mul(struct bview *r, const struct bview *a, const struct bview *b)
{
	unsigned bits = a->bits;
	uint64_t hi;

	r->t = v_tnum_cast(v_tnum_mul(a->t, b->t), bits / 8);
	if (__builtin_mul_overflow(a->umax, b->umax, &hi) || hi > umax_w(bits)) {
		r->umin = 0, r->umax = umax_w(bits);
	} else {
		r->umin = a->umin * b->umin, r->umax = hi;
	}
	if (a->smin >= 0 && b->smin >= 0 && r->umax <= (uint64_t)smax_w(bits))
		r->smin = (int64_t)r->umin, r->smax = (int64_t)r->umax;
}

static void alu_bitwise(uint8_t op, struct bview *r, const struct bview *a, const struct bview *b)
{
	if (op == BPF_AND) {
		r->t = v_tnum_and(a->t, b->t);
		r->umin = r->t.value;
		r->umax = a->umax < b->umax ? a->umax : b->umax;
	} else if (op == BPF_OR) {
		r->t = v_tnum_or(a->t, b->t);
		r->umin = a->umin > b->umin ? a->umin : b->umin;
		r->umax = r->t.value | r->t.mask;
	} else {
		r->t = v_tnum_xor(a->t, b->t);
		r->umin = r->t.value;
		r->umax = r->t.value | r->t.mask;
	}
	if (a->smin >= 0 && b->smin >= 0 && r->umax <= (uint64_t)smax_w(a->bits))
		r->smin = (int64_t)r->umin, r->smax = (int64_t)r->umax;
}

static void alu_shift(uint8_t op, struct bview *r, const struct bview *a, const struct bview *b)
{
	unsigned bits = a->bits;

	if (b->umax >= bits)
		return;   /* shift by a possibly out-of-range amount: unknown */
	if (!view_is_const(b)) {
		if (op == BPF_RSH)
			r->umin = a->umin >> b->umax, r->umax = a->umax >> b->umin;
		return;
	}
	unsigned k = (unsigned)b->umin;

	switch (op) {
	case BPF_LSH:
		r->t = v_tnum_cast(v_tnum_lshift(a->t, k), bits / 8);
		if (k == 0 || (a->umax >> (bits - k)) == 0)
			r->umin = a->umin << k, r->umax = a->umax << k;
		break;
	case BPF_RSH:
		r->t = v_tnum_rshift(a->t, k);
		r->umin = a->umin >> k, r->umax = a->umax >> k;
		break;
	default:
		r->t = v_tnum_arshift(a->t, k, bits);
		r->smin = a->smin >> k, r->smax = a->smax >> k;
		break;
	}
}

static void alu_divmod(uint8_t op, struct bview *r, const struct bview *a, const struct bview *b)
{
	if (op == BPF_DIV) {
		if (b->umin > 0)
			r->umin = a->umin / b->umax, r->umax = a->umax / b->umin;
		else
			r->umin = 0, r->umax = a->umax;   /* x / 0 == 0 */
	} else {
		r->umin = 0;
		r->umax = a->umax;                        /* x % 0 == x */
		if (b->umin > 0 && b->umax - 1 < r->umax)
			r->umax = b->umax - 1;
		if (b->umin > 0 && a->umax < b->umin)
			r->umin = a->umin;
	}
}

/* dst = dst op src on a view of @p bits bits; unhandled cases give unknown. */
static void view_alu(uint8_t op, int16_t off, struct bview *r, const struct bview *a,
		     const struct bview *b)
{
	unsigned bits = a->bits;

	if (view_is_const(a) && (op == BPF_NEG || view_is_const(b))) {
		view_const(r, bits, eval_alu(op, off, bits, a->t.value, b->t.value));
		return;
	}
	view_full(r, bits);
	switch (op) {
	case BPF_ADD: alu_add(r, a, b); break;
	case BPF_SUB: alu_sub(r, a, b); break;
	case BPF_MUL: alu_mul(r, a, b); break;
	case BPF_AND: case BPF_OR: case BPF_XOR: alu_bitwise(op, r, a, b); break;
	case BPF_LSH: case BPF_RSH: case BPF_ARSH: alu_shift(op, r, a, b); break;
	case BPF_DIV: case BPF_MOD:
		if (!off)
			alu_divmod(op, r, a, b);
		break;
	default:
		break;
	}
}

/* Byte swaps and endianness conversion (little-endian host). */
static void alu_end(struct vreg *dst, uint8_t cls, uint8_t src_bit, int32_t imm)
{
	unsigned bytes = (unsigned)imm / 8;
	bool swap = cls == BPF_ALU64 || src_bit == BPF_TO_BE;

	if (v_reg_is_const(dst)) {
		uint64_t v = dst->var_off.value;

		if (swap)
			v = bytes == 2 ? __builtin_bswap16((uint16_t)v)
			    : bytes == 4 ? __builtin_bswap32((uint32_t)v) : __builtin_bswap64(v);
		else if (bytes < 8)
			v &= (1ull << (bytes * 8)) - 1;
		v_reg_mark_const(dst, v);
		return;
	}
	if (swap)
		v_reg_mark_unknown(dst);
	else if (bytes < 8)
		dst->id = 0;
	v_reg_mark_sized(dst, bytes, false);
}

static void alu_movsx(struct vreg *dst, const struct vreg *src, int16_t off, bool is64)
{
	if (v_reg_is_const(src)) {
		uint64_t v = src->var_off.value;

		v = off == 8 ? (uint64_t)(int64_t)(int8_t)v : off == 16 ? (uint64_t)(int64_t)(int16_t)v
		    : (uint64_t)(int64_t)(int32_t)v;
		v_reg_mark_const(dst, is64 ? v : (uint32_t)v);
		return;
	}
	v_reg_mark_unknown(dst);
	v_reg_mark_sized(dst, (unsigned)off / 8, true);
	if (!is64) {
		dst->u32min = 0, dst->u32max = UINT32_MAX;
		dst->s32min = (int32_t)dst->smin, dst->s32max = (int32_t)dst->smax;
		v_reg_zext32(dst);
	}
}

/*
 * dst = dst op src for scalars (also MOV, MOVSX and END). The caller has
 * checked operand types; @p src is a scalar (for BPF_K a constant).
 */
int v_scalar_alu(struct venv *env, uint8_t code, int16_t off, struct vreg *dst,
	       const struct vreg *src)
{
	uint8_t op = SL_OP_CODE(code), cls = SL_OP_CLASS(code);
	unsigned bits = cls == BPF_ALU64 ? 64 : 32;
	struct bview a, b, r;

	(void)env;
	if (op == BPF_END) {
		alu_end(dst, cls, SL_OP_SRC(code), (int32_t)src->var_off.value);
		return 0;
	}
	if (op == BPF_MOV) {
		if (off) {
			alu_movsx(dst, src, off, bits == 64);
		} else {
			*dst = *src;
			if (bits == 32) {
				dst->id = 0;
				v_reg_zext32(dst);
			}
		}
		return 0;
	}
	a = view_of(dst, bits);
	b = view_of(src, bits);
	view_alu(op, off, &r, &a, &b);
	view_store_result(dst, &r);
	return 0;
}

/* ---- conditional jumps ---- */

#define V_JSET_NOT 0xe0   /* internal: the fall-through of JSET */

uint8_t jmp_negate(uint8_t op)
{
	switch (op) {
	case BPF_JEQ: return BPF_JNE;
	case BPF_JNE: return BPF_JEQ;
	case BPF_JGT: return BPF_JLE;
	case BPF_JLE: return BPF_JGT;
	case BPF_JGE: return BPF_JLT;
	case BPF_JLT: return BPF_JGE;
	case BPF_JSGT: return BPF_JSLE;
	case BPF_JSLE: return BPF_JSGT;
	case BPF_JSGE: return BPF_JSLT;
	case BPF_JSLT: return BPF_JSGE;
	case BPF_JSET: return V_JSET_NOT;
	default: return BPF_JSET;
	}
}

/* The same relation with operands swapped: a > b  <=>  b < a. */
uint8_t jmp_swap(uint8_t op)
{
	switch (op) {
	case BPF_JGT: return BPF_JLT;
	case BPF_JLT: return BPF_JGT;
	case BPF_JGE: return BPF_JLE;
	case BPF_JLE: return BPF_JGE;
	case BPF_JSGT: return BPF_JSLT;
	case BPF_JSLT: return BPF_JSGT;
	case BPF_JSGE: return BPF_JSLE;
	case BPF_JSLE: return BPF_JSGE;
	default: return op;
	}
}

static bool refine_eq(struct bview *a, struct bview *b)
{
	if (v_tnum_conflict(a->t, b->t))
		return false;
	a->t = b->t = v_tnum_intersect(a->t, b->t);
	TIGHTEN(a->umin, a->umax, b->umin, b->umax);
	TIGHTEN(a->smin, a->smax, b->smin, b->smax);
	b->umin = a->umin, b->umax = a->umax, b->smin = a->smin, b->smax = a->smax;
	return a->umin <= a->umax && a->smin <= a->smax;
}

static bool refine_ne_const(struct bview *a, const struct bview *c)
{
	uint64_t u = c->umin;
	int64_t s = c->smin;

	if (a->umin == a->umax && a->umin == u)
		return false;
	if (a->umin == u)
		a->umin++;
	else if (a->umax == u)
		a->umax--;
	if (a->smin == s && a->smax != s)
		a->smin++;
	else if (a->smax == s && a->smin != s)
		a->smax--;
	return true;
}

/* a > b (strict) or a >= b, unsigned. */
static bool refine_ugt(struct bview *a, struct bview *b, bool strict)
{
	uint64_t d = strict ? 1 : 0;

	if (strict && (a->umax == 0 || b->umin == umax_w(a->bits)))
		return false;
	if (b->umin + d > a->umin)
		a->umin = b->umin + d;
	if (a->umax - d < b->umax)
		b->umax = a->umax - d;
	return a->umin <= a->umax && b->umin <= b->umax;
}

static bool refine_sgt(struct bview *a, struct bview *b, bool strict)
{
	int64_t d = strict ? 1 : 0;

	if (strict && (a->smax == smin_w(a->bits) || b->smin == smax_w(a->bits)))
		return false;
	if (b->smin + d > a->smin)
		a->smin = b->smin + d;
	if (a->smax - d < b->smax)
		b->smax = a->smax - d;
	return a->smin <= a->smax && b->smin <= b->smax;
}

static bool refine_jset(struct bview *a, const struct bview *b, bool taken)
{
	uint64_t maybe_a = a->t.value | a->t.mask, maybe_b = b->t.value | b->t.mask;

	if (taken) {
		if ((maybe_a & maybe_b) == 0)
			return false;
		if (view_is_const(b) && __builtin_popcountll(b->t.value) == 1) {
			a->t.value |= b->t.value;
			a->t.mask &= ~b->t.value;
		}
		return true;
	}
	if (a->t.value & b->t.value)
		return false;
	if (view_is_const(b))
		a->t = v_tnum_and(a->t, v_tnum_const(~b->t.value));
	return true;
}

static bool refine_views(uint8_t op, struct bview *a, struct bview *b)
{
	switch (op) {
	case BPF_JEQ: return refine_eq(a, b);
	case BPF_JNE:
		if (view_is_const(b))
			return refine_ne_const(a, b);
		if (view_is_const(a))
			return refine_ne_const(b, a);
		return true;
	case BPF_JGT: return refine_ugt(a, b, true);
	case BPF_JGE: return refine_ugt(a, b, false);
	case BPF_JLT: return refine_ugt(b, a, true);
	case BPF_JLE: return refine_ugt(b, a, false);
	case BPF_JSGT: return refine_sgt(a, b, true);
	case BPF_JSGE: return refine_sgt(a, b, false);
	case BPF_JSLT: return refine_sgt(b, a, true);
	case BPF_JSLE: return refine_sgt(b, a, false);
	case BPF_JSET: return refine_jset(a, b, true);
	default: return refine_jset(a, b, false);
	}
}

/*
 * Constrain scalars @p dst and @p src (may be the same register, or a
 * temporary constant for BPF_K) by "dst op src" holding. Returns 0 when the
 * constraint cannot hold (dead branch), 1 otherwise.
 */
int v_scalar_refine(uint8_t op, bool is32, struct vreg *dst, struct vreg *src)
{
	unsigned bits = is32 ? 32 : 64;
	struct bview a = view_of(dst, bits), b = view_of(src, bits);

	if (!refine_views(op, &a, &b))
		return 0;
	view_store_refined(dst, &a);
	if (src != dst)
		view_store_refined(src, &b);
	return !v_reg_invalid(dst) && !v_reg_invalid(src);
}
