/* SPDX-License-Identifier: BSD-3-Clause */
/* Read a whole pcap into memory (kept apart: <pcap.h> and <linux/bpf.h> clash). */
#ifndef SL_JIT_TEST_PCAP_READ_H
#define SL_JIT_TEST_PCAP_READ_H

#include <stdint.h>

#define PCAP_READ_ROOM 2048

/** One captured frame, truncated to PCAP_READ_ROOM bytes. */
struct pcap_pkt {
	uint32_t len;
	uint8_t data[PCAP_READ_ROOM];
};

/**
 * Read up to @p max frames of @p path. @return calloc'ed array (free()),
 * or NULL after printing one line naming the file.
 */
struct pcap_pkt *pcap_read_all(const char *path, unsigned max, unsigned *n);

#endif
