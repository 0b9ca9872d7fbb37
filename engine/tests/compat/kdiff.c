/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * compat_kdiff: differential test of whole eBPF objects, sluice against the
 * Linux kernel as the oracle.
 *
 * For every XDP and socket-filter program of every object given:
 *   1. verdicts: the kernel's verifier (libbpf load of that one program)
 *      and sluice's (sl_prog_verify) must agree on accept / reject; the
 *      kernel's verified_insns and sluice's processed count are printed.
 *      A sluice rejection listed in the known-gaps file (--known) is
 *      reported, not failed.
 *   2. runs: every packet of the corpus goes through the kernel's
 *      BPF_PROG_TEST_RUN, sluice's interpreter and sluice's JIT, each
 *      with its own maps (so map state evolves the same way in all three);
 *      XDP: r0 and the output packet (from data_meta, as the kernel's test
 *      run returns it) must be identical; socket filters:
 *      r0 (the kernel's test run gives a socket filter the packet from the
 *      network header on, so sluice gets the same view here: the bytes
 *      after the Ethernet header, len and protocol set accordingly).
 *   3. maps: after the corpus, every entry of every map must be equal
 *      (per-CPU maps: the test pins itself to CPU 0, where the kernel's
 *      test runs then execute, so CPU 0's slot against sluice's slot 0);
 *      maps whose name starts with "nd_" hold time stamps and are
 *      compared by key only.
 *   4. CLI: the first packet also goes through `sluice test-run --prog`
 *      (--interp and --jit; fresh maps, as the kernel's first run) for
 *      XDP programs: printed r0 and packet must equal the kernel's.
 *
 * Corpus: the packets of the pcaps given (--pcap, at most --max-pcap from
 * each), mutations of them (bytes flipped, truncated) and random frames,
 * from a printed seed.
 *
 *   5. speed (--bench N, for make bench): every XDP program's ns per
 *      packet in the kernel's BPF_PROG_TEST_RUN (N repeats a packet, minus
 *      the test run's own cost measured on an XDP_PASS program) beside
 *      sluice's JIT on the same packets, run as the kernel's test run runs
 *      them (one context per packet, N runs on it, each seeing what the
 *      one before left); the end states (r0, packet) must equal the
 *      kernel's after the N runs. The corpus is timed --bench-rounds R
 *      times (default 3), harness and program alternating on both sides;
 *      per packet the interquartile mean of its R batches, averaged over
 *      the packets, and the quartiles of the R rounds' figures (the
 *      spread). Times are printed, never checked: the machine is shared.
 *
 * usage: compat_kdiff [--sluice PATH] [--seed N] [--random N] [--max-pcap N]
 *          [--pcap FILE]... [--known FILE] [--map NAME=KEYHEX:VALHEX]...
 *          [--bench N [--bench-rounds R]] OBJ...
 * Exit 0 all agree, 1 mismatch, 77 the kernel refuses BPF (no privileges).
 */
#include <errno.h>
#include <sched.h>
#include <inttypes.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "sl_maps.h"
#include "sl_test_bpf.h"

#define MAX_PKT 1600
#define MAX_PKTS 4096
#define MAX_ARGS 64
#define HEADROOM 256   /* as sluice test-run and the kernel's XDP_PACKET_HEADROOM */
#define TAILROOM 256
#define CLI_PKTS 12    /* packets through sluice test-run for objects without maps */

struct pkt {
	uint32_t len;
	uint8_t b[MAX_PKT];
};

struct map_init {
	char name[64];
	uint8_t key[64], val[256];
	uint32_t klen, vlen;
};

struct opts {
	const char *sluice, *known;
	const char *pcaps[MAX_ARGS];
	unsigned npcaps, nrandom, max_pcap;
	uint64_t seed;
	struct map_init inits[MAX_ARGS];
	unsigned ninits;
	const char *objs[MAX_ARGS];
	unsigned nobjs;
	unsigned bench;   /* --bench N: time N runs of each packet, kernel and sluice JIT */
	unsigned rounds;  /* --bench-rounds R: that many times over the corpus (default 3) */
};

struct corpus {
	struct pkt *p;
	unsigned n;
};

static unsigned mismatches, progs_run, pkts_run;

/* ---- corpus ---- */

static void corpus_add(struct corpus *c, const uint8_t *b, uint32_t len)
{
	if (c->n == MAX_PKTS || len < 14 || len > MAX_PKT)
		return;  /* the kernel's XDP test run needs an Ethernet header */
	c->p[c->n].len = len;
	memcpy(c->p[c->n].b, b, len);
	c->n++;
}

/*
 * Hand-made frames first in the corpus (so the CLI check sees them too):
 * Ethernet only, short UDP (tail growth), TCP SYN, 802.1Q UDP, TCP SYNs
 * with options, long ICMP.
 */
static void corpus_edges(struct corpus *c)
{
	static const uint8_t eth[14] = { 2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00 };
	static const uint8_t ip_udp[28] = { 0x45, 0, 0, 28, 0, 1, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1,
					    192, 168, 0, 1, 0x03, 0xe8, 0, 53, 0, 8, 0, 0 };
	static const uint8_t ip_syn[40] = { 0x45, 0, 0, 40, 0, 2, 0x40, 0, 64, 6, 0, 0, 10, 0, 0, 2,
					    192, 168, 0, 2, 0x9c, 0x40, 0, 80, 0, 0, 0, 1, 0, 0, 0, 0,
					    0x50, 0x02, 0x20, 0, 0, 0, 0, 0 };
	static const uint8_t ip_icmp[28] = { 0x45, 0, 0x05, 0xdc, 0, 3, 0, 0, 64, 1, 0, 0, 10, 0, 0, 3,
					     192, 168, 0, 3, 8, 0, 0, 0, 0, 1, 0, 1 };
	uint8_t b[1514] = { 0 };

	memcpy(b, eth, 14);
	corpus_add(c, b, 14);
	memcpy(b + 14, ip_udp, sizeof(ip_udp));
	corpus_add(c, b, 42);
	memcpy(b + 14, ip_syn, sizeof(ip_syn));
	corpus_add(c, b, 60);
	b[12] = 0x81, b[13] = 0x00, b[14] = 0x00, b[15] = 0x64, b[16] = 0x08, b[17] = 0x00;
	memcpy(b + 18, ip_udp, sizeof(ip_udp));
	corpus_add(c, b, 60);
	/* TCP SYNs with options: MSS 1460, NOP, wscale 7, SACK-permitted,
	 * timestamps; one with a malformed length; one with NOP padding */
	static const uint8_t opts[3][20] = {
		{ 2, 4, 5, 0xb4, 1, 3, 3, 7, 4, 2, 8, 10, 1, 2, 3, 4, 5, 6, 7, 8 },
		{ 2, 4, 5, 0xb4, 3, 1, 0 },
		{ 1, 1, 1, 1, 2, 4, 0x20, 0, 0 },
	};
	memcpy(b, eth, 14);
	for (int k = 0; k < 3; k++) {
		memcpy(b + 14, ip_syn, sizeof(ip_syn));
		b[14 + 3] = 60;           /* IPv4 total length */
		b[14 + 32] = 10 << 4;     /* TCP data offset: 40 bytes */
		memcpy(b + 54, opts[k], 20);
		corpus_add(c, b, 74);
	}
	memset(b + 14, 0xa5, sizeof(b) - 14);
	memcpy(b + 14, ip_icmp, sizeof(ip_icmp));
	corpus_add(c, b, 1514);
}

