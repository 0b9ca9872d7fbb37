/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * x86-64 encoder: bytes -> REX/ModRM/SIB -> instruction forms. See
 * x86_emit.h for the contract (sizing vs writing passes, sticky error).
 * Register operands are enum x86_reg numbers 0..15; "w64" selects REX.W.
 */
#include <errno.h>
#include <string.h>

#include "x86_emit.h"

/* ---- bytes ---- */

void x86_byte(struct x86_emit *e, uint8_t b)
{
	if (e->buf && !e->err) {
		if (e->len >= e->cap)
			e->err = -E2BIG;
		else
			e->buf[e->len] = b;
	}
	e->len++;
}

void x86_u16(struct x86_emit *e, uint16_t v)
{
	x86_byte(e, v & 0xff);
	x86_byte(e, v >> 8);
}

void x86_u32(struct x86_emit *e, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		x86_byte(e, (v >> (8 * i)) & 0xff);
}

void x86_u64(struct x86_emit *e, uint64_t v)
{
	x86_u32(e, (uint32_t)v);
	x86_u32(e, (uint32_t)(v >> 32));
}

/* ---- prefixes and operands ---- */

/* Registers spl, bpl, sil, dil exist only with a REX prefix. */
static bool needs_rex_byte(int r)
{
	return r >= X_RSP && r <= X_RDI;
}

/* REX.W R X B: emitted when any bit is set or @p force (byte registers). */
static void rex(struct x86_emit *e, bool w64, int reg, int rm, bool force)
{
	uint8_t v = 0x40 | (w64 ? 8 : 0) | ((reg & 8) ? 4 : 0) | ((rm & 8) ? 1 : 0);

	if (v != 0x40 || force)
		x86_byte(e, v);
}

/* ModRM, register-direct: mod=11 reg rm. */
static void modrm_rr(struct x86_emit *e, int reg, int rm)
{
	x86_byte(e, 0xc0 | (reg & 7) << 3 | (rm & 7));
}

/*
 * ModRM (+SIB) (+disp) for [base + off]. rbp/r13 as base have no mod=00
 * form (that is rip-relative): they take a disp8 of 0. rsp/r12 as base
 * need a SIB byte with no index (0x24).
 */
static void modrm_mem(struct x86_emit *e, int reg, int base, int32_t off)
{
	uint8_t mod;

	if (off == 0 && (base & 7) != X_RBP)
		mod = 0;
	else if (off >= -128 && off <= 127)
		mod = 1;
	else
		mod = 2;
	x86_byte(e, mod << 6 | (reg & 7) << 3 | (base & 7));
	if ((base & 7) == X_RSP)
		x86_byte(e, 0x24);
	if (mod == 1)
		x86_byte(e, (uint8_t)off);
	else if (mod == 2)
		x86_u32(e, (uint32_t)off);
}

static bool fits_s8(int64_t v)
{
	return v >= -128 && v <= 127;
}

/* ---- register / immediate ALU ---- */

/* add|or|and|sub|xor|cmp dst, src */
void x86_alu_rr(struct x86_emit *e, bool w64, enum x86_alu op, int dst, int src)
{
	rex(e, w64, src, dst, false);
	x86_byte(e, (uint8_t)(op << 3 | 1));
	modrm_rr(e, src, dst);
}

/* add|or|and|sub|xor|cmp dst, imm8 (0x83) / imm32 (0x81), sign-extended */
void x86_alu_ri(struct x86_emit *e, bool w64, enum x86_alu op, int dst, int32_t imm)
{
	rex(e, w64, 0, dst, false);
	if (fits_s8(imm)) {
		x86_byte(e, 0x83);
		modrm_rr(e, op, dst);
		x86_byte(e, (uint8_t)imm);
	} else {
		x86_byte(e, 0x81);
		modrm_rr(e, op, dst);
		x86_u32(e, (uint32_t)imm);
	}
}

/* mov dst, src (89 /r); the 32-bit form zero-extends */
void x86_mov_rr(struct x86_emit *e, bool w64, int dst, int src)
{
	rex(e, w64, src, dst, false);
	x86_byte(e, 0x89);
	modrm_rr(e, src, dst);
}

