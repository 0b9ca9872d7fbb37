/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * x86-64 encoder of the sluice JIT (internal to jit/).
 *
 * Three layers: bytes (x86_byte/x86_u32...) -> prefixes and operands
 * (REX, ModRM, SIB, displacement; in x86_emit.c) -> one function per
 * instruction form, each with its assembly in a comment. The encoder knows
 * nothing about eBPF.
 *
 * The same calls run in the sizing passes (buf == NULL: only len counts)
 * and in the final pass (bytes written). Errors are sticky: the first one
 * is kept in err and every later call is a no-op on the buffer; the
 * compiler reads err once, after the pass.
 */
#ifndef SL_X86_EMIT_H
#define SL_X86_EMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** x86-64 general-purpose registers, in encoding order. */
enum x86_reg {
	X_RAX, X_RCX, X_RDX, X_RBX, X_RSP, X_RBP, X_RSI, X_RDI,
	X_R8, X_R9, X_R10, X_R11, X_R12, X_R13, X_R14, X_R15,
};

/** Condition codes (the low nibble of Jcc/SETcc). */
enum x86_cc {
	CC_O = 0x0, CC_NO = 0x1, CC_B = 0x2, CC_AE = 0x3, CC_E = 0x4, CC_NE = 0x5,
	CC_BE = 0x6, CC_A = 0x7, CC_S = 0x8, CC_NS = 0x9, CC_L = 0xc, CC_GE = 0xd,
	CC_LE = 0xe, CC_G = 0xf,
	CC_ALWAYS = 0x10,  /**< pseudo condition: unconditional jmp */
};

/** Two-operand ALU group: the /digit of opcode 0x81, and (digit << 3 | 1) is "op r/m, r". */
enum x86_alu {
	ALU_ADD = 0, ALU_OR = 1, ALU_ADC = 2, ALU_AND = 4, ALU_SUB = 5, ALU_XOR = 6, ALU_CMP = 7,
};

/** Shift group: /digit of 0xc1 / 0xd3. */
enum x86_shift { SH_ROL = 0, SH_SHL = 4, SH_SHR = 5, SH_SAR = 7 };

/** Unary group: /digit of 0xf7. */
enum x86_unary { UN_NEG = 3, UN_MUL = 4, UN_DIV = 6, UN_IDIV = 7 };

/** Code buffer being written (buf != NULL) or sized (buf == NULL). */
struct x86_emit {
	uint8_t *buf;
	size_t len;   /**< bytes emitted so far (also in sizing passes) */
	size_t cap;   /**< size of buf */
	int err;      /**< sticky: first error (-E2BIG, -ERANGE), 0 if none */
};

/* ---- bytes ---- */
void x86_byte(struct x86_emit *e, uint8_t b);
void x86_u16(struct x86_emit *e, uint16_t v);
void x86_u32(struct x86_emit *e, uint32_t v);
void x86_u64(struct x86_emit *e, uint64_t v);

