/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * jit/map_hash.c: bpf_map_lookup_elem on a hash map (HASH, LRU_HASH,
 * PERCPU_HASH, LRU_PERCPU_HASH) known at compile time, emitted in place instead of a call of the map's lookup
 * (jit/map_calls.c calls jit_emit_hash_lookup() for a map it does not
 * inline as an array).
 *
 * What the map's C lookup (maps/hash.c, htab_lookup_sized()) reads from
 * the map itself (its seed, mask, table address, key size, kind) becomes
 * immediates; the rest is the same walk, described by sl_map_htab_jit():
 *
 *   eax = seed; crc32 eax|rax, [key + i] per word    the hash (hash_words())
 *   edx = eax >> 15; eax ^= edx
 *   rdx = heads[eax & mask]                           head word
 *   top 16 bits != eax >> 16 and no MORE bit: rdx = 0 (a miss, no element read)
 *   rdx &= ptr mask; jmp test
 *   next: rdx = [rdx + next]
 *   test: rdx == 0: NULL
 *     [rdx + hash] != eax: next; a key word != the element's: next
 *     LRU: ref byte 0: set it to 1
 *     rax = rdx + value offset; per-CPU: the worker slot's value (NULL for
 *     a slot the map was not made for), from the element's number
 *     (emit_percpu_value())
 *
 * It clobbers only registers a call clobbers (rax, rcx, rdx, rdi, r8),
 * reads the key through the register of r2, and keeps the helper's
 * contract (r0 = the value or NULL); the instruction stays a call for
 * the JIT's analyses. The lookup takes no lock: a worker is an RCU reader
 * of the chain, as in the C lookup (x86 loads are acquire loads).
 * Control thread (compile time).
 */
#include <errno.h>
#include <string.h>

#include "sl_maps.h"
#include "jit_internal.h"
#include "jit_state.h"
#include "map_hash.h"

#define KEY_MAX_INLINE 64u   /* longer keys: the map's function */
#define STACK_BYTES 512      /* an eBPF frame */

/* crc32 r32|r64, byte|word|dword|qword [base + disp32] (F2 [REX] 0F 38 F0|F1 /r, 66 for words) */
static void crc32_mem(struct x86_emit *e, unsigned size, int dst, int base, int32_t off)
{
	uint8_t rex = (uint8_t)(0x40 | (size == 8 ? 8 : 0) | (dst & 8 ? 4 : 0) | (base & 8 ? 1 : 0));

	if (size == 2)
		x86_byte(e, 0x66);
	x86_byte(e, 0xf2);
	if (rex != 0x40)
		x86_byte(e, rex);
	x86_byte(e, 0x0f);
	x86_byte(e, 0x38);
	x86_byte(e, size == 1 ? 0xf0 : 0xf1);
	x86_byte(e, (uint8_t)(0x80 | (dst & 7) << 3 | (base & 7)));   /* mod 10: disp32 */
	if ((base & 7) == 4)
		x86_byte(e, 0x24);                                      /* SIB: base only */
	x86_u32(e, (uint32_t)off);
}

/* A jump back to @p target, short when it reaches. */
static void jcc_back(struct x86_emit *e, enum x86_cc cc, size_t target)
{
	int64_t rel8 = (int64_t)target - (int64_t)(e->len + 2);

	if (rel8 >= -128)
		x86_jcc_rel(e, cc, (int32_t)rel8, true);
	else
		x86_jcc_rel(e, cc, (int32_t)((int64_t)target - (int64_t)(e->len + x86_jcc_size(cc, false))),
			    false);
}

/* jcc rel32 forward; bind32() patches it to land at the position then */
static size_t jcc32_fwd(struct x86_emit *e, enum x86_cc cc)
{
	x86_jcc_rel(e, cc, 0, false);
	return e->len;
}

static void bind32(struct x86_emit *e, size_t label)
{
	uint32_t rel = (uint32_t)(e->len - label);

	if (e->buf && !e->err && label >= 4 && label <= e->cap)
		memcpy(e->buf + label - 4, &rel, 4);
}

/* The key's words as the map reads them: @p off / @p size of each, @return how many. */
static unsigned key_words(const struct sl_map_htab_jit *l, int32_t *off, unsigned *size)
{
	unsigned n = 0;
	uint32_t i = 0;

	for (; i + l->key_word <= l->key_size; i += l->key_word, n++)
		off[n] = (int32_t)i, size[n] = l->key_word;
	if ((l->key_size - i) & 2)
		off[n] = (int32_t)i, size[n++] = 2, i += 2;
	if ((l->key_size - i) & 1)
		off[n] = (int32_t)i, size[n++] = 1;
	return n;
}

