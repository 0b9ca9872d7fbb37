/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * x86-64 JIT: ALU instructions (control thread, part of sl_jit_compile();
 * the register map, the passes and the list of files are at the top of
 * jit.c).
 *
 * Operands: an ALU/JMP source is a register or an immediate
 * (jit_src_operand()); with constant blinding every immediate is built in
 * AUX from two random-looking ones (mov AUX, imm^key; xor AUX, key), a
 * fresh key per instruction, the same sequence in every pass.
 *
 * One handler per opcode (alu_table): add/sub/and/or/xor; mov (also the
 * sign-extending ones, and r10 in a frame without rbp as lea from rsp);
 * mul (shl, lea, xor or nothing for small constants); neg; shifts (shlx
 * with BMI2, else through cl, rcx parked in TMP); div/mod (the zero check
 * only where the verifier did not prove the divisor nonzero; unsigned by a
 * constant as a shift, an AND or a multiply by the reciprocal,
 * divmod_const()); byte swaps. A 64-bit operation whose upper half nobody
 * reads (st->low, peephole.c) is emitted as the 32-bit one.
 *
 * Then the straight-line fusions peephole.c marks (jit_emit_fused(): rotates, mul+add
 * as lea, zero extensions, byte-wise be16 loads, indexed loads, add with
 * carry, a mov and what follows it; a select's cmov is emit_jmp.c's)
 * and ALU_K, an operation on a register that holds a constant, as the
 * immediate form.
 */
#include <errno.h>

#include "jit_state.h"

/* ---- operands ---- */

uint64_t jit_next_key(struct jit_state *st)
{
	/* xorshift64*: keys need to be unpredictable to the program's author, not cryptographic */
	st->rng ^= st->rng >> 12;
	st->rng ^= st->rng << 25;
	st->rng ^= st->rng >> 27;
	return st->rng * 0x2545f4914f6cdd1dull;
}

/* AUX = imm, from two random-looking immediates: mov AUX, imm^key; xor AUX, key. */
int jit_blind_imm(struct jit_state *st, int32_t imm)
{
	int32_t key = (int32_t)jit_next_key(st);

	x86_mov_ri(&st->e, true, AUX, (int64_t)(imm ^ key));
	x86_alu_ri(&st->e, true, ALU_XOR, AUX, key);
	return AUX;
}

struct jit_src_op jit_src_operand(struct jit_state *st, const struct bpf_insn *in)
{
	if (SL_OP_SRC(in->code) == BPF_X)
		return (struct jit_src_op){ true, st->rmap[in->src_reg], 0 };
	if (st->opts.blind_constants)
		return (struct jit_src_op){ true, jit_blind_imm(st, in->imm), 0 };
	return (struct jit_src_op){ false, 0, in->imm };
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
	struct jit_src_op s = jit_src_operand(st, in);

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
			x86_mov_rr(&st->e, w64, dst, jit_blind_imm(st, in->imm));
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
	struct jit_src_op s;

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
	s = jit_src_operand(st, in);
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
		x86_mov_rr(&st->e, true, TMP, jit_blind_imm(st, in->imm));
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

int jit_do_alu(struct jit_state *st, const struct bpf_insn *in)
{
	alu_fn fn = alu_table[SL_OP_CODE(in->code) >> 4];

	if (!fn)
		return jit_fail(st, -EINVAL, "unknown opcode 0x%02x", in->code);
	return fn(st, in, SL_OP_CLASS(in->code) == BPF_ALU64 && !st->low[st->pc]);
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

		src = jit_mem_base(st, in->src_reg, &off);                     /* r10: rsp + n */
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

/*
 * LOAD_IDX: movzx|mov rD, [rB + rA*scale + off] (argument rA << 4 | scale);
 * LOAD_RR: movzx|mov rD, [rS + rI + off] (argument rS << 4 | rI).
 */
static void emit_load_index(struct jit_state *st, const struct bpf_insn *in, uint8_t fuse)
{
	uint8_t arg = st->fuse[st->prog->n_insns + st->pc];
	int base = st->rmap[fuse == JIT_FUSE_LOAD_RR ? arg >> 4 : in->src_reg];
	int index = st->rmap[fuse == JIT_FUSE_LOAD_RR ? arg & 15 : arg >> 4];

	x86_load_index(&st->e, sl_isa_size_bytes(in->code), st->rmap[in->dst_reg], base, index,
		       fuse == JIT_FUSE_LOAD_RR ? 1 : arg & 15, in->off);
}

void jit_emit_fused(struct jit_state *st, const struct bpf_insn *in, uint8_t fuse)
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
	else if (fuse == JIT_FUSE_LOAD_IDX || fuse == JIT_FUSE_LOAD_RR)
		emit_load_index(st, in, fuse);
	else if (fuse == JIT_FUSE_ST_MERGE) {                 /* mov word|dword|qword [m], src */
		int32_t off = in->off;
		int base = jit_mem_base(st, in->dst_reg, &off);

		x86_store(&st->e, st->fuse[st->prog->n_insns + st->pc], base, off,
			  st->rmap[in->src_reg]);
	}
	else if (fuse == JIT_FUSE_ZEXT && !(st->hi_zero[st->pc] & (1u << in->dst_reg)))
		x86_mov_rr(&st->e, false, dst, dst);      /* (nothing: the upper half is zero already) */
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
 * An ALU operation with a register holding a constant: the same with the
 * immediate; a 64-bit AND with a constant in [2^31, 2^32) as "and r32".
 */
int jit_emit_alu_k(struct jit_state *st, const struct bpf_insn *in)
{
	struct bpf_insn t = *in;
	bool swapped;
	int64_t v = jit_cmp_k(st->prog, st->fuse, st->pc, &swapped);

	t.code = (uint8_t)(SL_OP_CLASS(in->code) | BPF_K | SL_OP_CODE(in->code));
	t.imm = (int32_t)v;
	t.src_reg = 0;
	return alu_simple(st, &t, SL_OP_CLASS(in->code) == BPF_ALU64 && v == (int64_t)(int32_t)v);
}
