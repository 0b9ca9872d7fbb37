/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * BPF_MAP_TYPE_PERF_EVENT_ARRAY and bpf_perf_event_output (XDP variant):
 * creation checks as the kernel's, every error code of
 * __bpf_perf_event_output / bpf_xdp_event_output, samples delivered whole
 * and in order across ring wrap-arounds, full rings counted as lost, and
 * two workers writing while the control thread consumes (every sample
 * either delivered, in sequence, or counted lost; nothing torn).
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sl_helpers.h"
#include "sl_maps.h"
#include "sl_test.h"

#define P(x) ((uint64_t)(uintptr_t)(x))

static struct sl_map *perf_map(uint32_t max_entries, unsigned ncpus)
{
	struct sl_map_def d = { BPF_MAP_TYPE_PERF_EVENT_ARRAY, 4, 4, max_entries, 0 };

	return sl_map_create("perf", &d, ncpus);
}

static void test_create(void)
{
	struct sl_map_def bad_key = { BPF_MAP_TYPE_PERF_EVENT_ARRAY, 8, 4, 4, 0 };
	struct sl_map_def bad_val = { BPF_MAP_TYPE_PERF_EVENT_ARRAY, 4, 8, 4, 0 };
	struct sl_map_def bad_flag = { BPF_MAP_TYPE_PERF_EVENT_ARRAY, 4, 4, 4, BPF_F_NO_PREALLOC };
	struct sl_map *m;
	uint32_t k = 0, v = 0;

	errno = 0;
	CHECK(!sl_map_create("p", &bad_key, 2) && errno == EINVAL);
	CHECK(!sl_map_create("p", &bad_val, 2) && errno == EINVAL);
	CHECK(!sl_map_create("p", &bad_flag, 2) && errno == EINVAL);
	m = perf_map(0, 3);   /* 0: one entry per CPU, as libbpf sets it */
	CHECK(m && sl_map_get_def(m)->max_entries == 3);
	CHECK(!strcmp(sl_map_type_name(BPF_MAP_TYPE_PERF_EVENT_ARRAY), "perf_event_array"));
	/* no elements to read or write from either side */
	CHECK(sl_map_lookup_elem(m, &k) == NULL);
	CHECK_EQ(sl_map_ctl_lookup(m, &k, &v), -EOPNOTSUPP);
	CHECK_EQ(sl_map_perf_event_consume(m, NULL, NULL), 0);
	CHECK_EQ(sl_map_perf_event_lost(m), 0);
	sl_map_destroy(m);
}

struct got {
	unsigned n;
	uint32_t cpu[64], len[64];
	uint8_t data[64][256];
};

static int collect(uint32_t cpu, const void *data, uint32_t len, void *ctx)
{
	struct got *g = ctx;

	if (g->n < 64) {
		g->cpu[g->n] = cpu;
		g->len[g->n] = len;
		memcpy(g->data[g->n], data, len < 256 ? len : 256);
	}
	g->n++;
	return 0;
}

static void test_errors(void)
{
	struct sl_map *m = perf_map(8, 2);   /* rings for slots 0 and 1 only */
	uint8_t buf[70000] = { 1, 2, 3 };
	struct got g = { 0 };

	sl_map_set_cpu(1);
	CHECK_EQ(sl_map_perf_event_output(m, 8, buf, 4, NULL, 0), -E2BIG);
	CHECK_EQ(sl_map_perf_event_output(m, 5, buf, 4, NULL, 0), -ENOENT);
	CHECK_EQ(sl_map_perf_event_output(m, 0, buf, 4, NULL, 0), -EOPNOTSUPP);
	CHECK_EQ(sl_map_perf_event_output(m, 1, buf, 3, NULL, 0), 0);
	CHECK_EQ(sl_map_perf_event_output(m, BPF_F_CURRENT_CPU, buf, 0, buf + 1, 2), 0);
	CHECK_EQ(sl_map_perf_event_output(m, BPF_F_CURRENT_CPU, buf, sizeof(buf), NULL, 0), -E2BIG);
	CHECK_EQ(sl_map_perf_event_consume(m, collect, &g), 2);
	CHECK(g.n == 2 && g.cpu[0] == 1 && g.len[0] == 3 && !memcmp(g.data[0], buf, 3));
	CHECK(g.cpu[1] == 1 && g.len[1] == 2 && g.data[1][0] == 2 && g.data[1][1] == 3);
	CHECK_EQ(sl_map_perf_event_consume(m, collect, &g), 0);
	/* fill the ring: the sample that does not fit is lost, -ENOSPC */
	{
		unsigned ok = 0;
		long r;

		while ((r = sl_map_perf_event_output(m, 1, buf, 1000, NULL, 0)) == 0)
			ok++;
		CHECK_EQ(r, -ENOSPC);
		CHECK_EQ(ok, SL_PERF_RING_SIZE / 1008);
		CHECK_EQ(sl_map_perf_event_lost(m), 1);
		g.n = 0;
		CHECK_EQ(sl_map_perf_event_consume(m, collect, &g), ok);
		CHECK_EQ(sl_map_perf_event_output(m, 1, buf, 1000, NULL, 0), 0);
	}
	sl_map_set_cpu(0);
	sl_map_destroy(m);
}

