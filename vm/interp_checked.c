/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Interpreter, checked mode: the run loop of interp_loop.h with every
 * memory access, helper argument, tail call and LD_ABS checked, and an
 * instruction budget. For programs nobody verified (test-run --no-verify):
 * whatever the bytes, a run ends with r0 or one line naming the fault.
 *
 * Memory a program may touch (struct vm_chk, rebuilt lazily per access):
 *   - the stack frames in use (frame 0 .. current, 512 bytes each);
 *   - raw programs: the memory r1 points to (opts->mem_len bytes);
 *   - XDP: the context (read-only) and the packet data_meta/data..data_end,
 *     read live from the context since helpers may move them. An XDP
 *     program that was not verified still has the kernel's struct xdp_md
 *     loads (no rewrite happened): they are emulated here;
 *   - socket filters: struct __sk_buff (cb[] writable), the packet read-only;
 *   - map values returned by helpers during this run (value_size bytes),
 *     ring buffer reservations, and element 0 of the array maps the program
 *     references (lddw map_value, global data).
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "sl_helpers.h"
#include "sl_maps.h"
#include "vm_internal.h"

#define VM_MAX_DYN 32

struct vm_region {
	uint64_t lo, hi;     /* [lo, hi) */
	const char *name;
	bool writable;
	bool alloc;          /* ring buffer reservation (a PTR_TO_ALLOC_MEM) */
	const struct sl_map *map;  /* map the value belongs to, or NULL */
};

struct vm_chk {
	const struct sl_prog *prog;
	void *ctx;
	struct sl_vm_result *res;
	uint8_t *stack;
	uint8_t *stack_top;
	unsigned depth;
	uint64_t mem, mem_len;         /* raw programs, or opts->mem */
	struct vm_region dyn[VM_MAX_DYN];
	unsigned n_dyn, next_dyn;
	struct vm_chk *parent;         /* callback: the run that called the helper */
	struct vm_chk *saved;          /* in a helper call: the previous chk_calling */
};

/* The checked run in a helper call on this thread (callbacks run under it). */
static __thread struct vm_chk *chk_calling;

static void vm_chk_init(struct vm_chk *ck, const struct sl_prog *prog, void *r1,
			const struct sl_vm_run_opts *opts, uint8_t *stack, uint8_t *top);

/* Forward declarations of what the loop calls (defined below the loop). */
static int vm_chk_load(struct vm_chk *ck, uint64_t addr, unsigned size, uint64_t *val);
static int vm_chk_store(struct vm_chk *ck, uint64_t addr, unsigned size);
static int vm_chk_atomic(struct vm_chk *ck, uint64_t addr, unsigned size);
static int vm_chk_ldabs(struct vm_chk *ck, uint64_t r6);
static int vm_chk_helper_args(struct vm_chk *ck, const struct sl_prog *cur, uint32_t pc,
			      const uint64_t *reg);
static void vm_chk_helper_ret(struct vm_chk *ck, const struct sl_prog *cur, uint32_t pc,
			      const uint64_t *reg);
static int vm_chk_tail_call(struct vm_chk *ck, const struct sl_prog *cur, uint32_t pc,
			    const uint64_t *reg);

#define SL_VM_CHECKED 1
#define SL_VM_RUN_FN vm_run_checked_loop
static uint64_t vm_run_checked_loop(const struct sl_prog *prog, void *ctx,
				       const struct sl_vm_run_opts *opts, struct sl_vm_result *res);
#include "interp_loop.h"

uint64_t vm_run_checked(const struct sl_prog *prog, void *ctx,
			   const struct sl_vm_run_opts *opts, struct sl_vm_result *res)
{
	return vm_run_checked_loop(prog, ctx, opts, res);
}

static void vm_chk_init(struct vm_chk *ck, const struct sl_prog *prog, void *r1,
			const struct sl_vm_run_opts *opts, uint8_t *stack, uint8_t *top)
{
	memset(ck, 0, sizeof(*ck));
	ck->prog = prog;
	ck->ctx = r1;
	if (opts->entry_pc && chk_calling) {   /* a callback: the caller's context */
		ck->parent = chk_calling;
		ck->ctx = r1 = chk_calling->ctx;
	}
	ck->stack = stack;
	ck->stack_top = top;
	if (prog->type == SL_PROG_RAW) {
		ck->mem = (uint64_t)(uintptr_t)r1;
		ck->mem_len = opts->mem_len;
	} else if (opts->mem) {
		ck->mem = (uint64_t)(uintptr_t)opts->mem;
		ck->mem_len = opts->mem_len;
	}
}

