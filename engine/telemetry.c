/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * DPDK telemetry commands of sluice, for dpdk-telemetry.py (and any client
 * of DPDK's telemetry socket), on when the engine has a control socket:
 *
 *   /sluice/stats        the control socket's "stats"
 *   /sluice/maps         every map's definition and entries in use, by name
 *   /sluice/map,NAME     one map: its definition, then KEY: VALUE per entry
 *   /sluice/prog         the running program ("prog_show")
 *
 * DPDK calls these on its telemetry thread. Maps and the program belong to
 * the control thread (a hot reload replaces them), so the callback hands
 * the request to the control thread and waits for its answer: the control
 * loop answers at its next turn (sl_telemetry_serve, within ~10 ms). One
 * request at a time; after 2 s without an answer (the engine is stopping)
 * the callback gives up with an error.
 *
 * Telemetry data is flat: a dictionary of at most RTE_TEL_MAX_DICT_ENTRIES
 * integers, strings or arrays of scalars. Nested objects are flattened into
 * names joined by "_" ("verdicts_drop", "per_port_0_rx": DPDK allows no dots in names); real numbers become
 * strings; a map with more entries than fit is cut, with "truncated": the
 * number of entries left out.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <unistd.h>

#include <rte_eal.h>
#include <rte_telemetry.h>

#include "ctl_internal.h"

#define TEL_WAIT_S 2

static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct sl_ctl *ctl;       /* NULL: not serving */
	json_t *req;              /* in flight, or NULL */
	json_t *res;
	char err[256];
	bool done;
	int pending;              /* read without the lock by the control loop */
} tel = { .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER };

void sl_telemetry_serve(struct sl_ctl *ctl)
{
	if (!__atomic_load_n(&tel.pending, __ATOMIC_ACQUIRE))
		return;
	pthread_mutex_lock(&tel.lock);
	if (tel.req && !tel.done) {
		tel.res = sl_ctl_handle(ctl, tel.req, tel.err, sizeof(tel.err));
		tel.done = true;
		pthread_cond_broadcast(&tel.cond);
	}
	pthread_mutex_unlock(&tel.lock);
}

void sl_telemetry_stop(void)
{
	char path[PATH_MAX];

	pthread_mutex_lock(&tel.lock);
	if (tel.ctl) {  /* DPDK leaves its socket: the engine's runtime directory goes at exit */
		snprintf(path, sizeof(path), "%s/dpdk_telemetry.v2", rte_eal_get_runtime_dir());
		unlink(path);
	}
	tel.ctl = NULL;
	pthread_cond_broadcast(&tel.cond);
	pthread_mutex_unlock(&tel.lock);
}

/* Ask the control thread; the result (owned by the caller) or NULL with err. */
static json_t *ask(json_t *req, char *err, size_t err_len)
{
	struct timespec until;
	json_t *res = NULL;
	int rc = 0;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += TEL_WAIT_S;
	pthread_mutex_lock(&tel.lock);
	while (tel.ctl && tel.req && rc == 0)
		rc = pthread_cond_timedwait(&tel.cond, &tel.lock, &until);
	if (!tel.ctl || rc) {
		snprintf(err, err_len, "the engine is not answering (stopping?)");
		pthread_mutex_unlock(&tel.lock);
		json_decref(req);
		return NULL;
	}
	tel.req = req;
	tel.done = false;
	tel.err[0] = 0;
	__atomic_store_n(&tel.pending, 1, __ATOMIC_RELEASE);
	while (tel.ctl && !tel.done && rc == 0)
		rc = pthread_cond_timedwait(&tel.cond, &tel.lock, &until);
	if (tel.done)
		res = tel.res;
	snprintf(err, err_len, "%s", tel.done ? tel.err : "the engine did not answer in time");
	tel.req = NULL;
	tel.res = NULL;
	tel.done = false;
	__atomic_store_n(&tel.pending, 0, __ATOMIC_RELEASE);
	pthread_cond_broadcast(&tel.cond);
	pthread_mutex_unlock(&tel.lock);
	json_decref(req);
	return res;
}

static bool scalar(json_t *j)
{
	return json_is_integer(j) || json_is_string(j) || json_is_real(j) || json_is_boolean(j) ||
	       json_is_null(j);
}

/* DPDK takes names of letters, digits, '_' and '/' only: ".bss" is "_bss". */
static const char *tel_name(const char *name, char *buf, size_t len)
{
	size_t i;

	for (i = 0; name[i] && i + 1 < len; i++)
		buf[i] = isalnum((unsigned char)name[i]) || name[i] == '/' ? name[i] : '_';
	buf[i] = 0;
	return buf;
}

/* Add one scalar under @p name. */
static int add_scalar(struct rte_tel_data *d, const char *raw, json_t *v)
{
	char buf[64], name[RTE_TEL_MAX_STRING_LEN];

	tel_name(raw, name, sizeof(name));
	if (json_is_integer(v))
		return json_integer_value(v) >= 0 ?
		       rte_tel_data_add_dict_u64(d, name, (uint64_t)json_integer_value(v)) :
		       rte_tel_data_add_dict_int(d, name, (int)json_integer_value(v));
	if (json_is_boolean(v))
		return rte_tel_data_add_dict_u64(d, name, json_is_true(v));
	if (json_is_real(v)) {
		snprintf(buf, sizeof(buf), "%.3f", json_real_value(v));
		return rte_tel_data_add_dict_string(d, name, buf);
	}
	return rte_tel_data_add_dict_string(d, name, json_is_string(v) ? json_string_value(v) :
					    "null");
}

