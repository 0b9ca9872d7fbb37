/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * LD_PRELOAD shim for test_replay.py's 'eio' case: the first pread() of
 * the file offset SL_TEST_EIO_AT (decimal) fails with EIO, once; every
 * other pread() is the real one. A transient read error in the middle of
 * a replay, at a chunk's start (replay_par.c), where nothing else can be
 * made to fail on its own.
 */
#undef _FILE_OFFSET_BITS    /* pread and pread64 both defined here, not one redirected */
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <sys/types.h>
#include <unistd.h>

static int failed;

ssize_t pread64(int fd, void *buf, size_t n, off64_t off)
{
	static ssize_t (*real)(int, void *, size_t, off64_t);
	const char *at = getenv("SL_TEST_EIO_AT");

	if (at && off == (off64_t)strtoll(at, NULL, 10) && !__atomic_exchange_n(&failed, 1, __ATOMIC_SEQ_CST)) {
		errno = EIO;
		return -1;
	}
	if (!real)
		real = (ssize_t (*)(int, void *, size_t, off64_t))dlsym(RTLD_NEXT, "pread64");
	return real(fd, buf, n, off);
}

ssize_t pread(int fd, void *buf, size_t n, off_t off)
{
	return pread64(fd, buf, n, off);
}
