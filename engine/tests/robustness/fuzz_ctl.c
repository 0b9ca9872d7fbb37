/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target over the control protocol (clang only, the fuzz build;
 * the engine's sources are compiled into it with -fsanitize=fuzzer, so the
 * fuzzer sees their coverage). Each input is one request line as a client
 * sends it on the control socket: parsed with jansson as the server does,
 * then, when it is a JSON object, handled by sl_ctl_handle against an
 * engine whose object (SL_FUZZ_OBJ) holds maps of several types, with two
 * worker slots and no DPDK (no port, no worker thread: the commands read
 * and change maps, counters and the program's description).
 *
 * Left out: "prog_reload" and "map_update" with a "prog" member load,
 * verify and compile an object file named in the request (the loader and
 * verifier have their own target); "subscribe"-style streams need a
 * connection. Nothing may crash, hang or leak; every failure must name
 * itself in the error text.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ctl_internal.h"
#include "sl_maps.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct sl_run_opts opts;
static struct sl_engine eng;
static struct sl_ctl ctl;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct sl_obj_opts oo = { .sz = sizeof(oo), .ncpus = 2 };
	const char *path = getenv("SL_FUZZ_OBJ");
	char log[512] = "";

	eng.obj = path ? sl_obj_open(path, &oo, log, sizeof(log)) : NULL;
	eng.prog = eng.obj ? sl_obj_find_prog(eng.obj, NULL) : NULL;
	if (!eng.prog) {
		fprintf(stderr, "fuzz_ctl: SL_FUZZ_OBJ=%s: %s\n", path ? path : "(unset)",
			log[0] ? log : "no program");
		exit(1);
	}
	eng.opts = &opts;
	eng.exec_name = "interpreter";
	eng.exec_main.prog = eng.prog;
	eng.exec = &eng.exec_main;
	ctl.eng = &eng;
	ctl.lfd = -1;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *req = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
	const char *cmd;
	char err[512];
	json_t *res;

	if (!req)
		return 0;
	cmd = json_string_value(json_object_get(req, "cmd"));
	if (!json_is_object(req) || (cmd && !strcmp(cmd, "prog_reload")) ||
	    json_object_get(req, "prog")) {
		json_decref(req);
		return 0;
	}
	err[0] = '\0';
	res = sl_ctl_handle(&ctl, req, err, sizeof(err));
	if (!res && !err[0]) {
		fprintf(stderr, "fuzz_ctl: a failed request without a message\n");
		abort();
	}
	json_decref(res);
	json_decref(req);
	return 0;
}
