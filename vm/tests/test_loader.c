/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ELF loader tests (suite 'vm').
 *
 *   test_loader good OBJDIR READELF OBJDUMP
 *       loads the objects built from vm/tests/progs/ and checks maps,
 *       relocations, global data, subprograms and license. Relocation and
 *       call facts are compared with what llvm-readelf / llvm-objdump say
 *       about the same file (loader_ref.c); map sizes with the C sources
 *       and with what libbpf (bpf_object__open_file, no kernel needed)
 *       makes of the same objects.
 *   test_loader bad OBJDIR READELF OBJDUMP
 *       bad files: one clear line and the right errno, never a crash
 *       (see test_loader_bad.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/libbpf.h>

#include "sl_maps.h"
#include "sl_vm.h"
#include "loader_ref.h"
#include "test_loader.h"


const char *tl_objdir, *tl_readelf, *tl_objdump;

void tl_path(char *buf, size_t len, const char *obj)
{
	snprintf(buf, len, "%s/%s", tl_objdir, obj);
}

struct sl_map *tl_map_by_name(const struct sl_obj *obj, const char *name)
{
	for (unsigned i = 0; i < sl_obj_map_count(obj); i++)
		if (!strcmp(sl_map_name(sl_obj_map(obj, i)), name))
			return sl_obj_map(obj, i);
	return NULL;
}

/* ---- program checks against the reference ---- */

struct walk {
	const struct ref_obj *ref;
	const struct sl_prog *prog;
	const struct ref_sym *seen[64];   /* functions checked, in any order */
	uint32_t seen_at[64];
	unsigned n_seen;
};

static const struct ref_rel *rel_at(const struct ref_obj *r, const char *sec, uint64_t off)
{
	for (unsigned i = 0; i < r->n_rels; i++)
		if (!strcmp(r->rels[i].sec, sec) && r->rels[i].off == off)
			return &r->rels[i];
	return NULL;
}

static bool is_data_sec(const char *name)
{
	return !strncmp(name, ".rodata", 7) || !strncmp(name, ".data", 5) ||
	       !strncmp(name, ".bss", 4);
}

/* lddw at prog pc relocated by @p rel (raw instruction @p orig). */
static void check_lddw(struct walk *w, const struct ref_rel *rel, const struct bpf_insn *orig,
		       uint32_t pc)
{
	const struct bpf_insn *got = &w->prog->insns[pc];
	const struct ref_sym *sym = ref_sym_by_name(w->ref, rel->sym);
	const char *want_map = rel->sym, *sec = rel->sym;
	int64_t want_off = orig->imm;
	bool want_value;

	if (sym) {
		const struct ref_sec *s = ref_sec_by_idx(w->ref, sym->shndx);

		CHECK(s, "%s: symbol %s has no section", w->prog->name, rel->sym);
		if (!s)
			return;
		sec = s->name;
		want_off += (int64_t)sym->value;
	}
	want_value = is_data_sec(sec);
	if (want_value)
		want_map = sec;
	CHECK(got->code == orig->code && got->dst_reg == orig->dst_reg,
		 "%s pc %u: lddw changed beyond src/imm", w->prog->name, pc);
	CHECK(got->src_reg == (want_value ? BPF_PSEUDO_MAP_IDX_VALUE : BPF_PSEUDO_MAP_IDX),
		 "%s pc %u: src_reg %u for symbol %s", w->prog->name, pc, got->src_reg, rel->sym);
	CHECK(got->imm >= 0 && (uint32_t)got->imm < w->prog->n_maps,
		 "%s pc %u: map index %d of %u", w->prog->name, pc, got->imm, w->prog->n_maps);
	if (got->imm < 0 || (uint32_t)got->imm >= w->prog->n_maps)
		return;
	CHECK(!strcmp(sl_map_name(w->prog->maps[got->imm]), want_map),
		 "%s pc %u: refers to map %s, expected %s", w->prog->name, pc,
		 sl_map_name(w->prog->maps[got->imm]), want_map);
	CHECK(got[1].imm == (want_value ? want_off : 0),
		 "%s pc %u: value offset %d, expected %lld", w->prog->name, pc, got[1].imm,
		 (long long)(want_value ? want_off : 0));
}

static void check_func(struct walk *w, const struct ref_sym *f, uint32_t at);

/* Call at prog pc, raw @p orig at instruction @p idx of section @p s. */
static void check_call(struct walk *w, const struct ref_sec *s, const struct ref_rel *rel,
		       const struct bpf_insn *orig, uint64_t idx, uint32_t pc)
{
	const struct bpf_insn *got = &w->prog->insns[pc];
	int tsec = (int)s->idx;
	int64_t t = (int64_t)idx + orig->imm + 1;
	const struct ref_sym *g;
	int64_t tpc, gstart;
	unsigned k;

	if (rel) {
		const struct ref_sym *sym = ref_sym_by_name(w->ref, rel->sym);
		const struct ref_sec *ts = sym ? ref_sec_by_idx(w->ref, sym->shndx) :
					   ref_sec_by_name(w->ref, rel->sym);

		CHECK(ts, "call to unknown %s", rel->sym);
		if (!ts)
			return;
		tsec = (int)ts->idx;
		t = (int64_t)((sym ? sym->value : 0) / 8) + orig->imm + 1;
	}
	g = ref_func_at(w->ref, tsec, t);
	CHECK(g, "%s pc %u: call target %lld in no function", w->prog->name, pc, (long long)t);
	if (!g)
		return;
	tpc = (int64_t)pc + got->imm + 1;
	gstart = tpc - (t - (int64_t)(g->value / 8));
	for (k = 0; k < w->prog->n_subprogs; k++)
		if (w->prog->subprogs[k].start == gstart)
			break;
	CHECK(k < w->prog->n_subprogs && k > 0, "%s pc %u: call to %s lands at %lld, not at "
		 "the start of a subprogram", w->prog->name, pc, g->name, (long long)tpc);
	if (k >= w->prog->n_subprogs)
		return;
	CHECK(w->prog->subprogs[k].end - w->prog->subprogs[k].start == g->size / 8,
		 "%s: subprogram %u has %u instructions, %s has %llu", w->prog->name, k,
		 w->prog->subprogs[k].end - w->prog->subprogs[k].start, g->name,
		 (unsigned long long)(g->size / 8));
	for (unsigned i = 0; i < w->n_seen; i++)
		if (w->seen[i] == g) {
			CHECK(w->seen_at[i] == gstart, "%s: %s placed twice", w->prog->name,
				 g->name);
			return;
		}
	check_func(w, g, (uint32_t)gstart);
}

static void check_func(struct walk *w, const struct ref_sym *f, uint32_t at)
{
	const struct ref_sec *s = ref_sec_by_idx(w->ref, f->shndx);
	uint64_t start = f->value / 8, len = f->size / 8;

	CHECK(s && at + len <= w->prog->n_insns && w->n_seen < 64, "%s: function %s does "
		 "not fit at %u", w->prog->name, f->name, at);
	if (!s || at + len > w->prog->n_insns || w->n_seen >= 64)
		return;
	w->seen[w->n_seen] = f;
	w->seen_at[w->n_seen++] = at;
	for (uint64_t i = 0; i < len; i++) {
		const struct ref_rel *rel = rel_at(w->ref, s->name, (start + i) * 8);
		const uint8_t *raw = ref_insn(w->ref, s, start + i);
		struct bpf_insn orig;

		if (!raw)
			return;
		memcpy(&orig, raw, 8);
		if (rel && !strcmp(rel->type, "R_BPF_64_64")) {
			check_lddw(w, rel, &orig, at + (uint32_t)i);
			i++;   /* second half holds the value offset */
		} else if ((rel && !strcmp(rel->type, "R_BPF_64_32")) ||
			   (orig.code == (BPF_JMP | BPF_CALL) && orig.src_reg == BPF_PSEUDO_CALL)) {
			check_call(w, s, rel, &orig, start + i, at + (uint32_t)i);
		} else {
			CHECK(!memcmp(raw, &w->prog->insns[at + i], 8), "%s pc %llu (%s+%llu): "
				 "instruction differs from the object", w->prog->name,
				 (unsigned long long)(at + i), f->name, (unsigned long long)i);
		}
	}
}

void tl_check_prog(const struct ref_obj *ref, const struct sl_prog *prog)
{
	struct walk w = { .ref = ref, .prog = prog };
	const struct ref_sym *f = ref_sym_by_name(ref, prog->name);
	const struct ref_sec *s = f ? ref_sec_by_idx(ref, f->shndx) : NULL;
	uint32_t total = 0;

	CHECK(f && s && !strcmp(f->type, "FUNC") && !strcmp(s->name, prog->section),
		 "program %s: no FUNC symbol in section %s", prog->name, prog->section);
	if (!f || !s)
		return;
	CHECK(prog->n_subprogs >= 1 && prog->subprogs[0].start == 0 &&
		 prog->subprogs[0].end == f->size / 8, "%s: entry subprogram is not [0, %llu)",
		 prog->name, (unsigned long long)(f->size / 8));
	check_func(&w, f, 0);
	CHECK(w.n_seen == prog->n_subprogs, "%s: %u functions reached, %u subprograms",
		 prog->name, w.n_seen, prog->n_subprogs);
	for (unsigned i = 0; i < w.n_seen; i++)
		total += (uint32_t)(w.seen[i]->size / 8);
	CHECK(total == prog->n_insns, "%s: %u instructions, functions sum to %u", prog->name,
		 prog->n_insns, total);
	for (unsigned i = 0; i < prog->n_subprogs; i++)
		CHECK(prog->subprogs[i].stack_depth == 0, "%s: stack depth set", prog->name);
}

/* ---- the objects ---- */

struct sl_obj *tl_open(const char *obj, struct ref_obj *ref)
{
	char path[512], log[256] = "";
	struct sl_obj *o;

	tl_path(path, sizeof(path), obj);
	if (ref && ref_load(ref, path, tl_readelf, tl_objdump)) {
		CHECK(0, "%s: reference tools failed", path);
		return NULL;
	}
	o = sl_obj_open(path, NULL, log, sizeof(log));
	CHECK(o, "%s: open failed: %s (%s)", path, log, strerror(errno));
	return o;
}

static void check_map(const struct sl_obj *obj, const char *name, uint32_t type, uint32_t key,
		      uint32_t value, uint32_t max)
{
	struct sl_map *m = tl_map_by_name(obj, name);
	const struct sl_map_def *d;

	CHECK(m, "map %s missing", name);
	if (!m)
		return;
	d = sl_map_get_def(m);
	CHECK(d->type == type && d->key_size == key && d->value_size == value &&
		 d->max_entries == max, "map %s: type %u key %u value %u max %u, expected "
		 "%u %u %u %u", name, d->type, d->key_size, d->value_size, d->max_entries,
		 type, key, value, max);
}

static void check_all_progs(const struct sl_obj *obj, const struct ref_obj *ref)
{
	for (unsigned i = 0; i < sl_obj_prog_count(obj); i++)
		tl_check_prog(ref, sl_obj_prog(obj, i));
}

static unsigned data_sections(const struct ref_obj *ref)
{
	unsigned n = 0;

	for (unsigned i = 0; i < ref->n_secs; i++)
		n += is_data_sec(ref->secs[i].name) && ref->secs[i].size > 0;
	return n;
}

static void test_btf_maps(void)
{
	struct ref_obj ref;
	struct sl_obj *obj = tl_open("ld_maps.bpf.o", &ref);
	struct sl_prog *p;

	if (!obj)
		return;
	/* clang may leave constants in .rodata: each non-empty data section is a map too */
	CHECK(sl_obj_map_count(obj) == 4 + data_sections(&ref), "ld_maps: %u maps",
		 sl_obj_map_count(obj));
	check_map(obj, "counts", BPF_MAP_TYPE_ARRAY, 4, 8, 16);
	check_map(obj, "flows", BPF_MAP_TYPE_HASH, 12, 24, 1024);
	check_map(obj, "per_cpu", BPF_MAP_TYPE_PERCPU_ARRAY, 4, 8, 256);
	check_map(obj, "recent", BPF_MAP_TYPE_LRU_HASH, 8, 4, 64);
	CHECK(sl_obj_prog_count(obj) == 2, "ld_maps: %u programs", sl_obj_prog_count(obj));
	p = sl_obj_find_prog(obj, "xdp");
	CHECK(p && !strcmp(p->name, "xdp_maps") && p->type == SL_PROG_XDP &&
		 !strcmp(p->license, "GPL") && p->n_maps == 3, "ld_maps: xdp program wrong");
	p = sl_obj_find_prog(obj, "socket");
	CHECK(p && !strcmp(p->name, "sock_recent") && p->type == SL_PROG_SOCKET &&
		 p->n_maps == 2, "ld_maps: socket program wrong");
	CHECK(sl_obj_find_prog(obj, NULL) == sl_obj_prog(obj, 0), "find_prog(NULL)");
	check_all_progs(obj, &ref);
	sl_obj_close(obj);
	ref_free(&ref);
}

static void test_legacy_maps(void)
{
	struct ref_obj ref;
	struct sl_obj *obj = tl_open("ld_legacy.bpf.o", &ref);
	struct sl_prog *p;

	if (!obj)
		return;
	CHECK(sl_obj_map_count(obj) == 2 + data_sections(&ref), "ld_legacy: %u maps",
		 sl_obj_map_count(obj));
	check_map(obj, "legacy_counts", BPF_MAP_TYPE_ARRAY, 4, 8, 32);
	check_map(obj, "legacy_table", BPF_MAP_TYPE_HASH, 8, 16, 128);
	p = sl_obj_find_prog(obj, "xdp/legacy");
	CHECK(p && p->type == SL_PROG_XDP && !strcmp(p->license, "Dual BSD/GPL") &&
		 p->n_maps == 2, "ld_legacy: program wrong");
	check_all_progs(obj, &ref);
	sl_obj_close(obj);
	ref_free(&ref);
}

static void check_bytes(const struct sl_obj *obj, const char *name, const void *want,
			size_t len, uint32_t flags)
{
	struct sl_map *m = tl_map_by_name(obj, name);
	const uint8_t *v;

	check_map(obj, name, BPF_MAP_TYPE_ARRAY, 4, (uint32_t)len, 1);
	if (!m)
		return;
	v = sl_map_array_base(m, 0);
	CHECK(v && !memcmp(v, want, len), "%s: initial bytes differ", name);
	CHECK(sl_map_get_def(m)->map_flags == flags, "%s: flags %#x", name,
		 sl_map_get_def(m)->map_flags);
}

static void test_globals(const char *file)
{
	static const uint32_t primes[8] = { 2, 3, 5, 7, 11, 13, 17, 19 };
	static const uint64_t seed = 0x1122334455667788ULL;
	static const uint8_t zero[16];
	struct ref_obj ref;
	struct sl_obj *obj = tl_open(file, &ref);
	struct sl_prog *p;
	bool bss8 = false;

	if (!obj)
		return;
	check_bytes(obj, ".rodata", primes, sizeof(primes), BPF_F_RDONLY_PROG);
	check_bytes(obj, ".data", &seed, sizeof(seed), 0);
	check_bytes(obj, ".bss", zero, sizeof(zero), 0);   /* u32 hits; u64 total at 8 */
	p = sl_obj_find_prog(obj, "xdp");
	CHECK(p && p->n_maps == 3, "%s: program uses %u maps", file, p ? p->n_maps : 0);
	/* the static 'total' is reached through .bss + 8 */
	for (uint32_t i = 0; p && i + 1 < p->n_insns; i++)
		if (p->insns[i].src_reg == BPF_PSEUDO_MAP_IDX_VALUE && p->insns[i + 1].imm == 8 &&
		    !strcmp(sl_map_name(p->maps[p->insns[i].imm]), ".bss"))
			bss8 = true;
	CHECK(bss8, "%s: no reference to .bss + 8", file);
	check_all_progs(obj, &ref);
	sl_obj_close(obj);
	ref_free(&ref);
}

static void test_subprogs(const char *file)
{
	static const struct { const char *name, *sec; uint32_t subprogs, maps; } want[] = {
		{ "xdp_first", "xdp", 3, 1 },
		{ "xdp_second", "xdp", 2, 0 },
		{ "sock_sub", "socket", 3, 1 },
	};
	struct ref_obj ref;
	struct sl_obj *obj = tl_open(file, &ref);

	if (!obj)
		return;
	CHECK(sl_obj_prog_count(obj) == 3, "%s: %u programs", file, sl_obj_prog_count(obj));
	for (unsigned i = 0; i < 3 && i < sl_obj_prog_count(obj); i++) {
		struct sl_prog *p = sl_obj_prog(obj, i);

		CHECK(!strcmp(p->name, want[i].name) && !strcmp(p->section, want[i].sec) &&
			 p->n_subprogs == want[i].subprogs && p->n_maps == want[i].maps,
			 "%s: program %u is %s in %s with %u subprograms, %u maps", file, i,
			 p->name, p->section, p->n_subprogs, p->n_maps);
	}
	CHECK(!strcmp(sl_obj_find_prog(obj, "xdp")->name, "xdp_first"), "find_prog(xdp)");
	check_all_progs(obj, &ref);
	sl_obj_close(obj);
	ref_free(&ref);
}

/* ---- libbpf, opened without a kernel, as a second opinion ---- */

/* libbpf names global data maps "<obj prefix>.rodata": compare the section part. */
static const char *libbpf_map_name(const char *name)
{
	const char *dot = strchr(name, '.');

	return dot && dot != name ? dot : name;
}

static void vs_libbpf_maps(const struct sl_obj *obj, struct bpf_object *lo, const char *file)
{
	struct bpf_map *lm;
	unsigned n = 0;

	bpf_object__for_each_map(lm, lo) {
		const char *name = libbpf_map_name(bpf_map__name(lm));
		struct sl_map *m = tl_map_by_name(obj, name);
		const struct sl_map_def *d;

		n++;
		CHECK(m, "%s: libbpf has map %s, sluice does not", file, name);
		if (!m)
			continue;
		d = sl_map_get_def(m);
		CHECK(d->type == (uint32_t)bpf_map__type(lm) &&
			 d->key_size == bpf_map__key_size(lm) &&
			 d->value_size == bpf_map__value_size(lm) &&
			 d->max_entries == bpf_map__max_entries(lm) &&
			 d->map_flags == (bpf_map__map_flags(lm) & ~(uint32_t)BPF_F_MMAPABLE),
			 "%s: map %s differs from libbpf's (%u %u %u %u %#x)", file, name,
			 bpf_map__type(lm), bpf_map__key_size(lm), bpf_map__value_size(lm),
			 bpf_map__max_entries(lm), bpf_map__map_flags(lm));
	}
	CHECK(n == sl_obj_map_count(obj), "%s: libbpf sees %u maps, sluice %u", file, n,
		 sl_obj_map_count(obj));
}

static void vs_libbpf(const char *file)
{
	struct bpf_program *lp;
	struct bpf_object *lo;
	struct sl_obj *obj = tl_open(file, NULL);
	libbpf_print_fn_t old = libbpf_set_print(NULL);
	char path[512];
	unsigned n = 0;

	tl_path(path, sizeof(path), file);
	lo = bpf_object__open_file(path, NULL);
	libbpf_set_print(old);
	CHECK(lo, "%s: libbpf cannot open it", file);
	if (obj && lo) {
		vs_libbpf_maps(obj, lo, file);
		bpf_object__for_each_program(lp, lo) {
			struct sl_prog *p = sl_obj_find_prog(obj, bpf_program__name(lp));

			n++;
			CHECK(p && !strcmp(p->section, bpf_program__section_name(lp)),
				 "%s: libbpf program %s in %s not found", file,
				 bpf_program__name(lp), bpf_program__section_name(lp));
		}
		CHECK(n == sl_obj_prog_count(obj), "%s: libbpf sees %u programs, sluice %u",
			 file, n, sl_obj_prog_count(obj));
	}
	bpf_object__close(lo);
	sl_obj_close(obj);
}

int main(int argc, char **argv)
{
	if (argc != 5 || (strcmp(argv[1], "good") && strcmp(argv[1], "bad"))) {
		fprintf(stderr, "usage: %s good|bad OBJDIR LLVM_READELF LLVM_OBJDUMP\n", argv[0]);
		return 2;
	}
	tl_objdir = argv[2];
	tl_readelf = argv[3];
	tl_objdump = argv[4];
	if (!strcmp(argv[1], "good")) {
		test_btf_maps();
		test_legacy_maps();
		test_globals("ld_globals.bpf.o");
		test_globals("ld_globals_v3.bpf.o");
		test_subprogs("ld_subprogs.bpf.o");
		test_subprogs("ld_subprogs_v3.bpf.o");
		/* libbpf 1.x dropped the legacy "maps" section: not compared */
		vs_libbpf("ld_maps.bpf.o");
		vs_libbpf("ld_globals.bpf.o");
		vs_libbpf("ld_subprogs.bpf.o");
		vs_libbpf("ld_subprogs_v3.bpf.o");
	} else {
		tl_bad_files();
	}
	return sl_test_done(!strcmp(argv[1], "good") ? "loader-good" : "loader-bad");
}
