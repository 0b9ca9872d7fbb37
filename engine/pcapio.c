/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Capture files for the replay: reading pcap and pcapng through a reused window,
 * writing pcap through one large buffer.
 *
 * Reader. The file is read with read() into a window of 256 KiB that is
 * reused (what is left of it moved to the front, the rest read after it):
 * records are returned as pointers into the window, no copy, no read() per
 * record. (Mapping the file was 2.5x slower here: the first touch of each
 * page of a new mapping costs more than the kernel's copy into a buffer
 * that stays in the L2 cache; see README, replay speed.) The buffer can
 * hold the window plus the largest record; a longer pcapng block grows it
 * (up to SL_PCAP_MAX_BLOCK).
 *   pcap:   24-byte header; magic a1b2c3d4 (microseconds) or a1b23c4d
 *           (nanoseconds) in either byte order; 16-byte record headers.
 *   pcapng: sections (SHB, either byte order, one file may mix them),
 *           interfaces (IDB: link type, snaplen, if_tsresol, if_tsoffset),
 *           packets (EPB, SPB, the obsolete PB); other blocks are skipped.
 *           Every interface must have the link type of the first one.
 *           Timestamps come out in microseconds when every interface known
 *           before the first packet counts in microseconds or coarser,
 *           otherwise in nanoseconds.
 * The snaplen is libpcap's: 0 or more than 262144 in the file means 262144.
 * A record cut by the end of the file, caplen > len, caplen > snaplen, or a
 * malformed block stops the reading with one line naming the record and
 * its byte offset; the records before it were returned normally.
 *
 * Input "-" is stdin, copied into an unlinked file first (stdin_copy()).
 *
 * Read-ahead (sl_pcap_read_ahead; the replay starts it for inputs of 512
 * KiB and more unless told otherwise):
 * a thread reads the file with pread() in 256 KiB chunks into a ring of
 * four slots while the replay thread processes the records, so that the
 * kernel's copy out of the page cache (a third or more of a replay's CPU
 * time) runs on another core. Each slot has 64 KiB of room before its
 * chunk for the record or block cut by the end of the previous chunk:
 * fill() copies that piece there and the window continues in the new
 * chunk, so records are still taken in place. A longer piece (a record or
 * block of more than 64 KiB) is assembled in the window buffer. The replay thread holds one slot at a time (the window)
 * and hands it back when it takes the next; one lock and condition
 * variable per chunk, nothing per record. A read error travels with its
 * chunk and is reported where the records reach it, as without the thread.
 *
 * The common case (a sane record of a host-order pcap; a record that fits
 * the write buffer) is inline in pcapio.h; this file has the rest.
 *
 * Writer. Records are appended to a 512 KiB buffer (huge pages, see
 * big_alloc) that is written out with
 * write() when full and at close; the first failing write is kept (sticky)
 * and reported at close. Header and records in host byte order, as
 * libpcap's pcap_dump writes them. Every write() but the last ends at a
 * file offset that is a multiple of WALIGN (64 KiB): each write() then
 * starts aligned, and the page cache takes it in folios of up to 64 KiB
 * instead of a run of small ones after a partial page (40 MB in 512 KiB
 * writes: 6.5-7 ms of system time against 7.3-10 ms when every write
 * starts 24 bytes past a page, as the file header puts it; README, replay
 * speed). A full buffer ends there by itself (the record that does not fit
 * is split between two buffers, see wappend); the blocks of several
 * workers (sl_pcap_wput) are written up to the last multiple, the bytes
 * after it carried over in the buffer.
 *
 * Replay thread; the reader allocates only for a pcapng block longer than
 * its buffer.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "engine_internal.h"
#include "pcapio.h"

#define PCAP_MAGIC_US 0xa1b2c3d4u
#define PCAP_MAGIC_NS 0xa1b23c4du
#define PCAPNG_SHB 0x0a0d0d0au
#define PCAPNG_BOM 0x1a2b3c4du
#define PCAPNG_IDB 1u
#define PCAPNG_PB 2u
#define PCAPNG_SPB 3u
#define PCAPNG_EPB 6u
#define OPT_IF_TSRESOL 9
#define OPT_IF_TSOFFSET 14
#define WBUF_SIZE (512u << 10)  /* stays in L2 while it fills */
#define WALIGN (64u << 10)      /* writes end at a file offset multiple of this (see wcut) */
_Static_assert(WBUF_SIZE % WALIGN == 0, "a full buffer that starts aligned ends aligned");
#define WINDOW (256u << 10)       /* bytes read at a time */
#define SL_PCAP_MAX_BLOCK (64u << 20)
#define AHEAD_SLOTS 4u
#define AHEAD_CHUNK (256u << 10)
#define AHEAD_ROOM (64u << 10)  /* before each chunk: the cut record, if no longer */

/* One chunk of the file: AHEAD_ROOM bytes of room, then up to AHEAD_CHUNK read. */
struct ahead_slot {
	uint8_t *mem;
	size_t len;       /* bytes read */
	uint64_t pos;     /* file offset of the chunk */
	int err;          /* -errno of the read that stopped here, or 0 */
	uint64_t done;    /* chunk number + 1 once read into the slot (atomic) */
};

/*
 * The I/O thread of a read-ahead or write-behind ring. The ring's counters
 * are atomics: a hand-over is a store and a load, no lock, no system call;
 * a side that has to wait sleeps on sl (struct sl_sleeper, pcapio.h), and
 * the other side takes its lock only when someone sleeps (the earlier code
 * took the lock and signalled at every chunk: 3-5 futex calls a chunk).
 * Counters and stop are sequentially consistent, as sl_sleeper requires.
 * io_start() / io_stop().
 */
struct io_thread {
	pthread_t thread;
	struct sl_sleeper sl;
	bool stop;                      /* the thread ends (close) */
};

/*
 * The ring: chunk c (the file from start + c * AHEAD_CHUNK) is read into
 * slot c % AHEAD_SLOTS by whichever thread claims it first (claimed, a
 * compare-and-swap), then taken and handed back (released) in order by
 * the replay thread; the counters only grow. The reader thread claims the
 * next chunk while claimed - released < AHEAD_SLOTS, and once it found the
 * ring full, waits for half of it to be free (fewer wake-ups). The replay
 * thread takes chunk taken once its slot's done says so; when the reader
 * thread is behind, it claims and reads that chunk itself, and when the
 * reader thread is in the middle of it, it reads the following one
 * meanwhile, instead of waiting: the two share the kernel's copies out of
 * the page cache by how busy they are. A slot's fields are written before
 * its done and read before released hands it back. taken is the replay
 * thread's own.
 */
