/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The data-path helpers' fast paths against independent reference code,
 * called through the helper table as the interpreter and the JIT call them:
 *
 * - bpf_csum_diff: 8 bytes at a time into a 128-bit sum, the tail as one
 *   word (vm/helpers.c) against a byte-by-byte 32-bit-word sum written
 *   here, on every length 0..100 of both buffers at every alignment 0..7,
 *   random, all-zero and all-ones contents, random seeds; plus the kernel
 *   selftest's vector (2 x 0xdeadbeef pushed, seed 0: 0x3b3b).
 * - bpf_xdp_load_bytes / bpf_xdp_store_bytes / bpf_skb_load_bytes: the
 *   inline copies of 1-16 bytes against memmove on a copy, every offset
 *   and length 1..40 around the end of the packet (out of range: the error
 *   code, the buffer zeroed or the packet untouched), and stores whose
 *   source overlaps the destination in the packet (memmove's result).
 * - bpf_redirect_map on DEVMAP, XSKMAP, CPUMAP (the key is the worker) and
 *   DEVMAP_HASH (through its ops), present, absent and out-of-range keys,
 *   every flag value: the verdict and sl_helper_redirect()'s state, which a
 *   failed lookup leaves as it was (the kernel's behaviour);
 *   sl_map_redirect_target() on those and on an ARRAY (-EINVAL);
 *   bpf_redirect with and without flags.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/bpf.h>

#include "sl_helpers.h"
#include "sl_maps.h"
#include "sl_vm.h"
#include "sl_test.h"

#define PTR(x) ((uint64_t)(uintptr_t)(x))

static uint64_t call(uint32_t id, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5)
{
	const struct sl_helper *h = sl_helper_get(id);

	if (!h)
		FATAL("helper %u missing", id);
	return h->fn(a1, a2, a3, a4, a5);
}

/* ---- bpf_csum_diff ---- */

/* 32-bit little-endian words, the last zero-padded, plus seed, folded with end-around carries */
static uint32_t ref_sum(const uint8_t *b, uint32_t len, uint32_t seed)
{
	uint64_t s = seed;

	for (uint32_t i = 0; i < len; i += 4) {
		uint32_t w = 0;

		for (uint32_t k = 0; k < 4 && i + k < len; k++)
			w |= (uint32_t)b[i + k] << (8 * k);
		s += w;
	}
	while (s >> 32)
		s = (s & 0xffffffffu) + (s >> 32);
	return (uint32_t)s;
}

/* Linux 6.13+: csum_sub(csum(to, seed), csum(from)), folded to 16 bits as csum_from32to16 */
static uint64_t ref_diff(const uint8_t *from, uint32_t fs, const uint8_t *to, uint32_t ts,
			 uint32_t seed)
{
	uint32_t r, a, b;

	if (fs && ts) {
		a = ref_sum(to, ts, seed);
		b = ~ref_sum(from, fs, 0);
		r = a + b;
		r += r < b;
	} else if (ts) {
		r = ref_sum(to, ts, seed);
	} else if (fs) {
		r = ~ref_sum(from, fs, ~seed);
	} else {
		r = seed;
	}
	r += (r >> 16) | (r << 16);
	return r >> 16;
}

static void fill(uint8_t *b, size_t n, unsigned kind, struct sl_rng *rng)
{
	for (size_t i = 0; i < n; i++)
		b[i] = kind == 0 ? 0 : kind == 1 ? 0xff : (uint8_t)sl_rng_u64(rng);
}

static void test_csum(struct sl_rng *rng)
{
	static const uint8_t beef[8] = { 0xef, 0xbe, 0xad, 0xde, 0xef, 0xbe, 0xad, 0xde };
	uint8_t from[128], to[128];
	unsigned bad = 0;

	CHECK_EQ(call(BPF_FUNC_csum_diff, 0, 0, PTR(beef), 8, 0), 0x3b3b);
	for (unsigned kind = 0; kind < 3; kind++)
		for (uint32_t fs = 0; fs <= 100; fs += (fs < 20 ? 1 : 7))
			for (uint32_t ts = 0; ts <= 100; ts++) {
				unsigned fa = (unsigned)sl_rng_below(rng, 8), ta = ts % 8;
				uint32_t seed = kind == 2 ? (uint32_t)sl_rng_u64(rng) :
						kind ? 0xffffffffu : 0;
				uint64_t got, want;

				fill(from, sizeof(from), kind, rng);
				fill(to, sizeof(to), kind == 2 ? 2 : kind ^ 1, rng);
				got = call(BPF_FUNC_csum_diff, fs ? PTR(from + fa) : 0, fs,
					   ts ? PTR(to + ta) : 0, ts, seed);
				want = ref_diff(from + fa, fs, to + ta, ts, seed);
				if (got != want && bad++ < 10)
					FAIL("csum_diff(from %u at +%u, to %u at +%u, seed %#x, kind %u): "
					     "%#llx, want %#llx", fs, fa, ts, ta, seed, kind,
					     (unsigned long long)got, (unsigned long long)want);
				sl_test_count();
			}
}

/* ---- load / store bytes ---- */

#define HEAD 64
#define ROOM 512

static void test_xdp_bytes(void)
{
	static uint8_t buf[HEAD + ROOM], ref[HEAD + ROOM];
	uint8_t out[64], want[64];
	struct sl_xdp_ctx x = { 0 };
	unsigned bad = 0;

	for (uint32_t len = 14; len <= 60; len += 23)
		for (uint32_t off = 0; off <= len + 4; off++)
			for (uint32_t n = 1; n <= 40; n++) {
				bool in = off + n <= len;
				uint64_t r;

				for (unsigned i = 0; i < sizeof(buf); i++)
					buf[i] = (uint8_t)(i * 7 + 3);
				x.data = x.data_meta = buf + HEAD;
				x.data_end = buf + HEAD + len;
				/* load */
				memset(out, 0xaa, sizeof(out));
				memset(want, 0xaa, sizeof(want));
				if (in)
					memcpy(want, buf + HEAD + off, n);
				else
					memset(want, 0, n);
				r = call(BPF_FUNC_xdp_load_bytes, PTR(&x), off, PTR(out), n, 0);
				if ((r != (in ? 0 : (uint64_t)-EINVAL) || memcmp(out, want, sizeof(out))) &&
				    bad++ < 10)
					FAIL("xdp_load_bytes(len %u, off %u, n %u): %lld", len, off, n,
					     (long long)r);
				sl_test_count();
				/* store from outside the packet, then from inside it (overlapping) */
				for (unsigned src_in = 0; src_in < 2; src_in++) {
					const uint8_t *src = src_in ? buf + HEAD + off / 2 : out;

					memcpy(ref, buf, sizeof(buf));
					if (in)
						memmove(ref + HEAD + off, src_in ? ref + HEAD + off / 2 : out, n);
					r = call(BPF_FUNC_xdp_store_bytes, PTR(&x), off, PTR(src), n, 0);
					if ((r != (in ? 0 : (uint64_t)-EINVAL) || memcmp(buf, ref, sizeof(buf))) &&
					    bad++ < 10)
						FAIL("xdp_store_bytes(len %u, off %u, n %u, source %s): %lld",
						     len, off, n, src_in ? "in the packet" : "outside",
						     (long long)r);
					sl_test_count();
				}
			}
	/* offsets and lengths above 0xffff: -EFAULT */
	CHECK_EQ((int64_t)call(BPF_FUNC_xdp_load_bytes, PTR(&x), 0x10000, PTR(out), 4, 0), -EFAULT);
	CHECK_EQ((int64_t)call(BPF_FUNC_xdp_store_bytes, PTR(&x), 0, PTR(out), 0x10000, 0), -EFAULT);
}

static void test_skb_bytes(void)
{
	static uint8_t pkt[80];
	uint8_t out[64], want[64];
	struct sl_skb_ctx s = { .pkt = pkt, .pkt_len = sizeof(pkt) };
	unsigned bad = 0;

	for (unsigned i = 0; i < sizeof(pkt); i++)
		pkt[i] = (uint8_t)(i * 13 + 1);
	for (uint32_t off = 0; off <= sizeof(pkt) + 2; off++)
		for (uint32_t n = 1; n <= 40; n++) {
			bool in = off + n <= sizeof(pkt);
			uint64_t r;

			memset(out, 0x55, sizeof(out));
			memset(want, 0x55, sizeof(want));
			if (in)
				memcpy(want, pkt + off, n);
			else
				memset(want, 0, n);
			r = call(BPF_FUNC_skb_load_bytes, PTR(&s), off, PTR(out), n, 0);
			if ((r != (in ? 0 : (uint64_t)-EFAULT) || memcmp(out, want, sizeof(out))) &&
			    bad++ < 10)
				FAIL("skb_load_bytes(off %u, n %u): %lld", off, n, (long long)r);
			sl_test_count();
		}
}

/* ---- redirect ---- */

static struct sl_map *mkmap(const char *name, uint32_t type, uint32_t vsize, uint32_t max)
{
	struct sl_map_def def = { .type = type, .key_size = 4, .value_size = vsize,
				  .max_entries = max };
	struct sl_map *m = sl_map_create(name, &def, 1);

	if (!m)
		FATAL("cannot create %s: %s", name, strerror(errno));
	return m;
}

static void put(struct sl_map *m, uint32_t key, uint32_t v0, uint32_t v1)
{
	uint32_t v[2] = { v0, v1 };

	if (sl_map_ctl_update(m, &key, v, 0))
		FATAL("cannot set %s[%u]", sl_map_name(m), key);
}

/*
 * bpf_redirect_map(@p m, key, flags) for every key below @p max + 2 and
 * every flag value 0..7 and BPF_F_EXCLUDE_INGRESS, BPF_F_BROADCAST;
 * @p target[key] the expected port (or worker), -1 absent. As the kernel's
 * __bpf_xdp_redirect_map(): only DEVMAP / DEVMAP_HASH take
 * BPF_F_EXCLUDE_INGRESS (and BPF_F_BROADCAST, not provided: XDP_ABORTED).
 * Flags refused change nothing; a miss clears the map and leaves the
 * state bpf_redirect(tgt_index) would (ifindex = tgt_index, flags kept),
 * as the kernel's miss sets map_type UNSPEC / map_id INT_MAX; a hit sets
 * { target, flags, map, tgt_index = key }.
 */
static void check_redirects(struct sl_map *m, const int64_t *target, uint32_t max)
{
	static const uint64_t flag_set[] = { 0, 1, 2, 3, 4, 7, BPF_F_EXCLUDE_INGRESS,
					     BPF_F_EXCLUDE_INGRESS | XDP_PASS, BPF_F_BROADCAST };
	struct sl_redirect *rd = sl_helper_redirect();
	unsigned bad = 0;

	for (uint32_t key = 0; key < max + 2; key++)
		for (unsigned f = 0; f < sizeof(flag_set) / sizeof(flag_set[0]); f++) {
			uint64_t flags = flag_set[f], r, want;
			int64_t t = key < max ? target[key] : -1;
			uint32_t type = sl_map_get_def(m)->type;
			bool dev = type == BPF_MAP_TYPE_DEVMAP || type == BPF_MAP_TYPE_DEVMAP_HASH;
			bool flags_ok = !(flags & ~(uint64_t)(3 | (dev ? BPF_F_EXCLUDE_INGRESS : 0)));

			rd->ifindex = 12345;
			rd->flags = 99;
			rd->map = (struct sl_map *)(uintptr_t)0x5e17;
			rd->tgt_index = 777;
			r = call(BPF_FUNC_redirect_map, PTR(m), key, flags, 0, 0);
			want = !flags_ok ? XDP_ABORTED : t < 0 ? flags & 3 : XDP_REDIRECT;
			if (r != want && bad++ < 10)
				FAIL("%s: redirect_map(key %u, flags %#llx) = %llu, want %llu",
				     sl_map_name(m), key, (unsigned long long)flags,
				     (unsigned long long)r, (unsigned long long)want);
			if (r == XDP_REDIRECT &&
			    (rd->ifindex != (uint32_t)t || rd->flags != flags || rd->map != m ||
			     rd->tgt_index != key) &&
			    bad++ < 10)
				FAIL("%s: key %u: state ifindex %u flags %u map %p", sl_map_name(m), key,
				     rd->ifindex, rd->flags, (void *)rd->map);
			if (!flags_ok && (rd->ifindex != 12345 || rd->flags != 99 ||
					  rd->map != (struct sl_map *)(uintptr_t)0x5e17 ||
					  rd->tgt_index != 777) && bad++ < 10)
				FAIL("%s: key %u flags %#llx: refused flags changed the state",
				     sl_map_name(m), key, (unsigned long long)flags);
			if (flags_ok && t < 0 && (rd->ifindex != 777 || rd->flags != 99 || rd->map ||
						  rd->tgt_index != 777) && bad++ < 10)
				FAIL("%s: key %u flags %#llx: a miss left {%u %u %p %u}, want "
				     "{777 99 NULL 777}", sl_map_name(m), key,
				     (unsigned long long)flags, rd->ifindex, rd->flags,
				     (void *)rd->map, rd->tgt_index);
			if (sl_map_redirect_target(m, key) != (t < 0 ? -ENOENT : t) && bad++ < 10)
				FAIL("%s: sl_map_redirect_target(%u) = %lld", sl_map_name(m), key,
				     (long long)sl_map_redirect_target(m, key));
			sl_test_count();
		}
}

/*
 * Flags the kernel accepts: the verdict bits 0..3 with BPF_F_EXCLUDE_INGRESS;
 * 4..7 set the bit above XDP_TX (unknown) and BPF_F_BROADCAST is not
 * provided: XDP_ABORTED for those.
 */
static void test_redirect(void)
{
	struct sl_map *dev = mkmap("dev", BPF_MAP_TYPE_DEVMAP, 4, 8);
	struct sl_map *dev8 = mkmap("dev8", BPF_MAP_TYPE_DEVMAP, 8, 4);
	struct sl_map *xsk = mkmap("xsk", BPF_MAP_TYPE_XSKMAP, 4, 4);
	struct sl_map *cpu = mkmap("cpu", BPF_MAP_TYPE_CPUMAP, 8, 4);
	struct sl_map *hash = mkmap("hash", BPF_MAP_TYPE_DEVMAP_HASH, 4, 8);
	struct sl_map *arr = mkmap("arr", BPF_MAP_TYPE_ARRAY, 4, 4);
	int64_t t_dev[8] = { -1, 3, -1, 7, -1, -1, -1, 0 }, t_dev8[4] = { 5, -1, -1, 2 };
	int64_t t_xsk[4] = { -1, -1, 9, -1 }, t_cpu[4] = { 0, -1, 2, -1 };
	int64_t t_hash[8] = { -1, -1, 4, -1, -1, 6, -1, -1 };
	struct sl_redirect *rd = sl_helper_redirect();

	put(dev, 1, 3, 0);
	put(dev, 3, 7, 0);
	put(dev, 7, 0, 0);
	put(dev8, 0, 5, 0);
	put(dev8, 3, 2, 0);
	put(xsk, 2, 9, 0);
	put(cpu, 0, 192, 0);   /* qsize 192: worker 0 */
	put(cpu, 2, 64, 0);
	put(hash, 2, 4, 0);
	put(hash, 5, 6, 0);
	check_redirects(dev, t_dev, 8);
	check_redirects(dev8, t_dev8, 4);
	check_redirects(xsk, t_xsk, 4);
	check_redirects(cpu, t_cpu, 4);
	check_redirects(hash, t_hash, 8);
	CHECK_EQ(sl_map_redirect_target(arr, 0), -EINVAL);
	CHECK_EQ(call(BPF_FUNC_redirect, 4, 1, 0, 0, 0), XDP_ABORTED);
	CHECK_EQ(call(BPF_FUNC_redirect, 4, 0, 0, 0, 0), XDP_REDIRECT);
	CHECK(rd->ifindex == 4 && rd->map == NULL && rd->flags == 0 && rd->tgt_index == 4);
	sl_map_destroy(dev);
	sl_map_destroy(dev8);
	sl_map_destroy(xsk);
	sl_map_destroy(cpu);
	sl_map_destroy(hash);
	sl_map_destroy(arr);
}

int main(void)
{
	struct sl_rng rng = sl_rng_make(20261206, SL_RNG_XORSHIFT_STAR);

	sl_test_seed(20261206);
	test_csum(&rng);
	test_xdp_bytes();
	test_skb_bytes();
	test_redirect();
	return sl_test_done("test_helpers_data");
}
