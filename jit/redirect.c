/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * jit/redirect.c: bpf_redirect, bpf_redirect_map and DEVMAP / XSKMAP
 * lookups emitted in place, as the kernel's verifier turns
 * bpf_redirect_map into a direct call of the map type's redirect
 * (ops->map_redirect, the lookup inlined in it) and inlines XSKMAP and
 * DEVMAP lookups (map_gen_lookup). Here there is no call at all.
 *
 * Semantics (the helpers' in vm/helpers.c, which are the kernel's
 * __bpf_xdp_redirect_map() and bpf_xdp_redirect()):
 *  - bpf_redirect_map(map, key, flags): flags outside the map type's mask
 *    give XDP_ABORTED and touch nothing (mask: the two low bits, plus
 *    BPF_F_EXCLUDE_INGRESS on a DEVMAP; BPF_F_BROADCAST is not provided);
 *    the key is the low 32 bits of r2; a key >= max_entries or an empty
 *    slot gives flags & 3 (the fallback action) and clears the map from
 *    the thread's redirect state (ifindex = tgt_index, map = NULL: the
 *    state bpf_redirect(tgt_index) leaves, as the kernel's miss sets
 *    map_type UNSPEC / map_id INT_MAX); otherwise the state becomes
 *    { target, (u32)flags, map, tgt_index = key } and r0 XDP_REDIRECT.
 *    The target is the entry's port (DEVMAP, XSKMAP) or the key (CPUMAP:
 *    the worker).
 *  - bpf_redirect(ifindex, flags): flags != 0 gives XDP_ABORTED, else the
 *    state becomes { (u32)ifindex, 0, NULL, (u32)ifindex } and r0
 *    XDP_REDIRECT.
 *  - bpf_map_lookup_elem on a DEVMAP / XSKMAP: the address of the entry's
 *    word, or NULL (key >= max_entries, empty slot): devmap_at()'s.
 * The entries are read where maps/devmap.c keeps them
 * (sl_map_devmap_layout()): the present byte first, then the word (the
 * control thread writes the word, then publishes the byte with release;
 * x86 keeps the two loads in order). The redirect state is vm/helpers.c's
 * thread-local struct sl_redirect (sl_helper_redirect()), written through
 * %fs at its offset from the thread pointer, which is the same in every
 * thread when the variable is in the static TLS block (checked as for
 * sl_map_cpu; otherwise the call stays a call).
 *
 * A redirect whose flags r3 holds as a constant at the call (the usual
 * "r3 = XDP_PASS" right before it) checks them at compile time and reads
 * only r2; it is marked JIT_FUSE_INLINE_CALL (jit_redirect_inlined()), as
 * inlined ARRAY lookups are, so the layout sees no call (a function
 * without other calls is a leaf) and the liveness drops the "r1 = map"
 * and the flags' mov before it. With constant blinding, or flags computed
 * at run time, the code reads rdx and the call keeps the layout of a
 * call. Either way it writes only rax and registers a call clobbers (rcx,
 * rdx, rsi, r8 and TMP).
 *
 * Control thread (compile time); the code runs on workers.
 */
#include <errno.h>
#include <linux/bpf.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "redirect.h"
#include "sl_helpers.h"
#include "sl_maps.h"

#define REDIRECT_OFF(f) ((int32_t)offsetof(struct sl_redirect, f))

/* The entries of a DEVMAP / XSKMAP / CPUMAP, and the redirect state's TLS offset. */
struct rd_map {
	const uint64_t *vals;
	const uint8_t *present;
	uint32_t max, type;
};

/* The offset of this thread's struct sl_redirect from the thread pointer; false when not static TLS. */
static bool redirect_tpoff(int32_t *off)
{
	uintptr_t tp;
	intptr_t d;

	__asm__("mov %%fs:0, %0" : "=r"(tp));
	d = (intptr_t)(uintptr_t)sl_helper_redirect() - (intptr_t)tp;
	*off = (int32_t)d;
	return d < 0 && d >= -(1 << 20);
}

static bool rd_map_of(struct sl_map *map, struct rd_map *m)
{
	if (!map || sl_map_devmap_layout(map, &m->vals, &m->present, &m->max))
		return false;
	m->type = sl_map_get_def(map)->type;
	return true;
}

/* The flags bpf_redirect_map accepts on a map of @p type (beyond them: XDP_ABORTED). */
static uint64_t flags_mask(uint32_t type)
{
	uint64_t m = XDP_ABORTED | XDP_DROP | XDP_PASS | XDP_TX;

	return type == BPF_MAP_TYPE_DEVMAP || type == BPF_MAP_TYPE_DEVMAP_HASH ?
	       m | BPF_F_EXCLUDE_INGRESS : m;
}

/*
 * The constant r3 holds at @p pc (a 64-bit or 32-bit mov of an immediate,
 * or a plain lddw, on the straight line before it); false if unknown.
 */
