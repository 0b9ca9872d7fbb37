// SPDX-License-Identifier: BSD-3-Clause
/*
 * A socket filter that counts and trims, in the style of classic packet
 * capture filters: legacy LD_ABS/LD_IND loads (llvm.bpf.load.*) for the
 * IPv4 header fields, bpf_skb_load_bytes for the IPv6 header and the
 * transport ports, __sk_buff len and protocol. Counts packets and bytes
 * per IP protocol; keeps only the headers (up to the end of the TCP/UDP
 * header) of TCP and UDP packets, drops IPv4 fragments and ports 0, and
 * keeps everything else whole.
 *
 * The packet starts at the network header, as the kernel gives it to a
 * socket filter on an IP socket (and to BPF_PROG_TEST_RUN).
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

unsigned long long load_byte(void *skb, unsigned long long off) asm("llvm.bpf.load.byte");
unsigned long long load_half(void *skb, unsigned long long off) asm("llvm.bpf.load.half");
unsigned long long load_word(void *skb, unsigned long long off) asm("llvm.bpf.load.word");

struct counter {
	__u64 packets;
	__u64 bytes;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, struct counter);
} by_proto SEC(".maps");

static __always_inline void count(__u32 proto, __u32 len)
{
	struct counter *c = bpf_map_lookup_elem(&by_proto, &proto);

	if (c) {
		__sync_fetch_and_add(&c->packets, 1);
		__sync_fetch_and_add(&c->bytes, len);
	}
}

static __always_inline int l4_keep(struct __sk_buff *skb, __u32 proto, __u32 l4off)
{
	__u16 ports[2];

	if (proto != IPPROTO_TCP && proto != IPPROTO_UDP)
		return -1;
	if (bpf_skb_load_bytes(skb, l4off, ports, sizeof(ports)))
		return 0;  /* cut before the ports: drop */
	if (ports[0] == 0 || ports[1] == 0)
		return 0;
	if (proto == IPPROTO_UDP)
		return (int)(l4off + 8);
	return (int)(l4off + ((load_byte(skb, l4off + 12) >> 4) << 2));
}

SEC("socket")
int sock_count_trim(struct __sk_buff *skb)
{
	__u32 proto, l4off;
	int keep;

	if (skb->protocol == bpf_htons(ETH_P_IP)) {
		__u32 vihl = load_byte(skb, 0);

		if ((vihl >> 4) != 4 || skb->len < 20)
			return 0;
		if (load_half(skb, 6) & 0x1fff)
			return 0;
		proto = load_byte(skb, 9);
		l4off = (vihl & 15) << 2;
		if (load_word(skb, 12) == 0)
			return 0;
	} else if (skb->protocol == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr ip6;

		if (bpf_skb_load_bytes(skb, 0, &ip6, sizeof(ip6)))
			return 0;
		proto = ip6.nexthdr;
		l4off = sizeof(ip6);
	} else {
		return skb->len;
	}
	count(proto, skb->len);
	keep = l4_keep(skb, proto, l4off);
	return keep < 0 ? (int)skb->len : keep;
}

char _license[] SEC("license") = "GPL";
