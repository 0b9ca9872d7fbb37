/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * JIT unit tests: what the random differential test does not reach.
 * Every program also runs in the interpreter; both must give the value
 * computed here independently.
 *
 *   wx            code pages are never writable and executable (/proc/self/maps)
 *   unverified    sl_jit_compile refuses programs that are not verified
 *   maps          ARRAY lookup inlined (in and out of range), HASH through its
 *                 lookup function, update/delete helpers
 *   percpu        PERCPU_ARRAY inlined: four threads, four slots
 *   tail          tail calls: to a target, empty slot (-ENOENT), the chain
 *                 limit of 33, a target without JIT code (interpreter),
 *                 targets without code compiled with their caller (JIT to JIT)
 *   ldabs         LD_ABS / LD_IND of a socket filter, in and out of bounds
 *   blind         with blinding, an immediate does not appear in the code
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl_jit.h"
#include "sl_maps.h"
#include "sl_vm.h"
#include "sl_test.h"

#define I(c, d, s, o, i) ((struct bpf_insn){ .code = (c), .dst_reg = (d), .src_reg = (s), \
					     .off = (o), .imm = (i) })
#define MOV64_IMM(d, i) I(BPF_ALU64 | BPF_MOV | BPF_K, d, 0, 0, i)
#define MOV64_REG(d, s) I(BPF_ALU64 | BPF_MOV | BPF_X, d, s, 0, 0)
#define ADD64_IMM(d, i) I(BPF_ALU64 | BPF_ADD | BPF_K, d, 0, 0, i)
#define LD_MAP(d, idx) I(BPF_LD | BPF_IMM | BPF_DW, d, BPF_PSEUDO_MAP_IDX, 0, idx), I(0, 0, 0, 0, 0)
#define CALL(id) I(BPF_JMP | BPF_CALL, 0, 0, 0, id)
#define EXIT() I(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)
#define JEQ_IMM(d, i, o) I(BPF_JMP | BPF_JEQ | BPF_K, d, 0, o, i)
#define STW_IMM(d, o, i) I(BPF_ST | BPF_MEM | BPF_W, d, 0, o, i)
#define STXDW(d, o, s) I(BPF_STX | BPF_MEM | BPF_DW, d, s, o, 0)
#define LDXDW(d, s, o) I(BPF_LDX | BPF_MEM | BPF_DW, d, s, o, 0)
#define XADD64(d, o, s) I(BPF_STX | BPF_ATOMIC | BPF_DW, d, s, o, BPF_ADD)

static struct sl_prog *mkprog(const struct bpf_insn *insns, size_t n, enum sl_prog_type type,
			      struct sl_map **maps, unsigned n_maps)
{
	char log[256];
	struct sl_prog *p = sl_prog_from_raw(insns, n * sizeof(*insns), type, 64, log, sizeof(log));

	if (!p) {
		fprintf(stderr, "sl_prog_from_raw: %s\n", log);
		exit(1);
	}
	if (n_maps) {
		p->maps = calloc(n_maps, sizeof(*p->maps));
		memcpy(p->maps, maps, n_maps * sizeof(*maps));
		p->n_maps = n_maps;
	}
	p->verified = true;  /* hand-written valid programs (test code only) */
	return p;
}

static struct sl_jit *compile(struct sl_prog *p, bool blind)
{
	struct sl_jit_opts jo = { .sz = sizeof(jo), .blind_constants = blind };
	char log[256];
	struct sl_jit *jit = sl_jit_compile(p, &jo, log, sizeof(log));

	if (!jit) {
		fprintf(stderr, "sl_jit_compile: %s\n", log);
		exit(1);
	}
	return jit;
}

static bool contains(const void *hay, size_t n, const void *needle, size_t m)
{
	return memmem(hay, n, needle, m) != NULL;
}

/* Run on both engines; both must return @p want. */
static void run_both(struct sl_prog *p, void *ctx, uint64_t r2, uint64_t want, const char *what)
{
	struct sl_vm_run_opts ro = { .sz = sizeof(ro), .mem = ctx, .mem_len = r2 };
	struct sl_vm_result res;
	struct sl_jit *jit = compile(p, false);
	uint64_t ri = sl_vm_exec(p, ctx, &ro, &res);
	uint64_t rj = sl_jit_entry(jit)(ctx, r2);

	CHECK(!res.err && ri == want, "%s: interpreter r0 0x%" PRIx64 " (%s), want 0x%" PRIx64,
	      what, ri, res.msg, want);
	CHECK(rj == want, "%s: jit r0 0x%" PRIx64 ", want 0x%" PRIx64, what, rj, want);
	sl_jit_free(jit);
}

