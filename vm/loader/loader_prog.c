/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Programs of an ELF object: functions, relocations, bpf-to-bpf calls.
 *
 * Code sections are program sections ("xdp", "socket/...") and ".text".
 * Every STT_FUNC symbol is a function (a range of instructions of its
 * section). Every global function of a program section is one program,
 * as in libbpf; ".text" holds subprograms only. A lddw relocated against
 * a function (a callback for bpf_loop) becomes BPF_PSEUDO_FUNC: its
 * function is placed like a callee and imm = target - (pc + 1), as libbpf
 * sets it.
 *
 * Relocations are resolved once per code section into struct ld_relo
 * (map, map value, or call target), then applied to each program's copy:
 * a program is its entry function followed by every function it calls,
 * transitively, each placed once (libbpf's layout). A call's target is
 * sym_value / 8 + imm + 1 with a relocation, pc + imm + 1 in its own
 * section without one; the copy's call imm becomes target - (pc + 1).
 * Control thread only.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "loader_internal.h"

#ifndef R_BPF_NONE
#define R_BPF_NONE 0
#endif
#ifndef R_BPF_64_64
#define R_BPF_64_64 1
#endif
#ifndef R_BPF_64_32
#define R_BPF_64_32 10
#endif

_Static_assert(sizeof(struct bpf_insn) == 8, "struct bpf_insn is 8 bytes");

static bool is_code(const struct ld_sec *s)
{
	return s->kind == LD_SEC_PROG || s->kind == LD_SEC_TEXT;
}

static bool is_pseudo_call(const struct bpf_insn *insn)
{
	return insn->code == (BPF_JMP | BPF_CALL) && insn->src_reg == BPF_PSEUDO_CALL;
}

/* ---- code sections ---- */

static int decode_code(struct ld_ctx *ctx)
{
	for (size_t i = 1; i < ctx->n_secs; i++) {
		struct ld_sec *s = &ctx->secs[i];
		size_t n;

		if (!is_code(s))
			continue;
		if (s->size % sizeof(struct bpf_insn))
			return ld_err(ctx, -ENOEXEC, "section '%s': size %zu is not a multiple of 8",
				      s->name, s->size);
		n = s->size / sizeof(struct bpf_insn);
		if (n > SL_MAX_INSNS)
			return ld_err(ctx, -ENOEXEC, "section '%s': %zu instructions, more than %u",
				      s->name, n, SL_MAX_INSNS);
		if (!n)
			continue;
		s->insns = malloc(n * sizeof(*s->insns));
		s->relo_at = malloc(n * sizeof(*s->relo_at));
		if (!s->insns || !s->relo_at)
			return ld_err(ctx, -ENOMEM, "out of memory");
		memcpy(s->insns, s->data, n * sizeof(*s->insns));
		for (size_t k = 0; k < n; k++)
			s->relo_at[k] = -1;
		s->n_insns = (uint32_t)n;
	}
	return 0;
}

/* ---- functions ---- */

static int func_cmp(const void *a, const void *b)
{
	const struct ld_func *x = a, *y = b;

	if (x->sec != y->sec)
		return x->sec < y->sec ? -1 : 1;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return 0;
}

/* Add the function of symbol @p sym if it is one; 0 or -errno. */
static int add_func(struct ld_ctx *ctx, const GElf_Sym *sym)
{
	const struct ld_sec *s;
	struct ld_func *f;
	uint64_t start, len;

	if (GELF_ST_TYPE(sym->st_info) != STT_FUNC || sym->st_shndx == SHN_UNDEF ||
	    sym->st_shndx >= ctx->n_secs || !is_code(&ctx->secs[sym->st_shndx]))
		return 0;
	s = &ctx->secs[sym->st_shndx];
	start = sym->st_value / 8;
	len = sym->st_size / 8;
	if (sym->st_value % 8 || sym->st_size % 8 || start >= s->n_insns ||
	    len > s->n_insns - start)
		return ld_err(ctx, -ENOEXEC, "section '%s': function '%s' (offset %llu, size %llu) "
			      "out of bounds", s->name, ld_sym_name(ctx, sym),
			      (unsigned long long)sym->st_value, (unsigned long long)sym->st_size);
	f = &ctx->funcs[ctx->n_funcs++];
	f->sec = sym->st_shndx;
	f->start = (uint32_t)start;
	f->end = (uint32_t)(start + len);   /* 0 length: fixed up after sorting */
	f->name = ld_sym_name(ctx, sym);
	f->global = GELF_ST_BIND(sym->st_info) != STB_LOCAL;
	return 0;
}

static int collect_funcs(struct ld_ctx *ctx)
{
	GElf_Sym sym;
	int err;

	ctx->funcs = calloc(ctx->n_syms ? ctx->n_syms : 1, sizeof(*ctx->funcs));
	if (!ctx->funcs)
		return ld_err(ctx, -ENOMEM, "out of memory");
	for (size_t i = 1; i < ctx->n_syms; i++) {
		err = ld_sym(ctx, i, &sym);
		if (!err)
			err = add_func(ctx, &sym);
		if (err)
			return err;
	}
	qsort(ctx->funcs, ctx->n_funcs, sizeof(*ctx->funcs), func_cmp);
	/* A function without a size runs to the next function or the section end. */
	for (size_t i = 0; i < ctx->n_funcs; i++) {
		struct ld_func *f = &ctx->funcs[i];

		if (f->end > f->start)
			continue;
		f->end = ctx->secs[f->sec].n_insns;
		for (size_t k = i + 1; k < ctx->n_funcs && ctx->funcs[k].sec == f->sec; k++)
			if (ctx->funcs[k].start > f->start) {
				f->end = ctx->funcs[k].start;
				break;
			}
	}
	return 0;
}

/* Index of the function of section @p sec that holds instruction @p idx, or -1. */
static long func_at(const struct ld_ctx *ctx, uint32_t sec, int64_t idx)
{
	size_t lo = 0, hi = ctx->n_funcs;

	/* first function at or after (sec, idx + 1), then walk back */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct ld_func *f = &ctx->funcs[mid];

		if (f->sec < sec || (f->sec == sec && (int64_t)f->start <= idx))
			lo = mid + 1;
		else
			hi = mid;
	}
	while (lo-- > 0) {
		const struct ld_func *f = &ctx->funcs[lo];

		if (f->sec != sec)
			break;
		if ((int64_t)f->start <= idx && idx < (int64_t)f->end)
			return (long)lo;
	}
	return -1;
}

