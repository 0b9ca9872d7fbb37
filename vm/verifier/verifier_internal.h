/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Internal header of the verifier (vm/verifier/verifier*.c; the design
 * comment is at the top of verifier.c). It holds the whole abstract machine
 * the files share: the kernel's limits, known bits (struct tnum and the
 * v_tnum_* operations, verifier_tnum.c), abstract registers, stack slots,
 * frames and states (struct vreg / vslot / vframe / vstate), per-instruction
 * facts and the walk's environment (struct vinsn, vsubprog, venv), and one
 * section of prototypes per file: log, CFG, liveness, scalars, state, memory,
 * context, calls. The register-operand checks and v_note_insn_flag() are
 * inline at the end, so the instruction, call and memory files share them
 * without calling back into one another (scripts/file-cycles.py).
 * Every global of the verifier starts with v_.
 */
#ifndef SL_VERIFIER_INTERNAL_H
#define SL_VERIFIER_INTERNAL_H

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#include "sl_helpers.h"
#include "sl_maps.h"
#include "sl_vm.h"

struct sl_map;

/* ---- limits (the kernel's) ---- */
#define V_COMPLEXITY_LIMIT SL_MAX_INSNS  /* processed instructions */
#define V_JMP_SEQ_LIMIT 8192             /* pending branch states */
#define V_MAX_VAR_OFF (1LL << 29)        /* BPF_MAX_VAR_OFF */
#define V_MAX_PACKET_OFF 0xffff
#define V_NSLOTS (SL_STACK_SIZE / 8)

/* ---- known bits ---- */
struct tnum {
	uint64_t value;
	uint64_t mask;   /* 1 = unknown bit */
};

struct tnum v_tnum_const(uint64_t v);
struct tnum v_tnum_unknown(void);
struct tnum v_tnum_range(uint64_t min, uint64_t max);
struct tnum v_tnum_add(struct tnum a, struct tnum b);
struct tnum v_tnum_sub(struct tnum a, struct tnum b);
struct tnum v_tnum_and(struct tnum a, struct tnum b);
struct tnum v_tnum_or(struct tnum a, struct tnum b);
struct tnum v_tnum_xor(struct tnum a, struct tnum b);
struct tnum v_tnum_mul(struct tnum a, struct tnum b);
struct tnum v_tnum_lshift(struct tnum a, unsigned s);
struct tnum v_tnum_rshift(struct tnum a, unsigned s);
struct tnum v_tnum_arshift(struct tnum a, unsigned s, unsigned width);
struct tnum v_tnum_intersect(struct tnum a, struct tnum b);
struct tnum v_tnum_cast(struct tnum a, unsigned bytes);
struct tnum v_tnum_subreg(struct tnum a);
struct tnum v_tnum_clear_subreg(struct tnum a);
struct tnum v_tnum_with_subreg(struct tnum reg, struct tnum sub);
bool v_tnum_is_const(struct tnum a);
bool v_tnum_in(struct tnum outer, struct tnum inner);
bool v_tnum_conflict(struct tnum a, struct tnum b);
int v_tnum_str(char *buf, size_t len, struct tnum a);

/* ---- abstract registers ---- */
enum vtype {
	V_NOT_INIT = 0,
	V_SCALAR,
	V_CTX,
	V_PKT,
	V_PKT_END,
	V_PKT_META,
	V_STACK,
	V_MAP_VALUE,
	V_MAP_VALUE_OR_NULL,
	V_CONST_MAP,
	V_MEM,
	V_MEM_OR_NULL,
	V_FUNC,             /* lddw BPF_PSEUDO_FUNC: off = the subprogram's first insn */
	V_CONST_MAP_OR_NULL, /* lookup in a map-in-map: an inner map (map = the template) or NULL */
	V_NTYPES
};

/*
 * One register. For pointers, off is the fixed offset and var_off plus the
 * ranges describe the variable part; for scalars, var_off and the ranges
 * describe the value.
 */
struct vreg {
	uint8_t type;       /* enum vtype */
	uint8_t frameno;    /* V_STACK: frame the pointer points into */
	uint8_t inner;      /* V_CONST_MAP(_OR_NULL): an inner map, map = its template */
	uint8_t pad;
	int32_t off;
	uint32_t id;        /* pkt: variable-offset id; *_OR_NULL: null-check id; scalar: copy id */
	uint32_t ref_id;    /* V_MEM from ringbuf: the reservation it belongs to */
	uint32_t range;     /* pkt: bytes proven readable from off 0 */
	uint32_t mem_size;  /* V_MEM */
	struct sl_map *map; /* map value, map value or null, const map */
	struct tnum var_off;
	int64_t smin, smax;
	uint64_t umin, umax;
	int32_t s32min, s32max;
	uint32_t u32min, u32max;
};

/* stack byte kinds */
enum { SLOT_INVALID = 0, SLOT_MISC, SLOT_ZERO, SLOT_SPILL };

