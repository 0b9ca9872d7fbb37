/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The random-program builder (sl_test_bpf.h): the layer every generator
 * of the suites stands on. Emits never write past the buffer; the tables
 * keep the order the generators indexed them in, so a seed still draws
 * the program it drew before the generators moved here.
 */
#include <limits.h>
#include <string.h>

#include "sl_test_bpf.h"

const uint8_t sl_tgen_alu_ops[12] = { BPF_ADD, BPF_SUB, BPF_MUL, BPF_DIV, BPF_OR, BPF_AND,
				      BPF_LSH, BPF_RSH, BPF_MOD, BPF_XOR, BPF_MOV, BPF_ARSH };
const uint8_t sl_tgen_jmp_ops[11] = { BPF_JEQ, BPF_JGT, BPF_JGE, BPF_JSET, BPF_JNE, BPF_JSGT,
				      BPF_JSGE, BPF_JLT, BPF_JLE, BPF_JSLT, BPF_JSLE };
const uint8_t sl_tgen_sizes[4] = { BPF_B, BPF_H, BPF_W, BPF_DW };
const unsigned sl_tgen_size_bytes[4] = { 1, 2, 4, 8 };

void sl_tgen_init(struct sl_tgen *g, struct sl_rng rng, unsigned limit)
{
	memset(g, 0, sizeof(*g));
	g->rng = rng;
	g->limit = limit && limit < SL_TGEN_MAX ? limit : SL_TGEN_MAX;
}

void sl_tgen_emit(struct sl_tgen *g, uint8_t code, uint8_t dst, uint8_t src, int16_t off,
		  int32_t imm)
{
	unsigned limit = g->limit ? g->limit : SL_TGEN_MAX;

	if (g->n >= limit) {
		g->dropped++;
		return;
	}
	g->insns[g->n++] = (struct bpf_insn){ .code = code, .dst_reg = dst & 0xf,
					      .src_reg = src & 0xf, .off = off, .imm = imm };
}

void sl_tgen_lddw(struct sl_tgen *g, uint8_t dst, uint8_t src, uint64_t v)
{
	sl_tgen_emit(g, BPF_LD | BPF_IMM | BPF_DW, dst, src, 0, (int32_t)(uint32_t)v);
	sl_tgen_emit(g, 0, 0, 0, 0, (int32_t)(uint32_t)(v >> 32));
}

unsigned sl_tgen_jmp_fwd(struct sl_tgen *g, uint8_t code, uint8_t dst, uint8_t src, int32_t imm)
{
	sl_tgen_emit(g, code, dst, src, 0, imm);
	return g->n - 1;
}

void sl_tgen_land(struct sl_tgen *g, unsigned pc)
{
	if (pc < g->n)
		g->insns[pc].off = (int16_t)(g->n - pc - 1);
}

bool sl_tgen_call(struct sl_tgen *g)
{
	if (g->ncalls >= SL_TGEN_MAX_CALLS)
		return false;
	g->calls[g->ncalls++] = g->n;
	sl_tgen_emit(g, BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_CALL, 0, 0);
	return true;
}

void sl_tgen_patch_calls(struct sl_tgen *g, unsigned callee)
{
	for (unsigned i = 0; i < g->ncalls; i++)
		if (g->calls[i] < g->n)
			g->insns[g->calls[i]].imm = (int32_t)(callee - g->calls[i] - 1);
}

int32_t sl_tgen_imm(struct sl_tgen *g)
{
	static const int32_t special[] = { 0, 1, -1, 2, 7, 8, 31, 32, 63, 64, 0x7fffffff,
					   INT32_MIN, 0xffff, 0x8000, 0x80, 255, -2, 3 };

	if (sl_tgen_pick(g, 3) == 0)
		return (int32_t)sl_tgen_u64(g);
	return special[sl_tgen_pick(g, sizeof(special) / sizeof(special[0]))];
}

void sl_tgen_dump(const struct bpf_insn *insns, unsigned n, unsigned from, FILE *f)
{
	char buf[160];

	for (unsigned i = from; i < n;) {
		int k = sl_disasm_insn(&insns[i], n - i, buf, sizeof(buf));

		fprintf(f, "  %4u: %s\n", i, buf);
		i += k > 0 ? (unsigned)k : 1;
	}
}
