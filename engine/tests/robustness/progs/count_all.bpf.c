// SPDX-License-Identifier: BSD-3-Clause
/*
 * Counts every packet in a PERCPU_ARRAY (slot 0 of each worker) and passes
 * it: the robustness suite checks that the per-CPU slots sum exactly to the
 * packets received and that worker i's slot equals worker i's rx.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} seen SEC(".maps");

SEC("xdp")
int count_all(struct xdp_md *ctx)
{
	__u32 key = 0;
	__u64 *n = bpf_map_lookup_elem(&seen, &key);

	if (n)
		*n += 1;
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
