// SPDX-License-Identifier: BSD-3-Clause
/*
 * Loader test: BTF-defined maps of several types and sizes, referenced from
 * an XDP program and a socket filter. The sizes are checked by
 * vm/tests/test_loader.c (struct flow_key is 12 bytes, struct flow_val 24).
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct flow_key {
	__u32 saddr;
	__u32 daddr;
	__u16 sport;
	__u16 dport;
};

struct flow_val {
	__u64 packets;
	__u64 bytes;
	__u64 last_seen;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct flow_key);
	__type(value, struct flow_val);
} flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 256);
	__uint(key_size, 4);
	__uint(value_size, 8);
} per_cpu SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 64);
	__type(key, __u64);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} recent SEC(".maps");

SEC("xdp")
int xdp_maps(struct xdp_md *ctx)
{
	struct flow_key fk = { .saddr = ctx->ingress_ifindex, .dport = 80 };
	struct flow_val *fv;
	__u32 k = ctx->rx_queue_index & 15;
	__u64 *v;

	v = bpf_map_lookup_elem(&counts, &k);
	if (v)
		(*v)++;
	fv = bpf_map_lookup_elem(&flows, &fk);
	if (fv) {
		fv->packets++;
	} else {
		struct flow_val nv = { .packets = 1 };

		bpf_map_update_elem(&flows, &fk, &nv, BPF_NOEXIST);
	}
	v = bpf_map_lookup_elem(&per_cpu, &k);
	if (v)
		(*v) += 2;
	return XDP_PASS;
}

SEC("socket")
int sock_recent(struct __sk_buff *skb)
{
	__u64 key = skb->len;
	__u32 *v = bpf_map_lookup_elem(&recent, &key);

	if (v)
		return *v;
	bpf_map_delete_elem(&counts, &key);
	return skb->len;
}

char LICENSE[] SEC("license") = "GPL";
