/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Address arithmetic folded into a load's addressing mode (control thread,
 * after liveness.c's jit_dead_code(), on the fusions peephole.c found).
 * x86 adds a base, an index times 1, 2, 4 or 8 and a displacement in the
 * load itself; eBPF computes the address in a register first:
 *
 *   rA <<= s; rB += rA; ...; rD = *(size *)(rB + off)
 *       -> mov|movzx rD, [rB + rA*2^s + off]          (LOAD_IDX; s in 1-3,
 *                                                      or no shift: scale 1)
 *   rT = rS; rT += rI; ...; rD = *(size *)(rT + off)
 *       -> mov|movzx rD, [rS + rI + off]              (LOAD_RR; the copy
 *                                                      and add were one lea)
 *
 * (a table read: CRC32, Maglev; a byte of a packet at a variable offset).
 * The add (and the shift, and the copy) then emit nothing, so the base
 * register keeps its old value and the index its unshifted one: both must
 * be dead after the load (or the load's destination), and the
 * instructions clang schedules between the add and the load ("...", at
 * most JIT_GAP of them) may neither read the base nor read or write the
 * index (nor write rS, rI), as written or as emitted; no jump may leave
 * or land between the shift, the add and the load. Loads of a context
 * field keep their own form (burst.c may make them register moves).
 */
#include <stdlib.h>

#include "jit_internal.h"

#define R(r) ((uint16_t)(1u << (r)))
#define JIT_GAP 8           /* instructions between the add and the load, at most */

/* Registers instruction @p in reads as written (jumps, calls: all). */
static uint16_t reads_of(const struct bpf_insn *in)
{
	uint8_t cls = SL_OP_CLASS(in->code), op = SL_OP_CODE(in->code);
	uint16_t x = SL_OP_SRC(in->code) == BPF_X ? R(in->src_reg) : 0;

	switch (cls) {
	case BPF_ALU:
	case BPF_ALU64:
		return (uint16_t)((op != BPF_MOV ? R(in->dst_reg) : 0) | (op != BPF_END ? x : 0));
	case BPF_LDX:
		return R(in->src_reg);
	case BPF_ST:
		return R(in->dst_reg);
	case BPF_STX:
		return (uint16_t)(R(in->dst_reg) | R(in->src_reg) | R(0));
	case BPF_LD:
		if (sl_isa_is_lddw(in))
			return 0;
	}
	return 0x7ff;
}

/*
 * Do the instructions in (@p from, @p to) read a register of @p rd or
 * write one of @p wr, as written or as emitted with @p fuse? Any jump or
 * jump target there counts as both.
 */
static bool gap_touches(const struct sl_prog *p, const uint8_t *targets, const uint8_t *fuse,
			uint32_t from, uint32_t to, uint16_t rd, uint16_t wr)
{
	for (uint32_t m = from + 1; m < to; m++) {
		const struct bpf_insn *in = &p->insns[m];
		uint8_t cls = SL_OP_CLASS(in->code);
		uint16_t use, def;

		if (targets[m] || cls == BPF_JMP || cls == BPF_JMP32)
			return true;
		jit_def_use(p, m, fuse, &use, &def);
		for (uint8_t r = 0; r < 11; r++)
			if (jit_writes(in, r))
				def |= R(r);
		if (((use | reads_of(in)) & rd) || (def & wr))
			return true;
		if (sl_isa_is_lddw(in))
			m++;
	}
	return targets[to] != 0;
}

/*
 * The shift "rA <<= 1|2|3" feeding the add at @p add (only lddw's of
 * other registers between) that a LOAD_IDX can take as its scale: its pc,
 * or -1.
 */
static int64_t index_shift(const struct sl_prog *p, const uint8_t *targets, const uint8_t *fuse,
			   const uint8_t *dead, uint32_t add, uint8_t a)
{
	uint32_t k = add;

	while (k >= 1 && !targets[k]) {
		const struct bpf_insn *in = &p->insns[k - 1];

		if (k >= 2 && sl_isa_is_lddw(&p->insns[k - 2])) {
			if (p->insns[k - 2].dst_reg == a || targets[k - 1])
				return -1;
			k -= 2;
			continue;
		}
		if (in->code != (BPF_ALU64 | BPF_LSH | BPF_K) || in->dst_reg != a ||
		    in->imm < 1 || in->imm > 3 || fuse[k - 1] || dead[k - 1])
			return -1;
		return k - 1;
	}
	return -1;
}

/* "rB += rA" at @p k, the load at @p pc: LOAD_IDX, with the shift before the add when it can. */
static void fuse_idx(const struct sl_prog *p, const uint8_t *targets, uint8_t *fuse,
		     const uint8_t *dead, const uint16_t *live, uint32_t k, uint32_t pc)
{
	const struct bpf_insn *ld = &p->insns[pc], *add = &p->insns[k];
	uint8_t a = add->src_reg, b = ld->src_reg;
	unsigned scale = 1;
	int64_t sh;

	if (add->code != (BPF_ALU64 | BPF_ADD | BPF_X) || a == b || a == BPF_REG_10 || fuse[k] ||
	    dead[k] || gap_touches(p, targets, fuse, k, pc, R(a) | R(b), R(a) | R(b)))
		return;
	sh = index_shift(p, targets, fuse, dead, k, a);
	if (sh >= 0 && (a == ld->dst_reg || !(live[pc] & R(a)))) {
		scale = 1u << p->insns[sh].imm;
		fuse[sh] = JIT_FUSE_NOP;
	}
	fuse[pc] = JIT_FUSE_LOAD_IDX;
	fuse[p->n_insns + pc] = (uint8_t)(a << 4 | scale);
	fuse[k] = JIT_FUSE_NOP;
}

/* "rT = rS; rT += rI" (MOV_ADD) at @p k - 1, the load of [rT + off] at @p pc: LOAD_RR. */
static void fuse_rr(const struct sl_prog *p, const uint8_t *targets, uint8_t *fuse,
		    const uint8_t *dead, uint32_t k, uint32_t pc)
{
	const struct bpf_insn *mv = &p->insns[k - 1], *add = mv + 1;
	uint8_t s = mv->src_reg, i = add->src_reg;

	if (fuse[k - 1] != JIT_FUSE_MOV_ADD || fuse[k] != JIT_FUSE_DROP || dead[k - 1] ||
	    add->code != (BPF_ALU64 | BPF_ADD | BPF_X) || s == BPF_REG_10 || i == BPF_REG_10 ||
	    i == mv->dst_reg ||
	    gap_touches(p, targets, fuse, k, pc, R(mv->dst_reg), R(s) | R(i) | R(mv->dst_reg)))
		return;
	fuse[pc] = JIT_FUSE_LOAD_RR;
	fuse[p->n_insns + pc] = (uint8_t)(s << 4 | i);
	fuse[k - 1] = fuse[k] = JIT_FUSE_NOP;
}

void jit_fuse_indexed(const struct sl_prog *p, uint8_t *fuse, const uint8_t *dead,
			 const uint16_t *live)
{
	uint8_t *targets = jit_jump_targets(p);

	for (uint32_t pc = 1; targets && pc < p->n_insns; pc++) {
		const struct bpf_insn *ld = &p->insns[pc];
		uint8_t b = ld->src_reg;
		int64_t k;

		if (sl_isa_is_lddw(&p->insns[pc - 1])) {
			continue;                                       /* second half */
		}
		if (SL_OP_CLASS(ld->code) != BPF_LDX || SL_OP_MODE(ld->code) != BPF_MEM ||
		    fuse[pc] || dead[pc] || targets[pc] || b == BPF_REG_10 ||
		    (p->aux && p->aux[pc].ctx_access) ||
		    (b != ld->dst_reg && (live[pc] & R(b))))
			continue;
		k = jit_line_def(p, targets, pc, b, JIT_GAP + 1);   /* (the base's definition) */
		if (k < 1 || dead[k])
			continue;
		if (fuse[k] == JIT_FUSE_DROP)
			fuse_rr(p, targets, fuse, dead, (uint32_t)k, pc);
		else
			fuse_idx(p, targets, fuse, dead, live, (uint32_t)k, pc);
	}
	free(targets);
}
