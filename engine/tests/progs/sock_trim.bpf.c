// SPDX-License-Identifier: BSD-3-Clause
/*
 * Engine test socket filter (kernel socket-filter ABI): the length it
 * returns decides the packet. Untagged IPv4 (skb->protocol): TCP is cut to
 * 64 bytes, UDP dropped, other protocols kept whole; the protocol byte is
 * read with a legacy LD_ABS load. Other frames: broadcast ones dropped
 * (skb->pkt_type), the rest kept whole; their first 12 bytes are also read
 * with bpf_skb_load_bytes, and a frame whose read fails (shorter than 12
 * bytes) is cut to 1 byte.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

unsigned long long load_byte(void *skb, unsigned long long off) asm("llvm.bpf.load.byte");

SEC("socket")
int sock_trim(struct __sk_buff *skb)
{
	__u8 macs[12];

	if (skb->protocol == bpf_htons(ETH_P_IP) && skb->len >= ETH_HLEN + 20) {
		__u8 proto = load_byte(skb, ETH_HLEN + 9);

		if (proto == IPPROTO_TCP)
			return 64;
		if (proto == IPPROTO_UDP)
			return 0;
		return -1;
	}
	if (skb->pkt_type == PACKET_BROADCAST)
		return 0;
	if (bpf_skb_load_bytes(skb, 0, macs, sizeof(macs)))
		return 1;
	return skb->len;
}

char _license[] SEC("license") = "Dual BSD/GPL";
