/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * x86-64 JIT: jumps and compares (control thread, part of sl_jit_compile();
 * the passes are described at the top of jit.c).
 *
 * A branch uses the native offsets of the previous pass: rel8 where the
 * displacement fitted then (jit_emit_branch()); a conditional jump with
 * moves sunk into it (sink.c) goes to its landing block instead, and the
 * head of a cold tail (outline.c) to the tail, on the inverse condition. Jumps go
 * straight to where the plain gotos they land on lead (jit_thread_jump()),
 * and a jump to an exit is the epilogue itself when that is short.
 *
 * A conditional jump is cmp/test + jcc (emit_compare()), or one of the
 * compare fusions of peephole.c and fuse_late.c: a select as cmov (CMOV,
 * CMOV_JT), a bool as setcc (SETCC), "== 0" on the flags of the ALU
 * operation before (JZ_FLAGS), a register holding a constant as an
 * immediate (CMP_K, CMP_K32), a 32-bit compare of a zero-extended copy's
 * source (JMP32), "test rX, K" for an AND before (TEST_K), a compare with
 * memory for a load before (MEM_CMP), a prefix test as lea and cmp
 * (MASK_LEA, MASK_JMP: fuse_cmp.c).
 */
#include <errno.h>

#include "jit_state.h"

/* ---- branches ---- */

/* jmp/jcc to native offset @p target of the previous pass; rel8 when it fitted then. */
void jit_emit_branch(struct jit_state *st, enum x86_cc cc, uint32_t target)
{
	int64_t prev, rel;
	bool rel8;

	if (cc != CC_ALWAYS && (st->sink[st->pc] & JIT_SINK_JUMP)) {
		target = st->landing[st->pc];     /* the moves sunk into it, then the target */
		st->landing_taken = true;
	}
	if (cc != CC_ALWAYS && st->outl_head == (int64_t)st->pc) {
		cc = (enum x86_cc)(cc ^ 1);       /* a cold tail's head (outline.c): to the tail */
		target = st->outl_at[st->pc];
	}
	prev = (int64_t)target - (int64_t)st->ends[st->pc];
	rel8 = !st->first_pass && prev >= -128 && prev <= 127;
	rel = (int64_t)target - (int64_t)(st->e.len + x86_jcc_size(cc, rel8));

	x86_jcc_rel(&st->e, cc, (int32_t)rel, rel8);
}

/* ---- jumps ---- */

/* cmp/test of a conditional jump; @return the x86 condition that takes the jump, or -1. */
static const int8_t jmp_ccs[16] = {
	[BPF_JEQ >> 4] = CC_E, [BPF_JGT >> 4] = CC_A, [BPF_JGE >> 4] = CC_AE,
	[BPF_JSET >> 4] = CC_NE, [BPF_JNE >> 4] = CC_NE, [BPF_JSGT >> 4] = CC_G,
	[BPF_JSGE >> 4] = CC_GE, [BPF_JLT >> 4] = CC_B, [BPF_JLE >> 4] = CC_BE,
	[BPF_JSLT >> 4] = CC_L, [BPF_JSLE >> 4] = CC_LE,
};

static int emit_compare(struct jit_state *st, const struct bpf_insn *in)
{
	uint8_t op = SL_OP_CODE(in->code);
	bool w64 = jit_is_w64(in);
	int dst = st->rmap[in->dst_reg];
	struct jit_src_op s;

	if (op > BPF_JSLE || !jmp_ccs[op >> 4])
		return -1;
	s = jit_src_operand(st, in);
	if (op == BPF_JSET && s.is_reg)
		x86_test_rr(&st->e, w64, dst, s.reg);
	else if (op == BPF_JSET)
		x86_test_ri(&st->e, w64, dst, s.imm);
	else if (s.is_reg)
		x86_alu_rr(&st->e, w64, ALU_CMP, dst, s.reg);
	else if (s.imm == 0)
		x86_test_rr(&st->e, w64, dst, dst);
	else
		x86_alu_ri(&st->e, w64, ALU_CMP, dst, s.imm);
	return jmp_ccs[op >> 4];
}

