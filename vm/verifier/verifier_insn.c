/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Transfer of one instruction over the current state: ALU (scalars and
 * pointer arithmetic), loads, stores, atomics, lddw, and conditional jumps
 * (scalar refinement on both branches, null checks, packet range learning,
 * dead-branch elimination).
 */
#include <errno.h>
#include <string.h>

#include "verifier_internal.h"

static const char *const alu_str[16] = {
	"+=", "-=", "*=", "/=", "|=", "&=", "<<=", ">>=", "neg", "%=", "^=", "=", "s>>=",
	"endian", "?", "?",
};

/* ---- pointer arithmetic ---- */

static int check_ptr_alu_type(struct venv *env, uint32_t regno, const struct vreg *ptr,
			      uint8_t op)
{
	switch (ptr->type) {
	case V_MAP_VALUE_OR_NULL:
	case V_MEM_OR_NULL:
	case V_CONST_MAP_OR_NULL:
		return v_err(env, -EACCES, "R%u pointer arithmetic on %s prohibited, null-check it first",
			     regno, v_vtype_str(ptr->type));
	case V_CONST_MAP:
	case V_PKT_END:
	case V_FUNC:
		return v_err(env, -EACCES, "R%u pointer arithmetic on %s prohibited", regno,
			     v_vtype_str(ptr->type));
	default:
		break;
	}
	if (op == BPF_AND || op == BPF_OR || op == BPF_XOR)
		return v_err(env, -EACCES, "R%u bitwise operator %s on pointer prohibited", regno,
			     alu_str[op >> 4]);
	if (op != BPF_ADD && op != BPF_SUB)
		return v_err(env, -EACCES, "R%u pointer arithmetic with %s operator prohibited", regno,
			     alu_str[op >> 4]);
	return 0;
}

static int check_sane_offset(struct venv *env, const struct vreg *off, const struct vreg *ptr)
{
	const char *t = v_vtype_str(ptr->type);

	if (v_reg_is_const(off)) {
		int64_t v = (int64_t)off->var_off.value;

		if (v >= V_MAX_VAR_OFF || v <= -V_MAX_VAR_OFF)
			return v_err(env, -EACCES, "math between %s pointer and %lld is not allowed", t,
				     (long long)v);
		return 0;
	}
	if (off->smin == INT64_MIN)
		return v_err(env, -EACCES, "math between %s pointer and register with unbounded "
			     "min value is not allowed", t);
	if (off->smin <= -V_MAX_VAR_OFF || off->smin >= V_MAX_VAR_OFF)
		return v_err(env, -EACCES, "value %lld makes %s pointer be out of bounds",
			     (long long)off->smin, t);
	return 0;
}

static bool is_pkt_family(const struct vreg *r)
{
	return r->type == V_PKT || r->type == V_PKT_END || r->type == V_PKT_META;
}

static int ptr_sub_ptr(struct venv *env, uint32_t dst_regno, struct vreg *dst,
		       const struct vreg *src, uint8_t op)
{
	bool pkt_family = (dst->type == V_PKT || dst->type == V_PKT_END || dst->type == V_PKT_META) &&
			  (src->type == V_PKT || src->type == V_PKT_END || src->type == V_PKT_META);
	bool same = dst->type == src->type && dst->map == src->map &&
		    (dst->type == V_STACK || dst->type == V_MAP_VALUE || dst->type == V_MEM);

	if (op != BPF_SUB || !(pkt_family || same))
		return v_err(env, -EACCES, "R%u pointer %s pointer prohibited", dst_regno,
			     alu_str[op >> 4]);
	v_reg_mark_unknown(dst);
	return 0;
}

