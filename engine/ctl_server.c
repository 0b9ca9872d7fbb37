/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control socket of `sluice run --ctl-socket PATH`, served by the main
 * lcore inside its 10 ms control loop (stats.c calls sl_ctl_serve() in
 * place of its sleep). Workers never see it: it reads maps and counters
 * through the control APIs, as the final report does.
 *
 * Protocol: a Unix stream socket (mode 0600), one JSON object per line each
 * way. A request {"cmd": "stats", ...} gets one response line
 * {"ok": true, "result": ...} or {"ok": false, "error": "one line"};
 * an "id" member of the request is echoed. "events" and "trace" turn the
 * connection into a stream: after the response, one line per record.
 * The commands themselves are in ctl_cmds.c.
 *
 * Nothing a client does can stall the loop, the workers or other clients:
 *   - every socket is non-blocking; one poll() with the loop's timeout;
 *   - a request line is capped (SL_CTL_MAX_LINE): a longer one gets an
 *     error and the connection is closed; bytes that are not JSON get an
 *     error line and the connection stays;
 *   - a client's requests are read only once its previous response has been
 *     written out (a client that does not read holds one response, no more),
 *     and the loop sleeps in poll() while every waiting request waits for
 *     its client to read (it never spins on a client that does not read);
 *   - a half-sent request is closed after SL_CTL_PARTIAL_S seconds, a
 *     silent connection after SL_CTL_IDLE_S; event lines that a stream client does not read
 *     beyond SL_CTL_MAX_STREAM bytes are dropped and counted;
 *   - at most SL_CTL_MAX_CLIENTS connections: the next one gets an error
 *     line and is closed at once;
 *   - at most SL_CTL_REQS_PER_TICK requests per client per loop turn;
 *   - a map dump is paced: at most SL_CTL_DUMP_PART entries per client per
 *     turn, and the thread yields its CPU (sched_yield) before each turn
 *     that has a dump's next part to write, so a dump in a loop never holds
 *     the control CPU for more than one part (about 0.5 ms) at a time.
 * Control thread only.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <jansson.h>

#include "capture.h"
#include "ctl_internal.h"
#include "sl_helpers.h"
#include "sl_maps.h"

