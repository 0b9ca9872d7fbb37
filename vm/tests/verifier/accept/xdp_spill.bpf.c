// SPDX-License-Identifier: BSD-3-Clause
/* Must-accept: packet pointers and a map value pointer spilled to the stack
 * and filled back (volatile forces the spills), 32-bit compares against
 * data_end's distance (alu32/jmp32 with -mcpu=v3). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u32);
} cnt SEC(".maps");

SEC("xdp")
int xdp_spill(struct xdp_md *ctx)
{
	void *volatile data = (void *)(long)ctx->data;
	void *volatile end = (void *)(long)ctx->data_end;
	unsigned char *p = data;
	__u32 len = (long)ctx->data_end - (long)ctx->data;
	__u32 key;

	if (p + 16 > (unsigned char *)end)
		return XDP_PASS;
	key = p[15] & 7;
	__u32 *volatile v = bpf_map_lookup_elem(&cnt, &key);
	if (!v)
		return XDP_PASS;
	*v += len < 64 ? 1 : 2;
	p = data;
	if (p + 16 > (unsigned char *)end)
		return XDP_PASS;
	p += p[0] & 7;
	if (p + 9 > (unsigned char *)end)
		return XDP_PASS;
	return p[8] ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
