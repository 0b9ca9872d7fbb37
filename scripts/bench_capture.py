#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""make bench: what `sluice ctl capture --verdict drop` costs the data path (not a test).

usage: bench_capture.py SLUICE PCAPGEN DROP_1PCT_OBJ [--rounds N] [--no-callgrind]

One engine, one worker: net_pcap infinite_rx into net_null, running
drop_1pct.bpf.o (every 100th frame dropped, the others passed; it never
writes a packet, so a capture copies only the dropped frames, after the
verdict). The engine's main lcore (control thread, DPDK's threads) is on one
CPU and the worker on another (sluice's default lcore map); this script and
its capture client are pinned to the CPUs the worker does not use, as an
operator's tools would be.

1. Timed, alternating phases of 2 s in the same engine: capture off, then
   `sluice ctl capture --verdict drop -w /dev/null`; Mpps of each phase from
   rx deltas over the control socket, printed side by side with the ratio.
2. Instructions per packet (callgrind, noise-free): the same engine under
   valgrind --tool=callgrind --separate-threads=yes, counters zeroed once the
   capture (or nothing) runs, dumped a few seconds later; the worker
   thread's instructions over its sl_verdict_run calls (one per packet),
   capture off and capture on.
The machine is shared: the timed ratios are noisy, the instruction counts are not.
"""
import glob
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                "common"))
from sltest import EAL  # noqa: E402
import sltest as sl  # noqa: E402


def cpus():
    """(worker CPU, the other CPUs) as sluice's lcore map places one worker."""
    allowed = sorted(os.sched_getaffinity(0))
    worker = allowed[1 % len(allowed)]
    return worker, [c for c in allowed if c != worker]


ALL = sorted(os.sched_getaffinity(0))


def pin_others():
    _, others = cpus()
    if others:
        os.sched_setaffinity(0, others)


def start(cmd, sock):
    """The engine, on every CPU this script was given (sluice maps its lcores on them)."""
    if os.path.exists(sock):
        os.unlink(sock)  # a previous engine's, killed: wait for this one's
    p = sl.spawn(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                 preexec_fn=lambda: os.sched_setaffinity(0, ALL))
    sl.wait_for_path(sock, p, 30)
    return p


def stop(p):
    sl.stop(p, timeout=120)


def engine_cmd(sluice, obj, pcap, sock, seconds):
    return [sluice, "run", "--quiet", "--prog", obj, "--port",
            "net_pcap0,rx_pcap=%s,infinite_rx=1" % pcap, "--port", "net_null0,no-rx=1",
            "--ctl-socket", sock, "--duration", str(seconds)] + EAL


# the worker thread's id and CPU seconds: the control bench's own functions
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "engine",
                                "tests", "ctl"))
from bench_ctl import cpu_s, worker_tid  # noqa: E402


class Phase:
    """rx, wall time and the worker's CPU time over one phase."""
    def __init__(self, sock, pid, tid):
        self.sock, self.pid, self.tid = sock, pid, tid
        self.rx0, self.t0 = rx(sock)
        self.c0 = cpu_s(pid, tid)

    def end(self):
        rx1, t1 = rx(self.sock)
        c1 = cpu_s(self.pid, self.tid)
        self.mpps = (rx1 - self.rx0) / (t1 - self.t0) / 1e6
        self.share = (c1 - self.c0) / (t1 - self.t0)
        self.per_cpu = (rx1 - self.rx0) / (c1 - self.c0) / 1e6 if c1 > self.c0 else 0.0
        return self


def rx(sock):
    c = sl.Client(sock)
    r = c.req({"cmd": "stats"})
    c.close()
    if r is None:
        raise SystemExit("engine closed the connection")
    return r["result"]["rx"], time.time()


def capture_start(sluice, sock):
    return subprocess.Popen([sluice, "ctl", "--socket", sock, "capture", "--verdict", "drop",
                             "-w", "/dev/null"], stderr=subprocess.PIPE, text=True)


