/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Moves sunk into the taken side of a conditional jump (control thread,
 * after liveness.c and fuse_late.c, on the final fusions).
 *
 * clang sets up a result before the test that decides whether it is the
 * result, so that both sides of the jump can share one exit:
 *
 *   r0 = 5; r1 = r4; if r7 == 0x50 goto out      (a first-match chain)
 *
 * Every packet that falls through pays for the moves, and in a chain of
 * rules most packets fall through most tests. Where the moved registers
 * are dead on the fall-through path, the JIT emits nothing in place and
 * sends the jump to a landing block after the function's epilogue that does the
 * moves and then goes on to the target:
 *
 *   cmp r13, 0x50; je L          ...   L: mov eax, 5; mov rdi, rcx; jmp out
 *
 * When the target is a short exit block (at most JIT_SINK_DUP ALU
 * instructions, then exit), the landing block holds its own copy of the block and
 * the epilogue instead of the jmp: the taken side costs no more than before.
 * Otherwise the landing block's jmp is one more instruction on the taken side, so
 * a jump takes at least JIT_SINK_MIN_JMP moves along (one move is a toss-up
 * that loses where the jump is usually taken).
 *
 * A move at pc k sinks into the jump at J when (all on the program as the
 * JIT emits it, fusions applied):
 *  - it is a plain, unfused, live "rD = imm|rS" (32- or 64-bit, not from
 *    r10, not a sign-extending move);
 *  - J is a conditional jump (plain, or one of the compare fusions that
 *    read only their operands) forward, or to a short exit block (a
 *    backward jump to a loop head would pay a jmp per iteration);
 *  - no jump lands in (k, J], nothing in between is a jump or call, and
 *    nothing in between reads or writes rD or writes rS;
 *  - J does not read rD, and rD is not live where J falls through.
 * Then on the fall-through path nobody can tell the move was not made, and
 * on the taken path it is made before the target runs, as written.
 */
#include <stdlib.h>

#include "jit_internal.h"

#define R(r) ((uint16_t)(1u << (r)))

/* A plain move the landing block can make instead: "rD = imm|rS" (not r10, not movsx). */
static bool sinkable_mov(const struct bpf_insn *in)
{
	uint8_t cls = SL_OP_CLASS(in->code);

	return (cls == BPF_ALU || cls == BPF_ALU64) && SL_OP_CODE(in->code) == BPF_MOV &&
	       in->off == 0 && in->dst_reg < BPF_REG_10 &&
	       (SL_OP_SRC(in->code) == BPF_K || in->src_reg < BPF_REG_10);
}

/* A conditional jump whose emitted compare reads only its operands. */
static bool sink_jump(const struct bpf_insn *in, uint8_t fuse)
{
	uint8_t cls = SL_OP_CLASS(in->code), op = SL_OP_CODE(in->code);

	if ((cls != BPF_JMP && cls != BPF_JMP32) || op == BPF_JA || op == BPF_CALL ||
	    op == BPF_EXIT || in->off == 0)
		return false;
	return fuse == JIT_FUSE_NONE || fuse == JIT_FUSE_CMP_K || fuse == JIT_FUSE_CMP_K32 ||
	       fuse == JIT_FUSE_JMP32 || fuse == JIT_FUSE_TEST_K || fuse == JIT_FUSE_MEM_CMP ||
	       fuse == JIT_FUSE_JZ_FLAGS || fuse == JIT_FUSE_MASK_JMP;
}

int64_t jit_exit_block(const struct sl_prog *p, uint32_t t, uint32_t end)
{
	for (uint32_t pc = t; pc < end && pc < t + JIT_SINK_DUP + 1; pc++) {
		const struct bpf_insn *in = &p->insns[pc];
		uint8_t cls = SL_OP_CLASS(in->code);

		if (in->code == (BPF_JMP | BPF_EXIT))
			return pc;
		if (cls != BPF_ALU && cls != BPF_ALU64)
			return -1;
	}
	return -1;
}

/*
 * Registers live where jump @p j falls through (at j + 1), from @p live,
 * which jit_dead_code() computed on the fusions @p fuse0 (later fusions
 * read some registers further on, at values that do not change between).
 */
static uint16_t live_fallthrough(const struct sl_prog *p, const uint8_t *fuse0, const uint8_t *dead,
				 const uint16_t *live, uint32_t j)
{
	uint16_t use, def;

	if (j + 1 >= p->n_insns)
		return 0x3ff;
	if (dead[j + 1])
		return live[j + 1];
	jit_def_use(p, j + 1, fuse0, &use, &def);
	return (uint16_t)(use | (live[j + 1] & ~def));
}

