/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Jumps threaded past the tests they decide (control thread, the first
 * step of sl_jit_compile(): the JIT compiles a copy of the program with
 * some jump offsets changed, and every later analysis sees that copy).
 *
 * A first-match chain tests the same register against constants again
 * and again (classify's "l4 == 6", "l4 == 17"). Along a jump, what an
 * earlier test found may decide a later one: after "if r3 != 6 goto A"
 * falls through, r3 is 6, so at "goto B; ... B: r0 = 10; if r3 == 58
 * goto X; if r3 == 1 goto X; if r3 != 17 goto C" the goto can go
 * straight to C. Here, for every goto and every conditional jump's taken
 * side (a fall-through would need a new jmp), from its target:
 *
 *  - walk forward at most THREAD_WALK instructions: ALU instructions and
 *    lddw (they only write their destination), gotos, and conditional
 *    jumps of a register against an immediate (or a register holding a
 *    constant of its block) that the facts at the jump decide, the
 *    register not written on the way;
 *  - a fact is what the last test of that register said on every path
 *    into the jump: walking back through the blocks before it (as
 *    jit_const_reaching() does: fall-throughs and jumps, at most
 *    FACT_BLOCKS blocks, never through a function's entry or a block a
 *    call lands on; at most THREAD_BUDGET instructions looked at for the
 *    whole program), each path must meet a conditional jump of the
 *    register against a constant whose side it came through decides the
 *    test (rX == K decides any compare of rX; rX != K decides "== K" and
 *    "!= K"), all alike, before anything writes the register;
 *  - the jump goes to the furthest point reached right after a decided
 *    test where no register the skipped instructions write is live
 *    (plain liveness of the program, liveness.c) and where jumps land
 *    already: a new block boundary could split what the fusions join
 *    (a select's mov, a bool's "rC = 0");
 *  - not a conditional jump over one instruction (a select or a bool:
 *    the JIT emits cmov or setcc there, no branch).

 *
 * Why the copy behaves as the program: a run of the copy that takes a
 * threaded jump is the program's run through the skipped instructions
 * (the tests would have gone that way), except for registers nobody
 * reads before writing them again. Every later analysis and fusion
 * (jump targets, liveness, sinks, cold tails) is computed on the copy,
 * so none has to know. Facts are taken from the program as written; by
 * the same argument they hold in the copy too, so all jumps are threaded
 * in one pass.
 */
#include <stdlib.h>
#include <string.h>

#include "jit_internal.h"

#define THREAD_WALK 24      /* instructions walked from a jump's target, at most */
#define FACT_BLOCKS 32      /* blocks walked back through for one fact, at most */
#define FACT_STEPS 1024     /* instructions looked at for one fact, at most */
#define FACT_WORK (4 * FACT_BLOCKS)
#define THREAD_BUDGET (1u << 22)   /* instructions looked at for all facts of one program */

#define R(n) ((uint16_t)(1u << (n)))

/* A compare of register @c reg with the constant @c k in 32 or 64 bits. */
struct test {
	uint8_t reg, op;
	bool w32;
	uint64_t k;
};

/* The same compare with its operands swapped (k op r as r op' k). */
static uint8_t mirror(uint8_t op)
{
	switch (op) {
	case BPF_JGT: return BPF_JLT;
	case BPF_JGE: return BPF_JLE;
	case BPF_JLT: return BPF_JGT;
	case BPF_JLE: return BPF_JGE;
	case BPF_JSGT: return BPF_JSLT;
	case BPF_JSGE: return BPF_JSLE;
	case BPF_JSLT: return BPF_JSGT;
	case BPF_JSLE: return BPF_JSGE;
	}
	return op;                       /* JEQ, JNE, JSET */
}

/* The conditional jump at @p pc as a test of one register against a constant. */
static bool const_test(const struct sl_prog *p, const uint8_t *targets, uint32_t pc, struct test *t)
{
	const struct bpf_insn *in = &p->insns[pc];
	uint64_t v;

	if (!jit_is_cond(in))
		return false;
	t->w32 = SL_OP_CLASS(in->code) == BPF_JMP32;
	t->op = SL_OP_CODE(in->code);
	t->reg = in->dst_reg;
	if (SL_OP_SRC(in->code) == BPF_K) {
		v = (uint64_t)(int64_t)in->imm;
	} else if (in->src_reg == in->dst_reg || in->src_reg > BPF_REG_9 || in->dst_reg > BPF_REG_9) {
		return false;
	} else if (jit_const_before(p, targets, pc, in->src_reg, &v)) {
		;
	} else if (jit_const_before(p, targets, pc, in->dst_reg, &v)) {
		t->reg = in->src_reg;
		t->op = mirror(t->op);
	} else {
		return false;
	}
	t->k = t->w32 ? (uint32_t)v : v;
	return t->reg <= BPF_REG_9;
}

/* Is "a op k" true (in 32 bits with @p w32)? */
static bool eval(uint8_t op, bool w32, uint64_t a, uint64_t k)
{
	int64_t sa = w32 ? (int32_t)a : (int64_t)a, sk = w32 ? (int32_t)k : (int64_t)k;

	if (w32) {
		a = (uint32_t)a;
		k = (uint32_t)k;
	}
	switch (op) {
	case BPF_JEQ: return a == k;
	case BPF_JNE: return a != k;
	case BPF_JGT: return a > k;
	case BPF_JGE: return a >= k;
	case BPF_JLT: return a < k;
	case BPF_JLE: return a <= k;
	case BPF_JSET: return (a & k) != 0;
	case BPF_JSGT: return sa > sk;
	case BPF_JSGE: return sa >= sk;
	case BPF_JSLT: return sa < sk;
	case BPF_JSLE: return sa <= sk;
	}
	return false;
}

/*
 * What test @p f, having gone @p taken, says of test @p q on the same
 * register: 1 true, 0 false, -1 nothing. Only equalities give facts.
 */
static int decides(const struct test *f, bool taken, const struct test *q)
{
	bool eq;

	if (f->op != BPF_JEQ && f->op != BPF_JNE)
		return -1;
	eq = (f->op == BPF_JEQ) == taken;
	if (eq) {                        /* the register is k (all of it, or its low half) */
		if (!f->w32 || q->w32)
			return eval(q->op, q->w32, f->k, q->k);
		if ((q->op == BPF_JEQ || q->op == BPF_JNE) && (uint32_t)q->k != (uint32_t)f->k)
			return q->op == BPF_JNE;     /* the low halves differ */
		return -1;
	}
	if (q->op != BPF_JEQ && q->op != BPF_JNE)
		return -1;
	/* it is not k: decides "== k" when q's width compares no more than f's did */
	if ((!f->w32 && !q->w32 && q->k == f->k) ||
	    (f->w32 && (uint32_t)q->k == (uint32_t)f->k))
		return q->op == BPF_JNE;
	return -1;
}

/* Jump target of the jump at @p pc (goto, gotol or conditional). */
static int64_t target_of(const struct sl_prog *p, uint32_t pc)
{
	const struct bpf_insn *in = &p->insns[pc];
	bool ja32 = in->code == (BPF_JMP32 | BPF_JA);

	return (int64_t)pc + 1 + (ja32 ? in->imm : in->off);
}

struct walk {
	const struct sl_prog *p;
	const uint8_t *targets;
	const struct jit_preds *jp;
	const struct test *q;
	uint32_t work[FACT_WORK];    /* (pc << 1) | taken: the last step into a point */
	uint32_t seen[FACT_BLOCKS];
	uint32_t nwork, nseen;
	unsigned steps;
};

/* The ways into block @p blk onto the worklist (see consts.c's enter_block()). */
static bool enter(struct walk *w, uint32_t blk)
{
	const struct jit_preds *jp = w->jp;
	uint32_t nj = jp->first[blk + 1] - jp->first[blk];

	for (uint32_t i = 0; i < w->nseen; i++)
		if (w->seen[i] == blk)
			return true;                 /* walked already: adds nothing */
	if (w->nseen == FACT_BLOCKS || nj != w->targets[blk] || blk == 0 || w->nwork + nj + 1 > FACT_WORK)
		return false;                        /* a call lands here, the entry, or too far */
	w->seen[w->nseen++] = blk;
	if (!jit_no_fall(&w->p->insns[jit_prev_insn(w->p, blk)]))
		w->work[w->nwork++] = jit_prev_insn(w->p, blk) << 1;
	for (uint32_t i = jp->first[blk]; i < jp->first[blk + 1]; i++)
		w->work[w->nwork++] = jp->src[i] << 1 | 1;
	return true;
}

/* One path back from work item @p item: 0/1 its decision, -1 unknown, 2 went into a block. */
static int walk_path(struct walk *w, uint32_t item)
{
	const struct sl_prog *p = w->p;
	uint32_t k = item >> 1;
	bool taken = item & 1;
	struct test f;

	while (w->steps++ < FACT_STEPS) {
		const struct bpf_insn *in = &p->insns[k];
		int d;

		if (!jit_no_fall(in) && const_test(p, w->targets, k, &f) && f.reg == w->q->reg &&
		    (d = decides(&f, taken, w->q)) >= 0)
			return d;
		if (jit_writes(in, w->q->reg))
			return -1;
		if (w->targets[k])
			return enter(w, k) ? 2 : -1;
		if (k == 0 || jit_no_fall(&p->insns[jit_prev_insn(p, k)]))
			return -1;                   /* the entry, or dead code */
		k = jit_prev_insn(p, k);
		taken = false;
	}
	return -1;
}

/* What every path to the taken side of the jump at @p pc says of @p q: 1, 0 or -1. */
static int fact_at(const struct sl_prog *p, const uint8_t *targets, const struct jit_preds *jp,
		   uint32_t pc, const struct test *q, unsigned *budget)
{
	struct walk *w = *budget ? malloc(sizeof(*w)) : NULL;
	int have = -1;

	if (!w)
		return -1;
	*w = (struct walk){ .p = p, .targets = targets, .jp = jp, .q = q };
	w->work[w->nwork++] = pc << 1 | (jit_is_cond(&p->insns[pc]) ? 1 : 0);
	while (w->nwork) {
		int d = walk_path(w, w->work[--w->nwork]);

		if (d == 2)
			continue;
		if (d < 0 || (have >= 0 && d != have)) {
			have = -1;
			break;
		}
		have = d;
	}
	*budget = w->steps < *budget ? *budget - w->steps : 0;
	free(w);
	return have;
}

/* Registers live before @p pc (@p live: after each instruction; @p zero: no fusions). */
static uint16_t live_in(const struct sl_prog *p, const uint16_t *live, const uint8_t *zero,
			uint32_t pc)
{
	uint16_t use, def;

	jit_def_use(p, pc, zero, &use, &def);
	return (uint16_t)(use | (live[pc] & ~def));
}

/*
 * Where the jump at @p s may go instead of its target (see the top), or
 * -1. @p zero: an all-zero fusion array for jit_def_use().
 */
static int64_t thread_one(const struct sl_prog *p, const uint8_t *targets, const struct jit_preds *jp,
			  const uint16_t *live, const uint8_t *zero, uint32_t s, unsigned *budget)
{
	int64_t cur = target_of(p, s), best = -1;
	uint16_t written = 0;

	for (unsigned n = 0; n < THREAD_WALK && cur >= 0 && cur < p->n_insns; n++) {
		const struct bpf_insn *in = &p->insns[cur];
		uint8_t cls = SL_OP_CLASS(in->code);
		struct test q;
		int d;

		if (cls == BPF_ALU || cls == BPF_ALU64) {
			written |= in->dst_reg <= BPF_REG_9 ? R(in->dst_reg) : 0x7ff;
			cur++;
		} else if (sl_isa_is_lddw(in) && cur + 1 < p->n_insns) {
			written |= in->dst_reg <= BPF_REG_9 ? R(in->dst_reg) : 0x7ff;
			cur += 2;
		} else if ((cls == BPF_JMP || cls == BPF_JMP32) && SL_OP_CODE(in->code) == BPF_JA) {
			cur = target_of(p, (uint32_t)cur);
		} else if (const_test(p, targets, (uint32_t)cur, &q) && !(written & R(q.reg)) &&
			   (d = fact_at(p, targets, jp, s, &q, budget)) >= 0) {
			cur = d ? target_of(p, (uint32_t)cur) : cur + 1;
			if (cur >= 0 && cur < p->n_insns && targets[cur] &&
			    !(written & live_in(p, live, zero, (uint32_t)cur)))
				best = cur;
		} else {
			break;
		}
	}
	return best;
}

/* Point the jump at @p s at @p t; false when the offset does not fit. */
static bool retarget(struct bpf_insn *insns, uint32_t s, int64_t t)
{
	struct bpf_insn *in = &insns[s];
	int64_t off = t - (int64_t)s - 1;

	if (in->code == (BPF_JMP32 | BPF_JA)) {
		in->imm = (int32_t)off;
		return true;
	}
	if (off < INT16_MIN || off > INT16_MAX)
		return false;
	in->off = (int16_t)off;
	return true;
}

struct bpf_insn *jit_thread_jumps(const struct sl_prog *p, unsigned *nthreaded)
{
	uint8_t *targets = jit_jump_targets(p), *zero = calloc(2 * (size_t)p->n_insns + 1, 1), *dead = NULL;
	struct jit_preds *jp = jit_preds_build(p);
	struct bpf_insn *out = NULL;
	uint16_t *live = NULL;
	unsigned n = 0, budget = THREAD_BUDGET;

	if (targets && zero && jp)
		dead = jit_dead_code(p, zero, &live);
	for (uint32_t s = 0; dead && budget && s < p->n_insns; s++) {
		const struct bpf_insn *in = &p->insns[s];
		uint8_t cls = SL_OP_CLASS(in->code), op = SL_OP_CODE(in->code);
		int64_t t;

		if (sl_isa_is_lddw(in)) {
			s++;
			continue;
		}
		if ((cls != BPF_JMP && cls != BPF_JMP32) || (op != BPF_JA && !jit_is_cond(in)) ||
		    (op != BPF_JA && in->off == 1))
			continue;                  /* (a select or a bool: no branch in the code) */
		t = thread_one(p, targets, jp, live, zero, s, &budget);
		if (t < 0 || t == target_of(p, s))
			continue;
		if (!out && !(out = malloc(p->n_insns * sizeof(*out))))
			break;
		if (n == 0)
			memcpy(out, p->insns, p->n_insns * sizeof(*out));
		if (retarget(out, s, t))
			n++;
	}
	if (out && !n) {
		free(out);
		out = NULL;
	}
	free(targets);
	free(zero);
	free(dead);
	free(live);
	jit_preds_free(jp);
	*nthreaded = n;
	return out;
}
