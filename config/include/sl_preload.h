/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file sl_preload.h
 * Map preload files: the entries a map holds before traffic starts.
 *
 * One entry per line, "KEY VALUE" or "KEY" alone (a set), blank lines and "#" comments (from a "#" at the start of a
 * token to the end of the line) ignored. KEY and VALUE are written as
 * sl_text.h describes, typed through the map's BTF; a struct or a list
 * with blanks inside is one token ({a: 1, b: 2}).
 *
 * A key alone stores the value 1: the number 1 of the value's size (an
 * integer value, or the first byte 1 of an untyped one).
 * A per-CPU map gets the value in every worker's slot (as bpftool does).
 * An array map's entries replace its zeros; a hash map's are inserted
 * (a key given twice is an error, not a silent overwrite).
 */
#ifndef SL_PRELOAD_H
#define SL_PRELOAD_H

#include <stddef.h>

struct sl_obj;
struct sl_map;

/**
 * Read preload file @p path and store every entry into @p map of @p obj
 * (sl_map_ctl_update; control thread, before workers run or while they do).
 * @param label    how @p path is named in errors (NULL: @p path)
 * @param entries  out: entries stored (may be NULL)
 * @param log      one line on error: "LABEL:LINE: what was wrong, what was
 *                 expected" ("blocklist.txt:3: key: want an IPv4 prefix
 *                 (10.0.0.0/8), not '10.0.0.300/8'")
 * @return 0, or -ENOENT/-EACCES/... (file), -EINVAL (syntax), -ERANGE,
 *         -ENOTSUP (a type the text cannot express), -E2BIG (map full),
 *         -EEXIST (a key twice).
 */
int sl_preload_load(const struct sl_obj *obj, struct sl_map *map, const char *path,
		    const char *label, unsigned *entries, char *log, size_t log_len);

#endif
