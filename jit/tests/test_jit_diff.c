/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Differential test: random valid programs run in the interpreter and in
 * the JIT must give the same r0 and leave the same bytes in memory.
 *
 * Generator model (keeps every program valid without a verifier):
 *  - a few of r6-r9 hold pointers for the whole program (to the memory
 *    buffer or the stack); every other register is a scalar, initialized
 *    at entry, so nothing reads garbage and no address leaks into r0;
 *  - r10 is the stack; the 64 bytes under it are initialized at entry;
 *  - loads, stores and atomics use a pointer register with an offset in
 *    bounds; ALU/ALU64/JMP/JMP32 take any scalar, with immediates and
 *    register values biased toward edge cases (0, -1, INT_MIN, ...);
 *  - jumps go forward only; local calls go to subprograms placed after
 *    the main function, which use their own stack and r6-r9 as scalars
 *    (so r6-r9 preservation is tested), and r1-r5 are re-initialized
 *    after each call (the ABI clobbers them);
 *  - at the end every scalar is stored into the memory buffer.
 *  - stack slots reloaded and stored back (gen_reload()), bools whose
 *    "rC = 1" comes early (gen_setcc_far()), prefix tests "copy, mask,
 *    compare" with their near misses (gen_mask_cmp()), rule tails the JIT
 *    moves out of line (gen_outline()), gotos into tests an earlier test
 *    decides (gen_thread()), tests hoisted above bools (gen_hoist()),
 *    zero extensions of values with a zero upper half (gen_zext_known());
 * Then COUNT/4 socket filters (gen_socket): random LD_ABS / LD_IND around
 * both ends of a random packet, against the interpreter.
 *
 * usage: test_jit_diff [COUNT [SEED]]   (prints the seed; default fixed)
 * JIT_DIFF_DUMP=1 in the environment prints each mismatching program.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl_jit.h"
#include "sl_vm.h"

#include "jit_diff.h"

void item(struct gen *g)
{
	if (g->nitems < MAX_ITEMS)
		g->item_pc[g->nitems++] = g->t.n;
}

int32_t edge_imm(struct gen *g)
{
	static const int32_t e[] = { 0, 1, -1, 2, 3, 5, 7, 8, 9, 31, 32, 63, 64, INT32_MIN,
				     INT32_MAX, 0x7fff, 0x8000, 0xffff, -2, 0x10000 };

	if (sl_tgen_pick(&g->t, 3) == 0)
		return e[sl_tgen_pick(&g->t, sizeof(e) / sizeof(e[0]))];
	if (sl_tgen_pick(&g->t, 2))
		return (int32_t)sl_tgen_pick(&g->t, 256) - 128;
	return (int32_t)sl_tgen_u64(&g->t);
}

uint64_t edge_u64(struct gen *g)
{
	static const uint64_t e[] = { 0, 1, ~0ull, 0x8000000000000000ull, 0x7fffffffffffffffull,
				      0x80000000ull, 0xffffffffull, 0x7fffffffull,
				      0xffffffff80000000ull, 2, 0x100000000ull };

	if (sl_tgen_pick(&g->t, 3) == 0)
		return e[sl_tgen_pick(&g->t, sizeof(e) / sizeof(e[0]))];
	return sl_tgen_u64(&g->t);
}

uint8_t scalar(struct gen *g)
{
	for (;;) {
		uint8_t r = (uint8_t)sl_tgen_pick(&g->t, 10);

		if (g->kind[r] == K_SCALAR)
			return r;
	}
}

void set_const(struct gen *g, uint8_t r)
{
	uint64_t v = edge_u64(g);

	item(g);
	if (sl_tgen_pick(&g->t, 2)) {
		sl_tgen_emit(&g->t, BPF_LD | BPF_IMM | BPF_DW, r, 0, 0, (int32_t)(uint32_t)v);
		sl_tgen_emit(&g->t, 0, 0, 0, 0, (int32_t)(uint32_t)(v >> 32));
	} else {
		sl_tgen_emit(&g->t, (sl_tgen_pick(&g->t, 2) ? BPF_ALU64 : BPF_ALU) | BPF_MOV | BPF_K, r, 0, 0, (int32_t)v);
	}
}

/* A pointer register and an offset for an access of @p size, in bounds. */
void pick_addr(struct gen *g, unsigned size, bool aligned, uint8_t *base, int16_t *off)
{
	uint8_t cands[11];
	unsigned n = 0;

	for (uint8_t r = 0; r < 11; r++)
		if (g->kind[r] != K_SCALAR && (!g->in_sub || r == 10))
			cands[n++] = r;
	*base = cands[sl_tgen_pick(&g->t, n)];
	if (g->kind[*base] == K_MEM) {
		*off = (int16_t)sl_tgen_pick(&g->t, MEM_OPS - size + 1);
	} else {
		unsigned span = g->in_sub ? 32 : STACK_OPS;

		*off = (int16_t)-(int)(size + sl_tgen_pick(&g->t, span - size + 1));
	}
	if (aligned)
		*off = (int16_t)(*off & ~(int)(size - 1));
}


static void gen_mem(struct gen *g)
{
	unsigned si = sl_tgen_pick(&g->t, 4), size = 1u << si;
	uint8_t base;
	int16_t off;
	unsigned what = sl_tgen_pick(&g->t, 4);

	pick_addr(g, size, false, &base, &off);
	item(g);
	if (what == 0)
		sl_tgen_emit(&g->t, BPF_LDX | BPF_MEM | sl_tgen_sizes[si], scalar(g), base, off, 0);
	else if (what == 1 && size < 8)
		sl_tgen_emit(&g->t, BPF_LDX | BPF_MEMSX | sl_tgen_sizes[si], scalar(g), base, off, 0);
	else if (what == 2)
		sl_tgen_emit(&g->t, BPF_ST | BPF_MEM | sl_tgen_sizes[si], base, 0, off, edge_imm(g));
	else
		sl_tgen_emit(&g->t, BPF_STX | BPF_MEM | sl_tgen_sizes[si], base, scalar(g), off, 0);
}

static void gen_atomic(struct gen *g)
{
	static const int32_t ops[] = {
		BPF_ADD, BPF_OR, BPF_AND, BPF_XOR, BPF_ADD | BPF_FETCH, BPF_OR | BPF_FETCH,
		BPF_AND | BPF_FETCH, BPF_XOR | BPF_FETCH, BPF_XCHG, BPF_CMPXCHG,
	};
	bool dw = sl_tgen_pick(&g->t, 2);
	uint8_t base;
	int16_t off;

	pick_addr(g, dw ? 8 : 4, true, &base, &off);
	item(g);
	sl_tgen_emit(&g->t, BPF_STX | BPF_ATOMIC | (dw ? BPF_DW : BPF_W), base, scalar(g), off,
	    ops[sl_tgen_pick(&g->t, sizeof(ops) / sizeof(ops[0]))]);
}

static void gen_alu(struct gen *g)
{
	static const uint8_t ops[] = { BPF_ADD, BPF_SUB, BPF_MUL, BPF_DIV, BPF_OR, BPF_AND,
				       BPF_LSH, BPF_RSH, BPF_NEG, BPF_MOD, BPF_XOR, BPF_MOV,
				       BPF_ARSH, BPF_END };
	uint8_t op = ops[sl_tgen_pick(&g->t, sizeof(ops) / sizeof(ops[0]))];
	uint8_t cls = sl_tgen_pick(&g->t, 2) ? BPF_ALU64 : BPF_ALU;
	uint8_t dst = scalar(g), src = scalar(g);
	bool x = sl_tgen_pick(&g->t, 2);
	int16_t off = 0;
	int32_t imm = x ? 0 : edge_imm(g);

	if ((op == BPF_DIV || op == BPF_MOD) && g->leaf)
		op = BPF_XOR;
	if (op == BPF_DIV || op == BPF_MOD) {
		off = (int16_t)sl_tgen_pick(&g->t, 2);
		if (x && sl_tgen_pick(&g->t, 3) == 0) {   /* make the divisor 0 or -1 */
			item(g);
			sl_tgen_emit(&g->t, BPF_ALU64 | BPF_MOV | BPF_K, src, 0, 0, sl_tgen_pick(&g->t, 2) ? 0 : -1);
		}
	}
	if (op == BPF_NEG) {
		x = false;
		imm = 0;
	}
	if (op == BPF_MOV && x && sl_tgen_pick(&g->t, 3) == 0) {
		static const int16_t w[3] = { 8, 16, 32 };

		off = w[sl_tgen_pick(&g->t, cls == BPF_ALU64 ? 3 : 2)];
	}
	if (op == BPF_END) {
		static const int32_t w[3] = { 16, 32, 64 };

		x = cls == BPF_ALU ? sl_tgen_pick(&g->t, 2) : false;  /* ALU: le/be; ALU64: bswap */
		imm = w[sl_tgen_pick(&g->t, 3)];
		item(g);
		sl_tgen_emit(&g->t, cls | BPF_END | (x ? BPF_TO_BE : BPF_TO_LE), dst, 0, 0, imm);
		return;
	}
	item(g);
	sl_tgen_emit(&g->t, cls | op | (x ? BPF_X : BPF_K), dst, x ? src : 0, off, imm);
}

/*
 * A rotate as clang writes it (rT = rX; shifts by k and 64-k; OR), in any
 * order, direction and result register: the JIT fuses these into rol.
 * Sometimes the counts do not add up to 64 or a second copy breaks the
 * pattern, which must then not be fused.
 */
static void gen_rotate(struct gen *g)
{
	uint8_t x = scalar(g), t = scalar(g);
	int32_t k = 1 + (int32_t)sl_tgen_pick(&g->t, 63), other = sl_tgen_pick(&g->t, 8) ? 64 - k : 1 + (int32_t)sl_tgen_pick(&g->t, 63);
	uint8_t lx = sl_tgen_pick(&g->t, 2) ? BPF_LSH : BPF_RSH, lt = lx == BPF_LSH ? BPF_RSH : BPF_LSH;
	bool x_first = sl_tgen_pick(&g->t, 2), into_x = sl_tgen_pick(&g->t, 2);

	if (x == t)
		return;
	bool split = sl_tgen_pick(&g->t, 4) == 0;  /* items inside: jumps may land in the middle */

	item(g);
	sl_tgen_emit(&g->t, BPF_ALU64 | BPF_MOV | BPF_X, t, x, 0, 0);
	if (split)
		item(g);
	if (x_first)
		sl_tgen_emit(&g->t, BPF_ALU64 | lx | BPF_K, x, 0, 0, k);
	sl_tgen_emit(&g->t, BPF_ALU64 | lt | BPF_K, t, 0, 0, other);
	if (!x_first)
		sl_tgen_emit(&g->t, BPF_ALU64 | lx | BPF_K, x, 0, 0, k);
	if (split)
		item(g);
	sl_tgen_emit(&g->t, BPF_ALU64 | BPF_OR | BPF_X, into_x ? x : t, into_x ? t : x, 0, 0);
}

/* "rX *= 3|5|9; rX += imm": fused into one lea by the JIT */
static void gen_mul_add(struct gen *g)
{
	static const int32_t k[3] = { 3, 5, 9 };
	uint8_t cls = sl_tgen_pick(&g->t, 2) ? BPF_ALU64 : BPF_ALU, x = scalar(g);

	item(g);
	sl_tgen_emit(&g->t, cls | BPF_MUL | BPF_K, x, 0, 0, k[sl_tgen_pick(&g->t, 3)]);
	if (sl_tgen_pick(&g->t, 4) == 0)
		item(g);
	sl_tgen_emit(&g->t, (sl_tgen_pick(&g->t, 8) ? cls : (cls ^ BPF_ALU64 ^ BPF_ALU)) | BPF_ADD | BPF_K, x, 0, 0, edge_imm(g));
}

static void gen_jump(struct gen *g)
{
	static const uint8_t ops[] = { BPF_JEQ, BPF_JGT, BPF_JGE, BPF_JSET, BPF_JNE, BPF_JSGT,
				       BPF_JSGE, BPF_JLT, BPF_JLE, BPF_JSLT, BPF_JSLE, BPF_JA };
	uint8_t op = ops[sl_tgen_pick(&g->t, sizeof(ops) / sizeof(ops[0]))];
	uint8_t cls = sl_tgen_pick(&g->t, 2) ? BPF_JMP : BPF_JMP32;
	uint8_t a = scalar(g), b = scalar(g);
	bool x = sl_tgen_pick(&g->t, 2), zero = false;

	item(g);
	if (g->njfix >= MAX_ITEMS)
		return;
	if (x && op != BPF_JA && sl_tgen_pick(&g->t, 3) == 0) {
		set_const(g, sl_tgen_pick(&g->t, 2) ? a : b);  /* compared with a constant register: cmp imm */
		if (sl_tgen_pick(&g->t, 8) == 0)
			set_const(g, sl_tgen_pick(&g->t, 2) ? a : b);
		if (sl_tgen_pick(&g->t, 8) == 0)
			item(g);                 /* a jump target: the constant is unknown */
	}
	if (!x && op != BPF_JA && sl_tgen_pick(&g->t, 4) == 0) {
		/* "a op= y; if a ==|!= 0": the JIT takes the flags of the operation */
		static const uint8_t aops[] = { BPF_ADD, BPF_SUB, BPF_AND, BPF_OR, BPF_XOR, BPF_MUL };
		uint8_t acls = sl_tgen_pick(&g->t, 2) ? BPF_ALU64 : BPF_ALU;
		bool ax = sl_tgen_pick(&g->t, 2);

		sl_tgen_emit(&g->t, acls | aops[sl_tgen_pick(&g->t, sizeof(aops))] | (ax ? BPF_X : BPF_K), a, ax ? scalar(g) : 0,
		    0, ax ? 0 : edge_imm(g));
		op = sl_tgen_pick(&g->t, 2) ? BPF_JEQ : BPF_JNE;
		x = sl_tgen_pick(&g->t, 8) == 0;                /* sometimes a register compare after all */
		zero = sl_tgen_pick(&g->t, 8) != 0;
	}
	g->jfix[g->njfix].pc = g->t.n;
	g->jfix[g->njfix].item = g->nitems + sl_tgen_pick(&g->t, 8);
	g->jfix[g->njfix].ja32 = op == BPF_JA && cls == BPF_JMP32;
	g->njfix++;
	if (op == BPF_JA)
		sl_tgen_emit(&g->t, cls | BPF_JA, 0, 0, 0, 0);
	else
		sl_tgen_emit(&g->t, cls | op | (x ? BPF_X : BPF_K), a, x ? b : 0, 0,
		    x || zero ? 0 : edge_imm(g));
}

/*
 * "rD = rS; rD += imm|rT" (the JIT makes it one lea; also from r10, the
 * result then used as a stack pointer), "rD = rS; rD = be16|le16|
 * bswap16 rD" (movzx + rol), "rD = rS; rD <<= 32; rD >>= 32" (mov r32) and
 * "rD = rS; rD &= 0xff|0xffff" (movzx; near misses: other masks),
 * sometimes with a jump target between.
 */
