#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""`sluice replay` and sluice-replay stopped by a signal (engine/replay.c).

usage: test_replay_stop.py SLUICE SLUICE_REPLAY PCAPGEN PROTO_COUNT_OBJ

A stop signal ends the replay at its next check (before the first record,
then every 4096 records or, with several workers, before each chunk): what
ran is written whole and counted, one line on stderr says so, the report and
--json follow, and the process then dies of the signal (the parent sees it
as before). Checked here, with the expected outputs computed independently:
  - SIGINT while `sluice replay` starts: no record runs, the outputs hold
    only their file header, the JSON says rx 0;
  - SIGINT (and SIGTERM) mid-run, on the sequential loop (an XDP program,
    a socket filter's fast loop) and on several workers (--filter): the
    records run are a prefix of the input; the output and --drops equal
    tcpdump's over that prefix (written by this script), and the counters
    its record count;
  - a replay blocked on an output nobody reads: the first SIGINT is kept,
    the second acts at once.
Exit 0 pass, 1 fail, 77 skip (tcpdump missing).
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "../../tests/common"))
sys.path.insert(0, HERE)
from sltest import fail, read_pcap, write_records  # noqa: E402
import sltest as sl  # noqa: E402
from test_replay import Env, same_file  # noqa: E402


def start(cmd, cwd):
    return sl.spawn(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cwd)


def stopped_line(err, sig, n, src):
    want = "sluice replay: stopped by %s after %d records of %s: those are written and " \
           "counted, the rest is not read" % (sig, n, src)
    lines = [l for l in err.splitlines() if l.strip()]
    return lines == [want], lines


def case_start(env, src):
    """SIGINT as soon as the handlers are in: no record runs."""
    w, d, js = env.path("s.pcap"), env.path("sd.pcap"), env.path("s.json")
    p = start([env.sluice, "replay", "--no-progress", "--prog", env.obj, "-r", src, "-w", w,
               "--drops", d, "--json", js], env.tmp)
    t0 = time.monotonic()
    while not sl.catches_sigint(p.pid) and time.monotonic() - t0 < 10:
        time.sleep(0.0005)
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=120)
    ok, lines = stopped_line(err, "SIGINT", 0, src)
    if p.returncode != -signal.SIGINT or not ok:
        fail("start: exit %r, stderr %r" % (p.returncode, lines))
    with open(js) as f:
        st = json.load(f)["stats"]
    if st["rx"] or st["tx"] or read_pcap(w)[1] or read_pcap(d)[1]:
        fail("start: records ran: %r" % st)
    if "sluice: replayed 0 records" not in out:
        fail("start: report %r" % out[:300])
    print("ok start: SIGINT while starting: 0 records, header-only outputs, report, died of "
          "SIGINT")


def run_interrupted(env, cmd, out_path, sig):
    """cmd until out_path has a record, then sig; (returncode, stdout, stderr), or
    None when the replay ended first."""
    p = start(cmd, env.tmp)
    while p.poll() is None:
        try:
            if os.path.getsize(out_path) > 24:
                break
        except OSError:
            pass
        time.sleep(0.0005)
    if p.poll() is not None:
        p.communicate()
        return None
    p.send_signal(sig)
    out, err = p.communicate(timeout=120)
    return p.returncode, out, err


def prefix_truth(env, src, n, expr, tag):
    """The first n records of src: tcpdump's kept ones over them, and the
    others in order (a record a filter cannot read far enough is in neither
    "EXPR" nor "not (EXPR)": the complement is taken here)."""
    hdr, recs = read_pcap(src)
    pre = env.path("pre-%s.pcap" % tag)
    write_records(pre, [tuple(r) for r in recs[:n]], snaplen=hdr["snaplen"])
    want, wdrop = env.path("want-%s.pcap" % tag), env.path("wdrop-%s.pcap" % tag)
    r = env.tcpdump_w(pre, expr, want)
    if r.returncode != 0:
        fail("tcpdump %r: %s" % (expr, r.stderr))
    kept, k, drops = read_pcap(want)[1], 0, []
    for rec in recs[:n]:  # a stateless filter: equal records, equal verdicts
        if k < len(kept) and rec == kept[k]:
            k += 1
        else:
            drops.append(tuple(rec))
    if k != len(kept):
        fail("%s: tcpdump kept records that are not in the input" % tag)
    write_records(wdrop, drops, snaplen=hdr["snaplen"])
    return len(recs), want, wdrop


