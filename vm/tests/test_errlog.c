/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The one error formatter (sl_errlog_set): returns the -errno it is given,
 * keeps the first error, "where: message" as one printable line, truncates
 * to the caller's buffer, writes after text already in it (verifier trace).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "sl_errlog.h"
#include "sl_test.h"

int main(void)
{
	char buf[32];
	struct sl_errlog lg = { .buf = buf, .len = sizeof(buf) };

	memset(buf, 'x', sizeof(buf));
	CHECK(sl_errlog_set(&lg, -EINVAL, "pc 3", "bad %s", "jump") == -EINVAL, "returns err");
	CHECK(strcmp(buf, "pc 3: bad jump") == 0, "where: message");
	CHECK(lg.err == -EINVAL && lg.pos == strlen("pc 3: bad jump"), "err and pos recorded");
	CHECK(sl_errlog_set(&lg, -ENOMEM, "pc 9", "later") == -ENOMEM, "later call returns its err");
	CHECK(strcmp(buf, "pc 3: bad jump") == 0 && lg.err == -EINVAL, "first error wins");

	lg = (struct sl_errlog){ .buf = buf, .len = 8 };
	sl_errlog_set(&lg, -E2BIG, NULL, "%s", "0123456789");
	CHECK(strcmp(buf, "0123456") == 0 && lg.pos == 7, "truncated, NUL-terminated");

	lg = (struct sl_errlog){ .buf = buf, .len = sizeof(buf) };
	sl_errlog_set(&lg, -EINVAL, "a\nb.o", "map '%s'", "m\x01x");
	CHECK(strcmp(buf, "a?b.o: map 'm?x'") == 0, "control characters become '?'");

	strcpy(buf, "trace\n");
	lg = (struct sl_errlog){ .buf = buf, .len = sizeof(buf), .pos = 6 };
	sl_errlog_set(&lg, -EACCES, NULL, "denied");
	CHECK(strcmp(buf, "trace\ndenied") == 0, "line after existing text, text kept");

	lg = (struct sl_errlog){ 0 };
	CHECK(sl_errlog_set(&lg, -ENOENT, "x", "y") == -ENOENT && lg.err == -ENOENT,
	       "no buffer: error still recorded");

	return sl_test_done("errlog");
}
