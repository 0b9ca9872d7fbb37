/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A validated struct sl_config (config/) into the engine of `sluice run`:
 *
 *   run options   program, section, engine, workers, stats interval, JSON
 *   ports         each device string parsed as --port is (port.c: vdev or
 *                 PCI, rx_pcap packets counted), then the port's rx_desc,
 *                 tx_desc, mtu and promiscuous for port.c to apply
 *   EAL           the config's eal: list, then the arguments after "--"
 *   egress        after the ports started: each port's egress from the
 *                 config (a port, self, drop) over port.c's default pairs
 *
 * Errors a file position can name are "FILE:LINE:COL: ..."; the others
 * "sluice run: ...". Control thread, before the workers start.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "engine_internal.h"
#include "sl_config.h"

#define EAL_MAX (SL_CONFIG_MAX_EAL + 256)

static int port_settings(const struct sl_config *cfg, unsigned i, struct sl_run_opts *o)
{
	const struct sl_config_port *cp = &cfg->ports[i];
	struct sl_port_spec *spec = &o->ports[i];

	int err = sl_port_parse(cp->device, spec);

	if (err)  /* a bad string in the file is the file's fault (exit 1), on the command line a usage error */
		return err == -EINVAL && cp->loc.line ? -EBADMSG : err;
	if (cp->rx_queues && cp->rx_queues < cfg->nworkers) {
		fprintf(stderr, "%s:%u:%u: port '%s': rx_queues %u with %u workers: every worker "
			"polls at least one RX queue of every port, want rx_queues >= %u (or leave it "
			"out)\n", cfg->path, cp->loc.line, cp->loc.col, cp->name, cp->rx_queues,
			cfg->nworkers, cfg->nworkers);
		return -EBADMSG;
	}
	spec->rx_queues = cp->rx_queues;
	spec->rx_desc = cp->rx_desc;
	spec->tx_desc = cp->tx_desc;
	spec->mtu = cp->mtu;
	spec->no_promisc = !cp->promiscuous;
	return 0;
}

/* The config's eal: list, then the command line's arguments after "--". */
static int merge_eal(const struct sl_config *cfg, struct sl_run_opts *o)
{
	static char *argv[EAL_MAX + 1];
	int n = 0;

	if (!cfg->neal)
		return 0;
	if (cfg->neal + (unsigned)o->eal_argc > EAL_MAX) {
		fprintf(stderr, "sluice run: more than %d EAL arguments\n", EAL_MAX);
		return -E2BIG;
	}
	for (unsigned i = 0; i < cfg->neal; i++)
		argv[n++] = cfg->eal[i];
	for (int i = 0; i < o->eal_argc; i++)
		argv[n++] = o->eal_argv[i];
	argv[n] = NULL;
	o->eal_argc = n;
	o->eal_argv = argv;
	return 0;
}

int sl_config_apply_opts(const struct sl_config *cfg, struct sl_run_opts *o)
{
	int err;

	o->cfg = cfg;
	o->prog_path = cfg->object;
	o->section = cfg->section[0] ? cfg->section : NULL;
	o->json_path = cfg->stats_json[0] ? cfg->stats_json : NULL;
	o->ctl_socket = cfg->ctl_socket[0] ? cfg->ctl_socket : NULL;
	o->nworkers = cfg->nworkers;
	o->stats_interval = cfg->stats_interval;
	o->exec = cfg->engine == SL_ENGINE_JIT ? SL_RUN_EXEC_JIT :
		  cfg->engine == SL_ENGINE_INTERP ? SL_RUN_EXEC_INTERP : SL_RUN_EXEC_AUTO;
	if (!o->filter && access(cfg->object, R_OK)) {
		if (cfg->object_loc.line)
			fprintf(stderr, "%s:%u:%u: program.object: '%s': %s, want a readable eBPF "
				"object\n", cfg->path, cfg->object_loc.line, cfg->object_loc.col,
				cfg->object, strerror(errno));
		else
			fprintf(stderr, "sluice run: %s: %s\n", cfg->object, strerror(errno));
		return -ENOENT;
	}
	o->nports = cfg->nports;
	for (unsigned i = 0; i < cfg->nports; i++) {
		err = port_settings(cfg, i, o);
		if (err)
			return err;
	}
	return merge_eal(cfg, o);
}

void sl_config_apply_egress(struct sl_engine *eng)
{
	const struct sl_config *cfg = eng->opts->cfg;

	for (unsigned i = 0; i < eng->nports && i < cfg->nports; i++) {
		const struct sl_config_port *cp = &cfg->ports[i];

		if (cp->egress == SL_EGRESS_PORT)
			eng->egress[i] = (uint16_t)cp->egress_port;
		else if (cp->egress == SL_EGRESS_SELF)
			eng->egress[i] = (uint16_t)i;
		else if (cp->egress == SL_EGRESS_DROP)
			eng->egress[i] = SL_PORT_NONE;  /* verdict.c: forwarded nowhere, counted as drop */
	}
}
