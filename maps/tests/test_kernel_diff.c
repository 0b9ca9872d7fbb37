/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Differential test against the running kernel: the same random sequence
 * of update (every flag, some invalid), delete and lookup on a kernel map
 * (bpf(2) through libbpf) and on the sluice map of the same definition;
 * every return code and every value read must agree, and at the end both
 * maps must hold the same set of keys (get_next_key from NULL to -ENOENT)
 * with the same values. Also map creation: which definitions each refuses.
 * Skipped (exit 77) where the kernel refuses to create BPF maps.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "sl_maps.h"
#include "sl_test.h"

#define OPS 4000
#define VMAX 64

static struct sl_rng rng = { 0x853c49e6748fea9bull, SL_RNG_XORSHIFT };
static unsigned ncpus;

struct pair {
	int fd;
	struct sl_map *m;
	struct sl_map_def def;
	size_t vsize;            /* bytes of a syscall value (per-CPU: packed) */
};

static int kernel_err(int r)
{
	return r < 0 ? -errno : r;
}

/* a random key of this map; few distinct ones so that ops collide */
static void random_key(const struct pair *p, uint8_t *key)
{
	memset(key, 0, p->def.key_size);
	if (p->def.type == BPF_MAP_TYPE_LPM_TRIE) {
		uint32_t len = (uint32_t)(sl_rng_u64(&rng) % 33);
		uint32_t a = (uint32_t)sl_rng_u64(&rng) & 0x0300ff00u & (len ? ~0u << (32 - len) : 0);

		*(uint32_t *)(void *)key = sl_rng_u64(&rng) % 16 ? len : 40;  /* sometimes invalid */
		a = __builtin_bswap32(a);
		memcpy(key + 4, &a, 4);
		return;
	}
	/* LRU maps: a key space well inside max_entries, so that nothing is evicted */
	*(uint32_t *)(void *)key = (uint32_t)(sl_rng_u64(&rng) % (p->def.type == BPF_MAP_TYPE_LRU_HASH ?
						       p->def.max_entries / 4 :
						       p->def.max_entries + 4));
	if (p->def.key_size > 4)
		key[4] = (uint8_t)(sl_rng_u64(&rng) % 3);
}

static void one_op(struct pair *p, int i)
{
	uint8_t key[16], kv[VMAX * 8], sv[VMAX * 8];
	uint64_t flags = sl_rng_u64(&rng) % 9 == 0 ? 4 + sl_rng_u64(&rng) % 3 : sl_rng_u64(&rng) % 3;
	int kr, sr, op;

	random_key(p, key);
	for (size_t b = 0; b < p->vsize; b++)
		kv[b] = (uint8_t)sl_rng_u64(&rng);
	op = (int)(sl_rng_u64(&rng) % 4);
	switch (op) {
	case 0:
	case 1:
		kr = kernel_err(bpf_map_update_elem(p->fd, key, kv, flags));
		sr = sl_map_ctl_update(p->m, key, kv, flags);
		break;
	case 2:
		kr = kernel_err(bpf_map_delete_elem(p->fd, key));
		sr = sl_map_ctl_delete(p->m, key);
		break;
	default:
		memset(kv, 0, sizeof(kv));
		memset(sv, 0, sizeof(sv));
		kr = kernel_err(bpf_map_lookup_elem(p->fd, key, kv));
		sr = sl_map_ctl_lookup(p->m, key, sv);
		if (kr == 0 && sr == 0 && memcmp(kv, sv, p->vsize)) {
			FAIL("%s op %d: lookup values differ",
				sl_map_type_name(p->def.type), i);
		}
		break;
	}
	if (kr != sr) {
		FAIL("%s op %d (%s, key %08x %08x, flags %llu): kernel %d, sluice %d",
			sl_map_type_name(p->def.type), i,
			op < 2 ? "update" : op == 2 ? "delete" : "lookup",
			((uint32_t *)(void *)key)[0], ((uint32_t *)(void *)key)[1],
			(unsigned long long)flags, kr, sr);
	}
}