/* A jump to an exit: the epilogue itself when it is short (a return instead of a jump). */
/* Where a jump to @p target ends up after the plain "goto"s (ja) it lands on, up to 8. */
int64_t jit_thread_jump(const struct jit_state *st, int64_t target)
{
	for (int n = 0; n < 8; n++) {
		const struct bpf_insn *in = &st->prog->insns[target];
		int64_t next = target + 1 + in->off;

		if (in->code != (BPF_JMP | BPF_JA) || st->fuse[target] || st->dead[target] ||
		    next < st->sub->start || next >= st->sub->end)
			break;
		target = next;
	}
	return target;
}

static void emit_jump_to(struct jit_state *st, int64_t target)
{
	const struct bpf_insn *t = &st->prog->insns[target];

	if (t->code == (BPF_JMP | BPF_EXIT) && st->sub->epi_size <= JIT_INLINE_EPILOGUE &&
	    st->sub->inline_call < 0)
		jit_emit_epilogue(st, true);
	else
		jit_emit_branch(st, CC_ALWAYS, st->addrs[target]);
}

int jit_do_jmp(struct jit_state *st, const struct bpf_insn *in)
{
	uint8_t op = SL_OP_CODE(in->code);
	int64_t target = (int64_t)st->pc + 1 + in->off;
	int cc;

	if (op != BPF_CALL && op != BPF_EXIT) {
		int64_t to = op == BPF_JA && !jit_is_w64(in) ? (int64_t)st->pc + 1 + in->imm : target;

		if (to < st->sub->start || to >= st->sub->end)
			return jit_fail(st, -EINVAL, "jump to pc %lld leaves the function [%u, %u)",
					(long long)to, st->sub->start, st->sub->end);
	}
	switch (op) {
	case BPF_EXIT:
		if (st->burst && st->burst->exit(st))
			return 0;                                   /* burst.c: a plain pass */
		if (st->pc + 1 == st->sub->end)
			return 0;                  /* falls into the epilogue, or out of a body in place */
		if (st->sub->inline_call >= 0)
			jit_emit_branch(st, CC_ALWAYS, st->addrs[st->sub->inline_call + 1]);
		else if (st->sub->epi_size <= JIT_INLINE_EPILOGUE)
			jit_emit_epilogue(st, true);
		else
			jit_emit_branch(st, CC_ALWAYS, st->sub->off_epi);
		return 0;
	case BPF_JA:
		if (!jit_is_w64(in))
			target = (int64_t)st->pc + 1 + in->imm;     /* gotol */
		target = jit_thread_jump(st, target);
		if (target != st->pc + 1)
			emit_jump_to(st, target);
		return 0;
	}
	target = jit_thread_jump(st, target);
	if (target == st->pc + 1)
		return 0;
	cc = emit_compare(st, in);
	if (cc < 0)
		return jit_fail(st, -EINVAL, "unknown opcode 0x%02x", in->code);
	jit_emit_branch(st, (enum x86_cc)cc, st->addrs[target]);
	return 0;
}

/*
 * "if (cond) goto +1; rX = v" (peephole.c, JIT_FUSE_CMOV at the jump):
 * without a branch, rX = v when cond is false (cmov of the inverse).
 */
void jit_emit_cmov(struct jit_state *st, const struct bpf_insn *in)
{
	const struct bpf_insn *mv = in + 1;
	bool w64 = SL_OP_CLASS(mv->code) == BPF_ALU64;
	int dst = st->rmap[mv->dst_reg], src = TMP;
	int cc;

	if (st->sub->host->tmp_mapped && (SL_OP_SRC(mv->code) == BPF_K || !w64)) {
		/* TMP holds an eBPF register: compare first, then build the source in a dead one */
		src = jit_cmov_scratch(st, st->rmap, st->pc);
		cc = emit_compare(st, in);
		if (SL_OP_SRC(mv->code) == BPF_K)     /* mov, not xor: the flags must survive */
			x86_mov_ri(&st->e, w64, src, w64 ? (int64_t)mv->imm : (int64_t)(uint32_t)mv->imm);
		else
			x86_mov_rr(&st->e, false, src, st->rmap[mv->src_reg]);
		x86_cmov(&st->e, (enum x86_cc)(cc ^ 1), dst, src);
		return;
	}
	if (SL_OP_SRC(mv->code) == BPF_K)
		x86_mov_ri(&st->e, w64, TMP, w64 ? (int64_t)mv->imm : (int64_t)(uint32_t)mv->imm);
	else if (!w64)
		x86_mov_rr(&st->e, false, TMP, st->rmap[mv->src_reg]);    /* zero-extended copy */
	else
		src = st->rmap[mv->src_reg];
	cc = emit_compare(st, in);
	x86_cmov(&st->e, (enum x86_cc)(cc ^ 1), dst, src);
}

