/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vm/helpers.c: the helper table. Kernel helper id (enum bpf_func_id) ->
 * name, prototype (checked by the verifier), allowed program types, and
 * the implementation the interpreter and the JIT call.
 *
 * Every implementation runs on the data path: worker thread, no locks,
 * no allocation, no output. Per-thread state (redirect target, PRNG,
 * trace_printk ring) is thread-local or indexed by sl_map_cpu.
 *
 * bpf_tail_call is only a prototype here: the interpreter and the JIT
 * perform the jump themselves (sl_map_prog_array_get()); its fn is never
 * called by them and returns -EINVAL if something does call it.
 *
 * bpf_trace_printk never prints: it formats the message (kernel format
 * subset: %d %i %u %x %X %c %p %px %s %pI4 %pi4 %pI6 %pi6 %%, with l/ll
 * length modifiers, flags, width and precision; at most three arguments;
 * the memory behind %s and %pI is read as the kernel's
 * copy_from_kernel_nofault does, without faulting — process_vm_readv on
 * our own process, one system call per such conversion — and an
 * unreadable pointer prints "" or a zero address) into a
 * per-worker ring of the last SL_TRACE_RING - 1 messages (each with its
 * CLOCK_MONOTONIC time), which the control thread drains with
 * sl_helper_trace_drain() or sl_helper_trace_drain_ns(). It returns the formatted
 * length, as the kernel does.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <x86intrin.h>
#include <sys/uio.h>

#include "sl_helpers.h"
#include "sl_maps.h"
#include "sl_fib.h"

#define ETH_HLEN 14
#define XDP_META_MAX 32
/*
 * Headroom the kernel keeps back for its struct xdp_frame (40 bytes on
 * x86-64): bpf_xdp_adjust_head/meta may not move data or data_meta into it.
 */
#define XDP_FRAME_RESERVE 40

#define PT_RAW (1u << SL_PROG_RAW)
#define PT_XDP (1u << SL_PROG_XDP)
#define PT_SOCKET (1u << SL_PROG_SOCKET)
#define PT_ALL (PT_RAW | PT_XDP | PT_SOCKET)

#define PTR(x) ((void *)(uintptr_t)(x))
#define U64(x) ((uint64_t)(long)(x))

static __thread struct sl_redirect redirect_state;
static __thread uint64_t prandom_state;
static __thread bool clock_virtual;
static __thread uint64_t clock_virtual_ns;

struct sl_redirect *sl_helper_redirect(void)
{
	return &redirect_state;
}

/* ---- maps ---- */

static uint64_t map_lookup_elem(uint64_t map, uint64_t key, uint64_t a3, uint64_t a4, uint64_t a5)
{
	return (uintptr_t)sl_map_lookup_elem(PTR(map), PTR(key));
}

static uint64_t map_update_elem(uint64_t map, uint64_t key, uint64_t value, uint64_t flags,
				uint64_t a5)
{
	return U64(sl_map_update_elem(PTR(map), PTR(key), PTR(value), flags));
}

static uint64_t map_delete_elem(uint64_t map, uint64_t key, uint64_t a3, uint64_t a4, uint64_t a5)
{
	return U64(sl_map_delete_elem(PTR(map), PTR(key)));
}

static uint64_t map_lookup_percpu_elem(uint64_t map, uint64_t key, uint64_t cpu, uint64_t a4,
				       uint64_t a5)
{
	if (cpu >= SL_MAX_CPUS)
		return 0;
	return (uintptr_t)sl_map_lookup_percpu_elem(PTR(map), PTR(key), (uint32_t)cpu);
}

static uint64_t tail_call(uint64_t ctx, uint64_t map, uint64_t index, uint64_t a4, uint64_t a5)
{
	return U64(-EINVAL);  /* never called: the interpreter/JIT jump themselves */
}

/* ---- time, cpu, random ---- */

static uint64_t clock_ns(clockid_t clk);

/*
 * bpf_ktime_get_ns: CLOCK_MONOTONIC read cheaply, as the TSC scaled from a
 * per-thread anchor (clock_gettime and the TSC read together, the tightest
 * of three tries so that a preempted read does not skew it), taken again
 * once the TSC has moved ANCHOR_NS on (or back: any jump re-anchors). The
 * rate, ns per tick, is the process's: from its first anchor to the
 * latest one, once that spans RATE_MIN_NS (before, every call reads
 * clock_gettime), re-measured at every anchor over a span that only
 * grows: two anchors of a few tens of ns' uncertainty each make it exact
 * to about 1e-5 after 2 ms (an extrapolation over ANCHOR_NS off by some
 * 10 ns) and 1e-7 after 200 ms (an NTP slew of CLOCK_MONOTONIC: at most
 * 0.5 us, corrected at the next anchor). A short baseline matters: while
 * it lasts every call costs three clock_gettime (a program timed in the
 * first 200 ms after its first call, as the bench's first object using
 * this helper was, paid 2x for it). Never below the value this thread
 * returned last. Per-thread state: no locks, no calls on most reads (one
 * rdtsc, a multiply).
 */
#define ANCHOR_NS 1000000ull       /* 1 ms */
#define RATE_MIN_NS 2000000ull     /* 2 ms of baseline before the TSC is scaled */
#define ANCHOR_TRIES 3

struct tsc_clock {
	uint64_t tsc, ns;     /* the anchor */
	uint64_t window;      /* ticks it stands for (0: read clock_gettime every time) */
	uint64_t mult;        /* ns per tick << 32 */
	uint64_t last;        /* returned last */
};

static __thread struct tsc_clock tsc_clock;
static uint64_t tsc_base, tsc_base_ns;  /* the process's first anchor, once base_ready */
static atomic_int base_state;           /* 0 none, 1 being written, 2 ready */

