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
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl_jit.h"
#include "sl_vm.h"

#define HDR 24
#define AREA 1024
#define PKT (HDR + 2 * AREA)
#define HEADROOM 256

struct sside {
	struct sl_obj *obj;
	struct sl_prog *prog;
	struct sl_jit *jit;
	char err[512];
};

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static struct sl_prog *find_prog(struct sl_obj *obj, const char *name)
{
	for (unsigned i = 0; i < sl_obj_prog_count(obj); i++)
		if (!strcmp(sl_obj_prog(obj, i)->name, name))
			return sl_obj_prog(obj, i);
	return NULL;
}

/* 0 loaded and verified, -1 refused (message in s->err) */
static int sluice_load(struct sside *s, const char *path, const char *name)
{
	struct sl_obj_opts oo = { .sz = sizeof(oo), .ncpus = 1 };

	s->obj = sl_obj_open(path, &oo, s->err, sizeof(s->err));
	if (!s->obj)
		return -1;
	s->prog = find_prog(s->obj, name);
	if (!s->prog)
		return snprintf(s->err, sizeof(s->err), "no program %s", name), -1;
	if (sl_prog_verify(s->prog, 0, NULL, s->err, sizeof(s->err)) ||
	    sl_vm_prepare(s->prog, s->err, sizeof(s->err)))
		return -1;
	s->jit = sl_jit_compile(s->prog, NULL, s->err, sizeof(s->err));
	return s->jit ? 0 : -1;
}

/* the program's 64-bit result on @p in, interpreter (jit false) or JIT */
static int64_t sluice_run(struct sside *s, const uint8_t *in, bool jit, uint32_t *verdict)
{
	static uint8_t buf[HEADROOM + PKT + 256];
	struct sl_xdp_ctx x = { 0 };
	int64_t r;

	memcpy(buf + HEADROOM, in, PKT);
	x.data_hard_start = buf;
	x.data = x.data_meta = buf + HEADROOM;
	x.data_end = buf + HEADROOM + PKT;
	x.data_hard_end = buf + sizeof(buf);
	*verdict = (uint32_t)(jit ? sl_jit_entry(s->jit)(&x, 0) : sl_vm_exec(s->prog, &x, NULL, NULL));
	memcpy(&r, buf + HEADROOM, 8);
	return r;
}

static void put32(uint8_t *b, uint32_t v) { memcpy(b, &v, 4); }

/* a random request: sizes, seed, mode, contents */
static void make_req(uint8_t *p)
{
	uint32_t fs = (uint32_t)(rnd() % 129) * 4, ts = (uint32_t)(rnd() % 129) * 4;
	uint64_t seed = rnd(), kind = rnd() % 16;

	if (kind == 0)
		fs |= (uint32_t)(rnd() % 4);     /* a partial last word */
	if (kind == 1)
		fs = (uint32_t)(rnd() % 256) * 4; /* up to 1020: often > 512 in all */
	if (kind == 2 && fs + ts > 512)
		ts = 512 - fs;                    /* exactly at the limit */
	if (rnd() % 8 == 0)
		seed = rnd() % 2 ? 0 : ~0ull;
	put32(p, fs);
	put32(p + 4, ts);
	memcpy(p + 8, &seed, 8);
	put32(p + 16, (uint32_t)(rnd() % 6 < 3 ? 0 : rnd() % 4));
	put32(p + 20, 0);
	switch (rnd() % 6) {
	case 0:
		memset(p + HDR, 0, 2 * AREA);
		break;
	case 1:
		memset(p + HDR, 0xff, 2 * AREA);
		break;
	default:
		for (unsigned i = HDR; i < PKT; i += 8) {
			uint64_t v = rnd();

			memcpy(p + i, &v, 8);
		}
	}
}

/* 16-bit results for pushing 0xdeadbeef words (see the top of the file) */
static int fixed_vectors(struct sside *s)
{
	static const struct { uint32_t words; uint16_t seed, res; } v[] = {
		{ 2, 0, 0x3b3b }, { 2, 0x1234, 0x4d6f }, { 4, 0, 0x7676 },
	};
	uint8_t p[PKT] = { 0 };
	int bad = 0;

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

			if (r != v[i].res || verdict != XDP_TX) {
				fprintf(stderr, "FAIL vector %u (%s): 0x%llx, want 0x%x\n", i,
					jit ? "jit" : "interp", (unsigned long long)r, v[i].res);
				bad++;
			}
		}
	}
	return bad;
}

