/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The JIT's burst entry (jit/burst.c) against the per-packet entry and the
 * interpreter, on random XDP programs over bursts of random packets: every
 * packet must get the same r0 and end with the same bytes, the entry must
 * stop exactly at the first packet that is not a plain XDP_PASS (with that
 * packet's r0) and run the others, and a program it cannot take must be
 * refused with ENOTSUP (the per-packet entry then stays in use).
 *
 * Generator (valid by construction, as test_jit_diff.c; no verifier): the
 * program is in the verifier's rewritten form (ldxdw of sl_xdp_ctx data /
 * data_end). Mode "bounds": r2 = data, r3 = data_end, pass when the packet
 * is shorter than 64 bytes, then random loads and stores of the packet's
 * first 64 bytes; mode "const": only ctx->ingress_ifindex. Both: random
 * ALU/ALU32 on scalars (r0, r4, r5, and r6-r9 in some programs: a main
 * function that saves registers is refused, a leaf keeps r6/r7 in scratch
 * registers), stack stores and loads, forward jumps, early exits with a
 * random verdict, helper calls (bpf_get_smp_processor_id; the context is
 * spilled to the stack and reloaded), and a final r0 of 2 or 3 (XDP_PASS or
 * XDP_TX) so that bursts hold runs of passes.
 *
 * The entry's own paths and their near misses: most programs carry the
 * verifier's context marks (aux ctx_access) on their context loads, so that
 * data / data_meta / data_end loads read registers (burst.c ctx_in_regs());
 * the marks left off, a load of the bounds in a bpf-to-bpf callee, or a
 * load fused into a compare with memory (MEM_CMP) keep them in memory.
 * Loads of a per-burst field (ingress_ifindex) between them. Programs that
 * never read r1 at entry (no spill, r1 overwritten after the bounds, or no
 * context at all) skip "mov rdi, r12". Exits after "r0 = 2" or "w0 = 2"
 * jump to the next packet, one in the last place falls into it, and an
 * exit that is a jump target (r0 then unknown) takes the compare.
 *
 * usage: test_jit_burst [COUNT [SEED]]
 */
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl_jit.h"
#include "sl_test_bpf.h"
#include "sl_vm.h"

#define NPKTS 48          /* packets per burst */
#define PREFETCH 4        /* descriptors the entry may read past the end */
#define ROOM 256          /* bytes of each packet's buffer */
#define HEAD 64           /* bytes the program may touch from data */

/* A packet descriptor laid out like nothing in particular: offsets go through the layout. */
struct desc {
	uint64_t pad0;
	uint16_t len;
	uint8_t pad1[6];
	uint8_t *buf;
	uint16_t off;
};

struct burst_run {
	uint8_t bufs[NPKTS][ROOM];
	struct desc descs[NPKTS];
	void *ptrs[NPKTS + PREFETCH];
	uint64_t r0[NPKTS];
};

static const uint8_t scalars_base[] = { BPF_REG_0, BPF_REG_4, BPF_REG_5 };

struct pgen {
	struct sl_tgen t;
	bool bounds;      /* r2/r3 hold data/data_end */
	bool spill;       /* ctx spilled at r10 - 40: helpers and calls may reload it */
	bool ctx_gone;    /* r1 overwritten after the bounds: no more context loads */
	bool callee;      /* a bpf-to-bpf callee that loads the bounds (after the main function) */
	unsigned nsc;     /* scalar registers in use */
	uint8_t sc[7];
	unsigned nctx;    /* pcs of the context loads, for the verifier's marks */
	uint16_t ctx_pc[SL_TGEN_MAX];
};

static uint8_t pick_sc(struct pgen *g)
{
	return g->sc[sl_tgen_pick(&g->t, g->nsc)];
}

static void emit(struct pgen *g, uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm)
{
	sl_tgen_emit(&g->t, code, dst, src, off, imm);
}

/* A load of a context field (rewritten form), remembered for the verifier's marks. */
static void ctx_load(struct pgen *g, uint8_t size, uint8_t dst, uint8_t src, size_t off)
{
	if (g->t.n < SL_TGEN_MAX)
		g->ctx_pc[g->nctx++] = (uint16_t)g->t.n;
	emit(g, BPF_LDX | BPF_MEM | size, dst, src, (int16_t)off, 0);
}

