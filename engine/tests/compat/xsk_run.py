#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""`sluice run` with real-world redirect maps (issue 13): an XSKMAP entry
names the port that takes the packets (the AF_XDP counterpart), preloaded
from a file; an empty entry falls back to the flags' verdict. A CPUMAP
entry names a worker that takes the packet over (engine/cpumap.c): two
workers on one net_pcap port of two RX and two TX queues (worker w reads
rx_pcap w and writes tx_pcap w), the CPU-steering program spreads the
packets by a hash of the addresses; every packet must leave through the
TX queue of the worker its hash picked, the per-worker hand-over counters
exact; without entry 1, packets for CPU 1 take the XDP_PASS fallback on
the worker that received them. CPUMAP entry programs (xdp_cpu_entry,
section xdp/cpumap, named in the preload file or given by id) run on the
target worker: its verdicts (drop, pass, redirect, XDP_TX aborted) decide
which packets leave, counted exactly per worker; a program that is not an
entry program, or an unknown id, is refused in one line. `sluice replay`
of the same packets with the same maps and 2 workers (-c) gives the same
packets out, the same drops and the same counters.
  xsk_run.py SLUICE XSK.bpf.o CPUMAP.bpf.o
Expected counts come from the test's own frames and its own copy of the
program's hash."""
import json
import os
import struct
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "../../../tests/common"))
from sltest import EAL, check, write_pcap  # noqa: E402
import sltest as sl  # noqa: E402

sluice, xsk, cpumap = sys.argv[1:4]


def frame(i):
    eth = bytes.fromhex("020000000002" "020000000001" "0800")
    ip = bytes([0x45, 0, 0, 46, 0, i & 0xff, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2])
    return eth + ip + struct.pack(">HHHH", 1000 + i, 53, 26, 0) + bytes(18)


def frame_src(i):
    eth = bytes.fromhex("020000000002" "020000000001" "0800")
    ip = bytes([0x45, 0, 0, 46, 0, i & 0xff, 0, 0, 64, 17, 0, 0, 10, 1, i >> 8, i & 0xff,
                10, 0, 0, 2])
    return eth + ip + struct.pack(">HHHH", 1000 + i, 53, 26, 0) + bytes(18)


def steer(fr, count):
    """cpumap.bpf.c's spread(): u32 loads of the addresses as x86 reads them."""
    saddr, daddr = struct.unpack("<II", fr[26:34])
    h = saddr ^ daddr ^ fr[23]
    h ^= h >> 16
    return ((h * 0x9e3779b1) & 0xffffffff) % count


def cpu_run(t):
    ins = [[frame_src(i) for i in range(0, 300, 2)], [frame_src(i) for i in range(1, 200, 2)]]
    paths = [os.path.join(t, "c%d.pcap" % q) for q in range(2)]
    outs = [os.path.join(t, "co%d.pcap" % q) for q in range(2)]
    for p, fr in zip(paths, ins):
        write_pcap(p, fr)
    port = "net_pcap0,rx_pcap=%s,rx_pcap=%s,tx_pcap=%s,tx_pcap=%s" % tuple(paths + outs)
    js = os.path.join(t, "cpu.json")
    prog = os.path.join(t, "cpuprog.txt")
    for val, why in (("xdp_cpu_steer", "Invalid argument"), ("99", "Bad file descriptor")):
        with open(prog, "w") as f:   # not an entry program / no such program: refused
            f.write("0 {qsize: 64, bpf_prog: {fd: %s}}\n" % val)
        r = subprocess.run([sluice, "run", "--check", "--prog", cpumap, "--port", port,
                            "--map", "cpu_map=" + prog], capture_output=True, text=True,
                           timeout=60)
        check(r.returncode == 1 and why in r.stderr and r.stderr.count("\n") == 1,
              "CPUMAP entry program %s refused, one line" % val, r.stderr.strip())
    entry_run(t, ins, port, outs, js)
    for entries, qsize in (([0, 1], 256), ([0], 256), ([0, 1], 1)):
        r, pre = run_cpumap(t, port, js, ["%d {qsize: %d}" % (c, qsize) for c in entries])
        what = "CPUMAP entries %r qsize %d, 2 workers" % (entries, qsize)
        check(r.returncode == 0, what + ": run", r.stderr.strip())
        if r.returncode:
            continue
        # where each packet must leave: the worker its hash picked if that
        # entry exists, else (XDP_PASS fallback) the worker that received it
        want = [[], []]
        moved = [[0, 0], [0, 0]]   # [from][to] hand-overs
        for q in range(2):
            for fr in ins[q]:
                c = steer(fr, 2)
                if c in entries:
                    want[c].append(fr)
                    moved[q][c] += 1
                else:
                    want[q].append(fr)
        got = [sl.frames(o) for o in outs]
        with open(js) as f:
            st = json.load(f)["stats"]
        pw = st["per_worker"]
        if qsize == 1:  # how many find a ring full depends on timing: counted, never lost
            full = [w["cpumap_ring_full"] for w in pw]
            check(all(pw[w]["cpumap_enqueued"] + full[w] == sum(moved[w]) and
                      pw[w]["drop"] == full[w] and len(got[w]) == pw[w]["tx"] and
                      set(got[w]) <= set(want[w]) for w in range(2)) and
                  sum(len(g) for g in got) + sum(full) == sum(map(len, ins)) and
                  sum(w["cpumap_received"] for w in pw) == sum(w["cpumap_enqueued"] for w in pw),
                  what + ": every packet sent or counted as ring full (%d)" % sum(full), repr(pw))
            continue
        check(all(sorted(got[w]) == sorted(want[w]) for w in range(2)),
              what + ": each packet leaves by its worker's TX queue",
              "got %d/%d, want %d/%d" % (len(got[0]), len(got[1]), len(want[0]), len(want[1])))
        exp = [{"rx": len(ins[w]), "tx": len(want[w]), "drop": 0, "error": 0,
                "cpumap_enqueued": sum(moved[w]), "cpumap_ring_full": 0,
                "cpumap_received": moved[0][w] + moved[1][w]} for w in range(2)]
        check(all({k: pw[w].get(k) for k in exp[w]} == exp[w] for w in range(2)),
              what + ": per-worker counters", "got %r, want %r" % (pw, exp))
        check(st["rx"] == st["tx"] + st["drop"] + st["error"] and
              st["verdicts"].get("redirect") == sum(map(sum, moved)),
              what + ": totals balance", repr(st))


