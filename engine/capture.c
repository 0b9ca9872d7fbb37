/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * `sluice ctl capture`: the control-thread half (the worker half is inline
 * in capture.h, the client writing pcap in cmd_ctl.c).
 *
 * One capture at a time, owned by one control connection that becomes a
 * stream. Request:
 *
 *   {"cmd": "capture", "verdicts": ["drop", ...] (default all),
 *    "port": NAME|INDEX (default every port), "count": N (0: until stopped),
 *    "snaplen": N (default 65535), "both": bool}
 *
 * Response {"ok": true, "result": {"verdicts": [...], "ports": [...],
 * "snaplen": N, "both": b, "workers": W, "count": N, "copy": "after verdict"
 * | "before program"}}, then one line per record:
 *
 *   {"pkt": {"ts": NS, "port": I, "verdict": "drop", "after": false,
 *            "len": WIRE_LEN, "data": "hex"}}
 *
 * and at the end (count reached, the client shut its side, the engine
 * stopping) {"end": "why", "packets": N, "records": R, "lost": L}, where L
 * counts the chosen packets the workers could not put into their ring.
 *
 * Start: rings allocated once (4 MiB per worker) and emptied, settings
 * written (with the running exec as ro_exec when sl_capture_prog_ro() proves
 * its program never writes packets), then capture_on stored with release. Stop: capture_on cleared,
 * sl_map_synchronize() (no worker still in a capturing burst), lost read.
 * Draining stops while the client has more than SL_CAP_CLIENT_MAX bytes
 * unread, so a slow reader fills the rings and the workers count the loss:
 * the traffic itself is never slowed or dropped. Control thread.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture.h"
#include "ctl_internal.h"
#include "sl_config.h"
#include "sl_maps.h"

#define SL_CAP_CLIENT_MAX (1u << 20)  /**< unread bytes at the client before draining pauses */
#define SL_CAP_PER_TURN 65536u        /**< records per loop turn at most */

static int rings_alloc(struct sl_engine *eng)
{
	struct sl_capture *cap = eng->capture;

	if (!cap) {
		cap = calloc(1, sizeof(*cap));
		if (!cap)
			return -ENOMEM;
		eng->capture = cap;
	}
	if (cap->rings)
		return 0;
	cap->rings = aligned_alloc(SL_RUN_CACHE_LINE, sizeof(*cap->rings) * eng->nworkers);
	if (!cap->rings)
		return -ENOMEM;
	memset(cap->rings, 0, sizeof(*cap->rings) * eng->nworkers);
	cap->nrings = eng->nworkers;
	for (unsigned w = 0; w < eng->nworkers; w++) {
		cap->rings[w].buf = aligned_alloc(SL_RUN_CACHE_LINE, SL_CAP_RING_BYTES);
		if (cap->rings[w].buf)
			continue;
		for (unsigned k = 0; k < w; k++)
			free(cap->rings[k].buf);
		free(cap->rings);
		cap->rings = NULL;
		return -ENOMEM;
	}
	return 0;
}

static int parse_verdicts(json_t *j, uint32_t *mask, char *err, size_t err_len)
{
	size_t i;
	json_t *v;

	*mask = 0;
	if (!j) {
		*mask = (1u << SL_VERDICT_COUNT) - 1;
		return 0;
	}
	if (!json_is_array(j) || !json_array_size(j)) {
		snprintf(err, err_len, "capture: \"verdicts\" must be a list of verdict names");
		return -EINVAL;
	}
	json_array_foreach(j, i, v) {
		const char *s = json_string_value(v);
		unsigned k;

		if (s && !strcmp(s, "all")) {
			*mask = (1u << SL_VERDICT_COUNT) - 1;
			continue;
		}
		for (k = 0; s && k < SL_VERDICT_COUNT; k++)
			if (!strcmp(s, sl_verdict_name(k)))
				break;
		if (!s || k == SL_VERDICT_COUNT) {
			snprintf(err, err_len, "capture: unknown verdict '%s' (want aborted, drop, "
				 "pass, tx, redirect, redirect_failed, trim or all)", s ? s : "?");
			return -EINVAL;
		}
		*mask |= 1u << k;
	}
	return 0;
}

