/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * jit/ internals: the run-time helpers that compiled code calls (jit_rt.c).
 * They follow the SysV ABI, so compiled code calls them like helpers.
 */
#ifndef SL_JIT_INTERNAL_H
#define SL_JIT_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "sl_vm.h"

/** Result of a legacy packet load: rax = value, rdx = ok (SysV returns it in two registers). */
/**
 * bpf_tail_call: entry to jump to with rdi = ctx, or NULL when the slot is
 * empty (the call falls through with r0 = -ENOENT). A target without JIT
 * code runs in the interpreter through a trampoline. Worker, no locks.
 */
void *jit_tail_target(void *ctx, struct sl_map *map, uint64_t index);

/**
 * The function a call of map helper @p helper (bpf_map_lookup_elem,
 * bpf_map_update_elem, bpf_map_delete_elem) on @p map, the one map the
 * verifier saw for it, calls instead of the helper (map_calls.c): same
 * registers and result. NULL: call the helper.
 */
const void *jit_map_call_fn(int32_t helper, struct sl_map *map);

/** Per-instruction rewrites found by jit_peephole(). */
enum {
	JIT_FUSE_NONE = 0,
	JIT_FUSE_ROL,   /**< this shift by k becomes a rotate (left by k, or right by k) */
	JIT_FUSE_DROP,  /**< absorbed by the previous fused instruction: no code */
	JIT_FUSE_LEA,   /**< mul by 3/5/9 + add of a constant: one lea */
	JIT_FUSE_CMOV,  /**< conditional jump over one mov: compare + cmov */
	JIT_FUSE_CMOV_JT, /**< the same, the mov being a jump target: cmov, then jmp over it */
	JIT_FUSE_ZEXT,  /**< "<<= 32; >>= 32": mov r32, r32 */
	JIT_FUSE_BE16_HI, /**< u8 load of [P+k] becomes the be16 load of [P+k] (le16 with JIT_BE16_LE) */
	JIT_FUSE_BE16_LO, /**< u8 load of [P+k+1] becomes the be16 load of [P+k] (le16 with JIT_BE16_LE) */
	JIT_FUSE_MOV_ADD, /**< "rD = rS; rD += imm|rT" (64-bit): lea rD, [rS + imm|rT] */
	JIT_FUSE_MOV_SWAP16, /**< "rD = rS; rD = be16|le16 rD": movzx rD32, rS16 (+ rol rD16, 8) */
	JIT_FUSE_CMP_K, /**< jump on a register that holds a constant: cmp with an immediate;
			       the argument is the distance back to the constant's mov/lddw */
	JIT_FUSE_JZ_FLAGS, /**< "if rX ==|!= 0" right after add/sub/and/or/xor of rX: no cmp */
	JIT_FUSE_MOV_ZEXT, /**< "rD = rS; rD <<= 32; rD >>= 32": mov rD32, rS32 */
	JIT_FUSE_INLINE_CALL, /**< (set by jit.c) map lookup emitted inline: reads r2 only */
	JIT_FUSE_ROL32, /**< this shift by k becomes a 32-bit rotate (left by k, or right by k) */
	JIT_FUSE_NOP,   /**< emits nothing (a zero extension nobody needs, or the
			       shift / add folded into a LOAD_IDX) */
	JIT_FUSE_MASK_SHR, /**< "rX &= M; rX >>= k" keeping bits k-31: shr r32, k */
	JIT_FUSE_SETCC_ZERO, /**< "rC = 1" of "rC = 1; if cond goto +1; rC = 0": xor rC, rC */
	JIT_FUSE_SETCC, /**< its jump: cmp + setcc rC8 */
	JIT_FUSE_LOAD_IDX, /**< load [rB + rA*scale + off]: the add (and shift) before it
				  folded in (fuse_mem.c); the argument is rA << 4 | scale */
	JIT_FUSE_ADC,      /**< "rA += rB" of a csum_add carry sequence: add r32 + adc r32, 0 */
	JIT_FUSE_MOV_MOVZX, /**< "rD = rS; rD &= 0xff|0xffff" (also 32-bit): movzx rD32, rS8|rS16 */
	JIT_FUSE_ALU_K,    /**< add/sub/and/or/xor with a register that holds a constant: the
			       immediate form; the argument is the distance back, as for CMP_K */
	JIT_FUSE_ST_K,     /**< store of a register that holds a constant: mov [m], imm; the
			       argument is the distance back, as for CMP_K */
	JIT_FUSE_JMP32,    /**< jump with an immediate on a dead zero-extended copy: a 32-bit
			       compare of the source; the argument is the source register */
	JIT_FUSE_TEST_K,   /**< "if rX ==|!= 0" on a dead "rX &= K": test rX, K; the argument
			       is the distance back to the AND (also on a SETCC jump), bit 7
			       set when the load before the AND is folded in: test [m], K */
	JIT_FUSE_MEM_CMP,  /**< jump with an immediate on a dead load just before: cmp|test [m], imm */
	JIT_FUSE_MEM_ALU,  /**< "rX = [m]; rX op= imm; [m] = rX", rX dead: op [m], imm (at the load) */
	JIT_FUSE_CMP_K32,  /**< CMP_K of a 64-bit unsigned jump with a constant in [2^31, 2^32)
			       on a register with a zero upper half: a 32-bit compare */
	JIT_FUSE_NULL_BR,  /**< "if r0 ==|!= 0" right after an array lookup emitted in place
			       (map_calls.c): the lookup's own bound checks branch, no test */
	JIT_FUSE_MASK_LEA, /**< "rX = rY" of a prefix test (fuse_cmp.c): lea rX32, [rY - C]; the
			       argument is the distance to its jump */
	JIT_FUSE_MASK_JMP, /**< its "if rX ==|!= C": cmp rX32, 2^k; jb|jae; the argument is the
			       distance back to the mov */
	JIT_FUSE_LOAD_RR,  /**< load [rS + rI + off]: "rT = rS; rT += rI" before it folded in
			       (fuse_mem.c); the argument is rS << 4 | rI */
	JIT_FUSE_ST_MERGE, /**< byte store of a value's byte 0: the store of all its bytes the
			       group stores (merge_st.c); the argument is the width, 2, 4 or 8 */
};

