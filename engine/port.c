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
 * After EAL: one mempool for every port, then per port: configure with one
 * RX and one TX queue per worker (worker i polls RX queue i and sends on
 * TX queue i of every port: no locks), start, promiscuous on.
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

#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "engine_internal.h"
#include "pcap_count.h"

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

static int count_pcap(struct sl_port_spec *spec)
{
	char err[512];

	if (sl_pcap_count(spec->rx_pcap, &spec->pcap_packets, err, sizeof(err))) {
		fprintf(stderr, "sluice run: --port '%s': rx_pcap: %s\n", spec->devstr, err);
		return -EINVAL;
	}
	return 0;
}

/* One "key=value" argument of a vdev string. */
static int parse_kv(struct sl_port_spec *spec, const char *kv)
{
	if (!strncmp(kv, "rx_pcap=", 8)) {
		if (spec->rx_pcap[0]) {
			fprintf(stderr, "sluice run: --port '%s': one rx_pcap per port (one RX queue)\n",
				spec->devstr);
			return -EINVAL;
		}
		if (snprintf(spec->rx_pcap, sizeof(spec->rx_pcap), "%s", kv + 8) >=
		    (int)sizeof(spec->rx_pcap) || !kv[8]) {
			fprintf(stderr, "sluice run: --port '%s': bad rx_pcap file name\n", spec->devstr);
			return -EINVAL;
		}
	} else if (!strncmp(kv, "infinite_rx=", 12)) {
		spec->infinite_rx = atoi(kv + 12) != 0;
	}
	return 0;
}

int sl_port_parse(const char *devstr, struct sl_port_spec *spec)
{
	char buf[1024];
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
	while (!err && (tok = strtok_r(NULL, ",", &save)))
		if (spec->is_pcap)
			err = parse_kv(spec, tok);
	if (err)
		return err;
	if (spec->rx_pcap[0]) {
		err = count_pcap(spec);
		spec->finite = !spec->infinite_rx;
	}
	return err;
}

/* Egress of port i: its pair partner, or itself. */
static uint16_t egress_of(unsigned i, unsigned nports)
{
	unsigned partner = i ^ 1u;

	return (uint16_t)(partner < nports ? partner : i);
}

static int pool_create(struct sl_engine *eng)
{
	const struct sl_run_opts *o = eng->opts;
	uint64_t n = (uint64_t)eng->nports * (RX_DESC + TX_DESC) * eng->nworkers +
		     (uint64_t)eng->nworkers * (SL_RUN_BURST * (eng->nports + 1) + POOL_CACHE) + 2048;

	for (unsigned i = 0; i < o->nports; i++)
		if (o->ports[i].infinite_rx)
			n += o->ports[i].pcap_packets;
	if (n > UINT32_MAX / 2) {
		fprintf(stderr, "sluice run: mempool of %llu mbufs is too large\n", (unsigned long long)n);
		return -ENOMEM;
	}
	eng->pool = rte_pktmbuf_pool_create("sluice_pkts", (unsigned)n, POOL_CACHE, 0,
					    RTE_MBUF_DEFAULT_BUF_SIZE, (int)rte_socket_id());
	if (!eng->pool) {
		fprintf(stderr, "sluice run: mempool of %llu mbufs: %s\n", (unsigned long long)n,
			rte_strerror(rte_errno));
		return -ENOMEM;
	}
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
	uint16_t pid, nrx = RX_DESC, ntx = TX_DESC;
	int ret = rte_eth_dev_get_port_by_name(spec->name, &pid);

	if (ret)  /* the EAL did not create it: its log says why */
		return port_fail(spec, "not created", ret, false);
	eng->port_id[i] = pid;
	sl_log_capture_mark();
	ret = rte_eth_dev_info_get(pid, &info);
	if (ret)
		return port_fail(spec, "device info", ret, true);
	if (info.max_rx_queues < eng->nworkers || info.max_tx_queues < eng->nworkers) {
		fprintf(stderr, "sluice run: port '%s': %u RX / %u TX queues, %u workers need %u of "
			"each\n", spec->name, info.max_rx_queues, info.max_tx_queues, eng->nworkers,
			eng->nworkers);
		return -EINVAL;
	}
	memset(&conf, 0, sizeof(conf));
	ret = rte_eth_dev_configure(pid, (uint16_t)eng->nworkers, (uint16_t)eng->nworkers, &conf);
	if (ret)
		return port_fail(spec, "configure", ret, true);
	ret = rte_eth_dev_adjust_nb_rx_tx_desc(pid, &nrx, &ntx);
	if (ret)
		return port_fail(spec, "descriptors", ret, true);
	for (unsigned q = 0; q < eng->nworkers; q++) {
		int sock = rte_eth_dev_socket_id(pid);

		sock = sock < 0 ? (int)rte_socket_id() : sock;
		ret = rte_eth_rx_queue_setup(pid, (uint16_t)q, nrx, (unsigned)sock, NULL, eng->pool);
		if (ret)
			return port_fail(spec, "RX queue setup", ret, true);
		ret = rte_eth_tx_queue_setup(pid, (uint16_t)q, ntx, (unsigned)sock, NULL);
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
	ret = rte_eth_promiscuous_enable(pid);
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
	err = pool_create(eng);
	for (unsigned i = 0; i < eng->nports && !err; i++)
		err = port_start(eng, i);
	return err;
}

void sl_ports_stop(struct sl_engine *eng)
{
	for (unsigned i = 0; i < eng->nports; i++) {
		if (eng->port_started[i]) {
			rte_eth_dev_stop(eng->port_id[i]);
			eng->port_started[i] = false;
		}
	}
	for (unsigned i = 0; i < eng->nports; i++) {
		uint16_t pid;

		if (!rte_eth_dev_get_port_by_name(eng->opts->ports[i].name, &pid))
			rte_eth_dev_close(pid);
	}
	rte_mempool_free(eng->pool);
	eng->pool = NULL;
}
