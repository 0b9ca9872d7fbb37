/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file sl_vm.h
 * sluice VM: ELF loading, programs, verification, interpretation.
 *
 * Life of a program:
 *   sl_obj_open()      ELF -> maps created, programs relocated (vm/loader)
 *   sl_prog_verify()   proof of safety; rewrites context accesses (vm/verifier)
 *   sl_vm_exec()       interpreter (vm/interp), or sl_jit_compile() (jit/)
 *
 * Errors: int functions return 0 or -errno; constructors return NULL and
 * set errno. Loader and verifier write one human line naming the location
 * into a log buffer that the caller owns.
 */
#ifndef SL_VM_H
#define SL_VM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sl_isa.h"

struct sl_map;
struct sl_map_def;
struct sl_vm_code;

/** Program types: the hook a program is written for. */
enum sl_prog_type {
	SL_PROG_RAW = 0,  /**< r1 = memory, r2 = its length (test-run --raw, bench "raw") */
	SL_PROG_XDP,      /**< r1 = struct xdp_md (sections "xdp", "xdp/...") */
	SL_PROG_SOCKET,   /**< r1 = struct __sk_buff (sections "socket", "socket/...") */
};

/**
 * Context an XDP program runs on, as sluice lays it out in memory.
 * The program sees the kernel's struct xdp_md (u32 fields); the verifier
 * rewrites its loads into loads of these fields (as the kernel does):
 *   xdp_md off 0 data            -> ldxdw off 0
 *   xdp_md off 4 data_end        -> ldxdw off 8
 *   xdp_md off 8 data_meta       -> ldxdw off 16
 *   xdp_md off 12 ingress_ifindex -> ldxw off 24
 *   xdp_md off 16 rx_queue_index  -> ldxw off 28
 *   xdp_md off 20 egress_ifindex  -> ldxw off 32
 */
struct sl_xdp_ctx {
	void *data;
	void *data_end;
	void *data_meta;
	uint32_t ingress_ifindex;
	uint32_t rx_queue_index;
	uint32_t egress_ifindex;
	uint32_t reserved;
	void *data_hard_start;  /**< start of headroom, for bpf_xdp_adjust_head */
	void *pkt_owner;        /**< engine's handle of the packet (mbuf), opaque to the VM */
	/**
	 * One past the last byte the packet may grow into (end of the
	 * buffer's tailroom), for bpf_xdp_adjust_tail with a positive delta.
	 * NULL means no tailroom: growing fails with -EINVAL. After the
	 * program, the engine takes the packet's bounds from data/data_end.
	 */
	void *data_hard_end;
};

/**
 * Context a socket-filter program runs on. The program's loads of
 * struct __sk_buff fields read @c skb directly (same offsets, so no
 * rewrite is needed); LD_ABS/LD_IND and bpf_skb_load_bytes read @c pkt.
 */
struct sl_skb_ctx {
	struct __sk_buff skb;
	const uint8_t *pkt;
	uint32_t pkt_len;
};

/**
 * skb->protocol for a frame that starts at its Ethernet header, as the
 * kernel's eth_type_trans() sets it (network byte order): the EtherType, or
 * for an 802.3 length field ETH_P_802_3 (raw IPX, 0xffff after the header)
 * or ETH_P_802_2. 0 for a frame shorter than the Ethernet header.
 */
static inline uint16_t sl_skb_eth_protocol(const uint8_t *pkt, uint32_t len)
{
	uint16_t t;

	if (len < 14)
		return 0;
	t = (uint16_t)(pkt[12] << 8 | pkt[13]);
	if (t < 0x600)
		t = len >= 16 && pkt[14] == 0xff && pkt[15] == 0xff ? 0x0001 : 0x0004;
	return (uint16_t)(t << 8 | t >> 8);
}

/** A contiguous function inside a program (index 0 is the entry). */
struct sl_subprog {
	uint32_t start;        /**< first instruction */
	uint32_t end;          /**< one past the last instruction */
	uint32_t stack_depth;  /**< bytes of stack used, rounded up to 8 (verifier) */
};

