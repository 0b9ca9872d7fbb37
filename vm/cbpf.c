/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Classic BPF -> eBPF (socket filter), for tcpdump expressions.
 *
 * Register map (the kernel's bpf_convert_filter() uses the same idea):
 *
 *   classic   eBPF   note
 *   A         r0     LD_ABS/LD_IND leave their result in r0, so packet loads need no move
 *   X         r7     callee-saved: survives LD_ABS/LD_IND and helper calls
 *   (tmp)     r8     keeps A across the LD_ABS of "ldx 4*([k]&0xf)"
 *   (ctx)     r6     LD_ABS/LD_IND read the packet through r6 = the context
 *   M[0..15]  stack  u32 slots at r10 - 64 + 4*k, zeroed in the prologue when read
 *
 * Every value is a u32: ALU operations are 32-bit (they zero-extend), and
 * conditional jumps are JMP32 so a constant such as 0xffffffff compares
 * as the classic machine does.
 *
 * Semantics follow libpcap's bpf_filter() (the reference tcpdump applies
 * to files): a packet load past the captured bytes, a division by X = 0,
 * and a load at an offset that is not in the packet end the program with
 * 0 (reject); a shift by X >= 32 gives 0. `len` (ld #pktlen) is skb.len.
 * Linux's ancillary loads (SKF_AD_OFF + n) read struct __sk_buff fields,
 * SKF_LL_OFF + k reads byte k of the frame (sluice's packets start at the
 * link-layer header). Loads sluice has nothing for (SKF_NET_OFF,
 * SKF_AD_NLATTR, _NLATTR_NEST, _HATYPE, _PAY_OFFSET) are refused.
 *
 * Instructions no path reaches are checked but not emitted (the verifier,
 * like the kernel's, refuses dead code). Two passes over the classic
 * program run the same emit code: the first
 * only counts eBPF instructions per classic instruction (the shape of each
 * translation depends on the instruction alone, never on jump distances),
 * giving the classic pc -> eBPF pc map; the second writes the instructions
 * with the jump offsets taken from that map.
 *
 * Control thread; allocates.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl_cbpf.h"
#include "sl_isa.h"

#define R_A BPF_REG_0
#define R_CTX BPF_REG_6
#define R_X BPF_REG_7
#define R_TMP BPF_REG_8
#define R_FP BPF_REG_10

#define CBPF_MEMWORDS 16
#define MEM_OFF(k) ((int16_t)(-4 * CBPF_MEMWORDS + 4 * (int)(k)))

/* Translation of one program (both passes). */
struct xl {
	const struct sock_filter *in;
	unsigned n;
	struct bpf_insn *out;  /* NULL in the counting pass */
	uint32_t len;          /* eBPF instructions so far */
	uint32_t *map;         /* classic pc -> first eBPF pc, n + 1 entries */
	uint8_t *reached;      /* classic instructions some path reaches */
	unsigned pc;           /* classic instruction being translated */
	char *log;
	size_t log_len;
};

static int xl_fail(struct xl *x, int err, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (x->log && x->log_len) {
		n = snprintf(x->log, x->log_len, "cbpf pc %u: ", x->pc);
		if (n >= 0 && (size_t)n < x->log_len) {
			va_start(ap, fmt);
			vsnprintf(x->log + n, x->log_len - (size_t)n, fmt, ap);
			va_end(ap);
		}
	}
	errno = -err;
	return err;
}

static void put(struct xl *x, uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm)
{
	if (x->out)
		x->out[x->len] = (struct bpf_insn){ .code = code, .dst_reg = dst, .src_reg = src,
						    .off = off, .imm = imm };
	x->len++;
}

/* eBPF offset of a jump placed next, to classic instruction @p target. */
static int16_t jump_off(const struct xl *x, unsigned target)
{
	if (!x->out)
		return 0;
	return (int16_t)((int64_t)x->map[target] - (int64_t)(x->len + 1));
}

static void put_ret_imm(struct xl *x, uint32_t v)
{
	put(x, BPF_ALU | BPF_MOV | BPF_K, R_A, 0, 0, (int32_t)v);  /* w0 = v */
	put(x, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);                     /* exit */
}

/* A load of a struct __sk_buff u32 field into A. */
static void put_skb_field(struct xl *x, size_t off)
{
	put(x, BPF_LDX | BPF_MEM | BPF_W, R_A, R_CTX, (int16_t)off, 0);  /* r0 = *(u32 *)(r6 + off) */
}

/* ld [SKF_AD_OFF + which]: Linux's ancillary data. */
static int put_ancillary(struct xl *x, uint32_t which)
{
	switch (which) {
	case SKF_AD_PROTOCOL:
		put_skb_field(x, offsetof(struct __sk_buff, protocol));
		put(x, BPF_ALU | BPF_END | BPF_TO_BE, R_A, 0, 0, 16);  /* r0 = be16 r0: host order */
		return 0;
	case SKF_AD_PKTTYPE: put_skb_field(x, offsetof(struct __sk_buff, pkt_type)); return 0;
	case SKF_AD_IFINDEX: put_skb_field(x, offsetof(struct __sk_buff, ifindex)); return 0;
	case SKF_AD_MARK: put_skb_field(x, offsetof(struct __sk_buff, mark)); return 0;
	case SKF_AD_QUEUE: put_skb_field(x, offsetof(struct __sk_buff, queue_mapping)); return 0;
	case SKF_AD_RXHASH: put_skb_field(x, offsetof(struct __sk_buff, hash)); return 0;
	case SKF_AD_VLAN_TAG: put_skb_field(x, offsetof(struct __sk_buff, vlan_tci)); return 0;
	case SKF_AD_VLAN_TAG_PRESENT:
		put_skb_field(x, offsetof(struct __sk_buff, vlan_present));
		return 0;
	case SKF_AD_VLAN_TPID:
		put_skb_field(x, offsetof(struct __sk_buff, vlan_proto));
		put(x, BPF_ALU | BPF_END | BPF_TO_BE, R_A, 0, 0, 16);
		return 0;
	case SKF_AD_CPU:
		put(x, BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_get_smp_processor_id);
		return 0;
	case SKF_AD_RANDOM:
		put(x, BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_get_prandom_u32);
		return 0;
	case SKF_AD_ALU_XOR_X:
		put(x, BPF_ALU | BPF_XOR | BPF_X, R_A, R_X, 0, 0);  /* w0 ^= w7 */
		return 0;
	default:
		return xl_fail(x, -ENOTSUP, "ancillary load SKF_AD_OFF+%u is not supported", which);
	}
}

/* ld{,h,b} [k]: packet bytes, an ancillary field, or (outside the packet) reject. */
static int put_ld_abs(struct xl *x, const struct sock_filter *f)
{
	int32_t k = (int32_t)f->k;

	if (k >= 0) {
		put(x, BPF_LD | BPF_ABS | BPF_SIZE(f->code), 0, 0, 0, k);
		return 0;
	}
	if (k >= SKF_AD_OFF)
		return put_ancillary(x, (uint32_t)(k - SKF_AD_OFF));
	if (k >= SKF_LL_OFF && k < SKF_NET_OFF) {
		put(x, BPF_LD | BPF_ABS | BPF_SIZE(f->code), 0, 0, 0, k - SKF_LL_OFF);
		return 0;
	}
	if (k >= SKF_NET_OFF)
		return xl_fail(x, -ENOTSUP, "network-header loads (SKF_NET_OFF) are not supported");
	put_ret_imm(x, 0);  /* no such byte: libpcap rejects the packet */
	return 0;
}

static int put_ld(struct xl *x, const struct sock_filter *f, bool to_x)
{
	uint8_t dst = to_x ? R_X : R_A;

	switch (BPF_MODE(f->code)) {
	case BPF_IMM:
		put(x, BPF_ALU | BPF_MOV | BPF_K, dst, 0, 0, (int32_t)f->k);
		return 0;
	case BPF_LEN:
		put(x, BPF_LDX | BPF_MEM | BPF_W, dst, R_CTX, offsetof(struct __sk_buff, len), 0);
		return 0;
	case BPF_MEM:
		put(x, BPF_LDX | BPF_MEM | BPF_W, dst, R_FP, MEM_OFF(f->k), 0);
		return 0;
	case BPF_ABS:
		return put_ld_abs(x, f);
	case BPF_IND:
		put(x, BPF_LD | BPF_IND | BPF_SIZE(f->code), 0, R_X, 0, (int32_t)f->k);
		return 0;
	case BPF_MSH:  /* X = 4 * ([k] & 0xf), A kept */
		put(x, BPF_ALU64 | BPF_MOV | BPF_X, R_TMP, R_A, 0, 0);    /* r8 = r0 */
		put(x, BPF_LD | BPF_ABS | BPF_B, 0, 0, 0, (int32_t)f->k);  /* r0 = *(u8 *)skb[k] */
		put(x, BPF_ALU | BPF_AND | BPF_K, R_A, 0, 0, 0xf);        /* w0 &= 0xf */
		put(x, BPF_ALU | BPF_LSH | BPF_K, R_A, 0, 0, 2);          /* w0 <<= 2 */
		put(x, BPF_ALU64 | BPF_MOV | BPF_X, R_X, R_A, 0, 0);      /* r7 = r0 */
		put(x, BPF_ALU64 | BPF_MOV | BPF_X, R_A, R_TMP, 0, 0);    /* r0 = r8 */
		return 0;
	}
	return xl_fail(x, -EINVAL, "unknown load mode 0x%02x", f->code);
}

static int put_alu(struct xl *x, const struct sock_filter *f)
{
	uint8_t op = BPF_OP(f->code);
	bool by_x = BPF_SRC(f->code) == BPF_X;

	if (op == BPF_NEG) {
		put(x, BPF_ALU | BPF_NEG, R_A, 0, 0, 0);
		return 0;
	}
	if (op != BPF_ADD && op != BPF_SUB && op != BPF_MUL && op != BPF_DIV && op != BPF_MOD &&
	    op != BPF_AND && op != BPF_OR && op != BPF_XOR && op != BPF_LSH && op != BPF_RSH)
		return xl_fail(x, -EINVAL, "unknown ALU operation 0x%02x", f->code);
	if (!by_x && (op == BPF_DIV || op == BPF_MOD) && f->k == 0)
		return xl_fail(x, -EINVAL, "division by the constant 0");
	if (!by_x && (op == BPF_LSH || op == BPF_RSH) && f->k >= 32)
		return xl_fail(x, -EINVAL, "shift by %u (>= 32)", f->k);
	if (by_x && (op == BPF_DIV || op == BPF_MOD)) {
		put(x, BPF_JMP32 | BPF_JNE | BPF_K, R_X, 0, 2, 0);  /* if w7 != 0 goto +2 */
		put_ret_imm(x, 0);                                  /* division by 0: reject */
	}
	if (by_x && (op == BPF_LSH || op == BPF_RSH)) {
		put(x, BPF_JMP32 | BPF_JLT | BPF_K, R_X, 0, 2, 32); /* if w7 < 32 goto +2 */
		put(x, BPF_ALU | BPF_MOV | BPF_K, R_A, 0, 0, 0);    /* w0 = 0 */
		put(x, BPF_JMP | BPF_JA, 0, 0, 1, 0);               /* goto +1 */
	}
	put(x, BPF_ALU | op | (by_x ? BPF_X : BPF_K), R_A, by_x ? R_X : 0, 0,
	    by_x ? 0 : (int32_t)f->k);
	return 0;
}

static int check_target(struct xl *x, uint64_t target)
{
	if (target >= x->n)
		return xl_fail(x, -EINVAL, "jump to %llu, out of the program (%u instructions)",
			       (unsigned long long)target, x->n);
	return 0;
}

/* Negation of a comparison, or 0 when eBPF has none (JSET). */
static uint8_t negated(uint8_t op)
{
	return op == BPF_JEQ ? BPF_JNE : op == BPF_JGT ? BPF_JLE : op == BPF_JGE ? BPF_JLT : 0;
}

static int put_jmp(struct xl *x, const struct sock_filter *f)
{
	uint8_t op = BPF_OP(f->code), neg;
	uint8_t src = BPF_SRC(f->code) == BPF_X ? R_X : 0;
	int32_t imm = src ? 0 : (int32_t)f->k;
	unsigned t, e;

	if (op == BPF_JA) {
		if (check_target(x, (uint64_t)x->pc + 1 + f->k))
			return -EINVAL;
		put(x, BPF_JMP | BPF_JA, 0, 0, jump_off(x, x->pc + 1 + f->k), 0);
		return 0;
	}
	if (op != BPF_JEQ && op != BPF_JGT && op != BPF_JGE && op != BPF_JSET)
		return xl_fail(x, -EINVAL, "unknown jump 0x%02x", f->code);
	t = x->pc + 1 + f->jt;
	e = x->pc + 1 + f->jf;
	if (check_target(x, t) || check_target(x, e))
		return -EINVAL;
	if (t == e) {
		put(x, BPF_JMP | BPF_JA, 0, 0, jump_off(x, t), 0);
		return 0;
	}
	neg = negated(op);
	if (f->jt == 0 && neg) {  /* fall through when true */
		put(x, BPF_JMP32 | neg | (src ? BPF_X : BPF_K), R_A, src, jump_off(x, e), imm);
		return 0;
	}
	if (f->jt == 0) {         /* jset: skip the jump to e when true */
		put(x, BPF_JMP32 | op | (src ? BPF_X : BPF_K), R_A, src, 1, imm);
		put(x, BPF_JMP | BPF_JA, 0, 0, jump_off(x, e), 0);
		return 0;
	}
	put(x, BPF_JMP32 | op | (src ? BPF_X : BPF_K), R_A, src, jump_off(x, t), imm);
	if (f->jf)
		put(x, BPF_JMP | BPF_JA, 0, 0, jump_off(x, e), 0);
	return 0;
}

static int put_ret(struct xl *x, const struct sock_filter *f)
{
	switch (BPF_RVAL(f->code)) {
	case BPF_K:
		put_ret_imm(x, f->k);
		return 0;
	case BPF_A:
		put(x, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
		return 0;
	case BPF_X:
		put(x, BPF_ALU | BPF_MOV | BPF_X, R_A, R_X, 0, 0);
		put(x, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
		return 0;
	}
	return xl_fail(x, -EINVAL, "unknown return 0x%02x", f->code);
}

static int put_insn(struct xl *x, const struct sock_filter *f)
{
	uint8_t cls = BPF_CLASS(f->code);

	if ((cls == BPF_ST || cls == BPF_STX ||
	     ((cls == BPF_LD || cls == BPF_LDX) && BPF_MODE(f->code) == BPF_MEM)) &&
	    f->k >= CBPF_MEMWORDS)
		return xl_fail(x, -EINVAL, "scratch slot M[%u] (0..15)", f->k);
	switch (cls) {
	case BPF_LD:
		if (BPF_SIZE(f->code) == BPF_DW || (BPF_MODE(f->code) != BPF_ABS &&
		    BPF_MODE(f->code) != BPF_IND && BPF_SIZE(f->code) != BPF_W))
			return xl_fail(x, -EINVAL, "unknown load 0x%02x", f->code);
		return put_ld(x, f, false);
	case BPF_LDX:
		if (f->code != (BPF_LDX | BPF_W | BPF_IMM) && f->code != (BPF_LDX | BPF_W | BPF_MEM) &&
		    f->code != (BPF_LDX | BPF_W | BPF_LEN) && f->code != (BPF_LDX | BPF_B | BPF_MSH))
			return xl_fail(x, -EINVAL, "unknown load 0x%02x", f->code);
		return put_ld(x, f, true);
	case BPF_ST:
	case BPF_STX:
		if (f->code != BPF_ST && f->code != BPF_STX)
			return xl_fail(x, -EINVAL, "unknown store 0x%02x", f->code);
		put(x, BPF_STX | BPF_MEM | BPF_W, R_FP, cls == BPF_ST ? R_A : R_X, MEM_OFF(f->k), 0);
		return 0;
	case BPF_ALU:
		return put_alu(x, f);
	case BPF_JMP:
		return put_jmp(x, f);
	case BPF_RET:
		return put_ret(x, f);
	case BPF_MISC:
		if (f->code == (BPF_MISC | BPF_TAX))
			put(x, BPF_ALU64 | BPF_MOV | BPF_X, R_X, R_A, 0, 0);  /* r7 = r0 */
		else if (f->code == (BPF_MISC | BPF_TXA))
			put(x, BPF_ALU64 | BPF_MOV | BPF_X, R_A, R_X, 0, 0);  /* r0 = r7 */
		else
			return xl_fail(x, -EINVAL, "unknown opcode 0x%02x", f->code);
		return 0;
	}
	return xl_fail(x, -EINVAL, "unknown opcode 0x%02x", f->code);
}

/* Scratch slots some instruction reads: zeroed in the prologue. */
static uint32_t mem_read_mask(const struct sock_filter *in, unsigned n)
{
	uint32_t mask = 0;

	for (unsigned i = 0; i < n; i++)
		if ((in[i].code == (BPF_LD | BPF_W | BPF_MEM) ||
		     in[i].code == (BPF_LDX | BPF_W | BPF_MEM)) && in[i].k < CBPF_MEMWORDS)
			mask |= 1u << in[i].k;
	return mask;
}

/* One pass: prologue, then every classic instruction. */
static int xl_pass(struct xl *x)
{
	uint32_t mask = mem_read_mask(x->in, x->n);
	int err;

	x->len = 0;
	put(x, BPF_ALU64 | BPF_MOV | BPF_X, R_CTX, BPF_REG_1, 0, 0);  /* r6 = r1 */
	put(x, BPF_ALU | BPF_MOV | BPF_K, R_A, 0, 0, 0);              /* w0 = 0 */
	put(x, BPF_ALU | BPF_MOV | BPF_K, R_X, 0, 0, 0);              /* w7 = 0 */
	for (unsigned k = 0; k < CBPF_MEMWORDS; k++)
		if (mask & (1u << k))
			put(x, BPF_ST | BPF_MEM | BPF_W, R_FP, 0, MEM_OFF(k), 0);
	for (x->pc = 0; x->pc < x->n; x->pc++) {
		uint32_t at = x->len;

		if (!x->out)
			x->map[x->pc] = x->len;
		else if (!x->reached[x->pc])
			continue;
		err = put_insn(x, &x->in[x->pc]);
		if (err)
			return err;
		if (!x->reached[x->pc])
			x->len = at;  /* checked, not emitted: the verifier refuses dead code */
	}
	x->map[x->n] = x->len;
	return 0;
}

/* ld [k] with k below every special area: the program ends there (put_ld_abs). */
static bool ends_program(const struct sock_filter *f)
{
	return BPF_CLASS(f->code) == BPF_RET ||
	       (BPF_CLASS(f->code) == BPF_LD && BPF_MODE(f->code) == BPF_ABS &&
		(int32_t)f->k < SKF_LL_OFF);
}

/* Mark what some path reaches (jumps only go forward: one pass in order). */
static void mark_reached(const struct sock_filter *in, unsigned n, uint8_t *reached)
{
	reached[0] = 1;
	for (unsigned pc = 0; pc < n; pc++) {
		const struct sock_filter *f = &in[pc];
		uint64_t next = (uint64_t)pc + 1;

		if (!reached[pc] || ends_program(f))
			continue;
		if (f->code == (BPF_JMP | BPF_JA)) {
			if (next + f->k < n)
				reached[next + f->k] = 1;
		} else if (BPF_CLASS(f->code) == BPF_JMP) {
			if (next + f->jt < n)
				reached[next + f->jt] = 1;
			if (next + f->jf < n)
				reached[next + f->jf] = 1;
		} else if (next < n) {
			reached[next] = 1;
		}
	}
}

struct sl_prog *sl_cbpf_translate(const struct sock_filter *insns, unsigned n,
				  char *log, size_t log_len)
{
	struct xl x = { .in = insns, .n = n, .log = log, .log_len = log_len };
	struct sl_prog *prog = NULL;

	if (log && log_len)
		log[0] = '\0';
	if (!insns || n == 0 || n > SL_CBPF_MAX_INSNS) {
		xl_fail(&x, n > SL_CBPF_MAX_INSNS ? -E2BIG : -EINVAL,
			"%u instructions (1..%u)", n, SL_CBPF_MAX_INSNS);
		return NULL;
	}
	x.pc = n - 1;
	if (BPF_CLASS(insns[n - 1].code) != BPF_RET) {
		xl_fail(&x, -EINVAL, "the program does not end with a return");
		return NULL;
	}
	x.map = calloc(n + 1, sizeof(*x.map));
	x.reached = calloc(n, 1);
	if (!x.map || !x.reached) {
		errno = ENOMEM;
		goto out;
	}
	mark_reached(insns, n, x.reached);
	if (xl_pass(&x))
		goto out;
	if (x.len > INT16_MAX) {
		xl_fail(&x, -E2BIG, "translation has %u instructions, jumps reach %d", x.len, INT16_MAX);
		goto out;
	}
	x.out = calloc(x.len, sizeof(*x.out));
	if (!x.out) {
		errno = ENOMEM;
		goto out;
	}
	if (xl_pass(&x))
		goto out;
	prog = sl_prog_from_raw(x.out, (size_t)x.len * sizeof(*x.out), SL_PROG_SOCKET, 0,
				log, log_len);
	if (prog) {
		snprintf(prog->name, sizeof(prog->name), "filter");
		snprintf(prog->section, sizeof(prog->section), "socket");
		snprintf(prog->license, sizeof(prog->license), "GPL");
	}
out:
	free(x.out);
	free(x.map);
	free(x.reached);
	return prog;
}
