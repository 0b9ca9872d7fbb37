/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * x86-64 JIT: instruction selection. The encoder (x86_emit.c, x86_emit.h)
 * knows x86 only; this file maps eBPF onto it.
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
 * on lead (thread_jump()).
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

static uint64_t next_key(struct jit_state *st)
{
	/* xorshift64*: keys need to be unpredictable to the program's author, not cryptographic */
	st->rng ^= st->rng >> 12;
	st->rng ^= st->rng << 25;
	st->rng ^= st->rng >> 27;
	return st->rng * 0x2545f4914f6cdd1dull;
}

static bool is_w64(const struct bpf_insn *in)
{
	uint8_t cls = SL_OP_CLASS(in->code);

	return cls == BPF_ALU64 || cls == BPF_JMP;
}

/* ---- operands ---- */

/* An ALU/JMP source: a register, or an immediate not yet materialized. */
struct src_op {
	bool is_reg;
	int reg;
	int32_t imm;
};

/* AUX = imm, from two random-looking immediates: mov AUX, imm^key; xor AUX, key. */
static int blind_imm(struct jit_state *st, int32_t imm)
{
	int32_t key = (int32_t)next_key(st);

	x86_mov_ri(&st->e, true, AUX, (int64_t)(imm ^ key));
	x86_alu_ri(&st->e, true, ALU_XOR, AUX, key);
	return AUX;
}

static struct src_op src_operand(struct jit_state *st, const struct bpf_insn *in)
{
	if (SL_OP_SRC(in->code) == BPF_X)
		return (struct src_op){ true, st->rmap[in->src_reg], 0 };
	if (st->opts.blind_constants)
		return (struct src_op){ true, blind_imm(st, in->imm), 0 };
	return (struct src_op){ false, 0, in->imm };
}

/* ---- branches to instructions and epilogues ---- */

/* jmp/jcc to native offset @p target of the previous pass; rel8 when it fitted then. */
static void emit_branch(struct jit_state *st, enum x86_cc cc, uint32_t target)
{
	int64_t prev, rel;
	bool rel8;

	if (cc != CC_ALWAYS && (st->sink[st->pc] & JIT_SINK_JUMP)) {
		target = st->landing[st->pc];     /* the moves sunk into it, then the target */
		st->landing_taken = true;
	}
	prev = (int64_t)target - (int64_t)st->ends[st->pc];
	rel8 = !st->first_pass && prev >= -128 && prev <= 127;
	rel = (int64_t)target - (int64_t)(st->e.len + x86_jcc_size(cc, rel8));

	x86_jcc_rel(&st->e, cc, (int32_t)rel, rel8);
}

static void emit_epilogue(struct jit_state *st, bool ret)
{
	jit_emit_epilogue_of(&st->e, st->sub, ret);
}

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

/* ---- ALU ---- */

typedef int (*alu_fn)(struct jit_state *st, const struct bpf_insn *in, bool w64);

static int alu_simple(struct jit_state *st, const struct bpf_insn *in, bool w64)
{
	static const enum x86_alu ops[16] = {
		[BPF_ADD >> 4] = ALU_ADD, [BPF_SUB >> 4] = ALU_SUB, [BPF_OR >> 4] = ALU_OR,
		[BPF_AND >> 4] = ALU_AND, [BPF_XOR >> 4] = ALU_XOR,
	};
	enum x86_alu op = ops[SL_OP_CODE(in->code) >> 4];
	int dst = st->rmap[in->dst_reg];
	struct src_op s = src_operand(st, in);

	if (s.is_reg)
		x86_alu_rr(&st->e, w64, op, dst, s.reg);
	else
		x86_alu_ri(&st->e, w64, op, dst, s.imm);
	return 0;
}

static int alu_mov(struct jit_state *st, const struct bpf_insn *in, bool w64)
{
	int dst = st->rmap[in->dst_reg];

	if (SL_OP_SRC(in->code) == BPF_K) {
		if (st->opts.blind_constants)
			x86_mov_rr(&st->e, w64, dst, blind_imm(st, in->imm));
		else if (in->imm == 0)
			x86_alu_rr(&st->e, false, ALU_XOR, dst, dst);
		else
			x86_mov_ri(&st->e, w64, dst, w64 ? (int64_t)in->imm : (int64_t)(uint32_t)in->imm);
		return 0;
	}
	if (in->off == 0 && in->src_reg == BPF_REG_10 && st->sub->rsp_frame) {
		x86_lea(&st->e, w64, dst, X_RSP, (int32_t)st->sub->stack);
		return 0;
	}
	if (in->off == 0) {
		if (!w64 || in->dst_reg != in->src_reg)
			x86_mov_rr(&st->e, w64, dst, st->rmap[in->src_reg]);
		return 0;
	}
	if (in->off != 8 && in->off != 16 && !(in->off == 32 && w64))
		return jit_fail(st, -EINVAL, "mov: invalid sign-extension width %d", in->off);
	x86_movsx_rr(&st->e, w64, (unsigned)in->off / 8, dst, st->rmap[in->src_reg]);
	return 0;
}

/* imul, or for small constants: shl (2^k), lea (3, 5, 9), xor (0), nothing (1) */
static int alu_mul(struct jit_state *st, const struct bpf_insn *in, bool w64)
{
	int dst = st->rmap[in->dst_reg];
	int32_t k = in->imm;
	struct src_op s;

	if (SL_OP_SRC(in->code) == BPF_K && !st->opts.blind_constants) {
		if (k == 0) {
			x86_alu_rr(&st->e, false, ALU_XOR, dst, dst);
			return 0;
		}
		if (k == 1) {
			if (!w64)
				x86_mov_rr(&st->e, false, dst, dst);
			return 0;
		}
		if (k > 0 && (k & (k - 1)) == 0) {
			x86_shift_ri(&st->e, w64, SH_SHL, dst, (uint8_t)__builtin_ctz((unsigned)k));
			return 0;
		}
		if (k == 3 || k == 5 || k == 9) {
			x86_lea_index(&st->e, w64, dst, dst, dst, (unsigned)k - 1, 0); /* lea dst, [dst + dst*(k-1)] */
			return 0;
		}
	}
	s = src_operand(st, in);
	if (s.is_reg)
		x86_imul_rr(&st->e, w64, dst, s.reg);
	else
		x86_imul_rri(&st->e, w64, dst, dst, s.imm);
	return 0;
}

static int alu_neg(struct jit_state *st, const struct bpf_insn *in, bool w64)
{
	x86_unary(&st->e, w64, UN_NEG, st->rmap[in->dst_reg]);
	return 0;
}