struct sl_pcap_ahead {
	struct io_thread io;
	uint64_t claimed, taken, released;
	int fd;
	uint64_t start, end;            /* file offset of chunk 0, the file size */
	uint8_t *mem;                   /* the slots' memory (big_alloc) */
	size_t mapped;
	struct ahead_slot slot[AHEAD_SLOTS];
};

/* File offset of the next record or block (for messages). */
#define POS(r) ((size_t)((r)->file_pos + (r)->off))

static int say(char *log, size_t log_len, int err, const char *fmt, ...)
{
	va_list ap;

	if (log && log_len) {
		va_start(ap, fmt);
		vsnprintf(log, log_len, fmt, ap);
		va_end(ap);
	}
	return err;
}

static uint32_t rd32(const struct sl_pcap_reader *r, const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return r->swap ? __builtin_bswap32(v) : v;
}

static uint16_t rd16(const struct sl_pcap_reader *r, const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return r->swap ? __builtin_bswap16(v) : v;
}

static uint32_t adjust_snaplen(uint32_t s)
{
	return s == 0 || s > SL_PCAP_MAX_SNAPLEN ? SL_PCAP_MAX_SNAPLEN : s;
}

/* ---- buffers ---- */

#define HUGE_PAGE (2u << 20)

/*
 * The large I/O buffers (the read-ahead ring, write buffers): mapped 2 MiB
 * aligned and advised as transparent huge pages. On a virtual machine the
 * first touch of each 4 KiB page can cost 10-20 us (a fault, and the
 * host's shadow page tables); a 2 MiB huge page costs about what 20 small
 * ones do, so the ring and a write buffer (260 small pages) cost ~0.5 ms
 * instead of ~4 ms. Small pages where huge ones are not available.
 * *mapped is what to unmap. NULL on failure.
 */
static uint8_t *big_alloc(size_t size, size_t *mapped)
{
	size_t len = (size + HUGE_PAGE - 1) & ~(size_t)(HUGE_PAGE - 1);
	uint8_t *p = mmap(NULL, len + HUGE_PAGE, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	size_t head;

	if (p == MAP_FAILED)
		return NULL;
	head = (size_t)(-(uintptr_t)p & (HUGE_PAGE - 1));
	if (head)
		munmap(p, head);
	munmap(p + head + len, HUGE_PAGE - head);
	p += head;
#ifdef MADV_HUGEPAGE
	madvise(p, len, MADV_HUGEPAGE);
#endif
	*mapped = len;
	return p;
}

static void big_free(void *p, size_t mapped)
{
	if (p)
		munmap(p, mapped);
}

uint8_t *sl_pcap_buf_alloc(size_t size, size_t *mapped)
{
	return big_alloc(size, mapped);
}

void sl_pcap_buf_free(void *p, size_t mapped)
{
	big_free(p, mapped);
}

/* The window buffer, @p want bytes long now, its first @p keep bytes kept. */
static int buf_grow(struct sl_pcap_reader *r, size_t want, size_t keep)
{
	size_t mapped;
	uint8_t *nb = big_alloc(want, &mapped);

	if (!nb)
		return -ENOMEM;
	memcpy(nb, r->buf, keep);
	big_free(r->buf, r->mapped);
	r->buf = nb;
	r->mapped = mapped;
	r->cap = mapped;
	return 0;
}

static int fill_ahead(struct sl_pcap_reader *r, size_t need, char *log, size_t log_len);

/*
 * At least @p need bytes from r->off in the window, unless the file ends
 * first: what is left moves to the front, then read() appends (a window's
 * worth, or what @p need asks); with read-ahead, fill_ahead(). 0 or -errno
 * with one line in @p log.
 */
static int fill(struct sl_pcap_reader *r, size_t need, char *log, size_t log_len)
{
	size_t want = need > WINDOW ? need : WINDOW;

	if (r->size - r->off >= need || r->eof)
		return 0;
	if (r->ahead)
		return fill_ahead(r, need, log, log_len);
	if (r->off) {
		memmove(r->buf, r->buf + r->off, r->size - r->off);
		r->file_pos += r->off;
		r->size -= r->off;
		r->off = 0;
	}
	if (want > r->cap) {
		if (want > SL_PCAP_MAX_BLOCK || buf_grow(r, want, r->size))
			return say(log, log_len, -ENOMEM, "%s: byte %zu: a block of %zu bytes is too "
				   "long to read", r->path, POS(r), need);
		r->base = r->buf;
	}
	while (r->size < want && !r->eof) {
		ssize_t n = read(r->fd, r->buf + r->size, want - r->size);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return say(log, log_len, -errno, "%s: byte %zu: read: %s", r->path,
				   (size_t)(r->file_pos + r->size), strerror(errno));
		r->size += (size_t)n;
		r->eof = n == 0 || r->file_pos + r->size >= r->file_size;
		if (r->size >= need && r->size >= WINDOW)
			break;
	}
	return 0;
}

/* ---- waiting (see struct io_thread) ---- */

static uint64_t ld(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_SEQ_CST);
}

static void st(uint64_t *p, uint64_t v)
{
	__atomic_store_n(p, v, __ATOMIC_SEQ_CST);
}

static bool stopping(struct io_thread *io)
{
	return __atomic_load_n(&io->stop, __ATOMIC_SEQ_CST);
}

void sl_sleeper_init(struct sl_sleeper *s)
{
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->cond, NULL);
	s->sleeping = 0;
}

void sl_sleeper_destroy(struct sl_sleeper *s)
{
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->cond);
}

void sl_sleeper_wait(struct sl_sleeper *s, bool (*ready)(void *), void *arg)
{
	if (ready(arg))
		return;
	pthread_mutex_lock(&s->lock);
	__atomic_add_fetch(&s->sleeping, 1, __ATOMIC_SEQ_CST);
	while (!ready(arg))
		pthread_cond_wait(&s->cond, &s->lock);
	__atomic_sub_fetch(&s->sleeping, 1, __ATOMIC_SEQ_CST);
	pthread_mutex_unlock(&s->lock);
}

