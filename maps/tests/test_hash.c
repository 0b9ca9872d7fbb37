/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * HASH, PERCPU_HASH, LRU_HASH, LRU_PERCPU_HASH and DEVMAP_HASH semantics
 * against the kernel's documented behaviour (Documentation/bpf/map_hash.rst,
 * kernel/bpf/hashtab.c errors): flags, -EEXIST/-ENOENT/-E2BIG, iteration
 * visiting every key once, per-CPU slots and sums, LRU eviction; every
 * key size, through the generic functions and the JIT's direct ones.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sl_maps.h"
#include "sl_test.h"
#include "../maps_internal.h"   /* map_rcu_read_begin/end: the control thread's read section */

static struct sl_map *mk(uint32_t type, uint32_t ks, uint32_t vs, uint32_t max, uint32_t flags,
			 unsigned ncpus)
{
	struct sl_map_def d = {type, ks, vs, max, flags};

	return sl_map_create("h", &d, ncpus);
}

struct key12 { uint32_t a, b, c; };

static void test_create(void)
{
	CHECK(!mk(BPF_MAP_TYPE_HASH, 0, 4, 4, 0, 1) && errno == EINVAL);
	CHECK(!mk(BPF_MAP_TYPE_HASH, 4, 0, 4, 0, 1) && errno == EINVAL);
	CHECK(!mk(BPF_MAP_TYPE_HASH, 4, 4, 0, 0, 1) && errno == EINVAL);
	CHECK(!mk(BPF_MAP_TYPE_HASH, 4, 4, 4, BPF_F_MMAPABLE, 1) && errno == EINVAL);
	CHECK(!mk(BPF_MAP_TYPE_HASH, 4, 4, 4, BPF_F_NO_COMMON_LRU, 1) && errno == EINVAL);
	CHECK(!mk(BPF_MAP_TYPE_LRU_HASH, 4, 4, 4, BPF_F_NO_PREALLOC, 1) && errno == ENOTSUP);
	CHECK(!mk(BPF_MAP_TYPE_DEVMAP_HASH, 8, 4, 4, 0, 1) && errno == EINVAL);
	struct sl_map *m = mk(BPF_MAP_TYPE_HASH, 4, 4, 4, BPF_F_NO_PREALLOC, 1);
	CHECK(m != NULL);  /* accepted, still preallocated */
	sl_map_destroy(m);
}

static int dump_cb(const void *key, const void *value, void *ctx)
{
	uint32_t *seen = ctx;
	const struct key12 *k = key;

	seen[k->a]++;
	if (*(const uint64_t *)value != k->a * 3ull)
		seen[0] = 1000;  /* wrong value: fail below */
	return 0;
}