/* ---- relocations ---- */

static int relo_map_sym(struct ld_ctx *ctx, const char *where, const GElf_Sym *sym,
			const struct bpf_insn *insn, struct ld_relo *r)
{
	const char *name = ld_sym_name(ctx, sym);
	const struct ld_sec *ts;
	int64_t off;

	if (sym->st_shndx == SHN_UNDEF || sym->st_shndx >= ctx->n_secs)
		return ld_err(ctx, -EINVAL, "%s refers to unknown map symbol '%s'", where, name);
	ts = &ctx->secs[sym->st_shndx];
	switch (ts->kind) {
	case LD_SEC_MAPS_BTF:
	case LD_SEC_MAPS_LEGACY:
		for (size_t i = 0; i < ctx->n_map_syms; i++) {
			if (ctx->map_syms[i].sec == sym->st_shndx &&
			    ctx->map_syms[i].off == sym->st_value) {
				r->kind = LD_RELO_MAP;
				r->map_idx = ctx->map_syms[i].map_idx;
				return 0;
			}
		}
		return ld_err(ctx, -EINVAL, "%s refers to unknown map symbol '%s'", where, name);
	case LD_SEC_DATA:
		off = (int64_t)(sym->st_value & 0xffffffffu) + insn->imm;
		if (ts->map_idx < 0)
			return ld_err(ctx, -EINVAL, "%s refers to unknown map symbol '%s'", where, name);
		if (sym->st_value > ts->size || off < 0 || (uint64_t)off > ts->size)
			return ld_err(ctx, -EINVAL, "%s: offset %lld is outside section '%s' (%zu bytes)",
				      where, (long long)off, ts->name, ts->size);
		r->kind = LD_RELO_MAP_VALUE;
		r->map_idx = (uint32_t)ts->map_idx;
		r->value_off = (uint32_t)off;
		return 0;
	case LD_SEC_PROG:
	case LD_SEC_TEXT:
		/* function symbol: imm 0; section symbol: imm = byte offset */
		off = (int64_t)sym->st_value + insn->imm;
		if (off < 0 || off % 8 || (uint64_t)off / 8 >= ts->n_insns)
			return ld_err(ctx, -EINVAL, "%s: function address '%s' + %d is not an "
				      "instruction of section '%s'", where, name, insn->imm, ts->name);
		r->kind = LD_RELO_FUNC;
		r->target_sec = sym->st_shndx;
		r->target = off / 8;
		return 0;
	default:
		return ld_err(ctx, -EINVAL, "%s refers to symbol '%s' in section '%s', which holds "
			      "no map", where, name, ts->name);
	}
}