/**
 * Jump targets (peephole.c): per instruction (and one past the end), the
 * number of jumps and local calls that land there, at most 255. @return
 * n_insns + 1 bytes (calloc'ed, caller frees) or NULL.
 */
uint8_t *jit_jump_targets(const struct sl_prog *prog);

/**
 * Find fusable sequences (peephole.c). With @p blind (constant blinding),
 * none that would put an immediate in the code. @return 2 * n_insns bytes
 * (calloc'ed, caller frees): one JIT_FUSE_* per instruction, then one
 * argument per instruction (the shift of a BE16 load), or NULL when out of
 * memory.
 */
uint8_t *jit_peephole(const struct sl_prog *prog, bool blind);

/**
 * Byte stores of one value's bytes into adjacent addresses, nothing else
 * touching memory between (merge_st.c, at the end of jit_peephole()):
 * one 2-, 4- or 8-byte store (ST_MERGE) at the store of byte 0, the
 * others NOP. Updates @p fuse.
 */
void jit_merge_stores(const struct sl_prog *prog, const uint8_t *targets, uint8_t *fuse);

/** In a BE16_HI/LO's argument: the load is little-endian (no rol); the low bits are the shift. */
#define JIT_BE16_LE 0x80

/**
 * (consts.c) The constant a CMP_K jump (or ALU_K operation) at @p pc uses, from the mov/lddw
 * fuse[n_insns + pc] instructions back; @p swapped: the constant is the
 * jump's dst (the comparison must be mirrored), else its src.
 */
int64_t jit_cmp_k(const struct sl_prog *prog, const uint8_t *fuse, uint32_t pc, bool *swapped);

/**
 * Instructions whose only effect is a register nobody reads afterwards
 * (liveness.c), given the fusions found by jit_peephole(). @return one
 * flag per instruction (1: emit nothing; calloc'ed, caller frees), or NULL
 * when out of memory; with @p live_out, also the registers live after each
 * instruction (calloc'ed, caller frees).
 */
