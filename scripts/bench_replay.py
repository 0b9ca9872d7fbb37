#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""make bench, replay part: sluice replay --filter against tcpdump -r -w.

usage: bench_replay.py SLUICE SL_PCAPGEN [PACKETS] [ROUNDS]

(sluice-replay, beside SLUICE, is measured too: the same replay linked
without DPDK and the control libraries, which start up 4x faster.)

On a capture of PACKETS (default 1,000,000) 64-byte frames and a 3-clause
filter, ROUNDS (default 5) rounds each run, one after the other,
  tcpdump -r IN -w OUT EXPR             (the anchor)
  sluice replay --filter EXPR -r IN -w OUT
  sluice replay --filter EXPR -r IN -w /dev/null
so that a load that comes and goes touches all three alike. For each: the
best wall time and the best CPU time (user + sys of the process) over the
rounds, and the ratio to tcpdump's. The replay loop's own CPU time comes
from sluice's "replayed" line. The two outputs must be byte-identical.

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


def timed(cmd):
    """(wall s, cpu s) of one run of cmd."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.monotonic() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


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


def main():
    sluice, pcapgen = sys.argv[1], sys.argv[2]
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 1000000
    rounds = int(sys.argv[4]) if len(sys.argv) > 4 else 5
    tcpdump = shutil.which("tcpdump")
    if not tcpdump:
        print("  tcpdump missing: replay benchmark skipped")
        return 0
    z = ["-Z", "root"] if os.geteuid() == 0 else []
    with tempfile.TemporaryDirectory(prefix="sl-bench-replay-") as tmp:
        os.chmod(tmp, 0o755)
        src, a, b = (os.path.join(tmp, x) for x in ("in.pcap", "tcpdump.pcap", "sluice.pcap"))
        subprocess.run([pcapgen, "-n", str(n), "-l", "64", "-s", "5", "-o", src], check=True)
        runs = {
            "td": [tcpdump, *z, "-r", src, "-w", a, EXPR],
            "sf": [sluice, "replay", "-q", "--no-progress", "--filter", EXPR, "-r", src, "-w", b],
            "sn": [sluice, "replay", "-q", "--no-progress", "--filter", EXPR, "-r", src, "-w",
                   "/dev/null"],
        }
        lean = os.path.join(os.path.dirname(sluice), "sluice-replay")
        if os.access(lean, os.X_OK):
            runs["lf"] = [lean] + runs["sf"][2:]
            runs["ln"] = [lean] + runs["sn"][2:]
        best = {k: (1e9, 1e9) for k in runs}
        for _ in range(rounds):
            for k, cmd in runs.items():
                w, c = timed(cmd)
                best[k] = (min(best[k][0], w), min(best[k][1], c))
        loop = subprocess.run(runs["sn"][:2] + runs["sn"][3:], check=True, capture_output=True,
                              text=True)
        with open(a, "rb") as f, open(b, "rb") as g:
            same = f.read() == g.read()
        cg = None
        if shutil.which("valgrind"):
            small, tiny = os.path.join(tmp, "small.pcap"), os.path.join(tmp, "tiny.pcap")
            subprocess.run([pcapgen, "-n", "200000", "-l", "64", "-s", "5", "-o", small], check=True)
            subprocess.run([pcapgen, "-n", "1", "-l", "64", "-s", "5", "-o", tiny], check=True)
            out = os.path.join(tmp, "cg.pcap")
            cg = (per_packet(lambda f: [sluice, "replay", "-q", "--no-progress", "--filter", EXPR,
                                        "-r", f, "-w", out], small, tiny, 200000, tmp),
                  per_packet(lambda f: [tcpdump, *z, "-r", f, "-w", out, EXPR], small, tiny,
                             200000, tmp),
                  instructions(runs["ln"][:-4] + ["-r", tiny, "-w", "/dev/null"], tmp)
                  if "ln" in runs else None)
    mpps = lambda s: n / s * 1e-6 if s > 0 else 0.0
    td, sf, sn = best["td"], best["sf"], best["sn"]
    print("  %d 64-byte packets, filter '%s' (best of %d alternating rounds; load %.1f)" %
          (n, EXPR, rounds, os.getloadavg()[0]))
    print("  %-34s %7.3f s wall %6.2f Mpps   %7.3f s CPU %6.2f Mpps/core" %
          ("tcpdump -r -w (anchor)", td[0], mpps(td[0]), td[1], mpps(td[1])))
    rows = [("sluice replay --filter -w FILE", sf), ("sluice replay --filter -w /dev/null", sn)]
    if "lf" in best:
        rows += [("sluice-replay --filter -w FILE", best["lf"]),
                 ("sluice-replay --filter -w /dev/null", best["ln"])]
    for label, x in rows:
        print("  %-34s %7.3f s wall %6.2f Mpps   %7.3f s CPU %6.2f Mpps/core   %.1fx wall, "
              "%.1fx CPU vs tcpdump" % (label, x[0], mpps(x[0]), x[1], mpps(x[1]), td[0] / x[0],
                                        td[1] / x[1] if x[1] else 0))
    print("  replay loop alone (sluice's own line): %s" %
          loop.stdout.splitlines()[0].split(", ", 1)[-1])
    if cg and cg[0] and cg[1]:
        print("  instructions (callgrind, 200,000 frames minus 1): sluice %.0f per packet + %.1f M "
              "start-up; tcpdump %.0f per packet + %.1f M start-up" %
              (cg[0][0], cg[0][1] / 1e6, cg[1][0], cg[1][1] / 1e6))
        if cg[2]:
            print("  start-up of sluice-replay: %.1f M instructions" % (cg[2] / 1e6))
    print("  outputs byte-identical: %s" % ("yes" if same else "NO"))
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
