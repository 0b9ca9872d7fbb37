/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * jit/ internals shared by the instruction selection (jit.c and its
 * emit_*.c files) and the function layout (layout.c): the compiler's state, one native function per
 * subprogram, and the register conventions described at the top of jit.c.
 */
#ifndef SL_JIT_STATE_H
#define SL_JIT_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jit_internal.h"
#include "sl_errlog.h"
#include "sl_helpers.h"
#include "sl_jit.h"
#include "x86_emit.h"

#define TMP X_R11
#define AUX X_R10
#define AUX2 X_R9
#define TCC X_R12

/** Tail calls one chain may make (the kernel's MAX_TAIL_CALL_CNT). */
#define JIT_MAX_TAIL_CALLS 33
/** Slots of a PROG_ARRAY whose programs sl_jit_compile() compiles with a program that tail calls. */
#define JIT_TAIL_SLOTS_SCANNED 65536
/** Passes before giving up on convergence. */
#define JIT_MAX_PASSES 20
/** Bytes under rsp that a SysV leaf function may use without moving rsp. */
#define JIT_RED_ZONE 128
/** Largest epilogue copied in place of a jump at each exit. */
#define JIT_INLINE_EPILOGUE 8


/* One subprogram: a native function. Offsets are native, from the previous pass. */
struct jit_sub {
	uint32_t start, end;       /* instruction range */
	uint32_t stack;            /* bytes reserved below rbp (with alignment pad) */
	bool frame;                /* uses r10 or stack: rbp frame */
	bool rsp_frame;            /* stack without rbp: r10 is rsp + stack (see rsp_frame_ok) */
	bool calls;                /* calls something: rsp 16-byte aligned at calls */
	uint8_t nsaved;
	uint8_t saved[5];          /* callee-saved registers pushed, in push order */
	uint8_t rmap[SL_NREGS];    /* eBPF -> x86 registers in this function */
	bool tmp_mapped;           /* a leaf whose r6-r9 took TMP: cmovs use a dead register */
	uint32_t off_start, off_tail, off_epi;    /* previous pass */
	uint32_t new_start, new_tail, new_epi;    /* pass being emitted */
	uint32_t epi_size;
	int64_t inline_call;       /* the call emitting it in place (inline.c), or -1 */
	struct jit_sub *host;      /* the native function its code is in (itself when not inlined) */
};

struct jit_state;

/*
 * Burst entry (burst.c): jit_compile() with one compiles it instead of the
 * per-packet entry (no tail entry is published). prepare runs after the
 * layout (0, or -ENOTSUP for a program that cannot have one); emit_sub()
 * calls head at the start and tail in place of the epilogue of the main
 * function. Function pointers, so that jit.c does not depend on burst.c.
 */
struct jit_burst {
	const struct sl_jit_burst_layout *layout;
	int (*prepare)(struct jit_state *st);
	void (*head)(struct jit_state *st);
	void (*tail)(struct jit_state *st);
	/* do_ldx() / an exit: true when the entry emitted it its own way */
	bool (*ldx)(struct jit_state *st, const struct bpf_insn *in);
	bool (*exit)(struct jit_state *st);
};

struct jit_state {
	struct sl_prog *prog;
	struct sl_jit_opts opts;
	struct x86_emit e;
	uint32_t *addrs, *ends;          /* per insn, previous pass */
	uint32_t *new_addrs, *new_ends;  /* per insn, pass being emitted */
	struct jit_sub *subs;
	uint32_t nsubs;
	struct sl_callback *cbs;         /* per sub: what lddw BPF_PSEUDO_FUNC of it loads */
	struct jit_sub *sub;             /* being emitted */
	uint8_t *fuse;                   /* JIT_FUSE_* per insn (peephole.c) */
	uint8_t *dead;                   /* 1: result never read, no code (liveness.c) */
	uint8_t *low;                    /* 1: 64-bit ALU whose upper half nobody reads */
	uint16_t *hi_zero;               /* registers with a zero upper half, per insn */
	uint16_t *fits16;                /* registers below 2^16, per insn (jit_fits()) */
	uint16_t *live;                  /* eBPF registers live after each insn (liveness.c) */
	uint8_t *targets;                /* jumps landing on each insn (jit_jump_targets()) */
	uint8_t *sink;                   /* JIT_SINK_* per insn (sink.c) */
	uint32_t *landing, *landing_end;       /* per sunk jump: its landing block, previous pass */
	uint32_t *new_landing, *new_landing_end;  /* the same, pass being emitted */
	uint32_t *landing_pcs, nlandings;      /* sunk jumps of the function being emitted */
	struct jit_sub **landing_subs;      /* and the function of each (one emitted in place, too) */
	bool landing_taken;                 /* the instruction being emitted branched to its landing block */
	uint8_t *outl;                      /* per head jump: its cold tail's length (outline.c), else 0 */
	uint32_t *outl_at, *outl_end;       /* per head: its tail, previous pass */
	uint32_t *new_outl_at, *new_outl_end;  /* the same, pass being emitted */
	uint32_t *outl_pcs, noutl;          /* heads of the function being emitted */
	int64_t outl_head;                  /* the head being emitted (its jump goes to the tail), or -1 */
	uint8_t rmap[SL_NREGS];          /* register map of the function being emitted */
	uint32_t pc;
	bool first_pass;
	bool tail_calls;
	bool bmi2;
	int32_t tpoff;                   /* sl_map_cpu from the thread pointer */
	uintptr_t code_base;             /* where the code will be (0: not known yet) */
	size_t code_span;                /* bytes mapped there */
	uint64_t seed, rng;              /* blinding keys, same sequence every pass */
	const struct jit_burst *burst;   /* compiling a burst entry (burst.c), or NULL */
	uint32_t burst_loop;             /* burst entry: offset of the loop's head, this pass */
	uint32_t burst_next[2];          /* its next-packet step: previous pass, this pass */
	bool burst_fall_pass;            /* the main function ends in an exit with r0 XDP_PASS */
	bool burst_ctx_regs;             /* ctx.data/data_meta, data_end in registers: */
	uint8_t burst_home[2];           /* x86 registers of data and data_end (burst.c) */
	uint32_t burst_direct[2];        /* pc of a load that is its home itself, or UINT32_MAX */
	bool burst_r1;                   /* the main function reads r1 (the context) */
	struct sl_errlog log;            /* the caller's log; log.err: first error, 0 if none */
};