static int alu_shift(struct jit_state *st, const struct bpf_insn *in, bool w64)
{
	static const enum x86_shift ops[16] = {
		[BPF_LSH >> 4] = SH_SHL, [BPF_RSH >> 4] = SH_SHR, [BPF_ARSH >> 4] = SH_SAR,
	};
	enum x86_shift op = ops[SL_OP_CODE(in->code) >> 4];
	int dst = st->rmap[in->dst_reg], src = st->rmap[in->src_reg];

	if (SL_OP_SRC(in->code) == BPF_K) {
		uint8_t n = (uint8_t)(in->imm & (w64 ? 63 : 31));

		if (n)
			x86_shift_ri(&st->e, w64, op, dst, n);
		else if (!w64)
			x86_mov_rr(&st->e, false, dst, dst);           /* zero-extend */
		return 0;
	}
	if (st->bmi2) {
		x86_shiftx(&st->e, w64, op, dst, dst, src);            /* shlx dst, dst, src */
	} else if (src == X_RCX) {
		x86_shift_cl(&st->e, w64, op, dst);
	} else {
		/* the count must be in cl: park rcx (r4) in TMP around the shift */
		x86_mov_rr(&st->e, true, TMP, X_RCX);
		x86_mov_rr(&st->e, true, X_RCX, src);
		x86_shift_cl(&st->e, w64, op, dst == X_RCX ? TMP : dst);
		x86_mov_rr(&st->e, true, X_RCX, TMP);
	}
	return 0;
}

/* Result of dividing dst by 0 (div: 0; mod: dst, truncated in 32-bit) or by -1 (signed). */
static void div_special(struct jit_state *st, int dst, bool w64, bool mod, bool by_minus1)
{
	if (by_minus1 && !mod)
		x86_unary(&st->e, w64, UN_NEG, dst);                    /* INT_MIN / -1 = INT_MIN */
	else if (!mod || by_minus1)
		x86_alu_rr(&st->e, false, ALU_XOR, dst, dst);           /* 0 */
	else if (!w64)
		x86_mov_rr(&st->e, false, dst, dst);                    /* dst, zero-extended */
}

/* rdx:rax / TMP with rax and rdx (r0, r3) preserved unless dst is one of them. */
static void div_core(struct jit_state *st, int dst, bool w64, bool mod, bool sdiv)
{
	int res = mod ? X_RDX : X_RAX;

	if (dst != X_RAX)
		x86_mov_rr(&st->e, true, AUX, X_RAX);
	if (dst != X_RDX)
		x86_mov_rr(&st->e, true, AUX2, X_RDX);
	if (dst != X_RAX)
		x86_mov_rr(&st->e, true, X_RAX, dst);
	if (sdiv)
		x86_sign_extend_ax(&st->e, w64);
	else
		x86_alu_rr(&st->e, false, ALU_XOR, X_RDX, X_RDX);
	x86_unary(&st->e, w64, sdiv ? UN_IDIV : UN_DIV, TMP);      /* (i)div r11 */
	if (dst != res)
		x86_mov_rr(&st->e, w64, dst, res);
	if (dst != X_RDX)
		x86_mov_rr(&st->e, true, X_RDX, AUX2);
	if (dst != X_RAX)
		x86_mov_rr(&st->e, true, X_RAX, AUX);
}

/*
 * Unsigned division / modulo by a constant d (not with blinding):
 * a power of two is a shift / an AND; any other d a multiply by its
 * reciprocal, the "round-up" method of Granlund and Montgomery (1994,
 * fig. 4.1): with l = ceil(log2 d) and m = floor(2^N (2^l - d) / d) + 1,
 * t = (m * n) >> N and q = (t + ((n - t) >> 1)) >> (l - 1), exact for every
 * N-bit n. 32-bit: the product fits 64 bits (imul, AUX as scratch); 64-bit:
 * "mul" gives its high half in rdx (rax and rdx saved in AUX, AUX2, as for
 * div). mod: n - q * d. @return false when d is not handled here.
 */
static bool divmod_const(struct jit_state *st, const struct bpf_insn *in, bool w64, bool mod)
{
	uint64_t d = w64 ? (uint64_t)(int64_t)in->imm : (uint32_t)in->imm;
	int dst = st->rmap[in->dst_reg], n = dst;
	unsigned l = 0, sh;
	uint64_t m;

	if (st->opts.blind_constants || in->off || d < 2 || d > (w64 ? INT32_MAX : UINT32_MAX))
		return false;
	if (w64 && (st->hi_zero[st->pc] & (1u << in->dst_reg)))
		w64 = false;                    /* a u32 dividend: the 32-bit sequence, zero-extended */
	if ((d & (d - 1)) == 0) {
		if (!mod)
			x86_shift_ri(&st->e, w64, SH_SHR, dst, (uint8_t)__builtin_ctzll(d));
		else if (d - 1 <= INT32_MAX)
			x86_alu_ri(&st->e, w64, ALU_AND, dst, (int32_t)(d - 1));
		else
			x86_mov_rr(&st->e, false, dst, dst);            /* mod 2^32 of a u32 */
		return true;
	}
	while ((1ull << l) < d)
		l++;
	sh = w64 ? 64 : 32;
	m = (uint64_t)((((unsigned __int128)1 << sh) * ((1ull << l) - d)) / d) + 1;
	if (!w64) {
		x86_mov_rr(&st->e, false, TMP, dst);                    /* TMP = n (u32) */
		x86_mov_ri(&st->e, false, AUX, (int64_t)m);
		x86_imul_rr(&st->e, true, AUX, TMP);
		x86_shift_ri(&st->e, true, SH_SHR, AUX, 32);            /* AUX = t */
	} else {
		if (dst == X_RAX || dst == X_RDX)
			x86_mov_rr(&st->e, true, n = dst == X_RAX ? AUX : AUX2, dst);
		if (dst != X_RAX)
			x86_mov_rr(&st->e, true, AUX, X_RAX);
		if (dst != X_RDX)
			x86_mov_rr(&st->e, true, AUX2, X_RDX);
		x86_mov_ri(&st->e, true, X_RAX, (int64_t)m);
		x86_unary(&st->e, true, UN_MUL, n);                     /* rdx = t */
		x86_mov_rr(&st->e, true, TMP, n);
	}
	x86_alu_rr(&st->e, w64, ALU_SUB, TMP, w64 ? X_RDX : AUX);
	x86_shift_ri(&st->e, w64, SH_SHR, TMP, 1);
	x86_alu_rr(&st->e, w64, ALU_ADD, TMP, w64 ? X_RDX : AUX);
	x86_shift_ri(&st->e, w64, SH_SHR, TMP, (uint8_t)(l - 1));  /* TMP = q */
	if (w64 && dst != X_RDX)
		x86_mov_rr(&st->e, true, X_RDX, AUX2);
	if (w64 && dst != X_RAX)
		x86_mov_rr(&st->e, true, X_RAX, AUX);
	if (!mod) {
		x86_mov_rr(&st->e, w64, dst, TMP);
		return true;
	}
	x86_imul_rri(&st->e, w64, TMP, TMP, (int32_t)d);               /* q * d (mod 2^32 if 32-bit) */
	if (n != dst)
		x86_mov_rr(&st->e, true, dst, n);
	x86_alu_rr(&st->e, w64, ALU_SUB, dst, TMP);
	return true;
}