/* The stack offset r2 holds at st->pc (r2 = r10 + off, maybe through copies), in @p off. */
static bool key_on_stack(const struct jit_state *st, int32_t *off)
{
	const struct sl_prog *p = st->prog;
	uint32_t pc = st->pc;
	uint8_t r = BPF_REG_2;
	int64_t add = 0;

	for (int depth = 0; st->targets && depth < 8; depth++) {
		int64_t k = jit_reg_def(p, st->targets, pc, r);
		const struct bpf_insn *in = k >= 0 ? &p->insns[k] : NULL;

		if (in && in->code == (BPF_ALU64 | BPF_ADD | BPF_K) && in->dst_reg == r) {
			add += in->imm;
		} else if (in && in->code == (BPF_ALU64 | BPF_MOV | BPF_X) && in->src_reg == BPF_REG_10) {
			*off = (int32_t)add;
			return add >= -STACK_BYTES && add < 0;
		} else if (in && in->code == (BPF_ALU64 | BPF_MOV | BPF_X)) {
			r = in->src_reg;
		} else {
			return false;
		}
		pc = (uint32_t)k;
	}
	return false;
}

/*
 * The words the hash reads the key in: any split gives the same hash
 * (CRC32-C of the bytes in order: crc32 of an 8-byte word is that of its
 * two 4-byte halves, and so on). For a key on the stack, the split that
 * puts each word inside one of the program's stores to it (r10-based, on
 * any path): the program has just written it, and a load that spans two
 * stores waits until both reach the cache (no store-to-load forwarding);
 * the largest word (8, 4, 2, 1) that no store's start or end cuts. Else
 * the map's own words.
 */
static unsigned hash_words(const struct jit_state *st, const struct sl_map_htab_jit *l,
			   int32_t *off, unsigned *size)
{
	static const unsigned widths[] = { 8, 4, 2, 1 };
	bool cut[KEY_MAX_INLINE + 1] = { false };
	const struct sl_prog *p = st->prog;
	int32_t base, ks = (int32_t)l->key_size;
	unsigned n = 0;

	if (!key_on_stack(st, &base))
		return key_words(l, off, size);
	for (uint32_t k = 0; k < p->n_insns; k++) {
		const struct bpf_insn *in = &p->insns[k];
		uint8_t cls = SL_OP_CLASS(in->code);
		int32_t s, e;

		if (sl_isa_is_lddw(in))
			k++;
		if ((cls != BPF_ST && cls != BPF_STX) || in->dst_reg != BPF_REG_10 ||
		    (SL_OP_MODE(in->code) != BPF_MEM && SL_OP_MODE(in->code) != BPF_ATOMIC))
			continue;
		s = in->off - base;
		e = s + (int32_t)sl_isa_size_bytes(in->code);
		if (e > 0 && s < ks)
			cut[s > 0 ? s : 0] = cut[e < ks ? e : ks] = true;
	}
	for (int32_t i = 0; i < ks; n++) {
		for (unsigned w = 0; w < 4; w++) {
			int32_t j = 1;

			while (j < (int32_t)widths[w] && i + j < ks && !cut[i + j])
				j++;
			if (j == (int32_t)widths[w]) {
				off[n] = i, size[n] = widths[w];
				break;
			}
		}
		i += (int32_t)size[n];
	}
	return n;
}

/* rdx = the head word's first element, or 0 when the head word rules the key out */
static void emit_head(struct x86_emit *e, const struct sl_map_htab_jit *l)
{
	size_t l_walk, l_more;

	x86_mov_rr(e, false, X_RCX, X_RAX);
	x86_alu_ri(e, false, ALU_AND, X_RCX, (int32_t)l->mask);         /* ecx = bucket */
	x86_movabs(e, X_RDX, (uint64_t)(uintptr_t)l->heads);
	x86_load_index(e, 8, X_RDX, X_RDX, X_RCX, 8, 0);                /* rdx = heads[b] */
	x86_mov_rr(e, true, X_RCX, X_RDX);
	x86_shift_ri(e, true, SH_SHR, X_RCX, l->head_hash_shift);
	x86_mov_rr(e, false, X_RDI, X_RAX);
	x86_shift_ri(e, false, SH_SHR, X_RDI, 16);
	x86_alu_rr(e, false, ALU_CMP, X_RCX, X_RDI);
	l_walk = x86_jcc8_fwd(e, CC_E);                                  /* its hash bits match */
	x86_mov_rr(e, true, X_RCX, X_RDX);
	x86_shift_ri(e, true, SH_SHR, X_RCX, l->head_more_bit);
	x86_test_ri(e, false, X_RCX, 1);
	l_more = x86_jcc8_fwd(e, CC_NE);                                 /* more than one element */
	x86_alu_rr(e, false, ALU_XOR, X_RDX, X_RDX);
	x86_bind8(e, l_walk);
	x86_bind8(e, l_more);
	x86_movabs(e, X_RCX, l->head_ptr_mask);
	x86_alu_rr(e, true, ALU_AND, X_RDX, X_RCX);
}

/*
 * Per-CPU maps: can the value's address be computed here? The worker slot
 * sl_map_cpu must be in the static TLS block (read via %fs, as the array
 * lookups in map_calls.c do), the multipliers 32-bit immediates.
 */
