/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The sluice verifier: proof that a program is safe to run without any
 * run-time check, accepting what the Linux verifier accepts for XDP and
 * socket-filter programs (within sluice's helpers and maps).
 *
 * Model. Abstract interpretation along every path, like the kernel's
 * verifier (Documentation/bpf/verifier.rst). A state is one frame per active
 * call: eleven registers and the frame's stack. A register is NOT_INIT, a
 * SCALAR (known bits as a tnum, plus signed and unsigned ranges in 64 and in
 * 32 bits), or a pointer: CTX, PKT / PKT_META (fixed offset, variable part,
 * id, range proven against data_end), PKT_END, STACK (frame, offset),
 * MAP_VALUE, MAP_VALUE_OR_NULL (id shared by all copies, resolved by a null
 * check on either branch), CONST_PTR_TO_MAP, MEM / MEM_OR_NULL (raw
 * programs' r1, ringbuf reservations). Stack bytes are INVALID, MISC, ZERO
 * or SPILL; an aligned spill keeps the whole register.
 *
 * Passes.
 *  1. CFG (verifier_cfg.c): opcodes, jumps, lddw, subprograms, reachability,
 *     recursion, loop heads and prune points.
 *  2. Liveness and precision (verifier_live.c): per instruction, which
 *     registers and stack slots may still be read, and which scalars may
 *     still decide something (branches, pointer arithmetic, sizes,
 *     divisors). Pruning ignores the others.
 *  3. The walk (this file, verifier_insn.c, verifier_mem.c,
 *     verifier_call.c): depth-first over every path with a stack of pending
 *     branch states. Conditional jumps refine both operands on each branch;
 *     a branch made impossible by the ranges is not explored (so bounded
 *     loops end). At prune points the state is compared with stored ones
 *     (verifier_state.c): a state contained in a finished one is pruned; an
 *     exact repeat of a state still on the path is an infinite loop. More
 *     than 1,000,000 processed instructions is "too complex" (-E2BIG).
 *  4. After the walk: combined stack of each call chain <= 512 bytes, at most
 *     8 frames; context loads rewritten (verifier_ctx.c); prog->aux and
 *     prog->subprogs filled for the JIT.
 *  The walk records facts that pass 2 must assume (stack reached through a
 *  derived pointer, pointer arithmetic with a register); when it learns a
 *  new one, passes 2-3 are run again with it (at most a few times, then
 *  pass 2 assumes the worst everywhere).
 *
 * Rejected: unknown opcodes and reserved fields, jumps out of the program or
 * into an lddw, fall-through off the end, unreachable code, recursion, calls
 * deeper than 8 frames, stack over 512 bytes (or combined over 512), reads
 * of uninitialised registers or stack, writes to r10, out-of-bounds or
 * unproven packet / map value / memory / context accesses, writes to
 * read-only context fields, dereference of a pointer that may be null,
 * pointer arithmetic other than pointer +/- scalar (and packet pointer
 * differences), pointers stored into maps, packets or the context, pointer
 * returned from the program, helper arguments that do not match the
 * prototype, helpers the program type may not call, unreleased ringbuf
 * reservations, infinite loops and programs too complex to verify.
 * Division by zero is defined behaviour (RFC 9669) and is not rejected.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "verifier_internal.h"

#define V_MAX_RESTARTS 3

static int init_state(struct venv *env)
{
	struct vframe *f;

	env->cur = v_state_new(0);
	if (!env->cur)
		return -ENOMEM;
	f = env->cur->frames[0];
	v_reg_mark_const(&f->regs[BPF_REG_10], 0);
	f->regs[BPF_REG_10].type = V_STACK;
	v_reg_mark_const(&f->regs[BPF_REG_1], 0);
	if (env->prog->type == SL_PROG_RAW) {
		f->regs[BPF_REG_1].type = V_MEM;
		f->regs[BPF_REG_1].mem_size = env->prog->mem_size;
		v_reg_mark_unknown(&f->regs[BPF_REG_2]);
	} else {
		f->regs[BPF_REG_1].type = V_CTX;
	}
	env->insn_idx = 0;
	env->prev_idx = 0;
	return 0;
}

/* End of a path: take the next pending branch. Returns 1 when none is left. */
static int next_path(struct venv *env)
{
	v_path_done(env);
	if (v_pop_branch(env) == -ENOENT)
		return 1;
	if (env->flags & SL_VERIFY_LOG_STATES)
		v_log(env, "from %u to %u:\n", env->prev_idx, env->insn_idx);
	return 0;
}

static int do_check(struct venv *env)
{
	int err = init_state(env);

	while (!err) {
		uint32_t pc = env->insn_idx;
		bool prune = false, done = false;

		if (++env->processed > V_COMPLEXITY_LIMIT)
			return v_err(env, -E2BIG, "BPF program is too large. Processed %llu insn",
				     (unsigned long long)env->processed);
		env->stored_since++;
		err = v_is_state_visited(env, pc, &prune);
		if (err)
			break;
		if (prune) {
			if (env->flags & SL_VERIFY_LOG_STATES)
				v_log(env, "%u: safe\n", pc);
			if (next_path(env))
				return 0;
			continue;
		}
		env->ia[pc].flags |= IA_SEEN;
		v_log_state(env, pc);
		env->prev_idx = pc;
		err = v_do_insn(env, &done);
		if (!err && done && next_path(env))
			return 0;
	}
	if (err && !env->err)
		env->err = err;
	return err;
}

static void env_reset_walk(struct venv *env)
{
	while (env->npend)
		v_state_free(env->pend[--env->npend].st);
	v_state_free(env->cur);
	env->cur = NULL;
	v_free_explored(env);
	for (uint32_t s = 0; s < env->nsub; s++)
		env->sub[s].stack_depth = 0;
	for (uint32_t pc = 0; pc < env->n; pc++) {
		env->ia[pc].flags &= (uint16_t)~(IA_SEEN | IA_MAP_POISON | IA_DIV_ZERO);
		env->ia[pc].ctx_field = 0;
		env->ia[pc].ptr_type = 0;
	}
	env->processed = 0;
	env->nstates = 0;
	env->id_gen = 0;
	env->restart = false;
}

static void env_free(struct venv *env)
{
	env_reset_walk(env);
	free(env->pend);
	for (uint32_t s = 0; s < env->nsub; s++) {
		free(env->sub[s].callees);
		free(env->sub[s].callsites);
	}
	free(env->sub);
	free(env->ia);
}

/* Fill prog->aux and prog->subprogs, rewrite context loads. */
static int finish(struct venv *env)
{
	struct sl_prog *prog = env->prog;
	struct sl_subprog *subs = calloc(env->nsub, sizeof(*subs));

	if (!subs)
		return -ENOMEM;
	for (uint32_t s = 0; s < env->nsub; s++) {
		subs[s].start = env->sub[s].start;
		subs[s].end = env->sub[s].end;
		subs[s].stack_depth = env->sub[s].stack_depth;
	}
	free(prog->subprogs);
	prog->subprogs = subs;
	prog->n_subprogs = env->nsub;
	for (uint32_t pc = 0; pc < env->n; pc++) {
		const struct bpf_insn *in = &env->insns[pc];
		uint8_t op = SL_OP_CODE(in->code), cls = SL_OP_CLASS(in->code);

		prog->aux[pc].seen = (env->ia[pc].flags & IA_SEEN) != 0;
		prog->aux[pc].ctx_access = 0;
		prog->aux[pc].nonzero_div = 0;
		if ((cls == BPF_ALU || cls == BPF_ALU64) && (op == BPF_DIV || op == BPF_MOD) &&
		    (SL_OP_SRC(in->code) == BPF_X ? !(env->ia[pc].flags & IA_DIV_ZERO) : in->imm != 0))
			prog->aux[pc].nonzero_div = prog->aux[pc].seen;
	}
	v_ctx_rewrite(env);
	prog->verified = true;
	return 0;
}

static int verify(struct venv *env)
{
	int err = v_check_cfg(env);

	for (int round = 0; !err; round++) {
		/* maps of helper calls are recorded again by each walk; kept after it for the JIT */
		for (uint32_t pc = 0; pc < env->n; pc++)
			env->prog->aux[pc].map = NULL;
		err = v_compute_liveness(env, round >= V_MAX_RESTARTS);
		if (!err)
			err = do_check(env);
		if (err || !env->restart || round >= V_MAX_RESTARTS)
			break;
		if (env->flags & SL_VERIFY_LOG_STATES)
			v_log(env, "restarting: new facts for liveness\n");
		env_reset_walk(env);
	}
	if (!err)
		err = v_check_stack_chain(env);
	if (!err)
		err = finish(env);
	return err;
}

int sl_prog_verify(struct sl_prog *prog, unsigned flags, struct sl_verify_stats *stats,
		   char *log, size_t log_len)
{
	struct venv env = { 0 };
	struct timespec t0, t1;
	int err;

	if (log && log_len)
		log[0] = 0;
	if (!prog || !prog->insns || !prog->n_insns)
		return -EINVAL;
	if (prog->verified)
		return 0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (!prog->aux) {
		prog->aux = calloc(prog->n_insns, sizeof(*prog->aux));
		if (!prog->aux)
			return -ENOMEM;
	}
	env.prog = prog;
	env.insns = prog->insns;
	env.n = prog->n_insns;
	env.flags = flags;
	env.log = log;
	env.log_len = log_len;
	env.ia = calloc(env.n, sizeof(*env.ia));
	err = env.ia ? verify(&env) : -ENOMEM;
	if (err == -ENOMEM && !env.err)
		v_err(&env, -ENOMEM, "out of memory");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (stats) {
		stats->insns = prog->n_insns;
		stats->insns_processed = (uint32_t)env.processed;
		stats->states = env.nstates;
		stats->ns = (uint64_t)(t1.tv_sec - t0.tv_sec) * 1000000000ull +
			    (uint64_t)(t1.tv_nsec - t0.tv_nsec);
	}
	env_free(&env);
	/* the interpreter's form, built here so that workers never build it */
	if (!err)
		err = sl_vm_prepare(prog, log, log_len);
	return err;
}
