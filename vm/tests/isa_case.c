/* SPDX-License-Identifier: BSD-3-Clause */
/* Reader of .data test cases (format in isa_asm.h). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "isa_asm.h"
#include "sl_test.h"

enum section { S_NONE, S_ASM, S_RAW, S_MEM, S_RESULT, S_ERROR, S_TYPE, S_MAP, S_OTHER };

static const struct { const char *name; enum section s; } sections[] = {
	{ "asm", S_ASM }, { "raw", S_RAW }, { "mem", S_MEM }, { "result", S_RESULT },
	{ "error", S_ERROR }, { "type", S_TYPE }, { "map", S_MAP },
};

struct reader {
	struct isa_case *tc;
	char *asm_text;
	size_t asm_len, asm_cap;
	unsigned asm_line0;    /* file line of the first asm line */
	size_t mem_cap;
	char *err;
	size_t err_len;
	unsigned line;
};

static int rfail(struct reader *r, const char *what)
{
	snprintf(r->err, r->err_len, "%s:%u: %s", r->tc->path, r->line, what);
	return -1;
}

static int append_asm(struct reader *r, const char *line)
{
	size_t n = strlen(line);

	if (r->asm_len + n + 2 > r->asm_cap) {
		size_t cap = (r->asm_cap + n + 2) * 2;
		char *p = realloc(r->asm_text, cap);

		if (!p)
			return rfail(r, "out of memory");
		r->asm_text = p;
		r->asm_cap = cap;
	}
	memcpy(r->asm_text + r->asm_len, line, n);
	r->asm_len += n;
	r->asm_text[r->asm_len++] = '\n';
	r->asm_text[r->asm_len] = '\0';
	return 0;
}

static int add_mem(struct reader *r, const char *line)
{
	struct isa_case *tc = r->tc;

	for (const char *p = line; *p;) {
		char *end;
		unsigned long b;

		while (isspace((unsigned char)*p))
			p++;
		if (!*p || *p == '#')
			break;
		b = strtoul(p, &end, 16);
		if (end == p || b > 0xff)
			return rfail(r, "bad byte in -- mem");
		p = end;
		if (tc->mem_len == r->mem_cap) {
			size_t cap = r->mem_cap ? r->mem_cap * 2 : 64;
			uint8_t *m = realloc(tc->mem, cap);

			if (!m)
				return rfail(r, "out of memory");
			tc->mem = m;
			r->mem_cap = cap;
		}
		tc->mem[tc->mem_len++] = (uint8_t)b;
	}
	return 0;
}

static int add_raw(struct reader *r, const char *line)
{
	struct isa_case *tc = r->tc;
	unsigned long long w;
	char *end;

	w = strtoull(line, &end, 16);
	if (end == line)
		return rfail(r, "bad word in -- raw");
	if (tc->n_insns >= ISA_MAX_INSNS)
		return rfail(r, "program too long");
	tc->insns[tc->n_insns++] = (struct bpf_insn){
		.code = (uint8_t)w, .dst_reg = (w >> 8) & 0xf, .src_reg = (w >> 12) & 0xf,
		.off = (int16_t)(uint16_t)(w >> 16), .imm = (int32_t)(uint32_t)(w >> 32) };
	return 0;
}

static int add_map(struct reader *r, const char *line)
{
	struct isa_case *tc = r->tc;
	struct isa_map_spec *m = &tc->maps[tc->n_maps];

	if (tc->n_maps == ISA_MAX_MAPS)
		return rfail(r, "too many maps");
	if (sscanf(line, "%63s %u %u %u %u", m->name, &m->type, &m->key_size, &m->value_size,
		   &m->max_entries) != 5)
		return rfail(r, "-- map lines are: name type key_size value_size max_entries");
	tc->n_maps++;
	return 0;
}

