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

/* The caller's opts (sz = its sizeof) hold @p field: sz 0 means the current layout. */
#define OPTS_HAS(opts, field) \
	((opts) && (!(opts)->sz || (opts)->sz >= offsetof(struct sl_obj_opts, field) + \
		    sizeof((opts)->field)))

#ifndef EM_BPF
#define EM_BPF 247
#endif

int ld_err(struct ld_ctx *ctx, int err, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (ctx->logged || !ctx->log || !ctx->log_len)
		return -err;
	ctx->logged = true;
	n = snprintf(ctx->log, ctx->log_len, "%s: ", ctx->name);
	if (n >= 0 && (size_t)n < ctx->log_len) {
		va_start(ap, fmt);
		vsnprintf(ctx->log + n, ctx->log_len - (size_t)n, fmt, ap);
		va_end(ap);
	}
	/* names come from the file: keep the line one printable line */
	for (char *c = ctx->log; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = '?';
	return -err;
}

const char *ld_sec_str(const struct ld_ctx *ctx, size_t sec, size_t off)
{
	const struct ld_sec *s;

	if (sec == 0 || sec >= ctx->n_secs)
		return NULL;
	s = &ctx->secs[sec];
	if (s->shdr.sh_type != SHT_STRTAB || !s->data || off >= s->size)
		return NULL;
	if (!memchr(s->data + off, '\0', s->size - off))
		return NULL;
	return (const char *)s->data + off;
}

int ld_sym(struct ld_ctx *ctx, size_t i, GElf_Sym *sym)
{
	if (i >= ctx->n_syms || !gelf_getsym(ctx->symtab, (int)i, sym))
		return ld_err(ctx, ENOEXEC, "symbol %zu out of range (%zu symbols)", i, ctx->n_syms);
	return 0;
}

const char *ld_sym_name(const struct ld_ctx *ctx, const GElf_Sym *sym)
{
	const char *name;

	if (GELF_ST_TYPE(sym->st_info) == STT_SECTION && sym->st_shndx < ctx->n_secs &&
	    sym->st_shndx != SHN_UNDEF)
		return ctx->secs[sym->st_shndx].name;
	name = ld_sec_str(ctx, ctx->strtab_idx, sym->st_name);
	return name ? name : "?";
}

/* ---- 1. header ---- */

static int check_ehdr(struct ld_ctx *ctx, Elf64_Ehdr *eh)
{
	const uint8_t *p = ctx->image;
	size_t len = ctx->image_len;

	if (len == 0)
		return ld_err(ctx, ENOEXEC, "empty file");
	if (len < SELFMAG || memcmp(p, ELFMAG, SELFMAG))
		return ld_err(ctx, ENOEXEC, "not an ELF file");
	if (len < EI_NIDENT)
		return ld_err(ctx, ENOEXEC, "truncated: ELF header");
	if (p[EI_CLASS] != ELFCLASS64)
		return ld_err(ctx, ENOEXEC, "ELF class %u is not 64-bit (%u)", p[EI_CLASS],
			      ELFCLASS64);
	if (p[EI_DATA] != ELFDATA2LSB)
		return ld_err(ctx, ENOEXEC, "ELF data encoding %u is not little-endian (%u)",
			      p[EI_DATA], ELFDATA2LSB);
	if (len < sizeof(*eh))
		return ld_err(ctx, ENOEXEC, "truncated: ELF header");
	memcpy(eh, p, sizeof(*eh));
	if (eh->e_machine != EM_BPF)
		return ld_err(ctx, ENOEXEC, "ELF machine %u is not BPF (%u)", eh->e_machine, EM_BPF);
	if (eh->e_type != ET_REL)
		return ld_err(ctx, ENOEXEC, "ELF type %u is not a relocatable object (%u)",
			      eh->e_type, ET_REL);
	if (eh->e_shnum == 0)
		return ld_err(ctx, ENOEXEC, "no section headers");
	if (eh->e_shentsize != sizeof(Elf64_Shdr))
		return ld_err(ctx, ENOEXEC, "section header size %u is not %zu", eh->e_shentsize,
			      sizeof(Elf64_Shdr));
	if (eh->e_shoff > len || (len - eh->e_shoff) / sizeof(Elf64_Shdr) < eh->e_shnum)
		return ld_err(ctx, ENOEXEC, "truncated: section headers extend past end of file");
	if (eh->e_shstrndx == SHN_UNDEF || eh->e_shstrndx >= eh->e_shnum)
		return ld_err(ctx, ENOEXEC, "section name table index %u out of range",
			      eh->e_shstrndx);
	if (eh->e_phnum && (eh->e_phoff > len ||
			    (len - eh->e_phoff) / (eh->e_phentsize ? eh->e_phentsize : 1) <
			    eh->e_phnum))
		return ld_err(ctx, ENOEXEC, "truncated: program headers extend past end of file");
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
		return ld_err(ctx, ENOEXEC, "section %zu: unreadable header: %s", i,
			      elf_errmsg(-1));
	s->size = s->shdr.sh_size;
	s->map_idx = -1;
	if (s->shdr.sh_type == SHT_NOBITS || s->shdr.sh_type == SHT_NULL)
		return 0;
	if (s->shdr.sh_offset > ctx->image_len || s->size > ctx->image_len - s->shdr.sh_offset)
		return ld_err(ctx, ENOEXEC, "truncated: section %zu extends past end of file", i);
	s->data = ctx->image + s->shdr.sh_offset;
	return 0;
}

static int read_sections(struct ld_ctx *ctx, const Elf64_Ehdr *eh)
{
	int err;

	ctx->n_secs = eh->e_shnum;
	ctx->secs = calloc(ctx->n_secs, sizeof(*ctx->secs));
	if (!ctx->secs)
		return ld_err(ctx, ENOMEM, "out of memory");
	for (size_t i = 0; i < ctx->n_secs; i++) {
		err = read_section(ctx, i);
		if (err)
			return err;
	}
	if (ctx->secs[eh->e_shstrndx].shdr.sh_type != SHT_STRTAB)
		return ld_err(ctx, ENOEXEC, "section %u: section name table is not a string table",
			      eh->e_shstrndx);
	for (size_t i = 1; i < ctx->n_secs; i++) {
		struct ld_sec *s = &ctx->secs[i];

		s->name = ld_sec_str(ctx, eh->e_shstrndx, s->shdr.sh_name);
		if (!s->name)
			return ld_err(ctx, ENOEXEC, "section %zu: name offset %u out of bounds", i,
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
			return ld_err(ctx, ENOEXEC, "section %zu: second symbol table", i);
		ctx->symtab_idx = i;
	}
	if (!ctx->symtab_idx)
		return ld_err(ctx, ENOEXEC, "no symbol table");
	ctx->strtab_idx = ctx->secs[ctx->symtab_idx].shdr.sh_link;
	if (ctx->strtab_idx == 0 || ctx->strtab_idx >= ctx->n_secs ||
	    ctx->secs[ctx->strtab_idx].shdr.sh_type != SHT_STRTAB)
		return ld_err(ctx, ENOEXEC, "section %zu: symbol string table index %zu invalid",
			      ctx->symtab_idx, ctx->strtab_idx);
	ctx->symtab = elf_getdata(elf_getscn(ctx->elf, ctx->symtab_idx), NULL);
	if (!ctx->symtab)
		return ld_err(ctx, ENOEXEC, "section %zu: unreadable symbol table: %s",
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

/* Count what a map really costs once full (sl_map_mem_cost) against the object's limit. */
static int charge_map(struct ld_ctx *ctx, const char *name, const struct sl_map_def *def)
{
	uint64_t bytes = sl_map_mem_cost(def, ctx->ncpus);

	if (bytes > ctx->map_mem_limit || ctx->map_mem > ctx->map_mem_limit - bytes)
		return ld_err(ctx, E2BIG, "map '%s' (%s, max_entries %u, key %u, value %u) costs "
			      "%llu bytes when full: the object's maps would need more than %llu "
			      "bytes", name, sl_map_type_name(def->type), def->max_entries,
			      def->key_size, def->value_size, (unsigned long long)bytes,
			      (unsigned long long)ctx->map_mem_limit);
	ctx->map_mem += bytes;
	return 0;
}

/* sl_obj_opts.map_reuse: 0 with *map set to a map to borrow or left NULL, or -errno. */
static int reuse_map(struct ld_ctx *ctx, const char *name, const struct sl_map_def *def,
		     struct sl_map **map)
{
	char msg[256] = "";
	int ret;

	if (!ctx->opts || ctx->opts->sz < offsetof(struct sl_obj_opts, map_reuse_ctx) +
	    sizeof(void *) || !ctx->opts->map_reuse)
		return 0;
	ret = ctx->opts->map_reuse(ctx->opts->map_reuse_ctx, name, def, map, msg, sizeof(msg));
	if (ret < 0)
		return ld_err(ctx, -ret, "map '%s': %s", name, msg[0] ? msg : strerror(-ret));
	if (ret == 0)
		*map = NULL;
	return 0;
}

/*
 * The size the caller gave for map @p name (sl_obj_opts.map_sizes), else
 * the declared one; max_entries 0 without a size is an error (but for
 * PERF_EVENT_ARRAY, one entry per CPU as libbpf).
 */
static int size_map(struct ld_ctx *ctx, const char *name, struct sl_map_def *def)
{
	for (unsigned i = 0; i < ctx->n_map_sizes; i++) {
		if (ctx->map_sizes[i].name && !strcmp(ctx->map_sizes[i].name, name) &&
		    ctx->map_sizes[i].max_entries) {
			def->max_entries = ctx->map_sizes[i].max_entries;
			return 0;
		}
	}
	if (def->max_entries == 0 && def->type != BPF_MAP_TYPE_PERF_EVENT_ARRAY)
		return ld_err(ctx, EINVAL, "map '%s' (%s) has max_entries 0: its size is set at "
			      "load time; give it with --map-size %s=N", name,
			      sl_map_type_name(def->type), name);
	return 0;
}

int ld_add_map(struct ld_ctx *ctx, const char *name, const struct sl_map_def *decl,
	       const struct sl_map_def *inner, uint32_t values_off, uint32_t sec, uint64_t off,
	       bool has_sym)
{
	struct sl_obj *obj = ctx->obj;
	struct sl_map_def d = *decl, *def = &d;
	struct sl_map *map;
	int err;

	err = size_map(ctx, name, def);
	if (err)
		return err;
	if (obj->n_maps == obj->map_cap) {
		unsigned cap = obj->map_cap ? obj->map_cap * 2 : 8;
		struct sl_map **m = realloc(obj->maps, cap * sizeof(*m));
		struct ld_map_btf *mb;
		bool *b = m ? realloc(obj->map_borrowed, cap * sizeof(*b)) : NULL;

		if (m)
			obj->maps = m;
		if (!b)
			return ld_err(ctx, ENOMEM, "out of memory");
		obj->map_borrowed = b;
		mb = realloc(obj->map_btf, cap * sizeof(*mb));
		if (!mb)
			return ld_err(ctx, ENOMEM, "out of memory");
		obj->map_btf = mb;
		obj->map_cap = cap;
	}
	if (has_sym && ctx->n_map_syms == ctx->map_sym_cap) {
		size_t cap = ctx->map_sym_cap ? ctx->map_sym_cap * 2 : 8;
		struct ld_map_sym *ms = realloc(ctx->map_syms, cap * sizeof(*ms));

		if (!ms)
			return ld_err(ctx, ENOMEM, "out of memory");
		ctx->map_syms = ms;
		ctx->map_sym_cap = cap;
	}
	map = NULL;
	err = has_sym ? reuse_map(ctx, name, def, &map) : 0;
	if (err)
		return err;
	obj->map_borrowed[obj->n_maps] = map != NULL;
	err = map ? 0 : charge_map(ctx, name, def);
	if (err)
		return err;
	if (!map)
		map = inner ? sl_map_create_outer(name, def, inner, ctx->ncpus) :
			      sl_map_create(name, def, ctx->ncpus);
	if (!map) {
		err = errno ? errno : EINVAL;

		if (inner)
			return ld_err(ctx, err, "map '%s' (%s, key %u, max_entries %u) with inner "
				      "%s (key %u, value %u, max_entries %u): cannot create: %s",
				      name, sl_map_type_name(def->type), def->key_size,
				      def->max_entries, sl_map_type_name(inner->type),
				      inner->key_size, inner->value_size, inner->max_entries,
				      strerror(err));
		return ld_err(ctx, err, "map '%s' (type %u, key %u, value %u, max_entries %u): "
			      "cannot create: %s", name, def->type, def->key_size,
			      def->value_size, def->max_entries, strerror(err));
	}
	if (has_sym)
		ctx->map_syms[ctx->n_map_syms++] = (struct ld_map_sym){
			.sec = sec, .off = off, .map_idx = obj->n_maps, .outer = inner != NULL,
			.values_off = values_off };
	obj->map_btf[obj->n_maps] = (struct ld_map_btf){ 0, 0 };
	obj->maps[obj->n_maps++] = map;
	return 0;
}

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
		return ld_err(ctx, ENOEXEC, "libelf: %s", elf_errmsg(-1));
	ctx->elf = elf_memory((char *)ctx->image, ctx->image_len);
	if (!ctx->elf || elf_kind(ctx->elf) != ELF_K_ELF)
		return ld_err(ctx, ENOEXEC, "not an ELF file: %s", elf_errmsg(-1));
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
		.log = log,
		.log_len = log_len,
		.ncpus = opts && opts->ncpus ? opts->ncpus : 1,
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
		ld_err(&ctx, ENOMEM, "out of memory");
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

/* Read a whole regular file into memory. 0 or -errno. */
static int read_file(const char *path, uint8_t **buf, size_t *len)
{
	struct stat st;
	size_t got = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		int err = errno;

		close(fd);
		return -err;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
	}
	*buf = malloc(st.st_size ? (size_t)st.st_size : 1);
	if (!*buf) {
		close(fd);
		return -ENOMEM;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, *buf + got, (size_t)st.st_size - got);

		if (n <= 0) {
			int err = n < 0 ? errno : EIO;

			if (n < 0 && errno == EINTR)
				continue;
			free(*buf);
			close(fd);
			return -err;
		}
		got += (size_t)n;
	}
	close(fd);
	*len = got;
	return 0;
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
	err = read_file(path, &buf, &len);
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
