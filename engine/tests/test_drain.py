#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Every mbuf back in its pool at stop, with net_ring ports (engine/drain.c).

usage: test_drain.py SLUICE PCAPGEN PROTO_COUNT_OBJ HOLD_MBUF_SO CASE

A net_ring port's TX queue i and RX queue i are one ring: what sluice sent
into it and had not read back when the workers stopped is freed at stop and
reported as drained_at_stop, never as rx. proto_count passes every packet,
so the expected figures follow from the inputs alone: a packet read from a
capture goes into the ring and stays in the loop until the run stops (or a
full ring refuses it); for each net_ring port tx = rx + drained_at_stop;
rx = tx + drop + error; "mbufs_in_use_at_exit" is 0; a net_memif pair (it
copies) ends with 0 and nothing drained, as net_tap does; a tx_pcap cut short by the file
size limit is found at stop (engine/txpcap_check.c). The leak case puts
HOLD_MBUF_SO (hold_mbuf.c) in front of rte_eth_dev_close: a "driver" that
keeps mbufs past close must still be reported, with exit 1.
Exit 0 pass, 1 fail, 77 skip (net_pcap or net_ring missing).
"""
import json
import os
import resource
import signal
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../tests/common"))
from sltest import EAL, fail  # noqa: E402
import sltest as sl  # noqa: E402


class Env:
    def __init__(self, argv, tmp):
        self.sluice, self.pcapgen, self.obj, self.hold = map(os.path.abspath, argv[1:5])
        self.tmp = tmp

    def path(self, name):
        return os.path.join(self.tmp, name)

    def gen(self, name, count, seed):
        return sl.gen_pcap(self.pcapgen, self.path(name), count, seed)

    def run(self, args, env=None, quiet=True):
        cmd = [self.sluice, "run"] + (["--quiet"] if quiet else []) + args + EAL
        p = sl.run(cmd, 120, text=True, cwd=self.tmp, env=env)
        if os.path.exists(sl.runtime_dir(sl.PROCS[-1].pid)):
            fail("%s left behind" % sl.runtime_dir(sl.PROCS[-1].pid))
        return p

    def stats(self, args, label, env=None):
        """Run to the end of its finite input; exit 0, one JSON's stats."""
        js = self.path(label + ".json")
        r = self.run(["--prog", self.obj, "--json", js, "--no-maps"] + args, env)
        if r.returncode != 0:
            fail("%s: exit %d: %s" % (label, r.returncode, r.stderr.strip()))
        with open(js) as f:
            return json.load(f)["stats"]


def ports_of(st):
    return {p["name"]: p for p in st["per_port"]}


def check_common(st, label, rings):
    """What holds for every run here: the balance, mbufs 0, the drained
    figures per ring port and their total, nothing drained elsewhere."""
    if st["rx"] != st["tx"] + st["drop"] + st["error"]:
        fail("%s: rx %d != tx %d + drop %d + error %d" % (label, st["rx"], st["tx"], st["drop"],
                                                          st["error"]))
    if sum(st["verdicts"].values()) != st["rx"] or st["error"]:
        fail("%s: verdicts %r, error %d" % (label, st["verdicts"], st["error"]))
    if st["mbufs_in_use_at_exit"] != 0:
        fail("%s: mbufs_in_use_at_exit %r" % (label, st["mbufs_in_use_at_exit"]))
    ports = ports_of(st)
    for name, p in ports.items():
        if name in rings and p["tx"] != p["rx"] + p["drained_at_stop"]:
            fail("%s: %s tx %d != rx %d + drained %d" % (label, name, p["tx"], p["rx"],
                                                         p["drained_at_stop"]))
        if name not in rings and p["drained_at_stop"] != 0:
            fail("%s: %s is not a ring but drained %d" % (label, name, p["drained_at_stop"]))
    if sum(p["drained_at_stop"] for p in ports.values()) != st["drained_at_stop"]:
        fail("%s: per-port drained does not sum to %d" % (label, st["drained_at_stop"]))
    if sum(p["tx"] for p in ports.values()) != st["tx"]:
        fail("%s: per-port tx does not sum to tx" % label)
    return ports