static void test_hash(void)
{
	struct sl_map *m = mk(BPF_MAP_TYPE_HASH, 12, 8, 100, 0, 4);
	struct key12 k = {1, 2, 3}, nk;
	uint64_t v = 7, out;
	uint32_t seen[101] = {0}, n;
	int r;

	CHECK(m != NULL);
	CHECK_EQ(sl_map_ncpus(m), 1);
	CHECK(sl_map_lookup_elem(m, &k) == NULL);
	CHECK_EQ(sl_map_ctl_lookup(m, &k, &out), -ENOENT);
	CHECK_EQ(sl_map_update_elem(m, &k, &v, BPF_EXIST), -ENOENT);
	CHECK_EQ(sl_map_update_elem(m, &k, &v, 4), -EINVAL);
	CHECK_EQ(sl_map_update_elem(m, &k, &v, BPF_NOEXIST), 0);
	CHECK_EQ(sl_map_update_elem(m, &k, &v, BPF_NOEXIST), -EEXIST);
	CHECK_EQ(*(uint64_t *)sl_map_lookup_elem(m, &k), 7);
	v = 8;
	CHECK_EQ(sl_map_update_elem(m, &k, &v, BPF_EXIST), 0);
	CHECK_EQ(sl_map_ctl_lookup(m, &k, &out), 0);
	CHECK_EQ(out, 8);
	CHECK_EQ(sl_map_delete_elem(m, &k), 0);
	CHECK_EQ(sl_map_delete_elem(m, &k), -ENOENT);
	CHECK_EQ(sl_map_ctl_get_next_key(m, NULL, &nk), -ENOENT);  /* empty */
	/* fill to max_entries, then -E2BIG; replacing still works when full */
	for (uint32_t i = 1; i <= 100; i++) {
		k = (struct key12){i, i * 7, ~i};
		v = i * 3ull;
		CHECK_EQ(sl_map_ctl_update(m, &k, &v, BPF_ANY), 0);
	}
	k = (struct key12){1000, 0, 0};
	CHECK_EQ(sl_map_update_elem(m, &k, &v, BPF_ANY), -E2BIG);
	k = (struct key12){5, 35, ~5u};
	v = 15;
	CHECK_EQ(sl_map_update_elem(m, &k, &v, BPF_ANY), 0);
	for (int rep = 0; rep < 3000; rep++)  /* churn reuses retired elements */
		CHECK_EQ(sl_map_update_elem(m, &k, &v, BPF_EXIST), 0);
	CHECK_EQ(sl_map_ctl_count(m), 100);
	/* get_next_key visits each key exactly once */
	n = 0;
	for (r = sl_map_ctl_get_next_key(m, NULL, &nk); r == 0;
	     r = sl_map_ctl_get_next_key(m, &k, &nk)) {
		CHECK(nk.a >= 1 && nk.a <= 100 && nk.b == nk.a * 7 && nk.c == ~nk.a);
		seen[nk.a]++;
		k = nk;
		n++;
	}
	CHECK_EQ(r, -ENOENT);
	CHECK_EQ(n, 100);
	for (uint32_t i = 1; i <= 100; i++)
		CHECK_EQ(seen[i], 1);
	/* a missing key restarts from the first key */
	k = (struct key12){5000, 1, 1};
	CHECK_EQ(sl_map_ctl_get_next_key(m, &k, &nk), 0);
	CHECK(nk.a >= 1 && nk.a <= 100);
	memset(seen, 0, sizeof(seen));
	CHECK_EQ(sl_map_ctl_dump(m, dump_cb, seen), 0);
	for (uint32_t i = 1; i <= 100; i++)
		CHECK_EQ(seen[i], 1);
	CHECK_EQ(seen[0], 0);
	/* delete all, then it is empty again */
	for (uint32_t i = 1; i <= 100; i++) {
		k = (struct key12){i, i * 7, ~i};
		CHECK_EQ(sl_map_ctl_delete(m, &k), 0);
	}
	CHECK_EQ(sl_map_ctl_count(m), 0);
	CHECK_EQ(sl_map_ctl_get_next_key(m, NULL, &nk), -ENOENT);
	sl_map_destroy(m);
}

static int count_cb(const void *key, const void *value, void *ctx)
{
	uint8_t *seen = ctx;
	uint32_t k;

	memcpy(&k, key, 4);
	if (k < 20000 && *(const uint64_t *)value == k + 1ull)
		seen[k]++;
	else
		seen[20000] = 1;  /* a key or value that was never stored: fail below */
	return 0;
}

/*
 * A dump in parts (sl_map_ctl_dump_part): 20,000 entries in 65,536
 * buckets, parts of about one entry: the parts resume where the previous
 * one stopped, visit every key exactly once together, and end with
 * SL_MAP_DUMP_END; a type without parts (ARRAY) does all in its first.
 */
