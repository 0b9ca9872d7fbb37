// SPDX-License-Identifier: BSD-3-Clause
/*
 * Engine test program for `sluice ctl` and hot reload (engine/tests/ctl).
 * Built three times with -DVARIANT=1, 2, 3:
 *
 *   counts  ARRAY u32 -> u64, key = frame length % 64: every frame is
 *           counted once (atomic add), by whichever variant runs;
 *           VARIANT 3 declares it with 128 entries (an incompatible map)
 *   hist    PERCPU_ARRAY u32 -> u64, same key (per-worker values)
 *   flows   HASH u32 -> u64 (for map update/delete/lookup from ctl)
 *   events  RINGBUF: one record {magic, variant, n, len} every 4096th frame
 *           of this variant (n = its frame number, from .bss)
 *   perf    PERF_EVENT_ARRAY: the same record, same frames
 *   every 65536th frame: bpf_printk("ctl v%d n %llu len %u")
 *
 * Verdict: VARIANT 2 passes (XDP_PASS), the others drop, so a test can
 * tell which program handled a frame.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#ifndef VARIANT
#define VARIANT 1
#endif
#if VARIANT == 3
#define COUNT_SLOTS 128
#else
#define COUNT_SLOTS 64
#endif
#define MAGIC 0x51c0ffee

struct rec {
	__u32 magic;
	__u32 variant;
	__u64 n;
	__u32 len;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, COUNT_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u64);
} hist SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u64);
} flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16384);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} perf SEC(".maps");

__u64 frames;
struct rec last_rec;  /* the last record sent (and struct rec in the BTF, for `ctl events --type rec`) */

SEC("xdp")
int ctl_count(struct xdp_md *ctx)
{
	__u32 len = ctx->data_end - ctx->data;
	__u32 key = len % 64;
	__u64 *v, n = frames;

	frames = n + 1;  /* one worker in these tests: no race */
	v = bpf_map_lookup_elem(&counts, &key);
	if (v)
		__sync_fetch_and_add(v, 1);
	v = bpf_map_lookup_elem(&hist, &key);
	if (v)
		*v += 1;
	if ((n & 4095) == 0) {
		struct rec r = { .magic = MAGIC, .variant = VARIANT, .n = n, .len = len };

		last_rec = r;
		bpf_ringbuf_output(&events, &r, sizeof(r), 0);
		bpf_perf_event_output(ctx, &perf, BPF_F_CURRENT_CPU, &r, sizeof(r));
	}
	if ((n & 65535) == 0)
		bpf_printk("ctl v%d n %llu len %u", VARIANT, n, len);
	return VARIANT == 2 ? XDP_PASS : XDP_DROP;
}

char _license[] SEC("license") = "Dual BSD/GPL";
