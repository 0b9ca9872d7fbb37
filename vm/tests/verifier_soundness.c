/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Verifier soundness test: random programs that are *almost* safe.
 *
 * Each program is a prologue plus a few random snippets (scalars narrowed by
 * masks / shifts / compares and then used as offsets into raw memory, the
 * packet, the stack or a map value; packet range checks against data_end;
 * spills and fills of pointers and scalars, partial and misaligned; map
 * lookups with and without null checks; jmp32 / alu32; loops; a bpf-to-bpf
 * call handed a pointer to the caller's stack; atomics; helpers whose size
 * comes from a register; packet-moving helpers followed by use of old
 * pointers). Constants get off-by-one mistakes, compares get the wrong
 * width or signedness, so the verifier sees a mix of safe and unsafe code.
 *
 * Every ACCEPTED program runs in the checked interpreter on several inputs
 * (random raw memory; XDP packets of 0..100 bytes). A checked-mode fault on
 * an accepted program is a soundness bug: the program, input and fault are
 * printed. When the checked run is clean, the fast interpreter and the JIT
 * run the same input and must agree with it (r0, memory, packet).
 *
 *   verifier_soundness                      ~10 s, fixed seed
 *   verifier_soundness --seconds N --seed S long runs
 *   verifier_soundness --count N --seed S   N programs
 *   verifier_soundness --one PROGSEED       the one program a failure names
 * Exit 0 when no program faulted and every engine agreed.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sl_jit.h"
#include "sl_maps.h"
#include "sl_test_bpf.h"
#include "sl_vm.h"

#define MAX_INSNS 512
#define RAW_MEM 64
#define HEADROOM 64
#define PKT_BUF 384
#define N_INPUTS 6
#define DEFAULT_SEED 20261122ull
#define DEFAULT_SECONDS 12.0

/* Registers the generated code keeps: r6 ctx/mem, r7 data/mem, r8 data_end, r9 a scalar. */
enum { R_CTX = 6, R_DATA = 7, R_END = 8, R_S = 9 };

/* The program being built: struct sl_tgen (tests/common), plain xorshift64. */
struct gen {
	struct sl_tgen t;
	enum sl_prog_type type;
	int call_fixup;     /* index of the pseudo call to patch, or -1 */
	int cb_fixup;       /* index of the bpf_loop callback's lddw to patch, or -1 */
	bool stack_zeroed;  /* fp-128..fp-8 initialised in the prologue */
};

struct stats {
	unsigned long generated, accepted, runs, faults, mismatches, jit_runs;
	unsigned long unchecked;   /* bpf_loop programs: fast interpreter as the reference */
};

static void ld_map(struct gen *g, uint8_t dst, unsigned idx)
{
	sl_tgen_lddw(&g->t, dst, BPF_PSEUDO_MAP_IDX, idx);
}

/* A small "almost right" constant: @p v, sometimes one off. */
static int32_t near(struct gen *g, int32_t v)
{
	unsigned r = sl_tgen_pick(&g->t, 10);

	return r == 0 ? v + 1 : r == 1 ? v - 1 : v;
}

static uint8_t scratch(struct gen *g) { return (uint8_t)(1 + sl_tgen_pick(&g->t, 5)); }

/* A 64-bit constant near a 32-bit or sign boundary (lddw). */
static void ld_interesting(struct gen *g, uint8_t reg)
{
	static const uint64_t base[] = { 0, 1ull << 32, 0xffffffffull, 0x80000000ull, 0x7fffffffull,
					 ~0ull, 1ull << 63, (1ull << 63) - 1, 0xffffffff00000000ull,
					 0x100000000ull - 64 };
	uint64_t v = base[sl_tgen_pick(&g->t, sizeof(base) / sizeof(base[0]))] + (uint64_t)((int)sl_tgen_pick(&g->t, 17) - 8);

	sl_tgen_emit(&g->t, BPF_LD | BPF_DW | BPF_IMM, reg, 0, 0, (int32_t)(uint32_t)v);
	sl_tgen_emit(&g->t, 0, 0, 0, 0, (int32_t)(uint32_t)(v >> 32));
}

/* reg = some scalar: a constant, r9, a loaded byte/word, a packet length... */
static void gen_scalar(struct gen *g, uint8_t reg)
{
	switch (sl_tgen_pick(&g->t, 6)) {
	case 0:
		if (sl_tgen_chance(&g->t, 30))
			ld_interesting(g, reg);
		else
			sl_tgen_emit(&g->t, BPF_ALU64 | BPF_MOV | BPF_K, reg, 0, 0,
			     sl_tgen_chance(&g->t, 70) ? (int32_t)sl_tgen_pick(&g->t, 80) - 8 : (int32_t)sl_tgen_u64(&g->t));
		break;
	case 1:
	case 2:
		sl_tgen_emit(&g->t, BPF_ALU64 | BPF_MOV | BPF_X, reg, R_S, 0, 0);
		break;
	case 3:
		if (g->type == SL_PROG_RAW) {
			unsigned s = sl_tgen_pick(&g->t, 4);

			sl_tgen_emit(&g->t, BPF_LDX | BPF_MEM | sl_tgen_sizes[s], reg, R_DATA,
			     (int16_t)sl_tgen_pick(&g->t, RAW_MEM - sl_tgen_size_bytes[s] + 1), 0);
		} else {
			sl_tgen_emit(&g->t, BPF_ALU64 | BPF_MOV | BPF_X, reg, R_END, 0, 0);
			sl_tgen_emit(&g->t, BPF_ALU64 | BPF_SUB | BPF_X, reg, R_DATA, 0, 0);
		}
		break;
	case 4:
		if (g->stack_zeroed) {
			sl_tgen_emit(&g->t, BPF_LDX | BPF_MEM | sl_tgen_sizes[sl_tgen_pick(&g->t, 4)], reg, BPF_REG_10,
			     (int16_t)-(8 + 8 * sl_tgen_pick(&g->t, 15)), 0);
			break;
		}
		/* fallthrough */
	default:
		sl_tgen_emit(&g->t, BPF_ALU64 | BPF_MOV | BPF_X, reg, R_S, 0, 0);
		sl_tgen_emit(&g->t, BPF_ALU | BPF_MUL | BPF_K, reg, 0, 0, (int32_t)sl_tgen_pick(&g->t, 7) + 1);
		break;
	}
}

