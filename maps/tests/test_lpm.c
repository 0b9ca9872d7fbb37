/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * LPM_TRIE against a brute-force reference: random IPv4 and 3-byte
 * prefixes inserted and deleted, every lookup compared with a linear scan
 * for the longest matching prefix (of length <= the key's prefixlen, as
 * the kernel matches); kernel errors (flags, -ENOSPC, -ENOENT, -EEXIST,
 * BPF_F_NO_PREALLOC required) and iteration visiting each prefix once.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sl_maps.h"
#include "sl_test.h"

#define MAXP 600

struct key4 { uint32_t prefixlen; uint8_t data[4]; };

struct ref {
	uint32_t plen[MAXP];
	uint8_t data[MAXP][4];
	uint32_t val[MAXP];
	int n;
};

static struct sl_rng rng = { 88172645463325252ull, SL_RNG_XORSHIFT };

/* the low 32 bits of the generator, as this test has always drawn them */
static uint32_t rnd32(void)
{
	return (uint32_t)sl_rng_u64(&rng);
}

static int prefix_match(const uint8_t *p, const uint8_t *a, uint32_t plen)
{
	for (uint32_t b = 0; b < plen; b++)
		if (((p[b / 8] >> (7 - b % 8)) & 1) != ((a[b / 8] >> (7 - b % 8)) & 1))
			return 0;
	return 1;
}

/* reference: value of the longest prefix with length <= maxlen matching a */
static int ref_lookup(const struct ref *r, const uint8_t *a, uint32_t maxlen, uint32_t *val)
{
	int best = -1;

	for (int i = 0; i < r->n; i++)
		if (r->plen[i] <= maxlen && prefix_match(r->data[i], a, r->plen[i]) &&
		    (best < 0 || r->plen[i] > r->plen[best]))
			best = i;
	if (best >= 0)
		*val = r->val[best];
	return best >= 0;
}

static int ref_find(const struct ref *r, const uint8_t *d, uint32_t plen)
{
	for (int i = 0; i < r->n; i++)
		if (r->plen[i] == plen && prefix_match(r->data[i], d, plen))
			return i;
	return -1;
}

static void check_lookups(struct sl_map *m, const struct ref *r, unsigned dsize, int n)
{
	for (int i = 0; i < n; i++) {
		struct key4 k = {32, {0}};
		uint32_t want = 0, *got;
		int has;

		for (unsigned b = 0; b < dsize; b++)
			k.data[b] = (uint8_t)rnd32();
		if (i % 2 && r->n) {  /* half the probes inside a stored prefix */
			int j = (int)(rnd32() % (uint32_t)r->n);

			memcpy(k.data, r->data[j], dsize > 1 ? dsize - 1 : 1);
		}
		k.prefixlen = i % 7 == 0 ? rnd32() % (dsize * 8 + 1) : dsize * 8;
		has = ref_lookup(r, k.data, k.prefixlen, &want);
		got = sl_map_lookup_elem(m, &k);
		CHECK(has == (got != NULL));
		if (has && got)
			CHECK_EQ(*got, want);
	}
}

static void random_prefix(uint8_t *d, uint32_t *plen, unsigned dsize)
{
	static const uint32_t lens4[] = {0, 1, 7, 8, 9, 12, 15, 16, 17, 20, 23, 24, 25, 28, 31, 32};

	for (unsigned b = 0; b < dsize; b++)
		d[b] = (uint8_t)(rnd32() & (b < 2 ? 0x03 : 0xff));  /* cluster: overlaps */
	*plen = dsize == 4 ? lens4[rnd32() % 16] : rnd32() % (dsize * 8 + 1);
	for (uint32_t b = *plen; b < dsize * 8; b++)
		d[b / 8] &= (uint8_t)~(0x80 >> (b % 8));
}

static void run_random(unsigned dsize)
{
	struct sl_map_def def = {BPF_MAP_TYPE_LPM_TRIE, 4 + dsize, 4, MAXP, BPF_F_NO_PREALLOC};
	struct sl_map *m = sl_map_create("lpm", &def, 1);
	struct ref *r = calloc(1, sizeof(*r));

	CHECK(m != NULL && r != NULL);
	for (int round = 0; round < 3000; round++) {
		struct key4 k = {0, {0}};
		uint32_t v = rnd32();
		int at;

		random_prefix(k.data, &k.prefixlen, dsize);
		at = ref_find(r, k.data, k.prefixlen);
		if (round % 3 == 2 && r->n) {  /* delete an existing prefix */
			int j = (int)(rnd32() % (uint32_t)r->n);

			k.prefixlen = r->plen[j];
			memcpy(k.data, r->data[j], 4);
			CHECK_EQ(sl_map_delete_elem(m, &k), 0);
			CHECK_EQ(sl_map_delete_elem(m, &k), -ENOENT);
			r->n--;
			r->plen[j] = r->plen[r->n], r->val[j] = r->val[r->n];
			memcpy(r->data[j], r->data[r->n], 4);
		} else if (at >= 0) {
			CHECK_EQ(sl_map_update_elem(m, &k, &v, BPF_NOEXIST), -EEXIST);
			CHECK_EQ(sl_map_update_elem(m, &k, &v, BPF_EXIST), 0);
			r->val[at] = v;
		} else if (r->n < MAXP) {
			CHECK_EQ(sl_map_update_elem(m, &k, &v, BPF_EXIST), -ENOENT);
			CHECK_EQ(sl_map_update_elem(m, &k, &v, BPF_ANY), 0);
			r->plen[r->n] = k.prefixlen, r->val[r->n] = v;
			memcpy(r->data[r->n++], k.data, 4);
		}
		if (round % 100 == 0)
			check_lookups(m, r, dsize, 200);
	}
	check_lookups(m, r, dsize, 5000);
	CHECK_EQ(sl_map_ctl_count(m), r->n);
	free(r);
	sl_map_destroy(m);
}

