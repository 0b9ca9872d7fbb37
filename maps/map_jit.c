/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the JIT needs from maps beyond the public data path: the per-type
 * lookup function, so compiled code calls it without the ops dispatch of
 * sl_map_lookup_elem(). Control thread (at compile time).
 */
#include "maps_internal.h"

sl_map_lookup_fn sl_map_jit_lookup_fn(const struct sl_map *map)
{
	return map && map->ops ? map->ops->lookup : NULL;
}
