/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Interpreter, part 1: encoding checks and pre-decoding (control thread),
 * and the sl_vm_exec() entry point.
 *
 * sl_vm_prepare() walks the program once. Each opcode byte has an entry in
 * a 256-slot table (opcode -> handler, which reserved fields must be zero,
 * and how to finish decoding); anything else is rejected with "pc N:
 * reason". The result is an array of struct sl_vm_insn that the run loops
 * (interp_loop.h, instantiated twice: verified and checked) dispatch over
 * with computed gotos. Checks that can be made once here (registers,
 * reserved fields, jump targets, helper ids, lddw pseudo sources) never
 * cost anything at run time.
 *
 * Callbacks: lddw BPF_PSEUDO_FUNC loads the address of a struct
 * sl_callback (in the decoded block) whose call runs the interpreter again
 * from the callback's first instruction, on a stack of its own; bpf_loop
 * calls it. In a checked run the callback runs checked, with the memory
 * of the run that called the helper allowed (interp_checked.c).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl_errlog.h"
#include "sl_helpers.h"
#include "sl_maps.h"
#include "sl_opts.h"
#include "sl_vm.h"
#include "vm_internal.h"

/* Fields an encoding requires to be zero. */
enum {
	Z_SRC = 1u << 0,
	Z_DST = 1u << 1,
	Z_OFF = 1u << 2,
	Z_IMM = 1u << 3,
	W_DST = 1u << 4,  /* writes dst: dst must not be r10 */
};

/* How decoding finishes after the table lookup. */
enum dec_kind {
	K_BAD = 0,   /* unknown opcode */
	K_PLAIN,     /* nothing more */
	K_SIGNED,    /* div/mod: off 0 unsigned, 1 signed (next op) */
	K_MOVX,      /* mov reg: off 0, or 8/16/32 for movsx */
	K_END,       /* le/be/bswap: imm 16/32/64 */
	K_JA,        /* ja: target pc + 1 + off */
	K_JA32,      /* gotol: target pc + 1 + imm */
	K_JCOND,     /* conditional jump: target pc + 1 + off */
	K_CALL,      /* helper or local call */
	K_ATOMIC,    /* imm selects the operation */
	K_LDDW,      /* 16-byte constant load */
	K_LDABS,     /* legacy packet load */
};

struct opdesc {
	uint16_t op;
	uint8_t zero;  /* Z_* and W_DST */
	uint8_t kind;  /* enum dec_kind */
};

