#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""`sluice run -c CONFIG.yaml` end to end through DPDK's net_pcap.

usage: test_config_run.py SLUICE PCAPGEN VERDICTS_OBJ BLOCKLIST_OBJ CASE

Each case writes a config file, runs it, and compares every output capture
byte for byte, and the counters, with what this script computes from the
input by itself (progs/verdicts.bpf.c's rules, test_engine.verdict_truth;
the blocklist with Python's ipaddress module). Exit 0 pass, 1 fail, 77 skip.
"""
import ipaddress
import json
import os
import struct
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../tests/common"))
import test_engine as te  # noqa: E402  (check_balance)
from sltest import EAL_YAML, fail, write_pcap  # noqa: E402
import sltest as sl  # noqa: E402


class Env:
    def __init__(self, argv, tmp):
        self.sluice, self.pcapgen, self.verdicts, self.blocklist = map(os.path.abspath, argv[1:5])
        self.tmp = tmp

    def path(self, name):
        return os.path.join(self.tmp, name)

    def gen(self, name, count, seed):
        return sl.gen_pcap(self.pcapgen, self.path(name), count, seed)

    def config(self, name, text):
        with open(self.path(name), "w") as f:
            f.write(text)
        return self.path(name)

    def run(self, config, extra=()):
        cmd = [self.sluice, "run", "--quiet", "-c", config] + list(extra)
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=90)
        if r.returncode != 0:
            fail("%s: exit %d: %s" % (" ".join(cmd), r.returncode, r.stderr.strip()))
        return r


def stats_of(path):
    with open(path) as f:
        return json.load(f)


def verdict_truth(pkts, pass_port, redirect_port):
    """What progs/verdicts.bpf.c does to port 0's frames (rules in its header):
    counters, and the frames each port index must send, in order. pass_port:
    XDP_PASS target (None: egress drop); redirect_port: the port index of DPDK
    port 1 (None: not driven, an error)."""
    want = {"tx": 0, "drop": 0, "error": 0}
    out = {}

    def send(port, data):
        out.setdefault(port, []).append(data)
        want["tx"] += 1

    for data, _ in pkts:
        if len(data) < 12:
            sel, flag, big = 2, 0, False
        else:
            sel, flag, big = data[11] % 6, data[10], len(data) >= 64
        if sel in (0, 5) or (sel == 4 and not (flag & 2 and redirect_port is not None)):
            want["error"] += 1
        elif sel == 1 or (sel == 2 and pass_port is None):
            want["drop"] += 1
        elif sel == 2:
            send(pass_port, data[4:] if flag & 1 and big else data)
        elif sel == 3:
            send(0, data[:-10] if flag & 4 and big else data)
        else:
            send(redirect_port, data)
    return want, out


def check_verdict_run(env, label, js, pkts, outs, pass_port, redirect_port):
    """Counters and every port's capture against verdict_truth."""
    st = stats_of(js)["stats"]
    te.check_balance(st, label)
    want, frames = verdict_truth(pkts, pass_port, redirect_port)
    got = {k: st[k] for k in want}
    if st["rx"] != len(pkts) or got != want:
        fail("%s: rx %d %r, want rx %d %r" % (label, st["rx"], got, len(pkts), want))
    for port, path in enumerate(outs):
        sent = sl.frames(path) if os.path.exists(path) else []
        if sent != frames.get(port, []):
            fail("%s: port %d sent %d frames, want %d (or bytes differ)" %
                 (label, port, len(sent), len(frames.get(port, []))))
        if st["per_port"][port]["tx"] != len(frames.get(port, [])):
            fail("%s: per_port %r" % (label, st["per_port"]))
    print("ok %s: %r, sent per port %r" % (label, want,
                                           [len(frames.get(p, [])) for p in range(len(outs))]))


def port_yaml(name, device, egress=None, extra=""):
    e = ", egress: %s" % egress if egress else ""
    return '  - {name: %s, device: "%s"%s%s}\n' % (name, device, e, extra)


def verdict_config(env, tag, engine, egress0, nports, src):
    outs = [env.path("%s-o%d.pcap" % (tag, i)) for i in range(nports)]
    text = "program: {object: %s, engine: %s}\nports:\n" % (env.verdicts, engine)
    names = ["wan", "lan", "dmz"]
    for i in range(nports):
        dev = "net_pcap%d,%stx_pcap=%s" % (i, "rx_pcap=%s," % src if i == 0 else "", outs[i])
        text += port_yaml(names[i], dev, egress0 if i == 0 else None,
                          ", rx_desc: 512, tx_desc: 512, promiscuous: false" if i == 1 else "")
    text += "stats: {interval: 0, json: %s-stats.json}\neal: %s\n" % (tag, EAL_YAML)
    return env.config(tag + ".yaml", text), outs, env.path(tag + "-stats.json")


def case_verdicts2(env):
    """Two ports, wan -> lan by name; both engines."""
    src = env.gen("v2.pcap", 3000, 31)
    pkts = sl.packets(src)
    for engine in ("interp", "jit"):
        cfg, outs, js = verdict_config(env, "v2" + engine, engine, "lan", 2, src)
        env.run(cfg)
        check_verdict_run(env, "two ports " + engine, js, pkts, outs, 1, 1)


def case_verdicts3(env):
    """Three ports: XDP_PASS of wan to dmz (index 2), redirects to DPDK port 1 (lan)."""
    src = env.gen("v3.pcap", 3000, 32)
    pkts = sl.packets(src)
    cfg, outs, js = verdict_config(env, "v3", "jit", "dmz", 3, src)
    env.run(cfg)
    check_verdict_run(env, "three ports", js, pkts, outs, 2, 1)


def case_self(env):
    """egress: self: XDP_PASS goes back out of wan, in input order with XDP_TX."""
    src = env.gen("vs.pcap", 2000, 33)
    pkts = sl.packets(src)
    cfg, outs, js = verdict_config(env, "vs", "jit", "self", 2, src)
    env.run(cfg)
    check_verdict_run(env, "egress self", js, pkts, outs, 0, 1)


def case_drop(env):
    """egress: drop: XDP_PASS frames are dropped and counted as drops."""
    src = env.gen("vd.pcap", 2000, 34)
    pkts = sl.packets(src)
    cfg, outs, js = verdict_config(env, "vd", "jit", "drop", 2, src)
    env.run(cfg)
    check_verdict_run(env, "egress drop", js, pkts, outs, None, 1)


def case_forward(env):
    """--forward on the command line overrides the file's egress (by index and by name)."""
    src = env.gen("vf.pcap", 2000, 35)
    pkts = sl.packets(src)
    cfg, outs, js = verdict_config(env, "vf", "jit", "lan", 3, src)
    env.run(cfg, ["--forward", "0:2"])
    check_verdict_run(env, "--forward 0:2 over egress: lan", js, pkts, outs, 2, 1)
    os.unlink(js)
    for o in outs:
        if os.path.exists(o):
            os.unlink(o)
    env.run(cfg, ["--forward", "wan:self"])
    check_verdict_run(env, "--forward wan:self over egress: lan", js, pkts, outs, 0, 1)


def eth(ethertype, payload, vlan=False):
    hdr = bytes.fromhex("020000000002") + bytes.fromhex("020000000001")
    if vlan:
        hdr += struct.pack(">HH", 0x8100, 7)
    return hdr + struct.pack(">H", ethertype) + payload


def ipv4(src, dst="192.0.2.1"):
    h = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 28, 0, 0, 64, 17, 0,
                    ipaddress.IPv4Address(src).packed, ipaddress.IPv4Address(dst).packed)
    return h + bytes(8)