static int alu_divmod(struct jit_state *st, const struct bpf_insn *in, bool w64)
{
	bool mod = SL_OP_CODE(in->code) == BPF_MOD, sdiv = in->off == 1;
	bool is_k = SL_OP_SRC(in->code) == BPF_K;
	int dst = st->rmap[in->dst_reg];
	int64_t k = w64 ? (int64_t)in->imm : (sdiv ? (int64_t)in->imm : (int64_t)(uint32_t)in->imm);
	bool check0 = !is_k && !(st->prog->aux && st->prog->aux[st->pc].nonzero_div);
	size_t l_zero = 0, l_m1 = 0, l_done[2] = { 0, 0 };

	if (in->off != 0 && in->off != 1)
		return jit_fail(st, -EINVAL, "div/mod: off must be 0 or 1 (is %d)", in->off);
	if (is_k && (k == 0 || (sdiv && k == -1))) {
		div_special(st, dst, w64, mod, k == -1);
		return 0;
	}
	if (is_k && divmod_const(st, in, w64, mod))
		return 0;
	/* unsigned 64-bit of two values with zero upper halves: the 32-bit div gives the same
	 * quotient and remainder (both < 2^32, zero-extended) in a fraction of the latency */
	if (w64 && !is_k && !sdiv &&
	    (st->hi_zero[st->pc] & (1u << in->dst_reg)) && (st->hi_zero[st->pc] & (1u << in->src_reg)))
		w64 = false;
	if (is_k && st->opts.blind_constants)
		x86_mov_rr(&st->e, true, TMP, blind_imm(st, in->imm));
	else if (is_k)
		x86_mov_ri(&st->e, true, TMP, (int64_t)in->imm);
	else
		x86_mov_rr(&st->e, true, TMP, st->rmap[in->src_reg]);
	if (check0) {
		x86_test_rr(&st->e, w64, TMP, TMP);
		l_zero = x86_jcc8_fwd(&st->e, CC_NE);
		div_special(st, dst, w64, mod, false);
		l_done[0] = x86_jcc8_fwd(&st->e, CC_ALWAYS);
		x86_bind8(&st->e, l_zero);
	}
	if (sdiv && !is_k) {
		x86_alu_ri(&st->e, w64, ALU_CMP, TMP, -1);
		l_m1 = x86_jcc8_fwd(&st->e, CC_NE);
		div_special(st, dst, w64, mod, true);
		l_done[1] = x86_jcc8_fwd(&st->e, CC_ALWAYS);
		x86_bind8(&st->e, l_m1);
	}
	div_core(st, dst, w64, mod, sdiv);
	for (int i = 0; i < 2; i++)
		if (l_done[i])
			x86_bind8(&st->e, l_done[i]);
	return 0;
}

/* le16/32/64 (truncate), be16/32/64 and bswap16/32/64 (swap) on a little-endian host */
static int alu_end(struct jit_state *st, const struct bpf_insn *in, bool w64)
{
	bool swap = w64 || SL_OP_SRC(in->code) == BPF_TO_BE;
	int dst = st->rmap[in->dst_reg];

	switch (in->imm) {
	case 16:
		if (swap)
			x86_rol16_8(&st->e, dst);
		if (!(st->fits16[st->pc] & (1u << in->dst_reg)))
			x86_movzx_rr(&st->e, 2, dst, dst);      /* else bits 16-63 are zero already */
		return 0;
	case 32:
		if (swap)
			x86_bswap(&st->e, false, dst);
		else
			x86_mov_rr(&st->e, false, dst, dst);
		return 0;
	case 64:
		if (swap)
			x86_bswap(&st->e, true, dst);
		return 0;
	}
	return jit_fail(st, -EINVAL, "byte swap width must be 16, 32 or 64 (is %d)", in->imm);
}

static const alu_fn alu_table[16] = {
	[BPF_ADD >> 4] = alu_simple, [BPF_SUB >> 4] = alu_simple, [BPF_MUL >> 4] = alu_mul,
	[BPF_DIV >> 4] = alu_divmod, [BPF_OR >> 4] = alu_simple, [BPF_AND >> 4] = alu_simple,
	[BPF_LSH >> 4] = alu_shift, [BPF_RSH >> 4] = alu_shift, [BPF_NEG >> 4] = alu_neg,
	[BPF_MOD >> 4] = alu_divmod, [BPF_XOR >> 4] = alu_simple, [BPF_MOV >> 4] = alu_mov,
	[BPF_ARSH >> 4] = alu_shift, [BPF_END >> 4] = alu_end,
};

static int do_alu(struct jit_state *st, const struct bpf_insn *in)
{
	alu_fn fn = alu_table[SL_OP_CODE(in->code) >> 4];

	if (!fn)
		return jit_fail(st, -EINVAL, "unknown opcode 0x%02x", in->code);
	return fn(st, in, SL_OP_CLASS(in->code) == BPF_ALU64 && !st->low[st->pc]);
}

/* ---- loads and stores ---- */

/* x86 base register of eBPF register @p r as a memory base; r10 in an rsp frame moves @p off. */
static int mem_base(const struct jit_state *st, uint8_t r, int32_t *off)
{
	if (r == BPF_REG_10 && st->sub->rsp_frame)
		*off += (int32_t)st->sub->stack;
	return st->rmap[r];
}

static int do_ldx(struct jit_state *st, const struct bpf_insn *in)
{
	unsigned size = sl_isa_size_bytes(in->code);
	int32_t off = in->off;
	int dst = st->rmap[in->dst_reg], base = mem_base(st, in->src_reg, &off);

	if (st->burst && st->burst->ldx(st, in))
		return 0;                                           /* burst.c: a context field */
	if (SL_OP_MODE(in->code) == BPF_MEM)
		x86_load(&st->e, size, dst, base, off);
	else if (SL_OP_MODE(in->code) == BPF_MEMSX && size < 8)
		x86_load_sx(&st->e, size, dst, base, off);
	else
		return jit_fail(st, -EINVAL, "unknown opcode 0x%02x", in->code);
	return 0;
}

static int do_st(struct jit_state *st, const struct bpf_insn *in)
{
	unsigned size = sl_isa_size_bytes(in->code);
	int32_t off = in->off;
	int base = mem_base(st, in->dst_reg, &off);

	if (SL_OP_MODE(in->code) != BPF_MEM)
		return jit_fail(st, -EINVAL, "unknown opcode 0x%02x", in->code);
	if (st->opts.blind_constants)
		x86_store(&st->e, size, base, off, blind_imm(st, in->imm));
	else
		x86_store_imm(&st->e, size, base, off, in->imm);
	return 0;
}

