/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bench_maps: ns per lookup of sluice maps beside DPDK's rte_hash (lock-free
 * read concurrency flag) and rte_lpm, on the same keys, in one run.
 * Not a test: it prints figures. EAL is started with --no-huge --no-pci
 * and a per-process --file-prefix for rte_hash/rte_lpm (--in-memory is
 * refused together with --no-huge by DPDK 22.11), --no-shconf so that its
 * runtime directory stays empty and is removed at exit; sluice maps need
 * no EAL.
 *
 *   HASH      65536 random keys of 4, 8, 16 bytes, value 8 bytes; lookups
 *             of present keys (hit) and absent keys (miss) in random order.
 *             sluice: sl_map_lookup_elem (what the helper calls);
 *             rte_hash: rte_hash_lookup_data, one key per call.
 *   LPM       10000 random IPv4 prefixes (half /24, half /8../32) in both;
 *             lookups of random addresses, results cross-checked.
 *   ARRAY     sl_map_lookup_elem on ARRAY and PERCPU_ARRAY of 256 u64.
 *   UPDATE    writes to a HASH of 65536 entries from an online worker slot
 *             (sl_map_quiescent() every 32 writes, as a worker per burst):
 *             replace an existing key (BPF_ANY: a new element swapped in,
 *             the old one retired), and delete + insert of a key; beside
 *             rte_hash_add_key_data (existing key: its data pointer
 *             overwritten in place) and rte_hash_del_key + add_key_data
 *             (the deleted slot freed at once, without a grace period).
 *
 * Each figure twice: throughput (independent lookups, whose cache misses
 * the CPU overlaps) and latency (each lookup's key depends on the previous
 * result, as with one lookup per packet).
 *
 * usage: bench_maps [rounds [hash|lpm|array|update]]   (best of `rounds` passes, default 5)
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wvla"  /* rte_lpm.h's bulk lookup uses a VLA */
#include <rte_lpm.h>
#pragma GCC diagnostic pop

#include "sl_maps.h"
#include "sl_test.h"

#define NKEYS 65536
#define NLOOK (1 << 20)
#define NPREFIX 10000

static struct sl_rng rng = { 0x243f6a8885a308d3ull, SL_RNG_XORSHIFT };
static int rounds = 5;

/* CPU time of this thread: time other processes take on a shared machine does not count */
static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

typedef uint64_t (*lookup_fn)(void *tbl, const uint8_t *keys, uint32_t ksz, uint32_t n);

/* ns per lookup of one pass of n lookups */
static double pass(lookup_fn fn, void *tbl, const uint8_t *keys, uint32_t ksz, uint32_t n,
		   uint64_t *found)
{
	double t0 = now_ns();

	*found = fn(tbl, keys, ksz, n);
	return (now_ns() - t0) / n;
}

/*
 * Best ns per lookup of two contenders over `rounds` alternating passes
 * (a, b, a, b, ...), so that both see the same machine load.
 */
static void bench2(lookup_fn fa, void *ta, lookup_fn fb, void *tb, const uint8_t *keys,
		   uint32_t ksz, uint32_t n, double best[2], uint64_t found[2])
{
	best[0] = best[1] = 1e30;
	for (int r = 0; r < rounds; r++) {
		double a = pass(fa, ta, keys, ksz, n, &found[0]);
		double b = fb ? pass(fb, tb, keys, ksz, n, &found[1]) : 0;

		best[0] = a < best[0] ? a : best[0];
		best[1] = b < best[1] ? b : best[1];
	}
}

/*
 * Two ways to time n lookups: independent ones (throughput: the CPU
 * overlaps their cache misses), and dependent ones (latency: the key of
 * lookup i+1 depends on the result of lookup i through `zero`, a 0 the
 * compiler cannot see, as when a program does one lookup per packet).
 */
static volatile uint64_t zero_src;
static int dependent;

