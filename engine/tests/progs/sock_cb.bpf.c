// SPDX-License-Identifier: BSD-3-Clause
/*
 * Replay test socket filter: skb->cb must read zero on every packet (the
 * kernel zeroes it before a socket filter runs; the engine fills only the
 * __sk_buff words a program touches, and cb's on each packet when it
 * does), so the program writes cb[0] after reading it. A packet that sees
 * a leftover cb, an ifindex that differs from ingress_ifindex, or a VLAN
 * tag marked stripped (nothing strips tags here) is dropped; the others
 * are cut to 100 bytes (kept whole when shorter).
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("socket")
int sock_cb(struct __sk_buff *skb)
{
	__u32 seen = skb->cb[0] | skb->cb[4];

	skb->cb[0] = 7;
	skb->cb[4] = skb->len;
	if (seen || skb->ifindex != skb->ingress_ifindex || skb->vlan_present)
		return 0;
	return skb->len > 100 ? 100 : skb->len;
}

char _license[] SEC("license") = "GPL";