def ipv6(src, dst="2001:db9::1"):
    h = struct.pack(">IHBB16s16s", 0x60000000, 8, 17, 64, ipaddress.IPv6Address(src).packed,
                    ipaddress.IPv6Address(dst).packed)
    return h + bytes(8)


BLOCK4 = ["10.0.0.0/8", "192.168.0.0/16", "172.16.5.0/24", "203.0.113.7/32"]
BLOCK6 = ["2001:db8::/32", "fd00::/8", "fe80::1/128"]


def case_blocklist(env):
    """The two-port inline filter (examples/blocklist.bpf.c) with preloaded IPv4 and IPv6
    prefixes: what passes, byte for byte, and the per-CPU counters."""
    srcs4 = ["10.1.2.3", "11.0.0.1", "192.168.255.255", "192.169.0.1", "172.16.5.77",
             "172.16.6.1", "203.0.113.7", "203.0.113.8", "9.255.255.255", "10.0.0.0"]
    srcs6 = ["2001:db8::1", "2001:db8:ffff::5", "2001:db9::1", "fd12::34", "fc00::1",
             "fe80::1", "fe80::2", "::1"]
    frames = []
    for i in range(300):
        if i % 3 == 0:
            frames.append(eth(0x0800, ipv4(srcs4[i % len(srcs4)]), vlan=i % 2 == 1))
        elif i % 3 == 1:
            frames.append(eth(0x86DD, ipv6(srcs6[i % len(srcs6)]), vlan=i % 4 == 1))
        else:
            frames.append(eth(0x0806, bytes(28)))  # ARP: passes
    src = env.path("bl-in.pcap")
    write_pcap(src, frames)
    nets4 = [ipaddress.ip_network(p) for p in BLOCK4]
    nets6 = [ipaddress.ip_network(p) for p in BLOCK6]
    want_out, drop4, drop6 = [], 0, 0
    for fr in frames:
        off = 18 if fr[12:14] == b"\x81\x00" else 14
        et = fr[off - 2:off]
        if et == b"\x08\x00" and any(ipaddress.IPv4Address(fr[off + 12:off + 16]) in n
                                     for n in nets4):
            drop4 += 1
        elif et == b"\x86\xdd" and any(ipaddress.IPv6Address(fr[off + 8:off + 24]) in n
                                       for n in nets6):
            drop6 += 1
        else:
            want_out.append(fr)
    if not (drop4 and drop6 and want_out):
        fail("blocklist: test input does not exercise every path")
    with open(env.path("bl4.txt"), "w") as f:
        f.write("# IPv4 blocklist\n")
        for i, p in enumerate(BLOCK4):
            f.write("%s %d   # rule %d\n" % (p, i + 1, i + 1))
    with open(env.path("bl6.txt"), "w") as f:
        f.write("\n".join(BLOCK6) + "\n")  # a set: values omitted
    lan_out, wan_out = env.path("bl-lan.pcap"), env.path("bl-wan.pcap")
    cfg = env.config("bl.yaml", """# two-port inline filter
program: {object: %s, section: xdp, type: xdp}
ports:
  - {name: wan, device: "net_pcap0,rx_pcap=bl-in.pcap,tx_pcap=bl-wan.pcap", egress: lan}
  - {name: lan, device: "net_pcap1,tx_pcap=bl-lan.pcap", egress: wan}
workers: 1
maps:
  block4: {file: bl4.txt}
  block6: {file: bl6.txt, size: 64}
stats: {interval: 0, json: bl.json}
eal: %s
""" % (env.blocklist, EAL_YAML))
    env.run(cfg)
    out = stats_of(env.path("bl.json"))
    st = out["stats"]
    te.check_balance(st, "blocklist")
    if st["rx"] != len(frames) or st["drop"] != drop4 + drop6 or st["tx"] != len(want_out):
        fail("blocklist: stats %r, want rx %d drop %d tx %d" %
             (st, len(frames), drop4 + drop6, len(want_out)))
    sent = sl.frames(lan_out)
    if sent != want_out:
        fail("blocklist: lan sent %d frames, want %d (or bytes differ)" % (len(sent), len(want_out)))
    if sl.packets(wan_out):
        fail("blocklist: wan sent frames")
    counters = {int(e["key"]): e for e in out["maps"]["counters"]["entries"]}
    want_c = {0: len(want_out), 1: drop4, 2: drop6}
    for k, v in want_c.items():
        if counters.get(k, {"value": 0})["value"] != v:
            fail("blocklist: counters[%d] = %r, want %d" % (k, counters.get(k), v))
    m6 = out["maps"]["block6"]
    if m6.get("max_entries", 64) != 64 or len(m6["entries"]) != len(BLOCK6):
        fail("blocklist: block6 %r, want %d entries of 64" % (m6, len(BLOCK6)))
    print("ok blocklist: %d frames, %d dropped by IPv4 prefixes, %d by IPv6, %d passed" %
          (len(frames), drop4, drop6, len(want_out)))


