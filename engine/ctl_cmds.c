/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The commands of the control socket (one handler per "cmd"), shared by
 * the socket (ctl_server.c) and DPDK telemetry (telemetry.c). Each takes
 * the request object and returns the result object, or NULL with one line
 * in err. The objects are json.c's, as in `sluice run --json`.
 *
 *   stats                                 totals, verdicts, ports, workers (and their CPUs),
 *                                         rates, the time of reading (CLOCK_MONOTONIC)
 *   maps                                  every map's definition and entries in use
 *   map_dump    map                       definition and entries
 *   map_lookup  map key                   one entry
 *   map_update  map key value [flags]     flags "any" (default), "noexist", "exist"
 *   map_update  map key prog [section]    a PROG_ARRAY slot: a program from an object
 *   map_update  map key value             ARRAY_OF_MAPS / HASH_OF_MAPS: value names an
 *                                         inner map of the object (name, or id = its
 *                                         index + 1, as the loader numbers them), a
 *                                         created one (its id), or is "new": a new
 *                                         empty map from the template (inner_maps.c)
 *   any map command with map "OUTER[KEY]": the inner map OUTER holds at KEY
 *   map_delete  map key
 *   map_save    map [file]                atomic save (persist.c); file: maps.NAME.persist
 *   prog_show                             the running program
 *   prog_reload file [section] [reset_maps]   hot reload (reload.c)
 *
 *   map_load    map file                  a preload file (sl_preload.h) into the map
 *
 * Keys and values in requests: strings in the text syntax of sl_text.h,
 * typed through the object's BTF (the one conversion preload files and the
 * reports use), or JSON integers. A per-CPU value is one value for every
 * worker, or an array of one value per worker. Control thread.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_lcore.h>

#include "ctl_internal.h"
#include "persist.h"
#include "sl_maps.h"
#include "sl_preload.h"
#include "sl_text.h"

typedef json_t *(*cmd_fn)(struct sl_ctl *ctl, json_t *req, char *err, size_t err_len);

struct sl_map *sl_ctl_req_map(struct sl_ctl *ctl, json_t *req, char *err, size_t err_len)
{
	const char *name = json_string_value(json_object_get(req, "map"));
	struct sl_obj *obj = ctl->eng->obj;
	struct sl_map *map;

	if (!name) {
		snprintf(err, err_len, "want \"map\": NAME");
		return NULL;
	}
	for (unsigned i = 0; i < sl_obj_map_count(obj); i++)
		if (!strcmp(sl_map_name(sl_obj_map(obj, i)), name))
			return sl_obj_map(obj, i);
	err[0] = '\0';
	map = sl_inner_resolve(ctl->eng, name, err, err_len);  /* OUTER[KEY]: an inner map */
	if (!map && !err[0])
		snprintf(err, err_len, "no map '%s' (`sluice ctl maps` lists them; an inner map: "
			 "OUTER[KEY])", name);
	return map;
}

/* One key or value from a request member: a string in sl_text's syntax, or a JSON integer. */
static int parse_text(const struct sl_text_type *t, json_t *j, const char *what, uint8_t *out,
		      char *err, size_t err_len)
{
	char num[32], phrase[256] = "";
	const char *s = json_string_value(j);

	if (json_is_integer(j)) {
		snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(j));
		s = num;
	}
	if (!s) {
		snprintf(err, err_len, "%s: want a string (or an integer)", what);
		return -EINVAL;
	}
	if (sl_text_parse(t, s, out, phrase, sizeof(phrase))) {
		snprintf(err, err_len, "%s: %s", what, phrase);
		return -EINVAL;
	}
	return 0;
}

/* A control-API value: every slot of a per-CPU map. */
static int parse_value(struct sl_map *map, const struct sl_text_type *vt, json_t *j, uint8_t *out,
		       char *err, size_t err_len)
{
	const struct sl_map_def *def = sl_map_get_def(map);
	unsigned ncpus = sl_map_is_percpu(map) ? sl_map_ncpus(map) : 1;
	size_t stride = sl_map_is_percpu(map) ? (def->value_size + 7u) & ~7u : def->value_size;

	if (json_is_array(j) && sl_map_is_percpu(map)) {
		if (json_array_size(j) != ncpus) {
			snprintf(err, err_len, "value: %zu values for %u workers", json_array_size(j),
				 ncpus);
			return -EINVAL;
		}
		for (unsigned c = 0; c < ncpus; c++)
			if (parse_text(vt, json_array_get(j, c), "value", out + c * stride, err,
				       err_len))
				return -EINVAL;
		return 0;
	}
	if (parse_text(vt, j, "value", out, err, err_len))
		return -EINVAL;
	for (unsigned c = 1; c < ncpus; c++)
		memcpy(out + c * stride, out, def->value_size);
	return 0;
}

