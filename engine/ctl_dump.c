/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * `map_dump` on the control socket, streamed: the answer is the same one
 * line as before ({"ok": true, "result": {map info..., "entries": [...]}}),
 * but it is written in parts over the turns of the control loop instead of
 * being built whole in one turn.
 *
 *   - A turn adds at most SL_CTL_DUMP_PART entries to a client's output,
 *     and only while less than SL_CTL_DUMP_MARK bytes of it are unread: a
 *     dump of a million entries costs other clients, the stats and the
 *     telemetry one part's wait per turn, and a client that reads slowly
 *     (or not at all) holds about SL_CTL_DUMP_MARK bytes of the engine's
 *     memory, not its whole answer.
 *   - The parts come from sl_map_ctl_dump_part() (HASH types resume by
 *     bucket; other types give everything in the first part), so a key is
 *     seen at most once, as in one dump; each entry is written as
 *     `sluice run --json` writes it (json.c), arrays without their zero
 *     entries (report.c's rule).
 *   - An entry's text is written straight from sl_text's JSON form of its
 *     key and value(s) with the blanks between tokens dropped, which is
 *     byte for byte what jansson's compact dump of its parse writes as long
 *     as the text holds only strings of printable ASCII without escapes,
 *     integers of at most 18 digits, true/false/null and punctuation
 *     (put_compact() checks): the common case, without parsing the text
 *     back, building objects and dumping them (28,250 instructions an
 *     entry of a MAC-keyed u64 HASH before, 4,107 now; callgrind). Any
 *     other text (a float, an escape, a 19-digit integer) takes json.c's
 *     way for that entry, so the answer is the same either way.
 *   - Where the key's or value's type allows, its text is not even built
 *     by sl_text per entry: ctl_plan.c compiles the type once per dump into
 *     steps (literal text, integers, bytes) that write the same compact text
 *     straight from the entry's bytes (1,204 instructions an entry of the
 *     same map, from 4,065; callgrind); other types, and an integer of more
 *     than 18 digits, go the way above.
 *   - A reload that replaces the map ends the answer with an "error"
 *     member (the entries so far are valid JSON); a map carried over goes
 *     on, typed through the new object's BTF (the old one is freed). The
 *     request's "id" comes last.
 * Control thread.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_internal.h"
#include "ctl_plan.h"
#include "sl_maps.h"

/** One client's dump in progress. */
struct ctl_dump {
	struct sl_map *map;        /**< NULL once a reload freed it */
	uint64_t cursor;           /**< sl_map_ctl_dump_part()'s */
	json_t *id;                /**< the request's "id" (a reference), or NULL */
	struct sl_map_entry e;     /**< how entries are typed (report.c) */
	struct sl_text_type kt, vt;
	struct sl_report_filter filter;  /**< which entries are listed (report.c's rule) */
	bool first;                /**< no entry written yet */
	int err;                   /**< -errno of a part, or 0 */
	struct ctl_client *c;
	struct sl_ctl_plan kplan, vplan;  /**< the key's and value's text, compiled (ctl_plan.c) */
	char *line;                /**< one entry's text being built (put_direct) */
	size_t line_len, line_cap;
};

/* Append @p n bytes to the entry's text; false when out of memory. */
static bool line_add(struct ctl_dump *d, const char *s, size_t n)
{
	if (d->line_len + n > d->line_cap) {
		size_t cap = (d->line_len + n) * 2 + 256;
		char *p = realloc(d->line, cap);

		if (!p)
			return false;
		d->line = p;
		d->line_cap = cap;
	}
	memcpy(d->line + d->line_len, s, n);
	d->line_len += n;
	return true;
}

static bool is_digit(char ch)
{
	return ch >= '0' && ch <= '9';
}

/* Length of the integer at @p s (n bytes) if jansson writes it back as it is, else 0. */
static size_t plain_int(const char *s, size_t n)
{
	size_t i = s[0] == '-', d0 = i;

	while (i < n && is_digit(s[i]))
		i++;
	if (i == d0 || i - d0 > 18 || (s[d0] == '0' && (i - d0 > 1 || d0)))
		return 0;  /* none, past what every json_int_t holds, a leading zero, -0 */
	if (i < n && (s[i] == '.' || s[i] == 'e' || s[i] == 'E'))
		return 0;  /* a real: jansson writes its own digits */
	return i;
}

/* Length of the string at @p s if it is printable ASCII with no escape, else 0. */
static size_t plain_string(const char *s, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch == '"')
			return i + 1;
		if (ch == '\\' || ch < 0x20 || ch > 0x7e)
			return 0;
	}
	return 0;
}

