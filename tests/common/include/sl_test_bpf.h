/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_test_bpf.h: the program side of the test-support library.
 *
 * - struct sl_tgen, the random-program builder the generators share
 *   (compat isadiff and vdiff, vm verifier_soundness, jit test_jit_diff):
 *   an instruction buffer with a limit (emits past it are dropped and
 *   counted, never written out of bounds), the generator's struct sl_rng,
 *   forward jumps patched when they land, bpf-to-bpf call sites patched
 *   when the callee is placed, lddw, the operator tables and the corner
 *   values the generators draw immediates from, and a disassembly dump.
 *   What each generator builds (its modes: straight-line ISA programs,
 *   packet-access programs, almost-safe programs, JIT idioms) stays in
 *   its test; everything below it lives here once.
 * - Kernel side (libbpf; BPF_PROG_LOAD and BPF_PROG_TEST_RUN): raw
 *   instructions or one program of an ELF object, and a test run. The
 *   kernel is the oracle; sl_test_kernel_refuses() tells "no privileges
 *   here" (exit 77) from a verdict.
 * - Sluice side: open an object or raw instructions, find a program by
 *   function name, verify, prepare, optionally JIT-compile, and run on an
 *   XDP frame laid out as `sluice test-run` and the kernel lay it out.
 */
#ifndef SL_TEST_BPF_H
#define SL_TEST_BPF_H

#include <linux/bpf.h>

#include "sl_jit.h"
#include "sl_test.h"
#include "sl_vm.h"

/* ---- random-program builder ---- */

#define SL_TGEN_MAX 1024
#define SL_TGEN_MAX_CALLS 16

struct sl_tgen {
	struct bpf_insn insns[SL_TGEN_MAX];
	unsigned n;
	unsigned limit;     /**< emits stop here (0: SL_TGEN_MAX) */
	unsigned dropped;   /**< emits refused at the limit */
	struct sl_rng rng;
	unsigned calls[SL_TGEN_MAX_CALLS];  /**< pcs of calls to patch (sl_tgen_call) */
	unsigned ncalls;
};

/** An empty builder drawing from @p rng. */
void sl_tgen_init(struct sl_tgen *g, struct sl_rng rng, unsigned limit);
/** Append one instruction (dropped, and counted, at the limit). */
void sl_tgen_emit(struct sl_tgen *g, uint8_t code, uint8_t dst, uint8_t src, int16_t off,
		  int32_t imm);
/** lddw @p dst = @p v (two slots), @p src a BPF_PSEUDO_* kind or 0. */
void sl_tgen_lddw(struct sl_tgen *g, uint8_t dst, uint8_t src, uint64_t v);
/** A forward jump with off 0; @return its pc for sl_tgen_land(). */
unsigned sl_tgen_jmp_fwd(struct sl_tgen *g, uint8_t code, uint8_t dst, uint8_t src, int32_t imm);
/** Make the jump at @p pc land on the next instruction emitted. */
void sl_tgen_land(struct sl_tgen *g, unsigned pc);
/** A bpf-to-bpf call whose target sl_tgen_patch_calls() fills in; false when full. */
bool sl_tgen_call(struct sl_tgen *g);
/** Point every call of sl_tgen_call() at pc @p callee. */
void sl_tgen_patch_calls(struct sl_tgen *g, unsigned callee);

/** Random draws from the builder's generator. */
static inline uint64_t sl_tgen_u64(struct sl_tgen *g) { return sl_rng_u64(&g->rng); }
static inline unsigned sl_tgen_pick(struct sl_tgen *g, unsigned n) { return sl_rng_below(&g->rng, n); }
static inline bool sl_tgen_chance(struct sl_tgen *g, unsigned pct) { return sl_rng_chance(&g->rng, pct); }

/** A 32-bit immediate: one time in 3 random, else a corner value (0, -1, INT_MIN, 0xffff, ...). */
int32_t sl_tgen_imm(struct sl_tgen *g);

