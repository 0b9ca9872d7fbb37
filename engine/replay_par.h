/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Internal header of the replay's several workers (replay_par.c, used by
 * replay.c for --workers N).
 */
#ifndef SL_ENGINE_REPLAY_PAR_H
#define SL_ENGINE_REPLAY_PAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pcapio.h"
#include "verdict.h"

#define SL_REPLAY_MAX_WORKERS 64u

/** One run of the workers over a classic host-order pcap, with a socket filter. */
struct sl_replay_par {
	/* in */
	const struct sl_exec *ex;          /**< the program (shared, read-only) */
	const struct sl_ports_view *pv;    /**< ports, for each worker's verdict state */
	struct sl_pcap_reader *rd;         /**< open, not read past its header; left at the first record not taken */
	struct sl_pcap_writer *kept;       /**< where kept records go (port 0's egress file), or NULL */
	struct sl_pcap_writer *drops;      /**< --drops, or NULL */
	bool kept_dropped;                 /**< port 0's egress is "drop": kept records count and go as drops */
	bool clock;                        /**< set the helpers' clock to each record's time */
	uint64_t frac_ns;                  /**< nanoseconds per unit of a record's fraction */
	unsigned workers;                  /**< 2..SL_REPLAY_MAX_WORKERS threads, this one among them */
	bool show;                         /**< progress line on stderr */
	void (*progress)(const void *arg, uint64_t n, double done);  /**< records, fraction of the file: now and then, this thread */
	const void *progress_arg;
	/* out */
	uint64_t vc[SL_VERDICT_COUNT];     /**< verdicts of the records taken */
	uint64_t n;                        /**< records taken */
};

/**
 * Run the records of @p p->rd through p->ex on p->workers threads, each
 * reading and running chunks of the file, the outputs written in record
 * order; stops before the first record the sequential reader would refuse
 * (or at the end), where p->rd then goes on (sl_pcap_seek). 0, or -errno
 * with one line in @p log (no thread, no memory, a seek error).
 * Replay thread.
 */
int sl_replay_par_run(struct sl_replay_par *p, char *log, size_t log_len);

#endif
