/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The text <-> bytes conversion of map keys and values (syntax in
 * sl_text.h). One walk over the BTF type in each direction:
 *
 *   parse   text -> a mutable copy, split at top-level commas of {...}/[...]
 *           -> per BTF kind: INT/ENUM/FLOAT through sl_num, addresses
 *           through inet_pton, arrays and structs element by element
 *           (recursion bounded by MAX_DEPTH), every byte written into a
 *           zeroed buffer of the key's or value's size
 *   format  bytes -> per BTF kind, the form chosen from the type and the
 *           member's name (addresses, MACs, enumerators), as text or JSON;
 *           an LPM key with bits past its prefix length is written as its
 *           struct (or bytes), so that parsing the text gives the same bytes
 *
 * Typedefs and modifiers are followed a bounded number of times; a
 * __be16/__be32/__be64 typedef on the way makes the integer big-endian.
 * Offsets and sizes come from the BTF and are checked against the buffer
 * before every access, so a hostile BTF cannot make either direction read
 * or write outside it. Control thread.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <float.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/btf.h>
#include <linux/bpf.h>

#include "sl_maps.h"
#include "sl_num.h"
#include "sl_text.h"
#include "sl_vm.h"

#define MAX_MODS 32
#define MAX_DEPTH 16
#define MAX_ELEMS 512

/* A type with typedefs and modifiers skipped. */
struct rtype {
	const struct btf_type *t;  /* NULL: untyped */
	bool be;                   /* under a __be16/__be32/__be64 typedef */
	bool in6;                  /* struct in6_addr */
};

struct walk {
	const struct btf *btf;
	const struct sl_obj *progs;   /* program names read as ids (sl_text_type.progs), or NULL */
	char *err;
	size_t errlen;
	int depth;
};

static int fail(struct walk *w, int ret, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct walk *w, int ret, const char *fmt, ...)
{
	va_list ap;

	if (w->err && w->errlen) {
		va_start(ap, fmt);
		vsnprintf(w->err, w->errlen, fmt, ap);
		va_end(ap);
	}
	return ret;
}

static const char *tname(const struct btf *btf, uint32_t off)
{
	const char *n = btf__name_by_offset(btf, off);

	return n ? n : "";
}

static int resolve(const struct btf *btf, uint32_t id, struct rtype *r)
{
	const struct btf_type *t = btf ? btf__type_by_id(btf, id) : NULL;

	memset(r, 0, sizeof(*r));
	for (int i = 0; t && i < MAX_MODS && (btf_is_mod(t) || btf_is_typedef(t)); i++) {
		const char *n = tname(btf, t->name_off);

		if (btf_is_typedef(t) && (!strcmp(n, "__be16") || !strcmp(n, "__be32") ||
					  !strcmp(n, "__be64")))
			r->be = true;
		t = btf__type_by_id(btf, t->type);
	}
	if (!t || btf_is_mod(t) || btf_is_typedef(t))
		return -EINVAL;
	r->in6 = btf_is_struct(t) && !strcmp(tname(btf, t->name_off), "in6_addr");
	r->t = t;
	return 0;
}

bool sl_text_addr_hint(const char *name)
{
	static const char *const ends[] = { "ip", "ip4", "ipv4", "ip6", "ipv6" };
	size_t n = name ? strlen(name) : 0;

	if (!n)
		return false;
	if (strstr(name, "addr"))
		return true;
	for (size_t i = 0; i < sizeof(ends) / sizeof(ends[0]); i++) {
		size_t e = strlen(ends[i]);

		if (n >= e && !strcasecmp(name + n - e, ends[i]))
			return true;
	}
	return false;
}

