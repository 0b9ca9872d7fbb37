/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * At stop: did every packet net_pcap took for a tx_pcap file reach it?
 *
 * net_pcap's TX writes each packet with pcap_dump() and counts it sent
 * whatever the write did: on a full disk or past the file size limit
 * (RLIMIT_FSIZE; SIGXFSZ is ignored) the capture silently ends early while
 * the engine's tx (and the port's) says every packet went out. So once the
 * ports are closed (net_pcap has flushed and closed its files), each
 * tx_pcap that is a regular file is walked record header by record header
 * (mapped, the file was just written: no payload is read) and the whole
 * records of a port's files are summed; fewer than the packets the engine
 * handed that port, or a record cut short, is said in one line and the run
 * fails. Outputs that are not regular files (a FIFO, /dev/null) cannot be
 * read back and are not checked.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine_internal.h"

#define PCAP_MAGIC_US 0xa1b2c3d4u
#define PCAP_MAGIC_NS 0xa1b23c4du

static uint32_t rd32(const uint8_t *p, bool swap)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return swap ? __builtin_bswap32(v) : v;
}

/*
 * Whole records of the pcap file @p path into *n; *cut when the file ends
 * inside a record. 1 counted, 0 not a regular file (not checked), -errno.
 */
static int count_records(const char *path, uint64_t *n, bool *cut)
{
	struct stat st;
	const uint8_t *m;
	uint32_t magic;
	bool swap;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		return 0;
	}
	*n = 0;
	*cut = st.st_size < 24;
	if (*cut) {
		close(fd);
		return 1;
	}
	m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (m == MAP_FAILED)
		return -errno;
	magic = rd32(m, false);
	swap = magic != PCAP_MAGIC_US && magic != PCAP_MAGIC_NS;
	for (size_t off = 24, size = (size_t)st.st_size; off < size;) {
		uint32_t cap;

		if (size - off < 16 || (cap = rd32(m + off + 8, swap)) > size - off - 16) {
			*cut = true;
			break;
		}
		off += 16 + (size_t)cap;
		(*n)++;
	}
	munmap((void *)(uintptr_t)m, (size_t)st.st_size);
	return 1;
}

/* Port @p i's tx_pcap files against what it was handed: true when they agree (or cannot be read). */
static bool port_check(struct sl_engine *eng, unsigned i, uint64_t sent)
{
	const struct sl_port_spec *spec = &eng->opts->ports[i];
	uint64_t total = 0;
	bool any_cut = false;

	for (unsigned f = 0; f < spec->n_tx_pcap; f++) {
		uint64_t n = 0;
		bool cut = false;
		int r = count_records(spec->tx_pcaps[f], &n, &cut);

		if (r == 0)
			return true;  /* a FIFO, a device: not read back */
		if (r < 0) {
			fprintf(stderr, "sluice run: port '%s': tx_pcap '%s' cannot be read back: %s\n",
				spec->name, spec->tx_pcaps[f], strerror(-r));
			return false;
		}
		total += n;
		any_cut |= cut;
	}
	if (total == sent && !any_cut)
		return true;
	fprintf(stderr, "sluice run: port '%s': its tx_pcap hold%s %llu whole records of the %llu "
		"packets it took%s (a write failed: disk full, or the file size limit?)\n",
		spec->name, spec->n_tx_pcap == 1 ? "s" : "", (unsigned long long)total,
		(unsigned long long)sent, any_cut ? ", the last one cut short" : "");
	return false;
}

void sl_ports_check_tx_pcaps(struct sl_engine *eng)
{
	struct sl_worker_stats sum;

	sl_stats_sum(eng, &sum);
	for (unsigned i = 0; i < eng->nports; i++)
		if (eng->opts->ports[i].is_pcap && eng->opts->ports[i].n_tx_pcap &&
		    !port_check(eng, i, sum.port_tx[i]))
			eng->failed = true;
}
