/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * jit/map_calls.c: what a map helper call on a map known at compile time
 * calls instead of the helper.
 *
 * The verifier records per call the one map r1 holds on every path to it
 * (aux[pc].map; none when several maps, or an inner map known only by its
 * template, reach it). For bpf_map_lookup_elem, bpf_map_update_elem and
 * bpf_map_delete_elem on such a map, compiled code calls the map's own
 * function (sl_map_jit_fns(): the type's, specialised for the key size
 * for hash maps) with the helper's registers unchanged (r1 = map, r2 =
 * key, r3 = value, r4 = flags; r0 = the result) and the helper's contract,
 * without the helper's own call, the dispatch on the map type
 * (sl_map_*_elem()) and, for hash maps, the switch on the key size.
 * jit.c inlines ARRAY lookups before asking here. Control thread (compile
 * time).
 */
#include <linux/bpf.h>

#include "sl_maps.h"
#include "jit_internal.h"

const void *jit_map_call_fn(int32_t helper, struct sl_map *map)
{
	struct sl_map_jit_fns fns;

	if (!map)
		return NULL;
	sl_map_jit_fns(map, &fns);
	switch (helper) {
	case BPF_FUNC_map_lookup_elem:
		return (const void *)(uintptr_t)fns.lookup;
	case BPF_FUNC_map_update_elem:
		return (const void *)(uintptr_t)fns.update;
	case BPF_FUNC_map_delete_elem:
		return (const void *)(uintptr_t)fns.delete;
	default:
		return NULL;
	}
}
