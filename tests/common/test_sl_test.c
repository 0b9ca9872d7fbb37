/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The test-support library's own test (suite 'common'): both generators
 * against reference outputs computed by hand (Python big integers, seed 1),
 * the whole-file read on an empty, a small and a 100 KB file and on a
 * missing one, a directory's listing (sorted, filtered, a file kept as is), the program builder's limit, jump landing, call patching and
 * lddw, and the check counters.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sl_test_bpf.h"

static void rng_vectors(void)
{
	static const uint64_t xs[3] = { 0x40822041ull, 0x100041060c011441ull, 0x9b1e842f6e862629ull };
	static const uint64_t star[3] = { 0x47e4ce4b896cdd1dull, 0xabcfa6a8e079651dull,
					  0xb9d10d8feb731f57ull };
	struct sl_rng a = sl_rng_make(1, SL_RNG_XORSHIFT), b = sl_rng_make(1, SL_RNG_XORSHIFT_STAR);
	struct sl_rng z = sl_rng_make(0, SL_RNG_XORSHIFT);

	for (int i = 0; i < 3; i++) {
		CHECK_EQ(sl_rng_u64(&a), xs[i]);
		CHECK_EQ(sl_rng_u64(&b), star[i]);
	}
	CHECK(sl_rng_u64(&z) != 0, "seed 0 must not give the all-zero stream");
	for (int i = 0; i < 1000; i++)
		CHECK(sl_rng_below(&a, 7) < 7);
}

static void file_reads(void)
{
	char dir[] = "/tmp/sl-testsupport-XXXXXX", path[64];
	static char big[100000];
	size_t len = 1;
	char *got;
	FILE *f;

	if (!CHECK(mkdtemp(dir), "mkdtemp"))
		return;
	snprintf(path, sizeof(path), "%s/f", dir);
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (char)('a' + i % 26);
	for (int k = 0; k < 3; k++) {
		size_t n = k == 0 ? 0 : k == 1 ? 5 : sizeof(big);

		f = fopen(path, "wb");
		CHECK(f && fwrite(big, 1, n, f) == n);
		if (f)
			fclose(f);
		got = sl_test_read_file(path, &len);
		CHECK(got && len == n && !memcmp(got, big, n) && got[n] == 0, "file of %zu bytes", n);
		free(got);
	}
	unlink(path);
	errno = 0;
	CHECK(!sl_test_read_file(path, &len) && errno == ENOENT, "missing file: errno %d", errno);
	rmdir(dir);
}

static void dir_listing(void)
{
	static const char *const names[] = { "b.data", "a.data", "c.txt", ".data", "c.data" };
	char dir[] = "/tmp/sl-testsupport-XXXXXX", path[64];
	char **list = NULL;
	unsigned n = 0;

	if (!CHECK(mkdtemp(dir), "mkdtemp"))
		return;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		FILE *f;

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		f = fopen(path, "w");
		CHECK(f);
		if (f)
			fclose(f);
	}
	snprintf(path, sizeof(path), "%s/c.txt", dir);
	CHECK_EQ(sl_test_list_files(path, ".data", &list, &n), 0);   /* a file: itself */
	CHECK_EQ(sl_test_list_files(dir, ".data", &list, &n), 0);
	if (CHECK_EQ(n, 4)) {
		CHECK(!strcmp(list[0], path), "%s", list[0]);
		for (int i = 0; i < 3; i++) {
			snprintf(path, sizeof(path), "%s/%c.data", dir, 'a' + i);
			CHECK(!strcmp(list[1 + i], path), "entry %d: %s, want %s", i, list[1 + i], path);
		}
	}
	sl_test_free_list(list, n);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		unlink(path);
	}
	rmdir(dir);
}

static void builder(void)
{
	static struct sl_tgen g;
	unsigned j;

	sl_tgen_init(&g, sl_rng_make(5, SL_RNG_XORSHIFT), 4);
	j = sl_tgen_jmp_fwd(&g, BPF_JMP | BPF_JEQ | BPF_K, 1, 0, 3);
	sl_tgen_call(&g);
	sl_tgen_emit(&g, BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 7);
	sl_tgen_land(&g, j);
	sl_tgen_patch_calls(&g, 3);
	sl_tgen_emit(&g, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
	sl_tgen_emit(&g, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);  /* past the limit of 4 */
	CHECK_EQ(g.n, 4);
	CHECK_EQ(g.dropped, 1);
	CHECK_EQ(g.insns[0].off, 2);   /* lands on pc 3 */
	CHECK_EQ(g.insns[1].imm, 1);   /* call at pc 1 to pc 3 */
	CHECK_EQ(g.insns[1].src_reg, BPF_PSEUDO_CALL);
	sl_tgen_init(&g, sl_rng_make(5, SL_RNG_XORSHIFT), 0);
	sl_tgen_lddw(&g, 2, 0, 0x1122334455667788ull);
	CHECK_EQ(g.n, 2);
	CHECK_EQ((uint32_t)g.insns[0].imm, 0x55667788u);
	CHECK_EQ((uint32_t)g.insns[1].imm, 0x11223344u);
	CHECK_EQ(g.limit, SL_TGEN_MAX);
}

int main(void)
{
	unsigned long before;

	rng_vectors();
	file_reads();
	dir_listing();
	builder();
	before = sl_test_checks();
	CHECK(1);
	CHECK_EQ(sl_test_checks(), before + 1);
	return sl_test_done("testsupport");
}
