/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target over map preload files and the BTF-typed text<->bytes
 * conversion (clang only, the fuzz build). The object with typed maps is
 * opened once (SL_FUZZ_OBJ, the build's config/tests/typed_maps.bpf.o).
 * Each input: the first byte picks a map of the object, the rest is a
 * preload file's text, read by sl_preload_load from a memfd; each of its
 * lines is also parsed alone as a key and as a value with sl_text_parse,
 * and what parses is formatted back (text and JSON) and parsed again,
 * which must give the same bytes. Nothing may crash, hang or leak.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/mman.h>

#include "sl_maps.h"
#include "sl_preload.h"
#include "sl_text.h"
#include "sl_vm.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct sl_obj *obj;
static char logbuf[1024];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct sl_obj_opts oo = { .sz = sizeof(oo), .ncpus = 2 };
	const char *path = getenv("SL_FUZZ_OBJ");

	obj = path ? sl_obj_open(path, &oo, logbuf, sizeof(logbuf)) : NULL;
	if (!obj || !sl_obj_map_count(obj)) {
		fprintf(stderr, "fuzz_preload: SL_FUZZ_OBJ=%s: %s\n", path ? path : "(unset)",
			obj ? "no maps" : logbuf);
		exit(1);
	}
	return 0;
}

/* Parse, format, parse again: the same bytes (a round trip that must hold). */
static void round_trip(const struct sl_text_type *t, const char *text)
{
	uint8_t a[512], b[512];
	char buf[4096], err[256];

	if (t->size > sizeof(a) || sl_text_parse(t, text, a, err, sizeof(err)))
		return;
	if (sl_text_format(t, a, buf, sizeof(buf)) >= (int)sizeof(buf))
		return;
	if (sl_text_parse(t, buf, b, err, sizeof(err)) || memcmp(a, b, t->size)) {
		fprintf(stderr, "fuzz_preload: '%s' -> '%s' does not parse back: %s\n", text, buf,
			err);
		abort();
	}
	sl_text_format_json(t, a, buf, sizeof(buf));
}

static void lines(const struct sl_text_type *key, const struct sl_text_type *val,
		  const char *text)
{
	char *copy = strdup(text), *save = NULL;

	for (char *l = copy ? strtok_r(copy, "\n", &save) : NULL; l; l = strtok_r(NULL, "\n", &save)) {
		round_trip(key, l);
		round_trip(val, l);
	}
	free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sl_text_type key, val;
	struct sl_map *map;
	char *text;
	int fd;

	if (!size)
		return 0;
	map = sl_obj_map(obj, data[0] % sl_obj_map_count(obj));
	if (sl_text_map_types(obj, map, &key, &val))
		return 0;
	text = strndup((const char *)data + 1, size - 1);
	fd = memfd_create("preload", MFD_CLOEXEC);
	if (text && fd >= 0 && write(fd, data + 1, size - 1) == (ssize_t)(size - 1)) {
		char path[64];

		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		sl_preload_load(obj, map, path, "fuzz.txt", NULL, logbuf, sizeof(logbuf));
		lines(&key, &val, text);
	}
	if (fd >= 0)
		close(fd);
	free(text);
	return 0;
}