def case_overrides(env):
    """The command line over the file: --map replaces a preload file, --json the stats
    file, --section/--jit the program keys, --port the ports, --stats-interval the interval."""
    frames = [eth(0x0800, ipv4("10.1.1.1")), eth(0x0800, ipv4("11.1.1.1")),
              eth(0x86DD, ipv6("2001:db8::7")), eth(0x86DD, ipv6("2001:db9::7"))] * 25
    write_pcap(env.path("ov-in.pcap"), frames)
    with open(env.path("ov-none.txt"), "w") as f:
        f.write("# blocks nothing that arrives\n192.0.2.0/24\n")
    with open(env.path("ov-4.txt"), "w") as f:
        f.write("10.0.0.0/8\n")
    cfg = env.config("ov.yaml", """program: {object: %s, section: nosuch, engine: interp}
ports:
  - {name: x, device: "net_pcap0,rx_pcap=ov-in.pcap,tx_pcap=ov-file.pcap", egress: drop}
maps:
  block4: {file: ov-none.txt}
stats: {interval: 5, json: ov-file.json}
eal: %s
""" % (env.blocklist, EAL_YAML))
    out_pcap, js = env.path("ov-cli.pcap"), env.path("ov-cli.json")
    env.run(cfg, ["--section", "xdp", "--jit", "--map", "block4=" + env.path("ov-4.txt"),
                  "--json", js, "--stats-interval", "0",
                  "--port", "net_pcap0,rx_pcap=%s,tx_pcap=%s" % (env.path("ov-in.pcap"), out_pcap)])
    if os.path.exists(env.path("ov-file.json")) or os.path.exists(env.path("ov-file.pcap")):
        fail("overrides: the file's json or port was used")
    st = stats_of(js)["stats"]
    # one port without egress: XDP_PASS goes back out of it; 10/8 dropped by --map's file
    want_out = [f for f in frames if f[26:30] != ipaddress.IPv4Address("10.1.1.1").packed]
    sent = sl.frames(out_pcap)
    if st["drop"] != 25 or sent != want_out:
        fail("overrides: drop %d (want 25), sent %d frames (want %d)" %
             (st["drop"], len(sent), len(want_out)))
    # the engine: program.engine interp, and --jit over it
    for extra, want in (([], "interpreter)"), (["--jit"], "jit)")):
        r = subprocess.run([env.sluice, "run", "-c", cfg, "--section", "xdp", "--no-maps",
                            "--stats-interval", "0", "--json", js, "--port",
                            "net_pcap0,rx_pcap=%s" % env.path("ov-in.pcap")] + extra,
                           capture_output=True, text=True, timeout=60)
        line = [ln for ln in r.stdout.splitlines() if ln.startswith("stats: ")]
        if r.returncode or not line or not line[0].endswith(want):
            fail("overrides: engine %r: exit %d, %r" % (extra, r.returncode, line))
    print("ok overrides: --section, --jit, --map, --json, --port, --stats-interval over the file")


