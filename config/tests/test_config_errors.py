#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""The corpus of broken configs and preload files (config/tests/bad/).

usage: test_config_errors.py SLUICE BLOCKLIST_OBJ ANYSECTION_OBJ BAD_DIR [--print]

Each bad/NAME.yaml starts with "# expect: MESSAGE", the one line
`sluice run --check -c NAME.yaml` must print on stderr (exit 1, nothing on
stdout). {file} in MESSAGE stands for the config's path, {dir} for its
directory. The case runs in a fresh directory holding the config, any
bad/NAME*.txt preload files, and the example blocklist object as
blocklist.o (maps block4, block6: LPM tries; counters: a per-CPU array of 3),
and anysection.o (one XDP program in section "fw/main", which only
program.type: xdp makes a program).
--print shows what sluice says for every case instead of checking.
CLI_CASES below are command-line overrides, each with its expected line and
exit code (2: the command line is wrong, 1: a file is).
"""
import glob
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../tests/common"))
import sltest as sl  # noqa: E402


CLI_CASES = [
    (["--prog", "blocklist.o", "--port", "net_null0", "--forward", "0:5"],
     "sluice run: --forward 0:5: no port '5', want a port index (0..0) or name, drop or self", 2),
    (["--prog", "blocklist.o", "--port", "net_null0", "--forward", "wan:0"],
     "sluice run: --forward wan:0: no port 'wan', want a port index (0..0) or name", 2),
    (["--prog", "blocklist.o", "--port", "net_null0", "--forward", "0"],
     "sluice run: --forward: want IN:OUT (a port index or name, then a port index or name, "
     "drop or self), not '0'", 2),
    (["--prog", "blocklist.o", "--port", "net_null0", "--map", "block9=x.txt"],
     "sluice run: --map block9: the object defines no map 'block9', want one of: block4, "
     "block6, counters", 1),
    (["--prog", "blocklist.o", "--port", "net_null0", "--map", "block4"],
     "sluice run: --map: want NAME=FILE, not 'block4'", 2),
    (["--prog", "blocklist.o", "--port", "net_null0", "--map", "block4=nosuch.txt"],
     "sluice run: --map block4: 'nosuch.txt': No such file or directory, want a readable "
     "preload file", 1),
    (["--port", "net_null0"],
     "sluice run: no program, want program: {object: FILE.o} or --prog FILE.o", 2),
    (["--prog", "blocklist.o"], "sluice run: no ports, want ports: [...] or --port DEVSTR", 2),
    (["--prog", "blocklist.o", "--port", "net_null0", "--port", "net_null0"],
     "sluice run: port 'net_null0' given twice, want each port once (or a name: to tell them "
     "apart)", 2),
    (["--prog", "blocklist.o", "--port", "eth0"],
     "sluice run: --port: 'eth0' is neither a virtual device (net_<driver>[N][,key=value...]) "
     "nor a PCI address (0000:01:00.0), want one of them", 2),
]


def cli_cases(sluice, obj, show):
    fails = 0
    with sl.tmpdir("sluice-badcli-") as tmp:
        shutil.copy(obj, os.path.join(tmp, "blocklist.o"))
        for args, want, code in CLI_CASES:
            r = subprocess.run([sluice, "run", "--check"] + args, capture_output=True,
                               text=True, timeout=60, cwd=tmp)
            if show:
                print("%s [%d]: %s" % (" ".join(args), r.returncode, r.stderr.rstrip("\n")))
            elif r.returncode != code or r.stdout or r.stderr != want + "\n":
                print("FAIL %s: exit %d\n  got  %r\n  want %r" % (" ".join(args), r.returncode,
                                                                 r.stderr, want + "\n"))
                fails += 1
    return fails


def type_case(sluice, anysec):
    """program.type: xdp makes a program of a section named "fw/main"; --type socket over it."""
    fails = 0
    with sl.tmpdir("sluice-type-") as tmp:
        shutil.copy(anysec, os.path.join(tmp, "anysection.o"))
        cfg = os.path.join(tmp, "t.yaml")
        with open(cfg, "w") as f:
            f.write("program: {object: anysection.o, type: xdp}\nports:\n  - {device: net_null0}\n")
        r = subprocess.run([sluice, "run", "--check", "-c", cfg], capture_output=True, text=True,
                           timeout=60)
        want = ("sluice: %s: ok: program 'fw/main' (jit) verified, 1 port, 1 worker, "
                "0 preloaded map entries\n" % cfg)
        if r.returncode or r.stdout != want:
            print("FAIL program.type xdp: exit %d %r %r" % (r.returncode, r.stdout, r.stderr))
            fails += 1
        r = subprocess.run([sluice, "run", "--check", "-c", cfg, "--type", "socket"],
                           capture_output=True, text=True, timeout=60)
        if r.returncode != 1 or "rejected by the verifier" not in r.stderr:
            print("FAIL --type socket over program.type: exit %d %r" % (r.returncode, r.stderr))
            fails += 1
    return fails


def main():
    if len(sys.argv) not in (5, 6):
        print(__doc__)
        return 2
    sluice, obj, anysec, bad = (os.path.abspath(a) for a in sys.argv[1:5])
    show = len(sys.argv) == 6
    cases = sorted(glob.glob(os.path.join(bad, "*.yaml")))
    fails = 0
    for case in cases:
        name = os.path.basename(case)[:-5]
        with open(case) as f:
            first = f.readline().rstrip("\n")
        if not first.startswith("# expect: "):
            print("FAIL %s: no '# expect: ' first line" % name)
            fails += 1
            continue
        with sl.tmpdir("sluice-bad-") as tmp:
            cfg = os.path.join(tmp, name + ".yaml")
            shutil.copy(case, cfg)
            for txt in glob.glob(os.path.join(bad, name + "*.txt")):
                shutil.copy(txt, tmp)
            shutil.copy(obj, os.path.join(tmp, "blocklist.o"))
            shutil.copy(anysec, os.path.join(tmp, "anysection.o"))
            want = first[len("# expect: "):].replace("{file}", cfg).replace("{dir}", tmp)
            r = subprocess.run([sluice, "run", "--check", "-c", cfg], capture_output=True,
                               text=True, timeout=60)
            got = r.stderr.replace(tmp, "{dir}").replace("{dir}/" + name + ".yaml", "{file}")
            if show:
                print("%s [%d]: %s" % (name, r.returncode, got.rstrip("\n")))
                continue
            if r.returncode != 1 or r.stdout or r.stderr != want + "\n":
                print("FAIL %s: exit %d\n  got  %r\n  want %r" % (name, r.returncode,
                                                                   r.stderr, want + "\n"))
                fails += 1
    fails += cli_cases(sluice, obj, show)
    fails += type_case(sluice, anysec)
    if not show:
        print("%d cases, %d failed" % (len(cases) + len(CLI_CASES), fails))
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
