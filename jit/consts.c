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
#include <stdlib.h>

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

/* ---- constants that reach a block's start (loops: a constant set before the loop) ---- */

#define REACH_BLOCKS 16     /* blocks walked back through, at most */
#define REACH_STEPS 2048    /* instructions looked at, at most */
#define REACH_WORK (4 * REACH_BLOCKS) /* the worklist of block ends still to walk back from */

struct jit_preds *jit_preds_build(const struct sl_prog *p)
{
	struct jit_preds *jp = calloc(1, sizeof(*jp));
	uint32_t n = p->n_insns, nj = 0;

	if (!jp || !(jp->first = calloc(n + 2, sizeof(uint32_t))))
		goto fail;
	for (int pass = 0; pass < 2; pass++) {
		for (uint32_t pc = 0; pc < n; pc++) {
			const struct bpf_insn *in = &p->insns[pc];
			uint8_t cls = SL_OP_CLASS(in->code), op = SL_OP_CODE(in->code);
			int64_t to;

			if (sl_isa_is_lddw(in)) {
				pc++;
				continue;
			}
			if ((cls != BPF_JMP && cls != BPF_JMP32) || op == BPF_CALL || op == BPF_EXIT)
				continue;
			to = (int64_t)pc + 1 + (cls == BPF_JMP32 && op == BPF_JA ? in->imm : in->off);
			if (to < 0 || to > n)
				continue;
			if (pass == 0)
				jp->first[to + 1]++;
			else
				jp->src[jp->first[to] + jp->fill[to]++] = pc;
		}
		if (pass == 0) {
			for (uint32_t t = 0; t <= n; t++)
				jp->first[t + 1] += jp->first[t];
			nj = jp->first[n + 1];
			jp->src = malloc((nj ? nj : 1) * sizeof(uint32_t));
			jp->fill = calloc(n + 1, sizeof(uint32_t));
			if (!jp->src || !jp->fill)
				goto fail;
		}
	}
	return jp;
fail:
	jit_preds_free(jp);
	return NULL;
}

void jit_preds_free(struct jit_preds *jp)
{
	if (!jp)
		return;
	free(jp->first);
	free(jp->src);
	free(jp->fill);
	free(jp);
}

/*
 * Walk back from instruction @p k (the last one run before the point
 * asked about) to the write of @p r: 1 with its constant in *v (0 when it
 * writes anything else), or 2 with the start of the block reached in
 * *blk (entered from several places), or 0 (program start, dead code,
 * too far).
 */
static int walk_back(const struct sl_prog *p, const uint8_t *targets, uint32_t k, uint8_t r,
		     uint64_t *v, uint32_t *blk, unsigned *steps)
{
	while ((*steps)++ < REACH_STEPS) {
		if (jit_writes(&p->insns[k], r))
			return jit_const_of(&p->insns[k], v) ? 1 : 0;
		if (targets[k]) {
			*blk = k;
			return 2;
		}
		if (k == 0 || jit_no_fall(&p->insns[jit_prev_insn(p, k)]))
			return 0;                        /* program start, or unreachable */
		k = jit_prev_insn(p, k);
	}
	return 0;
}

/*
 * The ways into block @p blk (the instruction before it when it falls in,
 * every jump to it) onto @p work, unless walked already; false when a call
 * or callback lands there, or past the limits.
 */
static bool enter_block(const struct sl_prog *p, const uint8_t *targets, const struct jit_preds *jp,
			uint32_t blk, uint32_t *seen, uint32_t *nseen, uint32_t *work, uint32_t *nwork)
{
	uint32_t nj = jp->first[blk + 1] - jp->first[blk];

	for (uint32_t i = 0; i < *nseen; i++)
		if (seen[i] == blk)
			return true;                     /* a loop that does not write r */
	if (*nseen == REACH_BLOCKS || nj != targets[blk] || blk == 0 || *nwork + nj + 1 > REACH_WORK)
		return false;
	seen[(*nseen)++] = blk;
	if (!jit_no_fall(&p->insns[jit_prev_insn(p, blk)]))
		work[(*nwork)++] = jit_prev_insn(p, blk);
	for (uint32_t i = jp->first[blk]; i < jp->first[blk + 1]; i++)
		work[(*nwork)++] = jp->src[i];           /* a jump writes nothing */
	return true;
}

bool jit_const_reaching(const struct sl_prog *p, const uint8_t *targets, const struct jit_preds *jp,
			uint32_t pc, uint8_t r, uint64_t *v)
{
	uint32_t work[REACH_WORK], seen[REACH_BLOCKS], nwork = 0, nseen = 0, blk;
	unsigned steps = 0;
	bool have = false;
	uint64_t c = 0;

	if (!jp || pc == 0 || pc >= p->n_insns)
		return false;
	if (targets[pc] && !enter_block(p, targets, jp, pc, seen, &nseen, work, &nwork))
		return false;
	if (!targets[pc] && jit_no_fall(&p->insns[jit_prev_insn(p, pc)]))
		return false;                            /* unreachable */
	if (!targets[pc])
		work[nwork++] = jit_prev_insn(p, pc);
	while (nwork) {
		int w = walk_back(p, targets, work[--nwork], r, &c, &blk, &steps);

		if (w == 0 || (w == 1 && have && c != *v))
			return false;
		if (w == 1) {
			*v = c;
			have = true;
		} else if (!enter_block(p, targets, jp, blk, seen, &nseen, work, &nwork)) {
			return false;
		}
	}
	return have;
}
