/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Loader paths of real-world objects (issue 13), on objects of our own
 * (rw_progs/): map-in-map with templates and initial values, looked up and
 * swapped (sl_map_outer_set) while the program runs in the interpreter;
 * section names of pre-1.0 libbpf, custom sections with a forced type;
 * max_entries 0 maps sized by sl_obj_opts.map_sizes; XSKMAP and CPUMAP
 * redirects; kfuncs refused by name.
 *   test_realworld DIR   (DIR holds the compiled rw_*.bpf.o)
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "sl_helpers.h"
#include "sl_maps.h"
#include "sl_vm.h"
#include "sl_test.h"

static const char *dir;

static struct sl_obj *open_obj(const char *name, struct sl_obj_opts *oo, char *log, size_t len)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return sl_obj_open(path, oo, log, len);
}

static struct sl_map *map_named(struct sl_obj *obj, const char *name)
{
	for (unsigned i = 0; i < sl_obj_map_count(obj); i++)
		if (!strcmp(sl_map_name(sl_obj_map(obj, i)), name))
			return sl_obj_map(obj, i);
	return NULL;
}

static uint64_t run_xdp(struct sl_prog *prog, uint8_t first, uint32_t rxq)
{
	uint8_t pkt[64] = { first };
	struct sl_xdp_ctx x = { .data = pkt, .data_end = pkt + sizeof(pkt), .data_meta = pkt,
				.data_hard_start = pkt, .rx_queue_index = rxq };

	return sl_vm_exec(prog, &x, NULL, NULL);
}

static void test_mim(void)
{
	struct sl_obj_opts oo = { .sz = sizeof(oo), .ncpus = 1 };
	char log[512] = "";
	struct sl_obj *obj = open_obj("rw_mim.bpf.o", &oo, log, sizeof(log));
	struct sl_map *oa, *oh, *a, *b, *h, *fresh;
	struct sl_map_def adef = { BPF_MAP_TYPE_ARRAY, 4, 8, 4, 0 };
	struct sl_map_def wrong = { BPF_MAP_TYPE_ARRAY, 4, 4, 4, 0 };
	uint32_t k0 = 0, k1 = 1, k2 = 2, k7 = 7, hv = 3, id = 0;
	uint64_t v = 40;
	struct sl_prog *prog;

	CHECK(obj, "open: %s", log);
	if (!obj)
		return;
	prog = sl_obj_find_prog(obj, "mim");
	oa = map_named(obj, "outer_arr");
	oh = map_named(obj, "outer_hash");
	a = map_named(obj, "arr_a");
	b = map_named(obj, "arr_b");
	h = map_named(obj, "hash_a");
	CHECK(prog && oa && oh && a && b && h, "programs and maps of rw_mim");
	if (!prog || !oa || !oh || !a || !b || !h)
		goto out;
	CHECK(sl_map_get_def(oa)->type == BPF_MAP_TYPE_ARRAY_OF_MAPS &&
	      sl_map_get_def(oh)->type == BPF_MAP_TYPE_HASH_OF_MAPS, "outer types");
	CHECK(sl_map_inner_template(oa) &&
	      sl_map_get_def(sl_map_inner_template(oa))->value_size == 8, "array template");
	CHECK(sl_map_lookup_elem(oa, &k0) == a && sl_map_lookup_elem(oa, &k2) == b &&
	      !sl_map_lookup_elem(oa, &k1) && sl_map_lookup_elem(oh, &k7) == h,
	      "initial values");
	CHECK(sl_map_ctl_lookup(oa, &k2, &id) == 0 && id >= 1, "control lookup gives an id");
	log[0] = 0;
	CHECK(sl_prog_verify(prog, 0, NULL, log, sizeof(log)) == 0, "verify: %s", log);
	CHECK(sl_map_ctl_update(a, &k0, &v, 0) == 0 && sl_map_ctl_update(h, &k1, &hv, 0) == 0,
	      "inner updates");
	/* index 0: arr_a[0] = 40 (bumped after), hash_a[1] = 3 -> 1000 + 40 + 300 */
	CHECK(run_xdp(prog, 0, 0) == 1340, "outer 0");
	CHECK(run_xdp(prog, 4, 0) == 1341, "outer 0 after the bump");
	CHECK(run_xdp(prog, 2, 0) == 1300, "outer 2: arr_b");
	CHECK(run_xdp(prog, 1, 0) == 7, "outer 1: empty");
	/* the control plane swaps in a new inner map; a misfit is refused */
	fresh = sl_map_create("fresh", &adef, 1);
	v = 5;
	CHECK(fresh && sl_map_ctl_update(fresh, &k0, &v, 0) == 0, "fresh inner");
	CHECK(sl_map_outer_set(oa, &k1, fresh, 99) == 0, "swap in");
	CHECK(run_xdp(prog, 1, 0) == 1305, "outer 1 now the fresh map");
	CHECK(sl_map_ctl_lookup(oa, &k1, &id) == 0 && id == 99, "id read back");
	{
		struct sl_map *bad = sl_map_create("bad", &wrong, 1);

		CHECK(bad && sl_map_outer_set(oa, &k1, bad, 5) == -EINVAL, "misfit refused");
		sl_map_destroy(bad);
	}
	CHECK(sl_map_outer_set(oh, &k7, NULL, 0) == 0, "hash entry deleted");
	CHECK(run_xdp(prog, 1, 0) == 1006, "no inner hash any more");
	CHECK(sl_map_outer_set(oa, &k1, NULL, 0) == 0, "swap out");
	CHECK(sl_map_ctl_update(oa, &k1, &k0, 0) == -EOPNOTSUPP, "u32 update needs a resolver");
	sl_map_destroy(fresh);
	{
		struct sl_map_def od = { BPF_MAP_TYPE_ARRAY_OF_MAPS, 4, 4, 2, 0 };

		CHECK(!sl_map_create("o", &od, 1) && errno == EINVAL, "outer needs a template");
		CHECK(!sl_map_create_outer("o", &od, &od, 1) && errno == EINVAL, "no nesting");
	}
out:
	sl_obj_close(obj);
}

