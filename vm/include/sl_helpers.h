/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file sl_helpers.h
 * The helper table: kernel helper id (enum bpf_func_id) -> prototype and
 * implementation. The verifier checks calls against the prototype; the
 * interpreter and the JIT call the function directly.
 */
#ifndef SL_HELPERS_H
#define SL_HELPERS_H

#include <stdbool.h>
#include <stdint.h>

#include "sl_vm.h"

/** Helper implementation: five u64 arguments, u64 result (kernel convention). */
typedef uint64_t (*sl_helper_fn)(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5);

/** Argument kinds, after the kernel's enum bpf_arg_type. */
enum sl_arg_type {
	SL_ARG_NONE = 0,              /**< argument not used */
	SL_ARG_ANYTHING,              /**< any initialized value (scalar, or a pointer the verifier allows) */
	SL_ARG_CONST_MAP_PTR,         /**< a map (lddw pseudo map) */
	SL_ARG_PTR_TO_MAP_KEY,        /**< readable memory of key_size bytes */
	SL_ARG_PTR_TO_MAP_VALUE,      /**< readable memory of value_size bytes */
	SL_ARG_PTR_TO_MEM,            /**< readable memory, size in the next argument */
	SL_ARG_PTR_TO_UNINIT_MEM,     /**< writable memory, size in the next argument */
	SL_ARG_CONST_SIZE,            /**< size > 0 of the previous memory argument */
	SL_ARG_CONST_SIZE_OR_ZERO,    /**< size >= 0 of the previous memory argument */
	SL_ARG_PTR_TO_CTX,            /**< the context r1 held at entry */
	SL_ARG_PTR_TO_ALLOC_MEM,      /**< memory from bpf_ringbuf_reserve */
	SL_ARG_CONST_ALLOC_SIZE_OR_ZERO, /**< size of a ringbuf reservation */
	/**
	 * readable memory, size in the next argument (a SL_ARG_CONST_SIZE_OR_ZERO),
	 * or NULL (a known-zero scalar) when that size is 0 (kernel
	 * ARG_PTR_TO_MEM | PTR_MAYBE_NULL)
	 */
	SL_ARG_PTR_TO_MEM_OR_NULL,
	/** a callback: lddw BPF_PSEUDO_FUNC of a subprogram (bpf_loop) */
	SL_ARG_PTR_TO_FUNC,
	/** the callback's context: a pointer into the stack, or NULL */
	SL_ARG_PTR_TO_STACK_OR_NULL,
};

/** Return kinds, after the kernel's enum bpf_return_type. */
enum sl_ret_type {
	SL_RET_INTEGER = 0,
	SL_RET_VOID,
	SL_RET_PTR_TO_MAP_VALUE_OR_NULL,
	SL_RET_PTR_TO_ALLOC_MEM_OR_NULL,
};

/** One helper: prototype and implementation. */
struct sl_helper {
	const char *name;           /**< "bpf_map_lookup_elem" */
	sl_helper_fn fn;
	enum sl_ret_type ret;
	enum sl_arg_type args[5];
	uint32_t prog_types;        /**< bit (1u << enum sl_prog_type) for each type allowed */
	/**
	 * memory arguments may not point into the packet ("helper access to
	 * the packet is not allowed": the kernel prototype has no pkt_access)
	 */
	bool no_pkt_mem;
};

/**
 * What lddw BPF_PSEUDO_FUNC (a subprogram's address) loads, in every
 * engine: a descriptor that helpers taking a callback (bpf_loop) call with
 * the callback's r1 and r2; it returns the callback's r0. Owned by the
 * engine's compiled form of the program (interpreter: prog->vm_code; JIT:
 * struct sl_jit) and valid as long as that is.
 */
struct sl_callback {
	uint64_t (*call)(const struct sl_callback *cb, uint64_t r1, uint64_t r2);
	const void *engine;   /**< interpreter: the program; JIT: the function's code */
	uint32_t pc;          /**< interpreter: the subprogram's first instruction */
};

/** bpf_loop's limit on nr_loops (the kernel's BPF_MAX_LOOPS). */
#define SL_MAX_LOOPS (1u << 23)

/** Highest helper id the table can hold. */
#define SL_HELPER_MAX 256

/**
 * The helper with kernel id @p id, or NULL when sluice does not provide it.
 */
const struct sl_helper *sl_helper_get(uint32_t id);

/**
 * Redirect target left by bpf_redirect / bpf_redirect_map for the packet
 * being processed on this thread (worker: thread-local, no locks). The
 * engine reads it after an XDP_REDIRECT verdict.
 */
struct sl_redirect {
	uint32_t ifindex;       /**< target port */
	uint32_t flags;
	struct sl_map *map;     /**< devmap used, or NULL for bpf_redirect */
	/**
	 * The kernel's ri->tgt_index: the last bpf_redirect's ifindex or
	 * bpf_redirect_map hit's key. A bpf_redirect_map miss turns the state
	 * into bpf_redirect(tgt_index) (ifindex = tgt_index, map = NULL).
	 */
	uint32_t tgt_index;
};

/** This thread's redirect state. */
struct sl_redirect *sl_helper_redirect(void);

/**
 * Set this thread's virtual clock: from now on bpf_ktime_get_ns,
 * bpf_ktime_get_boot_ns and bpf_ktime_get_coarse_ns return @p ns on this
 * thread (a replay sets each packet's capture time; tests make runs
 * repeatable). Any thread.
 */
void sl_helper_clock_set(uint64_t ns);
/** Back to the real clocks on this thread. */
void sl_helper_clock_real(void);

/** Ring slots per worker for bpf_trace_printk: the last SL_TRACE_RING - 1 messages are kept. */
#define SL_TRACE_RING 16
/** Longest bpf_trace_printk message kept, including the NUL. */
#define SL_TRACE_MSG 128

/**
 * Drain the bpf_trace_printk messages written since the last drain, per
 * worker slot in order (control thread, one drainer). Messages are
 * truncated to SL_TRACE_MSG - 1 bytes.
 * @param cb    called once per message with the worker slot and the text
 * @param lost  if not NULL, incremented by messages overwritten before
 *              they could be drained
 * @return messages handed to @p cb
 */
unsigned sl_helper_trace_drain(void (*cb)(uint32_t cpu, const char *msg, void *ctx), void *ctx,
			       uint64_t *lost);

/**
 * Same as sl_helper_trace_drain(), with each message's time: the
 * CLOCK_MONOTONIC nanoseconds (bpf_ktime_get_ns's clock) at which the
 * worker wrote it.
 */
unsigned sl_helper_trace_drain_ns(void (*cb)(uint32_t cpu, uint64_t ns, const char *msg,
					     void *ctx), void *ctx, uint64_t *lost);

#endif /* SL_HELPERS_H */
