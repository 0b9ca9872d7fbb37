// SPDX-License-Identifier: BSD-3-Clause
/* Must-accept: bpf-to-bpf calls (static and global noinline functions),
 * a packet pointer and a stack pointer passed to a callee. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

static __attribute__((noinline)) int classify(unsigned char *p, unsigned char *end)
{
	if (p + 2 > end)
		return 0;
	return p[0] == 0x45 ? 1 : (p[1] & 3) + 2;
}

static __attribute__((noinline)) void fill(__u64 *buf, int n)
{
	for (int i = 0; i < 4; i++)
		buf[i] = (__u64)n * i;
}

__attribute__((noinline)) int global_mix(int a, int b)
{
	return (a * 31 + b) & 0xff;
}

SEC("xdp")
int xdp_subprog(struct xdp_md *ctx)
{
	unsigned char *data = (void *)(long)ctx->data;
	unsigned char *end = (void *)(long)ctx->data_end;
	__u64 buf[4];
	int c = classify(data + 14, end);

	fill(buf, c);
	return global_mix(c, (int)buf[3]) == 7 ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
