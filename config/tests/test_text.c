/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The text<->bytes conversion (sl_text.h) over the BTF-typed maps of
 * progs/typed_maps.bpf.c: a table of (map, key or value, text) with the
 * bytes each must give, written out by hand from the C layout of the types,
 * the text and JSON each bytes format back to, or the exact error phrase.
 * Every accepted text is also parsed back from its formatted form (round trip),
 * and random bytes of every map's key and value format to text that reads back.
 * Failures are reported through sl_test (tests/common): FAIL, sl_test_done().
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl_maps.h"
#include "sl_test.h"
#include "sl_text.h"
#include "sl_vm.h"

struct text_case {
	const char *map;
	char which;          /* 'k' key, 'v' value */
	const char *text;
	int ret;
	const char *bytes;   /* hex, spaces ignored; ret == 0 */
	const char *fmt;     /* formatted text (NULL: same as text) */
	const char *json;    /* JSON (NULL: not checked) */
	const char *err;     /* error phrase; ret != 0 */
};

#define FLOW_BYTES "0a000001 0a000002 04d2 0050 06 000000"
#define FLOW_FMT "{saddr: 10.0.0.1, daddr: 10.0.0.2, sport: 1234, dport: 80, proto: 6, pad: 00:00:00}"

static const struct text_case cases[] = {
	{ "block4", 'k', "10.0.0.0/8", 0, "08000000 0a000000", NULL, "\"10.0.0.0/8\"", NULL },
	{ "block4", 'k', "0.0.0.0/0", 0, "00000000 00000000", NULL, NULL, NULL },
	{ "block4", 'k', "192.168.1.7/32", 0, "20000000 c0a80107", NULL, NULL, NULL },
	{ "block4", 'k', "{prefixlen: 24, addr: 192.168.1.0}", 0, "18000000 c0a80100",
	  "192.168.1.0/24", NULL, NULL },
	{ "block4", 'k', "10.0.0.1/8", -EINVAL, NULL, NULL, NULL,
	  "'10.0.0.1/8' has bits set after the first 8" },
	{ "block4", 'k', "10.0.0.0/33", -ERANGE, NULL, NULL, NULL,
	  "prefix length of '10.0.0.0/33': want an integer in 0..32, not '33'" },
	{ "block4", 'k', "10.0.0.0", -EINVAL, NULL, NULL, NULL,
	  "want an IPv4 prefix (10.0.0.0/8), not '10.0.0.0'" },
	{ "block4", 'k', "10.0.0/8", -EINVAL, NULL, NULL, NULL,
	  "want an IPv4 prefix (10.0.0.0/8), not '10.0.0/8'" },
	{ "block6", 'k', "2001:db8::/32", 0, "20000000 20010db8 00000000 00000000 00000000",
	  NULL, "\"2001:db8::/32\"", NULL },
	{ "block6", 'k', "::1/128", 0, "80000000 00000000 00000000 00000000 00000001", NULL, NULL,
	  NULL },
	{ "block6", 'k', "2001:db8::/129", -ERANGE, NULL, NULL, NULL,
	  "prefix length of '2001:db8::/129': want an integer in 0..128, not '129'" },
	{ "block6", 'v', "42", 0, "2a000000", NULL, "42", NULL },
	{ "rules", 'k', "{saddr: 10.0.0.1, daddr: 10.0.0.2, sport: 1234, dport: 80, proto: 6}", 0,
	  FLOW_BYTES, FLOW_FMT,
	  "{\"saddr\": \"10.0.0.1\", \"daddr\": \"10.0.0.2\", \"sport\": 1234, \"dport\": 80, "
	  "\"proto\": 6, \"pad\": \"00:00:00\"}", NULL },
	{ "rules", 'k', "{10.0.0.1, 10.0.0.2, 1234, 80, 6}", 0, FLOW_BYTES, FLOW_FMT, NULL, NULL },
	{ "rules", 'k', "{proto: 17}", 0, "00000000 00000000 0000 0000 11 000000",
	  "{saddr: 0.0.0.0, daddr: 0.0.0.0, sport: 0, dport: 0, proto: 17, pad: 00:00:00}",
	  NULL, NULL },
	{ "rules", 'k', "0a:00:00:01:0a:00:00:02:04:d2:00:50:06:00:00:00", 0, FLOW_BYTES,
	  FLOW_FMT, NULL, NULL },
	{ "rules", 'k', "{saddr: 10.0.0.1, nosuch: 1}", -EINVAL, NULL, NULL, NULL,
	  "'flow' has no member 'nosuch'" },
	{ "rules", 'k', "{sport: 65536}", -ERANGE, NULL, NULL, NULL,
	  "sport: want an integer in 0..65535, not '65536'" },
	{ "rules", 'k', "{saddr: 10.0.0.256}", -EINVAL, NULL, NULL, NULL,
	  "saddr: want an IPv4 address (10.0.0.1), not '10.0.0.256'" },
	{ "rules", 'k', "{1, 2, 3, 4, 5, 00:00:00, 7}", -EINVAL, NULL, NULL, NULL,
	  "struct 'flow' has 6 members, not 7" },
	{ "rules", 'k', "{saddr: 1", -EINVAL, NULL, NULL, NULL, "want {...}, not '{saddr: 1'" },
	/* struct rule: action@0 (4), mac@4 (6), label@10 (8), weight@18 (2),
	 * ports@20 (3 x 2), pad@26 (2), via@28 (16), pad@44 (4), hits@48 (8) = 56 */
	{ "rules", 'v', "{action: ACT_DROP, mac: 02:00:00:00:00:01, label: \"web\", weight: -3, "
	  "ports: [80, 443], via: 2001:db8::1, hits: 0x10}", 0,
	  "02000000 020000000001 77656200 00000000 fdff 5000 bb01 0000 0000"
	  " 20010db8 00000000 00000000 00000001 00000000 1000000000000000",
	  "{action: ACT_DROP, mac: 02:00:00:00:00:01, label: \"web\", weight: -3, "
	  "ports: [80, 443, 0], via: 2001:db8::1, hits: 16}",
	  "{\"action\": \"ACT_DROP\", \"mac\": \"02:00:00:00:00:01\", \"label\": \"web\", "
	  "\"weight\": -3, \"ports\": [80, 443, 0], \"via\": \"2001:db8::1\", \"hits\": 16}", NULL },
	{ "rules", 'v', "{action: 7}", 0, "07000000 000000000000 0000000000000000 0000 "
	  "000000000000 0000 00000000000000000000000000000000 00000000 0000000000000000",
	  "{action: ACT_COUNT, mac: 00:00:00:00:00:00, label: 00:00:00:00:00:00:00:00, weight: 0, "
	  "ports: [0, 0, 0], via: ::, hits: 0}", NULL, NULL },
	{ "rules", 'v', "{action: ACT_NOPE}", -EINVAL, NULL, NULL, NULL,
	  "action: want a number or an enumerator of enum 'action', not 'ACT_NOPE'" },
	{ "rules", 'v', "{label: \"much too long\"}", -EINVAL, NULL, NULL, NULL,
	  "label: want a string of at most 8 bytes in \"...\", not \"much too long\"" },
	{ "rules", 'v', "{mac: 02:00:00}", -EINVAL, NULL, NULL, NULL,
	  "mac: want 6 bytes (hh:hh:...), not '02:00:00'" },
	{ "rules", 'v', "{ports: [1, 2, 3, 4]}", -EINVAL, NULL, NULL, NULL,
	  "ports: want at most 3 elements, not 4" },
	{ "rules", 'v', "{weight: -32769}", -ERANGE, NULL, NULL, NULL,
	  "weight: want an integer in -32768..32767, not '-32769'" },
	{ "by_addr", 'k', "192.168.0.1", 0, "c0a80001", NULL, "\"192.168.0.1\"", NULL },
	{ "by_addr", 'k', "0x01020304", 0, "01020304", "1.2.3.4", NULL, NULL },
	{ "by_addr", 'v', "-5", 0, "fbffffff", NULL, "-5", NULL },
	{ "by_addr", 'v', "2147483648", -ERANGE, NULL, NULL, NULL,
	  "want an integer in -2147483648..2147483647, not '2147483648'" },
	{ "counters", 'k', "3", 0, "03000000", NULL, "3", NULL },
	{ "counters", 'v', "0xffffffffffffffff", 0, "ffffffffffffffff", "18446744073709551615",
	  NULL, NULL },
	{ "counters", 'v', "18446744073709551616", -ERANGE, NULL, NULL, NULL,
	  "want an integer in 0..18446744073709551615, not '18446744073709551616'" },
	{ "counters", 'v', "ten", -EINVAL, NULL, NULL, NULL,
	  "want an integer in 0..18446744073709551615, not 'ten'" },
	/* struct misc: u@0 (4), f@4, d@8, ok@16, pts@18 (2 x 4), size 32 */
	{ "misc", 'v', "{u: {a: 5}, f: 1.5, d: -2.25, ok: true, pts: [{1, 2}, {x: 3}]}", 0,
	  "05000000 0000c03f 00000000000002c0 01 00 0100 0200 0300 0000 000000000000",
	  "{u: {a: 5}, f: 1.5, d: -2.25, ok: true, pts: [{x: 1, y: 2}, {x: 3, y: 0}]}",
	  "{\"u\": {\"a\": 5}, \"f\": 1.5, \"d\": -2.25, \"ok\": true, "
	  "\"pts\": [{\"x\": 1, \"y\": 2}, {\"x\": 3, \"y\": 0}]}", NULL },
	{ "misc", 'v', "{u: {b: 01:02:03:04}}", 0,
	  "01020304 00000000 0000000000000000 00 00 0000 0000 0000 0000 000000000000",
	  "{u: {a: 67305985}, f: 0, d: 0, ok: false, pts: [{x: 0, y: 0}, {x: 0, y: 0}]}",
	  NULL, NULL },
	{ "misc", 'v', "{u: {a: 1, b: 00:00:00:00}}", -EINVAL, NULL, NULL, NULL,
	  "u: union (one member at a time) '(anonymous)' has 1 member, not 2" },
	{ "misc", 'v', "{ok: maybe}", -EINVAL, NULL, NULL, NULL,
	  "ok: want true, false, 0 or 1, not 'maybe'" },
	{ "misc", 'v', "{f: 1e39}", -ERANGE, NULL, NULL, NULL,
	  "f: want a real number within +-3.40282e+38 (a float), not '1e39'" },
	{ "misc", 'v', "{d: 4.9e-324}", 0,
	  "00000000 00000000 0100000000000000 00 00 0000 0000 0000 0000 000000000000",
	  "{u: {a: 0}, f: 0, d: 4.9406564584124654e-324, ok: false, pts: [{x: 0, y: 0}, {x: 0, y: 0}]}",
	  NULL, NULL },
	{ "misc", 'v', "{f: nan}", -EINVAL, NULL, NULL, NULL,
	  "f: want a real number (1.5, -2e-3), not 'nan'" },
	{ "untyped", 'k', "01:02:03", 0, "010203", NULL, "\"01:02:03\"", NULL },
	{ "untyped", 'k', "7", -EINVAL, NULL, NULL, NULL, "want 3 bytes (hh:hh:...), not '7'" },
	{ "untyped", 'v', "7", 0, "07000000", NULL, "7", NULL },
	{ "untyped", 'v', "de:ad:be:ef", 0, "deadbeef", "4022250974", NULL, NULL },
};