/* The first @p max packets of a capture (longer than MAX_PKT: left out by corpus_add). */
static int corpus_pcap(struct corpus *c, const char *path, unsigned max)
{
	unsigned n;
	struct sl_test_pkt *p = sl_test_pcap_read(path, max, &n);

	if (!p)
		return fprintf(stderr, "compat_kdiff: %s: not a readable pcap file\n", path), -1;
	for (unsigned i = 0; i < n; i++)
		corpus_add(c, p[i].data, p[i].len);
	free(p);
	return 0;
}

static void corpus_mutate(struct corpus *c, unsigned count, struct sl_rng *s)
{
	static const uint16_t types[] = { 0x0800, 0x86dd, 0x8100, 0x88a8, 0x0806, 0x88cc };
	unsigned base = c->n;

	for (unsigned i = 0; i < count; i++) {
		struct pkt q;

		if (base && i % 3) {  /* a real packet, bytes flipped or cut */
			q = c->p[sl_rng_u64(s) % base];
			for (unsigned k = 0, m = 1 + sl_rng_u64(s) % 4; k < m; k++)
				q.b[sl_rng_u64(s) % (q.len < 80 ? q.len : 80)] ^= (uint8_t)(1 + sl_rng_u64(s) % 255);
			if (sl_rng_u64(s) % 3 == 0)
				q.len = 14 + (uint32_t)(sl_rng_u64(s) % (q.len - 13));
		} else {      /* random bytes behind a likely EtherType */
			q.len = 14 + (uint32_t)(sl_rng_u64(s) % 180);
			for (unsigned k = 0; k < q.len; k++)
				q.b[k] = (uint8_t)sl_rng_u64(s);
			q.b[12] = types[sl_rng_u64(s) % 6] >> 8;
			q.b[13] = types[sl_rng_u64(s) % 6] & 0xff;
			if (sl_rng_u64(s) % 2)
				q.b[14] = sl_rng_u64(s) % 2 ? 0x45 : 0x60;
		}
		corpus_add(c, q.b, q.len);
	}
}

/* ---- one side: the kernel ---- */

struct kside {
	struct bpf_object *obj;
	struct bpf_program *prog;
	int fd;
	uint32_t verified_insns;
	char err[256];
	char log[1 << 20];  /* verifier log; its last lines say why it rejected */
};

static int kernel_load(struct kside *k, const char *path, const char *name, int *eperm)
{
	struct bpf_program *p;
	struct bpf_map *m;
	struct bpf_prog_info info = { 0 };
	uint32_t ilen = sizeof(info);
	int err;

	k->obj = bpf_object__open_file(path, NULL);
	if (!k->obj)
		return snprintf(k->err, sizeof(k->err), "open: %s", strerror(errno)), -1;
	bpf_object__for_each_program(p, k->obj) {
		bool me = !strcmp(bpf_program__name(p), name);

		bpf_program__set_autoload(p, me);
		if (me) {
			k->prog = p;
			bpf_program__set_log_buf(p, k->log, sizeof(k->log));
			if (getenv("KDIFF_KERNEL_LOG"))  /* debugging: full log to stderr */
				bpf_program__set_log_level(p, 1);
		}
	}
	bpf_object__for_each_map(m, k->obj)
		bpf_map__set_pin_path(m, NULL);  /* never pin (xdp-tools maps ask to) */
	err = bpf_object__load(k->obj);
	if (err) {
		size_t n = strlen(k->log);
		char *last;

		while (n && k->log[n - 1] == '\n')
			k->log[--n] = 0;
		/* skip the "processed N insns" summary and take the line before it */
		last = strrchr(k->log, '\n');
		if (last && strstr(last, "processed")) {
			*last = 0;
			last = strrchr(k->log, '\n');
		}
		*eperm = err == -EPERM;
		snprintf(k->err, sizeof(k->err), "%s: %.200s", strerror(-err), last ? last + 1 : k->log);
		return -1;
	}
	if (getenv("KDIFF_KERNEL_LOG"))
		fprintf(stderr, "%s\n", k->log);
	k->fd = bpf_program__fd(k->prog);
	if (!bpf_obj_get_info_by_fd(k->fd, &info, &ilen))
		k->verified_insns = info.verified_insns;
	return 0;
}

/* ---- one side: sluice (interpreter or JIT) ---- */

/* sluice's side is a struct sl_test_prog (tests/common): JIT code when compiled. */
static uint64_t sluice_exec(struct sl_test_prog *s, void *ctx)
{
	return sl_test_prog_exec(s, ctx, s->jit != NULL);
}

/* XDP run as sluice test-run lays it out: headroom, packet, tailroom. */
static uint32_t sluice_xdp(struct sl_test_prog *s, const struct pkt *in, struct pkt *out,
			   uint32_t *metalen)
{
	static uint8_t buf[HEADROOM + MAX_PKT + TAILROOM];
	struct sl_xdp_ctx x;
	uint64_t r0;

	sl_test_xdp_frame(&x, buf, HEADROOM, in->b, in->len, TAILROOM, true, 1);
	r0 = sluice_exec(s, &x);
	/* the kernel's test run returns the packet from data_meta on */
	*metalen = (uint32_t)((uint8_t *)x.data - (uint8_t *)x.data_meta);
	out->len = (uint32_t)((uint8_t *)x.data_end - (uint8_t *)x.data_meta);
	memcpy(out->b, x.data_meta, out->len);
	return (uint32_t)r0;
}

