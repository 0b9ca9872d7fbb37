/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ARRAY, PERCPU_ARRAY, DEVMAP and RINGBUF semantics against the kernel's
 * documented behaviour (Documentation/bpf/map_array.rst, map_devmap...,
 * ringbuf.rst, and the errors of kernel/bpf/arraymap.c).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sl_maps.h"
#include "sl_test.h"

static struct sl_map *mk(uint32_t type, uint32_t ks, uint32_t vs, uint32_t max, uint32_t flags,
			 unsigned ncpus)
{
	struct sl_map_def d = {type, ks, vs, max, flags};

	return sl_map_create("t", &d, ncpus);
}

static void test_create_errors(void)
{
	errno = 0;
	CHECK(!mk(BPF_MAP_TYPE_ARRAY, 8, 4, 4, 0, 1) && errno == EINVAL);  /* key must be 4 */
	CHECK(!mk(BPF_MAP_TYPE_ARRAY, 4, 0, 4, 0, 1) && errno == EINVAL);
	CHECK(!mk(BPF_MAP_TYPE_ARRAY, 4, 4, 0, 0, 1) && errno == EINVAL);
	CHECK(!mk(BPF_MAP_TYPE_ARRAY, 4, 4, 1, BPF_F_NO_PREALLOC, 1) && errno == EINVAL);
	CHECK(!mk(BPF_MAP_TYPE_ARRAY, 4, 4, 1, BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG, 1));
	CHECK(!mk(BPF_MAP_TYPE_PERCPU_ARRAY, 4, 4, 1, BPF_F_MMAPABLE, 2) && errno == EINVAL);
	CHECK(!mk(BPF_MAP_TYPE_PERCPU_ARRAY, 4, 4, 1, 0, SL_MAX_CPUS + 1) && errno == EINVAL);
	CHECK(!mk(BPF_MAP_TYPE_STACK_TRACE, 4, 4, 1, 0, 1) && errno == ENOTSUP);
	CHECK(!mk(BPF_MAP_TYPE_RINGBUF, 0, 0, 4096 * 3, 0, 1) && errno == EINVAL);
	CHECK(!mk(BPF_MAP_TYPE_RINGBUF, 4, 0, 4096, 0, 1) && errno == EINVAL);
	CHECK(!mk(BPF_MAP_TYPE_DEVMAP, 4, 12, 4, 0, 1) && errno == EINVAL);
	CHECK(!mk(9999, 4, 4, 1, 0, 1));
}

static void test_names(void)
{
	CHECK(!strcmp(sl_map_type_name(BPF_MAP_TYPE_PERCPU_ARRAY), "percpu_array"));
	CHECK(!strcmp(sl_map_type_name(BPF_MAP_TYPE_LPM_TRIE), "lpm_trie"));
	CHECK(!strcmp(sl_map_type_name(12345), "unknown"));
	CHECK_EQ(sl_map_type_from_name("lru_percpu_hash"), BPF_MAP_TYPE_LRU_PERCPU_HASH);
	CHECK_EQ(sl_map_type_from_name("hsah"), -ENOENT);
}