static void gen_mov_op(struct gen *g)
{
	static const uint8_t swaps[3] = { BPF_ALU | BPF_END | BPF_TO_BE, BPF_ALU | BPF_END | BPF_TO_LE,
					  BPF_ALU64 | BPF_END | BPF_TO_LE };
	uint8_t d = scalar(g), src = scalar(g), t = scalar(g), x = scalar(g);
	unsigned kind = sl_tgen_pick(&g->t, 4), span = g->in_sub ? 32 : STACK_OPS;

	item(g);
	sl_tgen_emit(&g->t, (kind == 3 && sl_tgen_pick(&g->t, 4) == 0 ? BPF_ALU : BPF_ALU64) | BPF_MOV | BPF_X, d,
	    kind == 0 ? 10 : src, 0, 0);
	if (kind && sl_tgen_pick(&g->t, 8) == 0)
		item(g);                         /* not with r10: rD would be a scalar there */
	if (kind == 0) {                         /* rD = r10 - 8k; rX = *(u64 *)rD; rD = const */
		sl_tgen_emit(&g->t, BPF_ALU64 | BPF_ADD | BPF_K, d, 0, 0, -(int32_t)(8 * (1 + sl_tgen_pick(&g->t, span / 8))));
		sl_tgen_emit(&g->t, BPF_LDX | BPF_MEM | BPF_DW, x, d, 0, 0);
		if (x != d)
			set_const(g, d);         /* no stack address left in a scalar */
	} else if (kind == 1) {
		sl_tgen_emit(&g->t, BPF_ALU64 | BPF_ADD | BPF_K, d, 0, 0, edge_imm(g));
	} else if (kind == 2) {
		sl_tgen_emit(&g->t, BPF_ALU64 | BPF_ADD | BPF_X, d, t, 0, 0);
	} else if (sl_tgen_pick(&g->t, 3) == 0) {              /* a copy's low byte or half: movzx */
		static const int32_t masks[] = { 0xff, 0xffff, 0xff, 0xffff, 0x7f, 0x1ff, 0xfeff, -1 };

		sl_tgen_emit(&g->t, (sl_tgen_pick(&g->t, 2) ? BPF_ALU : BPF_ALU64) | BPF_AND | BPF_K, d, 0, 0, masks[sl_tgen_pick(&g->t, 8)]);
	} else if (sl_tgen_pick(&g->t, 2)) {                   /* clang's zero extension of a copy */
		sl_tgen_emit(&g->t, BPF_ALU64 | BPF_LSH | BPF_K, d, 0, 0, 32);
		if (sl_tgen_pick(&g->t, 8) == 0)
			item(g);
		sl_tgen_emit(&g->t, BPF_ALU64 | BPF_RSH | BPF_K, d, 0, 0, sl_tgen_pick(&g->t, 8) ? 32 : 31);
	} else {
		sl_tgen_emit(&g->t, swaps[sl_tgen_pick(&g->t, 3)], d, 0, 0, sl_tgen_pick(&g->t, 8) ? 16 : 32);
	}
}

/*
 * clang's select and zero extension: "if (cond) goto +1; rX = imm|rY"
 * (the JIT makes it a cmov) and "rX <<= 32; rX >>= 32" (a mov r32).
 */
static void gen_select(struct gen *g)
{
	static const uint8_t ops[] = { BPF_JEQ, BPF_JGT, BPF_JGE, BPF_JSET, BPF_JNE, BPF_JSGT,
				       BPF_JSGE, BPF_JLT, BPF_JLE, BPF_JSLT, BPF_JSLE };
	uint8_t x = scalar(g), mcls = sl_tgen_pick(&g->t, 2) ? BPF_ALU64 : BPF_ALU;
	bool xs = sl_tgen_pick(&g->t, 2), mx = sl_tgen_pick(&g->t, 2);

	if (sl_tgen_pick(&g->t, 4) == 0) {
		item(g);
		sl_tgen_emit(&g->t, BPF_ALU64 | BPF_LSH | BPF_K, x, 0, 0, 32);
		if (sl_tgen_pick(&g->t, 4) == 0)
			item(g);
		sl_tgen_emit(&g->t, BPF_ALU64 | BPF_RSH | BPF_K, x, 0, 0, sl_tgen_pick(&g->t, 4) ? 32 : 31);
		return;
	}
	bool boolean = sl_tgen_pick(&g->t, 3) == 0;  /* clang's boolean "x = 1; if (cond) goto +1; x = 0" */

	if (boolean) {
		item(g);
		sl_tgen_emit(&g->t, (sl_tgen_pick(&g->t, 2) ? BPF_ALU64 : BPF_ALU) | BPF_MOV | BPF_K, x, 0, 0, sl_tgen_pick(&g->t, 8) ? 1 : 2);
	} else {
		set_const(g, x);
	}
	if (sl_tgen_pick(&g->t, 8) == 0)
		item(g);
	sl_tgen_emit(&g->t, (sl_tgen_pick(&g->t, 2) ? BPF_JMP : BPF_JMP32) | ops[sl_tgen_pick(&g->t, sizeof(ops))] | (xs ? BPF_X : BPF_K),
	    scalar(g), xs ? scalar(g) : 0, 1, xs ? 0 : edge_imm(g));
	if (sl_tgen_pick(&g->t, 8) == 0)
		item(g);  /* a jump target: must not be fused */
	if (boolean)
		sl_tgen_emit(&g->t, mcls | BPF_MOV | BPF_K, x, 0, 0, sl_tgen_pick(&g->t, 8) ? 0 : 1);
	else
		sl_tgen_emit(&g->t, mcls | BPF_MOV | (mx ? BPF_X : BPF_K), x, mx ? scalar(g) : 0, 0,
		    mx ? 0 : edge_imm(g));
}

static void put_insn(struct gen *g, const struct bpf_insn *in)
{
	sl_tgen_emit(&g->t, in->code, in->dst_reg, in->src_reg, in->off, in->imm);
}

/*
 * A big-endian u16 read byte by byte, as clang writes it, unshifted
 * "(hi << 8) | lo" or shifted "(hi << s+8) | (lo << s)" (fused into movzx +
 * rol [+ shl]), in clang's orders, sometimes not quite matching.
 */
static void gen_be16(struct gen *g)
{
	uint8_t hi = scalar(g), lo = scalar(g), base;
	int16_t off;
	unsigned order = sl_tgen_pick(&g->t, 3);
	int32_t s = sl_tgen_pick(&g->t, 2) ? 0 : 1 + (int32_t)sl_tgen_pick(&g->t, 40);
	bool into_hi = sl_tgen_pick(&g->t, 2), split = sl_tgen_pick(&g->t, 8) == 0;
	bool le = sl_tgen_pick(&g->t, 3) == 0, rd = sl_tgen_pick(&g->t, 10) == 0;
	uint8_t o = scalar(g);
	struct bpf_insn ld_hi, ld_lo, sh, sh_lo, orr;

	if (hi == lo || o == hi || o == lo)
		return;
	pick_addr(g, 2, false, &base, &off);
	ld_hi = (struct bpf_insn){ .code = BPF_LDX | BPF_MEM | BPF_B, .dst_reg = hi, .src_reg = base,
				   .off = off };
	ld_lo = ld_hi;
	ld_lo.dst_reg = lo;
	ld_lo.off = (int16_t)(off + (sl_tgen_pick(&g->t, 8) ? 1 : 0));   /* sometimes not adjacent */
	if (le) {                        /* le16: the shifted byte is the second one */
		ld_hi.off = ld_lo.off;
		ld_lo.off = off;
	}
	sh = (struct bpf_insn){ .code = (sl_tgen_pick(&g->t, 2) ? BPF_ALU64 : BPF_ALU) | BPF_LSH | BPF_K,
				.dst_reg = hi, .imm = sl_tgen_pick(&g->t, 8) ? s + 8 : s + 16 };
	sh_lo = (struct bpf_insn){ .code = (sl_tgen_pick(&g->t, 2) ? BPF_ALU64 : BPF_ALU) | BPF_LSH | BPF_K,
				   .dst_reg = lo, .imm = s };
	if (SL_OP_CLASS(sh.code) == BPF_ALU)
		sh.imm &= 31;
	if (SL_OP_CLASS(sh_lo.code) == BPF_ALU)
		sh_lo.imm &= 31;
	orr = (struct bpf_insn){ .code = (sl_tgen_pick(&g->t, 2) ? BPF_ALU64 : BPF_ALU) | BPF_OR | BPF_X,
				 .dst_reg = into_hi ? hi : lo, .src_reg = into_hi ? lo : hi };
	item(g);
	if (order == 0) {        /* lo, hi, shift */
		put_insn(g, &ld_lo);
		put_insn(g, &ld_hi);
		put_insn(g, &sh);
	} else if (order == 1) { /* hi, shift, lo */
		put_insn(g, &ld_hi);
		put_insn(g, &sh);
		put_insn(g, &ld_lo);
	} else {                 /* hi, lo, shift */
		put_insn(g, &ld_hi);
		put_insn(g, &ld_lo);
		put_insn(g, &sh);
	}
	if (s)
		put_insn(g, &sh_lo);
	if (split)
		item(g);
	if (rd)                          /* a register read between */
		sl_tgen_emit(&g->t, BPF_ALU64 | BPF_XOR | BPF_X, o, sl_tgen_pick(&g->t, 2) ? hi : lo, 0, 0);
	put_insn(g, &orr);
}

/*
 * proto_count's EtherType (clang 14, v1): a byte-wise le16 "x = u8[P+k+1];
 * x <<= 8; x |= u8[P+k]" (one movzx), a jump past a u16 load of x, and
 * "x &= 0xffff" where both paths meet (nothing to emit: x fits 16 bits on
 * every path). Near misses: a shift by 9 or a u32 load (x does not fit),
 * a mask of 0xff, the OR of any scalar, a jump landing on the OR.
 */
static void gen_le16_join(struct gen *g)
{
	uint8_t x = scalar(g), lo = scalar(g), y = scalar(g), base;
	unsigned miss = sl_tgen_pick(&g->t, 12);
	int16_t off, off2;
	uint32_t jpc;

	if (x == lo || x == y || lo == y)
		return;
	item(g);
	pick_addr(g, 2, false, &base, &off);
	if (base == x || base == lo)
		return;
	sl_tgen_emit(&g->t, BPF_LDX | BPF_MEM | BPF_B, lo, base, off, 0);
	sl_tgen_emit(&g->t, BPF_LDX | BPF_MEM | BPF_B, x, base, (int16_t)(off + 1), 0);
	sl_tgen_emit(&g->t, (sl_tgen_pick(&g->t, 2) ? BPF_ALU64 : BPF_ALU) | BPF_LSH | BPF_K, x, 0, 0,
	    miss == 1 ? 9 : 8);
	if (miss == 2)
		item(g);                                        /* a jump may land on the OR */
	sl_tgen_emit(&g->t, (sl_tgen_pick(&g->t, 2) ? BPF_ALU64 : BPF_ALU) | BPF_OR | BPF_X, x,
	    miss == 3 ? y : lo, 0, 0);
	jpc = g->t.n;
	sl_tgen_emit(&g->t, (sl_tgen_pick(&g->t, 2) ? BPF_JMP : BPF_JMP32) | BPF_JNE | BPF_K, x, 0, 0,
	    sl_tgen_pick(&g->t, 2) ? 0x81 : edge_imm(g));
	pick_addr(g, 4, false, &base, &off2);
	sl_tgen_emit(&g->t, BPF_LDX | BPF_MEM | (miss == 4 ? BPF_W : BPF_H), x, base, off2, 0);
	g->t.insns[jpc].off = (int16_t)(g->t.n - jpc - 1);
	sl_tgen_emit(&g->t, (sl_tgen_pick(&g->t, 2) ? BPF_ALU64 : BPF_ALU) | BPF_AND | BPF_K, x, 0, 0,
	    miss == 5 ? 0xff : 0xffff);
	if (sl_tgen_pick(&g->t, 2))
		sl_tgen_emit(&g->t, BPF_JMP | BPF_JEQ | BPF_K, x, 0, 0, 0x86dd);
}

void put_lddw(struct gen *g, uint8_t r, uint64_t v)
{
	sl_tgen_emit(&g->t, BPF_LD | BPF_IMM | BPF_DW, r, 0, 0, (int32_t)(uint32_t)v);
	sl_tgen_emit(&g->t, 0, 0, 0, 0, (int32_t)(uint32_t)(v >> 32));
}

/*
 * A rotate from two shifted copies of one value and an OR, as clang
 * writes 32-bit rotates: "rA = rX; rA >>= 32-k; rB = rX; rB <<= k;
 * rB |= rA" in 32-bit ops (v3), or in 64-bit ops with "rA &= mask" before
 * the right shift (v1: the JIT fuses it only when the result's upper half
 * is never read, so sometimes a zero extension or a 32-bit op follows),
 * or 64-bit with k + (64-k). Near misses: counts that do not add up, a
 * wrong mask, a read of rB or a write of rX between, mixed widths, a jump
 * landing inside.
 */
static void gen_rotate2(struct gen *g)
{
	uint8_t x = scalar(g), a = scalar(g), b = scalar(g), c = scalar(g);
	unsigned form = sl_tgen_pick(&g->t, 3), miss = sl_tgen_pick(&g->t, 10);
	uint32_t w = form == 2 ? 64 : 32, k = 1 + sl_tgen_pick(&g->t, w - 1), ka = w - k;
	uint8_t cls = form == 0 ? BPF_ALU : BPF_ALU64, ocls = cls;
	uint64_t mask = (0xffffffffull >> ka) << ka;

	if (a == b || a == x)
		return;
	if (miss == 0)
		ka = 1 + sl_tgen_pick(&g->t, w - 1);                          /* counts may not add up */
	if (miss == 1)
		mask ^= 1ull << sl_tgen_pick(&g->t, 40);                      /* not quite the mask */
	if (miss == 2)
		ocls ^= BPF_ALU ^ BPF_ALU64;                    /* OR of the other width */
	item(g);
	if (form == 1 && sl_tgen_pick(&g->t, 2))
		put_lddw(g, c, mask);
	sl_tgen_emit(&g->t, (sl_tgen_pick(&g->t, 4) ? BPF_ALU64 : cls) | BPF_MOV | BPF_X, a, x, 0, 0);
	if (form == 1 && (c == a || c == x || sl_tgen_pick(&g->t, 2))) {
		sl_tgen_emit(&g->t, BPF_ALU64 | BPF_AND | BPF_K, a, 0, 0, (int32_t)mask);   /* sign-extends */
	} else if (form == 1) {
		put_lddw(g, c, mask);
		sl_tgen_emit(&g->t, BPF_ALU64 | BPF_AND | BPF_X, a, c, 0, 0);
	}
	sl_tgen_emit(&g->t, cls | BPF_RSH | BPF_K, a, 0, 0, (int32_t)ka);
	if (miss == 3)
		sl_tgen_emit(&g->t, BPF_ALU64 | BPF_ADD | BPF_K, x, 0, 0, 1);  /* rX changes between the copies */
	if (miss == 4)
		item(g);
	if (b != x || sl_tgen_pick(&g->t, 2))
		sl_tgen_emit(&g->t, (sl_tgen_pick(&g->t, 4) ? BPF_ALU64 : cls) | BPF_MOV | BPF_X, b, x, 0, 0);
	sl_tgen_emit(&g->t, cls | BPF_LSH | BPF_K, b, 0, 0, (int32_t)k);
	if (miss == 5)
		sl_tgen_emit(&g->t, BPF_ALU64 | BPF_ADD | BPF_X, c, b, 0, 0);  /* reads the shifted rB */
	if (miss == 6)
		item(g);
	sl_tgen_emit(&g->t, ocls | BPF_OR | BPF_X, b, a, 0, 0);
	if (form == 1 && sl_tgen_pick(&g->t, 2)) {                            /* only the low half is read */
		if (sl_tgen_pick(&g->t, 2)) {
			sl_tgen_emit(&g->t, BPF_ALU64 | BPF_LSH | BPF_K, b, 0, 0, 32);
			sl_tgen_emit(&g->t, BPF_ALU64 | BPF_RSH | BPF_K, b, 0, 0, 32);
		} else {
			sl_tgen_emit(&g->t, BPF_ALU | BPF_ADD | BPF_K, b, 0, 0, edge_imm(g));
		}
	}
}