/* movabs dst, imm64 (REX.W B8+r io) */
void x86_movabs(struct x86_emit *e, int dst, uint64_t imm)
{
	rex(e, true, 0, dst, false);
	x86_byte(e, 0xb8 + (dst & 7));
	x86_u64(e, imm);
}

/*
 * dst = imm, flags untouched. 32-bit: mov r32, imm32 (B8+r). 64-bit: the
 * shortest of mov r32, imm32 (zero-extends), mov r64, simm32 (REX.W C7 /0),
 * movabs.
 */
void x86_mov_ri(struct x86_emit *e, bool w64, int dst, int64_t imm)
{
	if (!w64 || (imm >= 0 && imm <= (int64_t)UINT32_MAX)) {
		rex(e, false, 0, dst, false);
		x86_byte(e, 0xb8 + (dst & 7));              /* mov r32, imm32 */
		x86_u32(e, (uint32_t)imm);
	} else if (imm >= INT32_MIN && imm <= INT32_MAX) {
		rex(e, true, 0, dst, false);
		x86_byte(e, 0xc7);                          /* mov r64, simm32 */
		modrm_rr(e, 0, dst);
		x86_u32(e, (uint32_t)imm);
	} else {
		x86_movabs(e, dst, (uint64_t)imm);
	}
}

/* test a, b (85 /r) */
void x86_test_rr(struct x86_emit *e, bool w64, int a, int b)
{
	rex(e, w64, b, a, false);
	x86_byte(e, 0x85);
	modrm_rr(e, b, a);
}

/* test r, imm32 (F7 /0 id), sign-extended in the 64-bit form */
void x86_test_ri(struct x86_emit *e, bool w64, int r, int32_t imm)
{
	rex(e, w64, 0, r, false);
	x86_byte(e, 0xf7);
	modrm_rr(e, 0, r);
	x86_u32(e, (uint32_t)imm);
}

/* imul dst, src (0F AF /r) */
void x86_imul_rr(struct x86_emit *e, bool w64, int dst, int src)
{
	rex(e, w64, dst, src, false);
	x86_byte(e, 0x0f);
	x86_byte(e, 0xaf);
	modrm_rr(e, dst, src);
}

/* imul dst, src, imm8 (6B /r ib) / imm32 (69 /r id) */
void x86_imul_rri(struct x86_emit *e, bool w64, int dst, int src, int32_t imm)
{
	rex(e, w64, dst, src, false);
	if (fits_s8(imm)) {
		x86_byte(e, 0x6b);
		modrm_rr(e, dst, src);
		x86_byte(e, (uint8_t)imm);
	} else {
		x86_byte(e, 0x69);
		modrm_rr(e, dst, src);
		x86_u32(e, (uint32_t)imm);
	}
}

/* neg|div|idiv r (F7 /3, /6, /7) */
void x86_unary(struct x86_emit *e, bool w64, enum x86_unary op, int r)
{
	rex(e, w64, 0, r, false);
	x86_byte(e, 0xf7);
	modrm_rr(e, op, r);
}

/* shl|shr|sar|rol r, cl (D3 /digit) */
void x86_shift_cl(struct x86_emit *e, bool w64, enum x86_shift op, int r)
{
	rex(e, w64, 0, r, false);
	x86_byte(e, 0xd3);
	modrm_rr(e, op, r);
}

/* shl|shr|sar|rol r, 1 (D1 /digit) / imm8 (C1 /digit ib) */
void x86_shift_ri(struct x86_emit *e, bool w64, enum x86_shift op, int r, uint8_t n)
{
	rex(e, w64, 0, r, false);
	if (n == 1) {
		x86_byte(e, 0xd1);
		modrm_rr(e, op, r);
	} else {
		x86_byte(e, 0xc1);
		modrm_rr(e, op, r);
		x86_byte(e, n);
	}
}