/*
 * sl_text's JSON form @p s (@p n bytes) appended as jansson's compact dump
 * of its parse writes it: blanks between tokens dropped. False when that is
 * not certain (see the top of the file) or out of memory.
 */
static bool put_compact(struct ctl_dump *d, const char *s, size_t n)
{
	static const char *const words[] = { "true", "false", "null" };
	size_t i = 0, len;

	if (!n)
		return false;
	while (i < n) {
		char ch = s[i];

		len = 0;
		if (ch == ' ' || ch == '\n' || ch == '\t' || ch == '\r') {
			i++;
			continue;
		}
		if (ch == '"')
			len = plain_string(s + i, n - i);
		else if (ch == '-' || is_digit(ch))
			len = plain_int(s + i, n - i);
		else if (ch && strchr("{}[],:", ch))
			len = 1;
		for (unsigned w = 0; !len && w < 3; w++) {
			size_t wl = strlen(words[w]);

			if (n - i >= wl && !memcmp(s + i, words[w], wl))
				len = wl;
		}
		if (!len || !line_add(d, s + i, len))
			return false;
		i += len;
	}
	return true;
}

/*
 * One typed key or value (one slot) of @p t at @p p, compact; false: not
 * plain. Through its compiled steps when the type has them (@p plan): the
 * same text; what sl_text writes with its blanks must fit the same buffer.
 */
static bool put_typed(struct ctl_dump *d, const struct sl_text_type *t,
		      const struct sl_ctl_plan *plan, const uint8_t *p)
{
	char buf[1024];
	int n;

	if (plan->ok) {
		n = sl_ctl_plan_put(plan, p, buf, sizeof(buf));
		return n > 0 && (size_t)n + plan->blanks < sizeof(buf) && line_add(d, buf, (size_t)n);
	}
	n = sl_text_format_json(t, p, buf, sizeof(buf));
	return n > 0 && n < (int)sizeof(buf) && put_compact(d, buf, (size_t)n);
}

/*
 * The entry's text as json.c's sl_json_entry() would be dumped, built
 * directly: {"key":K,"value":V} or, per-CPU, {"key":K,"value":SUM|null,
 * "per_core":[V0,...]}. False: take jansson's way (d->line is dropped).
 */
static bool put_direct(struct ctl_dump *d, const struct sl_map_entry *e)
{
	uint8_t sum[8];
	bool ok;

	d->line_len = 0;
	ok = line_add(d, "{\"key\":", 7) && put_typed(d, e->key_type, &d->kplan, e->key) &&
	     line_add(d, ",\"value\":", 9);
	if (ok && !e->percpu)
		return put_typed(d, e->value_type, &d->vplan, e->value) && line_add(d, "}", 1);
	if (ok && e->summable) {
		sl_map_entry_sum(e, sum);
		ok = put_typed(d, e->value_type, &d->vplan, sum);
	} else if (ok) {
		ok = line_add(d, "null", 4);
	}
	ok = ok && line_add(d, ",\"per_core\":[", 13);
	for (unsigned c = 0; ok && c < e->ncpus; c++)
		ok = (!c || line_add(d, ",", 1)) &&
		     put_typed(d, e->value_type, &d->vplan, e->value + (size_t)c * e->stride);
	return ok && line_add(d, "]}", 2);
}

/* One JSON value's text to the client (steals @p j); -ENOMEM. */
static int put_json(struct ctl_client *c, json_t *j)
{
	char *s = j ? json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
	int e;

	json_decref(j);
	if (!s)
		return -ENOMEM;
	e = sl_ctl_write(c, s, strlen(s));
	free(s);
	return e;
}

/* The entries' key and value texts compiled (after their types were set). */
static void plans_build(struct ctl_dump *d)
{
	sl_ctl_plan_build(&d->kplan, d->e.key_type);
	sl_ctl_plan_build(&d->vplan, d->e.value_type);
}

static int put_entry(const void *key, const void *value, void *arg)
{
	struct ctl_dump *d = arg;

	if (!sl_report_listed(&d->filter, value))
		return 0;
	d->e.key = key;
	d->e.value = value;
	if (!d->first && sl_ctl_write(d->c, ",", 1))
		return -ENOMEM;
	d->first = false;
	if (put_direct(d, &d->e))
		return sl_ctl_write(d->c, d->line, d->line_len);
	return put_json(d->c, sl_json_entry(&d->e));
}