/* dst (a pointer, or a scalar with a pointer src) op= src, 64-bit ADD/SUB. */
static int ptr_alu(struct venv *env, const struct bpf_insn *insn, struct vreg *dst,
		   const struct vreg *src)
{
	uint8_t op = SL_OP_CODE(insn->code);
	bool dst_ptr = v_is_ptr(dst);
	const struct vreg *ptr = dst_ptr ? dst : src, *off = dst_ptr ? src : dst;
	struct vreg res;
	int err;

	if (dst_ptr && v_is_ptr(src))
		return ptr_sub_ptr(env, insn->dst_reg, dst, src, op);
	if (SL_OP_CLASS(insn->code) != BPF_ALU64) {
		/* privileged kernel: a 32-bit SUB with a pointer operand gives a
		 * meaningless scalar; clang -mcpu=v3 emits it for packet offsets */
		if (op == BPF_SUB && is_pkt_family(ptr)) {
			v_reg_mark_unknown(dst);
			return 0;
		}
		return v_err(env, -EACCES, "R%u 32-bit pointer arithmetic prohibited", insn->dst_reg);
	}
	err = check_ptr_alu_type(env, dst_ptr ? insn->dst_reg : insn->src_reg, ptr, op);
	if (err)
		return err;
	if (!dst_ptr && op == BPF_SUB)
		return v_err(env, -EACCES, "R%u tried to subtract pointer from scalar", insn->dst_reg);
	err = check_sane_offset(env, off, ptr);
	if (err)
		return err;
	res = *ptr;
	/* the offset's value decides the pointer, constant or not: precise */
	if (SL_OP_SRC(insn->code) == BPF_X)
		v_note_insn_flag(env, IA_PTR_ARITH);
	if (v_reg_is_const(off)) {
		int64_t v = (int64_t)off->var_off.value, n = op == BPF_ADD ? res.off + v : res.off - v;

		if (n >= V_MAX_VAR_OFF || n <= -V_MAX_VAR_OFF)
			return v_err(env, -EACCES, "value %lld makes %s pointer be out of bounds",
				     (long long)n, v_vtype_str(ptr->type));
		res.off = (int32_t)n;
		*dst = res;
		return 0;
	}
	struct vreg a = *ptr, b = *off;

	a.type = b.type = V_SCALAR;
	a.id = b.id = 0;
	v_scalar_alu(env, BPF_ALU64 | op, 0, &a, &b);
	if (a.smin <= -V_MAX_VAR_OFF || a.smin >= V_MAX_VAR_OFF)
		return v_err(env, -EACCES, "value %lld makes %s pointer be out of bounds",
			     (long long)a.smin, v_vtype_str(ptr->type));
	res.var_off = a.var_off;
	res.smin = a.smin, res.smax = a.smax, res.umin = a.umin, res.umax = a.umax;
	res.s32min = a.s32min, res.s32max = a.s32max, res.u32min = a.u32min, res.u32max = a.u32max;
	if (v_is_pkt(&res)) {
		res.id = ++env->id_gen;
		res.range = 0;
	}
	*dst = res;
	return 0;
}

/* ---- ALU ---- */

static int check_mov(struct venv *env, const struct bpf_insn *insn, struct vreg *dst)
{
	bool is64 = SL_OP_CLASS(insn->code) == BPF_ALU64;

	if (SL_OP_SRC(insn->code) == BPF_K) {
		v_reg_mark_const(dst, is64 ? (uint64_t)(int64_t)insn->imm : (uint32_t)insn->imm);
		return 0;
	}
	if (v_check_reg_read(env, insn->src_reg))
		return -EACCES;
	struct vreg *src = v_reg(env, insn->src_reg);

	if (is64 && !insn->off) {
		if (src->type == V_SCALAR && !src->id && !v_tnum_is_const(src->var_off))
			src->id = ++env->id_gen;
		*dst = *src;
		return 0;
	}
	if (v_is_ptr(src) && !is64 && !insn->off && is_pkt_family(src)) {
		/* privileged kernel (allow_ptr_leaks): w8 = w9 of a packet pointer
		 * is an unknown 32-bit scalar; clang -mcpu=v3 emits it for
		 * `cursor - data`. Other pointers stay refused (unprivileged rule). */
		v_reg_mark_unknown(dst);
		v_reg_zext32(dst);
		return 0;
	}
	if (v_is_ptr(src))
		return v_err(env, -EACCES, "R%u partial copy of pointer", insn->src_reg);
	struct vreg s = *src;

	return v_scalar_alu(env, insn->code, insn->off, dst, &s);
}

