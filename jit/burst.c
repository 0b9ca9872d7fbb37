/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Burst entry of an XDP program: the program's code inside a loop over the
 * packets of a burst, so that a run of plain passes costs neither a call
 * and a return per packet nor a context built by the caller.
 *
 * The entry is a second compilation of the program (jit_compile() with a
 * layout): the same instruction selection, with the main function's start
 * and end replaced. SysV call burst(b), b a struct sl_jit_burst (ctx first,
 * so r1 = b):
 *
 *   push rbx; push r12; push r13; push rbp (; push r14; push r15: when
 *                                            the bounds live there, nsaved())
 *                                            rsp 8 mod 16 again, as at a call
 *   mov r12, rdi                             b: survives helpers (callee-saved)
 *   mov r13, [r12 + end]
 *   mov rbx, [r12 + cur]; sub rbx, r13       descriptor at [r13 + rbx], rbx < 0
 * loop:                                      (cur < end: the caller's promise)
 *   (layout->bounds) a prefetch a few packets ahead (at its descriptor +
 *                    prefetch_at, or at its data); the packet's bounds
 *                    (data = data_off + buf_addr, data_end = data + data_len):
 *                    in r14 (data, data_meta) and r15 (data_end), or the
 *                    register of a load at entry (pick_homes()), when the
 *                    program's loads of them can read registers
 *                    (ctx_in_regs()), else into b->ctx.data, data_meta,
 *                    data_end
 *   (r1 read)        mov rdi, r12            r1 = &b->ctx
 *   <the main function: prologue, body; every exit jumps to its epilogue,
 *    an exit whose r0 is XDP_PASS to next (after the epilogue)>
 * epi:
 *   <its epilogue, without ret>
 *   cmp rax, XDP_PASS; jne stop              not a plain pass: the caller decides
 * next:
 *   add rbx, 8; jnz loop
 *   mov eax, XDP_PASS                        the burst ran to its end
 * stop:
 *   add rbx, r13; mov [r12 + cur], rbx; pop ... pop rbx; ret   (rax = r0)
 *
 * When the main function ends in a pass (its last instruction an exit
 * after "r0 = XDP_PASS"), that exit falls into next instead, and epi comes
 * after it: "... jnz loop; mov eax, XDP_PASS; jmp stop; epi: <epilogue>;
 * cmp rax, XDP_PASS; je next; stop: ...". A run of passes then costs no
 * compare of r0, and the "r0 = XDP_PASS" right before such an exit is not
 * emitted (drop_pass_movs(): nothing else reads it).
 *
 * Context fields in registers: in an entry with bounds, a load of
 * ctx.data or ctx.data_meta becomes "mov dst, r14" and one of data_end
 * "mov dst, r15" (the ldx hook), and the loop writes no context field, when
 * every such load of the program is in the main function and emitted as a
 * plain load (no fusion reads the field from memory); the verifier marks
 * them (aux ctx_access) and refuses one instruction used with the context
 * and another pointer. Otherwise the fields are stored as before and loads
 * read them. The caller never reads them back: for the packet the entry
 * stops at, the engine fills the context itself.
 *
 * Why this is safe: rbx, r12, r13 hold the loop's state across the body,
 * r14 and r15 the bounds.
 * r12 is used only by programs that tail call, and rbx/r13-r15 only by a
 * main function that saves them, so burst_prepare() takes only programs
 * without tail calls whose main function saves no register; helpers and
 * bpf-to-bpf callees preserve callee-saved registers. Bounds cannot move
 * in such a program when no helper takes the context (the engine's
 * sl_exec.xdp_ctx decides whether it asks for an entry), so r0 alone
 * tells a plain pass. Each exit jumps to the epilogue (the short epilogue
 * is never copied in place of a jump: it would return).
 *
 * Control thread (compilation); the entry runs on workers: no locks, no
 * allocation.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include "jit_state.h"

#define CUR ((int32_t)offsetof(struct sl_jit_burst, cur))
#define END ((int32_t)offsetof(struct sl_jit_burst, end))
#define DATA_REG X_R14    /* ctx.data and ctx.data_meta, with the context in registers */
#define DEND_REG X_R15    /* ctx.data_end */
#define NO_PC UINT32_MAX
/* the per-packet fields of sl_xdp_ctx come first; the per-burst ones from here */
#define BURST_FIELDS ((int16_t)offsetof(struct sl_xdp_ctx, ingress_ifindex))

static const uint8_t saved_regs[] = { X_RBX, X_R12, X_R13, X_RBP, X_R14, X_R15 };

/* The field a context load at @p off reads: 0 data (or data_meta, the same), 1 data_end, or -1. */
static int field_of(int16_t off)
{
	if (off == (int16_t)offsetof(struct sl_xdp_ctx, data) ||
	    off == (int16_t)offsetof(struct sl_xdp_ctx, data_meta))
		return 0;
	if (off == (int16_t)offsetof(struct sl_xdp_ctx, data_end))
		return 1;
	return -1;
}

/*
 * Can every load of data, data_meta and data_end read a register? Each one
 * (a verifier-marked context access below the per-burst fields) must be in
 * the main function and be emitted by do_ldx() as a plain 8-byte load.
 */
static bool ctx_in_regs(const struct jit_state *st)
{
	const struct sl_prog *p = st->prog;
	const struct jit_sub *m = &st->subs[0];
	bool marked = false;

	if (!st->burst->layout->bounds || !p->aux)
		return false;
	for (uint32_t pc = 0; pc < p->n_insns; pc++) {
		const struct bpf_insn *in = &p->insns[pc];

		if (!p->aux[pc].ctx_access || in->off >= BURST_FIELDS)
			continue;
		marked = true;
		if (st->dead[pc])
			continue;
		if (pc < m->start || pc >= m->end || st->fuse[pc] ||
		    in->code != (BPF_LDX | BPF_MEM | BPF_DW) || field_of(in->off) < 0)
			return false;
	}
	return marked;  /* bounds asked for and no load marked: no marks to trust */
}

/* Does instruction @p in (not a jump, call or lddw) read register @p r? */
static bool reads_reg(const struct bpf_insn *in, uint8_t r)
{
	uint8_t cls = SL_OP_CLASS(in->code);

	switch (cls) {
	case BPF_ALU:
	case BPF_ALU64:
		return (SL_OP_SRC(in->code) == BPF_X && in->src_reg == r) ||
		       (SL_OP_CODE(in->code) != BPF_MOV && in->dst_reg == r);
	case BPF_LDX:
		return in->src_reg == r;
	case BPF_ST:
	case BPF_STX:
		return in->dst_reg == r || in->src_reg == r;
	}
	return true;  /* LD_ABS / LD_IND */
}

/*
 * Does the main function read r1 (the context) at entry, other than by a
 * load ctx_in_regs() turns into a register move? Walks the straight line
 * from the entry to the first write of r1 or an exit; a jump, a call or a
 * jump target on the way counts as a read.
 */
static bool entry_reads_r1(const struct jit_state *st)
{
	const struct sl_prog *p = st->prog;

	for (uint32_t pc = 0; pc < st->subs[0].end; pc++) {
		const struct bpf_insn *in = &p->insns[pc];
		uint8_t cls = SL_OP_CLASS(in->code);

		if (pc && st->targets[pc])
			return true;
		if (st->dead[pc] && !sl_isa_is_lddw(in)) {     /* no code: reads nothing */
			if (jit_writes(in, BPF_REG_1))
				return false;
			continue;
		}
		if (st->burst_ctx_regs && p->aux[pc].ctx_access && in->off < BURST_FIELDS) {
			if (in->dst_reg == BPF_REG_1)
				return false;
			continue;
		}
		if (in->code == (BPF_JMP | BPF_EXIT))
			return false;
		if (cls == BPF_JMP || cls == BPF_JMP32)
			return true;
		if (sl_isa_is_lddw(in)) {
			if (in->dst_reg == BPF_REG_1)
				return false;
			pc++;
			continue;
		}
		if (reads_reg(in, BPF_REG_1))
			return true;
		if (jit_writes(in, BPF_REG_1))
			return false;
	}
	return true;
}

/*
 * The mov that sets r0 to XDP_PASS for the exit at @p pc, found in its
 * basic block; -1 when r0 is not known to be XDP_PASS there.
 */
static int64_t pass_def(const struct jit_state *st, uint32_t pc)
{
	int64_t k = jit_reg_def(st->prog, st->targets, pc, BPF_REG_0);
	const struct bpf_insn *in = k >= 0 ? &st->prog->insns[k] : NULL;

	return in && (in->code == (BPF_ALU64 | BPF_MOV | BPF_K) ||
		      in->code == (BPF_ALU | BPF_MOV | BPF_K)) && in->off == 0 &&
	       in->imm == XDP_PASS ? k : -1;
}

/*
 * "r0 = XDP_PASS" right before an exit of the main function that is not a
 * jump target: only that exit reads it, and the entry needs no r0 for a
 * pass (its loop sets eax once, when it ends), so it emits nothing.
 */
static void drop_pass_movs(struct jit_state *st)
{
	const struct sl_prog *p = st->prog;

	for (uint32_t pc = 1; pc < st->subs[0].end; pc++)
		if (p->insns[pc].code == (BPF_JMP | BPF_EXIT) && pass_def(st, pc) == (int64_t)pc - 1 &&
		    !st->fuse[pc - 1] && !(pc > 1 && sl_isa_is_lddw(&p->insns[pc - 2])))
			st->dead[pc - 1] = 1;
}

/*
 * Is the load at @p pc on the straight line from the entry, with no
 * instruction before it reading or writing its destination register?
 * Then the loop can put the field straight into that register.
 */
static bool entry_load(const struct jit_state *st, uint32_t pc)
{
	const struct sl_prog *p = st->prog;
	uint8_t dst = p->insns[pc].dst_reg;

	for (uint32_t k = 0; k <= pc; k++) {
		const struct bpf_insn *in = &p->insns[k];
		uint8_t cls = SL_OP_CLASS(in->code);

		if (k && st->targets[k])
			return false;
		if (k == pc)
			return true;
		if (cls == BPF_JMP || cls == BPF_JMP32)
			return false;
		if (sl_isa_is_lddw(in)) {
			if (in->dst_reg == dst)
				return false;
			k++;
			continue;
		}
		if (reads_reg(in, dst) || jit_writes(in, dst))
			return false;
	}
	return false;
}

/*
 * Where the loop keeps data and data_end (ctx_in_regs()): r14 and r15, or,
 * for a field the program loads exactly once, on the straight line from
 * the entry (entry_load()), in that load's destination register (the load
 * then emits nothing). The loop computes them with one scratch register
 * that is neither (scratch_reg()).
 */
static void pick_homes(struct jit_state *st)
{
	const struct sl_prog *p = st->prog;
	uint32_t n[2] = { 0, 0 }, at[2] = { NO_PC, NO_PC };

	st->burst_home[0] = DATA_REG;
	st->burst_home[1] = DEND_REG;
	st->burst_direct[0] = st->burst_direct[1] = NO_PC;
	for (uint32_t pc = 0; pc < p->n_insns; pc++) {
		int f = field_of(p->insns[pc].off);

		if (p->aux[pc].ctx_access && !st->dead[pc] && p->insns[pc].off < BURST_FIELDS &&
		    f >= 0) {
			n[f]++;
			at[f] = pc;
		}
	}
	for (int f = 0; f < 2; f++) {
		uint8_t r = n[f] == 1 ? st->subs[0].rmap[p->insns[at[f]].dst_reg] : 0;

		if (n[f] != 1 || !entry_load(st, at[f]) || (r == X_RDI && st->burst_r1) ||
		    r == st->burst_home[1 - f])
			continue;
		st->burst_home[f] = r;
		st->burst_direct[f] = at[f];
	}
}

/* Can the main function run inside the loop? 0, or -ENOTSUP with a log line. */
static int burst_prepare(struct jit_state *st)
{
	const struct sl_prog *p = st->prog;
	struct jit_sub *main_fn = &st->subs[0];

	if (p->type != SL_PROG_XDP)
		return jit_fail(st, -ENOTSUP, "burst entry: not an XDP program");
	if (st->tail_calls)
		return jit_fail(st, -ENOTSUP, "burst entry: the program makes tail calls");
	if (main_fn->nsaved)
		return jit_fail(st, -ENOTSUP, "burst entry: the main function saves registers");
	for (uint32_t pc = 0; pc < p->n_insns; pc++) {
		const struct bpf_insn *in = &p->insns[pc];

		if (((in->code == (BPF_JMP | BPF_CALL) && in->src_reg == BPF_PSEUDO_CALL) ||
		     (sl_isa_is_lddw(in) && in->src_reg == BPF_PSEUDO_FUNC)) &&
		    (int64_t)pc + 1 + in->imm == 0)
			return jit_fail(st, -ENOTSUP, "burst entry: the main function is called");
	}
	main_fn->epi_size = UINT32_MAX;  /* exits jump to the epilogue, never return */
	st->burst_ctx_regs = ctx_in_regs(st);
	st->burst_r1 = entry_reads_r1(st);
	if (st->burst_ctx_regs)
		pick_homes(st);
	drop_pass_movs(st);
	return 0;
}

/*
 * ldx hook: a load of data / data_meta / data_end (ctx_in_regs()) is a
 * register move from the field's home, or nothing when it is the home.
 */
static bool burst_ldx(struct jit_state *st, const struct bpf_insn *in)
{
	int f;

	if (!st->burst_ctx_regs || st->sub != &st->subs[0] || !st->prog->aux[st->pc].ctx_access ||
	    in->off >= BURST_FIELDS)
		return false;
	f = field_of(in->off);
	if (st->burst_direct[f] != st->pc)
		x86_mov_rr(&st->e, true, st->rmap[in->dst_reg], st->burst_home[f]); /* mov dst, home */
	return true;
}

/*
 * Exit hook: in the main function, an exit with r0 XDP_PASS runs the
 * epilogue and jumps to next (the previous pass's offset, rel8 where that
 * pass's displacement fitted, as emit_branch()); the last instruction
 * falls into the tail, which puts next there.
 */
static bool burst_exit(struct jit_state *st)
{
	struct x86_emit *e = &st->e;
	int64_t prev, rel;
	bool rel8;

	if (st->sub != &st->subs[0] || pass_def(st, st->pc) < 0)
		return false;
	if (st->pc + 1 == st->sub->end) {
		st->burst_fall_pass = true;
		return true;
	}
	jit_emit_epilogue_of(e, st->sub, false);
	prev = (int64_t)st->burst_next[0] - (int64_t)st->ends[st->pc];
	rel8 = !st->first_pass && prev >= -128 && prev <= 127;
	rel = (int64_t)st->burst_next[0] - (int64_t)(e->len + x86_jcc_size(CC_ALWAYS, rel8));
	x86_jcc_rel(e, CC_ALWAYS, (int32_t)rel, rel8);              /* jmp next */
	return true;
}

/*
 * op [@p base + @p off] with a REX prefix (W when @p w64) and the ModRM
 * (+disp) of the plain form: @p base is rcx, rdx or scratch_reg()'s
 * (never rsp, rbp, r12 or r13, which need a SIB byte or a displacement).
 */
static void emit_rm(struct x86_emit *e, bool w64, uint8_t op0, uint8_t op1, int reg, int base,
		    int32_t off)
{
	uint8_t rex = (uint8_t)(0x40 | (w64 ? 8 : 0) | (reg >= 8 ? 4 : 0) | (base >= 8 ? 1 : 0));
	uint8_t mod = off == 0 ? 0 : off >= -128 && off <= 127 ? 1 : 2;

	if (rex != 0x40)
		x86_byte(e, rex);
	x86_byte(e, op0);
	if (op1)
		x86_byte(e, op1);
	x86_byte(e, (uint8_t)(mod << 6 | (reg & 7) << 3 | (base & 7)));
	if (mod == 1)
		x86_byte(e, (uint8_t)off);
	else if (mod == 2)
		x86_u32(e, (uint32_t)off);
}

/*
 * @p dst = the packet data of the mbuf at [r13 + rbx + @p slot * 8]
 * (data_off + buf_addr, the second read by the add); @p m = the mbuf.
 */
static void emit_data_of(struct x86_emit *e, const struct sl_jit_burst_layout *l, int32_t slot,
			 int dst, int m)
{
	x86_load_index(e, 8, m, X_R13, X_RBX, 1, 8 * slot);          /* mov m, [r13 + rbx + 8k] */
	x86_load(e, 2, dst, m, l->data_off);                          /* movzx dst32, word [m + off] */
	emit_rm(e, true, 0x03, 0, dst, m, l->buf_addr);               /* add dst, [m + buf_addr] */
}

/*
 * prefetcht0 of the packet @p l->prefetch ahead: at its descriptor +
 * prefetch_at when the layout gives that (one load: where the data of a
 * received packet usually is), else at its data (three loads).
 */
static void emit_prefetch(struct x86_emit *e, const struct sl_jit_burst_layout *l)
{
	if (l->prefetch_at) {
		x86_load_index(e, 8, X_RDX, X_R13, X_RBX, 1, 8 * (int32_t)l->prefetch);
		emit_rm(e, false, 0x0f, 0x18, 1, X_RDX, l->prefetch_at); /* prefetcht0 [rdx + at] */
		return;
	}
	emit_data_of(e, l, (int32_t)l->prefetch, X_RCX, X_RDX);
	emit_rm(e, false, 0x0f, 0x18, 1, X_RCX, 0);                  /* prefetcht0 [rcx] */
}

/* A scratch register (the mbuf) that is not one of the bounds' homes (pick_homes()). */
static int scratch_reg(const struct jit_state *st)
{
	static const uint8_t cand[] = { X_R11, X_RAX, X_RCX };

	for (unsigned i = 0; i < sizeof(cand); i++)
		if (cand[i] != st->burst_home[0] && cand[i] != st->burst_home[1])
			return cand[i];
	return X_RDX;  /* not reached: two homes, three candidates */
}

/*
 * The bounds of the packet at [r13 + rbx], after the prefetch: into their
 * homes (pick_homes()), or into b->ctx (ctx_in_regs()).
 */
static void emit_bounds(struct jit_state *st)
{
	const struct sl_jit_burst_layout *l = st->burst->layout;
	struct x86_emit *e = &st->e;

	if (l->prefetch)
		emit_prefetch(e, l);
	if (st->burst_ctx_regs) {
		int data = st->burst_home[0], end = st->burst_home[1], m = scratch_reg(st);

		emit_data_of(e, l, 0, data, m);
		x86_load(e, 2, end, m, l->data_len);                  /* movzx end32, word [m + len] */
		x86_alu_rr(e, true, ALU_ADD, end, data);              /* add end, data */
	} else {
		emit_data_of(e, l, 0, X_RCX, X_RDX);
		x86_store(e, 8, X_R12, offsetof(struct sl_xdp_ctx, data), X_RCX);      /* mov [r12], rcx */
		x86_store(e, 8, X_R12, offsetof(struct sl_xdp_ctx, data_meta), X_RCX); /* mov [r12+16], rcx */
		x86_load(e, 2, X_RSI, X_RDX, l->data_len);            /* movzx esi, word [rdx + len] */
		x86_alu_rr(e, true, ALU_ADD, X_RCX, X_RSI);           /* add rcx, rsi */
		x86_store(e, 8, X_R12, offsetof(struct sl_xdp_ctx, data_end), X_RCX);  /* mov [r12+8], rcx */
	}
}

/*
 * How many of saved_regs the entry saves: rbx, r12, r13 (the loop's
 * state) and rbp, which keeps rsp 8 mod 16 (an even count of pushes), plus
 * r14 and r15 when a bound's home is one of them (pick_homes()). The main
 * function saves what it uses itself (rbp as a frame pointer), and nothing
 * else (burst_prepare()).
 */
static unsigned nsaved(const struct jit_state *st)
{
	for (int f = 0; st->burst_ctx_regs && f < 2; f++)
		if (st->burst_home[f] == X_R14 || st->burst_home[f] == X_R15)
			return sizeof(saved_regs);
	return 4;
}

static void burst_head(struct jit_state *st)
{
	struct x86_emit *e = &st->e;

	for (unsigned i = 0; i < nsaved(st); i++)
		x86_push(e, saved_regs[i]);
	x86_mov_rr(e, true, X_R12, X_RDI);                            /* mov r12, rdi */
	x86_load(e, 8, X_R13, X_R12, END);                            /* mov r13, [r12 + end] */
	x86_load(e, 8, X_RBX, X_R12, CUR);                            /* mov rbx, [r12 + cur] */
	x86_alu_rr(e, true, ALU_SUB, X_RBX, X_R13);                   /* sub rbx, r13 */
	st->burst_next[0] = st->burst_next[1];
	st->burst_fall_pass = false;
	st->burst_loop = (uint32_t)e->len;
	if (st->burst->layout->bounds)
		emit_bounds(st);
	if (st->burst_r1)
		x86_mov_rr(e, true, X_RDI, X_R12);                    /* mov rdi, r12 */
}

/*
 * next: the step to the following packet; at the end of the burst it falls
 * out of the loop with eax = XDP_PASS (drop_pass_movs() may have left r0 unset).
 */
static void emit_next(struct jit_state *st)
{
	struct x86_emit *e = &st->e;

	st->burst_next[1] = (uint32_t)e->len;
	x86_alu_ri(e, true, ALU_ADD, X_RBX, 8);                       /* add rbx, 8 */
	x86_jcc_rel(e, CC_NE, (int32_t)((int64_t)st->burst_loop -     /* jnz loop (rel32) */
					(int64_t)(e->len + x86_jcc_size(CC_NE, false))), false);
	x86_mov_ri(e, false, X_RAX, XDP_PASS);                        /* mov eax, XDP_PASS */
}

static void burst_tail(struct jit_state *st)
{
	struct x86_emit *e = &st->e;
	size_t stop;

	jit_emit_epilogue_of(e, st->sub, false);
	if (st->burst_fall_pass) {
		size_t next = e->len;

		emit_next(st);
		stop = x86_jcc8_fwd(e, CC_ALWAYS);                    /* jmp stop */
		st->sub->new_epi = (uint32_t)e->len;                  /* where the other exits go */
		jit_emit_epilogue_of(e, st->sub, false);
		x86_alu_ri(e, true, ALU_CMP, X_RAX, XDP_PASS);        /* cmp rax, XDP_PASS */
		x86_jcc8_back(e, CC_E, next);                         /* je next */
	} else {
		x86_alu_ri(e, true, ALU_CMP, X_RAX, XDP_PASS);        /* cmp rax, XDP_PASS */
		stop = x86_jcc8_fwd(e, CC_NE);                        /* jne stop */
		emit_next(st);
	}
	x86_bind8(e, stop);
	x86_alu_rr(e, true, ALU_ADD, X_RBX, X_R13);                   /* add rbx, r13 */
	x86_store(e, 8, X_R12, CUR, X_RBX);                           /* mov [r12 + cur], rbx */
	for (unsigned i = nsaved(st); i-- > 0;)
		x86_pop(e, saved_regs[i]);
	x86_ret(e);
}

sl_jit_burst_fn sl_jit_burst_entry(struct sl_jit *jit, const struct sl_jit_burst_layout *layout)
{
	const struct jit_burst b = { layout, burst_prepare, burst_head, burst_tail, burst_ldx,
				     burst_exit };

	if (!jit->burst)
		jit->burst = jit_compile(jit->prog, &jit->opts, &b, NULL, 0);
	return jit->burst ? (sl_jit_burst_fn)(uintptr_t)jit->burst->entry : NULL;
}