static int relo_call(struct ld_ctx *ctx, const char *where, const GElf_Sym *sym,
		     const struct bpf_insn *insn, struct ld_relo *r)
{
	if (!is_pseudo_call(insn))
		return ld_err(ctx, -EINVAL, "%s: R_BPF_64_32 on an instruction that is not a "
			      "bpf-to-bpf call", where);
	if (sym->st_shndx == SHN_UNDEF || sym->st_shndx >= ctx->n_secs ||
	    !is_code(&ctx->secs[sym->st_shndx]) || sym->st_value % 8)
		return ld_err(ctx, -EINVAL, "%s calls unknown function '%s'", where,
			      ld_sym_name(ctx, sym));
	r->kind = LD_RELO_CALL;
	r->target_sec = sym->st_shndx;
	r->target = (int64_t)(sym->st_value / 8) + insn->imm + 1;
	return 0;
}

static int add_relo(struct ld_ctx *ctx, struct ld_sec *s, uint32_t idx, const struct ld_relo *r)
{
	if (ctx->n_relos == ctx->relo_cap) {
		size_t cap = ctx->relo_cap ? ctx->relo_cap * 2 : 16;
		struct ld_relo *nr = realloc(ctx->relos, cap * sizeof(*nr));

		if (!nr)
			return ld_err(ctx, -ENOMEM, "out of memory");
		ctx->relos = nr;
		ctx->relo_cap = cap;
	}
	ctx->relos[ctx->n_relos] = *r;
	s->relo_at[idx] = (int32_t)ctx->n_relos++;
	return 0;
}

/*
 * A call of a kfunc (a kernel function, extern __ksym): remember its name;
 * the object is refused once every relocation has been read, naming them all.
 */
static int note_kfunc(struct ld_ctx *ctx, const struct ld_sec *s, const GElf_Sym *sym)
{
	const char *name = ld_sym_name(ctx, sym);
	size_t len = strlen(ctx->kfuncs);
	char quoted[160];

	snprintf(quoted, sizeof(quoted), "'%.150s'", name);
	if (strstr(ctx->kfuncs, quoted))
		return 0;
	if (!ctx->kfunc_sec)
		ctx->kfunc_sec = s->name;
	if (len + strlen(quoted) + 8 < sizeof(ctx->kfuncs))
		snprintf(ctx->kfuncs + len, sizeof(ctx->kfuncs) - len, "%s%s", len ? ", " : "", quoted);
	else if (!strstr(ctx->kfuncs, ", ..."))
		snprintf(ctx->kfuncs + len, sizeof(ctx->kfuncs) - len, ", ...");
	return 0;
}

