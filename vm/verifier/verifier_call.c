/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Calls and exits: helper calls checked against the prototypes of the helper
 * table (sl_helper_get), bpf-to-bpf calls (a new frame that sees the
 * caller's r1-r5), exits (return to the caller, or the end of a path, where
 * r0 must be a scalar and every ringbuf reservation released), and the
 * legacy LD_ABS/LD_IND packet loads of socket filters.
 *
 * bpf_loop: the helper call is checked against its prototype, then the
 * walk forks: one path goes on after the call (no more callback calls),
 * the other enters the callback as a new frame (r1 = a u32 index, r2 =
 * the context pointer). At the callback's exit r0 must be 0 or 1; the
 * path then forks again, after the call and into another call, with the
 * bytes of the stack frame the context points into that differ from what
 * they were at the bpf_loop call widened (scalars to unknown, zeros to
 * misc: the callback changed them, and may again), so that the next entry
 * state is contained in an earlier one and pruned (verifier_state.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sl_maps.h"
#include "verifier_internal.h"

struct call_meta {
	struct sl_map *map;
	bool map_inner;         /* the map argument is an inner map (map = its template) */
	int mem_regno;          /* previous PTR_TO_MEM / UNINIT_MEM argument, -1 none */
	bool mem_uninit;
	bool mem_null;          /* that argument is NULL (SL_ARG_PTR_TO_MEM_OR_NULL) */
	uint64_t alloc_size;
	uint32_t release_ref;
};

/* Helpers after which every packet pointer is stale (bpf_helper_changes_pkt_data). */
static bool changes_pkt_data(int32_t id)
{
	switch (id) {
	case BPF_FUNC_xdp_adjust_head: case BPF_FUNC_xdp_adjust_meta:
	case BPF_FUNC_xdp_adjust_tail: case BPF_FUNC_skb_store_bytes:
	case BPF_FUNC_skb_pull_data: case BPF_FUNC_skb_change_tail:
	case BPF_FUNC_skb_change_head: case BPF_FUNC_skb_change_proto:
	case BPF_FUNC_skb_adjust_room: case BPF_FUNC_skb_vlan_push:
	case BPF_FUNC_skb_vlan_pop: case BPF_FUNC_l3_csum_replace:
	case BPF_FUNC_l4_csum_replace:
		return true;
	}
	return false;
}

/* Map types that only some helpers accept, and helpers that only some map types fit. */
static bool map_func_ok(uint32_t map_type, int32_t func)
{
	bool ok_map = true, ok_func = true;

	switch (map_type) {
	case BPF_MAP_TYPE_PROG_ARRAY:
		ok_map = func == BPF_FUNC_tail_call;
		break;
	case BPF_MAP_TYPE_DEVMAP: case BPF_MAP_TYPE_DEVMAP_HASH: case BPF_MAP_TYPE_XSKMAP:
		ok_map = func == BPF_FUNC_redirect_map || func == BPF_FUNC_map_lookup_elem;
		break;
	case BPF_MAP_TYPE_CPUMAP:
		ok_map = func == BPF_FUNC_redirect_map;
		break;
	case BPF_MAP_TYPE_RINGBUF:
		ok_map = func == BPF_FUNC_ringbuf_output || func == BPF_FUNC_ringbuf_reserve ||
			 func == BPF_FUNC_ringbuf_query;
		break;
	case BPF_MAP_TYPE_PERF_EVENT_ARRAY:
		ok_map = func == BPF_FUNC_perf_event_output;
		break;
	case BPF_MAP_TYPE_ARRAY_OF_MAPS: case BPF_MAP_TYPE_HASH_OF_MAPS:
		ok_map = func == BPF_FUNC_map_lookup_elem;   /* programs only look up */
		break;
	}
	switch (func) {
	case BPF_FUNC_tail_call:
		ok_func = map_type == BPF_MAP_TYPE_PROG_ARRAY;
		break;
	case BPF_FUNC_redirect_map:
		ok_func = map_type == BPF_MAP_TYPE_DEVMAP || map_type == BPF_MAP_TYPE_DEVMAP_HASH ||
			  map_type == BPF_MAP_TYPE_CPUMAP || map_type == BPF_MAP_TYPE_XSKMAP;
		break;
	case BPF_FUNC_ringbuf_output: case BPF_FUNC_ringbuf_reserve: case BPF_FUNC_ringbuf_query:
		ok_func = map_type == BPF_MAP_TYPE_RINGBUF;
		break;
	case BPF_FUNC_perf_event_output:
		ok_func = map_type == BPF_MAP_TYPE_PERF_EVENT_ARRAY;
		break;
	case BPF_FUNC_map_lookup_percpu_elem:
		ok_func = map_type == BPF_MAP_TYPE_PERCPU_ARRAY || map_type == BPF_MAP_TYPE_PERCPU_HASH ||
			  map_type == BPF_MAP_TYPE_LRU_PERCPU_HASH;
		break;
	}
	return ok_map && ok_func;
}

static int arg_size(struct venv *env, uint32_t regno, bool zero_ok, struct call_meta *m)
{
	struct vreg *r = v_reg(env, regno);

	if (r->type != V_SCALAR)
		return v_err(env, -EACCES, "R%u type=%s expected=scalar", regno, v_vtype_str(r->type));
	if (m->mem_regno < 0)
		return v_err(env, -EACCES, "R%u size argument without a memory argument", regno);
	if (r->smin < 0)
		return v_err(env, -EACCES, "R%u min value is negative, either use unsigned or "
			     "'var &= const'", regno);
	if (r->umax >= (uint64_t)V_MAX_VAR_OFF)
		return v_err(env, -EACCES, "R%u unbounded memory access, use 'var &= const' or "
			     "'if (var < const)'", regno);
	if (r->umin == 0 && !zero_ok)
		return v_err(env, -EACCES, "R%u invalid zero-sized read: u64=[%llu,%llu]", regno,
			     (unsigned long long)r->umin, (unsigned long long)r->umax);
	if (m->mem_null)   /* the kernel takes NULL only with a size known to be 0 */
		return r->umax ? v_err(env, -EACCES, "R%d type=scalar expected=fp, pkt, pkt_meta, "
				       "map_value, mem", m->mem_regno) : 0;
	return v_check_helper_mem(env, (uint32_t)m->mem_regno, r->umax, r->umin, zero_ok,
				  m->mem_uninit ? ACC_WRITE : ACC_READ);
}

static int arg_map_mem(struct venv *env, uint32_t regno, bool key, struct call_meta *m)
{
	const struct sl_map_def *def;

	if (!m->map)
		return v_err(env, -EACCES, "invalid map_ptr to access map->%s", key ? "key" : "value");
	def = sl_map_get_def(m->map);
	return v_check_helper_mem(env, regno, key ? def->key_size : def->value_size,
				  key ? def->key_size : def->value_size, false, ACC_READ);
}

static int check_arg(struct venv *env, uint32_t regno, enum sl_arg_type at, struct call_meta *m)
{
	struct vreg *r = v_reg(env, regno);

	if (v_check_reg_read(env, regno))
		return -EACCES;
	switch (at) {
	case SL_ARG_ANYTHING:
		return 0;
	case SL_ARG_CONST_MAP_PTR:
		if (r->type != V_CONST_MAP)
			return v_err(env, -EACCES, "R%u type=%s expected=map_ptr", regno,
				     v_vtype_str(r->type));
		m->map = r->map;
		m->map_inner = r->inner;
		return 0;
	case SL_ARG_PTR_TO_MAP_KEY:
		return arg_map_mem(env, regno, true, m);
	case SL_ARG_PTR_TO_MAP_VALUE:
		return arg_map_mem(env, regno, false, m);
	case SL_ARG_PTR_TO_MEM_OR_NULL:
		m->mem_null = r->type == V_SCALAR && v_reg_is_const(r) && !r->var_off.value;
		if (m->mem_null) {
			m->mem_regno = (int)regno;
			m->mem_uninit = false;
			return 0;
		}
		/* fall through */
	case SL_ARG_PTR_TO_MEM:
	case SL_ARG_PTR_TO_UNINIT_MEM:
		if (r->type != V_STACK && r->type != V_PKT && r->type != V_PKT_META &&
		    r->type != V_MAP_VALUE && r->type != V_MEM)
			return v_err(env, -EACCES, "R%u type=%s expected=fp, pkt, pkt_meta, map_value, mem",
				     regno, v_vtype_str(r->type));
		m->mem_regno = (int)regno;
		m->mem_uninit = at == SL_ARG_PTR_TO_UNINIT_MEM;
		m->mem_null = false;
		return 0;
	case SL_ARG_CONST_SIZE:
	case SL_ARG_CONST_SIZE_OR_ZERO:
		return arg_size(env, regno, at == SL_ARG_CONST_SIZE_OR_ZERO, m);
	case SL_ARG_PTR_TO_CTX:
		if (r->type != V_CTX)
			return v_err(env, -EACCES, "R%u type=%s expected=ctx", regno, v_vtype_str(r->type));
		if (r->off || !v_tnum_is_const(r->var_off) || r->var_off.value)
			return v_err(env, -EACCES, "dereference of modified ctx ptr R%u off=%d disallowed",
				     regno, r->off);
		return 0;
	case SL_ARG_PTR_TO_ALLOC_MEM:
		if (r->type != V_MEM || !r->ref_id)
			return v_err(env, -EACCES, "R%u type=%s expected=alloc_mem", regno,
				     v_vtype_str(r->type));
		if (r->off || !v_tnum_is_const(r->var_off) || r->var_off.value)
			return v_err(env, -EACCES, "R%u must have zero offset when passed to release func",
				     regno);
		m->release_ref = r->ref_id;
		return 0;
	case SL_ARG_PTR_TO_FUNC:
		if (r->type != V_FUNC)
			return v_err(env, -EACCES, "R%u type=%s expected=func", regno,
				     v_vtype_str(r->type));
		return 0;
	case SL_ARG_PTR_TO_STACK_OR_NULL:
		if (r->type == V_SCALAR && v_reg_is_const(r) && !r->var_off.value)
			return 0;
		if (r->type != V_STACK || !v_tnum_is_const(r->var_off))
			return v_err(env, -EACCES, "R%u type=%s expected=fp", regno,
				     v_vtype_str(r->type));
		return 0;
	case SL_ARG_CONST_ALLOC_SIZE_OR_ZERO:
		if (!v_reg_is_const(r))
			return v_err(env, -EACCES, "R%u is not a known constant'", regno);
		m->alloc_size = r->var_off.value;
		return 0;
	default:
		return 0;
	}
}

static bool is_pkt(const struct vreg *r, uint32_t id)
{
	(void)id;
	return r->type == V_PKT || r->type == V_PKT_META || r->type == V_PKT_END;
}

static bool is_ref(const struct vreg *r, uint32_t id)
{
	return r->ref_id == id && (r->type == V_MEM || r->type == V_MEM_OR_NULL);
}

/*
 * Invalidate every pointer that @p match selects, as the kernel's
 * mark_reg_invalid() does for a privileged loader (root has
 * allow_ptr_leaks): registers and spilled copies become unknown scalars.
 * clang may keep a packet pointer computed before bpf_xdp_adjust_head()
 * in a register that is only dead, or only reloaded, after the call; a
 * scalar can never be dereferenced, so this stays safe.
 */
static void invalidate_ptrs(struct vstate *st, bool (*match)(const struct vreg *, uint32_t),
			    uint32_t id)
{
	for (uint32_t i = 0; i <= st->curframe; i++) {
		struct vframe *f = st->frames[i];

		for (unsigned r = 0; r < SL_NREGS; r++)
			if (match(&f->regs[r], id))
				v_reg_mark_unknown(&f->regs[r]);
		for (uint32_t k = 0; k < f->nslots; k++) {
			struct vslot *s = &f->stack[k];

			if (s->type[0] == SLOT_SPILL && match(&s->spill, id))
				v_reg_mark_unknown(&s->spill);
		}
	}
}

/* Forget reservation @p id: every pointer into it becomes unreadable. */
static void release_ref(struct venv *env, uint32_t id)
{
	struct vstate *st = env->cur;

	invalidate_ptrs(st, is_ref, id);
	v_ref_drop(st, id);
}

static int set_return(struct venv *env, const struct sl_helper *h, struct call_meta *m)
{
	struct vreg *r0 = v_reg(env, BPF_REG_0);

	switch (h->ret) {
	case SL_RET_VOID:
		v_reg_mark_not_init(r0);
		return 0;
	case SL_RET_PTR_TO_MAP_VALUE_OR_NULL:
		if (!m->map)
			return v_err(env, -EINVAL, "kernel subsystem misconfigured verifier");
		v_reg_mark_const(r0, 0);
		r0->type = V_MAP_VALUE_OR_NULL;
		r0->map = m->map;
		r0->id = ++env->id_gen;
		if (sl_map_inner_template(m->map)) {   /* map-in-map: the inner map or NULL */
			r0->type = V_CONST_MAP_OR_NULL;
			r0->map = sl_map_inner_template(m->map);
			r0->inner = 1;
		}
		return 0;
	case SL_RET_PTR_TO_ALLOC_MEM_OR_NULL:
		if (env->cur->nrefs >= V_MAX_REFS)
			return v_err(env, -EACCES, "too many outstanding references");
		v_reg_mark_const(r0, 0);
		r0->type = V_MEM_OR_NULL;
		r0->mem_size = (uint32_t)m->alloc_size;
		r0->id = r0->ref_id = ++env->id_gen;
		env->cur->refs[env->cur->nrefs] = r0->id;
		env->cur->ref_insn[env->cur->nrefs++] = env->insn_idx;
		return 0;
	default:
		v_reg_mark_unknown(r0);
		return 0;
	}
}

/* Record the one map a call sees, for the JIT; an inner map (known only
 * by its template) or several maps leave none. */
static void note_map(struct venv *env, struct sl_map *map, bool inner)
{
	struct sl_insn_aux *aux = &env->prog->aux[env->insn_idx];
	struct vinsn *ia = &env->ia[env->insn_idx];

	if (inner) {
		aux->map = NULL;
		ia->flags |= IA_MAP_POISON;
		return;
	}
	if (!map || (ia->flags & IA_MAP_POISON))
		return;
	if (!aux->map) {
		aux->map = map;
	} else if (aux->map != map) {
		aux->map = NULL;
		ia->flags |= IA_MAP_POISON;
	}
}

static bool in_callback(const struct vstate *st);

int v_check_helper_call(struct venv *env, const struct bpf_insn *insn)
{
	const struct sl_helper *h = insn->imm >= 0 ? sl_helper_get((uint32_t)insn->imm) : NULL;
	struct call_meta m = { .mem_regno = -1 };
	int err;

	if (!h)
		return v_err(env, -EINVAL, "invalid func unknown#%d", insn->imm);
	if (!(h->prog_types & (1u << env->prog->type)))
		return v_err(env, -EINVAL, "program of this type cannot use helper %s#%d", h->name,
			     insn->imm);
	for (uint32_t i = 0; i < 5 && h->args[i] != SL_ARG_NONE; i++) {
		enum vtype t = v_reg(env, i + 1)->type;

		if (h->no_pkt_mem && (t == V_PKT || t == V_PKT_META) &&
		    (h->args[i] == SL_ARG_PTR_TO_MEM || h->args[i] == SL_ARG_PTR_TO_UNINIT_MEM ||
		     h->args[i] == SL_ARG_PTR_TO_MEM_OR_NULL))
			return v_err(env, -EACCES, "helper access to the packet is not allowed");
		err = check_arg(env, i + 1, h->args[i], &m);
		if (err)
			return err;
	}
	if (insn->imm == BPF_FUNC_tail_call && in_callback(env->cur))
		return v_err(env, -EINVAL, "tail_call is not allowed in a callback");
	if (insn->imm == BPF_FUNC_tail_call && env->cur->nrefs)   /* a taken tail call never returns */
		return v_err(env, -EINVAL, "tail_call would lead to reference leak");
	if (m.map && !map_func_ok(sl_map_get_def(m.map)->type, insn->imm))
		return v_err(env, -EINVAL, "cannot pass map_type %u into func %s#%d",
			     sl_map_get_def(m.map)->type, h->name, insn->imm);
	note_map(env, m.map, m.map_inner);
	if (m.release_ref)
		release_ref(env, m.release_ref);
	if (changes_pkt_data(insn->imm))
		invalidate_ptrs(env->cur, is_pkt, 0);
	for (unsigned r = BPF_REG_1; r <= BPF_REG_5; r++)
		v_reg_mark_not_init(v_reg(env, r));
	return set_return(env, h, &m);
}

static bool in_callback(const struct vstate *st)
{
	for (uint32_t i = 1; i <= st->curframe; i++)
		if (st->frames[i]->callback)
			return true;
	return false;
}

/* Enter callback @p start from the bpf_loop call at @p callsite: a new frame. */
static int enter_callback(struct venv *env, uint32_t callsite, uint32_t start,
			  const struct vreg *ctx, uint32_t act, struct vslot *snap, uint32_t nsnap)
{
	struct vstate *st = env->cur;
	struct vframe *callee;

	if (!snap && ctx->type == V_STACK && ctx->frameno <= st->curframe &&
	    st->frames[ctx->frameno]->nslots) {   /* first call: remember the ctx frame */
		const struct vframe *f = st->frames[ctx->frameno];

		nsnap = f->nslots;
		snap = malloc(nsnap * sizeof(*snap));
		if (!snap)
			return -ENOMEM;
		memcpy(snap, f->stack, nsnap * sizeof(*snap));
	}

	if (st->curframe + 1 >= SL_MAX_CALL_DEPTH) {
		free(snap);
		return v_err(env, -E2BIG, "the call stack of %u frames is too deep",
			     st->curframe + 2);
	}
	callee = v_frame_new(st->curframe + 1, env->ia[start].subprog, callsite);
	if (!callee) {
		free(snap);
		return -ENOMEM;
	}
	callee->cb_snap = snap;
	callee->cb_nsnap = snap ? nsnap : 0;
	callee->callback = true;
	callee->cb_ctx = *ctx;
	callee->cb_act = act;
	v_reg_mark_unknown(&callee->regs[BPF_REG_1]);
	v_reg_mark_sized(&callee->regs[BPF_REG_1], 4, false);
	callee->regs[BPF_REG_2] = *ctx;
	v_reg_mark_const(&callee->regs[BPF_REG_10], 0);
	callee->regs[BPF_REG_10].type = V_STACK;
	callee->regs[BPF_REG_10].frameno = (uint8_t)callee->frameno;
	st->frames[++st->curframe] = callee;
	env->insn_idx = start;
	return 0;
}

int v_check_loop_call(struct venv *env, const struct bpf_insn *insn)
{
	struct vreg fn = *v_reg(env, BPF_REG_2), ctx = *v_reg(env, BPF_REG_3);
	uint32_t call = env->insn_idx;
	int err;

	if (v_check_helper_call(env, insn))
		return env->err ? env->err : -EINVAL;
	err = v_push_branch(env, call + 1, call, NULL);   /* no callback call (any more) */
	return err ? err : enter_callback(env, call, (uint32_t)fn.off, &ctx, ++env->id_gen, NULL, 0);
}

/* Same bytes and, for a spill, the same register (ids aside)? */
static bool slot_same(const struct vslot *a, const struct vslot *b)
{
	struct vreg x = a->spill, y = b->spill;

	if (memcmp(a->type, b->type, sizeof(a->type)))
		return false;
	if (a->type[0] != SLOT_SPILL)
		return true;
	x.id = y.id = x.ref_id = y.ref_id = 0;
	x.pad = y.pad = 0;
	return !memcmp(&x, &y, sizeof(x));
}

/*
 * The callback may change what the context points to, call after call:
 * widen the scalars and zeros of the ctx frame that differ from @p snap
 * (the frame at the bpf_loop call). Pointers are kept as they are.
 */
static void widen_ctx_frame(struct vstate *st, const struct vreg *ctx,
			    const struct vslot *snap, uint32_t nsnap)
{
	static const struct vslot empty;
	struct vframe *f;

	if (ctx->type != V_STACK || ctx->frameno > st->curframe)
		return;
	f = st->frames[ctx->frameno];
	for (uint32_t k = 0; k < f->nslots; k++) {
		struct vslot *s = &f->stack[k];

		if (slot_same(s, k < nsnap ? &snap[k] : &empty))
			continue;
		if (s->type[0] == SLOT_SPILL && s->spill.type == V_SCALAR) {
			v_reg_mark_unknown(&s->spill);
			continue;
		}
		for (unsigned j = 0; j < 8; j++)
			if (s->type[j] == SLOT_ZERO)
				s->type[j] = SLOT_MISC;
	}
}

/* Exit of a callback: r0 in [0, 1]; then after the call, or call it again. */
static int callback_exit(struct venv *env)
{
	struct vstate *st = env->cur;
	struct vframe *callee = st->frames[st->curframe];
	struct vreg *r0 = v_reg(env, BPF_REG_0), ctx = callee->cb_ctx;
	uint32_t call = callee->callsite, start = env->sub[callee->subprog].start;
	uint32_t act = callee->cb_act, nsnap = callee->cb_nsnap;
	struct vslot *snap = callee->cb_snap;
	int err;

	if (v_check_reg_read(env, BPF_REG_0))
		return -EACCES;
	if (r0->type != V_SCALAR || r0->umax > 1)
		return v_err(env, -EACCES, "At callback return the register R0 has smin=%lld "
			     "smax=%lld should have been in [0, 1]", (long long)r0->smin,
			     (long long)r0->smax);
	free(callee->stack);
	free(callee);   /* its snapshot goes on to the next call */
	st->frames[st->curframe--] = NULL;
	v_reg_mark_unknown(v_reg(env, BPF_REG_0));
	err = v_push_branch(env, call + 1, env->insn_idx, NULL);
	if (!err)
		widen_ctx_frame(st, &ctx, snap, nsnap);
	if (err) {
		free(snap);
		return err;
	}
	return enter_callback(env, call, start, &ctx, act, snap, nsnap);
}

/* bpf-to-bpf call: push a frame; the walk continues at the callee. */
int v_check_func_call(struct venv *env, const struct bpf_insn *insn)
{
	struct vstate *st = env->cur;
	struct vframe *caller = v_curframe(env), *callee;
	uint32_t target = env->insn_idx + (uint32_t)insn->imm + 1;

	if (st->curframe + 1 >= SL_MAX_CALL_DEPTH)
		return v_err(env, -E2BIG, "the call stack of %u frames is too deep",
			     st->curframe + 2);
	callee = v_frame_new(st->curframe + 1, env->ia[target].subprog, env->insn_idx);
	if (!callee)
		return -ENOMEM;
	for (unsigned r = BPF_REG_1; r <= BPF_REG_5; r++) {
		callee->regs[r] = caller->regs[r];
		v_reg_mark_not_init(&caller->regs[r]);
	}
	v_reg_mark_not_init(&caller->regs[BPF_REG_0]);
	v_reg_mark_const(&callee->regs[BPF_REG_10], 0);
	callee->regs[BPF_REG_10].type = V_STACK;
	callee->regs[BPF_REG_10].frameno = (uint8_t)callee->frameno;
	st->frames[++st->curframe] = callee;
	env->insn_idx = target;
	return 0;
}

/* exit: return to the caller (*path_done = false, insn_idx set) or end the path. */
int v_check_exit(struct venv *env, bool *path_done)
{
	struct vstate *st = env->cur;
	struct vreg *r0 = v_reg(env, BPF_REG_0);

	*path_done = false;
	if (st->curframe && st->frames[st->curframe]->callback)
		return callback_exit(env);
	if (st->curframe) {   /* a callee may return nothing (void): r0 passes as it is */
		struct vframe *callee = st->frames[st->curframe];
		struct vframe *caller = st->frames[st->curframe - 1];

		if (r0->type == V_STACK && r0->frameno == callee->frameno)
			return v_err(env, -EINVAL, "cannot return stack pointer to the caller frame");
		caller->regs[BPF_REG_0] = *r0;
		env->insn_idx = callee->callsite + 1;
		free(callee->stack);
		free(callee);
		st->frames[st->curframe--] = NULL;
		return 0;
	}
	if (v_check_reg_read(env, BPF_REG_0))
		return -EACCES;
	if (r0->type != V_SCALAR)
		return v_err(env, -EACCES, "R0 leaks addr as return value");
	if (st->nrefs)
		return v_err(env, -EINVAL, "Unreleased reference id=%u alloc_insn=%u", st->refs[0],
			     st->ref_insn[0]);
	*path_done = true;
	return 0;
}

/* Legacy packet loads: r0 = ntoh(*(size *)(skb->data + imm [+ src])). */
int v_check_ld_abs(struct venv *env, const struct bpf_insn *insn)
{
	struct vreg *r0;

	if (env->prog->type != SL_PROG_SOCKET)
		return v_err(env, -EINVAL,
			     "BPF_LD_[ABS|IND] instructions not allowed for this program type");
	if (env->nsub > 1)
		return v_err(env, -EINVAL,
			     "BPF_LD_[ABS|IND] instructions cannot be mixed with bpf-to-bpf calls");
	if (v_check_reg_read(env, BPF_REG_6))
		return -EACCES;
	if (v_reg(env, BPF_REG_6)->type != V_CTX)
		return v_err(env, -EINVAL, "at the time of BPF_LD_ABS|IND R6 != pointer to skb");
	if (SL_OP_MODE(insn->code) == BPF_IND) {
		if (v_check_reg_read(env, insn->src_reg))
			return -EACCES;
		if (v_reg(env, insn->src_reg)->type != V_SCALAR)
			return v_err(env, -EACCES, "R%u leaks addr into packet offset", insn->src_reg);
	}
	if (env->cur->nrefs)
		return v_err(env, -EINVAL, "BPF_LD_[ABS|IND] cannot be used with references held");
	for (unsigned r = BPF_REG_1; r <= BPF_REG_5; r++)
		v_reg_mark_not_init(v_reg(env, r));
	r0 = v_reg(env, BPF_REG_0);
	v_reg_mark_unknown(r0);
	v_reg_mark_sized(r0, sl_isa_size_bytes(insn->code), false);
	return 0;
}