/*
 * BMI2 shlx|shrx|sarx dst, src, count: VEX.LZ.{66,F2,F3}.0F38.W F7 /r.
 * Count is masked to 5/6 bits by the CPU, as eBPF requires.
 */
void x86_shiftx(struct x86_emit *e, bool w64, enum x86_shift op, int dst, int src, int count)
{
	uint8_t pp = op == SH_SHL ? 1 : op == SH_SAR ? 2 : 3;

	x86_byte(e, 0xc4);
	x86_byte(e, (uint8_t)(((dst & 8) ? 0 : 0x80) | 0x40 | ((src & 8) ? 0 : 0x20) | 0x02));
	x86_byte(e, (uint8_t)((w64 ? 0x80 : 0) | ((~count & 15) << 3) | pp));
	x86_byte(e, 0xf7);
	modrm_rr(e, dst, src);
}

/* cqo (REX.W 99) / cdq (99): rdx:rax = sign-extended rax */
void x86_sign_extend_ax(struct x86_emit *e, bool w64)
{
	if (w64)
		x86_byte(e, 0x48);
	x86_byte(e, 0x99);
}

/* movzx r32, r8 (0F B6) / r16 (0F B7); size 4: mov r32, r32 */
void x86_movzx_rr(struct x86_emit *e, unsigned size, int dst, int src)
{
	if (size == 4) {
		x86_mov_rr(e, false, dst, src);
		return;
	}
	rex(e, false, dst, src, size == 1 && needs_rex_byte(src));
	x86_byte(e, 0x0f);
	x86_byte(e, size == 1 ? 0xb6 : 0xb7);
	modrm_rr(e, dst, src);
}

/* movsx r, r8 (0F BE) / r16 (0F BF); movsxd r64, r32 (REX.W 63) */
void x86_movsx_rr(struct x86_emit *e, bool w64, unsigned size, int dst, int src)
{
	if (size == 4) {
		rex(e, true, dst, src, false);
		x86_byte(e, 0x63);
		modrm_rr(e, dst, src);
		return;
	}
	rex(e, w64, dst, src, size == 1 && needs_rex_byte(src));
	x86_byte(e, 0x0f);
	x86_byte(e, size == 1 ? 0xbe : 0xbf);
	modrm_rr(e, dst, src);
}

/* bswap r32 / r64 (0F C8+r) */
void x86_bswap(struct x86_emit *e, bool w64, int r)
{
	rex(e, w64, 0, r, false);
	x86_byte(e, 0x0f);
	x86_byte(e, 0xc8 + (r & 7));
}

/* rol r16, 8 (66 C1 /0 08): swap the two low bytes */
void x86_rol16_8(struct x86_emit *e, int r)
{
	x86_byte(e, 0x66);
	rex(e, false, 0, r, false);
	x86_byte(e, 0xc1);
	modrm_rr(e, SH_ROL, r);
	x86_byte(e, 8);
}

/* cmovcc dst, src (REX.W 0F 40+cc /r) */
void x86_cmov(struct x86_emit *e, enum x86_cc cc, int dst, int src)
{
	rex(e, true, dst, src, false);
	x86_byte(e, 0x0f);
	x86_byte(e, (uint8_t)(0x40 + (cc & 0xf)));
	modrm_rr(e, dst, src);
}

/* setcc r8 (0F 90+cc /0; REX for spl-dil and r8b-r15b) */
void x86_setcc(struct x86_emit *e, enum x86_cc cc, int r)
{
	rex(e, false, 0, r, needs_rex_byte(r));
	x86_byte(e, 0x0f);
	x86_byte(e, (uint8_t)(0x90 + (cc & 0xf)));
	modrm_rr(e, 0, r);
}

/* lea dst, [base + off] (8D /r) */
void x86_lea(struct x86_emit *e, bool w64, int dst, int base, int32_t off)
{
	rex(e, w64, dst, base, false);
	x86_byte(e, 0x8d);
	modrm_mem(e, dst, base, off);
}

