// SPDX-License-Identifier: BSD-3-Clause
/*
 * Maps with BTF-typed keys and values for the text<->bytes tests
 * (config/tests/test_text.c): one of each form the syntax knows. The
 * program itself only looks every map up, so that the maps are used.
 */
#include <linux/bpf.h>
#include <linux/in6.h>
#include <bpf/bpf_helpers.h>

struct lpm4 { __u32 prefixlen; __u8 addr[4]; };
struct lpm6 { __u32 prefixlen; __u8 addr[16]; };

enum action { ACT_PASS = 1, ACT_DROP = 2, ACT_COUNT = 7 };

struct flow {
	__be32 saddr;
	__be32 daddr;
	__be16 sport;
	__be16 dport;
	__u8 proto;
	__u8 pad[3];
};

struct rule {
	enum action action;
	__u8 mac[6];
	char label[8];
	__s16 weight;
	__u16 ports[3];
	struct in6_addr via;
	__u64 hits;
};

struct point {
	__u16 x, y;
};

struct misc {
	union {
		__u32 a;
		__u8 b[4];
	} u;
	float f;
	double d;
	_Bool ok;
	struct point pts[2];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct misc);
} misc SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 64);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct lpm4);
	__type(value, __u32);
} block4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 64);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct lpm6);
	__type(value, __u32);
} block6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, struct flow);
	__type(value, struct rule);
} rules SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __be32);
	__type(value, __s32);
} by_addr SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} pcpu SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__uint(key_size, 3);
	__uint(value_size, 4);
} untyped SEC(".maps");

SEC("xdp")
int typed(struct xdp_md *ctx)
{
	struct lpm4 k4 = { 32, { 10, 0, 0, 1 } };
	struct lpm6 k6 = { 128, { 0 } };
	struct flow f = { 0 };
	__u32 zero = 0;
	__u8 u[3] = { 0 };
	__be32 a = 0;
	int hit = 0;

	hit += bpf_map_lookup_elem(&block4, &k4) != 0;
	hit += bpf_map_lookup_elem(&block6, &k6) != 0;
	hit += bpf_map_lookup_elem(&rules, &f) != 0;
	hit += bpf_map_lookup_elem(&by_addr, &a) != 0;
	hit += bpf_map_lookup_elem(&counters, &zero) != 0;
	hit += bpf_map_lookup_elem(&pcpu, &zero) != 0;
	hit += bpf_map_lookup_elem(&untyped, u) != 0;
	hit += bpf_map_lookup_elem(&misc, &zero) != 0;
	return hit ? XDP_DROP : XDP_PASS;
}

char _license[] SEC("license") = "Dual BSD/GPL";