/* skb->protocol as the kernel's eth_type_trans() sets it (network order). */
static uint32_t eth_protocol(const uint8_t *b, uint32_t len)
{
	uint16_t t = (uint16_t)(b[12] << 8 | b[13]);

	if (t >= 0x600)
		return htons(t);
	/* 802.3 length field: raw IPX (0xffff) or 802.2 LLC */
	return htons(len >= 16 && b[14] == 0xff && b[15] == 0xff ? 0x0001 : 0x0004);
}

/* Socket filter with the kernel test run's view: from the network header. */
static uint32_t sluice_skb(struct sl_test_prog *s, const struct pkt *in)
{
	struct sl_skb_ctx c = { 0 };

	c.pkt = in->b + 14;
	c.pkt_len = in->len - 14;
	c.skb.len = in->len - 14;
	c.skb.protocol = eth_protocol(in->b, in->len);
	c.skb.ifindex = 1;
	return (uint32_t)sluice_exec(s, &c);
}

/* ---- comparing ---- */

static void hex(const char *what, const uint8_t *b, uint32_t n)
{
	fprintf(stderr, "    %s (%u):", what, n);
	for (uint32_t i = 0; i < n && i < 96; i++)
		fprintf(stderr, "%s%02x", i % 16 ? "" : " ", b[i]);
	fprintf(stderr, "%s\n", n > 96 ? " ..." : "");
}

static int report(const char *tag, unsigned idx, const struct pkt *in, uint32_t kr0,
		  const struct pkt *kout, uint32_t sr0, const struct pkt *sout)
{
	if (kr0 == sr0 && (!kout || (kout->len == sout->len && !memcmp(kout->b, sout->b, kout->len))))
		return 0;
	if (++mismatches <= 20) {
		fprintf(stderr, "  MISMATCH %s packet %u: r0 %u, kernel %u\n", tag, idx, sr0, kr0);
		hex("in    ", in->b, in->len);
		if (kout) {
			hex("kernel", kout->b, kout->len);
			hex("sluice", sout->b, sout->len);
		}
	}
	return 1;
}

static int kernel_run(struct kside *k, bool xdp, const struct pkt *in, struct pkt *out,
		      uint32_t *r0)
{
	uint32_t olen = MAX_PKT;
	int err = sl_test_kernel_run(k->fd, in->b, in->len, out->b, &olen, r0);

	out->len = xdp ? olen : 0;
	return err;
}

/* ---- maps: initial entries, final comparison ---- */

static struct bpf_map *kernel_map(struct bpf_object *obj, const char *name)
{
	struct bpf_map *m;
	size_t n = strlen(name);

	bpf_object__for_each_map(m, obj) {
		const char *kn = bpf_map__name(m);
		size_t kl = strlen(kn);

		/* global data: sluice ".bss", libbpf "<obj prefix>.bss" */
		if (!strcmp(kn, name) || (name[0] == '.' && kl > n && !strcmp(kn + kl - n, name)))
			return m;
	}
	return NULL;
}

static struct sl_map *sluice_map(struct sl_obj *obj, const char *name)
{
	for (unsigned i = 0; i < sl_obj_map_count(obj); i++)
		if (!strcmp(sl_map_name(sl_obj_map(obj, i)), name))
			return sl_obj_map(obj, i);
	return NULL;
}

static int apply_inits(const struct opts *o, struct kside *k, struct sl_test_prog *si, struct sl_test_prog *sj)
{
	for (unsigned i = 0; i < o->ninits; i++) {
		const struct map_init *mi = &o->inits[i];
		struct bpf_map *km = kernel_map(k->obj, mi->name);
		struct sl_map *a = sluice_map(si->obj, mi->name), *b = sluice_map(sj->obj, mi->name);

		if (!km || !a || !b)
			continue;  /* an init for another object */
		/* per-CPU maps: the entry in CPU 0's slot (the test pins itself
		 * to CPU 0), zeros elsewhere */
		size_t stride = (bpf_map__value_size(km) + 7) & ~7u;
		int ncpu = libbpf_num_possible_cpus();
		uint8_t *kv = calloc(ncpu > 0 ? (size_t)ncpu : 1, stride > mi->vlen ? stride : mi->vlen);
		int err;

		if (!kv)
			return -1;
		memcpy(kv, mi->val, mi->vlen);
		err = bpf_map_update_elem(bpf_map__fd(km), mi->key, kv, 0);
		free(kv);
		if (err ||
		    sl_map_ctl_update(a, mi->key, mi->val, 0) || sl_map_ctl_update(b, mi->key, mi->val, 0))
			return fprintf(stderr, "  map %s: initial entry refused\n", mi->name), -1;
	}
	return 0;
}

struct dump_ctx {
	const char *tag;
	struct sl_map *sm;
	int kfd;
	uint8_t *kval;
	unsigned entries, bad;
};

static uint64_t sum8(const uint8_t *v, unsigned n, size_t stride)
{
	uint64_t s = 0, x;

	for (unsigned i = 0; i < n; i++) {
		memcpy(&x, v + i * stride, 8);
		s += x;
	}
	return s;
}

static int dump_one(const void *key, const void *val, void *arg)
{
	struct dump_ctx *d = arg;
	const struct sl_map_def *def = sl_map_get_def(d->sm);
	const char *name = sl_map_name(d->sm);
	size_t stride = (def->value_size + 7) & ~7u;
	int same;

	d->entries++;
	if (bpf_map_lookup_elem(d->kfd, key, d->kval)) {
		same = 0;
	} else if (!strncmp(name, "nd_", 3)) {
		same = 1;
	} else if (sl_map_is_percpu(d->sm)) {
		/* every run was on CPU 0 (kernel) and slot 0 (sluice) */
		same = !memcmp(d->kval, val, def->value_size) &&
		       (def->value_size != 8 ||
			sum8(d->kval, (unsigned)libbpf_num_possible_cpus(), stride) ==
			sum8(val, sl_map_ncpus(d->sm), stride));
	} else {
		same = !memcmp(d->kval, val, def->value_size);
	}
	if (!same && d->bad++ < 3) {
		fprintf(stderr, "  MISMATCH %s map %s: entry", d->tag, name);
		for (unsigned i = 0; i < def->key_size && i < 32; i++)
			fprintf(stderr, "%s%02x", i ? "" : " key ", ((const uint8_t *)key)[i]);
		fprintf(stderr, ": value");
		for (unsigned i = 0; i < def->value_size && i < 16; i++)
			fprintf(stderr, "%s%02x", i ? "" : " ", ((const uint8_t *)val)[i]);
		fprintf(stderr, ", kernel");
		for (unsigned i = 0; i < def->value_size && i < 16; i++)
			fprintf(stderr, "%s%02x", i ? "" : " ", d->kval[i]);
		fprintf(stderr, " (or missing there)\n");
	}
	return 0;
}