static int chk_fail(struct vm_chk *ck, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int chk_fail(struct vm_chk *ck, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ck->res->msg, sizeof(ck->res->msg), fmt, ap);
	va_end(ap);
	ck->res->err = err;
	return -1;
}

/* Fixed regions for this program type, into @p out (at most 6). */
static unsigned fixed_regions(const struct vm_chk *ck, struct vm_region *out)
{
	unsigned n = 0;
	uint64_t ctx = (uint64_t)(uintptr_t)ck->ctx;

	out[n++] = (struct vm_region){ (uint64_t)(uintptr_t)(ck->stack_top - (ck->depth + 1) * SL_STACK_SIZE),
				       (uint64_t)(uintptr_t)ck->stack_top, "stack", true, false };
	if (ck->mem && ck->mem_len)
		out[n++] = (struct vm_region){ ck->mem, ck->mem + ck->mem_len, "mem", true, false };
	if (ck->prog->type == SL_PROG_XDP && ck->ctx) {
		const struct sl_xdp_ctx *x = ck->ctx;
		uint64_t lo = (uint64_t)(uintptr_t)(x->data_meta && x->data_meta < x->data ? x->data_meta : x->data);

		out[n++] = (struct vm_region){ ctx, ctx + (ck->prog->verified ? sizeof(*x) : 24),
					       "ctx", false, false };
		if (x->data && x->data_end >= x->data)
			out[n++] = (struct vm_region){ lo, (uint64_t)(uintptr_t)x->data_end,
						       "packet", true, false };
	} else if (ck->prog->type == SL_PROG_SOCKET && ck->ctx) {
		const struct sl_skb_ctx *s = ck->ctx;
		uint64_t cb = ctx + offsetof(struct __sk_buff, cb);

		out[n++] = (struct vm_region){ cb, cb + sizeof(s->skb.cb), "ctx", true, false };
		out[n++] = (struct vm_region){ ctx, ctx + sizeof(s->skb), "ctx", false, false };
		if (s->pkt)
			out[n++] = (struct vm_region){ (uint64_t)(uintptr_t)s->pkt,
						       (uint64_t)(uintptr_t)s->pkt + s->pkt_len,
						       "packet", false, false };
	}
	return n;
}

static bool in_region(const struct vm_region *r, uint64_t addr, unsigned size)
{
	return addr >= r->lo && r->hi >= size && addr <= r->hi - size;
}

/* Element 0 of the array maps the program references (lddw map_value: global data). */
static bool in_array_map(const struct vm_chk *ck, uint64_t addr, unsigned size)
{
	const struct sl_prog *p = ck->prog;

	for (uint32_t i = 0; i < p->n_maps; i++) {
		struct sl_map *m = p->maps ? p->maps[i] : NULL;
		uint8_t *b = m ? sl_map_array_base(m, 0) : NULL;
		struct vm_region r;

		if (!b || sl_map_is_percpu(m))
			continue;
		r.lo = (uint64_t)(uintptr_t)b;
		r.hi = r.lo + sl_map_get_def(m)->value_size;  /* element 0, as lddw map_value gives */
		if (in_region(&r, addr, size))
			return true;
	}
	return false;
}

/* Name the address relative to the nearest region, into @p buf. */
static void describe(const struct vm_chk *ck, uint64_t addr, char *buf, size_t len)
{
	struct vm_region fx[8];
	unsigned n = fixed_regions(ck, fx);
	const struct vm_region *best = NULL;
	uint64_t best_dist = 4096;

	for (unsigned i = 0; i < n + ck->n_dyn; i++) {
		const struct vm_region *r = i < n ? &fx[i] : &ck->dyn[i - n];
		uint64_t dist = addr < r->lo ? r->lo - addr : addr >= r->hi ? addr - r->hi + 1 : 0;

		if (dist < best_dist) {
			best = r;
			best_dist = dist;
		}
	}
	if (!best) {
		snprintf(buf, len, "0x%llx%s", (unsigned long long)addr, addr ? "" : " (null pointer)");
	} else if (!strcmp(best->name, "stack")) {
		uint64_t r10 = (uint64_t)(uintptr_t)(ck->stack_top - ck->depth * SL_STACK_SIZE);

		snprintf(buf, len, "r10%+lld (stack is r10-%u..r10)", (long long)(addr - r10),
			 (ck->depth + 1) * SL_STACK_SIZE);
	} else {
		snprintf(buf, len, "%s%+lld (%s is %llu bytes)", best->name,
			 (long long)(addr - best->lo), best->name,
			 (unsigned long long)(best->hi - best->lo));
	}
}

