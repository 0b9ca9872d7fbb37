// SPDX-License-Identifier: BSD-3-Clause
/* test-run --prog test: socket filter that keeps 42 bytes of UDP, all of other IPv4, no ARP. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

unsigned long long load_byte(void *skb, unsigned long long off) asm("llvm.bpf.load.byte");

SEC("socket")
int trim_udp(struct __sk_buff *skb)
{
	if (skb->protocol != bpf_htons(ETH_P_IP))
		return 0;
	if (load_byte(skb, ETH_HLEN + 9) == IPPROTO_UDP)
		return 42;
	return skb->len;
}

char LICENSE[] SEC("license") = "GPL";
