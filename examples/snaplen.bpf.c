// SPDX-License-Identifier: BSD-3-Clause
/*
 * snaplen: a socket filter that keeps the first N bytes of every packet.
 *
 * N is slot 0 of the ARRAY map snaplen_cfg, set by the operator (preload
 * "0 128", or live: `sluice ctl map update snaplen_cfg 0 128`). While the
 * slot is 0 (never set) N is SNAPLEN_DEFAULT, 96 bytes (tcpdump's classic
 * snap length). The filter returns N; the engine (like the kernel for a
 * socket filter) trims a packet longer than N to N bytes and forwards it
 * (the "trim" verdict), and forwards a packet of N bytes or fewer whole.
 * N = 0 can never be returned, so nothing is dropped.
 *
 * The per-CPU array snaplen_stats counts, per worker: slot 0 packets
 * trimmed, slot 1 bytes cut off, slot 2 packets kept whole.
 * The object loads into the Linux kernel as a socket filter unmodified.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define SNAPLEN_DEFAULT 96

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} snaplen_cfg SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 3);
	__type(key, __u32);
	__type(value, __u64);
} snaplen_stats SEC(".maps");

static __always_inline void count(__u32 slot, __u64 n)
{
	__u64 *v = bpf_map_lookup_elem(&snaplen_stats, &slot);

	if (v)
		*v += n;
}

SEC("socket")
int snaplen(struct __sk_buff *skb)
{
	__u32 zero = 0, n = SNAPLEN_DEFAULT, len = skb->len;
	__u32 *cfg = bpf_map_lookup_elem(&snaplen_cfg, &zero);

	if (cfg && *cfg)
		n = *cfg;
	if (len > n) {
		count(0, 1);
		count(1, len - n);
	} else {
		count(2, 1);
	}
	return n;
}

char _license[] SEC("license") = "Dual BSD/GPL";
