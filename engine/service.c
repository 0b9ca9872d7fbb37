/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Running under systemd (dist/sluice@.service) and SIGHUP.
 *
 * sd_notify: the protocol is one datagram of "KEY=VALUE\n" lines to the
 * Unix socket named by $NOTIFY_SOCKET ('@' first: the abstract namespace).
 * It is written here in a few lines rather than by linking libsystemd for
 * one function: nothing else of libsystemd is used, and the engine keeps
 * its dependencies to what the data path needs. Messages:
 *   READY=1 (+ STATUS, MAINPID)  ports started and workers launched
 *   WATCHDOG=1                   every WATCHDOG_USEC/2 while every worker
 *                                lcore is still running (not sent once one
 *                                stopped: systemd then restarts the unit)
 *   RELOADING=1 ... READY=1      around a SIGHUP
 *   STOPPING=1                   the run is ending
 * Without $NOTIFY_SOCKET nothing is sent.
 *
 * SIGHUP (`systemctl reload sluice@NAME`): the config file is read again
 * and checked whole; a file that does not load is refused with its one
 * error line and the running config stays. Then, live:
 *   program       hot reload (reload.c: maps carried over by name and
 *                 definition, no packet lost); a program that does not
 *                 load or verify is refused and the old one keeps running
 *   map preloads  every maps.NAME.file stored again
 *   stats         stats.interval
 *   egress        each port's egress (a port left out keeps its current one)
 * and said, one line each, for what needs a restart: ports, workers, eal,
 * control.socket, metrics. Command-line options of the run are not re-read
 * (they were laid over the file at start). Control thread.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/socket.h>
#include <sys/un.h>

#include <jansson.h>
#include <rte_launch.h>
#include <rte_lcore.h>

#include "ctl_internal.h"
#include "engine_internal.h"
#include "sl_config.h"

static double watchdog_s;  /* 0: no watchdog */
static double watchdog_last;

static double mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/*
 * One sd_notify datagram; silently nothing without $NOTIFY_SOCKET. A state
 * change (READY, RELOADING, STOPPING) waits for room in the receiver's
 * queue; a WATCHDOG keepalive does not (MSG_DONTWAIT): a receiver that stops
 * reading must not stall the control thread with the next one 1/2 period away.
 */
static void notify_flags(const char *msg, int flags)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t n = path ? strlen(path) : 0;
	int fd;

	if (!n || n >= sizeof(sa.sun_path) || (path[0] != '/' && path[0] != '@'))
		return;
	memcpy(sa.sun_path, path, n);
	if (path[0] == '@')
		sa.sun_path[0] = '\0';
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	(void)!sendto(fd, msg, strlen(msg), MSG_NOSIGNAL | flags, (struct sockaddr *)&sa,
		      (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n));
	close(fd);
}

static void notify(const char *msg)
{
	notify_flags(msg, 0);
}

void sl_service_ready(struct sl_engine *eng)
{
	const char *wd = getenv("WATCHDOG_USEC"), *pid = getenv("WATCHDOG_PID");
	char msg[512];

	snprintf(msg, sizeof(msg), "READY=1\nMAINPID=%ld\nSTATUS=running %s on %u port%s, %u "
		 "worker%s\n", (long)getpid(), eng->prog->section, eng->nports,
		 eng->nports == 1 ? "" : "s", eng->nworkers, eng->nworkers == 1 ? "" : "s");
	notify(msg);
	if (wd && (!pid || atol(pid) == (long)getpid()) && atof(wd) > 0)
		watchdog_s = atof(wd) * 1e-6 / 2;
	watchdog_last = mono();
}

void sl_service_tick(struct sl_engine *eng)
{
	double t;

	if (watchdog_s <= 0 || (t = mono()) - watchdog_last < watchdog_s)
		return;
	for (unsigned w = 0; w < eng->nworkers; w++)
		if (rte_eal_get_lcore_state(eng->workers[w].lcore) != RUNNING)
			return;  /* a worker ended: no more pings */
	notify_flags("WATCHDOG=1\n", MSG_DONTWAIT);
	watchdog_last = t;
}

void sl_service_stopping(void)
{
	notify("STOPPING=1\n");
}

static bool same_ports(const struct sl_config *a, const struct sl_config *b)
{
	if (a->nports != b->nports)
		return false;
	for (unsigned i = 0; i < a->nports; i++) {
		const struct sl_config_port *p = &a->ports[i], *q = &b->ports[i];

		if (strcmp(p->name, q->name) || strcmp(p->device, q->device) ||
		    p->rx_queues != q->rx_queues || p->rx_desc != q->rx_desc ||
		    p->tx_desc != q->tx_desc || p->promiscuous != q->promiscuous || p->mtu != q->mtu)
			return false;
	}
	return true;
}

