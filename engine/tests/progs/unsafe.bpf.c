// SPDX-License-Identifier: BSD-3-Clause
/*
 * Engine test program the verifier must reject: it reads packet byte 12
 * without checking it against data_end. `sluice run` must refuse it with
 * one line and exit code 1 (the kernel's verifier rejects it too).
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int unsafe(struct xdp_md *ctx)
{
	__u8 *data = (void *)(long)ctx->data;

	return data[12] == 0x08 ? XDP_DROP : XDP_PASS;
}

char _license[] SEC("license") = "Dual BSD/GPL";
