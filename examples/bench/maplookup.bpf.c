/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Cost of an ARRAY / PERCPU_ARRAY lookup in JIT-compiled code (make bench):
 * three raw programs doing the same 16 unrolled steps over the first packet
 * bytes, "base" without a lookup, "array" and "percpu" with one lookup per
 * step. (ns(array) - ns(base)) / 16 is the cost of one inlined lookup plus
 * the load and add of its value.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define STEPS 16

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, __u64);
} arr SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, __u64);
} parr SEC(".maps");

SEC("raw")
int base(unsigned char *pkt, __u64 len)
{
	__u64 sum = 0;

#pragma unroll
	for (int i = 0; i < STEPS; i++) {
		__u32 k = (pkt[i & 7] + i) & 255;

		sum += k;
	}
	return (int)sum;
}

static __always_inline int lookups(void *map, unsigned char *pkt)
{
	__u64 sum = 0;

#pragma unroll
	for (int i = 0; i < STEPS; i++) {
		__u32 k = (pkt[i & 7] + i) & 255;
		__u64 *v = bpf_map_lookup_elem(map, &k);

		if (v)
			sum += *v + k;
	}
	return (int)sum;
}

SEC("raw")
int array(unsigned char *pkt, __u64 len)
{
	return lookups(&arr, pkt);
}

SEC("raw")
int percpu(unsigned char *pkt, __u64 len)
{
	return lookups(&parr, pkt);
}

char _license[] SEC("license") = "GPL";
