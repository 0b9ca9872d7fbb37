#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Before/after figures of two sluice builds, in one run (issue 17: the
house-keeping must leave behaviour exactly as it was).

  scripts/before-after.py BEFORE_BUILD AFTER_BUILD [--suites S ...] [--pcap F]

Each build dir is a configured and built meson build of its own source tree
(e.g. a `git worktree add` of the older commit). Printed, as tables:

1. Tests: meson's test names per suite in each build (`meson test --list`),
   and the names only one side has.
2. Cases: with --suites, those suites run in both builds, alternating
   (before, after, suite by suite; `--num-processes 1`), and per test its
   result, its "ok" lines, for a C test on tests/common the "N checks" of
   its closing line, and the case counts its own summary lines give ("111
   cases", "41 objects"...; not for the timed fuzzers). A test in both
   builds whose ok lines or case counts differ, or that does not pass
   after, is flagged (exit 1).
3. Figures that do not depend on the machine's load, alternating before
   and after per program: for every example program (the AFTER build's
   examples/*.bpf.o, so only the engine differs) run by `sluice bench
   --repeat 1` under callgrind, the instructions executed inside
   pass_interp / pass_jit (the bench's per-engine loop over the packets:
   a warm-up pass plus 7 runs) divided by 8 x packets; the JIT's code
   size; the verifier's instructions processed (the verifier corpus
   runner's accept line, vm/tests/test_verifier).
4. Test code lines (C, headers and Python under */tests/ and tests/, no
   .bpf.c programs) of each build's source tree, from git.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile


def source_root(build):
    with open(os.path.join(build, "meson-info", "meson-info.json")) as f:
        return json.load(f)["directories"]["source"]


def test_names(build):
    out = subprocess.run(["meson", "test", "-C", build, "--list", "--no-rebuild"],
                         capture_output=True, text=True, check=True).stdout
    names = {}
    for line in out.splitlines():
        m = re.match(r"^\S+:(\S+) / (\S+)$", line.strip())
        if m:
            names[m.group(2)] = m.group(1)
    return names


CASES = re.compile(r"\b(\d+) (?:cases|objects|programs|expressions|replays)\b")


def run_suite(build, suite, tag):
    """{test: (result, ok lines, checks or None, case figures)} of one suite
    run; case figures: the numbers before "cases", "objects", "programs"...
    in the test's own summary lines, in order (the fuzzers' counts of random
    programs in a timed run excepted)."""
    logbase = "before-after-" + tag
    subprocess.run(["nice", "meson", "test", "-C", build, "--no-rebuild", "--suite", suite,
                    "--num-processes", "1", "--logbase", logbase],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    res = {}
    path = os.path.join(build, "meson-logs", logbase + ".json")
    if not os.path.exists(path):
        return res
    with open(path) as f:
        for line in f:
            d = json.loads(line)
            out = (d.get("stdout") or "").splitlines()
            oks = sum(1 for l in out if re.match(r"^ok\b", l, re.I))
            checks = None
            for l in out:
                m = re.match(r"^\S+: (\d+) checks, \d+ failures", l)
                if m:
                    checks = int(m.group(1))
            name = d["name"].split(" / ")[-1]
            figs = () if "fuzz" in name else tuple(
                int(x) for l in out if not l.startswith("ok") for x in CASES.findall(l))
            res[name] = (d["result"], oks, checks, figs)
    return res


def callgrind_ir(sluice, obj, pcap, engine, tmp):
    """(instructions per packet in pass_<engine>, JIT code bytes or None)."""
    out = os.path.join(tmp, "cg.out")
    r = subprocess.run(["nice", "valgrind", "--tool=callgrind", "--callgrind-out-file=" + out,
                        "--toggle-collect=pass_" + engine, sluice, "bench", "--prog", obj,
                        "--pcap", pcap, "--repeat", "1", "--" + engine],
                       capture_output=True, text=True)
    m = re.search(r"(\d+) packets x 1 repeats", r.stdout)
    c = re.search(r"Collected : (\d+)", r.stderr)
    if r.returncode != 0 or not m or not c:
        return None, None
    size = re.search(r"sluice jit code = (\d+) bytes", r.stdout)
    return int(c.group(1)) / (8 * int(m.group(1))), int(size.group(1)) if size else None


def verify(build, obj):
    """[(section, insns, processed, states)]: the verifier corpus runner's
    accept line (vm/tests/test_verifier, which gives raw programs 4 KiB of
    memory as the bench does), else `sluice verify`."""
    runner = os.path.join(build, "vm", "tests", "test_verifier")
    if os.path.exists(runner):
        r = subprocess.run([runner, "accept", obj], capture_output=True, text=True)
        pat = r"\[([^\]]*)\]: (\d+) insns, (\d+) processed, (\d+) states"
    else:
        r = subprocess.run([os.path.join(build, "engine", "sluice"), "verify", obj],
                           capture_output=True, text=True)
        pat = r"section '([^']*)'.*?: (\d+) insns, (\d+) processed, (\d+) states"
    return [(m.group(1), int(m.group(2)), int(m.group(3)), int(m.group(4))) for m in
            re.finditer(pat, r.stdout)]


def test_lines(src):
    """{path: lines} of the test code (C, headers, Python under */tests/ and
    tests/, no .bpf.c programs) that git tracks in the tree src."""
    files = subprocess.run(["git", "-C", src, "ls-files"], capture_output=True, text=True,
                           check=True).stdout.split()
    out = {}
    for f in files:
        if re.search(r"(^|/)tests/", f) and re.search(r"\.(c|h|py)$", f) \
                and not f.endswith(".bpf.c"):
            with open(os.path.join(src, f), "rb") as fh:
                out[f] = fh.read().count(b"\n")
    return out


def fmt_delta(a, b):
    if a is None or b is None:
        return "-"
    return "=" if a == b else "%+.1f%%" % (100.0 * (b - a) / a if a else 0)


def side(r):
    if not r:
        return "(absent)"
    return "%s %d %s %s" % (r[0], r[1], r[2] if r[2] is not None else "-",
                            "/".join(map(str, r[3])) or "-")


def tables_tests(before, after, suites):
    nb, na = test_names(before), test_names(after)
    print("== tests (meson test --list)")
    print("%-12s %7s %7s" % ("suite", "before", "after"))
    for s in sorted(set(nb.values()) | set(na.values())):
        print("%-12s %7d %7d" % (s.split(":")[-1], sum(1 for v in nb.values() if v == s),
                                 sum(1 for v in na.values() if v == s)))
    print("%-12s %7d %7d" % ("total", len(nb), len(na)))
    only_b, only_a = sorted(set(nb) - set(na)), sorted(set(na) - set(nb))
    print("only before: %s" % (", ".join(only_b) or "none"))
    print("only after:  %s" % (", ".join(only_a) or "none"))
    bad = 0
    for s in suites:
        rb, ra = run_suite(before, s, "before"), run_suite(after, s, "after")
        print("\n== suite %s: result, ok lines, checks, the test's case figures "
              "(before | after)" % s)
        for t in sorted(set(rb) | set(ra)):
            b, a = rb.get(t), ra.get(t)
            flag = ""
            if b and a and (b[1] != a[1] or b[3] != a[3] or a[0] not in ("OK", "SKIP")):
                flag, bad = "  <-- differs", bad + 1
            print("  %-28s %-30s | %s%s" % (t, side(b), side(a), flag))
    return bad


def tables_figures(before, after, pcap):
    sb = os.path.join(before, "engine", "sluice")
    sa = os.path.join(after, "engine", "sluice")
    objs = sorted(f for f in os.listdir(os.path.join(after, "examples")) if f.endswith(".bpf.o"))
    print("\n== instructions per packet (callgrind, sluice bench --repeat 1 over %s), JIT code bytes,"
          % os.path.basename(pcap))
    print("   verifier instructions processed; each program's object from the after build")
    print("%-20s %9s %9s %6s %9s %9s %6s %6s %6s %7s %7s" % (
        "program", "interp-b", "interp-a", "d", "jit-b", "jit-a", "d", "code-b", "code-a",
        "proc-b", "proc-a"))
    diffs = 0
    with tempfile.TemporaryDirectory(prefix="sl-before-after-") as tmp:
        for o in objs:
            obj = os.path.join(after, "examples", o)
            ib, _ = callgrind_ir(sb, obj, pcap, "interp", tmp)
            ia, _ = callgrind_ir(sa, obj, pcap, "interp", tmp)
            jb, cb = callgrind_ir(sb, obj, pcap, "jit", tmp)
            ja, ca = callgrind_ir(sa, obj, pcap, "jit", tmp)
            vb, va = verify(before, obj), verify(after, obj)
            pb = sum(v[2] for v in vb) if vb else None
            pa = sum(v[2] for v in va) if va else None
            if (ib, jb, cb, pb) != (ia, ja, ca, pa):
                diffs += 1
            print("%-20s %9s %9s %6s %9s %9s %6s %6s %6s %7s %7s" % (
                o[:-6], "%.1f" % ib if ib else "-", "%.1f" % ia if ia else "-", fmt_delta(ib, ia),
                "%.1f" % jb if jb else "-", "%.1f" % ja if ja else "-", fmt_delta(jb, ja),
                cb or "-", ca or "-", pb if pb is not None else "-",
                pa if pa is not None else "-"))
    print("programs with any figure changed: %d of %d" % (diffs, len(objs)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("before")
    ap.add_argument("after")
    ap.add_argument("--suites", nargs="*", default=[], help="suites to run in both builds")
    ap.add_argument("--pcap", help="capture for sluice bench (default: AFTER/pktgen-tests/demo.pcap)")
    ap.add_argument("--no-figures", action="store_true", help="tests and line counts only")
    a = ap.parse_args()
    for b in (a.before, a.after):
        if not os.path.exists(os.path.join(b, "engine", "sluice")):
            print("before-after: %s: no engine/sluice (not a built sluice build dir)" % b)
            return 1
    bad = tables_tests(a.before, a.after, a.suites)
    if not a.no_figures:
        tables_figures(a.before, a.after,
                       a.pcap or os.path.join(a.after, "pktgen-tests", "demo.pcap"))
    print("\n== test code lines (C, headers, Python under */tests/ and tests/, no .bpf.c)")
    lb, la = test_lines(source_root(a.before)), test_lines(source_root(a.after))
    both = set(lb) & set(la)
    print("before  %5d files %7d lines" % (len(lb), sum(lb.values())))
    print("after   %5d files %7d lines" % (len(la), sum(la.values())))
    print("files in both: %d -> %d lines; new after: %d files, %d lines (of which tests/common: "
          "%d); gone: %d files, %d lines" % (
              sum(lb[f] for f in both), sum(la[f] for f in both), len(set(la) - both),
              sum(la[f] for f in set(la) - both),
              sum(la[f] for f in set(la) - both if f.startswith("tests/common/")),
              len(set(lb) - both), sum(lb[f] for f in set(lb) - both)))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
