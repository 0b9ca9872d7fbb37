#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""sluice's local traffic harness: a generator process joined to the engine
over net_memif, no NIC needed.

  generator (sl-memgen, or dpdk-testpmd flowgen, or Pktgen-DPDK)
      net_memif client  <== one memif link ==>  net_memif server
                                                engine: `sluice run` (a program),
                                                or `dpdk-testpmd --forward-mode=io`
The engine sends every packet it passes back over the same link (one port:
sluice's XDP_PASS and XDP_TX, testpmd's loop topology), so the generator
both sends and receives. Each side is its own DPDK process with its own
--file-prefix; the generator runs on the first CPU this process may use,
the engine's worker on the second (sluice places its worker there itself).

sl-memgen writes a TSC stamp into every frame's payload and reads it back:
Mpps, Gbit/s (on the wire: frame + 4 FCS + 20 preamble/gap), latency
percentiles. Every scenario is measured in the same run against testpmd's io
forwarding over the same link, the framework's ceiling.

usage: harness.py --build BUILD [--quick | --bench] [--out DIR]
  --quick   smoke test (make test, suite pktgen): pass-through, drop-all and
            proto_count through sluice and io forwarding through testpmd at a
            paced 50 kpps for 1 s each; checks that packets flow and every
            counter adds up exactly (generator tx = engine rx = the verdicts;
            engine tx = generator rx; proto_count's map sums to what was sent)
  --bench   the sweep of `make bench`: frame sizes 64..1518 (pass-through vs
            testpmd), every program at 64 B, latency CDFs at a paced rate,
            flowtable at 1/1024/65536 flows, proto_count per protocol mix
            against testpmd, testpmd flowgen as a second generator,
            Pktgen-DPDK when on PATH;
            writes DIR/harness.json for scripts/bench-report.py
Exit 0, 1 on a failed check or a process that failed, 77 when dpdk-testpmd
or the memif driver is missing (quick mode only).
"""
import argparse
import atexit
import glob
import json
import os
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../tests/common"))
from sltest import require  # noqa: E402
import sltest as sl  # noqa: E402

EAL_COMMON = ["--no-huge", "--no-pci", "-m", "512", "--log-level=*:warning"]
SIZES = [64, 128, 256, 512, 1024, 1518]
# IP protocol of frame i % 10 in sl-memgen's "mix" (TCP, UDP, TCP, UDP,
# UDP over IPv6, TCP, UDP, TCP, UDP, ICMP: see set_mix() in sl-memgen.c).
MIX_PROTO = [6, 17, 6, 17, 17, 6, 17, 6, 17, 1]
PROGRAMS = ["pass", "drop", "proto_count", "firewall", "snaplen", "flowtable", "l4lb",
            "ratelimit"]


# The CPUs this process may use: the generator on the first, the engine's
# worker on the second (the same one when there is only one).
CPUS = sorted(os.sched_getaffinity(0))
GEN_CPU = CPUS[0]
ENGINE_CPU = CPUS[1] if len(CPUS) > 1 else CPUS[0]


class HarnessError(Exception):
    pass


def wait_for(proc, path, needle, timeout=60):
    """Wait until the log at path contains needle (the process is ready)."""
    end = time.time() + timeout
    while time.time() < end:
        with open(path, errors="replace") as f:
            if needle in f.read():
                return
        if proc.poll() is not None:
            with open(path, errors="replace") as f:
                raise HarnessError("engine exited (%d) before it was ready: %s" %
                                   (proc.returncode, f.read().strip()[-600:]))
        time.sleep(0.1)
    raise HarnessError("engine not ready after %d s" % timeout)


def cpu_seconds(pid):
    """CPU time (user + system, every thread) process pid has used so far."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


class Engine:
    """sluice running one program, or testpmd io forwarding, as a memif server."""

    def __init__(self, h, kind, prog=None, maps=()):
        self.h, self.kind, self.prog, self.maps = h, kind, prog, list(maps)
        self.n = h.next_id()
        self.sock = os.path.join(h.tmp, "m%d.sock" % self.n)
        self.log = os.path.join(h.tmp, "engine%d.log" % self.n)
        self.json = os.path.join(h.tmp, "engine%d.json" % self.n)
        self.proc = None

    def start(self):
        port = "net_memif0,role=server,socket=%s" % self.sock
        prefix = "slh-e%d-%d" % (os.getpid(), self.n)
        if self.kind == "sluice":
            cmd = [self.h.sluice, "run", "--prog", self.h.obj(self.prog), "--port", port,
                   "--stats-interval", "0", "--json", self.json]
            for m in self.maps:
                cmd += ["--map", m]
            cmd += ["--", "--file-prefix", prefix]
            ready = "sluice: running"
        else:
            cmd = [self.h.testpmd] + EAL_COMMON + ["--file-prefix", prefix, "--lcores",
                                                   "0@%d,1@%d" % (GEN_CPU, ENGINE_CPU),
                                                   "--vdev", port, "--",
                                                   "--forward-mode=io", "--auto-start",
                                                   "--port-topology=loop",
                                                   "--total-num-mbufs=16384",
                                                   # a packed pool, as sluice's without
                                                   # hugepages (README: Mbuf pool)
                                                   "--mp-alloc=xbuf"]
            ready = "Press enter"
        with open(self.log, "w") as log:
            self.proc = subprocess.Popen(["stdbuf", "-oL"] + cmd, stdout=log,
                                         stderr=subprocess.STDOUT, stdin=subprocess.PIPE)
        wait_for(self.proc, self.log, ready)

    def stop(self):
        """Stop; the engine's counters {rx, tx, drop, ...} (and maps for sluice)."""
        if self.kind == "sluice":
            self.proc.send_signal(signal.SIGINT)
        else:
            self.proc.stdin.write(b"\n")
            self.proc.stdin.flush()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise HarnessError("engine did not stop within 30 s")
        with open(self.log, errors="replace") as f:
            text = f.read()
        if self.proc.returncode != 0:
            raise HarnessError("engine %s %s: exit %d: %s" % (self.kind, self.prog or "",
                                                             self.proc.returncode,
                                                             text.strip()[-600:]))
        if self.kind == "sluice":
            with open(self.json) as f:
                out = json.load(f)
            return dict(out["stats"], maps=out["maps"])
        return testpmd_totals(text)


def testpmd_totals(text):
    """RX/TX packets of testpmd's final 'Accumulated forward statistics' block."""
    block = text.split("Accumulated forward statistics for all ports")
    if len(block) < 2:
        raise HarnessError("testpmd printed no final statistics")
    nums = {}
    for tok in block[-1].replace(":", " ").split("\n")[:6]:
        parts = tok.split()
        for i in range(0, len(parts) - 1, 2):
            if parts[i + 1].isdigit():
                nums[parts[i]] = int(parts[i + 1])
    return {"rx": nums.get("RX-packets", 0), "tx": nums.get("TX-packets", 0),
            "drop": nums.get("TX-dropped", 0) + nums.get("RX-dropped", 0)}


class Harness:
    def __init__(self, args, tmp):
        b = args.build
        self.sluice = os.path.join(b, "engine", "sluice")
        self.memgen_path = os.path.join(b, "pktgen-tests", "sl-memgen")
        self.objdirs = [os.path.join(b, "pktgen-tests"), os.path.join(b, "examples")]
        self.testpmd = shutil.which("dpdk-testpmd")
        self.tmp, self.ids, self.results = tmp, 0, []
        self.srcdir = os.path.dirname(os.path.abspath(__file__))

    def next_id(self):
        self.ids += 1
        return self.ids

    def obj(self, prog):
        for d in self.objdirs:
            p = os.path.join(d, prog + ".bpf.o")
            if os.path.exists(p):
                return p
        raise HarnessError("no object for program %s" % prog)

    def gen_eal(self, sock, n):
        return EAL_COMMON + ["--file-prefix", "slh-g%d-%d" % (os.getpid(), n),
                             "--lcores", "0@%d" % GEN_CPU,
                             "--vdev", "net_memif0,role=client,socket=%s" % sock]

    def memgen(self, eng, size, flows, mix, duration, rate=0, cdf=None):
        """Run sl-memgen against eng; stop eng while the generator holds the link
        (see --hold in sl-memgen.c). (generator results, engine counters)."""
        cmd = [self.memgen_path] + self.gen_eal(eng.sock, eng.n) + [
            "--", "--size", str(size), "--flows", str(flows), "--mix", mix,
            "--duration", str(duration), "--rate", str(rate), "--hold"]
        if cdf:
            cmd += ["--cdf", cdf]
        p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        out, lines, t0 = {}, [], time.time()
        cpu0 = cpu_seconds(eng.proc.pid)
        for line in p.stdout:
            lines.append(line)
            if line.strip() == "holding":
                break
            if "=" in line:
                k, v = line.strip().split("=", 1)
                out[k] = float(v) if "." in v else int(v)
            if time.time() - t0 > duration + 60:
                break
        # The engine's CPU share while the generator ran: on a shared machine a
        # busy-polling worker gets what the scheduler leaves it.
        cpu_share = (cpu_seconds(eng.proc.pid) - cpu0) / max(time.time() - t0, 1e-3)
        try:
            e = eng.stop()
            e["cpu_share"] = cpu_share
        finally:
            try:
                _, err = p.communicate("\n", timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
                _, err = p.communicate()
        if p.returncode != 0 or "tx" not in out:
            raise HarnessError("sl-memgen exit %d: %s" % (p.returncode, err.strip()[-400:]))
        return out, e

    def flowgen(self, eng, size, flows, duration):
        """testpmd flowgen as the generator: what came back, over wall time."""
        cmd = [self.testpmd] + EAL_COMMON + [
            "--file-prefix", "slh-g%d-%d" % (os.getpid(), eng.n),
            "--lcores", "0@%d,1@%d" % (GEN_CPU, GEN_CPU),
            "--vdev", "net_memif0,role=client,socket=%s" % eng.sock, "--",
            "--forward-mode=flowgen", "--txpkts=%d" % (size - 4),
            "--flowgen-flows=%d" % flows, "--auto-start", "--total-num-mbufs=16384"]
        log = os.path.join(self.tmp, "flowgen%d.log" % eng.n)
        with open(log, "w") as f:
            p = subprocess.Popen(["stdbuf", "-oL"] + cmd, stdout=f, stderr=subprocess.STDOUT,
                                 stdin=subprocess.PIPE)
        wait_for(p, log, "Press enter")
        t0 = time.time()
        time.sleep(duration)
        p.stdin.write(b"\n")
        p.stdin.flush()
        p.wait(timeout=30)
        secs = time.time() - t0
        with open(log, errors="replace") as f:
            tot = testpmd_totals(f.read())
        return {"tx": tot["tx"], "rx": tot["rx"], "seconds": secs,
                "mpps": tot["rx"] / secs / 1e6,
                "gbps_l1": tot["rx"] * (size + 20) * 8 / secs / 1e9}

    def one(self, label, kind, prog=None, maps=(), gen="memgen", **kw):
        eng = Engine(self, kind, prog, maps)
        eng.start()
        if gen == "flowgen":
            try:
                g = self.flowgen(eng, kw["size"], kw["flows"], kw["duration"])
            finally:
                e = eng.stop()
        else:
            g, e = self.memgen(eng, **kw)
        if kind == "testpmd":
            # memif in the server role leaves testpmd's RX counter at 0: what
            # testpmd took off the link is what came back plus its TX drops.
            e["rx"] = max(e["rx"], g["rx"] + e["drop"])
        res = {"label": label, "engine": kind, "prog": prog, "generator": gen,
               "size": kw.get("size"), "flows": kw.get("flows"), "gen": g,
               "engine_stats": {k: v for k, v in e.items() if k != "maps"}}
        res["engine_mpps"] = e["rx"] / g["seconds"] / 1e6
        if e.get("cpu_share"):
            res["cpu_share"] = e["cpu_share"]
        self.results.append(res)
        return res, e


def quick(h):
    """Smoke test: packets flow, and every counter adds up exactly."""
    kw = {"size": 128, "flows": 16, "mix": "mix", "duration": 1, "rate": 50000}
    for prog in ("pass", "drop", "proto_count"):
        res, e = h.one(prog, "sluice", prog, **kw)
        g = res["gen"]
        require(g["tx"] > 2000, "%s: only %d packets sent in 1 s" % (prog, g["tx"]))
        require(e["rx"] == g["tx"],
                "%s: engine rx %d != generator tx %d" % (prog, e["rx"], g["tx"]))
        require(e["rx"] == e["tx"] + e["drop"] + e["error"],
                "%s: engine rx %d != tx + drop + error %r" % (prog, e["rx"], e))
        require(sum(e["verdicts"].values()) == e["rx"], "%s: verdicts do not sum to rx" % prog)
        require(g["rx"] == e["tx"],
                "%s: generator rx %d != engine tx %d" % (prog, g["rx"], e["tx"]))
        if prog == "drop":
            require(e["verdicts"]["drop"] == g["tx"] and g["rx"] == 0,
                    "drop: %r / generator rx %d" % (e["verdicts"], g["rx"]))
        else:
            require(e["verdicts"]["pass"] == g["tx"],
                    "%s: pass verdicts %r" % (prog, e["verdicts"]))
            require(g["stamped"] == g["rx"] and g["samples"] > 0,
                    "%s: %d of %d frames came back stamped" % (prog, g["stamped"], g["rx"]))
        if prog == "proto_count":
            counts = {x["key"]: x["value"] for x in e["maps"]["proto_count"]["entries"]}
            # sl-memgen's mix sends frame i as MIX[i % 10] (TCP, UDP over IPv4,
            # UDP over IPv6, ICMP), frames 0 .. tx-1 in order.
            want = {}
            for i in range(g["tx"]):
                want[MIX_PROTO[i % 10]] = want.get(MIX_PROTO[i % 10], 0) + 1
            require(counts == want, "proto_count: map %r, want %r" % (counts, want))
        print("ok quick %s: %d sent, %d back, engine %r, p50 %.0f us" %
              (prog, g["tx"], g["rx"], e["verdicts"], g["p50_ns"] / 1e3))
    res, e = h.one("testpmd-io", "testpmd", **kw)
    g = res["gen"]
    # memif in the server role counts no RX in testpmd's port statistics:
    # what testpmd could not send back is its TX-dropped.
    require(g["tx"] > 2000 and g["rx"] + e["drop"] == g["tx"],
            "testpmd io: generator sent %d, got %d back, testpmd %r" % (g["tx"], g["rx"], e))
    print("ok quick testpmd-io: %d sent, %d back" % (g["tx"], g["rx"]))


def preloads(h):
    """--map preloads configuring the examples for the generator's traffic
    (destination 10.9.9.9, port 80), when this sluice has --map."""
    r = subprocess.run([h.sluice, "run", "--help"], capture_output=True, text=True)
    if "--map" not in r.stdout:
        print("note: this sluice has no --map: firewall, l4lb, ratelimit run unconfigured")
        return {}
    def f(name, lines):
        p = os.path.join(h.tmp, name + ".txt")
        with open(p, "w") as fh:
            fh.write("\n".join(lines) + "\n")
        return "%s=%s" % (name, p)
    be = os.path.join(h.tmp, "be-in.txt")
    with open(be, "w") as fh:
        fh.write("1 10.1.0.1 02:00:00:00:01:01\n2 10.1.0.2 02:00:00:00:01:02\n")
    tab, bes = os.path.join(h.tmp, "lb_maglev.txt"), os.path.join(h.tmp, "lb_backends.txt")
    subprocess.run([sys.executable, os.path.join(h.srcdir, "..", "examples", "l4lb-maglev.py"),
                    be, tab, bes], check=True)
    return {
        "firewall": [f("blocklist_v4", ["192.0.2.0/24", "10.0.200.0/24"]),
                     f("blocklist_v6", ["2001:db8:dead::/48"]),
                     f("allow_ports", ["{proto: 17, port: 80}", "{proto: 6, port: 80}"])],
        "l4lb": [f("lb_vips", ["{addr: 10.9.9.9, port: 80, proto: 17}",
                               "{addr: 10.9.9.9, port: 80, proto: 6}"]),
                 "lb_maglev=" + tab, "lb_backends=" + bes,
                 f("lb_config", ["0 {local_addr: 192.0.2.1}"])],
        "ratelimit": [f("rl_config", ["0 {rate_pps: 100000000, burst: 1000000}"])],
    }


def bench(h, out):
    """The sweep; a run that fails is recorded with its reason, the rest go on."""
    def run(label, kind, prog=None, **kw):
        try:
            return h.one(label, kind, prog, **kw)[0]
        except (HarnessError, OSError, subprocess.SubprocessError) as e:
            print("FAILED %s %s %s: %s" % (label, kind, prog or "", e))
            h.results.append({"label": label + "-failed", "engine": kind, "prog": prog,
                              "error": str(e)})
            return None

    dur = 2
    base = {"flows": 256, "mix": "udp", "duration": dur}
    for size in SIZES:  # alternating sluice pass-through and its anchor
        for kind in ("testpmd", "sluice"):
            res = run("size", kind, "pass" if kind == "sluice" else None, size=size, **base)
            if res:
                print("size %4d %-8s %7.3f Mpps back  %6.3f Gbit/s  engine rx %7.3f Mpps" %
                      (size, kind, res["gen"]["mpps"], res["gen"]["gbps_l1"],
                       res["engine_mpps"]))
    maps = preloads(h)
    for prog in ["testpmd"] + PROGRAMS:
        kind = "testpmd" if prog == "testpmd" else "sluice"
        res = run("program", kind, None if kind == "testpmd" else prog,
                  maps=maps.get(prog, ()), size=64, **base)
        if res:
            print("prog %-12s %7.3f Mpps back  engine rx %7.3f Mpps  drops %d" %
                  (prog, res["gen"]["mpps"], res["engine_mpps"], res["engine_stats"]["drop"]))
    for flows in (1, 1024, 65536):  # flow-table size against the flow count
        res = run("flows", "sluice", "flowtable", size=64, flows=flows, mix="udp", duration=dur)
        if res:
            print("flows %6d flowtable %7.3f Mpps back" % (flows, res["gen"]["mpps"]))
    for mix in ("udp", "tcp", "v6", "mix"):  # protocol mix, 128 B (room for every stack)
        for kind in ("testpmd", "sluice"):
            res = run("mix", kind, "proto_count" if kind == "sluice" else None, size=128,
                      flows=256, mix=mix, duration=dur)
            if res:
                res["mix"] = mix
                print("mix %-4s %-8s %7.3f Mpps back" % (mix, kind, res["gen"]["mpps"]))
    for kind in ("testpmd", "sluice"):
        cdf = os.path.join(out, "latency-%s.cdf" % kind)
        res = run("latency", kind, "pass" if kind == "sluice" else None, size=64,
                  flows=256, mix="udp", duration=dur, rate=20000, cdf=cdf)
        if res:
            g = res["gen"]
            print("latency %-8s at 20 kpps: p50 %.1f us  p99 %.1f us  p99.9 %.1f us" %
                  (kind, g["p50_ns"] / 1e3, g["p99_ns"] / 1e3, g["p999_ns"] / 1e3))
    for kind in ("testpmd", "sluice"):
        res = run("flowgen", kind, "pass" if kind == "sluice" else None, gen="flowgen",
                  size=64, flows=1024, duration=dur)
        if res:
            print("flowgen %-8s %7.3f Mpps back (testpmd flowgen generator)" %
                  (kind, res["gen"]["mpps"]))
    if shutil.which("pktgen"):
        print("note: Pktgen-DPDK found on PATH; its memif scenario is not automated here "
              "(pktgen-tests/*.lua are for real NICs, see README)")
    else:
        print("SKIP: Pktgen-DPDK (pktgen) not on PATH: its scenarios are left out "
              "(README: building Pktgen-DPDK)")


def remove_runtime_dirs():
    """testpmd and sl-memgen keep DPDK's runtime directory (/var/run/dpdk/PREFIX)
    after they exit; the harness removes the ones its processes made."""
    for d in glob.glob(os.path.join(sl.RUNTIME, "slh-[eg]%d-*" % os.getpid())):
        shutil.rmtree(d, ignore_errors=True)


def main():
    atexit.register(remove_runtime_dirs)
    ap = argparse.ArgumentParser(description="sluice local traffic harness (net_memif)")
    ap.add_argument("--build", required=True)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--bench", action="store_true")
    ap.add_argument("--out", default="bench-results")
    args = ap.parse_args()
    if args.quick == args.bench:
        ap.error("give one of --quick and --bench")
    if not shutil.which("dpdk-testpmd") or not sl.pmd_available("memif") or \
            not shutil.which("stdbuf"):
        print("SKIP: dpdk-testpmd, stdbuf or DPDK's net_memif driver missing")
        return 77
    with sl.tmpdir("sluice-harness-") as tmp:
        h = Harness(args, tmp)
        try:
            if args.quick:
                quick(h)
                return 0
            os.makedirs(args.out, exist_ok=True)
            t0 = time.time()
            bench(h, args.out)
            with open(os.path.join(args.out, "harness.json"), "w") as f:
                json.dump({"results": h.results, "seconds": time.time() - t0}, f, indent=1)
        except HarnessError as e:
            print("FAIL: %s" % e)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
