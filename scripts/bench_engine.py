#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""make bench, engine part: sluice's worker against dpdk-testpmd, same devices, same run.

usage: bench_engine.py SLUICE BUILD_DIR [--rounds R] [--seconds S] [--only null|pcap]

One worker lcore (DPDK lcores 0 and 1: main + one forwarding/worker core),
64-byte frames, on two setups:

  net_null   net_null0 <-> net_null1 (both ports receive and forward to the
             other): pure per-packet overhead of the framework
  net_pcap   one net_pcap port replaying a 64-byte capture forever
             (rx_pcap=F,infinite_rx=1, no tx_pcap: the driver drops what is
             sent), packets sent back out of the same port

and five forwarders on each:

  testpmd      dpdk-testpmd --forward-mode=io (rx burst, tx burst) with
               --mp-alloc=xbuf (see below)
  testpmd+bpf  the same with librte_bpf's JIT running a keep-all filter on
               every RX queue (testpmd's `bpf-load rx P 0 J keep.o`; keep.o is
               `return 1`, built here with clang)
  sluice       sluice run with an XDP program that returns XDP_PASS
  proto_count  sluice run with examples/proto_count.bpf.o (per-protocol
               PERCPU_ARRAY counters, XDP_PASS)
  tp-page      testpmd io with its default mbuf pool (--mp-alloc=native),
               the anchor of the figures before 2026-12-06 17:00

Mbuf pools. Without hugepages (as here: --no-huge), DPDK's default pool puts
each 2,368-byte mbuf in a 4 KiB page of its own, so every mbuf header sits in
the same L1 set and a burst evicts itself; sluice packs its pool then
(engine/port.c pktmbuf_pool(), IOVA as VA). So that both sides have packed
mbufs, testpmd runs with --mp-alloc=xbuf (mbuf headers packed 128 bytes
apart, data in external buffers); that is the anchor of every ratio, and
its best figure here. tp-page is printed beside it for the old anchor.

The runs alternate (every forwarder once per round, R rounds), so that a
load change on a shared machine hits all of them alike; each figure is the
median over the rounds, and each ratio is the median of the rounds' own
ratios (forwarders of one round ran seconds apart). Mpps is measured by
each program's own clock over a window that starts after a warm-up:
testpmd's `show port stats all` Rx-pps (TSC-timed since the previous
`show`), sluice's per-interval rate lines (--stats-interval).

