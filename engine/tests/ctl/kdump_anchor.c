/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * kdump_anchor: make bench's kernel anchor for the dump bench (bench_ctl.py,
 * not a test). What a dump of a map that a data path keeps writing costs
 * that data path when both are the kernel's: the same program (maps_mix.bpf.o)
 * loaded into the kernel, its HASH by_src filled with the same 10,000 keys,
 * run by BPF_PROG_TEST_RUN over the same pcap's frames (each frame REPEAT
 * times in one call: the syscall amortised; every frame's source MAC
 * written as in the engine) by a writer thread on one CPU, while a thread
 * on another CPU dumps by_src with the kernel's own batched dump
 * (BPF_MAP_LOOKUP_BATCH, what a fast `bpftool map dump` would be) in a loop,
 * switched on and off in alternating slots. No NIC is needed: the program
 * runs on the writer's CPU, in the kernel, as it would from a driver.
 *
 * usage: kdump_anchor OBJ PCAP WRITER_CPU DUMPER_CPU ROUNDS
 * prints one line: rounds, the writer's packets per CPU second with and
 * without the dumper (the ratio's median and quartiles), dumps per second,
 * and the writer's CPU time lost per dump and per by_src entry the frames
 * write (their distinct source MACs), comparable with the engine's
 * reading client's line. Exit 77 when the kernel refuses the program
 * (no BPF here), 1 on bad input.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_FRAMES 4096
#define REPEAT 64
#define SLOT_NS 300000000ull
#define SETTLE_NS 60000000ull
#define FILL 10000

struct frame {
	uint8_t *data;
	uint32_t len;
};

static struct frame frames[MAX_FRAMES];
static unsigned nframes, nhot;
static int prog_fd, map_fd;
static atomic_bool quit, dumping;
static _Atomic uint64_t pkts, dumps, writer_ns;

static uint64_t now_ns(clockid_t c)
{
	struct timespec t;

	clock_gettime(c, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static void pin(int cpu)
{
	cpu_set_t s;

	CPU_ZERO(&s);
	CPU_SET(cpu, &s);
	if (pthread_setaffinity_np(pthread_self(), sizeof(s), &s)) {
		fprintf(stderr, "kdump_anchor: cannot run on CPU %d\n", cpu);
		exit(1);
	}
}

/* the frames of @p path (classic pcap, either byte order) and their distinct source MACs */
static int read_pcap(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t gh[24], rh[16], macs[MAX_FRAMES][6];
	bool swap;

	if (!f || fread(gh, 1, 24, f) != 24) {
		fprintf(stderr, "kdump_anchor: %s: cannot read a pcap header\n", path);
		return -1;
	}
	swap = gh[0] == 0xa1;
	while (nframes < MAX_FRAMES && fread(rh, 1, 16, f) == 16) {
		uint32_t n = swap ? (uint32_t)rh[8] << 24 | rh[9] << 16 | rh[10] << 8 | rh[11] :
				    (uint32_t)rh[11] << 24 | rh[10] << 16 | rh[9] << 8 | rh[8];
		uint8_t *d = n <= 65536 ? malloc(n ? n : 1) : NULL;
		unsigned i;

		if (!d || fread(d, 1, n, f) != n) {
			fprintf(stderr, "kdump_anchor: %s: frame %u cut short\n", path, nframes);
			return -1;
		}
		frames[nframes++] = (struct frame){d, n};
		for (i = 0; n >= 12 && i < nhot && memcmp(macs[i], d + 6, 6); i++)
			;
		if (n >= 12 && i == nhot)
			memcpy(macs[nhot++], d + 6, 6);
	}
	fclose(f);
	return nframes ? 0 : -1;
}

/* the program over every frame, REPEAT runs a call; packets and CPU time published together */
static void *writer(void *arg)
{
	uint64_t n = 0;

	pin(*(int *)arg);
	while (!atomic_load(&quit))
		for (unsigned i = 0; i < nframes; i++) {
			LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frames[i].data,
				    .data_size_in = frames[i].len, .repeat = REPEAT);

			/* (the kernel refuses XDP frames under 14 bytes: the engine counts them in .bss only) */
			if (frames[i].len >= 14 && !bpf_prog_test_run_opts(prog_fd, &o))
				n += REPEAT;
			if (i % 32 == 31 || i == nframes - 1) {
				atomic_store(&writer_ns, now_ns(CLOCK_THREAD_CPUTIME_ID));
				atomic_store(&pkts, n);
			}
		}
	return NULL;
}

static void *dumper(void *arg)
{
	static uint8_t keys[65536 * 6];
	static uint64_t vals[65536];

	pin(*(int *)arg);
	while (!atomic_load(&quit)) {
		uint32_t out = 0, count = 65536;
		bool first = true;
		long got = 0;

		if (!atomic_load(&dumping)) {
			usleep(1000);
			continue;
		}
		for (;;) {
			int r = bpf_map_lookup_batch(map_fd, first ? NULL : &out, &out, keys, vals,
						     &count, NULL);

			got += count;
			if (r)
				break;
			first = false;
			count = 65536;
		}
		if (got < FILL) {
			fprintf(stderr, "kdump_anchor: a dump returned %ld entries\n", got);
			exit(1);
		}
		atomic_fetch_add(&dumps, 1);
	}
	return NULL;
}

/* one slot: (packets per writer CPU second, writer CPU s, dumps) over its measured part */
static void slot(bool on, double *rate, double *cpu, double *nd)
{
	uint64_t p0, c0, d0;

	atomic_store(&dumping, on);
	usleep(SETTLE_NS / 1000);
	p0 = atomic_load(&pkts), c0 = atomic_load(&writer_ns), d0 = atomic_load(&dumps);
	usleep((SLOT_NS - SETTLE_NS) / 1000);
	*cpu = (double)(atomic_load(&writer_ns) - c0) * 1e-9;
	*rate = *cpu > 0 ? (double)(atomic_load(&pkts) - p0) / *cpu : 0;
	*nd = (double)(atomic_load(&dumps) - d0);
	atomic_store(&dumping, false);
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int load(const char *path)
{
	struct bpf_object *obj = bpf_object__open_file(path, NULL);
	struct bpf_program *p;

	if (!obj || !(p = bpf_object__find_program_by_name(obj, "maps_mix"))) {
		fprintf(stderr, "kdump_anchor: %s: no program maps_mix\n", path);
		return 1;
	}
	bpf_program__set_type(p, BPF_PROG_TYPE_XDP);
	if (bpf_object__load(obj)) {
		fprintf(stderr, "kdump_anchor: the kernel did not load %s\n", path);
		return 77;
	}
	prog_fd = bpf_program__fd(p);
	map_fd = bpf_object__find_map_fd_by_name(obj, "by_src");
	for (uint64_t i = 0; i < FILL; i++) {
		uint8_t k[6] = {0xee, 0, 0, (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i};

		if (bpf_map_update_elem(map_fd, k, &i, BPF_ANY)) {
			fprintf(stderr, "kdump_anchor: by_src: update: %s\n", strerror(errno));
			return 1;
		}
	}
	return 0;
}

static double median_of(double *x, int n, double f)
{
	qsort(x, (size_t)n, sizeof(*x), cmp);
	return x[(int)(f * (n - 1) + 0.5)];
}

int main(int argc, char **argv)
{
	int wcpu, dcpu, rounds, err;
	double *ratio, lost = 0, ndumps = 0, on_s = 0, r0, r1, r2, c1, c, d1, d;
	pthread_t tw, td;

	if (argc != 6 || (rounds = atoi(argv[5])) < 1) {
		fprintf(stderr, "usage: kdump_anchor OBJ PCAP WRITER_CPU DUMPER_CPU ROUNDS\n");
		return 1;
	}
	wcpu = atoi(argv[3]), dcpu = atoi(argv[4]);
	libbpf_set_print(NULL);
	if (read_pcap(argv[2]))
		return 1;
	if ((err = load(argv[1])))
		return err;
	ratio = calloc((size_t)rounds, sizeof(*ratio));
	if (!ratio || pthread_create(&tw, NULL, writer, &wcpu) ||
	    pthread_create(&td, NULL, dumper, &dcpu)) {
		fprintf(stderr, "kdump_anchor: cannot start the threads\n");
		return 1;
	}
	usleep(300000);
	slot(false, &r0, &c, &d);
	for (int i = 0; i < rounds; i++) {
		slot(true, &r1, &c1, &d1);
		slot(false, &r2, &c, &d);
		ratio[i] = r1 / ((r0 + r2) / 2);
		lost += c1 * (1 - ratio[i]);  /* the writer's CPU s beyond what its packets took unloaded */
		ndumps += d1;
		on_s += (double)(SLOT_NS - SETTLE_NS) * 1e-9;
		r0 = r2;
	}
	atomic_store(&quit, true);
	pthread_join(tw, NULL);
	pthread_join(td, NULL);
	printf("kernel anchor (kdump_anchor: %s in the kernel, BPF_PROG_TEST_RUN of the pcap's %u frames "
	       "x %d on CPU %d; BPF_MAP_LOOKUP_BATCH dumps of by_src, %d + %u entries, on CPU %d; "
	       "%d rounds of %.2f s slots): writer's packets per CPU second dumping / not, median "
	       "%.3f (quartiles %.3f-%.3f) at %.1f dumps/s; writer time lost per dump %.0f us, %.0f ns "
	       "per entry the frames write (%u of them)\n", argv[1], nframes, REPEAT, wcpu, FILL,
	       nhot, dcpu, rounds, SLOT_NS * 1e-9, median_of(ratio, rounds, 0.5),
	       median_of(ratio, rounds, 0.25), median_of(ratio, rounds, 0.75), ndumps / on_s,
	       ndumps ? lost / ndumps * 1e6 : 0.0, ndumps && nhot ? lost / ndumps / nhot * 1e9 : 0.0,
	       nhot);
	free(ratio);
	return 0;
}
