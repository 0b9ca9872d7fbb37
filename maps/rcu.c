/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * maps/rcu.c: quiescent-state based reclamation for the map types that
 * unlink memory while lock-free readers may still hold it (hash, lru,
 * lpm). An epoch scheme of our own, so that it works without EAL and
 * without a registration step for threads that never read concurrently.
 *
 * Model
 *   - A global epoch E (starts at 1) only grows.
 *   - Every worker has a slot (sl_map_worker_online(cpu)). A slot holds 0
 *     while its thread is offline, otherwise the value of E it read at its
 *     last quiescent point (or when it came online). The control thread
 *     has no slot: the maps' control entries read under writer locks,
 *     except inside a read section (map_rcu_read_begin/end): one of
 *     N_READERS reader slots holds the E read at its start, so that the
 *     thread walks chains lock-free as workers do, writing no line that a
 *     worker reads (a hash dump; see hash.c). A reader slot is claimed
 *     with a CAS from 0, and holds reuse back only while the section lasts.
 *   - A writer unlinks an object, then tags it t = ++E (map_rcu_retire_epoch).
 *   - The object may be reused once every slot is 0 or >= t: a reader whose
 *     slot is >= t read E after the increment, so after the unlink (all of
 *     this is seq_cst), and cannot have found the object since. A slot seen
 *     at 0 means its thread entered after our check began; it too can only
 *     find objects still linked.
 *   - sl_map_quiescent() is one load of E and one store to the slot.
 *
 * Threads with no slot (offline tools, single-threaded tests) are never
 * waited for: with nobody online, retired objects are reusable at once.
 */
#include <sched.h>

#include "maps_internal.h"

#define N_SLOTS SL_MAX_CPUS

struct rcu_slot {
	_Alignas(SL_CACHE_LINE) atomic_uint_fast64_t seen; /* 0 = offline */
};

#define N_READERS 4  /* read sections of threads that are not workers, at once */

static struct rcu_slot slots[N_SLOTS];
static struct rcu_slot readers[N_READERS];
static _Alignas(SL_CACHE_LINE) atomic_uint_fast64_t global_epoch = 1;
static atomic_uint worker_hi;           /* 1 + highest worker slot ever online */

/* this thread's worker slot, or -1 (initial-exec: one %fs load, as sl_map_cpu) */
__thread int map_rcu_slot __attribute__((tls_model("initial-exec"))) = -1;
static __thread int rcu_reader = -1;  /* this thread's reader slot in a read section, or -1 */

uint64_t map_rcu_retire_epoch(void)
{
	return atomic_fetch_add(&global_epoch, 1) + 1;
}

static void min_range(unsigned lo, unsigned hi, uint64_t *min)
{
	for (unsigned i = lo; i < hi; i++) {
		uint64_t v = atomic_load(&slots[i].seen);

		if (v && v < *min)
			*min = v;
	}
}

uint64_t map_rcu_min_epoch(void)
{
	uint64_t min = UINT64_MAX;

	min_range(0, atomic_load(&worker_hi), &min);
	for (unsigned i = 0; i < N_READERS; i++) {  /* every one: a claim raises no bound */
		uint64_t v = atomic_load(&readers[i].seen);

		if (v && v < min)
			min = v;
	}
	return min;
}

/*
 * The same argument as a worker coming online: a writer that saw the slot
 * at 0 checked before the CAS, so after its unlink, which the walk that
 * follows the CAS (seq_cst) then sees.
 */
bool map_rcu_read_begin(void)
{
	uint64_t e;

	if (map_rcu_slot >= 0)
		return true;  /* an online worker: its slot holds reuse back until its next quiescent point */
	e = atomic_load(&global_epoch);
	for (int i = 0; i < N_READERS; i++) {
		uint_fast64_t zero = 0;

		if (atomic_compare_exchange_strong(&readers[i].seen, &zero, e)) {
			rcu_reader = i;
			return true;
		}
	}
	return false;
}

void map_rcu_read_end(void)
{
	if (rcu_reader < 0)
		return;
	atomic_store(&readers[rcu_reader].seen, 0);
	rcu_reader = -1;
}

bool map_rcu_safe(uint64_t epoch)
{
	return epoch <= map_rcu_min_epoch();
}

int sl_map_worker_online(uint32_t cpu)
{
	unsigned hi;

	if (cpu >= SL_MAX_CPUS)
		return -EINVAL;
	sl_map_cpu = cpu;
	map_rcu_slot = (int)cpu;
	atomic_store(&slots[cpu].seen, atomic_load(&global_epoch));
	hi = atomic_load(&worker_hi);
	while (hi < cpu + 1 && !atomic_compare_exchange_weak(&worker_hi, &hi, cpu + 1))
		;
	return 0;
}

void sl_map_worker_offline(void)
{
	if (map_rcu_slot < 0)
		return;
	atomic_store(&slots[map_rcu_slot].seen, 0);
	map_rcu_slot = -1;
}

void sl_map_quiescent(void)
{
	if (map_rcu_slot >= 0)
		atomic_store(&slots[map_rcu_slot].seen, atomic_load(&global_epoch));
}

void sl_map_synchronize(void)
{
	uint64_t t;

	sl_map_quiescent();
	t = map_rcu_retire_epoch();
	while (!map_rcu_safe(t))
		sched_yield();
}
