/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sluice verify FILE.o [--section S] [-v]
 * sluice verify --raw PROG.bin [--mem-size N] [--type raw|xdp|socket] [-v]
 * Loads and verifies each program (or the one in section S). Prints
 * "OK <section>: N insns, P processed, S states, T ms" per program, or the
 * verifier's error line, and exits 1 when any program is rejected.
 * -v prints the verifier's trace (register state at each instruction).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_internal.h"
#include "sl_num.h"
#include "sl_vm.h"

#define VERIFY_MAX_FILE (64u << 20)
#define VERIFY_LOG_SMALL 4096
#define VERIFY_LOG_BIG (64u << 20)

struct verify_args {
	const char *path;
	const char *section;
	bool raw;
	bool verbose;
	uint32_t mem_size;
	enum sl_prog_type type;
};

static int verify_usage(FILE *out)
{
	fprintf(out, "usage: sluice verify FILE.o [--section S] [-v]\n"
		     "       sluice verify --raw PROG.bin [--mem-size N] [--type raw|xdp|socket] [-v]\n"
		     "Verify programs; prints OK with counts, or the first error (exit 1).\n");
	return out == stdout ? 0 : 2;
}

static int parse_type(const char *s, enum sl_prog_type *t)
{
	static const struct { const char *name; enum sl_prog_type type; } types[] = {
		{ "raw", SL_PROG_RAW }, { "xdp", SL_PROG_XDP }, { "socket", SL_PROG_SOCKET },
	};

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		if (!strcmp(s, types[i].name)) {
			*t = types[i].type;
			return 0;
		}
	}
	return -EINVAL;
}

static int parse_args(int argc, char **argv, struct verify_args *a)
{
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];
		bool has_val = i + 1 < argc;

		if (!strcmp(arg, "-v") || !strcmp(arg, "--verbose")) {
			a->verbose = true;
		} else if (!strcmp(arg, "--section") && has_val) {
			a->section = argv[++i];
		} else if (!strcmp(arg, "--raw") && has_val) {
			a->raw = true;
			a->path = argv[++i];
		} else if (!strcmp(arg, "--mem-size") && has_val) {
			uint64_t v;

			if (sl_num_opt_u64("verify", "--mem-size", argv[++i], 0, UINT32_MAX, &v))
				return -ERANGE;
			a->mem_size = (uint32_t)v;
		} else if (!strcmp(arg, "--type") && has_val) {
			if (parse_type(argv[++i], &a->type))
				return -EINVAL;
		} else if (arg[0] != '-' && !a->path) {
			a->path = arg;
		} else {
			fprintf(stderr, "sluice verify: %s '%s' (see sluice verify --help)\n",
				arg[0] == '-' ? "unknown option or missing value:" : "unexpected argument",
				arg);
			return -ERANGE;
		}
	}
	return a->path ? 0 : -EINVAL;
}

/* Verify one program and print the outcome. Returns 0 when accepted. */
static int verify_one(struct sl_prog *prog, bool verbose, const char *label)
{
	size_t log_len = verbose ? VERIFY_LOG_BIG : VERIFY_LOG_SMALL;
	char *log = calloc(1, log_len);
	struct sl_verify_stats st = { 0 };
	int err;

	if (!log) {
		fprintf(stderr, "sluice verify: out of memory\n");
		return -ENOMEM;
	}
	err = sl_prog_verify(prog, verbose ? SL_VERIFY_LOG_STATES : 0, &st, log, log_len);
	if (verbose && log[0])
		fputs(log, stdout);
	if (err) {
		if (!verbose) {
			size_t n = strlen(log);

			while (n && log[n - 1] == '\n')
				log[--n] = 0;
			fprintf(stderr, "%s: %s\n", label, log[0] ? log : strerror(-err));
		}
	} else {
		printf("OK %s: %u insns, %u processed, %u states, %.3f ms\n", label, st.insns,
		       st.insns_processed, st.states, (double)st.ns / 1e6);
	}
	free(log);
	return err;
}

static int verify_raw(const struct verify_args *a)
{
	FILE *f = fopen(a->path, "rb");
	uint8_t *buf = malloc(VERIFY_MAX_FILE);
	char log[256] = "";
	struct sl_prog *prog = NULL;
	int ret = 1;

	if (!f || !buf) {
		fprintf(stderr, "sluice verify: %s: %s\n", a->path, strerror(f ? ENOMEM : errno));
		goto out;
	}
	size_t n = fread(buf, 1, VERIFY_MAX_FILE, f);

	prog = sl_prog_from_raw(buf, n, a->type, a->mem_size, log, sizeof(log));
	if (!prog) {
		fprintf(stderr, "sluice verify: %s: %s\n", a->path, log[0] ? log : strerror(errno));
		goto out;
	}
	ret = verify_one(prog, a->verbose, a->path) ? 1 : 0;
out:
	if (f)
		fclose(f);
	sl_prog_free(prog);
	free(buf);
	return ret;
}

static int verify_obj(const struct verify_args *a)
{
	struct sl_obj_opts oo = { .sz = sizeof(oo), .ncpus = 1 };
	char log[512] = "", label[256];
	struct sl_obj *obj = sl_obj_open(a->path, &oo, log, sizeof(log));
	unsigned bad = 0, n;

	if (!obj) {
		fprintf(stderr, "sluice verify: %s\n", log[0] ? log : strerror(errno));
		return 1;
	}
	n = sl_obj_prog_count(obj);
	for (unsigned i = 0; i < n; i++) {
		struct sl_prog *prog = sl_obj_prog(obj, i);

		if (a->section && strcmp(prog->section, a->section))
			continue;
		snprintf(label, sizeof(label), "%s: section '%s'", a->path, prog->section);
		if (verify_one(prog, a->verbose, label))
			bad++;
		if (a->section)
			break;
	}
	if (a->section && !sl_obj_find_prog(obj, a->section)) {
		fprintf(stderr, "sluice verify: %s: no program in section '%s'\n", a->path, a->section);
		bad++;
	} else if (!n) {
		fprintf(stderr, "sluice verify: %s: no programs\n", a->path);
		bad++;
	}
	sl_obj_close(obj);
	return bad ? 1 : 0;
}

int sl_cmd_verify(int argc, char **argv)
{
	struct verify_args a = { .type = SL_PROG_RAW };
	int err;

	if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")))
		return verify_usage(stdout);
	err = parse_args(argc, argv, &a);
	if (err)  /* -ERANGE: said in one line */
		return err == -ERANGE ? 2 : verify_usage(stderr);
	return a.raw ? verify_raw(&a) : verify_obj(&a);
}