uint8_t *jit_dead_code(const struct sl_prog *prog, const uint8_t *fuse, uint16_t **live_out);

/**
 * After jit_dead_code() (fuse_mem.c): "rA <<= s; rB += rA; ...; rD =
 * *(rB + off)" (lddw's of other registers before the add, instructions
 * that leave rA and rB alone after it) where rB and rA are not read
 * afterwards becomes one load [rB + rA*2^s + off] (LOAD_IDX), and "rT =
 * rS; rT += rI; ...; rD = *(rT + off)" one load [rS + rI + off]
 * (LOAD_RR); @p live: registers live after each instruction. Updates
 * @p fuse.
 */
void jit_fuse_indexed(const struct sl_prog *prog, uint8_t *fuse, const uint8_t *dead,
			 const uint16_t *live);

/**
 * After jit_dead_code(): v1's one's-complement add with carry (the
 * add, a zero-extended copy, a compare and the add of its bool; see
 * peephole.c) becomes "add r32; adc r32, 0" where rA's upper half and the
 * copy and the bool are not read afterwards; @p live: registers live
 * after each instruction. Updates @p fuse.
 */
void jit_fuse_carry(const struct sl_prog *prog, uint8_t *fuse, const uint8_t *dead,
		       const uint16_t *live);

/**
 * After jit_dead_code() (fuse_late.c): fusions that need a register to be
 * dead afterwards: a jump on a zero-extended copy as a 32-bit compare of
 * the source (JMP32), "rX &= K; if rX == 0" as a test (TEST_K), a jump on
 * a value just loaded as a compare with memory (MEM_CMP), and a load, an
 * operation with an immediate and a store back as one read-modify-write
 * instruction (MEM_ALU). @p live: registers live after each instruction.
 * Updates @p fuse.
 */
void jit_fuse_late(const struct sl_prog *prog, uint8_t *fuse, const uint8_t *dead,
		   const uint16_t *live);

/** Most instructions between the AND and the jump of a prefix test (fuse_cmp.c). */
#define JIT_MASK_CMP_GAP 12

/**
 * After jit_fuse_late() (fuse_cmp.c): prefix tests "rX = rY; rX &= M;
 * [...] if rX ==|!= C" with rX dead after the jump, M's low half
 * 0xffffffff << k, as "lea rX32, [rY - C]; cmp rX32, 2^k; jb|jae"
 * (MASK_LEA, NOP, MASK_JMP). None with @p blind. @p live: registers live
 * after each instruction. Updates @p fuse.
 */
void jit_fuse_cmp(const struct sl_prog *prog, uint8_t *fuse, const uint8_t *dead,
		  const uint16_t *live, bool blind);

/**
 * The constants of the prefix test whose mov is at @p pc and jump at @p j
 * (fuse_cmp.c): the low half @p c of C and the k of M; @p hi_needed: the
 * test is right only when rY's upper half is zero. @return false when the
 * sequence is not one.
 */
bool jit_mask_cmp_args(const struct sl_prog *prog, const uint8_t *targets, uint32_t pc, uint32_t j,
		       uint32_t *c, unsigned *k, bool *hi_needed);

/**
 * Jumps threaded past the tests they decide (thread.c): a copy of the
 * program's instructions with some jump offsets changed, which the JIT
 * compiles instead; @p nthreaded: how many. @return the copy (malloc'ed,
 * caller frees), or NULL when no jump changes (or out of memory).
 */
struct bpf_insn *jit_thread_jumps(const struct sl_prog *prog, unsigned *nthreaded);

/**
 * Tests hoisted above the bools their taken side skips (hoist.c): a copy
 * of the program's instructions with some runs reordered, which the JIT
 * compiles instead; @p nhoisted: how many. @return the copy (malloc'ed,
 * caller frees), or NULL when nothing moves (or out of memory).
 */
struct bpf_insn *jit_hoist_tests(const struct sl_prog *prog, unsigned *nhoisted);

