/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bpf-to-bpf calls emitted in place (control thread, between
 * jit_find_subs() and jit_layout_subs()).
 *
 * A function called from one place only is not a native function of its
 * own: its code is emitted where its call was, inside the function that
 * calls it (its host; a chain of such calls ends in one host). The call,
 * the return, and the callee's prologue, pushes and pops go; the host
 * takes the callee's registers into its own register map. Its exits
 * become jumps to the instruction after the call (the last one falls
 * through), r0 is already the result, and its r1-r5 are the caller's,
 * which the call clobbered anyway. Each instruction still has one copy,
 * so its native address stays one per instruction.
 *
 * Only where nothing else changes:
 *  - one call site (a local call), no lddw BPF_PSEUDO_FUNC of it (not a
 *    callback), not the program's entry;
 *  - no r10: the callee has no stack of its own to place (pointers into
 *    its caller's stack, passed in r1-r5, are just registers);
 *  - no calls of any kind, no LD_ABS/LD_IND (a host with no call of its
 *    own becomes a leaf; layout.c takes the scratch registers that div,
 *    mod, atomics and shifts by a register need into the host's account);
 *  - the r6-r9 it uses are not used by its host (nor by another function
 *    emitted into the same host): the host's own r6-r9 survive, as the
 *    callee's pushes and pops would have kept them, and the callee's own
 *    r6-r9 start as undefined as in a function of its own.
 */
#include <errno.h>
#include <stdlib.h>

#include "jit_state.h"

#define R(n) ((uint16_t)(1u << (n)))
#define R6_9 (R(6) | R(7) | R(8) | R(9))

struct jit_sub *jit_sub_at(struct jit_state *st, uint32_t pc)
{
	for (uint32_t i = 0; i < st->nsubs; i++)
		if (st->subs[i].start == pc)
			return &st->subs[i];
	return NULL;
}

struct jit_sub *jit_sub_of(const struct jit_state *st, uint32_t pc)
{
	for (uint32_t i = 0; i < st->nsubs; i++)
		if (pc >= st->subs[i].start && pc < st->subs[i].end)
			return &st->subs[i];
	return NULL;
}

struct jit_sub *jit_inlined_at(const struct jit_state *st, uint32_t pc)
{
	const struct bpf_insn *in = &st->prog->insns[pc];
	int64_t t = (int64_t)pc + 1 + in->imm;

	if (in->code != (BPF_JMP | BPF_CALL) || in->src_reg != BPF_PSEUDO_CALL)
		return NULL;
	for (uint32_t i = 1; i < st->nsubs; i++)
		if (st->subs[i].start == t && st->subs[i].inline_call == (int64_t)pc)
			return &st->subs[i];
	return NULL;
}

/* Can @p s be emitted in place (the body only)? @p regs: the r6-r9 it uses. */
static bool body_ok(const struct sl_prog *p, const struct jit_sub *s, uint16_t *regs)
{
	*regs = 0;
	for (uint32_t pc = s->start; pc < s->end; pc++) {
		const struct bpf_insn *in = &p->insns[pc];
		uint8_t cls = SL_OP_CLASS(in->code), op = SL_OP_CODE(in->code);
		bool x = SL_OP_SRC(in->code) == BPF_X;

		if (in->dst_reg >= BPF_REG_10 || in->src_reg >= BPF_REG_10)
			return false;                 /* r10 (or a pseudo source: checked below) */
		if (sl_isa_is_lddw(in)) {
			*regs |= R(in->dst_reg) & R6_9;
			pc++;
			continue;
		}
		if (((cls == BPF_JMP || cls == BPF_JMP32) && op == BPF_CALL) || cls == BPF_LD)
			return false;
		*regs |= (uint16_t)((R(in->dst_reg) | (x || cls == BPF_LDX || cls == BPF_STX ?
						       R(in->src_reg) : 0)) & R6_9);
	}
	return true;
}

/* The one local call of function @p s (its pc), or -1 (none, several, or it is a callback). */
static int64_t only_call(const struct sl_prog *p, const struct jit_sub *s)
{
	int64_t at = -1;

	for (uint32_t pc = 0; pc < p->n_insns; pc++) {
		const struct bpf_insn *in = &p->insns[pc];
		bool call = in->code == (BPF_JMP | BPF_CALL) && in->src_reg == BPF_PSEUDO_CALL;
		bool func = sl_isa_is_lddw(in) && in->src_reg == BPF_PSEUDO_FUNC;

		if ((call || func) && (int64_t)pc + 1 + in->imm == s->start) {
			if (func || at >= 0)
				return -1;
			at = pc;
		}
		if (sl_isa_is_lddw(in))
			pc++;
	}
	return at;
}

/* The host of @p s when it and its callers marked in @p ok are emitted in place. */
static struct jit_sub *host_of(const struct jit_state *st, struct jit_sub *s, const int64_t *call)
{
	for (uint32_t n = 0; n <= st->nsubs && call[s - st->subs] >= 0; n++) {
		struct jit_sub *c = jit_sub_of(st, (uint32_t)call[s - st->subs]);

		if (!c || c == s)
			return NULL;
		s = c;
	}
	return call[s - st->subs] >= 0 ? NULL : s;
}

/* Drop the first candidate whose r6-r9 clash with its host's; @return true when one was dropped. */
static bool drop_clash(const struct jit_state *st, int64_t *call, const uint16_t *regs)
{
	for (uint32_t h = 0; h < st->nsubs; h++) {
		uint16_t used = regs[h];

		if (call[h] >= 0)
			continue;
		for (uint32_t i = 1; i < st->nsubs; i++) {
			if (call[i] < 0 || host_of(st, &st->subs[i], call) != &st->subs[h])
				continue;
			if (used & regs[i]) {
				call[i] = -1;
				return true;
			}
			used |= regs[i];
		}
	}
	return false;
}

int jit_find_inlines(struct jit_state *st)
{
	int64_t *call = calloc(st->nsubs, sizeof(*call));
	uint16_t *regs = calloc(st->nsubs, sizeof(*regs));

	if (!call || !regs) {
		free(call);
		free(regs);
		return jit_fail(st, -ENOMEM, "out of memory");
	}
	for (uint32_t i = 0; i < st->nsubs; i++) {
		struct jit_sub *s = &st->subs[i];
		bool ok = body_ok(st->prog, s, &regs[i]);

		call[i] = i && ok ? only_call(st->prog, s) : -1;
		if (!ok)              /* a host's own r6-r9, r10 or not */
			for (uint32_t pc = s->start; pc < s->end; pc++)
				regs[i] |= (uint16_t)((R(st->prog->insns[pc].dst_reg & 15) |
						       R(st->prog->insns[pc].src_reg & 15)) & R6_9);
	}
	for (uint32_t i = 1; i < st->nsubs; i++)  /* a chain that loops back has no host */
		if (call[i] >= 0 && !host_of(st, &st->subs[i], call))
			call[i] = -1;
	while (drop_clash(st, call, regs))
		;
	for (uint32_t i = 0; i < st->nsubs; i++) {
		st->subs[i].inline_call = call[i];
		st->subs[i].host = call[i] >= 0 ? host_of(st, &st->subs[i], call) : &st->subs[i];
	}
	free(call);
	free(regs);
	return 0;
}
