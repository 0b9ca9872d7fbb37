/* SPDX-License-Identifier: BSD-3-Clause */
/* Internal header of the sluice command: one entry point per subcommand. */
#ifndef SL_ENGINE_INTERNAL_H
#define SL_ENGINE_INTERNAL_H

/** A subcommand: argv[0] is the subcommand's name. Returns the exit code. */
typedef int (*sl_cmd_fn)(int argc, char **argv);

struct sl_cmd {
	const char *name;
	sl_cmd_fn fn;
	const char *summary;  /**< one line for `sluice help` */
};

/* One declaration per subcommand, each in its own cmd_<name>.c. */
int sl_cmd_run(int argc, char **argv);
int sl_cmd_verify(int argc, char **argv);
int sl_cmd_disasm(int argc, char **argv);
int sl_cmd_test_run(int argc, char **argv);
int sl_cmd_bench(int argc, char **argv);
int sl_cmd_replay(int argc, char **argv);
int sl_cmd_ctl(int argc, char **argv);

/* ---- sluice run: the engine (cmd_run.c, eal.c, port.c, worker.c, stats.c,
 * report.c, json.c). No DPDK header here: DPDK types are forward-declared. */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "sl_jit.h"
#include "sl_vm.h"
#include "verdict.h"

struct rte_mbuf;
struct rte_mempool;
struct sl_map;
struct sl_text_type;
struct sl_config;

#define SL_RUN_MAX_PORTS 16    /**< ports one engine drives */
#define SL_RUN_MAX_WORKERS 64  /**< worker lcores */
#define SL_RUN_BURST 32        /**< packets per rte_eth_rx_burst */
#define SL_RUN_CACHE_LINE 64
#define SL_PORT_MAX_PCAPS 16   /**< rx_pcap (RX queues) or tx_pcap of one net_pcap port */

/** Which execution engine runs the program. */
enum sl_run_exec {
	SL_RUN_EXEC_AUTO = 0,  /**< the JIT */
	SL_RUN_EXEC_INTERP,    /**< --interp */
	SL_RUN_EXEC_JIT,       /**< --jit */
};

/** One --port argument, parsed before EAL starts (port.c). */
struct sl_port_spec {
	const char *devstr;     /**< as given: "net_pcap0,rx_pcap=in.pcap" or a PCI address */
	char name[64];          /**< device name: "net_pcap0", or the PCI address */
	bool is_vdev;           /**< starts with "net_": --vdev, else -a */
	bool is_pcap;           /**< a net_pcap device */
	char rx_pcap[256];      /**< the first rx_pcap=FILE, or "" */
	bool infinite_rx;       /**< infinite_rx=1 */
	bool finite;            /**< rx_pcap without infinite_rx: the engine stops at its end */
	uint64_t pcap_packets;  /**< packets in every rx_pcap (counted with libpcap) */
	/* net_pcap: one RX queue per rx_pcap (queue i reads file i), one TX queue per tx_pcap */
	unsigned n_rx_pcap, n_tx_pcap;
	char rx_pcaps[SL_PORT_MAX_PCAPS][256];
	uint64_t rx_pcap_packets[SL_PORT_MAX_PCAPS];  /**< packets in rx_pcaps[i] */
	char tx_pcaps[SL_PORT_MAX_PCAPS][256];
	/* a config file's port settings (config_apply.c); zero: the defaults */
	unsigned rx_desc, tx_desc;  /**< descriptors per queue, 0: 1024 */
	unsigned rx_queues;         /**< RX queues, 0: one per worker (at least one per worker) */
	unsigned mtu;               /**< 0: the device's own */
	bool no_promisc;            /**< promiscuous: false */
};

/** What the port said at the end of a run (read before it stopped). */
struct sl_port_hw {
	bool valid;             /**< read */
	bool link_up;
	uint32_t link_speed;    /**< Mb/s, 0 unknown */
	uint64_t imissed;       /**< dropped by the NIC: no descriptor free */
	uint64_t rx_nombuf;     /**< RX mbuf allocation failures */
	uint64_t ierrors, oerrors;
};

