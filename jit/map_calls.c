/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * jit/map_calls.c: what a map helper call on a map known at compile time
 * calls instead of the helper.
 *
 * The verifier records per call the one map r1 holds on every path to it
 * (aux[pc].map; none when several maps, or an inner map known only by its
 * template, reach it). For bpf_map_lookup_elem, bpf_map_update_elem and
 * bpf_map_delete_elem on such a map, compiled code calls the map's own
 * function (sl_map_jit_fns(): the type's, specialised for the key size
 * for hash maps) with the helper's registers unchanged (r1 = map, r2 =
 * key, r3 = value, r4 = flags; r0 = the result) and the helper's contract,
 * without the helper's own call, the dispatch on the map type
 * (sl_map_*_elem()) and, for hash maps, the switch on the key size.
 *
 * bpf_map_lookup_elem on a HASH / LRU_HASH is emitted in place by
 * jit/map_hash.c (jit_emit_array_lookup() hands it any map it does not
 * inline as an array).
 *
 * bpf_map_lookup_elem on an ARRAY / PERCPU_ARRAY is emitted in place
 * (jit_emit_array_lookup()): r0 = index < max_entries ? base + index *
 * stride (+ cpu * slot) : NULL. The index is read from the key r2 points
 * to, unless the key's value is known at the call: the straight line
 * before it (no jump target, jump or call between) has r2 = r10 + off
 * and a 4- or 8-byte store to exactly r10 + off, not overwritten by a
 * later store that may overlap it, of
 *  - a constant (an immediate, or a register holding one): no load, and
 *    the bound check done at compile time (NULL, or base + index *
 *    stride);
 *  - a register that no instruction between writes (or only ones that
 *    emit no code, as the dead "r1 = map" before the call): that
 *    register, not the slot just stored (clang's "__u32 key = x;
 *    bpf_map_lookup_elem(&m, &key)"). When that register was loaded, on
 *    the straight line before the store, by a 1- or 2-byte load (a
 *    protocol number, a port) and max_entries is above its largest
 *    value, the index cannot be out of range: no bound check, and the
 *    element is "movabs rax, base; lea rax, [rax + reg * stride]" for a
 *    stride of 1, 2, 4 or 8 (key_in_range(), emit_in_range()).
 * The store itself stays. An "if r0 == 0 goto T" / "if r0 != 0 goto T"
 * right after such a lookup (not a jump target; JIT_FUSE_NULL_BR, marked
 * in jit.c) emits nothing of its own: the lookup's bound checks branch
 * themselves ("jb hit; xor eax, eax; jmp T; hit: element" falling through
 * on a hit, or "element; jmp T; null: xor eax, eax"), no jmp to a shared
 * end, no test of rax (a constant index keeps the test). Control thread
 * (compile time).
 */
#include <errno.h>
#include <linux/bpf.h>
#include <stdint.h>

#include "sl_maps.h"
#include "jit_internal.h"
#include "jit_state.h"
#include "map_hash.h"

const void *jit_map_call_fn(int32_t helper, struct sl_map *map)
{
	struct sl_map_jit_fns fns;

	if (!map)
		return NULL;
	sl_map_jit_fns(map, &fns);
	switch (helper) {
	case BPF_FUNC_map_lookup_elem:
		return (const void *)(uintptr_t)fns.lookup;
	case BPF_FUNC_map_update_elem:
		return (const void *)(uintptr_t)fns.update;
	case BPF_FUNC_map_delete_elem:
		return (const void *)(uintptr_t)fns.delete;
	default:
		return NULL;
	}
}

/* Is a lookup in @p map inlined by jit_emit_array_lookup() (no call at all)? */
static bool array_map_inlined(const struct jit_state *st, struct sl_map *map)
{
	size_t slot = sl_map_ncpus(map) > 1 ? sl_map_array_slot_bytes(map) : 0;

	if (!sl_map_array_base(map, 0) || !sl_map_array_stride(map) || slot > INT32_MAX ||
	    sl_map_array_stride(map) > INT32_MAX || sl_map_ncpus(map) > INT32_MAX)
		return false;
	/* sl_map_cpu must be in the static TLS block (below the thread pointer) to read it via %fs */
	return !sl_map_is_percpu(map) || (st->tpoff < 0 && st->tpoff >= -(1 << 20));
}

bool jit_array_lookup_inlined(const struct jit_state *st, uint32_t pc)
{
	const struct bpf_insn *in = &st->prog->insns[pc];
	const struct sl_helper *h = sl_helper_get(BPF_FUNC_map_lookup_elem);
	struct sl_map *map = st->prog->aux ? st->prog->aux[pc].map : NULL;

	return in->code == (BPF_JMP | BPF_CALL) && in->src_reg == 0 &&
	       in->imm == BPF_FUNC_map_lookup_elem && h && h->fn && map &&
	       array_map_inlined(st, map);
}

bool jit_null_branch_fusable(const struct jit_state *st, uint32_t pc)
{
	const struct sl_prog *p = st->prog;
	const struct bpf_insn *j = &p->insns[pc + 1];

	return pc + 2 < p->n_insns && !st->targets[pc + 1] && !st->fuse[pc + 1] &&
	       (j->code == (BPF_JMP | BPF_JEQ | BPF_K) || j->code == (BPF_JMP | BPF_JNE | BPF_K)) &&
	       j->dst_reg == BPF_REG_0 && j->imm == 0;
}

/* The stack offset r2 holds at @p pc ("r2 = r10; r2 += off" in the same straight line). */
static bool key_slot(const struct jit_state *st, uint32_t pc, int16_t *off)
{
	const struct sl_prog *p = st->prog;
	int64_t k = jit_reg_def(p, st->targets, pc, BPF_REG_2), m;

	if (k < 0 || p->insns[k].code != (BPF_ALU64 | BPF_ADD | BPF_K) ||
	    p->insns[k].imm < -512 || p->insns[k].imm > -4)
		return false;
	m = jit_reg_def(p, st->targets, (uint32_t)k, BPF_REG_2);
	*off = (int16_t)p->insns[k].imm;
	return m >= 0 && p->insns[m].code == (BPF_ALU64 | BPF_MOV | BPF_X) &&
	       p->insns[m].src_reg == BPF_REG_10;
}

/* Does the store @p in (ST / STX) leave the 4 key bytes at r10 + @p off alone? */
static bool store_misses(const struct bpf_insn *in, int16_t off)
{
	int size = (int)sl_isa_size_bytes(in->code);

	return in->dst_reg == BPF_REG_10 && (in->off + size <= off || in->off >= off + 4);
}

/*
 * The 4- or 8-byte store of the key at r10 + @p off before the lookup at
 * st->pc, found walking back in its straight line; -1 when the key's
 * value is not known there (see the top of the file). @p written: the
 * registers that instructions between write with code of their own.
 */
static int64_t key_store(const struct jit_state *st, int16_t off, uint16_t *written)
{
	const struct sl_prog *p = st->prog;

	*written = 0;
	for (uint32_t k = st->pc, n = 0; k-- > 0 && n < 64; n++) {
		const struct bpf_insn *in = &p->insns[k];
		uint8_t cls, sz;

		if (st->targets[k + 1])
			return -1;                              /* control can enter below k */
		if (k > 0 && sl_isa_is_lddw(&p->insns[k - 1]))
			in = &p->insns[--k];
		cls = SL_OP_CLASS(in->code);
		sz = SL_OP_SIZE(in->code);
		if (cls == BPF_JMP || cls == BPF_JMP32 || (cls == BPF_LD && !sl_isa_is_lddw(in)))
			return -1;                              /* jumps, calls, LD_ABS */
		if ((cls == BPF_ST || cls == BPF_STX) && SL_OP_MODE(in->code) == BPF_MEM &&
		    in->dst_reg == BPF_REG_10 && in->off == off && (sz == BPF_W || sz == BPF_DW))
			return (int64_t)k;
		if ((cls == BPF_ST || cls == BPF_STX) && !store_misses(in, off))
			return -1;
		for (uint8_t r = 0; r < BPF_REG_10; r++)
			if (jit_writes(in, r) && !st->dead[k])
				*written |= (uint16_t)(1u << r);
	}
	return -1;
}

enum key_kind { KEY_MEM, KEY_CONST, KEY_REG };

/*
 * Is the key register @p reg that the store at @p k writes below @p max,
 * with nothing above its low 32 bits? Its definition on the straight line
 * before the store is a 1- or 2-byte load (zero-extended; plain or with
 * its address folded in, JIT_FUSE_LOAD_IDX) whose largest value is below
 * @p max.
 */
static bool key_in_range(const struct jit_state *st, int64_t k, uint8_t reg, uint32_t max)
{
	int64_t d = jit_reg_def(st->prog, st->targets, (uint32_t)k, reg);
	const struct bpf_insn *in = d >= 0 ? &st->prog->insns[d] : NULL;

	if (!in || SL_OP_CLASS(in->code) != BPF_LDX || SL_OP_MODE(in->code) != BPF_MEM ||
	    st->dead[d] || (st->fuse[d] && st->fuse[d] != JIT_FUSE_LOAD_IDX))
		return false;                   /* e.g. a byte load fused into a be16 one */
	if (SL_OP_SIZE(in->code) == BPF_B)
		return max > UINT8_MAX;
	return SL_OP_SIZE(in->code) == BPF_H && max > UINT16_MAX;
}

/*
 * How the lookup at st->pc gets its index: its constant (@p v) or register
 * (@p reg; *@p in_range when key_in_range()), or from r2.
 */
static enum key_kind key_of(const struct jit_state *st, struct sl_map *map, uint64_t *v,
			    uint8_t *reg, bool *in_range)
{
	const struct bpf_insn *s;
	uint16_t written;
	int16_t off;
	int64_t k;

	if (!st->targets || !st->dead || !st->fuse || !key_slot(st, st->pc, &off) ||
	    (k = key_store(st, off, &written)) < 0)
		return KEY_MEM;
	s = &st->prog->insns[k];
	if (st->opts.blind_constants && SL_OP_CLASS(s->code) == BPF_ST)
		return KEY_MEM;                                 /* no program immediate in the code */
	if (SL_OP_CLASS(s->code) == BPF_ST) {
		*v = (uint64_t)(int64_t)s->imm;
		return KEY_CONST;
	}
	if (!st->opts.blind_constants &&
	    jit_const_before(st->prog, st->targets, (uint32_t)k, s->src_reg, v))
		return KEY_CONST;
	if (s->src_reg == BPF_REG_10 || written & (1u << s->src_reg) || st->fuse[k] ||
	    st->dead[k] || (st->sink && st->sink[k]))
		return KEY_MEM;                                 /* not a plain register store */
	*reg = s->src_reg;
	*in_range = key_in_range(st, k, s->src_reg, sl_map_get_def(map)->max_entries);
	return KEY_REG;
}

/*
 * r0 = the element of constant index @p idx (NULL past the end), per-CPU
 * NULL when the worker slot sl_map_cpu >= the map's ncpus.
 */
static void emit_const_index(struct jit_state *st, struct sl_map *map, uint64_t idx)
{
	uint64_t addr = (uint64_t)(uintptr_t)sl_map_array_base(map, 0) +
			(uint32_t)idx * (uint64_t)sl_map_array_stride(map);
	size_t slot = sl_map_ncpus(map) > 1 ? sl_map_array_slot_bytes(map) : 0;
	size_t l_cpu, l_done;

	if ((uint32_t)idx >= sl_map_get_def(map)->max_entries) {
		x86_alu_rr(&st->e, false, ALU_XOR, X_RAX, X_RAX);    /* xor eax, eax: NULL */
		return;
	}
	if (!sl_map_is_percpu(map)) {
		x86_movabs(&st->e, X_RAX, addr);                    /* movabs rax, &elem */
		return;
	}
	x86_load_fs32(&st->e, TMP, st->tpoff);                     /* r11d = sl_map_cpu */
	x86_alu_ri(&st->e, false, ALU_CMP, TMP, (int32_t)sl_map_ncpus(map));
	l_cpu = x86_jcc8_fwd(&st->e, CC_AE);                       /* jae null */
	x86_movabs(&st->e, X_RAX, addr);
	if (slot) {
		x86_imul_rri(&st->e, true, TMP, TMP, (int32_t)slot);   /* r11 = cpu * slot */
		x86_alu_rr(&st->e, true, ALU_ADD, X_RAX, TMP);
	}
	l_done = x86_jcc8_fwd(&st->e, CC_ALWAYS);
	x86_bind8(&st->e, l_cpu);
	x86_alu_rr(&st->e, false, ALU_XOR, X_RAX, X_RAX);
	x86_bind8(&st->e, l_done);
}

/*
 * r0's "if r0 ==|!= 0 goto" after the lookup (JIT_FUSE_NULL_BR): its
 * target, threaded; -1 if not fused, -2 (jit_fail) if it leaves the function.
 */
static int64_t null_branch(struct jit_state *st, bool *on_null)
{
	const struct bpf_insn *j = &st->prog->insns[st->pc + 1];
	int64_t t = (int64_t)st->pc + 2 + j->off;

	if (st->fuse[st->pc + 1] != JIT_FUSE_NULL_BR)
		return -1;
	if (t < st->sub->start || t >= st->sub->end) {
		jit_fail(st, -EINVAL, "jump to pc %lld leaves the function [%u, %u)",
			 (long long)t, st->sub->start, st->sub->end);
		return -2;
	}
	*on_null = j->code == (BPF_JMP | BPF_JEQ | BPF_K);
	return jit_thread_jump(st, t);
}

/* jmp/jcc (rel32) to instruction @p t's native address of the previous pass. */
static void emit_jump(struct jit_state *st, enum x86_cc cc, int64_t t)
{
	int64_t rel = (int64_t)st->addrs[t] - (int64_t)(st->e.len + x86_jcc_size(cc, false));

	x86_jcc_rel(&st->e, cc, (int32_t)rel, false);
}

/* rax = base + rax * stride (+ r11 * slot): the element of the index in rax, cpu in r11. */
static void emit_elem(struct jit_state *st, struct sl_map *map)
{
	uint32_t stride = sl_map_array_stride(map);
	size_t slot = sl_map_ncpus(map) > 1 ? sl_map_array_slot_bytes(map) : 0;

	if ((stride & (stride - 1)) == 0)
		x86_shift_ri(&st->e, true, SH_SHL, X_RAX, (uint8_t)__builtin_ctz(stride));
	else
		x86_imul_rri(&st->e, true, X_RAX, X_RAX, (int32_t)stride);
	if (slot) {
		x86_imul_rri(&st->e, true, TMP, TMP, (int32_t)slot);
		x86_alu_rr(&st->e, true, ALU_ADD, X_RAX, TMP);
	}
	x86_movabs(&st->e, TMP, (uint64_t)(uintptr_t)sl_map_array_base(map, 0));
	x86_alu_rr(&st->e, true, ALU_ADD, X_RAX, TMP);
}

/*
 * rax = the element of the index in BPF register @p reg (zero above its low
 * 32 bits: key_in_range()), cpu in r11: "movabs rax, base; lea rax, [rax +
 * reg * stride]" when the stride allows it and @p reg is not r0 (rax), else
 * the index moved to eax and emit_elem().
 */
static void emit_elem_reg(struct jit_state *st, struct sl_map *map, uint8_t reg)
{
	uint32_t stride = sl_map_array_stride(map);
	size_t slot = sl_map_ncpus(map) > 1 ? sl_map_array_slot_bytes(map) : 0;
	int idx = st->rmap[reg];

	if ((stride != 1 && stride != 2 && stride != 4 && stride != 8) || idx == X_RAX ||
	    idx == TMP) {
		x86_mov_rr(&st->e, false, X_RAX, idx);                   /* mov eax, key32 */
		emit_elem(st, map);
		return;
	}
	x86_movabs(&st->e, X_RAX, (uint64_t)(uintptr_t)sl_map_array_base(map, 0));
	x86_lea_index(&st->e, true, X_RAX, X_RAX, idx, stride, 0);   /* lea rax, [rax + idx*s] */
	if (slot) {
		x86_imul_rri(&st->e, true, TMP, TMP, (int32_t)slot);   /* r11 = cpu * slot */
		x86_alu_rr(&st->e, true, ALU_ADD, X_RAX, TMP);
	}
}

/*
 * emit_checked() for an index known to be in range (key_in_range()): no
 * index check; a per-CPU map keeps the worker slot's ("jb hit; xor eax,
 * eax; jmp T; hit:" with the null check fused on NULL, "jae null ...
 * null: xor eax, eax" else). An ARRAY's element is never NULL: a fused
 * check on NULL emits nothing, one on non-NULL a jmp.
 */
static void emit_in_range(struct jit_state *st, struct sl_map *map, uint8_t reg, int64_t t,
			  bool on_null)
{
	bool percpu = sl_map_is_percpu(map);
	size_t l_cpu = 0, l_done = 0;

	if (percpu) {
		x86_load_fs32(&st->e, TMP, st->tpoff);                     /* r11d = sl_map_cpu */
		x86_alu_ri(&st->e, false, ALU_CMP, TMP, (int32_t)sl_map_ncpus(map));
		if (t >= 0 && on_null) {
			l_done = x86_jcc8_fwd(&st->e, CC_B);              /* jb hit */
			x86_alu_rr(&st->e, false, ALU_XOR, X_RAX, X_RAX);
			emit_jump(st, CC_ALWAYS, t);
			x86_bind8(&st->e, l_done);
			emit_elem_reg(st, map, reg);
			return;
		}
		l_cpu = x86_jcc8_fwd(&st->e, CC_AE);                      /* jae null */
	}
	emit_elem_reg(st, map, reg);
	if (t >= 0 && !on_null)
		emit_jump(st, CC_ALWAYS, t);                              /* non-NULL: jmp T */
	else if (t < 0 && percpu)
		l_done = x86_jcc8_fwd(&st->e, CC_ALWAYS);
	if (!percpu)
		return;
	x86_bind8(&st->e, l_cpu);
	x86_alu_rr(&st->e, false, ALU_XOR, X_RAX, X_RAX);
	if (t < 0)
		x86_bind8(&st->e, l_done);
}

/*
 * The bound checks (cpu, index) and the element. With the null check
 * after it fused (@p t >= 0), the checks branch to its target themselves:
 * on NULL: "jb hit; xor eax, eax; jmp T; hit: element", falling through
 * on a hit; on non-NULL: "jae null; element; jmp T; null: xor eax, eax".
 */
static void emit_checked(struct jit_state *st, struct sl_map *map, enum key_kind kind,
			 uint8_t reg, int64_t t, bool on_null)
{
	size_t l_null, l_cpu = 0, l_done;
	bool percpu = sl_map_is_percpu(map);

	if (percpu) {
		x86_load_fs32(&st->e, TMP, st->tpoff);                     /* r11d = sl_map_cpu */
		x86_alu_ri(&st->e, false, ALU_CMP, TMP, (int32_t)sl_map_ncpus(map));
		l_cpu = x86_jcc8_fwd(&st->e, CC_AE);                       /* jae null */
	}
	if (kind == KEY_REG)
		x86_mov_rr(&st->e, false, X_RAX, st->rmap[reg]);         /* mov eax, key32 */
	else
		x86_load(&st->e, 4, X_RAX, X_RSI, 0);                     /* mov eax, [rsi] */
	x86_alu_ri(&st->e, false, ALU_CMP, X_RAX, (int32_t)sl_map_get_def(map)->max_entries);
	if (t >= 0 && on_null) {
		l_done = x86_jcc8_fwd(&st->e, CC_B);                      /* jb hit */
		if (percpu)
			x86_bind8(&st->e, l_cpu);
		x86_alu_rr(&st->e, false, ALU_XOR, X_RAX, X_RAX);
		emit_jump(st, CC_ALWAYS, t);
		x86_bind8(&st->e, l_done);
		emit_elem(st, map);
		return;
	}
	l_null = x86_jcc8_fwd(&st->e, CC_AE);
	emit_elem(st, map);
	if (t >= 0)
		emit_jump(st, CC_ALWAYS, t);                              /* non-NULL: jmp T */
	else
		l_done = x86_jcc8_fwd(&st->e, CC_ALWAYS);
	if (percpu)
		x86_bind8(&st->e, l_cpu);
	x86_bind8(&st->e, l_null);
	x86_alu_rr(&st->e, false, ALU_XOR, X_RAX, X_RAX);
	if (t < 0)
		x86_bind8(&st->e, l_done);
}

int jit_emit_array_lookup(struct jit_state *st, struct sl_map *map)
{
	enum key_kind kind;
	uint64_t idx = 0;
	uint8_t reg = 0;
	bool on_null = false, in_range = false;
	int64_t t;

	if (!array_map_inlined(st, map))
		return jit_emit_hash_lookup(st, map);   /* map_hash.c: HASH / LRU_HASH in place */
	t = null_branch(st, &on_null);
	if (t == -2)
		return 1;
	kind = key_of(st, map, &idx, &reg, &in_range);
	if (kind == KEY_REG && in_range) {
		emit_in_range(st, map, reg, t, on_null);
		return 1;
	}
	if (kind != KEY_CONST) {
		emit_checked(st, map, kind, reg, t, on_null);
		return 1;
	}
	emit_const_index(st, map, idx);
	if (t >= 0) {                                   /* the fused null check, plainly */
		x86_test_rr(&st->e, true, X_RAX, X_RAX);
		emit_jump(st, on_null ? CC_E : CC_NE, t);
	}
	return 1;
}