/** Per-instruction facts the verifier proves, for the JIT. */
struct sl_insn_aux {
	uint8_t seen;          /**< reached on some path */
	uint8_t ctx_access;    /**< a context load/store (already rewritten) */
	uint8_t nonzero_div;   /**< divisor proven nonzero: no check needed */
	uint8_t pad;
	struct sl_map *map;    /**< helper call: the one map arg r1 can hold, or NULL if several */
};

/**
 * A loaded program. Shared between vm/ (which builds and verifies it) and
 * jit/ (which compiles it); everyone else treats it as read-only.
 *
 * Map references are resolved by the loader into the kernel's
 * index form: lddw with src_reg = BPF_PSEUDO_MAP_IDX and imm = index into
 * @c maps (a map pointer), or src_reg = BPF_PSEUDO_MAP_IDX_VALUE with
 * imm = index and insn[1].imm = offset (a pointer into the value of a
 * one-element array, e.g. global data). Local calls are
 * call with src_reg = BPF_PSEUDO_CALL and imm = pc-relative offset.
 */
struct sl_prog {
	char name[64];           /**< function symbol name */
	char section[128];       /**< ELF section it came from ("xdp", "raw", ...) */
	char license[64];
	enum sl_prog_type type;
	struct bpf_insn *insns;  /**< owned */
	uint32_t n_insns;
	struct sl_insn_aux *aux; /**< owned, n_insns entries, zeroed until verified */
	struct sl_subprog *subprogs; /**< owned; set by loader or verifier */
	uint32_t n_subprogs;
	struct sl_map **maps;    /**< owned array of borrowed maps (the object owns them) */
	uint32_t n_maps;
	uint32_t mem_size;       /**< SL_PROG_RAW: bytes r1 points to, as told to the verifier */
	bool verified;
	/**
	 * Interpreter's pre-decoded form, owned, built by sl_vm_prepare() (one
	 * allocation, freed by sl_prog_fini()/sl_prog_free()); NULL until then.
	 */
	struct sl_vm_code *vm_code;
	/**
	 * Tail-call entry of the program's JIT code, set by sl_jit_compile()
	 * and cleared by sl_jit_free() of that code; NULL when not compiled
	 * (a JIT tail call into it then runs the interpreter). Not owned.
	 */
	void *jit_tail_entry;
};

/**
 * Options of sl_obj_open(). Zero-initialise; fields may be added at the end
 * (sl_opts.h: sz checked as libbpf's OPTS_VALID; a longer struct with unknown
 * nonzero bytes fails with EINVAL and a log line).
 */
struct sl_obj_opts {
	size_t sz;        /**< sizeof(struct sl_obj_opts), or 0 for this header's layout */
	unsigned ncpus;   /**< slots of per-CPU maps (worker count); 0 means 1 */
	/**
	 * Most bytes the object's maps may need: the sum over its maps of
	 * what each costs when full, as maps/ lays it out (sl_map_mem_cost():
	 * hash heads, elements with spares and bookkeeping; array values per
	 * slot). An object crossing it fails with E2BIG, checked before each
	 * map is created (a hostile object cannot make the loader reserve
	 * gigabytes). Map memory is reserved lazily: opening an object (and
	 * `sluice verify`) touches almost none of it.
	 * 0 means SL_OBJ_MAP_MEM_DEFAULT.
	 */
	uint64_t map_mem_limit;
	/**
	 * Program type of every executable section except ".text" (as
	 * `bpftool prog load ... type xdp`): every global function in such a
	 * section is a program of this type, whatever the section's name.
	 * Used when @c force_type is true; otherwise types come from section
	 * names (sl_prog_type_from_section()).
	 */
	bool force_type;
	enum sl_prog_type prog_type;
	/**
	 * Map sizes by name (`--map-size NAME=N`, a config file's
	 * maps.NAME.size), applied before each map is created: the size of a
	 * map declared with max_entries 0 (xdp-bench and xdp-trafficgen leave
	 * it to the loader), or a new size for any map, as libbpf's
	 * bpf_map__set_max_entries(). A map left at 0 (other than
	 * PERF_EVENT_ARRAY, sized per CPU) fails with EINVAL and a line naming
	 * the map and `--map-size`. Names the object does not define are
	 * ignored here (sl_obj_map_by_name() tells the caller). Not owned.
	 */
	const struct sl_obj_map_size *map_sizes;
	unsigned n_map_sizes;
	/**
	 * Hot reload: called for each map the object declares (legacy "maps"
	 * and BTF ".maps"; never for global data), before it is created. Return
	 * 1 with *map set to an existing map to use instead (borrowed: the new
	 * object does not free it until sl_obj_adopt_maps()), 0 to create the
	 * map as usual, or -errno to fail the open, with one line in @p msg
	 * ("map 'NAME': " is prefixed). NULL: every map is created.
	 */
	int (*map_reuse)(void *ctx, const char *name, const struct sl_map_def *def,
			 struct sl_map **map, char *msg, size_t msg_len);
	void *map_reuse_ctx;
};

