/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Checks, seed and skip lines of the test-support library (sl_test.h).
 * Counters are atomic so that threaded tests (maps stress) may CHECK from
 * any thread; messages go to stderr, the summary to stdout.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "sl_test.h"

static atomic_ulong n_checks, n_failures;
static uint64_t run_seed;
static bool have_seed;

unsigned long sl_test_checks(void)
{
	return atomic_load(&n_checks);
}

unsigned long sl_test_failures(void)
{
	return atomic_load(&n_failures);
}

void sl_test_seed(uint64_t seed)
{
	run_seed = seed;
	have_seed = true;
}

/* The first failure names the seed, so a rerun needs no other output. */
static void count_failure(void)
{
	if (atomic_fetch_add(&n_failures, 1) == 0 && have_seed)
		fprintf(stderr, "(seed %" PRIu64 ")\n", run_seed);
}

bool sl_test_count(void)
{
	atomic_fetch_add(&n_checks, 1);
	return true;
}

bool sl_test_fail(const char *file, int line, const char *expr, const char *fmt, ...)
{
	va_list ap;

	flockfile(stderr);
	fprintf(stderr, "%s:%d: FAIL:", file, line);
	if (expr)
		fprintf(stderr, " %s:", expr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	funlockfile(stderr);
	count_failure();
	return false;
}

bool sl_test_check_eq(long long a, long long b, const char *file, int line, const char *ea,
		      const char *eb)
{
	atomic_fetch_add(&n_checks, 1);
	if (a == b)
		return true;
	fprintf(stderr, "%s:%d: FAIL: %s == %lld (0x%llx), expected %s == %lld (0x%llx)\n", file,
		line, ea, a, (unsigned long long)a, eb, b, (unsigned long long)b);
	count_failure();
	return false;
}

void sl_test_fatal(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s:%d: FAIL:", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	count_failure();
	exit(1);
}

int sl_test_done(const char *name)
{
	unsigned long f = sl_test_failures();

	printf("%s: %lu checks, %lu failures", name, sl_test_checks(), f);
	if (f && have_seed)
		printf(" (seed %" PRIu64 ")", run_seed);
	printf("\n");
	return f ? 1 : 0;
}

int sl_test_skip(const char *fmt, ...)
{
	va_list ap;

	printf("SKIP: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	return 77;
}
