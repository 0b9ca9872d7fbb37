/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * x86-64 JIT: loads, stores, atomics, lddw and the legacy packet loads
 * (control thread, part of sl_jit_compile(); the register map is at the
 * top of jit.c).
 *
 * r10 as a base in a function without rbp is rsp plus the frame's size
 * (jit_mem_base()). Atomic add/or/and/xor without fetch are one lock-prefixed
 * instruction, add with fetch is lock xadd, or/and/xor with fetch a
 * cmpxchg loop on rax (r0 saved in AUX). An lddw of a map, a map value or
 * a callback loads its address as an immediate. LD_ABS / LD_IND check the
 * bounds inline and end the function with r0 = 0 outside the packet.
 * Also fuse_late.c's MEM_ALU (load, op with an immediate, store back as one
 * read-modify-write instruction) and ST_K (the store of a register holding
 * a constant as the store of the immediate).
 */
#include <errno.h>
#include <stddef.h>

#include "jit_state.h"
#include "sl_maps.h"

/* ---- loads and stores ---- */

int jit_do_ldx(struct jit_state *st, const struct bpf_insn *in)
{
	unsigned size = sl_isa_size_bytes(in->code);
	int32_t off = in->off;
	int dst = st->rmap[in->dst_reg], base = jit_mem_base(st, in->src_reg, &off);

	if (st->burst && st->burst->ldx(st, in))
		return 0;                                           /* burst.c: a context field */
	if (SL_OP_MODE(in->code) == BPF_MEM)
		x86_load(&st->e, size, dst, base, off);
	else if (SL_OP_MODE(in->code) == BPF_MEMSX && size < 8)
		x86_load_sx(&st->e, size, dst, base, off);
	else
		return jit_fail(st, -EINVAL, "unknown opcode 0x%02x", in->code);
	return 0;
}

int jit_do_st(struct jit_state *st, const struct bpf_insn *in)
{
	unsigned size = sl_isa_size_bytes(in->code);
	int32_t off = in->off;
	int base = jit_mem_base(st, in->dst_reg, &off);

	if (SL_OP_MODE(in->code) != BPF_MEM)
		return jit_fail(st, -EINVAL, "unknown opcode 0x%02x", in->code);
	if (st->opts.blind_constants)
		x86_store(&st->e, size, base, off, jit_blind_imm(st, in->imm));
	else
		x86_store_imm(&st->e, size, base, off, in->imm);
	return 0;
}

/* lock or|and|xor with fetch: a cmpxchg loop on rax (r0, saved in AUX). */
static void atomic_fetch_loop(struct jit_state *st, const struct bpf_insn *in, bool w64,
			      enum x86_alu op)
{
	int base = st->rmap[in->dst_reg], src = st->rmap[in->src_reg], val = src;
	size_t loop;

	x86_mov_rr(&st->e, true, AUX, X_RAX);               /* keep r0 (and src if it is r0) */
	if (base == X_RAX) {
		x86_mov_rr(&st->e, true, AUX2, X_RAX);
		base = AUX2;
	}
	if (val == X_RAX)
		val = AUX;
	x86_load(&st->e, w64 ? 8 : 4, X_RAX, base, in->off);
	loop = st->e.len;
	x86_mov_rr(&st->e, w64, TMP, X_RAX);
	x86_alu_rr(&st->e, w64, op, TMP, val);
	x86_lock_cmpxchg(&st->e, w64, base, in->off, TMP);
	x86_jcc8_back(&st->e, CC_NE, loop);
	if (src != X_RAX) {
		x86_mov_rr(&st->e, w64, src, X_RAX);             /* src = old value */
		x86_mov_rr(&st->e, true, X_RAX, AUX);
	}
}

static int do_atomic(struct jit_state *st, const struct bpf_insn *in)
{
	bool w64 = SL_OP_SIZE(in->code) == BPF_DW;
	int base = st->rmap[in->dst_reg], src = st->rmap[in->src_reg];
	static const enum x86_alu ops[16] = {
		[BPF_ADD >> 4] = ALU_ADD, [BPF_OR >> 4] = ALU_OR,
		[BPF_AND >> 4] = ALU_AND, [BPF_XOR >> 4] = ALU_XOR,
	};
	int32_t op = in->imm & ~BPF_FETCH;

	if (SL_OP_SIZE(in->code) != BPF_DW && SL_OP_SIZE(in->code) != BPF_W)
		return jit_fail(st, -EINVAL, "atomic: size must be 4 or 8 bytes");
	if (in->imm == BPF_XCHG) {
		x86_xchg_mem(&st->e, w64, base, in->off, src);
	} else if (in->imm == BPF_CMPXCHG) {
		x86_lock_cmpxchg(&st->e, w64, base, in->off, src);
		if (!w64)
			x86_mov_rr(&st->e, false, X_RAX, X_RAX);         /* r0 = zext(old) */
	} else if (op != BPF_ADD && op != BPF_OR && op != BPF_AND && op != BPF_XOR) {
		return jit_fail(st, -EINVAL, "unknown atomic operation imm=0x%x", (unsigned)in->imm);
	} else if (!(in->imm & BPF_FETCH)) {
		x86_lock_alu(&st->e, w64, ops[op >> 4], base, in->off, src);
	} else if (op == BPF_ADD) {
		x86_lock_xadd(&st->e, w64, base, in->off, src);
	} else {
		atomic_fetch_loop(st, in, w64, ops[op >> 4]);
	}
	return 0;
}

