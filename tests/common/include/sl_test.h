/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_test.h: the test-support library every C test links (tests/common,
 * static library sl_testsupport; meson dependency sl_test_dep). This part
 * needs nothing but libc; sl_test_bpf.h adds the program side (builder,
 * kernel and sluice loaders).
 *
 * Design:
 * - One check family. CHECK(cond[, fmt, ...]) counts a check and, when
 *   cond is false, prints "FILE:LINE: FAIL: cond: message" to stderr and
 *   counts a failure; it never returns or aborts, so a test reports every
 *   wrong result in one run. CHECK_EQ(a, b) prints both values (signed and
 *   hex). sl_test_done(name) prints "NAME: C checks, F failures" (and the
 *   seed, if one was set) and gives main() its exit code. The counters are
 *   process-wide (one test per process, as meson runs them); threads may
 *   CHECK (atomic counters). FAIL(fmt, ...) is a failed check with a message
 *   only, for comparisons the test makes by hand; FATAL(fmt, ...) the same
 *   for a test that cannot go on (it exits 1).
 * - One random number generator, struct sl_rng: xorshift64* (Vigna), or
 *   with SL_RNG_XORSHIFT the plain xorshift64 <<13 >>7 <<17 that the maps
 *   and JIT suites drew their recorded seeds from, so each suite keeps
 *   exactly the cases it ran before it moved here. A test that takes a
 *   seed calls sl_test_seed() so that every failure line names it.
 * - sl_test_read_file(): a whole file into a NUL-terminated heap buffer;
 *   sl_test_list_files(): a directory's cases (NAME.data...), sorted.
 * - sl_test_pcap_read(): a capture's packets into memory (libpcap; a test
 *   that calls it links libpcap).
 * - sl_test_skip(): the one "SKIP: reason" line and exit code 77.
 */
#ifndef SL_TEST_H
#define SL_TEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* ---- checks ---- */

/** Checks counted so far / failed so far (all threads). */
unsigned long sl_test_checks(void);
unsigned long sl_test_failures(void);

/** Count one check. @return true (so that CHECK() can chain on it). */
bool sl_test_count(void);
/**
 * A failed check: print "FILE:LINE: FAIL: EXPR: message" ("FILE:LINE:
 * FAIL: message" when @p expr is NULL) and count it. @return false.
 * Called through CHECK() and FAIL(); @p fmt starts with a space.
 */
bool sl_test_fail(const char *file, int line, const char *expr, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/** CHECK_EQ's worker: counts, prints both values on a mismatch. */
bool sl_test_check_eq(long long a, long long b, const char *file, int line, const char *ea,
		      const char *eb);

/**
 * CHECK(cond) or CHECK(cond, "fmt", args...): counted; true when @p cond
 * holds. The message's arguments are evaluated only on a failure (as in
 * an if), so they may use what @p cond proved; never returns early.
 */
#define CHECK(cond, ...) ({ \
	bool sl_check_ok_ = sl_test_count() && (cond); \
	if (!sl_check_ok_) \
		sl_test_fail(__FILE__, __LINE__, #cond, " " __VA_ARGS__); \
	sl_check_ok_; \
})
/** FAIL("fmt", args...): a failed check with only a message (for hand-made comparisons). */
#define FAIL(...) ({ \
	sl_test_count(); \
	sl_test_fail(__FILE__, __LINE__, NULL, " " __VA_ARGS__); \
})
/** FATAL("fmt", args...): a failed check after which the test cannot go on: exit(1). */
#define FATAL(...) sl_test_fatal(__FILE__, __LINE__, " " __VA_ARGS__)
/** CHECK_EQ(got, want): both as long long; prints both on a mismatch. */
#define CHECK_EQ(a, b) sl_test_check_eq((long long)(a), (long long)(b), __FILE__, __LINE__, #a, #b)

/** FATAL's worker: print like FAIL (and the seed), then exit(1). */
void sl_test_fatal(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4), noreturn));

/** Remember the run's seed: printed with the first failure and by sl_test_done(). */
void sl_test_seed(uint64_t seed);

/**
 * Print "NAME: C checks, F failures" (plus the seed when failures and a
 * seed is set) on stdout. @return main()'s exit code: 0, or 1 on failures.
 */
int sl_test_done(const char *name);

/** Print "SKIP: reason" and @return 77 (meson's skip code) for main() to return. */
int sl_test_skip(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- random numbers ---- */

enum sl_rng_kind {
	SL_RNG_XORSHIFT_STAR,  /**< xorshift64*: state >>12 <<25 >>27, output * 0x2545F4914F6CDD1D */
	SL_RNG_XORSHIFT,       /**< xorshift64 <<13 >>7 <<17, output = state */
};

/** A seedable generator; copy it to fork a stream. State must not be 0. */
struct sl_rng {
	uint64_t s;
	enum sl_rng_kind kind;
};

/** A generator of @p kind from @p seed (0 is replaced by a fixed odd constant). */
static inline struct sl_rng sl_rng_make(uint64_t seed, enum sl_rng_kind kind)
{
	return (struct sl_rng){ .s = seed ? seed : 0x9e3779b97f4a7c15ull, .kind = kind };
}

/** Next 64 random bits. */
static inline uint64_t sl_rng_u64(struct sl_rng *r)
{
	if (r->kind == SL_RNG_XORSHIFT) {
		r->s ^= r->s << 13;
		r->s ^= r->s >> 7;
		r->s ^= r->s << 17;
		return r->s;
	}
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return r->s * 0x2545F4914F6CDD1DULL;
}

/** Uniform-ish in [0, @p n) (u64 % n); @p n > 0. */
static inline unsigned sl_rng_below(struct sl_rng *r, unsigned n)
{
	return (unsigned)(sl_rng_u64(r) % n);
}

/** True with probability @p pct percent. */
static inline bool sl_rng_chance(struct sl_rng *r, unsigned pct)
{
	return sl_rng_below(r, 100) < pct;
}

/* ---- files ---- */

/**
 * Read all of @p path into a heap buffer with a NUL after the last byte.
 * @param len set to the byte count (without the NUL); may be NULL
 * @return the buffer (caller frees), or NULL with errno set
 */
char *sl_test_read_file(const char *path, size_t *len);

/**
 * Append to the list (*@p out, *@p n) the files of directory @p path whose
 * names end in @p suffix (and are longer than it), sorted by name, each as
 * "PATH/NAME"; a @p path that is no directory is appended as it is (a
 * single case; opening it is the caller's check).
 * @return 0, or -ENOMEM (what was listed stays listed)
 */
int sl_test_list_files(const char *path, const char *suffix, char ***out, unsigned *n);
/** Free a list of sl_test_list_files(). */
void sl_test_free_list(char **list, unsigned n);

/** One packet of sl_test_pcap_read(): at most SL_TEST_PKT_ROOM bytes kept. */
#define SL_TEST_PKT_ROOM 2048
struct sl_test_pkt {
	uint32_t len;   /**< bytes kept: the captured length, cut at SL_TEST_PKT_ROOM */
	uint8_t data[SL_TEST_PKT_ROOM];
};

/**
 * The first @p max packets of the capture @p path (pcap or pcapng).
 * @param n set to the number read
 * @return a calloc'ed array (caller frees), or NULL after one line on stderr
 */
struct sl_test_pkt *sl_test_pcap_read(const char *path, unsigned max, unsigned *n);

#endif
