#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""End-to-end tests of the example programs: `sluice run` over net_pcap.

usage: test_examples.py SLUICE OBJDIR CASE

Each case writes a capture (pkts.py), runs the example on it through
net_pcap (one port: XDP_PASS, XDP_TX and a socket filter's kept packets
leave by the same port's tx_pcap), and checks the output frames, the verdict
counts and the example's maps against what this script computes on its own
from the frames and the example's documented rules (the comment at the top
of each examples/NAME.bpf.c). Never from a previous run of sluice.
Exit 0 pass, 1 fail, 77 skip (net_pcap missing).
"""
import ipaddress
import json
import os
import signal
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../tests/common"))
import pkts  # noqa: E402
from sltest import EAL, fail  # noqa: E402
import sltest as sl  # noqa: E402


class Env:
    def __init__(self, sluice, objdir, tmp):
        self.sluice, self.objdir, self.tmp = sluice, objdir, tmp

    def obj(self, name):
        return os.path.join(self.objdir, name + ".bpf.o")

    def path(self, name):
        return os.path.join(self.tmp, name)

    def run(self, name, frames, extra=(), label=None):
        """Run example NAME over frames; (stats, maps, output frames)."""
        label = label or name
        src, dst, js = self.path(label + "-in.pcap"), self.path(label + "-out.pcap"), \
            self.path(label + ".json")
        sl.write_pcap(src, frames, stamp=sl.STAMP_USEC)
        cmd = [self.sluice, "run", "--quiet", "--prog", self.obj(name), "--json", js,
               "--port", "net_pcap0,rx_pcap=%s,tx_pcap=%s" % (src, dst)] + list(extra) + EAL
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        if r.returncode != 0:
            fail("%s: sluice exit %d: %s" % (label, r.returncode, r.stderr.strip()))
        with open(js) as f:
            out = json.load(f)
        st = out["stats"]
        if st["rx"] != len(frames):
            fail("%s: rx %d, sent %d" % (label, st["rx"], len(frames)))
        if sum(st["verdicts"].values()) != st["rx"]:
            fail("%s: verdicts %r do not sum to rx" % (label, st["verdicts"]))
        return st, out["maps"], sl.frames(dst)

    def preload(self, name, lines):
        path = self.path(name + ".txt")
        with open(path, "w") as f:
            f.write("# written by test_examples.py\n" + "".join(l + "\n" for l in lines))
        return path


def as_bytes(v, size):
    """A JSON key or value as bytes: integers are host (little-endian) order."""
    if isinstance(v, int):
        return v.to_bytes(size, "little")
    if isinstance(v, str):
        return bytes.fromhex(v.replace(":", ""))
    fail("cannot decode JSON key/value %r" % (v,))


def counters(maps, name, nslots):
    """Per-CPU array of u64 counters, summed, as a list of nslots."""
    m = maps.get(name)
    if m is None:
        fail("map %s missing from the JSON" % name)
    got = [0] * nslots
    for e in m["entries"]:
        if sum(e["per_core"]) != e["value"]:
            fail("%s: per_core does not sum: %r" % (name, e))
        got[e["key"]] = e["value"]
    return got


def expect(label, got, want):
    if got != want:
        fail("%s: got %r, want %r" % (label, got, want))


# ---------------------------------------------------------------- firewall
FW_V4, FW_V6, FW_PORT, FW_MALFORMED, FW_FRAGMENT, FW_PASSED = range(6)
PASS, DROP, TX = "pass", "drop", "tx"


def in_prefixes(addr, prefixes):
    return any(addr in ipaddress.ip_network(p) for p in prefixes)


def firewall_truth(f, bl4, bl6, allow):
    """(verdict, fw_stats slot) for frame f under the rules of firewall.bpf.c."""
    l3 = pkts.l3_of(f)
    if l3 is None:
        return DROP, FW_MALFORMED
    et, off = l3
    if et == 0x0800:
        if len(f) < off + 20 or f[off] & 0xF < 5:
            return DROP, FW_MALFORMED
        if in_prefixes(ipaddress.IPv4Address(f[off + 12:off + 16]), bl4):
            return DROP, FW_V4
        proto, l4 = f[off + 9], off + 4 * (f[off] & 0xF)
        if proto not in (6, 17):
            return PASS, FW_PASSED
        if struct.unpack("!H", f[off + 6:off + 8])[0] & 0x1FFF:
            return DROP, FW_FRAGMENT
    elif et == 0x86DD:
        if len(f) < off + 40:
            return DROP, FW_MALFORMED
        if in_prefixes(ipaddress.IPv6Address(f[off + 8:off + 24]), bl6):
            return DROP, FW_V6
        proto, l4 = f[off + 6], off + 40
        if proto not in (6, 17):
            return PASS, FW_PASSED
    else:
        return PASS, FW_PASSED
    if len(f) < l4 + 4:
        return DROP, FW_MALFORMED
    if (proto, struct.unpack("!H", f[l4 + 2:l4 + 4])[0]) not in allow:
        return DROP, FW_PORT
    return PASS, FW_PASSED


def check_firewall(env, frames, bl4, bl6, allow, extra, label):
    want_out, want_stats = [], [0] * 6
    for f in frames:
        verdict, slot = firewall_truth(f, bl4, bl6, allow)
        want_stats[slot] += 1
        if verdict == PASS:
            want_out.append(f)
    st, maps, out = env.run("firewall", frames, extra, label)
    for slot in range(5):
        if not want_stats[slot] and label.endswith("preload"):
            fail("%s: traffic does not exercise drop reason %d" % (label, slot))
    expect(label + ": fw_stats", counters(maps, "fw_stats", 6), want_stats)
    expect(label + ": pass/drop", (st["verdicts"]["pass"], st["verdicts"]["drop"]),
           (len(want_out), len(frames) - len(want_out)))
    if out != want_out:
        fail("%s: output frames differ from the passed ones" % label)
    print("ok %s: %d passed, drops by reason %r" % (label, len(want_out), want_stats[:5]))


def case_firewall(env):
    frames = pkts.build_mix(1, 3000)
    check_firewall(env, frames, [], [], set(), [], "firewall-empty")


def case_firewall_preload(env):
    bl4 = ["10.0.0.0/8", "192.168.7.7/32", "203.0.113.0/24"]
    bl6 = ["2001:db8::/32", "fd00::/8"]
    allow = {(6, 80), (6, 443), (17, 53)}
    frames = pkts.build_mix(2, 4000)
    extra = ["--map", "blocklist_v4=" + env.preload("bl4", bl4),
             "--map", "blocklist_v6=" + env.preload("bl6", bl6),
             "--map", "allow_ports=" + env.preload("allow", ["{proto: %d, port: %d}" % a
                                                             for a in sorted(allow)])]
    check_firewall(env, frames, bl4, bl6, allow, extra, "firewall-preload")


def case_firewall_ctl(env):
    """The blocklist edited live: `sluice ctl map update/delete` on a running engine."""
    frames = []
    for i in range(200):
        src = "10.1.2.3" if i % 2 else "192.168.7.7"
        frames.append(pkts.v4_frame(src, "10.9.9.9", 17, 1000 + i, 53))
    src, sock = env.path("ctl-in.pcap"), env.path("ctl.sock")
    sl.write_pcap(src, frames, stamp=sl.STAMP_USEC)
    allow = env.preload("allow-ctl", ["{proto: 17, port: 53}"])
    cmd = [env.sluice, "run", "--quiet", "--prog", env.obj("firewall"),
           "--port", "net_pcap0,rx_pcap=%s,infinite_rx=1" % src,
           "--port", "net_null0,no-rx=1", "--map", "allow_ports=" + allow,
           "--ctl-socket", sock, "--duration", "60"] + EAL
    proc = sl.spawn(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def ctl(*args):
        r = subprocess.run([env.sluice, "ctl", "--socket", sock] + list(args),
                           capture_output=True, text=True, timeout=30)
        if r.returncode != 0:
            fail("sluice ctl %s: exit %d: %s" % (" ".join(args), r.returncode, r.stderr.strip()))
        return r.stdout

    def stats():
        got = [0] * 6
        for e in json.loads(ctl("--json", "map", "dump", "fw_stats"))["entries"]:
            got[e["key"]] = e["value"]
        return got

    sl.wait_for_path(sock, proc, 10)
    a = stats()
    key = "10.0.0.0/8"  # typed through the map's BTF (struct lpm_v4_key)
    ctl("map", "update", "blocklist_v4", key, "1")
    time.sleep(0.3)
    b = stats()
    time.sleep(0.5)
    c = stats()
    ctl("map", "delete", "blocklist_v4", key)
    time.sleep(0.3)
    d = stats()
    time.sleep(0.5)
    e = stats()
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    if proc.returncode != 0:
        fail("firewall-ctl: engine exit %d: %s" % (proc.returncode, err.strip()))
    if a[FW_V4] != 0:
        fail("firewall-ctl: drops before any blocklist entry: %r" % a)
    if not (c[FW_V4] > b[FW_V4] > 0 and c[FW_PASSED] > b[FW_PASSED]):
        fail("firewall-ctl: after the update 10.1.2.3 must drop and 192.168.7.7 pass: %r -> %r"
             % (b, c))
    if not (e[FW_V4] == d[FW_V4] and e[FW_PASSED] - d[FW_PASSED] > c[FW_PASSED] - b[FW_PASSED]):
        fail("firewall-ctl: after the delete nothing may drop: %r -> %r" % (d, e))
    if any(x[FW_PORT] or x[FW_MALFORMED] or x[FW_FRAGMENT] for x in (a, b, c, d, e)):
        fail("firewall-ctl: unexpected drop reasons %r" % e)
    print("ok firewall-ctl: live update dropped %d, live delete restored passing" %
          (d[FW_V4] - a[FW_V4]))


# ---------------------------------------------------------------- snaplen
def check_snaplen(env, n, extra, label):
    frames = pkts.build_mix(3, 2000)
    want = [f[:n] for f in frames]
    trimmed = sum(len(f) > n for f in frames)
    cut = sum(len(f) - n for f in frames if len(f) > n)
    st, maps, out = env.run("snaplen", frames, extra, label)
    if not trimmed or trimmed == len(frames):
        fail("%s: capture does not exercise both outcomes" % label)
    expect(label + ": trim/pass", (st["verdicts"]["trim"], st["verdicts"]["pass"]),
           (trimmed, len(frames) - trimmed))
    expect(label + ": snaplen_stats", counters(maps, "snaplen_stats", 3),
           [trimmed, cut, len(frames) - trimmed])
    if out != want:
        fail("%s: output frames are not the first %d bytes of the input" % (label, n))
    print("ok %s: %d of %d frames cut to %d bytes (%d bytes cut)" %
          (label, trimmed, len(frames), n, cut))


def case_snaplen(env):
    check_snaplen(env, 96, [], "snaplen-default")


def case_snaplen_preload(env):
    check_snaplen(env, 60, ["--map", "snaplen_cfg=" + env.preload("snap", ["0 60"])],
                  "snaplen-60")


# ---------------------------------------------------------------- flowtable
def flow_of(f):
    """flowtable.bpf.c's key (family, proto, sport, dport, saddr16, daddr16) or None."""
    l3 = pkts.l3_of(f)
    if l3 is None:
        return None
    et, off = l3
    if et == 0x0800 and len(f) >= off + 20:
        proto, ihl = f[off + 9], f[off] & 0xF
        src, dst = f[off + 12:off + 16] + bytes(12), f[off + 16:off + 20] + bytes(12)
        frag = struct.unpack("!H", f[off + 6:off + 8])[0] & 0x1FFF
        l4 = off + 4 * ihl if ihl >= 5 and not frag else None
        fam = 4
    elif et == 0x86DD and len(f) >= off + 40:
        proto, src, dst, l4, fam = f[off + 6], f[off + 8:off + 24], f[off + 24:off + 40], \
            off + 40, 6
    else:
        return None
    sport = dport = 0
    if proto in (6, 17) and l4 is not None and len(f) >= l4 + 4:
        sport, dport = struct.unpack("!HH", f[l4:l4 + 4])
    return fam, proto, sport, dport, src, dst


