/* SPDX-License-Identifier: BSD-3-Clause */
/* The strict number parser: a table of inputs, each with its expected result. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "sl_num.h"
#include "sl_test.h"

enum kind { U64, I64, DBL, SECS, SIZE };

struct num_case {
	enum kind kind;
	const char *text;
	double min, max;
	int ret;       /* 0, -EINVAL, -ERANGE */
	double want;   /* value when ret == 0 (exact for integers below 2^53) */
};

static const struct num_case cases[] = {
	{ U64, "0", 0, 10, 0, 0 },
	{ U64, "10", 0, 10, 0, 10 },
	{ U64, "0x1f", 0, 100, 0, 31 },
	{ U64, "11", 0, 10, -ERANGE, 0 },
	{ U64, "-1", 0, 10, -EINVAL, 0 },
	{ U64, "1e3", 0, 10000, -EINVAL, 0 },
	{ U64, "10x", 0, 100, -EINVAL, 0 },
	{ U64, " 1", 0, 100, -EINVAL, 0 },
	{ U64, "1 ", 0, 100, -EINVAL, 0 },
	{ U64, "", 0, 100, -EINVAL, 0 },
	{ U64, "0x", 0, 100, -EINVAL, 0 },
	{ U64, "+5", 0, 100, -EINVAL, 0 },
	{ U64, "5000000000", 0, 4294967295.0, -ERANGE, 0 },
	{ U64, "99999999999999999999999", 0, 1e19, -ERANGE, 0 },
	{ U64, "nan", 0, 100, -EINVAL, 0 },
	{ I64, "-5", -10, 10, 0, -5 },
	{ I64, "-11", -10, 10, -ERANGE, 0 },
	{ I64, "--1", -10, 10, -EINVAL, 0 },
	{ I64, "-", -10, 10, -EINVAL, 0 },
	{ DBL, "1.5", 0, 10, 0, 1.5 },
	{ DBL, "1e3", 0, 1e4, 0, 1000 },
	{ DBL, "nan", 0, 10, -EINVAL, 0 },
	{ DBL, "inf", 0, 10, -EINVAL, 0 },
	{ DBL, "1e999", 0, 10, -ERANGE, 0 },
	{ DBL, "4.9e-324", 0, 10, 0, 4.9e-324 },    /* a subnormal: kept */
	{ DBL, "1e-400", 0, 10, 0, 0 },             /* below every double: 0 */
	{ DBL, "-0", 0, 10, -ERANGE, 0 },
	{ DBL, "-0.5", -1, 10, 0, -0.5 },
	{ DBL, "0x10", 0, 100, -EINVAL, 0 },
	{ DBL, "2.5abc", 0, 10, -EINVAL, 0 },
	{ SECS, "2", 0.001, 1e9, 0, 2 },
	{ SECS, "250ms", 0.001, 1e9, 0, 0.25 },
	{ SECS, "2m", 0.001, 1e9, 0, 120 },
	{ SECS, "1h", 0.001, 1e9, 0, 3600 },
	{ SECS, "0", 0.001, 1e9, -ERANGE, 0 },
	{ SECS, "-0", 0.001, 1e9, -ERANGE, 0 },
	{ SECS, "nan", 0.001, 1e9, -EINVAL, 0 },
	{ SECS, "5parsecs", 0.001, 1e9, -EINVAL, 0 },
	{ SECS, "0", 0, 1e9, 0, 0 },
	{ SIZE, "64K", 0, 1e12, 0, 65536 },
	{ SIZE, "2MiB", 0, 1e12, 0, 2097152 },
	{ SIZE, "3", 0, 1e12, 0, 3 },
	{ SIZE, "5Q", 0, 1e12, -EINVAL, 0 },
	{ SIZE, "1.5M", 0, 1e12, -EINVAL, 0 },
	{ SIZE, "20000000T", 0, 1.8e19, -ERANGE, 0 },
	{ SIZE, "2G", 0, 1073741824.0, -ERANGE, 0 },
};

static int run_case(const struct num_case *c, double *got, char *err, size_t errlen)
{
	uint64_t u = 0;
	int64_t i = 0;
	int ret;

	switch (c->kind) {
	case U64:
		ret = sl_num_u64(c->text, (uint64_t)c->min, (uint64_t)c->max, &u, err, errlen);
		*got = (double)u;
		return ret;
	case I64:
		ret = sl_num_i64(c->text, (int64_t)c->min, (int64_t)c->max, &i, err, errlen);
		*got = (double)i;
		return ret;
	case SIZE:
		ret = sl_num_size(c->text, (uint64_t)c->min, (uint64_t)c->max, &u, err, errlen);
		*got = (double)u;
		return ret;
	case DBL:
		return sl_num_double(c->text, c->min, c->max, got, err, errlen);
	default:
		return sl_num_seconds(c->text, c->min, c->max, got, err, errlen);
	}
}

int main(void)
{
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		const struct num_case *c = &cases[k];
		char err[256] = "";
		double got = 0;
		int ret = run_case(c, &got, err, sizeof(err));

		CHECK(ret == c->ret && (ret != 0 || fabs(got - c->want) <= 1e-9) &&
		      (ret == 0 || strstr(err, c->text)),
		      "case %zu '%s': ret %d value %g msg '%s'; want ret %d value %g",
		      k, c->text, ret, got, err, c->ret, c->want);
	}
	printf("%zu cases\n", sizeof(cases) / sizeof(cases[0]));
	return sl_test_done("config_num");
}
