// SPDX-License-Identifier: BSD-3-Clause
/*
 * TCP option walking in the style of public XDP SYN-proxy and MSS-clamping
 * programs: a bounded loop over the options of IPv4 TCP SYN segments
 * (variable packet offsets, each checked against data_end), clamping the
 * MSS option to 1360 with an incremental checksum update, counting the
 * option kinds seen (MSS, window scale, SACK-permitted, timestamps) and
 * dropping SYNs whose options are malformed.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/in.h>
#include <linux/tcp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define MAX_OPT_BYTES 64  /* options are at most 40 bytes; a power of 2 for the mask */
#define MSS_CLAMP 1360

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 32);
	__type(key, __u32);
	__type(value, __u64);
} opt_kinds SEC(".maps");

static __always_inline void seen(__u32 kind)
{
	__u32 k = kind & 31;
	__u64 *n = bpf_map_lookup_elem(&opt_kinds, &k);

	if (n)
		__sync_fetch_and_add(n, 1);
}

static __always_inline __u16 csum_update16(__u16 check, __be16 from, __be16 to)
{
	__u32 sum = (__u16)~check + (__u16)~from + to;

	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

SEC("xdp")
int xdp_tcpopt(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	struct tcphdr *tcp;
	int i, off = 0, optlen;

	if ((void *)(ip + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP) ||
	    ip->protocol != IPPROTO_TCP || ip->ihl != 5)
		return XDP_PASS;
	tcp = (void *)(ip + 1);
	if ((void *)(tcp + 1) > data_end || !tcp->syn)
		return XDP_PASS;
	optlen = tcp->doff * 4 - (int)sizeof(*tcp);
	if (optlen < 0 || (void *)(tcp + 1) + optlen > data_end)
		return XDP_DROP;
	/* offsets are bounded scalars, the pointer is rebuilt each time: the
	 * form both verifiers walk in few states */
	for (i = 0; i < MAX_OPT_BYTES && off < optlen; i++) {
		__u8 *opt = (__u8 *)(tcp + 1) + (off & (MAX_OPT_BYTES - 1));
		__u8 kind, len;

		if ((void *)(opt + 2) > data_end)
			break;
		kind = opt[0];
		if (kind == 0)
			break;
		if (kind == 1) {
			off++;
			continue;
		}
		len = opt[1];
		if (len < 2 || off + len > optlen)
			return XDP_DROP;
		seen(kind);
		if (kind == 2 && len == 4) {
			__be16 *mss = (__be16 *)(opt + 2);

			if ((void *)(mss + 1) > data_end)
				return XDP_DROP;
			if (bpf_ntohs(*mss) > MSS_CLAMP) {
				__be16 new = bpf_htons(MSS_CLAMP);

				tcp->check = csum_update16(tcp->check, *mss, new);
				*mss = new;
			}
		}
		off += len;
	}
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