/* The mapping holding @p addr in /proc/self/maps, and no mapping at all is w+x. */
static void test_wx(void)
{
	const struct bpf_insn prog[] = { MOV64_IMM(0, 7), EXIT() };
	struct sl_prog *p = mkprog(prog, 2, SL_PROG_RAW, NULL, 0);
	struct sl_jit *jit = compile(p, false);
	uintptr_t code = (uintptr_t)sl_jit_code(jit);
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];
	bool found = false;

	CHECK(f, "cannot open /proc/self/maps");
	while (f && fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;
		char perms[8];

		if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perms) != 3)
			continue;
		CHECK(!(perms[1] == 'w' && perms[2] == 'x'), "writable and executable: %s", line);
		if (code >= lo && code < hi) {
			found = true;
			CHECK(!strncmp(perms, "r-x", 3), "code mapping is %s, want r-x", perms);
		}
	}
	if (f)
		fclose(f);
	CHECK(found, "code at %#lx not in /proc/self/maps", (unsigned long)code);
	CHECK(sl_jit_entry(jit)(NULL, 0) == 7, "r0");
	sl_jit_free(jit);
	sl_prog_free(p);
}

static void test_unverified(void)
{
	const struct bpf_insn prog[] = { MOV64_IMM(0, 1), EXIT() };
	struct sl_prog *p = mkprog(prog, 2, SL_PROG_RAW, NULL, 0);
	char log[128] = "";

	p->verified = false;
	errno = 0;
	CHECK(!sl_jit_compile(p, NULL, log, sizeof(log)) && errno == EINVAL,
	      "unverified program compiled (errno %d)", errno);
	CHECK(strstr(log, "not verified"), "log: '%s'", log);
	sl_prog_free(p);
}

/* sl_jit_opts.sz as sl_opts.h says: shorter and zero-padded longer structs are taken. */
static void test_opts_sz(void)
{
	const struct bpf_insn prog[] = { MOV64_IMM(0, 7), EXIT() };
	struct sl_prog *p = mkprog(prog, 2, SL_PROG_RAW, NULL, 0);
	struct {
		struct sl_jit_opts o;
		uint8_t more[8];
	} big;
	struct sl_jit *jit;
	char log[160] = "";

	memset(&big, 0, sizeof(big));
	big.o.sz = sizeof(big);
	jit = sl_jit_compile(p, &big.o, log, sizeof(log));
	CHECK(jit && sl_jit_entry(jit)(NULL, 0) == 7, "longer opts, zero tail: %s", log);
	sl_jit_free(jit);
	big.more[3] = 1;
	errno = 0;
	jit = sl_jit_compile(p, &big.o, log, sizeof(log));
	CHECK(!jit && errno == EINVAL && strstr(log, "sl_jit_opts: sz"),
	      "longer opts asking for more: errno %d, log '%s'", errno, log);
	sl_jit_free(jit);
	memset(&big, 0, sizeof(big));
	big.o.sz = sizeof(size_t);  /* an older caller: only sz */
	big.o.blind_constants = true;  /* past its sz: never read */
	jit = sl_jit_compile(p, &big.o, log, sizeof(log));
	CHECK(jit && sl_jit_entry(jit)(NULL, 0) == 7, "shorter opts: %s", log);
	sl_jit_free(jit);
	big.o.sz = 3;
	jit = sl_jit_compile(p, &big.o, log, sizeof(log));
	CHECK(!jit && errno == EINVAL, "sz 3 (cannot hold sz) taken");
	sl_jit_free(jit);
	sl_prog_free(p);
}

/*
 * Does @p jit call @p fn directly: "call rel32" (e8) landing on it when
 * the code is within +-2 GiB of it (as the JIT maps it when it can), else
 * "movabs r11, fn" (and call r11)?
 */
