/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Maps that survive a restart: `maps: {NAME: {persist: FILE}}` in the
 * config, `sluice ctl map save NAME [FILE]`.
 *
 * File (host byte order; read back only by a sluice on the same machine
 * type):
 *
 *   "SLMAPv1\n"                                  8 bytes
 *   type key_size value_size max_entries flags   5 x u32 (struct sl_map_def)
 *   ncpus stride                                 2 x u32 (per-CPU slots, 1 for shared maps;
 *                                                bytes between slots)
 *   entries                                      u64
 *   entries x (key, control-API value)           per-CPU values: every slot
 *   FNV-1a 64 of every byte above                u64
 *
 * Save (control thread, workers running: the map's batch dump, the same
 * consistency as `ctl map dump`): written to FILE.tmp, fsync, rename over
 * FILE, fsync of the directory. A crash at any point leaves FILE as the
 * last complete save (rename is atomic) and at worst a stale FILE.tmp,
 * overwritten by the next save.
 *
 * Restore (start, after the preload files, before traffic): a missing file
 * is an empty start (said); a file whose definition differs from the
 * map's (type, key/value size, max_entries, flags, per-CPU slot count), a
 * short file or a bad checksum is refused with one line, and the run does
 * not start.
 *
 * Tests only: SLUICE_TEST_PERSIST_DELAY_MS=N sleeps N ms after the entries
 * are written and before the fsync and rename, so a test can kill the
 * engine in the middle of a save (engine/tests/ops). Control thread.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine_internal.h"
#include "persist.h"
#include "sl_config.h"
#include "sl_maps.h"

static const char magic[8] = "SLMAPv1\n";

struct hdr {
	char magic[8];
	struct sl_map_def def;
	uint32_t ncpus, stride;
	uint64_t entries;
};

struct wr {
	FILE *f;
	uint64_t sum;
	size_t klen, vlen;
	uint64_t n;
	int err;
};

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

static void hdr_of(struct sl_map *map, struct hdr *h)
{
	bool pc = sl_map_is_percpu(map);

	memset(h, 0, sizeof(*h));
	memcpy(h->magic, magic, sizeof(magic));
	h->def = *sl_map_get_def(map);
	h->ncpus = pc ? sl_map_ncpus(map) : 1;
	h->stride = pc ? (h->def.value_size + 7u) & ~7u : h->def.value_size;
}

static void put(struct wr *w, const void *p, size_t n)
{
	if (!w->err && fwrite(p, 1, n, w->f) != n)
		w->err = -errno ?: -EIO;
	w->sum = fnv(w->sum, p, n);
}

static int put_entry(const void *key, const void *value, void *arg)
{
	struct wr *w = arg;

	put(w, key, w->klen);
	put(w, value, w->vlen);
	w->n++;
	return w->err;
}

static void test_delay(void)
{
	const char *d = getenv("SLUICE_TEST_PERSIST_DELAY_MS");

	if (d && atoi(d) > 0)
		usleep((useconds_t)atoi(d) * 1000u);
}

/* fsync the directory holding @p path (the rename's entry). */
static int sync_dir(const char *path)
{
	char copy[4096];
	int fd, err = 0;

	snprintf(copy, sizeof(copy), "%s", path);
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fsync(fd))
		err = -errno;
	close(fd);
	return err;
}

