/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Concurrency stress (bounded: STRESS_MS, default 2500 ms). Two worker
 * threads, each its own sl_map_cpu slot and online for reclamation, run
 * while the control thread updates, deletes, iterates and dumps:
 *
 *   percpu  PERCPU_HASH: workers increment per-key counters (insert with
 *           BPF_NOEXIST, then atomic adds); sums must equal the number of
 *           increments each worker counted, exactly.
 *   parr    PERCPU_ARRAY: the same with array slots.
 *   shared  HASH of 64-byte values (8 copies of one u64): workers and the
 *           control thread replace and delete keys 0..SHARED-1; every value
 *           read anywhere must have 8 equal words (never torn). Each
 *           worker also inserts its own keys, never deleted: all must be
 *           there at the end (no lost insert). Every dump sees each key at
 *           most once.
 *   lru     LRU_HASH, smaller than the key space: same value checks, and it
 *           must stay at or below max_entries.
 *   word    HASH of u64 values (updated in place): workers and the control
 *           thread update (BPF_ANY, BPF_EXIST) and delete keys 0..WORDS-1
 *           with values tagged by their key (key << 32 | n); every value
 *           read anywhere must carry its key's tag (an in-place write never
 *           lands in an element reused for another key).
 *   lpm     LPM_TRIE: the control thread inserts and deletes prefixes of a
 *           fixed set (values encode the prefix); workers look up random
 *           addresses: every value found must be a prefix of the address.
 *   rb      RINGBUF: workers output (or reserve, then submit or discard)
 *           records {cpu, seq, ~seq}; the control thread consumes while they
 *           run. Per worker, submitted records arrive complete, in order,
 *           each once, and all of them (-EAGAIN when full is allowed).
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sl_maps.h"
#include "sl_test.h"

#define NWORKERS 2
#define PKEYS 64
#define SHARED 512
#define OWN_MAX 20000
#define LRU_MAX 256
#define WORDS 64

struct val { uint64_t w[8]; };

struct worker {
	pthread_t tid;
	uint32_t cpu;
	struct sl_rng rng;
	uint64_t pcounts[PKEYS];
	uint64_t acounts[PKEYS];
	uint32_t own_inserted;
	uint64_t torn, errors, busy, ops;
	uint64_t rb_seq, rb_sent, rb_full;
	uint64_t lpm_hits, lpm_bad;
	uint64_t word_bad;
};

static struct sl_map *percpu, *parr, *shared, *lru, *rb, *lpm, *word;

#define NPFX 256
struct lpm_key { uint32_t prefixlen; uint32_t addr_be; };
struct lpm_val { uint32_t prefixlen, addr, check, pad; };  /* check = ~addr ^ prefixlen */
static struct lpm_key pfx[NPFX];

struct rec { uint32_t cpu; uint32_t pad; uint64_t seq, nseq; };

struct rb_check {
	uint64_t next[NWORKERS];   /* next seq expected per worker */
	uint64_t got, bad;
};
static atomic_int stop;

static int torn(const struct val *v)
{
	for (int i = 1; i < 8; i++)
		if (__atomic_load_n(&v->w[i], __ATOMIC_RELAXED) !=
		    __atomic_load_n(&v->w[0], __ATOMIC_RELAXED))
			return 1;
	return 0;
}

static void fill(struct val *v, uint64_t x)
{
	for (int i = 0; i < 8; i++)
		v->w[i] = x;
}

/*
 * -EBUSY: no spare element has finished its grace period, which happens
 * here when a worker is preempted by the other threads of this test on a
 * machine with fewer cores than threads; counted and reported, not an
 * error. Anything else is.
 */
static int count_err(struct worker *w, long r)
{
	if (r == -EBUSY)
		w->busy++;
	else if (r)
		w->errors++;
	return r != 0;
}

static void worker_percpu(struct worker *w)
{
	uint32_t k = (uint32_t)(sl_rng_u64(&w->rng) % PKEYS);
	uint64_t one = 1, *p = sl_map_lookup_elem(percpu, &k);

	if (!p) {
		long r = sl_map_update_elem(percpu, &k, &one, BPF_NOEXIST);

		if (r == 0) {
			w->pcounts[k]++;
			return;
		}
		if (r != -EEXIST) {
			count_err(w, r);
			return;
		}
		p = sl_map_lookup_elem(percpu, &k);
		if (!p) {
			w->errors++;
			return;
		}
	}
	__atomic_fetch_add(p, 1, __ATOMIC_RELAXED);
	w->pcounts[k]++;
	p = sl_map_lookup_elem(parr, &k);
	__atomic_fetch_add(p, 1, __ATOMIC_RELAXED);
	w->acounts[k]++;
}

