/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Disassembler in the syntax of the kernel's verifier log
 * (kernel/bpf/disasm.c): "r0 = *(u8 *)(r1 +12)", "if w1 s< 0x5 goto pc-3",
 * "lock *(u64 *)(r1 +0) += r2", "call bpf_map_lookup_elem#1". One function
 * per instruction class; operator spellings come from tables indexed by
 * the opcode's operation bits. Any thread; no allocation.
 */
#include <stdio.h>
#include <string.h>

#include "sl_helpers.h"
#include "sl_maps.h"
#include "sl_vm.h"

/* ALU operation (op >> 4) -> compound assignment. */
static const char *const alu_ops[16] = {
	"+=", "-=", "*=", "/=", "|=", "&=", "<<=", ">>=",
	"neg", "%=", "^=", "=", "s>>=", "endian", NULL, NULL,
};

/* Jump condition (op >> 4) -> comparison. */
static const char *const jmp_ops[16] = {
	"ja", "==", ">", ">=", "&", "!=", "s>", "s>=",
	"call", "exit", "<", "<=", "s<", "s<=", NULL, NULL,
};

static const char *size_name(uint8_t code)
{
	static const char *const names[4] = { "u32", "u16", "u8", "u64" };

	return names[SL_OP_SIZE(code) >> 3];
}

static const char *atomic_name(int32_t imm)
{
	switch (imm & ~BPF_FETCH) {
	case BPF_ADD: return "add";
	case BPF_AND: return "and";
	case BPF_OR: return "or";
	case BPF_XOR: return "xor";
	default: return NULL;
	}
}

static void dis_alu(const struct bpf_insn *in, char *buf, size_t len)
{
	bool is64 = SL_OP_CLASS(in->code) == BPF_ALU64;
	char r = is64 ? 'r' : 'w';
	uint8_t op = SL_OP_CODE(in->code);
	const char *name = alu_ops[op >> 4];

	if (op == BPF_END) {
		const char *kind = is64 ? "bswap" : SL_OP_SRC(in->code) == BPF_TO_BE ? "be" : "le";

		snprintf(buf, len, "r%u = %s%d r%u", in->dst_reg, kind, in->imm, in->dst_reg);
	} else if (op == BPF_NEG) {
		snprintf(buf, len, "%c%u = -%c%u", r, in->dst_reg, r, in->dst_reg);
	} else if (!name) {
		snprintf(buf, len, "unknown opcode %02x", in->code);
	} else if (op == BPF_MOV && SL_OP_SRC(in->code) == BPF_X && in->off) {
		snprintf(buf, len, "%c%u = (s%d)%c%u", r, in->dst_reg, in->off, r, in->src_reg);
	} else {
		char sop[8];

		/* sdiv / smod (off 1) read "s/=" and "s%=" */
		snprintf(sop, sizeof(sop), "%s%s",
			 (op == BPF_DIV || op == BPF_MOD) && in->off == 1 ? "s" : "", name);
		if (SL_OP_SRC(in->code) == BPF_X)
			snprintf(buf, len, "%c%u %s %c%u", r, in->dst_reg, sop, r, in->src_reg);
		else
			snprintf(buf, len, "%c%u %s %d", r, in->dst_reg, sop, in->imm);
	}
}

static void dis_call(const struct bpf_insn *in, char *buf, size_t len)
{
	const struct sl_helper *h;

	if (in->src_reg == BPF_PSEUDO_CALL) {
		snprintf(buf, len, "call pc%+d", in->imm);
	} else if (in->src_reg == BPF_PSEUDO_KFUNC_CALL) {
		snprintf(buf, len, "call kernel-function#%d", in->imm);
	} else {
		h = in->imm >= 0 ? sl_helper_get((uint32_t)in->imm) : NULL;
		snprintf(buf, len, "call %s#%d", h && h->name ? h->name : "unknown", in->imm);
	}
}

static void dis_jmp(const struct bpf_insn *in, char *buf, size_t len)
{
	bool is32 = SL_OP_CLASS(in->code) == BPF_JMP32;
	char r = is32 ? 'w' : 'r';
	uint8_t op = SL_OP_CODE(in->code);

	if (op == BPF_JA) {
		if (is32)
			snprintf(buf, len, "gotol pc%+d", in->imm);
		else
			snprintf(buf, len, "goto pc%+d", in->off);
	} else if (op == BPF_CALL && !is32 && SL_OP_SRC(in->code) == BPF_X) {
		snprintf(buf, len, "callx r%u", in->dst_reg);   /* not in the ISA: rejected at load */
	} else if (op == BPF_CALL && !is32) {
		dis_call(in, buf, len);
	} else if (op == BPF_EXIT && !is32) {
		snprintf(buf, len, "exit");
	} else if (!jmp_ops[op >> 4] || op == BPF_CALL || op == BPF_EXIT) {
		snprintf(buf, len, "unknown opcode %02x", in->code);
	} else if (SL_OP_SRC(in->code) == BPF_X) {
		snprintf(buf, len, "if %c%u %s %c%u goto pc%+d", r, in->dst_reg, jmp_ops[op >> 4], r,
			 in->src_reg, in->off);
	} else {
		snprintf(buf, len, "if %c%u %s 0x%x goto pc%+d", r, in->dst_reg, jmp_ops[op >> 4],
			 (unsigned)in->imm, in->off);
	}
}

