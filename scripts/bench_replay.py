#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""make bench, replay part: sluice replay --filter against tcpdump -r -w.

usage: bench_replay.py SLUICE SL_PCAPGEN [PACKETS] [ROUNDS]

(sluice-replay, beside SLUICE, is measured too: the same replay linked
without DPDK and the control libraries, which start up 4x faster.)

On a capture of PACKETS (default 1,000,000) 64-byte frames and a 3-clause
filter, ROUNDS (default 5) rounds each run, one after the other,
  tcpdump -r IN -w OUT EXPR                          (the anchor)
  sluice replay --filter EXPR -r IN -w OUT           (and -w /dev/null)
  sluice-replay --filter EXPR -r IN -w OUT           (and -w /dev/null, and
                                                      --io-threads off: one thread,
                                                      and --workers 2)
so that a load that comes and goes touches them alike. (The default of
sluice-replay for this --filter and input is a worker per CPU; --io-threads
on is the one-worker replay with its read-ahead and write-behind threads.) Every tool writes
its own OUT, and OUT is removed before every run (untimed): each run
creates a new file, as a first run does (writing over the file of the
previous round would add ext4's flush-on-close of a truncated file, and a
wait for that file's writeback, to whoever comes next). Before every run,
and once the inputs are written, the dirty page cache is written back
(sync, untimed): otherwise the writeback of the inputs (due 30 s after
they were written, in the middle of the rounds) and of the earlier runs'
outputs runs in kernel threads during whichever run comes then, taking a
CPU from it (a tool that uses both CPUs loses more to it than one that
uses one). Every run, tcpdump's as sluice's, starts with nothing dirty.

The same rounds run a second copy of the capture that was written with
1 MiB writes: the page cache then holds it in large folios, as it holds a
file read from disk or copied with large writes (sl-pcapgen writes 4 KiB
at a time, as tcpdump -w does); reading it out of the page cache costs
the kernel about half as much, for both tools.

For each: the best wall time and the best CPU time (user + sys of the
process, all its threads; user and sys of that run) over the rounds, and
the ratios to tcpdump's on the same input. The replay loop's own CPU time
comes from sluice's "replayed" line. All outputs must be byte-identical.

Where valgrind is installed, instructions per packet (callgrind, noise-free
on a loaded machine): the run on 200,000 frames minus the run on 1 frame,
divided by 199,999; the 1-frame run is the start-up. For tcpdump too.
"""
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time

EXPR = "udp and dst port 53 and src net 10.0.0.0/16"


def timed(cmd, out):
    """(wall s, user s, sys s) of one run of cmd, writing a new file out."""
    if out and os.path.exists(out):
        os.unlink(out)
    os.sync()  # no earlier writeback during this run (see the docstring)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.monotonic() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime - before.ru_utime, after.ru_stime - before.ru_stime


def instructions(cmd, tmp):
    """Instructions callgrind counts for cmd, or None."""
    out = os.path.join(tmp, "cg.out")
    r = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out] + cmd,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    m = re.search(r"Collected : (\d+)", r.stderr)
    return int(m.group(1)) if r.returncode == 0 and m else None


def per_packet(mk, small, tiny, n_small, tmp):
    a, b = instructions(mk(small), tmp), instructions(mk(tiny), tmp)
    if a is None or b is None:
        return None
    return (a - b) / (n_small - 1), b


def copy_large_writes(src, dst):
    with open(src, "rb") as f, open(dst, "wb") as g:
        while True:
            b = f.read(1 << 20)
            if not b:
                break
            g.write(b)


def make_runs(tcpdump, z, sluice, lean, tmp, src, tag):
    """{key: (label, cmd, output file or None)} for one input."""
    o = lambda k: os.path.join(tmp, "%s-%s.pcap" % (k, tag))
    f = ["-q", "--no-progress", "--filter", EXPR, "-r", src, "-w"]
    runs = {"td": ("tcpdump -r -w (anchor)", [tcpdump, *z, "-r", src, "-w", o("td"), EXPR],
                   o("td"))}
    if tag == "4k":
        runs["sf"] = ("sluice replay -w FILE", [sluice, "replay", *f, o("sf")], o("sf"))
        runs["sn"] = ("sluice replay -w /dev/null", [sluice, "replay", *f, "/dev/null"], None)
    if lean:
        runs["lf"] = ("sluice-replay -w FILE (default)", [lean, *f, o("lf")], o("lf"))
        runs["lt"] = ("sluice-replay -w FILE, I/O threads",
                      [lean, "--io-threads", "on", *f, o("lt")], o("lt"))
        runs["l1"] = ("sluice-replay -w FILE, 1 thread",
                      [lean, "--io-threads", "off", *f, o("l1")], o("l1"))
        runs["lw"] = ("sluice-replay -w FILE, --workers 2",
                      [lean, "--workers", "2", *f, o("lw")], o("lw"))
        if tag == "4k":
            runs["ln"] = ("sluice-replay -w /dev/null", [lean, *f, "/dev/null"], None)
    return runs


def report(n, runs, best, title):
    mpps = lambda s: n / s * 1e-6 if s > 0 else 0.0
    td = best["td"]
    print("  %s" % title)
    for k, (label, _, _) in runs.items():
        w, u, s, c = best[k]
        line = "    %-34s %6.3f s wall %5.1f Mpps  %6.3f s CPU (user %.3f sys %.3f)" % (
            label, w, mpps(w), c, u, s)
        if k != "td":
            line += "  %.1fx wall, %.1fx CPU" % (td[0] / w, td[3] / c if c else 0)
        print(line)


def main():
    sluice, pcapgen = sys.argv[1], sys.argv[2]
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 1000000
    rounds = int(sys.argv[4]) if len(sys.argv) > 4 else 5
    tcpdump = shutil.which("tcpdump")
    if not tcpdump:
        print("  tcpdump missing: replay benchmark skipped")
        return 0
    z = ["-Z", "root"] if os.geteuid() == 0 else []
    lean = os.path.join(os.path.dirname(sluice), "sluice-replay")
    lean = lean if os.access(lean, os.X_OK) else None
    with tempfile.TemporaryDirectory(prefix="sl-bench-replay-") as tmp:
        os.chmod(tmp, 0o755)
        src, big = os.path.join(tmp, "in.pcap"), os.path.join(tmp, "in-large.pcap")
        subprocess.run([pcapgen, "-n", str(n), "-l", "64", "-s", "5", "-o", src], check=True)
        copy_large_writes(src, big)
        os.sync()
        sets = [(make_runs(tcpdump, z, sluice, lean, tmp, src, "4k"),
                 "input as sl-pcapgen (and tcpdump -w) write it, 4 KiB at a time:"),
                (make_runs(tcpdump, z, sluice, lean, tmp, big, "1m"),
                 "the same capture written in 1 MiB writes (large folios, as a file read from "
                 "disk):")]
        best = [{k: [1e9] * 4 for k in runs} for runs, _ in sets]
        for _ in range(rounds):
            for (runs, _), b in zip(sets, best):
                for k, (_, cmd, out) in runs.items():
                    w, u, s = timed(cmd, out)
                    cpu = [u, s, u + s] if u + s < b[k][3] else b[k][1:]
                    b[k] = [min(b[k][0], w)] + cpu
        loop = subprocess.run([sluice, "replay", "--workers", "1", "--no-progress", "--filter",
                               EXPR, "-r", src,
                               "-w", "/dev/null"], check=True, capture_output=True, text=True)
        outs = [out for runs, _ in sets for _, _, out in runs.values() if out]
        with open(outs[0], "rb") as f:
            ref = f.read()
        same = True
        for p in outs[1:]:
            with open(p, "rb") as f:
                same = same and f.read() == ref
        cg = None
        if shutil.which("valgrind"):
            small, tiny = os.path.join(tmp, "small.pcap"), os.path.join(tmp, "tiny.pcap")
            subprocess.run([pcapgen, "-n", "200000", "-l", "64", "-s", "5", "-o", small], check=True)
            subprocess.run([pcapgen, "-n", "1", "-l", "64", "-s", "5", "-o", tiny], check=True)
            out = os.path.join(tmp, "cg.pcap")
            cg = (per_packet(lambda f: [sluice, "replay", "-q", "--no-progress", "--workers", "1",
                                        "--filter", EXPR, "-r", f, "-w", out], small, tiny,
                             200000, tmp),
                  per_packet(lambda f: [tcpdump, *z, "-r", f, "-w", out, EXPR], small, tiny,
                             200000, tmp),
                  instructions([lean, "-q", "--no-progress", "--filter", EXPR, "-r", tiny, "-w",
                                "/dev/null"], tmp) if lean else None,
                  per_packet(lambda f: [sluice, "replay", "-q", "--no-progress", "--workers", "2",
                                        "--filter", EXPR, "-r", f, "-w", out], small, tiny,
                             200000, tmp))
    print("  %d 64-byte packets, filter '%s' (best of %d alternating rounds; load %.1f; "
          "CPU = user + sys of all threads)" % (n, EXPR, rounds, os.getloadavg()[0]))
    for (runs, title), b in zip(sets, best):
        report(n, runs, b, title)
    print("  replay loop alone (sluice's own line, --workers 1: the replay thread's CPU): %s" %
          loop.stdout.splitlines()[0].split(", ", 1)[-1])
    if cg and cg[0] and cg[1]:
        print("  instructions (callgrind, 200,000 frames minus 1): sluice --workers 1 %.0f per "
              "packet + %.1f M start-up; tcpdump %.0f per packet + %.1f M start-up" %
              (cg[0][0], cg[0][1] / 1e6, cg[1][0], cg[1][1] / 1e6))
        if cg[3]:
            print("  with --workers 2 (both threads' instructions): %.0f per packet" % cg[3][0])
        if cg[2]:
            print("  start-up of sluice-replay: %.1f M instructions" % (cg[2] / 1e6))
    print("  outputs byte-identical (%d files): %s" % (len(outs), "yes" if same else "NO"))
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
