/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sluice verify FILE.o [--section S] [--type xdp|socket] [--map-size NAME=N]... [-v]
 * sluice verify --raw PROG.bin [--mem-size N] [--type raw|xdp|socket] [-v]
 * Loads and verifies each program (or those of section S, or the program
 * named S). Prints "OK <file>: section 'S' program 'P': N insns, P
 * processed, S states, T ms" per program, or the verifier's error line
 * naming the section and the program, and exits 1 when any program is
 * rejected.
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
	struct sl_cli_obj obj;   /* --type, --map-size */
};

static int verify_usage(FILE *out)
{
	fprintf(out, "usage: sluice verify FILE.o [--section S] [--type xdp|socket] "
		     "[--map-size NAME=N]... [-v]\n"
		     "       sluice verify --raw PROG.bin [--mem-size N] [--type raw|xdp|socket] [-v]\n"
		     "Verify programs; prints OK with counts, or the first error (exit 1).\n"
		     "--section S: the programs of section S, or the program (function) named S.\n"
		     "--type: every function of every executable section is a program of that type\n"
		     "(for sections not named xdp*/socket*). --map-size: entries of a map declared\n"
		     "with max_entries 0. No map memory is touched: maps are reserved, not filled.\n");
	return out == stdout ? 0 : 2;
}

static int parse_args(int argc, char **argv, struct verify_args *a)
{
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];
		bool has_val = i + 1 < argc;
		int taken = sl_cli_obj_arg("verify", &a->obj, arg, has_val ? argv[i + 1] : NULL);

		if (taken < 0)
			return -EALREADY;  /* said why */
		if (taken) {
			i++;
		} else if (!strcmp(arg, "-v") || !strcmp(arg, "--verbose")) {
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
	uint8_t *buf = NULL;
	size_t n = 0;
	char log[256] = "";
	struct sl_prog *prog = NULL;
	int ret = 1, err = sl_vm_read_file(a->path, VERIFY_MAX_FILE, &buf, &n);

	if (err) {
		fprintf(stderr, "sluice verify: %s: %s\n", a->path, strerror(-err));
		goto out;
	}
	prog = sl_prog_from_raw(buf, n, a->obj.force_type ? a->obj.type : SL_PROG_RAW, a->mem_size,
				log, sizeof(log));
	if (!prog) {
		fprintf(stderr, "sluice verify: %s: %s\n", a->path, log[0] ? log : strerror(errno));
		goto out;
	}
	ret = verify_one(prog, a->verbose, a->path) ? 1 : 0;
out:
	sl_prog_free(prog);
	free(buf);
	return ret;
}

/* Programs of section S, or else the program named S: verify --section S. */
static bool selected(const struct sl_obj *obj, const struct sl_prog *prog, const char *s)
{
	bool any_section = false;

	if (!s)
		return true;
	for (unsigned i = 0; i < sl_obj_prog_count(obj); i++)
		any_section |= !strcmp(sl_obj_prog(obj, i)->section, s);
	return any_section ? !strcmp(prog->section, s) : !strcmp(prog->name, s);
}

static int verify_obj(struct verify_args *a)
{
	struct sl_obj_opts oo = { .sz = sizeof(oo), .ncpus = 1 };
	char log[512] = "", label[512];
	struct sl_obj *obj;
	unsigned bad = 0, done = 0, n;

	sl_cli_obj_apply(&a->obj, &oo);
	obj = sl_obj_open(a->path, &oo, log, sizeof(log));
	if (!obj) {
		fprintf(stderr, "sluice verify: %s\n", log[0] ? log : strerror(errno));
		return 1;
	}
	n = sl_obj_prog_count(obj);
	for (unsigned i = 0; i < n; i++) {
		struct sl_prog *prog = sl_obj_prog(obj, i);

		if (!selected(obj, prog, a->section))
			continue;
		done++;
		if (verify_one(prog, a->verbose, sl_cli_prog_label(a->path, prog, label,
								    sizeof(label))))
			bad++;
	}
	if (a->section && !done) {
		fprintf(stderr, "sluice verify: %s: no section or program named '%s'\n", a->path,
			a->section);
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
	struct verify_args a = { 0 };
	int err;

	if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")))
		return verify_usage(stdout);
	err = parse_args(argc, argv, &a);
	if (err == -EALREADY || err == -ERANGE)  /* said in one line */
		return 2;
	if (err)
		return verify_usage(stderr);
	return a.raw ? verify_raw(&a) : verify_obj(&a);
}