/* clock_gettime and the TSC at the same moment: the tightest of ANCHOR_TRIES brackets */
static uint64_t mono_pair(uint64_t *tsc)
{
	uint64_t best = UINT64_MAX, ns = 0;

	for (int i = 0; i < ANCHOR_TRIES; i++) {
		struct timespec ts;
		uint64_t t0 = __rdtsc(), t1;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		t1 = __rdtsc();
		if (t1 - t0 < best) {   /* a preempted read has a wide bracket */
			best = t1 - t0;
			*tsc = t0 + (t1 - t0) / 2;
			ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
		}
	}
	return ns;
}

static __attribute__((noinline)) uint64_t mono_anchor(struct tsc_clock *c)
{
	uint64_t tsc = 0, ns = mono_pair(&tsc);
	int none = 0;

	c->tsc = tsc;
	c->ns = ns;
	c->window = 0;
	if (atomic_compare_exchange_strong(&base_state, &none, 1)) {
		tsc_base = c->tsc;
		tsc_base_ns = ns;
		atomic_store_explicit(&base_state, 2, memory_order_release);
	} else if (atomic_load_explicit(&base_state, memory_order_acquire) == 2 &&
		   ns - tsc_base_ns >= RATE_MIN_NS && c->tsc > tsc_base) {
		c->mult = (uint64_t)(((unsigned __int128)(ns - tsc_base_ns) << 32) /
				     (c->tsc - tsc_base));
		c->window = c->mult ? (uint64_t)(((unsigned __int128)ANCHOR_NS << 32) / c->mult) : 0;
	}
	return ns;
}

static inline uint64_t mono_ns(void)
{
	struct tsc_clock *c = &tsc_clock;
	uint64_t d = __rdtsc() - c->tsc, ns;

	if (__builtin_expect(d >= c->window, 0))
		ns = mono_anchor(c);
	else
		ns = c->ns + (uint64_t)(((unsigned __int128)d * c->mult) >> 32);
	if (ns < c->last)
		ns = c->last;
	c->last = ns;
	return ns;
}

static uint64_t ktime_get_ns(uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5)
{
	return clock_virtual ? clock_virtual_ns : mono_ns();
}

void sl_helper_clock_set(uint64_t ns)
{
	clock_virtual_ns = ns;
	clock_virtual = true;
}

void sl_helper_clock_real(void)
{
	clock_virtual = false;
}