static unsigned kernel_count(int fd, uint32_t key_size)
{
	uint8_t k[256], nk[256];
	unsigned n = 0;
	void *prev = NULL;

	while (key_size <= sizeof(k) && !bpf_map_get_next_key(fd, prev, nk) && n < 1u << 20) {
		memcpy(k, nk, key_size);
		prev = k;
		n++;
	}
	return n;
}

static const uint32_t comparable_types[] = { BPF_MAP_TYPE_ARRAY, BPF_MAP_TYPE_HASH,
	BPF_MAP_TYPE_LRU_HASH, BPF_MAP_TYPE_PERCPU_ARRAY, BPF_MAP_TYPE_PERCPU_HASH,
	BPF_MAP_TYPE_LRU_PERCPU_HASH, BPF_MAP_TYPE_LPM_TRIE };

static bool comparable(uint32_t type)
{
	for (size_t i = 0; i < sizeof(comparable_types) / sizeof(comparable_types[0]); i++)
		if (comparable_types[i] == type)
			return true;
	return false;
}

static unsigned compare_maps(struct kside *k, struct sl_test_prog *s, const char *tag)
{
	unsigned bad = 0;

	for (unsigned i = 0; i < sl_obj_map_count(s->obj); i++) {
		struct sl_map *sm = sl_obj_map(s->obj, i);
		const struct sl_map_def *def = sl_map_get_def(sm);
		struct bpf_map *km = kernel_map(k->obj, sl_map_name(sm));
		struct dump_ctx d = { .tag = tag, .sm = sm };
		unsigned kn;

		if (!km || !comparable(def->type) || bpf_map__fd(km) < 0)
			continue;
		d.kfd = bpf_map__fd(km);
		d.kval = calloc((size_t)libbpf_num_possible_cpus(), (def->value_size + 7) & ~7u);
		if (!d.kval)
			continue;
		sl_map_ctl_dump(sm, dump_one, &d);
		kn = kernel_count(d.kfd, def->key_size);
		if (kn != d.entries) {
			fprintf(stderr, "  MISMATCH %s map %s: %u entries, kernel %u\n", tag,
				sl_map_name(sm), d.entries, kn);
			d.bad++;
		}
		free(d.kval);
		bad += d.bad ? 1 : 0;
	}
	return bad;
}

/* ---- the CLI: sluice test-run --prog on the first packet ---- */

static int cli_parse(FILE *p, struct pkt *out, uint64_t *r0)
{
	char line[512];
	int have_r0 = 0, in_meta = 0;

	out->len = 0;
	while (fgets(line, sizeof(line), p)) {
		unsigned off, v;
		char *s = line;
		int used;

		if (sscanf(line, "0x%" SCNx64, r0) == 1 && !strchr(line, ':')) {
			have_r0 = 1;
			continue;
		}
		if (!strncmp(line, "metadata", 8) || !strncmp(line, "packet", 6))
			in_meta = line[0] == 'm';   /* test-run prints metadata before the packet */
		if (in_meta || sscanf(line, "%4x:%n", &off, &used) != 1 ||
		    strncmp(line, "packet", 6) == 0)
			continue;
		s += used;
		while (sscanf(s, " %2x%n", &v, &used) == 1 && out->len < MAX_PKT) {
			out->b[out->len++] = (uint8_t)v;
			s += used;
		}
	}
	return have_r0 ? 0 : -1;
}

static unsigned cli_check(const struct opts *o, const char *path, const char *section,
			  unsigned idx, const struct pkt *in, uint32_t kr0, const struct pkt *kout,
			  uint32_t metalen)
{
	char data[] = "/tmp/sl-kdiff-XXXXXX", cmd[2048];
	unsigned bad = 0;
	int fd = mkstemp(data);
	struct pkt kdata;  /* test-run prints from data, not data_meta */

	kdata.len = kout->len >= metalen ? kout->len - metalen : 0;
	memcpy(kdata.b, kout->b + (kout->len >= metalen ? metalen : 0), kdata.len);
	kout = &kdata;

	if (fd < 0 || write(fd, in->b, in->len) != (ssize_t)in->len)
		return fprintf(stderr, "  cli: temporary file: %s\n", strerror(errno)), 1;
	close(fd);
	for (int e = 0; e < 2; e++) {
		const char *eng = e ? "--jit" : "--interp";
		struct pkt out;
		uint64_t r0 = 0;
		FILE *p;

		snprintf(cmd, sizeof(cmd), "%s test-run --prog '%s' --section '%s' --data %s %s",
			 o->sluice, path, section, data, eng);
		p = popen(cmd, "r");
		if (!p || cli_parse(p, &out, &r0) || (p && pclose(p) != 0)) {
			fprintf(stderr, "  MISMATCH cli %s: `%s` failed\n", eng, cmd);
			mismatches++;
			bad++;
			continue;
		}
		bad += (unsigned)report(e ? "test-run --jit" : "test-run --interp", idx, in, kr0, kout,
					(uint32_t)r0, &out);
	}
	unlink(data);
	return bad;
}

/* ---- speed: the kernel JIT's BPF_PROG_TEST_RUN against sluice's JIT ---- */

/*
 * Like for like with the kernel's test run (net/bpf/test_run.c): it builds
 * its xdp_buff once per BPF_PROG_TEST_RUN call, before its clock starts,
 * and runs the program `repeat` times on that same buffer, so whatever a
 * run changes (bpf_xdp_adjust_head/tail/meta, stores to the packet) the
 * next run sees. sluice's side does exactly that: one context per packet,
 * laid out before the clock starts and never reset between runs. Both
 * sides then take the same sequence of paths, which the packet and r0
 * after the last run show (compared with the kernel's, printed as "end
 * state"). (Rebuilding sluice's context before every run instead, as this
 * bench once did, made programs that move data or count in maps take other
 * paths than the kernel's on up to 155 of 354 packets, and charged the
 * store-to-load forwarding of the fresh context to programs that read
 * data/data_end but not to the XDP_PASS harness.) Each side's loop cost is
 * measured with an XDP_PASS program, interleaved with the program packet
 * by packet (in rounds over the corpus: speed_run()), and subtracted, as
 * issue 13 defines the figure; once per
 * process, a program that reads data and data_end before returning
 * XDP_PASS is measured against it on both sides ("speed harness"), to show
 * that the class of program does not change the harness's cost.
 */

