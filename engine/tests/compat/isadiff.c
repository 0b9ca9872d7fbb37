/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * compat_isadiff: differential test of raw eBPF instruction semantics,
 * sluice against the Linux kernel (BPF_PROG_TEST_RUN) as the oracle.
 *
 * Each case is a random straight-line program (forward jumps only) that
 * computes on registers and a few stack slots:
 *
 *   prologue   XDP: r6 = data, bounds check of 160 bytes against data_end
 *              raw: r6 = r1 (160 bytes of memory)
 *              stack slots -8..-64 and r0-r5, r7-r9 loaded from the input
 *   body       ALU/ALU64 (K and X, div/mod by zero included), neg, le/be,
 *              bswap, movsx, sdiv/smod, JMP/JMP32 forward jumps of every
 *              condition, gotol, loads (also sign-extending), stores,
 *              atomics on the stack, bpf-to-bpf calls (a subprogram after
 *              the exit, with its own stack, clobbering r6-r9)
 *   epilogue   registers to bytes 0..71, stack slots to 72..135, a fold
 *              of all of them (r0 = r0 * K ^ ri) to 136..143 and in r0
 *
 * The XDP form runs in the kernel and in sluice's interpreter and JIT
 * (same bytes in, output packet and r0 compared); every 8th case also runs
 * in the raw form through `sluice test-run --raw PROG.bin --mem MEM.bin`
 * (--interp and --jit), whose printed r0 must equal the kernel's fold.
 * Input values favour corner cases (0, -1, INT_MIN, 0x80000000, ...).
 * A quarter as many socket-filter programs exercise LD_ABS / LD_IND
 * (inside the packet and past its end) against the kernel's skb test run.
 *
 * usage: compat_isadiff SLUICE [CASES [SEED]]
 * Exit 77 when the kernel refuses to load BPF programs (no privileges).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/wait.h>

#include <bpf/bpf.h>

#include "sl_jit.h"
#include "sl_vm.h"

#define PKT_LEN 160
#define MAX_INSNS 512
#define BODY_MAX 48

struct gen {
	struct bpf_insn insns[MAX_INSNS];
	unsigned n;
	uint64_t rng;
	unsigned calls[16];  /* pcs of bpf-to-bpf calls to the subprogram */
	unsigned ncalls;
};

static uint64_t rnd(struct gen *g)
{
	/* xorshift64* */
	g->rng ^= g->rng >> 12;
	g->rng ^= g->rng << 25;
	g->rng ^= g->rng >> 27;
	return g->rng * 0x2545F4914F6CDD1DULL;
}

static unsigned pick(struct gen *g, unsigned n)
{
	return (unsigned)(rnd(g) % n);
}

static void emit(struct gen *g, uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm)
{
	struct bpf_insn *i = &g->insns[g->n++];

	memset(i, 0, sizeof(*i));
	i->code = code;
	i->dst_reg = dst & 0xf;
	i->src_reg = src & 0xf;
	i->off = off;
	i->imm = imm;
}

/* Registers the body computes on: r6 holds the data pointer, r10 the frame. */
static const uint8_t work_regs[] = { 0, 1, 2, 3, 4, 5, 7, 8, 9 };
#define NWORK (sizeof(work_regs) / sizeof(work_regs[0]))

static uint8_t wreg(struct gen *g)
{
	return work_regs[pick(g, NWORK)];
}

static int32_t rimm(struct gen *g)
{
	static const int32_t special[] = { 0, 1, -1, 2, 7, 8, 31, 32, 63, 64, 0x7fffffff,
					   INT32_MIN, 0xffff, 0x8000, 0x80, 255, -2, 3 };

	if (pick(g, 3) == 0)
		return (int32_t)rnd(g);
	return special[pick(g, sizeof(special) / sizeof(special[0]))];
}

static const uint8_t alu_ops[] = { BPF_ADD, BPF_SUB, BPF_MUL, BPF_DIV, BPF_OR, BPF_AND,
				   BPF_LSH, BPF_RSH, BPF_MOD, BPF_XOR, BPF_MOV, BPF_ARSH };

