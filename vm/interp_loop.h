/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The interpreter's run loop, as a template included twice:
 *   interp_fast.c     SL_VM_CHECKED 0  verified programs: no run-time checks
 *   interp_checked.c  SL_VM_CHECKED 1  every access, helper argument, tail
 *                                      call and the instruction count checked
 * The includer defines SL_VM_CHECKED and SL_VM_RUN_FN; the checked one also
 * provides struct vm_chk and the vm_chk_* functions used below.
 *
 * Threaded dispatch: each handler ends with "goto *labels[d->op]" on the
 * next pre-decoded instruction, so every handler has its own indirect
 * branch (well predicted, unlike one shared switch). Frames: r10 of frame k
 * is the top of its own 512-byte slice of one array; a local call saves the
 * return point and r6-r9. Worker or any thread; no allocation, no logging:
 * the program and its tail-call targets run from the vm_code that
 * sl_vm_prepare() built on the control thread (sl_prog_verify() does it);
 * a missing or stale one is an error, never prepared here.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "sl_helpers.h"
#include "sl_maps.h"
#include "vm_internal.h"

#ifndef SL_VM_LOOP_COMMON
#define SL_VM_LOOP_COMMON

static inline uint64_t div64(uint64_t a, uint64_t b) { return b ? a / b : 0; }
static inline uint64_t mod64(uint64_t a, uint64_t b) { return b ? a % b : a; }
static inline uint32_t div32(uint32_t a, uint32_t b) { return b ? a / b : 0; }
static inline uint32_t mod32(uint32_t a, uint32_t b) { return b ? a % b : a; }

static inline uint64_t sdiv64(uint64_t a, uint64_t b)
{
	if (!b)
		return 0;
	if ((int64_t)b == -1)
		return -a;  /* INT64_MIN / -1 = INT64_MIN */
	return (uint64_t)((int64_t)a / (int64_t)b);
}

static inline uint64_t smod64(uint64_t a, uint64_t b)
{
	if (!b)
		return a;
	if ((int64_t)b == -1)
		return 0;
	return (uint64_t)((int64_t)a % (int64_t)b);
}

static inline uint32_t sdiv32(uint32_t a, uint32_t b)
{
	if (!b)
		return 0;
	if ((int32_t)b == -1)
		return -a;
	return (uint32_t)((int32_t)a / (int32_t)b);
}

static inline uint32_t smod32(uint32_t a, uint32_t b)
{
	if (!b)
		return a;
	if ((int32_t)b == -1)
		return 0;
	return (uint32_t)((int32_t)a % (int32_t)b);
}

/* Big-endian packet loads of LD_ABS / LD_IND. */
static inline uint64_t be_load(const uint8_t *p, unsigned size)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < size; i++)
		v = (v << 8) | p[i];
	return v;
}

/* Turn "reason" into "pc N: reason" in place. */
static inline void vm_prefix_pc(char *msg, size_t len, uint32_t pc)
{
	char head[16];
	int n = snprintf(head, sizeof(head), "pc %u: ", pc);
	size_t keep = strnlen(msg, len - 1);

	if (n <= 0 || (size_t)n >= len)
		return;
	if (keep > len - 1 - (size_t)n)
		keep = len - 1 - (size_t)n;
	memmove(msg + n, msg, keep);
	memcpy(msg, head, (size_t)n);
	msg[n + keep] = '\0';
}

/* Saved state of a caller across a bpf-to-bpf call. */
struct vm_frame {
	const struct sl_vm_insn *ret;   /* instruction after the call */
	const struct sl_vm_insn *base;  /* caller's code (it may differ after a tail call) */
	const struct sl_prog *prog;
	uint64_t callee_saved[4];       /* r6-r9 */
};

#define VM_LIKELY(x) __builtin_expect(!!(x), 1)
#define VM_UNLIKELY(x) __builtin_expect(!!(x), 0)

#endif /* SL_VM_LOOP_COMMON */

#define DST reg[d->dst]
#define SRC reg[d->src]
#define IMM d->imm
#define ADDR_DST ((uint64_t)(DST + (uint64_t)(int64_t)d->off))
#define ADDR_SRC ((uint64_t)(SRC + (uint64_t)(int64_t)d->off))
#define PTR(a) ((void *)(uintptr_t)(a))

