/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Liveness and precision per instruction, for state pruning.
 * First version: everything is live and precise (no pruning shortcuts).
 */
#include "verifier_internal.h"

int v_compute_liveness(struct venv *env, bool conservative)
{
	(void)conservative;
	for (uint32_t pc = 0; pc < env->n; pc++) {
		env->ia[pc].live_regs = env->ia[pc].prec_regs = 0x7ff;
		env->ia[pc].live_slots = env->ia[pc].prec_slots = UINT64_MAX;
	}
	return 0;
}
