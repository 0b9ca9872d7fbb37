/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bpf_perf_event_output (XDP) against the running kernel: the same object
 * (progs/perf_out.bpf.c) in the kernel, with a libbpf perf_buffer open on
 * every CPU and the test pinned to CPU 0, and in sluice (interpreter and
 * JIT) with one worker slot per possible CPU, running as worker 0. Random
 * requests: flags (BPF_F_CURRENT_CPU, index 0, another CPU's index, an
 * index past max_entries, bits outside CTXLEN|INDEX), packet bytes to
 * append (0 to the packet length, and past it), data sizes 0 to 64. The
 * helper's return values must agree, and so must the samples: the same
 * bytes (the kernel's reader sees the raw size rounded up so that size +
 * 4 is a multiple of 8; sluice hands out the exact size, which must be
 * the kernel's before rounding). A program passing a packet pointer as the
 * data must be refused by both verifiers.
 * Exit 77 when the kernel refuses to load programs or open perf events.
 * Usage: test_maps_perf_kdiff OBJ [COUNT [SEED]]
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl_jit.h"
#include "sl_maps.h"
#include "sl_vm.h"

#define HDR 16
#define MAXPKT 512
#define HEADROOM 256

struct sample {
	uint32_t len;
	uint8_t b[MAXPKT + 128];
};

struct samples {
	unsigned n;
	struct sample s[4];
};

static uint64_t rng = 0x2545f4914f6cdd1dull;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void add(struct samples *ss, const void *data, uint32_t len)
{
	if (ss->n < 4) {
		ss->s[ss->n].len = len;
		memcpy(ss->s[ss->n].b, data, len < sizeof(ss->s[0].b) ? len : sizeof(ss->s[0].b));
	}
	ss->n++;
}

static void kernel_sample(void *ctx, int cpu, void *data, __u32 size)
{
	add(ctx, data, size);
}

static int sluice_sample(uint32_t cpu, const void *data, uint32_t len, void *ctx)
{
	add(ctx, data, len);
	return 0;
}

struct sside {
	struct sl_obj *obj;
	struct sl_prog *prog;
	struct sl_jit *jit;
	struct sl_map *map;
	char err[512];
};

static int sluice_load(struct sside *s, const char *path, unsigned ncpus)
{
	struct sl_obj_opts oo = { .sz = sizeof(oo), .ncpus = ncpus };

	s->obj = sl_obj_open(path, &oo, s->err, sizeof(s->err));
	if (!s->obj || !(s->prog = sl_obj_find_prog(s->obj, "perf_out")))
		return -1;
	for (unsigned i = 0; i < sl_obj_map_count(s->obj); i++)
		if (!strcmp(sl_map_name(sl_obj_map(s->obj, i)), "events"))
			s->map = sl_obj_map(s->obj, i);
	if (!s->map)
		return snprintf(s->err, sizeof(s->err), "no map 'events'"), -1;
	if (sl_prog_verify(s->prog, 0, NULL, s->err, sizeof(s->err)) ||
	    sl_vm_prepare(s->prog, s->err, sizeof(s->err)))
		return -1;
	s->jit = sl_jit_compile(s->prog, NULL, s->err, sizeof(s->err));
	return s->jit ? 0 : -1;
}

static int64_t sluice_run(struct sside *s, const uint8_t *in, uint32_t len, bool jit)
{
	static uint8_t buf[HEADROOM + MAXPKT + 256];
	struct sl_xdp_ctx x = { 0 };
	int64_t r;

	memcpy(buf + HEADROOM, in, len);
	x.data_hard_start = buf;
	x.data = x.data_meta = buf + HEADROOM;
	x.data_end = buf + HEADROOM + len;
	x.data_hard_end = buf + sizeof(buf);
	if (jit)
		sl_jit_entry(s->jit)(&x, 0);
	else
		sl_vm_exec(s->prog, &x, NULL, NULL);
	memcpy(&r, buf + HEADROOM, 8);
	return r;
}

/* a random request; returns the packet length */
static uint32_t make_req(uint8_t *p)
{
	uint32_t len = HDR + 64 + (uint32_t)(rnd() % (MAXPKT - HDR - 64));
	uint64_t ctxlen = rnd() % (len + 1), flags;

	switch (rnd() % 10) {
	case 0: flags = 0; break;                        /* index 0: this CPU */
	case 1: flags = 1; break;                        /* another CPU's event */
	case 2: flags = 1000; break;                     /* past max_entries */
	case 3: flags = BPF_F_CURRENT_CPU | (1ull << 60); break;  /* bad bits */
	case 4: ctxlen = len + 1 + rnd() % 16; flags = BPF_F_CURRENT_CPU; break;
	default: flags = BPF_F_CURRENT_CPU; break;
	}
	flags |= ctxlen << 32;
	for (uint32_t i = 0; i < len; i++)
		p[i] = (uint8_t)rnd();
	memcpy(p, &flags, 8);
	p[8] = (uint8_t)(rnd() % 80);   /* meta_len: above 64 is clamped by the program */
	p[9] = p[10] = p[11] = 0;
	return len;
}

static int compare(unsigned i, const char *eng, int64_t kr, int64_t sr, const struct samples *k,
		   const struct samples *s)
{
	if (kr != sr || k->n != s->n) {
		fprintf(stderr, "MISMATCH request %u (%s): return %lld kernel %lld, samples %u kernel %u\n",
			i, eng, (long long)sr, (long long)kr, s->n, k->n);
		return 1;
	}
	if (!k->n)
		return 0;
	if (k->s[0].len != ((s->s[0].len + 4 + 7) & ~7u) - 4 ||
	    memcmp(k->s[0].b, s->s[0].b, s->s[0].len)) {
		fprintf(stderr, "MISMATCH request %u (%s): sample of %u bytes, kernel %u bytes%s\n", i,
			eng, s->s[0].len, k->s[0].len, k->s[0].len >= s->s[0].len ? " (contents differ)" : "");
		return 1;
	}
	return 0;
}

/* both verifiers refuse perf_pkt_data; 0 when they do */
static unsigned pkt_data_refused(const char *path)
{
	struct bpf_object *o = bpf_object__open_file(path, NULL);
	struct sl_obj_opts oo = { .sz = sizeof(oo), .ncpus = 1 };
	struct sl_obj *so = sl_obj_open(path, &oo, NULL, 0);
	struct sl_prog *p = so ? sl_obj_find_prog(so, "perf_pkt_data") : NULL;
	char err[256] = "";
	bool kernel, sluice;

	if (!o || !p)
		return fprintf(stderr, "FAIL cannot open %s twice\n", path), 1;
	bpf_program__set_autoload(bpf_object__find_program_by_name(o, "perf_out"), false);
	kernel = bpf_object__load(o) != 0;
	sluice = sl_prog_verify(p, 0, NULL, err, sizeof(err)) != 0;
	printf("perf_pkt_data: kernel %s, sluice %s (%s)\n", kernel ? "refuses" : "accepts",
	       sluice ? "refuses" : "accepts", err);
	bpf_object__close(o);
	sl_obj_close(so);
	return !kernel || !sluice;
}

int main(int argc, char **argv)
{
	unsigned count = argc > 2 ? (unsigned)strtoul(argv[2], NULL, 0) : 2000, bad = 0, sent = 0;
	int ncpus = libbpf_num_possible_cpus();
	struct samples ks = { 0 }, ss = { 0 };
	static uint8_t in[MAXPKT], out[MAXPKT];
	struct bpf_object *obj;
	struct bpf_program *prog;
	struct perf_buffer *pb;
	struct sside s = { 0 };
	cpu_set_t set;

	if (argc < 2)
		return fprintf(stderr, "usage: %s OBJ [COUNT [SEED]]\n", argv[0]), 2;
	if (argc > 3)
		rng = strtoull(argv[3], NULL, 0) | 1;
	printf("seed 0x%llx, %u requests, %d CPUs\n", (unsigned long long)rng, count, ncpus);
	if (ncpus < 1 || ncpus > SL_MAX_CPUS)
		return fprintf(stderr, "FAIL possible CPUs: %d\n", ncpus), 1;
	if (sluice_load(&s, argv[1], (unsigned)ncpus))
		return fprintf(stderr, "FAIL sluice: %s\n", s.err), 1;
	CPU_ZERO(&set);
	CPU_SET(0, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		return perror("sched_setaffinity"), 1;
	libbpf_set_print(NULL);
	obj = bpf_object__open_file(argv[1], NULL);
	if (obj)
		bpf_program__set_autoload(bpf_object__find_program_by_name(obj, "perf_pkt_data"),
					  false);
	if (!obj || bpf_object__load(obj)) {
		printf("SKIP: the kernel refuses to load the program (%s)\n", strerror(errno));
		return 77;
	}
	prog = bpf_object__find_program_by_name(obj, "perf_out");
	pb = perf_buffer__new(bpf_object__find_map_fd_by_name(obj, "events"), 16, kernel_sample,
			      NULL, &ks, NULL);
	if (!prog || !pb) {
		printf("SKIP: the kernel refuses perf events (%s)\n", strerror(errno));
		return 77;
	}
	bad += pkt_data_refused(argv[1]);
	sl_map_set_cpu(0);
	for (unsigned i = 0; i < count && bad < 20; i++) {
		uint32_t len = make_req(in);
		LIBBPF_OPTS(bpf_test_run_opts, ro, .data_in = in, .data_size_in = len,
			    .data_out = out, .data_size_out = sizeof(out), .repeat = 1);
		int64_t kr, sr;

		if (bpf_prog_test_run_opts(bpf_program__fd(prog), &ro))
			return fprintf(stderr, "FAIL test run: %s\n", strerror(errno)), 1;
		memcpy(&kr, out, 8);
		ks.n = 0;
		perf_buffer__consume(pb);
		sent += ks.n;
		for (int jit = 0; jit < 2; jit++) {
			sr = sluice_run(&s, in, len, jit);
			ss.n = 0;
			sl_map_perf_event_consume(s.map, sluice_sample, &ss);
			bad += (unsigned)compare(i, jit ? "jit" : "interp", kr, sr, &ks, &ss);
		}
	}
	perf_buffer__free(pb);
	bpf_object__close(obj);
	sl_jit_free(s.jit);
	sl_obj_close(s.obj);
	printf("%s: %u mismatches over %u requests (%u samples)\n", bad ? "FAIL" : "ok", bad, count,
	       sent);
	return bad ? 1 : 0;
}