/*
 * A table read as clang writes it: "rA &= 7; rA <<= s; rB = ptr; rB +=
 * rA; rD = *(rB + off)" (the JIT makes it one load [rB + rA*2^s + off] when
 * rB and rA are not read afterwards). Near misses: rB or rA read after
 * the load, a 32-bit shift, a jump over the add or over the shift (landing
 * inside), a register copy between the shift and the add.
 */
static void gen_index_load(struct gen *g)
{
	unsigned si = sl_tgen_pick(&g->t, 4), size = 1u << si, s = sl_tgen_pick(&g->t, 4), miss = sl_tgen_pick(&g->t, 10);
	uint8_t b = scalar(g), a = scalar(g), d = scalar(g), c = scalar(g), base;
	int16_t off;

	pick_addr(g, size, false, &base, &off);
	if (a == b || g->kind[base] != K_MEM)
		return;
	off = (int16_t)sl_tgen_pick(&g->t, MEM_OPS - size - (7u << s) + 1);
	bool late = sl_tgen_pick(&g->t, 4) == 0;   /* the copy right before the add: the JIT's lea instead */

	item(g);
	if (!late)
		sl_tgen_emit(&g->t, BPF_ALU64 | BPF_MOV | BPF_X, b, base, 0, 0);
	sl_tgen_emit(&g->t, BPF_ALU64 | BPF_AND | BPF_K, a, 0, 0, 7);
	if (miss == 0 && s)
		sl_tgen_emit(&g->t, BPF_JMP | BPF_JGT | BPF_K, a, 0, 1, (int32_t)sl_tgen_pick(&g->t, 8));   /* over the shift */
	if (s)
		sl_tgen_emit(&g->t, (miss == 1 ? BPF_ALU : BPF_ALU64) | BPF_LSH | BPF_K, a, 0, 0, (int32_t)s);
	if (miss == 2 && c != a && c != b)
		sl_tgen_emit(&g->t, BPF_ALU64 | BPF_MOV | BPF_X, c, a, 0, 0);
	else if (c != a && c != b && sl_tgen_pick(&g->t, 2))
		put_lddw(g, c, edge_u64(g));
	if (late)
		sl_tgen_emit(&g->t, BPF_ALU64 | BPF_MOV | BPF_X, b, base, 0, 0);
	if (miss == 3)
		sl_tgen_emit(&g->t, BPF_JMP | BPF_JSET | BPF_K, a, 0, 1, 1 << sl_tgen_pick(&g->t, 6));     /* over the add */
	sl_tgen_emit(&g->t, BPF_ALU64 | BPF_ADD | BPF_X, b, a, 0, 0);
	sl_tgen_emit(&g->t, BPF_LDX | BPF_MEM | sl_tgen_sizes[si], d, b, off, 0);
	if (d == b)
		return;
	if (miss == 4)
		sl_tgen_emit(&g->t, BPF_ALU64 | BPF_SUB | BPF_X, b, base, 0, 0);   /* reads rB: b = the index */
	else
		sl_tgen_emit(&g->t, BPF_ALU64 | BPF_MOV | BPF_K, b, 0, 0, edge_imm(g));     /* no address stays */
	if (miss == 5 && c != b)
		sl_tgen_emit(&g->t, BPF_ALU64 | BPF_ADD | BPF_X, c, a, 0, 0);      /* reads rA */
}

/*
 * v1's 32-bit idioms: "rX &= M; rX >>= k" with M keeping bits k-31 (the
 * JIT: shr r32, k), M an immediate or a constant register, sometimes one
 * bit off or with a jump landing on the shift; and "rX <<= 32; rX >>= 32"
 * followed by a 32-bit operation (upper half unread: the JIT drops the
 * pair) or by a 64-bit one that reads it.
 */
static void gen_v1_idioms(struct gen *g)
{
	uint8_t x = scalar(g), c = scalar(g), y = scalar(g);
	uint32_t k = 1 + sl_tgen_pick(&g->t, 31), miss = sl_tgen_pick(&g->t, 8);
	uint64_t m = (0xffffffffull >> k) << k;

	item(g);
	if (sl_tgen_pick(&g->t, 2)) {
		sl_tgen_emit(&g->t, BPF_ALU64 | BPF_ADD | BPF_X, x, y, 0, 0);
		sl_tgen_emit(&g->t, BPF_ALU64 | BPF_LSH | BPF_K, x, 0, 0, 32);
		if (miss == 0)
			item(g);
		sl_tgen_emit(&g->t, BPF_ALU64 | BPF_RSH | BPF_K, x, 0, 0, 32);
		if (sl_tgen_pick(&g->t, 2))
			sl_tgen_emit(&g->t, BPF_ALU | BPF_XOR | BPF_X, x, y, 0, 0);
		else if (sl_tgen_pick(&g->t, 2))
			sl_tgen_emit(&g->t, BPF_ALU64 | BPF_RSH | BPF_K, x, 0, 0, (int32_t)k);
		return;
	}
	if (miss == 1)
		m ^= 1ull << sl_tgen_pick(&g->t, 40);
	if (c != x && sl_tgen_pick(&g->t, 2)) {
		put_lddw(g, c, m);
		sl_tgen_emit(&g->t, BPF_ALU64 | BPF_AND | BPF_X, x, c, 0, 0);
	} else {
		sl_tgen_emit(&g->t, BPF_ALU64 | BPF_AND | BPF_K, x, 0, 0, (int32_t)m);
	}
	if (miss == 2)
		item(g);
	sl_tgen_emit(&g->t, BPF_ALU64 | BPF_RSH | BPF_K, x, 0, 0, (int32_t)(miss == 3 ? k + 1 : k));
}

/*
 * "rC = 1; if (a op b) goto +1; rC = 0", a comparison's bool (the JIT:
 * xor + cmp + setcc), in both widths, against a register or an immediate.
 * Also clang's "rC = 1; if (a op b) goto L; rC = 0; goto L" (setcc, then
 * the goto). Near misses: the comparison reads rC, other constants than 1
 * and 0, a jump landing on the "rC = 0", a goto elsewhere.
 */
static void gen_setcc(struct gen *g)
{
	static const uint8_t ops[] = { BPF_JEQ, BPF_JGT, BPF_JGE, BPF_JSET, BPF_JNE, BPF_JSGT,
				       BPF_JSGE, BPF_JLT, BPF_JLE, BPF_JSLT, BPF_JSLE };
	uint8_t c = scalar(g), a = scalar(g), b = scalar(g), miss = (uint8_t)sl_tgen_pick(&g->t, 8);
	bool x = sl_tgen_pick(&g->t, 2);

	/* clang's other form: "... rC = 0; goto L" with the jump going to L too (then m fillers) */
	unsigned m = sl_tgen_pick(&g->t, 3) ? 0 : 1 + sl_tgen_pick(&g->t, 3);
	uint8_t o = scalar(g);

	if (m && (o == c || o == a || o == b))
		return;
	item(g);
	sl_tgen_emit(&g->t, (sl_tgen_pick(&g->t, 2) ? BPF_ALU64 : BPF_ALU) | BPF_MOV | BPF_K, c, 0, 0, miss == 0 ? 2 : 1);
	sl_tgen_emit(&g->t, (sl_tgen_pick(&g->t, 2) ? BPF_JMP : BPF_JMP32) | ops[sl_tgen_pick(&g->t, sizeof(ops))] | (x ? BPF_X : BPF_K),
	    a, x ? b : 0, (int16_t)(m ? m + 1 : 1), x ? 0 : edge_imm(g));
	if (miss == 1)
		item(g);
	sl_tgen_emit(&g->t, (sl_tgen_pick(&g->t, 2) ? BPF_ALU64 : BPF_ALU) | BPF_MOV | BPF_K, c, 0, 0, miss == 2 ? -1 : 0);
	if (!m)
		return;
	/* near miss: the goto lands one past the jump's target (an extra filler) */
	sl_tgen_emit(&g->t, BPF_JMP | BPF_JA, 0, 0, (int16_t)(miss == 3 ? m : m - 1), 0);
	for (unsigned i = 0; i < m - (miss == 3 ? 0 : 1); i++)   /* the miss lands on a filler */
		sl_tgen_emit(&g->t, BPF_ALU64 | BPF_ADD | BPF_K, o, 0, 0, 3);
}

/*
 * A bool whose "rC = 1" comes some instructions before its jump (clang's
 * "a == X || a == Y"): "rC = 1; fillers; [rA = 1; if .. goto +1; rA = 0];
 * if cond goto +1; rC = 0" (xor rC early, setcc at the jump), the inner
 * bool's jump landing on the outer one. Near misses: a filler reads or
 * writes rC, an inner jump lands past the bool (on "rC = 0"), a jump from
 * before lands among the fillers, the jump reads rC, other constants.
 */
static void gen_setcc_far(struct gen *g)
{
	static const uint8_t ops[] = { BPF_JEQ, BPF_JGT, BPF_JGE, BPF_JSET, BPF_JNE, BPF_JSGT,
				       BPF_JSGE, BPF_JLT, BPF_JLE, BPF_JSLT, BPF_JSLE };
	uint8_t c = scalar(g), a = scalar(g), b = scalar(g), o = scalar(g), in = scalar(g);
	unsigned miss = sl_tgen_pick(&g->t, 10), m = 1 + sl_tgen_pick(&g->t, 3);
	bool inner = sl_tgen_pick(&g->t, 2), x = sl_tgen_pick(&g->t, 2);

	if (c == a || c == b || c == o || c == in || in == a || in == b)
		return;
	item(g);
	if (miss == 3)      /* from before, into the fillers */
		sl_tgen_emit(&g->t, BPF_JMP | ops[sl_tgen_pick(&g->t, sizeof(ops))] | BPF_K, a, 0, 2,
			     edge_imm(g));
	sl_tgen_emit(&g->t, (sl_tgen_pick(&g->t, 2) ? BPF_ALU64 : BPF_ALU) | BPF_MOV | BPF_K, c, 0, 0,
		     miss == 5 ? 2 : 1);
	for (unsigned i = 0; i < m; i++) {
		bool rd = miss == 0 && i == m - 1;

		sl_tgen_emit(&g->t, BPF_ALU64 | BPF_ADD | (rd ? BPF_X : BPF_K),
			     miss == 1 && i == 0 ? c : o, rd ? c : 0, 0, rd ? 0 : 3);
	}
	if (miss == 2)      /* lands on "rC = 0", past the bool's jump */
		sl_tgen_emit(&g->t, BPF_JMP | ops[sl_tgen_pick(&g->t, sizeof(ops))] | BPF_K, a, 0,
			     inner ? 4 : 1, edge_imm(g));
	if (inner) {
		sl_tgen_emit(&g->t, BPF_ALU64 | BPF_MOV | BPF_K, in, 0, 0, 1);
		sl_tgen_emit(&g->t, BPF_JMP32 | ops[sl_tgen_pick(&g->t, sizeof(ops))] | BPF_K, a, 0, 1,
			     edge_imm(g));
		sl_tgen_emit(&g->t, BPF_ALU | BPF_MOV | BPF_K, in, 0, 0, 0);
	}
	sl_tgen_emit(&g->t, (sl_tgen_pick(&g->t, 2) ? BPF_JMP : BPF_JMP32) | ops[sl_tgen_pick(&g->t, sizeof(ops))] |
		     (x ? BPF_X : BPF_K), miss == 4 ? c : a, x ? b : 0, 1, x ? 0 : edge_imm(g));
	sl_tgen_emit(&g->t, (sl_tgen_pick(&g->t, 2) ? BPF_ALU64 : BPF_ALU) | BPF_MOV | BPF_K, c, 0, 0,
		     miss == 6 ? 3 : 0);
}

/*
 * rotl(v * C, k) as clang writes it: rA = rV; rA *= rC1; rV *= rC2;
 * rV >>= 64-k; rV |= rA with C1 = C2 << k (the JIT makes it imul + rol),
 * sometimes with constants that do not match or something in between:
 * lddw's between the mov and the first multiply or between the second
 * multiply and the shift (the JIT steps over those of other registers;
 * rO may also be rV, rA or a constant register), or a jump target.
 */
/*
 * csum_add's carry as clang writes it: v1 "rA += rB; rC = rA; rC <<= 32;
 * rC >>= 32; rD = 1; if rC != rA goto +1; rD = 0; rA += rD" on zero-
 * extended rA, rB, and v3 "wA += wB; wD = 1; if wA < wB goto +1; wD = 0;
 * wA += wD" (the JIT: add + adc), with an unrelated instruction between
 * and rC, rD overwritten after. Near misses: upper halves not zero, the
 * upper half of the sum read afterwards, rC or rD read afterwards, a jump
 * landing inside, a different compare, rA read between.
 */
static void gen_carry(struct gen *g)
{
	uint8_t a = scalar(g), b = scalar(g), c = scalar(g), d = scalar(g), o = scalar(g);
	unsigned miss = sl_tgen_pick(&g->t, 12);
	bool v3 = sl_tgen_pick(&g->t, 2);
	uint8_t cls = v3 ? BPF_ALU : BPF_ALU64;

	if (a == b || c == a || d == a || d == c || (!v3 && c == b && sl_tgen_pick(&g->t, 2)))
		return;
	item(g);
	if (miss != 0) {
		sl_tgen_emit(&g->t, BPF_ALU | BPF_MOV | BPF_X, a, a, 0, 0);          /* zero-extend */
		sl_tgen_emit(&g->t, BPF_ALU | BPF_MOV | BPF_X, b, b, 0, 0);
	}
	sl_tgen_emit(&g->t, cls | BPF_ADD | BPF_X, a, b, 0, 0);
	if (!v3) {
		sl_tgen_emit(&g->t, BPF_ALU64 | BPF_MOV | BPF_X, c, a, 0, 0);
		sl_tgen_emit(&g->t, BPF_ALU64 | BPF_LSH | BPF_K, c, 0, 0, 32);
		sl_tgen_emit(&g->t, BPF_ALU64 | BPF_RSH | BPF_K, c, 0, 0, 32);
	}
	if (o != a && o != c && o != d && sl_tgen_pick(&g->t, 2))
		sl_tgen_emit(&g->t, BPF_ALU64 | BPF_ADD | BPF_K, o, 0, 0, edge_imm(g));  /* scheduled between */
	if (miss == 1)
		sl_tgen_emit(&g->t, BPF_ALU64 | BPF_XOR | BPF_X, o, a, 0, 0);          /* reads rA between */
	sl_tgen_emit(&g->t, cls | BPF_MOV | BPF_K, d, 0, 0, 1);
	if (v3)
		sl_tgen_emit(&g->t, BPF_JMP32 | (miss == 2 ? BPF_JLE : BPF_JLT) | BPF_X, a, b, 1, 0);
	else if (sl_tgen_pick(&g->t, 2))
		sl_tgen_emit(&g->t, BPF_JMP | (miss == 2 ? BPF_JGT : BPF_JNE) | BPF_X, c, a, 1, 0);
	else
		sl_tgen_emit(&g->t, BPF_JMP | (miss == 2 ? BPF_JGT : BPF_JNE) | BPF_X, a, c, 1, 0);
	sl_tgen_emit(&g->t, cls | BPF_MOV | BPF_K, d, 0, 0, 0);
	if (miss == 3)
		item(g);                                            /* a jump lands on the add */
	sl_tgen_emit(&g->t, cls | BPF_ADD | BPF_X, a, d, 0, 0);
	if (miss == 4)
		sl_tgen_emit(&g->t, BPF_ALU64 | BPF_RSH | BPF_K, a, 0, 0, 32);       /* reads the upper half */
	else if (miss != 5)
		sl_tgen_emit(&g->t, BPF_ALU | BPF_MOV | BPF_X, a, a, 0, 0);
	if (miss != 6)
		sl_tgen_emit(&g->t, BPF_ALU64 | BPF_MOV | BPF_K, d, 0, 0, edge_imm(g));
	if (miss != 7 && c != b)
		sl_tgen_emit(&g->t, BPF_ALU64 | BPF_MOV | BPF_K, c, 0, 0, edge_imm(g));
}

