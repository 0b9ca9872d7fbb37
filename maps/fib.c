/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * maps/fib.c: the FIB behind bpf_fib_lookup (sl_fib.h).
 *
 * Routes are LPM_TRIE maps (one per family, key = prefix length + address,
 * value = struct fib_route), neighbours HASH maps (key = port, family,
 * address; value = MAC), so lookups inherit the maps' lock-free readers
 * and quiescent-state reclamation, and the control thread edits them while
 * workers look up. Ports are a fixed table: a port's fields are written
 * before its present flag is published (release), read after it (acquire).
 *
 * The lookup follows the kernel's bpf_ipv4_fib_lookup/bpf_ipv6_fib_lookup
 * for a FIB without policy rules: ingress port unknown -ENODEV; no route
 * NOT_FWDED; blackhole/unreachable/prohibit routes their codes;
 * tot_len above the egress MTU FRAG_NEEDED with mtu_result; then
 * rt_metric and ifindex are set, the gateway replaces the destination,
 * BPF_FIB_LOOKUP_SRC fills the source from the egress port's address
 * (NO_SRC_ADDR without one), BPF_FIB_LOOKUP_SKIP_NEIGH skips the neighbour,
 * else a missing neighbour is NO_NEIGH; on success dmac, smac, VLAN 0 and
 * mtu_result = the MTU. Every port forwards (no FWD_DISABLED);
 * BPF_FIB_LOOKUP_DIRECT/TBID/OUTPUT/MARK are accepted, one table serves all.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <linux/bpf.h>

#include "maps_internal.h"
#include "sl_fib.h"

#define FIB_FLAGS (BPF_FIB_LOOKUP_DIRECT | BPF_FIB_LOOKUP_OUTPUT | BPF_FIB_LOOKUP_SKIP_NEIGH | \
		   BPF_FIB_LOOKUP_TBID | BPF_FIB_LOOKUP_SRC | (1u << 5) /* MARK */)
#define DEFAULT_MTU 1500

struct fib_route {
	uint8_t type;        /* enum sl_fib_route_type */
	uint8_t has_gw;
	uint8_t pad[2];
	uint32_t ifindex;
	uint32_t metric;
	uint8_t gw[16];
};

struct fib_key {
	uint32_t plen;
	uint8_t addr[16];
};

struct neigh_key {
	uint32_t ifindex;
	uint32_t family;
	uint8_t addr[16];
};

struct fib_port {
	atomic_uchar present;
	uint8_t mac[6];
	uint8_t has4, has6;
	uint32_t mtu;
	uint8_t addr4[4], addr6[16];
};

struct sl_fib {
	struct sl_map *routes[2];   /* AF_INET, AF_INET6 */
	struct sl_map *neigh;
	struct fib_port ports[SL_FIB_MAX_PORTS];
};

static _Atomic(struct sl_fib *) attached;

static int fam_idx(int family)
{
	return family == AF_INET ? 0 : family == AF_INET6 ? 1 : -1;
}

static unsigned fam_len(int family)
{
	return family == AF_INET ? 4 : 16;
}

struct sl_fib *sl_fib_create(uint32_t max_routes)
{
	struct sl_fib *fib = calloc(1, sizeof(*fib));
	struct sl_map_def r4 = { BPF_MAP_TYPE_LPM_TRIE, 4 + 4, sizeof(struct fib_route),
				 max_routes, BPF_F_NO_PREALLOC };
	struct sl_map_def r6 = { BPF_MAP_TYPE_LPM_TRIE, 4 + 16, sizeof(struct fib_route),
				 max_routes, BPF_F_NO_PREALLOC };
	struct sl_map_def nd = { BPF_MAP_TYPE_HASH, sizeof(struct neigh_key), 8, max_routes, 0 };

	if (!fib)
		goto nomem;
	fib->routes[0] = sl_map_create("fib_routes4", &r4, 1);
	fib->routes[1] = sl_map_create("fib_routes6", &r6, 1);
	fib->neigh = sl_map_create("fib_neigh", &nd, 1);
	if (fib->routes[0] && fib->routes[1] && fib->neigh)
		return fib;
	sl_fib_destroy(fib);
nomem:
	errno = ENOMEM;
	return NULL;
}

void sl_fib_destroy(struct sl_fib *fib)
{
	if (!fib)
		return;
	sl_map_destroy(fib->routes[0]);
	sl_map_destroy(fib->routes[1]);
	sl_map_destroy(fib->neigh);
	free(fib);
}