static void test_sections(void)
{
	struct sl_obj_map_size sizes[] = { { "unsized", 16 } };
	struct sl_obj_opts oo = { .sz = sizeof(oo), .ncpus = 2 };
	char log[512] = "";
	struct sl_obj *obj = open_obj("rw_sections.bpf.o", &oo, log, sizeof(log));
	struct sl_prog *p;
	uint32_t key = 1, port = 5, zero = 0;
	uint32_t cpu_val[2] = { 192, 0 };

	CHECK(!obj && errno == EINVAL && strstr(log, "map 'unsized'") &&
	      strstr(log, "--map-size unsized=N"), "unsized map refused: %s", log);
	oo.map_sizes = sizes;
	oo.n_map_sizes = 1;
	obj = open_obj("rw_sections.bpf.o", &oo, log, sizeof(log));
	CHECK(obj, "sized: %s", log);
	if (!obj)
		return;
	CHECK(sl_obj_prog_count(obj) == 2, "xdp_stats1 and socket1 found, prog not: %u",
	      sl_obj_prog_count(obj));
	CHECK(map_named(obj, "unsized") &&
	      sl_map_get_def(map_named(obj, "unsized"))->max_entries == 16, "size applied");
	p = sl_obj_find_prog(obj, "xdp_stats1");
	CHECK(p && p->type == SL_PROG_XDP, "xdp_stats1 is XDP");
	CHECK(sl_obj_find_prog(obj, "socket1") &&
	      sl_obj_find_prog(obj, "socket1")->type == SL_PROG_SOCKET, "socket1 is a socket filter");
	if (p) {
		CHECK(sl_prog_verify(p, 0, NULL, log, sizeof(log)) == 0, "verify: %s", log);
		CHECK(run_xdp(p, 0, 1) == XDP_PASS, "empty XSKMAP entry: the fallback verdict");
		CHECK(sl_map_ctl_update(map_named(obj, "xsks"), &key, &port, 0) == 0, "xsk entry");
		CHECK(run_xdp(p, 0, 1) == XDP_REDIRECT && sl_helper_redirect()->ifindex == 5,
		      "XSKMAP redirect to port 5");
	}
	sl_obj_close(obj);

	oo.force_type = true;
	oo.prog_type = SL_PROG_XDP;
	obj = open_obj("rw_sections.bpf.o", &oo, log, sizeof(log));
	CHECK(obj && sl_obj_prog_count(obj) == 3, "--type xdp: every function a program");
	p = obj ? sl_obj_find_prog(obj, "prog") : NULL;
	CHECK(p && p->type == SL_PROG_XDP && !strcmp(p->name, "custom"), "custom section");
	if (p) {
		struct sl_map *cpus = map_named(obj, "cpus");

		CHECK(sl_prog_verify(p, 0, NULL, log, sizeof(log)) == 0, "verify: %s", log);
		CHECK(run_xdp(p, 0, 0) == XDP_DROP, "empty CPUMAP entry: the fallback verdict");
		CHECK(sl_map_ctl_update(cpus, &zero, cpu_val, 0) == 0, "cpumap entry");
		CHECK(run_xdp(p, 0, 0) == XDP_REDIRECT && sl_helper_redirect()->ifindex == 0 &&
		      sl_helper_redirect()->map == cpus, "CPUMAP redirect to worker 0");
		cpu_val[0] = 0;   /* qsize 0 empties the entry */
		CHECK(sl_map_ctl_update(cpus, &zero, cpu_val, 0) == 0 && run_xdp(p, 0, 0) == XDP_DROP,
		      "qsize 0 removes the CPU");
	}
	sl_obj_close(obj);
}

static void test_kfunc(void)
{
	char log[512] = "";
	struct sl_obj *obj = open_obj("rw_kfunc.bpf.o", NULL, log, sizeof(log));

	CHECK(!obj && errno == ENOTSUP && strstr(log, "'bpf_xdp_ct_lookup', 'bpf_ct_release'") &&
	      strstr(log, "kfuncs are not supported"), "kfuncs named: %s", log);
	sl_obj_close(obj);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: test_realworld DIR\n");
		return 2;
	}
	dir = argv[1];
	test_mim();
	test_sections();
	test_kfunc();
	return sl_test_done("realworld loader");
}
