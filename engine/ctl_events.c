/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * `ctl events NAME`: the control thread drains a RINGBUF or a
 * PERF_EVENT_ARRAY (its one consumer) every loop turn, while at least one
 * client follows it, and sends each record to every follower as one line:
 *
 *   {"event": {"cpu": W, "len": N, "data": "hex bytes"[, "value": typed]}, "lost": L}
 *
 * With "type": NAME (a struct, union, typedef or integer of the program's
 * BTF), "value" is the record's first bytes typed by it (sl_text's JSON
 * form), for records at least that long.
 * ("cpu" only for PERF_EVENT_ARRAY: the worker that wrote it). "lost" is
 * what the program could not write because the ring was full (RINGBUF:
 * refused reservations; PERF_EVENT_ARRAY: lost samples), plus the lines
 * this client left unread beyond SL_CTL_MAX_STREAM. Workers never wait:
 * a full ring refuses the record and counts it. A map nobody follows is
 * not drained (as in the kernel, an unread ring fills and then refuses).
 * Control thread.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/btf.h>

#include "ctl_internal.h"
#include "sl_maps.h"

static struct sl_map *find_map(const struct sl_engine *eng, const char *name)
{
	for (unsigned i = 0; i < sl_obj_map_count(eng->obj); i++) {
		struct sl_map *m = sl_obj_map(eng->obj, i);

		if (!strcmp(sl_map_name(m), name))
			return m;
	}
	return NULL;
}

static bool is_event_map(const struct sl_map *m)
{
	uint32_t t = sl_map_get_def(m)->type;

	return t == BPF_MAP_TYPE_RINGBUF || t == BPF_MAP_TYPE_PERF_EVENT_ARRAY;
}

static uint64_t map_lost(struct sl_map *m)
{
	return sl_map_get_def(m)->type == BPF_MAP_TYPE_RINGBUF ? sl_map_ringbuf_dropped(m) :
	       sl_map_perf_event_lost(m);
}

/* "type": NAME of a struct, union, typedef or integer in the object's BTF: records typed by it. */
static int events_type(struct sl_ctl *ctl, struct ctl_client *c, const char *name, char *err,
		       size_t err_len)
{
	const struct btf *btf = sl_obj_btf(ctl->eng->obj);
	static const int kinds[] = { BTF_KIND_STRUCT, BTF_KIND_UNION, BTF_KIND_TYPEDEF, BTF_KIND_INT };
	int32_t id = -1;
	int64_t size;

	c->type = (struct sl_text_type){ 0 };
	if (!name)
		return 0;
	for (size_t i = 0; btf && id < 0 && i < sizeof(kinds) / sizeof(kinds[0]); i++)
		id = btf__find_by_name_kind(btf, name, kinds[i]);
	size = id > 0 ? btf__resolve_size(btf, (uint32_t)id) : -1;
	if (id <= 0 || size <= 0 || size > 65536) {
		if (err)
			snprintf(err, err_len, "events: no type '%s' in the program's BTF", name);
		return -ENOENT;
	}
	c->type = (struct sl_text_type){ .btf = btf, .id = (uint32_t)id, .size = (uint32_t)size };
	if (name != c->type_name)
		snprintf(c->type_name, sizeof(c->type_name), "%s", name);
	return 0;
}

json_t *sl_ctl_events_open(struct sl_ctl *ctl, struct ctl_client *c, json_t *req, char *err,
			   size_t err_len)
{
	const char *name = json_string_value(json_object_get(req, "map"));
	struct sl_map *m;

	if (!name) {
		snprintf(err, err_len, "events: want \"map\": NAME");
		return NULL;
	}
	m = find_map(ctl->eng, name);
	if (!m) {
		snprintf(err, err_len, "events: no map '%s'", name);
		return NULL;
	}
	if (!is_event_map(m)) {
		snprintf(err, err_len, "events: map '%s' is a %s, not a ringbuf or "
			 "perf_event_array", name, sl_map_type_name(sl_map_get_def(m)->type));
		return NULL;
	}
	if (events_type(ctl, c, json_string_value(json_object_get(req, "type")), err, err_len))
		return NULL;
	c->sub = CTL_SUB_EVENTS;
	c->map = m;
	snprintf(c->sub_map, sizeof(c->sub_map), "%s", name);
	return json_pack("{s:s, s:s, s:o}", "map", name,
			 "type", sl_map_type_name(sl_map_get_def(m)->type),
			 "lost", sl_json_u64(map_lost(m)));
}

