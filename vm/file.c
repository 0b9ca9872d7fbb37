/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The one whole-file read of sluice's code (sl_vm_read_file, sl_vm.h): the
 * ELF loader reads objects with it, `sluice verify`, `disasm` and
 * `test-run` read raw programs and packets with it. Two modes, so each
 * caller keeps what it accepted before: no limit (max 0) takes regular
 * files only, sized by fstat; a limit takes anything that is not a
 * directory (pipes, /dev/stdin) and refuses more than max bytes. Control
 * thread or main(); allocates.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sl_vm.h"

/* read() until EOF or @p cap bytes; -errno, or the byte count */
static ssize_t read_all(int fd, uint8_t *buf, size_t cap)
{
	size_t got = 0;

	while (got < cap) {
		ssize_t n = read(fd, buf + got, cap - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

/* Grow the buffer until EOF; one byte more than @p max means too large. */
static int read_stream(int fd, size_t max, uint8_t **buf, size_t *len)
{
	size_t cap = 4096, n = 0;
	uint8_t *b = NULL, *nb;

	for (;;) {
		ssize_t got;

		if (cap > max + 1)
			cap = max + 1;
		if (!(nb = realloc(b, cap))) {
			free(b);
			return -ENOMEM;
		}
		b = nb;
		got = read_all(fd, b + n, cap - n);
		if (got < 0) {
			free(b);
			return (int)got;
		}
		n += (size_t)got;
		if (n > max) {
			free(b);
			return -EFBIG;
		}
		if (n < cap)
			break;
		cap *= 2;
	}
	*buf = b;
	*len = n;
	return 0;
}

static int read_regular(int fd, size_t size, uint8_t **buf, size_t *len)
{
	uint8_t *b = malloc(size ? size : 1);
	ssize_t got;

	if (!b)
		return -ENOMEM;
	got = read_all(fd, b, size);
	if (got < 0 || (size_t)got != size) {
		free(b);
		return got < 0 ? (int)got : -EIO;
	}
	*buf = b;
	*len = size;
	return 0;
}

int sl_vm_read_file(const char *path, size_t max, uint8_t **buf, size_t *len)
{
	struct stat st;
	int fd, err;

	if (!path || !buf || !len)
		return -EINVAL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		err = -errno;
	else if (S_ISDIR(st.st_mode))
		err = -EISDIR;
	else if (max)
		err = read_stream(fd, max, buf, len);
	else if (!S_ISREG(st.st_mode))
		err = -EINVAL;
	else
		err = read_regular(fd, (size_t)st.st_size, buf, len);
	close(fd);
	return err;
}