static void note_div(struct venv *env, const struct bpf_insn *insn, const struct vreg *src)
{
	bool is64 = SL_OP_CLASS(insn->code) == BPF_ALU64;
	bool maybe_zero = is64 ? (src->umin == 0) : (src->u32min == 0);

	if (maybe_zero)
		env->ia[env->insn_idx].flags |= IA_DIV_ZERO;
}

static int check_alu(struct venv *env, const struct bpf_insn *insn)
{
	uint8_t op = SL_OP_CODE(insn->code);
	bool is64 = SL_OP_CLASS(insn->code) == BPF_ALU64, x = SL_OP_SRC(insn->code) == BPF_X;
	struct vreg *dst = v_reg(env, insn->dst_reg), k;
	const struct vreg *src;

	if (v_check_reg_write(env, insn->dst_reg))
		return -EACCES;
	if (op == BPF_MOV)
		return check_mov(env, insn, dst);
	if (v_check_reg_read(env, insn->dst_reg))
		return -EACCES;
	if (op == BPF_NEG || op == BPF_END) {
		if (v_is_ptr(dst))
			return v_err(env, -EACCES, "R%u pointer arithmetic prohibited", insn->dst_reg);
		v_reg_mark_const(&k, (uint64_t)(int64_t)insn->imm);
		return v_scalar_alu(env, insn->code, insn->off, dst, &k);
	}
	if (x) {
		if (v_check_reg_read(env, insn->src_reg))
			return -EACCES;
		src = v_reg(env, insn->src_reg);
	} else {
		/* RFC 9669 masks a shift count to 63 / 31; the kernel refuses an
		 * immediate out of range ("invalid shift"), sluice runs it as the
		 * RFC defines, as it does division by zero. */
		if (op == BPF_LSH || op == BPF_RSH || op == BPF_ARSH)
			v_reg_mark_const(&k, (uint32_t)insn->imm & (is64 ? 63 : 31));
		else
			v_reg_mark_const(&k, is64 ? (uint64_t)(int64_t)insn->imm : (uint32_t)insn->imm);
		src = &k;
	}
	if (v_is_ptr(dst) || v_is_ptr(src)) {
		if (!v_is_ptr(dst) && op != BPF_ADD && op != BPF_SUB)
			return v_err(env, -EACCES, "R%u pointer arithmetic with %s operator prohibited",
				     insn->src_reg, alu_str[op >> 4]);
		return ptr_alu(env, insn, dst, src);
	}
	if (op == BPF_DIV || op == BPF_MOD)
		note_div(env, insn, src);
	k = *src;
	return v_scalar_alu(env, insn->code, insn->off, dst, &k);
}

/* ---- loads, stores, atomics ---- */

static int check_ldx(struct venv *env, const struct bpf_insn *insn)
{
	struct vreg val;
	int err;

	if (v_check_reg_read(env, insn->src_reg) || v_check_reg_write(env, insn->dst_reg))
		return -EACCES;
	memset(&val, 0, sizeof(val));
	err = v_check_mem(env, insn->src_reg, insn->off, sl_isa_size_bytes(insn->code), ACC_READ,
			  -1, SL_OP_MODE(insn->code) == BPF_MEMSX, &val);
	if (err)
		return err;
	*v_reg(env, insn->dst_reg) = val;
	return 0;
}

