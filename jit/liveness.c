/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Dead-code elimination for the JIT (control thread, after peephole.c).
 *
 * Backward liveness of r0-r9 over the instruction graph, computed on the
 * program as the JIT will emit it (fused groups use and define what their
 * x86 code uses and defines; absorbed instructions do nothing). An
 * instruction that only computes a register (ALU, LDX, lddw: no side
 * effect, and loads of a verified program cannot fault) whose result is
 * never read is not emitted: the halves clang leaves after the fused
 * rotates and byte-wise loads, and dead values in general.
 *
 *   exit:            uses r0 (a function's r6-r9 go back to its caller
 *                    through pops, so only r0 leaves it)
 *   helper / local call, tail call, LD_ABS/LD_IND:
 *                    use r1-r5 (and r6 for LD_ABS), define r0, clobber r1-r5
 *   stores, atomics: use their registers; never removed
 */
#include <stdlib.h>
#include <string.h>

#include "jit_internal.h"

#define R(n) ((uint16_t)(1u << (n)))
#define ARGS (R(1) | R(2) | R(3) | R(4) | R(5))

struct du {
	uint16_t use, def;
	bool pure;   /* removable when def is dead */
};

static bool is_call_like(const struct bpf_insn *in)
{
	uint8_t cls = SL_OP_CLASS(in->code);

	return in->code == (BPF_JMP | BPF_CALL) ||
	       (cls == BPF_LD && (SL_OP_MODE(in->code) == BPF_ABS || SL_OP_MODE(in->code) == BPF_IND));
}

static struct du du_alu(const struct bpf_insn *in, uint8_t fuse)
{
	uint8_t op = SL_OP_CODE(in->code);
	struct du d = { 0, R(in->dst_reg), true };

	if (fuse == JIT_FUSE_BE16_HI || fuse == JIT_FUSE_BE16_LO ||
	    fuse == JIT_FUSE_MOV_SWAP16 || fuse == JIT_FUSE_MOV_ZEXT || fuse == JIT_FUSE_MOV_MOVZX)
		return (struct du){ R(in->src_reg), R(in->dst_reg), false };
	if (fuse == JIT_FUSE_SETCC_ZERO)
		return (struct du){ 0, R(in->dst_reg), false };
	if (fuse == JIT_FUSE_MOV_ADD)                /* rD = rS + imm|rT */
		return (struct du){ R(in->src_reg) | (SL_OP_SRC(in[1].code) == BPF_X ?
						      R(in[1].src_reg) : 0), R(in->dst_reg), false };
	if (op != BPF_MOV || fuse)      /* fused groups read their destination */
		d.use |= R(in->dst_reg);
	if (SL_OP_SRC(in->code) == BPF_X && op != BPF_END && fuse != JIT_FUSE_ROL &&
	    fuse != JIT_FUSE_LEA && fuse != JIT_FUSE_ZEXT && fuse != JIT_FUSE_MASK_SHR &&
	    fuse != JIT_FUSE_ALU_K)
		d.use |= R(in->src_reg);
	if (fuse && fuse != JIT_FUSE_MASK_SHR && fuse != JIT_FUSE_ALU_K)   /* these compute rX from rX */
		d.pure = false;
	return d;
}

static struct du du_jmp(const struct sl_prog *p, uint32_t pc, const uint8_t *fuse_all)
{
	uint8_t fuse = fuse_all[pc];
	const struct bpf_insn *in = &p->insns[pc];
	uint8_t op = SL_OP_CODE(in->code);
	struct du d = { 0, 0, false };