def capture_stop(p):
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=60)
    m = re.search(r"(\d+) packets .* (\d+) lost", err)
    return (int(m.group(1)), int(m.group(2))) if m else (0, 0)


class RawCapture:
    """A capture over a raw control connection: on once the engine has answered."""
    def __init__(self, sock):
        import threading
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.connect(sock)
        self.s.sendall(b'{"cmd": "capture", "verdicts": ["drop"]}\n')
        self.buf, self.end = b"", None
        while b"\n" not in self.buf:
            d = self.s.recv(1 << 16)
            if not d:
                raise SystemExit("capture refused: engine closed the connection")
            self.buf += d
        head, self.buf = self.buf.split(b"\n", 1)
        if not json.loads(head).get("ok"):
            raise SystemExit("capture refused: %s" % head)
        self.t = threading.Thread(target=self.drain)
        self.t.start()

    def drain(self):
        while True:
            d = self.s.recv(1 << 20)
            if not d:
                break
            self.buf = (self.buf + d)[-4096:]
        for line in self.buf.split(b"\n"):
            if line.startswith(b'{"end"'):
                self.end = json.loads(line)

    def stop(self):
        self.s.shutdown(socket.SHUT_WR)  # the engine ends the capture, sends the end line
        self.t.join(timeout=120)
        self.s.close()
        return (self.end["packets"], self.end["lost"]) if self.end else (0, 0)


def timed(sluice, obj, pcap, tmp, rounds):
    sock = os.path.join(tmp, "t.sock")
    p = start(engine_cmd(sluice, obj, pcap, sock, 600), sock)
    try:
        time.sleep(1.0)
        tid = worker_tid(p.pid)
        print("== capture by verdict: Mpps, capture off vs `ctl capture --verdict drop -w "
              "/dev/null` (1% drops), alternating 2 s phases, same engine")
        print("   (cpu: the worker thread's share of a CPU in the phase; Mpps/cpu: packets per "
              "second of worker CPU time, which a loaded machine's scheduling does not change)")
        offs, ons = [], []
        for _ in range(rounds):
            ph = Phase(sock, p.pid, tid)
            time.sleep(2.0)
            offs.append(ph.end())
            c = capture_start(sluice, sock)
            time.sleep(0.3)
            ph = Phase(sock, p.pid, tid)
            time.sleep(2.0)
            ons.append(ph.end())
            got, lost = capture_stop(c)
            a, b = offs[-1], ons[-1]
            print("  off %6.3f Mpps (cpu %.2f, %6.3f Mpps/cpu) | capture drops %6.3f Mpps "
                  "(cpu %.2f, %6.3f Mpps/cpu; %d captured, %d lost) | ratio %.3f, per cpu %.3f" %
                  (a.mpps, a.share, a.per_cpu, b.mpps, b.share, b.per_cpu, got, lost,
                   b.mpps / a.mpps if a.mpps else 0, b.per_cpu / a.per_cpu if a.per_cpu else 0))

        def mean(xs, k):
            return sum(getattr(x, k) for x in xs) / len(xs)
        off, on = mean(offs, "mpps"), mean(ons, "mpps")
        offc, onc = mean(offs, "per_cpu"), mean(ons, "per_cpu")
        print("  mean: off %.3f Mpps, capture %.3f Mpps, ratio %.3f; per worker CPU second "
              "%.3f vs %.3f, ratio %.3f (target >= 0.95)" %
              (off, on, on / off if off else 0, offc, onc, onc / offc if offc else 0))
    finally:
        stop(p)


def thread_file(files):
    """The callgrind file of the worker thread: the one that runs sl_worker_main."""
    for f in files:
        with open(f, errors="replace") as fh:
            if "sl_worker_main" in fh.read():
                return f
    return None


RX_BURST = 32  # SL_RUN_BURST: net_pcap's infinite_rx fills every burst


