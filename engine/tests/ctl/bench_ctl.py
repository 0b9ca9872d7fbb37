#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""make bench: the control socket's cost to the data path (not a test).

usage: bench_ctl.py SLUICE PCAPGEN MAPS_MIX_OBJ CTL_V1_OBJ CTL_V2_OBJ [CTL_BIG_OBJ]

The engine gets every CPU this script was given: its main lcore (control
thread, DPDK's interrupt and telemetry threads, the metrics thread) on the
first, its one worker on the second (sluice's lcore map). This script, its
dumping client included, is pinned to the CPUs the worker does not use, as
an operator's tools would be: the worker owns its core.

1. One engine (1 worker, net_pcap infinite_rx -> the program drops every
   frame) runs maps_mix.bpf.o, whose HASH by_src gets 10,000 entries
   through `map_update`. Phases of 2 s: no client, then ROUNDS times (one
   client dumping by_src in a loop; the other CPU busy with a process that
   touches nothing of the engine's; no client), the first two in turn in
   the other order every other round (a phase's place in the round is not
   what is measured). Per phase the worker's Mpps (rx deltas read over the
   socket), its thread's share of a CPU (/proc), its Mpps per CPU second,
   the control thread's share of a CPU and the dumps per second; each
   loaded phase's ratio is taken against the mean of the no-client phases
   just before and after it (drift cancels). Over the rounds: the median,
   mean and spread (min, quartiles, max) of each ratio, and per round the
   dumping phase against the busy one (what a dump costs beyond the other
   CPU being busy at all). The dumping client and the busy process are
   child processes (the sampling thread never waits for their GIL).
   Then the control thread's instructions per dumped entry (callgrind,
   counted inside sl_ctl_dump_step over two dumps of the same map, filled
   by a preload file this time), which the machine's load does not change.
2. A second engine runs ctl_count v1; a thread samples the port's received
   packets every ~10 ms through DPDK telemetry (/ethdev/stats,0, answered by
   DPDK's telemetry thread, so sampling goes on while the control thread is
   busy reloading) from 0.3 s before a `prog_reload` of v2 to 0.3 s after it;
   each step's rate is printed with its time relative to the pointer swap
   (the engine's CLOCK_MONOTONIC in the reload result) and its phase.
The machine is shared: compare the ratios, not the absolute numbers.
"""
import glob
import json
import multiprocessing
import os
import shutil
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "../../../tests/common"))
from sltest import EAL  # noqa: E402
import sltest as sl  # noqa: E402


class Client(sl.Client):
    """sltest.Client (no timeout) whose req() returns the result or ends the bench."""

    def __init__(self, path):
        super().__init__(path, None)

    def req(self, obj):
        r = super().req(obj)
        if not r or not r.get("ok"):
            raise SystemExit("request %r: %r" % (obj, r))
        return r["result"]


ALL = sorted(os.sched_getaffinity(0))


def pin_off_worker():
    """This process onto the CPUs sluice's one worker does not use (lcore 1 -> 2nd CPU)."""
    others = [c for c in ALL if c != ALL[1 % len(ALL)]]
    if others:
        os.sched_setaffinity(0, others)
    return others


def worker_tid(pid):
    for t in os.listdir("/proc/%d/task" % pid):
        with open("/proc/%d/task/%s/comm" % (pid, t)) as f:
            if f.read().startswith("rte-worker"):
                return int(t)
    return None


def cpu_s(pid, tid):
    """Seconds the worker thread has run on a CPU (/proc schedstat, nanoseconds)."""
    if tid is None:
        return 0.0
    with open("/proc/%d/task/%d/schedstat" % (pid, tid)) as f:
        return int(f.read().split()[0]) * 1e-9


def start(sluice, prog, pcap, sock, extra=(), wait_s=10, duration=120):
    """The engine (@p sluice: the binary, or a list: a command that runs it), up."""
    cmd = sluice if isinstance(sluice, list) else [sluice]
    p = sl.spawn(cmd + ["run", "--quiet", "--prog", prog, "--port",
                        "net_pcap0,rx_pcap=%s,infinite_rx=1" % pcap, "--port", "net_null0,no-rx=1",
                        "--ctl-socket", sock, "--duration", str(duration)] + list(extra) + EAL,
                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                 preexec_fn=lambda: os.sched_setaffinity(0, ALL))
    for _ in range(int(wait_s / 0.05)):
        if os.path.exists(sock):
            return p
        time.sleep(0.05)
    raise SystemExit("engine did not start: %s" % p.stderr.read())


def stop(p):
    sl.stop(p, timeout=60)


def mac(i):
    """Key i of by_src (struct mac {__u8 b[6]}) in sl_text's byte form: ee:00:00:00:00:01."""
    return ":".join("%02x" % b for b in (0xEE0000000000 + i).to_bytes(6, "big"))


def fill(c, n):
    """n entries in by_src, pipelined 200 at a time (answers read as they come)."""
    for lo in range(0, n, 200):
        reqs = "".join(json.dumps({"cmd": "map_update", "map": "by_src", "key": mac(i),
                                   "value": i}) + "\n" for i in range(lo, min(n, lo + 200)))
        c.s.sendall(reqs.encode())
        for _ in range(lo, min(n, lo + 200)):
            r = c.line()
            if not r.get("ok"):
                raise SystemExit("fill failed: %r" % r)


def dump_loop(sock, seconds, dumps):
    """A client dumping by_src in a loop (a child process: no GIL shared with the sampling)."""
    c = Client(sock)
    end = time.time() + seconds
    while time.time() < end:
        c.req({"cmd": "map_dump", "map": "by_src"})
        dumps.value += 1


def busy_loop(seconds, dumps):
    """The other CPU busy with work that touches nothing of the engine's (an anchor)."""
    end, x = time.time() + seconds, 0
    while time.time() < end:
        for i in range(10000):
            x = (x * 31 + i) & 0xffffffff


def rate(c, seconds, pid, tid):
    """(Mpps, worker CPU share, Mpps per worker CPU second, control thread CPU share) over @p seconds."""
    a, t0, c0, m0 = c.req({"cmd": "stats"})["rx"], time.time(), cpu_s(pid, tid), cpu_s(pid, pid)
    time.sleep(seconds)
    b, t1, c1, m1 = c.req({"cmd": "stats"})["rx"], time.time(), cpu_s(pid, tid), cpu_s(pid, pid)
    return ((b - a) / (t1 - t0) / 1e6, (c1 - c0) / (t1 - t0),
            (b - a) / (c1 - c0) / 1e6 if c1 > c0 else 0.0, (m1 - m0) / (t1 - t0))


def phase(c, p, tid, sock, what, seconds):
    """One phase: what = None (no client), dump_loop or busy_loop in a child process."""
    dumps = multiprocessing.Value("l", 0)
    child = None
    if what:
        args = (sock, seconds + 0.3, dumps) if what is dump_loop else (seconds + 0.3, dumps)
        child = multiprocessing.Process(target=what, args=args)
        child.start()
        time.sleep(0.15)
    r = rate(c, seconds, p.pid, tid)
    if child:
        child.join()
    return r + (dumps.value / (seconds + 0.3),)


def median(xs):
    xs = sorted(xs)
    return (xs[len(xs) // 2] + xs[(len(xs) - 1) // 2]) / 2


def spread(xs):
    """min / lower quartile / upper quartile / max of xs, as text."""
    xs = sorted(xs)

    def q(f):
        return xs[min(len(xs) - 1, int(f * (len(xs) - 1) + 0.5))]
    return "%.3f / %.3f / %.3f / %.3f (min, quartiles, max)" % (xs[0], q(0.25), q(0.75), xs[-1])


ROUNDS = 9  # 5 left the median at the mercy of two disturbed rounds (the anchor's spread was 0.83-1.04)


def bench_dump(sluice, obj, pcap, tmp):
    sock = os.path.join(tmp, "dump.sock")
    p = start(sluice, obj, pcap, sock)
    c = Client(sock)
    fill(c, 10000)
    entries = len(c.req({"cmd": "map_dump", "map": "by_src"})["entries"])
    time.sleep(0.5)
    tid = worker_tid(p.pid)
    print("== control socket: worker Mpps while a client dumps a %d-entry HASH in a loop" % entries)
    print("   phases of 2 s: no client | a client dumping in a loop | the other CPU busy with "
          "a process that touches nothing of the engine's (anchor: what any work there costs); "
          "each ratio against the mean of the no-client phases before and after it")
    print("   (cpu: the worker thread's share of a CPU; /cpu: Mpps per second of worker CPU "
          "time; ctl: the control thread's share of a CPU)")
    none = [phase(c, p, tid, sock, None, 2.0)]
    dump, busy = [], []
    for r in range(ROUNDS):
        if r % 2 == 0:
            dump.append(phase(c, p, tid, sock, dump_loop, 2.0))
            busy.append(phase(c, p, tid, sock, busy_loop, 2.0))
        else:
            busy.append(phase(c, p, tid, sock, busy_loop, 2.0))
            dump.append(phase(c, p, tid, sock, dump_loop, 2.0))
        none.append(phase(c, p, tid, sock, None, 2.0))
    stop(p)
    rd, rdc, rb, rbc = [], [], [], []
    for i in range(ROUNDS):
        n0, n1, d, b = none[i], none[i + 1], dump[i], busy[i]
        nw, nc = (n0[0] + n1[0]) / 2, (n0[2] + n1[2]) / 2
        rd.append(d[0] / nw if nw else 0)
        rdc.append(d[2] / nc if nc else 0)
        rb.append(b[0] / nw if nw else 0)
        rbc.append(b[2] / nc if nc else 0)
        print("  no client %6.2f Mpps (cpu %.2f, %5.2f/cpu) | dumping %6.2f Mpps (cpu %.2f, "
              "%5.2f/cpu; %4.1f dumps/s, ctl %.2f: %.1f ms per dump) | other CPU busy %6.2f Mpps "
              "(cpu %.2f, %5.2f/cpu) | ratios: dumping %.3f (/cpu %.3f), busy %.3f (/cpu %.3f)" %
              (n0[0], n0[1], n0[2], d[0], d[1], d[2], d[4], d[3],
               d[3] / d[4] * 1e3 if d[4] else 0, b[0], b[1], b[2], rd[-1], rdc[-1], rb[-1],
               rbc[-1]))
    print("  dumping: ratio median %.3f, mean %.3f, spread %s (per worker CPU second: median "
          "%.3f, mean %.3f) (target >= 0.97)" % (median(rd), sum(rd) / ROUNDS, spread(rd),
                                                  median(rdc), sum(rdc) / ROUNDS))
    print("  other CPU busy, no client: ratio median %.3f, mean %.3f, spread %s (per worker CPU "
          "second: median %.3f)" % (median(rb), sum(rb) / ROUNDS, spread(rb), median(rbc)))
    paired = [d / b for d, b in zip(rd, rb) if b]
    pairedc = [d / b for d, b in zip(rdc, rbc) if b]
    print("  dumping against other CPU busy, same round: median %.3f, spread %s; per worker CPU "
          "second: median %.3f, spread %s (what a dump costs beyond any work on the other CPU)" %
          (median(paired), spread(paired), median(pairedc), spread(pairedc)))
    dump_instructions(sluice, obj, pcap, os.path.dirname(sock))


def dump_instructions(sluice, obj, pcap, tmp):
    """Control-thread instructions per dumped entry: callgrind counting inside
    sl_ctl_dump_step (the streamed dump: walk, typing, text, output buffer)."""
    if not shutil.which("valgrind") or not shutil.which("callgrind_control"):
        print("  (valgrind missing: control-thread instructions per entry not measured)")
        return
    pre, sock = os.path.join(tmp, "by_src.txt"), os.path.join(tmp, "cg.sock")
    out = os.path.join(tmp, "cg.out")
    with open(pre, "w") as f:
        f.writelines("%s %d\n" % (mac(i), i) for i in range(10000))
    p = start(["valgrind", "--tool=callgrind", "--separate-threads=yes", "--collect-atstart=no",
               "--toggle-collect=sl_ctl_dump_step", "--callgrind-out-file=" + out, sluice],
              obj, pcap, sock, ["--map", "by_src=" + pre], wait_s=300, duration=900)
    c = Client(sock)
    n = sum(len(c.req({"cmd": "map_dump", "map": "by_src"})["entries"]) for _ in range(2))
    subprocess.run(["callgrind_control", "-d", str(p.pid)], capture_output=True, timeout=120)
    stop(p)
    ir = 0
    for path in glob.glob(out + ".1-*"):
        with open(path, errors="replace") as f:
            ir += sum(int(l.split()[1]) for l in f if l.startswith("summary:"))
    print("  control thread: %.0f instructions per dumped entry (callgrind inside "
          "sl_ctl_dump_step, 2 dumps of %d entries)" % (ir / n if n else 0, n // 2))


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for l in f:
            if l.startswith("VmRSS:"):
                return int(l.split()[1])
    return 0


def bench_big_dump(sluice, obj, pcap, tmp, n):
    """`map dump` of an n-entry HASH: entries/s for the client and per control-thread CPU s."""
    sock = os.path.join(tmp, "big.sock")
    p = start(sluice, obj, pcap, sock)
    c = Client(sock)
    pre = os.path.join(tmp, "big.txt")
    with open(pre, "w") as f:
        f.writelines("%d %d\n" % (i, i * 3) for i in range(n))
    t0 = time.time()
    loaded = c.req({"cmd": "map_load", "map": "big", "file": pre})["loaded"]
    t_load = time.time() - t0
    rss0 = rss_kib(p.pid)
    print("== map dump of a %d-entry HASH (ctl_big.bpf.o; filled by map_load in %.1f s)" %
          (loaded, t_load))
    for _ in range(2):
        c0, peak = cpu_s(p.pid, p.pid), 0
        t0 = time.time()
        c.s.sendall(b'{"cmd":"map_dump","map":"big"}\n')
        chunks, size = [], 0
        while True:
            d = c.s.recv(1 << 20)
            if not d:
                raise SystemExit("engine closed the connection")
            chunks.append(d)
            size += len(d)
            if len(chunks) % 64 == 0:
                peak = max(peak, rss_kib(p.pid) - rss0)
            if d.endswith(b"\n"):
                break
        t1, c1 = time.time(), cpu_s(p.pid, p.pid)
        got = len(json.loads(b"".join(chunks))["result"]["entries"])
        print("  %d entries, %.1f MB in %.2f s: %.2f M entries/s for the client, %.2f M entries "
              "per control-thread CPU second (%.2f s of it); the engine's RSS grew %d KiB at most "
              "while it streamed" % (got, size / 1e6, t1 - t0, got / (t1 - t0) / 1e6,
                                     got / (c1 - c0) / 1e6 if c1 > c0 else 0, c1 - c0, peak))
    stop(p)


class Telemetry:
    """DPDK's own telemetry socket of engine @p pid (served by DPDK's thread)."""
    def __init__(self, pid):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.s.connect("/var/run/dpdk/sluice-%d/dpdk_telemetry.v2" % pid)
        self.s.recv(1024)  # the greeting

    def ipackets(self):
        self.s.send(b"/ethdev/stats,0")
        return json.loads(self.s.recv(1 << 16))["/ethdev/stats"]["ipackets"]


def sample(tel, pid, tid, samples, stop_at):
    """(CLOCK_MONOTONIC s, packets received, worker CPU s) about every 10 ms until stop_at[0]."""
    while time.monotonic() < stop_at[0]:
        samples.append((time.monotonic(), tel.ipackets(), cpu_s(pid, tid)))
        time.sleep(0.01)


def bench_reload(sluice, v1, v2, pcap, tmp):
    sock = os.path.join(tmp, "reload.sock")
    p = start(sluice, v1, pcap, sock)
    c = Client(sock)
    tel = Telemetry(p.pid)
    time.sleep(1.0)
    samples, stop_at = [], [float("inf")]
    t = threading.Thread(target=sample, args=(tel, p.pid, worker_tid(p.pid), samples, stop_at))
    t.start()
    time.sleep(0.3)
    t_send = time.monotonic()
    res = c.req({"cmd": "prog_reload", "file": v2})
    t_done = time.monotonic()
    stop_at[0] = time.monotonic() + 0.3
    t.join()
    stop(p)
    m = res["monotonic"]
    swap = m["swap"]
    print("== hot reload: rx Mpps per ~10 ms step (DPDK telemetry of port 0, sampled by "
          "another thread) around the swap; the reload took %.1f ms in the engine (load, "
          "verify, JIT %.1f ms; swap; grace period %.2f ms), %.1f ms for the client" %
          (res["ms"], (swap - m["start"]) * 1e3, (m["synced"] - swap) * 1e3,
           (t_done - t_send) * 1e3))
    rows, before, during, after = [], [], [], []
    pc = {"before": [], "swap": [], "reload": [], "after": []}
    for (ta, a, ca), (tb, b, cb) in zip(samples, samples[1:]):
        if tb <= ta:
            continue
        r = (b - a) / (tb - ta) / 1e6
        oncpu = (cb - ca) / (tb - ta)
        per_cpu = (b - a) / (cb - ca) / 1e6 if cb - ca > 1e-4 else None
        if ta <= swap < tb:
            phase, mark = "swap", "<- the pointer store"
            during.append(r)
        elif tb <= m["start"]:
            phase, mark = "before", ""
            before.append(r)
        elif ta >= m["synced"]:
            phase, mark = "after", ""
            after.append(r)
        else:
            phase, mark = "reload", "(control thread loading, verifying, compiling)"
            during.append(r)
        if per_cpu is not None:
            pc[phase].append(per_cpu)
        rows.append("  %+8.1f ms %5.1f ms %7.2f Mpps  cpu %4.2f %s  %-6s %s" %
                    ((ta - swap) * 1e3, (tb - ta) * 1e3, r, oncpu,
                     "%6.2f Mpps/cpu" % per_cpu if per_cpu is not None else "  (not running)",
                     phase, mark))
    print("  step start (from swap), length, rate, the worker's share of a CPU in the step "
          "(another process had it otherwise), rate per worker CPU second, phase")
    for row in rows:
        print(row)

    def mean(xs):
        return sum(xs) / len(xs) if xs else 0.0
    print("  before %.2f Mpps (min %.2f) | during the reload and its swap %.2f Mpps (min %.2f) | "
          "after %.2f Mpps (min %.2f)" % (mean(before), min(before or [0]), mean(during),
                                           min(during or [0]), mean(after), min(after or [0])))
    print("  per worker CPU second: before %.2f Mpps | reload and swap steps %.2f Mpps | after "
          "%.2f Mpps (a step where the worker did not run is machine load, not the reload)" %
          (mean(pc["before"]), mean(pc["swap"] + pc["reload"]), mean(pc["after"])))


def main():
    if len(sys.argv) not in (6, 7):
        print(__doc__)
        sys.exit(2)
    sluice, pcapgen, mix, v1, v2 = sys.argv[1:6]
    pin_off_worker()
    with sl.tmpdir() as tmp:
        pcap = sl.gen_pcap(pcapgen, os.path.join(tmp, "in.pcap"), 500, 7)
        bench_dump(sluice, mix, pcap, tmp)
        bench_reload(sluice, v1, v2, pcap, tmp)
        if len(sys.argv) == 7:
            bench_big_dump(sluice, sys.argv[6], pcap, tmp, 1 << 20)


if __name__ == "__main__":
    main()
