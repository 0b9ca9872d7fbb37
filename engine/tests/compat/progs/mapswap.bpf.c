// SPDX-License-Identifier: BSD-3-Clause
/*
 * Map-in-map swapped by the control plane, as katran-style balancers and
 * policy tables do: the verdict comes from the inner map that slot 0 of
 * `tables` (ARRAY_OF_MAPS) holds at the time of the packet. tbl_a is the
 * initial inner map; tbl_b has the same shape and can replace it live
 * (`sluice ctl map update tables 0 tbl_b`); tbl_big does not match the
 * template (max_entries differs) and must be refused.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct verdict_tbl {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
};

struct verdict_tbl tbl_a SEC(".maps");
struct verdict_tbl tbl_b SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u32);
} tbl_big SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 1);
	__type(key, __u32);
	__array(values, struct verdict_tbl);
} tables SEC(".maps") = {
	.values = { [0] = &tbl_a },
};

SEC("xdp")
int xdp_mapswap(struct xdp_md *ctx)
{
	__u32 zero = 0, *v;
	void *inner = bpf_map_lookup_elem(&tables, &zero);

	if (!inner)
		return XDP_ABORTED;
	v = bpf_map_lookup_elem(inner, &zero);
	if (!v)
		return XDP_ABORTED;
	if (*v == XDP_DROP || *v == XDP_PASS)
		return *v;
	return XDP_ABORTED;
}

char _license[] SEC("license") = "GPL";
