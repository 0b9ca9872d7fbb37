/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sluice ctl: the client of a running engine's control socket
 * (`sluice run --ctl-socket PATH`). One request line, one response line
 * (protocol in ctl_server.c); human tables by default, the result object
 * as one JSON line with --json. `events` and `trace` follow a stream of
 * lines; `map watch` asks for the map every interval and computes the rates
 * itself; `map dump` prints its answer as it streams in (one entry held at a
 * time, "map dump, streamed" below). The same code is the lean sluice-ctl
 * binary (ctl_main.c).
 *
 * Exit codes: 0 ok, 1 the engine refused the request (its one-line error
 * on stderr) or cannot be reached, 2 bad usage.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/socket.h>
#include <sys/un.h>

#include <jansson.h>

#include "engine_internal.h"
#include "sl_num.h"

#define READ_CHUNK 65536

struct ctl_opts {
	const char *socket;
	bool json;
	double timeout;     /* seconds to wait for a response */
	double interval;    /* map watch */
	uint64_t top;       /* map watch: 0 = all */
	uint64_t count;     /* watch intervals / events / trace lines, 0 = until SIGINT */
	const char *section;
	bool reset_maps;
	const char *flags;  /* map update */
	const char *prog;   /* map update of a prog_array slot */
	const char *verdicts[8];  /* capture --verdict */
	unsigned nverdicts;
	const char *port;         /* capture --port */
	uint64_t snaplen;         /* capture --snaplen, 0: the engine's default */
	bool both;                /* capture --both */
	const char *out;          /* capture -w FILE|- */
	const char *type;   /* events: BTF type of the records */
};

struct conn {
	int fd;
	char *buf;
	size_t off, len, cap;  /* unread bytes: buf[off..len) */
};

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
	interrupted = 1;
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: sluice ctl --socket PATH [--json] [--timeout SEC] COMMAND [ARGS]\n"
		"\n"
		"  stats                               counters, verdicts, ports, workers, rates\n"
		"  maps                                every map: type, key/value size, entries\n"
		"  map dump NAME                       every entry (arrays: non-zero ones)\n"
		"  map lookup NAME KEY\n"
		"  map update NAME KEY VALUE [--any|--noexist|--exist]\n"
		"  map update PROG_ARRAY KEY --prog FILE.o [--section S]\n"
		"                                      a tail-call slot gets a program (verified,\n"
		"                                      compiled, sharing the running maps)\n"
		"  map update OUTER KEY INNER|ID|new   a map-in-map slot gets an inner map of the\n"
		"                                      object, a created one (its id), or a new\n"
		"                                      empty one from the template (new); NAME may\n"
		"                                      be OUTER[KEY]: the inner map OUTER holds at KEY\n"
		"  map delete NAME KEY\n"
		"  map save NAME [FILE]                save atomically (default: the config's\n"
		"                                      maps.NAME.persist file)\n"
		"  map load NAME FILE                  a preload file (the config's format)\n"
		"  map watch NAME [--interval SEC] [--top N] [--count N]\n"
		"                                      value and rate per key, refreshed\n"
		"  prog show                           the running program\n"
		"  prog reload FILE.o [--section S] [--reset-maps]\n"
		"  events NAME [--type T] [--count N]  records of a ringbuf / perf_event_array,\n"
		"                                      in hex, or typed by BTF type T\n"
		"  trace [--count N]                   bpf_trace_printk lines of the workers\n"
		"  capture -w FILE.pcap|- [--verdict V]... [--port NAME] [--count N]\n"
		"          [--snaplen N] [--both]      packets that got verdict V (drop, aborted,\n"
		"                                      pass, tx, redirect, redirect_failed, trim,\n"
		"                                      all: the default), as received; --both adds\n"
		"                                      each packet as the program left it\n"
		"\n"
		"KEY and VALUE: text typed through the program's BTF, as in preload files\n"
		"(42, 10.0.0.1, 02:00:00:00:00:01, {a: 1, b: 2}, [1, 2], 0a:00:00:01 bytes);\n"
		"a per-CPU VALUE is one value for every worker, or V0;V1;... one per worker.\n"
		"--json prints the engine's result object as one line\n"
		"(map watch, events, trace: one line per interval or record).\n");
}

static int conn_connect(struct conn *c, const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	memset(c, 0, sizeof(*c));
	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "sluice ctl: --socket %s: path too long\n", path);
		return -ENAMETOOLONG;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&sa, sizeof(sa))) {
		int err = errno;

		fprintf(stderr, "sluice ctl: cannot connect to %s: %s%s\n", path, strerror(err),
			err == ENOENT || err == ECONNREFUSED ? " (is `sluice run --ctl-socket` running?)" :
			"");
		if (c->fd >= 0)
			close(c->fd);
		return -err;
	}
	return 0;
}

static void conn_close(struct conn *c)
{
	close(c->fd);
	free(c->buf);
}

static int conn_send(struct conn *c, json_t *req)
{
	char *s = json_dumps(req, JSON_COMPACT);
	size_t n, off = 0;

	if (!s)
		return -ENOMEM;
	n = strlen(s);
	s[n++] = '\n';  /* json_dumps leaves room: the NUL */
	while (off < n) {
		ssize_t w = send(c->fd, s + off, n - off, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			fprintf(stderr, "sluice ctl: send: %s\n", strerror(errno));
			free(s);
			return -errno;
		}
		off += (size_t)w;
	}
	free(s);
	return 0;
}

/*
 * More bytes from the engine into c->buf (what was consumed, before c->off,
 * dropped first): 0, or -1 on timeout / EOF / SIGINT (said, unless SIGINT).
 */
