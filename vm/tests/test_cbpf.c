/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vm/cbpf.c: classic BPF -> eBPF, differential.
 *
 *   random   random valid classic programs using every opcode (loads of all
 *            modes and sizes, ancillary fields, scratch memory, every ALU
 *            operation with K and X, every jump, every return), each
 *            translated, verified, JIT-compiled and prepared for the
 *            interpreter, then run on random packets: the interpreter and
 *            the JIT must both return what this file's own classic
 *            interpreter (libpcap's bpf_filter() semantics, plus Linux's
 *            ancillary loads) returns.
 *   invalid  classic programs the translation must refuse, with its message.
 *
 * usage: test_cbpf [random N SEED | invalid]
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "sl_cbpf.h"
#include "sl_test.h"
#include "sl_jit.h"
#include "sl_vm.h"

#define MAXN 64
#define MAXPKT 96

static struct sl_rng rng;

/* [0, n) from the top 31 bits of xorshift64*; 0 when n is 0 */
static uint32_t below(uint32_t n)
{
	return n ? (uint32_t)(sl_rng_u64(&rng) >> 33) % n : 0;
}

/* ---- reference classic interpreter ---- */

struct pkt {
	uint8_t b[MAXPKT];
	uint32_t caplen, wirelen;
	struct __sk_buff skb;
};

static int ref_load(const struct pkt *p, uint32_t k, unsigned size, uint32_t *v)
{
	if (k > p->caplen || size > p->caplen - k)
		return -1;
	*v = 0;
	for (unsigned i = 0; i < size; i++)
		*v = *v << 8 | p->b[k + i];
	return 0;
}

static int ref_ancillary(const struct pkt *p, uint32_t which, uint32_t a, uint32_t x, uint32_t *v)
{
	switch (which) {
	case SKF_AD_PROTOCOL: *v = ntohs((uint16_t)p->skb.protocol); return 0;
	case SKF_AD_PKTTYPE: *v = p->skb.pkt_type; return 0;
	case SKF_AD_IFINDEX: *v = p->skb.ifindex; return 0;
	case SKF_AD_MARK: *v = p->skb.mark; return 0;
	case SKF_AD_QUEUE: *v = p->skb.queue_mapping; return 0;
	case SKF_AD_RXHASH: *v = p->skb.hash; return 0;
	case SKF_AD_VLAN_TAG: *v = p->skb.vlan_tci; return 0;
	case SKF_AD_VLAN_TAG_PRESENT: *v = p->skb.vlan_present; return 0;
	case SKF_AD_VLAN_TPID: *v = ntohs((uint16_t)p->skb.vlan_proto); return 0;
	case SKF_AD_ALU_XOR_X: *v = a ^ x; return 0;
	}
	return -1;
}

static uint32_t ref_alu(uint8_t op, uint32_t a, uint32_t s, int *reject)
{
	switch (op) {
	case BPF_ADD: return a + s;
	case BPF_SUB: return a - s;
	case BPF_MUL: return a * s;
	case BPF_DIV: if (!s) *reject = 1; return s ? a / s : 0;
	case BPF_MOD: if (!s) *reject = 1; return s ? a % s : 0;
	case BPF_AND: return a & s;
	case BPF_OR: return a | s;
	case BPF_XOR: return a ^ s;
	case BPF_LSH: return s < 32 ? a << s : 0;
	case BPF_RSH: return s < 32 ? a >> s : 0;
	case BPF_NEG: return -a;
	}
	FATAL("reference: ALU op 0x%x", op);
}

static int ref_jump(uint8_t op, uint32_t a, uint32_t s)
{
	switch (op) {
	case BPF_JEQ: return a == s;
	case BPF_JGT: return a > s;
	case BPF_JGE: return a >= s;
	case BPF_JSET: return (a & s) != 0;
	}
	FATAL("reference: jump 0x%x", op);
}

