/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Prometheus metrics: `metrics: {listen: ADDR:PORT, maps: [NAME, ...]}` in
 * the config, or `sluice run --metrics ADDR:PORT`. GET /metrics (any path)
 * answers the text exposition format 0.0.4.
 *
 * libmicrohttpd serves HTTP in its own thread. That thread never reads the
 * engine: a scrape sets `want` and waits (condition variable, at most 2 s)
 * for the control thread, which in its 10 ms loop (stats.c) renders the
 * whole text the way `ctl stats` reads counters (per-worker counters summed
 * with acquire loads, maps through the control API) and hands it over. So
 * a hot reload, which swaps maps on the control thread, can never race a
 * scrape, and the data path sees nothing. The mutex is shared by these two
 * threads only.
 *
 * Series (every counter a _total):
 *   sluice_port_{rx,tx}_packets_total{port}
 *   sluice_worker_{rx,tx,drop,error}_packets_total{worker}
 *   sluice_verdict_packets_total{verdict}
 *   sluice_nic_{missed,rx_nombuf,rx_errors,tx_errors}_total{port}   (rte_eth_stats)
 *   sluice_program_runs_total, sluice_program_reloads_total, sluice_program_info{...} 1
 *   sluice_ring_dropped_total{map}        RINGBUF / PERF_EVENT_ARRAY records refused
 *   sluice_capture_lost_total             `ctl capture` packets the rings could not take
 *   sluice_map_value{map, key}            each entry of a chosen map (per-CPU: summed);
 *                                         key typed through BTF (sl_text_format),
 *                                         values of 1, 2, 4 or 8 bytes
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <rte_ethdev.h>

#include "capture.h"
#include "engine_internal.h"
#include "sl_config.h"
#include "sl_maps.h"
#include "sl_text.h"

#define SCRAPE_WAIT_S 2

struct sl_metrics {
	struct MHD_Daemon *d;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool want;          /* a scrape waits for text */
	char *text;         /* the last rendered text (owned) */
	size_t len;
	uint64_t gen;       /* bumped at each render */
};

/* A label value with \, " and newline escaped. */
static void label(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			fputc('\\', f);
		if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
}