static void dump_free(struct ctl_client *c)
{
	json_decref(c->dump->id);
	free(c->dump->line);
	free(c->dump);
	c->dump = NULL;
}

/* The end of the answer: the entries' bracket, an error if any, the id. */
static void finish(struct ctl_client *c, const char *error)
{
	struct ctl_dump *d = c->dump;
	int e = sl_ctl_write(c, "]", 1);

	if (!e && error) {
		e = sl_ctl_write(c, ",\"error\":", 9);
		e = e ?: put_json(c, json_string(error));
	}
	e = e ?: sl_ctl_write(c, "}", 1);
	if (!e && d->id) {
		e = sl_ctl_write(c, ",\"id\":", 6);
		e = e ?: put_json(c, json_incref(d->id));
	}
	e = e ?: sl_ctl_write(c, "}\n", 2);
	if (e)  /* out of memory mid-answer: the line cannot be ended; the connection is */
		c->eof = true;
	dump_free(c);
}

int sl_ctl_dump_begin(struct sl_ctl *ctl, struct ctl_client *c, json_t *req, json_t *id,
		      char *err, size_t err_len)
{
	struct sl_engine *eng = ctl->eng;
	struct sl_map *map = sl_ctl_req_map(ctl, req, err, err_len);
	struct ctl_dump *d;
	json_t *j;
	char *info;
	size_t n;
	int e;

	if (!map)
		return -ENOENT;
	d = calloc(1, sizeof(*d));
	j = sl_json_map_info(map);
	info = j ? json_dumps(j, JSON_COMPACT) : NULL;  /* "{...}": its members go on */
	json_decref(j);
	if (!d || !info || (n = strlen(info)) < 2) {
		free(d);
		free(info);
		snprintf(err, err_len, "map_dump: out of memory");
		return -ENOMEM;
	}
	sl_report_entry_init(eng->obj, sl_inner_type_donor(eng, map), &d->e, &d->kt, &d->vt);
	plans_build(d);
	d->map = map;
	sl_report_filter_init(map, &d->filter);
	d->first = true;
	d->c = c;
	d->id = id ? json_incref(id) : NULL;
	c->dump = d;
	e = sl_ctl_write(c, "{\"ok\":true,\"result\":", 20);
	e = e ?: sl_ctl_write(c, info, n - 1);
	e = e ?: sl_ctl_write(c, ",\"entries\":[", 12);
	free(info);
	if (e)
		d->err = e;
	return 0;
}

bool sl_ctl_dump_ready(const struct ctl_client *c)
{
	return c->dump && c->out_len - c->out_off < SL_CTL_DUMP_MARK;
}

void sl_ctl_dump_step(struct ctl_client *c)
{
	struct ctl_dump *d = c->dump;
	int e;

	if (!sl_ctl_dump_ready(c))
		return;
	if (!d->err && d->map) {
		e = sl_map_ctl_dump_part(d->map, &d->cursor, SL_CTL_DUMP_PART, put_entry, d);
		d->err = e < 0 ? e : e ? -ENOMEM : 0;
	}
	if (!d->map)
		finish(c, "a reload replaced the map during the dump: the entries are incomplete");
	else if (d->err)
		finish(c, strerror(-d->err));
	else if (d->cursor == SL_MAP_DUMP_END)
		finish(c, NULL);
}

void sl_ctl_dump_remap(struct sl_ctl *ctl)
{
	struct sl_engine *eng = ctl->eng;

	for (unsigned i = 0; i < SL_CTL_MAX_CLIENTS; i++) {
		struct ctl_dump *d = ctl->clients[i].fd >= 0 ? ctl->clients[i].dump : NULL;
		bool kept = false;

		/*
		 * called right after the swap: a pointer of the new object is a
		 * carried map; a map ctl created lives until exit (inner_maps.c)
		 */
		for (unsigned m = 0; d && m < sl_obj_map_count(eng->obj); m++)
			kept |= sl_obj_map(eng->obj, m) == d->map;
		kept = kept || (d && sl_inner_id_of(eng, d->map));
		if (d && !kept)
			d->map = NULL;
		else if (d) {  /* its types came from the old object's BTF, freed now */
			sl_report_entry_init(eng->obj, sl_inner_type_donor(eng, d->map), &d->e,
					     &d->kt, &d->vt);
			plans_build(d);
		}
	}
}

void sl_ctl_dump_free(struct ctl_client *c)
{
	if (c->dump)
		dump_free(c);
}
