/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * x86-64 JIT: instruction selection. The encoder (x86_emit.c, x86_emit.h)
 * knows x86 only; this file and its emit_*.c map eBPF onto it:
 *
 *   jit.c        this design, the driver (one instruction: fused, absorbed
 *                or plain, dispatched by class; functions, landing blocks,
 *                passes), compile, place and free
 *   emit_alu.c   operands and blinding, ALU instructions, straight-line fusions
 *   emit_mem.c   loads, stores, atomics, lddw, LD_ABS/LD_IND
 *   emit_call.c  the call emitter: helpers, map calls, tail calls, bpf_loop,
 *                bpf-to-bpf calls (a callee inlined in place: jit.c)
 *   emit_jmp.c   jumps, compares, cmov/setcc and the other compare fusions
 *   layout.c, inline.c   functions, registers and frames; callees in place
 *   peephole.c, consts.c, liveness.c, fuse_late.c, sink.c   analyses and
 *                the fusions they mark, before any code is emitted (also
 *                fuse_mem.c: addresses folded into loads; merge_st.c: byte
 *                stores merged)
 *   map_calls.c, burst.c, jit_rt.c   map lookups inline, the burst entry,
 *                run-time helpers of the compiled code
 *
 * Register map (the kernel's, so helper calls need no argument moves:
 * r1-r5 are already the SysV argument registers and r0 is the return):
 *
 *   eBPF  x86   role
 *   r0    rax   return value, helper result
 *   r1    rdi   arg 1 / ctx at entry
 *   r2    rsi   arg 2 / length at entry (raw programs)
 *   r3    rdx   arg 3
 *   r4    rcx   arg 4
 *   r5    r8    arg 5
 *   r6    rbx   callee-saved
 *   r7    r13   callee-saved
 *   r8    r14   callee-saved
 *   r9    r15   callee-saved
 *   r10   rbp   frame pointer (top of this frame's stack)
 *   -     r11   TMP: divisor, saved rcx of shifts, call target
 *   -     r10   AUX: blinded constants, saved rax (div, atomics)
 *   -     r9    AUX2: saved rdx (div), relocated atomic base
 *   -     r12   tail-call count (only in programs that tail call)
 *
 * In a leaf function that needs neither AUX nor AUX2 (no calls, div/mod,
 * atomics, blinding, or shifts by a register without BMI2), r6 and r7 (the
 * first two of r6-r9 it uses) live in AUX2 and AUX instead: caller-saved,
 * so the function pushes and pops nothing for them; when it does not need
 * TMP either (no inlined map lookup, no cmov of an immediate or of a
 * 32-bit copy), the third lives in TMP.
 *
 * Passes: the same emit code runs several times. The first pass uses
 * rel32 for every branch; each further pass uses the native offsets of
 * the previous one and picks rel8 wherever the displacement fits. Sizes
 * only shrink, so the layout converges (usually in 2-3 passes); then the
 * code is emitted once more into an RW mapping, checked to have the same
 * layout, and mprotect()ed RX. Code is never writable and executable at
 * once.
 *
 * Frames and calls: each subprogram is a native function with the SysV
 * convention. Its prologue pushes only the callee-saved registers it uses
 * (rbx, r13-r15; rbp only when it uses r10 or stack; r12 in the main
 * function of a program that tail calls) and reserves its own stack below
 * rbp (verifier's stack_depth; 512 when unknown). rsp stays 16-byte
 * aligned at calls; a leaf that touches no stack has no prologue at all.
 * A function whose r10 is only a load/store base or copied ("rX = r10",
 * then lea) needs no rbp: r10 is rsp + stack (rsp_frame_ok()), and a leaf
 * of that kind with at most 128 bytes of stack keeps it in the SysV red
 * zone below rsp, with no sub/add rsp either.
 * bpf-to-bpf calls are "call rel32"; r6-r9 survive because callees save
 * what they use. Helper calls are "call rel32" when the code is within
 * +-2 GiB of the helper (map_code() maps it below the library's text when
 * it can; the sizing passes run again once it is placed), else "movabs
 * r11, fn; call r11". bpf_loop with a callback known at the call is a
 * loop in place (emit_inline_loop()).
 *
 * Tail calls: the main function has two entries: the public one zeroes
 * eax (the count) and falls into the tail entry, whose prologue moves eax
 * to r12. bpf_tail_call checks r12 < JIT_MAX_TAIL_CALLS (the kernel's
 * MAX_TAIL_CALL_CNT), asks jit_tail_target() for the target's
 * jit_tail_entry, runs this frame's epilogue and jumps there with eax =
 * count + 1: the target returns to our caller. An empty slot gives r0 =
 * -ENOENT, as in the interpreter. The programs already in the PROG_ARRAYs
 * of a program that tail calls are compiled with it (compile_tail_targets()).
 *
 * Speed: checks the verifier proved away are not emitted (aux nonzero_div),
 * unsigned div/mod by a constant is a shift, an AND or a multiply by the
 * reciprocal (divmod_const()), 64-bit ALU operations whose upper half
 * nobody reads are emitted as 32-bit ones (st->low, peephole.c),
 * map pointers and global-data addresses are immediates, ARRAY and
 * PERCPU_ARRAY lookups are inlined (index check + base + index * stride;
 * the per-CPU slot comes from sl_map_cpu through a %fs load, so one copy
 * of the code serves every worker), other lookups call the map type's own
 * function. Before the passes, peephole.c marks sequences x86 does in
 * fewer instructions (rotates, also of two copies and v1's masked 32-bit
 * ones, byte-wise be16 loads, mul+add as lea, select as cmov, bool as
 * setcc, zero extension (or nothing when the upper half is unread), v1's
 * "u32 >> k" as shr r32, indexed table loads, a mov and the add /
 * byte swap / zero extension after it as one lea / movzx / mov r32, jumps
 * on a register holding a constant as cmp with an immediate, "== 0" right
 * after an ALU op as a bare jcc on its flags), fuse_late.c what a dying
 * register allows (immediates into memory operands, test, 32-bit
 * compares, masks of values that fit) and liveness.c the
 * instructions whose result nobody reads; emit_sub() emits the fused form
 * or nothing for them. Jumps go straight to where the plain gotos they land
 * on lead (jit_thread_jump()), and past the tests an earlier test
 * decided (thread.c: the JIT compiles a copy of the program with those
 * jumps pointed further); a test whose taken side skips bools before it
 * is moved above them in that copy (hoist.c).
 *
 * Hardening: constant blinding (opts->blind_constants) rewrites every
 * ALU/JMP/ST/lddw immediate as (imm ^ key) xor-ed with key at run time in
 * AUX, a fresh key per instruction; fusions that would put an immediate
 * back into the code are off then.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <unistd.h>

#include "jit_internal.h"
#include "sl_helpers.h"
#include "sl_opts.h"
#include "sl_jit.h"
#include "sl_maps.h"
#include "x86_emit.h"

#include "jit_state.h"
#include "redirect.h"

static void emit_prologue(struct jit_state *st)
{
	const struct jit_sub *s = st->sub;

	for (unsigned i = 0; i < s->nsaved; i++)
		x86_push(&st->e, s->saved[i]);
	if (s->frame) {
		x86_push(&st->e, X_RBP);
		x86_mov_rr(&st->e, true, X_RBP, X_RSP);
	}
	if (s->stack)
		x86_alu_ri(&st->e, true, ALU_SUB, X_RSP, (int32_t)s->stack);
}

/* ---- driver ---- */

/* A call of function @p t emitted in place (inline.c): its body, which returns by falling out. */
static int emit_inline_call(struct jit_state *st, struct jit_sub *t);

/* BPF_JMP / BPF_JMP32: a call (emit_call.c, or the callee's body in place) or a jump (emit_jmp.c). */
static int do_jmp_class(struct jit_state *st, const struct bpf_insn *in)
{
	if (SL_OP_CODE(in->code) == BPF_CALL) {
		struct jit_sub *t = in->src_reg == BPF_PSEUDO_CALL ? jit_inlined_at(st, st->pc) : NULL;

		return t ? emit_inline_call(st, t) : jit_do_call(st, in);
	}
	return jit_do_jmp(st, in);
}

typedef int (*class_fn)(struct jit_state *st, const struct bpf_insn *in);

static const class_fn class_table[8] = {
	[BPF_LD] = jit_do_ld, [BPF_LDX] = jit_do_ldx, [BPF_ST] = jit_do_st, [BPF_STX] = jit_do_stx,
	[BPF_ALU] = jit_do_alu, [BPF_JMP] = do_jmp_class, [BPF_JMP32] = do_jmp_class, [BPF_ALU64] = jit_do_alu,
};

/* Bytes instruction @p in (at pc + 1) will take, by emitting it into a counting buffer. */
static size_t next_insn_size(struct jit_state *st, const struct bpf_insn *in)
{
	struct x86_emit saved = st->e;
	size_t n = 0;

	if (st->dead[st->pc + 1])
		return 0;
	st->e = (struct x86_emit){ 0 };
	st->pc++;
	if (!class_table[SL_OP_CLASS(in->code)](st, in))
		n = st->e.len;
	st->pc--;
	st->e = saved;
	return n;
}

/* The cmov of a select whose mov others jump to: cmov, then "jmp rel8" over the mov. */
static void emit_cmov_over(struct jit_state *st, const struct bpf_insn *in)
{
	size_t n = next_insn_size(st, in + 1);

	jit_emit_cmov(st, in);
	if (n)
		x86_jcc_rel(&st->e, CC_ALWAYS, (int32_t)n, true);              /* jmp over the mov */
}

/* The code of instruction @p in at st->pc: fused, absorbed or plain. 0 or -errno. */
static int emit_insn(struct jit_state *st, const struct bpf_insn *in)
{
	uint8_t f = st->fuse[st->pc];

	if (st->dead[st->pc] || (st->sink[st->pc] & JIT_SINK_MOV))
		return 0;                          /* nothing reads it, or the landing block makes it */
	if (f == JIT_FUSE_CMP_K || f == JIT_FUSE_CMP_K32)
		return jit_emit_cmp_k(st, in) ? st->log.err : 0;
	if (f == JIT_FUSE_ALU_K)
		return jit_emit_alu_k(st, in) ? st->log.err : 0;
	if (f == JIT_FUSE_SETCC)
		return jit_emit_setcc(st, in) ? st->log.err : 0;
	if (f == JIT_FUSE_JZ_FLAGS)
		return jit_emit_jz_flags(st, in) ? st->log.err : 0;
	if (f == JIT_FUSE_NULL_BR)
		return 0;                          /* emitted by the lookup before it */
	if (f == JIT_FUSE_JMP32 || f == JIT_FUSE_TEST_K || f == JIT_FUSE_MEM_CMP)
		return jit_emit_late_jump(st, in, f) ? st->log.err : 0;
	if (f == JIT_FUSE_ST_K)
		return jit_emit_st_k(st, in) ? st->log.err : 0;
	if (f == JIT_FUSE_MASK_LEA || f == JIT_FUSE_MASK_JMP)
		return jit_emit_mask_cmp(st, in, f) ? st->log.err : 0;
	if (f == JIT_FUSE_MEM_ALU)
		jit_emit_mem_alu(st, in);
	else if (f == JIT_FUSE_CMOV)
		jit_emit_cmov(st, in);
	else if (f == JIT_FUSE_CMOV_JT)
		emit_cmov_over(st, in);
	else if (f && f != JIT_FUSE_INLINE_CALL)
		jit_emit_fused(st, in, f);
	else if (class_table[SL_OP_CLASS(in->code)](st, in))
		return st->log.err;
	return 0;
}

/* The first instruction of the run before the jump at @p j whose sunk moves it makes. */
static uint32_t sunk_run(const struct jit_state *st, uint32_t j)
{
	const struct bpf_insn *insns = st->prog->insns;
	uint32_t k = j;

	while (k > st->sub->start && SL_OP_CLASS(insns[k - 1].code) != BPF_JMP &&
	       SL_OP_CLASS(insns[k - 1].code) != BPF_JMP32 && j - (k - 1) <= 16)
		k--;
	return k;
}

/* The moves sunk into the jump at @p j (sink.c), but the one at @p skip (or -1). */
static void emit_sunk_moves(struct jit_state *st, uint32_t j, int64_t skip)
{
	const struct bpf_insn *insns = st->prog->insns;

	for (uint32_t k = sunk_run(st, j); k < j; k++) {
		if (!(st->sink[k] & JIT_SINK_MOV) || (int64_t)k == skip)
			continue;
		st->pc = k;
		jit_do_alu(st, &insns[k]);
	}
	st->pc = j;
}

static bool names(const struct bpf_insn *in, uint8_t r)
{
	return in->dst_reg == r || (SL_OP_SRC(in->code) == BPF_X && in->src_reg == r);
}

/*
 * A sunk copy "rD = rS" into the jump at @p j whose rD the copied exit
 * block [@p t, @p x) reads, when the block can run on rS itself: it names
 * rS nowhere, no later sunk move names rD or writes rS, neither is r0 or
 * r10 (the exit returns r0 only, so rS may be clobbered), its
 * instructions are plain (or zero extensions), and for a 32-bit copy
 * (v3's "w1 = w4") every instruction naming rD is a 32-bit one (reads
 * no upper half; not a byte swap). @return the copy's pc, or -1.
 */
static int64_t coalesced_move(const struct jit_state *st, uint32_t j, int64_t t, int64_t x)
{
	const struct bpf_insn *insns = st->prog->insns;
	int64_t found = -1;

	if (st->burst || st->opts.blind_constants)
		return -1;
	for (uint32_t k = sunk_run(st, j); k < j; k++) {
		const struct bpf_insn *mv = &insns[k];
		uint8_t d = mv->dst_reg, sr = mv->src_reg;
		bool reads = false, ok = true;

		if (!(st->sink[k] & JIT_SINK_MOV))
			continue;
		if (found >= 0 && (names(mv, insns[found].dst_reg) || mv->dst_reg == insns[found].src_reg))
			found = -1;                          /* a later move spoils the earlier one */
		if ((mv->code != (BPF_ALU64 | BPF_MOV | BPF_X) && mv->code != (BPF_ALU | BPF_MOV | BPF_X)) ||
		    mv->off || d == sr || d == BPF_REG_0 || sr == BPF_REG_0 || d >= BPF_REG_10 ||
		    sr >= BPF_REG_10)
			continue;
		for (int64_t pc = t; pc < x && ok; pc++) {
			const struct bpf_insn *in = &insns[pc];
			uint8_t f = st->fuse[pc];
			bool low = SL_OP_CLASS(in->code) == BPF_ALU && SL_OP_CODE(in->code) != BPF_END;

			ok = !names(in, sr) && (f == JIT_FUSE_NONE || f == JIT_FUSE_ZEXT ||
						f == JIT_FUSE_NOP || f == JIT_FUSE_DROP) &&
			     (SL_OP_CLASS(mv->code) == BPF_ALU64 || !names(in, d) || low);
			reads |= names(in, d);
		}
		if (ok && reads)
			found = k;
	}
	return found;
}

/*
 * The landing blocks of the function's sunk jumps (sink.c), after its epilogue:
 * the moves, then the target: a copy of a short exit block and the
 * epilogue when that fits, else a jmp (rel8 when it fitted in the
 * previous pass).
 */
static int emit_landings(struct jit_state *st)
{
	const struct bpf_insn *insns = st->prog->insns;

	struct jit_sub *host = st->sub;

	for (uint32_t i = 0; i < st->nlandings; i++) {
		uint32_t j = st->landing_pcs[i];
		int64_t t, x, mv;
		uint8_t rd;

		st->sub = st->landing_subs[i];                 /* the host, or a function in place */
		t = jit_thread_jump(st, (int64_t)j + 1 + insns[j].off);
		st->new_landing[j] = (uint32_t)st->e.len;
		x = st->sub->epi_size <= JIT_INLINE_EPILOGUE && st->sub->inline_call < 0 ?
		    jit_exit_block(st->prog, (uint32_t)t, st->sub->end) : -1;
		mv = x >= 0 ? coalesced_move(st, j, t, x) : -1;
		emit_sunk_moves(st, j, mv);
		rd = mv >= 0 ? st->rmap[insns[mv].dst_reg] : 0;
		if (mv >= 0)                                   /* the exit block runs on rS */
			st->rmap[insns[mv].dst_reg] = st->rmap[insns[mv].src_reg];
		for (int64_t pc = t; pc < x; pc++) {
			st->pc = (uint32_t)pc;
			if (emit_insn(st, &insns[pc]))
				return st->log.err;
		}
		if (mv >= 0)
			st->rmap[insns[mv].dst_reg] = rd;
		st->pc = j;
		if (x >= 0) {
			jit_emit_epilogue(st, true);
		} else {
			int64_t prev = (int64_t)st->addrs[t] - (int64_t)st->landing_end[j];
			bool rel8 = !st->first_pass && prev >= -128 && prev <= 127;

			x86_jcc_rel(&st->e, CC_ALWAYS, (int32_t)((int64_t)st->addrs[t] -
				    (int64_t)(st->e.len + x86_jcc_size(CC_ALWAYS, rel8))), rel8);
		}
		st->new_landing_end[j] = (uint32_t)st->e.len;
	}
	st->sub = host;
	return 0;
}

/*
 * Instructions [@p from, @p to) of function @p s, from st->e.len on (in
 * its host's frame and registers). The head of a cold tail (outline.c)
 * jumps to the tail on the inverse condition and the tail is left for
 * emit_tails(), in a function emitted as itself, outside a burst entry.
 */
static int emit_insns(struct jit_state *st, struct jit_sub *s, uint32_t from, uint32_t to)
{
	const struct bpf_insn *insns = st->prog->insns;
	bool tails = s->inline_call < 0 && !st->burst && to == s->end;

	for (uint32_t pc = from; pc < to; pc++) {
		const struct bpf_insn *in = &insns[pc];

		st->pc = pc;
		st->new_addrs[pc] = (uint32_t)st->e.len;
		if (in->dst_reg >= SL_NREGS || in->src_reg >= SL_NREGS)
			return jit_fail(st, -EINVAL, "invalid register (opcode 0x%02x)", in->code);
		st->landing_taken = false;
		st->outl_head = tails && st->outl[pc] ? (int64_t)pc : -1;
		if (emit_insn(st, in))
			return st->log.err;
		if (st->outl_head >= 0) {
			st->outl_pcs[st->noutl++] = pc;
			st->new_ends[pc] = (uint32_t)st->e.len;
			st->outl_head = -1;
			pc += st->outl[pc];                       /* the tail: emit_tails() */
			continue;
		}
		if (st->sink[pc] & JIT_SINK_JUMP) {
			if (st->landing_taken) {                        /* its landing block after the epilogue */
				st->landing_subs[st->nlandings] = s;
				st->landing_pcs[st->nlandings++] = pc;
			} else {
				emit_sunk_moves(st, pc, -1);         /* no branch after all: in place */
			}
		}
		st->new_ends[pc] = (uint32_t)st->e.len;
		if (sl_isa_is_lddw(in) && pc + 1 < s->end) {
			pc++;
			st->new_addrs[pc] = st->new_ends[pc] = (uint32_t)st->e.len;
		}
	}
	return 0;
}

static int emit_range(struct jit_state *st, struct jit_sub *s)
{
	return emit_insns(st, s, s->start, s->end);
}

/* Does the goto at @p pc end a tail with a jmp of its own (not one to the next instruction)? */
static bool tail_ends_in_jmp(struct jit_state *st, uint32_t pc)
{
	const struct bpf_insn *in = &st->prog->insns[pc];

	return in->code == (BPF_JMP | BPF_JA) && !st->fuse[pc] &&
	       jit_thread_jump(st, (int64_t)pc + 1 + in->off) != (int64_t)pc + 1;
}

/*
 * The cold tails of the function being emitted (outline.c), after its
 * epilogue: each tail, then a jmp to where its head would have fallen
 * (rel8 when it fitted in the previous pass), unless it ends in a goto
 * that jumps.
 */
static int emit_tails(struct jit_state *st, struct jit_sub *s)
{
	for (uint32_t k = 0; k < st->noutl; k++) {
		uint32_t i = st->outl_pcs[k], n = i + 1 + st->outl[i];
		int64_t prev;
		bool rel8;

		st->new_outl_at[i] = (uint32_t)st->e.len;
		if (emit_insns(st, s, i + 1, n))
			return st->log.err;
		if (!tail_ends_in_jmp(st, n - 1)) {
			prev = (int64_t)st->addrs[n] - (int64_t)st->outl_end[i];
			rel8 = !st->first_pass && prev >= -128 && prev <= 127;
			x86_jcc_rel(&st->e, CC_ALWAYS, (int32_t)((int64_t)st->addrs[n] -
				    (int64_t)(st->e.len + x86_jcc_size(CC_ALWAYS, rel8))), rel8);
		}
		st->new_outl_end[i] = (uint32_t)st->e.len;
	}
	return 0;
}

static int emit_inline_call(struct jit_state *st, struct jit_sub *t)
{
	struct jit_sub *caller = st->sub;
	uint32_t pc = st->pc;
	int err;

	st->sub = t;
	err = emit_range(st, t);
	st->sub = caller;
	st->pc = pc;
	return err;
}

static int emit_sub(struct jit_state *st, struct jit_sub *s)
{
	st->sub = s;
	memcpy(st->rmap, s->rmap, sizeof(st->rmap));
	s->new_start = (uint32_t)st->e.len;
	if (st->burst && s == &st->subs[0])
		st->burst->head(st);                                /* burst.c: the loop's head */
	if (s == &st->subs[0] && st->tail_calls)
		x86_alu_rr(&st->e, false, ALU_XOR, X_RAX, X_RAX);   /* public entry: count = 0 */
	s->new_tail = (uint32_t)st->e.len;
	emit_prologue(st);
	if (s == &st->subs[0] && st->tail_calls)
		x86_mov_rr(&st->e, false, TCC, X_RAX);              /* r12d = count */
	st->nlandings = 0;
	st->noutl = 0;
	if (emit_range(st, s))
		return st->log.err;
	s->new_epi = (uint32_t)st->e.len;
	if (st->burst && s == &st->subs[0])
		st->burst->tail(st);                /* burst.c: epilogue, then the loop's test */
	else
		jit_emit_epilogue(st, true);
	return emit_tails(st, s) ? st->log.err : emit_landings(st);
}

/* One pass over every function; @return 0 or -errno. */
static int run_pass(struct jit_state *st)
{
	uint32_t *t;

	st->e.len = 0;
	st->e.err = 0;
	st->rng = st->seed;
	for (uint32_t i = 0; i < st->nsubs; i++)
		if (st->subs[i].inline_call < 0 && emit_sub(st, &st->subs[i]))
			return st->log.err;                 /* (one in place is in its host) */
	if (st->e.err)
		return jit_fail(st, st->e.err, "code emission failed (%s)", strerror(-st->e.err));
	t = st->addrs, st->addrs = st->new_addrs, st->new_addrs = t;
	t = st->ends, st->ends = st->new_ends, st->new_ends = t;
	t = st->landing, st->landing = st->new_landing, st->new_landing = t;
	t = st->landing_end, st->landing_end = st->new_landing_end, st->new_landing_end = t;
	t = st->outl_at, st->outl_at = st->new_outl_at, st->new_outl_at = t;
	t = st->outl_end, st->outl_end = st->new_outl_end, st->new_outl_end = t;
	for (uint32_t i = 0; i < st->nsubs; i++) {
		struct jit_sub *s = &st->subs[i];

		s->off_start = s->new_start;
		s->off_tail = s->new_tail;
		s->off_epi = s->new_epi;
	}
	st->first_pass = false;
	return 0;
}

/* ---- compile ---- */

static int alloc_state(struct jit_state *st)
{
	size_t n = (size_t)st->prog->n_insns;
	uint16_t *live = NULL;
	uint8_t *fuse0;

	st->addrs = calloc(n, sizeof(uint32_t));
	st->ends = calloc(n, sizeof(uint32_t));
	st->new_addrs = calloc(n, sizeof(uint32_t));
	st->new_ends = calloc(n, sizeof(uint32_t));
	st->fuse = jit_peephole(st->prog, st->opts.blind_constants);
	st->targets = jit_jump_targets(st->prog);
	for (uint32_t pc = 0; st->fuse && pc < n; pc++) {
		if (jit_array_lookup_inlined(st, pc) || jit_redirect_inlined(st, pc))
			st->fuse[pc] = JIT_FUSE_INLINE_CALL;  /* reads only r2 (liveness) */
		if (st->targets && jit_array_lookup_inlined(st, pc) && jit_null_branch_fusable(st, pc))
			st->fuse[pc + 1] = JIT_FUSE_NULL_BR;  /* the lookup branches itself */
	}
	st->dead = st->fuse ? jit_dead_code(st->prog, st->fuse, &live) : NULL;
	fuse0 = st->dead ? malloc(2 * n) : NULL;
	if (fuse0)
		memcpy(fuse0, st->fuse, 2 * n);           /* the fusions @p live was computed on */
	if (st->dead) {
		jit_fuse_indexed(st->prog, st->fuse, st->dead, live);
		jit_fuse_carry(st->prog, st->fuse, st->dead, live);
		jit_fuse_late(st->prog, st->fuse, st->dead, live);
		jit_fuse_cmp(st->prog, st->fuse, st->dead, live, st->opts.blind_constants);
	}
	st->live = live;
	st->sink = fuse0 && st->targets ?
		   jit_sink_moves(st->prog, fuse0, st->fuse, st->dead, live, st->targets) : NULL;
	free(fuse0);
	st->landing = calloc(n, sizeof(uint32_t));
	st->landing_end = calloc(n, sizeof(uint32_t));
	st->new_landing = calloc(n, sizeof(uint32_t));
	st->new_landing_end = calloc(n, sizeof(uint32_t));
	st->landing_pcs = calloc(n, sizeof(uint32_t));
	st->landing_subs = calloc(n, sizeof(*st->landing_subs));
	st->outl = st->sink ? jit_outline_marks(st->prog, st->fuse, st->dead, st->sink, st->targets) : NULL;
	st->outl_at = calloc(n, sizeof(uint32_t));
	st->outl_end = calloc(n, sizeof(uint32_t));
	st->new_outl_at = calloc(n, sizeof(uint32_t));
	st->new_outl_end = calloc(n, sizeof(uint32_t));
	st->outl_pcs = calloc(n, sizeof(uint32_t));
	st->outl_head = -1;
	st->low = st->fuse ? jit_low_only(st->prog, st->fuse) : NULL;
	st->hi_zero = jit_hi_zero(st->prog);
	st->fits16 = jit_fits(st->prog, 16);
	if (!st->addrs || !st->ends || !st->new_addrs || !st->new_ends || !st->fuse || !st->dead ||
	    !st->low || !st->hi_zero || !st->fits16 || !st->live || !st->targets || !st->sink || !st->landing ||
	    !st->landing_end || !st->new_landing || !st->new_landing_end || !st->landing_pcs || !st->landing_subs ||
	    !st->outl || !st->outl_at || !st->outl_end || !st->new_outl_at || !st->new_outl_end || !st->outl_pcs)
		return jit_fail(st, -ENOMEM, "out of memory");
	return 0;
}

static void free_state(struct jit_state *st)
{
	free(st->addrs);
	free(st->ends);
	free(st->new_addrs);
	free(st->new_ends);
	free(st->subs);
	free(st->cbs);
	free(st->fuse);
	free(st->dead);
	free(st->low);
	free(st->hi_zero);
	free(st->fits16);
	free(st->live);
	free(st->targets);
	free(st->sink);
	free(st->landing);
	free(st->landing_end);
	free(st->new_landing);
	free(st->new_landing_end);
	free(st->landing_pcs);
	free(st->landing_subs);
	free(st->outl);
	free(st->outl_at);
	free(st->outl_end);
	free(st->new_outl_at);
	free(st->new_outl_end);
	free(st->outl_pcs);
}

/* Sizing passes until the layout stops changing. @return code size, or 0 with st->log.err. */
static size_t converge(struct jit_state *st)
{
	size_t prev = SIZE_MAX;

	st->first_pass = true;
	for (int pass = 0; pass < JIT_MAX_PASSES; pass++) {
		if (run_pass(st))
			return 0;
		if (st->e.len == prev)
			return prev;
		prev = st->e.len;
	}
	jit_fail(st, -EFBIG, "code layout did not converge in %d passes", JIT_MAX_PASSES);
	return 0;
}

/* Final pass into an RW mapping, then RX. */
/* A callback called by a helper (bpf_loop): the function is a SysV one. */
static uint64_t jit_callback_call(const struct sl_callback *cb, uint64_t r1, uint64_t r2)
{
	return ((uint64_t (*)(uint64_t, uint64_t))(uintptr_t)cb->engine)(r1, r2);
}

/*
 * An RW mapping of @p map_len bytes for the code, within +-2 GiB of the
 * helpers if it can be (below this library's text, where a PIE
 * executable leaves room), so that helper calls are "call rel32"; else
 * anywhere. MAP_FIXED_NOREPLACE never takes over an existing mapping.
 */
static uint8_t *map_code(size_t map_len)
{
	static const uintptr_t below[] = { 64ul << 20, 256ul << 20, 1ul << 30 };
	uintptr_t anchor = (uintptr_t)&sl_jit_compile & ~(((uintptr_t)1 << 21) - 1);
	void *m;

	for (unsigned i = 0; i < sizeof(below) / sizeof(below[0]); i++) {
		void *hint = (void *)(anchor - below[i]);

		if (anchor <= below[i] + map_len)
			continue;
		m = mmap(hint, map_len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
		if (m == hint)
			return m;
		if (m != MAP_FAILED)
			munmap(m, map_len);      /* a kernel that took the address as a hint only */
	}
	m = mmap(NULL, map_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return m == MAP_FAILED ? NULL : m;
}

/*
 * Map the code (map_code()), then run the sizing passes again now that
 * its address is known: helper calls within reach shrink to call rel32
 * (sizes only shrink, so the code still fits). @return the mapping with
 * *size updated, or NULL with st->log.err.
 */
static uint8_t *place_code(struct jit_state *st, size_t *size, size_t *map_len)
{
	long page = sysconf(_SC_PAGESIZE);
	uint8_t *mem;
	size_t n;

	*map_len = (*size + (size_t)page - 1) / (size_t)page * (size_t)page;
	mem = map_code(*map_len);
	if (!mem) {
		jit_fail(st, -ENOMEM, "mmap of %zu bytes of code failed", *map_len);
		return NULL;
	}
	st->code_base = (uintptr_t)mem;
	st->code_span = *map_len;
	n = converge(st);
	if (!n || n > *size) {
		if (n)
			jit_fail(st, -EFAULT, "code grew from %zu to %zu bytes once placed", *size, n);
		munmap(mem, *map_len);
		return NULL;
	}
	*size = n;
	return mem;
}

static struct sl_jit *emit_final(struct jit_state *st, size_t size)
{
	struct sl_jit *jit = calloc(1, sizeof(*jit));
	size_t map_len;
	uint8_t *mem;

	if (!jit) {
		jit_fail(st, -ENOMEM, "out of memory");
		return NULL;
	}
	mem = place_code(st, &size, &map_len);
	if (!mem) {
		free(jit);
		return NULL;
	}
	st->e = (struct x86_emit){ .buf = mem, .cap = size };
	if (!run_pass(st) && (st->e.len != size ||
			      memcmp(st->addrs, st->new_addrs, st->prog->n_insns * sizeof(uint32_t))))
		jit_fail(st, -EFAULT, "final pass changed the code layout");
	memset(mem + size, 0xcc, map_len - size);                    /* int3 */
	if (!st->log.err && mprotect(mem, map_len, PROT_READ | PROT_EXEC))
		jit_fail(st, -errno, "mprotect of code failed: %s", strerror(errno));
	if (st->log.err) {
		munmap(mem, map_len);
		free(jit);
		return NULL;
	}
	*jit = (struct sl_jit){ .code = mem, .size = size, .map_len = map_len,
				.prog = st->prog, .opts = st->opts };
	jit->entry = (sl_jit_fn)(uintptr_t)(mem + st->subs[0].off_start);
	jit->tail_entry = mem + st->subs[0].off_tail;
	for (uint32_t i = 0; i < st->nsubs; i++)
		st->cbs[i] = (struct sl_callback){ jit_callback_call, mem + st->subs[i].off_start, 0 };
	jit->cbs = st->cbs;
	st->cbs = NULL;
	return jit;
}

static void init_state(struct jit_state *st, struct sl_prog *prog, const struct sl_jit_opts *opts,
		       char *log, size_t log_len)
{
	memset(st, 0, sizeof(*st));
	st->prog = prog;
	st->log = (struct sl_errlog){ .buf = log, .len = log_len };
	if (opts)
		memcpy(&st->opts, opts, opts->sz && opts->sz < sizeof(*opts) ? opts->sz : sizeof(*opts));
	st->bmi2 = __builtin_cpu_supports("bmi2") && !st->opts.no_bmi2;
	st->tpoff = jit_cpu_tpoff();
	if (getrandom(&st->seed, sizeof(st->seed), 0) != sizeof(st->seed))
		st->seed = (uint64_t)(uintptr_t)st ^ 0x9e3779b97f4a7c15ull;
	st->seed |= 1;  /* xorshift state must not be 0 */
	if (log && log_len)
		log[0] = '\0';
}

/*
 * Programs in the PROG_ARRAYs of a program that tail calls and that have
 * no JIT code yet: compiled too, so tail calls go from JIT code to JIT
 * code, and freed with @p jit. One that does not compile (not verified,
 * ENOTSUP) stays with the interpreter, as do slots past
 * JIT_TAIL_SLOTS_SCANNED (a huge, lazily reserved array is not walked).
 * Control thread.
 */
static void compile_tail_targets(struct sl_jit *jit, const struct sl_jit_opts *opts)
{
	const struct sl_prog *p = jit->prog;

	for (uint32_t m = 0; m < p->n_maps; m++) {
		const struct sl_map_def *def = p->maps[m] ? sl_map_get_def(p->maps[m]) : NULL;

		for (uint32_t i = 0; def && def->type == BPF_MAP_TYPE_PROG_ARRAY &&
				     i < def->max_entries && i < JIT_TAIL_SLOTS_SCANNED; i++) {
			struct sl_prog *t = sl_map_prog_array_get(p->maps[m], i);
			struct sl_jit *d;

			if (!t || !t->verified || __atomic_load_n(&t->jit_tail_entry, __ATOMIC_ACQUIRE))
				continue;
			d = sl_jit_compile(t, opts, NULL, 0);
			if (d) {
				d->next_dep = jit->deps;
				jit->deps = d;
			}
		}
	}
}

struct sl_jit *sl_jit_compile(struct sl_prog *prog, const struct sl_jit_opts *opts,
			      char *log, size_t log_len)
{
	return jit_compile(prog, opts, NULL, log, log_len);
}

struct sl_jit *jit_compile(struct sl_prog *prog, const struct sl_jit_opts *opts,
			   const struct jit_burst *burst, char *log, size_t log_len)
{
	bool tail_calls = false;
	struct jit_state st;
	struct sl_jit *jit = NULL;
	struct bpf_insn *threaded = NULL, *hoisted = NULL;
	struct sl_prog copy;
	unsigned nthreaded = 0, nhoisted = 0;
	size_t size;

	init_state(&st, prog, opts, log, log_len);
	if (!sl_opts_valid(opts, sizeof(*opts))) {
		jit_fail(&st, -EINVAL, "sl_jit_opts: sz %zu asks for options this sluice does not "
			 "know (bytes past %zu not zero)", opts->sz, sizeof(*opts));
	} else if (!prog || !prog->insns || !prog->n_insns || prog->n_insns > SL_MAX_INSNS) {
		jit_fail(&st, -EINVAL, "empty or oversized program");
	} else if (!prog->verified) {
		jit_fail(&st, -EINVAL, "program '%s' is not verified", prog->name);
	} else {
		copy = *prog;
		threaded = jit_thread_jumps(prog, &nthreaded);   /* compiled instead (thread.c) */
		if (threaded)
			copy.insns = threaded;
		hoisted = jit_hoist_tests(&copy, &nhoisted);     /* then this (hoist.c) */
		if (hoisted)
			copy.insns = hoisted;
		if (threaded || hoisted)
			st.prog = &copy;
		if (!alloc_state(&st) && !jit_find_subs(&st) && !jit_find_inlines(&st)) {
			jit_layout_subs(&st);
			st.burst = burst;
			size = burst && burst->prepare(&st) ? 0 : converge(&st);
			if (size)
				jit = emit_final(&st, size);
			tail_calls = st.tail_calls;
		}
		if (jit)
			jit->prog = prog;
	}
	free_state(&st);
	free(threaded);
	free(hoisted);
	if (!jit) {
		errno = -st.log.err;
		return NULL;
	}
	if (burst)
		return jit;  /* no tail entry: tail calls jump to the per-packet code */
	__atomic_store_n(&prog->jit_tail_entry, jit->tail_entry, __ATOMIC_RELEASE);
	if (tail_calls)
		compile_tail_targets(jit, opts);
	return jit;
}

sl_jit_fn sl_jit_entry(const struct sl_jit *jit)
{
	return jit->entry;
}

size_t sl_jit_code_size(const struct sl_jit *jit)
{
	return jit->size;
}

const void *sl_jit_code(const struct sl_jit *jit)
{
	return jit->code;
}

void sl_jit_free(struct sl_jit *jit)
{
	void *expected;

	if (!jit)
		return;
	while (jit->deps) {
		struct sl_jit *d = jit->deps;

		jit->deps = d->next_dep;
		sl_jit_free(d);
	}
	sl_jit_free(jit->burst);
	expected = jit->tail_entry;
	__atomic_compare_exchange_n(&jit->prog->jit_tail_entry, &expected, NULL, false,
				    __ATOMIC_RELEASE, __ATOMIC_RELAXED);
	munmap(jit->code, jit->map_len);
	free(jit->cbs);
	free(jit);
}
