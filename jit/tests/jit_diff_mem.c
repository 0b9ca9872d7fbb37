/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_jit_diff's shapes for the JIT's address folding (jit/fuse_mem.c),
 * for constants that reach a loop (jit/consts.c's jit_const_reaching())
 * and for byte stores merged into one (jit/merge_st.c), each with its
 * near misses. Jumps stay local to
 * a shape (a random jump landing among them could leave a scalar where a
 * pointer is loaded from); the generator model is in test_jit_diff.c.
 */
#include "jit_diff.h"

#define PICK(n) sl_tgen_pick(&g->t, (n))

/* Work on @p o only (an ALU op with an immediate, a 32-bit copy; an lddw when @p lddw). */
static void filler(struct gen *g, uint8_t o, bool lddw)
{
	static const uint8_t ops[] = { BPF_ADD, BPF_XOR, BPF_MUL, BPF_OR, BPF_LSH };
	unsigned w = PICK(4);

	if (w == 0 && lddw)
		put_lddw(g, o, edge_u64(g));
	else if (w == 1)
		sl_tgen_emit(&g->t, BPF_ALU | BPF_MOV | BPF_X, o, o, 0, 0);
	else
		sl_tgen_emit(&g->t, BPF_ALU64 | ops[PICK(sizeof(ops))] | BPF_K, o, 0, 0,
			     (int32_t)PICK(32));
}

/* A jump with an immediate on @p a over the next @p n instructions. */
static void jump_fwd(struct gen *g, uint8_t a, int16_t n)
{
	static const uint8_t ops[] = { BPF_JEQ, BPF_JGT, BPF_JSET, BPF_JNE, BPF_JSLT };

	sl_tgen_emit(&g->t, (PICK(2) ? BPF_JMP : BPF_JMP32) | ops[PICK(sizeof(ops))] | BPF_K, a, 0, n,
		     (int32_t)PICK(16));
}

/*
 * A table read with work scheduled between the add and the load (the JIT:
 * one load [rB + rA*2^s + off]): "rB = ptr; rA &= 7; [rA <<= s;] rB +=
 * rA; fillers; rD = *(size *)(rB + off)", rB overwritten after. Near
 * misses, in the fillers: a read of rB (its distance from the pointer),
 * a read or a write of rA, a jump over a filler; a jump from before the
 * add landing among the fillers (rB then the bare pointer); a
 * sign-extending load; rB read after the load.
 */
static void gen_index_gap(struct gen *g)
{
	unsigned si = PICK(4), size = 1u << si, s = PICK(4), miss = PICK(12), nf = 1 + PICK(3);
	unsigned at = PICK(nf);
	uint8_t b = scalar(g), a = scalar(g), d = scalar(g), o = scalar(g), base;
	int16_t off;

	pick_addr(g, size, false, &base, &off);
	if (a == b || o == a || o == b || g->kind[base] != K_MEM)
		return;
	off = (int16_t)PICK(MEM_OPS - size - (7u << s) + 1);
	item(g);
	sl_tgen_emit(&g->t, BPF_ALU64 | BPF_MOV | BPF_X, b, base, 0, 0);
	sl_tgen_emit(&g->t, BPF_ALU64 | BPF_AND | BPF_K, a, 0, 0, 7);
	if (s)
		sl_tgen_emit(&g->t, BPF_ALU64 | BPF_LSH | BPF_K, a, 0, 0, (int32_t)s);
	if (miss == 4)
		jump_fwd(g, a, 1);                                 /* over the add, into the gap */
	sl_tgen_emit(&g->t, BPF_ALU64 | BPF_ADD | BPF_X, b, a, 0, 0);
	for (unsigned i = 0; i < nf; i++) {
		if (i == at && miss == 0) {                        /* reads rB */
			sl_tgen_emit(&g->t, BPF_ALU64 | BPF_MOV | BPF_X, o, b, 0, 0);
			sl_tgen_emit(&g->t, BPF_ALU64 | BPF_SUB | BPF_X, o, base, 0, 0);
		} else if (i == at && miss == 1) {
			sl_tgen_emit(&g->t, BPF_ALU64 | BPF_XOR | BPF_X, o, a, 0, 0);  /* reads rA */
		} else if (i == at && miss == 2) {
			sl_tgen_emit(&g->t, BPF_ALU64 | BPF_ADD | BPF_K, a, 0, 0, 1);  /* writes rA */
		} else if (i == at && miss == 3) {
			jump_fwd(g, o, 1);
			filler(g, o, false);
		} else {
			filler(g, o, true);
		}
	}
	sl_tgen_emit(&g->t, BPF_LDX | (miss == 5 && size < 8 ? BPF_MEMSX : BPF_MEM) | sl_tgen_sizes[si],
		     d, b, off, 0);
	if (d == b)
		return;
	if (miss == 6)
		sl_tgen_emit(&g->t, BPF_ALU64 | BPF_SUB | BPF_X, b, base, 0, 0);   /* reads rB */
	else
		sl_tgen_emit(&g->t, BPF_ALU64 | BPF_MOV | BPF_K, b, 0, 0, edge_imm(g));
}

/*
 * A byte (or wider) read at a variable offset as clang writes it: "rI &=
 * 63; rT = rS; rT += rI; fillers; rD = *(size *)(rT + off)" (the JIT: one
 * load [rS + rI + off]), rS a copy of the buffer's pointer, rT and rS
 * overwritten after. Near misses: a filler reads rT, writes rS or rI, a
 * jump over a filler, a jump from before the add landing among the
 * fillers; a sign-extending load; rT read after the load.
 */
static void gen_load_rr(struct gen *g)
{
	unsigned si = PICK(4), size = 1u << si, miss = PICK(12), nf = PICK(3), at = nf ? PICK(nf) : 0;
	uint8_t s = scalar(g), t = scalar(g), i = scalar(g), d = scalar(g), o = scalar(g), base;
	int16_t off;

	pick_addr(g, size, false, &base, &off);
	if (s == t || s == i || t == i || o == s || o == t || o == i || d == s || d == o ||
	    g->kind[base] != K_MEM)
		return;
	off = (int16_t)PICK(MEM_OPS - 63 - size + 1);
	item(g);
	sl_tgen_emit(&g->t, BPF_ALU64 | BPF_MOV | BPF_X, s, base, 0, 0);
	sl_tgen_emit(&g->t, BPF_ALU64 | BPF_AND | BPF_K, i, 0, 0, 63);
	sl_tgen_emit(&g->t, BPF_ALU64 | BPF_MOV | BPF_X, t, s, 0, 0);
	if (miss == 4)
		jump_fwd(g, i, 1);                                 /* over the add, into the gap */
	sl_tgen_emit(&g->t, BPF_ALU64 | BPF_ADD | BPF_X, t, i, 0, 0);
	for (unsigned k = 0; k < nf; k++) {
		if (k == at && miss == 0) {                        /* reads rT */
			sl_tgen_emit(&g->t, BPF_ALU64 | BPF_MOV | BPF_X, o, t, 0, 0);
			sl_tgen_emit(&g->t, BPF_ALU64 | BPF_SUB | BPF_X, o, s, 0, 0);
		} else if (k == at && miss == 1) {
			sl_tgen_emit(&g->t, BPF_ALU64 | BPF_ADD | BPF_K, s, 0, 0, 8);  /* writes rS */
		} else if (k == at && miss == 2) {
			sl_tgen_emit(&g->t, BPF_ALU64 | BPF_ADD | BPF_K, i, 0, 0, 1);  /* writes rI */
		} else if (k == at && miss == 3) {
			jump_fwd(g, o, 1);
			filler(g, o, false);
		} else {
			filler(g, o, true);
		}
	}
	sl_tgen_emit(&g->t, BPF_LDX | (miss == 5 && size < 8 ? BPF_MEMSX : BPF_MEM) | sl_tgen_sizes[si],
		     d, t, off, 0);
	if (d != t && miss == 6)
		sl_tgen_emit(&g->t, BPF_ALU64 | BPF_SUB | BPF_X, t, s, 0, 0);      /* reads rT */
	else if (d != t)
		sl_tgen_emit(&g->t, BPF_ALU64 | BPF_MOV | BPF_K, t, 0, 0, edge_imm(g));
	sl_tgen_emit(&g->t, BPF_ALU64 | BPF_MOV | BPF_K, s, 0, 0, edge_imm(g));   /* no pointer left */
}

/*
 * v1's "u32 >> k" in a loop, the mask in a register set before it (the
 * JIT: shr r32, k): "rC = M; rN = 1..4; L: rX = rY; rX &= rC; rX >>= k;
 * rO += rX; rN += -1; if rN != 0 goto L". Near misses: a mask one bit off, rC
 * changed in the loop after its use, a second way into the loop past
 * "rC = M2" (M2 sometimes M), a jump from before the loop landing on the
 * shift, a shift by k + 1, a 32-bit AND.
 */
static void gen_const_loop(struct gen *g)
{
	uint8_t x = scalar(g), c = scalar(g), n = scalar(g), o = scalar(g), y = scalar(g);
	uint32_t k = 1 + PICK(31), miss = PICK(10), head;
	uint64_t m = (0xffffffffull >> k) << k;

	if (x == c || x == n || x == o || c == n || c == o || n == o || y == x || y == c || y == n)
		return;
	if (miss == 0)
		m ^= 1ull << PICK(40);
	item(g);
	if (m <= 0x7fffffff && PICK(2))
		sl_tgen_emit(&g->t, BPF_ALU64 | BPF_MOV | BPF_K, c, 0, 0, (int32_t)m);
	else
		put_lddw(g, c, m);
	if (miss == 1) {                        /* another way in, past a second constant */
		jump_fwd(g, o, 2);
		put_lddw(g, c, PICK(2) ? m : edge_u64(g));
	}
	sl_tgen_emit(&g->t, BPF_ALU64 | BPF_MOV | BPF_K, n, 0, 0, 1 + (int32_t)PICK(4));
	if (miss == 2)
		jump_fwd(g, o, 1);              /* lands on the shift */
	head = g->t.n;
	sl_tgen_emit(&g->t, BPF_ALU64 | BPF_MOV | BPF_X, x, y, 0, 0);
	if (miss == 2)
		g->t.insns[head - 1].off = 2;   /* over the copy too */
	sl_tgen_emit(&g->t, (miss == 3 ? BPF_ALU : BPF_ALU64) | BPF_AND | BPF_X, x, c, 0, 0);
	sl_tgen_emit(&g->t, BPF_ALU64 | BPF_RSH | BPF_K, x, 0, 0, (int32_t)(miss == 4 ? k + 1 : k));
	sl_tgen_emit(&g->t, BPF_ALU64 | BPF_ADD | BPF_X, o, x, 0, 0);
	if (miss == 5)
		sl_tgen_emit(&g->t, BPF_ALU64 | BPF_XOR | BPF_K, c, 0, 0, INT32_MIN);   /* rC changes */
	sl_tgen_emit(&g->t, BPF_ALU64 | BPF_ADD | BPF_K, n, 0, 0, -1);
	sl_tgen_emit(&g->t, BPF_JMP | BPF_JNE | BPF_K, n, 0, (int16_t)((int32_t)head - (int32_t)g->t.n - 1), 0);
}

/*
 * Byte @p j of rV (rT = rV; rT >>= 8j; or rV itself for byte 0) stored at
 * [rB + off + j]; v3's "wT = wV; wT >>= 8j" for bytes 0-3 when @p w32.
 */
static void store_byte(struct gen *g, uint8_t b, int16_t off, uint8_t v, uint8_t t, unsigned j,
		       unsigned sh, bool w32)
{
	uint8_t r = v, cls = w32 && 8 * j + sh < 32 ? BPF_ALU : BPF_ALU64;

	if (j || sh) {
		sl_tgen_emit(&g->t, cls | BPF_MOV | BPF_X, t, v, 0, 0);
		sl_tgen_emit(&g->t, cls | BPF_RSH | BPF_K, t, 0, 0, (int32_t)(8 * j + sh));
		r = t;
	}
	sl_tgen_emit(&g->t, BPF_STX | BPF_MEM | BPF_B, b, r, (int16_t)(off + (int)j), 0);
}

/*
 * A value's bytes stored one by one, as clang copies a header into a
 * packet (the JIT: one 2-, 4- or 8-byte store): byte j of rV in a random
 * order as "rT = rV; rT >>= 8j; *(u8 *)(rB + off + j) = rT" (or v3's
 * 32-bit "wT = wV; wT >>= 8j" for bytes 0-3), byte 0 as rV itself,
 * sometimes ending in clang's "... = rV; rV >>= 8; ... = rV"; rV
 * sometimes loaded from bytes that overlap the destination (a header
 * moved by a few bytes). Near misses: a byte from another shift or
 * register, a byte left out or stored twice, a load of one of the bytes
 * between the stores (it must see them as written), a store to one of
 * them through another register between, a jump over some of them (from
 * within, or from before landing among them), the base changed between,
 * a 32-bit copy shifted for a byte of the upper half (64- or 32-bit
 * shift), a 32-bit shift before a 64-bit one, byte 0 from a 32-bit copy,
 * rV changed between. The bytes
 * reach the result: the buffer itself, or for the stack two loads of it.
 */
static void gen_store_split(struct gen *g)
{
	unsigned w = 2u << PICK(3), miss = PICK(16), at = PICK(w), perm[8], jpc = 0;
	uint8_t v = scalar(g), t = scalar(g), o = scalar(g), q = scalar(g), b;
	bool tail = PICK(2), w32 = PICK(2);
	int16_t off, off2;

	pick_addr(g, w, false, &b, &off);
	if (v == t || v == o || t == o || q == v || q == t || q == o)
		return;
	for (unsigned j = 0; j < w; j++)
		perm[j] = j;
	for (unsigned j = w - 1; j > 0; j--) {
		unsigned k = PICK(j + 1), x = perm[j];

		perm[j] = perm[k];
		perm[k] = x;
	}
	item(g);
	if (PICK(3) == 0) {                      /* the value from bytes that overlap */
		off2 = (int16_t)(off + (int)PICK(7) - 3);
		if (g->kind[b] == K_MEM ? off2 >= 0 && off2 + 8 <= MEM_OPS :
		    off2 + 8 <= 0 && off2 >= -(g->in_sub ? 32 : STACK_OPS))
			sl_tgen_emit(&g->t, BPF_LDX | BPF_MEM | BPF_DW, v, b, off2, 0);
	}
	if (miss == 7 && g->kind[b] == K_MEM) {  /* through a copy of the base, changed between */
		sl_tgen_emit(&g->t, BPF_ALU64 | BPF_MOV | BPF_X, q, b, 0, 0);
		b = q;
	}
	if (miss == 10) {                        /* from before, landing among the stores */
		jpc = g->t.n;
		jump_fwd(g, o, 0);
	}
	for (unsigned i = 0; i < w; i++) {
		unsigned j = perm[i];

		if (i == at && miss == 10)
			g->t.insns[jpc].off = (int16_t)(g->t.n - jpc - 1);
		if (tail && (j == 0 || j == 1))
			continue;                        /* clang's order: bytes 0 and 1 last */
		if (i == at && miss == 2)
			continue;                        /* left out */
		if (i == at && miss == 4) {
			sl_tgen_emit(&g->t, BPF_LDX | BPF_MEM | BPF_B, o, b, (int16_t)(off + (int)PICK(w)), 0);
		} else if (i == at && miss == 5 && g->kind[b] == K_MEM) {
			sl_tgen_emit(&g->t, BPF_ALU64 | BPF_MOV | BPF_X, q, b, 0, 0);
			sl_tgen_emit(&g->t, BPF_ALU64 | BPF_ADD | BPF_K, q, 0, 0, 1);
			sl_tgen_emit(&g->t, BPF_STX | BPF_MEM | BPF_B, q, o, (int16_t)(off + (int)PICK(w) - 1), 0);
			sl_tgen_emit(&g->t, BPF_ALU64 | BPF_MOV | BPF_K, q, 0, 0, 0);
		} else if (i == at && miss == 6) {
			jump_fwd(g, o, 1);
			filler(g, o, false);
		} else if (i == at && miss == 7 && b == q) {
			sl_tgen_emit(&g->t, BPF_ALU64 | BPF_ADD | BPF_K, q, 0, 0, 1);
			off = (int16_t)(off - 1);
		} else if (i == at && miss == 8) {
			sl_tgen_emit(&g->t, BPF_ALU | BPF_MOV | BPF_X, t, v, 0, 0);   /* 32-bit copy */
			sl_tgen_emit(&g->t, BPF_ALU64 | BPF_RSH | BPF_K, t, 0, 0, (int32_t)(8 * j));
			sl_tgen_emit(&g->t, BPF_STX | BPF_MEM | BPF_B, b, t, (int16_t)(off + (int)j), 0);
			continue;
		} else if (i == at && miss == 9) {
			sl_tgen_emit(&g->t, BPF_ALU64 | BPF_XOR | BPF_K, v, 0, 0, edge_imm(g));
		} else if (i == at && miss == 12 && j >= 4) {       /* a 32-bit shift, then 64-bit */
			sl_tgen_emit(&g->t, BPF_ALU64 | BPF_MOV | BPF_X, t, v, 0, 0);
			sl_tgen_emit(&g->t, BPF_ALU | BPF_RSH | BPF_K, t, 0, 0, 8);
			sl_tgen_emit(&g->t, BPF_ALU64 | BPF_RSH | BPF_K, t, 0, 0, (int32_t)(8 * j - 8));
			sl_tgen_emit(&g->t, BPF_STX | BPF_MEM | BPF_B, b, t, (int16_t)(off + (int)j), 0);
			continue;
		} else if (miss == 13 && j == 0 && !tail) {          /* byte 0 from a 32-bit copy */
			sl_tgen_emit(&g->t, BPF_ALU | BPF_MOV | BPF_X, t, v, 0, 0);
			sl_tgen_emit(&g->t, BPF_STX | BPF_MEM | BPF_B, b, t, off, 0);
			continue;
		} else if (i == at && miss == 11 && j >= 4) {       /* a 32-bit shift of the low half */
			sl_tgen_emit(&g->t, BPF_ALU | BPF_MOV | BPF_X, t, v, 0, 0);
			sl_tgen_emit(&g->t, BPF_ALU | BPF_RSH | BPF_K, t, 0, 0, (int32_t)(8 * (j - 4) + 8));
			sl_tgen_emit(&g->t, BPF_STX | BPF_MEM | BPF_B, b, t, (int16_t)(off + (int)j), 0);
			continue;
		}
		store_byte(g, b, off, i == at && miss == 1 ? o : v, t, j, i == at && miss == 0, w32);
		if (i == at && miss == 3)
			store_byte(g, b, off, v, t, perm[PICK(w)], PICK(2), w32);   /* twice */
	}
	if (tail) {                              /* "... = rV; rV >>= 8; ... = rV" */
		sl_tgen_emit(&g->t, BPF_STX | BPF_MEM | BPF_B, b, v, off, 0);
		sl_tgen_emit(&g->t, (w32 ? BPF_ALU : BPF_ALU64) | BPF_RSH | BPF_K, v, 0, 0, 8);
		sl_tgen_emit(&g->t, BPF_STX | BPF_MEM | BPF_B, b, v, (int16_t)(off + 1), 0);
	}
	if (b == q)
		sl_tgen_emit(&g->t, BPF_ALU64 | BPF_MOV | BPF_K, q, 0, 0, 0);   /* no pointer left */
	if (g->kind[b] == K_STACK) {             /* the stack's bytes into the result */
		sl_tgen_emit(&g->t, BPF_LDX | BPF_MEM | BPF_DW, t, b, (int16_t)(off & ~7), 0);
		sl_tgen_emit(&g->t, BPF_ALU64 | BPF_XOR | BPF_X, o, t, 0, 0);
		sl_tgen_emit(&g->t, BPF_LDX | BPF_MEM | BPF_DW, t, b, (int16_t)((off + (int)w - 1) & ~7), 0);
		sl_tgen_emit(&g->t, BPF_ALU64 | BPF_ADD | BPF_X, o, t, 0, 0);
	}
}

/* One of the shapes above (test_jit_diff's body picks this now and then). */
void gen_mem_shape(struct gen *g)
{
	unsigned w = PICK(4);

	if (w == 0)
		gen_index_gap(g);
	else if (w == 1)
		gen_load_rr(g);
	else if (w == 2)
		gen_const_loop(g);
	else
		gen_store_split(g);
}
