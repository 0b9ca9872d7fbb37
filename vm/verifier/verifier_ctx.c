/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Context access: which fields of struct xdp_md / struct __sk_buff a program
 * may read or write, at which sizes, what the load yields (packet pointers
 * for xdp_md's data/data_end/data_meta), and the rewrite of XDP loads into
 * loads of struct sl_xdp_ctx (see the table in sl_vm.h). The rules are the
 * kernel's xdp_is_valid_access() and sk_filter_is_valid_access()
 * (egress_ifindex only in devmap programs, by section as libbpf sets the
 * expected attach type).
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "verifier_internal.h"

/* XDP: every field is a u32 read; none is writable. */
struct xdp_field {
	uint16_t off;        /* in struct xdp_md */
	uint8_t type;        /* what a load yields */
	uint8_t new_size;    /* BPF_W or BPF_DW in struct sl_xdp_ctx */
	uint16_t new_off;
};

static const struct xdp_field xdp_fields[] = {
	{ offsetof(struct xdp_md, data), V_PKT, BPF_DW, offsetof(struct sl_xdp_ctx, data) },
	{ offsetof(struct xdp_md, data_end), V_PKT_END, BPF_DW, offsetof(struct sl_xdp_ctx, data_end) },
	{ offsetof(struct xdp_md, data_meta), V_PKT_META, BPF_DW,
	  offsetof(struct sl_xdp_ctx, data_meta) },
	{ offsetof(struct xdp_md, ingress_ifindex), V_SCALAR, BPF_W,
	  offsetof(struct sl_xdp_ctx, ingress_ifindex) },
	{ offsetof(struct xdp_md, rx_queue_index), V_SCALAR, BPF_W,
	  offsetof(struct sl_xdp_ctx, rx_queue_index) },
	{ offsetof(struct xdp_md, egress_ifindex), V_SCALAR, BPF_W,
	  offsetof(struct sl_xdp_ctx, egress_ifindex) },
};

#define SKB_END(f) (offsetof(struct __sk_buff, f) + sizeof(((struct __sk_buff *)0)->f))
#define SKB_IN(off, f) ((off) >= offsetof(struct __sk_buff, f) && (off) < SKB_END(f))

/* __sk_buff ranges a socket filter may never touch. */
static bool skb_forbidden(uint32_t off)
{
	return SKB_IN(off, tc_classid) || SKB_IN(off, data) || SKB_IN(off, data_meta) ||
	       SKB_IN(off, data_end) || SKB_IN(off, flow_keys) || SKB_IN(off, tstamp) ||
	       SKB_IN(off, wire_len) || SKB_IN(off, hwtstamp) || SKB_IN(off, sk) ||
	       (off >= offsetof(struct __sk_buff, family) && off < SKB_END(local_port)) ||
	       (off >= offsetof(struct __sk_buff, tstamp_type) &&
		off < offsetof(struct __sk_buff, hwtstamp));
}

static bool skb_access_ok(uint32_t off, unsigned size, enum vaccess t)
{
	bool in_cb = off >= offsetof(struct __sk_buff, cb) && off < SKB_END(cb);

	if (off >= sizeof(struct __sk_buff) || off % size)
		return false;
	if (skb_forbidden(off))
		return false;
	if (in_cb)
		return off + size <= SKB_END(cb);
	if (t == ACC_WRITE)
		return false;
	/* narrow reads of a u32 field: the part must lie inside the field */
	return size <= 4 && (off & ~3u) + 4 >= off + size;
}

/*
 * The kernel's BPF_XDP_DEVMAP attach type (libbpf: sections xdp/devmap,
 * xdp.frags/devmap): the only XDP programs that may read egress_ifindex
 * (CPUMAP entry programs and plain XDP programs may not).
 */
static bool devmap_prog(const struct sl_prog *p)
{
	return !strcmp(p->section, "xdp/devmap") || !strcmp(p->section, "xdp.frags/devmap");
}

static int xdp_access(struct venv *env, uint32_t pc, int32_t off, unsigned size,
		      enum vaccess t, struct vreg *out)
{
	for (unsigned i = 0; i < sizeof(xdp_fields) / sizeof(xdp_fields[0]); i++) {
		if (xdp_fields[i].off != off)
			continue;
		if (size != 4 || t == ACC_WRITE ||
		    (off == offsetof(struct xdp_md, egress_ifindex) && !devmap_prog(env->prog)))
			break;
		env->ia[pc].ctx_field = (uint8_t)(i + 1);
		if (out) {
			if (xdp_fields[i].type == V_SCALAR) {
				v_reg_mark_unknown(out);
				v_reg_mark_sized(out, 4, false);
			} else {
				memset(out, 0, sizeof(*out));
				out->type = xdp_fields[i].type;
				out->var_off = v_tnum_const(0);
			}
		}
		return 0;
	}
	return v_err(env, -EACCES, "invalid bpf_context access off=%d size=%u", off, size);
}

/*
 * Access of @p size bytes at @p off of the context (the register's offset
 * already added) at insn @p pc. On success fills @p out (reads) with what
 * the load yields and records the field for the rewrite.
 */
int v_ctx_access(struct venv *env, uint32_t pc, int32_t off, unsigned size, enum vaccess t,
		 struct vreg *out)
{
	switch (env->prog->type) {
	case SL_PROG_XDP:
		return xdp_access(env, pc, off, size, t, out);
	case SL_PROG_SOCKET:
		if (off < 0 || !skb_access_ok((uint32_t)off, size, t))
			break;
		env->ia[pc].ctx_field = 1;
		if (out) {
			v_reg_mark_unknown(out);
			v_reg_mark_sized(out, size, false);
		}
		return 0;
	default:
		break;
	}
	return v_err(env, -EACCES, "invalid bpf_context access off=%d size=%u", off, size);
}

/*
 * After a successful walk: mark context accesses for the JIT and rewrite
 * XDP loads to the sl_xdp_ctx layout (same instruction count).
 */
void v_ctx_rewrite(struct venv *env)
{
	struct bpf_insn *insns = env->prog->insns;

	for (uint32_t pc = 0; pc < env->n; pc++) {
		uint8_t f = env->ia[pc].ctx_field;

		if (!f)
			continue;
		env->prog->aux[pc].ctx_access = 1;
		if (env->prog->type != SL_PROG_XDP)
			continue;
		const struct xdp_field *xf = &xdp_fields[f - 1];

		insns[pc].code = (uint8_t)(BPF_LDX | BPF_MEM | xf->new_size);
		insns[pc].off = (int16_t)xf->new_off;
	}
}