def parse(path):
    """(total instructions, packets) of the worker's callgrind file. Packets:
    RX_BURST per turn of the worker loop (one sl_map_quiescent call per turn;
    port 0 gives a full burst each turn, port 1 none), checked against the
    calls of sl_verdict_run where every packet goes through it (capture on)."""
    names, cur, calls, total = {}, None, {}, 0
    with open(path, errors="replace") as f:
        for line in f:
            m = re.match(r"(c?fn)=\((\d+)\)(?: (.*))?", line)
            if m:
                if m.group(3):
                    names[m.group(2)] = m.group(3).strip()
                if m.group(1) == "cfn":
                    cur = names.get(m.group(2))
                continue
            if line.startswith("calls="):
                calls[cur] = calls.get(cur, 0) + int(line.split("=")[1].split()[0])
            elif line.startswith(("summary:", "totals:")):
                total = int(line.split()[1])
    bursts = calls.get("sl_map_quiescent", 0)
    runs = calls.get("sl_verdict_run", 0)
    if runs > RX_BURST * bursts or (runs and runs < RX_BURST * bursts * 0.9):
        print("  (packets: %d bursts of %d, but %d sl_verdict_run calls)" %
              (bursts, RX_BURST, runs))
    return total, RX_BURST * bursts


def callgrind(sluice, obj, pcap, tmp, capture):
    sock = os.path.join(tmp, "cg.sock")
    out = os.path.join(tmp, "cg%s.out" % ("on" if capture else "off"))
    cmd = ["valgrind", "--tool=callgrind", "--separate-threads=yes",
           "--callgrind-out-file=" + out] + engine_cmd(sluice, obj, pcap, sock, 600)
    p = start(cmd, sock)
    c = None
    try:
        if capture:
            c = RawCapture(sock)
        time.sleep(3.0)
        subprocess.run(["callgrind_control", "-z", str(p.pid)], capture_output=True, timeout=60)
        time.sleep(6.0)
        subprocess.run(["callgrind_control", "-d", str(p.pid)], capture_output=True, timeout=60)
        time.sleep(1.0)
        got = c.stop() if c else (0, 0)
    finally:
        stop(p)
    dumps = [f for f in glob.glob(out + ".*") if re.search(r"\.1-\d+$", f)]
    f = thread_file(dumps)
    if not f:
        return None
    total, calls = parse(f)
    return total, calls, got


def instructions(sluice, obj, pcap, tmp):
    print("== capture by verdict: instructions per packet (callgrind, worker thread, "
          "same program and traffic)")
    res = {}
    for capture in (False, True):
        r = callgrind(sluice, obj, pcap, tmp, capture)
        if not r or not r[1]:
            print("  callgrind gave no worker figures")
            return
        res[capture] = r[0] / r[1]
        print("  capture %-3s %8.1f instructions/packet over %d packets%s" %
              ("on" if capture else "off", res[capture], r[1],
               " (capture: %d packets written, %d lost to a full ring: under valgrind the "
               "control thread runs little)" % r[2] if capture else ""))
    print("  capture on / off: %.3f" % (res[True] / res[False]))


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    if len(args) < 3:
        print(__doc__)
        sys.exit(2)
    sluice, pcapgen, obj = (os.path.abspath(a) for a in args[:3])
    rounds = 3
    if "--rounds" in sys.argv:
        rounds = int(sys.argv[sys.argv.index("--rounds") + 1])
    pin_others()
    with tempfile.TemporaryDirectory() as tmp:
        pcap = os.path.join(tmp, "in.pcap")
        subprocess.run([pcapgen, "-n", "500", "-s", "7", "-o", pcap], check=True)
        timed(sluice, obj, pcap, tmp, rounds)
        if "--no-callgrind" not in sys.argv:
            if shutil.which("valgrind") and shutil.which("callgrind_control"):
                instructions(sluice, obj, pcap, tmp)
            else:
                print("== capture instructions per packet: valgrind missing, not measured")


if __name__ == "__main__":
    main()
