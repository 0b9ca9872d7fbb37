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

#include "sl_maps.h"
#include "sl_test_bpf.h"

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

static struct sl_rng rng = { 0x2545f4914f6cdd1dull, SL_RNG_XORSHIFT };

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

/* the program's map "events" */
static struct sl_map *events_map(struct sl_obj *obj)
{
	for (unsigned i = 0; i < sl_obj_map_count(obj); i++)
		if (!strcmp(sl_map_name(sl_obj_map(obj, i)), "events"))
			return sl_obj_map(obj, i);
	return NULL;
}

static int64_t sluice_run(struct sl_test_prog *s, const uint8_t *in, uint32_t len, bool jit)
{
	static uint8_t buf[HEADROOM + MAXPKT + 256];
	struct sl_xdp_ctx x;
	int64_t r;

	sl_test_xdp_frame(&x, buf, HEADROOM, in, len, sizeof(buf) - HEADROOM - len, false, 0);
	sl_test_prog_exec(s, &x, jit);
	memcpy(&r, buf + HEADROOM, 8);
	return r;
}

/* a random request; returns the packet length */
static uint32_t make_req(uint8_t *p)
{
	uint32_t len = HDR + 64 + (uint32_t)(sl_rng_u64(&rng) % (MAXPKT - HDR - 64));
	uint64_t ctxlen = sl_rng_u64(&rng) % (len + 1), flags;

	switch (sl_rng_u64(&rng) % 10) {
	case 0: flags = 0; break;                        /* index 0: this CPU */
	case 1: flags = 1; break;                        /* another CPU's event */
	case 2: flags = 1000; break;                     /* past max_entries */
	case 3: flags = BPF_F_CURRENT_CPU | (1ull << 60); break;  /* bad bits */
	case 4: ctxlen = len + 1 + sl_rng_u64(&rng) % 16; flags = BPF_F_CURRENT_CPU; break;
	default: flags = BPF_F_CURRENT_CPU; break;
	}
	flags |= ctxlen << 32;
	for (uint32_t i = 0; i < len; i++)
		p[i] = (uint8_t)sl_rng_u64(&rng);
	memcpy(p, &flags, 8);
	p[8] = (uint8_t)(sl_rng_u64(&rng) % 80);   /* meta_len: above 64 is clamped by the program */
	p[9] = p[10] = p[11] = 0;
	return len;
}

static void compare(unsigned i, const char *eng, int64_t kr, int64_t sr, const struct samples *k,
		    const struct samples *s)
{
	if (!CHECK(kr == sr && k->n == s->n,
		   "MISMATCH request %u (%s): return %lld kernel %lld, samples %u kernel %u",
		   i, eng, (long long)sr, (long long)kr, s->n, k->n) || !k->n)
		return;
	CHECK(k->s[0].len == ((s->s[0].len + 4 + 7) & ~7u) - 4 &&
	      !memcmp(k->s[0].b, s->s[0].b, s->s[0].len),
	      "MISMATCH request %u (%s): sample of %u bytes, kernel %u bytes%s", i,
	      eng, s->s[0].len, k->s[0].len, k->s[0].len >= s->s[0].len ? " (contents differ)" : "");
}

/* both verifiers must refuse perf_pkt_data */
static void pkt_data_refused(const char *path)
{
	int err;
	struct bpf_object *o = sl_test_kernel_open(path, "perf_pkt_data", NULL, &err);
	struct sl_test_prog s;
	bool kernel = !o, sluice = sl_test_prog_open(&s, path, "perf_pkt_data", 1, false) != 0;

	printf("perf_pkt_data: kernel %s, sluice %s (%s)\n", kernel ? "refuses" : "accepts",
	       sluice ? "refuses" : "accepts", s.err);
	CHECK(kernel && sluice, "perf_pkt_data must be refused by both verifiers");
	bpf_object__close(o);
	sl_test_prog_close(&s);
}

int main(int argc, char **argv)
{
	unsigned count = argc > 2 ? (unsigned)strtoul(argv[2], NULL, 0) : 2000, sent = 0;
	int ncpus = libbpf_num_possible_cpus();
	struct samples ks = { 0 }, ss = { 0 };
	static uint8_t in[MAXPKT], out[MAXPKT];
	struct bpf_object *obj;
	struct perf_buffer *pb;
	struct sl_test_prog s;
	struct sl_map *events;
	cpu_set_t set;
	int fd, err;

	if (argc < 2)
		return fprintf(stderr, "usage: %s OBJ [COUNT [SEED]]\n", argv[0]), 2;
	if (argc > 3)
		rng.s = strtoull(argv[3], NULL, 0) | 1;
	sl_test_seed(rng.s);
	printf("seed 0x%llx, %u requests, %d CPUs\n", (unsigned long long)rng.s, count, ncpus);
	if (ncpus < 1 || ncpus > SL_MAX_CPUS)
		return FAIL("possible CPUs: %d", ncpus), 1;
	if (sl_test_prog_open(&s, argv[1], "perf_out", (unsigned)ncpus, true))
		return FAIL("sluice: %s", s.err), 1;
	if (!(events = events_map(s.obj)))
		return FAIL("sluice: no map 'events'"), 1;
	CPU_ZERO(&set);
	CPU_SET(0, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		return perror("sched_setaffinity"), 1;
	sl_test_kernel_quiet();
	obj = sl_test_kernel_open(argv[1], "perf_out", &fd, &err);
	if (!obj)
		return sl_test_skip("the kernel refuses to load the program (%s)", strerror(-err));
	pb = perf_buffer__new(bpf_object__find_map_fd_by_name(obj, "events"), 16, kernel_sample,
			      NULL, &ks, NULL);
	if (!pb)
		return sl_test_skip("the kernel refuses perf events (%s)", strerror(errno));
	pkt_data_refused(argv[1]);
	sl_map_set_cpu(0);
	for (unsigned i = 0; i < count && sl_test_failures() < 20; i++) {
		uint32_t len = make_req(in), olen = sizeof(out), kret;
		int64_t kr, sr;

		err = sl_test_kernel_run(fd, in, len, out, &olen, &kret);
		if (err)
			return FAIL("test run: %s", strerror(-err)), 1;
		memcpy(&kr, out, 8);
		ks.n = 0;
		perf_buffer__consume(pb);
		sent += ks.n;
		for (int jit = 0; jit < 2; jit++) {
			sr = sluice_run(&s, in, len, jit);
			ss.n = 0;
			sl_map_perf_event_consume(events, sluice_sample, &ss);
			compare(i, jit ? "jit" : "interp", kr, sr, &ks, &ss);
		}
	}
	perf_buffer__free(pb);
	bpf_object__close(obj);
	sl_test_prog_close(&s);
	printf("%u requests (%u samples)\n", count, sent);
	return sl_test_done("maps_perf_kdiff");
}