def case_flowtable(env):
    frames = pkts.build_mix(4, 3000)
    want = {}
    for f in frames:
        k = flow_of(f)
        if k is not None:
            p, b = want.get(k, (0, 0))
            want[k] = (p + 1, b + len(f))
    st, maps, out = env.run("flowtable", frames)
    if out != frames or st["verdicts"]["pass"] != len(frames):
        fail("flowtable: every frame must pass unchanged")
    got = {}
    for e in maps["flows"]["entries"]:
        # keys and values typed through BTF (sl_text's JSON form): structs by member
        k, v = e["key"], e["value"]
        fam, proto, sport, dport = k["family"], k["proto"], k["sport"], k["dport"]
        kb = bytes(8) + ipaddress.IPv6Address(k["saddr"]).packed + \
            ipaddress.IPv6Address(k["daddr"]).packed
        packets, nbytes = v["packets"], v["bytes"]
        first, last = v["first_seen_ns"], v["last_seen_ns"]
        if not 0 < first <= last:
            fail("flowtable: first_seen %d / last_seen %d of %r" % (first, last, e))
        if packets == 1 and first != last:
            fail("flowtable: a one-packet flow with first != last: %r" % e)
        got[(fam, proto, sport, dport, kb[8:24], kb[24:40])] = (packets, nbytes)
    if got != want:
        missing = [k for k in want if got.get(k) != want[k]][:3]
        fail("flowtable: %d flows, want %d; first differences %r" % (len(got), len(want),
                                                                     missing))
    stats = counters(maps, "flow_stats", 3)
    expect("flowtable: flow_stats", stats, [sum(p for p, _ in want.values()), len(want), 0])
    print("ok flowtable: %d flows, %d packets accounted" % (len(want), stats[0]))