/* lock or|and|xor with fetch: a cmpxchg loop on rax (r0, saved in AUX). */
static void atomic_fetch_loop(struct jit_state *st, const struct bpf_insn *in, bool w64,
			      enum x86_alu op)
{
	int base = st->rmap[in->dst_reg], src = st->rmap[in->src_reg], val = src;
	size_t loop;

	x86_mov_rr(&st->e, true, AUX, X_RAX);               /* keep r0 (and src if it is r0) */
	if (base == X_RAX) {
		x86_mov_rr(&st->e, true, AUX2, X_RAX);
		base = AUX2;
	}
	if (val == X_RAX)
		val = AUX;
	x86_load(&st->e, w64 ? 8 : 4, X_RAX, base, in->off);
	loop = st->e.len;
	x86_mov_rr(&st->e, w64, TMP, X_RAX);
	x86_alu_rr(&st->e, w64, op, TMP, val);
	x86_lock_cmpxchg(&st->e, w64, base, in->off, TMP);
	x86_jcc8_back(&st->e, CC_NE, loop);
	if (src != X_RAX) {
		x86_mov_rr(&st->e, w64, src, X_RAX);             /* src = old value */
		x86_mov_rr(&st->e, true, X_RAX, AUX);
	}
}

static int do_atomic(struct jit_state *st, const struct bpf_insn *in)
{
	bool w64 = SL_OP_SIZE(in->code) == BPF_DW;
	int base = st->rmap[in->dst_reg], src = st->rmap[in->src_reg];
	static const enum x86_alu ops[16] = {
		[BPF_ADD >> 4] = ALU_ADD, [BPF_OR >> 4] = ALU_OR,
		[BPF_AND >> 4] = ALU_AND, [BPF_XOR >> 4] = ALU_XOR,
	};
	int32_t op = in->imm & ~BPF_FETCH;

	if (SL_OP_SIZE(in->code) != BPF_DW && SL_OP_SIZE(in->code) != BPF_W)
		return jit_fail(st, -EINVAL, "atomic: size must be 4 or 8 bytes");
	if (in->imm == BPF_XCHG) {
		x86_xchg_mem(&st->e, w64, base, in->off, src);
	} else if (in->imm == BPF_CMPXCHG) {
		x86_lock_cmpxchg(&st->e, w64, base, in->off, src);
		if (!w64)
			x86_mov_rr(&st->e, false, X_RAX, X_RAX);         /* r0 = zext(old) */
	} else if (op != BPF_ADD && op != BPF_OR && op != BPF_AND && op != BPF_XOR) {
		return jit_fail(st, -EINVAL, "unknown atomic operation imm=0x%x", (unsigned)in->imm);
	} else if (!(in->imm & BPF_FETCH)) {
		x86_lock_alu(&st->e, w64, ops[op >> 4], base, in->off, src);
	} else if (op == BPF_ADD) {
		x86_lock_xadd(&st->e, w64, base, in->off, src);
	} else {
		atomic_fetch_loop(st, in, w64, ops[op >> 4]);
	}
	return 0;
}

static int do_stx(struct jit_state *st, const struct bpf_insn *in)
{
	int32_t off = in->off;
	int base;

	if (SL_OP_MODE(in->code) == BPF_ATOMIC)
		return do_atomic(st, in);
	if (SL_OP_MODE(in->code) != BPF_MEM)
		return jit_fail(st, -EINVAL, "unknown opcode 0x%02x", in->code);
	base = mem_base(st, in->dst_reg, &off);
	x86_store(&st->e, sl_isa_size_bytes(in->code), base, off, st->rmap[in->src_reg]);
	return 0;
}

static struct jit_sub *sub_at(struct jit_state *st, uint32_t pc);
static int emit_inline_call(struct jit_state *st, struct jit_sub *t);

/* The 64-bit constant of an lddw: plain, map pointer, map value address, or callback. */
static int lddw_value(struct jit_state *st, const struct bpf_insn *in, uint64_t *v)
{
	const struct sl_prog *p = st->prog;
	struct sl_map *map;
	uint8_t *base;

	*v = (uint64_t)(uint32_t)in[0].imm | ((uint64_t)(uint32_t)in[1].imm << 32);
	if (in->src_reg == 0)
		return 0;
	if (in->src_reg == BPF_PSEUDO_FUNC) {   /* a callback: its descriptor */
		struct jit_sub *t = sub_at(st, (uint32_t)((int64_t)st->pc + 1 + in->imm));

		if (!t || !st->cbs)
			return jit_fail(st, -EINVAL, "lddw func: pc %lld is not a function",
					(long long)st->pc + 1 + in->imm);
		*v = (uint64_t)(uintptr_t)&st->cbs[t - st->subs];
		return 0;
	}
	if (in->src_reg != BPF_PSEUDO_MAP_IDX && in->src_reg != BPF_PSEUDO_MAP_IDX_VALUE)
		return jit_fail(st, -ENOTSUP, "lddw: unsupported pseudo source %u", in->src_reg);
	if (in->imm < 0 || (uint32_t)in->imm >= p->n_maps || !p->maps || !p->maps[in->imm])
		return jit_fail(st, -EINVAL, "lddw: map index %d out of range (%u maps)",
				in->imm, p->n_maps);
	map = p->maps[in->imm];
	if (in->src_reg == BPF_PSEUDO_MAP_IDX) {
		*v = (uint64_t)(uintptr_t)map;
		return 0;
	}
	base = sl_map_array_base(map, 0);
	if (!base || in[1].imm < 0 || (uint32_t)in[1].imm >= sl_map_get_def(map)->value_size)
		return jit_fail(st, -EINVAL, "lddw map value: bad map '%s' or offset %d",
				sl_map_name(map), in[1].imm);
	*v = (uint64_t)(uintptr_t)(base + in[1].imm);
	return 0;
}

static int do_lddw(struct jit_state *st, const struct bpf_insn *in)
{
	int dst = st->rmap[in->dst_reg];
	uint64_t v;

	if (st->pc + 1 >= st->sub->end)
		return jit_fail(st, -EINVAL, "lddw needs a second instruction");
	if (lddw_value(st, in, &v))
		return st->log.err;
	if (st->opts.blind_constants) {
		uint64_t key = next_key(st);

		x86_movabs(&st->e, dst, v ^ key);
		x86_movabs(&st->e, AUX, key);
		x86_alu_rr(&st->e, true, ALU_XOR, dst, AUX);
	} else if (v == 0) {
		x86_alu_rr(&st->e, false, ALU_XOR, dst, dst);
	} else {
		x86_mov_ri(&st->e, true, dst, (int64_t)v);
	}
	return 0;
}