struct fanout {
	struct sl_ctl *ctl;
	struct sl_map *map;
	uint64_t lost;
};

static void send_record(struct fanout *f, int cpu, const void *data, uint32_t len)
{
	for (unsigned i = 0; i < SL_CTL_MAX_CLIENTS; i++) {
		struct ctl_client *c = &f->ctl->clients[i];
		json_t *ev;

		if (c->fd < 0 || c->sub != CTL_SUB_EVENTS || c->map != f->map)
			continue;
		ev = json_pack("{s:I, s:o}", "len", (json_int_t)len, "data",
			       sl_json_hex(data, len));
		if (ev && c->type.btf && len >= c->type.size)  /* the record typed (its first bytes) */
			json_object_set_new(ev, "value", sl_json_typed(&c->type, data));
		if (ev && cpu >= 0)
			json_object_set_new(ev, "cpu", json_integer(cpu));
		if (sl_ctl_send(c, json_pack("{s:o, s:o}", "event", ev, "lost",
					     sl_json_u64(f->lost + c->dropped)), SL_CTL_MAX_STREAM))
			c->dropped++;
	}
}

static int on_ring(const void *data, uint32_t len, void *arg)
{
	send_record(arg, -1, data, len);
	return 0;
}

static int on_perf(uint32_t cpu, const void *data, uint32_t len, void *arg)
{
	send_record(arg, (int)cpu, data, len);
	return 0;
}

void sl_ctl_events_drain(struct sl_ctl *ctl)
{
	for (unsigned i = 0; i < SL_CTL_MAX_CLIENTS; i++) {
		struct ctl_client *c = &ctl->clients[i];
		struct fanout f = { .ctl = ctl, .map = c->map };
		bool first = true;

		if (c->fd < 0 || c->sub != CTL_SUB_EVENTS)
			continue;
		for (unsigned j = 0; j < i && first; j++)  /* drained for an earlier follower */
			first = !(ctl->clients[j].fd >= 0 && ctl->clients[j].sub == CTL_SUB_EVENTS &&
				  ctl->clients[j].map == c->map);
		if (!first)
			continue;
		f.lost = map_lost(c->map);
		if (sl_map_get_def(c->map)->type == BPF_MAP_TYPE_RINGBUF)
			sl_map_ringbuf_consume(c->map, on_ring, &f);
		else
			sl_map_perf_event_consume(c->map, on_perf, &f);
	}
}

void sl_ctl_events_remap(struct sl_ctl *ctl)
{
	for (unsigned i = 0; i < SL_CTL_MAX_CLIENTS; i++) {
		struct ctl_client *c = &ctl->clients[i];
		struct sl_map *m;

		if (c->fd < 0 || c->sub != CTL_SUB_EVENTS)
			continue;
		m = find_map(ctl->eng, c->sub_map);
		if (m && is_event_map(m) &&
		    (!c->type.btf || !events_type(ctl, c, c->type_name, NULL, 0))) {
			c->map = m;
			continue;
		}
		sl_ctl_send(c, json_pack("{s:s}", "end", "the reloaded program has no such event map "
					 "(or record type)"),
			    SL_CTL_MAX_STREAM + 4096);
		c->map = NULL;
		c->sub = CTL_SUB_NONE;
		c->eof = true;  /* closed once the line is out */
	}
}