/* ---- object options of every command (objopts.c) ---- */

#define SL_CLI_MAX_MAP_SIZES 32

/** --type and --map-size as given on a command line. */
struct sl_cli_obj {
	bool force_type;
	enum sl_prog_type type;
	char names[SL_CLI_MAX_MAP_SIZES][64];
	struct sl_obj_map_size sizes[SL_CLI_MAX_MAP_SIZES];
	unsigned nsizes;
};

/**
 * Take @p opt (with its value @p val, NULL when missing) if it is --type or
 * --map-size. @return 1 taken (the caller skips the value), 0 not one of
 * them, -EINVAL bad value (one line printed, "sluice CMD: ...").
 */
int sl_cli_obj_arg(const char *cmd, struct sl_cli_obj *c, const char *opt, const char *val);
/** Copy the options into loader options (which then point into @p c). */
void sl_cli_obj_apply(const struct sl_cli_obj *c, struct sl_obj_opts *oo);
/** "file.o: section 'S' program 'P'" (program omitted when it equals S) into @p buf. */
const char *sl_cli_prog_label(const char *path, const struct sl_prog *prog, char *buf,
			      size_t len);
/**
 * The one way every command and the control thread make a program runnable
 * (run, reload, replay, CPUMAP entry programs): verify it unless it already
 * is (which also prepares the interpreter's form), then JIT-compile it unless
 * @p exec (enum sl_run_exec) is SL_RUN_EXEC_INTERP. With SL_RUN_EXEC_AUTO a
 * program the JIT refuses runs in the interpreter: 0 with *jit NULL and the
 * JIT's reason in @p log, for the caller's note. Control thread; allocates.
 * @param log on error one line: "rejected by the verifier: ...", "JIT: ..."
 * @return 0, or the verifier's error, or -EINVAL (the JIT refused, --jit).
 */
int sl_cli_prog_build(struct sl_prog *prog, int exec, struct sl_jit **jit, char *log, size_t len);

#define SL_CLI_FIB_ROUTES 65536   /**< routes (and neighbours) per family of --fib */
struct sl_fib;
/**
 * --fib FILE: read the FIB (sl_fib_load) and attach it for bpf_fib_lookup.
 * @return the FIB (free with sl_cli_fib_free), or NULL (one line printed).
 */
struct sl_fib *sl_cli_fib_load(const char *cmd, const char *path);
/** Detach and free a FIB from sl_cli_fib_load(). NULL is allowed. */
void sl_cli_fib_free(struct sl_fib *fib);

/** Options of `sluice run` (cmd_run.c). */
struct sl_run_opts {
	const char *prog_path;
	const char *section;        /**< NULL: the first program */
	const char *json_path;      /**< NULL: no JSON */
	struct sl_port_spec ports[SL_RUN_MAX_PORTS];
	unsigned nports;
	unsigned nworkers;          /**< worker lcores (1 for now) */
	enum sl_run_exec exec;
	double duration;            /**< seconds, 0 = until stopped */
	double stats_interval;      /**< seconds between rate lines, 0 = none */
	bool quiet;                 /**< errors only */
	bool no_maps;               /**< leave the maps out of the text report */
	const char *ctl_socket;     /**< --ctl-socket PATH: control socket (and telemetry), or NULL */
	struct sl_cli_obj obj;      /**< --type, --map-size */
	const char *fib_path;       /**< --fib FILE, or NULL */
	int eal_argc;               /**< EAL arguments after "--" */
	char **eal_argv;
	const struct sl_config *cfg; /**< the validated config these options came from */
	const char *filter;         /**< --filter EXPR: a tcpdump expression is the program */
};

