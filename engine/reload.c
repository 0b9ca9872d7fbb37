/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Hot reload (`sluice ctl prog reload FILE.o`): replace the running program
 * while traffic flows, without losing a packet or letting one packet see
 * a half-swapped program. Control thread, inside a control-socket request.
 *
 *   1. open the new object; each map it declares whose name matches a map
 *      of the running object is carried over (the loader borrows the
 *      running map: counters survive) when its definition is the same
 *      (type, key size, value size, max_entries, flags); a different
 *      definition refuses the reload unless reset_maps, which gives the new
 *      program a new, empty map. PROG_ARRAY and map-in-map maps are always
 *      new (their entries point into the old object). Global data (.data,
 *      .bss, .rodata) is the new object's. The config's map sizes apply as
 *      at start; preload files are not loaded again (carried maps keep
 *      their entries; new maps start empty).
 *   2. verify, then JIT-compile (or prepare for the interpreter, as the
 *      engine runs): any failure refuses the reload with the loader's,
 *      verifier's or JIT's line; the running program is untouched.
 *   3. publish a new struct sl_exec with one release store of eng->exec.
 *      Workers read that pointer once per burst, so every burst runs
 *      wholly the old or wholly the new program.
 *   4. sl_map_synchronize(): every worker has passed a quiescent point
 *      (end of a loop turn) after the store, so none holds the old
 *      program, its code or a pointer into a map that goes away.
 *   5. the carried maps change owner (sl_obj_adopt_maps), then the old
 *      object (its remaining maps), its JIT code and its sl_exec are freed.
 *
 * The counters of the engine are per worker, not per program, so
 * rx = tx + drop + error holds across reloads.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "capture.h"
#include "ctl_internal.h"
#include "sl_config.h"
#include "sl_maps.h"

#define LOG_LEN 1024

struct reload {
	struct sl_engine *eng;
	bool reset_maps;
	unsigned carried, reset;
};

static struct sl_map *old_map(const struct sl_engine *eng, const char *name)
{
	for (unsigned i = 0; i < sl_obj_map_count(eng->obj); i++)
		if (!strcmp(sl_map_name(sl_obj_map(eng->obj, i)), name))
			return sl_obj_map(eng->obj, i);
	return NULL;
}

static bool never_carried(uint32_t type)
{
	return type == BPF_MAP_TYPE_PROG_ARRAY || type == BPF_MAP_TYPE_ARRAY_OF_MAPS ||
	       type == BPF_MAP_TYPE_HASH_OF_MAPS;
}

/* sl_obj_opts.map_reuse: carry a compatible map of the running object over. */
static int reuse(void *arg, const char *name, const struct sl_map_def *def, struct sl_map **map,
		 char *msg, size_t msg_len)
{
	struct reload *r = arg;
	struct sl_map *m = old_map(r->eng, name);
	const struct sl_map_def *od;
	uint32_t max;

	if (!m || never_carried(def->type))
		return 0;
	od = sl_map_get_def(m);
	/* a PERF_EVENT_ARRAY of max_entries 0 gets one slot per worker */
	max = def->type == BPF_MAP_TYPE_PERF_EVENT_ARRAY && !def->max_entries ? r->eng->nworkers :
	      def->max_entries;
	if (od->type == def->type && od->key_size == def->key_size &&
	    od->value_size == def->value_size && od->max_entries == max &&
	    od->map_flags == def->map_flags) {
		*map = m;
		r->carried++;
		return 1;
	}
	if (r->reset_maps) {
		r->reset++;
		return 0;
	}
	snprintf(msg, msg_len, "running map is %s key %u value %u max_entries %u flags 0x%x, new "
		 "one %s key %u value %u max_entries %u flags 0x%x: incompatible (--reset-maps "
		 "starts it empty)", sl_map_type_name(od->type), od->key_size, od->value_size,
		 od->max_entries, od->map_flags, sl_map_type_name(def->type), def->key_size,
		 def->value_size, def->max_entries, def->map_flags);
	return -EINVAL;
}