/** Longest cold tail (instructions after its head jump) outline.c moves after the epilogue. */
#define JIT_OUTLINE_MAX 8

/**
 * Cold rule tails (outline.c): per instruction, 0, or for a conditional
 * jump over a short tail that leaves early, the tail's length (jit.c then
 * inverts the jump and emits the tail after the epilogue). @p fuse,
 * @p dead, @p sink: the final fusions, dead code and sunk moves.
 * @return n_insns + 1 bytes (calloc'ed, caller frees) or NULL.
 */
uint8_t *jit_outline_marks(const struct sl_prog *prog, const uint8_t *fuse, const uint8_t *dead,
			   const uint8_t *sink, const uint8_t *targets);

/**
 * Upper halves read later (liveness.c): per instruction, the registers
 * whose bits 32-63 some instruction after it may read (bit n: rn), on the
 * program as written. @return n_insns entries (calloc'ed, caller frees) or
 * NULL when out of memory.
 */
uint16_t *jit_hi_live(const struct sl_prog *prog, const uint8_t *targets, const uint8_t *fuse);

/**
 * Upper halves known to be zero (liveness.c): per instruction, the
 * registers whose bits 32-63 are zero before it on every path (bit n: rn).
 * @return n_insns + 1 entries (malloc'ed, caller frees) or NULL.
 */
uint16_t *jit_hi_zero(const struct sl_prog *prog);

/**
 * Values known to fit in @p bits (8 or 16) bits (liveness.c): per
 * instruction, the registers below 2^bits before it on every path (bit n:
 * rn), on the program as written. @return n_insns + 1 entries
 * (malloc'ed, caller frees) or NULL.
 */
uint16_t *jit_fits(const struct sl_prog *prog, unsigned bits);

/**
 * 64-bit ALU instructions, not fused (@p fuse: the final fusions),
 * whose result's upper half nobody reads (peephole.c, from
 * jit_hi_live() on the fused program) and whose low half a 32-bit x86
 * instruction computes alike (add, sub, mul, and, or, xor, neg, mov, lsh
 * by an immediate below 32): 1 per such instruction (calloc'ed, caller
 * frees), or NULL when out of memory. The JIT emits them without REX.W.
 */
uint8_t *jit_low_only(const struct sl_prog *prog, const uint8_t *fuse);

/**
 * Registers instruction @p pc reads (@p use) and writes (@p def) as the
 * JIT emits it, given the fusions @p fuse (liveness.c; bit n: rn; an
 * absorbed instruction: none).
 */
void jit_def_use(const struct sl_prog *prog, uint32_t pc, const uint8_t *fuse, uint16_t *use,
		 uint16_t *def);

/* ---- instruction shapes the passes share ---- */

/* A conditional jump (not goto, call or exit; JEQ ... JSLE, either class). */
static inline bool jit_is_cond(const struct bpf_insn *in)
{
	uint8_t cls = SL_OP_CLASS(in->code), op = SL_OP_CODE(in->code);

	return (cls == BPF_JMP || cls == BPF_JMP32) && op != BPF_JA && op != BPF_CALL &&
	       op != BPF_EXIT && op <= BPF_JSLE;
}

/* An instruction after which control never falls through (goto, exit). */
static inline bool jit_no_fall(const struct bpf_insn *in)
{
	uint8_t cls = SL_OP_CLASS(in->code), op = SL_OP_CODE(in->code);

	return (cls == BPF_JMP || cls == BPF_JMP32) && (op == BPF_JA || op == BPF_EXIT);
}

/* The instruction before @p k (an lddw's first half when k follows one). */
static inline uint32_t jit_prev_insn(const struct sl_prog *p, uint32_t k)
{
	return k >= 2 && sl_isa_is_lddw(&p->insns[k - 2]) ? k - 2 : k - 1;
}

/* ---- sink.c: moves made only where a jump is taken ---- */

/** Longest exit block (ALU instructions before an exit) a sink landing block copies. */
#define JIT_SINK_DUP 6
/** Fewest moves a jump to anything but an exit block takes into a landing block (which ends in a jmp). */
#define JIT_SINK_MIN_JMP 2