static size_t unhex(const char *s, uint8_t *out)
{
	size_t n = 0;
	unsigned v;

	while (*s) {
		if (*s == ' ') {
			s++;
			continue;
		}
		if (sscanf(s, "%2x", &v) != 1)
			abort();
		out[n++] = (uint8_t)v;
		s += 2;
	}
	return n;
}

static int run_case(const struct sl_obj *obj, const struct text_case *c)
{
	struct sl_map *map = sl_obj_map_by_name(obj, c->map);
	struct sl_text_type kt, vt, *t = c->which == 'k' ? &kt : &vt;
	uint8_t got[256], want[256], again[256];
	char err[256], buf[1024], json[1024];
	size_t n;
	int ret;

	if (!map || sl_text_map_types(obj, map, &kt, &vt)) {
		FAIL("%s: no such map", c->map);
		return 1;
	}
	ret = sl_text_parse(t, c->text, got, err, sizeof(err));
	if (ret != c->ret) {
		FAIL("%s %c '%s': ret %d, want %d (%s)", c->map, c->which, c->text, ret, c->ret,
		     err);
		return 1;
	}
	if (ret) {
		if (strcmp(err, c->err)) {
			FAIL("%s %c '%s': error\n  got  '%s'\n  want '%s'", c->map, c->which,
			     c->text, err, c->err);
			return 1;
		}
		return 0;
	}
	n = unhex(c->bytes, want);
	if (n != t->size || memcmp(got, want, n)) {
		FAIL("%s %c '%s': bytes differ (size %u, want %zu)", c->map, c->which, c->text,
		     t->size, n);
		for (size_t i = 0; i < t->size; i++)
			fprintf(stderr, "%02x%s", got[i], i + 1 == t->size ? "\n" : "");
		return 1;
	}
	ret = sl_text_format(t, got, buf, sizeof(buf));
	if (ret < 0 || strcmp(buf, c->fmt ? c->fmt : c->text)) {
		FAIL("%s %c '%s': format\n  got  '%s'\n  want '%s'", c->map, c->which, c->text,
		     buf, c->fmt ? c->fmt : c->text);
		return 1;
	}
	if (sl_text_parse(t, buf, again, err, sizeof(err)) || memcmp(again, got, t->size)) {
		FAIL("%s %c '%s': '%s' does not parse back (%s)", c->map, c->which, c->text, buf,
		     err);
		return 1;
	}
	ret = sl_text_format_json(t, got, json, sizeof(json));
	if (c->json && (ret < 0 || strcmp(json, c->json))) {
		FAIL("%s %c '%s': json\n  got  '%s'\n  want '%s'", c->map, c->which, c->text,
		     json, c->json);
		return 1;
	}
	return 0;
}

