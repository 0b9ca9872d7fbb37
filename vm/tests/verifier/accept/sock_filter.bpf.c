// SPDX-License-Identifier: BSD-3-Clause
/* Must-accept: socket filter with legacy LD_ABS loads, bpf_skb_load_bytes
 * into the stack, __sk_buff reads and a cb[] write. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>

unsigned long long load_byte(void *skb, unsigned long long off) asm("llvm.bpf.load.byte");
unsigned long long load_half(void *skb, unsigned long long off) asm("llvm.bpf.load.half");

SEC("socket")
int sock_filter(struct __sk_buff *skb)
{
	unsigned char hdr[20];

	if (load_half(skb, 12) != ETH_P_IP)
		return 0;
	if (load_byte(skb, 23) != IPPROTO_UDP)
		return skb->len;
	if (bpf_skb_load_bytes(skb, 14, hdr, sizeof(hdr)) < 0)
		return 0;
	skb->cb[0] = hdr[9] + skb->protocol;
	return (hdr[0] & 0x0f) == 5 ? 64 : skb->len;
}

char LICENSE[] SEC("license") = "GPL";