int jit_do_stx(struct jit_state *st, const struct bpf_insn *in)
{
	int32_t off = in->off;
	int base;

	if (SL_OP_MODE(in->code) == BPF_ATOMIC)
		return do_atomic(st, in);
	if (SL_OP_MODE(in->code) != BPF_MEM)
		return jit_fail(st, -EINVAL, "unknown opcode 0x%02x", in->code);
	base = jit_mem_base(st, in->dst_reg, &off);
	x86_store(&st->e, sl_isa_size_bytes(in->code), base, off, st->rmap[in->src_reg]);
	return 0;
}

/* The 64-bit constant of an lddw: plain, map pointer, map value address, or callback. */
static int lddw_value(struct jit_state *st, const struct bpf_insn *in, uint64_t *v)
{
	const struct sl_prog *p = st->prog;
	struct sl_map *map;
	uint8_t *base;

	*v = (uint64_t)(uint32_t)in[0].imm | ((uint64_t)(uint32_t)in[1].imm << 32);
	if (in->src_reg == 0)
		return 0;
	if (in->src_reg == BPF_PSEUDO_FUNC) {   /* a callback: its descriptor */
		struct jit_sub *t = jit_sub_at(st, (uint32_t)((int64_t)st->pc + 1 + in->imm));

		if (!t || !st->cbs)
			return jit_fail(st, -EINVAL, "lddw func: pc %lld is not a function",
					(long long)st->pc + 1 + in->imm);
		*v = (uint64_t)(uintptr_t)&st->cbs[t - st->subs];
		return 0;
	}
	if (in->src_reg != BPF_PSEUDO_MAP_IDX && in->src_reg != BPF_PSEUDO_MAP_IDX_VALUE)
		return jit_fail(st, -ENOTSUP, "lddw: unsupported pseudo source %u", in->src_reg);
	if (in->imm < 0 || (uint32_t)in->imm >= p->n_maps || !p->maps || !p->maps[in->imm])
		return jit_fail(st, -EINVAL, "lddw: map index %d out of range (%u maps)",
				in->imm, p->n_maps);
	map = p->maps[in->imm];
	if (in->src_reg == BPF_PSEUDO_MAP_IDX) {
		*v = (uint64_t)(uintptr_t)map;
		return 0;
	}
	base = sl_map_array_base(map, 0);
	if (!base || in[1].imm < 0 || (uint32_t)in[1].imm >= sl_map_get_def(map)->value_size)
		return jit_fail(st, -EINVAL, "lddw map value: bad map '%s' or offset %d",
				sl_map_name(map), in[1].imm);
	*v = (uint64_t)(uintptr_t)(base + in[1].imm);
	return 0;
}

static int do_lddw(struct jit_state *st, const struct bpf_insn *in)
{
	int dst = st->rmap[in->dst_reg];
	uint64_t v;

	if (st->pc + 1 >= st->sub->end)
		return jit_fail(st, -EINVAL, "lddw needs a second instruction");
	if (lddw_value(st, in, &v))
		return st->log.err;
	if (st->opts.blind_constants) {
		uint64_t key = jit_next_key(st);

		x86_movabs(&st->e, dst, v ^ key);
		x86_movabs(&st->e, AUX, key);
		x86_alu_rr(&st->e, true, ALU_XOR, dst, AUX);
	} else if (v == 0) {
		x86_alu_rr(&st->e, false, ALU_XOR, dst, dst);
	} else {
		x86_mov_ri(&st->e, true, dst, (int64_t)v);
	}
	return 0;
}

/*
 * LD_ABS / LD_IND, inline (r6 = struct sl_skb_ctx *): r0 = the big-endian
 * packet bytes at the offset; out of bounds (a negative offset included,
 * as the interpreter does) ends the function with r0 = 0,
 * as the kernel does. Uses rsi, rdi, rdx of r1-r5, which the liveness and
 * peephole passes already treat as clobbered (as for a helper call):
 *
 *   esi = off (u32)        | LD_ABS, 0 <= imm: edx = pkt_len
 *   edx = pkt_len          |                   cmp edx, imm + size
 *   rdx -= rsi; cmp rdx, n |                   jae ok
 *   jge ok                 |   (then the same load with disp = imm)
 *   xor eax, eax; jmp epi
 * ok: rdi = pkt; r0 = movzx/mov [rdi + rsi]; ror ax, 8 | bswap eax
 */