static void worker_shared(struct worker *w)
{
	uint64_t r = sl_rng_u64(&w->rng);
	uint32_t k = (uint32_t)(r % SHARED);
	struct val v, *p;

	switch ((r >> 32) % 8) {
	case 0:
		fill(&v, r);
		count_err(w, sl_map_update_elem(shared, &k, &v, BPF_ANY));
		break;
	case 1:
		sl_map_delete_elem(shared, &k);
		break;
	case 2:
		if (w->own_inserted < OWN_MAX) {
			k = 1000000 * (w->cpu + 1) + w->own_inserted;
			fill(&v, k);
			if (!count_err(w, sl_map_update_elem(shared, &k, &v, BPF_NOEXIST)))
				w->own_inserted++;
		}
		break;
	case 3:
		fill(&v, r);
		sl_map_update_elem(lru, &k, &v, BPF_ANY);
		p = sl_map_lookup_elem(lru, &k);
		if (p && torn(p))
			w->torn++;
		break;
	default:
		p = sl_map_lookup_elem(shared, &k);
		if (p && torn(p))
			w->torn++;
		break;
	}
}

static void worker_word(struct worker *w)
{
	uint64_t r = sl_rng_u64(&w->rng), v;
	uint32_t k = (uint32_t)(r % WORDS);
	uint64_t *p;

	v = (uint64_t)k << 32 | (uint32_t)(r >> 8);
	switch ((r >> 40) % 8) {
	case 0:
	case 1:
		count_err(w, sl_map_update_elem(word, &k, &v, BPF_ANY));
		break;
	case 2:
		if (sl_map_update_elem(word, &k, &v, BPF_EXIST) == -EBUSY)
			w->busy++;
		break;
	case 3:
		sl_map_delete_elem(word, &k);
		break;
	default:
		p = sl_map_lookup_elem(word, &k);
		if (p && __atomic_load_n(p, __ATOMIC_RELAXED) >> 32 != k)
			w->word_bad++;
		break;
	}
}

static void worker_lpm(struct worker *w)
{
	uint32_t a = (uint32_t)sl_rng_u64(&w->rng) & 0x0f0fffffu;  /* clustered like the prefixes */
	struct lpm_key k = {32, __builtin_bswap32(a)};
	const struct lpm_val *v = sl_map_lookup_elem(lpm, &k);
	uint32_t mask;

	if (!v)
		return;
	w->lpm_hits++;
	mask = v->prefixlen ? ~0u << (32 - v->prefixlen) : 0;
	if (v->check != (~v->addr ^ v->prefixlen) || v->prefixlen > 32 ||
	    (a & mask) != v->addr)
		w->lpm_bad++;
}

/* one ring buffer record per burst: output, or reserve + submit / discard */
static void worker_ringbuf(struct worker *w)
{
	struct rec r = {w->cpu, 0, w->rb_seq, ~w->rb_seq}, *p;

	if (w->rb_seq % 2) {
		if (sl_map_ringbuf_output(rb, &r, sizeof(r), 0) == 0)
			w->rb_seq++, w->rb_sent++;
		else
			w->rb_full++;
		return;
	}
	p = sl_map_ringbuf_reserve(rb, sizeof(r), 0);
	if (!p) {
		w->rb_full++;
		return;
	}
	if (sl_rng_u64(&w->rng) % 4 == 0) {  /* discarded: never seen, seq not used */
		sl_map_ringbuf_discard(p, 0);
		return;
	}
	*p = r;
	sl_map_ringbuf_submit(p, 0);
	w->rb_seq++, w->rb_sent++;
}

static int rb_cb(const void *data, uint32_t len, void *ctx)
{
	struct rb_check *c = ctx;
	const struct rec *r = data;

	c->got++;
	if (len != sizeof(*r) || r->cpu >= NWORKERS || r->nseq != ~r->seq ||
	    r->seq != c->next[r->cpu])
		c->bad++;
	else
		c->next[r->cpu]++;
	return 0;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;

	sl_map_worker_online(w->cpu);
	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		for (int i = 0; i < 32; i++) {  /* one "burst" */
			worker_percpu(w);
			worker_shared(w);
			worker_word(w);
			w->ops++;
		}
		worker_ringbuf(w);
		for (int i = 0; i < 8; i++)
			worker_lpm(w);
		sl_map_quiescent();
	}
	sl_map_worker_offline();
	return NULL;
}

struct dump_check {
	uint8_t *seen;      /* per key of the shared range */
	uint64_t dups, torn, entries;
};