def case_ringself(env):
    """net_pcap (500 packets) -> net_ring0 with egress self: the 500 circulate in
    the ring until the input ends, and are all drained at stop. A net_null port
    beside it (egress drop) is never drained: it makes packets of its own."""
    n = 500
    env.gen("s.pcap", n, 1)
    args = ["--port", "net_pcap0,rx_pcap=s.pcap", "--port", "net_ring0", "--port", "net_null0",
            "--forward", "0:1", "--forward", "1:self", "--forward", "2:drop"]
    for exec_opt in ([], ["--interp"]):
        label = "ringself" + "".join(exec_opt)
        st = env.stats(args + exec_opt, label)
        ports = check_common(st, label, {"net_ring0"})
        pc, ring, null = ports["net_pcap0"], ports["net_ring0"], ports["net_null0"]
        if pc["rx"] != n or pc["tx"] != 0 or st["tx_drop"] != 0:
            fail("%s: net_pcap0 %r, tx refused %d" % (label, pc, st["tx_drop"]))
        if ring["drained_at_stop"] != n or st["drained_at_stop"] != n:
            fail("%s: drained %d (ring) %d (total), want %d" % (
                label, ring["drained_at_stop"], st["drained_at_stop"], n))
        if ring["tx"] != n + ring["rx"] or st["drop"] != null["rx"]:
            fail("%s: ring %r, drop %d, net_null rx %d" % (label, ring, st["drop"], null["rx"]))
        print("ok %s: %d packets went round net_ring0 (%d received from it) and were drained "
              "at stop; net_null0 (%d received) not drained; mbufs 0" % (
                  label, n, ring["rx"], null["rx"]))
    r = env.run(["--prog", env.obj, "--no-maps"] + args, quiet=False)
    want = "mbufs in use at exit: 0 (%d sent into net_ring ports drained at stop)" % n
    if r.returncode != 0 or want not in r.stdout or "drained at stop %d" % n not in r.stdout:
        fail("ringself report: exit %d, want %r in %r" % (r.returncode, want, r.stdout[-600:]))
    print("ok ringself report: %r" % want)


def case_ringfull(env):
    """3000 packets into a ring of 1024 slots looping to itself: once it is full
    the rest are refused (drop, tx refused); what circulates is drained."""
    n = 3000
    env.gen("f.pcap", n, 2)
    st = env.stats(["--port", "net_pcap0,rx_pcap=f.pcap", "--port", "net_ring0",
                    "--forward", "0:1", "--forward", "1:self"], "ringfull")
    ring = check_common(st, "ringfull", {"net_ring0"})["net_ring0"]
    d = st["drained_at_stop"]
    if d + st["drop"] != n or st["drop"] != st["tx_drop"] or not 0 < d <= 1024:
        fail("ringfull: drained %d + drop %d (tx refused %d) != %d" % (d, st["drop"],
                                                                       st["tx_drop"], n))
    print("ok ringfull: %d packets, %d refused by the full ring, %d drained at stop; ring tx "
          "%d = rx %d + drained" % (n, st["drop"], d, ring["tx"], ring["rx"]))


def case_ringpair(env):
    """net_pcap -> net_ring0 <-> net_ring1 (each forwards to the other): the 700
    packets bounce between the two rings and are drained from both."""
    n = 700
    env.gen("p.pcap", n, 3)
    st = env.stats(["--port", "net_pcap0,rx_pcap=p.pcap", "--port", "net_ring0", "--port",
                    "net_ring1", "--forward", "0:1", "--forward", "1:2", "--forward", "2:1"],
                   "ringpair")
    ports = check_common(st, "ringpair", {"net_ring0", "net_ring1"})
    r0, r1 = ports["net_ring0"], ports["net_ring1"]
    if st["drained_at_stop"] != n or st["drop"] != 0:
        fail("ringpair: drained %d, drop %d, want %d and 0" % (st["drained_at_stop"], st["drop"],
                                                              n))
    if r0["tx"] != n + r1["rx"] or r1["tx"] != r0["rx"] or r1["rx"] == 0:
        fail("ringpair: ring0 %r ring1 %r" % (r0, r1))
    print("ok ringpair: %d packets bounced ring0 <-> ring1 (%d / %d received), drained %d + %d"
          % (n, r0["rx"], r1["rx"], r0["drained_at_stop"], r1["drained_at_stop"]))


