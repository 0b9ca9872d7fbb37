/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fusions that need a register to be dead afterwards (control thread,
 * after liveness.c's jit_dead_code(), on the fusions peephole.c found).
 * Each replaces a register round trip with one x86 instruction that reads
 * the value where it already is:
 *
 *   rA <<= 32; rA >>= 32; if rA op imm     (v1's zero extension before a
 *   rA = rS; rA <<= 32; rA >>= 32; if ...   test, rA dead after the jump)
 *       -> cmp rA32|rS32, imm; jcc         (JMP32: the compare of the low
 *                                           half is the same when imm >= 0
 *                                           and op is ==, !=, unsigned or
 *                                           set, or the jump is 32-bit)
 *   [rX = *(size *)(rB + off);] rX &= K; [rC = 1;] if rX ==|!= 0
 *       -> [xor rC;] test rX|size [rB + off], K; jcc|setcc
 *                                          (rX dead after the jump; the
 *                                           middle form is a bool, SETCC)
 *   rX = *(size *)(rB + off); if rX op imm  (rX dead after the jump)
 *       -> cmp|test size [rB + off], imm; jcc
 *   rX = *(size *)(rB + off); rX op= imm; *(size *)(rB + off) = rX
 *       -> op size [rB + off], imm         (add, sub, and, or, xor; rX dead)
 *
 * And "rX &= 0xff|0xffff" of a value known to fit (liveness.c's
 * jit_fits(): a byte load, say) emits nothing.
 *
 * A compare with memory keeps the interpreter's semantics: the loaded
 * value is zero-extended and the immediate sign-extended, so a narrower
 * compare is used only where it decides alike (mem_cmp_ok()). No jump may
 * land inside a sequence. The registers a fused sequence no longer writes
 * are dead afterwards, so nothing can tell.
 */
#include <stdlib.h>

#include "jit_internal.h"

#define R(r) ((uint16_t)(1u << (r)))

static bool is_cond_jump_k(const struct bpf_insn *in)
{
	uint8_t cls = SL_OP_CLASS(in->code), op = SL_OP_CODE(in->code);

	return (cls == BPF_JMP || cls == BPF_JMP32) && SL_OP_SRC(in->code) == BPF_K &&
	       op != BPF_JA && op != BPF_CALL && op != BPF_EXIT && op <= BPF_JSLE;
}

static bool is_unsigned_cmp(uint8_t op)
{
	return op == BPF_JEQ || op == BPF_JNE || op == BPF_JGT || op == BPF_JGE ||
	       op == BPF_JLT || op == BPF_JLE;
}

/* Nothing jumps to [from, to]. */
static bool no_target(const uint8_t *targets, uint32_t from, uint32_t to)
{
	for (uint32_t k = from; k <= to; k++)
		if (targets[k])
			return false;
	return true;
}

/* Can jump @p j on a zero-extended (from 32 bits) register be a 32-bit compare? */
static bool zext_cmp_ok(const struct bpf_insn *j)
{
	uint8_t op = SL_OP_CODE(j->code);

	if (!is_cond_jump_k(j))
		return false;
	return SL_OP_CLASS(j->code) == BPF_JMP32 || op == BPF_JSET ||
	       (is_unsigned_cmp(op) && j->imm >= 0);
}

/* "rA <<= 32; rA >>= 32" (ZEXT) or "rA = rS; ..." (MOV_ZEXT) at @p pc, then a jump on dead rA. */
static void match_zext_jump(const struct sl_prog *p, const uint8_t *targets, uint8_t *fuse,
			    const uint8_t *dead, const uint16_t *live, uint32_t pc)
{
	const struct bpf_insn *in = &p->insns[pc];
	uint32_t j = pc + (fuse[pc] == JIT_FUSE_ZEXT ? 2 : 3);
	uint8_t a = in->dst_reg;

	if ((fuse[pc] != JIT_FUSE_ZEXT && fuse[pc] != JIT_FUSE_MOV_ZEXT) || j >= p->n_insns ||
	    fuse[j] || dead[j] || dead[pc] || p->insns[j].dst_reg != a ||
	    !zext_cmp_ok(&p->insns[j]) || !no_target(targets, pc + 1, j) || (live[j] & R(a)))
		return;
	fuse[p->n_insns + j] = fuse[pc] == JIT_FUSE_ZEXT ? a : in->src_reg;
	for (uint32_t k = pc; k < j; k++)
		fuse[k] = JIT_FUSE_NOP;
	fuse[j] = JIT_FUSE_JMP32;
}

static bool is_plain_load(const struct bpf_insn *in)
{
	return SL_OP_CLASS(in->code) == BPF_LDX && SL_OP_MODE(in->code) == BPF_MEM &&
	       in->dst_reg != in->src_reg;
}

/* "rX &= K" at @p pc, then "if rX ==|!= 0" (right after, or after a bool's "rC = 1"), rX dead. */
static void match_and_test(const struct sl_prog *p, const uint8_t *targets, uint8_t *fuse,
			   const uint8_t *dead, const uint16_t *live, uint32_t pc)
{
	const struct bpf_insn *in = &p->insns[pc];
	uint8_t x = in->dst_reg, cls = SL_OP_CLASS(in->code);
	uint32_t j = pc + 1;
	const struct bpf_insn *jp;

	if ((cls != BPF_ALU && cls != BPF_ALU64) || in->code != (cls | BPF_AND | BPF_K) ||
	    fuse[pc] || dead[pc] || x == BPF_REG_10 || pc + 2 >= p->n_insns)
		return;
	if (fuse[j] == JIT_FUSE_SETCC_ZERO && p->insns[j].dst_reg != x)
		j++;
	jp = &p->insns[j];
	if (!(fuse[j] == 0 || fuse[j] == JIT_FUSE_JZ_FLAGS ||
	      (fuse[j] == JIT_FUSE_SETCC && j == pc + 2)) ||
	    dead[j] || !is_cond_jump_k(jp) || jp->dst_reg != x || jp->imm != 0 ||
	    (SL_OP_CODE(jp->code) != BPF_JEQ && SL_OP_CODE(jp->code) != BPF_JNE) ||
	    !no_target(targets, pc + 1, j) || (live[j] & R(x)))
		return;
	fuse[pc] = JIT_FUSE_NOP;
	if (fuse[j] != JIT_FUSE_SETCC)
		fuse[j] = JIT_FUSE_TEST_K;
	fuse[p->n_insns + j] = (uint8_t)(j - pc);
	if (pc >= 1 && is_plain_load(&p->insns[pc - 1]) && p->insns[pc - 1].dst_reg == x &&
	    !fuse[pc - 1] && !dead[pc - 1] && !targets[pc] &&
	    (pc < 2 || !sl_isa_is_lddw(&p->insns[pc - 2]))) {
		fuse[pc - 1] = JIT_FUSE_NOP;                /* and the load before: test [m], K */
		fuse[p->n_insns + j] |= 0x80;
	}
}

/*
 * Does "cmp|test size [m], imm" decide jump @p j on a value loaded with
 * @p size bytes (zero-extended) as the 64- or 32-bit compare would?
 */
static bool mem_cmp_ok(unsigned size, const struct bpf_insn *j)
{
	uint8_t op = SL_OP_CODE(j->code);

	if (!is_cond_jump_k(j))
		return false;
	if (op == BPF_JSET || size == 8 || (size == 4 && SL_OP_CLASS(j->code) == BPF_JMP32))
		return true;
	if (!is_unsigned_cmp(op) || j->imm < 0)
		return false;
	return size == 4 || j->imm <= (size == 1 ? 0xff : 0xffff);
}

/* "rX = *(size *)(rB + off)" at @p pc, then a jump on dead rX with an immediate. */
static void match_mem_cmp(const struct sl_prog *p, const uint8_t *targets, uint8_t *fuse,
			  const uint8_t *dead, const uint16_t *live, uint32_t pc)
{
	const struct bpf_insn *ld = &p->insns[pc], *j = ld + 1;

	if (!is_plain_load(ld) || fuse[pc] || dead[pc] || pc + 1 >= p->n_insns || fuse[pc + 1] ||
	    dead[pc + 1] || targets[pc + 1] || j->dst_reg != ld->dst_reg ||
	    !mem_cmp_ok(sl_isa_size_bytes(ld->code), j) || (live[pc + 1] & R(ld->dst_reg)))
		return;
	fuse[pc] = JIT_FUSE_NOP;
	fuse[pc + 1] = JIT_FUSE_MEM_CMP;
}

/* "rX = *(size *)(rB + off); rX op= imm; *(size *)(rB + off) = rX" at @p pc, rX dead after. */
static void match_mem_alu(const struct sl_prog *p, const uint8_t *targets, uint8_t *fuse,
			  const uint8_t *dead, const uint16_t *live, uint32_t pc)
{
	const struct bpf_insn *ld = &p->insns[pc], *op = ld + 1, *st = ld + 2;
	unsigned size = sl_isa_size_bytes(ld->code);
	uint8_t cls, o;

	if (!is_plain_load(ld) || pc + 2 >= p->n_insns || fuse[pc] || fuse[pc + 1] || fuse[pc + 2] ||
	    dead[pc] || dead[pc + 1] || dead[pc + 2] || !no_target(targets, pc + 1, pc + 2))
		return;
	cls = SL_OP_CLASS(op->code);  /* op and st exist only now */
	o = SL_OP_CODE(op->code);
	if ((cls != BPF_ALU && cls != BPF_ALU64) || SL_OP_SRC(op->code) != BPF_K || op->off ||
	    (o != BPF_ADD && o != BPF_SUB && o != BPF_AND && o != BPF_OR && o != BPF_XOR) ||
	    op->dst_reg != ld->dst_reg || (size == 8 && cls != BPF_ALU64) ||
	    st->code != (BPF_STX | BPF_MEM | SL_OP_SIZE(ld->code)) || st->dst_reg != ld->src_reg ||
	    st->src_reg != ld->dst_reg || st->off != ld->off || (live[pc + 2] & R(ld->dst_reg)))
		return;
	fuse[pc] = JIT_FUSE_MEM_ALU;
	fuse[pc + 1] = fuse[pc + 2] = JIT_FUSE_NOP;
}

/*
 * "rX &= M" at @p pc whose M keeps the low 8 (16) bits, of a value that
 * fits in them (@p f8, @p f16: jit_fits()): nothing to do, unless the jump
 * after it branches on its flags.
 */
static void match_mask_fits(const struct sl_prog *p, uint8_t *fuse, const uint16_t *f8,
			    const uint16_t *f16, uint32_t pc)
{
	const struct bpf_insn *in = &p->insns[pc];
	uint8_t cls = SL_OP_CLASS(in->code);
	uint64_t m = cls == BPF_ALU64 ? (uint64_t)(int64_t)in->imm : (uint32_t)in->imm;

	if ((cls != BPF_ALU && cls != BPF_ALU64) || in->code != (cls | BPF_AND | BPF_K) ||
	    fuse[pc] || (pc + 1 < p->n_insns && fuse[pc + 1] == JIT_FUSE_JZ_FLAGS))
		return;
	if (((f8[pc] & R(in->dst_reg)) && (m & 0xff) == 0xff) ||
	    ((f16[pc] & R(in->dst_reg)) && (m & 0xffff) == 0xffff))
		fuse[pc] = JIT_FUSE_NOP;
}

void jit_fuse_late(const struct sl_prog *p, uint8_t *fuse, const uint8_t *dead,
		   const uint16_t *live)
{
	uint8_t *targets = jit_jump_targets(p);
	uint16_t *f8 = jit_fits(p, 8), *f16 = jit_fits(p, 16);

	for (uint32_t pc = 0; targets && pc < p->n_insns; pc++) {
		if (sl_isa_is_lddw(&p->insns[pc])) {
			pc++;
			continue;
		}
		match_zext_jump(p, targets, fuse, dead, live, pc);
		match_and_test(p, targets, fuse, dead, live, pc);
		match_mem_alu(p, targets, fuse, dead, live, pc);
		match_mem_cmp(p, targets, fuse, dead, live, pc);
		if (f8 && f16)
			match_mask_fits(p, fuse, f8, f16, pc);
	}
	free(targets);
	free(f8);
	free(f16);
}