/* Buffers for one key and one control-API value of @p map. */
struct kv {
	uint8_t *key, *val;
	struct sl_map_entry e;          /**< sizes, slots and types of the map's entries */
	struct sl_text_type kt, vt;
};

static int kv_alloc(struct sl_ctl *ctl, struct sl_map *map, struct kv *kv, char *err,
		    size_t err_len)
{
	/* a created inner map: the types of an object map of its definition */
	sl_report_entry_init(ctl->eng->obj, sl_inner_type_donor(ctl->eng, map), &kv->e, &kv->kt,
			     &kv->vt);
	kv->key = calloc(1, sl_map_get_def(map)->key_size + 1);
	kv->val = calloc(1, sl_map_ctl_value_size(map) + 8);
	if (kv->key && kv->val)
		return 0;
	free(kv->key);
	free(kv->val);
	snprintf(err, err_len, "out of memory");
	return -ENOMEM;
}

static void kv_free(struct kv *kv)
{
	free(kv->key);
	free(kv->val);
}

static json_t *map_error(const char *op, struct sl_map *map, int e, char *err, size_t err_len)
{
	snprintf(err, err_len, "%s %s: %s", op, sl_map_name(map),
		 e == -ENOENT ? "no such key" : e == -EEXIST ? "key exists (--noexist)" :
		 e == -E2BIG ? "map full, or index past max_entries" :
		 e == -EPERM ? "not allowed by the map's flags" : strerror(-e));
	return NULL;
}

/*
 * The preamble of map_lookup, map_update and map_delete: the request's
 * "map", buffers for its entries, and its "key" parsed into kv->key. The
 * map, or NULL with one line in err (kv then holds nothing to free).
 */
static struct sl_map *req_map_key(struct sl_ctl *ctl, json_t *req, struct kv *kv, char *err,
				  size_t err_len)
{
	struct sl_map *map = sl_ctl_req_map(ctl, req, err, err_len);

	if (!map || kv_alloc(ctl, map, kv, err, err_len))
		return NULL;
	if (parse_text(&kv->kt, json_object_get(req, "key"), "key", kv->key, err, err_len)) {
		kv_free(kv);
		return NULL;
	}
	return map;
}

/* The result of a change: {"in_use": N}, or the error of @p e. */
static json_t *change_result(const char *op, struct sl_map *map, int e, char *err,
			     size_t err_len)
{
	if (e)
		return map_error(op, map, e, err, err_len);
	return json_pack("{s:o}", "in_use", sl_json_u64(sl_map_ctl_count(map)));
}

static json_t *cmd_stats(struct sl_ctl *ctl, json_t *req, char *err, size_t err_len)
{
	struct timespec ts;
	json_t *o, *rates;
	double dt = ctl->snap_t - ctl->prev_t;
	const struct sl_worker_stats *a = &ctl->snap, *b = &ctl->prev;

	clock_gettime(CLOCK_MONOTONIC, &ts);  /* when the counters are read, just below */
	o = sl_json_stats(ctl->eng);
	if (!o)
		return NULL;
	json_object_set_new(o, "monotonic", json_real((double)ts.tv_sec + (double)ts.tv_nsec * 1e-9));
	for (unsigned w = 0; w < ctl->eng->nworkers; w++)  /* what `sluice ctl` keeps off */
		json_object_set_new(json_array_get(json_object_get(o, "per_worker"), w), "cpu",
				    json_integer(rte_lcore_to_cpu_id((int)ctl->eng->workers[w].lcore)));
	rates = json_pack("{s:f, s:f, s:f, s:f, s:f}", "seconds", dt,
			  "rx", dt > 0 ? (double)(a->rx - b->rx) / dt : 0.0,
			  "tx", dt > 0 ? (double)(a->tx - b->tx) / dt : 0.0,
			  "drop", dt > 0 ? (double)(a->drop - b->drop) / dt : 0.0,
			  "error", dt > 0 ? (double)(a->error - b->error) / dt : 0.0);
	json_object_set_new(o, "rates", rates);
	json_object_set_new(o, "exec", json_string(ctl->eng->exec_name));
	json_object_set_new(o, "clients", json_integer(ctl->nclients));
	json_object_set_new(o, "clients_refused", sl_json_u64(ctl->refused));
	json_object_set_new(o, "trace_lost", sl_json_u64(ctl->trace_lost));
	return o;
}

