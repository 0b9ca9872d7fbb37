/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ELF loader internals (vm/loader/): the sections, functions, relocations
 * and map symbols of one image, the layout of struct sl_obj, the state of one
 * load (struct ld_ctx), and the functions the load phases share.
 *
 *   loader.c         drives a load: ELF header, sections, symbol table,
 *                    license; sl_obj_open*() and the sl_obj accessors
 *   loader_common.c  error line (ld_err), section strings, symbols
 *   loader_maps.c    legacy "maps", global data; ld_add_map() for every map
 *   loader_btf.c     BTF-defined ".maps" and their initial inner maps
 *   loader_prog.c    functions, relocations, bpf-to-bpf calls, programs
 *
 * Calls go one way: loader.c -> btf, maps, prog; prog -> btf -> maps;
 * all -> common (scripts/file-cycles.py checks that no file calls back).
 * Control thread only.
 */
#ifndef SL_LOADER_INTERNAL_H
#define SL_LOADER_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <gelf.h>

#include "sl_errlog.h"
#include "sl_maps.h"
#include "sl_opts.h"
#include "sl_vm.h"

struct btf;

/** What the loader does with a section. */
enum ld_sec_kind {
	LD_SEC_OTHER = 0,    /**< ignored (debug info, .BTF.ext, version, ...) */
	LD_SEC_PROG,         /**< program code: "xdp", "socket/...", ... */
	LD_SEC_TEXT,         /**< ".text": subprograms only */
	LD_SEC_MAPS_BTF,     /**< ".maps" */
	LD_SEC_MAPS_LEGACY,  /**< "maps": struct bpf_map_def per symbol */
	LD_SEC_DATA,         /**< .rodata*, .data*, .bss*: one-element array */
};

/** One ELF section, validated: data lies inside the image. */
struct ld_sec {
	const char *name;         /**< points into the image's shstrtab */
	GElf_Shdr shdr;
	const uint8_t *data;      /**< NULL for SHT_NOBITS */
	size_t size;              /**< sh_size */
	enum ld_sec_kind kind;
	enum sl_prog_type ptype;  /**< LD_SEC_PROG */
	int map_idx;              /**< LD_SEC_DATA: index in obj->maps, or -1 */
	uint32_t n_insns;         /**< code sections: size / 8 */
	struct bpf_insn *insns;   /**< code sections: decoded copy */
	int32_t *relo_at;         /**< code sections: per insn, index in ld_ctx.relos or -1 */
};

/** A resolved relocation of one instruction of a code section. */
/** FUNC: lddw of a function's address (BPF_PSEUDO_FUNC, callbacks), target as CALL. */
enum ld_relo_kind { LD_RELO_MAP, LD_RELO_MAP_VALUE, LD_RELO_CALL, LD_RELO_FUNC };

struct ld_relo {
	enum ld_relo_kind kind;
	uint32_t map_idx;      /**< MAP, MAP_VALUE: index in obj->maps */
	uint32_t value_off;    /**< MAP_VALUE: byte offset into the value */
	uint32_t target_sec;   /**< CALL, FUNC: code section of the callee */
	int64_t target;        /**< CALL, FUNC: instruction index in that section */
};

/** A function: a STT_FUNC symbol's range of instructions in a code section. */
struct ld_func {
	uint32_t sec;
	uint32_t start, end;   /**< instruction indexes, end exclusive */
	const char *name;
	bool global;
};

/** Map symbol in ".maps" / "maps": relocations find maps by (section, offset). */
struct ld_map_sym {
	uint32_t sec;
	uint64_t off;
	uint32_t map_idx;
	bool outer;            /**< ARRAY_OF_MAPS / HASH_OF_MAPS ... */
	uint32_t values_off;   /**< ... with its "values" member at off + values_off */
};

