/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Peephole fusion of eBPF sequences that x86 does in fewer instructions
 * (control thread, before the JIT's passes). eBPF has no rotate, so clang
 * writes rotl(x, k) as
 *
 *     rT = rX;  rT >>= 64-k;  rX <<= k;  rX |= rT      (shifts in either order,
 *                                                     either direction, result
 *                                                     in rX or in rT)
 *
 * The shift of the register that receives the result becomes "rol reg, k"
 * and the OR disappears; the other shift still runs, so every register
 * ends with the value the eBPF code gives it.
 *
 * "rX *= 3|5|9; rX += imm" (same width) becomes one "lea rX, [rX + rX*k-1 + imm]".
 *
 * "if (cond) goto +1; rX = v" (clang's select) becomes "cmov!cond rX, v":
 * no branch to mispredict on packet data. When other jumps land on the
 * mov, it stays for them and the cmov path jumps over it (a jump that
 * always goes the same way).
 *
 * "rX <<= 32; rX >>= 32" (clang's zero extension) becomes "mov r32, r32".
 *
 * rotl(v * K, k), which clang writes with two multiplies,
 *     rA = rV; rA *= rC1; ... rV *= rC2; rV >>= 64-k; rV |= rA
 * where rC1, rC2 hold constants (lddw in the same block) with
 * C1 == C2 << k, becomes "imul rV, rC2; rol rV, k": the shift turns into
 * the rotate and the OR disappears (rA keeps its own multiply, or goes
 * when nothing reads it). Its scheduler often puts lddw's of other
 * registers between the mov and the first multiply and between the second
 * multiply and the shift: those are stepped over.
 *
 * A big-endian 16-bit load written byte by byte (two u8 loads of [P+k] and
 * [P+k+1], "hi <<= 8", "dst |= other", in clang's orders) becomes one
 * "movzx r32, word [P+k]; rol r16, 8" into the OR's destination; the
 * other register still gets its own load (and shift) so it keeps its value.
 * The little-endian order ([P+k+1] shifted, h_proto read as bytes and
 * joined by clang 14) is one "movzx r32, word [P+k]", no rol.
 * Also shifted, "(hi << s+8) | (lo << s)" (the top half of a byte-wise
 * be32): the same plus "shl s".
 *
 * Smaller ones: "rD = rS" with the add, byte swap, zero extension or
 * "&= 0xff|0xffff" right after it becomes one lea / movzx (+ rol) / mov
 * r32 / movzx (x86 has three-operand forms that eBPF lacks); a jump on a register that holds a constant of
 * the block ("r1 = 20; if r1 > r4") compares with the immediate (mirrored),
 * and an add, sub, and, or or xor with one uses the immediate, so the mov
 * (or lddw) goes when nothing else reads it; "rX op= y; if rX == 0"
 * (add, sub, and, or, xor) branches on the operation's own flags; a
 * stack slot stored back right after it was loaded (clang's reload and
 * re-spill at a join) stores nothing (match_reload()).
 *
 * Rotates of two copies (match_rotate_or(), the OR found first, its
 * operands' shifts looked up backwards in the same straight line): clang
 * writes a 32-bit rotate in v3 as "rA = rX; rA >>= 32-k; rB = rX; rB <<= k;
 * rB |= rA" and in v1 the same in 64-bit operations with "rA &=
 * 0xffffffff << (32-k)" before the right shift; the shift of the OR's
 * destination becomes "rol r32, k" (v1: only when nothing reads the upper
 * half of the result, jit_hi_live(), since rol32 zero-extends where the
 * shifts left bits) and the OR goes. 64-bit rotates of two copies alike.
 *
 * v1's other 32-bit idioms: "rX &= M; rX >>= k" with M keeping bits k-31
 * (u32 >> k) becomes "shr r32, k"; "rX <<= 32; rX >>= 32" whose upper half
 * nobody reads emits nothing. "rC = 1; if (cond) goto +1; rC = 0" (a bool,
 * the carry of csum_add) becomes "xor; cmp; setcc", also with other
 * instructions (and jumps among them) between "rC = 1" and the jump, as
 * clang writes "a == X || a == Y" (match_setcc_far()).
 *
 * After liveness (jit_fuse_indexed(), fuse_mem.c): "rA <<= 1..3; rB +=
 * rA; rD = *(rB + off)" with rA and rB dead after the load (a table read:
 * CRC32, Maglev) becomes one load [rB + rA*scale + off].
 *
 * After liveness (jit_fuse_carry()): v1's one's-complement add
 * (csum_add: "s += a; return s + (s < a)" on u32), which clang writes as
 *
 *     rA += rB;  rC = rA;  rC <<= 32;  rC >>= 32;  rD = 1;
 *     if rC != rA goto +1;  rD = 0;  rA += rD
 *
 * with rA and rB below 2^32 (jit_hi_zero()), so that rD is bit 32 of
 * the sum, becomes "add rA32, rB32; adc rA32, 0" when nothing reads rA's
 * upper half, rC or rD afterwards. Instructions of other registers that
 * clang schedules in between (after the zero extension and before the
 * last add) stay where they are.
 *
 * A sequence is fused only when no jump lands inside it (its registers
 * would then come from elsewhere; match_setcc_far(): no jump from outside
 * it).
 */
#include <stdlib.h>

#include "jit_internal.h"

static bool is_shift_k(const struct bpf_insn *in)
{
	return SL_OP_CLASS(in->code) == BPF_ALU64 && SL_OP_SRC(in->code) == BPF_K &&
	       (SL_OP_CODE(in->code) == BPF_LSH || SL_OP_CODE(in->code) == BPF_RSH) &&
	       in->imm > 0 && in->imm < 64;
}

/*
 * Jump targets (and function starts: local calls and callbacks, lddw
 * BPF_PSEUDO_FUNC): instructions control can reach from elsewhere, with the
 * number of jumps that land there (255 for 255 or more).
 */
uint8_t *jit_jump_targets(const struct sl_prog *p)
{
	uint8_t *t = calloc(p->n_insns + 1, 1);

	for (uint32_t pc = 0; t && pc < p->n_insns; pc++) {
		const struct bpf_insn *in = &p->insns[pc];
		uint8_t cls = SL_OP_CLASS(in->code), op = SL_OP_CODE(in->code);
		int64_t to;

		if (sl_isa_is_lddw(in)) {
			to = (int64_t)pc + 1 + in->imm;         /* a callback's entry */
			if (in->src_reg == BPF_PSEUDO_FUNC && to >= 0 && to <= p->n_insns &&
			    t[to] < UINT8_MAX)
				t[to]++;
			pc++;
			continue;
		}
		if (cls != BPF_JMP && cls != BPF_JMP32)
			continue;
		if (op == BPF_EXIT || (op == BPF_CALL && in->src_reg != BPF_PSEUDO_CALL))
			continue;
		to = (int64_t)pc + 1 + ((op == BPF_CALL || (cls == BPF_JMP32 && op == BPF_JA))
					? in->imm : in->off);
		if (to >= 0 && to <= p->n_insns && t[to] < UINT8_MAX)
			t[to]++;
	}
	return t;
}

/* The rotate window starting at @p pc (a "rT = rX"), or no change. */
static void match_rotate(const struct sl_prog *p, const uint8_t *targets, uint32_t pc,
			 uint8_t *fuse)
{
	const struct bpf_insn *w = &p->insns[pc];
	uint8_t x = w[0].src_reg, t = w[0].dst_reg;
	const struct bpf_insn *sx, *st;
	uint32_t ix;

	if (w[0].code != (BPF_ALU64 | BPF_MOV | BPF_X) || w[0].off || x == t ||
	    !is_shift_k(&w[1]) || !is_shift_k(&w[2]) ||
	    w[3].code != (BPF_ALU64 | BPF_OR | BPF_X) || targets[pc + 1] || targets[pc + 2] ||
	    targets[pc + 3])
		return;
	if (w[1].dst_reg == x && w[2].dst_reg == t)
		ix = pc + 1;
	else if (w[1].dst_reg == t && w[2].dst_reg == x)
		ix = pc + 2;
	else
		return;
	sx = &p->insns[ix];
	st = &p->insns[ix == pc + 1 ? pc + 2 : pc + 1];
	if (SL_OP_CODE(sx->code) == SL_OP_CODE(st->code) || sx->imm + st->imm != 64)
		return;
	if (w[3].dst_reg == x && w[3].src_reg == t)
		fuse[ix] = JIT_FUSE_ROL;
	else if (w[3].dst_reg == t && w[3].src_reg == x)
		fuse[ix == pc + 1 ? pc + 2 : pc + 1] = JIT_FUSE_ROL;
	else
		return;
	fuse[pc + 3] = JIT_FUSE_DROP;
}

/* "rX *= 3|5|9; rX += imm" at @p pc (not with blinding: the lea carries both immediates). */
static void match_lea(const struct sl_prog *p, const uint8_t *targets, uint32_t pc, uint8_t *fuse)
{
	const struct bpf_insn *w = &p->insns[pc];
	uint8_t cls = SL_OP_CLASS(w[0].code);

	if ((cls != BPF_ALU64 && cls != BPF_ALU) || w[0].code != (cls | BPF_MUL | BPF_K) ||
	    (w[0].imm != 3 && w[0].imm != 5 && w[0].imm != 9) ||
	    w[1].code != (cls | BPF_ADD | BPF_K) || w[1].dst_reg != w[0].dst_reg || targets[pc + 1])
		return;
	fuse[pc] = JIT_FUSE_LEA;
	fuse[pc + 1] = JIT_FUSE_DROP;
}

/* "if (cond) goto +1; rX = imm | rY" at @p pc (not with blinding: imm would show). */
static void match_cmov(const struct sl_prog *p, const uint8_t *targets, uint32_t pc, uint8_t *fuse)
{
	const struct bpf_insn *w = &p->insns[pc];
	uint8_t cls = SL_OP_CLASS(w[1].code);

	if (!jit_is_cond(&w[0]) || w[0].off != 1 ||
	    (cls != BPF_ALU && cls != BPF_ALU64) || SL_OP_CODE(w[1].code) != BPF_MOV || w[1].off)
		return;
	if (targets[pc + 1]) {          /* others jump to the mov: keep it, jump over it */
		fuse[pc] = JIT_FUSE_CMOV_JT;
		return;
	}
	fuse[pc] = JIT_FUSE_CMOV;
	fuse[pc + 1] = JIT_FUSE_DROP;
}

/* "rX <<= 32; rX >>= 32" at @p pc */
static void match_zext(const struct sl_prog *p, const uint8_t *targets, uint32_t pc, uint8_t *fuse)
{
	const struct bpf_insn *w = &p->insns[pc];

	if (w[0].code != (BPF_ALU64 | BPF_LSH | BPF_K) || w[0].imm != 32 ||
	    w[1].code != (BPF_ALU64 | BPF_RSH | BPF_K) || w[1].imm != 32 ||
	    w[1].dst_reg != w[0].dst_reg || targets[pc + 1])
		return;
	fuse[pc] = JIT_FUSE_ZEXT;
	fuse[pc + 1] = JIT_FUSE_DROP;
}

static bool is_ldxb(const struct bpf_insn *in)
{
	return in->code == (BPF_LDX | BPF_MEM | BPF_B);
}

static bool is_op_k(const struct bpf_insn *in, uint8_t op, int32_t k)
{
	uint8_t cls = SL_OP_CLASS(in->code);

	return (cls == BPF_ALU || cls == BPF_ALU64) && in->code == (cls | op | BPF_K) && in->imm == k;
}

/* Two byte loads ld[0], ld[1] of neighbouring offsets: @p hi gets the lower offset, @p lo the other. */
static bool adjacent_bytes(const struct bpf_insn *w, const int ld[2], int *hi, int *lo)
{
	if (w[ld[0]].off + 1 == w[ld[1]].off)
		*hi = ld[0], *lo = ld[1];
	else if (w[ld[1]].off + 1 == w[ld[0]].off)
		*hi = ld[1], *lo = ld[0];
	else
		return false;
	return true;
}

/*
 * Byte-wise be16 (or le16) load in the 4 instructions at @p pc; see the
 * comment at the top. sl is the load whose register is shifted, ot the
 * other: be16 when sl has the lower offset, le16 (JIT_BE16_LE, no rol)
 * when ot has it.
 */
static void match_be16(const struct sl_prog *p, const uint8_t *targets, uint32_t pc, uint8_t *fuse)
{
	const struct bpf_insn *w = &p->insns[pc];
	int ld[2], nld = 0, sh = -1, sl, ot;
	uint8_t cls = SL_OP_CLASS(w[3].code);
	bool le;

	if (targets[pc + 1] || targets[pc + 2] || targets[pc + 3] ||
	    (cls != BPF_ALU && cls != BPF_ALU64) || w[3].code != (cls | BPF_OR | BPF_X))
		return;
	for (int i = 0; i < 3; i++) {
		if (is_ldxb(&w[i]) && nld < 2)
			ld[nld++] = i;
		else if (is_op_k(&w[i], BPF_LSH, 8) && sh < 0)
			sh = i;
		else
			return;
	}
	if (nld != 2 || sh < 0 || w[ld[0]].src_reg != w[ld[1]].src_reg)
		return;
	sl = w[ld[0]].dst_reg == w[sh].dst_reg ? ld[0] : ld[1];
	ot = sl == ld[0] ? ld[1] : ld[0];
	if (w[sh].dst_reg != w[sl].dst_reg || sh < sl || w[sl].dst_reg == w[ot].dst_reg ||
	    w[sl].dst_reg == w[sl].src_reg || w[ot].dst_reg == w[ot].src_reg)
		return;
	if (w[sl].off + 1 == w[ot].off)
		le = false;
	else if (w[ot].off + 1 == w[sl].off)
		le = true;
	else
		return;
	if (w[3].dst_reg == w[sl].dst_reg && w[3].src_reg == w[ot].dst_reg) {
		fuse[pc + sl] = le ? JIT_FUSE_BE16_LO : JIT_FUSE_BE16_HI;
		fuse[p->n_insns + pc + sl] = le ? JIT_BE16_LE : 0;
		fuse[pc + sh] = JIT_FUSE_DROP;
	} else if (w[3].dst_reg == w[ot].dst_reg && w[3].src_reg == w[sl].dst_reg) {
		fuse[pc + ot] = le ? JIT_FUSE_BE16_HI : JIT_FUSE_BE16_LO;
		fuse[p->n_insns + pc + ot] = le ? JIT_BE16_LE : 0;
	} else {
		return;
	}
	fuse[pc + 3] = JIT_FUSE_DROP;
}

/*
 * "rX op= y; if rX ==|!= 0 goto" (op add, sub, and, or, xor; the jump as
 * wide as the operation, or a 64-bit jump after a 32-bit one, which
 * zero-extends) at @p pc, the jump: the x86 operation's ZF is the
 * comparison, so the JIT emits only the jcc.
 */
static void match_jz_flags(const struct sl_prog *p, const uint8_t *targets, uint32_t pc,
			   uint8_t *fuse)
{
	const struct bpf_insn *alu = &p->insns[pc - 1], *j = &p->insns[pc];
	uint8_t acls = SL_OP_CLASS(alu->code), aop = SL_OP_CODE(alu->code);
	uint8_t jcls = SL_OP_CLASS(j->code), jop = SL_OP_CODE(j->code);

	if (pc < 1 || targets[pc] || (fuse[pc - 1] && fuse[pc - 1] != JIT_FUSE_ALU_K) || (pc >= 2 && sl_isa_is_lddw(&p->insns[pc - 2])) ||
	    (acls != BPF_ALU && acls != BPF_ALU64) ||
	    (aop != BPF_ADD && aop != BPF_SUB && aop != BPF_AND && aop != BPF_OR && aop != BPF_XOR) ||
	    (jop != BPF_JEQ && jop != BPF_JNE) || SL_OP_SRC(j->code) != BPF_K || j->imm != 0 ||
	    j->dst_reg != alu->dst_reg || (jcls != BPF_JMP && jcls != BPF_JMP32) ||
	    (acls == BPF_ALU64 && jcls == BPF_JMP32))
		return;
	fuse[pc] = JIT_FUSE_JZ_FLAGS;
}

/*
 * "rC = 1; if (cond) goto +1; rC = 0" (clang's bool of a comparison, e.g.
 * the carry of csum_add) at @p pc: "xor rC, rC; cmp; setcc rC8", no
 * branch. Not when the comparison reads rC (the xor comes first).
 */
static void match_setcc(const struct sl_prog *p, const uint8_t *targets, uint32_t pc, uint8_t *fuse)
{
	const struct bpf_insn *w = &p->insns[pc];
	uint8_t c = w[0].dst_reg;

	/* "... rC = 0; goto L" with the jump going to L too: the same bool, then the goto */
	bool to_goto = pc + 3 < p->n_insns && w[3].code == (BPF_JMP | BPF_JA) &&
		       (int32_t)w[3].off + 2 == w[1].off && !fuse[pc + 3];

	if (pc + 2 >= p->n_insns || fuse[pc + 2] || targets[pc + 1] || targets[pc + 2] ||
	    (SL_OP_CLASS(w[0].code) != BPF_ALU && SL_OP_CLASS(w[0].code) != BPF_ALU64) ||
	    w[0].code != (SL_OP_CLASS(w[0].code) | BPF_MOV | BPF_K) || w[0].imm != 1 || w[0].off ||
	    !jit_is_cond(&w[1]) || (w[1].off != 1 && !to_goto) || w[1].dst_reg == c ||
	    (SL_OP_SRC(w[1].code) == BPF_X && w[1].src_reg == c) ||
	    (SL_OP_CLASS(w[2].code) != BPF_ALU && SL_OP_CLASS(w[2].code) != BPF_ALU64) ||
	    w[2].code != (SL_OP_CLASS(w[2].code) | BPF_MOV | BPF_K) || w[2].imm != 0 ||
	    w[2].dst_reg != c || w[2].off)
		return;
	fuse[pc] = JIT_FUSE_SETCC_ZERO;
	fuse[pc + 1] = JIT_FUSE_SETCC;
	fuse[pc + 2] = JIT_FUSE_DROP;
}

/*
 * The same bool with "rC = 1" further back (clang's "a == X || a == Y":
 * "rB = 1; rA = 1; if a == X goto +1; rA = 0; if a == Y goto +1; rB = 0;
 * rB |= rA"): "rC = 1" at @p pc, then at most JIT_SETCC_FAR instructions
 * that neither read nor write rC, call or exit, whose jumps land inside
 * them or on the bool's jump, and on which no jump from elsewhere lands;
 * then "if (cond) goto +1; rC = 0". rC's 1 is seen by nobody before the
 * setcc, so "xor rC, rC" in its place and "setcc rC8" at the jump give
 * the same rC on every path.
 */
#define JIT_SETCC_FAR 12

static bool reads(const struct bpf_insn *in, uint8_t r);

static bool setcc_gap_ok(const struct sl_prog *p, const uint8_t *targets, uint32_t pc, uint32_t j,
			 uint8_t c)
{
	unsigned inner = 0, landed = 0;

	for (uint32_t k = pc + 1; k < j; k++) {
		const struct bpf_insn *in = &p->insns[k];
		uint8_t cls = SL_OP_CLASS(in->code);
		int64_t t = (int64_t)k + 1 + in->off;

		if (cls == BPF_JMP || cls == BPF_JMP32) {
			if ((!jit_is_cond(in) && in->code != (BPF_JMP | BPF_JA)) || in->dst_reg == c ||
			    (SL_OP_SRC(in->code) == BPF_X && in->src_reg == c) || t <= pc || t > j)
				return false;
			inner++;
		} else if (reads(in, c) || jit_writes(in, c)) {
			return false;
		}
		if (sl_isa_is_lddw(in))
			k++;
	}
	for (uint32_t k = pc + 1; k <= j; k++)
		landed += targets[k];
	return landed == inner;
}

static void match_setcc_far(const struct sl_prog *p, const uint8_t *targets, uint32_t pc,
			    uint8_t *fuse)
{
	const struct bpf_insn *w = &p->insns[pc];
	uint8_t c = w->dst_reg, cls = SL_OP_CLASS(w->code);

	if ((cls != BPF_ALU && cls != BPF_ALU64) || w->code != (cls | BPF_MOV | BPF_K) || w->imm != 1 ||
	    w->off)
		return;
	for (uint32_t j = pc + 2; j + 1 < p->n_insns && j <= pc + 1 + JIT_SETCC_FAR; j++) {
		const struct bpf_insn *jp = &p->insns[j], *z = jp + 1;
		uint8_t zc = SL_OP_CLASS(z->code);

		if (!jit_is_cond(jp) || jp->off != 1 || fuse[j] || fuse[j + 1] || targets[j + 1])
			continue;
		if (jp->dst_reg == c || (SL_OP_SRC(jp->code) == BPF_X && jp->src_reg == c))
			return;
		if ((zc != BPF_ALU && zc != BPF_ALU64) || z->code != (zc | BPF_MOV | BPF_K) || z->imm ||
		    z->dst_reg != c || z->off)
			continue;                               /* a jump inside, perhaps */
		if (!setcc_gap_ok(p, targets, pc, j, c))
			return;
		fuse[pc] = JIT_FUSE_SETCC_ZERO;
		fuse[j] = JIT_FUSE_SETCC;
		fuse[j + 1] = JIT_FUSE_DROP;
		return;
	}
}

/*
 * "rX &= M; rX >>= k" (64-bit) at @p pc where M keeps exactly bits k-31
 * (an immediate, or a constant register, also one set before a loop:
 * jit_const_reaching()): the bits of the 32-bit value above k, as v1
 * writes "u32 >> k". One "shr r32, k" gives the same 64-bit
 * result (the AND's constant is then not read).
 */
static void match_mask_shr(const struct sl_prog *p, const uint8_t *targets,
			   const struct jit_preds *jp, uint32_t pc, uint8_t *fuse)
{
	const struct bpf_insn *an = &p->insns[pc], *sh = an + 1;
	uint64_t m;

	if (SL_OP_CLASS(an->code) != BPF_ALU64 || SL_OP_CODE(an->code) != BPF_AND ||
	    sh->code != (BPF_ALU64 | BPF_RSH | BPF_K) || sh->dst_reg != an->dst_reg ||
	    sh->imm < 1 || sh->imm > 31 || targets[pc + 1] || fuse[pc + 1])
		return;
	if (SL_OP_SRC(an->code) == BPF_K)
		m = (uint64_t)(int64_t)an->imm;
	else if (an->src_reg == an->dst_reg ||
		 (!jit_const_before(p, targets, pc, an->src_reg, &m) &&
		  !jit_const_reaching(p, targets, jp, pc, an->src_reg, &m)))
		return;                                 /* (reaching: set before a loop) */
	if ((m >> sh->imm) != (0xffffffffull >> sh->imm))
		return;
	fuse[pc] = JIT_FUSE_MASK_SHR;
	fuse[pc + 1] = JIT_FUSE_DROP;
}

/*
 * "rX <<= 32; rX >>= 32" (v1's zero extension) at @p pc when nothing reads
 * the upper half of rX afterwards (@p hi, liveness.c): the low half is
 * what it was, so both emit nothing.
 */
static void match_zext_unread(const struct sl_prog *p, const uint8_t *targets, const uint16_t *hi,
			      uint32_t pc, uint8_t *fuse)
{
	const struct bpf_insn *w = &p->insns[pc];

	if (w[0].code != (BPF_ALU64 | BPF_LSH | BPF_K) || w[0].imm != 32 ||
	    w[1].code != (BPF_ALU64 | BPF_RSH | BPF_K) || w[1].imm != 32 ||
	    w[1].dst_reg != w[0].dst_reg || targets[pc + 1] || (hi[pc + 1] & (1u << w[0].dst_reg)))
		return;
	fuse[pc] = JIT_FUSE_NOP;
	fuse[pc + 1] = JIT_FUSE_NOP;
}

/*
 * "rD = rS; rD += imm|rT" (64-bit; not with blinding) at @p pc becomes one
 * lea, "rD = rS; rD = be16|le16 rD" a movzx (and rol), "rD = rS; rD <<= 32;
 * rD >>= 32" a mov r32: the mov's copy and the operation in one instruction. Not with r10 as rT or as the source
 * of the swap (r10 may be rsp + n in the JIT).
 */
static void match_mov_op(const struct sl_prog *p, const uint8_t *targets, uint32_t pc,
			 uint8_t *fuse, bool blind)
{
	const struct bpf_insn *mv = &p->insns[pc], *op = mv + 1;
	uint8_t code = op->code, f;

	if (mv->code == (BPF_ALU | BPF_MOV | BPF_X) && code == (BPF_ALU | BPF_AND | BPF_K) &&
	    (op->imm == 0xff || op->imm == 0xffff) && !mv->off && mv->dst_reg != mv->src_reg &&
	    op->dst_reg == mv->dst_reg && mv->src_reg != BPF_REG_10 && !targets[pc + 1]) {
		fuse[pc] = JIT_FUSE_MOV_MOVZX;             /* v3: "wD = wS; wD &= 0xff" */
		fuse[pc + 1] = JIT_FUSE_DROP;
		return;
	}
	if (mv->code != (BPF_ALU64 | BPF_MOV | BPF_X) || mv->off || mv->dst_reg == mv->src_reg ||
	    op->dst_reg != mv->dst_reg || targets[pc + 1])
		return;
	if (pc + 2 < p->n_insns && !fuse[pc + 2] && !targets[pc + 2] &&
	    code == (BPF_ALU64 | BPF_LSH | BPF_K) && op->imm == 32 && mv->src_reg != BPF_REG_10 &&
	    op[1].code == (BPF_ALU64 | BPF_RSH | BPF_K) && op[1].imm == 32 &&
	    op[1].dst_reg == mv->dst_reg) {
		fuse[pc] = JIT_FUSE_MOV_ZEXT;          /* and "<<= 32; >>= 32" */
		fuse[pc + 1] = fuse[pc + 2] = JIT_FUSE_DROP;
		return;
	}
	if (code == (BPF_ALU64 | BPF_ADD | BPF_K) && !blind)
		f = JIT_FUSE_MOV_ADD;
	else if (code == (BPF_ALU64 | BPF_ADD | BPF_X) && op->src_reg != mv->dst_reg &&
		 op->src_reg != BPF_REG_10 && mv->src_reg != BPF_REG_10)
		f = JIT_FUSE_MOV_ADD;
	else if ((code == (BPF_ALU64 | BPF_AND | BPF_K) || code == (BPF_ALU | BPF_AND | BPF_K)) &&
		 (op->imm == 0xff || op->imm == 0xffff) && mv->src_reg != BPF_REG_10)
		f = JIT_FUSE_MOV_MOVZX;
	else if (SL_OP_CODE(code) == BPF_END && op->imm == 16 && mv->src_reg != BPF_REG_10 &&
		 (SL_OP_CLASS(code) == BPF_ALU || SL_OP_CLASS(code) == BPF_ALU64))
		f = JIT_FUSE_MOV_SWAP16;
	else
		return;
	fuse[pc] = f;
	fuse[pc + 1] = JIT_FUSE_DROP;
}

/*
 * A conditional jump comparing with a register that holds a constant of
 * the same block ("r1 = 20; if r1 > r4 goto": BPF puts immediates on the
 * right only, so clang loads them first) at @p pc: cmp with the
 * immediate, mirrored when the constant is the jump's dst. The mov then
 * goes when nothing else reads it. The argument: bit 7 set when mirrored,
 * bits 0-6 the distance back to the mov / lddw. A 64-bit unsigned compare
 * (or JSET) with a constant in [2^31, 2^32), which no sign-extended imm32
 * gives, of a register whose upper half is zero before it (jit_hi_zero():
 * v1's masked address words) is a 32-bit compare (CMP_K32).
 */
static void match_cmp_k(const struct sl_prog *p, const uint8_t *targets, const uint16_t *zero,
			uint32_t pc, uint8_t *fuse)
{
	const struct bpf_insn *in = &p->insns[pc];
	bool w64 = SL_OP_CLASS(in->code) == BPF_JMP;
	uint8_t op = SL_OP_CODE(in->code);
	bool unsig = op == BPF_JEQ || op == BPF_JNE || op == BPF_JGT || op == BPF_JGE ||
		     op == BPF_JLT || op == BPF_JLE || op == BPF_JSET;
	uint64_t v;
	int64_t k;
	uint8_t r;

	if (!jit_is_cond(in) || SL_OP_SRC(in->code) != BPF_X || in->dst_reg == in->src_reg)
		return;
	for (int side = 0; side < 2; side++) {
		uint8_t other = side ? in->src_reg : in->dst_reg;
		bool k32 = false;

		r = side ? in->dst_reg : in->src_reg;
		if (r == BPF_REG_10)
			continue;
		k = jit_const_def(p, targets, pc, r);
		if (k < 0 || pc - k > 127 || !jit_const_of(&p->insns[k], &v))
			continue;
		if (w64 && (int64_t)v != (int64_t)(int32_t)v) {
			/* below 2^32 against a value with a zero upper half: a 32-bit compare */
			if (!unsig || v > UINT32_MAX || !zero || !(zero[pc] & (1u << other)))
				continue;
			k32 = true;
		}
		fuse[pc] = k32 ? JIT_FUSE_CMP_K32 : JIT_FUSE_CMP_K;
		fuse[p->n_insns + pc] = (uint8_t)((pc - k) | (side ? 0x80 : 0));
		return;
	}
}

/*
 * "rX op= rC" (add, sub, and, or, xor, both widths) at @p pc where rC
 * holds a constant of the block (v1 needs an lddw for any mask above
 * 2^31): the operation with an immediate, when the constant is a
 * sign-extended imm32, or for a 64-bit AND, below 2^32 (then "and r32,
 * imm", which zero-extends as the mask's zero upper half would). The
 * argument: the distance back to the constant's mov / lddw, as for CMP_K.
 */
static void match_alu_k(const struct sl_prog *p, const uint8_t *targets, uint32_t pc,
			uint8_t *fuse)
{
	const struct bpf_insn *in = &p->insns[pc];
	uint8_t cls = SL_OP_CLASS(in->code), op = SL_OP_CODE(in->code);
	uint64_t v;
	int64_t k;

	if ((cls != BPF_ALU64 && cls != BPF_ALU) || SL_OP_SRC(in->code) != BPF_X || in->off ||
	    (op != BPF_ADD && op != BPF_SUB && op != BPF_AND && op != BPF_OR && op != BPF_XOR) ||
	    in->src_reg == in->dst_reg || in->src_reg == BPF_REG_10 || in->dst_reg == BPF_REG_10)
		return;
	k = jit_const_def(p, targets, pc, in->src_reg);
	if (k < 0 || pc - k > 127 || !jit_const_of(&p->insns[k], &v) ||
	    (cls == BPF_ALU64 && (int64_t)v != (int64_t)(int32_t)v &&
	     !(op == BPF_AND && v <= UINT32_MAX)))
		return;
	fuse[pc] = JIT_FUSE_ALU_K;
	fuse[p->n_insns + pc] = (uint8_t)(pc - k);
}

/*
 * "*(size *)(rB + off) = rC" at @p pc where rC holds a constant of the
 * block (v1 stores zeros and other constants from a register): "mov size
 * [m], imm" when the constant is an imm32 for the size (any value for a
 * store of at most 4 bytes, which keeps its low bytes); the mov then goes
 * when nothing else reads it. The argument: the distance back, as for CMP_K.
 */
static void match_st_k(const struct sl_prog *p, const uint8_t *targets, uint32_t pc, uint8_t *fuse)
{
	const struct bpf_insn *in = &p->insns[pc];
	uint64_t v;
	int64_t k;

	if (SL_OP_CLASS(in->code) != BPF_STX || SL_OP_MODE(in->code) != BPF_MEM ||
	    in->src_reg == in->dst_reg || in->src_reg == BPF_REG_10)
		return;
	k = jit_const_def(p, targets, pc, in->src_reg);
	if (k < 0 || pc - k > 127 || !jit_const_of(&p->insns[k], &v) ||
	    (SL_OP_SIZE(in->code) == BPF_DW && (int64_t)v != (int64_t)(int32_t)v))
		return;
	fuse[pc] = JIT_FUSE_ST_K;
	fuse[p->n_insns + pc] = (uint8_t)(pc - k);
}

/*
 * "rX = *(size *)(r10 + off); *(size *)(r10 + off) = rX" (clang reloads a
 * spilled value where paths join and spills it again): the store writes
 * back the bytes just loaded, so it emits nothing (JIT_FUSE_NOP), unless a
 * jump lands on it. The stack is the program's own: no other thread can
 * have written the slot between the two.
 */
static void match_reload(const struct sl_prog *p, const uint8_t *targets, uint32_t pc, uint8_t *fuse)
{
	const struct bpf_insn *ld = &p->insns[pc], *st = ld + 1;

	if (SL_OP_CLASS(ld->code) != BPF_LDX || SL_OP_MODE(ld->code) != BPF_MEM ||
	    ld->src_reg != BPF_REG_10 || targets[pc + 1] || fuse[pc + 1])
		return;
	if (st->code != (BPF_STX | BPF_MEM | SL_OP_SIZE(ld->code)) || st->dst_reg != BPF_REG_10 ||
	    st->src_reg != ld->dst_reg || st->off != ld->off)
		return;
	fuse[pc + 1] = JIT_FUSE_NOP;
}

/*
 * The instruction before the one at @p k, stepping over lddw's of
 * registers other than @p v and @p a. UINT32_MAX when a jump lands on @p k
 * or on a stepped-over lddw, or when nothing is left.
 */
static uint32_t prev_skip_lddw(const struct sl_prog *p, const uint8_t *targets, uint32_t k,
			       uint8_t v, uint8_t a)
{
	while (k >= 1 && !targets[k]) {
		const struct bpf_insn *ld = k >= 2 ? &p->insns[k - 2] : NULL;

		if (!ld || !sl_isa_is_lddw(ld))
			return k - 1;
		if (ld->dst_reg == v || ld->dst_reg == a || targets[k - 1])
			return UINT32_MAX;
		k -= 2;
	}
	return UINT32_MAX;
}

/* The two-multiply rotate ending with the OR at @p pc (see the top). */
static void match_mulrot(const struct sl_prog *p, const uint8_t *targets, uint32_t pc,
			 uint8_t *fuse)
{
	const struct bpf_insn *orr = &p->insns[pc], *sh = orr - 1, *mv;
	uint8_t v = orr->dst_reg, a = orr->src_reg;
	uint32_t j, m, mvpc;
	uint64_t c1, c2;

	if (pc < 4 || orr->code != (BPF_ALU64 | BPF_OR | BPF_X) || v == a ||
	    sh->code != (BPF_ALU64 | BPF_RSH | BPF_K) || sh->dst_reg != v || sh->imm <= 0 ||
	    sh->imm >= 64 || targets[pc] || fuse[pc - 1])
		return;
	mvpc = prev_skip_lddw(p, targets, pc - 1, v, a);
	if (mvpc == UINT32_MAX || mvpc < 2 || fuse[mvpc])
		return;
	mv = &p->insns[mvpc];
	if (mv->code != (BPF_ALU64 | BPF_MUL | BPF_X) || mv->dst_reg != v ||
	    mv->src_reg == v || mv->src_reg == a)
		return;
	/* back from the multiply of rV: "rA *= rC1" after "rA = rV", nothing else on rV/rA */
	for (j = mvpc; j-- > 0;) {
		const struct bpf_insn *in = &p->insns[j];

		if (targets[j + 1])
			return;
		if (j > 0 && sl_isa_is_lddw(&p->insns[j - 1])) {
			in = &p->insns[--j];                    /* an lddw in between */
			if (targets[j + 1])
				return;
		} else if (in->code == (BPF_ALU64 | BPF_MUL | BPF_X) && in->dst_reg == a && j > 0) {
			break;
		}
		if (jit_writes(in, v) || jit_writes(in, a) ||
		    SL_OP_CLASS(in->code) == BPF_JMP || SL_OP_CLASS(in->code) == BPF_JMP32 ||
		    mvpc - j > 16)
			return;
	}
	if (j == UINT32_MAX)
		return;
	m = prev_skip_lddw(p, targets, j, v, a);
	if (m == UINT32_MAX || p->insns[m].code != (BPF_ALU64 | BPF_MOV | BPF_X) ||
	    p->insns[m].dst_reg != a || p->insns[m].src_reg != v || p->insns[m].off ||
	    p->insns[j].src_reg == a || p->insns[j].src_reg == v ||
	    !jit_const_before(p, targets, j, p->insns[j].src_reg, &c1) ||
	    !jit_const_before(p, targets, mvpc, mv->src_reg, &c2) ||
	    c1 != c2 << (64 - sh->imm))
		return;
	fuse[pc - 1] = JIT_FUSE_ROL;
	fuse[pc] = JIT_FUSE_DROP;
}

/*
 * The same shifted: (u8[P+k] << s+8) | (u8[P+k+1] << s), s > 0, in the 5
 * instructions at @p pc (two loads, their two shifts, the OR last). The
 * load of the OR's destination becomes the be16 load shifted by s (kept in
 * fuse[n + pc]); its own shift and the OR emit nothing.
 */
static void match_be16_shifted(const struct sl_prog *p, const uint8_t *targets, uint32_t pc,
			       uint8_t *fuse)
{
	const struct bpf_insn *w = &p->insns[pc];
	int ld[2], nld = 0, sh[2], nsh = 0, hi, lo, shi = -1, slo = -1, s;
	bool narrow = false;

	if (targets[pc + 1] || targets[pc + 2] || targets[pc + 3] || targets[pc + 4] ||
	    SL_OP_CODE(w[4].code) != BPF_OR || SL_OP_SRC(w[4].code) != BPF_X ||
	    (SL_OP_CLASS(w[4].code) != BPF_ALU && SL_OP_CLASS(w[4].code) != BPF_ALU64))
		return;
	for (int i = 0; i < 4; i++) {
		uint8_t cls = SL_OP_CLASS(w[i].code);

		if (is_ldxb(&w[i]) && nld < 2)
			ld[nld++] = i;
		else if ((cls == BPF_ALU || cls == BPF_ALU64) && nsh < 2 &&
			 w[i].code == (cls | BPF_LSH | BPF_K))
			sh[nsh++] = i;
		else
			return;
	}
	if (nld != 2 || nsh != 2 || w[ld[0]].src_reg != w[ld[1]].src_reg)
		return;
	if (!adjacent_bytes(w, ld, &hi, &lo))
		return;
	for (int i = 0; i < 2; i++) {
		if (w[sh[i]].dst_reg == w[hi].dst_reg && sh[i] > hi)
			shi = sh[i];
		else if (w[sh[i]].dst_reg == w[lo].dst_reg && sh[i] > lo)
			slo = sh[i];
	}
	if (shi < 0 || slo < 0 || w[hi].dst_reg == w[lo].dst_reg ||
	    w[hi].dst_reg == w[hi].src_reg || w[lo].dst_reg == w[lo].src_reg)
		return;
	s = w[slo].imm;
	for (int i = 0; i < 5; i++)
		narrow |= SL_OP_CLASS(w[i].code) == BPF_ALU;
	if (s < 1 || w[shi].imm != s + 8 || s > (narrow ? 16 : 48))
		return;
	if (w[4].dst_reg == w[hi].dst_reg && w[4].src_reg == w[lo].dst_reg) {
		fuse[pc + hi] = JIT_FUSE_BE16_HI;
		fuse[p->n_insns + pc + hi] = (uint8_t)s;
		fuse[pc + shi] = JIT_FUSE_DROP;
	} else if (w[4].dst_reg == w[lo].dst_reg && w[4].src_reg == w[hi].dst_reg) {
		fuse[pc + lo] = JIT_FUSE_BE16_LO;
		fuse[p->n_insns + pc + lo] = (uint8_t)s;
		fuse[pc + slo] = JIT_FUSE_DROP;
	} else {
		return;
	}
	fuse[pc + 4] = JIT_FUSE_DROP;
}

/* Does instruction @p in read register @p r? (Jumps and calls: always, conservatively.) */
static bool reads(const struct bpf_insn *in, uint8_t r)
{
	uint8_t cls = SL_OP_CLASS(in->code), op = SL_OP_CODE(in->code);

	switch (cls) {
	case BPF_ALU:
	case BPF_ALU64:
		return (op != BPF_MOV && in->dst_reg == r) ||
		       (SL_OP_SRC(in->code) == BPF_X && op != BPF_END && in->src_reg == r);
	case BPF_LDX:
		return in->src_reg == r;
	case BPF_ST:
		return in->dst_reg == r;
	case BPF_STX:
		return in->dst_reg == r || in->src_reg == r || r == BPF_REG_0;
	case BPF_LD:
		return !sl_isa_is_lddw(in);
	}
	return true;
}

/*
 * The last instruction before @p pc that writes @p r, in the same straight
 * line: no jump target after it, no jump, call or exit between it and
 * @p pc (so nobody can observe a register between the two but the
 * instructions in between). -1 when there is none within @p back
 * instructions (an lddw counts as one).
 */
int64_t jit_line_def(const struct sl_prog *p, const uint8_t *targets, uint32_t pc, uint8_t r,
		     uint32_t back)
{
	for (uint32_t k = pc, n = 0; k-- > 0 && n < back; n++) {
		const struct bpf_insn *in = &p->insns[k];
		uint8_t cls;

		if (targets[k + 1])
			return -1;
		if (k > 0 && sl_isa_is_lddw(&p->insns[k - 1]))
			in = &p->insns[--k];
		cls = SL_OP_CLASS(in->code);
		if (cls == BPF_JMP || cls == BPF_JMP32)
			return -1;
		if (jit_writes(in, r))
			return k;
	}
	return -1;
}

/* Does any instruction in [from, to) read (@p rd) or write (@p wr) the register? */
static bool touched(const struct sl_prog *p, uint32_t from, uint32_t to, int rd, int wr)
{
	for (uint32_t k = from; k < to; k++) {
		const struct bpf_insn *in = &p->insns[k];

		if ((rd >= 0 && reads(in, (uint8_t)rd)) || (wr >= 0 && jit_writes(in, (uint8_t)wr)))
			return true;
		if (sl_isa_is_lddw(in))
			k++;
	}
	return false;
}

/* Where the value register @p r holds before @p at was copied from: (*reg, *from). */
static void copy_origin(const struct sl_prog *p, const uint8_t *targets, uint32_t at, uint8_t r,
			bool w32, uint8_t *reg, uint32_t *from)
{
	int64_t m = jit_line_def(p, targets, at, r, 24);
	const struct bpf_insn *mv = m >= 0 ? &p->insns[m] : NULL;

	*reg = r;
	*from = at;
	if (mv && SL_OP_CODE(mv->code) == BPF_MOV && SL_OP_SRC(mv->code) == BPF_X && !mv->off &&
	    (SL_OP_CLASS(mv->code) == BPF_ALU64 || (w32 && SL_OP_CLASS(mv->code) == BPF_ALU)) &&
	    mv->src_reg != BPF_REG_10) {
		*reg = mv->src_reg;
		*from = (uint32_t)m;
	}
}

static bool is_shift_imm(const struct bpf_insn *in, uint8_t cls)
{
	return SL_OP_CLASS(in->code) == cls && SL_OP_SRC(in->code) == BPF_K &&
	       (SL_OP_CODE(in->code) == BPF_LSH || SL_OP_CODE(in->code) == BPF_RSH) &&
	       in->imm > 0 && in->imm < (cls == BPF_ALU ? 32 : 64);
}

/*
 * v1's 32-bit right half "rS &= M; rS >>= b" before @p ks: the AND's pc,
 * when M (an immediate or a constant register) keeps exactly bits b-31.
 */
static int64_t rot32_mask(const struct sl_prog *p, const uint8_t *targets, uint32_t ks, int b)
{
	uint8_t r = p->insns[ks].dst_reg;
	int64_t k = jit_line_def(p, targets, ks, r, 24);
	const struct bpf_insn *an = k >= 0 ? &p->insns[k] : NULL;
	uint64_t m;

	if (!an || SL_OP_CLASS(an->code) != BPF_ALU64 || SL_OP_CODE(an->code) != BPF_AND)
		return -1;
	if (SL_OP_SRC(an->code) == BPF_K)
		m = (uint64_t)(int64_t)an->imm;
	else if (an->src_reg == r || !jit_const_before(p, targets, (uint32_t)k, an->src_reg, &m))
		return -1;
	return (m >> b) == (0xffffffffull >> b) ? k : -1;
}

/*
 * A rotate written as two shifts of copies of one value and an OR, in any
 * order, with lddw's and other work in between ("rA = rX; rA >>= 32-k;
 * rB = rX; rB <<= k; rB |= rA", v3's 32-bit form; the same in 64 bits;
 * v1's "rA &= 0xffffffff << (32-k)" before the right shift, when only the
 * low half of the result is ever read), the OR at @p pc: the shift of the
 * OR's destination becomes the rotate (rol r32 / rol r64) and the OR goes.
 * Nothing may read the destination between its shift and the OR, and both
 * shifted copies must hold the same value: copied from one register that
 * nothing writes between the two copies.
 */
static void match_rotate_or(const struct sl_prog *p, const uint8_t *targets, const uint16_t *hi,
			    uint32_t pc, uint8_t *fuse)
{
	const struct bpf_insn *orr = &p->insns[pc], *shd, *shs;
	uint8_t d = orr->dst_reg, s = orr->src_reg, cls, rd, rs;
	int64_t kd, ks, kand = -1;
	uint32_t fd, fs, w;

	if ((SL_OP_CLASS(orr->code) != BPF_ALU && SL_OP_CLASS(orr->code) != BPF_ALU64) ||
	    SL_OP_CODE(orr->code) != BPF_OR || SL_OP_SRC(orr->code) != BPF_X || d == s || fuse[pc])
		return;
	kd = jit_line_def(p, targets, pc, d, 24);
	ks = jit_line_def(p, targets, pc, s, 24);
	if (kd < 0 || ks < 0 || fuse[kd] || fuse[ks])
		return;
	shd = &p->insns[kd];
	shs = &p->insns[ks];
	cls = SL_OP_CLASS(shd->code);
	if (!is_shift_imm(shd, cls) || !is_shift_imm(shs, cls) || shd->code == shs->code)
		return;
	if (cls == BPF_ALU64 && SL_OP_CLASS(orr->code) == BPF_ALU64 && shd->imm + shs->imm == 64) {
		w = 64;
	} else if (cls == BPF_ALU && shd->imm + shs->imm == 32) {
		w = 32;
	} else if (cls == BPF_ALU64 && SL_OP_CLASS(orr->code) == BPF_ALU64 && hi &&
		   shd->imm + shs->imm == 32 && SL_OP_CODE(shd->code) == BPF_LSH &&
		   !(hi[pc] & (1u << d))) {
		kand = rot32_mask(p, targets, (uint32_t)ks, shs->imm);   /* v1 */
		if (kand < 0 || fuse[kand])
			return;
		w = 32;
	} else {
		return;
	}
	if (touched(p, (uint32_t)kd + 1, pc, d, -1))
		return;                                 /* someone reads the shifted value */
	copy_origin(p, targets, (uint32_t)kd, d, w == 32, &rd, &fd);
	copy_origin(p, targets, (uint32_t)(kand >= 0 ? kand : ks), s, w == 32, &rs, &fs);
	if (rd != rs || touched(p, fd < fs ? fd : fs, fd < fs ? fs : fd, -1, rd))
		return;
	fuse[kd] = w == 64 ? JIT_FUSE_ROL : JIT_FUSE_ROL32;
	fuse[pc] = JIT_FUSE_DROP;
}

/* Can the instruction at @p k stay inside a carry sequence of rA, rC, rD (any write of rC when @p c_free)? */
static bool carry_gap_ok(const struct sl_prog *p, const uint8_t *fuse, uint32_t k, uint8_t a,
			 uint8_t c, uint8_t d, bool c_free)
{
	const struct bpf_insn *in = &p->insns[k];
	uint8_t cls = SL_OP_CLASS(in->code);

	if (fuse[k] || (cls != BPF_ALU && cls != BPF_ALU64 && cls != BPF_LDX && cls != BPF_ST &&
			(cls != BPF_STX || SL_OP_MODE(in->code) != BPF_MEM)))
		return false;
	return !reads(in, a) && !jit_writes(in, a) && !reads(in, d) && !jit_writes(in, d) &&
	       !reads(in, c) && (c_free || !jit_writes(in, c));
}

/* "rD = v" (a mov of an immediate, 64-bit, or 32-bit in a v3 sequence)? */
static bool is_mov_k(const struct bpf_insn *in, uint8_t d, int32_t v, bool w32)
{
	return (in->code == (BPF_ALU64 | BPF_MOV | BPF_K) ||
		(w32 && in->code == (BPF_ALU | BPF_MOV | BPF_K))) &&
	       in->dst_reg == d && in->imm == v && !in->off;
}

/*
 * The head of a carry sequence whose add is at @p pc: v1's "rA += rB; rC
 * = rA; rC <<= 32; rC >>= 32" (*w32 false; the jump is "if rC != rA"), or
 * v3's "wA += wB" (*w32 true; the jump is "if wA < wC" with rC rB or the
 * register rA was copied from just before, since the sum is below either
 * operand exactly when it carries). @return the first pc after the head,
 * or 0.
 */
static uint32_t carry_head(const struct sl_prog *p, const uint8_t *targets, const uint8_t *fuse,
			   uint32_t pc, uint8_t *c, bool *w32)
{
	const struct bpf_insn *w = &p->insns[pc];
	uint8_t a = w[0].dst_reg;

	if (pc + 6 > p->n_insns || w[0].src_reg == a || w[0].src_reg == BPF_REG_10 ||
	    a == BPF_REG_10 ||
	    (fuse[pc] && !(fuse[pc] == JIT_FUSE_DROP && pc && fuse[pc - 1] == JIT_FUSE_MOV_ADD)))
		return 0;
	*w32 = w[0].code == (BPF_ALU | BPF_ADD | BPF_X);
	*c = w[0].src_reg;
	if (*w32) {
		if (pc && !targets[pc] && (w[-1].code == (BPF_ALU | BPF_MOV | BPF_X) ||
					   w[-1].code == (BPF_ALU64 | BPF_MOV | BPF_X)) &&
		    w[-1].dst_reg == a && w[-1].src_reg != a && !w[-1].off &&
		    (pc < 2 || !sl_isa_is_lddw(&w[-2])))
			*c = w[-1].src_reg;                     /* wA = wS; wA += wB; if wA < wS */
		return pc + 1;
	}
	*c = w[1].dst_reg;
	if (pc + 8 > p->n_insns || w[0].code != (BPF_ALU64 | BPF_ADD | BPF_X) ||
	    w[1].code != (BPF_ALU64 | BPF_MOV | BPF_X) || w[1].off || w[1].src_reg != a || *c == a ||
	    w[2].code != (BPF_ALU64 | BPF_LSH | BPF_K) || w[2].imm != 32 || w[2].dst_reg != *c ||
	    w[3].code != (BPF_ALU64 | BPF_RSH | BPF_K) || w[3].imm != 32 || w[3].dst_reg != *c ||
	    targets[pc + 1] || targets[pc + 2] || targets[pc + 3])
		return 0;
	return pc + 4;
}

/* The jump of a carry sequence: v1 "if rC != rA goto +1", v3 "if wA < wC goto +1" (or mirrored). */
static bool is_carry_jump(const struct bpf_insn *in, uint8_t a, uint8_t c, bool w32)
{
	if (in->off != 1)
		return false;
	if (w32)
		return (in->code == (BPF_JMP32 | BPF_JLT | BPF_X) && in->dst_reg == a && in->src_reg == c) ||
		       (in->code == (BPF_JMP32 | BPF_JGT | BPF_X) && in->dst_reg == c && in->src_reg == a);
	return in->code == (BPF_JMP | BPF_JNE | BPF_X) &&
	       ((in->dst_reg == c && in->src_reg == a) || (in->dst_reg == a && in->src_reg == c));
}

/*
 * The carry sequence whose add is at @p pc (see the top of the file): the
 * pc of its last add "rA += rD", or -1. @p j: the pc of its jump; @p w32:
 * the v3 form; @p one: the pc of "rD = 1".
 */
static int64_t match_carry(const struct sl_prog *p, const uint8_t *targets, const uint8_t *fuse,
			   uint32_t pc, uint32_t *j, bool *w32, uint32_t *one)
{
	uint8_t a = p->insns[pc].dst_reg, c, d;
	uint32_t g0 = carry_head(p, targets, fuse, pc, &c, w32), k = g0;
	uint32_t end = pc + 16 < p->n_insns ? pc + 16 : p->n_insns;
	bool found = false;

	if (!g0)
		return -1;
	for (; k < end && !is_carry_jump(&p->insns[k], a, c, *w32); k++)
		if (targets[k] || sl_isa_is_lddw(&p->insns[k]))
			return -1;
	if (k + 3 >= end || targets[k] || targets[k + 1] || targets[k + 2] != 1)
		return -1;
	*j = k;
	d = p->insns[k + 1].dst_reg;
	if (!is_mov_k(&p->insns[k + 1], d, 0, *w32) || d == a || d == c || d == BPF_REG_10)
		return -1;
	for (uint32_t g = g0; g < k; g++) {              /* "rD = 1", the rest other registers */
		if (!found && is_mov_k(&p->insns[g], d, 1, *w32)) {
			found = true;
			*one = g;
		} else if (!carry_gap_ok(p, fuse, g, a, c, d, false)) {
			return -1;
		}
	}
	for (k += 2; found && k < end; k++) {            /* the last add "rA += rD" */
		const struct bpf_insn *in = &p->insns[k];

		if (k > *j + 2 && targets[k])
			return -1;
		if (in->code == ((*w32 ? BPF_ALU : BPF_ALU64) | BPF_ADD | BPF_X) && in->dst_reg == a &&
		    in->src_reg == d)
			return !fuse[k] && (k + 1 >= p->n_insns || fuse[k + 1] != JIT_FUSE_JZ_FLAGS)
			       ? (int64_t)k : -1;
		if (!carry_gap_ok(p, fuse, k, a, c, d, !*w32))
			return -1;
	}
	return -1;
}

void jit_fuse_carry(const struct sl_prog *p, uint8_t *fuse, const uint8_t *dead,
		       const uint16_t *live)
{
	uint8_t *targets = jit_jump_targets(p);
	uint16_t *hi = targets ? jit_hi_live(p, targets, NULL) : NULL;
	uint16_t *zero = hi ? jit_hi_zero(p) : NULL;

	for (uint32_t pc = 0; zero && pc < p->n_insns; pc++) {
		const struct bpf_insn *in = &p->insns[pc];
		uint32_t j = 0, one = 0;
		bool w32 = false;
		int64_t f;

		if (sl_isa_is_lddw(in)) {
			pc++;
			continue;
		}
		if (dead[pc] || (SL_OP_CODE(in->code) != BPF_ADD || SL_OP_SRC(in->code) != BPF_X))
			continue;
		f = match_carry(p, targets, fuse, pc, &j, &w32, &one);
		if (f < 0 || dead[f] || (live[f] & (1u << p->insns[j + 1].dst_reg)))
			continue;
		/* v1: rA, rB below 2^32, rC dead after the jump, rA's upper half never read */
		if (!w32 && ((~zero[pc] & (1u << in->dst_reg | 1u << in->src_reg)) ||
			     (live[j] & (1u << in[1].dst_reg)) || (hi[f] & (1u << in->dst_reg))))
			continue;
		if (fuse[pc] == JIT_FUSE_DROP)
			fuse[pc - 1] = JIT_FUSE_NONE;        /* "rA = rS; rA += rB": mov, then add + adc */
		fuse[pc] = JIT_FUSE_ADC;
		for (uint32_t k = pc + 1; !w32 && k <= pc + 3; k++)
			fuse[k] = JIT_FUSE_NOP;
		fuse[one] = fuse[j] = fuse[j + 1] = fuse[f] = JIT_FUSE_NOP;
		pc = (uint32_t)f;
	}
	free(targets);
	free(hi);
	free(zero);
}

uint8_t *jit_low_only(const struct sl_prog *p, const uint8_t *fuse)
{
	uint8_t *lo = calloc(p->n_insns + 1, 1), *targets = jit_jump_targets(p);
	uint16_t *hi = targets ? jit_hi_live(p, targets, fuse) : NULL;

	for (uint32_t pc = 0; lo && hi && pc < p->n_insns; pc++) {
		const struct bpf_insn *in = &p->insns[pc];
		uint8_t op = SL_OP_CODE(in->code);
		bool k = SL_OP_SRC(in->code) == BPF_K;

		if (SL_OP_CLASS(in->code) != BPF_ALU64 || fuse[pc] || (hi[pc] & (1u << in->dst_reg)))
			continue;
		if (op == BPF_ADD || op == BPF_SUB || op == BPF_MUL || op == BPF_AND ||
		    op == BPF_OR || op == BPF_XOR || op == BPF_NEG ||
		    (op == BPF_LSH && k && in->imm >= 0 && in->imm < 32) ||
		    (op == BPF_MOV && !in->off && (k || in->src_reg != BPF_REG_10)))
			lo[pc] = 1;
	}
	if (!hi) {
		free(lo);
		lo = NULL;
	}
	free(targets);
	free(hi);
	return lo;
}

/* The matches of a short sequence starting at @p pc, in order (jit_peephole()). */
static void match_at(const struct sl_prog *p, const uint8_t *targets, const uint16_t *hi,
		     const uint16_t *zero, const struct jit_preds *jp, uint32_t pc, uint8_t *fuse,
		     bool blind)
{
	match_setcc(p, targets, pc, fuse);
	if (!fuse[pc])
		match_setcc_far(p, targets, pc, fuse);
	if (!fuse[pc])
		match_reload(p, targets, pc, fuse);
	if (!fuse[pc])
		match_zext_unread(p, targets, hi, pc, fuse);
	if (!fuse[pc])
		match_zext(p, targets, pc, fuse);
	if (!fuse[pc])
		match_mask_shr(p, targets, jp, pc, fuse);
	if (!blind && !fuse[pc])
		match_lea(p, targets, pc, fuse);
	if (!blind && !fuse[pc])
		match_cmov(p, targets, pc, fuse);
	if (!fuse[pc])
		match_mov_op(p, targets, pc, fuse, blind);
	if (!blind && !fuse[pc])
		match_cmp_k(p, targets, zero, pc, fuse);
	if (!blind && !fuse[pc])
		match_alu_k(p, targets, pc, fuse);
	if (!blind && !fuse[pc])
		match_st_k(p, targets, pc, fuse);
	if (pc > 0 && !fuse[pc])
		match_jz_flags(p, targets, pc, fuse);
}

uint8_t *jit_peephole(const struct sl_prog *p, bool blind)
{
	uint8_t *fuse = calloc(2 * (size_t)p->n_insns, 1), *targets = jit_jump_targets(p);
	uint16_t *hi = targets ? jit_hi_live(p, targets, NULL) : NULL;
	uint16_t *zero = jit_hi_zero(p);    /* NULL: only the 32-bit compares are not found */
	struct jit_preds *jp = jit_preds_build(p);   /* NULL: constants within a block only */

	if (!fuse || !targets || !hi) {
		free(fuse);
		free(targets);
		free(hi);
		free(zero);
		jit_preds_free(jp);
		return NULL;
	}
	for (uint32_t pc = 0; pc + 3 < p->n_insns; pc++) {
		if (fuse[pc] || fuse[pc + 1] || fuse[pc + 2] || fuse[pc + 3])
			continue;
		match_rotate(p, targets, pc, fuse);
		if (!fuse[pc + 3])
			match_be16(p, targets, pc, fuse);
		if (!fuse[pc + 3] && pc + 4 < p->n_insns && !fuse[pc + 4])
			match_be16_shifted(p, targets, pc, fuse);
	}
	for (uint32_t pc = 4; pc < p->n_insns; pc++)
		if (!fuse[pc] && !fuse[pc - 1] && !fuse[pc - 2])
			match_mulrot(p, targets, pc, fuse);
	for (uint32_t pc = 1; pc < p->n_insns; pc++)
		if (!sl_isa_is_lddw(&p->insns[pc - 1]))
			match_rotate_or(p, targets, hi, pc, fuse);
	for (uint32_t pc = 0; pc + 1 < p->n_insns; pc++)
		if (!fuse[pc] && !fuse[pc + 1] && !sl_isa_is_lddw(&p->insns[pc]))
			match_at(p, targets, hi, zero, jp, pc, fuse, blind);
	jit_merge_stores(p, targets, fuse);
	free(targets);
	free(hi);
	free(zero);
	jit_preds_free(jp);
	return fuse;
}