/* Narrow reg: masks, shifts, mod, alu32 truncation, neg... */
static void narrow(struct gen *g, uint8_t reg)
{
	static const uint8_t ops[] = { BPF_AND, BPF_RSH, BPF_MOD, BPF_LSH, BPF_ARSH, BPF_ADD,
				       BPF_SUB, BPF_OR, BPF_XOR, BPF_DIV, BPF_MUL, BPF_NEG,
				       BPF_MOV, BPF_END };
	unsigned k = sl_tgen_pick(&g->t, 4);

	for (unsigned i = 0; i < k; i++) {
		uint8_t op = ops[sl_tgen_pick(&g->t, sizeof(ops))];
		uint8_t cls = sl_tgen_chance(&g->t, 35) ? BPF_ALU : BPF_ALU64;
		int32_t imm;

		if (op == BPF_AND || op == BPF_MOD || op == BPF_DIV)
			imm = sl_tgen_chance(&g->t, 85) ? (int32_t)(1u << sl_tgen_pick(&g->t, 7)) - (int32_t)sl_tgen_pick(&g->t, 2) : (int32_t)sl_tgen_u64(&g->t);
		else if (op == BPF_RSH || op == BPF_LSH || op == BPF_ARSH)
			imm = (int32_t)sl_tgen_pick(&g->t, cls == BPF_ALU ? 32 : 64);
		else
			imm = (int32_t)sl_tgen_pick(&g->t, 40) - 20;
		if (op == BPF_END) {
			sl_tgen_emit(&g->t, (sl_tgen_chance(&g->t, 20) ? BPF_ALU64 : BPF_ALU) | BPF_END |
			     (sl_tgen_chance(&g->t, 50) ? BPF_TO_BE : BPF_TO_LE), reg, 0, 0, 16 << sl_tgen_pick(&g->t, 3));
		} else if (op == BPF_MOV) {
			/* alu32 mov zero-extends; movsx (off 8/16/32) sign-extends */
			sl_tgen_emit(&g->t, cls | BPF_MOV | BPF_X, reg, reg,
			     sl_tgen_chance(&g->t, 40) ? (int16_t)(8 << sl_tgen_pick(&g->t, cls == BPF_ALU ? 2 : 3)) : 0, 0);
		} else if ((op == BPF_DIV || op == BPF_MOD) && sl_tgen_chance(&g->t, 25)) {
			sl_tgen_emit(&g->t, cls | op | BPF_K, reg, 0, 1, imm ? imm : -3);   /* signed */
		} else if (sl_tgen_chance(&g->t, 20) && op != BPF_NEG) {
			uint8_t s = scratch(g);

			if (s == reg)
				s = reg == 1 ? 2 : 1;
			if (sl_tgen_chance(&g->t, 40) && op != BPF_LSH && op != BPF_RSH && op != BPF_ARSH) {
				ld_interesting(g, s);
			} else {
				gen_scalar(g, s);
				sl_tgen_emit(&g->t, BPF_ALU64 | BPF_AND | BPF_K, s, 0, 0, (int32_t)sl_tgen_pick(&g->t, 64));
			}
			sl_tgen_emit(&g->t, cls | op | BPF_X, reg, s, 0, 0);
		} else {
			sl_tgen_emit(&g->t, cls | op | BPF_K, reg, 0, 0, op == BPF_NEG ? 0 : imm);
		}
	}
}

/* "if reg out of [lo, hi] goto skip": returns the jump(s) to patch (up to 2). */
static unsigned bound_check(struct gen *g, uint8_t reg, int32_t hi, unsigned *jumps)
{
	static const uint8_t gt_ops[] = { BPF_JGT, BPF_JSGT, BPF_JGE, BPF_JSGE };
	uint8_t cls = sl_tgen_chance(&g->t, 30) ? BPF_JMP32 : BPF_JMP;
	uint8_t op = gt_ops[sl_tgen_pick(&g->t, 4)];
	unsigned n = 0;

	if (op == BPF_JGE || op == BPF_JSGE)
		hi++;
	if (sl_tgen_chance(&g->t, 25)) {
		uint8_t s = scratch(g);

		if (s == reg)
			s = s == 1 ? 2 : 1;
		sl_tgen_emit(&g->t, BPF_ALU64 | BPF_MOV | BPF_K, s, 0, 0, near(g, hi));
		jumps[n++] = sl_tgen_jmp_fwd(&g->t, cls | op | BPF_X, reg, s, 0);
	} else {
		jumps[n++] = sl_tgen_jmp_fwd(&g->t, cls | op | BPF_K, reg, 0, near(g, hi));
	}
	if ((op == BPF_JSGT || op == BPF_JSGE) && sl_tgen_chance(&g->t, 75))
		jumps[n++] = sl_tgen_jmp_fwd(&g->t, cls | BPF_JSLT | BPF_K, reg, 0, near(g, 0));
	return n;
}

/* "if reg OP x goto skip" with any compare, width, polarity: returns the jump. */
static unsigned any_check(struct gen *g, uint8_t reg)
{
	static const uint8_t ops[] = { BPF_JEQ, BPF_JNE, BPF_JGT, BPF_JGE, BPF_JLT, BPF_JLE,
				       BPF_JSGT, BPF_JSGE, BPF_JSLT, BPF_JSLE, BPF_JSET };
	uint8_t cls = sl_tgen_chance(&g->t, 40) ? BPF_JMP32 : BPF_JMP, op = ops[sl_tgen_pick(&g->t, sizeof(ops))];
	int32_t k = sl_tgen_chance(&g->t, 70) ? (int32_t)sl_tgen_pick(&g->t, 80) - 10 : (int32_t)sl_tgen_u64(&g->t);

	if (sl_tgen_chance(&g->t, 20)) {
		sl_tgen_emit(&g->t, BPF_ALU64 | BPF_MOV | BPF_K, 1, 0, 0, k);
		if (sl_tgen_chance(&g->t, 30))
			sl_tgen_emit(&g->t, BPF_ALU64 | BPF_LSH | BPF_K, 1, 0, 0, 32);
		return sl_tgen_jmp_fwd(&g->t, cls | op | BPF_X, reg, 1, 0);
	}
	return sl_tgen_jmp_fwd(&g->t, cls | op | BPF_K, reg, 0, k);
}

/* Access [base + off] of size s: load into r0, or store r0 / an immediate. */
static void mem_access(struct gen *g, uint8_t base, int16_t off, unsigned s)
{
	switch (sl_tgen_pick(&g->t, 4)) {
	case 0:
		sl_tgen_emit(&g->t, BPF_ST | BPF_MEM | sl_tgen_sizes[s], base, 0, off, (int32_t)sl_tgen_pick(&g->t, 256));
		break;
	case 1:
		sl_tgen_emit(&g->t, BPF_STX | BPF_MEM | sl_tgen_sizes[s], base, R_S, off, 0);
		break;
	default:
		sl_tgen_emit(&g->t, BPF_LDX | BPF_MEM | sl_tgen_sizes[s], 0, base, off, 0);
		sl_tgen_emit(&g->t, BPF_ALU64 | BPF_ADD | BPF_X, R_S, 0, 0, 0);
		break;
	}
}