def case_ringworkers(env):
    """Two workers, each with its own ring queue (two rings in one port): both
    queues drained."""
    env.gen("wa.pcap", 300, 4)
    env.gen("wb.pcap", 400, 5)
    st = env.stats(["--workers", "2", "--port", "net_pcap0,rx_pcap=wa.pcap,rx_pcap=wb.pcap",
                    "--port", "net_ring0", "--forward", "0:1", "--forward", "1:self"],
                   "ringworkers")
    check_common(st, "ringworkers", {"net_ring0"})
    if st["drained_at_stop"] != 700 or st["drop"] != 0:
        fail("ringworkers: drained %d, drop %d" % (st["drained_at_stop"], st["drop"]))
    if [w["rx"] >= k for w, k in zip(st["per_worker"], (300, 400))] != [True, True]:
        fail("ringworkers: per_worker %r" % st["per_worker"])
    print("ok ringworkers: 300 + 400 packets on two ring queues, 700 drained")


def case_ringout(env):
    """net_pcap -> net_ring0 -> net_pcap1 (a capture), and a chain polled in the
    other order (net_ring0, net_ring1 before the net_pcap ports: a burst waits a
    turn in each ring): at the end of the input the run waits for the rings to
    empty, so every packet is written, in order, and none is drained."""
    n = 2000
    src = env.gen("o.pcap", n, 6)
    want = sl.frames(src)
    runs = {
        "ringout": ["--port", "net_pcap0,rx_pcap=o.pcap", "--port", "net_ring0", "--port",
                    "net_pcap1,tx_pcap=out-ringout.pcap", "--forward", "0:1",
                    "--forward", "1:2", "--forward", "2:drop"],
        "ringchain": ["--port", "net_ring0", "--port", "net_ring1", "--port",
                      "net_pcap0,rx_pcap=o.pcap", "--port", "net_pcap1,tx_pcap=out-ringchain.pcap",
                      "--forward", "2:1", "--forward", "1:0", "--forward", "0:3",
                      "--forward", "3:drop"],
    }
    for label, args in runs.items():
        st = env.stats(args, label)
        rings = {"net_ring0", "net_ring1"} if label == "ringchain" else {"net_ring0"}
        ports = check_common(st, label, rings)
        got = sl.frames(env.path("out-%s.pcap" % label))
        if got != want or st["drained_at_stop"] != 0 or \
                any(ports[r]["rx"] != n or ports[r]["tx"] != n for r in rings):
            fail("%s: %d of %d written (in order: %s), drained %d, rings %r" % (
                label, len(got), n, got == want[:len(got)], st["drained_at_stop"],
                [ports[r] for r in sorted(rings)]))
        print("ok %s: %d packets through %s, all written in order, none drained"
              % (label, n, " and ".join(sorted(rings))))


def case_memifpair(env):
    """net_memif copies: a server/client pair in one run (net_pcap -> memif0 ->
    memif1 -> drop) holds no mbuf of ours at close (what is still in its shared
    ring, if anything, are copies); nothing is drained there."""
    if not sl.pmd_available("memif"):
        print("SKIP: DPDK net_memif driver not installed")
        sys.exit(77)
    env.gen("m.pcap", 400, 8)
    sock = env.path("m.sock")
    st = env.stats(["--duration", "1", "--port", "net_pcap0,rx_pcap=m.pcap,infinite_rx=1",
                    "--port", "net_memif0,role=server,socket=" + sock,
                    "--port", "net_memif1,role=client,socket=" + sock,
                    "--forward", "0:1", "--forward", "1:drop", "--forward", "2:drop"], "memif")
    ports = check_common(st, "memifpair", set())
    m0, m1 = ports["net_memif0"], ports["net_memif1"]
    if m1["rx"] == 0 or m0["tx"] < m1["rx"] or st["drained_at_stop"] != 0:
        fail("memifpair: memif0 %r memif1 %r drained %d" % (m0, m1, st["drained_at_stop"]))
    print("ok memifpair: %d sent into memif0, %d received from memif1 (%d copies in flight at "
          "stop), mbufs 0, nothing drained" % (m0["tx"], m1["rx"], m0["tx"] - m1["rx"]))


