/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * CPUMAP entry programs (bpf_cpumap_val.bpf_prog), the part the live
 * engine (cpumap.c, after a hand-over between workers) and the offline
 * replay (replay.c, one thread) share; no DPDK here, so that sluice-replay
 * links it too.
 *
 * An entry program is a program of the running object whose section is
 * "xdp/cpumap" or "xdp.frags/cpumap" (the kernel's BPF_XDP_CPUMAP attach
 * type). Its id, what a CPUMAP value's bpf_prog.fd/id holds, is 1 + its
 * position in the object (config/text.c reads a program name as that id).
 * sl_cpu_progs_build() verifies and compiles every entry program of an
 * object; sl_cpu_progs_attach() makes the object's CPUMAPs accept exactly
 * their ids (no such program: -EBADF; not an entry program: -EINVAL, as
 * the kernel answers a bad fd and a wrong attach type).
 * sl_cpu_progs_run() runs one on a packet through the shared verdict code
 * (verdict.c) with the kernel's rules: PASS, DROP and REDIRECT as usual,
 * XDP_TX and anything else abort.
 *
 * Tables: built and freed by the control thread; read by the packet
 * thread through an acquire load of the slot that holds the current one.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_internal.h"
#include "sl_jit.h"
#include "sl_maps.h"
#include "sl_vm.h"
#include "verdict.h"

struct sl_cpu_progs {
	unsigned n;
	struct cpu_prog {
		struct sl_exec exec;
		struct sl_jit *jit;
		bool entry;    /* an entry program, verified and ready */
	} p[];
};

bool sl_cpumap_is_entry_prog(const struct sl_prog *p)
{
	return p->type == SL_PROG_XDP &&
	       (!strcmp(p->section, "xdp/cpumap") || !strcmp(p->section, "xdp.frags/cpumap"));
}

bool sl_obj_has_cpumap(const struct sl_obj *obj)
{
	for (unsigned i = 0; obj && i < sl_obj_map_count(obj); i++)
		if (sl_map_get_def(sl_obj_map(obj, i))->type == BPF_MAP_TYPE_CPUMAP)
			return true;
	return false;
}

void sl_cpu_progs_free(struct sl_cpu_progs *pg)
{
	for (unsigned i = 0; pg && i < pg->n; i++)
		sl_jit_free(pg->p[i].jit);
	free(pg);
}

/* verify and compile one entry program (exec: enum sl_run_exec) */
static int prog_ready(struct sl_prog *prog, int exec, const char *what, struct cpu_prog *cp)
{
	char log[512];
	int err = sl_cli_prog_build(prog, exec, &cp->jit, log, sizeof(log));

	if (err) {
		fprintf(stderr, "sluice: %s: CPUMAP entry program '%s' (section %s): %s\n", what,
			prog->name, prog->section, log);
		return err;
	}
	sl_exec_init(&cp->exec, prog, cp->jit ? sl_jit_entry(cp->jit) : NULL);
	cp->entry = true;
	return 0;
}

struct sl_cpu_progs *sl_cpu_progs_build(const struct sl_obj *obj, int exec, const char *what)
{
	unsigned n = sl_obj_prog_count(obj);
	struct sl_cpu_progs *pg = calloc(1, sizeof(*pg) + n * sizeof(pg->p[0]));

	if (!pg) {
		fprintf(stderr, "sluice: CPUMAP: out of memory\n");
		return NULL;
	}
	pg->n = n;
	for (unsigned i = 0; i < n; i++) {
		struct sl_prog *prog = sl_obj_prog(obj, i);

		if (sl_cpumap_is_entry_prog(prog) && prog_ready(prog, exec, what, &pg->p[i])) {
			sl_cpu_progs_free(pg);
			return NULL;
		}
	}
	return pg;
}

/* sl_map_cpumap_set_prog_check(): ctx is the slot of the current table (control thread) */
static int prog_check(uint32_t id, void *ctx)
{
	const struct sl_cpu_progs *pg = *(struct sl_cpu_progs *const *)ctx;

	if (!pg || id == 0 || id > pg->n)
		return -EBADF;     /* kernel: not a program fd */
	return pg->p[id - 1].entry ? 0 : -EINVAL;  /* kernel: not BPF_XDP_CPUMAP */
}

void sl_cpu_progs_attach(const struct sl_obj *obj, struct sl_cpu_progs *const *slot)
{
	for (unsigned i = 0; i < sl_obj_map_count(obj); i++)
		sl_map_cpumap_set_prog_check(sl_obj_map(obj, i), prog_check, (void *)slot);
}

enum sl_verdict sl_cpu_progs_run(const struct sl_cpu_progs *pg, uint32_t id,
				 struct sl_verdict_state *st, unsigned port, struct sl_pkt *pkt,
				 struct sl_verdict_out *out)
{
	enum sl_verdict v = SL_VERDICT_ABORTED;

	st->queue = 0;   /* the kernel's cpumap kthread reports queue 0 */
	if (pg && id >= 1 && id <= pg->n && pg->p[id - 1].entry)
		v = sl_verdict_run(st, &pg->p[id - 1].exec, port, pkt, out);
	return v == SL_VERDICT_TX ? SL_VERDICT_ABORTED : v;  /* PASS, DROP, REDIRECT only */
}