struct timed {
	double ns;      /* mean ns per run */
	uint32_t r0;    /* the last run's */
	struct pkt out; /* the packet after the last run, from data_meta on */
	bool ok;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* The kernel: its own figure (integer ns per run, rounded down by the kernel). */
static void kernel_timed(int fd, const struct pkt *in, unsigned repeat, struct timed *t)
{
	LIBBPF_OPTS(bpf_test_run_opts, ro, .data_in = in->b, .data_size_in = in->len,
		    .data_out = t->out.b, .data_size_out = MAX_PKT, .repeat = repeat);

	t->ok = bpf_prog_test_run_opts(fd, &ro) == 0;
	t->ns = ro.duration;
	t->r0 = ro.retval;
	t->out.len = ro.data_size_out;
}

/*
 * sluice's JIT: one frame laid out as sluice test-run does, then @p repeat
 * runs on it, timed together; run as an engine worker runs (an online
 * worker slot; the caller passes a quiescent state between packets).
 */
static void sluice_timed(sl_jit_fn fn, const struct pkt *in, unsigned repeat, struct timed *t)
{
	static uint8_t buf[HEADROOM + MAX_PKT + TAILROOM];
	struct sl_xdp_ctx x;
	uint64_t t0, r0 = 0;

	sl_test_xdp_frame(&x, buf, HEADROOM, in->b, in->len, TAILROOM, true, 1);
	t0 = now_ns();
	for (unsigned r = 0; r < repeat; r++)
		r0 = fn(&x, 0);
	t->ns = (double)(now_ns() - t0) / repeat;
	t->r0 = (uint32_t)r0;
	t->out.len = (uint32_t)((uint8_t *)x.data_end - (uint8_t *)x.data_meta);
	memcpy(t->out.b, x.data_meta, t->out.len);
	t->ok = true;
}

/* A program on both sides: the kernel's fd and sluice's JIT entry. */
struct pair {
	int fd;
	sl_jit_fn fn;
};

/* The four series of a speed run, each timed @p repeat runs at a time per packet and round. */
enum { S_KERNEL, S_SLUICE, S_KERNEL_H, S_SLUICE_H, NSERIES };

struct speed {
	double ns[NSERIES];          /* ns per run: per packet the interquartile mean of its
					rounds, averaged over the packets */
	double knet_q[3], snet_q[3]; /* each round's program - harness (mean over the packets):
					quartiles (lower, median, upper) */
	double ratio_q[3];           /* each round's sluice net / kernel net: quartiles */
	unsigned n, same, rounds;    /* packets timed; of them, with the kernel's end state in
					every round; rounds */
};

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/*
 * The mean of the middle half of @p v (sorted in place), the median of
 * fewer than 4: an interrupted or preempted batch only adds time, and the
 * kernel's whole-ns figures keep some dithering.
 */
static double iqm(double *v, unsigned n)
{
	unsigned lo = n < 4 ? (n - 1) / 2 : n / 4, hi = n < 4 ? n / 2 + 1 : n - n / 4;
	double sum = 0;

	qsort(v, n, sizeof(*v), cmp_double);
	for (unsigned i = lo; i < hi; i++)
		sum += v[i];
	return sum / (hi - lo);
}

/* Lower quartile, median and upper quartile of @p v (sorted in place). */
static void quartiles(double *v, unsigned n, double q[3])
{
	qsort(v, n, sizeof(*v), cmp_double);
	q[0] = v[(n - 1) / 4];
	q[1] = (v[(n - 1) / 2] + v[n / 2]) / 2;
	q[2] = v[(3 * (n - 1) + 3) / 4];
}

/*
 * One packet, one round: program @p p and harness @p h on both sides, the
 * harness pair first when @p harness_first. @return -1 when the kernel's
 * test run refused either, else whether sluice's end state is the kernel's.
 */
static int speed_packet(const struct pair *p, const struct pair *h, const struct pkt *in,
			 unsigned repeat, bool harness_first, double t[NSERIES])
{
	static struct timed k, s, kh, sh;

	for (int half = 0; half < 2; half++) {
		if ((half == 0) == harness_first) {
			kernel_timed(h->fd, in, repeat, &kh);
			sluice_timed(h->fn, in, repeat, &sh);
		} else {
			kernel_timed(p->fd, in, repeat, &k);
			if (k.ok)    /* both sides run the same sequence (maps) */
				sluice_timed(p->fn, in, repeat, &s);
		}
	}
	sl_map_quiescent();
	t[S_KERNEL] = k.ns;
	t[S_SLUICE] = s.ns;
	t[S_KERNEL_H] = kh.ns;
	t[S_SLUICE_H] = sh.ns;
	if (!k.ok || !kh.ok)
		return -1;
	return k.r0 == s.r0 && k.out.len == s.out.len && !memcmp(k.out.b, s.out.b, k.out.len);
}

/*
 * Program @p p and harness @p h over the corpus, @p rounds times, packet
 * by packet and side by side, so that a busy machine slows a program and
 * the harness subtracted from it alike. In each packet's slot: kernel
 * harness, sluice harness, kernel program, sluice program in even rounds,
 * the program pair first in odd ones (each sluice run follows a system
 * call, which leaves caches and branch predictors colder, the harness's as
 * the program's). Each series' figure: per packet the interquartile mean
 * of its rounds (robust to a preempted or interrupted batch), averaged
 * over the packets; each round's net figures give the spread.
 */
static void speed_run(const struct pair *p, const struct pair *h, const struct corpus *c,
		      unsigned repeat, unsigned rounds, struct speed *sp)
{
	double *t = calloc((size_t)NSERIES * rounds * c->n, sizeof(double));
	double *v = calloc(rounds > c->n ? rounds : c->n, sizeof(double));
	double *knet = calloc(rounds, sizeof(double)), *snet = calloc(rounds, sizeof(double));
	bool *ok = malloc(c->n), *same = malloc(c->n);
#define T(sr, r, i) t[((size_t)(sr) * rounds + (r)) * c->n + (i)]

	memset(sp, 0, sizeof(*sp));
	if (!t || !v || !knet || !snet || !ok || !same || !rounds)
		goto out;
	sp->rounds = rounds;
	sl_map_worker_online(0);
	for (unsigned r = 0; r < rounds; r++)
		for (unsigned i = 0; i < c->n; i++) {
			double x[NSERIES];
			int eq;

			if (r && !ok[i])
				continue;
			eq = speed_packet(p, h, &c->p[i], repeat, !(r & 1), x);
			ok[i] = eq >= 0;     /* refused in a later round: left out too */
			same[i] = (r ? same[i] : true) && eq == 1;
			for (int sr = 0; sr < NSERIES; sr++)
				T(sr, r, i) = x[sr];
		}
	sl_map_worker_offline();
	for (unsigned i = 0; i < c->n; i++) {
		if (!ok[i])
			continue;
		for (int sr = 0; sr < NSERIES; sr++) {
			for (unsigned r = 0; r < rounds; r++)
				v[r] = T(sr, r, i);
			sp->ns[sr] += iqm(v, rounds);
		}
		sp->n++;
		sp->same += same[i];
	}
	if (!sp->n)
		goto out;
	for (int sr = 0; sr < NSERIES; sr++)
		sp->ns[sr] /= sp->n;
	for (unsigned r = 0; r < rounds; r++) {
		for (unsigned i = 0; i < c->n; i++)
			if (ok[i]) {
				knet[r] += T(S_KERNEL, r, i) - T(S_KERNEL_H, r, i);
				snet[r] += T(S_SLUICE, r, i) - T(S_SLUICE_H, r, i);
			}
		knet[r] /= sp->n;
		snet[r] /= sp->n;
		v[r] = knet[r] > 0 ? snet[r] / knet[r] : 0;
	}
	quartiles(v, rounds, sp->ratio_q);
	quartiles(knet, rounds, sp->knet_q);
	quartiles(snet, rounds, sp->snet_q);
out:
#undef T
	free(t);
	free(v);
	free(knet);
	free(snet);
	free(ok);
	free(same);
}

/*
 * The harness programs, on both sides: [0] returns XDP_PASS; [1] reads
 * data and data_end, compares them (data + 14 <= data_end on every corpus
 * frame) and returns XDP_PASS, so neither JIT can drop the loads.
 */
static const struct bpf_insn harness_pass[] = {
	{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0, .imm = XDP_PASS },
	{ .code = BPF_JMP | BPF_EXIT },
};
static const struct bpf_insn harness_bounds[] = {
	{ .code = BPF_LDX | BPF_MEM | BPF_W, .dst_reg = 2, .src_reg = 1, .off = 0 },  /* data */
	{ .code = BPF_LDX | BPF_MEM | BPF_W, .dst_reg = 3, .src_reg = 1, .off = 4 },  /* data_end */
	{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0, .imm = XDP_PASS },
	{ .code = BPF_ALU64 | BPF_ADD | BPF_K, .dst_reg = 2, .imm = 14 },
	{ .code = BPF_JMP | BPF_JLE | BPF_X, .dst_reg = 2, .src_reg = 3, .off = 1 },
	{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0, .imm = XDP_DROP },
	{ .code = BPF_JMP | BPF_EXIT },
};

/* Harness program @p cls (0 or 1) loaded on both sides; -1 when either refuses it. */
static int harness_load(unsigned cls, struct pair *h, struct sl_test_prog *s)
{
	const struct bpf_insn *insns = cls ? harness_bounds : harness_pass;
	unsigned n = cls ? sizeof(harness_bounds) / sizeof(harness_bounds[0]) : 2;

	memset(s, 0, sizeof(*s));
	h->fd = bpf_prog_load(BPF_PROG_TYPE_XDP, cls ? "bounds" : "pass", "GPL", insns, n, NULL);
	if (h->fd < 0 || sl_test_prog_raw(s, insns, n, SL_PROG_XDP, true)) {
		if (h->fd >= 0)
			close(h->fd);
		sl_test_prog_close(s);
		return -1;
	}
	h->fn = sl_jit_entry(s->jit);
	return 0;
}

static void harness_close(struct pair *h, struct sl_test_prog *s)
{
	close(h->fd);
	sl_test_prog_close(s);
}

/*
 * Once per process: what reading data/data_end costs each side over
 * returning XDP_PASS at once (the classes the programs fall in), so the
 * bench shows that subtracting the XDP_PASS harness is like for like.
 */
static void harness_classes(const struct corpus *c, unsigned repeat, unsigned rounds)
{
	struct sl_test_prog s0, s1;
	struct pair h0, h1;
	struct speed sp;

	if (harness_load(0, &h0, &s0))
		return;
	if (!harness_load(1, &h1, &s1)) {
		speed_run(&h1, &h0, c, repeat, rounds, &sp);
		printf("speed harness: kernel %.1f ns/run for XDP_PASS, %+.1f reading data/data_end "
		       "first; sluice %.1f, %+.1f (%u runs of each packet on one context, as the "
		       "kernel's test run; %u rounds, harness and program alternating)\n",
		       sp.ns[S_KERNEL_H], sp.ns[S_KERNEL] - sp.ns[S_KERNEL_H], sp.ns[S_SLUICE_H],
		       sp.ns[S_SLUICE] - sp.ns[S_SLUICE_H], repeat, rounds);
		harness_close(&h1, &s1);
	}
	harness_close(&h0, &s0);
}

static void bench_prog(const struct opts *o, struct kside *k, struct sl_test_prog *sj,
		       const struct corpus *c)
{
	struct pair p = { k->fd, sl_jit_entry(sj->jit) }, h;
	struct sl_test_prog hs;
	static bool shown;
	struct speed sp;
	double net, snet;

	if (!shown) {
		shown = true;
		harness_classes(c, o->bench, o->rounds);
	}
	if (harness_load(0, &h, &hs)) {
		printf("  speed: not measured (the XDP_PASS harness does not load)\n");
		return;
	}
	speed_run(&p, &h, c, o->bench, o->rounds, &sp);
	harness_close(&h, &hs);
	if (!sp.n) {
		printf("  speed: not measured (the kernel's test run refuses the program)\n");
		return;
	}
	net = sp.ns[S_KERNEL] > sp.ns[S_KERNEL_H] ? sp.ns[S_KERNEL] - sp.ns[S_KERNEL_H] : 0;
	snet = sp.ns[S_SLUICE] > sp.ns[S_SLUICE_H] ? sp.ns[S_SLUICE] - sp.ns[S_SLUICE_H] : 0;
	printf("  speed: kernel %.1f ns/packet (test run %.1f - harness %.1f), sluice JIT %.1f "
	       "(%.1f - harness %.1f): %.2fx the kernel; end state as the kernel's on %u/%u\n",
	       net, sp.ns[S_KERNEL], sp.ns[S_KERNEL_H], snet, sp.ns[S_SLUICE], sp.ns[S_SLUICE_H],
	       net > 0 ? snet / net : 0, sp.same, sp.n);
	printf("    spread over %u rounds (quartiles): kernel %.1f / %.1f / %.1f, sluice %.1f / "
	       "%.1f / %.1f ns/packet; ratio %.2f / %.2f / %.2f\n", sp.rounds, sp.knet_q[0],
	       sp.knet_q[1], sp.knet_q[2], sp.snet_q[0], sp.snet_q[1], sp.snet_q[2],
	       sp.ratio_q[0], sp.ratio_q[1], sp.ratio_q[2]);
	if (sp.same != sp.n) {   /* not like for like: the two sides ran different paths */
		printf("  MISMATCH end state after %u runs on %u of %u packets\n", o->bench,
		       sp.n - sp.same, sp.n);
		mismatches++;
	}
}

/* ---- one program ---- */

/* "OBJ PROG reason" lines: sluice rejections that are known gaps. */
static const char *known_gap(const char *file, const char *obj, const char *prog)
{
	static char line[512];
	const char *base = strrchr(obj, '/') ? strrchr(obj, '/') + 1 : obj;
	FILE *f = file ? fopen(file, "r") : NULL;
	char o[128], p[128];
	int used;

	while (f && fgets(line, sizeof(line), f)) {
		if (line[0] == '#' || sscanf(line, "%127s %127s %n", o, p, &used) < 2)
			continue;
		if (!strcmp(o, base) && (!strcmp(p, prog) || !strcmp(p, "*"))) {
			fclose(f);
			line[strcspn(line, "\n")] = 0;
			return line + used;
		}
	}
	if (f)
		fclose(f);
	return NULL;
}

static void run_packets(const struct opts *o, const char *path, const char *section, bool xdp,
			struct kside *k, struct sl_test_prog *si, struct sl_test_prog *sj, const struct corpus *c)
{
	static struct pkt kout, iout, jout;
	unsigned before = mismatches;
	bool cli = xdp && o->sluice && o->ninits == 0;
	unsigned refused = 0, hist[6] = { 0 };

