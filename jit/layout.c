/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * JIT function layout, before any code is emitted: where the native
 * functions start (instruction 0 and every local call target), which eBPF
 * registers each one uses (only those callee-saved registers are pushed),
 * which x86 registers it maps them to (a leaf that needs no scratch
 * registers may take spare ones), and its frame: none, rsp-addressed (r10
 * only as a load/store base or copied: no rbp), or the red zone of a leaf.
 * Also the epilogue of a function, whose shape the frame decides.
 * Control thread, part of sl_jit_compile(), after the fusions (an inlined
 * map lookup, JIT_FUSE_INLINE_CALL, is no call).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "jit_state.h"

static const uint8_t default_map[SL_NREGS] = {
	X_RAX, X_RDI, X_RSI, X_RDX, X_RCX, X_R8, X_RBX, X_R13, X_R14, X_R15, X_RBP,
};

static bool reads_src(const struct bpf_insn *in)
{
	uint8_t cls = SL_OP_CLASS(in->code), op = SL_OP_CODE(in->code);

	switch (cls) {
	case BPF_LDX:
	case BPF_STX:
		return true;
	case BPF_LD:
		return SL_OP_MODE(in->code) == BPF_IND;
	case BPF_ALU:
	case BPF_ALU64:
		return SL_OP_SRC(in->code) == BPF_X && op != BPF_END;
	case BPF_JMP:
	case BPF_JMP32:
		return SL_OP_SRC(in->code) == BPF_X && op != BPF_CALL && op != BPF_EXIT && op != BPF_JA;
	}
	return false;
}

/* Instructions where functions start: 0 and every local call target. */
int jit_find_subs(struct jit_state *st)
{
	const struct sl_prog *p = st->prog;
	uint8_t *start = calloc(p->n_insns, 1);
	uint32_t n = 0;

	if (!start)
		return jit_fail(st, -ENOMEM, "out of memory");
	start[0] = 1;
	for (uint32_t pc = 0; pc < p->n_insns; pc++) {
		const struct bpf_insn *in = &p->insns[pc];
		int64_t t = (int64_t)pc + 1 + in->imm;

		if ((in->code == (BPF_JMP | BPF_CALL) && in->src_reg == BPF_PSEUDO_CALL) ||
		    (sl_isa_is_lddw(in) && in->src_reg == BPF_PSEUDO_FUNC)) {
			st->pc = pc;
			if (t < 0 || t >= p->n_insns) {
				free(start);
				return jit_fail(st, -EINVAL, "call out of range: to pc %lld", (long long)t);
			}
			start[t] = 1;
		}
		if (sl_isa_is_lddw(in))
			pc++;
	}
	for (uint32_t pc = 0; pc < p->n_insns; pc++)
		n += start[pc];
	st->subs = calloc(n, sizeof(*st->subs));
	if (!st->subs) {
		free(start);
		return jit_fail(st, -ENOMEM, "out of memory");
	}
	for (uint32_t pc = 0; pc < p->n_insns; pc++) {
		if (!start[pc])
			continue;
		if (st->nsubs)
			st->subs[st->nsubs - 1].end = pc;
		st->subs[st->nsubs++].start = pc;
	}
	st->subs[st->nsubs - 1].end = p->n_insns;
	free(start);
	st->cbs = calloc(st->nsubs, sizeof(*st->cbs));
	if (!st->cbs)
		return jit_fail(st, -ENOMEM, "out of memory");
	return 0;
}

/* Epilogue of function @p s; @p ret false leaves out the ret (tail calls). */
void jit_emit_epilogue_of(struct x86_emit *e, const struct jit_sub *s, bool ret)
{
	if (s->frame)
		x86_byte(e, 0xc9);                                        /* leave */
	else if (s->stack)
		x86_alu_ri(e, true, ALU_ADD, X_RSP, (int32_t)s->stack);
	for (int i = s->nsaved - 1; i >= 0; i--)
		x86_pop(e, s->saved[i]);
	if (ret)
		x86_ret(e);
}

/* Stack the verifier measured for the function at @p start; 512 when unknown. */
static uint32_t verifier_stack(const struct sl_prog *p, uint32_t start)
{
	for (uint32_t i = 0; p->subprogs && i < p->n_subprogs; i++)
		if (p->subprogs[i].start == start && p->subprogs[i].stack_depth)
			return (p->subprogs[i].stack_depth + 7) & ~7u;
	return SL_STACK_SIZE;
}

/* Is @p t emitted inside native function @p s (s itself, or emitted in place there)? */
static bool part_of(const struct jit_sub *t, const struct jit_sub *s)
{
	return t == s || (t->inline_call >= 0 && t->host == s);
}