/*
 * LD_ABS / LD_IND, inline (r6 = struct sl_skb_ctx *): r0 = the big-endian
 * packet bytes at the offset; out of bounds (a negative offset included,
 * as the interpreter does) ends the function with r0 = 0,
 * as the kernel does. Uses rsi, rdi, rdx of r1-r5, which the liveness and
 * peephole passes already treat as clobbered (as for a helper call):
 *
 *   esi = off (u32)        | LD_ABS, 0 <= imm: edx = pkt_len
 *   edx = pkt_len          |                   cmp edx, imm + size
 *   rdx -= rsi; cmp rdx, n |                   jae ok
 *   jge ok                 |   (then the same load with disp = imm)
 *   xor eax, eax; jmp epi
 * ok: rdi = pkt; r0 = movzx/mov [rdi + rsi]; ror ax, 8 | bswap eax
 */
static void ld_pkt_oob(struct jit_state *st)
{
	x86_alu_rr(&st->e, false, ALU_XOR, X_RAX, X_RAX);
	x86_jcc_rel(&st->e, CC_ALWAYS,                                  /* jmp epilogue, r0 = 0 */
		    (int32_t)((int64_t)st->sub->off_epi - (int64_t)(st->e.len + 5)), false);
}

static int do_ld_pkt(struct jit_state *st, const struct bpf_insn *in)
{
	unsigned size = sl_isa_size_bytes(in->code);
	int ctx = st->rmap[BPF_REG_6], r0 = st->rmap[BPF_REG_0];
	bool abs_k = SL_OP_MODE(in->code) == BPF_ABS && !st->opts.blind_constants;
	size_t l_ok;

	if (abs_k && (in->imm < 0 || in->imm > INT32_MAX - 4)) {
		ld_pkt_oob(st);                                         /* never in bounds */
		return 0;
	}
	if (abs_k) {
		x86_load(&st->e, 4, X_RDX, ctx, offsetof(struct sl_skb_ctx, pkt_len));
		x86_alu_ri(&st->e, false, ALU_CMP, X_RDX, in->imm + (int32_t)size);
		l_ok = x86_jcc8_fwd(&st->e, CC_AE);
	} else {
		if (SL_OP_MODE(in->code) == BPF_IND) {
			x86_mov_rr(&st->e, false, X_RSI, st->rmap[in->src_reg]);
			if (st->opts.blind_constants)
				x86_alu_rr(&st->e, false, ALU_ADD, X_RSI, blind_imm(st, in->imm));
			else
				x86_alu_ri(&st->e, false, ALU_ADD, X_RSI, in->imm);
		} else {
			x86_mov_rr(&st->e, false, X_RSI, blind_imm(st, in->imm));
		}
		x86_load(&st->e, 4, X_RDX, ctx, offsetof(struct sl_skb_ctx, pkt_len));
		x86_alu_rr(&st->e, true, ALU_SUB, X_RDX, X_RSI);        /* pkt_len - off, signed */
		x86_alu_ri(&st->e, true, ALU_CMP, X_RDX, (int32_t)size);
		l_ok = x86_jcc8_fwd(&st->e, CC_GE);
	}
	ld_pkt_oob(st);
	x86_bind8(&st->e, l_ok);
	x86_load(&st->e, 8, X_RDI, ctx, offsetof(struct sl_skb_ctx, pkt));
	if (abs_k)
		x86_load(&st->e, size, r0, X_RDI, in->imm);
	else
		x86_load_index(&st->e, size, r0, X_RDI, X_RSI, 1, 0);
	if (size == 2)
		x86_rol16_8(&st->e, r0);
	else if (size == 4)
		x86_bswap(&st->e, false, r0);
	return 0;
}

static int do_ld(struct jit_state *st, const struct bpf_insn *in)
{
	if (in->code == (BPF_LD | BPF_IMM | BPF_DW))
		return do_lddw(st, in);
	if ((SL_OP_MODE(in->code) == BPF_ABS || SL_OP_MODE(in->code) == BPF_IND) &&
	    SL_OP_SIZE(in->code) != BPF_DW)
		return do_ld_pkt(st, in);
	return jit_fail(st, -EINVAL, "unknown opcode 0x%02x", in->code);
}

/* ---- calls ---- */

static struct jit_sub *sub_at(struct jit_state *st, uint32_t pc)
{
	for (uint32_t i = 0; i < st->nsubs; i++)
		if (st->subs[i].start == pc)
			return &st->subs[i];
	return NULL;
}

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
	emit_epilogue(st, false);
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
	return sub_at(st, (uint32_t)(k + 1 + ld->imm));
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
		return 0;
	fn = jit_map_call_fn(in->imm, map);   /* map_calls.c: the map's own function */
	emit_call_abs(st, fn ? fn : (const void *)(uintptr_t)h->fn);
	return 0;
}

static int do_call(struct jit_state *st, const struct bpf_insn *in)
{
	if (in->src_reg == BPF_PSEUDO_CALL) {
		struct jit_sub *t = sub_at(st, (uint32_t)((int64_t)st->pc + 1 + in->imm));

		if (!t)
			return jit_fail(st, -EINVAL, "call to pc %lld: not a function",
					(long long)st->pc + 1 + in->imm);
		if (t->inline_call == (int64_t)st->pc)
			return emit_inline_call(st, t);
		x86_call_rel32(&st->e, (int32_t)((int64_t)t->off_start - (int64_t)(st->e.len + 5)));
		return 0;
	}
	if (in->src_reg != 0)
		return jit_fail(st, -ENOTSUP, "call: unsupported src_reg %u", in->src_reg);
	return do_helper_call(st, in);
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
	bool w64 = is_w64(in);
	int dst = st->rmap[in->dst_reg];
	struct src_op s;

	if (op > BPF_JSLE || !jmp_ccs[op >> 4])
		return -1;
	s = src_operand(st, in);
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
static int64_t thread_jump(const struct jit_state *st, int64_t target)
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
		emit_epilogue(st, true);
	else
		emit_branch(st, CC_ALWAYS, st->addrs[target]);
}