/* A port by config name, device name or index. */
static int parse_port(const struct sl_engine *eng, json_t *j, uint32_t *mask, char *err,
		      size_t err_len)
{
	const struct sl_run_opts *o = eng->opts;
	const char *s = json_string_value(j);
	char idx[16];

	if (!j) {
		*mask = (1u << eng->nports) - 1;
		return 0;
	}
	for (unsigned p = 0; s && p < eng->nports; p++) {
		snprintf(idx, sizeof(idx), "%u", p);
		if (!strcmp(s, o->ports[p].name) || !strcmp(s, idx) ||
		    (o->cfg && p < o->cfg->nports && !strcmp(s, o->cfg->ports[p].name))) {
			*mask = 1u << p;
			return 0;
		}
	}
	snprintf(err, err_len, "capture: no port '%s' (a port name or index)", s ? s : "?");
	return -EINVAL;
}

static json_t *settings_json(const struct sl_engine *eng, const struct sl_capture *cap)
{
	json_t *v = json_array(), *p = json_array();

	for (unsigned k = 0; k < SL_VERDICT_COUNT; k++)
		if ((cap->verdicts >> k) & 1)
			json_array_append_new(v, json_string(sl_verdict_name(k)));
	for (unsigned k = 0; k < eng->nports; k++)
		if ((cap->ports >> k) & 1)
			json_array_append_new(p, json_string(eng->opts->ports[k].name));
	return json_pack("{s:o, s:o, s:I, s:b, s:I, s:I, s:s}", "verdicts", v, "ports", p,
			 "snaplen", (json_int_t)cap->snaplen, "both", cap->both,
			 "workers", (json_int_t)eng->nworkers, "count", (json_int_t)cap->count,
			 "copy", cap->ro_exec ? "after verdict" : "before program");
}

json_t *sl_capture_open(struct sl_ctl *ctl, struct ctl_client *c, json_t *req, char *err,
			size_t err_len)
{
	struct sl_engine *eng = ctl->eng;
	json_t *jc = json_object_get(req, "count"), *js = json_object_get(req, "snaplen");
	uint32_t verdicts, ports;
	int e;

	if (eng->capture && eng->capture->client) {
		snprintf(err, err_len, "capture: a capture is already running (one at a time)");
		return NULL;
	}
	if (parse_verdicts(json_object_get(req, "verdicts"), &verdicts, err, err_len) ||
	    parse_port(eng, json_object_get(req, "port"), &ports, err, err_len))
		return NULL;
	if ((jc && (!json_is_integer(jc) || json_integer_value(jc) < 0)) ||
	    (js && (!json_is_integer(js) || json_integer_value(js) < 1 ||
		    json_integer_value(js) > SL_CAP_MAX_SNAPLEN))) {
		snprintf(err, err_len, "capture: \"count\" must be an integer >= 0 and \"snaplen\" "
			 "one in 1..%u", SL_CAP_MAX_SNAPLEN);
		return NULL;
	}
	e = rings_alloc(eng);
	if (e) {
		snprintf(err, err_len, "capture: cannot allocate the rings: %s", strerror(-e));
		return NULL;
	}
	/* capture is off and no worker is in a capturing burst: settings are ours */
	for (unsigned w = 0; w < eng->capture->nrings; w++) {
		struct sl_cap_ring *r = &eng->capture->rings[w];

		r->tail = r->tail_seen = r->head;
		r->lost = 0;
	}
	eng->capture->ro_exec = sl_capture_prog_ro(eng->prog) ? eng->exec : NULL;
	eng->capture->verdicts = verdicts;
	eng->capture->ports = ports;
	eng->capture->snaplen = js ? (uint32_t)json_integer_value(js) : SL_CAP_MAX_SNAPLEN;
	eng->capture->both = json_is_true(json_object_get(req, "both"));
	eng->capture->count = jc ? (uint64_t)json_integer_value(jc) : 0;
	eng->capture->packets = eng->capture->records = 0;
	eng->capture->client = c;
	c->sub = CTL_SUB_CAPTURE;
	__atomic_store_n(&eng->capture_on, 1, __ATOMIC_RELEASE);
	return settings_json(eng, eng->capture);
}

/* Capture off; once this returns no worker writes a ring. The packets lost. */
static uint64_t capture_off(struct sl_engine *eng)
{
	struct sl_capture *cap = eng->capture;
	uint64_t lost = 0;

	__atomic_store_n(&eng->capture_on, 0, __ATOMIC_RELEASE);
	sl_map_synchronize();
	for (unsigned w = 0; w < cap->nrings; w++)
		lost += cap->rings[w].lost;
	cap->client = NULL;
	return lost;
}

