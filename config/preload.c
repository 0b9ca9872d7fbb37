/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Map preload files (format in sl_preload.h): read line by line with
 * getline, each line cut into at most two tokens (sl_text_token_end, so
 * that "{a: 1, b: 2}" is one token), each token converted through the
 * map's BTF (sl_text_parse), the entry stored with sl_map_ctl_update.
 *
 * A key given twice is an error in every map: hash-like maps store with
 * BPF_NOEXIST; arrays (whose every index exists) keep a bitmap of the
 * indexes this file set. Control thread.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/bpf.h>

#include "sl_maps.h"
#include "sl_preload.h"
#include "sl_text.h"

struct preload {
	const struct sl_obj *obj;
	struct sl_map *map;
	const char *label;
	unsigned line;
	struct sl_text_type kt, vt;
	uint8_t *key, *value, *slots;  /* key_size, value_size, the control-API value */
	uint8_t *seen;                 /* arrays: bitmap of indexes set */
	bool array;
	char *log;
	size_t log_len;
};

static int perr(struct preload *p, int ret, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int perr(struct preload *p, int ret, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (p->log && p->log_len)
		snprintf(p->log, p->log_len, "%s:%u: %s", p->label, p->line, msg);
	return ret;
}

static bool is_array(uint32_t type)
{
	/* every index exists (BPF_NOEXIST fails): arrays and the index-keyed redirect maps */
	return type == BPF_MAP_TYPE_ARRAY || type == BPF_MAP_TYPE_PERCPU_ARRAY ||
	       type == BPF_MAP_TYPE_DEVMAP || type == BPF_MAP_TYPE_XSKMAP ||
	       type == BPF_MAP_TYPE_CPUMAP;
}

/* Copy the one value into every per-CPU slot of the control-API layout. */
static void fill_slots(struct preload *p)
{
	size_t total = sl_map_ctl_value_size(p->map);
	size_t stride = (p->vt.size + 7) & ~(size_t)7;

	if (!sl_map_is_percpu(p->map)) {
		memcpy(p->slots, p->value, p->vt.size);
		return;
	}
	memset(p->slots, 0, total);
	for (size_t off = 0; off + p->vt.size <= total; off += stride)
		memcpy(p->slots + off, p->value, p->vt.size);
}

static int store(struct preload *p, const char *key_text)
{
	const struct sl_map_def *def = sl_map_get_def(p->map);
	uint64_t flags = p->array ? BPF_ANY : BPF_NOEXIST;
	uint32_t idx = 0;
	int ret;

	if (p->array) {
		memcpy(&idx, p->key, sizeof(idx));
		if (idx >= def->max_entries)
			return perr(p, -E2BIG, "key %u is outside array '%s' (max_entries %u)", idx,
				    sl_map_name(p->map), def->max_entries);
		if (p->seen[idx / 8] & (1u << (idx % 8)))
			return perr(p, -EEXIST, "key '%s' is given twice", key_text);
		p->seen[idx / 8] |= (uint8_t)(1u << (idx % 8));
	}
	fill_slots(p);
	ret = sl_map_ctl_update(p->map, p->key, p->slots, flags);
	if (ret == -EEXIST)
		return perr(p, ret, "key '%s' is given twice", key_text);
	if (ret == -E2BIG || ret == -ENOSPC)
		return perr(p, -E2BIG, "map '%s' is full (max_entries %u)", sl_map_name(p->map),
			    def->max_entries);
	if (ret)
		return perr(p, ret, "map '%s' refused key '%s': %s", sl_map_name(p->map), key_text,
			    strerror(-ret));
	return 0;
}

/* One line: 0 (an entry stored, or nothing on the line) or -errno (logged). */
static int do_line(struct preload *p, char *s, unsigned *entries)
{
	char *tok[3];
	unsigned n = 0;
	char err[384];
	int ret;

	while (n < 3) {
		const char *end;

		s += strspn(s, " \t\r\n");
		if (!*s || *s == '#')
			break;
		end = sl_text_token_end(s);
		if (!end)
			return perr(p, -EINVAL, "unbalanced bracket or quote in '%s', want KEY [VALUE]",
				    s);
		tok[n++] = s;
		s = (char *)end;
		if (*s)
			*s++ = '\0';
	}
	if (n == 0)
		return 0;
	if (n == 3)
		return perr(p, -EINVAL, "a third field '%s', want KEY [VALUE] (# starts a comment)",
			    tok[2]);
	ret = sl_text_parse(&p->kt, tok[0], p->key, err, sizeof(err));
	if (ret)
		return perr(p, ret, "key: %s", err);
	if (n == 2) {
		ret = sl_text_parse(&p->vt, tok[1], p->value, err, sizeof(err));
		if (ret)
			return perr(p, ret, "value: %s", err);
	} else {
		memset(p->value, 0, p->vt.size);
		p->value[0] = 1;  /* a set: the value 1 (little-endian) */
	}
	ret = store(p, tok[0]);
	if (!ret)
		(*entries)++;
	return ret;
}

static int read_lines(struct preload *p, FILE *f, unsigned *entries)
{
	char *line = NULL;
	size_t cap = 0;
	int ret = 0;

	while (!ret && getline(&line, &cap, f) >= 0) {
		p->line++;
		line[strcspn(line, "\r\n")] = '\0';
		if (strlen(line) > 65536)
			ret = perr(p, -E2BIG, "line longer than 65536 bytes");
		else
			ret = do_line(p, line, entries);
	}
	if (!ret && ferror(f))
		ret = perr(p, -EIO, "read error");
	free(line);
	return ret;
}

int sl_preload_load(const struct sl_obj *obj, struct sl_map *map, const char *path,
		    const char *label, unsigned *entries, char *log, size_t log_len)
{
	const struct sl_map_def *def = sl_map_get_def(map);
	struct preload p = { .obj = obj, .map = map, .label = label ? label : path,
			     .log = log, .log_len = log_len };
	unsigned count = 0;
	FILE *f;
	int ret;

	if (log && log_len)
		log[0] = '\0';
	ret = sl_text_map_types(obj, map, &p.kt, &p.vt);
	if (ret)
		return perr(&p, ret, "map is not part of the object");
	p.array = is_array(def->type);
	if (!p.kt.size || !p.vt.size)
		return perr(&p, -ENOTSUP, "map '%s' (%s) cannot be preloaded: no key or no value",
			    sl_map_name(map), sl_map_type_name(def->type));
	f = fopen(path, "r");
	if (!f) {
		ret = -errno;
		if (log && log_len)
			snprintf(log, log_len, "%s: cannot read: %s", p.label, strerror(errno));
		return ret;
	}
	p.key = calloc(1, p.kt.size);
	p.value = calloc(1, p.vt.size);
	p.slots = calloc(1, sl_map_ctl_value_size(map) + 8);
	p.seen = p.array ? calloc(1, def->max_entries / 8 + 1) : NULL;
	if (!p.key || !p.value || !p.slots || (p.array && !p.seen))
		ret = perr(&p, -ENOMEM, "out of memory");
	else
		ret = read_lines(&p, f, &count);
	fclose(f);
	free(p.key);
	free(p.value);
	free(p.slots);
	free(p.seen);
	if (entries)
		*entries = count;
	return ret;
}