/** One max_entries override of sl_obj_opts.map_sizes. */
struct sl_obj_map_size {
	const char *name;      /**< map name as in the object */
	uint32_t max_entries;  /**< nonzero */
};

/** Default of sl_obj_opts.map_mem_limit: 4 GiB. */
#define SL_OBJ_MAP_MEM_DEFAULT (4ull << 30)

struct sl_obj;

/**
 * Open an ELF object compiled with clang -target bpf: create its maps
 * (BTF-defined ".maps", legacy "maps", global data), relocate every
 * program section. Programs are not verified yet.
 * @param path    file to read
 * @param opts    options, or NULL
 * @param log     caller's buffer for one error line ("file.o: section 'xdp': ..."), may be NULL
 * @param log_len its size
 * @return the object, owned by the caller (sl_obj_close), or NULL with errno:
 *         ENOENT (no file), ENOEXEC (malformed / not BPF), EINVAL (bad
 *         relocation, unknown map symbol, unsupported map definition),
 *         E2BIG (maps over opts->map_mem_limit, program too long), ENOMEM,
 *         or the errno of sl_map_create() (e.g. ENOTSUP for a map type
 *         sluice lacks).
 */
struct sl_obj *sl_obj_open(const char *path, const struct sl_obj_opts *opts,
			   char *log, size_t log_len);

/** Same as sl_obj_open() from an in-memory image (copied); @p name labels errors. */
struct sl_obj *sl_obj_open_mem(const void *buf, size_t len, const char *name,
			       const struct sl_obj_opts *opts, char *log, size_t log_len);

/**
 * Move ownership of the maps @p to borrowed from @p from (map_reuse) into
 * @p to: sl_obj_close(from) then leaves them, sl_obj_close(to) frees them.
 * Control thread. @return maps moved.
 */
int sl_obj_adopt_maps(struct sl_obj *to, struct sl_obj *from);

/** Free an object, its programs and its maps (not maps it borrowed). NULL is allowed. */
void sl_obj_close(struct sl_obj *obj);

/** Number of programs in the object. */
unsigned sl_obj_prog_count(const struct sl_obj *obj);
/** Program @p i (0-based), owned by the object. */
struct sl_prog *sl_obj_prog(const struct sl_obj *obj, unsigned i);
/**
 * Program whose section name equals @p section, or the first program when
 * @p section is NULL. When no section matches, a program whose function
 * name equals @p section (for sections holding several programs).
 * NULL with errno = ENOENT when there is none.
 */
struct sl_prog *sl_obj_find_prog(const struct sl_obj *obj, const char *section);
/** Number of maps (including global data maps). */
unsigned sl_obj_map_count(const struct sl_obj *obj);
/** Map @p i, owned by the object. */
struct sl_map *sl_obj_map(const struct sl_obj *obj, unsigned i);

/** Map named @p name (as sl_map_name() gives it), or NULL with errno = ENOENT. */
struct sl_map *sl_obj_map_by_name(const struct sl_obj *obj, const char *name);

