/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Test-only assembler and .data case reader (syntax in isa_asm.h).
 * Single pass over the text; jump and call labels are fixed up at the end.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "isa_asm.h"
#include "sl_helpers.h"

#define MAX_LABELS 4096
#define MAX_OPS 4

struct asm_state {
	const struct isa_case *tc;
	struct bpf_insn *out;
	unsigned max, n;
	unsigned line;
	char *err;
	size_t err_len;
	struct { char name[64]; unsigned pc; } labels[MAX_LABELS];
	unsigned n_labels;
	struct { char name[64]; unsigned pc; unsigned line; bool imm; } fix[MAX_LABELS * 2];
	unsigned n_fix;
};

static int fail(struct asm_state *as, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(struct asm_state *as, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(as->err, as->err_len, "line %u: ", as->line);

	va_start(ap, fmt);
	if (n >= 0 && (size_t)n < as->err_len)
		vsnprintf(as->err + n, as->err_len - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static int parse_num(const char *s, int64_t *v)
{
	char *end;
	bool neg = false;
	unsigned long long u;

	while (isspace((unsigned char)*s))
		s++;
	if (*s == '-' || *s == '+')
		neg = *s++ == '-';
	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	u = strtoull(s, &end, 0);
	if (errno || *trim(end))
		return -1;
	*v = neg ? (int64_t)(0 - u) : (int64_t)u;
	return 0;
}

/* As bpf_conformance's assembler: a wider number keeps its low 32 bits
 * ("mov32 r1, 0x876543210" is 0x76543210). */
static int parse_imm32(struct asm_state *as, const char *s, int32_t *imm)
{
	int64_t v;

	if (parse_num(s, &v))
		return fail(as, "bad 32-bit immediate '%s'", s);
	*imm = (int32_t)(uint32_t)(uint64_t)v;
	return 0;
}

static int parse_reg(struct asm_state *as, const char *s, uint8_t *r)
{
	char *end;
	long v;

	if (*s == '%')
		s++;
	if (*s != 'r')
		return fail(as, "bad register '%s'", s);
	v = strtol(s + 1, &end, 10);
	if (end == s + 1 || *end || v < 0 || v > 15)
		return fail(as, "bad register '%s'", s);
	*r = (uint8_t)v;
	return 0;
}

static bool is_reg(const char *s)
{
	return s[0] == '%' || (s[0] == 'r' && isdigit((unsigned char)s[1]));
}

/* "[r1+4]", "[%r10-8]", "[r1]" */
static int parse_mem(struct asm_state *as, const char *s, uint8_t *r, int16_t *off)
{
	char buf[64], *p, *sign;
	int64_t v = 0;

	if (s[0] != '[' || strlen(s) >= sizeof(buf) || s[strlen(s) - 1] != ']')
		return fail(as, "bad memory operand '%s'", s);
	snprintf(buf, sizeof(buf), "%.*s", (int)strlen(s) - 2, s + 1);
	p = trim(buf);
	sign = strpbrk(p, "+-");
	if (sign) {
		if (parse_num(sign, &v) || v < INT16_MIN || v > INT16_MAX)
			return fail(as, "bad offset in '%s'", s);
		*sign = '\0';
	}
	*off = (int16_t)v;
	return parse_reg(as, trim(p), r);
}

static struct bpf_insn *emit(struct asm_state *as, uint8_t code, uint8_t dst, uint8_t src,
			     int16_t off, int32_t imm)
{
	struct bpf_insn *in;

	if (as->n >= as->max) {
		fail(as, "program too long");
		return NULL;
	}
	in = &as->out[as->n++];
	*in = (struct bpf_insn){ .code = code, .dst_reg = dst & 0xf, .src_reg = src & 0xf,
				 .off = off, .imm = imm };
	return in;
}

/* Jump/call target: "+N", "-N" or a label fixed up later. */
static int target(struct asm_state *as, const char *s, bool imm, int32_t *val)
{
	int64_t v;

	if (s[0] == '+' || s[0] == '-') {
		if (parse_num(s, &v) || v < INT32_MIN || v > INT32_MAX || (!imm && (v < INT16_MIN || v > INT16_MAX)))
			return fail(as, "bad jump offset '%s'", s);
		*val = (int32_t)v;
		return 0;
	}
	if (as->n_fix >= sizeof(as->fix) / sizeof(as->fix[0]))
		return fail(as, "too many label references");
	snprintf(as->fix[as->n_fix].name, sizeof(as->fix[0].name), "%s", s);
	as->fix[as->n_fix].pc = as->n;   /* index of the instruction about to be emitted */
	as->fix[as->n_fix].line = as->line;
	as->fix[as->n_fix].imm = imm;
	as->n_fix++;
	*val = 0;
	return 0;
}

static const struct { const char *name; uint8_t op; int16_t off; } alu_names[] = {
	{ "add", BPF_ADD, 0 }, { "sub", BPF_SUB, 0 }, { "mul", BPF_MUL, 0 },
	{ "div", BPF_DIV, 0 }, { "sdiv", BPF_DIV, 1 }, { "or", BPF_OR, 0 },
	{ "and", BPF_AND, 0 }, { "lsh", BPF_LSH, 0 }, { "rsh", BPF_RSH, 0 },
	{ "neg", BPF_NEG, 0 }, { "mod", BPF_MOD, 0 }, { "smod", BPF_MOD, 1 },
	{ "xor", BPF_XOR, 0 }, { "mov", BPF_MOV, 0 }, { "arsh", BPF_ARSH, 0 },
};

static const struct { const char *name; uint8_t op; } jmp_names[] = {
	{ "jeq", BPF_JEQ }, { "jgt", BPF_JGT }, { "jge", BPF_JGE }, { "jset", BPF_JSET },
	{ "jne", BPF_JNE }, { "jsgt", BPF_JSGT }, { "jsge", BPF_JSGE }, { "jlt", BPF_JLT },
	{ "jle", BPF_JLE }, { "jslt", BPF_JSLT }, { "jsle", BPF_JSLE },
};

static const struct { const char *name; uint8_t size; } sizes[] = {
	{ "b", BPF_B }, { "h", BPF_H }, { "w", BPF_W }, { "dw", BPF_DW },
};

static int size_of(const char *s)
{
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		if (!strcmp(s, sizes[i].name))
			return sizes[i].size;
	return -1;
}

/* Strip a "32"/"64" suffix: returns the class and writes the base name. */
static uint8_t width_suffix(const char *m, char *base, size_t len, uint8_t c32, uint8_t c64)
{
	size_t n = strlen(m);

	snprintf(base, len, "%s", m);
	if (n > 2 && (!strcmp(m + n - 2, "32") || !strcmp(m + n - 2, "64"))) {
		base[n - 2] = '\0';
		return m[n - 2] == '3' ? c32 : c64;
	}
	return c64;
}

static int asm_alu(struct asm_state *as, const char *m, char **ops, int nops, bool *done)
{
	char base[32];
	uint8_t cls = width_suffix(m, base, sizeof(base), BPF_ALU, BPF_ALU64), dst, src = 0;
	int32_t imm = 0;

	if (!strncmp(m, "movsx", 5)) {   /* movsx<from><to>, or movsx<from> for 64 bits */
		static const struct { const char *s; int16_t off; uint8_t cls; } mv[] = {
			{ "864", 8, BPF_ALU64 }, { "1664", 16, BPF_ALU64 }, { "3264", 32, BPF_ALU64 },
			{ "832", 8, BPF_ALU }, { "1632", 16, BPF_ALU }, { "8", 8, BPF_ALU64 },
			{ "16", 16, BPF_ALU64 }, { "32", 32, BPF_ALU64 },
		};
		for (size_t i = 0; i < sizeof(mv) / sizeof(mv[0]); i++) {
			if (strcmp(m + 5, mv[i].s))
				continue;
			*done = true;
			if (nops != 2 || parse_reg(as, ops[0], &dst) || parse_reg(as, ops[1], &src))
				return fail(as, "%s needs two registers", m);
			return emit(as, mv[i].cls | BPF_MOV | BPF_X, dst, src, mv[i].off, 0) ? 0 : -1;
		}
		return 0;
	}
	for (size_t i = 0; i < sizeof(alu_names) / sizeof(alu_names[0]); i++) {
		bool k;

		if (strcmp(base, alu_names[i].name))
			continue;
		*done = true;
		if (nops != (alu_names[i].op == BPF_NEG ? 1 : 2) || parse_reg(as, ops[0], &dst))
			return fail(as, "%s: wrong operands", m);
		k = nops == 1 || !is_reg(ops[1]);
		if (nops == 2 && (k ? parse_imm32(as, ops[1], &imm) : parse_reg(as, ops[1], &src)))
			return -1;
		return emit(as, cls | alu_names[i].op | (k ? BPF_K : BPF_X), dst, src,
			    alu_names[i].off, imm) ? 0 : -1;
	}
	return 0;
}

static int asm_end(struct asm_state *as, const char *m, char **ops, int nops, bool *done)
{
	static const struct { const char *p; uint8_t code; } kinds[] = {
		{ "le", BPF_ALU | BPF_END | BPF_TO_LE }, { "be", BPF_ALU | BPF_END | BPF_TO_BE },
		{ "swap", BPF_ALU64 | BPF_END | BPF_TO_LE }, { "bswap", BPF_ALU64 | BPF_END | BPF_TO_LE },
	};
	uint8_t dst;

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		size_t n = strlen(kinds[i].p);
		int64_t w;

		if (strncmp(m, kinds[i].p, n) || parse_num(m + n, &w))
			continue;
		*done = true;
		if (nops != 1 || parse_reg(as, ops[0], &dst))
			return fail(as, "%s needs one register", m);
		return emit(as, kinds[i].code, dst, 0, 0, (int32_t)w) ? 0 : -1;
	}
	return 0;
}

static int asm_jmp(struct asm_state *as, const char *m, char **ops, int nops, bool *done)
{
	char base[32];
	uint8_t cls = width_suffix(m, base, sizeof(base), BPF_JMP32, BPF_JMP), dst, src = 0;
	int32_t imm = 0, off;

	for (size_t i = 0; i < sizeof(jmp_names) / sizeof(jmp_names[0]); i++) {
		bool k;

		if (strcmp(base, jmp_names[i].name))
			continue;
		*done = true;
		if (nops != 3 || parse_reg(as, ops[0], &dst))
			return fail(as, "%s: needs dst, src|imm, target", m);
		k = !is_reg(ops[1]);
		if (k ? parse_imm32(as, ops[1], &imm) : parse_reg(as, ops[1], &src))
			return -1;
		if (target(as, ops[2], false, &off))
			return -1;
		return emit(as, cls | jmp_names[i].op | (k ? BPF_K : BPF_X), dst, src,
			    (int16_t)off, imm) ? 0 : -1;
	}
	return 0;
}

static int helper_id(const char *name)
{
	for (uint32_t id = 0; id < SL_HELPER_MAX; id++) {
		const struct sl_helper *h = sl_helper_get(id);

		if (h && h->name && !strcmp(h->name, name))
			return (int)id;
	}
	return -1;
}

static int asm_call(struct asm_state *as, char *arg)
{
	int32_t v = 0;
	uint8_t r;
	int id;

	if (!strncmp(arg, "local ", 6)) {
		if (target(as, trim(arg + 6), true, &v))
			return -1;
		return emit(as, BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_CALL, 0, v) ? 0 : -1;
	}
	if (!strncmp(arg, "runtime ", 8)) {
		if (parse_imm32(as, trim(arg + 8), &v))
			return -1;
		return emit(as, BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_KFUNC_CALL, 0, v) ? 0 : -1;
	}
	if (!strncmp(arg, "helper ", 7))
		arg = trim(arg + 7);
	if (is_reg(arg)) {
		if (parse_reg(as, arg, &r))
			return -1;
		return emit(as, BPF_JMP | BPF_CALL | BPF_X, r, 0, 0, 0) ? 0 : -1;
	}
	if (isdigit((unsigned char)arg[0]) || arg[0] == '-') {
		if (parse_imm32(as, arg, &v))
			return -1;
		return emit(as, BPF_JMP | BPF_CALL, 0, 0, 0, v) ? 0 : -1;
	}
	id = helper_id(arg);
	if (id < 0)
		return fail(as, "unknown helper '%s'", arg);
	return emit(as, BPF_JMP | BPF_CALL, 0, 0, 0, id) ? 0 : -1;
}

static int map_index(struct asm_state *as, const char *name)
{
	for (unsigned i = 0; as->tc && i < as->tc->n_maps; i++)
		if (!strcmp(as->tc->maps[i].name, name))
			return (int)i;
	return fail(as, "unknown map '%s' (declare it in -- map)", name);
}

static int asm_lddw(struct asm_state *as, char **ops, int nops)
{
	uint8_t dst, src = 0;
	int64_t v = 0, hi = 0;
	char name[64];
	struct bpf_insn *lo;

	if (nops < 2 || parse_reg(as, ops[0], &dst))
		return fail(as, "lddw: needs dst, value");
	if (sscanf(ops[1], "map_by_fd(%63[^)])", name) == 1 ||
	    sscanf(ops[1], "map(%63[^)])", name) == 1) {
		src = BPF_PSEUDO_MAP_IDX;
		v = map_index(as, trim(name));
	} else if (sscanf(ops[1], "map_value(%63[^,],", name) == 1) {
		src = BPF_PSEUDO_MAP_IDX_VALUE;
		v = map_index(as, trim(name));
		snprintf(name, sizeof(name), "%s", strchr(ops[1], ',') + 1);
		name[strcspn(name, ")")] = '\0';
		if (v >= 0 && parse_num(name, &hi))
			return fail(as, "lddw map_value: bad offset");
	} else if (nops == 2 && !parse_num(ops[1], &v)) {
		hi = (int64_t)((uint64_t)v >> 32);
	} else {
		return fail(as, "lddw: bad value '%s'", ops[1]);
	}
	if (v < 0 && src)
		return -1;
	lo = emit(as, BPF_LD | BPF_IMM | BPF_DW, dst, src, 0, (int32_t)(uint32_t)v);
	if (!lo || !emit(as, 0, 0, 0, 0, (int32_t)(uint32_t)hi))
		return -1;
	return 0;
}

static int asm_lock(struct asm_state *as, char *arg)
{
	static const struct { const char *name; int32_t imm; } aops[] = {
		{ "add", BPF_ADD }, { "or", BPF_OR }, { "and", BPF_AND }, { "xor", BPF_XOR },
		{ "xchg", BPF_XCHG }, { "cmpxchg", BPF_CMPXCHG },
	};
	char op[16], base[16], memop[64], reg[16];
	bool fetch = false;
	uint8_t cls, dst, src;
	int16_t off;

	if (!strncmp(arg, "fetch ", 6)) {
		fetch = true;
		arg = trim(arg + 6);
	}
	if (sscanf(arg, "%15s %63[^,], %15s", op, memop, reg) != 3)
		return fail(as, "lock: expected 'lock [fetch] op [reg+off], reg'");
	cls = width_suffix(op, base, sizeof(base), BPF_W, BPF_DW);
	for (size_t i = 0; i < sizeof(aops) / sizeof(aops[0]); i++) {
		if (strcmp(base, aops[i].name))
			continue;
		if (parse_mem(as, trim(memop), &dst, &off) || parse_reg(as, trim(reg), &src))
			return -1;
		return emit(as, BPF_STX | BPF_ATOMIC | cls, dst, src, off,
			    aops[i].imm | (fetch ? BPF_FETCH : 0)) ? 0 : -1;
	}
	return fail(as, "lock: unknown operation '%s'", op);
}

/* ldx*, ldxs*, st*, stx*, ldabs*, ldind* */
static int asm_mem(struct asm_state *as, const char *m, char **ops, int nops, bool *done)
{
	uint8_t r1, r2;
	int16_t off;
	int32_t imm = 0;
	int sz;

	if (!strncmp(m, "ldabs", 5) && (sz = size_of(m + 5)) >= 0) {
		*done = true;
		if (nops != 1 || parse_imm32(as, ops[0], &imm))
			return fail(as, "%s needs an offset", m);
		return emit(as, BPF_LD | BPF_ABS | sz, 0, 0, 0, imm) ? 0 : -1;
	}
	if (!strncmp(m, "ldind", 5) && (sz = size_of(m + 5)) >= 0) {
		*done = true;
		if (nops != 2 || parse_reg(as, ops[0], &r1) || parse_imm32(as, ops[1], &imm))
			return fail(as, "%s needs src, offset", m);
		return emit(as, BPF_LD | BPF_IND | sz, 0, r1, 0, imm) ? 0 : -1;
	}
	char sx[8] = "";

	/* uBPF spells sign-extending loads ldxbsx / ldxhsx / ldxwsx */
	if (!strncmp(m, "ldx", 3) && strlen(m) > 5 && strlen(m) < 9 && !strcmp(m + strlen(m) - 2, "sx")) {
		snprintf(sx, sizeof(sx), "ldxs%.*s", (int)strlen(m) - 5, m + 3);
		m = sx;
	}
	if (!strncmp(m, "ldxs", 4) && (sz = size_of(m + 4)) >= 0) {
		*done = true;
		if (nops != 2 || parse_reg(as, ops[0], &r1) || parse_mem(as, ops[1], &r2, &off))
			return fail(as, "%s needs dst, [src+off]", m);
		return emit(as, BPF_LDX | BPF_MEMSX | sz, r1, r2, off, 0) ? 0 : -1;
	}
	if (!strncmp(m, "ldx", 3) && (sz = size_of(m + 3)) >= 0) {
		*done = true;
		if (nops != 2 || parse_reg(as, ops[0], &r1) || parse_mem(as, ops[1], &r2, &off))
			return fail(as, "%s needs dst, [src+off]", m);
		return emit(as, BPF_LDX | BPF_MEM | sz, r1, r2, off, 0) ? 0 : -1;
	}
	if (!strncmp(m, "stx", 3) && (sz = size_of(m + 3)) >= 0) {
		*done = true;
		if (nops != 2 || parse_mem(as, ops[0], &r1, &off) || parse_reg(as, ops[1], &r2))
			return fail(as, "%s needs [dst+off], src", m);
		return emit(as, BPF_STX | BPF_MEM | sz, r1, r2, off, 0) ? 0 : -1;
	}
	if (!strncmp(m, "st", 2) && (sz = size_of(m + 2)) >= 0) {
		*done = true;
		if (nops != 2 || parse_mem(as, ops[0], &r1, &off) || parse_imm32(as, ops[1], &imm))
			return fail(as, "%s needs [dst+off], imm", m);
		return emit(as, BPF_ST | BPF_MEM | sz, r1, 0, off, imm) ? 0 : -1;
	}
	return 0;
}

static int asm_raw_insn(struct asm_state *as, char **ops, int nops)
{
	int64_t v[5];

	if (nops != 5)
		return fail(as, ".insn needs code, dst, src, off, imm");
	for (int i = 0; i < 5; i++)
		if (parse_num(ops[i], &v[i]))
			return fail(as, ".insn: bad number '%s'", ops[i]);
	return emit(as, (uint8_t)v[0], (uint8_t)v[1], (uint8_t)v[2], (int16_t)v[3],
		    (int32_t)(uint32_t)v[4]) ? 0 : -1;
}

/* Split "a, b(c, d), e" at top-level commas. */
static int split_ops(char *s, char **ops)
{
	int n = 0, depth = 0;
	char *start = s;

	if (!*s)
		return 0;
	for (char *p = s;; p++) {
		if (*p == '(')
			depth++;
		else if (*p == ')')
			depth--;
		if ((*p == ',' && depth == 0) || !*p) {
			bool end = !*p;

			if (n == MAX_OPS + 1)
				return -1;
			*p = '\0';
			ops[n++] = trim(start);
			if (end)
				break;
			start = p + 1;
		}
	}
	return n;
}

static int asm_line(struct asm_state *as, char *line)
{
	char *ops[MAX_OPS + 1], *m = line, *rest;
	int nops;
	bool done = false;

	rest = m + strcspn(m, " \t");
	if (*rest)
		*rest++ = '\0';
	rest = trim(rest);
	if (!strcmp(m, "exit"))
		return emit(as, BPF_JMP | BPF_EXIT, 0, 0, 0, 0) ? 0 : -1;
	if (!strcmp(m, "call"))
		return asm_call(as, rest);
	if (!strcmp(m, "lock"))
		return asm_lock(as, rest);
	nops = split_ops(rest, ops);
	if (nops < 0)
		return fail(as, "too many operands");
	if (!strcmp(m, "ja") || !strcmp(m, "ja32") || !strcmp(m, "gotol")) {
		bool l = strcmp(m, "ja") != 0;
		int32_t v;

		if (nops != 1 || target(as, ops[0], l, &v))
			return fail(as, "%s needs a target", m);
		return emit(as, (l ? BPF_JMP32 : BPF_JMP) | BPF_JA, 0, 0, l ? 0 : (int16_t)v,
			    l ? v : 0) ? 0 : -1;
	}
	if (!strcmp(m, "lddw"))
		return asm_lddw(as, ops, nops);
	if (!strcmp(m, ".insn"))
		return asm_raw_insn(as, ops, nops);
	/* each family sets done once it owns the mnemonic; its error then stands */
	static int (*const families[])(struct asm_state *, const char *, char **, int, bool *) = {
		asm_end, asm_alu, asm_jmp, asm_mem,
	};
	for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++) {
		int r = families[i](as, m, ops, nops, &done);

		if (r || done)
			return r;
	}
	return fail(as, "unknown mnemonic '%s'", m);
}

static int fixups(struct asm_state *as)
{
	for (unsigned i = 0; i < as->n_fix; i++) {
		unsigned k;
		int64_t rel;

		int64_t target = -1;

		for (k = 0; k < as->n_labels; k++)
			if (!strcmp(as->labels[k].name, as->fix[i].name))
				target = as->labels[k].pc;
		/* bpf_conformance: "exit" names the first exit unless defined as a label */
		for (k = 0; target < 0 && !strcmp(as->fix[i].name, "exit") && k < as->n; k++)
			if (as->out[k].code == (BPF_JMP | BPF_EXIT))
				target = k;
		as->line = as->fix[i].line;
		if (target < 0)
			return fail(as, "unknown label '%s'", as->fix[i].name);
		rel = target - as->fix[i].pc - 1;
		if (as->fix[i].imm)
			as->out[as->fix[i].pc].imm = (int32_t)rel;
		else if (rel < INT16_MIN || rel > INT16_MAX)
			return fail(as, "label '%s' too far for a 16-bit offset", as->fix[i].name);
		else
			as->out[as->fix[i].pc].off = (int16_t)rel;
	}
	return 0;
}

int isa_assemble(const char *text, const struct isa_case *tc, struct bpf_insn *out,
		 unsigned max, char *err, size_t err_len)
{
	struct asm_state *as = calloc(1, sizeof(*as));
	char *copy = strdup(text), *next;
	int ret = 0;

	if (!as || !copy) {
		free(as);
		free(copy);
		snprintf(err, err_len, "out of memory");
		return -1;
	}
	*as = (struct asm_state){ .tc = tc, .out = out, .max = max, .err = err, .err_len = err_len };
	for (char *s = copy; s && !ret; s = next) {
		next = strchr(s, '\n');
		if (next)
			*next++ = '\0';
		as->line++;
		s[strcspn(s, "#;")] = '\0';
		if (strstr(s, "//"))
			*strstr(s, "//") = '\0';
		s = trim(s);
		if (!*s)
			continue;
		if (s[strlen(s) - 1] == ':') {
			if (as->n_labels == MAX_LABELS) {
				ret = fail(as, "too many labels");
				break;
			}
			s[strlen(s) - 1] = '\0';
			snprintf(as->labels[as->n_labels].name, sizeof(as->labels[0].name), "%s", trim(s));
			as->labels[as->n_labels++].pc = as->n;
			continue;
		}
		ret = asm_line(as, s);
	}
	if (!ret)
		ret = fixups(as);
	if (!ret)
		ret = (int)as->n;
	free(copy);
	free(as);
	return ret;
}
