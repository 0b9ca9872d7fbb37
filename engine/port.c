/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Ports of `sluice run`.
 *
 * Before EAL: each --port string is checked (a vdev "net_<driver>[N][,k=v...]"
 * or a PCI address "[DDDD:]BB:DD.F"), and a net_pcap rx_pcap file is opened
 * with libpcap and its packets counted: a finite input (no infinite_rx=1)
 * ends the run once that many packets went through the program, and an
 * infinite one needs that many mbufs of its own (net_pcap copies the whole
 * file into mbufs at queue setup).
 *
 * After EAL: one mempool for every port (packed when the EAL runs without
 * hugepages with IOVA as VA: pktmbuf_pool()), then per port: configure with one
 * TX queue per worker and one RX queue per worker, or the config's
 * rx_queues (at least one per worker): worker i polls RX queues i,
 * i + workers, i + 2 * workers, ... and sends on TX queue i of every port,
 * so no queue is shared and nothing locks; the config's descriptor counts
 * and MTU (config_apply.c), start, promiscuous on unless the config says
 * false.
 *
 * Jumbo frames: net_pcap reads a frame longer than an mbuf into a chain
 * (the program sees the first segment, as XDP multi-buffer programs do);
 * frames over 65,535 bytes are refused when the capture is counted
 * (net_pcap's chaining takes a 16-bit length). On TX, net_pcap cuts a chain
 * longer than 16,128 bytes while counting it sent: such a chain is copied
 * into one 64 KiB mbuf first (sl_port_tx_linearize), or counted as an error.
 *
 * Egress port (XDP_PASS): ports are paired in the order given, 0<->1,
 * 2<->3, ...; a port without a partner (a single port, or the last of an
 * odd number) forwards back out of itself.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/stat.h>

#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mbuf_pool_ops.h>
#include <rte_mempool.h>

#include "engine_internal.h"
#include "pcap_count.h"
#include "sl_num.h"

#define RX_DESC 1024
#define TX_DESC 1024
#define POOL_CACHE 256

/*
 * "[DDDD:]BB:DD.F", hex digits; when @p name is not NULL, the address in
 * the form DPDK names the port ("0000:01:00.0").
 */
static bool is_pci_address(const char *s, char *name, size_t len)
{
	unsigned dom = 0, bus, dev, fn;
	char end;

	if (sscanf(s, "%x:%x:%x.%x%c", &dom, &bus, &dev, &fn, &end) != 4) {
		dom = 0;
		if (sscanf(s, "%x:%x.%x%c", &bus, &dev, &fn, &end) != 3)
			return false;
	}
	if (dom > 0xffff || bus > 0xff || dev > 0x1f || fn > 7 ||
	    strspn(s, "0123456789abcdefABCDEF:.") != strlen(s))
		return false;
	if (name)
		snprintf(name, len, "%04x:%02x:%02x.%x", dom, bus, dev, fn);
	return true;
}

/* "net_" then [a-z0-9_]+. */
static bool is_vdev_name(const char *s)
{
	if (strncmp(s, "net_", 4) || !s[4])
		return false;
	for (s += 4; *s; s++)
		if (!islower((unsigned char)*s) && !isdigit((unsigned char)*s) && *s != '_')
			return false;
	return true;
}

/*
 * The keys each virtual device driver accepts (DPDK 22.11, as its
 * RTE_PMD_REGISTER_PARAM_STRING says): a key not in its list is named at
 * once instead of failing the EAL with "failed to initialize". Drivers not
 * listed here are left to DPDK.
 */
static const struct {
	const char *driver;
	const char *keys;   /* '|'-separated */
} vdev_keys[] = {
	{ "net_pcap", "rx_pcap|tx_pcap|rx_iface|rx_iface_in|tx_iface|iface|phy_mac|infinite_rx" },
	{ "net_null", "size|copy|no-rx" },
	{ "net_ring", "nodeaction" },
	{ "net_tap", "iface|mac|remote" },
	{ "net_tun", "iface" },
	{ "net_memif", "id|role|bsize|rsize|socket|socket-abstract|mac|zero-copy|secret" },
	{ "net_af_packet", "iface|qpairs|blocksz|framesz|framecnt|qdisc_bypass" },
	{ "net_af_xdp", "iface|start_queue|queue_count|shared_umem|xdp_prog|busy_budget|"
			"force_copy" },
};

/* The key list of the driver of @p name ("net_pcap0" -> net_pcap), or NULL. */
static const char *driver_keys(const char *name, char *driver, size_t len)
{
	size_t n = strlen(name);

	while (n > 4 && isdigit((unsigned char)name[n - 1]))
		n--;
	snprintf(driver, len, "%.*s", (int)n, name);
	for (size_t i = 0; i < sizeof(vdev_keys) / sizeof(vdev_keys[0]); i++)
		if (!strcmp(driver, vdev_keys[i].driver))
			return vdev_keys[i].keys;
	return NULL;
}

static bool key_in(const char *keys, const char *key, size_t klen)
{
	for (const char *k = keys; *k;) {
		size_t n = strcspn(k, "|");

		if (n == klen && !strncmp(k, key, n))
			return true;
		k += n + (k[n] == '|');
	}
	return false;
}

/* A device argument the driver does not know: named, with the ones it does. */
static int check_key(const struct sl_port_spec *spec, const char *kv)
{
	char driver[64], list[256];
	const char *keys = driver_keys(spec->name, driver, sizeof(driver));
	size_t klen = strcspn(kv, "=");

	if (!keys || key_in(keys, kv, klen))
		return 0;
	snprintf(list, sizeof(list), "%s", keys);
	for (char *c = list; *c; c++)
		if (*c == '|')
			*c = ' ';
	fprintf(stderr, "sluice run: --port '%s': %s has no argument '%.*s' (it takes: %s)\n",
		spec->devstr, driver, (int)klen, kv, list);
	return -EINVAL;
}

/* rx_pcap / tx_pcap FILE into the next slot of @p files. */
static int add_pcap(const struct sl_port_spec *spec, const char *key, const char *file,
		    char (*files)[256], unsigned *n)
{
	if (*n >= SL_PORT_MAX_PCAPS) {
		fprintf(stderr, "sluice run: --port '%s': at most %d %s\n", spec->devstr,
			SL_PORT_MAX_PCAPS, key);
		return -EINVAL;
	}
	if (!file[0] || snprintf(files[*n], sizeof(files[*n]), "%s", file) >= (int)sizeof(files[*n])) {
		fprintf(stderr, "sluice run: --port '%s': bad %s file name\n", spec->devstr, key);
		return -EINVAL;
	}
	(*n)++;
	return 0;
}

/* One "key=value" argument of a net_pcap string. */
static int parse_kv(struct sl_port_spec *spec, const char *kv)
{
	if (!strncmp(kv, "rx_pcap=", 8))
		return add_pcap(spec, "rx_pcap", kv + 8, spec->rx_pcaps, &spec->n_rx_pcap);
	if (!strncmp(kv, "tx_pcap=", 8))
		return add_pcap(spec, "tx_pcap", kv + 8, spec->tx_pcaps, &spec->n_tx_pcap);
	if (!strncmp(kv, "infinite_rx=", 12)) {
		char err[128];
		uint64_t v;

		if (sl_num_u64(kv + 12, 0, 1, &v, err, sizeof(err))) {
			fprintf(stderr, "sluice run: --port '%s': infinite_rx: %s\n", spec->devstr, err);
			return -EINVAL;
		}
		spec->infinite_rx = v;
	}
	return 0;
}

/* Count the packets of every rx_pcap (and check their link type). -EIO: a bad file. */
static int count_pcaps(struct sl_port_spec *spec)
{
	char err[512];

	snprintf(spec->rx_pcap, sizeof(spec->rx_pcap), "%s", spec->rx_pcaps[0]);
	for (unsigned i = 0; i < spec->n_rx_pcap; i++) {
		struct stat st;

		if (stat(spec->rx_pcaps[i], &st) == 0 && !S_ISREG(st.st_mode)) {
			fprintf(stderr, "sluice run: --port '%s': rx_pcap '%s' is not a regular file "
				"(it is read twice: counted, then replayed)\n", spec->devstr,
				spec->rx_pcaps[i]);
			return -EIO;
		}
		if (sl_pcap_count(spec->rx_pcaps[i], &spec->rx_pcap_packets[i], err, sizeof(err))) {
			fprintf(stderr, "sluice run: --port '%s': rx_pcap: %s\n", spec->devstr, err);
			return -EIO;
		}
		spec->pcap_packets += spec->rx_pcap_packets[i];
	}
	spec->finite = spec->n_rx_pcap && !spec->infinite_rx;
	return 0;
}

int sl_port_parse(const char *devstr, struct sl_port_spec *spec)
{
	char buf[4096];
	char *save = NULL, *tok;
	int err = 0;

	memset(spec, 0, sizeof(*spec));
	spec->devstr = devstr;
	if (snprintf(buf, sizeof(buf), "%s", devstr) >= (int)sizeof(buf)) {
		fprintf(stderr, "sluice run: --port '%.40s...': too long\n", devstr);
		return -EINVAL;
	}
	tok = strtok_r(buf, ",", &save);
	if (!tok || snprintf(spec->name, sizeof(spec->name), "%s", tok) >= (int)sizeof(spec->name) ||
	    (!is_vdev_name(tok) && !is_pci_address(tok, spec->name, sizeof(spec->name)))) {
		fprintf(stderr, "sluice run: --port '%s': not a vdev (net_<driver>...) "
			"or a PCI address (0000:01:00.0)\n", devstr);
		return -EINVAL;
	}
	spec->is_vdev = is_vdev_name(tok);
	spec->is_pcap = !strncmp(spec->name, "net_pcap", 8);
	while (!err && (tok = strtok_r(NULL, ",", &save))) {
		err = spec->is_vdev ? check_key(spec, tok) : 0;
		if (!err && spec->is_pcap)
			err = parse_kv(spec, tok);
	}
	return err ? err : count_pcaps(spec);
}

bool sl_port_rx_data_hot(const struct sl_port_spec *spec)
{
	char driver[64];

	if (!spec->is_vdev)
		return false;
	driver_keys(spec->name, driver, sizeof(driver));
	return !strcmp(driver, "net_null") || !strcmp(driver, "net_pcap") ||
	       !strcmp(driver, "net_tap");
}

/* Egress of port i: its pair partner, or itself. */
static uint16_t egress_of(unsigned i, unsigned nports)
{
	unsigned partner = i ^ 1u;

	return (uint16_t)(partner < nports ? partner : i);
}

#define PCAP_TX_BOUNCE 16128     /* net_pcap's RTE_ETH_PCAP_SNAPLEN */
#define JUMBO_ROOM UINT16_MAX    /* one mbuf holds a whole 65,535-byte frame (no headroom) */

uint16_t sl_port_tx_linearize(struct sl_engine *eng, struct rte_mbuf **pkts, uint16_t n,
			      uint64_t *errors)
{
	uint16_t k = 0;

	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i], *j;

		if (likely(m->nb_segs == 1 || m->pkt_len <= PCAP_TX_BOUNCE)) {
			pkts[k++] = m;
			continue;
		}
		j = rte_pktmbuf_alloc(eng->jumbo_pool);
		if (j)
			j->data_off = 0;
		if (!j || m->pkt_len > j->buf_len ||
		    !rte_pktmbuf_read(m, 0, m->pkt_len, rte_pktmbuf_mtod(j, void *))) {
			rte_pktmbuf_free(j);
			rte_pktmbuf_free(m);
			(*errors)++;
			continue;
		}
		j->data_len = (uint16_t)m->pkt_len;
		j->pkt_len = m->pkt_len;
		rte_pktmbuf_free(m);
		pkts[k++] = j;
	}
	return k;
}

