/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Interpreter pieces the .data suite cannot express: bpf_tail_call through a
 * PROG_ARRAY (hit, empty slot, out of range, the 33-call limit) on both
 * modes, sl_prog_from_raw() errors and sl_prog_type_from_section().
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl_maps.h"
#include "sl_vm.h"
#include "sl_test.h"

#define I(c, d, s, o, i) { .code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i) }
#define LDDW_MAP(d, idx) I(BPF_LD | BPF_IMM | BPF_DW, d, BPF_PSEUDO_MAP_IDX, 0, idx), I(0, 0, 0, 0, 0)

static struct sl_prog *mk(const struct bpf_insn *in, size_t n, struct sl_map *map)
{
	struct sl_prog *p = sl_prog_from_raw(in, n * sizeof(*in), SL_PROG_RAW, 8, NULL, 0);

	if (p && map) {
		p->maps = calloc(1, sizeof(*p->maps));
		p->maps[0] = map;
		p->n_maps = 1;
	}
	/* prepared here as the engine prepares programs: a tail call never prepares its target */
	if (p && sl_vm_prepare(p, NULL, 0)) {
		sl_prog_free(p);
		p = NULL;
	}
	return p;
}

static uint64_t run(struct sl_prog *p, uint64_t *mem, bool checked, int *err)
{
	struct sl_vm_run_opts o = { .sz = sizeof(o), .checked = checked, .mem = mem, .mem_len = 8 };
	struct sl_vm_result res;
	uint64_t r0 = sl_vm_exec(p, mem, &o, &res);

	*err = res.err;
	if (res.err)
		printf("  (run error: %s)\n", res.msg);
	return r0;
}