# ---------------------------------------------------------------- ratelimit
def source_of(f):
    l3 = pkts.l3_of(f)
    if l3 is None:
        return None
    et, off = l3
    if et == 0x0800 and len(f) >= off + 20:
        return b"\0" * 10 + b"\xff\xff" + f[off + 12:off + 16]
    if et == 0x86DD and len(f) >= off + 40:
        return f[off + 8:off + 24]
    return None


def check_ratelimit(env, burst, extra, label):
    """burst None: unlimited (unconfigured, or a rate no capture can exceed)."""
    frames = pkts.build_mix(5, 3000)
    seen, want_out, stats = {}, [], [0] * 4
    for f in frames:
        s = source_of(f)
        if s is None:
            stats[2] += 1
            want_out.append(f)
            continue
        seen[s] = seen.get(s, 0) + 1
        if burst is None or seen[s] <= burst:
            stats[0] += 1
            want_out.append(f)
        else:
            stats[1] += 1
    st, maps, out = env.run("ratelimit", frames, extra, label)
    expect(label + ": rl_stats", counters(maps, "rl_stats", 4), stats)
    expect(label + ": drop verdicts", st["verdicts"]["drop"], stats[1])
    if out != want_out:
        fail("%s: output frames differ" % label)
    print("ok %s: %d sources, %d passed, %d dropped" % (label, len(seen), stats[0], stats[1]))


