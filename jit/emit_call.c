/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * x86-64 JIT: the call emitter (control thread, part of sl_jit_compile();
 * the frames and the register map are at the top of jit.c). Every
 * BPF_CALL goes through jit_do_call():
 *
 *  - a bpf-to-bpf call is "call rel32" to the callee's native function
 *    (where inline.c chose to emit the callee's body in place instead,
 *    jit.c's driver does that and this file is not involved);
 *  - bpf_tail_call (emit_tail_call()): count check in r12, the target from
 *    jit_tail_target(), this frame's epilogue, then jmp with eax = count + 1;
 *  - bpf_loop with a callback known at the call: the loop in place
 *    (emit_inline_loop());
 *  - helpers (do_helper_call()): an ARRAY / PERCPU_ARRAY lookup inline
 *    (map_calls.c), else the map type's own function (jit_map_call_fn()),
 *    else the helper; "call rel32" when the code is within +-2 GiB of it,
 *    else movabs r11 + call r11 (emit_call_abs()).
 *
 * A helper that another file emits its own way hooks in do_helper_call(),
 * before the plain call.
 */
#include <errno.h>

#include "jit_state.h"
#include "redirect.h"
#include "sl_helpers.h"

/*
 * Does a "call rel32" from anywhere in the code mapping reach @p fn? Only
 * once the mapping exists (code_base), and then for every offset in it,
 * so the answer is the same in every pass and the layout still converges.
 */
static bool rel32_reaches(const struct jit_state *st, uintptr_t fn)
{
	int64_t d = (int64_t)fn - (int64_t)st->code_base;

	return st->code_base && !st->opts.far_calls && d <= INT32_MAX && d - (int64_t)st->code_span - 5 >= INT32_MIN;
}

/*
 * Call of a C function: "call rel32" when the code is within +-2 GiB of it
 * (map_code() tries to put it there), else movabs r11, fn; call r11.
 */
static void emit_call_abs(struct jit_state *st, const void *fn)
{
	uintptr_t f = (uintptr_t)fn;

	if (rel32_reaches(st, f)) {
		x86_call_rel32(&st->e, (int32_t)((int64_t)f - (int64_t)(st->code_base + st->e.len + 5)));
		return;
	}
	x86_movabs(&st->e, TMP, (uint64_t)f);
	x86_call_reg(&st->e, TMP);
}

/* ---- calls ---- */

static int emit_tail_call(struct jit_state *st)
{
	size_t l_full, l_empty;

	x86_alu_ri(&st->e, false, ALU_CMP, TCC, JIT_MAX_TAIL_CALLS);
	l_full = x86_jcc8_fwd(&st->e, CC_AE);
	x86_push(&st->e, X_RDI);                                       /* ctx, twice: alignment */
	x86_push(&st->e, X_RDI);
	emit_call_abs(st, (const void *)(uintptr_t)jit_tail_target);
	x86_pop(&st->e, X_RDI);
	x86_pop(&st->e, X_RDI);
	x86_test_rr(&st->e, true, X_RAX, X_RAX);
	l_empty = x86_jcc8_fwd(&st->e, CC_E);
	x86_mov_rr(&st->e, true, TMP, X_RAX);
	x86_lea(&st->e, false, X_RAX, TCC, 1);                         /* eax = count + 1 */
	jit_emit_epilogue(st, false);
	x86_jmp_reg(&st->e, TMP);
	x86_bind8(&st->e, l_full);
	x86_bind8(&st->e, l_empty);
	x86_mov_ri(&st->e, true, X_RAX, -ENOENT);
	return 0;
}

/*
 * The function bpf_loop at st->pc calls: r2 loaded by an lddw
 * BPF_PSEUDO_FUNC in the same straight line, in a program without tail
 * calls (whose r12 and frames a callback could see); NULL otherwise.
 */
static struct jit_sub *loop_callback(struct jit_state *st)
{
	int64_t k = jit_reg_def(st->prog, st->targets, st->pc, BPF_REG_2);
	const struct bpf_insn *ld = k >= 0 ? &st->prog->insns[k] : NULL;

	if (!ld || st->tail_calls || !sl_isa_is_lddw(ld) || ld->src_reg != BPF_PSEUDO_FUNC ||
	    ld->dst_reg != BPF_REG_2)
		return NULL;
	return jit_sub_at(st, (uint32_t)(k + 1 + ld->imm));
}

/*
 * bpf_loop(n, cb, ctx, flags) with a known callback (loop_callback()):
 * the helper's loop emitted in place, the bound kept in r12, the index in
 * rbx and ctx in r13 (saved around it with r14, 32 bytes: rsp stays
 * aligned), the callback called with call rel32. Returns as the helper
 * does: -EINVAL for flags, -E2BIG above SL_MAX_LOOPS, else the calls made.
 */
static void emit_inline_loop(struct jit_state *st, const struct jit_sub *cb)
{
	static const uint8_t saved[4] = { X_RBX, X_R12, X_R13, X_R14 };
	struct x86_emit *e = &st->e;
	size_t l_flags, l_big, l_fin, top;

	x86_mov_ri(e, true, X_RAX, -EINVAL);
	x86_test_rr(e, true, X_RCX, X_RCX);                          /* flags (r4) */
	l_flags = x86_jcc8_fwd(e, CC_NE);
	x86_mov_ri(e, true, X_RAX, -E2BIG);
	x86_alu_ri(e, false, ALU_CMP, X_RDI, (int32_t)SL_MAX_LOOPS); /* cmp edi, max */
	l_big = x86_jcc8_fwd(e, CC_A);
	for (int i = 0; i < 4; i++)
		x86_push(e, saved[i]);
	x86_alu_rr(e, false, ALU_XOR, X_RBX, X_RBX);                 /* i = 0 */
	x86_mov_rr(e, false, X_R12, X_RDI);                          /* r12d = n */
	x86_mov_rr(e, true, X_R13, X_RDX);                           /* r13 = ctx */
	top = e->len;
	x86_alu_rr(e, false, ALU_CMP, X_RBX, X_R12);                 /* cmp ebx, r12d */
	l_fin = x86_jcc8_fwd(e, CC_AE);
	x86_mov_rr(e, false, X_RDI, X_RBX);                          /* r1 = i */
	x86_mov_rr(e, true, X_RSI, X_R13);                           /* r2 = ctx */
	x86_call_rel32(e, (int32_t)((int64_t)cb->off_start - (int64_t)(e->len + 5)));
	x86_alu_ri(e, false, ALU_ADD, X_RBX, 1);                     /* i + 1 */
	x86_test_rr(e, true, X_RAX, X_RAX);
	x86_jcc8_back(e, CC_E, top);                                 /* 0: go on */
	x86_bind8(e, l_fin);
	x86_mov_rr(e, false, X_RAX, X_RBX);                          /* calls made */
	for (int i = 3; i >= 0; i--)
		x86_pop(e, saved[i]);
	x86_bind8(e, l_flags);
	x86_bind8(e, l_big);
}

static int do_helper_call(struct jit_state *st, const struct bpf_insn *in)
{
	const struct sl_helper *h = in->imm >= 0 ? sl_helper_get((uint32_t)in->imm) : NULL;
	struct sl_map *map = st->prog->aux ? st->prog->aux[st->pc].map : NULL;
	const void *fn;

	if (in->imm == BPF_FUNC_tail_call)
		return emit_tail_call(st);
	if (in->imm == BPF_FUNC_loop && loop_callback(st)) {
		emit_inline_loop(st, loop_callback(st));
		return 0;
	}
	if (!h || !h->fn)
		return jit_fail(st, -ENOTSUP, "unknown helper %d", in->imm);
	if (in->imm == BPF_FUNC_map_lookup_elem && map && jit_emit_array_lookup(st, map))
		return st->log.err;   /* a fused null check's jump out of the function fails */
	if (jit_emit_redirect(st, in, map))   /* redirect.c: redirects, DEVMAP/XSKMAP lookups in place */
		return st->log.err;
	fn = jit_map_call_fn(in->imm, map);   /* map_calls.c: the map's own function */
	emit_call_abs(st, fn ? fn : (const void *)(uintptr_t)h->fn);
	return 0;
}

int jit_do_call(struct jit_state *st, const struct bpf_insn *in)
{
	if (in->src_reg == BPF_PSEUDO_CALL) {
		struct jit_sub *t = jit_sub_at(st, (uint32_t)((int64_t)st->pc + 1 + in->imm));

		if (!t)
			return jit_fail(st, -EINVAL, "call to pc %lld: not a function",
					(long long)st->pc + 1 + in->imm);
		x86_call_rel32(&st->e, (int32_t)((int64_t)t->off_start - (int64_t)(st->e.len + 5)));
		return 0;
	}
	if (in->src_reg != 0)
		return jit_fail(st, -ENOTSUP, "call: unsupported src_reg %u", in->src_reg);
	return do_helper_call(st, in);
}
