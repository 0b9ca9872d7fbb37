/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * EAL start for `sluice run`: the EAL argv is built here from the ports and
 * the machine, then the user's own EAL arguments (after "--") are appended.
 *
 *   ports       "net_*" -> --vdev STR; anything else is a PCI address -> -a STR;
 *               --no-pci when every port is a vdev
 *   memory      no free hugepages or no hugetlbfs mount -> --no-huge -m 1024
 *               (said in one line)
 *   isolation   --in-memory (without hugepages: --no-shconf and a per-process
 *               --file-prefix), so that concurrent runs never share files
 *   lcores      lcore 0 = main (control), 1..N = workers, mapped onto the
 *               CPUs this process may run on
 *   logging     --log-level=*:warning, so that a normal start is quiet; what
 *               DPDK logs while starting (EAL, ports) is captured, quoted in
 *               the one error line on failure, passed on to stderr otherwise
 *   telemetry   --no-telemetry (sluice's own telemetry comes with the control socket)
 *
 * Each of these is left out when the user's EAL arguments already say it.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_log.h>
#include <rte_lcore.h>

#include "engine_internal.h"

#define EAL_MAX_ARGS 256

struct eal_argv {
	int argc;
	char *argv[EAL_MAX_ARGS];
	char lcores[512];
	char prefix[64];   /* --file-prefix=sluice-PID */
};

/* True if the user's EAL arguments contain one of the '|'-separated options. */
static bool user_has(const struct sl_run_opts *o, const char *names)
{
	char buf[128];

	for (int i = 0; i < o->eal_argc; i++) {
		const char *a = o->eal_argv[i];

		snprintf(buf, sizeof(buf), "%s", names);
		for (char *save = NULL, *n = strtok_r(buf, "|", &save); n; n = strtok_r(NULL, "|", &save)) {
			size_t len = strlen(n);

			if (!strncmp(a, n, len) && (a[len] == '\0' || a[len] == '=' ||
						    (n[1] != '-' && a[len] != '\0')))
				return true;
		}
	}
	return false;
}

static int add(struct eal_argv *e, const char *arg)
{
	if (e->argc >= EAL_MAX_ARGS - 1) {
		fprintf(stderr, "sluice run: too many EAL arguments\n");
		return -E2BIG;
	}
	e->argv[e->argc++] = (char *)arg;
	return 0;
}

/* Hugepages usable: some free, and a hugetlbfs mount to take them from. */
static bool hugepages_available(void)
{
	char line[256];
	long free_pages = 0;
	bool mounted = false;
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "HugePages_Free: %ld", &free_pages) == 1)
			break;
	fclose(f);
	f = fopen("/proc/mounts", "r");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, " hugetlbfs "))
			mounted = true;
	fclose(f);
	return free_pages > 0 && mounted;
}

/* --lcores 0@C0,1@C1,...: main and workers onto the CPUs we may use. */
static int build_lcores(struct eal_argv *e, unsigned nlcores)
{
	cpu_set_t set;
	int cpus[CPU_SETSIZE], ncpus = 0;
	size_t off = 0;

	if (sched_getaffinity(0, sizeof(set), &set) == 0)
		for (int c = 0; c < CPU_SETSIZE; c++)
			if (CPU_ISSET(c, &set))
				cpus[ncpus++] = c;
	if (ncpus == 0)
		cpus[ncpus++] = 0;
	for (unsigned l = 0; l < nlcores; l++) {
		int n = snprintf(e->lcores + off, sizeof(e->lcores) - off, "%s%u@%d",
				 l ? "," : "", l, cpus[l % (unsigned)ncpus]);

		if (n < 0 || (size_t)n >= sizeof(e->lcores) - off) {
			fprintf(stderr, "sluice run: too many lcores\n");
			return -E2BIG;
		}
		off += (size_t)n;
	}
	return add(e, "--lcores") ?: add(e, e->lcores);
}

static int build_ports(struct eal_argv *e, const struct sl_run_opts *o)
{
	bool all_vdev = true;
	int err = 0;

	for (unsigned i = 0; i < o->nports && !err; i++) {
		all_vdev &= o->ports[i].is_vdev;
		err = add(e, o->ports[i].is_vdev ? "--vdev" : "-a") ?: add(e, o->ports[i].devstr);
	}
	if (!err && all_vdev && !user_has(o, "--no-pci|-a|-b|--allow|--block"))
		err = add(e, "--no-pci");
	return err;
}

/* --no-huge -m 1024 when there are no hugepages; true if running without them. */
static int build_memory(struct eal_argv *e, const struct sl_run_opts *o, bool *no_huge)
{
	*no_huge = user_has(o, "--no-huge");
	if (user_has(o, "--no-huge|-m|--socket-mem") || hugepages_available())
		return 0;
	if (!o->quiet)
		printf("sluice: no hugepages available: running the EAL with --no-huge -m 1024\n");
	*no_huge = true;
	return add(e, "--no-huge") ?: add(e, "-m") ?: add(e, "1024");
}

