#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Tests of the operations features (issue 14): capture by verdict, maps
that survive a restart.

usage: test_ops.py SLUICE PCAPGEN VERDICTS_OBJ CASE [CTL_COUNT_V1_OBJ CTL_COUNT_V3_OBJ]

A running engine on endless traffic: net_pcap with infinite_rx replaying a
generated file into port 0 (verdicts.bpf.c: the verdict is chosen by byte 11
of each frame), port 1 a net_null sink. Expected records come from this
script's own reading of the pcap file and the program's rules
(engine/tests/progs/verdicts.bpf.c), never from sluice.
Exit 0 pass, 1 fail, 77 skip (net_pcap missing). Every process the test
starts goes through spawn() (tests/common/sltest.py); on any failure
(fail(), a timeout, an exception) the test's temporary directory stops
those still running and removes the DPDK runtime directory
(/var/run/dpdk/sluice-PID) of each engine it had to kill.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../../tests/common"))
from sltest import EAL, fail, run, spawn  # noqa: E402
import sltest as sl  # noqa: E402


def verdict_of(data):
    """(verdict, bytes after the program) of verdicts.bpf.c with port 1 driven."""
    if len(data) < 12:
        return "pass", data
    sel, flag, big = data[11] % 6, data[10], len(data) >= 64
    if sel in (0, 5):
        return "aborted", data
    if sel == 1:
        return "drop", data
    if sel == 2:
        return "pass", data[4:] if flag & 1 and big else data
    if sel == 3:
        return "tx", data[:-10] if flag & 4 and big else data
    return ("redirect" if flag & 2 else "redirect_failed"), data