static json_t *cmd_maps(struct sl_ctl *ctl, json_t *req, char *err, size_t err_len)
{
	json_t *a = json_array();
	struct sl_obj *obj = ctl->eng->obj;

	for (unsigned i = 0; a && i < sl_obj_map_count(obj); i++)
		json_array_append_new(a, sl_json_map_info(sl_obj_map(obj, i)));
	return a;
}

static json_t *cmd_map_dump(struct sl_ctl *ctl, json_t *req, char *err, size_t err_len)
{
	struct sl_map *map = sl_ctl_req_map(ctl, req, err, err_len);
	json_t *o, *d;

	if (!map)
		return NULL;
	o = sl_json_map_info(map);
	d = sl_json_map_dump(ctl->eng->obj, map);
	if (o && d)
		json_object_update(o, d);
	json_decref(d);
	return o;
}

static json_t *cmd_map_lookup(struct sl_ctl *ctl, json_t *req, char *err, size_t err_len)
{
	struct kv kv;
	struct sl_map *map = req_map_key(ctl, req, &kv, err, err_len);
	json_t *o = NULL;
	int e;

	if (!map)
		return NULL;
	e = sl_map_ctl_lookup(map, kv.key, kv.val);
	if (e) {
		map_error("lookup", map, e, err, err_len);
	} else {
		kv.e.key = kv.key;
		kv.e.value = kv.val;
		o = sl_json_entry(&kv.e);
	}
	kv_free(&kv);
	return o;
}

static int parse_flags(json_t *req, uint64_t *flags, char *err, size_t err_len)
{
	const char *f = json_string_value(json_object_get(req, "flags"));

	if (!f || !strcmp(f, "any"))
		*flags = BPF_ANY;
	else if (!strcmp(f, "noexist"))
		*flags = BPF_NOEXIST;
	else if (!strcmp(f, "exist"))
		*flags = BPF_EXIST;
	else {
		snprintf(err, err_len, "flags: want any, noexist or exist, not '%s'", f);
		return -EINVAL;
	}
	return 0;
}

/* A PROG_ARRAY slot gets a program from an object: {"prog": FILE, "section": S}. */
static json_t *update_slot(struct sl_ctl *ctl, struct sl_map *map, const struct kv *kv,
			   json_t *req, char *err, size_t err_len)
{
	const char *file = json_string_value(json_object_get(req, "prog"));
	const char *section = json_string_value(json_object_get(req, "section"));
	uint32_t index;

	if (sl_map_get_def(map)->type != BPF_MAP_TYPE_PROG_ARRAY) {
		snprintf(err, err_len, "update %s: a program goes only into a prog_array",
			 sl_map_name(map));
		return NULL;
	}
	memcpy(&index, kv->key, 4);
	if (sl_slot_prog_set(ctl->eng, map, index, file, section, err, err_len))
		return NULL;
	return change_result("update", map, 0, err, err_len);
}

/* An entry from {"value": V, "flags": F}. */
static json_t *update_value(struct sl_map *map, struct kv *kv, json_t *req, char *err,
			    size_t err_len)
{
	uint64_t flags;

	if (sl_map_get_def(map)->type == BPF_MAP_TYPE_PROG_ARRAY) {
		snprintf(err, err_len, "update %s: a prog_array slot takes a program: "
			 "map update %s KEY --prog FILE.o [--section S]", sl_map_name(map),
			 sl_map_name(map));
		return NULL;
	}
	if (parse_flags(req, &flags, err, err_len) ||
	    parse_value(map, &kv->vt, json_object_get(req, "value"), kv->val, err, err_len))
		return NULL;
	return change_result("update", map, sl_map_ctl_update(map, kv->key, kv->val, flags), err,
			     err_len);
}

/* map_update: by what the request gives (a program for a slot, or a value). */
/* An object map by name, or by id (index + 1: the ids the loader gives inner maps). */
static struct sl_map *inner_by_name(const struct sl_engine *eng, json_t *j, uint32_t *id)
{
	struct sl_obj *obj = eng->obj;
	const char *name = json_string_value(j);
	char *end;
	unsigned long n;

