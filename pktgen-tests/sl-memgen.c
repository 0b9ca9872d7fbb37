/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl-memgen: a DPDK traffic generator and receiver on one port (a net_memif
 * client joined to the engine under test, which sends every packet back).
 *
 * One lcore loops: send a burst (paced when --rate is given), receive a
 * burst. Every frame carries, right after its L4 header, a 16-byte stamp:
 * an 8-byte magic and the TSC at transmission. The receiver looks for the
 * stamp at the offsets where the generated header stacks put it (and 20
 * bytes further, for an engine that encapsulates IPv4-in-IPv4), so frames
 * that come back changed still give a latency sample; a frame cut before
 * its stamp counts as received, without a sample. Latencies are kept for
 * every Nth packet (N chosen so at most 1M samples) and reported as
 * percentiles.
 *
 * Frames: --size is the Ethernet frame size with its 4-byte FCS (64..1518),
 * so the buffer is size - 4 bytes; a header stack plus stamp that does not
 * fit (TCP, IPv6 at 64 bytes) makes that frame longer. --flows distinct
 * 5-tuples (source address and port vary). --mix: udp (IPv4 UDP), tcp
 * (IPv4 TCP), v6 (IPv6 UDP), or mix (40% IPv4 TCP, 40% IPv4 UDP, 10% IPv6
 * UDP, 10% IPv4 ICMP).
 *
 * Output: key=value lines (tx, rx, tx_full (bursts the port did not take
 * whole), seconds, mpps, gbps_l1, stamped,
 * p50_ns, p99_ns, p999_ns); --cdf FILE writes 1000 quantiles of the latency.
 * Errors: one line, exit 1.
 *
 * --hold: after the report, stop polling and keep the link up until a line
 * (or EOF) on stdin. DPDK 22.11's memif PMD crashes a process whose rx_burst
 * runs while the peer disconnects (the control thread unmaps the rings
 * under it), so the harness stops the engine first, while this side is idle.
 *
 * usage: sl-memgen --size N [--flows N] [--mix M] [--duration S] [--rate PPS]
 *                  [--cdf FILE] [--hold] -- EAL args (with the --vdev of port 0)
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#define BURST 32
#define MAX_FRAME 1600
#define MAX_SAMPLES (1u << 20)
#define STAMP_MAGIC 0x736c7569636553ULL  /* "SeciulS" */
#define NKINDS 4

enum kind { K_UDP4, K_TCP4, K_UDP6, K_ICMP4 };

static const uint16_t hdr_len[NKINDS] = { 42, 54, 62, 42 };

struct gen_opts {
	unsigned size, flows;
	const char *mix, *cdf;
	double duration, rate;
	int hold;
};

struct gen {
	struct gen_opts o;
	struct rte_mempool *pool;
	uint8_t tmpl[NKINDS][MAX_FRAME];
	uint16_t len[NKINDS];
	uint8_t kinds[10];       /* the mix, one kind per tenth */
	uint64_t tx, rx, tx_full, stamped, seq;
	struct rte_mbuf *pending[BURST];  /* built, not yet taken by the port */
	unsigned npending;
	uint64_t *samples;
	uint32_t nsamples, sample_every;
};

static volatile int stop;

static void on_signal(int sig) { (void)sig; stop = 1; }

static void put16(uint8_t *p, uint16_t v) { p[0] = v >> 8; p[1] = v & 0xff; }