void sl_sleeper_wake(struct sl_sleeper *s)
{
	if (!__atomic_load_n(&s->sleeping, __ATOMIC_SEQ_CST))
		return;
	pthread_mutex_lock(&s->lock);
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
}

/* ---- read-ahead ---- */

/* Half of the ring is free again (or stop): the full ring's sleeper goes on. */
static bool ahead_half(void *arg)
{
	struct sl_pcap_ahead *a = arg;

	return ld(&a->claimed) - ld(&a->released) <= AHEAD_SLOTS / 2 || stopping(&a->io);
}

/* The chunk the replay thread takes next is read. */
static bool ahead_filled(void *arg)
{
	struct sl_pcap_ahead *a = arg;

	return ld(&a->slot[a->taken % AHEAD_SLOTS].done) == a->taken + 1;
}

/* Chunk @p c is in the file and its slot is free: claim it (false: someone else did, or no). */
static bool ahead_claim(struct sl_pcap_ahead *a, uint64_t c)
{
	uint64_t expect = c;

	return a->start + c * AHEAD_CHUNK < a->end && c - ld(&a->released) < AHEAD_SLOTS &&
	       __atomic_compare_exchange_n(&a->claimed, &expect, c + 1, false, __ATOMIC_SEQ_CST,
					   __ATOMIC_SEQ_CST);
}

/*
 * Read claimed chunk @p c into its slot (either thread). False when it is
 * the last one worth reading: short (the end of the file) or failed.
 */
static bool ahead_read(struct sl_pcap_ahead *a, uint64_t c)
{
	struct ahead_slot *s = &a->slot[c % AHEAD_SLOTS];
	uint64_t pos = a->start + c * AHEAD_CHUNK;
	size_t want = a->end - pos < AHEAD_CHUNK ? (size_t)(a->end - pos) : AHEAD_CHUNK, got = 0;
	int err = 0;

	while (got < want) {
		ssize_t n = pread(a->fd, s->mem + AHEAD_ROOM + got, want - got, (off_t)(pos + got));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			err = n < 0 ? -errno : 0;
			break;
		}
		got += (size_t)n;
	}
	s->len = got;
	s->pos = pos;
	s->err = err;
	st(&s->done, c + 1);
	sl_sleeper_wake(&a->io.sl);
	return !err && got == AHEAD_CHUNK && pos + got < a->end;
}

/* The reader thread: claims and reads chunks in turn until the end of the file, an error or stop. */
static void *ahead_main(void *arg)
{
	struct sl_pcap_ahead *a = arg;

	while (!stopping(&a->io)) {
		uint64_t c = ld(&a->claimed);

		if (a->start + c * AHEAD_CHUNK >= a->end)
			break;
		if (c - ld(&a->released) >= AHEAD_SLOTS)
			sl_sleeper_wait(&a->io.sl, ahead_half, a);
		else if (ahead_claim(a, c) && !ahead_read(a, c))
			break;
	}
	return NULL;
}

/*
 * The next chunk: read by the reader thread, or by this one if the reader
 * thread has not claimed it yet; while the reader thread is in the middle
 * of it, the chunk after it is read here before waiting.
 */
static struct ahead_slot *ahead_next(struct sl_pcap_ahead *a)
{
	uint64_t t = a->taken;

	if (!ahead_filled(a) && !(ahead_claim(a, t) && (ahead_read(a, t), true))) {
		uint64_t c = ld(&a->claimed);

		if (c == t + 1 && ahead_claim(a, c))
			ahead_read(a, c);
		sl_sleeper_wait(&a->io.sl, ahead_filled, a);
	}
	a->taken++;
	return &a->slot[t % AHEAD_SLOTS];
}

/* Hand back the oldest slot taken (the one the window was in, or one copied out). */
static void ahead_release(struct sl_pcap_ahead *a)
{
	uint64_t released = a->released + 1;

	st(&a->released, released);
	if (ld(&a->claimed) - released <= AHEAD_SLOTS / 2)  /* what ahead_half() waits for */
		sl_sleeper_wake(&a->io.sl);
}

/* Whether the window is in a slot (not in r->buf). */
static bool in_slot(const struct sl_pcap_reader *r)
{
	return r->base != r->buf;
}

/*
 * fill() with read-ahead: the next chunk, with what is left of the window
 * copied into the room before it (or, when that is too long, the two
 * assembled in r->buf), until @p need bytes are there or the file ends.
 */
static int fill_ahead(struct sl_pcap_reader *r, size_t need, char *log, size_t log_len)
{
	while (r->size - r->off < need && !r->eof) {
		size_t left = r->size - r->off;
		bool held = in_slot(r);
		struct ahead_slot *s = ahead_next(r->ahead);
		/* the slot's fields are the reader thread's again once it is handed back */
		uint64_t pos = s->pos;
		size_t len = s->len;
		int err = s->err;
		uint8_t *data = s->mem + AHEAD_ROOM;

		if (err) {
			ahead_release(r->ahead);
			r->eof = true;
			return say(log, log_len, err, "%s: byte %zu: read: %s", r->path,
				   (size_t)(pos + len), strerror(-err));
		}
		if (left <= AHEAD_ROOM) {
			memcpy(data - left, r->base + r->off, left);
			if (held)
				ahead_release(r->ahead);
			r->base = data - left;
		} else {
			if (!held)
				memmove(r->buf, r->buf + r->off, left);
			if (left + len > r->cap &&
			    (left + len > SL_PCAP_MAX_BLOCK + AHEAD_CHUNK ||
			     buf_grow(r, left + len, held ? 0 : left))) {
				ahead_release(r->ahead);
				return say(log, log_len, -ENOMEM, "%s: byte %zu: a block of %zu bytes is "
					   "too long to read", r->path, POS(r), need);
			}
			if (held) {
				memcpy(r->buf, r->base + r->off, left);
				ahead_release(r->ahead);
			}
			memcpy(r->buf + left, data, len);
			ahead_release(r->ahead);
			r->base = r->buf;
		}
		r->file_pos = pos - left;
		r->off = 0;
		r->size = left + len;
		r->eof = len < AHEAD_CHUNK || pos + len >= r->file_size;
	}
	return 0;
}