	if (op == BPF_EXIT)
		return (struct du){ R(0), 0, false };
	if (op == BPF_CALL && fuse == JIT_FUSE_INLINE_CALL)
		return (struct du){ R(2), R(0) | ARGS, false };   /* inlined lookup: key only */
	if (op == BPF_CALL)
		return (struct du){ ARGS, R(0) | ARGS, false };
	if (op == BPF_JA)
		return d;
	d.use = R(in->dst_reg);
	if (SL_OP_SRC(in->code) == BPF_X)
		d.use |= R(in->src_reg);
	if (fuse == JIT_FUSE_CMP_K || fuse == JIT_FUSE_CMP_K32) {   /* not read: an immediate */
		bool swapped;

		jit_cmp_k(p, fuse_all, pc, &swapped);
		d.use = R(swapped ? in->src_reg : in->dst_reg);
	}
	if (fuse == JIT_FUSE_SETCC) {   /* rC = cond: reads rC's zero (the xor before) */
		d.use |= R(in[1].dst_reg);
		d.def = R(in[1].dst_reg);
	}
	if (fuse == JIT_FUSE_CMOV || fuse == JIT_FUSE_CMOV_JT) {  /* rX = imm|rY unless taken */
		const struct bpf_insn *mv = in + 1;

		d.use |= R(mv->dst_reg);
		if (SL_OP_SRC(mv->code) == BPF_X)
			d.use |= R(mv->src_reg);
		d.def = R(mv->dst_reg);
	}
	return d;
}

/* Registers instruction @p pc reads and writes, and whether it may go when unused. */
static struct du def_use(const struct sl_prog *p, uint32_t pc, const uint8_t *fuse)
{
	const struct bpf_insn *in = &p->insns[pc];
	uint8_t cls = SL_OP_CLASS(in->code), mode = SL_OP_MODE(in->code);

	if (fuse[pc] == JIT_FUSE_DROP || fuse[pc] == JIT_FUSE_NOP)
		return (struct du){ 0, 0, false };
	switch (cls) {
	case BPF_ALU:
	case BPF_ALU64:
		return du_alu(in, fuse[pc]);
	case BPF_JMP:
	case BPF_JMP32:
		return du_jmp(p, pc, fuse);
	case BPF_LDX:
		if (fuse[pc] == JIT_FUSE_LOAD_IDX || fuse[pc] == JIT_FUSE_LOAD_RR) {   /* fuse_mem.c */
			uint8_t arg = fuse[p->n_insns + pc];

			return (struct du){ (uint16_t)(R(arg >> 4) | (fuse[pc] == JIT_FUSE_LOAD_RR ?
						       R(arg & 15) : R(in->src_reg))),
					    R(in->dst_reg), false };
		}
		if (fuse[pc])
			return (struct du){ R(in->src_reg), R(in->dst_reg), false };
		return (struct du){ R(in->src_reg), R(in->dst_reg), true };
	case BPF_ST:
		return (struct du){ R(in->dst_reg), 0, false };
	case BPF_STX:
		if (fuse[pc] == JIT_FUSE_ST_K)          /* the constant is an immediate */
			return (struct du){ R(in->dst_reg), 0, false };
		if (mode != BPF_ATOMIC)
			return (struct du){ R(in->dst_reg) | R(in->src_reg), 0, false };
		if (in->imm == BPF_CMPXCHG)
			return (struct du){ R(in->dst_reg) | R(in->src_reg) | R(0), R(0), false };
		return (struct du){ R(in->dst_reg) | R(in->src_reg),
				    (in->imm & BPF_FETCH) ? R(in->src_reg) : 0, false };
	case BPF_LD:
		if (sl_isa_is_lddw(in))
			return (struct du){ 0, R(in->dst_reg), true };
		return (struct du){ ARGS | R(6) | (mode == BPF_IND ? R(in->src_reg) : 0),
				    R(0) | ARGS, false };
	}
	return (struct du){ 0x7ff, 0, false };
}

void jit_def_use(const struct sl_prog *p, uint32_t pc, const uint8_t *fuse, uint16_t *use,
		 uint16_t *def)
{
	struct du d = def_use(p, pc, fuse);

	*use = d.use;
	*def = d.def;
}

