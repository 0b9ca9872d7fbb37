/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Verifier states: allocation and copies, the stack of pending branches,
 * and state pruning.
 *
 * Pruning. At prune points (vm/verifier/verifier_cfg.c) the walk compares the
 * current state with the states already stored there. A stored state whose
 * exploration is complete (branches == 0) was proven safe for everything
 * that can follow; if the current state is contained in it (same pointer
 * types and offsets, scalars within its ranges and known bits, packet range
 * at least as large, stack at least as initialised) the path is pruned.
 * Registers and stack slots that are dead at the insn are ignored, and
 * scalars that never flow into a decision (branch, pointer arithmetic,
 * helper size, divisor) are compared by type only: see verifier_live.c.
 *
 * A stored state still being explored (branches > 0) is an ancestor of the
 * current path: pruning against it would be circular. If the current state
 * equals it exactly, the loop made no progress: "infinite loop detected".
 * Except at the entry of a bpf_loop callback (IA_CALLBACK), where the
 * helper bounds the number of calls: there a state contained in an
 * ancestor adds nothing the ancestor's exploration does not cover (the
 * kernel prunes callback iterations the same way), so it is pruned, if
 * both are calls made by one execution of the bpf_loop call (cb_act: not
 * across iterations of a loop around it, which must still end); with
 * the widening of the caller's scalars between calls (verifier_call.c)
 * the iterations converge.
 *
 * branches counts the paths in flight below a stored state; a path that
 * ends (exit, pruned) decrements its chain of ancestors.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "verifier_internal.h"

#define V_MAX_STATES 32768u    /* stored states: beyond this, no new ones (memory bound) */
#define V_STORE_EVERY 8        /* store at a prune point after this many insns */
#define V_MAX_FINISHED 16      /* finished states kept at one instruction */
#define V_MAX_PER_INSN 256     /* states kept at one instruction */

struct vframe *v_frame_new(uint32_t frameno, uint32_t subprog, uint32_t callsite)
{
	struct vframe *f = calloc(1, sizeof(*f));

	if (!f)
		return NULL;
	f->frameno = frameno;
	f->subprog = subprog;
	f->callsite = callsite;
	return f;
}

int v_frame_grow(struct vframe *f, uint32_t nslots)
{
	struct vslot *s;

	if (nslots <= f->nslots)
		return 0;
	s = realloc(f->stack, nslots * sizeof(*s));
	if (!s)
		return -ENOMEM;
	memset(s + f->nslots, 0, (nslots - f->nslots) * sizeof(*s));
	f->stack = s;
	f->nslots = nslots;
	return 0;
}

struct vframe *v_frame_copy(const struct vframe *src)
{
	struct vframe *f = malloc(sizeof(*f));

	if (!f)
		return NULL;
	*f = *src;
	f->stack = NULL;
	if (src->nslots) {
		f->stack = malloc(src->nslots * sizeof(*f->stack));
		if (!f->stack) {
			free(f);
			return NULL;
		}
		memcpy(f->stack, src->stack, src->nslots * sizeof(*f->stack));
	}
	f->cb_snap = NULL;
	if (src->cb_nsnap) {
		f->cb_snap = malloc(src->cb_nsnap * sizeof(*f->cb_snap));
		if (!f->cb_snap) {
			free(f->stack);
			free(f);
			return NULL;
		}
		memcpy(f->cb_snap, src->cb_snap, src->cb_nsnap * sizeof(*f->cb_snap));
	}
	return f;
}

static void frame_free(struct vframe *f)
{
	if (f) {
		free(f->stack);
		free(f->cb_snap);
		free(f);
	}
}

struct vstate *v_state_new(uint32_t subprog)
{
	struct vstate *st = calloc(1, sizeof(*st));

	if (!st)
		return NULL;
	st->frames[0] = v_frame_new(0, subprog, 0);
	if (!st->frames[0]) {
		free(st);
		return NULL;
	}
	return st;
}

struct vstate *v_state_copy(const struct vstate *src)
{
	struct vstate *st = malloc(sizeof(*st));

	if (!st)
		return NULL;
	*st = *src;
	st->next = NULL;
	memset(st->frames, 0, sizeof(st->frames));
	for (uint32_t i = 0; i <= src->curframe; i++) {
		st->frames[i] = v_frame_copy(src->frames[i]);
		if (!st->frames[i]) {
			v_state_free(st);
			return NULL;
		}
	}
	return st;
}