/*
 * TEST_K's compare: "test rX, K" for the AND @p arg (bits 0-6) instructions
 * back; with bit 7, "test size [m], K" for the load before that AND (the
 * loaded value is zero-extended, so the test of its bytes decides alike).
 */
static void emit_test_k(struct jit_state *st, const struct bpf_insn *in, uint8_t arg)
{
	const struct bpf_insn *and = in - (arg & 0x7f), *ld = and - 1;
	bool w64 = SL_OP_CLASS(and->code) == BPF_ALU64 && jit_is_w64(in);
	unsigned size = sl_isa_size_bytes(ld->code);
	int32_t off = ld->off;
	int base;

	if (!(arg & 0x80)) {
		x86_test_ri(&st->e, w64, st->rmap[in->dst_reg], and->imm);
		return;
	}
	base = jit_mem_base(st, ld->src_reg, &off);
	x86_test_mi(&st->e, size == 8 && !w64 ? 4 : size, base, off, and->imm);
}

/* "rC = 1; [...] if (cond) goto +1; rC = 0": rC is zero (SETCC_ZERO); compare, setcc rC8. */
int jit_emit_setcc(struct jit_state *st, const struct bpf_insn *in)
{
	uint8_t back = st->fuse[st->prog->n_insns + st->pc];
	int cc;

	if (back) {                                  /* TEST_K: the AND before, folded in */
		emit_test_k(st, in, back);
		cc = jmp_ccs[SL_OP_CODE(in->code) >> 4];
	} else {
		cc = emit_compare(st, in);
	}

	if (cc < 0)
		return jit_fail(st, -EINVAL, "unknown opcode 0x%02x", in->code);
	x86_setcc(&st->e, (enum x86_cc)cc, st->rmap[in[1].dst_reg]);
	return 0;
}

/* "if rX ==|!= 0" right after the add/sub/and/or/xor that computed rX: its ZF decides. */
int jit_emit_jz_flags(struct jit_state *st, const struct bpf_insn *in)
{
	int64_t target = (int64_t)st->pc + 1 + in->off;

	if (target < st->sub->start || target >= st->sub->end)
		return jit_fail(st, -EINVAL, "jump to pc %lld leaves the function [%u, %u)",
				(long long)target, st->sub->start, st->sub->end);
	target = jit_thread_jump(st, target);
	if (target != st->pc + 1)
		jit_emit_branch(st, SL_OP_CODE(in->code) == BPF_JEQ ? CC_E : CC_NE, st->addrs[target]);
	return 0;
}

/* A jump on a register holding a constant: the same jump with the immediate (mirrored). */
int jit_emit_cmp_k(struct jit_state *st, const struct bpf_insn *in)
{
	static const uint8_t mirror[16] = {
		[BPF_JEQ >> 4] = BPF_JEQ, [BPF_JNE >> 4] = BPF_JNE, [BPF_JSET >> 4] = BPF_JSET,
		[BPF_JGT >> 4] = BPF_JLT, [BPF_JLT >> 4] = BPF_JGT, [BPF_JGE >> 4] = BPF_JLE,
		[BPF_JLE >> 4] = BPF_JGE, [BPF_JSGT >> 4] = BPF_JSLT, [BPF_JSLT >> 4] = BPF_JSGT,
		[BPF_JSGE >> 4] = BPF_JSLE, [BPF_JSLE >> 4] = BPF_JSGE,
	};
	struct bpf_insn t = *in;
	bool swapped;

	uint8_t cls = st->fuse[st->pc] == JIT_FUSE_CMP_K32 ? BPF_JMP32 : SL_OP_CLASS(in->code);

	t.imm = (int32_t)jit_cmp_k(st->prog, st->fuse, st->pc, &swapped);
	t.code = (uint8_t)(cls | BPF_K | SL_OP_CODE(in->code));
	if (swapped) {
		t.dst_reg = in->src_reg;
		t.code = (uint8_t)(cls | BPF_K | mirror[SL_OP_CODE(in->code) >> 4]);
	}
	t.src_reg = 0;
	return jit_do_jmp(st, &t);
}