static void test_semantics(void)
{
	struct sl_map_def def = {BPF_MAP_TYPE_LPM_TRIE, 8, 8, 3, BPF_F_NO_PREALLOC};
	struct sl_map *m;
	struct key4 k = {24, {10, 1, 2, 99}}, nk;
	uint64_t v = 1, out;
	int seen[3] = {0}, n = 0, r;

	def.map_flags = 0;
	CHECK(!sl_map_create("l", &def, 1) && errno == EINVAL);   /* NO_PREALLOC required */
	def.map_flags = BPF_F_NO_PREALLOC;
	def.key_size = 4;
	CHECK(!sl_map_create("l", &def, 1) && errno == EINVAL);
	def.key_size = 8;
	m = sl_map_create("l", &def, 1);
	CHECK(m != NULL);
	CHECK_EQ(sl_map_update_elem(m, &k, &v, 3), -EINVAL);
	k.prefixlen = 33;
	CHECK_EQ(sl_map_update_elem(m, &k, &v, BPF_ANY), -EINVAL);
	k.prefixlen = 24;
	CHECK_EQ(sl_map_update_elem(m, &k, &v, BPF_ANY), 0);      /* 10.1.2.0/24 */
	k = (struct key4){8, {10, 7, 7, 7}};
	v = 2;
	CHECK_EQ(sl_map_update_elem(m, &k, &v, BPF_ANY), 0);      /* 10.0.0.0/8 */
	k = (struct key4){0, {0}};
	v = 3;
	CHECK_EQ(sl_map_update_elem(m, &k, &v, BPF_ANY), 0);      /* default */
	k = (struct key4){16, {10, 1}};
	CHECK_EQ(sl_map_update_elem(m, &k, &v, BPF_ANY), -ENOSPC);
	k = (struct key4){32, {10, 1, 2, 3}};
	CHECK_EQ(sl_map_ctl_lookup(m, &k, &out), 0);
	CHECK_EQ(out, 1);
	k = (struct key4){32, {10, 1, 3, 3}};
	CHECK_EQ(*(uint64_t *)sl_map_lookup_elem(m, &k), 2);
	k = (struct key4){23, {10, 1, 2, 3}};  /* at most 23 bits: /24 cannot match */
	CHECK_EQ(*(uint64_t *)sl_map_lookup_elem(m, &k), 2);
	k = (struct key4){32, {11, 1, 2, 3}};
	CHECK_EQ(*(uint64_t *)sl_map_lookup_elem(m, &k), 3);
	/* delete is exact-prefix: /24 stays when /16 is asked */
	k = (struct key4){16, {10, 1, 2, 0}};
	CHECK_EQ(sl_map_delete_elem(m, &k), -ENOENT);
	k = (struct key4){8, {10, 99, 0, 0}};  /* bits past the prefix are ignored */
	CHECK_EQ(sl_map_delete_elem(m, &k), 0);
	k = (struct key4){32, {10, 1, 3, 3}};
	CHECK_EQ(*(uint64_t *)sl_map_lookup_elem(m, &k), 3);
	for (r = sl_map_ctl_get_next_key(m, NULL, &nk); r == 0;
	     r = sl_map_ctl_get_next_key(m, &k, &nk)) {
		CHECK(nk.prefixlen == 24 || nk.prefixlen == 0);
		seen[nk.prefixlen ? 1 : 0]++;
		k = nk;
		n++;
	}
	CHECK(n == 2 && seen[0] == 1 && seen[1] == 1);
	CHECK_EQ(nk.prefixlen == 24 ? nk.data[2] : 2, 2);
	sl_map_destroy(m);
}

/* reclamation as in test_hash.c: no reuse under an online reader, -EBUSY, then reuse */
static void test_reclaim(void)
{
	struct sl_map_def def = {BPF_MAP_TYPE_LPM_TRIE, 8, 8, 4, BPF_F_NO_PREALLOC};
	struct sl_map *m = sl_map_create("l", &def, 1);
	struct key4 k = {16, {10, 1}};
	uint64_t v = 100, *old;
	int n = 0;
	long r = 0;

	CHECK_EQ(sl_map_update_elem(m, &k, &v, BPF_ANY), 0);
	CHECK_EQ(sl_map_worker_online(0), 0);
	old = sl_map_lookup_elem(m, &(struct key4){32, {10, 1, 2, 3}});
	CHECK(old != NULL);
	while (n < 100000 && (r = sl_map_update_elem(m, &k, &(uint64_t){n + 1000}, BPF_ANY)) == 0)
		n++;
	CHECK_EQ(r, -EBUSY);
	CHECK(n >= 256 && n < 100000);
	CHECK_EQ(*old, 100);
	sl_map_quiescent();
	CHECK_EQ(sl_map_update_elem(m, &k, &v, BPF_ANY), 0);
	CHECK_EQ(sl_map_ctl_update(m, &k, &v, BPF_ANY), 0);
	sl_map_worker_offline();
	sl_map_destroy(m);
}

int main(void)
{
	test_reclaim();
	test_semantics();
	run_random(4);
	run_random(3);
	run_random(1);
	return sl_test_done("maps_lpm");
}