def case_lcores(env):
    """workers: {lcores: [...]}: two workers on the CPUs listed, per-CPU counters summing
    exactly to the frames each worker took."""
    cpus = sorted(os.sched_getaffinity(0))
    lc = [cpus[0], cpus[-1]] if len(cpus) > 1 else [cpus[0], cpus[0]]
    if lc[0] == lc[1]:
        lc = [cpus[0]]
    cfg = env.config("lc.yaml", """program: {object: %s}
ports:
  - {device: net_null0}
  - {device: net_null1}
workers: {lcores: [%s]}
stats: {interval: 0, json: lc.json}
eal: %s
""" % (env.blocklist, ", ".join(str(c) for c in lc), EAL_YAML))
    env.run(cfg, ["--duration", "1"])
    out = stats_of(env.path("lc.json"))
    st = out["stats"]
    te.check_balance(st, "lcores")
    if len(st["per_worker"]) != len(lc) or any(w["rx"] == 0 for w in st["per_worker"]):
        fail("lcores: per_worker %r, want %d busy workers" % (st["per_worker"], len(lc)))
    # net_null frames are zeros: no IP, every one passes: counters[0] == rx, per worker
    e0 = [e for e in out["maps"]["counters"]["entries"] if int(e["key"]) == 0]
    if not e0 or e0[0]["value"] != st["rx"] or len(e0[0]["per_core"]) != len(lc):
        fail("lcores: counters %r, want [0] = %d over %d slots" % (e0, st["rx"], len(lc)))
    if [c for c in e0[0]["per_core"]] != [w["rx"] for w in st["per_worker"]]:
        fail("lcores: per-core %r != per-worker rx %r" %
             (e0[0]["per_core"], [w["rx"] for w in st["per_worker"]]))
    print("ok lcores %r: %d frames, per worker %r" % (lc, st["rx"], e0[0]["per_core"]))