static double mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int listen_on(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	int fd, err;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	/* a socket left by a dead engine is replaced; any other file is not */
	if (!lstat(path, &st)) {
		if (!S_ISSOCK(st.st_mode))
			return -EEXIST;
		unlink(path);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || chmod(path, 0600) ||
	    listen(fd, SOMAXCONN)) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

struct sl_ctl *sl_ctl_open(struct sl_engine *eng, const char *path)
{
	struct sl_ctl *ctl = calloc(1, sizeof(*ctl));
	mode_t old;
	int fd;

	if (!ctl) {
		fprintf(stderr, "sluice run: --ctl-socket: out of memory\n");
		return NULL;
	}
	old = umask(0077);  /* no moment where the socket is open to others */
	fd = listen_on(path);
	umask(old);
	if (fd < 0) {
		fprintf(stderr, "sluice run: --ctl-socket %s: %s\n", path,
			fd == -EEXIST ? "exists and is not a socket" : strerror(-fd));
		free(ctl);
		errno = -fd;
		return NULL;
	}
	ctl->eng = eng;
	ctl->lfd = fd;
	snprintf(ctl->path, sizeof(ctl->path), "%s", path);
	for (unsigned i = 0; i < SL_CTL_MAX_CLIENTS; i++)
		ctl->clients[i].fd = -1;
	ctl->start = mono();
	ctl->snap_t = ctl->prev_t = ctl->start;
	eng->ctl = ctl;
	return ctl;
}

static void client_close(struct sl_ctl *ctl, struct ctl_client *c)
{
	if (c->fd < 0)
		return;
	sl_capture_gone(ctl, c);
	sl_ctl_dump_free(c);
	close(c->fd);
	free(c->in);
	free(c->out);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	ctl->nclients--;
}

static bool client_flush(struct ctl_client *c);

/* At exit: give a capture client up to 2 s to take its last records. */
static void flush_for_a_while(struct ctl_client *c)
{
	for (int i = 0; i < 200 && c->out_off < c->out_len; i++) {
		struct pollfd p = { .fd = c->fd, .events = POLLOUT };

		if (!client_flush(c) || poll(&p, 1, 10) < 0)
			return;
	}
}

void sl_ctl_close(struct sl_ctl *ctl)
{
	if (!ctl)
		return;
	sl_telemetry_stop();
	for (unsigned i = 0; i < SL_CTL_MAX_CLIENTS; i++) {
		struct ctl_client *c = &ctl->clients[i];

		if (c->fd >= 0 && c->sub == CTL_SUB_CAPTURE) {  /* the records left, then the end */
			sl_capture_drain(ctl);
			sl_capture_finish(ctl, c, "the engine stopped");
			flush_for_a_while(c);
		}
		client_close(ctl, c);
	}
	close(ctl->lfd);
	unlink(ctl->path);
	ctl->eng->ctl = NULL;
	free(ctl);
}

/* Append bytes to the client's output; -ENOBUFS past @p cap. */
static int out_append(struct ctl_client *c, const char *s, size_t n, size_t cap)
{
	if (c->out_len - c->out_off + n > cap)
		return -ENOBUFS;
	if (c->out_off && c->out_off == c->out_len)
		c->out_off = c->out_len = 0;
	if (c->out_off && c->out_len + n > c->out_cap) {  /* a stream is never empty: compact */
		memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
		c->out_len -= c->out_off;
		c->out_off = 0;
	}
	if (c->out_len + n > c->out_cap) {
		size_t ncap = (c->out_len + n) * 2;
		char *p = realloc(c->out, ncap);

		if (!p)
			return -ENOMEM;
		c->out = p;
		c->out_cap = ncap;
	}
	memcpy(c->out + c->out_len, s, n);
	c->out_len += n;
	return 0;
}

int sl_ctl_write(struct ctl_client *c, const char *s, size_t n)
{
	return out_append(c, s, n, SL_CTL_MAX_OUT);
}

/* One JSON line to the client (steals @p j). -ENOBUFS/-ENOMEM if it does not fit. */
int sl_ctl_send(struct ctl_client *c, json_t *j, size_t cap)
{
	char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
	int err;

	json_decref(j);
	if (!s)
		return -ENOMEM;
	err = out_append(c, s, strlen(s), cap);
	err = err ?: out_append(c, "\n", 1, cap + 1);
	free(s);
	return err;
}

static void send_error(struct ctl_client *c, json_t *id, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	json_t *j;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	j = json_pack("{s:b, s:s}", "ok", 0, "error", msg);
	if (j && id)
		json_object_set(j, "id", id);
	sl_ctl_send(c, j, SL_CTL_MAX_OUT);
}

/*
 * Write what the socket takes now. False when the peer is gone. A short
 * send means the socket buffer is full: the rest waits for POLLOUT rather
 * than for a second send() that would only say EAGAIN (one system call
 * per turn, not two, for a streamed dump).
 */
static bool client_flush(struct ctl_client *c)
{
	while (c->out_off < c->out_len) {
		size_t want = c->out_len - c->out_off;
		ssize_t n = send(c->fd, c->out + c->out_off, want, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
		c->out_off += (size_t)n;
		if ((size_t)n < want)
			return true;
	}
	c->out_off = c->out_len = 0;
	return true;
}

static void accept_clients(struct sl_ctl *ctl)
{
	for (int tries = 0; tries < 64; tries++) {
		int fd = accept4(ctl->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct ctl_client *c = NULL;

		if (fd < 0)
			return;
		for (unsigned i = 0; i < SL_CTL_MAX_CLIENTS && !c; i++)
			if (ctl->clients[i].fd < 0)
				c = &ctl->clients[i];
		if (!c) {
			static const char full[] = "{\"ok\":false,\"error\":\"too many clients "
						   "(the engine serves " SL_CTL_MAX_CLIENTS_STR ")\"}\n";

			ctl->refused++;
			(void)!send(fd, full, sizeof(full) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
			close(fd);
			continue;
		}
		memset(c, 0, sizeof(*c));
		c->fd = fd;
		c->last = mono();
		c->in = malloc(SL_CTL_MAX_LINE + 1);
		if (!c->in) {
			close(fd);
			c->fd = -1;
			continue;
		}
		ctl->nclients++;
	}
}

/* Subscription requests: the connection becomes a stream of records. */
static bool subscribe(struct sl_ctl *ctl, struct ctl_client *c, json_t *req, json_t *id)
{
	const char *cmd = json_string_value(json_object_get(req, "cmd"));
	char err[256] = "";
	json_t *res;

	if (!strcmp(cmd, "capture")) {
		res = sl_capture_open(ctl, c, req, err, sizeof(err));
		if (!res) {
			send_error(c, id, "%s", err);
			return true;
		}
	} else if (!strcmp(cmd, "trace")) {
		c->sub = CTL_SUB_TRACE;
		res = json_pack("{s:o}", "lost", sl_json_u64(ctl->trace_lost));
	} else {
		res = sl_ctl_events_open(ctl, c, req, err, sizeof(err));
		if (!res) {
			send_error(c, id, "%s", err);
			return true;
		}
	}
	res = json_pack("{s:b, s:o}", "ok", 1, "result", res);
	if (res && id)
		json_object_set(res, "id", id);
	sl_ctl_send(c, res, SL_CTL_MAX_OUT);
	return true;
}

static void handle_line(struct sl_ctl *ctl, struct ctl_client *c, const char *line, size_t len)
{
	json_error_t jerr;
	json_t *req = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr), *id, *res;
	const char *cmd;
	char err[512] = "";

	if (!req || !json_is_object(req)) {
		send_error(c, NULL, "request is not a JSON object: %s",
			   req ? "another JSON value" : jerr.text);
		json_decref(req);
		return;
	}
	id = json_object_get(req, "id");
	cmd = json_string_value(json_object_get(req, "cmd"));
	if (!cmd) {
		send_error(c, id, "request has no \"cmd\" string");
	} else if (c->sub) {
		send_error(c, id, "this connection is a stream of %s: open another for '%s'",
			   c->sub == CTL_SUB_TRACE ? "trace lines" :
			   c->sub == CTL_SUB_CAPTURE ? "packets" : "events", cmd);
	} else if (!strcmp(cmd, "events") || !strcmp(cmd, "trace") || !strcmp(cmd, "capture")) {
		subscribe(ctl, c, req, id);
	} else if (!strcmp(cmd, "map_dump")) {  /* streamed over the next turns (ctl_dump.c) */
		if (sl_ctl_dump_begin(ctl, c, req, id, err, sizeof(err)))
			send_error(c, id, "%s", err);
	} else if ((res = sl_ctl_handle(ctl, req, err, sizeof(err)))) {
		res = json_pack("{s:b, s:o}", "ok", 1, "result", res);
		if (res && id)
			json_object_set(res, "id", id);
		if (sl_ctl_send(c, res, SL_CTL_MAX_OUT))
			send_error(c, id, "response larger than %u MiB", SL_CTL_MAX_OUT >> 20);
	} else {
		send_error(c, id, "%s", err);
	}
	json_decref(req);
}

/* Run the complete lines in the input buffer (at most a few per turn). */
static void run_lines(struct sl_ctl *ctl, struct ctl_client *c)
{
	unsigned done = 0;
	char *nl;

	while (done < SL_CTL_REQS_PER_TICK && c->out_len == c->out_off && !c->dump &&
	       (nl = memchr(c->in, '\n', c->in_len))) {
		size_t n = (size_t)(nl - c->in);

		if (n)
			handle_line(ctl, c, c->in, n);
		memmove(c->in, nl + 1, c->in_len - n - 1);
		c->in_len -= n + 1;
		c->last = mono();
		done++;
	}
}

/* Read what is there. False: close the client (peer gone, or line too long). */
static bool client_read(struct sl_ctl *ctl, struct ctl_client *c)
{
	for (;;) {
		ssize_t n;

		if (c->in_len == SL_CTL_MAX_LINE) {
			if (memchr(c->in, '\n', c->in_len))
				return true;  /* requests waiting for their turn */
			send_error(c, NULL, "request line longer than %u bytes: closing",
				   SL_CTL_MAX_LINE);
			client_flush(c);
			return false;
		}
		n = recv(c->fd, c->in + c->in_len, SL_CTL_MAX_LINE - c->in_len, MSG_DONTWAIT);
		if (n == 0) {  /* peer shut its side: an unterminated request still counts */
			if (!c->eof && c->in_len && c->in_len < SL_CTL_MAX_LINE &&
			    c->in[c->in_len - 1] != '\n')
				c->in[c->in_len++] = '\n';
			c->eof = true;
			return true;
		}
		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
		c->in_len += (size_t)n;
		if (memchr(c->in + c->in_len - (size_t)n, '\n', (size_t)n))
			return true;
	}
}

/* Rates: the counters are sampled about once a second. */
static void sample_rates(struct sl_ctl *ctl, double t)
{
	if (t - ctl->snap_t < 1.0)
		return;
	ctl->prev = ctl->snap;
	ctl->prev_t = ctl->snap_t;
	sl_stats_sum(ctl->eng, &ctl->snap);
	ctl->snap_t = t;
}

static void trace_line(uint32_t cpu, uint64_t ns, const char *msg, void *arg)
{
	struct sl_ctl *ctl = arg;
	double t = (double)ns * 1e-9;  /* when the worker wrote it, CLOCK_MONOTONIC */

	for (unsigned i = 0; i < SL_CTL_MAX_CLIENTS; i++) {
		struct ctl_client *c = &ctl->clients[i];

		if (c->fd < 0 || c->sub != CTL_SUB_TRACE)
			continue;
		if (sl_ctl_send(c, json_pack("{s:I, s:f, s:s, s:o}", "worker", (json_int_t)cpu,
					     "time", t, "msg", msg, "lost",
					     sl_json_u64(ctl->trace_lost + c->dropped)),
				SL_CTL_MAX_STREAM))
			c->dropped++;
	}
}

/* Client i's turn: flush, read, answer; false to close it. */
static bool client_turn(struct sl_ctl *ctl, struct ctl_client *c, short revents, double t)
{
	if ((revents & POLLOUT) && !client_flush(c))
		return false;
	if (revents & (POLLIN | POLLHUP | POLLERR)) {
		if (!client_read(ctl, c))
			return false;
	}
	run_lines(ctl, c);
	if (sl_ctl_dump_ready(c)) {  /* the next part of a dump: progress keeps it from idling out */
		sl_ctl_dump_step(c);
		c->last = t;
	}
	if (c->eof && c->sub == CTL_SUB_CAPTURE)  /* the client shut its side: stop, say so */
		sl_capture_finish(ctl, c, "stopped by the client");
	if (!client_flush(c))
		return false;
	if (c->eof && c->out_len == c->out_off && !c->dump && !memchr(c->in, '\n', c->in_len))
		return false;  /* half-closed, every request answered */
	if (c->in_len && !memchr(c->in, '\n', c->in_len))
		c->partial = c->partial ? c->partial : t;  /* a request began arriving */
	else
		c->partial = 0;
	if (c->partial && t - c->partial > SL_CTL_PARTIAL_S) {
		send_error(c, NULL, "request not finished within %d s: closing", SL_CTL_PARTIAL_S);
		client_flush(c);
		return false;
	}
	if (c->dump && t - c->last > SL_CTL_IDLE_S)
		return false;  /* its dump's reader took nothing for that long (no line: mid-answer) */
	if (!c->sub && !c->partial && t - c->last > SL_CTL_IDLE_S) {
		send_error(c, NULL, "idle for %d s: closing", SL_CTL_IDLE_S);
		client_flush(c);
		return false;
	}
	return true;
}

void sl_ctl_serve(struct sl_ctl *ctl, int timeout_ms)
{
	struct pollfd pfd[SL_CTL_MAX_CLIENTS + 1];
	unsigned idx[SL_CTL_MAX_CLIENTS + 1], n = 1;
	bool line, dumping = false;
	double t;

	pfd[0] = (struct pollfd){ .fd = ctl->lfd, .events = POLLIN };
	for (unsigned i = 0; i < SL_CTL_MAX_CLIENTS; i++) {
		struct ctl_client *c = &ctl->clients[i];

		if (c->fd < 0)
			continue;
		pfd[n] = (struct pollfd){ .fd = c->fd };
		if (c->out_len > c->out_off)
			pfd[n].events = POLLOUT;  /* no reading before the answer is out */
		line = memchr(c->in, '\n', c->in_len) != NULL;
		dumping |= sl_ctl_dump_ready(c);
		if (sl_ctl_dump_ready(c) || (line && c->out_len == c->out_off && !c->dump))
			timeout_ms = 0;           /* a dump's next part, or requests waiting for their turn */
		if (c->sub == CTL_SUB_CAPTURE && !c->eof)
			pfd[n].events |= POLLIN;  /* its end of sending stops the capture */
		else if (!line && !c->eof)
			pfd[n].events |= POLLIN;  /* (a waiting request: nothing more is read before it) */
		idx[n++] = i;
	}
	if (dumping)
		sched_yield();  /* between a dump's parts: whatever else shares this CPU runs first */
	if (poll(pfd, n, timeout_ms) < 0)
		n = 1, pfd[0].revents = 0;  /* EINTR: a signal for the loop */
	t = mono();
	if (pfd[0].revents & POLLIN)
		accept_clients(ctl);
	for (unsigned k = 1; k < n; k++)
		if (!client_turn(ctl, &ctl->clients[idx[k]], pfd[k].revents, t))
			client_close(ctl, &ctl->clients[idx[k]]);
	sample_rates(ctl, t);
	sl_helper_trace_drain_ns(trace_line, ctl, &ctl->trace_lost);
	sl_ctl_events_drain(ctl);
	sl_capture_drain(ctl);
	for (unsigned i = 0; i < SL_CTL_MAX_CLIENTS; i++)
		if (ctl->clients[i].fd >= 0 && ctl->clients[i].sub && !client_flush(&ctl->clients[i]))
			client_close(ctl, &ctl->clients[i]);
	sl_telemetry_serve(ctl);
}
