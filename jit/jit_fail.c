/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The JIT's one error path (control thread, part of sl_jit_compile()):
 * the first error wins and becomes one line "pc N: ..." in the caller's
 * log; every later one is dropped. Apart from jit.c so that layout.c,
 * which jit.c calls, reports errors without calling back into jit.c.
 */
#include <stdarg.h>
#include <stdio.h>

#include "jit_state.h"

int jit_fail(struct jit_state *st, int err, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (st->err)
		return st->err;
	st->err = err;
	if (!st->log || !st->log_len)
		return err;
	n = snprintf(st->log, st->log_len, "pc %u: ", st->pc);
	if (n >= 0 && (size_t)n < st->log_len) {
		va_start(ap, fmt);
		vsnprintf(st->log + n, st->log_len - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return err;
}
