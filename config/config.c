/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The config file (keys in sl_config.h), read with libyaml's document API:
 *
 *   yaml_parser_load -> one document (anchors and aliases resolved by
 *   libyaml) -> the root mapping walked with one table of keys per
 *   mapping kind (top level, program, port, workers, map, control, stats);
 *   each key's handler checks the node's kind (scalar, list, mapping) and
 *   converts scalars (numbers through sl_num, booleans true/false, names,
 *   paths made relative to the config file's directory).
 *
 * A mapping giving the same key twice, a key no table knows, a scalar
 * where a mapping belongs: each is one line "FILE:LINE:COL: what, want
 * what" (libyaml's marks are 0-based; lines and columns here are 1-based).
 * Port names, egress names and duplicates are checked after the walk
 * (config_cli.c: sl_config_resolve), once the command-line overrides are
 * in. Control thread; nothing here touches DPDK.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "config_internal.h"
#include "sl_num.h"

#define MAX_FILE (1u << 20)

struct cp {
	struct sl_config *cfg;
	yaml_document_t doc;
	const char *name;     /* label of the file in errors */
	char dir[SL_CONFIG_PATH_LEN];  /* base of relative paths, "" for the cwd */
	char *log;
	size_t log_len;
};

static int cp_err(struct cp *p, const yaml_node_t *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int cp_err(struct cp *p, const yaml_node_t *n, const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (p->log && p->log_len)
		snprintf(p->log, p->log_len, "%s:%zu:%zu: %s", p->name, n->start_mark.line + 1,
			 n->start_mark.column + 1, msg);
	return -EINVAL;
}

static struct sl_config_loc loc_of(const yaml_node_t *n)
{
	return (struct sl_config_loc){ (unsigned)n->start_mark.line + 1,
				       (unsigned)n->start_mark.column + 1 };
}

static const char *kind_name(const yaml_node_t *n)
{
	switch (n->type) {
	case YAML_SCALAR_NODE: return n->data.scalar.length ? "a scalar" : "nothing";
	case YAML_SEQUENCE_NODE: return "a list";
	case YAML_MAPPING_NODE: return "a mapping";
	default: return "nothing";
	}
}

static const char *scalar(const yaml_node_t *n)
{
	return (const char *)n->data.scalar.value;
}

/* A non-empty scalar, or an error "KEY: want WHAT, not ...". */
static int want_scalar(struct cp *p, const yaml_node_t *n, const char *key, const char *what)
{
	if (n->type == YAML_SCALAR_NODE && n->data.scalar.length &&
	    strlen(scalar(n)) == n->data.scalar.length)
		return 0;
	return cp_err(p, n, "%s: want %s, not %s", key, what, kind_name(n));
}

static int get_string(struct cp *p, const yaml_node_t *n, const char *key, const char *what,
		      char *dst, size_t len)
{
	int ret = want_scalar(p, n, key, what);

	if (ret)
		return ret;
	if (snprintf(dst, len, "%s", scalar(n)) >= (int)len)
		return cp_err(p, n, "%s: longer than %zu bytes, want %s", key, len - 1, what);
	return 0;
}

static int get_path(struct cp *p, const yaml_node_t *n, const char *key, char *dst, size_t len)
{
	char rel[SL_CONFIG_PATH_LEN];
	int ret = get_string(p, n, key, "a file path", rel, sizeof(rel));

	if (ret)
		return ret;
	if (config_join(p->dir, rel, dst, len))
		return cp_err(p, n, "%s: path too long, want at most %zu bytes", key, len - 1);
	return 0;
}

static int get_uint(struct cp *p, const yaml_node_t *n, const char *key, uint64_t min,
		    uint64_t max, unsigned *dst)
{
	char phrase[200];
	uint64_t v;
	int ret = want_scalar(p, n, key, "an integer");

	if (ret)
		return ret;
	if (sl_num_u64(scalar(n), min, max, &v, phrase, sizeof(phrase)))
		return cp_err(p, n, "%s: %s", key, phrase);
	*dst = (unsigned)v;
	return 0;
}

static int get_bool(struct cp *p, const yaml_node_t *n, const char *key, bool *dst)
{
	int ret = want_scalar(p, n, key, "true or false");

	if (ret)
		return ret;
	if (!strcmp(scalar(n), "true") || !strcmp(scalar(n), "false")) {
		*dst = scalar(n)[0] == 't';
		return 0;
	}
	return cp_err(p, n, "%s: want true or false, not '%s'", key, scalar(n));
}

/* ---- mappings walked through key tables ---- */

typedef int (*key_fn)(struct cp *p, yaml_node_t *val, void *obj);

struct key {
	const char *name;
	key_fn fn;
};

/*
 * Walk mapping @p n: every key must be a scalar in @p keys, given once.
 * @p what names the mapping in errors ("a port").
 */
static int walk(struct cp *p, yaml_node_t *n, const char *what, const struct key *keys,
		size_t nkeys, void *obj)
{
	yaml_node_pair_t *pair;
	uint32_t seen = 0;

	if (n->type != YAML_MAPPING_NODE)
		return cp_err(p, n, "%s: want a mapping (key: value, ...), not %s", what,
			      kind_name(n));
	for (pair = n->data.mapping.pairs.start; pair < n->data.mapping.pairs.top; pair++) {
		yaml_node_t *k = yaml_document_get_node(&p->doc, pair->key);
		yaml_node_t *v = yaml_document_get_node(&p->doc, pair->value);
		char list[256] = "";
		size_t i;
		int ret;

		if (k->type != YAML_SCALAR_NODE)
			return cp_err(p, k, "%s: want a name as key, not %s", what, kind_name(k));
		for (i = 0; i < nkeys; i++)
			if (!strcmp(scalar(k), keys[i].name))
				break;
		if (i == nkeys) {
			for (size_t j = 0; j < nkeys; j++)
				snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s",
					 j ? ", " : "", keys[j].name);
			return cp_err(p, k, "unknown key '%s' in %s, want one of: %s", scalar(k),
				      what, list);
		}
		if (seen & (1u << i))
			return cp_err(p, k, "key '%s' given twice in %s, want each key once",
				      scalar(k), what);
		seen |= 1u << i;
		ret = keys[i].fn(p, v, obj);
		if (ret)
			return ret;
	}
	return 0;
}

#define WALK(p, n, what, keys, obj) walk(p, n, what, keys, sizeof(keys) / sizeof(keys[0]), obj)

/* program: {object, section, engine, type} */

static int prog_object(struct cp *p, yaml_node_t *v, void *o)
{
	p->cfg->object_loc = loc_of(v);
	return get_path(p, v, "program.object", p->cfg->object, sizeof(p->cfg->object));
}

static int prog_section(struct cp *p, yaml_node_t *v, void *o)
{
	p->cfg->section_loc = loc_of(v);
	return get_string(p, v, "program.section", "a section name (xdp, socket, ...)",
			  p->cfg->section, sizeof(p->cfg->section));
}

static int prog_engine(struct cp *p, yaml_node_t *v, void *o)
{
	int ret = want_scalar(p, v, "program.engine", "jit or interp");

	if (ret)
		return ret;
	if (!strcmp(scalar(v), "jit"))
		p->cfg->engine = SL_ENGINE_JIT;
	else if (!strcmp(scalar(v), "interp"))
		p->cfg->engine = SL_ENGINE_INTERP;
	else
		return cp_err(p, v, "program.engine: want jit or interp, not '%s'", scalar(v));
	return 0;
}

static int prog_type(struct cp *p, yaml_node_t *v, void *o)
{
	int ret = want_scalar(p, v, "program.type", "xdp or socket");

	if (ret)
		return ret;
	if (strcmp(scalar(v), "xdp") && strcmp(scalar(v), "socket"))
		return cp_err(p, v, "program.type: want xdp or socket, not '%s'", scalar(v));
	p->cfg->type_loc = loc_of(v);
	snprintf(p->cfg->type, sizeof(p->cfg->type), "%s", scalar(v));
	return 0;
}

static const struct key prog_keys[] = {
	{ "object", prog_object }, { "section", prog_section },
	{ "engine", prog_engine }, { "type", prog_type },
};

static int top_program(struct cp *p, yaml_node_t *v, void *o)
{
	int ret = WALK(p, v, "program", prog_keys, NULL);

	if (!ret && !p->cfg->object[0])
		return cp_err(p, v, "program: no object, want object: FILE.o");
	return ret;
}

/* ports: [{name, device, egress, rx_queues, rx_desc, tx_desc, promiscuous, mtu}] */

static int port_name(struct cp *p, yaml_node_t *v, void *o)
{
	struct sl_config_port *port = o;
	int ret = get_string(p, v, "name", "a port name", port->name, sizeof(port->name));

	if (!ret && !config_name_ok(port->name))
		return cp_err(p, v, "name: '%s' is not a port name, want letters, digits, '_' or "
			      "'-', starting with a letter (not 'self' or 'drop')", port->name);
	return ret;
}

static int port_device(struct cp *p, yaml_node_t *v, void *o)
{
	struct sl_config_port *port = o;
	char raw[SL_CONFIG_PATH_LEN], why[200];
	int ret = get_string(p, v, "device", "a DPDK device string", raw, sizeof(raw));

	if (ret)
		return ret;
	if (config_device_check(raw, why, sizeof(why)))
		return cp_err(p, v, "device: %s", why);
	if (config_device_paths(p->dir, raw, port->device, sizeof(port->device)))
		return cp_err(p, v, "device: too long with its paths resolved, want at most %zu "
			      "bytes", sizeof(port->device) - 1);
	return 0;
}

static int port_egress(struct cp *p, yaml_node_t *v, void *o)
{
	struct sl_config_port *port = o;
	int ret = get_string(p, v, "egress", "a port name, self or drop", port->egress_name,
			     sizeof(port->egress_name));

	port->egress_loc = loc_of(v);
	if (ret)
		return ret;
	port->egress = !strcmp(port->egress_name, "self") ? SL_EGRESS_SELF :
		       !strcmp(port->egress_name, "drop") ? SL_EGRESS_DROP : SL_EGRESS_PORT;
	return 0;
}

static int port_rxq(struct cp *p, yaml_node_t *v, void *o)
{
	return get_uint(p, v, "rx_queues", 1, SL_CONFIG_MAX_WORKERS,
			&((struct sl_config_port *)o)->rx_queues);
}

static int port_rxd(struct cp *p, yaml_node_t *v, void *o)
{
	return get_uint(p, v, "rx_desc", 64, 65535, &((struct sl_config_port *)o)->rx_desc);
}

static int port_txd(struct cp *p, yaml_node_t *v, void *o)
{
	return get_uint(p, v, "tx_desc", 64, 65535, &((struct sl_config_port *)o)->tx_desc);
}

static int port_promisc(struct cp *p, yaml_node_t *v, void *o)
{
	return get_bool(p, v, "promiscuous", &((struct sl_config_port *)o)->promiscuous);
}

static int port_mtu(struct cp *p, yaml_node_t *v, void *o)
{
	return get_uint(p, v, "mtu", 68, 65535, &((struct sl_config_port *)o)->mtu);
}

static const struct key port_keys[] = {
	{ "name", port_name }, { "device", port_device }, { "egress", port_egress },
	{ "rx_queues", port_rxq }, { "rx_desc", port_rxd }, { "tx_desc", port_txd },
	{ "promiscuous", port_promisc }, { "mtu", port_mtu },
};

static int top_ports(struct cp *p, yaml_node_t *v, void *o)
{
	struct sl_config *cfg = p->cfg;
	yaml_node_item_t *it;

	if (v->type != YAML_SEQUENCE_NODE)
		return cp_err(p, v, "ports: want a list of ports (- {name: ..., device: ...}), "
			      "not %s", kind_name(v));
	for (it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
		yaml_node_t *pn = yaml_document_get_node(&p->doc, *it);
		struct sl_config_port *port = &cfg->ports[cfg->nports];
		int ret;

		if (cfg->nports == SL_CONFIG_MAX_PORTS)
			return cp_err(p, pn, "ports: more than %d, want at most %d ports",
				      SL_CONFIG_MAX_PORTS, SL_CONFIG_MAX_PORTS);
		config_port_init(port);
		port->loc = loc_of(pn);
		ret = WALK(p, pn, "a port", port_keys, port);
		if (ret)
			return ret;
		if (!port->device[0])
			return cp_err(p, pn, "port: no device, want device: DEVSTR "
				      "(net_pcap0,rx_pcap=in.pcap or a PCI address)");
		if (!port->name[0])
			config_device_name(port->device, port->name, sizeof(port->name));
		cfg->nports++;
	}
	if (!cfg->nports)
		return cp_err(p, v, "ports: empty, want at least one port");
	return 0;
}

/* workers: N | {lcores: [...]} */

static int workers_lcores(struct cp *p, yaml_node_t *v, void *o)
{
	struct sl_config *cfg = p->cfg;
	yaml_node_item_t *it;

	if (v->type != YAML_SEQUENCE_NODE)
		return cp_err(p, v, "workers.lcores: want a list of CPU numbers ([2, 3]), not %s",
			      kind_name(v));
	cfg->nlcores = 0;
	for (it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
		yaml_node_t *c = yaml_document_get_node(&p->doc, *it);
		unsigned cpu;
		int ret;

		if (cfg->nlcores == SL_CONFIG_MAX_WORKERS)
			return cp_err(p, c, "workers.lcores: more than %d, want at most %d workers",
				      SL_CONFIG_MAX_WORKERS, SL_CONFIG_MAX_WORKERS);
		ret = get_uint(p, c, "workers.lcores", 0, 1023, &cpu);
		if (ret)
			return ret;
		for (unsigned j = 0; j < cfg->nlcores; j++)
			if (cfg->lcores[j] == cpu)
				return cp_err(p, c, "workers.lcores: CPU %u given twice, want each "
					      "CPU once", cpu);
		cfg->lcores[cfg->nlcores++] = cpu;
	}
	if (!cfg->nlcores)
		return cp_err(p, v, "workers.lcores: empty, want at least one CPU");
	cfg->nworkers = cfg->nlcores;
	return 0;
}

static const struct key workers_keys[] = { { "lcores", workers_lcores } };

static int top_workers(struct cp *p, yaml_node_t *v, void *o)
{
	if (v->type == YAML_MAPPING_NODE) {
		int ret = WALK(p, v, "workers", workers_keys, NULL);

		if (!ret && !p->cfg->nlcores)
			return cp_err(p, v, "workers: no lcores, want N or {lcores: [C, ...]}");
		return ret;
	}
	if (v->type != YAML_SCALAR_NODE)
		return cp_err(p, v, "workers: want N or {lcores: [C, ...]}, not %s", kind_name(v));
	p->cfg->nlcores = 0;
	return get_uint(p, v, "workers", 1, SL_CONFIG_MAX_WORKERS, &p->cfg->nworkers);
}

/* maps: {NAME: {file, size, persist}} */

static int map_file(struct cp *p, yaml_node_t *v, void *o)
{
	struct sl_config_map *m = o;
	char key[SL_CONFIG_NAME_LEN + 16];

	snprintf(key, sizeof(key), "maps.%s.file", m->name);
	m->file_loc = loc_of(v);
	return get_path(p, v, key, m->file, sizeof(m->file));
}

static int map_size(struct cp *p, yaml_node_t *v, void *o)
{
	struct sl_config_map *m = o;
	char key[SL_CONFIG_NAME_LEN + 16];
	unsigned size = 0;
	int ret;

	snprintf(key, sizeof(key), "maps.%s.size", m->name);
	ret = get_uint(p, v, key, 1, 1u << 30, &size);

	m->size = size;
	return ret;
}

static int map_persist(struct cp *p, yaml_node_t *v, void *o)
{
	struct sl_config_map *m = o;

	return get_path(p, v, "persist", m->persist, sizeof(m->persist));
}

static const struct key map_keys[] = { { "file", map_file }, { "size", map_size },
				       { "persist", map_persist } };

static int top_maps(struct cp *p, yaml_node_t *v, void *o)
{
	struct sl_config *cfg = p->cfg;
	yaml_node_pair_t *pair;

	if (v->type != YAML_MAPPING_NODE)
		return cp_err(p, v, "maps: want a mapping (NAME: {file: ..., size: N}), not %s",
			      kind_name(v));
	for (pair = v->data.mapping.pairs.start; pair < v->data.mapping.pairs.top; pair++) {
		yaml_node_t *k = yaml_document_get_node(&p->doc, pair->key);
		yaml_node_t *mv = yaml_document_get_node(&p->doc, pair->value);
		struct sl_config_map *m = &cfg->maps[cfg->nmaps];
		char what[SL_CONFIG_NAME_LEN + 16];
		int ret = get_string(p, k, "maps", "a map name", m->name, sizeof(m->name));

		if (ret)
			return ret;
		if (config_find_map(cfg, m->name))
			return cp_err(p, k, "maps: '%s' given twice, want each map once", m->name);
		if (cfg->nmaps == SL_CONFIG_MAX_MAPS)
			return cp_err(p, k, "maps: more than %d, want at most %d maps",
				      SL_CONFIG_MAX_MAPS, SL_CONFIG_MAX_MAPS);
		m->loc = loc_of(k);
		snprintf(what, sizeof(what), "maps.%s", m->name);
		ret = WALK(p, mv, what, map_keys, m);
		if (ret)
			return ret;
		if (!m->file[0] && !m->size && !m->persist[0])
			return cp_err(p, mv, "%s: want file: PATH, size: N and/or persist: PATH",
				      what);
		cfg->nmaps++;
	}
	return 0;
}

/* control: {socket}; stats: {interval, json} */

static int control_socket(struct cp *p, yaml_node_t *v, void *o)
{
	return get_path(p, v, "control.socket", p->cfg->ctl_socket, sizeof(p->cfg->ctl_socket));
}

static const struct key control_keys[] = { { "socket", control_socket } };

static int top_control(struct cp *p, yaml_node_t *v, void *o)
{
	return WALK(p, v, "control", control_keys, NULL);
}

static int stats_interval(struct cp *p, yaml_node_t *v, void *o)
{
	char phrase[200];
	int ret = want_scalar(p, v, "stats.interval", "seconds (1, 0.5, 250ms; 0: none)");

	if (ret)
		return ret;
	if (sl_num_seconds(scalar(v), 0, 86400, &p->cfg->stats_interval, phrase, sizeof(phrase)))
		return cp_err(p, v, "stats.interval: %s", phrase);
	return 0;
}

static int stats_json(struct cp *p, yaml_node_t *v, void *o)
{
	return get_path(p, v, "stats.json", p->cfg->stats_json, sizeof(p->cfg->stats_json));
}

static const struct key stats_keys[] = { { "interval", stats_interval }, { "json", stats_json } };

static int top_stats(struct cp *p, yaml_node_t *v, void *o)
{
	return WALK(p, v, "stats", stats_keys, NULL);
}

/* metrics: {listen: ADDR:PORT, maps: [NAME, ...]} */

static int metrics_listen(struct cp *p, yaml_node_t *v, void *o)
{
	char *cfg_listen = p->cfg->metrics_listen;
	int ret = get_string(p, v, "metrics.listen", "ADDR:PORT (127.0.0.1:9095)", cfg_listen,
			     sizeof(p->cfg->metrics_listen));

	if (!ret && !strrchr(cfg_listen, ':'))
		return cp_err(p, v, "metrics.listen: want ADDR:PORT (127.0.0.1:9095), not '%s'",
			      cfg_listen);
	return ret;
}

static int metrics_maps(struct cp *p, yaml_node_t *v, void *o)
{
	struct sl_config *cfg = p->cfg;
	yaml_node_item_t *it;

	if (v->type != YAML_SEQUENCE_NODE)
		return cp_err(p, v, "metrics.maps: want a list of map names, not %s", kind_name(v));
	for (it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
		yaml_node_t *a = yaml_document_get_node(&p->doc, *it);
		int ret;

		if (cfg->nmetrics_maps == SL_CONFIG_MAX_MAPS)
			return cp_err(p, a, "metrics.maps: want at most %d maps", SL_CONFIG_MAX_MAPS);
		ret = get_string(p, a, "metrics.maps", "a map name",
				 cfg->metrics_maps[cfg->nmetrics_maps], SL_CONFIG_NAME_LEN);
		if (ret)
			return ret;
		cfg->nmetrics_maps++;
	}
	return 0;
}

static const struct key metrics_keys[] = { { "listen", metrics_listen }, { "maps", metrics_maps } };

static int top_metrics(struct cp *p, yaml_node_t *v, void *o)
{
	return WALK(p, v, "metrics", metrics_keys, NULL);
}

/* eal: [ARG, ...] */

static int top_eal(struct cp *p, yaml_node_t *v, void *o)
{
	struct sl_config *cfg = p->cfg;
	yaml_node_item_t *it;

	if (v->type != YAML_SEQUENCE_NODE)
		return cp_err(p, v, "eal: want a list of EAL arguments ([\"--log-level\", \"8\"]), "
			      "not %s", kind_name(v));
	for (it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
		yaml_node_t *a = yaml_document_get_node(&p->doc, *it);
		int ret = want_scalar(p, a, "eal", "an EAL argument");

		if (ret)
			return ret;
		if (cfg->neal == SL_CONFIG_MAX_EAL)
			return cp_err(p, a, "eal: more than %d, want at most %d arguments",
				      SL_CONFIG_MAX_EAL, SL_CONFIG_MAX_EAL);
		cfg->eal[cfg->neal] = strdup(scalar(a));
		if (!cfg->eal[cfg->neal])
			return cp_err(p, a, "eal: out of memory");
		cfg->neal++;
	}
	return 0;
}

static const struct key top_keys[] = {
	{ "program", top_program }, { "ports", top_ports }, { "workers", top_workers },
	{ "maps", top_maps }, { "control", top_control }, { "stats", top_stats },
	{ "eal", top_eal }, { "metrics", top_metrics },
};

/* libyaml's own error, in the same one-line form. */
static int yaml_fail(struct cp *p, const yaml_parser_t *yp)
{
	const yaml_mark_t *m = yp->problem ? &yp->problem_mark : &yp->context_mark;

	if (p->log && p->log_len)
		snprintf(p->log, p->log_len, "%s:%zu:%zu: not valid YAML: %s%s%s, want a YAML "
			 "mapping", p->name, m->line + 1, m->column + 1,
			 yp->problem ? yp->problem : "error", yp->context ? " " : "",
			 yp->context ? yp->context : "");
	return -EINVAL;
}

/* A second YAML document ("---") would be ignored silently: refuse it. */
static int one_document(struct cp *p, yaml_parser_t *yp)
{
	yaml_node_t *root;
	int ret = 0;

	if (!yaml_parser_load(yp, &p->doc))
		return yaml_fail(p, yp);
	root = yaml_document_get_root_node(&p->doc);
	if (root)
		ret = cp_err(p, root, "a second YAML document, want one document per config file");
	yaml_document_delete(&p->doc);
	return ret;
}

int sl_config_load_mem(struct sl_config *cfg, const char *text, size_t len, const char *name,
		       char *log, size_t log_len)
{
	struct cp p = { .cfg = cfg, .name = name, .log = log, .log_len = log_len };
	yaml_parser_t yp;
	yaml_node_t *root;
	int ret;

	if (log && log_len)
		log[0] = '\0';
	snprintf(cfg->path, sizeof(cfg->path), "%s", name);
	config_dirname(name, p.dir, sizeof(p.dir));
	if (!yaml_parser_initialize(&yp))
		return -ENOMEM;
	yaml_parser_set_input_string(&yp, (const unsigned char *)text, len);
	if (!yaml_parser_load(&yp, &p.doc)) {
		ret = yaml_fail(&p, &yp);
		yaml_parser_delete(&yp);
		return ret;
	}
	root = yaml_document_get_root_node(&p.doc);
	if (!root) {
		if (log && log_len)
			snprintf(log, log_len, "%s:1:1: empty file, want a mapping with program: "
				 "and ports:", name);
		ret = -EINVAL;
	} else {
		ret = WALK(&p, root, "the file", top_keys, NULL);
	}
	yaml_document_delete(&p.doc);
	if (!ret)
		ret = one_document(&p, &yp);
	yaml_parser_delete(&yp);
	return ret;
}

int sl_config_load(struct sl_config *cfg, const char *path, char *log, size_t log_len)
{
	char *buf = malloc(MAX_FILE + 1);
	size_t len;
	FILE *f;
	int ret;

	if (!buf)
		return -ENOMEM;
	f = fopen(path, "r");
	if (!f) {
		ret = -errno;
		if (log && log_len)
			snprintf(log, log_len, "%s: cannot read: %s", path, strerror(errno));
		free(buf);
		return ret;
	}
	len = fread(buf, 1, MAX_FILE + 1, f);
	ret = ferror(f) ? -EIO : 0;
	fclose(f);
	if (!ret && len > MAX_FILE) {
		ret = -E2BIG;
		if (log && log_len)
			snprintf(log, log_len, "%s: larger than %u bytes", path, MAX_FILE);
	} else if (ret && log && log_len) {
		snprintf(log, log_len, "%s: read error", path);
	}
	if (!ret)
		ret = sl_config_load_mem(cfg, buf, len, path, log, log_len);
	free(buf);
	return ret;
}
