/* SPDX-License-Identifier: BSD-3-Clause */
/* Minimal checking macros for the maps tests: count failures, report file:line. */
#ifndef SL_MAPS_TEST_CHECK_H
#define SL_MAPS_TEST_CHECK_H

#include <stdio.h>

static int check_failures;

#define CHECK(cond) do { \
	if (!(cond)) { \
		fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
		check_failures++; \
	} \
} while (0)

#define CHECK_EQ(a, b) do { \
	long long va_ = (long long)(a), vb_ = (long long)(b); \
	if (va_ != vb_) { \
		fprintf(stderr, "%s:%d: %s == %lld, expected %s == %lld\n", __FILE__, __LINE__, \
			#a, va_, #b, vb_); \
		check_failures++; \
	} \
} while (0)

#define CHECK_DONE() do { \
	if (check_failures) { \
		fprintf(stderr, "%d check(s) failed\n", check_failures); \
		return 1; \
	} \
	printf("ok\n"); \
	return 0; \
} while (0)

#endif