struct btf;
/**
 * The object's BTF (libbpf's struct btf, read with <bpf/btf.h>), owned by
 * the object; NULL when the object was loaded without BTF (BTF is read for
 * objects with BTF-defined ".maps").
 */
const struct btf *sl_obj_btf(const struct sl_obj *obj);
/**
 * BTF type ids of the key and value of @p map (the T of __type(key, T) and
 * __type(value, T) in a BTF-defined map), in sl_obj_btf(obj). An id is 0
 * when the map gives no type (legacy "maps", global data, __uint(key_size)).
 * @return 0, or -ENOENT when @p map is not one of @p obj's maps.
 */
int sl_obj_map_btf_ids(const struct sl_obj *obj, const struct sl_map *map, uint32_t *key_id,
		       uint32_t *value_id);

/**
 * Build a program from flat little-endian bytecode (test-run --raw).
 * @param type     program type (SL_PROG_RAW for test-run --raw)
 * @param mem_size for SL_PROG_RAW, bytes that r1 points to
 * @return program owned by the caller (sl_prog_free), or NULL with errno
 *         EINVAL (length not a multiple of 8, empty, too long), ENOMEM.
 */
struct sl_prog *sl_prog_from_raw(const void *bytes, size_t len, enum sl_prog_type type,
				 uint32_t mem_size, char *log, size_t log_len);

/**
 * Free a heap-allocated program (sl_prog_from_raw(), or any struct sl_prog
 * from malloc): everything it owns (insns, aux, subprogs, the maps array,
 * the interpreter's vm_code) and the struct itself. NULL is allowed.
 */
void sl_prog_free(struct sl_prog *prog);

/**
 * Free what @p prog owns (as sl_prog_free()) but not the struct itself, for
 * programs embedded in another structure (the loader's). Pointers are
 * reset to NULL and counts to 0. NULL is allowed.
 */
void sl_prog_fini(struct sl_prog *prog);

/**
 * Section name -> program type; -ENOENT for a section that is not a program.
 * As libbpf before 1.0, a name that starts with "xdp" (xdp, xdp/..., xdp.frags,
 * xdp_stats1, xdp_prog_kern) is XDP and one that starts with "socket" (socket,
 * socket1, socket/...) a socket filter; "raw" and "raw/..." are raw programs.
 */
int sl_prog_type_from_section(const char *section, enum sl_prog_type *type);

/** "xdp", "socket", "raw" -> program type; -EINVAL for another name. */
int sl_prog_type_from_name(const char *name, enum sl_prog_type *type);

/** Flags of sl_prog_verify(). */
enum {
	SL_VERIFY_LOG_STATES = 1u << 0, /**< log register state at each instruction (-v) */
};

/** Figures a verification reports. */
struct sl_verify_stats {
	uint32_t insns;            /**< instructions in the program */
	uint32_t insns_processed;  /**< instructions walked over all paths */
	uint32_t states;           /**< states stored for pruning */
	uint64_t ns;               /**< time taken */
};

/**
 * Verify @p prog (all subprograms), then rewrite context accesses, fill
 * prog->aux and prog->subprogs, and prepare the interpreter's form
 * (sl_vm_prepare()), so a verified program is ready for workers and as a
 * tail-call target. Control thread only; allocates.
 * @param log      caller's buffer: on error, the first error line
 *                 ("pc 12: r0 = *(u32 *)(r1 +0): R1 invalid mem access 'scalar'");
 *                 with SL_VERIFY_LOG_STATES, a trace before it
 * @return 0, or -EACCES (unsafe program), -EINVAL (malformed), -E2BIG
 *         (too complex), -ENOMEM.
 */
int sl_prog_verify(struct sl_prog *prog, unsigned flags, struct sl_verify_stats *stats,
		   char *log, size_t log_len);

/**
 * Options of an interpreter run. Zero-initialise; fields may be added at the
 * end (sl_opts.h: an invalid sz ends the run with -EINVAL in the result).
 */
