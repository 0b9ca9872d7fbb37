// SPDX-License-Identifier: BSD-3-Clause
/*
 * Engine test program for `ctl map update PROG_ARRAY KEY --prog` (tail
 * calls): section "xdp" tail-calls slot 0 of jmp and, when the slot is
 * empty, counts the frame in hits[0] and drops it; section "xdp/pass",
 * put into slot 0 by ctl (sharing jmp and hits with the running object),
 * counts in hits[1] and passes the frame.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u32);
} jmp SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} hits SEC(".maps");

static __always_inline void hit(__u32 k)
{
	__u64 *v = bpf_map_lookup_elem(&hits, &k);

	if (v)
		__sync_fetch_and_add(v, 1);
}

SEC("xdp")
int entry(struct xdp_md *ctx)
{
	bpf_tail_call(ctx, &jmp, 0);
	hit(0);
	return XDP_DROP;
}

SEC("xdp/pass")
int slot_pass(struct xdp_md *ctx)
{
	hit(1);
	return XDP_PASS;
}

char _license[] SEC("license") = "Dual BSD/GPL";
