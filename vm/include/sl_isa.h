/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file sl_isa.h
 * eBPF instruction set constants (RFC 9669, ISA v1-v4) on top of the
 * kernel's UAPI <linux/bpf.h>. The kernel headers shipped with Debian 12
 * predate ISA v4, so the v4 encodings (sdiv/smod, movsx, ldsx, bswap,
 * gotol) are defined here under the kernel's later names.
 */
#ifndef SL_ISA_H
#define SL_ISA_H

#include <stdint.h>
#include <linux/bpf.h>
#include <linux/bpf_common.h>

/** Instruction class: low 3 bits of the opcode. */
#define SL_OP_CLASS(op) ((op) & 0x07)
/** ALU/JMP operation: high 4 bits. */
#define SL_OP_CODE(op) ((op) & 0xf0)
/** ALU/JMP source: BPF_K (imm) or BPF_X (src register). */
#define SL_OP_SRC(op) ((op) & 0x08)
/** Load/store size: BPF_W, BPF_H, BPF_B, BPF_DW. */
#define SL_OP_SIZE(op) ((op) & 0x18)
/** Load/store mode: BPF_IMM, BPF_ABS, BPF_IND, BPF_MEM, BPF_MEMSX, BPF_ATOMIC. */
#define SL_OP_MODE(op) ((op) & 0xe0)

#ifndef BPF_MEMSX
/** Sign-extending load mode (ISA v4). */
#define BPF_MEMSX 0x80
#endif
#ifndef BPF_TO_LE
#define BPF_TO_LE 0x00
#define BPF_TO_BE 0x08
#endif

/** Number of eBPF registers r0..r10. */
#define SL_NREGS 11
/** Bytes of stack per frame. */
#define SL_STACK_SIZE 512
/** Deepest chain of bpf-to-bpf calls (frames), as the kernel. */
#define SL_MAX_CALL_DEPTH 8
/** Largest program accepted, in instructions (the kernel's BPF_COMPLEXITY_LIMIT_INSNS). */
#define SL_MAX_INSNS 1000000u

/** Size in bytes of a BPF_W/H/B/DW access. */
static inline unsigned sl_isa_size_bytes(uint8_t op)
{
	switch (SL_OP_SIZE(op)) {
	case BPF_B: return 1;
	case BPF_H: return 2;
	case BPF_W: return 4;
	default: return 8;
	}
}

/** True for the first half of a 16-byte lddw. */
static inline int sl_isa_is_lddw(const struct bpf_insn *insn)
{
	return insn->code == (BPF_LD | BPF_IMM | BPF_DW);
}

#endif /* SL_ISA_H */
