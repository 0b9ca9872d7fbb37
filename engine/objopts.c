/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Options every command that opens an ELF object shares (verify, disasm,
 * test-run, bench, run): --type xdp|socket (every function of every
 * executable section is a program of that type, as `bpftool prog load ...
 * type xdp`) and --map-size NAME=N (size of a map declared with
 * max_entries 0, or a new size for any map), and the label that names a
 * program in error lines ("file.o: section 'xdp' program 'xdp_main'").
 * Also the one "verify, then JIT unless --interp" step that run, reload,
 * replay and CPUMAP entry programs share (sl_cli_prog_build()).
 * Control thread; no allocation except sl_cli_prog_build()'s.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_internal.h"
#include "sl_num.h"
#include "sl_fib.h"

static int map_size_arg(const char *cmd, struct sl_cli_obj *c, const char *val)
{
	const char *eq = strrchr(val, '=');
	char err[128];
	uint64_t n;

	if (!eq || eq == val || (size_t)(eq - val) >= sizeof(c->names[0])) {
		fprintf(stderr, "sluice %s: --map-size '%s': expected NAME=ENTRIES\n", cmd, val);
		return -EINVAL;
	}
	if (sl_num_u64(eq + 1, 1, UINT32_MAX, &n, err, sizeof(err))) {
		fprintf(stderr, "sluice %s: --map-size '%s': entries: %s\n", cmd, val, err);
		return -EINVAL;
	}
	if (c->nsizes == SL_CLI_MAX_MAP_SIZES) {
		fprintf(stderr, "sluice %s: more than %u --map-size options\n", cmd,
			SL_CLI_MAX_MAP_SIZES);
		return -EINVAL;
	}
	snprintf(c->names[c->nsizes], sizeof(c->names[0]), "%.*s", (int)(eq - val), val);
	c->sizes[c->nsizes] = (struct sl_obj_map_size){ .name = c->names[c->nsizes],
						    .max_entries = (uint32_t)n };
	c->nsizes++;
	return 0;
}

int sl_cli_obj_arg(const char *cmd, struct sl_cli_obj *c, const char *opt, const char *val)
{
	if (strcmp(opt, "--type") && strcmp(opt, "--map-size"))
		return 0;
	if (!val) {
		fprintf(stderr, "sluice %s: %s needs a value\n", cmd, opt);
		return -EINVAL;
	}
	if (!strcmp(opt, "--map-size"))
		return map_size_arg(cmd, c, val) ? -EINVAL : 1;
	if (sl_prog_type_from_name(val, &c->type)) {
		fprintf(stderr, "sluice %s: --type '%s': expected xdp, socket or raw\n", cmd, val);
		return -EINVAL;
	}
	c->force_type = true;
	return 1;
}

void sl_cli_obj_apply(const struct sl_cli_obj *c, struct sl_obj_opts *oo)
{
	oo->force_type = c->force_type;
	oo->prog_type = c->type;
	oo->map_sizes = c->nsizes ? c->sizes : NULL;
	oo->n_map_sizes = c->nsizes;
}

const char *sl_cli_prog_label(const char *path, const struct sl_prog *prog, char *buf,
			      size_t len)
{
	if (!strcmp(prog->section, prog->name))
		snprintf(buf, len, "%s: section '%s'", path, prog->section);
	else
		snprintf(buf, len, "%s: section '%s' program '%s'", path, prog->section, prog->name);
	return buf;
}

struct sl_fib *sl_cli_fib_load(const char *cmd, const char *path)
{
	struct sl_fib *fib = sl_fib_create(SL_CLI_FIB_ROUTES);
	char log[512] = "";

	if (!fib) {
		fprintf(stderr, "sluice %s: --fib: out of memory\n", cmd);
		return NULL;
	}
	if (sl_fib_load(fib, path, log, sizeof(log))) {
		fprintf(stderr, "sluice %s: --fib %s\n", cmd, log);
		sl_fib_destroy(fib);
		return NULL;
	}
	sl_fib_attach(fib);
	return fib;
}

void sl_cli_fib_free(struct sl_fib *fib)
{
	if (fib && sl_fib_attached() == fib)
		sl_fib_attach(NULL);
	sl_fib_destroy(fib);
}

int sl_cli_prog_build(struct sl_prog *prog, int exec, struct sl_jit **jit, char *log, size_t len)
{
	struct sl_jit_opts jo = { .sz = sizeof(jo) };
	char why[512] = "";
	int err;

	*jit = NULL;
	if (len)
		log[0] = '\0';
	if (!prog->verified && (err = sl_prog_verify(prog, 0, NULL, why, sizeof(why)))) {
		snprintf(log, len, "rejected by the verifier: %s", why[0] ? why : strerror(-err));
		return err;
	}
	if (exec == SL_RUN_EXEC_INTERP)
		return 0;
	*jit = sl_jit_compile(prog, &jo, why, sizeof(why));
	if (!*jit)  /* the reason: an error with --jit, the note of the fallback otherwise */
		snprintf(log, len, "%s%s", exec == SL_RUN_EXEC_JIT ? "JIT: " : "",
			 why[0] ? why : strerror(errno));
	return *jit || exec != SL_RUN_EXEC_JIT ? 0 : -EINVAL;
}