/* Jump target of @p pc, or -1 when it has none. */
static int64_t jump_target(const struct bpf_insn *in, uint32_t pc)
{
	uint8_t cls = SL_OP_CLASS(in->code), op = SL_OP_CODE(in->code);

	if ((cls != BPF_JMP && cls != BPF_JMP32) || op == BPF_CALL || op == BPF_EXIT)
		return -1;
	return (int64_t)pc + 1 + (cls == BPF_JMP32 && op == BPF_JA ? in->imm : in->off);
}

/* live[pc] = registers live after pc; iterate to a fixed point (loops converge). */
static void solve(const struct sl_prog *p, const struct du *du, const uint32_t *next,
		  uint16_t *live_out)
{
	uint16_t *live_in = calloc(p->n_insns + 1, sizeof(uint16_t));
	bool changed = true;

	if (!live_in) {
		for (uint32_t pc = 0; pc < p->n_insns; pc++)
			live_out[pc] = 0x3ff;   /* no memory: everything live, nothing removed */
		return;
	}
	while (changed) {
		changed = false;
		for (uint32_t i = p->n_insns; i-- > 0;) {
			const struct bpf_insn *in = &p->insns[i];
			uint8_t cls = SL_OP_CLASS(in->code), op = SL_OP_CODE(in->code);
			bool jmp = cls == BPF_JMP || cls == BPF_JMP32;
			bool stop = jmp && (op == BPF_EXIT || op == BPF_JA);  /* no fall-through */
			int64_t t = jump_target(in, i);
			uint16_t out = 0, in_set;

			if (!stop && next[i] <= p->n_insns)
				out = live_in[next[i]];
			if (t >= 0 && t <= p->n_insns)
				out |= live_in[t];
			in_set = du[i].use | (uint16_t)(out & ~du[i].def);
			if (out != live_out[i] || in_set != live_in[i]) {
				live_out[i] = out;
				live_in[i] = in_set;
				changed = true;
			}
		}
	}
	free(live_in);
}

uint8_t *jit_dead_code(const struct sl_prog *p, const uint8_t *fuse, uint16_t **live_out)
{
	struct du *du = calloc(p->n_insns, sizeof(*du));
	uint32_t *next = calloc(p->n_insns, sizeof(*next));
	uint16_t *live = calloc(p->n_insns, sizeof(*live));
	uint8_t *dead = calloc(p->n_insns, 1);

	if (!du || !next || !live || !dead) {
		free(dead);
		dead = NULL;
		goto out;
	}
	for (uint32_t pc = 0; pc < p->n_insns; pc++) {
		bool lddw = sl_isa_is_lddw(&p->insns[pc]);

		du[pc] = def_use(p, pc, fuse);
		next[pc] = pc + (lddw ? 2 : 1);
		if (is_call_like(&p->insns[pc]))
			du[pc].pure = false;
		if (lddw && pc + 1 < p->n_insns) {
			pc++;
			du[pc] = (struct du){ 0, 0, false };
			next[pc] = pc + 1;
		}
	}
	/* removing a dead instruction can kill what fed it: a few rounds */
	for (int round = 0; round < 8; round++) {
		bool more = false;

		memset(live, 0, p->n_insns * sizeof(*live));
		solve(p, du, next, live);
		for (uint32_t pc = 0; pc < p->n_insns; pc++) {
			if (!du[pc].pure || !du[pc].def || (du[pc].def & live[pc]))
				continue;
			dead[pc] = 1;
			du[pc] = (struct du){ 0, 0, false };
			more = true;
		}
		if (!more)
			break;
	}
out:
	free(du);
	free(next);
	if (live_out && dead)
		*live_out = live;
	else
		free(live);
	return dead;
}