static int conn_fill(struct conn *c, double timeout)
{
	struct pollfd p = { .fd = c->fd, .events = POLLIN };
	ssize_t n;
	int rc;

	do
		rc = poll(&p, 1, timeout > 0 ? (int)(timeout * 1000) : -1);
	while (rc < 0 && errno == EINTR && !interrupted);
	if (rc <= 0) {
		if (!interrupted)
			fprintf(stderr, "sluice ctl: no response within %.1f s\n", timeout);
		return -1;
	}
	if (c->off) {
		memmove(c->buf, c->buf + c->off, c->len - c->off);
		c->len -= c->off;
		c->off = 0;
	}
	if (c->cap - c->len < READ_CHUNK) {
		char *b = realloc(c->buf, c->cap + READ_CHUNK * 4);

		if (!b)
			return -1;
		c->buf = b;
		c->cap += READ_CHUNK * 4;
	}
	n = recv(c->fd, c->buf + c->len, c->cap - c->len, 0);
	if (n <= 0) {
		if (!interrupted)
			fprintf(stderr, "sluice ctl: the engine closed the connection\n");
		return -1;
	}
	c->len += (size_t)n;
	return 0;
}

/* Next line as a JSON object; NULL on timeout / EOF / bad JSON (line printed) or SIGINT. */
static json_t *conn_recv(struct conn *c, double timeout)
{
	for (;;) {
		char *nl = c->buf ? memchr(c->buf + c->off, '\n', c->len - c->off) : NULL;
		json_error_t jerr;

		if (nl) {
			json_t *j = json_loadb(c->buf + c->off, (size_t)(nl - c->buf) - c->off, 0,
					       &jerr);

			c->off = (size_t)(nl - c->buf) + 1;  /* no move per line: streams are long */
			if (!j)
				fprintf(stderr, "sluice ctl: bad response from the engine: %s\n", jerr.text);
			return j;
		}
		if (conn_fill(c, timeout))
			return NULL;
	}
}

static json_t *result_of(json_t *resp);

/*
 * Off the engine's worker CPUs: the first connection asks `stats` for the
 * workers' CPUs and takes them out of this process's CPU set, when some
 * other CPU is left in it (a client that a dump loop keeps busy must not
 * preempt a worker). -EIO when the engine did not answer (said in one line).
 */
static int leave_worker_cpus(struct conn *c, double timeout)
{
	static bool done;
	json_t *req, *res, *per;
	cpu_set_t cur, set;
	int err;

	if (done)
		return 0;
	done = true;
	req = json_pack("{s:s}", "cmd", "stats");
	err = req ? conn_send(c, req) : -ENOMEM;
	json_decref(req);
	if (err)
		return err;
	res = result_of(conn_recv(c, timeout));
	if (!res)
		return -EIO;
	per = json_object_get(res, "per_worker");
	if (per && !sched_getaffinity(0, sizeof(cur), &cur)) {
		set = cur;
		for (size_t i = 0; i < json_array_size(per); i++) {
			json_t *cpu = json_object_get(json_array_get(per, i), "cpu");

			if (json_is_integer(cpu) && json_integer_value(cpu) >= 0 &&
			    json_integer_value(cpu) < CPU_SETSIZE)
				CPU_CLR((int)json_integer_value(cpu), &set);
		}
		if (CPU_COUNT(&set) && !CPU_EQUAL(&set, &cur))
			sched_setaffinity(0, sizeof(set), &set);
	}
	json_decref(res);
	return 0;
}

static int conn_open(struct conn *c, const struct ctl_opts *o)
{
	int err = conn_connect(c, o->socket);

	if (!err && (err = leave_worker_cpus(c, o->timeout)))
		conn_close(c);
	return err;
}

/* The result of an ok response (owned by the caller), or NULL with the error printed. */
static json_t *result_of(json_t *resp)
{
	json_t *res;

	if (!resp)
		return NULL;
	if (!json_is_true(json_object_get(resp, "ok"))) {
		const char *e = json_string_value(json_object_get(resp, "error"));

		fprintf(stderr, "sluice ctl: %s\n", e ? e : "request refused");
		json_decref(resp);
		return NULL;
	}
	res = json_incref(json_object_get(resp, "result"));
	json_decref(resp);
	return res;
}

/* One request, one result. Steals @p req. */
static json_t *request(const struct ctl_opts *o, json_t *req)
{
	struct conn c;
	json_t *res = NULL;

	if (!req)
		return NULL;
	if (!conn_open(&c, o)) {
		if (!conn_send(&c, req))
			res = result_of(conn_recv(&c, o->timeout));
		conn_close(&c);
	}
	json_decref(req);
	return res;
}

static void print_json_line(json_t *j)
{
	char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;

	if (s)
		printf("%s\n", s);
	free(s);
	fflush(stdout);
}

/* A struct or array key or value as compact JSON (kept until the next 16 calls). */
static const char *text_of(json_t *j)
{
	static char *ring[16];
	static unsigned next;
	unsigned i = next++ % 16;

	free(ring[i]);
	ring[i] = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	return ring[i] ? ring[i] : "?";
}

/* A number or a "0x..." string from json.c, as text (a ring of buffers: up to 16 per statement). */
static const char *nt(json_t *j)
{
	static char ring[16][40];
	static unsigned next;
	char *buf = ring[next++ % 16];

	if (json_is_integer(j))
		snprintf(buf, 40, "%lld", (long long)json_integer_value(j));
	else if (json_is_string(j))
		snprintf(buf, 40, "%s", json_string_value(j));
	else if (json_is_real(j))
		snprintf(buf, 40, "%.3f", json_real_value(j));
	else if (json_is_object(j) || json_is_array(j))
		return text_of(j);
	else
		snprintf(buf, 40, "-");
	return buf;
}

static double num_value(json_t *j)
{
	if (json_is_integer(j))
		return (double)json_integer_value(j);
	if (json_is_string(j) && !strncmp(json_string_value(j), "0x", 2))
		return (double)strtoull(json_string_value(j), NULL, 16);
	return NAN;
}

