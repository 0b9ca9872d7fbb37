/* SPDX-License-Identifier: BSD-3-Clause */
/* Counting the packets of a pcap file with libpcap. Kept apart from
 * engine_internal.h: <pcap/pcap.h> and <linux/bpf.h> both define struct bpf_insn. */
#ifndef SL_PCAP_COUNT_H
#define SL_PCAP_COUNT_H

#include <stddef.h>
#include <stdint.h>

/** Longest frame read (net_pcap chains frames with a 16-bit length). */
#define SL_PCAP_MAX_FRAME 65535u

/**
 * Count the packets of the capture at @p path (control thread).
 * @return 0 with *count set, or -EINVAL with one line in @p err.
 */
int sl_pcap_count(const char *path, uint64_t *count, char *err, size_t err_len);

#endif