/*
 * ---- upper halves: which registers' bits 32-63 are read later ----
 *
 * A backward demand analysis on the program as written (no fusions):
 * hi[pc] = registers whose upper half some later instruction may read.
 * add, sub, mul, and, or, xor, neg, lsh and mov compute the low half of
 * their result from the low halves of their operands, so they read their
 * operands' upper halves only when their own result's upper half is read;
 * a left shift by 32 or more never does. 32-bit operations, 32-bit jumps
 * and stores of at most 4 bytes read no upper half; right shifts, div,
 * mod, 64-bit byte swaps, 64-bit jumps, addresses, calls (r1-r5) and
 * exit (r0) read them. peephole.c uses it: where a result's upper half is
 * never read, a 32-bit form may leave garbage there (v1's 32-bit rotates)
 * and a zero extension has nothing to do. With @p fuse, a fused
 * instruction is taken to read all of its registers (a rol brings the
 * upper half down): so computed, it also picks the 64-bit operations the
 * JIT may emit as 32-bit ones (jit_low_only()).
 */
static uint16_t hi_use(const struct bpf_insn *in, uint16_t out, bool small_mask)
{
	uint8_t cls = SL_OP_CLASS(in->code), op = SL_OP_CODE(in->code), mode = SL_OP_MODE(in->code);
	uint16_t d = R(in->dst_reg), s = R(in->src_reg), x = SL_OP_SRC(in->code) == BPF_X ? s : 0;

	switch (cls) {
	case BPF_ALU:
		return op == BPF_END && in->imm == 64 ? d : 0;
	case BPF_ALU64:
		switch (op) {
		case BPF_MOV:
			return in->off == 0 && (out & d) ? x : 0;   /* movsx reads low bytes only */
		case BPF_AND:
			if (small_mask)                     /* the result's upper half is zero */
				return x;
			break;
		case BPF_LSH:
			if (SL_OP_SRC(in->code) == BPF_K && (in->imm & 63) >= 32)   /* count mod 64 */
				return 0;
			/* fall through */
		}
		if (op == BPF_ADD || op == BPF_SUB || op == BPF_MUL || op == BPF_AND ||
		    op == BPF_OR || op == BPF_XOR || op == BPF_NEG || op == BPF_LSH)
			return (out & d) ? (uint16_t)(d | (op == BPF_LSH ? 0 : x)) : 0;
		return (uint16_t)(d | x);               /* rsh, arsh, div, mod, end */
	case BPF_LDX:
		return s;
	case BPF_ST:
		return d;
	case BPF_STX:
		if (mode == BPF_ATOMIC)
			return (uint16_t)(d | s | R(0));
		return (uint16_t)(d | (SL_OP_SIZE(in->code) == BPF_DW ? s : 0));
	case BPF_LD:
		if (sl_isa_is_lddw(in))
			return 0;
		return (uint16_t)(R(6) | s);
	case BPF_JMP:
		if (op == BPF_EXIT)
			return R(0);
		if (op == BPF_CALL)
			return ARGS;
		if (op == BPF_JA)
			return 0;
		return (uint16_t)(d | x);
	case BPF_JMP32:
		return 0;
	}
	return 0x7ff;
}

/* Registers instruction @p in writes entirely (its old upper half is dead). */
static uint16_t hi_kill(const struct bpf_insn *in)
{
	uint8_t cls = SL_OP_CLASS(in->code), op = SL_OP_CODE(in->code);

	if (cls == BPF_ALU || cls == BPF_ALU64 || cls == BPF_LDX)
		return R(in->dst_reg);
	if (cls == BPF_LD)
		return sl_isa_is_lddw(in) ? R(in->dst_reg) : (uint16_t)(R(0) | ARGS);
	if (cls == BPF_JMP && op == BPF_CALL)
		return (uint16_t)(R(0) | ARGS);
	return 0;
}

/* Is @p in a 64-bit AND with a mask below 2^32 (an immediate, or a constant register)? */
static bool is_small_mask(const struct sl_prog *p, const uint8_t *targets, uint32_t pc)
{
	const struct bpf_insn *in = &p->insns[pc];
	uint64_t v;

	if (SL_OP_CLASS(in->code) != BPF_ALU64 || SL_OP_CODE(in->code) != BPF_AND)
		return false;
	if (SL_OP_SRC(in->code) == BPF_K)
		return in->imm >= 0;
	return in->src_reg != in->dst_reg && jit_const_before(p, targets, pc, in->src_reg, &v) &&
	       v <= UINT32_MAX;
}

