/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Liveness and precision, per instruction, for state pruning: a backward
 * may-analysis over each subprogram's control-flow graph.
 *
 *  live     registers and stack slots (of the current frame) that some path
 *           from here may read before writing them;
 *  precise  live scalars whose value (not only their type) may still decide
 *           something: a conditional jump, pointer arithmetic, a helper's
 *           size argument, a divisor, a value returned to a caller. Values
 *           flow backwards through moves, ALU operations and stack
 *           spills/fills.
 * A pruned path may differ from the stored state only in dead registers and
 * in the values of imprecise scalars: neither can change what the rest of
 * the walk proves (the kernel gets the same effect from its liveness marks
 * and precision backtracking).
 *
 * Stack accesses through r10 name their slots; accesses through a derived
 * pointer (flagged by the walk, IA_STACK_DERIVED) touch every slot, as do
 * helpers reading memory and bpf-to-bpf calls. Register pointer arithmetic
 * is flagged by the walk too (IA_PTR_ARITH). When the walk flags something
 * new, the driver reruns this analysis and the walk.
 */
#include <string.h>

#include "verifier_internal.h"

struct live {
	uint16_t regs, prec;
	uint64_t slots, pslots;
};

#define R(n) ((uint16_t)(1u << (n)))
#define ARGS_MASK (R(1) | R(2) | R(3) | R(4) | R(5))
#define CALLER_SAVED (R(0) | ARGS_MASK)

/* Slots covered by [off, off + size) relative to r10; 0 when outside the frame. */
static uint64_t slot_mask(int32_t off, unsigned size)
{
	uint64_t m = 0;

	if (off < -SL_STACK_SIZE || off + (int32_t)size > 0)
		return 0;
	for (int32_t b = off; b < off + (int32_t)size; b++)
		m |= 1ull << ((-b - 1) / 8);
	return m;
}

static void kill_reg(struct live *l, unsigned r, bool *was_live, bool *was_prec)
{
	*was_live = (l->regs >> r) & 1;
	*was_prec = (l->prec >> r) & 1;
	l->regs &= (uint16_t)~R(r);
	l->prec &= (uint16_t)~R(r);
}

static void alu(struct live *l, const struct bpf_insn *in, uint16_t flags, bool conservative)
{
	uint8_t op = SL_OP_CODE(in->code);
	bool x = SL_OP_SRC(in->code) == BPF_X, is64 = SL_OP_CLASS(in->code) == BPF_ALU64;
	bool dl, dp;

	if (op == BPF_MOV) {
		kill_reg(l, in->dst_reg, &dl, &dp);
		if (x && dl)
			l->regs |= R(in->src_reg);
		if (x && dp)
			l->prec |= R(in->src_reg);
		return;
	}
	l->regs |= R(in->dst_reg);
	if (!x)
		return;
	l->regs |= R(in->src_reg);
	dp = (l->prec >> in->dst_reg) & 1;
	if (dp || op == BPF_DIV || op == BPF_MOD)
		l->prec |= R(in->src_reg);
	if (is64 && (op == BPF_ADD || op == BPF_SUB) && ((flags & IA_PTR_ARITH) || conservative))
		l->prec |= R(in->src_reg) | R(in->dst_reg);
}

static void ldx(struct live *l, const struct bpf_insn *in, bool derived)
{
	bool dl, dp;

	kill_reg(l, in->dst_reg, &dl, &dp);
	l->regs |= R(in->src_reg);
	if (in->src_reg == BPF_REG_10) {
		uint64_t m = slot_mask(in->off, sl_isa_size_bytes(in->code));

		l->slots |= m;
		if (dp)
			l->pslots |= m;
	} else if (derived) {
		l->slots = UINT64_MAX;
		if (dp)
			l->pslots = UINT64_MAX;
	}
}

static void store(struct live *l, const struct bpf_insn *in, bool derived)
{
	bool stx = SL_OP_CLASS(in->code) == BPF_STX;
	unsigned size = sl_isa_size_bytes(in->code);

	if (SL_OP_MODE(in->code) == BPF_ATOMIC) {
		l->regs |= R(in->dst_reg) | R(in->src_reg);
		if (in->imm == BPF_CMPXCHG)
			l->regs |= R(0), l->prec |= R(0);
		if (in->dst_reg == BPF_REG_10 || derived) {
			uint64_t m = in->dst_reg == BPF_REG_10 ? slot_mask(in->off, size) : UINT64_MAX;

			l->slots |= m;
			l->pslots |= m;
			l->prec |= R(in->src_reg);
		}
		return;
	}
	if (in->dst_reg == BPF_REG_10) {
		uint64_t m = slot_mask(in->off, size);

		if (stx && (l->pslots & m))
			l->prec |= R(in->src_reg);
		if (size == 8 && in->off % 8 == 0) {
			l->slots &= ~m;
			l->pslots &= ~m;
		}
	} else if (derived && stx && l->pslots) {
		l->prec |= R(in->src_reg);
	}
	l->regs |= R(in->dst_reg);
	if (stx)
		l->regs |= R(in->src_reg);
}