/*
 * @p io's lock and condition, and its thread running fn(arg) with every
 * signal blocked (they go to the replay thread); 0 or the pthread error,
 * with nothing left to undo.
 */
static int io_start(struct io_thread *io, void *(*fn)(void *), void *arg)
{
	sigset_t all, old;
	int err;

	sl_sleeper_init(&io->sl);
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	err = pthread_create(&io->thread, NULL, fn, arg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err)
		sl_sleeper_destroy(&io->sl);
	return err;
}

/* Tell @p io's thread to stop, wait for it to end, and free its lock and condition. */
static void io_stop(struct io_thread *io)
{
	__atomic_store_n(&io->stop, true, __ATOMIC_SEQ_CST);
	pthread_mutex_lock(&io->sl.lock);
	pthread_cond_broadcast(&io->sl.cond);
	pthread_mutex_unlock(&io->sl.lock);
	pthread_join(io->thread, NULL);
	sl_sleeper_destroy(&io->sl);
}

int sl_pcap_read_ahead(struct sl_pcap_reader *r, char *log, size_t log_len)
{
	struct sl_pcap_ahead *a;
	int err;

	if (r->ahead || r->eof)
		return 0;
	a = calloc(1, sizeof(*a));
	if (!a || !(a->mem = big_alloc(AHEAD_SLOTS * (size_t)(AHEAD_ROOM + AHEAD_CHUNK),
				       &a->mapped))) {
		free(a);
		return say(log, log_len, -ENOMEM, "%s: read-ahead: %s", r->path, strerror(ENOMEM));
	}
	for (unsigned i = 0; i < AHEAD_SLOTS; i++)
		a->slot[i].mem = a->mem + i * (size_t)(AHEAD_ROOM + AHEAD_CHUNK);
	a->fd = r->fd;
	a->start = r->file_pos + r->size;
	a->end = r->file_size;
	err = io_start(&a->io, ahead_main, a);
	if (err) {
		big_free(a->mem, a->mapped);
		free(a);
		return say(log, log_len, -err, "%s: read-ahead thread: %s", r->path, strerror(err));
	}
	r->ahead = a;
	return 0;
}

/* Stop and join the thread, free the ring; the window falls back to r->buf. */
static void ahead_stop(struct sl_pcap_reader *r)
{
	struct sl_pcap_ahead *a = r->ahead;

	if (!a)
		return;
	io_stop(&a->io);
	big_free(a->mem, a->mapped);
	free(a);
	r->ahead = NULL;
}

/* ---- classic pcap ---- */

static int open_pcap(struct sl_pcap_reader *r, uint32_t magic, char *log, size_t log_len)
{
	uint16_t major;

	r->swap = magic == __builtin_bswap32(PCAP_MAGIC_US) || magic == __builtin_bswap32(PCAP_MAGIC_NS);
	r->res = (magic == PCAP_MAGIC_NS || magic == __builtin_bswap32(PCAP_MAGIC_NS)) ?
		 SL_PCAP_NSEC : SL_PCAP_USEC;
	if (r->file_size < 24)
		return say(log, log_len, -EINVAL, "%s: truncated pcap header (%zu of 24 bytes)",
			   r->path, (size_t)r->file_size);
	major = rd16(r, r->base + 4);
	if (major != 2)
		return say(log, log_len, -EINVAL, "%s: pcap version %u.%u, only 2.x is read", r->path,
			   major, rd16(r, r->base + 6));
	r->snaplen = adjust_snaplen(rd32(r, r->base + 16));
	r->linktype = rd32(r, r->base + 20) & 0x03ffffffu;
	r->off = 24;
	return 0;
}

static int next_pcap(struct sl_pcap_reader *r, struct sl_pcap_rec *rec, char *log, size_t log_len)
{
	const uint8_t *h;
	uint32_t caplen, len;
	size_t left;
	int err = fill(r, 16, log, log_len);

	if (err)
		return err;
	left = r->size - r->off;
	if (left == 0)
		return 0;
	if (left < 16)
		return say(log, log_len, -EINVAL, "%s: record %llu (byte %zu): truncated header "
			   "(%zu of 16 bytes)", r->path, (unsigned long long)r->nrec + 1, POS(r), left);
	caplen = rd32(r, r->base + r->off + 8);
	len = rd32(r, r->base + r->off + 12);
	if (caplen > r->snaplen)
		return say(log, log_len, -EINVAL, "%s: record %llu (byte %zu): caplen %u is larger "
			   "than the snaplen %u", r->path, (unsigned long long)r->nrec + 1, POS(r),
			   caplen, r->snaplen);
	if (caplen > len)
		return say(log, log_len, -EINVAL, "%s: record %llu (byte %zu): caplen %u is larger "
			   "than the packet length %u", r->path, (unsigned long long)r->nrec + 1,
			   POS(r), caplen, len);
	if ((err = fill(r, 16 + (size_t)caplen, log, log_len)))
		return err;
	left = r->size - r->off;
	if (caplen > left - 16)
		return say(log, log_len, -EINVAL, "%s: record %llu (byte %zu): truncated: caplen %u, "
			   "%zu bytes left in the file", r->path, (unsigned long long)r->nrec + 1,
			   POS(r), caplen, left - 16);
	h = r->base + r->off;
	rec->sec = rd32(r, h);
	rec->frac = rd32(r, h + 4);
	rec->caplen = caplen;
	rec->len = len;
	rec->data = h + 16;
	r->off += 16 + (size_t)caplen;
	r->nrec++;
	return 1;
}

/* ---- pcapng ---- */

/*
 * The block at r->off, whole in the window: type and total length,
 * checked against the file.
 */