/* "rX <<= 32; rX >>= 32" at @p pc, no jump landing between (peephole.c's ZEXT). */
static bool is_zext(const struct sl_prog *p, const uint8_t *targets, uint32_t pc)
{
	const struct bpf_insn *w = &p->insns[pc];

	return w[0].code == (BPF_ALU64 | BPF_LSH | BPF_K) && w[0].imm == 32 &&
	       w[1].code == (BPF_ALU64 | BPF_RSH | BPF_K) && w[1].imm == 32 &&
	       w[1].dst_reg == w[0].dst_reg && !targets[pc + 1];
}

uint16_t *jit_hi_live(const struct sl_prog *p, const uint8_t *targets, const uint8_t *fuse)
{
	uint16_t *zero;
	uint16_t *out = calloc(p->n_insns + 1, sizeof(uint16_t));
	uint16_t *in_set = calloc(p->n_insns + 1, sizeof(uint16_t));
	uint8_t *small = calloc(p->n_insns + 1, 1);
	bool changed = true;

	if (!out || !in_set || !small) {
		free(out);
		free(in_set);
		free(small);
		return NULL;
	}
	for (uint32_t i = 0; i < p->n_insns; i++)
		small[i] = is_small_mask(p, targets, i);
	zero = jit_hi_zero(p);
	for (uint32_t i = 0; zero && i + 1 < p->n_insns; i++)
		if (is_zext(p, targets, i) && (zero[i] & R(p->insns[i].dst_reg)))
			small[i] = 2;                   /* emitted as nothing: reads the upper half */
	while (changed) {
		changed = false;
		for (uint32_t i = p->n_insns; i-- > 0;) {
			const struct bpf_insn *in = &p->insns[i];
			uint8_t cls = SL_OP_CLASS(in->code), op = SL_OP_CODE(in->code);
			bool stop = (cls == BPF_JMP || cls == BPF_JMP32) && (op == BPF_EXIT || op == BPF_JA);
			uint32_t next = i + 1;
			int64_t t = jump_target(in, i);
			uint16_t o = 0, n;

			if (i > 0 && sl_isa_is_lddw(&p->insns[i - 1]))
				continue;                       /* second half of an lddw */
			if (sl_isa_is_lddw(in))
				next = i + 2;
			if (!stop && next <= p->n_insns)
				o = in_set[next];
			if (t >= 0 && t <= p->n_insns)
				o |= in_set[t];
			n = (uint16_t)((o & ~hi_kill(in)) | hi_use(in, o, small[i] == 1));
			if (small[i] == 2)
				n |= R(in->dst_reg);
			if (fuse && fuse[i] && fuse[i] != JIT_FUSE_DROP && fuse[i] != JIT_FUSE_NOP)
				n |= (uint16_t)(R(in->dst_reg) | R(in->src_reg));   /* fused: may read all */
			if (o != out[i] || n != in_set[i]) {
				out[i] = o;
				in_set[i] = n;
				changed = true;
			}
		}
	}
	free(in_set);
	free(small);
	free(zero);
	return out;
}

/*
 * ---- upper halves known to be zero (forward) ----
 *
 * kz[pc] = registers whose upper 32 bits are zero before instruction pc
 * on every path, on the program as written: 32-bit results, loads of at
 * most 4 bytes, small constants, right shifts by 32 or more, ANDs with a
 * small mask, copies, unsigned div/mod, ORs and XORs of such values, left
 * shifts by at most 16 of a value below 2^16 (jit_fits()). jit.c divides such
 * a value by a constant in 32 bits. Sound on the emitted code where the
 * upper half is read (a div reads it): fusions only leave other upper
 * halves than the program's where nobody reads them.
 */
