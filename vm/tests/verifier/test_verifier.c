/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Verifier corpus runner.
 *   test_verifier accept FILE.o...   every program of every object must verify;
 *                                    prints the time each took
 *   test_verifier reject DIR|FILE... every .data case (ISA assembler format,
 *                                    vm/tests/isa_asm.h) must be rejected with
 *                                    its "-- error" substring
 *   test_verifier trace FILE.data    print the verifier trace of one case
 * Exit 0 when every check passes (checks and failures: sl_test, tests/common).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../isa_asm.h"
#include "sl_maps.h"
#include "sl_test.h"
#include "sl_vm.h"

#define LOG_LEN (1u << 20)
#define ACCEPT_MAX_NS 1000000000ull   /* every corpus program verifies in < 1 s */

static char logbuf[LOG_LEN];

static void accept_obj(const char *path)
{
	struct sl_obj_opts oo = { .sz = sizeof(oo), .ncpus = 2 };
	struct sl_obj *obj = sl_obj_open(path, &oo, logbuf, sizeof(logbuf));

	if (!CHECK(obj, "%s: cannot open: %s", path, logbuf))
		return;
	for (unsigned i = 0; i < sl_obj_prog_count(obj); i++) {
		struct sl_prog *prog = sl_obj_prog(obj, i);
		struct sl_verify_stats st = { 0 };
		int err;

		if (prog->type == SL_PROG_RAW && !prog->mem_size)
			prog->mem_size = 4096;
		err = sl_prog_verify(prog, 0, &st, logbuf, sizeof(logbuf));
		if (!CHECK(!err && prog->verified && st.ns < ACCEPT_MAX_NS, "%s [%s]: %s (%d, %.3f ms)",
			   path, prog->section, logbuf, err, st.ns / 1e6))
			continue;
		printf("ok %s [%s]: %u insns, %u processed, %u states, %.3f ms\n", path,
		       prog->section, st.insns, st.insns_processed, st.states, st.ns / 1e6);
	}
	sl_obj_close(obj);
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

/* One case: rejected as expected (or accepted when it gives a result), else a failed check. */
static void reject_case(const char *path, bool trace)
{
	static struct isa_case tc;
	char why[512] = "";
	struct sl_prog *prog;
	int err;

	if (isa_case_load(path, &tc, why, sizeof(why))) {
		FAIL("%s: %s", path, why);
		return;
	}
	prog = build_prog(&tc, why, sizeof(why));
	if (!prog) {
		/* rejected at load (sl_prog_from_raw): counts when the message matches */
		if (CHECK(tc.has_error && strstr(why, tc.error), "%s: load: %s", path, why))
			printf("ok %s: load: %s\n", path, why);
		isa_case_free(&tc);
		return;
	}
	err = sl_prog_verify(prog, trace ? SL_VERIFY_LOG_STATES : 0, NULL, logbuf, sizeof(logbuf));
	if (trace)
		fputs(logbuf, stdout);
	if (!err) {
		if (CHECK(tc.has_result, "%s: accepted", path))
			printf("ok %s: accepted\n", path);
	} else if (CHECK(tc.has_error && strstr(logbuf, tc.error), "%s: expected '%s', got: %s",
			 path, tc.error, logbuf)) {
		printf("ok %s: %s\n", path, strrchr(logbuf, '\n') && strrchr(logbuf, '\n')[1]
		       ? strrchr(logbuf, '\n') + 1 : logbuf);
	}
	free_prog(prog);
	isa_case_free(&tc);
}

/* Every .data case of a directory (or one file), in name order. */
static void reject_dir(const char *dir, unsigned *count)
{
	char **names = NULL;
	unsigned n = 0;

	if (sl_test_list_files(dir, ".data", &names, &n))
		FAIL("%s: out of memory listing the cases", dir);
	for (unsigned i = 0; i < n; i++)
		reject_case(names[i], false);
	sl_test_free_list(names, n);
	*count += n;
}

int main(int argc, char **argv)
{
	unsigned count = 0;

	if (argc < 3) {
		fprintf(stderr, "usage: test_verifier accept FILE.o... | reject DIR... | trace FILE\n");
		return 2;
	}
	if (!strcmp(argv[1], "trace")) {
		reject_case(argv[2], true);
		return sl_test_failures() ? 1 : 0;
	}
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[1], "accept"))
			accept_obj(argv[i]), count++;
		else
			reject_dir(argv[i], &count);
	}
	printf("%s: %u %s, %s\n", argv[1], count, !strcmp(argv[1], "accept") ? "objects" : "cases",
	       sl_test_failures() ? "FAILED" : "all passed");
	return sl_test_done(argv[1]);
}
