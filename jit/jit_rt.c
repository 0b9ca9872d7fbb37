/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Run-time helpers called by JIT code (see jit_internal.h). They run on
 * workers, inside compiled programs: no locks, no allocation, no logging.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "jit_internal.h"
#include "sl_maps.h"

/* Target of a tail call that has no JIT code: run it in the interpreter. */
static __thread const struct sl_prog *tail_interp_prog;

static uint64_t tail_interp(void *ctx)
{
	return sl_vm_exec(tail_interp_prog, ctx, NULL, NULL);
}

void *jit_tail_target(void *ctx, struct sl_map *map, uint64_t index)
{
	struct sl_prog *p = sl_map_prog_array_get(map, (uint32_t)index);
	void *entry;

	if (!p)
		return NULL;
	entry = __atomic_load_n(&p->jit_tail_entry, __ATOMIC_ACQUIRE);
	if (entry)
		return entry;
	tail_interp_prog = p;
	return (void *)(uintptr_t)tail_interp;
}

int32_t jit_cpu_tpoff(void)
{
	uintptr_t tp;

	__asm__("mov %%fs:0, %0" : "=r"(tp));
	return (int32_t)((intptr_t)(uintptr_t)&sl_map_cpu - (intptr_t)tp);
}
