/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Final report of `sluice run`: the summed counters, per port and per
 * worker, and every map of the object read through the maps' control API
 * (sl_map_ctl_get_next_key / sl_map_ctl_lookup). Arrays list only entries
 * with a non-zero value (in any slot); hashes and the rest list every
 * entry. Per-CPU maps with 4- or 8-byte values show the sum and each core.
 * Control thread, after the workers stopped.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_internal.h"
#include "sl_maps.h"

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

static bool is_array(const struct sl_map *map)
{
	uint32_t t = sl_map_get_def(map)->type;

	return t == BPF_MAP_TYPE_ARRAY || t == BPF_MAP_TYPE_PERCPU_ARRAY;
}

int sl_report_map_walk(struct sl_map *map, sl_map_entry_fn fn, void *arg)
{
	const struct sl_map_def *def = sl_map_get_def(map);
	size_t vsize = sl_map_ctl_value_size(map);
	uint8_t *key = calloc(2, def->key_size ? def->key_size : 1);
	uint8_t *next = key + (def->key_size ? def->key_size : 1);
	uint8_t *val = calloc(1, vsize ? vsize : 1);
	struct sl_map_entry e = {
		.key = next, .value = val, .key_size = def->key_size,
		.value_size = def->value_size, .ncpus = sl_map_is_percpu(map) ? sl_map_ncpus(map) : 1,
		.stride = sl_map_is_percpu(map) ? (def->value_size + 7u) & ~7u : def->value_size,
		.percpu = sl_map_is_percpu(map),
	};
	int err = key && val ? 0 : -ENOMEM;
	bool first = true;

	while (!err) {
		err = sl_map_ctl_get_next_key(map, first ? NULL : key, next);
		if (err)
			break;
		first = false;
		err = sl_map_ctl_lookup(map, next, val);
		if (err == -ENOENT)
			err = 0;  /* deleted meanwhile */
		else if (!err && (!is_array(map) || !all_zero(val, vsize)))
			err = fn(&e, arg);
		memcpy(key, next, def->key_size);
	}
	free(key);
	free(val);
	return err == -ENOENT ? 0 : err;
}

uint64_t sl_map_entry_slot_u64(const struct sl_map_entry *e, unsigned cpu)
{
	const uint8_t *p = e->value + (size_t)cpu * e->stride;
	uint32_t v32;
	uint64_t v64;

	if (e->value_size == 4) {
		memcpy(&v32, p, 4);
		return v32;
	}
	memcpy(&v64, p, 8);
	return v64;
}

static void print_bytes(const uint8_t *p, uint32_t n, FILE *out)
{
	if (n == 4) {
		uint32_t v;

		memcpy(&v, p, 4);
		fprintf(out, "%" PRIu32, v);
	} else if (n == 8) {
		uint64_t v;

		memcpy(&v, p, 8);
		fprintf(out, "%" PRIu64, v);
	} else {
		for (uint32_t i = 0; i < n; i++)
			fprintf(out, "%02x", p[i]);
	}
}

static int print_entry(const struct sl_map_entry *e, void *arg)
{
	FILE *out = arg;
	uint64_t sum = 0;

	fprintf(out, "    ");
	print_bytes(e->key, e->key_size, out);
	fprintf(out, ": ");
	if (!e->percpu) {
		print_bytes(e->value, e->value_size, out);
		fputc('\n', out);
		return 0;
	}
	if (e->value_size == 4 || e->value_size == 8) {
		for (unsigned c = 0; c < e->ncpus; c++)
			sum += sl_map_entry_slot_u64(e, c);
		fprintf(out, "%" PRIu64 " (per core:", sum);
	} else {
		fprintf(out, "(per core:");
	}
	for (unsigned c = 0; c < e->ncpus; c++) {
		fputc(' ', out);
		print_bytes(e->value + (size_t)c * e->stride, e->value_size, out);
	}
	fprintf(out, ")\n");
	return 0;
}

static void print_map(struct sl_map *map, FILE *out)
{
	const struct sl_map_def *def = sl_map_get_def(map);
	int err;

	fprintf(out, "map %s: %s, key %u B, value %u B, %u entries", sl_map_name(map),
		sl_map_type_name(def->type), def->key_size, def->value_size, def->max_entries);
	if (sl_map_is_percpu(map))
		fprintf(out, ", %u cores", sl_map_ncpus(map));
	fprintf(out, is_array(map) ? " (non-zero entries)\n" : "\n");
	err = sl_report_map_walk(map, print_entry, out);
	if (err)
		fprintf(out, "    (cannot list entries: %s)\n", strerror(-err));
}

void sl_report_print(const struct sl_engine *eng, double secs, FILE *out)
{
	struct sl_worker_stats sum;

	sl_stats_sum(eng, &sum);
	fprintf(out, "stats: rx %" PRIu64 "  tx %" PRIu64 "  drop %" PRIu64 "  error %" PRIu64
		"  (%.3f Mpps over %.2f s, %s)\n", sum.rx, sum.tx, sum.drop, sum.error,
		secs > 0 ? (double)sum.rx / secs * 1e-6 : 0.0, secs, eng->exec_name);
	fprintf(out, "  verdicts:");
	for (unsigned v = 0; v < SL_VERDICT_COUNT; v++)
		if (sum.verdict[v] || v <= SL_VERDICT_PASS)
			fprintf(out, " %s %" PRIu64, sl_verdict_name(v), sum.verdict[v]);
	fprintf(out, "; tx refused %" PRIu64 "\n", sum.tx_drop);
	for (unsigned p = 0; p < eng->nports; p++) {
		fprintf(out, "  port %u %s: rx %" PRIu64 "  tx %" PRIu64, eng->port_id[p],
			eng->opts->ports[p].name, sum.port_rx[p], sum.port_tx[p]);
		if (eng->port_hw[p].valid)
			fprintf(out, "  (link %s; NIC: imissed %" PRIu64 "  rx_nombuf %" PRIu64
				"  oerrors %" PRIu64 ")", eng->port_hw[p].link_up ? "up" : "down",
				eng->port_hw[p].imissed, eng->port_hw[p].rx_nombuf, eng->port_hw[p].oerrors);
		fputc('\n', out);
	}
	for (unsigned w = 0; w < eng->nworkers; w++) {
		const struct sl_worker_stats *s = &eng->workers[w].stats;

		fprintf(out, "  worker %u (lcore %u): rx %" PRIu64 "  tx %" PRIu64 "  drop %" PRIu64
			"  error %" PRIu64 "\n", w, eng->workers[w].lcore, s->rx, s->tx, s->drop,
			s->error);
	}
	fprintf(out, "  mbufs in use at exit: %lld\n", (long long)eng->mbufs_in_use_at_exit);
	for (unsigned i = 0; !eng->opts->no_maps && i < sl_obj_map_count(eng->obj); i++)
		print_map(sl_obj_map(eng->obj, i), out);
}