struct sl_jit {
	void *code;
	size_t size;       /* bytes of code */
	size_t map_len;    /* bytes mapped */
	sl_jit_fn entry;
	void *tail_entry;
	struct sl_prog *prog;
	struct sl_callback *cbs;   /* callbacks (bpf_loop): one per function, or NULL */
	struct sl_jit *deps;       /* tail-call targets compiled with this program */
	struct sl_jit *next_dep;   /* next in the deps list of the program that compiled it */
	struct sl_jit_opts opts;   /* as compiled: the burst entry is compiled alike */
	struct sl_jit *burst;      /* its burst entry (burst.c), or NULL */
};

/**
 * Fail compilation (jit_fail.c, through sl_errlog_set()): the first error
 * wins, one line "pc N: ..." into the caller's log. @return the first
 * error (negative errno).
 */
int jit_fail(struct jit_state *st, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/** Epilogue of function @p s (layout.c); @p ret false leaves out the ret (tail calls). */
void jit_emit_epilogue_of(struct x86_emit *e, const struct jit_sub *s, bool ret);

/** Functions: instruction 0 and every local call target (layout.c). 0 or -errno. */
int jit_find_subs(struct jit_state *st);

/**
 * Functions emitted in place of their one call (inline.c): sets every
 * function's inline_call and host. 0 or -ENOMEM.
 */
int jit_find_inlines(struct jit_state *st);

/** The function that starts at @p pc (inline.c), or NULL. */
struct jit_sub *jit_sub_at(struct jit_state *st, uint32_t pc);

/** The function whose instructions include @p pc (inline.c), or NULL. */
struct jit_sub *jit_sub_of(const struct jit_state *st, uint32_t pc);

/** The function emitted in place of the local call at @p pc (inline.c), or NULL. */
struct jit_sub *jit_inlined_at(const struct jit_state *st, uint32_t pc);

/** Registers, frames and stack of every function (layout.c). */
void jit_layout_subs(struct jit_state *st);

/** sl_jit_compile(), or with @p burst (not NULL) a burst entry (burst.c). */
struct sl_jit *jit_compile(struct sl_prog *prog, const struct sl_jit_opts *opts,
			   const struct jit_burst *burst, char *log, size_t log_len);

/**
 * Scratch register for the cmov of the select at @p pc (layout.c) in a
 * leaf whose TMP holds an eBPF register: the x86 register, caller-saved
 * under @p rmap, of an eBPF register nobody reads after the select's mov
 * (not its destination), or -1 when there is none.
 */
int jit_cmov_scratch(const struct jit_state *st, const uint8_t *rmap, uint32_t pc);

/** Is the call at @p pc a bpf_map_lookup_elem that jit_emit_array_lookup() inlines (map_calls.c)? */
bool jit_array_lookup_inlined(const struct jit_state *st, uint32_t pc);
/** Is the instruction after that call "if r0 ==|!= 0 goto" for the lookup to branch itself (needs st->targets)? */
bool jit_null_branch_fusable(const struct jit_state *st, uint32_t pc);

/**
 * bpf_map_lookup_elem at st->pc on the ARRAY / PERCPU_ARRAY @p map emitted
 * in place (map_calls.c). @return 1 when emitted, 0 when the map does not
 * allow it (call a function instead).
 */
int jit_emit_array_lookup(struct jit_state *st, struct sl_map *map);

/* ---- instruction selection: jit.c (driver and dispatch), emit_alu.c, emit_mem.c, emit_call.c, emit_jmp.c ---- */

/** An ALU/JMP source: a register, or an immediate not yet materialized. */
struct jit_src_op {
	bool is_reg;
	int reg;
	int32_t imm;
};

/** 64-bit operation (ALU64, or JMP as opposed to JMP32)? */
static inline bool jit_is_w64(const struct bpf_insn *in)
{
	uint8_t cls = SL_OP_CLASS(in->code);

	return cls == BPF_ALU64 || cls == BPF_JMP;
}

/** x86 base register of eBPF register @p r as a memory base; r10 in an rsp frame moves @p off. */
static inline int jit_mem_base(const struct jit_state *st, uint8_t r, int32_t *off)
{
	if (r == BPF_REG_10 && st->sub->rsp_frame)
		*off += (int32_t)st->sub->stack;
	return st->rmap[r];
}

/** Epilogue of the function being emitted; @p ret false leaves out the ret (tail calls). */
static inline void jit_emit_epilogue(struct jit_state *st, bool ret)
{
	jit_emit_epilogue_of(&st->e, st->sub, ret);
}

/* emit_alu.c: operands, blinding, ALU instructions and the straight-line fusions */

/** Next blinding key (xorshift64*, the same sequence every pass). */
uint64_t jit_next_key(struct jit_state *st);
/** AUX = @p imm, blinded: mov AUX, imm^key; xor AUX, key. @return AUX. */
int jit_blind_imm(struct jit_state *st, int32_t imm);
/** The source operand of @p in (blinded into AUX when constant blinding is on). */
struct jit_src_op jit_src_operand(struct jit_state *st, const struct bpf_insn *in);
/** A plain ALU/ALU64 instruction at st->pc. 0 or -errno. */
int jit_do_alu(struct jit_state *st, const struct bpf_insn *in);
/** A fused straight-line sequence (JIT_FUSE_ROL, LEA, ZEXT, BE16_*, MOV_*, ...; not CMOV). */
void jit_emit_fused(struct jit_state *st, const struct bpf_insn *in, uint8_t fuse);
/** ALU_K: an ALU operation with a register holding a constant, as the immediate form. 0 or -errno. */
int jit_emit_alu_k(struct jit_state *st, const struct bpf_insn *in);

/* emit_mem.c: loads, stores, atomics, lddw, LD_ABS/LD_IND */

/** BPF_LD (lddw, LD_ABS, LD_IND), BPF_LDX, BPF_ST, BPF_STX (atomics included). 0 or -errno. */
int jit_do_ld(struct jit_state *st, const struct bpf_insn *in);
int jit_do_ldx(struct jit_state *st, const struct bpf_insn *in);
int jit_do_st(struct jit_state *st, const struct bpf_insn *in);
int jit_do_stx(struct jit_state *st, const struct bpf_insn *in);
/** MEM_ALU at a load: "op size [m], imm" for the load, the operation and the store. */
void jit_emit_mem_alu(struct jit_state *st, const struct bpf_insn *ld);
/** ST_K: the store of a register holding a constant as a store of the immediate. 0 or -errno. */
int jit_emit_st_k(struct jit_state *st, const struct bpf_insn *in);

/* emit_call.c: the call emitter (local calls, helpers, tail calls, bpf_loop) */

/** BPF_CALL at st->pc: a local call, a helper, a tail call (not one inline.c inlines: jit.c). 0 or -errno. */
int jit_do_call(struct jit_state *st, const struct bpf_insn *in);

/* emit_jmp.c: jumps, compares and the compare fusions */

/** jmp/jcc to native offset @p target of the previous pass (rel8 when it fitted then). */
void jit_emit_branch(struct jit_state *st, enum x86_cc cc, uint32_t target);
/** Where a jump to @p target ends up after the plain gotos it lands on. */
int64_t jit_thread_jump(const struct jit_state *st, int64_t target);
/** BPF_JMP / BPF_JMP32 at st->pc but calls (jit.c sends those to jit_do_call()). 0 or -errno. */
int jit_do_jmp(struct jit_state *st, const struct bpf_insn *in);
/** CMOV: "if (cond) goto +1; rX = v" as compare + cmov. */
void jit_emit_cmov(struct jit_state *st, const struct bpf_insn *in);
/** SETCC, JZ_FLAGS, CMP_K / CMP_K32, and fuse_late.c's JMP32 / TEST_K / MEM_CMP jumps. 0 or -errno. */
int jit_emit_setcc(struct jit_state *st, const struct bpf_insn *in);
int jit_emit_jz_flags(struct jit_state *st, const struct bpf_insn *in);
int jit_emit_cmp_k(struct jit_state *st, const struct bpf_insn *in);
int jit_emit_late_jump(struct jit_state *st, const struct bpf_insn *in, uint8_t fuse);
/** A prefix test's lea (MASK_LEA) or compare and branch (MASK_JMP): fuse_cmp.c. */
int jit_emit_mask_cmp(struct jit_state *st, const struct bpf_insn *in, uint8_t fuse);

#endif /* SL_JIT_STATE_H */