/* One load of class LD/LDX; -1 ends the program with 0. */
static int ref_ld(const struct sock_filter *f, const struct pkt *p, const uint32_t *mem,
		  uint32_t a, uint32_t x, uint32_t *v)
{
	unsigned size = BPF_SIZE(f->code) == BPF_W ? 4 : BPF_SIZE(f->code) == BPF_H ? 2 : 1;
	int32_t k = (int32_t)f->k;

	switch (BPF_MODE(f->code)) {
	case BPF_IMM: *v = f->k; return 0;
	case BPF_LEN: *v = p->wirelen; return 0;
	case BPF_MEM: *v = mem[f->k]; return 0;
	case BPF_IND: return ref_load(p, x + f->k, size, v);
	case BPF_MSH:
		if (ref_load(p, f->k, 1, v))
			return -1;
		*v = (*v & 0xf) << 2;
		return 0;
	case BPF_ABS:
		if (k >= SKF_AD_OFF && k < 0)
			return ref_ancillary(p, (uint32_t)(k - SKF_AD_OFF), a, x, v);
		if (k >= SKF_LL_OFF && k < SKF_NET_OFF)
			return ref_load(p, (uint32_t)(k - SKF_LL_OFF), size, v);
		return ref_load(p, f->k, size, v);
	}
	FATAL("reference: load 0x%x", f->code);
}

static uint32_t ref_run(const struct sock_filter *in, unsigned n, const struct pkt *p)
{
	uint32_t a = 0, x = 0, mem[16] = { 0 }, v;
	int reject = 0;

	for (unsigned pc = 0; pc < n; pc++) {
		const struct sock_filter *f = &in[pc];
		uint32_t s = BPF_SRC(f->code) == BPF_X ? x : f->k;

		switch (BPF_CLASS(f->code)) {
		case BPF_LD:
		case BPF_LDX:
			if (ref_ld(f, p, mem, a, x, &v))
				return 0;
			if (BPF_CLASS(f->code) == BPF_LD)
				a = v;
			else
				x = v;
			break;
		case BPF_ST: mem[f->k] = a; break;
		case BPF_STX: mem[f->k] = x; break;
		case BPF_ALU:
			a = ref_alu(BPF_OP(f->code), a, s, &reject);
			if (reject)
				return 0;
			break;
		case BPF_JMP:
			if (BPF_OP(f->code) == BPF_JA)
				pc += f->k;
			else
				pc += ref_jump(BPF_OP(f->code), a, s) ? f->jt : f->jf;
			break;
		case BPF_RET:
			return BPF_RVAL(f->code) == BPF_A ? a : BPF_RVAL(f->code) == BPF_X ? x : f->k;
		case BPF_MISC:
			if (f->code == (BPF_MISC | BPF_TAX))
				x = a;
			else
				a = x;
			break;
		}
	}
	FATAL("reference: fell off the program");
}

/* ---- random programs ---- */

static const uint32_t anc[] = {
	SKF_AD_PROTOCOL, SKF_AD_PKTTYPE, SKF_AD_IFINDEX, SKF_AD_MARK, SKF_AD_QUEUE,
	SKF_AD_RXHASH, SKF_AD_VLAN_TAG, SKF_AD_VLAN_TAG_PRESENT, SKF_AD_VLAN_TPID,
	SKF_AD_ALU_XOR_X,
};
static const uint8_t sizes[] = { BPF_W, BPF_H, BPF_B };
static const uint8_t alu_ops[] = { BPF_ADD, BPF_SUB, BPF_MUL, BPF_DIV, BPF_MOD, BPF_AND,
				   BPF_OR, BPF_XOR, BPF_LSH, BPF_RSH, BPF_NEG };
static const uint8_t jmp_ops[] = { BPF_JEQ, BPF_JGT, BPF_JGE, BPF_JSET };

static uint32_t rnd_k(void)
{
	switch (below(4)) {
	case 0: return below(4);
	case 1: return below(100);
	case 2: return 0xffffffffu - below(3);
	default: return (uint32_t)(below(1u << 16) << 16 | below(1u << 16));
	}
}

