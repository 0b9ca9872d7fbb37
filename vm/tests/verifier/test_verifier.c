/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Verifier corpus runner.
 *   test_verifier accept FILE.o...   every program of every object must verify;
 *                                    prints the time each took
 *   test_verifier reject DIR|FILE... every .data case (ISA assembler format,
 *                                    vm/tests/isa_asm.h) must be rejected with
 *                                    its "-- error" substring
 *   test_verifier trace FILE.data    print the verifier trace of one case
 * Exit 0 when every check passes.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../isa_asm.h"
#include "sl_maps.h"
#include "sl_vm.h"

#define LOG_LEN (1u << 20)
#define ACCEPT_MAX_NS 1000000000ull   /* every corpus program verifies in < 1 s */

static char logbuf[LOG_LEN];

static int accept_obj(const char *path)
{
	struct sl_obj_opts oo = { .sz = sizeof(oo), .ncpus = 2 };
	struct sl_obj *obj = sl_obj_open(path, &oo, logbuf, sizeof(logbuf));
	int bad = 0;

	if (!obj) {
		printf("FAIL %s: cannot open: %s\n", path, logbuf);
		return 1;
	}
	for (unsigned i = 0; i < sl_obj_prog_count(obj); i++) {
		struct sl_prog *prog = sl_obj_prog(obj, i);
		struct sl_verify_stats st = { 0 };
		int err;

		if (prog->type == SL_PROG_RAW && !prog->mem_size)
			prog->mem_size = 4096;
		err = sl_prog_verify(prog, 0, &st, logbuf, sizeof(logbuf));
		if (err || !prog->verified || st.ns >= ACCEPT_MAX_NS) {
			printf("FAIL %s [%s]: %s (%d, %.3f ms)\n", path, prog->section, logbuf, err,
			       st.ns / 1e6);
			bad = 1;
			continue;
		}
		printf("ok %s [%s]: %u insns, %u processed, %u states, %.3f ms\n", path,
		       prog->section, st.insns, st.insns_processed, st.states, st.ns / 1e6);
	}
	sl_obj_close(obj);
	return bad;
}

static struct sl_prog *build_prog(const struct isa_case *tc, char *why, size_t len)
{
	struct sl_prog *prog = sl_prog_from_raw(tc->insns, tc->n_insns * sizeof(struct bpf_insn),
						tc->type, (uint32_t)tc->mem_len, why, len);

	if (!prog || !tc->n_maps)
		return prog;
	prog->maps = calloc(tc->n_maps, sizeof(*prog->maps));
	for (unsigned i = 0; prog->maps && i < tc->n_maps; i++) {
		struct sl_map_def def = { tc->maps[i].type, tc->maps[i].key_size,
					  tc->maps[i].value_size, tc->maps[i].max_entries, 0 };

		prog->maps[i] = sl_map_create(tc->maps[i].name, &def, 1);
		if (!prog->maps[i]) {
			snprintf(why, len, "cannot create map %s: %s", tc->maps[i].name, strerror(errno));
			break;
		}
		prog->n_maps = i + 1;
	}
	return prog;
}

static void free_prog(struct sl_prog *prog)
{
	for (uint32_t i = 0; prog && i < prog->n_maps; i++)
		sl_map_destroy(prog->maps[i]);
	sl_prog_free(prog);
}

/* 0: rejected as expected; 1: test failure. */
static int reject_case(const char *path, bool trace)
{
	static struct isa_case tc;
	char why[512] = "";
	struct sl_prog *prog;
	int err, bad = 0;

	if (isa_case_load(path, &tc, why, sizeof(why))) {
		printf("FAIL %s: %s\n", path, why);
		return 1;
	}
	prog = build_prog(&tc, why, sizeof(why));
	if (!prog) {
		/* rejected at load (sl_prog_from_raw): counts when the message matches */
		bad = !(tc.has_error && strstr(why, tc.error));
		printf("%s %s: load: %s\n", bad ? "FAIL" : "ok", path, why);
		isa_case_free(&tc);
		return bad;
	}
	err = sl_prog_verify(prog, trace ? SL_VERIFY_LOG_STATES : 0, NULL, logbuf, sizeof(logbuf));
	if (trace)
		fputs(logbuf, stdout);
	if (!err)
		bad = !tc.has_result, printf("%s %s: accepted\n", bad ? "FAIL" : "ok", path);
	else if (!tc.has_error || !strstr(logbuf, tc.error))
		bad = 1, printf("FAIL %s: expected '%s', got: %s\n", path, tc.error, logbuf);
	else
		printf("ok %s: %s\n", path, strrchr(logbuf, '\n') && strrchr(logbuf, '\n')[1]
		       ? strrchr(logbuf, '\n') + 1 : logbuf);
	free_prog(prog);
	isa_case_free(&tc);
	return bad;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int reject_dir(const char *dir, unsigned *count)
{
	DIR *d = opendir(dir);
	char **names = NULL;
	unsigned n = 0;
	int bad = 0;
	struct dirent *de;

	if (!d)
		return reject_case(dir, false) + (int)(++*count * 0);
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);
		char **nn;

		if (l < 6 || strcmp(de->d_name + l - 5, ".data"))
			continue;
		nn = realloc(names, (n + 1) * sizeof(*names));
		if (!nn)
			break;
		names = nn;
		names[n] = malloc(strlen(dir) + l + 2);
		sprintf(names[n++], "%s/%s", dir, de->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(*names), cmp_str);
	for (unsigned i = 0; i < n; i++) {
		bad |= reject_case(names[i], false);
		free(names[i]);
	}
	free(names);
	*count += n;
	return bad;
}

int main(int argc, char **argv)
{
	int bad = 0;
	unsigned count = 0;

	if (argc < 3) {
		fprintf(stderr, "usage: test_verifier accept FILE.o... | reject DIR... | trace FILE\n");
		return 2;
	}
	if (!strcmp(argv[1], "trace"))
		return reject_case(argv[2], true);
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[1], "accept"))
			bad |= accept_obj(argv[i]), count++;
		else
			bad |= reject_dir(argv[i], &count);
	}
	printf("%s: %u %s, %s\n", argv[1], count, !strcmp(argv[1], "accept") ? "objects" : "cases",
	       bad ? "FAILED" : "all passed");
	return bad;
}
