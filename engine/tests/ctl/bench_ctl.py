#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""make bench: the control socket's cost to the data path (not a test).

usage: bench_ctl.py SLUICE PCAPGEN MAPS_MIX_OBJ CTL_V1_OBJ CTL_V2_OBJ [CTL_BIG_OBJ [MIX_RO_OBJ]]

The engine gets every CPU this script was given: its main lcore (control
thread, DPDK's interrupt and telemetry threads, the metrics thread) on the
first, its one worker on the second (sluice's lcore map). This script, its
dumping client included, is pinned to the CPUs the worker does not use, as
an operator's tools would be: the worker owns its core.

1. One engine (1 worker, net_pcap infinite_rx -> the program drops every
   frame) runs maps_mix.bpf.o, whose HASH by_src gets 10,000 entries
   through `map_update`. Ten child processes stay up for the whole
   measurement, each switched on and off by an Event: the product's own
   client, `sluice-ctl --json map dump by_src` run back to back with its
   output to /dev/null (what an operator's script does: a process per
   dump; sluice-ctl is `sluice ctl` without DPDK, ctl_main.c: the headline);
   the same with `sluice ctl` (the one binary that also runs the engine:
   42 shared libraries to load per process); the CPU and page faults of
   one such process, and of one `ctl stats` process, i.e. process start
   and connection, are printed beside them; a Python client
   dumping by_src in a loop that parses each answer with json.loads; a
   Python client dumping in a loop that reads each answer into one buffer
   and checks it (one line, ok, every entry) without building objects, so
   that only the engine's work is in it; a process keeping the other CPU
   busy with work that touches nothing of the engine's (the anchor: what
   any work there costs); a process running json.loads of a saved answer
   in a loop, no socket (the parsing client's own allocation and memory
   traffic without the engine); `sluice ctl --json stats` run back to back
   against a socket that does not exist (process starts and ends only,
   nothing of the engine's: on this VM, a process started and ended on the
   other CPU costs the worker, in proportion to the memory it maps; README,
   ctl section); and two anchors for the persistent reading client's cost:
   socket stream only, the same reading client against a Python process
   on the control CPU that answers each request with the saved answer's
   bytes (the kernel's socket copies and the wakeups, no map walk, no
   formatting, no engine), and memory traffic only, a process on the
   control CPU that reads a buffer the size of by_src's bucket heads and
   touched elements and copies the answer's size three times (output
   buffer, socket buffers, client buffer), paced at the reading client's
   dumps/s measured for 1 s before the slots; and `sluice-ctl --json stats`
   back to back against a socket that does not exist (the headline client's
   own process starts, nothing of the engine's). The CPUs the control thread,
   the worker and the child processes are seen on (/proc stat field 39)
   are sampled at every reading and printed. Slots of SLOT s: one with nothing on, then
   ROUNDS rounds of the ten loaded kinds, each followed by a slot with
   nothing on, in an order that rotates (ORDERS) so that no kind always
   follows another. The first SETTLE s of a slot are not measured (a dump
   in flight ends, a process wakes). A slot's rate is rx over the engine's
   own clock (`stats` answers carry `monotonic`, the CLOCK_MONOTONIC of the
   counters' reading, so the wait for an answer does not enter), with the
   worker thread's and the control thread's CPU time from /proc
   interpolated to those instants. Each loaded slot's ratio is against the
   mean of the no-client slots on either side; over the rounds the median,
   mean and spread (min, quartiles, max), each dumping ratio against the
   busy ratio of the same round, and the same per second of worker CPU
   time. The last line names the figure compared with the 0.97 target (the
   `sluice-ctl` client's median) and prints the others beside it; the next
   the worker's time lost per dump or per process of each kind that counts
   them ((1 - median per worker CPU second) / operations per second: a dump
   process's cost is its start's plus its dump's), and the reading client's
   per by_src entry the traffic writes (its source MACs, counted from the
   pcap here).
   Then the control thread's instructions per dumped entry (callgrind,
   counted inside sl_ctl_dump_step over two dumps of the same map, filled
   by a preload file this time), which the machine's load does not change.
   Then the kernel anchor (kdump_anchor.c, built beside CTL_V1_OBJ): the
   same program and keys loaded into the kernel, BPF_PROG_TEST_RUN over
   the same frames on the worker's CPU, BPF_MAP_LOOKUP_BATCH dumps of by_src
   on the other CPU in alternating slots: the writer's time lost per dump
   and per entry it writes, as the engine's reading client's line gives
   it (also with MIX_RO_OBJ when given).
2. With MIX_RO_OBJ (ctl_mix_ro.bpf.o: maps_mix's by_src, its counters only
   read by the worker), after the other parts, the same as 1. in 10 rounds
   without callgrind: the anchor run that tells the dump's reading of the
   lines the worker keeps writing from the rest of its cost.
3. A second engine runs ctl_count v1; a thread samples the port's received
   packets every ~10 ms through DPDK telemetry (/ethdev/stats,0, answered by
   DPDK's telemetry thread, so sampling goes on while the control thread is
   busy reloading) from 0.3 s before a `prog_reload` of v2 to 0.3 s after it;
   each step's rate is printed with its time relative to the pointer swap
   (the engine's CLOCK_MONOTONIC in the reload result) and its phase.
The machine is shared: compare the ratios, not the absolute numbers.
"""
import glob
import json
import multiprocessing
import os
import resource
import shutil
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "../../../tests/common"))
from sltest import EAL  # noqa: E402
import sltest as sl  # noqa: E402


class Client(sl.Client):
    """sltest.Client (no timeout) whose req() returns the result or ends the bench."""

    def __init__(self, path):
        super().__init__(path, None)

    def req(self, obj):
        r = super().req(obj)
        if not r or not r.get("ok"):
            raise SystemExit("request %r: %r" % (obj, r))
        return r["result"]


ALL = sorted(os.sched_getaffinity(0))


def pin_off_worker():
    """This process onto the CPUs sluice's one worker does not use (lcore 1 -> 2nd CPU)."""
    others = [c for c in ALL if c != ALL[1 % len(ALL)]]
    if others:
        os.sched_setaffinity(0, others)
    return others


def worker_tid(pid):
    for t in os.listdir("/proc/%d/task" % pid):
        with open("/proc/%d/task/%s/comm" % (pid, t)) as f:
            if f.read().startswith("rte-worker"):
                return int(t)
    return None


def cpu_s(pid, tid):
    """Seconds the worker thread has run on a CPU (/proc schedstat, nanoseconds)."""
    if tid is None:
        return 0.0
    with open("/proc/%d/task/%d/schedstat" % (pid, tid)) as f:
        return int(f.read().split()[0]) * 1e-9


def start(sluice, prog, pcap, sock, extra=(), wait_s=10, duration=120):
    """The engine (@p sluice: the binary, or a list: a command that runs it), up."""
    cmd = sluice if isinstance(sluice, list) else [sluice]
    p = sl.spawn(cmd + ["run", "--quiet", "--prog", prog, "--port",
                        "net_pcap0,rx_pcap=%s,infinite_rx=1" % pcap, "--port", "net_null0,no-rx=1",
                        "--ctl-socket", sock, "--duration", str(duration)] + list(extra) + EAL,
                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                 preexec_fn=lambda: os.sched_setaffinity(0, ALL))
    for _ in range(int(wait_s / 0.05)):
        if os.path.exists(sock):
            return p
        time.sleep(0.05)
    raise SystemExit("engine did not start: %s" % p.stderr.read())


def stop(p):
    sl.stop(p, timeout=60)


def mac(i):
    """Key i of by_src (struct mac {__u8 b[6]}) in sl_text's byte form: ee:00:00:00:00:01."""
    return ":".join("%02x" % b for b in (0xEE0000000000 + i).to_bytes(6, "big"))


def fill(c, n):
    """n entries in by_src, pipelined 200 at a time (answers read as they come)."""
    for lo in range(0, n, 200):
        reqs = "".join(json.dumps({"cmd": "map_update", "map": "by_src", "key": mac(i),
                                   "value": i}) + "\n" for i in range(lo, min(n, lo + 200)))
        c.s.sendall(reqs.encode())
        for _ in range(lo, min(n, lo + 200)):
            r = c.line()
            if not r.get("ok"):
                raise SystemExit("fill failed: %r" % r)


def dumper(sock, on, quit, dumps, entries, parse):
    """A client dumping by_src in a loop while @p on is set (a child process,
    connected once: no GIL shared with the sampling, no start-up per slot).
    @p parse: each answer goes through json.loads (objects for every entry,
    as a script's client would build them); else it is read into one buffer
    and checked (one line, ok, @p entries entries) without building objects:
    all the engine's work, none of the client's parsing."""
    c = Client(sock)
    buf, req = bytearray(4 << 20), b'{"cmd":"map_dump","map":"by_src"}\n'
    view = memoryview(buf)
    while not quit.is_set():
        if not on.wait(0.05):
            continue
        if parse:
            c.req({"cmd": "map_dump", "map": "by_src"})
        else:
            c.s.sendall(req)
            n = 0
            while not n or buf[n - 1] != 10:
                k = c.s.recv_into(view[n:])
                if not k or n + k == len(buf):
                    raise SystemExit("dump answer cut or larger than %d bytes" % len(buf))
                n += k
            if not buf.startswith(b'{"ok":true') or buf.count(b'{"key":', 0, n) != entries:
                raise SystemExit("dump answer: %r..." % bytes(buf[:200]))
        with dumps.get_lock():
            dumps.value += 1


def ctl_client(client, sock, on, quit, dumps):
    """The product's own client as an operator's script runs it: @p client
    (`sluice-ctl`, or `sluice ctl`) `--json map dump by_src` back to back
    while @p on is set, its output to /dev/null: a process (start,
    connection, the answer read and written out) per dump. A run that fails
    ends the bench."""
    cmd = client + ["--socket", sock, "--json", "map", "dump", "by_src"]
    while not quit.is_set():
        if not on.wait(0.05):
            continue
        r = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if r.returncode:
            raise SystemExit("%s map dump: exit %d: %s" % (" ".join(client), r.returncode,
                                                           r.stderr))
        with dumps.get_lock():
            dumps.value += 1


def starts_only(client, sock, on, quit, dumps):
    """While @p on is set, `CLIENT --json stats` back to back against a
    socket that does not exist (@p client: `sluice ctl`, or `sluice-ctl`):
    processes that start, fail to connect and end, nothing of the engine's
    (an anchor: what process starts alone cost the worker). Counted in
    @p dumps as processes."""
    cmd = client + ["--socket", sock + ".none", "--json", "stats"]
    while not quit.is_set():
        if not on.wait(0.05):
            continue
        r = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if r.returncode != 1 or b"cannot connect" not in r.stderr:
            raise SystemExit("%s against no socket: exit %d: %s" % (" ".join(client),
                                                                   r.returncode, r.stderr))
        with dumps.get_lock():
            dumps.value += 1


def parse_only(answer, on, quit):
    """While @p on is set, json.loads of a saved dump answer in a loop, no socket,
    nothing of the engine's: the parsing client's own allocation and memory
    traffic on the other CPU (an anchor)."""
    while not quit.is_set():
        if on.wait(0.05):
            if len(json.loads(answer)["result"]["entries"]) < 1:
                raise SystemExit("saved answer has no entries")


def fake_server(path, answer, quit):
    """An anchor: a process on the control CPU that answers each request line on
    @p path with the saved dump answer (the same bytes, sent whole): the kernel's
    socket work and the wakeups of a client reading a dump, nothing of the
    engine's (no map walk, no formatting). Serves one connection at a time."""
    ls = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    if os.path.exists(path):
        os.unlink(path)         # (the anchor run after the first uses the same directory)
    ls.bind(path)
    ls.listen(1)
    ls.settimeout(0.1)
    out = answer + b"\n"
    while not quit.is_set():
        try:
            s, _ = ls.accept()
        except socket.timeout:
            continue
        s.settimeout(0.1)
        pend = b""
        while not quit.is_set():
            try:
                d = s.recv(4096)
            except socket.timeout:
                continue
            if not d:
                break
            pend += d
            while b"\n" in pend:
                _, pend = pend.split(b"\n", 1)
                s.sendall(out)
        s.close()


def mem_traffic(map_bytes, answer_bytes, rate, on, quit):
    """An anchor: while @p on is set, @p rate times a second, the memory one dump
    moves, with nothing of the engine's: a read of @p map_bytes (the map's bucket
    heads and elements the walk reads) copied out, and three copies of
    @p answer_bytes into distinct buffers (the engine's output buffer, the
    kernel's socket buffers, the client's receive buffer). Paced: a period that
    ends early sleeps the rest."""
    src, dst = bytearray(map_bytes), bytearray(map_bytes)
    ans = [bytearray(answer_bytes) for _ in range(4)]
    for b in (src, dst, *ans):
        b[::4096] = b"\1" * len(b[::4096])  # touched: backed by memory, not the zero page
    period, nxt = 1.0 / rate, time.monotonic()
    while not quit.is_set():
        if not on.wait(0.05):
            nxt = time.monotonic()
            continue
        dst[:] = src
        for i in range(3):
            ans[i + 1][:] = ans[i]
        nxt += period
        d = nxt - time.monotonic()
        if d > 0:
            time.sleep(d)
        elif d < -1:
            nxt = time.monotonic()


def ctl_cpu_ms(client, sock, cmd, n=5):
    """(CPU ms (user + system), page faults) of one `CLIENT --json CMD` process, mean of
    @p n runs (@p client: `sluice-ctl` or `sluice ctl`)."""
    t0, f0 = os.times(), resource.getrusage(resource.RUSAGE_CHILDREN).ru_minflt
    for _ in range(n):
        r = subprocess.run(client + ["--socket", sock, "--json"] + cmd,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if r.returncode:
            raise SystemExit("%s %s: exit %d: %s" % (" ".join(client), " ".join(cmd),
                                                     r.returncode, r.stderr))
    t1, f1 = os.times(), resource.getrusage(resource.RUSAGE_CHILDREN).ru_minflt
    return ((t1.children_user + t1.children_system - t0.children_user - t0.children_system) /
            n * 1e3, (f1 - f0) / n)


def busy(on, quit):
    """The other CPU busy, while @p on is set, with work that touches nothing
    of the engine's (the anchor)."""
    x = 0
    while not quit.is_set():
        if on.wait(0.05):
            for i in range(10000):
                x = (x * 31 + i) & 0xffffffff


SEEN = {"control": set(), "worker": set(), "kids": set()}
KID_PIDS = []


def psr(pid, tid):
    """The CPU thread @p tid of @p pid last ran on (/proc stat field 39), or None."""
    try:
        with open("/proc/%d/task/%d/stat" % (pid, tid)) as f:
            return int(f.read().rsplit(")", 1)[1].split()[36])
    except (OSError, IndexError, ValueError):
        return None


def note_cpus(pid, tid):
    for key, ids in (("control", [(pid, pid)]), ("worker", [(pid, tid)]),
                     ("kids", [(k, k) for k in KID_PIDS])):
        for a, b in ids:
            cpu = psr(a, b) if b is not None else None
            if cpu is not None:
                SEEN[key].add(cpu)


def counters(c, pid, tid):
    """(engine CLOCK_MONOTONIC of the counters, rx, worker CPU s, control thread CPU s):
    the CPU times read before and after the request, interpolated to the engine's time."""
    t0, w0, m0 = time.monotonic(), cpu_s(pid, tid), cpu_s(pid, pid)
    st = c.req({"cmd": "stats"})
    note_cpus(pid, tid)
    t1, w1, m1 = time.monotonic(), cpu_s(pid, tid), cpu_s(pid, pid)
    t = min(max(st["monotonic"], t0), t1)
    f = (t - t0) / (t1 - t0) if t1 > t0 else 0.5
    return t, st["rx"], w0 + (w1 - w0) * f, m0 + (m1 - m0) * f


SLOT, SETTLE = 0.30, 0.06  # a slot; the first part of it, after a switch, is not measured
ROUNDS = 18                # each: ten loaded slots, each after a no-client slot
KINDS = ("sluice-ctl client", "sluice ctl client", "Python client, parsing",
         "Python client, reading", "other CPU busy", "json.loads only", "process starts only",
         "socket stream only", "memory traffic only", "sluice-ctl starts only")
(LEAN, CTL, PARSING, READING, BUSY, PARSE_ONLY, STARTS, STREAM,
 MEMORY, LEAN_STARTS) = range(len(KINDS))
# rotate through every cyclic order and its reverse, so that no kind always follows another
ORDERS = tuple(tuple((i + j) % len(KINDS) for j in range(len(KINDS))) for i in range(len(KINDS)))
ORDERS += tuple(o[::-1] for o in ORDERS)


def slot(c, pid, tid, ev, dumps):
    """One slot with @p ev (an Event, or None: nothing) on: (Mpps, worker CPU share,
    Mpps per worker CPU second, control thread CPU share, dumps/s) over its last
    SLOT - SETTLE seconds."""
    if ev:
        ev.set()
    time.sleep(SETTLE)
    d0 = dumps.value
    a = counters(c, pid, tid)
    time.sleep(SLOT - SETTLE)
    b = counters(c, pid, tid)
    d1 = dumps.value
    if ev:
        ev.clear()
    dt, dw = b[0] - a[0], b[2] - a[2]
    return ((b[1] - a[1]) / dt / 1e6, dw / dt, (b[1] - a[1]) / dw / 1e6 if dw > 0 else 0.0,
            (b[3] - a[3]) / dt, (d1 - d0) / dt)


def median(xs):
    xs = sorted(xs)
    return (xs[len(xs) // 2] + xs[(len(xs) - 1) // 2]) / 2


def quart(xs, f):
    """The f-quantile of xs (linear between order statistics)."""
    xs = sorted(xs)
    k = f * (len(xs) - 1)
    lo = int(k)
    return xs[lo] + (xs[min(lo + 1, len(xs) - 1)] - xs[lo]) * (k - lo)


def spread(xs):
    """min / lower quartile / upper quartile / max of xs, as text."""
    return "%.3f / %.3f / %.3f / %.3f (min, quartiles, max)" % (
        min(xs), quart(xs, 0.25), quart(xs, 0.75), max(xs))


def summary(name, xs):
    return "%s: median %.3f, mean %.3f, spread %s" % (name, median(xs), sum(xs) / len(xs),
                                                      spread(xs))


def where(pid):
    """Each thread of @p pid and the CPUs it may run on, as text."""
    out = []
    for t in sorted(os.listdir("/proc/%d/task" % pid), key=int):
        with open("/proc/%d/task/%s/comm" % (pid, t)) as f:
            name = f.read().strip()
        with open("/proc/%d/task/%s/status" % (pid, t)) as f:
            cpus = [l.split()[1] for l in f if l.startswith("Cpus_allowed_list")][0]
        out.append("%s %s" % (name if int(t) != pid else name + " (main lcore: control)", cpus))
    return ", ".join(out)


def bench_dump(sluice, obj, pcap, tmp, rounds=ROUNDS, title="", instructions=True):
    """The dump bench on program @p obj: @p rounds rounds; @p title: an anchor run's
    heading suffix; @p instructions: also the control thread's callgrind count."""
    for v in SEEN.values():
        v.clear()
    sock = os.path.join(tmp, "dump.sock")
    p = start(sluice, obj, pcap, sock)
    c = Client(sock)
    fill(c, 10000)
    c.s.sendall(b'{"cmd":"map_dump","map":"by_src"}\n')
    while b"\n" not in c.buf:  # the answer's bytes, saved for the json.loads-only anchor
        d = c.s.recv(1 << 20)
        if not d:
            raise SystemExit("engine closed the connection")
        c.buf += d
    answer, c.buf = c.buf.split(b"\n", 1)
    entries = len(json.loads(answer)["result"]["entries"])
    lean = [os.path.join(os.path.dirname(sluice), "sluice-ctl")]
    if not os.access(lean[0], os.X_OK):
        raise SystemExit("%s: not built (engine/meson.build: sluice-ctl)" % lean[0])
    cost = [(name, ctl_cpu_ms(cl, sock, ["stats"]), ctl_cpu_ms(cl, sock, ["map", "dump", "by_src"]))
            for name, cl in (("sluice-ctl", lean), ("sluice ctl", [sluice, "ctl"]))]
    time.sleep(0.5)
    tid = worker_tid(p.pid)
    quit = multiprocessing.Event()
    on = [multiprocessing.Event() for _ in KINDS]
    dumps = multiprocessing.Value("l", 0)
    # the memory anchor's pace: the reading client's dumps/s, measured here for 1 s
    probe, t0 = multiprocessing.Process(target=dumper, args=(sock, on[READING], quit, dumps,
                                                             entries, False)), time.monotonic()
    on[READING].set()
    probe.start()
    time.sleep(1.0)
    on[READING].clear()
    rate = max(dumps.value / (time.monotonic() - t0), 1.0)
    quit.set()
    probe.join()
    quit.clear()
    dumps.value = 0
    fake = os.path.join(tmp, "fake.sock")
    map_bytes = 2 * 65536 * 8 + entries * 32  # by_src: 131,072 bucket heads, 32-byte elements
    kids = [multiprocessing.Process(target=ctl_client, args=(lean, sock, on[LEAN], quit, dumps)),
            multiprocessing.Process(target=ctl_client,
                                    args=([sluice, "ctl"], sock, on[CTL], quit, dumps)),
            multiprocessing.Process(target=dumper,
                                    args=(sock, on[PARSING], quit, dumps, entries, True)),
            multiprocessing.Process(target=dumper,
                                    args=(sock, on[READING], quit, dumps, entries, False)),
            multiprocessing.Process(target=busy, args=(on[BUSY], quit)),
            multiprocessing.Process(target=parse_only, args=(answer, on[PARSE_ONLY], quit)),
            multiprocessing.Process(target=starts_only, args=([sluice, "ctl"], sock, on[STARTS],
                                                               quit, dumps)),
            multiprocessing.Process(target=dumper,
                                    args=(fake, on[STREAM], quit, dumps, entries, False)),
            multiprocessing.Process(target=mem_traffic, args=(map_bytes, len(answer) + 1, rate,
                                                              on[MEMORY], quit)),
            multiprocessing.Process(target=starts_only, args=(lean, sock, on[LEAN_STARTS], quit,
                                                               dumps))]
    server = multiprocessing.Process(target=fake_server, args=(fake, answer, quit))
    server.start()
    for _ in range(100):
        if os.path.exists(fake):
            break
        time.sleep(0.05)
    for k in kids:
        k.start()
    KID_PIDS[:] = [k.pid for k in kids] + [server.pid]
    time.sleep(0.3)
    print("== control socket: worker Mpps while a client dumps a %d-entry HASH in a loop%s" %
          (entries, title))
    print("   where each runs (CPUs allowed): engine: %s; the clients and anchors: %s" %
          (where(p.pid), ",".join(map(str, sorted(os.sched_getaffinity(0))))))
    print("   %d rounds of %.2f s slots (the first %.2f s after a switch not measured): no client, "
          "then each of: `sluice-ctl --json map dump by_src` run back to back, output to "
          "/dev/null (the product's client, a process per dump; sluice-ctl is `sluice ctl` "
          "without DPDK) | the same with `sluice ctl` | a Python client dumping in a "
          "loop that parses each answer (json.loads) | one that reads and checks it without "
          "building objects | the other CPU busy with a process that touches nothing of the "
          "engine's (what any work there costs) | json.loads of a saved answer in a loop, no "
          "socket (the parsing client's own work without the engine) | `sluice ctl --json "
          "stats` back to back against a socket that does not exist (process starts only, "
          "nothing of the engine's) | the reading client against a process answering the "
          "saved answer's bytes (socket stream only, no engine) | a process reading and "
          "copying a dump's memory at the reading client's pace (memory traffic only) | "
          "`sluice-ctl --json stats` back to back against a socket that does not exist (the "
          "product's client's process starts only), each followed by a "
          "no-client slot, in a rotating order; the child processes stay up and are switched "
          "on and off; each loaded slot against the mean of the no-client slots on either "
          "side; rx over the engine's own clock (stats.monotonic)" % (rounds, SLOT, SETTLE))
    for name, (start_ms, start_pf), (dump_ms, dump_pf) in cost:
        print("   one `%s --json` process: %.1f ms of CPU and %.0f page faults for `stats` "
              "(process start and connection), %.1f ms and %.0f page faults for `map dump "
              "by_src` (the answer read as it streams, parsed by jansson entry by entry and "
              "printed included)" % (name, start_ms, start_pf, dump_ms, dump_pf))
    none, got = [slot(c, p.pid, tid, None, dumps)], [[] for _ in KINDS]
    ratio, ratio_cpu = [[] for _ in KINDS], [[] for _ in KINDS]
    for r in range(rounds):
        for k in ORDERS[r % len(ORDERS)]:
            got[k].append(slot(c, p.pid, tid, on[k], dumps))
            none.append(slot(c, p.pid, tid, None, dumps))
            x, n0, n1 = got[k][-1], none[-2], none[-1]
            nw, nc = (n0[0] + n1[0]) / 2, (n0[2] + n1[2]) / 2
            ratio[k].append(x[0] / nw if nw else 0)
            if nc and x[2]:
                ratio_cpu[k].append(x[2] / nc)
    quit.set()
    for k in kids + [server]:
        k.join()
    stop(p)
    if any(k.exitcode for k in kids + [server]):
        raise SystemExit("a client or an anchor process failed (exit codes %r)" %
                         [k.exitcode for k in kids + [server]])
    print("  CPUs seen running (/proc stat field 39, sampled at every slot's readings): "
          "control thread %s, worker %s, the child processes %s; memory anchor paced at %.0f "
          "dumps/s (the reading client's, measured for 1 s before the slots) of %.2f MB read "
          "and %.2f MB copied" % (sorted(SEEN["control"]), sorted(SEEN["worker"]),
                                  sorted(SEEN["kids"]), rate, map_bytes / 1e6,
                                  map_bytes / 1e6 + 3 * (len(answer) + 1) / 1e6))

    def mean(xs, i):
        return sum(x[i] for x in xs) / len(xs)
    line = "  means: no client %.2f Mpps (worker cpu %.2f, %.2f Mpps/cpu)" % (
        mean(none, 0), mean(none, 1), mean(none, 2))
    for k, name in enumerate(KINDS):
        xs = got[k]
        line += " | %s %.2f Mpps (cpu %.2f, %.2f/cpu" % (name, mean(xs, 0), mean(xs, 1),
                                                        mean(xs, 2))
        if mean(xs, 4) and k in (STARTS, LEAN_STARTS):
            line += "; %.1f processes/s" % mean(xs, 4)
        elif mean(xs, 4) and k == STREAM:
            line += "; %.1f answers/s, no engine" % mean(xs, 4)
        elif mean(xs, 4):
            line += "; %.1f dumps/s, control thread %.2f of a CPU: %.1f ms per dump" % (
                mean(xs, 4), mean(xs, 3), mean(xs, 3) / mean(xs, 4) * 1e3)
        line += ")"
    print(line)
    for k, name in enumerate(KINDS):
        print("  %-22s ratios by round: %s" % (name, " ".join("%.3f" % x for x in ratio[k])))
    for k, name in enumerate(KINDS):
        print("  " + summary(name + " / no client", ratio[k]))
    for k in (LEAN, CTL, PARSING, READING, STREAM, MEMORY):
        print("  " + summary(KINDS[k] + " / other CPU busy, same round",
                             [d / b for d, b in zip(ratio[k], ratio[BUSY]) if b]))
    print("  per worker CPU second: " + "; ".join(
        summary(name, ratio_cpu[k]) for k, name in enumerate(KINDS) if ratio_cpu[k]))

    def med(xs):
        return "%.3f" % median(xs) if xs else "-"
    head = "THIS ANCHOR RUN (not the target figure): " if title else \
        "AGAINST THE TARGET (>= 0.97): "
    print("  " + head + "`sluice-ctl` client dumping in a loop / no client, "
          "engine Mpps, median of %d rounds: %.3f (per worker CPU second %s; %.1f dumps/s). "
          "Beside it, same rounds, medians (per worker CPU second): `sluice ctl` client %.3f "
          "(%s; %.1f dumps/s), Python client parsing %.3f (%s), Python client reading %.3f "
          "(%s), other CPU busy %.3f (%s), json.loads only %.3f (%s), process starts only "
          "%.3f (%s; %.1f processes/s), socket stream only %.3f (%s; %.1f answers/s), memory "
          "traffic only %.3f (%s), `sluice-ctl` starts only %.3f (%s; %.1f processes/s). Under "
          "load the worker shares its CPU and the wall ratio is the scheduler's; quiet (worker "
          "cpu 1.00) the two agree" %
          (rounds, median(ratio[LEAN]), med(ratio_cpu[LEAN]), mean(got[LEAN], 4),
           median(ratio[CTL]), med(ratio_cpu[CTL]), mean(got[CTL], 4),
           median(ratio[PARSING]), med(ratio_cpu[PARSING]), median(ratio[READING]),
           med(ratio_cpu[READING]), median(ratio[BUSY]), med(ratio_cpu[BUSY]),
           median(ratio[PARSE_ONLY]), med(ratio_cpu[PARSE_ONLY]), median(ratio[STARTS]),
           med(ratio_cpu[STARTS]), mean(got[STARTS], 4), median(ratio[STREAM]),
           med(ratio_cpu[STREAM]), mean(got[STREAM], 4), median(ratio[MEMORY]),
           med(ratio_cpu[MEMORY]), median(ratio[LEAN_STARTS]), med(ratio_cpu[LEAN_STARTS]),
           mean(got[LEAN_STARTS], 4)))
    lost_per_op(ratio_cpu, got, hot_sources(pcap))
    if instructions:
        dump_instructions(sluice, obj, pcap, os.path.dirname(sock))


def hot_sources(pcap):
    """The source MACs of @p pcap's frames of 12 bytes or more, counted here from the
    file: the by_src entries the worker writes (the rest of the map it never touches)."""
    with open(pcap, "rb") as f:
        data = f.read()
    order = "little" if data[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else "big"
    off, macs = 24, set()
    while off + 16 <= len(data):
        incl = int.from_bytes(data[off + 8:off + 12], order)
        if incl >= 12:
            macs.add(data[off + 16 + 6:off + 16 + 12])
        off += 16 + incl
    return len(macs)


def lost_per_op(ratio_cpu, got, hot):
    """Each kind that counts operations (dumps or processes): the worker's time lost
    per operation, (1 - median ratio per worker CPU second) / operations per second,
    so that kinds at different rates compare (a dump process's cost = its start's +
    its dump's), and the reading client's per entry the traffic writes (@p hot)."""
    parts = []
    for k in (LEAN, CTL, PARSING, READING, STARTS, LEAN_STARTS):
        ops = sum(x[4] for x in got[k]) / len(got[k]) if got[k] else 0
        if ops and ratio_cpu[k]:
            us = (1 - median(ratio_cpu[k])) / ops * 1e6
            parts.append("%s %.0f us" % (KINDS[k], us))
            if k == READING and hot:
                parts[-1] += " (%.0f ns per entry the traffic writes, %d of them)" % (
                    us * 1e3 / hot, hot)
    print("  worker time lost per operation (dump or process), from the medians per worker "
          "CPU second: " + "; ".join(parts))


def dump_instructions(sluice, obj, pcap, tmp):
    """Control-thread instructions per dumped entry: callgrind counting inside
    sl_ctl_dump_step (the streamed dump: walk, typing, text, output buffer)."""
    if not shutil.which("valgrind") or not shutil.which("callgrind_control"):
        print("  (valgrind missing: control-thread instructions per entry not measured)")
        return
    pre, sock = os.path.join(tmp, "by_src.txt"), os.path.join(tmp, "cg.sock")
    out = os.path.join(tmp, "cg.out")
    with open(pre, "w") as f:
        f.writelines("%s %d\n" % (mac(i), i) for i in range(10000))
    p = start(["valgrind", "--tool=callgrind", "--separate-threads=yes", "--collect-atstart=no",
               "--toggle-collect=sl_ctl_dump_step", "--callgrind-out-file=" + out, sluice],
              obj, pcap, sock, ["--map", "by_src=" + pre], wait_s=300, duration=900)
    c = Client(sock)
    n = sum(len(c.req({"cmd": "map_dump", "map": "by_src"})["entries"]) for _ in range(2))
    subprocess.run(["callgrind_control", "-d", str(p.pid)], capture_output=True, timeout=120)
    stop(p)
    ir = 0
    for path in glob.glob(out + ".1-*"):
        with open(path, errors="replace") as f:
            ir += sum(int(l.split()[1]) for l in f if l.startswith("summary:"))
    print("  control thread: %.0f instructions per dumped entry (callgrind inside "
          "sl_ctl_dump_step, 2 dumps of %d entries)" % (ir / n if n else 0, n // 2))


def kernel_anchor(tool, obj, pcap, what):
    """The kernel anchor (kdump_anchor.c): @p obj in the kernel, its by_src filled
    with the same 10,000 keys, BPF_PROG_TEST_RUN over @p pcap's frames on the
    worker's CPU while BPF_MAP_LOOKUP_BATCH dumps by_src on the other CPU in
    alternating slots: what the kernel's own dump of a map its data path writes
    costs that data path, per dump and per entry written, beside the engine's
    reading client's figure. Skipped (said) without the tool or when the kernel
    refuses BPF."""
    if not os.access(tool, os.X_OK):
        print("  kernel anchor not run: %s not built" % tool)
        return
    r = subprocess.run([tool, obj, pcap, str(ALL[1 % len(ALL)]), str(ALL[0]), "12"],
                       capture_output=True, text=True, timeout=120,
                       preexec_fn=lambda: os.sched_setaffinity(0, ALL))
    if r.returncode:
        print("  kernel anchor (%s) not run: exit %d: %s" % (what, r.returncode,
                                                            r.stderr.strip()))
        return
    print("  %s: %s" % (what, r.stdout.strip()))


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for l in f:
            if l.startswith("VmRSS:"):
                return int(l.split()[1])
    return 0


def bench_big_dump(sluice, obj, pcap, tmp, n):
    """`map dump` of an n-entry HASH: entries/s for the client and per control-thread CPU s."""
    sock = os.path.join(tmp, "big.sock")
    p = start(sluice, obj, pcap, sock)
    c = Client(sock)
    pre = os.path.join(tmp, "big.txt")
    with open(pre, "w") as f:
        f.writelines("%d %d\n" % (i, i * 3) for i in range(n))
    t0 = time.time()
    loaded = c.req({"cmd": "map_load", "map": "big", "file": pre})["loaded"]
    t_load = time.time() - t0
    rss0 = rss_kib(p.pid)
    print("== map dump of a %d-entry HASH (ctl_big.bpf.o; filled by map_load in %.1f s)" %
          (loaded, t_load))
    for _ in range(2):
        c0, peak = cpu_s(p.pid, p.pid), 0
        t0 = time.time()
        c.s.sendall(b'{"cmd":"map_dump","map":"big"}\n')
        chunks, size = [], 0
        while True:
            d = c.s.recv(1 << 20)
            if not d:
                raise SystemExit("engine closed the connection")
            chunks.append(d)
            size += len(d)
            if len(chunks) % 64 == 0:
                peak = max(peak, rss_kib(p.pid) - rss0)
            if d.endswith(b"\n"):
                break
        t1, c1 = time.time(), cpu_s(p.pid, p.pid)
        got = len(json.loads(b"".join(chunks))["result"]["entries"])
        print("  %d entries, %.1f MB in %.2f s: %.2f M entries/s for the client, %.2f M entries "
              "per control-thread CPU second (%.2f s of it); the engine's RSS grew %d KiB at most "
              "while it streamed" % (got, size / 1e6, t1 - t0, got / (t1 - t0) / 1e6,
                                     got / (c1 - c0) / 1e6 if c1 > c0 else 0, c1 - c0, peak))
    stop(p)


class Telemetry:
    """DPDK's own telemetry socket of engine @p pid (served by DPDK's thread)."""
    def __init__(self, pid):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.s.connect("/var/run/dpdk/sluice-%d/dpdk_telemetry.v2" % pid)
        self.s.recv(1024)  # the greeting

    def ipackets(self):
        self.s.send(b"/ethdev/stats,0")
        return json.loads(self.s.recv(1 << 16))["/ethdev/stats"]["ipackets"]


def sample(tel, pid, tid, samples, stop_at):
    """(CLOCK_MONOTONIC s, packets received, worker CPU s) about every 10 ms until stop_at[0]."""
    while time.monotonic() < stop_at[0]:
        samples.append((time.monotonic(), tel.ipackets(), cpu_s(pid, tid)))
        time.sleep(0.01)


def bench_reload(sluice, v1, v2, pcap, tmp):
    sock = os.path.join(tmp, "reload.sock")
    p = start(sluice, v1, pcap, sock)
    c = Client(sock)
    tel = Telemetry(p.pid)
    time.sleep(1.0)
    samples, stop_at = [], [float("inf")]
    t = threading.Thread(target=sample, args=(tel, p.pid, worker_tid(p.pid), samples, stop_at))
    t.start()
    time.sleep(0.3)
    t_send = time.monotonic()
    res = c.req({"cmd": "prog_reload", "file": v2})
    t_done = time.monotonic()
    stop_at[0] = time.monotonic() + 0.3
    t.join()
    stop(p)
    m = res["monotonic"]
    swap = m["swap"]
    print("== hot reload: rx Mpps per ~10 ms step (DPDK telemetry of port 0, sampled by "
          "another thread) around the swap; the reload took %.1f ms in the engine (load, "
          "verify, JIT %.1f ms; swap; grace period %.2f ms), %.1f ms for the client" %
          (res["ms"], (swap - m["start"]) * 1e3, (m["synced"] - swap) * 1e3,
           (t_done - t_send) * 1e3))
    rows, before, during, after = [], [], [], []
    pc = {"before": [], "swap": [], "reload": [], "after": []}
    for (ta, a, ca), (tb, b, cb) in zip(samples, samples[1:]):
        if tb <= ta:
            continue
        r = (b - a) / (tb - ta) / 1e6
        oncpu = (cb - ca) / (tb - ta)
        per_cpu = (b - a) / (cb - ca) / 1e6 if cb - ca > 1e-4 else None
        if ta <= swap < tb:
            phase, mark = "swap", "<- the pointer store"
            during.append(r)
        elif tb <= m["start"]:
            phase, mark = "before", ""
            before.append(r)
        elif ta >= m["synced"]:
            phase, mark = "after", ""
            after.append(r)
        else:
            phase, mark = "reload", "(control thread loading, verifying, compiling)"
            during.append(r)
        if per_cpu is not None:
            pc[phase].append(per_cpu)
        rows.append("  %+8.1f ms %5.1f ms %7.2f Mpps  cpu %4.2f %s  %-6s %s" %
                    ((ta - swap) * 1e3, (tb - ta) * 1e3, r, oncpu,
                     "%6.2f Mpps/cpu" % per_cpu if per_cpu is not None else "  (not running)",
                     phase, mark))
    print("  step start (from swap), length, rate, the worker's share of a CPU in the step "
          "(another process had it otherwise), rate per worker CPU second, phase")
    for row in rows:
        print(row)

    def mean(xs):
        return sum(xs) / len(xs) if xs else 0.0
    print("  before %.2f Mpps (min %.2f) | during the reload and its swap %.2f Mpps (min %.2f) | "
          "after %.2f Mpps (min %.2f)" % (mean(before), min(before or [0]), mean(during),
                                           min(during or [0]), mean(after), min(after or [0])))
    print("  per worker CPU second: before %.2f Mpps | reload and swap steps %.2f Mpps | after "
          "%.2f Mpps (a step where the worker did not run is machine load, not the reload)" %
          (mean(pc["before"]), mean(pc["swap"] + pc["reload"]), mean(pc["after"])))


def main():
    if len(sys.argv) not in (6, 7, 8):
        print(__doc__)
        sys.exit(2)
    sluice, pcapgen, mix, v1, v2 = sys.argv[1:6]
    pin_off_worker()
    with sl.tmpdir() as tmp:
        pcap = sl.gen_pcap(pcapgen, os.path.join(tmp, "in.pcap"), 500, 7)
        bench_dump(sluice, mix, pcap, tmp)
        tool = os.path.join(os.path.dirname(os.path.abspath(v1)), "kdump_anchor")
        kernel_anchor(tool, mix, pcap, "the same program and keys in the kernel, the kernel's "
                      "batched dump (counters written)")
        if len(sys.argv) == 8:
            kernel_anchor(tool, sys.argv[7], pcap, "the same in the kernel with "
                          "ctl_mix_ro.bpf.o (counters only read)")
        bench_reload(sluice, v1, v2, pcap, tmp)
        if len(sys.argv) >= 7:
            bench_big_dump(sluice, sys.argv[6], pcap, tmp, 1 << 20)
        if len(sys.argv) == 8:
            bench_dump(sluice, sys.argv[7], pcap, tmp, 10, " -- the anchor run: ctl_mix_ro.bpf.o, "
                       "the worker only reading by_src's counters (compare the reading client "
                       "with the first run's)", False)


if __name__ == "__main__":
    main()