static uint32_t rnd_abs_k(void)
{
	switch (below(8)) {
	case 0: return (uint32_t)(SKF_AD_OFF + (int32_t)anc[below(sizeof(anc) / sizeof(anc[0]))]);
	case 1: return (uint32_t)(SKF_LL_OFF + (int32_t)below(40));
	case 2: return 0x80000000u + below(10);  /* a negative offset that is no special area */
	default: return below(MAXPKT + 4);
	}
}

static struct sock_filter rnd_load(bool to_x)
{
	uint8_t sz = sizes[below(3)];

	if (to_x) {
		static const uint8_t m[] = { BPF_IMM, BPF_MEM, BPF_LEN, BPF_MSH };
		uint8_t mode = m[below(4)];

		return (struct sock_filter)BPF_STMT(BPF_LDX | (mode == BPF_MSH ? BPF_B : BPF_W) | mode,
						   mode == BPF_MEM ? below(16) :
						   mode == BPF_MSH ? below(MAXPKT) : rnd_k());
	}
	switch (below(6)) {
	case 0: return (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_IMM, rnd_k());
	case 1: return (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_LEN, 0);
	case 2: return (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_MEM, below(16));
	case 3: return (struct sock_filter)BPF_STMT(BPF_LD | sz | BPF_IND, below(MAXPKT));
	default: return (struct sock_filter)BPF_STMT(BPF_LD | sz | BPF_ABS, rnd_abs_k());
	}
}

static struct sock_filter rnd_alu(void)
{
	uint8_t op = alu_ops[below(sizeof(alu_ops))];
	uint32_t k = rnd_k();

	if (op == BPF_NEG)
		return (struct sock_filter)BPF_STMT(BPF_ALU | BPF_NEG, 0);
	if (below(2))
		return (struct sock_filter)BPF_STMT(BPF_ALU | op | BPF_X, 0);
	if (op == BPF_LSH || op == BPF_RSH)
		k %= 32;
	if ((op == BPF_DIV || op == BPF_MOD) && k == 0)
		k = 3;
	return (struct sock_filter)BPF_STMT(BPF_ALU | op | BPF_K, k);
}

static struct sock_filter rnd_insn(unsigned pc, unsigned n)
{
	unsigned room = n - 1 - pc - 1;  /* targets pc+1 .. n-1 */
	uint8_t op = jmp_ops[below(4)];

	switch (below(10)) {
	case 0: case 1: case 2: return rnd_load(false);
	case 3: return rnd_load(true);
	case 4: return (struct sock_filter)BPF_STMT(below(2) ? BPF_ST : BPF_STX, below(16));
	case 5: case 6: return rnd_alu();
	case 7:
		if (below(4) == 0)
			return (struct sock_filter)BPF_STMT(BPF_JMP | BPF_JA, below(room + 1));
		return (struct sock_filter)BPF_JUMP(BPF_JMP | op | (below(2) ? BPF_X : BPF_K), rnd_k(),
						   below(room + 1 < 255 ? room + 1 : 255),
						   below(room + 1 < 255 ? room + 1 : 255));
	case 8: return (struct sock_filter)BPF_STMT(BPF_MISC | (below(2) ? BPF_TAX : BPF_TXA), 0);
	default:
		return (struct sock_filter)BPF_STMT(BPF_RET | (below(3) == 0 ? BPF_K : below(2) ? BPF_A : BPF_X),
						   rnd_k());
	}
}