/*
 * "rC = const; ...; rX op= rC" (add, sub, and, or, xor, both widths; the
 * JIT uses the immediate when the constant fits one, a 64-bit AND with a
 * mask in [2^31, 2^32) as "and r32"), sometimes followed by "if rX == 0"
 * (flags of the operation). Near misses: rC changed or a jump landing
 * between, constants that fit no immediate.
 */
static void gen_alu_k(struct gen *g)
{
	static const uint8_t ops[] = { BPF_ADD, BPF_SUB, BPF_AND, BPF_OR, BPF_XOR, BPF_AND };
	static const uint64_t ks[] = { 0xffffff00ull, 0xffff0000ull, 0x80000000ull, 0xffffffffull,
				       0x7fffffffull, 0x100000000ull, 0xffffffff00000000ull, 1,
				       0xfffffffffffffff0ull, 0xff000000ull };
	uint8_t x = scalar(g), c = scalar(g), o = scalar(g);
	unsigned miss = sl_tgen_pick(&g->t, 8);
	uint64_t k = sl_tgen_pick(&g->t, 4) ? ks[sl_tgen_pick(&g->t, sizeof(ks) / sizeof(ks[0]))] : edge_u64(g);

	if (x == c)
		return;
	item(g);
	if (sl_tgen_pick(&g->t, 2))
		put_lddw(g, c, k);
	else
		sl_tgen_emit(&g->t, BPF_ALU64 | BPF_MOV | BPF_K, c, 0, 0, (int32_t)k);
	if (o != x && o != c && sl_tgen_pick(&g->t, 2))
		sl_tgen_emit(&g->t, BPF_ALU64 | BPF_XOR | BPF_X, o, x, 0, 0);
	if (miss == 0)
		sl_tgen_emit(&g->t, BPF_ALU64 | BPF_ADD | BPF_K, c, 0, 0, 1);        /* rC changes */
	else if (miss == 1)
		item(g);                                            /* a jump lands between */
	sl_tgen_emit(&g->t, (sl_tgen_pick(&g->t, 4) ? BPF_ALU64 : BPF_ALU) | ops[sl_tgen_pick(&g->t, sizeof(ops))] | BPF_X, x, c, 0, 0);
	if (sl_tgen_pick(&g->t, 3) == 0) {                                    /* on the operation's flags */
		sl_tgen_emit(&g->t, (sl_tgen_pick(&g->t, 2) ? BPF_JMP : BPF_JMP32) | (sl_tgen_pick(&g->t, 2) ? BPF_JEQ : BPF_JNE) | BPF_K,
		    x, 0, 1, 0);
		sl_tgen_emit(&g->t, BPF_ALU64 | BPF_ADD | BPF_K, o == x ? c : o, 0, 0, 3);
	}
	if (sl_tgen_pick(&g->t, 2))
		sl_tgen_emit(&g->t, BPF_ALU64 | BPF_MOV | BPF_K, c, 0, 0, edge_imm(g)); /* the constant dies */
}

/* Is [base + off, + size) inside what pick_addr() hands out for @p base? */
static bool in_bounds(const struct gen *g, uint8_t base, int16_t off, unsigned size)
{
	if (g->kind[base] == K_MEM)
		return off >= 0 && off + (int)size <= MEM_OPS;
	return off + (int)size <= 0 && off >= -(g->in_sub ? 32 : STACK_OPS);
}

/* A conditional jump with an immediate over one "rO += 3" (any op, width; imms near the edges). */
static void jump_over(struct gen *g, uint8_t a, uint8_t o)
{
	static const uint8_t ops[] = { BPF_JEQ, BPF_JGT, BPF_JGE, BPF_JSET, BPF_JNE, BPF_JSGT,
				       BPF_JSGE, BPF_JLT, BPF_JLE, BPF_JSLT, BPF_JSLE };
	static const int32_t imms[] = { 0, 1, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0xffff, 0x10000,
					0x7fffffff, -1, -128, INT32_MIN };
	int32_t imm = sl_tgen_pick(&g->t, 2) ? imms[sl_tgen_pick(&g->t, sizeof(imms) / sizeof(imms[0]))]
					     : edge_imm(g);

	sl_tgen_emit(&g->t, (sl_tgen_pick(&g->t, 2) ? BPF_JMP : BPF_JMP32) | ops[sl_tgen_pick(&g->t, sizeof(ops))] | BPF_K,
	    a, 0, 1, imm);
	sl_tgen_emit(&g->t, BPF_ALU64 | BPF_ADD | BPF_K, o, 0, 0, 3);
}

/*
 * What the JIT fuses when a register dies (jit/fuse_late.c), each followed
 * by an overwrite of that register or, as a near miss (1 in 4), a read of
 * it; other near misses: a jump landing inside, other widths, ops and
 * immediates (negative, wider than the load):
 *  - v1's "rA <<= 32; rA >>= 32" (or "rA = rS; ...") before a jump with an
 *    immediate (a 32-bit compare of the source);
 *  - "rX &= K; if rX ==|!= 0", also with a bool's "rC = 1" between, also on
 *    a value just loaded (test rX, K or test [m], K);
 *  - a load and a jump on it with an immediate (cmp|test [m], imm);
 *  - a load, an add/sub/and/or/xor with an immediate and a store back
 *    (op [m], imm; near misses: another size, offset or width of the op).
 * And "rX &= 0xff|0xffff" (and other masks) of a value that fits (a load,
 * a constant, a masked copy, shifted right), also before a jump on its
 * flags; near misses: a jump landing before the AND, a shift that makes
 * it not fit. A 64-bit jump between a zero-extended register and a
 * constant register in [2^31, 2^32) (a 32-bit compare; near misses: the
 * upper half not known zero, signed compares, constants of 2^32 and more,
 * a jump landing between). And "*(size *)(m) = rC" with rC holding a constant of the block (mov [m],
 * imm; near misses: rC changed or a jump landing between, a 64-bit
 * constant that fits no imm32).
 */
static void gen_late(struct gen *g)
{
	static const uint8_t aops[] = { BPF_ADD, BPF_SUB, BPF_AND, BPF_OR, BPF_XOR, BPF_MUL };
	uint8_t x = scalar(g), o = scalar(g), c = scalar(g), base;
	unsigned what = sl_tgen_pick(&g->t, 7), miss = sl_tgen_pick(&g->t, 8);
	unsigned si = sl_tgen_pick(&g->t, 4), size = 1u << si;
	bool w64 = sl_tgen_pick(&g->t, 2);
	int16_t off;

	if (x == o || x == c || o == c)
		return;
	item(g);
	if (what == 0) {                                    /* zero extension, jump */
		if (sl_tgen_pick(&g->t, 2))
			sl_tgen_emit(&g->t, BPF_ALU64 | BPF_MOV | BPF_X, x, c, 0, 0);
		sl_tgen_emit(&g->t, BPF_ALU64 | BPF_LSH | BPF_K, x, 0, 0, 32);
		sl_tgen_emit(&g->t, BPF_ALU64 | BPF_RSH | BPF_K, x, 0, 0, 32);
		if (miss == 0)
			item(g);
		jump_over(g, x, o);
	} else if (what == 1) {                             /* and, [bool,] test */
		int32_t k = edge_imm(g);
		bool b = sl_tgen_pick(&g->t, 2);

		if (sl_tgen_pick(&g->t, 2)) {                       /* the value just loaded */
			pick_addr(g, size, false, &base, &off);
			if (base == x)
				return;
			sl_tgen_emit(&g->t, BPF_LDX | BPF_MEM | sl_tgen_sizes[si], x, base, off, 0);
			if (miss == 2)
				item(g);
		}
		sl_tgen_emit(&g->t, (w64 ? BPF_ALU64 : BPF_ALU) | BPF_AND | BPF_K, x, 0, 0, k);
		if (b)
			sl_tgen_emit(&g->t, BPF_ALU64 | BPF_MOV | BPF_K, c, 0, 0, 1);
		if (miss == 0)
			item(g);
		sl_tgen_emit(&g->t, (sl_tgen_pick(&g->t, 2) ? BPF_JMP : BPF_JMP32) | (sl_tgen_pick(&g->t, 2) ? BPF_JEQ : BPF_JNE) | BPF_K,
		    x, 0, 1, miss == 1 ? 1 : 0);
		if (b)
			sl_tgen_emit(&g->t, BPF_ALU64 | BPF_MOV | BPF_K, c, 0, 0, 0);
		else
			sl_tgen_emit(&g->t, BPF_ALU64 | BPF_ADD | BPF_K, o, 0, 0, 3);
	} else if (what == 2 || what == 3) {                /* load, then jump or op and store */
		pick_addr(g, size, false, &base, &off);
		if (base == x)
			return;
		sl_tgen_emit(&g->t, BPF_LDX | BPF_MEM | sl_tgen_sizes[si], x, base, off, 0);
		if (miss == 0)
			item(g);
		if (what == 2) {
			jump_over(g, x, o);
		} else {
			unsigned si2 = miss == 1 ? sl_tgen_pick(&g->t, 4) : si;

			sl_tgen_emit(&g->t, (w64 ? BPF_ALU64 : BPF_ALU) | aops[sl_tgen_pick(&g->t, sizeof(aops))] | BPF_K,
			    x, 0, 0, edge_imm(g));
			if (miss == 2)
				item(g);
			if (miss == 3 && in_bounds(g, base, (int16_t)(off + 1), 1u << si2))
				off = (int16_t)(off + 1);                    /* another offset */
			if (!in_bounds(g, base, off, 1u << si2))
				si2 = si;
			sl_tgen_emit(&g->t, BPF_STX | BPF_MEM | sl_tgen_sizes[si2], base, x, off, 0);
		}
	} else if (what == 4) {                             /* a mask of what already fits */
		static const int32_t masks[] = { 0xff, 0xffff, 0x7f, 0xfff, -1, 0x1ff };
		unsigned how = sl_tgen_pick(&g->t, 4);

		if (how == 0) {
			pick_addr(g, size, false, &base, &off);
			sl_tgen_emit(&g->t, BPF_LDX | BPF_MEM | sl_tgen_sizes[si], x, base, off, 0);
		} else if (how == 1) {
			sl_tgen_emit(&g->t, (w64 ? BPF_ALU64 : BPF_ALU) | BPF_MOV | BPF_K, x, 0, 0,
			    sl_tgen_pick(&g->t, 2) ? (int32_t)sl_tgen_pick(&g->t, 0x20000) : edge_imm(g));
		} else {
			sl_tgen_emit(&g->t, (w64 ? BPF_ALU64 : BPF_ALU) | BPF_AND | BPF_K, c, 0, 0,
			    masks[sl_tgen_pick(&g->t, sizeof(masks) / sizeof(masks[0]))]);
			sl_tgen_emit(&g->t, (sl_tgen_pick(&g->t, 2) ? BPF_ALU64 : BPF_ALU) | BPF_MOV | BPF_X, x, c, 0, 0);
			if (how == 3)
				sl_tgen_emit(&g->t, (w64 ? BPF_ALU64 : BPF_ALU) | BPF_RSH | BPF_K, x, 0, 0,
				    (int32_t)sl_tgen_pick(&g->t, 8));
		}
		if (miss == 0)
			item(g);                            /* from elsewhere: any value */
		else if (miss == 1)
			sl_tgen_emit(&g->t, BPF_ALU64 | BPF_LSH | BPF_K, x, 0, 0, 1);   /* no longer fits */
		sl_tgen_emit(&g->t, (sl_tgen_pick(&g->t, 2) ? BPF_ALU64 : BPF_ALU) | BPF_AND | BPF_K, x, 0, 0,
		    masks[sl_tgen_pick(&g->t, sizeof(masks) / sizeof(masks[0]))]);
		if (sl_tgen_pick(&g->t, 3) == 0) {                 /* on the AND's flags */
			sl_tgen_emit(&g->t, BPF_JMP | BPF_JEQ | BPF_K, x, 0, 1, 0);
			sl_tgen_emit(&g->t, BPF_ALU64 | BPF_ADD | BPF_K, o, 0, 0, 3);
		}
		sl_tgen_emit(&g->t, BPF_ALU64 | BPF_XOR | BPF_X, o, x, 0, 0);
		return;
	} else if (what == 5) {                             /* 32-bit value, constant >= 2^31 */
		static const uint8_t ops[] = { BPF_JEQ, BPF_JNE, BPF_JGT, BPF_JGE, BPF_JLT, BPF_JLE,
					       BPF_JSET, BPF_JSGT, BPF_JSLT };
		static const uint64_t ks[] = { 0x80000000ull, 0xc0a80d00ull, 0xffffffffull,
					       0xfffffffeull, 0x100000000ull, 0x1ffffffffull };
		uint64_t k = ks[sl_tgen_pick(&g->t, sizeof(ks) / sizeof(ks[0]))];

		if (miss != 1)                              /* else: the upper half may be set */
			sl_tgen_emit(&g->t, BPF_ALU | BPF_MOV | BPF_X, x, x, 0, 0);
		if (sl_tgen_pick(&g->t, 2))
			put_lddw(g, c, k);
		else
			sl_tgen_emit(&g->t, BPF_ALU | BPF_MOV | BPF_K, c, 0, 0, (int32_t)k);
		if (miss == 0)
			item(g);
		sl_tgen_emit(&g->t, BPF_JMP | ops[sl_tgen_pick(&g->t, sizeof(ops))] | BPF_X,
		    sl_tgen_pick(&g->t, 2) ? x : c, 0, 1, 0);
		g->t.insns[g->t.n - 1].src_reg = g->t.insns[g->t.n - 1].dst_reg == x ? c : x;
		sl_tgen_emit(&g->t, BPF_ALU64 | BPF_ADD | BPF_K, o, 0, 0, 3);
		return;
	} else {                                            /* store of a constant register */
		uint64_t v = sl_tgen_pick(&g->t, 3) ? (uint64_t)(int64_t)edge_imm(g) : edge_u64(g);

		pick_addr(g, size, false, &base, &off);
		if (base == c)
			return;
		if (sl_tgen_pick(&g->t, 2))
			put_lddw(g, c, v);
		else
			sl_tgen_emit(&g->t, (w64 ? BPF_ALU64 : BPF_ALU) | BPF_MOV | BPF_K, c, 0, 0, (int32_t)v);
		if (o != base && sl_tgen_pick(&g->t, 2))
			sl_tgen_emit(&g->t, BPF_ALU64 | BPF_XOR | BPF_X, o, x, 0, 0);
		if (miss == 1)
			sl_tgen_emit(&g->t, BPF_ALU64 | BPF_ADD | BPF_K, c, 0, 0, 1);        /* rC changes */
		else if (miss == 2)
			item(g);
		sl_tgen_emit(&g->t, BPF_STX | BPF_MEM | sl_tgen_sizes[si], base, c, off, 0);
		if (sl_tgen_pick(&g->t, 2))
			sl_tgen_emit(&g->t, BPF_ALU64 | BPF_MOV | BPF_K, c, 0, 0, edge_imm(g));  /* dies */
		return;
	}
	if (sl_tgen_pick(&g->t, 4) == 0)
		sl_tgen_emit(&g->t, BPF_ALU64 | BPF_XOR | BPF_X, o, x, 0, 0);          /* reads rX */
	sl_tgen_emit(&g->t, BPF_ALU64 | BPF_MOV | BPF_K, x, 0, 0, edge_imm(g));      /* rX dies */
}