static void test_dump_parts(void)
{
	struct sl_map *m = mk(BPF_MAP_TYPE_HASH, 4, 8, 20000, 0, 1);
	struct sl_map *a = sl_map_create("a", &(struct sl_map_def){BPF_MAP_TYPE_ARRAY, 4, 8, 16, 0}, 1);
	uint8_t *seen = calloc(20001, 1);
	uint64_t cursor = 0, v;
	unsigned parts = 0;

	CHECK(m && a && seen);
	for (uint32_t k = 0; k < 20000; k++)
		CHECK_EQ(sl_map_ctl_update(m, &k, &(uint64_t){k + 1ull}, BPF_NOEXIST), 0);
	while (cursor != SL_MAP_DUMP_END && parts < 1000000) {
		CHECK_EQ(sl_map_ctl_dump_part(m, &cursor, 1, count_cb, seen), 0);
		parts++;
	}
	CHECK(parts > 16 && parts <= 20000 + 16);  /* a chunk: >= 1 entry or 4096 buckets */
	for (uint32_t k = 0; k <= 20000; k++)
		CHECK_EQ(seen[k], k < 20000);
	CHECK_EQ(sl_map_ctl_dump_part(m, &cursor, 1, count_cb, seen), 0);  /* over: nothing */
	CHECK_EQ(seen[0], 1);
	memset(seen, 0, 20001);
	cursor = 0;
	for (uint32_t k = 0; k < 16; k++)
		CHECK_EQ(sl_map_ctl_update(a, &k, &(uint64_t){k + 1ull}, BPF_ANY), 0);
	CHECK_EQ(sl_map_ctl_dump_part(a, &cursor, 1, count_cb, seen), 0);
	CHECK_EQ(cursor, SL_MAP_DUMP_END);
	v = 0;
	for (uint32_t k = 0; k < 16; k++)
		v += seen[k];
	CHECK_EQ(v, 16);
	free(seen);
	sl_map_destroy(a);
	sl_map_destroy(m);
}

static void test_percpu_hash(void)
{
	struct sl_map *m = mk(BPF_MAP_TYPE_PERCPU_HASH, 4, 8, 16, 0, 3);
	uint64_t vals[3], sum, one = 1;
	uint32_t k = 42;

	CHECK(m != NULL);
	CHECK_EQ(sl_map_ctl_value_size(m), 24);
	/* a worker's insert sets its slot and zeroes the others */
	sl_map_set_cpu(1);
	CHECK_EQ(sl_map_update_elem(m, &k, &(uint64_t){5}, BPF_NOEXIST), 0);
	CHECK_EQ(sl_map_ctl_lookup(m, &k, vals), 0);
	CHECK(vals[0] == 0 && vals[1] == 5 && vals[2] == 0);
	for (uint32_t c = 0; c < 3; c++) {
		uint64_t *p;

		sl_map_set_cpu(c);
		p = sl_map_lookup_elem(m, &k);
		CHECK(p == sl_map_lookup_percpu_elem(m, &k, c));
		*p += 10;
	}
	sl_map_set_cpu(3);  /* a slot beyond the map's: refused, never out of bounds */
	CHECK(sl_map_lookup_elem(m, &k) == NULL);
	CHECK_EQ(sl_map_update_elem(m, &k, &one, BPF_ANY), -EINVAL);
	sl_map_set_cpu(2);
	CHECK_EQ(sl_map_update_elem(m, &k, &one, BPF_EXIST), 0);  /* own slot only */
	CHECK_EQ(sl_map_update_elem(m, &k, &one, BPF_NOEXIST), -EEXIST);
	sl_map_set_cpu(0);
	CHECK_EQ(sl_map_ctl_lookup(m, &k, vals), 0);
	CHECK(vals[0] == 10 && vals[1] == 15 && vals[2] == 1);
	CHECK_EQ(sl_map_ctl_sum_u64(m, &k, &sum), 0);
	CHECK_EQ(sum, 26);
	CHECK(sl_map_lookup_percpu_elem(m, &k, 3) == NULL);
	vals[0] = 1, vals[1] = 2, vals[2] = 3;
	CHECK_EQ(sl_map_ctl_update(m, &(uint32_t){7}, vals, BPF_ANY), 0);
	CHECK_EQ(sl_map_ctl_sum_u64(m, &(uint32_t){7}, &sum), 0);
	CHECK_EQ(sum, 6);
	CHECK_EQ(*(uint64_t *)sl_map_lookup_percpu_elem(m, &(uint32_t){7}, 2), 3);
	CHECK_EQ(sl_map_ctl_sum_u64(m, &(uint32_t){8}, &sum), -ENOENT);
	/* a control update of an existing key writes the slots in place */
	{
		uint64_t *p1 = sl_map_lookup_percpu_elem(m, &(uint32_t){7}, 1);

		vals[0] = 7, vals[1] = 8, vals[2] = 9;
		CHECK_EQ(sl_map_ctl_update(m, &(uint32_t){7}, vals, BPF_EXIST), 0);
		CHECK_EQ(*p1, 8);
		CHECK(p1 == sl_map_lookup_percpu_elem(m, &(uint32_t){7}, 1));
		CHECK_EQ(sl_map_ctl_update(m, &(uint32_t){7}, vals, BPF_NOEXIST), -EEXIST);
	}
	sl_map_destroy(m);
}