/* REX for a [base + index*scale] operand with @p reg in ModRM.reg; none when it would be 0x40. */
static void rex_sib(struct x86_emit *e, bool w64, int reg, int base, int index)
{
	uint8_t rex_v = (uint8_t)(0x40 | (w64 ? 8 : 0) | ((reg & 8) ? 4 : 0) | ((index & 8) ? 2 : 0) |
				  ((base & 8) ? 1 : 0));

	if (rex_v != 0x40)
		x86_byte(e, rex_v);
}

/* ModRM + SIB + disp0/8/32 of [base + index*scale + disp]; scale 1, 2, 4 or 8 */
static void modrm_sib(struct x86_emit *e, int reg, int base, int index, unsigned scale,
		      int32_t disp)
{
	uint8_t ss = scale == 8 ? 3 : scale == 4 ? 2 : scale == 2 ? 1 : 0;
	uint8_t mod;

	if (disp == 0 && (base & 7) != X_RBP)   /* rbp/r13 base: needs a displacement */
		mod = 0;
	else if (fits_s8(disp))
		mod = 1;
	else
		mod = 2;
	x86_byte(e, (uint8_t)(mod << 6 | (reg & 7) << 3 | 4));
	x86_byte(e, (uint8_t)(ss << 6 | (index & 7) << 3 | (base & 7)));
	if (mod == 1)
		x86_byte(e, (uint8_t)disp);
	else if (mod == 2)
		x86_u32(e, (uint32_t)disp);
}

/* lea dst, [base + index * scale + disp] (8D /r, SIB, disp0/8/32); scale 1, 2, 4 or 8 */
void x86_lea_index(struct x86_emit *e, bool w64, int dst, int base, int index, unsigned scale,
		   int32_t disp)
{
	rex_sib(e, w64, dst, base, index);
	x86_byte(e, 0x8d);
	modrm_sib(e, dst, base, index, scale, disp);
}

/* ---- memory ---- */

/* movzx r32, byte [m] (0F B6) | movzx r32, word [m] (0F B7) | mov r32, [m] (8B) | mov r64, [m] (REX.W 8B) */
void x86_load(struct x86_emit *e, unsigned size, int dst, int base, int32_t off)
{
	rex(e, size == 8, dst, base, false);
	if (size <= 2) {
		x86_byte(e, 0x0f);
		x86_byte(e, size == 1 ? 0xb6 : 0xb7);
	} else {
		x86_byte(e, 0x8b);
	}
	modrm_mem(e, dst, base, off);
}

/* movzx r32, byte|word [base + index*scale + disp] | mov r32|r64, [...] (SIB form) */
void x86_load_index(struct x86_emit *e, unsigned size, int dst, int base, int index, unsigned scale,
		    int32_t disp)
{
	rex_sib(e, size == 8, dst, base, index);
	if (size <= 2) {
		x86_byte(e, 0x0f);
		x86_byte(e, size == 1 ? 0xb6 : 0xb7);
	} else {
		x86_byte(e, 0x8b);
	}
	modrm_sib(e, dst, base, index, scale, disp);
}

/* movsx r64, byte [m] (REX.W 0F BE) | word [m] (REX.W 0F BF) | movsxd r64, [m] (REX.W 63) */
void x86_load_sx(struct x86_emit *e, unsigned size, int dst, int base, int32_t off)
{
	if (size == 8) {
		x86_load(e, 8, dst, base, off);
		return;
	}
	rex(e, true, dst, base, false);
	if (size <= 2) {
		x86_byte(e, 0x0f);
		x86_byte(e, size == 1 ? 0xbe : 0xbf);
	} else {
		x86_byte(e, 0x63);
	}
	modrm_mem(e, dst, base, off);
}

/* mov byte [m], r8 (88) | word [m], r16 (66 89) | [m], r32 (89) | [m], r64 (REX.W 89) */
void x86_store(struct x86_emit *e, unsigned size, int base, int32_t off, int src)
{
	if (size == 2)
		x86_byte(e, 0x66);
	rex(e, size == 8, src, base, size == 1 && needs_rex_byte(src));
	x86_byte(e, size == 1 ? 0x88 : 0x89);
	modrm_mem(e, src, base, off);
}

