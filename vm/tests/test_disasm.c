/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Disassembler: one instruction per row against the text the kernel's
 * verifier log prints for it (kernel/bpf/disasm.c formats).
 */
#include <stdio.h>
#include <string.h>

#include "sl_vm.h"
#include "sl_test.h"

#define I(c, d, s, o, i) { .code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i) }

static const struct {
	struct bpf_insn in[2];
	int n;
	const char *text;
} rows[] = {
	{ { I(BPF_LDX | BPF_MEM | BPF_B, 0, 1, 12, 0) }, 1, "r0 = *(u8 *)(r1 +12)" },
	{ { I(BPF_LDX | BPF_MEM | BPF_DW, 2, 10, -16, 0) }, 1, "r2 = *(u64 *)(r10 -16)" },
	{ { I(BPF_STX | BPF_MEM | BPF_W, 10, 1, -4, 0) }, 1, "*(u32 *)(r10 -4) = r1" },
	{ { I(BPF_ST | BPF_MEM | BPF_DW, 10, 0, -8, 5) }, 1, "*(u64 *)(r10 -8) = 5" },
	{ { I(BPF_ST | BPF_MEM | BPF_H, 1, 0, 2, -1) }, 1, "*(u16 *)(r1 +2) = -1" },
	{ { I(BPF_JMP | BPF_JGT | BPF_X, 2, 3, 4, 0) }, 1, "if r2 > r3 goto pc+4" },
	{ { I(BPF_JMP32 | BPF_JSLT | BPF_K, 1, 0, -3, 5) }, 1, "if w1 s< 0x5 goto pc-3" },
	{ { I(BPF_JMP | BPF_JSET | BPF_K, 1, 0, 1, 8) }, 1, "if r1 & 0x8 goto pc+1" },
	{ { I(BPF_JMP32 | BPF_JNE | BPF_X, 1, 2, -1, 0) }, 1, "if w1 != w2 goto pc-1" },
	{ { I(BPF_JMP | BPF_JSGE | BPF_K, 3, 0, 7, -2) }, 1, "if r3 s>= 0xfffffffe goto pc+7" },
	{ { I(BPF_ALU | BPF_ADD | BPF_X, 0, 1, 0, 0) }, 1, "w0 += w1" },
	{ { I(BPF_ALU64 | BPF_ADD | BPF_K, 0, 0, 0, -1) }, 1, "r0 += -1" },
	{ { I(BPF_ALU64 | BPF_MOV | BPF_X, 0, 1, 0, 0) }, 1, "r0 = r1" },
	{ { I(BPF_ALU | BPF_MOV | BPF_K, 0, 0, 0, 5) }, 1, "w0 = 5" },
	{ { I(BPF_ALU64 | BPF_ARSH | BPF_K, 1, 0, 0, 3) }, 1, "r1 s>>= 3" },
	{ { I(BPF_ALU64 | BPF_DIV | BPF_X, 1, 2, 1, 0) }, 1, "r1 s/= r2" },
	{ { I(BPF_ALU | BPF_MOD | BPF_K, 1, 0, 1, 3) }, 1, "w1 s%= 3" },
	{ { I(BPF_ALU64 | BPF_MOD | BPF_X, 4, 5, 0, 0) }, 1, "r4 %= r5" },
	{ { I(BPF_ALU64 | BPF_NEG, 0, 0, 0, 0) }, 1, "r0 = -r0" },
	{ { I(BPF_ALU | BPF_NEG, 3, 0, 0, 0) }, 1, "w3 = -w3" },
	{ { I(BPF_ALU64 | BPF_MOV | BPF_X, 0, 1, 16, 0) }, 1, "r0 = (s16)r1" },
	{ { I(BPF_ALU | BPF_MOV | BPF_X, 0, 1, 8, 0) }, 1, "w0 = (s8)w1" },
	{ { I(BPF_ALU | BPF_END | BPF_TO_BE, 1, 0, 0, 16) }, 1, "r1 = be16 r1" },
	{ { I(BPF_ALU | BPF_END | BPF_TO_LE, 1, 0, 0, 32) }, 1, "r1 = le32 r1" },
	{ { I(BPF_ALU64 | BPF_END | BPF_TO_LE, 1, 0, 0, 64) }, 1, "r1 = bswap64 r1" },
	{ { I(BPF_LD | BPF_IMM | BPF_DW, 0, 0, 0, 0x1234), I(0, 0, 0, 0, 0) }, 2, "r0 = 0x1234 ll" },
	{ { I(BPF_LD | BPF_IMM | BPF_DW, 3, 0, 0, 1), I(0, 0, 0, 0, 2) }, 2, "r3 = 0x200000001 ll" },
	{ { I(BPF_LD | BPF_IMM | BPF_DW, 1, BPF_PSEUDO_MAP_IDX, 0, 0), I(0, 0, 0, 0, 0) }, 2,
	  "r1 = map[idx:0]" },
	{ { I(BPF_LD | BPF_IMM | BPF_DW, 1, BPF_PSEUDO_MAP_IDX_VALUE, 0, 2), I(0, 0, 0, 0, 8) }, 2,
	  "r1 = map[idx:2][0]+8" },
	{ { I(BPF_JMP | BPF_CALL, 0, 0, 0, 1) }, 1, "call bpf_map_lookup_elem#1" },
	{ { I(BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_CALL, 0, 5) }, 1, "call pc+5" },
	{ { I(BPF_STX | BPF_ATOMIC | BPF_DW, 1, 2, 0, BPF_ADD) }, 1, "lock *(u64 *)(r1 +0) += r2" },
	{ { I(BPF_STX | BPF_ATOMIC | BPF_W, 1, 2, 4, BPF_XOR) }, 1, "lock *(u32 *)(r1 +4) ^= r2" },
	{ { I(BPF_STX | BPF_ATOMIC | BPF_DW, 1, 0, 0, BPF_ADD | BPF_FETCH) }, 1,
	  "r0 = atomic64_fetch_add((u64 *)(r1 +0), r0)" },
	{ { I(BPF_STX | BPF_ATOMIC | BPF_W, 1, 2, 4, BPF_AND | BPF_FETCH) }, 1,
	  "r2 = atomic_fetch_and((u32 *)(r1 +4), r2)" },
	{ { I(BPF_STX | BPF_ATOMIC | BPF_DW, 1, 3, 8, BPF_CMPXCHG) }, 1,
	  "r0 = atomic64_cmpxchg((u64 *)(r1 +8), r0, r3)" },
	{ { I(BPF_STX | BPF_ATOMIC | BPF_W, 1, 3, 0, BPF_XCHG) }, 1,
	  "r3 = atomic_xchg((u32 *)(r1 +0), r3)" },
	{ { I(BPF_LDX | BPF_MEMSX | BPF_B, 0, 1, 0, 0) }, 1, "r0 = *(s8 *)(r1 +0)" },
	{ { I(BPF_LDX | BPF_MEMSX | BPF_W, 0, 1, -4, 0) }, 1, "r0 = *(s32 *)(r1 -4)" },
	{ { I(BPF_JMP | BPF_JA, 0, 0, 3, 0) }, 1, "goto pc+3" },
	{ { I(BPF_JMP32 | BPF_JA, 0, 0, 0, 100000) }, 1, "gotol pc+100000" },
	{ { I(BPF_JMP | BPF_EXIT, 0, 0, 0, 0) }, 1, "exit" },
	{ { I(BPF_LD | BPF_ABS | BPF_B, 0, 0, 0, 12) }, 1, "r0 = *(u8 *)skb[12]" },
	{ { I(BPF_LD | BPF_IND | BPF_H, 0, 2, 0, 4) }, 1, "r0 = *(u16 *)skb[r2 + 4]" },
	{ { I(0x8d, 2, 0, 0, 0) }, 1, "callx r2" },
	{ { I(0x00, 0, 0, 0, 0) }, 1, "unknown opcode 00" },
	{ { I(BPF_LD | BPF_IMM | BPF_DW, 0, 0, 0, 1) }, 1, "unknown opcode 18" },
};

int main(void)
{
	unsigned n = sizeof(rows) / sizeof(rows[0]);

	for (unsigned i = 0; i < n; i++) {
		char buf[160];
		int used = sl_disasm_insn(rows[i].in, (uint32_t)rows[i].n, buf, sizeof(buf));

		CHECK(!strcmp(buf, rows[i].text) && used == rows[i].n,
		      "row %u: got '%s' (%d insns), want '%s' (%d)", i, buf, used, rows[i].text,
		      rows[i].n);
	}
	printf("disasm: %u rows\n", n);
	return sl_test_done("disasm");
}