static void scan_range(struct jit_state *st, struct jit_sub *s, const struct jit_sub *r,
		       bool uses[SL_NREGS])
{
	const struct bpf_insn *insns = st->prog->insns;

	for (uint32_t pc = r->start; pc < r->end; pc++) {
		const struct bpf_insn *in = &insns[pc];
		uint8_t cls = SL_OP_CLASS(in->code);

		if (in->dst_reg < SL_NREGS)
			uses[in->dst_reg] = true;
		if (reads_src(in) && in->src_reg < SL_NREGS)
			uses[in->src_reg] = true;
		if (in->code == (BPF_JMP | BPF_CALL) && st->fuse[pc] != JIT_FUSE_INLINE_CALL &&
		    !jit_inlined_at(st, pc)) {
			s->calls = true;
			if (in->src_reg == 0 && in->imm == BPF_FUNC_tail_call)
				st->tail_calls = true;
		}
		if (cls == BPF_LD && (SL_OP_MODE(in->code) == BPF_ABS ||
				      SL_OP_MODE(in->code) == BPF_IND)) {
			s->calls = true;
			uses[BPF_REG_6] = true;
		}
		if (sl_isa_is_lddw(in))
			pc++;
	}
}

/* What native function @p s uses: its instructions and those of the functions emitted in it. */
static void scan_sub(struct jit_state *st, struct jit_sub *s, bool uses[SL_NREGS])
{
	memset(uses, 0, SL_NREGS * sizeof(uses[0]));
	for (uint32_t i = 0; i < st->nsubs; i++)
		if (part_of(&st->subs[i], s))
			scan_range(st, s, &st->subs[i], uses);
}

/*
 * A leaf needs none of the scratch registers AUX and AUX2: no calls of any
 * kind, no div/mod, no atomics, no blinding, no shift by a register
 * without BMI2. Its r6-r9 can then live in AUX/AUX2 (caller-saved) instead
 * of callee-saved registers that it would have to push and pop.
 */
static bool range_without_aux(const struct jit_state *st, const struct jit_sub *r)
{
	for (uint32_t pc = r->start; pc < r->end; pc++) {
		const struct bpf_insn *in = &st->prog->insns[pc];
		uint8_t cls = SL_OP_CLASS(in->code), op = SL_OP_CODE(in->code);

		if (sl_isa_is_lddw(in)) {
			pc++;
			continue;
		}
		if ((cls == BPF_ALU || cls == BPF_ALU64) &&
		    (op == BPF_DIV || op == BPF_MOD ||
		     (!st->bmi2 && SL_OP_SRC(in->code) == BPF_X &&
		      (op == BPF_LSH || op == BPF_RSH || op == BPF_ARSH))))
			return false;
		if (cls == BPF_STX && SL_OP_MODE(in->code) == BPF_ATOMIC)
			return false;
	}
	return true;
}

static bool leaf_without_aux(const struct jit_state *st, const struct jit_sub *s)
{
	if (s->calls || st->opts.blind_constants)
		return false;
	for (uint32_t i = 0; i < st->nsubs; i++)        /* itself and the functions in place */
		if (part_of(&st->subs[i], s) && !range_without_aux(st, &st->subs[i]))
			return false;
	return true;
}

static bool caller_saved(int x)
{
	return x == X_RAX || x == X_RDI || x == X_RSI || x == X_RDX || x == X_RCX ||
	       x == X_R8 || x == AUX2 || x == AUX || x == TMP;
}

int jit_cmov_scratch(const struct jit_state *st, const uint8_t *rmap, uint32_t pc)
{
	const struct bpf_insn *mv = &st->prog->insns[pc + 1];
	const struct jit_sub *f = jit_sub_of(st, pc);
	/* in a function emitted in place, r6-r9 dead there may be its host's */
	uint8_t end = f && f->inline_call >= 0 ? BPF_REG_6 : BPF_REG_10;

	for (uint8_t r = 0; r < end; r++)
		if (r != mv->dst_reg && !(st->live[pc + 1] & (1u << r)) && caller_saved(rmap[r]))
			return rmap[r];
	return -1;
}

/*
 * Does a leaf that needs neither AUX nor AUX2 still need TMP under
 * @p s->rmap? An inlined map lookup (the per-CPU slot, the table base)
 * does; so does a cmov of an immediate or of a 32-bit copy (its source is
 * built in a scratch register) when no register is dead after its select
 * (jit_cmov_scratch()). Otherwise TMP can hold a third of its r6-r9.
 */
static bool leaf_range_needs_tmp(const struct jit_state *st, const struct jit_sub *s,
				 const struct jit_sub *r)
{
	for (uint32_t pc = r->start; pc < r->end; pc++) {
		const struct bpf_insn *mv = &st->prog->insns[pc + 1];
		uint8_t f = st->fuse[pc];

		if (f == JIT_FUSE_INLINE_CALL)
			return true;
		if ((f == JIT_FUSE_CMOV || f == JIT_FUSE_CMOV_JT) &&
		    (SL_OP_SRC(mv->code) == BPF_K || SL_OP_CLASS(mv->code) != BPF_ALU64) &&
		    jit_cmov_scratch(st, s->rmap, pc) < 0)
			return true;
	}
	return false;
}

static bool leaf_needs_tmp(const struct jit_state *st, const struct jit_sub *s)
{
	for (uint32_t i = 0; i < st->nsubs; i++)
		if (st->subs[i].inline_call >= 0 && st->subs[i].host == s &&
		    leaf_range_needs_tmp(st, s, &st->subs[i]))
			return true;
	return leaf_range_needs_tmp(st, s, s);
}