static void helper_call(struct live *l, const struct bpf_insn *in)
{
	const struct sl_helper *h = in->imm >= 0 ? sl_helper_get((uint32_t)in->imm) : NULL;

	l->regs &= (uint16_t)~CALLER_SAVED;
	l->prec &= (uint16_t)~CALLER_SAVED;
	if (!h) {
		l->regs |= ARGS_MASK;
		return;
	}
	for (unsigned i = 0; i < 5 && h->args[i] != SL_ARG_NONE; i++) {
		l->regs |= R(i + 1);
		switch (h->args[i]) {
		case SL_ARG_CONST_SIZE: case SL_ARG_CONST_SIZE_OR_ZERO:
		case SL_ARG_CONST_ALLOC_SIZE_OR_ZERO:
			l->prec |= R(i + 1);
			break;
		case SL_ARG_PTR_TO_MAP_KEY: case SL_ARG_PTR_TO_MAP_VALUE: case SL_ARG_PTR_TO_MEM:
		case SL_ARG_PTR_TO_UNINIT_MEM:
			l->slots = UINT64_MAX;
			break;
		case SL_ARG_PTR_TO_MEM_OR_NULL:   /* NULL (a scalar 0) or memory: precise */
			l->prec |= R(i + 1);
			l->slots = UINT64_MAX;
			break;
		case SL_ARG_PTR_TO_STACK_OR_NULL: /* a callback may read and branch on it all */
			l->prec |= R(i + 1);
			l->slots = l->pslots = UINT64_MAX;
			break;
		default:
			break;
		}
	}
}

static void jmp(struct live *l, const struct bpf_insn *in, bool in_subprog)
{
	uint8_t op = SL_OP_CODE(in->code);

	switch (op) {
	case BPF_JA:
		return;
	case BPF_EXIT:
		l->regs = R(0);
		l->prec = in_subprog ? R(0) : 0;
		l->slots = l->pslots = 0;
		return;
	case BPF_CALL:
		if (in->src_reg != BPF_PSEUDO_CALL) {
			helper_call(l, in);
			return;
		}
		l->regs = (uint16_t)((l->regs & ~CALLER_SAVED) | ARGS_MASK);
		l->prec = (uint16_t)((l->prec & ~CALLER_SAVED) | ARGS_MASK);
		l->slots = l->pslots = UINT64_MAX;
		return;
	default:
		l->regs |= R(in->dst_reg);
		l->prec |= R(in->dst_reg);
		if (SL_OP_SRC(in->code) == BPF_X) {
			l->regs |= R(in->src_reg);
			l->prec |= R(in->src_reg);
		}
	}
}

static void transfer(struct live *l, const struct venv *env, uint32_t pc, bool conservative)
{
	const struct bpf_insn *in = &env->insns[pc];
	uint16_t flags = env->ia[pc].flags;
	bool derived = conservative || (flags & IA_STACK_DERIVED);
	bool dl, dp;

	switch (SL_OP_CLASS(in->code)) {
	case BPF_ALU:
	case BPF_ALU64:
		alu(l, in, flags, conservative);
		break;
	case BPF_LDX:
		ldx(l, in, derived);
		break;
	case BPF_ST:
	case BPF_STX:
		store(l, in, derived);
		break;
	case BPF_LD:
		if (sl_isa_is_lddw(in)) {
			kill_reg(l, in->dst_reg, &dl, &dp);
			break;
		}
		l->regs &= (uint16_t)~CALLER_SAVED;
		l->prec &= (uint16_t)~CALLER_SAVED;
		l->regs |= R(6);
		if (SL_OP_MODE(in->code) == BPF_IND)
			l->regs |= R(in->src_reg);
		break;
	default:
		jmp(l, in, env->ia[pc].subprog != 0);
		break;
	}
	l->regs |= R(10);
}

static void merge(struct live *out, const struct vinsn *ia)
{
	out->regs |= ia->live_regs;
	out->prec |= ia->prec_regs;
	out->slots |= ia->live_slots;
	out->pslots |= ia->prec_slots;
}

/* Successors within the same subprogram (a call's successor is its return point). */
static void out_of(const struct venv *env, uint32_t pc, struct live *out)
{
	const struct bpf_insn *in = &env->insns[pc];
	uint8_t cls = SL_OP_CLASS(in->code), op = SL_OP_CODE(in->code);
	uint32_t next = pc + (sl_isa_is_lddw(in) ? 2 : 1);

	memset(out, 0, sizeof(*out));
	if (cls == BPF_JMP || cls == BPF_JMP32) {
		if (op == BPF_EXIT)
			return;
		if (op != BPF_CALL) {
			int64_t t = (int64_t)pc + 1 + (in->code == (BPF_JMP32 | BPF_JA) ? in->imm : in->off);

			if (t >= 0 && t < env->n)
				merge(out, &env->ia[t]);
			if (op == BPF_JA)
				return;
		}
	}
	if (next < env->n)
		merge(out, &env->ia[next]);
}

int v_compute_liveness(struct venv *env, bool conservative)
{
	bool changed = true;

	for (uint32_t pc = 0; pc < env->n; pc++) {
		env->ia[pc].live_regs = env->ia[pc].prec_regs = 0;
		env->ia[pc].live_slots = env->ia[pc].prec_slots = 0;
	}
	while (changed) {
		changed = false;
		for (uint32_t pc = env->n; pc-- > 0;) {
			struct vinsn *ia = &env->ia[pc];
			struct live l;

			if (ia->flags & IA_LDDW2)
				continue;
			out_of(env, pc, &l);
			transfer(&l, env, pc, conservative);
			l.prec &= l.regs;
			l.pslots &= l.slots;
			if (l.regs != ia->live_regs || l.prec != ia->prec_regs ||
			    l.slots != ia->live_slots || l.pslots != ia->prec_slots) {
				ia->live_regs = l.regs, ia->prec_regs = l.prec;
				ia->live_slots = l.slots, ia->prec_slots = l.pslots;
				changed = true;
			}
		}
	}
	return 0;
}
