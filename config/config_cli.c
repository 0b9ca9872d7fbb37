/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The parts of a config that do not come from YAML: defaults, the
 * command-line overrides of `sluice run` (--port, --forward, --map), the
 * checks that need every source in (port names unique, egress names
 * resolved), the check of map names against the loaded object, and the
 * preloads. Errors name the file position of the value when it came from
 * the file ("FILE:LINE:COL: ..."), the option otherwise. Control thread.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config_internal.h"
#include "sl_maps.h"
#include "sl_num.h"
#include "sl_preload.h"
#include "sl_vm.h"

static int say(char *log, size_t len, int ret, const struct sl_config *cfg,
	       const struct sl_config_loc *loc, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

/* One line into @p log, prefixed "FILE:LINE:COL: " when @p loc is a file position. */
static int say(char *log, size_t len, int ret, const struct sl_config *cfg,
	       const struct sl_config_loc *loc, const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!log || !len)
		return ret;
	if (loc && loc->line && cfg->path[0])
		snprintf(log, len, "%s:%u:%u: %s", cfg->path, loc->line, loc->col, msg);
	else
		snprintf(log, len, "%s", msg);
	return ret;
}

void sl_config_init(struct sl_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->nworkers = 1;
	cfg->stats_interval = 1;
}

void sl_config_fini(struct sl_config *cfg)
{
	for (unsigned i = 0; i < cfg->neal; i++)
		free(cfg->eal[i]);
	cfg->neal = 0;
}

void config_port_init(struct sl_config_port *port)
{
	memset(port, 0, sizeof(*port));
	port->promiscuous = true;
}

int config_join(const char *dir, const char *rel, char *dst, size_t len)
{
	int n = rel[0] == '/' || !dir[0] ? snprintf(dst, len, "%s", rel) :
		snprintf(dst, len, "%s/%s", dir, rel);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

void config_dirname(const char *path, char *dir, size_t len)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		snprintf(dir, len, "%s", "");
	else if (slash == path)
		snprintf(dir, len, "%s", "/");
	else
		snprintf(dir, len, "%.*s", (int)(slash - path), path);
}

bool config_name_ok(const char *name)
{
	if (!isalpha((unsigned char)name[0]) || !strcmp(name, "self") || !strcmp(name, "drop"))
		return false;
	for (const char *s = name; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-')
			return false;
	return true;
}

/* "[DDDD:]BB:DD.F" in hex. */
static bool is_pci(const char *s)
{
	unsigned dom = 0, bus, dev, fn;
	char end;

	if (sscanf(s, "%x:%x:%x.%x%c", &dom, &bus, &dev, &fn, &end) != 4 &&
	    sscanf(s, "%x:%x.%x%c", &bus, &dev, &fn, &end) != 3)
		return false;
	return dom <= 0xffff && bus <= 0xff && dev <= 0x1f && fn <= 7 &&
	       strspn(s, "0123456789abcdefABCDEF:.") == strlen(s);
}

int config_device_check(const char *dev, char *why, size_t len)
{
	char name[SL_CONFIG_PATH_LEN];
	bool vdev = !strncmp(dev, "net_", 4);

	config_device_name(dev, name, sizeof(name));
	for (const char *s = name + 4; vdev && *s; s++)
		vdev = islower((unsigned char)*s) || isdigit((unsigned char)*s) || *s == '_';
	if ((vdev && name[4]) || is_pci(name))
		return 0;
	snprintf(why, len, "'%s' is neither a virtual device (net_<driver>[N][,key=value...]) "
		 "nor a PCI address (0000:01:00.0), want one of them", dev);
	return -EINVAL;
}

int config_device_paths(const char *dir, const char *dev, char *dst, size_t len)
{
	char buf[SL_CONFIG_PATH_LEN], path[SL_CONFIG_PATH_LEN];
	char *save = NULL, *tok;
	size_t off = 0;

	if (snprintf(buf, sizeof(buf), "%s", dev) >= (int)sizeof(buf))
		return -ENAMETOOLONG;
	dst[0] = '\0';
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		const char *out = tok;
		int n;

		if (off && (!strncmp(tok, "rx_pcap=", 8) || !strncmp(tok, "tx_pcap=", 8))) {
			n = snprintf(path, sizeof(path), "%.8s", tok);
			if (config_join(dir, tok + 8, path + n, sizeof(path) - (size_t)n))
				return -ENAMETOOLONG;
			out = path;
		}
		n = snprintf(dst + off, len - off, "%s%s", off ? "," : "", out);
		if (n < 0 || (size_t)n >= len - off)
			return -ENAMETOOLONG;
		off += (size_t)n;
	}
	return 0;
}

