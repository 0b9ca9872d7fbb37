/* SPDX-License-Identifier: BSD-3-Clause */
/* A whole capture into memory (libpcap: pcap and pcapng), for the JIT tests and compat_kdiff. */
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl_test.h"

struct sl_test_pkt *sl_test_pcap_read(const char *path, unsigned max, unsigned *n)
{
	char err[PCAP_ERRBUF_SIZE];
	pcap_t *pc = pcap_open_offline(path, err);
	struct sl_test_pkt *pkts = calloc(max, sizeof(*pkts));
	struct pcap_pkthdr *h;
	const u_char *data;

	*n = 0;
	if (!pc || !pkts) {
		fprintf(stderr, "%s: %s\n", path, pc ? "out of memory" : err);
		if (pc)
			pcap_close(pc);
		free(pkts);
		return NULL;
	}
	while (*n < max && pcap_next_ex(pc, &h, &data) == 1) {
		pkts[*n].len = h->caplen < SL_TEST_PKT_ROOM ? h->caplen : SL_TEST_PKT_ROOM;
		memcpy(pkts[*n].data, data, pkts[*n].len);
		(*n)++;
	}
	pcap_close(pc);
	return pkts;
}
