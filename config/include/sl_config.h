/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file sl_config.h
 * The configuration of an engine: `sluice run -c sluice.yaml` (read with
 * libyaml), command-line overrides on top, one validated struct that
 * `run` (and `ctl`, `replay`) consume.
 *
 * File keys (exactly these; anything else is an error):
 *
 *   program:  {object: PATH, section: S, engine: jit|interp, type: xdp|socket}
 *   ports:    - {name: N, device: DEVSTR, egress: PORT|self|drop, rx_queues: Q,
 *                rx_desc: D, tx_desc: D, promiscuous: BOOL, mtu: M}
 *   workers:  N | {lcores: [C, ...]}
 *   maps:     {NAME: {file: PATH, size: N, persist: PATH}}
 *   control:  {socket: PATH}
 *   stats:    {interval: SECONDS, json: PATH}
 *   metrics:  {listen: ADDR:PORT, maps: [NAME, ...]}
 *   eal:      [ARG, ...]
 *
 * Relative paths (program.object, maps.*.file, stats.json, control.socket,
 * and rx_pcap=/tx_pcap= inside a net_pcap device string) are made relative
 * to the directory of the config file. Every error is one line
 * "FILE:LINE:COL: what was wrong, what was expected".
 *
 * Two-step validation: sl_config_load() checks everything a file alone can
 * say (keys, types, ranges, port names, egress names, duplicates);
 * sl_config_check_maps() checks the map names against the loaded object.
 */
#ifndef SL_CONFIG_H
#define SL_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SL_CONFIG_MAX_PORTS 16
#define SL_CONFIG_MAX_MAPS 64
#define SL_CONFIG_MAX_WORKERS 64
#define SL_CONFIG_MAX_EAL 64
#define SL_CONFIG_PATH_LEN 1024
#define SL_CONFIG_NAME_LEN 64

/** Where a value was given: a file position (1-based), or the command line (line 0). */
struct sl_config_loc {
	unsigned line, col;
};

/** Where XDP_PASS (and a socket filter's kept packets) of a port go. */
enum sl_config_egress {
	SL_EGRESS_DEFAULT = 0,  /**< not given: pairs 0<->1, 2<->3, ...; the odd one out: self */
	SL_EGRESS_PORT,         /**< another port (egress_port) */
	SL_EGRESS_SELF,         /**< back out of the same port */
	SL_EGRESS_DROP,         /**< dropped (counted as drops) */
};

/** Execution engine of the program. */
enum sl_config_engine {
	SL_ENGINE_DEFAULT = 0,  /**< the JIT, the interpreter when the JIT refuses */
	SL_ENGINE_JIT,          /**< the JIT, or fail */
	SL_ENGINE_INTERP,       /**< the interpreter */
};

struct sl_config_port {
	char name[SL_CONFIG_NAME_LEN];      /**< unique; default: the device's name ("net_pcap0") */
	char device[SL_CONFIG_PATH_LEN];    /**< DPDK device string, paths resolved */
	enum sl_config_egress egress;
	char egress_name[SL_CONFIG_NAME_LEN]; /**< as written (SL_EGRESS_PORT) */
	unsigned egress_port;               /**< index into ports (SL_EGRESS_PORT) */
	unsigned rx_queues;                 /**< 0: one per worker */
	unsigned rx_desc, tx_desc;          /**< 0: the engine's default (1024) */
	bool promiscuous;                   /**< default true */
	unsigned mtu;                       /**< 0: the device's default */
	struct sl_config_loc loc;           /**< the port's list item */
	struct sl_config_loc egress_loc;
};

struct sl_config_map {
	char name[SL_CONFIG_NAME_LEN];
	char file[SL_CONFIG_PATH_LEN];      /**< preload file, resolved; "" for none */
	uint32_t size;                      /**< max_entries override; 0: the object's */
	char persist[SL_CONFIG_PATH_LEN];   /**< saved at exit, restored at start, resolved; "" none */
	struct sl_config_loc loc;           /**< the map's key */
	struct sl_config_loc file_loc;      /**< its file: value */
};