static bool calls_directly(const struct sl_jit *jit, uintptr_t fn)
{
	const uint8_t *c = sl_jit_code(jit);
	size_t n = sl_jit_code_size(jit);
	int64_t d = (int64_t)fn - (int64_t)(uintptr_t)c;

	if (d > INT32_MAX - (1 << 24) || d < INT32_MIN + (1 << 24))
		return contains(c, n, &fn, sizeof(fn));
	for (size_t i = 0; i + 5 <= n; i++) {
		int32_t rel;

		memcpy(&rel, c + i + 1, 4);
		if (c[i] == 0xe8 && (uintptr_t)(c + i + 5) + (uintptr_t)(intptr_t)rel == fn)
			return !contains(c, n, &fn, sizeof(fn));
	}
	return false;
}

/*
 * r0 = value of key r6 in map 0 (+ offset 0, u64) or 0xdead if NULL;
 * before reading, the value is incremented by 5 with an atomic add.
 */
static struct sl_prog *lookup_prog(struct sl_map *map, int32_t key)
{
	const struct bpf_insn prog[] = {
		STW_IMM(10, -4, key),
		MOV64_REG(2, 10), ADD64_IMM(2, -4),
		LD_MAP(1, 0),
		CALL(BPF_FUNC_map_lookup_elem),
		JEQ_IMM(0, 0, 4),
		MOV64_IMM(1, 5),
		XADD64(0, 0, 1),
		LDXDW(0, 0, 0),
		EXIT(),
		MOV64_IMM(0, 0xdead),
		EXIT(),
	};
	struct sl_prog *p = mkprog(prog, sizeof(prog) / sizeof(prog[0]), SL_PROG_RAW, &map, 1);

	p->aux[5].map = map;  /* what the verifier records: the one map of the call */
	return p;
}

static void test_maps(void)
{
	struct sl_map_def adef = { BPF_MAP_TYPE_ARRAY, 4, 8, 16, 0 };
	struct sl_map_def hdef = { BPF_MAP_TYPE_HASH, 4, 8, 16, 0 };
	struct sl_map *arr = sl_map_create("arr", &adef, 1), *hash = sl_map_create("h", &hdef, 1);
	uint32_t k = 3;
	uint64_t v = 100;

	CHECK(arr && hash, "map create: %s", strerror(errno));
	sl_map_ctl_update(arr, &k, &v, BPF_ANY);
	sl_map_ctl_update(hash, &k, &v, BPF_ANY);
	for (int m = 0; m < 2; m++) {
		struct sl_map *map = m ? hash : arr;
		struct sl_prog *in = lookup_prog(map, 3), *out = lookup_prog(map, m ? 4 : 16);

		struct sl_jit *jit = compile(in, false);
		uint64_t ri = sl_vm_exec(in, NULL, NULL, NULL), rj = sl_jit_entry(jit)(NULL, 0);
		uintptr_t fn = (uintptr_t)sl_map_jit_lookup_fn(map);

		/* ARRAY: inlined, no call at all; HASH: inlined too (jit/map_hash.c: crc32, no call) */
		if (m == 0)
			CHECK(!contains(sl_jit_code(jit), sl_jit_code_size(jit), "\x41\xff\xd3", 3),
			      "array lookup not inlined (call r11 in the code)");
		else
			CHECK(!calls_directly(jit, fn) &&
			      contains(sl_jit_code(jit), sl_jit_code_size(jit), "\x0f\x38\xf1", 3),
			      "hash lookup not inlined (a call of the type's lookup, or no crc32)");

		/* each run adds 5 to the value and returns it */
		CHECK(ri == 105 && rj == 110, "%s: interpreter %" PRIu64 " (want 105), jit %" PRIu64
		      " (want 110)", sl_map_name(map), ri, rj);
		sl_map_ctl_lookup(map, &k, &v);
		CHECK(v == 110, "%s: value after two runs %" PRIu64 ", want 110", sl_map_name(map), v);
		v = 100;
		sl_map_ctl_update(map, &k, &v, BPF_ANY);
		sl_jit_free(jit);
		run_both(out, NULL, 0, 0xdead, m ? "hash miss" : "array index out of range");
		sl_prog_free(in);
		sl_prog_free(out);
	}
	sl_map_destroy(arr);
	sl_map_destroy(hash);
}

