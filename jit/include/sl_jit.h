/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file sl_jit.h
 * x86-64 compiler of verified sluice programs.
 */
#ifndef SL_JIT_H
#define SL_JIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sl_vm.h"

/** Entry of compiled code: r1 = ctx, r2 = second argument (raw programs: length). */
typedef uint64_t (*sl_jit_fn)(void *ctx, uint64_t r2);

/**
 * Options of sl_jit_compile(). Zero-initialise; fields may be added at the
 * end; sz is checked as sl_opts.h says (a longer struct asking for unknown
 * options fails with EINVAL).
 */
struct sl_jit_opts {
	size_t sz;
	bool blind_constants;  /**< constant blinding for untrusted programs */
	/** Do not use BMI2 (shlx/shrx/sarx) even when the CPU has it: tests the cl path. */
	bool no_bmi2;
	/**
	 * Call helpers with movabs + call r11 even where "call rel32" reaches
	 * them (the code is mapped within +-2 GiB of them when it can be):
	 * tests the path taken when it cannot.
	 */
	bool far_calls;
};

struct sl_jit;

/**
 * Compile a verified program. Control thread; allocates and maps code
 * pages, which are never writable and executable at once. Sets
 * prog->jit_tail_entry (the entry that tail calls from other compiled
 * programs jump to). When the program makes tail calls, the verified
 * programs already in its PROG_ARRAYs that have no JIT code are compiled
 * with it (and freed with it), so its tail calls jump from JIT code to
 * JIT code; a program put into a slot later runs in the interpreter
 * unless it is compiled too. One compiled copy serves every worker:
 * per-CPU map slots are read from sl_map_cpu at run time. The code must
 * be freed only once no thread can still be running it.
 * @param prog    verified program (prog->verified); only jit_tail_entry is written
 * @param opts    options, or NULL for the defaults
 * @param log     caller's buffer for one error line ("pc 12: ..."), may be NULL
 * @param log_len its size
 * @return compiled code (free with sl_jit_free), or NULL with errno:
 *         EINVAL (program not verified, malformed instruction), ENOTSUP
 *         (instruction or helper the JIT does not handle), ENOMEM.
 */
struct sl_jit *sl_jit_compile(struct sl_prog *prog, const struct sl_jit_opts *opts,
			      char *log, size_t log_len);

/**
 * Entry point of compiled code: call it as entry(ctx, r2) from any thread;
 * it returns r0. Worker: no locks, no allocation.
 */
sl_jit_fn sl_jit_entry(const struct sl_jit *jit);

/** Bytes of machine code. */
size_t sl_jit_code_size(const struct sl_jit *jit);

/** Start of the machine code (read-only, executable pages), e.g. to dump or inspect it. */
const void *sl_jit_code(const struct sl_jit *jit);

/**
 * Where the burst entry finds a packet in the engine's packet descriptor
 * (a DPDK rte_mbuf): byte offsets, so that jit/ needs no DPDK header.
 */
struct sl_jit_burst_layout {
	uint16_t buf_addr;  /**< void *: start of the buffer */
	uint16_t data_off;  /**< uint16_t: the packet starts at buf_addr + data_off */
	uint16_t data_len;  /**< uint16_t: bytes of its first segment */
	/** fill ctx.data, data_meta (= data) and data_end per packet; else none */
	bool bounds;
	/**
	 * with bounds: prefetch the data of the packet this many ahead (0: no
	 * prefetch); the descriptor array must then hold that many valid
	 * descriptors past end
	 */
	uint8_t prefetch;
	/**
	 * with prefetch: prefetch at that packet's descriptor + prefetch_at
	 * (where a received packet's data usually is: one load instead of
	 * the three of buf_addr + data_off; a prefetch is only a hint), or,
	 * 0, at its data
	 */
	uint16_t prefetch_at;
};

/**
 * One call of a burst entry: the program runs on *cur, cur[1], ... up to
 * end, in order, and stops after the first packet that is not a plain
 * XDP_PASS; cur then points at that packet (or equals end), and the entry
 * returns that packet's r0 (XDP_PASS when it ran them all). ctx is the
 * program's context (r1): the caller fills the fields that are the same
 * for the whole burst; the entry fills the per-packet ones the layout
 * asks for.
 */
struct sl_jit_burst {
	struct sl_xdp_ctx ctx;
	void *const *cur;
	void *const *end;
};

/** A burst entry: the program's code inside a loop over packets (burst.c). */
typedef uint64_t (*sl_jit_burst_fn)(struct sl_jit_burst *b);

/**
 * The burst entry of XDP program code @p jit, compiled on the first call
 * (with @p jit's options) and kept with @p jit (sl_jit_free frees both):
 * the program's code emitted inside a loop over the packets of a burst,
 * each program exit jumping to the loop's test instead of returning, so a
 * run of passes costs no call, no return and no context built by the
 * caller. Only for a program that can move no packet bounds (no helper
 * takes the context, no tail calls: the caller's business, see
 * sl_exec.xdp_ctx in the engine) and whose main function saves no
 * callee-saved register (the loop keeps its state there). Control thread.
 * @return the entry, or NULL with errno: ENOTSUP (not such a program),
 *         ENOMEM; the per-packet entry stays usable either way.
 */
sl_jit_burst_fn sl_jit_burst_entry(struct sl_jit *jit, const struct sl_jit_burst_layout *layout);

/**
 * Unmap the code and that of the tail-call targets compiled with it;
 * clears each program's jit_tail_entry if it points there. NULL is allowed.
 */
void sl_jit_free(struct sl_jit *jit);

#endif /* SL_JIT_H */