def case_tap(env):
    """net_tap copies to and from the kernel: sending into a tap interface (its
    RX reads what the kernel sends) holds no mbuf of ours; nothing drained."""
    if not sl.pmd_available("tap") or not os.path.exists("/dev/net/tun") or os.geteuid():
        print("SKIP: net_tap needs its driver, /dev/net/tun and root")
        sys.exit(77)
    env.gen("tap.pcap", 400, 12)
    st = env.stats(["--duration", "1", "--port", "net_pcap0,rx_pcap=tap.pcap,infinite_rx=1",
                    "--port", "net_tap0,iface=sldrain%d" % os.getpid(), "--forward", "0:1",
                    "--forward", "1:drop"], "tap")
    tap = check_common(st, "tap", set())["net_tap0"]
    if tap["tx"] == 0 or st["drained_at_stop"] != 0:
        fail("tap: %r, drained %d" % (tap, st["drained_at_stop"]))
    print("ok tap: %d sent into the kernel's tap interface, %d read from it, mbufs 0, nothing "
          "drained" % (tap["tx"], tap["rx"]))


def case_startfail(env):
    """A port that cannot start after others did (net_pcap holding its whole file
    in mbufs with infinite_rx, a net_ring): one line naming it, exit 1, the
    started ports stopped and closed, no runtime directory left."""
    env.gen("sf.pcap", 300, 9)
    bad = "net_memif0,role=client,socket=" + env.path("no-dir/m.sock")
    for order in ((0, 1, 2), (2, 0, 1)):
        ports = ["net_pcap0,rx_pcap=sf.pcap,infinite_rx=1", "net_ring0", bad]
        args = ["--prog", env.obj, "--no-maps", "--json", env.path("sf.json")]
        for i in order:
            args += ["--port", ports[i]]
        r = env.run(args)
        lines = [l for l in r.stderr.splitlines() if l.strip()]
        if r.returncode != 1 or len(lines) != 1 or \
                not lines[0].startswith("sluice run: port 'net_memif0': start: "):
            fail("startfail %r: exit %d, stderr %r" % (order, r.returncode, lines))
        if os.path.exists(env.path("sf.json")):
            fail("startfail: a JSON report of a run that never ran")
    print("ok startfail: %s" % lines[0])


def case_sigstart(env):
    """SIGINT as soon as the handlers are in: the run stops when start-up ends,
    with its report; what the worker read by then is in the self-looping ring
    (drained) or was refused by it (full); counters exact, mbufs 0."""
    env.gen("ss.pcap", 5000, 10)
    js = env.path("ss.json")
    cmd = [env.sluice, "run", "--quiet", "--prog", env.obj, "--no-maps", "--json", js,
           "--port", "net_pcap0,rx_pcap=ss.pcap", "--port", "net_ring0", "--forward", "0:1",
           "--forward", "1:self"] + EAL
    p = sl.spawn(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=env.tmp)
    t0 = time.monotonic()
    while time.monotonic() - t0 < 10:
        try:
            with open("/proc/%d/status" % p.pid) as f:
                if any(l.startswith("SigCgt:") and int(l.split()[1], 16) & (1 << 1) for l in f):
                    break
        except OSError:
            break
        time.sleep(0.0005)
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=120)
    if p.returncode != 0 or os.path.exists(sl.runtime_dir(p.pid)):
        fail("sigstart: exit %d, stderr %r" % (p.returncode, err))
    with open(js) as f:
        st = json.load(f)["stats"]
    ring = check_common(st, "sigstart", {"net_ring0"})["net_ring0"]
    pc = ports_of(st)["net_pcap0"]["rx"]
    # every packet read stays in the loop until the stop, unless the full ring refused it
    if st["drained_at_stop"] + st["drop"] != pc or st["drop"] != st["tx_drop"] or \
            st["drained_at_stop"] > 1024:
        fail("sigstart: %d read from the capture, %d drained, drop %d" % (
            pc, st["drained_at_stop"], st["drop"]))
    print("ok sigstart: SIGINT during start-up: %d of 5000 packets read, %d drained, %d refused "
          "by the full ring, ring rx %d; mbufs 0" % (pc, st["drained_at_stop"], st["drop"],
                                                     ring["rx"]))


def pcap_whole(path):
    """(whole records, cut) of a pcap file written in host order."""
    with open(path, "rb") as f:
        d = f.read()
    off, n = 24, 0
    while off < len(d):
        if len(d) - off < 16:
            return n, True
        cap = struct.unpack("<I", d[off + 8:off + 12])[0]
        if cap > len(d) - off - 16:
            return n, True
        off, n = off + 16 + cap, n + 1
    return n, False