/** The object being built. */
struct sl_obj {
	char name[128];
	struct sl_prog **progs;
	unsigned n_progs;
	struct sl_map **maps;
	bool *map_borrowed;      /**< per map: another object's (sl_obj_opts.map_reuse), not freed */
	unsigned n_maps;
	unsigned map_cap;
	char license[64];
	struct btf *btf;            /**< owned; NULL without BTF */
	struct ld_map_btf *map_btf; /**< map_cap entries: BTF ids of each map's key and value */
};

/** BTF type ids of one map's key and value (0: untyped). */
struct ld_map_btf {
	uint32_t key, value;
};

/** Everything known while loading one image; freed once the object is built. */
struct ld_ctx {
	const char *name;        /**< label of the image in error lines */
	struct sl_errlog log;    /**< caller's buffer; the first error line is kept */
	unsigned ncpus;
	uint64_t map_mem;         /**< estimated bytes of the maps made so far */
	uint64_t map_mem_limit;
	const struct sl_obj_opts *opts; /**< map_sizes, map_reuse (check sz before reading them), or NULL */
	bool force_type;          /**< every executable section but .text is a program ... */
	enum sl_prog_type prog_type;  /**< ... of this type (sl_obj_opts.prog_type) */
	const struct sl_obj_map_size *map_sizes;  /**< sl_obj_opts.map_sizes */
	unsigned n_map_sizes;
	const uint8_t *image;
	size_t image_len;
	Elf *elf;
	size_t n_secs;
	struct ld_sec *secs;
	size_t symtab_idx;       /**< 0 when there is none */
	Elf_Data *symtab;
	size_t n_syms;
	size_t strtab_idx;
	struct btf *btf;
	struct ld_func *funcs;
	size_t n_funcs;
	struct ld_relo *relos;
	size_t n_relos, relo_cap;
	struct ld_map_sym *map_syms;
	size_t n_map_syms, map_sym_cap;
	struct sl_obj *obj;
	char kfuncs[256];        /**< names of the kfuncs called, "'a', 'b'" */
	const char *kfunc_sec;   /**< section of the first kfunc call */
};

/** sl_obj_opts @p opts holds @p field (sl_opts.h: sz 0 or sz past the field). */
#define OPTS_HAS(opts, field) SL_OPTS_HAS(opts, struct sl_obj_opts, field)

/** "name: <message>" into the log through sl_errlog_set (first error only);
 *  @p err is a negative errno, returned. */
int ld_err(struct ld_ctx *ctx, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/** NUL-terminated string at @p off of section @p sec, or NULL. */
const char *ld_sec_str(const struct ld_ctx *ctx, size_t sec, size_t off);

/** Symbol @p i of .symtab; 0 or a negative errno (logged). */
int ld_sym(struct ld_ctx *ctx, size_t i, GElf_Sym *sym);

/** Name of a symbol: its string, or its section's name for STT_SECTION. */
const char *ld_sym_name(const struct ld_ctx *ctx, const GElf_Sym *sym);

/**
 * Create a map, add it to the object, and record where its symbol lives.
 * @p inner: the inner map template of a map-in-map (NULL otherwise), whose
 * "values" member (initial inner maps) is at @p values_off in the symbol.
 */
int ld_add_map(struct ld_ctx *ctx, const char *name, const struct sl_map_def *def,
	       const struct sl_map_def *inner, uint32_t values_off, uint32_t sec, uint64_t off,
	       bool has_sym);
/** One relocation of ".rel.maps" (section @p sec is ".maps"): an initial inner map. */
int ld_btf_map_relo(struct ld_ctx *ctx, uint32_t sec, size_t j, const GElf_Rel *rel);

/** Maps from the legacy "maps" section @p sec. */
int ld_legacy_maps(struct ld_ctx *ctx, uint32_t sec);
/** One-element array map for the global data section @p sec. */
int ld_data_map(struct ld_ctx *ctx, uint32_t sec);
/** BTF-defined maps from the ".maps" section @p sec. */
int ld_btf_maps(struct ld_ctx *ctx, uint32_t sec);
/** Decode code, resolve functions and relocations, build every program. */
int ld_build_progs(struct ld_ctx *ctx);

#endif /* SL_LOADER_INTERNAL_H */