/* r2 = data (or data_meta: the same), r3 = data_end from the context in r1. */
static void load_bounds(struct pgen *g)
{
	ctx_load(g, BPF_DW, BPF_REG_2, BPF_REG_1, sl_tgen_chance(&g->t, 25) ?
		 offsetof(struct sl_xdp_ctx, data_meta) : offsetof(struct sl_xdp_ctx, data));
	ctx_load(g, BPF_DW, BPF_REG_3, BPF_REG_1, offsetof(struct sl_xdp_ctx, data_end));
}

static void init_scalars(struct pgen *g)
{
	for (unsigned i = 0; i < g->nsc; i++)
		emit(g, BPF_ALU64 | BPF_MOV | BPF_K, g->sc[i], 0, 0, sl_tgen_imm(&g->t));
}

/* bpf_get_smp_processor_id(): r1-r5 clobbered; the context comes back from the stack. */
static void gen_helper(struct pgen *g)
{
	emit(g, BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_get_smp_processor_id);
	emit(g, BPF_LDX | BPF_MEM | BPF_DW, BPF_REG_1, BPF_REG_10, -40, 0);
	if (g->bounds)
		load_bounds(g);
	emit(g, BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_4, 0, 0, sl_tgen_imm(&g->t));
	emit(g, BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_5, 0, 0, sl_tgen_imm(&g->t));
}

/* The callee's call: r0 = packet length (callee()); r1-r5 come back as after a helper. */
static void gen_call(struct pgen *g)
{
	if (!sl_tgen_call(&g->t))
		return;
	emit(g, BPF_LDX | BPF_MEM | BPF_DW, BPF_REG_1, BPF_REG_10, -40, 0);
	load_bounds(g);
	emit(g, BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_4, 0, 0, sl_tgen_imm(&g->t));
	emit(g, BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_5, 0, 0, sl_tgen_imm(&g->t));
}