/** Counters of one worker: written by that worker only (once per burst), read by the control thread. */
struct sl_worker_stats {
	uint64_t rx;
	uint64_t tx;
	uint64_t drop;        /**< drop verdicts, egress "drop", plus tx_drop */
	uint64_t error;       /**< aborted and redirect_failed verdicts, packets that could not be adjusted */
	uint64_t tx_drop;     /**< forwarded but refused by rte_eth_tx_burst */
	uint64_t verdict[SL_VERDICT_COUNT];  /**< by verdict (verdict.h): they sum to rx */
	uint64_t port_rx[SL_RUN_MAX_PORTS];
	uint64_t port_tx[SL_RUN_MAX_PORTS];
	uint64_t cpu_out;     /**< CPUMAP: handed to another worker's ring (cpumap.c) */
	uint64_t cpu_full;    /**< CPUMAP: target ring full (qsize): freed, also in drop */
	uint64_t cpu_in;      /**< CPUMAP: taken over from this worker's ring (published last) */
	uint64_t cpu_prog[SL_VERDICT_COUNT];  /**< CPUMAP entry programs' verdicts here (cpumap.c) */
} __attribute__((aligned(SL_RUN_CACHE_LINE)));

/** Packets waiting for rte_eth_tx_burst to one port (flushed every burst). */
struct sl_txbuf {
	uint16_t n;
	struct rte_mbuf *pkts[SL_RUN_BURST];
};

struct sl_engine;

/** One worker lcore: its program entry, queues, TX buffers and counters. */
struct sl_worker {
	unsigned index;                /**< worker slot (sl_map_cpu), also its queue on every port */
	unsigned lcore;
	struct sl_engine *eng;
	struct sl_verdict_state vstate;  /**< the shared verdict code's per-worker state */
	struct sl_txbuf txbuf[SL_RUN_MAX_PORTS];
	struct sl_worker_stats stats;  /**< published at the end of each burst */
} __attribute__((aligned(SL_RUN_CACHE_LINE)));

/** The running engine (control thread owns it). */
struct sl_engine {
	const struct sl_run_opts *opts;
	struct sl_obj *obj;
	struct sl_prog *prog;
	struct sl_jit *jit;                 /**< one compiled copy serves every worker, or NULL */
	struct sl_exec exec_main;           /**< the program as loaded at start */
	struct sl_exec *exec;               /**< what workers run: read once per burst (acquire) */
	const char *exec_name;              /**< "jit" or "interpreter" */
	struct sl_fib *fib;                 /**< --fib, or NULL */
	struct rte_mempool *pool;
	struct rte_mempool *jumbo_pool;     /**< single-mbuf copies of long chains for net_pcap TX */
	bool port_linearize[SL_RUN_MAX_PORTS]; /**< a net_pcap port: long chains copied first */
	unsigned nports;
	uint16_t port_id[SL_RUN_MAX_PORTS];   /**< DPDK port of each --port */
	uint16_t egress[SL_RUN_MAX_PORTS];    /**< XDP_PASS target (index into port_id, or SL_PORT_NONE) */
	uint16_t port_rxq[SL_RUN_MAX_PORTS];  /**< RX queues of each port: worker w polls w, w + nworkers, ... */
	bool port_started[SL_RUN_MAX_PORTS];
	bool ports_up;                      /**< every port started: the mbuf count means something */
	uint8_t port_mac[SL_RUN_MAX_PORTS][6]; /**< for a socket filter's skb->pkt_type */
	struct sl_ports_view ports_view;    /**< the arrays above as verdict.c sees them */
	unsigned nworkers;
	struct sl_worker *workers;          /**< nworkers, cache-aligned */
	volatile int stop;                  /**< set by the control thread, read by workers */
	bool failed;                        /**< the run went wrong after start (said): exit 1 */
	struct sl_port_hw port_hw[SL_RUN_MAX_PORTS];  /**< link and NIC counters at the end */
	int64_t mbufs_in_use_at_exit;       /**< after the ports closed (sl_ports_stop) */
	bool ports_stopped;                 /**< mbufs_in_use_at_exit was counted */
	uint64_t drained_at_stop;           /**< sent into net_ring ports, freed at stop (drain.c) */
	uint64_t port_drained[SL_RUN_MAX_PORTS]; /**< the same per port */
	bool port_ring[SL_RUN_MAX_PORTS];    /**< net_ring: its RX gives back what was sent into it */
	struct sl_ctl *ctl;                 /**< control socket server, or NULL (ctl_server.c) */
	struct sl_slot_prog *slot_progs;    /**< programs ctl put into PROG_ARRAY slots (reload.c) */
	uint32_t capture_on;                /**< `ctl capture` running: workers read it once per burst */
	struct sl_capture *capture;         /**< its settings and rings (capture.h), or NULL */
	struct sl_cpumap *cpumap;           /**< CPUMAP hand-over rings (cpumap.c), or NULL */
	struct sl_metrics *metrics;         /**< the Prometheus endpoint (metrics.c), or NULL */
	struct sl_inner_map *inner_maps;    /**< inner maps ctl created (inner_maps.c) */
	unsigned ninner;
	struct sl_prog_info {               /**< what `ctl prog show` reports of the running program */
		char path[256];                 /**< object file */
		double load_time;               /**< wall clock (s since the epoch) when it started running */
		uint64_t verify_ns;             /**< time the verifier took */
		uint64_t runs_base;             /**< packets processed before it started running */
		unsigned reloads;               /**< successful hot reloads so far */
	} info;
};

