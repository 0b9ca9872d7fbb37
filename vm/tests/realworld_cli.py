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
import tempfile

sluice, d = sys.argv[1], sys.argv[2]
failures = 0


def run(*args):
    p = subprocess.run([sluice] + list(args), capture_output=True, text=True, timeout=60)
    return p.returncode, p.stdout, p.stderr


def check(cond, what, detail=""):
    global failures
    if not cond:
        failures += 1
        print(f"FAIL {what}: {detail}")
    else:
        print(f"ok {what}")


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
with tempfile.TemporaryDirectory() as t:
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

print(f"realworld cli: {failures} failures")
sys.exit(1 if failures else 0)
