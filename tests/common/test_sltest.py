#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""The Python test module's own test (suite 'common'): sltest.py's pcap
writers against bytes packed here by hand and its reader on both byte
orders, nanosecond files and broken files; fail() and check() (exit codes,
lines) and cleanup() of a running process, run in child interpreters; the
Internet checksum against RFC 1071's worked example; EAL_YAML as YAML/JSON.
"""
import json
import os
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import sltest as sl  # noqa: E402


def child(code):
    """Run code in a fresh interpreter with sltest importable: (exit, stdout)."""
    r = subprocess.run([sys.executable, "-c", "import sys; sys.path.insert(0, %r)\n" % HERE +
                        "import sltest as sl\n" + code], capture_output=True, text=True,
                       timeout=60)
    return r.returncode, r.stdout


def pcap_files(tmp):
    frames = [bytes(range(i, i + 20 + i)) for i in range(5)]
    a = os.path.join(tmp, "a.pcap")
    sl.write_pcap(a, frames)
    want = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1) + b"".join(
        struct.pack("<IIII", i, 0, len(f), len(f)) + f for i, f in enumerate(frames))
    with open(a, "rb") as f:
        sl.check(f.read() == want, "write_pcap: the bytes packed by hand")
    b = os.path.join(tmp, "b.pcap")
    sl.write_pcap(b, frames, snaplen=262144, stamp=sl.STAMP_USEC)
    hdr, recs = sl.read_pcap(b)
    sl.check(hdr == {"magic": 0xA1B2C3D4, "snaplen": 262144, "linktype": 1, "nsec": False,
                     "big": False} and [r.sec for r in recs] == [1] * 5 and
             [r.frac for r in recs] == list(range(5)), "STAMP_USEC header and stamps", repr(hdr))
    sl.check(sl.frames(a) == frames and sl.packets(a) == [(f, len(f)) for f in frames],
             "frames() and packets() read back what was written")
    recs = [(7, 999999999, 3, 60, b"abc"), (8, 1, 0, 0, b"")]
    c = os.path.join(tmp, "c.pcap")
    sl.write_records(c, recs, nsec=True, big=True, snaplen=100, linktype=101)
    with open(c, "rb") as f:
        d = f.read()
    sl.check(d[:4] == bytes.fromhex("a1b23c4d") and len(d) == 24 + 16 + 3 + 16,
             "big-endian nanosecond file laid out", d[:8].hex())
    hdr, got = sl.read_pcap(c)
    sl.check(hdr["nsec"] and hdr["big"] and hdr["linktype"] == 101 and hdr["snaplen"] == 100
             and got == recs, "big-endian nanosecond records read back", repr(got))
    return a, c


def failures(tmp, a, c):
    with open(a, "rb") as f:
        good = f.read()
    for name, data, needle in (("short", good[:10], "no pcap header"),
                               ("magic", b"\0" * 24, "not a pcap file"),
                               ("trailing", good + b"xy", "2 trailing bytes"),
                               ("cut", good[:-3], "record 4 cut short (21 of 24 bytes)")):
        p = os.path.join(tmp, name + ".pcap")
        with open(p, "wb") as f:
            f.write(data)
        rc, out = child("sl.read_pcap(%r)" % p)
        sl.check(rc == 1 and out.startswith("FAIL: " + p) and needle in out,
                 "read_pcap of a %s file: FAIL line, exit 1" % name, "%d %r" % (rc, out))
    rc, out = child("sl.frames(%r)" % c)
    sl.check(rc == 1 and "linktype 101, want 1" in out, "frames() wants Ethernet", out)
    rc, out = child("sl.check(True, 'a'); sl.check(False, 'b', 'why'); sl.check(1 == 1, 'c')\n"
                    "print(sl.failures()); sys.exit(sl.exit_code())")
    sl.check(rc == 1 and out == "ok a\nFAIL b: why\nok c\n1\n", "check() lines and exit code",
             repr(out))
    rc, out = child("sl.require(True, 'x'); sl.require(False, 'y'); print('after')")
    sl.check(rc == 1 and out == "FAIL: y\n", "require() fails", repr(out))
    # fail() stops what the test started; the process is gone afterwards
    pidfile = os.path.join(tmp, "pid")
    rc, out = child("p = sl.spawn(['sleep', '60'])\n"
                    "open(%r, 'w').write(str(p.pid))\n"
                    "sl.fail('stop it')" % pidfile)
    with open(pidfile) as f:
        pid = int(f.read())
    sl.check(rc == 1 and out == "FAIL: stop it\n" and not os.path.exists("/proc/%d" % pid),
             "fail() stops the spawned process", "%d %r" % (rc, out))
    rc, out = child("import subprocess\n"
                    "p = sl.spawn(['sleep', '60'], stderr=subprocess.PIPE)\n"
                    "sl.wait_for_path('/nonexistent/sock', p, 0.3)")
    sl.check(rc == 1 and out == "FAIL: no control socket after 0.3 s\n",
             "wait_for_path() times out with one line", repr(out))
    rc, out = child("import subprocess\n"
                    "p = sl.spawn(['sh', '-c', 'echo bye >&2; exit 3'], stderr=subprocess.PIPE)\n"
                    "sl.wait_for_path('/nonexistent/sock', p, 30)")
    sl.check(rc == 1 and out == "FAIL: engine exited: bye\n\n",
             "wait_for_path() names an engine that exited", repr(out))


def main():
    with tempfile.TemporaryDirectory(prefix="sl-sltest-") as tmp:
        a, c = pcap_files(tmp)
        failures(tmp, a, c)
    # RFC 1071 section 3's example: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2, checksum 220d
    sl.check(sl.csum(bytes.fromhex("0001f203f4f5f6f7")) == 0x220D, "csum: RFC 1071's example")
    sl.check(sl.csum(b"\x01") == 0xFEFF, "csum: an odd byte is the high half of a word")
    sl.check(json.loads(sl.EAL_YAML) == sl.EAL_ARGS == sl.EAL[1:] and sl.EAL[0] == "--",
             "EAL, EAL_ARGS and EAL_YAML agree")
    sl.check(sl.runtime_dir(42) == "/var/run/dpdk/sluice-42", "runtime_dir")
    print("sltest: %d failures" % sl.failures())
    return sl.exit_code()


if __name__ == "__main__":
    sys.exit(main())