static void test_array(void)
{
	struct sl_map *m = mk(BPF_MAP_TYPE_ARRAY, 4, 12, 10, 0, 4);
	uint8_t v[12], out[12];
	uint32_t k, nk, n;
	uint64_t *p;

	CHECK(m != NULL);
	CHECK(!sl_map_is_percpu(m) && sl_map_ncpus(m) == 1);
	CHECK_EQ(sl_map_array_stride(m), 16);
	CHECK_EQ(sl_map_ctl_value_size(m), 12);
	k = 3;
	CHECK(sl_map_lookup_elem(m, &k) != NULL);
	memset(out, 0xff, sizeof(out));
	CHECK_EQ(sl_map_ctl_lookup(m, &k, out), 0);
	CHECK(out[0] == 0 && out[11] == 0);  /* zero-initialised */
	memset(v, 0xab, sizeof(v));
	CHECK_EQ(sl_map_update_elem(m, &k, v, BPF_ANY), 0);
	CHECK_EQ(sl_map_update_elem(m, &k, v, BPF_EXIST), 0);
	CHECK_EQ(sl_map_update_elem(m, &k, v, BPF_NOEXIST), -EEXIST);
	CHECK_EQ(sl_map_update_elem(m, &k, v, 7), -EINVAL);
	CHECK(!memcmp(sl_map_lookup_elem(m, &k), v, 12));
	CHECK((uint8_t *)sl_map_lookup_elem(m, &k) ==
	      (uint8_t *)sl_map_array_base(m, 0) + 3 * sl_map_array_stride(m));
	k = 10;
	CHECK(sl_map_lookup_elem(m, &k) == NULL);
	CHECK_EQ(sl_map_update_elem(m, &k, v, BPF_ANY), -E2BIG);
	CHECK_EQ(sl_map_ctl_lookup(m, &k, out), -ENOENT);
	CHECK_EQ(sl_map_delete_elem(m, &k), -EINVAL);
	k = 1;
	CHECK_EQ(sl_map_delete_elem(m, &k), -EINVAL);
	CHECK_EQ(sl_map_ctl_delete(m, &k), -EINVAL);
	/* iteration: 0..9 then -ENOENT; a missing key restarts at 0 */
	n = 0;
	for (int r = sl_map_ctl_get_next_key(m, NULL, &nk); r == 0;
	     r = sl_map_ctl_get_next_key(m, &k, &nk)) {
		CHECK_EQ(nk, n);
		k = nk;
		n++;
	}
	CHECK_EQ(n, 10);
	k = 77;
	CHECK_EQ(sl_map_ctl_get_next_key(m, &k, &nk), 0);
	CHECK_EQ(nk, 0);
	CHECK_EQ(sl_map_ctl_count(m), 10);
	p = sl_map_lookup_elem(m, &(uint32_t){5});
	*p = 42;
	CHECK_EQ(sl_map_ctl_sum_u64(m, &(uint32_t){5}, &(uint64_t){0}), -EINVAL); /* vs 12 */
	CHECK(sl_map_lookup_percpu_elem(m, &k, 0) == NULL);  /* not per-CPU */
	sl_map_destroy(m);
}

static void test_global_data(void)
{
	struct sl_map *m;
	uint8_t out[12];
	uint32_t k, nk;

	/* global data: one-element array, RDONLY_PROG, MMAPABLE */
	m = mk(BPF_MAP_TYPE_ARRAY, 4, 64, 1, BPF_F_RDONLY_PROG | BPF_F_MMAPABLE, 1);
	CHECK(m != NULL);
	k = 0;
	memset(out, 1, sizeof(out));
	CHECK_EQ(sl_map_ctl_update(m, &k, (uint8_t[64]){7}, BPF_ANY), 0);
	CHECK_EQ(*(uint8_t *)sl_map_lookup_elem(m, &k), 7);
	CHECK_EQ(sl_map_update_elem(m, &k, out, BPF_ANY), -EPERM);
	sl_map_destroy(m);

	/* syscall-side access flags */
	m = mk(BPF_MAP_TYPE_ARRAY, 4, 4, 2, BPF_F_RDONLY, 1);
	CHECK_EQ(sl_map_ctl_update(m, &k, out, BPF_ANY), -EPERM);
	CHECK_EQ(sl_map_ctl_lookup(m, &k, out), 0);
	CHECK_EQ(sl_map_update_elem(m, &k, out, BPF_ANY), 0);  /* programs may write */
	sl_map_destroy(m);
	m = mk(BPF_MAP_TYPE_ARRAY, 4, 4, 2, BPF_F_WRONLY, 1);
	CHECK_EQ(sl_map_ctl_lookup(m, &k, out), -EPERM);
	CHECK_EQ(sl_map_ctl_get_next_key(m, NULL, &nk), -EPERM);
	CHECK_EQ(sl_map_ctl_update(m, &k, out, BPF_ANY), 0);
	sl_map_destroy(m);
}

static int sum_cb(const void *key, const void *value, void *ctx)
{
	const uint64_t *v = value;

	((uint64_t *)ctx)[*(const uint32_t *)key] = v[0] + v[1] + v[2];
	return 0;
}

