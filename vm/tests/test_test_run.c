/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * `sluice test-run --prog` on an XDP program (swap MACs of IPv4 frames, drop
 * the rest) and a socket filter (UDP trimmed to 42 bytes, other IPv4 whole,
 * the rest dropped), verified and with --no-verify: verdict line, resulting
 * packet and r0 against what the test computes itself; bad inputs give one
 * error line and exit code 1 (2 for a usage error).
 *   test_test_run SLUICE TR_XDP.o TR_SOCK.o
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sl_test.h"

static char dir[] = "/tmp/sl-test-run-XXXXXX";

struct out {
	int status;
	char verdict[128];
	unsigned char pkt[2048];
	size_t pkt_len;
	unsigned long long r0;
	unsigned err_lines;
};

static void build(unsigned char *p, size_t *len, int kind)
{
	static const unsigned char eth[14] = { 0xa, 0xb, 0xc, 0xd, 0xe, 0xf, 1, 2, 3, 4, 5, 6, 8, 0 };

	memset(p, 0, 60);
	memcpy(p, eth, 14);
	*len = 60;
	if (kind == 2) {           /* ARP */
		p[12] = 0x08;
		p[13] = 0x06;
		return;
	}
	p[14] = 0x45;
	p[17] = 46;                /* total length */
	p[22] = 64;
	p[23] = kind == 0 ? 17 : 6;  /* UDP, TCP */
	for (int i = 26; i < 60; i++)
		p[i] = (unsigned char)(i * 7);
}

static int run(const char *cmd, struct out *o)
{
	char line[4096], path[64];
	FILE *f;

	memset(o, 0, sizeof(*o));
	snprintf(line, sizeof(line), "%s >%s/out 2>%s/err", cmd, dir, dir);
	o->status = system(line);
	snprintf(path, sizeof(path), "%s/out", dir);
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f)) {
		unsigned off;
		int n;
		char *p;

		if (!strncmp(line, "verdict: ", 9))
			snprintf(o->verdict, sizeof(o->verdict), "%.100s", line + 9);
		else if (!strncmp(line, "0x", 2))
			o->r0 = strtoull(line, NULL, 16);
		else if (sscanf(line, "%x:%n", &off, &n) == 1 && line[4] == ':')
			for (p = line + n; o->pkt_len < sizeof(o->pkt) && *p == ' '; p += 3)
				o->pkt[o->pkt_len++] = (unsigned char)strtoul(p + 1, NULL, 16);
	}
	if (f)
		fclose(f);
	snprintf(path, sizeof(path), "%s/err", dir);
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		o->err_lines++;
	if (f)
		fclose(f);
	return WIFEXITED(o->status) ? WEXITSTATUS(o->status) : -1;
}

static void expect(const char *what, const struct out *o, int code, const char *verdict,
		   const unsigned char *pkt, size_t len, unsigned long long r0)
{
	CHECK(code == 0 && strstr(o->verdict, verdict) && o->pkt_len == len &&
	      !memcmp(o->pkt, pkt, len) && o->r0 == r0,
	      "%s: exit %d verdict '%.*s' packet %zu bytes r0 0x%llx; want '%s' %zu bytes r0 0x%llx",
	      what, code, (int)strcspn(o->verdict, "\n"), o->verdict, o->pkt_len, o->r0, verdict,
	      len, r0);
}

static void case_one(const char *sluice, const char *obj, int kind, bool xdp, const char *flags)
{
	unsigned char pkt[60], want[60];
	char cmd[1024], what[128], path[64];
	size_t len;
	struct out o;
	FILE *f;
	int code;

	build(pkt, &len, kind);
	snprintf(path, sizeof(path), "%s/pkt.bin", dir);
	f = fopen(path, "wb");
	fwrite(pkt, 1, len, f);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "'%s' test-run --prog '%s' --data %s %s", sluice, obj, path, flags);
	snprintf(what, sizeof(what), "%s %s %s", xdp ? "xdp" : "socket",
		 kind == 0 ? "udp" : kind == 1 ? "tcp" : "arp", flags);
	code = run(cmd, &o);
	memcpy(want, pkt, len);
	if (xdp && kind != 2) {    /* MACs swapped, sent back */
		memcpy(want, pkt + 6, 6);
		memcpy(want + 6, pkt, 6);
		expect(what, &o, code, "XDP_TX", want, len, 3);
	} else if (xdp) {
		expect(what, &o, code, "XDP_DROP", want, len, 1);
	} else if (kind == 0) {
		expect(what, &o, code, "trim to 42", want, 42, 42);
	} else if (kind == 1) {
		expect(what, &o, code, "pass", want, len, len);
	} else {
		expect(what, &o, code, "drop", want, 0, 0);
	}
}

/* One error line; exit @p want: 1 for a run error, 2 for a usage error. */
static void case_error(const char *cmd, const char *what, int want)
{
	struct out o;
	int code = run(cmd, &o);

	CHECK(code == want && o.err_lines == 1,
	      "%s: exit %d with %u stderr lines, want exit %d and one line", what, code,
	      o.err_lines, want);
}

int main(int argc, char **argv)
{
	char cmd[1024];

	if (argc != 4 || !mkdtemp(dir)) {
		fprintf(stderr, "usage: test_test_run SLUICE TR_XDP.o TR_SOCK.o\n");
		return 2;
	}
	for (int kind = 0; kind < 3; kind++) {
		case_one(argv[1], argv[2], kind, true, "");
		case_one(argv[1], argv[2], kind, true, "--no-verify");
		case_one(argv[1], argv[3], kind, false, "");
		case_one(argv[1], argv[3], kind, false, "--no-verify");
	}
	snprintf(cmd, sizeof(cmd), "'%s' test-run --prog /nonexistent.o --data /dev/null", argv[1]);
	case_error(cmd, "missing object", 1);
	snprintf(cmd, sizeof(cmd), "'%s' test-run --prog '%s' --section nosuch --data %s/pkt.bin",
		 argv[1], argv[2], dir);
	case_error(cmd, "unknown section", 1);
	snprintf(cmd, sizeof(cmd), "'%s' test-run --raw /dev/null", argv[1]);
	case_error(cmd, "empty program", 1);
	snprintf(cmd, sizeof(cmd), "'%s' test-run --raw %s/pkt.bin --jit --no-verify", argv[1], dir);
	case_error(cmd, "--jit with --no-verify", 2);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd))
		printf("note: could not remove %s\n", dir);
	return sl_test_done("test-run");
}
