#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""The object options of every command (issue 13): --type, --map-size,
section names, --section taking a program name and failing with it, error
lines naming section and program, kfuncs by name; and (issue 15) `sluice
verify` of an object with 128 MiB + 4M-entry maps stays far below their
size in peak resident memory.
  realworld_cli.py SLUICE DIR   (DIR holds the rw_*.bpf.o)"""
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../tests/common"))
from sltest import check, csum  # noqa: E402
import sltest as sl  # noqa: E402

sluice, d = sys.argv[1], sys.argv[2]


def run(*args):
    p = subprocess.run([sluice] + list(args), capture_output=True, text=True, timeout=60)
    return p.returncode, p.stdout, p.stderr


sec = os.path.join(d, "rw_sections.bpf.o")
bad = os.path.join(d, "rw_bad.bpf.o")
kf = os.path.join(d, "rw_kfunc.bpf.o")

rc, out, err = run("verify", sec)
check(rc == 1 and "map 'unsized'" in err and "--map-size unsized=N" in err and
      err.count("\n") == 1, "unsized map: one line naming the map and the flag", err)
rc, out, err = run("verify", sec, "--map-size", "unsized=16")
check(rc == 0 and "section 'xdp_stats1' program 'stats1'" in out and
      "section 'socket1' program 'sock1'" in out and "custom" not in out,
      "pre-1.0 section names recognised, custom section not", out + err)
rc, out, err = run("verify", sec, "--map-size", "unsized=16", "--type", "xdp")
# sock1 reads __sk_buff->len, which as an XDP program is xdp_md->data: a pointer
check(rc == 1 and out.count("OK ") == 2 and "section 'prog' program 'custom'" in out and
      "section 'socket1' program 'sock1'" in err, "--type xdp: every function a program",
      out + err)
rc, out, err = run("verify", sec, "--map-size", "unsized=16", "--section", "custom")
check(rc == 1 and "no section or program named 'custom'" in err, "custom without --type", err)
for cmd in (["disasm"], ["verify", "-v"]):
    rc, out, err = run(*cmd, sec, "--map-size", "unsized=16", "--type", "xdp", "--section",
                       "prog")
    check(rc == 0 and "exit" in out, f"{cmd[0]} --type xdp --section prog", err)
rc, out, err = run("verify", sec, "--map-size", "unsized=x")
check(rc == 2 and "--map-size 'unsized=x'" in err and err.count("\n") == 1,
      "bad --map-size value", err)
rc, out, err = run("verify", sec, "--type", "tc")
check(rc == 2 and "--type 'tc'" in err, "bad --type", err)

# an object whose custom sections need --type
with sl.tmpdir() as t:
    pkt = os.path.join(t, "pkt.bin")
    with open(pkt, "wb") as f:
        f.write(bytes(60))
    rc, out, err = run("test-run", "--prog", sec, "--map-size", "unsized=16", "--type", "xdp",
                       "--section", "custom", "--data", pkt)
    check(rc == 0 and "XDP_DROP" in out, "test-run --type xdp: empty CPUMAP entry falls back",
          out + err)

    rc, out, err = run("test-run", "--prog", os.path.join(d, "rw_meta.bpf.o"), "--data", pkt)
    lines = out.split("\n")
    check(rc == 0 and "metadata: 4 bytes" in lines and
          lines[lines.index("metadata: 4 bytes") + 1].split()[1:] == ["01", "02", "03", "04"] and
          "packet: 60 bytes" in lines, "test-run shows data_meta", out + err)

# bpf_fib_lookup: a router (verifier accept test object) through test-run --fib
router = os.path.join(d, "xdp_fib_router.v1.bpf.o")


def ipv4_frame(dst, total=60, ttl=64):
    ip = bytearray(20)
    ip[0], ip[8], ip[9] = 0x45, ttl, 17
    ip[2:4] = (total - 14).to_bytes(2, "big")
    ip[12:16] = bytes([10, 0, 0, 1])
    ip[16:20] = bytes(int(x) for x in dst.split("."))
    ip[10:12] = csum(bytes(ip)).to_bytes(2, "big")
    frame = bytes.fromhex("020000000001" "0a0b0c0d0e0f" "0800") + bytes(ip)
    return frame + bytes(total - len(frame))


def ipv6_frame(dst_hex, hop=64):
    ip6 = bytearray(40)
    ip6[0], ip6[6], ip6[7] = 0x60, 17, hop
    ip6[4:6] = (8).to_bytes(2, "big")
    ip6[8:24] = bytes.fromhex("20010db8000200000000000000000001")
    ip6[24:40] = bytes.fromhex(dst_hex)
    return bytes.fromhex("020000000001" "0a0b0c0d0e0f" "86dd") + bytes(ip6) + bytes(8)


def test_run_pkt(frame, fib):
    with sl.tmpdir() as t:
        pkt = os.path.join(t, "pkt.bin")
        with open(pkt, "wb") as f:
            f.write(frame)
        args = ["test-run", "--prog", router, "--data", pkt] + (["--fib", fib] if fib else [])
        rc, out, err = run(*args)
    verdict = out.split("\n")[0] if out else err
    body = bytes.fromhex("".join(l.split(":", 1)[1] for l in out.split("\n")
                                 if len(l) > 5 and l[4] == ":" and l[:4].strip().isalnum()))
    return rc, verdict, body


with sl.tmpdir() as t:
    fib = os.path.join(t, "fib.txt")
    with open(fib, "w") as f:
        f.write("# ports: ingress 1, egress 2-4\n"
                "port 1 mac 02:00:00:00:00:01\n"
                "port 2 mac 02:00:00:00:00:02 mtu 1500 addr 192.168.1.1\n"
                "port 3 mac 02:00:00:00:00:03 addr6 2001:db8:1::1\n"
                "port 4 mac 02:00:00:00:00:04 mtu 1000\n"
                "route 192.168.2.0/24 via 192.168.1.254 dev 2 metric 10\n"
                "route 10.9.0.0/16 blackhole\n"
                "route 10.10.0.0/16 prohibit\n"
                "route 172.16.0.0/12 dev 2\n"
                "route 198.51.100.0/24 dev 4\n"
                "route 2001:db8:1::/48 via fe80::1 dev 3\n"
                "neigh 192.168.1.254 lladdr 02:aa:bb:cc:dd:ee dev 2\n"
                "neigh 198.51.100.9 lladdr 02:44:44:44:44:44 dev 4\n"
                "neigh fe80::1 lladdr 02:11:22:33:44:55 dev 3\n")
    frame = ipv4_frame("192.168.2.7")
    rc, v, body = test_run_pkt(frame, fib)
    want = bytearray(frame)
    want[0:6] = bytes.fromhex("02aabbccddee")
    want[6:12] = bytes.fromhex("020000000002")
    want[14 + 8] = 63
    want[24:26] = b"\0\0"
    want[24:26] = csum(bytes(want[14:34])).to_bytes(2, "big")
    check(rc == 0 and "XDP_REDIRECT" in v and body == bytes(want),
          "fib: IPv4 via a gateway: MACs, TTL, checksum, redirect", f"{v} {body.hex()}")
    for dst, verdict, what in (("10.9.1.1", "XDP_DROP", "blackhole"),
                               ("10.10.1.1", "XDP_DROP", "prohibit"),
                               ("172.16.0.5", "XDP_PASS", "no neighbour"),
                               ("8.8.8.8", "XDP_PASS", "no route")):
        rc, v, body = test_run_pkt(ipv4_frame(dst), fib)
        check(rc == 0 and verdict in v and (verdict == "XDP_DROP" or body == ipv4_frame(dst)),
              f"fib: {what} -> {verdict}", v)
    rc, v, body = test_run_pkt(ipv4_frame("198.51.100.9", total=1414), fib)
    check(rc == 0 and "XDP_PASS" in v, "fib: above the egress MTU -> frag needed -> pass", v)
    rc, v, body = test_run_pkt(ipv4_frame("198.51.100.9", total=1000), fib)
    check(rc == 0 and "XDP_REDIRECT" in v and body[0:6] == bytes.fromhex("024444444444"),
          "fib: within the MTU -> redirect", v)
    frame = ipv6_frame("20010db8000100000000000000000005")
    rc, v, body = test_run_pkt(frame, fib)
    want = bytearray(frame)
    want[0:6] = bytes.fromhex("021122334455")
    want[6:12] = bytes.fromhex("020000000003")
    want[14 + 7] = 63
    check(rc == 0 and "XDP_REDIRECT" in v and body == bytes(want),
          "fib: IPv6 via a link-local gateway", f"{v} {body.hex()}")
    rc, v, body = test_run_pkt(ipv4_frame("192.168.2.7"), None)
    check(rc == 0 and "XDP_PASS" in v, "fib: no --fib: -ENODEV -> pass", v)
    with open(fib, "a") as f:
        f.write("route 10.0.0.0/33 dev 2\n")
    rc, v, body = test_run_pkt(ipv4_frame("192.168.2.7"), fib)
    check(rc == 2 - 1 and f"{fib}:15: route: expected PREFIX/LEN" in v, "fib: bad line named", v)

rc, out, err = run("verify", bad, "--section", "bad_read")
check(rc == 1 and "section 'xdp' program 'bad_read'" in err and "OK" not in out,
      "--section naming a failing program fails with its name", out + err)
rc, out, err = run("verify", bad, "--section", "good_one")
check(rc == 0 and "program 'good_one'" in out and "bad_read" not in out + err,
      "--section naming a good program", out + err)
rc, out, err = run("verify", bad, "--section", "xdp")
check(rc == 1 and "program 'good_one'" in out and "program 'bad_read'" in err,
      "--section xdp: both programs of the section", out + err)
rc, out, err = run("verify", kf)
check(rc == 1 and "'bpf_xdp_ct_lookup', 'bpf_ct_release'" in err and
      "kfuncs are not supported" in err, "kfuncs named", err)

# peak resident memory of verify over 128 MiB + 4M-entry hash (~300 MiB when full),
# from this one child's rusage
proc = subprocess.Popen([sluice, "verify", bad, "--section", "good_one"],
                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
_, status, usage = os.wait4(proc.pid, 0)
proc.returncode = 0
peak_kib = usage.ru_maxrss
check(os.waitstatus_to_exitcode(status) == 0 and peak_kib < 64 * 1024,
      f"verify peak resident {peak_kib} KiB with maps costing ~300 MiB when full",
      f"status {status}")

print(f"realworld cli: {sl.failures()} failures")
sys.exit(sl.exit_code())