static int section_line(struct reader *r, enum section s, char *line)
{
	struct isa_case *tc = r->tc;
	char *t = line;

	if (s == S_ASM)
		return append_asm(r, line);
	t[strcspn(t, "#")] = '\0';
	while (isspace((unsigned char)*t))
		t++;
	for (char *e = t + strlen(t); e > t && isspace((unsigned char)e[-1]);)
		*--e = '\0';
	if (!*t && s != S_ERROR)
		return 0;
	switch (s) {
	case S_RAW: return add_raw(r, t);
	case S_MEM: return add_mem(r, t);
	case S_MAP: return add_map(r, t);
	case S_RESULT: {
		char *end;
		bool neg = *t == '-';

		tc->result = strtoull(neg ? t + 1 : t, &end, 0);
		if (neg)
			tc->result = 0 - tc->result;
		if (*end)
			return rfail(r, "bad -- result value");
		tc->has_result = true;
		return 0;
	}
	case S_ERROR:
		if (*t && !tc->error[0])
			snprintf(tc->error, sizeof(tc->error), "%s", t);
		return 0;
	case S_TYPE:
		if (!strcmp(t, "raw"))
			tc->type = SL_PROG_RAW;
		else if (!strcmp(t, "socket"))
			tc->type = SL_PROG_SOCKET;
		else if (!strcmp(t, "xdp"))
			tc->type = SL_PROG_XDP;
		else
			return rfail(r, "-- type is raw, socket or xdp");
		return 0;
	default:
		return 0;
	}
}

static enum section section_of(struct reader *r, const char *name)
{
	if (!strcmp(name, "unverifiable")) {
		r->tc->unverifiable = true;
		return S_OTHER;
	}
	if (!strcmp(name, "error"))
		r->tc->has_error = true;
	for (size_t i = 0; i < sizeof(sections) / sizeof(sections[0]); i++)
		if (!strcmp(name, sections[i].name))
			return sections[i].s;
	return S_OTHER;
}

static int read_lines(struct reader *r, char *text)
{
	enum section s = S_NONE;
	char *next;

	for (char *line = text; line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		r->line++;
		line[strcspn(line, "\r")] = '\0';
		if (!strncmp(line, "-- ", 3)) {
			char name[32] = "";
			int used = 0;

			sscanf(line + 3, "%31s%n", name, &used);
			s = section_of(r, name);
			if (s == S_ASM && !r->asm_line0)
				r->asm_line0 = r->line;
			/* "-- type socket", "-- result 0x1": the value may follow the name */
			line += 3 + used;
			if (s == S_ASM || s == S_NONE || !*line)
				continue;
		}
		if (s != S_NONE && section_line(r, s, line))
			return -1;
	}
	return 0;
}

/*
 * A case with both "-- asm" and "-- raw" (bpf_conformance's lddw.data) runs
 * the assembly; the raw words, read first, must encode the same program.
 */
static int raw_matches_asm(struct isa_case *tc, uint32_t n_asm, char *err, size_t err_len)
{
	uint32_t n_raw = tc->n_insns;
	const struct bpf_insn *asm_insns = tc->insns + n_raw;

	for (uint32_t i = 0; i < n_raw || i < n_asm; i++) {
		if (i < n_raw && i < n_asm && !memcmp(&tc->insns[i], &asm_insns[i], sizeof(asm_insns[i])))
			continue;
		snprintf(err, err_len, "%s: -- raw and -- asm differ at instruction %u", tc->path, i);
		return -1;
	}
	return 0;
}

int isa_case_load(const char *path, struct isa_case *tc, char *err, size_t err_len)
{
	struct reader r = { .tc = tc, .err = err, .err_len = err_len };
	size_t len;
	char *text;
	int ret = 0;

	memset(tc, 0, sizeof(*tc));
	snprintf(tc->path, sizeof(tc->path), "%s", path);
	text = sl_test_read_file(path, &len);
	if (!text) {
		snprintf(err, err_len, "%s: cannot read: %s", path, strerror(errno));
		return -1;
	}
	ret = read_lines(&r, text);
	if (!ret && r.asm_text) {
		char aerr[256];
		int n = isa_assemble(r.asm_text, tc, tc->insns + tc->n_insns,
				     ISA_MAX_INSNS - tc->n_insns, aerr, sizeof(aerr));
		unsigned l;

		if (n < 0) {
			if (sscanf(aerr, "line %u:", &l) == 1)
				snprintf(err, err_len, "%s:%u: %s", path, r.asm_line0 + l,
					 strchr(aerr, ':') + 2);
			else
				snprintf(err, err_len, "%s: %s", path, aerr);
			ret = -1;
		} else if (tc->n_insns) {
			ret = raw_matches_asm(tc, (uint32_t)n, err, err_len);
		} else {
			tc->n_insns = (uint32_t)n;
		}
	}
	if (!ret && !tc->has_result && !tc->has_error) {
		snprintf(err, err_len, "%s: needs -- result or -- error", path);
		ret = -1;
	}
	free(r.asm_text);
	free(text);
	if (ret)
		isa_case_free(tc);
	return ret;
}

void isa_case_free(struct isa_case *tc)
{
	free(tc->mem);
	tc->mem = NULL;
	tc->mem_len = 0;
}
