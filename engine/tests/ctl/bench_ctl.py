#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""make bench: the control socket's cost to the data path (not a test).

usage: bench_ctl.py SLUICE PCAPGEN MAPS_MIX_OBJ CTL_V1_OBJ CTL_V2_OBJ

The engine gets every CPU this script was given: its main lcore (control
thread, DPDK's interrupt and telemetry threads, the metrics thread) on the
first, its one worker on the second (sluice's lcore map). This script, its
dumping client included, is pinned to the CPUs the worker does not use, as
an operator's tools would be: the worker owns its core.

1. One engine (1 worker, net_pcap infinite_rx -> the program drops every
   frame) runs maps_mix.bpf.o, whose HASH by_src gets 10,000 entries
   through `map_update`. Phases of 2 s alternate: no client, then one client
   dumping by_src in a loop; per phase the worker's Mpps (rx deltas read
   over the socket), its thread's share of a CPU (/proc), and its Mpps per
   CPU second, beside the no-client anchor of the same run.
2. A second engine runs ctl_count v1; a thread samples the port's received
   packets every ~10 ms through DPDK telemetry (/ethdev/stats,0, answered by
   DPDK's telemetry thread, so sampling goes on while the control thread is
   busy reloading) from 0.3 s before a `prog_reload` of v2 to 0.3 s after it;
   each step's rate is printed with its time relative to the pointer swap
   (the engine's CLOCK_MONOTONIC in the reload result) and its phase.
The machine is shared: compare the ratios, not the absolute numbers.
"""
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

EAL = ["--", "--no-huge", "-m", "256", "--no-pci"]


class Client:
    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.connect(path)
        self.buf = b""

    def line(self):
        while b"\n" not in self.buf:
            d = self.s.recv(1 << 20)
            if not d:
                raise SystemExit("engine closed the connection")
            self.buf += d
        l, self.buf = self.buf.split(b"\n", 1)
        return json.loads(l)

    def req(self, obj):
        self.s.sendall((json.dumps(obj) + "\n").encode())
        r = self.line()
        if not r.get("ok"):
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


def start(sluice, prog, pcap, sock):
    p = subprocess.Popen([sluice, "run", "--quiet", "--prog", prog, "--port",
                          "net_pcap0,rx_pcap=%s,infinite_rx=1" % pcap, "--port", "net_null0,no-rx=1",
                          "--ctl-socket", sock, "--duration", "120"] + EAL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                         preexec_fn=lambda: os.sched_setaffinity(0, ALL))
    for _ in range(200):
        if os.path.exists(sock):
            return p
        time.sleep(0.05)
    raise SystemExit("engine did not start: %s" % p.stderr.read())


def stop(p):
    p.send_signal(signal.SIGTERM)
    p.communicate(timeout=60)


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


def dump_phase(sock, seconds, dumps):
    c = Client(sock)
    end = time.time() + seconds
    while time.time() < end:
        c.req({"cmd": "map_dump", "map": "by_src"})
        dumps[0] += 1


def rate(c, seconds, pid, tid):
    """(Mpps, worker CPU share, Mpps per worker CPU second) over @p seconds."""
    a, t0, c0 = c.req({"cmd": "stats"})["rx"], time.time(), cpu_s(pid, tid)
    time.sleep(seconds)
    b, t1, c1 = c.req({"cmd": "stats"})["rx"], time.time(), cpu_s(pid, tid)
    return ((b - a) / (t1 - t0) / 1e6, (c1 - c0) / (t1 - t0),
            (b - a) / (c1 - c0) / 1e6 if c1 > c0 else 0.0)


def bench_dump(sluice, obj, pcap, tmp):
    sock = os.path.join(tmp, "dump.sock")
    p = start(sluice, obj, pcap, sock)
    c = Client(sock)
    fill(c, 10000)
    entries = len(c.req({"cmd": "map_dump", "map": "by_src"})["entries"])
    time.sleep(0.5)
    tid = worker_tid(p.pid)
    print("== control socket: worker Mpps while a client dumps a %d-entry HASH in a loop" % entries)
    print("   (cpu: the worker thread's share of a CPU; Mpps/cpu: per second of worker CPU time)")
    base, loaded = [], []
    for _ in range(3):
        base.append(rate(c, 2.0, p.pid, tid))
        dumps = [0]
        t = threading.Thread(target=dump_phase, args=(sock, 2.2, dumps))
        t.start()
        time.sleep(0.1)
        loaded.append(rate(c, 2.0, p.pid, tid))
        t.join()
        (b, bs, bc), (l, ls, lc) = base[-1], loaded[-1]
        print("  no client %7.3f Mpps (cpu %.2f, %6.3f/cpu) | dumping (%3d dumps) %7.3f Mpps "
              "(cpu %.2f, %6.3f/cpu) | ratio %.3f, per cpu %.3f" %
              (b, bs, bc, dumps[0], l, ls, lc, l / b if b else 0, lc / bc if bc else 0))
    b, l = (sum(x[0] for x in base) / len(base), sum(x[0] for x in loaded) / len(loaded))
    bc, lc = (sum(x[2] for x in base) / len(base), sum(x[2] for x in loaded) / len(loaded))
    print("  mean: %.3f vs %.3f Mpps, ratio %.3f; per worker CPU second %.3f vs %.3f, ratio "
          "%.3f (target >= 0.97)" % (b, l, l / b if b else 0, bc, lc, lc / bc if bc else 0))
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
    if len(sys.argv) != 6:
        print(__doc__)
        sys.exit(2)
    sluice, pcapgen, mix, v1, v2 = sys.argv[1:6]
    pin_off_worker()
    with tempfile.TemporaryDirectory() as tmp:
        pcap = os.path.join(tmp, "in.pcap")
        subprocess.run([pcapgen, "-n", "500", "-s", "7", "-o", pcap], check=True)
        bench_dump(sluice, mix, pcap, tmp)
        bench_reload(sluice, v1, v2, pcap, tmp)


if __name__ == "__main__":
    main()