static void head(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static const char *port_name(const struct sl_engine *eng, unsigned p)
{
	const struct sl_config *cfg = eng->opts->cfg;

	return cfg && p < cfg->nports ? cfg->ports[p].name : eng->opts->ports[p].name;
}

static void per_port(FILE *f, const struct sl_engine *eng, const char *name, const char *help,
		     const uint64_t *v)
{
	head(f, name, "counter", help);
	for (unsigned p = 0; p < eng->nports; p++) {
		fprintf(f, "%s{port=\"", name);
		label(f, port_name(eng, p));
		fprintf(f, "\"} %llu\n", (unsigned long long)v[p]);
	}
}

static void worker_series(FILE *f, const struct sl_engine *eng,
			  const struct sl_worker_stats *per)
{
	static const struct { const char *name, *help; size_t off; } w[] = {
		{ "rx", "Packets received by the worker.", offsetof(struct sl_worker_stats, rx) },
		{ "tx", "Packets sent by the worker.", offsetof(struct sl_worker_stats, tx) },
		{ "drop", "Packets dropped by the worker (verdicts, egress drop, TX refused).",
		  offsetof(struct sl_worker_stats, drop) },
		{ "error", "Aborted and failed-redirect packets of the worker.",
		  offsetof(struct sl_worker_stats, error) },
	};

	for (size_t k = 0; k < sizeof(w) / sizeof(w[0]); k++) {
		char name[64];

		snprintf(name, sizeof(name), "sluice_worker_%s_packets_total", w[k].name);
		head(f, name, "counter", w[k].help);
		for (unsigned i = 0; i < eng->nworkers; i++)
			fprintf(f, "%s{worker=\"%u\"} %llu\n", name, i, (unsigned long long)
				*(const uint64_t *)((const char *)&per[i] + w[k].off));
	}
}

static void nic_series(FILE *f, const struct sl_engine *eng)
{
	uint64_t v[4][SL_RUN_MAX_PORTS] = { { 0 } };
	static const char *const names[4][2] = {
		{ "sluice_nic_missed_total", "Packets the NIC dropped: no RX descriptor (imissed)." },
		{ "sluice_nic_rx_nombuf_total", "RX mbuf allocation failures." },
		{ "sluice_nic_rx_errors_total", "Erroneous received packets (ierrors)." },
		{ "sluice_nic_tx_errors_total", "Failed transmitted packets (oerrors)." },
	};

	for (unsigned p = 0; p < eng->nports; p++) {
		struct rte_eth_stats st;

		if (!eng->port_started[p] || rte_eth_stats_get(eng->port_id[p], &st))
			continue;
		v[0][p] = st.imissed;
		v[1][p] = st.rx_nombuf;
		v[2][p] = st.ierrors;
		v[3][p] = st.oerrors;
	}
	for (int k = 0; k < 4; k++)
		per_port(f, eng, names[k][0], names[k][1], v[k]);
}

static void program_series(FILE *f, const struct sl_engine *eng, const struct sl_worker_stats *s)
{
	head(f, "sluice_program_runs_total", "counter", "Packets the running program has run on.");
	fprintf(f, "sluice_program_runs_total %llu\n",
		(unsigned long long)(s->rx - eng->info.runs_base));
	head(f, "sluice_program_reloads_total", "counter", "Successful hot reloads.");
	fprintf(f, "sluice_program_reloads_total %u\n", eng->info.reloads);
	head(f, "sluice_program_info", "gauge", "The running program.");
	fprintf(f, "sluice_program_info{object=\"");
	label(f, eng->info.path[0] ? eng->info.path : eng->opts->prog_path);
	fprintf(f, "\",section=\"");
	label(f, eng->prog->section);
	fprintf(f, "\",exec=\"%s\"} 1\n", eng->exec_name);
}

static void ring_series(FILE *f, const struct sl_engine *eng)
{
	uint64_t lost = 0;

	head(f, "sluice_ring_dropped_total", "counter",
	     "Records a RINGBUF or PERF_EVENT_ARRAY map refused (full).");
	for (unsigned i = 0; i < sl_obj_map_count(eng->obj); i++) {
		struct sl_map *m = sl_obj_map(eng->obj, i);
		uint32_t t = sl_map_get_def(m)->type;

		if (t != BPF_MAP_TYPE_RINGBUF && t != BPF_MAP_TYPE_PERF_EVENT_ARRAY)
			continue;
		fprintf(f, "sluice_ring_dropped_total{map=\"");
		label(f, sl_map_name(m));
		fprintf(f, "\"} %llu\n", (unsigned long long)(t == BPF_MAP_TYPE_RINGBUF ?
			sl_map_ringbuf_dropped(m) : sl_map_perf_event_lost(m)));
	}
	for (unsigned w = 0; eng->capture && eng->capture->rings && w < eng->capture->nrings; w++)
		lost += __atomic_load_n(&eng->capture->rings[w].lost, __ATOMIC_RELAXED);
	head(f, "sluice_capture_lost_total", "counter",
	     "Packets `ctl capture` chose but the worker rings could not take (this capture).");
	fprintf(f, "sluice_capture_lost_total %llu\n", (unsigned long long)lost);
}

struct map_walk {
	FILE *f;
	const char *map;
	struct sl_text_type kt;
};

static int map_entry(const struct sl_map_entry *e, void *arg)
{
	struct map_walk *mw = arg;
	char key[512];
	uint64_t v = 0;

	if (sl_text_format(&mw->kt, e->key, key, sizeof(key)) < 0)
		snprintf(key, sizeof(key), "?");
	for (unsigned c = 0; c < e->ncpus; c++)
		v += sl_map_entry_slot_u64(e, c);
	fprintf(mw->f, "sluice_map_value{map=\"");
	label(mw->f, mw->map);
	fprintf(mw->f, "\",key=\"");
	label(mw->f, key);
	fprintf(mw->f, "\"} %llu\n", (unsigned long long)v);
	return 0;
}

static void map_series(FILE *f, const struct sl_engine *eng)
{
	const struct sl_config *cfg = eng->opts->cfg;

	if (!cfg || !cfg->nmetrics_maps)
		return;
	head(f, "sluice_map_value", "gauge", "Entries of the maps chosen in metrics.maps "
	     "(per-CPU values summed).");
	for (unsigned i = 0; i < cfg->nmetrics_maps; i++) {
		struct sl_map *m = sl_obj_map_by_name(eng->obj, cfg->metrics_maps[i]);
		struct map_walk mw = { .f = f, .map = cfg->metrics_maps[i] };
		struct sl_text_type vt;

		if (!m || sl_text_map_types(eng->obj, m, &mw.kt, &vt))
			continue;  /* checked at start; a reload may have dropped it */
		sl_report_map_walk(eng->obj, m, map_entry, &mw);
	}
}

/* The whole text (control thread). NULL on ENOMEM. */
static char *render(const struct sl_engine *eng, size_t *len)
{
	struct sl_worker_stats s, per[SL_RUN_MAX_WORKERS];
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);

	if (!f)
		return NULL;
	sl_stats_snapshot(eng, per, &s);  /* one set of reads: totals and workers agree */
	per_port(f, eng, "sluice_port_rx_packets_total", "Packets received per port.", s.port_rx);
	per_port(f, eng, "sluice_port_tx_packets_total", "Packets sent per port.", s.port_tx);
	worker_series(f, eng, per);
	head(f, "sluice_verdict_packets_total", "counter", "Packets by the program's verdict.");
	for (unsigned v = 0; v < SL_VERDICT_COUNT; v++)
		fprintf(f, "sluice_verdict_packets_total{verdict=\"%s\"} %llu\n", sl_verdict_name(v),
			(unsigned long long)s.verdict[v]);
	nic_series(f, eng);
	program_series(f, eng, &s);
	ring_series(f, eng);
	map_series(f, eng);
	if (fclose(f)) {
		free(buf);
		return NULL;
	}
	return buf;
}

