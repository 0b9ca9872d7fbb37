/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Capture files for the replay (pcapio.c): a reader of pcap and pcapng
 * through a small reused window, and a buffered pcap writer. No libpcap, no DPDK.
 */
#ifndef SL_ENGINE_PCAPIO_H
#define SL_ENGINE_PCAPIO_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define SL_PCAP_MAX_IFACES 256      /**< pcapng interfaces per section */
#define SL_PCAP_MAX_SNAPLEN 262144u /**< libpcap's MAXIMUM_SNAPLEN */

/** Timestamp resolution of a file, and of the pcap written from it. */
enum sl_pcap_res { SL_PCAP_USEC, SL_PCAP_NSEC };

/** One record: points into the reader's window. */
struct sl_pcap_rec {
	const uint8_t *data;
	uint32_t caplen;   /**< bytes captured */
	uint32_t len;      /**< length on the wire */
	uint64_t sec;
	uint32_t frac;     /**< micro- or nanoseconds, per the reader's res */
};

/** pcapng interface: resolution and offset of its timestamps. */
struct sl_pcapng_if {
	uint64_t units;    /**< timestamp units per second */
	int64_t offset;    /**< if_tsoffset, seconds */
	uint32_t snaplen;
};

/**
 * How replay's threads (the I/O threads here, the workers of replay_par.c)
 * wait for each other: the shared counters are atomics, a side that must
 * wait sleeps on the condition and says so in sleeping, and a side that
 * moved a counter takes the lock to wake only when someone sleeps. The
 * counters and sleeping are sequentially consistent, so a sleeper's
 * "sleeping++, check" and a waker's "update, check sleeping" cannot both
 * miss (no lost wake-up).
 */
struct sl_sleeper {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	unsigned sleeping;  /**< threads in pthread_cond_wait */
};

void sl_sleeper_init(struct sl_sleeper *s);
void sl_sleeper_destroy(struct sl_sleeper *s);
/** Until ready(arg), asleep on @p s's condition when it is not at once. */
void sl_sleeper_wait(struct sl_sleeper *s, bool (*ready)(void *), void *arg);
/** After a counter changed: wake whoever sleeps in sl_sleeper_wait(), if anyone. */
void sl_sleeper_wake(struct sl_sleeper *s);

struct sl_pcap_ahead;  /* read-ahead thread (pcapio.c) */

/**
 * A capture being read: a window of the file (base[0..size)) read into a
 * buffer that is reused as the reading goes on (or, with read-ahead, the
 * chunk the read-ahead thread read last); off is the next record or block
 * in the window, file_pos the file offset of base[0].
 */
struct sl_pcap_reader {
	const char *path;
	const uint8_t *base;    /**< the window (== buf) */
	size_t size;            /**< valid bytes in the window */
	size_t off;             /**< next record or block, in the window */
	uint64_t file_pos;      /**< file offset of base[0] */
	uint64_t file_size;
	int fd;
	bool eof;               /**< the window reaches the end of the file */
	uint8_t *buf;           /**< the window; with read-ahead, where a long block is assembled */
	size_t cap, mapped;
	struct sl_pcap_ahead *ahead;  /**< the read-ahead thread, or NULL (reads in fill()) */
	bool ng;                /**< pcapng */
	bool swap;              /**< other byte order than the host's (current section) */
	enum sl_pcap_res res;   /**< resolution the records are given in */
	uint32_t linktype;
	uint32_t snaplen;       /**< classic: the header's; pcapng: the largest interface's */
	uint64_t nrec;          /**< records returned so far */
	unsigned nifs;
	struct sl_pcapng_if ifs[SL_PCAP_MAX_IFACES];
};

#define SL_PCAP_THREADS_MIN (512u << 10)  /**< input size from which I/O threads pay */

/**
 * Start the read-ahead thread of an open reader: it reads the file in
 * chunks while the records are processed (at most once, before the first
 * record). 0, or -errno with one line in @p log (the reader then goes on
 * without). Replay thread.
 */
int sl_pcap_read_ahead(struct sl_pcap_reader *r, char *log, size_t log_len);

/**
 * Open @p path (a regular file) and read its header (pcap: either byte order, micro- or
 * nanoseconds; pcapng: the first section and the interfaces that precede
 * the first packet). 0, or -errno with one line in @p log ("in.pcap: empty
 * file", "in.pcap: not a pcap or pcapng file (starts 3c 68 74 6d)").
 */
int sl_pcap_open(struct sl_pcap_reader *r, const char *path, char *log, size_t log_len);

/**
 * Next record (reading more of the file into the window as needed). 1
 * with @p rec filled (pointing into the window: valid until the next
 * call), 0 at the end of the file, or -errno with one line in @p log
 * naming the record and byte offset (a truncated record, caplen > len,
 * caplen > snaplen, a malformed block, a read error). Records before the
 * fault were returned normally.
 */
int sl_pcap_next_slow(struct sl_pcap_reader *r, struct sl_pcap_rec *rec, char *log,
		      size_t log_len);

#define SL_PCAP_PREFETCH 512  /**< bytes ahead the reader prefetches */

/*
 * Inline fast path: a whole, sane record of a classic pcap in host byte
 * order, already in the window. Anything else (pcapng, the other byte
 * order, the end of the window, a fault) takes sl_pcap_next_slow(), which
 * reads more or says what is wrong.
 */