	for (unsigned i = 0; name && i < sl_obj_map_count(obj); i++)
		if (!strcmp(sl_map_name(sl_obj_map(obj, i)), name)) {
			*id = i + 1;
			return sl_obj_map(obj, i);
		}
	n = json_is_integer(j) ? (unsigned long)json_integer_value(j) :
	    name ? strtoul(name, &end, 0) : 0;
	if (name && (*end || !*name))
		n = 0;
	*id = (uint32_t)n;
	if (n > SL_INNER_ID_BASE && n <= UINT32_MAX)
		return sl_inner_by_id(eng, (uint32_t)n);   /* created by `map update OUTER KEY new` */
	return n >= 1 && n <= sl_obj_map_count(obj) ? sl_obj_map(obj, (unsigned)n - 1) : NULL;
}

/*
 * An outer map's slot gets an inner map of the object, live (kernel
 * semantics: it must match the outer map's template). The replaced inner
 * map stays in the object, alive for the engine's lifetime, so it needs no
 * grace period to be freed; the answer still waits for one
 * (sl_map_synchronize): when `ctl map update` returns, every worker has
 * finished the burst that might have looked up the old map, and its
 * counters are published.
 */
static json_t *update_outer(struct sl_ctl *ctl, struct sl_map *map, const struct kv *kv,
			    json_t *req, char *err, size_t err_len)
{
	uint32_t id;
	const char *v = json_string_value(json_object_get(req, "value"));
	struct sl_map *inner = inner_by_name(ctl->eng, json_object_get(req, "value"), &id);
	int e;

	if (v && !strcmp(v, "new")) {   /* a new inner map from the template (inner_maps.c) */
		err[0] = '\0';
		e = sl_inner_create(ctl->eng, map, kv->key, &id, err, err_len);
		if (e && err[0])
			return NULL;
		if (!e)
			sl_map_synchronize();
		return e ? change_result("update", map, e, err, err_len) :
		       json_pack("{s:o, s:I}", "in_use", sl_json_u64(sl_map_ctl_count(map)),
				 "id", (json_int_t)id);
	}
	if (!inner) {
		snprintf(err, err_len, "update %s: value: want the name or id of a map of the "
			 "object (`sluice ctl maps` lists them), or new", sl_map_name(map));
		return NULL;
	}
	e = sl_map_outer_set(map, kv->key, inner, id);
	if (e == 0)
		sl_map_synchronize();
	if (e == -EINVAL) {
		snprintf(err, err_len, "update %s: map '%s' does not match the inner map template "
			 "(type, key and value size, flags, max_entries)", sl_map_name(map),
			 sl_map_name(inner));
		return NULL;
	}
	return change_result("update", map, e, err, err_len);
}

static json_t *cmd_map_update(struct sl_ctl *ctl, json_t *req, char *err, size_t err_len)
{
	struct kv kv;
	struct sl_map *map = req_map_key(ctl, req, &kv, err, err_len);
	json_t *o;

	if (!map)
		return NULL;
	if (json_object_get(req, "prog"))
		o = update_slot(ctl, map, &kv, req, err, err_len);
	else if (sl_map_inner_template(map))  /* map-in-map: an inner map by name or id */
		o = update_outer(ctl, map, &kv, req, err, err_len);
	else
		o = update_value(map, &kv, req, err, err_len);
	kv_free(&kv);
	return o;
}

static json_t *cmd_map_delete(struct sl_ctl *ctl, json_t *req, char *err, size_t err_len)
{
	struct kv kv;
	struct sl_map *map = req_map_key(ctl, req, &kv, err, err_len);
	uint32_t index;
	int e;

	if (!map)
		return NULL;
	e = sl_map_ctl_delete(map, kv.key);
	if (!e && sl_map_get_def(map)->type == BPF_MAP_TYPE_PROG_ARRAY) {
		memcpy(&index, kv.key, 4);
		sl_slot_prog_cleared(ctl->eng, map, index);
	}
	kv_free(&kv);
	return change_result("delete", map, e, err, err_len);
}

/* map_save map [file]: default the config's maps.NAME.persist (persist.c). */
static json_t *cmd_map_save(struct sl_ctl *ctl, json_t *req, char *err, size_t err_len)
{
	struct sl_map *map = sl_ctl_req_map(ctl, req, err, err_len);
	const char *file = json_string_value(json_object_get(req, "file"));
	uint64_t n = 0;

	if (!map)
		return NULL;
	if (!file)
		file = sl_persist_path(ctl->eng, sl_map_name(map));
	if (!file) {
		snprintf(err, err_len, "save %s: no file given and no maps.%s.persist in the config",
			 sl_map_name(map), sl_map_name(map));
		return NULL;
	}
	if (sl_persist_save(map, file, &n, err, err_len))
		return NULL;
	return json_pack("{s:s, s:o}", "file", file, "entries", sl_json_u64(n));
}

