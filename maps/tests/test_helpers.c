/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The helper table (vm/helpers.c): ids, prototypes and program types as
 * the kernel declares them, and each implementation called through the
 * table as the interpreter calls it, with the kernel's documented results.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sl_helpers.h"
#include "sl_maps.h"
#include "sl_test.h"

#define PT(t) (1u << (t))

static uint64_t call(uint32_t id, uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e)
{
	const struct sl_helper *h = sl_helper_get(id);

	return h ? h->fn(a, b, c, d, e) : 0xdeadull;
}

#define P(x) ((uint64_t)(uintptr_t)(x))

static void test_table(void)
{
	const struct sl_helper *h = sl_helper_get(BPF_FUNC_map_lookup_elem);
	static const uint32_t ids[] = {1, 2, 3, 5, 6, 7, 8, 12, 23, 26, 44, 51, 54, 65, 125,
				       130, 131, 132, 133, 134, 160, 188, 189, 190, 195};

	CHECK(h && !strcmp(h->name, "bpf_map_lookup_elem"));
	CHECK(h->ret == SL_RET_PTR_TO_MAP_VALUE_OR_NULL);
	CHECK(h->args[0] == SL_ARG_CONST_MAP_PTR && h->args[1] == SL_ARG_PTR_TO_MAP_KEY &&
	      h->args[2] == SL_ARG_NONE);
	h = sl_helper_get(BPF_FUNC_map_update_elem);
	CHECK(h->args[2] == SL_ARG_PTR_TO_MAP_VALUE && h->args[3] == SL_ARG_ANYTHING &&
	      h->ret == SL_RET_INTEGER);
	for (unsigned i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
		CHECK(sl_helper_get(ids[i]) != NULL);
	CHECK(sl_helper_get(4) == NULL);            /* probe_read: not provided */
	CHECK(sl_helper_get(SL_HELPER_MAX) == NULL);
	CHECK(sl_helper_get(UINT32_MAX) == NULL);
	h = sl_helper_get(BPF_FUNC_skb_load_bytes);
	CHECK(h->prog_types == PT(SL_PROG_SOCKET));
	CHECK(h->args[0] == SL_ARG_PTR_TO_CTX && h->args[2] == SL_ARG_PTR_TO_UNINIT_MEM &&
	      h->args[3] == SL_ARG_CONST_SIZE);
	CHECK(sl_helper_get(BPF_FUNC_xdp_adjust_head)->prog_types == PT(SL_PROG_XDP));
	CHECK(sl_helper_get(BPF_FUNC_redirect_map)->prog_types == PT(SL_PROG_XDP));
	CHECK(sl_helper_get(BPF_FUNC_map_lookup_elem)->prog_types & PT(SL_PROG_SOCKET));
	h = sl_helper_get(BPF_FUNC_tail_call);
	CHECK(h->ret == SL_RET_VOID && h->args[0] == SL_ARG_PTR_TO_CTX &&
	      h->args[1] == SL_ARG_CONST_MAP_PTR);
	h = sl_helper_get(BPF_FUNC_ringbuf_reserve);
	CHECK(h->ret == SL_RET_PTR_TO_ALLOC_MEM_OR_NULL &&
	      h->args[1] == SL_ARG_CONST_ALLOC_SIZE_OR_ZERO);
	CHECK(sl_helper_get(BPF_FUNC_ringbuf_submit)->args[0] == SL_ARG_PTR_TO_ALLOC_MEM);
}

static void test_map_helpers(void)
{
	struct sl_map_def def = {BPF_MAP_TYPE_HASH, 4, 8, 8, 0};
	struct sl_map *m = sl_map_create("h", &def, 1), *pc;
	uint32_t k = 5;
	uint64_t v = 77;

	CHECK(call(BPF_FUNC_map_lookup_elem, P(m), P(&k), 0, 0, 0) == 0);
	CHECK_EQ(call(BPF_FUNC_map_update_elem, P(m), P(&k), P(&v), BPF_ANY, 0), 0);
	CHECK_EQ(*(uint64_t *)(uintptr_t)call(BPF_FUNC_map_lookup_elem, P(m), P(&k), 0, 0, 0), 77);
	CHECK_EQ((int64_t)call(BPF_FUNC_map_update_elem, P(m), P(&k), P(&v), BPF_NOEXIST, 0),
		 -EEXIST);
	CHECK_EQ(call(BPF_FUNC_map_delete_elem, P(m), P(&k), 0, 0, 0), 0);
	CHECK_EQ((int64_t)call(BPF_FUNC_map_delete_elem, P(m), P(&k), 0, 0, 0), -ENOENT);
	sl_map_destroy(m);

	def = (struct sl_map_def){BPF_MAP_TYPE_PERCPU_ARRAY, 4, 8, 4, 0};
	pc = sl_map_create("pc", &def, 2);
	sl_map_set_cpu(1);
	CHECK_EQ(call(BPF_FUNC_get_smp_processor_id, 0, 0, 0, 0, 0), 1);
	k = 2, v = 9;
	CHECK_EQ(call(BPF_FUNC_map_update_elem, P(pc), P(&k), P(&v), BPF_ANY, 0), 0);
	sl_map_set_cpu(0);
	CHECK_EQ(*(uint64_t *)(uintptr_t)call(BPF_FUNC_map_lookup_percpu_elem, P(pc), P(&k), 1,
					       0, 0), 9);
	CHECK_EQ(*(uint64_t *)(uintptr_t)call(BPF_FUNC_map_lookup_elem, P(pc), P(&k), 0, 0, 0), 0);
	CHECK(call(BPF_FUNC_map_lookup_percpu_elem, P(pc), P(&k), 2, 0, 0) == 0);
	CHECK(call(BPF_FUNC_map_lookup_percpu_elem, P(pc), P(&k), 1u << 31, 0, 0) == 0);
	sl_map_destroy(pc);
}

static void test_misc(void)
{
	uint64_t t1 = call(BPF_FUNC_ktime_get_ns, 0, 0, 0, 0, 0), t2;
	uint32_t r[64];
	int distinct = 0;

	t2 = call(BPF_FUNC_ktime_get_ns, 0, 0, 0, 0, 0);
	CHECK(t1 > 0 && t2 >= t1);
	for (int i = 0; i < 64; i++) {
		r[i] = (uint32_t)call(BPF_FUNC_get_prandom_u32, 0, 0, 0, 0, 0);
		distinct += i == 0 || r[i] != r[i - 1];
		CHECK(call(BPF_FUNC_get_prandom_u32, 0, 0, 0, 0, 0) <= UINT32_MAX);
	}
	CHECK(distinct > 60);
	CHECK_EQ((int64_t)call(BPF_FUNC_tail_call, 0, 0, 0, 0, 0), -EINVAL);  /* never called */
}

static void test_redirect(void)
{
	struct sl_map_def def = {BPF_MAP_TYPE_DEVMAP, 4, 4, 4, 0};
	struct sl_map *dm = sl_map_create("dm", &def, 1);
	struct sl_redirect *rd = sl_helper_redirect();

	CHECK_EQ(call(BPF_FUNC_redirect, 3, 0, 0, 0, 0), XDP_REDIRECT);
	CHECK(rd->ifindex == 3 && rd->map == NULL);
	CHECK_EQ(call(BPF_FUNC_redirect, 3, 1, 0, 0, 0), XDP_ABORTED);
	CHECK_EQ(sl_map_ctl_update(dm, &(uint32_t){1}, &(uint32_t){7}, BPF_ANY), 0);
	CHECK_EQ(call(BPF_FUNC_redirect_map, P(dm), 1, 0, 0, 0), XDP_REDIRECT);
	CHECK(rd->ifindex == 7 && rd->map == dm);
	/* absent key: the low two bits of flags are the verdict */
	CHECK_EQ(call(BPF_FUNC_redirect_map, P(dm), 2, XDP_PASS, 0, 0), XDP_PASS);
	CHECK_EQ(call(BPF_FUNC_redirect_map, P(dm), 9, 0, 0, 0), XDP_ABORTED);
	CHECK_EQ(call(BPF_FUNC_redirect_map, P(dm), 1, BPF_F_BROADCAST, 0, 0), XDP_ABORTED);
	CHECK_EQ(call(BPF_FUNC_redirect_map, P(dm), 1, 1u << 5, 0, 0), XDP_ABORTED);
	CHECK_EQ(call(BPF_FUNC_redirect_map, P(dm), 1, BPF_F_EXCLUDE_INGRESS, 0, 0), XDP_REDIRECT);
	CHECK_EQ(call(BPF_FUNC_redirect_map, P(dm), 3, BPF_F_EXCLUDE_INGRESS | XDP_DROP, 0, 0),
		 XDP_DROP);
	sl_map_destroy(dm);
}

static int rb_cb(const void *data, uint32_t len, void *ctx)
{
	uint32_t *got = ctx;

	got[got[2]++] = *(const uint32_t *)data;
	return len != 4;
}

static void test_ringbuf(void)
{
	uint32_t got[3] = {0};
	struct sl_map_def def = {BPF_MAP_TYPE_RINGBUF, 0, 0, 4096, 0};
	struct sl_map *rb = sl_map_create("rb", &def, 1);
	uint32_t data = 0xabcd, *p;

	CHECK_EQ(call(BPF_FUNC_ringbuf_output, P(rb), P(&data), 4, 0, 0), 0);
	p = (uint32_t *)(uintptr_t)call(BPF_FUNC_ringbuf_reserve, P(rb), 4, 0, 0, 0);
	CHECK(p != NULL);
	*p = 1;
	call(BPF_FUNC_ringbuf_discard, P(p), 0, 0, 0, 0);
	p = (uint32_t *)(uintptr_t)call(BPF_FUNC_ringbuf_reserve, P(rb), 4, 0, 0, 0);
	*p = 2;
	call(BPF_FUNC_ringbuf_submit, P(p), 0, 0, 0, 0);
	CHECK(call(BPF_FUNC_ringbuf_reserve, P(rb), 8192, 0, 0, 0) == 0);
	/* records of 4 bytes take 16: three reserved, nothing consumed yet */
	CHECK_EQ(call(BPF_FUNC_ringbuf_query, P(rb), BPF_RB_AVAIL_DATA, 0, 0, 0), 48);
	CHECK_EQ(call(BPF_FUNC_ringbuf_query, P(rb), BPF_RB_RING_SIZE, 0, 0, 0), 4096);
	CHECK_EQ(call(BPF_FUNC_ringbuf_query, P(rb), BPF_RB_PROD_POS, 0, 0, 0), 48);
	CHECK_EQ(call(BPF_FUNC_ringbuf_query, P(rb), BPF_RB_CONS_POS, 0, 0, 0), 0);
	CHECK_EQ(call(BPF_FUNC_ringbuf_query, P(rb), 9, 0, 0, 0), 0);
	CHECK_EQ(sl_map_ringbuf_consume(rb, rb_cb, got), 2);
	CHECK(got[0] == 0xabcd && got[1] == 2);
	CHECK_EQ(call(BPF_FUNC_ringbuf_query, P(rb), BPF_RB_CONS_POS, 0, 0, 0), 48);
	CHECK_EQ(call(BPF_FUNC_ringbuf_query, P(rb), BPF_RB_AVAIL_DATA, 0, 0, 0), 0);
	sl_map_destroy(rb);
}

static void test_skb_load_bytes(void)
{
	uint8_t pkt[64], buf[16];
	struct sl_skb_ctx skb = {.pkt = pkt, .pkt_len = sizeof(pkt)};

	for (int i = 0; i < 64; i++)
		pkt[i] = (uint8_t)i;
	CHECK_EQ(call(BPF_FUNC_skb_load_bytes, P(&skb), 10, P(buf), 4, 0), 0);
	CHECK(buf[0] == 10 && buf[3] == 13);
	CHECK_EQ(call(BPF_FUNC_skb_load_bytes, P(&skb), 48, P(buf), 16, 0), 0);
	CHECK(buf[15] == 63);
	memset(buf, 0xff, sizeof(buf));
	CHECK_EQ((int64_t)call(BPF_FUNC_skb_load_bytes, P(&skb), 49, P(buf), 16, 0), -EFAULT);
	CHECK(buf[0] == 0 && buf[15] == 0);  /* zeroed on error, as the kernel */
	CHECK_EQ((int64_t)call(BPF_FUNC_skb_load_bytes, P(&skb), (uint64_t)-4, P(buf), 4, 0),
		 -EFAULT);
}

static void test_xdp_bytes(void)
{
	uint8_t pkt[100], buf[16];
	struct sl_xdp_ctx x = {.data = pkt, .data_end = pkt + sizeof(pkt), .data_meta = pkt,
			       .data_hard_start = pkt};

	for (int i = 0; i < 100; i++)
		pkt[i] = (uint8_t)i;
	CHECK_EQ(call(BPF_FUNC_xdp_get_buff_len, P(&x), 0, 0, 0, 0), 100);
	CHECK_EQ(call(BPF_FUNC_xdp_load_bytes, P(&x), 90, P(buf), 10, 0), 0);
	CHECK(buf[0] == 90 && buf[9] == 99);
	CHECK_EQ((int64_t)call(BPF_FUNC_xdp_load_bytes, P(&x), 91, P(buf), 10, 0), -EINVAL);
	CHECK_EQ((int64_t)call(BPF_FUNC_xdp_load_bytes, P(&x), 0x10000, P(buf), 1, 0), -EFAULT);
	memset(buf, 0xab, sizeof(buf));
	CHECK_EQ(call(BPF_FUNC_xdp_store_bytes, P(&x), 4, P(buf), 3, 0), 0);
	CHECK(pkt[3] == 3 && pkt[4] == 0xab && pkt[6] == 0xab && pkt[7] == 7);
	CHECK_EQ((int64_t)call(BPF_FUNC_xdp_store_bytes, P(&x), 98, P(buf), 3, 0), -EINVAL);
	CHECK(pkt[98] == 98);
	CHECK(sl_helper_get(BPF_FUNC_xdp_load_bytes)->prog_types == PT(SL_PROG_XDP));
	{
		uint64_t mono = call(BPF_FUNC_ktime_get_ns, 0, 0, 0, 0, 0);

		/* boot time = monotonic + time suspended, read later */
		CHECK(call(BPF_FUNC_ktime_get_boot_ns, 0, 0, 0, 0, 0) >= mono);
	}
	CHECK(call(BPF_FUNC_ktime_get_coarse_ns, 0, 0, 0, 0, 0) > 0);
}

static void test_xdp_adjust(void)
{
	uint8_t buf[256 + 100 + 64];
	uint8_t *start = buf + 256;
	struct sl_xdp_ctx x = {.data = start, .data_end = start + 100, .data_meta = start,
			       .data_hard_start = buf, .data_hard_end = buf + sizeof(buf)};

	/* head: grow into headroom, shrink, limits */
	CHECK_EQ(call(BPF_FUNC_xdp_adjust_head, P(&x), (uint64_t)-16, 0, 0, 0), 0);
	CHECK(x.data == start - 16 && x.data_meta == start - 16);
	CHECK_EQ(call(BPF_FUNC_xdp_adjust_head, P(&x), 16, 0, 0, 0), 0);
	CHECK_EQ((int64_t)call(BPF_FUNC_xdp_adjust_head, P(&x), (uint64_t)-257, 0, 0, 0),
		 -EINVAL);
	/* the kernel keeps 40 bytes (struct xdp_frame) of the 256 of headroom */
	CHECK_EQ((int64_t)call(BPF_FUNC_xdp_adjust_head, P(&x), (uint64_t)-217, 0, 0, 0),
		 -EINVAL);
	CHECK_EQ(call(BPF_FUNC_xdp_adjust_head, P(&x), (uint64_t)-216, 0, 0, 0), 0);
	CHECK(x.data == buf + 40);
	CHECK_EQ(call(BPF_FUNC_xdp_adjust_head, P(&x), 216, 0, 0, 0), 0);
	CHECK_EQ((int64_t)call(BPF_FUNC_xdp_adjust_head, P(&x), 87, 0, 0, 0), -EINVAL);
	CHECK_EQ(call(BPF_FUNC_xdp_adjust_head, P(&x), 86, 0, 0, 0), 0);  /* 14 bytes left */
	CHECK((uint8_t *)x.data_end - (uint8_t *)x.data == 14);
	CHECK_EQ(call(BPF_FUNC_xdp_adjust_head, P(&x), (uint64_t)-86, 0, 0, 0), 0);
	/* meta: multiple of 4, at most 32, inside the headroom; moves with head */
	CHECK_EQ((int64_t)call(BPF_FUNC_xdp_adjust_meta, P(&x), (uint64_t)-6, 0, 0, 0), -EACCES);
	CHECK_EQ((int64_t)call(BPF_FUNC_xdp_adjust_meta, P(&x), (uint64_t)-36, 0, 0, 0),
		 -EACCES);
	CHECK_EQ((int64_t)call(BPF_FUNC_xdp_adjust_meta, P(&x), 4, 0, 0, 0), -EINVAL);
	x.data = x.data_meta = buf + 48;  /* meta may not reach into the 40 reserved bytes */
	CHECK_EQ((int64_t)call(BPF_FUNC_xdp_adjust_meta, P(&x), (uint64_t)-12, 0, 0, 0),
		 -EINVAL);
	CHECK_EQ(call(BPF_FUNC_xdp_adjust_meta, P(&x), (uint64_t)-8, 0, 0, 0), 0);
	x.data = x.data_meta = start;
	CHECK_EQ(call(BPF_FUNC_xdp_adjust_meta, P(&x), (uint64_t)-8, 0, 0, 0), 0);
	CHECK(x.data_meta == start - 8);
	memcpy(x.data_meta, "METADATA", 8);
	CHECK_EQ(call(BPF_FUNC_xdp_adjust_head, P(&x), (uint64_t)-4, 0, 0, 0), 0);
	CHECK(x.data_meta == start - 12 && !memcmp(x.data_meta, "METADATA", 8));
	/* tail: shrink to >= 14 bytes, grow zero-filled up to the buffer end */
	x = (struct sl_xdp_ctx){.data = start, .data_end = start + 100, .data_meta = start,
				.data_hard_start = buf, .data_hard_end = buf + sizeof(buf)};
	CHECK_EQ(call(BPF_FUNC_xdp_adjust_tail, P(&x), (uint64_t)-86, 0, 0, 0), 0);
	CHECK_EQ((int64_t)call(BPF_FUNC_xdp_adjust_tail, P(&x), (uint64_t)-1, 0, 0, 0), -EINVAL);
	memset(start + 14, 0xee, 150);
	CHECK_EQ(call(BPF_FUNC_xdp_adjust_tail, P(&x), 150, 0, 0, 0), 0);
	CHECK(x.data_end == buf + sizeof(buf) && start[14] == 0 && start[163] == 0);
	CHECK_EQ((int64_t)call(BPF_FUNC_xdp_adjust_tail, P(&x), 1, 0, 0, 0), -EINVAL);
	x.data_hard_end = NULL;
	CHECK_EQ((int64_t)call(BPF_FUNC_xdp_adjust_tail, P(&x), (uint64_t)-10, 0, 0, 0), 0);
	CHECK_EQ((int64_t)call(BPF_FUNC_xdp_adjust_tail, P(&x), 4, 0, 0, 0), -EINVAL);
}

struct drained {
	int n;
	char last[SL_TRACE_MSG];
	uint32_t cpu;
};

static void drain_cb(uint32_t cpu, const char *msg, void *ctx)
{
	struct drained *d = ctx;

	d->n++;
	d->cpu = cpu;
	strcpy(d->last, msg);
}

static void test_trace_printk(void)
{
	static const char f1[] = "x=%d u=%u hex=%llx %%";
	static const char f2[] = "%q";
	static const char f3[] = "%d %d %d %d";
	static const char f4[] = "%5d|%-3x|%c";
	char unterminated[4] = {'a', 'b', 'c', 'd'};
	struct drained d = {0};
	uint64_t lost = 0;

	sl_map_set_cpu(3);
	CHECK_EQ(call(BPF_FUNC_trace_printk, P(f1), sizeof(f1), (uint64_t)-5, 7, 0xabcull),
		 strlen("x=-5 u=7 hex=abc %"));
	CHECK_EQ((int64_t)call(BPF_FUNC_trace_printk, P(f2), sizeof(f2), 0, 0, 0), -EINVAL);
	CHECK_EQ((int64_t)call(BPF_FUNC_trace_printk, P(f3), sizeof(f3), 1, 2, 3), -EINVAL);
	CHECK_EQ((int64_t)call(BPF_FUNC_trace_printk, P(unterminated), 4, 0, 0, 0), -EINVAL);
	CHECK_EQ(sl_helper_trace_drain(drain_cb, &d, &lost), 1);
	CHECK(d.cpu == 3 && !strcmp(d.last, "x=-5 u=7 hex=abc %"));
	CHECK_EQ(call(BPF_FUNC_trace_printk, P(f4), sizeof(f4), 42, 10, 'z'), 11);
	CHECK_EQ(sl_helper_trace_drain(drain_cb, &d, &lost), 1);
	CHECK(!strcmp(d.last, "   42|a  |z"));
	{
		static const char f5[] = "%s|%pI4|%s";
		static const char f6[] = "%pi4 %pI6";
		static const uint8_t ip4[4] = { 10, 0, 0, 1 }, ip6[16] = { 0x20, 0x01, 0x0d, 0xb8,
			[15] = 1 };
		const char *want5 = "hi|10.0.0.1|", *want6 =
			"010.000.000.001 2001:0db8:0000:0000:0000:0000:0000:0001";

		/* a string, an address, and an unreadable pointer (printed as "") */
		CHECK_EQ(call(BPF_FUNC_trace_printk, P(f5), sizeof(f5), P("hi"), P(ip4), 8),
			 strlen(want5));
		CHECK_EQ(sl_helper_trace_drain(drain_cb, &d, &lost), 1);
		CHECK(!strcmp(d.last, want5));
		CHECK_EQ(call(BPF_FUNC_trace_printk, P(f6), sizeof(f6), P(ip4), P(ip6), 0),
			 strlen(want6));
		CHECK_EQ(sl_helper_trace_drain(drain_cb, &d, &lost), 1);
		CHECK(!strcmp(d.last, want6));
	}
	for (int i = 0; i < SL_TRACE_RING + 5; i++)
		call(BPF_FUNC_trace_printk, P(f1), sizeof(f1), (uint64_t)i, 0, 0);
	d.n = 0;
	CHECK_EQ(sl_helper_trace_drain(drain_cb, &d, &lost), SL_TRACE_RING - 1);
	CHECK_EQ(lost, 6);
	CHECK(!strncmp(d.last, "x=20 ", 5));
	sl_map_set_cpu(0);
}

static uint64_t mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/*
 * bpf_ktime_get_ns is CLOCK_MONOTONIC read through the TSC once the
 * process has 2 ms of baseline (vm/helpers.c): over 400 ms, every value
 * lies within 5 us of clock_gettime read around it and none goes back.
 */
static void test_ktime_tsc(void)
{
	uint64_t end = mono() + 400000000ull, last = 0, worst = 0, n = 0, bad = 0, back = 0;

	while (mono() < end) {
		uint64_t a = mono(), k = call(BPF_FUNC_ktime_get_ns, 0, 0, 0, 0, 0), b = mono();
		uint64_t off = k < a ? a - k : k > b ? k - b : 0;

		worst = off > worst ? off : worst;
		bad += off > 5000;
		back += k < last;
		last = k;
		n++;
	}
	CHECK(n > 1000);
	CHECK_EQ(bad, 0);
	CHECK_EQ(back, 0);
	printf("ktime vs clock_gettime over %llu reads: worst %llu ns outside the bracket\n",
	       (unsigned long long)n, (unsigned long long)worst);
}

int main(void)
{
	test_table();
	test_map_helpers();
	test_misc();
	test_redirect();
	test_ringbuf();
	test_skb_load_bytes();
	test_xdp_adjust();
	test_xdp_bytes();
	test_trace_printk();
	test_ktime_tsc();
	return sl_test_done("maps_helpers");
}
