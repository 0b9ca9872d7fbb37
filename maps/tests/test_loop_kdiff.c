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
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl_jit.h"
#include "sl_vm.h"

#define PKT 64
#define HEADROOM 256

static uint64_t rng = 0x5851f42d4c957f2dull;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

struct sside {
	struct sl_obj *obj;
	struct sl_prog *prog;
	struct sl_jit *jit;
	char err[512];
};

static int sluice_load(struct sside *s, const char *path, const char *name, bool jit)
{
	struct sl_obj_opts oo = { .sz = sizeof(oo), .ncpus = 1 };

	s->obj = sl_obj_open(path, &oo, s->err, sizeof(s->err));
	if (!s->obj || !(s->prog = sl_obj_find_prog(s->obj, name)))
		return -1;
	if (sl_prog_verify(s->prog, 0, NULL, s->err, sizeof(s->err)) ||
	    sl_vm_prepare(s->prog, s->err, sizeof(s->err)))
		return -1;
	if (jit)
		s->jit = sl_jit_compile(s->prog, NULL, s->err, sizeof(s->err));
	return !jit || s->jit ? 0 : -1;
}

static void sluice_close(struct sside *s)
{
	sl_jit_free(s->jit);
	sl_obj_close(s->obj);
}

static uint32_t sluice_run(struct sside *s, const uint8_t *in, uint8_t *out, bool jit)
{
	static uint8_t buf[HEADROOM + PKT + 256];
	struct sl_xdp_ctx x = { 0 };
	uint32_t r;

	memcpy(buf + HEADROOM, in, PKT);
	x.data_hard_start = buf;
	x.data = x.data_meta = buf + HEADROOM;
	x.data_end = buf + HEADROOM + PKT;
	x.data_hard_end = buf + sizeof(buf);
	r = (uint32_t)(jit ? sl_jit_entry(s->jit)(&x, 0) : sl_vm_exec(s->prog, &x, NULL, NULL));
	memcpy(out, buf + HEADROOM, PKT);
	return r;
}

static void make_req(uint8_t *p)
{
	uint64_t nr = rnd() % 200, flags = rnd() % 12 ? 0 : 1 + rnd() % 4;
	uint32_t stop = (uint32_t)(rnd() % 250), mode = (uint32_t)(rnd() % 4);

	switch (rnd() % 12) {
	case 0: nr = (1u << 23) + 1 + rnd() % 1000; break;          /* -E2BIG */
	case 1: nr = 1u << 23; stop = (uint32_t)(rnd() % 64); mode = 0; break;  /* the limit */
	case 2: nr = ((1 + rnd() % 7) << 32) | (rnd() % 50); break;  /* u32 argument */
	default: break;
	}
	for (unsigned i = 0; i < PKT; i++)
		p[i] = (uint8_t)rnd();
	memcpy(p, &nr, 8);
	memcpy(p + 8, &flags, 8);
	memcpy(p + 16, &stop, 4);
	memcpy(p + 20, &mode, 4);
}

/* the bad programs: both verifiers must refuse each */
static unsigned check_refusals(const char *path)
{
	static const char *const bad[] = { "loop_bad_ret", "loop_grows", "loop_forever" };
	unsigned fails = 0;

	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct bpf_object *o = bpf_object__open_file(path, NULL);
		struct bpf_program *p;
		struct sside s = { 0 };
		bool kernel, sluice;

		if (!o)
			return 1;
		bpf_object__for_each_program(p, o)
			bpf_program__set_autoload(p, !strcmp(bpf_program__name(p), bad[i]));
		kernel = bpf_object__load(o) != 0;
		sluice = sluice_load(&s, path, bad[i], false) != 0;
		printf("%s: kernel %s, sluice %s (%s)\n", bad[i], kernel ? "refuses" : "accepts",
		       sluice ? "refuses" : "accepts", s.err);
		/* the kernel (6.18) accepts loop_forever; sluice must not run a program that never ends */
		fails += (!kernel && i < 2) || !sluice;
		sluice_close(&s);
		bpf_object__close(o);
	}
	return fails;
}

int main(int argc, char **argv)
{
	unsigned count = argc > 2 ? (unsigned)strtoul(argv[2], NULL, 0) : 1000, bad = 0;
	static uint8_t in[PKT], kout[PKT], sout[PKT];
	struct bpf_program *p, *prog = NULL;
	struct bpf_object *obj;
	struct sside s = { 0 };

	if (argc < 2)
		return fprintf(stderr, "usage: %s OBJ [COUNT [SEED]]\n", argv[0]), 2;
	if (argc > 3)
		rng = strtoull(argv[3], NULL, 0) | 1;
	printf("seed 0x%llx, %u requests\n", (unsigned long long)rng, count);
	if (sluice_load(&s, argv[1], "loop_req", true))
		return fprintf(stderr, "FAIL sluice refuses loop_req: %s\n", s.err), 1;
	libbpf_set_print(NULL);
	obj = bpf_object__open_file(argv[1], NULL);
	if (!obj)
		return fprintf(stderr, "FAIL libbpf cannot open %s\n", argv[1]), 1;
	bpf_object__for_each_program(p, obj) {
		bool want = !strcmp(bpf_program__name(p), "loop_req");

		bpf_program__set_autoload(p, want);
		if (want)
			prog = p;
	}
	if (!prog || bpf_object__load(obj)) {
		printf("SKIP: the kernel refuses to load the program (%s)\n", strerror(errno));
		return 77;
	}
	bad += check_refusals(argv[1]);
	for (unsigned i = 0; i < count && bad < 20; i++) {
		LIBBPF_OPTS(bpf_test_run_opts, ro, .data_in = in, .data_size_in = PKT,
			    .data_out = kout, .data_size_out = PKT, .repeat = 1);

		make_req(in);
		if (bpf_prog_test_run_opts(bpf_program__fd(prog), &ro))
			return fprintf(stderr, "FAIL test run: %s\n", strerror(errno)), 1;
		for (int jit = 0; jit < 2; jit++) {
			uint32_t v = sluice_run(&s, in, sout, jit);
			int64_t kr, sr;

			if (v == ro.retval && !memcmp(kout, sout, 32))
				continue;
			memcpy(&kr, kout, 8);
			memcpy(&sr, sout, 8);
			fprintf(stderr, "MISMATCH request %u (%s): nr 0x%llx flags %llu stop %u mode %u: "
				"ret %lld kernel %lld, sum %llu kernel %llu, calls %llu kernel %llu\n",
				i, jit ? "jit" : "interp", *(unsigned long long *)in,
				*(unsigned long long *)(in + 8), *(uint32_t *)(in + 16),
				*(uint32_t *)(in + 20), (long long)sr, (long long)kr,
				*(unsigned long long *)(sout + 8), *(unsigned long long *)(kout + 8),
				*(unsigned long long *)(sout + 16), *(unsigned long long *)(kout + 16));
			bad++;
		}
	}
	bpf_object__close(obj);
	sluice_close(&s);
	printf("%s: %u mismatches over %u requests\n", bad ? "FAIL" : "ok", bad, count);
	return bad ? 1 : 0;
}