static void test_lru(uint32_t type, unsigned ncpus)
{
	struct sl_map *m = mk(type, 4, 8, 64, 0, ncpus);
	uint64_t v[4] = {0};
	uint32_t k, present = 0, hot_present = 0;

	CHECK(m != NULL);
	for (k = 0; k < 64; k++)
		CHECK_EQ(sl_map_ctl_update(m, &k, v, BPF_NOEXIST), 0);
	CHECK_EQ(sl_map_ctl_count(m), 64);
	/* keys 0..15 are hot: looked up between every insert */
	for (k = 1000; k < 1200; k++) {
		for (uint32_t h = 0; h < 16; h++)
			CHECK(sl_map_lookup_elem(m, &h) != NULL);
		CHECK_EQ(sl_map_update_elem(m, &k, v, BPF_ANY), 0);  /* never -E2BIG */
	}
	CHECK(sl_map_ctl_count(m) <= 64);
	for (k = 0; k < 16; k++)
		hot_present += sl_map_lookup_elem(m, &k) != NULL;
	for (k = 1000; k < 1200; k++)
		present += sl_map_lookup_elem(m, &k) != NULL;
	CHECK_EQ(hot_present, 16);  /* referenced entries survive the sweep */
	CHECK(present >= 40);       /* the newest cold keys are kept */
	CHECK(sl_map_lookup_elem(m, &(uint32_t){1199}) != NULL);
	sl_map_destroy(m);
}

static void test_devmap_hash(void)
{
	struct sl_map *m = mk(BPF_MAP_TYPE_DEVMAP_HASH, 4, 4, 8, 0, 1);
	uint32_t ifindex = 0, val = 2;

	CHECK(m != NULL);
	CHECK_EQ(sl_map_devmap_get(m, 1000, &ifindex), -ENOENT);
	CHECK_EQ(sl_map_ctl_update(m, &(uint32_t){1000}, &val, BPF_ANY), 0);
	CHECK_EQ(sl_map_devmap_get(m, 1000, &ifindex), 0);
	CHECK_EQ(ifindex, 2);
	CHECK_EQ(sl_map_update_elem(m, &(uint32_t){5}, &val, BPF_ANY), -EOPNOTSUPP);
	CHECK_EQ(sl_map_ctl_delete(m, &(uint32_t){1000}), 0);
	CHECK_EQ(sl_map_ctl_delete(m, &(uint32_t){1000}), -ENOENT);
	CHECK_EQ(sl_map_devmap_get(m, 1000, &ifindex), -ENOENT);
	sl_map_destroy(m);
}

/*
 * Reclamation: while this thread is an online worker that has not passed
 * a quiescent state, replaced elements are not reused (a pointer from an
 * earlier lookup still reads its old value); once the spare elements are
 * used up, updates get -EBUSY; after sl_map_quiescent() they succeed again.
 * (16-byte values: an update builds a new element.)
 */
static void test_reclaim(void)
{
	struct sl_map *m = mk(BPF_MAP_TYPE_HASH, 4, 16, 4, 0, 1);
	uint32_t k = 1;
	uint64_t v[2] = {100, 7}, *old;
	int n = 0;
	long r = 0;

	CHECK_EQ(sl_map_update_elem(m, &k, v, BPF_ANY), 0);
	CHECK_EQ(sl_map_worker_online(0), 0);
	old = sl_map_lookup_elem(m, &k);
	while (n < 100000 &&
	       (r = sl_map_update_elem(m, &k, (uint64_t[2]){n + 1000, 7}, BPF_ANY)) == 0)
		n++;
	CHECK_EQ(r, -EBUSY);
	CHECK(n >= 1024 && n < 100000);
	CHECK_EQ(old[0], 100);  /* never reused under this reader */
	CHECK_EQ(*(uint64_t *)sl_map_lookup_elem(m, &k), n - 1 + 1000);
	sl_map_quiescent();
	CHECK_EQ(sl_map_update_elem(m, &k, v, BPF_ANY), 0);
	sl_map_worker_offline();
	for (int i = 0; i < 5000; i++)  /* nobody online: reused at once */
		CHECK_EQ(sl_map_update_elem(m, &k, v, BPF_ANY), 0);
	CHECK_EQ(sl_map_worker_online(SL_MAX_CPUS), -EINVAL);
	sl_map_destroy(m);
}

