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

#include <getopt.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_log.h>
#include <rte_lcore.h>

#include "engine_internal.h"
#include "sl_config.h"

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

/*
 * --lcores 0@C0,1@C1,...: main and workers onto the CPUs we may use; with
 * a config's workers: {lcores: [...]}, worker i on the i-th CPU listed.
 * The main lcore (the control thread, and with it DPDK's control threads,
 * whose CPU set is the main lcore's when every CPU has an lcore) takes the
 * first allowed CPU that no worker uses, if there is one: a worker's CPU
 * is the worker's.
 */
static int build_lcores(struct eal_argv *e, unsigned nlcores, const struct sl_config *cfg)
{
	cpu_set_t set, used;
	int cpus[CPU_SETSIZE], lc[CPU_SETSIZE], ncpus = 0;
	size_t off = 0;

	CPU_ZERO(&set);
	CPU_ZERO(&used);
	if (sched_getaffinity(0, sizeof(set), &set) == 0)
		for (int c = 0; c < CPU_SETSIZE; c++)
			if (CPU_ISSET(c, &set))
				cpus[ncpus++] = c;
	if (ncpus == 0)
		cpus[ncpus++] = 0;
	if (nlcores > CPU_SETSIZE)
		nlcores = CPU_SETSIZE;
	for (unsigned l = 1; l < nlcores; l++) {
		lc[l] = cpus[l % (unsigned)ncpus];
		if (cfg && cfg->nlcores >= l) {
			lc[l] = (int)cfg->lcores[l - 1];
			if (lc[l] < 0 || lc[l] >= CPU_SETSIZE || !CPU_ISSET(lc[l], &set)) {
				fprintf(stderr, "sluice run: workers.lcores: CPU %d is not one this "
					"process may run on\n", lc[l]);
				return -EINVAL;
			}
		}
		CPU_SET(lc[l], &used);
	}
	lc[0] = cpus[0];
	for (int i = ncpus - 1; i >= 0; i--)  /* the first free one */
		if (!CPU_ISSET(cpus[i], &used))
			lc[0] = cpus[i];
	for (unsigned l = 0; l < nlcores; l++) {
		int cpu = lc[l], n;

		n = snprintf(e->lcores + off, sizeof(e->lcores) - off, "%s%u@%d", l ? "," : "", l,
			     cpu);

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

/*
 * Memory, merged option by option with the user's: --no-huge when there
 * are no hugepages (kept when the user gives -m: a size is not a wish for
 * hugepages), -m 1024 unless the user sized memory. The user's --socket-mem
 * (hugepages only) or --huge-dir means hugepages: nothing added.
 */
static int build_memory(struct eal_argv *e, const struct sl_run_opts *o, bool *no_huge)
{
	bool user_no_huge = user_has(o, "--no-huge");
	int err = 0;

	*no_huge = user_no_huge ||
		   (!user_has(o, "--socket-mem|--huge-dir") && !hugepages_available());
	if (*no_huge && !user_no_huge) {
		if (!o->quiet)
			printf("sluice: no hugepages available: running the EAL with --no-huge\n");
		err = add(e, "--no-huge");
	}
	if (!err && *no_huge && !user_has(o, "-m|--socket-mem"))
		err = add(e, "-m") ?: add(e, "1024");
	return err;
}

/*
 * Private EAL state for each run, so that concurrent runs never share
 * files and none is left behind: a per-process --file-prefix (unless the
 * user named one), and --in-memory with hugepages or --no-shconf without
 * (the EAL refuses --in-memory with --no-huge: a user's --in-memory then
 * becomes --no-shconf, which is what it means there). A user's --proc-type
 * (sharing with other processes on purpose) leaves all of this to the user.
 */
static int build_isolation(struct eal_argv *e, const struct sl_run_opts *o, bool no_huge)
{
	int err = 0;

	if (user_has(o, "--proc-type"))
		return 0;
	if (!no_huge && !user_has(o, "--in-memory|--no-shconf"))
		err = add(e, "--in-memory");
	if (!err && no_huge && !user_has(o, "--no-shconf"))
		err = add(e, "--no-shconf");
	if (!err && !user_has(o, "--file-prefix")) {
		snprintf(e->prefix, sizeof(e->prefix), "--file-prefix=sluice-%d", (int)getpid());
		err = add(e, e->prefix);
	}
	return err;
}

/* The user's EAL arguments, less the ones the merge replaced. */
static int add_user_args(struct eal_argv *e, const struct sl_run_opts *o, bool no_huge)
{
	int err = 0;

	for (int i = 0; i < o->eal_argc && !err; i++) {
		const char *a = o->eal_argv[i];

		if (no_huge && !strcmp(a, "--in-memory") && !user_has(o, "--proc-type"))
			continue;  /* --no-shconf stands for it (build_isolation) */
		if (!strcmp(a, "-h") || !strcmp(a, "--help") || !strncmp(a, "--log-level=help", 16)) {
			fprintf(stderr, "sluice run: EAL argument '%s': DPDK's help is not a run "
				"(see `dpdk-testpmd -h` or DPDK's EAL documentation)\n", a);
			return -EINVAL;
		}
		err = add(e, a);
	}
	return err;
}

static int build_argv(struct eal_argv *e, const struct sl_run_opts *o)
{
	bool no_huge = false;
	int err = add(e, "sluice") ?: build_ports(e, o);

	if (!err && !user_has(o, "-l|-c|--lcores"))
		err = build_lcores(e, o->nworkers + 1, o->cfg);
	err = err ?: build_memory(e, o, &no_huge);
	err = err ?: build_isolation(e, o, no_huge);
	if (!err && !user_has(o, "--log-level"))
		err = add(e, "--log-level=*:warning");
	if (!err && !o->ctl_socket && !user_has(o, "--telemetry|--no-telemetry"))
		err = add(e, "--no-telemetry");  /* on with a control socket (telemetry.c) */
	err = err ?: add_user_args(e, o, no_huge);
	e->argv[e->argc] = NULL;
	return err;
}

/* The EAL's runtime directory (/var/run/dpdk/PREFIX), removed after cleanup. */
static char private_dir[512];

/*
 * What the EAL writes on stdout and stderr while it starts (its usage text
 * for a bad option, getopt's complaint, FATAL lines) goes into a memfd: on
 * failure one line of it is quoted, on success it is passed on.
 */
struct fd_capture {
	int saved_out, saved_err, fd;
};

static void fds_capture(struct fd_capture *c)
{
	fflush(stdout);
	fflush(stderr);
	c->fd = memfd_create("sluice-eal-output", MFD_CLOEXEC);
	c->saved_out = c->fd < 0 ? -1 : dup(STDOUT_FILENO);
	c->saved_err = c->fd < 0 ? -1 : dup(STDERR_FILENO);
	if (c->saved_out < 0 || c->saved_err < 0)
		return;
	dup2(c->fd, STDOUT_FILENO);
	dup2(c->fd, STDERR_FILENO);
}

/* Restore stdout/stderr; the captured text (NUL-terminated, malloc'd) or NULL. */
static char *fds_restore(struct fd_capture *c)
{
	char *text = NULL;
	off_t len;

	fflush(stdout);
	fflush(stderr);
	if (c->saved_out >= 0 && c->saved_err >= 0) {
		dup2(c->saved_out, STDOUT_FILENO);
		dup2(c->saved_err, STDERR_FILENO);
	}
	if (c->saved_out >= 0)
		close(c->saved_out);
	if (c->saved_err >= 0)
		close(c->saved_err);
	len = c->fd >= 0 ? lseek(c->fd, 0, SEEK_END) : -1;
	if (len >= 0 && (text = calloc(1, (size_t)len + 1)) &&
	    pread(c->fd, text, (size_t)len, 0) != len)
		text[0] = '\0';
	if (c->fd >= 0)
		close(c->fd);
	return text;
}

/* getopt's complaint about an EAL argument ("unrecognized option '--frob'"), or NULL. */
static const char *option_complaint(const char *text, char *line, size_t len)
{
	static const char *const marks[] = { "unrecognized option", "invalid option",
					     "requires an argument", "doesn't allow an argument",
					     "is ambiguous" };

	for (const char *p = text; p && *p;) {
		const char *end = strchr(p, '\n');
		size_t n = end ? (size_t)(end - p) : strlen(p);

		for (size_t i = 0; i < sizeof(marks) / sizeof(marks[0]); i++) {
			if (memmem(p, n, marks[i], strlen(marks[i]))) {
				if (n > 8 && !strncmp(p, "sluice: ", 8)) {
					p += 8;
					n -= 8;
				}
				snprintf(line, len, "%.*s", (int)n, p);
				return line;
			}
		}
		p = end ? end + 1 : NULL;
	}
	return NULL;
}

/* One line for a failed rte_eal_init. */
static void say_eal_failure(const char *text, int err)
{
	char line[256], log[256];
	const char *first = sl_log_first_line(false);
	const char *opt = option_complaint(text, line, sizeof(line));
	size_t n;

	if (opt) {
		fprintf(stderr, "sluice run: EAL arguments: %s (see DPDK's EAL options)\n", opt);
		return;
	}
	snprintf(log, sizeof(log), "%s", first ? first : "");
	n = strlen(log);
	while (n && (log[n - 1] == '.' || log[n - 1] == ' '))
		log[--n] = '\0';
	fprintf(stderr, "sluice run: EAL initialisation failed: %s%s%s\n", log, n ? ": " : "",
		rte_strerror(err));
}

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

/* The runtime directory: empty after cleanup with --in-memory or --no-shconf, but for
 * the telemetry socket. */
static void eal_dir_remove(void)
{
	/* DPDK telemetry (on with --ctl-socket) leaves its socket behind */
	static const char *const sockets[] = { "dpdk_telemetry.v2", "dpdk_telemetry.v1",
					       "telemetry" };
	char path[600];

	for (size_t i = 0; private_dir[0] && i < sizeof(sockets) / sizeof(sockets[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", private_dir, sockets[i]);
		unlink(path);
	}
	if (private_dir[0])
		rmdir(private_dir);
	private_dir[0] = '\0';
	sl_signals_cleanup_dir(NULL);
}

int sl_eal_start(const struct sl_run_opts *o)
{
	static struct eal_argv e;  /* the EAL keeps pointers into argv */
	struct fd_capture fc;
	char *text;
	int ret;

	memset(&e, 0, sizeof(e));
	ret = build_argv(&e, o);
	if (ret)
		return ret;
	sl_log_capture_begin();
	fds_capture(&fc);
	opterr = 1;  /* getopt names a bad EAL option (captured, quoted below) */
	ret = rte_eal_init(e.argc, e.argv) < 0 ? -(rte_errno ? rte_errno : EINVAL) : 0;
	text = fds_restore(&fc);
	snprintf(private_dir, sizeof(private_dir), "%s", rte_eal_get_runtime_dir());
	sl_signals_cleanup_dir(private_dir);
	if (ret) {
		say_eal_failure(text, -ret);
		free(text);
		sl_log_capture_end(false);
		eal_dir_remove();
		return ret;
	}
	if (text)
		fputs(text, stderr);
	free(text);
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
	eal_dir_remove();
}
