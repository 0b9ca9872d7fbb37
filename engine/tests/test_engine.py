#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""End-to-end tests of `sluice run` through DPDK's net_pcap.

usage: test_engine.py SLUICE PCAPGEN PROTO_COUNT_OBJ VERDICTS_OBJ CASE

progs/unsafe.bpf.o, maps_mix.bpf.o, sock_trim.bpf.o and lazy_ctx.bpf.o must sit beside
VERDICTS_OBJ. The expected counters come from this script's own pcap parser (standard
library only), never from sluice: for every frame it finds the IP protocol
the way proto_count.bpf.c is documented to (IPv4 protocol, IPv6 next header,
behind at most one 802.1Q tag, only when the whole fixed IP header was
captured). Exit 0 pass, 1 fail, 77 skip (net_pcap missing).
"""
import json
import os
import re
import signal
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../tests/common"))
from sltest import EAL, fail  # noqa: E402
import sltest as sl  # noqa: E402


def ip_proto(pkt):
    """Protocol slot proto_count must count pkt in, or None."""
    if len(pkt) < 14:
        return None
    ethertype, off = struct.unpack(">H", pkt[12:14])[0], 14
    if ethertype == 0x8100:
        if len(pkt) < 18:
            return None
        ethertype, off = struct.unpack(">H", pkt[16:18])[0], 18
    if ethertype == 0x0800 and len(pkt) >= off + 20:
        return pkt[off + 9]
    if ethertype == 0x86DD and len(pkt) >= off + 40:
        return pkt[off + 6]
    return None


def truth(pkts):
    counts = {}
    for data, _ in pkts:
        p = ip_proto(data)
        if p is not None:
            counts[p] = counts.get(p, 0) + 1
    return counts


class Env:
    def __init__(self, argv, tmp):
        self.sluice, self.pcapgen, self.obj, self.verdicts = argv[1], argv[2], argv[3], argv[4]
        self.tmp = tmp

    def gen(self, name, count, seed):
        return sl.gen_pcap(self.pcapgen, os.path.join(self.tmp, name), count, seed)

    def run(self, args, timeout=60):
        cmd = [self.sluice, "run", "--quiet"] + args + EAL
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)

    def run_ok(self, args, timeout=60):
        r = self.run(args, timeout)
        if r.returncode != 0:
            fail("sluice %s: exit %d: %s" % (" ".join(args), r.returncode, r.stderr.strip()))
        return r


def map_entries(out, name="proto_count"):
    m = out["maps"].get(name)
    if m is None:
        fail("no map %s in JSON" % name)
    if m["type"] != "percpu_array":
        fail("map type %s" % m["type"])
    got = {}
    for e in m["entries"]:
        if e["value"] == 0:
            fail("zero entry listed: %r" % e)
        if sum(e["per_core"]) != e["value"]:
            fail("per_core does not sum to value: %r" % e)
        got[e["key"]] = e["value"]
    return got


def check_balance(st, label):
    if st["rx"] != st["tx"] + st["drop"] + st["error"]:
        fail("%s: rx %d != tx %d + drop %d + error %d" %
             (label, st["rx"], st["tx"], st["drop"], st["error"]))
    if sum(w["rx"] for w in st["per_worker"]) != st["rx"]:
        fail("%s: per-worker rx does not sum to rx" % label)
    if sum(st["verdicts"].values()) != st["rx"]:
        fail("%s: verdicts %r do not sum to rx %d" % (label, st["verdicts"], st["rx"]))


def check_proto_run(env, count, seed, exec_opt):
    label = "n=%d seed=%d %s" % (count, seed, exec_opt or "default")
    src = env.gen("in-%d-%d.pcap" % (count, seed), count, seed)
    dst = os.path.join(env.tmp, "out-%d-%d%s.pcap" % (count, seed, exec_opt))
    js = os.path.join(env.tmp, "out-%d-%d%s.json" % (count, seed, exec_opt))
    port = "net_pcap0,rx_pcap=%s,tx_pcap=%s" % (src, dst)
    args = ["--prog", env.obj, "--port", port, "--json", js] + ([exec_opt] if exec_opt else [])
    env.run_ok(args)
    pkts = sl.packets(src)
    with open(js) as f:
        out = json.load(f)
    st = out["stats"]
    check_balance(st, label)
    if st["rx"] != len(pkts):
        fail("%s: rx %d, file has %d packets" % (label, st["rx"], len(pkts)))
    if st["tx"] != len(pkts) or st["drop"] or st["error"]:
        fail("%s: XDP_PASS everywhere expected, got %r" % (label, st))
    if st["per_port"][0]["rx"] != len(pkts) or st["per_port"][0]["tx"] != len(pkts):
        fail("%s: per_port %r" % (label, st["per_port"]))
    want, got = truth(pkts), map_entries(out)
    if want != got:
        fail("%s: counters differ: want %r got %r" % (label, want, got))
    sent = sl.frames(dst)
    if sent != [d for d, _ in pkts]:
        fail("%s: output pcap differs from input (%d vs %d packets)" % (label, len(sent), len(pkts)))
    print("ok %s: %d packets, %d protocols" % (label, len(pkts), len(want)))


def case_proto(env):
    for count, seed in ((1, 1), (100, 2), (2000, 3), (5000, 4), (777, 5)):
        check_proto_run(env, count, seed, "")
    check_proto_run(env, 1500, 6, "--interp")


def case_twoports(env):
    a, b = env.gen("a.pcap", 1200, 11), env.gen("b.pcap", 700, 12)
    oa, ob = os.path.join(env.tmp, "oa.pcap"), os.path.join(env.tmp, "ob.pcap")
    js = os.path.join(env.tmp, "two.json")
    env.run_ok(["--prog", env.obj, "--json", js,
                "--port", "net_pcap0,rx_pcap=%s,tx_pcap=%s" % (a, oa),
                "--port", "net_pcap1,rx_pcap=%s,tx_pcap=%s" % (b, ob)])
    pa, pb = sl.packets(a), sl.packets(b)
    with open(js) as f:
        out = json.load(f)
    st = out["stats"]
    check_balance(st, "two ports")
    pp = st["per_port"]
    if [p["rx"] for p in pp] != [len(pa), len(pb)] or [p["tx"] for p in pp] != [len(pb), len(pa)]:
        fail("two ports: per_port %r, want rx %d/%d and tx swapped" % (pp, len(pa), len(pb)))
    want = truth(pa + pb)
    if map_entries(out) != want:
        fail("two ports: counters differ: want %r got %r" % (want, map_entries(out)))
    # XDP_PASS forwards 0 -> 1 and 1 -> 0, in order
    if sl.frames(ob) != [d for d, _ in pa]:
        fail("two ports: port 1 did not send port 0's packets in order")
    if sl.frames(oa) != [d for d, _ in pb]:
        fail("two ports: port 0 did not send port 1's packets in order")
    print("ok two ports: %d + %d packets forwarded across" % (len(pa), len(pb)))


def case_infinite(env):
    """infinite_rx replays the file: --duration, then SIGTERM, both stop cleanly."""
    src = env.gen("loop.pcap", 300, 21)
    pkts = sl.packets(src)
    per_file = truth(pkts)
    for how in ("duration", "sigterm"):
        js = os.path.join(env.tmp, "loop-%s.json" % how)
        args = ["--prog", env.obj, "--json", js,
                "--port", "net_pcap0,rx_pcap=%s,infinite_rx=1" % src, "--port", "net_null0,no-rx=1"]
        if how == "duration":
            env.run_ok(args + ["--duration", "1.5"])
        else:
            proc = sl.spawn([env.sluice, "run", "--quiet"] + args + EAL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            time.sleep(2)
            proc.send_signal(signal.SIGTERM)
            _, err = proc.communicate(timeout=30)
            if proc.returncode != 0:
                fail("SIGTERM: exit %d: %s" % (proc.returncode, err.strip()))
        with open(js) as f:
            out = json.load(f)
        st = out["stats"]
        check_balance(st, how)
        rx = st["per_port"][0]["rx"]
        if rx < len(pkts):
            fail("%s: only %d packets in the run" % (how, rx))
        # port 0 passes to port 1 (net_null), which receives nothing
        if st["per_port"][1]["tx"] != st["tx"] or st["per_port"][1]["rx"] != 0:
            fail("%s: per_port %r" % (how, st["per_port"]))
        loops, rest = divmod(rx, len(pkts))
        got = map_entries(out)
        for p, c in per_file.items():
            lo, hi = loops * c, (loops + 1) * c if rest else loops * c
            if not lo <= got.get(p, 0) <= hi:
                fail("%s: protocol %d counted %d, want %d..%d" % (how, p, got.get(p, 0), lo, hi))
        exact = {p: loops * c for p, c in per_file.items()}
        exact_prefix = truth(pkts[:rest])
        for p in exact_prefix:
            exact[p] = exact.get(p, 0) + exact_prefix[p]
        if got != exact:
            fail("%s: counters after %d packets differ: want %r got %r" % (how, rx, exact, got))
        print("ok %s: %d packets (%d replays of the file), counters exact" % (how, rx, loops))


def verdict_truth(pkts, pass_port, redirect_ok):
    """What progs/verdicts.bpf.c does to port 0's frames: counters and the
    frames each port must send, in order."""
    want = {"tx": 0, "drop": 0, "error": 0}
    verdicts = dict.fromkeys(("aborted", "drop", "pass", "tx", "redirect",
                              "redirect_failed", "trim"), 0)
    out = {0: [], pass_port: []}
    for data, _ in pkts:
        if len(data) < 12:
            out[pass_port].append(data)
            want["tx"] += 1
            verdicts["pass"] += 1
            continue
        sel, flag, big = data[11] % 6, data[10], len(data) >= 64
        if sel in (0, 5):
            want["error"] += 1
            verdicts["aborted"] += 1  # 7 is no verdict: aborted, as the kernel
            continue
        if sel == 4 and not (flag & 2 and redirect_ok):
            want["error"] += 1
            verdicts["redirect_failed"] += 1
            continue
        if sel == 1:
            want["drop"] += 1
            verdicts["drop"] += 1
            continue
        if sel == 2:
            out[pass_port].append(data[4:] if flag & 1 and big else data)
            verdicts["pass"] += 1
        elif sel == 3:
            out[0].append(data[:-10] if flag & 4 and big else data)
            verdicts["tx"] += 1
        else:
            out[pass_port].append(data)
            verdicts["redirect"] += 1
        want["tx"] += 1
    return want, verdicts, out


def check_outcome(label, st, n, want, verdicts, out, paths):
    """A two-port run's stats and outputs against its truth: rx n, the counters
    of want, the verdict counts, and port i's capture paths[i] frame for frame
    (bytes and order) against out[i]."""
    got = {k: st[k] for k in want}
    if st["rx"] != n or got != want:
        fail("%s: rx %d %r, want rx %d %r" % (label, st["rx"], got, n, want))
    if st["verdicts"] != verdicts:
        fail("%s: verdict counts %r, want %r" % (label, st["verdicts"], verdicts))
    for port, path in enumerate(paths):
        sent = sl.frames(path)
        if sent != out[port]:
            fail("%s: port %d sent %d frames, want %d (or bytes or order differ)" %
                 (label, port, len(sent), len(out[port])))


def run_two_ports(env, tag, src, args):
    """sluice run ARGS with net_pcap0 reading SRC and net_pcap1, both capturing
    to files named after TAG: returns (the JSON stats, (port 0's, port 1's capture))."""
    oa = os.path.join(env.tmp, "%s-a.pcap" % tag)
    ob = os.path.join(env.tmp, "%s-b.pcap" % tag)
    js = os.path.join(env.tmp, "%s.json" % tag)
    env.run_ok(args + ["--json", js,
                       "--port", "net_pcap0,rx_pcap=%s,tx_pcap=%s" % (src, oa),
                       "--port", "net_pcap1,tx_pcap=%s" % ob])
    with open(js) as f:
        return json.load(f)["stats"], (oa, ob)


def case_verdicts(env):
    """Every verdict, adjust_head/adjust_tail, redirect; interpreter and JIT."""
    src = env.gen("v.pcap", 3000, 31)
    pkts = sl.packets(src)
    for exec_opt in ("--interp", "--jit"):
        st, (oa, ob) = run_two_ports(env, "v" + exec_opt, src, ["--prog", env.verdicts, exec_opt])
        check_balance(st, "verdicts")
        ids = [p["port"] for p in st["per_port"]]
        want, verdicts, out = verdict_truth(pkts, 1, 1 in ids)
        if 1 not in ids or ids.index(1) != 1:
            fail("verdicts: port ids %r, want [0, 1]" % ids)
        check_outcome("verdicts " + exec_opt, st, len(pkts), want, verdicts, out, (oa, ob))
        for port in (0, 1):
            if st["per_port"][port]["tx"] != len(out[port]):
                fail("verdicts %s: per_port %r" % (exec_opt, st["per_port"]))
        print("ok verdicts %s: %r" % (exec_opt, want))


def decided_truth(pkts, decide, pass_port, redirect_ok):
    """Counters and per-port output frames of a program that never changes a
    frame: decide(i, frame) names the verdict of frame i ("redirect" to port 1)."""
    verdicts = dict.fromkeys(("aborted", "drop", "pass", "tx", "redirect",
                              "redirect_failed", "trim"), 0)
    want = {"tx": 0, "drop": 0, "error": 0}
    out = {0: [], pass_port: []}
    for i, (data, _) in enumerate(pkts):
        v = decide(i, data)
        if v == "redirect" and not redirect_ok:
            v = "redirect_failed"
        verdicts[v] += 1
        if v in ("aborted", "redirect_failed"):
            want["error"] += 1
        elif v == "drop":
            want["drop"] += 1
        else:
            out[0 if v == "tx" else pass_port].append(data)
            want["tx"] += 1
    return want, verdicts, out


def lazy_bounds_decide(i, data):
    """progs/lazy_ctx.bpf.c, lazy_bounds."""
    if len(data) < 12:
        return "pass"
    sel = data[11] % 8
    if sel == 4:
        return "redirect" if data[10] & 2 else "redirect_failed"
    return {0: "aborted", 1: "drop", 3: "tx", 5: "aborted"}.get(sel, "pass")


def lazy_const_decide(i, data):
    """progs/lazy_ctx.bpf.c, lazy_const: by the frame's index only."""
    if (i // 64) & 1:
        return "pass"
    return {4: "drop", 5: "tx", 6: "redirect", 7: "aborted"}.get(i % 8, "pass")


def case_lazy(env):
    """XDP programs that see only part of their context (data/data_end, or no packet
    pointer at all): every verdict, in mixed bursts and whole bursts of passes,
    through the worker's lazy-context loops (JIT) and the general path (interpreter)."""
    obj = os.path.join(os.path.dirname(env.verdicts), "lazy_ctx.bpf.o")
    src = env.gen("lazy.pcap", 3000, 57)
    pkts = sl.packets(src)
    for section, decide in (("xdp/bounds", lazy_bounds_decide), ("xdp/const", lazy_const_decide)):
        want, verdicts, out = decided_truth(pkts, decide, 1, True)
        # these programs take the JIT's burst entry (jit/burst.c): the run says so
        r = subprocess.run([env.sluice, "run", "--prog", obj, "--section", section, "--jit",
                            "--port", "net_pcap0,rx_pcap=%s,tx_pcap=%s" % (src, os.devnull),
                            "--port", "net_pcap1,tx_pcap=%s" % os.devnull] + EAL,
                           capture_output=True, text=True, timeout=60)
        if r.returncode != 0 or "JIT burst entry" not in r.stdout:
            fail("lazy %s: no JIT burst entry announced (exit %d): %s" %
                 (section, r.returncode, (r.stdout + r.stderr).strip()[-500:]))
        for exec_opt in ("--jit", "--interp"):
            label = "lazy %s %s" % (section, exec_opt)
            tag = section.replace("/", "-") + exec_opt
            st, paths = run_two_ports(env, "l" + tag, src,
                                      ["--prog", obj, "--section", section, exec_opt])
            check_balance(st, label)
            check_outcome(label, st, len(pkts), want, verdicts, out, paths)
            print("ok %s: %r" % (label, verdicts))


def case_maps(env):
    """Hash with a 6-byte struct key (typed through BTF), .bss global, ringbuf (not listable)."""
    src = env.gen("m.pcap", 2500, 41)
    pkts = sl.packets(src)
    obj = os.path.join(os.path.dirname(env.verdicts), "maps_mix.bpf.o")
    js = os.path.join(env.tmp, "m.json")
    env.run_ok(["--prog", obj, "--json", js, "--port", "net_pcap0,rx_pcap=%s" % src])
    with open(js) as f:
        out = json.load(f)
    st, maps = out["stats"], out["maps"]
    check_balance(st, "maps")
    if st["rx"] != len(pkts) or st["drop"] != len(pkts):
        fail("maps: stats %r" % st)
    want = {}
    for d, _ in pkts:
        if len(d) >= 12:
            want[d[6:12].hex()] = want.get(d[6:12].hex(), 0) + 1
    h = maps["by_src"]
    # the key is struct mac {__u8 b[6]}, typed through BTF: {"b": "02:00:..."}
    got = {e["key"]["b"].replace(":", ""): e["value"] for e in h["entries"]}
    if h["type"] != "hash" or got != want or len(h["entries"]) != len(want):
        fail("maps: by_src has %d entries, want %d (or values differ)" % (len(got), len(want)))
    bss = maps[".bss"]
    if bss["type"] != "array" or bss["entries"] != [{"key": 0, "value": len(pkts)}]:
        fail("maps: .bss %r, want frames = %d" % (bss, len(pkts)))
    ev = maps["events"]
    if ev["type"] != "ringbuf" or ev["entries"] or "error" not in ev:
        fail("maps: events %r" % ev)
    print("ok maps: %d source MACs, %d frames" % (len(want), len(pkts)))


def case_workers(env):
    """Two workers on two net_null ports: each worker polls its own queue of each."""
    js = os.path.join(env.tmp, "w.json")
    env.run_ok(["--prog", env.obj, "--json", js, "--workers", "2", "--duration", "1",
                "--port", "net_null0", "--port", "net_null1"])
    with open(js) as f:
        out = json.load(f)
    st = out["stats"]
    check_balance(st, "workers")
    pw, pp = st["per_worker"], st["per_port"]
    if len(pw) != 2 or any(w["rx"] == 0 for w in pw) or len({w["lcore"] for w in pw}) != 2:
        fail("workers: per_worker %r" % pw)
    if sum(p["rx"] for p in pp) != st["rx"] or sum(p["tx"] for p in pp) != st["tx"]:
        fail("workers: per_port %r does not sum to %r" % (pp, st))
    # proto_count passes everything: 0 -> 1 and 1 -> 0
    if st["tx"] + st["drop"] != st["rx"] or st["error"]:
        fail("workers: %r" % st)
    for e in out["maps"]["proto_count"]["entries"]:
        if len(e["per_core"]) != 2 or sum(e["per_core"]) != e["value"]:
            fail("workers: per_core of %r" % e)
    print("ok workers: %d packets over 2 workers (%d / %d)" % (st["rx"], pw[0]["rx"], pw[1]["rx"]))


def sock_len(data):
    """The length progs/sock_trim.bpf.c returns for a frame (skb->len = len(data))."""
    n = len(data)
    if n >= 34 and data[12:14] == b"\x08\x00":
        return {6: 64, 17: 0}.get(data[23], 0xFFFFFFFF)
    if n >= 6 and data[:6] == b"\xff" * 6:
        return 0
    return 1 if n < 12 else n


def case_socket(env):
    """A socket filter: drop (0), cut (N < len), keep; LD_ABS, skb_load_bytes, pkt_type."""
    src = env.gen("s.pcap", 3000, 51)
    pkts = sl.packets(src)
    obj = os.path.join(os.path.dirname(env.verdicts), "sock_trim.bpf.o")
    want_out, drop, cut = [], 0, 0
    for d, _ in pkts:
        n = sock_len(d)
        if n == 0:
            drop += 1
            continue
        cut += n < len(d)
        want_out.append(d[:n])
    if not drop or not cut or cut == len(want_out):
        fail("socket: capture does not exercise every outcome")
    for exec_opt in ("--interp", "--jit"):
        dst = os.path.join(env.tmp, "so%s.pcap" % exec_opt)
        js = os.path.join(env.tmp, "s%s.json" % exec_opt)
        env.run_ok(["--prog", obj, "--json", js, exec_opt,
                    "--port", "net_pcap0,rx_pcap=%s,tx_pcap=%s" % (src, dst)])
        with open(js) as f:
            st = json.load(f)["stats"]
        check_balance(st, "socket")
        if (st["rx"], st["tx"], st["drop"], st["error"]) != (len(pkts), len(want_out), drop, 0):
            fail("socket %s: %r, want tx %d drop %d" % (exec_opt, st, len(want_out), drop))
        if sl.frames(dst) != want_out:
            fail("socket %s: output frames differ" % exec_opt)
        print("ok socket %s: %d kept (%d cut), %d dropped" % (exec_opt, len(want_out), cut, drop))


def expect_error(env, label, args, needle, code=1):
    """One line naming needle; exit 1 for a run error, 2 for a usage error."""
    r = env.run(args)
    lines = [l for l in r.stderr.splitlines() if l.strip()]
    if r.returncode != code:
        fail("%s: exit %d, want %d (stderr %r)" % (label, r.returncode, code, r.stderr))
    if len(lines) != 1 or needle not in lines[0]:
        fail("%s: want one line containing %r, got %r" % (label, needle, lines))
    print("ok %s: %s" % (label, lines[0]))


def case_errors(env):
    good = env.gen("e.pcap", 10, 1)
    port = "net_pcap0,rx_pcap=%s" % good
    bad_obj = os.path.join(env.tmp, "bad.o")
    with open(bad_obj, "wb") as f:
        f.write(b"\x7fELF this is not an object file" + bytes(64))
    not_pcap = os.path.join(env.tmp, "not.pcap")
    with open(not_pcap, "w") as f:
        f.write("hello\n")
    missing = os.path.join(env.tmp, "missing.pcap")
    expect_error(env, "missing pcap", ["--prog", env.obj, "--port", "net_pcap0,rx_pcap=" + missing],
                 "missing.pcap")
    expect_error(env, "not a pcap", ["--prog", env.obj, "--port", "net_pcap0,rx_pcap=" + not_pcap],
                 "rx_pcap")
    expect_error(env, "bad object", ["--prog", bad_obj, "--port", port], "bad.o")
    expect_error(env, "missing object", ["--prog", bad_obj + ".none", "--port", port], "bad.o.none")
    unsafe = os.path.join(os.path.dirname(env.verdicts), "unsafe.bpf.o")
    expect_error(env, "verifier rejection", ["--prog", unsafe, "--port", port],
                 "rejected by the verifier")
    expect_error(env, "unknown section", ["--prog", env.obj, "--section", "xdp/nope", "--port", port],
                 "xdp/nope")
    expect_error(env, "bad port string", ["--prog", env.obj, "--port", "eth0"], "eth0", code=2)
    expect_error(env, "bad PCI address", ["--prog", env.obj, "--port", "0000:zz:00.0"], "0000:zz", code=2)
    expect_error(env, "port twice", ["--prog", env.obj, "--port", port, "--port", port], "twice", code=2)
    expect_error(env, "unknown vdev driver", ["--prog", env.obj, "--port", "net_nosuchdrv0"], "EAL")
    expect_error(env, "no port", ["--prog", env.obj], "--port", code=2)
    expect_error(env, "bad duration", ["--prog", env.obj, "--port", port, "--duration", "x"],
                 "--duration", code=2)
    expect_error(env, "unwritable tx_pcap",
                 ["--prog", env.obj, "--port", port + ",tx_pcap=/nonexistent-dir/out.pcap"],
                 "/nonexistent-dir/out.pcap")
    expect_error(env, "more workers than queues", ["--prog", env.obj, "--port", port,
                                                   "--workers", "2"], "2 workers need 2")
    expect_error(env, "bad workers", ["--prog", env.obj, "--port", port, "--workers", "0"],
                 "--workers", code=2)
    expect_error(env, "interp and jit", ["--prog", env.obj, "--port", port, "--interp", "--jit"],
                 "--interp", code=2)


def case_prefetch(env):
    """The burst entry prefetches packet data only when a port's driver does not put it in
    the polling core's cache (sl_port_rx_data_hot): net_pcap alone runs without, a net_ring
    port beside it turns it on; either way the counters and the output are exact."""
    src = env.gen("pf.pcap", 3000, 61)
    pkts = sl.packets(src)
    for ring in (False, True):
        label = "prefetch %s" % ("on (net_ring port)" if ring else "off (net_pcap only)")
        dst = os.path.join(env.tmp, "pf-%d.pcap" % ring)
        js = os.path.join(env.tmp, "pf-%d.json" % ring)
        args = ["--prog", env.obj, "--jit", "--json", js,
                "--port", "net_pcap0,rx_pcap=%s,tx_pcap=%s" % (src, dst), "--forward", "0:self"]
        if ring:
            args += ["--port", "net_ring0"]
        r = subprocess.run([env.sluice, "run"] + args + EAL, capture_output=True, text=True,
                           timeout=60)
        if r.returncode != 0 or "JIT burst entry" not in r.stdout:
            fail("%s: exit %d, no burst entry: %s" % (label, r.returncode,
                                                     (r.stdout + r.stderr).strip()[-500:]))
        if ("prefetched" in r.stdout) != ring:
            fail("%s: the run says %r" % (label, r.stdout.strip()[-300:]))
        with open(js) as f:
            out = json.load(f)
        check_balance(out["stats"], label)
        if out["stats"]["per_port"][0]["tx"] != len(pkts):
            fail("%s: per_port %r" % (label, out["stats"]["per_port"]))
        want, got = truth(pkts), map_entries(out)
        if want != got:
            fail("%s: counters differ: want %r got %r" % (label, want, got))
        if sl.frames(dst) != [d for d, _ in pkts]:
            fail("%s: output pcap differs from the input" % label)
        print("ok %s: %d packets, %d protocols" % (label, len(pkts), len(want)))


def redirect_miss_decide(i, data):
    """progs/redirect_miss.bpf.c: slot 6 of the DEVMAP is port 1, slot 5 empty; after a
    hit on 6 and a miss, XDP_REDIRECT goes to port id 6 (the hit's key), which is none."""
    if len(data) < 12:
        return "pass"
    return ("redirect", "redirect_failed", "redirect", "redirect", "drop")[data[11] % 5]


def case_redirect_miss(env):
    """bpf_redirect_map misses after a hit / a bpf_redirect / before a hit, returning
    XDP_REDIRECT (the kernel's "last lookup takes precedence"): interpreter and JIT."""
    obj = os.path.join(os.path.dirname(env.verdicts), "redirect_miss.bpf.o")
    src = env.gen("rm.pcap", 2000, 61)
    pkts = sl.packets(src)
    pre = os.path.join(env.tmp, "rm-ports.txt")
    with open(pre, "w") as f:
        f.write("6 1\n")
    want, verdicts, out = decided_truth(pkts, redirect_miss_decide, 1, True)
    if not verdicts["redirect_failed"] or not verdicts["redirect"] or not verdicts["drop"]:
        fail("redirect_miss: the capture lacks a case: %r" % verdicts)
    for exec_opt in ("--jit", "--interp"):
        label = "redirect_miss " + exec_opt
        st, paths = run_two_ports(env, "rm" + exec_opt, src,
                                  ["--prog", obj, "--map", "ports=" + pre, exec_opt])
        check_balance(st, label)
        check_outcome(label, st, len(pkts), want, verdicts, out, paths)
        print("ok %s: %r" % (label, verdicts))


def case_pool(env):
    """The mbuf pool without hugepages (these tests run the EAL with --no-huge, IOVA as VA):
    packed, not one mbuf per 4 KiB page, so that the headers of a burst of 32 fall in 32
    different sets of a 64-set L1 cache (checked here from the stride the run prints);
    the counters and the output are exact through it."""
    src = env.gen("pool.pcap", 2500, 71)
    pkts = sl.packets(src)
    dst, js = os.path.join(env.tmp, "pool-out.pcap"), os.path.join(env.tmp, "pool.json")
    args = ["--prog", env.obj, "--json", js,
            "--port", "net_pcap0,rx_pcap=%s,tx_pcap=%s" % (src, dst), "--forward", "0:self"]
    r = subprocess.run([env.sluice, "run"] + args + EAL, capture_output=True, text=True,
                       timeout=60)
    m = re.search(r"^sluice: (\d+) mbufs, (\d+) bytes apart( \(packed)?", r.stdout, re.M)
    if r.returncode != 0 or not m:
        fail("pool: exit %d, no pool line: %s" % (r.returncode, (r.stdout + r.stderr)[-500:]))
    stride = int(m.group(2))
    sets = {(k * stride // 64) % 64 for k in range(32)}
    if "--no-huge" in EAL and not m.group(3):
        fail("pool: not packed without hugepages: %s" % m.group(0))
    if stride % 64 or stride >= 4096 or len(sets) != 32:
        fail("pool: %d bytes apart: the headers of 32 mbufs fall in %d L1 sets"
             % (stride, len(sets)))
    with open(js) as f:
        out = json.load(f)
    check_balance(out["stats"], "pool")
    if out["stats"]["per_port"][0]["tx"] != len(pkts) or out["stats"]["mbufs_in_use_at_exit"]:
        fail("pool: stats %r" % out["stats"])
    if truth(pkts) != map_entries(out):
        fail("pool: counters differ: want %r got %r" % (truth(pkts), map_entries(out)))
    if sl.frames(dst) != [d for d, _ in pkts]:
        fail("pool: output pcap differs from the input")
    print("ok pool: %s mbufs %d bytes apart, %d packets" % (m.group(1), stride, len(pkts)))


CASES = {"proto": case_proto, "pool": case_pool, "prefetch": case_prefetch,
         "twoports": case_twoports,
         "infinite": case_infinite, "verdicts": case_verdicts, "maps": case_maps,
         "workers": case_workers, "socket": case_socket, "errors": case_errors,
         "lazy": case_lazy, "redirect_miss": case_redirect_miss}


def main():
    if len(sys.argv) != 6 or sys.argv[5] not in CASES:
        print(__doc__)
        return 2
    if not sl.pmd_available("pcap"):
        print("SKIP: DPDK net_pcap driver not installed")
        return 77
    with sl.tmpdir("sluice-engine-") as tmp:
        CASES[sys.argv[5]](Env(sys.argv, tmp))
    return 0


if __name__ == "__main__":
    sys.exit(main())
