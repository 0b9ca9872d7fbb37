/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Loader tests, bad files: each is rejected with one line naming the file
 * and the place, and the errno the header promises; corrupted images
 * (every truncation length, bytes of the headers and tables flipped, random
 * flips) never crash and never succeed silently with a broken log.
 * Offsets to patch come from llvm-readelf (loader_ref.c) and <elf.h>.
 */
#include <elf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sl_maps.h"
#include "test_loader.h"

#define NAME "prog.o"

/* Corrupted sizes must not make the test allocate gigabytes. */
static const struct sl_obj_opts small_maps = {
	.sz = sizeof(struct sl_obj_opts), .ncpus = 2, .map_mem_limit = 16u << 20 };

/* One line of printable characters (names from the file included). */
static bool printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

/* Open @p len bytes; on failure the log must be one line "prog.o: ...". */
static struct sl_obj *try_open(const void *buf, size_t len, char *log, size_t log_len, int *err)
{
	struct sl_obj *obj;

	log[0] = '\0';
	errno = 0;
	obj = sl_obj_open_mem(buf, len, NAME, &small_maps, log, log_len);
	*err = obj ? 0 : errno;
	if (!obj) {
		CHECK(!strncmp(log, NAME ": ", strlen(NAME) + 2) && log[strlen(NAME) + 2] &&
			 printable(log), "bad log line '%s'", log);
		CHECK(*err == ENOEXEC || *err == EINVAL || *err == ENOMEM || *err == E2BIG ||
			 *err == ENOTSUP, "unexpected errno %d (%s) for '%s'", *err,
			 strerror(*err), log);
	}
	return obj;
}

/* The image must be rejected with @p err and a log containing @p msg. */
static void expect_fail(const char *what, const void *buf, size_t len, int want_err,
			const char *msg)
{
	char log[256];
	int err;
	struct sl_obj *obj = try_open(buf, len, log, sizeof(log), &err);

	CHECK(!obj, "%s: accepted", what);
	sl_obj_close(obj);
	CHECK(err == want_err, "%s: errno %d (%s), expected %d", what, err, strerror(err),
		 want_err);
	CHECK(strstr(log, msg), "%s: log '%s' lacks '%s'", what, log, msg);
	printf("%-28s -> %s\n", what, log);
}

static uint8_t *dup_bytes(const struct ref_obj *r)
{
	uint8_t *b = malloc(r->len);

	if (!b)
		abort();
	memcpy(b, r->bytes, r->len);
	return b;
}

static void put16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

static void test_files(void)
{
	char path[512], log[256];
	struct sl_obj *obj;
	FILE *f;

	obj = sl_obj_open("/nonexistent/prog.o", NULL, log, sizeof(log));
	CHECK(!obj && errno == ENOENT && strstr(log, "/nonexistent/prog.o"),
		 "missing file: errno %d log '%s'", errno, log);
	snprintf(path, sizeof(path), "%s/empty-%d.o", tl_objdir, (int)getpid());
	f = fopen(path, "w");
	CHECK(f, "cannot create %s", path);
	if (f)
		fclose(f);
	obj = sl_obj_open(path, NULL, log, sizeof(log));
	CHECK(!obj && errno == ENOEXEC && strstr(log, ": empty file") &&
		 !strncmp(log, path, strlen(path)), "empty file: errno %d log '%s'", errno, log);
	unlink(path);
	expect_fail("empty image", "", 0, ENOEXEC, NAME ": empty file");
	expect_fail("not ELF", "hello, world\n", 13, ENOEXEC, NAME ": not an ELF file");
	expect_fail("ELF magic only", ELFMAG, SELFMAG, ENOEXEC, NAME ": truncated: ELF header");
}

static void test_header(const struct ref_obj *r)
{
	uint8_t *b = dup_bytes(r);

	put16(b + offsetof(Elf64_Ehdr, e_machine), EM_X86_64);
	expect_fail("wrong machine", b, r->len, ENOEXEC, NAME ": ELF machine 62 is not BPF (247)");
	memcpy(b, r->bytes, r->len);
	b[EI_CLASS] = ELFCLASS32;
	expect_fail("32-bit class", b, r->len, ENOEXEC, NAME ": ELF class 1 is not 64-bit");
	memcpy(b, r->bytes, r->len);
	b[EI_DATA] = ELFDATA2MSB;
	expect_fail("big-endian", b, r->len, ENOEXEC, "is not little-endian");
	memcpy(b, r->bytes, r->len);
	put16(b + offsetof(Elf64_Ehdr, e_type), ET_EXEC);
	expect_fail("executable", b, r->len, ENOEXEC, "is not a relocatable object");
	memcpy(b, r->bytes, r->len);
	put64(b + offsetof(Elf64_Ehdr, e_shoff), r->len);
	expect_fail("section headers off end", b, r->len, ENOEXEC,
		    "truncated: section headers extend past end of file");
	free(b);
}