/* An LPM key with bits past its prefix: not a prefix text (which would refuse them). */
static int check_lpm_host_bits(const struct sl_obj *obj)
{
	struct sl_text_type kt, vt;
	uint8_t key[8] = { 8, 0, 0, 0, 10, 0, 0, 1 }, back[8];
	char buf[128], err[128];

	sl_text_map_types(obj, sl_obj_map_by_name(obj, "block4"), &kt, &vt);
	sl_text_format(&kt, key, buf, sizeof(buf));
	if (strcmp(buf, "{prefixlen: 8, addr: 10.0.0.1}") ||
	    sl_text_parse(&kt, buf, back, err, sizeof(err)) || memcmp(back, key, 8)) {
		FAIL("lpm host bits: '%s' (%s)", buf, err);
		return 1;
	}
	return 0;
}

/*
 * Random bytes of every key and value: the text they format to parses, and
 * formats again to the same text (padding bytes, which no text names, may
 * differ in between). Non-finite floats have no text: samples printing
 * "nan" or "inf" are skipped.
 */
static int check_random_round_trips(const struct sl_obj *obj)
{
	char a[4096], b[4096], err[256];
	uint8_t bytes[256], back[256];
	struct sl_rng rng = sl_rng_make(7, SL_RNG_XORSHIFT_STAR);
	int fails = 0;

	sl_test_seed(7);
	for (unsigned i = 0; i < sl_obj_map_count(obj); i++) {
		struct sl_text_type kv[2];

		if (sl_text_map_types(obj, sl_obj_map(obj, i), &kv[0], &kv[1]))
			continue;
		for (int side = 0; side < 2; side++) {
			const struct sl_text_type *t = &kv[side];

			for (int n = 0; n < 2000 && t->size && t->size <= sizeof(bytes); n++) {
				for (uint32_t j = 0; j < t->size; j++)
					bytes[j] = (uint8_t)sl_rng_u64(&rng);
				if (sl_text_format(t, bytes, a, sizeof(a)) < 0 || strstr(a, "nan") ||
				    strstr(a, "inf"))
					continue;
				if (sl_text_parse(t, a, back, err, sizeof(err)) ||
				    sl_text_format(t, back, b, sizeof(b)) < 0 || strcmp(a, b)) {
					FAIL("round trip %s %s: '%s' -> '%s' (%s)",
					     sl_map_name(sl_obj_map(obj, i)), side ? "value" : "key", a, b,
					     err);
					fails++;
					break;
				}
				sl_test_count();   /* one sample checked */
			}
		}
	}
	return fails;
}

