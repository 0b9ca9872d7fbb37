// SPDX-License-Identifier: BSD-3-Clause
/*
 * Loader test: maps in the legacy "maps" section, one struct per map
 * (libbpf's old struct bpf_map_def), in an "xdp/..." section.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct legacy_map_def {
	unsigned int type;
	unsigned int key_size;
	unsigned int value_size;
	unsigned int max_entries;
	unsigned int map_flags;
};

struct legacy_map_def SEC("maps") legacy_counts = {
	.type = BPF_MAP_TYPE_ARRAY,
	.key_size = 4,
	.value_size = 8,
	.max_entries = 32,
};

struct legacy_map_def SEC("maps") legacy_table = {
	.type = BPF_MAP_TYPE_HASH,
	.key_size = 8,
	.value_size = 16,
	.max_entries = 128,
};

SEC("xdp/legacy")
int xdp_legacy(struct xdp_md *ctx)
{
	__u32 k = ctx->rx_queue_index & 31;
	__u64 key = ctx->ingress_ifindex;
	__u64 *v = bpf_map_lookup_elem(&legacy_counts, &k);

	if (v)
		(*v)++;
	if (bpf_map_lookup_elem(&legacy_table, &key))
		return XDP_DROP;
	return XDP_PASS;
}

char _license[] SEC("license") = "Dual BSD/GPL";