#if SL_VM_CHECKED
#define DISPATCH() do { if (VM_UNLIKELY(--budget == 0)) goto out_of_budget; \
			goto *labels[d->op]; } while (0)
#else
#define DISPATCH() goto *d->handler   /* direct threading: label stored by sl_vm_prepare */
#endif
#define NEXT() do { d++; DISPATCH(); } while (0)
#define JUMP() do { d = base + d->off; DISPATCH(); } while (0)
#define FAULT(e, ...) do { res->err = (e); \
	snprintf(res->msg, sizeof(res->msg), __VA_ARGS__); goto fault; } while (0)

#define ALU2(NAME, OP) \
	L_##NAME##64_K: DST = DST OP IMM; NEXT(); \
	L_##NAME##64_X: DST = DST OP SRC; NEXT(); \
	L_##NAME##32_K: DST = (uint32_t)((uint32_t)DST OP (uint32_t)IMM); NEXT(); \
	L_##NAME##32_X: DST = (uint32_t)((uint32_t)DST OP (uint32_t)SRC); NEXT();
#define ALUF(NAME, F64, F32) \
	L_##NAME##64_K: DST = F64(DST, IMM); NEXT(); \
	L_##NAME##64_X: DST = F64(DST, SRC); NEXT(); \
	L_##NAME##32_K: DST = F32((uint32_t)DST, (uint32_t)IMM); NEXT(); \
	L_##NAME##32_X: DST = F32((uint32_t)DST, (uint32_t)SRC); NEXT();
#define SHIFTS(NAME, E64, E32) \
	L_##NAME##64_K: DST = E64(IMM & 63); NEXT(); \
	L_##NAME##64_X: DST = E64(SRC & 63); NEXT(); \
	L_##NAME##32_K: DST = E32(IMM & 31); NEXT(); \
	L_##NAME##32_X: DST = E32(SRC & 31); NEXT();
#define LSH64(s) (DST << (s))
#define LSH32(s) (uint32_t)((uint32_t)DST << (s))
#define RSH64(s) (DST >> (s))
#define RSH32(s) (uint32_t)((uint32_t)DST >> (s))
#define ARSH64(s) (uint64_t)((int64_t)DST >> (s))
#define ARSH32(s) (uint32_t)((int32_t)DST >> (s))

#define JCC(NAME, OP, T64, T32) \
	L_##NAME##64_K: if ((T64)DST OP (T64)IMM) JUMP(); NEXT(); \
	L_##NAME##64_X: if ((T64)DST OP (T64)SRC) JUMP(); NEXT(); \
	L_##NAME##32_K: if ((T32)DST OP (T32)IMM) JUMP(); NEXT(); \
	L_##NAME##32_X: if ((T32)DST OP (T32)SRC) JUMP(); NEXT();

#if SL_VM_CHECKED
#define LDX(NAME, T, EXT) L_##NAME: { uint64_t v_; \
	int r_ = vm_chk_load(&ck, ADDR_SRC, sizeof(T), &v_); \
	if (r_ < 0) goto fault; \
	DST = r_ ? v_ : (uint64_t)(EXT)(T)v_; } NEXT();
#define STORE(NAME, T, VAL) L_##NAME: { T v_ = (T)(VAL); \
	if (vm_chk_store(&ck, ADDR_DST, sizeof(T))) goto fault; \
	memcpy(PTR(ADDR_DST), &v_, sizeof(T)); } NEXT();
#define CHK_ATOMIC(T) if (vm_chk_atomic(&ck, ADDR_DST, sizeof(T))) goto fault
#else
#define LDX(NAME, T, EXT) L_##NAME: { T v_; memcpy(&v_, PTR(ADDR_SRC), sizeof(T)); \
	DST = (uint64_t)(EXT)v_; } NEXT();
#define STORE(NAME, T, VAL) L_##NAME: { T v_ = (T)(VAL); \
	memcpy(PTR(ADDR_DST), &v_, sizeof(T)); } NEXT();
#define CHK_ATOMIC(T) do { } while (0)
#endif