static int kernel_load(const char *path, struct bpf_object **obj, int *fd, bool *null_refused)
{
	struct bpf_program *p, *q;

	libbpf_set_print(NULL);
	*obj = bpf_object__open_file(path, NULL);
	if (!*obj)
		return -1;
	p = bpf_object__find_program_by_name(*obj, "csum_diff");
	q = bpf_object__find_program_by_name(*obj, "csum_null_size");
	if (!p || !q)
		return -1;
	bpf_program__set_autoload(q, false);
	if (bpf_object__load(*obj))
		return -1;
	*fd = bpf_program__fd(p);
	/* the NULL-with-size program alone: must be refused */
	{
		struct bpf_object *o2 = bpf_object__open_file(path, NULL);
		struct bpf_program *pp = o2 ? bpf_object__find_program_by_name(o2, "csum_diff") : NULL;

		if (!pp)
			return -1;
		bpf_program__set_autoload(pp, false);
		*null_refused = bpf_object__load(o2) != 0;
		bpf_object__close(o2);
	}
	return 0;
}

int main(int argc, char **argv)
{
	unsigned count = argc > 2 ? (unsigned)strtoul(argv[2], NULL, 0) : 3000, bad = 0;
	struct sside s = { 0 }, n = { 0 };
	struct bpf_object *kobj;
	bool knull_refused;
	static uint8_t in[PKT], out[PKT];
	int fd;

	if (argc < 2)
		return fprintf(stderr, "usage: %s OBJ [COUNT [SEED]]\n", argv[0]), 2;
	if (argc > 3)
		rng = strtoull(argv[3], NULL, 0) | 1;
	printf("seed 0x%llx, %u requests\n", (unsigned long long)rng, count);
	if (sluice_load(&s, argv[1], "csum_diff"))
		return fprintf(stderr, "FAIL sluice refuses csum_diff: %s\n", s.err), 1;
	bad += (unsigned)fixed_vectors(&s);
	if (!sluice_load(&n, argv[1], "csum_null_size")) {
		fprintf(stderr, "FAIL sluice accepts NULL with a nonzero size\n");
		bad++;
	} else {
		printf("sluice refuses csum_null_size: %s\n", n.err);
	}
	if (kernel_load(argv[1], &kobj, &fd, &knull_refused)) {
		printf("SKIP: the kernel refuses to load the program (%s)\n", strerror(errno));
		return bad ? 1 : 77;
	}
	if (!knull_refused) {
		fprintf(stderr, "FAIL kernel accepts csum_null_size (test assumption wrong)\n");
		bad++;
	}
	for (unsigned i = 0; i < count && bad < 20; i++) {
		LIBBPF_OPTS(bpf_test_run_opts, ro, .data_in = in, .data_size_in = PKT,
			    .data_out = out, .data_size_out = PKT, .repeat = 1);
		int64_t kr, sr;
		uint32_t verdict;

		make_req(in);
		if (bpf_prog_test_run_opts(fd, &ro))
			return fprintf(stderr, "FAIL test run: %s\n", strerror(errno)), 1;
		memcpy(&kr, out, 8);
		for (int jit = 0; jit < 2; jit++) {
			sr = sluice_run(&s, in, jit, &verdict);
			if (sr == kr && verdict == ro.retval)
				continue;
			fprintf(stderr, "MISMATCH request %u (%s): fs %u ts %u mode %u seed 0x%llx: "
				"sluice 0x%llx, kernel 0x%llx\n", i, jit ? "jit" : "interp",
				*(uint32_t *)in, *(uint32_t *)(in + 4), *(uint32_t *)(in + 16),
				*(unsigned long long *)(in + 8), (unsigned long long)sr,
				(unsigned long long)kr);
			bad++;
		}
	}
	bpf_object__close(kobj);
	sl_jit_free(s.jit);
	sl_obj_close(s.obj);
	sl_jit_free(n.jit);
	sl_obj_close(n.obj);
	printf("%s: %u mismatches over %u requests\n", bad ? "FAIL" : "ok", bad, count);
	return bad ? 1 : 0;
}