static void ld_pkt_oob(struct jit_state *st)
{
	x86_alu_rr(&st->e, false, ALU_XOR, X_RAX, X_RAX);
	x86_jcc_rel(&st->e, CC_ALWAYS,                                  /* jmp epilogue, r0 = 0 */
		    (int32_t)((int64_t)st->sub->off_epi - (int64_t)(st->e.len + 5)), false);
}

static int do_ld_pkt(struct jit_state *st, const struct bpf_insn *in)
{
	unsigned size = sl_isa_size_bytes(in->code);
	int ctx = st->rmap[BPF_REG_6], r0 = st->rmap[BPF_REG_0];
	bool abs_k = SL_OP_MODE(in->code) == BPF_ABS && !st->opts.blind_constants;
	size_t l_ok;

	if (abs_k && (in->imm < 0 || in->imm > INT32_MAX - 4)) {
		ld_pkt_oob(st);                                         /* never in bounds */
		return 0;
	}
	if (abs_k) {
		x86_load(&st->e, 4, X_RDX, ctx, offsetof(struct sl_skb_ctx, pkt_len));
		x86_alu_ri(&st->e, false, ALU_CMP, X_RDX, in->imm + (int32_t)size);
		l_ok = x86_jcc8_fwd(&st->e, CC_AE);
	} else {
		if (SL_OP_MODE(in->code) == BPF_IND) {
			x86_mov_rr(&st->e, false, X_RSI, st->rmap[in->src_reg]);
			if (st->opts.blind_constants)
				x86_alu_rr(&st->e, false, ALU_ADD, X_RSI, jit_blind_imm(st, in->imm));
			else
				x86_alu_ri(&st->e, false, ALU_ADD, X_RSI, in->imm);
		} else {
			x86_mov_rr(&st->e, false, X_RSI, jit_blind_imm(st, in->imm));
		}
		x86_load(&st->e, 4, X_RDX, ctx, offsetof(struct sl_skb_ctx, pkt_len));
		x86_alu_rr(&st->e, true, ALU_SUB, X_RDX, X_RSI);        /* pkt_len - off, signed */
		x86_alu_ri(&st->e, true, ALU_CMP, X_RDX, (int32_t)size);
		l_ok = x86_jcc8_fwd(&st->e, CC_GE);
	}
	ld_pkt_oob(st);
	x86_bind8(&st->e, l_ok);
	x86_load(&st->e, 8, X_RDI, ctx, offsetof(struct sl_skb_ctx, pkt));
	if (abs_k)
		x86_load(&st->e, size, r0, X_RDI, in->imm);
	else
		x86_load_index(&st->e, size, r0, X_RDI, X_RSI, 1, 0);
	if (size == 2)
		x86_rol16_8(&st->e, r0);
	else if (size == 4)
		x86_bswap(&st->e, false, r0);
	return 0;
}

int jit_do_ld(struct jit_state *st, const struct bpf_insn *in)
{
	if (in->code == (BPF_LD | BPF_IMM | BPF_DW))
		return do_lddw(st, in);
	if ((SL_OP_MODE(in->code) == BPF_ABS || SL_OP_MODE(in->code) == BPF_IND) &&
	    SL_OP_SIZE(in->code) != BPF_DW)
		return do_ld_pkt(st, in);
	return jit_fail(st, -EINVAL, "unknown opcode 0x%02x", in->code);
}

/* fuse_late.c's MEM_ALU at a load: "op size [m], imm" for the load, the operation and the store. */
void jit_emit_mem_alu(struct jit_state *st, const struct bpf_insn *ld)
{
	static const uint8_t alu_of[16] = {
		[BPF_ADD >> 4] = ALU_ADD, [BPF_SUB >> 4] = ALU_SUB, [BPF_AND >> 4] = ALU_AND,
		[BPF_OR >> 4] = ALU_OR, [BPF_XOR >> 4] = ALU_XOR,
	};
	int32_t off = ld->off;
	int base = jit_mem_base(st, ld->src_reg, &off);

	x86_alu_mi(&st->e, sl_isa_size_bytes(ld->code), (enum x86_alu)alu_of[SL_OP_CODE(ld[1].code) >> 4],
		   base, off, ld[1].imm);
}

/* A store of a register holding a constant (ST_K): the store of the immediate. */
int jit_emit_st_k(struct jit_state *st, const struct bpf_insn *in)
{
	struct bpf_insn t = *in;
	bool swapped;

	t.code = (uint8_t)(BPF_ST | BPF_MEM | SL_OP_SIZE(in->code));
	t.imm = (int32_t)jit_cmp_k(st->prog, st->fuse, st->pc, &swapped);
	t.src_reg = 0;
	return jit_do_st(st, &t);
}