static int one_relo(struct ld_ctx *ctx, struct ld_sec *s, size_t j, const GElf_Rel *rel)
{
	uint64_t type = GELF_R_TYPE(rel->r_info), off = rel->r_offset;
	struct ld_relo r = { 0 };
	char where[192];
	GElf_Sym sym;
	uint32_t idx;
	int err;

	snprintf(where, sizeof(where), "section '%s': relocation %zu", s->name, j);
	if (type == R_BPF_NONE)
		return 0;
	if (off % 8 || off / 8 >= s->n_insns)
		return ld_err(ctx, -ENOEXEC, "%s: offset %llu out of bounds", where,
			      (unsigned long long)off);
	idx = (uint32_t)(off / 8);
	if (s->relo_at[idx] >= 0)
		return ld_err(ctx, -ENOEXEC, "%s: instruction %u relocated twice", where, idx);
	if (GELF_R_SYM(rel->r_info) >= ctx->n_syms)
		return ld_err(ctx, -ENOEXEC, "%s: symbol %llu out of range (%zu symbols)", where,
			      (unsigned long long)GELF_R_SYM(rel->r_info), ctx->n_syms);
	err = ld_sym(ctx, GELF_R_SYM(rel->r_info), &sym);
	if (err)
		return err;
	if (type == R_BPF_64_64) {
		if (!sl_isa_is_lddw(&s->insns[idx]) || idx + 1 >= s->n_insns)
			return ld_err(ctx, -EINVAL, "%s: instruction %u is not a lddw", where, idx);
		err = relo_map_sym(ctx, where, &sym, &s->insns[idx], &r);
	} else if (type == R_BPF_64_32 && s->insns[idx].code == (BPF_JMP | BPF_CALL) &&
		   (s->insns[idx].src_reg == BPF_PSEUDO_KFUNC_CALL ||
		    (s->insns[idx].src_reg == BPF_PSEUDO_CALL && sym.st_shndx == SHN_UNDEF))) {
		/* clang marks an extern call as a local call; libbpf makes it a kfunc call */
		return note_kfunc(ctx, s, &sym);
	} else if (type == R_BPF_64_32) {
		err = relo_call(ctx, where, &sym, &s->insns[idx], &r);
	} else {
		err = ld_err(ctx, -EINVAL, "%s: relocation type %llu is not supported in program "
			     "code", where, (unsigned long long)type);
	}
	return err ? err : add_relo(ctx, s, idx, &r);
}

/* ".rel.maps": initial inner maps of map-in-map (vm/loader/loader_btf.c) */
static int maps_relos(struct ld_ctx *ctx, size_t i, const struct ld_sec *rs)
{
	Elf_Data *data = elf_getdata(elf_getscn(ctx->elf, i), NULL);
	GElf_Rel rel;
	int err;

	if (rs->shdr.sh_type != SHT_REL || rs->shdr.sh_link != ctx->symtab_idx || !data)
		return ld_err(ctx, -ENOEXEC, "section '%s': unreadable map relocations", rs->name);
	for (size_t j = 0; j < data->d_size / sizeof(Elf64_Rel); j++) {
		if (!gelf_getrel(data, (int)j, &rel))
			return ld_err(ctx, -ENOEXEC, "section '%s': relocation %zu unreadable",
				      rs->name, j);
		err = ld_btf_map_relo(ctx, rs->shdr.sh_info, j, &rel);
		if (err)
			return err;
	}
	return 0;
}

static int relo_section(struct ld_ctx *ctx, size_t i)
{
	const struct ld_sec *rs = &ctx->secs[i];
	struct ld_sec *s;
	Elf_Data *data;
	GElf_Rel rel;
	size_t n;
	int err;

	if (rs->shdr.sh_info == 0 || rs->shdr.sh_info >= ctx->n_secs)
		return ld_err(ctx, -ENOEXEC, "section %zu: relocations for section %u, out of range",
			      i, rs->shdr.sh_info);
	s = &ctx->secs[rs->shdr.sh_info];
	if (s->kind == LD_SEC_MAPS_BTF)
		return maps_relos(ctx, i, rs);
	if (!is_code(s))
		return 0;   /* .BTF, .BTF.ext, debug info: nothing to do */
	if (rs->shdr.sh_type == SHT_RELA)
		return ld_err(ctx, -ENOEXEC, "section '%s': RELA relocations are not supported",
			      rs->name);
	if (rs->shdr.sh_link != ctx->symtab_idx)
		return ld_err(ctx, -ENOEXEC, "section '%s': relocations use symbol table %u, not %zu",
			      rs->name, rs->shdr.sh_link, ctx->symtab_idx);
	data = elf_getdata(elf_getscn(ctx->elf, i), NULL);
	if (!data)
		return ld_err(ctx, -ENOEXEC, "section '%s': unreadable: %s", rs->name,
			      elf_errmsg(-1));
	n = data->d_size / sizeof(Elf64_Rel);
	for (size_t j = 0; j < n; j++) {
		if (!gelf_getrel(data, (int)j, &rel))
			return ld_err(ctx, -ENOEXEC, "section '%s': relocation %zu unreadable",
				      rs->name, j);
		err = one_relo(ctx, s, j, &rel);
		if (err)
			return err;
	}
	return 0;
}