static int check_atomic(struct venv *env, const struct bpf_insn *insn)
{
	unsigned size = sl_isa_size_bytes(insn->code);
	struct vreg *base, tmp;
	struct tnum at;
	int err;

	if (v_check_reg_read(env, insn->src_reg) || v_check_reg_read(env, insn->dst_reg))
		return -EACCES;
	if (insn->imm == BPF_CMPXCHG && v_check_reg_read(env, BPF_REG_0))
		return -EACCES;
	if (v_is_ptr(v_reg(env, insn->src_reg)))
		return v_err(env, -EACCES, "R%u leaks addr into mem", insn->src_reg);
	if (insn->imm == BPF_CMPXCHG && v_is_ptr(v_reg(env, BPF_REG_0)))
		return v_err(env, -EACCES, "R0 leaks addr into mem");
	base = v_reg(env, insn->dst_reg);
	if (base->type != V_STACK && base->type != V_MAP_VALUE && base->type != V_MEM)
		return v_err(env, -EACCES, "BPF_ATOMIC stores into R%u %s is not allowed",
			     insn->dst_reg, v_vtype_str(base->type));
	/* strict alignment, as the kernel checks atomics (the CPU needs it too) */
	at = v_tnum_add(base->var_off, v_tnum_const((uint64_t)((int64_t)base->off + insn->off)));
	if ((at.value | at.mask) & (size - 1))
		return v_err(env, -EACCES, "misaligned atomic access to %s off %d+%d size %u",
			     v_vtype_str(base->type), base->off, insn->off, size);
	err = v_check_mem(env, insn->dst_reg, insn->off, size, ACC_READ, -1, false, &tmp);
	if (err)
		return err;
	if (v_is_ptr(&tmp))   /* the old value would come back as a scalar */
		return v_err(env, -EACCES, "atomic operation on a spilled pointer leaks addr");
	v_reg_mark_unknown(&tmp);
	err = v_check_mem(env, insn->dst_reg, insn->off, size, ACC_WRITE, insn->src_reg, false, &tmp);
	if (err)
		return err;
	if (insn->imm == BPF_CMPXCHG) {
		v_reg_mark_unknown(v_reg(env, BPF_REG_0));
		v_reg_mark_sized(v_reg(env, BPF_REG_0), size, false);
	} else if (insn->imm & BPF_FETCH) {
		if (v_check_reg_write(env, insn->src_reg))
			return -EACCES;
		v_reg_mark_unknown(v_reg(env, insn->src_reg));
		v_reg_mark_sized(v_reg(env, insn->src_reg), size, false);
	}
	return 0;
}

static int check_store(struct venv *env, const struct bpf_insn *insn)
{
	unsigned size = sl_isa_size_bytes(insn->code);
	struct vreg val;
	int value_regno = -1;

	if (SL_OP_MODE(insn->code) == BPF_ATOMIC)
		return check_atomic(env, insn);
	if (v_check_reg_read(env, insn->dst_reg))
		return -EACCES;
	if (SL_OP_CLASS(insn->code) == BPF_STX) {
		if (v_check_reg_read(env, insn->src_reg))
			return -EACCES;
		val = *v_reg(env, insn->src_reg);
		value_regno = insn->src_reg;
	} else {
		v_reg_mark_const(&val, (uint64_t)(int64_t)insn->imm);
	}
	if (size < 8 && val.type == V_SCALAR && !v_is_ptr(&val) && v_reg_is_const(&val))
		v_reg_mark_const(&val, val.var_off.value & ((1ull << (size * 8)) - 1));
	return v_check_mem(env, insn->dst_reg, insn->off, size, ACC_WRITE, value_regno, false, &val);
}

static int check_lddw(struct venv *env, const struct bpf_insn *insn)
{
	struct vreg *dst = v_reg(env, insn->dst_reg);
	struct sl_prog *prog = env->prog;
	uint64_t imm = (uint32_t)insn[0].imm | ((uint64_t)(uint32_t)insn[1].imm << 32);

	if (v_check_reg_write(env, insn->dst_reg))
		return -EACCES;
	if (insn->src_reg == 0) {
		v_reg_mark_const(dst, imm);
		return 0;
	}
	if (insn->src_reg == BPF_PSEUDO_FUNC) {   /* target checked by the CFG pass */
		if (insn[1].imm)
			return v_err(env, -EINVAL, "reserved field (insn[1].imm) is used in pseudo_func "
				     "insn");
		v_reg_mark_const(dst, 0);
		dst->type = V_FUNC;
		dst->off = (int32_t)(env->insn_idx + 1 + (uint32_t)insn->imm);
		return 0;
	}
	if (insn->src_reg != BPF_PSEUDO_MAP_IDX && insn->src_reg != BPF_PSEUDO_MAP_IDX_VALUE)
		return v_err(env, -EINVAL, "unsupported ldimm64 pseudo src %u (maps must be resolved "
			     "by the loader)", insn->src_reg);
	if (insn->imm < 0 || (uint32_t)insn->imm >= prog->n_maps || !prog->maps[insn->imm])
		return v_err(env, -EINVAL, "map index %d out of range", insn->imm);
	v_reg_mark_const(dst, 0);
	dst->map = prog->maps[insn->imm];
	if (insn->src_reg == BPF_PSEUDO_MAP_IDX) {
		dst->type = V_CONST_MAP;
		return 0;
	}
	if ((uint32_t)insn[1].imm >= sl_map_get_def(dst->map)->value_size)
		return v_err(env, -EACCES, "invalid access to map value pointer, value_size=%u off=%u",
			     sl_map_get_def(dst->map)->value_size, (uint32_t)insn[1].imm);
	dst->type = V_MAP_VALUE;
	dst->off = insn[1].imm;
	return 0;
}