/* Steps 1 and 2: the new object, its program verified and compiled. */
static int prepare(struct sl_engine *eng, struct reload *r, const char *path, const char *section,
		   struct sl_obj **obj, struct sl_prog **prog, struct sl_jit **jit,
		   uint64_t *verify_ns, char *err, size_t err_len)
{
	const struct sl_config *cfg = eng->opts->cfg;
	struct sl_obj_map_size sizes[SL_CONFIG_MAX_MAPS];
	struct sl_obj_opts oo = {
		.sz = sizeof(oo), .ncpus = eng->nworkers, .map_reuse = reuse, .map_reuse_ctx = r,
		.map_sizes = sizes,
	};
	struct sl_verify_stats vs = { 0 };
	char log[LOG_LEN] = "";
	int e;

	for (unsigned i = 0; cfg && i < cfg->nmaps; i++)  /* the config's sizes, as at start */
		if (cfg->maps[i].size)
			sizes[oo.n_map_sizes++] = (struct sl_obj_map_size){ cfg->maps[i].name,
									    cfg->maps[i].size };
	*obj = sl_obj_open(path, &oo, log, sizeof(log));
	if (!*obj) {
		snprintf(err, err_len, "reload: %s", log[0] ? log : strerror(errno));
		return -EINVAL;
	}
	*prog = sl_obj_find_prog(*obj, section);
	if (!*prog) {
		snprintf(err, err_len, "reload: %s: no program in section '%s'", path,
			 section ? section : "(any)");
		return -ENOENT;
	}
	if ((*prog)->type != SL_PROG_XDP && (*prog)->type != SL_PROG_SOCKET) {
		snprintf(err, err_len, "reload: %s: section '%s' is neither an XDP nor a socket "
			 "filter program", path, (*prog)->section);
		return -EINVAL;
	}
	e = sl_prog_verify(*prog, 0, &vs, log, sizeof(log));
	if (e) {
		snprintf(err, err_len, "reload: %s: section '%s': rejected by the verifier: %s", path,
			 (*prog)->section, log[0] ? log : strerror(-e));
		return e;
	}
	*verify_ns = vs.ns;
	e = sl_cli_prog_build(*prog, eng->opts->exec, jit, log, sizeof(log));
	if (e)
		snprintf(err, err_len, "reload: %s: %s", path, log);
	return e;
}

