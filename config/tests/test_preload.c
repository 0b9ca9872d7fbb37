/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Preload files (sl_preload.h) into the BTF-typed maps of
 * progs/typed_maps.bpf.c, opened with 3 CPUs: every stored entry is read
 * back with the control API and compared with bytes this test builds from
 * C structs of the same layout (not through the text parser); a per-CPU
 * value must be in every slot; the LPM trie must answer longest-prefix
 * lookups; comments, blank lines and sets (no value) are checked too.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sl_maps.h"
#include "sl_preload.h"
#include "sl_vm.h"
#include "sl_test.h"

struct flow {           /* progs/typed_maps.bpf.c */
	uint32_t saddr, daddr;
	uint16_t sport, dport;
	uint8_t proto, pad[3];
};

struct rule {
	uint32_t action;
	uint8_t mac[6];
	char label[8];
	int16_t weight;
	uint16_t ports[3];
	uint8_t via[16] __attribute__((aligned(4)));  /* struct in6_addr: 4-aligned */
	uint64_t hits;
};

static const char *write_file(const char *name, const char *text)
{
	static char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "/tmp/sl-preload-%d-%s", (int)getpid(), name);
	f = fopen(path, "w");
	if (!f || fputs(text, f) < 0 || fclose(f)) {
		perror(path);
		exit(1);
	}
	return path;
}

static void load(struct sl_obj *obj, const char *map, const char *text, unsigned want)
{
	const char *path = write_file(map, text);
	char log[512];
	unsigned n = 0;
	int ret = sl_preload_load(obj, sl_obj_map_by_name(obj, map), path, map, &n, log,
				  sizeof(log));

	CHECK(ret == 0 && n == want, "%s: ret %d, %u entries (want %u): %s", map, ret, n, want,
	      log);
	unlink(path);
}

static void check_rules(struct sl_obj *obj)
{
	struct sl_map *m = sl_obj_map_by_name(obj, "rules");
	struct flow k = { 0 };
	struct rule want = { 0 }, got;

	load(obj, "rules",
	     "# a struct key and a struct value\n"
	     "\n"
	     "{saddr: 10.0.0.1, daddr: 10.0.0.2, sport: 1234, dport: 80, proto: 6} "
	     "{action: ACT_DROP, mac: 02:00:00:00:00:01, label: \"web\", weight: -3, "
	     "ports: [80, 443], via: 2001:db8::1, hits: 7}   # trailing comment\n"
	     "{10.0.0.3, 10.0.0.4, 1, 2, 17}   {action: 1}\n", 2);
	inet_pton(AF_INET, "10.0.0.1", &k.saddr);
	inet_pton(AF_INET, "10.0.0.2", &k.daddr);
	k.sport = htons(1234);
	k.dport = htons(80);
	k.proto = 6;
	want.action = 2;
	memcpy(want.mac, "\x02\x00\x00\x00\x00\x01", 6);
	strcpy(want.label, "web");
	want.weight = -3;
	want.ports[0] = 80;
	want.ports[1] = 443;
	inet_pton(AF_INET6, "2001:db8::1", want.via);
	want.hits = 7;
	CHECK(sizeof(struct rule) == sl_map_get_def(m)->value_size, "rule size %zu", sizeof(struct rule));
	memset(&got, 0xee, sizeof(got));
	CHECK(sl_map_ctl_lookup(m, &k, &got) == 0 && !memcmp(&got, &want, sizeof(want)),
	      "rules: first entry differs");
	memset(&k, 0, sizeof(k));
	inet_pton(AF_INET, "10.0.0.3", &k.saddr);
	inet_pton(AF_INET, "10.0.0.4", &k.daddr);
	k.sport = htons(1);
	k.dport = htons(2);
	k.proto = 17;
	memset(&want, 0, sizeof(want));
	want.action = 1;
	CHECK(sl_map_ctl_lookup(m, &k, &got) == 0 && !memcmp(&got, &want, sizeof(want)),
	      "rules: positional entry differs");
}

static void check_pcpu(struct sl_obj *obj)
{
	struct sl_map *m = sl_obj_map_by_name(obj, "pcpu");
	uint64_t slots[3];
	uint32_t k = 2;

	load(obj, "pcpu", "2 0x1234\n3\n", 2);
	CHECK(sl_map_ctl_value_size(m) == sizeof(slots), "pcpu value size %zu",
	      sl_map_ctl_value_size(m));
	CHECK(sl_map_ctl_lookup(m, &k, slots) == 0 && slots[0] == 0x1234 && slots[1] == 0x1234 &&
	      slots[2] == 0x1234, "pcpu[2] slots %llx %llx %llx", (unsigned long long)slots[0],
	      (unsigned long long)slots[1], (unsigned long long)slots[2]);
	k = 3;
	CHECK(sl_map_ctl_lookup(m, &k, slots) == 0 && slots[0] == 1 && slots[1] == 1 &&
	      slots[2] == 1, "pcpu[3]: a set stores 1 in every slot");
}

static void check_lpm(struct sl_obj *obj)
{
	struct sl_map *m = sl_obj_map_by_name(obj, "block4");
	struct { uint32_t plen; uint8_t a[4]; } k = { 32, { 0 } };
	static const struct { const char *addr; uint32_t want; } q[] = {
		{ "10.1.2.3", 1 }, { "10.9.0.1", 2 }, { "10.9.8.7", 3 }, { "11.0.0.1", 0 },
	};

	load(obj, "block4", "10.0.0.0/8 1\n10.9.0.0/16 2\n10.9.8.0/24 3\n", 3);
	for (size_t i = 0; i < sizeof(q) / sizeof(q[0]); i++) {
		uint32_t *v;

		inet_pton(AF_INET, q[i].addr, k.a);
		v = sl_map_lookup_elem(m, &k);
		CHECK((v ? *v : 0) == q[i].want, "block4 %s -> %u, want %u", q[i].addr, v ? *v : 0,
		      q[i].want);
	}
}

static void check_untyped_and_errors(struct sl_obj *obj)
{
	struct sl_map *m = sl_obj_map_by_name(obj, "untyped");
	uint8_t k[3] = { 1, 2, 3 };
	uint32_t v = 0;
	const char *path;
	char log[512];
	unsigned n = 99;
	int ret;

	load(obj, "untyped", "01:02:03 0x11223344\n", 1);
	CHECK(sl_map_ctl_lookup(m, k, &v) == 0 && v == 0x11223344, "untyped value %x", v);
	/* an error stops at its line; the entries before it stay, and are counted */
	path = write_file("counters", "1 5\n2 6\n9 7\n");
	ret = sl_preload_load(obj, sl_obj_map_by_name(obj, "counters"), path, "c.txt", &n, log,
			      sizeof(log));
	CHECK(ret == -E2BIG && n == 2 &&
	      !strcmp(log, "c.txt:3: key 9 is outside array 'counters' (max_entries 8)"),
	      "counters error: %d %u '%s'", ret, n, log);
	unlink(path);
}

int main(int argc, char **argv)
{
	struct sl_obj_opts oo = { .sz = sizeof(oo), .ncpus = 3 };
	char log[512] = "";
	struct sl_obj *obj;

	if (argc != 2) {
		fprintf(stderr, "usage: test_preload typed_maps.bpf.o\n");
		return 2;
	}
	obj = sl_obj_open(argv[1], &oo, log, sizeof(log));
	if (!obj) {
		printf("FAIL open: %s\n", log);
		return 1;
	}
	check_rules(obj);
	check_pcpu(obj);
	check_lpm(obj);
	check_untyped_and_errors(obj);
	sl_obj_close(obj);
	return sl_test_done("preload");
}