static int collect_relos(struct ld_ctx *ctx)
{
	int err;

	for (size_t i = 1; i < ctx->n_secs; i++) {
		uint32_t type = ctx->secs[i].shdr.sh_type;

		if (type != SHT_REL && type != SHT_RELA)
			continue;
		err = relo_section(ctx, i);
		if (err)
			return err;
	}
	if (ctx->kfuncs[0])
		return ld_err(ctx, -ENOTSUP, "section '%s': calls kfunc %s: kfuncs are not supported "
			      "(sluice runs outside the kernel; only helpers are provided)",
			      ctx->kfunc_sec, ctx->kfuncs);
	return 0;
}

/* ---- one program ---- */

struct placed {
	uint32_t func;   /* index in ctx->funcs */
	uint32_t at;     /* first instruction in the program */
};

struct build {
	struct ld_ctx *ctx;
	struct sl_prog *prog;
	struct placed *list;
	size_t n_list;
	uint32_t total;
	int32_t *local_map;   /* obj map index -> prog->maps index, or -1 */
};

static uint32_t func_len(const struct ld_func *f)
{
	return f->end - f->start;
}

/* Call at (sec, pc): section and instruction index of the callee. */
static void call_target(const struct ld_ctx *ctx, uint32_t sec, uint32_t pc,
			uint32_t *tsec, int64_t *tidx)
{
	const struct ld_sec *s = &ctx->secs[sec];
	int32_t r = s->relo_at[pc];

	if (r >= 0 && (ctx->relos[r].kind == LD_RELO_CALL || ctx->relos[r].kind == LD_RELO_FUNC)) {
		*tsec = ctx->relos[r].target_sec;
		*tidx = ctx->relos[r].target;
	} else {
		*tsec = sec;
		*tidx = (int64_t)pc + s->insns[pc].imm + 1;
	}
}

/* Position of function @p fi in the program, placing it at the end if new. */
static int place(struct build *b, long fi, uint32_t *at)
{
	const struct ld_func *f = &b->ctx->funcs[fi];

	for (size_t i = 0; i < b->n_list; i++)
		if (b->list[i].func == (uint32_t)fi) {
			*at = b->list[i].at;
			return 0;
		}
	if (b->total + (uint64_t)func_len(f) > SL_MAX_INSNS)
		return ld_err(b->ctx, -E2BIG, "program '%s': more than %u instructions with its "
			      "subprograms", b->ctx->funcs[b->list[0].func].name, SL_MAX_INSNS);
	b->list[b->n_list++] = (struct placed){ .func = (uint32_t)fi, .at = b->total };
	*at = b->total;
	b->total += func_len(f);
	return 0;
}

/* lddw of a function's address (callback) at (sec, pc)? */
static bool is_func_ref(const struct ld_ctx *ctx, uint32_t sec, uint32_t pc)
{
	int32_t r = ctx->secs[sec].relo_at[pc];

	return r >= 0 && ctx->relos[r].kind == LD_RELO_FUNC;
}

/* Where the call or function reference at (sec, pc) lands, placing its callee. */
static int resolve_call(struct build *b, uint32_t sec, uint32_t pc, uint32_t *npc)
{
	struct ld_ctx *ctx = b->ctx;
	uint32_t tsec, at;
	int64_t tidx;
	long g;
	int err;

	call_target(ctx, sec, pc, &tsec, &tidx);
	g = func_at(ctx, tsec, tidx);
	if (g < 0)
		return ld_err(ctx, -EINVAL, "section '%s': instruction %u calls instruction %lld of "
			      "section '%s', which is in no function", ctx->secs[sec].name, pc,
			      (long long)tidx, ctx->secs[tsec].name);
	err = place(b, g, &at);
	*npc = at + (uint32_t)(tidx - ctx->funcs[g].start);
	return err;
}

