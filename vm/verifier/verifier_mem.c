/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Memory access checks: loads, stores and atomics through a pointer
 * register, and memory that helpers read or write through their arguments.
 *
 *  stack     inside the frame's 512 bytes, aligned to the access size; reads
 *            only of initialised bytes; 8-byte aligned spills keep the whole
 *            register (narrower scalar spills keep theirs too)
 *  packet    0 <= off and off + size <= range proven against data_end
 *  map value 0 <= off + var and off + var + size <= value_size; no pointers stored
 *  mem       the same against mem_size (raw programs' r1, ringbuf records)
 *  ctx       fixed offset, a valid field at a valid size (verifier_ctx.c)
 */
#include <errno.h>
#include <string.h>

#include "verifier_internal.h"

static const char *acc_str(enum vaccess t)
{
	return t == ACC_WRITE ? " write to" : " read from";
}

/* Record the deepest byte of frame @p f that was touched. */
void v_update_stack_depth(struct venv *env, struct vframe *f, int64_t lo)
{
	uint32_t d = (uint32_t)((-lo + 7) & ~7);
	struct vsubprog *sp = &env->sub[f->subprog];

	if (d > sp->stack_depth)
		sp->stack_depth = d;
}

/* Make sure frame @p f holds slots down to byte offset @p lo (< 0). */
int v_stack_slot_range(struct venv *env, struct vframe *f, int64_t lo)
{
	v_update_stack_depth(env, f, lo);
	return v_frame_grow(f, (uint32_t)((-lo + 7) / 8));
}

static struct vslot *slot_at(struct vframe *f, int64_t o, unsigned *j)
{
	uint32_t k = (uint32_t)((-o - 1) / 8);

	*j = (unsigned)(o + 8 * (int64_t)(k + 1));
	return k < f->nslots ? &f->stack[k] : NULL;
}

static uint8_t byte_type(struct vframe *f, int64_t o)
{
	unsigned j;
	struct vslot *s = slot_at(f, o, &j);

	return s ? s->type[j] : SLOT_INVALID;
}

/*
 * A write over part of a slot holding a spill: a scalar spill degrades to
 * MISC bytes; what is left of a pointer becomes unreadable, so that no
 * pointer bits can be read back as a scalar.
 */
static void scrub_spill(struct vslot *s)
{
	uint8_t t;

	if (s->type[0] != SLOT_SPILL)
		return;
	t = v_is_ptr(&s->spill) ? SLOT_INVALID : SLOT_MISC;
	for (unsigned j = 0; j < 8; j++)
		if (s->type[j] == SLOT_SPILL)
			s->type[j] = t;
}

static bool reg_is_zero(const struct vreg *v)
{
	return v_reg_is_const(v) && v->var_off.value == 0;
}

static int stack_write_fixed(struct venv *env, struct vframe *f, int64_t o, unsigned size,
			     const struct vreg *v, int value_regno)
{
	unsigned j;
	struct vslot *s;

	if (v_stack_slot_range(env, f, o))
		return -ENOMEM;
	s = slot_at(f, o, &j);
	if (v_is_ptr(v)) {
		if (size != 8)
			return v_err(env, -EACCES, "invalid size of register spill");
		if (f->frameno != env->cur->curframe && v->type == V_STACK)
			return v_err(env, -EACCES,
				     "cannot spill pointers to stack into stack frame of the caller");
		s->spill = *v;
		memset(s->type, SLOT_SPILL, 8);
		return 0;
	}
	(void)value_regno;
	if (j == 0 && !reg_is_zero(v)) {
		scrub_spill(s);
		s->spill = *v;
		if (size < 8) {
			v_reg_mark_sized(&s->spill, size, false);
			if (s->spill.umax != v->umax)
				s->spill.id = 0;
		}
		memset(s->type, SLOT_SPILL, size);
		return 0;
	}
	scrub_spill(s);
	memset(s->type + j, reg_is_zero(v) ? SLOT_ZERO : SLOT_MISC, size);
	return 0;
}

static int stack_read_fixed(struct venv *env, struct vframe *f, int64_t o, unsigned size,
			    bool sign, struct vreg *out)
{
	unsigned j;
	struct vslot *s = slot_at(f, o, &j);
	bool all_zero = true;

	if (s && j == 0 && s->type[0] == SLOT_SPILL) {
		unsigned ss = 0;

		while (ss < 8 && s->type[ss] == SLOT_SPILL)
			ss++;
		if (v_is_ptr(&s->spill) && size != 8)
			return v_err(env, -EACCES, "invalid size of register fill");
		if (size == ss && !(sign && size < 8)) {
			*out = s->spill;
			return 0;
		}
	} else if (s && s->type[0] == SLOT_SPILL && v_is_ptr(&s->spill)) {
		return v_err(env, -EACCES, "invalid size of register fill");
	}
	for (unsigned i = 0; i < size; i++) {
		uint8_t t = byte_type(f, o + i);

		if (t == SLOT_INVALID)
			return v_err(env, -EACCES, "invalid read from stack off %lld+%u size %u",
				     (long long)o, i, size);
		all_zero &= t == SLOT_ZERO;
	}
	if (all_zero) {
		v_reg_mark_const(out, 0);
		return 0;
	}
	v_reg_mark_unknown(out);
	v_reg_mark_sized(out, size, sign);
	return 0;
}

static int stack_var_access(struct venv *env, struct vframe *f, const struct vreg *reg,
			    uint32_t regno, int64_t lo, int64_t hi, unsigned size, enum vaccess t,
			    const struct vreg *v, struct vreg *out)
{
	char tn[64];

	if (lo < -SL_STACK_SIZE || hi > 0) {
		v_tnum_str(tn, sizeof(tn), reg->var_off);
		return v_err(env, -EACCES, "invalid variable-offset%s stack R%u var_off=%s size=%u",
			     acc_str(t), regno, tn, size);
	}
	if (v_stack_slot_range(env, f, lo))
		return -ENOMEM;
	if (t == ACC_WRITE) {
		if (v_is_ptr(v))
			return v_err(env, -EACCES, "R%u variable-offset spill of a pointer prohibited",
				     regno);
		for (int64_t o = lo; o < hi; o++) {
			unsigned j;
			struct vslot *s = slot_at(f, o, &j);

			scrub_spill(s);
			if (s->type[j] != SLOT_INVALID)
				s->type[j] = reg_is_zero(v) && s->type[j] == SLOT_ZERO ? SLOT_ZERO : SLOT_MISC;
		}
		return 0;
	}
	for (int64_t o = lo; o < hi; o++) {
		unsigned j;
		struct vslot *s = slot_at(f, o, &j);

		if (byte_type(f, o) == SLOT_INVALID) {
			v_tnum_str(tn, sizeof(tn), reg->var_off);
			return v_err(env, -EACCES,
				     "invalid variable-offset read from stack R%u var_off=%s size=%u",
				     regno, tn, size);
		}
		if (s->type[j] == SLOT_SPILL && v_is_ptr(&s->spill))
			return v_err(env, -EACCES, "R%u variable-offset read of a spilled pointer "
				     "leaks addr", regno);
	}
	v_reg_mark_unknown(out);
	v_reg_mark_sized(out, size, false);
	return 0;
}

static int check_stack(struct venv *env, uint32_t regno, int32_t off, unsigned size,
		       enum vaccess t, bool sign, const struct vreg *v, struct vreg *out)
{
	struct vreg *reg = v_reg(env, regno);
	struct vframe *f = env->cur->frames[reg->frameno];
	int64_t o = (int64_t)reg->off + off;

	if (regno != BPF_REG_10 || !v_tnum_is_const(reg->var_off))
		v_note_insn_flag(env, IA_STACK_DERIVED);
	if (!v_tnum_is_const(reg->var_off) &&
	    (reg->smin < -SL_STACK_SIZE || reg->smax > SL_STACK_SIZE))
		return v_err(env, -EACCES, "invalid variable-offset%s stack R%u size=%u", acc_str(t),
			     regno, size);
	if (!v_tnum_is_const(reg->var_off)) {
		struct tnum at = v_tnum_add(reg->var_off, v_tnum_const((uint64_t)o));

		if ((at.value | at.mask) & (size - 1)) {
			char tn[64];

			v_tnum_str(tn, sizeof(tn), reg->var_off);
			return v_err(env, -EACCES, "misaligned variable-offset stack access "
				     "var_off=%s off=%lld size=%u", tn, (long long)o, size);
		}
		return stack_var_access(env, f, reg, regno, o + reg->smin, o + reg->smax + size,
					size, t, v, out);
	}
	o += (int64_t)reg->var_off.value;
	if (o < -SL_STACK_SIZE || o + size > 0)
		return v_err(env, -EACCES, "invalid%s stack R%u off=%lld size=%u", acc_str(t), regno,
			     (long long)o, size);
	if (o % size)
		return v_err(env, -EACCES, "misaligned stack access off %lld size %u",
			     (long long)o, size);
	if (t == ACC_WRITE)
		return stack_write_fixed(env, f, o, size, v, (int)regno);
	v_update_stack_depth(env, f, o);
	return stack_read_fixed(env, f, o, size, sign, out);
}

static int check_value_leak(struct venv *env, const struct vreg *v, int value_regno,
			    const char *where)
{
	if (v && v_is_ptr(v))
		return v_err(env, -EACCES, "R%d leaks addr into %s", value_regno, where);
	return 0;
}

static int check_packet(struct venv *env, uint32_t regno, int32_t off, unsigned size,
			bool zero_ok)
{
	struct vreg *reg = v_reg(env, regno);
	int64_t o = (int64_t)reg->off + off;

	if (reg->smin < 0)
		return v_err(env, -EACCES, "R%u min value is negative, either use unsigned index "
			     "or do a if (index >=0) check.", regno);
	if (o < 0 || (size == 0 && !zero_ok) || o + size > reg->range)
		return v_err(env, -EACCES, "invalid access to packet, off=%lld size=%u, "
			     "R%u(id=%u,off=%d,r=%u)", (long long)o, size, regno, reg->id, reg->off,
			     reg->range);
	return 0;
}

/* Bounds of [off + var, off + var + size) against a region of @p limit bytes. */
static int check_region(struct venv *env, uint32_t regno, int32_t off, uint64_t size,
			uint32_t limit, const char *what, const char *limit_name)
{
	struct vreg *reg = v_reg(env, regno);
	int64_t o = (int64_t)reg->off + off;

	if (reg->smin < 0 && !v_tnum_is_const(reg->var_off))
		return v_err(env, -EACCES, "R%u min value is negative, either use unsigned index "
			     "or do a if (index >=0) check.", regno);
	if (reg->umax >= (uint64_t)V_MAX_VAR_OFF)
		return v_err(env, -EACCES, "R%u unbounded memory access, make sure to bounds check "
			     "any such access", regno);
	if (o + reg->smin < 0 || o + (int64_t)reg->umax + (int64_t)size > (int64_t)limit)
		return v_err(env, -EACCES, "invalid access to %s, %s=%u off=%lld size=%llu", what,
			     limit_name, limit, (long long)(o + (int64_t)reg->umax),
			     (unsigned long long)size);
	return 0;
}

static uint32_t map_value_size(const struct vreg *reg)
{
	return sl_map_get_def(reg->map)->value_size;
}

/* Values programs may not write: BPF_F_RDONLY_PROG, and devmaps (the kernel forces the flag). */
static bool map_rdonly(const struct sl_map *map)
{
	const struct sl_map_def *def = sl_map_get_def(map);

	return (def->map_flags & BPF_F_RDONLY_PROG) || def->type == BPF_MAP_TYPE_DEVMAP ||
	       def->type == BPF_MAP_TYPE_DEVMAP_HASH;
}

static int check_map_value(struct venv *env, uint32_t regno, int32_t off, unsigned size,
			   enum vaccess t, const struct vreg *v, int value_regno)
{
	struct vreg *reg = v_reg(env, regno);
	int err = check_region(env, regno, off, size, map_value_size(reg), "map value",
			       "value_size");

	if (err || t != ACC_WRITE)
		return err;
	if (map_rdonly(reg->map))
		return v_err(env, -EACCES, "write into map forbidden, value_size=%u off=%d size=%u",
			     map_value_size(reg), reg->off + off, size);
	return check_value_leak(env, v, value_regno, "map");
}

static int check_ctx(struct venv *env, uint32_t regno, int32_t off, unsigned size,
		     enum vaccess t, bool sign, const struct vreg *v, int value_regno,
		     struct vreg *out)
{
	struct vreg *reg = v_reg(env, regno);
	char tn[64];

	if (!v_tnum_is_const(reg->var_off) || reg->var_off.value) {
		v_tnum_str(tn, sizeof(tn), reg->var_off);
		return v_err(env, -EACCES, "variable ctx access var_off=%s off=%d size=%u", tn, off,
			     size);
	}
	if (reg->off)
		return v_err(env, -EACCES, "dereference of modified ctx ptr R%u off=%d disallowed",
			     regno, reg->off);
	if (t == ACC_WRITE && check_value_leak(env, v, value_regno, "ctx"))
		return -EACCES;
	if (sign)
		return v_err(env, -EACCES, "invalid bpf_context access off=%d size=%u", off, size);
	return v_ctx_access(env, env->insn_idx, off, size, t, t == ACC_READ ? out : NULL);
}

static int note_ptr_type(struct venv *env, uint8_t type)
{
	struct vinsn *ia = &env->ia[env->insn_idx];

	if (!ia->ptr_type)
		ia->ptr_type = type;
	else if ((ia->ptr_type == V_CTX) != (type == V_CTX))
		return v_err(env, -EACCES, "same insn cannot be used with different pointers");
	return 0;
}

/*
 * Load (t = ACC_READ: result in @p value) or store (the value in @p value,
 * from register @p value_regno or -1 for an immediate) of @p size bytes at
 * register @p regno + @p off.
 */
int v_check_mem(struct venv *env, uint32_t regno, int32_t off, unsigned size,
		enum vaccess t, int value_regno, bool sign_ext, struct vreg *value)
{
	struct vreg *reg = v_reg(env, regno);
	struct vreg tmp;
	int err;

	if (note_ptr_type(env, reg->type))
		return -EACCES;
	switch (reg->type) {
	case V_STACK:
		return check_stack(env, regno, off, size, t, sign_ext, value, value);
	case V_PKT:
	case V_PKT_META:
		err = check_packet(env, regno, off, size, false);
		if (!err && t == ACC_WRITE)
			err = check_value_leak(env, value, value_regno, "packet");
		break;
	case V_MAP_VALUE:
		err = check_map_value(env, regno, off, size, t, value, value_regno);
		break;
	case V_MEM:
		err = check_region(env, regno, off, size, reg->mem_size, "memory", "mem_size");
		if (!err && t == ACC_WRITE)
			err = check_value_leak(env, value, value_regno, "mem");
		break;
	case V_CTX:
		return check_ctx(env, regno, off, size, t, sign_ext, value, value_regno, value);
	default:
		return v_err(env, -EACCES, "R%u invalid mem access '%s'", regno, v_vtype_str(reg->type));
	}
	if (err || t == ACC_WRITE)
		return err;
	v_reg_mark_unknown(&tmp);
	v_reg_mark_sized(&tmp, size, sign_ext);
	*value = tmp;
	return 0;
}

/*
 * Stack memory a helper reads, or writes: a write initialises only the bytes
 * written whatever the pointer's variable part and the size (at least
 * @p min_size) turn out to be; the others just lose any spill.
 */
static int helper_stack(struct venv *env, uint32_t regno, uint64_t size, uint64_t min_size,
			enum vaccess t)
{
	struct vreg *reg = v_reg(env, regno);
	struct vframe *f = env->cur->frames[reg->frameno];
	int64_t lo, hi;

	if (reg->smin < -SL_STACK_SIZE || reg->smax > SL_STACK_SIZE || size > SL_STACK_SIZE)
		return v_err(env, -EACCES, "invalid indirect access to stack R%u off=%d size=%llu",
			     regno, reg->off, (unsigned long long)size);
	lo = (int64_t)reg->off + reg->smin;
	hi = (int64_t)reg->off + reg->smax + (int64_t)size;
	if (lo < -SL_STACK_SIZE || hi > 0)
		return v_err(env, -EACCES, "invalid indirect access to stack R%u off=%lld size=%llu",
			     regno, (long long)lo, (unsigned long long)size);
	if (!size)
		return 0;
	if (v_stack_slot_range(env, f, lo))
		return -ENOMEM;
	for (int64_t o = lo; o < hi; o++) {
		unsigned j;
		struct vslot *s = slot_at(f, o, &j);

		if (t == ACC_WRITE) {
			bool sure = o >= (int64_t)reg->off + reg->smax &&
				    o < (int64_t)reg->off + reg->smin + (int64_t)min_size;

			scrub_spill(s);
			if (sure || s->type[j] == SLOT_ZERO)
				s->type[j] = SLOT_MISC;
			continue;
		}
		if (s->type[j] == SLOT_INVALID)
			return v_err(env, -EACCES, "invalid indirect read from stack R%u off %lld+%lld "
				     "size %llu", regno, (long long)lo, (long long)(o - lo),
				     (unsigned long long)size);
		if (s->type[j] == SLOT_SPILL && v_is_ptr(&s->spill))
			return v_err(env, -EACCES, "R%u leaks addr into helper function", regno);
	}
	return 0;
}

/*
 * Memory of up to @p size bytes (at least @p min_size) that a helper reads
 * (ACC_READ) or writes through register @p regno.
 */
int v_check_helper_mem(struct venv *env, uint32_t regno, uint64_t size, uint64_t min_size,
		       bool zero_ok, enum vaccess t)
{
	struct vreg *reg = v_reg(env, regno);

	if (size == 0 && !zero_ok)
		return v_err(env, -EACCES, "R%u invalid zero-sized read", regno + 1);
	switch (reg->type) {
	case V_STACK:
		return helper_stack(env, regno, size, min_size, t);
	case V_PKT:
	case V_PKT_META:
		if (size > UINT32_MAX)
			break;
		return check_packet(env, regno, 0, (unsigned)size, true);
	case V_MAP_VALUE:
		if (t == ACC_WRITE && map_rdonly(reg->map))
			return v_err(env, -EACCES, "write into map forbidden");
		return check_region(env, regno, 0, size, map_value_size(reg), "map value",
				    "value_size");
	case V_MEM:
		return check_region(env, regno, 0, size, reg->mem_size, "memory", "mem_size");
	default:
		break;
	}
	return v_err(env, -EACCES, "R%u type=%s expected=fp, pkt, pkt_meta, map_value, mem", regno,
		     v_vtype_str(reg->type));
}
