/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ISA suite runner: every .data case (isa_asm.h) on every engine asked for.
 *
 *   isa_runner [--engine interp|checked]... PATH...     run cases (files or dirs)
 *   isa_runner --asm CASE.data PROG.bin MEM.bin        write a case as test-run input
 *   isa_runner --cli SLUICE PATH...                    the same cases through
 *                                                      `sluice test-run --raw`
 *   isa_runner --fuzz SECONDS [--cli SLUICE]           random bytes never crash the
 *                                                      checked interpreter / test-run
 *
 * Each engine runs: encoding check (sl_vm_prepare), verification unless
 * the case is "-- unverifiable", then the run. Unverifiable cases run only on engines that check at run
 * time. The JIT engineer adds a "jit" row to the engines table.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "isa_asm.h"
#include "isa_cli.h"
#include "sl_jit.h"
#include "sl_maps.h"
#include "sl_test.h"
#include "sl_vm.h"

/* One way of running a prepared (and maybe verified) program. */
struct engine {
	const char *name;
	bool runs_unverified;  /* checks at run time: may run "-- unverifiable" cases */
	uint64_t (*run)(struct sl_prog *prog, void *ctx, void *mem, size_t mem_len,
			struct sl_vm_result *res);
};

static uint64_t run_interp(struct sl_prog *prog, void *ctx, void *mem, size_t mem_len,
			   struct sl_vm_result *res)
{
	struct sl_vm_run_opts o = { .sz = sizeof(o), .mem = mem, .mem_len = mem_len };

	return sl_vm_exec(prog, ctx, &o, res);
}

static uint64_t run_checked(struct sl_prog *prog, void *ctx, void *mem, size_t mem_len,
			    struct sl_vm_result *res)
{
	struct sl_vm_run_opts o = { .sz = sizeof(o), .checked = true, .mem = mem,
				    .mem_len = mem_len };

	return sl_vm_exec(prog, ctx, &o, res);
}

/* Compile with the JIT (optionally blinding constants), run once, free. */
static uint64_t run_jit_opts(struct sl_prog *prog, void *ctx, size_t mem_len,
			     struct sl_vm_result *res, bool blind)
{
	struct sl_jit_opts jo = { .sz = sizeof(jo), .blind_constants = blind };
	struct sl_jit *jit;
	char log[128] = "";

	jit = sl_jit_compile(prog, &jo, log, sizeof(log));
	if (!jit) {
		res->err = -errno;
		snprintf(res->msg, sizeof(res->msg), "jit: %s", log);
		return 0;
	}
	res->r0 = sl_jit_entry(jit)(ctx, mem_len);
	sl_jit_free(jit);
	return res->r0;
}

static uint64_t run_jit(struct sl_prog *prog, void *ctx, void *mem, size_t mem_len,
			struct sl_vm_result *res)
{
	return run_jit_opts(prog, ctx, mem_len, res, false);
}

static uint64_t run_jit_blind(struct sl_prog *prog, void *ctx, void *mem, size_t mem_len,
			      struct sl_vm_result *res)
{
	return run_jit_opts(prog, ctx, mem_len, res, true);
}

static const struct engine engines[] = {
	{ "interp", false, run_interp },
	{ "checked", true, run_checked },
	{ "jit", false, run_jit },
	{ "jit-blind", false, run_jit_blind },
};

/* Passed and skipped runs; failures are sl_test's (FAIL/CHECK, tests/common). */
struct stats {
	unsigned pass, skip;
};

/* Context for the program type; memory is a private copy of the case's. */
struct run_ctx {
	uint8_t *mem;
	struct sl_skb_ctx skb;
	struct sl_xdp_ctx xdp;
	void *r1;
};

static int build_ctx(const struct isa_case *tc, struct run_ctx *rc)
{
	memset(rc, 0, sizeof(*rc));
	rc->mem = malloc(tc->mem_len ? tc->mem_len : 1);
	if (!rc->mem)
		return -1;
	if (tc->mem_len)
		memcpy(rc->mem, tc->mem, tc->mem_len);
	switch (tc->type) {
	case SL_PROG_SOCKET:
		rc->skb.skb.len = (uint32_t)tc->mem_len;
		rc->skb.pkt = rc->mem;
		rc->skb.pkt_len = (uint32_t)tc->mem_len;
		rc->r1 = &rc->skb;
		break;
	case SL_PROG_XDP:
		rc->xdp.data = rc->mem;
		rc->xdp.data_meta = rc->mem;
		rc->xdp.data_end = rc->mem + tc->mem_len;
		rc->xdp.data_hard_start = rc->mem;
		rc->r1 = &rc->xdp;
		break;
	default:
		rc->r1 = tc->mem_len ? rc->mem : NULL;
		break;
	}
	return 0;
}

static int attach_maps(const struct isa_case *tc, struct sl_prog *prog, char *why, size_t len)
{
	if (!tc->n_maps)
		return 0;
	prog->maps = calloc(tc->n_maps, sizeof(*prog->maps));
	if (!prog->maps)
		return -1;
	for (unsigned i = 0; i < tc->n_maps; i++) {
		struct sl_map_def def = { tc->maps[i].type, tc->maps[i].key_size,
					  tc->maps[i].value_size, tc->maps[i].max_entries, 0 };

		prog->maps[i] = sl_map_create(tc->maps[i].name, &def, 1);
		if (!prog->maps[i]) {
			snprintf(why, len, "cannot create map %s: %s", tc->maps[i].name, strerror(errno));
			return -1;
		}
		prog->n_maps = i + 1;
	}
	return 0;
}

static void free_prog(struct sl_prog *prog)
{
	for (uint32_t i = 0; prog && i < prog->n_maps; i++)
		sl_map_destroy(prog->maps[i]);
	sl_prog_free(prog);
}