static double wall_clock(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/*
 * Programs in PROG_ARRAY slots (tail calls), put there by ctl. Each keeps
 * its object (whose maps are the running object's, borrowed) and JIT code
 * until its slot is overwritten or cleared, or the running object goes
 * away with its PROG_ARRAY (a reload: the new object's PROG_ARRAY is new).
 */
struct sl_slot_prog {
	struct sl_slot_prog *next;
	struct sl_map *map;
	uint32_t index;
	struct sl_obj *obj;
	struct sl_jit *jit;
};

static void slot_prog_free(struct sl_slot_prog *sp)
{
	sl_jit_free(sp->jit);
	sl_obj_close(sp->obj);
	free(sp);
}

/* Unlink the slot program of (map, index) from the list: the caller frees it. */
static struct sl_slot_prog *slot_prog_take(struct sl_engine *eng, struct sl_map *map,
					   uint32_t index)
{
	for (struct sl_slot_prog **pp = &eng->slot_progs; *pp; pp = &(*pp)->next) {
		struct sl_slot_prog *sp = *pp;

		if (sp->map == map && sp->index == index) {
			*pp = sp->next;
			return sp;
		}
	}
	return NULL;
}

void sl_slot_prog_cleared(struct sl_engine *eng, struct sl_map *map, uint32_t index)
{
	struct sl_slot_prog *old = slot_prog_take(eng, map, index);

	if (!old)
		return;
	sl_map_synchronize();
	slot_prog_free(old);
}

void sl_slot_progs_free(struct sl_engine *eng)
{
	while (eng->slot_progs) {
		struct sl_slot_prog *sp = eng->slot_progs;

		eng->slot_progs = sp->next;
		slot_prog_free(sp);
	}
}

int sl_slot_prog_set(struct sl_engine *eng, struct sl_map *map, uint32_t index, const char *path,
		     const char *section, char *err, size_t err_len)
{
	struct reload r = { .eng = eng };
	struct sl_slot_prog *sp = calloc(1, sizeof(*sp)), *old;
	struct sl_prog *prog = NULL;
	uint64_t ns;
	static uint32_t next_id = 1;
	int e;

	if (!sp) {
		snprintf(err, err_len, "out of memory");
		return -ENOMEM;
	}
	e = prepare(eng, &r, path, section, &sp->obj, &prog, &sp->jit, &ns, err, err_len);
	if (!e && prog->type != eng->prog->type) {
		snprintf(err, err_len, "%s: section '%s' is not of the running program's type",
			 path, prog->section);
		e = -EINVAL;
	}
	if (!e)
		e = sl_map_prog_array_set(map, index, prog, next_id++);
	if (e) {
		if (e == -E2BIG)
			snprintf(err, err_len, "update %s: index %u past max_entries", sl_map_name(map),
				 index);
		slot_prog_free(sp);
		return e;
	}
	old = slot_prog_take(eng, map, index);
	sp->map = map;
	sp->index = index;
	sp->next = eng->slot_progs;
	eng->slot_progs = sp;
	if (old) {
		sl_map_synchronize();
		slot_prog_free(old);
	}
	return 0;
}

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Steps 3 to 5; @p at: CLOCK_MONOTONIC seconds of the store and of the end of the grace period. */
static void swap(struct sl_engine *eng, struct sl_obj *obj, struct sl_prog *prog,
		 struct sl_jit *jit, struct sl_exec *ex, double at[2])
{
	struct sl_exec *old_ex = eng->exec;
	struct sl_obj *old_obj = eng->obj;
	struct sl_jit *old_jit = eng->jit;
	struct sl_worker_stats sum;

	sl_worker_exec_init(eng, ex, prog, jit);
	sl_capture_prog_changed(eng, true);  /* a capture copies before any program now */
	__atomic_store_n(&eng->exec, ex, __ATOMIC_RELEASE);
	at[0] = mono_s();
	sl_map_synchronize();
	at[1] = mono_s();
	eng->obj = obj;
	eng->prog = prog;
	eng->jit = jit;
	eng->exec_name = jit ? "jit" : "interpreter";
	sl_capture_prog_changed(eng, false);
	sl_obj_adopt_maps(obj, old_obj);
	sl_slot_progs_free(eng);  /* they sat in the old object's PROG_ARRAYs */
	sl_jit_free(old_jit);
	sl_obj_close(old_obj);
	if (old_ex != &eng->exec_main)
		free(old_ex);
	sl_stats_sum(eng, &sum);
	eng->info.runs_base = sum.rx;
	eng->info.load_time = wall_clock();
	eng->info.reloads++;
}

int sl_reload(struct sl_engine *eng, const char *path, const char *section, bool reset_maps,
	      json_t **result, char *err, size_t err_len)
{
	struct reload r = { .eng = eng, .reset_maps = reset_maps };
	struct sl_obj *obj = NULL;
	struct sl_prog *prog = NULL;
	struct sl_jit *jit = NULL;
	struct sl_exec *ex = malloc(sizeof(*ex));
	struct sl_cpu_progs *old_cpu = NULL;
	uint64_t verify_ns = 0;
	double t0 = mono_s(), at[2];
	int e;

	if (!ex) {
		snprintf(err, err_len, "reload: out of memory");
		return -ENOMEM;
	}
	e = prepare(eng, &r, path, section, &obj, &prog, &jit, &verify_ns, err, err_len);
	if (!e && (e = sl_cpumap_reload(eng, obj, &old_cpu)))  /* CPUMAP entry programs */
		snprintf(err, err_len, "reload: %s: a CPUMAP entry program does not load "
			 "(the engine's stderr says why)", path);
	if (e) {  /* nothing of the new object ever ran: free it, keep the running one */
		sl_jit_free(jit);
		sl_obj_close(obj);
		free(ex);
		return e;
	}
	swap(eng, obj, prog, jit, ex, at);
	sl_cpu_progs_free(old_cpu);  /* after swap's grace period */
	snprintf(eng->info.path, sizeof(eng->info.path), "%s", path);
	eng->info.verify_ns = verify_ns;
	*result = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:f, s:{s:f, s:f, s:f}}", "object",
			    path, "section", prog->section, "exec", eng->exec_name,
			    "maps_carried", (json_int_t)r.carried, "maps_reset", (json_int_t)r.reset,
			    "reloads", (json_int_t)eng->info.reloads, "ms", (mono_s() - t0) * 1e3,
			    "monotonic", "start", t0, "swap", at[0], "synced", at[1]);
	if (eng->ctl) {
		sl_ctl_events_remap(eng->ctl);
		sl_ctl_dump_remap(eng->ctl);
	}
	return 0;
}
