/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Control loop of `sluice run` (main lcore) and the summing of the
 * per-worker counters.
 *
 * Every 10 ms the main lcore checks, in order: a signal (SIGINT/SIGTERM),
 * --duration, and whether every finite pcap input is done: for each port
 * with rx_pcap and no infinite_rx, the packets received *and processed* on
 * it (workers publish a port's rx count only after the burst's verdicts and
 * TX) equal the packets libpcap counted in the file. Exact, no idle timeout.
 * Every --stats-interval seconds it prints one line of rates.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine_internal.h"

#define POLL_US 10000

static volatile sig_atomic_t signalled;

static void on_signal(int sig)
{
	signalled = sig;
}

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

void sl_stats_sum(const struct sl_engine *eng, struct sl_worker_stats *sum)
{
	memset(sum, 0, sizeof(*sum));
	for (unsigned w = 0; w < eng->nworkers; w++) {
		const struct sl_worker_stats *s = &eng->workers[w].stats;

		/* port rx first: acquire pairs with the worker's release */
		for (unsigned p = 0; p < SL_RUN_MAX_PORTS; p++) {
			sum->port_rx[p] += load(&s->port_rx[p]);
			sum->port_tx[p] += load(&s->port_tx[p]);
		}
		sum->rx += load(&s->rx);
		sum->tx += load(&s->tx);
		sum->drop += load(&s->drop);
		sum->error += load(&s->error);
		sum->tx_drop += load(&s->tx_drop);
		for (unsigned v = 0; v < SL_VERDICT_COUNT; v++)
			sum->verdict[v] += load(&s->verdict[v]);
	}
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
	return any;
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

void sl_stats_loop(struct sl_engine *eng, const char **why)
{
	const struct sl_run_opts *o = eng->opts;
	struct sl_worker_stats cur, prev;
	struct sigaction sa;
	double start = now(), last = start, next_line = start + o->stats_interval;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	memset(&prev, 0, sizeof(prev));
	for (;;) {
		double t;

		if (eng->ctl)
			sl_ctl_serve(eng->ctl, POLL_US / 1000);  /* control socket: poll, not sleep */
		else
			usleep(POLL_US);
		t = now();
		sl_stats_sum(eng, &cur);
		if (!o->quiet && o->stats_interval > 0 && t >= next_line) {
			print_rates(&cur, &prev, t - start, t - last);
			prev = cur;
			last = t;
			while (next_line <= t)
				next_line += o->stats_interval;  /* no drift */
		}
		if (signalled) {
			*why = signalled == SIGINT ? "SIGINT" : "SIGTERM";
			break;
		}
		if (inputs_done(eng, &cur)) {
			*why = "end of input";
			break;
		}
		if (o->duration > 0 && t - start >= o->duration) {
			*why = "duration reached";
			break;
		}
	}
	__atomic_store_n(&eng->stop, 1, __ATOMIC_RELEASE);
}