static uint16_t kz_step(const struct bpf_insn *in, uint16_t kz, unsigned bits, uint16_t f8)
{
	(void)bits;
	uint8_t cls = SL_OP_CLASS(in->code), op = SL_OP_CODE(in->code);
	uint16_t d = R(in->dst_reg), s = R(in->src_reg);
	bool k = SL_OP_SRC(in->code) == BPF_K, z = false;

	switch (cls) {
	case BPF_ALU:
		z = !(op == BPF_END && in->imm == 64);
		break;
	case BPF_ALU64:
		if (op == BPF_MOV)
			z = in->off == 0 && (k ? in->imm >= 0 : (kz & s) != 0);
		else if (op == BPF_AND)
			z = (kz & d) || (k ? in->imm >= 0 : (kz & s) != 0);
		else if (op == BPF_RSH)
			z = (kz & d) || (k && (in->imm & 63) >= 32);
		else if ((op == BPF_DIV || op == BPF_MOD) && in->off == 0)
			z = (kz & d) != 0;
		else if (op == BPF_END)
			z = in->imm != 64;
		else if (op == BPF_OR || op == BPF_XOR)
			z = (kz & d) && (k ? in->imm >= 0 : (kz & s) != 0);
		else if (op == BPF_LSH)         /* f8 here: the registers below 2^16 */
			z = k && in->imm >= 0 && in->imm <= 16 && (f8 & d);
		break;
	case BPF_LDX:
		z = SL_OP_MODE(in->code) == BPF_MEM && SL_OP_SIZE(in->code) != BPF_DW;
		break;
	case BPF_LD:
		if (sl_isa_is_lddw(in))
			z = in->src_reg == 0 && in[1].imm == 0;
		break;
	}
	kz = (uint16_t)(kz & ~hi_kill(in));
	if (cls == BPF_STX && SL_OP_MODE(in->code) == BPF_ATOMIC)
		kz = (uint16_t)(kz & ~(s | R(0)));            /* fetch and cmpxchg write these */
	return z ? (uint16_t)(kz | d) : kz;
}

/*
 * The forward "on every path" solver of jit_hi_zero() and jit_fits(): a set of
 * registers per instruction, nothing known at function entries (the
 * program's, bpf-to-bpf callees', callbacks'), everything elsewhere at
 * first, narrowed by @p step along fall-throughs and jumps to a fixed
 * point. @p f8 (or NULL) is handed to @p step per instruction: the
 * registers known to fit in 8 bits there. NULL when out of memory.
 */
static uint16_t *forward_all_paths(const struct sl_prog *p,
				   uint16_t (*step)(const struct bpf_insn *, uint16_t, unsigned, uint16_t),
				   unsigned bits, const uint16_t *f8)
{
	uint16_t *known = malloc((p->n_insns + 1) * sizeof(uint16_t));
	bool changed = true;

	if (!known)
		return NULL;
	for (uint32_t i = 0; i <= p->n_insns; i++)
		known[i] = 0x7ff;
	known[0] = 0;
	for (uint32_t i = 0; i < p->n_insns; i++) {          /* function entries: nothing known */
		const struct bpf_insn *in = &p->insns[i];
		int64_t t = (int64_t)i + 1 + in->imm;

		if (((in->code == (BPF_JMP | BPF_CALL) && in->src_reg == BPF_PSEUDO_CALL) ||
		     (sl_isa_is_lddw(in) && in->src_reg == BPF_PSEUDO_FUNC)) && t >= 0 && t < p->n_insns)
			known[t] = 0;
		if (sl_isa_is_lddw(in))
			i++;
	}
	while (changed) {
		changed = false;
		for (uint32_t i = 0; i < p->n_insns; i++) {
			const struct bpf_insn *in = &p->insns[i];
			uint8_t cls = SL_OP_CLASS(in->code), op = SL_OP_CODE(in->code);
			bool stop = (cls == BPF_JMP || cls == BPF_JMP32) && (op == BPF_EXIT || op == BPF_JA);
			uint32_t next = i + (sl_isa_is_lddw(in) ? 2 : 1);
			int64_t t = jump_target(in, i);
			uint16_t out = step(in, known[i], bits, f8 ? f8[i] : 0);

			if (!stop && next <= p->n_insns && (known[next] & out) != known[next]) {
				known[next] &= out;
				changed = true;
			}
			if (t >= 0 && t <= p->n_insns && (known[t] & out) != known[t]) {
				known[t] &= out;
				changed = true;
			}
			if (sl_isa_is_lddw(in))
				i++;
		}
	}
	return known;
}