static int do_jmp(struct jit_state *st, const struct bpf_insn *in)
{
	uint8_t op = SL_OP_CODE(in->code);
	int64_t target = (int64_t)st->pc + 1 + in->off;
	int cc;

	if (op != BPF_CALL && op != BPF_EXIT) {
		int64_t to = op == BPF_JA && !is_w64(in) ? (int64_t)st->pc + 1 + in->imm : target;

		if (to < st->sub->start || to >= st->sub->end)
			return jit_fail(st, -EINVAL, "jump to pc %lld leaves the function [%u, %u)",
					(long long)to, st->sub->start, st->sub->end);
	}
	switch (op) {
	case BPF_CALL:
		return do_call(st, in);
	case BPF_EXIT:
		if (st->burst && st->burst->exit(st))
			return 0;                                   /* burst.c: a plain pass */
		if (st->pc + 1 == st->sub->end)
			return 0;                  /* falls into the epilogue, or out of a body in place */
		if (st->sub->inline_call >= 0)
			emit_branch(st, CC_ALWAYS, st->addrs[st->sub->inline_call + 1]);
		else if (st->sub->epi_size <= JIT_INLINE_EPILOGUE)
			emit_epilogue(st, true);
		else
			emit_branch(st, CC_ALWAYS, st->sub->off_epi);
		return 0;
	case BPF_JA:
		if (!is_w64(in))
			target = (int64_t)st->pc + 1 + in->imm;     /* gotol */
		target = thread_jump(st, target);
		if (target != st->pc + 1)
			emit_jump_to(st, target);
		return 0;
	}
	target = thread_jump(st, target);
	if (target == st->pc + 1)
		return 0;
	cc = emit_compare(st, in);
	if (cc < 0)
		return jit_fail(st, -EINVAL, "unknown opcode 0x%02x", in->code);
	emit_branch(st, (enum x86_cc)cc, st->addrs[target]);
	return 0;
}

/*
 * "if (cond) goto +1; rX = v" (peephole.c, JIT_FUSE_CMOV at the jump):
 * without a branch, rX = v when cond is false (cmov of the inverse).
 */
static void emit_cmov(struct jit_state *st, const struct bpf_insn *in)
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

/* ---- driver ---- */

typedef int (*class_fn)(struct jit_state *st, const struct bpf_insn *in);

static const class_fn class_table[8] = {
	[BPF_LD] = do_ld, [BPF_LDX] = do_ldx, [BPF_ST] = do_st, [BPF_STX] = do_stx,
	[BPF_ALU] = do_alu, [BPF_JMP] = do_jmp, [BPF_JMP32] = do_jmp, [BPF_ALU64] = do_alu,
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

	emit_cmov(st, in);
	if (n)
		x86_jcc_rel(&st->e, CC_ALWAYS, (int32_t)n, true);              /* jmp over the mov */
}

/*
 * Fused sequences (peephole.c): a rotate's shift becomes "rol dst, k"; a
 * multiply by 3, 5 or 9 and the add of a constant that follows become
 * "lea dst, [dst + dst*(k-1) + imm]"; a jump over one mov becomes a cmov;
 * "<<= 32; >>= 32" becomes "mov r32, r32"; a byte-wise be16 load becomes
 * movzx + rol; the instructions absorbed emit nothing.
 */
/* A mov fused with what follows it (MOV_ADD, MOV_SWAP16, MOV_ZEXT, MOV_MOVZX). */
static void emit_fused_mov(struct jit_state *st, const struct bpf_insn *in, uint8_t fuse)
{
	const struct bpf_insn *op = in + 1;
	int dst = st->rmap[in->dst_reg], src = st->rmap[in->src_reg];

	if (fuse == JIT_FUSE_MOV_ADD && SL_OP_SRC(op->code) == BPF_K) {
		int32_t off = op->imm;

		src = mem_base(st, in->src_reg, &off);                     /* r10: rsp + n */
		x86_lea(&st->e, true, dst, src, off);
	} else if (fuse == JIT_FUSE_MOV_ADD) {
		x86_lea_index(&st->e, true, dst, src, st->rmap[op->src_reg], 1, 0);
	} else if (fuse == JIT_FUSE_MOV_ZEXT) {
		x86_mov_rr(&st->e, false, dst, src);
	} else if (fuse == JIT_FUSE_MOV_MOVZX) {
		x86_movzx_rr(&st->e, op->imm == 0xff ? 1 : 2, dst, src);
	} else if (fuse == JIT_FUSE_MOV_SWAP16) {
		x86_movzx_rr(&st->e, 2, dst, src);
		if (SL_OP_CLASS(op->code) == BPF_ALU64 || SL_OP_SRC(op->code) == BPF_TO_BE)
			x86_rol16_8(&st->e, dst);
	}
}

static void emit_fused(struct jit_state *st, const struct bpf_insn *in, uint8_t fuse)
{
	int dst = st->rmap[in->dst_reg];

	if (fuse == JIT_FUSE_ROL)
		x86_shift_ri(&st->e, true, SH_ROL, dst,
			     (uint8_t)(SL_OP_CODE(in->code) == BPF_LSH ? in->imm : 64 - in->imm));
	else if (fuse == JIT_FUSE_ROL32)
		x86_shift_ri(&st->e, false, SH_ROL, dst,
			     (uint8_t)(SL_OP_CODE(in->code) == BPF_LSH ? in->imm : 32 - in->imm));
	else if (fuse == JIT_FUSE_NOP)
		;
	else if (fuse == JIT_FUSE_SETCC_ZERO)
		x86_alu_rr(&st->e, false, ALU_XOR, dst, dst);
	else if (fuse == JIT_FUSE_MASK_SHR)
		x86_shift_ri(&st->e, false, SH_SHR, dst, (uint8_t)in[1].imm);
	else if (fuse == JIT_FUSE_LOAD_IDX)                           /* load [rB + rA*s + off] */
		x86_load_index(&st->e, sl_isa_size_bytes(in->code), dst, st->rmap[in->src_reg],
			       st->rmap[in[-1].src_reg], st->fuse[st->prog->n_insns + st->pc], in->off);
	else if (fuse == JIT_FUSE_CMOV)
		emit_cmov(st, in);
	else if (fuse == JIT_FUSE_CMOV_JT)
		emit_cmov_over(st, in);
	else if (fuse == JIT_FUSE_ZEXT)
		x86_mov_rr(&st->e, false, dst, dst);
	else if (fuse == JIT_FUSE_BE16_HI || fuse == JIT_FUSE_BE16_LO) {
		uint8_t shift = st->fuse[st->prog->n_insns + st->pc];

		x86_load(&st->e, 2, dst, st->rmap[in->src_reg],
			 in->off - (fuse == JIT_FUSE_BE16_LO ? 1 : 0));
		if (!(shift & JIT_BE16_LE))
			x86_rol16_8(&st->e, dst);                 /* be16: rol r16, 8 */
		if (shift & ~JIT_BE16_LE)
			x86_shift_ri(&st->e, true, SH_SHL, dst, shift & ~JIT_BE16_LE);
	}
	else if (fuse == JIT_FUSE_ADC) {
		x86_alu_rr(&st->e, false, ALU_ADD, dst, st->rmap[in->src_reg]);
		x86_alu_ri(&st->e, false, ALU_ADC, dst, 0);
	} else if (fuse == JIT_FUSE_LEA)
		x86_lea_index(&st->e, SL_OP_CLASS(in->code) == BPF_ALU64, dst, dst, dst,
			      (unsigned)in->imm - 1, in[1].imm);
	else
		emit_fused_mov(st, in, fuse);
}