/* 8 bytes of stack: slot k covers fp-8*(k+1) .. fp-8*k-1; type[j] is byte fp-8*(k+1)+j */
struct vslot {
	uint8_t type[8];
	struct vreg spill;  /* SLOT_SPILL bytes: the register spilled at the slot's base */
};

struct vframe {
	struct vreg regs[SL_NREGS];
	uint32_t callsite;   /* caller's call insn (frames > 0) */
	uint32_t subprog;
	uint32_t frameno;
	uint32_t nslots;     /* allocated slots */
	bool callback;       /* called by bpf_loop (callsite: the helper call) */
	struct vreg cb_ctx;  /* callback: its r2 at every call */
	uint32_t cb_act;     /* callback: one id per execution of the bpf_loop call */
	uint32_t cb_nsnap;
	struct vslot *cb_snap; /* callback: the ctx frame's stack at the bpf_loop call */
	struct vslot *stack;
};

#define V_MAX_REFS 16

struct vstate {
	struct vframe *frames[SL_MAX_CALL_DEPTH];
	uint32_t curframe;
	uint32_t nrefs;
	uint32_t refs[V_MAX_REFS];      /* open ringbuf reservations (ref ids) */
	uint32_t ref_insn[V_MAX_REFS];
	/* pruning bookkeeping */
	struct vstate *parent;          /* stored state this path comes from */
	uint32_t branches;              /* stored state: paths still being explored */
	uint32_t insn_idx;              /* stored state: where */
	uint32_t miss;
	uint64_t hash;                  /* stored state: of its registers, ids left out */
	struct vstate *next;            /* stored states list at one insn */
};

/* ---- per-instruction facts ---- */
enum {
	IA_LDDW2 = 1u << 0,        /* second half of a lddw */
	IA_JMP_TARGET = 1u << 1,
	IA_PRUNE = 1u << 2,        /* prune point */
	IA_LOOP_HEAD = 1u << 3,    /* target of a back-edge */
	IA_SEEN = 1u << 4,
	IA_STACK_DERIVED = 1u << 5,/* accesses the stack through a derived pointer (walk) */
	IA_PTR_ARITH = 1u << 6,    /* scalar added to a pointer here (walk) */
	IA_MAP_POISON = 1u << 7,   /* helper call saw several maps in r1 */
	IA_DIV_ZERO = 1u << 8,     /* divisor may be zero on some path */
	IA_CALLSITE = 1u << 9,
	IA_CALLBACK = 1u << 10,    /* first insn of a callback (bpf_loop): see verifier_state.c */
};

/* context field kinds an access resolved to (for the rewrite) */
struct vinsn {
	uint16_t flags;
	uint8_t ctx_field;      /* 1 + ctx field index, 0: not a ctx access */
	uint8_t ptr_type;       /* pointer type of the first memory access seen, 0 none */
	uint16_t nexplored;     /* states stored here */
	uint32_t subprog;
	uint16_t live_regs, prec_regs;
	uint64_t live_slots, prec_slots;
	struct vstate *explored;
};

struct vsubprog {
	uint32_t start, end;
	uint32_t stack_depth;
	uint32_t ncallees;
	uint32_t *callees;      /* subprog indexes */
	uint32_t *callsites;    /* insn of each call */
};

struct vpending {
	struct vstate *st;
	uint32_t insn;
	uint32_t prev;
};

struct venv {
	struct sl_prog *prog;
	const struct bpf_insn *insns;
	uint32_t n;
	unsigned flags;
	struct vinsn *ia;
	struct vsubprog *sub;
	uint32_t nsub;
	/* walk */
	struct vstate *cur;
	uint32_t insn_idx, prev_idx;
	struct vpending *pend;
	uint32_t npend, pend_cap;
	uint32_t id_gen;
	uint64_t processed;
	uint32_t nstates, stored_since;
	bool restart;            /* the walk learned a fact the liveness analysis lacked */
	/* log */
	char *log;
	size_t log_len, log_pos;
	bool log_full;
	int err;
};