static void test_percpu_array(void)
{
	struct sl_map *m = mk(BPF_MAP_TYPE_PERCPU_ARRAY, 4, 8, 256, 0, 3);
	uint64_t vals[3], sums[256] = {0}, sum;
	uint32_t k = 6;

	CHECK(m != NULL);
	CHECK(sl_map_is_percpu(m) && sl_map_ncpus(m) == 3);
	CHECK_EQ(sl_map_ctl_value_size(m), 24);
	for (uint32_t c = 0; c < 3; c++) {
		uint64_t *p;

		sl_map_set_cpu(c);
		p = sl_map_lookup_elem(m, &k);
		CHECK(p == (uint64_t *)((uint8_t *)sl_map_array_base(m, c) + 6 * 8));
		CHECK(p == (uint64_t *)((uint8_t *)sl_map_array_base(m, 0) +
					c * sl_map_array_slot_bytes(m) + 6 * 8));
		*p += 10 * (c + 1);
		CHECK_EQ(sl_map_update_elem(m, &(uint32_t){7}, &(uint64_t){c + 100}, BPF_ANY), 0);
	}
	sl_map_set_cpu(3);  /* a slot beyond the map's: refused, never out of bounds */
	CHECK(sl_map_lookup_elem(m, &k) == NULL);
	CHECK_EQ(sl_map_update_elem(m, &k, &(uint64_t){1}, BPF_ANY), -EINVAL);
	sl_map_set_cpu(0);
	CHECK(sl_map_array_base(m, 3) == NULL);
	CHECK_EQ(*(uint64_t *)sl_map_lookup_percpu_elem(m, &k, 2), 30);
	CHECK(sl_map_lookup_percpu_elem(m, &k, 3) == NULL);
	CHECK_EQ(sl_map_ctl_lookup(m, &k, vals), 0);
	CHECK(vals[0] == 10 && vals[1] == 20 && vals[2] == 30);
	CHECK_EQ(sl_map_ctl_sum_u64(m, &k, &sum), 0);
	CHECK_EQ(sum, 60);
	CHECK_EQ(sl_map_ctl_sum_u64(m, &(uint32_t){7}, &sum), 0);
	CHECK_EQ(sum, 100 + 101 + 102);
	CHECK_EQ(sl_map_ctl_sum_u64(m, &(uint32_t){256}, &sum), -ENOENT);
	/* control update writes every slot */
	vals[0] = 1, vals[1] = 2, vals[2] = 3;
	CHECK_EQ(sl_map_ctl_update(m, &(uint32_t){9}, vals, BPF_ANY), 0);
	CHECK_EQ(*(uint64_t *)sl_map_lookup_percpu_elem(m, &(uint32_t){9}, 1), 2);
	CHECK_EQ(sl_map_ctl_dump(m, sum_cb, sums), 0);
	CHECK(sums[6] == 60 && sums[9] == 6 && sums[7] == 303 && sums[0] == 0);
	CHECK_EQ(sl_map_ctl_update(m, &(uint32_t){9}, vals, BPF_NOEXIST), -EEXIST);
	sl_map_destroy(m);
}