int sl_fib_set_port(struct sl_fib *fib, uint32_t ifindex, const uint8_t mac[6], uint32_t mtu,
		    const void *addr4, const void *addr6)
{
	struct fib_port *p;

	if (!fib || ifindex >= SL_FIB_MAX_PORTS || !mac || mtu > 65535)
		return -EINVAL;
	p = &fib->ports[ifindex];
	atomic_store_explicit(&p->present, 0, memory_order_release);
	memcpy(p->mac, mac, 6);
	p->mtu = mtu ? mtu : DEFAULT_MTU;
	p->has4 = addr4 != NULL;
	p->has6 = addr6 != NULL;
	if (addr4)
		memcpy(p->addr4, addr4, 4);
	if (addr6)
		memcpy(p->addr6, addr6, 16);
	atomic_store_explicit(&p->present, 1, memory_order_release);
	return 0;
}

static void route_key(struct fib_key *k, int family, const void *prefix, unsigned plen)
{
	unsigned len = fam_len(family);

	memset(k, 0, sizeof(*k));
	k->plen = plen;
	memcpy(k->addr, prefix, len);
	for (unsigned bit = plen; bit < len * 8; bit++)   /* host bits off */
		k->addr[bit / 8] &= (uint8_t)~(0x80u >> (bit % 8));
}

int sl_fib_add_route(struct sl_fib *fib, int family, const void *prefix, unsigned plen,
		     enum sl_fib_route_type type, const void *gateway, uint32_t ifindex,
		     uint32_t metric)
{
	struct fib_route r = { .type = (uint8_t)type, .ifindex = ifindex, .metric = metric };
	struct fib_key k;
	int fi = fam_idx(family);
	int err;

	if (!fib || fi < 0 || !prefix || plen > fam_len(family) * 8 || type > SL_FIB_PROHIBIT ||
	    (type == SL_FIB_UNICAST && ifindex >= SL_FIB_MAX_PORTS))
		return -EINVAL;
	if (gateway) {
		r.has_gw = 1;
		memcpy(r.gw, gateway, fam_len(family));
	}
	route_key(&k, family, prefix, plen);
	err = sl_map_ctl_update(fib->routes[fi], &k, &r, BPF_ANY);
	return err == -E2BIG ? -ENOSPC : err;
}

int sl_fib_del_route(struct sl_fib *fib, int family, const void *prefix, unsigned plen)
{
	struct fib_key k;
	int fi = fam_idx(family);

	if (!fib || fi < 0 || !prefix || plen > fam_len(family) * 8)
		return -EINVAL;
	route_key(&k, family, prefix, plen);
	return sl_map_ctl_delete(fib->routes[fi], &k);
}

static void neigh_key(struct neigh_key *k, int family, const void *addr, uint32_t ifindex)
{
	memset(k, 0, sizeof(*k));
	k->ifindex = ifindex;
	k->family = (uint32_t)family;
	memcpy(k->addr, addr, fam_len(family));
}

int sl_fib_add_neigh(struct sl_fib *fib, int family, const void *addr, uint32_t ifindex,
		     const uint8_t mac[6])
{
	struct neigh_key k;
	uint8_t v[8] = { 0 };

	if (!fib || fam_idx(family) < 0 || !addr || !mac || ifindex >= SL_FIB_MAX_PORTS)
		return -EINVAL;
	neigh_key(&k, family, addr, ifindex);
	memcpy(v, mac, 6);
	return sl_map_ctl_update(fib->neigh, &k, v, BPF_ANY);
}

int sl_fib_del_neigh(struct sl_fib *fib, int family, const void *addr, uint32_t ifindex)
{
	struct neigh_key k;

	if (!fib || fam_idx(family) < 0 || !addr)
		return -EINVAL;
	neigh_key(&k, family, addr, ifindex);
	return sl_map_ctl_delete(fib->neigh, &k);
}

/* ---- data path ---- */

static const struct fib_port *port_at(const struct sl_fib *fib, uint32_t ifindex)
{
	if (ifindex >= SL_FIB_MAX_PORTS ||
	    !atomic_load_explicit(&fib->ports[ifindex].present, memory_order_acquire))
		return NULL;
	return &fib->ports[ifindex];
}