struct sl_vm_run_opts {
	size_t sz;        /**< sizeof(struct sl_vm_run_opts), or 0 for this header's layout */
	/**
	 * Check every memory access, jump and call at run time (for programs
	 * that were not verified: test-run --no-verify). Accesses are allowed
	 * only to the stack frames, the memory regions below, and map values
	 * the program obtained from helpers.
	 */
	bool checked;
	void *mem;        /**< SL_PROG_RAW: r1 when ctx is NULL; a region the checked mode allows */
	size_t mem_len;   /**< r2 for SL_PROG_RAW */
	/**
	 * Internal (bpf_loop callbacks, verified mode): when nonzero, start at
	 * this instruction with r1 = entry_r1 and r2 = entry_r2 instead of the
	 * program's entry; @p ctx is ignored then.
	 */
	uint32_t entry_pc;
	uint64_t entry_r1, entry_r2;
};

/** Result of an interpreter run. */
struct sl_vm_result {
	uint64_t r0;
	int err;          /**< 0, or -EFAULT (bad access), -EINVAL (bad insn/jump/helper), -E2BIG (call depth) */
	uint32_t err_pc;  /**< pc of the fault when err != 0 */
	char msg[128];    /**< one line describing the fault */
};

/**
 * Check every instruction's encoding (unknown opcodes, nonzero reserved
 * fields, registers > 10, writes to r10, jumps out of range or into the
 * middle of lddw, unknown helpers, bad pseudo lddw) and build the
 * interpreter's pre-decoded form in prog->vm_code (replacing an older one).
 * Control thread; allocates. sl_prog_verify() calls it on success; call it
 * yourself for a program you run unverified (checked mode) or after
 * changing its instructions or prog->verified, before workers may run it.
 * The run loops never prepare (see sl_vm_exec()).
 * @param log one line "pc N: reason" on error
 * @return 0, -EINVAL (malformed instruction), -ENOMEM.
 */
int sl_vm_prepare(struct sl_prog *prog, char *log, size_t log_len);

/**
 * Run @p prog in the interpreter on @p ctx (r1; for SL_PROG_RAW a NULL
 * @p ctx means opts->mem). Worker or any thread; no allocation for a
 * prepared program (sl_prog_verify() prepares; so does sl_vm_prepare()). A
 * program whose pre-decoded form is missing or stale is prepared here
 * first, which allocates and writes prog->vm_code: control thread only,
 * never for a program workers may run. Tail-call targets are never
 * prepared during a run: an unprepared one ends it with -EINVAL. Without
 * opts->checked the program must be verified (or trusted): nothing is
 * checked at run time except the call depth. In checked mode every fault
 * (bad access, helper argument, call depth, 10 million instructions) ends
 * the run and is reported in @p res ("pc N: reason") instead of crashing.
 * Tail calls need the targets' types to match. @p opts and @p res may be
 * NULL. Returns r0 (0 after a fault).
 */
uint64_t sl_vm_exec(const struct sl_prog *prog, void *ctx,
		    const struct sl_vm_run_opts *opts, struct sl_vm_result *res);

/**
 * Disassemble one instruction in the kernel verifier-log syntax into @p buf
 * ("r0 = *(u8 *)(r1 +12)"). @return instructions consumed (1, or 2 for lddw).
 */
int sl_disasm_insn(const struct bpf_insn *insn, uint32_t remaining, char *buf, size_t len);

/** Disassemble a whole program to @p out, one line per instruction, "   12: ..." */
void sl_disasm_prog(const struct sl_prog *prog, FILE *out);

/**
 * Read the whole file @p path into one heap buffer (the loader's and the
 * commands' one file reader). Control thread or main(); allocates.
 * @param max 0: a regular file of any size (EINVAL for anything else);
 *            else any file but a directory (pipes too), at most @p max bytes
 * @param buf set to the bytes, owned by the caller (free())
 * @param len set to their count
 * @return 0, or -ENOENT/-EACCES/... (open), -EISDIR, -EINVAL, -EFBIG (more
 *         than @p max bytes), -EIO (a short read), -ENOMEM
 */
int sl_vm_read_file(const char *path, size_t max, uint8_t **buf, size_t *len);

#endif /* SL_VM_H */