void sl_metrics_serve(struct sl_engine *eng)
{
	struct sl_metrics *m = eng->metrics;
	bool want;
	size_t len = 0;
	char *text;

	pthread_mutex_lock(&m->mu);
	want = m->want;
	pthread_mutex_unlock(&m->mu);
	if (!want)
		return;
	text = render(eng, &len);
	pthread_mutex_lock(&m->mu);
	free(m->text);
	m->text = text;
	m->len = text ? len : 0;
	m->gen++;
	m->want = false;
	pthread_cond_broadcast(&m->cv);
	pthread_mutex_unlock(&m->mu);
}

/* HTTP thread: wait for the control thread's text. */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *data,
				  size_t *data_size, void **state)
{
	struct sl_metrics *m = cls;
	struct MHD_Response *r;
	struct timespec until;
	enum MHD_Result ret;
	uint64_t gen;
	bool ok;

	if (strcmp(method, "GET") && strcmp(method, "HEAD")) {
		static const char msg[] = "only GET\n";

		r = MHD_create_response_from_buffer(sizeof(msg) - 1, (void *)msg, MHD_RESPMEM_PERSISTENT);
		ret = MHD_queue_response(conn, MHD_HTTP_METHOD_NOT_ALLOWED, r);
		MHD_destroy_response(r);
		return ret;
	}
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += SCRAPE_WAIT_S;
	pthread_mutex_lock(&m->mu);
	gen = m->gen;
	m->want = true;
	while (m->gen == gen)
		if (pthread_cond_timedwait(&m->cv, &m->mu, &until))
			break;
	ok = m->gen != gen && m->text;
	r = ok ? MHD_create_response_from_buffer(m->len, m->text, MHD_RESPMEM_MUST_COPY) :
	     MHD_create_response_from_buffer(strlen("engine busy\n"), (void *)"engine busy\n",
					     MHD_RESPMEM_PERSISTENT);
	pthread_mutex_unlock(&m->mu);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type", ok ? "text/plain; version=0.0.4; charset=utf-8" :
				"text/plain");
	ret = MHD_queue_response(conn, ok ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE, r);
	MHD_destroy_response(r);
	return ret;
}