struct percpu_arg {
	struct sl_jit *jit;
	uint32_t cpu;
	unsigned runs;
};

static void *percpu_worker(void *arg)
{
	struct percpu_arg *a = arg;

	sl_map_set_cpu(a->cpu);
	for (unsigned i = 0; i < a->runs; i++)
		sl_jit_entry(a->jit)(NULL, 0);
	return NULL;
}

/* lookup_prog() @p p in the interpreter, then the JIT: value @p v + 5, then + 10 */
static void run_twice(struct sl_prog *p, uint64_t v, const char *what)
{
	struct sl_jit *jit = compile(p, false);
	uint64_t ri = sl_vm_exec(p, NULL, NULL, NULL), rj = sl_jit_entry(jit)(NULL, 0);

	CHECK(ri == v + 5 && rj == v + 10, "%s: interpreter %" PRIu64 " (want %" PRIu64
	      "), jit %" PRIu64 " (want %" PRIu64 ")", what, ri, v + 5, rj, v + 10);
	sl_jit_free(jit);
}

static void test_percpu(void)
{
	struct sl_map_def def = { BPF_MAP_TYPE_PERCPU_ARRAY, 4, 8, 4, 0 };
	struct sl_map *map = sl_map_create("pc", &def, 4);
	struct sl_prog *p = lookup_prog(map, 2);
	struct sl_jit *jit = compile(p, false);
	struct percpu_arg args[4];
	pthread_t th[4];
	uint64_t vals[4];
	uint32_t k = 2;

	CHECK(!contains(sl_jit_code(jit), sl_jit_code_size(jit), "\x41\xff\xd3", 3),
	      "per-CPU array lookup not inlined (call r11 in the code)");
	for (uint32_t c = 0; c < 4; c++) {
		args[c] = (struct percpu_arg){ jit, c, 10 * (c + 1) };
		pthread_create(&th[c], NULL, percpu_worker, &args[c]);
	}
	for (int c = 0; c < 4; c++)
		pthread_join(th[c], NULL);
	CHECK(sl_map_ctl_lookup(map, &k, vals) == 0, "lookup");
	for (uint32_t c = 0; c < 4; c++)
		CHECK(vals[c] == 5ull * 10 * (c + 1), "slot %u: %" PRIu64 ", want %u", c, vals[c],
		      50 * (c + 1));
	sl_jit_free(jit);
	/* a worker slot past the map's ncpus finds nothing (NULL), as the C lookup */
	sl_map_set_cpu(4);
	run_both(p, NULL, 0, 0xdead, "per-CPU lookup with sl_map_cpu == ncpus");
	sl_map_set_cpu(1000);
	run_both(p, NULL, 0, 0xdead, "per-CPU lookup with sl_map_cpu > ncpus");
	sl_map_set_cpu(3);
	run_twice(p, 5ull * 10 * 4, "per-CPU lookup with sl_map_cpu 3");
	sl_map_set_cpu(0);
	sl_prog_free(p);
	sl_map_destroy(map);
	/* one slot: the slot number is still checked */
	map = sl_map_create("pc1", &def, 1);
	p = lookup_prog(map, 1);
	CHECK(map && p, "one-slot per-CPU map");
	run_twice(p, 0, "one-slot per-CPU lookup with sl_map_cpu 0");
	sl_map_set_cpu(1);
	run_both(p, NULL, 0, 0xdead, "one-slot per-CPU lookup with sl_map_cpu 1");
	sl_map_set_cpu(0);
	sl_prog_free(p);
	sl_map_destroy(map);
}

