/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target over the loader and the verifier (clang only:
 * -fsanitize=fuzzer,address,undefined). Each input is tried two ways:
 *   - as an ELF object: sl_obj_open_mem, then sl_prog_verify on every program;
 *   - as flat bytecode: the first byte picks the program type and 8 bytes of
 *     memory size, the rest is instructions for sl_prog_from_raw + verify.
 * Nothing may crash, hang or leak, whatever the bytes.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "sl_vm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char logbuf[4096];

static void fuzz_elf(const uint8_t *data, size_t size)
{
	struct sl_obj_opts oo = { .sz = sizeof(oo), .ncpus = 1 };
	struct sl_obj *obj = sl_obj_open_mem(data, size, "fuzz.o", &oo, logbuf, sizeof(logbuf));

	if (!obj)
		return;
	for (unsigned i = 0; i < sl_obj_prog_count(obj); i++) {
		struct sl_prog *prog = sl_obj_prog(obj, i);
		struct sl_verify_stats st;

		if (prog->type == SL_PROG_RAW)
			prog->mem_size = 64;
		sl_prog_verify(prog, i & 1 ? SL_VERIFY_LOG_STATES : 0, &st, logbuf, sizeof(logbuf));
	}
	sl_obj_close(obj);
}

static void fuzz_raw(const uint8_t *data, size_t size)
{
	struct sl_verify_stats st;
	struct sl_prog *prog;

	if (size < 9)
		return;
	prog = sl_prog_from_raw(data + 1, (size - 1) & ~(size_t)7, (enum sl_prog_type)(data[0] % 3),
				data[0] >> 2, logbuf, sizeof(logbuf));
	if (!prog)
		return;
	sl_prog_verify(prog, (data[0] & 0x80) ? SL_VERIFY_LOG_STATES : 0, &st, logbuf,
		       sizeof(logbuf));
	sl_prog_free(prog);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size >= 4 && !memcmp(data, "\177ELF", 4))
		fuzz_elf(data, size);
	else
		fuzz_raw(data, size);
	return 0;
}
