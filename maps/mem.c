/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * maps/mem.c: the memory every map type's tables come from, the
 * calling worker's CPU slot, and the control API's value layout.
 *
 * map_zalloc() gives zeroed, cache-line aligned memory (2 MB aligned and
 * advised for transparent huge pages from SL_HUGE_MIN up);
 * map_lazy_alloc() reserves big tables with MAP_NORESERVE so that only the
 * pages a map really touches become resident (a 128 MiB array that holds
 * ten entries costs ten pages), smaller ones come from map_zalloc();
 * map_lazy_free() undoes either. sl_map_cpu is the thread's per-CPU slot
 * (set by sl_map_worker_online, read by per-CPU maps and the JIT's
 * inlined lookups). sl_map_is_percpu() and sl_map_ctl_value_size() give
 * the layout of a value as the control API copies it (one slot per CPU
 * for per-CPU maps), which the types' dump code needs too.
 *
 * Apart from map.c (creation and dispatch, which refers to every type's
 * ops table), so that the types call down into this file and never back
 * up into the dispatcher: no file-level cycle through allocation.
 * Concurrency: control thread only (allocation); sl_map_cpu is per thread.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "maps_internal.h"

__thread uint32_t sl_map_cpu __attribute__((tls_model("initial-exec")));

void *map_zalloc(size_t size)
{
	size_t align = SL_CACHE_LINE;
	void *p;

	if (size >= SL_HUGE_MIN) {
		/* big tables: 2 MB aligned, in transparent huge pages if the kernel agrees */
		align = SL_HUGE_PAGE;
		size = SL_ROUND_UP(size, SL_HUGE_PAGE);
	}
	size = SL_ROUND_UP(size ? size : 1, SL_CACHE_LINE);
	if (posix_memalign(&p, align, size))
		return NULL;
	if (align == SL_HUGE_PAGE)
		madvise(p, size, MADV_HUGEPAGE);  /* a hint: refusals are fine */
	memset(p, 0, size);
	return p;
}

void *map_lazy_alloc(size_t size)
{
	size_t len = SL_ROUND_UP(size, SL_HUGE_PAGE);
	uint8_t *p, *a;

	if (size < SL_HUGE_MIN)
		return map_zalloc(size);
	if (len < size || len + SL_HUGE_PAGE < len)
		return NULL;
	p = mmap(NULL, len + SL_HUGE_PAGE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	a = (uint8_t *)SL_ROUND_UP((uintptr_t)p, SL_HUGE_PAGE);
	if (a > p)
		munmap(p, (size_t)(a - p));
	if (p + SL_HUGE_PAGE > a)
		munmap(a + len, (size_t)(p + SL_HUGE_PAGE - a));
	madvise(a, len, MADV_HUGEPAGE);  /* a hint: refusals are fine */
	return a;
}

void map_lazy_free(void *p, size_t size)
{
	if (!p)
		return;
	if (size < SL_HUGE_MIN)
		free(p);
	else
		munmap(p, SL_ROUND_UP(size, SL_HUGE_PAGE));
}

bool sl_map_is_percpu(const struct sl_map *map)
{
	switch (map->def.type) {
	case BPF_MAP_TYPE_PERCPU_ARRAY:
	case BPF_MAP_TYPE_PERCPU_HASH:
	case BPF_MAP_TYPE_LRU_PERCPU_HASH:
		return true;
	default:
		return false;
	}
}

size_t sl_map_ctl_value_size(const struct sl_map *map)
{
	if (sl_map_is_percpu(map))
		return (size_t)map->ncpus * map->value_stride;
	return map->def.value_size;
}