/* The jumbo pool, when some net_pcap port writes a capture. */
static int jumbo_pool_create(struct sl_engine *eng)
{
	const struct sl_run_opts *o = eng->opts;
	bool need = false;

	for (unsigned i = 0; i < o->nports; i++) {
		eng->port_linearize[i] = o->ports[i].is_pcap && o->ports[i].n_tx_pcap;
		need |= eng->port_linearize[i];
	}
	if (!need)
		return 0;
	eng->jumbo_pool = rte_pktmbuf_pool_create("sluice_jumbo", eng->nworkers * SL_RUN_BURST + 32,
						  0, 0, JUMBO_ROOM, (int)rte_socket_id());
	if (!eng->jumbo_pool) {
		fprintf(stderr, "sluice run: mempool of 64 KiB mbufs: %s\n", rte_strerror(rte_errno));
		return -ENOMEM;
	}
	return 0;
}

/* RX queues of port @p i: the config's rx_queues, or one per worker. */
static unsigned rx_queues_of(const struct sl_engine *eng, unsigned i)
{
	unsigned q = eng->opts->ports[i].rx_queues;

	return q ? q : eng->nworkers;
}

/*
 * rte_mempool_obj_iter() callback for a pool without contiguous IOVA: such
 * a pool records no IOVA for its objects (RTE_BAD_IOVA), so each mbuf's
 * buf_iova is set from its buffer's address (IOVA as VA: the same number).
 */
