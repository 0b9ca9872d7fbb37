// SPDX-License-Identifier: BSD-3-Clause
/*
 * bpf_loop driven by the packet, for the kernel differential test
 * (maps/tests/test_loop_kdiff.c). Input: struct req. Output, over the
 * request: the helper's result, the callbacks' sum, the number of calls
 * counted in a global, the nested loops' product. Verdict XDP_TX.
 * The programs after "loop_req" must be refused by both verifiers.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct req {
	__u64 nr;       /* nr_loops (the helper takes the low 32 bits) */
	__u64 flags;
	__u32 stop;     /* the callback returns 1 at this index */
	__u32 mode;     /* 0: ctx on the stack, 1: NULL ctx, 2: nested loops, 3: packet walk */
};

struct out {
	__s64 ret;
	__u64 sum;
	__u64 calls;
	__u64 inner;
};

struct loop_ctx {
	__u64 sum;
	__u32 stop;
	__u32 inner_nr;
	__u64 inner;
};

__u64 calls;

struct pkt_ctx {
	void *data, *end;
	__u64 calls, sum;
	__u32 limit;    /* calls at most */
	__u8 seen[16];
};

/* sums packet bytes from offset 24 on, one per call, through pointers kept in the context */
static int pkt_cb(__u32 i, void *data)
{
	struct pkt_ctx *c = data;
	__u8 *p = (__u8 *)c->data + 24 + (i & 0x3ff);

	if (i >= c->limit)
		return 1;
	if ((void *)(p + 1) > c->end)
		return 1;
	c->sum += *p;
	c->seen[i & 15] = *p ^ 0x5a;
	c->calls++;
	return 0;
}

static int sum_cb(__u32 i, void *data)
{
	struct loop_ctx *c = data;

	c->sum += i * 3 + 1;
	return i == c->stop;
}

static int count_cb(__u32 i, void *data)
{
	calls++;
	return 0;
}

static int inner_cb(__u32 i, void *data)
{
	((struct loop_ctx *)data)->inner += i + 1;
	return 0;
}

static int outer_cb(__u32 i, void *data)
{
	struct loop_ctx *c = data;

	bpf_loop(c->inner_nr, inner_cb, c, 0);
	c->sum += i;
	return 0;
}

SEC("xdp")
int loop_req(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct req *r = data;
	struct out *o = data;
	struct loop_ctx c = { 0 };
	__u64 nr, flags;
	__u32 mode;
	long ret;

	if (data + sizeof(struct out) > end)
		return XDP_ABORTED;
	nr = r->nr;
	flags = r->flags;
	c.stop = r->stop;
	mode = r->mode;
	calls = 0;
	if (mode == 3) {
		struct pkt_ctx pc = { .data = data, .end = end, .limit = 40 };
		__u64 x = 0;

		o->ret = bpf_loop(nr, pkt_cb, &pc, flags);
		o->sum = pc.sum;
		o->calls = pc.calls;
		for (int k = 0; k < 16; k++)
			x = x * 31 + pc.seen[k];
		o->inner = x;
		return XDP_TX;
	}
	if (mode == 1) {
		ret = bpf_loop(nr, count_cb, NULL, flags);
	} else if (mode == 2) {
		c.inner_nr = (__u32)nr & 15;
		ret = bpf_loop(nr & 31, outer_cb, &c, flags);
	} else {
		ret = bpf_loop(nr, sum_cb, &c, flags);
	}
	o->ret = ret;
	o->sum = c.sum;
	o->calls = calls;
	o->inner = c.inner;
	return XDP_TX;
}

static int bad_ret_cb(__u32 i, void *data)
{
	return 2;
}

/* the callback returns 2: outside [0, 1] */
SEC("xdp")
int loop_bad_ret(struct xdp_md *ctx)
{
	return bpf_loop(4, bad_ret_cb, NULL, 0) > 0 ? XDP_PASS : XDP_DROP;
}

struct walk_ctx {
	__u8 buf[16];
	__u64 off;
};

static int walk_cb(__u32 i, void *data)
{
	struct walk_ctx *w = data;

	/* safe at the first call only: off grows by 8 with every call */
	w->buf[w->off & 0xff] = 1;
	w->off += 8;
	return 0;
}

/* a verifier that checked the callback once, from the first call's state, would accept this */
SEC("xdp")
int loop_grows(struct xdp_md *ctx)
{
	struct walk_ctx w = { .off = 0 };

	bpf_loop(8, walk_cb, &w, 0);
	return w.buf[0] ? XDP_PASS : XDP_DROP;
}

/* bpf_loop inside a loop that never ends: must be refused all the same */
SEC("xdp")
int loop_forever(struct xdp_md *ctx)
{
	struct loop_ctx c = { 0 };

	for (;;)
		bpf_loop(2, sum_cb, &c, 0);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
