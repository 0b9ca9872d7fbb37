/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A map dump's key or value text, compiled once per dump (ctl_dump.c).
 *
 * Every entry of a dump has the same key and value types, so the walk of
 * the BTF that sl_text_format_json() does per entry (typedefs resolved,
 * member names compared with the address hints, sizes computed, the text
 * then compacted by put_compact()) can be done once: the type becomes a
 * list of steps — literal text ({"b":, commas, brackets), an integer of
 * 1/2/4/8 bytes in decimal, bytes as "xx:xx:..." — and an entry's text is
 * those steps run over its bytes, compact, as put_compact() would have
 * left sl_text's JSON form.
 *
 * Only the shapes whose text does not depend on the bytes beyond that are
 * compiled: integers (not bool, not big-endian, not an address by member
 * name), byte arrays that are not char arrays or addresses, structs (no
 * bitfields, no unions) and arrays of those, untyped keys and values. Any
 * other type (enums, floats, addresses, strings, in6_addr, LPM keys) is not
 * compiled and its entries take sl_text's way, as before. An integer of
 * more than 18 digits makes that entry take it too (put_compact()'s rule:
 * jansson would not write it back as it is). The steps follow text.c's
 * format() step for step (the same checks, the same sizes passed down), so
 * the text is byte for byte the same (test ctl-plan compares both over the
 * typed maps of config/tests with random bytes). Control thread.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <bpf/btf.h>

#include "ctl_plan.h"

#define PLAN_MAX_MODS 32   /* text.c's MAX_MODS */
#define PLAN_MAX_DEPTH 16  /* text.c's MAX_DEPTH */

struct build {
	struct sl_ctl_plan *p;
	const struct btf *btf;
};

static const char *tname(const struct btf *btf, uint32_t off)
{
	const char *n = btf__name_by_offset(btf, off);

	return n ? n : "";
}

/* text.c's resolve(): typedefs and modifiers skipped; *be: a __be16/32/64 on the way. */
static const struct btf_type *resolve(const struct btf *btf, uint32_t id, bool *be)
{
	const struct btf_type *t = btf__type_by_id(btf, id);

	*be = false;
	for (int i = 0; t && i < PLAN_MAX_MODS && (btf_is_mod(t) || btf_is_typedef(t)); i++) {
		const char *n = tname(btf, t->name_off);

		if (btf_is_typedef(t) && (!strcmp(n, "__be16") || !strcmp(n, "__be32") ||
					  !strcmp(n, "__be64")))
			*be = true;
		t = btf__type_by_id(btf, t->type);
	}
	return !t || btf_is_mod(t) || btf_is_typedef(t) ? NULL : t;
}

static bool op(struct build *b, enum sl_ctl_plan_kind kind, uint32_t off, uint32_t n)
{
	struct sl_ctl_plan *p = b->p;

	if (p->nops == SL_CTL_PLAN_OPS)
		return false;
	p->ops[p->nops++] = (struct sl_ctl_plan_op){ .kind = kind, .off = off, .n = n };
	return true;
}

/* Literal text: kept in the plan's pool (a step: its offset and length there). */
static bool lit(struct build *b, const char *s)
{
	struct sl_ctl_plan *p = b->p;
	size_t n = strlen(s);

	if (p->pool_len + n > sizeof(p->pool))
		return false;
	memcpy(p->pool + p->pool_len, s, n);
	p->pool_len += (uint32_t)n;
	return op(b, PLAN_LIT, p->pool_len - (uint32_t)n, (uint32_t)n);
}

/* A member name jansson writes back as it is: printable ASCII, no quote or backslash. */
static bool plain_name(const char *s)
{
	for (; *s; s++)
		if (*s < 0x20 || *s > 0x7e || *s == '"' || *s == '\\')
			return false;
	return true;
}

static bool node(struct build *b, uint32_t id, const char *name, uint32_t off, uint32_t size,
		 int depth);

/* text.c's fmt_int() for the shapes compiled here. */
static bool integer(struct build *b, const struct btf_type *t, bool be, const char *name,
		    uint32_t off, uint32_t size)
{
	uint8_t enc = btf_int_encoding(t);

	if (size == 4 && (sl_text_addr_hint(name) || (be && !name)))
		return false;  /* an IPv4 address */
	if (size != 1 && size != 2 && size != 4 && size != 8)
		return op(b, PLAN_BYTES, off, size);
	if (be || (enc & BTF_INT_BOOL))
		return false;
	return op(b, enc & BTF_INT_SIGNED ? PLAN_SINT : PLAN_UINT, off, size);
}

/* text.c's fmt_array(). */
static bool array(struct build *b, const struct btf_type *t, const char *name, uint32_t off,
		  uint32_t size, int depth)
{
	const struct btf_array *a = btf_array(t);
	int64_t esize = btf__resolve_size(b->btf, a->type);
	const struct btf_type *et;
	bool be, ok;

	if (esize <= 0 || (uint64_t)esize * a->nelems > size || !(et = resolve(b->btf, a->type, &be)))
		return false;
	if (esize == 1 && btf_is_int(et)) {
		if ((a->nelems == 4 || a->nelems == 16) && sl_text_addr_hint(name))
			return false;
		if ((btf_int_encoding(et) & BTF_INT_CHAR) || !strcmp(tname(b->btf, et->name_off), "char"))
			return false;  /* a string or bytes, by what the bytes are */
		if (a->nelems >= 2)
			return op(b, PLAN_BYTES, off, a->nelems);
	}
	ok = lit(b, "[");
	b->p->blanks += a->nelems ? a->nelems - 1 : 0;  /* ", " between elements */
	for (uint32_t i = 0; ok && i < a->nelems; i++)
		ok = (!i || lit(b, ",")) &&
		     node(b, a->type, NULL, off + i * (uint32_t)esize, (uint32_t)esize, depth + 1);
	return ok && lit(b, "]");
}

/* text.c's fmt_struct() for structs without bitfields. */
static bool structure(struct build *b, const struct btf_type *t, uint32_t off, uint32_t size,
		      int depth)
{
	bool ok = !btf_is_union(t) && lit(b, "{");

	for (unsigned i = 0; ok && i < btf_vlen(t); i++) {
		const struct btf_member *m = &btf_members(t)[i];
		const char *mname = tname(b->btf, m->name_off);
		uint32_t boff = btf_member_bit_offset(t, i);
		int64_t msize = btf__resolve_size(b->btf, m->type);
		char key[160];

		if (btf_member_bitfield_size(t, i) || boff % 8 || msize < 0 || boff / 8 > size ||
		    (uint64_t)msize > size - boff / 8 || !plain_name(mname) ||
		    strlen(mname) > sizeof(key) - 8)
			return false;
		b->p->blanks += i ? 2 : 1;  /* ", " before it, ": " after its name */
		if (*mname)
			snprintf(key, sizeof(key), "%s\"%s\":", i ? "," : "", mname);
		else
			snprintf(key, sizeof(key), "%s\"%u\":", i ? "," : "", i);
		ok = lit(b, key) && node(b, m->type, mname, off + boff / 8, (uint32_t)msize, depth + 1);
	}
	return ok && lit(b, "}");
}

/* text.c's fmt_node(): false where it would write a form that is not compiled (or fail). */
static bool node(struct build *b, uint32_t id, const char *name, uint32_t off, uint32_t size,
		 int depth)
{
	bool be;
	const struct btf_type *t = depth > PLAN_MAX_DEPTH ? NULL : resolve(b->btf, id, &be);

	if (!t || btf_is_any_enum(t) || btf_is_float(t))
		return false;
	if (btf_is_int(t))
		return integer(b, t, be, name, off, size);
	if (btf_is_array(t))
		return array(b, t, name, off, size, depth);
	if (btf_is_struct(t) && !strcmp(tname(b->btf, t->name_off), "in6_addr") && size == 16)
		return false;  /* an IPv6 address */
	if (btf_is_composite(t))
		return structure(b, t, off, size, depth);
	return size && op(b, PLAN_BYTES, off, size);
}

bool sl_ctl_plan_build(struct sl_ctl_plan *p, const struct sl_text_type *t)
{
	struct build b = { .p = p, .btf = t->btf };
	bool ok;

	memset(p, 0, sizeof(*p));
	if (t->lpm_key || !t->size)
		return false;
	if (!t->btf || !t->id)  /* format()'s untyped forms */
		ok = op(&b, t->size == 1 || t->size == 2 || t->size == 4 || t->size == 8 ?
			PLAN_UINT : PLAN_BYTES, 0, t->size);
	else
		ok = node(&b, t->id, NULL, 0, t->size, 0);
	p->ok = ok;
	p->size = t->size;
	return ok;
}

/* Decimal digits of @p u into the end of @p buf; the first one's address. */
static char *digits(uint64_t u, char *end)
{
	do {
		*--end = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	return end;
}

static uint64_t get_le(const uint8_t *p, uint32_t n)
{
	uint64_t v = 0;

	for (uint32_t i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

/* An integer step's text into @p tmp: its start, *len; NULL past 18 digits. */
static const char *number(const struct sl_ctl_plan_op *o, const uint8_t *p, char *tmp,
			  size_t *len)
{
	uint64_t u = get_le(p + o->off, o->n);
	bool neg = o->kind == PLAN_SINT && (u >> (8 * o->n - 1)) & 1;
	char *end = tmp + 24, *s;

	if (neg)  /* sign-extended, negated: what text.c's put_dec(.., true) writes */
		u = o->n < 8 ? -(u | ~((1ull << (8 * o->n)) - 1)) : -u;
	s = digits(u, end);
	if (end - s > 18)
		return NULL;
	if (neg)
		*--s = '-';
	*len = (size_t)(end - s);
	return s;
}

int sl_ctl_plan_put(const struct sl_ctl_plan *p, const uint8_t *bytes, char *out, size_t cap)
{
	static const char hex[] = "0123456789abcdef";
	size_t pos = 0, n;

	for (unsigned i = 0; i < p->nops; i++) {
		const struct sl_ctl_plan_op *o = &p->ops[i];
		char tmp[25];
		const char *s = NULL;

		if (o->kind == PLAN_LIT)
			s = p->pool + o->off, n = o->n;
		else if (o->kind != PLAN_BYTES && !(s = number(o, bytes, tmp, &n)))
			return -ERANGE;
		if (o->kind == PLAN_BYTES)
			n = 3 * (size_t)o->n + 1;  /* "xx:...:xx" */
		if (pos + n > cap)
			return -ENOSPC;
		if (o->kind != PLAN_BYTES) {
			memcpy(out + pos, s, n);
			pos += n;
			continue;
		}
		out[pos++] = '"';
		for (uint32_t k = 0; k < o->n; k++) {
			uint8_t v = bytes[o->off + k];

			if (k)
				out[pos++] = ':';
			out[pos++] = hex[v >> 4];
			out[pos++] = hex[v & 15];
		}
		out[pos++] = '"';
	}
	return (int)pos;
}