static uint16_t csum(const uint8_t *p, unsigned n)
{
	uint32_t s = 0;

	for (unsigned i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* One template frame of @k, @len bytes (zero payload). */
static void build(uint8_t *f, enum kind k, unsigned len)
{
	static const uint8_t dst[6] = { 2, 0, 0, 0, 0, 2 }, src[6] = { 2, 0, 0, 0, 0, 1 };
	uint8_t *l3 = f + 14, *l4;

	memset(f, 0, len);
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	if (k == K_UDP6) {
		put16(f + 12, 0x86dd);
		l3[0] = 0x60;
		put16(l3 + 4, (uint16_t)(len - 54));
		l3[6] = 17;
		l3[7] = 64;
		l3[8] = 0x20; l3[9] = 0x01; l3[10] = 0x0d; l3[11] = 0xb8;  /* 2001:db8:: */
		l3[24] = 0x20; l3[25] = 0x01; l3[26] = 0x0d; l3[27] = 0xb8; l3[39] = 1;
		l4 = l3 + 40;
	} else {
		put16(f + 12, 0x0800);
		l3[0] = 0x45;
		put16(l3 + 2, (uint16_t)(len - 14));
		l3[8] = 64;
		l3[9] = k == K_TCP4 ? 6 : k == K_UDP4 ? 17 : 1;
		l3[12] = 10; l3[13] = 0;               /* 10.0.x.y */
		l3[16] = 10; l3[17] = 9; l3[18] = 9; l3[19] = 9;
		l4 = l3 + 20;
	}
	if (k == K_ICMP4) {
		l4[0] = 8;
		return;
	}
	put16(l4, 1024);
	put16(l4 + 2, 80);
	if (k == K_TCP4) {
		l4[12] = 0x50;
		l4[13] = 0x10;
	} else {
		put16(l4 + 4, (uint16_t)(len - (l4 - f)));
	}
}

/* Source address and port of flow @i; IPv4 header checksum. */
static void set_flow(uint8_t *f, enum kind k, uint32_t i)
{
	uint8_t *l3 = f + 14;

	if (k == K_UDP6) {
		l3[22] = (uint8_t)(i >> 8);
		l3[23] = (uint8_t)i;
		put16(l3 + 40, (uint16_t)(1024 + (i >> 16)));
		return;
	}
	l3[14] = (uint8_t)(i >> 8);
	l3[15] = (uint8_t)i;
	if (k != K_ICMP4)
		put16(l3 + 20, (uint16_t)(1024 + (i >> 16)));
	put16(l3 + 10, 0);
	put16(l3 + 10, csum(l3, 20));
}

static int set_mix(struct gen *g)
{
	static const struct { const char *name; uint8_t k[10]; } mixes[] = {
		{ "udp", { K_UDP4, K_UDP4, K_UDP4, K_UDP4, K_UDP4, K_UDP4, K_UDP4, K_UDP4, K_UDP4, K_UDP4 } },
		{ "tcp", { K_TCP4, K_TCP4, K_TCP4, K_TCP4, K_TCP4, K_TCP4, K_TCP4, K_TCP4, K_TCP4, K_TCP4 } },
		{ "v6", { K_UDP6, K_UDP6, K_UDP6, K_UDP6, K_UDP6, K_UDP6, K_UDP6, K_UDP6, K_UDP6, K_UDP6 } },
		{ "mix", { K_TCP4, K_UDP4, K_TCP4, K_UDP4, K_UDP6, K_TCP4, K_UDP4, K_TCP4, K_UDP4, K_ICMP4 } },
	};

	for (unsigned i = 0; i < sizeof(mixes) / sizeof(mixes[0]); i++)
		if (!strcmp(g->o.mix, mixes[i].name)) {
			memcpy(g->kinds, mixes[i].k, sizeof(g->kinds));
			return 0;
		}
	fprintf(stderr, "sl-memgen: --mix: want udp, tcp, v6 or mix, not '%s'\n", g->o.mix);
	return -EINVAL;
}

static void templates(struct gen *g)
{
	for (unsigned k = 0; k < NKINDS; k++) {
		unsigned len = g->o.size - 4;

		if (len < hdr_len[k] + 16u)
			len = hdr_len[k] + 16u;
		g->len[k] = (uint16_t)len;
		build(g->tmpl[k], (enum kind)k, len);
	}
}

/* Fill @m with the next frame, stamped with @tsc. */
static void make_frame(struct gen *g, struct rte_mbuf *m, uint64_t tsc)
{
	enum kind k = (enum kind)g->kinds[g->seq % 10];
	uint8_t *p = rte_pktmbuf_mtod(m, uint8_t *);
	uint64_t magic = STAMP_MAGIC;

	memcpy(p, g->tmpl[k], g->len[k]);
	set_flow(p, k, (uint32_t)(g->seq % g->o.flows));
	memcpy(p + hdr_len[k], &magic, 8);
	memcpy(p + hdr_len[k] + 8, &tsc, 8);
	m->data_len = m->pkt_len = g->len[k];
	g->seq++;
}

/* The stamp's TSC in @m, or 0 if there is none. */
static uint64_t find_stamp(const struct rte_mbuf *m)
{
	/* IPv4 UDP/ICMP; IPv4 TCP; IPv6 UDP or IPv4 UDP + 20 (IPIP); IPv4 TCP + 20 */
	static const uint16_t offs[] = { 42, 54, 62, 74 };
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);
	uint64_t magic, tsc;

	for (unsigned i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
		if ((uint32_t)offs[i] + 16 > m->data_len)
			break;
		memcpy(&magic, p + offs[i], 8);
		if (magic == STAMP_MAGIC) {
			memcpy(&tsc, p + offs[i] + 8, 8);
			return tsc;
		}
	}
	return 0;
}

static void receive(struct gen *g, uint16_t port)
{
	struct rte_mbuf *m[BURST];
	uint16_t n = rte_eth_rx_burst(port, 0, m, BURST);
	uint64_t now = rte_rdtsc();

	for (uint16_t i = 0; i < n; i++) {
		uint64_t t = find_stamp(m[i]);

		if (t && t <= now) {
			if (g->stamped++ % g->sample_every == 0 && g->nsamples < MAX_SAMPLES)
				g->samples[g->nsamples++] = now - t;
		}
		rte_pktmbuf_free(m[i]);
	}
	g->rx += n;
}

/*
 * Top the pending burst up to @n frames and offer it to the port; what the
 * port refuses (ring full) stays pending for the next call, so a full ring
 * costs no frame building.
 */
static void transmit(struct gen *g, uint16_t port, unsigned n)
{
	uint64_t tsc = rte_rdtsc();
	uint16_t sent;

	if (n > g->npending && !rte_pktmbuf_alloc_bulk(g->pool, g->pending + g->npending,
						       n - g->npending)) {
		for (unsigned i = g->npending; i < n; i++)
			make_frame(g, g->pending[i], tsc);
		g->npending = n;
	}
	if (!g->npending)
		return;
	sent = rte_eth_tx_burst(port, 0, g->pending, (uint16_t)g->npending);
	g->tx += sent;
	if (sent < g->npending) {
		g->tx_full++;
		memmove(g->pending, g->pending + sent, (g->npending - sent) * sizeof(g->pending[0]));
	}
	g->npending -= sent;
}

/* Send for --duration seconds, then receive what is still coming back. */
static double run(struct gen *g, uint16_t port)
{
	uint64_t hz = rte_get_tsc_hz(), start = rte_rdtsc();
	uint64_t end = start + (uint64_t)(g->o.duration * (double)hz), now, quiet;
	double per_pkt = g->o.rate > 0 ? (double)hz / g->o.rate : 0;

	while (!stop && (now = rte_rdtsc()) < end) {
		unsigned n = BURST;

		if (per_pkt > 0) {
			uint64_t due = (uint64_t)((double)(now - start) / per_pkt) + 1;

			n = due > g->tx ? (unsigned)RTE_MIN(due - g->tx, (uint64_t)BURST) : 0;
		}
		if (n || g->npending)
			transmit(g, port, RTE_MAX(n, g->npending));
		receive(g, port);
	}
	rte_pktmbuf_free_bulk(g->pending, g->npending);
	g->npending = 0;
	now = rte_rdtsc();
	quiet = now;
	while (!stop && rte_rdtsc() - quiet < hz / 5 && rte_rdtsc() - now < 2 * hz) {
		uint64_t before = g->rx;

		receive(g, port);
		if (g->rx != before)
			quiet = rte_rdtsc();
	}
	return (double)(now - start) / (double)hz;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static double pct_ns(const struct gen *g, double q)
{
	if (!g->nsamples)
		return 0;
	size_t i = (size_t)(q * (double)(g->nsamples - 1));
	return (double)g->samples[i] * 1e9 / (double)rte_get_tsc_hz();
}

static void report(struct gen *g, double secs)
{
	double avg_len = 0;

	for (unsigned i = 0; i < 10; i++)
		avg_len += g->len[g->kinds[i]] / 10.0;
	qsort(g->samples, g->nsamples, sizeof(g->samples[0]), cmp_u64);
	printf("tx=%" PRIu64 "\nrx=%" PRIu64 "\ntx_full=%" PRIu64 "\nseconds=%.4f\n",
	       g->tx, g->rx, g->tx_full, secs);
	printf("mpps=%.4f\ngbps_l1=%.4f\nframe_bytes=%.1f\n", (double)g->rx / secs / 1e6,
	       (double)g->rx * (avg_len + 4 + 20) * 8 / secs / 1e9, avg_len + 4);
	printf("stamped=%" PRIu64 "\nsamples=%u\np50_ns=%.0f\np99_ns=%.0f\np999_ns=%.0f\n",
	       g->stamped, g->nsamples, pct_ns(g, 0.5), pct_ns(g, 0.99), pct_ns(g, 0.999));
	if (g->o.cdf) {
		FILE *f = fopen(g->o.cdf, "w");

		if (!f) {
			fprintf(stderr, "sl-memgen: --cdf %s: %s\n", g->o.cdf, strerror(errno));
			return;
		}
		for (unsigned i = 0; i <= 1000 && g->nsamples; i++)
			fprintf(f, "%.4f %.0f\n", i / 1000.0, pct_ns(g, i / 1000.0));
		fclose(f);
	}
}

static int parse_num(const char *opt, const char *s, double lo, double hi, double *v)
{
	char *end;

	errno = 0;
	*v = strtod(s, &end);
	if (errno || end == s || *end || *v < lo || *v > hi) {
		fprintf(stderr, "sl-memgen: %s: want a number in %g..%g, not '%s'\n", opt, lo, hi, s);
		return -EINVAL;
	}
	return 0;
}

static int parse_args(struct gen_opts *o, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "size", required_argument, NULL, 's' }, { "flows", required_argument, NULL, 'f' },
		{ "mix", required_argument, NULL, 'm' }, { "duration", required_argument, NULL, 'd' },
		{ "rate", required_argument, NULL, 'r' }, { "cdf", required_argument, NULL, 'c' },
		{ "hold", no_argument, NULL, 'H' },
		{ NULL, 0, NULL, 0 },
	};
	double v;
	int c, err = 0;

	*o = (struct gen_opts){ .size = 64, .flows = 1, .mix = "udp", .duration = 2 };
	opterr = 0;
	while (!err && (c = getopt_long(argc, argv, "+", lo, NULL)) != -1) {
		switch (c) {
		case 's': err = parse_num("--size", optarg, 64, 1518, &v); o->size = (unsigned)v; break;
		case 'f': err = parse_num("--flows", optarg, 1, 1 << 24, &v); o->flows = (unsigned)v; break;
		case 'm': o->mix = optarg; break;
		case 'd': err = parse_num("--duration", optarg, 0.1, 3600, &o->duration); break;
		case 'r': err = parse_num("--rate", optarg, 0, 1e9, &o->rate); break;
		case 'c': o->cdf = optarg; break;
		case 'H': o->hold = 1; break;
		default:
			fprintf(stderr, "sl-memgen: bad option (see the comment at the top of sl-memgen.c)\n");
			return -EINVAL;
		}
	}
	return err;
}