/* r6-r9 that @p s uses: into spare registers (the first @p nspare of AUX2, AUX, TMP), else pushed. */
static void map_callee_regs(struct jit_sub *s, const bool uses[SL_NREGS], unsigned nspare)
{
	static const uint8_t callee_saved[4] = { X_RBX, X_R13, X_R14, X_R15 };
	static const uint8_t spare[3] = { AUX2, AUX, TMP };
	unsigned used = 0;

	memcpy(s->rmap, default_map, sizeof(s->rmap));
	s->nsaved = 0;
	s->tmp_mapped = false;
	for (unsigned r = 0; r < 4; r++) {
		if (!uses[BPF_REG_6 + r])
			continue;
		if (used < nspare) {
			s->rmap[BPF_REG_6 + r] = spare[used++];
			s->tmp_mapped |= spare[used - 1] == TMP;
		} else {
			s->saved[s->nsaved++] = callee_saved[r];
		}
	}
}

/*
 * Can function @p s address its stack from rsp, without an rbp frame? Yes
 * when r10 appears only as the base of plain loads and stores (not of
 * atomics, not fused) and as the source of "rX = r10" (then lea rX,
 * [rsp + n]): rsp does not move inside a function, so r10 is rsp + stack
 * throughout, and push rbp / mov rbp, rsp / leave are saved.
 */
static bool rsp_frame_ok(const struct jit_state *st, const struct jit_sub *s)
{
	for (uint32_t pc = s->start; pc < s->end; pc++) {
		const struct bpf_insn *in = &st->prog->insns[pc];
		uint8_t cls = SL_OP_CLASS(in->code), mode = SL_OP_MODE(in->code);
		bool r10 = in->dst_reg == BPF_REG_10 || (reads_src(in) && in->src_reg == BPF_REG_10);

		if (sl_isa_is_lddw(in)) {
			pc++;
			continue;
		}
		if (!r10)
			continue;
		if (st->fuse[pc] == JIT_FUSE_ST_K || st->fuse[pc] == JIT_FUSE_MEM_ALU ||
		    (st->fuse[pc] == JIT_FUSE_NOP && (cls == BPF_LDX || cls == BPF_STX)))
			continue;                                   /* mem_base(): [rsp + n + off] */
		if (st->fuse[pc] == JIT_FUSE_MOV_ADD && in->src_reg == BPF_REG_10 &&
		    SL_OP_SRC(in[1].code) == BPF_K)
			continue;                                   /* lea rX, [rsp + n + imm] */
		if (st->fuse[pc] || (pc > s->start && (st->fuse[pc - 1] == JIT_FUSE_CMOV ||
						       st->fuse[pc - 1] == JIT_FUSE_CMOV_JT)))
			return false;                           /* fused forms take plain registers */
		if (cls == BPF_LDX && (mode == BPF_MEM || mode == BPF_MEMSX) && in->dst_reg != BPF_REG_10)
			continue;
		if (cls == BPF_ST && mode == BPF_MEM)
			continue;
		if (cls == BPF_STX && mode == BPF_MEM && in->src_reg != BPF_REG_10)
			continue;
		if (in->code == (BPF_ALU64 | BPF_MOV | BPF_X) && in->off == 0 &&
		    in->dst_reg != BPF_REG_10)
			continue;
		return false;
	}
	return true;
}

/* Register map, registers to save, frame and stack of every function, and epilogue sizes. */
void jit_layout_subs(struct jit_state *st)
{
	bool uses[SL_NREGS];

	for (uint32_t i = 0; i < st->nsubs; i++)  /* first: does any function tail call? */
		scan_sub(st, &st->subs[i], uses);
	for (uint32_t i = 0; i < st->nsubs; i++) {
		struct jit_sub *s = &st->subs[i];
		bool leaf = leaf_without_aux(st, s);
		struct x86_emit count = { 0 };
		unsigned pushes;

		scan_sub(st, s, uses);
		map_callee_regs(s, uses, leaf ? 3 : 0);
		if (s->tmp_mapped && leaf_needs_tmp(st, s))
			map_callee_regs(s, uses, 2);
		if (i == 0 && st->tail_calls)
			s->saved[s->nsaved++] = TCC;
		s->frame = uses[BPF_REG_10];
		s->stack = s->frame ? verifier_stack(st->prog, s->start) : 0;
		s->rsp_frame = s->frame && rsp_frame_ok(st, s);
		if (s->rsp_frame) {
			s->frame = false;
			s->rmap[BPF_REG_10] = X_RSP;
			if (!s->calls && s->stack <= JIT_RED_ZONE)
				s->stack = 0;   /* a leaf: its stack is the red zone under rsp */
		}
		pushes = s->nsaved + (s->frame ? 1 : 0);
		/* entry rsp is 8 mod 16 (return address): make it 0 mod 16 at calls */
		if (s->calls && (8 + 8 * pushes + s->stack) % 16)
			s->stack += 8;
		jit_emit_epilogue_of(&count, s, true);
		s->epi_size = (uint32_t)count.len;
	}
}
