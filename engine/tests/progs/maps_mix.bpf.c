// SPDX-License-Identifier: BSD-3-Clause
/*
 * Engine test program for the map report: a HASH keyed by the 6-byte
 * source MAC (a key printed as a hex string) counting frames, a global
 * counter in .bss (every frame), and a RINGBUF (not iterable: reported as
 * such, without failing the run). Frames shorter than 12 bytes are counted
 * only in the global. Every frame is dropped.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct mac {
	__u8 b[6];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, struct mac);
	__type(value, __u64);
} by_src SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} events SEC(".maps");

__u64 frames;

SEC("xdp")
int maps_mix(struct xdp_md *ctx)
{
	__u8 *data = (void *)(long)ctx->data;
	__u8 *data_end = (void *)(long)ctx->data_end;
	struct mac key;
	__u64 one = 1, *n;

	__sync_fetch_and_add(&frames, 1);
	if (data + 12 > data_end)
		return XDP_DROP;
	__builtin_memcpy(key.b, data + 6, 6);
	n = bpf_map_lookup_elem(&by_src, &key);
#ifndef MIX_READ_ONLY
	if (n)
		*n += 1;
	else
		bpf_map_update_elem(&by_src, &key, &one, BPF_NOEXIST);
#else
	/*
	 * ctl_mix_ro.bpf.o, for make bench (bench_ctl.py): the same maps and
	 * lookups with the per-source counter only read, never written once the
	 * entry exists, so a dump of by_src reads no line the worker keeps
	 * writing: the anchor that tells the dump's reading of the worker's
	 * counters from the rest of its cost.
	 */
	if (!n)
		bpf_map_update_elem(&by_src, &key, &one, BPF_NOEXIST);
	else if (*n == 0x5a5a5a5a5a5aull)  /* read, never true: the value is 1 or a key's index */
		return XDP_PASS;
#endif
	return XDP_DROP;
}

char _license[] SEC("license") = "Dual BSD/GPL";