static int ng_block(struct sl_pcap_reader *r, uint32_t *type, uint32_t *blen, char *log,
		    size_t log_len)
{
	size_t left = (size_t)(r->file_size - POS(r));
	const uint8_t *b;
	int err = fill(r, 12, log, log_len);

	if (err)
		return err;
	b = r->base + r->off;
	if (left < 12)
		return say(log, log_len, -EINVAL, "%s: block at byte %zu: truncated (%zu bytes left)",
			   r->path, POS(r), left);
	if (rd32(r, b) == PCAPNG_SHB) {  /* a new section may change the byte order */
		uint32_t bom;

		memcpy(&bom, b + 8, 4);
		if (bom != PCAPNG_BOM && bom != __builtin_bswap32(PCAPNG_BOM))
			return say(log, log_len, -EINVAL, "%s: section at byte %zu: bad byte-order "
				   "magic 0x%08x", r->path, POS(r), bom);
		r->swap = bom != PCAPNG_BOM;
	}
	*type = rd32(r, b);
	*blen = rd32(r, b + 4);
	if (*blen < 12 || *blen % 4)
		return say(log, log_len, -EINVAL, "%s: block at byte %zu: bad length %u", r->path,
			   POS(r), *blen);
	if (*blen > left)
		return say(log, log_len, -EINVAL, "%s: block at byte %zu: truncated: length %u, %zu "
			   "bytes left in the file", r->path, POS(r), *blen, left);
	if ((err = fill(r, *blen, log, log_len)))
		return err;
	b = r->base + r->off;
	if (rd32(r, b + *blen - 4) != *blen)
		return say(log, log_len, -EINVAL, "%s: block at byte %zu: trailing length %u differs "
			   "from %u", r->path, POS(r), rd32(r, b + *blen - 4), *blen);
	return 0;
}

/* Timestamp units of an if_tsresol option value. */
static int tsresol_units(uint8_t v, uint64_t *units)
{
	unsigned e = v & 0x7f;

	if (v & 0x80) {
		if (e > 63)
			return -EINVAL;
		*units = 1ull << e;
		return 0;
	}
	if (e > 19)
		return -EINVAL;
	*units = 1;
	while (e--)
		*units *= 10;
	return 0;
}

static int ng_idb(struct sl_pcap_reader *r, const uint8_t *b, uint32_t blen, char *log,
		  size_t log_len)
{
	struct sl_pcapng_if *ifc = &r->ifs[r->nifs];
	uint32_t lt, pos = 16;

	if (blen < 20)
		return say(log, log_len, -EINVAL, "%s: interface block at byte %zu: too short",
			   r->path, POS(r));
	if (r->nifs == SL_PCAP_MAX_IFACES)
		return say(log, log_len, -E2BIG, "%s: interface block at byte %zu: more than %u "
			   "interfaces", r->path, POS(r), SL_PCAP_MAX_IFACES);
	lt = rd16(r, b + 8);
	if (r->linktype == UINT32_MAX)
		r->linktype = lt;
	if (lt != r->linktype)
		return say(log, log_len, -ENOTSUP, "%s: interface %u (byte %zu) has link type %u, "
			   "interface 0 has %u: one link type per file", r->path, r->nifs, POS(r), lt,
			   r->linktype);
	*ifc = (struct sl_pcapng_if){ .units = 1000000, .snaplen = rd32(r, b + 12) };
	while (pos + 4 <= blen - 4) {
		uint16_t code = rd16(r, b + pos), olen = rd16(r, b + pos + 2);

		if (code == 0 || pos + 4 + olen > blen - 4)
			break;
		if (code == OPT_IF_TSRESOL && olen == 1 && tsresol_units(b[pos + 4], &ifc->units))
			return say(log, log_len, -EINVAL, "%s: interface %u (byte %zu): bad if_tsresol "
				   "0x%02x", r->path, r->nifs, POS(r), b[pos + 4]);
		if (code == OPT_IF_TSOFFSET && olen == 8) {
			uint64_t v = (uint64_t)rd32(r, b + pos + 4) | (uint64_t)rd32(r, b + pos + 8) << 32;

			if (r->swap)  /* a 64-bit value: swap the halves too */
				v = (uint64_t)rd32(r, b + pos + 8) | (uint64_t)rd32(r, b + pos + 4) << 32;
			ifc->offset = (int64_t)v;
		}
		pos += 4 + ((olen + 3u) & ~3u);
	}
	if (adjust_snaplen(ifc->snaplen) > r->snaplen)
		r->snaplen = adjust_snaplen(ifc->snaplen);
	r->nifs++;
	return 0;
}

/* Timestamp in @p ifc units -> seconds and the reader's fraction. */
static void ng_time(const struct sl_pcap_reader *r, const struct sl_pcapng_if *ifc, uint64_t ts,
		    struct sl_pcap_rec *rec)
{
	uint64_t per = r->res == SL_PCAP_NSEC ? 1000000000ull : 1000000ull;
	uint64_t rest = ts % ifc->units;

	rec->sec = ts / ifc->units + (uint64_t)ifc->offset;
	rec->frac = (uint32_t)(ifc->units == per ? rest :
			       (uint64_t)((unsigned __int128)rest * per / ifc->units));
}

static int ng_packet(struct sl_pcap_reader *r, uint32_t type, const uint8_t *b, uint32_t blen,
		     struct sl_pcap_rec *rec, char *log, size_t log_len)
{
	uint32_t ifid = 0, hdr = 28, room;
	const struct sl_pcapng_if *ifc;

	if (type == PCAPNG_SPB)
		hdr = 12;
	if (blen < hdr + 4)
		return say(log, log_len, -EINVAL, "%s: record %llu (byte %zu): packet block too short",
			   r->path, (unsigned long long)r->nrec + 1, POS(r));
	room = blen - hdr - 4;
	if (type != PCAPNG_SPB)
		ifid = type == PCAPNG_EPB ? rd32(r, b + 8) : rd16(r, b + 8);
	if (ifid >= r->nifs)
		return say(log, log_len, -EINVAL, "%s: record %llu (byte %zu): interface %u was not "
			   "described", r->path, (unsigned long long)r->nrec + 1, POS(r), ifid);
	ifc = &r->ifs[ifid];
	if (type == PCAPNG_SPB) {
		rec->len = rd32(r, b + 8);
		rec->caplen = rec->len < room ? rec->len : room;
		if (ifc->snaplen && rec->caplen > ifc->snaplen)
			rec->caplen = ifc->snaplen;
		rec->sec = 0;
		rec->frac = 0;
	} else {
		rec->caplen = rd32(r, b + 20);
		rec->len = rd32(r, b + 24);
		ng_time(r, ifc, (uint64_t)rd32(r, b + 12) << 32 | rd32(r, b + 16), rec);
	}
	if (rec->caplen > room)
		return say(log, log_len, -EINVAL, "%s: record %llu (byte %zu): caplen %u is larger "
			   "than its block (%u bytes)", r->path, (unsigned long long)r->nrec + 1,
			   POS(r), rec->caplen, room);
	if (rec->caplen > adjust_snaplen(ifc->snaplen))
		return say(log, log_len, -EINVAL, "%s: record %llu (byte %zu): caplen %u is larger "
			   "than the snaplen %u", r->path, (unsigned long long)r->nrec + 1, POS(r),
			   rec->caplen, adjust_snaplen(ifc->snaplen));
	if (rec->caplen > rec->len)
		return say(log, log_len, -EINVAL, "%s: record %llu (byte %zu): caplen %u is larger "
			   "than the packet length %u", r->path, (unsigned long long)r->nrec + 1,
			   POS(r), rec->caplen, rec->len);
	rec->data = b + hdr;
	return 1;
}