/* Patch field @p field_off of section header @p idx to @p v. */
static void patch_shdr64(uint8_t *b, unsigned idx, size_t field_off, uint64_t v)
{
	Elf64_Ehdr eh;

	memcpy(&eh, b, sizeof(eh));
	put64(b + eh.e_shoff + (size_t)idx * sizeof(Elf64_Shdr) + field_off, v);
}

static void test_truncated(const struct ref_obj *r)
{
	const struct ref_sec *xdp = ref_sec_by_name(r, "xdp");
	uint8_t *b = dup_bytes(r);
	char log[256], want[64];
	unsigned rejected = 0;
	int err;

	/* every cut of the file: rejected, never a crash */
	for (size_t len = 0; len < r->len; len++) {
		struct sl_obj *obj = try_open(r->bytes, len, log, sizeof(log), &err);

		rejected += !obj;
		sl_obj_close(obj);
	}
	CHECK(rejected == r->len, "only %u of %zu truncations rejected", rejected, r->len);
	expect_fail("truncated at 40", r->bytes, 40, ENOEXEC, NAME ": truncated: ELF header");
	expect_fail("truncated at 1000", r->bytes, 1000, ENOEXEC, "truncated: section headers");
	/* a section whose bytes lie past the end */
	CHECK(xdp, "no xdp section");
	if (xdp) {
		patch_shdr64(b, xdp->idx, offsetof(Elf64_Shdr, sh_size), r->len);
		snprintf(want, sizeof(want), "truncated: section %u extends past end of file",
			 xdp->idx);
		expect_fail("section past end", b, r->len, ENOEXEC, want);
	}
	free(b);
}

/* Objects clang builds that sluice refuses, and the map memory limit. */
static void test_refused(void)
{
	struct ref_obj ref;
	struct sl_obj *obj;
	char path[512];

	/* an extern: relocation against an undefined symbol */
	tl_path(path, sizeof(path), "ld_extern.bpf.o");
	if (ref_load(&ref, path, tl_readelf, tl_objdump) == 0)
		expect_fail("extern variable", ref.bytes, ref.len, EINVAL,
			    NAME ": section 'xdp': relocation 0 refers to unknown map symbol "
			    "'ext_limit'");
	ref_free(&ref);
	tl_path(path, sizeof(path), "ld_bad_mim.bpf.o");
	if (ref_load(&ref, path, tl_readelf, tl_objdump) == 0)
		expect_fail("map-in-map misfit", ref.bytes, ref.len, EINVAL,
			    NAME ": map 'outer': initial value 0: map 'wide' does not fit the "
			    "inner map template");
	ref_free(&ref);

	tl_path(path, sizeof(path), "ld_maps.bpf.o");
	if (ref_load(&ref, path, tl_readelf, tl_objdump) == 0) {
		struct sl_obj_opts tiny = { .sz = sizeof(tiny), .map_mem_limit = 1000 };
		char log[256];

		obj = sl_obj_open_mem(ref.bytes, ref.len, NAME, &tiny, log, sizeof(log));
		CHECK(!obj && errno == E2BIG && strstr(log, "maps would need more than 1000"),
			 "map memory limit: errno %d log '%s'", errno, log);
		printf("%-28s -> %s\n", "map memory limit", log);
	}
	ref_free(&ref);
}

