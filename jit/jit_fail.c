/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The JIT's one error path (control thread, part of sl_jit_compile()),
 * through sluice's one error formatter (sl_errlog_set()): the first error
 * wins and becomes one line "pc N: ..." in the caller's log; every later
 * one is dropped. Apart from jit.c so that layout.c,
 * which jit.c calls, reports errors without calling back into jit.c.
 */
#include <stdarg.h>
#include <stdio.h>

#include "jit_state.h"

int jit_fail(struct jit_state *st, int err, const char *fmt, ...)
{
	char where[16];
	va_list ap;

	if (st->log.err)
		return st->log.err;
	snprintf(where, sizeof(where), "pc %u", st->pc);
	va_start(ap, fmt);
	sl_errlog_vset(&st->log, err, where, fmt, ap);
	va_end(ap);
	return st->log.err;
}
