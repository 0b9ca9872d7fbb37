// SPDX-License-Identifier: BSD-3-Clause
/*
 * Counts packets by the RX queue they arrived on (ctx->rx_queue_index) in a
 * per-CPU array, and passes every one: the test of a config with more RX
 * queues than workers (test_config_run.py, case rxqueues) reads which worker
 * saw which queue's packets.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u64);
} rxq SEC(".maps");

SEC("xdp")
int rxq_count(struct xdp_md *ctx)
{
	__u32 q = ctx->rx_queue_index;
	__u64 *n = bpf_map_lookup_elem(&rxq, &q);

	if (n)
		*n += 1;
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