static void put_le(uint8_t *p, uint64_t v, uint32_t size)
{
	for (uint32_t i = 0; i < size; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le(const uint8_t *p, uint32_t size)
{
	uint64_t v = 0;

	for (uint32_t i = 0; i < size && i < 8; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static void swap_bytes(uint8_t *p, uint32_t size)
{
	for (uint32_t i = 0; i < size / 2; i++) {
		uint8_t c = p[i];

		p[i] = p[size - 1 - i];
		p[size - 1 - i] = c;
	}
}

/* ---- parsing ---- */

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

/* "hh:hh:...": exactly @p n bytes (n >= 2), two hex digits each. */
static bool parse_bytes(const char *s, uint8_t *out, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		unsigned v;

		if (!isxdigit((unsigned char)s[0]) || !isxdigit((unsigned char)s[1]))
			return false;
		if (sscanf(s, "%2x", &v) != 1)
			return false;
		out[i] = (uint8_t)v;
		s += 2;
		if (i + 1 < n && *s++ != ':')
			return false;
	}
	return *s == '\0';
}

/* a program of w->progs named @p s: its id (1 + its position), else 0 */
static uint32_t prog_id_of(const struct walk *w, const char *s)
{
	for (unsigned i = 0; w->progs && (isalpha((unsigned char)s[0]) || s[0] == '_') &&
	     i < sl_obj_prog_count(w->progs); i++)
		if (!strcmp(sl_obj_prog(w->progs, i)->name, s))
			return i + 1;
	return 0;
}

static int parse_int(struct walk *w, const struct rtype *r, const char *s, uint8_t *out,
		     uint32_t size)
{
	uint8_t enc = r->t ? btf_int_encoding(r->t) : 0;
	uint32_t id = prog_id_of(w, s);
	char phrase[160];
	int ret;

	if (id && size == 4) {
		put_le(out, id, size);
		return 0;
	}
	if (size == 4 && strchr(s, '.')) {
		if (inet_pton(AF_INET, s, out) == 1)
			return 0;
		return fail(w, -EINVAL, "want an IPv4 address (10.0.0.1), not '%s'", s);
	}
	if (size != 1 && size != 2 && size != 4 && size != 8)
		return fail(w, -ENOTSUP, "want %u bytes (hh:hh:...), not '%s'", size, s);
	if (enc & BTF_INT_BOOL) {
		if (strcmp(s, "true") && strcmp(s, "false") && strcmp(s, "0") && strcmp(s, "1"))
			return fail(w, -EINVAL, "want true, false, 0 or 1, not '%s'", s);
		memset(out, 0, size);
		out[0] = s[0] == 't' || s[0] == '1';
		return 0;
	}
	if (enc & BTF_INT_SIGNED) {
		int64_t max = (int64_t)((1ull << (8 * size - 1)) - 1), v;

		ret = sl_num_i64(s, -max - 1, max, &v, phrase, sizeof(phrase));
		if (!ret)
			put_le(out, (uint64_t)v, size);
	} else {
		uint64_t max = size == 8 ? UINT64_MAX : (1ull << (8 * size)) - 1, v;

		ret = sl_num_u64(s, 0, max, &v, phrase, sizeof(phrase));
		if (!ret)
			put_le(out, v, size);
	}
	if (ret)
		return fail(w, ret, "%s", phrase);
	if (r->be)
		swap_bytes(out, size);
	return 0;
}

static int parse_enum(struct walk *w, const struct rtype *r, const char *s, uint8_t *out,
		      uint32_t size)
{
	const struct btf_type *t = r->t;
	struct rtype asint = { 0 };
	uint16_t n = btf_vlen(t);

	for (uint16_t i = 0; i < n; i++) {
		const char *name;
		uint64_t v;

		if (btf_is_enum(t)) {
			name = tname(w->btf, btf_enum(t)[i].name_off);
			v = (uint64_t)(int64_t)btf_enum(t)[i].val;
		} else {
			name = tname(w->btf, btf_enum64(t)[i].name_off);
			v = btf_enum64_value(&btf_enum64(t)[i]);
		}
		if (!strcmp(name, s)) {
			put_le(out, v, size);
			return 0;
		}
	}
	if (isdigit((unsigned char)s[0]) || s[0] == '-')
		return parse_int(w, &asint, s, out, size);
	return fail(w, -EINVAL, "want a number or an enumerator of enum '%s', not '%s'",
		    tname(w->btf, t->name_off), s);
}

static int parse_float(struct walk *w, const char *s, uint8_t *out, uint32_t size)
{
	double d;
	int ret = sl_num_double(s, -1.7976931348623157e308, 1.7976931348623157e308, &d, NULL, 0);

	if (ret)
		return fail(w, ret, "want a real number (1.5, -2e-3), not '%s'", s);
	if (size == 4 && (d > FLT_MAX || d < -FLT_MAX))
		return fail(w, -ERANGE, "want a real number within +-%g (a float), not '%s'",
			    (double)FLT_MAX, s);
	if (size == 4) {
		float f = (float)d;

		memcpy(out, &f, 4);
	} else if (size == 8) {
		memcpy(out, &d, 8);
	} else {
		return fail(w, -ENOTSUP, "floats of %u bytes are not supported", size);
	}
	return 0;
}

/*
 * Split "{a, b, c}" (or [...]) in place: the elements, trimmed, into
 * @p elems. Commas inside nested brackets or quotes do not split.
 */
static int split(struct walk *w, char *s, char open, char close, char **elems, unsigned *n)
{
	size_t len = strlen(s);
	char *p, *start;
	int depth = 0;
	bool quote = false;

	if (len < 2 || s[0] != open || s[len - 1] != close)
		return fail(w, -EINVAL, "want %c...%c, not '%s'", open, close, s);
	s[len - 1] = '\0';
	start = s + 1;
	*n = 0;
	if (!*trim(start))
		return 0;
	for (p = start;; p++) {
		if (*p == '"')
			quote = !quote;
		else if (!quote && (*p == '{' || *p == '['))
			depth++;
		else if (!quote && (*p == '}' || *p == ']'))
			depth--;
		if (*p == '\0' || (*p == ',' && !depth && !quote)) {
			bool end = *p == '\0';

			if (*n >= MAX_ELEMS)
				return fail(w, -E2BIG, "more than %d elements", MAX_ELEMS);
			*p = '\0';
			elems[(*n)++] = trim(start);
			if (!*elems[*n - 1])
				return fail(w, -EINVAL, "empty element in %c...%c", open, close);
			if (end)
				break;
			start = p + 1;
		}
	}
	return 0;
}

static int parse_node(struct walk *w, uint32_t id, char *s, uint8_t *out, uint32_t size);

/* "name: value" -> name (NUL-terminated) and value; false when not named. */
static bool split_name(char *s, char **name, char **value)
{
	char *p = s;

	if (!isalpha((unsigned char)*p) && *p != '_')
		return false;
	while (isalnum((unsigned char)*p) || *p == '_')
		p++;
	if (p[0] != ':' || (p[1] && !isspace((unsigned char)p[1])))
		return false;
	*p = '\0';
	*name = s;
	*value = trim(p + 1);
	return true;
}

/* Parse one element into @p out + the member's offset, naming the member in an error. */
static int parse_member(struct walk *w, const struct btf_type *t, unsigned idx, char *s,
			uint8_t *out, uint32_t size)
{
	const struct btf_member *m = &btf_members(t)[idx];
	const char *name = tname(w->btf, m->name_off);
	uint32_t off = btf_member_bit_offset(t, idx);
	int64_t msize = btf__resolve_size(w->btf, m->type);
	int ret;

	if (btf_member_bitfield_size(t, idx) || off % 8)
		return fail(w, -ENOTSUP, "member '%s': bitfields are not supported", name);
	off /= 8;
	if (msize < 0 || off > size || (uint64_t)msize > size - off)
		return fail(w, -EINVAL, "member '%s': outside the type (broken BTF)", name);
	ret = parse_node(w, m->type, s, out + off, (uint32_t)msize);
	if (ret && w->err && w->errlen) {
		char inner[256];

		snprintf(inner, sizeof(inner), "%s", w->err);
		snprintf(w->err, w->errlen, "%s: %s", *name ? name : "(anonymous)", inner);
	}
	return ret;
}

static int parse_struct(struct walk *w, const struct btf_type *t, char *s, uint8_t *out,
			uint32_t size)
{
	char *elems[MAX_ELEMS];
	unsigned n, next = 0, vlen = btf_vlen(t);
	int ret = split(w, s, '{', '}', elems, &n);

	for (unsigned i = 0; !ret && i < n; i++) {
		char *name, *value = elems[i];
		unsigned idx = next;

		if (split_name(elems[i], &name, &value)) {
			for (idx = 0; idx < vlen; idx++)
				if (!strcmp(tname(w->btf, btf_members(t)[idx].name_off), name))
					break;
			if (idx == vlen)
				return fail(w, -EINVAL, "'%s' has no member '%s'",
					    *tname(w->btf, t->name_off) ? tname(w->btf, t->name_off) :
					    "(anonymous)", name);
		}
		if (idx >= vlen || (btf_is_union(t) && (n > 1)))
			return fail(w, -EINVAL, "%s '%s' has %u member%s, not %u",
				    btf_is_union(t) ? "union (one member at a time)" : "struct",
				    *tname(w->btf, t->name_off) ? tname(w->btf, t->name_off) :
				    "(anonymous)", btf_is_union(t) ? 1 : vlen,
				    vlen == 1 || btf_is_union(t) ? "" : "s", n);
		ret = parse_member(w, t, idx, value, out, size);
		next = idx + 1;
	}
	return ret;
}

static int parse_array(struct walk *w, const struct btf_type *t, char *s, uint8_t *out,
		       uint32_t size)
{
	const struct btf_array *a = btf_array(t);
	int64_t esize = btf__resolve_size(w->btf, a->type);
	struct rtype er;
	char *elems[MAX_ELEMS];
	unsigned n;
	int ret;

	if (esize <= 0 || (uint64_t)esize * a->nelems > size || resolve(w->btf, a->type, &er))
		return fail(w, -EINVAL, "array outside the type (broken BTF)");
	if (esize == 1 && btf_is_int(er.t)) {
		if (a->nelems == 4 && strchr(s, '.'))
			return inet_pton(AF_INET, s, out) == 1 ? 0 :
			       fail(w, -EINVAL, "want an IPv4 address (10.0.0.1), not '%s'", s);
		if (a->nelems == 16 && strchr(s, ':') && inet_pton(AF_INET6, s, out) == 1)
			return 0;
		if (s[0] == '"') {
			size_t len = strlen(s);

			if (len < 2 || s[len - 1] != '"' || len - 2 > a->nelems)
				return fail(w, -EINVAL, "want a string of at most %u bytes in \"...\", "
					    "not %s", a->nelems, s);
			memcpy(out, s + 1, len - 2);
			return 0;
		}
		if (s[0] != '[')
			return fail(w, -EINVAL, "want %u bytes (hh:hh:...)%s, not '%s'", a->nelems,
				    a->nelems == 4 ? " or an IPv4 address" :
				    a->nelems == 16 ? " or an IPv6 address" : "", s);
	}
	ret = split(w, s, '[', ']', elems, &n);
	if (!ret && n > a->nelems)
		return fail(w, -EINVAL, "want at most %u elements, not %u", a->nelems, n);
	for (unsigned i = 0; !ret && i < n; i++)
		ret = parse_node(w, a->type, elems[i], out + i * esize, (uint32_t)esize);
	return ret;
}

static int parse_node(struct walk *w, uint32_t id, char *s, uint8_t *out, uint32_t size)
{
	struct rtype r;
	int ret;

	if (++w->depth > MAX_DEPTH)
		return fail(w, -E2BIG, "types nested deeper than %d", MAX_DEPTH);
	if (size >= 2 && strchr(s, ':') && parse_bytes(s, out, size))
		ret = 0;
	else if (resolve(w->btf, id, &r))
		ret = fail(w, -EINVAL, "BTF type %u cannot be resolved", id);
	else if (btf_is_int(r.t))
		ret = parse_int(w, &r, s, out, size);
	else if (btf_is_any_enum(r.t))
		ret = parse_enum(w, &r, s, out, size);
	else if (btf_is_float(r.t))
		ret = parse_float(w, s, out, size);
	else if (btf_is_array(r.t))
		ret = parse_array(w, r.t, s, out, size);
	else if (r.in6 && s[0] != '{')
		ret = inet_pton(AF_INET6, s, out) == 1 ? 0 :
		      fail(w, -EINVAL, "want an IPv6 address (2001:db8::1), not '%s'", s);
	else if (btf_is_composite(r.t))
		ret = parse_struct(w, r.t, s, out, size);
	else
		ret = fail(w, -ENOTSUP, "want %u bytes (hh:hh:...) for this type (BTF kind %u), "
			   "not '%s'", size, btf_kind(r.t), s);
	w->depth--;
	return ret;
}

/* LPM_TRIE key: "ADDR/LEN" into u32 prefixlen + address bytes. */
static int parse_prefix(struct walk *w, char *s, uint8_t *out, uint32_t size)
{
	char *slash = strchr(s, '/');
	uint32_t dsize = size - 4;
	const char *kind = dsize == 4 ? "IPv4" : dsize == 16 ? "IPv6" : "byte";
	const char *eg = dsize == 4 ? "10.0.0.0/8" : dsize == 16 ? "2001:db8::/32" : "hh:hh/LEN";
	char phrase[160];
	uint64_t len;
	int ok;

	if (!slash)
		return fail(w, -EINVAL, "want an %s prefix (%s), not '%s'", kind, eg, s);
	*slash = '\0';
	if (dsize == 4)
		ok = inet_pton(AF_INET, s, out + 4) == 1;
	else if (dsize == 16)
		ok = inet_pton(AF_INET6, s, out + 4) == 1;
	else
		ok = dsize >= 2 ? parse_bytes(s, out + 4, dsize) : dsize == 1 &&
		     sscanf(s, "%2hhx", out + 4) == 1;
	*slash = '/';
	if (!ok)
		return fail(w, -EINVAL, "want an %s prefix (%s), not '%s'", kind, eg, s);
	if (sl_num_u64(slash + 1, 0, 8ull * dsize, &len, phrase, sizeof(phrase)))
		return fail(w, -ERANGE, "prefix length of '%s': %s", s, phrase);
	for (uint32_t bit = (uint32_t)len; bit < 8 * dsize; bit++)
		if (out[4 + bit / 8] & (0x80 >> (bit % 8)))
			return fail(w, -EINVAL, "'%s' has bits set after the first %u", s,
				    (unsigned)len);
	put_le(out, len, 4);
	return 0;
}

/* Untyped: an integer of 1, 2, 4 or 8 bytes, or bytes. */
static int parse_untyped(struct walk *w, const char *s, uint8_t *out, uint32_t size)
{
	struct rtype r = { 0 };

	if (size >= 2 && parse_bytes(s, out, size))
		return 0;
	if (size == 1 || size == 2 || size == 4 || size == 8)
		return parse_int(w, &r, s, out, size);
	return fail(w, -EINVAL, "want %u bytes (hh:hh:...), not '%s'", size, s);
}

int sl_text_parse(const struct sl_text_type *t, const char *text, void *out, char *err,
		  size_t errlen)
{
	struct walk w = { .btf = t->btf, .progs = t->progs, .err = err, .errlen = errlen };
	char *copy, *s;
	int ret;

	if (err && errlen)
		err[0] = '\0';
	if (!t->size)
		return fail(&w, -EINVAL, "zero-sized key or value");
	memset(out, 0, t->size);
	copy = strdup(text);
	if (!copy)
		return fail(&w, -ENOMEM, "out of memory");
	s = trim(copy);
	if (!*s)
		ret = fail(&w, -EINVAL, "empty text");
	else if (t->lpm_key && t->size > 4 && s[0] != '{')
		ret = parse_prefix(&w, s, out, t->size);
	else if (!t->btf || !t->id)
		ret = parse_untyped(&w, s, out, t->size);
	else
		ret = parse_node(&w, t->id, s, out, t->size);
	free(copy);
	return ret;
}

/* ---- formatting ---- */

struct out {
	char *buf;
	size_t len, pos;
	bool json;
};

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* @p n bytes as vsnprintf would write them: what fits, NUL-terminated; pos counts all. */
static void put_raw(struct out *o, const char *s, size_t n)
{
	if (o->pos < o->len) {
		size_t room = o->len - o->pos - 1, k = n < room ? n : room;

		memcpy(o->buf + o->pos, s, k);
		o->buf[o->pos + k] = '\0';
	}
	o->pos += n;
}

/* Literal text and %s (most of what formatting writes: a dump's keys and
 * values) without vsnprintf; anything else through it. */
static void put(struct out *o, const char *fmt, ...)
{
	const char *f = fmt;
	va_list ap;
	int n;

	va_start(ap, fmt);
	while (*f && (f[0] != '%' || f[1] == 's'))
		f += f[0] == '%' ? 2 : 1;
	if (!*f) {
		for (f = fmt; *f;) {
			const char *s = f;
			size_t len;

			if (f[0] == '%') {
				s = va_arg(ap, const char *);
				s = s ? s : "(null)";  /* as glibc's vsnprintf */
				len = strlen(s);
				f += 2;
			} else {
				len = strcspn(f, "%");
				f += len;
			}
			put_raw(o, s, len);
		}
		va_end(ap);
		return;
	}
	n = vsnprintf(o->pos < o->len ? o->buf + o->pos : NULL,
		      o->pos < o->len ? o->len - o->pos : 0, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->pos += (size_t)n;
}

/* An integer in decimal, @p neg: with a minus sign (what %llu / %lld write). */
static void put_dec(struct out *o, uint64_t u, bool neg)
{
	char b[24], *e = b + sizeof(b), *s = e;

	do {
		*--s = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (neg)
		*--s = '-';
	put_raw(o, s, (size_t)(e - s));
}

/* A string form: quoted in JSON. */
static void put_str(struct out *o, const char *s)
{
	put(o, o->json ? "\"%s\"" : "%s", s);
}

static void fmt_bytes(struct out *o, const uint8_t *p, uint32_t n)
{
	static const char hex[] = "0123456789abcdef";
	char b[3] = { ':' };

	put_raw(o, "\"", o->json);
	for (uint32_t i = 0; i < n; i++) {  /* "%s%02x", i ? ":" : "" */
		b[1] = hex[p[i] >> 4];
		b[2] = hex[p[i] & 15];
		put_raw(o, i ? b : b + 1, i ? 3 : 2);
	}
	put_raw(o, "\"", o->json);
}

static void fmt_addr(struct out *o, int af, const uint8_t *p)
{
	char a[INET6_ADDRSTRLEN];

	put_str(o, inet_ntop(af, p, a, sizeof(a)) ? a : "?");
}

static void fmt_int(struct out *o, const struct rtype *r, const char *name, const uint8_t *p,
		    uint32_t size)
{
	uint8_t v[8];
	uint64_t u;

	if (size == 4 && (sl_text_addr_hint(name) || (r->be && !name))) {
		fmt_addr(o, AF_INET, p);
		return;
	}
	if (size != 1 && size != 2 && size != 4 && size != 8) {
		fmt_bytes(o, p, size);
		return;
	}
	memcpy(v, p, size);
	if (r->be)
		swap_bytes(v, size);
	u = get_le(v, size);
	if (r->t && (btf_int_encoding(r->t) & BTF_INT_BOOL))
		put(o, "%s", u ? "true" : "false");
	else if (r->t && (btf_int_encoding(r->t) & BTF_INT_SIGNED) && size < 8 &&
		 (u >> (8 * size - 1)) & 1)
		put_dec(o, -(u | ~((1ull << (8 * size)) - 1)), true);  /* sign-extended, negated */
	else if (r->t && (btf_int_encoding(r->t) & BTF_INT_SIGNED) && (u >> 63))
		put_dec(o, -u, true);
	else
		put_dec(o, u, false);
}

static void fmt_enum(struct out *o, const struct btf *btf, const struct rtype *r,
		     const uint8_t *p, uint32_t size)
{
	const struct btf_type *t = r->t;
	uint64_t v = get_le(p, size);

	for (uint16_t i = 0; i < btf_vlen(t); i++) {
		uint64_t ev = btf_is_enum(t) ? (uint64_t)(uint32_t)btf_enum(t)[i].val :
			      btf_enum64_value(&btf_enum64(t)[i]);
		uint32_t noff = btf_is_enum(t) ? btf_enum(t)[i].name_off : btf_enum64(t)[i].name_off;

		if (size < 8)
			ev &= (1ull << (8 * size)) - 1;
		if (ev == v) {
			put_str(o, tname(btf, noff));
			return;
		}
	}
	put(o, "%llu", (unsigned long long)v);
}

static bool printable_string(const uint8_t *p, uint32_t n)
{
	uint32_t i = 0;

	while (i < n && p[i] && isprint(p[i]) && p[i] != '"' && p[i] != '\\')
		i++;
	if (i == 0)
		return false;
	while (i < n && !p[i])
		i++;
	return i == n;
}

static int fmt_node(struct out *o, const struct btf *btf, uint32_t id, const char *name,
		    const uint8_t *p, uint32_t size, int depth);

static int fmt_array(struct out *o, const struct btf *btf, const struct btf_type *t,
		     const char *name, const uint8_t *p, uint32_t size, int depth)
{
	const struct btf_array *a = btf_array(t);
	int64_t esize = btf__resolve_size(btf, a->type);
	struct rtype er;
	int ret = 0;

	if (esize <= 0 || (uint64_t)esize * a->nelems > size || resolve(btf, a->type, &er))
		return -EINVAL;
	if (esize == 1 && btf_is_int(er.t)) {
		if (a->nelems == 4 && sl_text_addr_hint(name))
			fmt_addr(o, AF_INET, p);
		else if (a->nelems == 16 && sl_text_addr_hint(name))
			fmt_addr(o, AF_INET6, p);
		else if ((btf_int_encoding(er.t) & BTF_INT_CHAR ||
			  !strcmp(tname(btf, er.t->name_off), "char")) &&
			 printable_string(p, a->nelems))
			put(o, "\"%.*s\"", (int)strnlen((const char *)p, a->nelems), (const char *)p);
		else if (a->nelems >= 2)
			fmt_bytes(o, p, a->nelems);
		else
			ret = -EAGAIN;  /* u8[1]: as a list */
		if (ret != -EAGAIN)
			return 0;
		ret = 0;
	}
	put(o, "[");
	for (uint32_t i = 0; i < a->nelems && !ret; i++) {
		put(o, "%s", i ? ", " : "");
		ret = fmt_node(o, btf, a->type, NULL, p + i * esize, (uint32_t)esize, depth + 1);
	}
	put(o, "]");
	return ret;
}

/* A bitfield member's value (little-endian bit numbering, as clang lays them out on x86). */
static uint64_t bitfield(const uint8_t *p, uint32_t size, uint32_t bit_off, uint32_t bits)
{
	uint64_t v = 0;

	for (uint32_t b = 0; b < bits && b < 64; b++) {
		uint32_t at = bit_off + b;

		if (at / 8 < size && (p[at / 8] >> (at % 8) & 1))
			v |= 1ull << b;
	}
	return v;
}

static int fmt_struct(struct out *o, const struct btf *btf, const struct btf_type *t,
		      const uint8_t *p, uint32_t size, int depth)
{
	unsigned n = btf_is_union(t) ? (btf_vlen(t) ? 1 : 0) : btf_vlen(t);
	int ret = 0;

	put(o, "{");
	for (unsigned i = 0; i < n && !ret; i++) {
		const struct btf_member *m = &btf_members(t)[i];
		const char *mname = tname(btf, m->name_off);
		uint32_t off = btf_member_bit_offset(t, i), bits = btf_member_bitfield_size(t, i);
		int64_t msize = btf__resolve_size(btf, m->type);

		put(o, "%s", i ? ", " : "");
		if (*mname)
			put(o, o->json ? "\"%s\": " : "%s: ", mname);
		else if (o->json)
			put(o, "\"%u\": ", i);
		if (bits || off % 8) {
			put(o, "%llu", (unsigned long long)bitfield(p, size, off, bits ? bits : 1));
			continue;
		}
		if (msize < 0 || off / 8 > size || (uint64_t)msize > size - off / 8)
			return -EINVAL;
		ret = fmt_node(o, btf, m->type, mname, p + off / 8, (uint32_t)msize, depth + 1);
	}
	put(o, "}");
	return ret;
}

static int fmt_node(struct out *o, const struct btf *btf, uint32_t id, const char *name,
		    const uint8_t *p, uint32_t size, int depth)
{
	struct rtype r;

	if (depth > MAX_DEPTH || resolve(btf, id, &r))
		return -EINVAL;
	if (btf_is_int(r.t)) {
		fmt_int(o, &r, name, p, size);
	} else if (btf_is_any_enum(r.t)) {
		fmt_enum(o, btf, &r, p, size);
	} else if (btf_is_float(r.t) && (size == 4 || size == 8)) {
		float f;
		double d;

		if (size == 4)
			memcpy(&f, p, 4), d = f;
		else
			memcpy(&d, p, 8);
		put(o, size == 4 ? "%.9g" : "%.17g", d);
	} else if (btf_is_array(r.t)) {
		return fmt_array(o, btf, r.t, name, p, size, depth);
	} else if (r.in6 && size == 16) {
		fmt_addr(o, AF_INET6, p);
	} else if (btf_is_composite(r.t)) {
		return fmt_struct(o, btf, r.t, p, size, depth);
	} else {
		fmt_bytes(o, p, size);
	}
	return 0;
}

/* No bit set past the first @p plen of @p addr: the prefix form reads back the same bytes. */
static bool prefix_clean(const uint8_t *addr, uint32_t n, uint32_t plen)
{
	for (uint32_t bit = plen; bit < 8 * n; bit++)
		if (addr[bit / 8] & (0x80 >> (bit % 8)))
			return false;
	return true;
}

static int format(const struct sl_text_type *t, const void *bytes, char *buf, size_t len,
		  bool json)
{
	struct out o = { .buf = buf, .len = len, .json = json };
	const uint8_t *p = bytes;
	struct rtype none = { 0 };
	uint32_t plen;
	int ret = 0;

	if (buf && len)
		buf[0] = '\0';
	if (t->lpm_key && t->size > 4 && (plen = (uint32_t)get_le(p, 4)) <= 8 * (t->size - 4) &&
	    prefix_clean(p + 4, t->size - 4, plen)) {
		char addr[INET6_ADDRSTRLEN] = "";
		struct out a = { .buf = addr, .len = sizeof(addr) };

		if (t->size == 8 || t->size == 20)
			inet_ntop(t->size == 8 ? AF_INET : AF_INET6, p + 4, addr, sizeof(addr));
		else
			fmt_bytes(&a, p + 4, t->size - 4);
		put(&o, json ? "\"%s/%u\"" : "%s/%u", addr, plen);
	} else if (!t->btf || !t->id) {
		if (t->size == 1 || t->size == 2 || t->size == 4 || t->size == 8)
			fmt_int(&o, &none, NULL, p, t->size);
		else
			fmt_bytes(&o, p, t->size);
	} else {
		ret = fmt_node(&o, t->btf, t->id, NULL, p, t->size, 0);
	}
	if (ret)
		return ret;
	return o.pos > (size_t)INT32_MAX ? -E2BIG : (int)o.pos;
}

int sl_text_format(const struct sl_text_type *t, const void *bytes, char *buf, size_t len)
{
	return format(t, bytes, buf, len, false);
}

int sl_text_format_json(const struct sl_text_type *t, const void *bytes, char *buf, size_t len)
{
	return format(t, bytes, buf, len, true);
}

int sl_text_map_types(const struct sl_obj *obj, const struct sl_map *map,
		      struct sl_text_type *key, struct sl_text_type *value)
{
	const struct sl_map_def *def = sl_map_get_def(map);
	uint32_t kid = 0, vid = 0;
	int ret = sl_obj_map_btf_ids(obj, map, &kid, &vid);

	if (ret)
		return ret;
	*key = (struct sl_text_type){ .btf = sl_obj_btf(obj), .id = kid, .size = def->key_size,
				      .lpm_key = def->type == BPF_MAP_TYPE_LPM_TRIE };
	*value = (struct sl_text_type){ .btf = sl_obj_btf(obj), .id = vid,
					.size = def->value_size,
					.progs = def->type == BPF_MAP_TYPE_CPUMAP ? obj : NULL };
	if (!kid)
		key->btf = NULL;
	if (!vid)
		value->btf = NULL;
	return 0;
}

const char *sl_text_token_end(const char *s)
{
	int depth = 0;
	bool quote = false;

	for (; *s; s++) {
		if (*s == '"')
			quote = !quote;
		else if (!quote && (*s == '{' || *s == '['))
			depth++;
		else if (!quote && (*s == '}' || *s == ']') && --depth < 0)
			return NULL;
		else if (!quote && !depth && isspace((unsigned char)*s))
			return s;
	}
	return depth || quote ? NULL : s;
}