	for (unsigned i = 0; i < c->n; i++) {
		const struct pkt *in = &c->p[i];
		uint32_t kr0 = 0, ir0, jr0, metalen = 0;
		int err = kernel_run(k, xdp, in, &kout, &kr0);

		if (err) {  /* the kernel refuses this input (e.g. a cut IPv6 header for skb) */
			refused++;
			continue;
		}
		hist[kr0 < 5 ? kr0 : 5]++;
		if (xdp) {
			ir0 = sluice_xdp(si, in, &iout, &metalen);
			jr0 = sluice_xdp(sj, in, &jout, &metalen);
		} else {
			ir0 = sluice_skb(si, in);
			jr0 = sluice_skb(sj, in);
		}
		report("interp", i, in, kr0, xdp ? &kout : NULL, ir0, &iout);
		report("jit", i, in, kr0, xdp ? &kout : NULL, jr0, &jout);
		/* CLI: the first packet (maps fresh on both sides), or the first
		 * CLI_PKTS when the object has no maps at all */
		if ((i == 0 || (i < CLI_PKTS && sl_obj_map_count(si->obj) == 0)) && cli &&
		    sl_obj_find_prog(si->obj, section) == si->prog)
			cli_check(o, path, section, i, in, kr0, &kout, metalen);
		pkts_run++;
		if (mismatches - before > 6)
			break;
	}
	mismatches += compare_maps(k, si, "interp") + compare_maps(k, sj, "jit");
	printf("  %u packets (%u refused by the kernel's test run; r0 0/1/2/3/4/other: "
	       "%u/%u/%u/%u/%u/%u): %s\n", c->n, refused, hist[0], hist[1], hist[2], hist[3],
	       hist[4], hist[5],
	       mismatches == before ? "kernel, interpreter and JIT agree" : "MISMATCHES (above)");
}

static void run_prog(const struct opts *o, const char *path, struct bpf_program *p,
		     const struct corpus *c)
{
	const char *name = bpf_program__name(p), *section = bpf_program__section_name(p);
	bool xdp = bpf_program__type(p) == BPF_PROG_TYPE_XDP;
	static struct kside k;
	struct sl_test_prog si, sj = { 0 };
	int eperm = 0, kok, sok, sjok;
	const char *gap;

	memset(&k, 0, sizeof(k));
	k.fd = -1;
	kok = kernel_load(&k, path, name, &eperm) == 0;
	if (!kok && eperm) {
		printf("SKIP: the kernel refuses to load BPF programs (%s)\n", k.err);
		exit(77);
	}
	sok = sl_test_prog_open(&si, path, name, 1, false) == 0;
	sjok = sok && sl_test_prog_open(&sj, path, name, 1, true) == 0;
	printf("%s %s (%s): kernel %s", strrchr(path, '/') ? strrchr(path, '/') + 1 : path, name,
	       section, kok ? "accepts" : "rejects");
	if (kok)
		printf(" (verified_insns %u)", k.verified_insns);
	printf(", sluice %s", sok ? "accepts" : "rejects");
	if (sok)
		printf(" (processed %u, states %u, %.1f ms)", si.st.insns_processed, si.st.states,
		       si.st.ns / 1e6);
	printf("\n");
	if (!kok)
		printf("  kernel: %s\n", k.err);
	if (!sok)
		printf("  sluice: %s\n", si.err);
	if (kok != sok) {
		gap = known_gap(o->known, path, name);
		if (gap) {
			printf("  known gap: %s (sluice: %s)\n", gap, si.err);
		} else {
			printf("  MISMATCH verdict: sluice %s\n", sok ? "accepts" : si.err);
			mismatches++;
		}
	} else if (sok && !sjok) {
		printf("  MISMATCH jit: %s\n", sj.err);
		mismatches++;
	} else if (kok && sok) {
		if (known_gap(o->known, path, name))
			printf("  note: listed as a known gap but accepted now; remove it from %s\n",
			       o->known);
		if (apply_inits(o, &k, &si, &sj) == 0) {
			run_packets(o, path, section, xdp, &k, &si, &sj, c);
			if (o->bench && xdp)
				bench_prog(o, &k, &sj, c);
			progs_run++;
		} else {
			mismatches++;
		}
	}
	sl_test_prog_close(&si);
	sl_test_prog_close(&sj);
	bpf_object__close(k.obj);
}

static int run_object(const struct opts *o, const char *path, const struct corpus *c)
{
	struct bpf_object *obj = bpf_object__open_file(path, NULL);
	struct bpf_program *p;
	char names[32][128];
	unsigned n = 0;

	if (!obj) {  /* no oracle for it (legacy maps section, unresolved externs) */
		printf("%s: skipped: libbpf cannot open it (%s)\n", path, strerror(errno));
		return 0;
	}
	bpf_object__for_each_program(p, obj) {
		enum bpf_prog_type t = bpf_program__type(p);

		if ((t == BPF_PROG_TYPE_XDP || t == BPF_PROG_TYPE_SOCKET_FILTER) && n < 32)
			snprintf(names[n++], sizeof(names[0]), "%s", bpf_program__name(p));
	}
	bpf_object__close(obj);
	for (unsigned i = 0; i < n; i++) {
		/* a fresh libbpf object per program: each loads alone */
		obj = bpf_object__open_file(path, NULL);
		if (!obj)
			return -1;
		bpf_object__for_each_program(p, obj)
			if (!strcmp(bpf_program__name(p), names[i]))
				run_prog(o, path, p, c);
		bpf_object__close(obj);
	}
	return 0;
}

/* ---- options ---- */

static int unhex(const char *s, uint8_t *out, size_t max, uint32_t *len)
{
	size_t n = strlen(s);

	if (n % 2 || n / 2 > max)
		return -1;
	for (size_t i = 0; i < n / 2; i++) {
		unsigned v;

		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (uint8_t)v;
	}
	*len = (uint32_t)(n / 2);
	return 0;
}

static int parse_map_init(const char *arg, struct map_init *mi)
{
	char buf[256], *eq, *colon;

	snprintf(buf, sizeof(buf), "%s", arg);
	eq = strchr(buf, '=');
	colon = eq ? strchr(eq, ':') : NULL;
	if (!eq || !colon)
		return -1;
	*eq = *colon = 0;
	snprintf(mi->name, sizeof(mi->name), "%.63s", buf);
	return unhex(eq + 1, mi->key, sizeof(mi->key), &mi->klen) ||
	       unhex(colon + 1, mi->val, sizeof(mi->val), &mi->vlen) ? -1 : 0;
}

static int parse(int argc, char **argv, struct opts *o)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (a[0] != '-') {
			if (o->nobjs == MAX_ARGS)
				return -1;
			o->objs[o->nobjs++] = a;
			continue;
		}
		if (!v)
			return -1;
		i++;
		if (!strcmp(a, "--sluice"))
			o->sluice = v;
		else if (!strcmp(a, "--known"))
			o->known = v;
		else if (!strcmp(a, "--seed"))
			o->seed = strtoull(v, NULL, 0);
		else if (!strcmp(a, "--random"))
			o->nrandom = (unsigned)strtoul(v, NULL, 0);
		else if (!strcmp(a, "--bench"))
			o->bench = (unsigned)strtoul(v, NULL, 0);
		else if (!strcmp(a, "--bench-rounds") && strtoul(v, NULL, 0) > 0)
			o->rounds = (unsigned)strtoul(v, NULL, 0);
		else if (!strcmp(a, "--max-pcap"))
			o->max_pcap = (unsigned)strtoul(v, NULL, 0);
		else if (!strcmp(a, "--pcap") && o->npcaps < MAX_ARGS)
			o->pcaps[o->npcaps++] = v;
		else if (!strcmp(a, "--map") && o->ninits < MAX_ARGS &&
			 !parse_map_init(v, &o->inits[o->ninits]))
			o->ninits++;
		else
			return fprintf(stderr, "compat_kdiff: bad option %s %s\n", a, v), -1;
	}
	return o->nobjs ? 0 : -1;
}