static bool error_matches(const struct isa_case *tc, const char *msg)
{
	return tc->has_error && (!tc->error[0] || strstr(msg, tc->error));
}

/* Load steps before running: 1 = case decided (pass/fail in *ok), 0 = run it. */
static int load_steps(const struct isa_case *tc, struct sl_prog *prog, bool *ok, char *why,
		      size_t len)
{
	char log[256] = "";

	if (sl_vm_prepare(prog, log, sizeof(log))) {
		*ok = error_matches(tc, log);
		snprintf(why, len, "rejected at load: %s", log);
		return 1;
	}
	if (!tc->unverifiable) {
		if (sl_prog_verify(prog, 0, NULL, log, sizeof(log))) {
			*ok = tc->has_error;
			snprintf(why, len, "rejected by the verifier: %s", log);
			return 1;
		}
		if (sl_vm_prepare(prog, log, sizeof(log))) {
			*ok = false;
			snprintf(why, len, "rejected after verification: %s", log);
			return 1;
		}
	}
	return 0;
}

/* Run one case on one engine. @return 1 pass, 0 fail, -1 skipped. */
static int run_case(const struct engine *e, const struct isa_case *tc, char *why, size_t len)
{
	struct sl_vm_result res = { 0 };
	struct sl_prog *prog;
	struct run_ctx rc;
	bool ok = false;
	char log[256] = "";

	if (tc->unverifiable && !e->runs_unverified)
		return -1;
	prog = sl_prog_from_raw(tc->insns, (size_t)tc->n_insns * 8, tc->type,
				(uint32_t)tc->mem_len, log, sizeof(log));
	if (!prog) {
		snprintf(why, len, "%s", log);
		return error_matches(tc, log);
	}
	if (attach_maps(tc, prog, why, len) || build_ctx(tc, &rc)) {
		free_prog(prog);
		return 0;
	}
	if (load_steps(tc, prog, &ok, why, len) == 0) {
		e->run(prog, rc.r1, tc->type == SL_PROG_RAW ? rc.r1 : NULL,
		       tc->type == SL_PROG_RAW ? tc->mem_len : 0, &res);
		if (res.err) {
			ok = error_matches(tc, res.msg);
			snprintf(why, len, "error %d: %s", res.err, res.msg);
		} else {
			ok = tc->has_result && res.r0 == tc->result;
			snprintf(why, len, "r0 = 0x%llx, expected %s0x%llx", (unsigned long long)res.r0,
				 tc->has_result ? "" : "an error, not ",
				 (unsigned long long)tc->result);
		}
	}
	free(rc.mem);
	free_prog(prog);
	return ok;
}

static void run_all(char **files, unsigned n, const struct engine **eng, unsigned n_eng,
		    struct stats *st)
{
	static struct isa_case tc;

	for (unsigned i = 0; i < n; i++) {
		char err[512];

		if (isa_case_load(files[i], &tc, err, sizeof(err))) {
			FAIL("%s", err);
			continue;
		}
		for (unsigned k = 0; k < n_eng; k++) {
			char why[512] = "";
			int r = run_case(eng[k], &tc, why, sizeof(why));

			if (r < 0)
				st->skip++;
			else if (CHECK(r, "%s [%s]: %s", files[i], eng[k]->name, why))
				st->pass++;
		}
		isa_case_free(&tc);
	}
}

static const struct engine *find_engine(const char *name)
{
	for (size_t i = 0; i < sizeof(engines) / sizeof(engines[0]); i++)
		if (!strcmp(engines[i].name, name))
			return &engines[i];
	return NULL;
}

static int usage(void)
{
	fprintf(stderr, "usage: isa_runner [--engine NAME]... PATH...\n"
		"       isa_runner --asm CASE.data PROG.bin MEM.bin\n"
		"       isa_runner --cli SLUICE PATH...\n"
		"       isa_runner --fuzz SECONDS [--cli SLUICE]\n");
	return 2;
}

int main(int argc, char **argv)
{
	const struct engine *eng[8];
	unsigned n_eng = 0, n_files = 0;
	char **files = NULL;
	struct stats st = { 0 };

	if (argc >= 2 && !strcmp(argv[1], "--asm"))
		return argc == 5 ? isa_cli_write_case(argv[2], argv[3], argv[4]) : usage();
	if (argc >= 3 && !strcmp(argv[1], "--fuzz"))
		return isa_fuzz(atoi(argv[2]), argc >= 5 && !strcmp(argv[3], "--cli") ? argv[4] : NULL);
	if (argc >= 3 && !strcmp(argv[1], "--cli")) {
		int ret;

		for (int i = 3; i < argc; i++)
			sl_test_list_files(argv[i], ".data", &files, &n_files);
		ret = isa_cli_run(argv[2], files, n_files);
		sl_test_free_list(files, n_files);
		return ret;
	}
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--engine") && i + 1 < argc) {
			if (n_eng == 8 || !(eng[n_eng] = find_engine(argv[++i]))) {
				fprintf(stderr, "isa_runner: unknown engine '%s'\n", argv[i]);
				return 2;
			}
			n_eng++;
		} else {
			sl_test_list_files(argv[i], ".data", &files, &n_files);
		}
	}
	if (!n_files)
		return usage();
	if (!n_eng)
		for (size_t i = 0; i < sizeof(engines) / sizeof(engines[0]); i++)
			eng[n_eng++] = &engines[i];
	run_all(files, n_files, eng, n_eng, &st);
	printf("isa: %u cases: %u passed, %u skipped, %lu failed\n", n_files, st.pass, st.skip,
	       sl_test_failures());
	sl_test_free_list(files, n_files);
	return sl_test_done("isa");
}