static int dump_cb(const void *key, const void *value, void *ctx)
{
	struct dump_check *d = ctx;
	uint32_t k = *(const uint32_t *)key;

	d->entries++;
	if (torn(value))
		d->torn++;
	if (k < SHARED) {
		if (d->seen[k]++)
			d->dups++;
	} else if (k >= 1000000) {
		uint32_t idx = (k / 1000000 - 1) * OWN_MAX + k % 1000000;

		if (idx < NWORKERS * OWN_MAX && d->seen[SHARED + idx]++)
			d->dups++;
		if (((const struct val *)value)->w[0] != k)
			d->torn++;
	}
	return 0;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* flip prefixes in and out of the trie while workers look up */
static void lpm_flip(struct sl_rng *rng)
{
	for (int i = 0; i < 32; i++) {
		const struct lpm_key *k = &pfx[sl_rng_u64(rng) % NPFX];
		uint32_t a = __builtin_bswap32(k->addr_be);
		struct lpm_val v = {k->prefixlen, a, ~a ^ k->prefixlen, 0};

		if (sl_map_ctl_delete(lpm, k) == -ENOENT)
			CHECK_EQ(sl_map_ctl_update(lpm, k, &v, BPF_NOEXIST), 0);
	}
}

/* word map entries: each value carries its key's tag */
static int word_cb(const void *key, const void *value, void *ctx)
{
	struct dump_check *d = ctx;
	uint64_t v;

	memcpy(&v, value, 8);
	if (v >> 32 != *(const uint32_t *)key)
		d->torn++;
	return 0;
}

/* the control thread's share of the word map's traffic */
static void control_words(struct sl_rng *rng, uint64_t *ctl_torn)
{
	for (int i = 0; i < 64; i++) {
		uint64_t r = sl_rng_u64(rng), v;
		uint32_t k = (uint32_t)(r % WORDS);

		v = (uint64_t)k << 32 | (uint32_t)(r >> 8);
		if (r & 1)
			sl_map_ctl_update(word, &k, &v, r & 2 ? BPF_ANY : BPF_EXIST);
		else if (r & 2)
			sl_map_ctl_delete(word, &k);
		if (sl_map_ctl_lookup(word, &k, &v) == 0 && v >> 32 != k)
			(*ctl_torn)++;
	}
}

/* one control-thread round: updates, deletes, an iteration and dumps */
static void control_round(struct sl_rng *rng, struct dump_check *d, uint64_t *ctl_torn,
			  struct rb_check *rc)
{
	struct val v;
	uint32_t k, nk;
	int n = 0;

	for (int i = 0; i < 64; i++) {
		uint64_t r = sl_rng_u64(rng);

		k = (uint32_t)(r % SHARED);
		fill(&v, r);
		if (r & 1)
			sl_map_ctl_update(shared, &k, &v, BPF_ANY);
		else
			sl_map_ctl_delete(shared, &k);
		if (sl_map_ctl_lookup(shared, &k, &v) == 0 && torn(&v))
			(*ctl_torn)++;
	}
	for (int r = sl_map_ctl_get_next_key(shared, NULL, &nk); r == 0 && n < 100000;
	     r = sl_map_ctl_get_next_key(shared, &k, &nk), n++)
		k = nk;
	memset(d->seen, 0, SHARED + NWORKERS * OWN_MAX);
	CHECK_EQ(sl_map_ctl_dump(shared, dump_cb, d), 0);
	memset(d->seen, 0, SHARED + NWORKERS * OWN_MAX);
	CHECK_EQ(sl_map_ctl_dump(lru, dump_cb, d), 0);
	CHECK_EQ(sl_map_ctl_dump(word, word_cb, d), 0);
	CHECK(sl_map_ctl_count(lru) <= LRU_MAX);
	CHECK(sl_map_ringbuf_consume(rb, rb_cb, rc) >= 0);
	lpm_flip(rng);
	control_words(rng, ctl_torn);
}

static void check_final(struct worker *w)
{
	for (uint32_t k = 0; k < PKEYS; k++) {
		uint64_t sum, vals[NWORKERS], want = 0;

		for (int i = 0; i < NWORKERS; i++)
			want += w[i].pcounts[k];
		if (want) {
			CHECK_EQ(sl_map_ctl_sum_u64(percpu, &k, &sum), 0);
			CHECK_EQ(sum, want);
			CHECK_EQ(sl_map_ctl_lookup(percpu, &k, vals), 0);
			for (int i = 0; i < NWORKERS; i++)
				CHECK_EQ(vals[i], w[i].pcounts[k]);
		}
		CHECK_EQ(sl_map_ctl_lookup(parr, &k, vals), 0);
		for (int i = 0; i < NWORKERS; i++)
			CHECK_EQ(vals[i], w[i].acounts[k]);
	}
	for (int i = 0; i < NWORKERS; i++) {
		for (uint32_t j = 0; j < w[i].own_inserted; j++) {
			uint32_t k = 1000000 * (w[i].cpu + 1) + j;
			struct val v;

			CHECK_EQ(sl_map_ctl_lookup(shared, &k, &v), 0);
			CHECK(v.w[0] == k && !torn(&v));
		}
		CHECK_EQ(w[i].torn, 0);
		CHECK_EQ(w[i].word_bad, 0);
		CHECK_EQ(w[i].errors, 0);
		CHECK(w[i].ops > 1000);
	}
}

static struct sl_map *mk(uint32_t type, uint32_t vs, uint32_t max)
{
	struct sl_map_def def = {type, 4, vs, max, 0};

	return sl_map_create(type == BPF_MAP_TYPE_LRU_HASH ? "lru" : "m", &def, NWORKERS);
}

int main(void)
{
	struct worker w[NWORKERS] = {0};
	struct dump_check d = {0};
	struct rb_check rc = {0};
	const char *env = getenv("STRESS_MS");
	uint64_t ms = env ? strtoull(env, NULL, 10) : 2500, end, ctl_torn = 0;
	struct sl_rng rng = sl_rng_make(12345, SL_RNG_XORSHIFT);
	unsigned rounds = 0;

	percpu = mk(BPF_MAP_TYPE_PERCPU_HASH, 8, PKEYS);
	parr = mk(BPF_MAP_TYPE_PERCPU_ARRAY, 8, PKEYS);
	shared = mk(BPF_MAP_TYPE_HASH, sizeof(struct val), SHARED + NWORKERS * OWN_MAX);
	lru = mk(BPF_MAP_TYPE_LRU_HASH, sizeof(struct val), LRU_MAX);
	word = mk(BPF_MAP_TYPE_HASH, 8, WORDS);
	rb = sl_map_create("rb", &(struct sl_map_def){BPF_MAP_TYPE_RINGBUF, 0, 0, 16384, 0}, 1);
	lpm = sl_map_create("lpm", &(struct sl_map_def){BPF_MAP_TYPE_LPM_TRIE, 8,
			    sizeof(struct lpm_val), NPFX, BPF_F_NO_PREALLOC}, 1);
	for (int i = 0; i < NPFX; i++) {
		uint32_t len = (uint32_t)(sl_rng_u64(&rng) % 33);
		uint32_t a = (uint32_t)sl_rng_u64(&rng) & 0x0f0fffffu & (len ? ~0u << (32 - len) : 0);

		pfx[i] = (struct lpm_key){len, __builtin_bswap32(a)};
	}
	d.seen = calloc(1, SHARED + NWORKERS * OWN_MAX);
	CHECK(percpu && parr && shared && lru && rb && lpm && word && d.seen);
	for (int i = 0; i < NWORKERS; i++) {
		w[i].cpu = (uint32_t)i;
		w[i].rng = sl_rng_make(0x9e3779b97f4a7c15ull * (uint64_t)(i + 1), SL_RNG_XORSHIFT);
		pthread_create(&w[i].tid, NULL, worker_main, &w[i]);
	}
	end = now_ms() + ms;
	while (now_ms() < end || rounds < 4) {  /* a slow machine (TSan, load) gets its rounds */
		control_round(&rng, &d, &ctl_torn, &rc);
		rounds++;
		nanosleep(&(struct timespec){0, 500000}, NULL);  /* let workers have the cores */
	}
	atomic_store(&stop, 1);
	for (int i = 0; i < NWORKERS; i++)
		pthread_join(w[i].tid, NULL);
	check_final(w);
	sl_map_ringbuf_consume(rb, rb_cb, &rc);
	CHECK_EQ(rc.bad, 0);
	CHECK_EQ(rc.got, w[0].rb_sent + w[1].rb_sent);
	for (int i = 0; i < NWORKERS; i++) {
		CHECK_EQ(rc.next[i], w[i].rb_sent);
		CHECK(w[i].rb_sent > 100);
		CHECK_EQ(w[i].lpm_bad, 0);
		CHECK(w[i].lpm_hits > 100);
	}
	CHECK_EQ(d.dups, 0);
	CHECK_EQ(d.torn, 0);
	CHECK_EQ(ctl_torn, 0);
	CHECK(rounds > 3);
	printf("ops: %llu + %llu, -EBUSY: %llu + %llu, control rounds: %u, dump entries: %llu, "
	       "ring records: %llu (full: %llu)\n",
	       (unsigned long long)w[0].ops, (unsigned long long)w[1].ops,
	       (unsigned long long)w[0].busy, (unsigned long long)w[1].busy, rounds,
	       (unsigned long long)d.entries, (unsigned long long)rc.got,
	       (unsigned long long)(w[0].rb_full + w[1].rb_full));
	sl_map_destroy(percpu);
	sl_map_destroy(parr);
	sl_map_destroy(shared);
	sl_map_destroy(lru);
	sl_map_destroy(rb);
	sl_map_destroy(lpm);
	sl_map_destroy(word);
	free(d.seen);
	return sl_test_done("maps_stress");
}
