/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Loader tests' independent view of an ELF object: sections and symbols
 * as llvm-readelf prints them, relocations as llvm-objdump -r prints them,
 * and the file's raw bytes. Nothing here uses sluice code.
 */
#ifndef LOADER_REF_H
#define LOADER_REF_H

#include <stddef.h>
#include <stdint.h>

#define REF_MAX 256

struct ref_sec {
	unsigned idx;
	char name[64];
	uint64_t off, size;
};

struct ref_sym {
	unsigned num;     /* index in .symtab */
	uint64_t value, size;
	char type[16];    /* FUNC, OBJECT, SECTION, NOTYPE, FILE */
	char bind[16];    /* LOCAL, GLOBAL, WEAK */
	int shndx;        /* -1 for UND, ABS, COM */
	char name[64];
};

struct ref_rel {
	char sec[64];     /* section the relocation applies to */
	uint64_t off;
	char type[32];    /* R_BPF_64_64, R_BPF_64_32, ... */
	char sym[64];     /* symbol name (section name for section symbols) */
};

struct ref_obj {
	uint8_t *bytes;
	size_t len;
	struct ref_sec secs[REF_MAX];
	unsigned n_secs;
	struct ref_sym syms[REF_MAX];
	unsigned n_syms;
	struct ref_rel rels[REF_MAX];
	unsigned n_rels;
};

/** Fill @p r from @p path with the two tools; 0 or -1 (message on stderr). */
int ref_load(struct ref_obj *r, const char *path, const char *readelf, const char *objdump);
void ref_free(struct ref_obj *r);
const struct ref_sec *ref_sec_by_name(const struct ref_obj *r, const char *name);
const struct ref_sec *ref_sec_by_idx(const struct ref_obj *r, int idx);
/** Symbol named @p name (not a section symbol), or NULL. */
const struct ref_sym *ref_sym_by_name(const struct ref_obj *r, const char *name);
/** FUNC symbol of section @p shndx covering instruction @p insn, or NULL. */
const struct ref_sym *ref_func_at(const struct ref_obj *r, int shndx, int64_t insn);
/** Raw 8 bytes of instruction @p insn of section @p s. */
const uint8_t *ref_insn(const struct ref_obj *r, const struct ref_sec *s, uint64_t insn);

#endif