/* Lay out the entry function and every function it calls, transitively. */
static int layout(struct build *b, long entry)
{
	uint32_t npc;
	int err = place(b, entry, &npc);

	for (size_t k = 0; !err && k < b->n_list; k++) {
		const struct ld_func *f = &b->ctx->funcs[b->list[k].func];
		const struct ld_sec *s = &b->ctx->secs[f->sec];

		for (uint32_t pc = f->start; !err && pc < f->end; pc++)
			if (is_pseudo_call(&s->insns[pc]) || is_func_ref(b->ctx, f->sec, pc))
				err = resolve_call(b, f->sec, pc, &npc);
	}
	return err;
}

static int prog_map(struct build *b, uint32_t obj_idx, int32_t *imm)
{
	struct sl_prog *prog = b->prog;

	if (b->local_map[obj_idx] < 0) {
		b->local_map[obj_idx] = (int32_t)prog->n_maps;
		prog->maps[prog->n_maps++] = b->ctx->obj->maps[obj_idx];
	}
	*imm = b->local_map[obj_idx];
	return 0;
}

/* Fix one copied instruction at @p npc that came from (f->sec, pc). */
static int fix_insn(struct build *b, const struct ld_func *f, uint32_t pc, uint32_t npc)
{
	const struct ld_sec *s = &b->ctx->secs[f->sec];
	struct bpf_insn *insn = &b->prog->insns[npc];
	int32_t r = s->relo_at[pc];
	uint32_t target;
	int err;

	if (is_pseudo_call(insn)) {
		err = resolve_call(b, f->sec, pc, &target);
		insn->imm = (int32_t)((int64_t)target - (int64_t)npc - 1);
		return err;
	}
	if (r < 0) {
		if (sl_isa_is_lddw(insn) && insn->src_reg)
			return ld_err(b->ctx, -EINVAL, "section '%s': instruction %u: lddw with "
				      "src_reg %u has no relocation", s->name, pc, insn->src_reg);
		return 0;
	}
	if (pc + 1 >= f->end)
		return ld_err(b->ctx, -ENOEXEC, "section '%s': instruction %u: lddw crosses the "
			      "end of function '%s'", s->name, pc, f->name);
	if (b->ctx->relos[r].kind == LD_RELO_FUNC) {
		err = resolve_call(b, f->sec, pc, &target);
		insn->src_reg = BPF_PSEUDO_FUNC;
		insn[0].imm = (int32_t)((int64_t)target - (int64_t)npc - 1);
		insn[1].imm = 0;
		return err;
	}
	err = prog_map(b, b->ctx->relos[r].map_idx, &insn[0].imm);
	if (b->ctx->relos[r].kind == LD_RELO_MAP) {
		insn->src_reg = BPF_PSEUDO_MAP_IDX;
		insn[1].imm = 0;
	} else {
		insn->src_reg = BPF_PSEUDO_MAP_IDX_VALUE;
		insn[1].imm = (int32_t)b->ctx->relos[r].value_off;
	}
	return err;
}

static int fill_prog(struct build *b)
{
	struct sl_prog *prog = b->prog;
	int err = 0;

	for (size_t k = 0; k < b->n_list; k++) {
		const struct ld_func *f = &b->ctx->funcs[b->list[k].func];
		const struct ld_sec *s = &b->ctx->secs[f->sec];
		uint32_t at = b->list[k].at;

		memcpy(&prog->insns[at], &s->insns[f->start], func_len(f) * sizeof(*prog->insns));
		prog->subprogs[k] = (struct sl_subprog){ .start = at, .end = at + func_len(f) };
		for (uint32_t pc = f->start; !err && pc < f->end; pc++)
			err = fix_insn(b, f, pc, at + (pc - f->start));
		if (err)
			return err;
	}
	return 0;
}