/* Symbols and relocations patched in a good object. */
static void test_symbols(void)
{
	struct ref_obj ref;
	const struct ref_sym *sym;
	const struct ref_sec *symtab, *rel;
	struct sl_obj *obj;
	uint8_t *b;

	obj = tl_open("ld_legacy.bpf.o", &ref);
	CHECK(obj && !sl_obj_find_prog(obj, "nope") && errno == ENOENT, "find_prog(nope)");
	sl_obj_close(obj);
	sym = ref_sym_by_name(&ref, "legacy_table");
	symtab = ref_sec_by_name(&ref, ".symtab");
	rel = ref_sec_by_name(&ref, ".relxdp/legacy");
	CHECK(sym && symtab && rel, "ld_legacy: symbols not found");
	if (!sym || !symtab || !rel) {
		ref_free(&ref);
		return;
	}
	b = dup_bytes(&ref);
	/* the map's symbol loses its section: an unknown symbol */
	put16(b + symtab->off + sym->num * sizeof(Elf64_Sym) + offsetof(Elf64_Sym, st_shndx), 0);
	expect_fail("undefined map symbol", b, ref.len, EINVAL,
		    "refers to unknown map symbol 'legacy_table'");
	/* first relocation: offset out of the section, then an unknown type */
	memcpy(b, ref.bytes, ref.len);
	put64(b + rel->off + offsetof(Elf64_Rel, r_offset), 0x100000);
	expect_fail("relocation offset", b, ref.len, ENOEXEC, "relocation 0: offset 1048576 out");
	memcpy(b, ref.bytes, ref.len);
	b[rel->off + offsetof(Elf64_Rel, r_info)] = 3;   /* R_BPF_64_ABS32 */
	expect_fail("relocation type", b, ref.len, EINVAL,
		    "relocation 0: relocation type 3 is not supported");
	memcpy(b, ref.bytes, ref.len);
	put64(b + rel->off + offsetof(Elf64_Rel, r_info), ELF64_R_INFO(sym->num, 10));
	expect_fail("call relocation on lddw", b, ref.len, EINVAL,
		    "R_BPF_64_32 on an instruction that is not a bpf-to-bpf call");
	memcpy(b, ref.bytes, ref.len);
	put64(b + rel->off + offsetof(Elf64_Rel, r_info), ELF64_R_INFO(9999, 1));
	expect_fail("relocation symbol index", b, ref.len, ENOEXEC,
		    "relocation 0: symbol 9999 out of range");
	free(b);
	ref_free(&ref);
}

/* Open @p b after setting each byte in [from, to) to several values. */
static unsigned flip_range(const struct ref_obj *r, uint8_t *b, size_t from, size_t to)
{
	char log[256];
	unsigned opened = 0;
	int err;

	for (size_t i = from; i < to && i < r->len; i++) {
		const uint8_t vals[] = { 0x00, 0xff, (uint8_t)(r->bytes[i] ^ 0x01),
					 (uint8_t)(r->bytes[i] ^ 0x80), (uint8_t)(r->bytes[i] + 8) };

		for (size_t v = 0; v < sizeof(vals); v++) {
			struct sl_obj *obj;

			b[i] = vals[v];
			obj = try_open(b, r->len, log, sizeof(log), &err);
			opened += obj != NULL;
			sl_obj_close(obj);
		}
		b[i] = r->bytes[i];
	}
	return opened;
}

static void test_corrupt(const char *file)
{
	const struct ref_sec *secs[3];
	const char *names[3] = { ".symtab", ".relxdp", ".BTF" };
	struct ref_obj ref;
	Elf64_Ehdr eh;
	uint8_t *b;
	char path[512], log[256];
	unsigned seed = 12345, opened = 0;
	int err;

	tl_path(path, sizeof(path), file);
	if (ref_load(&ref, path, tl_readelf, tl_objdump)) {
		CHECK(0, "%s: reference failed", path);
		return;
	}
	b = dup_bytes(&ref);
	memcpy(&eh, ref.bytes, sizeof(eh));
	opened += flip_range(&ref, b, 0, sizeof(eh));
	opened += flip_range(&ref, b, eh.e_shoff, eh.e_shoff + eh.e_shnum * sizeof(Elf64_Shdr));
	for (int i = 0; i < 3; i++) {
		secs[i] = ref_sec_by_name(&ref, names[i]);
		if (secs[i])
			opened += flip_range(&ref, b, secs[i]->off, secs[i]->off + secs[i]->size);
	}
	/* random multi-byte damage anywhere */
	for (int it = 0; it < 3000; it++) {
		struct sl_obj *obj;
		int n = 1 + (int)(rand_r(&seed) % 4);

		memcpy(b, ref.bytes, ref.len);
		for (int k = 0; k < n; k++)
			b[rand_r(&seed) % ref.len] = (uint8_t)rand_r(&seed);
		obj = try_open(b, ref.len, log, sizeof(log), &err);
		opened += obj != NULL;
		sl_obj_close(obj);
	}
	printf("%s: corrupted images survived, %u of them still load\n", file, opened);
	free(b);
	ref_free(&ref);
}

void tl_bad_files(void)
{
	struct ref_obj ref;
	char path[512];

	test_files();
	tl_path(path, sizeof(path), "ld_globals.bpf.o");
	if (ref_load(&ref, path, tl_readelf, tl_objdump)) {
		CHECK(0, "%s: reference failed", path);
		return;
	}
	test_header(&ref);
	test_truncated(&ref);
	ref_free(&ref);
	test_refused();
	test_symbols();
	test_corrupt("ld_globals.bpf.o");
	test_corrupt("ld_maps.bpf.o");
}
