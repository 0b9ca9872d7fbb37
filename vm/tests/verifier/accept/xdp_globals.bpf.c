// SPDX-License-Identifier: BSD-3-Clause
/* Must-accept: global data (.rodata config, .data and .bss counters). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

const volatile __u32 drop_len = 60;
__u64 passed = 0;
__u64 dropped = 7;
char table[16] = "abcdefghijklmno";

SEC("xdp")
int xdp_globals(struct xdp_md *ctx)
{
	__u32 len = (long)ctx->data_end - (long)ctx->data;

	if (len < drop_len) {
		__sync_fetch_and_add(&dropped, 1);
		return XDP_DROP;
	}
	passed += table[len & 15];
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