static void gen_alu(struct gen *g, bool v4)
{
	uint8_t cls = pick(g, 2) ? BPF_ALU64 : BPF_ALU;
	uint8_t op = alu_ops[pick(g, sizeof(alu_ops))];
	uint8_t dst = wreg(g);
	int16_t off = 0;

	if (v4 && (op == BPF_DIV || op == BPF_MOD) && pick(g, 2))
		off = 1;  /* sdiv / smod */
	if (pick(g, 2)) {
		int32_t imm = rimm(g);

		if (op == BPF_LSH || op == BPF_RSH || op == BPF_ARSH)
			imm = (int32_t)pick(g, cls == BPF_ALU64 ? 64 : 32);
		if ((op == BPF_DIV || op == BPF_MOD) && imm == 0)
			imm = -1;  /* the kernel rejects division by an immediate 0 */
		emit(g, cls | op | BPF_K, dst, 0, off, imm);
		return;
	}
	if (v4 && op == BPF_MOV && pick(g, 3) == 0) {
		static const int16_t sx[] = { 8, 16, 32 };

		off = sx[pick(g, cls == BPF_ALU64 ? 3 : 2)];  /* movsx */
	}
	if ((op == BPF_DIV || op == BPF_MOD) && pick(g, 4) == 0) {
		/* make a zero divisor likely: mov32 src, 0 or a low-bits mask */
		uint8_t src = wreg(g);

		emit(g, BPF_ALU | BPF_AND | BPF_K, src, 0, 0, (int32_t)pick(g, 2));
		emit(g, cls | op | BPF_X, dst, src, off, 0);
		return;
	}
	emit(g, cls | op | BPF_X, dst, wreg(g), off, 0);
}

static void gen_end(struct gen *g, bool v4)
{
	static const int32_t widths[] = { 16, 32, 64 };
	uint8_t kind = (uint8_t)pick(g, v4 ? 3 : 2);

	if (kind == 2)  /* bswap: ALU64 | END, src 0 */
		emit(g, BPF_ALU64 | BPF_END, wreg(g), 0, 0, widths[pick(g, 3)]);
	else
		emit(g, BPF_ALU | BPF_END | (kind ? BPF_TO_BE : BPF_TO_LE), wreg(g), 0, 0,
		     widths[pick(g, 3)]);
}

static const uint8_t jmp_ops[] = { BPF_JEQ, BPF_JGT, BPF_JGE, BPF_JSET, BPF_JNE, BPF_JSGT,
				   BPF_JSGE, BPF_JLT, BPF_JLE, BPF_JSLT, BPF_JSLE };

/* A forward jump of 1..4 insns, never past the end of the body. */
static void gen_jmp(struct gen *g, bool v3, bool v4, unsigned body_end)
{
	unsigned room = body_end - g->n - 1;
	int16_t off;

	if (room < 2)
		return;
	off = (int16_t)(1 + pick(g, room - 1 < 4 ? room - 1 : 4));
	if (v4 && room >= 3 && pick(g, 8) == 0) {
		/* gotol over insns that a conditional jump reaches (no dead code) */
		emit(g, BPF_JMP | BPF_JEQ | BPF_K, wreg(g), 0, 1, rimm(g));
		emit(g, BPF_JMP32 | BPF_JA, 0, 0, 0, (int32_t)pick(g, room - 2));
		return;
	}
	uint8_t cls = v3 && pick(g, 2) ? BPF_JMP32 : BPF_JMP;
	uint8_t op = jmp_ops[pick(g, sizeof(jmp_ops))];

	if (pick(g, 2))
		emit(g, cls | op | BPF_K, wreg(g), 0, off, rimm(g));
	else
		emit(g, cls | op | BPF_X, wreg(g), wreg(g), off, 0);
}

static const uint8_t sizes[] = { BPF_B, BPF_H, BPF_W, BPF_DW };

static void gen_mem(struct gen *g, bool v4)
{
	uint8_t sz = sizes[pick(g, 4)];
	unsigned bytes = sz == BPF_B ? 1 : sz == BPF_H ? 2 : sz == BPF_W ? 4 : 8;
	int16_t off = (int16_t)(pick(g, (PKT_LEN - bytes) / bytes + 1) * bytes);

	switch (pick(g, 4)) {
	case 0:
		if (v4 && sz != BPF_DW && pick(g, 2))
			emit(g, BPF_LDX | BPF_MEMSX | sz, wreg(g), 6, off, 0);
		else
			emit(g, BPF_LDX | BPF_MEM | sz, wreg(g), 6, off, 0);
		break;
	case 1:  /* store into the scratch bytes 144..159, read back later */
		off = (int16_t)(144 + pick(g, (16 - bytes) / bytes + 1) * bytes);
		emit(g, BPF_STX | BPF_MEM | sz, 6, wreg(g), off, 0);
		break;
	case 2:
		off = (int16_t)(144 + pick(g, (16 - bytes) / bytes + 1) * bytes);
		emit(g, BPF_ST | BPF_MEM | sz, 6, 0, off, rimm(g));
		break;
	default:  /* stack slot load */
		emit(g, BPF_LDX | BPF_MEM | BPF_DW, wreg(g), 10, (int16_t)(-8 * (1 + pick(g, 8))), 0);
		break;
	}
}

