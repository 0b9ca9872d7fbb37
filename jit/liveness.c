/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Dead-code elimination for the JIT (control thread, after peephole.c).
 *
 * Backward liveness of r0-r9 over the instruction graph, computed on the
 * program as the JIT will emit it (fused groups use and define what their
 * x86 code uses and defines; absorbed instructions do nothing). An
 * instruction that only computes a register (ALU, LDX, lddw: no side
 * effect, and loads of a verified program cannot fault) whose result is
 * never read is not emitted: the halves clang leaves after the fused
 * rotates and byte-wise loads, and dead values in general.
 *
 *   exit:            uses r0 (a function's r6-r9 go back to its caller
 *                    through pops, so only r0 leaves it)
 *   helper / local call, tail call, LD_ABS/LD_IND:
 *                    use r1-r5 (and r6 for LD_ABS), define r0, clobber r1-r5
 *   stores, atomics: use their registers; never removed
 */
#include <stdlib.h>
#include <string.h>

#include "jit_internal.h"

#define R(n) ((uint16_t)(1u << (n)))
#define ARGS (R(1) | R(2) | R(3) | R(4) | R(5))

struct du {
	uint16_t use, def;
	bool pure;   /* removable when def is dead */
};

static bool is_call_like(const struct bpf_insn *in)
{
	uint8_t cls = SL_OP_CLASS(in->code);

	return in->code == (BPF_JMP | BPF_CALL) ||
	       (cls == BPF_LD && (SL_OP_MODE(in->code) == BPF_ABS || SL_OP_MODE(in->code) == BPF_IND));
}

static struct du du_alu(const struct bpf_insn *in, uint8_t fuse)
{
	uint8_t op = SL_OP_CODE(in->code);
	struct du d = { 0, R(in->dst_reg), true };

	if (fuse == SL_JIT_FUSE_BE16_HI || fuse == SL_JIT_FUSE_BE16_LO ||
	    fuse == SL_JIT_FUSE_MOV_SWAP16 || fuse == SL_JIT_FUSE_MOV_ZEXT)
		return (struct du){ R(in->src_reg), R(in->dst_reg), false };
	if (fuse == SL_JIT_FUSE_MOV_ADD)                /* rD = rS + imm|rT */
		return (struct du){ R(in->src_reg) | (SL_OP_SRC(in[1].code) == BPF_X ?
						      R(in[1].src_reg) : 0), R(in->dst_reg), false };
	if (op != BPF_MOV || fuse)      /* fused groups read their destination */
		d.use |= R(in->dst_reg);
	if (SL_OP_SRC(in->code) == BPF_X && op != BPF_END && fuse != SL_JIT_FUSE_ROL &&
	    fuse != SL_JIT_FUSE_LEA && fuse != SL_JIT_FUSE_ZEXT)
		d.use |= R(in->src_reg);
	if (fuse)
		d.pure = false;
	return d;
}

static struct du du_jmp(const struct sl_prog *p, uint32_t pc, const uint8_t *fuse_all)
{
	uint8_t fuse = fuse_all[pc];
	const struct bpf_insn *in = &p->insns[pc];
	uint8_t op = SL_OP_CODE(in->code);
	struct du d = { 0, 0, false };

	if (op == BPF_EXIT)
		return (struct du){ R(0), 0, false };
	if (op == BPF_CALL && fuse == SL_JIT_FUSE_INLINE_CALL)
		return (struct du){ R(2), R(0) | ARGS, false };   /* inlined lookup: key only */
	if (op == BPF_CALL)
		return (struct du){ ARGS, R(0) | ARGS, false };
	if (op == BPF_JA)
		return d;
	d.use = R(in->dst_reg);
	if (SL_OP_SRC(in->code) == BPF_X)
		d.use |= R(in->src_reg);
	if (fuse == SL_JIT_FUSE_CMP_K) {   /* the constant register is not read: an immediate */
		bool swapped;

		sl_jit_cmp_k(p, fuse_all, pc, &swapped);
		d.use = R(swapped ? in->src_reg : in->dst_reg);
	}
	if (fuse == SL_JIT_FUSE_CMOV || fuse == SL_JIT_FUSE_CMOV_JT) {  /* rX = imm|rY unless taken */
		const struct bpf_insn *mv = in + 1;

		d.use |= R(mv->dst_reg);
		if (SL_OP_SRC(mv->code) == BPF_X)
			d.use |= R(mv->src_reg);
		d.def = R(mv->dst_reg);
	}
	return d;
}

/* Registers instruction @p pc reads and writes, and whether it may go when unused. */
static struct du def_use(const struct sl_prog *p, uint32_t pc, const uint8_t *fuse)
{
	const struct bpf_insn *in = &p->insns[pc];
	uint8_t cls = SL_OP_CLASS(in->code), mode = SL_OP_MODE(in->code);