static void rnd_pkt(struct pkt *p)
{
	memset(p, 0, sizeof(*p));
	p->caplen = below(MAXPKT + 1);
	p->wirelen = p->caplen + (below(3) ? 0 : below(2000));
	for (unsigned i = 0; i < p->caplen; i++)
		p->b[i] = below(4) ? (uint8_t)below(256) : (uint8_t)below(3);
	p->skb.len = p->wirelen;
	p->skb.protocol = htons((uint16_t)(below(2) ? 0x0800 : below(65536)));
	p->skb.pkt_type = below(5);
	p->skb.ifindex = below(8);
	p->skb.mark = rnd_k();
	p->skb.queue_mapping = below(4);
	p->skb.hash = rnd_k();
	p->skb.vlan_present = below(2);
	p->skb.vlan_tci = below(65536);
	p->skb.vlan_proto = htons(below(2) ? 0x8100 : 0x88a8);
}

static void check_one(const struct sock_filter *in, unsigned n, unsigned iter)
{
	static const struct sl_vm_run_opts vo = { .sz = sizeof(vo) };
	char log[256] = "";
	struct sl_prog *prog = sl_cbpf_translate(in, n, log, sizeof(log));
	struct sl_jit *jit;
	struct sl_skb_ctx ctx;

	if (!prog)
		FATAL("program %u: translation refused a valid program: %s", iter, log);
	if (sl_prog_verify(prog, 0, NULL, log, sizeof(log)))
		FATAL("program %u: verifier rejects the translation: %s", iter, log);
	jit = sl_jit_compile(prog, NULL, log, sizeof(log));
	if (!jit)
		FATAL("program %u: JIT: %s", iter, log);
	if (sl_vm_prepare(prog, log, sizeof(log)))
		FATAL("program %u: interpreter: %s", iter, log);
	for (unsigned t = 0; t < 40; t++) {
		struct pkt p;
		struct sl_vm_result res = { 0 };
		uint64_t want, vi, vj;

		rnd_pkt(&p);
		want = ref_run(in, n, &p);
		memset(&ctx, 0, sizeof(ctx));
		ctx.skb = p.skb;
		ctx.pkt = p.b;
		ctx.pkt_len = p.caplen;
		vi = sl_vm_exec(prog, &ctx, &vo, &res);
		vj = sl_jit_entry(jit)(&ctx, 0);
		if (res.err || vi != want || vj != want) {
			fprintf(stderr, "classic program:\n");
			for (unsigned i = 0; i < n; i++)
				fprintf(stderr, "  %3u: code 0x%04x jt %u jf %u k 0x%x\n", i, in[i].code,
					in[i].jt, in[i].jf, in[i].k);
			sl_disasm_prog(prog, stderr);
			FATAL("program %u packet %u (caplen %u, len %u): reference %llu, interpreter %llu%s%s,"
			     " JIT %llu", iter, t, p.caplen, p.wirelen, (unsigned long long)want,
			     (unsigned long long)vi, res.err ? " fault " : "", res.err ? res.msg : "",
			     (unsigned long long)vj);
		}
	}
	sl_jit_free(jit);
	sl_prog_free(prog);
}

static int run_random(unsigned count, uint64_t seed)
{
	struct sock_filter in[MAXN];

	rng = sl_rng_make(seed * 2 + 1, SL_RNG_XORSHIFT_STAR);
	sl_test_seed(seed);
	for (unsigned it = 0; it < count; it++) {
		unsigned n = 2 + below(MAXN - 1);

		for (unsigned pc = 0; pc + 1 < n; pc++)
			in[pc] = rnd_insn(pc, n);
		in[n - 1] = (struct sock_filter)BPF_STMT(BPF_RET | (below(2) ? BPF_A : BPF_K), rnd_k());
		check_one(in, n, it);
	}
	printf("ok random: %u classic programs x 40 packets, interpreter and JIT = reference\n", count);
	return 0;
}

/* ---- programs the translation refuses ---- */

struct bad_case {
	struct sock_filter in[4];
	unsigned n;
	int err;
	const char *msg;
};