/* ---- conditional jumps ---- */

struct id_sync {
	uint32_t id;
	const struct vreg *src;
};

static void copy_if_same_id(struct vreg *r, void *arg)
{
	struct id_sync *s = arg;

	if (r->type == V_SCALAR && r->id == s->id && r != s->src)
		*r = *s->src;
}

/* A refined scalar: every copy of it (same id) learns the same bounds. */
static void sync_scalar_copies(struct vstate *st, const struct vreg *r)
{
	struct id_sync s = { r->id, r };

	if (r->type == V_SCALAR && r->id)
		v_for_each_reg(st, copy_if_same_id, &s);
}

struct null_mark {
	uint32_t id;
	bool is_null;
};

static void mark_or_null(struct vreg *r, void *arg)
{
	struct null_mark *m = arg;

	if ((r->type != V_MAP_VALUE_OR_NULL && r->type != V_MEM_OR_NULL &&
	     r->type != V_CONST_MAP_OR_NULL) || r->id != m->id)
		return;
	if (m->is_null) {
		v_reg_mark_const(r, 0);
		return;
	}
	if (r->type == V_CONST_MAP_OR_NULL) {
		r->type = V_CONST_MAP;   /* an inner map: map stays its template */
		r->id = 0;
		return;
	}
	r->type = r->type == V_MEM_OR_NULL ? V_MEM : V_MAP_VALUE;
	if (r->type == V_MAP_VALUE)
		r->id = 0;
}

static void null_branch(struct vstate *st, uint32_t id, bool is_null)
{
	struct null_mark m = { id, is_null };

	v_for_each_reg(st, mark_or_null, &m);
	if (!is_null)
		return;
	v_ref_drop(st, id);
}

struct pkt_mark {
	uint8_t type;
	uint32_t id;
	uint32_t range;
};

static void mark_pkt_range(struct vreg *r, void *arg)
{
	struct pkt_mark *m = arg;

	if (r->type == m->type && r->id == m->id && r->range < m->range)
		r->range = m->range;
}

/* After "pkt <= end" (open: "pkt < end") every pointer with pkt's id gains a range. */
static void learn_pkt_range(struct vstate *st, const struct vreg *pkt, bool open)
{
	struct pkt_mark m = { pkt->type, pkt->id, 0 };

	if (pkt->off < 0 || (pkt->off == 0 && open))
		return;
	if (pkt->umax > V_MAX_PACKET_OFF || pkt->umax + (uint64_t)pkt->off > V_MAX_PACKET_OFF)
		return;
	m.range = (uint32_t)pkt->off + (open ? 1 : 0);
	v_for_each_reg(st, mark_pkt_range, &m);
}

static bool is_end_of(const struct vreg *end, const struct vreg *ptr)
{
	return (ptr->type == V_PKT && end->type == V_PKT_END) ||
	       (ptr->type == V_PKT_META && end->type == V_PKT);
}

struct branch {
	struct vstate *taken;   /* state at the target, NULL when the jump is never taken */
	bool fall;              /* the fall-through is possible */
};