/* What instruction @p pc reads and writes under either set of fusions (a fused group reads late). */
static void def_use2(const struct sl_prog *p, uint32_t pc, const uint8_t *fuse0, const uint8_t *fuse,
		     uint16_t *use, uint16_t *def)
{
	uint16_t u0, d0;

	jit_def_use(p, pc, fuse0, &u0, &d0);
	jit_def_use(p, pc, fuse, use, def);
	*use |= u0;
	*def |= d0;
}

/* Can the move at @p k sink into the jump at @p j (everything between checked here)? */
static bool can_sink(const struct sl_prog *p, const uint8_t *fuse0, const uint8_t *fuse,
		     const uint8_t *dead, const uint8_t *targets, uint32_t k, uint32_t j, uint16_t j_use,
		     uint16_t out)
{
	const struct bpf_insn *mv = &p->insns[k];
	uint16_t d = R(mv->dst_reg), s = SL_OP_SRC(mv->code) == BPF_X ? R(mv->src_reg) : 0;

	if (!sinkable_mov(mv) || fuse[k] != JIT_FUSE_NONE || dead[k] || (j_use & d) || (out & d))
		return false;
	for (uint32_t m = k + 1; m < j; m++) {
		uint16_t use, def;

		if (targets[m])
			return false;
		if (!dead[m]) {
			def_use2(p, m, fuse0, fuse, &use, &def);
			if ((use & d) || (def & (d | s)))
				return false;
		}
		if (sl_isa_is_lddw(&p->insns[m]))
			m++;                                        /* its second half */
	}
	return true;
}

/* Mark the moves before jump @p j that sink into it; @return how many. */
static unsigned sink_into(const struct sl_prog *p, const uint8_t *fuse0, const uint8_t *fuse,
			  const uint8_t *dead, const uint16_t *live, const uint8_t *targets, uint32_t j,
			  uint8_t *sink)
{
	uint16_t j_use, j_def, out = live_fallthrough(p, fuse0, dead, live, j);
	unsigned n = 0;

	def_use2(p, j, fuse0, fuse, &j_use, &j_def);
	for (uint32_t k = j; k-- > 0;) {
		const struct bpf_insn *in = &p->insns[k];
		uint8_t cls = SL_OP_CLASS(in->code);

		if (targets[k + 1] || cls == BPF_JMP || cls == BPF_JMP32 || j - k > 16)
			break;
		if (k > 0 && sl_isa_is_lddw(&p->insns[k - 1]))
			continue;                                   /* an lddw's second half */
		if (can_sink(p, fuse0, fuse, dead, targets, k, j, j_use, out)) {
			sink[k] = JIT_SINK_MOV;
			n++;
		}
	}
	return n;
}

/* Undo the marks of sink_into() for the jump at @p j (too few moves to pay for the landing block's jmp). */
static void unmark(const struct sl_prog *p, uint32_t j, uint8_t *sink)
{
	for (uint32_t k = j; k-- > 0 && j - k <= 16;) {
		uint8_t cls = SL_OP_CLASS(p->insns[k].code);

		if (cls == BPF_JMP || cls == BPF_JMP32)
			break;
		sink[k] = 0;
	}
}

uint8_t *jit_sink_moves(const struct sl_prog *p, const uint8_t *fuse0, const uint8_t *fuse,
			const uint8_t *dead, const uint16_t *live, const uint8_t *targets)
{
	uint8_t *sink = calloc(p->n_insns + 1, 1);
	unsigned n;
	bool exit;

	for (uint32_t j = 0; sink && j < p->n_insns; j++) {
		const struct bpf_insn *in = &p->insns[j];
		int64_t t = (int64_t)j + 1 + in->off;

		if (sl_isa_is_lddw(in)) {
			j++;
			continue;
		}
		if (dead[j] || !sink_jump(in, fuse[j]) || t < 0 || t >= p->n_insns)
			continue;
		exit = jit_exit_block(p, (uint32_t)t, p->n_insns) >= 0;
		if (t <= j && !exit)
			continue;
		n = sink_into(p, fuse0, fuse, dead, live, targets, j, sink);
		if (n >= (exit ? 1u : JIT_SINK_MIN_JMP))
			sink[j] = JIT_SINK_JUMP;
		else
			unmark(p, j, sink);
	}
	return sink;
}
