/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The example programs over a pcap, under the interpreter and the JIT:
 * every packet must get the same verdict (r0) and the same output bytes,
 * and at the end every map of the object must hold the same entries.
 *
 * Each engine gets its own copy of the object (so its own maps), loaded
 * and verified the same way; packets are fed as `sluice replay` and
 * `test-run` do: XDP gets a struct sl_xdp_ctx over a copy of the frame
 * with headroom and tailroom, socket filters a struct sl_skb_ctx, raw
 * programs a zero-padded 2048-byte buffer and the length in r2.
 *
 * usage: test_jit_examples PCAP OBJ[:SECTION][@NATIVE.so]...
 * With @NATIVE.so (raw programs), the same C source built with gcc must
 * also return the same value from its `entry` for every packet.
 * Without a verifier in the build (SL_HAVE_VERIFIER unset), XDP and socket
 * programs cannot run (their context loads are rewritten by the verifier)
 * and are skipped with a note; raw programs run marked verified.
 */
#include <dlfcn.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl_test.h"
#include "sl_helpers.h"
#include "sl_jit.h"
#include "sl_maps.h"
#include "sl_vm.h"

#define HEADROOM 256
#define ROOM SL_TEST_PKT_ROOM
#define MAX_PKTS 100000

/* One engine's object, program and output. */
struct side {
	struct sl_obj *obj;
	struct sl_prog *prog;
	struct sl_jit *jit;     /* NULL: interpreter */
	uint8_t buf[HEADROOM + ROOM];
};

static int load_side(struct side *s, const char *path, const char *section, bool jit)
{
	char log[512] = "";
	struct sl_obj_opts oo = { .sz = sizeof(oo), .ncpus = 1 };

	s->obj = sl_obj_open(path, &oo, log, sizeof(log));
	if (!s->obj) {
		fprintf(stderr, "%s: %s\n", path, log);
		return -1;
	}
	s->prog = sl_obj_find_prog(s->obj, section);
	if (!s->prog) {
		fprintf(stderr, "%s: no program in section '%s'\n", path, section ? section : "(first)");
		return -1;
	}
	if (s->prog->type == SL_PROG_RAW)
		s->prog->mem_size = ROOM;  /* zero-padded buffer, as sluice bench gives it */
#ifdef SL_HAVE_VERIFIER
	if (sl_prog_verify(s->prog, 0, NULL, log, sizeof(log))) {
		fprintf(stderr, "%s: verifier: %s\n", path, log);
		return -1;
	}
#else
	if (s->prog->type != SL_PROG_RAW)
		return 77;
	s->prog->verified = true;  /* no verifier in this build (test code only) */
#endif
	if (jit) {
		s->jit = sl_jit_compile(s->prog, NULL, log, sizeof(log));
		if (!s->jit) {
			fprintf(stderr, "%s: jit: %s\n", path, log);
			return -1;
		}
	}
	return 0;
}

/* Run one packet; the output packet is left in *out / *out_len. */
static uint64_t run_pkt(struct side *s, const struct sl_test_pkt *p, const uint8_t **out, uint32_t *out_len)
{
	struct sl_xdp_ctx xdp;
	struct sl_skb_ctx skb;
	void *ctx;
	uint64_t r2 = 0, r0;

	memset(s->buf, 0, sizeof(s->buf));
	memcpy(s->buf + HEADROOM, p->data, p->len);
	*out = s->buf + HEADROOM;
	*out_len = p->len;
	switch (s->prog->type) {
	case SL_PROG_XDP:
		xdp = (struct sl_xdp_ctx){ .data = s->buf + HEADROOM, .data_meta = s->buf + HEADROOM,
					   .data_end = s->buf + HEADROOM + p->len,
					   .data_hard_start = s->buf,
					   .data_hard_end = s->buf + sizeof(s->buf) };
		ctx = &xdp;
		break;
	case SL_PROG_SOCKET:
		memset(&skb, 0, sizeof(skb));
		skb.skb.len = p->len;
		skb.pkt = s->buf + HEADROOM;
		skb.pkt_len = p->len;
		ctx = &skb;
		break;
	default:
		ctx = s->buf + HEADROOM;
		r2 = p->len;
		break;
	}
	if (s->jit) {
		r0 = sl_jit_entry(s->jit)(ctx, r2);
	} else {
		struct sl_vm_run_opts ro = { .sz = sizeof(ro), .mem = ctx, .mem_len = r2 };

		r0 = sl_vm_exec(s->prog, ctx, &ro, NULL);
	}
	if (s->prog->type == SL_PROG_XDP) {
		*out = xdp.data;
		*out_len = (uint32_t)((uint8_t *)xdp.data_end - (uint8_t *)xdp.data);
	}
	return r0;
}

struct dump {
	uint8_t *bytes;
	size_t len, cap;
};

static size_t rec_size;  /* record size for cmp_rec (test code, single thread) */

static int cmp_rec(const void *a, const void *b)
{
	return memcmp(a, b, rec_size);
}

/*
 * Every entry of map @p i, serialized as key bytes then value bytes, sorted
 * (hash maps of two objects may iterate in different orders).
 */