/* Start port 0 (the memif client retries until the engine listens), wait for link. */
static int port_up(struct gen *g, uint16_t port)
{
	struct rte_eth_conf conf = { 0 };
	struct rte_eth_link link;
	int err = rte_eth_dev_configure(port, 1, 1, &conf);

	err = err ? err : rte_eth_rx_queue_setup(port, 0, 1024, 0, NULL, g->pool);
	err = err ? err : rte_eth_tx_queue_setup(port, 0, 1024, 0, NULL);
	for (int i = 0; !err && i < 100; i++) {
		if (!(err = rte_eth_dev_start(port)))
			break;
		err = 0;
		usleep(100000);
		if (i == 99)
			err = -ENOTCONN;
	}
	for (int i = 0; !err && i < 200; i++) {
		rte_eth_link_get_nowait(port, &link);
		if (link.link_status) {
			/* The server side finishes connecting its queues after our
			 * link is up; frames sent before that are lost. */
			usleep(500000);
			return 0;
		}
		usleep(50000);
	}
	fprintf(stderr, "sl-memgen: port 0: %s\n", err ? rte_strerror(-err) : "link never came up");
	return err ? err : -ETIMEDOUT;
}

int main(int argc, char **argv)
{
	static struct gen g;
	int n = rte_eal_init(argc, argv);
	double secs;

	if (n < 0) {
		fprintf(stderr, "sl-memgen: EAL: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	if (parse_args(&g.o, argc - n, argv + n) || set_mix(&g))
		return 1;
	if (rte_eth_dev_count_avail() < 1) {
		fprintf(stderr, "sl-memgen: no port (give --vdev net_memif0,role=client,socket=...)\n");
		return 1;
	}
	g.pool = rte_pktmbuf_pool_create("gen", 16383, 256, 0, 2048 + RTE_PKTMBUF_HEADROOM,
					 (int)rte_socket_id());
	g.samples = malloc(sizeof(uint64_t) * MAX_SAMPLES);
	if (!g.pool || !g.samples) {
		fprintf(stderr, "sl-memgen: out of memory\n");
		return 1;
	}
	g.sample_every = 1;
	if (g.o.rate > 0 && g.o.rate * g.o.duration > MAX_SAMPLES)
		g.sample_every = (uint32_t)(g.o.rate * g.o.duration / MAX_SAMPLES) + 1;
	else if (g.o.rate == 0)
		g.sample_every = 64;
	templates(&g);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if (port_up(&g, 0))
		return 1;
	secs = run(&g, 0);
	report(&g, secs);
	if (g.o.hold) {  /* the peer goes first: see the comment at the top */
		char line[16];

		printf("holding\n");
		fflush(stdout);
		if (!fgets(line, sizeof(line), stdin))
			line[0] = '\0';
	}
	rte_eth_dev_stop(0);
	rte_eth_dev_close(0);
	rte_eal_cleanup();
	return 0;
}