int main(int argc, char **argv)
{
	struct opts o = { .seed = 20261122, .nrandom = 200, .max_pcap = 300, .rounds = 3 };
	struct corpus c = { 0 };
	struct sl_rng s;

	if (parse(argc, argv, &o))
		return fprintf(stderr, "usage: compat_kdiff [--sluice PATH] [--seed N] [--random N] "
			       "[--max-pcap N] [--pcap FILE]... [--known FILE] "
			       "[--map NAME=KEYHEX:VALHEX]... [--bench N [--bench-rounds R]] OBJ...\n"), 2;
	sl_test_kernel_quiet();
	/* kernel test runs execute on the calling CPU: keep them all on CPU 0
	 * so per-CPU map slots compare one to one with sluice's slot 0 */
	cpu_set_t cpus;

	CPU_ZERO(&cpus);
	CPU_SET(0, &cpus);
	if (sched_setaffinity(0, sizeof(cpus), &cpus))
		fprintf(stderr, "compat_kdiff: cannot pin to CPU 0 (%s)\n", strerror(errno));
	c.p = calloc(MAX_PKTS, sizeof(*c.p));
	if (!c.p)
		return 1;
	corpus_edges(&c);
	unsigned edges = c.n;

	for (unsigned i = 0; i < o.npcaps; i++)
		if (corpus_pcap(&c, o.pcaps[i], o.max_pcap))
			return 1;
	s = sl_rng_make(o.seed * 0x9E3779B97F4A7C15ULL + 1, SL_RNG_XORSHIFT_STAR);
	corpus_mutate(&c, o.nrandom, &s);
	printf("compat_kdiff: %u packets (%u hand-made, %u from pcaps, %u mutated/random, seed %"
	       PRIu64 ")\n", c.n, edges, c.n - o.nrandom - edges, o.nrandom, o.seed);
	for (unsigned i = 0; i < o.nobjs; i++)
		if (run_object(&o, o.objs[i], &c))
			mismatches++;
	printf("compat_kdiff: %u programs run on %u packets in total; %u mismatches\n", progs_run,
	       pkts_run, mismatches);
	free(c.p);
	return mismatches ? 1 : 0;
}
