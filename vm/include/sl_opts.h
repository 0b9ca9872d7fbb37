/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file sl_opts.h
 * Options structs that can grow (struct sl_obj_opts, struct sl_vm_run_opts,
 * struct sl_jit_opts): the rule, as libbpf's OPTS_VALID/OPTS_HAS.
 *
 * The first field is `size_t sz`, set by the caller to the sizeof() of the
 * struct it was compiled with (or left 0: zero-initialised means "the layout
 * of this header", a convenience libbpf does not have). Fields are only ever
 * added at the end, so:
 *   - a caller compiled against an older, shorter struct (sz smaller) gets
 *     the defaults for the fields it does not have: they are never read;
 *   - a caller compiled against a newer, longer struct (sz larger) is
 *     accepted only if every byte this sluice does not know is zero (it asks
 *     for nothing unknown); otherwise the call fails with EINVAL;
 *   - sz between 1 and sizeof(size_t)-1 cannot hold sz itself: EINVAL.
 */
#ifndef SL_OPTS_H
#define SL_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/**
 * True when the options struct at @p opts (NULL allowed) is acceptable to a
 * sluice that knows @p known bytes of it (its sizeof()): see the file comment.
 */
static inline bool sl_opts_valid(const void *opts, size_t known)
{
	const uint8_t *b = (const uint8_t *)opts;
	size_t sz;

	if (!opts)
		return true;
	sz = *(const size_t *)opts;
	if (sz == 0)
		return true;
	if (sz < sizeof(size_t))
		return false;
	for (size_t i = known; i < sz; i++)
		if (b[i])
			return false;
	return true;
}

/** @p opts (of struct @p type) holds @p field: sz 0 (current layout) or sz past its end. */
#define SL_OPTS_HAS(opts, type, field) \
	((opts) && (!(opts)->sz || (opts)->sz >= offsetof(type, field) + sizeof((opts)->field)))

#endif /* SL_OPTS_H */
