/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Internal header of the offline replay (replay.c, cmd_replay.c) and of
 * tcpdump filter expressions (filter.c, also used by `sluice disasm`).
 */
#ifndef SL_ENGINE_REPLAY_H
#define SL_ENGINE_REPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sl_prog;

#define SL_REPLAY_MAX_OUT 16  /**< -w PORT=FILE outputs */

/* filter.c (the libpcap side; it cannot see sl_vm.h: both define struct bpf_insn) */
/** A classic instruction: the layout of struct sock_filter and of libpcap's struct bpf_insn. */
struct sl_filter_insn {
	uint16_t code;
	uint8_t jt;
	uint8_t jf;
	uint32_t k;
};

/**
 * Link type from a decimal number or a libpcap name ("EN10MB", "RAW").
 * 0 or -EINVAL with one line in @p log naming the supported ones.
 */
int sl_filter_linktype(const char *s, uint32_t *linktype, char *log, size_t log_len);

/** True when a filter can be compiled for @p linktype. */
bool sl_filter_linktype_ok(uint32_t linktype);

/** "EN10MB (1), RAW (101), ...": the link types filters support, for messages. */
const char *sl_filter_supported_names(void);

/**
 * Compile a tcpdump expression with libpcap as `tcpdump -r FILE` does
 * (optimised, netmask 0) for @p linktype and @p snaplen.
 * @param insns  on success, a malloc'd classic program (caller frees)
 * @return 0, or -EINVAL with one line in @p log ("filter 'tcp prt 80': syntax error").
 */
int sl_filter_cbpf(const char *expr, uint32_t linktype, uint32_t snaplen,
		   struct sl_filter_insn **insns, unsigned *n, char *log, size_t log_len);

/* replay.c */
/**
 * sl_filter_cbpf() then vm/cbpf.c: the expression as an eBPF socket filter,
 * not verified. NULL with one line in @p log.
 */
struct sl_prog *sl_filter_compile(const char *expr, uint32_t linktype, uint32_t snaplen,
				  char *log, size_t log_len);

/** One -w output: packets leaving by port @p port. */
struct sl_replay_out {
	unsigned port;
	const char *path;
};

/** --io-threads: a read-ahead thread, and a write-behind thread per output file. */
enum sl_replay_io {
	SL_REPLAY_IO_AUTO,  /**< inputs of SL_PCAP_THREADS_MIN (512 KiB) and more, 2+ CPUs */
	SL_REPLAY_IO_ON,
	SL_REPLAY_IO_OFF,
};

/** Options of `sluice replay` (cmd_replay.c). */
struct sl_replay_opts {
	const char *prog_path;       /**< --prog (over the config's object), or NULL */
	const char *config_path;     /**< -c: program, engine, map sizes and preloads */
	const char *maps[64];        /**< --map NAME=FILE (SL_CONFIG_MAX_MAPS) */
	unsigned nmaps;
	const char *section;
	const char *filter;          /**< --filter EXPR */
	uint64_t snaplen;            /**< -s for --filter, 0 = the file's */
	const char *in_path;         /**< -r */
	struct sl_replay_out outs[SL_REPLAY_MAX_OUT];
	unsigned nouts;
	const char *drops_path;      /**< --drops */
	const char *json_path;       /**< --json */
	bool interp;                 /**< --interp: the interpreter instead of the JIT */
	bool quiet;                  /**< no report */
	bool no_maps;
	int progress;                /**< 1 on, 0 off, -1 on a terminal */
	enum sl_replay_io io;        /**< --io-threads */
	unsigned workers;            /**< --workers N (0 or 1: one) */
};

/** Run a replay; prints errors and the report. Returns the exit code. */
int sl_replay_main(const struct sl_replay_opts *o);

#endif