/* eal.c */
/** Start the EAL with an argv built from @p o (vdevs, PCI, memory, lcores). 0 or -errno (line printed). */
int sl_eal_start(const struct sl_run_opts *o);
/** rte_eal_cleanup, and remove the per-process runtime directory sl_eal_start made. */
void sl_eal_stop(void);
/*
 * DPDK's log while starting up: sl_eal_start begins capturing it; the
 * caller ends the capture once the ports are up (passing the lines on to
 * stderr) or on failure (dropping them, after quoting the first one).
 */
/** Send DPDK's log into a buffer. */
void sl_log_capture_begin(void);
/** Remember where the next step's lines start. */
void sl_log_capture_mark(void);
/** First captured line (since the mark, or since the start), without "EAL: "; NULL if none. */
const char *sl_log_first_line(bool since_mark);
/** Log to stderr again; @p pass_on: write the captured lines there first. */
void sl_log_capture_end(bool pass_on);

/* signals.c: handled from the first instruction of main() */
/** Install every handler (stop, info, ignored, fatal). First thing main() does. */
void sl_signals_init(void);
/** This command stops and cleans up by itself: stop signals are recorded, never fatal. */
void sl_signals_defer(void);
/** `sluice replay`: the first stop signal is recorded (sl_signal_stop), a second one acts as by default. */
void sl_signals_defer_first(void);
/** After cleaning up: die of the stop signal received, if any (stdout and stderr flushed first). */
void sl_signal_reraise(void);
/** The first stop signal received (SIGINT, SIGTERM, ...), or 0. Any thread. */
int sl_signal_stop(void);
/** How many info signals (SIGUSR1/SIGUSR2) came so far. */
unsigned sl_signal_info_count(void);
/** How many SIGHUPs came so far (`sluice run`: re-read the config). */
unsigned sl_signal_hup_count(void);
/** A directory to rmdir if the process dies of a fatal signal (NULL: none). */
void sl_signals_cleanup_dir(const char *dir);
/** "SIGINT", "SIGTERM", ... */
const char *sl_signal_name(int sig);

/* port.c */
/** Parse a --port string into @p spec; count rx_pcap packets. 0 or -EINVAL (line printed). */
int sl_port_parse(const char *devstr, struct sl_port_spec *spec);

/**
 * Does the driver of @p spec put a received packet's data in the polling
 * core's cache, or write none (net_null, net_pcap, net_tap: rx_burst
 * writes or copies it there)? Then a prefetch of it only costs
 * instructions; a NIC (DMA) or another core (net_ring, net_memif, ...)
 * writes it elsewhere.
 */