void sl_capture_finish(struct sl_ctl *ctl, struct ctl_client *c, const char *why)
{
	struct sl_capture *cap = ctl->eng->capture;
	uint64_t lost;

	if (!cap || cap->client != c)
		return;
	lost = capture_off(ctl->eng);
	sl_ctl_send(c, json_pack("{s:s, s:o, s:o, s:o}", "end", why, "packets",
				 sl_json_u64(cap->packets), "records", sl_json_u64(cap->records),
				 "lost", sl_json_u64(lost)), SL_CAP_CLIENT_MAX * 2);
	c->sub = CTL_SUB_NONE;
	c->eof = true;  /* closed once the line is out */
}

void sl_capture_gone(struct sl_ctl *ctl, struct ctl_client *c)
{
	struct sl_capture *cap = ctl->eng->capture;

	if (cap && cap->client == c)
		capture_off(ctl->eng);
}

/* Copy @p n bytes at ring position @p pos out (wrapping). */
static void ring_get(const struct sl_cap_ring *r, uint64_t pos, void *dst, uint32_t n)
{
	uint32_t off = (uint32_t)(pos & (SL_CAP_RING_BYTES - 1));
	uint32_t first = SL_CAP_RING_BYTES - off;

	if (n <= first) {
		memcpy(dst, r->buf + off, n);
	} else {
		memcpy(dst, r->buf + off, first);
		memcpy((uint8_t *)dst + first, r->buf, n - first);
	}
}

static bool ctl_full(const struct ctl_client *c)
{
	return c->out_len - c->out_off > SL_CAP_CLIENT_MAX;
}

/* One record to the client (its limit is twice what ctl_full() stops at). */
static int send_rec(struct sl_ctl *ctl, struct sl_cap_ring *r, uint64_t pos,
		    const struct sl_cap_rec *h, uint8_t *tmp)
{
	struct ctl_client *c = ctl->eng->capture->client;

	ring_get(r, pos + sizeof(*h), tmp, h->caplen);
	return sl_ctl_send(c, json_pack("{s:{s:o, s:I, s:s, s:b, s:I, s:o}}", "pkt",
					"ts", sl_json_u64(h->ts_ns), "port", (json_int_t)h->port,
					"verdict", sl_verdict_name(h->verdict), "after", h->after,
					"len", (json_int_t)h->orig_len, "data",
					sl_json_hex(tmp, h->caplen)), SL_CAP_CLIENT_MAX * 2);
}

/* Drain one ring as far as the client, the count and the budget allow. */
static void drain_ring(struct sl_ctl *ctl, struct sl_cap_ring *r, uint8_t *tmp, unsigned *budget)
{
	struct sl_capture *cap = ctl->eng->capture;
	uint64_t head = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE), tail = r->tail;

	while (tail < head) {
		struct sl_cap_rec h;

		ring_get(r, tail, &h, sizeof(h));
		/* a packet's two records (--both) are never split */
		if (!h.after && (!*budget || (cap->count && cap->packets == cap->count) ||
				 ctl_full(cap->client)))
			break;
		if (send_rec(ctl, r, tail, &h, tmp))
			break;
		tail += h.size;
		cap->records++;
		cap->packets += !h.after;
		*budget -= *budget > 0;
	}
	__atomic_store_n(&r->tail, tail, __ATOMIC_RELEASE);
}

void sl_capture_drain(struct sl_ctl *ctl)
{
	struct sl_capture *cap = ctl->eng->capture;
	static uint8_t tmp[SL_CAP_MAX_SNAPLEN + 8];
	unsigned budget = SL_CAP_PER_TURN;
	bool done = false;

	if (!cap || !cap->client)
		return;
	for (unsigned w = 0; w < cap->nrings; w++)
		drain_ring(ctl, &cap->rings[w], tmp, &budget);
	if (cap->count && cap->packets >= cap->count) {
		done = true;
		/* the after record of the last packet may still be in a ring */
		for (unsigned w = 0; w < cap->nrings && cap->both; w++) {
			struct sl_cap_ring *r = &cap->rings[w];
			struct sl_cap_rec h;

			if (r->tail < __atomic_load_n(&r->head, __ATOMIC_ACQUIRE)) {
				ring_get(r, r->tail, &h, sizeof(h));
				done &= !h.after;
			}
		}
	}
	if (done)
		sl_capture_finish(ctl, cap->client, "count reached");
}