/*
 * @p opcode on a @p size-byte memory operand [base + off], ModRM reg field
 * @p ext (/0../7), then an immediate of @p imm_bytes (1, 2 or 4; a qword
 * operand's is a simm32): the operand-size prefix for a word, REX.W for a
 * qword.
 */
static void mem_imm(struct x86_emit *e, unsigned size, uint8_t opcode, unsigned ext, int base,
		    int32_t off, int32_t imm, unsigned imm_bytes)
{
	if (size == 2)
		x86_byte(e, 0x66);
	rex(e, size == 8, 0, base, false);
	x86_byte(e, opcode);
	modrm_mem(e, (int)ext, base, off);
	if (imm_bytes == 1)
		x86_byte(e, (uint8_t)imm);
	else if (imm_bytes == 2)
		x86_u16(e, (uint16_t)imm);
	else
		x86_u32(e, (uint32_t)imm);
}

/* Bytes of an immediate as wide as a @p size-byte operand (a qword's: simm32). */
static unsigned imm_bytes_of(unsigned size)
{
	return size < 4 ? size : 4;
}

/* mov byte [m], imm8 (C6 /0) | word (66 C7 /0 iw) | dword (C7 /0 id) | qword (REX.W C7 /0 simm32) */
void x86_store_imm(struct x86_emit *e, unsigned size, int base, int32_t off, int32_t imm)
{
	mem_imm(e, size, size == 1 ? 0xc6 : 0xc7, 0, base, off, imm, imm_bytes_of(size));
}

/* The immediate of a @p size-byte operand, as the operand's own signed value. */
static int64_t imm_as(unsigned size, int32_t imm)
{
	return size == 1 ? (int8_t)imm : size == 2 ? (int16_t)imm : imm;
}

/*
 * op byte [m], imm8 (80 /d ib) | word (66 83 /d ib, 66 81 /d iw) | dword (83 /d ib,
 * 81 /d id) | qword (REX.W 83 /d ib, REX.W 81 /d simm32): add, or, and, sub, xor, cmp
 */
void x86_alu_mi(struct x86_emit *e, unsigned size, enum x86_alu op, int base, int32_t off,
		int32_t imm)
{
	bool i8 = size == 1 || fits_s8(imm_as(size, imm));

	mem_imm(e, size, size == 1 ? 0x80 : i8 ? 0x83 : 0x81, op, base, off, imm,
		i8 ? 1 : imm_bytes_of(size));
}

/* test byte [m], imm8 (F6 /0 ib) | word (66 F7 /0 iw) | dword (F7 /0 id) | qword (REX.W F7 /0 simm32) */
void x86_test_mi(struct x86_emit *e, unsigned size, int base, int32_t off, int32_t imm)
{
	mem_imm(e, size, size == 1 ? 0xf6 : 0xf7, 0, base, off, imm, imm_bytes_of(size));
}

/* lock add|or|and|xor [m], src (F0 01/09/21/31 /r) */
void x86_lock_alu(struct x86_emit *e, bool w64, enum x86_alu op, int base, int32_t off, int src)
{
	x86_byte(e, 0xf0);
	rex(e, w64, src, base, false);
	x86_byte(e, (uint8_t)(op << 3 | 1));
	modrm_mem(e, src, base, off);
}

/* lock xadd [m], src (F0 0F C1 /r) */
void x86_lock_xadd(struct x86_emit *e, bool w64, int base, int32_t off, int src)
{
	x86_byte(e, 0xf0);
	rex(e, w64, src, base, false);
	x86_byte(e, 0x0f);
	x86_byte(e, 0xc1);
	modrm_mem(e, src, base, off);
}

/* xchg [m], src (87 /r; locked implicitly) */
void x86_xchg_mem(struct x86_emit *e, bool w64, int base, int32_t off, int src)
{
	rex(e, w64, src, base, false);
	x86_byte(e, 0x87);
	modrm_mem(e, src, base, off);
}

