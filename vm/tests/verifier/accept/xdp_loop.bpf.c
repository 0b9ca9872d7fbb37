// SPDX-License-Identifier: BSD-3-Clause
/* Must-accept: bounded loops. A 100-iteration loop over packet bytes with a
 * data-dependent branch in its body (state pruning keeps it linear), and a
 * loop whose bound comes from a masked packet byte. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} total SEC(".maps");

SEC("xdp")
int xdp_loop(struct xdp_md *ctx)
{
	unsigned char *data = (void *)(long)ctx->data;
	unsigned char *end = (void *)(long)ctx->data_end;
	__u64 sum = 0, zeros = 0;
	__u32 key = 0, n;

	for (int i = 0; i < 100; i++) {
		if (data + i + 1 > end)
			break;
		if (data[i] == 0)
			zeros++;
		else
			sum += data[i];
	}
	if (data + 1 > end)
		return XDP_PASS;
	n = data[0] & 0x0f;
	for (__u32 i = 0; i < n; i++)
		sum += i;
	__u64 *v = bpf_map_lookup_elem(&total, &key);
	if (v)
		*v += sum + zeros;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
