/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Control loop of `sluice run` (main lcore) and the summing of the
 * per-worker counters.
 *
 * Every 10 ms the main lcore checks, in order: a stop signal (signals.c;
 * one that came during start-up ends the run at the first check),
 * whether every finite pcap input is done, --duration, and whether a
 * finite input stalled (below its count, nothing for 2 s: said in one
 * line, the run stops and fails after its report). A finite input is done when, for each port
 * with rx_pcap and no infinite_rx, the packets received *and processed* on
 * it (workers publish a port's rx count only after the burst's verdicts and
 * TX) equal the packets libpcap counted in the file: exact (the stall check
 * only catches an input that stopped short). Then, if the engine sent packets
 * into net_ring ports (drain.c), it goes on until their rings are empty, or
 * for SETTLE_S after what they hold last went down (a loop, egress self,
 * never empties): what a ring further down the path holds is forwarded,
 * not drained at stop.
 * Every --stats-interval seconds, and on SIGUSR1/SIGUSR2, it prints one
 * line of rates. A run that nothing but a signal or --duration can end
 * (no finite input) says so on stderr at start.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine_internal.h"

#define POLL_US 10000
#define STALL_SECS 2.0   /* a finite input that delivers nothing for this long has stopped */
#define SETTLE_S 0.05    /* end of input: rings whose content stays this long are a loop */
/*
 * The counters are summed at most this often (a turn of a loop that serves
 * a dump can come every few hundred microseconds): each sum reads lines
 * the workers write every burst, and takes them out of their caches.
 */