#define T(j, k) nt(json_object_get(j, k))

static void print_stats(json_t *s)
{
	json_t *r = json_object_get(s, "rates"), *v, *x;
	size_t i;
	const char *k;

	printf("rx %s  tx %s  drop %s  error %s  (tx refused %s; %s)\n", T(s, "rx"),
	       T(s, "tx"), T(s, "drop"), T(s, "error"), T(s, "tx_drop"),
	       json_string_value(json_object_get(s, "exec")));
	printf("rates over the last %.2f s: rx %.3f Mpps  tx %.3f Mpps  drop %.3f Mpps  "
	       "error %.3f Mpps\n", json_real_value(json_object_get(r, "seconds")),
	       json_real_value(json_object_get(r, "rx")) * 1e-6,
	       json_real_value(json_object_get(r, "tx")) * 1e-6,
	       json_real_value(json_object_get(r, "drop")) * 1e-6,
	       json_real_value(json_object_get(r, "error")) * 1e-6);
	printf("verdicts:");
	json_object_foreach(json_object_get(s, "verdicts"), k, v)
		printf("  %s %s", k, nt(v));
	printf("\n\n%-6s %-24s %16s %16s\n", "PORT", "NAME", "RX", "TX");
	json_array_foreach(json_object_get(s, "per_port"), i, x)
		printf("%-6s %-24s %16s %16s\n", T(x, "port"), json_string_value(json_object_get(x, "name")),
		       T(x, "rx"), T(x, "tx"));
	printf("\n%-6s %-6s %16s %16s %16s %16s\n", "WORKER", "LCORE", "RX", "TX", "DROP", "ERROR");
	json_array_foreach(json_object_get(s, "per_worker"), i, x)
		printf("%-6s %-6s %16s %16s %16s %16s\n", T(x, "worker"), T(x, "lcore"), T(x, "rx"),
		       T(x, "tx"), T(x, "drop"), T(x, "error"));
}

static void print_maps(json_t *a)
{
	size_t i;
	json_t *m;

	printf("%-24s %-16s %6s %6s %12s %12s\n", "NAME", "TYPE", "KEY", "VALUE", "ENTRIES", "MAX");
	json_array_foreach(a, i, m)
		printf("%-24s %-16s %6s %6s %12s %12s%s\n",
		       json_string_value(json_object_get(m, "name")),
		       json_string_value(json_object_get(m, "type")), T(m, "key_size"),
		       T(m, "value_size"), T(m, "in_use"), T(m, "max_entries"),
		       json_is_true(json_object_get(m, "percpu")) ? "  (per worker)" : "");
}

static void print_entry(json_t *e)
{
	json_t *cores = json_object_get(e, "per_core"), *v;
	size_t i;

	printf("%-24s %s", T(e, "key"), T(e, "value"));
	if (cores) {
		printf("  (per worker:");
		json_array_foreach(cores, i, v)
			printf(" %s", nt(v));
		printf(")");
	}
	printf("\n");
}

/* A dump's first line, from the map's members before its entries. */
static void print_dump_head(json_t *m)
{
	printf("map %s: %s, key %s B, value %s B, %s of %s entries in use\n",
	       json_string_value(json_object_get(m, "name")),
	       json_string_value(json_object_get(m, "type")), T(m, "key_size"), T(m, "value_size"),
	       T(m, "in_use"), T(m, "max_entries"));
}

/* After the entries: why they are not all there, if they are not (@p listed: head printed). */
static void print_dump_tail(json_t *m, bool listed)
{
	if (!listed)
		print_dump_head(m);
	if (json_object_get(m, "error"))
		printf("(cannot list entries: %s)\n", json_string_value(json_object_get(m, "error")));
}

/*
 * ---- map dump, streamed ----
 * A dump's answer is one line that grows with the map (10,000 entries: 360 kB;
 * a million: 32 MB). Parsed whole, it would take jansson's objects for every
 * entry at once (10,000 entries: about 8 MB of the client's memory, 2,400
 * page faults); instead the line is read in READ_CHUNK parts and walked at
 * its two outer levels ({"ok":..,"result":{..,"entries":[E,...],..}}): every
 * value is parsed by jansson (json_loadb, JSON_DISABLE_EOF_CHECK: it says
 * where the value ended), printed, and freed before the next one, so the
 * client holds one part of the line and one entry. What it prints is what
 * printing the whole parse printed: the result object as jansson's compact
 * dump (--json; members in the engine's order), or the table.
 */

/* c->off past blanks (not the line's end); the next byte, reading more as needed; -1: said. */
static int peek_byte(struct conn *c, double timeout)
{
	for (;;) {
		while (c->off < c->len && strchr(" \t\r", c->buf[c->off]))
			c->off++;
		if (c->off < c->len)
			return (unsigned char)c->buf[c->off];
		if (conn_fill(c, timeout))
			return -1;
	}
}

/* The next byte, consumed if it is one of @p want; else -1 (said). */
static int take_byte(struct conn *c, double timeout, const char *want)
{
	int ch = peek_byte(c, timeout);

	if (ch > 0 && strchr(want, ch)) {
		c->off++;
		return ch;
	}
	if (ch >= 0)
		fprintf(stderr, "sluice ctl: bad response from the engine: '%c' where one of "
			"'%s' was expected\n", ch == '\n' ? ' ' : ch, want);
	return -1;
}

