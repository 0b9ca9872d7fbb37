/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Test-only eBPF assembler and .data test-case reader for the ISA suite.
 *
 * Case files follow the bpf_conformance layout ("-- asm", "-- raw", "-- mem",
 * "-- result", "-- error") with a few sections of our own:
 *   -- type raw|socket|xdp   program type (default raw; socket: mem is the packet)
 *   -- unverifiable          never verified: runs only on the checked engine
 *   -- map                   "name type key_size value_size max_entries" lines
 * Unknown sections are ignored.
 *
 * Assembly (uBPF / bpf_conformance syntax; '%' before registers optional):
 *   add r0, 1 / add32 r0, r1 / neg r0 / sdiv r1, r2 / smod32 r1, -1
 *   mov r0, r1 / movsx864 r0, r1 (movsx<from><to>) / le16 r0 / be64 r0 / swap32 r0
 *   ldxw r0, [r1+4] / ldxsb (or ldxbsx) r0, [r1-1] / stw [r10-4], 7 / stxdw [r10-8], r1
 *   lock add [r1+0], r2 / lock fetch xor32 [r1], r2 / lock xchg / lock cmpxchg
 *   ja label / ja +3 / ja32 label (gotol) / jeq r1, 0, label / jsgt32 r1, r2, -2
 *   call 1 / call bpf_map_lookup_elem / call local label / call %r2 (callx)
 *   lddw r0, 0x123456789 / lddw r1, map_by_fd(name) / lddw r1, map_value(name, off)
 *   ldabsw 12 / ldindh r2, 0 / exit / label: / # comment
 *   ("exit" as a jump target means the first exit unless a label has that name;
 *    an immediate wider than 32 bits keeps its low 32 bits, as bpf_conformance's
 *    assembler does; with both "-- asm" and "-- raw" the assembly runs and the
 *    raw words must encode the same instructions)
 *   .insn code, dst, src, off, imm     (any raw encoding, for rejection tests)
 */
#ifndef SL_ISA_ASM_H
#define SL_ISA_ASM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sl_vm.h"

#define ISA_MAX_INSNS 16384
#define ISA_MAX_MAPS 8

struct isa_map_spec {
	char name[64];
	uint32_t type, key_size, value_size, max_entries;
};

/** One test case read from a .data file. */
struct isa_case {
	char path[512];
	struct bpf_insn insns[ISA_MAX_INSNS];
	uint32_t n_insns;
	uint8_t *mem;             /**< malloc'd, or NULL */
	size_t mem_len;
	bool has_result;
	uint64_t result;
	bool has_error;
	char error[256];          /**< substring expected in the error ("" = any error) */
	enum sl_prog_type type;
	bool unverifiable;
	struct isa_map_spec maps[ISA_MAX_MAPS];
	unsigned n_maps;
};

/**
 * Read and assemble @p path into @p tc (zeroed first).
 * @return 0, or -1 with one line "file:line: reason" in @p err.
 */
int isa_case_load(const char *path, struct isa_case *tc, char *err, size_t err_len);

/** Free what isa_case_load() allocated. */
void isa_case_free(struct isa_case *tc);

/**
 * Assemble one program text (lines separated by '\n') into @p out.
 * @return instruction count, or -1 with "line N: reason" in @p err.
 */
int isa_assemble(const char *text, const struct isa_case *tc, struct bpf_insn *out,
		 unsigned max, char *err, size_t err_len);

#endif