static void iova_of_va(struct rte_mempool *mp, void *arg, void *obj, unsigned idx)
{
	struct rte_mbuf *m = obj;

	(void)mp;
	(void)arg;
	(void)idx;
	m->buf_iova = rte_mem_virt2iova(m->buf_addr);
}

/*
 * rte_pktmbuf_pool_create() with mempool @p flags: the same steps (empty
 * pool of mbuf + @p room bytes, the platform's mempool ops, the pktmbuf
 * private area, populate, every mbuf initialised). NULL with rte_errno.
 *
 * Why flags (pool_create()): without hugepages, DPDK keeps every object
 * inside one 4 KiB page unless told the objects need no contiguous IOVA
 * (RTE_MEMPOOL_F_NO_IOVA_CONTIG), so a 2,368-byte mbuf takes a page of its
 * own: every mbuf header, and every packet's first line, then sits at the
 * same offset in its page, in the same L1 set (12 ways on the test
 * machine), and a burst of 32 evicts itself between the driver's RX, the
 * program and the TX free. With IOVA as VA, a buffer contiguous in
 * virtual memory is contiguous in IOVA, so the flag loses nothing for
 * DMA, and the mbufs are packed (2,368 bytes, 37 cache lines apart: their
 * headers fall in different sets), as they are in hugepages anyway.
 */