/* ---- register/immediate ALU; w64 selects the 64-bit form (REX.W) ---- */
void x86_alu_rr(struct x86_emit *e, bool w64, enum x86_alu op, int dst, int src);
void x86_alu_ri(struct x86_emit *e, bool w64, enum x86_alu op, int dst, int32_t imm);
void x86_mov_rr(struct x86_emit *e, bool w64, int dst, int src);
void x86_mov_ri(struct x86_emit *e, bool w64, int dst, int64_t imm);
void x86_movabs(struct x86_emit *e, int dst, uint64_t imm);
void x86_test_rr(struct x86_emit *e, bool w64, int a, int b);
void x86_test_ri(struct x86_emit *e, bool w64, int r, int32_t imm);
void x86_imul_rr(struct x86_emit *e, bool w64, int dst, int src);
void x86_imul_rri(struct x86_emit *e, bool w64, int dst, int src, int32_t imm);
void x86_unary(struct x86_emit *e, bool w64, enum x86_unary op, int r);
void x86_shift_cl(struct x86_emit *e, bool w64, enum x86_shift op, int r);
void x86_shift_ri(struct x86_emit *e, bool w64, enum x86_shift op, int r, uint8_t n);
void x86_shiftx(struct x86_emit *e, bool w64, enum x86_shift op, int dst, int src, int count);
void x86_sign_extend_ax(struct x86_emit *e, bool w64);
void x86_movzx_rr(struct x86_emit *e, unsigned size, int dst, int src);
void x86_movsx_rr(struct x86_emit *e, bool w64, unsigned size, int dst, int src);
void x86_bswap(struct x86_emit *e, bool w64, int r);
void x86_rol16_8(struct x86_emit *e, int r);
void x86_lea(struct x86_emit *e, bool w64, int dst, int base, int32_t off);
void x86_cmov(struct x86_emit *e, enum x86_cc cc, int dst, int src);
void x86_setcc(struct x86_emit *e, enum x86_cc cc, int r);
void x86_load_index(struct x86_emit *e, unsigned size, int dst, int base, int index, unsigned scale,
		    int32_t disp);
void x86_lea_index(struct x86_emit *e, bool w64, int dst, int base, int index, unsigned scale,
		   int32_t disp);

/* ---- memory: [base + off]; size in bytes 1, 2, 4, 8 ---- */
void x86_load(struct x86_emit *e, unsigned size, int dst, int base, int32_t off);
void x86_load_sx(struct x86_emit *e, unsigned size, int dst, int base, int32_t off);
void x86_store(struct x86_emit *e, unsigned size, int base, int32_t off, int src);
void x86_store_imm(struct x86_emit *e, unsigned size, int base, int32_t off, int32_t imm);
void x86_alu_mi(struct x86_emit *e, unsigned size, enum x86_alu op, int base, int32_t off,
		int32_t imm);
void x86_test_mi(struct x86_emit *e, unsigned size, int base, int32_t off, int32_t imm);
void x86_lock_alu(struct x86_emit *e, bool w64, enum x86_alu op, int base, int32_t off, int src);
void x86_lock_xadd(struct x86_emit *e, bool w64, int base, int32_t off, int src);
void x86_xchg_mem(struct x86_emit *e, bool w64, int base, int32_t off, int src);
void x86_lock_cmpxchg(struct x86_emit *e, bool w64, int base, int32_t off, int src);
void x86_load_fs32(struct x86_emit *e, int dst, int32_t tpoff);

/* ---- control flow ---- */
void x86_push(struct x86_emit *e, int r);
void x86_pop(struct x86_emit *e, int r);
void x86_ret(struct x86_emit *e);
void x86_call_reg(struct x86_emit *e, int r);
void x86_jmp_reg(struct x86_emit *e, int r);
void x86_call_rel32(struct x86_emit *e, int32_t rel);
void x86_jcc_rel(struct x86_emit *e, enum x86_cc cc, int32_t rel, bool rel8);
void x86_int3_fill(struct x86_emit *e, size_t n);

/** Size of a jmp/jcc with rel8 or rel32 displacement. */
static inline unsigned x86_jcc_size(enum x86_cc cc, bool rel8)
{
	return rel8 ? 2 : (cc == CC_ALWAYS ? 5 : 6);
}

/**
 * Forward jump within one instruction's code: emit a jcc/jmp rel8 whose
 * target is bound later by x86_bind8(). Returns the label.
 */
size_t x86_jcc8_fwd(struct x86_emit *e, enum x86_cc cc);
/** Bind a label from x86_jcc8_fwd() to the current position (error if > 127 bytes). */
void x86_bind8(struct x86_emit *e, size_t label);
/** Backward jcc rel8 to @p target (an earlier e->len). */
void x86_jcc8_back(struct x86_emit *e, enum x86_cc cc, size_t target);

#endif /* SL_X86_EMIT_H */
