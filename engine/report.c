/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Final report of `sluice run`: the summed counters, per port and per
 * worker, and every map of the object read through the maps' control API
 * (sl_map_ctl_dump: one pass over the entries), keys and values written by
 * sl_text (typed through the object's BTF, as preload files read them). Arrays list only entries
 * with a non-zero value (in any slot); hashes and the rest list every
 * entry. Per-CPU maps with 4- or 8-byte values show the sum and each core.
 * Control thread, after the workers stopped.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/btf.h>

#include "engine_internal.h"
#include "sl_maps.h"
#include "sl_text.h"

void sl_report_filter_init(struct sl_map *map, struct sl_report_filter *f)
{
	uint32_t t = sl_map_get_def(map)->type;

	f->vsize = sl_map_ctl_value_size(map);
	f->array = t == BPF_MAP_TYPE_ARRAY || t == BPF_MAP_TYPE_PERCPU_ARRAY;
}

bool sl_report_listed(const struct sl_report_filter *f, const void *value)
{
	const uint8_t *p = value;

	if (!f->array)
		return true;
	for (size_t i = 0; i < f->vsize; i++)
		if (p[i])
			return true;
	return false;
}

struct walk {
	struct sl_map_entry e;
	struct sl_report_filter filter;
	sl_map_entry_fn fn;
	void *arg;
};

static int walk_one(const void *key, const void *value, void *arg)
{
	struct walk *w = arg;

	if (!sl_report_listed(&w->filter, value))
		return 0;
	w->e.key = key;
	w->e.value = value;
	return w->fn(&w->e, w->arg);
}

/* An integer type (after typedefs and modifiers), or untyped bytes of an integer's size. */
static bool integer_type(const struct sl_text_type *t)
{
	const struct btf_type *bt;

	if (!t->btf)
		return t->size == 4 || t->size == 8;
	bt = btf__type_by_id(t->btf, (uint32_t)btf__resolve_type(t->btf, t->id));
	return bt && btf_is_int(bt) && (t->size == 4 || t->size == 8);
}

void sl_report_entry_init(const struct sl_obj *obj, struct sl_map *map, struct sl_map_entry *e,
			  struct sl_text_type *kt, struct sl_text_type *vt)
{
	const struct sl_map_def *def = sl_map_get_def(map);

	if (sl_text_map_types(obj, map, kt, vt)) {  /* not the object's: untyped */
		*kt = (struct sl_text_type){ .size = def->key_size,
					     .lpm_key = def->type == BPF_MAP_TYPE_LPM_TRIE };
		*vt = (struct sl_text_type){ .size = def->value_size };
	}
	*e = (struct sl_map_entry){
		.key_size = def->key_size, .value_size = def->value_size,
		.ncpus = sl_map_is_percpu(map) ? sl_map_ncpus(map) : 1,
		.stride = sl_map_is_percpu(map) ? (def->value_size + 7u) & ~7u : def->value_size,
		.percpu = sl_map_is_percpu(map), .key_type = kt, .value_type = vt,
		.summable = integer_type(vt),
	};
}

int sl_report_map_walk(const struct sl_obj *obj, struct sl_map *map, sl_map_entry_fn fn,
		       void *arg)
{
	struct sl_text_type kt, vt;
	struct walk w = { .fn = fn, .arg = arg };

	sl_report_filter_init(map, &w.filter);
	sl_report_entry_init(obj, map, &w.e, &kt, &vt);
	/* one pass of the map's batch dump: no get_next_key restarts */
	return sl_map_ctl_dump(map, walk_one, &w);
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

/* A key or value as sl_text writes it (the form preload files and ctl read back). */
static void print_typed(const struct sl_text_type *t, const uint8_t *p, FILE *out)
{
	char buf[512], *big;
	int n = sl_text_format(t, p, buf, sizeof(buf));

	if (n < (int)sizeof(buf)) {
		fputs(n < 0 ? "(unprintable)" : buf, out);
		return;
	}
	big = malloc((size_t)n + 1);
	if (big && sl_text_format(t, p, big, (size_t)n + 1) == n)
		fputs(big, out);
	else
		fputs(buf, out);
	free(big);
}

/* Sum of the slots of an integer per-CPU value, in a value-sized buffer. */
void sl_map_entry_sum(const struct sl_map_entry *e, uint8_t *out)
{
	uint64_t sum = 0;
	uint32_t v32;

	for (unsigned c = 0; c < e->ncpus; c++)
		sum += sl_map_entry_slot_u64(e, c);
	v32 = (uint32_t)sum;
	memcpy(out, e->value_size == 4 ? (void *)&v32 : (void *)&sum, e->value_size);
}

static int print_entry(const struct sl_map_entry *e, void *arg)
{
	FILE *out = arg;
	uint8_t sum[8];

	fprintf(out, "    ");
	print_typed(e->key_type, e->key, out);
	fprintf(out, ": ");
	if (!e->percpu) {
		print_typed(e->value_type, e->value, out);
		fputc('\n', out);
		return 0;
	}
	if (e->summable) {
		sl_map_entry_sum(e, sum);
		print_typed(e->value_type, sum, out);
		fprintf(out, " (per core:");
	} else {
		fprintf(out, "(per core:");
	}
	for (unsigned c = 0; c < e->ncpus; c++) {
		fputc(' ', out);
		print_typed(e->value_type, e->value + (size_t)c * e->stride, out);
	}
	fprintf(out, ")\n");
	return 0;
}

static void print_map(const struct sl_obj *obj, struct sl_map *map, FILE *out)
{
	const struct sl_map_def *def = sl_map_get_def(map);
	struct sl_report_filter f;
	int err;

	sl_report_filter_init(map, &f);
	fprintf(out, "map %s: %s, key %u B, value %u B, %u entries", sl_map_name(map),
		sl_map_type_name(def->type), def->key_size, def->value_size, def->max_entries);
	if (sl_map_is_percpu(map))
		fprintf(out, ", %u cores", sl_map_ncpus(map));
	fprintf(out, f.array ? " (non-zero entries)\n" : "\n");
	err = sl_report_map_walk(obj, map, print_entry, out);
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
		if (eng->port_drained[p])
			fprintf(out, "  drained at stop %" PRIu64, eng->port_drained[p]);
		fputc('\n', out);
	}
	for (unsigned w = 0; w < eng->nworkers; w++) {
		const struct sl_worker_stats *s = &eng->workers[w].stats;

		fprintf(out, "  worker %u (lcore %u): rx %" PRIu64 "  tx %" PRIu64 "  drop %" PRIu64
			"  error %" PRIu64 "\n", w, eng->workers[w].lcore, s->rx, s->tx, s->drop,
			s->error);
	}
	if (eng->ports_stopped) {  /* counted once the ports closed; replay has no mbufs */
		fprintf(out, "  mbufs in use at exit: %lld", (long long)eng->mbufs_in_use_at_exit);
		if (eng->drained_at_stop)  /* drain.c: sent into net_ring ports, read back at stop */
			fprintf(out, " (%" PRIu64 " sent into net_ring ports drained at stop)",
				eng->drained_at_stop);
		fputc('\n', out);
	}
	for (unsigned i = 0; !eng->opts->no_maps && i < sl_obj_map_count(eng->obj); i++)
		print_map(eng->obj, sl_obj_map(eng->obj, i), out);
}