/* The JSON value at c->off, whole (more is read until it ends), consumed; NULL: said. */
static json_t *take_value(struct conn *c, double timeout)
{
	for (;;) {
		size_t avail = peek_byte(c, timeout) < 0 ? 0 : c->len - c->off;
		json_error_t e;
		json_t *j;

		if (!avail)
			return NULL;
		j = json_loadb(c->buf + c->off, avail, JSON_DECODE_ANY | JSON_DISABLE_EOF_CHECK, &e);
		if (j && (size_t)e.position < avail) {  /* a byte after it: a number is not cut */
			c->off += (size_t)e.position;
			return j;
		}
		json_decref(j);
		if (memchr(c->buf + c->off, '\n', avail)) {  /* the whole line is here: bad */
			fprintf(stderr, "sluice ctl: bad response from the engine: %s\n",
				j ? "a value cut short" : e.text);
			return NULL;
		}
		if (conn_fill(c, timeout))
			return NULL;
	}
}

/* An object member's name and the ':' after it (a new string value), or NULL: said. */
static json_t *take_key(struct conn *c, double timeout)
{
	json_t *k = take_value(c, timeout);

	if (k && (!json_is_string(k) || take_byte(c, timeout, ":") < 0)) {
		if (!json_is_string(k))
			fprintf(stderr, "sluice ctl: bad response from the engine: a member name "
				"that is not a string\n");
		json_decref(k);
		return NULL;
	}
	return k;
}

