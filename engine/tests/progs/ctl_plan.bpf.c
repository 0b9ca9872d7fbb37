// SPDX-License-Identifier: BSD-3-Clause
/*
 * Map types for test ctl-plan (engine/tests/ctl/test_ctl_plan.c): the
 * shapes a dump compiles (ctl_plan.c: integers of every width and sign,
 * byte arrays, a one-byte array, integer arrays, nested and anonymous
 * structs, typedefs) and some it must leave to sl_text (a member named as
 * an address, an enum, a char array, a bitfield). The program only looks
 * the maps up, so that they stay in the object.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

typedef __u64 counter_t;
typedef const counter_t ccounter_t;

struct inner {
	__s8 a;
	__s16 b;
	__s32 c;
	__s64 d;
};

struct shape {
	__u8 mac[6];
	__u8 one[1];
	__u8 three[3];
	__u16 ports[3];
	struct inner in;
	struct inner pair[2];
	ccounter_t big;
	struct {
		__u8 x;
		__u8 y;
	} nested;
	struct {
		__u32 q;
	};
};

struct with_addr {
	__u32 src_ip;
	__u16 port;
};

enum colour { RED = 1, GREEN = 2 };

struct with_enum {
	enum colour c;
	__u32 n;
};

struct with_name {
	char name[8];
	__u32 n;
};

struct with_bits {
	__u32 lo : 4;
	__u32 hi : 28;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, struct shape);
	__type(value, struct inner);
} shapes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, __s8);
	__type(value, counter_t);
} small SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 16);
	__type(key, __s16);
	__type(value, __s64);
} signed_pc SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, struct with_addr);
	__type(value, struct with_enum);
} with_addr SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, struct with_name);
	__type(value, struct with_bits);
} named SEC(".maps");

SEC("xdp")
int ctl_plan(struct xdp_md *ctx)
{
	struct shape s = { 0 };
	struct with_addr a = { 0 };
	struct with_name n = { 0 };
	__s8 k8 = 0;
	__s16 k16 = 0;
	int hit = 0;

	hit += bpf_map_lookup_elem(&shapes, &s) != 0;
	hit += bpf_map_lookup_elem(&small, &k8) != 0;
	hit += bpf_map_lookup_elem(&signed_pc, &k16) != 0;
	hit += bpf_map_lookup_elem(&with_addr, &a) != 0;
	hit += bpf_map_lookup_elem(&named, &n) != 0;
	return hit ? XDP_DROP : XDP_PASS;
}

char _license[] SEC("license") = "Dual BSD/GPL";