static void test_tail(void)
{
	struct sl_map_def pdef = { BPF_MAP_TYPE_PROG_ARRAY, 4, 4, 4, 0 };
	struct sl_map_def cdef = { BPF_MAP_TYPE_ARRAY, 4, 8, 1, 0 };
	struct sl_map *pa = sl_map_create("progs", &pdef, 1), *cnt = sl_map_create("cnt", &cdef, 1);
	struct sl_map *maps[2] = { pa, cnt };
	/* slot 0: count++ in cnt[0], then tail call slot 0 again; when it fails, r0 = its result */
	const struct bpf_insn loop[] = {
		MOV64_REG(6, 1),
		STW_IMM(10, -4, 0), MOV64_REG(2, 10), ADD64_IMM(2, -4), LD_MAP(1, 1),
		CALL(BPF_FUNC_map_lookup_elem),
		JEQ_IMM(0, 0, 2), MOV64_IMM(1, 1), XADD64(0, 0, 1),
		MOV64_REG(1, 6), LD_MAP(2, 0), MOV64_IMM(3, 0),
		CALL(BPF_FUNC_tail_call),
		EXIT(),
	};
	/* slot 1: returns 42 + ctx (ctx must survive the jump) */
	const struct bpf_insn target[] = { MOV64_REG(0, 1), ADD64_IMM(0, 42), EXIT() };
	/* entry: tail call slot r2 (1, or 2 = empty) */
	const struct bpf_insn entry[] = {
		MOV64_REG(3, 2), LD_MAP(2, 0), CALL(BPF_FUNC_tail_call), ADD64_IMM(0, 1000), EXIT(),
	};
	struct sl_prog *pl = mkprog(loop, sizeof(loop) / sizeof(loop[0]), SL_PROG_RAW, maps, 2);
	struct sl_prog *pt = mkprog(target, sizeof(target) / sizeof(target[0]), SL_PROG_RAW, maps, 2);
	struct sl_prog *pe = mkprog(entry, sizeof(entry) / sizeof(entry[0]), SL_PROG_RAW, maps, 2);
	struct sl_jit *jl, *jt, *je;
	uint32_t k = 0;
	uint64_t v = 0;

	pl->aux[6].map = cnt;
	sl_map_prog_array_set(pa, 0, pl, 1);
	sl_map_prog_array_set(pa, 1, pt, 2);
	jl = compile(pl, false);
	jt = compile(pt, false);
	je = compile(pe, false);
	CHECK(sl_jit_entry(je)((void *)7, 1) == 49, "tail call to slot 1: want 49");
	CHECK(sl_jit_entry(je)((void *)7, 2) == (uint64_t)-ENOENT + 1000, "empty slot: -ENOENT");
	CHECK(sl_jit_entry(jl)((void *)7, 0) == (uint64_t)-ENOENT, "chain end: -ENOENT");
	sl_map_ctl_lookup(cnt, &k, &v);
	CHECK(v == 34, "chain: %" PRIu64 " runs, want 34 (33 tail calls)", v);
	sl_jit_free(jt);  /* slot 1 has no JIT code now: the interpreter runs it */
	CHECK(!pt->jit_tail_entry, "jit_tail_entry not cleared");
	CHECK(sl_jit_entry(je)((void *)7, 1) == 49, "tail call into the interpreter: want 49");
	/* targets without JIT code are compiled with the program that tail calls them */
	sl_jit_free(je);
	je = compile(pe, false);
	CHECK(pt->jit_tail_entry && pt->jit_tail_entry != pe->jit_tail_entry,
	      "slot 1 not compiled with the program that tail calls it");
	CHECK(sl_jit_entry(je)((void *)7, 1) == 49, "JIT-to-JIT tail call to slot 1: want 49");
	sl_jit_free(je);
	CHECK(!pt->jit_tail_entry && !pe->jit_tail_entry, "entries of freed code not cleared");
	sl_jit_free(jl);
	je = compile(pe, false);  /* compiles slot 0, which compiles slot 1 */
	CHECK(pl->jit_tail_entry && pt->jit_tail_entry, "slots 0 and 1 not compiled");
	CHECK(sl_jit_entry(je)((void *)7, 0) == (uint64_t)-ENOENT, "JIT chain end: -ENOENT");
	sl_map_ctl_lookup(cnt, &k, &v);
	CHECK(v == 34 + 33, "JIT chain: %" PRIu64 " runs in all, want 67 (34 + 33 tail calls)", v);
	sl_jit_free(je);
	CHECK(!pl->jit_tail_entry && !pt->jit_tail_entry, "entries of freed targets not cleared");
	sl_prog_free(pl);
	sl_prog_free(pt);
	sl_prog_free(pe);
	sl_map_destroy(pa);
	sl_map_destroy(cnt);
}