static struct rte_mempool *pktmbuf_pool(const char *name, unsigned n, unsigned cache,
					uint16_t room, int socket, unsigned flags)
{
	struct rte_pktmbuf_pool_private priv = { .mbuf_data_room_size = room };
	struct rte_mempool *mp;
	int ret;

	mp = rte_mempool_create_empty(name, n, sizeof(struct rte_mbuf) + room, cache,
				      sizeof(priv), socket, flags);
	if (!mp)
		return NULL;
	ret = rte_mempool_set_ops_byname(mp, rte_mbuf_best_mempool_ops(), NULL);
	if (!ret) {
		rte_pktmbuf_pool_init(mp, &priv);
		ret = rte_mempool_populate_default(mp);
	}
	if (ret < 0) {
		rte_mempool_free(mp);
		rte_errno = -ret;
		return NULL;
	}
	rte_mempool_obj_iter(mp, rte_pktmbuf_init, NULL);
	if (flags & RTE_MEMPOOL_F_NO_IOVA_CONTIG)
		rte_mempool_obj_iter(mp, iova_of_va, NULL);
	return mp;
}

/* rte_mempool_obj_iter() callback: the addresses of the first two objects. */
static void note_obj(struct rte_mempool *mp, void *arg, void *obj, unsigned idx)
{
	uintptr_t *first = arg;

	(void)mp;
	if (idx < 2)
		first[idx] = (uintptr_t)obj;
}

/* Bytes from one mbuf to the next in @p mp (its first two), 0 with fewer. */
static size_t pool_stride(struct rte_mempool *mp)
{
	uintptr_t first[2] = { 0, 0 };

	rte_mempool_obj_iter(mp, note_obj, first);
	return first[1] > first[0] ? first[1] - first[0] : 0;
}

static int pool_create(struct sl_engine *eng)
{
	const struct sl_run_opts *o = eng->opts;
	bool packed = !rte_eal_has_hugepages() && rte_eal_iova_mode() == RTE_IOVA_VA;
	uint64_t n = (uint64_t)eng->nworkers * (SL_RUN_BURST * (eng->nports + 1) + POOL_CACHE) + 2048;

	for (unsigned i = 0; i < o->nports; i++)  /* every queue's descriptors full */
		n += (uint64_t)rx_queues_of(eng, i) *
			     (o->ports[i].rx_desc ? o->ports[i].rx_desc : RX_DESC) +
		     (uint64_t)eng->nworkers * (o->ports[i].tx_desc ? o->ports[i].tx_desc : TX_DESC);
	for (unsigned i = 0; i < o->nports; i++)
		if (o->ports[i].infinite_rx)
			n += o->ports[i].pcap_packets;
	if (n > UINT32_MAX / 2) {
		fprintf(stderr, "sluice run: mempool of %llu mbufs is too large\n", (unsigned long long)n);
		return -ENOMEM;
	}
	eng->pool = pktmbuf_pool("sluice_pkts", (unsigned)n, POOL_CACHE, RTE_MBUF_DEFAULT_BUF_SIZE,
				 (int)rte_socket_id(), packed ? RTE_MEMPOOL_F_NO_IOVA_CONTIG : 0);
	if (!eng->pool) {
		fprintf(stderr, "sluice run: mempool of %llu mbufs: %s\n", (unsigned long long)n,
			rte_strerror(rte_errno));
		return -ENOMEM;
	}
	if (!o->quiet)
		printf("sluice: %llu mbufs, %zu bytes apart%s\n", (unsigned long long)n,
		       pool_stride(eng->pool),
		       packed ? " (packed: no hugepages, IOVA as VA)" : "");
	return 0;
}

