/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Cold rule tails (control thread, after sink.c; jit.c emits them).
 *
 * clang lowers "if (A && B) return X;" as a jump over the rest of the
 * rule when its first test fails:
 *
 *   if !A goto next; if B goto out_X; next: ...
 *
 * In a chain of rules most packets fail most rules at their first test,
 * so every rule costs them a taken branch, and a taken branch costs more
 * than a test that falls through (a new fetch block). Where the tail
 * between the jump and its target is short and leaves early (it holds a
 * conditional jump past the target: the rule's hit), the JIT inverts the
 * jump and emits the tail after the function's epilogue, with a jmp back:
 *
 *   cmp A; je tail; next: ...         tail: cmp B; je out_X; jmp next
 *
 * A packet failing A falls through; one passing it pays a taken branch
 * more (two instead of one, or none). Only a layout change: the same
 * instructions run in the same order on every path.
 *
 * A head at pc i with target N = i + 1 + off qualifies when:
 *  - its jump is "if x != y" (a test for equality is usually false, so
 *    this jump is usually taken: the static heuristic of compilers
 *    without a profile), forward, on a compare that reads only its
 *    operands (plain, or a compare fusion), with no moves sunk into it;
 *  - the tail (i, N) has 1..JIT_OUTLINE_MAX instructions, no jump lands
 *    in it, none is a call or an exit (or a cmov that jumps over the mov
 *    after it, CMOV_JT), one of its jumps leaves it
 *    conditionally for somewhere else than N (forward past N, or back:
 *    clang shares a rule's exit block);
 *  - N is not a goto (its code is what the head falls into) and does not
 *    take part in a fusion that began before it.
 * Tails do not nest. Not in a function emitted in place of its call, nor
 * in a burst entry (jit.c).
 */
#include <stdlib.h>

#include "jit_internal.h"

static bool is_jmp(const struct bpf_insn *in)
{
	uint8_t cls = SL_OP_CLASS(in->code);

	return cls == BPF_JMP || cls == BPF_JMP32;
}

/* A compare fusion that reads only its operands and ends in one branch (or a plain jump). */
static bool head_fuse_ok(uint8_t f)
{
	return f == JIT_FUSE_NONE || f == JIT_FUSE_CMP_K || f == JIT_FUSE_CMP_K32 ||
	       f == JIT_FUSE_JMP32 || f == JIT_FUSE_TEST_K || f == JIT_FUSE_MEM_CMP ||
	       f == JIT_FUSE_JZ_FLAGS || f == JIT_FUSE_MASK_JMP;
}

/* Fusions an instruction at N may have that read nothing of the instructions before it. */
static bool landing_fuse_ok(uint8_t f)
{
	return f == JIT_FUSE_NONE || f == JIT_FUSE_CMP_K || f == JIT_FUSE_CMP_K32 ||
	       f == JIT_FUSE_ALU_K || f == JIT_FUSE_ST_K || f == JIT_FUSE_MASK_LEA ||
	       f == JIT_FUSE_MOV_ADD || f == JIT_FUSE_MOV_SWAP16 || f == JIT_FUSE_MOV_ZEXT ||
	       f == JIT_FUSE_MOV_MOVZX || f == JIT_FUSE_SETCC_ZERO;
}

/* Is (i, n) a tail to outline (see the top)? */
static bool tail_ok(const struct sl_prog *p, const uint8_t *fuse, const uint8_t *targets, uint32_t i,
		    uint32_t n)
{
	bool leaves = false;

	for (uint32_t m = i + 1; m < n; m++) {
		const struct bpf_insn *in = &p->insns[m];
		uint8_t cls = SL_OP_CLASS(in->code), op = SL_OP_CODE(in->code);
		int64_t t;

		if (targets[m] || (cls == BPF_LD && !sl_isa_is_lddw(in)) || fuse[m] == JIT_FUSE_CMOV_JT)
			return false;                  /* (CMOV_JT jumps over the mov after it, in place) */
		if (sl_isa_is_lddw(in)) {
			if (++m >= n || targets[m])
				return false;
			continue;
		}
		if (!is_jmp(in))
			continue;
		if (op == BPF_CALL || op == BPF_EXIT)
			return false;
		t = (int64_t)m + 1 + (cls == BPF_JMP32 && op == BPF_JA ? in->imm : in->off);
		if (t < 0 || t >= p->n_insns)
			return false;
		if (op != BPF_JA && (t > n || t <= i))
			leaves = true;                              /* (into the tail: targets[]) */
	}
	return leaves;
}

uint8_t *jit_outline_marks(const struct sl_prog *p, const uint8_t *fuse, const uint8_t *dead,
			   const uint8_t *sink, const uint8_t *targets)
{
	uint8_t *outl = calloc(p->n_insns + 1, 1);

	for (uint32_t i = 0; outl && i + 2 < p->n_insns; i++) {
		const struct bpf_insn *in = &p->insns[i];
		uint8_t op = SL_OP_CODE(in->code);
		uint32_t n = i + 1 + (uint32_t)in->off;

		if (sl_isa_is_lddw(in)) {
			i++;
			continue;
		}
		if (!is_jmp(in) || op != BPF_JNE || in->off < 1 ||
		    in->off > JIT_OUTLINE_MAX || n >= p->n_insns || dead[i] || sink[i] ||
		    !head_fuse_ok(fuse[i]) || (is_jmp(&p->insns[n]) && SL_OP_CODE(p->insns[n].code) == BPF_JA) ||
		    !landing_fuse_ok(fuse[n]) ||
		    !tail_ok(p, fuse, targets, i, n))
			continue;
		outl[i] = (uint8_t)in->off;
		i = n - 1;                                      /* tails do not nest */
	}
	return outl;
}
