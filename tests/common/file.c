/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Files for tests (sl_test.h): whole-file reads and a directory's cases,
 * one routine each instead of one per test.
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

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

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Append a copy of @p path to the list (*out, *n). */
static int list_add(char ***out, unsigned *n, char *path)
{
	char **nl = path ? realloc(*out, (*n + 1) * sizeof(**out)) : NULL;

	if (!nl) {
		free(path);
		return -ENOMEM;
	}
	*out = nl;
	(*out)[(*n)++] = path;
	return 0;
}

int sl_test_list_files(const char *path, const char *suffix, char ***out, unsigned *n)
{
	DIR *d = opendir(path);
	size_t sl = strlen(suffix);
	unsigned first = *n;
	struct dirent *de;
	int err = 0;

	if (!d)
		return list_add(out, n, strdup(path));
	while (!err && (de = readdir(d))) {
		size_t l = strlen(de->d_name);
		char *p;

		if (l <= sl || strcmp(de->d_name + l - sl, suffix))
			continue;
		p = malloc(strlen(path) + l + 2);
		if (p)
			sprintf(p, "%s/%s", path, de->d_name);
		err = list_add(out, n, p);
	}
	closedir(d);
	qsort(*out + first, *n - first, sizeof(**out), cmp_str);
	return err;
}

void sl_test_free_list(char **list, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		free(list[i]);
	free(list);
}