enum {
	JIT_SINK_MOV = 1,   /**< a move made in the landing block of the jump after it, not in place */
	JIT_SINK_JUMP = 2,  /**< a conditional jump whose taken side goes through a landing block */
};

/**
 * Moves whose register is dead where the next conditional jump falls
 * through, made only on its taken side (sink.c; see there). @p fuse0:
 * the fusions jit_dead_code() saw, which found @p dead and @p live (the
 * registers live after each instruction); @p fuse: the final ones.
 * @return one JIT_SINK_* per instruction (calloc'ed, caller frees), or
 * NULL when out of memory.
 */
uint8_t *jit_sink_moves(const struct sl_prog *prog, const uint8_t *fuse0, const uint8_t *fuse,
			const uint8_t *dead, const uint16_t *live, const uint8_t *targets);

/**
 * The exit instruction of the exit block at @p t (at most JIT_SINK_DUP ALU
 * instructions, then exit, before @p end), or -1 when it is not one.
 */
int64_t jit_exit_block(const struct sl_prog *prog, uint32_t t, uint32_t end);

/* ---- consts.c: registers an instruction writes, constants of a straight line ---- */

/** Does instruction @p in write register @p r (calls and LD_ABS/LD_IND: r0-r5)? */
bool jit_writes(const struct bpf_insn *in, uint8_t r);

/** The value a plain lddw (not a map or global-data one) or a 64-bit mov of an immediate loads. */
bool jit_const_of(const struct bpf_insn *in, uint64_t *v);

/**
 * The pc of the instruction that last writes register @p r before
 * instruction @p pc, walking back at most 512 instructions in the same
 * basic block (@p targets: jump targets); -1 if none there.
 */
int64_t jit_reg_def(const struct sl_prog *prog, const uint8_t *targets, uint32_t pc, uint8_t r);

/**
 * The pc of the lddw / mov that gives register @p r the constant it holds
 * before instruction @p pc, walking back at most 512 instructions in the
 * same basic block (@p targets: jump targets); -1 if unknown.
 */
int64_t jit_const_def(const struct sl_prog *prog, const uint8_t *targets, uint32_t pc, uint8_t r);

/**
 * The constant register @p r holds before instruction @p pc (see
 * jit_const_def()). @return false when unknown.
 */
bool jit_const_before(const struct sl_prog *prog, const uint8_t *targets, uint32_t pc,
		      uint8_t r, uint64_t *v);

/** The conditional jumps and gotos that land on each instruction (consts.c). */
struct jit_preds {
	uint32_t *first;   /**< n_insns + 2 entries: the sources of pc are src[first[pc]..first[pc + 1]) */
	uint32_t *src;
	uint32_t *fill;    /**< (building) */
};

/** Index the jumps of @p prog by target. @return NULL when out of memory. */
struct jit_preds *jit_preds_build(const struct sl_prog *prog);

void jit_preds_free(struct jit_preds *jp);

/**
 * The constant register @p r holds before instruction @p pc on every path
 * that reaches it (consts.c): walking back through the blocks before it
 * (fall-through and jumps, @p jp), every path must meet a plain lddw or
 * mov of an immediate of one same value before anything else writes r; a
 * path back into a block already walked (a loop that does not write r)
 * adds nothing. False at a function's entry, where a call or callback
 * lands, or past 16 blocks.
 */
bool jit_const_reaching(const struct sl_prog *prog, const uint8_t *targets,
			const struct jit_preds *jp, uint32_t pc, uint8_t r, uint64_t *v);

/** Offset of sl_map_cpu from the thread pointer (local-exec TLS), for per-CPU lookups. */
int32_t jit_cpu_tpoff(void);

/* peephole.c: the last write of @p r before @p pc in its straight line, at most @p back back; -1: none. */
int64_t jit_line_def(const struct sl_prog *p, const uint8_t *targets, uint32_t pc, uint8_t r,
		     uint32_t back);

#endif /* SL_JIT_INTERNAL_H */