def case_mid(env, src, label, exe, args, expr, sig):
    w, d, js = (env.path("%s.%s" % (label, x)) for x in ("out", "drops", "json"))
    cmd = exe + ["--no-progress"] + args + ["-r", src, "-w", w, "--drops", d, "--json", js]
    for _ in range(3):  # a machine fast enough to finish first: try again, then say so
        for f in (w, d, js):  # not the finished try's output: it would be signalled at once
            if os.path.exists(f):
                os.unlink(f)
        res = run_interrupted(env, cmd, w, sig)
        if res:
            break
    if not res:
        fail("%s: the replay always ended before the signal" % label)
    rc, out, err = res
    with open(js) as f:
        st = json.load(f)["stats"]
    n = st["rx"]
    ok, lines = stopped_line(err, signal.Signals(sig).name, n, src)
    if rc != -sig or not ok:
        fail("%s: exit %r, stderr %r" % (label, rc, lines))
    total, want, wdrop = prefix_truth(env, src, n, expr, label)
    if not 0 < n < total:
        fail("%s: %d of %d records ran" % (label, n, total))
    same_file(w, want, "%s -w" % label)
    same_file(d, wdrop, "%s --drops" % label)
    kept = len(read_pcap(want)[1])
    if st["tx"] != kept or st["tx"] + st["drop"] + st["error"] != n:
        fail("%s: counters %r, %d kept of %d" % (label, st, kept, n))
    if "sluice: replayed %d records" % n not in out:
        fail("%s: report %r" % (label, out[:300]))
    print("ok %s: %s after %d of %d records: -w and --drops = tcpdump over those, counters "
          "exact, died of it" % (label, signal.Signals(sig).name, n, total))


def case_twice(env, src):
    """-w - into a pipe nobody reads: the replay blocks on it and cannot reach
    its next check; the first SIGINT is kept, the second acts at once."""
    p = sl.spawn([env.sluice, "replay", "--no-progress", "--prog", env.obj, "-r", src, "-w", "-"],
                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=env.tmp)  # bytes
    p.stdout.read(24)  # it writes: running; 60 MB of output fill the 64 KiB pipe at once
    time.sleep(0.5)
    p.send_signal(signal.SIGINT)
    time.sleep(0.5)
    if p.poll() is not None:
        fail("twice: the first SIGINT ended a replay blocked on its output (exit %r)"
             % p.returncode)
    p.send_signal(signal.SIGINT)
    try:
        p.wait(timeout=10)
    except subprocess.TimeoutExpired:
        fail("twice: a second SIGINT did not end the blocked replay")
    p.communicate()
    if p.returncode != -signal.SIGINT:
        fail("twice: exit %r" % p.returncode)
    print("ok twice: blocked on an unread output, the first SIGINT kept, the second acts at once")


def main():
    if len(sys.argv) != 5:
        print(__doc__)
        return 2
    sluice, lean, pcapgen, obj = map(os.path.abspath, sys.argv[1:5])
    if not shutil.which("tcpdump") and not os.path.exists("/usr/bin/tcpdump"):
        print("SKIP: tcpdump missing")
        return 77
    with sl.tmpdir("sl-replay-stop-") as tmp:
        os.chmod(tmp, 0o755)
        env = Env(sluice, pcapgen, tmp)
        env.obj = obj
        src = env.gen("big.pcap", 600000, 21, ("-p", "64"))
        case_start(env, src)
        xdp = ["--prog", obj]
        case_mid(env, src, "xdp", [sluice, "replay"], xdp, "", signal.SIGINT)
        case_mid(env, src, "xdp-lean", [lean], xdp, "", signal.SIGTERM)
        case_mid(env, src, "filter-1", [lean], ["--filter", "udp", "--workers", "1"], "udp",
                 signal.SIGINT)
        case_mid(env, src, "filter-2", [sluice, "replay"], ["--filter", "tcp", "--workers", "2"],
                 "tcp", signal.SIGINT)
        case_twice(env, src)
    return 0


if __name__ == "__main__":
    sys.exit(main())