def case_ratelimit(env):
    check_ratelimit(env, None, [], "ratelimit-unconfigured")


def case_ratelimit_preload(env):
    # rate 0: a source gets exactly `burst` packets, whatever the timing.
    check_ratelimit(env, 40, ["--map", "rl_config=" + env.preload(
        "rl0", ["0 {rate_pps: 0, burst: 40}"])], "ratelimit-burst40")
    # 1e8 packets a second with a burst of 1e6: this capture cannot exceed it.
    check_ratelimit(env, None, ["--map", "rl_config=" + env.preload(
        "rlbig", ["0 {rate_pps: 100000000, burst: 1000000}"])], "ratelimit-huge")


# ---------------------------------------------------------------- l4lb
LB_RING = 65537


def mix32(h):
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & 0xFFFFFFFF
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & 0xFFFFFFFF
    return h ^ (h >> 16)


def lb_slot(saddr, daddr, sport, dport, proto):
    h = mix32(saddr)
    h = mix32(h ^ daddr)
    h = mix32(h ^ ((sport << 16) | dport))
    return mix32(h ^ proto) % LB_RING


def l4lb_truth(f, vips, table, backends, local):
    """(verdict, lb_stats slot, output frame or None) per l4lb.bpf.c."""
    if len(f) < 34 or f[12:14] != b"\x08\x00":
        return PASS, 1, f
    ihl, proto = f[14] & 0xF, f[23]
    frag = struct.unpack("!H", f[20:22])[0]
    if ihl < 5 or proto not in (6, 17) or frag & 0x3FFF or len(f) < 14 + 4 * ihl + 4:
        return PASS, 1, f
    l4 = 14 + 4 * ihl
    sport, dport = struct.unpack("!HH", f[l4:l4 + 4])
    saddr, daddr = struct.unpack("!II", f[26:34])
    if (str(ipaddress.IPv4Address(daddr)), dport, proto) not in vips:
        return PASS, 1, f
    be = backends.get(table[lb_slot(saddr, daddr, sport, dport, proto)])
    if be is None:
        return DROP, 2, None
    inner = f[14:]
    tot = struct.unpack("!H", inner[2:4])[0]
    outer = struct.pack("!BBHHHBBH4s4s", 0x45, inner[1], tot + 20, 0,
                        struct.unpack("!H", inner[6:8])[0] & 0x4000, 64, 4, 0,
                        ipaddress.IPv4Address(local).packed, ipaddress.IPv4Address(be[0]).packed)
    outer = outer[:10] + struct.pack("!H", sl.csum(outer)) + outer[12:]
    return TX, 0, bytes.fromhex(be[1].replace(":", "")) + f[0:6] + b"\x08\x00" + outer + inner


