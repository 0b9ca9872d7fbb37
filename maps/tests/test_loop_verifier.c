/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bpf_loop and BPF_PSEUDO_FUNC on hand-assembled raw programs: what the
 * verifier must refuse (with the kernel's reason), and what it accepts
 * must give the same result in the interpreter, the checked interpreter
 * (which refuses callbacks at decode time) and the JIT.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sl_jit.h"
#include "sl_vm.h"
#include "sl_test.h"

#define I(c, d, s, o, i) ((struct bpf_insn){ (c), (d), (s), (o), (i) })
#define MOV_K(d, k) I(BPF_ALU64 | BPF_MOV | BPF_K, d, 0, 0, k)
#define MOV_X(d, s) I(BPF_ALU64 | BPF_MOV | BPF_X, d, s, 0, 0)
#define ADD_K(d, k) I(BPF_ALU64 | BPF_ADD | BPF_K, d, 0, 0, k)
#define ADD_X(d, s) I(BPF_ALU64 | BPF_ADD | BPF_X, d, s, 0, 0)
#define LDX_DW(d, s, o) I(BPF_LDX | BPF_MEM | BPF_DW, d, s, o, 0)
#define STX_DW(d, s, o) I(BPF_STX | BPF_MEM | BPF_DW, d, s, o, 0)
#define ST_DW(d, o, k) I(BPF_ST | BPF_MEM | BPF_DW, d, 0, o, k)
#define FUNC(d, rel, hi) I(BPF_LD | BPF_IMM | BPF_DW, d, BPF_PSEUDO_FUNC, 0, rel), I(0, 0, 0, 0, hi)
#define CALL(n) I(BPF_JMP | BPF_CALL, 0, 0, 0, n)
#define EXIT() I(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

struct vcase {
	const char *name;
	struct bpf_insn insns[24];
	unsigned n;
	const char *error;    /* NULL: must verify */
	uint64_t r0;          /* when it verifies */
};

/* NAME, result or error, then the program: main, then the callback */
#define SHORT(name, cb_r4, err, r0, ...) \
	{ name, { MOV_K(1, 7), FUNC(2, 5, 0), MOV_K(3, 0), MOV_K(4, cb_r4), CALL(181), EXIT(), \
	  __VA_ARGS__ }, 0, err, r0 }

static struct vcase cases[] = {
	/* fp-8 = 0; r0 = bpf_loop(5, cb, fp-8, 0) + fp-8; cb: *(u64 *)r2 += r1 */
	{ "sum of indexes", { ST_DW(10, -8, 0), MOV_K(1, 5), FUNC(2, 8, 0), MOV_X(3, 10),
	  ADD_K(3, -8), MOV_K(4, 0), CALL(181), LDX_DW(1, 10, -8), ADD_X(0, 1), EXIT(),
	  LDX_DW(3, 2, 0), ADD_X(3, 1), STX_DW(2, 3, 0), MOV_K(0, 0), EXIT() }, 16, NULL,
	  5 + (0 + 1 + 2 + 3 + 4) },
	SHORT("NULL context", 0, NULL, 7, MOV_K(0, 0), EXIT()),
	SHORT("stop at index 3", 0, NULL, 4, MOV_K(0, 0), I(BPF_JMP | BPF_JNE | BPF_K, 1, 0, 1, 3),
	      MOV_K(0, 1), EXIT()),
	SHORT("flags", 1, NULL, (uint64_t)-EINVAL, MOV_K(0, 0), EXIT()),
	SHORT("return 2", 0, "should have been in [0, 1]", 0, MOV_K(0, 2), EXIT()),
	SHORT("return unknown", 0, "should have been in [0, 1]", 0, MOV_X(0, 1), EXIT()),
	SHORT("callback reads r3", 0, "!read_ok", 0, MOV_X(0, 3), EXIT()),
	{ "too many loops", { MOV_K(1, (1 << 23) + 1), FUNC(2, 5, 0), MOV_K(3, 0), MOV_K(4, 0),
	  CALL(181), EXIT(), MOV_K(0, 0), EXIT() }, 9, NULL, (uint64_t)-E2BIG },
	{ "not a function", { MOV_K(1, 7), MOV_K(2, 0), MOV_K(3, 0), MOV_K(4, 0), CALL(181),
	  EXIT() }, 6, "expected=func", 0 },
	{ "ctx not on the stack", { MOV_K(1, 7), FUNC(2, 5, 0), MOV_K(3, 8), MOV_K(4, 0),
	  CALL(181), EXIT(), MOV_K(0, 0), EXIT() }, 9, "expected=fp", 0 },
	{ "arithmetic on a function", { MOV_K(1, 7), FUNC(2, 6, 0), ADD_K(2, 8), MOV_K(3, 0),
	  MOV_K(4, 0), CALL(181), EXIT(), MOV_K(0, 0), EXIT() }, 10, "prohibited", 0 },
	{ "second imm used", { MOV_K(1, 7), FUNC(2, 5, 1), MOV_K(3, 0), MOV_K(4, 0), CALL(181),
	  EXIT(), MOV_K(0, 0), EXIT() }, 9, "reserved field", 0 },
	{ "target out of range", { MOV_K(1, 7), FUNC(2, 40, 0), MOV_K(3, 0), MOV_K(4, 0),
	  CALL(181), EXIT() }, 7, "out of range", 0 },
	{ "function leaked as r0", { FUNC(0, 2, 0), EXIT(), MOV_K(0, 0), EXIT() }, 5,
	  "leaks addr", 0 },
	{ "callback calls itself", { MOV_K(1, 7), FUNC(2, 5, 0), MOV_K(3, 0), MOV_K(4, 0),
	  CALL(181), EXIT(), MOV_K(1, 1), FUNC(2, -2, 0), MOV_K(3, 0), MOV_K(4, 0), CALL(181),
	  MOV_K(0, 0), EXIT() }, 15, "recursive", 0 },
};

/* SHORT cases: main is 7 instructions, then the callback up to the first exit */
static void fill_counts(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct vcase *c = &cases[i];
		unsigned n = 7;

		if (c->n)
			continue;
		while (n < 24 && c->insns[n].code != (BPF_JMP | BPF_EXIT))
			n++;
		c->n = n + 1;
	}
}