static uint64_t sl_lookups(void *tbl, const uint8_t *keys, uint32_t ksz, uint32_t n)
{
	uint64_t hits = 0, z = zero_src, last = 0;

	if (!dependent) {
		for (uint32_t i = 0; i < n; i++)
			hits += sl_map_lookup_elem(tbl, keys + (size_t)i * ksz) != NULL;
		return hits;
	}
	for (uint32_t i = 0; i < n; i++) {
		last = (uintptr_t)sl_map_lookup_elem(tbl, keys + (size_t)(i + (last & z)) * ksz);
		hits += last != 0;
	}
	return hits;
}

static uint64_t rte_lookups(void *tbl, const uint8_t *keys, uint32_t ksz, uint32_t n)
{
	uint64_t hits = 0, z = zero_src;
	int64_t last = 0;
	void *data;

	if (!dependent) {
		for (uint32_t i = 0; i < n; i++)
			hits += rte_hash_lookup_data(tbl, keys + (size_t)i * ksz, &data) >= 0;
		return hits;
	}
	for (uint32_t i = 0; i < n; i++) {
		last = rte_hash_lookup_data(tbl, keys + (size_t)(i + ((uint64_t)last & z)) * ksz,
					    &data);
		hits += last >= 0;
	}
	return hits;
}

/* A sluice HASH and an rte_hash (lock-free readers) of NKEYS @p ksz-byte keys to u64. */
static void hash_pair(uint32_t ksz, const char *prefix, struct sl_map **m, struct rte_hash **h)
{
	struct sl_map_def def = {BPF_MAP_TYPE_HASH, ksz, 8, NKEYS, 0};
	char name[32];
	struct rte_hash_parameters p = {
		.name = name, .entries = NKEYS, .key_len = ksz, .hash_func = rte_hash_crc,
		.socket_id = (int)SOCKET_ID_ANY,
		.extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF,
	};

	snprintf(name, sizeof(name), "%s%u", prefix, ksz);
	*m = sl_map_create("bench", &def, 1);
	*h = rte_hash_create(&p);
	if (!*m || !*h) {
		fprintf(stderr, "bench_maps: cannot create the %u-byte tables\n", ksz);
		exit(1);
	}
}

static void bench_hash(uint32_t ksz)
{
	struct sl_map *m;
	struct rte_hash *h;
	uint8_t *keys = malloc((size_t)NKEYS * 2 * ksz), *hit = malloc((size_t)NLOOK * ksz);
	uint8_t *miss = malloc((size_t)NLOOK * ksz);
	uint32_t inserted = 0;
	uint64_t fh[2], fm[2];
	double th[2], tm[2];

	hash_pair(ksz, "bench", &m, &h);
	if (!keys || !hit || !miss) {
		fprintf(stderr, "bench_maps: cannot create the %u-byte tables\n", ksz);
		exit(1);
	}
	for (size_t i = 0; i < (size_t)NKEYS * 2 * ksz; i += 8) {  /* a multiple of 8 */
		uint64_t r = sl_rng_u64(&rng);

		memcpy(keys + i, &r, 8);
	}
	/* keys [0, NKEYS) go in both tables (those rte_hash accepts); the rest are misses */
	for (uint32_t i = 0; i < NKEYS; i++) {
		uint64_t v = i;

		if (rte_hash_add_key_data(h, keys + (size_t)i * ksz, (void *)(uintptr_t)(i + 1)))
			continue;
		if (sl_map_update_elem(m, keys + (size_t)i * ksz, &v, BPF_ANY) == 0)
			memmove(keys + (size_t)inserted++ * ksz, keys + (size_t)i * ksz, ksz);
	}
	for (uint32_t i = 0; i < NLOOK; i++) {
		memcpy(hit + (size_t)i * ksz, keys + (sl_rng_u64(&rng) % inserted) * ksz, ksz);
		memcpy(miss + (size_t)i * ksz, keys + (NKEYS + sl_rng_u64(&rng) % NKEYS) * ksz, ksz);
	}
	bench2(sl_lookups, m, rte_lookups, h, hit, ksz, NLOOK, th, fh);
	bench2(sl_lookups, m, rte_lookups, h, miss, ksz, NLOOK, tm, fm);
	printf("HASH %2u-byte keys, %u entries   hit: sluice %6.1f ns  rte_hash %6.1f ns"
	       "   miss: sluice %6.1f ns  rte_hash %6.1f ns%s\n", ksz, inserted, th[0], th[1],
	       tm[0], tm[1], fh[0] == fh[1] && fh[0] == NLOOK && fm[0] == fm[1] ? "" :
	       "  (RESULTS DIFFER)");
	rte_hash_free(h);
	sl_map_destroy(m);
	free(keys), free(hit), free(miss);
}

