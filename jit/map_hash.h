/* SPDX-License-Identifier: BSD-3-Clause */
/* jit/map_hash.c: hash map lookups emitted in place. */
#ifndef SL_JIT_MAP_HASH_H
#define SL_JIT_MAP_HASH_H

#include "jit_state.h"

/**
 * Emit bpf_map_lookup_elem on @p map (the call at st->pc) in place, when
 * @p map is a HASH or LRU_HASH map whose lookup can be (sl_map_htab_jit()).
 * @return 1 when emitted, 0 when the caller emits the call instead.
 */
int jit_emit_hash_lookup(struct jit_state *st, struct sl_map *map);

#endif