static void gen_atomic(struct gen *g)
{
	static const int32_t ops[] = { BPF_ADD, BPF_OR, BPF_AND, BPF_XOR, BPF_ADD | BPF_FETCH,
				       BPF_OR | BPF_FETCH, BPF_AND | BPF_FETCH, BPF_XOR | BPF_FETCH,
				       BPF_XCHG, BPF_CMPXCHG };
	uint8_t sz = pick(g, 2) ? BPF_DW : BPF_W;
	int16_t off = (int16_t)(-8 * (1 + pick(g, 8)));
	uint8_t src = wreg(g);
	int32_t op = ops[pick(g, sizeof(ops) / sizeof(ops[0]))];

	if (op == BPF_CMPXCHG && src == 0)
		src = 1;  /* r0 is the comparand */
	emit(g, BPF_STX | BPF_ATOMIC | sz, 10, src, off, op);
	/*
	 * RFC 9669: cmpxchg loads the old value, zero-extended, into r0. The
	 * kernel's x86-64 JIT (6.18) leaves r0's upper 32 bits alone after a
	 * successful 32-bit cmpxchg on some paths (x86 `lock cmpxchg` does
	 * not write eax when equal and the verifier did not patch in its
	 * zero-extension; seen with seed 12, case 1466). sluice follows the
	 * RFC, so make the comparison independent of that: zero-extend here.
	 */
	if (op == BPF_CMPXCHG && sz == BPF_W)
		emit(g, BPF_ALU | BPF_MOV | BPF_X, 0, 0, 0, 0);
}

/*
 * A bpf-to-bpf call: arguments in r1-r5, r0 = result; r1-r5 are dead after
 * the call (the kernel marks them unreadable), so they are reloaded from
 * the input; r6-r9 must survive although the callee overwrites them.
 */
static void gen_call(struct gen *g)
{
	g->calls[g->ncalls++] = g->n;
	emit(g, BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_CALL, 0, 0);  /* imm patched later */
	for (uint8_t r = 1; r <= 5; r++)
		emit(g, BPF_LDX | BPF_MEM | BPF_DW, r, 6, (int16_t)(8 * r), 0);
}