/* lock cmpxchg [m], src (F0 0F B1 /r): compares with rax/eax */
void x86_lock_cmpxchg(struct x86_emit *e, bool w64, int base, int32_t off, int src)
{
	x86_byte(e, 0xf0);
	rex(e, w64, src, base, false);
	x86_byte(e, 0x0f);
	x86_byte(e, 0xb1);
	modrm_mem(e, src, base, off);
}

/* mov r32, fs:[tpoff] (64 8B /r, ModRM 00 reg 100, SIB 25, disp32): a local-exec TLS load */
void x86_load_fs32(struct x86_emit *e, int dst, int32_t tpoff)
{
	x86_byte(e, 0x64);
	rex(e, false, dst, 0, false);
	x86_byte(e, 0x8b);
	x86_byte(e, (uint8_t)((dst & 7) << 3 | 4));
	x86_byte(e, 0x25);
	x86_u32(e, (uint32_t)tpoff);
}

/* ---- control flow ---- */

/* push r (50+r, REX.B for r8-r15) */
void x86_push(struct x86_emit *e, int r)
{
	rex(e, false, 0, r, false);
	x86_byte(e, 0x50 + (r & 7));
}

/* pop r (58+r) */
void x86_pop(struct x86_emit *e, int r)
{
	rex(e, false, 0, r, false);
	x86_byte(e, 0x58 + (r & 7));
}

/* ret (C3) */
void x86_ret(struct x86_emit *e)
{
	x86_byte(e, 0xc3);
}

/* call r (FF /2) */
void x86_call_reg(struct x86_emit *e, int r)
{
	rex(e, false, 0, r, false);
	x86_byte(e, 0xff);
	modrm_rr(e, 2, r);
}

/* jmp r (FF /4) */
void x86_jmp_reg(struct x86_emit *e, int r)
{
	rex(e, false, 0, r, false);
	x86_byte(e, 0xff);
	modrm_rr(e, 4, r);
}

/* call rel32 (E8 cd) */
void x86_call_rel32(struct x86_emit *e, int32_t rel)
{
	x86_byte(e, 0xe8);
	x86_u32(e, (uint32_t)rel);
}

/*
 * jmp rel8 (EB cb) | jmp rel32 (E9 cd) | jcc rel8 (70+cc cb) | jcc rel32 (0F 80+cc cd).
 * @p rel is relative to the end of this instruction.
 */
void x86_jcc_rel(struct x86_emit *e, enum x86_cc cc, int32_t rel, bool rel8)
{
	if (rel8) {
		if (!fits_s8(rel) && e->buf && !e->err)
			e->err = -ERANGE;
		x86_byte(e, cc == CC_ALWAYS ? 0xeb : (uint8_t)(0x70 + cc));
		x86_byte(e, (uint8_t)rel);
	} else if (cc == CC_ALWAYS) {
		x86_byte(e, 0xe9);
		x86_u32(e, (uint32_t)rel);
	} else {
		x86_byte(e, 0x0f);
		x86_byte(e, (uint8_t)(0x80 + cc));
		x86_u32(e, (uint32_t)rel);
	}
}

/* int3 (CC) padding */
void x86_int3_fill(struct x86_emit *e, size_t n)
{
	while (n--)
		x86_byte(e, 0xcc);
}

size_t x86_jcc8_fwd(struct x86_emit *e, enum x86_cc cc)
{
	x86_byte(e, cc == CC_ALWAYS ? 0xeb : (uint8_t)(0x70 + cc));
	x86_byte(e, 0);
	return e->len;
}

void x86_bind8(struct x86_emit *e, size_t label)
{
	size_t d = e->len - label;

	if (d > 127) {
		if (!e->err)
			e->err = -ERANGE;
		return;
	}
	if (e->buf && !e->err && label >= 1 && label <= e->cap)
		e->buf[label - 1] = (uint8_t)d;
}

void x86_jcc8_back(struct x86_emit *e, enum x86_cc cc, size_t target)
{
	int64_t rel = (int64_t)target - (int64_t)(e->len + 2);

	x86_jcc_rel(e, cc, (int32_t)rel, true);
}
