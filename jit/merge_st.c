/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Byte stores of one register's bytes merged into one wide store (control
 * thread, the last of jit_peephole()'s matches). clang writes a copy of a
 * struct to a packet whose alignment it does not know (an Ethernet header
 * put back after bpf_xdp_adjust_head) byte by byte from a wider value:
 *
 *   r4 = r3; r4 >>= 24; *(u8 *)(r1 + 11) = r4;
 *   r4 = r3; r4 >>= 16; *(u8 *)(r1 + 10) = r4;
 *   *(u8 *)(r1 + 8) = r3; r3 >>= 8; *(u8 *)(r1 + 9) = r3
 *       -> mov dword [r1 + 8], r3d
 *
 * Found per straight-line run of plain (unfused) ALU instructions and
 * byte stores, nothing else: no load, no other store, call, jump or jump
 * target inside (a run ends there). Each register is followed as "the
 * value register V had at the run's start, shifted right by s, in its low
 * n bits" through copies ("rT = rV", and v3's "wT = wV": n at most 32)
 * and right shifts by immediates (64- and 32-bit); anything else that
 * writes it makes it unknown. A byte store of such a value with s a
 * multiple of 8 and n >= 8 stores byte s/8 of V. When the byte stores of one V
 * to one base (the same "value at the run's start", unshifted) cover
 * [off, off + w) with byte j at off + j, w = 2, 4 or 8, each once, and no
 * other store comes between the group's first and last store, the store
 * of byte 0 (whose register holds V itself, in at least its low 8w bits)
 * becomes one w-byte store of that register and the others emit nothing: the memory is the same
 * after the group's last store, and nothing reads or writes memory in
 * between. The copies and shifts that fed only the dropped stores then
 * die in liveness.c.
 */
#include "jit_internal.h"

#define RUN_STORES 32       /* byte stores followed per run */

struct bstore {
	uint32_t pc;
	int8_t val, base;       /* run-start registers of the value and the base; -1 unknown */
	int8_t byte;            /* which byte of the value; -1: not a whole byte */
	uint8_t bits;           /* bits of the value the stored register holds */
};

static bool is_byte_store(const struct bpf_insn *in)
{
	return in->code == (BPF_STX | BPF_MEM | BPF_B);
}

/* Can the instruction at @p pc be in a run (a plain ALU instruction or byte store)? */
static bool run_insn(const struct sl_prog *p, const uint8_t *fuse, uint32_t pc)
{
	uint8_t cls = SL_OP_CLASS(p->insns[pc].code);

	if (p->insns[pc].dst_reg > 10 || p->insns[pc].src_reg > 10)
		return false;                  /* (the JIT also meets unverified code: jit-unit) */
	return !fuse[pc] && (cls == BPF_ALU || cls == BPF_ALU64 || is_byte_store(&p->insns[pc])) &&
	       !(p->aux && p->aux[pc].ctx_access);
}

/*
 * Follow one ALU instruction: register r holds (V >> shift[r]) in its low
 * bits[r] bits, V the value of register src[r] at the run's start (64:
 * exactly, as a 64-bit right shift of V); -1: unknown.
 */
static void track(const struct bpf_insn *in, int8_t *src, uint8_t *shift, uint8_t *bits)
{
	uint8_t d = in->dst_reg, cls = SL_OP_CLASS(in->code);
	int32_t k = in->imm;

	if ((in->code == (BPF_ALU64 | BPF_MOV | BPF_X) || in->code == (BPF_ALU | BPF_MOV | BPF_X)) &&
	    !in->off) {
		src[d] = src[in->src_reg];
		shift[d] = shift[in->src_reg];
		bits[d] = bits[in->src_reg];
		if (cls == BPF_ALU && bits[d] > 32)
			bits[d] = 32;                           /* wD = wS: the low half */
	} else if (in->code == (BPF_ALU64 | BPF_RSH | BPF_K) && src[d] >= 0 && k > 0 &&
		   shift[d] + k < 64) {
		shift[d] = (uint8_t)(shift[d] + k);
		bits[d] = bits[d] == 64 ? 64 : bits[d] > k ? (uint8_t)(bits[d] - k) : 0;
	} else if (in->code == (BPF_ALU | BPF_RSH | BPF_K) && src[d] >= 0 && k > 0 && k < 32 &&
		   shift[d] + k < 64) {
		shift[d] = (uint8_t)(shift[d] + k);       /* wD >>= k: of the low half */
		bits[d] = (bits[d] > 32 ? 32 : bits[d]) > k ? (uint8_t)((bits[d] > 32 ? 32 : bits[d]) - k) : 0;
	} else {
		src[d] = -1;
	}
}