/* ---- log (verifier_log.c) ---- */
const char *v_vtype_str(enum vtype t);
void v_log(struct venv *env, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int v_err(struct venv *env, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int v_err_at(struct venv *env, uint32_t pc, int err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void v_log_state(struct venv *env, uint32_t pc);
int v_reg_str(char *buf, size_t len, const struct vreg *r);
void v_insn_str(const struct venv *env, uint32_t pc, char *buf, size_t len);

/* ---- CFG (verifier_cfg.c) ---- */
int v_check_cfg(struct venv *env);
int v_check_stack_chain(struct venv *env);

/* ---- liveness and precision (verifier_live.c) ---- */
int v_compute_liveness(struct venv *env, bool conservative);

/* ---- scalars (verifier_scalar.c) ---- */
void v_reg_mark_unknown(struct vreg *r);
void v_reg_mark_const(struct vreg *r, uint64_t v);
void v_reg_mark_not_init(struct vreg *r);
void reg_set_range64(struct vreg *r);
void v_reg_sync(struct vreg *r);
void v_reg_zext32(struct vreg *r);
void v_reg_mark_sized(struct vreg *r, unsigned bytes, bool sign);
bool v_reg_is_const(const struct vreg *r);
bool v_reg_is_const32(const struct vreg *r);
bool v_reg_invalid(const struct vreg *r);
int v_scalar_alu(struct venv *env, uint8_t code, int16_t off, struct vreg *dst,
	       const struct vreg *src);
/* returns 1 when the constraint "dst op src" can hold, 0 when impossible */
int v_scalar_refine(uint8_t op, bool is32, struct vreg *dst, struct vreg *src);
uint8_t jmp_negate(uint8_t op);
uint8_t jmp_swap(uint8_t op);

/* ---- state (verifier_state.c) ---- */
struct vstate *v_state_new(uint32_t subprog);
struct vstate *v_state_copy(const struct vstate *src);
void v_state_free(struct vstate *st);
struct vframe *v_frame_new(uint32_t frameno, uint32_t subprog, uint32_t callsite);
struct vframe *v_frame_copy(const struct vframe *f);
int v_frame_grow(struct vframe *f, uint32_t nslots);
int v_push_branch(struct venv *env, uint32_t insn, uint32_t prev, struct vstate **out);
int v_pop_branch(struct venv *env);
void v_path_done(struct venv *env);
int v_is_state_visited(struct venv *env, uint32_t pc, bool *prune);
void v_free_explored(struct venv *env);
void v_for_each_reg(struct vstate *st, void (*fn)(struct vreg *r, void *arg), void *arg);
/** Forget reference (ringbuf reservation) @p id of state @p st, if held. */
void v_ref_drop(struct vstate *st, uint32_t id);

/* ---- memory (verifier_mem.c) ---- */
enum vaccess { ACC_READ, ACC_WRITE };
int v_check_mem(struct venv *env, uint32_t regno, int32_t off, unsigned size,
		enum vaccess t, int value_regno, bool sign_ext, struct vreg *value_out);
int v_check_helper_mem(struct venv *env, uint32_t regno, uint64_t size, uint64_t min_size,
		       bool zero_ok, enum vaccess t);
int v_stack_slot_range(struct venv *env, struct vframe *f, int64_t lo);
void v_update_stack_depth(struct venv *env, struct vframe *f, int64_t lo);

/* ---- context (verifier_ctx.c) ---- */
int v_ctx_access(struct venv *env, uint32_t pc, int32_t off, unsigned size, enum vaccess t,
		 struct vreg *out);
void v_ctx_rewrite(struct venv *env);

/* ---- calls (verifier_call.c) ---- */
int v_check_helper_call(struct venv *env, const struct bpf_insn *insn);
int v_check_func_call(struct venv *env, const struct bpf_insn *insn);
int v_check_loop_call(struct venv *env, const struct bpf_insn *insn);
int v_check_exit(struct venv *env, bool *path_done);
int v_check_ld_abs(struct venv *env, const struct bpf_insn *insn);

/* ---- shared helpers (inline; v_do_insn in verifier_insn.c) ---- */
static inline struct vframe *v_curframe(struct venv *env)
{
	return env->cur->frames[env->cur->curframe];
}
static inline struct vreg *v_reg(struct venv *env, uint32_t regno)
{
	return &v_curframe(env)->regs[regno];
}
static inline bool v_is_ptr(const struct vreg *r)
{
	return r->type != V_NOT_INIT && r->type != V_SCALAR;
}
static inline bool v_is_pkt(const struct vreg *r)
{
	return r->type == V_PKT || r->type == V_PKT_META;
}
/* Register operand checks and the per-instruction rewrite flags: used by the
 * instruction, call and memory files alike, so they live here (inline) and
 * no verifier file calls back into another that calls it. */
static inline int v_check_reg_read(struct venv *env, uint32_t regno)
{
	if (regno >= SL_NREGS)
		return v_err(env, -EINVAL, "R%u is invalid", regno);
	if (v_reg(env, regno)->type == V_NOT_INIT)
		return v_err(env, -EACCES, "R%u !read_ok", regno);
	return 0;
}
static inline int v_check_reg_write(struct venv *env, uint32_t regno)
{
	if (regno == BPF_REG_10)
		return v_err(env, -EACCES, "frame pointer is read only");
	return 0;
}
/* Mark the instruction being walked with @p flag (IA_*); the walk restarts
 * when a flag is new, so every path sees the final rewrite decision. */
static inline void v_note_insn_flag(struct venv *env, uint16_t flag)
{
	struct vinsn *ia = &env->ia[env->insn_idx];

	if (!(ia->flags & flag)) {
		ia->flags |= flag;
		env->restart = true;
	}
}
int v_do_insn(struct venv *env, bool *done);

#endif /* SL_VERIFIER_INTERNAL_H */
