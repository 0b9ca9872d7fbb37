/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The FIB of bpf_fib_lookup (maps/fib.c): return codes and the fields of
 * struct bpf_fib_lookup it sets, for each kernel case it follows; longest
 * prefix match; edits (replace, delete) seen by the next lookup.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <linux/bpf.h>

#include "sl_fib.h"
#include "sl_test.h"

static uint32_t ip4(const char *s)
{
	uint32_t a = 0;

	inet_pton(AF_INET, s, &a);
	return a;
}

static struct bpf_fib_lookup q4(const char *dst, uint16_t tot_len)
{
	struct bpf_fib_lookup p = { .family = AF_INET, .ifindex = 1, .tot_len = tot_len };

	p.ipv4_dst = ip4(dst);
	p.ipv4_src = ip4("10.0.0.1");
	return p;
}

int main(void)
{
	static const uint8_t m1[6] = { 2, 0, 0, 0, 0, 1 }, m2[6] = { 2, 0, 0, 0, 0, 2 };
	static const uint8_t nm[6] = { 2, 9, 9, 9, 9, 9 }, nm2[6] = { 2, 8, 8, 8, 8, 8 };
	struct sl_fib *fib = sl_fib_create(64);
	uint32_t a2 = ip4("192.168.1.1"), gw = ip4("192.168.1.254"), net, host;
	struct bpf_fib_lookup p;
	uint8_t v6[16] = { 0x20, 0x01, 0x0d, 0xb8 };

	CHECK(fib, "create");
	if (!fib)
		return 1;
	CHECK(sl_fib_set_port(fib, 1, m1, 0, NULL, NULL) == 0, "port 1");
	CHECK(sl_fib_set_port(fib, 2, m2, 1400, &a2, NULL) == 0, "port 2");
	CHECK(sl_fib_set_port(fib, 64, m2, 0, NULL, NULL) == -EINVAL, "port 64 refused");
	net = ip4("192.168.0.0");
	CHECK(sl_fib_add_route(fib, AF_INET, &net, 16, SL_FIB_UNICAST, &gw, 2, 7) == 0, "/16");
	net = ip4("192.168.7.0");
	CHECK(sl_fib_add_route(fib, AF_INET, &net, 24, SL_FIB_BLACKHOLE, NULL, 0, 0) == 0, "/24");
	host = ip4("192.168.7.9");
	CHECK(sl_fib_add_route(fib, AF_INET, &host, 32, SL_FIB_UNICAST, NULL, 2, 3) == 0, "/32");
	CHECK(sl_fib_add_neigh(fib, AF_INET, &gw, 2, nm) == 0, "neigh");

	/* longest match: /16 via the gateway */
	p = q4("192.168.3.3", 100);
	CHECK(sl_fib_lookup(fib, &p, sizeof(p), 0) == BPF_FIB_LKUP_RET_SUCCESS, "success");
	CHECK(p.ifindex == 2 && p.rt_metric == 7 && p.ipv4_dst == gw && p.mtu_result == 1400 &&
	      !memcmp(p.dmac, nm, 6) && !memcmp(p.smac, m2, 6) && p.h_vlan_proto == 0 &&
	      p.ipv4_src == ip4("10.0.0.1"), "fields of a success");
	/* /24 blackhole inside it, /32 host route inside that */
	p = q4("192.168.7.1", 100);
	CHECK(sl_fib_lookup(fib, &p, sizeof(p), 0) == BPF_FIB_LKUP_RET_BLACKHOLE, "blackhole");
	p = q4("192.168.7.9", 100);
	CHECK(sl_fib_lookup(fib, &p, sizeof(p), 0) == BPF_FIB_LKUP_RET_NO_NEIGH &&
	      p.ifindex == 2 && p.rt_metric == 3 && p.ipv4_dst == host, "direct, no neighbour");
	p = q4("192.168.7.9", 100);
	CHECK(sl_fib_lookup(fib, &p, sizeof(p), BPF_FIB_LOOKUP_SKIP_NEIGH) == 0 &&
	      !memcmp(p.smac, m2, 6), "SKIP_NEIGH: success without a neighbour");
	p = q4("192.168.3.3", 100);
	CHECK(sl_fib_lookup(fib, &p, sizeof(p), BPF_FIB_LOOKUP_SRC) == 0 && p.ipv4_src == a2,
	      "SRC: the egress port's address");
	p = q4("192.168.3.3", 1401);
	CHECK(sl_fib_lookup(fib, &p, sizeof(p), 0) == BPF_FIB_LKUP_RET_FRAG_NEEDED &&
	      p.mtu_result == 1400, "frag needed, mtu_result");
	p = q4("8.8.8.8", 100);
	CHECK(sl_fib_lookup(fib, &p, sizeof(p), 0) == BPF_FIB_LKUP_RET_NOT_FWDED, "no route");
	p = q4("192.168.3.3", 100);
	p.ifindex = 5;
	CHECK(sl_fib_lookup(fib, &p, sizeof(p), 0) == -ENODEV, "unknown ingress port");
	p = q4("192.168.3.3", 100);
	CHECK(sl_fib_lookup(fib, &p, sizeof(p) - 1, 0) == -EINVAL, "short plen");
	CHECK(sl_fib_lookup(fib, &p, sizeof(p), 1u << 20) == -EINVAL, "unknown flag");
	p.family = 7;
	CHECK(sl_fib_lookup(fib, &p, sizeof(p), 0) == -EAFNOSUPPORT, "family");
	CHECK(sl_fib_lookup(NULL, &p, sizeof(p), 0) == -EAFNOSUPPORT, "no FIB, bad family");

	/* edits: the neighbour changes, the /32 goes */
	CHECK(sl_fib_add_neigh(fib, AF_INET, &gw, 2, nm2) == 0, "neigh replaced");
	p = q4("192.168.3.3", 100);
	CHECK(sl_fib_lookup(fib, &p, sizeof(p), 0) == 0 && !memcmp(p.dmac, nm2, 6), "new MAC");
	CHECK(sl_fib_del_route(fib, AF_INET, &host, 32) == 0, "delete /32");
	p = q4("192.168.7.9", 100);
	CHECK(sl_fib_lookup(fib, &p, sizeof(p), 0) == BPF_FIB_LKUP_RET_BLACKHOLE, "/24 again");

	/* IPv6: SRC without an IPv6 address on the port */
	CHECK(sl_fib_add_route(fib, AF_INET6, v6, 32, SL_FIB_UNICAST, NULL, 2, 1) == 0, "v6 /32");
	memset(&p, 0, sizeof(p));
	p.family = AF_INET6;
	p.ifindex = 1;
	memcpy(p.ipv6_dst, v6, 16);
	((uint8_t *)p.ipv6_dst)[15] = 1;
	CHECK(sl_fib_lookup(fib, &p, sizeof(p), BPF_FIB_LOOKUP_SRC) ==
	      BPF_FIB_LKUP_RET_NO_SRC_ADDR, "v6: no source address");
	CHECK(sl_fib_add_neigh(fib, AF_INET6, p.ipv6_dst, 2, nm) == 0, "v6 neigh");
	CHECK(sl_fib_lookup(fib, &p, sizeof(p), 0) == 0 && !memcmp(p.dmac, nm, 6), "v6 success");
	sl_fib_destroy(fib);
	return sl_test_done("maps_fib");
}