bool sl_port_rx_data_hot(const struct sl_port_spec *spec);
/** Mempool and every port (configure, queues, start, promiscuous). 0 or -errno (line printed). */
int sl_ports_start(struct sl_engine *eng);
/** Make @p m's first segment match the bounds in @p out (worker.c). 0, or -1 when it cannot. */
int sl_worker_sync_mbuf(struct rte_mbuf *m, const struct sl_verdict_out *out);

/* ---- inner maps created by ctl (inner_maps.c; control thread) ---- */

/** Ids of created inner maps: SL_INNER_ID_BASE + 1, + 2, ... (object maps: 1 + position). */
#define SL_INNER_ID_BASE 65536u
struct sl_inner_map;
/**
 * A new empty map from @p outer's inner map template, put into @p outer at
 * @p key; *@p id its id. 0, or -errno (with a line in @p err, except for
 * what sl_map_outer_set refused: the caller says it).
 */
int sl_inner_create(struct sl_engine *eng, struct sl_map *outer, const void *key, uint32_t *id,
		    char *err, size_t err_len);
/** A created inner map by id, or NULL. */
struct sl_map *sl_inner_by_id(const struct sl_engine *eng, uint32_t id);
/** The id of a created inner map, or 0 for any other map. */
uint32_t sl_inner_id_of(const struct sl_engine *eng, const struct sl_map *map);
/**
 * "OUTER[KEY]": the inner map OUTER holds at KEY (KEY in the text syntax of
 * OUTER's key). NULL when @p name is not of that form (err untouched), or
 * with a line in @p err (bad key, empty slot).
 */
struct sl_map *sl_inner_resolve(struct sl_engine *eng, const char *name, char *err,
				size_t err_len);
/** The map whose BTF types give @p map's text: an object map of the same definition for a created map, else @p map. */
struct sl_map *sl_inner_type_donor(const struct sl_engine *eng, struct sl_map *map);
/** Free every created inner map (after the workers stopped). */
void sl_inner_free_all(struct sl_engine *eng);

/* ---- CPUMAP hand-over between workers (cpumap.c) ---- */

/* CPUMAP entry programs, shared by the live engine and the replay (cpumap_entry.c) */
struct sl_cpu_progs;
/** An entry program of a CPUMAP (section xdp/cpumap or xdp.frags/cpumap)? */
bool sl_cpumap_is_entry_prog(const struct sl_prog *p);
/** Does @p obj (NULL-safe) have a CPUMAP? */
bool sl_obj_has_cpumap(const struct sl_obj *obj);
/**
 * Every entry program of @p obj verified and compiled (@p exec: enum
 * sl_run_exec), by id - 1. NULL after one line on stderr naming @p what
 * and the program. Control thread.
 */
struct sl_cpu_progs *sl_cpu_progs_build(const struct sl_obj *obj, int exec, const char *what);
/** Free a table (NULL-safe). Control thread, after a grace period if workers used it. */
void sl_cpu_progs_free(struct sl_cpu_progs *pg);
/** Make @p obj's CPUMAPs accept the ids of the table in *@p slot (read at each update). */
void sl_cpu_progs_attach(const struct sl_obj *obj, struct sl_cpu_progs *const *slot);
/**
 * Run entry program @p id of @p pg on @p pkt (from port index @p port,
 * rx_queue_index 0): PASS, DROP, REDIRECT (with @p out as sl_verdict_run
 * fills it), or ABORTED (XDP_TX and other values, or no such program).
 * Packet thread: no locks, no allocation.
 */
enum sl_verdict sl_cpu_progs_run(const struct sl_cpu_progs *pg, uint32_t id,
				 struct sl_verdict_state *st, unsigned port, struct sl_pkt *pkt,
				 struct sl_verdict_out *out);
/**
 * If the program's object has a CPUMAP: its entry programs verified and
 * compiled, and the CPUMAPs made to accept their ids. After the program
 * is compiled, before the maps are preloaded. Control thread. 0, or
 * -errno with one line on stderr.
 */
int sl_cpumap_prepare(struct sl_engine *eng);
/**
 * Hot reload: the entry programs of @p obj (the new object) replace the
 * running ones; *old is what the caller frees (sl_cpu_progs_free) after
 * a grace period. 0, or -errno with one line on stderr (nothing changed).
 */