/* One line, with DPDK's own first message for this step when it logged one. */
static int port_fail(const struct sl_port_spec *spec, const char *what, int ret, bool since_mark)
{
	const char *detail = sl_log_first_line(since_mark);

	fprintf(stderr, "sluice run: port '%s': %s: %s%s%s%s\n", spec->name, what,
		rte_strerror(ret < 0 ? -ret : EIO), detail ? " (" : "", detail ? detail : "",
		detail ? ")" : "");
	return ret < 0 ? ret : -EIO;
}

static int port_start(struct sl_engine *eng, unsigned i)
{
	const struct sl_port_spec *spec = &eng->opts->ports[i];
	struct rte_eth_dev_info info;
	struct rte_eth_conf conf;
	uint16_t pid, nrx = (uint16_t)(spec->rx_desc ? spec->rx_desc : RX_DESC);
	uint16_t ntx = (uint16_t)(spec->tx_desc ? spec->tx_desc : TX_DESC);
	unsigned nrxq = rx_queues_of(eng, i);
	int ret = rte_eth_dev_get_port_by_name(spec->name, &pid);

	if (ret && !spec->is_vdev) {
		fprintf(stderr, "sluice run: port '%s': no such PCI device bound to a DPDK driver "
			"(bind it with dpdk-devbind.py --bind=vfio-pci %s)\n", spec->name, spec->name);
		return ret;
	}
	if (ret)  /* the EAL did not create it: its log says why */
		return port_fail(spec, "not created", ret, false);
	eng->port_id[i] = pid;
	eng->port_rxq[i] = (uint16_t)nrxq;
	sl_log_capture_mark();
	ret = rte_eth_dev_info_get(pid, &info);
	if (ret)
		return port_fail(spec, "device info", ret, true);
	if (spec->n_rx_pcap > 1 && spec->n_rx_pcap != nrxq && !spec->rx_queues) {
		fprintf(stderr, "sluice run: port '%s': %u rx_pcap files are %u RX queues, and "
			"--workers %u polls %u: give one rx_pcap per worker\n", spec->name,
			spec->n_rx_pcap, spec->n_rx_pcap, eng->nworkers, eng->nworkers);
		return -EINVAL;
	}
	if (spec->n_rx_pcap > 1 && spec->n_rx_pcap != nrxq) {
		fprintf(stderr, "sluice run: port '%s': %u rx_pcap files are %u RX queues, and "
			"rx_queues is %u: give one rx_pcap per RX queue\n", spec->name,
			spec->n_rx_pcap, spec->n_rx_pcap, nrxq);
		return -EINVAL;
	}
	if (info.max_rx_queues < nrxq || info.max_tx_queues < eng->nworkers) {
		fprintf(stderr, "sluice run: port '%s': %u RX / %u TX queues, %u workers need %u RX "
			"and %u TX\n", spec->name, info.max_rx_queues, info.max_tx_queues,
			eng->nworkers, nrxq, eng->nworkers);
		return -EINVAL;
	}
	memset(&conf, 0, sizeof(conf));
	if (nrxq > 1 && (info.flow_type_rss_offloads & RTE_ETH_RSS_IP)) {
		/* flows spread over the workers' queues by the NIC's hash */
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_hf = info.flow_type_rss_offloads &
			(RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP | RTE_ETH_RSS_UDP);
	}
	ret = rte_eth_dev_configure(pid, (uint16_t)nrxq, (uint16_t)eng->nworkers, &conf);
	if (ret)
		return port_fail(spec, "configure", ret, true);
	ret = rte_eth_dev_adjust_nb_rx_tx_desc(pid, &nrx, &ntx);
	if (ret)
		return port_fail(spec, "descriptors", ret, true);
	ret = spec->mtu ? rte_eth_dev_set_mtu(pid, (uint16_t)spec->mtu) : 0;
	if (ret)
		return port_fail(spec, "MTU", ret, true);
	for (unsigned q = 0; q < nrxq || q < eng->nworkers; q++) {
		int sock = rte_eth_dev_socket_id(pid);

		sock = sock < 0 ? (int)rte_socket_id() : sock;
		ret = q < nrxq ? rte_eth_rx_queue_setup(pid, (uint16_t)q, nrx, (unsigned)sock, NULL,
							 eng->pool) : 0;
		if (ret)
			return port_fail(spec, "RX queue setup", ret, true);
		ret = q < eng->nworkers ? rte_eth_tx_queue_setup(pid, (uint16_t)q, ntx, (unsigned)sock,
								  NULL) : 0;
		if (ret)
			return port_fail(spec, "TX queue setup", ret, true);
	}
	ret = rte_eth_dev_start(pid);
	if (ret)
		return port_fail(spec, "start", ret, true);
	eng->port_started[i] = true;
	ret = rte_eth_macaddr_get(pid, (struct rte_ether_addr *)eng->port_mac[i]);
	if (ret)
		return port_fail(spec, "MAC address", ret, true);
	ret = spec->no_promisc ? 0 : rte_eth_promiscuous_enable(pid);
	if (ret && ret != -ENOTSUP)
		return port_fail(spec, "promiscuous mode", ret, true);
	return 0;
}