def entry_verdict(fr):
    """xdp_cpu_entry's decision by the low byte of the IPv4 identification."""
    return ("drop", "pass", "redirect", "aborted")[fr[19] % 4]


def run_cpumap(t, port, js, cpu_map):
    """`sluice run` of the CPUMAP program on 2 workers, with these cpu_map preload lines:
    (the completed process, {map name: preload file})."""
    pre = {}
    for name, lines in (("cpus_count", ["0 2"]), ("cpus_available", ["0 0", "1 1"]),
                        ("cpu_map", cpu_map)):
        pre[name] = os.path.join(t, name + ".txt")
        with open(pre[name], "w") as f:
            f.write("\n".join(lines) + "\n")
    return subprocess.run([sluice, "run", "--quiet", "--prog", cpumap, "--workers", "2",
                           "--json", js, "--port", port] +
                          sum([["--map", "%s=%s" % kv] for kv in pre.items()], []) +
                          EAL, capture_output=True, text=True, timeout=60), pre


def entry_run(t, ins, port, outs, js):
    """Entry 0 plain, entry 1 with xdp_cpu_entry (by name, then by its id 2)."""
    for ref in ("xdp_cpu_entry", "2"):
        r, pre = run_cpumap(t, port, js, ["0 {qsize: 256}",
                                          "1 {qsize: 256, bpf_prog: {fd: %s}}" % ref])
        what = "CPUMAP entry program on CPU 1 (%s)" % ref
        check(r.returncode == 0, what + ": run", r.stderr.strip())
        if r.returncode:
            continue
        want, moved = [[], []], [[0, 0], [0, 0]]
        verdicts = {"drop": 0, "pass": 0, "redirect": 0, "aborted": 0}
        for q in range(2):
            for fr in ins[q]:
                c = steer(fr, 2)
                moved[q][c] += 1
                if c == 0:
                    want[0].append(fr)
                    continue
                v = entry_verdict(fr)
                verdicts[v] += 1
                if v in ("pass", "redirect"):   # both leave by port 0's TX queue 1
                    want[1].append(fr)
        got = [sl.frames(o) for o in outs]
        with open(js) as f:
            doc = json.load(f)
        pw = doc["stats"]["per_worker"]
        check(all(sorted(got[w]) == sorted(want[w]) for w in range(2)),
              what + ": what the entry program keeps leaves by worker 1",
              "got %d/%d, want %d/%d" % (len(got[0]), len(got[1]), len(want[0]), len(want[1])))
        prog1 = {k: pw[1]["cpumap_prog"].get(k) for k in verdicts}
        check(prog1 == verdicts and sum(pw[0]["cpumap_prog"].values()) == 0,
              what + ": entry verdicts counted on worker 1 only",
              "got %r / %r, want %r" % (pw[0]["cpumap_prog"], prog1, verdicts))
        exp = [{"rx": len(ins[w]), "tx": len(want[w]),
                "drop": verdicts["drop"] if w else 0, "error": verdicts["aborted"] if w else 0,
                "cpumap_received": moved[0][w] + moved[1][w]} for w in range(2)]
        check(all({k: pw[w].get(k) for k in exp[w]} == exp[w] for w in range(2)),
              what + ": per-worker counters", "got %r, want %r" % (pw, exp))
        seen = {e["key"]: e["value"] for e in doc["maps"]["entry_seen"]["entries"]}
        check(seen.get(1) == moved[0][1] + moved[1][1] and not seen.get(0),
              what + ": the program ran on worker 1 for every packet handed to it", repr(seen))
        replay_check(t, ins, pre, want, verdicts, got)