/* An array of integers (or of strings) as a telemetry array; -ENOTSUP otherwise. */
static int add_array(struct rte_tel_data *d, const char *raw, json_t *a)
{
	char name[RTE_TEL_MAX_STRING_LEN];
	struct rte_tel_data *c;
	size_t i;
	json_t *v;
	bool ints = true;

	json_array_foreach(a, i, v) {
		if (!json_is_integer(v) || json_integer_value(v) < 0)
			ints = false;
		if (!json_is_integer(v) && !json_is_string(v))
			return -ENOTSUP;
	}
	c = rte_tel_data_alloc();
	if (!c)
		return -ENOMEM;
	rte_tel_data_start_array(c, ints ? RTE_TEL_U64_VAL : RTE_TEL_STRING_VAL);
	json_array_foreach(a, i, v) {
		char buf[32];

		if (ints)
			rte_tel_data_add_array_u64(c, (uint64_t)json_integer_value(v));
		else if (json_is_string(v))
			rte_tel_data_add_array_string(c, json_string_value(v));
		else {
			snprintf(buf, sizeof(buf), "%lld", (long long)json_integer_value(v));
			rte_tel_data_add_array_string(c, buf);
		}
	}
	if (rte_tel_data_add_dict_container(d, tel_name(raw, name, sizeof(name)), c, 0)) {
		rte_tel_data_free(c);
		return -ENOSPC;
	}
	return 0;
}

/* Flatten @p j under @p prefix; -ENOSPC once the dictionary is full. */
static int flatten(struct rte_tel_data *d, const char *prefix, json_t *j)
{
	char name[RTE_TEL_MAX_STRING_LEN];
	const char *k;
	json_t *v;
	size_t i;
	int err = 0;

	if (scalar(j))
		return add_scalar(d, prefix, j);
	if (json_is_array(j) && !add_array(d, prefix, j))
		return 0;
	if (json_is_array(j)) {
		json_array_foreach(j, i, v) {
			snprintf(name, sizeof(name), "%s%s%zu", prefix, *prefix ? "_" : "", i);
			if ((err = flatten(d, name, v)))
				return err;
		}
		return 0;
	}
	json_object_foreach(j, k, v) {
		snprintf(name, sizeof(name), "%s%s%s", prefix, *prefix ? "_" : "", k);
		if ((err = flatten(d, name, v)))
			return err;
	}
	return 0;
}

/* /sluice/map: the definition, then "KEY": VALUE per entry (per-CPU: the sum). */
static int put_map(struct rte_tel_data *d, json_t *m)
{
	json_t *entries = json_incref(json_object_get(m, "entries")), *e;
	size_t i, n = json_array_size(entries);
	int err;

	json_object_del(m, "entries");
	err = flatten(d, "", m);
	json_array_foreach(entries, i, e) {
		json_t *key = json_object_get(e, "key");
		char name[RTE_TEL_MAX_STRING_LEN];

		if (json_is_integer(key))
			snprintf(name, sizeof(name), "%lld", (long long)json_integer_value(key));
		else
			snprintf(name, sizeof(name), "%s", json_string_value(key));
		if (err || (err = flatten(d, name, json_object_get(e, "value")))) {
			rte_tel_data_add_dict_u64(d, "truncated", n - i);
			break;
		}
	}
	json_decref(entries);
	return 0;
}

static int on_cmd(const char *cmd, const char *params, struct rte_tel_data *d)
{
	const char *what = strrchr(cmd, '/') + 1;
	char err[256];
	json_t *req, *res, *v;
	const char *k;

	if (!strcmp(what, "map") && (!params || !*params))
		return -EINVAL;  /* dpdk-telemetry.py shows the command's help */
	req = !strcmp(what, "map") ? json_pack("{s:s, s:s}", "cmd", "map_dump", "map", params) :
	      json_pack("{s:s}", "cmd", !strcmp(what, "prog") ? "prog_show" : what);
	res = req ? ask(req, err, sizeof(err)) : NULL;
	rte_tel_data_start_dict(d);
	if (!res) {
		rte_tel_data_add_dict_string(d, "error", req ? err : "out of memory");
		return 0;
	}
	if (!strcmp(what, "map")) {
		put_map(d, res);
	} else if (!strcmp(what, "maps")) {  /* by name */
		size_t i;

		json_array_foreach(res, i, v) {
			char name[RTE_TEL_MAX_STRING_LEN];

			k = json_string_value(json_object_get(v, "name"));
			snprintf(name, sizeof(name), "%s", k ? k : "?");
			json_object_del(v, "name");
			flatten(d, name, v);
		}
	} else {
		flatten(d, "", res);
	}
	json_decref(res);
	return 0;
}

int sl_telemetry_register(struct sl_ctl *ctl)
{
	static const struct {
		const char *cmd, *help;
	} cmds[] = {
		{ "/sluice/stats", "sluice counters: totals, verdicts, per port, per worker, rates" },
		{ "/sluice/maps", "sluice maps: type, sizes, entries in use" },
		{ "/sluice/map", "one sluice map and its entries. Parameters: map name" },
		{ "/sluice/prog", "the program sluice runs: object, section, size, runs" },
	};
	int err;

	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		err = rte_telemetry_register_cmd(cmds[i].cmd, on_cmd, cmds[i].help);
		if (err && err != -EINVAL)  /* EINVAL: registered by an earlier engine in this process */
			return err;
	}
	pthread_mutex_lock(&tel.lock);
	tel.ctl = ctl;
	pthread_mutex_unlock(&tel.lock);
	return 0;
}