/* Entries first (their count unknown until the dump ends), header rewritten at the end. */
static int write_all(struct sl_map *map, FILE *f, uint64_t *n)
{
	struct hdr h;
	struct wr w = { .f = f, .sum = 0xcbf29ce484222325ull };
	int err;

	hdr_of(map, &h);
	w.klen = h.def.key_size;
	w.vlen = sl_map_ctl_value_size(map);
	if (fwrite(&h, sizeof(h), 1, f) != 1)
		return -errno ?: -EIO;
	err = sl_map_ctl_dump(map, put_entry, &w);
	if (err && !w.err)
		return err < 0 ? err : -EIO;
	if (w.err)
		return w.err;
	h.entries = w.n;
	/* the checksum covers the header as finally written */
	w.sum = fnv(0xcbf29ce484222325ull, &h, sizeof(h));
	if (fseek(f, (long)sizeof(h), SEEK_SET))
		return -errno;
	{
		uint8_t buf[65536];
		size_t r;

		while ((r = fread(buf, 1, sizeof(buf), f)) > 0)
			w.sum = fnv(w.sum, buf, r);
		if (ferror(f))
			return -EIO;
	}
	if (fseek(f, 0, SEEK_END) || fwrite(&w.sum, sizeof(w.sum), 1, f) != 1 ||
	    fseek(f, 0, SEEK_SET) || fwrite(&h, sizeof(h), 1, f) != 1 || fflush(f))
		return -errno ?: -EIO;
	*n = w.n;
	return 0;
}

int sl_persist_save(struct sl_map *map, const char *path, uint64_t *entries, char *err,
		    size_t err_len)
{
	char tmp[4200];
	uint64_t n = 0;
	FILE *f;
	int e;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w+b");
	if (!f) {
		snprintf(err, err_len, "save %s: %s: %s", sl_map_name(map), tmp, strerror(errno));
		return -errno;
	}
	e = write_all(map, f, &n);
	if (!e)
		test_delay();
	if (!e && fsync(fileno(f)))
		e = -errno;
	if (fclose(f) && !e)
		e = -errno ?: -EIO;
	if (!e && rename(tmp, path))
		e = -errno;
	if (!e)
		e = sync_dir(path);
	if (e) {
		unlink(tmp);
		snprintf(err, err_len, "save %s to %s: %s", sl_map_name(map), path, strerror(-e));
		return e;
	}
	if (entries)
		*entries = n;
	return 0;
}

static const char *def_diff(const struct hdr *a, const struct hdr *b)
{
	if (a->def.type != b->def.type)
		return "map type";
	if (a->def.key_size != b->def.key_size)
		return "key size";
	if (a->def.value_size != b->def.value_size)
		return "value size";
	if (a->def.max_entries != b->def.max_entries)
		return "max_entries";
	if (a->def.map_flags != b->def.map_flags)
		return "flags";
	if (a->ncpus != b->ncpus)
		return "per-CPU slot count (workers)";
	return NULL;
}

/* The whole file, its header checked against @p map. */
static uint8_t *read_checked(struct sl_map *map, const char *path, size_t *len, char *err,
			     size_t err_len)
{
	struct hdr want, h;
	uint64_t sum;
	uint8_t *buf = NULL;
	const char *diff;
	size_t need;
	FILE *f = fopen(path, "rb");
	long sz;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) || (sz = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) ||
	    !(buf = malloc((size_t)sz + 1)) || fread(buf, 1, (size_t)sz, f) != (size_t)sz) {
		snprintf(err, err_len, "%s: cannot read: %s", path, strerror(errno ?: EIO));
		goto bad;
	}
	hdr_of(map, &want);
	if ((size_t)sz < sizeof(h) + 8 || memcmp(buf, magic, sizeof(magic))) {
		snprintf(err, err_len, "%s: not a sluice map file", path);
		goto bad;
	}
	memcpy(&h, buf, sizeof(h));
	diff = def_diff(&h, &want);
	if (diff) {
		snprintf(err, err_len, "%s: saved from a map with another %s than map '%s' "
			 "(type %u key %u value %u max_entries %u flags %#x slots %u): refused",
			 path, diff, sl_map_name(map), h.def.type, h.def.key_size, h.def.value_size,
			 h.def.max_entries, h.def.map_flags, h.ncpus);
		goto bad;
	}
	need = sizeof(h) + h.entries * (h.def.key_size + sl_map_ctl_value_size(map)) + 8;
	memcpy(&sum, buf + sz - 8, 8);
	if ((size_t)sz != need || fnv(0xcbf29ce484222325ull, buf, (size_t)sz - 8) != sum) {
		snprintf(err, err_len, "%s: truncated or corrupt (%ld bytes, checksum %s)", path, sz,
			 (size_t)sz != need ? "not reached" : "wrong");
		goto bad;
	}
	fclose(f);
	*len = (size_t)sz;
	return buf;