#define ATOMICS(W, T) \
	L_AADD##W: CHK_ATOMIC(T); __atomic_fetch_add((T *)PTR(ADDR_DST), (T)SRC, __ATOMIC_SEQ_CST); NEXT(); \
	L_AOR##W: CHK_ATOMIC(T); __atomic_fetch_or((T *)PTR(ADDR_DST), (T)SRC, __ATOMIC_SEQ_CST); NEXT(); \
	L_AAND##W: CHK_ATOMIC(T); __atomic_fetch_and((T *)PTR(ADDR_DST), (T)SRC, __ATOMIC_SEQ_CST); NEXT(); \
	L_AXOR##W: CHK_ATOMIC(T); __atomic_fetch_xor((T *)PTR(ADDR_DST), (T)SRC, __ATOMIC_SEQ_CST); NEXT(); \
	L_AFADD##W: CHK_ATOMIC(T); SRC = __atomic_fetch_add((T *)PTR(ADDR_DST), (T)SRC, __ATOMIC_SEQ_CST); NEXT(); \
	L_AFOR##W: CHK_ATOMIC(T); SRC = __atomic_fetch_or((T *)PTR(ADDR_DST), (T)SRC, __ATOMIC_SEQ_CST); NEXT(); \
	L_AFAND##W: CHK_ATOMIC(T); SRC = __atomic_fetch_and((T *)PTR(ADDR_DST), (T)SRC, __ATOMIC_SEQ_CST); NEXT(); \
	L_AFXOR##W: CHK_ATOMIC(T); SRC = __atomic_fetch_xor((T *)PTR(ADDR_DST), (T)SRC, __ATOMIC_SEQ_CST); NEXT(); \
	L_AXCHG##W: CHK_ATOMIC(T); SRC = __atomic_exchange_n((T *)PTR(ADDR_DST), (T)SRC, __ATOMIC_SEQ_CST); NEXT(); \
	L_ACMPXCHG##W: CHK_ATOMIC(T); { T old_ = (T)reg[0]; \
		__atomic_compare_exchange_n((T *)PTR(ADDR_DST), &old_, (T)SRC, false, \
					    __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST); \
		reg[0] = old_; } NEXT();

#define LDPKT(NAME, SIZE, OFF) L_##NAME: { \
	const struct sl_skb_ctx *s_ = (const struct sl_skb_ctx *)PTR(reg[6]); \
	int64_t o_ = (OFF); \
	CHK_LDABS(); \
	if (o_ < 0 || (uint64_t)o_ + SIZE > s_->pkt_len) \
		goto ldabs_out; \
	reg[0] = be_load(s_->pkt + o_, SIZE); } NEXT();

#if SL_VM_CHECKED
#define CHK_LDABS() if (vm_chk_ldabs(&ck, reg[6])) goto fault
#else
#define CHK_LDABS() do { } while (0)
#endif

#define SL_VM_LABEL(name) [SL_VM_OP_##name] = &&L_##name,