static json_t *cmd_map_load(struct sl_ctl *ctl, json_t *req, char *err, size_t err_len)
{
	struct sl_map *map = sl_ctl_req_map(ctl, req, err, err_len);
	const char *file = json_string_value(json_object_get(req, "file"));
	unsigned entries = 0;

	if (!map)
		return NULL;
	if (!file) {
		snprintf(err, err_len, "map_load: want \"file\": PATH");
		return NULL;
	}
	if (sl_preload_load(ctl->eng->obj, map, file, NULL, &entries, err, err_len))
		return NULL;
	return json_pack("{s:I, s:o}", "loaded", (json_int_t)entries, "in_use",
			 sl_json_u64(sl_map_ctl_count(map)));
}

static const char *prog_type_name(enum sl_prog_type t)
{
	return t == SL_PROG_XDP ? "xdp" : t == SL_PROG_SOCKET ? "socket" : "raw";
}

static json_t *cmd_prog_show(struct sl_ctl *ctl, json_t *req, char *err, size_t err_len)
{
	const struct sl_engine *eng = ctl->eng;
	const struct sl_prog *prog = eng->prog;
	struct sl_worker_stats sum;
	char when[64];
	time_t secs = (time_t)eng->info.load_time;
	struct tm tm;

	sl_stats_sum(eng, &sum);
	gmtime_r(&secs, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return json_pack("{s:s, s:s, s:s, s:s, s:I, s:s, s:I, s:s, s:f, s:o, s:f, s:I}",
			 "object", eng->info.path, "section", prog->section, "name", prog->name,
			 "type", prog_type_name(prog->type), "insns", (json_int_t)prog->n_insns,
			 "exec", eng->exec_name,
			 "jit_size", (json_int_t)(eng->jit ? sl_jit_code_size(eng->jit) : 0),
			 "load_time", when, "load_time_epoch", eng->info.load_time,
			 "runs", sl_json_u64(sum.rx - eng->info.runs_base),
			 "verify_ms", (double)eng->info.verify_ns * 1e-6,
			 "reloads", (json_int_t)eng->info.reloads);
}

static json_t *cmd_prog_reload(struct sl_ctl *ctl, json_t *req, char *err, size_t err_len)
{
	const char *file = json_string_value(json_object_get(req, "file"));
	json_t *section = json_object_get(req, "section");
	json_t *res = NULL;

	if (!file) {
		snprintf(err, err_len, "prog_reload: want \"file\": PATH");
		return NULL;
	}
	if (section && !json_is_null(section) && !json_is_string(section)) {
		snprintf(err, err_len, "prog_reload: \"section\" must be a string");
		return NULL;
	}
	if (sl_reload(ctl->eng, file, json_string_value(section),
		      json_is_true(json_object_get(req, "reset_maps")), &res, err, err_len))
		return NULL;
	return res;
}

static const struct {
	const char *name;
	cmd_fn fn;
} cmds[] = {
	{ "stats", cmd_stats },
	{ "maps", cmd_maps },
	{ "map_dump", cmd_map_dump },
	{ "map_lookup", cmd_map_lookup },
	{ "map_update", cmd_map_update },
	{ "map_delete", cmd_map_delete },
	{ "map_save", cmd_map_save },
	{ "map_load", cmd_map_load },
	{ "prog_show", cmd_prog_show },
	{ "prog_reload", cmd_prog_reload },
};

json_t *sl_ctl_handle(struct sl_ctl *ctl, json_t *req, char *err, size_t err_len)
{
	const char *cmd = json_string_value(json_object_get(req, "cmd"));
	json_t *res;

	for (size_t i = 0; cmd && i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (strcmp(cmd, cmds[i].name))
			continue;
		err[0] = 0;
		res = cmds[i].fn(ctl, req, err, err_len);
		if (!res && !err[0])
			snprintf(err, err_len, "%s: out of memory", cmd);
		return res;
	}
	snprintf(err, err_len, "unknown command '%s'", cmd ? cmd : "(none)");
	return NULL;
}
