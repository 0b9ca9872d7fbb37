/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Several replay workers (--workers N): the records of a classic pcap in
 * host byte order through a socket filter without maps, on N threads,
 * the outputs in record order.
 *
 * The file is cut into chunks of PAR_CHUNK bytes at multiples of
 * PAR_CHUNK (the first from the first record on, which the file header
 * puts 24 bytes in), so that every pread() starts at a page of the page
 * cache and copies it to the same alignment in the buffer; a
 * worker claims the next chunk (an atomic counter), reads it with pread()
 * into its own buffer and takes the records that start in it. Where the
 * first of them starts is known only once the chunk before is walked: the
 * worker of chunk k waits for boundary k (published by the worker of chunk
 * k - 1), walks the record headers of its chunk (caplen <= len, caplen <=
 * snaplen, the record whole in the file; the record cut by the chunk's
 * end is read on into the buffer's slack), publishes boundary k + 1, and
 * only then runs its records: the walk is a hop per record through data
 * just read, so the workers wait little for each other. Each record goes
 * through sl_verdict_run(), as in replay.c, with the worker's own verdict
 * state; kept records (and drops) are copied with their header into one
 * of the worker's PAR_SETS sets of output buffers, which it then parks
 * (chunk k's set in the park ring) and goes on with the next chunk in its
 * other set. The parked sets go out in chunk order (ticket), one write()
 * per file (sl_pcap_wput: up to a multiple of 64 KiB of the file, the
 * rest with the next set), by whichever worker holds the writer's role (a flag taken
 * with a compare-and-swap after parking: the holder writes every set
 * whose turn has come, then lets go and looks once more, so that a set
 * parked meanwhile is not left behind); a worker waits only when its
 * next set is still parked. A header the
 * sequential reader would refuse (or a read error) stops the walk there:
 * boundary k + 1 says so, the later chunks are left, and the reader goes
 * on from that record (sl_pcap_seek), so the error and its message are
 * the sequential reader's, with everything before it written and counted.
 * A stop signal (sl_signal_stop) stops the walk the same way at the next
 * chunk's first record, before it runs: the chunks before it are written
 * and counted, and replay.c's loop stops there too.
 *
 * Order: one verdict per record, whatever the thread; programs without
 * maps make it independent of the order records run in. Counters are per
 * worker, summed at the end. Waiting (a boundary, a parked set) sleeps on
 * one condition; a side that moves a counter wakes only when someone
 * sleeps (struct sl_sleeper, shared with pcapio.c's rings). Boundaries are published and read in chunk
 * order, so a ring of N + 2 is enough; chunks not yet written are at most
 * N * (PAR_SETS + 1), the park ring's size less 2.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine_internal.h"
#include "replay_par.h"
#include "sl_helpers.h"

#define PAR_CHUNK (256u << 10)
#define PAR_SLACK (16u + SL_PCAP_MAX_SNAPLEN)  /* the record cut by a chunk's end */
#define PAR_BUF (PAR_CHUNK + PAR_SLACK)
#define PAR_FAULT (1ull << 63)                /* boundary flag: the walk stopped here */
#define PAR_PROGRESS 64u                      /* chunks between progress lines */
#define PAR_SETS 2u                           /* output sets per worker: filling, parked */
#define PAR_OVER 4096u                        /* read past the chunk: most cut records end there */

struct par;

/* One chunk's outputs: kept records and drops. */
struct par_out {
	uint8_t *buf[2];
	size_t len[2];
	uint64_t pkts[2];
	uint64_t parked;         /* 1 from parked until written (atomic) */
};

/* A parked chunk: its outputs, once seq == chunk + 1. */
struct par_park {
	struct par_out *out;
	uint64_t seq;
};

/* One worker: its input chunk, its output sets, its counters. */
struct par_worker {
	struct par *par;
	pthread_t thread;
	uint8_t *mem;            /* in, then PAR_SETS x 2 output buffers: PAR_BUF each */
	size_t mapped;
	uint8_t *in;
	struct par_out set[PAR_SETS];
	unsigned cur;            /* the set being filled */
	struct sl_verdict_state vs;
	uint64_t vc[SL_VERDICT_COUNT];
	uint64_t n;
};

struct par {
	struct sl_replay_par *p;
	int fd;
	uint64_t start, end;     /* the first record's offset, the file size */
	uint64_t base;           /* chunk 0's offset: start rounded down to PAR_CHUNK */
	uint32_t snaplen;
	struct sl_pcap_writer *w[2];   /* kept, drops (NULL: not written) */
	int8_t slot[SL_VERDICT_COUNT]; /* output of each verdict: 0, 1, or -1 (none) */
	uint64_t next;           /* chunks claimed (atomic) */
	uint64_t ticket;         /* the chunk whose outputs go out next (atomic) */
	uint64_t writing;        /* the writer's role is taken (atomic) */
	struct par_park *park;   /* ring of parked chunks, npark long */
	unsigned npark;
	uint64_t stop_off;       /* where the walk ended: a refused record or the end (atomic) */
	uint64_t taken;          /* records run so far, all workers (atomic; progress) */
	uint64_t *bseq, *boff;   /* ring: boundary k is boff[k % ring] once bseq[] == k + 1 */
	unsigned ring;
	struct sl_sleeper sl;      /* boundaries and parked sets are waited for here */
	struct par_worker *wk;
};

static uint64_t ld(const uint64_t *v)
{
	return __atomic_load_n(v, __ATOMIC_SEQ_CST);
}

struct eq {
	const uint64_t *v;
	uint64_t want;
};

static bool eq_ready(void *arg)
{
	const struct eq *e = arg;

	return ld(e->v) == e->want;
}

/* Until *v == want. */
static void par_wait_eq(struct par *q, const uint64_t *v, uint64_t want)
{
	struct eq e = { v, want };

	sl_sleeper_wait(&q->sl, eq_ready, &e);
}

static void publish(struct par *q, uint64_t k, uint64_t off)
{
	q->boff[k % q->ring] = off;
	__atomic_store_n(&q->bseq[k % q->ring], k + 1, __ATOMIC_SEQ_CST);
	sl_sleeper_wake(&q->sl);
}

/* Bytes of the file at @p pos into @p buf, up to @p len; fewer at an error. */
static size_t par_pread(int fd, uint8_t *buf, uint64_t pos, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = pread(fd, buf + got, len - got, (off_t)(pos + got));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	return got;
}

/* @p have bytes of the chunk at @p cbeg in w->in: read on to @p want, or to the end of the file. */
static size_t par_more(const struct par *q, struct par_worker *w, uint64_t cbeg, size_t have,
		       size_t want)
{
	return have + par_pread(q->fd, w->in + have, cbeg + have, want - have);
}

/*
 * Walk the records of the chunk at @p cbeg (@p have bytes in w->in) from
 * @p b: the boundary after its last record, or the first record refused
 * with PAR_FAULT (caplen > len, caplen > snaplen, cut by the end of the
 * file). Reads the record cut by the bytes read on into the slack. A hop
 * per record: the checks on offsets in the buffer, the reads out of line.
 */
static uint64_t par_walk(const struct par *q, struct par_worker *w, uint64_t cbeg, size_t have,
			 uint64_t b)
{
	size_t o = (size_t)(b - cbeg);
	size_t stop = (size_t)((cbeg + PAR_CHUNK < q->end ? cbeg + PAR_CHUNK : q->end) - cbeg);
	const uint8_t *in = w->in;
	uint32_t snaplen = q->snaplen;

	while (o < stop) {  /* o > have after a short first read: compared, never subtracted */
		uint32_t caplen, len;

		if (__builtin_expect(have < o + 16, 0) &&
		    (have = par_more(q, w, cbeg, have, o + 16)) < o + 16)
			return (cbeg + o) | PAR_FAULT;
		memcpy(&caplen, in + o + 8, 4);
		memcpy(&len, in + o + 12, 4);
		if (__builtin_expect(caplen > len || caplen > snaplen, 0))
			return (cbeg + o) | PAR_FAULT;
		if (__builtin_expect(have < o + 16 + caplen, 0) &&
		    (have = par_more(q, w, cbeg, have, o + 16 + caplen)) < o + 16 + caplen)
			return (cbeg + o) | PAR_FAULT;
		o += 16 + (size_t)caplen;
	}
	return cbeg + o;
}

/*
 * Run the records of w->in from file offset @p b to @p e (walked) into w's
 * output buffers. What the loop reads and updates per record is in locals
 * (the program's call could change anything behind a pointer, for all the
 * compiler knows), written back at the end.
 */
static void par_records(const struct par *q, struct par_worker *w, uint64_t cbeg, uint64_t b,
			uint64_t e)
{
	const struct sl_replay_par *p = q->p;
	const struct sl_exec *ex = p->ex;
	struct par_out *so = &w->set[w->cur];
	uint8_t *dst[2] = { so->buf[0] + so->len[0], so->buf[1] + so->len[1] };
	uint64_t kept[2] = { 0, 0 }, vc[SL_VERDICT_COUNT] = { 0 }, n = 0;
	int8_t slot[SL_VERDICT_COUNT];
	const uint8_t *h, *stop;
	struct sl_pkt pkt = { 0 };
	struct sl_verdict_out out;
	bool clock = p->clock;
	uint64_t frac_ns = p->frac_ns;

	if (b >= e)
		return;  /* none starts here (a record longer than the chunk began before it) */
	memcpy(slot, q->slot, sizeof(slot));
	h = w->in + (b - cbeg);
	stop = w->in + (e - cbeg);
	while (h < stop) {
		uint32_t caplen, len, cl;
		enum sl_verdict v;
		int o;

		memcpy(&caplen, h + 8, 4);
		memcpy(&len, h + 12, 4);
		pkt.data = (uint8_t *)(uintptr_t)(h + 16);
		pkt.len = caplen;
		pkt.pkt_len = len;
		if (clock) {
			uint32_t t[2];

			memcpy(t, h, 8);
			sl_helper_clock_set(t[0] * 1000000000ull + t[1] * frac_ns);
		}
		v = sl_verdict_run(&w->vs, ex, 0, &pkt, &out);
		vc[v]++;
		o = slot[v];
		if (o >= 0) {
			cl = v == SL_VERDICT_TRIM && out.len < caplen ? out.len : caplen;
			memcpy(dst[o], h, 16 + (size_t)cl);
			memcpy(dst[o] + 8, &cl, 4);
			dst[o] += 16 + (size_t)cl;
			kept[o]++;
		}
		h += 16 + (size_t)caplen;
		n++;
	}
	for (unsigned i = 0; i < 2; i++) {
		so->len[i] = (size_t)(dst[i] - so->buf[i]);
		so->pkts[i] += kept[i];
	}
	for (unsigned v = 0; v < SL_VERDICT_COUNT; v++)
		w->vc[v] += vc[v];
	w->n += n;
}

/* Write the parked sets whose turn has come, in chunk order (the writer's role held). */
static void par_write_turns(struct par *q)
{
	for (;;) {
		uint64_t t = ld(&q->ticket);
		struct par_park *pk = &q->park[t % q->npark];
		struct par_out *so;

		if (ld(&pk->seq) != t + 1)
			return;
		so = pk->out;
		for (unsigned o = 0; o < 2; o++) {
			if (so->len[o])
				sl_pcap_wput(q->w[o], so->buf[o], so->len[o], so->pkts[o]);
			so->len[o] = 0;
			so->pkts[o] = 0;
		}
		__atomic_store_n(&so->parked, 0, __ATOMIC_SEQ_CST);
		__atomic_store_n(&q->ticket, t + 1, __ATOMIC_SEQ_CST);
		sl_sleeper_wake(&q->sl);
	}
}

/*
 * Park chunk @p k's outputs (w's current set), write what is due if no
 * one else is at it, and take w's next set once it is written.
 */
static void par_park_chunk(struct par *q, struct par_worker *w, uint64_t k)
{
	struct par_park *pk = &q->park[k % q->npark];

	__atomic_store_n(&w->set[w->cur].parked, 1, __ATOMIC_SEQ_CST);
	pk->out = &w->set[w->cur];
	__atomic_store_n(&pk->seq, k + 1, __ATOMIC_SEQ_CST);
	for (;;) {
		uint64_t t, idle = 0;

		if (!__atomic_compare_exchange_n(&q->writing, &idle, 1, false, __ATOMIC_SEQ_CST,
						 __ATOMIC_SEQ_CST))
			break;  /* the holder looks again after letting go */
		par_write_turns(q);
		__atomic_store_n(&q->writing, 0, __ATOMIC_SEQ_CST);
		t = ld(&q->ticket);
		if (ld(&q->park[t % q->npark].seq) != t + 1)
			break;
	}
	w->cur = (w->cur + 1) % PAR_SETS;
	par_wait_eq(q, &w->set[w->cur].parked, 0);
}

/* A worker: chunks in turn until the end of the file or a refused record. */
static void *par_main(void *arg)
{
	struct par_worker *w = arg;
	struct par *q = w->par;

	for (;;) {
		uint64_t k = __atomic_fetch_add(&q->next, 1, __ATOMIC_SEQ_CST);
		uint64_t cbeg = q->base + k * PAR_CHUNK, b, e, n0;
		size_t have;

		if (cbeg >= q->end)
			break;
		have = par_pread(q->fd, w->in, cbeg, q->end - cbeg < PAR_CHUNK + PAR_OVER ?
				 (size_t)(q->end - cbeg) : PAR_CHUNK + PAR_OVER);
		par_wait_eq(q, &q->bseq[k % q->ring], k + 1);
		b = q->boff[k % q->ring];
		if (b & PAR_FAULT) {  /* stopped before this chunk: so are the ones after */
			publish(q, k + 1, b);
			break;
		}
		if (sl_signal_stop()) {  /* SIGINT...: this chunk and the later ones are left */
			publish(q, k + 1, b | PAR_FAULT);
			__atomic_store_n(&q->stop_off, b, __ATOMIC_SEQ_CST);
			break;
		}
		e = par_walk(q, w, cbeg, have, b);
		publish(q, k + 1, e);
		if ((e & PAR_FAULT) || e >= q->end)
			__atomic_store_n(&q->stop_off, e & ~PAR_FAULT, __ATOMIC_SEQ_CST);
		n0 = w->n;
		par_records(q, w, cbeg, b, e & ~PAR_FAULT);
		par_park_chunk(q, w, k);
		if (q->p->show)
			__atomic_add_fetch(&q->taken, w->n - n0, __ATOMIC_RELAXED);
		if (q->p->show && !(k % PAR_PROGRESS))  /* whichever worker took the chunk */
			q->p->progress(q->p->progress_arg, __atomic_load_n(&q->taken, __ATOMIC_RELAXED),
				       (double)(cbeg > q->start ? cbeg - q->start : 0) /
				       (double)(q->end - q->start));
		if (e & PAR_FAULT)
			break;
	}
	return NULL;
}

/* Buffers and verdict state of worker @p i. 0 or -ENOMEM. */
static int worker_init(struct par *q, unsigned i)
{
	struct par_worker *w = &q->wk[i];

	w->par = q;
	w->mem = sl_pcap_buf_alloc((1 + 2 * PAR_SETS) * (size_t)PAR_BUF, &w->mapped);
	if (!w->mem)
		return -ENOMEM;
	w->in = w->mem;
	for (unsigned j = 0; j < 2 * PAR_SETS; j++)
		w->set[j / 2].buf[j % 2] = w->mem + (1 + j) * (size_t)PAR_BUF;
	sl_verdict_state_init(&w->vs, q->p->pv, 0);
	return 0;
}

static void par_free(struct par *q)
{
	for (unsigned i = 0; q->wk && i < q->p->workers; i++)
		sl_pcap_buf_free(q->wk[i].mem, q->wk[i].mapped);
	free(q->wk);
	free(q->bseq);
	free(q->boff);
	free(q->park);
	sl_sleeper_destroy(&q->sl);
}

/* The other workers' threads (signals blocked: they go to this one); how many started. */
static unsigned par_start(struct par *q)
{
	sigset_t all, old;
	unsigned i;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (i = 1; i < q->p->workers; i++)
		if (pthread_create(&q->wk[i].thread, NULL, par_main, &q->wk[i]))
			break;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return i;
}

/* The par state for @p p: 0, or -errno with one line in @p log. */
static int par_init(struct par *q, struct sl_replay_par *p, char *log, size_t log_len)
{
	const struct sl_pcap_reader *rd = p->rd;

	memset(q, 0, sizeof(*q));
	sl_sleeper_init(&q->sl);
	q->p = p;
	q->fd = rd->fd;
	q->start = rd->file_pos + rd->off;
	q->base = q->start - q->start % PAR_CHUNK;
	q->end = rd->file_size;
	q->stop_off = q->end;
	q->snaplen = rd->snaplen;
	q->w[0] = p->kept;
	q->w[1] = p->drops;
	for (unsigned v = 0; v < SL_VERDICT_COUNT; v++)
		q->slot[v] = -1;
	if (p->drops)
		q->slot[SL_VERDICT_DROP] = q->slot[SL_VERDICT_ABORTED] = 1;
	if (p->kept_dropped ? p->drops != NULL : p->kept != NULL)
		q->slot[SL_VERDICT_PASS] = q->slot[SL_VERDICT_TRIM] = p->kept_dropped ? 1 : 0;
	q->ring = p->workers + 2;
	q->bseq = calloc(q->ring, sizeof(*q->bseq));
	q->boff = calloc(q->ring, sizeof(*q->boff));
	q->wk = calloc(p->workers, sizeof(*q->wk));
	q->npark = p->workers * (PAR_SETS + 1) + 2;
	q->park = calloc(q->npark, sizeof(*q->park));
	if (!q->bseq || !q->boff || !q->wk || !q->park) {
		snprintf(log, log_len, "--workers %u: %s", p->workers, strerror(ENOMEM));
		return -ENOMEM;
	}
	for (unsigned i = 0; i < p->workers; i++)
		if (worker_init(q, i)) {
			snprintf(log, log_len, "--workers %u: %s", p->workers, strerror(ENOMEM));
			return -ENOMEM;
		}
	q->bseq[0] = 1;
	q->boff[0] = q->start;
	return 0;
}

int sl_replay_par_run(struct sl_replay_par *p, char *log, size_t log_len)
{
	struct par q;
	unsigned started;
	int err = par_init(&q, p, log, log_len);

	if (err) {
		par_free(&q);
		return err;
	}
	started = par_start(&q);
	par_main(&q.wk[0]);
	for (unsigned i = 1; i < started; i++)
		pthread_join(q.wk[i].thread, NULL);
	par_write_turns(&q);  /* none left by the workers' second look; alone now, so no race either */
	for (unsigned i = 0; i < p->workers; i++) {
		for (unsigned v = 0; v < SL_VERDICT_COUNT; v++)
			p->vc[v] += q.wk[i].vc[v];
		p->n += q.wk[i].n;
	}
	err = sl_pcap_seek(p->rd, q.stop_off, p->rd->nrec + p->n, log, log_len);
	par_free(&q);
	return err;
}
