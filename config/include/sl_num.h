/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file sl_num.h
 * The one strict number parser of sluice: command-line options, config
 * values and preload text all go through it.
 *
 * Strict means: the whole string is the number (no leading or trailing
 * blanks, no trailing garbage such as "10x"), integers are integers ("1e3"
 * is refused, not read as 1), unsigned values take no sign ("-1" is
 * refused, not wrapped), every value is checked against the caller's
 * range, and NaN and infinities are never numbers.
 *
 * Every function returns 0, -EINVAL (not a number of that kind) or -ERANGE
 * (outside [min, max]), and on failure writes one phrase into @p err (if
 * not NULL) that the caller prefixes with where the text came from:
 * "want an integer in 1..64, not '10x'". *out is written only on success.
 */
#ifndef SL_NUM_H
#define SL_NUM_H

#include <stddef.h>
#include <stdint.h>

/**
 * Unsigned integer: decimal, or hexadecimal with 0x.
 * @return 0, -EINVAL or -ERANGE (phrase in @p err).
 */
int sl_num_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out,
	       char *err, size_t errlen);

/** Signed integer: decimal with an optional '-', or 0x hexadecimal. Same returns. */
int sl_num_i64(const char *s, int64_t min, int64_t max, int64_t *out,
	       char *err, size_t errlen);

/**
 * Finite real number (strtod syntax, no hexadecimal floats). "-0" counts
 * as negative: it is refused when @p min >= 0. Same returns.
 */
int sl_num_double(const char *s, double min, double max, double *out,
		  char *err, size_t errlen);

/**
 * A duration in seconds: a real number with an optional unit, one of
 * "s", "ms", "us", "ns", "m", "h" ("1.5", "250ms", "2m"). @p min and
 * @p max are in seconds. Same returns.
 */
int sl_num_seconds(const char *s, double min, double max, double *out,
		   char *err, size_t errlen);

/**
 * A size in bytes or a count: an integer with an optional binary unit,
 * "K"/"KiB", "M"/"MiB", "G"/"GiB", "T"/"TiB" (powers of 1024).
 * Same returns; a product that overflows is -ERANGE.
 */
int sl_num_size(const char *s, uint64_t min, uint64_t max, uint64_t *out,
		char *err, size_t errlen);

/**
 * Command-line form: parse an unsigned option value and, on failure, print
 * "sluice CMD: OPT: PHRASE" on stderr. Same returns.
 */
int sl_num_opt_u64(const char *cmd, const char *opt, const char *s, uint64_t min,
		   uint64_t max, uint64_t *out);

/** Command-line form of sl_num_seconds(). */
int sl_num_opt_seconds(const char *cmd, const char *opt, const char *s, double min,
		       double max, double *out);

#endif