int sl_ports_start(struct sl_engine *eng)
{
	int err;

	for (unsigned i = 0; i < eng->nports; i++)
		eng->egress[i] = egress_of(i, eng->nports);
	eng->ports_view = (struct sl_ports_view){
		.nports = eng->nports, .port_id = eng->port_id, .egress = eng->egress,
		.mac = (const uint8_t (*)[6])eng->port_mac,
	};
	err = pool_create(eng) ?: jumbo_pool_create(eng);
	for (unsigned i = 0; i < eng->nports && !err; i++)
		err = port_start(eng, i);
	eng->ports_up = !err;
	return err;
}

/* Link status and the NIC's own counters, before the port stops. */
static void read_hw(struct sl_engine *eng, unsigned i)
{
	struct sl_port_hw *hw = &eng->port_hw[i];
	struct rte_eth_stats st;
	struct rte_eth_link link;

	memset(hw, 0, sizeof(*hw));
	if (rte_eth_stats_get(eng->port_id[i], &st) == 0) {
		hw->imissed = st.imissed;
		hw->rx_nombuf = st.rx_nombuf;
		hw->ierrors = st.ierrors;
		hw->oerrors = st.oerrors;
		hw->valid = true;
	}
	if (rte_eth_link_get_nowait(eng->port_id[i], &link) == 0) {
		hw->link_up = link.link_status == RTE_ETH_LINK_UP;
		hw->link_speed = link.link_speed == RTE_ETH_SPEED_NUM_UNKNOWN ? 0 : link.link_speed;
	}
}

/* Every mbuf is back in its pool once the ports are closed; what is not is said. */
static void count_mbufs(struct sl_engine *eng)
{
	unsigned size = eng->pool->size, avail = rte_mempool_avail_count(eng->pool);

	if (eng->jumbo_pool) {
		size += eng->jumbo_pool->size;
		avail += rte_mempool_avail_count(eng->jumbo_pool);
	}
	eng->mbufs_in_use_at_exit = (int64_t)size - (int64_t)avail;
	eng->ports_stopped = true;
	if (eng->mbufs_in_use_at_exit != 0) {
		fprintf(stderr, "sluice run: %lld mbufs of %u not back in the pool at exit\n",
			(long long)eng->mbufs_in_use_at_exit, size);
		eng->failed = true;
	}
}

void sl_ports_stop(struct sl_engine *eng)
{
	sl_ports_drain(eng);  /* drain.c: what sluice sent into its own rings */
	for (unsigned i = 0; i < eng->nports; i++) {
		if (eng->port_started[i]) {
			read_hw(eng, i);
			rte_eth_dev_stop(eng->port_id[i]);
			eng->port_started[i] = false;
		}
	}
	for (unsigned i = 0; i < eng->nports; i++) {
		uint16_t pid;

		if (!rte_eth_dev_get_port_by_name(eng->opts->ports[i].name, &pid))
			rte_eth_dev_close(pid);
	}
	if (!eng->pool)
		return;
	if (eng->ports_up) {  /* after a failed start the first error is the one line */
		sl_ports_check_tx_pcaps(eng);  /* txpcap_check.c: files closed, each record there? */
		count_mbufs(eng);
	}
	rte_mempool_free(eng->pool);
	rte_mempool_free(eng->jumbo_pool);
	eng->pool = NULL;
	eng->jumbo_pool = NULL;
}