/** A whole configuration. Zero-initialise, then sl_config_init(). */
struct sl_config {
	char path[SL_CONFIG_PATH_LEN];      /**< the config file ("" without one) */
	/* program */
	char object[SL_CONFIG_PATH_LEN];
	char section[128];                  /**< "" = the first program */
	enum sl_config_engine engine;
	char type[16];                      /**< "", "xdp" or "socket": every program loads as that type */
	struct sl_config_loc object_loc, section_loc, type_loc;
	/* ports */
	struct sl_config_port ports[SL_CONFIG_MAX_PORTS];
	unsigned nports;
	/* workers */
	unsigned nworkers;                  /**< default 1 */
	unsigned lcores[SL_CONFIG_MAX_WORKERS]; /**< CPUs of the workers when nlcores > 0 */
	unsigned nlcores;
	/* maps */
	struct sl_config_map maps[SL_CONFIG_MAX_MAPS];
	unsigned nmaps;
	/* control, stats */
	char ctl_socket[SL_CONFIG_PATH_LEN]; /**< "" = no control socket */
	double stats_interval;              /**< seconds between rate lines, 0 = none; default 1 */
	char stats_json[SL_CONFIG_PATH_LEN]; /**< "" = no JSON */
	/* metrics (Prometheus text over HTTP) */
	char metrics_listen[SL_CONFIG_NAME_LEN];  /**< "ADDR:PORT", "" = none */
	char metrics_maps[SL_CONFIG_MAX_MAPS][SL_CONFIG_NAME_LEN]; /**< maps exported as series */
	unsigned nmetrics_maps;
	/* eal */
	char *eal[SL_CONFIG_MAX_EAL];       /**< owned (sl_config_fini) */
	unsigned neal;
	/* --forward IN:OUT, kept as text until sl_config_resolve() */
	struct { char in[SL_CONFIG_NAME_LEN], out[SL_CONFIG_NAME_LEN]; } fwd[SL_CONFIG_MAX_PORTS];
	unsigned nfwd;
};

/** Defaults: 1 worker, stats every second, promiscuous ports. */
void sl_config_init(struct sl_config *cfg);

/** Free what the config owns (the EAL strings). */
void sl_config_fini(struct sl_config *cfg);

/**
 * Read and validate @p path into @p cfg (initialised by sl_config_init).
 * @param log one line "FILE:LINE:COL: what was wrong, what was expected"
 * @return 0, or -ENOENT/-EACCES (file), -EINVAL (anything wrong in it).
 */
int sl_config_load(struct sl_config *cfg, const char *path, char *log, size_t log_len);

/** Same from text in memory; @p name labels errors and gives the base directory. */
int sl_config_load_mem(struct sl_config *cfg, const char *text, size_t len, const char *name,
		       char *log, size_t log_len);

/* ---- command-line overrides (each one line on error, "--opt: ...") ---- */

/**
 * Add a port with a device string (--port); its name is the device's
 * name. -EINVAL on a duplicate name or too many ports.
 */
int sl_config_add_port(struct sl_config *cfg, const char *device, char *log, size_t log_len);

/**
 * --forward IN:OUT: IN a port index or name, OUT a port index or name,
 * "drop" or "self". Resolved against the ports given so far plus later
 * ones: call sl_config_resolve() after every override.
 */
int sl_config_add_forward(struct sl_config *cfg, const char *spec, char *log, size_t log_len);

/** --map NAME=FILE: a preload file for a map (replaces the file's entry). */
int sl_config_add_map(struct sl_config *cfg, const char *spec, char *log, size_t log_len);

/**
 * Resolve egress names to port indexes and check the whole config
 * (a program, at least one port, unique names). After the overrides.
 */
int sl_config_resolve(struct sl_config *cfg, char *log, size_t log_len);

struct sl_obj;
/**
 * Check every maps.NAME against @p obj: the object must define it.
 * @return 0, or -ENOENT with "FILE:LINE:COL: the object defines no map
 *         'x' (it has: a, b)".
 */
int sl_config_check_maps(const struct sl_config *cfg, const struct sl_obj *obj, char *log,
			 size_t log_len);

/**
 * Store every preload file into the object's maps (sl_preload_load).
 * @param entries out: entries stored in all, may be NULL
 */
int sl_config_preload(const struct sl_config *cfg, const struct sl_obj *obj, unsigned *entries,
		      char *log, size_t log_len);

#endif