/* count keys present in the kernel map, each also in sluice with the same value */
static unsigned compare_contents(struct pair *p)
{
	uint8_t key[16], next[16], kv[VMAX * 8], sv[VMAX * 8];
	unsigned n = 0;
	void *prev = NULL;

	while (bpf_map_get_next_key(p->fd, prev, next) == 0 && n < 100000) {
		memcpy(key, next, p->def.key_size);
		prev = key;
		if (bpf_map_lookup_elem(p->fd, key, kv))
			continue;
		n++;
		CHECK_EQ(sl_map_ctl_lookup(p->m, key, sv), 0);
		CHECK(!memcmp(kv, sv, p->vsize));
	}
	return n;
}

static void run(uint32_t type, uint32_t ks, uint32_t vs, uint32_t max, uint32_t flags)
{
	LIBBPF_OPTS(bpf_map_create_opts, o, .map_flags = flags);
	struct pair p = {.def = {type, ks, vs, max, flags}};
	unsigned kn, sn;

	p.fd = bpf_map_create(type, "diff", ks, vs, max, &o);
	p.m = sl_map_create("diff", &p.def, ncpus);
	if (p.fd < 0 || !p.m) {
		FAIL("%s: kernel %d, sluice %p: cannot create",
			sl_map_type_name(type), p.fd, (void *)p.m);
		return;
	}
	p.vsize = sl_map_ctl_value_size(p.m);
	for (int i = 0; i < OPS; i++)
		one_op(&p, i);
	kn = compare_contents(&p);
	sn = (unsigned)sl_map_ctl_count(p.m);
	if (type != BPF_MAP_TYPE_ARRAY && type != BPF_MAP_TYPE_PERCPU_ARRAY)
		CHECK_EQ(sn, kn);
	printf("%-16s %u ops agree, %u entries at the end\n", sl_map_type_name(type), OPS, kn);
	close(p.fd);
	sl_map_destroy(p.m);
}