int sl_cpumap_reload(struct sl_engine *eng, const struct sl_obj *obj, struct sl_cpu_progs **old);
/**
 * If the program's object has a CPUMAP: one ring per worker, and
 * CPUMAP redirects turned into hand-overs (ports_view.ncpus). After
 * sl_ports_start (the mbuf pool exists), before the workers. Control
 * thread. 0, or -errno with one line on stderr.
 */
int sl_cpumap_start(struct sl_engine *eng);
/**
 * Worker: hand @p m (bounds already synced) to worker @p cpu's ring;
 * a full ring (the entry's qsize) frees it and counts cpu_full and *drop.
 */
void sl_cpumap_put(struct sl_worker *w, struct rte_mbuf *m, unsigned cpu, uint64_t *drop);
/**
 * Worker: take up to SL_RUN_BURST packets off this worker's ring into its
 * TX buffers (their ingress port's egress, the XDP_PASS path); those with
 * no egress are freed and counted in *drop. Returns the number taken.
 */
unsigned sl_cpumap_take(struct sl_worker *w, uint64_t *drop);
/**
 * After the workers stopped: packets still in the rings (a run stopped by
 * a signal or --duration) are freed and counted as their target's drop.
 * Then the rings go. Control thread; NULL-safe.
 */
void sl_cpumap_stop(struct sl_engine *eng);
/**
 * drain.c: after the workers stopped, before the ports stop: every RX queue
 * of a started net_ring port (its rings hold what the engine sent into it)
 * read until empty, its mbufs freed and counted in drained_at_stop and
 * port_drained, never in rx. Ports fed from outside are not read. Control
 * thread; called by sl_ports_stop.
 */
void sl_ports_drain(struct sl_engine *eng);
/** drain.c: port_ring[] of every started port (after sl_ports_start). */
void sl_ports_find_rings(struct sl_engine *eng);
/**
 * txpcap_check.c: once the ports are closed, each net_pcap port's tx_pcap
 * files (regular files) hold as many whole records as packets the port
 * took; otherwise one line and eng->failed (net_pcap counts a packet sent
 * whatever its write did). Control thread; called by sl_ports_stop.
 */
void sl_ports_check_tx_pcaps(struct sl_engine *eng);
/**
 * Drain (sl_ports_drain), read each port's link and NIC counters, stop and close every port, count
 * the mbufs not back in the pool (said, and a failed run, if any), free the
 * mempool. Safe to call twice.
 */
void sl_ports_stop(struct sl_engine *eng);

/**
 * Worker, before rte_eth_tx_burst on a port with port_linearize set:
 * net_pcap writes a multi-segment packet longer than 16,128 bytes (its
 * bounce buffer) cut short while counting it sent, so each such packet is
 * copied into one mbuf of the jumbo pool (up to 65,535 bytes); one that
 * cannot be is freed and counted in @p errors. Returns the packets left,
 * in order, in @p pkts.
 */
uint16_t sl_port_tx_linearize(struct sl_engine *eng, struct rte_mbuf **pkts, uint16_t n,
			      uint64_t *errors);

/* paths.c */
/**
 * Before anything is opened: every output (tx_pcap, --json) is refused if
 * it is an input (prog, rx_pcap) or another output, by inode (symlinks and
 * hard links), and must be creatable or writable; each device is given once.
 * 0, -EINVAL (a device twice) or -EIO (line printed).
 */
int sl_paths_check(const struct sl_run_opts *o);
/* config_apply.c: a validated struct sl_config into the engine */
/** Fill @p o from @p cfg: ports parsed (sl_port_parse), their settings, EAL arguments merged. */
int sl_config_apply_opts(const struct sl_config *cfg, struct sl_run_opts *o);
/** Each port's egress from the config (after sl_ports_start set the default pairs). */
void sl_config_apply_egress(struct sl_engine *eng);