/* ns per write of `rounds` alternating passes, best each; keys present in both tables */
typedef void (*write_fn)(void *tbl, const uint8_t *keys, uint32_t ksz, uint32_t n);

static void sl_replace(void *tbl, const uint8_t *keys, uint32_t ksz, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		uint64_t v = i;

		if (sl_map_update_elem(tbl, keys + (size_t)i * ksz, &v, BPF_ANY))
			fprintf(stderr, "bench_maps: update failed\n"), exit(1);
		if ((i & 31) == 31)
			sl_map_quiescent();
	}
}

static void sl_churn(void *tbl, const uint8_t *keys, uint32_t ksz, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		uint64_t v = i;

		if (sl_map_delete_elem(tbl, keys + (size_t)i * ksz) ||
		    sl_map_update_elem(tbl, keys + (size_t)i * ksz, &v, BPF_NOEXIST))
			fprintf(stderr, "bench_maps: delete/insert failed\n"), exit(1);
		if ((i & 31) == 31)
			sl_map_quiescent();
	}
}

static void rte_replace(void *tbl, const uint8_t *keys, uint32_t ksz, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		if (rte_hash_add_key_data(tbl, keys + (size_t)i * ksz, (void *)(uintptr_t)(i + 1)))
			fprintf(stderr, "bench_maps: rte_hash update failed\n"), exit(1);
}

static void rte_churn(void *tbl, const uint8_t *keys, uint32_t ksz, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		int32_t pos = rte_hash_del_key(tbl, keys + (size_t)i * ksz);

		/* lock-free mode keeps a deleted slot until freed: freed at once (no grace period) */
		if (pos < 0 || rte_hash_free_key_with_position(tbl, pos) ||
		    rte_hash_add_key_data(tbl, keys + (size_t)i * ksz, (void *)(uintptr_t)(i + 1)))
			fprintf(stderr, "bench_maps: rte_hash delete/insert failed\n"), exit(1);
	}
}

static void write2(write_fn fa, void *ta, write_fn fb, void *tb, const uint8_t *keys,
		   uint32_t ksz, uint32_t n, double best[2])
{
	best[0] = best[1] = 1e30;
	for (int r = 0; r < rounds; r++) {
		double t0 = now_ns(), a, b;

		fa(ta, keys, ksz, n);
		a = (now_ns() - t0) / n;
		t0 = now_ns();
		fb(tb, keys, ksz, n);
		b = (now_ns() - t0) / n;
		best[0] = a < best[0] ? a : best[0];
		best[1] = b < best[1] ? b : best[1];
	}
}

