/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl-pcapgen: write a deterministic mixed Ethernet capture (pcap, linktype 1).
 *
 * The same count and seed always give the same bytes. Packet kinds are
 * drawn from a weighted table: TCP, UDP, ICMP over IPv4; TCP, UDP, ICMPv6
 * over IPv6; each of those behind one 802.1Q tag a quarter of the time;
 * ARP; IPv4 with options; GRE (47) and SCTP (132); IPv6 with a hop-by-hop
 * header; IPv4 with a random protocol number; an LLDP frame; runts shorter
 * than an Ethernet header; and captures cut short (caplen < wire length)
 * anywhere inside the headers. The file format is written directly.
 *
 * -x (extended mix, for filter tests) varies the frames further: a few
 * repeated IPv4 hosts (10.0.0.1-8 -> 192.168.1.1-8), well-known and ranged
 * ports, TCP flags (SYN, SYN|ACK, FIN|ACK, RST, PSH|ACK, ACK), IPv4
 * fragments, broadcast and multicast destinations, and a second 802.1Q or
 * 802.1ad tag (vlan-in-vlan). -l LEN makes every frame an IPv4/UDP frame
 * of exactly LEN bytes (benchmarks). Without -x and -l the bytes are the
 * same as before these options existed.
 *
 * usage: sl-pcapgen [-n COUNT] [-s SEED] [-p MAXPAYLOAD] [-x] [-l LEN] -o FILE
 */
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FRAME 1600

/* One frame being built. */
struct frame {
	uint8_t b[MAX_FRAME];
	uint32_t len;      /* wire length */
	uint32_t caplen;   /* bytes written to the capture */
};

struct gen {
	uint64_t rng;
	uint32_t max_payload;
	int extended;        /* -x */
	uint32_t fixed_len;  /* -l, 0 = mixed */
};

/* xorshift64*: deterministic for a given seed on every platform. */
static uint64_t rnd(struct gen *g)
{
	g->rng ^= g->rng >> 12;
	g->rng ^= g->rng << 25;
	g->rng ^= g->rng >> 27;
	return g->rng * 0x2545F4914F6CDD1DULL;
}

static uint32_t rnd_below(struct gen *g, uint32_t n)
{
	return n ? (uint32_t)(rnd(g) >> 33) % n : 0;
}

static void put16(uint8_t *p, uint16_t v) { p[0] = v >> 8; p[1] = v & 0xff; }
static void put32(uint8_t *p, uint32_t v) { put16(p, v >> 16); put16(p + 2, v & 0xffff); }

static void fill_random(struct gen *g, uint8_t *p, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		p[i] = (uint8_t)rnd(g);
}

/* Ethernet header (and an optional 802.1Q tag); returns the L3 offset. */
static uint32_t put_eth(struct gen *g, struct frame *f, uint16_t ethertype, int vlan)
{
	static const uint8_t dst[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x02 };
	uint32_t off = 12;

	memcpy(f->b, dst, 6);
	f->b[6] = 0x02;
	fill_random(g, f->b + 7, 5);
	if (vlan) {
		put16(f->b + 12, 0x8100);
		put16(f->b + 14, (uint16_t)(1 + rnd_below(g, 4094)));
		off = 16;
	}
	put16(f->b + off, ethertype);
	return off + 2;
}