/* worker.c */
/** lcore entry of a worker (arg: struct sl_worker *). */
int sl_worker_main(void *arg);

/**
 * sl_exec_init() for the engine's workers: also the JIT's burst entry
 * (sl_exec.burst) of an XDP program that can move no packet bounds, laid
 * out for rte_mbufs; without one the worker calls the program per packet.
 * @p jit may be NULL (the interpreter). The entry prefetches packet data
 * unless every port of @p eng receives into cache (sl_port_rx_data_hot).
 * Control thread, before @p ex is published.
 */
void sl_worker_exec_init(const struct sl_engine *eng, struct sl_exec *ex, struct sl_prog *prog,
			 struct sl_jit *jit);

/* stats.c */
/** Sum of every worker's published counters. Control thread. */
void sl_stats_sum(const struct sl_engine *eng, struct sl_worker_stats *sum);
/**
 * Every worker's counters into @p per_worker (nworkers entries) and their sum
 * into @p sum, from the same reads: totals and per-worker figures of one
 * report agree. Control thread.
 */
void sl_stats_snapshot(const struct sl_engine *eng, struct sl_worker_stats *per_worker,
		       struct sl_worker_stats *sum);
/** Run the control loop until a signal, --duration or the end of finite inputs. */
void sl_stats_loop(struct sl_engine *eng, const char **why);

/* report.c */
/** One entry of a map, as the control API returns it. */
struct sl_map_entry {
	const uint8_t *key;
	const uint8_t *value;   /**< control-API layout: per-CPU slots packed, stride 8-rounded */
	uint32_t key_size;
	uint32_t value_size;
	unsigned ncpus;         /**< slots in value (1 for shared maps) */
	uint32_t stride;        /**< bytes between slots */
	bool percpu;            /**< a per-CPU map */
	const struct sl_text_type *key_type;    /**< BTF type of the key (sl_text.h) */
	const struct sl_text_type *value_type;  /**< of one value (one slot) */
	bool summable;          /**< per-CPU values are integers: "value" is their sum */
};
typedef int (*sl_map_entry_fn)(const struct sl_map_entry *e, void *arg);
/** Sum of the slots of a per-CPU value whose e->summable, into value_size bytes at @p out. */
void sl_map_entry_sum(const struct sl_map_entry *e, uint8_t *out);
/** Slot @p cpu of a 4- or 8-byte value as an integer. */
uint64_t sl_map_entry_slot_u64(const struct sl_map_entry *e, unsigned cpu);
/** Which entries of a map a report lists: arrays only non-zero entries, other maps every one. */
struct sl_report_filter {
	size_t vsize;  /**< control-API value bytes (the zero test) */
	bool array;    /**< list only entries with a non-zero value */
};
/** @p f for @p map. */
void sl_report_filter_init(struct sl_map *map, struct sl_report_filter *f);
/** True when an entry with control-API value @p value is listed. */
bool sl_report_listed(const struct sl_report_filter *f, const void *value);
/**
 * Visit the entries of @p map worth reporting (sl_report_listed()). 0, or
 * -errno from the map (control thread).
 */
int sl_report_map_walk(const struct sl_obj *obj, struct sl_map *map, sl_map_entry_fn fn,
		       void *arg);
/**
 * Fill @p e's sizes, slots and types for entries of @p map of @p obj
 * (types through sl_text_map_types(); untyped where the map has no BTF).
 * @p kt and @p vt are where the types are kept (the caller's).
 */
void sl_report_entry_init(const struct sl_obj *obj, struct sl_map *map, struct sl_map_entry *e,
			  struct sl_text_type *kt, struct sl_text_type *vt);
/** Final stats and (unless --no-maps) every map, human-readable. */
void sl_report_print(const struct sl_engine *eng, double secs, FILE *out);

