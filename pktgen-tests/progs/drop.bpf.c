// SPDX-License-Identifier: BSD-3-Clause
/* drop: every packet XDP_DROP (the harness's drop-all scenario). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int drop(struct xdp_md *ctx)
{
	return XDP_DROP;
}

char _license[] SEC("license") = "Dual BSD/GPL";