void v_state_free(struct vstate *st)
{
	if (!st)
		return;
	for (uint32_t i = 0; i < SL_MAX_CALL_DEPTH; i++)
		frame_free(st->frames[i]);
	free(st);
}

void v_ref_drop(struct vstate *st, uint32_t id)
{
	for (uint32_t i = 0; i < st->nrefs; i++) {
		if (st->refs[i] != id)
			continue;
		st->refs[i] = st->refs[st->nrefs - 1];
		st->ref_insn[i] = st->ref_insn[st->nrefs - 1];
		st->nrefs--;
		return;
	}
}

void v_for_each_reg(struct vstate *st, void (*fn)(struct vreg *r, void *arg), void *arg)
{
	for (uint32_t i = 0; i <= st->curframe; i++) {
		struct vframe *f = st->frames[i];

		for (unsigned r = 0; r < SL_NREGS; r++)
			fn(&f->regs[r], arg);
		for (uint32_t k = 0; k < f->nslots; k++)
			if (f->stack[k].type[0] == SLOT_SPILL)
				fn(&f->stack[k].spill, arg);
	}
}

/* ---- pending branches ---- */

/* Queue a copy of the current state to resume at @p insn; *out is the copy. */
int v_push_branch(struct venv *env, uint32_t insn, uint32_t prev, struct vstate **out)
{
	struct vstate *st;

	if (env->npend >= V_JMP_SEQ_LIMIT)
		return v_err(env, -E2BIG, "The sequence of %u jumps is too complex.", env->npend + 1);
	if (env->npend == env->pend_cap) {
		uint32_t cap = env->pend_cap ? env->pend_cap * 2 : 64;
		struct vpending *p = realloc(env->pend, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		env->pend = p;
		env->pend_cap = cap;
	}
	st = v_state_copy(env->cur);
	if (!st)
		return -ENOMEM;
	if (st->parent)
		st->parent->branches++;
	env->pend[env->npend++] = (struct vpending){ st, insn, prev };
	if (out)
		*out = st;
	return 0;
}

/* The current path ended: release its claim on its ancestors. */
void v_path_done(struct venv *env)
{
	for (struct vstate *p = env->cur->parent; p; p = p->parent)
		if (--p->branches)
			break;
}

/* Resume the most recent pending branch; -ENOENT when none is left. */
int v_pop_branch(struct venv *env)
{
	struct vpending *p;

	v_state_free(env->cur);
	env->cur = NULL;
	if (!env->npend)
		return -ENOENT;
	p = &env->pend[--env->npend];
	env->cur = p->st;
	env->insn_idx = p->insn;
	env->prev_idx = p->prev;
	return 0;
}

/* ---- comparison ---- */

struct idmap {
	uint32_t n;
	uint32_t old[512], cur[512];
};

static bool check_ids(struct idmap *m, uint32_t old, uint32_t cur)
{
	if (!old && !cur)
		return true;
	if (!old || !cur)
		return false;
	for (uint32_t i = 0; i < m->n; i++) {
		if (m->old[i] == old)
			return m->cur[i] == cur;
		if (m->cur[i] == cur)
			return false;
	}
	if (m->n == 512)
		return false;
	m->old[m->n] = old;
	m->cur[m->n++] = cur;
	return true;
}

static bool range_within(const struct vreg *o, const struct vreg *c)
{
	return o->umin <= c->umin && c->umax <= o->umax && o->smin <= c->smin &&
	       c->smax <= o->smax && o->u32min <= c->u32min && c->u32max <= o->u32max &&
	       o->s32min <= c->s32min && c->s32max <= o->s32max && v_tnum_in(o->var_off, c->var_off);
}

static bool regs_identical(const struct vreg *o, const struct vreg *c)
{
	return o->type == c->type && o->frameno == c->frameno && o->off == c->off &&
	       o->range == c->range && o->mem_size == c->mem_size && o->map == c->map &&
	       o->var_off.value == c->var_off.value && o->var_off.mask == c->var_off.mask &&
	       o->umin == c->umin && o->umax == c->umax && o->smin == c->smin &&
	       o->smax == c->smax && o->u32min == c->u32min && o->u32max == c->u32max &&
	       o->s32min == c->s32min && o->s32max == c->s32max;
}

static bool regsafe(const struct vreg *o, const struct vreg *c, bool precise, bool exact,
		    struct idmap *m)
{
	if (exact)
		return regs_identical(o, c) && check_ids(m, o->id, c->id) &&
		       check_ids(m, o->ref_id, c->ref_id);
	if (o->type == V_NOT_INIT)
		return true;
	if (o->type != c->type)
		return false;
	switch (o->type) {
	case V_SCALAR:
		if (!precise)
			return true;
		return range_within(o, c) && (!o->id || check_ids(m, o->id, c->id));
	case V_PKT:
	case V_PKT_META:
		return o->off == c->off && o->range <= c->range && range_within(o, c) &&
		       check_ids(m, o->id, c->id);
	case V_MAP_VALUE:
		return o->map == c->map && o->off == c->off && range_within(o, c);
	case V_MAP_VALUE_OR_NULL:
	case V_CONST_MAP_OR_NULL:
	case V_MEM:
	case V_MEM_OR_NULL:
		return o->map == c->map && o->inner == c->inner && o->off == c->off &&
		       o->mem_size == c->mem_size &&
		       range_within(o, c) && check_ids(m, o->id, c->id) &&
		       check_ids(m, o->ref_id, c->ref_id);
	case V_STACK:
		return o->frameno == c->frameno && o->off == c->off && range_within(o, c);
	default: /* ctx, pkt_end, map pointer */
		return o->off == c->off && o->map == c->map && o->inner == c->inner &&
		       range_within(o, c);
	}
}

static bool byte_safe(uint8_t ot, uint8_t ct, const struct vslot *cs, bool precise, bool exact)
{
	if (exact)
		return ot == ct;
	switch (ot) {
	case SLOT_INVALID:
		return true;
	case SLOT_MISC:
		return ct == SLOT_MISC || ct == SLOT_ZERO ||
		       (ct == SLOT_SPILL && cs->spill.type == V_SCALAR);
	case SLOT_ZERO:
		return ct == SLOT_ZERO || (!precise && (ct == SLOT_MISC ||
		       (ct == SLOT_SPILL && cs->spill.type == V_SCALAR)));
	default:
		return ct == SLOT_SPILL;
	}
}

static bool stacksafe(const struct vframe *o, const struct vframe *c, uint64_t live,
		      uint64_t prec, bool exact, struct idmap *m)
{
	static const struct vslot empty;
	uint32_t n = o->nslots > c->nslots ? o->nslots : c->nslots;

	for (uint32_t k = 0; k < n; k++) {
		const struct vslot *os = k < o->nslots ? &o->stack[k] : &empty;
		const struct vslot *cs = k < c->nslots ? &c->stack[k] : &empty;
		bool lv = k >= 64 || (live >> k) & 1, pr = k >= 64 || (prec >> k) & 1;

		if (!lv && !exact)
			continue;
		for (unsigned j = 0; j < 8; j++)
			if (!byte_safe(os->type[j], cs->type[j], cs, pr, exact))
				return false;
		if (os->type[0] == SLOT_SPILL && !regsafe(&os->spill, &cs->spill, pr, exact, m))
			return false;
	}
	return true;
}

static bool frame_safe(struct venv *env, const struct vstate *o, const struct vstate *c,
		       uint32_t i, uint32_t pc, bool exact, struct idmap *m)
{
	const struct vframe *of = o->frames[i], *cf = c->frames[i];
	bool inner = i == c->curframe;
	uint32_t at = inner ? pc : c->frames[i + 1]->callsite + 1;
	const struct vinsn *ia = &env->ia[at < env->n ? at : pc];
	uint16_t live = ia->live_regs, prec = ia->prec_regs;

	if (of->callsite != cf->callsite || of->subprog != cf->subprog ||
	    of->callback != cf->callback)
		return false;
	if (of->callback && !regsafe(&of->cb_ctx, &cf->cb_ctx, true, true, m))
		return false;
	for (unsigned r = 0; r < SL_NREGS; r++) {
		if (!((live >> r) & 1) && !exact)
			continue;
		if (!regsafe(&of->regs[r], &cf->regs[r], (prec >> r) & 1, exact, m))
			return false;
	}
	if (!inner)   /* a callee may still read its callers' stacks through pointers */
		return stacksafe(of, cf, UINT64_MAX, UINT64_MAX, exact, m);
	return stacksafe(of, cf, ia->live_slots, ia->prec_slots, exact, m);
}

static bool states_equal(struct venv *env, const struct vstate *o, const struct vstate *c,
			 uint32_t pc, bool exact)
{
	struct idmap map, *m = &map;
	bool ok = o->curframe == c->curframe && o->nrefs == c->nrefs;

	m->n = 0;
	for (uint32_t i = 0; ok && i < o->nrefs; i++)
		ok = check_ids(m, o->refs[i], c->refs[i]);
	for (uint32_t i = 0; ok && i <= o->curframe; i++)
		ok = frame_safe(env, o, c, i, pc, exact, m);
	return ok;
}

/* FNV-1a over every register's exact value, ids left out (exact equality implies equal hashes). */
static uint64_t state_hash(const struct vstate *st)
{
	uint64_t h = 1469598103934665603ull;

	for (uint32_t i = 0; i <= st->curframe; i++) {
		for (unsigned r = 0; r < SL_NREGS; r++) {
			struct vreg v = st->frames[i]->regs[r];
			const unsigned char *p = (const unsigned char *)&v;

			v.id = v.ref_id = 0;
			v.pad = 0;
			for (size_t k = 0; k < sizeof(v); k++)
				h = (h ^ p[k]) * 1099511628211ull;
		}
	}
	return h;
}

static int store_state(struct venv *env, uint32_t pc)
{
	struct vstate *st = v_state_copy(env->cur);

	if (!st)
		return -ENOMEM;
	st->hash = state_hash(env->cur);
	st->insn_idx = pc;
	st->branches = 1;
	st->parent = env->cur->parent;
	env->cur->parent = st;
	st->next = env->ia[pc].explored;
	env->ia[pc].explored = st;
	env->ia[pc].nexplored++;
	env->nstates++;
	env->stored_since = 0;
	return 0;
}

/* Free the oldest finished state stored at @p ia; false when all are in progress. */
static bool evict_one(struct vinsn *ia)
{
	struct vstate **victim = NULL;

	for (struct vstate **pp = &ia->explored; *pp; pp = &(*pp)->next)
		if (!(*pp)->branches)
			victim = pp;
	if (!victim)
		return false;
	struct vstate *st = *victim;

	*victim = st->next;
	v_state_free(st);
	ia->nexplored--;
	return true;
}

/*
 * At a prune point: prune the current path (*prune = true) when a finished
 * stored state covers it; reject an exact repeat of an in-progress state;
 * otherwise maybe store the current state.
 */
int v_is_state_visited(struct venv *env, uint32_t pc, bool *prune)
{
	struct vinsn *ia = &env->ia[pc];
	uint32_t finished = 0;
	uint64_t h;

	*prune = false;
	if (!(ia->flags & IA_PRUNE))
		return 0;
	h = state_hash(env->cur);
	for (struct vstate *sl = ia->explored; sl; sl = sl->next) {
		if (sl->branches && (ia->flags & IA_CALLBACK) && sl->curframe == env->cur->curframe &&
		    sl->frames[sl->curframe]->cb_act == env->cur->frames[env->cur->curframe]->cb_act &&
		    states_equal(env, sl, env->cur, pc, false)) {
			*prune = true;
			return 0;
		}
		if (sl->branches) {
			if ((ia->flags & IA_LOOP_HEAD) && sl->hash == h &&
			    states_equal(env, sl, env->cur, pc, true))
				return v_err(env, -EINVAL, "infinite loop detected at insn %u", pc);
			continue;
		}
		if (states_equal(env, sl, env->cur, pc, false)) {
			*prune = true;
			return 0;
		}
		sl->miss++;
		finished++;
	}
	if (ia->nexplored >= V_MAX_PER_INSN || finished >= V_MAX_FINISHED)
		if (!evict_one(ia) || ia->nexplored >= V_MAX_PER_INSN)
			return 0;
	if (env->nstates >= V_MAX_STATES)
		return 0;
	if (!(ia->flags & (IA_LOOP_HEAD | IA_CALLBACK)) && env->stored_since < V_STORE_EVERY)
		return 0;
	return store_state(env, pc);
}

void v_free_explored(struct venv *env)
{
	if (!env->ia)
		return;
	for (uint32_t pc = 0; pc < env->n; pc++) {
		struct vstate *sl = env->ia[pc].explored;

		while (sl) {
			struct vstate *next = sl->next;

			v_state_free(sl);
			sl = next;
		}
		env->ia[pc].explored = NULL;
		env->ia[pc].nexplored = 0;
	}
}