/* "ADDR:PORT" (IPv4) into @p sa. */
static int parse_listen(const char *s, struct sockaddr_in *sa)
{
	const char *colon = strrchr(s, ':');
	char addr[64];
	char *end;
	unsigned long port;

	if (!colon || (size_t)(colon - s) >= sizeof(addr))
		return -EINVAL;
	memcpy(addr, s, (size_t)(colon - s));
	addr[colon - s] = '\0';
	port = strtoul(colon + 1, &end, 10);
	if (*end || colon[1] == '\0' || port == 0 || port > 65535)
		return -EINVAL;
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)port);
	return inet_pton(AF_INET, addr[0] ? addr : "0.0.0.0", &sa->sin_addr) == 1 ? 0 : -EINVAL;
}

/* Every metrics.maps name is a map of the object with integer values. */
static int check_maps(const struct sl_engine *eng)
{
	const struct sl_config *cfg = eng->opts->cfg;

	for (unsigned i = 0; cfg && i < cfg->nmetrics_maps; i++) {
		struct sl_map *m = sl_obj_map_by_name(eng->obj, cfg->metrics_maps[i]);
		uint32_t vs = m ? sl_map_get_def(m)->value_size : 0;

		if (!m || (vs != 1 && vs != 2 && vs != 4 && vs != 8)) {
			fprintf(stderr, "sluice run: metrics.maps: %s '%s'%s\n",
				m ? "map" : "the object defines no map", cfg->metrics_maps[i],
				m ? " has values that are not integers of 1, 2, 4 or 8 bytes" : "");
			return -EINVAL;
		}
	}
	return 0;
}

int sl_metrics_start(struct sl_engine *eng)
{
	const struct sl_config *cfg = eng->opts->cfg;
	struct sockaddr_in sa;
	struct sl_metrics *m;

	if (!cfg || !cfg->metrics_listen[0])
		return 0;
	if (parse_listen(cfg->metrics_listen, &sa)) {
		fprintf(stderr, "sluice run: metrics.listen: want IPV4:PORT (127.0.0.1:9095), not '%s'\n",
			cfg->metrics_listen);
		return -EINVAL;
	}
	if (check_maps(eng))
		return -EINVAL;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	pthread_mutex_init(&m->mu, NULL);
	pthread_cond_init(&m->cv, NULL);
	m->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL,
				on_request, m, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
				MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)10,
				MHD_OPTION_CONNECTION_LIMIT, (unsigned int)32, MHD_OPTION_END);
	if (!m->d) {
		fprintf(stderr, "sluice run: metrics.listen %s: cannot listen (address in use?)\n",
			cfg->metrics_listen);
		free(m);
		return -EADDRINUSE;
	}
	eng->metrics = m;
	return 0;
}

void sl_metrics_stop(struct sl_engine *eng)
{
	struct sl_metrics *m = eng->metrics;

	if (!m)
		return;
	pthread_mutex_lock(&m->mu);
	m->gen++;  /* a scrape waiting now gets "engine busy" */
	pthread_cond_broadcast(&m->cv);
	pthread_mutex_unlock(&m->mu);
	MHD_stop_daemon(m->d);
	free(m->text);
	pthread_mutex_destroy(&m->mu);
	pthread_cond_destroy(&m->cv);
	free(m);
	eng->metrics = NULL;
}