static bool percpu_inlined(const struct jit_state *st, const struct sl_map_htab_jit *l)
{
	return st->tpoff < 0 && st->tpoff >= -(1 << 20) && l->pcpu && l->ncpus &&
	       l->ncpus <= INT32_MAX && l->pcpu_bytes <= INT32_MAX && l->value_stride <= INT32_MAX;
}

/*
 * rdx = the element found: rax = its value in this worker's slot, as
 * elem_value(): pcpu + cpu * pcpu_bytes + number * value_stride; a jump
 * to NULL (the returned label) when the slot is not the map's.
 */
static size_t emit_percpu_value(struct jit_state *st, const struct sl_map_htab_jit *l)
{
	struct x86_emit *e = &st->e;
	size_t l_cpu;

	x86_load_fs32(e, X_R8, st->tpoff);                               /* r8d = sl_map_cpu */
	x86_alu_ri(e, false, ALU_CMP, X_R8, (int32_t)l->ncpus);
	l_cpu = jcc32_fwd(e, CC_AE);
	x86_load(e, 4, X_RCX, X_RDX, l->value_off);                      /* ecx = element number */
	x86_imul_rri(e, true, X_RCX, X_RCX, (int32_t)l->value_stride);
	x86_imul_rri(e, true, X_R8, X_R8, (int32_t)l->pcpu_bytes);
	x86_alu_rr(e, true, ALU_ADD, X_RCX, X_R8);
	x86_movabs(e, X_RAX, (uint64_t)(uintptr_t)l->pcpu);
	x86_alu_rr(e, true, ALU_ADD, X_RAX, X_RCX);
	return l_cpu;
}

int jit_emit_hash_lookup(struct jit_state *st, struct sl_map *map)
{
	struct x86_emit *e = &st->e;
	int key = st->rmap[BPF_REG_2];
	struct sl_map_htab_jit l;
	int32_t off[KEY_MAX_INLINE], hoff[KEY_MAX_INLINE];
	unsigned size[KEY_MAX_INLINE], hsize[KEY_MAX_INLINE], n, hn;
	size_t l_test, l_null, l_done, l_ref, l_cpu = 0, next;

	if (sl_map_htab_jit(map, &l) || !l.key_size || l.key_size > KEY_MAX_INLINE ||
	    l.mask > INT32_MAX || (l.key_word != 4 && l.key_word != 8) || key == X_RAX ||
	    key == X_RCX || key == X_RDX || key == X_RDI || key == X_R8 ||
	    (l.percpu && !percpu_inlined(st, &l)))
		return 0;   /* the key's register must not be one of the scratch registers here */
	n = key_words(&l, off, size);
	hn = hash_words(st, &l, hoff, hsize);
	x86_mov_ri(e, false, X_RAX, (int64_t)l.seed);
	for (unsigned i = 0; i < hn; i++)
		crc32_mem(e, hsize[i], X_RAX, key, hoff[i]);
	x86_mov_rr(e, false, X_RDX, X_RAX);
	x86_shift_ri(e, false, SH_SHR, X_RDX, 15);
	x86_alu_rr(e, false, ALU_XOR, X_RAX, X_RDX);                     /* eax = h */
	emit_head(e, &l);
	l_test = x86_jcc8_fwd(e, CC_ALWAYS);
	next = e->len;
	x86_load(e, 8, X_RDX, X_RDX, l.next_off);                        /* rdx = rdx->next */
	x86_bind8(e, l_test);
	x86_test_rr(e, true, X_RDX, X_RDX);
	l_null = jcc32_fwd(e, CC_E);
	x86_load(e, 4, X_R8, X_RDX, l.hash_off);
	x86_alu_rr(e, false, ALU_CMP, X_R8, X_RAX);
	jcc_back(e, CC_NE, next);
	for (unsigned i = 0; i < n; i++) {
		x86_load(e, size[i], X_RCX, key, off[i]);
		x86_load(e, size[i], X_R8, X_RDX, l.key_off + off[i]);
		x86_alu_rr(e, size[i] == 8, ALU_CMP, X_RCX, X_R8);
		jcc_back(e, CC_NE, next);
	}
	if (l.lru) {   /* as the C lookup: the reference byte written only when it is 0 */
		x86_alu_mi(e, 1, ALU_CMP, X_RDX, l.ref_off, 0);
		l_ref = x86_jcc8_fwd(e, CC_NE);
		x86_store_imm(e, 1, X_RDX, l.ref_off, 1);
		x86_bind8(e, l_ref);
	}
	if (l.percpu) {
		l_cpu = emit_percpu_value(st, &l);
	} else {
		x86_lea(e, true, X_RAX, X_RDX, l.value_off);
	}
	l_done = x86_jcc8_fwd(e, CC_ALWAYS);
	bind32(e, l_null);
	if (l.percpu)
		bind32(e, l_cpu);
	x86_alu_rr(e, false, ALU_XOR, X_RAX, X_RAX);
	x86_bind8(e, l_done);
	return 1;
}