/* Packet pointer against its end: learn the range on the branch that proves it. */
static void pkt_compare(struct vstate *taken, struct vstate *fall, uint8_t op,
			const struct vreg *ptr)
{
	switch (op) {
	case BPF_JGT: learn_pkt_range(fall, ptr, false); break;
	case BPF_JGE: learn_pkt_range(fall, ptr, true); break;
	case BPF_JLT: learn_pkt_range(taken, ptr, true); break;
	case BPF_JLE: learn_pkt_range(taken, ptr, false); break;
	default: break;
	}
}

static bool is_zero_operand(const struct bpf_insn *insn, const struct vreg *src)
{
	return SL_OP_SRC(insn->code) == BPF_K ? insn->imm == 0
	       : (v_reg_is_const(src) && src->var_off.value == 0);
}

/*
 * Jumps involving pointers. Returns 0 and sets *decided to -1 (both ways),
 * 0 (never taken) or 1 (always taken); @p apply is called after the branch
 * copy exists. As the kernel for root (allow_ptr_leaks), any comparison
 * of a pointer is allowed; only the kernel's patterns teach something:
 * a null check of a _or_null pointer, a non-null pointer against 0, and
 * packet pointer against packet end (64-bit jumps only). Anything else
 * (a pointer against a number, JMP32, pointers of different kinds) goes
 * both ways and refines nothing.
 */
static int ptr_cond(struct venv *env, const struct bpf_insn *insn, const struct vreg *dst,
		    const struct vreg *src, int *decided, int *kind)
{
	uint8_t op = SL_OP_CODE(insn->code);
	bool x = SL_OP_SRC(insn->code) == BPF_X;

	(void)env;
	*decided = -1;
	*kind = 0;
	if (SL_OP_CLASS(insn->code) == BPF_JMP32)
		return 0;
	if ((op == BPF_JEQ || op == BPF_JNE) && v_is_ptr(dst) != (x && v_is_ptr(src))) {
		const struct vreg *p = v_is_ptr(dst) ? dst : src, *o = v_is_ptr(dst) ? src : dst;

		if (!is_zero_operand(insn, o) && !(v_is_ptr(dst) && !x && insn->imm == 0))
			return 0;
		if (p->type == V_MAP_VALUE_OR_NULL || p->type == V_MEM_OR_NULL ||
		    p->type == V_CONST_MAP_OR_NULL) {
			*kind = 1;   /* null check */
			return 0;
		}
		*decided = op == BPF_JNE;
		return 0;
	}
	if (!x || !v_is_ptr(dst) || !v_is_ptr(src))
		return 0;
	if (is_end_of(src, dst) || is_end_of(dst, src))
		*kind = 2;   /* packet range */
	return 0;
}

static int refine_scalars(struct vstate *st, const struct bpf_insn *insn, uint8_t op,
			  const struct vreg *kreg)
{
	struct vframe *f = st->frames[st->curframe];
	struct vreg *d = &f->regs[insn->dst_reg], k = *kreg;
	struct vreg *s = SL_OP_SRC(insn->code) == BPF_X ? &f->regs[insn->src_reg] : &k;
	int ok = v_scalar_refine(op, SL_OP_CLASS(insn->code) == BPF_JMP32, d, s);

	if (ok) {
		sync_scalar_copies(st, d);
		if (s != &k)
			sync_scalar_copies(st, s);
	}
	return ok;
}

/* Would "dst op src" be possible in the current state (scalars only)? */
static bool scalar_feasible(struct venv *env, const struct bpf_insn *insn, uint8_t op,
			    const struct vreg *kreg)
{
	struct vreg d = *v_reg(env, insn->dst_reg), k = *kreg, s;
	bool same = SL_OP_SRC(insn->code) == BPF_X && insn->src_reg == insn->dst_reg;

	s = SL_OP_SRC(insn->code) == BPF_X ? *v_reg(env, insn->src_reg) : k;
	return v_scalar_refine(op, SL_OP_CLASS(insn->code) == BPF_JMP32, &d, same ? &d : &s);
}

