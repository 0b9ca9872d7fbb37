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

struct sl_jit_pkt_load sl_jit_ld_pkt(const struct sl_skb_ctx *ctx, int32_t off, uint32_t size)
{
	struct sl_jit_pkt_load r = { 0, 0 };
	const uint8_t *p;

	if (off < 0 || (uint64_t)off + size > ctx->pkt_len)
		return r;
	p = ctx->pkt + off;
	if (size == 1) {
		r.val = p[0];
	} else if (size == 2) {
		uint16_t v;

		memcpy(&v, p, 2);
		r.val = __builtin_bswap16(v);  /* LD_ABS sizes are 1, 2, 4 (the verifier) */
	} else {
		uint32_t v;

		memcpy(&v, p, 4);
		r.val = __builtin_bswap32(v);
	}
	r.ok = 1;
	return r;
}

/* Target of a tail call that has no JIT code: run it in the interpreter. */
static __thread const struct sl_prog *tail_interp_prog;

static uint64_t tail_interp(void *ctx)
{
	return sl_vm_exec(tail_interp_prog, ctx, NULL, NULL);
}

void *sl_jit_tail_target(void *ctx, struct sl_map *map, uint64_t index)
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

int32_t sl_jit_cpu_tpoff(void)
{
	uintptr_t tp;

	__asm__("mov %%fs:0, %0" : "=r"(tp));
	return (int32_t)((intptr_t)(uintptr_t)&sl_map_cpu - (intptr_t)tp);
}
