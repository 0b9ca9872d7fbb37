/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * compat_vdiff: the kernel's verifier and sluice's must give the same
 * verdict (accept / reject) on random XDP programs that do what clang's
 * output does with packets: pointers from ctx->data, bounds checks against
 * data_end in every comparison form (and sometimes a wrong one), constant
 * and variable offsets (a byte from the packet, masked or not), loads of
 * every size inside and past the proven range, stores, spills and fills of
 * packet pointers to the stack, 32-bit copies and pointer differences,
 * data_meta, bpf_xdp_adjust_head (after which old packet pointers are dead).
 * Accepted programs also run on a few packets in the kernel and in sluice
 * (interpreter): r0 and the output packet must agree.
 *
 * A reject where the kernel accepts is a compatibility gap: it fails the
 * test. An accept where the kernel rejects is allowed only if it is safe:
 * sluice sometimes proves more (it keeps the range of a packet pointer
 * on a path the kernel cannot rule out, where the kernel marks the pointer
 * "at or beyond data_end"), so such programs run in the checked
 * interpreter (every access checked) on random packets and must not fault.
 *
 * usage: compat_vdiff [CASES [SEED]]      (exit 77: the kernel refuses BPF)
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sl_test_bpf.h"

#define MAX_INSNS 256
/*
 * Root's kernel (allow_ptr_leaks) lets a scalar be compared with a pointer
 * and turns packet pointers that bpf_xdp_adjust_head invalidated into
 * unknown scalars; sluice does both as root's kernel (issue 13), so any
 * disagreement on them is a mismatch.
 */

/* The generator: struct sl_tgen (tests/common), xorshift64*, at most MAX_INSNS. */

/*
 * Registers: r6 = data, r7 = data_end (kept), r8 = a cursor pointer,
 * r9 = a scalar from the packet, r0-r5 scratch. Each step appends a few
 * instructions; bounds checks jump to the common exit at the end, whose
 * pc is patched in afterwards (JA targets recorded in fix[]).
 */
struct fixups {
	unsigned at[64];
	unsigned n;
};

static void check_bound(struct sl_tgen *g, struct fixups *f, uint8_t ptr, int32_t len)
{
	/* r1 = ptr + len; if r1 > data_end goto exit (several spellings) */
	sl_tgen_emit(g, BPF_ALU64 | BPF_MOV | BPF_X, 1, ptr, 0, 0);
	sl_tgen_emit(g, BPF_ALU64 | BPF_ADD | BPF_K, 1, 0, 0, len);
	switch (sl_tgen_pick(g, 8)) {
	case 0:
	case 1:
	case 4:
		sl_tgen_emit(g, BPF_JMP | BPF_JGT | BPF_X, 1, 7, 0, 0);
		break;
	case 5:
	case 6:
		sl_tgen_emit(g, BPF_JMP | BPF_JLT | BPF_X, 7, 1, 0, 0);
		break;
	case 2:  /* off by one: data_end >= ptr+len is what is safe */
		sl_tgen_emit(g, BPF_JMP | BPF_JGE | BPF_X, 1, 7, 0, 0);
		break;
	case 3:  /* inverted: skip the exit when in bounds */
		sl_tgen_emit(g, BPF_JMP | BPF_JLE | BPF_X, 1, 7, 1, 0);
		sl_tgen_emit(g, BPF_JMP | BPF_JA, 0, 0, 0, 0);
		break;
	case 7:  /* wrong direction: proves nothing */
		sl_tgen_emit(g, BPF_JMP | BPF_JLT | BPF_X, 1, 7, 0, 0);
		break;
	}
	f->at[f->n++] = g->n - 1;
}