/* The callee: r0 = data_end - data of the context in r1. */
static void callee(struct pgen *g)
{
	sl_tgen_patch_calls(&g->t, g->t.n);
	ctx_load(g, BPF_DW, BPF_REG_0, BPF_REG_1, offsetof(struct sl_xdp_ctx, data_end));
	ctx_load(g, BPF_DW, BPF_REG_1, BPF_REG_1, offsetof(struct sl_xdp_ctx, data));
	emit(g, BPF_ALU64 | BPF_SUB | BPF_X, BPF_REG_0, BPF_REG_1, 0, 0);
	emit(g, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
}

/*
 * Context loads in the body: the packet length from data_end (or data_meta,
 * data) minus r2, ingress_ifindex, or data_end under a compare with an
 * immediate that dies right away (fused to cmp [m], imm: MEM_CMP).
 */
static void gen_ctx_item(struct pgen *g)
{
	static const size_t bounds[] = { offsetof(struct sl_xdp_ctx, data),
					 offsetof(struct sl_xdp_ctx, data_end),
					 offsetof(struct sl_xdp_ctx, data_meta) };
	uint8_t r = pick_sc(g);
	unsigned k = g->bounds ? sl_tgen_pick(&g->t, 3) : 1, j;

	if (k == 0) {
		ctx_load(g, BPF_DW, r, BPF_REG_1, bounds[sl_tgen_pick(&g->t, 3)]);
		emit(g, BPF_ALU64 | BPF_SUB | BPF_X, r, BPF_REG_2, 0, 0);
	} else if (k == 1) {
		ctx_load(g, BPF_W, r, BPF_REG_1, offsetof(struct sl_xdp_ctx, ingress_ifindex));
	} else {
		ctx_load(g, BPF_DW, r, BPF_REG_1, offsetof(struct sl_xdp_ctx, data_end));
		j = sl_tgen_jmp_fwd(&g->t, BPF_JMP | sl_tgen_jmp_ops[sl_tgen_pick(&g->t, 11)] | BPF_K,
				    r, 0, sl_tgen_imm(&g->t));
		emit(g, BPF_ALU64 | BPF_MOV | BPF_K, r, 0, 0, sl_tgen_imm(&g->t));
		sl_tgen_land(&g->t, j);
		emit(g, BPF_ALU64 | BPF_MOV | BPF_K, r, 0, 0, sl_tgen_imm(&g->t));
	}
}

/* "r0 = v; exit" (v a verdict or 5; 64- or 32-bit mov), or with the exit a jump target. */
static void gen_exit(struct pgen *g)
{
	unsigned j = sl_tgen_jmp_fwd(&g->t, BPF_JMP | sl_tgen_jmp_ops[sl_tgen_pick(&g->t, 11)] |
				     BPF_K, pick_sc(g), 0, sl_tgen_imm(&g->t));
	uint8_t mov = sl_tgen_chance(&g->t, 30) ? BPF_ALU : BPF_ALU64;

	emit(g, mov | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, (int32_t)sl_tgen_pick(&g->t, 6));
	if (sl_tgen_chance(&g->t, 20)) {
		unsigned t = sl_tgen_jmp_fwd(&g->t, BPF_JMP | sl_tgen_jmp_ops[sl_tgen_pick(&g->t, 11)] |
					     BPF_K, pick_sc(g), 0, sl_tgen_imm(&g->t));

		emit(g, mov | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, (int32_t)sl_tgen_pick(&g->t, 6));
		sl_tgen_land(&g->t, t);                  /* the exit is a jump target */
	}
	emit(g, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
	sl_tgen_land(&g->t, j);
}

static void gen_item(struct pgen *g)
{
	unsigned sz = sl_tgen_pick(&g->t, 4), k = sl_tgen_pick(&g->t, 11);
	unsigned bytes = sl_tgen_size_bytes[sz];
	int16_t off = (int16_t)(sl_tgen_pick(&g->t, HEAD - bytes + 1));

	if (k == 0 && g->bounds) {
		emit(g, BPF_LDX | BPF_MEM | sl_tgen_sizes[sz], pick_sc(g), BPF_REG_2, off, 0);
	} else if (k == 1 && g->bounds) {
		emit(g, BPF_STX | BPF_MEM | sl_tgen_sizes[sz], BPF_REG_2, pick_sc(g), off, 0);
	} else if (k == 2) {
		int16_t s = (int16_t)(-8 * (1 + (int)sl_tgen_pick(&g->t, 4)));

		if (sl_tgen_chance(&g->t, 50))
			emit(g, BPF_STX | BPF_MEM | BPF_DW, BPF_REG_10, pick_sc(g), s, 0);
		else
			emit(g, BPF_LDX | BPF_MEM | BPF_DW, pick_sc(g), BPF_REG_10, s, 0);
	} else if (k == 3) {
		gen_exit(g);
	} else if (k == 4 && g->spill && sl_tgen_chance(&g->t, 30)) {
		gen_helper(g);
	} else if (k == 5 && g->callee && sl_tgen_chance(&g->t, 30)) {
		gen_call(g);
	} else if (k == 6 && !g->ctx_gone) {
		gen_ctx_item(g);
	} else {
		uint8_t op = sl_tgen_alu_ops[sl_tgen_pick(&g->t, 12)];
		uint8_t cls = sl_tgen_chance(&g->t, 50) ? BPF_ALU64 : BPF_ALU;
		bool x = sl_tgen_chance(&g->t, 40);

		if (op == BPF_DIV || op == BPF_MOD)
			op = BPF_XOR;                 /* keeps the leaf free of AUX: r6/r7 spare regs */
		if (x)
			emit(g, cls | op | BPF_X, pick_sc(g), pick_sc(g), 0, 0);
		else
			emit(g, cls | op | BPF_K, pick_sc(g), 0, 0,
			     op == BPF_LSH || op == BPF_RSH || op == BPF_ARSH ?
			     (int32_t)sl_tgen_pick(&g->t, cls == BPF_ALU ? 32 : 64) :
			     sl_tgen_imm(&g->t));
	}
}

static void gen_xdp(struct pgen *g, uint64_t seed, bool bounds)
{
	unsigned extra = sl_tgen_pick(&g->t, 5), pass_jump = 0, n = 8 + sl_tgen_pick(&g->t, 40);

	(void)seed;
	g->bounds = bounds;
	g->nsc = 0;
	g->nctx = 0;
	g->spill = sl_tgen_chance(&g->t, 70);
	g->ctx_gone = !g->spill && bounds && sl_tgen_chance(&g->t, 30);
	g->callee = g->spill && bounds && sl_tgen_chance(&g->t, 15);
	for (unsigned i = 0; i < sizeof(scalars_base); i++)
		g->sc[g->nsc++] = scalars_base[i];
	for (unsigned i = 0; i < extra; i++)
		g->sc[g->nsc++] = (uint8_t)(BPF_REG_6 + i % 4);
	if (g->spill)
		emit(g, BPF_STX | BPF_MEM | BPF_DW, BPF_REG_10, BPF_REG_1, -40, 0);   /* ctx spilled */
	for (int s = 1; s <= 4; s++)
		emit(g, BPF_ST | BPF_MEM | BPF_DW, BPF_REG_10, 0, (int16_t)(-8 * s), s);
	if (bounds) {
		load_bounds(g);
		if (g->ctx_gone)
			emit(g, BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_1, 0, 0, sl_tgen_imm(&g->t));
		emit(g, BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_4, BPF_REG_2, 0, 0);
		emit(g, BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_4, 0, 0, HEAD);
		pass_jump = sl_tgen_jmp_fwd(&g->t, BPF_JMP | BPF_JGT | BPF_X, BPF_REG_4, BPF_REG_3, 0);
	} else if (g->spill || sl_tgen_chance(&g->t, 50)) {
		ctx_load(g, BPF_W, BPF_REG_4, BPF_REG_1, offsetof(struct sl_xdp_ctx, ingress_ifindex));
	}
	init_scalars(g);
	if (!bounds && sl_tgen_chance(&g->t, 50))
		ctx_load(g, BPF_W, BPF_REG_5, BPF_REG_1, offsetof(struct sl_xdp_ctx, ingress_ifindex));
	for (unsigned i = 0; i < n; i++)
		gen_item(g);
	for (unsigned i = 0; i < g->nsc; i++)          /* every scalar feeds r0 */
		emit(g, BPF_ALU64 | BPF_ADD | BPF_X, BPF_REG_0, g->sc[i], 0, 0);
	emit(g, BPF_ALU64 | BPF_AND | BPF_K, BPF_REG_0, 0, 0, 1);
	emit(g, BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_0, 0, 0, XDP_PASS);   /* PASS or TX */
	emit(g, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
	if (bounds) {
		sl_tgen_land(&g->t, pass_jump);
		emit(g, (sl_tgen_chance(&g->t, 30) ? BPF_ALU : BPF_ALU64) | BPF_MOV | BPF_K, BPF_REG_0,
		     0, 0, XDP_PASS);
		emit(g, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
	}
	if (g->callee)
		callee(g);
}

/* Packets of random length (some shorter than HEAD) and content, at a random headroom. */
static void fill_packets(struct burst_run *r, struct sl_rng *rng)
{
	for (unsigned i = 0; i < NPKTS; i++) {
		struct desc *d = &r->descs[i];

		for (unsigned b = 0; b < ROOM; b++)
			r->bufs[i][b] = (uint8_t)sl_rng_u64(rng);
		d->buf = r->bufs[i];
		d->off = (uint16_t)sl_rng_below(rng, 64);
		d->len = (uint16_t)(sl_rng_chance(rng, 15) ? sl_rng_below(rng, HEAD) :
				    HEAD + sl_rng_below(rng, ROOM - 64 - HEAD));
		r->ptrs[i] = d;
	}
	for (unsigned i = NPKTS; i < NPKTS + PREFETCH; i++)
		r->ptrs[i] = &r->descs[NPKTS - 1];
}

static void ctx_of(struct sl_xdp_ctx *x, const struct desc *d)
{
	memset(x, 0, sizeof(*x));
	x->ingress_ifindex = 3;
	x->rx_queue_index = 1;
	x->data = d->buf + d->off;
	x->data_meta = x->data;
	x->data_end = d->buf + d->off + d->len;
}

/* The burst entry over all packets, restarted after each stop: r0 per packet. */
static bool run_burst(sl_jit_burst_fn fn, struct burst_run *r, uint64_t idx)
{
	void *const *cur = (void *const *)r->ptrs, *const *end = cur + NPKTS;

	while (cur < end) {
		struct sl_jit_burst b;
		uint64_t r0;

		memset(&b.ctx, 0, sizeof(b.ctx));
		b.ctx.ingress_ifindex = 3;
		b.ctx.rx_queue_index = 1;
		b.cur = cur;
		b.end = end;
		r0 = fn(&b);
		if (b.cur < cur || b.cur > end)
			return FAIL("program %" PRIu64 ": cur moved out of [cur, end]", idx);
		for (void *const *p = cur; p < b.cur; p++)
			r->r0[p - (void *const *)r->ptrs] = XDP_PASS;
		if (b.cur == end) {
			if (!CHECK_EQ(r0, XDP_PASS))
				return false;
			break;
		}
		r->r0[b.cur - (void *const *)r->ptrs] = r0;
		if (!CHECK(r0 != XDP_PASS, "program %" PRIu64 ": stopped on a plain pass", idx))
			return false;
		cur = b.cur + 1;
	}
	return true;
}

/* The program, with the verifier's context marks on its context loads when @p marks. */
static struct sl_prog *make_prog(struct pgen *g, bool marks)
{
	char log[256];
	struct sl_prog *p = sl_prog_from_raw(g->t.insns, g->t.n * sizeof(struct bpf_insn),
					     SL_PROG_XDP, 0, log, sizeof(log));

	if (!p)
		FATAL("sl_prog_from_raw: %s", log);
	p->verified = true;  /* valid by construction (test code only) */
	for (unsigned i = 0; marks && i < g->nctx; i++)
		p->aux[g->ctx_pc[i]].ctx_access = 1;
	return p;
}

/* One program: interpreter, per-packet entry and burst entry on copies of the same packets. */
static int one(uint64_t idx, struct sl_rng *rng, unsigned *taken, unsigned *refused)
{
	static struct burst_run ri, rj, rb;
	struct pgen g;
	bool bounds = sl_rng_chance(rng, 70);
	struct sl_jit_burst_layout l = {
		.buf_addr = offsetof(struct desc, buf), .data_off = offsetof(struct desc, off),
		.data_len = offsetof(struct desc, len), .bounds = bounds,
		.prefetch = bounds && sl_rng_chance(rng, 50) ? PREFETCH : 0,
		/* a prefetch at a guessed place (past the descriptor) or at the data */
		.prefetch_at = sl_rng_chance(rng, 50) ? (uint16_t)sizeof(struct desc) : 0 };
	struct sl_jit_opts jo = { .sz = sizeof(jo), .blind_constants = idx % 5 == 4 };
	struct sl_prog *p;
	struct sl_jit *jit;
	sl_jit_burst_fn bfn;
	int rc = 0;

	sl_tgen_init(&g.t, sl_rng_make(sl_rng_u64(rng), SL_RNG_XORSHIFT_STAR), 0);
	gen_xdp(&g, idx, bounds);
	p = make_prog(&g, sl_rng_chance(rng, 80));
	fill_packets(&ri, rng);
	memcpy(&rj, &ri, sizeof(ri));
	memcpy(&rb, &ri, sizeof(ri));
	for (unsigned i = 0; i < NPKTS; i++) {      /* pointers into each copy's own buffers */
		rj.descs[i].buf = rj.bufs[i];
		rb.descs[i].buf = rb.bufs[i];
		rj.ptrs[i] = &rj.descs[i];
		rb.ptrs[i] = &rb.descs[i];
	}
	for (unsigned i = NPKTS; i < NPKTS + PREFETCH; i++)
		rb.ptrs[i] = &rb.descs[NPKTS - 1];
	jit = sl_jit_compile(p, &jo, NULL, 0);
	if (!jit)
		FATAL("program %" PRIu64 ": JIT refused it (errno %d)", idx, errno);
	errno = 0;
	bfn = sl_jit_burst_entry(jit, &l);
	if (!bfn) {
		(*refused)++;
		CHECK_EQ(errno, ENOTSUP);
	} else {
		(*taken)++;
		CHECK(sl_jit_burst_entry(jit, &l) == bfn, "second call: the same entry");
	}
	for (unsigned i = 0; i < NPKTS; i++) {
		struct sl_xdp_ctx xi, xj;
		struct sl_vm_result res = { 0 };

		ctx_of(&xi, &ri.descs[i]);
		ctx_of(&xj, &rj.descs[i]);
		ri.r0[i] = sl_vm_exec(p, &xi, NULL, &res);
		rj.r0[i] = sl_jit_entry(jit)(&xj, 0);
		if (!CHECK(!res.err, "program %" PRIu64 " packet %u: interpreter: %s", idx, i,
			   res.msg) || !CHECK_EQ(ri.r0[i], rj.r0[i]))
			rc = 1;
	}
	if (bfn && !run_burst(bfn, &rb, idx))
		rc = 1;
	for (unsigned i = 0; bfn && !rc && i < NPKTS; i++)
		if (!CHECK_EQ(rb.r0[i], rj.r0[i]))
			rc = 1;
	if (!CHECK(!memcmp(ri.bufs, rj.bufs, sizeof(ri.bufs)), "program %" PRIu64
		   ": interpreter and JIT left different packets", idx) ||
	    !CHECK(!bfn || !memcmp(rb.bufs, rj.bufs, sizeof(rb.bufs)), "program %" PRIu64
		   ": burst entry and JIT left different packets", idx))
		rc = 1;
	if (rc)
		sl_tgen_dump(g.t.insns, g.t.n, 0, stderr);
	sl_jit_free(jit);
	sl_prog_free(p);
	return rc;
}

/* A program that is not XDP, and the burst fields' offsets the entry assumes. */
static void fixed_cases(void)
{
	static const struct bpf_insn ret2[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0, .imm = 2 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	struct sl_jit_burst_layout l = { 0 };
	struct sl_prog *p = sl_prog_from_raw(ret2, sizeof(ret2), SL_PROG_RAW, 16, NULL, 0);
	struct sl_jit *jit;

	if (!p)
		FATAL("sl_prog_from_raw failed");
	p->verified = true;
	jit = sl_jit_compile(p, NULL, NULL, 0);
	CHECK(jit != NULL, "raw program compiles");
	errno = 0;
	CHECK(jit && sl_jit_burst_entry(jit, &l) == NULL && errno == ENOTSUP,
	      "a raw program has no burst entry (ENOTSUP)");
	CHECK(jit && sl_jit_entry(jit)(NULL, 0) == 2, "its per-packet entry still runs");
	sl_jit_free(jit);
	sl_prog_free(p);
	CHECK_EQ(offsetof(struct sl_jit_burst, ctx), 0);
}

int main(int argc, char **argv)
{
	unsigned long count = argc > 1 ? strtoul(argv[1], NULL, 0) : 2000;
	uint64_t seed = argc > 2 ? strtoull(argv[2], NULL, 0) : 0xb0257ull;
	struct sl_rng rng = sl_rng_make(seed, SL_RNG_XORSHIFT_STAR);
	unsigned taken = 0, refused = 0, bad = 0;

	printf("test_jit_burst: %lu programs, seed 0x%" PRIx64 "\n", count, seed);
	fixed_cases();
	for (uint64_t i = 0; i < count && bad < 5; i++)
		bad += (unsigned)one(i, &rng, &taken, &refused);
	printf("burst entries %u, refused (ENOTSUP) %u\n", taken, refused);
	CHECK(taken > count / 4, "most programs get a burst entry (%u of %lu)", taken, count);
	CHECK(refused > 0, "some programs (saving registers) are refused");
	return sl_test_done("test_jit_burst");
}