/*
 * The control thread's read section (what a hash dump walks in): while it
 * lasts, a thread that is not a worker holds reuse back as an online
 * worker does (no worker online here, so outside it reuse is immediate).
 * Values of 16 bytes: smaller ones are updated in place (test_in_place).
 */
static void test_read_section(void)
{
	struct sl_map *m = mk(BPF_MAP_TYPE_HASH, 4, 16, 4, 0, 1);
	uint32_t k = 1;
	uint64_t v[2] = { 100, 7 }, *old;
	int n = 0;
	long r = 0;

	CHECK_EQ(sl_map_update_elem(m, &k, v, BPF_ANY), 0);
	CHECK(map_rcu_read_begin());
	old = sl_map_lookup_elem(m, &k);
	while (n < 100000 && (r = sl_map_update_elem(m, &k, (uint64_t[2]){n + 1000, 7}, BPF_ANY)) == 0)
		n++;
	CHECK_EQ(r, -EBUSY);
	CHECK(n >= 1024 && n < 100000);
	CHECK_EQ(old[0], 100);  /* never reused inside the section */
	map_rcu_read_end();
	CHECK_EQ(sl_map_update_elem(m, &k, v, BPF_ANY), 0);
	for (int i = 0; i < 5000; i++)  /* section over, nobody online: reused at once */
		CHECK_EQ(sl_map_update_elem(m, &k, v, BPF_ANY), 0);
	map_rcu_read_end();  /* no section: nothing to end */
	sl_map_destroy(m);
}

/*
 * Values of at most 8 bytes: an update of an existing key writes the value
 * in place (one word), so it never needs a spare element (no -EBUSY however
 * many updates between quiescent states) and a pointer from an earlier
 * lookup reads the new value; flags keep the kernel's meaning; the control
 * thread's update of an existing key also writes in place.
 */
static void test_in_place(void)
{
	struct sl_map *m = mk(BPF_MAP_TYPE_HASH, 4, 4, 4, 0, 1);
	uint32_t k = 1, v = 100, got = 0, *p;

	CHECK_EQ(sl_map_update_elem(m, &k, &v, BPF_EXIST), -ENOENT);
	CHECK_EQ(sl_map_update_elem(m, &k, &v, BPF_NOEXIST), 0);
	CHECK_EQ(sl_map_worker_online(0), 0);
	p = sl_map_lookup_elem(m, &k);
	CHECK(p != NULL);
	for (uint32_t i = 0; i < 20000; i++)
		CHECK_EQ(sl_map_update_elem(m, &k, &i, i & 1 ? BPF_EXIST : BPF_ANY), 0);
	CHECK_EQ(*p, 19999);
	CHECK(sl_map_lookup_elem(m, &k) == p);
	CHECK_EQ(sl_map_update_elem(m, &k, &v, BPF_NOEXIST), -EEXIST);
	CHECK_EQ(*p, 19999);
	CHECK_EQ(sl_map_update_elem(m, &k, &v, 4), -EINVAL);
	sl_map_worker_offline();
	CHECK_EQ(sl_map_ctl_update(m, &k, &(uint32_t){77}, BPF_EXIST), 0);
	CHECK_EQ(*p, 77);
	CHECK_EQ(sl_map_ctl_lookup(m, &k, &got), 0);
	CHECK_EQ(got, 77);
	CHECK_EQ(sl_map_ctl_update(m, &k, &v, BPF_NOEXIST), -EEXIST);
	CHECK_EQ(sl_map_ctl_delete(m, &k), 0);
	CHECK_EQ(sl_map_ctl_update(m, &k, &v, BPF_EXIST), -ENOENT);
	sl_map_destroy(m);
}

/*
 * Every key size from 1 to 72 bytes (hashing and comparison read a key as
 * overlapping words, hash.c): for each byte of the key, a key that differs
 * from a base key in that byte only is an entry of its own, found with its
 * own value, through the map's generic functions and through the JIT's
 * direct ones (sl_map_jit_fns()), with the same errors; deleting each
 * leaves the others.
 */