def lb_frames():
    import random
    rng = random.Random(6)
    frames = pkts.build_mix(6, 800)
    for _ in range(3000):
        proto = rng.choice([6, 17])
        vip = rng.choice(["10.100.0.1", "10.100.0.2", "10.100.0.3"])
        frames.append(pkts.v4_frame("%d.%d.%d.%d" % tuple(rng.randrange(1, 255) for _ in range(4)),
                                    vip, proto, rng.randrange(1024, 65536), rng.choice([80, 53, 443]),
                                    b"z" * rng.choice([0, 10, 200]), tos=rng.choice([0, 0x10]),
                                    frag=rng.choice([0, 0x4000, 0x4000, 0x2000])))
    rng.shuffle(frames)
    return frames


def case_l4lb(env):
    """No VIP configured: everything passes untouched."""
    frames = lb_frames()
    st, maps, out = env.run("l4lb", frames, [], "l4lb-novip")
    if out != frames or st["verdicts"]["pass"] != len(frames):
        fail("l4lb-novip: every frame must pass unchanged")
    expect("l4lb-novip: lb_stats", counters(maps, "lb_stats", 4), [0, len(frames), 0, 0])
    print("ok l4lb-novip: %d frames passed" % len(frames))


def case_l4lb_preload(env):
    here = os.path.dirname(os.path.abspath(__file__))
    tool = os.path.join(here, "..", "l4lb-maglev.py")
    backends_in = env.preload("backends-in", [
        "1 10.1.0.1 02:00:00:00:01:01", "2 10.1.0.2 02:00:00:00:01:02",
        "3 10.1.0.3 02:00:00:00:01:03", "4 10.1.0.4 02:00:00:00:01:04",
        "9 10.1.0.9 02:00:00:00:01:09"])
    table_txt, be_txt = env.path("maglev.txt"), env.path("backends.txt")
    subprocess.run([sys.executable, tool, backends_in, table_txt, be_txt], check=True)
    table = [0] * LB_RING
    with open(table_txt) as f:
        for line in f:
            if line.strip() and not line.startswith("#"):
                slot, bid = line.split()
                table[int(slot)] = int(bid)
    backends = {1: ("10.1.0.1", "02:00:00:00:01:01"), 2: ("10.1.0.2", "02:00:00:00:01:02"),
                3: ("10.1.0.3", "02:00:00:00:01:03"), 4: ("10.1.0.4", "02:00:00:00:01:04"),
                9: ("10.1.0.9", "02:00:00:00:01:09")}
    share = [table.count(b) for b in backends]
    if max(share) - min(share) > 1 or sum(share) != LB_RING:
        fail("l4lb: Maglev table not balanced: %r" % share)
    # Maglev's promise: removing backend 9 moves few slots other than its own.
    less = env.preload("backends-less", [l for l in open(backends_in) if not l.startswith("9 ")
                                         and not l.startswith("#")])
    t2 = env.path("maglev-less.txt")
    subprocess.run([sys.executable, tool, less, t2, env.path("be-less.txt")], check=True)
    with open(t2) as f:
        table2 = [int(l.split()[1]) for l in f if not l.startswith("#")]
    moved = sum(1 for a, b in zip(table, table2) if a != 9 and a != b)
    if moved > LB_RING // 20:
        fail("l4lb: removing one of 5 backends moved %d other slots" % moved)
    bad = env.preload("backends-bad", ["1 10.1.0.1 02:00:00:00:01:01", "2 10.1.0.300 02:00:00:00:01:02"])
    r = subprocess.run([sys.executable, tool, bad, env.path("x"), env.path("y")],
                       capture_output=True, text=True)
    if r.returncode != 1 or "backends-bad.txt:3:" not in r.stderr:
        fail("l4lb-maglev.py on a bad address: exit %d, %r" % (r.returncode, r.stderr))
    # Backend 9 is not in lb_backends: its slots drop (a backend being drained).
    live = {k: v for k, v in backends.items() if k != 9}
    with open(be_txt) as f:
        be_lines = [l for l in f if not l.startswith("9 ")]
    be_live = env.preload("backends-live", [l.rstrip("\n") for l in be_lines])
    vips = {("10.100.0.1", 80, 6), ("10.100.0.2", 53, 17), ("10.100.0.3", 443, 6)}
    extra = ["--map", "lb_vips=" + env.preload("vips", ["{addr: %s, port: %d, proto: %d}" % v
                                                         for v in sorted(vips)]),
             "--map", "lb_maglev=" + table_txt, "--map", "lb_backends=" + be_live,
             "--map", "lb_config=" + env.preload("lbcfg", ["0 {local_addr: 192.0.2.1}"])]
    frames = lb_frames()
    want_out, stats, verdicts = [], [0] * 4, {PASS: 0, DROP: 0, TX: 0}
    for f in frames:
        v, slot, o = l4lb_truth(f, vips, table, live, "192.0.2.1")
        stats[slot] += 1
        verdicts[v] += 1
        if o is not None:
            want_out.append(o)
    if not all(stats[:3]):
        fail("l4lb: capture does not exercise every outcome: %r" % stats)
    st, maps, out = env.run("l4lb", frames, extra, "l4lb-maglev")
    expect("l4lb: lb_stats", counters(maps, "lb_stats", 4), stats)
    expect("l4lb: verdicts", {k: st["verdicts"][k] for k in verdicts}, verdicts)
    if out != want_out:
        bad = next(i for i, (a, b) in enumerate(zip(out, want_out)) if a != b) \
            if len(out) == len(want_out) else -1
        fail("l4lb: output frames differ (first at %d of %d)" % (bad, len(want_out)))
    print("ok l4lb-maglev: %d encapsulated to %d backends, %d passed, %d dropped (drained); "
          "removing a backend moved %d other slots of %d" % (stats[0], len(live), stats[1],
                                                            stats[2], moved, LB_RING))


CASES = {"firewall": case_firewall, "firewall-preload": case_firewall_preload,
         "firewall-ctl": case_firewall_ctl,
         "snaplen": case_snaplen, "snaplen-preload": case_snaplen_preload,
         "flowtable": case_flowtable,
         "ratelimit": case_ratelimit, "ratelimit-preload": case_ratelimit_preload,
         "l4lb": case_l4lb, "l4lb-preload": case_l4lb_preload}


def main():
    if len(sys.argv) != 4 or sys.argv[3] not in CASES:
        print(__doc__)
        return 2
    if not sl.pmd_available("pcap"):
        print("SKIP: DPDK net_pcap driver not installed")
        return 77
    with sl.tmpdir("sluice-examples-") as tmp:
        CASES[sys.argv[3]](Env(sys.argv[1], sys.argv[2], tmp))
    return 0


if __name__ == "__main__":
    sys.exit(main())
