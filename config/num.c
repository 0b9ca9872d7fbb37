/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The strict number parser (see sl_num.h). One place decides what a number
 * is, so that `--repeat 1e3`, `workers: 10x` and a preload line "-1" get
 * the same answer and the same kind of message everywhere.
 *
 * strtoull and strtod do the digit work; everything around them (sign,
 * blanks, trailing text, errno, NaN, range) is checked here.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl_num.h"

static int fail(int ret, char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(int ret, char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return ret;
}

/* The digits of an unsigned integer, decimal or 0x: whole string, no sign, no blank. */
static int parse_digits(const char *s, const char **end, uint64_t *v)
{
	char *e;
	int base = 10;

	if (!isdigit((unsigned char)s[0]))
		return -EINVAL;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		if (!isxdigit((unsigned char)s[2]))
			return -EINVAL;
		base = 16;
	}
	errno = 0;
	*v = strtoull(s, &e, base);
	*end = e;
	return errno == ERANGE ? -ERANGE : 0;
}

int sl_num_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out,
	       char *err, size_t errlen)
{
	const char *end = s;
	uint64_t v;
	int ret = parse_digits(s, &end, &v);

	if (ret == -EINVAL || (!ret && *end))
		return fail(-EINVAL, err, errlen, "want an integer in %" PRIu64 "..%" PRIu64
			    ", not '%s'", min, max, s);
	if (ret || v < min || v > max)
		return fail(-ERANGE, err, errlen, "want an integer in %" PRIu64 "..%" PRIu64
			    ", not '%s'", min, max, s);
	*out = v;
	return 0;
}

int sl_num_i64(const char *s, int64_t min, int64_t max, int64_t *out,
	       char *err, size_t errlen)
{
	bool neg = s[0] == '-';
	const char *end = s;
	uint64_t mag;
	int64_t v;
	int ret = parse_digits(s + neg, &end, &mag);

	if (ret == -EINVAL || (!ret && *end))
		return fail(-EINVAL, err, errlen, "want an integer in %" PRId64 "..%" PRId64
			    ", not '%s'", min, max, s);
	if (!ret && (neg ? mag > (uint64_t)INT64_MAX + 1 : mag > (uint64_t)INT64_MAX))
		ret = -ERANGE;
	v = neg ? (int64_t)(0 - mag) : (int64_t)mag;
	if (ret || v < min || v > max)
		return fail(-ERANGE, err, errlen, "want an integer in %" PRId64 "..%" PRId64
			    ", not '%s'", min, max, s);
	*out = v;
	return 0;
}

/*
 * A finite real at the start of s; *end after it. Hex floats, nan, inf and
 * overflow refused; a value below the smallest normal double is kept as
 * strtod rounds it (subnormal, or 0).
 */
static int parse_real(const char *s, const char **end, double *v)
{
	const char *p = s + (s[0] == '-' || s[0] == '+');
	char *e;

	if (!isdigit((unsigned char)p[0]) && !(p[0] == '.' && isdigit((unsigned char)p[1])))
		return -EINVAL;
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
		return -EINVAL;
	*v = strtod(s, &e);
	*end = e;
	/* overflow is infinite; underflow (a subnormal or 0) is the nearest value */
	return isfinite(*v) ? 0 : -ERANGE;
}

static int check_real(const char *s, double v, double min, double max, char *err,
		      size_t errlen, const char *what)
{
	if (v < min || v > max || (signbit(v) && min >= 0))
		return fail(-ERANGE, err, errlen, "want %s in %g..%g, not '%s'", what, min, max, s);
	return 0;
}

int sl_num_double(const char *s, double min, double max, double *out,
		  char *err, size_t errlen)
{
	const char *end = s;
	double v;
	int ret = parse_real(s, &end, &v);

	if (ret == -EINVAL || (!ret && *end))
		return fail(-EINVAL, err, errlen, "want a number in %g..%g, not '%s'", min, max, s);
	if (ret)
		return fail(-ERANGE, err, errlen, "want a number in %g..%g, not '%s'", min, max, s);
	ret = check_real(s, v, min, max, err, errlen, "a number");
	if (!ret)
		*out = v;
	return ret;
}

struct unit {
	const char *name;
	double scale;
};

static const struct unit time_units[] = {
	{ "", 1 }, { "s", 1 }, { "ms", 1e-3 }, { "us", 1e-6 }, { "ns", 1e-9 },
	{ "m", 60 }, { "h", 3600 },
};

int sl_num_seconds(const char *s, double min, double max, double *out,
		   char *err, size_t errlen)
{
	const char *end = s;
	double v;
	int ret = parse_real(s, &end, &v);

	for (size_t i = 0; ret == 0 && i < sizeof(time_units) / sizeof(time_units[0]); i++) {
		if (strcmp(end, time_units[i].name))
			continue;
		v *= time_units[i].scale;
		ret = check_real(s, v, min, max, err, errlen, "seconds");
		if (!ret)
			*out = v;
		return ret;
	}
	return fail(ret ? ret : -EINVAL, err, errlen,
		    "want seconds in %g..%g (a number, unit s, ms, us, ns, m or h), not '%s'",
		    min, max, s);
}

static const struct unit size_units[] = {
	{ "", 1 }, { "K", 1024.0 }, { "KiB", 1024.0 }, { "M", 1048576.0 }, { "MiB", 1048576.0 },
	{ "G", 1073741824.0 }, { "GiB", 1073741824.0 },
	{ "T", 1099511627776.0 }, { "TiB", 1099511627776.0 },
};

int sl_num_size(const char *s, uint64_t min, uint64_t max, uint64_t *out,
		char *err, size_t errlen)
{
	const char *end = s;
	uint64_t v;
	int ret = parse_digits(s, &end, &v);

	for (size_t i = 0; ret != -EINVAL && i < sizeof(size_units) / sizeof(size_units[0]); i++) {
		uint64_t scale = (uint64_t)size_units[i].scale;

		if (strcmp(end, size_units[i].name))
			continue;
		if (ret || v > UINT64_MAX / scale || v * scale < min || v * scale > max)
			return fail(-ERANGE, err, errlen, "want a size in %" PRIu64 "..%" PRIu64
				    ", not '%s'", min, max, s);
		*out = v * scale;
		return 0;
	}
	return fail(-EINVAL, err, errlen, "want a size in %" PRIu64 "..%" PRIu64
		    " (an integer, unit K, M, G or T), not '%s'", min, max, s);
}

int sl_num_opt_u64(const char *cmd, const char *opt, const char *s, uint64_t min,
		   uint64_t max, uint64_t *out)
{
	char err[256];
	int ret = sl_num_u64(s, min, max, out, err, sizeof(err));

	if (ret)
		fprintf(stderr, "sluice %s: %s: %s\n", cmd, opt, err);
	return ret;
}

int sl_num_opt_seconds(const char *cmd, const char *opt, const char *s, double min,
		       double max, double *out)
{
	char err[256];
	int ret = sl_num_seconds(s, min, max, out, err, sizeof(err));

	if (ret)
		fprintf(stderr, "sluice %s: %s: %s\n", cmd, opt, err);
	return ret;
}