	if (fuse[pc] == SL_JIT_FUSE_DROP)
		return (struct du){ 0, 0, false };
	switch (cls) {
	case BPF_ALU:
	case BPF_ALU64:
		return du_alu(in, fuse[pc]);
	case BPF_JMP:
	case BPF_JMP32:
		return du_jmp(p, pc, fuse);
	case BPF_LDX:
		if (fuse[pc])
			return (struct du){ R(in->src_reg), R(in->dst_reg), false };
		return (struct du){ R(in->src_reg), R(in->dst_reg), true };
	case BPF_ST:
		return (struct du){ R(in->dst_reg), 0, false };
	case BPF_STX:
		if (mode != BPF_ATOMIC)
			return (struct du){ R(in->dst_reg) | R(in->src_reg), 0, false };
		if (in->imm == BPF_CMPXCHG)
			return (struct du){ R(in->dst_reg) | R(in->src_reg) | R(0), R(0), false };
		return (struct du){ R(in->dst_reg) | R(in->src_reg),
				    (in->imm & BPF_FETCH) ? R(in->src_reg) : 0, false };
	case BPF_LD:
		if (sl_isa_is_lddw(in))
			return (struct du){ 0, R(in->dst_reg), true };
		return (struct du){ ARGS | R(6) | (mode == BPF_IND ? R(in->src_reg) : 0),
				    R(0) | ARGS, false };
	}
	return (struct du){ 0x7ff, 0, false };
}

/* Jump target of @p pc, or -1 when it has none. */
static int64_t jump_target(const struct bpf_insn *in, uint32_t pc)
{
	uint8_t cls = SL_OP_CLASS(in->code), op = SL_OP_CODE(in->code);

	if ((cls != BPF_JMP && cls != BPF_JMP32) || op == BPF_CALL || op == BPF_EXIT)
		return -1;
	return (int64_t)pc + 1 + (cls == BPF_JMP32 && op == BPF_JA ? in->imm : in->off);
}

/* live[pc] = registers live after pc; iterate to a fixed point (loops converge). */
static void solve(const struct sl_prog *p, const struct du *du, const uint32_t *next,
		  uint16_t *live_out)
{
	uint16_t *live_in = calloc(p->n_insns + 1, sizeof(uint16_t));
	bool changed = true;

	if (!live_in) {
		for (uint32_t pc = 0; pc < p->n_insns; pc++)
			live_out[pc] = 0x3ff;   /* no memory: everything live, nothing removed */
		return;
	}
	while (changed) {
		changed = false;
		for (uint32_t i = p->n_insns; i-- > 0;) {
			const struct bpf_insn *in = &p->insns[i];
			uint8_t cls = SL_OP_CLASS(in->code), op = SL_OP_CODE(in->code);
			bool jmp = cls == BPF_JMP || cls == BPF_JMP32;
			bool stop = jmp && (op == BPF_EXIT || op == BPF_JA);  /* no fall-through */
			int64_t t = jump_target(in, i);
			uint16_t out = 0, in_set;

			if (!stop && next[i] <= p->n_insns)
				out = live_in[next[i]];
			if (t >= 0 && t <= p->n_insns)
				out |= live_in[t];
			in_set = du[i].use | (uint16_t)(out & ~du[i].def);
			if (out != live_out[i] || in_set != live_in[i]) {
				live_out[i] = out;
				live_in[i] = in_set;
				changed = true;
			}
		}
	}
	free(live_in);
}

uint8_t *sl_jit_dead_code(const struct sl_prog *p, const uint8_t *fuse)
{
	struct du *du = calloc(p->n_insns, sizeof(*du));
	uint32_t *next = calloc(p->n_insns, sizeof(*next));
	uint16_t *live = calloc(p->n_insns, sizeof(*live));
	uint8_t *dead = calloc(p->n_insns, 1);

	if (!du || !next || !live || !dead) {
		free(dead);
		dead = NULL;
		goto out;
	}
	for (uint32_t pc = 0; pc < p->n_insns; pc++) {
		bool lddw = sl_isa_is_lddw(&p->insns[pc]);

		du[pc] = def_use(p, pc, fuse);
		next[pc] = pc + (lddw ? 2 : 1);
		if (is_call_like(&p->insns[pc]))
			du[pc].pure = false;
		if (lddw && pc + 1 < p->n_insns) {
			pc++;
			du[pc] = (struct du){ 0, 0, false };
			next[pc] = pc + 1;
		}
	}
	/* removing a dead instruction can kill what fed it: a few rounds */
	for (int round = 0; round < 8; round++) {
		bool more = false;

		memset(live, 0, p->n_insns * sizeof(*live));
		solve(p, du, next, live);
		for (uint32_t pc = 0; pc < p->n_insns; pc++) {
			if (!du[pc].pure || !du[pc].def || (du[pc].def & live[pc]))
				continue;
			dead[pc] = 1;
			du[pc] = (struct du){ 0, 0, false };
			more = true;
		}
		if (!more)
			break;
	}
out:
	free(du);
	free(next);
	free(live);
	return dead;
}
