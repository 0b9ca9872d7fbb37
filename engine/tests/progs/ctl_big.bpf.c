// SPDX-License-Identifier: BSD-3-Clause
/*
 * Bench program for `ctl map dump` of a big map (bench_ctl.py): a HASH of
 * up to 2^20 entries (__u32 -> __u64) that only the control socket fills;
 * every frame is counted in seen[0] and dropped.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1 << 20);
	__type(key, __u32);
	__type(value, __u64);
} big SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} seen SEC(".maps");

SEC("xdp")
int ctl_big(struct xdp_md *ctx)
{
	__u32 k = 0;
	__u64 *v = bpf_map_lookup_elem(&seen, &k);

	if (v)
		__sync_fetch_and_add(v, 1);
	return XDP_DROP;
}

char _license[] SEC("license") = "Dual BSD/GPL";
