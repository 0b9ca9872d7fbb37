// SPDX-License-Identifier: BSD-3-Clause
/*
 * A program in a section whose name says no program type ("fw/main"):
 * the loader skips it unless told the type (config program.type, --type).
 * It drops frames whose first byte is nonzero, reading the packet through
 * struct xdp_md (so that as a socket filter the verifier refuses it).
 * Used by config/tests/test_config_errors.py.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("fw/main")
int anysection(struct xdp_md *ctx)
{
	__u8 *data = (void *)(long)ctx->data;
	__u8 *data_end = (void *)(long)ctx->data_end;

	if (data + 1 > data_end)
		return XDP_PASS;
	return data[0] ? XDP_DROP : XDP_PASS;
}

char _license[] SEC("license") = "Dual BSD/GPL";