/* The jump target of @p in at st->pc, threaded; -1 (after failing) when it leaves the function. */
static int64_t cond_target(struct jit_state *st, const struct bpf_insn *in)
{
	int64_t target = (int64_t)st->pc + 1 + in->off;

	if (target < st->sub->start || target >= st->sub->end) {
		jit_fail(st, -EINVAL, "jump to pc %lld leaves the function [%u, %u)",
			 (long long)target, st->sub->start, st->sub->end);
		return -1;
	}
	return jit_thread_jump(st, target);
}

/*
 * fuse_late.c's jumps: JMP32 (a 32-bit compare of the zero-extended
 * copy's source), TEST_K ("test rX, K" for the AND before), MEM_CMP
 * ("cmp|test size [m], imm" for the load before).
 */
int jit_emit_late_jump(struct jit_state *st, const struct bpf_insn *in, uint8_t fuse)
{
	uint8_t arg = st->fuse[st->prog->n_insns + st->pc], op = SL_OP_CODE(in->code);
	int64_t target = cond_target(st, in);
	struct bpf_insn t = *in;

	if (target < 0)
		return st->log.err;
	if (fuse == JIT_FUSE_JMP32) {
		t.code = (uint8_t)(BPF_JMP32 | op | BPF_K);
		t.dst_reg = arg;
		return jit_do_jmp(st, &t);
	}
	if (target == st->pc + 1)
		return 0;
	if (fuse == JIT_FUSE_TEST_K) {
		emit_test_k(st, in, arg);
	} else {                                                  /* MEM_CMP */
		const struct bpf_insn *ld = in - 1;
		unsigned size = sl_isa_size_bytes(ld->code);
		int32_t off = ld->off;
		int base = jit_mem_base(st, ld->src_reg, &off);

		if (size == 8 && !jit_is_w64(in))
			size = 4;                                 /* the low half */
		if (op == BPF_JSET)
			x86_test_mi(&st->e, size, base, off, in->imm);
		else
			x86_alu_mi(&st->e, size, ALU_CMP, base, off, in->imm);
	}
	jit_emit_branch(st, (enum x86_cc)jmp_ccs[op >> 4], st->addrs[target]);
	return 0;
}

/*
 * A prefix test (fuse_cmp.c): at the mov (MASK_LEA) "lea rX32, [rY - C]",
 * at the jump (MASK_JMP) "cmp rX32, 2^k" and jb (==) or jae (!=).
 */
int jit_emit_mask_cmp(struct jit_state *st, const struct bpf_insn *in, uint8_t fuse)
{
	uint32_t dist = st->fuse[st->prog->n_insns + st->pc], c;
	uint32_t mv = fuse == JIT_FUSE_MASK_LEA ? st->pc : st->pc - dist;
	const struct bpf_insn *m = &st->prog->insns[mv];
	unsigned k;
	bool hi;
	int64_t target;

	if (!jit_mask_cmp_args(st->prog, st->targets, mv, mv + dist, &c, &k, &hi))
		return jit_fail(st, -EINVAL, "prefix test at pc %u: not one after all", mv);
	if (fuse == JIT_FUSE_MASK_LEA) {
		x86_lea(&st->e, false, st->rmap[m->dst_reg], st->rmap[m->src_reg], (int32_t)(0u - c));
		return 0;
	}
	target = cond_target(st, in);
	if (target < 0)
		return st->log.err;
	if (target == st->pc + 1)
		return 0;
	x86_alu_ri(&st->e, false, ALU_CMP, st->rmap[in->dst_reg], (int32_t)(1u << k));
	jit_emit_branch(st, SL_OP_CODE(in->code) == BPF_JEQ ? CC_B : CC_AE, st->addrs[target]);
	return 0;
}