def case_txpcap(env):
    """net_pcap counts a packet sent whatever its write did: a tx_pcap cut by the
    file size limit (RLIMIT_FSIZE) is found at stop, said in one line, exit 1;
    /dev/null (not a regular file) is not read back."""
    n, limit = 20000, 1000000
    env.gen("t.pcap", n, 11)
    args = ["--prog", env.obj, "--no-maps", "--json", env.path("t.json"),
            "--port", "net_pcap0,rx_pcap=t.pcap,tx_pcap=lim.pcap"] + EAL
    p = sl.spawn([env.sluice, "run", "--quiet"] + args, stdout=subprocess.PIPE,
                 stderr=subprocess.PIPE, text=True, cwd=env.tmp,
                 preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit)))
    out, err = p.communicate(timeout=120)
    whole, cut = pcap_whole(env.path("lim.pcap"))
    want = "sluice run: port 'net_pcap0': its tx_pcap holds %d whole records of the %d " \
           "packets it took%s (a write failed: disk full, or the file size limit?)" % (
               whole, n, ", the last one cut short" if cut else "")
    ours = [l for l in err.splitlines() if l.startswith("sluice")]  # EAL says its memfd is small
    if p.returncode != 1 or ours != [want] or not 0 < whole < n:
        fail("txpcap: exit %d, stderr %r, want %r" % (p.returncode, ours, want))
    with open(env.path("t.json")) as f:
        st = json.load(f)["stats"]
    if st["tx"] != n or st["mbufs_in_use_at_exit"] != 0:
        fail("txpcap: %r" % st)
    r = env.run(["--prog", env.obj, "--no-maps", "--port", "net_pcap0,rx_pcap=t.pcap,"
                 "tx_pcap=/dev/null"])
    if r.returncode != 0 or r.stderr.strip():
        fail("txpcap /dev/null: exit %d %r" % (r.returncode, r.stderr))
    print("ok txpcap: %s; /dev/null not read back" % want)


def case_leak(env):
    """A driver that keeps mbufs past close (hold_mbuf.so in front of
    rte_eth_dev_close) is reported: one line, exit 1, the JSON's count; the
    drain does not hide it."""
    env.gen("l.pcap", 500, 7)
    for hold, ring in ((1, False), (3, True)):
        label = "leak%d%s" % (hold, "-ring" if ring else "")
        js = env.path(label + ".json")
        args = ["--prog", env.obj, "--json", js, "--no-maps", "--port", "net_pcap0,rx_pcap=l.pcap"]
        if ring:
            args += ["--port", "net_ring0", "--forward", "0:1", "--forward", "1:self"]
        e = dict(os.environ, LD_PRELOAD=env.hold, SL_HOLD_MBUFS=str(hold))
        r = env.run(args, env=e)
        lines = [l for l in r.stderr.splitlines() if l.strip()]
        if r.returncode != 1 or len(lines) != 1 or \
                not lines[0].startswith("sluice run: %d mbufs of " % hold) or \
                not lines[0].endswith(" not back in the pool at exit"):
            fail("%s: exit %d, stderr %r" % (label, r.returncode, lines))
        with open(js) as f:
            st = json.load(f)["stats"]
        if st["mbufs_in_use_at_exit"] != hold or st["drained_at_stop"] != (500 if ring else 0):
            fail("%s: %r" % (label, st))
        print("ok %s: %s" % (label, lines[0]))
    r = env.run(["--prog", env.obj, "--no-maps", "--port", "net_pcap0,rx_pcap=l.pcap"],
                env=dict(os.environ, LD_PRELOAD=env.hold, SL_HOLD_MBUFS="0"))
    if r.returncode != 0 or r.stderr.strip():
        fail("leak: the shim holding nothing: exit %d %r" % (r.returncode, r.stderr))
    print("ok leak: the shim holding none changes nothing")


CASES = {f.__name__[5:]: f for f in (case_ringself, case_ringfull, case_ringpair,
                                      case_ringworkers, case_ringout, case_memifpair, case_tap,
                                      case_startfail, case_sigstart, case_txpcap, case_leak)}


def main():
    if len(sys.argv) != 6 or sys.argv[5] not in CASES:
        print(__doc__)
        return 2
    if not sl.pmd_available("pcap") or not sl.pmd_available("ring"):
        print("SKIP: DPDK net_pcap or net_ring driver not installed")
        return 77
    with sl.tmpdir("sluice-drain-") as tmp:
        CASES[sys.argv[5]](Env(sys.argv, tmp))
    return 0


if __name__ == "__main__":
    sys.exit(main())