#define SUM_EVERY_S 0.009

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t load(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

/* One worker's counters, port rx first: acquire pairs with the worker's release. */
static void worker_snapshot(const struct sl_worker_stats *s, struct sl_worker_stats *o)
{
	memset(o, 0, sizeof(*o));
	for (unsigned p = 0; p < SL_RUN_MAX_PORTS; p++) {
		o->port_rx[p] = load(&s->port_rx[p]);
		o->port_tx[p] = load(&s->port_tx[p]);
	}
	o->rx = load(&s->rx);
	o->tx = load(&s->tx);
	o->drop = load(&s->drop);
	o->error = load(&s->error);
	o->tx_drop = load(&s->tx_drop);
	o->cpu_in = load(&s->cpu_in);  /* before what the hand-over counted, in this order */
	o->cpu_out = load(&s->cpu_out);
	o->cpu_full = load(&s->cpu_full);
	for (unsigned v = 0; v < SL_VERDICT_COUNT; v++) {
		o->verdict[v] = load(&s->verdict[v]);
		o->cpu_prog[v] = load(&s->cpu_prog[v]);
	}
}

void sl_stats_snapshot(const struct sl_engine *eng, struct sl_worker_stats *per_worker,
		       struct sl_worker_stats *sum)
{
	memset(sum, 0, sizeof(*sum));
	for (unsigned w = 0; w < eng->nworkers; w++) {
		struct sl_worker_stats one, *o = per_worker ? &per_worker[w] : &one;

		worker_snapshot(&eng->workers[w].stats, o);
		for (unsigned p = 0; p < SL_RUN_MAX_PORTS; p++) {
			sum->port_rx[p] += o->port_rx[p];
			sum->port_tx[p] += o->port_tx[p];
		}
		sum->rx += o->rx;
		sum->tx += o->tx;
		sum->drop += o->drop;
		sum->error += o->error;
		sum->tx_drop += o->tx_drop;
		sum->cpu_out += o->cpu_out;
		sum->cpu_full += o->cpu_full;
		sum->cpu_in += o->cpu_in;
		for (unsigned v = 0; v < SL_VERDICT_COUNT; v++) {
			sum->verdict[v] += o->verdict[v];
			sum->cpu_prog[v] += o->cpu_prog[v];
		}
	}
}

void sl_stats_sum(const struct sl_engine *eng, struct sl_worker_stats *sum)
{
	sl_stats_snapshot(eng, NULL, sum);
}

/* True once every finite input was fully processed (false if there is none). */
static bool inputs_done(const struct sl_engine *eng, const struct sl_worker_stats *sum)
{
	bool any = false;

	for (unsigned p = 0; p < eng->nports; p++) {
		const struct sl_port_spec *spec = &eng->opts->ports[p];

		if (!spec->finite)
			continue;
		if (sum->port_rx[p] < spec->pcap_packets)
			return false;
		any = true;
	}
	return any && sum->cpu_in == sum->cpu_out;  /* CPUMAP rings empty (cpumap.c) */
}

/* Packets the engine sent into its own rings (net_ring ports) and has not read back. */
static uint64_t ring_backlog(const struct sl_engine *eng, const struct sl_worker_stats *sum)
{
	uint64_t n = 0;

	for (unsigned p = 0; p < eng->nports; p++)
		if (eng->port_ring[p] && sum->port_tx[p] > sum->port_rx[p])
			n += sum->port_tx[p] - sum->port_rx[p];
	return n;
}

/* After the end of input: true once the rings are empty or stopped emptying (SETTLE_S). */
static bool rings_settled(const struct sl_engine *eng, const struct sl_worker_stats *sum,
			  double t, uint64_t *low, double *since)
{
	uint64_t n = ring_backlog(eng, sum);

	if (!n)
		return true;
	if (*since == 0 || n < *low) {  /* the first look, or still going down */
		*low = n;
		*since = t;
	}
	return t - *since >= SETTLE_S;
}

static void print_rates(const struct sl_worker_stats *cur, const struct sl_worker_stats *prev,
			double t, double dt)
{
	double k = dt > 0 ? 1e-6 / dt : 0;

	printf("[%6.1fs] rx %8.3f Mpps  tx %8.3f Mpps  drop %8.3f Mpps  error %8.3f Mpps  "
	       "(rx total %llu)\n", t,
	       (double)(cur->rx - prev->rx) * k, (double)(cur->tx - prev->tx) * k,
	       (double)(cur->drop - prev->drop) * k, (double)(cur->error - prev->error) * k,
	       (unsigned long long)cur->rx);
	fflush(stdout);
}

/* Before the loop: a run that only a signal or --duration can end says so. */
static void say_if_endless(const struct sl_engine *eng)
{
	const struct sl_run_opts *o = eng->opts;
	bool finite = false;

	for (unsigned p = 0; p < eng->nports; p++)
		finite |= o->ports[p].finite;
	if (finite || o->duration > 0)
		return;
	for (unsigned p = 0; p < eng->nports; p++)
		if (o->ports[p].is_pcap && !o->ports[p].rx_pcap[0])
			fprintf(stderr, "sluice: port '%s' has nothing to read (no rx_pcap); "
				"no input is finite and there is no --duration: the run goes on "
				"until SIGINT or SIGTERM\n", o->ports[p].name);
}

/*
 * A finite input that stopped delivering before its counted packets came
 * (the file was cut or replaced while running): true, with one line said.
 */
static bool input_stalled(const struct sl_engine *eng, const struct sl_worker_stats *sum,
			  double t, uint64_t *last_rx, double *last_change)
{
	for (unsigned p = 0; p < eng->nports; p++) {
		const struct sl_port_spec *spec = &eng->opts->ports[p];

		if (!spec->finite || sum->port_rx[p] >= spec->pcap_packets)
			continue;
		if (sum->port_rx[p] != last_rx[p] || last_change[p] == 0) {
			last_rx[p] = sum->port_rx[p];
			last_change[p] = t;
			continue;
		}
		if (t - last_change[p] >= STALL_SECS) {
			fprintf(stderr, "sluice run: port '%s': rx_pcap '%s' stopped delivering after "
				"%llu of its %llu packets (nothing for %.0f s: was the file changed "
				"while running?)\n", spec->name, spec->rx_pcap,
				(unsigned long long)sum->port_rx[p],
				(unsigned long long)spec->pcap_packets, STALL_SECS);
			return true;
		}
	}
	return false;
}

static bool loop_should_stop(struct sl_engine *eng, const struct sl_worker_stats *cur, double t,
			     double start, uint64_t *last_rx, double *last_change, const char **why)
{
	static uint64_t ring_low;  /* rings_settled's state (one control loop per process) */
	static double ring_since;
	const struct sl_run_opts *o = eng->opts;
	int sig = sl_signal_stop();

	if (sig) {
		*why = sl_signal_name(sig);
		return true;
	}
	if (inputs_done(eng, cur) && rings_settled(eng, cur, t, &ring_low, &ring_since)) {
		*why = "end of input";
		return true;
	}
	if (o->duration > 0 && t - start >= o->duration) {
		*why = "duration reached";
		return true;
	}
	if (input_stalled(eng, cur, t, last_rx, last_change)) {
		*why = "input stalled";
		eng->failed = true;
		return true;
	}
	return false;
}

void sl_stats_loop(struct sl_engine *eng, const char **why)
{
	const struct sl_run_opts *o = eng->opts;
	struct sl_worker_stats cur, prev;
	uint64_t last_rx[SL_RUN_MAX_PORTS] = { 0 };
	double last_change[SL_RUN_MAX_PORTS] = { 0 };
	double interval = o->stats_interval;  /* SIGHUP may change it */
	double start = now(), last = start, next_line = start + interval, summed = 0;
	unsigned info_seen = 0;  /* one that came during start-up prints at the first check */
	unsigned hup_seen = 0;   /* same for a SIGHUP */

	say_if_endless(eng);
	memset(&prev, 0, sizeof(prev));
	for (;;) {
		double t;

		if (sl_signal_stop())  /* a stop signal from start-up ends the run at once */
			;
		else if (eng->ctl)
			sl_ctl_serve(eng->ctl, POLL_US / 1000);  /* control socket: poll, not sleep */
		else
			usleep(POLL_US);
		t = now();
		if (eng->metrics)
			sl_metrics_serve(eng);  /* a scrape waiting for its text */
		if (t - summed >= SUM_EVERY_S || sl_signal_info_count() != info_seen ||
		    (interval > 0 && t >= next_line)) {
			sl_stats_sum(eng, &cur);  /* lines the workers write per burst: not every turn */
			summed = t;
		}
		sl_service_tick(eng);  /* systemd watchdog */
		if (sl_signal_hup_count() != hup_seen) {  /* SIGHUP: re-read the config */
			hup_seen = sl_signal_hup_count();
			sl_service_hup(eng, &interval);
			next_line = t + interval;
		}
		if (!o->quiet && interval > 0 && t >= next_line) {
			print_rates(&cur, &prev, t - start, t - last);
			prev = cur;
			last = t;
			while (next_line <= t)
				next_line += interval;  /* no drift */
		}
		if (sl_signal_info_count() != info_seen) {  /* SIGUSR1/2: the counters so far */
			info_seen = sl_signal_info_count();
			print_rates(&cur, &prev, t - start, t - last);
		}
		if (loop_should_stop(eng, &cur, t, start, last_rx, last_change, why))
			break;
	}
	sl_service_stopping();
	__atomic_store_n(&eng->stop, 1, __ATOMIC_RELEASE);
}