bad:
	fclose(f);
	free(buf);
	errno = EINVAL;
	return NULL;
}

int sl_persist_restore(struct sl_map *map, const char *path, uint64_t *entries, char *err,
		       size_t err_len)
{
	size_t len, klen = sl_map_get_def(map)->key_size, vlen = sl_map_ctl_value_size(map);
	uint8_t *buf, *p;
	struct hdr h;
	int e = 0;

	errno = 0;
	buf = read_checked(map, path, &len, err, err_len);
	if (!buf && errno == ENOENT)
		return -ENOENT;
	if (!buf)
		return -EINVAL;
	memcpy(&h, buf, sizeof(h));
	p = buf + sizeof(h);
	for (uint64_t i = 0; i < h.entries && !e; i++, p += klen + vlen)
		e = sl_map_ctl_update(map, p, p + klen, BPF_ANY);
	free(buf);
	if (e) {
		snprintf(err, err_len, "%s: restoring map '%s': %s", path, sl_map_name(map),
			 strerror(-e));
		return e;
	}
	*entries = h.entries;
	return 0;
}

int sl_persist_restore_all(struct sl_engine *eng)
{
	const struct sl_config *cfg = eng->opts->cfg;
	char err[768];

	for (unsigned i = 0; cfg && i < cfg->nmaps; i++) {
		const struct sl_config_map *m = &cfg->maps[i];
		struct sl_map *map = m->persist[0] ? sl_obj_map_by_name(eng->obj, m->name) : NULL;
		uint64_t n = 0;
		int e;

		if (!map)
			continue;
		e = sl_persist_restore(map, m->persist, &n, err, sizeof(err));
		if (e == -ENOENT) {
			if (!eng->opts->quiet)
				printf("sluice: map %s: no %s yet: starting empty\n", m->name, m->persist);
			continue;
		}
		if (e) {
			fprintf(stderr, "sluice run: maps.%s.persist: %s\n", m->name, err);
			return e;
		}
		if (!eng->opts->quiet)
			printf("sluice: map %s: %llu entr%s restored from %s\n", m->name,
			       (unsigned long long)n, n == 1 ? "y" : "ies", m->persist);
	}
	return 0;
}

int sl_persist_save_all(struct sl_engine *eng)
{
	const struct sl_config *cfg = eng->opts->cfg;
	char err[768];
	int ret = 0;

	for (unsigned i = 0; cfg && i < cfg->nmaps; i++) {
		const struct sl_config_map *m = &cfg->maps[i];
		struct sl_map *map = m->persist[0] ? sl_obj_map_by_name(eng->obj, m->name) : NULL;
		uint64_t n = 0;

		if (!map)
			continue;
		if (sl_persist_save(map, m->persist, &n, err, sizeof(err))) {
			fprintf(stderr, "sluice run: maps.%s.persist: %s\n", m->name, err);
			ret = -EIO;
		} else if (!eng->opts->quiet) {
			printf("sluice: map %s: %llu entr%s saved to %s\n", m->name,
			       (unsigned long long)n, n == 1 ? "y" : "ies", m->persist);
		}
	}
	return ret;
}

const char *sl_persist_path(const struct sl_engine *eng, const char *name)
{
	const struct sl_config *cfg = eng->opts->cfg;

	for (unsigned i = 0; cfg && i < cfg->nmaps; i++)
		if (!strcmp(cfg->maps[i].name, name) && cfg->maps[i].persist[0])
			return cfg->maps[i].persist;
	return NULL;
}