static void test_ldabs(void)
{
	/* r0 = be16 at 12 + be32 at (r7 = 2) + 20 + byte at 5 */
	const struct bpf_insn in[] = {
		MOV64_REG(6, 1),
		I(BPF_LD | BPF_ABS | BPF_H, 0, 0, 0, 12), MOV64_REG(8, 0),
		MOV64_IMM(7, 2),
		I(BPF_LD | BPF_IND | BPF_W, 0, 7, 0, 20), I(BPF_ALU64 | BPF_ADD | BPF_X, 8, 0, 0, 0),
		I(BPF_LD | BPF_ABS | BPF_B, 0, 0, 0, 5), I(BPF_ALU64 | BPF_ADD | BPF_X, 0, 8, 0, 0),
		EXIT(),
	};
	/* LD_IND at r7 + 0: out of bounds (r7 = 40 of 40 bytes, or -1) ends with r0 = 0 */
	struct bpf_insn out[] = {
		MOV64_REG(6, 1), MOV64_IMM(0, 99), MOV64_IMM(7, 40),
		I(BPF_LD | BPF_IND | BPF_B, 0, 7, 0, 0), ADD64_IMM(0, 1), EXIT(),
	};
	uint8_t pkt[40];
	struct sl_skb_ctx ctx = { .pkt = pkt, .pkt_len = sizeof(pkt) };
	struct sl_prog *p;

	for (unsigned i = 0; i < sizeof(pkt); i++)
		pkt[i] = (uint8_t)(i * 7 + 1);
	ctx.skb.len = sizeof(pkt);
	p = mkprog(in, sizeof(in) / sizeof(in[0]), SL_PROG_SOCKET, NULL, 0);
	run_both(p, &ctx, 0,
		 (uint64_t)((pkt[12] << 8) | pkt[13]) +
		 (((uint64_t)pkt[22] << 24) | (pkt[23] << 16) | (pkt[24] << 8) | pkt[25]) + pkt[5],
		 "ld_abs/ld_ind in bounds");
	sl_prog_free(p);
	p = mkprog(out, sizeof(out) / sizeof(out[0]), SL_PROG_SOCKET, NULL, 0);
	run_both(p, &ctx, 0, 0, "ld_ind past the end");
	sl_prog_free(p);
	out[2] = MOV64_IMM(7, 39);
	p = mkprog(out, sizeof(out) / sizeof(out[0]), SL_PROG_SOCKET, NULL, 0);
	run_both(p, &ctx, 0, pkt[39] + 1u, "ld_ind last byte");
	sl_prog_free(p);
	out[2] = MOV64_IMM(7, -1);
	p = mkprog(out, sizeof(out) / sizeof(out[0]), SL_PROG_SOCKET, NULL, 0);
	run_both(p, &ctx, 0, 0, "ld_ind negative offset");
	sl_prog_free(p);
}


/* LD_ABS / LD_IND offsets are blinded too; the result stays the same. */
static void test_blind_ldabs(int32_t magic)
{
	const struct bpf_insn prog[] = {
		MOV64_REG(6, 1), MOV64_IMM(7, -magic + 3),
		I(BPF_LD | BPF_IND | BPF_B, 0, 7, 0, magic), MOV64_REG(8, 0),   /* pkt[3] */
		I(BPF_LD | BPF_ABS | BPF_H, 0, 0, 0, 1), I(BPF_ALU64 | BPF_ADD | BPF_X, 0, 8, 0, 0),
		I(BPF_LD | BPF_ABS | BPF_B, 0, 0, 0, magic),                   /* out of bounds: 0 */
		EXIT(),
	};
	uint8_t pkt[16] = { 0, 0x12, 0x34, 0x56 };
	struct sl_skb_ctx ctx = { .pkt = pkt, .pkt_len = sizeof(pkt) };
	struct sl_prog *p = mkprog(prog, sizeof(prog) / sizeof(prog[0]), SL_PROG_SOCKET, NULL, 0);
	struct sl_jit *blind = compile(p, true);
	struct sl_prog *p2 = mkprog(prog, 7, SL_PROG_SOCKET, NULL, 0);   /* without the last load */
	struct sl_jit *blind2;

	p2->insns[6] = EXIT();
	blind2 = compile(p2, true);
	CHECK(!contains(sl_jit_code(blind), sl_jit_code_size(blind), &magic, 4),
	      "blinded LD_ABS/LD_IND code holds the offset");
	CHECK(sl_jit_entry(blind)(&ctx, 0) == 0, "blinded out-of-bounds LD_ABS must end with 0");
	CHECK(sl_jit_entry(blind2)(&ctx, 0) == 0x56u + 0x1234u, "blinded LD_IND/LD_ABS value");
	sl_jit_free(blind);
	sl_jit_free(blind2);
	sl_prog_free(p);
	sl_prog_free(p2);
}

