/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The random program generator of test_jit_diff (the JIT against the
 * interpreter), shared by its generator files: test_jit_diff.c (the
 * model, most shapes, the driver) and jit_diff_mem.c (address arithmetic
 * folded into loads, constants set before a loop).
 */
#ifndef SL_JIT_DIFF_H
#define SL_JIT_DIFF_H

#include <stdbool.h>
#include <stdint.h>

#include "sl_test_bpf.h"

#define MAX_INSNS 1024
#define MAX_ITEMS 512
#define MEM_OPS 128           /* bytes of the buffer random accesses touch */
#define MEM_RES 128           /* result area: one u64 per register */
#define MEM_SIZE (MEM_OPS + MEM_RES)
#define STACK_OPS 64          /* bytes under r10 random accesses touch */
#define MAX_SUBS 3

enum kind { K_SCALAR, K_MEM, K_STACK };

/* The program being built: struct sl_tgen (tests/common, SL_TGEN_MAX = MAX_INSNS), xorshift64. */
struct gen {
	struct sl_tgen t;
	enum kind kind[11];
	uint32_t item_pc[MAX_ITEMS];
	uint32_t nitems;
	struct { uint32_t pc; uint32_t item; bool ja32; } jfix[MAX_ITEMS];
	uint32_t njfix;
	struct { uint32_t pc; uint32_t sub; } cfix[MAX_ITEMS];
	uint32_t ncfix;
	uint32_t sub_pc[MAX_SUBS];
	uint32_t nsubs;
	bool in_sub;
	uint32_t cur_sub;
	bool leaf;   /* no div/mod, atomics or calls: the JIT may keep r6-r9 in scratch registers */
	bool flat;   /* a subprogram without stack, memory or r6-r9 (the JIT may emit it in place) */
	bool loops;  /* has a bpf_loop callback (gen_loop()) */
	uint32_t lfix[MAX_ITEMS];   /* lddw BPF_PSEUDO_FUNC of the callback, to resolve */
	uint32_t nlfix;
};


/* test_jit_diff.c */
void item(struct gen *g);                    /* a place other jumps may land */
int32_t edge_imm(struct gen *g);
uint64_t edge_u64(struct gen *g);
uint8_t scalar(struct gen *g);               /* a random scalar register */
void set_const(struct gen *g, uint8_t r);
void pick_addr(struct gen *g, unsigned size, bool aligned, uint8_t *base, int16_t *off);
void put_lddw(struct gen *g, uint8_t r, uint64_t v);

/* jit_diff_mem.c */
void gen_mem_shape(struct gen *g);   /* a folded address, a constant before a loop, merged stores */

#endif /* SL_JIT_DIFF_H */
