/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Prefix tests as one lea and one compare (control thread, after
 * fuse_late.c, on the final fusions; emitted by emit_jmp.c).
 *
 * A classifier tests an address against a prefix as "copy, mask,
 * compare", the copy because the address is tested again later:
 *
 *   rX = rY; rX &= M; [...] if rX ==|!= C goto T    (rX dead after the jump)
 *       mov rX, rY; and rX, M; cmp rX, C; je T
 *   -> lea rX32, [rY - C]; [...] cmp rX32, 2^k; jb T   (jae for !=)
 *
 * where the low half of M is 0xffffffff << k (1 <= k <= 31: the top 32 - k
 * bits of the low half) and C has its low k bits clear. One instruction
 * less, and lea does not wait for a mov. Why it decides alike: write
 * y = the low half of rY, c = the low half of C, d = (y - c) mod 2^32.
 * c's low k bits are zero, so subtracting it borrows nothing out of the
 * low k bits: d >> k = ((y >> k) - (c >> k)) mod 2^(32-k). So
 * d < 2^k  <=>  d >> k == 0  <=>  y >> k == c >> k  <=>  (y & M) == c.
 *
 * A 32-bit jump compares exactly those low halves. A 64-bit one also
 * compares the upper half of rX & M with C's: the fusion takes it only
 * when C's upper half is zero and so is rX's after the AND (a 32-bit mov
 * or AND, a mask with a zero upper half, or rY's upper half known zero:
 * jit_hi_zero()). M and C are immediates or registers holding a constant
 * (consts.c). Between the AND and the jump: at most JIT_MASK_CMP_GAP
 * instructions, none a jump or a call, none reading or writing rX; no
 * jump lands anywhere in the sequence after the mov. rX is dead after the
 * jump, so nobody can tell it now holds y - c instead of y & M. Not with
 * constant blinding (both constants would be in the code).
 */
#include <stdlib.h>

#include "jit_internal.h"

#define R(r) ((uint16_t)(1u << (r)))

/* The constant of operand src of @p in at @p pc: its immediate or a register's known constant. */
static bool operand_const(const struct sl_prog *p, const uint8_t *targets, uint32_t pc,
			  const struct bpf_insn *in, bool w64, uint64_t *v)
{
	if (SL_OP_SRC(in->code) == BPF_K)
		*v = w64 ? (uint64_t)(int64_t)in->imm : (uint32_t)in->imm;
	else if (!jit_const_before(p, targets, pc, in->src_reg, v))
		return false;
	else if (!w64)
		*v = (uint32_t)*v;
	return true;
}

bool jit_mask_cmp_args(const struct sl_prog *p, const uint8_t *targets, uint32_t pc, uint32_t j,
		       uint32_t *c, unsigned *k, bool *hi_needed)
{
	const struct bpf_insn *mv = &p->insns[pc], *and = mv + 1, *jp = &p->insns[j];
	bool and64 = SL_OP_CLASS(and->code) == BPF_ALU64, j64 = SL_OP_CLASS(jp->code) == BPF_JMP;
	uint64_t m, cv;
	uint32_t low;

	if (!operand_const(p, targets, pc + 1, and, and64, &m) ||
	    !operand_const(p, targets, j, jp, j64, &cv))
		return false;
	low = ~(uint32_t)m;                                 /* 2^k - 1 */
	if (low == 0 || (low & (low + 1)) || (low & 0x80000000u) || ((uint32_t)cv & low))
		return false;
	if (j64 && (cv >> 32))
		return false;          /* rX's upper half is zero: never equal (not fused) */
	*c = (uint32_t)cv;
	*k = (unsigned)__builtin_popcount(low);
	/* a 64-bit jump also needs rX & M's upper half zero (the caller checks rY's) */
	*hi_needed = j64 && and64 && SL_OP_CLASS(mv->code) == BPF_ALU64 && (m >> 32);
	return true;
}

/* Is "rX = rY" at @p pc a plain register copy (32- or 64-bit, not r10, not movsx)? */
static bool plain_copy(const struct bpf_insn *in)
{
	uint8_t cls = SL_OP_CLASS(in->code);

	return (cls == BPF_ALU || cls == BPF_ALU64) && in->code == (cls | BPF_MOV | BPF_X) &&
	       in->off == 0 && in->dst_reg < BPF_REG_10 && in->src_reg < BPF_REG_10 &&
	       in->dst_reg != in->src_reg;
}