/* json.c: the JSON objects of run --json, the control socket and telemetry (jansson). */
struct json_t;
/** An unsigned integer, or a "0x..." string above INT64_MAX. NULL on ENOMEM. */
struct json_t *sl_json_u64(uint64_t v);
/** Key or value bytes: 4 and 8 bytes as integers, other sizes as hex strings. */
struct json_t *sl_json_bytes(const uint8_t *p, uint32_t n);
/** Key or value bytes typed through BTF: sl_text_format_json()'s value. */
struct json_t *sl_json_typed(const struct sl_text_type *t, const uint8_t *p);
/** Bytes as a hex string ("0a0b..."), whatever their size. */
struct json_t *sl_json_hex(const uint8_t *p, uint32_t n);
/** {"key", "value"[, "per_core"]} of one entry. */
struct json_t *sl_json_entry(const struct sl_map_entry *e);
/** {"name", "type", "key_size", "value_size", "max_entries", "flags", "percpu", "ncpus", "in_use"}. */
struct json_t *sl_json_map_info(struct sl_map *map);
/** {"type", "entries": [...]} (+ "error" when entries cannot be listed). Control thread. */
struct json_t *sl_json_map_dump(const struct sl_obj *obj, struct sl_map *map);
/** {"NAME": sl_json_map_dump(), ...} of every map of the running object. */
struct json_t *sl_json_maps(const struct sl_engine *eng);
/** Totals, verdicts, per port, per worker. Control thread. */
struct json_t *sl_json_stats(const struct sl_engine *eng);
/** Write the final stats and maps as JSON to @p path. 0 or -errno (line printed). */
int sl_json_write(const struct sl_engine *eng, const char *path);

/* ctl_server.c: the control socket, served by the main lcore. */
struct sl_ctl;
/** Listen on @p path (mode 0600). NULL with errno and one line printed. */
struct sl_ctl *sl_ctl_open(struct sl_engine *eng, const char *path);
/**
 * Serve clients for at most @p timeout_ms (poll), drain events and trace
 * lines, answer telemetry requests. Control loop, every 10 ms. Never blocks
 * on a client.
 */
void sl_ctl_serve(struct sl_ctl *ctl, int timeout_ms);
/** Close every client and the socket, unlink it. NULL is allowed. */
void sl_ctl_close(struct sl_ctl *ctl);
/**
 * Answer one request object (control thread): the result, or NULL with one
 * line in @p err. Used by the socket and by telemetry.
 */
struct json_t *sl_ctl_handle(struct sl_ctl *ctl, struct json_t *req, char *err, size_t err_len);

/* metrics.c: Prometheus text over HTTP (libmicrohttpd thread, answered by the control thread). */
/** Listen on the config's metrics.listen, if any. 0 or -errno (line printed). */
int sl_metrics_start(struct sl_engine *eng);
/** Answer a pending scrape (control loop, every turn). */
void sl_metrics_serve(struct sl_engine *eng);
/** Stop the HTTP thread. NULL endpoint allowed. */
void sl_metrics_stop(struct sl_engine *eng);

/* service.c: systemd (sd_notify datagrams) and SIGHUP. Control thread. */
/** READY=1 (ports up, workers launched), and the watchdog interval from WATCHDOG_USEC. */
void sl_service_ready(struct sl_engine *eng);
/** Control loop turn: WATCHDOG=1 when due and every worker lcore still runs. */
void sl_service_tick(struct sl_engine *eng);
/** STOPPING=1. */
void sl_service_stopping(void);
/**
 * SIGHUP: re-read the config file; apply the program (hot reload), map
 * preloads, stats interval and egress; say what needs a restart. A config
 * that does not load, or a program that does not verify, is refused whole.
 * @p stats_interval: the control loop's interval, updated.
 */
void sl_service_hup(struct sl_engine *eng, double *stats_interval);

/* telemetry.c: /sluice/... commands of DPDK telemetry (answered by the control thread). */
/** Register the commands. 0 or -errno. */
int sl_telemetry_register(struct sl_ctl *ctl);
/** Answer a pending telemetry request, if any (control thread, from sl_ctl_serve). */
void sl_telemetry_serve(struct sl_ctl *ctl);
/** Stop answering (pending and later requests get an error). */
void sl_telemetry_stop(void);

#endif