def replay_check(t, ins, pre, want, verdicts, live):
    """sluice replay of both inputs with the same maps and 2 workers (-c): the
    packets that leave, the drops and the counters are what the live run gave."""
    cfg, inp = os.path.join(t, "replay.yaml"), os.path.join(t, "rin.pcap")
    out, drops, js = (os.path.join(t, n) for n in ("rout.pcap", "rdrops.pcap", "r.json"))
    with open(cfg, "w") as f:
        f.write("program: {object: %s}\nworkers: 2\n" % os.path.abspath(cpumap))
    write_pcap(inp, ins[0] + ins[1])
    r = subprocess.run([sluice, "replay", "-c", cfg, "-r", inp, "-w", out, "--drops", drops,
                        "--json", js, "--quiet"] +
                       sum([["--map", "%s=%s" % kv] for kv in pre.items()], []),
                       capture_output=True, text=True, timeout=60)
    check(r.returncode == 0, "replay with the CPUMAP entry program: run", r.stderr.strip())
    if r.returncode:
        return
    with open(js) as f:
        w = json.load(f)["stats"]["per_worker"][0]
    n = len(ins[0]) + len(ins[1])
    check(sorted(sl.frames(out)) == sorted(want[0] + want[1]) == sorted(live[0] + live[1]),
          "replay: the packets that leave are the live run's", "%d" % len(sl.frames(out)))
    check(len(sl.frames(drops)) == verdicts["drop"] + verdicts["aborted"] and
          {k: w["cpumap_prog"].get(k) for k in verdicts} == verdicts and
          w["cpumap_enqueued"] == w["cpumap_received"] == n and
          w["drop"] == verdicts["drop"] and w["error"] == verdicts["aborted"],
          "replay: hand-overs, entry verdicts, drops and errors as live", repr(w))


with sl.tmpdir() as t:
    a, b = os.path.join(t, "a.pcap"), os.path.join(t, "b.pcap")
    oa, ob = os.path.join(t, "oa.pcap"), os.path.join(t, "ob.pcap")
    fa, fb = [frame(i) for i in range(40)], [frame(100 + i) for i in range(25)]
    write_pcap(a, fa)
    write_pcap(b, fb)
    pre = os.path.join(t, "xsks.txt")
    with open(pre, "w") as f:
        f.write("# queue 0 -> port 1\n0 1\n")
    js = os.path.join(t, "out.json")
    ports = ["--port", "net_pcap0,rx_pcap=%s,tx_pcap=%s" % (a, oa),
             "--port", "net_pcap1,rx_pcap=%s,tx_pcap=%s" % (b, ob)]
    r = subprocess.run([sluice, "run", "--quiet", "--prog", xsk, "--section", "xdp_sock_fallback",
                        "--map", "xsks_map=" + pre, "--json", js] + ports + EAL,
                       capture_output=True, text=True, timeout=60)
    check(r.returncode == 0, "run with a preloaded XSKMAP", r.stderr.strip())
    if r.returncode == 0:
        out_a, out_b = sl.frames(oa), sl.frames(ob)
        with open(js) as f:
            st = json.load(f)["stats"]
        check(len(out_a) == 0 and sorted(out_b) == sorted(fa + fb),
              "XSKMAP entry 0 -> port 1: every packet leaves port 1",
              "%d on port 0, %d on port 1" % (len(out_a), len(out_b)))
        check(st["verdicts"].get("redirect") == len(fa) + len(fb),
              "verdicts: all redirect", repr(st.get("verdicts")))
    # no entry: bpf_redirect_map(..., XDP_PASS) passes: 0 <-> 1 forwarding
    r = subprocess.run([sluice, "run", "--quiet", "--prog", xsk, "--section", "xdp_sock_fallback",
                        "--json", js] + ports + EAL, capture_output=True, text=True, timeout=60)
    check(r.returncode == 0 and sorted(sl.frames(ob)) == sorted(fa) and
          sorted(sl.frames(oa)) == sorted(fb), "empty XSKMAP: the XDP_PASS fallback",
          r.stderr.strip())
    cpu_run(t)

print("xsk run: %d failures" % sl.failures())
sys.exit(sl.exit_code())