static uint64_t clock_ns(clockid_t clk)
{
	struct timespec ts;

	if (clock_virtual)
		return clock_virtual_ns;
	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t ktime_get_boot_ns(uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4,
				  uint64_t a5)
{
	return clock_ns(CLOCK_BOOTTIME);
}

static uint64_t ktime_get_coarse_ns(uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4,
				    uint64_t a5)
{
	return clock_ns(CLOCK_MONOTONIC_COARSE);
}

static uint64_t get_smp_processor_id(uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4,
				     uint64_t a5)
{
	return sl_map_cpu;
}

/* splitmix64: seeds the per-thread state */
static uint64_t splitmix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

/* xorshift64*: per-thread, a few cycles */
static uint64_t get_prandom_u32(uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5)
{
	uint64_t x = prandom_state;

	if (!x) {
		x = splitmix64(ktime_get_ns(0, 0, 0, 0, 0) ^ (uintptr_t)&prandom_state);
		if (!x)
			x = 1;
	}
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	prandom_state = x;
	return (uint32_t)((x * 0x2545f4914f6cdd1dull) >> 32);
}

/* ---- redirect ---- */

static uint64_t redirect(uint64_t ifindex, uint64_t flags, uint64_t a3, uint64_t a4, uint64_t a5)
{
	if (flags)
		return XDP_ABORTED;  /* kernel: XDP accepts no flags */
	redirect_state.ifindex = (uint32_t)ifindex;
	redirect_state.tgt_index = (uint32_t)ifindex;
	redirect_state.flags = 0;
	redirect_state.map = NULL;
	return XDP_REDIRECT;
}

/*
 * Kernel semantics (__bpf_xdp_redirect_map()): the low two bits of flags
 * are the verdict when the key is absent or out of range; any other bit
 * gives XDP_ABORTED, except on a DEVMAP / DEVMAP_HASH, which also take
 * BPF_F_EXCLUDE_INGRESS (meaningless without broadcast) and
 * BPF_F_BROADCAST (to every port of the map: not provided, XDP_ABORTED).
 * A miss clears the map from the state, as the kernel's does (map_type
 * UNSPEC, map_id INT_MAX: "the last lookup always takes precedence"),
 * which is the state bpf_redirect(tgt_index) leaves: XDP_REDIRECT after
 * it goes to the port whose id is the last bpf_redirect's ifindex or the
 * last hit's key (none: redirect_failed), as xdp_do_redirect() resolves
 * ri->tgt_index as an ifindex. The flags stay (unused without a map).
 * jit/redirect.c emits the same in place; keep the two alike.
 */
static uint64_t redirect_map(uint64_t map, uint64_t key, uint64_t flags, uint64_t a4, uint64_t a5)
{
	uint32_t type;
	int64_t target;

	if (flags & ~(uint64_t)(XDP_ABORTED | XDP_DROP | XDP_PASS | XDP_TX | BPF_F_EXCLUDE_INGRESS))
		return XDP_ABORTED;
	if (flags & BPF_F_EXCLUDE_INGRESS) {   /* the map's type only then: no call otherwise */
		type = sl_map_get_def(PTR(map))->type;
		if (type != BPF_MAP_TYPE_DEVMAP && type != BPF_MAP_TYPE_DEVMAP_HASH)
			return XDP_ABORTED;
	}
	target = sl_map_redirect_target(PTR(map), (uint32_t)key);
	if (target < 0) {
		redirect_state.ifindex = redirect_state.tgt_index;
		redirect_state.map = NULL;
		return flags & 3;  /* XDP_ABORTED .. XDP_TX */
	}
	redirect_state.ifindex = (uint32_t)target;
	redirect_state.tgt_index = (uint32_t)key;
	redirect_state.flags = (uint32_t)flags;
	redirect_state.map = PTR(map);
	return XDP_REDIRECT;
}

/* ---- bpf_fib_lookup: the attached FIB (maps/fib.c) ---- */

static uint64_t fib_lookup(uint64_t ctx, uint64_t params, uint64_t plen, uint64_t flags,
			   uint64_t a5)
{
	return U64(sl_fib_lookup(sl_fib_attached(), PTR(params), (int)plen, (uint32_t)flags));
}

/* ---- ring buffer ---- */

static uint64_t ringbuf_output(uint64_t map, uint64_t data, uint64_t size, uint64_t flags,
			       uint64_t a5)
{
	return U64(sl_map_ringbuf_output(PTR(map), PTR(data), size, flags));
}

static uint64_t ringbuf_reserve(uint64_t map, uint64_t size, uint64_t flags, uint64_t a4,
				uint64_t a5)
{
	return (uintptr_t)sl_map_ringbuf_reserve(PTR(map), size, flags);
}

static uint64_t ringbuf_submit(uint64_t data, uint64_t flags, uint64_t a3, uint64_t a4, uint64_t a5)
{
	sl_map_ringbuf_submit(PTR(data), flags);
	return 0;
}

static uint64_t ringbuf_discard(uint64_t data, uint64_t flags, uint64_t a3, uint64_t a4,
				uint64_t a5)
{
	sl_map_ringbuf_discard(PTR(data), flags);
	return 0;
}

static uint64_t ringbuf_query(uint64_t map, uint64_t flags, uint64_t a3, uint64_t a4,
			      uint64_t a5)
{
	return sl_map_ringbuf_query(PTR(map), flags);
}

/* ---- perf event output ---- */

static uint64_t xdp_get_buff_len(uint64_t ctx, uint64_t a2, uint64_t a3, uint64_t a4,
				 uint64_t a5);

/*
 * The kernel's XDP variant (bpf_xdp_event_output): the upper 32 bits of
 * flags (BPF_F_CTXLEN_MASK) ask for that many packet bytes after @p data;
 * the low 32 bits (BPF_F_INDEX_MASK) are the index or BPF_F_CURRENT_CPU.
 */
static uint64_t perf_event_output(uint64_t ctx, uint64_t map, uint64_t flags, uint64_t data,
				  uint64_t size)
{
	const struct sl_xdp_ctx *x = PTR(ctx);
	uint64_t pkt = (flags & BPF_F_CTXLEN_MASK) >> 32;

	if (flags & ~(uint64_t)(BPF_F_CTXLEN_MASK | BPF_F_INDEX_MASK))
		return U64(-EINVAL);
	if (pkt > xdp_get_buff_len(ctx, 0, 0, 0, 0))
		return U64(-EFAULT);
	return U64(sl_map_perf_event_output(PTR(map), flags & BPF_F_INDEX_MASK, PTR(data), size,
					x->data, pkt));
}

/* ---- packet access ---- */

/* kernel: offset > 0xffff or out of the packet -> zero the buffer, -EFAULT */
/*
 * memmove for the few bytes programs move with the load/store helpers:
 * 1-16 bytes as two (possibly overlapping) loads then two stores, inline,
 * instead of a call into libc's memmove; longer copies call it.
 */
static inline void move_bytes(uint8_t *d, const uint8_t *s, uint32_t n)
{
	if (n >= 8 && n <= 16) {
		uint64_t a, b;

		memcpy(&a, s, 8);
		memcpy(&b, s + n - 8, 8);
		memcpy(d, &a, 8);
		memcpy(d + n - 8, &b, 8);
	} else if (n >= 4 && n < 8) {
		uint32_t a, b;

		memcpy(&a, s, 4);
		memcpy(&b, s + n - 4, 4);
		memcpy(d, &a, 4);
		memcpy(d + n - 4, &b, 4);
	} else if (n && n < 4) {
		uint8_t a = s[0], b = s[n / 2], c = s[n - 1];

		d[0] = a;
		d[n / 2] = b;
		d[n - 1] = c;
	} else {
		memmove(d, s, n);
	}
}

static uint64_t skb_load_bytes(uint64_t ctx, uint64_t offset, uint64_t to, uint64_t len,
			       uint64_t a5)
{
	const struct sl_skb_ctx *skb = PTR(ctx);
	uint32_t off = (uint32_t)offset;

	if (off > 0xffff || len > skb->pkt_len || off > skb->pkt_len - len) {
		memset(PTR(to), 0, (size_t)len);
		return U64(-EFAULT);
	}
	move_bytes(PTR(to), skb->pkt + off, (uint32_t)len);
	return 0;
}

/* bytes of metadata in front of data (0 when data_meta is unused) */
static size_t xdp_metalen(const struct sl_xdp_ctx *x)
{
	uint8_t *meta = x->data_meta, *data = x->data;

	return meta && meta < data ? (size_t)(data - meta) : 0;
}

/* kernel: data may move within the headroom past XDP_FRAME_RESERVE (and any
 * metadata); >= ETH_HLEN bytes must remain */
static uint64_t xdp_adjust_head(uint64_t ctx, uint64_t delta, uint64_t a3, uint64_t a4,
				uint64_t a5)
{
	struct sl_xdp_ctx *x = PTR(ctx);
	size_t metalen = xdp_metalen(x);
	uint8_t *data = (uint8_t *)x->data + (int32_t)delta;
	uint8_t *start = (uint8_t *)x->data_hard_start + XDP_FRAME_RESERVE + metalen;

	if (data < start || data > (uint8_t *)x->data_end - ETH_HLEN)
		return U64(-EINVAL);
	if (metalen)
		memmove((uint8_t *)x->data_meta + (int32_t)delta, x->data_meta, metalen);
	if (x->data_meta)
		x->data_meta = (uint8_t *)x->data_meta + (int32_t)delta;
	x->data = data;
	return 0;
}

/* kernel: meta in [data_hard_start + XDP_FRAME_RESERVE, data], length a multiple of 4, <= 32 */
static uint64_t xdp_adjust_meta(uint64_t ctx, uint64_t delta, uint64_t a3, uint64_t a4,
				uint64_t a5)
{
	struct sl_xdp_ctx *x = PTR(ctx);
	uint8_t *meta = (uint8_t *)x->data_meta + (int32_t)delta;
	size_t metalen;

	if (!x->data_meta || (uint8_t *)x->data_meta > (uint8_t *)x->data)
		return U64(-ENOTSUP);
	if (meta < (uint8_t *)x->data_hard_start + XDP_FRAME_RESERVE || meta > (uint8_t *)x->data)
		return U64(-EINVAL);
	metalen = (size_t)((uint8_t *)x->data - meta);
	if ((metalen & 3) || metalen > XDP_META_MAX)
		return U64(-EACCES);
	x->data_meta = meta;
	return 0;
}

static uint64_t xdp_get_buff_len(uint64_t ctx, uint64_t a2, uint64_t a3, uint64_t a4,
				 uint64_t a5)
{
	const struct sl_xdp_ctx *x = PTR(ctx);

	return (uint64_t)((const uint8_t *)x->data_end - (const uint8_t *)x->data);
}

/* kernel: offset or len > 0xffff -> -EFAULT; beyond the packet -> -EINVAL */
static uint8_t *xdp_bytes(struct sl_xdp_ctx *x, uint64_t offset, uint64_t len, long *err)
{
	uint32_t off = (uint32_t)offset, n = (uint32_t)len;

	*err = 0;
	if (off > 0xffff || n > 0xffff)
		*err = -EFAULT;
	else if ((uint64_t)off + n > xdp_get_buff_len((uintptr_t)x, 0, 0, 0, 0))
		*err = -EINVAL;
	return (uint8_t *)x->data + off;
}

static uint64_t xdp_load_bytes(uint64_t ctx, uint64_t offset, uint64_t buf, uint64_t len,
			       uint64_t a5)
{
	long err;
	const uint8_t *p = xdp_bytes(PTR(ctx), offset, len, &err);

	/* The verifier counts buf as written (PTR_TO_UNINIT_MEM): zero it on failure. */
	if (!err)
		move_bytes(PTR(buf), p, (uint32_t)len);
	else
		memset(PTR(buf), 0, (uint32_t)len);
	return U64(err);
}

static uint64_t xdp_store_bytes(uint64_t ctx, uint64_t offset, uint64_t buf, uint64_t len,
				uint64_t a5)
{
	long err;
	uint8_t *p = xdp_bytes(PTR(ctx), offset, len, &err);

	if (!err)
		move_bytes(p, PTR(buf), (uint32_t)len);
	return U64(err);
}

/* kernel: shrink to >= ETH_HLEN bytes, grow (zero-filled) into tailroom */
static uint64_t xdp_adjust_tail(uint64_t ctx, uint64_t delta, uint64_t a3, uint64_t a4,
				uint64_t a5)
{
	struct sl_xdp_ctx *x = PTR(ctx);
	int32_t d = (int32_t)delta;
	uint8_t *end = (uint8_t *)x->data_end + d;

	if (d > 0 && (!x->data_hard_end || end > (uint8_t *)x->data_hard_end))
		return U64(-EINVAL);
	if (end < (uint8_t *)x->data + ETH_HLEN)
		return U64(-EINVAL);
	if (d > 0)
		memset(x->data_end, 0, (size_t)d);
	x->data_end = end;
	return 0;
}

/* ---- bpf_loop ---- */

/*
 * The kernel's order of checks; the callback (verified to return 0 or 1)
 * runs nr_loops times with (index, ctx) unless it returns nonzero, and the
 * result is the number of calls made.
 */
static uint64_t loop(uint64_t nr_loops, uint64_t callback, uint64_t ctx, uint64_t flags,
		     uint64_t a5)
{
	const struct sl_callback *cb = PTR(callback);
	uint32_t n = (uint32_t)nr_loops, i;

	if (flags)
		return U64(-EINVAL);
	if (n > SL_MAX_LOOPS)
		return U64(-E2BIG);
	for (i = 0; i < n; i++)
		if (cb->call(cb, i, ctx))
			return (uint64_t)i + 1;
	return i;
}

/* ---- checksums ---- */

/*
 * Ones'-complement sum of @p buf, read as native-order 32-bit words with
 * the last partial word zero-padded, plus @p seed, folded to 32 bits with
 * end-around carries: the value x86-64's csum_partial() returns (0 only
 * when every input is 0, otherwise in [1, 0xffffffff]).
 *
 * Read 8 bytes at a time into an exact 128-bit sum (add, adc): a 64-bit
 * word is w0 + w1 * 2^32, and 2^32 = 1 modulo 2^32 - 1, so folding the
 * exact sum (end-around carries, 128 -> 64 -> 32 bits, each step keeping
 * the value modulo 2^32 - 1 and never turning a nonzero sum into 0) gives
 * the same 32-bit result as summing 32-bit words; the tail of 0-7 bytes
 * is one zero-padded 64-bit word, as its words zero-padded would be.
 */
static inline __attribute__((always_inline)) uint32_t csum_words(const uint8_t *buf, uint32_t len,
								  uint32_t seed)
{
	uint32_t n = len & ~7u;
	unsigned __int128 t = seed;
	uint64_t q = 0, s, lo;

	for (uint32_t i = 0; i < n; i += 8) {
		memcpy(&q, buf + i, 8);
		t += q;   /* < 2^29 words of < 2^64: no 128-bit overflow */
	}
	buf += n;
	q = 0;
	if (len & 4) {   /* the tail: 4, 2 and 1 bytes at their places in one word */
		uint32_t w;

		memcpy(&w, buf, 4);
		q = w;
	}
	if (len & 2) {
		uint16_t h;

		memcpy(&h, buf + (len & 4), 2);
		q |= (uint64_t)h << (8 * (len & 4));
	}
	if (len & 1)
		q |= (uint64_t)buf[len & 6] << (8 * (len & 6));
	t += q;
	lo = (uint64_t)t;
	s = lo + (uint64_t)(t >> 64);
	s += s < lo;                          /* end-around carry: 64 bits */
	s = (s & 0xffffffffu) + (s >> 32);    /* < 2^33 */
	s = (s & 0xffffffffu) + (s >> 32);    /* <= 0xffffffff */
	return (uint32_t)s;
}

static uint32_t csum_sub32(uint32_t a, uint32_t b)
{
	uint32_t r = a + ~b;

	return r + (r < ~b);
}

/*
 * bpf_csum_diff as Linux 6.13+ computes it (the kernel on which the
 * differential test maps/tests/test_csum_kdiff.c runs): the checksum of
 * @p to seeded with @p seed, minus the checksum of @p from, folded to 16
 * bits (csum_from32to16: the high half of x + ror32(x, 16)); with both
 * sizes 0, the seed folded. Sizes are not restricted beyond what
 * the verifier proved readable (older kernels wanted multiples of 4 and
 * at most 512 bytes in all, and returned the unfolded 32-bit sum).
 */
static uint64_t csum_diff(uint64_t from, uint64_t from_size, uint64_t to, uint64_t to_size,
			  uint64_t seed)
{
	uint32_t fs = (uint32_t)from_size, ts = (uint32_t)to_size, r;

	if (fs && ts)
		r = csum_sub32(csum_words(PTR(to), ts, (uint32_t)seed), csum_words(PTR(from), fs, 0));
	else if (ts)
		r = csum_words(PTR(to), ts, (uint32_t)seed);
	else if (fs)
		r = ~csum_words(PTR(from), fs, ~(uint32_t)seed);
	else
		r = (uint32_t)seed;
	r += (r >> 16) | (r << 16);
	return r >> 16;
}

/* ---- trace_printk ---- */

struct trace_slot {
	_Alignas(64) atomic_uint_fast64_t head;  /* messages written so far */
	uint64_t tail;                           /* control thread: next to read */
	_Alignas(8) char msg[SL_TRACE_RING][SL_TRACE_MSG];
	uint64_t ns[SL_TRACE_RING];              /* CLOCK_MONOTONIC of each message */
};

static struct trace_slot trace_slots[SL_MAX_CPUS];

/*
 * A ring slot is written by its worker while the control thread may be
 * copying it (the drain then sees the head move and drops the copy):
 * both sides copy with relaxed atomic 8-byte accesses, a defined race.
 */
static void copy_relaxed(char *dst, const char *src, bool dst_shared)
{
	for (size_t i = 0; i < SL_TRACE_MSG; i += 8) {
		uint64_t w;

		if (dst_shared) {
			memcpy(&w, src + i, 8);
			__atomic_store_n((uint64_t *)(void *)(dst + i), w, __ATOMIC_RELAXED);
		} else {
			w = __atomic_load_n((const uint64_t *)(const void *)(src + i),
					    __ATOMIC_RELAXED);
			memcpy(dst + i, &w, 8);
		}
	}
}

/* one conversion "%[flags][width][.prec][l|ll]c" at *fmt: its length, or -1 */
static int trace_spec(const char *fmt, const char *end, char *spec, char *conv)
{
	const char *p = fmt + 1;
	size_t n;

	while (p < end && strchr("-+ #0", *p))
		p++;
	while (p < end && ((*p >= '0' && *p <= '9') || *p == '.'))
		p++;
	if (p < end && *p == 'l')
		p++;
	if (p < end && *p == 'l')
		p++;
	if (p >= end || !strchr("diuxXcps%", *p))
		return -1;
	if (*p == 'p' && p + 2 < end && (p[1] == 'I' || p[1] == 'i') && (p[2] == '4' || p[2] == '6')) {
		*conv = p[1] == 'I' ? (p[2] == '4' ? 'A' : 'B') : (p[2] == '4' ? 'a' : 'b');
		p += 2;
		n = (size_t)(p - fmt + 1);
		memcpy(spec, fmt, n);
		spec[n] = 0;
		return (int)n;
	}
	if (*p == 'p' && p + 1 < end && (p[1] == 'x' || p[1] == 'K'))
		p++;
	n = (size_t)(p - fmt + 1);
	if (n > 15)
		return -1;
	*conv = *p == 'x' && p[-1] == 'p' ? 'p' : *p == 'K' ? 'p' : *p;
	memcpy(spec, fmt, n);
	spec[n] = 0;
	return (int)n;
}

/*
 * Copy @p len bytes from an address the program passed (not proven
 * readable): through process_vm_readv on our own process, which fails with
 * EFAULT instead of faulting, as the kernel's copy_from_kernel_nofault.
 * Returns the bytes copied (up to the first unreadable page).
 */
static size_t read_nofault(void *dst, uint64_t src, size_t len)
{
	struct iovec local = { .iov_base = dst, .iov_len = len };
	struct iovec remote = { .iov_base = (void *)(uintptr_t)src, .iov_len = len };
	ssize_t n = src ? process_vm_readv(getpid(), &local, 1, &remote, 1, 0) : -1;

	return n > 0 ? (size_t)n : 0;
}

/* %s: at most SL_TRACE_MSG bytes of a string, page by page; unreadable: "" */
static int trace_str(char *out, size_t room, const char *spec, uint64_t arg)
{
	char s[SL_TRACE_MSG];
	size_t got = 0;

	while (got < sizeof(s) - 1) {
		size_t page = 4096 - ((arg + got) & 4095), want = sizeof(s) - 1 - got, n;

		n = read_nofault(s + got, arg + got, want < page ? want : page);
		if (!n || memchr(s + got, 0, n)) {
			got += n;
			break;
		}
		got += n;
	}
	s[got] = 0;
	return snprintf(out, room, spec, s);
}

/* %pI4 1.2.3.4, %pi4 001.002.003.004, %pI6 2001:0db8:...:0001, %pi6 32 hex digits */
static int trace_ip(char *out, size_t room, char conv, uint64_t arg)
{
	uint8_t a[16] = { 0 };
	char buf[48];
	int n = 0;

	if (conv == 'A' || conv == 'a') {
		read_nofault(a, arg, 4);  /* unreadable: 0.0.0.0, as the kernel prints it */
		return snprintf(out, room, conv == 'A' ? "%u.%u.%u.%u" : "%03u.%03u.%03u.%03u",
				a[0], a[1], a[2], a[3]);
	}
	read_nofault(a, arg, 16);
	for (int i = 0; i < 16; i += 2)
		n += snprintf(buf + n, sizeof(buf) - (size_t)n, "%s%02x%02x",
			      conv == 'B' && i ? ":" : "", a[i], a[i + 1]);
	return snprintf(out, room, "%s", buf);
}

/* format one conversion into out (NULL: only count); returns its length */
static int trace_conv(char *out, size_t room, char *spec, size_t n, char conv, uint64_t arg)
{
	char *lm;

	if (conv == '%')
		return snprintf(out, room, "%%");
	if (conv == 's')
		return trace_str(out, room, spec, arg);
	if (strchr("AaBb", conv))
		return trace_ip(out, room, conv, arg);
	if (conv == 'p')
		return snprintf(out, room, "0x%llx", (unsigned long long)arg);
	lm = spec + 1;
	while (*lm && *lm != 'l' && *lm != conv)
		lm++;
	/* rewrite as a long long conversion, truncating as the modifier says */
	if (*lm != 'l') {
		memmove(lm + 2, lm, strlen(lm) + 1);
		lm[0] = lm[1] = 'l';
		arg = conv == 'd' || conv == 'i' ? (uint64_t)(int64_t)(int32_t)arg : (uint32_t)arg;
	} else if (lm[1] != 'l') {
		memmove(lm + 1, lm, strlen(lm) + 1);
	}
	if (conv == 'c')
		return snprintf(out, room, "%c", (int)(char)arg);
	return snprintf(out, room, spec, (long long)arg);
}

static int trace_format(char *buf, size_t room, const char *fmt, size_t fmt_len,
			const uint64_t args[3])
{
	const char *p = fmt, *end = fmt + fmt_len;
	unsigned nargs = 0;
	size_t len = 0;

	while (p < end) {
		char spec[24], conv;
		int n, w;

		if (*p != '%') {
			if (len + 1 < room)
				buf[len] = *p;
			len++, p++;
			continue;
		}
		n = trace_spec(p, end, spec, &conv);
		if (n < 0 || (conv != '%' && nargs == 3))
			return -EINVAL;
		w = trace_conv(len < room ? buf + len : NULL, len < room ? room - len : 0,
			       spec, (size_t)n, conv, conv == '%' ? 0 : args[nargs]);
		nargs += conv != '%';
		len += (size_t)w;
		p += n;
	}
	if (room)
		buf[len < room ? len : room - 1] = 0;
	return (int)len;
}

static uint64_t trace_printk(uint64_t fmt, uint64_t fmt_size, uint64_t a3, uint64_t a4,
			     uint64_t a5)
{
	const char *f = PTR(fmt);
	const uint64_t args[3] = {a3, a4, a5};
	struct trace_slot *t = &trace_slots[sl_map_cpu % SL_MAX_CPUS];
	char msg[SL_TRACE_MSG] = {0};
	uint64_t h;
	int len;

	if (!fmt_size || f[fmt_size - 1] != 0)
		return U64(-EINVAL);
	h = atomic_load_explicit(&t->head, memory_order_relaxed);
	len = trace_format(msg, SL_TRACE_MSG, f, strlen(f), args);
	if (len < 0)
		return U64(len);
	copy_relaxed(t->msg[h % SL_TRACE_RING], msg, true);
	__atomic_store_n(&t->ns[h % SL_TRACE_RING], clock_ns(CLOCK_MONOTONIC),
			 __ATOMIC_RELAXED);
	atomic_store_explicit(&t->head, h + 1, memory_order_release);
	return (uint64_t)len;
}

static unsigned trace_drain(void (*cb)(uint32_t cpu, const char *msg, void *ctx),
			    void (*cb_ns)(uint32_t cpu, uint64_t ns, const char *msg, void *ctx),
			    void *ctx, uint64_t *lost);

unsigned sl_helper_trace_drain(void (*cb)(uint32_t cpu, const char *msg, void *ctx), void *ctx,
			       uint64_t *lost)
{
	return trace_drain(cb, NULL, ctx, lost);
}

unsigned sl_helper_trace_drain_ns(void (*cb)(uint32_t cpu, uint64_t ns, const char *msg,
					     void *ctx), void *ctx, uint64_t *lost)
{
	return trace_drain(NULL, cb, ctx, lost);
}

static unsigned trace_drain(void (*cb)(uint32_t cpu, const char *msg, void *ctx),
			    void (*cb_ns)(uint32_t cpu, uint64_t ns, const char *msg, void *ctx),
			    void *ctx, uint64_t *lost)
{
	unsigned n = 0;

	for (uint32_t c = 0; c < SL_MAX_CPUS; c++) {
		struct trace_slot *t = &trace_slots[c];
		uint64_t head = atomic_load_explicit(&t->head, memory_order_acquire);

		/* the oldest slot is the one a writer overwrites next: keep RING - 1 */
		if (head - t->tail > SL_TRACE_RING - 1) {
			if (lost)
				*lost += head - (SL_TRACE_RING - 1) - t->tail;
			t->tail = head - (SL_TRACE_RING - 1);
		}
		for (; t->tail < head; t->tail++) {
			char msg[SL_TRACE_MSG];
			uint64_t ns = __atomic_load_n(&t->ns[t->tail % SL_TRACE_RING],
						      __ATOMIC_RELAXED);

			copy_relaxed(msg, t->msg[t->tail % SL_TRACE_RING], false);
			atomic_thread_fence(memory_order_acquire);
			/* overwritten while we copied it: the writer lapped us */
			if (atomic_load_explicit(&t->head, memory_order_relaxed) >=
			    t->tail + SL_TRACE_RING) {
				if (lost)
					(*lost)++;
				continue;
			}
			msg[SL_TRACE_MSG - 1] = 0;
			if (cb_ns)
				cb_ns(c, ns, msg, ctx);
			else
				cb(c, msg, ctx);
			n++;
		}
	}
	return n;
}

/* ---- the table, indexed by kernel helper id ---- */

#define MAP_KEY_ARGS {SL_ARG_CONST_MAP_PTR, SL_ARG_PTR_TO_MAP_KEY}

static const struct sl_helper helpers[SL_HELPER_MAX] = {
	[BPF_FUNC_map_lookup_elem] = {"bpf_map_lookup_elem", map_lookup_elem,
		SL_RET_PTR_TO_MAP_VALUE_OR_NULL, MAP_KEY_ARGS, PT_ALL},
	[BPF_FUNC_map_update_elem] = {"bpf_map_update_elem", map_update_elem, SL_RET_INTEGER,
		{SL_ARG_CONST_MAP_PTR, SL_ARG_PTR_TO_MAP_KEY, SL_ARG_PTR_TO_MAP_VALUE,
		 SL_ARG_ANYTHING}, PT_ALL},
	[BPF_FUNC_map_delete_elem] = {"bpf_map_delete_elem", map_delete_elem, SL_RET_INTEGER,
		MAP_KEY_ARGS, PT_ALL},
	[BPF_FUNC_ktime_get_ns] = {"bpf_ktime_get_ns", ktime_get_ns, SL_RET_INTEGER, {0}, PT_ALL},
	/* as the kernel's prototype: only fmt and its size are checked; r3-r5
	 * may be unset (bpf_printk with fewer than three arguments) */
	[BPF_FUNC_trace_printk] = {"bpf_trace_printk", trace_printk, SL_RET_INTEGER,
		{SL_ARG_PTR_TO_MEM, SL_ARG_CONST_SIZE}, PT_ALL},
	[BPF_FUNC_get_prandom_u32] = {"bpf_get_prandom_u32", get_prandom_u32, SL_RET_INTEGER,
		{0}, PT_ALL},
	[BPF_FUNC_get_smp_processor_id] = {"bpf_get_smp_processor_id", get_smp_processor_id,
		SL_RET_INTEGER, {0}, PT_ALL},
	[BPF_FUNC_tail_call] = {"bpf_tail_call", tail_call, SL_RET_VOID,
		{SL_ARG_PTR_TO_CTX, SL_ARG_CONST_MAP_PTR, SL_ARG_ANYTHING}, PT_XDP | PT_SOCKET},
	[BPF_FUNC_redirect] = {"bpf_redirect", redirect, SL_RET_INTEGER,
		{SL_ARG_ANYTHING, SL_ARG_ANYTHING}, PT_XDP},
	[BPF_FUNC_skb_load_bytes] = {"bpf_skb_load_bytes", skb_load_bytes, SL_RET_INTEGER,
		{SL_ARG_PTR_TO_CTX, SL_ARG_ANYTHING, SL_ARG_PTR_TO_UNINIT_MEM, SL_ARG_CONST_SIZE},
		PT_SOCKET},
	[BPF_FUNC_xdp_adjust_head] = {"bpf_xdp_adjust_head", xdp_adjust_head, SL_RET_INTEGER,
		{SL_ARG_PTR_TO_CTX, SL_ARG_ANYTHING}, PT_XDP},
	[BPF_FUNC_redirect_map] = {"bpf_redirect_map", redirect_map, SL_RET_INTEGER,
		{SL_ARG_CONST_MAP_PTR, SL_ARG_ANYTHING, SL_ARG_ANYTHING}, PT_XDP},
	[BPF_FUNC_xdp_adjust_meta] = {"bpf_xdp_adjust_meta", xdp_adjust_meta, SL_RET_INTEGER,
		{SL_ARG_PTR_TO_CTX, SL_ARG_ANYTHING}, PT_XDP},
	[BPF_FUNC_xdp_adjust_tail] = {"bpf_xdp_adjust_tail", xdp_adjust_tail, SL_RET_INTEGER,
		{SL_ARG_PTR_TO_CTX, SL_ARG_ANYTHING}, PT_XDP},
	/* params is read and written: marked written (the kernel also demands it initialised) */
	[BPF_FUNC_fib_lookup] = {"bpf_fib_lookup", fib_lookup, SL_RET_INTEGER,
		{SL_ARG_PTR_TO_CTX, SL_ARG_PTR_TO_UNINIT_MEM, SL_ARG_CONST_SIZE, SL_ARG_ANYTHING},
		PT_XDP, .no_pkt_mem = true},
	[BPF_FUNC_csum_diff] = {"bpf_csum_diff", csum_diff, SL_RET_INTEGER,
		{SL_ARG_PTR_TO_MEM_OR_NULL, SL_ARG_CONST_SIZE_OR_ZERO, SL_ARG_PTR_TO_MEM_OR_NULL,
		 SL_ARG_CONST_SIZE_OR_ZERO, SL_ARG_ANYTHING}, PT_RAW | PT_XDP},
	[BPF_FUNC_perf_event_output] = {"bpf_perf_event_output", perf_event_output,
		SL_RET_INTEGER, {SL_ARG_PTR_TO_CTX, SL_ARG_CONST_MAP_PTR, SL_ARG_ANYTHING,
		SL_ARG_PTR_TO_MEM, SL_ARG_CONST_SIZE_OR_ZERO}, PT_XDP, .no_pkt_mem = true},
	[BPF_FUNC_loop] = {"bpf_loop", loop, SL_RET_INTEGER,
		{SL_ARG_ANYTHING, SL_ARG_PTR_TO_FUNC, SL_ARG_PTR_TO_STACK_OR_NULL, SL_ARG_ANYTHING},
		PT_ALL},
	[BPF_FUNC_ringbuf_output] = {"bpf_ringbuf_output", ringbuf_output, SL_RET_INTEGER,
		{SL_ARG_CONST_MAP_PTR, SL_ARG_PTR_TO_MEM, SL_ARG_CONST_SIZE_OR_ZERO,
		 SL_ARG_ANYTHING}, PT_ALL},
	[BPF_FUNC_ringbuf_reserve] = {"bpf_ringbuf_reserve", ringbuf_reserve,
		SL_RET_PTR_TO_ALLOC_MEM_OR_NULL,
		{SL_ARG_CONST_MAP_PTR, SL_ARG_CONST_ALLOC_SIZE_OR_ZERO, SL_ARG_ANYTHING}, PT_ALL},
	[BPF_FUNC_ringbuf_submit] = {"bpf_ringbuf_submit", ringbuf_submit, SL_RET_VOID,
		{SL_ARG_PTR_TO_ALLOC_MEM, SL_ARG_ANYTHING}, PT_ALL},
	[BPF_FUNC_ringbuf_discard] = {"bpf_ringbuf_discard", ringbuf_discard, SL_RET_VOID,
		{SL_ARG_PTR_TO_ALLOC_MEM, SL_ARG_ANYTHING}, PT_ALL},
	[BPF_FUNC_ringbuf_query] = {"bpf_ringbuf_query", ringbuf_query, SL_RET_INTEGER,
		{SL_ARG_CONST_MAP_PTR, SL_ARG_ANYTHING}, PT_ALL},
	[BPF_FUNC_ktime_get_boot_ns] = {"bpf_ktime_get_boot_ns", ktime_get_boot_ns,
		SL_RET_INTEGER, {0}, PT_ALL},
	[BPF_FUNC_ktime_get_coarse_ns] = {"bpf_ktime_get_coarse_ns", ktime_get_coarse_ns,
		SL_RET_INTEGER, {0}, PT_ALL},
	[BPF_FUNC_xdp_get_buff_len] = {"bpf_xdp_get_buff_len", xdp_get_buff_len, SL_RET_INTEGER,
		{SL_ARG_PTR_TO_CTX}, PT_XDP},
	[BPF_FUNC_xdp_load_bytes] = {"bpf_xdp_load_bytes", xdp_load_bytes, SL_RET_INTEGER,
		{SL_ARG_PTR_TO_CTX, SL_ARG_ANYTHING, SL_ARG_PTR_TO_UNINIT_MEM, SL_ARG_CONST_SIZE},
		PT_XDP},
	[BPF_FUNC_xdp_store_bytes] = {"bpf_xdp_store_bytes", xdp_store_bytes, SL_RET_INTEGER,
		{SL_ARG_PTR_TO_CTX, SL_ARG_ANYTHING, SL_ARG_PTR_TO_MEM, SL_ARG_CONST_SIZE},
		PT_XDP},
	[BPF_FUNC_map_lookup_percpu_elem] = {"bpf_map_lookup_percpu_elem",
		map_lookup_percpu_elem, SL_RET_PTR_TO_MAP_VALUE_OR_NULL,
		{SL_ARG_CONST_MAP_PTR, SL_ARG_PTR_TO_MAP_KEY, SL_ARG_ANYTHING}, PT_ALL},
};

const struct sl_helper *sl_helper_get(uint32_t id)
{
	if (id >= SL_HELPER_MAX || !helpers[id].fn)
		return NULL;
	return &helpers[id];
}
