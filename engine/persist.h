/* SPDX-License-Identifier: BSD-3-Clause */
/* Maps that survive a restart (persist.c): file format and atomicity there. */
#ifndef SL_ENGINE_PERSIST_H
#define SL_ENGINE_PERSIST_H

#include <stddef.h>
#include <stdint.h>

struct sl_map;
struct sl_engine;

/**
 * Save @p map to @p path atomically (FILE.tmp, fsync, rename, directory
 * fsync). @p entries: how many were written. 0 or -errno with one line in
 * @p err. Control thread (workers may run).
 */
int sl_persist_save(struct sl_map *map, const char *path, uint64_t *entries, char *err,
		    size_t err_len);
/**
 * Restore @p map from @p path. -ENOENT: no file (nothing said); -EINVAL: a
 * file for another map definition, short or corrupt (one line in @p err).
 */
int sl_persist_restore(struct sl_map *map, const char *path, uint64_t *entries, char *err,
		       size_t err_len);
/** Every maps.NAME.persist of the config: restore at start. 0 or -errno (line printed). */
int sl_persist_restore_all(struct sl_engine *eng);
/** Every maps.NAME.persist of the config: save (clean shutdown). 0 or -EIO (lines printed). */
int sl_persist_save_all(struct sl_engine *eng);
/** The config's persist file of map @p name, or NULL. */
const char *sl_persist_path(const struct sl_engine *eng, const char *name);

#endif