static int check_cond_jmp(struct venv *env, const struct bpf_insn *insn, bool *dead)
{
	uint8_t op = SL_OP_CODE(insn->code);
	bool x = SL_OP_SRC(insn->code) == BPF_X, j32 = SL_OP_CLASS(insn->code) == BPF_JMP32;
	uint32_t pc = env->insn_idx, target = pc + (uint32_t)insn->off + 1;
	struct vreg *dst, *src, k;
	struct vstate *taken = NULL;
	int decided = -1, kind = 0, err;

	if (v_check_reg_read(env, insn->dst_reg) || (x && v_check_reg_read(env, insn->src_reg)))
		return -EACCES;
	dst = v_reg(env, insn->dst_reg);
	v_reg_mark_const(&k, j32 ? (uint32_t)insn->imm : (uint64_t)(int64_t)insn->imm);
	src = x ? v_reg(env, insn->src_reg) : &k;
	if (v_is_ptr(dst) || v_is_ptr(src)) {
		err = ptr_cond(env, insn, dst, src, &decided, &kind);
		if (err)
			return err;
	} else {
		bool t = scalar_feasible(env, insn, op, &k);
		bool f = scalar_feasible(env, insn, jmp_negate(op), &k);

		if (!t && !f) {
			*dead = true;
			return 0;
		}
		decided = t && f ? -1 : t;
	}
	if (decided >= 0) {
		if (!v_is_ptr(dst) && !v_is_ptr(src))
			refine_scalars(env->cur, insn, decided ? op : jmp_negate(op), &k);
		env->insn_idx = decided ? target : pc + 1;
		return 0;
	}
	err = v_push_branch(env, target, pc, &taken);
	if (err)
		return err;
	if (kind == 1) {
		const struct vreg *p = v_is_ptr(dst) ? dst : src;
		uint32_t id = p->id;

		null_branch(taken, id, op == BPF_JEQ);
		null_branch(env->cur, id, op != BPF_JEQ);
	} else if (kind == 2) {
		bool swap = is_end_of(dst, src);
		struct vreg ptr = swap ? *src : *dst;

		pkt_compare(taken, env->cur, swap ? jmp_swap(op) : op, &ptr);
	} else if (!v_is_ptr(dst)) {
		refine_scalars(taken, insn, op, &k);
		refine_scalars(env->cur, insn, jmp_negate(op), &k);
	}
	env->insn_idx = pc + 1;
	return 0;
}

/* ---- dispatch ---- */

static int check_jmp(struct venv *env, const struct bpf_insn *insn, bool *done)
{
	uint8_t op = SL_OP_CODE(insn->code);

	switch (op) {
	case BPF_JA:
		env->insn_idx += (uint32_t)(SL_OP_CLASS(insn->code) == BPF_JMP32 ? insn->imm
									    : insn->off) + 1;
		return 0;
	case BPF_EXIT:
		return v_check_exit(env, done);
	case BPF_CALL:
		if (insn->src_reg == BPF_PSEUDO_CALL)
			return v_check_func_call(env, insn);
		if (insn->src_reg == 0 && insn->imm == BPF_FUNC_loop)
			return v_check_loop_call(env, insn);
		if (v_check_helper_call(env, insn))
			return env->err ? env->err : -EINVAL;
		env->insn_idx++;
		return 0;
	default:
		return check_cond_jmp(env, insn, done);
	}
}

/*
 * Walk one instruction: update the current state and set env->insn_idx to
 * the next instruction. *done is set when the path ends.
 */
int v_do_insn(struct venv *env, bool *done)
{
	const struct bpf_insn *insn = &env->insns[env->insn_idx];
	int err;

	*done = false;
	switch (SL_OP_CLASS(insn->code)) {
	case BPF_ALU:
	case BPF_ALU64:
		err = check_alu(env, insn);
		break;
	case BPF_LDX:
		err = check_ldx(env, insn);
		break;
	case BPF_ST:
	case BPF_STX:
		err = check_store(env, insn);
		break;
	case BPF_LD:
		if (sl_isa_is_lddw(insn)) {
			err = check_lddw(env, insn);
			env->insn_idx++;
		} else {
			err = v_check_ld_abs(env, insn);
		}
		break;
	default:
		return check_jmp(env, insn, done);
	}
	env->insn_idx++;
	return err;
}
