/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Peephole fusion of eBPF sequences that x86 does in fewer instructions
 * (control thread, before the JIT's passes). eBPF has no rotate, so clang
 * writes rotl(x, k) as
 *
 *     rT = rX;  rT >>= 64-k;  rX <<= k;  rX |= rT      (shifts in either order,
 *                                                     either direction, result
 *                                                     in rX or in rT)
 *
 * The shift of the register that receives the result becomes "rol reg, k"
 * and the OR disappears; the other shift still runs, so every register
 * ends with the value the eBPF code gives it.
 *
 * "rX *= 3|5|9; rX += imm" (same width) becomes one "lea rX, [rX + rX*k-1 + imm]".
 *
 * A sequence is fused only when no jump lands inside it (its registers
 * would then come from elsewhere).
 */
#include <stdlib.h>

#include "jit_internal.h"

static bool is_shift_k(const struct bpf_insn *in)
{
	return SL_OP_CLASS(in->code) == BPF_ALU64 && SL_OP_SRC(in->code) == BPF_K &&
	       (SL_OP_CODE(in->code) == BPF_LSH || SL_OP_CODE(in->code) == BPF_RSH) &&
	       in->imm > 0 && in->imm < 64;
}

/* Jump targets (and function starts): instructions control can reach from elsewhere. */
static uint8_t *jump_targets(const struct sl_prog *p)
{
	uint8_t *t = calloc(p->n_insns + 1, 1);

	for (uint32_t pc = 0; t && pc < p->n_insns; pc++) {
		const struct bpf_insn *in = &p->insns[pc];
		uint8_t cls = SL_OP_CLASS(in->code), op = SL_OP_CODE(in->code);
		int64_t to;

		if (sl_isa_is_lddw(in)) {
			pc++;
			continue;
		}
		if (cls != BPF_JMP && cls != BPF_JMP32)
			continue;
		if (op == BPF_EXIT || (op == BPF_CALL && in->src_reg != BPF_PSEUDO_CALL))
			continue;
		to = (int64_t)pc + 1 + ((op == BPF_CALL || (cls == BPF_JMP32 && op == BPF_JA))
					? in->imm : in->off);
		if (to >= 0 && to <= p->n_insns)
			t[to] = 1;
	}
	return t;
}

/* The rotate window starting at @p pc (a "rT = rX"), or no change. */
static void match_rotate(const struct sl_prog *p, const uint8_t *targets, uint32_t pc,
			 uint8_t *fuse)
{
	const struct bpf_insn *w = &p->insns[pc];
	uint8_t x = w[0].src_reg, t = w[0].dst_reg;
	const struct bpf_insn *sx, *st;
	uint32_t ix;

	if (w[0].code != (BPF_ALU64 | BPF_MOV | BPF_X) || w[0].off || x == t ||
	    !is_shift_k(&w[1]) || !is_shift_k(&w[2]) ||
	    w[3].code != (BPF_ALU64 | BPF_OR | BPF_X) || targets[pc + 1] || targets[pc + 2] ||
	    targets[pc + 3])
		return;
	if (w[1].dst_reg == x && w[2].dst_reg == t)
		ix = pc + 1;
	else if (w[1].dst_reg == t && w[2].dst_reg == x)
		ix = pc + 2;
	else
		return;
	sx = &p->insns[ix];
	st = &p->insns[ix == pc + 1 ? pc + 2 : pc + 1];
	if (SL_OP_CODE(sx->code) == SL_OP_CODE(st->code) || sx->imm + st->imm != 64)
		return;
	if (w[3].dst_reg == x && w[3].src_reg == t)
		fuse[ix] = SL_JIT_FUSE_ROL;
	else if (w[3].dst_reg == t && w[3].src_reg == x)
		fuse[ix == pc + 1 ? pc + 2 : pc + 1] = SL_JIT_FUSE_ROL;
	else
		return;
	fuse[pc + 3] = SL_JIT_FUSE_DROP;
}

/* "rX *= 3|5|9; rX += imm" at @p pc (not with blinding: the lea carries both immediates). */
static void match_lea(const struct sl_prog *p, const uint8_t *targets, uint32_t pc, uint8_t *fuse)
{
	const struct bpf_insn *w = &p->insns[pc];
	uint8_t cls = SL_OP_CLASS(w[0].code);

	if ((cls != BPF_ALU64 && cls != BPF_ALU) || w[0].code != (cls | BPF_MUL | BPF_K) ||
	    (w[0].imm != 3 && w[0].imm != 5 && w[0].imm != 9) ||
	    w[1].code != (cls | BPF_ADD | BPF_K) || w[1].dst_reg != w[0].dst_reg || targets[pc + 1])
		return;
	fuse[pc] = SL_JIT_FUSE_LEA;
	fuse[pc + 1] = SL_JIT_FUSE_DROP;
}

uint8_t *sl_jit_peephole(const struct sl_prog *p, bool blind)
{
	uint8_t *fuse = calloc(p->n_insns, 1), *targets = jump_targets(p);

	if (!fuse || !targets) {
		free(fuse);
		free(targets);
		return NULL;
	}
	for (uint32_t pc = 0; pc + 3 < p->n_insns; pc++)
		if (!fuse[pc] && !fuse[pc + 1] && !fuse[pc + 2] && !fuse[pc + 3])
			match_rotate(p, targets, pc, fuse);
	for (uint32_t pc = 0; !blind && pc + 1 < p->n_insns; pc++)
		if (!fuse[pc] && !fuse[pc + 1])
			match_lea(p, targets, pc, fuse);
	free(targets);
	return fuse;
}