void config_device_name(const char *dev, char *name, size_t len)
{
	snprintf(name, len, "%.*s", (int)strcspn(dev, ","), dev);
}

struct sl_config_map *config_find_map(struct sl_config *cfg, const char *name)
{
	for (unsigned i = 0; i < cfg->nmaps; i++)
		if (!strcmp(cfg->maps[i].name, name))
			return &cfg->maps[i];
	return NULL;
}

int sl_config_add_port(struct sl_config *cfg, const char *device, char *log, size_t log_len)
{
	struct sl_config_port *port = &cfg->ports[cfg->nports];
	char why[SL_CONFIG_PATH_LEN + 128];

	if (cfg->nports == SL_CONFIG_MAX_PORTS)
		return say(log, log_len, -EINVAL, cfg, NULL, "--port: at most %d ports",
			   SL_CONFIG_MAX_PORTS);
	if (config_device_check(device, why, sizeof(why)))
		return say(log, log_len, -EINVAL, cfg, NULL, "--port: %s", why);
	config_port_init(port);
	if (snprintf(port->device, sizeof(port->device), "%s", device) >= (int)sizeof(port->device))
		return say(log, log_len, -EINVAL, cfg, NULL, "--port: longer than %zu bytes",
			   sizeof(port->device) - 1);
	config_device_name(device, port->name, sizeof(port->name));
	cfg->nports++;
	return 0;
}

int sl_config_add_forward(struct sl_config *cfg, const char *spec, char *log, size_t log_len)
{
	const char *colon = strrchr(spec, ':');

	if (cfg->nfwd == SL_CONFIG_MAX_PORTS)
		return say(log, log_len, -EINVAL, cfg, NULL, "--forward: at most %d",
			   SL_CONFIG_MAX_PORTS);
	if (!colon || colon == spec || !colon[1] ||
	    (size_t)(colon - spec) >= sizeof(cfg->fwd[0].in) ||
	    strlen(colon + 1) >= sizeof(cfg->fwd[0].out))
		return say(log, log_len, -EINVAL, cfg, NULL, "--forward: want IN:OUT (a port index "
			   "or name, then a port index or name, drop or self), not '%s'", spec);
	snprintf(cfg->fwd[cfg->nfwd].in, sizeof(cfg->fwd[0].in), "%.*s", (int)(colon - spec), spec);
	snprintf(cfg->fwd[cfg->nfwd].out, sizeof(cfg->fwd[0].out), "%s", colon + 1);
	cfg->nfwd++;
	return 0;
}

int sl_config_add_map(struct sl_config *cfg, const char *spec, char *log, size_t log_len)
{
	const char *eq = strchr(spec, '=');
	struct sl_config_map *m;
	char name[SL_CONFIG_NAME_LEN];

	if (!eq || eq == spec || !eq[1] || (size_t)(eq - spec) >= sizeof(name))
		return say(log, log_len, -EINVAL, cfg, NULL, "--map: want NAME=FILE, not '%s'", spec);
	snprintf(name, sizeof(name), "%.*s", (int)(eq - spec), spec);
	m = config_find_map(cfg, name);
	if (!m) {
		if (cfg->nmaps == SL_CONFIG_MAX_MAPS)
			return say(log, log_len, -EINVAL, cfg, NULL, "--map: at most %d maps",
				   SL_CONFIG_MAX_MAPS);
		m = &cfg->maps[cfg->nmaps++];
		memset(m, 0, sizeof(*m));
		snprintf(m->name, sizeof(m->name), "%s", name);
	}
	m->loc = (struct sl_config_loc){ 0, 0 };
	m->file_loc = m->loc;
	if (snprintf(m->file, sizeof(m->file), "%s", eq + 1) >= (int)sizeof(m->file))
		return say(log, log_len, -EINVAL, cfg, NULL, "--map: file name too long");
	return 0;
}

