/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The one error formatter (see include/sl_errlog.h): the first error's line
 * into the caller's log buffer, returned as the negative errno it was given.
 * Control thread; no allocation.
 */
#include <stdio.h>

#include "sl_errlog.h"

int sl_errlog_vset(struct sl_errlog *lg, int err, const char *where, const char *fmt,
		   va_list ap)
{
	size_t start = lg->pos, room;
	int n = 0;

	if (lg->err)
		return err;
	lg->err = err;
	if (!lg->buf || start >= lg->len)
		return err;
	room = lg->len - start;
	if (where)
		n = snprintf(lg->buf + start, room, "%s: ", where);
	if (n < 0)
		n = 0;
	if ((size_t)n < room) {
		int m = vsnprintf(lg->buf + start + n, room - (size_t)n, fmt, ap);

		n += m > 0 ? m : 0;
	}
	lg->pos = start + ((size_t)n < room ? (size_t)n : room - 1);
	lg->buf[lg->pos] = '\0';
	/* one printable line: names from the input file must not break it */
	for (char *c = lg->buf + start; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = '?';
	return err;
}

int sl_errlog_set(struct sl_errlog *lg, int err, const char *where, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	err = sl_errlog_vset(lg, err, where, fmt, ap);
	va_end(ap);
	return err;
}