/* creation: both accept or both refuse each definition */
static void creation(void)
{
	static const struct sl_map_def defs[] = {
		{BPF_MAP_TYPE_ARRAY, 8, 4, 4, 0},
		{BPF_MAP_TYPE_ARRAY, 4, 0, 4, 0},
		{BPF_MAP_TYPE_ARRAY, 4, 4, 0, 0},
		{BPF_MAP_TYPE_ARRAY, 4, 4, 4, BPF_F_NO_PREALLOC},
		{BPF_MAP_TYPE_ARRAY, 4, 4, 1, BPF_F_MMAPABLE | BPF_F_RDONLY_PROG},
		{BPF_MAP_TYPE_ARRAY, 4, 4, 1, BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG},
		{BPF_MAP_TYPE_PERCPU_ARRAY, 4, 4, 4, BPF_F_MMAPABLE},
		{BPF_MAP_TYPE_HASH, 0, 4, 4, 0},
		{BPF_MAP_TYPE_HASH, 4, 0, 4, 0},
		{BPF_MAP_TYPE_HASH, 4, 4, 4, BPF_F_NO_PREALLOC},
		{BPF_MAP_TYPE_HASH, 4, 4, 4, BPF_F_MMAPABLE},
		{BPF_MAP_TYPE_HASH, 4, 4, 4, BPF_F_NO_COMMON_LRU},
		{BPF_MAP_TYPE_LRU_HASH, 4, 4, 4, BPF_F_NO_COMMON_LRU},
		{BPF_MAP_TYPE_LPM_TRIE, 8, 4, 4, 0},
		{BPF_MAP_TYPE_LPM_TRIE, 4, 4, 4, BPF_F_NO_PREALLOC},
		{BPF_MAP_TYPE_LPM_TRIE, 8, 4, 4, BPF_F_NO_PREALLOC},
		{BPF_MAP_TYPE_RINGBUF, 0, 0, 4096, 0},
		{BPF_MAP_TYPE_RINGBUF, 0, 0, 4096 * 3, 0},
		{BPF_MAP_TYPE_RINGBUF, 4, 0, 4096, 0},
		{BPF_MAP_TYPE_PROG_ARRAY, 4, 8, 4, 0},
		{BPF_MAP_TYPE_DEVMAP, 4, 12, 4, 0},
		{BPF_MAP_TYPE_DEVMAP, 4, 8, 4, 0},
		{BPF_MAP_TYPE_HASH, 512, 4, 4, 0},
		{BPF_MAP_TYPE_HASH, 513, 4, 4, 0},
		{BPF_MAP_TYPE_PERCPU_HASH, 4, 32768, 4, 0},
		{BPF_MAP_TYPE_PERCPU_HASH, 4, 32769, 4, 0},
		{BPF_MAP_TYPE_PERCPU_ARRAY, 4, 32769, 4, 0},
		{BPF_MAP_TYPE_LPM_TRIE, 4 + 256, 4, 4, BPF_F_NO_PREALLOC},
		{BPF_MAP_TYPE_LPM_TRIE, 4 + 257, 4, 4, BPF_F_NO_PREALLOC},
		{BPF_MAP_TYPE_DEVMAP_HASH, 4, 4, 4, 0},
		{BPF_MAP_TYPE_DEVMAP_HASH, 8, 4, 4, 0},
		{BPF_MAP_TYPE_LRU_PERCPU_HASH, 4, 4, 4, BPF_F_NO_COMMON_LRU},
		{BPF_MAP_TYPE_HASH, 4, 4, 4, BPF_F_ZERO_SEED},
		{BPF_MAP_TYPE_ARRAY, 4, 4, 4, BPF_F_RDONLY | BPF_F_WRONLY},
		{BPF_MAP_TYPE_RINGBUF, 0, 0, 2048, 0},
	};

	for (size_t i = 0; i < sizeof(defs) / sizeof(defs[0]); i++) {
		const struct sl_map_def *d = &defs[i];
		LIBBPF_OPTS(bpf_map_create_opts, o, .map_flags = d->map_flags);
		int fd = bpf_map_create(d->type, "c", d->key_size, d->value_size, d->max_entries, &o);
		struct sl_map *m = sl_map_create("c", d, ncpus);

		if ((fd >= 0) != (m != NULL)) {
			FAIL("create #%zu (%s): kernel %s, sluice %s", i,
				sl_map_type_name(d->type), fd >= 0 ? "accepts" : "refuses",
				m ? "accepts" : "refuses");
		}
		if (fd >= 0)
			close(fd);
		sl_map_destroy(m);
	}
}

int main(void)
{
	int probe = bpf_map_create(BPF_MAP_TYPE_ARRAY, "probe", 4, 4, 1, NULL);

	if (probe < 0) {
		printf("SKIP: the kernel refuses BPF maps here (%s)\n", strerror(errno));
		return 77;
	}
	close(probe);
	ncpus = (unsigned)libbpf_num_possible_cpus();
	if (ncpus > SL_MAX_CPUS) {
		printf("SKIP: %u possible CPUs\n", ncpus);
		return 77;
	}
	creation();
	run(BPF_MAP_TYPE_ARRAY, 4, 12, 16, 0);
	run(BPF_MAP_TYPE_PERCPU_ARRAY, 4, 8, 16, 0);
	run(BPF_MAP_TYPE_HASH, 8, 16, 24, 0);
	run(BPF_MAP_TYPE_HASH, 4, 4, 8, BPF_F_NO_PREALLOC);
	run(BPF_MAP_TYPE_PERCPU_HASH, 4, 8, 16, 0);
	run(BPF_MAP_TYPE_LPM_TRIE, 8, 8, 32, BPF_F_NO_PREALLOC);
	run(BPF_MAP_TYPE_LRU_HASH, 4, 8, 256, 0);
	return sl_test_done("maps_kernel_diff");
}