static void put_key(bool *first, const char *key)
{
	json_t *k = json_string(key);
	char *s = k ? json_dumps(k, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;

	printf("%s%s:", *first ? "" : ",", s ? s : "\"?\"");
	*first = false;
	free(s);
	json_decref(k);
}

/* The entries array: each entry printed as it is parsed. 0, or -1 (said). */
static int stream_entries(struct conn *c, double timeout, bool json)
{
	bool first = true;
	int ch;

	if (take_byte(c, timeout, "[") < 0)
		return -1;
	if (json)
		printf("[");
	if (peek_byte(c, timeout) == ']')
		ch = take_byte(c, timeout, "]");
	else
		do {
			json_t *e = take_value(c, timeout);
			char *s = json && e ? json_dumps(e, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;

			if (!e || (json && !s)) {
				json_decref(e);
				return -1;
			}
			if (json)
				printf("%s%s", first ? "" : ",", s);
			else
				print_entry(e);
			first = false;
			free(s);
			json_decref(e);
		} while ((ch = take_byte(c, timeout, ",]")) == ',');
	if (json && ch == ']')
		printf("]");
	return ch == ']' ? 0 : -1;
}

/* The result object of a dump, printed as it comes. 0, or -1 (said). */
static int stream_result(struct conn *c, double timeout, bool json)
{
	json_t *info = json_object(), *k, *v;
	bool first = true, listed = false;
	int ch = take_byte(c, timeout, "{");

	if (json && ch == '{')
		printf("{");
	while (ch > 0 && info && (k = take_key(c, timeout))) {
		const char *key = json_string_value(k);

		if (json)
			put_key(&first, key);
		if (!strcmp(key, "entries") && !listed) {
			if (!json)
				print_dump_head(info);
			listed = true;
			ch = stream_entries(c, timeout, json);
		} else if ((v = take_value(c, timeout))) {
			char *s = json ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
			bool bad = json && !s;

			if (s)
				printf("%s", s);
			bad |= json_object_set_new(info, key, v) != 0;  /* (info steals v) */
			ch = bad ? -1 : 1;
			free(s);
		} else {
			ch = -1;
		}
		json_decref(k);
		ch = ch < 0 ? ch : take_byte(c, timeout, ",}");
		if (ch == '}')
			break;
	}
	if (ch == '}' && json)
		printf("}\n");
	else if (ch == '}')
		print_dump_tail(info, listed);
	json_decref(info);
	return ch == '}' ? 0 : -1;
}

/* A dump's whole answer line, printed as it comes. 0, or 1 (said). */
static int stream_dump(struct conn *c, double timeout, bool json)
{
	json_t *k, *v, *error = NULL;
	bool ok = false, done = false;
	int ch = take_byte(c, timeout, "{");

	while (ch > 0 && !done && (k = take_key(c, timeout))) {
		const char *key = json_string_value(k);

		if (!strcmp(key, "result") && ok) {
			ch = stream_result(c, timeout, json) ? -1 : 1;
			done = true;  /* the "id" that may follow: none was sent */
		} else if ((v = take_value(c, timeout))) {
			if (!strcmp(key, "ok"))
				ok = json_is_true(v);
			if (!strcmp(key, "error") && !error)
				error = json_incref(v);
			json_decref(v);
			ch = take_byte(c, timeout, ",}");
			done = ch == '}';
		} else {
			ch = -1;
		}
		json_decref(k);
	}
	if (done && ch > 0 && !ok)
		fprintf(stderr, "sluice ctl: %s\n",
			json_is_string(error) ? json_string_value(error) : "request refused");
	else if (done && ch > 0 && ch == '}')
		fprintf(stderr, "sluice ctl: bad response from the engine: no result\n");
	json_decref(error);
	fflush(stdout);
	return done && ch > 0 && ok && ch != '}' ? 0 : 1;
}

/* `map dump`: one request, its answer streamed (steals @p req). 0, or 1 (said). */
static int request_dump(const struct ctl_opts *o, json_t *req)
{
	struct conn c;
	int rc = 1;

	if (!conn_open(&c, o)) {
		if (!conn_send(&c, req))
			rc = stream_dump(&c, o->timeout, o->json);
		conn_close(&c);
	}
	json_decref(req);
	return rc;
}

static void print_prog(json_t *p)
{

	printf("object     %s\nsection    %s (%s, function %s)\ninsns      %s\n"
	       "exec       %s, JIT code %s bytes\nloaded     %s\nverify     %.3f ms\n"
	       "runs       %s\nreloads    %s\n",
	       json_string_value(json_object_get(p, "object")),
	       json_string_value(json_object_get(p, "section")),
	       json_string_value(json_object_get(p, "type")),
	       json_string_value(json_object_get(p, "name")), T(p, "insns"),
	       json_string_value(json_object_get(p, "exec")), T(p, "jit_size"),
	       json_string_value(json_object_get(p, "load_time")),
	       json_real_value(json_object_get(p, "verify_ms")), T(p, "runs"), T(p, "reloads"));
}

/* ---- map watch: the map every interval, rate per key ---- */

struct watch_row {
	char key[80];
	char value[40];
	double v, rate;
};

static int by_rate(const void *a, const void *b)
{
	const struct watch_row *x = a, *y = b;
	double rx = isnan(x->rate) ? -INFINITY : x->rate, ry = isnan(y->rate) ? -INFINITY : y->rate;

	return rx < ry ? 1 : rx > ry ? -1 : strcmp(x->key, y->key);
}

/* Rows of this dump, with rates against @p prev (key -> value, a JSON object). */
static struct watch_row *watch_rows(json_t *m, json_t *prev, double dt, size_t *n)
{
	json_t *entries = json_object_get(m, "entries"), *e;
	struct watch_row *rows = calloc(json_array_size(entries) + 1, sizeof(*rows));
	size_t i;

	*n = 0;
	json_array_foreach(entries, i, e) {
		struct watch_row *r = &rows[(*n)++];
		json_t *old;

		if (!rows)
			return NULL;
		snprintf(r->key, sizeof(r->key), "%s", nt(json_object_get(e, "key")));
		snprintf(r->value, sizeof(r->value), "%s", nt(json_object_get(e, "value")));
		r->v = num_value(json_object_get(e, "value"));
		old = json_object_get(prev, r->key);
		r->rate = old && dt > 0 ? (r->v - json_real_value(old)) / dt : 0;
		if (!old && prev && dt > 0)
			r->rate = r->v / dt;  /* appeared during the interval */
		json_object_set_new(prev, r->key, json_real(r->v));
	}
	qsort(rows, *n, sizeof(*rows), by_rate);
	return rows;
}

static void watch_show(const struct ctl_opts *o, const char *name, struct watch_row *rows,
		       size_t n, double t, bool tty)
{
	size_t shown = o->top && o->top < n ? o->top : n;

	if (!tty || o->json) {
		json_t *a = json_array(), *line;

		for (size_t i = 0; i < shown; i++)
			json_array_append_new(a, json_pack("{s:s, s:s, s:f}", "key", rows[i].key,
							   "value", rows[i].value, "rate",
							   isnan(rows[i].rate) ? 0.0 : rows[i].rate));
		line = json_pack("{s:f, s:s, s:o}", "time", t, "map", name, "entries", a);
		print_json_line(line);
		json_decref(line);
		return;
	}
	printf("\033[H\033[2J%s  (every %.2f s, %.1f s)\n\n%-24s %20s %16s\n", name, o->interval, t,
	       "KEY", "VALUE", "RATE /s");
	for (size_t i = 0; i < shown; i++)
		printf("%-24s %20s %16.1f\n", rows[i].key, rows[i].value,
		       isnan(rows[i].rate) ? 0.0 : rows[i].rate);
	if (shown < n)
		printf("(%zu more)\n", n - shown);
	fflush(stdout);
}

static double mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmd_watch(const struct ctl_opts *o, const char *name)
{
	double start = mono(), last = start;
	bool tty = isatty(STDOUT_FILENO);
	json_t *prev, *req;
	struct conn c;
	int ret = 0;

	if (conn_open(&c, o))
		return 1;
	prev = json_object();
	req = json_pack("{s:s, s:s}", "cmd", "map_dump", "map", name);
	for (uint64_t i = 0; req && prev && !interrupted && (!o->count || i <= o->count); i++) {
		json_t *m;
		struct watch_row *rows;
		double t;
		size_t n;

		if (conn_send(&c, req) || !(m = result_of(conn_recv(&c, o->timeout)))) {
			ret = interrupted ? 0 : 1;
			break;
		}
		t = mono();
		rows = watch_rows(m, prev, i ? t - last : 0, &n);
		if (i)  /* the first dump only gives the starting values */
			watch_show(o, name, rows, n, t - start, tty);
		free(rows);
		json_decref(m);
		last = t;
		while (!interrupted && mono() < t + o->interval)
			usleep(10000);
	}
	json_decref(req);
	json_decref(prev);
	conn_close(&c);
	return ret;
}

/* ---- events and trace: a stream of lines ---- */

static void print_event(json_t *line)
{
	json_t *ev = json_object_get(line, "event");
	json_t *cpu = json_object_get(ev, "cpu");

	if (cpu)
		printf("worker %s: ", nt(cpu));
	if (json_object_get(ev, "value"))
		printf("%s", nt(json_object_get(ev, "value")));
	else
		printf("%s bytes: %s", nt(json_object_get(ev, "len")),
		       json_string_value(json_object_get(ev, "data")));
	printf("  (lost %s)\n", nt(json_object_get(line, "lost")));
}

/* As the kernel's trace_pipe: task-pid [cpu] timestamp: bpf_trace_printk: message */
static void print_trace(json_t *line)
{
	printf("%16s-%-5s [%03lld] %12.6f: bpf_trace_printk: %s\n", "worker",
	       nt(json_object_get(line, "worker")),
	       (long long)json_integer_value(json_object_get(line, "worker")),
	       json_real_value(json_object_get(line, "time")),
	       json_string_value(json_object_get(line, "msg")));
}

static int cmd_stream(const struct ctl_opts *o, json_t *req, bool events)
{
	struct conn c;
	json_t *res, *line;
	uint64_t n = 0;
	int ret = 0;

	if (conn_open(&c, o)) {
		json_decref(req);
		return 1;
	}
	if (conn_send(&c, req) || !(res = result_of(conn_recv(&c, o->timeout)))) {
		json_decref(req);
		conn_close(&c);
		return 1;
	}
	json_decref(req);
	if (o->json)
		print_json_line(res);
	else if (events)
		printf("following %s (%s), lost so far %s\n", json_string_value(json_object_get(res, "map")),
		       json_string_value(json_object_get(res, "type")), nt(json_object_get(res, "lost")));
	json_decref(res);
	fflush(stdout);
	while (!interrupted && (!o->count || n < o->count) && (line = conn_recv(&c, 0))) {
		if (json_object_get(line, "end")) {
			fprintf(stderr, "sluice ctl: %s\n", json_string_value(json_object_get(line, "end")));
			json_decref(line);
			ret = 1;
			break;
		}
		if (o->json)
			print_json_line(line);
		else if (events)
			print_event(line);
		else
			print_trace(line);
		fflush(stdout);
		json_decref(line);
		n++;
	}
	conn_close(&c);
	return ret;
}

/* ---- capture: records of the engine written as a pcap file (nanosecond timestamps) ---- */

struct pcap_out {
	FILE *f;
	const char *name;
	bool failed;
};

static void pcap_write(struct pcap_out *po, const void *p, size_t n)
{
	if (!po->failed && fwrite(p, 1, n, po->f) != n) {
		fprintf(stderr, "sluice ctl: capture: writing %s: %s\n", po->name, strerror(errno));
		po->failed = true;
	}
}

static void pcap_header(struct pcap_out *po, uint32_t snaplen)
{
	const uint32_t h[6] = { 0xa1b23c4d, 2 | (4u << 16), 0, 0, snaplen, 1 /* Ethernet */ };

	pcap_write(po, h, sizeof(h));
}

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* One {"pkt": ...} line as a pcap record. */
static int pcap_record(struct pcap_out *po, json_t *pkt, uint8_t *buf, size_t cap)
{
	const char *hex = json_string_value(json_object_get(pkt, "data"));
	uint64_t ts = (uint64_t)json_integer_value(json_object_get(pkt, "ts"));
	size_t n = hex ? strlen(hex) / 2 : 0;
	uint32_t h[4];

	if (!hex || n > cap || strlen(hex) % 2) {
		fprintf(stderr, "sluice ctl: capture: bad record from the engine\n");
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);

		if (hi < 0 || lo < 0) {
			fprintf(stderr, "sluice ctl: capture: bad record from the engine\n");
			return -EINVAL;
		}
		buf[i] = (uint8_t)(hi << 4 | lo);
	}
	h[0] = (uint32_t)(ts / 1000000000u);
	h[1] = (uint32_t)(ts % 1000000000u);
	h[2] = (uint32_t)n;
	h[3] = (uint32_t)json_integer_value(json_object_get(pkt, "len"));
	pcap_write(po, h, sizeof(h));
	pcap_write(po, buf, n);
	return po->failed ? -EIO : 0;
}

/* Records until the engine's end line; SIGINT asks the engine to stop (shut our side). */
static int capture_loop(struct conn *c, struct pcap_out *po, json_t **end)
{
	static uint8_t buf[65536];
	bool shut = false;
	json_t *line;

	for (;;) {
		if (interrupted && !shut) {  /* the engine ends the capture with its end line */
			shutdown(c->fd, SHUT_WR);
			shut = true;
		}
		line = conn_recv(c, shut ? 5 : 0);
		if (!line && interrupted && !shut)
			continue;
		if (!line)
			return -EIO;
		if (json_object_get(line, "end")) {
			*end = line;
			return 0;
		}
		if (!json_object_get(line, "pkt") ||
		    pcap_record(po, json_object_get(line, "pkt"), buf, sizeof(buf))) {
			json_decref(line);
			return -EIO;
		}
		if (po->f == stdout && fflush(stdout) && !po->failed) {
			fprintf(stderr, "sluice ctl: capture: stdout: %s\n", strerror(errno));
			po->failed = true;
		}
		json_decref(line);
		if (po->failed)
			return -EIO;
	}
}

static int sl_ctl_capture(const struct ctl_opts *o, json_t *req)
{
	struct pcap_out po = { .name = o->out };
	json_t *res, *end = NULL;
	struct conn c;
	int err;

	if (!o->out) {
		fprintf(stderr, "sluice ctl: capture: -w FILE.pcap (or -w - for stdout) is required\n");
		json_decref(req);
		return 2;
	}
	if (conn_open(&c, o)) {
		json_decref(req);
		return 1;
	}
	err = conn_send(&c, req);
	json_decref(req);
	if (err || !(res = result_of(conn_recv(&c, o->timeout)))) {
		conn_close(&c);
		return 1;
	}
	po.f = strcmp(o->out, "-") ? fopen(o->out, "wb") : stdout;
	if (!po.f) {
		fprintf(stderr, "sluice ctl: capture: %s: %s\n", o->out, strerror(errno));
		json_decref(res);
		conn_close(&c);
		return 1;
	}
	pcap_header(&po, (uint32_t)json_integer_value(json_object_get(res, "snaplen")));
	json_decref(res);
	err = capture_loop(&c, &po, &end);
	if ((po.f != stdout ? fclose(po.f) : fflush(stdout)) && !po.failed) {
		fprintf(stderr, "sluice ctl: capture: %s: %s\n", o->out, strerror(errno));
		err = -EIO;
	}
	if (end)
		fprintf(stderr, "sluice ctl: capture: %s packets (%s records) written to %s, %s lost "
			"(worker ring full); %s\n", T(end, "packets"), T(end, "records"),
			strcmp(o->out, "-") ? o->out : "stdout", T(end, "lost"),
			json_string_value(json_object_get(end, "end")));
	json_decref(end);
	conn_close(&c);
	return err ? 1 : 0;
}

/* ---- argument parsing ---- */

static const struct option long_opts[] = {
	{ "socket", required_argument, NULL, 'S' },
	{ "json", no_argument, NULL, 'j' },
	{ "timeout", required_argument, NULL, 't' },
	{ "interval", required_argument, NULL, 'i' },
	{ "top", required_argument, NULL, 'n' },
	{ "count", required_argument, NULL, 'c' },
	{ "section", required_argument, NULL, 's' },
	{ "reset-maps", no_argument, NULL, 'R' },
	{ "any", no_argument, NULL, 'A' },
	{ "noexist", no_argument, NULL, 'N' },
	{ "exist", no_argument, NULL, 'E' },
	{ "prog", required_argument, NULL, 'P' },
	{ "verdict", required_argument, NULL, 'V' },
	{ "port", required_argument, NULL, 'p' },
	{ "snaplen", required_argument, NULL, 'L' },
	{ "both", no_argument, NULL, 'B' },
	{ "type", required_argument, NULL, 'T' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int parse_opt(struct ctl_opts *o, int c, const char *arg)
{
	switch (c) {
	case 'S': o->socket = arg; return 0;
	case 'j': o->json = true; return 0;
	case 't': return sl_num_opt_seconds("ctl", "--timeout", arg, 0.001, 3600, &o->timeout);
	case 'i': return sl_num_opt_seconds("ctl", "--interval", arg, 0.01, 3600, &o->interval);
	case 'n': return sl_num_opt_u64("ctl", "--top", arg, 1, 1u << 20, &o->top);
	case 'c': return sl_num_opt_u64("ctl", "--count", arg, 1, UINT64_MAX, &o->count);
	case 's': o->section = arg; return 0;
	case 'R': o->reset_maps = true; return 0;
	case 'P': o->prog = arg; return 0;
	case 'V':
		if (o->nverdicts == 8) {
			fprintf(stderr, "sluice ctl: --verdict: at most 8\n");
			return -EINVAL;
		}
		o->verdicts[o->nverdicts++] = arg;
		return 0;
	case 'p': o->port = arg; return 0;
	case 'L': return sl_num_opt_u64("ctl", "--snaplen", arg, 1, 65535, &o->snaplen);
	case 'B': o->both = true; return 0;
	case 'w': o->out = arg; return 0;
	case 'T': o->type = arg; return 0;
	case 'A': case 'N': case 'E':
		if (o->flags) {
			fprintf(stderr, "sluice ctl: --any, --noexist and --exist exclude each other\n");
			return -EINVAL;
		}
		o->flags = c == 'A' ? "any" : c == 'N' ? "noexist" : "exist";
		return 0;
	case 'h': usage(stdout); return 1;
	default:
		fprintf(stderr, "sluice ctl: bad option (see sluice ctl --help)\n");
		return -EINVAL;
	}
}

/* Options anywhere on the line; the words left in @p words. */
static int parse_args(struct ctl_opts *o, int argc, char **argv, char **words, int *nwords)
{
	int c, ret;

	memset(o, 0, sizeof(*o));
	o->timeout = 30;
	o->interval = 1;
	o->socket = getenv("SLUICE_CTL_SOCKET");
	optind = 1;
	opterr = 0;
	*nwords = 0;
	while (optind < argc) {
		c = getopt_long(argc, argv, "-w:", long_opts, NULL);
		if (c == -1)
			break;
		if (c == 1) {
			if (*nwords == 8) {
				fprintf(stderr, "sluice ctl: too many arguments\n");
				return -EINVAL;
			}
			words[(*nwords)++] = optarg;
			continue;
		}
		if ((ret = parse_opt(o, c, optarg)))
			return ret;
	}
	while (optind < argc && *nwords < 8)
		words[(*nwords)++] = argv[optind++];
	if (!o->socket && *nwords) {
		fprintf(stderr, "sluice ctl: --socket PATH is required (or SLUICE_CTL_SOCKET)\n");
		return -EINVAL;
	}
	return 0;
}

/* A per-CPU "V0;V1;..." becomes an array, anything else a string. */
static json_t *value_arg(const char *s)
{
	json_t *a;
	char *copy, *save = NULL;

	if (!strchr(s, ';'))
		return json_string(s);
	a = json_array();
	copy = strdup(s);
	for (char *t = strtok_r(copy, ";", &save); t && a; t = strtok_r(NULL, ";", &save))
		json_array_append_new(a, json_string(t));
	free(copy);
	return a;
}

static json_t *capture_request(const struct ctl_opts *o)
{
	json_t *req = json_pack("{s:s, s:b}", "cmd", "capture", "both", o->both), *v;

	if (!req)
		return NULL;
	if (o->nverdicts) {
		v = json_array();
		for (unsigned i = 0; i < o->nverdicts; i++) {
			char *copy = strdup(o->verdicts[i]), *save = NULL;

			for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
				json_array_append_new(v, json_string(t));
			free(copy);
		}
		json_object_set_new(req, "verdicts", v);
	}
	if (o->port)
		json_object_set_new(req, "port", json_string(o->port));
	if (o->count)
		json_object_set_new(req, "count", json_integer((json_int_t)o->count));
	if (o->snaplen)
		json_object_set_new(req, "snaplen", json_integer((json_int_t)o->snaplen));
	return req;
}

/* The request for words like "map lookup NAME KEY"; NULL + message on bad usage. */
static json_t *build_request(const struct ctl_opts *o, char **w, int n)
{
#define IS(i, s) (n > (i) && !strcmp(w[i], s))
	if (IS(0, "stats") && n == 1)
		return json_pack("{s:s}", "cmd", "stats");
	if (IS(0, "maps") && n == 1)
		return json_pack("{s:s}", "cmd", "maps");
	if (IS(0, "map") && IS(1, "dump") && n == 3)
		return json_pack("{s:s, s:s}", "cmd", "map_dump", "map", w[2]);
	if (IS(0, "map") && IS(1, "lookup") && n == 4)
		return json_pack("{s:s, s:s, s:s}", "cmd", "map_lookup", "map", w[2], "key", w[3]);
	if (IS(0, "map") && IS(1, "delete") && n == 4)
		return json_pack("{s:s, s:s, s:s}", "cmd", "map_delete", "map", w[2], "key", w[3]);
	if (IS(0, "map") && IS(1, "update") && n == 4 && o->prog)
		return json_pack("{s:s, s:s, s:s, s:s, s:s?}", "cmd", "map_update", "map", w[2],
				 "key", w[3], "prog", o->prog, "section", o->section);
	if (IS(0, "map") && IS(1, "update") && n == 5 && !o->prog)
		return json_pack("{s:s, s:s, s:s, s:o, s:s}", "cmd", "map_update", "map", w[2],
				 "key", w[3], "value", value_arg(w[4]), "flags",
				 o->flags ? o->flags : "any");
	if (IS(0, "map") && IS(1, "save") && (n == 3 || n == 4)) {
		char abs[4096] = "", cwd[2048];  /* the engine may run elsewhere */

		if (n == 4 && w[3][0] != '/' && getcwd(cwd, sizeof(cwd)))
			snprintf(abs, sizeof(abs), "%s/%s", cwd, w[3]);
		return json_pack("{s:s, s:s, s:s?}", "cmd", "map_save", "map", w[2], "file",
				 n == 4 ? (abs[0] ? abs : w[3]) : NULL);
	}
	if (IS(0, "map") && IS(1, "load") && n == 4) {
		char *abs = realpath(w[3], NULL);  /* the engine may run elsewhere */
		json_t *r;

		if (!abs) {
			fprintf(stderr, "sluice ctl: map load: %s: %s\n", w[3], strerror(errno));
			return NULL;
		}
		r = json_pack("{s:s, s:s, s:s}", "cmd", "map_load", "map", w[2], "file", abs);
		free(abs);
		return r;
	}
	if (IS(0, "prog") && IS(1, "show") && n == 2)
		return json_pack("{s:s}", "cmd", "prog_show");
	if (IS(0, "prog") && IS(1, "reload") && n == 3)
		return json_pack("{s:s, s:s, s:s?, s:b}", "cmd", "prog_reload", "file", w[2],
				 "section", o->section, "reset_maps", o->reset_maps);
	if (IS(0, "events") && n == 2)
		return json_pack("{s:s, s:s, s:s?}", "cmd", "events", "map", w[1], "type", o->type);
	if (IS(0, "trace") && n == 1)
		return json_pack("{s:s}", "cmd", "trace");
	if (IS(0, "capture") && n == 1)
		return capture_request(o);
#undef IS
	fprintf(stderr, "sluice ctl: unknown command or wrong arguments: '%s%s%s' "
		"(see sluice ctl --help)\n", n ? w[0] : "", n > 1 ? " " : "", n > 1 ? w[1] : "");
	return NULL;
}

static void print_result(const char *cmd, const char *sub, json_t *res)
{
	if (!strcmp(cmd, "stats"))
		print_stats(res);
	else if (!strcmp(cmd, "maps"))
		print_maps(res);
	else if (!strcmp(cmd, "map") && !strcmp(sub, "lookup"))
		print_entry(res);
	else if (!strcmp(cmd, "map") && !strcmp(sub, "save"))
		printf("saved %s entries to %s\n", nt(json_object_get(res, "entries")),
		       json_string_value(json_object_get(res, "file")));
	else if (!strcmp(cmd, "map") && !strcmp(sub, "load"))
		printf("loaded %s entries (%s in use)\n", nt(json_object_get(res, "loaded")),
		       nt(json_object_get(res, "in_use")));
	else if (!strcmp(cmd, "map"))
		printf("ok (%s entries in use)\n", nt(json_object_get(res, "in_use")));
	else if (!strcmp(sub, "show"))
		print_prog(res);
	else
		printf("reloaded %s section %s (%s) in %.1f ms: %s map%s carried over, %s reset; "
		       "reload %s\n", json_string_value(json_object_get(res, "object")),
		       json_string_value(json_object_get(res, "section")),
		       json_string_value(json_object_get(res, "exec")),
		       json_real_value(json_object_get(res, "ms")), T(res, "maps_carried"),
		       json_integer_value(json_object_get(res, "maps_carried")) == 1 ? "" : "s",
		       T(res, "maps_reset"), T(res, "reloads"));
}

int sl_cmd_ctl(int argc, char **argv)
{
	struct ctl_opts o;
	char *w[8];
	int n, err = parse_args(&o, argc, argv, w, &n);
	struct sigaction sa = { .sa_handler = on_sigint };
	json_t *req, *res;

	if (err)
		return err > 0 ? 0 : 2;
	if (!n) {
		usage(stderr);
		return 2;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (!strcmp(w[0], "map") && n == 3 && !strcmp(w[1], "watch"))
		return cmd_watch(&o, w[2]);
	req = build_request(&o, w, n);
	if (!req)
		return 2;
	if (!strcmp(w[0], "capture"))
		return sl_ctl_capture(&o, req);
	if (!strcmp(w[0], "events") || !strcmp(w[0], "trace"))
		return cmd_stream(&o, req, !strcmp(w[0], "events"));
	if (!strcmp(w[0], "map") && n == 3 && !strcmp(w[1], "dump"))
		return request_dump(&o, req);
	res = request(&o, req);
	if (!res)
		return 1;
	if (o.json)
		print_json_line(res);
	else
		print_result(w[0], n > 1 ? w[1] : "", res);
	json_decref(res);
	return 0;
}