/* Tail calls: r3 = index; on failure r0 = -ENOENT and the next instruction runs. */
static void test_tail_calls(void)
{
	struct sl_map_def def = { BPF_MAP_TYPE_PROG_ARRAY, 4, 4, 4, 0 };
	struct sl_map *map = sl_map_create("jmp", &def, 1);
	const struct bpf_insn target[] = { I(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 42),
					   I(BPF_JMP | BPF_EXIT, 0, 0, 0, 0) };
	/* counter: *(u64 *)r1 += 1, then tail call slot 0 (itself) */
	const struct bpf_insn self[] = {
		I(BPF_ALU64 | BPF_MOV | BPF_X, 6, 1, 0, 0),
		I(BPF_LDX | BPF_MEM | BPF_DW, 0, 6, 0, 0),
		I(BPF_ALU64 | BPF_ADD | BPF_K, 0, 0, 0, 1),
		I(BPF_STX | BPF_MEM | BPF_DW, 6, 0, 0, 0),
		I(BPF_ALU64 | BPF_MOV | BPF_X, 1, 6, 0, 0),
		LDDW_MAP(2, 0),
		I(BPF_ALU64 | BPF_MOV | BPF_K, 3, 0, 0, 0),
		I(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_tail_call),
		I(BPF_LDX | BPF_MEM | BPF_DW, 0, 6, 0, 0),
		I(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
	};
	struct sl_prog *t, *s, *callers[3];
	uint64_t mem;
	int err;

	CHECK(map, "PROG_ARRAY: %s", strerror(errno));
	if (!map)
		return;
	t = mk(target, 2, NULL);
	s = mk(self, sizeof(self) / sizeof(self[0]), map);
	for (int idx = 0; idx < 3; idx++) {
		const int32_t slot[3] = { 1, 2, 100 };  /* set, empty, out of range */
		const struct bpf_insn caller[] = {
			LDDW_MAP(2, 0),
			I(BPF_ALU64 | BPF_MOV | BPF_K, 3, 0, 0, slot[idx]),
			I(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_tail_call),
			I(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),   /* r0 = -ENOENT when it falls through */
		};
		callers[idx] = mk(caller, 5, map);
	}
	CHECK(!sl_map_prog_array_set(map, 1, t, 1), "prog_array_set");
	for (int checked = 0; checked < 2; checked++) {
		CHECK(run(callers[0], &mem, checked, &err) == 42 && !err, "tail call to slot 1 (checked %d)", checked);
		CHECK(run(callers[1], &mem, checked, &err) == (uint64_t)-ENOENT && !err,
		      "empty slot falls through (checked %d)", checked);
		CHECK(run(callers[2], &mem, checked, &err) == (uint64_t)-ENOENT && !err,
		      "index out of range falls through (checked %d)", checked);
	}
	CHECK(!sl_map_prog_array_set(map, 0, s, 2), "prog_array_set self");
	for (int checked = 0; checked < 2; checked++) {
		mem = 0;
		/* the first run plus 33 tail calls, then the 34th call falls through */
		CHECK(run(s, &mem, checked, &err) == 34 && mem == 34 && !err,
		      "tail call limit: counter %llu (checked %d)", (unsigned long long)mem, checked);
	}
	sl_map_prog_array_set(map, 0, NULL, 0);
	sl_map_prog_array_set(map, 1, NULL, 0);
	for (int i = 0; i < 3; i++) {
		callers[i]->n_maps = 0;
		sl_prog_free(callers[i]);
	}
	s->n_maps = 0;
	sl_prog_free(s);
	sl_prog_free(t);
	sl_map_destroy(map);
}

static void test_from_raw(void)
{
	uint8_t bytes[16] = { 0xb7, 0x00, 0, 0, 0x2a, 0, 0, 0, 0x95 };
	char log[128];
	struct sl_prog *p;

	p = sl_prog_from_raw(bytes, 16, SL_PROG_RAW, 0, log, sizeof(log));
	CHECK(p && p->n_insns == 2 && p->insns[0].imm == 42 && p->n_subprogs == 1 &&
	      p->subprogs[0].end == 2, "from_raw decodes little-endian instructions");
	sl_prog_free(p);
	errno = 0;
	CHECK(!sl_prog_from_raw(bytes, 12, SL_PROG_RAW, 0, log, sizeof(log)) && errno == EINVAL &&
	      strstr(log, "multiple of 8"), "length 12 rejected: %s", log);
	CHECK(!sl_prog_from_raw(bytes, 0, SL_PROG_RAW, 0, log, sizeof(log)) && errno == EINVAL,
	      "empty program rejected");
	CHECK(!sl_prog_from_raw(bytes, (size_t)(SL_MAX_INSNS + 1) * 8, SL_PROG_RAW, 0, log,
				sizeof(log)) && errno == EINVAL, "oversized program rejected");
}

static void test_sections(void)
{
	static const struct { const char *s; int ret; enum sl_prog_type t; } rows[] = {
		{ "xdp", 0, SL_PROG_XDP }, { "xdp/prog", 0, SL_PROG_XDP },
		{ "xdp.frags", 0, SL_PROG_XDP }, { "xdp.frags/x", 0, SL_PROG_XDP },
		{ "socket", 0, SL_PROG_SOCKET }, { "socket/filter", 0, SL_PROG_SOCKET },
		{ "raw", 0, SL_PROG_RAW }, { "raw/bench", 0, SL_PROG_RAW },
		{ "xdpx", 0, SL_PROG_XDP }, { "xdp_stats1", 0, SL_PROG_XDP },
		{ "xdp_prog_kern", 0, SL_PROG_XDP }, { "socket1", 0, SL_PROG_SOCKET },
		{ "sockets", 0, SL_PROG_SOCKET }, { "raws", -ENOENT, 0 },
		{ "tc", -ENOENT, 0 }, { ".text", -ENOENT, 0 }, { "prog", -ENOENT, 0 },
		{ "xd", -ENOENT, 0 }, { "sock", -ENOENT, 0 }, { "", -ENOENT, 0 },
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		enum sl_prog_type t = SL_PROG_RAW;
		int ret = sl_prog_type_from_section(rows[i].s, &t);

		CHECK(ret == rows[i].ret && (ret || t == rows[i].t), "section '%s': %d type %d",
		      rows[i].s, ret, t);
	}
}

int main(void)
{
	test_tail_calls();
	test_from_raw();
	test_sections();
	return sl_test_done("interp");
}
