// SPDX-License-Identifier: BSD-3-Clause
/* Map-in-map (issue 13): an ARRAY_OF_MAPS and a HASH_OF_MAPS with inner
 * map templates and initial values; the program reads value 0 of the inner
 * array at outer index (first packet byte & 3), adds the inner hash value
 * of key 1 found at outer key 7, and bumps a counter in the inner array. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct inner_arr {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
};

struct inner_arr arr_a SEC(".maps"), arr_b SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 4);
	__type(key, __u32);
	__array(values, struct inner_arr);
} outer_arr SEC(".maps") = {
	.values = { [0] = &arr_a, [2] = &arr_b },
};

struct inner_hash {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u32);
};

struct inner_hash hash_a SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH_OF_MAPS);
	__uint(max_entries, 8);
	__type(key, __u32);
	__array(values, struct inner_hash);
} outer_hash SEC(".maps") = {
	.values = { [7] = &hash_a },
};

SEC("xdp")
int mim(struct xdp_md *ctx)
{
	unsigned char *p = (void *)(long)ctx->data;
	__u32 idx, zero = 0, one = 1, seven = 7;
	__u64 ret = 1000, *v;
	__u32 *hv;
	void *in;

	if ((void *)(p + 1) > (void *)(long)ctx->data_end)
		return XDP_ABORTED;
	idx = p[0] & 3;
	in = bpf_map_lookup_elem(&outer_arr, &idx);
	if (!in)
		return 7;
	v = bpf_map_lookup_elem(in, &zero);
	if (!v)
		return XDP_ABORTED;
	ret += *v;
	__sync_fetch_and_add(v, 1);
	in = bpf_map_lookup_elem(&outer_hash, &seven);
	if (in) {
		hv = bpf_map_lookup_elem(in, &one);
		if (hv)
			ret += *hv * 100;
	}
	return (int)ret;
}

char LICENSE[] SEC("license") = "GPL";
