/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * jit-map-calls: the JIT's direct calls of a map's own functions
 * (jit/map_calls.c) against the interpreter, which goes through the
 * helpers and the map's generic dispatch, and against a model kept here.
 *
 * For every hash map type and a range of key sizes (those hash.c compiles
 * specialised code for, and others read as overlapping words), a random
 * sequence of bpf_map_update_elem (BPF_ANY / BPF_NOEXIST / BPF_EXIST),
 * bpf_map_lookup_elem and bpf_map_delete_elem over a few keys that differ
 * from each other in one byte runs as one small program per operation:
 * interpreted on one map, JIT-compiled on a twin map. Each r0 must equal
 * the model's (0 / -EEXIST / -ENOENT; the value or MISS for a lookup),
 * and the JIT code must call the map's function for the operation
 * (sl_map_jit_fns()) directly, not the helper, except lookups in hash
 * maps, which are emitted in place (jit/map_hash.c: crc32 in the
 * code, no call; the key hashed in words that fit the program's stores to
 * it: bytes, or 4- and 2-byte words for odd values; per-CPU maps: the
 * value of worker slots 0 and 1, NULL from slot 2 of a 2-slot map). hash_chains() compares those inlined lookups with the
 * map's C lookup over a map full of chains, for hits and misses.
 *
 * bpf_map_lookup_elem on an ARRAY / PERCPU_ARRAY is inlined; its index is
 * taken from a constant or a register when the key slot's store is on the
 * straight line before the call (array_shapes()): each shape, and its near
 * misses (the slot partly overwritten, the stored register changed, a jump
 * landing between, a key in memory the program was given), must read the
 * element the map's C lookup finds (or MISS) for several indices, and the
 * code must have the form expected: an address of the element and no
 * bound check for a constant, "mov eax, edi" before the bound check for a
 * register, "mov eax, [rsi]" otherwise, and no bound check for a register
 * a byte load just set (below max_entries: the element by lea, or, the
 * key in r0, by mov and shl), with its near misses (a half-word load, a
 * jump landing between the load and the store) keeping theirs. The
 * PERCPU_ARRAY shapes run again on a map of two worker slots as worker 1.
 *
 * usage: test_jit_map_calls [SEED]
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl_jit.h"
#include "sl_maps.h"
#include "sl_vm.h"
#include "sl_test.h"
#include "sl_test_bpf.h"

#define I(c, d, s, o, i) ((struct bpf_insn){ .code = (c), .dst_reg = (d), .src_reg = (s), \
					     .off = (o), .imm = (i) })
#define MISS 0xdeadull
#define NKEYS 6
#define OPS 160
#define KEY_OFF (-80)   /* the key's place on the stack; the value's is -8 */

enum op { OP_LOOKUP, OP_UPDATE, OP_DELETE };

static const int32_t helper_of[] = {
	[OP_LOOKUP] = BPF_FUNC_map_lookup_elem,
	[OP_UPDATE] = BPF_FUNC_map_update_elem,
	[OP_DELETE] = BPF_FUNC_map_delete_elem,
};

/*
 * The program of one operation on map 0: key bytes and value stored on the
 * stack, r1-r4 set, the helper called; a lookup returns the u64 value or
 * MISS, the others the helper's result.
 */