static void run_case(const struct vcase *c)
{
	uint8_t mem[8] = { 0 };
	char log[256] = "";
	struct sl_prog *p = sl_prog_from_raw(c->insns, c->n * sizeof(struct bpf_insn), SL_PROG_RAW,
					     sizeof(mem), log, sizeof(log));
	struct sl_vm_run_opts ro = { .sz = sizeof(ro), .mem = mem, .mem_len = sizeof(mem) };
	struct sl_vm_result res;
	struct sl_jit *jit;
	int err;

	if (!p) {
		FAIL("%s: cannot build: %s", c->name, log);
		return;
	}
	err = sl_prog_verify(p, 0, NULL, log, sizeof(log));
	if (c->error) {
		if (!err || !strstr(log, c->error)) {
			FAIL("%s: want refusal '%s', got %d '%s'", c->name, c->error, err,
				log);
		}
		sl_prog_free(p);
		return;
	}
	if (err || sl_vm_prepare(p, log, sizeof(log))) {
		FAIL("%s: refused: %s", c->name, log);
		sl_prog_free(p);
		return;
	}
	CHECK_EQ(sl_vm_exec(p, NULL, &ro, &res), c->r0);
	CHECK_EQ(res.err, 0);
	jit = sl_jit_compile(p, NULL, log, sizeof(log));
	CHECK(jit != NULL);
	if (jit)
		CHECK_EQ(sl_jit_entry(jit)(mem, sizeof(mem)), c->r0);
	sl_jit_free(jit);
	sl_prog_free(p);
}

/*
 * The checked interpreter (unverified programs) runs callbacks checked too,
 * with the caller's memory allowed: same result for a good program, a
 * fault (ending the whole run) for a callback writing past the caller's
 * stack.
 */
static void test_checked(void)
{
	static const struct bpf_insn bad[] = {
		MOV_K(1, 3), FUNC(2, 6, 0), MOV_X(3, 10), ADD_K(3, -8), MOV_K(4, 0), CALL(181),
		EXIT(), ST_DW(2, 64, 1), MOV_K(0, 0), EXIT(),
	};
	const struct vcase *c = &cases[0];
	uint8_t mem[8] = { 0 };
	struct sl_vm_run_opts ro = { .sz = sizeof(ro), .checked = true, .mem = mem,
				     .mem_len = sizeof(mem) };
	struct sl_vm_result res;
	struct sl_prog *p = sl_prog_from_raw(c->insns, c->n * sizeof(struct bpf_insn), SL_PROG_RAW,
					     sizeof(mem), NULL, 0);

	CHECK(p != NULL);
	if (p) {
		CHECK_EQ(sl_vm_exec(p, NULL, &ro, &res), c->r0);
		CHECK_EQ(res.err, 0);
		sl_prog_free(p);
	}
	p = sl_prog_from_raw(bad, sizeof(bad), SL_PROG_RAW, sizeof(mem), NULL, 0);
	CHECK(p != NULL);
	if (p) {
		sl_vm_exec(p, NULL, &ro, &res);
		CHECK_EQ(res.err, -EFAULT);
		CHECK(strstr(res.msg, "out-of-bounds store") != NULL);
		printf("checked fault: %s\n", res.msg);
		sl_prog_free(p);
	}
}

int main(void)
{
	fill_counts();
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		run_case(&cases[i]);
	test_checked();
	return sl_test_done("maps_loop_verifier");
}