static void test_key_sizes(uint32_t type)
{
	uint8_t key[72], other[72];

	for (uint32_t ks = 1; ks <= sizeof(key); ks++) {   /* the comparison alone */
		for (uint32_t i = 0; i < ks; i++)
			key[i] = (uint8_t)(0x5a + 3 * i);
		memcpy(other, key, ks);
		CHECK(map_htab_keys_equal(key, other, ks), "key size %u: equal keys differ", ks);
		for (uint32_t i = 0; i < ks * 8; i++) {
			other[i / 8] ^= (uint8_t)(1u << (i % 8));
			CHECK(!map_htab_keys_equal(key, other, ks),
			      "key size %u: keys differing in bit %u are equal", ks, i);
			other[i / 8] ^= (uint8_t)(1u << (i % 8));
		}
	}

	CHECK_EQ(sl_map_worker_online(0), 0);
	for (uint32_t ks = 1; ks <= sizeof(key); ks++) {
		struct sl_map *m = mk(type, ks, 8, 2 * ks + 2, 0, 1);
		struct sl_map_jit_fns f;
		uint64_t v, got, *p;

		sl_map_jit_fns(m, &f);
		CHECK(f.lookup && f.update && f.delete, "key size %u: no direct functions", ks);
		if (!f.lookup || !f.update || !f.delete)
			break;
		for (uint32_t i = 0; i < ks; i++)
			key[i] = (uint8_t)(0x5a + 3 * i);
		v = 1000;
		CHECK_EQ(f.update(m, key, &v, BPF_NOEXIST), 0);     /* the base key */
		for (uint32_t i = 0; i < ks; i++) {    /* one byte differs: a new entry */
			key[i] ^= 0x81;
			v = i;
			CHECK(i & 1 ? f.update(m, key, &v, BPF_NOEXIST) == 0 :
			      sl_map_update_elem(m, key, &v, BPF_NOEXIST) == 0,
			      "key size %u, byte %u: taken for another key", ks, i);
			CHECK_EQ(f.update(m, key, &v, BPF_NOEXIST), -EEXIST);
			key[i] ^= 0x81;
		}
		CHECK_EQ(sl_map_ctl_count(m), ks + 1);
		for (uint32_t i = 0; i < ks; i++) {
			key[i] ^= 0x81;
			p = i & 1 ? sl_map_lookup_elem(m, key) : f.lookup(m, key);
			CHECK(p && *p == i, "key size %u, byte %u: %s", ks, i, p ? "other value" : "absent");
			CHECK(sl_map_ctl_lookup(m, key, &got) == 0 && got == i,
			      "key size %u, byte %u: control thread's lookup differs", ks, i);
			CHECK_EQ(i & 1 ? f.delete(m, key) : sl_map_delete_elem(m, key), 0);
			CHECK(f.lookup(m, key) == NULL, "key size %u, byte %u: found after delete", ks, i);
			CHECK_EQ(f.delete(m, key), -ENOENT);
			CHECK_EQ(f.update(m, key, &v, BPF_EXIST), -ENOENT);
			key[i] ^= 0x81;
		}
		p = f.lookup(m, key);
		CHECK(p && *p == 1000, "key size %u: base key lost", ks);
		CHECK_EQ(sl_map_ctl_count(m), 1);
		sl_map_destroy(m);
	}
	sl_map_worker_offline();
}

int main(void)
{
	test_key_sizes(BPF_MAP_TYPE_HASH);
	test_key_sizes(BPF_MAP_TYPE_LRU_HASH);
	test_key_sizes(BPF_MAP_TYPE_PERCPU_HASH);
	test_key_sizes(BPF_MAP_TYPE_LRU_PERCPU_HASH);
	test_reclaim();
	test_read_section();
	test_in_place();
	test_dump_parts();
	test_create();
	test_hash();
	test_percpu_hash();
	test_lru(BPF_MAP_TYPE_LRU_HASH, 1);
	test_lru(BPF_MAP_TYPE_LRU_PERCPU_HASH, 4);
	test_devmap_hash();
	return sl_test_done("maps_hash");
}