/* A buffer too small: snprintf semantics (full length returned, text cut, NUL-terminated). */
static int check_short_buffer(const struct sl_obj *obj)
{
	struct sl_text_type kt, vt;
	uint8_t key[8] = { 8, 0, 0, 0, 10, 0, 0, 0 };
	char buf[5];
	int n;

	sl_text_map_types(obj, sl_obj_map_by_name(obj, "block4"), &kt, &vt);
	n = sl_text_format(&kt, key, buf, sizeof(buf));
	if (n != 10 || strcmp(buf, "10.0")) {
		FAIL("short buffer: %d '%s'", n, buf);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	char log[512] = "";
	struct sl_obj *obj;
	int fails = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: test_text typed_maps.bpf.o\n");
		return 2;
	}
	obj = sl_obj_open(argv[1], NULL, log, sizeof(log));
	if (!obj || !sl_obj_btf(obj)) {
		FAIL("open: %s", log);
		return sl_test_done("config-text");
	}
	/* a case that fails counts as a check in its FAIL(); one that passes, here */
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		fails += run_case(obj, &cases[i]) || !sl_test_count();
	fails += check_short_buffer(obj) || !sl_test_count();
	fails += check_lpm_host_bits(obj) || !sl_test_count();
	fails += check_random_round_trips(obj);
	sl_obj_close(obj);
	printf("%zu cases (and random round trips), %d failed\n",
	       sizeof(cases) / sizeof(cases[0]) + 2, fails);
	return sl_test_done("config-text");
}