/*
 * clang's reload and re-spill of a stack slot where paths join: "rX =
 * *(size *)(r10 + off); *(size *)(r10 + off) = rX" (the JIT drops the
 * store), then a u64 load of the slot so its bytes reach the result. Near
 * misses: another size, offset or register in the store, a jump landing
 * on the store (over the load), a stack pointer other than r10 as the
 * base, a sign-extending load.
 */
static void gen_reload(struct gen *g)
{
	int span = g->in_sub ? 32 : STACK_OPS;
	unsigned si = sl_tgen_pick(&g->t, 4), size = 1u << si, si2 = si, miss = sl_tgen_pick(&g->t, 8);
	int16_t off = (int16_t)-(int)(size + sl_tgen_pick(&g->t, (unsigned)span - size + 1)), off2 = off;
	uint8_t x = scalar(g), y = x, a = scalar(g), base = BPF_REG_10, mode = BPF_MEM;

	if (miss == 1) {
		si2 = (si + 1 + sl_tgen_pick(&g->t, 3)) % 4;
		if (off + (1 << si2) > 0)
			si2 = si;
	} else if (miss == 2) {
		off2 = (int16_t)(off + (sl_tgen_pick(&g->t, 2) ? 1 : -1) * (int)(1 + sl_tgen_pick(&g->t, 2)));
		if (off2 + (int)size > 0 || off2 < -span)
			off2 = off;
	} else if (miss == 3) {
		y = scalar(g);
	} else if (miss == 5 && size < 8) {
		mode = BPF_MEMSX;
	} else if (miss == 6 && !g->in_sub) {
		for (uint8_t r = BPF_REG_6; r <= BPF_REG_9; r++)
			if (g->kind[r] == K_STACK)
				base = r;
	}
	item(g);
	if (miss == 4)      /* lands on the store, where rX may not be the slot's bytes */
		sl_tgen_emit(&g->t, BPF_JMP | (sl_tgen_pick(&g->t, 2) ? BPF_JNE : BPF_JGT) | BPF_K, a, 0, 1,
			     edge_imm(g));
	sl_tgen_emit(&g->t, BPF_LDX | mode | sl_tgen_sizes[si], x, base, off, 0);
	sl_tgen_emit(&g->t, BPF_STX | BPF_MEM | sl_tgen_sizes[si2], base, y, off2, 0);
	sl_tgen_emit(&g->t, BPF_LDX | BPF_MEM | BPF_DW, scalar(g), BPF_REG_10, (int16_t)(off & ~7), 0);
}

