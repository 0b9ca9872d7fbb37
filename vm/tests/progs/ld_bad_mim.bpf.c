// SPDX-License-Identifier: BSD-3-Clause
/* Loader test (must be rejected): a map-in-map whose initial value does not
 * fit its inner map template (value u64 where the template has u32), as
 * the kernel refuses the update (bpf_map_meta_equal). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct inner {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} wide SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 2);
	__type(key, __u32);
	__array(values, struct inner);
} outer SEC(".maps") = {
	.values = { (void *)&wide },
};

SEC("xdp")
int xdp_mim(struct xdp_md *ctx)
{
	__u32 k = 0;

	return bpf_map_lookup_elem(&outer, &k) ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