static void step(struct sl_tgen *g, struct fixups *f)
{
	uint8_t sz = sl_tgen_sizes[sl_tgen_pick(g, 4)];

	switch (sl_tgen_pick(g, 14)) {
	case 13:  /* bpf_xdp_adjust_head: every packet pointer dies; maybe reload */
		sl_tgen_emit(g, BPF_LDX | BPF_MEM | BPF_DW, 1, 10, -8, 0);
		sl_tgen_emit(g, BPF_ALU64 | BPF_MOV | BPF_K, 2, 0, 0, sl_tgen_pick(g, 2) ? 4 : -4);
		sl_tgen_emit(g, BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_xdp_adjust_head);
		sl_tgen_emit(g, BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 0);
		if (sl_tgen_pick(g, 4)) {
			sl_tgen_emit(g, BPF_LDX | BPF_MEM | BPF_DW, 1, 10, -8, 0);
			sl_tgen_emit(g, BPF_LDX | BPF_MEM | BPF_W, 6, 1, 0, 0);
			sl_tgen_emit(g, BPF_LDX | BPF_MEM | BPF_W, 7, 1, 4, 0);
			if (sl_tgen_pick(g, 4))  /* else the cursor r8 stays a stale packet pointer */
				sl_tgen_emit(g, BPF_ALU64 | BPF_MOV | BPF_X, 8, 6, 0, 0);
		}  /* else every packet pointer stays stale */
		for (unsigned r = 1; r <= 5; r++)  /* clobbered by the call */
			sl_tgen_emit(g, BPF_ALU64 | BPF_MOV | BPF_K, (uint8_t)r, 0, 0, 0);
		break;
	case 10:  /* bound the scalar: 32-bit, 64-bit or signed compare (or none) */
		sl_tgen_emit(g, (sl_tgen_pick(g, 2) ? BPF_JMP32 : BPF_JMP) | (sl_tgen_pick(g, 3) ? BPF_JGT : BPF_JSGT) | BPF_K,
		     9, 0, 0, (int32_t)sl_tgen_pick(g, 80));
		f->at[f->n++] = g->n - 1;
		break;
	case 11:  /* metadata in front of data: r2 = data_meta, checked against data */
		sl_tgen_emit(g, BPF_ALU64 | BPF_MOV | BPF_X, 2, 1, 0, 0);
		sl_tgen_emit(g, BPF_ALU64 | BPF_ADD | BPF_K, 2, 0, 0, (int32_t)(4 * sl_tgen_pick(g, 3)));
		sl_tgen_emit(g, BPF_JMP | BPF_JGT | BPF_X, 2, 6, 0, 0);
		f->at[f->n++] = g->n - 1;
		sl_tgen_emit(g, BPF_LDX | BPF_MEM | BPF_W, 3, 1, 0, 0);
		break;
	case 12:  /* scalar work in 32 bits, then as an offset */
		sl_tgen_emit(g, BPF_ALU | BPF_ADD | BPF_K, 9, 0, 0, (int32_t)sl_tgen_pick(g, 16));
		sl_tgen_emit(g, BPF_ALU | BPF_AND | BPF_K, 9, 0, 0, 0x3f);
		break;
	case 0:  /* cursor = data + K, checked */
		sl_tgen_emit(g, BPF_ALU64 | BPF_MOV | BPF_X, 8, 6, 0, 0);
		sl_tgen_emit(g, BPF_ALU64 | BPF_ADD | BPF_K, 8, 0, 0, (int32_t)sl_tgen_pick(g, 64));
		check_bound(g, f, 8, (int32_t)(1 + sl_tgen_pick(g, 16)));
		break;
	case 1:  /* scalar from the packet (needs a prior check to be safe) */
		sl_tgen_emit(g, BPF_LDX | BPF_MEM | BPF_B, 9, 6, (int16_t)sl_tgen_pick(g, 40), 0);
		if (sl_tgen_pick(g, 4))
			sl_tgen_emit(g, BPF_ALU64 | BPF_AND | BPF_K, 9, 0, 0, sl_tgen_pick(g, 2) ? 0x3f : 0x1c);
		if (sl_tgen_pick(g, 3) == 0)
			sl_tgen_emit(g, BPF_ALU64 | BPF_LSH | BPF_K, 9, 0, 0, 2);
		break;
	case 2:  /* variable offset: cursor = data + r9, checked */
		sl_tgen_emit(g, BPF_ALU64 | BPF_MOV | BPF_X, 8, 6, 0, 0);
		sl_tgen_emit(g, BPF_ALU64 | BPF_ADD | BPF_X, 8, 9, 0, 0);
		check_bound(g, f, 8, (int32_t)(1 + sl_tgen_pick(g, 8)));
		break;
	case 3:  /* load through the cursor, in or past the checked bytes */
		sl_tgen_emit(g, BPF_LDX | BPF_MEM | sz, (uint8_t)sl_tgen_pick(g, 6), 8, (int16_t)sl_tgen_pick(g, 12), 0);
		break;
	case 4:  /* load from data + K */
		sl_tgen_emit(g, BPF_LDX | BPF_MEM | sz, (uint8_t)sl_tgen_pick(g, 6), 6, (int16_t)sl_tgen_pick(g, 70), 0);
		break;
	case 5:  /* store through the cursor */
		sl_tgen_emit(g, BPF_ST | BPF_MEM | sz, 8, 0, (int16_t)sl_tgen_pick(g, 8), (int32_t)sl_tgen_pick(g, 256));
		break;
	case 6:  /* spill the cursor, clobber it, fill it back */
		sl_tgen_emit(g, BPF_STX | BPF_MEM | BPF_DW, 10, 8, -16, 0);
		sl_tgen_emit(g, BPF_ALU64 | BPF_MOV | BPF_K, 8, 0, 0, 0);
		sl_tgen_emit(g, BPF_LDX | BPF_MEM | BPF_DW, 8, 10, -16, 0);
		break;
	case 7:  /* cursor - data as a 64-bit or 32-bit scalar, used as an offset */
		if (sl_tgen_pick(g, 2)) {
			sl_tgen_emit(g, BPF_ALU64 | BPF_MOV | BPF_X, 9, 8, 0, 0);
			sl_tgen_emit(g, BPF_ALU64 | BPF_SUB | BPF_X, 9, 6, 0, 0);
		} else {
			sl_tgen_emit(g, BPF_ALU | BPF_MOV | BPF_X, 9, 8, 0, 0);
			sl_tgen_emit(g, BPF_ALU | BPF_SUB | BPF_X, 9, 6, 0, 0);
		}
		if (sl_tgen_pick(g, 2))
			sl_tgen_emit(g, BPF_ALU64 | BPF_AND | BPF_K, 9, 0, 0, 0x3f);
		break;
	case 8:  /* compare the cursor with data_end in 32 bits (no proof) */
		sl_tgen_emit(g, BPF_JMP | BPF_JGT | BPF_X, 8, 7, 0, 0);
		f->at[f->n++] = g->n - 1;
		break;
	default:  /* scalar work on the loaded values */
		sl_tgen_emit(g, BPF_ALU64 | BPF_ADD | BPF_X, (uint8_t)sl_tgen_pick(g, 6), 9, 0, 0);
		break;
	}
}