static const struct bad_case bad_cases[] = {
	{ { BPF_STMT(BPF_LD | BPF_W | BPF_IMM, 1) }, 1, EINVAL,
	  "cbpf pc 0: the program does not end with a return" },
	{ { BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 1, 0, 5), BPF_STMT(BPF_RET | BPF_K, 0) }, 2, EINVAL,
	  "cbpf pc 0: jump to 6, out of the program (2 instructions)" },
	{ { BPF_STMT(BPF_JMP | BPF_JA, 0xffffffffu), BPF_STMT(BPF_RET | BPF_K, 0) }, 2, EINVAL,
	  "cbpf pc 0: jump to 4294967296, out of the program (2 instructions)" },
	{ { BPF_STMT(BPF_ST, 16), BPF_STMT(BPF_RET | BPF_K, 0) }, 2, EINVAL,
	  "cbpf pc 0: scratch slot M[16] (0..15)" },
	{ { BPF_STMT(BPF_ALU | BPF_DIV | BPF_K, 0), BPF_STMT(BPF_RET | BPF_K, 0) }, 2, EINVAL,
	  "cbpf pc 0: division by the constant 0" },
	{ { BPF_STMT(BPF_ALU | BPF_LSH | BPF_K, 32), BPF_STMT(BPF_RET | BPF_K, 0) }, 2, EINVAL,
	  "cbpf pc 0: shift by 32 (>= 32)" },
	{ { BPF_STMT(BPF_ALU | 0xe0, 0), BPF_STMT(BPF_RET | BPF_K, 0) }, 2, EINVAL,
	  "cbpf pc 0: unknown ALU operation 0xe4" },
	{ { BPF_STMT(BPF_MISC | 0x10, 0), BPF_STMT(BPF_RET | BPF_K, 0) }, 2, EINVAL,
	  "cbpf pc 0: unknown opcode 0x17" },
	{ { BPF_STMT(BPF_LD | BPF_DW | BPF_ABS, 0), BPF_STMT(BPF_RET | BPF_K, 0) }, 2, EINVAL,
	  "cbpf pc 0: unknown load 0x38" },
	{ { BPF_STMT(BPF_LD | BPF_W | BPF_ABS, (uint32_t)(SKF_AD_OFF + SKF_AD_NLATTR)),
	    BPF_STMT(BPF_RET | BPF_K, 0) }, 2, ENOTSUP,
	  "cbpf pc 0: ancillary load SKF_AD_OFF+12 is not supported" },
	{ { BPF_STMT(BPF_LD | BPF_B | BPF_ABS, (uint32_t)SKF_NET_OFF + 9),
	    BPF_STMT(BPF_RET | BPF_K, 0) }, 2, ENOTSUP,
	  "cbpf pc 0: network-header loads (SKF_NET_OFF) are not supported" },
	{ { BPF_STMT(BPF_RET | BPF_K, 0) }, 0, EINVAL, "cbpf pc 0: 0 instructions (1..4096)" },
};

static int run_invalid(void)
{
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *c = &bad_cases[i];
		char log[256] = "";
		struct sl_prog *p = sl_cbpf_translate(c->in, c->n, log, sizeof(log));

		if (p || errno != c->err || strcmp(log, c->msg))
			FATAL("invalid case %zu: %s, errno %d, log '%s'; want errno %d, '%s'", i,
			     p ? "accepted" : "refused", errno, log, c->err, c->msg);
	}
	{
		static struct sock_filter big[SL_CBPF_MAX_INSNS + 1];
		char log[256] = "";

		big[SL_CBPF_MAX_INSNS] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, 0);
		if (sl_cbpf_translate(big, SL_CBPF_MAX_INSNS + 1, log, sizeof(log)) || errno != E2BIG)
			FATAL("4097 instructions accepted (%s)", log);
	}
	printf("ok invalid: %zu programs refused with their messages\n",
	       sizeof(bad_cases) / sizeof(bad_cases[0]) + 1);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "random"))
		return run_random((unsigned)strtoul(argv[2], NULL, 0), strtoull(argv[3], NULL, 0));
	if (argc == 2 && !strcmp(argv[1], "invalid"))
		return run_invalid();
	fprintf(stderr, "usage: test_cbpf random N SEED | invalid\n");
	return 2;
}