/* Port by index ("0") or name; -1 if none. */
static int port_index(const struct sl_config *cfg, const char *s)
{
	uint64_t v;

	if (!sl_num_u64(s, 0, SL_CONFIG_MAX_PORTS - 1, &v, NULL, 0))
		return v < cfg->nports ? (int)v : -1;
	for (unsigned i = 0; i < cfg->nports; i++)
		if (!strcmp(cfg->ports[i].name, s))
			return (int)i;
	return -1;
}

static int apply_forwards(struct sl_config *cfg, char *log, size_t log_len)
{
	for (unsigned f = 0; f < cfg->nfwd; f++) {
		char in[SL_CONFIG_NAME_LEN], out[SL_CONFIG_NAME_LEN];
		int i, o;
		struct sl_config_port *port;

		memcpy(in, cfg->fwd[f].in, sizeof(in));
		memcpy(out, cfg->fwd[f].out, sizeof(out));
		i = port_index(cfg, in);
		o = port_index(cfg, out);
		if (i < 0)
			return say(log, log_len, -EINVAL, cfg, NULL, "--forward %s:%s: no port '%s', "
				   "want a port index (0..%u) or name", in, out, in, cfg->nports - 1);
		port = &cfg->ports[i];
		port->egress_loc = (struct sl_config_loc){ 0, 0 };
		memcpy(port->egress_name, out, sizeof(port->egress_name));
		if (!strcmp(out, "drop") || !strcmp(out, "self")) {
			port->egress = out[0] == 'd' ? SL_EGRESS_DROP : SL_EGRESS_SELF;
		} else if (o < 0) {
			return say(log, log_len, -EINVAL, cfg, NULL, "--forward %s:%s: no port '%s', "
				   "want a port index (0..%u) or name, drop or self", in, out, out,
				   cfg->nports - 1);
		} else {
			port->egress = SL_EGRESS_PORT;
			memcpy(port->egress_name, cfg->ports[o].name, sizeof(port->egress_name));
		}
	}
	return 0;
}

/* Two ports on one device: DPDK would refuse the second, less clearly. */
static int check_devices(struct sl_config *cfg, char *log, size_t log_len)
{
	char da[SL_CONFIG_PATH_LEN], db[SL_CONFIG_PATH_LEN];

	for (unsigned i = 0; i < cfg->nports; i++)
		for (unsigned j = 0; j < i; j++) {
			const struct sl_config_port *a = &cfg->ports[j], *b = &cfg->ports[i];

			config_device_name(a->device, da, sizeof(da));
			config_device_name(b->device, db, sizeof(db));
			if (strcmp(da, db))
				continue;
			if (b->loc.line && a->loc.line)
				return say(log, log_len, -EINVAL, cfg, &b->loc, "device '%s' is used twice "
					   "(first at line %u), want one port per device (net_pcap0, "
					   "net_pcap1, ...)", db, a->loc.line);
			return say(log, log_len, -EINVAL, cfg, &b->loc, "device '%s' given twice, want "
				   "one port per device", db);
		}
	return 0;
}

