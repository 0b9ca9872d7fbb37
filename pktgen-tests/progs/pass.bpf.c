// SPDX-License-Identifier: BSD-3-Clause
/* pass: every packet XDP_PASS, untouched (the harness's pass-through scenario). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}

char _license[] SEC("license") = "Dual BSD/GPL";