class Engine:
    def __init__(self, sluice, pcap, prog, tmp, extra=()):
        self.sluice, self.tmp = sluice, tmp
        self.sock = os.path.join(tmp, "ctl.sock")
        self.json = os.path.join(tmp, "final.json")
        cmd = [sluice, "run", "--quiet", "--prog", prog, "--json", self.json,
               "--port", "net_pcap0,rx_pcap=%s,infinite_rx=1" % pcap,
               "--port", "net_null0,no-rx=1", "--ctl-socket", self.sock,
               "--duration", "150"] + list(extra) + EAL
        self.proc = spawn(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        sl.wait_for_path(self.sock, self.proc, 20)

    def ctl(self, *args, ok=True, timeout=120):
        r = run([self.sluice, "ctl", "--socket", self.sock] + list(args), timeout)
        if ok and r.returncode != 0:
            fail("sluice ctl %s: exit %d: %s" % (" ".join(args), r.returncode,
                                                 r.stderr.decode().strip()))
        return r

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        _, err = self.proc.communicate(timeout=60)
        if self.proc.returncode != 0:
            fail("engine exit %d: %s" % (self.proc.returncode, err.strip()))
        with open(self.json) as f:
            return json.load(f)


def lost_of(stderr):
    # "sluice ctl: capture: N packets (R records) written to F, L lost (...)"
    words = stderr.split()
    return int(words[words.index("lost") - 1])


def check_sequence(recs, frames, want_verdicts, both, lost, label):
    """Records must be the chosen frames of the endless input, in order,
    with at most `lost` of them missing; with --both each followed by its
    after-program bytes."""
    chosen = [(d, a) for d, a in ((f, verdict_of(f)) for f in frames)
              if a[0] in want_verdicts]
    if not chosen:
        fail("%s: the test input has no frame with verdict %r" % (label, want_verdicts))
    step = 2 if both else 1
    if len(recs) % step:
        fail("%s: %d records with --both" % (label, len(recs)))
    pos, skipped = None, 0
    for i in range(0, len(recs), step):
        data, wire = recs[i].data, recs[i].wire
        if wire != len(data):
            fail("%s: record %d: wire length %d for %d bytes" % (label, i, wire, len(data)))
        if pos is None:
            idx = [k for k, (d, _) in enumerate(chosen) if d == data]
            if not idx:
                fail("%s: record %d is no frame with verdict %r" % (label, i, want_verdicts))
            pos = idx[0]
        else:  # the next chosen frame, or one further on when packets were lost
            for step in range(1, len(chosen) + 1):
                if chosen[(pos + step) % len(chosen)][0] == data:
                    break
            else:
                fail("%s: record %d is no frame with verdict %r" % (label, i, want_verdicts))
            pos = (pos + step) % len(chosen)
            skipped += step - 1
            if skipped > lost:
                fail("%s: record %d out of order (%d skipped, %d lost said)" %
                     (label, i, skipped, lost))
        if both:
            after = recs[i + 1].data
            if after != chosen[pos][1][1]:
                fail("%s: record %d: after-program bytes differ (%d vs %d bytes)" %
                     (label, i + 1, len(after), len(chosen[pos][1][1])))
    return skipped


def case_verdicts(sluice, pcapgen, prog, tmp, *_):
    pcap = os.path.join(tmp, "in.pcap")
    sl.gen_pcap(pcapgen, pcap, 300, 11)
    frames = sl.frames(pcap)
    eng = Engine(sluice, pcap, prog, tmp)
    for v in ("drop", "aborted", "pass", "tx", "redirect", "redirect_failed", "all"):
        for both in (False, True):
            out = os.path.join(tmp, "cap.pcap")
            args = ["capture", "--verdict", v, "--count", "400", "-w", out]
            if both:
                args.append("--both")
            r = eng.ctl(*args)
            err = r.stderr.decode()
            hdr, recs = sl.read_pcap(out, 1)
            if hdr["magic"] != sl.PCAP_NSEC:
                fail("capture %s: not a nanosecond pcap" % v)
            if len(recs) != 400 * (2 if both else 1):
                fail("capture %s: %d records, want %d: %s" % (v, len(recs), 400, err))
            want = set(("aborted", "drop", "pass", "tx", "redirect", "redirect_failed")) \
                if v == "all" else {v}
            skipped = check_sequence(recs, frames, want, both, lost_of(err), "capture " + v)
            print("ok capture --verdict %s%s: 400 packets byte for byte (%d lost, %d skipped)"
                  % (v, " --both" if both else "", lost_of(err), skipped))
    # to stdout, through tcpdump when it is there
    r = eng.ctl("capture", "--verdict", "drop", "--count", "50", "--snaplen", "20", "-w", "-")
    data = r.stdout
    path = os.path.join(tmp, "stdout.pcap")
    with open(path, "wb") as f:
        f.write(data)
    _, recs = sl.read_pcap(path, 1)
    drops = [f for f in frames if verdict_of(f)[0] == "drop"]
    if len(recs) != 50 or any(len(x.data) != min(20, x.wire) for x in recs) or \
            any(not any(d[:20] == x.data and len(d) == x.wire for d in drops) for x in recs):
        fail("capture -w - --snaplen 20: records differ")
    print("ok capture -w - --snaplen 20: 50 records cut at 20 bytes, wire lengths kept")
    # refusals
    for args, msg in ((["--verdict", "dorp"], "unknown verdict 'dorp'"),
                      (["--port", "nope"], "no port 'nope'")):
        r = eng.ctl("capture", "-w", os.path.join(tmp, "x.pcap"), *args, ok=False)
        if r.returncode != 1 or msg not in r.stderr.decode():
            fail("capture %r: exit %d, %r" % (args, r.returncode, r.stderr.decode()))
    r = eng.ctl("capture", "--verdict", "drop", ok=False)
    if r.returncode != 2 or "-w" not in r.stderr.decode():
        fail("capture without -w: exit %d %r" % (r.returncode, r.stderr.decode()))
    print("ok capture refusals")
    check_final(eng.stop(), frames, "verdicts")


def capture_raw(sock, req, label):
    """(copy mode, [(verdict, after, data, wire_len)], lost) of one counted capture."""
    st = sl.Client(sock, 60)
    st.send(dict(req, cmd="capture"))
    head = st.line(must=True)
    if not head.get("ok"):
        fail("%s: %r" % (label, head))
    recs = []
    while True:
        m = st.line(must=True)
        if "end" in m:
            st.close()
            return head["result"]["copy"], recs, m["lost"]
        p = m["pkt"]
        recs.append((p["verdict"], p["after"], bytes.fromhex(p["data"]), p["len"]))


def case_write(sluice, pcapgen, prog, tmp, cap_write, drop_1pct):
    """Which copy the engine picks: after the verdict for programs that never
    write packets (verdicts.bpf.c, drop_1pct.bpf.c), before the program for
    one that does (cap_write.bpf.c swaps the MACs in place): its records are
    the frames as received, and with --both as the program left them."""
    pcap = os.path.join(tmp, "in.pcap")
    sl.gen_pcap(pcapgen, pcap, 200, 3)
    frames = sl.frames(pcap)
    # the JIT's XDP fast path and, with --interp, the generic path of worker.c
    for obj, want, extra in ((prog, "after verdict", []), (drop_1pct, "after verdict", []),
                             (cap_write, "before program", []),
                             (cap_write, "before program", ["--interp"])):
        eng = Engine(sluice, pcap, obj, tmp, extra)
        mode, _, _ = capture_raw(eng.sock, {"verdicts": ["drop"], "count": 3}, obj)
        if mode != want:
            fail("capture of %s: copy %r, want %r" % (os.path.basename(obj), mode, want))
        print("ok capture of %s%s: copy %s" % (os.path.basename(obj), " ".join([""] + extra),
                                                mode))
        if obj == drop_1pct:
            # the 100th, 200th... packet of the endlessly replayed 200 frames:
            # frames[99] and frames[199] (one worker; the JIT's burst entry)
            _, recs, lost = capture_raw(eng.sock, {"verdicts": ["drop"], "count": 40},
                                        "drop_1pct")
            dropped = {frames[99], frames[199]}
            if len(recs) != 40 or any(r[0] != "drop" or r[2] not in dropped or
                                      r[3] != len(r[2]) for r in recs):
                fail("capture of drop_1pct: %d records, want 40 drops of frames 99 and 199"
                     % len(recs))
            print("ok capture of drop_1pct: 40 drops, each frame 99 or 199 byte for byte")
        if obj != cap_write:
            eng.stop()
            continue
        swapped = {f: f[6:12] + f[:6] + f[12:] for f in frames if len(f) >= 12}
        drops = [f for f in frames if len(f) >= 12 and len(f) % 4 == 0]
        if not drops:
            fail("capture-write: the input has no frame the program drops")
        _, recs, lost = capture_raw(eng.sock, {"verdicts": ["drop"], "count": 300,
                                               "both": True, "snaplen": 40}, "cap_write")
        if len(recs) != 600:
            fail("capture-write: %d records, want 600" % len(recs))
        for i in range(0, 600, 2):
            b, a = recs[i], recs[i + 1]
            orig = [f for f in drops if f[:40] == b[2] and len(f) == b[3]]
            if b[0] != "drop" or b[1] or a[0] != "drop" or not a[1] or not orig:
                fail("capture-write: record %d is no dropped frame as received" % i)
            if a[2] != swapped[orig[0]][:40] or a[3] != len(orig[0]):
                fail("capture-write: record %d: after-program bytes are not the swapped MACs"
                     % (i + 1))
        _, recs, lost = capture_raw(eng.sock, {"verdicts": ["pass"], "count": 200}, "pass")
        passed = set(f for f in frames if len(f) < 12 or len(f) % 4)
        if len(recs) != 200 or any(r[2] not in passed for r in recs):
            fail("capture-write: passed frames not recorded as received")
        print("ok capture-write%s: 300 drops with --both --snaplen 40 (as received, then the "
              "MACs swapped by the program), 200 passes as received" % " ".join([""] + extra))
        eng.stop()


def check_final(out, frames, label):
    """Capture never changes the traffic: every verdict count is what rx frames of
    the endlessly replayed file give."""
    st = out["stats"]
    if st["rx"] != st["tx"] + st["drop"] + st["error"]:
        fail("%s: rx %d != tx + drop + error" % (label, st["rx"]))
    loops, rest = divmod(st["rx"], len(frames))
    want = dict.fromkeys(("aborted", "drop", "pass", "tx", "redirect", "redirect_failed",
                          "trim"), 0)
    for i, f in enumerate(frames):
        want[verdict_of(f)[0]] += loops + (1 if i < rest else 0)
    if st["verdicts"] != want:
        fail("%s: verdicts %r, want %r for rx %d" % (label, st["verdicts"], want, st["rx"]))
    print("ok %s: %d packets, every verdict count exact" % (label, st["rx"]))


def case_load(sluice, pcapgen, prog, tmp, *_):
    """Capture every packet of full-speed traffic with a reader that is slow:
    the rings overflow, the loss is counted, the traffic loses nothing."""
    pcap = os.path.join(tmp, "in.pcap")
    sl.gen_pcap(pcapgen, pcap, 300, 12)
    frames = sl.frames(pcap)
    eng = Engine(sluice, pcap, prog, tmp)
    out = os.path.join(tmp, "cap.pcap")
    p = spawn([sluice, "ctl", "--socket", eng.sock, "capture", "--both",
                          "-w", out], stderr=subprocess.PIPE)
    time.sleep(4)
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=150)
    err = err.decode()
    if p.returncode != 0:
        fail("capture under load: exit %d %s" % (p.returncode, err))
    _, recs = sl.read_pcap(out, 1)
    lost = lost_of(err)
    all_v = {"aborted", "drop", "pass", "tx", "redirect", "redirect_failed"}
    skipped = check_sequence(recs, frames, all_v, True, lost, "capture under load")
    if "stopped by the client" not in err:
        fail("capture under load: %r" % err)
    print("ok capture under load: %d packets captured, %d lost (counted), %d skipped in "
          "the records" % (len(recs) // 2, lost, skipped))
    check_final(eng.stop(), frames, "capture under load")


def write_config(tmp, obj, pcap, infinite, persist="state.bin", name="run.yaml"):
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        f.write("program: {object: %s}\n"
                "ports:\n"
                "  - {name: in, device: 'net_pcap0,rx_pcap=%s%s'}\n"
                "  - {name: out, device: 'net_null0,no-rx=1'}\n"
                "maps:\n"
                "  counts: {persist: %s}\n"
                "  hist: {persist: %s.hist}\n"
                "control: {socket: ctl.sock}\n"
                "stats: {interval: 0, json: final.json}\n"
                % (obj, pcap, ",infinite_rx=1" if infinite else "", persist, persist))
    return path


def counts_of(tmp):
    with open(os.path.join(tmp, "final.json")) as f:
        out = json.load(f)
    counts = {e["key"]: e["value"] for e in out["maps"]["counts"]["entries"]}
    hist = {e["key"]: e["value"] for e in out["maps"]["hist"]["entries"]}
    if hist != counts:  # the per-CPU twin (one worker) is persisted too
        fail("hist %r != counts %r" % (hist, counts))
    return out["stats"]["rx"], counts


def len_counts(frames, times):
    want = {}
    for f in frames:
        want[len(f) % 64] = want.get(len(f) % 64, 0) + times
    return want


def run_cfg(sluice, cfg, ok=True, env=None):
    r = run([sluice, "run", "--quiet", "-c", cfg] + EAL, 120, text=True, env=env)
    if ok and r.returncode != 0:
        fail("run -c %s: exit %d: %s" % (cfg, r.returncode, r.stderr.strip()))
    return r


def case_persist(sluice, pcapgen, prog, tmp, v1, v3):
    """counts (ARRAY of 64 u64, indexed by frame length % 64) kept across runs;
    a save killed with SIGKILL leaves the last good file; another definition,
    a cut file: refused."""
    pcap = os.path.join(tmp, "in.pcap")
    sl.gen_pcap(pcapgen, pcap, 500, 5)
    frames = sl.frames(pcap)
    state = os.path.join(tmp, "state.bin")
    cfg = write_config(tmp, v1, pcap, False)
    for k in (1, 2):
        run_cfg(sluice, cfg)
        rx, got = counts_of(tmp)
        if rx != 500 or got != len_counts(frames, k):
            fail("persist run %d: rx %d counts %r, want %r" % (k, rx, got, len_counts(frames, k)))
        print("ok persist run %d: counts = %d x the file's (restored, then counted)" % (k, k))
    with open(state, "rb") as f:
        good = f.read()
    # ctl map save to another file during a run, and the same file killed mid-save
    icfg = write_config(tmp, v1, pcap, True, name="inf.yaml")
    env = dict(os.environ, SLUICE_TEST_PERSIST_DELAY_MS="20000")
    proc = spawn([sluice, "run", "--quiet", "-c", icfg] + EAL, env=env,
                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    sock = os.path.join(tmp, "ctl.sock")
    sl.wait_for_path(sock, proc, 20)
    saver = spawn([sluice, "ctl", "--socket", sock, "--timeout", "60", "map", "save",
                              "counts"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    for _ in range(400):
        if os.path.exists(state + ".tmp") and os.path.getsize(state + ".tmp") > 0:
            break
        time.sleep(0.05)
    else:
        fail("persist: the save never started writing %s.tmp" % state)
    proc.kill()
    proc.wait()
    # SIGKILL cannot be handled: DPDK's runtime directory of that process is
    # left for us to remove (a later process with the same PID must not find it)
    shutil.rmtree(sl.runtime_dir(proc.pid), ignore_errors=True)
    saver.wait(timeout=60)
    with open(state, "rb") as f:
        if f.read() != good:
            fail("persist: %s changed by a save killed halfway" % state)
    print("ok persist: SIGKILL during a save (temporary file half done): last good file intact")
    run_cfg(sluice, cfg)
    rx, got = counts_of(tmp)
    if got != len_counts(frames, 3):
        fail("persist after the kill: counts %r, want %r" % (got, len_counts(frames, 3)))
    print("ok persist: restarted from the last good file, counts = 3 x the file's")
    # another map definition (v3: 128 slots), a cut file, garbage
    r = run_cfg(sluice, write_config(tmp, v3, pcap, False, name="v3.yaml"), ok=False)
    if r.returncode != 1 or "another max_entries than map 'counts'" not in r.stderr:
        fail("persist v3: exit %d %r" % (r.returncode, r.stderr))
    for label, data, msg in (("cut", good[:-20], "truncated or corrupt"),
                             ("flipped", good[:60] + bytes([good[60] ^ 1]) + good[61:],
                              "truncated or corrupt"),
                             ("garbage", b"hello\n" * 20, "not a sluice map file")):
        bad = os.path.join(tmp, "bad.bin")
        with open(bad, "wb") as f:
            f.write(data)
        r = run_cfg(sluice, write_config(tmp, v1, pcap, False, persist=bad, name="bad.yaml"),
                    ok=False)
        if r.returncode != 1 or msg not in r.stderr or r.stderr.count("\n") != 1:
            fail("persist %s file: exit %d %r" % (label, r.returncode, r.stderr))
    print("ok persist refusals: another definition, a cut file, a flipped byte, garbage")


def scrape(url):
    import urllib.request
    from prometheus_client.parser import text_string_to_metric_families
    with urllib.request.urlopen(url, timeout=30) as r:
        if r.status != 200 or not r.headers["Content-Type"].startswith("text/plain; version=0.0.4"):
            fail("metrics: HTTP %d %s" % (r.status, r.headers["Content-Type"]))
        text = r.read().decode()
    series = {}
    for fam in text_string_to_metric_families(text):
        for smp in fam.samples:
            series[(smp.name, tuple(sorted(smp.labels.items())))] = smp.value
    return series


def pick(series, name, **labels):
    return series[(name, tuple(sorted(labels.items())))]


def case_metrics(sluice, pcapgen, prog, tmp, v1, v3):
    """Scrape a running engine over HTTP and parse it with prometheus_client."""
    try:
        import prometheus_client.parser  # noqa: F401
    except ImportError:  # a python3 other than Debian's first on PATH: use Debian's package
        sys.path.append("/usr/lib/python3/dist-packages")
        try:
            import prometheus_client.parser  # noqa: F401,F811
        except ImportError:
            print("SKIP: python3-prometheus-client missing")
            sys.exit(77)
    pcap = os.path.join(tmp, "in.pcap")
    sl.gen_pcap(pcapgen, pcap, 500, 5)
    frames = sl.frames(pcap)
    cfg = write_config(tmp, v1, pcap, True)
    with open(cfg, "a") as f:
        f.write("metrics: {listen: '127.0.0.1:0', maps: [counts]}\n")
    import socket as so
    s = so.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    proc = spawn([sluice, "run", "--quiet", "-c", cfg, "--metrics",
                  "127.0.0.1:%d" % port] + EAL, stdout=subprocess.PIPE,
                 stderr=subprocess.PIPE, text=True)
    url = "http://127.0.0.1:%d/metrics" % port
    # the endpoint may answer before the worker's first burst (a loaded machine): wait for
    # traffic as well as for the endpoint
    for _ in range(400):
        try:
            first = scrape(url)
            if pick(first, "sluice_port_rx_packets_total", port="in") > 0:
                break
        except OSError:
            if proc.poll() is not None:
                fail("metrics: engine exited: %s" % proc.stderr.read())
        time.sleep(0.05)
    else:
        fail("metrics: no endpoint with traffic after 20 s")
    time.sleep(1)
    second = scrape(url)
    rx1 = pick(first, "sluice_port_rx_packets_total", port="in")
    rx2 = pick(second, "sluice_port_rx_packets_total", port="in")
    if not 0 < rx1 < rx2:
        fail("metrics: port rx %r then %r, want growing" % (rx1, rx2))
    verdicts = sum(pick(second, "sluice_verdict_packets_total", verdict=v) for v in
                   ("aborted", "drop", "pass", "tx", "redirect", "redirect_failed", "trim"))
    wrx = pick(second, "sluice_worker_rx_packets_total", worker="0")
    if not rx2 <= wrx <= verdicts or pick(second, "sluice_verdict_packets_total",
                                          verdict="drop") != verdicts:
        fail("metrics: port rx %d, worker rx %d, verdicts %d (all drop)" % (rx2, wrx, verdicts))
    keys = {dict(k[1])["key"]: v for k, v in second.items() if k[0] == "sluice_map_value"}
    want_keys = {str(len(f) % 64) for f in frames}
    if set(keys) != want_keys:
        fail("metrics: map keys %r, want %r" % (sorted(keys), sorted(want_keys)))
    third = scrape(url)
    total = sum(keys.values())
    # the worker publishes rx once per burst, after running the program on it: a worker
    # preempted mid-burst (a loaded machine) has counted up to one burst (32) in the map
    # that no rx counter shows yet, in this scrape and the next
    rx3 = pick(third, "sluice_worker_rx_packets_total", worker="0")
    if not rx1 <= total <= rx3 + 32:
        fail("metrics: counts sum %d outside the rx %d..later rx %d" % (total, rx1, rx3))
    for name in ("sluice_nic_missed_total", "sluice_nic_rx_nombuf_total"):
        pick(second, name, port="out")
    if pick(second, "sluice_program_reloads_total") != 0 or \
            pick(second, "sluice_ring_dropped_total", map="events") < 0:
        fail("metrics: program / ring series")
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    if proc.returncode != 0:
        fail("metrics: engine exit %d: %s" % (proc.returncode, err))
    print("ok metrics: %d series parsed by prometheus_client, counters growing and consistent, "
          "map counts as %d labelled series" % (len(second), len(keys)))
    r = run([sluice, "run", "-c", cfg, "--metrics", "localhost"] + EAL, 60, text=True)
    if r.returncode == 0 or "metrics" not in r.stderr:
        fail("metrics: --metrics localhost: exit %d %r" % (r.returncode, r.stderr))
    print("ok metrics: a bad --metrics refused")


def case_service(sluice, pcapgen, prog, tmp, v1, v3):
    """sd_notify through a test socket (READY, WATCHDOG, RELOADING, STOPPING);
    SIGHUP with a new program, a broken config, a program whose maps do not
    carry over, and a port change (needs a restart)."""
    import socket as so
    pcap = os.path.join(tmp, "in.pcap")
    sl.gen_pcap(pcapgen, pcap, 500, 5)
    v2 = v1.replace("_v1.", "_v2.")
    cfg = write_config(tmp, v1, pcap, True)
    with open(cfg) as f:
        text = f.read()
    nsock = os.path.join(tmp, "notify.sock")
    ns = so.socket(so.AF_UNIX, so.SOCK_DGRAM)
    ns.bind(nsock)
    ns.settimeout(30)
    env = dict(os.environ, NOTIFY_SOCKET=nsock, WATCHDOG_USEC="200000")
    proc = spawn([sluice, "run", "-c", cfg] + EAL, env=env, stdout=subprocess.PIPE,
                 stderr=subprocess.PIPE, text=True)
    sock = os.path.join(tmp, "ctl.sock")
    msgs = []

    def wait_msg(prefix):
        while True:
            try:
                m = ns.recv(4096).decode()
            except so.timeout:
                fail("service: no %r datagram (got %r)" % (prefix, msgs))
            msgs.append(m)
            if m.startswith(prefix):
                return m
    ready = wait_msg("READY=1")
    if "MAINPID=%d" % proc.pid not in ready or "STATUS=running" not in ready:
        fail("service: READY datagram %r" % ready)
    if not os.path.exists(sock):
        fail("service: READY=1 before the control socket")
    for _ in range(3):
        wait_msg("WATCHDOG=1")
    print("ok service: READY=1 (MAINPID, STATUS) once running, WATCHDOG=1 every ~100 ms")

    def ctl_json(*args):
        r = run([sluice, "ctl", "--socket", sock, "--json"] + list(args), 60, text=True)
        if r.returncode:
            fail("ctl %r: %s" % (args, r.stderr))
        return json.loads(r.stdout)
    # a notify receiver that stops reading (its queue full of WATCHDOGs) must not
    # stall the control thread
    time.sleep(2.5)
    t0 = time.time()
    ctl_json("stats")
    if time.time() - t0 > 10:
        fail("service: ctl stats took %.1f s with the notify queue full" % (time.time() - t0))
    print("ok service: the control thread answers while the notify socket is not read")

    def hup(new_text):
        with open(cfg, "w") as f:
            f.write(new_text)
        proc.send_signal(signal.SIGHUP)
        wait_msg("RELOADING=1")
        wait_msg("READY=1")
        return ctl_json("prog", "show")
    show = hup(text.replace(v1, v2))
    if show["object"] != v2 or show["reloads"] != 1:
        fail("service: SIGHUP with a new program: %r" % show)
    st1 = ctl_json("stats")["verdicts"]["pass"]
    time.sleep(0.5)
    if ctl_json("stats")["verdicts"]["pass"] <= st1:
        fail("service: the new program (XDP_PASS) does not pass packets")
    print("ok service: SIGHUP with a new program: hot reloaded, its verdicts flowing")
    for label, new in (("broken config", text.replace("program:", "progrm:")),
                       ("incompatible maps", text.replace(v1, v3)),
                       ("missing object", text.replace(v1, v1 + ".nope"))):
        show = hup(new)
        if show["object"] != v2 or show["reloads"] != 1:
            fail("service: SIGHUP with a %s replaced the program: %r" % (label, show))
    print("ok service: SIGHUP with a broken config, incompatible maps, a missing object: "
          "refused, the running program stays")
    hup(text.replace(v1, v2).replace("net_null0,no-rx=1", "net_null1,no-rx=1"))
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    wait_msg("STOPPING=1")
    if proc.returncode != 0:
        fail("service: exit %d: %s" % (proc.returncode, err))
    for want in ("refused: the running config stays", "progrm", "the running program stays",
                 "ports changed in %s: needs a restart" % cfg):
        if want not in err:
            fail("service: stderr lacks %r: %s" % (want, err))
    if err.count("SIGHUP") != 4:
        fail("service: want 4 SIGHUP lines on stderr: %s" % err)
    print("ok service: each refusal said in one line, a port change needs a restart, "
          "STOPPING=1 at the end")


def main():
    sluice, pcapgen, prog, case = sys.argv[1:5]
    extra = [os.path.abspath(x) for x in sys.argv[5:]]
    probe = run([sluice, "run", "--prog", prog, "--port", "net_null0",
                 "--duration", "0.1", "--quiet"] + EAL, 60, text=True)
    if probe.returncode != 0 and "net_null" in probe.stderr:
        print("SKIP: DPDK virtual devices unavailable: " + probe.stderr.strip())
        sys.exit(77)
    with sl.tmpdir() as tmp:  # stops what still runs before the directory goes
        {"capture": case_verdicts, "capture-load": case_load,
         "capture-write": case_write,
         "persist": case_persist, "metrics": case_metrics,
         "service": case_service}[case](sluice, pcapgen, prog, tmp, *extra)


if __name__ == "__main__":
    main()