/* An exit block "r0 = a ^ b; exit" at the end of the program so far, with a goto over it; its pc. */
static uint32_t exit_block(struct gen *g, uint8_t a, uint8_t b)
{
	uint32_t skip = g->t.n, blk;

	sl_tgen_emit(&g->t, BPF_JMP | BPF_JA, 0, 0, 0, 0);
	blk = g->t.n;
	sl_tgen_emit(&g->t, BPF_ALU64 | BPF_MOV | BPF_X, 0, a, 0, 0);
	sl_tgen_emit(&g->t, BPF_ALU64 | BPF_XOR | BPF_X, 0, b, 0, 0);
	sl_tgen_emit(&g->t, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
	g->t.insns[skip].off = (int16_t)(g->t.n - skip - 1);
	return blk;
}

/*
 * An exit block "b ^= K; r0 = a; r0 ^= b; exit" after a goto over it, or
 * with @p w32 "wA <<= 8; w0 = wA; w0 ^= wB; exit" (a v3 exit block):
 * @return its first pc.
 */
static uint32_t exit_block_w(struct gen *g, uint8_t a, uint8_t b, bool w32)
{
	uint32_t skip = g->t.n, blk;

	sl_tgen_emit(&g->t, BPF_JMP | BPF_JA, 0, 0, 0, 0);
	blk = g->t.n;
	if (w32) {
		sl_tgen_emit(&g->t, BPF_ALU | BPF_LSH | BPF_K, a, 0, 0, 8);
		sl_tgen_emit(&g->t, BPF_ALU | BPF_MOV | BPF_X, 0, a, 0, 0);
		sl_tgen_emit(&g->t, BPF_ALU | BPF_XOR | BPF_X, 0, b, 0, 0);
		sl_tgen_emit(&g->t, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
		g->t.insns[skip].off = (int16_t)(g->t.n - skip - 1);
		return blk;
	}
	sl_tgen_emit(&g->t, BPF_ALU64 | BPF_XOR | BPF_K, b, 0, 0, edge_imm(g) | 1);
	sl_tgen_emit(&g->t, BPF_ALU64 | BPF_MOV | BPF_X, 0, a, 0, 0);
	sl_tgen_emit(&g->t, BPF_ALU64 | BPF_XOR | BPF_X, 0, b, 0, 0);
	sl_tgen_emit(&g->t, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
	g->t.insns[skip].off = (int16_t)(g->t.n - skip - 1);
	return blk;
}

/*
 * Moves set up before a jump and dead where it falls through, which the
 * JIT makes only on the taken side, in a landing block after the function
 * (jit/sink.c): "rA = imm|rS; [rB = imm|rS;] [rC op= imm;] if rD op imm|rE
 * goto L; rA = ...; rB = ..." (both overwritten where it falls through),
 * L a later item or a short exit block ("r0 = rA; r0 ^= rB; exit", which
 * the landing block copies; also placed before the jump: a backward jump). Near
 * misses (each 1 in 8): rA read where it falls through, rS changed or rA
 * read between, the jump comparing rA, a jump landing between, a
 * sign-extending move, an exit block writing rS first (the landing block
 * runs the exit block on rS in place of a copy "rA = rS" only when it
 * names rS nowhere), a 32-bit copy into a 32-bit exit block (also run on
 * rS) or into a 64-bit one (not: it reads rA's upper half).
 */
static void gen_sink(struct gen *g)
{
	uint8_t a = scalar(g), b = scalar(g), c = scalar(g), d = scalar(g), e = scalar(g), sr = scalar(g);
	unsigned miss = sl_tgen_pick(&g->t, 16), how = sl_tgen_pick(&g->t, 3);
	bool two = sl_tgen_pick(&g->t, 2), x = sl_tgen_pick(&g->t, 2);
	uint32_t blk = 0, jpc;

	if (a == b || a == d || a == e || b == d || b == e || a == sr || b == sr ||
	    (g->in_sub && how == 0) || g->njfix >= MAX_ITEMS)
		return;
	item(g);
	if (how == 2)                                     /* the exit block first: a backward jump */
		blk = miss == 8 || miss == 10 ? exit_block_w(g, a, sr, false) :
		      miss == 9 ? exit_block_w(g, a, b, true) : exit_block(g, a, b);
	if (miss >= 8 && miss <= 10)
		x = true;                                 /* a copy: the landing block may run on sr */
	sl_tgen_emit(&g->t, (sl_tgen_pick(&g->t, 2) || miss == 8 || miss == 10 ? BPF_ALU64 : BPF_ALU) |
	    BPF_MOV | (x ? BPF_X : BPF_K), a,
	    x ? sr : 0, x && miss == 7 ? 8 : 0, x ? 0 : edge_imm(g));
	if (two)
		sl_tgen_emit(&g->t, BPF_ALU64 | BPF_MOV | BPF_K, b, 0, 0, edge_imm(g));
	if (miss == 1)
		sl_tgen_emit(&g->t, BPF_ALU64 | BPF_ADD | BPF_K, sr, 0, 0, 5);     /* rS changes */
	else if (miss == 2)
		sl_tgen_emit(&g->t, BPF_ALU64 | BPF_XOR | BPF_X, c, a, 0, 0);      /* rA read */
	else if (c != a && c != b && c != sr && sl_tgen_pick(&g->t, 2))
		sl_tgen_emit(&g->t, BPF_ALU64 | BPF_ADD | BPF_K, c, 0, 0, edge_imm(g));
	if (miss == 3)
		item(g);                                        /* a jump may land here */
	jpc = g->t.n;
	if (how == 0) {                                   /* to a later item */
		g->jfix[g->njfix].pc = jpc;
		g->jfix[g->njfix].item = g->nitems + sl_tgen_pick(&g->t, 8);
		g->jfix[g->njfix].ja32 = false;
		g->njfix++;
	}
	x = sl_tgen_pick(&g->t, 2);
	sl_tgen_emit(&g->t, (sl_tgen_pick(&g->t, 2) ? BPF_JMP : BPF_JMP32) | (sl_tgen_pick(&g->t, 2) ? BPF_JEQ : BPF_JGT) |
	    (x ? BPF_X : BPF_K), miss == 4 ? a : d, x ? e : 0, 0, x ? 0 : edge_imm(g));
	if (miss == 5)
		sl_tgen_emit(&g->t, BPF_ALU64 | BPF_ADD | BPF_X, c, a, 0, 0);      /* rA read after all */
	sl_tgen_emit(&g->t, BPF_ALU64 | BPF_MOV | BPF_K, a, 0, 0, edge_imm(g));
	if (two)
		sl_tgen_emit(&g->t, BPF_ALU | BPF_MOV | BPF_X, b, d, 0, 0);
	if (how == 1)                                     /* the exit block after: a forward jump */
		blk = miss == 8 || miss == 10 ? exit_block_w(g, a, sr, false) :
		      miss == 9 ? exit_block_w(g, a, b, true) : exit_block(g, a, b);
	if (how)
		g->t.insns[jpc].off = (int16_t)((int32_t)blk - (int32_t)jpc - 1);
}

/*
 * A 16-bit byte swap (be16, le16) of a value known to fit in 16 bits (a
 * u8/u16 load, a small mask, a right shift of such): the JIT leaves out
 * the zero extension. Near misses: a u32/u64 load, a left shift, a jump
 * landing before the swap (from where the value may be anything).
 */
static void gen_swap_fits(struct gen *g)
{
	uint8_t x = scalar(g), base;
	unsigned miss = sl_tgen_pick(&g->t, 8), si = miss == 0 ? 2 + sl_tgen_pick(&g->t, 2) : sl_tgen_pick(&g->t, 2);
	int16_t off;

	item(g);
	pick_addr(g, 1u << si, false, &base, &off);
	if (base == x)
		return;
	sl_tgen_emit(&g->t, BPF_LDX | BPF_MEM | sl_tgen_sizes[si], x, base, off, 0);
	if (miss == 1)
		sl_tgen_emit(&g->t, BPF_ALU64 | BPF_LSH | BPF_K, x, 0, 0, 9);
	else if (miss == 2)
		item(g);
	else if (sl_tgen_pick(&g->t, 2))
		sl_tgen_emit(&g->t, (sl_tgen_pick(&g->t, 2) ? BPF_ALU64 : BPF_ALU) |
		    (sl_tgen_pick(&g->t, 2) ? BPF_RSH : BPF_AND) | BPF_K, x, 0, 0, 1 + (int32_t)sl_tgen_pick(&g->t, 0x7fff));
	sl_tgen_emit(&g->t, (sl_tgen_pick(&g->t, 3) == 0 ? BPF_ALU64 | BPF_TO_LE :    /* bswap16 */
			     sl_tgen_pick(&g->t, 2) ? BPF_ALU | BPF_TO_BE : BPF_ALU | BPF_TO_LE) | BPF_END,
	    x, 0, 0, 16);
}

/*
 * A 64-bit unsigned div/mod of two values with zero upper halves (each
 * after a 32-bit move): the JIT divides in 32 bits. Near misses: the
 * dividend or the divisor not zero-extended, a zero divisor (mov 0 keeps
 * the upper half zero), a jump landing just before the division (from
 * where either may be anything), a signed division.
 */
static void gen_div_narrow(struct gen *g)
{
	uint8_t d = scalar(g), s = scalar(g);
	unsigned miss = sl_tgen_pick(&g->t, 7);

	if (g->leaf)
		return;
	item(g);
	if (miss != 1)
		sl_tgen_emit(&g->t, BPF_ALU | BPF_MOV | BPF_X, d, d, 0, 0);
	if (miss != 2)
		sl_tgen_emit(&g->t, BPF_ALU | BPF_MOV | BPF_X, s, s, 0, 0);
	if (miss == 3)
		sl_tgen_emit(&g->t, BPF_ALU64 | BPF_MOV | BPF_K, s, 0, 0, 0);
	else if (miss == 4)
		item(g);
	sl_tgen_emit(&g->t, BPF_ALU64 | (sl_tgen_pick(&g->t, 2) ? BPF_DIV : BPF_MOD) | BPF_X, d, s,
	    miss == 5 ? 1 : 0, 0);
}

static void gen_mulrot(struct gen *g)
{
	uint8_t v = scalar(g), a = scalar(g), c1 = scalar(g), c2 = scalar(g), o = scalar(g);
	uint32_t k = 1 + sl_tgen_pick(&g->t, 63);
	uint64_t k2 = edge_u64(g), k1 = sl_tgen_pick(&g->t, 4) ? k2 << k : sl_tgen_u64(&g->t);
	unsigned twist = sl_tgen_pick(&g->t, 12);

	if (v == a || v == c1 || v == c2 || a == c1 || a == c2 || c1 == c2)
		return;
	item(g);
	if (twist != 3)
		put_lddw(g, c1, k1);
	put_lddw(g, c2, k2);
	sl_tgen_emit(&g->t, BPF_ALU64 | BPF_MOV | BPF_X, a, v, 0, 0);
	if (twist == 3)
		put_lddw(g, c1, k1);                  /* clang's order: the constant after the mov */
	else if (twist == 4)
		put_lddw(g, o, sl_tgen_u64(&g->t));
	sl_tgen_emit(&g->t, BPF_ALU64 | BPF_MUL | BPF_X, a, c1, 0, 0);
	if (twist == 0)
		put_lddw(g, c2, sl_tgen_u64(&g->t));              /* C2 changes: no longer matches */
	else if (twist == 1)
		sl_tgen_emit(&g->t, BPF_ALU64 | BPF_ADD | BPF_K, v, 0, 0, 1);  /* rV changes */
	else if (twist == 2)
		item(g);                              /* a jump may land here */
	sl_tgen_emit(&g->t, BPF_ALU64 | BPF_MUL | BPF_X, v, c2, 0, 0);
	if (twist == 5 || twist == 6)
		put_lddw(g, o, sl_tgen_u64(&g->t));               /* rC2 may change after its use */
	if (twist == 6 && sl_tgen_pick(&g->t, 2))
		put_lddw(g, c2, k2);
	if (twist == 7)
		item(g);
	sl_tgen_emit(&g->t, BPF_ALU64 | BPF_RSH | BPF_K, v, 0, 0, (int32_t)(64 - k));
	sl_tgen_emit(&g->t, BPF_ALU64 | BPF_OR | BPF_X, v, a, 0, 0);
}

static void gen_call(struct gen *g)
{
	uint32_t first = g->in_sub ? g->cur_sub + 1 : 0;

	if (first >= g->nsubs)
		return;
	for (uint8_t r = 1; r <= 5; r++)
		set_const(g, r);
	item(g);
	g->cfix[g->ncfix].pc = g->t.n;
	g->cfix[g->ncfix++].sub = first + sl_tgen_pick(&g->t, g->nsubs - first);
	sl_tgen_emit(&g->t, BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_CALL, 0, 0);
	for (uint8_t r = 1; r <= 5; r++)
		set_const(g, r);
}

/*
 * A helper call (the JIT: call rel32 when its code is within +-2 GiB of
 * the helper, movabs + call r11 otherwise or with far_calls): bpf_csum_diff
 * over two random ranges of the buffer or the stack (sizes multiples of 4,
 * either may be 0) and a seed, or bpf_get_smp_processor_id; r1-r5 are
 * clobbered, so they are set again after it.
 */
static void gen_helper(struct gen *g)
{
	item(g);
	if (sl_tgen_pick(&g->t, 4) == 0) {
		sl_tgen_emit(&g->t, BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_get_smp_processor_id);
	} else {
		for (uint8_t r = 1; r <= 3; r += 2) {
			unsigned size = 4 * sl_tgen_pick(&g->t, 5);
			uint8_t base;
			int16_t off;

			pick_addr(g, size ? size : 4, false, &base, &off);
			sl_tgen_emit(&g->t, BPF_ALU64 | BPF_MOV | BPF_X, r, base, 0, 0);
			sl_tgen_emit(&g->t, BPF_ALU64 | BPF_ADD | BPF_K, r, 0, 0, off);
			sl_tgen_emit(&g->t, BPF_ALU64 | BPF_MOV | BPF_K, (uint8_t)(r + 1), 0, 0, (int32_t)size);
		}
		sl_tgen_emit(&g->t, BPF_ALU64 | BPF_MOV | BPF_K, 5, 0, 0, edge_imm(g));
		sl_tgen_emit(&g->t, BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_csum_diff);
	}
	for (uint8_t r = 1; r <= 5; r++)
		set_const(g, r);
}

/*
 * bpf_loop(n, cb, ctx, flags) (the JIT emits the loop in place, its bound
 * in a register, when r2 is the lddw of the callback in the same straight
 * line): n mostly small, sometimes above SL_MAX_LOOPS or with upper bits
 * the helper ignores; flags mostly 0; ctx 8 bytes of the buffer or the
 * stack, which the callback (gen_callback()) folds every index into.
 * Near miss: r2 rewritten by a mov after its lddw (the helper is called).
 */
static void gen_loop(struct gen *g)
{
	static const uint64_t ns[] = { 0, 1, 2, 3, 7, 12, (1u << 23) + 1, 0x100000003ull, 1u << 23 };
	uint64_t n = sl_tgen_pick(&g->t, 2) ? sl_tgen_pick(&g->t, 13) : ns[sl_tgen_pick(&g->t, 9)];
	uint8_t base;
	int16_t off;

	if (n == (1u << 23))
		n = 5;                       /* allowed, but too slow for a test of 20,000 programs */
	item(g);
	put_lddw(g, 1, n);
	g->lfix[g->nlfix++] = g->t.n;
	sl_tgen_emit(&g->t, BPF_LD | BPF_IMM | BPF_DW, 2, BPF_PSEUDO_FUNC, 0, 0);
	sl_tgen_emit(&g->t, 0, 0, 0, 0, 0);
	if (sl_tgen_pick(&g->t, 6) == 0)
		sl_tgen_emit(&g->t, BPF_ALU64 | BPF_MOV | BPF_X, 2, 2, 0, 0);
	pick_addr(g, 8, false, &base, &off);
	sl_tgen_emit(&g->t, BPF_ALU64 | BPF_MOV | BPF_X, 3, base, 0, 0);
	sl_tgen_emit(&g->t, BPF_ALU64 | BPF_ADD | BPF_K, 3, 0, 0, off);
	sl_tgen_emit(&g->t, BPF_ALU64 | BPF_MOV | BPF_K, 4, 0, 0, sl_tgen_pick(&g->t, 8) ? 0 : 1);
	sl_tgen_emit(&g->t, BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_loop);
	for (uint8_t r = 1; r <= 5; r++)
		set_const(g, r);
}

/* The callback: *(u64 *)ctx = *(u64 *)ctx * 31 + i; returns 1 (stop) from index K on. */
static void gen_callback(struct gen *g)
{
	sl_tgen_emit(&g->t, BPF_LDX | BPF_MEM | BPF_DW, 3, 2, 0, 0);
	sl_tgen_emit(&g->t, BPF_ALU64 | BPF_MUL | BPF_K, 3, 0, 0, 31);
	sl_tgen_emit(&g->t, BPF_ALU64 | BPF_ADD | BPF_X, 3, 1, 0, 0);
	sl_tgen_emit(&g->t, BPF_STX | BPF_MEM | BPF_DW, 2, 3, 0, 0);
	sl_tgen_emit(&g->t, BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 0);
	sl_tgen_emit(&g->t, BPF_JMP | BPF_JLT | BPF_K, 1, 0, 1, (int32_t)sl_tgen_pick(&g->t, 14));
	sl_tgen_emit(&g->t, BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 1);
	sl_tgen_emit(&g->t, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
}

/* The body of a flat subprogram: registers only (ALU, also div/mod and shifts by a register, selects, sunk moves). */
static void gen_flat_body(struct gen *g, unsigned n)
{
	for (unsigned i = 0; i < n && g->t.n < MAX_INSNS - 64; i++) {
		unsigned w = sl_tgen_pick(&g->t, 10);

		if (w < 4)
			gen_alu(g);
		else if (w < 5)
			gen_rotate(g);
		else if (w < 6)
			gen_mul_add(g);
		else if (w < 7)
			gen_select(g);
		else if (w < 8)
			gen_sink(g);
		else if (w < 9)
			gen_setcc(g);
		else
			set_const(g, scalar(g));
	}
}

/*
 * A prefix test (fuse_cmp.c): "rX = rY; rX &= M; [...] if rX ==|!= C goto
 * L; rC += 1; L: rX = imm" (rX dead after the jump), M's low half
 * 0xffffffff << k as an immediate or a constant register, C an immediate
 * or a constant register, rY often set to match. Both widths of the mov,
 * the AND and the jump; rY's upper half sometimes known zero. Near misses:
 * rX read or written between, a jump landing between, rX read after the
 * jump, C with low bits set or a nonzero upper half, a mask with a hole,
 * an ordered compare, rY written between.
 */
static void gen_mask_cmp(struct gen *g)
{
	uint8_t x = scalar(g), y = scalar(g), c = scalar(g), mr = scalar(g), cr = scalar(g);
	unsigned k = 1 + sl_tgen_pick(&g->t, 31), miss = sl_tgen_pick(&g->t, 20);
	uint32_t m32 = 0xffffffffu << k, jpc, into = 0;
	uint64_t cv = (uint64_t)(sl_tgen_u64(&g->t) & m32), yv;
	bool mx = sl_tgen_pick(&g->t, 3) == 0, cx = sl_tgen_pick(&g->t, 3) == 0;
	uint8_t acls = sl_tgen_pick(&g->t, 3) ? BPF_ALU64 : BPF_ALU;
	uint8_t jcls = sl_tgen_pick(&g->t, 3) ? BPF_JMP : BPF_JMP32;

	if (x == y || x == c || y == c || mr == x || mr == y || cr == x || cr == y || mr == cr)
		return;
	if (miss == 6)
		cv |= 1u << sl_tgen_pick(&g->t, k);                 /* C has a low bit set */
	if (miss == 7 && jcls == BPF_JMP)
		cv |= (uint64_t)1 << (32 + sl_tgen_pick(&g->t, 32));  /* C's upper half */
	if (miss == 8)
		m32 &= ~(1u << (k + sl_tgen_pick(&g->t, 32 - k)));  /* a hole in the mask */
	item(g);
	if (sl_tgen_pick(&g->t, 2)) {       /* rY matches (the low half; the upper half often zero) */
		yv = cv | (sl_tgen_u64(&g->t) & ~(uint64_t)m32 & (sl_tgen_pick(&g->t, 2) ? 0xffffffffull : ~0ull));
		if (sl_tgen_pick(&g->t, 4) == 0)
			yv ^= 1u << (31 - sl_tgen_pick(&g->t, 32 - k));  /* one bit off */
		sl_tgen_emit(&g->t, BPF_LD | BPF_IMM | BPF_DW, y, 0, 0, (int32_t)(uint32_t)yv);
		sl_tgen_emit(&g->t, 0, 0, 0, 0, (int32_t)(uint32_t)(yv >> 32));
	}
	if (sl_tgen_pick(&g->t, 3) == 0)
		sl_tgen_emit(&g->t, BPF_ALU | BPF_MOV | BPF_X, y, y, 0, 0);   /* upper half zero */
	if (mx) {
		sl_tgen_emit(&g->t, BPF_LD | BPF_IMM | BPF_DW, mr, 0, 0, (int32_t)m32);
		sl_tgen_emit(&g->t, 0, 0, 0, 0, sl_tgen_pick(&g->t, 2) ? 0 : -1);
	}
	if (cx) {
		sl_tgen_emit(&g->t, BPF_LD | BPF_IMM | BPF_DW, cr, 0, 0, (int32_t)(uint32_t)cv);
		sl_tgen_emit(&g->t, 0, 0, 0, 0, (int32_t)(uint32_t)(cv >> 32));
	}
	if (miss == 3) {                                    /* a jump into the middle */
		into = g->t.n;
		sl_tgen_emit(&g->t, BPF_JMP | BPF_JGT | BPF_K, c, 0, 0, (int32_t)sl_tgen_pick(&g->t, 16));
	}
	sl_tgen_emit(&g->t, (sl_tgen_pick(&g->t, 4) ? BPF_ALU64 : BPF_ALU) | BPF_MOV | BPF_X, x, y, 0, 0);
	if (miss == 9)
		item(g);                                            /* a jump may land on the AND */
	sl_tgen_emit(&g->t, acls | BPF_AND | (mx ? BPF_X : BPF_K), x, mx ? mr : 0, 0, mx ? 0 : (int32_t)m32);
	if (miss == 1)
		sl_tgen_emit(&g->t, BPF_ALU64 | BPF_ADD | BPF_X, c, x, 0, 0);     /* rX read */
	else if (miss == 2)
		sl_tgen_emit(&g->t, BPF_ALU64 | BPF_ADD | BPF_K, x, 0, 0, 1);     /* rX written */
	if (miss == 3)                                      /* it lands after the AND */
		g->t.insns[into].off = (int16_t)(g->t.n - into - 1);
	if (miss == 10)
		sl_tgen_emit(&g->t, BPF_ALU64 | BPF_ADD | BPF_K, y, 0, 0, 1);     /* rY written */
	else if (sl_tgen_pick(&g->t, 2))
		sl_tgen_emit(&g->t, BPF_ALU64 | BPF_MOV | BPF_X, c, y, 0, 0);     /* something else */
	jpc = g->t.n;
	sl_tgen_emit(&g->t, jcls | (miss == 4 ? BPF_JGT : sl_tgen_pick(&g->t, 2) ? BPF_JEQ : BPF_JNE) |
	    (cx ? BPF_X : BPF_K), x, cx ? cr : 0, 0, cx ? 0 : (int32_t)(uint32_t)cv);
	sl_tgen_emit(&g->t, BPF_ALU64 | BPF_ADD | BPF_K, c, 0, 0, 1);
	g->t.insns[jpc].off = (int16_t)(g->t.n - jpc - 1);
	if (miss == 5)
		sl_tgen_emit(&g->t, BPF_ALU64 | BPF_XOR | BPF_X, c, x, 0, 0);     /* rX read after */
	sl_tgen_emit(&g->t, BPF_ALU64 | BPF_MOV | BPF_K, x, 0, 0, edge_imm(g));
}

/*
 * A rule tail the JIT moves after the epilogue (outline.c): "if a != K
 * goto N; c op= ...; [r0 = v;] if b op K2 goto OUT; N: c ^= a", OUT an
 * exit block after N, or before the head (a backward jump), or a later
 * item. Near misses: an == head, a jump landing in the tail, a tail
 * longer than JIT_OUTLINE_MAX, a tail that does not leave, one ending in
 * a goto to N, one ending in a select whose mov is N (cmov + jmp over it).
 */
static void gen_outline(struct gen *g)
{
	uint8_t a = scalar(g), b = scalar(g), c = scalar(g), v = scalar(g);
	unsigned miss = sl_tgen_pick(&g->t, 12), how = sl_tgen_pick(&g->t, 3);
	unsigned fill = miss == 2 ? 9 : 1 + sl_tgen_pick(&g->t, 3);
	uint32_t head, into = 0, leave, blk = 0;
	uint8_t jcls = sl_tgen_pick(&g->t, 2) ? BPF_JMP : BPF_JMP32;
	bool x = sl_tgen_pick(&g->t, 4) == 0;

	if (miss == 4 || (how == 2 && (g->in_sub || g->njfix >= MAX_ITEMS)))
		how = sl_tgen_pick(&g->t, 2);           /* (a later item only from the main function) */
	if (a == c || b == c || v == c)
		return;
	item(g);
	if (how == 1)
		blk = exit_block(g, a, b);                  /* before the head: a backward jump */
	if (miss == 3) {
		into = g->t.n;
		sl_tgen_emit(&g->t, BPF_JMP | BPF_JGT | BPF_K, c, 0, 0, (int32_t)sl_tgen_pick(&g->t, 16));
	}
	head = g->t.n;
	sl_tgen_emit(&g->t, jcls | (miss == 1 ? BPF_JEQ : BPF_JNE) | (x ? BPF_X : BPF_K), a, x ? b : 0, 0,
	    x ? 0 : edge_imm(g));
	for (unsigned k = 0; k < fill; k++) {
		if (miss == 3 && k == fill - 1)
			g->t.insns[into].off = (int16_t)(g->t.n - into - 1);   /* lands in the tail */
		sl_tgen_emit(&g->t, BPF_ALU64 | (k & 1 ? BPF_XOR : BPF_ADD) | BPF_K, c, 0, 0, edge_imm(g));
	}
	if (v != a && v != b && sl_tgen_pick(&g->t, 2))
		sl_tgen_emit(&g->t, BPF_ALU64 | BPF_MOV | BPF_K, v, 0, 0, edge_imm(g));  /* sinks */
	leave = g->t.n;
	if (how == 2) {
		g->jfix[g->njfix].pc = leave;
		g->jfix[g->njfix].item = g->nitems + sl_tgen_pick(&g->t, 8);
		g->jfix[g->njfix].ja32 = false;
		g->njfix++;
	}
	sl_tgen_emit(&g->t, (sl_tgen_pick(&g->t, 2) ? BPF_JMP : BPF_JMP32) |
	    (sl_tgen_pick(&g->t, 2) ? BPF_JEQ : BPF_JGT) | BPF_K, b, 0, 0, edge_imm(g));
	if (miss == 5)
		sl_tgen_emit(&g->t, BPF_JMP | BPF_JA, 0, 0, 0, 0);         /* a goto N */
	if (miss == 6)                                     /* a select whose mov is N */
		sl_tgen_emit(&g->t, BPF_JMP | BPF_JSGT | BPF_K, b, 0, 1, edge_imm(g));
	g->t.insns[head].off = (int16_t)(g->t.n - head - 1);
	if (miss == 6)
		sl_tgen_emit(&g->t, BPF_ALU64 | BPF_MOV | BPF_K, c, 0, 0, edge_imm(g));
	sl_tgen_emit(&g->t, BPF_ALU64 | BPF_XOR | BPF_X, c, a, 0, 0);
	if (how == 0)
		blk = exit_block(g, a, b);                  /* after N: a forward jump */
	if (miss == 4)
		blk = leave + 1;                            /* the tail does not leave: to N */
	if (how != 2)
		g->t.insns[leave].off = (int16_t)((int32_t)blk - (int32_t)leave - 1);
}

/*
 * A goto (or a conditional jump's taken side) into tests that an earlier
 * test decides (thread.c): "if a !=|== K0 goto L; c += 1; goto J; L: c ^=
 * K; J: v = K; if a op K1 goto X; if a op K2 goto C; c += 7; C: c += a;
 * X: c ^= 9; v = K", a sometimes set to K0, its low half, K0 with another
 * upper half, K1 or K2 first,
 * the tests in either width, K1 and K2 often K0 or K0's low half. Near
 * misses: a written before the goto, a jump landing between the first
 * test and the goto, v read at C (then it is live where the goto would
 * go), a goto over one instruction.
 */
static void gen_thread(struct gen *g)
{
	static const uint8_t ops[] = { BPF_JEQ, BPF_JNE, BPF_JEQ, BPF_JNE, BPF_JGT, BPF_JSET,
				       BPF_JSLE, BPF_JLT };
	uint8_t a = scalar(g), c = scalar(g), v = scalar(g), kr = scalar(g);
	unsigned miss = sl_tgen_pick(&g->t, 10);
	int32_t k0 = edge_imm(g), k[2];
	uint32_t t1, s, into = 0, jx, jc, cpc;
	uint8_t w1 = sl_tgen_pick(&g->t, 3) ? BPF_JMP : BPF_JMP32;

	if (a == c || a == v || c == v || kr == a || kr == c || kr == v)
		return;
	for (int i = 0; i < 2; i++) {
		unsigned h = sl_tgen_pick(&g->t, 4);

		k[i] = h == 0 ? k0 : h == 1 ? (int32_t)((uint32_t)k0 + 1) : h == 2 ? (int32_t)(k0 ^ INT32_MIN) : edge_imm(g);
	}
	item(g);
	switch (sl_tgen_pick(&g->t, 7)) {           /* a's value */
	case 0: put_lddw(g, a, (uint64_t)(int64_t)k0); break;
	case 1: put_lddw(g, a, (uint32_t)k0); break;
	case 4: put_lddw(g, a, (uint64_t)(int64_t)k0 ^ 1ull << 32); break;   /* the same low half */
	case 2: put_lddw(g, a, (uint64_t)(int64_t)k[0]); break;
	case 3: put_lddw(g, a, (uint64_t)(int64_t)k[1]); break;
	default: break;                             /* whatever it holds */
	}
	if (miss == 1) {                            /* a jump into the middle */
		into = g->t.n;
		sl_tgen_emit(&g->t, BPF_JMP | BPF_JGT | BPF_K, c, 0, 0, (int32_t)sl_tgen_pick(&g->t, 16));
	}
	t1 = g->t.n;
	sl_tgen_emit(&g->t, w1 | (sl_tgen_pick(&g->t, 3) ? BPF_JNE : BPF_JEQ) | BPF_K, a, 0, 0, k0);
	sl_tgen_emit(&g->t, BPF_ALU64 | BPF_ADD | BPF_K, c, 0, 0, 1);
	if (miss == 1)
		g->t.insns[into].off = (int16_t)(g->t.n - into - 1);
	if (miss == 2)
		sl_tgen_emit(&g->t, BPF_ALU64 | BPF_ADD | BPF_K, a, 0, 0, 1);    /* a written */
	if (miss == 3)
		sl_tgen_emit(&g->t, BPF_ALU | BPF_MOV | BPF_X, a, a, 0, 0);      /* its upper half */
	s = g->t.n;
	if (miss == 4)                              /* a conditional jump's taken side */
		sl_tgen_emit(&g->t, BPF_JMP | BPF_JSGT | BPF_K, c, 0, 0, edge_imm(g));
	else
		sl_tgen_emit(&g->t, BPF_JMP | BPF_JA, 0, 0, 0, 0);
	g->t.insns[t1].off = (int16_t)(g->t.n - t1 - 1);
	if (miss != 5)                              /* else the goto jumps over one instruction */
		sl_tgen_emit(&g->t, BPF_ALU64 | BPF_XOR | BPF_K, c, 0, 0, edge_imm(g));
	g->t.insns[s].off = (int16_t)(g->t.n - s - 1);
	sl_tgen_emit(&g->t, BPF_ALU64 | BPF_MOV | BPF_K, v, 0, 0, edge_imm(g));
	jx = g->t.n;
	if (miss == 6) {                            /* compared with a constant register */
		put_lddw(g, kr, (uint64_t)(int64_t)k[0]);
		jx = g->t.n;
		sl_tgen_emit(&g->t, (sl_tgen_pick(&g->t, 3) ? BPF_JMP : BPF_JMP32) |
		    ops[sl_tgen_pick(&g->t, sizeof(ops))] | BPF_X, a, kr, 0, 0);
	} else {
		sl_tgen_emit(&g->t, (sl_tgen_pick(&g->t, 3) ? BPF_JMP : BPF_JMP32) |
		    ops[sl_tgen_pick(&g->t, sizeof(ops))] | BPF_K, a, 0, 0, k[0]);
	}
	jc = g->t.n;
	sl_tgen_emit(&g->t, (sl_tgen_pick(&g->t, 3) ? BPF_JMP : BPF_JMP32) |
	    ops[sl_tgen_pick(&g->t, sizeof(ops))] | BPF_K, a, 0, 0, k[1]);
	sl_tgen_emit(&g->t, BPF_ALU64 | BPF_ADD | BPF_K, c, 0, 0, 7);
	cpc = g->t.n;
	g->t.insns[jc].off = (int16_t)(cpc - jc - 1);
	sl_tgen_emit(&g->t, BPF_ALU64 | BPF_ADD | BPF_X, c, miss == 7 ? v : a, 0, 0);   /* v read at C */
	g->t.insns[jx].off = (int16_t)(g->t.n - jx - 1);
	sl_tgen_emit(&g->t, BPF_ALU64 | BPF_XOR | BPF_K, c, 0, 0, 9);
	if (miss != 8)                              /* else v stays live */
		sl_tgen_emit(&g->t, BPF_ALU64 | BPF_MOV | BPF_K, v, 0, 0, edge_imm(g));
	if (miss == 9 && kr != a)                   /* kr read afterwards */
		sl_tgen_emit(&g->t, BPF_ALU64 | BPF_ADD | BPF_X, c, kr, 0, 0);
}

/*
 * A zero extension of a value whose upper half is zero already (the JIT
 * emits nothing for it, jit_hi_zero()): "x = be16|le16 x | x = *(u16 *)m |
 * x &= 0xffff; y = small; x <<= k; x |= y | x ^= y; x <<= 32; x >>= 32",
 * k <= 16. Near misses: k = 17 (may leave the low half), y with an upper
 * half, a 64-bit byte swap, a jump landing between. And "x = K64; x <<= 32;
 * x >>= 32; x |= y" first: that zero extension's result is read only by
 * the one the JIT drops (jit_hi_live() must count it, or the first is
 * dropped too as unread and the upper half of K64 stays).
 */
static void gen_zext_known(struct gen *g)
{
	uint8_t x = scalar(g), y = scalar(g);
	unsigned miss = sl_tgen_pick(&g->t, 8), k = sl_tgen_pick(&g->t, 17);
	uint8_t base;
	int16_t off;

	if (x == y)
		return;
	item(g);
	if (sl_tgen_pick(&g->t, 4) == 0) {            /* a zero extension, then the one dropped */
		put_lddw(g, x, edge_u64(g) | 1ull << 40);
		sl_tgen_emit(&g->t, BPF_ALU64 | BPF_LSH | BPF_K, x, 0, 0, 32);
		sl_tgen_emit(&g->t, BPF_ALU64 | BPF_RSH | BPF_K, x, 0, 0, 32);
		sl_tgen_emit(&g->t, BPF_ALU64 | BPF_MOV | BPF_K, y, 0, 0, (int32_t)sl_tgen_pick(&g->t, 1u << 20));
		sl_tgen_emit(&g->t, BPF_ALU64 | (sl_tgen_pick(&g->t, 2) ? BPF_OR : BPF_XOR) | BPF_X, x, y, 0, 0);
		if (miss == 4)
			item(g);
		sl_tgen_emit(&g->t, BPF_ALU64 | BPF_LSH | BPF_K, x, 0, 0, 32);
		sl_tgen_emit(&g->t, BPF_ALU64 | BPF_RSH | BPF_K, x, 0, 0, 32);
		return;
	}
	switch (sl_tgen_pick(&g->t, 4)) {
	case 0:
		pick_addr(g, 2, false, &base, &off);
		sl_tgen_emit(&g->t, BPF_LDX | BPF_MEM | BPF_H, x, base, off, 0);
		break;
	case 1:
		sl_tgen_emit(&g->t, BPF_ALU64 | BPF_AND | BPF_K, x, 0, 0, 0xffff);
		break;
	default:                                    /* (ALU64: bswap, v4's unconditional swap) */
		if (sl_tgen_pick(&g->t, 3))
			sl_tgen_emit(&g->t, BPF_ALU | BPF_END | (sl_tgen_pick(&g->t, 2) ? BPF_TO_BE : BPF_TO_LE),
			    x, 0, 0, miss == 1 ? 64 : 16);
		else
			sl_tgen_emit(&g->t, BPF_ALU64 | BPF_END | BPF_TO_LE, x, 0, 0, miss == 1 ? 64 : 16);
	}
	if (miss == 2)
		put_lddw(g, y, edge_u64(g));                      /* maybe an upper half */
	else
		sl_tgen_emit(&g->t, BPF_ALU64 | BPF_MOV | BPF_K, y, 0, 0, (int32_t)sl_tgen_pick(&g->t, 1u << 20));
	sl_tgen_emit(&g->t, BPF_ALU64 | BPF_LSH | BPF_K, x, 0, 0, (int32_t)(miss == 3 ? 17 : k));
	sl_tgen_emit(&g->t, BPF_ALU64 | (sl_tgen_pick(&g->t, 2) ? BPF_OR : BPF_XOR) | BPF_X, x, y, 0, 0);
	if (miss == 4)
		item(g);
	sl_tgen_emit(&g->t, BPF_ALU64 | BPF_LSH | BPF_K, x, 0, 0, 32);
	sl_tgen_emit(&g->t, BPF_ALU64 | BPF_RSH | BPF_K, x, 0, 0, 32);
	if (miss == 5)
		sl_tgen_emit(&g->t, BPF_ALU64 | BPF_RSH | BPF_K, x, 0, 0, (int32_t)sl_tgen_pick(&g->t, 40));
}

/*
 * A test hoisted above the bools its taken side skips (hoist.c): "c = 1;
 * d = 1; if x == K1 goto +1; d = 0; if x == K2 goto +1; c = 0; r = y; r
 * &= K3; if r != K4 goto T; c |= d; v ^= c; T: v += K; c = K; d = K".
 * Near misses: B reads c, c read at T (live there), a jump landing inside
 * the bools, B writes d, a division among the bools, B's jump over one
 * instruction.
 */
static void gen_hoist(struct gen *g)
{
	uint8_t x = scalar(g), y = scalar(g), c = scalar(g), d = scalar(g), r = scalar(g), v = scalar(g);
	unsigned miss = sl_tgen_pick(&g->t, 8);
	int32_t k1 = edge_imm(g), k3 = edge_imm(g);
	uint32_t into = 0, j2, e;

	if (x == c || x == d || x == r || x == v || y == c || y == d || y == r || y == v ||
	    c == d || c == r || c == v || d == r || d == v || r == v)
		return;
	item(g);
	if (miss == 3) {                            /* a jump into the bools */
		into = g->t.n;
		sl_tgen_emit(&g->t, BPF_JMP | BPF_JGT | BPF_K, v, 0, 0, edge_imm(g));
	}
	sl_tgen_emit(&g->t, BPF_ALU64 | BPF_MOV | BPF_K, c, 0, 0, 1);
	sl_tgen_emit(&g->t, BPF_ALU64 | BPF_MOV | BPF_K, d, 0, 0, 1);
	sl_tgen_emit(&g->t, BPF_JMP | BPF_JEQ | BPF_K, x, 0, 1, k1);
	sl_tgen_emit(&g->t, BPF_ALU64 | BPF_MOV | BPF_K, d, 0, 0, 0);
	if (miss == 5)                              /* a division among the bools */
		sl_tgen_emit(&g->t, BPF_ALU64 | BPF_DIV | BPF_K, d, 0, 0, 3);
	j2 = g->t.n;
	if (miss == 3)
		g->t.insns[into].off = (int16_t)(j2 - into - 1);
	sl_tgen_emit(&g->t, (sl_tgen_pick(&g->t, 2) ? BPF_JMP : BPF_JMP32) | BPF_JEQ | BPF_K, x, 0, 1,
		     sl_tgen_pick(&g->t, 2) ? k1 : edge_imm(g));
	sl_tgen_emit(&g->t, BPF_ALU64 | BPF_MOV | BPF_K, c, 0, 0, 0);
	sl_tgen_emit(&g->t, BPF_ALU64 | BPF_MOV | BPF_X, r, miss == 1 ? c : y, 0, 0);   /* B reads c */
	sl_tgen_emit(&g->t, BPF_ALU64 | BPF_AND | BPF_K, r, 0, 0, k3);
	if (miss == 4)                              /* B writes d */
		sl_tgen_emit(&g->t, BPF_ALU64 | BPF_ADD | BPF_K, d, 0, 0, 1);
	e = g->t.n;
	sl_tgen_emit(&g->t, (sl_tgen_pick(&g->t, 2) ? BPF_JMP : BPF_JMP32) | BPF_JNE | BPF_K, r, 0, 0,
		     sl_tgen_pick(&g->t, 2) ? k3 : sl_tgen_pick(&g->t, 2) ? 0 : edge_imm(g));
	sl_tgen_emit(&g->t, BPF_ALU64 | BPF_OR | BPF_X, c, d, 0, 0);
	if (miss != 6)                              /* else B's jump goes over one instruction */
		sl_tgen_emit(&g->t, BPF_ALU64 | BPF_XOR | BPF_X, v, c, 0, 0);
	g->t.insns[e].off = (int16_t)(g->t.n - e - 1);
	if (miss == 2)                              /* c read at T */
		sl_tgen_emit(&g->t, BPF_ALU64 | BPF_ADD | BPF_X, v, c, 0, 0);
	else
		sl_tgen_emit(&g->t, BPF_ALU64 | BPF_ADD | BPF_K, v, 0, 0, edge_imm(g));
	sl_tgen_emit(&g->t, BPF_ALU64 | BPF_MOV | BPF_K, c, 0, 0, edge_imm(g));
	sl_tgen_emit(&g->t, BPF_ALU64 | BPF_MOV | BPF_K, d, 0, 0, edge_imm(g));
}

static void gen_body(struct gen *g, unsigned n)
{
	for (unsigned i = 0; i < n && g->t.n < MAX_INSNS - 64; i++) {
		unsigned w = sl_tgen_pick(&g->t, 100);

		if (w < 27)
			gen_alu(g);
		else if (w < 28)
			sl_tgen_pick(&g->t, 2) ? gen_thread(g) : gen_hoist(g);
		else if (w < 29)
			gen_outline(g);
		else if (w < 31)
			gen_mem_shape(g);   /* jit_diff_mem.c */
		else if (w < 32)
			gen_mask_cmp(g);
		else if (w < 34)
			gen_late(g);
		else if (w < 35)
			gen_alu_k(g);
		else if (w < 36)
			sl_tgen_pick(&g->t, 2) ? gen_setcc(g) : gen_setcc_far(g);
		else if (w < 37)
			sl_tgen_pick(&g->t, 3) ? gen_v1_idioms(g) : gen_zext_known(g);
		else if (w < 38)
			gen_carry(g);
		else if (w < 40)
			gen_rotate(g);
		else if (w < 41)
			gen_mulrot(g);
		else if (w < 42)
			gen_rotate2(g);
		else if (w < 43)
			gen_index_load(g);
		else if (w < 45)
			gen_mul_add(g);
		else if (w < 60)
			gen_mem(g);
		else if (w < 64)
			gen_be16(g);
		else if (w < 65)
			gen_le16_join(g);
		else if (w < 75 && !g->leaf)
			gen_atomic(g);
		else if (w < 85 && !g->in_sub)
			gen_jump(g);
		else if (w < 93)
			gen_select(g);
		else if (w < 95 && !g->leaf)
			gen_call(g);
		else if (w < 96 && !g->leaf && g->loops && !g->in_sub && sl_tgen_pick(&g->t, 2))
			gen_loop(g);
		else if (w < 96 && !g->leaf)
			gen_helper(g);
		else if (w < 97)
			gen_mov_op(g);
		else if (w < 98 && sl_tgen_pick(&g->t, 3) == 0)
			gen_reload(g);
		else if (w < 98)
			sl_tgen_pick(&g->t, 2) ? gen_sink(g) : gen_swap_fits(g);
		else if (w < 99)
			gen_div_narrow(g);
		else
			set_const(g, scalar(g));
	}
}

/* Resolve forward jumps of items [from, to) to items <= to. */
static void fix_jumps(struct gen *g, uint32_t from_fix, uint32_t end_item)
{
	for (uint32_t i = from_fix; i < g->njfix; i++) {
		uint32_t t = g->jfix[i].item < end_item ? g->jfix[i].item : end_item;
		struct bpf_insn *in = &g->t.insns[g->jfix[i].pc];
		int32_t off = (int32_t)g->item_pc[t] - (int32_t)(g->jfix[i].pc + 1);

		if (g->jfix[i].ja32)
			in->imm = off;
		else
			in->off = (int16_t)off;
	}
}

static void gen_sub(struct gen *g, uint32_t idx)
{
	g->in_sub = true;
	g->cur_sub = idx;
	g->sub_pc[idx] = g->t.n;
	for (int r = 0; r < 10; r++)
		g->kind[r] = K_SCALAR;
	g->flat = sl_tgen_pick(&g->t, 2);
	if (g->flat) {         /* r0-r5 only; 1 in 4 also r6 (then it cannot go in place) */
		for (int r = sl_tgen_pick(&g->t, 4) ? 6 : 7; r < 10; r++)
			g->kind[r] = K_MEM;                 /* not a scalar: scalar() skips it */
		if (g->kind[6] == K_SCALAR)
			set_const(g, 6);
		set_const(g, 0);
		gen_flat_body(g, 3 + sl_tgen_pick(&g->t, 12));
		item(g);
		sl_tgen_emit(&g->t, BPF_ALU64 | BPF_XOR | BPF_X, 0, g->kind[6] == K_SCALAR ? 6 : 1, 0, 0);
		sl_tgen_emit(&g->t, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
		g->flat = false;
		return;
	}
	for (int i = 1; i <= 4; i++) {
		item(g);
		sl_tgen_emit(&g->t, BPF_ST | BPF_MEM | BPF_DW, 10, 0, (int16_t)(-8 * i), edge_imm(g));
	}
	for (uint8_t r = 6; r <= 9; r++)
		set_const(g, r);
	set_const(g, 0);
	gen_body(g, 5 + sl_tgen_pick(&g->t, 15));
	item(g);
	sl_tgen_emit(&g->t, BPF_ALU64 | BPF_XOR | BPF_X, 0, (uint8_t)(6 + sl_tgen_pick(&g->t, 4)), 0, 0);
	sl_tgen_emit(&g->t, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
}

static void gen_prog(struct gen *g, unsigned len)
{
	uint8_t mem_ptr = (uint8_t)(6 + sl_tgen_pick(&g->t, 4));
	uint32_t body_fix, end_item;

	sl_tgen_init(&g->t, g->t.rng, MAX_INSNS);
	memset(&g->kind, 0, sizeof(*g) - offsetof(struct gen, kind));
	g->leaf = sl_tgen_pick(&g->t, 4) == 0;
	g->loops = !g->leaf && sl_tgen_pick(&g->t, 2);
	g->nsubs = g->leaf ? 0 : sl_tgen_pick(&g->t, MAX_SUBS + 1);
	g->kind[10] = K_STACK;
	g->kind[mem_ptr] = K_MEM;
	item(g);
	sl_tgen_emit(&g->t, BPF_ALU64 | BPF_MOV | BPF_X, mem_ptr, 1, 0, 0);
	for (uint8_t r = 6; r <= 9; r++) {
		unsigned k = sl_tgen_pick(&g->t, 4);

		if (g->kind[r] != K_SCALAR || k >= 2)
			continue;
		g->kind[r] = k ? K_STACK : K_MEM;
		sl_tgen_emit(&g->t, BPF_ALU64 | BPF_MOV | BPF_X, r, k ? 10 : 1, 0, 0);
	}
	for (int i = 1; i <= STACK_OPS / 8; i++)
		sl_tgen_emit(&g->t, BPF_ST | BPF_MEM | BPF_DW, 10, 0, (int16_t)(-8 * i), edge_imm(g));
	for (uint8_t r = 0; r < 10; r++)
		if (g->kind[r] == K_SCALAR)
			set_const(g, r);
	body_fix = g->njfix;
	gen_body(g, len);
	end_item = g->nitems;
	item(g);
	for (uint8_t r = 0; r < 10; r++)
		if (g->kind[r] == K_SCALAR)
			sl_tgen_emit(&g->t, BPF_STX | BPF_MEM | BPF_DW, mem_ptr, r, (int16_t)(MEM_OPS + 8 * r), 0);
	sl_tgen_emit(&g->t, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
	fix_jumps(g, body_fix, end_item);
	for (uint32_t s = 0; s < g->nsubs; s++)
		gen_sub(g, s);
	if (g->loops) {
		uint32_t cb = g->t.n;

		gen_callback(g);
		for (uint32_t i = 0; i < g->nlfix; i++)
			g->t.insns[g->lfix[i]].imm = (int32_t)cb - (int32_t)(g->lfix[i] + 1);
	}
	for (uint32_t i = 0; i < g->ncfix; i++)
		g->t.insns[g->cfix[i].pc].imm = (int32_t)g->sub_pc[g->cfix[i].sub] -
					      (int32_t)(g->cfix[i].pc + 1);
}

static void dump_prog(const struct gen *g)
{
	for (uint32_t i = 0; i < g->t.n; i++) {
		const struct bpf_insn *in = &g->t.insns[i];

		fprintf(stderr, "  %3u: code 0x%02x dst r%u src r%u off %d imm %d (0x%x)\n", i, in->code,
			in->dst_reg, in->src_reg, in->off, in->imm, (unsigned)in->imm);
	}
}

/* Run one program on both engines. @return 0 when they agree. */
static int run_one(struct gen *g, const uint8_t *mem0, unsigned variant, uint64_t idx)
{
	uint8_t mem_i[MEM_SIZE], mem_j[MEM_SIZE];
	char log[256];
	struct sl_prog *p = sl_prog_from_raw(g->t.insns, g->t.n * sizeof(struct bpf_insn), SL_PROG_RAW,
					     MEM_SIZE, log, sizeof(log));
	struct sl_jit_opts jo = { .sz = sizeof(jo), .blind_constants = variant & 1,
				  .no_bmi2 = variant & 2, .far_calls = variant & 4 };
	struct sl_vm_run_opts ro = { .sz = sizeof(ro), .mem = mem_i, .mem_len = MEM_SIZE };
	struct sl_vm_result res;
	struct sl_jit *jit;
	uint64_t r_i, r_j;
	int rc = 0;

	if (!p) {
		fprintf(stderr, "program %" PRIu64 ": sl_prog_from_raw: %s\n", idx, log);
		return 1;
	}
	p->verified = true;  /* valid by construction (test code only) */
	if (p->n_subprogs == 1 && (idx / 4) % 2)
		p->subprogs[0].stack_depth = STACK_OPS;  /* known depth: a leaf uses the red zone */
	memcpy(mem_i, mem0, MEM_SIZE);
	memcpy(mem_j, mem0, MEM_SIZE);
	r_i = sl_vm_exec(p, mem_i, &ro, &res);
	jit = sl_jit_compile(p, &jo, log, sizeof(log));
	if (res.err || !jit) {
		fprintf(stderr, "program %" PRIu64 ": %s\n", idx,
			res.err ? res.msg : log);
		rc = 1;
	} else {
		r_j = sl_jit_entry(jit)(mem_j, MEM_SIZE);
		if (r_i != r_j || memcmp(mem_i, mem_j, MEM_SIZE)) {
			fprintf(stderr, "program %" PRIu64 " (blind %d, no_bmi2 %d, far_calls %d): interp r0 0x%"
				PRIx64 " jit r0 0x%" PRIx64 "\n", idx, variant & 1, (variant >> 1) & 1,
				(variant >> 2) & 1, r_i, r_j);
			for (unsigned i = 0; i < MEM_SIZE; i++)
				if (mem_i[i] != mem_j[i])
					fprintf(stderr, "  mem[%u]: interp 0x%02x jit 0x%02x\n", i,
						mem_i[i], mem_j[i]);
			rc = 1;
		}
	}
	if (rc && getenv("JIT_DIFF_DUMP"))
		dump_prog(g);
	sl_jit_free(jit);
	sl_prog_free(p);
	return rc;
}

/*
 * Socket filters with LD_ABS / LD_IND (the JIT emits them inline): random
 * loads of 1, 2, 4 bytes at offsets around both ends of a random packet
 * (negative, in bounds, straddling the end, huge), each folded into r7;
 * r9 set before the loads must survive them. An out-of-bounds load ends
 * the program with 0 on both engines.
 */
static void gen_socket(struct gen *g, uint32_t pkt_len)
{
	static const uint8_t ld_sizes[3] = { BPF_B, BPF_H, BPF_W };
	unsigned nloads = 1 + sl_tgen_pick(&g->t, 12);

	g->t.n = 0;
	sl_tgen_emit(&g->t, BPF_ALU64 | BPF_MOV | BPF_X, 6, 1, 0, 0);
	sl_tgen_emit(&g->t, BPF_ALU64 | BPF_MOV | BPF_K, 7, 0, 0, 0);
	sl_tgen_emit(&g->t, BPF_ALU64 | BPF_MOV | BPF_K, 9, 0, 0, (int32_t)sl_tgen_u64(&g->t));
	for (unsigned i = 0; i < nloads; i++) {
		uint8_t sz = ld_sizes[sl_tgen_pick(&g->t, 3)];
		int32_t k = (int32_t)sl_tgen_pick(&g->t, pkt_len + 10) - 4;

		if (sl_tgen_pick(&g->t, 16) == 0)
			k = sl_tgen_pick(&g->t, 2) ? INT32_MAX - (int32_t)sl_tgen_pick(&g->t, 6) : INT32_MIN + (int32_t)sl_tgen_pick(&g->t, 6);
		if (sl_tgen_pick(&g->t, 2)) {
			sl_tgen_emit(&g->t, BPF_LD | BPF_ABS | sz, 0, 0, 0, k);
		} else {
			if (sl_tgen_pick(&g->t, 3)) {
				sl_tgen_emit(&g->t, BPF_ALU64 | BPF_MOV | BPF_K, 8, 0, 0, k);
			} else {                        /* index from packet data */
				sl_tgen_emit(&g->t, BPF_ALU64 | BPF_MOV | BPF_X, 8, 0, 0, 0);
				sl_tgen_emit(&g->t, BPF_ALU64 | BPF_AND | BPF_K, 8, 0, 0, 63);
			}
			sl_tgen_emit(&g->t, BPF_LD | BPF_IND | sz, 0, 8, 0, (int32_t)sl_tgen_pick(&g->t, 12) - 4);
		}
		sl_tgen_emit(&g->t, BPF_ALU64 | BPF_MUL | BPF_K, 7, 0, 0, 33);
		sl_tgen_emit(&g->t, BPF_ALU64 | BPF_XOR | BPF_X, 7, 0, 0, 0);
	}
	sl_tgen_emit(&g->t, BPF_ALU64 | BPF_MOV | BPF_X, 0, 7, 0, 0);
	sl_tgen_emit(&g->t, BPF_ALU64 | BPF_ADD | BPF_X, 0, 9, 0, 0);
	sl_tgen_emit(&g->t, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
}

static int run_socket(struct gen *g, unsigned variant, uint64_t idx)
{
	uint8_t pkt[80];
	uint32_t pkt_len = sl_tgen_pick(&g->t, sizeof(pkt) + 1);
	struct sl_skb_ctx ctx = { .pkt = pkt, .pkt_len = pkt_len };
	struct sl_jit_opts jo = { .sz = sizeof(jo), .blind_constants = variant & 1,
				  .no_bmi2 = variant & 2, .far_calls = variant & 4 };
	struct sl_vm_run_opts ro = { .sz = sizeof(ro) };
	struct sl_vm_result res;
	struct sl_prog *p;
	struct sl_jit *jit;
	char log[256];
	uint64_t r_i, r_j;
	int rc = 0;

	for (unsigned b = 0; b < sizeof(pkt); b++)
		pkt[b] = (uint8_t)sl_tgen_u64(&g->t);
	ctx.skb.len = pkt_len;
	gen_socket(g, pkt_len);
	p = sl_prog_from_raw(g->t.insns, g->t.n * sizeof(struct bpf_insn), SL_PROG_SOCKET, 0,
			     log, sizeof(log));
	if (!p) {
		fprintf(stderr, "socket program %" PRIu64 ": sl_prog_from_raw: %s\n", idx, log);
		return 1;
	}
	p->verified = true;  /* valid by construction (test code only) */
	r_i = sl_vm_exec(p, &ctx, &ro, &res);
	jit = sl_jit_compile(p, &jo, log, sizeof(log));
	if (res.err || !jit) {
		fprintf(stderr, "socket program %" PRIu64 ": %s\n", idx, res.err ? res.msg : log);
		rc = 1;
	} else if ((r_j = sl_jit_entry(jit)(&ctx, 0)) != r_i) {
		fprintf(stderr, "socket program %" PRIu64 " (blind %d, no_bmi2 %d, pkt_len %u): "
			"interp r0 0x%" PRIx64 " jit r0 0x%" PRIx64 "\n", idx, variant & 1,
			(variant >> 1) & 1, pkt_len, r_i, r_j);
		rc = 1;
	}
	if (rc && getenv("JIT_DIFF_DUMP"))
		dump_prog(g);
	sl_jit_free(jit);
	sl_prog_free(p);
	return rc;
}

int main(int argc, char **argv)
{
	uint64_t count = argc > 1 ? strtoull(argv[1], NULL, 0) : 20000;
	uint64_t seed = argc > 2 ? strtoull(argv[2], NULL, 0) : 0x5111ce;
	static struct gen g;
	uint8_t mem0[MEM_SIZE];
	unsigned fails = 0;

	printf("test_jit_diff: %" PRIu64 " programs, seed 0x%" PRIx64 "\n", count, seed);
	for (uint64_t i = 0; i < count && fails < 5; i++) {
		g.t.rng = sl_rng_make((seed + i) * 0x9e3779b97f4a7c15ull | 1, SL_RNG_XORSHIFT);
		for (unsigned b = 0; b < MEM_SIZE; b++)
			mem0[b] = (uint8_t)sl_tgen_u64(&g.t);
		gen_prog(&g, 10 + sl_tgen_pick(&g.t, 60));
		fails += (unsigned)run_one(&g, mem0, (unsigned)(i % 8), i);  /* every option mix */
	}
	for (uint64_t i = 0; i < count / 4 && fails < 5; i++) {
		g.t.rng = sl_rng_make(((seed ^ 0x50c4e7) + i * 0x9e3779b97f4a7c15ull) | 1,
				      SL_RNG_XORSHIFT);
		fails += (unsigned)run_socket(&g, (unsigned)(i % 4), i);
	}
	printf("%s: %u mismatching programs\n", fails ? "FAIL" : "ok", fails);
	return fails ? 1 : 0;
}
