/* SPDX-License-Identifier: BSD-3-Clause */
/* Internal header of the control server: ctl_server.c, ctl_cmds.c, ctl_events.c, telemetry.c. */
#ifndef SL_CTL_INTERNAL_H
#define SL_CTL_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "engine_internal.h"
#include "sl_text.h"

#define SL_CTL_MAX_CLIENTS 64           /**< connections served at once */
#define SL_CTL_MAX_CLIENTS_STR "64"
#define SL_CTL_MAX_LINE (64u << 10)     /**< longest request line */
#define SL_CTL_MAX_OUT (256u << 20)     /**< largest response */
#define SL_CTL_MAX_STREAM (4u << 20)    /**< event lines a stream client may leave unread */
#define SL_CTL_IDLE_S 300               /**< a silent connection is closed after this */
#define SL_CTL_PARTIAL_S 10             /**< a half-sent request is closed after this */
#define SL_CTL_REQS_PER_TICK 8          /**< requests of one client per loop turn */
#define SL_CTL_DUMP_PART 512            /**< entries of a streamed map_dump per loop turn, about */
#define SL_CTL_DUMP_MARK (256u << 10)   /**< no next part while this much of the answer is unread */

enum ctl_sub {
	CTL_SUB_NONE = 0,
	CTL_SUB_TRACE,   /**< bpf_trace_printk lines */
	CTL_SUB_EVENTS,  /**< records of a RINGBUF or PERF_EVENT_ARRAY */
	CTL_SUB_CAPTURE, /**< packets of `ctl capture` (capture.c) */
};

/** One connection. */
struct ctl_client {
	int fd;                   /**< -1: free slot */
	char *in;                 /**< SL_CTL_MAX_LINE + 1 bytes */
	size_t in_len;
	char *out;                /**< bytes not yet written */
	size_t out_len, out_off, out_cap;
	double last;              /**< last complete request (monotonic s) */
	double partial;           /**< when the unfinished request in @c in began arriving, or 0 */
	bool eof;                 /**< peer shut its writing side */
	enum ctl_sub sub;
	char sub_map[64];         /**< CTL_SUB_EVENTS: map name */
	struct sl_map *map;       /**< CTL_SUB_EVENTS: the map followed (re-found after a reload) */
	uint64_t dropped;         /**< lines this client did not read in time */
	struct sl_text_type type; /**< CTL_SUB_EVENTS: how records are typed (btf NULL: hex only) */
	char type_name[64];       /**< its BTF name, found again after a reload */
	struct ctl_dump *dump;    /**< map_dump being streamed (ctl_dump.c), or NULL */
};

/** The server. */
struct sl_ctl {
	struct sl_engine *eng;
	int lfd;
	char path[108];
	struct ctl_client clients[SL_CTL_MAX_CLIENTS];
	unsigned nclients;
	uint64_t refused;                  /**< connections over the limit */
	double start;                      /**< monotonic s at open */
	struct sl_worker_stats snap, prev; /**< samples about 1 s apart, for rates */
	double snap_t, prev_t;
	uint64_t trace_lost;               /**< trace lines overwritten before the drain */
};

/** One JSON line to @p c (steals @p j); -ENOBUFS past @p cap bytes unread. */
int sl_ctl_send(struct ctl_client *c, json_t *j, size_t cap);

/** Append @p n bytes of text to @p c's output (no newline added); -ENOBUFS/-ENOMEM. */
int sl_ctl_write(struct ctl_client *c, const char *s, size_t n);

/* ctl_cmds.c */
/**
 * The map a request's "map" member names: an object's map, or OUTER[KEY]
 * for the inner map a map-of-maps slot holds (inner_maps.c). NULL with one
 * line in @p err.
 */
struct sl_map *sl_ctl_req_map(struct sl_ctl *ctl, json_t *req, char *err, size_t err_len);

/* ctl_dump.c: map_dump answers streamed over the loop's turns */
/** Begin @p c's answer to map_dump @p req: 0, or -errno with one line in @p err (nothing sent). */
int sl_ctl_dump_begin(struct sl_ctl *ctl, struct ctl_client *c, json_t *req, json_t *id,
		      char *err, size_t err_len);
/** Whether @p c has a dump whose next part may be written now (the loop must not sleep). */
bool sl_ctl_dump_ready(const struct ctl_client *c);
/** Write the next part of @p c's dump if it is ready; the end of the answer after the last. */
void sl_ctl_dump_step(struct ctl_client *c);
/** After a reload's swap: dumps of maps that are gone end with an error member. */
void sl_ctl_dump_remap(struct sl_ctl *ctl);
/** Drop @p c's dump (the connection closes). */
void sl_ctl_dump_free(struct ctl_client *c);

/* ctl_events.c */
/** Turn @p c into a stream of the records of req.map: the response result, or NULL + err. */
json_t *sl_ctl_events_open(struct sl_ctl *ctl, struct ctl_client *c, json_t *req, char *err,
			   size_t err_len);
/** Drain every followed RINGBUF / PERF_EVENT_ARRAY to its clients. */
void sl_ctl_events_drain(struct sl_ctl *ctl);
/** A reload replaced the maps: follow the new map of the same name, or end the stream. */
void sl_ctl_events_remap(struct sl_ctl *ctl);

/* reload.c */
/**
 * Hot reload (control thread): load, verify, compile @p path, carry over the
 * maps, swap the program, free the old one after a quiescent state.
 * @return 0, or -errno with one line in @p err (the running program stays).
 */
int sl_reload(struct sl_engine *eng, const char *path, const char *section, bool reset_maps,
	      json_t **result, char *err, size_t err_len);

/**
 * `ctl map update PROG_ARRAY KEY --prog FILE.o [--section S]` (control
 * thread): load, verify and compile a program of the running program's
 * type, sharing the running maps of the same name, and put it in slot
 * @p index of @p map; the program it replaces (if ctl put it there) is
 * freed after a quiescent state. 0 or -errno with one line in @p err.
 */
int sl_slot_prog_set(struct sl_engine *eng, struct sl_map *map, uint32_t index, const char *path,
		     const char *section, char *err, size_t err_len);
/** Slot @p index of @p map was cleared: free the program ctl had put there (after a quiescent state). */
void sl_slot_prog_cleared(struct sl_engine *eng, struct sl_map *map, uint32_t index);
/** Free every program ctl put into PROG_ARRAY slots (engine exit; workers stopped). */
void sl_slot_progs_free(struct sl_engine *eng);

#endif
