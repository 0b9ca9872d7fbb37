#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""make bench: the control socket's cost to the data path (not a test).

usage: bench_ctl.py SLUICE PCAPGEN MAPS_MIX_OBJ CTL_V1_OBJ CTL_V2_OBJ

1. One engine (1 worker, net_pcap infinite_rx -> the program drops every
   frame) runs maps_mix.bpf.o, whose HASH by_src gets 10,000 entries
   through `map_update`. Phases of 2 s alternate: no client, then one client
   dumping by_src in a loop; the worker's Mpps of each phase (rx deltas read
   over the socket) is printed beside the no-client anchor of the same run.
2. A second engine runs ctl_count v1; a client samples rx every 10 ms for
   0.3 s before and after a `prog_reload` of v2 and prints the rate of each
   10 ms step around the swap.
The machine is shared: compare the ratios, not the absolute numbers.
"""
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

EAL = ["--", "--no-huge", "-m", "256", "--no-pci"]


class Client:
    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.connect(path)
        self.buf = b""

    def line(self):
        while b"\n" not in self.buf:
            d = self.s.recv(1 << 20)
            if not d:
                raise SystemExit("engine closed the connection")
            self.buf += d
        l, self.buf = self.buf.split(b"\n", 1)
        return json.loads(l)

    def req(self, obj):
        self.s.sendall((json.dumps(obj) + "\n").encode())
        r = self.line()
        if not r.get("ok"):
            raise SystemExit("request %r: %r" % (obj, r))
        return r["result"]


def start(sluice, prog, pcap, sock):
    p = subprocess.Popen([sluice, "run", "--quiet", "--prog", prog, "--port",
                          "net_pcap0,rx_pcap=%s,infinite_rx=1" % pcap, "--port", "net_null0,no-rx=1",
                          "--ctl-socket", sock, "--duration", "120"] + EAL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    for _ in range(200):
        if os.path.exists(sock):
            return p
        time.sleep(0.05)
    raise SystemExit("engine did not start: %s" % p.stderr.read())


def stop(p):
    p.send_signal(signal.SIGTERM)
    p.communicate(timeout=60)


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


def dump_phase(sock, seconds, dumps):
    c = Client(sock)
    end = time.time() + seconds
    while time.time() < end:
        c.req({"cmd": "map_dump", "map": "by_src"})
        dumps[0] += 1


def rate(c, seconds):
    a, t0 = c.req({"cmd": "stats"})["rx"], time.time()
    time.sleep(seconds)
    b, t1 = c.req({"cmd": "stats"})["rx"], time.time()
    return (b - a) / (t1 - t0) / 1e6


def bench_dump(sluice, obj, pcap, tmp):
    sock = os.path.join(tmp, "dump.sock")
    p = start(sluice, obj, pcap, sock)
    c = Client(sock)
    fill(c, 10000)
    entries = len(c.req({"cmd": "map_dump", "map": "by_src"})["entries"])
    time.sleep(0.5)
    print("== control socket: worker Mpps while a client dumps a %d-entry HASH in a loop" % entries)
    base, loaded = [], []
    for _ in range(2):
        base.append(rate(c, 2.0))
        dumps = [0]
        t = threading.Thread(target=dump_phase, args=(sock, 2.2, dumps))
        t.start()
        time.sleep(0.1)
        loaded.append(rate(c, 2.0))
        t.join()
        print("  no client %7.3f Mpps | dumping (%3d dumps) %7.3f Mpps | ratio %.3f" %
              (base[-1], dumps[0], loaded[-1], loaded[-1] / base[-1] if base[-1] else 0))
    b, l = sum(base) / len(base), sum(loaded) / len(loaded)
    print("  mean: %.3f vs %.3f Mpps, ratio %.3f (target >= 0.97; 2 shared cores: the client "
          "and the control thread compete with the worker for CPU)" % (b, l, l / b if b else 0))
    stop(p)


def bench_reload(sluice, v1, v2, pcap, tmp):
    sock = os.path.join(tmp, "reload.sock")
    p = start(sluice, v1, pcap, sock)
    c = Client(sock)
    time.sleep(1.0)
    samples = []
    end = time.time() + 0.3
    while time.time() < end:
        samples.append((time.time(), c.req({"cmd": "stats"})["rx"]))
        time.sleep(0.01)
    t_swap = time.time()
    res = c.req({"cmd": "prog_reload", "file": v2})
    t_done = time.time()
    end = time.time() + 0.3
    while time.time() < end:
        samples.append((time.time(), c.req({"cmd": "stats"})["rx"]))
        time.sleep(0.01)
    stop(p)
    print("== hot reload: rx Mpps per ~10 ms step around the swap (reload took %.1f ms in the "
          "engine, %.1f ms for the client)" % (res["ms"], (t_done - t_swap) * 1e3))
    line, rates = [], []
    for (ta, a), (tb, b) in zip(samples, samples[1:]):
        r = (b - a) / (tb - ta) / 1e6
        rates.append(r)
        mark = "|" if ta <= t_swap < tb else ""
        line.append("%s%.1f" % (mark, r))
    for i in range(0, len(line), 10):
        print("  " + " ".join(line[i:i + 10]))
    print("  min %.2f Mpps, max %.2f Mpps ('|' marks the step holding the reload)" %
          (min(rates), max(rates)))


def main():
    if len(sys.argv) != 6:
        print(__doc__)
        sys.exit(2)
    sluice, pcapgen, mix, v1, v2 = sys.argv[1:6]
    with tempfile.TemporaryDirectory() as tmp:
        pcap = os.path.join(tmp, "in.pcap")
        subprocess.run([pcapgen, "-n", "500", "-s", "7", "-o", pcap], check=True)
        bench_dump(sluice, mix, pcap, tmp)
        bench_reload(sluice, v1, v2, pcap, tmp)


if __name__ == "__main__":
    main()
