/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the JIT needs from maps beyond the public data path: the functions
 * compiled code calls for a map known at compile time, so that it skips
 * the helper and the ops dispatch of sl_map_*_elem() (and, for hash maps,
 * the switch on the key size). Control thread (at compile time).
 */
#include "maps_internal.h"

void sl_map_jit_fns(const struct sl_map *map, struct sl_map_jit_fns *fns)
{
	*fns = (struct sl_map_jit_fns){ 0 };
	if (!map || !map->ops)
		return;
	if (map->ops->jit_fns) {
		map->ops->jit_fns(map, fns);
		return;
	}
	*fns = (struct sl_map_jit_fns){ map->ops->lookup, map->ops->update, map->ops->delete };
}

sl_map_lookup_fn sl_map_jit_lookup_fn(const struct sl_map *map)
{
	struct sl_map_jit_fns fns;

	sl_map_jit_fns(map, &fns);
	return fns.lookup;
}