/* The callee: its own stack, arithmetic on r1-r5, r6-r9 clobbered, r0 out. */
static void gen_subprog(struct gen *g, unsigned cpu)
{
	unsigned start = g->n, len = 4 + pick(g, 12);
	static const uint8_t args[] = { 0, 1, 2, 3, 4, 5 };

	if (!g->ncalls)
		return;
	emit(g, BPF_ALU64 | BPF_MOV | BPF_X, 0, 1, 0, 0);
	emit(g, BPF_STX | BPF_MEM | BPF_DW, 10, 2, -8, 0);
	for (uint8_t r = 6; r <= 9; r++)
		emit(g, BPF_ALU64 | BPF_MOV | BPF_K, r, 0, 0, rimm(g));
	for (unsigned i = 0; i < len; i++) {
		uint8_t op = alu_ops[pick(g, sizeof(alu_ops))];
		uint8_t dst = args[pick(g, 6)], cls = pick(g, 2) ? BPF_ALU64 : BPF_ALU;

		if (op == BPF_LSH || op == BPF_RSH || op == BPF_ARSH)
			emit(g, cls | op | BPF_K, dst, 0, 0, (int32_t)pick(g, 32));
		else if (op == BPF_DIV || op == BPF_MOD)
			emit(g, cls | op | BPF_X, dst, args[pick(g, 6)], cpu >= 4 ? (int16_t)pick(g, 2) : 0, 0);
		else
			emit(g, cls | op | BPF_X, dst, args[pick(g, 6)], 0, 0);
	}
	emit(g, BPF_LDX | BPF_MEM | BPF_DW, 1, 10, -8, 0);
	emit(g, BPF_ALU64 | BPF_ADD | BPF_X, 0, 1, 0, 0);
	emit(g, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
	for (unsigned i = 0; i < g->ncalls; i++)
		g->insns[g->calls[i]].imm = (int32_t)(start - g->calls[i] - 1);
}

static void gen_body(struct gen *g, unsigned cpu)
{
	unsigned len = 8 + pick(g, BODY_MAX - 8);
	unsigned end = g->n + len;

	while (g->n + 2 < end) {
		unsigned k = pick(g, 20);

		if (k < 10)
			gen_alu(g, cpu >= 4);
		else if (k < 12)
			gen_end(g, cpu >= 4);
		else if (k < 15)
			gen_jmp(g, cpu >= 3, cpu >= 4, end);
		else if (k < 17)
			gen_mem(g, cpu >= 4);
		else if (k == 17)
			emit(g, (pick(g, 2) ? BPF_ALU64 : BPF_ALU) | BPF_NEG, wreg(g), 0, 0, 0);
		else if (k == 18 && g->n + 8 < end && g->ncalls < 16 && pick(g, 2))
			gen_call(g);
		else if (cpu >= 3)
			gen_atomic(g);
		else
			gen_mem(g, false);
	}
	while (g->n < end)
		emit(g, BPF_ALU64 | BPF_ADD | BPF_K, wreg(g), 0, 0, rimm(g));
}

/* Registers and stack to the packet, fold into r0 and 136..143, exit. */
static void gen_epilogue(struct gen *g)
{
	for (unsigned i = 0; i < NWORK; i++)
		emit(g, BPF_STX | BPF_MEM | BPF_DW, 6, work_regs[i], (int16_t)(8 * i), 0);
	for (unsigned i = 0; i < 8; i++) {
		emit(g, BPF_LDX | BPF_MEM | BPF_DW, 1, 10, (int16_t)(-8 * (1 + i)), 0);
		emit(g, BPF_STX | BPF_MEM | BPF_DW, 6, 1, (int16_t)(72 + 8 * i), 0);
	}
	emit(g, BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 0);
	for (unsigned i = 0; i < 17; i++) {
		emit(g, BPF_LDX | BPF_MEM | BPF_DW, 1, 6, (int16_t)(8 * i), 0);
		emit(g, BPF_ALU64 | BPF_MUL | BPF_K, 0, 0, 0, (int32_t)0x9E3779B1);
		emit(g, BPF_ALU64 | BPF_XOR | BPF_X, 0, 1, 0, 0);
	}
	emit(g, BPF_STX | BPF_MEM | BPF_DW, 6, 0, 136, 0);
	emit(g, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
}

/* Stack slots and working registers from the input bytes. */
static void gen_loads(struct gen *g)
{
	for (unsigned i = 0; i < 8; i++) {
		emit(g, BPF_LDX | BPF_MEM | BPF_DW, 0, 6, (int16_t)(72 + 8 * i), 0);
		emit(g, BPF_STX | BPF_MEM | BPF_DW, 10, 0, (int16_t)(-8 * (1 + i)), 0);
	}
	for (unsigned i = 0; i < NWORK; i++)
		emit(g, BPF_LDX | BPF_MEM | BPF_DW, work_regs[i], 6, (int16_t)(8 * i), 0);
}

static void gen_xdp_prologue(struct gen *g)
{
	emit(g, BPF_LDX | BPF_MEM | BPF_W, 6, 1, 0, 0);   /* r6 = ctx->data */
	emit(g, BPF_LDX | BPF_MEM | BPF_W, 7, 1, 4, 0);   /* r7 = ctx->data_end */
	emit(g, BPF_ALU64 | BPF_MOV | BPF_X, 8, 6, 0, 0);
	emit(g, BPF_ALU64 | BPF_ADD | BPF_K, 8, 0, 0, PKT_LEN);
	emit(g, BPF_JMP | BPF_JLE | BPF_X, 8, 7, 2, 0);   /* if r8 <= r7 goto +2 */
	emit(g, BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 0);
	emit(g, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
}

static void fill_input(uint64_t *rng, uint8_t *pkt)
{
	static const uint64_t special[] = { 0, 1, ~0ULL, 0x80000000ULL, 0x7fffffffULL,
					    0xffffffff80000000ULL, 0x8000000000000000ULL,
					    0x7fffffffffffffffULL, 0xffffffffULL, 2, 3, 63, 64, 0x100000000ULL,
					    0xffffffff00000000ULL, 0xff, 0xffff8000ULL };
	struct gen t = { .rng = *rng };

	for (unsigned i = 0; i < PKT_LEN / 8; i++) {
		uint64_t v = pick(&t, 3) ? special[pick(&t, sizeof(special) / 8)] : rnd(&t);

		if (pick(&t, 4) == 0)
			v = (uint64_t)(int64_t)(int32_t)rnd(&t);
		memcpy(pkt + 8 * i, &v, 8);
	}
	*rng = t.rng;
}

struct result {
	uint64_t r0;
	uint8_t pkt[PKT_LEN];
	int err;
	char msg[160];
};

static int kernel_run(const struct gen *g, const uint8_t *in, struct result *out, int *refused)
{
	static char log[65536];
	LIBBPF_OPTS(bpf_prog_load_opts, lo, .log_buf = log, .log_size = sizeof(log), .log_level = 1);
	LIBBPF_OPTS(bpf_test_run_opts, ro, .data_in = in, .data_size_in = PKT_LEN,
		    .data_out = out->pkt, .data_size_out = PKT_LEN, .repeat = 1);
	int fd = bpf_prog_load(BPF_PROG_TYPE_XDP, "isadiff", "GPL", g->insns, g->n, &lo);

	if (fd < 0) {
		*refused = errno == EPERM || errno == ENOSYS;
		size_t n = strlen(log);

		snprintf(out->msg, sizeof(out->msg), "kernel rejects: %s", strerror(errno));
		if (!*refused)
			fprintf(stderr, "kernel log tail: %s\n", log + (n > 600 ? n - 600 : 0));
		return -1;
	}
	if (bpf_prog_test_run_opts(fd, &ro)) {
		snprintf(out->msg, sizeof(out->msg), "kernel test_run: %s", strerror(errno));
		close(fd);
		return -1;
	}
	out->r0 = ro.retval;
	close(fd);
	return 0;
}

static int sluice_run(const struct gen *g, const uint8_t *in, bool jit, struct result *out)
{
	char log[512] = "";
	struct sl_prog *prog = sl_prog_from_raw(g->insns, g->n * 8, SL_PROG_XDP, 0, log, sizeof(log));
	uint8_t buf[256 + PKT_LEN + 256] = { 0 };
	struct sl_xdp_ctx x = { 0 };
	int ret = -1;

	if (!prog) {
		snprintf(out->msg, sizeof(out->msg), "load: %s", log);
		return -1;
	}
	if (sl_prog_verify(prog, 0, NULL, log, sizeof(log)) || sl_vm_prepare(prog, log, sizeof(log))) {
		snprintf(out->msg, sizeof(out->msg), "rejected: %.140s", log);
		goto out;
	}
	memcpy(buf + 256, in, PKT_LEN);
	x.data_hard_start = buf;
	x.data = x.data_meta = buf + 256;
	x.data_end = buf + 256 + PKT_LEN;
	x.ingress_ifindex = 1;
	if (jit) {
		struct sl_jit *j = sl_jit_compile(prog, NULL, log, sizeof(log));

		if (!j) {
			snprintf(out->msg, sizeof(out->msg), "jit: %.150s", log);
			goto out;
		}
		out->r0 = (uint32_t)sl_jit_entry(j)(&x, 0);
		sl_jit_free(j);
	} else {
		struct sl_vm_result res;

		out->r0 = (uint32_t)sl_vm_exec(prog, &x, NULL, &res);
		if (res.err) {
			snprintf(out->msg, sizeof(out->msg), "fault: %.140s", res.msg);
			goto out;
		}
	}
	memcpy(out->pkt, buf + 256, PKT_LEN);
	ret = 0;
out:
	sl_prog_free(prog);
	return ret;
}

static int write_file(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "wb");
	int ok = f && fwrite(p, 1, n, f) == n;

	if (f)
		fclose(f);
	return ok ? 0 : -1;
}

/* sluice test-run --raw on the raw form; r0 parsed from the last line. */
static int cli_run(const char *sluice, const char *dir, const char *engine, uint64_t *r0,
		   char *msg, size_t msg_len)
{
	char cmd[1024], line[256] = "", last[256] = "";
	FILE *p;
	int st;

	snprintf(cmd, sizeof(cmd), "%s test-run --raw %s/p.bin --mem %s/m.bin %s 2>&1",
		 sluice, dir, dir, engine);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	while (fgets(line, sizeof(line), p))
		snprintf(last, sizeof(last), "%s", line);
	st = pclose(p);
	last[strcspn(last, "\n")] = 0;
	if (st != 0 || sscanf(last, "0x%" SCNx64, r0) != 1) {
		snprintf(msg, msg_len, "test-run --raw %s: %s", engine, last);
		return -1;
	}
	return 0;
}

static void dump_prog(const struct gen *g, unsigned from)
{
	char buf[160];

	for (unsigned i = from; i < g->n;) {
		int k = sl_disasm_insn(&g->insns[i], g->n - i, buf, sizeof(buf));

		fprintf(stderr, "  %4u: %s\n", i, buf);
		i += k > 0 ? (unsigned)k : 1;
	}
}

static void dump_hex(const char *what, const uint8_t *p)
{
	fprintf(stderr, "  %s:", what);
	for (unsigned i = 0; i < PKT_LEN; i++)
		fprintf(stderr, "%s%02x", i % 8 ? "" : " ", p[i]);
	fputc('\n', stderr);
}

static int compare(const char *what, unsigned idx, const struct result *k, const struct result *s)
{
	if (s->msg[0] && !k->msg[0]) {
		fprintf(stderr, "case %u: %s: %s (the kernel ran it)\n", idx, what, s->msg);
		return 1;
	}
	if (k->r0 != s->r0 || memcmp(k->pkt, s->pkt, PKT_LEN)) {
		fprintf(stderr, "case %u: %s: r0 0x%" PRIx64 " vs kernel 0x%" PRIx64 "\n", idx, what,
			s->r0, k->r0);
		for (unsigned i = 0; i < PKT_LEN; i += 8)
			if (memcmp(k->pkt + i, s->pkt + i, 8))
				fprintf(stderr, "  bytes %u..%u differ (%s)\n", i, i + 7,
					i < 72 ? "register" : i < 136 ? "stack slot" :
					i < 144 ? "fold" : "scratch");
		dump_hex("kernel", k->pkt);
		dump_hex("sluice", s->pkt);
		return 1;
	}
	return 0;
}

/* ---- socket-filter form: LD_ABS / LD_IND (legacy packet loads) ---- */

#define SKB_PKT 96  /* bytes after the Ethernet header */

/*
 * r6 = ctx; r0, r7-r9 and four stack slots computed from LD_ABS/LD_IND
 * loads (B/H/W, offsets mostly inside the packet, some past its end, which
 * ends the program with r0 = 0) and ALU ops; r1-r5 are not used because
 * every legacy load clobbers them. Folded to 32 bits in r0 at the end.
 */
static void gen_sock(struct gen *g)
{
	static const uint8_t regs[] = { 0, 7, 8, 9 };
	static const uint8_t lsz[] = { BPF_B, BPF_H, BPF_W };
	unsigned len = 10 + pick(g, 30);

	emit(g, BPF_ALU64 | BPF_MOV | BPF_X, 6, 1, 0, 0);
	for (unsigned i = 0; i < 4; i++) {
		emit(g, BPF_LD | BPF_ABS | BPF_W, 0, 0, 0, (int32_t)(4 * i));
		emit(g, BPF_ALU64 | BPF_MOV | BPF_X, regs[(i + 1) % 4], 0, 0, 0);
		emit(g, BPF_STX | BPF_MEM | BPF_DW, 10, 0, (int16_t)(-8 * (1 + i)), 0);
	}
	for (unsigned n = 0; n < len; n++) {
		uint8_t r = regs[pick(g, 4)], sz = lsz[pick(g, 3)];
		int32_t off = pick(g, 40) ? (int32_t)pick(g, SKB_PKT - 4) : (int32_t)(SKB_PKT - 4 + pick(g, 8));

		switch (pick(g, 6)) {
		case 0:
			emit(g, BPF_LD | BPF_ABS | sz, 0, 0, 0, off);
			break;
		case 1:  /* LD_IND: src masked to a small offset, sometimes not */
			if (pick(g, 12))
				emit(g, BPF_ALU64 | BPF_AND | BPF_K, r, 0, 0, 31);
			emit(g, BPF_LD | BPF_IND | sz, 0, r, 0, (int32_t)pick(g, 40));
			break;
		case 2:
			emit(g, BPF_LDX | BPF_MEM | BPF_DW, r, 10, (int16_t)(-8 * (1 + pick(g, 4))), 0);
			break;
		case 3:
			emit(g, BPF_STX | BPF_MEM | BPF_DW, 10, r, (int16_t)(-8 * (1 + pick(g, 4))), 0);
			break;
		default: {
			uint8_t op = alu_ops[pick(g, sizeof(alu_ops))];
			uint8_t cls = pick(g, 2) ? BPF_ALU64 : BPF_ALU;

			if (op == BPF_LSH || op == BPF_RSH || op == BPF_ARSH || pick(g, 2))
				emit(g, cls | op | BPF_K, r, 0, 0,
				     op == BPF_LSH || op == BPF_RSH || op == BPF_ARSH ?
				     (int32_t)pick(g, 32) : (op == BPF_DIV || op == BPF_MOD) ? 7 : rimm(g));
			else
				emit(g, cls | op | BPF_X, r, regs[pick(g, 4)], 0, 0);
		}
		}
	}
	for (unsigned i = 0; i < 4; i++) {
		emit(g, BPF_LDX | BPF_MEM | BPF_DW, 1, 10, (int16_t)(-8 * (1 + i)), 0);
		emit(g, BPF_ALU64 | BPF_MUL | BPF_K, 0, 0, 0, (int32_t)0x9E3779B1);
		emit(g, BPF_ALU64 | BPF_XOR | BPF_X, 0, 1, 0, 0);
		emit(g, BPF_ALU64 | BPF_MUL | BPF_K, 0, 0, 0, (int32_t)0x9E3779B1);
		emit(g, BPF_ALU64 | BPF_XOR | BPF_X, 0, regs[1 + i % 3], 0, 0);
	}
	emit(g, BPF_ALU64 | BPF_MOV | BPF_X, 1, 0, 0, 0);
	emit(g, BPF_ALU64 | BPF_RSH | BPF_K, 1, 0, 0, 32);
	emit(g, BPF_ALU64 | BPF_XOR | BPF_X, 0, 1, 0, 0);
	emit(g, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
}

/* The same socket-filter program in sluice (interpreter or JIT), same view. */
static int sock_sluice(const struct gen *g, const uint8_t *pkt, uint32_t plen, uint32_t kret,
		       int jit, unsigned c)
{
	char elog[256] = "";
	struct sl_prog *prog = sl_prog_from_raw(g->insns, g->n * 8, SL_PROG_SOCKET, 0, elog,
						sizeof(elog));
	struct sl_skb_ctx x = { 0 };
	uint32_t r0 = 0;
	int bad = 0;

	x.pkt = pkt + 14;
	x.pkt_len = x.skb.len = plen - 14;
	x.skb.protocol = htons(0x0800);
	x.skb.ifindex = 1;
	if (!prog || sl_prog_verify(prog, 0, NULL, elog, sizeof(elog)) ||
	    sl_vm_prepare(prog, elog, sizeof(elog))) {
		fprintf(stderr, "sock case %u: sluice rejects: %s\n", c, elog);
		bad = 1;
	} else if (jit) {
		struct sl_jit *j = sl_jit_compile(prog, NULL, elog, sizeof(elog));

		if (!j) {
			fprintf(stderr, "sock case %u: jit: %s\n", c, elog);
			bad = 1;
		} else {
			r0 = (uint32_t)sl_jit_entry(j)(&x, 0);
			sl_jit_free(j);
		}
	} else {
		r0 = (uint32_t)sl_vm_exec(prog, &x, NULL, NULL);
	}
	if (!bad && r0 != kret) {
		fprintf(stderr, "sock case %u: %s r0 0x%x, kernel 0x%x (packet %u bytes)\n", c,
			jit ? "jit" : "interp", r0, kret, plen);
		bad = 1;
	}
	sl_prog_free(prog);
	return bad;
}

/* One socket-filter case: kernel test run (packet from the network header) vs sluice. */
static unsigned sock_zero;  /* kernel r0 == 0: an out-of-bounds legacy load ended it */

static int sock_case(unsigned c, uint64_t seed, uint64_t *irng, int *refused)
{
	struct gen g = { .rng = seed * 0x2545F4914F6CDD1DULL + c + 7 };
	uint8_t pkt[14 + SKB_PKT] = { 2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00 };
	uint8_t fill[PKT_LEN];
	static char log[65536];
	LIBBPF_OPTS(bpf_prog_load_opts, lo, .log_buf = log, .log_size = sizeof(log), .log_level = 1);
	uint32_t plen = pick(&g, 4) ? 14 + SKB_PKT : 14 + 20 + (uint32_t)pick(&g, SKB_PKT - 19);
	LIBBPF_OPTS(bpf_test_run_opts, ro, .data_in = pkt, .data_size_in = plen, .repeat = 1);
	int fd, bad = 0;

	fill_input(irng, fill);
	memcpy(pkt + 14, fill, SKB_PKT);
	gen_sock(&g);
	fd = bpf_prog_load(BPF_PROG_TYPE_SOCKET_FILTER, "isadiff_skb", "GPL", g.insns, g.n, &lo);
	if (fd < 0) {
		*refused = errno == EPERM;
		fprintf(stderr, "sock case %u: kernel rejects: %s\n", c, log);
		dump_prog(&g, 0);
		return 1;
	}
	if (bpf_prog_test_run_opts(fd, &ro)) {
		close(fd);
		return fprintf(stderr, "sock case %u: kernel test run: %s\n", c, strerror(errno)), 1;
	}
	close(fd);
	sock_zero += ro.retval == 0;
	for (int jit = 0; jit < 2; jit++)
		bad |= sock_sluice(&g, pkt, plen, ro.retval, jit, c);
	if (bad)
		dump_prog(&g, 0);
	return bad;
}

/* The raw form through `sluice test-run --raw` (both engines): r6 = r1,
 * then the same body; its r0 is the fold, which must equal the kernel's. */
static int cli_case(const char *sluice, const char *dir, const struct gen *g, unsigned body,
		    const uint8_t *in, const struct result *k, unsigned c)
{
	static struct gen rg;
	char path[64], msg[300];
	uint64_t kfold, r0;
	int b = 0;

	memcpy(&kfold, k->pkt + 136, 8);
	rg.n = 0;
	emit(&rg, BPF_ALU64 | BPF_MOV | BPF_X, 6, 1, 0, 0);
	memcpy(rg.insns + 1, g->insns + body, (g->n - body) * sizeof(g->insns[0]));
	rg.n = 1 + g->n - body;
	snprintf(path, sizeof(path), "%s/p.bin", dir);
	write_file(path, rg.insns, rg.n * 8);
	snprintf(path, sizeof(path), "%s/m.bin", dir);
	write_file(path, in, PKT_LEN);
	for (int e = 0; e < 2; e++) {
		const char *eng = e ? "--jit" : "--interp";

		if (cli_run(sluice, dir, eng, &r0, msg, sizeof(msg))) {
			fprintf(stderr, "case %u: %s\n", c, msg);
			b = 1;
		} else if (r0 != kfold) {
			fprintf(stderr, "case %u: test-run --raw %s: r0 0x%" PRIx64
				" vs kernel fold 0x%" PRIx64 "\n", c, eng, r0, kfold);
			b = 1;
		}
	}
	return b;
}

struct totals {
	unsigned bad, ran, cli_ran, both_reject, with_calls;
};

/* One XDP case. Returns 77 when the kernel refuses BPF altogether. */
static int xdp_case(const char *sluice, const char *dir, unsigned c, uint64_t seed,
		    uint64_t *irng, struct totals *t)
{
	static struct gen g;
	unsigned cpu = 1 + c % 4, body;
	uint8_t in[PKT_LEN];
	struct result k = { 0 }, si = { 0 }, sj = { 0 };
	int refused = 0, b;

	memset(&g, 0, sizeof(g));
	g.rng = seed * 0x9E3779B97F4A7C15ULL + c + 1;
	fill_input(irng, in);
	gen_xdp_prologue(&g);
	body = g.n;
	gen_loads(&g);
	gen_body(&g, cpu);
	gen_epilogue(&g);
	gen_subprog(&g, cpu);
	t->with_calls += g.ncalls > 0;
	if (kernel_run(&g, in, &k, &refused)) {
		if (refused && t->ran == 0) {
			printf("SKIP: the kernel refuses BPF programs (%s)\n", k.msg);
			return 77;
		}
		/* the generator avoids rejections; the verdicts must agree */
		if (sluice_run(&g, in, false, &si) == 0 || strncmp(si.msg, "rejected", 8)) {
			fprintf(stderr, "case %u (v%u): %s, sluice accepts; program:\n", c, cpu, k.msg);
			dump_prog(&g, 0);
			t->bad++;
		}
		t->both_reject++;
		return 0;
	}
	t->ran++;
	sluice_run(&g, in, false, &si);
	sluice_run(&g, in, true, &sj);
	b = compare("interp", c, &k, &si) | compare("jit", c, &k, &sj);
	if (!b && c % 8 == 0) {
		b = cli_case(sluice, dir, &g, body, in, &k, c);
		t->cli_ran++;
	}
	if (b) {
		fprintf(stderr, "case %u (v%u) program:\n", c, cpu);
		dump_prog(&g, body);
		dump_hex("input ", in);
		t->bad++;
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *sluice = argc > 1 ? argv[1] : NULL;
	unsigned cases = argc > 2 ? (unsigned)strtoul(argv[2], NULL, 0) : 1500;
	uint64_t seed = argc > 3 ? strtoull(argv[3], NULL, 0) : 20261122;
	char dir[] = "/tmp/sl-isadiff-XXXXXX", path[64];
	unsigned sock_bad = 0, sock_cases = cases / 4;
	struct totals t = { 0 };
	uint64_t irng = seed ^ 0x5bd1e995;

	if (!sluice)
		return fprintf(stderr, "usage: compat_isadiff SLUICE [CASES [SEED]]\n"), 2;
	if (!mkdtemp(dir))
		return perror("mkdtemp"), 1;
	printf("compat_isadiff: %u cases, seed %" PRIu64 " (rerun: compat_isadiff SLUICE %u %" PRIu64 ")\n",
	       cases, seed, cases, seed);
	for (unsigned c = 0; c < cases && t.bad < 10; c++)
		if (xdp_case(sluice, dir, c, seed, &irng, &t) == 77)
			return 77;
	for (unsigned c = 0; c < sock_cases && t.ran && sock_bad < 10; c++) {
		int refused = 0;

		sock_bad += (unsigned)sock_case(c, seed, &irng, &refused);
		if (refused)
			break;
	}
	printf("compat_isadiff: %u socket-filter programs (LD_ABS/LD_IND; %u ended by an "
	       "out-of-bounds load); %u mismatches\n", sock_cases, sock_zero, sock_bad);
	snprintf(path, sizeof(path), "%s/p.bin", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/m.bin", dir);
	unlink(path);
	rmdir(dir);
	printf("compat_isadiff: %u programs run by the kernel (%u with bpf-to-bpf calls), %u through "
	       "test-run --raw, %u rejected by both; %u mismatches\n", t.ran, t.with_calls,
	       t.cli_ran, t.both_reject, t.bad);
	return t.bad + sock_bad ? 1 : 0;
}
