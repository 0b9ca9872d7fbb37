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
 *   push rbx; push r12; push r13; push r14   rsp 8 mod 16 again, as at a call
 *   mov r12, rdi                             b: survives helpers (callee-saved)
 *   mov rbx, [r12 + cur]                     descriptor pointer, walks
 *   mov r13, [r12 + end]
 * loop:
 *   (layout->bounds) ctx.data = ctx.data_meta = buf_addr + data_off,
 *                    ctx.data_end = data + data_len; prefetch a packet ahead
 *   mov rdi, r12                             r1 = &b->ctx
 *   <the main function: prologue, body; every exit jumps to its epilogue>
 *   <its epilogue, without ret>
 *   cmp rax, XDP_PASS; jne stop              not a plain pass: the caller decides
 *   add rbx, 8; cmp rbx, r13; jb loop
 * stop:
 *   mov [r12 + cur], rbx; pop r14; pop r13; pop r12; pop rbx; ret   (rax = r0)
 *
 * Why this is safe: rbx, r12, r13 hold the loop's state across the body.
 * r12 is used only by programs that tail call, and rbx/r13 only by a main
 * function that saves them, so burst_prepare() takes only programs
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
	return 0;
}

/* rcx = the packet data of the mbuf at [rbx + @p slot * 8] (buf_addr + data_off); rdx = the mbuf. */
static void emit_data_of(struct x86_emit *e, const struct sl_jit_burst_layout *l, int32_t slot)
{
	x86_load(e, 8, X_RDX, X_RBX, 8 * slot);                       /* mov rdx, [rbx + 8k] */
	x86_load(e, 8, X_RCX, X_RDX, l->buf_addr);                    /* mov rcx, [rdx + buf_addr] */
	x86_load(e, 2, X_RSI, X_RDX, l->data_off);                    /* movzx esi, word [rdx + off] */
	x86_alu_rr(e, true, ALU_ADD, X_RCX, X_RSI);                   /* add rcx, rsi */
}

/* Fill data, data_meta and data_end of b->ctx from the descriptor at [rbx]. */
static void emit_bounds(struct jit_state *st)
{
	const struct sl_jit_burst_layout *l = st->burst->layout;
	struct x86_emit *e = &st->e;

	emit_data_of(e, l, 0);
	x86_store(e, 8, X_R12, offsetof(struct sl_xdp_ctx, data), X_RCX);      /* mov [r12], rcx */
	x86_store(e, 8, X_R12, offsetof(struct sl_xdp_ctx, data_meta), X_RCX); /* mov [r12+16], rcx */
	x86_load(e, 2, X_RSI, X_RDX, l->data_len);                    /* movzx esi, word [rdx + len] */
	x86_alu_rr(e, true, ALU_ADD, X_RCX, X_RSI);                   /* add rcx, rsi */
	x86_store(e, 8, X_R12, offsetof(struct sl_xdp_ctx, data_end), X_RCX);  /* mov [r12+8], rcx */
	if (!l->prefetch)
		return;
	emit_data_of(e, l, (int32_t)l->prefetch);
	x86_byte(e, 0x0f);                                            /* prefetcht0 [rcx] */
	x86_byte(e, 0x18);
	x86_byte(e, 0x09);
}

static void burst_head(struct jit_state *st)
{
	struct x86_emit *e = &st->e;

	x86_push(e, X_RBX);
	x86_push(e, X_R12);
	x86_push(e, X_R13);
	x86_push(e, X_R14);                                           /* alignment */
	x86_mov_rr(e, true, X_R12, X_RDI);                            /* mov r12, rdi */
	x86_load(e, 8, X_RBX, X_R12, CUR);                            /* mov rbx, [r12 + cur] */
	x86_load(e, 8, X_R13, X_R12, END);                            /* mov r13, [r12 + end] */
	st->burst_loop = (uint32_t)e->len;
	if (st->burst->layout->bounds)
		emit_bounds(st);
	x86_mov_rr(e, true, X_RDI, X_R12);                            /* mov rdi, r12 */
}

static void burst_tail(struct jit_state *st)
{
	struct x86_emit *e = &st->e;
	size_t stop;

	jit_emit_epilogue_of(e, st->sub, false);
	x86_alu_ri(e, true, ALU_CMP, X_RAX, XDP_PASS);                /* cmp rax, XDP_PASS */
	stop = x86_jcc8_fwd(e, CC_NE);                                /* jne stop */
	x86_alu_ri(e, true, ALU_ADD, X_RBX, 8);                       /* add rbx, 8 */
	x86_alu_rr(e, true, ALU_CMP, X_RBX, X_R13);                   /* cmp rbx, r13 */
	x86_jcc_rel(e, CC_B, (int32_t)((int64_t)st->burst_loop -      /* jb loop (rel32) */
				       (int64_t)(e->len + x86_jcc_size(CC_B, false))), false);
	x86_bind8(e, stop);
	x86_store(e, 8, X_R12, CUR, X_RBX);                           /* mov [r12 + cur], rbx */
	x86_pop(e, X_R14);
	x86_pop(e, X_R13);
	x86_pop(e, X_R12);
	x86_pop(e, X_RBX);
	x86_ret(e);
}

sl_jit_burst_fn sl_jit_burst_entry(struct sl_jit *jit, const struct sl_jit_burst_layout *layout)
{
	const struct jit_burst b = { layout, burst_prepare, burst_head, burst_tail };

	if (!jit->burst)
		jit->burst = jit_compile(jit->prog, &jit->opts, &b, NULL, 0);
	return jit->burst ? (sl_jit_burst_fn)(uintptr_t)jit->burst->entry : NULL;
}
