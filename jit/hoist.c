/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Tests hoisted above the bools they skip (control thread, the second
 * step of sl_jit_compile(), on the copy thread.c made or a new one).
 *
 * A rule such as classify's "l4 == 6 && (dport == 80 || dport == 8080)
 * && IN(dst, 10/8)" compiles to the two port bools first ("r7 = 1; r1 =
 * 1; if r4 == 80 goto +1; r1 = 0; if r4 == 8080 goto +1; r7 = 0"), then
 * the prefix test ("r0 = K; r8 = r5; r8 &= r0; if r8 != N goto T"),
 * which most packets take: they computed the bools for nothing. Here,
 * for every conditional jump at E (taken to T outside the region, more
 * than one instruction on) with
 *
 *  - B = [M, E]: the jump and at most HOIST_B ALU instructions or plain
 *    lddw before it, no jump landing inside B but at M;
 *  - A = [S, M): at most HOIST_A ALU instructions (no division: the
 *    verifier's nonzero_div is kept per instruction) and conditional
 *    jumps that land in (pc, M], all jumps landing in (S, M] from A;
 *  - A and B independent (neither writes a register the other reads or
 *    writes) and no register A writes live where E's jump goes;
 *
 * the copy holds B then A. A's offsets stay as they are (a jump of A to
 * M now lands after A, where B's fall-through went); E's grows by |A|.
 * A run of the copy is the program's run with B's instructions done
 * before A's instead of after (they commute), and when E's jump is taken
 * A is skipped, which changes no register read later. Regions do not
 * overlap (the next search starts after E). Every look is bounded by
 * the program's length and by HOIST_A and HOIST_B.
 */
#include <stdlib.h>
#include <string.h>

#include "jit_internal.h"

#define HOIST_A 16       /* instructions of A, at most */
#define HOIST_B 8        /* ALU instructions of B before its jump, at most */

/* An ALU instruction the move may reorder (no division: aux is per instruction). */
static bool plain_alu(const struct bpf_insn *in)
{
	uint8_t cls = SL_OP_CLASS(in->code), op = SL_OP_CODE(in->code);

	return (cls == BPF_ALU || cls == BPF_ALU64) && op != BPF_DIV && op != BPF_MOD &&
	       in->dst_reg <= BPF_REG_9;
}

/* Does the jump at @p pc of A land in (pc, m]? */
static bool a_jump(const struct bpf_insn *in, uint32_t pc, uint32_t m)
{
	int64_t t = (int64_t)pc + 1 + in->off;

	return jit_is_cond(in) && t > pc && t <= m;
}

/* Registers instructions [from, to) read and write (@p zero: no fusions). */
static void span_use_def(const struct sl_prog *p, const uint8_t *zero, uint32_t from, uint32_t to,
			 uint16_t *use, uint16_t *def)
{
	uint16_t u, d;

	*use = *def = 0;
	for (uint32_t pc = from; pc < to; pc++) {
		if (sl_isa_is_lddw(&p->insns[pc])) {
			*def |= (uint16_t)(1u << p->insns[pc].dst_reg);
			pc++;
			continue;
		}
		jit_def_use(p, pc, zero, &u, &d);
		*use |= u;
		*def |= d;
	}
}

/* Start of B for the jump at @p e: at most HOIST_B instructions back, not before @p lo. */
static uint32_t b_start(const struct sl_prog *p, const uint8_t *targets, uint32_t lo, uint32_t e)
{
	uint32_t k = e;

	for (unsigned n = 0; n < HOIST_B && k > lo && !targets[k]; n++) {
		uint32_t pk = jit_prev_insn(p, k);
		const struct bpf_insn *in = &p->insns[pk];

		if (pk < lo || (sl_isa_is_lddw(in) ? in->src_reg != 0 || in->dst_reg > BPF_REG_9 : !plain_alu(in)))
			break;
		k = pk;
	}
	return k;
}

/* Are all jumps landing in (s, m] from A = [s, m)? */
static bool landings_inside(const struct sl_prog *p, const uint8_t *targets, uint32_t s, uint32_t m)
{
	for (uint32_t k = s + 1; k <= m; k++) {
		unsigned from_a = 0;

		for (uint32_t pc = s; pc < k; pc++)
			from_a += jit_is_cond(&p->insns[pc]) && (int64_t)pc + 1 + p->insns[pc].off == k;
		if (targets[k] == 255 || from_a != targets[k])
			return false;
	}
	return true;
}

/* Start of A before @p m, not before @p lo (A empty: @p m itself), for B = [m, e] taken to @p t. */
static uint32_t a_start(const struct sl_prog *p, const uint8_t *targets, const uint16_t *live,
			const uint8_t *zero, uint32_t lo, uint32_t m, uint32_t e, int64_t t)
{
	uint16_t ua, da, ub, db, ut, dt;
	uint32_t s = m;

	for (unsigned n = 0; n < HOIST_A && s > lo; n++) {
		const struct bpf_insn *in = &p->insns[s - 1];

		if ((s >= 2 && sl_isa_is_lddw(&p->insns[s - 2])) ||
		    (!plain_alu(in) && !a_jump(in, s - 1, m)))
			break;
		s--;
	}
	span_use_def(p, zero, m, e + 1, &ub, &db);
	jit_def_use(p, (uint32_t)t, zero, &ut, &dt);
	for (; s < m; s++) {
		span_use_def(p, zero, s, m, &ua, &da);
		if (!(da & (ub | db)) && !(db & ua) && !(da & (ut | (live[t] & ~dt))) &&
		    landings_inside(p, targets, s, m))
			return s;
	}
	return m;
}

struct bpf_insn *jit_hoist_tests(const struct sl_prog *p, unsigned *nhoisted)
{
	uint8_t *targets = jit_jump_targets(p), *zero = calloc(2 * (size_t)p->n_insns + 1, 1), *dead = NULL;
	struct bpf_insn *out = NULL;
	uint16_t *live = NULL;
	unsigned n = 0;
	uint32_t lo = 0;      /* first instruction no region has taken */

	if (targets && zero)
		dead = jit_dead_code(p, zero, &live);
	for (uint32_t e = 0; dead && e < p->n_insns; e++) {
		const struct bpf_insn *in = &p->insns[e];
		int64_t t = (int64_t)e + 1 + in->off, off;
		uint32_t m, s;

		if (sl_isa_is_lddw(in)) {
			e++;
			continue;
		}
		if (!jit_is_cond(in) || in->off <= 1 || t >= p->n_insns)
			continue;
		m = b_start(p, targets, lo, e);
		s = a_start(p, targets, live, zero, lo, m, e, t);
		off = in->off + (int64_t)(m - s);
		if (s == m || (t >= s && t <= e) || off > INT16_MAX)
			continue;
		if (!out && !(out = malloc(p->n_insns * sizeof(*out))))
			break;
		if (n++ == 0)
			memcpy(out, p->insns, p->n_insns * sizeof(*out));
		memcpy(&out[s], &p->insns[m], (e + 1 - m) * sizeof(*out));
		memcpy(&out[s + e + 1 - m], &p->insns[s], (m - s) * sizeof(*out));
		out[s + e - m].off = (int16_t)off;
		lo = e + 1;
	}
	if (out && !n) {
		free(out);
		out = NULL;
	}
	free(targets);
	free(zero);
	free(dead);
	free(live);
	*nhoisted = n;
	return out;
}