static int next_ng(struct sl_pcap_reader *r, struct sl_pcap_rec *rec, char *log, size_t log_len)
{
	for (;;) {
		const uint8_t *b;
		uint32_t type, blen;
		int ret;

		if (POS(r) == r->file_size)
			return 0;
		ret = ng_block(r, &type, &blen, log, log_len);
		if (ret)
			return ret;
		b = r->base + r->off;
		if (type == PCAPNG_SHB)
			r->nifs = 0;  /* interfaces are numbered per section */
		else if (type == PCAPNG_IDB)
			ret = ng_idb(r, b, blen, log, log_len);
		else if (type == PCAPNG_EPB || type == PCAPNG_SPB || type == PCAPNG_PB)
			ret = ng_packet(r, type, b, blen, rec, log, log_len);
		if (ret < 0)
			return ret;
		r->off += blen;
		if (ret == 1) {
			r->nrec++;
			return 1;
		}
	}
}

/* Back to the start of the file, with an empty window. */
static int rewind_file(struct sl_pcap_reader *r, char *log, size_t log_len)
{
	if (lseek(r->fd, 0, SEEK_SET) < 0)
		return say(log, log_len, -errno, "%s: seek: %s", r->path, strerror(errno));
	r->file_pos = 0;
	r->off = 0;
	r->size = 0;
	r->eof = false;
	return 0;
}

/*
 * Interfaces before the first packet: link type, snaplen, output
 * resolution. Reads ahead, then rewinds: next_ng() reads them again.
 */
static int open_ng(struct sl_pcap_reader *r, char *log, size_t log_len)
{
	uint32_t type, blen;
	int ret;

	r->ng = true;
	r->linktype = UINT32_MAX;
	while (POS(r) < r->file_size) {
		ret = ng_block(r, &type, &blen, log, log_len);
		if (ret)
			return ret;
		if (type == PCAPNG_EPB || type == PCAPNG_SPB || type == PCAPNG_PB)
			break;
		if (type == PCAPNG_SHB && POS(r))
			r->nifs = 0;
		if (type == PCAPNG_IDB && (ret = ng_idb(r, r->base + r->off, blen, log, log_len)))
			return ret;
		r->off += blen;
	}
	if (!r->nifs)
		return say(log, log_len, -EINVAL, "%s: pcapng file with no interface before its first "
			   "packet", r->path);
	r->res = SL_PCAP_USEC;
	for (unsigned i = 0; i < r->nifs; i++)
		if (r->ifs[i].units > 1000000)
			r->res = SL_PCAP_NSEC;
	r->nifs = 0;
	r->swap = false;
	return rewind_file(r, log, log_len);
}

/* ---- reader API ---- */

/*
 * "-r -": standard input copied into an unlinked file in $TMPDIR (or /tmp)
 * first, since the reader needs a file it can read at any offset (read-ahead,
 * workers, pcapng's second pass). An fd on the copy, or -1 with errno set
 * (EINTR: a stop signal came while reading).
 */
static int stdin_copy(void)
{
	const char *dir = getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	char buf[1 << 16];
	int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600), e;
	ssize_t n, w = 0;

	if (fd < 0)
		return -1;
	while ((n = read(0, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR && !sl_signal_stop())
			continue;  /* a stop signal ends the copy: -r - fails, said */
		if (n < 0)
			break;
		for (ssize_t done = 0; done < n && w >= 0; done += w)
			w = write(fd, buf + done, (size_t)(n - done));
		if (w < 0)
			break;
	}
	if (n == 0 && lseek(fd, 0, SEEK_SET) == 0)
		return fd;
	e = errno;
	close(fd);
	errno = e;
	return -1;
}

