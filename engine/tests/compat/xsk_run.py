#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""`sluice run` with real-world redirect maps (issue 13): an XSKMAP entry
names the port that takes the packets (the AF_XDP counterpart), preloaded
from a file; an empty entry falls back to the flags' verdict; a CPUMAP is
refused with one line (the worker hand-over is not built yet).
  xsk_run.py SLUICE XSK.bpf.o CPUMAP.bpf.o
Expected counts come from the test's own frames."""
import json
import os
import struct
import subprocess
import sys
import tempfile

sluice, xsk, cpumap = sys.argv[1:4]
EAL = ["--", "--no-huge", "-m", "256", "--no-pci"]
failures = 0


def check(cond, what, detail=""):
    global failures
    print(("ok " if cond else "FAIL ") + what + ("" if cond else ": " + detail))
    failures += 0 if cond else 1


def write_pcap(path, frames):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        for i, fr in enumerate(frames):
            f.write(struct.pack("<IIII", i, 0, len(fr), len(fr)) + fr)


def read_pcap(path):
    out = []
    with open(path, "rb") as f:
        f.read(24)
        while True:
            h = f.read(16)
            if len(h) < 16:
                return out
            n = struct.unpack("<IIII", h)[2]
            out.append(f.read(n))


def frame(i):
    eth = bytes.fromhex("020000000002" "020000000001" "0800")
    ip = bytes([0x45, 0, 0, 46, 0, i & 0xff, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2])
    return eth + ip + struct.pack(">HHHH", 1000 + i, 53, 26, 0) + bytes(18)


with tempfile.TemporaryDirectory() as t:
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
        out_a, out_b = read_pcap(oa), read_pcap(ob)
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
    check(r.returncode == 0 and sorted(read_pcap(ob)) == sorted(fa) and
          sorted(read_pcap(oa)) == sorted(fb), "empty XSKMAP: the XDP_PASS fallback",
          r.stderr.strip())
    r = subprocess.run([sluice, "run", "--quiet", "--prog", cpumap] + ports + EAL,
                       capture_output=True, text=True, timeout=60)
    check(r.returncode == 1 and "is a CPUMAP" in r.stderr and r.stderr.count("\n") == 1,
          "CPUMAP refused by run, one line", r.stderr.strip())

print("xsk run: %d failures" % failures)
sys.exit(1 if failures else 0)