static void bench_update(uint32_t ksz)
{
	struct sl_map *m;
	struct rte_hash *h;
	uint8_t *keys = malloc((size_t)NKEYS * ksz), *seq = malloc((size_t)NLOOK * ksz);
	uint32_t n = 0;
	double tr[2], tc[2];

	hash_pair(ksz, "upd", &m, &h);
	if (!keys || !seq) {
		fprintf(stderr, "bench_maps: cannot create the %u-byte tables\n", ksz);
		exit(1);
	}
	sl_map_worker_online(0);
	for (uint32_t i = 0; i < NKEYS / 2; i++) {  /* half full: room for rte_hash's buckets */
		uint64_t v = i;

		for (uint32_t j = 0; j < ksz; j += 4)
			*(uint32_t *)(void *)(keys + (size_t)n * ksz + j) = (uint32_t)sl_rng_u64(&rng);
		if (rte_hash_add_key_data(h, keys + (size_t)n * ksz, (void *)(uintptr_t)1) == 0 &&
		    sl_map_update_elem(m, keys + (size_t)n * ksz, &v, BPF_ANY) == 0)
			n++;
	}
	for (uint32_t i = 0; i < NLOOK; i++)
		memcpy(seq + (size_t)i * ksz, keys + (sl_rng_u64(&rng) % n) * ksz, ksz);
	write2(sl_replace, m, rte_replace, h, seq, ksz, NLOOK, tr);
	write2(sl_churn, m, rte_churn, h, seq, ksz, NLOOK, tc);
	printf("UPDATE %2u-byte keys, %u entries   replace: sluice %6.1f ns  rte_hash %6.1f ns"
	       "   delete+insert: sluice %6.1f ns  rte_hash %6.1f ns\n", ksz, n, tr[0], tr[1],
	       tc[0], tc[1]);
	sl_map_worker_offline();
	rte_hash_free(h);
	sl_map_destroy(m);
	free(keys), free(seq);
}

struct lpm_pair {
	struct sl_map *m;
	struct rte_lpm *r;
};

static uint64_t sl_lpm_lookups(void *tbl, const uint8_t *addrs, uint32_t ksz, uint32_t n)
{
	struct { uint32_t prefixlen; uint32_t addr_be; } k = {32, 0};
	uint64_t sum = 0, z = dependent ? zero_src : 0, last = 0;

	for (uint32_t i = 0; i < n; i++) {
		const uint32_t *v;

		memcpy(&k.addr_be, addrs + (size_t)(i + (last & z)) * 4, 4);
		k.addr_be = __builtin_bswap32(k.addr_be);
		v = sl_map_lookup_elem(tbl, &k);
		last = v ? *v : 0;
		sum += last;
	}
	return sum;
}

static uint64_t rte_lpm_lookups(void *tbl, const uint8_t *addrs, uint32_t ksz, uint32_t n)
{
	uint64_t sum = 0, z = dependent ? zero_src : 0, last = 0;

	for (uint32_t i = 0; i < n; i++) {
		uint32_t ip, nh = 0;

		memcpy(&ip, addrs + (size_t)(i + (last & z)) * 4, 4);
		last = rte_lpm_lookup(tbl, ip, &nh) == 0 ? nh : 0;
		sum += last;
	}
	return sum;
}

static void lpm_fill(struct sl_map *m, struct rte_lpm *r)
{
	struct { uint32_t prefixlen; uint32_t addr_be; } k;

	for (uint32_t i = 0; i < NPREFIX; i++) {
		uint32_t len = i % 2 ? 24 : 8 + (uint32_t)(sl_rng_u64(&rng) % 25);
		uint32_t ip = (uint32_t)sl_rng_u64(&rng) & (uint32_t)(~0ull << (32 - len));
		uint32_t nh = 1 + (uint32_t)(sl_rng_u64(&rng) % 100000);

		k.prefixlen = len;
		k.addr_be = __builtin_bswap32(ip);
		if (rte_lpm_add(r, ip, (uint8_t)len, nh) ||
		    sl_map_update_elem(m, &k, &nh, BPF_ANY)) {
			fprintf(stderr, "bench_maps: cannot add prefix %u\n", i);
			exit(1);
		}
	}
}