/*
 * TEST_K's compare: "test rX, K" for the AND @p arg (bits 0-6) instructions
 * back; with bit 7, "test size [m], K" for the load before that AND (the
 * loaded value is zero-extended, so the test of its bytes decides alike).
 */
static void emit_test_k(struct jit_state *st, const struct bpf_insn *in, uint8_t arg)
{
	const struct bpf_insn *and = in - (arg & 0x7f), *ld = and - 1;
	bool w64 = SL_OP_CLASS(and->code) == BPF_ALU64 && is_w64(in);
	unsigned size = sl_isa_size_bytes(ld->code);
	int32_t off = ld->off;
	int base;

	if (!(arg & 0x80)) {
		x86_test_ri(&st->e, w64, st->rmap[in->dst_reg], and->imm);
		return;
	}
	base = mem_base(st, ld->src_reg, &off);
	x86_test_mi(&st->e, size == 8 && !w64 ? 4 : size, base, off, and->imm);
}

/* "rC = 1; if (cond) goto +1; rC = 0": rC is zero (SETCC_ZERO); compare, setcc rC8. */
static int emit_setcc(struct jit_state *st, const struct bpf_insn *in)
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
	x86_setcc(&st->e, (enum x86_cc)cc, st->rmap[in[-1].dst_reg]);
	return 0;
}

/* "if rX ==|!= 0" right after the add/sub/and/or/xor that computed rX: its ZF decides. */
static int emit_jz_flags(struct jit_state *st, const struct bpf_insn *in)
{
	int64_t target = (int64_t)st->pc + 1 + in->off;

	if (target < st->sub->start || target >= st->sub->end)
		return jit_fail(st, -EINVAL, "jump to pc %lld leaves the function [%u, %u)",
				(long long)target, st->sub->start, st->sub->end);
	target = thread_jump(st, target);
	if (target != st->pc + 1)
		emit_branch(st, SL_OP_CODE(in->code) == BPF_JEQ ? CC_E : CC_NE, st->addrs[target]);
	return 0;
}

/*
 * An ALU operation with a register holding a constant: the same with the
 * immediate; a 64-bit AND with a constant in [2^31, 2^32) as "and r32".
 */
static int emit_alu_k(struct jit_state *st, const struct bpf_insn *in)
{
	struct bpf_insn t = *in;
	bool swapped;
	int64_t v = jit_cmp_k(st->prog, st->fuse, st->pc, &swapped);

	t.code = (uint8_t)(SL_OP_CLASS(in->code) | BPF_K | SL_OP_CODE(in->code));
	t.imm = (int32_t)v;
	t.src_reg = 0;
	return alu_simple(st, &t, SL_OP_CLASS(in->code) == BPF_ALU64 && v == (int64_t)(int32_t)v);
}

/* A jump on a register holding a constant: the same jump with the immediate (mirrored). */
static int emit_cmp_k(struct jit_state *st, const struct bpf_insn *in)
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
	return do_jmp(st, &t);
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
	return thread_jump(st, target);
}

/*
 * fuse_late.c's jumps: JMP32 (a 32-bit compare of the zero-extended
 * copy's source), TEST_K ("test rX, K" for the AND before), MEM_CMP
 * ("cmp|test size [m], imm" for the load before).
 */
static int emit_late_jump(struct jit_state *st, const struct bpf_insn *in, uint8_t fuse)
{
	uint8_t arg = st->fuse[st->prog->n_insns + st->pc], op = SL_OP_CODE(in->code);
	int64_t target = cond_target(st, in);
	struct bpf_insn t = *in;

	if (target < 0)
		return st->log.err;
	if (fuse == JIT_FUSE_JMP32) {
		t.code = (uint8_t)(BPF_JMP32 | op | BPF_K);
		t.dst_reg = arg;
		return do_jmp(st, &t);
	}
	if (target == st->pc + 1)
		return 0;
	if (fuse == JIT_FUSE_TEST_K) {
		emit_test_k(st, in, arg);
	} else {                                                  /* MEM_CMP */
		const struct bpf_insn *ld = in - 1;
		unsigned size = sl_isa_size_bytes(ld->code);
		int32_t off = ld->off;
		int base = mem_base(st, ld->src_reg, &off);

		if (size == 8 && !is_w64(in))
			size = 4;                                 /* the low half */
		if (op == BPF_JSET)
			x86_test_mi(&st->e, size, base, off, in->imm);
		else
			x86_alu_mi(&st->e, size, ALU_CMP, base, off, in->imm);
	}
	emit_branch(st, (enum x86_cc)jmp_ccs[op >> 4], st->addrs[target]);
	return 0;
}

/* fuse_late.c's MEM_ALU at a load: "op size [m], imm" for the load, the operation and the store. */
static void emit_mem_alu(struct jit_state *st, const struct bpf_insn *ld)
{
	static const uint8_t alu_of[16] = {
		[BPF_ADD >> 4] = ALU_ADD, [BPF_SUB >> 4] = ALU_SUB, [BPF_AND >> 4] = ALU_AND,
		[BPF_OR >> 4] = ALU_OR, [BPF_XOR >> 4] = ALU_XOR,
	};
	int32_t off = ld->off;
	int base = mem_base(st, ld->src_reg, &off);

	x86_alu_mi(&st->e, sl_isa_size_bytes(ld->code), (enum x86_alu)alu_of[SL_OP_CODE(ld[1].code) >> 4],
		   base, off, ld[1].imm);
}

/* A store of a register holding a constant (ST_K): the store of the immediate. */
static int emit_st_k(struct jit_state *st, const struct bpf_insn *in)
{
	struct bpf_insn t = *in;
	bool swapped;

	t.code = (uint8_t)(BPF_ST | BPF_MEM | SL_OP_SIZE(in->code));
	t.imm = (int32_t)jit_cmp_k(st->prog, st->fuse, st->pc, &swapped);
	t.src_reg = 0;
	return do_st(st, &t);
}