static bool same_eal(const struct sl_config *a, const struct sl_config *b)
{
	if (a->neal != b->neal)
		return false;
	for (unsigned i = 0; i < a->neal; i++)
		if (strcmp(a->eal[i], b->eal[i]))
			return false;
	return true;
}

/* One line for each difference that only a restart applies. */
static void say_restart(const struct sl_config *cur, const struct sl_config *nc)
{
	const char *what[5] = { NULL };
	unsigned n = 0;

	if (!same_ports(cur, nc))
		what[n++] = "ports";
	if (cur->nworkers != nc->nworkers || cur->nlcores != nc->nlcores ||
	    memcmp(cur->lcores, nc->lcores, sizeof(cur->lcores)))
		what[n++] = "workers";
	if (!same_eal(cur, nc))
		what[n++] = "eal";
	if (strcmp(cur->ctl_socket, nc->ctl_socket))
		what[n++] = "control.socket";
	if (strcmp(cur->metrics_listen, nc->metrics_listen) ||
	    cur->nmetrics_maps != nc->nmetrics_maps)
		what[n++] = "metrics";
	for (unsigned i = 0; i < n; i++)
		fprintf(stderr, "sluice: SIGHUP: %s changed in %s: needs a restart (the running %s "
			"stay%s)\n", what[i], cur->path, what[i], what[i][strlen(what[i]) - 1] == 's' ?
			"" : "s");
}

/* The new program through the hot-reload path. 0, or -errno (said). */
static int reload_prog(struct sl_engine *eng, const struct sl_config *nc)
{
	char err[512] = "";
	json_t *res = NULL;
	int e = sl_reload(eng, nc->object, nc->section[0] ? nc->section : NULL, false, &res, err,
			  sizeof(err));

	if (e) {
		fprintf(stderr, "sluice: SIGHUP: %s: refused, the running program stays: %s\n",
			nc->path, err);
		return e;
	}
	printf("sluice: SIGHUP: program %s section %s running (%lld maps carried over, reload %lld)\n",
	       nc->object, json_string_value(json_object_get(res, "section")),
	       (long long)json_integer_value(json_object_get(res, "maps_carried")),
	       (long long)json_integer_value(json_object_get(res, "reloads")));
	json_decref(res);
	return 0;
}

/* Copy what changed live into the running config (the control thread owns it). */
static void adopt(struct sl_config *cur, const struct sl_config *nc)
{
	snprintf(cur->object, sizeof(cur->object), "%s", nc->object);
	snprintf(cur->section, sizeof(cur->section), "%s", nc->section);
	cur->stats_interval = nc->stats_interval;
	memcpy(cur->maps, nc->maps, sizeof(cur->maps));
	cur->nmaps = nc->nmaps;
	for (unsigned i = 0; i < cur->nports && i < nc->nports; i++) {
		cur->ports[i].egress = nc->ports[i].egress;
		cur->ports[i].egress_port = nc->ports[i].egress_port;
		snprintf(cur->ports[i].egress_name, sizeof(cur->ports[i].egress_name), "%s",
			 nc->ports[i].egress_name);
	}
}

void sl_service_hup(struct sl_engine *eng, double *stats_interval)
{
	/* the run's config: static in cmd_run.c, read and written by the control thread only */
	struct sl_config *cur = (struct sl_config *)eng->opts->cfg;
	struct sl_config *nc = calloc(1, sizeof(*nc));
	char log[1024] = "";
	unsigned entries = 0;

	if (!cur || !cur->path[0] || !nc) {
		fprintf(stderr, "sluice: SIGHUP: %s: nothing re-read\n",
			nc ? "no config file (run -c FILE)" : "out of memory");
		free(nc);
		return;
	}
	notify("RELOADING=1\n");
	sl_config_init(nc);
	if (sl_config_load(nc, cur->path, log, sizeof(log)) ||
	    sl_config_resolve(nc, log, sizeof(log))) {
		fprintf(stderr, "sluice: SIGHUP: %s (refused: the running config stays)\n", log);
	} else if (!reload_prog(eng, nc)) {
		if (sl_config_preload(nc, eng->obj, &entries, log, sizeof(log)))
			fprintf(stderr, "sluice: SIGHUP: map preload: %s\n", log);
		say_restart(cur, nc);
		adopt(cur, nc);
		sl_config_apply_egress(eng);
		*stats_interval = cur->stats_interval;
		printf("sluice: SIGHUP: %s applied (%u map entr%s preloaded, stats every %g s)\n",
		       cur->path, entries, entries == 1 ? "y" : "ies", cur->stats_interval);
	}
	fflush(stdout);
	sl_config_fini(nc);
	free(nc);
	notify("READY=1\n");
}