#define ALU_ENTRIES(CLS, W) \
	[CLS | BPF_ADD | BPF_K] = { SL_VM_OP_ADD##W##_K, Z_SRC | Z_OFF | W_DST, K_PLAIN }, \
	[CLS | BPF_ADD | BPF_X] = { SL_VM_OP_ADD##W##_X, Z_IMM | Z_OFF | W_DST, K_PLAIN }, \
	[CLS | BPF_SUB | BPF_K] = { SL_VM_OP_SUB##W##_K, Z_SRC | Z_OFF | W_DST, K_PLAIN }, \
	[CLS | BPF_SUB | BPF_X] = { SL_VM_OP_SUB##W##_X, Z_IMM | Z_OFF | W_DST, K_PLAIN }, \
	[CLS | BPF_MUL | BPF_K] = { SL_VM_OP_MUL##W##_K, Z_SRC | Z_OFF | W_DST, K_PLAIN }, \
	[CLS | BPF_MUL | BPF_X] = { SL_VM_OP_MUL##W##_X, Z_IMM | Z_OFF | W_DST, K_PLAIN }, \
	[CLS | BPF_DIV | BPF_K] = { SL_VM_OP_DIV##W##_K, Z_SRC | W_DST, K_SIGNED }, \
	[CLS | BPF_DIV | BPF_X] = { SL_VM_OP_DIV##W##_X, Z_IMM | W_DST, K_SIGNED }, \
	[CLS | BPF_OR | BPF_K] = { SL_VM_OP_OR##W##_K, Z_SRC | Z_OFF | W_DST, K_PLAIN }, \
	[CLS | BPF_OR | BPF_X] = { SL_VM_OP_OR##W##_X, Z_IMM | Z_OFF | W_DST, K_PLAIN }, \
	[CLS | BPF_AND | BPF_K] = { SL_VM_OP_AND##W##_K, Z_SRC | Z_OFF | W_DST, K_PLAIN }, \
	[CLS | BPF_AND | BPF_X] = { SL_VM_OP_AND##W##_X, Z_IMM | Z_OFF | W_DST, K_PLAIN }, \
	[CLS | BPF_LSH | BPF_K] = { SL_VM_OP_LSH##W##_K, Z_SRC | Z_OFF | W_DST, K_PLAIN }, \
	[CLS | BPF_LSH | BPF_X] = { SL_VM_OP_LSH##W##_X, Z_IMM | Z_OFF | W_DST, K_PLAIN }, \
	[CLS | BPF_RSH | BPF_K] = { SL_VM_OP_RSH##W##_K, Z_SRC | Z_OFF | W_DST, K_PLAIN }, \
	[CLS | BPF_RSH | BPF_X] = { SL_VM_OP_RSH##W##_X, Z_IMM | Z_OFF | W_DST, K_PLAIN }, \
	[CLS | BPF_NEG | BPF_K] = { SL_VM_OP_NEG##W, Z_SRC | Z_OFF | Z_IMM | W_DST, K_PLAIN }, \
	[CLS | BPF_MOD | BPF_K] = { SL_VM_OP_MOD##W##_K, Z_SRC | W_DST, K_SIGNED }, \
	[CLS | BPF_MOD | BPF_X] = { SL_VM_OP_MOD##W##_X, Z_IMM | W_DST, K_SIGNED }, \
	[CLS | BPF_XOR | BPF_K] = { SL_VM_OP_XOR##W##_K, Z_SRC | Z_OFF | W_DST, K_PLAIN }, \
	[CLS | BPF_XOR | BPF_X] = { SL_VM_OP_XOR##W##_X, Z_IMM | Z_OFF | W_DST, K_PLAIN }, \
	[CLS | BPF_MOV | BPF_K] = { SL_VM_OP_MOV##W##_K, Z_SRC | Z_OFF | W_DST, K_PLAIN }, \
	[CLS | BPF_MOV | BPF_X] = { SL_VM_OP_MOV##W##_X, Z_IMM | W_DST, K_MOVX }, \
	[CLS | BPF_ARSH | BPF_K] = { SL_VM_OP_ARSH##W##_K, Z_SRC | Z_OFF | W_DST, K_PLAIN }, \
	[CLS | BPF_ARSH | BPF_X] = { SL_VM_OP_ARSH##W##_X, Z_IMM | Z_OFF | W_DST, K_PLAIN }

#define JMP_ENTRIES(CLS, W) \
	[CLS | BPF_JEQ | BPF_K] = { SL_VM_OP_JEQ##W##_K, Z_SRC, K_JCOND }, \
	[CLS | BPF_JEQ | BPF_X] = { SL_VM_OP_JEQ##W##_X, Z_IMM, K_JCOND }, \
	[CLS | BPF_JGT | BPF_K] = { SL_VM_OP_JGT##W##_K, Z_SRC, K_JCOND }, \
	[CLS | BPF_JGT | BPF_X] = { SL_VM_OP_JGT##W##_X, Z_IMM, K_JCOND }, \
	[CLS | BPF_JGE | BPF_K] = { SL_VM_OP_JGE##W##_K, Z_SRC, K_JCOND }, \
	[CLS | BPF_JGE | BPF_X] = { SL_VM_OP_JGE##W##_X, Z_IMM, K_JCOND }, \
	[CLS | BPF_JSET | BPF_K] = { SL_VM_OP_JSET##W##_K, Z_SRC, K_JCOND }, \
	[CLS | BPF_JSET | BPF_X] = { SL_VM_OP_JSET##W##_X, Z_IMM, K_JCOND }, \
	[CLS | BPF_JNE | BPF_K] = { SL_VM_OP_JNE##W##_K, Z_SRC, K_JCOND }, \
	[CLS | BPF_JNE | BPF_X] = { SL_VM_OP_JNE##W##_X, Z_IMM, K_JCOND }, \
	[CLS | BPF_JSGT | BPF_K] = { SL_VM_OP_JSGT##W##_K, Z_SRC, K_JCOND }, \
	[CLS | BPF_JSGT | BPF_X] = { SL_VM_OP_JSGT##W##_X, Z_IMM, K_JCOND }, \
	[CLS | BPF_JSGE | BPF_K] = { SL_VM_OP_JSGE##W##_K, Z_SRC, K_JCOND }, \
	[CLS | BPF_JSGE | BPF_X] = { SL_VM_OP_JSGE##W##_X, Z_IMM, K_JCOND }, \
	[CLS | BPF_JLT | BPF_K] = { SL_VM_OP_JLT##W##_K, Z_SRC, K_JCOND }, \
	[CLS | BPF_JLT | BPF_X] = { SL_VM_OP_JLT##W##_X, Z_IMM, K_JCOND }, \
	[CLS | BPF_JLE | BPF_K] = { SL_VM_OP_JLE##W##_K, Z_SRC, K_JCOND }, \
	[CLS | BPF_JLE | BPF_X] = { SL_VM_OP_JLE##W##_X, Z_IMM, K_JCOND }, \
	[CLS | BPF_JSLT | BPF_K] = { SL_VM_OP_JSLT##W##_K, Z_SRC, K_JCOND }, \
	[CLS | BPF_JSLT | BPF_X] = { SL_VM_OP_JSLT##W##_X, Z_IMM, K_JCOND }, \
	[CLS | BPF_JSLE | BPF_K] = { SL_VM_OP_JSLE##W##_K, Z_SRC, K_JCOND }, \
	[CLS | BPF_JSLE | BPF_X] = { SL_VM_OP_JSLE##W##_X, Z_IMM, K_JCOND }

#define MEM_ENTRIES(SZ, NAME) \
	[BPF_LDX | BPF_MEM | SZ] = { SL_VM_OP_LDX##NAME, Z_IMM | W_DST, K_PLAIN }, \
	[BPF_ST | BPF_MEM | SZ] = { SL_VM_OP_ST##NAME, Z_SRC, K_PLAIN }, \
	[BPF_STX | BPF_MEM | SZ] = { SL_VM_OP_STX##NAME, Z_IMM, K_PLAIN }

static const struct opdesc optab[256] = {
	ALU_ENTRIES(BPF_ALU64, 64),
	ALU_ENTRIES(BPF_ALU, 32),
	[BPF_ALU | BPF_END | BPF_TO_LE] = { SL_VM_OP_NOP, Z_SRC | Z_OFF | W_DST, K_END },
	[BPF_ALU | BPF_END | BPF_TO_BE] = { SL_VM_OP_NOP, Z_SRC | Z_OFF | W_DST, K_END },
	[BPF_ALU64 | BPF_END | BPF_TO_LE] = { SL_VM_OP_NOP, Z_SRC | Z_OFF | W_DST, K_END },
	JMP_ENTRIES(BPF_JMP, 64),
	JMP_ENTRIES(BPF_JMP32, 32),
	[BPF_JMP | BPF_JA] = { SL_VM_OP_JA, Z_SRC | Z_DST | Z_IMM, K_JA },
	[BPF_JMP32 | BPF_JA] = { SL_VM_OP_JA, Z_SRC | Z_DST | Z_OFF, K_JA32 },
	[BPF_JMP | BPF_CALL] = { SL_VM_OP_CALL_HELPER, Z_DST | Z_OFF, K_CALL },
	[BPF_JMP | BPF_EXIT] = { SL_VM_OP_EXIT, Z_SRC | Z_DST | Z_OFF | Z_IMM, K_PLAIN },
	MEM_ENTRIES(BPF_B, B), MEM_ENTRIES(BPF_H, H), MEM_ENTRIES(BPF_W, W), MEM_ENTRIES(BPF_DW, DW),
	[BPF_LDX | BPF_MEMSX | BPF_B] = { SL_VM_OP_LDXSB, Z_IMM | W_DST, K_PLAIN },
	[BPF_LDX | BPF_MEMSX | BPF_H] = { SL_VM_OP_LDXSH, Z_IMM | W_DST, K_PLAIN },
	[BPF_LDX | BPF_MEMSX | BPF_W] = { SL_VM_OP_LDXSW, Z_IMM | W_DST, K_PLAIN },
	[BPF_STX | BPF_ATOMIC | BPF_W] = { SL_VM_OP_AADD32, 0, K_ATOMIC },
	[BPF_STX | BPF_ATOMIC | BPF_DW] = { SL_VM_OP_AADD64, 0, K_ATOMIC },
	[BPF_LD | BPF_IMM | BPF_DW] = { SL_VM_OP_LDDW, W_DST, K_LDDW },
	[BPF_LD | BPF_ABS | BPF_B] = { SL_VM_OP_LDABSB, Z_SRC | Z_DST | Z_OFF, K_LDABS },
	[BPF_LD | BPF_ABS | BPF_H] = { SL_VM_OP_LDABSH, Z_SRC | Z_DST | Z_OFF, K_LDABS },
	[BPF_LD | BPF_ABS | BPF_W] = { SL_VM_OP_LDABSW, Z_SRC | Z_DST | Z_OFF, K_LDABS },
	[BPF_LD | BPF_IND | BPF_B] = { SL_VM_OP_LDINDB, Z_DST | Z_OFF, K_LDABS },
	[BPF_LD | BPF_IND | BPF_H] = { SL_VM_OP_LDINDH, Z_DST | Z_OFF, K_LDABS },
	[BPF_LD | BPF_IND | BPF_W] = { SL_VM_OP_LDINDW, Z_DST | Z_OFF, K_LDABS },
};

/* Atomic imm -> handler offset from AADD32/AADD64 (same order in both). */
static const struct {
	int32_t imm;
	uint16_t delta;
} atomic_ops[] = {
	{ BPF_ADD, 0 }, { BPF_OR, 1 }, { BPF_AND, 2 }, { BPF_XOR, 3 },
	{ BPF_ADD | BPF_FETCH, 4 }, { BPF_OR | BPF_FETCH, 5 },
	{ BPF_AND | BPF_FETCH, 6 }, { BPF_XOR | BPF_FETCH, 7 },
	{ BPF_XCHG, 8 }, { BPF_CMPXCHG, 9 },
};

/* State of one sl_vm_prepare() pass. */
struct dec {
	const struct sl_prog *prog;
	struct sl_vm_code *code;
	uint8_t *lddw_hi;   /* 1 at the second half of each lddw */
	uint32_t ncbs;      /* callbacks decoded so far */
	struct sl_errlog log;   /* caller's buffer: the first error line */
};

static int dec_err(struct dec *dc, uint32_t pc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int dec_err(struct dec *dc, uint32_t pc, const char *fmt, ...)
{
	char where[24];
	va_list ap;
	int err;

	snprintf(where, sizeof(where), "pc %u", pc);
	va_start(ap, fmt);
	err = sl_errlog_vset(&dc->log, -EINVAL, where, fmt, ap);
	va_end(ap);
	return err;
}

static int check_fields(struct dec *dc, uint32_t pc, const struct bpf_insn *in, uint8_t zero)
{
	if (in->dst_reg > 10 || in->src_reg > 10)
		return dec_err(dc, pc, "invalid register r%u (opcode 0x%02x)",
			       in->dst_reg > 10 ? in->dst_reg : in->src_reg, in->code);
	if ((zero & Z_SRC) && in->src_reg)
		return dec_err(dc, pc, "opcode 0x%02x: reserved field src_reg must be 0 (is %u)",
			       in->code, in->src_reg);
	if ((zero & Z_DST) && in->dst_reg)
		return dec_err(dc, pc, "opcode 0x%02x: reserved field dst_reg must be 0 (is %u)",
			       in->code, in->dst_reg);
	if ((zero & Z_OFF) && in->off)
		return dec_err(dc, pc, "opcode 0x%02x: reserved field off must be 0 (is %d)",
			       in->code, in->off);
	if ((zero & Z_IMM) && in->imm)
		return dec_err(dc, pc, "opcode 0x%02x: reserved field imm must be 0 (is %d)",
			       in->code, in->imm);
	if ((zero & W_DST) && in->dst_reg == BPF_REG_10)
		return dec_err(dc, pc, "frame pointer r10 is read only");
	return 0;
}

/* Jump or call target @p target from @p pc: inside the program, not into an lddw. */
static int check_target(struct dec *dc, uint32_t pc, int64_t target, const char *what)
{
	const struct sl_prog *p = dc->prog;

	if (target < 0 || target >= p->n_insns)
		return dec_err(dc, pc, "%s out of range: to pc %lld of %u instructions",
			       what, (long long)target, p->n_insns);
	if (dc->lddw_hi[target])
		return dec_err(dc, pc, "%s into the middle of lddw at pc %lld", what,
			       (long long)target - 1);
	return 0;
}

static int dec_end(struct dec *dc, uint32_t pc, const struct bpf_insn *in, struct sl_vm_insn *d)
{
	static const uint16_t le[3] = { SL_VM_OP_ZEXT16, SL_VM_OP_ZEXT32, SL_VM_OP_NOP };
	static const uint16_t swap[3] = { SL_VM_OP_BSWAP16, SL_VM_OP_BSWAP32, SL_VM_OP_BSWAP64 };
	int i = in->imm == 16 ? 0 : in->imm == 32 ? 1 : in->imm == 64 ? 2 : -1;

	if (i < 0)
		return dec_err(dc, pc, "byte swap width must be 16, 32 or 64 (is %d)", in->imm);
	/* Little-endian host: "le" truncates, "be" and bswap swap. */
	if (SL_OP_CLASS(in->code) == BPF_ALU && SL_OP_SRC(in->code) == BPF_TO_LE)
		d->op = le[i];
	else
		d->op = swap[i];
	return 0;
}

static int dec_movx(struct dec *dc, uint32_t pc, const struct bpf_insn *in, struct sl_vm_insn *d)
{
	bool alu64 = SL_OP_CLASS(in->code) == BPF_ALU64;

	switch (in->off) {
	case 0: return 0;
	case 8: d->op = alu64 ? SL_VM_OP_MOVSX8_64 : SL_VM_OP_MOVSX8_32; return 0;
	case 16: d->op = alu64 ? SL_VM_OP_MOVSX16_64 : SL_VM_OP_MOVSX16_32; return 0;
	case 32:
		if (alu64) {
			d->op = SL_VM_OP_MOVSX32_64;
			return 0;
		}
		break;
	}
	return dec_err(dc, pc, "mov: invalid sign-extension width off=%d", in->off);
}

static int dec_call(struct dec *dc, uint32_t pc, const struct bpf_insn *in, struct sl_vm_insn *d)
{
	const struct sl_helper *h;

	if (in->src_reg == BPF_PSEUDO_CALL) {
		d->op = SL_VM_OP_CALL_LOCAL;
		d->off = (int32_t)((int64_t)pc + 1 + in->imm);
		return check_target(dc, pc, (int64_t)pc + 1 + in->imm, "call");
	}
	if (in->src_reg != 0)
		return dec_err(dc, pc, "call: unsupported src_reg %u (%s)", in->src_reg,
			       in->src_reg == BPF_PSEUDO_KFUNC_CALL ? "kfunc calls are not supported"
								    : "unknown call kind");
	if (in->imm == BPF_FUNC_tail_call) {
		d->op = SL_VM_OP_TAIL_CALL;
		return 0;
	}
	h = in->imm >= 0 ? sl_helper_get((uint32_t)in->imm) : NULL;
	if (!h || !h->fn)
		return dec_err(dc, pc, "unknown helper %d", in->imm);
	d->imm = (uint64_t)(uintptr_t)h->fn;
	return 0;
}

static int dec_atomic(struct dec *dc, uint32_t pc, const struct bpf_insn *in, struct sl_vm_insn *d)
{
	for (size_t i = 0; i < sizeof(atomic_ops) / sizeof(atomic_ops[0]); i++) {
		if (atomic_ops[i].imm != in->imm)
			continue;
		d->op = (uint16_t)(d->op + atomic_ops[i].delta);
		if ((in->imm & BPF_FETCH) && in->src_reg == BPF_REG_10 && in->imm != BPF_CMPXCHG)
			return dec_err(dc, pc, "atomic fetch into r10: frame pointer is read only");
		return 0;
	}
	return dec_err(dc, pc, "unknown atomic operation imm=0x%x", (unsigned)in->imm);
}

/* A callback called by a helper (bpf_loop): a nested run from its first instruction. */
static uint64_t vm_callback_call(const struct sl_callback *cb, uint64_t r1, uint64_t r2)
{
	struct sl_vm_run_opts o = { .sz = sizeof(o), .entry_pc = cb->pc, .entry_r1 = r1,
				    .entry_r2 = r2 };
	struct sl_vm_result res;
	uint64_t r0;

	if (vm_checked_callback(cb, r1, r2, &r0))
		return r0;
	return vm_run_fast(cb->engine, NULL, &o, &res);
}

static int dec_func_ref(struct dec *dc, uint32_t pc, const struct bpf_insn *in,
			struct sl_vm_insn *d)
{
	struct sl_callback *cb = &dc->code->cbs[dc->ncbs++];
	int err = check_target(dc, pc, (int64_t)pc + 1 + in->imm, "lddw func");

	if (err)
		return err;
	*cb = (struct sl_callback){ vm_callback_call, dc->prog, (uint32_t)(pc + 1 + in->imm) };
	d->imm = (uint64_t)(uintptr_t)cb;
	return 0;
}

/* lddw: a constant, or a map pointer / map value address resolved from prog->maps. */
static int dec_lddw(struct dec *dc, uint32_t pc, const struct bpf_insn *in, struct sl_vm_insn *d)
{
	const struct sl_prog *p = dc->prog;
	const struct bpf_insn *hi = in + 1;
	struct sl_map *map;

	if (pc + 1 >= p->n_insns)
		return dec_err(dc, pc, "lddw needs a second instruction");
	if (hi->code || hi->dst_reg || hi->src_reg || hi->off)
		return dec_err(dc, pc + 1, "second half of lddw must have code, registers and off 0");
	d->imm = (uint64_t)(uint32_t)in->imm | ((uint64_t)(uint32_t)hi->imm << 32);
	if (in->src_reg == 0)
		return 0;
	if (in->src_reg == BPF_PSEUDO_FUNC && !hi->imm)
		return dec_func_ref(dc, pc, in, d);
	if (in->src_reg != BPF_PSEUDO_MAP_IDX && in->src_reg != BPF_PSEUDO_MAP_IDX_VALUE)
		return dec_err(dc, pc, "lddw: unsupported pseudo source %u%s", in->src_reg,
			       in->src_reg == BPF_PSEUDO_MAP_FD ? " (map fd not resolved by the loader)" : "");
	if (in->imm < 0 || (uint32_t)in->imm >= p->n_maps || !p->maps || !p->maps[in->imm])
		return dec_err(dc, pc, "lddw: map index %d out of range (%u maps)", in->imm, p->n_maps);
	map = p->maps[in->imm];
	if (in->src_reg == BPF_PSEUDO_MAP_IDX) {
		if (hi->imm)
			return dec_err(dc, pc + 1, "lddw map: second imm must be 0");
		d->imm = (uint64_t)(uintptr_t)map;
		return 0;
	}
	if (!sl_map_array_base(map, 0))
		return dec_err(dc, pc, "lddw map value: map '%s' is not an array", sl_map_name(map));
	if (hi->imm < 0 || (uint32_t)hi->imm >= sl_map_get_def(map)->value_size)
		return dec_err(dc, pc, "lddw map value: offset %d outside value of %u bytes",
			       hi->imm, sl_map_get_def(map)->value_size);
	d->imm = (uint64_t)(uintptr_t)((uint8_t *)sl_map_array_base(map, 0) + hi->imm);
	return 0;
}

/* Decode instruction @p pc into code->insns_d[pc]. @return instructions consumed or -EINVAL. */
static int dec_one(struct dec *dc, uint32_t pc)
{
	const struct bpf_insn *in = &dc->prog->insns[pc];
	const struct opdesc *od = &optab[in->code];
	struct sl_vm_insn *d = &dc->code->insns_d[pc];
	int err = 0;

	if (od->kind == K_BAD)
		return dec_err(dc, pc, "unknown opcode 0x%02x", in->code);
	err = check_fields(dc, pc, in, od->zero);
	if (err)
		return err;
	d->op = od->op;
	d->dst = in->dst_reg;
	d->src = in->src_reg;
	d->off = in->off;
	d->imm = (uint64_t)(int64_t)in->imm;
	switch (od->kind) {
	case K_SIGNED:
		if (in->off != 0 && in->off != 1)
			return dec_err(dc, pc, "div/mod: off must be 0 or 1 (is %d)", in->off);
		d->op = (uint16_t)(d->op + 2 * in->off); /* SDIV/SMOD follow DIV/MOD K,X */
		break;
	case K_MOVX: err = dec_movx(dc, pc, in, d); break;
	case K_END: err = dec_end(dc, pc, in, d); break;
	case K_JA:
		d->off = (int32_t)((int64_t)pc + 1 + in->off);
		err = check_target(dc, pc, (int64_t)pc + 1 + in->off, "jump");
		break;
	case K_JA32:
		d->off = (int32_t)((int64_t)pc + 1 + in->imm);
		err = check_target(dc, pc, (int64_t)pc + 1 + in->imm, "jump");
		break;
	case K_JCOND:
		d->off = (int32_t)((int64_t)pc + 1 + in->off);
		err = check_target(dc, pc, (int64_t)pc + 1 + in->off, "jump");
		break;
	case K_CALL: err = dec_call(dc, pc, in, d); break;
	case K_ATOMIC: err = dec_atomic(dc, pc, in, d); break;
	case K_LDDW:
		err = dec_lddw(dc, pc, in, d);
		if (!err) {
			dc->code->insns_d[pc + 1].op = SL_VM_OP_FALLOFF;
			return 2;
		}
		break;
	default: break;
	}
	return err ? err : 1;
}

/* 64-bit ALU op -> fused "mov + op" handler (K form; the X form follows it). */
static const struct {
	uint16_t k, x, fused_k;
} fusable[] = {
	{ SL_VM_OP_ADD64_K, SL_VM_OP_ADD64_X, SL_VM_OP_MADD_K },
	{ SL_VM_OP_SUB64_K, SL_VM_OP_SUB64_X, SL_VM_OP_MSUB_K },
	{ SL_VM_OP_MUL64_K, SL_VM_OP_MUL64_X, SL_VM_OP_MMUL_K },
	{ SL_VM_OP_OR64_K, SL_VM_OP_OR64_X, SL_VM_OP_MOR_K },
	{ SL_VM_OP_AND64_K, SL_VM_OP_AND64_X, SL_VM_OP_MAND_K },
	{ SL_VM_OP_XOR64_K, SL_VM_OP_XOR64_X, SL_VM_OP_MXOR_K },
	{ SL_VM_OP_LSH64_K, SL_VM_OP_LSH64_X, SL_VM_OP_MLSH_K },
	{ SL_VM_OP_RSH64_K, SL_VM_OP_RSH64_X, SL_VM_OP_MRSH_K },
	{ SL_VM_OP_ARSH64_K, SL_VM_OP_ARSH64_X, SL_VM_OP_MARSH_K },
};

/* 64-bit X op -> fused "lddw + op" handler. */
static const struct {
	uint16_t x, fused;
} fusable_lddw[] = {
	{ SL_VM_OP_ADD64_X, SL_VM_OP_LADD }, { SL_VM_OP_SUB64_X, SL_VM_OP_LSUB },
	{ SL_VM_OP_MUL64_X, SL_VM_OP_LMUL }, { SL_VM_OP_OR64_X, SL_VM_OP_LOR },
	{ SL_VM_OP_AND64_X, SL_VM_OP_LAND }, { SL_VM_OP_XOR64_X, SL_VM_OP_LXOR },
};

/* "lddw rT, C" + "rD op= rT" (D != T) -> one fused record at the lddw. */
static void fuse_lddw(struct sl_vm_insn *l)
{
	const struct sl_vm_insn *o = l + 2;

	for (size_t k = 0; k < sizeof(fusable_lddw) / sizeof(fusable_lddw[0]); k++) {
		if (o->op == fusable_lddw[k].x && o->src == l->dst && o->dst != l->dst) {
			l->op = fusable_lddw[k].fused;
			l->off = o->dst;
			return;
		}
	}
}

/* Same-register pairs: first op, second op -> fused op (at the first record). */
static const struct {
	uint16_t first, second, fused;
} pairs[] = {
	{ SL_VM_OP_LDXH, SL_VM_OP_BSWAP16, SL_VM_OP_LDXH_BE16 },
	{ SL_VM_OP_LDXW, SL_VM_OP_BSWAP32, SL_VM_OP_LDXW_BE32 },
	{ SL_VM_OP_LSH64_K, SL_VM_OP_OR64_X, SL_VM_OP_LSH_OR },
	{ SL_VM_OP_RSH64_K, SL_VM_OP_OR64_X, SL_VM_OP_RSH_OR },
	{ SL_VM_OP_MUL64_K, SL_VM_OP_ADD64_K, SL_VM_OP_MUL_ADD },
};

static void fuse_pair(struct sl_vm_insn *a)
{
	const struct sl_vm_insn *b = a + 1;

	if (b->dst != a->dst)
		return;
	for (size_t k = 0; k < sizeof(pairs) / sizeof(pairs[0]); k++) {
		if (a->op != pairs[k].first || b->op != pairs[k].second)
			continue;
		if (b->op == SL_VM_OP_OR64_X)
			a->src = b->src;                 /* shift K: src is free */
		else if (b->op == SL_VM_OP_ADD64_K)
			a->off = (int32_t)b->imm;        /* mul K: off is free */
		a->op = pairs[k].fused;
		return;
	}
}

/*
 * Hash idioms at a "mov rB, rA" (A != B): xorshift "rB >>= K; rA ^= rB" and
 * rotate "rB >>= K1; rA <<= K2; rA |= rB". @return true when fused.
 */
static bool fuse_idiom(struct sl_vm_insn *m, uint32_t left)
{
	const struct sl_vm_insn *s = m + 1, *t = m + 2, *u = m + 3;

	if (m->op != SL_VM_OP_MOV64_X || m->src == m->dst || left < 3 ||
	    s->op != SL_VM_OP_RSH64_K || s->dst != m->dst)
		return false;
	if (t->op == SL_VM_OP_XOR64_X && t->dst == m->src && t->src == m->dst) {
		m->op = SL_VM_OP_XOR_SHR;
		m->imm = s->imm;
		return true;
	}
	if (left >= 4 && t->op == SL_VM_OP_LSH64_K && t->dst == m->src &&
	    u->op == SL_VM_OP_OR64_X && u->dst == m->src && u->src == m->dst) {
		m->op = SL_VM_OP_ROTATE;
		m->imm = s->imm;
		m->off = (int32_t)(t->imm & 63);
		return true;
	}
	return false;
}

/* Peephole: "mov rA, rB" + "rA op= K/rC" (C != A) -> one fused record at the mov. */
static void fuse(struct sl_vm_code *code, uint32_t n)
{
	for (uint32_t i = 0; i + 1 < n; i++) {
		struct sl_vm_insn *m = &code->insns_d[i];
		const struct sl_vm_insn *o = m + 1;

		if (m->op == SL_VM_OP_LDDW && i + 2 < n)
			fuse_lddw(m);
		fuse_pair(m);
		if (fuse_idiom(m, n - i))
			continue;
		if (m->op != SL_VM_OP_MOV64_X || o->dst != m->dst)
			continue;
		for (size_t k = 0; k < sizeof(fusable) / sizeof(fusable[0]); k++) {
			if (o->op == fusable[k].k) {
				m->op = fusable[k].fused_k;
				m->imm = o->imm;
			} else if (o->op == fusable[k].x && o->src != m->dst) {
				m->op = (uint16_t)(fusable[k].fused_k + 1);
				m->off = o->src;
			} else {
				continue;
			}
			break;
		}
	}
}

/* Direct threading: the verified loop's label of every decoded instruction. */
static void set_handlers(struct sl_vm_code *code, uint32_t n)
{
	const void *const *labels =
		(const void *const *)(uintptr_t)vm_run_fast(NULL, NULL, NULL, NULL);

	for (uint32_t i = 0; i < n; i++)
		code->insns_d[i].handler = labels[code->insns_d[i].op];
}

int sl_vm_prepare(struct sl_prog *prog, char *log, size_t log_len)
{
	struct dec dc = { .prog = prog, .log = { .buf = log, .len = log_len } };
	struct sl_vm_code *code;
	uint32_t pc = 0;

	if (!prog || !prog->insns || prog->n_insns == 0 || prog->n_insns > SL_MAX_INSNS) {
		return sl_errlog_set(&dc.log, -EINVAL, NULL, "empty or oversized program");
	}
	for (uint32_t i = 0; i + 1 < prog->n_insns; i++)
		if (sl_isa_is_lddw(&prog->insns[i]) && prog->insns[i++].src_reg == BPF_PSEUDO_FUNC)
			dc.ncbs++;
	code = calloc(1, sizeof(*code) + ((size_t)prog->n_insns + 1) * sizeof(code->insns_d[0]) +
		      dc.ncbs * sizeof(struct sl_callback));
	if (!code) {
		return sl_errlog_set(&dc.log, -ENOMEM, NULL, "out of memory decoding %u instructions",
				     prog->n_insns);
	}
	dc.code = code;
	code->cbs = (struct sl_callback *)(void *)&code->insns_d[prog->n_insns + 1];
	code->ncbs = dc.ncbs;
	dc.ncbs = 0;
	dc.lddw_hi = calloc(prog->n_insns, 1);
	if (!dc.lddw_hi) {
		free(code);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i + 1 < prog->n_insns; i++)
		if (sl_isa_is_lddw(&prog->insns[i]))
			dc.lddw_hi[++i] = 1;
	while (pc < prog->n_insns) {
		int n = dec_one(&dc, pc);

		if (n < 0) {
			free(dc.lddw_hi);
			free(code);
			return n;
		}
		pc += (uint32_t)n;
	}
	free(dc.lddw_hi);
	code->insns_d[prog->n_insns].op = SL_VM_OP_FALLOFF;
	fuse(code, prog->n_insns);
	set_handlers(code, prog->n_insns + 1);
	code->insns = prog->insns;
	code->n_insns = prog->n_insns;
	code->verified = prog->verified;
	free(prog->vm_code);
	prog->vm_code = code;
	return 0;
}

/*
 * A program never prepared (or changed since): the first sl_vm_exec() on the
 * control thread (test-run, tests of hand-built programs) prepares it here,
 * before any run loop starts; the run loops themselves never prepare. A
 * program published to workers was prepared by sl_prog_verify(), so a
 * worker never gets here (see sl_vm_exec() in sl_vm.h).
 */
static int prepare_first_run(const struct sl_prog *prog, struct sl_vm_result *res)
{
	int err = sl_vm_prepare((struct sl_prog *)prog, res->msg, sizeof(res->msg));

	if (err) {
		res->err = err;
		res->err_pc = 0;
	}
	return err;
}

/*
 * sl_vm_exec()'s rare cases, kept out of its path so that the usual call
 * (current options struct, prepared program) stays a few instructions and a
 * tail call: an options struct of another size (sl_opts.h: an older
 * caller's shorter struct gets the defaults; a newer caller's longer one
 * only with its unknown bytes zero), and a program not prepared yet.
 */
static __attribute__((noinline, cold)) uint64_t
exec_slow(const struct sl_prog *prog, void *ctx, const struct sl_vm_run_opts *opts,
	  struct sl_vm_result *res)
{
	struct sl_vm_run_opts known = { 0 };

	if (opts->sz != sizeof(*opts) && opts->sz != 0) {
		if (!sl_opts_valid(opts, sizeof(*opts))) {
			res->err = -EINVAL;
			snprintf(res->msg, sizeof(res->msg), "sl_vm_run_opts: sz %zu: too small, "
				 "or bytes past the %zu this sluice knows are set", opts->sz,
				 sizeof(*opts));
			return 0;
		}
		memcpy(&known, opts, opts->sz < sizeof(known) ? opts->sz : sizeof(known));
		known.sz = sizeof(known);
		opts = &known;
	}
	if (!vm_code_fresh(prog) && prepare_first_run(prog, res))
		return 0;
	if (opts->checked)
		return vm_run_checked(prog, ctx, opts, res);
	return vm_run_fast(prog, ctx, opts, res);
}

uint64_t sl_vm_exec(const struct sl_prog *prog, void *ctx,
		    const struct sl_vm_run_opts *opts, struct sl_vm_result *res)
{
	static const struct sl_vm_run_opts no_opts = { .sz = sizeof(no_opts) };
	struct sl_vm_result scratch;

	if (!res)
		res = &scratch;
	if (!opts)
		opts = &no_opts;
	res->r0 = 0;
	res->err = 0;
	res->err_pc = 0;
	res->msg[0] = '\0';
	if (!prog) {
		res->err = -EINVAL;
		snprintf(res->msg, sizeof(res->msg), "no program");
		return 0;
	}
	if (__builtin_expect((opts->sz != sizeof(*opts) && opts->sz != 0) || !vm_code_fresh(prog), 0))
		return exec_slow(prog, ctx, opts, res);
	if (opts->checked)
		return vm_run_checked(prog, ctx, opts, res);
	return vm_run_fast(prog, ctx, opts, res);
}
