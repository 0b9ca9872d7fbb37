/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the JIT's analyses ask of single instructions and of a straight
 * line of them (control thread, part of sl_jit_compile()): which
 * registers an instruction writes, and which constant a register holds
 * (a plain lddw or mov of an immediate found walking back in the same
 * basic block). Used by the peephole fusions (peephole.c) and by the
 * liveness analyses (liveness.c), which call nothing of each other's
 * here.
 */
#include "jit_internal.h"

/* Does instruction @p in write register @p r? */
bool jit_writes(const struct bpf_insn *in, uint8_t r)
{
	uint8_t cls = SL_OP_CLASS(in->code), mode = SL_OP_MODE(in->code);

	switch (cls) {
	case BPF_ALU:
	case BPF_ALU64:
	case BPF_LDX:
		return in->dst_reg == r;
	case BPF_LD:
		if (sl_isa_is_lddw(in))
			return in->dst_reg == r;
		return r <= BPF_REG_5;                          /* LD_ABS / LD_IND */
	case BPF_STX:
		return mode == BPF_ATOMIC && ((in->imm & BPF_FETCH && in->src_reg == r) ||
					      (in->imm == BPF_CMPXCHG && r == BPF_REG_0));
	case BPF_JMP:
		return in->code == (BPF_JMP | BPF_CALL) && r <= BPF_REG_5;
	}
	return false;
}

/* The value a plain lddw (not a map or global-data one) or a 64-bit mov of an immediate loads. */
bool jit_const_of(const struct bpf_insn *in, uint64_t *v)
{
	if (sl_isa_is_lddw(in) && in->src_reg == 0) {
		*v = (uint64_t)(uint32_t)in[0].imm | ((uint64_t)(uint32_t)in[1].imm << 32);
		return true;
	}
	if (in->code == (BPF_ALU64 | BPF_MOV | BPF_K)) {
		*v = (uint64_t)(int64_t)in->imm;
		return true;
	}
	return false;
}

int64_t jit_reg_def(const struct sl_prog *p, const uint8_t *targets, uint32_t pc, uint8_t r)
{
	for (uint32_t k = pc, n = 0; k-- > 0 && n < 512; n++) {
		const struct bpf_insn *in = &p->insns[k];

		if (targets[k + 1])
			return -1;                              /* control can enter below k */
		if (k > 0 && sl_isa_is_lddw(&p->insns[k - 1]))
			in = &p->insns[--k];                    /* second half: the lddw itself */
		if (jit_writes(in, r))
			return (int64_t)k;
	}
	return -1;
}

/*
 * The lddw / mov that gives register @p r the constant it holds before
 * instruction @p pc, found by walking back in the same basic block; -1 if
 * unknown.
 */
int64_t jit_const_def(const struct sl_prog *p, const uint8_t *targets, uint32_t pc, uint8_t r)
{
	int64_t k = jit_reg_def(p, targets, pc, r);
	uint64_t v;

	return k >= 0 && jit_const_of(&p->insns[k], &v) ? k : -1;
}

/* The constant register @p r holds before instruction @p pc (see jit_const_def()). */
bool jit_const_before(const struct sl_prog *p, const uint8_t *targets, uint32_t pc, uint8_t r,
			 uint64_t *v)
{
	int64_t k = jit_const_def(p, targets, pc, r);

	return k >= 0 && jit_const_of(&p->insns[k], v);
}

int64_t jit_cmp_k(const struct sl_prog *p, const uint8_t *fuse, uint32_t pc, bool *swapped)
{
	uint8_t arg = fuse[p->n_insns + pc];
	uint64_t v = 0;

	*swapped = arg & 0x80;
	jit_const_of(&p->insns[pc - (arg & 0x7f)], &v);
	return (int64_t)v;
}
