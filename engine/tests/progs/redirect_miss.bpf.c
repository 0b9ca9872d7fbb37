// SPDX-License-Identifier: BSD-3-Clause
/*
 * Engine test program: a bpf_redirect_map miss after an earlier redirect,
 * as the kernel's __bpf_xdp_redirect_map() treats it (the miss clears the
 * map from the redirect state: "the last lookup takes precedence", and
 * XDP_REDIRECT then resolves the last bpf_redirect's ifindex or the last
 * hit's key as an ifindex). The DEVMAP is preloaded with slot 6 = port 1;
 * slot 5 is empty. By byte 11 of the frame % 5 (frames < 12 bytes pass):
 *
 *   0  hit 6, return XDP_REDIRECT                   -> port 1
 *   1  hit 6, miss 5, return XDP_REDIRECT           -> port id 6: none, redirect_failed
 *   2  bpf_redirect(1), miss 5, return XDP_REDIRECT -> port 1
 *   3  miss 5, hit 6, return the hit's r0           -> port 1
 *   4  hit 6, miss 5 (fallback XDP_DROP), return it -> drop
 *
 * engine/tests/test_engine.py (case redirect_miss) computes the expected
 * counters and output captures from the same rules.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u32);
} ports SEC(".maps");

SEC("xdp")
int redirect_miss(struct xdp_md *ctx)
{
	__u8 *data = (void *)(long)ctx->data;
	__u8 *data_end = (void *)(long)ctx->data_end;

	if (data + 12 > data_end)
		return XDP_PASS;
	switch (data[11] % 5) {
	case 0:
		bpf_redirect_map(&ports, 6, XDP_PASS);
		return XDP_REDIRECT;
	case 1:
		bpf_redirect_map(&ports, 6, XDP_PASS);
		bpf_redirect_map(&ports, 5, XDP_PASS);
		return XDP_REDIRECT;
	case 2:
		bpf_redirect(1, 0);
		bpf_redirect_map(&ports, 5, XDP_PASS);
		return XDP_REDIRECT;
	case 3:
		bpf_redirect_map(&ports, 5, XDP_PASS);
		return bpf_redirect_map(&ports, 6, XDP_PASS);
	default:
		bpf_redirect_map(&ports, 6, XDP_PASS);
		return bpf_redirect_map(&ports, 5, XDP_DROP);
	}
}

char _license[] SEC("license") = "Dual BSD/GPL";