static bool is_eq_jump(const struct bpf_insn *in, uint8_t x)
{
	uint8_t cls = SL_OP_CLASS(in->code), op = SL_OP_CODE(in->code);

	return (cls == BPF_JMP || cls == BPF_JMP32) && (op == BPF_JEQ || op == BPF_JNE) &&
	       in->dst_reg == x && in->off != 0 && (SL_OP_SRC(in->code) == BPF_K || in->src_reg != x);
}

/* The jump of the sequence whose mov is at @p pc, or 0 when there is none. */
static uint32_t find_jump(const struct sl_prog *p, const uint8_t *fuse, const uint8_t *dead,
			  const uint8_t *targets, uint32_t pc, uint8_t x)
{
	for (uint32_t m = pc + 2; m < p->n_insns && m <= pc + 1 + JIT_MASK_CMP_GAP + 1; m++) {
		const struct bpf_insn *in = &p->insns[m];
		uint8_t cls = SL_OP_CLASS(in->code);
		uint16_t use, def;

		if (targets[m])
			return 0;
		if (cls == BPF_JMP || cls == BPF_JMP32)
			return is_eq_jump(in, x) && !dead[m] && (fuse[m] == JIT_FUSE_NONE ||
				fuse[m] == JIT_FUSE_CMP_K || fuse[m] == JIT_FUSE_CMP_K32) ? m : 0;
		jit_def_use(p, m, fuse, &use, &def);
		if ((use | def) & R(x))
			return 0;
		if (sl_isa_is_lddw(in) && ++m < p->n_insns && targets[m])
			return 0;                               /* (its second half) */
	}
	return 0;
}

static void match_mask_cmp(const struct sl_prog *p, const uint8_t *targets, uint8_t *fuse,
			   const uint8_t *dead, const uint16_t *live, const uint16_t *hi_zero,
			   uint32_t pc)
{
	const struct bpf_insn *mv = &p->insns[pc], *and = mv + 1;
	uint8_t x = mv->dst_reg, cls;
	uint32_t j, c;
	unsigned k;
	bool hi;

	if (pc + 2 >= p->n_insns)              /* (and before reading the insn after the mov) */
		return;
	cls = SL_OP_CLASS(and->code);
	if (!plain_copy(mv) || fuse[pc] || dead[pc] || targets[pc + 1] ||
	    (cls != BPF_ALU && cls != BPF_ALU64) || SL_OP_CODE(and->code) != BPF_AND ||
	    and->dst_reg != x || and->off || dead[pc + 1] ||
	    (fuse[pc + 1] != JIT_FUSE_NONE && fuse[pc + 1] != JIT_FUSE_ALU_K) ||
	    (SL_OP_SRC(and->code) == BPF_X && and->src_reg == x))
		return;
	j = find_jump(p, fuse, dead, targets, pc, x);
	if (!j || (live[j] & R(x)) || !jit_mask_cmp_args(p, targets, pc, j, &c, &k, &hi) ||
	    (hi && !(hi_zero[pc] & R(mv->src_reg))))
		return;
	fuse[pc] = JIT_FUSE_MASK_LEA;
	fuse[p->n_insns + pc] = (uint8_t)(j - pc);
	fuse[pc + 1] = JIT_FUSE_NOP;
	fuse[j] = JIT_FUSE_MASK_JMP;
	fuse[p->n_insns + j] = (uint8_t)(j - pc);
}

void jit_fuse_cmp(const struct sl_prog *p, uint8_t *fuse, const uint8_t *dead,
		  const uint16_t *live, bool blind)
{
	uint8_t *targets = blind ? NULL : jit_jump_targets(p);
	uint16_t *hi_zero = targets ? jit_hi_zero(p) : NULL;

	for (uint32_t pc = 0; hi_zero && pc < p->n_insns; pc++) {
		if (sl_isa_is_lddw(&p->insns[pc])) {
			pc++;
			continue;
		}
		match_mask_cmp(p, targets, fuse, dead, live, hi_zero, pc);
	}
	free(targets);
	free(hi_zero);
}
