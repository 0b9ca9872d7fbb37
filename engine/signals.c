/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Signals of the sluice command, handled before main() (from .preinit_array,
 * before any library constructor; main() calls sl_signals_init() too) so
 * that none is lost and none kills a run that holds DPDK state.
 *
 *   stop     SIGINT SIGTERM SIGQUIT SIGALRM SIGVTALRM SIGPROF SIGXCPU
 *   reload   SIGHUP: `sluice run` re-reads its config file (service.c); any
 *            other command ends, as by default
 *   info     SIGUSR1 SIGUSR2: `sluice run` prints the counters so far
 *   ignored  SIGPIPE SIGXFSZ: a write fails with an error instead
 *   fatal    SIGSEGV SIGBUS SIGILL SIGFPE SIGABRT: the DPDK runtime directory
 *            is removed (rmdir, async-signal-safe), then the default action
 *
 * A command that cleans up after itself (`sluice run`) calls
 * sl_signals_defer(): a stop signal then only records itself, at any time,
 * also during start-up; the run polls sl_signal_stop() and stops as soon as
 * start-up ends, then reports and cleans up. Any other command keeps the
 * default action of a stop or info signal (it holds nothing to clean up):
 * the handler restores SIG_DFL and raises the signal again.
 *
 * `sluice replay` (and sluice-replay) calls sl_signals_defer_first(): the
 * first stop signal only records itself (the replay stops at the next
 * check, writes and counts what it ran, reports, then dies of that signal
 * through sl_signal_reraise(), so its parent sees it interrupted); a second
 * one, and any info or SIGHUP, acts as by default.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "engine_internal.h"

static const int stop_sigs[] = { SIGINT, SIGTERM, SIGQUIT, SIGALRM, SIGVTALRM,
				 SIGPROF, SIGXCPU };
static const int hup_sigs[] = { SIGHUP };
static const int info_sigs[] = { SIGUSR1, SIGUSR2 };
static const int fatal_sigs[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT };

static volatile sig_atomic_t stop_sig;   /* first stop signal received */
static volatile sig_atomic_t info_count; /* info signals received */
static volatile sig_atomic_t hup_count;  /* SIGHUPs received */
static volatile sig_atomic_t deferred;   /* 1: the command handles stop/info itself;
					  * 2: the first stop signal only (replay) */
static char cleanup_dir[512];            /* written before deferred handlers can see it */

static void restore_and_raise(int sig)
{
	signal(sig, SIG_DFL);
	raise(sig);
}

static void on_stop(int sig)
{
	if (!stop_sig)
		stop_sig = sig;
	else if (deferred == 2)  /* the second one: the replay is not stopping fast enough */
		restore_and_raise(sig);
	if (!deferred)
		restore_and_raise(sig);
}

static void on_info(int sig)
{
	info_count++;
	if (deferred != 1)
		restore_and_raise(sig);
}

static void on_hup(int sig)
{
	hup_count++;
	if (deferred != 1)
		restore_and_raise(sig);
}

static void on_fatal(int sig)
{
	if (cleanup_dir[0])
		rmdir(cleanup_dir);
	restore_and_raise(sig);
}

static void install(const int *sigs, size_t n, void (*fn)(int), bool reset_hand)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = fn;
	sigfillset(&sa.sa_mask);   /* handlers do not interrupt each other */
	sa.sa_flags = reset_hand ? SA_RESETHAND : 0;
	for (size_t i = 0; i < n; i++)
		sigaction(sigs[i], &sa, NULL);
}

void sl_signals_init(void)
{
	static bool done;
	sigset_t all;

	if (done)
		return;
	done = true;
	/* A signal that comes while the handlers go in waits until they are in. */
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, NULL);
	install(stop_sigs, sizeof(stop_sigs) / sizeof(stop_sigs[0]), on_stop, false);
	install(info_sigs, sizeof(info_sigs) / sizeof(info_sigs[0]), on_info, false);
	install(hup_sigs, sizeof(hup_sigs) / sizeof(hup_sigs[0]), on_hup, false);
	install(fatal_sigs, sizeof(fatal_sigs) / sizeof(fatal_sigs[0]), on_fatal, true);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGXFSZ, SIG_IGN);
	sigprocmask(SIG_UNBLOCK, &all, NULL);
}

/*
 * Before main, too: .preinit_array functions of the executable run after the
 * dynamic loader maps and relocates the libraries but before any library
 * constructor (DPDK has many), so a signal has a handler from then on.
 */
static void preinit(int argc, char **argv, char **envp)
{
	/* deferral first: a SIGUSR1 that lands the moment the handlers are in
	 * must already find `sluice run` handling it, not the default action */
	if (argc >= 2 && !strcmp(argv[1], "run"))
		sl_signals_defer();  /* as main() decides, but before the constructors */
	else if (argc >= 2 && !strcmp(argv[1], "replay"))
		sl_signals_defer_first();
	sl_signals_init();
}

__attribute__((section(".preinit_array"), used))
static void (*const sl_signals_preinit)(int, char **, char **) = preinit;

void sl_signals_defer(void)
{
	deferred = 1;
}

void sl_signals_defer_first(void)
{
	deferred = 2;
}

void sl_signal_reraise(void)
{
	int sig = stop_sig;

	if (!sig)
		return;
	fflush(stdout);  /* the report: dying of a signal flushes nothing */
	fflush(stderr);
	signal(sig, SIG_DFL);
	raise(sig);
}

int sl_signal_stop(void)
{
	return stop_sig;
}

unsigned sl_signal_info_count(void)
{
	return (unsigned)info_count;
}

unsigned sl_signal_hup_count(void)
{
	return (unsigned)hup_count;
}

void sl_signals_cleanup_dir(const char *dir)
{
	sigset_t all, old;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	snprintf(cleanup_dir, sizeof(cleanup_dir), "%s", dir ? dir : "");
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

const char *sl_signal_name(int sig)
{
	switch (sig) {
	case SIGINT: return "SIGINT";
	case SIGTERM: return "SIGTERM";
	case SIGHUP: return "SIGHUP";
	case SIGQUIT: return "SIGQUIT";
	case SIGALRM: return "SIGALRM";
	case SIGVTALRM: return "SIGVTALRM";
	case SIGPROF: return "SIGPROF";
	case SIGXCPU: return "SIGXCPU";
	default: return "a signal";
	}
}