static int open_file(struct sl_pcap_reader *r, char *log, size_t log_len)
{
	struct stat st;
	int err;

	r->fd = strcmp(r->path, "-") ? open(r->path, O_RDONLY | O_CLOEXEC) : stdin_copy();
	if (r->fd < 0 || fstat(r->fd, &st)) {
		err = errno;
		return say(log, log_len, -err, "%s: %s", r->path, strerror(err));
	}
	if (!S_ISREG(st.st_mode))
		return say(log, log_len, -EINVAL, "%s: not a regular file", r->path);
	if (st.st_size == 0)
		return say(log, log_len, -EINVAL, "%s: empty file", r->path);
	posix_fadvise(r->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	r->file_size = (uint64_t)st.st_size;
	r->buf = big_alloc(WINDOW + 16 + SL_PCAP_MAX_SNAPLEN, &r->mapped);
	r->cap = r->mapped;
	if (!r->buf)
		return say(log, log_len, -ENOMEM, "%s: %s", r->path, strerror(ENOMEM));
	r->base = r->buf;
	return fill(r, 24, log, log_len);
}

int sl_pcap_open(struct sl_pcap_reader *r, const char *path, char *log, size_t log_len)
{
	uint32_t magic = 0;
	int ret;

	memset(r, 0, sizeof(*r));
	r->path = path;
	r->fd = -1;
	ret = open_file(r, log, log_len);
	if (ret) {
		sl_pcap_close(r);
		return ret;
	}
	memcpy(&magic, r->base, r->size < 4 ? r->size : 4);
	if (r->size >= 4 && (magic == PCAP_MAGIC_US || magic == PCAP_MAGIC_NS ||
			     magic == __builtin_bswap32(PCAP_MAGIC_US) ||
			     magic == __builtin_bswap32(PCAP_MAGIC_NS)))
		ret = open_pcap(r, magic, log, log_len);
	else if (r->size >= 4 && magic == PCAPNG_SHB)
		ret = open_ng(r, log, log_len);
	else
		ret = say(log, log_len, -EINVAL, "%s: not a pcap or pcapng file (starts %02x %02x %02x "
			  "%02x)", path, r->base[0], r->size > 1 ? r->base[1] : 0,
			  r->size > 2 ? r->base[2] : 0, r->size > 3 ? r->base[3] : 0);
	if (ret)
		sl_pcap_close(r);
	return ret;
}

int sl_pcap_seek(struct sl_pcap_reader *r, uint64_t off, uint64_t nrec, char *log,
		 size_t log_len)
{
	ahead_stop(r);
	if (lseek(r->fd, (off_t)off, SEEK_SET) < 0)
		return say(log, log_len, -errno, "%s: seek: %s", r->path, strerror(errno));
	r->base = r->buf;
	r->file_pos = off;
	r->off = 0;
	r->size = 0;
	r->eof = off >= r->file_size;
	r->nrec = nrec;
	return 0;
}

int sl_pcap_next_slow(struct sl_pcap_reader *r, struct sl_pcap_rec *rec, char *log,
		      size_t log_len)
{
	return r->ng ? next_ng(r, rec, log, log_len) : next_pcap(r, rec, log, log_len);
}

double sl_pcap_progress(const struct sl_pcap_reader *r)
{
	return r->file_size ? (double)POS(r) / (double)r->file_size : 1.0;
}

void sl_pcap_close(struct sl_pcap_reader *r)
{
	ahead_stop(r);
	if (r->fd >= 0)
		close(r->fd);
	big_free(r->buf, r->mapped);
	r->fd = -1;
	r->buf = NULL;
	r->base = NULL;
	r->size = 0;
	r->off = 0;
}

/* ---- writer ---- */

#define BEHIND_BUFS 3u

/*
 * Write-behind: BEHIND_BUFS buffers (one huge page) in a ring. The writer
 * fills buffer queued % BEHIND_BUFS and hands it over (queued++, after
 * its len); the thread writes buffers in order (written++, after err).
 * The first failed write is kept in err; later buffers are dropped, as
 * the sticky error does without the thread. Waiting: struct io_thread.
 */
struct sl_pcap_behind {
	struct io_thread io;
	uint8_t *mem;
	size_t mapped;
	size_t len[BEHIND_BUFS];
	uint64_t queued, written;
	int err;
	int fd;
};

static int write_all(int fd, const uint8_t *p, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = write(fd, p + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		done += (size_t)n;
	}
	return 0;
}

/* @p a then @p b (either may be empty) with as few writev() calls as the file takes. */
static int write2_all(int fd, const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	while (alen) {
		struct iovec iov[2] = { { (void *)(uintptr_t)a, alen }, { (void *)(uintptr_t)b, blen } };
		ssize_t n = writev(fd, iov, blen ? 2 : 1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		if ((size_t)n >= alen) {  /* a done: b's rest below */
			size_t d = (size_t)n - alen;

			if (d) {
				b += d;
				blen -= d;
			}
			alen = 0;
		} else {
			a += n;
			alen -= (size_t)n;
		}
	}
	return write_all(fd, b, blen);
}

/*
 * How many of @p len bytes that follow @p fpos bytes of the file to write
 * now: up to the last multiple of WALIGN (0 when there is none), the rest
 * to be carried over; all of them with @p all.
 */
static size_t wcut(uint64_t fpos, size_t len, bool all)
{
	uint64_t end = fpos + len;

	if (all)
		return len;
	end -= end % WALIGN;
	return end > fpos ? (size_t)(end - fpos) : 0;
}

/* A buffer waits to be written, or the thread stops (with none left, see behind_main). */
static bool behind_queued(void *arg)
{
	struct sl_pcap_behind *a = arg;

	return a->written < ld(&a->queued) || stopping(&a->io);
}

/* The writer may fill the next buffer. */
static bool behind_free(void *arg)
{
	struct sl_pcap_behind *a = arg;

	return a->queued - ld(&a->written) < BEHIND_BUFS;
}

/* The buffer after the one being filled is free (for the bytes carried over, see behind_flush). */
static bool behind_next_free(void *arg)
{
	struct sl_pcap_behind *a = arg;

	return a->queued + 1 - ld(&a->written) < BEHIND_BUFS;
}

/* Every buffer handed over is written. */
static bool behind_drained(void *arg)
{
	struct sl_pcap_behind *a = arg;

	return ld(&a->written) == a->queued;
}

/* The write-behind thread: writes the buffers handed over until stopped with none left. */
static void *behind_main(void *arg)
{
	struct sl_pcap_behind *a = arg;
	int err = 0;

	for (;;) {
		unsigned i;

		sl_sleeper_wait(&a->io.sl, behind_queued, a);
		if (a->written == ld(&a->queued))
			break;  /* stopped */
		i = (unsigned)(a->written % BEHIND_BUFS);
		if (!err && (err = write_all(a->fd, a->mem + i * (size_t)WBUF_SIZE, a->len[i])))
			__atomic_store_n(&a->err, err, __ATOMIC_SEQ_CST);
		st(&a->written, a->written + 1);
		sl_sleeper_wake(&a->io.sl);
	}
	return NULL;
}

static uint8_t *behind_buf(const struct sl_pcap_behind *a, uint64_t i)
{
	return a->mem + (i % BEHIND_BUFS) * (size_t)WBUF_SIZE;
}

/*
 * Hand the buffer over up to its cut (wcut; all of it with @p drain), the
 * bytes after the cut first copied to the start of the next buffer once
 * that one is free; then take the next buffer once it is free.
 */
static int behind_flush(struct sl_pcap_writer *w, bool drain)
{
	struct sl_pcap_behind *a = w->behind;
	size_t n = wcut(w->fpos, w->len, drain), tail = w->len - n;
	int err;

	if (n) {
		if (tail) {
			sl_sleeper_wait(&a->io.sl, behind_next_free, a);
			memcpy(behind_buf(a, a->queued + 1), w->buf + n, tail);
		}
		a->len[a->queued % BEHIND_BUFS] = n;
		st(&a->queued, a->queued + 1);
		sl_sleeper_wake(&a->io.sl);
		w->fpos += n;
	}
	sl_sleeper_wait(&a->io.sl, drain ? behind_drained : behind_free, a);
	err = __atomic_load_n(&a->err, __ATOMIC_SEQ_CST);
	if (err && !w->err)
		w->err = err;
	if (n) {
		w->buf = behind_buf(a, a->queued);
		w->len = tail;
	}
	return w->err;
}

/*
 * What is buffered, out up to its cut (wcut), the rest moved to the front;
 * with @p drain, all of it, and every buffer handed over is written too.
 * After a failed write, what is buffered is dropped (the error sticks).
 */
static int wflush_drain(struct sl_pcap_writer *w, bool drain)
{
	size_t n;

	if (w->behind)
		return behind_flush(w, drain);
	n = wcut(w->fpos, w->len, drain);
	if (!w->err && n)
		w->err = write_all(w->fd, w->buf, n);
	w->fpos += n;
	if (w->err) {
		w->len = 0;
		return w->err;
	}
	memmove(w->buf, w->buf + n, w->len - n);
	w->len -= n;
	return 0;
}

static int wflush(struct sl_pcap_writer *w)
{
	return wflush_drain(w, false);
}

int sl_pcap_write_behind(struct sl_pcap_writer *w, char *log, size_t log_len)
{
	struct sl_pcap_behind *a;
	int err;

	if (w->behind || !w->buf)
		return 0;
	_Static_assert(BEHIND_BUFS * WBUF_SIZE <= HUGE_PAGE, "the ring is the writer's huge page");
	a = calloc(1, sizeof(*a));
	if (!a)
		return say(log, log_len, -ENOMEM, "%s: write-behind: %s", w->path, strerror(ENOMEM));
	a->mem = w->buf;  /* buffer 0, the file header in it, and room for the others */
	a->mapped = w->mapped;
	a->fd = w->fd;
	err = io_start(&a->io, behind_main, a);
	if (err) {
		free(a);
		return say(log, log_len, -err, "%s: write-behind thread: %s", w->path, strerror(err));
	}
	w->mapped = 0;
	w->behind = a;
	return 0;
}

/* Stop the thread once everything handed over is written; its first error. */
static int behind_stop(struct sl_pcap_writer *w)
{
	struct sl_pcap_behind *a = w->behind;
	int err;

	io_stop(&a->io);
	err = a->err;
	big_free(a->mem, a->mapped);
	free(a);
	w->behind = NULL;
	w->buf = NULL;
	return err;
}

static void wput32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

int sl_pcap_wopen(struct sl_pcap_writer *w, const char *path, enum sl_pcap_res res,
		  uint32_t snaplen, uint32_t linktype, char *log, size_t log_len)
{
	uint8_t *h;

	memset(w, 0, sizeof(*w));
	w->path = path;
	w->fd = strcmp(path, "-") ? open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644) : 1;
	if (w->fd < 0)
		return say(log, log_len, -errno, "%s: %s", path, strerror(errno));
	w->cap = WBUF_SIZE;
	w->buf = big_alloc(w->cap, &w->mapped);
	if (!w->buf) {
		if (w->fd != 1)
			close(w->fd);
		w->fd = -1;
		return say(log, log_len, -ENOMEM, "%s: %s", path, strerror(ENOMEM));
	}
	h = w->buf;
	wput32(h, res == SL_PCAP_NSEC ? PCAP_MAGIC_NS : PCAP_MAGIC_US);
	wput32(h + 4, 2u | 4u << 16);  /* version 2.4 (u16 major, u16 minor, host order) */
	wput32(h + 8, 0);
	wput32(h + 12, 0);
	wput32(h + 16, snaplen);
	wput32(h + 20, linktype);
	w->len = 24;
	return 0;
}

/*
 * Append @p n bytes, the buffer written out each time it is full: a
 * record that does not fit is split between two buffers, so that every
 * buffer but the last goes out whole and ends where the next starts, at
 * a multiple of WALIGN (the first starts at the file's offset 0; after
 * sl_pcap_wput, at a multiple of WALIGN too): nothing to carry over.
 */
static int wappend(struct sl_pcap_writer *w, const uint8_t *p, size_t n)
{
	while (n) {
		size_t k = w->cap - w->len < n ? w->cap - w->len : n;

		memcpy(w->buf + w->len, p, k);
		w->len += k;
		p += k;
		n -= k;
		if (w->len == w->cap && wflush(w))
			return w->err;
	}
	return 0;
}

int sl_pcap_write_slow(struct sl_pcap_writer *w, const struct sl_pcap_rec *hdr,
		       const uint8_t *data, uint32_t caplen)
{
	uint8_t h[16];

	wput32(h, (uint32_t)hdr->sec);
	wput32(h + 4, hdr->frac);
	wput32(h + 8, caplen);
	wput32(h + 12, hdr->len);
	if (w->err || wappend(w, h, 16) || wappend(w, data, caplen))
		return w->err;
	w->pkts++;
	return 0;
}

int sl_pcap_wput(struct sl_pcap_writer *w, const uint8_t *p, size_t len, uint64_t pkts)
{
	size_t n, from_buf;

	if (w->behind && wflush_drain(w, true))
		return w->err;
	if (w->err)
		return w->err;
	w->pkts += pkts;
	n = wcut(w->fpos, w->len + len, false);  /* what is left after it: < WALIGN <= cap */
	from_buf = n < w->len ? n : w->len;
	if (n) {
		w->err = write2_all(w->fd, w->buf, from_buf, p, n - from_buf);
		w->fpos += n;
		if (w->err) {
			w->len = 0;
			return w->err;
		}
	}
	/* the rest, less than WALIGN bytes, to the front of the buffer */
	memmove(w->buf, w->buf + from_buf, w->len - from_buf);
	w->len -= from_buf;
	if (len > n - from_buf) {
		memcpy(w->buf + w->len, p + (n - from_buf), len - (n - from_buf));
		w->len += len - (n - from_buf);
	}
	return 0;
}

int sl_pcap_wclose(struct sl_pcap_writer *w, char *log, size_t log_len)
{
	int err;

	if (!w->buf)
		return 0;
	err = wflush_drain(w, true);
	if (w->behind) {
		int e = behind_stop(w);

		err = err ? err : e;
	}
	if (w->fd > 1 && close(w->fd) && !err)
		err = -errno;
	big_free(w->buf, w->mapped);
	w->buf = NULL;
	w->fd = -1;
	if (err)
		return say(log, log_len, err, "%s: write: %s", w->path, strerror(-err));
	return 0;
}