/* Variable offset into raw memory / a map value / the stack, after a bound check. */
static void snip_var_access(struct gen *g, uint8_t base, int32_t region, int32_t region_off)
{
	unsigned j[2], nj, s = sl_tgen_pick(&g->t, 4);
	int32_t lim = region - (int32_t)sl_tgen_size_bytes[s];
	uint8_t r = 3, p = 4;

	gen_scalar(g, r);
	narrow(g, r);
	nj = bound_check(g, r, lim > 0 ? (int32_t)sl_tgen_pick(&g->t, (unsigned)lim + 1) : 0, j);
	sl_tgen_emit(&g->t, BPF_ALU64 | BPF_MOV | BPF_X, p, base, 0, 0);
	if (region_off)
		sl_tgen_emit(&g->t, BPF_ALU64 | BPF_ADD | BPF_K, p, 0, 0, region_off);
	sl_tgen_emit(&g->t, (sl_tgen_chance(&g->t, 12) ? BPF_ALU : BPF_ALU64) | (sl_tgen_chance(&g->t, 10) ? BPF_SUB : BPF_ADD) | BPF_X,
	     p, r, 0, 0);
	mem_access(g, p, (int16_t)near(g, 0), s);
	for (unsigned i = 0; i < nj; i++)
		sl_tgen_land(&g->t, j[i]);
}

/*
 * The ALU transfer functions and branch refinement alone: a scalar through
 * random ops and compares, then an offset with no check of its own (only
 * accepted when the verifier's bounds prove the access).
 */
static void snip_derive(struct gen *g)
{
	unsigned j[3], nj = 0, s = sl_tgen_pick(&g->t, 4);
	uint8_t base = g->type == SL_PROG_RAW ? R_DATA : BPF_REG_10;
	int32_t region_off = g->type == SL_PROG_RAW ? 0 : -64;

	gen_scalar(g, 3);
	for (unsigned i = sl_tgen_pick(&g->t, 3) + 1; i > 0; i--) {
		narrow(g, 3);
		if (sl_tgen_chance(&g->t, 60) && nj < 3)
			j[nj++] = any_check(g, 3);
	}
	if (sl_tgen_chance(&g->t, 30)) {
		gen_scalar(g, 4);
		narrow(g, 4);
		sl_tgen_emit(&g->t, (sl_tgen_chance(&g->t, 30) ? BPF_ALU : BPF_ALU64) |
		     (sl_tgen_chance(&g->t, 50) ? BPF_ADD : sl_tgen_chance(&g->t, 50) ? BPF_SUB : BPF_MUL) | BPF_X, 3, 4, 0, 0);
	}
	sl_tgen_emit(&g->t, BPF_ALU64 | BPF_MOV | BPF_X, 4, base, 0, 0);
	if (region_off)
		sl_tgen_emit(&g->t, BPF_ALU64 | BPF_ADD | BPF_K, 4, 0, 0, region_off);
	sl_tgen_emit(&g->t, BPF_ALU64 | BPF_ADD | BPF_X, 4, 3, 0, 0);
	mem_access(g, 4, (int16_t)(sl_tgen_chance(&g->t, 70) ? 0 : (int32_t)sl_tgen_pick(&g->t, 60)), s);
	while (nj)
		sl_tgen_land(&g->t, j[--nj]);
}

/* A diamond that leaves r9 different on each side: pruning must tell them apart. */
static void snip_diamond(struct gen *g)
{
	unsigned j1 = any_check(g, R_S), j2;

	sl_tgen_emit(&g->t, BPF_ALU64 | BPF_MOV | BPF_K, R_S, 0, 0, (int32_t)sl_tgen_pick(&g->t, 72));
	j2 = sl_tgen_jmp_fwd(&g->t, BPF_JMP | BPF_JA, 0, 0, 0);
	sl_tgen_land(&g->t, j1);
	if (sl_tgen_chance(&g->t, 50))
		sl_tgen_emit(&g->t, BPF_ALU64 | BPF_MOV | BPF_K, R_S, 0, 0, (int32_t)sl_tgen_pick(&g->t, 72));
	else
		sl_tgen_emit(&g->t, (sl_tgen_chance(&g->t, 30) ? BPF_ALU : BPF_ALU64) | BPF_AND | BPF_K, R_S, 0, 0,
		     (int32_t)sl_tgen_pick(&g->t, 128));
	sl_tgen_land(&g->t, j2);
}

/* Packet: [data + var + off] after "data + var + N > data_end" (both orders). */
static void snip_pkt_access(struct gen *g)
{
	unsigned s = sl_tgen_pick(&g->t, 4), j[2], nj = 0, jr;
	int32_t need = (int32_t)(sl_tgen_pick(&g->t, 40) + sl_tgen_size_bytes[s]);
	int16_t off = (int16_t)near(g, (int32_t)sl_tgen_pick(&g->t, (unsigned)(need - (int32_t)sl_tgen_size_bytes[s]) + 1));
	bool var = sl_tgen_chance(&g->t, 60), check_first = sl_tgen_chance(&g->t, 30);
	uint8_t r = 3, p = 4, q = 5;

	if (var) {
		gen_scalar(g, r);
		narrow(g, r);
		nj = bound_check(g, r, (int32_t)sl_tgen_pick(&g->t, 64), j);
	}
	sl_tgen_emit(&g->t, BPF_ALU64 | BPF_MOV | BPF_X, p, R_DATA, 0, 0);
	if (var && !check_first)
		sl_tgen_emit(&g->t, BPF_ALU64 | BPF_ADD | BPF_X, p, r, 0, 0);
	sl_tgen_emit(&g->t, BPF_ALU64 | BPF_MOV | BPF_X, q, p, 0, 0);
	sl_tgen_emit(&g->t, BPF_ALU64 | BPF_ADD | BPF_K, q, 0, 0, near(g, need));
	switch (sl_tgen_pick(&g->t, 4)) {
	case 0: jr = sl_tgen_jmp_fwd(&g->t, BPF_JMP | BPF_JGT | BPF_X, q, R_END, 0); break;
	case 1: jr = sl_tgen_jmp_fwd(&g->t, BPF_JMP | BPF_JLT | BPF_X, R_END, q, 0); break;
	case 2: jr = sl_tgen_jmp_fwd(&g->t, BPF_JMP | BPF_JGE | BPF_X, q, R_END, 0); break;
	default: jr = sl_tgen_jmp_fwd(&g->t, BPF_JMP32 | BPF_JGT | BPF_X, q, R_END, 0); break;
	}
	if (var && check_first)
		sl_tgen_emit(&g->t, BPF_ALU64 | BPF_ADD | BPF_X, p, r, 0, 0);
	if (sl_tgen_chance(&g->t, 15))
		sl_tgen_emit(&g->t, BPF_ALU64 | BPF_ADD | BPF_K, p, 0, 0, -(int32_t)sl_tgen_pick(&g->t, 4));
	mem_access(g, p, off, s);
	sl_tgen_land(&g->t, jr);
	for (unsigned i = 0; i < nj; i++)
		sl_tgen_land(&g->t, j[i]);
}