Exit 0 (a benchmark, not a test): figures are printed, not judged; a
missing dpdk-testpmd is said and the part skipped.
"""
import argparse
import os
import re
import select
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

EAL = ["--no-huge", "--no-pci", "-m", "1024", "-l", "0,1", "--log-level", "*:error"]
WARMUP = 1.0
KEEP_C = "int keep(void *pkt) { return 1; }\n"
MP_ALLOC = "xbuf"  # testpmd's packed mbuf pool (the module docstring)


def thread_cpu_ns(pid):
    """CPU nanoseconds of each thread of @pid (/proc/PID/task/*/schedstat)."""
    out = {}
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/schedstat" % (pid, tid)) as f:
                out[tid] = int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            pass
    return out


def busiest_delta(before, after):
    """CPU seconds of the thread that ran most between two thread_cpu_ns() snapshots:
    the forwarding lcore (testpmd) or the worker (sluice)."""
    return max((v - before.get(k, 0) for k, v in after.items()), default=0) / 1e9


class Testpmd:
    """dpdk-testpmd -i driven through its stdin, one command at a time."""

    def __init__(self, cmd):
        self.p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT)
        self.out = b""
        self.prompts = 0
        self.wait_prompt()  # EAL and mempool set up, ports started

    def wait_prompt(self, timeout=120):
        """Read until one more "testpmd> " prompt than seen so far."""
        want = self.prompts + 1
        deadline = time.monotonic() + timeout
        while self.out.count(b"testpmd> ") < want:
            left = deadline - time.monotonic()
            if left <= 0 or self.p.poll() is not None:
                raise RuntimeError("testpmd: no prompt:\n%s" % self.out[-2000:].decode(errors="replace"))
            r, _, _ = select.select([self.p.stdout], [], [], left)
            if r:
                chunk = os.read(self.p.stdout.fileno(), 65536)
                if not chunk:
                    continue
                self.out += chunk
        self.prompts = want

    def cmd(self, line):
        """Run one command; its output is what came before the next prompt."""
        start = len(self.out)
        self.p.stdin.write(line.encode() + b"\n")
        self.p.stdin.flush()
        self.wait_prompt()
        return self.out[start:].decode(errors="replace")

    def close(self):
        """quit; returns everything it printed (printf output is block-buffered in a pipe)."""
        try:
            rest, _ = self.p.communicate(b"quit\n", timeout=60)
            self.out += rest or b""
            return self.out.decode(errors="replace")
        finally:
            if self.p.poll() is None:
                self.p.kill()
                self.p.wait()


def testpmd_mpps(testpmd, vdevs, seconds, bpf_obj, tag, mp_alloc=MP_ALLOC):
    """Rx Mpps of testpmd io forwarding (all ports summed), with keep.o on every RX queue if given."""
    prefix = "sl-bench-engine-%d-%s" % (os.getpid(), tag)
    cmd = [testpmd] + EAL + ["--log-level", "lib.bpf:info", "--file-prefix", prefix]
    for v in vdevs:
        cmd += ["--vdev", v]
    cmd += ["--", "-i", "--forward-mode=io", "--nb-cores=1", "--total-num-mbufs=16384",
            "--mp-alloc=" + mp_alloc]
    if len(vdevs) == 1:
        cmd += ["--port-topology=loop"]
    tp = None
    try:
        tp = Testpmd(cmd)
        for p in range(len(vdevs) if bpf_obj else 0):
            out = tp.cmd("bpf-load rx %d 0 J %s" % (p, bpf_obj))
            if "successfully creates" not in out:
                raise RuntimeError("testpmd did not load %s: %s" % (bpf_obj, out.strip()))
        tp.cmd("start")
        time.sleep(WARMUP)
        c0 = thread_cpu_ns(tp.p.pid)
        tp.cmd("show port stats all")
        time.sleep(seconds)
        c1 = thread_cpu_ns(tp.p.pid)
        tp.cmd("show port stats all")
        tp.cmd("stop")
        out = tp.close()
        tp = None
    finally:
        if tp:
            tp.close()
        shutil.rmtree("/var/run/dpdk/" + prefix, ignore_errors=True)
    # the second `show` of each port: packets since the first, over testpmd's own clock
    pps = [int(x) for x in re.findall(r"Rx-pps:\s+(\d+)", out)]
    rx = [int(x) for x in re.findall(r"RX-packets:\s+(\d+)", out)]
    if len(pps) != 2 * len(vdevs) or len(rx) < 2 * len(vdevs):
        raise RuntimeError("testpmd printed no port rates:\n%s" % out[-2000:])
    cpu = busiest_delta(c0, c1)
    per_cpu = (sum(rx[len(vdevs):2 * len(vdevs)]) - sum(rx[:len(vdevs)])) / cpu / 1e6 if cpu else 0
    return sum(pps[len(vdevs):]) / 1e6, per_cpu


def sluice_mpps(sluice, prog, ports, seconds):
    """Mean of sluice's rx rate lines after the warm-up."""
    cmd = [sluice, "run", "--prog", prog, "--duration", "%.1f" % (WARMUP + seconds),
           "--stats-interval", "0.5", "--no-maps"]
    for port in ports:
        cmd += ["--port", port]
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    rates, marks, lines = [], [], []
    for line in p.stdout:  # each rate line as it comes, with the threads' CPU time then
        lines.append(line)
        m = re.search(r"^\[\s*([\d.]+)s\] rx\s+([\d.]+) Mpps.*rx total (\d+)", line)
        if m and float(m.group(1)) > WARMUP + 0.01:
            rates.append(float(m.group(2)))
            try:
                marks.append((int(m.group(3)), thread_cpu_ns(p.pid)))
            except OSError:
                pass
    err = p.stderr.read()
    if p.wait(timeout=60) != 0:
        raise RuntimeError("sluice run failed (%d): %s" % (p.returncode, err.strip()[-500:]))
    if not rates:
        raise RuntimeError("sluice printed no rate line:\n%s" % "".join(lines)[-1000:])
    cpu = busiest_delta(marks[0][1], marks[-1][1]) if len(marks) > 1 else 0
    per_cpu = (marks[-1][0] - marks[0][0]) / cpu / 1e6 if cpu else 0
    return sum(rates) / len(rates), per_cpu


def calls_into(path, caller_obj, callee_obj):
    """Instructions (inclusive) of every call from code of an object whose path contains
    @caller_obj into one whose path contains @callee_obj, from a callgrind output file:
    the call-cost line after each calls= line holds the callee's inclusive cost."""
    names = {"ob": {}, "fl": {}, "fn": {}}
    kind = {"ob": "ob", "cob": "ob", "fl": "fl", "fi": "fl", "fe": "fl", "cfi": "fl",
            "cfl": "fl", "fn": "fn", "cfn": "fn"}
    npos, ob, cob, total, pending = 1, "", None, 0, False
    with open(path) as f:
        for line in f:
            if pending:  # the call cost line: positions, then Ir
                if cob is not None and caller_obj in ob and callee_obj in cob:
                    total += int(line.split()[npos])
                pending, cob = False, None
                continue
            if line.startswith("positions:"):
                npos = len(line.split()) - 1
                continue
            key, eq, val = line.partition("=")
            if not eq or key not in kind and key != "calls":
                continue
            if key == "calls":
                pending = True
                if cob is None:
                    cob = ob
                continue
            m = re.match(r"\((\d+)\)\s*(.*)", val.strip())
            name = val.strip()
            if m:
                table = names[kind[key]]
                name = table.setdefault(m.group(1), m.group(2))
            if key == "ob":
                ob = name
            elif key == "cob":
                cob = name
    return total


def worker_instructions(sluice, prog, cap, tmp):
    """Instructions per packet of the worker apart from the drivers' rx/tx functions
    (sl_worker_main inclusive, minus its calls into librte_net_*: context, program, verdicts,
    counters, the ethdev API's inline part), under callgrind: a noise-free figure. @cap is
    replayed forever (net_pcap infinite_rx, sent back out of the same port) for 3 s, so every
    poll finds packets: no idle polls in the count. Each thread has its own profile file
    (--separate-threads): the worker's file holds only what ran inside sl_worker_main on that
    thread, and the calls into the drivers are taken from that same file (one profile of all
    threads mixed the call costs of other threads in and could print negative figures)."""
    out = os.path.join(tmp, "cg.out")
    r = subprocess.run(["valgrind", "--tool=callgrind", "--separate-threads=yes",
                        "--toggle-collect=sl_worker_main", "--callgrind-out-file=" + out, sluice,
                        "run", "--prog", prog, "--port",
                        "net_pcap0,rx_pcap=%s,infinite_rx=1" % cap, "--duration", "3",
                        "--stats-interval", "0", "--no-maps"],
                       capture_output=True, text=True, timeout=600)
    m = re.search(r"^stats: rx (\d+)", r.stdout, re.M)
    files = [os.path.join(tmp, f) for f in os.listdir(tmp) if f.startswith("cg.out")]
    try:
        if r.returncode != 0 or not m or not int(m.group(1)):
            raise RuntimeError("callgrind sluice run failed: %s" % (r.stdout + r.stderr)[-500:])
        packets = int(m.group(1))
        own = None
        for path in files:
            with open(path) as f:
                text = f.read()
            tot = re.search(r"^totals:\s*(\d+)", text, re.M)
            if not tot or not int(tot.group(1)) or "sl_worker_main" not in text:
                continue  # a thread that never ran the worker loop
            own = (own or 0) + int(tot.group(1)) - calls_into(path, os.path.basename(sluice),
                                                               "librte_net_")
        if own is None or own <= 0:
            raise RuntimeError("callgrind: no worker thread profile with instructions of its own")
        return own / packets
    finally:
        for path in files:
            os.unlink(path)


def thread_instructions(cmd, tmp, stdin=None):
    """callgrind over @cmd: instructions of every thread but the main one (start_thread,
    inclusive: the forwarding lcore), and the program's output."""
    out = os.path.join(tmp, "cgt.out")
    r = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out] + cmd,
                       stdin=stdin, capture_output=True, text=True, timeout=600)
    ann = subprocess.run(["callgrind_annotate", "--inclusive=yes", out], capture_output=True,
                         text=True).stdout
    os.unlink(out)
    m = re.search(r"^\s*([\d,]+) .*pthread_create\.c:start_thread ", ann, re.M)
    if r.returncode != 0 or not m:
        raise RuntimeError("callgrind %s failed: %s" % (cmd[0], (r.stdout + r.stderr)[-500:]))
    return int(m.group(1).replace(",", "")), r.stdout


def testpmd_thread_instructions(testpmd, bpf_obj, tmp, seconds=30):
    """Instructions per packet of testpmd's io forwarding thread (keep.o on both RX queues if
    given), net_null0 <-> net_null1, under callgrind; packets from its final statistics.
    The commands wait in the pipe until testpmd reads them; stop comes @seconds later
    (EAL start-up under valgrind included: only the ratio of instructions to packets counts)."""
    prefix = "sl-bench-engine-cg-%d" % os.getpid()
    cmd = [testpmd] + EAL + ["--file-prefix", prefix, "--vdev", "net_null0", "--vdev",
                             "net_null1", "--", "-i", "--forward-mode=io", "--nb-cores=1",
                             "--total-num-mbufs=16384", "--mp-alloc=" + MP_ALLOC]
    load = "".join("bpf-load rx %d 0 J %s\n" % (p, bpf_obj) for p in (0, 1)) if bpf_obj else ""
    feed = subprocess.Popen(["sh", "-c", "printf '%sstart\n'; sleep %d; printf 'stop\nquit\n'"
                             % (load, seconds)], stdout=subprocess.PIPE)
    try:
        ins, out = thread_instructions(cmd, tmp, stdin=feed.stdout)
    finally:
        feed.wait()
        shutil.rmtree("/var/run/dpdk/" + prefix, ignore_errors=True)
    tot = re.findall(r"RX-total:\s+(\d+)", out)
    if not tot or not int(tot[-1]):
        raise RuntimeError("callgrind testpmd: no packets counted: %s" % out[-800:])
    return ins / int(tot[-1])


def sluice_thread_instructions(sluice, prog, tmp):
    """The same for sluice's worker thread: net_null0 <-> net_null1 for 3 s."""
    ins, out = thread_instructions([sluice, "run", "--prog", prog, "--port", "net_null0",
                                    "--port", "net_null1", "--duration", "3",
                                    "--stats-interval", "0", "--no-maps"], tmp)
    m = re.search(r"^stats: rx (\d+)", out, re.M)
    if not m:
        raise RuntimeError("sluice printed no stats line")
    return ins / int(m.group(1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("sluice")
    ap.add_argument("build")
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--seconds", type=float, default=2.0)
    ap.add_argument("--only", choices=["null", "pcap"])
    ap.add_argument("--no-instructions", action="store_true",
                    help="skip the callgrind count of the worker's instructions per packet")
    a = ap.parse_args()
    testpmd = shutil.which("dpdk-testpmd")
    if not testpmd:
        print("  dpdk-testpmd missing: engine benchmark skipped")
        return 0
    passo = os.path.join(a.build, "pktgen-tests", "pass.bpf.o")
    proto = os.path.join(a.build, "examples", "proto_count.bpf.o")
    pcapgen = os.path.join(a.build, "pktgen-tests", "sl-pcapgen")
    with tempfile.TemporaryDirectory(prefix="sl-bench-engine-") as tmp:
        os.chmod(tmp, 0o755)
        keep = os.path.join(tmp, "keep.o")
        with open(os.path.join(tmp, "keep.c"), "w") as f:
            f.write(KEEP_C)
        clang = shutil.which("clang")
        if clang:
            subprocess.run([clang, "-O2", "-target", "bpf", "-c", os.path.join(tmp, "keep.c"),
                            "-o", keep], check=True)
        else:
            keep = None
        cap = os.path.join(tmp, "p64.pcap")
        subprocess.run([pcapgen, "-n", "1024", "-l", "64", "-s", "9", "-o", cap], check=True)
        setups = {
            "net_null": (["net_null0", "net_null1"], ["net_null0", "net_null1"]),
            "net_pcap": (["net_pcap0,rx_pcap=%s,infinite_rx=1" % cap],
                         ["net_pcap0,rx_pcap=%s,infinite_rx=1" % cap]),
        }
        if a.only:
            setups = {k: v for k, v in setups.items() if k == "net_" + a.only}
        runs = [("testpmd", None), ("testpmd+bpf", keep), ("sluice", passo),
                ("proto_count", proto), ("tp-page", None)]
        ins, thr = {}, {}
        if not a.no_instructions and shutil.which("valgrind") and shutil.which("callgrind_annotate"):
            for name, obj in (("sluice", passo), ("proto_count", proto)):
                ins[name] = worker_instructions(a.sluice, obj, cap, tmp)
            thr["testpmd"] = testpmd_thread_instructions(testpmd, None, tmp)
            if keep:
                thr["testpmd+bpf"] = testpmd_thread_instructions(testpmd, keep, tmp)
            for name, obj in (("sluice", passo), ("proto_count", proto)):
                thr[name] = sluice_thread_instructions(a.sluice, obj, tmp)
        res = {(s, r): [] for s in setups for r, _ in runs}
        for rnd in range(a.rounds):
            for s, (tp_devs, sl_ports) in setups.items():
                for name, obj in runs:
                    if name == "testpmd+bpf" and not obj:
                        continue
                    if name.startswith("t"):
                        v = testpmd_mpps(testpmd, tp_devs, a.seconds, obj, "%s-%d" % (s, rnd),
                                         "native" if name == "tp-page" else MP_ALLOC)
                    else:
                        v = sluice_mpps(a.sluice, obj, sl_ports, a.seconds)
                    res[(s, name)].append(v)
    med = lambda xs: statistics.median(xs) if xs else float("nan")
    for col, title in ((0, "Mpps (each program's own clock)"),
                       (1, "Mpps per CPU-second of the forwarding thread (worker / lcore;"
                           " less sensitive to other jobs on the machine)")):
        print("  one worker, 64 B frames, %s: median of %d alternating rounds of %.0f s each;"
              % (title, a.rounds, a.seconds))
        print("  ratios: median of the per-round ratios (targets: sluice/testpmd >= 0.95,"
              " proto_count/testpmd >= 0.90, sluice/testpmd+bpf > 1)")
        print("  %-9s %8s %8s %8s %8s  %8s %8s %8s %8s  %8s %8s" % (
            "device", "testpmd", "tp+bpf", "sluice", "proto", "sl/tp", "sl/tpbpf", "pr/tp",
            "pr/tpbpf", "tp-page", "pr/tppg"))
        for s in setups:
            tp, tb, sl, pr, tpg = ([v[col] for v in res[(s, n)]] for n, _ in runs)
            ratio = lambda x, y: med([u / v for u, v in zip(x, y) if v > 0])
            fmt = lambda v: "%8.2f" % v if v == v else "%8s" % "-"
            fmr = lambda v: "%8.3f" % v if v == v else "%8s" % "-"
            print("  %-9s %s %s %s %s  %s %s %s %s  %s %s" % (
                s, fmt(med(tp)), fmt(med(tb)), fmt(med(sl)), fmt(med(pr)),
                fmr(ratio(sl, tp)), fmr(ratio(sl, tb)), fmr(ratio(pr, tp)), fmr(ratio(pr, tb)),
                fmt(med(tpg)), fmr(ratio(pr, tpg))))
    if ins:
        print("  worker instructions per packet (callgrind, 64 B net_pcap replay for 3 s, the"
              " worker thread but the drivers' rx/tx functions): XDP_PASS %.1f,"
              " proto_count %.1f" % (ins["sluice"], ins["proto_count"]))
    if thr:
        print("  instructions per packet of the whole forwarding thread, net_null0 <-> net_null1"
              " (callgrind, drivers' rx/tx included): " + ", ".join(
                  "%s %.1f" % (k, v) for k, v in thr.items()) +
              "; sluice / testpmd %.3f, proto_count / testpmd %.3f" % (
                  thr["sluice"] / thr["testpmd"], thr["proto_count"] / thr["testpmd"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
