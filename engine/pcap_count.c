/* SPDX-License-Identifier: BSD-3-Clause */
/* Packets in a pcap file, counted with libpcap before EAL starts: a finite
 * rx_pcap input ends `sluice run` once that many packets were processed. */
#include <errno.h>
#include <stdio.h>

#include <pcap/pcap.h>

#include "pcap_count.h"

int sl_pcap_count(const char *path, uint64_t *count, char *err, size_t err_len)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *hdr;
	const u_char *data;
	pcap_t *p = pcap_open_offline(path, errbuf);
	int ret;

	if (!p) {
		snprintf(err, err_len, "%s", errbuf);
		return -EINVAL;
	}
	*count = 0;
	while ((ret = pcap_next_ex(p, &hdr, &data)) == 1)
		(*count)++;
	if (ret == PCAP_ERROR)
		snprintf(err, err_len, "%s: %s", path, pcap_geterr(p));
	pcap_close(p);
	return ret == PCAP_ERROR ? -EINVAL : 0;
}
