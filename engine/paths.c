/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Output paths of `sluice run` (and each device once), checked before anything is opened (before
 * the EAL starts: net_pcap opens and truncates tx_pcap files when it
 * probes).
 *
 *   inputs   --prog, every rx_pcap, the config file (-c), every map preload file
 *   outputs  every tx_pcap, --json
 *
 * An output that is an input, or another output, is refused: the same
 * file is the same (st_dev, st_ino), whatever path reaches it (symlinks,
 * hard links, "./a" and "a"). An output that does not exist yet cannot be
 * an input; its directory must exist and the file must be creatable (it is
 * created and removed again, so a failed run leaves nothing); one that
 * exists must be a regular file (or a character device such as /dev/null)
 * open for writing.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>

#include "engine_internal.h"
#include "sl_config.h"

#define MAX_PATHS (2 + SL_CONFIG_MAX_MAPS + SL_RUN_MAX_PORTS * SL_PORT_MAX_PCAPS * 2 + 1)

struct path {
	const char *path;
	const char *what;   /* "--prog", "rx_pcap of port 'net_pcap0'", ... */
	char what_buf[96];
	bool output;
	bool exists;
	struct stat st;
};

struct paths {
	struct path p[MAX_PATHS];
	unsigned n;
};

static void add(struct paths *ps, const char *path, bool output, const char *fmt, const char *port)
{
	struct path *p = &ps->p[ps->n++];

	p->path = path;
	p->output = output;
	snprintf(p->what_buf, sizeof(p->what_buf), fmt, port);
	p->what = p->what_buf;
	p->exists = stat(path, &p->st) == 0;
}

/* An output that does not exist: its directory exists and it can be created. */
static int check_creatable(const struct path *p)
{
	int fd = open(p->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);

	if (fd < 0) {
		fprintf(stderr, "sluice run: %s '%s': cannot create it: %s\n", p->what, p->path,
			strerror(errno));
		return -errno;
	}
	close(fd);
	unlink(p->path);
	return 0;
}

/* An output that exists: something we may write to, opened without truncating it. */
static int check_writable(const struct path *p)
{
	int fd;

	if (!S_ISREG(p->st.st_mode) && !S_ISCHR(p->st.st_mode) && !S_ISFIFO(p->st.st_mode)) {
		fprintf(stderr, "sluice run: %s '%s': not a file\n", p->what, p->path);
		return -EISDIR;
	}
	if (S_ISFIFO(p->st.st_mode))
		return access(p->path, W_OK) ? -errno : 0;  /* opening would wait for a reader */
	fd = open(p->path, O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "sluice run: %s '%s': cannot write it: %s\n", p->what, p->path,
			strerror(errno));
		return -errno;
	}
	close(fd);
	return 0;
}

/* Output @p i against every path before it: the same file twice is refused. */
static int check_distinct(const struct paths *ps, unsigned i)
{
	const struct path *o = &ps->p[i];

	if (!o->exists || S_ISCHR(o->st.st_mode))
		return 0;  /* a new file is nothing else yet; /dev/null may be shared */
	for (unsigned j = 0; j < ps->n; j++) {
		const struct path *x = &ps->p[j];

		if (j == i || !x->exists || (x->output && j > i))
			continue;
		if (x->st.st_dev == o->st.st_dev && x->st.st_ino == o->st.st_ino) {
			fprintf(stderr, "sluice run: %s '%s' is the same file as %s '%s': refusing to "
				"write over %s\n", o->what, o->path, x->what, x->path,
				x->output ? "another output" : "an input");
			return -EEXIST;
		}
	}
	return 0;
}

/* Two new outputs of the same name ("o.pcap" twice) are one file too. */
static int check_new_twins(const struct paths *ps, unsigned i)
{
	const struct path *o = &ps->p[i];

	for (unsigned j = 0; j < i && !o->exists; j++)
		if (ps->p[j].output && !ps->p[j].exists && !strcmp(ps->p[j].path, o->path)) {
			fprintf(stderr, "sluice run: %s '%s' is also %s\n", o->what, o->path,
				ps->p[j].what);
			return -EEXIST;
		}
	return 0;
}

/* The same device twice ("01:00.0" and "0000:01:00.0" are one): a usage error. */
static int check_devices(const struct sl_run_opts *o)
{
	for (unsigned i = 0; i < o->nports; i++)
		for (unsigned j = 0; j < i; j++)
			if (!strcmp(o->ports[i].name, o->ports[j].name)) {
				fprintf(stderr, "sluice run: port '%s' given twice ('%s' and '%s')\n",
					o->ports[i].name, o->ports[j].devstr, o->ports[i].devstr);
				return -EINVAL;
			}
	return 0;
}

int sl_paths_check(const struct sl_run_opts *o)
{
	static struct paths ps;
	int err = check_devices(o);

	if (err)
		return err;

	memset(&ps, 0, sizeof(ps));
	add(&ps, o->prog_path, false, "--prog%s", "");
	if (o->cfg && o->cfg->path[0])
		add(&ps, o->cfg->path, false, "the config file%s", "");
	for (unsigned i = 0; o->cfg && i < o->cfg->nmaps; i++)
		if (o->cfg->maps[i].file[0])
			add(&ps, o->cfg->maps[i].file, false, "preload file of map '%s'",
			    o->cfg->maps[i].name);
	for (unsigned i = 0; i < o->nports; i++)
		for (unsigned q = 0; q < o->ports[i].n_rx_pcap; q++)
			add(&ps, o->ports[i].rx_pcaps[q], false, "rx_pcap of port '%s'",
			    o->ports[i].name);
	for (unsigned i = 0; i < o->nports; i++)
		for (unsigned q = 0; q < o->ports[i].n_tx_pcap; q++)
			add(&ps, o->ports[i].tx_pcaps[q], true, "tx_pcap of port '%s'",
			    o->ports[i].name);
	if (o->json_path)
		add(&ps, o->json_path, true, "--json%s", "");
	for (unsigned i = 0; i < ps.n && !err; i++) {
		if (!ps.p[i].output)
			continue;
		err = check_distinct(&ps, i) ?: check_new_twins(&ps, i);
		err = err ?: ps.p[i].exists ? check_writable(&ps.p[i]) : check_creatable(&ps.p[i]);
	}
	return err ? -EIO : 0;
}