static void dis_atomic(const struct bpf_insn *in, char *buf, size_t len)
{
	const char *w = SL_OP_SIZE(in->code) == BPF_DW ? "64" : "";
	const char *sz = size_name(in->code);
	const char *name = atomic_name(in->imm);

	if (in->imm == BPF_CMPXCHG)
		snprintf(buf, len, "r0 = atomic%s_cmpxchg((%s *)(r%u %+d), r0, r%u)", w, sz,
			 in->dst_reg, in->off, in->src_reg);
	else if (in->imm == BPF_XCHG)
		snprintf(buf, len, "r%u = atomic%s_xchg((%s *)(r%u %+d), r%u)", in->src_reg, w, sz,
			 in->dst_reg, in->off, in->src_reg);
	else if (name && (in->imm & BPF_FETCH))
		snprintf(buf, len, "r%u = atomic%s_fetch_%s((%s *)(r%u %+d), r%u)", in->src_reg, w,
			 name, sz, in->dst_reg, in->off, in->src_reg);
	else if (name)
		snprintf(buf, len, "lock *(%s *)(r%u %+d) %s r%u", sz, in->dst_reg, in->off,
			 alu_ops[in->imm >> 4], in->src_reg);
	else
		snprintf(buf, len, "unknown atomic operation 0x%x", (unsigned)in->imm);
}

static void dis_mem(const struct bpf_insn *in, char *buf, size_t len)
{
	uint8_t mode = SL_OP_MODE(in->code);
	const char *sz = size_name(in->code);

	switch (SL_OP_CLASS(in->code)) {
	case BPF_LDX:
		if (mode == BPF_MEMSX)
			snprintf(buf, len, "r%u = *(s%u *)(r%u %+d)", in->dst_reg,
				 sl_isa_size_bytes(in->code) * 8, in->src_reg, in->off);
		else if (mode == BPF_MEM)
			snprintf(buf, len, "r%u = *(%s *)(r%u %+d)", in->dst_reg, sz, in->src_reg, in->off);
		else
			snprintf(buf, len, "unknown opcode %02x", in->code);
		return;
	case BPF_ST:
		if (mode == BPF_MEM)
			snprintf(buf, len, "*(%s *)(r%u %+d) = %d", sz, in->dst_reg, in->off, in->imm);
		else
			snprintf(buf, len, "unknown opcode %02x", in->code);
		return;
	default: /* BPF_STX */
		if (mode == BPF_ATOMIC)
			dis_atomic(in, buf, len);
		else if (mode == BPF_MEM)
			snprintf(buf, len, "*(%s *)(r%u %+d) = r%u", sz, in->dst_reg, in->off, in->src_reg);
		else
			snprintf(buf, len, "unknown opcode %02x", in->code);
	}
}

/* lddw and the legacy packet loads. @return instructions consumed. */
static int dis_ld(const struct sl_prog *prog, const struct bpf_insn *in, uint32_t remaining,
		  char *buf, size_t len)
{
	uint8_t mode = SL_OP_MODE(in->code);
	const char *sz = size_name(in->code);

	if (mode == BPF_ABS) {
		snprintf(buf, len, "r0 = *(%s *)skb[%d]", sz, in->imm);
		return 1;
	}
	if (mode == BPF_IND) {
		snprintf(buf, len, "r0 = *(%s *)skb[r%u + %d]", sz, in->src_reg, in->imm);
		return 1;
	}
	if (!sl_isa_is_lddw(in) || remaining < 2) {
		snprintf(buf, len, "unknown opcode %02x", in->code);
		return 1;
	}
	if (in->src_reg == BPF_PSEUDO_MAP_IDX || in->src_reg == BPF_PSEUDO_MAP_IDX_VALUE) {
		const char *name = prog && in->imm >= 0 && (uint32_t)in->imm < prog->n_maps &&
				   prog->maps && prog->maps[in->imm] ? sl_map_name(prog->maps[in->imm]) : NULL;
		int n = snprintf(buf, len, "r%u = map[idx:%d%s%s]", in->dst_reg, in->imm,
				 name ? " " : "", name ? name : "");

		if (in->src_reg == BPF_PSEUDO_MAP_IDX_VALUE && n > 0 && (size_t)n < len)
			snprintf(buf + n, len - (size_t)n, "[0]+%d", in[1].imm);
	} else if (in->src_reg == BPF_PSEUDO_MAP_FD || in->src_reg == BPF_PSEUDO_MAP_VALUE) {
		snprintf(buf, len, "r%u = map[fd:%d]%s", in->dst_reg, in->imm,
			 in->src_reg == BPF_PSEUDO_MAP_VALUE ? "[0]+off" : "");
	} else {
		uint64_t v = (uint64_t)(uint32_t)in->imm | ((uint64_t)(uint32_t)in[1].imm << 32);

		snprintf(buf, len, "r%u = 0x%llx ll", in->dst_reg, (unsigned long long)v);
	}
	return 2;
}

static int disasm_one(const struct sl_prog *prog, const struct bpf_insn *in, uint32_t remaining,
		      char *buf, size_t len)
{
	if (!len)
		return 1;
	switch (SL_OP_CLASS(in->code)) {
	case BPF_ALU:
	case BPF_ALU64:
		dis_alu(in, buf, len);
		return 1;
	case BPF_JMP:
	case BPF_JMP32:
		dis_jmp(in, buf, len);
		return 1;
	case BPF_LD:
		return dis_ld(prog, in, remaining, buf, len);
	default:
		dis_mem(in, buf, len);
		return 1;
	}
}

int sl_disasm_insn(const struct bpf_insn *insn, uint32_t remaining, char *buf, size_t len)
{
	return disasm_one(NULL, insn, remaining, buf, len);
}

void sl_disasm_prog(const struct sl_prog *prog, FILE *out)
{
	char line[160];

	for (uint32_t pc = 0; pc < prog->n_insns;) {
		const struct bpf_insn *in = &prog->insns[pc];
		int n = disasm_one(prog, in, prog->n_insns - pc, line, sizeof(line));

		fprintf(out, "%5u: (%02x) %s\n", pc, in->code, line);
		pc += (uint32_t)n;
	}
}
