/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Internals shared by the interpreter files (interp.c: checking and
 * pre-decoding, sl_vm_exec; interp_fast.c / interp_checked.c: the two run
 * loops built from interp_loop.h): the opcode lists (X-macros) behind enum
 * sl_vm_op and the loops' label tables, the pre-decoded instruction and
 * program (struct sl_vm_insn, struct sl_vm_code), the run limits, the
 * freshness test the loops use instead of ever preparing code themselves,
 * and the entry points of the loops. Functions here start with vm_ (only the
 * public API has sl_ functions).
 *
 * Pre-decoded form: one struct sl_vm_insn per eBPF instruction (the second
 * half of an lddw gets a filler), plus one sentinel at index n that faults
 * ("fell off the end"). Every field the handler needs is ready to use:
 * the handler number, registers, the memory offset or the absolute jump
 * target, and an immediate already sign-extended, or the 64-bit constant
 * of an lddw (map pointers resolved), or the helper's function pointer.
 */
#ifndef SL_VM_INTERNAL_H
#define SL_VM_INTERNAL_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "sl_vm.h"

/*
 * Every handler of the run loops. X(name): the loops define a label
 * L_<name> for each; interp.c maps opcodes to them.
 */
#define SL_VM_ALU_OPS(X, W) \
	X(ADD##W##_K) X(ADD##W##_X) X(SUB##W##_K) X(SUB##W##_X) \
	X(MUL##W##_K) X(MUL##W##_X) X(DIV##W##_K) X(DIV##W##_X) \
	X(SDIV##W##_K) X(SDIV##W##_X) X(OR##W##_K) X(OR##W##_X) \
	X(AND##W##_K) X(AND##W##_X) X(LSH##W##_K) X(LSH##W##_X) \
	X(RSH##W##_K) X(RSH##W##_X) X(MOD##W##_K) X(MOD##W##_X) \
	X(SMOD##W##_K) X(SMOD##W##_X) X(XOR##W##_K) X(XOR##W##_X) \
	X(MOV##W##_K) X(MOV##W##_X) X(ARSH##W##_K) X(ARSH##W##_X) \
	X(NEG##W) X(MOVSX8_##W) X(MOVSX16_##W)

#define SL_VM_JMP_OPS(X, W) \
	X(JEQ##W##_K) X(JEQ##W##_X) X(JGT##W##_K) X(JGT##W##_X) \
	X(JGE##W##_K) X(JGE##W##_X) X(JSET##W##_K) X(JSET##W##_X) \
	X(JNE##W##_K) X(JNE##W##_X) X(JSGT##W##_K) X(JSGT##W##_X) \
	X(JSGE##W##_K) X(JSGE##W##_X) X(JLT##W##_K) X(JLT##W##_X) \
	X(JLE##W##_K) X(JLE##W##_X) X(JSLT##W##_K) X(JSLT##W##_X) \
	X(JSLE##W##_K) X(JSLE##W##_X)

#define SL_VM_ATOMIC_OPS(X, W) \
	X(AADD##W) X(AOR##W) X(AAND##W) X(AXOR##W) \
	X(AFADD##W) X(AFOR##W) X(AFAND##W) X(AFXOR##W) \
	X(AXCHG##W) X(ACMPXCHG##W)

/*
 * Superinstructions: "mov rA, rB" followed by a 64-bit ALU op on rA
 * ("rA op= K" or "rA op= rC", C != A) run as one handler, rA = rB op K/rC,
 * keeping the value in a host register instead of a store and a reload
 * through the register file. The second instruction keeps its own record,
 * so a jump to it still works. Likewise "lddw rT, C" followed by
 * "rD op= rT" (D != T) runs as rT = C, rD = rD op C; and a few pairs on one
 * register: ldxh/ldxw + be16/be32, "<<= K" or ">>= K" + "|= rB", "*= K" + "+= K";
 * and two hash idioms: xorshift (mov rB, rA; rB >>= K; rA ^= rB) and rotate
 * (mov rB, rA; rB >>= K1; rA <<= K2; rA |= rB).
 */
#define SL_VM_FUSED_OPS(X) \
	X(MADD_K) X(MADD_X) X(MSUB_K) X(MSUB_X) X(MMUL_K) X(MMUL_X) \
	X(MOR_K) X(MOR_X) X(MAND_K) X(MAND_X) X(MXOR_K) X(MXOR_X) \
	X(MLSH_K) X(MLSH_X) X(MRSH_K) X(MRSH_X) X(MARSH_K) X(MARSH_X) \
	X(LADD) X(LSUB) X(LMUL) X(LOR) X(LAND) X(LXOR) \
	X(LDXH_BE16) X(LDXW_BE32) X(LSH_OR) X(RSH_OR) X(MUL_ADD) X(XOR_SHR) X(ROTATE)

#define SL_VM_OPS(X) \
	X(FALLOFF) \
	SL_VM_FUSED_OPS(X) \
	SL_VM_ALU_OPS(X, 64) SL_VM_ALU_OPS(X, 32) X(MOVSX32_64) \
	X(ZEXT16) X(ZEXT32) X(NOP) X(BSWAP16) X(BSWAP32) X(BSWAP64) \
	SL_VM_JMP_OPS(X, 64) SL_VM_JMP_OPS(X, 32) \
	X(JA) X(CALL_HELPER) X(CALL_LOCAL) X(TAIL_CALL) X(EXIT) \
	X(LDXB) X(LDXH) X(LDXW) X(LDXDW) X(LDXSB) X(LDXSH) X(LDXSW) \
	X(STB) X(STH) X(STW) X(STDW) X(STXB) X(STXH) X(STXW) X(STXDW) \
	SL_VM_ATOMIC_OPS(X, 32) SL_VM_ATOMIC_OPS(X, 64) \
	X(LDDW) X(LDABSB) X(LDABSH) X(LDABSW) X(LDINDB) X(LDINDH) X(LDINDW)

enum sl_vm_op {
#define SL_VM_ENUM(name) SL_VM_OP_##name,
	SL_VM_OPS(SL_VM_ENUM)
#undef SL_VM_ENUM
	SL_VM_OP_COUNT
};

/** One pre-decoded instruction (24 bytes). */
struct sl_vm_insn {
	const void *handler; /**< verified loop's label for op (direct threading) */
	uint16_t op;      /**< enum sl_vm_op */
	uint8_t dst;
	uint8_t src;
	int32_t off;      /**< memory offset, or absolute target of a jump / local call */
	uint64_t imm;     /**< sign-extended imm, lddw constant, or helper function */
};

/** What sl_vm_prepare() builds: one allocation, freed with free(). */
struct sl_vm_code {
	const struct bpf_insn *insns; /**< the instructions decoded (staleness check) */
	uint32_t n_insns;
	bool verified;                /**< prog->verified when decoded */
	struct sl_callback *cbs;      /**< lddw BPF_PSEUDO_FUNC targets (after insns_d, same block) */
	uint32_t ncbs;
	struct sl_vm_insn insns_d[];  /**< n_insns + 1 (sentinel) */
};

/** Instructions a checked run may execute before it is stopped. */
#define SL_VM_CHECKED_BUDGET 10000000u
/** Tail calls a run may chain (the kernel's MAX_TAIL_CALL_CNT). */
#define SL_VM_MAX_TAIL_CALLS 33

/** True when @p prog has a decoded form matching its instructions. */
static inline bool vm_code_fresh(const struct sl_prog *prog)
{
	const struct sl_vm_code *c = prog->vm_code;

	return c && c->insns == prog->insns && c->n_insns == prog->n_insns &&
	       c->verified == prog->verified;
}

/*
 * The two run loops (interp_fast.c, interp_checked.c). Called with a NULL
 * program, vm_run_fast returns its label table (const void *const *,
 * indexed by enum sl_vm_op) for sl_vm_prepare() to fill in handlers.
 */
uint64_t vm_run_fast(const struct sl_prog *prog, void *ctx,
			const struct sl_vm_run_opts *opts, struct sl_vm_result *res);
uint64_t vm_run_checked(const struct sl_prog *prog, void *ctx,
			   const struct sl_vm_run_opts *opts, struct sl_vm_result *res);

/*
 * A callback called by a helper while a checked run is in a helper call on
 * this thread: run it checked too, with the memory of that run (its
 * stack, context, packet, map values) allowed; a fault ends that run.
 * False when no checked run is calling (the caller runs it unchecked).
 */
bool vm_checked_callback(const struct sl_callback *cb, uint64_t r1, uint64_t r2,
			    uint64_t *r0);

#endif /* SL_VM_INTERNAL_H */