/* Spill a pointer or scalar, maybe clobber part of it, fill (maybe narrow). */
static void snip_spill(struct gen *g)
{
	static const uint8_t srcs[] = { R_DATA, R_END, R_S, R_CTX, BPF_REG_10, 3 };
	uint8_t src = srcs[sl_tgen_pick(&g->t, sizeof(srcs))];
	int16_t slot = (int16_t)-(8 * (1 + sl_tgen_pick(&g->t, 6)));
	int16_t off = sl_tgen_chance(&g->t, 15) ? (int16_t)(slot + (int16_t)sl_tgen_pick(&g->t, 8)) : slot;
	unsigned ss = sl_tgen_chance(&g->t, 75) ? 3 : sl_tgen_pick(&g->t, 4), ls = sl_tgen_chance(&g->t, 75) ? 3 : sl_tgen_pick(&g->t, 4);

	if (src == 3)
		gen_scalar(g, 3);
	sl_tgen_emit(&g->t, BPF_STX | BPF_MEM | sl_tgen_sizes[ss], BPF_REG_10, src, off, 0);
	if (sl_tgen_chance(&g->t, 15))
		sl_tgen_emit(&g->t, BPF_ST | BPF_MEM | sl_tgen_sizes[sl_tgen_pick(&g->t, 3)], BPF_REG_10, 0,
		     (int16_t)(slot + (int16_t)sl_tgen_pick(&g->t, 4)), 0);
	sl_tgen_emit(&g->t, BPF_LDX | BPF_MEM | sl_tgen_sizes[ls], 2, BPF_REG_10,
	     sl_tgen_chance(&g->t, 10) ? (int16_t)(slot + (int16_t)sl_tgen_pick(&g->t, 8)) : off, 0);
	if (src == R_DATA && sl_tgen_chance(&g->t, 60)) {
		mem_access(g, 2, 0, 0);   /* unchecked packet byte: must be rejected unless proven */
	} else if (sl_tgen_chance(&g->t, 50)) {
		sl_tgen_emit(&g->t, BPF_ALU64 | BPF_ADD | BPF_X, R_S, 2, 0, 0);
	} else if (sl_tgen_chance(&g->t, 50)) {
		mem_access(g, 2, (int16_t)near(g, 0), sl_tgen_pick(&g->t, 4));
	}
}

/* Map lookup, maybe without the null check, then a fixed or variable access. */
static void snip_map(struct gen *g, unsigned idx, uint32_t value_size)
{
	unsigned jn = ~0u;

	sl_tgen_emit(&g->t, BPF_ST | BPF_MEM | BPF_W, BPF_REG_10, 0, -4, (int32_t)sl_tgen_pick(&g->t, 6));
	if (sl_tgen_chance(&g->t, 20)) {
		gen_scalar(g, 3);
		sl_tgen_emit(&g->t, BPF_STX | BPF_MEM | BPF_W, BPF_REG_10, 3, -4, 0);
	}
	ld_map(g, 1, idx);
	sl_tgen_emit(&g->t, BPF_ALU64 | BPF_MOV | BPF_X, 2, BPF_REG_10, 0, 0);
	sl_tgen_emit(&g->t, BPF_ALU64 | BPF_ADD | BPF_K, 2, 0, 0, near(g, -4));
	sl_tgen_emit(&g->t, BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_map_lookup_elem);
	if (sl_tgen_chance(&g->t, 20))
		sl_tgen_emit(&g->t, BPF_ALU64 | BPF_MOV | BPF_X, 5, 0, 0, 0);   /* a copy, checked below */
	if (sl_tgen_chance(&g->t, 92))
		jn = sl_tgen_jmp_fwd(&g->t, BPF_JMP | (sl_tgen_chance(&g->t, 90) ? BPF_JEQ : BPF_JNE) | BPF_K,
			     sl_tgen_chance(&g->t, 80) ? 0 : 5, 0, 0);
	if (sl_tgen_chance(&g->t, 60)) {
		unsigned s = sl_tgen_pick(&g->t, 4);

		mem_access(g, sl_tgen_chance(&g->t, 85) ? 0 : 5,
		       (int16_t)near(g, (int32_t)sl_tgen_pick(&g->t, value_size - sl_tgen_size_bytes[s] + 1)), s);
	} else if (sl_tgen_chance(&g->t, 50)) {
		snip_var_access(g, 0, (int32_t)value_size, 0);
	} else {
		sl_tgen_emit(&g->t, BPF_ALU64 | BPF_MOV | BPF_K, 1, 0, 0, 1);
		sl_tgen_emit(&g->t, BPF_STX | BPF_ATOMIC | (sl_tgen_chance(&g->t, 60) ? BPF_DW : BPF_W), 0, 1,
		     (int16_t)(8 * sl_tgen_pick(&g->t, value_size / 8 + 1)),
		     sl_tgen_chance(&g->t, 70) ? BPF_ADD : BPF_XCHG);
	}
	if (jn != ~0u)
		sl_tgen_land(&g->t, jn);
}

/* A bounded loop (sometimes with a bad bound) with a body that narrows r9. */
static void snip_loop(struct gen *g)
{
	unsigned head, limit = sl_tgen_pick(&g->t, 20);

	sl_tgen_emit(&g->t, BPF_ALU64 | BPF_MOV | BPF_K, 5, 0, 0, 0);
	head = g->t.n;
	sl_tgen_emit(&g->t, BPF_ALU64 | BPF_ADD | BPF_K, R_S, 0, 0, (int32_t)sl_tgen_pick(&g->t, 5));
	if (sl_tgen_chance(&g->t, 40))
		sl_tgen_emit(&g->t, BPF_ALU64 | BPF_AND | BPF_K, R_S, 0, 0, 0xff);
	sl_tgen_emit(&g->t, (sl_tgen_chance(&g->t, 20) ? BPF_ALU : BPF_ALU64) | BPF_ADD | BPF_K, 5, 0, 0,
	     sl_tgen_chance(&g->t, 95) ? 1 : 0);
	sl_tgen_emit(&g->t, (sl_tgen_chance(&g->t, 30) ? BPF_JMP32 : BPF_JMP) | (sl_tgen_chance(&g->t, 80) ? BPF_JLT : BPF_JSLT) | BPF_K,
	     5, 0, (int16_t)((int)head - (int)g->t.n - 1), (int32_t)limit);
}

