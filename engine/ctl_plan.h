/* SPDX-License-Identifier: BSD-3-Clause */
/* A map dump's key or value text compiled once per dump (ctl_plan.c). Control thread. */
#ifndef SL_CTL_PLAN_H
#define SL_CTL_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sl_text.h"

#define SL_CTL_PLAN_OPS 128  /**< steps of one type, at most (more: not compiled) */

enum sl_ctl_plan_kind {
	PLAN_LIT,    /**< pool[off .. off + n) */
	PLAN_UINT,   /**< n-byte little-endian unsigned integer at off, in decimal */
	PLAN_SINT,   /**< the same, signed */
	PLAN_BYTES,  /**< n bytes at off as "xx:xx:..." */
};

struct sl_ctl_plan_op {
	enum sl_ctl_plan_kind kind;
	uint32_t off, n;
};

/** The steps of one type's compact JSON text. */
struct sl_ctl_plan {
	bool ok;          /**< compiled (false: the type takes sl_text's way) */
	uint32_t size;    /**< bytes of the key or value */
	uint32_t blanks;  /**< blanks sl_text's JSON form has that the compact text drops */
	unsigned nops;
	struct sl_ctl_plan_op ops[SL_CTL_PLAN_OPS];
	uint32_t pool_len;
	char pool[1024];
};

/** Compile @p t into @p p: true, or false (p->ok false) for a type that is not compiled. */
bool sl_ctl_plan_build(struct sl_ctl_plan *p, const struct sl_text_type *t);

/**
 * The compact JSON text of @p bytes (p->size of them) into @p out: its
 * length, or -ERANGE (an integer of more than 18 digits: take sl_text's
 * way for this one), -ENOSPC (more than @p cap bytes).
 */
int sl_ctl_plan_put(const struct sl_ctl_plan *p, const uint8_t *bytes, char *out, size_t cap);

#endif