static void test_devmap(void)
{
	struct sl_map *m = mk(BPF_MAP_TYPE_DEVMAP, 4, 8, 4, 0, 1);
	uint32_t val[2] = {3, 0}, out[2], ifindex = 99, nk;

	CHECK(m != NULL);
	CHECK(sl_map_lookup_elem(m, &(uint32_t){1}) == NULL);
	CHECK_EQ(sl_map_devmap_get(m, 1, &ifindex), -ENOENT);
	CHECK_EQ(sl_map_ctl_update(m, &(uint32_t){1}, val, BPF_ANY), 0);
	CHECK_EQ(sl_map_devmap_get(m, 1, &ifindex), 0);
	CHECK_EQ(ifindex, 3);
	CHECK_EQ(*(uint32_t *)sl_map_lookup_elem(m, &(uint32_t){1}), 3);
	CHECK_EQ(sl_map_ctl_lookup(m, &(uint32_t){1}, out), 0);
	CHECK(out[0] == 3 && out[1] == 0);
	CHECK_EQ(sl_map_ctl_update(m, &(uint32_t){4}, val, BPF_ANY), -E2BIG);
	CHECK_EQ(sl_map_ctl_update(m, &(uint32_t){1}, val, BPF_NOEXIST), -EEXIST);
	val[1] = 5;  /* a devmap program fd: not provided */
	CHECK_EQ(sl_map_ctl_update(m, &(uint32_t){2}, val, BPF_ANY), -EOPNOTSUPP);
	CHECK_EQ(sl_map_update_elem(m, &(uint32_t){2}, val, BPF_ANY), -EOPNOTSUPP);
	CHECK_EQ(sl_map_ctl_count(m), 1);
	CHECK_EQ(sl_map_ctl_get_next_key(m, &(uint32_t){3}, &nk), -ENOENT);
	CHECK_EQ(sl_map_ctl_delete(m, &(uint32_t){1}), 0);
	CHECK_EQ(sl_map_devmap_get(m, 1, &ifindex), -ENOENT);
	CHECK_EQ(sl_map_ctl_delete(m, &(uint32_t){9}), -EINVAL);
	sl_map_destroy(m);
}

struct rb_seen {
	uint32_t n;
	uint32_t vals[4096];
	uint32_t lens[4096];
};

static int rb_cb(const void *data, uint32_t len, void *ctx)
{
	struct rb_seen *s = ctx;

	s->lens[s->n] = len;
	s->vals[s->n++] = len >= 4 ? *(const uint32_t *)data : 0xffffffffu;
	return 0;
}

static void test_ringbuf(void)
{
	struct sl_map *m = mk(BPF_MAP_TYPE_RINGBUF, 0, 0, 4096, 0, 1);
	struct rb_seen *s = calloc(1, sizeof(*s));
	uint32_t *a, *b, *c, i, ok;

	CHECK(m != NULL && s != NULL);
	CHECK(sl_map_lookup_elem(m, &i) == NULL);
	CHECK_EQ(sl_map_update_elem(m, &i, &i, 0), -EOPNOTSUPP);
	CHECK(sl_map_ringbuf_reserve(m, 8, 1) == NULL);            /* flags must be 0 */
	CHECK(sl_map_ringbuf_reserve(m, 4096, 0) == NULL);         /* larger than the ring */
	CHECK_EQ(sl_map_ringbuf_output(m, &i, 4, 1u << 5), -EINVAL);
	/* ordering: a record still being written holds back later ones */
	a = sl_map_ringbuf_reserve(m, 4, 0);
	b = sl_map_ringbuf_reserve(m, 8, 0);
	c = sl_map_ringbuf_reserve(m, 4, 0);
	CHECK(a && b && c);
	*a = 1, *b = 2, *c = 3;
	sl_map_ringbuf_submit(c, 0);
	sl_map_ringbuf_discard(b, 0);
	CHECK_EQ(sl_map_ringbuf_consume(m, rb_cb, s), 0);          /* a not submitted */
	sl_map_ringbuf_submit(a, BPF_RB_NO_WAKEUP);
	CHECK_EQ(sl_map_ringbuf_consume(m, rb_cb, s), 2);
	CHECK(s->n == 2 && s->vals[0] == 1 && s->vals[1] == 3 && s->lens[0] == 4);
	CHECK_EQ(sl_map_ringbuf_avail(m), 0);
	/* overflow: records of 8 + 56 = 64 bytes; 4096 / 64 = 64 fit */
	ok = 0;
	for (i = 0; i < 100; i++) {
		uint32_t rec[14] = {i};
		long r = sl_map_ringbuf_output(m, rec, sizeof(rec), 0);

		CHECK(r == 0 || r == -EAGAIN);
		ok += r == 0;
	}
	CHECK_EQ(ok, 63);  /* 48 bytes used before: 4096 - 48 leaves 63 records */
	CHECK(sl_map_ringbuf_reserve(m, 56, 0) == NULL);      /* needs 64 + 16 of padding */
	s->n = 0;
	CHECK_EQ(sl_map_ringbuf_consume(m, rb_cb, s), 63);
	for (i = 0; i < 63; i++)
		CHECK_EQ(s->vals[i], i);
	/* wrap-around: fill and drain many times, records stay in order */
	s->n = 0;
	for (i = 0; i < 2000; i++) {
		uint32_t rec[5] = {i};

		if (sl_map_ringbuf_output(m, rec, 4 + (i % 5) * 4, 0) == -EAGAIN) {
			sl_map_ringbuf_consume(m, rb_cb, s);
			CHECK_EQ(sl_map_ringbuf_output(m, rec, 4 + (i % 5) * 4, 0), 0);
		}
	}
	sl_map_ringbuf_consume(m, rb_cb, s);
	CHECK_EQ(s->n, 2000);
	for (i = 0; i < s->n; i++)
		CHECK(s->vals[i] == i && s->lens[i] == 4 + (i % 5) * 4);
	/* zero-length records exist too */
	CHECK_EQ(sl_map_ringbuf_output(m, &i, 0, 0), 0);
	s->n = 0;
	CHECK_EQ(sl_map_ringbuf_consume(m, rb_cb, s), 1);
	CHECK_EQ(s->lens[0], 0);
	free(s);
	sl_map_destroy(m);
}

