/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * --json FILE of `sluice run`: the final counters and maps.
 *
 * {"stats": {"rx": N, "tx": N, "drop": N, "error": N,
 *            "verdicts": {"aborted": N, "drop": N, "pass": N, "tx": N, "redirect": N,
 *                         "redirect_failed": N, "trim": N},   (they sum to rx)
 *            "per_port": [{"port": ID, "name": "net_pcap0", "rx": N, "tx": N}, ...],
 *            "per_worker": [{"worker": I, "lcore": L, "rx": N, "tx": N,
 *                            "drop": N, "error": N}, ...],
 *            "mbufs_in_use_at_exit": 0},
 * per_port also has the port's own view at the end: "link_up", and the
 * NIC's counters "imissed", "rx_nombuf", "oerrors".
 *  "maps": {"NAME": {"type": "percpu_array",
 *                    "entries": [{"key": 6, "value": 1672, "per_core": [1672]}, ...]}}}
 *
 * Keys and values of 4 or 8 bytes are unsigned integers (host byte order),
 * other sizes are hex strings of the bytes in memory order. Entries as in
 * the text report: arrays only non-zero ones, other maps all. "per_core"
 * only for per-CPU maps; their "value" is the sum of the cores for 4- and
 * 8-byte values, null otherwise. A map whose entries cannot be listed
 * (RINGBUF) has "entries": [] and "error": "reason". Control thread.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "engine_internal.h"
#include "sl_maps.h"

struct json_walk {
	FILE *out;
	bool first;
};

static void put_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c < 0x20)
			fprintf(out, "\\u%04x", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}

static void put_bytes(FILE *out, const uint8_t *p, uint32_t n)
{
	if (n == 4 || n == 8) {
		uint64_t v = 0;

		memcpy(&v, p, n);  /* little-endian host */
		fprintf(out, "%" PRIu64, v);
		return;
	}
	fputc('"', out);
	for (uint32_t i = 0; i < n; i++)
		fprintf(out, "%02x", p[i]);
	fputc('"', out);
}

static int put_entry(const struct sl_map_entry *e, void *arg)
{
	struct json_walk *jw = arg;
	FILE *out = jw->out;
	uint64_t sum = 0;

	fprintf(out, "%s\n        {\"key\": ", jw->first ? "" : ",");
	jw->first = false;
	put_bytes(out, e->key, e->key_size);
	fprintf(out, ", \"value\": ");
	if (!e->percpu) {
		put_bytes(out, e->value, e->value_size);
		fputc('}', out);
		return 0;
	}
	if (e->value_size == 4 || e->value_size == 8) {
		for (unsigned c = 0; c < e->ncpus; c++)
			sum += sl_map_entry_slot_u64(e, c);
		fprintf(out, "%" PRIu64, sum);
	} else {
		fprintf(out, "null");
	}
	fprintf(out, ", \"per_core\": [");
	for (unsigned c = 0; c < e->ncpus; c++) {
		fprintf(out, c ? ", " : "");
		put_bytes(out, e->value + (size_t)c * e->stride, e->value_size);
	}
	fprintf(out, "]}");
	return 0;
}

static void put_maps(const struct sl_engine *eng, FILE *out)
{
	unsigned n = sl_obj_map_count(eng->obj);

	fprintf(out, "  \"maps\": {");
	for (unsigned i = 0; i < n; i++) {
		struct sl_map *map = sl_obj_map(eng->obj, i);
		struct json_walk jw = { .out = out, .first = true };
		int err;

		fprintf(out, "%s\n    ", i ? "," : "");
		put_string(out, sl_map_name(map));
		fprintf(out, ": {\"type\": ");
		put_string(out, sl_map_type_name(sl_map_get_def(map)->type));
		fprintf(out, ", \"entries\": [");
		err = sl_report_map_walk(map, put_entry, &jw);
		fprintf(out, "%s]", jw.first ? "" : "\n      ");
		if (err) {  /* e.g. RINGBUF: no entries to list */
			fprintf(out, ", \"error\": ");
			put_string(out, strerror(-err));
		}
		fputc('}', out);
	}
	fprintf(out, "%s}\n", n ? "\n  " : "");
}

static void put_stats(const struct sl_engine *eng, FILE *out)
{
	struct sl_worker_stats sum;

	sl_stats_sum(eng, &sum);
	fprintf(out, "  \"stats\": {\"rx\": %" PRIu64 ", \"tx\": %" PRIu64 ", \"drop\": %" PRIu64
		", \"error\": %" PRIu64 ",\n    \"verdicts\": {", sum.rx, sum.tx, sum.drop, sum.error);
	for (unsigned v = 0; v < SL_VERDICT_COUNT; v++)
		fprintf(out, "%s\"%s\": %" PRIu64, v ? ", " : "", sl_verdict_name(v), sum.verdict[v]);
	fprintf(out, "},\n    \"per_port\": [");
	for (unsigned p = 0; p < eng->nports; p++) {
		fprintf(out, "%s\n      {\"port\": %u, \"name\": ", p ? "," : "", eng->port_id[p]);
		put_string(out, eng->opts->ports[p].name);
		fprintf(out, ", \"rx\": %" PRIu64 ", \"tx\": %" PRIu64, sum.port_rx[p],
			sum.port_tx[p]);
		if (eng->port_hw[p].valid)
			fprintf(out, ", \"link_up\": %s, \"imissed\": %" PRIu64 ", \"rx_nombuf\": %"
				PRIu64 ", \"oerrors\": %" PRIu64, eng->port_hw[p].link_up ? "true" : "false",
				eng->port_hw[p].imissed, eng->port_hw[p].rx_nombuf, eng->port_hw[p].oerrors);
		fputc('}', out);
	}
	fprintf(out, "],\n    \"per_worker\": [");
	for (unsigned w = 0; w < eng->nworkers; w++) {
		const struct sl_worker_stats *s = &eng->workers[w].stats;

		fprintf(out, "%s\n      {\"worker\": %u, \"lcore\": %u, \"rx\": %" PRIu64 ", \"tx\": %"
			PRIu64 ", \"drop\": %" PRIu64 ", \"error\": %" PRIu64 "}", w ? "," : "", w,
			eng->workers[w].lcore, s->rx, s->tx, s->drop, s->error);
	}
	fprintf(out, "],\n    \"mbufs_in_use_at_exit\": %lld},\n",
		(long long)eng->mbufs_in_use_at_exit);
}

int sl_json_write(const struct sl_engine *eng, const char *path)
{
	FILE *out = fopen(path, "w");
	int err;

	if (!out) {
		err = errno;
		fprintf(stderr, "sluice run: --json %s: %s\n", path, strerror(err));
		return -err;
	}
	fprintf(out, "{\n");
	put_stats(eng, out);
	put_maps(eng, out);
	fprintf(out, "}\n");
	err = ferror(out) ? -EIO : 0;
	if (fclose(out) && !err)
		err = -errno;
	if (err) {
		fprintf(stderr, "sluice run: --json %s: %s\n", path, strerror(-err));
	}
	return err;
}
