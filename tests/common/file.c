/* SPDX-License-Identifier: BSD-3-Clause */
/* Whole-file reads for tests (sl_test.h): one routine instead of one per test. */
#include <errno.h>
#include <stdlib.h>

#include "sl_test.h"

char *sl_test_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	size_t cap = 4096, n = 0;
	char *buf = NULL, *nb;
	int err = 0;

	if (!f)
		return NULL;
	for (;;) {
		if (!(nb = realloc(buf, cap + 1))) {
			err = ENOMEM;
			break;
		}
		buf = nb;
		n += fread(buf + n, 1, cap - n, f);
		if (n < cap) {
			err = ferror(f) ? EIO : 0;
			break;
		}
		cap *= 2;
	}
	fclose(f);
	if (err) {
		free(buf);
		errno = err;
		return NULL;
	}
	buf[n] = 0;
	if (len)
		*len = n;
	return buf;
}
