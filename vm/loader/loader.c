/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ELF object loader: clang -target bpf objects -> struct sl_obj.
 *
 * The input may be hostile (a fuzzer runs over sl_obj_open_mem), so every
 * index and offset is checked before it is followed:
 *   1. header      magic, class, byte order, machine, type and the section
 *                  header table are checked by hand before libelf sees them;
 *   2. sections    every section's bytes must lie inside the image; names,
 *                  symbols and strings are read with bounds checks;
 *   3. maps        BTF-defined ".maps" (vm/loader/loader_btf.c), legacy "maps" and global
 *                  data (vm/loader/loader_maps.c) become sl_map objects;
 *   4. programs    functions, relocations and bpf-to-bpf calls
 *                  (vm/loader/loader_prog.c): one sl_prog per global function of a
 *                  program section, followed by every subprogram it calls.
 * The image and all ELF state live only while the object is built; the
 * object owns its programs, its maps and its BTF (kept, with each map's
 * key and value type ids, for config/'s text<->bytes conversion). Errors: one line "name: ..." in the
 * caller's log, NULL with errno (ENOENT, ENOEXEC, EINVAL, ENOMEM).
 * Control thread only.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/btf.h>

#include "loader_internal.h"

#ifndef EM_BPF
#define EM_BPF 247
#endif

/* ---- 1. header ---- */

static int check_ehdr(struct ld_ctx *ctx, Elf64_Ehdr *eh)
{
	const uint8_t *p = ctx->image;
	size_t len = ctx->image_len;

	if (len == 0)
		return ld_err(ctx, -ENOEXEC, "empty file");
	if (len < SELFMAG || memcmp(p, ELFMAG, SELFMAG))
		return ld_err(ctx, -ENOEXEC, "not an ELF file");
	if (len < EI_NIDENT)
		return ld_err(ctx, -ENOEXEC, "truncated: ELF header");
	if (p[EI_CLASS] != ELFCLASS64)
		return ld_err(ctx, -ENOEXEC, "ELF class %u is not 64-bit (%u)", p[EI_CLASS],
			      ELFCLASS64);
	if (p[EI_DATA] != ELFDATA2LSB)
		return ld_err(ctx, -ENOEXEC, "ELF data encoding %u is not little-endian (%u)",
			      p[EI_DATA], ELFDATA2LSB);
	if (len < sizeof(*eh))
		return ld_err(ctx, -ENOEXEC, "truncated: ELF header");
	memcpy(eh, p, sizeof(*eh));
	if (eh->e_machine != EM_BPF)
		return ld_err(ctx, -ENOEXEC, "ELF machine %u is not BPF (%u)", eh->e_machine, EM_BPF);
	if (eh->e_type != ET_REL)
		return ld_err(ctx, -ENOEXEC, "ELF type %u is not a relocatable object (%u)",
			      eh->e_type, ET_REL);
	if (eh->e_shnum == 0)
		return ld_err(ctx, -ENOEXEC, "no section headers");
	if (eh->e_shentsize != sizeof(Elf64_Shdr))
		return ld_err(ctx, -ENOEXEC, "section header size %u is not %zu", eh->e_shentsize,
			      sizeof(Elf64_Shdr));
	if (eh->e_shoff > len || (len - eh->e_shoff) / sizeof(Elf64_Shdr) < eh->e_shnum)
		return ld_err(ctx, -ENOEXEC, "truncated: section headers extend past end of file");
	if (eh->e_shstrndx == SHN_UNDEF || eh->e_shstrndx >= eh->e_shnum)
		return ld_err(ctx, -ENOEXEC, "section name table index %u out of range",
			      eh->e_shstrndx);
	if (eh->e_phnum && (eh->e_phoff > len ||
			    (len - eh->e_phoff) / (eh->e_phentsize ? eh->e_phentsize : 1) <
			    eh->e_phnum))
		return ld_err(ctx, -ENOEXEC, "truncated: program headers extend past end of file");
	return 0;
}

/* ---- 2. sections ---- */

static bool has_prefix_sep(const char *name, const char *base)
{
	size_t n = strlen(base);

	return !strncmp(name, base, n) && (name[n] == '\0' || name[n] == '.');
}

static void classify(const struct ld_ctx *ctx, struct ld_sec *s)
{
	uint32_t type = s->shdr.sh_type;

	s->kind = LD_SEC_OTHER;
	s->map_idx = -1;
	if (type == SHT_PROGBITS && (s->shdr.sh_flags & SHF_EXECINSTR)) {
		if (!strcmp(s->name, ".text")) {
			s->kind = LD_SEC_TEXT;
		} else if (ctx->force_type) {
			s->kind = LD_SEC_PROG;
			s->ptype = ctx->prog_type;
		} else if (sl_prog_type_from_section(s->name, &s->ptype) == 0) {
			s->kind = LD_SEC_PROG;
		}
	} else if (type == SHT_PROGBITS && !strcmp(s->name, ".maps")) {
		s->kind = LD_SEC_MAPS_BTF;
	} else if (type == SHT_PROGBITS && !strcmp(s->name, "maps")) {
		s->kind = LD_SEC_MAPS_LEGACY;
	} else if ((type == SHT_PROGBITS || type == SHT_NOBITS) &&
		   (s->shdr.sh_flags & SHF_ALLOC) &&
		   (has_prefix_sep(s->name, ".rodata") || has_prefix_sep(s->name, ".data") ||
		    has_prefix_sep(s->name, ".bss"))) {
		s->kind = LD_SEC_DATA;
	}
}

static int read_section(struct ld_ctx *ctx, size_t i)
{
	struct ld_sec *s = &ctx->secs[i];
	Elf_Scn *scn = elf_getscn(ctx->elf, i);

	if (!scn || !gelf_getshdr(scn, &s->shdr))
		return ld_err(ctx, -ENOEXEC, "section %zu: unreadable header: %s", i,
			      elf_errmsg(-1));
	s->size = s->shdr.sh_size;
	s->map_idx = -1;
	if (s->shdr.sh_type == SHT_NOBITS || s->shdr.sh_type == SHT_NULL)
		return 0;
	if (s->shdr.sh_offset > ctx->image_len || s->size > ctx->image_len - s->shdr.sh_offset)
		return ld_err(ctx, -ENOEXEC, "truncated: section %zu extends past end of file", i);
	s->data = ctx->image + s->shdr.sh_offset;
	return 0;
}

static int read_sections(struct ld_ctx *ctx, const Elf64_Ehdr *eh)
{
	int err;

	ctx->n_secs = eh->e_shnum;
	ctx->secs = calloc(ctx->n_secs, sizeof(*ctx->secs));
	if (!ctx->secs)
		return ld_err(ctx, -ENOMEM, "out of memory");
	for (size_t i = 0; i < ctx->n_secs; i++) {
		err = read_section(ctx, i);
		if (err)
			return err;
	}
	if (ctx->secs[eh->e_shstrndx].shdr.sh_type != SHT_STRTAB)
		return ld_err(ctx, -ENOEXEC, "section %u: section name table is not a string table",
			      eh->e_shstrndx);
	for (size_t i = 1; i < ctx->n_secs; i++) {
		struct ld_sec *s = &ctx->secs[i];

		s->name = ld_sec_str(ctx, eh->e_shstrndx, s->shdr.sh_name);
		if (!s->name)
			return ld_err(ctx, -ENOEXEC, "section %zu: name offset %u out of bounds", i,
				      s->shdr.sh_name);
		classify(ctx, s);
	}
	ctx->secs[0].name = "";
	return 0;
}

static int read_symtab(struct ld_ctx *ctx)
{
	for (size_t i = 1; i < ctx->n_secs; i++) {
		if (ctx->secs[i].shdr.sh_type != SHT_SYMTAB)
			continue;
		if (ctx->symtab_idx)
			return ld_err(ctx, -ENOEXEC, "section %zu: second symbol table", i);
		ctx->symtab_idx = i;
	}
	if (!ctx->symtab_idx)
		return ld_err(ctx, -ENOEXEC, "no symbol table");
	ctx->strtab_idx = ctx->secs[ctx->symtab_idx].shdr.sh_link;
	if (ctx->strtab_idx == 0 || ctx->strtab_idx >= ctx->n_secs ||
	    ctx->secs[ctx->strtab_idx].shdr.sh_type != SHT_STRTAB)
		return ld_err(ctx, -ENOEXEC, "section %zu: symbol string table index %zu invalid",
			      ctx->symtab_idx, ctx->strtab_idx);
	ctx->symtab = elf_getdata(elf_getscn(ctx->elf, ctx->symtab_idx), NULL);
	if (!ctx->symtab)
		return ld_err(ctx, -ENOEXEC, "section %zu: unreadable symbol table: %s",
			      ctx->symtab_idx, elf_errmsg(-1));
	ctx->n_syms = ctx->symtab->d_size / sizeof(Elf64_Sym);
	return 0;
}

static void read_license(struct ld_ctx *ctx)
{
	for (size_t i = 1; i < ctx->n_secs; i++) {
		const struct ld_sec *s = &ctx->secs[i];
		size_t n;

		if (strcmp(s->name, "license") || !s->data)
			continue;
		n = s->size < sizeof(ctx->obj->license) - 1 ? s->size :
		    sizeof(ctx->obj->license) - 1;
		memcpy(ctx->obj->license, s->data, n);
		ctx->obj->license[n] = '\0';
	}
}

/* ---- 3. maps ---- */

static int create_maps(struct ld_ctx *ctx)
{
	int err = 0;

	for (size_t i = 1; !err && i < ctx->n_secs; i++) {
		switch (ctx->secs[i].kind) {
		case LD_SEC_MAPS_BTF:
			err = ld_btf_maps(ctx, (uint32_t)i);
			break;
		case LD_SEC_MAPS_LEGACY:
			err = ld_legacy_maps(ctx, (uint32_t)i);
			break;
		case LD_SEC_DATA:
			err = ld_data_map(ctx, (uint32_t)i);
			break;
		default:
			break;
		}
	}
	return err;
}

/* ---- the whole load ---- */

static void ctx_free(struct ld_ctx *ctx)
{
	for (size_t i = 0; ctx->secs && i < ctx->n_secs; i++) {
		free(ctx->secs[i].insns);
		free(ctx->secs[i].relo_at);
	}
	free(ctx->secs);
	free(ctx->funcs);
	free(ctx->relos);
	free(ctx->map_syms);
	btf__free(ctx->btf);
	if (ctx->elf)
		elf_end(ctx->elf);
}

static int load(struct ld_ctx *ctx)
{
	Elf64_Ehdr eh = { 0 };
	int err;

	err = check_ehdr(ctx, &eh);
	if (err)
		return err;
	if (elf_version(EV_CURRENT) == EV_NONE)
		return ld_err(ctx, -ENOEXEC, "libelf: %s", elf_errmsg(-1));
	ctx->elf = elf_memory((char *)ctx->image, ctx->image_len);
	if (!ctx->elf || elf_kind(ctx->elf) != ELF_K_ELF)
		return ld_err(ctx, -ENOEXEC, "not an ELF file: %s", elf_errmsg(-1));
	err = read_sections(ctx, &eh);
	if (!err)
		err = read_symtab(ctx);
	if (err)
		return err;
	read_license(ctx);
	err = create_maps(ctx);
	if (!err)
		err = ld_build_progs(ctx);
	return err;
}

struct sl_obj *sl_obj_open_mem(const void *buf, size_t len, const char *name,
			       const struct sl_obj_opts *opts, char *log, size_t log_len)
{
	struct ld_ctx ctx = {
		.name = name ? name : "<memory>",
		.log = { .buf = log, .len = log_len },
		.ncpus = OPTS_HAS(opts, ncpus) && opts->ncpus ? opts->ncpus : 1,
		.map_mem_limit = SL_OBJ_MAP_MEM_DEFAULT,
		.opts = opts,
	};
	uint8_t *image;
	int err;

	if (log && log_len)
		log[0] = '\0';
	if (!buf && len) {
		errno = EINVAL;
		return NULL;
	}
	if (!sl_opts_valid(opts, sizeof(*opts))) {
		errno = -ld_err(&ctx, -EINVAL, "sl_obj_opts: sz %zu: too small, or bytes past the %zu "
				"this sluice knows are set (see sl_opts.h)", opts->sz,
				sizeof(*opts));
		return NULL;
	}
	if (OPTS_HAS(opts, map_mem_limit) && opts->map_mem_limit)
		ctx.map_mem_limit = opts->map_mem_limit;
	if (OPTS_HAS(opts, prog_type) && opts->force_type) {
		ctx.force_type = true;
		ctx.prog_type = opts->prog_type;
	}
	if (OPTS_HAS(opts, n_map_sizes) && opts->map_sizes) {
		ctx.map_sizes = opts->map_sizes;
		ctx.n_map_sizes = opts->n_map_sizes;
	}
	image = malloc(len ? len : 1);
	ctx.obj = calloc(1, sizeof(*ctx.obj));
	if (!image || !ctx.obj) {
		free(image);
		free(ctx.obj);
		ld_err(&ctx, -ENOMEM, "out of memory");
		errno = ENOMEM;
		return NULL;
	}
	if (len)
		memcpy(image, buf, len);
	snprintf(ctx.obj->name, sizeof(ctx.obj->name), "%s", ctx.name);
	ctx.image = image;
	ctx.image_len = len;
	err = load(&ctx);
	ctx.obj->btf = ctx.btf;  /* the object keeps its BTF (sl_obj_btf) */
	ctx.btf = NULL;
	ctx_free(&ctx);
	free(image);
	if (err) {
		sl_obj_close(ctx.obj);
		errno = -err;
		return NULL;
	}
	return ctx.obj;
}

struct sl_obj *sl_obj_open(const char *path, const struct sl_obj_opts *opts,
			   char *log, size_t log_len)
{
	struct sl_obj *obj;
	uint8_t *buf = NULL;
	size_t len = 0;
	int err;

	if (!path) {
		errno = EINVAL;
		return NULL;
	}
	err = sl_vm_read_file(path, 0, &buf, &len);
	if (err) {
		if (log && log_len)
			snprintf(log, log_len, "%s: cannot read: %s", path, strerror(-err));
		errno = -err;
		return NULL;
	}
	obj = sl_obj_open_mem(buf, len, path, opts, log, log_len);
	err = errno;
	free(buf);
	errno = err;
	return obj;
}

void sl_obj_close(struct sl_obj *obj)
{
	if (!obj)
		return;
	for (unsigned i = 0; i < obj->n_progs; i++)
		sl_prog_free(obj->progs[i]);
	for (unsigned i = 0; i < obj->n_maps; i++)
		if (!obj->map_borrowed[i])
			sl_map_destroy(obj->maps[i]);
	free(obj->progs);
	free(obj->maps);
	free(obj->map_btf);
	btf__free(obj->btf);
	free(obj->map_borrowed);
	free(obj);
}

unsigned sl_obj_prog_count(const struct sl_obj *obj)
{
	return obj ? obj->n_progs : 0;
}

struct sl_prog *sl_obj_prog(const struct sl_obj *obj, unsigned i)
{
	if (!obj || i >= obj->n_progs) {
		errno = ENOENT;
		return NULL;
	}
	return obj->progs[i];
}

struct sl_prog *sl_obj_find_prog(const struct sl_obj *obj, const char *section)
{
	for (unsigned i = 0; obj && i < obj->n_progs; i++)
		if (!section || !strcmp(obj->progs[i]->section, section))
			return obj->progs[i];
	for (unsigned i = 0; obj && i < obj->n_progs; i++)
		if (!strcmp(obj->progs[i]->name, section))
			return obj->progs[i];
	errno = ENOENT;
	return NULL;
}

unsigned sl_obj_map_count(const struct sl_obj *obj)
{
	return obj ? obj->n_maps : 0;
}

struct sl_map *sl_obj_map(const struct sl_obj *obj, unsigned i)
{
	if (!obj || i >= obj->n_maps) {
		errno = ENOENT;
		return NULL;
	}
	return obj->maps[i];
}

struct sl_map *sl_obj_map_by_name(const struct sl_obj *obj, const char *name)
{
	for (unsigned i = 0; obj && name && i < obj->n_maps; i++)
		if (!strcmp(sl_map_name(obj->maps[i]), name))
			return obj->maps[i];
	errno = ENOENT;
	return NULL;
}

const struct btf *sl_obj_btf(const struct sl_obj *obj)
{
	return obj ? obj->btf : NULL;
}

int sl_obj_map_btf_ids(const struct sl_obj *obj, const struct sl_map *map, uint32_t *key_id,
		       uint32_t *value_id)
{
	for (unsigned i = 0; obj && i < obj->n_maps; i++)
		if (obj->maps[i] == map) {
			*key_id = obj->btf ? obj->map_btf[i].key : 0;
			*value_id = obj->btf ? obj->map_btf[i].value : 0;
			return 0;
		}
	return -ENOENT;
}

int sl_obj_adopt_maps(struct sl_obj *to, struct sl_obj *from)
{
	unsigned n = 0;

	for (unsigned i = 0; to && from && i < to->n_maps; i++) {
		if (!to->map_borrowed[i])
			continue;
		for (unsigned j = 0; j < from->n_maps; j++) {
			if (from->maps[j] != to->maps[i] || from->map_borrowed[j])
				continue;
			from->map_borrowed[j] = true;
			to->map_borrowed[i] = false;
			n++;
		}
	}
	return (int)n;
}