uint64_t SL_VM_RUN_FN(const struct sl_prog *prog, void *ctx,
		      const struct sl_vm_run_opts *opts, struct sl_vm_result *res)
{
	static const void *const labels[SL_VM_OP_COUNT] = { SL_VM_OPS(SL_VM_LABEL) };
	uint8_t stack[SL_MAX_CALL_DEPTH * SL_STACK_SIZE] __attribute__((aligned(16)));
	uint8_t *const stack_top = stack + sizeof(stack);
	struct vm_frame frames[SL_MAX_CALL_DEPTH];
	const struct sl_vm_code *code;
	const struct sl_vm_insn *base, *d;
	const struct sl_prog *cur = prog;
	unsigned depth = 0, tail_calls = 0;
	uint64_t reg[SL_NREGS];
#if SL_VM_CHECKED
	uint32_t budget = SL_VM_CHECKED_BUDGET + 1;
	struct vm_chk ck;
#endif

#if !SL_VM_CHECKED
	if (VM_UNLIKELY(!prog))
		return (uint64_t)(uintptr_t)labels;
#endif
	/*
	 * Fresh code is the callers' promise, not checked again here: sl_vm_exec()
	 * checks (and prepares on the control thread) before it calls a loop, and
	 * a callback runs the program whose run is calling it.
	 */
	code = prog->vm_code;
	base = d = code->insns_d;
	/* Individual stores: cheaper than a memset of the array for every run. */
	reg[0] = 0;
	reg[3] = reg[4] = reg[5] = 0;
	reg[6] = reg[7] = reg[8] = reg[9] = 0;
	reg[1] = (uint64_t)(uintptr_t)(ctx ? ctx : (prog->type == SL_PROG_RAW ? opts->mem : NULL));
	reg[2] = prog->type == SL_PROG_RAW ? opts->mem_len : 0;
	reg[10] = (uint64_t)(uintptr_t)stack_top;
	if (opts->entry_pc) {   /* a callback (bpf_loop): the verifier proved the entry */
		d = base + opts->entry_pc;
		reg[1] = opts->entry_r1;
		reg[2] = opts->entry_r2;
	}
#if SL_VM_CHECKED
	memset(stack, 0, sizeof(stack));
	vm_chk_init(&ck, prog, PTR(reg[1]), opts, stack, stack_top);
	ck.res = res;
#endif
	DISPATCH();

	ALU2(ADD, +) ALU2(SUB, -) ALU2(MUL, *) ALU2(OR, |) ALU2(AND, &) ALU2(XOR, ^)
	ALUF(DIV, div64, div32) ALUF(MOD, mod64, mod32)
	ALUF(SDIV, sdiv64, sdiv32) ALUF(SMOD, smod64, smod32)
	SHIFTS(LSH, LSH64, LSH32) SHIFTS(RSH, RSH64, RSH32) SHIFTS(ARSH, ARSH64, ARSH32)
	/* mov rA, rB; rA op= K / rC  ->  rA = rB op K / rC, then skip both */
#define FUSED(NAME, E) \
	L_M##NAME##_K: { uint64_t a_ = SRC, b_ = IMM; DST = (E); d += 2; DISPATCH(); } \
	L_M##NAME##_X: { uint64_t a_ = SRC, b_ = reg[d->off]; DST = (E); d += 2; DISPATCH(); }
	FUSED(ADD, a_ + b_) FUSED(SUB, a_ - b_) FUSED(MUL, a_ * b_)
	FUSED(OR, a_ | b_) FUSED(AND, a_ & b_) FUSED(XOR, a_ ^ b_)
	FUSED(LSH, a_ << (b_ & 63)) FUSED(RSH, a_ >> (b_ & 63))
	FUSED(ARSH, (uint64_t)((int64_t)a_ >> (b_ & 63)))
#undef FUSED
	/* lddw rT, C; rD op= rT  ->  rT = C, rD op= C (D in off), then skip all three slots */
#define FUSED(NAME, OP) \
	L_L##NAME: reg[d->dst] = IMM; reg[d->off] = reg[d->off] OP IMM; d += 3; DISPATCH();
	FUSED(ADD, +) FUSED(SUB, -) FUSED(MUL, *) FUSED(OR, |) FUSED(AND, &) FUSED(XOR, ^)
#undef FUSED
	/* pairs on one register (second operand in src / off), then skip both */
L_LSH_OR: DST <<= IMM & 63; DST |= SRC; d += 2; DISPATCH();
L_RSH_OR: DST >>= IMM & 63; DST |= SRC; d += 2; DISPATCH();
L_MUL_ADD: DST = DST * IMM + (uint64_t)(int64_t)d->off; d += 2; DISPATCH();
	/* dst = B (the mov's dst), src = A; rB = rA >> K; then rA ^= rB, or rA = rA << K2 | rB */
L_XOR_SHR: { uint64_t t_ = SRC >> (IMM & 63); DST = t_; SRC ^= t_; d += 3; DISPATCH(); }
L_ROTATE: { uint64_t a_ = SRC, t_ = a_ >> (IMM & 63); DST = t_;
	SRC = (a_ << (d->off & 63)) | t_; d += 4; DISPATCH(); }
#if SL_VM_CHECKED
L_LDXH_BE16: { uint64_t v_; if (vm_chk_load(&ck, ADDR_SRC, 2, &v_) < 0) goto fault;
	DST = __builtin_bswap16((uint16_t)v_); d += 2; DISPATCH(); }
L_LDXW_BE32: { uint64_t v_; if (vm_chk_load(&ck, ADDR_SRC, 4, &v_) < 0) goto fault;
	DST = __builtin_bswap32((uint32_t)v_); d += 2; DISPATCH(); }
#else
L_LDXH_BE16: { uint16_t v_; memcpy(&v_, PTR(ADDR_SRC), 2); DST = __builtin_bswap16(v_);
	d += 2; DISPATCH(); }
L_LDXW_BE32: { uint32_t v_; memcpy(&v_, PTR(ADDR_SRC), 4); DST = __builtin_bswap32(v_);
	d += 2; DISPATCH(); }
#endif
L_MOV64_K: DST = IMM; NEXT();
L_MOV64_X: DST = SRC; NEXT();
L_MOV32_K: DST = (uint32_t)IMM; NEXT();
L_MOV32_X: DST = (uint32_t)SRC; NEXT();
L_NEG64: DST = -DST; NEXT();
L_NEG32: DST = (uint32_t)-(uint32_t)DST; NEXT();
L_MOVSX8_64: DST = (uint64_t)(int64_t)(int8_t)SRC; NEXT();
L_MOVSX16_64: DST = (uint64_t)(int64_t)(int16_t)SRC; NEXT();
L_MOVSX32_64: DST = (uint64_t)(int64_t)(int32_t)SRC; NEXT();
L_MOVSX8_32: DST = (uint32_t)(int32_t)(int8_t)SRC; NEXT();
L_MOVSX16_32: DST = (uint32_t)(int32_t)(int16_t)SRC; NEXT();
L_ZEXT16: DST = (uint16_t)DST; NEXT();
L_ZEXT32: DST = (uint32_t)DST; NEXT();
L_NOP: NEXT();
L_BSWAP16: DST = __builtin_bswap16((uint16_t)DST); NEXT();
L_BSWAP32: DST = __builtin_bswap32((uint32_t)DST); NEXT();
L_BSWAP64: DST = __builtin_bswap64(DST); NEXT();

	JCC(JEQ, ==, uint64_t, uint32_t) JCC(JNE, !=, uint64_t, uint32_t)
	JCC(JGT, >, uint64_t, uint32_t) JCC(JGE, >=, uint64_t, uint32_t)
	JCC(JLT, <, uint64_t, uint32_t) JCC(JLE, <=, uint64_t, uint32_t)
	JCC(JSGT, >, int64_t, int32_t) JCC(JSGE, >=, int64_t, int32_t)
	JCC(JSLT, <, int64_t, int32_t) JCC(JSLE, <=, int64_t, int32_t)
L_JSET64_K: if (DST & IMM) JUMP(); NEXT();
L_JSET64_X: if (DST & SRC) JUMP(); NEXT();
L_JSET32_K: if ((uint32_t)DST & (uint32_t)IMM) JUMP(); NEXT();
L_JSET32_X: if ((uint32_t)DST & (uint32_t)SRC) JUMP(); NEXT();
L_JA: JUMP();

	LDX(LDXB, uint8_t, uint64_t) LDX(LDXH, uint16_t, uint64_t)
	LDX(LDXW, uint32_t, uint64_t) LDX(LDXDW, uint64_t, uint64_t)
	LDX(LDXSB, int8_t, int64_t) LDX(LDXSH, int16_t, int64_t) LDX(LDXSW, int32_t, int64_t)
	STORE(STB, uint8_t, IMM) STORE(STH, uint16_t, IMM)
	STORE(STW, uint32_t, IMM) STORE(STDW, uint64_t, IMM)
	STORE(STXB, uint8_t, SRC) STORE(STXH, uint16_t, SRC)
	STORE(STXW, uint32_t, SRC) STORE(STXDW, uint64_t, SRC)
	ATOMICS(32, uint32_t) ATOMICS(64, uint64_t)
L_LDDW: DST = IMM; d += 2; DISPATCH();
	LDPKT(LDABSB, 1, (int64_t)(int32_t)IMM)
	LDPKT(LDABSH, 2, (int64_t)(int32_t)IMM)
	LDPKT(LDABSW, 4, (int64_t)(int32_t)IMM)
	LDPKT(LDINDB, 1, (int64_t)(int32_t)((uint32_t)SRC + (uint32_t)IMM))
	LDPKT(LDINDH, 2, (int64_t)(int32_t)((uint32_t)SRC + (uint32_t)IMM))
	LDPKT(LDINDW, 4, (int64_t)(int32_t)((uint32_t)SRC + (uint32_t)IMM))

L_CALL_HELPER:
#if SL_VM_CHECKED
	if (vm_chk_helper_args(&ck, cur, (uint32_t)(d - base), reg))
		goto fault;
#endif
	reg[0] = ((sl_helper_fn)PTR(IMM))(reg[1], reg[2], reg[3], reg[4], reg[5]);
#if SL_VM_CHECKED
	vm_chk_helper_ret(&ck, cur, (uint32_t)(d - base), reg);
	if (VM_UNLIKELY(res->err))   /* a callback the helper called faulted */
		goto fault;
#endif
	NEXT();

L_CALL_LOCAL:
	if (VM_UNLIKELY(depth + 1 >= SL_MAX_CALL_DEPTH))
		FAULT(-E2BIG, "call depth exceeds %u frames", SL_MAX_CALL_DEPTH);
	frames[depth] = (struct vm_frame){ d + 1, base, cur,
					   { reg[6], reg[7], reg[8], reg[9] } };
	depth++;
	reg[10] = (uint64_t)(uintptr_t)(stack_top - depth * SL_STACK_SIZE);
#if SL_VM_CHECKED
	ck.depth = depth;
#endif
	JUMP();

L_EXIT:
	if (depth == 0) {
		res->r0 = reg[0];
		return reg[0];
	}
	depth--;
	memcpy(&reg[6], frames[depth].callee_saved, sizeof(frames[depth].callee_saved));
	reg[10] = (uint64_t)(uintptr_t)(stack_top - depth * SL_STACK_SIZE);
	d = frames[depth].ret;
	base = frames[depth].base;
	cur = frames[depth].prog;
#if SL_VM_CHECKED
	ck.depth = depth;
#endif
	DISPATCH();

L_TAIL_CALL: {
	const struct sl_prog *t = NULL;
	const struct sl_vm_code *tc;

#if SL_VM_CHECKED
	if (vm_chk_tail_call(&ck, cur, (uint32_t)(d - base), reg))
		goto fault;
#endif
	if (tail_calls < SL_VM_MAX_TAIL_CALLS)
		t = sl_map_prog_array_get((struct sl_map *)PTR(reg[2]), (uint32_t)reg[3]);
	if (!t) {
		reg[0] = (uint64_t)(int64_t)-ENOENT;
		NEXT();
	}
#if SL_VM_CHECKED
	if (t->type != prog->type)
		FAULT(-EINVAL, "tail call into a program of another type");
#endif
	tc = VM_LIKELY(vm_code_fresh(t)) ? t->vm_code : NULL;
	if (VM_UNLIKELY(!tc))
		FAULT(-EINVAL, "tail call target not prepared for the interpreter (sl_vm_prepare)");
	tail_calls++;
	cur = t;
	base = d = tc->insns_d;
	DISPATCH();
}

L_FALLOFF:
	FAULT(-EINVAL, "fell off the end of the program");

ldabs_out:
	/* Out-of-bounds LD_ABS/LD_IND ends the program with r0 = 0, as in the kernel. */
	res->r0 = 0;
	return 0;
#if SL_VM_CHECKED
out_of_budget:
	res->err = -E2BIG;
	snprintf(res->msg, sizeof(res->msg), "instruction limit exceeded (%u instructions)",
		 SL_VM_CHECKED_BUDGET);
#endif
fault:
	res->err_pc = (uint32_t)(d - base);
	if (!res->err)
		res->err = -EINVAL;
	vm_prefix_pc(res->msg, sizeof(res->msg), res->err_pc);
	res->r0 = 0;
	return 0;
}

#undef DST
#undef SRC
#undef IMM
#undef ADDR_DST
#undef ADDR_SRC
#undef PTR
#undef DISPATCH
#undef NEXT
#undef JUMP
#undef FAULT
#undef ALU2
#undef ALUF
#undef SHIFTS
#undef JCC
#undef LDX
#undef STORE
#undef CHK_ATOMIC
#undef ATOMICS
#undef LDPKT
#undef CHK_LDABS
#undef SL_VM_LABEL
