/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tcpdump filter expressions: libpcap's pcap_compile() on a dead handle of
 * the capture's link type gives the classic program tcpdump would run on
 * the file (optimised, netmask 0 as tcpdump uses for files); vm/cbpf.c
 * turns it into an eBPF socket filter (sl_filter_compile in replay.c: this
 * file sees only libpcap's struct bpf_insn) that sluice verifies and
 * compiles like any program. The program returns the snaplen for a match (keep
 * that many bytes) and 0 otherwise.
 *
 * Control thread.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>

#include <pcap/pcap.h>

#include "replay.h"
#include "sl_num.h"

/*
 * Link types whose frames a filter is compiled for (the packet starts at
 * that header): the number in files (LINKTYPE_*) and libpcap's DLT_* value
 * that pcap_open_dead() takes (they differ for RAW only).
 */
static const struct { uint32_t val; int dlt; } linktypes[] = {
	{ 1, DLT_EN10MB }, { 101, DLT_RAW }, { 228, 228 }, { 229, 229 },
	{ 113, 113 }, { 276, 276 }, { 0, DLT_NULL }, { 108, 108 },
};

static int dlt_of(uint32_t linktype)
{
	for (size_t i = 0; i < sizeof(linktypes) / sizeof(linktypes[0]); i++)
		if (linktypes[i].val == linktype)
			return linktypes[i].dlt;
	return -1;
}

bool sl_filter_linktype_ok(uint32_t linktype)
{
	return dlt_of(linktype) >= 0;
}

const char *sl_filter_supported_names(void)
{
	return "EN10MB (1), RAW (101), IPV4 (228), IPV6 (229), LINUX_SLL (113), "
	       "LINUX_SLL2 (276), NULL (0), LOOP (108)";
}

int sl_filter_linktype(const char *s, uint32_t *linktype, char *log, size_t log_len)
{
	uint64_t v;

	if (sl_num_u64(s, 0, UINT32_MAX, &v, NULL, 0) == 0) {
		*linktype = (uint32_t)v;
	} else {
		int dlt = pcap_datalink_name_to_val(s);

		if (dlt < 0) {
			snprintf(log, log_len, "unknown link type '%s' (supported: %s)", s,
				 sl_filter_supported_names());
			return -EINVAL;
		}
		*linktype = UINT32_MAX;
		for (size_t i = 0; i < sizeof(linktypes) / sizeof(linktypes[0]); i++)
			if (linktypes[i].dlt == dlt)
				*linktype = linktypes[i].val;
	}
	if (!sl_filter_linktype_ok(*linktype)) {
		snprintf(log, log_len, "link type '%s' is not supported (supported: %s)", s,
			 sl_filter_supported_names());
		return -EINVAL;
	}
	return 0;
}

int sl_filter_cbpf(const char *expr, uint32_t linktype, uint32_t snaplen,
		   struct sl_filter_insn **insns, unsigned *n, char *log, size_t log_len)
{
	struct bpf_program fp = { 0, NULL };
	pcap_t *p = pcap_open_dead(dlt_of(linktype), (int)snaplen);
	int err = 0;

	if (!p) {
		snprintf(log, log_len, "filter '%s': libpcap: cannot open a handle", expr);
		return -ENOMEM;
	}
	if (pcap_compile(p, &fp, expr, 1, 0) < 0) {
		snprintf(log, log_len, "filter '%s': %s", expr, pcap_geterr(p));
		pcap_close(p);
		return -EINVAL;
	}
	*n = fp.bf_len;
	*insns = calloc(fp.bf_len ? fp.bf_len : 1, sizeof(**insns));
	if (!*insns) {
		snprintf(log, log_len, "filter '%s': %s", expr, strerror(ENOMEM));
		err = -ENOMEM;
	}
	for (unsigned i = 0; !err && i < fp.bf_len; i++)
		(*insns)[i] = (struct sl_filter_insn){ fp.bf_insns[i].code, fp.bf_insns[i].jt,
						       fp.bf_insns[i].jf, fp.bf_insns[i].k };
	pcap_freecode(&fp);
	pcap_close(p);
	return err;
}
