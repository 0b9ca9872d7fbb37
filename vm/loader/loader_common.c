/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What every loader phase uses (vm/loader/loader*.c): the error line
 * (through the one formatter, sl_errlog) and bounds-checked access to section
 * strings and symbols of the image. Calls nothing else of the loader, so
 * the phases can share it without calling each other in a circle.
 * Control thread only.
 */
#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include "loader_internal.h"

int ld_err(struct ld_ctx *ctx, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	err = sl_errlog_vset(&ctx->log, err, ctx->name, fmt, ap);
	va_end(ap);
	return err;
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
		return ld_err(ctx, -ENOEXEC, "symbol %zu out of range (%zu symbols)", i, ctx->n_syms);
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