static int alloc_prog(struct build *b)
{
	struct ld_ctx *ctx = b->ctx;
	struct sl_prog *prog = calloc(1, sizeof(*prog));

	b->prog = prog;
	if (!prog)
		return ld_err(ctx, -ENOMEM, "out of memory");
	prog->insns = calloc(b->total, sizeof(*prog->insns));
	prog->aux = calloc(b->total, sizeof(*prog->aux));
	prog->subprogs = calloc(b->n_list, sizeof(*prog->subprogs));
	prog->maps = calloc(ctx->obj->n_maps ? ctx->obj->n_maps : 1, sizeof(*prog->maps));
	b->local_map = malloc((ctx->obj->n_maps ? ctx->obj->n_maps : 1) * sizeof(int32_t));
	if (!prog->insns || !prog->aux || !prog->subprogs || !prog->maps || !b->local_map)
		return ld_err(ctx, -ENOMEM, "out of memory");
	for (unsigned i = 0; i < ctx->obj->n_maps; i++)
		b->local_map[i] = -1;
	prog->n_insns = b->total;
	prog->n_subprogs = (uint32_t)b->n_list;
	return 0;
}

static int build_prog(struct ld_ctx *ctx, long entry, struct sl_prog **out)
{
	const struct ld_func *f = &ctx->funcs[entry];
	const struct ld_sec *s = &ctx->secs[f->sec];
	struct build b = { .ctx = ctx };
	int err;

	b.list = calloc(ctx->n_funcs, sizeof(*b.list));
	if (!b.list)
		return ld_err(ctx, -ENOMEM, "out of memory");
	err = layout(&b, entry);
	if (!err)
		err = alloc_prog(&b);
	if (!err)
		err = fill_prog(&b);
	if (!err) {
		snprintf(b.prog->name, sizeof(b.prog->name), "%s", f->name);
		snprintf(b.prog->section, sizeof(b.prog->section), "%s", s->name);
		snprintf(b.prog->license, sizeof(b.prog->license), "%s", ctx->obj->license);
		b.prog->type = s->ptype;
		*out = b.prog;
	} else {
		sl_prog_free(b.prog);
	}
	free(b.local_map);
	free(b.list);
	return err;
}

/* The error of an object without programs: which code sections it has, and the flag. */
static int no_programs(struct ld_ctx *ctx)
{
	char names[256] = "";
	size_t len = 0;
	unsigned n = 0;

	for (size_t i = 1; i < ctx->n_secs; i++) {
		const struct ld_sec *s = &ctx->secs[i];

		if (s->shdr.sh_type != SHT_PROGBITS || !(s->shdr.sh_flags & SHF_EXECINSTR) ||
		    !strcmp(s->name, ".text") || len + 8 >= sizeof(names))
			continue;
		len += (size_t)snprintf(names + len, sizeof(names) - len, "%s'%.*s'", n++ ? ", " : "",
					(int)(sizeof(names) - len - 8), s->name);
		if (len >= sizeof(names))
			len = sizeof(names) - 1;
	}
	if (ctx->force_type)
		return ld_err(ctx, -ENOEXEC, "no programs: no global function in an executable "
			      "section other than .text");
	if (!n)
		return ld_err(ctx, -ENOEXEC, "no programs: no executable section besides .text "
			      "(program sections are named xdp*, socket* or raw)");
	return ld_err(ctx, -ENOEXEC, "no programs: executable section%s %s %s not named xdp* or "
		      "socket*; give the program type with --type xdp|socket", n > 1 ? "s" : "",
		      names, n > 1 ? "are" : "is");
}

int ld_build_progs(struct ld_ctx *ctx)
{
	struct sl_obj *obj = ctx->obj;
	size_t n = 0;
	int err;

	err = decode_code(ctx);
	if (!err)
		err = collect_funcs(ctx);
	if (!err)
		err = collect_relos(ctx);
	if (err)
		return err;
	for (size_t i = 0; i < ctx->n_funcs; i++)
		n += ctx->funcs[i].global && ctx->secs[ctx->funcs[i].sec].kind == LD_SEC_PROG;
	if (!n)
		return no_programs(ctx);
	obj->progs = calloc(n, sizeof(*obj->progs));
	if (!obj->progs)
		return ld_err(ctx, -ENOMEM, "out of memory");
	for (size_t i = 0; i < ctx->n_funcs; i++) {
		if (!ctx->funcs[i].global || ctx->secs[ctx->funcs[i].sec].kind != LD_SEC_PROG)
			continue;
		err = build_prog(ctx, (long)i, &obj->progs[obj->n_progs]);
		if (err)
			return err;
		obj->n_progs++;
	}
	return 0;
}