static bool flags_const(const struct sl_prog *p, const uint8_t *targets, uint32_t pc,
			uint64_t *v)
{
	int64_t k = jit_reg_def(p, targets, pc, BPF_REG_3);

	if (k < 0)
		return false;
	if (p->insns[k].code == (BPF_ALU | BPF_MOV | BPF_K)) {
		*v = (uint32_t)p->insns[k].imm;
		return true;
	}
	return jit_const_of(&p->insns[k], v);
}

bool jit_redirect_inlined(const struct jit_state *st, uint32_t pc)
{
	const struct bpf_insn *in = &st->prog->insns[pc];
	struct sl_map *map = st->prog->aux ? st->prog->aux[pc].map : NULL;
	struct rd_map m;
	uint8_t *targets;
	uint64_t flags;
	int32_t off;
	bool ok;

	if (in->code != (BPF_JMP | BPF_CALL) || in->src_reg != 0 || !rd_map_of(map, &m))
		return false;
	if (in->imm == BPF_FUNC_map_lookup_elem)
		return m.type != BPF_MAP_TYPE_CPUMAP;   /* the verifier refuses CPUMAP lookups */
	if (in->imm != BPF_FUNC_redirect_map || st->opts.blind_constants || !redirect_tpoff(&off))
		return false;
	targets = jit_jump_targets(st->prog);
	ok = targets && flags_const(st->prog, targets, pc, &flags);
	free(targets);
	return ok;
}

/* mov fs:[@p off], r32/r64 @p src (64 [REX] 89 /r, ModRM 00 reg 100, SIB 25, disp32) */
static void store_fs(struct x86_emit *e, bool w64, int32_t off, int src)
{
	uint8_t rex = (uint8_t)(0x40 | (w64 ? 8 : 0) | (src >= 8 ? 4 : 0));

	x86_byte(e, 0x64);
	if (rex != 0x40)
		x86_byte(e, rex);
	x86_byte(e, 0x89);
	x86_byte(e, (uint8_t)((src & 7) << 3 | 4));
	x86_byte(e, 0x25);
	x86_u32(e, (uint32_t)off);
}

/* mov r32 @p dst, fs:[@p off] (64 [REX] 8B /r, ModRM 00 reg 100, SIB 25, disp32) */
static void load_fs(struct x86_emit *e, int32_t off, int dst)
{
	x86_byte(e, 0x64);
	if (dst >= 8)
		x86_byte(e, 0x44);
	x86_byte(e, 0x8b);
	x86_byte(e, (uint8_t)((dst & 7) << 3 | 4));
	x86_byte(e, 0x25);
	x86_u32(e, (uint32_t)off);
}

/* mov dword|qword fs:[@p off], simm32 (64 [REX.W] C7 /0, SIB 25, disp32, imm32) */
static void store_fs_imm(struct x86_emit *e, bool w64, int32_t off, int32_t imm)
{
	x86_byte(e, 0x64);
	if (w64)
		x86_byte(e, 0x48);
	x86_byte(e, 0xc7);
	x86_byte(e, 0x04);
	x86_byte(e, 0x25);
	x86_u32(e, (uint32_t)off);
	x86_u32(e, (uint32_t)imm);
}

/*
 * Entry ecx (the key, zero-extended) of @p m: to the labels in @p miss
 * unless it is set; with @p target, r8d = its target. Clobbers TMP.
 */
static void emit_entry(struct x86_emit *e, const struct rd_map *m, bool target, size_t miss[2])
{
	x86_alu_ri(e, false, ALU_CMP, X_RCX, (int32_t)m->max);          /* cmp ecx, max */
	miss[0] = x86_jcc8_fwd(e, CC_AE);
	x86_movabs(e, TMP, (uint64_t)(uintptr_t)m->present);
	x86_load_index(e, 1, X_R8, TMP, X_RCX, 1, 0);                  /* movzx r8d, byte [r11+rcx] */
	x86_test_rr(e, false, X_R8, X_R8);
	miss[1] = x86_jcc8_fwd(e, CC_E);
	if (!target)
		return;
	if (m->type == BPF_MAP_TYPE_CPUMAP) {
		x86_mov_rr(e, false, X_R8, X_RCX);                     /* the worker: the key */
		return;
	}
	x86_movabs(e, TMP, (uint64_t)(uintptr_t)m->vals);
	x86_load_index(e, 4, X_R8, TMP, X_RCX, 8, 0);                  /* mov r8d, [r11+rcx*8] */
}

