// SPDX-License-Identifier: BSD-3-Clause
/* Two programs in one section, one unsafe: `verify --section bad_read`
 * must fail naming it; plus big maps (a 128 MiB array, a 4M-entry hash)
 * that `sluice verify` must not touch. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 16 << 20);
	__type(key, __u32);
	__type(value, __u64);
} big_array SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4 << 20);
	__type(key, __u32);
	__type(value, __u64);
} big_hash SEC(".maps");

SEC("xdp")
int good_one(struct xdp_md *ctx)
{
	__u32 k = 1;
	__u64 *v = bpf_map_lookup_elem(&big_array, &k);

	if (v)
		(*v)++;
	return bpf_map_lookup_elem(&big_hash, &k) ? XDP_DROP : XDP_PASS;
}

SEC("xdp")
int bad_read(struct xdp_md *ctx)
{
	return *(unsigned char *)(long)ctx->data;   /* no bounds check */
}

char LICENSE[] SEC("license") = "GPL";