/* Helper writing to the stack with a size from a register (XDP: xdp_load_bytes). */
static void snip_helper_size(struct gen *g)
{
	unsigned j[2], nj;
	int32_t buf = -(int32_t)(16 + 8 * sl_tgen_pick(&g->t, 6));

	gen_scalar(g, 4);
	narrow(g, 4);
	nj = bound_check(g, 4, -buf - (int32_t)sl_tgen_pick(&g->t, 3), j);
	sl_tgen_emit(&g->t, BPF_ALU64 | BPF_MOV | BPF_X, 3, BPF_REG_10, 0, 0);
	sl_tgen_emit(&g->t, BPF_ALU64 | BPF_ADD | BPF_K, 3, 0, 0, buf);
	sl_tgen_emit(&g->t, BPF_ALU64 | BPF_MOV | BPF_X, 1, R_CTX, 0, 0);
	sl_tgen_emit(&g->t, BPF_ALU64 | BPF_MOV | BPF_K, 2, 0, 0, (int32_t)sl_tgen_pick(&g->t, 8));
	sl_tgen_emit(&g->t, BPF_JMP | BPF_CALL, 0, 0, 0,
	     sl_tgen_chance(&g->t, 70) ? BPF_FUNC_xdp_load_bytes : BPF_FUNC_xdp_store_bytes);
	/* read back what was proven written (or a little more) */
	sl_tgen_emit(&g->t, BPF_LDX | BPF_MEM | sl_tgen_sizes[sl_tgen_pick(&g->t, 4)], 0, BPF_REG_10, (int16_t)near(g, buf), 0);
	sl_tgen_emit(&g->t, BPF_ALU64 | BPF_ADD | BPF_X, R_S, 0, 0, 0);
	for (unsigned i = 0; i < nj; i++)
		sl_tgen_land(&g->t, j[i]);
}

/* Packet-moving helper, then maybe reload data/data_end, maybe not. */
static void snip_adjust(struct gen *g)
{
	static const int32_t ids[] = { BPF_FUNC_xdp_adjust_head, BPF_FUNC_xdp_adjust_tail,
				       BPF_FUNC_xdp_adjust_meta };

	sl_tgen_emit(&g->t, BPF_ALU64 | BPF_MOV | BPF_X, 1, R_CTX, 0, 0);
	sl_tgen_emit(&g->t, BPF_ALU64 | BPF_MOV | BPF_K, 2, 0, 0, (int32_t)sl_tgen_pick(&g->t, 41) - 20);
	sl_tgen_emit(&g->t, BPF_JMP | BPF_CALL, 0, 0, 0, ids[sl_tgen_pick(&g->t, 3)]);
	if (sl_tgen_chance(&g->t, 70)) {
		sl_tgen_emit(&g->t, BPF_LDX | BPF_MEM | BPF_W, R_DATA, R_CTX, 0, 0);
		sl_tgen_emit(&g->t, BPF_LDX | BPF_MEM | BPF_W, R_END, R_CTX, 4, 0);
	}
}

/* Atomics on the stack: add / fetch-add / xchg / cmpxchg of a scalar or a pointer. */
static void snip_atomic(struct gen *g)
{
	static const int32_t ops[] = { BPF_ADD, BPF_ADD | BPF_FETCH, BPF_XCHG, BPF_CMPXCHG,
				       BPF_OR, BPF_AND | BPF_FETCH };
	int16_t off = (int16_t)-(8 * (1 + sl_tgen_pick(&g->t, 6)));
	uint8_t src = sl_tgen_chance(&g->t, 80) ? 2 : R_DATA;

	if (!g->stack_zeroed || sl_tgen_chance(&g->t, 10))
		sl_tgen_emit(&g->t, BPF_ST | BPF_MEM | BPF_DW, BPF_REG_10, 0, off, 0);
	sl_tgen_emit(&g->t, BPF_ALU64 | BPF_MOV | BPF_K, 2, 0, 0, (int32_t)sl_tgen_pick(&g->t, 9));
	sl_tgen_emit(&g->t, BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 0);
	sl_tgen_emit(&g->t, BPF_STX | BPF_ATOMIC | (sl_tgen_chance(&g->t, 70) ? BPF_DW : BPF_W), BPF_REG_10, src,
	     sl_tgen_chance(&g->t, 90) ? off : (int16_t)(off + 4), ops[sl_tgen_pick(&g->t, 6)]);
	sl_tgen_emit(&g->t, BPF_LDX | BPF_MEM | BPF_DW, 3, BPF_REG_10, off, 0);
	sl_tgen_emit(&g->t, BPF_ALU64 | BPF_ADD | BPF_X, R_S, sl_tgen_chance(&g->t, 50) ? 3 : 2, 0, 0);
}

/* Call the subprogram with r1 = fp - k (a buffer in this frame) and r2 = a scalar. */
static void snip_call(struct gen *g)
{
	if (g->call_fixup >= 0)
		return;
	gen_scalar(g, 2);
	sl_tgen_emit(&g->t, BPF_ALU64 | BPF_MOV | BPF_X, 1, BPF_REG_10, 0, 0);
	sl_tgen_emit(&g->t, BPF_ALU64 | BPF_ADD | BPF_K, 1, 0, 0, -64);
	if (!g->stack_zeroed)
		sl_tgen_emit(&g->t, BPF_ST | BPF_MEM | BPF_DW, BPF_REG_10, 0, -64, 0);
	sl_tgen_emit(&g->t, BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_CALL, 0, 0);
	g->call_fixup = (int)g->t.n - 1;
	sl_tgen_emit(&g->t, BPF_ALU64 | BPF_ADD | BPF_X, R_S, 0, 0, 0);
}

