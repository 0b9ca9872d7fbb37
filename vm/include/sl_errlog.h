/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file sl_errlog.h
 * The one error formatter of sluice: one human line naming the location of
 * the first error ("prog.o: map 'flows': ...", "pc 12: R3 !read_ok") into a
 * log buffer that the caller owns, and the error as a negative errno.
 *
 * Every component that reports into a caller's log (loader, verifier,
 * interpreter's decoder, raw programs, JIT) goes through sl_errlog_set():
 *   - takes a negative errno and returns it unchanged, so a failing path is
 *     `return sl_errlog_set(lg, -EINVAL, where, "...", ...);`
 *   - the first error wins: once lg->err is set, later calls leave the
 *     buffer alone (the first error is the cause, later ones are fallout);
 *   - the line is one printable line: control characters from the input
 *     (names read from an ELF file) are written as '?'.
 * Control thread; never allocates.
 */
#ifndef SL_ERRLOG_H
#define SL_ERRLOG_H

#include <stdarg.h>
#include <stddef.h>

/** A caller-owned log buffer and the first error written into it. */
struct sl_errlog {
	char *buf;    /**< caller's buffer, or NULL for no text */
	size_t len;   /**< size of @p buf in bytes (0: no text) */
	size_t pos;   /**< offset where the error line starts (text before it, such
		       *   as a verifier trace, is kept); after a write, the offset
		       *   of the terminating NUL */
	int err;      /**< first error recorded (negative errno), 0 while none */
};

/**
 * Record error @p err with the line "<where>: <message>" (or "<message>" when
 * @p where is NULL) at lg->buf + lg->pos, truncated to fit, NUL-terminated.
 * Does nothing but return @p err if an error was recorded before.
 *
 * @param lg   the log; lg->buf may be NULL (error recorded, no text)
 * @param err  a negative errno (-EINVAL, -ENOMEM, ...)
 * @param where location prefix ("pc 12", an object name), or NULL
 * @param fmt  printf format of the message
 * @return @p err
 */
int sl_errlog_set(struct sl_errlog *lg, int err, const char *where, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/** sl_errlog_set() with a va_list. @return @p err */
int sl_errlog_vset(struct sl_errlog *lg, int err, const char *where, const char *fmt,
		   va_list ap) __attribute__((format(printf, 4, 0)));

#endif /* SL_ERRLOG_H */