static void gen_prog(struct sl_tgen *g)
{
	struct fixups f = { .n = 0 };
	unsigned steps = 3 + sl_tgen_pick(g, 10);

	sl_tgen_emit(g, BPF_STX | BPF_MEM | BPF_DW, 10, 1, -8, 0);  /* ctx, for helper calls */
	sl_tgen_emit(g, BPF_LDX | BPF_MEM | BPF_W, 6, 1, 0, 0);  /* data */
	sl_tgen_emit(g, BPF_LDX | BPF_MEM | BPF_W, 7, 1, 4, 0);  /* data_end */
	/* r1 = data_meta (for step 11), or r2 = ingress_ifindex / rx_queue_index
	 * and r1 = data (egress_ifindex needs BPF_XDP_DEVMAP in the kernel) */
	if (sl_tgen_pick(g, 2)) {
		sl_tgen_emit(g, BPF_LDX | BPF_MEM | BPF_W, 1, 1, 8, 0);
		sl_tgen_emit(g, BPF_ALU64 | BPF_MOV | BPF_K, 2, 0, 0, 0);
	} else {
		sl_tgen_emit(g, BPF_LDX | BPF_MEM | BPF_W, 2, 1, (int16_t)(12 + 4 * sl_tgen_pick(g, 2)), 0);
		sl_tgen_emit(g, BPF_ALU64 | BPF_MOV | BPF_X, 1, 6, 0, 0);
	}
	for (unsigned r = 3; r <= 5; r++)
		sl_tgen_emit(g, BPF_ALU64 | BPF_MOV | BPF_K, (uint8_t)r, 0, 0, 0);
	sl_tgen_emit(g, BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 0);
	sl_tgen_emit(g, BPF_ALU64 | BPF_MOV | BPF_X, 8, 6, 0, 0);
	sl_tgen_emit(g, BPF_ALU64 | BPF_MOV | BPF_K, 9, 0, 0, 0);
	if (sl_tgen_pick(g, 2))  /* most programs first prove a header's worth */
		check_bound(g, &f, 6, (int32_t)(14 + sl_tgen_pick(g, 60)));
	for (unsigned s = 0; s < steps && g->n < MAX_INSNS - 40 && f.n < 60; s++)
		step(g, &f);
	/* r0 = 2 + (r0 & 1); exit; the bounds checks land on "r0 = 1; exit" */
	sl_tgen_emit(g, BPF_ALU64 | BPF_AND | BPF_K, 0, 0, 0, 1);
	sl_tgen_emit(g, BPF_ALU64 | BPF_ADD | BPF_K, 0, 0, 0, 2);
	sl_tgen_emit(g, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
	sl_tgen_emit(g, BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 1);
	sl_tgen_emit(g, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
	for (unsigned i = 0; i < f.n; i++)
		g->insns[f.at[i]].off = (int16_t)(g->n - 2 - f.at[i] - 1);
}

static int run_pkts(int fd, struct sl_prog *prog, uint64_t *rng, unsigned c)
{
	for (unsigned k = 0; k < 4; k++) {
		uint8_t in[128], kout[128], buf[256 + 128 + 256];
		uint32_t len = 14 + (uint32_t)(*rng % 100), klen = sizeof(kout), kret;
		struct sl_xdp_ctx x;
		uint32_t r0;

		for (unsigned i = 0; i < sizeof(in); i++) {
			*rng = *rng * 6364136223846793005ULL + 1442695040888963407ULL;
			in[i] = (uint8_t)(*rng >> 56);
		}
		if (sl_test_kernel_run(fd, in, len, kout, &klen, &kret))
			continue;
		sl_test_xdp_frame(&x, buf, 256, in, len, sizeof(buf) - 256 - len, true, 0);
		r0 = (uint32_t)sl_vm_exec(prog, &x, NULL, NULL);
		len = (uint32_t)((uint8_t *)x.data_end - (uint8_t *)x.data);
		if (r0 != kret || klen != len || memcmp(kout, x.data, len)) {
			fprintf(stderr, "case %u: packet of %u bytes: r0 %u, kernel %u%s\n", c, len, r0,
				kret, r0 == kret ? " (packets differ)" : "");
			return 1;
		}
	}
	return 0;
}

/* The line of the kernel's log that says why (the one before "processed"). */
static char *kernel_reason(char *klog)
{
	char *last = strrchr(klog, '\n'), *prev;

	if (!last || last == klog)
		return klog;
	*last = 0;
	prev = strrchr(klog, '\n');
	if (prev && strstr(prev, "processed")) {
		*prev = 0;
		prev = strrchr(klog, '\n');
	}
	return prev ? prev + 1 : klog;
}

/* Run in the checked interpreter on 16 random packets: 1 on any fault. */
static int run_checked(const struct sl_prog *prog, uint64_t *rng)
{
	for (unsigned k = 0; k < 16; k++) {
		uint8_t buf[256 + 128 + 256] = { 0 };
		uint32_t len = 14 + (uint32_t)(*rng % 100);
		struct sl_vm_run_opts ro = { .sz = sizeof(ro), .checked = true };
		struct sl_vm_result res;
		struct sl_xdp_ctx x = { 0 };

		for (unsigned i = 0; i < len; i++) {
			*rng = *rng * 6364136223846793005ULL + 1442695040888963407ULL;
			buf[256 + i] = (uint8_t)(*rng >> 56);
		}
		x.data_hard_start = buf;
		x.data = x.data_meta = buf + 256;
		x.data_end = buf + 256 + len;
		x.data_hard_end = buf + sizeof(buf);
		sl_vm_exec(prog, &x, &ro, &res);
		if (res.err) {
			fprintf(stderr, "  checked run, packet of %u bytes: %s\n", len, res.msg);
			return 1;
		}
	}
	return 0;
}

static void dump_prog(const struct sl_tgen *g)
{
	sl_tgen_dump(g->insns, g->n, 0, stderr);
}

struct tally {
	unsigned bad, acc, rej, permissive, known;
	uint64_t prng;
};

/* Compare the two verdicts of case @p c and count it in @p t. */
static void classify(struct tally *t, unsigned c, const struct sl_tgen *g, int fd, int sok,
		     struct sl_prog *prog, char *klog, const char *slog)
{
	int kok = fd >= 0;

	if (!kok && sok) {
		/* sluice proved more than the kernel (e.g. on a path the kernel
		 * cannot rule out): allowed if it is really safe, checked by
		 * running it with every access checked */
		int fault = run_checked(prog, &t->prng);

		if (fault || t->permissive++ < (getenv("VDIFF_ALL") ? 100000u : 3u))
			fprintf(stderr, "case %u: kernel rejects (%s), sluice accepts%s\n", c,
				kernel_reason(klog), fault ? " and the checked run FAULTS: unsafe" :
				" (safe in checked runs; informational)");
		if (fault) {
			dump_prog(g);
			t->bad++;
		}
	} else if (kok != sok) {
		fprintf(stderr, "case %u: kernel accepts, sluice rejects: %s\n", c, slog);
		dump_prog(g);
		t->bad++;
	} else if (kok) {
		t->acc++;
		t->bad += (unsigned)run_pkts(fd, prog, &t->prng, c);
	} else {
		t->rej++;
	}
}

int main(int argc, char **argv)
{
	unsigned cases = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 0) : 2000;
	uint64_t seed = argc > 2 ? strtoull(argv[2], NULL, 0) : 20261122;
	struct tally t = { .prng = seed };
	static char klog[1 << 16];
	unsigned loaded = 0;

	printf("compat_vdiff: %u programs, seed %" PRIu64 "\n", cases, seed);
	for (unsigned c = 0; c < cases && t.bad < 8; c++) {
		static struct sl_tgen g;
		struct sl_test_prog s;
		int fd, sok;

		sl_tgen_init(&g, sl_rng_make(seed * 0x9E3779B97F4A7C15ULL + c + 1, SL_RNG_XORSHIFT_STAR),
			     MAX_INSNS);
		gen_prog(&g);
		fd = sl_test_kernel_load(BPF_PROG_TYPE_XDP, "vdiff", g.insns, g.n, klog, sizeof(klog));
		if (fd == -EPERM && !loaded)
			return sl_test_skip("the kernel refuses BPF programs");
		loaded |= fd >= 0;
		sok = !sl_test_prog_raw(&s, g.insns, g.n, SL_PROG_XDP, false);
		classify(&t, c, &g, fd, sok, s.prog, klog, s.err);
		if (fd >= 0)
			close(fd);
		sl_test_prog_close(&s);
	}
	printf("compat_vdiff: both accept %u (each run on 4 packets), both reject %u, only sluice "
	       "accepts %u (each safe in 16 checked runs), known difference %u; %u mismatches\n",
	       t.acc, t.rej, t.permissive, t.known, t.bad);
	return t.bad ? 1 : 0;
}
