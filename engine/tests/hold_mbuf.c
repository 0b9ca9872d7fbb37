/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * LD_PRELOAD shim of test_drain.py's leak case: a "driver" that keeps mbufs
 * of sluice's pool past rte_eth_dev_close, the kind of leak the count at
 * exit is there to catch (sluice itself loses none to provoke one with).
 *
 * On the first rte_eth_dev_close of the process it takes SL_HOLD_MBUFS
 * (default 1) mbufs from the pool "sluice_pkts" and never gives them back,
 * then closes the port through DPDK's own function. sluice calls
 * rte_eth_dev_close through the dynamic linker, so the shim sits in front
 * of it; it changes nothing else.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>

#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

int rte_eth_dev_close(uint16_t port_id)
{
	static int (*real)(uint16_t);
	static int held;

	if (!real)
		real = (int (*)(uint16_t))dlsym(RTLD_NEXT, "rte_eth_dev_close");
	if (!held) {
		struct rte_mempool *mp = rte_mempool_lookup("sluice_pkts");
		const char *n = getenv("SL_HOLD_MBUFS");
		int want = n ? atoi(n) : 1;

		held = 1;
		for (int i = 0; mp && i < want; i++)
			if (!rte_pktmbuf_alloc(mp))
				break;
	}
	return real ? real(port_id) : -ENOSYS;
}
