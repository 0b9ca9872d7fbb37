/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The JSON objects of sluice, built with jansson: `sluice run --json FILE`
 * (final counters and maps), the control socket (ctl_server.c) and DPDK
 * telemetry (telemetry.c) all build their objects with these functions, so
 * a script reads the same shapes from every one of them.
 *
 * stats:  {"rx": N, "tx": N, "drop": N, "error": N, "tx_drop": N,
 *          "verdicts": {"aborted": N, "drop": N, "pass": N, "tx": N, "redirect": N,
 *                       "redirect_failed": N, "trim": N},   (they sum to rx)
 *          "per_port": [{"port": ID, "name": "net_pcap0", "rx": N, "tx": N}, ...],
 *          "per_worker": [{"worker": I, "lcore": L, "rx": N, "tx": N,
 *                          "drop": N, "error": N}, ...],
 *          "mbufs_in_use_at_exit": N, "drained_at_stop": N (the final report only)}
 *         per_port also has the port's own view at the end of a run: "link_up",
 *         the NIC's counters "imissed", "rx_nombuf", "oerrors", and
 *         "drained_at_stop" (sent into a net_ring port, freed at stop: drain.c)
 *         (+ "rates" {"seconds": S, "rx": PPS, ...} from the control socket)
 * a map:  {"type": "percpu_array",
 *          "entries": [{"key": 6, "value": 1672, "per_core": [1672]}, ...]}
 * map info: {"name", "type", "key_size", "value_size", "max_entries", "flags",
 *          "percpu", "ncpus", "in_use": entries present}
 *
 * Keys and values are typed through the object's BTF by sl_text's JSON
 * form (sl_text.h: integers as numbers, addresses, MACs and byte strings as
 * strings, structs as objects, arrays as arrays; an integer above 2^63 - 1
 * as a string of its digits), the same text ctl and preload files read.
 * Entries: arrays only non-zero ones, other maps all. "per_core" only for
 * per-CPU maps; their "value" is the sum of the cores for integer values,
 * null otherwise.
 * A map whose entries cannot be listed (RINGBUF) has "entries": [] and
 * "error": "reason". Control thread.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "engine_internal.h"
#include "sl_maps.h"
#include "sl_text.h"

json_t *sl_json_u64(uint64_t v)
{
	char buf[24];

	if (v <= (uint64_t)INT64_MAX)
		return json_integer((json_int_t)v);
	snprintf(buf, sizeof(buf), "0x%" PRIx64, v);
	return json_string(buf);
}

json_t *sl_json_bytes(const uint8_t *p, uint32_t n)
{
	if (n == 4 || n == 8) {
		uint64_t v = 0;

		memcpy(&v, p, n);  /* little-endian host */
		return sl_json_u64(v);
	}
	return sl_json_hex(p, n);
}

json_t *sl_json_hex(const uint8_t *p, uint32_t n)
{
	char *hex;
	json_t *j;

	hex = malloc((size_t)n * 2 + 1);
	if (!hex)
		return NULL;
	for (uint32_t i = 0; i < n; i++)
		snprintf(hex + 2 * i, 3, "%02x", p[i]);
	hex[2 * (size_t)n] = 0;
	j = json_string(hex);
	free(hex);
	return j;
}

json_t *sl_json_typed(const struct sl_text_type *t, const uint8_t *p)
{
	char buf[1024], *text = buf;
	int n = sl_text_format_json(t, p, buf, sizeof(buf));
	json_t *j;

	if (n < 0)
		return sl_json_hex(p, t->size);
	if (n >= (int)sizeof(buf)) {
		text = malloc((size_t)n + 1);
		if (!text || sl_text_format_json(t, p, text, (size_t)n + 1) != n) {
			free(text);
			return sl_json_hex(p, t->size);
		}
	}
	j = json_loadb(text, (size_t)n, JSON_DECODE_ANY, NULL);
	if (!j)  /* an integer above what jansson holds (2^63 - 1): its digits */
		j = json_string(text);
	if (text != buf)
		free(text);
	return j;
}

json_t *sl_json_entry(const struct sl_map_entry *e)
{
	json_t *o = json_object(), *cores;
	uint8_t sum[8];

	if (!o)
		return NULL;
	json_object_set_new(o, "key", sl_json_typed(e->key_type, e->key));
	if (!e->percpu) {
		json_object_set_new(o, "value", sl_json_typed(e->value_type, e->value));
		return o;
	}
	cores = json_array();
	for (unsigned c = 0; c < e->ncpus; c++)
		json_array_append_new(cores, sl_json_typed(e->value_type,
							   e->value + (size_t)c * e->stride));
	if (e->summable)
		sl_map_entry_sum(e, sum);
	json_object_set_new(o, "value", e->summable ? sl_json_typed(e->value_type, sum) :
			    json_null());
	json_object_set_new(o, "per_core", cores);
	return o;
}

json_t *sl_json_map_info(struct sl_map *map)
{
	const struct sl_map_def *def = sl_map_get_def(map);

	return json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:b, s:I, s:o}",
			 "name", sl_map_name(map), "type", sl_map_type_name(def->type),
			 "key_size", (json_int_t)def->key_size,
			 "value_size", (json_int_t)def->value_size,
			 "max_entries", (json_int_t)def->max_entries,
			 "flags", (json_int_t)def->map_flags, "percpu", sl_map_is_percpu(map),
			 "ncpus", (json_int_t)sl_map_ncpus(map),
			 "in_use", sl_json_u64(sl_map_ctl_count(map)));
}