def case_portopts(env):
    """Per-port settings reach the driver: net_null takes mtu, descriptors and promiscuous
    off; net_pcap cannot set an MTU, and the run names the port and the driver's answer."""
    cfg = env.config("po.yaml", """program: {object: %s}
ports:
  - {name: a, device: net_null0, mtu: 1400, rx_desc: 128, tx_desc: 256, promiscuous: false}
  - {name: b, device: net_null1, egress: drop}
stats: {interval: 0, json: po.json}
eal: %s
""" % (env.blocklist, EAL_YAML))
    env.run(cfg, ["--duration", "0.3"])
    st = stats_of(env.path("po.json"))["stats"]
    te.check_balance(st, "portopts")
    if st["rx"] == 0:
        fail("portopts: no packets")
    src = env.gen("po.pcap", 10, 3)
    cfg = env.config("po2.yaml", """program: {object: %s}
ports:
  - {device: "net_pcap0,rx_pcap=%s", mtu: 9000}
eal: %s
""" % (env.blocklist, src, EAL_YAML))
    r = subprocess.run([env.sluice, "run", "--quiet", "-c", cfg], capture_output=True,
                       text=True, timeout=60)
    want = "sluice run: port 'net_pcap0': MTU: Operation not supported\n"
    if r.returncode != 1 or r.stderr != want:
        fail("portopts: net_pcap mtu: exit %d %r, want 1 %r" % (r.returncode, r.stderr, want))
    print("ok portopts: %d packets with mtu/descriptors/promiscuous set; %s" %
          (st["rx"], want.strip()))


def case_rxqueues(env):
    """rx_queues above the worker count: net_pcap reads rx_pcap file i on RX queue i; worker
    w polls queues w, w + workers, ...; progs/rxq_count.bpf.c counts by rx_queue_index in a
    per-CPU array, so each queue's count must be its file's frame count, all in the slot of
    the worker that polls it."""
    obj = os.path.join(os.path.dirname(env.verdicts), "rxq_count.bpf.o")
    for workers, sizes in ((1, [30, 50]), (2, [11, 23, 37, 41])):
        files = [env.gen("rq%d-%d.pcap" % (workers, q), n, 40 + q) for q, n in enumerate(sizes)]
        dev = "net_pcap0," + ",".join("rx_pcap=" + f for f in files)
        js = env.path("rq%d.json" % workers)
        cfg = env.config("rq%d.yaml" % workers, """program: {object: %s}
ports:
  - {name: a, device: "%s", rx_queues: %d, egress: b}
  - {name: b, device: "net_null0,no-rx=1", egress: drop}
workers: %d
stats: {interval: 0, json: %s}
eal: %s
""" % (obj, dev, len(sizes), workers, js, EAL_YAML))
        env.run(cfg)
        out = stats_of(js)
        st = out["stats"]
        te.check_balance(st, "rxqueues")
        if st["rx"] != sum(sizes) or st["tx"] != sum(sizes):
            fail("rxqueues: rx %d tx %d, want %d" % (st["rx"], st["tx"], sum(sizes)))
        want_w = [sum(n for q, n in enumerate(sizes) if q % workers == w) for w in range(workers)]
        if [w["rx"] for w in st["per_worker"]] != want_w:
            fail("rxqueues: per-worker rx %r, want %r" % (st["per_worker"], want_w))
        got = {int(e["key"]): e for e in out["maps"]["rxq"]["entries"]}
        for q, n in enumerate(sizes):
            slots = [n if q % workers == w else 0 for w in range(workers)]
            e = got.get(q)
            if not e or e["value"] != n or e["per_core"] != slots:
                fail("rxqueues: queue %d: %r, want %d in slots %r" % (q, e, n, slots))
        if set(got) != set(range(len(sizes))):
            fail("rxqueues: counts for queues %r, want %r" % (sorted(got), len(sizes)))
        print("ok rxqueues: %d RX queues over %d worker%s: per queue %r, per worker %r" %
              (len(sizes), workers, "" if workers == 1 else "s", sizes, want_w))


CASES = {f.__name__[5:]: f for f in (case_verdicts2, case_verdicts3, case_self, case_drop,
                                      case_forward, case_blocklist, case_lcores, case_portopts,
                                      case_overrides, case_rxqueues)}


def main():
    if len(sys.argv) != 6 or sys.argv[5] not in CASES:
        print(__doc__)
        return 2
    if not sl.pmd_available("pcap"):
        print("SKIP: DPDK net_pcap driver not installed")
        return 77
    with sl.tmpdir("sluice-config-") as tmp:
        CASES[sys.argv[5]](Env(sys.argv, tmp))
    return 0


if __name__ == "__main__":
    sys.exit(main())
