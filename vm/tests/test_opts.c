/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Options structs that can grow (sl_opts.h): sz checked as libbpf's
 * OPTS_VALID in sl_obj_open_mem() and sl_vm_exec(): a longer struct is
 * accepted only with its unknown bytes zero, a shorter one (an older
 * caller) gets the defaults for the fields it lacks, sz 0 is this layout.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "sl_opts.h"
#include "sl_vm.h"
#include "sl_test.h"

/* A caller compiled against a newer header: one more field after ours. */
struct newer_run_opts {
	struct sl_vm_run_opts o;
	uint64_t future;
};

static void test_valid(void)
{
	struct newer_run_opts n = { .o.sz = sizeof(n) };

	CHECK(sl_opts_valid(NULL, 8), "NULL options are valid");
	CHECK(sl_opts_valid(&n, sizeof(n.o)), "longer struct, unknown bytes zero");
	n.future = 1;
	CHECK(!sl_opts_valid(&n, sizeof(n.o)), "longer struct, unknown byte set");
	n.o.sz = 0;
	CHECK(sl_opts_valid(&n, sizeof(n.o)), "sz 0: this layout");
	n.o.sz = 3;
	CHECK(!sl_opts_valid(&n, sizeof(n.o)), "sz smaller than sz itself");
}

static void test_obj_open(void)
{
	struct { struct sl_obj_opts o; uint64_t future; } n = { .o.sz = sizeof(n), .future = 7 };
	char log[256] = "";

	errno = 0;
	CHECK(!sl_obj_open_mem("x", 1, "t.o", &n.o, log, sizeof(log)) && errno == EINVAL,
	       "sl_obj_open_mem refuses unknown nonzero option bytes");
	CHECK(strstr(log, "t.o: sl_obj_opts: sz") != NULL, "its log line names sl_obj_opts");
	n.future = 0;
	log[0] = '\0';
	CHECK(!sl_obj_open_mem("x", 1, "t.o", &n.o, log, sizeof(log)) &&
	       !strstr(log, "sl_obj_opts"), "zero unknown bytes: the options pass (the ELF fails)");
}

static void test_vm_exec(void)
{
	/* r0 = r2: the mem_len a SL_PROG_RAW run passes */
	static const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_X, .dst_reg = 0, .src_reg = 2 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	struct sl_prog *p = sl_prog_from_raw(insns, sizeof(insns), SL_PROG_RAW, 0, NULL, 0);
	struct newer_run_opts n = { .o = { .sz = sizeof(n), .mem_len = 99 }, .future = 1 };
	struct sl_vm_run_opts old = { .sz = offsetof(struct sl_vm_run_opts, mem), .mem_len = 99 };
	struct sl_vm_result res;
	uint64_t r0;

	CHECK(p && !sl_vm_prepare(p, NULL, 0), "program built");
	if (!p)
		return;
	sl_vm_exec(p, NULL, &n.o, &res);
	CHECK(res.err == -EINVAL && strstr(res.msg, "sl_vm_run_opts"), "unknown option byte set");
	n.future = 0;
	r0 = sl_vm_exec(p, NULL, &n.o, &res);
	CHECK(!res.err && r0 == 99, "longer struct with zero tail runs");
	r0 = sl_vm_exec(p, NULL, &old, &res);
	CHECK(!res.err && r0 == 0, "shorter struct: mem_len past its sz is not read");
	old.sz = 0;
	r0 = sl_vm_exec(p, NULL, &old, &res);
	CHECK(!res.err && r0 == 99, "sz 0: this layout");
	sl_prog_free(p);
}

int main(void)
{
	test_valid();
	test_obj_open();
	test_vm_exec();
	return sl_test_done("opts");
}