/* worker: the kernel's lookup for one family, dst/src the params' fields */
static long fib_family(struct sl_fib *fib, struct bpf_fib_lookup *p, uint32_t flags,
		       int family, uint8_t *dst, uint8_t *src)
{
	unsigned len = fam_len(family);
	const struct fib_port *in = port_at(fib, p->ifindex), *out;
	const struct fib_route *r;
	struct fib_key k = { .plen = len * 8 };
	struct neigh_key nk;
	const uint8_t *mac;

	if (!in)
		return -ENODEV;
	memcpy(k.addr, dst, len);
	r = sl_map_lookup_elem(fib->routes[fam_idx(family)], &k);
	if (!r)
		return BPF_FIB_LKUP_RET_NOT_FWDED;
	switch (r->type) {
	case SL_FIB_BLACKHOLE: return BPF_FIB_LKUP_RET_BLACKHOLE;
	case SL_FIB_UNREACHABLE: return BPF_FIB_LKUP_RET_UNREACHABLE;
	case SL_FIB_PROHIBIT: return BPF_FIB_LKUP_RET_PROHIBIT;
	default: break;
	}
	out = port_at(fib, r->ifindex);
	if (!out)
		return BPF_FIB_LKUP_RET_NOT_FWDED;   /* the route's port is gone */
	if (p->tot_len > out->mtu) {
		p->mtu_result = (uint16_t)out->mtu;
		return BPF_FIB_LKUP_RET_FRAG_NEEDED;
	}
	p->rt_metric = r->metric;
	p->ifindex = r->ifindex;
	if (flags & BPF_FIB_LOOKUP_SRC) {
		if (family == AF_INET ? !out->has4 : !out->has6)
			return BPF_FIB_LKUP_RET_NO_SRC_ADDR;
		memcpy(src, family == AF_INET ? out->addr4 : out->addr6, len);
	}
	if (r->has_gw)
		memcpy(dst, r->gw, len);
	if (!(flags & BPF_FIB_LOOKUP_SKIP_NEIGH)) {
		neigh_key(&nk, family, dst, r->ifindex);
		mac = sl_map_lookup_elem(fib->neigh, &nk);
		if (!mac)
			return BPF_FIB_LKUP_RET_NO_NEIGH;
		memcpy(p->dmac, mac, 6);
	}
	memcpy(p->smac, out->mac, 6);
	p->h_vlan_proto = 0;
	p->h_vlan_TCI = 0;
	p->mtu_result = (uint16_t)out->mtu;
	return BPF_FIB_LKUP_RET_SUCCESS;
}

long sl_fib_lookup(struct sl_fib *fib, struct bpf_fib_lookup *params, int plen, uint32_t flags)
{
	if (plen < (int)sizeof(*params) || (flags & ~FIB_FLAGS))
		return -EINVAL;
	if (params->family == AF_INET)
		return fib ? fib_family(fib, params, flags, AF_INET, (uint8_t *)&params->ipv4_dst,
					(uint8_t *)&params->ipv4_src) : -ENODEV;
	if (params->family == AF_INET6)
		return fib ? fib_family(fib, params, flags, AF_INET6, (uint8_t *)params->ipv6_dst,
					(uint8_t *)params->ipv6_src) : -ENODEV;
	return -EAFNOSUPPORT;
}

void sl_fib_attach(struct sl_fib *fib)
{
	atomic_store_explicit(&attached, fib, memory_order_release);
}

struct sl_fib *sl_fib_attached(void)
{
	return atomic_load_explicit(&attached, memory_order_acquire);
}

/* ---- the text file ---- */

static int parse_mac(const char *s, uint8_t mac[6])
{
	unsigned v[6];
	char end;

	if (!s || sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
			 &end) != 6)
		return -1;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)v[i];
	return 0;
}

/* "A.B.C.D" or an IPv6 address: family or -1 */
static int parse_addr(const char *s, uint8_t addr[16])
{
	if (!s)
		return -1;
	if (inet_pton(AF_INET, s, addr) == 1)
		return AF_INET;
	if (inet_pton(AF_INET6, s, addr) == 1)
		return AF_INET6;
	return -1;
}

static int parse_u32(const char *s, uint32_t max, uint32_t *v)
{
	char *end;
	unsigned long n;

	if (!s || !isdigit((unsigned char)s[0]))
		return -1;
	errno = 0;
	n = strtoul(s, &end, 10);
	if (*end || errno || n > max)
		return -1;
	*v = (uint32_t)n;
	return 0;
}

