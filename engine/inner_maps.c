/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Inner maps that the control plane creates, as katran's does: `sluice ctl
 * map update OUTER KEY new` makes a new, empty map from OUTER's inner map
 * template (ARRAY_OF_MAPS / HASH_OF_MAPS: type, key and value size, flags,
 * max_entries, per-CPU slots) and puts it into OUTER at KEY; the normal map
 * commands then fill and read it as `OUTER[KEY]` (the inner map the slot
 * holds now, an object's map or a created one).
 *
 * Ids: a created map gets id SL_INNER_ID_BASE + n (n = 1, 2, ...), apart
 * from the object's maps (1 + their position), and keeps it across hot
 * reloads; `ctl map update OUTER KEY ID` puts it into another slot.
 * Lifetime: the engine owns created maps until it exits, wherever they
 * are (in a slot, or replaced and unreachable): a map replaced in a slot
 * may still be read by a worker's burst, and the object's own inner maps
 * live as long, so no grace period is ever needed to free one. At most
 * SL_INNER_MAX are created (each costs what its entries touch: maps/
 * reserve lazily).
 * Text of keys and values: through the BTF types of an object map with
 * the same definition (the inner maps the object declares from the same
 * struct), else untyped (integers, hex bytes).
 * Control thread only.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_internal.h"
#include "sl_maps.h"
#include "sl_text.h"

#define SL_INNER_MAX 4096u

struct sl_inner_map {
	struct sl_map *map;
	uint32_t id;
	struct sl_inner_map *next;
};

struct sl_map *sl_inner_by_id(const struct sl_engine *eng, uint32_t id)
{
	for (const struct sl_inner_map *im = eng->inner_maps; im; im = im->next)
		if (im->id == id)
			return im->map;
	return NULL;
}

static bool same_def(const struct sl_map *a, const struct sl_map *b)
{
	const struct sl_map_def *x = sl_map_get_def(a), *y = sl_map_get_def(b);

	return x->type == y->type && x->key_size == y->key_size &&
	       x->value_size == y->value_size && x->max_entries == y->max_entries &&
	       (x->map_flags & ~BPF_F_INNER_MAP) == (y->map_flags & ~BPF_F_INNER_MAP) &&
	       sl_map_ncpus(a) == sl_map_ncpus(b);
}

uint32_t sl_inner_id_of(const struct sl_engine *eng, const struct sl_map *map)
{
	for (const struct sl_inner_map *im = eng->inner_maps; im; im = im->next)
		if (im->map == map)
			return im->id;
	return 0;
}

struct sl_map *sl_inner_type_donor(const struct sl_engine *eng, struct sl_map *map)
{
	unsigned n = sl_obj_map_count(eng->obj);

	if (!sl_inner_id_of(eng, map))
		return map;   /* not a created map: its own types */
	for (unsigned i = 0; i < n; i++)
		if (same_def(sl_obj_map(eng->obj, i), map))
			return sl_obj_map(eng->obj, i);
	return map;
}

int sl_inner_create(struct sl_engine *eng, struct sl_map *outer, const void *key, uint32_t *id,
		    char *err, size_t err_len)
{
	struct sl_map *tmpl = sl_map_inner_template(outer);
	struct sl_inner_map *im;
	int e;

	if (!tmpl) {
		snprintf(err, err_len, "update %s: 'new' creates an inner map: only for "
			 "array_of_maps and hash_of_maps", sl_map_name(outer));
		return -EINVAL;
	}
	if (eng->ninner == SL_INNER_MAX) {
		snprintf(err, err_len, "update %s: %u inner maps created already, the most a run "
			 "creates", sl_map_name(outer), SL_INNER_MAX);
		return -ENOSPC;
	}
	im = calloc(1, sizeof(*im));
	if (im) {
		char name[SL_MAP_NAME_LEN];

		snprintf(name, sizeof(name), "%s_inner%u", sl_map_name(outer), eng->ninner + 1);
		im->map = sl_map_create(name, sl_map_get_def(tmpl), sl_map_ncpus(tmpl));
	}
	if (!im || !im->map) {
		snprintf(err, err_len, "update %s: cannot create an inner map: %s",
			 sl_map_name(outer), strerror(errno ? errno : ENOMEM));
		free(im);
		return -ENOMEM;
	}
	im->id = SL_INNER_ID_BASE + eng->ninner + 1;
	e = sl_map_outer_set(outer, key, im->map, im->id);
	if (e) {
		sl_map_destroy(im->map);
		free(im);
		return e;     /* the caller says what (index past max_entries, ...) */
	}
	im->next = eng->inner_maps;
	eng->inner_maps = im;
	eng->ninner++;
	*id = im->id;
	return 0;
}

struct sl_map *sl_inner_resolve(struct sl_engine *eng, const char *name, char *err,
				size_t err_len)
{
	const char *open = strchr(name, '['), *close = strrchr(name, ']');
	struct sl_text_type kt, vt;
	struct sl_map *outer, *inner;
	char oname[SL_MAP_NAME_LEN], ktext[256], phrase[256];
	uint8_t *key;

	if (!open || !close || close < open || close[1] || (size_t)(open - name) >= sizeof(oname) ||
	    (size_t)(close - open - 1) >= sizeof(ktext))
		return NULL;
	snprintf(oname, sizeof(oname), "%.*s", (int)(open - name), name);
	snprintf(ktext, sizeof(ktext), "%.*s", (int)(close - open - 1), open + 1);
	outer = sl_obj_map_by_name(eng->obj, oname);
	if (!outer || !sl_map_inner_template(outer) || sl_text_map_types(eng->obj, outer, &kt, &vt))
		return NULL;
	key = calloc(1, kt.size + 8);
	if (!key || sl_text_parse(&kt, ktext, key, phrase, sizeof(phrase))) {
		snprintf(err, err_len, "map %s: key '%s': %s", name, ktext, key ? phrase : "no memory");
		free(key);
		return NULL;
	}
	inner = sl_map_lookup_elem(outer, key);   /* the inner map itself (maps/map_of_maps.c) */
	free(key);
	if (!inner)
		snprintf(err, err_len, "map %s: %s holds no map at %s", name, oname, ktext);
	return inner;
}

void sl_inner_free_all(struct sl_engine *eng)
{
	while (eng->inner_maps) {
		struct sl_inner_map *im = eng->inner_maps;

		eng->inner_maps = im->next;
		sl_map_destroy(im->map);
		free(im);
	}
	eng->ninner = 0;
}