/* The code of instruction @p in at st->pc: fused, absorbed or plain. 0 or -errno. */
static int emit_insn(struct jit_state *st, const struct bpf_insn *in)
{
	uint8_t f = st->fuse[st->pc];

	if (st->dead[st->pc] || (st->sink[st->pc] & JIT_SINK_MOV))
		return 0;                          /* nothing reads it, or the landing block makes it */
	if (f == JIT_FUSE_CMP_K || f == JIT_FUSE_CMP_K32)
		return emit_cmp_k(st, in) ? st->log.err : 0;
	if (f == JIT_FUSE_ALU_K)
		return emit_alu_k(st, in) ? st->log.err : 0;
	if (f == JIT_FUSE_SETCC)
		return emit_setcc(st, in) ? st->log.err : 0;
	if (f == JIT_FUSE_JZ_FLAGS)
		return emit_jz_flags(st, in) ? st->log.err : 0;
	if (f == JIT_FUSE_JMP32 || f == JIT_FUSE_TEST_K || f == JIT_FUSE_MEM_CMP)
		return emit_late_jump(st, in, f) ? st->log.err : 0;
	if (f == JIT_FUSE_ST_K)
		return emit_st_k(st, in) ? st->log.err : 0;
	if (f == JIT_FUSE_MEM_ALU)
		emit_mem_alu(st, in);
	else if (f && f != JIT_FUSE_INLINE_CALL)
		emit_fused(st, in, f);
	else if (class_table[SL_OP_CLASS(in->code)](st, in))
		return st->log.err;
	return 0;
}

/* The moves sunk into the jump at @p j (sink.c): those marked in the run of instructions before it. */
static void emit_sunk_moves(struct jit_state *st, uint32_t j)
{
	const struct bpf_insn *insns = st->prog->insns;
	uint32_t k = j;

	while (k > st->sub->start && SL_OP_CLASS(insns[k - 1].code) != BPF_JMP &&
	       SL_OP_CLASS(insns[k - 1].code) != BPF_JMP32 && j - (k - 1) <= 16)
		k--;
	for (; k < j; k++) {
		if (!(st->sink[k] & JIT_SINK_MOV))
			continue;
		st->pc = k;
		do_alu(st, &insns[k]);
	}
	st->pc = j;
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
		int64_t t, x;

		st->sub = st->landing_subs[i];                 /* the host, or a function in place */
		t = thread_jump(st, (int64_t)j + 1 + insns[j].off);
		st->new_landing[j] = (uint32_t)st->e.len;
		emit_sunk_moves(st, j);
		x = st->sub->epi_size <= JIT_INLINE_EPILOGUE && st->sub->inline_call < 0 ?
		    jit_exit_block(st->prog, (uint32_t)t, st->sub->end) : -1;
		for (int64_t pc = t; pc < x; pc++) {
			st->pc = (uint32_t)pc;
			if (emit_insn(st, &insns[pc]))
				return st->log.err;
		}
		st->pc = j;
		if (x >= 0) {
			emit_epilogue(st, true);
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

/* The instructions of function @p s, from st->e.len on (in its host's frame and registers). */
static int emit_range(struct jit_state *st, struct jit_sub *s)
{
	const struct bpf_insn *insns = st->prog->insns;

	for (uint32_t pc = s->start; pc < s->end; pc++) {
		const struct bpf_insn *in = &insns[pc];

		st->pc = pc;
		st->new_addrs[pc] = (uint32_t)st->e.len;
		if (in->dst_reg >= SL_NREGS || in->src_reg >= SL_NREGS)
			return jit_fail(st, -EINVAL, "invalid register (opcode 0x%02x)", in->code);
		st->landing_taken = false;
		if (emit_insn(st, in))
			return st->log.err;
		if (st->sink[pc] & JIT_SINK_JUMP) {
			if (st->landing_taken) {                        /* its landing block after the epilogue */
				st->landing_subs[st->nlandings] = s;
				st->landing_pcs[st->nlandings++] = pc;
			} else {
				emit_sunk_moves(st, pc);             /* no branch after all: in place */
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

/* A call of function @p t emitted in place (inline.c): its body, which returns by falling out. */
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
	if (emit_range(st, s))
		return st->log.err;
	s->new_epi = (uint32_t)st->e.len;
	if (st->burst && s == &st->subs[0])
		st->burst->tail(st);                /* burst.c: epilogue, then the loop's test */
	else
		emit_epilogue(st, true);
	return emit_landings(st);
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
	for (uint32_t pc = 0; st->fuse && pc < n; pc++)
		if (jit_array_lookup_inlined(st, pc))
			st->fuse[pc] = JIT_FUSE_INLINE_CALL;  /* reads only r2 (liveness) */
	st->dead = st->fuse ? jit_dead_code(st->prog, st->fuse, &live) : NULL;
	fuse0 = st->dead ? malloc(2 * n) : NULL;
	if (fuse0)
		memcpy(fuse0, st->fuse, 2 * n);           /* the fusions @p live was computed on */
	if (st->dead) {
		jit_fuse_indexed(st->prog, st->fuse, st->dead, live);
		jit_fuse_carry(st->prog, st->fuse, st->dead, live);
		jit_fuse_late(st->prog, st->fuse, st->dead, live);
	}
	st->live = live;
	st->targets = jit_jump_targets(st->prog);
	st->sink = fuse0 && st->targets ?
		   jit_sink_moves(st->prog, fuse0, st->fuse, st->dead, live, st->targets) : NULL;
	free(fuse0);
	st->landing = calloc(n, sizeof(uint32_t));
	st->landing_end = calloc(n, sizeof(uint32_t));
	st->new_landing = calloc(n, sizeof(uint32_t));
	st->new_landing_end = calloc(n, sizeof(uint32_t));
	st->landing_pcs = calloc(n, sizeof(uint32_t));
	st->landing_subs = calloc(n, sizeof(*st->landing_subs));
	st->low = st->fuse ? jit_low_only(st->prog, st->fuse) : NULL;
	st->hi_zero = jit_hi_zero(st->prog);
	st->fits16 = jit_fits(st->prog, 16);
	if (!st->addrs || !st->ends || !st->new_addrs || !st->new_ends || !st->fuse || !st->dead ||
	    !st->low || !st->hi_zero || !st->fits16 || !st->live || !st->targets || !st->sink || !st->landing ||
	    !st->landing_end || !st->new_landing || !st->new_landing_end || !st->landing_pcs || !st->landing_subs)
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
	size_t size;

	init_state(&st, prog, opts, log, log_len);
	if (!sl_opts_valid(opts, sizeof(*opts))) {
		jit_fail(&st, -EINVAL, "sl_jit_opts: sz %zu asks for options this sluice does not "
			 "know (bytes past %zu not zero)", opts->sz, sizeof(*opts));
	} else if (!prog || !prog->insns || !prog->n_insns || prog->n_insns > SL_MAX_INSNS) {
		jit_fail(&st, -EINVAL, "empty or oversized program");
	} else if (!prog->verified) {
		jit_fail(&st, -EINVAL, "program '%s' is not verified", prog->name);
	} else if (!alloc_state(&st) && !jit_find_subs(&st) && !jit_find_inlines(&st)) {
		jit_layout_subs(&st);
		st.burst = burst;
		size = burst && burst->prepare(&st) ? 0 : converge(&st);
		if (size)
			jit = emit_final(&st, size);
		tail_calls = st.tail_calls;
	}
	free_state(&st);
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