/*
 * Is store @p i the byte-0 store of a group that covers its w bytes (w
 * returned), with no other store between the group's first and last?
 */
static unsigned group_width(const struct bstore *s, unsigned n, unsigned i, const struct sl_prog *p)
{
	const struct bpf_insn *b0 = &p->insns[s[i].pc];

	for (unsigned w = 8; w >= 2; w /= 2) {
		unsigned first = n, last = 0, hits = 0;
		bool ok = true;

		for (unsigned k = 0; k < n && ok; k++) {
			int32_t at = p->insns[s[k].pc].off - b0->off;

			if (s[k].base != s[i].base || at < 0 || at >= (int32_t)w)
				continue;                               /* elsewhere: checked below */
			ok = s[k].val == s[i].val && s[k].byte == at && !(hits & (1u << at));
			hits |= 1u << at;
			first = k < first ? k : first;
			last = k;
		}
		if (!ok || hits != (1u << w) - 1)
			continue;
		for (unsigned k = first; k <= last; k++) {
			int32_t at = p->insns[s[k].pc].off - b0->off;

			if (s[k].base != s[i].base || at < 0 || at >= (int32_t)w)
				ok = false;                             /* another store between */
		}
		if (ok)
			return w;
	}
	return 0;
}

/* The run [@p from, @p to): its byte stores, then the groups among them. */
static void merge_run(const struct sl_prog *p, uint32_t from, uint32_t to, uint8_t *fuse)
{
	struct bstore s[RUN_STORES];
	int8_t src[11];
	uint8_t shift[11] = { 0 }, bits[11];
	unsigned n = 0;

	for (int r = 0; r < 11; r++) {
		src[r] = (int8_t)r;
		bits[r] = 64;
	}
	for (uint32_t pc = from; pc < to; pc++) {
		const struct bpf_insn *in = &p->insns[pc];
		uint8_t x = in->src_reg, b = in->dst_reg;

		if (!is_byte_store(in)) {
			track(in, src, shift, bits);
			continue;
		}
		if (n == RUN_STORES)
			return;
		s[n++] = (struct bstore){ pc, src[x], shift[b] || bits[b] < 64 ? -1 : src[b],
					  (int8_t)(shift[x] % 8 || bits[x] < 8 ? -1 : shift[x] / 8),
					  bits[x] };
	}
	for (unsigned i = 0; i < n; i++) {
		unsigned w;

		if (s[i].byte != 0 || s[i].val < 0 || s[i].base < 0 ||
		    fuse[s[i].pc] || !(w = group_width(s, n, i, p)) || s[i].bits < 8 * w)
			continue;
		for (unsigned k = 0; k < n; k++) {
			int32_t at = p->insns[s[k].pc].off - p->insns[s[i].pc].off;

			if (k != i && s[k].base == s[i].base && at >= 0 && at < (int32_t)w)
				fuse[s[k].pc] = JIT_FUSE_NOP;
		}
		fuse[s[i].pc] = JIT_FUSE_ST_MERGE;
		fuse[p->n_insns + s[i].pc] = (uint8_t)w;
	}
}

void jit_merge_stores(const struct sl_prog *p, const uint8_t *targets, uint8_t *fuse)
{
	uint32_t pc = 0;

	while (pc < p->n_insns) {
		uint32_t end = pc + 1;

		if (!run_insn(p, fuse, pc)) {
			pc += sl_isa_is_lddw(&p->insns[pc]) ? 2 : 1;
			continue;
		}
		while (end < p->n_insns && !targets[end] && run_insn(p, fuse, end))
			end++;                          /* a jump may land on the run's first only */
		merge_run(p, pc, end, fuse);
		pc = end;
	}
}