static struct sl_prog *op_prog(struct sl_map *map, enum op op, const uint8_t *key, uint32_t ks,
			       int32_t val, int32_t flags)
{
	struct bpf_insn insns[96];
	uint32_t n = 0, call;
	char log[256];
	struct sl_prog *p;

	for (uint32_t i = 0, w; i < ks; i += w) {   /* odd values: 4- and 2-byte stores where they fit */
		int32_t imm = 0;

		w = (val & 1) && i + 4 <= ks ? 4 : (val & 1) && i + 2 <= ks ? 2 : 1;
		memcpy(&imm, key + i, w);
		insns[n++] = I(BPF_ST | BPF_MEM | (w == 4 ? BPF_W : w == 2 ? BPF_H : BPF_B), 10, 0,
			       (int16_t)(KEY_OFF + (int)i), imm);
	}
	insns[n++] = I(BPF_ST | BPF_MEM | BPF_DW, 10, 0, -8, val);
	insns[n++] = I(BPF_ALU64 | BPF_MOV | BPF_X, 2, 10, 0, 0);
	insns[n++] = I(BPF_ALU64 | BPF_ADD | BPF_K, 2, 0, 0, KEY_OFF);
	insns[n++] = I(BPF_ALU64 | BPF_MOV | BPF_X, 3, 10, 0, 0);
	insns[n++] = I(BPF_ALU64 | BPF_ADD | BPF_K, 3, 0, 0, -8);
	insns[n++] = I(BPF_ALU64 | BPF_MOV | BPF_K, 4, 0, 0, flags);
	insns[n++] = I(BPF_LD | BPF_IMM | BPF_DW, 1, BPF_PSEUDO_MAP_IDX, 0, 0);
	insns[n++] = I(0, 0, 0, 0, 0);
	call = n;
	insns[n++] = I(BPF_JMP | BPF_CALL, 0, 0, 0, helper_of[op]);
	if (op == OP_LOOKUP) {
		insns[n++] = I(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 2, 0);
		insns[n++] = I(BPF_LDX | BPF_MEM | BPF_DW, 0, 0, 0, 0);
		insns[n++] = I(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
		insns[n++] = I(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, (int32_t)MISS);
	}
	insns[n++] = I(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
	p = sl_prog_from_raw(insns, n * sizeof(*insns), SL_PROG_RAW, 64, log, sizeof(log));
	if (!p)
		FATAL("sl_prog_from_raw: %s", log);
	p->maps = calloc(1, sizeof(*p->maps));
	if (!p->maps)
		FATAL("out of memory");
	p->maps[0] = map;
	p->n_maps = 1;
	p->aux[call].map = map;   /* what the verifier records: the one map of the call */
	p->verified = true;       /* hand-written valid programs (test code only) */
	return p;
}

/* the model's r0 for one operation (present / val: the model's map, updated) */
static uint64_t model(enum op op, int32_t flags, int k, int32_t v, bool *present, int32_t *val)
{
	switch (op) {
	case OP_LOOKUP:
		return present[k] ? (uint64_t)(int64_t)val[k] : MISS;
	case OP_DELETE:
		if (!present[k])
			return (uint64_t)-ENOENT;
		present[k] = false;
		return 0;
	default:
		if (flags == BPF_NOEXIST && present[k])
			return (uint64_t)-EEXIST;
		if (flags == BPF_EXIST && !present[k])
			return (uint64_t)-ENOENT;
		present[k] = true;
		val[k] = v;
		return 0;
	}
}

static const void *fn_of(const struct sl_map_jit_fns *f, enum op op)
{
	return op == OP_LOOKUP ? (const void *)(uintptr_t)f->lookup :
	       op == OP_UPDATE ? (const void *)(uintptr_t)f->update :
				 (const void *)(uintptr_t)f->delete;
}

/* lookups in the four hash types are emitted in place (jit/map_hash.c) */
static bool hash_inlined(uint32_t type)
{
	return type == BPF_MAP_TYPE_HASH || type == BPF_MAP_TYPE_LRU_HASH ||
	       type == BPF_MAP_TYPE_PERCPU_HASH || type == BPF_MAP_TYPE_LRU_PERCPU_HASH;
}

static bool has(const struct sl_jit *jit, const void *bytes, size_t n);

static void run_sequence(uint32_t type, uint32_t ks, struct sl_rng *rng)
{
	struct sl_map_def def = { type, ks, 8, 2 * NKEYS, 0 };
	struct sl_map *mi = sl_map_create("interp", &def, 1), *mj = sl_map_create("jit", &def, 1);
	struct sl_jit_opts jo = { .sz = sizeof(jo) };
	uint8_t keys[NKEYS][64];
	bool present[NKEYS] = { false };
	int32_t val[NKEYS] = { 0 };
	struct sl_map_jit_fns f;
	char log[256];

	if (!mi || !mj)
		FATAL("map type %u key size %u: %s", type, ks, strerror(errno));
	sl_map_jit_fns(mj, &f);
	for (int k = 0; k < NKEYS; k++) {   /* key k: the base with byte (7k mod ks) changed */
		for (uint32_t i = 0; i < ks; i++)
			keys[k][i] = (uint8_t)(0x31 + 5 * i);
		if (k)
			keys[k][(7u * (uint32_t)k) % ks] ^= (uint8_t)(0x10 * k + 1);
	}
	for (int i = 0; i < OPS; i++) {
		enum op op = (enum op)sl_rng_below(rng, 3);
		int k = (int)sl_rng_below(rng, ks == 1 ? 2 : NKEYS);   /* 1 byte: two keys differ */
		int32_t flags = op == OP_UPDATE ? (int32_t)sl_rng_below(rng, 3) : 0;
		int32_t v = (int32_t)sl_rng_below(rng, 1u << 30);
		struct sl_prog *pi = op_prog(mi, op, keys[k], ks, v, flags);
		struct sl_prog *pj = op_prog(mj, op, keys[k], ks, v, flags);
		struct sl_jit *jit = sl_jit_compile(pj, &jo, log, sizeof(log));
		uint64_t want = model(op, flags, k, v, present, val), ri, rj;

		if (!jit)
			FATAL("sl_jit_compile: %s", log);
		ri = sl_vm_exec(pi, NULL, NULL, NULL);
		rj = sl_jit_entry(jit)(NULL, 0);
		CHECK(ri == want && rj == want,
		      "type %u key size %u op %d (flags %d) on key %d: interpreter 0x%" PRIx64
		      ", jit 0x%" PRIx64 ", model 0x%" PRIx64, type, ks, i, flags, k, ri, rj, want);
		if (op == OP_LOOKUP && hash_inlined(type))
			CHECK(!sl_test_jit_calls(jit, fn_of(&f, op)) && has(jit, "\x0f\x38", 2),
			      "type %u key size %u: lookup not inlined (a call, or no crc32)", type, ks);
		else
			CHECK(sl_test_jit_calls(jit, fn_of(&f, op)),
			      "type %u key size %u: op %d does not call the map's function directly",
			      type, ks, (int)op);
		sl_jit_free(jit);
		sl_prog_free(pi);
		sl_prog_free(pj);
	}
	CHECK_EQ(sl_map_ctl_count(mi), sl_map_ctl_count(mj));
	sl_map_destroy(mi);
	sl_map_destroy(mj);
}

#define AMAX 1000   /* max_entries: "cmp eax, 1000" is 81 f8 e8 03 00 00 */

enum form { F_CONST, F_NULL, F_REG, F_MEM, F_RANGE };

/* One shape: its key instructions (before "r2 = r10 - 4; r1 = map; call"), its form, and r0. */
struct shape {
	const char *name;
	enum form form;
	int32_t k;            /* the constant of the const shapes */
	uint32_t n;
	struct bpf_insn pre[6];
	bool add_r6;          /* r0 on a hit: the element + r6 */
	uint32_t mask;        /* the key is the input word & mask (a byte or half load), 0: all */
};

#define LD_IDX(r) I(BPF_LDX | BPF_MEM | BPF_W, r, 1, 0, 0)   /* rN = *(u32 *)(r1 + 0): unknown */
#define ST_KEY(r) I(BPF_STX | BPF_MEM | BPF_W, 10, r, -4, 0)
#define LD_B(r) I(BPF_LDX | BPF_MEM | BPF_B, r, 1, 0, 0)     /* rN = *(u8 *)(r1 + 0) */
#define LD_H(r) I(BPF_LDX | BPF_MEM | BPF_H, r, 1, 0, 0)     /* rN = *(u16 *)(r1 + 0) */

static const struct shape shapes[] = {
	{ "immediate", F_CONST, 7, 1, { I(BPF_ST | BPF_MEM | BPF_W, 10, 0, -4, 7) }, false },
	{ "last", F_CONST, AMAX - 1, 1, { I(BPF_ST | BPF_MEM | BPF_W, 10, 0, -4, AMAX - 1) }, false },
	{ "register constant", F_CONST, 12, 2, { I(BPF_ALU64 | BPF_MOV | BPF_K, 3, 0, 0, 12),
						  I(BPF_STX | BPF_MEM | BPF_W, 10, 3, -4, 0) }, false },
	{ "out of range", F_NULL, AMAX, 1, { I(BPF_ST | BPF_MEM | BPF_W, 10, 0, -4, AMAX) }, false },
	{ "register", F_REG, 0, 2, { LD_IDX(1), ST_KEY(1) }, false },
	/* a byte below max_entries (1000): no bound check; r0 takes the mov + shl form */
	{ "byte register", F_RANGE, 0, 2, { LD_B(1), ST_KEY(1) }, false, 0xff },
	{ "byte register r0", F_RANGE, 0, 2, { LD_B(0), ST_KEY(0) }, false, 0xff },
	{ "byte register r6", F_RANGE, 0, 2, { LD_B(6), ST_KEY(6) }, true, 0xff },
	/* its near misses: a half word can reach 1000, a jump lands between load and store */
	{ "half register", F_REG, 0, 2, { LD_H(1), ST_KEY(1) }, false, 0xffff },
	{ "byte, jump between", F_REG, 0, 3, { LD_B(1), I(BPF_JMP | BPF_JNE | BPF_K, 1, 0, 0, 77),
					       ST_KEY(1) }, false, 0xff },
	/* near misses */
	{ "slot overwritten", F_MEM, 0, 3, { LD_IDX(1), ST_KEY(1),
					     I(BPF_ST | BPF_MEM | BPF_H, 10, 0, -4, 5) }, false },
	{ "register changed", F_MEM, 0, 3, { LD_IDX(6), ST_KEY(6),
					     I(BPF_ALU64 | BPF_ADD | BPF_K, 6, 0, 0, 1) }, true },
	{ "jump between", F_MEM, 0, 4, { LD_IDX(1), ST_KEY(1),
					 I(BPF_JMP | BPF_JNE | BPF_K, 1, 0, 1, 77777),
					 I(BPF_ST | BPF_MEM | BPF_W, 10, 0, -4, 3) }, false },
};

/*
 * The null check after the lookup: fused into it ("if r0 == 0" / "if r0 != 0"
 * right after the call), and its near misses: an instruction between, JGT
 * instead of JNE, the check a jump target (taken when input word 1 is JT_KEY).
 */
enum nchk { NC_JEQ, NC_JNE, NC_GAP, NC_JGT, NC_TARGET, NC_COUNT };
static const char *const nchk_names[NC_COUNT] = { "jeq", "jne", "gap", "jgt", "target" };
#define JT_KEY 12345

/* The instructions after the call: the null check @p nc, the hit (*r0 (+ r6)), MISS. */
static uint32_t array_tail(struct bpf_insn *insns, uint32_t n, enum nchk nc, bool add_r6)
{
	int16_t hit = add_r6 ? 3 : 2;   /* instructions of the hit path */

	if (nc == NC_GAP)
		insns[n++] = I(BPF_ALU64 | BPF_MOV | BPF_K, 3, 0, 0, 1);
	if (nc == NC_JNE || nc == NC_JGT) {
		insns[n++] = I(BPF_JMP | (nc == NC_JNE ? BPF_JNE : BPF_JGT) | BPF_K, 0, 0, 2, 0);
		insns[n++] = I(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, (int32_t)MISS);
		insns[n++] = I(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
	} else {
		insns[n++] = I(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, hit, 0);
	}
	insns[n++] = I(BPF_LDX | BPF_MEM | BPF_DW, 0, 0, 0, 0);
	if (add_r6)
		insns[n++] = I(BPF_ALU64 | BPF_ADD | BPF_X, 0, 6, 0, 0);
	insns[n++] = I(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
	if (nc != NC_JNE && nc != NC_JGT) {
		insns[n++] = I(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, (int32_t)MISS);
		insns[n++] = I(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
	}
	return n;
}

/* The program of @p sh on map 0; the shape "key in memory" (@p sh NULL): r2 = r1, the input. */
static struct sl_prog *array_prog(struct sl_map *map, const struct shape *sh, enum nchk nc)
{
	struct bpf_insn insns[40];
	uint32_t n = 0, call, jt = 0;
	char log[256];
	struct sl_prog *p;

	if (nc == NC_TARGET) {   /* r0 = 0; if input word 1 == JT_KEY goto the null check */
		insns[n++] = I(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 0);
		insns[n++] = I(BPF_LDX | BPF_MEM | BPF_W, 4, 1, 4, 0);
		jt = n++;
	}
	for (uint32_t i = 0; sh && i < sh->n; i++)
		insns[n++] = sh->pre[i];
	if (sh) {
		insns[n++] = I(BPF_ALU64 | BPF_MOV | BPF_X, 2, 10, 0, 0);
		insns[n++] = I(BPF_ALU64 | BPF_ADD | BPF_K, 2, 0, 0, -4);
	} else {
		insns[n++] = I(BPF_ALU64 | BPF_MOV | BPF_X, 2, 1, 0, 0);
	}
	insns[n++] = I(BPF_LD | BPF_IMM | BPF_DW, 1, BPF_PSEUDO_MAP_IDX, 0, 0);
	insns[n++] = I(0, 0, 0, 0, 0);
	call = n;
	insns[n++] = I(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_map_lookup_elem);
	if (nc == NC_TARGET)
		insns[jt] = I(BPF_JMP | BPF_JEQ | BPF_K, 4, 0, (int16_t)(call - jt), JT_KEY);
	n = array_tail(insns, n, nc, sh && sh->add_r6);
	p = sl_prog_from_raw(insns, n * sizeof(*insns), SL_PROG_RAW, 64, log, sizeof(log));
	if (!p || !(p->maps = calloc(1, sizeof(*p->maps))))
		FATAL("array program: %s", p ? "out of memory" : log);
	p->maps[0] = map;
	p->n_maps = 1;
	p->aux[call].map = map;
	p->verified = true;
	return p;
}

/* the model: what the shape's key is for input @p in, and r0 from the map's C lookup */
static uint64_t array_model(struct sl_map *map, const struct shape *sh, const uint32_t *inp,
			    enum nchk nc)
{
	uint32_t in = inp[0];
	uint32_t key = !sh ? in : sh->form <= F_NULL ? (uint32_t)sh->k : sh->mask ? in & sh->mask : in;
	const uint64_t *v;

	if (sh && sh->pre[sh->n - 1].code == (BPF_ST | BPF_MEM | BPF_H))
		key = (key & ~0xffffu) | 5u;   /* the low half overwritten */
	if (nc == NC_TARGET && inp[1] == JT_KEY)
		return MISS;                   /* r0 = 0, straight to the null check */
	v = sl_map_lookup_elem(map, &key);
	return !v ? MISS : *v + (sh && sh->add_r6 ? (uint64_t)(sh->mask ? in & sh->mask : in + 1) : 0);
}

static bool has(const struct sl_jit *jit, const void *bytes, size_t n)
{
	return memmem(sl_jit_code(jit), sl_jit_code_size(jit), bytes, n) != NULL;
}

/* Does the code of @p sh have its form (see the top of the file)? */
static bool form_ok(const struct sl_jit *jit, struct sl_map *map, enum form f, int32_t k)
{
	static const uint8_t cmp[] = { 0x81, 0xf8, 0xe8, 0x03, 0x00, 0x00 };   /* cmp eax, 1000 */
	static const uint8_t mem[] = { 0x8b, 0x06, 0x81, 0xf8 };   /* mov eax, [rsi]; cmp eax */
	static const uint8_t reg[] = { 0x89, 0xf8, 0x81, 0xf8 };   /* mov eax, edi; cmp eax */
	uintptr_t elem = (uintptr_t)sl_map_array_base(map, 0) +
			 (uintptr_t)(uint32_t)k * sl_map_array_stride(map);

	switch (f) {
	case F_CONST:
		return !has(jit, cmp, sizeof(cmp)) && has(jit, &elem, sizeof(elem));
	case F_NULL:
		return !has(jit, cmp, sizeof(cmp)) && !has(jit, &elem, sizeof(elem));
	case F_REG:
		return has(jit, reg, sizeof(reg)) && !has(jit, mem, sizeof(mem));
	case F_RANGE:
		return !has(jit, cmp, sizeof(cmp)) && !has(jit, mem, sizeof(mem)) && !has(jit, reg, sizeof(reg));
	default:
		return has(jit, mem, sizeof(mem));
	}
}

/*
 * Is the null check @p nc fused as expected: JEQ "jb hit; xor eax, eax; jmp
 * rel32", JNE "add rax, r11; jmp rel32" (bound-checked forms; the constant
 * ones keep a test), neither for the near misses?
 */
static bool nchk_ok(const struct sl_jit *jit, enum form f, enum nchk nc, bool percpu)
{
	static const uint8_t on_null[] = { 0x31, 0xc0, 0xe9 }, on_hit[] = { 0x4c, 0x01, 0xd8, 0xe9 };
	static const uint8_t test[] = { 0x48, 0x85, 0xc0 };

	if (f == F_RANGE && (nc == NC_JEQ || nc == NC_JNE))   /* only the cpu check can say NULL */
		return !has(jit, test, sizeof(test)) &&
		       has(jit, on_null, sizeof(on_null)) == (percpu && nc == NC_JEQ);
	if (f == F_RANGE)
		return true;

	if (f == F_CONST || f == F_NULL)
		return !has(jit, on_null, sizeof(on_null)) && !has(jit, on_hit, sizeof(on_hit));
	if (nc == NC_JEQ)
		return has(jit, on_null, sizeof(on_null)) && !has(jit, test, sizeof(test));
	if (nc == NC_JNE)
		return has(jit, on_hit, sizeof(on_hit)) && !has(jit, test, sizeof(test));
	return !has(jit, on_null, sizeof(on_null)) && !has(jit, on_hit, sizeof(on_hit));
}

/* Shape @p sh (NULL: key in memory) with null check @p nc: its form and 12 inputs. */
static void array_case(struct sl_map *map, const struct shape *sh, enum nchk nc, struct sl_rng *rng)
{
	struct sl_jit_opts jo = { .sz = sizeof(jo) };
	struct sl_prog *p = array_prog(map, sh, nc);
	const char *name = sh ? sh->name : "key in memory";
	uint32_t type = sl_map_get_def(map)->type;
	char log[256];
	struct sl_jit *jit = sl_jit_compile(p, &jo, log, sizeof(log));

	if (!jit)
		FATAL("sl_jit_compile: %s", log);
	CHECK(form_ok(jit, map, sh ? sh->form : F_MEM, sh ? sh->k : 0) &&
	      nchk_ok(jit, sh ? sh->form : F_MEM, nc, sl_map_is_percpu(map)),
	      "type %u shape '%s' check %s: not the expected code", type, name, nchk_names[nc]);
	for (int t = 0; t < 12; t++) {
		uint32_t in[16] = { t < 2 ? (uint32_t)t * (AMAX - 1) : t < 4 ? AMAX + (uint32_t)t :
				    (uint32_t)sl_rng_below(rng, AMAX + AMAX / 4), t % 3 == 2 ? JT_KEY : 0 };
		uint64_t want = array_model(map, sh, in, nc);
		uint64_t ri = sl_vm_exec(p, in, NULL, NULL), rj = sl_jit_entry(jit)(in, 64);

		CHECK(ri == want && rj == want, "type %u shape '%s' check %s input %u: interpreter 0x%"
		      PRIx64 ", jit 0x%" PRIx64 ", model 0x%" PRIx64, type, name, nchk_names[nc],
		      in[0], ri, rj, want);
	}
	sl_jit_free(jit);
	sl_prog_free(p);
}

/* @p ncpus 2: a PERCPU_ARRAY of two worker slots, run as worker 1 (cpu * slot added) */
static void array_shapes(uint32_t type, unsigned ncpus, struct sl_rng *rng)
{
	struct sl_map_def def = { type, 4, 8, AMAX, 0 };
	struct sl_map *map = sl_map_create("array", &def, ncpus);
	size_t nsh = sizeof(shapes) / sizeof(shapes[0]);

	if (!map)
		FATAL("array map type %u: %s", type, strerror(errno));
	for (uint32_t i = 0; i < AMAX; i++)   /* this worker's element i: 7i + 3 */
		*(uint64_t *)sl_map_lookup_elem(map, &i) = 7ull * i + 3;
	for (size_t s = 0; s <= nsh; s++)
		for (int nc = 0; nc < NC_COUNT; nc++)
			array_case(map, s < nsh ? &shapes[s] : NULL, (enum nchk)nc, rng);
	sl_map_destroy(map);
}

/*
 * Inlined hash lookups over full chains: HCHAIN random keys in a map of
 * HCHAIN entries (2 * HCHAIN buckets: many chains of two or more), each
 * looked up by JIT code ("r2 = r1; r1 = map; call; exit", the key in the
 * context) and by the map's C lookup: the same element for every key, and
 * NULL for every key with one byte changed that the map does not hold.
 */
#define HCHAIN 200

static void hash_chains(uint32_t type, uint32_t ks, struct sl_rng *rng)
{
	struct sl_map_def def = { type, ks, 8, HCHAIN, 0 };
	bool percpu = type == BPF_MAP_TYPE_PERCPU_HASH || type == BPF_MAP_TYPE_LRU_PERCPU_HASH;
	struct sl_map *m = sl_map_create("chains", &def, percpu ? 2 : 1);
	struct bpf_insn insns[] = {
		I(BPF_ALU64 | BPF_MOV | BPF_X, 2, 1, 0, 0),
		I(BPF_LD | BPF_IMM | BPF_DW, 1, BPF_PSEUDO_MAP_IDX, 0, 0),
		I(0, 0, 0, 0, 0),
		I(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_map_lookup_elem),
		I(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
	};
	struct sl_jit_opts jo = { .sz = sizeof(jo) };
	static uint8_t keys[HCHAIN][64];
	uint32_t n = 0, misses = 0;
	struct sl_prog *p;
	struct sl_jit *jit;
	char log[256];

	if (!m)
		FATAL("map type %u key size %u: %s", type, ks, strerror(errno));
	for (uint32_t i = 0; i < HCHAIN && n < (ks == 1 ? 200u : HCHAIN); i++) {
		uint64_t v[2] = { n, n + 1000 };   /* per-CPU: slot 0's and slot 1's */

		for (uint32_t b = 0; b < ks; b++)
			keys[n][b] = (uint8_t)sl_rng_below(rng, 256);
		if (ks == 1)
			keys[n][0] = (uint8_t)i;
		if (sl_map_ctl_update(m, keys[n], v, BPF_NOEXIST) == 0)
			n++;
	}
	p = sl_prog_from_raw(insns, sizeof(insns), SL_PROG_RAW, 64, log, sizeof(log));
	if (!p || !(p->maps = calloc(1, sizeof(*p->maps))))
		FATAL("sl_prog_from_raw: %s", log);
	p->maps[0] = m;
	p->n_maps = 1;
	p->aux[3].map = m;
	p->verified = true;
	if (!(jit = sl_jit_compile(p, &jo, log, sizeof(log))))
		FATAL("sl_jit_compile: %s", log);
	CHECK(!sl_test_jit_calls(jit, (const void *)(uintptr_t)sl_map_jit_lookup_fn(m)),
	      "type %u key size %u: the chain lookup is not inlined", type, ks);
	for (uint32_t i = 0; i < n; i++) {
		uint8_t other[64];
		void *want = sl_map_lookup_elem(m, keys[i]);
		uint64_t got = sl_jit_entry(jit)(keys[i], 0);

		CHECK(want && got == (uint64_t)(uintptr_t)want && *(uint64_t *)want == i,
		      "type %u key size %u key %u: jit %#" PRIx64 ", map %p", type, ks, i, got, want);
		memcpy(other, keys[i], ks);
		other[sl_rng_below(rng, ks)] ^= (uint8_t)(1 + sl_rng_below(rng, 255));
		want = sl_map_lookup_elem(m, other);
		got = sl_jit_entry(jit)(other, 0);
		misses += !want;
		CHECK(got == (uint64_t)(uintptr_t)want, "type %u key size %u, key %u changed: jit %#"
		      PRIx64 ", map %p", type, ks, i, got, want);
	}
	CHECK(n >= HCHAIN / 2 && misses > 0, "type %u key size %u: %u keys, %u misses", type, ks, n,
	      misses);
	if (percpu) {   /* worker slot 1: its own values; slot 2, not the map's: NULL */
		for (uint32_t slot = 1; slot <= 2; slot++) {
			sl_map_worker_offline();
			if (sl_map_worker_online(slot))
				FATAL("sl_map_worker_online(%u) failed", slot);
			for (uint32_t i = 0; i < n; i++) {
				void *want = sl_map_lookup_elem(m, keys[i]);
				uint64_t got = sl_jit_entry(jit)(keys[i], 0);

				CHECK(got == (uint64_t)(uintptr_t)want &&
				      (slot == 2 ? !want : want && *(uint64_t *)want == i + 1000),
				      "type %u key size %u key %u slot %u: jit %#" PRIx64 ", map %p",
				      type, ks, i, slot, got, want);
			}
		}
		sl_map_worker_offline();
		if (sl_map_worker_online(0))
			FATAL("sl_map_worker_online(0) failed");
	}
	sl_jit_free(jit);
	sl_prog_free(p);
	sl_map_destroy(m);
}

int main(int argc, char **argv)
{
	static const uint32_t types[] = { BPF_MAP_TYPE_HASH, BPF_MAP_TYPE_LRU_HASH,
					  BPF_MAP_TYPE_PERCPU_HASH, BPF_MAP_TYPE_LRU_PERCPU_HASH };
	static const uint32_t sizes[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 13, 16, 20, 24, 36, 40, 52, 64 };
	uint64_t seed = argc > 1 ? strtoull(argv[1], NULL, 0) : 20261206;
	struct sl_rng rng = sl_rng_make(seed, SL_RNG_XORSHIFT_STAR);

	sl_test_seed(seed);
	if (sl_map_worker_online(0))
		FATAL("sl_map_worker_online failed");
	for (size_t t = 0; t < sizeof(types) / sizeof(types[0]); t++)
		for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++)
			run_sequence(types[t], sizes[s], &rng);
	for (size_t t = 0; t < sizeof(types) / sizeof(types[0]); t++)
		for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++)
			hash_chains(types[t], sizes[s], &rng);
	array_shapes(BPF_MAP_TYPE_ARRAY, 1, &rng);
	array_shapes(BPF_MAP_TYPE_PERCPU_ARRAY, 1, &rng);
	sl_map_worker_offline();
	if (sl_map_worker_online(1))
		FATAL("sl_map_worker_online(1) failed");
	array_shapes(BPF_MAP_TYPE_PERCPU_ARRAY, 2, &rng);
	sl_map_worker_offline();
	return sl_test_done("jit-map-calls");
}
