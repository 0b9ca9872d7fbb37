/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bpf_loop against the running kernel: the same object (progs/loop.bpf.c)
 * in the kernel (BPF_PROG_TEST_RUN) and in sluice (interpreter and JIT).
 * Random requests: nr_loops (small, past the 1 << 23 limit, exactly at it
 * with an early stop, above 32 bits), flags 0 or not, the index at which
 * the callback stops, a context on the stack, a NULL context (the callback
 * counts in a global), nested loops, a walk over the packet through
 * pointers kept in the context. The helper's result, the callbacks'
 * sums and counts must be identical. Programs that a sound verifier must
 * refuse (a callback returning 2; a callback safe at its first call only)
 * must be refused by both verifiers. A loop around bpf_loop that never
 * ends must be refused by sluice (the kernel on the test machine, 6.18,
 * accepts it: reported, not required).
 * Exit 77 when the kernel refuses to load programs.
 * Usage: test_maps_loop_kdiff OBJ [COUNT [SEED]]
 */
#include <bpf/libbpf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl_test_bpf.h"

#define PKT 64
#define HEADROOM 256

static struct sl_rng rng = { 0x5851f42d4c957f2dull, SL_RNG_XORSHIFT };

static uint32_t sluice_run(struct sl_test_prog *s, const uint8_t *in, uint8_t *out, bool jit)
{
	static uint8_t buf[HEADROOM + PKT + 256];
	struct sl_xdp_ctx x;
	uint32_t r;

	sl_test_xdp_frame(&x, buf, HEADROOM, in, PKT, 256, false, 0);
	r = (uint32_t)sl_test_prog_exec(s, &x, jit);
	memcpy(out, buf + HEADROOM, PKT);
	return r;
}

static void make_req(uint8_t *p)
{
	uint64_t nr = sl_rng_u64(&rng) % 200, flags = sl_rng_u64(&rng) % 12 ? 0 : 1 + sl_rng_u64(&rng) % 4;
	uint32_t stop = (uint32_t)(sl_rng_u64(&rng) % 250), mode = (uint32_t)(sl_rng_u64(&rng) % 4);

	switch (sl_rng_u64(&rng) % 12) {
	case 0: nr = (1u << 23) + 1 + sl_rng_u64(&rng) % 1000; break;          /* -E2BIG */
	case 1: nr = 1u << 23; stop = (uint32_t)(sl_rng_u64(&rng) % 64); mode = 0; break;  /* the limit */
	case 2: nr = ((1 + sl_rng_u64(&rng) % 7) << 32) | (sl_rng_u64(&rng) % 50); break;  /* u32 argument */
	default: break;
	}
	for (unsigned i = 0; i < PKT; i++)
		p[i] = (uint8_t)sl_rng_u64(&rng);
	memcpy(p, &nr, 8);
	memcpy(p + 8, &flags, 8);
	memcpy(p + 16, &stop, 4);
	memcpy(p + 20, &mode, 4);
}

/* the bad programs: both verifiers must refuse each */
static void check_refusals(const char *path)
{
	static const char *const bad[] = { "loop_bad_ret", "loop_grows", "loop_forever" };

	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int err;
		struct bpf_object *o = sl_test_kernel_open(path, bad[i], NULL, &err);
		struct sl_test_prog s;
		bool kernel = !o, sluice = sl_test_prog_open(&s, path, bad[i], 1, false) != 0;

		printf("%s: kernel %s, sluice %s (%s)\n", bad[i], kernel ? "refuses" : "accepts",
		       sluice ? "refuses" : "accepts", s.err);
		/* the kernel (6.18) accepts loop_forever; sluice must not run a program that never ends */
		CHECK(!((!kernel && i < 2) || !sluice), "%s must be refused", bad[i]);
		sl_test_prog_close(&s);
		bpf_object__close(o);
	}
}

int main(int argc, char **argv)
{
	unsigned count = argc > 2 ? (unsigned)strtoul(argv[2], NULL, 0) : 1000;
	static uint8_t in[PKT], kout[PKT], sout[PKT];
	struct bpf_object *obj;
	struct sl_test_prog s;
	int fd, err;

	if (argc < 2)
		return fprintf(stderr, "usage: %s OBJ [COUNT [SEED]]\n", argv[0]), 2;
	if (argc > 3)
		rng.s = strtoull(argv[3], NULL, 0) | 1;
	sl_test_seed(rng.s);
	printf("seed 0x%llx, %u requests\n", (unsigned long long)rng.s, count);
	if (sl_test_prog_open(&s, argv[1], "loop_req", 1, true))
		return FAIL("sluice refuses loop_req: %s", s.err), 1;
	sl_test_kernel_quiet();
	obj = sl_test_kernel_open(argv[1], "loop_req", &fd, &err);
	if (!obj)
		return sl_test_skip("the kernel refuses to load the program (%s)", strerror(-err));
	check_refusals(argv[1]);
	for (unsigned i = 0; i < count && sl_test_failures() < 20; i++) {
		uint32_t olen = PKT, kret;

		make_req(in);
		err = sl_test_kernel_run(fd, in, PKT, kout, &olen, &kret);
		if (err)
			return FAIL("test run: %s", strerror(-err)), 1;
		for (int jit = 0; jit < 2; jit++) {
			uint32_t v = sluice_run(&s, in, sout, jit);
			int64_t kr, sr;

			memcpy(&kr, kout, 8);
			memcpy(&sr, sout, 8);
			CHECK(v == kret && !memcmp(kout, sout, 32),
			      "MISMATCH request %u (%s): nr 0x%llx flags %llu stop %u mode %u: "
				"ret %lld kernel %lld, sum %llu kernel %llu, calls %llu kernel %llu",
				i, jit ? "jit" : "interp", *(unsigned long long *)in,
				*(unsigned long long *)(in + 8), *(uint32_t *)(in + 16),
				*(uint32_t *)(in + 20), (long long)sr, (long long)kr,
				*(unsigned long long *)(sout + 8), *(unsigned long long *)(kout + 8),
				*(unsigned long long *)(sout + 16), *(unsigned long long *)(kout + 16));
		}
	}
	bpf_object__close(obj);
	sl_test_prog_close(&s);
	printf("%u requests\n", count);
	return sl_test_done("maps_loop_kdiff");
}