/* the XDP helper: flags carry the index and the packet bytes to append */
static void test_helper(void)
{
	const struct sl_helper *h = sl_helper_get(BPF_FUNC_perf_event_output);
	struct sl_map *m = perf_map(0, 1);
	uint8_t pkt[64], meta[6] = "meta!";
	struct sl_xdp_ctx x = { 0 };
	struct got g = { 0 };
	uint64_t ctx = P(&x), mp = P(m);

	for (unsigned i = 0; i < sizeof(pkt); i++)
		pkt[i] = (uint8_t)(i * 7);
	x.data = pkt;
	x.data_end = pkt + sizeof(pkt);
	CHECK(h && h->prog_types == (1u << SL_PROG_XDP));
	CHECK(h->args[0] == SL_ARG_PTR_TO_CTX && h->args[1] == SL_ARG_CONST_MAP_PTR &&
	      h->args[3] == SL_ARG_PTR_TO_MEM && h->args[4] == SL_ARG_CONST_SIZE_OR_ZERO);
	CHECK_EQ(h->fn(ctx, mp, BPF_F_CURRENT_CPU | (20ull << 32), P(meta), 5), 0);
	CHECK_EQ(h->fn(ctx, mp, 0, P(meta), 6), 0);
	CHECK_EQ(h->fn(ctx, mp, BPF_F_CURRENT_CPU | (64ull << 32), 0, 0), 0);
	CHECK_EQ((long)h->fn(ctx, mp, BPF_F_CURRENT_CPU | (65ull << 32), P(meta), 5), -EFAULT);
	CHECK_EQ((long)h->fn(ctx, mp, 1ull << 60, P(meta), 5), -EINVAL);     /* above CTXLEN */
	CHECK_EQ((long)h->fn(ctx, mp, 1, P(meta), 5), -E2BIG);               /* index 1 of 1 */
	CHECK_EQ(sl_map_perf_event_consume(m, collect, &g), 3);
	CHECK(g.len[0] == 25 && !memcmp(g.data[0], meta, 5) && !memcmp(g.data[0] + 5, pkt, 20));
	CHECK(g.len[1] == 6 && !memcmp(g.data[1], meta, 6));
	CHECK(g.len[2] == 64 && !memcmp(g.data[2], pkt, 64));
	sl_map_destroy(m);
}

/* ---- two workers and a consumer ---- */

struct stress {
	struct sl_map *map;
	atomic_bool stop;
	uint64_t sent[2], failed[2];
};

struct producer_arg {
	struct stress *s;
	uint32_t cpu;
};

/* worker @p cpu: numbered samples of 8 to 72 bytes until told to stop */
static void *producer(void *arg)
{
	struct producer_arg *a = arg;
	struct stress *s = a->s;
	uint64_t seq = 0;

	sl_map_set_cpu(a->cpu);
	while (!atomic_load(&s->stop)) {
		uint64_t rec[9];
		unsigned words = 1 + (unsigned)(seq % 9);

		for (unsigned i = 0; i < words; i++)
			rec[i] = seq * 16 + i;
		if (sl_map_perf_event_output(s->map, BPF_F_CURRENT_CPU, rec, words * 8, NULL, 0))
			s->failed[a->cpu]++;
		seq++;
	}
	s->sent[a->cpu] = seq;
	return NULL;
}

struct seen {
	uint64_t next[2], got[2], gaps[2];
	unsigned bad;
};

static int verify(uint32_t cpu, const void *data, uint32_t len, void *ctx)
{
	struct seen *v = ctx;
	uint64_t rec[9], seq;

	memcpy(rec, data, len <= sizeof(rec) ? len : sizeof(rec));
	seq = rec[0] / 16;
	if (cpu > 1 || len != 8 * (1 + seq % 9) || seq < v->next[cpu]) {
		v->bad++;
		return 0;
	}
	for (unsigned i = 0; i < len / 8; i++)
		if (rec[i] != seq * 16 + i)
			v->bad++;
	v->gaps[cpu] += seq - v->next[cpu];
	v->next[cpu] = seq + 1;
	v->got[cpu]++;
	return 0;
}

static void test_stress(void)
{
	struct stress s = { .map = perf_map(2, 2) };
	struct producer_arg pa[2] = { { &s, 0 }, { &s, 1 } };
	struct seen v = { 0 };
	pthread_t t[2];
	struct timespec end, now;

	for (int c = 0; c < 2; c++)
		pthread_create(&t[c], NULL, producer, &pa[c]);
	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += 1;
	do {
		sl_map_perf_event_consume(s.map, verify, &v);
		clock_gettime(CLOCK_MONOTONIC, &now);
	} while (now.tv_sec < end.tv_sec || (now.tv_sec == end.tv_sec && now.tv_nsec < end.tv_nsec));
	atomic_store(&s.stop, true);
	pthread_join(t[0], NULL);
	pthread_join(t[1], NULL);
	sl_map_perf_event_consume(s.map, verify, &v);
	CHECK_EQ(v.bad, 0);
	for (int c = 0; c < 2; c++) {
		/* every sample sent was delivered, in order, or refused as lost */
		CHECK_EQ(v.got[c] + s.failed[c], s.sent[c]);
		CHECK_EQ(v.gaps[c] + (s.sent[c] - v.next[c]), s.failed[c]);
		CHECK(v.got[c] > 1000);
	}
	CHECK_EQ(sl_map_perf_event_lost(s.map), s.failed[0] + s.failed[1]);
	printf("stress: cpu0 %llu sent, %llu lost; cpu1 %llu sent, %llu lost\n",
	       (unsigned long long)s.sent[0], (unsigned long long)s.failed[0],
	       (unsigned long long)s.sent[1], (unsigned long long)s.failed[1]);
	sl_map_destroy(s.map);
}

int main(void)
{
	test_create();
	test_errors();
	test_helper();
	test_stress();
	return sl_test_done("maps_perf_event");
}