static int add_entry(const struct sl_map_entry *e, void *arg)
{
	json_t *j = sl_json_entry(e);

	return j && !json_array_append_new(arg, j) ? 0 : -ENOMEM;
}

json_t *sl_json_map_dump(const struct sl_obj *obj, struct sl_map *map)
{
	json_t *entries = json_array();
	json_t *o = json_pack("{s:s, s:o}", "type", sl_map_type_name(sl_map_get_def(map)->type),
			      "entries", entries);
	int err;

	if (!o)
		return NULL;
	err = sl_report_map_walk(obj, map, add_entry, entries);
	if (err)  /* e.g. RINGBUF: no entries to list */
		json_object_set_new(o, "error", json_string(strerror(-err)));
	return o;
}

json_t *sl_json_maps(const struct sl_engine *eng)
{
	json_t *o = json_object();
	unsigned n = sl_obj_map_count(eng->obj);

	for (unsigned i = 0; o && i < n; i++) {
		struct sl_map *map = sl_obj_map(eng->obj, i);

		json_object_set_new(o, sl_map_name(map), sl_json_map_dump(eng->obj, map));
	}
	return o;
}

static json_t *json_verdict_counts(const uint64_t *counts)
{
	json_t *o = json_object();

	for (unsigned v = 0; o && v < SL_VERDICT_COUNT; v++)
		json_object_set_new(o, sl_verdict_name(v), sl_json_u64(counts[v]));
	return o;
}

static json_t *json_verdicts(const struct sl_worker_stats *s)
{
	return json_verdict_counts(s->verdict);
}

static json_t *json_ports(const struct sl_engine *eng, const struct sl_worker_stats *sum)
{
	json_t *a = json_array();

	for (unsigned p = 0; a && p < eng->nports; p++) {
		const struct sl_port_hw *hw = &eng->port_hw[p];
		json_t *o = json_pack("{s:I, s:s, s:o, s:o}",
			"port", (json_int_t)eng->port_id[p], "name", eng->opts->ports[p].name,
			"rx", sl_json_u64(sum->port_rx[p]), "tx", sl_json_u64(sum->port_tx[p]));

		if (o && hw->valid) {  /* read when the ports stopped: the final report */
			json_object_set_new(o, "link_up", json_boolean(hw->link_up));
			json_object_set_new(o, "imissed", sl_json_u64(hw->imissed));
			json_object_set_new(o, "rx_nombuf", sl_json_u64(hw->rx_nombuf));
			json_object_set_new(o, "oerrors", sl_json_u64(hw->oerrors));
			json_object_set_new(o, "drained_at_stop", sl_json_u64(eng->port_drained[p]));
		}
		json_array_append_new(a, o);
	}
	return a;
}

static json_t *json_workers(const struct sl_engine *eng, const struct sl_worker_stats *per)
{
	json_t *a = json_array();

	for (unsigned w = 0; a && w < eng->nworkers; w++) {
		const struct sl_worker_stats *s = &per[w];
		json_t *o = json_pack("{s:I, s:I, s:o, s:o, s:o, s:o}",
			"worker", (json_int_t)w, "lcore", (json_int_t)eng->workers[w].lcore,
			"rx", sl_json_u64(s->rx), "tx", sl_json_u64(s->tx),
			"drop", sl_json_u64(s->drop), "error", sl_json_u64(s->error));

		if (o && eng->ports_view.ncpus)  /* CPUMAP hand-overs (cpumap.c) */
			json_object_update_new(o, json_pack("{s:o, s:o, s:o, s:o}",
				"cpumap_enqueued", sl_json_u64(s->cpu_out),
				"cpumap_ring_full", sl_json_u64(s->cpu_full),
				"cpumap_received", sl_json_u64(s->cpu_in),
				"cpumap_prog", json_verdict_counts(s->cpu_prog)));
		json_array_append_new(a, o);
	}
	return a;
}

json_t *sl_json_stats(const struct sl_engine *eng)
{
	struct sl_worker_stats sum, per[SL_RUN_MAX_WORKERS];
	json_t *st;

	sl_stats_snapshot(eng, per, &sum);  /* one set of reads: totals and workers agree */
	st = json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
		       "rx", sl_json_u64(sum.rx), "tx", sl_json_u64(sum.tx),
		       "drop", sl_json_u64(sum.drop), "error", sl_json_u64(sum.error),
		       "tx_drop", sl_json_u64(sum.tx_drop),
		       "verdicts", json_verdicts(&sum), "per_port", json_ports(eng, &sum),
		       "per_worker", json_workers(eng, per));
	if (st && eng->ports_stopped) {  /* counted once the ports closed */
		json_object_set_new(st, "mbufs_in_use_at_exit",
				    json_integer((json_int_t)eng->mbufs_in_use_at_exit));
		json_object_set_new(st, "drained_at_stop", sl_json_u64(eng->drained_at_stop));
	}
	return st;
}

int sl_json_write(const struct sl_engine *eng, const char *path)
{
	json_t *root = json_pack("{s:o, s:o}", "stats", sl_json_stats(eng), "maps", sl_json_maps(eng));
	int err = 0;

	if (!root) {
		fprintf(stderr, "sluice run: --json %s: out of memory\n", path);
		return -ENOMEM;
	}
	if (json_dump_file(root, path, JSON_INDENT(2) | JSON_PRESERVE_ORDER)) {
		err = errno ? -errno : -EIO;
		fprintf(stderr, "sluice run: --json %s: %s\n", path, strerror(-err));
	}
	json_decref(root);
	return err;
}