/* 0 when [addr, addr+size) lies in one region allowing the access. */
static int check_access(struct vm_chk *ck, uint64_t addr, unsigned size, bool write,
			const char *what)
{
	struct vm_region fx[8];
	unsigned n = fixed_regions(ck, fx);
	char where[96];

	for (unsigned i = 0; i < n + ck->n_dyn; i++) {
		const struct vm_region *r = i < n ? &fx[i] : &ck->dyn[i - n];

		if (!in_region(r, addr, size))
			continue;
		if (write && !r->writable) {
			describe(ck, addr, where, sizeof(where));
			return chk_fail(ck, -EFAULT, "%s of %u bytes to read-only %s at %s", what,
					size, r->name, where);
		}
		return 0;
	}
	if (in_array_map(ck, addr, size))
		return 0;
	if (ck->parent)   /* a callback may use what its caller may (reported there) */
		return check_access(ck->parent, addr, size, write, what);
	describe(ck, addr, where, sizeof(where));
	return chk_fail(ck, -EFAULT, "out-of-bounds %s of %u bytes at %s", what, size, where);
}

bool vm_checked_callback(const struct sl_callback *cb, uint64_t r1, uint64_t r2,
			    uint64_t *r0)
{
	struct vm_chk *parent = chk_calling;
	struct sl_vm_run_opts o = { .sz = sizeof(o), .checked = true, .entry_pc = cb->pc,
				    .entry_r1 = r1, .entry_r2 = r2 };
	struct sl_vm_result res = { 0 };

	if (!parent)
		return false;
	o.mem = (void *)(uintptr_t)parent->mem;
	o.mem_len = parent->mem_len;
	*r0 = vm_run_checked_loop(cb->engine, parent->ctx, &o, &res);
	if (res.err && !parent->res->err) {
		parent->res->err = res.err;
		snprintf(parent->res->msg, sizeof(parent->res->msg), "in callback: %.110s", res.msg);
	}
	return true;
}

/* struct xdp_md as an unverified program sees it: u32 fields, pointers widened. */
static int xdp_md_load(struct vm_chk *ck, uint64_t off, unsigned size, uint64_t *val)
{
	const struct sl_xdp_ctx *x = ck->ctx;

	if (size != 4 || off % 4)
		return chk_fail(ck, -EFAULT, "invalid xdp_md access of %u bytes at ctx+%llu",
				size, (unsigned long long)off);
	switch (off / 4) {
	case 0: *val = (uint64_t)(uintptr_t)x->data; break;
	case 1: *val = (uint64_t)(uintptr_t)x->data_end; break;
	case 2: *val = (uint64_t)(uintptr_t)(x->data_meta ? x->data_meta : x->data); break;
	case 3: *val = x->ingress_ifindex; break;
	case 4: *val = x->rx_queue_index; break;
	default: *val = x->egress_ifindex; break;
	}
	return 1;
}

static int vm_chk_load(struct vm_chk *ck, uint64_t addr, unsigned size, uint64_t *val)
{
	uint64_t ctx = (uint64_t)(uintptr_t)ck->ctx;

	if (ck->prog->type == SL_PROG_XDP && !ck->prog->verified && ck->ctx &&
	    addr >= ctx && addr < ctx + 24)
		return xdp_md_load(ck, addr - ctx, size, val);
	if (check_access(ck, addr, size, false, "load"))
		return -1;
	*val = 0;
	memcpy(val, (const void *)(uintptr_t)addr, size);
	return 0;
}

static int vm_chk_store(struct vm_chk *ck, uint64_t addr, unsigned size)
{
	return check_access(ck, addr, size, true, "store");
}

