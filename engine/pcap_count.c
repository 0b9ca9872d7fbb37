/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Packets in a pcap file, counted with libpcap before EAL starts: a finite
 * rx_pcap input ends `sluice run` once that many packets were processed.
 *
 * Link types: the engine hands the program frames from their Ethernet
 * header (XDP's data, a socket filter's packet as AF_PACKET shows an
 * Ethernet device's frames), and net_pcap writes tx_pcap files as
 * Ethernet. So only Ethernet captures (LINKTYPE_ETHERNET, DLT_EN10MB) are
 * taken; every other link type libpcap knows (RAW IP, Linux cooked SLL and
 * SLL2, 802.11, ...) is refused by name instead of being read as Ethernet.
 */
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
	if (pcap_datalink(p) != DLT_EN10MB) {
		int dlt = pcap_datalink(p);
		const char *name = pcap_datalink_val_to_name(dlt);
		const char *desc = pcap_datalink_val_to_description(dlt);

		snprintf(err, err_len, "%s: link type %s (%d%s%s) is not supported: only Ethernet "
			 "(EN10MB) captures are read", path, name ? name : "unknown", dlt,
			 desc ? ", " : "", desc ? desc : "");
		pcap_close(p);
		return -EINVAL;
	}
	*count = 0;
	while ((ret = pcap_next_ex(p, &hdr, &data)) == 1) {
		if (hdr->caplen > SL_PCAP_MAX_FRAME) {
			snprintf(err, err_len, "%s: packet %llu is %u bytes: frames of up to %u bytes "
				 "are read", path, (unsigned long long)*count + 1, hdr->caplen,
				 SL_PCAP_MAX_FRAME);
			pcap_close(p);
			return -EINVAL;
		}
		(*count)++;
	}
	if (ret == PCAP_ERROR)
		snprintf(err, err_len, "%s: %s", path, pcap_geterr(p));
	pcap_close(p);
	return ret == PCAP_ERROR ? -EINVAL : 0;
}
