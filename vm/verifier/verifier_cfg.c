/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Verifier pass 1: the control-flow graph, before any state is tracked.
 *
 *  - every instruction has a known opcode and zero reserved fields;
 *  - lddw is complete and its second half is never a jump target;
 *  - subprograms start at insn 0, at every BPF_PSEUDO_CALL target and at
 *    every BPF_PSEUDO_FUNC lddw target (a callback: an edge of the call
 *    graph and of reachability, like a call; a prune point); a
 *    subprogram ends where the next starts, its last instruction is an exit
 *    or a jump, and no jump leaves it;
 *  - every instruction is reachable from insn 0 (calls count as edges);
 *  - the call graph has no cycle (no recursion);
 *  - back-edges are allowed (bounded loops); their targets are marked as
 *    loop heads, where the walk always stores a state (infinite loops);
 *  - prune points: jump targets, conditional jumps and the return points of
 *    calls.
 * After the walk, v_check_stack_chain() bounds the combined stack of every
 * chain of calls (the kernel's check_max_stack_depth).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "verifier_internal.h"

/* ---- opcode validation ---- */

static bool alu_op_ok(uint8_t op)
{
	switch (op) {
	case BPF_ADD: case BPF_SUB: case BPF_MUL: case BPF_DIV: case BPF_OR:
	case BPF_AND: case BPF_LSH: case BPF_RSH: case BPF_NEG: case BPF_MOD:
	case BPF_XOR: case BPF_MOV: case BPF_ARSH: case BPF_END:
		return true;
	}
	return false;
}

static const char *check_alu(const struct bpf_insn *in)
{
	uint8_t op = SL_OP_CODE(in->code);
	bool x = SL_OP_SRC(in->code) == BPF_X;
	bool is64 = SL_OP_CLASS(in->code) == BPF_ALU64;

	if (!alu_op_ok(op))
		return "invalid BPF_ALU opcode";
	if (op == BPF_END) {
		if (in->src_reg || in->off || (in->imm != 16 && in->imm != 32 && in->imm != 64))
			return "BPF_END uses reserved fields";
		if (is64 && x)
			return "invalid BPF_END opcode";
		return NULL;
	}
	if (op == BPF_NEG)
		return (x || in->src_reg || in->off || in->imm) ? "BPF_NEG uses reserved fields" : NULL;
	if (x ? in->imm != 0 : in->src_reg != 0)
		return "BPF_ALU uses reserved fields";
	if (op == BPF_DIV || op == BPF_MOD)
		return (in->off == 0 || (in->off == 1 && is64) || (in->off == 1 && !is64))
		       ? NULL : "BPF_ALU uses reserved fields";
	if (op == BPF_MOV && x && in->off)
		return (in->off == 8 || in->off == 16 || (in->off == 32 && is64))
		       ? NULL : "BPF_MOV uses reserved fields";
	return in->off ? "BPF_ALU uses reserved fields" : NULL;
}

static const char *check_ldst(const struct bpf_insn *in, const struct bpf_insn *next)
{
	uint8_t cls = SL_OP_CLASS(in->code), mode = SL_OP_MODE(in->code);
	uint8_t size = SL_OP_SIZE(in->code);

	switch (cls) {
	case BPF_LD:
		if (mode == BPF_IMM) {
			if (size != BPF_DW)
				return "invalid BPF_LD_IMM insn";
			if (!next)
				return "invalid bpf_ld_imm64 insn";
			if (next->code || next->dst_reg || next->src_reg || next->off || in->off)
				return "invalid bpf_ld_imm64 insn";
			return NULL;
		}
		if (mode != BPF_ABS && mode != BPF_IND)
			return "unknown opcode";
		if (in->dst_reg || in->off || size == BPF_DW || (mode == BPF_ABS && in->src_reg))
			return "BPF_LD_[ABS|IND] uses reserved fields";
		return NULL;
	case BPF_LDX:
		if (mode != BPF_MEM && mode != BPF_MEMSX)
			return "unknown opcode";
		if (mode == BPF_MEMSX && size == BPF_DW)
			return "unknown opcode";
		return in->imm ? "BPF_LDX uses reserved fields" : NULL;
	case BPF_ST:
		if (mode != BPF_MEM)
			return "unknown opcode";
		return in->src_reg ? "BPF_ST uses reserved fields" : NULL;
	default: /* BPF_STX */
		if (mode == BPF_MEM)
			return in->imm ? "BPF_STX uses reserved fields" : NULL;
		if (mode != BPF_ATOMIC || (size != BPF_W && size != BPF_DW))
			return "unknown opcode";
		switch (in->imm) {
		case BPF_ADD: case BPF_ADD | BPF_FETCH: case BPF_AND: case BPF_AND | BPF_FETCH:
		case BPF_OR: case BPF_OR | BPF_FETCH: case BPF_XOR: case BPF_XOR | BPF_FETCH:
		case BPF_XCHG: case BPF_CMPXCHG:
			return NULL;
		}
		return "BPF_ATOMIC uses invalid atomic opcode";
	}
}

static const char *check_jmp(const struct bpf_insn *in)
{
	uint8_t op = SL_OP_CODE(in->code);
	bool x = SL_OP_SRC(in->code) == BPF_X;
	bool j32 = SL_OP_CLASS(in->code) == BPF_JMP32;

	switch (op) {
	case BPF_JA:
		if (x || in->src_reg || in->dst_reg)
			return "BPF_JA uses reserved fields";
		if (j32 ? in->off != 0 : in->imm != 0)
			return "BPF_JA uses reserved fields";
		return NULL;
	case BPF_CALL:
		if (j32 || x || in->off || in->dst_reg)
			return "BPF_CALL uses reserved fields";
		if (in->src_reg == BPF_PSEUDO_KFUNC_CALL)
			return "calling kernel functions is not supported";
		if (in->src_reg != 0 && in->src_reg != BPF_PSEUDO_CALL)
			return "BPF_CALL uses reserved fields";
		return NULL;
	case BPF_EXIT:
		if (j32 || x || in->src_reg || in->dst_reg || in->off || in->imm)
			return "BPF_EXIT uses reserved fields";
		return NULL;
	case BPF_JEQ: case BPF_JGT: case BPF_JGE: case BPF_JSET: case BPF_JNE:
	case BPF_JSGT: case BPF_JSGE: case BPF_JLT: case BPF_JLE: case BPF_JSLT: case BPF_JSLE:
		if (x ? in->imm != 0 : in->src_reg != 0)
			return "BPF_JMP/JMP32 uses reserved fields";
		return NULL;
	}
	return "unknown opcode";
}

static const char *check_insn(const struct bpf_insn *in, const struct bpf_insn *next)
{
	if (in->dst_reg >= SL_NREGS || in->src_reg >= SL_NREGS) {
		if (!(SL_OP_CLASS(in->code) == BPF_LD && SL_OP_MODE(in->code) == BPF_IMM &&
		      in->dst_reg < SL_NREGS) && !(SL_OP_CLASS(in->code) == BPF_JMP &&
		      SL_OP_CODE(in->code) == BPF_CALL))
			return "invalid register number";
	}
	switch (SL_OP_CLASS(in->code)) {
	case BPF_ALU:
	case BPF_ALU64:
		return check_alu(in);
	case BPF_JMP:
	case BPF_JMP32:
		return check_jmp(in);
	default:
		return check_ldst(in, next);
	}
}

/* ---- edges ---- */

static bool is_jump(const struct bpf_insn *in)
{
	uint8_t cls = SL_OP_CLASS(in->code), op = SL_OP_CODE(in->code);

	return (cls == BPF_JMP || cls == BPF_JMP32) && op != BPF_CALL && op != BPF_EXIT;
}

static bool is_pseudo_call(const struct bpf_insn *in)
{
	return in->code == (BPF_JMP | BPF_CALL) && in->src_reg == BPF_PSEUDO_CALL;
}

/* lddw of a subprogram's address (a callback for bpf_loop) */
static bool is_func_ref(const struct bpf_insn *in)
{
	return sl_isa_is_lddw(in) && in->src_reg == BPF_PSEUDO_FUNC;
}

static int64_t jump_target(uint32_t pc, const struct bpf_insn *in)
{
	if (in->code == (BPF_JMP32 | BPF_JA))
		return (int64_t)pc + in->imm + 1;
	return (int64_t)pc + in->off + 1;
}

/* Successors of @p pc: up to two; returns their count. */
static unsigned successors(const struct venv *env, uint32_t pc, uint32_t succ[2])
{
	const struct bpf_insn *in = &env->insns[pc];
	uint8_t op = SL_OP_CODE(in->code);
	unsigned n = 0;

	if (is_jump(in)) {
		succ[n++] = (uint32_t)jump_target(pc, in);
		if (op != BPF_JA)
			succ[n++] = pc + 1;
		return n;
	}
	if ((SL_OP_CLASS(in->code) == BPF_JMP) && op == BPF_EXIT)
		return 0;
	if (is_pseudo_call(in) || is_func_ref(in))
		succ[n++] = (uint32_t)(pc + in->imm + 1);
	succ[n++] = pc + (sl_isa_is_lddw(in) ? 2 : 1);
	return n;
}

static int check_insns(struct venv *env)
{
	for (uint32_t pc = 0; pc < env->n; pc++) {
		const struct bpf_insn *in = &env->insns[pc];
		const char *why = check_insn(in, pc + 1 < env->n ? in + 1 : NULL);

		if (why)
			return v_err_at(env, pc, -EINVAL, "%s (code 0x%02x)", why, in->code);
		if (sl_isa_is_lddw(in))
			env->ia[++pc].flags |= IA_LDDW2;
	}
	for (uint32_t pc = 0; pc < env->n; pc++) {
		const struct bpf_insn *in = &env->insns[pc];
		int64_t t;

		if (env->ia[pc].flags & IA_LDDW2)
			continue;
		if (is_jump(in))
			t = jump_target(pc, in);
		else if (is_pseudo_call(in) || is_func_ref(in))
			t = (int64_t)pc + in->imm + 1;
		else
			continue;
		if (t < 0 || t >= env->n)
			return v_err_at(env, pc, -EINVAL, "jump out of range from insn %u to %lld",
					pc, (long long)t);
		if (env->ia[t].flags & IA_LDDW2)
			return v_err_at(env, pc, -EINVAL,
					"jump into the middle of ldimm64 insn %lld", (long long)t);
		if (is_func_ref(in))
			env->ia[t].flags |= IA_CALLBACK | IA_PRUNE;
		if (is_pseudo_call(in) || is_func_ref(in))
			env->ia[t].flags |= IA_CALLSITE;  /* temporarily: subprog start */
		else
			env->ia[t].flags |= IA_JMP_TARGET | IA_PRUNE;
	}
	return 0;
}

/* ---- subprograms ---- */

static int find_subprogs(struct venv *env)
{
	uint32_t n = 1;

	for (uint32_t pc = 1; pc < env->n; pc++)
		if (env->ia[pc].flags & IA_CALLSITE)
			n++;
	env->sub = calloc(n, sizeof(*env->sub));
	if (!env->sub)
		return -ENOMEM;
	env->nsub = n;
	n = 0;
	for (uint32_t pc = 0; pc < env->n; pc++) {
		if (pc == 0 || (env->ia[pc].flags & IA_CALLSITE)) {
			if (n)
				env->sub[n - 1].end = pc;
			env->sub[n++].start = pc;
		}
		env->ia[pc].flags &= (uint16_t)~IA_CALLSITE;
		env->ia[pc].subprog = n - 1;
	}
	env->sub[n - 1].end = env->n;
	for (uint32_t s = 0; s < env->nsub; s++) {
		uint32_t last = env->sub[s].end - 1;
		const struct bpf_insn *in = &env->insns[last];

		if (env->ia[last].flags & IA_LDDW2)
			in--;
		if (in->code != (BPF_JMP | BPF_EXIT) && in->code != (BPF_JMP | BPF_JA) &&
		    in->code != (BPF_JMP32 | BPF_JA))
			return v_err_at(env, last, -EINVAL, "last insn is not an exit or jmp");
	}
	return 0;
}

static uint32_t subprog_of_start(const struct venv *env, uint32_t pc)
{
	return env->ia[pc].subprog;
}

/* Jumps stay inside their subprogram; record the call graph. */
static int check_jumps_in_subprogs(struct venv *env)
{
	for (uint32_t pc = 0; pc < env->n; pc++) {
		const struct bpf_insn *in = &env->insns[pc];
		uint32_t s = env->ia[pc].subprog;

		if (env->ia[pc].flags & IA_LDDW2)
			continue;
		if (is_jump(in)) {
			int64_t t = jump_target(pc, in);

			if (env->ia[t].subprog != s)
				return v_err_at(env, pc, -EINVAL, "jump out of range from insn %u to %lld",
						pc, (long long)t);
		} else if (is_pseudo_call(in) || is_func_ref(in)) {
			struct vsubprog *sp = &env->sub[s];
			uint32_t *c = realloc(sp->callees, (sp->ncallees + 1) * sizeof(*c));
			uint32_t *cs;

			if (!c)
				return -ENOMEM;
			sp->callees = c;
			cs = realloc(sp->callsites, (sp->ncallees + 1) * sizeof(*cs));
			if (!cs)
				return -ENOMEM;
			sp->callsites = cs;
			c[sp->ncallees] = subprog_of_start(env, (uint32_t)(pc + in->imm + 1));
			cs[sp->ncallees++] = pc;
			if (pc + 1 < env->n)
				env->ia[pc + 1].flags |= IA_PRUNE;
		}
	}
	return 0;
}

/* ---- reachability and back-edges: iterative DFS ---- */

enum { DFS_NEW = 0, DFS_ONSTACK, DFS_DONE };

static int dfs(struct venv *env)
{
	uint8_t *color = calloc(env->n, 1);
	uint32_t *stack = malloc(env->n * sizeof(*stack));
	uint8_t *next = calloc(env->n, 1);   /* next successor index to explore */
	uint32_t sp = 0;

	if (!color || !stack || !next) {
		free(color), free(stack), free(next);
		return -ENOMEM;
	}
	stack[sp++] = 0;
	color[0] = DFS_ONSTACK;
	while (sp) {
		uint32_t pc = stack[sp - 1], succ[2];
		unsigned ns = successors(env, pc, succ);

		if (next[pc] >= ns) {
			color[pc] = DFS_DONE;
			sp--;
			continue;
		}
		uint32_t t = succ[next[pc]++];

		if (t >= env->n) {
			/* fall-through off the end: last insn checks make this unreachable */
			free(color), free(stack), free(next);
			return v_err_at(env, pc, -EINVAL, "jump out of range from insn %u to %u", pc, t);
		}
		if (color[t] == DFS_ONSTACK) {
			env->ia[t].flags |= IA_LOOP_HEAD | IA_PRUNE;
		} else if (color[t] == DFS_NEW) {
			color[t] = DFS_ONSTACK;
			stack[sp++] = t;
		}
	}
	int err = 0;

	for (uint32_t pc = 0; pc < env->n && !err; pc++)
		if (!color[pc] && !(env->ia[pc].flags & IA_LDDW2))
			err = v_err_at(env, pc, -EINVAL, "unreachable insn %u", pc);
	free(color), free(stack), free(next);
	return err;
}

/* Call-graph cycles: recursion. */
static int check_recursion(struct venv *env)
{
	uint8_t *color = calloc(env->nsub, 1);
	uint32_t *stack = malloc(env->nsub * sizeof(*stack));
	uint32_t *next = calloc(env->nsub, sizeof(*next));
	uint32_t sp = 0;
	int err = 0;

	if (!color || !stack || !next) {
		free(color), free(stack), free(next);
		return -ENOMEM;
	}
	stack[sp++] = 0;
	color[0] = DFS_ONSTACK;
	while (sp && !err) {
		uint32_t s = stack[sp - 1];
		struct vsubprog *p = &env->sub[s];

		if (next[s] >= p->ncallees) {
			color[s] = DFS_DONE;
			sp--;
			continue;
		}
		uint32_t i = next[s]++, c = p->callees[i];

		if (color[c] == DFS_ONSTACK)
			err = v_err_at(env, p->callsites[i], -EINVAL, "recursive call from insn %u to %u",
				       p->callsites[i], env->sub[c].start);
		else if (color[c] == DFS_NEW) {
			color[c] = DFS_ONSTACK;
			stack[sp++] = c;
		}
	}
	free(color), free(stack), free(next);
	return err;
}

int v_check_cfg(struct venv *env)
{
	int err;

	if (env->n == 0)
		return v_err(env, -EINVAL, "empty program");
	err = check_insns(env);
	if (!err)
		err = find_subprogs(env);
	if (!err)
		err = check_jumps_in_subprogs(env);
	if (!err)
		err = dfs(env);
	if (!err)
		err = check_recursion(env);
	if (err)
		return err;
	for (uint32_t pc = 0; pc < env->n; pc++) {
		const struct bpf_insn *in = &env->insns[pc];

		if (!(env->ia[pc].flags & IA_LDDW2) && is_jump(in) && SL_OP_CODE(in->code) != BPF_JA)
			env->ia[pc].flags |= IA_PRUNE;
	}
	return 0;
}

/* ---- combined stack of call chains ---- */

static uint32_t frame_bytes(const struct vsubprog *sp)
{
	uint32_t d = sp->stack_depth ? sp->stack_depth : 1;

	return (d + 31) & ~31u;   /* the kernel rounds each frame to 32 bytes */
}

/* Deepest chain from @p s: bytes and frames, memoised (the call graph is a DAG). */
static void chain_depth(const struct venv *env, uint32_t s, uint32_t *bytes, uint32_t *frames,
			uint32_t *memo_b, uint32_t *memo_f)
{
	const struct vsubprog *sp = &env->sub[s];
	uint32_t best_b = 0, best_f = 0;

	if (memo_f[s]) {
		*bytes = memo_b[s];
		*frames = memo_f[s];
		return;
	}
	for (uint32_t i = 0; i < sp->ncallees; i++) {
		uint32_t b, f;

		chain_depth(env, sp->callees[i], &b, &f, memo_b, memo_f);
		if (b > best_b)
			best_b = b;
		if (f > best_f)
			best_f = f;
	}
	memo_b[s] = *bytes = best_b + frame_bytes(sp);
	memo_f[s] = *frames = best_f + 1;
}

int v_check_stack_chain(struct venv *env)
{
	uint32_t *mb = calloc(env->nsub, sizeof(*mb)), *mf = calloc(env->nsub, sizeof(*mf));
	uint32_t bytes, frames;
	int err = 0;

	if (!mb || !mf) {
		free(mb), free(mf);
		return -ENOMEM;
	}
	chain_depth(env, 0, &bytes, &frames, mb, mf);
	if (frames > SL_MAX_CALL_DEPTH)
		err = v_err(env, -E2BIG, "the call stack of %u frames is too deep !", frames);
	else if (bytes > SL_STACK_SIZE)
		err = v_err(env, -EACCES, "combined stack size of %u calls is %u. Too large",
			    frames, bytes);
	free(mb), free(mf);
	return err;
}