/* "PREFIX/LEN" or "default" (IPv4 0/0) */
static int parse_prefix(const char *s, uint8_t addr[16], uint32_t *plen)
{
	char buf[64], *slash;
	int fam;

	if (s && !strcmp(s, "default")) {
		memset(addr, 0, 16);
		*plen = 0;
		return AF_INET;
	}
	if (!s || strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (!slash)
		return -1;
	*slash = 0;
	fam = parse_addr(buf, addr);
	if (fam < 0 || parse_u32(slash + 1, fam == AF_INET ? 32 : 128, plen))
		return -1;
	return fam;
}

/* value of keyword @p key among tok[from..n), or NULL */
static const char *opt(char **tok, int n, int from, const char *key)
{
	for (int i = from; i + 1 < n; i++)
		if (!strcmp(tok[i], key))
			return tok[i + 1];
	return NULL;
}

static const char *line_port(struct sl_fib *fib, char **tok, int n)
{
	uint8_t mac[6], a4[16], a6[16];
	uint32_t ifindex, mtu = 0;
	const char *s4 = opt(tok, n, 2, "addr"), *s6 = opt(tok, n, 2, "addr6");

	if (n < 2 || parse_u32(tok[1], SL_FIB_MAX_PORTS - 1, &ifindex))
		return "port: expected an ifindex below 64";
	if (parse_mac(opt(tok, n, 2, "mac"), mac))
		return "port: expected mac XX:XX:XX:XX:XX:XX";
	if (opt(tok, n, 2, "mtu") && parse_u32(opt(tok, n, 2, "mtu"), 65535, &mtu))
		return "port: bad mtu";
	if ((s4 && parse_addr(s4, a4) != AF_INET) || (s6 && parse_addr(s6, a6) != AF_INET6))
		return "port: bad addr (IPv4) or addr6 (IPv6)";
	return sl_fib_set_port(fib, ifindex, mac, mtu, s4 ? a4 : NULL, s6 ? a6 : NULL) ?
	       "port: refused" : NULL;
}

static const char *line_route(struct sl_fib *fib, char **tok, int n)
{
	static const char *const kinds[] = { "blackhole", "unreachable", "prohibit" };
	enum sl_fib_route_type type = SL_FIB_UNICAST;
	uint8_t pfx[16], gw[16];
	uint32_t plen, ifindex = 0, metric = 0;
	const char *via = opt(tok, n, 2, "via"), *dev = opt(tok, n, 2, "dev");
	int fam = n >= 2 ? parse_prefix(tok[1], pfx, &plen) : -1;

	if (fam < 0)
		return "route: expected PREFIX/LEN or default";
	for (int i = 0; n >= 3 && i < 3; i++)
		if (!strcmp(tok[2], kinds[i]))
			type = (enum sl_fib_route_type)(i + 1);
	if (type == SL_FIB_UNICAST && (!dev || parse_u32(dev, SL_FIB_MAX_PORTS - 1, &ifindex)))
		return "route: expected dev IFINDEX (below 64) or blackhole|unreachable|prohibit";
	if (via && parse_addr(via, gw) != fam)
		return "route: the gateway is not an address of the prefix's family";
	if (opt(tok, n, 2, "metric") && parse_u32(opt(tok, n, 2, "metric"), UINT32_MAX, &metric))
		return "route: bad metric";
	switch (sl_fib_add_route(fib, fam, pfx, plen, type, via ? gw : NULL, ifindex, metric)) {
	case 0: return NULL;
	case -ENOSPC: return "route: the FIB is full";
	default: return "route: refused";
	}
}

static const char *line_neigh(struct sl_fib *fib, char **tok, int n)
{
	uint8_t addr[16], mac[6];
	uint32_t ifindex;
	int fam = n >= 2 ? parse_addr(tok[1], addr) : -1;

	if (fam < 0)
		return "neigh: expected an IPv4 or IPv6 address";
	if (parse_mac(opt(tok, n, 2, "lladdr"), mac))
		return "neigh: expected lladdr XX:XX:XX:XX:XX:XX";
	if (parse_u32(opt(tok, n, 2, "dev"), SL_FIB_MAX_PORTS - 1, &ifindex))
		return "neigh: expected dev IFINDEX (below 64)";
	return sl_fib_add_neigh(fib, fam, addr, ifindex, mac) ? "neigh: refused (FIB full?)" : NULL;
}

int sl_fib_load(struct sl_fib *fib, const char *path, char *log, size_t log_len)
{
	FILE *f = fopen(path, "r");
	char line[512], *tok[24];
	unsigned lineno = 0;

	if (!f) {
		int err = errno;

		snprintf(log, log_len, "%s: %s", path, strerror(err));
		return -err;
	}
	while (fgets(line, sizeof(line), f)) {
		const char *why;
		int n = 0;

		lineno++;
		line[strcspn(line, "#\n")] = 0;
		for (char *s = strtok(line, " \t\r"); s && n < 24; s = strtok(NULL, " \t\r"))
			tok[n++] = s;
		if (!n)
			continue;
		if (!strcmp(tok[0], "port"))
			why = line_port(fib, tok, n);
		else if (!strcmp(tok[0], "route"))
			why = line_route(fib, tok, n);
		else if (!strcmp(tok[0], "neigh"))
			why = line_neigh(fib, tok, n);
		else
			why = "expected port, route or neigh";
		if (why) {
			snprintf(log, log_len, "%s:%u: %s", path, lineno, why);
			fclose(f);
			return -EINVAL;
		}
	}
	fclose(f);
	return 0;
}