static char fake_progs[3];

static struct sl_prog *resolve(uint32_t id, void *ctx)
{
	return id < 3 ? (struct sl_prog *)(void *)&fake_progs[id] : NULL;
}

static void test_prog_array(void)
{
	struct sl_map *m = mk(BPF_MAP_TYPE_PROG_ARRAY, 4, 4, 4, 0, 1);
	struct sl_prog *p1 = (struct sl_prog *)(void *)&fake_progs[1];
	uint32_t id, nk;

	CHECK(m != NULL);
	CHECK(!mk(BPF_MAP_TYPE_PROG_ARRAY, 4, 8, 4, 0, 1));
	CHECK(sl_map_prog_array_get(m, 0) == NULL);
	CHECK(sl_map_lookup_elem(m, &(uint32_t){0}) == NULL);  /* programs cannot look up */
	CHECK_EQ(sl_map_prog_array_set(m, 2, p1, 11), 0);
	CHECK_EQ(sl_map_prog_array_set(m, 4, p1, 11), -E2BIG);
	CHECK(sl_map_prog_array_get(m, 2) == p1);
	CHECK(sl_map_prog_array_get(m, 4) == NULL);
	CHECK_EQ(sl_map_ctl_lookup(m, &(uint32_t){2}, &id), 0);
	CHECK_EQ(id, 11);
	CHECK_EQ(sl_map_ctl_lookup(m, &(uint32_t){1}, &id), -ENOENT);
	CHECK_EQ(sl_map_ctl_update(m, &(uint32_t){1}, &(uint32_t){2}, BPF_ANY), -EOPNOTSUPP);
	CHECK_EQ(sl_map_prog_array_set_resolver(m, resolve, NULL), 0);
	CHECK_EQ(sl_map_ctl_update(m, &(uint32_t){1}, &(uint32_t){2}, BPF_ANY), 0);
	CHECK(sl_map_prog_array_get(m, 1) == (struct sl_prog *)(void *)&fake_progs[2]);
	CHECK_EQ(sl_map_ctl_update(m, &(uint32_t){1}, &(uint32_t){9}, BPF_ANY), -EBADF);
	CHECK_EQ(sl_map_ctl_count(m), 2);
	CHECK_EQ(sl_map_ctl_delete(m, &(uint32_t){2}), 0);
	CHECK_EQ(sl_map_ctl_delete(m, &(uint32_t){2}), -ENOENT);
	CHECK(sl_map_prog_array_get(m, 2) == NULL);
	CHECK_EQ(sl_map_ctl_get_next_key(m, &(uint32_t){2}, &nk), 0);
	CHECK_EQ(nk, 3);
	sl_map_destroy(m);
}

int main(void)
{
	test_prog_array();
	test_create_errors();
	test_names();
	test_array();
	test_global_data();
	test_percpu_array();
	test_devmap();
	test_ringbuf();
	return sl_test_done("maps_array");
}