uint16_t *jit_hi_zero(const struct sl_prog *p)
{
	uint16_t *f16 = jit_fits(p, 16), *kz;

	if (!f16)
		return NULL;
	kz = forward_all_paths(p, kz_step, 0, f16);
	free(f16);
	return kz;
}

/*
 * ---- values known to fit in 8 or 16 bits (forward) ----
 *
 * fits[pc] = registers whose value is below 2^bits before instruction pc
 * on every path, on the program as written: byte (and for 16, half-word)
 * loads, small constants, copies, ANDs with a small mask or of such a
 * value, right shifts of such a value, byte swaps to 16 bits (for 16), ORs and XORs of two such values and,
 * for 16, left shifts by at most 8 of a value that fits in 8 bits (@p f8:
 * a byte-wise le16/be16 load). Every one of these is emitted exactly (no
 * fusion leaves other bits in them once its group is done), so the JIT can
 * drop a later "&= 0xff|0xffff" of such a register (fuse_late.c).
 */
static uint16_t fits_step(const struct bpf_insn *in, uint16_t f, unsigned bits, uint16_t f8)
{
	uint8_t cls = SL_OP_CLASS(in->code), op = SL_OP_CODE(in->code);
	uint16_t d = R(in->dst_reg), s = R(in->src_reg);
	bool k = SL_OP_SRC(in->code) == BPF_K, small = in->imm >= 0 && in->imm < (1 << bits), z = false;

	if ((cls == BPF_ALU || cls == BPF_ALU64) && op == BPF_MOV && in->off == 0)
		z = k ? small : (f & s) != 0;
	else if ((cls == BPF_ALU || cls == BPF_ALU64) && op == BPF_AND)
		z = (f & d) || (k ? small : (f & s) != 0);
	else if ((cls == BPF_ALU || cls == BPF_ALU64) && op == BPF_RSH)
		z = (f & d) != 0;
	else if ((cls == BPF_ALU || cls == BPF_ALU64) && (op == BPF_OR || op == BPF_XOR))
		z = (f & d) && (k ? small : (f & s) != 0);
	else if ((cls == BPF_ALU || cls == BPF_ALU64) && op == BPF_LSH)
		z = k && in->imm >= 0 && in->imm <= (int32_t)bits - 8 && (f8 & d);
	else if (cls == BPF_LDX && SL_OP_MODE(in->code) == BPF_MEM)
		z = sl_isa_size_bytes(in->code) * 8 <= bits;
	else if (sl_isa_is_lddw(in))
		z = in->src_reg == 0 && in[1].imm == 0 && small;
	else if ((cls == BPF_ALU || cls == BPF_ALU64) && op == BPF_END)
		z = in->imm >= 0 && in->imm <= (int32_t)bits;   /* be16/le16/bswap16: 16 bits */
	f = (uint16_t)(f & ~hi_kill(in));
	if (cls == BPF_STX && SL_OP_MODE(in->code) == BPF_ATOMIC)
		f = (uint16_t)(f & ~(s | R(0)));
	return z ? (uint16_t)(f | d) : f;
}

uint16_t *jit_fits(const struct sl_prog *p, unsigned bits)
{
	uint16_t *f8 = bits > 8 ? jit_fits(p, 8) : NULL, *f;

	if (bits > 8 && !f8)
		return NULL;
	f = forward_all_paths(p, fits_step, bits, f8);
	free(f8);
	return f;
}
