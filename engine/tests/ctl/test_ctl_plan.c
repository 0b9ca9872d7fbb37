/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A dump's compiled key and value texts (engine/ctl_plan.c) against the way
 * they replace: sl_text's JSON form, parsed by jansson and dumped compact
 * (what a dump's answer holds for an entry, ctl_dump.c). For every map of
 * the objects given (ctl_plan.bpf.o: shapes that compile and shapes that
 * must not; config's typed_maps.bpf.o), the key and the value:
 *   - which types compile is checked against a table written from the C
 *     declarations (so the comparison below cannot pass by compiling
 *     nothing);
 *   - for a compiled type, random bytes (small integers and full-width
 *     ones) give exactly the reference text, or -ERANGE only where the
 *     reference has an integer of 19 or more digits (which the dump leaves
 *     to jansson).
 * Failures through sl_test (tests/common).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ctl_plan.h"
#include "sl_maps.h"
#include "sl_test.h"
#include "sl_text.h"
#include "sl_vm.h"

/* "map:k" / "map:v": whether that type compiles (maps of the objects not named: not checked). */
static const struct {
	const char *which;
	bool compiles;
} expect[] = {
	{ "shapes:k", true }, { "shapes:v", true }, { "small:k", true }, { "small:v", true },
	{ "signed_pc:k", true }, { "signed_pc:v", true },
	{ "with_addr:k", false }, /* src_ip: an address by its name */
	{ "with_addr:v", false }, /* an enum */
	{ "named:k", false },     /* a char array: a string or bytes by its bytes */
	{ "named:v", false },     /* bitfields */
	/* config/tests/progs/typed_maps.bpf.c */
	{ "counters:k", true }, { "counters:v", true }, { "pcpu:v", true },
	{ "untyped:k", true },    /* 3 bytes, no BTF */
	{ "untyped:v", true },    /* 4 bytes, no BTF: an integer */
	{ "block4:k", false },    /* LPM: a prefix */
	{ "rules:k", false },     /* __be32 addresses */
	{ "rules:v", false },     /* an enum, in6_addr */
	{ "misc:v", false },      /* a union, floats */
	{ "by_addr:k", false },   /* __be32 at the top: an address */
	{ "by_addr:v", true },    /* __s32 */
};

/* The reference: sl_text's JSON form dumped compact by jansson; NULL when it cannot be. */
static char *reference(const struct sl_text_type *t, const uint8_t *bytes, bool *long_int)
{
	char buf[4096];
	int n = sl_text_format_json(t, bytes, buf, sizeof(buf));
	json_t *j;
	char *s;
	size_t run = 0;

	*long_int = false;
	for (int i = 0; i < n && i < (int)sizeof(buf); i++) {
		run = isdigit((unsigned char)buf[i]) ? run + 1 : 0;
		*long_int |= run >= 19;
	}
	if (n <= 0 || n >= (int)sizeof(buf))
		return NULL;
	j = json_loadb(buf, (size_t)n, JSON_DECODE_ANY, NULL);
	s = j ? json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
	json_decref(j);
	return s;
}

/* Random bytes: full width, or small values (high bytes cleared) so that integers fit. */
static void fill(struct sl_rng *rng, uint8_t *b, uint32_t n, int round)
{
	for (uint32_t i = 0; i < n; i++) {
		uint8_t v = (uint8_t)sl_rng_u64(rng);

		if (round % 3 == 1)
			v &= 7;
		else if (round % 3 == 2 && i % 8 >= 3)
			v = (i % 8 == 7 && (v & 1)) ? 0xff : 0;  /* some negative, most small */
		b[i] = v;
	}
}

static int check_type(const char *which, const struct sl_text_type *t, struct sl_rng *rng,
		      unsigned *compiled, unsigned *samples)
{
	static struct sl_ctl_plan plan;
	uint8_t bytes[512];
	char out[4096];
	bool built = sl_ctl_plan_build(&plan, t), long_int;

	for (size_t i = 0; i < sizeof(expect) / sizeof(expect[0]); i++)
		if (!strcmp(expect[i].which, which) && expect[i].compiles != built)
			FAIL("%s: compiled %d, want %d", which, built, expect[i].compiles);
	*compiled += built;
	for (int r = 0; built && r < 3000 && t->size <= sizeof(bytes); r++) {
		char *ref;
		int n;

		fill(rng, bytes, t->size, r);
		ref = reference(t, bytes, &long_int);
		n = sl_ctl_plan_put(&plan, bytes, out, sizeof(out) - 1);
		out[n >= 0 ? n : 0] = '\0';
		if (n == -ERANGE && !long_int)
			FAIL("%s: -ERANGE, but the reference has no 19-digit integer: %s", which, ref);
		else if (n >= 0 && (!ref || strcmp(out, ref)))
			FAIL("%s: compiled text '%s', reference '%s'", which, out, ref);
		else if (n < 0 && n != -ERANGE)
			FAIL("%s: sl_ctl_plan_put %d", which, n);
		else
			sl_test_count();
		*samples += n >= 0;
		free(ref);
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct sl_rng rng = sl_rng_make(11, SL_RNG_XORSHIFT_STAR);
	unsigned compiled = 0, samples = 0;
	char log[512] = "";

	sl_test_seed(11);
	for (int a = 1; a < argc; a++) {
		struct sl_obj *obj = sl_obj_open(argv[a], NULL, log, sizeof(log));

		if (!obj) {
			FAIL("open %s: %s", argv[a], log);
			continue;
		}
		for (unsigned i = 0; i < sl_obj_map_count(obj); i++) {
			struct sl_map *m = sl_obj_map(obj, i);
			struct sl_text_type kv[2];
			char which[96];

			if (sl_text_map_types(obj, m, &kv[0], &kv[1]))
				continue;
			for (int side = 0; side < 2; side++) {
				snprintf(which, sizeof(which), "%s:%c", sl_map_name(m), side ? 'v' : 'k');
				check_type(which, &kv[side], &rng, &compiled, &samples);
			}
		}
		sl_obj_close(obj);
	}
	if (compiled < 10 || samples < 10000)
		FAIL("only %u types compiled, %u samples compared", compiled, samples);
	printf("%u types compiled, %u samples equal to sl_text + jansson\n", compiled, samples);
	return sl_test_done("ctl-plan");
}