static int vm_chk_atomic(struct vm_chk *ck, uint64_t addr, unsigned size)
{
	if (addr % size)
		return chk_fail(ck, -EFAULT, "misaligned atomic access of %u bytes at 0x%llx",
				size, (unsigned long long)addr);
	return check_access(ck, addr, size, true, "atomic access");
}

static int vm_chk_ldabs(struct vm_chk *ck, uint64_t r6)
{
	if (ck->prog->type != SL_PROG_SOCKET)
		return chk_fail(ck, -EINVAL, "LD_ABS/LD_IND only work in socket filters");
	if (r6 != (uint64_t)(uintptr_t)ck->ctx || !ck->ctx)
		return chk_fail(ck, -EINVAL, "LD_ABS/LD_IND need r6 = the context");
	return 0;
}

static struct sl_map *prog_map(const struct sl_prog *p, uint64_t v)
{
	for (uint32_t i = 0; i < p->n_maps; i++)
		if (p->maps && (uint64_t)(uintptr_t)p->maps[i] == v && v)
			return p->maps[i];
	return NULL;
}

static void track(struct vm_chk *ck, uint64_t lo, uint64_t size, const char *name,
		  bool writable, bool alloc, const struct sl_map *map)
{
	struct vm_region *r = &ck->dyn[ck->next_dyn];

	*r = (struct vm_region){ lo, lo + size, name, writable, alloc, map };
	ck->next_dyn = (ck->next_dyn + 1) % VM_MAX_DYN;
	if (ck->n_dyn < VM_MAX_DYN)
		ck->n_dyn++;
}

static int check_mem_arg(struct vm_chk *ck, const char *hname, int i, uint64_t ptr,
			 uint64_t size, bool write)
{
	char what[64];

	if (size == 0)
		return 0;
	if (size > (1u << 24))
		return chk_fail(ck, -EFAULT, "%s: argument r%d: size %llu too large", hname, i + 2,
				(unsigned long long)size);
	snprintf(what, sizeof(what), "%s by %s (r%d)", write ? "write" : "read", hname, i + 1);
	return check_access(ck, ptr, (unsigned)size, write, what);
}

/* One argument of a helper call against its prototype. */
static int check_arg(struct vm_chk *ck, const struct sl_helper *h, int i, const uint64_t *reg,
		     struct sl_map **map)
{
	uint64_t v = reg[i + 1], next = i < 4 ? reg[i + 2] : 0;
	const struct sl_map_def *def = *map ? sl_map_get_def(*map) : NULL;

	switch (h->args[i]) {
	case SL_ARG_CONST_MAP_PTR:
		*map = prog_map(ck->prog, v);
		if (!*map)
			return chk_fail(ck, -EINVAL, "%s: r%d is not a map of this program", h->name, i + 1);
		return 0;
	case SL_ARG_PTR_TO_MAP_KEY:
	case SL_ARG_PTR_TO_MAP_VALUE:
		if (!def)
			return chk_fail(ck, -EINVAL, "%s: r%d needs a map argument first", h->name, i + 1);
		return check_mem_arg(ck, h->name, i, v, h->args[i] == SL_ARG_PTR_TO_MAP_KEY ?
				     def->key_size : def->value_size, false);
	case SL_ARG_PTR_TO_FUNC: {   /* a callback of this program (lddw BPF_PSEUDO_FUNC) */
		const struct sl_vm_code *code = ck->prog->vm_code;

		if (!code || v < (uintptr_t)code->cbs || v >= (uintptr_t)(code->cbs + code->ncbs) ||
		    (v - (uintptr_t)code->cbs) % sizeof(*code->cbs))
			return chk_fail(ck, -EINVAL, "%s: r%d is not a callback of this program",
					h->name, i + 1);
		return 0;
	}
	case SL_ARG_PTR_TO_MEM_OR_NULL:
		if (!v && next)
			return chk_fail(ck, -EINVAL, "%s: r%d is NULL with size %llu", h->name, i + 1,
					(unsigned long long)next);
		/* fall through */
	case SL_ARG_PTR_TO_MEM:
		return check_mem_arg(ck, h->name, i, v, next, false);
	case SL_ARG_PTR_TO_UNINIT_MEM:
		return check_mem_arg(ck, h->name, i, v, next, true);
	case SL_ARG_CONST_SIZE:
		if (v == 0)
			return chk_fail(ck, -EINVAL, "%s: size r%d must not be 0", h->name, i + 1);
		return 0;
	case SL_ARG_PTR_TO_CTX:
		if (v != (uint64_t)(uintptr_t)ck->ctx || !v)
			return chk_fail(ck, -EINVAL, "%s: r%d must be the context", h->name, i + 1);
		return 0;
	case SL_ARG_PTR_TO_ALLOC_MEM:
		for (unsigned k = 0; k < ck->n_dyn; k++)
			if (ck->dyn[k].alloc && ck->dyn[k].lo == v)
				return 0;
		return chk_fail(ck, -EINVAL, "%s: r%d is not a ring buffer reservation", h->name, i + 1);
	default:
		return 0;
	}
}