static void bench_lpm(void)
{
	struct sl_map_def def = {BPF_MAP_TYPE_LPM_TRIE, 8, 4, NPREFIX, BPF_F_NO_PREALLOC};
	struct rte_lpm_config cfg = {.max_rules = NPREFIX * 2, .number_tbl8s = 1 << 14};
	struct sl_map *m = sl_map_create("lpm", &def, 1);
	struct rte_lpm *r = rte_lpm_create("bench", (int)SOCKET_ID_ANY, &cfg);
	uint32_t *addrs = malloc(NLOOK * 4u);
	uint64_t f[2];
	double t[2];

	if (!m || !r || !addrs) {
		fprintf(stderr, "bench_maps: cannot create the LPM tables\n");
		exit(1);
	}
	lpm_fill(m, r);
	for (uint32_t i = 0; i < NLOOK; i++)
		addrs[i] = (uint32_t)sl_rng_u64(&rng);
	bench2(sl_lpm_lookups, m, rte_lpm_lookups, r, (const uint8_t *)addrs, 4, NLOOK, t, f);
	printf("LPM  IPv4, %u prefixes, random addresses:  sluice %6.1f ns  rte_lpm %6.1f ns%s\n",
	       NPREFIX, t[0], t[1], f[0] == f[1] ? "  (same next hops)" : "  (RESULTS DIFFER)");
	rte_lpm_free(r);
	sl_map_destroy(m);
	free(addrs);
}

static void bench_array(uint32_t type, const char *label)
{
	struct sl_map_def def = {type, 4, 8, 256, 0};
	struct sl_map *m = sl_map_create("arr", &def, 2);
	uint32_t *idx = malloc(NLOOK * 4u);
	uint64_t f[2];
	double t[2];

	if (!m || !idx)
		exit(1);
	for (uint32_t i = 0; i < NLOOK; i++)
		idx[i] = (uint32_t)(sl_rng_u64(&rng) % 256);
	bench2(sl_lookups, m, NULL, NULL, (const uint8_t *)idx, 4, NLOOK, t, f);
	printf("%-12s 256 x u64, sl_map_lookup_elem:  %6.1f ns\n", label, t[0]);
	sl_map_destroy(m);
	free(idx);
}

int main(int argc, char **argv)
{
	const char *only = argc > 2 ? argv[2] : NULL;
	char prefix[48];
	char *eal[] = {"bench_maps", "--no-huge", "--no-pci", "-m", "512", "--file-prefix", prefix,
		       "--no-shconf", "-l", "0", "--log-level", "error", "--no-telemetry"};
	char rundir[512];

	snprintf(prefix, sizeof(prefix), "bench_maps_%d", (int)getpid());
	if (argc > 1)
		rounds = atoi(argv[1]) > 0 ? atoi(argv[1]) : 5;
	if (rte_eal_init((int)(sizeof(eal) / sizeof(eal[0])), eal) < 0) {
		fprintf(stderr, "bench_maps: rte_eal_init failed\n");
		rmdir(rte_eal_get_runtime_dir());
		return 1;
	}
	/* --no-shconf: the runtime directory stays empty; removed after cleanup */
	snprintf(rundir, sizeof(rundir), "%s", rte_eal_get_runtime_dir());
	for (dependent = 0; dependent < 2; dependent++) {
		printf("%s: ns per lookup, best of %d passes of %u lookups\n",
		       dependent ? "latency (each lookup waits for the previous)" :
		       "throughput (independent lookups)", rounds, NLOOK);
		if (!only || !strcmp(only, "hash")) {
			bench_hash(4);
			bench_hash(8);
			bench_hash(16);
		}
		if (!only || !strcmp(only, "lpm"))
			bench_lpm();
		if (!only || !strcmp(only, "array")) {
			bench_array(BPF_MAP_TYPE_ARRAY, "ARRAY");
			bench_array(BPF_MAP_TYPE_PERCPU_ARRAY, "PERCPU_ARRAY");
		}
	}
	if (!only || !strcmp(only, "update")) {
		printf("writes from one online worker: ns per write, best of %d passes of %u\n",
		       rounds, NLOOK);
		bench_update(4);
		bench_update(16);
		bench_update(40);
	}
	rte_eal_cleanup();
	rmdir(rundir);
	return 0;
}