static int map_bytes(struct sl_obj *obj, unsigned i, struct dump *d)
{
	struct sl_map *m = sl_obj_map(obj, i);
	const struct sl_map_def *def = sl_map_get_def(m);
	size_t vs = sl_map_ctl_value_size(m);
	uint8_t *key = calloc(1, def->key_size + 1), *next = calloc(1, def->key_size + 1);
	uint8_t *val = calloc(1, vs + 1);
	int err = sl_map_ctl_get_next_key(m, NULL, next);

	while (!err && key && next && val) {
		if (d->len + def->key_size + vs > d->cap) {
			d->cap = (d->cap + def->key_size + vs) * 2;
			d->bytes = realloc(d->bytes, d->cap);
		}
		memcpy(d->bytes + d->len, next, def->key_size);
		d->len += def->key_size;
		if (sl_map_ctl_lookup(m, next, val))
			memset(val, 0, vs);
		memcpy(d->bytes + d->len, val, vs);
		d->len += vs;
		memcpy(key, next, def->key_size);
		err = sl_map_ctl_get_next_key(m, key, next);
	}
	free(key);
	free(next);
	free(val);
	rec_size = def->key_size + vs;
	if (d->len)
		qsort(d->bytes, d->len / rec_size, rec_size, cmp_rec);
	return err == -ENOENT || err == -EOPNOTSUPP || err == -EINVAL ? 0 : err;
}

static int compare_maps(struct side *a, struct side *b, const char *name)
{
	int bad = 0;

	for (unsigned i = 0; i < sl_obj_map_count(a->obj); i++) {
		struct dump da = { 0 }, db = { 0 };

		map_bytes(a->obj, i, &da);
		map_bytes(b->obj, i, &db);
		if (da.len != db.len || (da.len && memcmp(da.bytes, db.bytes, da.len))) {
			fprintf(stderr, "%s: map '%s' differs between interpreter and JIT\n", name,
				sl_map_name(sl_obj_map(a->obj, i)));
			bad = 1;
		} else {
			printf("  map %-16s %zu bytes of entries, identical\n",
			       sl_map_name(sl_obj_map(a->obj, i)), da.len);
		}
		free(da.bytes);
		free(db.bytes);
	}
	return bad;
}

/* @return 0 same, 1 differ, -1 error, 77 skipped */
static int run_example(const char *spec, const struct sl_test_pkt *pkts, unsigned n)
{
	char path[512], *colon, *at;
	const char *section = NULL;
	uint64_t (*native)(uint8_t *) = NULL;
	void *lib = NULL;
	static struct side a, b;
	unsigned diff = 0;
	int rc;

	snprintf(path, sizeof(path), "%s", spec);
	at = strchr(path, '@');
	if (at) {
		*at = '\0';
		lib = dlopen(at + 1, RTLD_NOW | RTLD_LOCAL);
		native = lib ? (uint64_t (*)(uint8_t *))dlsym(lib, "entry") : NULL;
		if (!native) {
			fprintf(stderr, "%s: %s\n", at + 1, dlerror());
			return -1;
		}
	}
	colon = strrchr(path, ':');
	if (colon) {
		*colon = '\0';
		section = colon + 1;
	}
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	rc = load_side(&a, path, section, false);
	if (!rc)
		rc = load_side(&b, path, section, true);
	for (unsigned i = 0; !rc && i < n && diff < 5; i++) {
		const uint8_t *oa, *ob;
		uint32_t la, lb;
		uint64_t ra, rb;

		/* both engines see the same bpf_ktime_get_ns (flow tables keep times) */
		sl_helper_clock_set(1000000000ull + (uint64_t)i * 1000);
		ra = run_pkt(&a, &pkts[i], &oa, &la);
		rb = run_pkt(&b, &pkts[i], &ob, &lb);

		if (ra != rb || la != lb || memcmp(oa, ob, la)) {
			fprintf(stderr, "%s: packet %u: interpreter r0 0x%" PRIx64 " len %u, jit r0 0x%"
				PRIx64 " len %u\n", spec, i, ra, la, rb, lb);
			diff++;
		}
		if (native && native(b.buf + HEADROOM) != rb) {
			fprintf(stderr, "%s: packet %u: native 0x%" PRIx64 ", jit 0x%" PRIx64 "\n",
				spec, i, native(b.buf + HEADROOM), rb);
			diff++;
		}
	}
	if (!rc) {
		printf("%s: %u packets, %u differences\n", spec, n, diff);
		rc = diff || compare_maps(&a, &b, spec);
	} else if (rc == 77) {
		printf("%s: skipped (no verifier in this build to rewrite context loads)\n", spec);
	}
	sl_jit_free(b.jit);
	sl_obj_close(a.obj);
	sl_obj_close(b.obj);
	if (lib)
		dlclose(lib);
	return rc;
}

int main(int argc, char **argv)
{
	struct sl_test_pkt *pkts;
	unsigned n;
	int bad = 0;

	if (argc < 3) {
		fprintf(stderr, "usage: test_jit_examples PCAP OBJ[:SECTION]...\n");
		return 2;
	}
	pkts = sl_test_pcap_read(argv[1], MAX_PKTS, &n);
	if (!pkts)
		return 1;
	for (int i = 2; i < argc; i++) {
		int rc = run_example(argv[i], pkts, n);

		if (rc && rc != 77)
			bad = 1;
	}
	free(pkts);
	printf("%s\n", bad ? "FAIL" : "ok");
	return bad;
}
