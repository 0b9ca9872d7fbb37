/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bpf_csum_diff against the running kernel: the same object
 * (progs/csum_diff.bpf.c) loaded into the kernel (BPF_PROG_TEST_RUN) and
 * into sluice (interpreter and JIT), run on random requests: sizes (mostly
 * multiples of 4, sometimes over 512 bytes in all or not multiples of 4,
 * which kernels before 6.13 refused with -EINVAL and 6.13+ sum), NULL
 * buffers, seeds, buffer contents (random, all zero, all ones). Every
 * 64-bit result must be identical. A program passing NULL with a size
 * that may be nonzero must be refused by both verifiers.
 *
 * Fixed vectors run first, without the kernel: 2 x 0xdeadbeef pushed with
 * seed 0 gives 0x3b3b (the kernel selftest csum_diff_test.c); the others
 * were worked out by hand (RFC 1071 end-around-carry sums, folded). Exit 77 when the kernel refuses to load programs.
 * Usage: test_maps_csum_kdiff OBJ [COUNT [SEED]]
 */
#include <bpf/libbpf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl_test_bpf.h"

#define HDR 24
#define AREA 1024
#define PKT (HDR + 2 * AREA)
#define HEADROOM 256

static struct sl_rng rng = { 0x9e3779b97f4a7c15ull, SL_RNG_XORSHIFT };

/* the program's 64-bit result on @p in, interpreter (jit false) or JIT */
static int64_t sluice_run(struct sl_test_prog *s, const uint8_t *in, bool jit, uint32_t *verdict)
{
	static uint8_t buf[HEADROOM + PKT + 256];
	struct sl_xdp_ctx x;
	int64_t r;

	sl_test_xdp_frame(&x, buf, HEADROOM, in, PKT, 256, false, 0);
	*verdict = (uint32_t)sl_test_prog_exec(s, &x, jit);
	memcpy(&r, buf + HEADROOM, 8);
	return r;
}

static void put32(uint8_t *b, uint32_t v) { memcpy(b, &v, 4); }

/* a random request: sizes, seed, mode, contents */
static void make_req(uint8_t *p)
{
	uint32_t fs = (uint32_t)(sl_rng_u64(&rng) % 129) * 4, ts = (uint32_t)(sl_rng_u64(&rng) % 129) * 4;
	uint64_t seed = sl_rng_u64(&rng), kind = sl_rng_u64(&rng) % 16;

	if (kind == 0)
		fs |= (uint32_t)(sl_rng_u64(&rng) % 4);     /* a partial last word */
	if (kind == 1)
		fs = (uint32_t)(sl_rng_u64(&rng) % 256) * 4; /* up to 1020: often > 512 in all */
	if (kind == 2 && fs + ts > 512)
		ts = 512 - fs;                    /* exactly at the limit */
	if (sl_rng_u64(&rng) % 8 == 0)
		seed = sl_rng_u64(&rng) % 2 ? 0 : ~0ull;
	put32(p, fs);
	put32(p + 4, ts);
	memcpy(p + 8, &seed, 8);
	put32(p + 16, (uint32_t)(sl_rng_u64(&rng) % 6 < 3 ? 0 : sl_rng_u64(&rng) % 4));
	put32(p + 20, 0);
	switch (sl_rng_u64(&rng) % 6) {
	case 0:
		memset(p + HDR, 0, 2 * AREA);
		break;
	case 1:
		memset(p + HDR, 0xff, 2 * AREA);
		break;
	default:
		for (unsigned i = HDR; i < PKT; i += 8) {
			uint64_t v = sl_rng_u64(&rng);

			memcpy(p + i, &v, 8);
		}
	}
}

/* 16-bit results for pushing 0xdeadbeef words (see the top of the file) */
static void fixed_vectors(struct sl_test_prog *s)
{
	static const struct { uint32_t words; uint16_t seed, res; } v[] = {
		{ 2, 0, 0x3b3b }, { 2, 0x1234, 0x4d6f }, { 4, 0, 0x7676 },
	};
	uint8_t p[PKT] = { 0 };

	for (unsigned i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		uint64_t seed = v[i].seed;

		put32(p + 4, v[i].words * 4);
		memcpy(p + 8, &seed, 8);
		put32(p + 16, 1);
		for (unsigned w = 0; w < v[i].words; w++)
			put32(p + HDR + AREA + 4 * w, 0xdeadbeef);
		for (int jit = 0; jit < 2; jit++) {
			uint32_t verdict;
			int64_t r = sluice_run(s, p, jit, &verdict);

			CHECK(r == v[i].res && verdict == XDP_TX, "vector %u (%s): 0x%llx, want 0x%x",
			      i, jit ? "jit" : "interp", (unsigned long long)r, v[i].res);
		}
	}
}

int main(int argc, char **argv)
{
	unsigned count = argc > 2 ? (unsigned)strtoul(argv[2], NULL, 0) : 3000;
	struct sl_test_prog s, n;
	struct bpf_object *kobj, *knull;
	static uint8_t in[PKT], out[PKT];
	int fd, err;

	if (argc < 2)
		return fprintf(stderr, "usage: %s OBJ [COUNT [SEED]]\n", argv[0]), 2;
	if (argc > 3)
		rng.s = strtoull(argv[3], NULL, 0) | 1;
	sl_test_seed(rng.s);
	printf("seed 0x%llx, %u requests\n", (unsigned long long)rng.s, count);
	if (sl_test_prog_open(&s, argv[1], "csum_diff", 1, true))
		return FAIL("sluice refuses csum_diff: %s", s.err), 1;
	fixed_vectors(&s);
	if (!CHECK(sl_test_prog_open(&n, argv[1], "csum_null_size", 1, true),
		   "sluice accepts NULL with a nonzero size"))
		printf("sluice refuses csum_null_size: %s\n", n.err);
	sl_test_kernel_quiet();
	kobj = sl_test_kernel_open(argv[1], "csum_diff", &fd, &err);
	if (!kobj) {
		if (sl_test_failures())
			return sl_test_done("maps_csum_kdiff");
		return sl_test_skip("the kernel refuses to load the program (%s)", strerror(-err));
	}
	/* the NULL-with-size program alone: the kernel must refuse it too */
	knull = sl_test_kernel_open(argv[1], "csum_null_size", NULL, &err);
	CHECK(!knull, "kernel accepts csum_null_size (test assumption wrong)");
	bpf_object__close(knull);
	for (unsigned i = 0; i < count && sl_test_failures() < 20; i++) {
		uint32_t olen = PKT, kret, verdict;
		int64_t kr, sr;

		make_req(in);
		err = sl_test_kernel_run(fd, in, PKT, out, &olen, &kret);
		if (err)
			return FAIL("test run: %s", strerror(-err)), 1;
		memcpy(&kr, out, 8);
		for (int jit = 0; jit < 2; jit++) {
			sr = sluice_run(&s, in, jit, &verdict);
			CHECK(sr == kr && verdict == kret, "MISMATCH request %u (%s): fs %u ts %u mode %u "
			      "seed 0x%llx: sluice 0x%llx, kernel 0x%llx", i, jit ? "jit" : "interp",
			      *(uint32_t *)in, *(uint32_t *)(in + 4), *(uint32_t *)(in + 16),
			      *(unsigned long long *)(in + 8), (unsigned long long)sr,
			      (unsigned long long)kr);
		}
	}
	bpf_object__close(kobj);
	sl_test_prog_close(&s);
	sl_test_prog_close(&n);
	printf("%u requests\n", count);
	return sl_test_done("maps_csum_kdiff");
}