/* The subprogram: narrows r2, accesses [r1 + r2] (the caller's 64-byte buffer). */
static void gen_callee(struct gen *g)
{
	unsigned j[2], nj, s = sl_tgen_pick(&g->t, 4);

	g->t.insns[g->call_fixup].imm = (int32_t)(g->t.n - (unsigned)g->call_fixup - 1);
	sl_tgen_emit(&g->t, BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 0);
	narrow(g, 2);
	nj = bound_check(g, 2, 64 - (int32_t)sl_tgen_size_bytes[s] - (int32_t)sl_tgen_pick(&g->t, 8), j);
	sl_tgen_emit(&g->t, BPF_ALU64 | BPF_ADD | BPF_X, 1, 2, 0, 0);
	if (sl_tgen_chance(&g->t, 50)) {
		sl_tgen_emit(&g->t, BPF_LDX | BPF_MEM | sl_tgen_sizes[s], 0, 1, (int16_t)near(g, 0), 0);
	} else {
		sl_tgen_emit(&g->t, BPF_ST | BPF_MEM | sl_tgen_sizes[s], 1, 0, (int16_t)near(g, 0), 7);
		if (sl_tgen_chance(&g->t, 50))
			sl_tgen_emit(&g->t, BPF_STX | BPF_ATOMIC | BPF_DW, 1, 2, (int16_t)near(g, 0), BPF_ADD);
	}
	for (unsigned i = 0; i < nj; i++)
		sl_tgen_land(&g->t, j[i]);
	sl_tgen_emit(&g->t, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
}

/* bpf_loop(nr, callback, fp - 64, 0): the callback works on the caller's 64-byte buffer. */
static void snip_bpf_loop(struct gen *g)
{
	if (g->cb_fixup >= 0)
		return;
	if (!g->stack_zeroed)
		for (int off = -64; off < -32; off += 8)
			sl_tgen_emit(&g->t, BPF_ST | BPF_MEM | BPF_DW, BPF_REG_10, 0, (int16_t)off, 0);
	if (sl_tgen_chance(&g->t, 50)) {
		sl_tgen_emit(&g->t, BPF_ALU64 | BPF_MOV | BPF_K, 1, 0, 0, (int32_t)sl_tgen_pick(&g->t, 20));
	} else {
		sl_tgen_emit(&g->t, BPF_ALU64 | BPF_MOV | BPF_X, 1, R_S, 0, 0);
		sl_tgen_emit(&g->t, BPF_ALU64 | BPF_AND | BPF_K, 1, 0, 0, (int32_t)sl_tgen_pick(&g->t, 32));
	}
	g->cb_fixup = (int)g->t.n;
	sl_tgen_emit(&g->t, BPF_LD | BPF_DW | BPF_IMM, 2, BPF_PSEUDO_FUNC, 0, 0);
	sl_tgen_emit(&g->t, 0, 0, 0, 0, 0);
	sl_tgen_emit(&g->t, BPF_ALU64 | BPF_MOV | BPF_X, 3, BPF_REG_10, 0, 0);
	sl_tgen_emit(&g->t, BPF_ALU64 | BPF_ADD | BPF_K, 3, 0, 0, -64);
	sl_tgen_emit(&g->t, BPF_ALU64 | BPF_MOV | BPF_K, 4, 0, 0, 0);
	sl_tgen_emit(&g->t, BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_loop);
	sl_tgen_emit(&g->t, BPF_ALU64 | BPF_ADD | BPF_X, R_S, 0, 0, 0);
}

/* The callback: r1 = index (u32), r2 = the buffer; a counter in it, or [r2 + index]. */
static void gen_loop_callback(struct gen *g)
{
	unsigned j[2], nj = 0, s = sl_tgen_pick(&g->t, 4);

	g->t.insns[g->cb_fixup].imm = (int32_t)(g->t.n - (unsigned)g->cb_fixup - 1);
	if (sl_tgen_chance(&g->t, 40)) {
		int16_t off = (int16_t)(8 * sl_tgen_pick(&g->t, 8));

		sl_tgen_emit(&g->t, BPF_LDX | BPF_MEM | BPF_DW, 3, 2, off, 0);
		sl_tgen_emit(&g->t, BPF_ALU64 | BPF_ADD | BPF_K, 3, 0, 0, (int32_t)sl_tgen_pick(&g->t, 9));
		sl_tgen_emit(&g->t, BPF_STX | BPF_MEM | BPF_DW, 2, 3, off, 0);
	} else {
		narrow(g, 1);
		nj = bound_check(g, 1, 64 - (int32_t)sl_tgen_size_bytes[s], j);
		sl_tgen_emit(&g->t, BPF_ALU64 | BPF_ADD | BPF_X, 2, 1, 0, 0);
		if (sl_tgen_chance(&g->t, 50))
			sl_tgen_emit(&g->t, BPF_LDX | BPF_MEM | sl_tgen_sizes[s], 3, 2, 0, 0);
		else
			sl_tgen_emit(&g->t, BPF_ST | BPF_MEM | sl_tgen_sizes[s], 2, 0, 0, 5);
	}
	for (unsigned i = 0; i < nj; i++)
		sl_tgen_land(&g->t, j[i]);
	sl_tgen_emit(&g->t, BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, sl_tgen_chance(&g->t, 97) ? (int32_t)sl_tgen_pick(&g->t, 2) : 2);
	sl_tgen_emit(&g->t, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
}

static void prologue(struct gen *g)
{
	sl_tgen_emit(&g->t, BPF_ALU64 | BPF_MOV | BPF_X, R_CTX, 1, 0, 0);
	if (g->type == SL_PROG_XDP) {
		sl_tgen_emit(&g->t, BPF_LDX | BPF_MEM | BPF_W, R_DATA, R_CTX, 0, 0);
		sl_tgen_emit(&g->t, BPF_LDX | BPF_MEM | BPF_W, R_END, R_CTX, 4, 0);
		sl_tgen_emit(&g->t, BPF_ALU64 | BPF_MOV | BPF_X, R_S, R_END, 0, 0);
		sl_tgen_emit(&g->t, BPF_ALU64 | BPF_SUB | BPF_X, R_S, R_DATA, 0, 0);
	} else {
		sl_tgen_emit(&g->t, BPF_ALU64 | BPF_MOV | BPF_X, R_DATA, 1, 0, 0);
		sl_tgen_emit(&g->t, BPF_LDX | BPF_MEM | BPF_DW, R_S, R_DATA, (int16_t)(8 * sl_tgen_pick(&g->t, 8)), 0);
		sl_tgen_emit(&g->t, BPF_ALU64 | BPF_MOV | BPF_K, R_END, 0, 0, 0);
	}
	g->stack_zeroed = sl_tgen_chance(&g->t, 70);
	for (int off = -8; g->stack_zeroed && off >= -128; off -= 8)
		sl_tgen_emit(&g->t, BPF_ST | BPF_MEM | BPF_DW, BPF_REG_10, 0, (int16_t)off, 0);
}

/* map 0: ARRAY key 4 value 12 x4; map 1: HASH key 4 value 16 x8 */
static const struct sl_map_def map_defs[2] = {
	{ BPF_MAP_TYPE_ARRAY, 4, 12, 4, 0 },
	{ BPF_MAP_TYPE_HASH, 4, 16, 8, 0 },
};

static void generate(struct gen *g)
{
	unsigned n_snips = 1 + sl_tgen_pick(&g->t, 5);

	g->t.n = 0;
	g->call_fixup = -1;
	g->cb_fixup = -1;
	g->type = sl_tgen_chance(&g->t, 55) ? SL_PROG_XDP : SL_PROG_RAW;
	prologue(g);
	for (unsigned i = 0; i < n_snips; i++) {
		unsigned m = sl_tgen_pick(&g->t, 2);

		if (sl_tgen_chance(&g->t, 25)) {
			snip_derive(g);
			continue;
		}
		if (sl_tgen_chance(&g->t, 12)) {
			snip_diamond(g);
			continue;
		}
		if (sl_tgen_chance(&g->t, 6)) {
			snip_bpf_loop(g);
			continue;
		}
		switch (sl_tgen_pick(&g->t, g->type == SL_PROG_XDP ? 11 : 8)) {
		case 0: snip_var_access(g, g->type == SL_PROG_RAW ? R_DATA : BPF_REG_10,
					g->type == SL_PROG_RAW ? RAW_MEM : 64,
					g->type == SL_PROG_RAW ? 0 : -64); break;
		case 1: snip_spill(g); break;
		case 2: snip_map(g, m, map_defs[m].value_size); break;
		case 3: snip_loop(g); break;
		case 4: snip_atomic(g); break;
		case 5: snip_call(g); break;
		case 6: narrow(g, R_S); break;
		case 7: snip_var_access(g, BPF_REG_10, 64, -64); break;
		case 8: snip_helper_size(g); break;
		case 9: snip_adjust(g); break;
		default: snip_pkt_access(g); break;
		}
	}
	sl_tgen_emit(&g->t, BPF_ALU64 | BPF_MOV | BPF_X, 0, R_S, 0, 0);
	if (sl_tgen_chance(&g->t, 50))
		sl_tgen_emit(&g->t, BPF_ALU64 | BPF_AND | BPF_K, 0, 0, 0, 3);
	sl_tgen_emit(&g->t, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
	if (g->call_fixup >= 0)
		gen_callee(g);
	if (g->cb_fixup >= 0)
		gen_loop_callback(g);
}

/* ---- running ---- */

/*
 * A crash of the fast interpreter or the JIT on an accepted program is the
 * failure this test looks for: the signal handler names the program.
 */
static char crash_note[160];

static void on_crash(int sig)
{
	ssize_t n = write(STDERR_FILENO, crash_note, strlen(crash_note));

	(void)n;
	signal(sig, SIG_DFL);
	raise(sig);
}

static void note_running(const char *engine, uint64_t seed)
{
	snprintf(crash_note, sizeof(crash_note),
		 "SOUNDNESS crash in %s on an accepted program (program seed %llu: rerun with "
		 "--one %llu)\n", engine, (unsigned long long)seed, (unsigned long long)seed);
}

struct input {
	uint8_t mem[RAW_MEM];
	uint8_t buf[PKT_BUF];
	unsigned pkt_len;
};

struct outcome {
	struct sl_vm_result res;
	uint8_t mem[RAW_MEM];
	uint8_t buf[PKT_BUF];
	ptrdiff_t data, end;
};

static void reset_maps(struct sl_map **maps)
{
	uint8_t zero[16] = { 0 }, val[16];
	uint32_t k, next;

	for (k = 0; k < map_defs[0].max_entries; k++)
		sl_map_ctl_update(maps[0], &k, zero, 0);
	while (sl_map_ctl_get_next_key(maps[1], NULL, &next) == 0)
		sl_map_ctl_delete(maps[1], &next);
	for (k = 0; k < 3; k++) {
		memset(val, (int)k + 1, sizeof(val));
		sl_map_ctl_update(maps[1], &k, val, 0);
	}
	sl_map_quiescent();
}

enum engine { ENG_CHECKED, ENG_FAST, ENG_JIT };

/*
 * Every engine runs on the same packet and memory buffers (copied to the
 * outcome afterwards): a packet pointer made stale by bpf_xdp_adjust_*
 * is a scalar that holds its old address, as in the kernel, and may
 * reach r0; at the same address all engines must agree on it too.
 */
static void run_one(struct sl_prog *prog, struct sl_jit *jit, enum engine e,
		    const struct input *in, struct outcome *res)
{
	static struct outcome run;
	struct outcome *out = &run;
	struct sl_vm_run_opts o = { .sz = sizeof(o), .checked = e == ENG_CHECKED };
	struct sl_xdp_ctx x = { 0 };
	void *ctx = NULL;

	memset(out, 0, sizeof(*out));
	memcpy(out->mem, in->mem, sizeof(out->mem));
	memcpy(out->buf, in->buf, sizeof(out->buf));
	reset_maps(prog->maps);
	if (prog->type == SL_PROG_XDP) {
		x.data_hard_start = out->buf;
		x.data = x.data_meta = out->buf + HEADROOM;
		x.data_end = out->buf + HEADROOM + in->pkt_len;
		x.data_hard_end = out->buf + PKT_BUF;
		ctx = &x;
	} else {
		o.mem = out->mem;
		o.mem_len = RAW_MEM;
		ctx = e == ENG_JIT ? out->mem : NULL;
	}
	if (e == ENG_JIT)
		out->res.r0 = sl_jit_entry(jit)(ctx, RAW_MEM);
	else
		out->res.r0 = sl_vm_exec(prog, ctx, &o, &out->res);
	if (prog->type == SL_PROG_XDP) {
		out->data = (uint8_t *)x.data - out->buf;
		out->end = (uint8_t *)x.data_end - out->buf;
	}
	*res = run;
}

static void report(const char *what, struct sl_prog *prog, const struct input *in,
		   const struct outcome *o, uint64_t seed)
{
	printf("SOUNDNESS %s (program seed %llu)\n", what, (unsigned long long)seed);
	printf("  type %s, fault: err %d pc %u: %s, r0 %llu\n",
	       prog->type == SL_PROG_XDP ? "xdp" : "raw", o->res.err, o->res.err_pc,
	       o->res.msg, (unsigned long long)o->res.r0);
	if (prog->type == SL_PROG_XDP)
		printf("  packet length %u\n", in->pkt_len);
	printf("  input:");
	for (unsigned i = 0; i < (prog->type == SL_PROG_XDP ? in->pkt_len : RAW_MEM); i++)
		printf(" %02x", prog->type == SL_PROG_XDP ? in->buf[HEADROOM + i] : in->mem[i]);
	printf("\n");
	sl_disasm_prog(prog, stdout);
	fflush(stdout);
}

static bool same(const struct outcome *a, const struct outcome *b)
{
	return a->res.r0 == b->res.r0 && a->res.err == b->res.err && a->data == b->data &&
	       a->end == b->end && !memcmp(a->mem, b->mem, sizeof(a->mem)) &&
	       !memcmp(a->buf, b->buf, sizeof(a->buf));
}

static void make_input(struct gen *g, struct input *in, unsigned i)
{
	for (unsigned k = 0; k < RAW_MEM; k++)
		in->mem[k] = (uint8_t)(sl_tgen_chance(&g->t, 30) ? 0 : sl_tgen_chance(&g->t, 20) ? 0xff : sl_tgen_u64(&g->t));
	for (unsigned k = 0; k < PKT_BUF; k++)
		in->buf[k] = (uint8_t)sl_tgen_u64(&g->t);
	in->pkt_len = i == 0 ? 0 : i == 1 ? 100 : sl_tgen_pick(&g->t, 101);
}

/* Verify one program; run it when accepted. @return 0, or 1 on a soundness failure. */
static int check_prog(struct gen *g, struct sl_map **maps, struct stats *st, uint64_t seed,
		      bool show)
{
	char log[256];
	struct sl_prog *prog;
	struct sl_jit *jit = NULL;
	int bad = 0;

	prog = sl_prog_from_raw(g->t.insns, g->t.n * sizeof(struct bpf_insn), g->type,
				g->type == SL_PROG_RAW ? RAW_MEM : 0, log, sizeof(log));
	if (!prog)
		return 0;
	prog->maps = calloc(2, sizeof(*prog->maps));
	if (!prog->maps) {
		sl_prog_free(prog);
		return 0;
	}
	prog->maps[0] = maps[0];
	prog->maps[1] = maps[1];
	prog->n_maps = 2;
	st->generated++;
	if (sl_prog_verify(prog, 0, NULL, log, sizeof(log)) || sl_vm_prepare(prog, log, sizeof(log))) {
		if (show)
			printf("rejected: %s\n", log);
		goto out;
	}
	if (show) {
		printf("accepted:\n");
		sl_disasm_prog(prog, stdout);
		fflush(stdout);
	}
	st->accepted++;
	jit = sl_jit_compile(prog, NULL, log, sizeof(log));
	for (unsigned i = 0; i < N_INPUTS && !bad; i++) {
		struct input in;
		struct outcome c, f, j;
		bool checked;

		make_input(g, &in, i);
		run_one(prog, NULL, ENG_CHECKED, &in, &c);
		st->runs++;
		checked = !(c.res.err == -EINVAL && strstr(c.res.msg, "callbacks need a verified"));
		if (!checked) {
			/* bpf_loop on a checked interpreter that makes no callbacks
			 * (older builds): the fast interpreter is the reference */
			note_running("the fast interpreter", seed);
			run_one(prog, NULL, ENG_FAST, &in, &c);
			st->unchecked++;
		}
		if (c.res.err) {
			st->faults++;
			report("checked-mode fault on an accepted program", prog, &in, &c, seed);
			bad = 1;
			break;
		}
		note_running("the fast interpreter", seed);
		if (checked)
			run_one(prog, NULL, ENG_FAST, &in, &f);
		if (checked && !same(&c, &f)) {
			st->mismatches++;
			printf("fast interpreter: r0 %llu err %d data %td end %td\n",
			       (unsigned long long)f.res.r0, f.res.err, f.data, f.end);
			report("fast interpreter disagrees with checked mode", prog, &in, &c, seed);
			bad = 1;
		}
		if (!jit)
			continue;
		note_running("the JIT", seed);
		run_one(prog, jit, ENG_JIT, &in, &j);
		st->jit_runs++;
		if (!same(&c, &j)) {
			st->mismatches++;
			printf("jit: r0 %llu data %td end %td\n", (unsigned long long)j.res.r0,
			       j.data, j.end);
			report(checked ? "JIT disagrees with checked mode"
				       : "JIT disagrees with the fast interpreter (bpf_loop)", prog, &in, &c,
			       seed);
			bad = 1;
		}
	}
out:
	if (jit)
		sl_jit_free(jit);
	prog->n_maps = 0;   /* maps are shared across programs */
	sl_prog_free(prog);
	return bad;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	uint64_t seed = DEFAULT_SEED;
	double seconds = DEFAULT_SECONDS, t0, dt;
	unsigned long count = 0, fails = 0, max_fails = 5;
	uint64_t one = 0;
	struct sl_map *maps[2];
	struct stats st = { 0 };
	struct gen g;

	sl_tgen_init(&g.t, sl_rng_make(1, SL_RNG_XORSHIFT), MAX_INSNS - 2);

	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--seconds"))
			seconds = atof(argv[i + 1]);
		else if (!strcmp(argv[i], "--seed"))
			seed = strtoull(argv[i + 1], NULL, 0);
		else if (!strcmp(argv[i], "--count"))
			count = strtoul(argv[i + 1], NULL, 0);
		else if (!strcmp(argv[i], "--one"))
			one = strtoull(argv[i + 1], NULL, 0);
		else if (!strcmp(argv[i], "--max-fails"))
			max_fails = strtoul(argv[i + 1], NULL, 0);
		else {
			fprintf(stderr, "usage: %s [--seconds N] [--seed S] [--count N] [--one PROGSEED] [--max-fails N]\n",
				argv[0]);
			return 2;
		}
	}
	printf("verifier soundness: seed %llu, %s %g\n", (unsigned long long)seed,
	       count ? "programs" : "seconds", count ? (double)count : seconds);
	signal(SIGSEGV, on_crash);
	signal(SIGBUS, on_crash);
	signal(SIGILL, on_crash);
	signal(SIGFPE, on_crash);
	sl_map_worker_online(0);
	for (unsigned i = 0; i < 2; i++) {
		maps[i] = sl_map_create(i ? "hash" : "array", &map_defs[i], 1);
		if (!maps[i]) {
			fprintf(stderr, "cannot create map: %s\n", strerror(errno));
			return 1;
		}
	}
	t0 = now_s();
	for (uint64_t k = 0;; k++) {
		uint64_t ps = one ? one : seed * 0x9e3779b97f4a7c15ull + k + 1;

		if (one && k)
			break;
		if (count ? k >= count : (k % 64 == 0 && now_s() - t0 >= seconds))
			break;
		g.t.rng = sl_rng_make(ps ? ps : 1, SL_RNG_XORSHIFT);
		generate(&g);
		fails += (unsigned long)check_prog(&g, maps, &st, ps, one != 0);
		if (fails >= max_fails)
			break;
	}
	dt = now_s() - t0;
	printf("%lu programs generated, %lu accepted, %lu checked runs (%lu of them bpf_loop "
	       "ones on the fast interpreter), %lu JIT runs in %.1f s (%.0f generated/s, "
	       "%.0f accepted/s, %.0f runs/s); %lu faults, %lu mismatches\n",
	       st.generated, st.accepted, st.runs, st.unchecked, st.jit_runs, dt,
	       st.generated / dt, st.accepted / dt, st.runs / dt, st.faults, st.mismatches);
	for (unsigned i = 0; i < 2; i++)
		sl_map_destroy(maps[i]);
	sl_map_worker_offline();
	return fails ? 1 : 0;
}