static uint16_t ip_checksum(const uint8_t *p, uint32_t n)
{
	uint32_t sum = 0;

	for (uint32_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* L4 header of @p proto at @p p; returns its length. */
static uint32_t put_l4(struct gen *g, uint8_t *p, uint8_t proto)
{
	switch (proto) {
	case 6:   /* TCP: ports, seq, ack, data offset 5, ACK|PSH */
		memset(p, 0, 20);
		put16(p, (uint16_t)(1024 + rnd_below(g, 60000)));
		put16(p + 2, 80);
		put32(p + 4, (uint32_t)rnd(g));
		p[12] = 5 << 4;
		p[13] = 0x18;
		put16(p + 14, 65535);
		return 20;
	case 17:  /* UDP: length fixed up by the caller */
		memset(p, 0, 8);
		put16(p, (uint16_t)(1024 + rnd_below(g, 60000)));
		put16(p + 2, 53);
		return 8;
	case 1:   /* ICMP echo request */
	case 58:  /* ICMPv6 echo request */
		memset(p, 0, 8);
		p[0] = proto == 1 ? 8 : 128;
		put16(p + 4, (uint16_t)rnd(g));
		return 8;
	case 47:  /* GRE carrying IPv4 */
		memset(p, 0, 4);
		put16(p + 2, 0x0800);
		return 4;
	case 132: /* SCTP common header */
		memset(p, 0, 12);
		put16(p, 5000);
		put16(p + 2, 5001);
		put32(p + 4, (uint32_t)rnd(g));
		return 12;
	default:
		return 0;
	}
}

/* Payload after the L4 header; returns the new length. */
static uint32_t put_payload(struct gen *g, struct frame *f, uint32_t off)
{
	uint32_t room = MAX_FRAME - 64 - off;
	uint32_t n = rnd_below(g, (g->max_payload < room ? g->max_payload : room) + 1);

	fill_random(g, f->b + off, n);
	return off + n;
}

static void build_ipv4(struct gen *g, struct frame *f, uint8_t proto, int vlan, uint32_t optwords)
{
	uint32_t l3 = put_eth(g, f, 0x0800, vlan);
	uint32_t ihl = 5 + optwords, l4 = l3 + ihl * 4, end;
	uint8_t *ip = f->b + l3;

	memset(ip, 0, ihl * 4);
	ip[0] = (uint8_t)(0x40 | ihl);
	put16(ip + 4, (uint16_t)rnd(g));
	ip[8] = 64;
	ip[9] = proto;
	put32(ip + 12, 0x0a000000u | rnd_below(g, 1u << 16));
	put32(ip + 16, 0xc0a80000u | rnd_below(g, 1u << 16));
	for (uint32_t i = 0; i < optwords * 4; i++)
		ip[20 + i] = 1;  /* NOP options */
	end = put_payload(g, f, l4 + put_l4(g, f->b + l4, proto));
	put16(ip + 2, (uint16_t)(end - l3));
	if (proto == 17)
		put16(f->b + l4 + 4, (uint16_t)(end - l4));
	put16(ip + 10, ip_checksum(ip, ihl * 4));
	f->len = end;
}

static void build_ipv6(struct gen *g, struct frame *f, uint8_t nexthdr, uint8_t l4proto, int vlan)
{
	uint32_t l3 = put_eth(g, f, 0x86dd, vlan), l4 = l3 + 40, end;
	uint8_t *ip6 = f->b + l3;

	memset(ip6, 0, 40);
	ip6[0] = 0x60;
	ip6[6] = nexthdr;
	ip6[7] = 64;
	ip6[8] = 0x20;
	ip6[9] = 0x01;
	fill_random(g, ip6 + 10, 6);
	ip6[24] = 0x20;
	ip6[25] = 0x01;
	fill_random(g, ip6 + 26, 14);
	if (nexthdr == 0) {  /* hop-by-hop: next header, length 0, PadN */
		memset(f->b + l4, 0, 8);
		f->b[l4] = l4proto;
		f->b[l4 + 2] = 1;
		f->b[l4 + 3] = 4;
		l4 += 8;
	}
	end = put_payload(g, f, l4 + put_l4(g, f->b + l4, l4proto));
	put16(ip6 + 4, (uint16_t)(end - l3 - 40));
	if (l4proto == 17)
		put16(f->b + l4 + 4, (uint16_t)(end - l4));
	f->len = end;
}

static void build_arp(struct gen *g, struct frame *f, int vlan)
{
	uint32_t l3 = put_eth(g, f, 0x0806, vlan);
	uint8_t *a = f->b + l3;

	memset(f->b, 0xff, 6);  /* requests go to the broadcast address */
	memset(a, 0, 28);
	put16(a, 1);
	put16(a + 2, 0x0800);
	a[4] = 6;
	a[5] = 4;
	put16(a + 6, 1);
	memcpy(a + 8, f->b + 6, 6);
	put32(a + 14, 0x0a000001);
	put32(a + 24, 0x0a000000u | rnd_below(g, 256));
	f->len = l3 + 28;
}

static void build_lldp(struct gen *g, struct frame *f)
{
	uint32_t l3 = put_eth(g, f, 0x88cc, 0);

	fill_random(g, f->b + l3, 32);
	f->len = l3 + 32;
}

enum kind {
	K_V4_TCP, K_V4_UDP, K_V4_ICMP, K_V6_TCP, K_V6_UDP, K_V6_ICMP, K_ARP,
	K_V4_OPTS, K_V4_GRE, K_V4_SCTP, K_V6_HOPOPT, K_V4_OTHER, K_LLDP,
	K_RUNT, K_TRUNC,
};

/* Kind and weight (out of the sum of weights). */
static const struct { enum kind kind; unsigned weight; } kinds[] = {
	{ K_V4_TCP, 30 }, { K_V4_UDP, 20 }, { K_V4_ICMP, 6 },
	{ K_V6_TCP, 10 }, { K_V6_UDP, 8 }, { K_V6_ICMP, 5 },
	{ K_ARP, 4 }, { K_V4_OPTS, 3 }, { K_V4_GRE, 2 }, { K_V4_SCTP, 2 },
	{ K_V6_HOPOPT, 2 }, { K_V4_OTHER, 2 }, { K_LLDP, 1 },
	{ K_RUNT, 1 }, { K_TRUNC, 4 },
};

static enum kind pick_kind(struct gen *g)
{
	unsigned total = 0, r;

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		total += kinds[i].weight;
	r = rnd_below(g, total);
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		if (r < kinds[i].weight)
			return kinds[i].kind;
		r -= kinds[i].weight;
	}
	return K_V4_TCP;
}

static void build_kind(struct gen *g, struct frame *f, enum kind k, int vlan)
{
	static const uint8_t v4_protos[] = { 6, 17, 1 }, v6_protos[] = { 6, 17, 58 };

	switch (k) {
	case K_V4_TCP: case K_V4_UDP: case K_V4_ICMP:
		build_ipv4(g, f, v4_protos[k - K_V4_TCP], vlan, 0);
		break;
	case K_V6_TCP: case K_V6_UDP: case K_V6_ICMP:
		build_ipv6(g, f, v6_protos[k - K_V6_TCP], v6_protos[k - K_V6_TCP], vlan);
		break;
	case K_ARP:       build_arp(g, f, vlan); break;
	case K_V4_OPTS:   build_ipv4(g, f, rnd_below(g, 2) ? 6 : 17, vlan, 1 + rnd_below(g, 10)); break;
	case K_V4_GRE:    build_ipv4(g, f, 47, vlan, 0); break;
	case K_V4_SCTP:   build_ipv4(g, f, 132, vlan, 0); break;
	case K_V6_HOPOPT: build_ipv6(g, f, 0, 17, vlan); break;
	case K_V4_OTHER:  build_ipv4(g, f, (uint8_t)rnd(g), vlan, 0); break;
	case K_LLDP:      build_lldp(g, f); break;
	default:          break;
	}
}

/* -x: L3 offset and EtherType behind any 802.1Q/802.1ad tags, or 0. */
static uint32_t l3_of(const struct frame *f, uint16_t *type)
{
	uint32_t off = 12;

	while (off + 2 <= f->len) {
		uint16_t t = (uint16_t)(f->b[off] << 8 | f->b[off + 1]);

		if (t != 0x8100 && t != 0x88a8) {
			*type = t;
			return off + 2;
		}
		off += 4;
	}
	return 0;
}

/* -x: repeated hosts, chosen ports and TCP flags, fragments of an IPv4 frame. */
static void vary_ipv4(struct gen *g, struct frame *f, uint32_t l3)
{
	static const uint16_t ports[] = { 22, 53, 80, 443, 8080, 123 };
	static const uint8_t flags[] = { 0x02, 0x12, 0x11, 0x04, 0x18, 0x10 };
	uint8_t *ip = f->b + l3;
	uint32_t ihl = (ip[0] & 0xf) * 4u, l4 = l3 + ihl;

	if (l3 + 20 > f->len)
		return;
	if (rnd_below(g, 2)) {
		put32(ip + 12, 0x0a000001u + rnd_below(g, 8));
		put32(ip + 16, 0xc0a80101u + rnd_below(g, 8));
	}
	if ((ip[9] == 6 || ip[9] == 17) && l4 + 4 <= f->len) {
		put16(f->b + l4, (uint16_t)(rnd_below(g, 3) ? 1000 + rnd_below(g, 1001) :
					    ports[rnd_below(g, 6)]));
		put16(f->b + l4 + 2, ports[rnd_below(g, 6)]);
	}
	if (ip[9] == 6 && l4 + 14 <= f->len)
		f->b[l4 + 13] = flags[rnd_below(g, 6)];
	if (rnd_below(g, 16) == 0)
		put16(ip + 6, (uint16_t)(rnd_below(g, 2) ? 0x2000 : 0x2000 | (1 + rnd_below(g, 100))));
	put16(ip + 10, 0);
	put16(ip + 10, ip_checksum(ip, ihl));
}

/* -x: broadcast/multicast destination, a second VLAN tag. */
static void vary_frame(struct gen *g, struct frame *f)
{
	uint16_t type = 0;
	uint32_t l3 = l3_of(f, &type), r = rnd_below(g, 12);

	if (l3 && type == 0x0800)
		vary_ipv4(g, f, l3);
	if (r == 0)
		memset(f->b, 0xff, 6);
	else if (r == 1)
		memcpy(f->b, (const uint8_t[]){ 0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb }, 6);
	else if (r == 2)
		memcpy(f->b, (const uint8_t[]){ 0x33, 0x33, 0x00, 0x00, 0x00, 0x01 }, 6);
	if (rnd_below(g, 8) == 0 && f->len + 4 <= MAX_FRAME && f->len >= 14) {
		int full = f->caplen == f->len;

		memmove(f->b + 16, f->b + 12, f->len - 12);
		put16(f->b + 12, rnd_below(g, 2) ? 0x88a8 : 0x8100);
		put16(f->b + 14, (uint16_t)(1 + rnd_below(g, 4094)));
		if (f->b[16] != 0x81 || f->b[17] != 0x00) {  /* keep it vlan-in-vlan */
			memmove(f->b + 20, f->b + 16, f->len - 12);
			put16(f->b + 16, 0x8100);
			put16(f->b + 18, (uint16_t)(1 + rnd_below(g, 4094)));
			f->len += 4;
		}
		f->len += 4;
		f->caplen = full ? f->len : f->caplen;
	}
}

/* -l LEN: an IPv4/UDP frame of exactly LEN bytes. */
static void build_fixed(struct gen *g, struct frame *f)
{
	uint32_t l3 = put_eth(g, f, 0x0800, 0), l4 = l3 + 20;
	uint8_t *ip = f->b + l3;

	memset(ip, 0, 28);
	ip[0] = 0x45;
	ip[8] = 64;
	ip[9] = 17;
	put32(ip + 12, 0x0a000000u | rnd_below(g, 1u << 16));
	put32(ip + 16, 0xc0a80000u | rnd_below(g, 1u << 16));
	put16(f->b + l4, (uint16_t)(1024 + rnd_below(g, 60000)));
	put16(f->b + l4 + 2, (uint16_t)(rnd_below(g, 2) ? 53 : 80 + rnd_below(g, 2)));
	f->len = f->caplen = g->fixed_len;
	put16(ip + 2, (uint16_t)(f->len - l3));
	put16(f->b + l4 + 4, (uint16_t)(f->len - l4));
	put16(ip + 10, ip_checksum(ip, 20));
}

/* One frame: a kind from the table; runts and cut captures on top. */
static void build_frame(struct gen *g, struct frame *f)
{
	enum kind k;
	int vlan;

	if (g->fixed_len) {
		build_fixed(g, f);
		return;
	}
	k = pick_kind(g);
	vlan = rnd_below(g, 4) == 0;
	if (k == K_RUNT) {
		f->len = 1 + rnd_below(g, 13);
		fill_random(g, f->b, f->len);
		f->caplen = f->len;
		return;
	}
	if (k == K_TRUNC) {
		/* a normal IP frame whose capture stops inside the headers */
		build_kind(g, f, (enum kind)(K_V4_TCP + rnd_below(g, 6)), vlan);
		f->caplen = 1 + rnd_below(g, 14 + 4 * vlan + 44);
		if (f->caplen > f->len)
			f->caplen = f->len;
		if (g->extended)
			vary_frame(g, f);
		return;
	}
	build_kind(g, f, k, vlan);
	f->caplen = f->len;
	if (g->extended)
		vary_frame(g, f);
}

static int write_le32(FILE *out, uint32_t v)
{
	uint8_t b[4] = { v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, v >> 24 };

	return fwrite(b, 1, 4, out) == 4 ? 0 : -EIO;
}

static int write_header(FILE *out)
{
	int err = write_le32(out, 0xa1b2c3d4);

	err = err ? err : write_le32(out, 2 | (4u << 16));  /* version 2.4 */
	err = err ? err : write_le32(out, 0);               /* thiszone */
	err = err ? err : write_le32(out, 0);               /* sigfigs */
	err = err ? err : write_le32(out, 65535);           /* snaplen */
	return err ? err : write_le32(out, 1);              /* LINKTYPE_ETHERNET */
}

static int write_frame(FILE *out, const struct frame *f, uint32_t i)
{
	int err = write_le32(out, 1700000000u + i / 1000);

	err = err ? err : write_le32(out, (i % 1000) * 1000);
	err = err ? err : write_le32(out, f->caplen);
	err = err ? err : write_le32(out, f->len);
	if (!err && fwrite(f->b, 1, f->caplen, out) != f->caplen)
		err = -EIO;
	return err;
}

static void usage(FILE *out)
{
	fprintf(out, "usage: sl-pcapgen [-n COUNT] [-s SEED] [-p MAXPAYLOAD] [-x] [-l LEN] -o FILE\n"
		"  writes COUNT (default 1000) mixed Ethernet frames, the same for the same SEED\n"
		"  -x  extended mix (hosts, ports, TCP flags, fragments, multicast, vlan-in-vlan)\n"
		"  -l  every frame IPv4/UDP of exactly LEN bytes (60..1500)\n");
}

static int parse_u32(const char *s, const char *what, uint32_t *v)
{
	char *end;
	unsigned long long x;

	errno = 0;
	x = strtoull(s, &end, 0);
	if (errno || *end || end == s || x > UINT32_MAX) {
		fprintf(stderr, "sl-pcapgen: bad %s '%s'\n", what, s);
		return -EINVAL;
	}
	*v = (uint32_t)x;
	return 0;
}

int main(int argc, char **argv)
{
	uint32_t count = 1000, seed = 1;
	struct gen g = { .max_payload = 256 };
	const char *path = NULL;
	static struct frame f;
	FILE *out;
	int c, err;

	while ((c = getopt(argc, argv, "n:s:p:o:l:xh")) != -1) {
		if ((c == 'n' && parse_u32(optarg, "count", &count)) ||
		    (c == 's' && parse_u32(optarg, "seed", &seed)) ||
		    (c == 'p' && parse_u32(optarg, "max payload", &g.max_payload)) ||
		    (c == 'l' && parse_u32(optarg, "length", &g.fixed_len)))
			return 1;
		if (c == 'l' && (g.fixed_len < 60 || g.fixed_len > 1500)) {
			fprintf(stderr, "sl-pcapgen: bad length '%s' (60..1500)\n", optarg);
			return 1;
		}
		if (c == 'x')
			g.extended = 1;
		if (c == 'o')
			path = optarg;
		if (c == 'h') {
			usage(stdout);
			return 0;
		}
		if (c == '?') {
			usage(stderr);
			return 1;
		}
	}
	if (!path || optind != argc) {
		usage(stderr);
		return 1;
	}
	g.rng = 0x9E3779B97F4A7C15ULL ^ ((uint64_t)seed << 1 | 1);
	out = fopen(path, "wb");
	if (!out) {
		fprintf(stderr, "sl-pcapgen: %s: %s\n", path, strerror(errno));
		return 1;
	}
	err = write_header(out);
	for (uint32_t i = 0; i < count && !err; i++) {
		memset(&f, 0, sizeof(f));
		build_frame(&g, &f);
		err = write_frame(out, &f, i);
	}
	if (fclose(out) || err) {
		fprintf(stderr, "sl-pcapgen: %s: write failed\n", path);
		return 1;
	}
	return 0;
}
