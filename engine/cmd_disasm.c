/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sluice disasm FILE.o [--section S] [--type xdp|socket] [--map-size NAME=N]... | --raw PROG.bin
 * One line per instruction, "  12: (71) r0 = *(u8 *)(r1 +12)", in the
 * kernel's verifier-log syntax. Without --section every program of the
 * object is listed under its section and function name.
 * sluice disasm --filter EXPR [--linktype N|NAME] [-s SNAPLEN]: the eBPF
 * translation of a tcpdump expression (filter.c, vm/cbpf.c), verified.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_internal.h"
#include "replay.h"
#include "sl_num.h"
#include "sl_vm.h"

#define DIS_MAX_FILE (64u << 20)

static int dis_usage(FILE *out)
{
	fprintf(out, "usage: sluice disasm FILE.o [--section S] [--type xdp|socket] "
		     "[--map-size NAME=N]...\n"
		     "       sluice disasm --raw PROG.bin\n"
		     "       sluice disasm --filter EXPR [--linktype N|NAME] [-s SNAPLEN]\n");
	return out == stdout ? 0 : 2;
}

static int dis_raw(const char *path)
{
	uint8_t *buf = NULL;
	size_t n = 0;
	struct sl_prog *prog = NULL;
	char log[256] = "";
	int ret = 0, err = sl_vm_read_file(path, DIS_MAX_FILE, &buf, &n);

	if (err) {
		fprintf(stderr, "sluice disasm: %s: %s\n", path, strerror(-err));
		ret = 1;
		goto out;
	}
	prog = sl_prog_from_raw(buf, n, SL_PROG_RAW, 0, log, sizeof(log));
	if (!prog) {
		fprintf(stderr, "sluice disasm: %s: %s\n", path, log);
		ret = 1;
		goto out;
	}
	sl_disasm_prog(prog, stdout);
out:
	sl_prog_free(prog);
	free(buf);
	return ret;
}

static int dis_obj(const char *path, const char *section, struct sl_cli_obj *co)
{
	struct sl_obj_opts oo = { .sz = sizeof(oo), .ncpus = 1 };
	char log[512] = "";
	struct sl_obj *obj;
	struct sl_prog *prog;

	sl_cli_obj_apply(co, &oo);
	obj = sl_obj_open(path, &oo, log, sizeof(log));
	if (!obj) {
		fprintf(stderr, "sluice disasm: %s\n", log[0] ? log : strerror(errno));
		return 1;
	}
	if (section) {
		prog = sl_obj_find_prog(obj, section);
		if (!prog) {
			fprintf(stderr, "sluice disasm: %s: no program in section '%s'\n", path, section);
			sl_obj_close(obj);
			return 1;
		}
		sl_disasm_prog(prog, stdout);
	} else {
		for (unsigned i = 0; i < sl_obj_prog_count(obj); i++) {
			prog = sl_obj_prog(obj, i);
			printf("%s%s: %s (%u instructions)\n", i ? "\n" : "", prog->section, prog->name,
			       prog->n_insns);
			sl_disasm_prog(prog, stdout);
		}
	}
	sl_obj_close(obj);
	return 0;
}

/* A tcpdump expression as sluice runs it: translated, then verified. */
static int dis_filter(const char *expr, const char *lt, const char *snap)
{
	uint32_t linktype = 1;
	uint64_t snaplen = 262144;
	char log[512] = "";
	struct sl_prog *prog;
	int err;

	if (lt && sl_filter_linktype(lt, &linktype, log, sizeof(log))) {
		fprintf(stderr, "sluice disasm: --linktype: %s\n", log);
		return 2;
	}
	if (snap && sl_num_opt_u64("disasm", "-s", snap, 1, 262144, &snaplen))
		return 2;
	prog = sl_filter_compile(expr, linktype, (uint32_t)snaplen, log, sizeof(log));
	if (!prog) {
		fprintf(stderr, "sluice disasm: %s\n", log);
		return 1;
	}
	err = sl_prog_verify(prog, 0, NULL, log, sizeof(log));
	if (err)
		fprintf(stderr, "sluice disasm: filter '%s': rejected by the verifier: %s\n", expr, log);
	else
		sl_disasm_prog(prog, stdout);
	sl_prog_free(prog);
	return err ? 1 : 0;
}

int sl_cmd_disasm(int argc, char **argv)
{
	const char *raw = NULL, *file = NULL, *section = NULL;
	const char *filter = NULL, *linktype = NULL, *snaplen = NULL;
	struct sl_cli_obj co = { 0 };

	for (int i = 1; i < argc; i++) {
		int taken = sl_cli_obj_arg("disasm", &co, argv[i], i + 1 < argc ? argv[i + 1] : NULL);

		if (taken < 0)
			return 2;
		if (taken) {
			i++;
			continue;
		}
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return dis_usage(stdout);
		if ((!strcmp(argv[i], "--raw") || !strcmp(argv[i], "--section") ||
		     !strcmp(argv[i], "--filter") || !strcmp(argv[i], "--linktype") ||
		     !strcmp(argv[i], "-s")) && i + 1 == argc) {
			fprintf(stderr, "sluice disasm: %s needs a value\n", argv[i]);
			return 2;
		}
		if (!strcmp(argv[i], "--raw"))
			raw = argv[++i];
		else if (!strcmp(argv[i], "--section"))
			section = argv[++i];
		else if (!strcmp(argv[i], "--filter"))
			filter = argv[++i];
		else if (!strcmp(argv[i], "--linktype"))
			linktype = argv[++i];
		else if (!strcmp(argv[i], "-s"))
			snaplen = argv[++i];
		else if (argv[i][0] == '-' || file) {
			fprintf(stderr, "sluice disasm: %s '%s' (see sluice disasm --help)\n",
				argv[i][0] == '-' ? "unknown option" : "unexpected argument", argv[i]);
			return 2;
		} else {
			file = argv[i];
		}
	}
	if (filter && !raw && !file && !section)
		return dis_filter(filter, linktype, snaplen);
	if (!!raw == !!file || filter || linktype || snaplen)
		return dis_usage(stderr);
	return raw ? dis_raw(raw) : dis_obj(file, section, &co);
}