static inline int sl_pcap_next(struct sl_pcap_reader *r, struct sl_pcap_rec *rec, char *log,
			       size_t log_len)
{
	size_t left = r->size - r->off;

	if (!r->ng && !r->swap && left >= 16) {
		const uint8_t *h = r->base + r->off;
		uint32_t w[4];

		__builtin_prefetch(h + SL_PCAP_PREFETCH);
		memcpy(w, h, 16);
		if (w[2] <= w[3] && w[2] <= r->snaplen && w[2] <= left - 16) {
			rec->sec = w[0];
			rec->frac = w[1];
			rec->caplen = w[2];
			rec->len = w[3];
			rec->data = h + 16;
			r->off += 16 + (size_t)w[2];
			r->nrec++;
			return 1;
		}
	}
	return sl_pcap_next_slow(r, rec, log, log_len);
}

/**
 * Go on reading at file offset @p off, the start of record @p nrec + 1, of
 * a classic pcap (after records taken elsewhere: several workers, see
 * replay_par.c); the read-ahead thread, if any, is stopped. 0 or -errno with
 * one line in @p log.
 */
int sl_pcap_seek(struct sl_pcap_reader *r, uint64_t off, uint64_t nrec, char *log,
		 size_t log_len);

/**
 * A large buffer for file data, 2 MiB aligned and advised as huge pages
 * (see pcapio.c, big_alloc); *mapped is what sl_pcap_buf_free() unmaps.
 * NULL on failure.
 */
uint8_t *sl_pcap_buf_alloc(size_t size, size_t *mapped);
void sl_pcap_buf_free(void *p, size_t mapped);

/** Fraction of the file read so far, 0..1 (progress). */
double sl_pcap_progress(const struct sl_pcap_reader *r);

/** Close the file and free the window. */
void sl_pcap_close(struct sl_pcap_reader *r);

struct sl_pcap_behind;  /* write-behind thread (pcapio.c) */

/** A pcap file being written, through its own large buffer. */
struct sl_pcap_writer {
	const char *path;
	int fd;
	uint8_t *buf;      /**< the buffer being filled (huge pages where available) */
	size_t len, cap, mapped;  /**< mapped: what to unmap, 0 when the thread owns buf */
	uint64_t pkts;
	uint64_t fpos;     /**< bytes handed to the file (written, or to the write-behind thread) */
	int err;           /**< sticky -errno of a failed write */
	struct sl_pcap_behind *behind;  /**< the write-behind thread, or NULL */
};

/**
 * Create @p path ("-" is stdout) and write a pcap header in host byte order
 * (magic for @p res, version 2.4, @p snaplen, @p linktype). 0 or -errno
 * with one line in @p log.
 */
int sl_pcap_wopen(struct sl_pcap_writer *w, const char *path, enum sl_pcap_res res,
		  uint32_t snaplen, uint32_t linktype, char *log, size_t log_len);

/**
 * Start the write-behind thread of an open writer: full buffers are
 * handed to it and written, in order, while the next one fills. 0, or
 * -errno with one line in @p log (the writer then goes on without).
 */
int sl_pcap_write_behind(struct sl_pcap_writer *w, char *log, size_t log_len);

int sl_pcap_write_slow(struct sl_pcap_writer *w, const struct sl_pcap_rec *hdr,
		       const uint8_t *data, uint32_t caplen);

/** Append one record (buffered). 0 or the sticky -errno (see sl_pcap_wclose). */
static inline int sl_pcap_write(struct sl_pcap_writer *w, const struct sl_pcap_rec *hdr,
				const uint8_t *data, uint32_t caplen)
{
	if (w->len + 16 + (size_t)caplen <= w->cap) {
		uint8_t *p = w->buf + w->len;
		uint32_t h[4] = { (uint32_t)hdr->sec, hdr->frac, caplen, hdr->len };

		memcpy(p, h, 16);
		memcpy(p + 16, data, caplen);
		w->len += 16 + (size_t)caplen;
		w->pkts++;
		return 0;
	}
	return sl_pcap_write_slow(w, hdr, data, caplen);
}

/**
 * Append a record of a host-order classic pcap read at @p rec (its 16-byte
 * header, then its bytes) with caplen @p caplen (at most the header's; the
 * wire length stays): the header and bytes in one copy, caplen patched.
 * Only for a writer of the reader's resolution. 0 or the sticky -errno.
 */
static inline int sl_pcap_write_raw(struct sl_pcap_writer *w, const uint8_t *rec,
				    uint32_t caplen)
{
	uint32_t h[4];

	if (__builtin_expect(w->len + 16 + (size_t)caplen <= w->cap, 1)) {
		uint8_t *p = w->buf + w->len;

		memcpy(p, rec, 16 + (size_t)caplen);
		memcpy(p + 8, &caplen, 4);
		w->len += 16 + (size_t)caplen;
		w->pkts++;
		return 0;
	}
	memcpy(h, rec, 16);
	return sl_pcap_write_slow(w, &(struct sl_pcap_rec){ .sec = h[0], .frac = h[1],
							     .len = h[3] }, rec + 16, caplen);
}

/**
 * Append @p len bytes holding @p pkts whole records to the file, after
 * what is buffered (with write-behind: handed over and waited for first),
 * straight from @p p up to the last multiple of 64 KiB of the file, the
 * rest into the buffer (written with the next bytes, or at close).
 * Several workers, in record order. 0 or the sticky -errno.
 */
int sl_pcap_wput(struct sl_pcap_writer *w, const uint8_t *p, size_t len, uint64_t pkts);

/** Flush and close; 0 or -errno with one line in @p log. NULL-safe on a closed writer. */
int sl_pcap_wclose(struct sl_pcap_writer *w, char *log, size_t log_len);

#endif