/* Helpers that write no memory through pointer arguments (kernel numbering). */
static bool helper_writes_no_args(int32_t id)
{
	switch (id) {
	case BPF_FUNC_map_lookup_elem: case BPF_FUNC_map_update_elem:
	case BPF_FUNC_map_delete_elem: case BPF_FUNC_ktime_get_ns:
	case BPF_FUNC_trace_printk: case BPF_FUNC_get_prandom_u32:
	case BPF_FUNC_get_smp_processor_id: case BPF_FUNC_redirect:
	case BPF_FUNC_redirect_map: case BPF_FUNC_perf_event_output:
	case BPF_FUNC_csum_diff: case BPF_FUNC_xdp_adjust_head:
	case BPF_FUNC_xdp_adjust_meta: case BPF_FUNC_xdp_adjust_tail:
	case BPF_FUNC_ringbuf_output: case BPF_FUNC_ringbuf_reserve:
	case BPF_FUNC_ringbuf_submit: case BPF_FUNC_ringbuf_discard:
	case BPF_FUNC_ktime_get_boot_ns: case BPF_FUNC_jiffies64:
		return true;
	default:
		return false;
	}
}

/*
 * One pass of sl_capture_prog_ro's fixpoint over @p pkt (bit r: register r
 * may hold a packet pointer somewhere) and @p spilled (one may be in
 * memory). Returns -1 on a possible packet write, 1 if the sets grew.
 */
static int ro_pass(const struct sl_prog *p, uint32_t *pkt, bool *spilled)
{
	uint32_t r0 = *pkt;
	bool s0 = *spilled;

	for (uint32_t pc = 0; pc < p->n_insns; pc++) {
		const struct bpf_insn *in = &p->insns[pc];
		uint32_t src = (*pkt >> in->src_reg) & 1, dst = (*pkt >> in->dst_reg) & 1;

		switch (BPF_CLASS(in->code)) {
		case BPF_LD:
			pc += in->code == (BPF_LD | BPF_IMM | BPF_DW);  /* lddw: two slots */
			break;
		case BPF_LDX:  /* data, data_end, data_meta; or a spilled pointer filled */
			if (p->aux[pc].ctx_access || *spilled)
				*pkt |= 1u << in->dst_reg;
			break;
		case BPF_STX:
			if (BPF_MODE(in->code) == BPF_ATOMIC && *spilled)  /* fetch: old value out */
				*pkt |= 1u << in->src_reg | 1u;
			*spilled |= src;
			/* fallthrough */
		case BPF_ST:
			if (dst)
				return -1;
			break;
		case BPF_ALU64:
		case BPF_ALU:
			if (BPF_SRC(in->code) == BPF_X && src)
				*pkt |= 1u << in->dst_reg;
			break;
		case BPF_JMP:
			if (BPF_OP(in->code) != BPF_CALL || in->src_reg == BPF_PSEUDO_CALL)
				break;
			if (in->imm == BPF_FUNC_tail_call ||
			    (!helper_writes_no_args(in->imm) && (*pkt & 0x3eu)))
				return -1;
			break;
		default:
			break;
		}
	}
	return *pkt != r0 || *spilled != s0;
}

bool sl_capture_prog_ro(const struct sl_prog *prog)
{
	uint32_t pkt = 0;
	bool spilled = false;
	int r;

	if (!prog || !prog->verified || !prog->aux)
		return false;
	while ((r = ro_pass(prog, &pkt, &spilled)) > 0)
		;  /* at most 12 growing passes: 11 registers and the spill flag */
	return r == 0;
}

void sl_capture_prog_changed(struct sl_engine *eng, bool before)
{
	struct sl_capture *cap = eng->capture;

	if (!cap)
		return;
	if (before) {
		__atomic_store_n(&cap->ro_exec, NULL, __ATOMIC_RELEASE);
		return;
	}
	if (cap->client && sl_capture_prog_ro(eng->prog))
		__atomic_store_n(&cap->ro_exec, eng->exec, __ATOMIC_RELEASE);
}

void sl_capture_free(struct sl_engine *eng)
{
	struct sl_capture *cap = eng->capture;

	if (!cap)
		return;
	for (unsigned w = 0; cap->rings && w < cap->nrings; w++)
		free(cap->rings[w].buf);
	free(cap->rings);
	free(cap);
	eng->capture = NULL;
}