static int vm_chk_helper_args(struct vm_chk *ck, const struct sl_prog *cur, uint32_t pc,
			      const uint64_t *reg)
{
	const struct sl_helper *h = sl_helper_get((uint32_t)cur->insns[pc].imm);
	struct sl_map *map = NULL;

	if (!h || !h->fn)
		return chk_fail(ck, -EINVAL, "unknown helper %d", cur->insns[pc].imm);
	if (!(h->prog_types & (1u << ck->prog->type)))
		return chk_fail(ck, -EINVAL, "helper %s is not allowed in this program type", h->name);
	for (int i = 0; i < 5; i++)
		if (check_arg(ck, h, i, reg, &map))
			return -1;
	ck->saved = chk_calling;   /* callbacks the helper calls run under this run */
	chk_calling = ck;
	return 0;
}

/* Remember memory a helper handed out; forget released reservations. */
static void vm_chk_helper_ret(struct vm_chk *ck, const struct sl_prog *cur, uint32_t pc,
			      const uint64_t *reg)
{
	const struct sl_helper *h = sl_helper_get((uint32_t)cur->insns[pc].imm);
	struct sl_map *map = NULL;
	uint64_t alloc_size = 0;

	chk_calling = ck->saved;

	for (int i = 0; i < 5; i++) {
		if (h->args[i] == SL_ARG_CONST_MAP_PTR)
			map = prog_map(ck->prog, reg[i + 1]);
		else if (h->args[i] == SL_ARG_CONST_ALLOC_SIZE_OR_ZERO)
			alloc_size = reg[i + 1];
		else if (h->args[i] == SL_ARG_PTR_TO_ALLOC_MEM)
			for (unsigned k = 0; k < ck->n_dyn; k++)
				if (ck->dyn[k].alloc && ck->dyn[k].lo == reg[i + 1])
					ck->dyn[k].hi = ck->dyn[k].lo = 0;
	}
	/*
	 * An update or delete may free elements of a hash-type map at once
	 * (no worker waits here): forget every value of that map handed out.
	 */
	if (map && !sl_map_array_base(map, 0) &&
	    (cur->insns[pc].imm == BPF_FUNC_map_delete_elem ||
	     cur->insns[pc].imm == BPF_FUNC_map_update_elem))
		for (unsigned k = 0; k < ck->n_dyn; k++)
			if (ck->dyn[k].map == map)
				ck->dyn[k].hi = ck->dyn[k].lo = 0;
	if (!reg[0])
		return;
	if (h->ret == SL_RET_PTR_TO_MAP_VALUE_OR_NULL && map)
		track(ck, reg[0], sl_map_get_def(map)->value_size, "map value",
		      !(sl_map_get_def(map)->map_flags & BPF_F_RDONLY_PROG), false, map);
	else if (h->ret == SL_RET_PTR_TO_ALLOC_MEM_OR_NULL)
		track(ck, reg[0], alloc_size, "ringbuf record", true, true, NULL);
}

static int vm_chk_tail_call(struct vm_chk *ck, const struct sl_prog *cur, uint32_t pc,
			    const uint64_t *reg)
{
	struct sl_map *map = prog_map(cur, reg[2]);

	(void)pc;
	if (reg[1] != (uint64_t)(uintptr_t)ck->ctx)
		return chk_fail(ck, -EINVAL, "bpf_tail_call: r1 must be the context");
	if (!map || sl_map_get_def(map)->type != BPF_MAP_TYPE_PROG_ARRAY)
		return chk_fail(ck, -EINVAL, "bpf_tail_call: r2 is not a prog_array of this program");
	return 0;
}
