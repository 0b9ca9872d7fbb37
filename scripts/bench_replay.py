#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""make bench, replay part: sluice replay --filter against tcpdump -r -w.

usage: bench_replay.py SLUICE SL_PCAPGEN [PACKETS]

On a capture of PACKETS (default 1,000,000) 64-byte frames, a 3-clause
filter: tcpdump -r IN -w OUT EXPR (the anchor) and sluice replay --filter
EXPR -r IN -w OUT, then sluice replay to /dev/null. Each is run 3 times
and the best run is kept; figures are wall time and CPU time (user + sys
of the process) so that a loaded machine can still be read: compare the
ratios. The two outputs must be byte-identical.
"""
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time

EXPR = "udp and dst port 53 and src net 10.0.0.0/16"


def measure(cmd):
    """(wall s, cpu s) of the best of 3 runs of cmd."""
    best = None
    for _ in range(3):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.monotonic()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wall = time.monotonic() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        if best is None or wall < best[0]:
            best = (wall, cpu)
    return best


def main():
    sluice, pcapgen = sys.argv[1], sys.argv[2]
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 1000000
    tcpdump = shutil.which("tcpdump")
    if not tcpdump:
        print("  tcpdump missing: replay benchmark skipped")
        return 0
    with tempfile.TemporaryDirectory(prefix="sl-bench-replay-") as tmp:
        os.chmod(tmp, 0o755)
        src, a, b = (os.path.join(tmp, x) for x in ("in.pcap", "tcpdump.pcap", "sluice.pcap"))
        subprocess.run([pcapgen, "-n", str(n), "-l", "64", "-s", "5", "-o", src], check=True)
        z = ["-Z", "root"] if os.geteuid() == 0 else []
        td = measure([tcpdump, *z, "-r", src, "-w", a, EXPR])
        sf = measure([sluice, "replay", "-q", "--no-progress", "--filter", EXPR, "-r", src, "-w", b])
        sn = measure([sluice, "replay", "-q", "--no-progress", "--filter", EXPR, "-r", src, "-w",
                      "/dev/null"])
        loop = subprocess.run([sluice, "replay", "--no-progress", "--filter", EXPR, "-r", src,
                               "-w", "/dev/null"], check=True, capture_output=True, text=True)
        with open(a, "rb") as f, open(b, "rb") as g:
            same = f.read() == g.read()
    mpps = lambda s: n / s * 1e-6 if s > 0 else 0.0
    print("  %d 64-byte packets, filter '%s' (best of 3; machine load %.1f)" %
          (n, EXPR, os.getloadavg()[0]))
    print("  %-34s %7.3f s wall %6.2f Mpps   %7.3f s CPU %6.2f Mpps/core" %
          ("tcpdump -r -w (anchor)", td[0], mpps(td[0]), td[1], mpps(td[1])))
    print("  %-34s %7.3f s wall %6.2f Mpps   %7.3f s CPU %6.2f Mpps/core   %.1fx wall, %.1fx CPU"
          % ("sluice replay --filter -w FILE", sf[0], mpps(sf[0]), sf[1], mpps(sf[1]),
             td[0] / sf[0], td[1] / sf[1] if sf[1] else 0))
    print("  %-34s %7.3f s wall %6.2f Mpps   %7.3f s CPU %6.2f Mpps/core" %
          ("sluice replay --filter -w /dev/null", sn[0], mpps(sn[0]), sn[1], mpps(sn[1])))
    print("  replay loop alone (sluice's own line): %s" % loop.stdout.splitlines()[0].split(", ", 1)[-1])
    print("  outputs byte-identical: %s" % ("yes" if same else "NO"))
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