/** ALU operators (ADD..ARSH, without NEG and END), jump conditions (without JA), sizes. */
extern const uint8_t sl_tgen_alu_ops[12];
extern const uint8_t sl_tgen_jmp_ops[11];
extern const uint8_t sl_tgen_sizes[4];       /* BPF_B, BPF_H, BPF_W, BPF_DW */
extern const unsigned sl_tgen_size_bytes[4]; /* 1, 2, 4, 8 */

/** Disassemble insns[@p from..n) to @p f, "  %4u: insn" per line. */
void sl_tgen_dump(const struct bpf_insn *insns, unsigned n, unsigned from, FILE *f);

/* ---- kernel side ---- */

/** Silence libbpf's own messages (the tests print what matters). */
void sl_test_kernel_quiet(void);
/** True when @p err (-errno) means the kernel will not load programs here: skip. */
bool sl_test_kernel_refuses(int err);

/**
 * BPF_PROG_LOAD of @p n raw instructions, license GPL.
 * @param log the verifier's log (level 1), or NULL
 * @return a program fd, or -errno
 */
int sl_test_kernel_load(enum bpf_prog_type type, const char *name, const struct bpf_insn *insns,
			unsigned n, char *log, size_t log_len);

/**
 * Open the ELF object @p path and load only the program named @p only
 * (every program when NULL) with its maps.
 * @param fd set to that program's fd (when @p only is set)
 * @param err set to -errno on failure
 * @return the object (close with bpf_object__close()), or NULL
 */
struct bpf_object *sl_test_kernel_open(const char *path, const char *only, int *fd, int *err);

/**
 * BPF_PROG_TEST_RUN once on @p in.
 * @param out output packet (may be NULL), @p out_len its size in, bytes out
 * @return 0 with *retval set, or -errno
 */
int sl_test_kernel_run(int fd, const void *in, uint32_t in_len, void *out, uint32_t *out_len,
		       uint32_t *retval);

/* ---- sluice side ---- */

/** A program loaded into sluice: object (or raw), program, JIT code, errors. */
struct sl_test_prog {
	struct sl_obj *obj;          /**< NULL for raw programs */
	struct sl_prog *prog;
	struct sl_jit *jit;          /**< NULL unless compiled */
	struct sl_verify_stats st;
	char err[512];
};

/** The program of @p obj whose function name is @p name, or NULL. */
struct sl_prog *sl_test_find_prog(const struct sl_obj *obj, const char *name);

/**
 * Open @p path (ncpus per-CPU slots), find @p name, verify, prepare and,
 * when @p jit, compile. @return 0, or -1 with the reason in s->err.
 */
int sl_test_prog_open(struct sl_test_prog *s, const char *path, const char *name, unsigned ncpus,
		      bool jit);
/** The same from raw instructions (sl_prog_from_raw with mem_size 0). */
int sl_test_prog_raw(struct sl_test_prog *s, const struct bpf_insn *insns, unsigned n,
		     enum sl_prog_type type, bool jit);
/** Free what sl_test_prog_open / _raw made; safe on a zeroed or failed one. */
void sl_test_prog_close(struct sl_test_prog *s);

/**
 * Does @p jit's code call @p fn: a "call rel32" landing on it, or its
 * address as an immediate (movabs, then call through a register)?
 */
bool sl_test_jit_calls(const struct sl_jit *jit, const void *fn);

/** Run on @p ctx: the JIT code when @p jit (must be compiled), else the interpreter. */
uint64_t sl_test_prog_exec(struct sl_test_prog *s, void *ctx, bool jit);

/**
 * Lay out an XDP frame in @p buf: @p headroom bytes, the @p len packet
 * bytes (data = data_meta), @p tailroom bytes up to data_hard_end;
 * ingress_ifindex @p ifindex. @p zero: clear headroom..tailroom first.
 * The caller's buf holds headroom + len + tailroom bytes.
 */
void sl_test_xdp_frame(struct sl_xdp_ctx *x, uint8_t *buf, size_t headroom, const void *pkt,
		       uint32_t len, size_t tailroom, bool zero, uint32_t ifindex);

#endif
