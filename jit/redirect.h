/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * jit/redirect.c's entry points (internal to jit/): bpf_redirect,
 * bpf_redirect_map and lookups in DEVMAP / XSKMAP emitted in place.
 */
#ifndef SL_JIT_REDIRECT_H
#define SL_JIT_REDIRECT_H

#include <stdbool.h>
#include <stdint.h>

#include "jit_state.h"

/**
 * Is the call at @p pc one that jit_emit_redirect() emits in place reading
 * r2 only (JIT_FUSE_INLINE_CALL: no call for the layout, r1 and r3 not
 * read for the liveness)? A DEVMAP / XSKMAP lookup, or a bpf_redirect_map
 * on a DEVMAP / XSKMAP / CPUMAP known at the call whose flags r3 holds as
 * a constant there. Control thread (compile time), before the passes.
 */
bool jit_redirect_inlined(const struct jit_state *st, uint32_t pc);

/**
 * The helper call @p in at st->pc (map @p map from the verifier, or NULL)
 * emitted in place when it is bpf_redirect, or bpf_redirect_map /
 * bpf_map_lookup_elem on a DEVMAP / XSKMAP (/ CPUMAP for the redirect):
 * @return 1 when emitted, 0 when it stays a call.
 */
int jit_emit_redirect(struct jit_state *st, const struct bpf_insn *in, struct sl_map *map);

#endif /* SL_JIT_REDIRECT_H */
