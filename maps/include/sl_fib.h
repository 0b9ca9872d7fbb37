/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file sl_fib.h
 * The FIB behind bpf_fib_lookup: ports (ifindex = sluice port id, MAC,
 * MTU, addresses), IPv4 and IPv6 routes (longest-prefix match; unicast via
 * a gateway or direct, blackhole, unreachable, prohibit; ECMP not
 * provided) and neighbours (address on a port -> MAC). Lookups follow the
 * kernel's bpf_ipv4_fib_lookup / bpf_ipv6_fib_lookup: the same return
 * codes (BPF_FIB_LKUP_RET_*) and struct bpf_fib_lookup fields.
 *
 * Threads: the control thread builds and edits a FIB (sl_fib_add_*,
 * sl_fib_load); workers look up lock-free at any time (routes and
 * neighbours live in sluice's LPM and hash maps, with their reclamation).
 * One FIB is attached process-wide for the helper (sl_fib_attach).
 */
#ifndef SL_FIB_H
#define SL_FIB_H

#include <stddef.h>
#include <stdint.h>

struct bpf_fib_lookup;
struct sl_fib;

/** Highest port ifindex + 1 a FIB knows. */
#define SL_FIB_MAX_PORTS 64

/** Route kinds (the kernel's RTN_UNICAST, RTN_BLACKHOLE, ...). */
enum sl_fib_route_type {
	SL_FIB_UNICAST = 0,
	SL_FIB_BLACKHOLE,
	SL_FIB_UNREACHABLE,
	SL_FIB_PROHIBIT,
};

/** An empty FIB (up to @p max_routes routes and neighbours per family); NULL, errno ENOMEM. */
struct sl_fib *sl_fib_create(uint32_t max_routes);
/** Free a FIB; detach it first if attached. NULL is allowed. */
void sl_fib_destroy(struct sl_fib *fib);

/**
 * Declare port @p ifindex (< SL_FIB_MAX_PORTS): its MAC (smac of lookups
 * leaving through it), MTU (0: 1500), and optional source addresses for
 * BPF_FIB_LOOKUP_SRC (@p addr4: 4 bytes, @p addr6: 16 bytes, network
 * order; NULL: none). Lookups arriving on an undeclared port fail with
 * -ENODEV, as the kernel's for an unknown ifindex. 0 or -EINVAL.
 */
int sl_fib_set_port(struct sl_fib *fib, uint32_t ifindex, const uint8_t mac[6], uint32_t mtu,
		    const void *addr4, const void *addr6);

/**
 * Add or replace the route to @p prefix/@p plen (@p family AF_INET or
 * AF_INET6, @p prefix network order). Unicast routes leave through port
 * @p ifindex, via @p gateway (same family, or NULL: direct); other types
 * need no port. @p metric is reported as rt_metric.
 * @return 0, -EINVAL (bad family, prefix length, port), -ENOSPC (full).
 */
int sl_fib_add_route(struct sl_fib *fib, int family, const void *prefix, unsigned plen,
		     enum sl_fib_route_type type, const void *gateway, uint32_t ifindex,
		     uint32_t metric);
/** Remove a route; 0 or -ENOENT. */
int sl_fib_del_route(struct sl_fib *fib, int family, const void *prefix, unsigned plen);

/** Add or replace neighbour @p addr on port @p ifindex. 0, -EINVAL, -E2BIG (full). */
int sl_fib_add_neigh(struct sl_fib *fib, int family, const void *addr, uint32_t ifindex,
		     const uint8_t mac[6]);
/** Remove a neighbour; 0 or -ENOENT. */
int sl_fib_del_neigh(struct sl_fib *fib, int family, const void *addr, uint32_t ifindex);

/**
 * Read a FIB text file, one entry a line ('#' starts a comment):
 *   port IFINDEX mac XX:XX:XX:XX:XX:XX [mtu N] [addr A.B.C.D] [addr6 X::Y]
 *   route PREFIX/LEN via GATEWAY dev IFINDEX [metric N]
 *   route PREFIX/LEN dev IFINDEX [metric N]
 *   route PREFIX/LEN blackhole|unreachable|prohibit
 *   neigh ADDRESS lladdr XX:XX:XX:XX:XX:XX dev IFINDEX
 * (IPv4 or IPv6 addresses anywhere an address goes; "default" is 0/0).
 * @param log one line "FILE:LINE: reason" on error
 * @return 0, -ENOENT (no file), -EINVAL (bad line), -ENOSPC.
 */
int sl_fib_load(struct sl_fib *fib, const char *path, char *log, size_t log_len);

/**
 * bpf_fib_lookup on @p fib: @p params as the program passed them, updated
 * in place as the kernel does. @return a BPF_FIB_LKUP_RET_* code (>= 0),
 * or -EINVAL (plen, flags), -EAFNOSUPPORT (family), -ENODEV (ingress port
 * unknown). Worker, lock-free.
 */
long sl_fib_lookup(struct sl_fib *fib, struct bpf_fib_lookup *params, int plen, uint32_t flags);

/** Make @p fib (or NULL) the one bpf_fib_lookup uses, process-wide. Control thread. */
void sl_fib_attach(struct sl_fib *fib);
/** The attached FIB, or NULL. Any thread. */
struct sl_fib *sl_fib_attached(void);

#endif /* SL_FIB_H */