static int check_names(struct sl_config *cfg, char *log, size_t log_len)
{
	for (unsigned i = 0; i < cfg->nports; i++)
		for (unsigned j = 0; j < i; j++) {
			const struct sl_config_port *a = &cfg->ports[j], *b = &cfg->ports[i];

			if (strcmp(a->name, b->name))
				continue;
			if (b->loc.line && a->loc.line)
				return say(log, log_len, -EINVAL, cfg, &b->loc, "port name '%s' is used "
					   "twice (first at line %u), want unique names (name: ...)",
					   b->name, a->loc.line);
			return say(log, log_len, -EINVAL, cfg, &b->loc, "port '%s' given twice, want "
				   "each port once (or a name: to tell them apart)", b->name);
		}
	return 0;
}

static int resolve_egress(struct sl_config *cfg, char *log, size_t log_len)
{
	for (unsigned i = 0; i < cfg->nports; i++) {
		struct sl_config_port *port = &cfg->ports[i];
		unsigned j;

		if (port->egress != SL_EGRESS_PORT)
			continue;
		for (j = 0; j < cfg->nports; j++)
			if (!strcmp(cfg->ports[j].name, port->egress_name))
				break;
		if (j == cfg->nports)
			return say(log, log_len, -EINVAL, cfg, &port->egress_loc, "egress: no port "
				   "named '%s', want a port's name, self or drop", port->egress_name);
		port->egress_port = j;
	}
	return 0;
}

int sl_config_resolve(struct sl_config *cfg, char *log, size_t log_len)
{
	const struct sl_config_loc top = { 1, 1 };  /* a key missing from the file */
	int ret;

	if (log && log_len)
		log[0] = '\0';
	if (!cfg->object[0])
		return say(log, log_len, -EINVAL, cfg, &top, "no program, want program: {object: "
			   "FILE.o}%s or --prog FILE.o", cfg->path[0] ? " in the config" : "");
	if (!cfg->nports)
		return say(log, log_len, -EINVAL, cfg, &top, "no ports, want ports: [...]%s or "
			   "--port DEVSTR", cfg->path[0] ? " in the config" : "");
	ret = check_names(cfg, log, log_len);
	if (!ret)
		ret = check_devices(cfg, log, log_len);
	if (!ret)
		ret = apply_forwards(cfg, log, log_len);
	if (!ret)
		ret = resolve_egress(cfg, log, log_len);
	return ret;
}

int sl_config_check_maps(const struct sl_config *cfg, const struct sl_obj *obj, char *log,
			 size_t log_len)
{
	for (unsigned i = 0; i < cfg->nmaps; i++) {
		const struct sl_config_map *m = &cfg->maps[i];
		char names[512] = "";

		if (sl_obj_map_by_name(obj, m->name))
			continue;
		for (unsigned j = 0; j < sl_obj_map_count(obj); j++)
			snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s",
				 j ? ", " : "", sl_map_name(sl_obj_map(obj, j)));
		return say(log, log_len, -ENOENT, cfg, &m->loc, "%s%s: the object defines no map "
			   "'%s', want one of: %s", m->loc.line ? "maps" : "--map ",
			   m->loc.line ? "" : m->name, m->name, names[0] ? names : "(none)");
	}
	return 0;
}

int sl_config_preload(const struct sl_config *cfg, const struct sl_obj *obj, unsigned *entries,
		      char *log, size_t log_len)
{
	unsigned total = 0;
	int ret = sl_config_check_maps(cfg, obj, log, log_len);

	for (unsigned i = 0; !ret && i < cfg->nmaps; i++) {
		const struct sl_config_map *m = &cfg->maps[i];
		unsigned n = 0;

		if (!m->file[0])
			continue;
		if (access(m->file, R_OK))
			return say(log, log_len, -errno, cfg, &m->file_loc, "%s%s%s: '%s': %s, want a "
				   "readable preload file", m->file_loc.line ? "maps." : "--map ",
				   m->name, m->file_loc.line ? ".file" : "", m->file, strerror(errno));
		ret = sl_preload_load(obj, sl_obj_map_by_name(obj, cfg->maps[i].name),
				      cfg->maps[i].file, NULL, &n, log, log_len);
		total += n;
	}
	if (entries)
		*entries = total;
	return ret;
}