static void test_blind(void)
{
	const int32_t magic = 0x5a17c0de;
	const struct bpf_insn prog[] = {
		MOV64_IMM(0, magic), I(BPF_ALU64 | BPF_ADD | BPF_K, 0, 0, 0, magic),
		I(BPF_LD | BPF_IMM | BPF_DW, 1, 0, 0, magic), I(0, 0, 0, 0, magic),
		I(BPF_ALU64 | BPF_XOR | BPF_X, 0, 1, 0, 0),
		I(BPF_ST | BPF_MEM | BPF_W, 10, 0, -8, magic), I(BPF_LDX | BPF_MEM | BPF_W, 2, 10, -8, 0),
		I(BPF_ALU64 | BPF_ADD | BPF_X, 0, 2, 0, 0),
		I(BPF_JMP | BPF_JNE | BPF_K, 2, 0, 1, magic), ADD64_IMM(0, 1),
		EXIT(),
	};
	uint64_t m64 = (uint32_t)magic, want = ((m64 + m64) ^ (m64 << 32 | m64)) + m64 + 1;
	struct sl_prog *p = mkprog(prog, sizeof(prog) / sizeof(prog[0]), SL_PROG_RAW, NULL, 0);
	struct sl_jit *plain = compile(p, false), *blind = compile(p, true);

	CHECK(contains(sl_jit_code(plain), sl_jit_code_size(plain), &magic, 4),
	      "plain code should hold the immediate");
	CHECK(!contains(sl_jit_code(blind), sl_jit_code_size(blind), &magic, 4),
	      "blinded code holds the immediate");
	CHECK(sl_jit_entry(plain)(NULL, 0) == want, "plain result");
	CHECK(sl_jit_entry(blind)(NULL, 0) == want, "blinded result");
	sl_jit_free(plain);
	sl_jit_free(blind);
	sl_prog_free(p);
	test_blind_ldabs(magic);
}

/*
 * Garbage marked verified (what a buggy verifier could let through): the
 * JIT must refuse it with a log line or compile it, never crash. Nothing
 * is run.
 */
static void test_garbage(void)
{
	struct sl_rng r = sl_rng_make(0x9e3779b97f4a7c15ull, SL_RNG_XORSHIFT);
	unsigned refused = 0, compiled = 0;

	for (int i = 0; i < 3000; i++) {
		struct bpf_insn insns[64];
		unsigned n = 1 + (unsigned)(r.s % 64);
		struct sl_prog *p;
		struct sl_jit *jit;
		char log[256] = "";

		for (unsigned k = 0; k < n; k++) {
			uint64_t x = sl_rng_u64(&r);

			memcpy(&insns[k], &x, sizeof(insns[k]));
			if (x % 3 == 0)   /* mostly plausible opcodes: ALU/JMP/LDX/ST classes */
				insns[k].code = (uint8_t)((x >> 40) & 0xff);
		}
		insns[n - 1] = EXIT();
		p = mkprog(insns, n, SL_PROG_RAW, NULL, 0);
		jit = sl_jit_compile(p, NULL, log, sizeof(log));
		if (jit) {
			compiled++;
		} else {
			refused++;
			CHECK(log[0], "refused without a log line (errno %d)", errno);
		}
		sl_jit_free(jit);
		sl_prog_free(p);
	}
	CHECK(refused > 0, "no garbage program was refused");
	printf("garbage: %u refused, %u compiled\n", refused, compiled);
}

int main(void)
{
	test_wx();
	test_unverified();
	test_opts_sz();
	test_maps();
	test_percpu();
	test_tail();
	test_ldabs();
	test_blind();
	test_garbage();
	return sl_test_done("jit_unit");
}