/*
 * Private EAL state for each run: --in-memory; without hugepages the EAL
 * refuses --in-memory (it implies --legacy-mem there), so --no-shconf and a
 * per-process --file-prefix instead.
 */
static int build_isolation(struct eal_argv *e, const struct sl_run_opts *o, bool no_huge)
{
	if (user_has(o, "--in-memory|--file-prefix|--no-shconf"))
		return 0;
	if (!no_huge)
		return add(e, "--in-memory");
	snprintf(e->prefix, sizeof(e->prefix), "--file-prefix=sluice-%d", (int)getpid());
	return add(e, "--no-shconf") ?: add(e, e->prefix);
}

static int build_argv(struct eal_argv *e, const struct sl_run_opts *o)
{
	bool no_huge = false;
	int err = add(e, "sluice") ?: build_ports(e, o);

	if (!err && !user_has(o, "-l|-c|--lcores"))
		err = build_lcores(e, o->nworkers + 1);
	err = err ?: build_memory(e, o, &no_huge);
	err = err ?: build_isolation(e, o, no_huge);
	if (!err && !user_has(o, "--log-level"))
		err = add(e, "--log-level=*:warning");
	if (!err && !o->ctl_socket && !user_has(o, "--telemetry|--no-telemetry"))
		err = add(e, "--no-telemetry");  /* on with a control socket (telemetry.c) */
	for (int i = 0; i < o->eal_argc && !err; i++)
		err = add(e, o->eal_argv[i]);
	e->argv[e->argc] = NULL;
	return err;
}

/* Runtime directory of a per-process --file-prefix, removed after cleanup. */
static char private_dir[512];

/*
 * DPDK's log during start-up (EAL init, port setup) goes into a buffer: on
 * failure its first line becomes part of our one error line; on success it
 * is passed on to stderr, where DPDK logs from then on.
 */
static struct {
	FILE *f;
	char *buf;
	size_t len;
	size_t mark;      /* sl_log_capture_mark(): where the current step began */
	char line[256];
} cap;

void sl_log_capture_begin(void)
{
	memset(&cap, 0, sizeof(cap));
	cap.f = open_memstream(&cap.buf, &cap.len);
	if (cap.f)
		rte_openlog_stream(cap.f);
}

void sl_log_capture_mark(void)
{
	if (cap.f && !fflush(cap.f))
		cap.mark = cap.len;
}

const char *sl_log_first_line(bool since_mark)
{
	const char *p, *end;
	size_t n;

	if (!cap.f || fflush(cap.f) || !cap.buf)
		return NULL;
	for (p = cap.buf + (since_mark ? cap.mark : 0); *p == '\n'; p++)
		;
	if (!*p)
		return NULL;
	if (!strncmp(p, "EAL: ", 5))
		p += 5;
	end = strchr(p, '\n');
	n = end ? (size_t)(end - p) : strlen(p);
	snprintf(cap.line, sizeof(cap.line), "%.*s", (int)n, p);
	return cap.line;
}

void sl_log_capture_end(bool pass_on)
{
	if (!cap.f)
		return;
	rte_openlog_stream(stderr);
	fclose(cap.f);
	if (pass_on && cap.buf && cap.len)
		fputs(cap.buf, stderr);
	free(cap.buf);
	memset(&cap, 0, sizeof(cap));
}

int sl_eal_start(const struct sl_run_opts *o)
{
	static struct eal_argv e;  /* the EAL keeps pointers into argv */
	int ret;

	memset(&e, 0, sizeof(e));
	ret = build_argv(&e, o);
	if (ret)
		return ret;
	fflush(stdout);
	sl_log_capture_begin();
	if (rte_eal_init(e.argc, e.argv) < 0) {
		const char *line = sl_log_first_line(false);

		ret = -(rte_errno ? rte_errno : EINVAL);
		fprintf(stderr, "sluice run: EAL initialisation failed: %s%s%s\n",
			line ? line : "", line ? ": " : "", rte_strerror(-ret));
		sl_log_capture_end(false);
	}
	if (e.prefix[0])
		snprintf(private_dir, sizeof(private_dir), "%s", rte_eal_get_runtime_dir());
	if (ret) {
		if (private_dir[0])
			rmdir(private_dir);
		return ret;
	}
	if (rte_lcore_count() < o->nworkers + 1) {
		fprintf(stderr, "sluice run: %u lcores available, %u needed (main + %u worker%s)\n",
			rte_lcore_count(), o->nworkers + 1, o->nworkers, o->nworkers == 1 ? "" : "s");
		sl_log_capture_end(false);
		sl_eal_stop();
		return -EINVAL;
	}
	return 0;
}

void sl_eal_stop(void)
{
	rte_eal_cleanup();
	if (private_dir[0])
		rmdir(private_dir);  /* empty with --no-shconf --no-telemetry */
	private_dir[0] = '\0';
}
