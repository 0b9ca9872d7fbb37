/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Verifier log: the first error line ("pc 12: r0 = *(u32 *)(r2 +0): R2
 * invalid mem access 'scalar'") and, with SL_VERIFY_LOG_STATES, a trace of
 * every processed instruction with its register state in the kernel's log
 * level 2 syntax ("12: R0=scalar(umin=1,umax=4) R1=pkt(off=14,r=34) R10=fp0").
 * The trace stops when the caller's buffer is nearly full; room is kept for
 * the error line.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "sl_errlog.h"
#include "verifier_internal.h"

#define ERR_RESERVE 256

static const char *const type_names[V_NTYPES] = {
	[V_NOT_INIT] = "?",
	[V_SCALAR] = "scalar",
	[V_CTX] = "ctx",
	[V_PKT] = "pkt",
	[V_PKT_END] = "pkt_end",
	[V_PKT_META] = "pkt_meta",
	[V_STACK] = "fp",
	[V_MAP_VALUE] = "map_value",
	[V_MAP_VALUE_OR_NULL] = "map_value_or_null",
	[V_CONST_MAP] = "map_ptr",
	[V_MEM] = "mem",
	[V_MEM_OR_NULL] = "mem_or_null",
	[V_FUNC] = "func",
	[V_CONST_MAP_OR_NULL] = "map_ptr_or_null",
};

const char *v_vtype_str(enum vtype t)
{
	return t < V_NTYPES ? type_names[t] : "?";
}

static void log_vappend(struct venv *env, size_t reserve, const char *fmt, va_list ap)
{
	if (!env->log || env->log_len == 0)
		return;
	if (env->log_pos + reserve >= env->log_len) {
		env->log_full = true;
		return;
	}
	size_t room = env->log_len - env->log_pos - reserve;
	int n = vsnprintf(env->log + env->log_pos, room, fmt, ap);

	if (n < 0)
		return;
	if ((size_t)n >= room) {
		env->log_pos += room - 1;
		env->log_full = true;
	} else {
		env->log_pos += (size_t)n;
	}
}

void v_log(struct venv *env, const char *fmt, ...)
{
	va_list ap;

	if (!(env->flags & SL_VERIFY_LOG_STATES) || env->log_full)
		return;
	va_start(ap, fmt);
	log_vappend(env, ERR_RESERVE, fmt, ap);
	va_end(ap);
}

void v_insn_str(const struct venv *env, uint32_t pc, char *buf, size_t len)
{
	if (pc >= env->n) {
		snprintf(buf, len, "(end)");
		return;
	}
	sl_disasm_insn(&env->insns[pc], env->n - pc, buf, len);
}

/* The error line goes after the trace (on a line of its own), in the room
 * the trace left for it; sl_errlog_vset keeps the first error only. */
static int err_common(struct venv *env, bool with_pc, uint32_t pc, int err,
		      const char *fmt, va_list ap)
{
	struct sl_errlog lg = { .buf = env->log, .len = env->log_len, .err = env->err };
	bool at = with_pc && pc < env->n;
	char insn[96], where[128] = "";

	if (!env->err && env->log && env->log_len) {
		if (env->log_pos && env->log_pos < env->log_len &&
		    env->log[env->log_pos - 1] != '\n')
			env->log[env->log_pos++] = '\n';
		if (env->log_pos >= env->log_len)
			env->log_pos = env->log_len > ERR_RESERVE ? env->log_len - ERR_RESERVE : 0;
		if (at) {
			v_insn_str(env, pc, insn, sizeof(insn));
			snprintf(where, sizeof(where), "pc %u: %s", pc, insn);
		}
		lg.pos = env->log_pos;
	}
	err = sl_errlog_vset(&lg, err, at ? where : NULL, fmt, ap);
	env->log_pos = lg.pos;
	env->err = lg.err;
	return err;
}

/* Error at the instruction being walked. Returns @p err. */
int v_err(struct venv *env, int err, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = err_common(env, env->cur != NULL, env->insn_idx, err, fmt, ap);
	va_end(ap);
	return r;
}

/* Error at instruction @p pc (CFG pass). Returns @p err. */
int v_err_at(struct venv *env, uint32_t pc, int err, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = err_common(env, true, pc, err, fmt, ap);
	va_end(ap);
	return r;
}

static int scalar_str(char *buf, size_t len, const struct vreg *r)
{
	char t[64];
	int n;

	if (v_tnum_is_const(r->var_off))
		return snprintf(buf, len, "%" PRId64, (int64_t)r->var_off.value);
	n = snprintf(buf, len, "(");
#define ADD(...) do { if ((size_t)n < len) n += snprintf(buf + n, len - (size_t)n, __VA_ARGS__); } while (0)
	if (r->smin != INT64_MIN)
		ADD("smin=%" PRId64 ",", r->smin);
	if (r->smax != INT64_MAX)
		ADD("smax=%" PRId64 ",", r->smax);
	if (r->umin)
		ADD("umin=%" PRIu64 ",", r->umin);
	if (r->umax != UINT64_MAX)
		ADD("umax=%" PRIu64 ",", r->umax);
	if (r->s32min != INT32_MIN)
		ADD("smin32=%d,", r->s32min);
	if (r->s32max != INT32_MAX)
		ADD("smax32=%d,", r->s32max);
	if (r->u32min)
		ADD("umin32=%u,", r->u32min);
	if (r->u32max != UINT32_MAX)
		ADD("umax32=%u,", r->u32max);
	if (r->var_off.mask != UINT64_MAX) {
		v_tnum_str(t, sizeof(t), r->var_off);
		ADD("var_off=%s,", t);
	}
	if (r->id)
		ADD("id=%u,", r->id);
	if ((size_t)n < len && buf[n - 1] == ',')
		n--;
	ADD(")");
#undef ADD
	return n;
}

/* "pkt(id=0,off=14,r=34)", "scalar(umax=255,var_off=(0x0; 0xff))", "fp-8". */
int v_reg_str(char *buf, size_t len, const struct vreg *r)
{
	char var[96] = "";

	if (r->type == V_SCALAR) {
		int n;

		if (v_tnum_is_const(r->var_off))
			return scalar_str(buf, len, r);
		n = snprintf(buf, len, "scalar");
		if (n < 0 || (size_t)n >= len)
			return n;
		return n + scalar_str(buf + n, len - (size_t)n, r);
	}
	if (!v_tnum_is_const(r->var_off) || r->var_off.value)
		v_tnum_str(var, sizeof(var), r->var_off);
	switch (r->type) {
	case V_STACK:
		if (var[0])
			return snprintf(buf, len, "fp(off=%d,var_off=%s)", r->off, var);
		return snprintf(buf, len, "fp%d", r->off);
	case V_PKT:
	case V_PKT_META:
		return snprintf(buf, len, "%s(id=%u,off=%d,r=%u%s%s)", v_vtype_str(r->type), r->id, r->off,
				r->range, var[0] ? ",var_off=" : "", var);
	case V_MAP_VALUE:
	case V_MAP_VALUE_OR_NULL:
	case V_MEM:
	case V_MEM_OR_NULL:
		return snprintf(buf, len, "%s(id=%u,off=%d%s%s)", v_vtype_str(r->type), r->id, r->off,
				var[0] ? ",var_off=" : "", var);
	default:
		if (r->off || var[0])
			return snprintf(buf, len, "%s(off=%d%s%s)", v_vtype_str(r->type), r->off,
					var[0] ? ",var_off=" : "", var);
		return snprintf(buf, len, "%s", v_vtype_str(r->type));
	}
}

static void log_frame(struct venv *env, const struct vframe *f, bool inner)
{
	char buf[256];

	for (unsigned i = 0; i < SL_NREGS; i++) {
		if (f->regs[i].type == V_NOT_INIT)
			continue;
		v_reg_str(buf, sizeof(buf), &f->regs[i]);
		v_log(env, " R%u=%s", i, buf);
	}
	for (uint32_t k = 0; k < f->nslots; k++) {
		const struct vslot *s = &f->stack[k];
		char t[9];
		bool any = false;

		for (unsigned j = 0; j < 8; j++) {
			static const char kind[] = "?mzr";

			t[7 - j] = kind[s->type[j] & 3];
			any |= s->type[j] != SLOT_INVALID;
		}
		t[8] = 0;
		if (!any)
			continue;
		if (s->type[0] == SLOT_SPILL) {
			v_reg_str(buf, sizeof(buf), &s->spill);
			v_log(env, " fp%d=%s", -8 * (int)(k + 1), buf);
		} else {
			v_log(env, " fp%d=%s", -8 * (int)(k + 1), t);
		}
	}
	(void)inner;
}

/* One trace line: "12: (r0 = ...) R0=... R10=fp0". */
void v_log_state(struct venv *env, uint32_t pc)
{
	char insn[96];

	if (!(env->flags & SL_VERIFY_LOG_STATES) || env->log_full)
		return;
	v_insn_str(env, pc, insn, sizeof(insn));
	v_log(env, "%u: (%s)", pc, insn);
	for (uint32_t i = 0; i <= env->cur->curframe; i++) {
		if (env->cur->curframe)
			v_log(env, " frame%u:", i);
		log_frame(env, env->cur->frames[i], i == env->cur->curframe);
	}
	v_log(env, "\n");
}
