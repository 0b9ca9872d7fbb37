/* SPDX-License-Identifier: BSD-3-Clause */
/* Loader tests: ELF facts from llvm-readelf / llvm-objdump (see loader_ref.h). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loader_ref.h"
#include "sl_test.h"

static FILE *run(const char *tool, const char *args, const char *path)
{
	char cmd[1200];

	snprintf(cmd, sizeof(cmd), "'%s' %s '%s'", tool, args, path);
	return popen(cmd, "r");
}

static int read_all(struct ref_obj *r, const char *path)
{
	r->bytes = (uint8_t *)sl_test_read_file(path, &r->len);
	if (r->bytes && r->len)
		return 0;
	fprintf(stderr, "%s: cannot read\n", path);
	return -1;
}

static void parse_readelf(struct ref_obj *r, FILE *p)
{
	char line[512], ndx[16], name[64];
	struct ref_sec s;
	struct ref_sym y;
	unsigned num;

	while (fgets(line, sizeof(line), p)) {
		memset(&s, 0, sizeof(s));
		if (sscanf(line, " [%u] %63s %*s %*x %" SCNx64 " %" SCNx64, &s.idx, s.name,
			   &s.off, &s.size) == 4 && r->n_secs < REF_MAX) {
			r->secs[r->n_secs++] = s;
			continue;
		}
		memset(&y, 0, sizeof(y));
		name[0] = '\0';
		if (sscanf(line, " %u: %" SCNx64 " %" SCNu64 " %15s %15s %*s %15s %63s", &num,
			   &y.value, &y.size, y.type, y.bind, ndx, name) >= 6 &&
		    r->n_syms < REF_MAX) {
			y.num = num;
			y.shndx = (ndx[0] >= '0' && ndx[0] <= '9') ? atoi(ndx) : -1;
			snprintf(y.name, sizeof(y.name), "%s", name);
			r->syms[r->n_syms++] = y;
		}
	}
}

static void parse_objdump(struct ref_obj *r, FILE *p)
{
	char line[512], sec[64] = "";
	struct ref_rel rel;

	while (fgets(line, sizeof(line), p)) {
		if (sscanf(line, "RELOCATION RECORDS FOR [%63[^]]]", sec) == 1)
			continue;
		memset(&rel, 0, sizeof(rel));
		if (sec[0] && sscanf(line, "%" SCNx64 " %31s %63s", &rel.off, rel.type,
				     rel.sym) == 3 && !strncmp(rel.type, "R_BPF", 5) &&
		    r->n_rels < REF_MAX) {
			snprintf(rel.sec, sizeof(rel.sec), "%s", sec);
			r->rels[r->n_rels++] = rel;
		}
	}
}

int ref_load(struct ref_obj *r, const char *path, const char *readelf, const char *objdump)
{
	FILE *p;

	memset(r, 0, sizeof(*r));
	if (read_all(r, path))
		return -1;
	p = run(readelf, "-S -s -W", path);
	if (!p)
		return -1;
	parse_readelf(r, p);
	if (pclose(p) != 0)
		return -1;
	p = run(objdump, "-r", path);
	if (!p)
		return -1;
	parse_objdump(r, p);
	if (pclose(p) != 0 || r->n_secs == 0 || r->n_syms == 0) {
		fprintf(stderr, "%s: tools gave no sections/symbols\n", path);
		return -1;
	}
	return 0;
}

void ref_free(struct ref_obj *r)
{
	free(r->bytes);
	r->bytes = NULL;
}

const struct ref_sec *ref_sec_by_name(const struct ref_obj *r, const char *name)
{
	for (unsigned i = 0; i < r->n_secs; i++)
		if (!strcmp(r->secs[i].name, name))
			return &r->secs[i];
	return NULL;
}

const struct ref_sec *ref_sec_by_idx(const struct ref_obj *r, int idx)
{
	for (unsigned i = 0; i < r->n_secs; i++)
		if ((int)r->secs[i].idx == idx)
			return &r->secs[i];
	return NULL;
}

const struct ref_sym *ref_sym_by_name(const struct ref_obj *r, const char *name)
{
	for (unsigned i = 0; i < r->n_syms; i++)
		if (strcmp(r->syms[i].type, "SECTION") && !strcmp(r->syms[i].name, name))
			return &r->syms[i];
	return NULL;
}

const struct ref_sym *ref_func_at(const struct ref_obj *r, int shndx, int64_t insn)
{
	for (unsigned i = 0; i < r->n_syms; i++) {
		const struct ref_sym *y = &r->syms[i];

		if (!strcmp(y->type, "FUNC") && y->shndx == shndx &&
		    (int64_t)(y->value / 8) <= insn && insn < (int64_t)((y->value + y->size) / 8))
			return y;
	}
	return NULL;
}

const uint8_t *ref_insn(const struct ref_obj *r, const struct ref_sec *s, uint64_t insn)
{
	if (s->off + insn * 8 + 8 > r->len)
		return NULL;
	return r->bytes + s->off + insn * 8;
}