/* bpf_redirect_map in place; @p kflags: flags is the constant @p flags, else in rdx. */
static void emit_redirect_map(struct jit_state *st, struct sl_map *map, const struct rd_map *m,
			      int32_t off, bool kflags, uint64_t flags)
{
	struct x86_emit *e = &st->e;
	uint64_t mask = flags_mask(m->type);
	size_t bad = 0, miss[2], done;

	if (kflags && (flags & ~mask)) {
		x86_alu_rr(e, false, ALU_XOR, X_RAX, X_RAX);           /* XDP_ABORTED */
		return;
	}
	if (kflags) {
		x86_mov_ri(e, false, X_RAX, (int64_t)(flags & 3));     /* the fallback */
	} else {
		x86_alu_rr(e, false, ALU_XOR, X_RAX, X_RAX);           /* XDP_ABORTED */
		x86_test_ri(e, true, X_RDX, (int32_t)~mask);           /* test rdx, ~mask */
		bad = x86_jcc8_fwd(e, CC_NE);
		x86_mov_rr(e, false, X_RAX, X_RDX);
		x86_alu_ri(e, false, ALU_AND, X_RAX, 3);               /* eax = flags & 3 */
	}
	x86_mov_rr(e, false, X_RCX, X_RSI);                            /* mov ecx, esi: the key */
	emit_entry(e, m, true, miss);
	store_fs(e, false, off + REDIRECT_OFF(ifindex), X_R8);
	store_fs(e, false, off + REDIRECT_OFF(tgt_index), X_RCX);
	if (kflags)
		store_fs_imm(e, false, off + REDIRECT_OFF(flags), (int32_t)(uint32_t)flags);
	else
		store_fs(e, false, off + REDIRECT_OFF(flags), X_RDX);
	x86_movabs(e, TMP, (uint64_t)(uintptr_t)map);
	store_fs(e, true, off + REDIRECT_OFF(map), TMP);
	x86_mov_ri(e, false, X_RAX, XDP_REDIRECT);
	if (!kflags)
		x86_bind8(e, bad);               /* bad flags: this jmp, the state untouched */
	done = x86_jcc8_fwd(e, CC_ALWAYS);
	x86_bind8(e, miss[0]);                                         /* a miss: no map */
	x86_bind8(e, miss[1]);
	load_fs(e, off + REDIRECT_OFF(tgt_index), X_R8);
	store_fs(e, false, off + REDIRECT_OFF(ifindex), X_R8);
	store_fs_imm(e, true, off + REDIRECT_OFF(map), 0);
	x86_bind8(e, done);
}

/* bpf_redirect(r1 = ifindex, r2 = flags) in place */
static void emit_redirect(struct jit_state *st, int32_t off)
{
	struct x86_emit *e = &st->e;
	size_t bad;

	x86_alu_rr(e, false, ALU_XOR, X_RAX, X_RAX);                   /* XDP_ABORTED */
	x86_test_rr(e, true, X_RSI, X_RSI);
	bad = x86_jcc8_fwd(e, CC_NE);
	store_fs(e, false, off + REDIRECT_OFF(ifindex), X_RDI);
	store_fs(e, false, off + REDIRECT_OFF(tgt_index), X_RDI);
	store_fs_imm(e, false, off + REDIRECT_OFF(flags), 0);
	store_fs_imm(e, true, off + REDIRECT_OFF(map), 0);
	x86_mov_ri(e, false, X_RAX, XDP_REDIRECT);
	x86_bind8(e, bad);
}

/* bpf_map_lookup_elem(r1 = map, r2 = &key) on a DEVMAP / XSKMAP in place: devmap_at() */
static void emit_lookup(struct jit_state *st, const struct rd_map *m)
{
	struct x86_emit *e = &st->e;
	size_t miss[2], done;

	x86_load(e, 4, X_RCX, X_RSI, 0);                               /* mov ecx, [rsi]: the key */
	emit_entry(e, m, false, miss);
	x86_movabs(e, X_RAX, (uint64_t)(uintptr_t)m->vals);
	x86_lea_index(e, true, X_RAX, X_RAX, X_RCX, 8, 0);             /* lea rax, [rax+rcx*8] */
	done = x86_jcc8_fwd(e, CC_ALWAYS);
	x86_bind8(e, miss[0]);
	x86_bind8(e, miss[1]);
	x86_alu_rr(e, false, ALU_XOR, X_RAX, X_RAX);                   /* NULL */
	x86_bind8(e, done);
}

int jit_emit_redirect(struct jit_state *st, const struct bpf_insn *in, struct sl_map *map)
{
	bool marked = st->fuse[st->pc] == JIT_FUSE_INLINE_CALL;
	uint64_t flags = 0;
	struct rd_map m;
	int32_t off;

	if (in->imm == BPF_FUNC_redirect) {
		if (!redirect_tpoff(&off))
			return 0;
		emit_redirect(st, off);
		return 1;
	}
	if (!rd_map_of(map, &m))
		return 0;
	if (in->imm == BPF_FUNC_map_lookup_elem && m.type != BPF_MAP_TYPE_CPUMAP) {
		emit_lookup(st, &m);
		return 1;
	}
	if (in->imm != BPF_FUNC_redirect_map || !redirect_tpoff(&off))
		return 0;
	if (marked && !flags_const(st->prog, st->targets, st->pc, &flags)) {
		jit_fail(st, -EINVAL, "bpf_redirect_map: flags not constant at an inlined call");
		return 1;
	}
	emit_redirect_map(st, map, &m, off, marked, flags);
	return 1;
}
