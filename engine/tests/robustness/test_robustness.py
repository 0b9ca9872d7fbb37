#!/usr/bin/env python3
"""sluice under bad input: numbers, options, signals, EAL options, paths,
link types, jumbo frames, device arguments, net_pcap queues, leftovers.

usage: test_robustness.py SLUICE PCAPGEN PROTO_COUNT.o BENCH_MAPS CASE

Every expectation is computed here (pcap records parsed by this script,
device keys read from the drivers' own PMD_INFO_STRING, link types from
libpcap through ctypes), never taken from an earlier sluice run. A usage
error must exit 2 and a run error 1, each with exactly one line on stderr;
no run may leave /var/run/dpdk/<its prefix> or a file in its directory.
"""
import ctypes
import ctypes.util
import glob
import hashlib
import os
import random
import re
import signal
import struct
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "../../../tests/common"))
from sltest import RUNTIME as DPDK_RUN, fail  # noqa: E402
import sltest as sl  # noqa: E402


class Env:
    def __init__(self, argv, tmp):
        self.sluice, self.pcapgen, self.obj, self.bench_maps = map(os.path.abspath, argv[1:5])
        self.tmp = tmp

    def path(self, name):
        return os.path.join(self.tmp, name)

    def gen(self, name, n, seed):
        return sl.gen_pcap(self.pcapgen, self.path(name), n, seed)

    def run(self, args, timeout=60, cmd="run"):
        """One sluice command; checks its DPDK runtime directory is gone."""
        p = subprocess.Popen([self.sluice, cmd] + args, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, cwd=self.tmp)
        try:
            out, err = p.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.communicate()
            fail("sluice %s %s: still running after %d s" % (cmd, " ".join(args), timeout))
        check_no_runtime_dir("sluice-%d" % p.pid)
        return p.returncode, out, err


def check_no_runtime_dir(prefix):
    d = os.path.join(DPDK_RUN, prefix)
    if os.path.exists(d):
        fail("%s left behind (%r)" % (d, os.listdir(d)))


def err_lines(err):
    return [l for l in err.splitlines() if l.strip()]


def expect_error(env, label, args, needle, code, cmd="run"):
    rc, out, err = env.run(args, cmd=cmd)
    lines = err_lines(err)
    if rc != code:
        fail("%s: exit %d, want %d (stderr %r)" % (label, rc, code, err))
    if len(lines) != 1 or needle not in lines[0]:
        fail("%s: want one stderr line containing %r, got %r" % (label, needle, lines))
    return lines[0]


def expect_ok(env, label, args, needle="stats: rx", cmd="run"):
    rc, out, err = env.run(args, cmd=cmd)
    if rc != 0 or needle not in out:
        fail("%s: exit %d, want 0 and %r in stdout (stdout %r, stderr %r)"
             % (label, rc, needle, out[-400:], err))
    return out, err


def sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


# ---- pcap files written and read by this script ----

def frame(n, seed):
    """An Ethernet/IPv4 frame of n bytes with a recognisable payload."""
    head = bytes.fromhex("020000000001020000000002") + b"\x08\x00"
    body = bytes((seed + i) & 0xFF for i in range(n - len(head)))
    return head + body


# ---- cases ----

def case_numbers(env):
    pc = env.gen("n.pcap", 5, 1)
    port = "net_pcap0,rx_pcap=" + pc
    base = ["--prog", env.obj, "--port", port]
    bad = {
        "--duration": ["nan", "0", "-0", "-1", "1e3x", "inf", "", "1.5.2", "1s2", "10x", "5e99"],
        "--stats-interval": ["nan", "-1", "-0", "inf", "x", "", "1e99"],
        "--workers": ["0", "-1", "65", "1e3", "10x", "", "5e9", "0x", "nan", "1.5"],
    }
    n = 0
    for opt, values in bad.items():
        for v in values:
            expect_error(env, "run %s %r" % (opt, v), base + [opt, v], opt, 2)
            n += 1
    for v in ["2", "-1", "yes", "", "1x", "nan"]:
        expect_error(env, "infinite_rx=%s" % v, ["--prog", env.obj, "--port",
                                                  port + ",infinite_rx=" + v], "infinite_rx", 2)
        n += 1
    for v in ["-1", "5e9", "1e3", "10x", "0", "", "nan", "2000000", "0x"]:
        expect_error(env, "bench --repeat %r" % v,
                     ["--prog", env.obj, "--pcap", pc, "--repeat", v], "--repeat", 2, cmd="bench")
        n += 1
    for v in ["nan", "0", "1e3", "-1", "300000", "10x"]:
        expect_error(env, "replay -s %r" % v, ["--filter", "ip", "-s", v, "-r", pc], "-s", 2,
                     cmd="replay")
        n += 1
    for opt in ("--timeout", "--interval", "--top", "--count"):
        for v in ["nan", "-1", "1e3x", "", "inf"]:
            expect_error(env, "ctl %s %r" % (opt, v), [opt, v, "--socket", env.path("none.sock"),
                                                      "stats"], opt, 2, cmd="ctl")
            n += 1
    for v in ["-1", "5e9", "1e3", "x", "nan", ""]:
        expect_error(env, "verify --mem-size %r" % v, ["--raw", env.obj, "--mem-size", v],
                     "--mem-size", 2, cmd="verify")
        n += 1
    # good spellings: units and fractions
    out, _ = expect_ok(env, "run --duration 250ms",
                       ["--prog", env.obj, "--port", "net_null0", "--duration", "250ms",
                        "--stats-interval", "0", "--no-maps"], "stopped (duration reached)")
    m = re.search(r"after ([0-9.]+) s", out)
    if not m or not 0.2 <= float(m.group(1)) < 5:
        fail("--duration 250ms ran %s s" % (m.group(1) if m else "?"))
    print("ok numbers: %d bad values refused with the option named, exit 2; 250ms honoured" % n)


def case_options(env):
    pc = env.gen("o.pcap", 5, 1)
    port = "net_pcap0,rx_pcap=" + pc
    cases = [
        ("run", ["--prog", env.obj, "--port", port, "--frob"], "'--frob'"),
        ("run", ["--prog", env.obj, "--port", port, "--frob=1"], "--frob"),
        ("run", ["--prog", env.obj, "--port", port, "-q"], "'-q'"),
        ("run", ["--prog", env.obj, "--port", port, "--duration"], "--duration"),
        ("run", ["--prog", env.obj, "--port", port, "stray"], "stray"),
        ("bench", ["--prog", env.obj, "--pcap", pc, "--frob"], "'--frob'"),
        ("bench", ["--prog", env.obj, "--pcap"], "--pcap"),
        ("verify", [env.obj, "--frob"], "'--frob'"),
        ("disasm", [env.obj, "--frob"], "'--frob'"),
        ("test-run", ["--frob"], "'--frob'"),
        ("frobnicate", [], "frobnicate"),
    ]
    for cmd, args, needle in cases:
        expect_error(env, "%s %s" % (cmd, " ".join(args)), args, needle, 2, cmd=cmd)
    # run errors (files) exit 1
    expect_error(env, "missing pcap", ["--prog", env.obj, "--port",
                                       "net_pcap0,rx_pcap=" + env.path("none.pcap")],
                 "none.pcap", 1)
    expect_error(env, "missing object", ["--prog", env.path("none.o"), "--port", port],
                 "none.o", 1)
    print("ok options: %d unknown or incomplete options named (exit 2); bad files exit 1"
          % len(cases))


# SIGHUP is not a stop: it re-reads the config (engine/service.c, ops suite).
STOP_SIGS = [signal.SIGINT, signal.SIGTERM, signal.SIGQUIT, signal.SIGALRM]


def one_signal_run(env, rnd):
    sig = rnd.choice(STOP_SIGS + [signal.SIGUSR1])
    delay = rnd.uniform(0, 1.0)
    p = subprocess.Popen([env.sluice, "run", "--prog", env.obj, "--port", "net_null0,no-rx=1",
                          "--duration", "1.2", "--stats-interval", "0", "--no-maps"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=env.tmp)
    t0 = time.monotonic()
    while not sl.catches_sigint(p.pid) and time.monotonic() - t0 < 10:
        time.sleep(0.001)
    time.sleep(delay)
    p.send_signal(sig)
    try:
        out, err = p.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        p.kill()
        p.communicate()
        return "%s at %.3f s: still running 30 s later" % (sig.name, delay)
    if os.path.exists(os.path.join(DPDK_RUN, "sluice-%d" % p.pid)):
        return "%s at %.3f s: /var/run/dpdk/sluice-%d left behind" % (sig.name, delay, p.pid)
    want = "stopped (duration reached)" if sig == signal.SIGUSR1 else "stopped (%s)" % sig.name
    if p.returncode != 0 or want not in out or "stats: rx" not in out or err.strip():
        return "%s at %.3f s: exit %d, stdout %r, stderr %r" % (sig.name, delay, p.returncode,
                                                                 out[-300:], err)
    if sig == signal.SIGUSR1 and "rx total" not in out:
        return "SIGUSR1 at %.3f s: no counters line" % delay
    return None


def case_signals(env):
    """100 runs, a random signal at a random time in the first second after
    the handlers are in (the kernel shows them in SigCgt: the dynamic loader
    is done, no library constructor has run yet), 8 at a time."""
    rnd = random.Random(int(os.environ.get("SLUICE_SIGNAL_SEED", time.time())))
    seeds = [rnd.randrange(1 << 30) for _ in range(100)]
    with ThreadPoolExecutor(max_workers=8) as ex:
        res = list(ex.map(lambda s: one_signal_run(env, random.Random(s)), seeds))
    bad = [r for r in res if r]
    if bad:
        fail("%d of 100 signal runs: %s" % (len(bad), bad[:3]))
    print("ok signals: 100 runs, each stopped with a report (or ran to --duration after "
          "SIGUSR1 with a counters line), no runtime directory left")


def case_eal(env):
    port = "net_pcap0,rx_pcap=" + env.gen("e.pcap", 20, 1)
    base = ["--prog", env.obj, "--port", port, "--no-maps", "--"]
    prefix = "sluice-robust-%d" % os.getpid()
    for extra in (["-m", "512"], ["--in-memory"], ["--file-prefix", prefix],
                  ["--file-prefix=" + prefix, "-m", "256"], ["--no-huge", "-m", "256"],
                  ["--no-shconf"], ["--log-level=*:error"]):
        out, err = expect_ok(env, "EAL %s" % " ".join(extra), base + extra)
        if "Usage" in out or "Usage" in err:
            fail("EAL %s: usage printed" % extra)
        check_no_runtime_dir(prefix)
    for extra, needle in ((["--frob"], "--frob"), (["-m"], "'m'"), (["--help"], "--help"),
                          (["--lcores"], "lcores")):
        line = expect_error(env, "EAL %s" % " ".join(extra), base + extra, needle, 2)
        if len(line) > 200:
            fail("EAL %s: error line of %d characters" % (extra, len(line)))
    check_no_runtime_dir(prefix)
    print("ok eal: user options merged (-m keeps --no-huge, --in-memory without hugepages, "
          "--file-prefix leaves nothing); bad EAL options one line, exit 2")


def case_paths(env):
    inp = env.gen("in.pcap", 30, 1)
    other = env.gen("other.pcap", 30, 2)
    os.symlink("in.pcap", env.path("link.pcap"))
    os.link(inp, env.path("hard.pcap"))
    objcopy = env.path("prog.o")
    with open(env.obj, "rb") as a, open(objcopy, "wb") as b:
        b.write(a.read())
    before = {p: sha(p) for p in (inp, other, objcopy)}
    listing = sorted(os.listdir(env.tmp))
    P = "net_pcap0,rx_pcap=in.pcap"
    cases = [
        ("tx_pcap = rx_pcap", ["--port", P + ",tx_pcap=in.pcap"]),
        ("tx_pcap = ./rx_pcap", ["--port", P + ",tx_pcap=./in.pcap"]),
        ("tx_pcap = symlink to rx_pcap", ["--port", P + ",tx_pcap=link.pcap"]),
        ("tx_pcap = hard link to rx_pcap", ["--port", P + ",tx_pcap=hard.pcap"]),
        ("tx_pcap = absolute rx_pcap", ["--port", P + ",tx_pcap=" + inp]),
        ("port 1 tx_pcap = port 0 rx_pcap",
         ["--port", P, "--port", "net_pcap1,rx_pcap=other.pcap,tx_pcap=link.pcap"]),
        ("--json = rx_pcap", ["--port", P, "--json", "hard.pcap"]),
        ("--json = --prog", ["--port", P, "--json", "prog.o"]),
        ("tx_pcap = --prog", ["--port", P + ",tx_pcap=prog.o"]),
        ("two tx_pcap, one new file",
         ["--port", P + ",tx_pcap=new.pcap", "--port", "net_pcap1,tx_pcap=new.pcap"]),
        ("--json = new tx_pcap", ["--port", P + ",tx_pcap=new.pcap", "--json", "new.pcap"]),
    ]
    for label, args in cases:
        expect_error(env, label, ["--prog", "prog.o"] + args, "refusing" if "new" not in label
                     else "new.pcap", 1)
    with open(env.path("c.yaml"), "w") as f:
        f.write("program: {object: prog.o}\nports:\n  - {device: \"%s\"}\n" % P)
    with open(env.path("pre.txt"), "w") as f:
        f.write("6 1\n")
    before.update({env.path("c.yaml"): sha(env.path("c.yaml")),
                   env.path("pre.txt"): sha(env.path("pre.txt"))})
    listing = sorted(os.listdir(env.tmp))
    expect_error(env, "--json = the config file", ["-c", "c.yaml", "--json", "c.yaml"],
                 "refusing", 1)
    expect_error(env, "--json = a preload file", ["--prog", "prog.o", "--port", P, "--map",
                                                  "proto_count=pre.txt", "--json", "pre.txt"],
                 "refusing", 1)
    expect_error(env, "--json into a missing directory",
                 ["--prog", "prog.o", "--port", P, "--json", "nodir/out.json"], "nodir", 1)
    expect_error(env, "tx_pcap into a missing directory",
                 ["--prog", "prog.o", "--port", P + ",tx_pcap=nodir/o.pcap"], "nodir", 1)
    os.mkfifo(env.path("fifo.pcap"))
    expect_error(env, "rx_pcap a FIFO", ["--prog", "prog.o", "--port",
                                         "net_pcap0,rx_pcap=fifo.pcap"], "not a regular file", 1)
    os.unlink(env.path("fifo.pcap"))
    os.mkdir(env.path("adir"))
    expect_error(env, "--json = a directory", ["--prog", "prog.o", "--port", P, "--json", "adir"],
                 "not a file", 1)
    os.rmdir(env.path("adir"))
    for p, h in before.items():
        if sha(p) != h:
            fail("%s changed by a refused run" % p)
    if sorted(os.listdir(env.tmp)) != listing:
        fail("refused runs left files: %r" % sorted(set(os.listdir(env.tmp)) - set(listing)))
    # a write that fails at the end: exit 1, the stats still on stderr
    rc, out, err = env.run(["--prog", "prog.o", "--port", P, "--json", "/dev/full", "--quiet"])
    if rc != 1 or "/dev/full" not in err or "stats: rx 30" not in err:
        fail("--json /dev/full: exit %d, stderr %r" % (rc, err))
    print("ok paths: %d outputs over inputs refused before opening (symlink, hard link, "
          "./, absolute); missing directories at start; /dev/full keeps the stats" % len(cases))


def case_endless(env):
    """A port with only tx_pcap reads nothing: said at start, SIGINT ends it."""
    p = subprocess.Popen([env.sluice, "run", "--prog", env.obj, "--port",
                          "net_pcap0,tx_pcap=" + env.path("t.pcap"), "--stats-interval", "0",
                          "--no-maps"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, cwd=env.tmp)
    os.set_blocking(p.stderr.fileno(), True)
    line = p.stderr.readline()
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=30)
    if "nothing to read" not in line or "net_pcap0" not in line:
        fail("tx_pcap-only port: first stderr line %r" % line)
    if p.returncode != 0 or "stopped (SIGINT)" not in out:
        fail("tx_pcap-only port: exit %d, stdout %r" % (p.returncode, out[-300:]))
    check_no_runtime_dir("sluice-%d" % p.pid)
    print("ok endless: a tx_pcap-only port said so at start: %s" % line.strip())


LIBPCAP = None


def libpcap():
    global LIBPCAP
    if LIBPCAP is None:
        name = ctypes.util.find_library("pcap") or "libpcap.so.0.8"
        LIBPCAP = ctypes.CDLL(name)
        LIBPCAP.pcap_datalink_val_to_name.restype = ctypes.c_char_p
        LIBPCAP.pcap_open_dead.restype = ctypes.c_void_p
        LIBPCAP.pcap_open_dead.argtypes = [ctypes.c_int, ctypes.c_int]
        LIBPCAP.pcap_dump_open.restype = ctypes.c_void_p
        LIBPCAP.pcap_dump_open.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
        LIBPCAP.pcap_dump_close.argtypes = [ctypes.c_void_p]
        LIBPCAP.pcap_close.argtypes = [ctypes.c_void_p]
    return LIBPCAP


def case_linktypes(env):
    """Every link type libpcap names: Ethernet runs, every other is refused by name."""
    lp = libpcap()
    known = [(dlt, lp.pcap_datalink_val_to_name(dlt).decode())
             for dlt in range(0, 300) if lp.pcap_datalink_val_to_name(dlt)]
    if len(known) < 50:
        fail("libpcap names only %d link types" % len(known))
    ran = refused = 0
    for dlt, name in known:
        path = env.path("lt.pcap")
        pd = lp.pcap_open_dead(dlt, 65535)
        dumper = lp.pcap_dump_open(pd, path.encode())
        if not dumper:
            lp.pcap_close(pd)
            continue  # libpcap cannot write this one: no file can have it
        lp.pcap_dump_close(dumper)
        lp.pcap_close(pd)
        args = ["--prog", env.obj, "--port", "net_pcap0,rx_pcap=lt.pcap", "--no-maps",
                "--quiet"]
        if name == "EN10MB":
            rc, out, err = env.run(args)
            if rc != 0 or err.strip():
                fail("EN10MB capture: exit %d, stderr %r" % (rc, err))
            ran += 1
        else:
            expect_error(env, "link type %s (%d)" % (name, dlt), args, "link type %s" % name, 1)
            if dlt in (12, 113, 276):  # RAW, LINUX_SLL, LINUX_SLL2: bench refuses them too
                with open(path, "ab") as f:  # one packet: bench needs one to read
                    f.write(struct.pack("<IIII", 0, 0, 20, 20) + bytes(20))
                expect_error(env, "bench link type %s" % name, ["--prog", env.obj, "--pcap",
                                                                "lt.pcap"],
                             "link type %s" % name, 1, cmd="bench")
            refused += 1
    if ran != 1:
        fail("the Ethernet capture ran %d times" % ran)
    print("ok linktypes: of %d link types libpcap names, EN10MB runs and %d are refused by "
          "name" % (len(known), refused))


def case_jumbo(env):
    sizes = [60, 1514, 2048, 9000, 16128, 16129, 20000, 40000, 65535]
    frames = [frame(n, i) for i, n in enumerate(sizes)]
    sl.write_pcap(env.path("j.pcap"), frames, snaplen=262144, stamp=sl.STAMP_USEC)
    out, _ = expect_ok(env, "jumbo net_pcap -> net_pcap",
                       ["--prog", env.obj, "--port", "net_pcap0,rx_pcap=j.pcap",
                        "--port", "net_pcap1,tx_pcap=jo.pcap", "--no-maps"])
    got = sl.read_pcap(env.path("jo.pcap"))[1]
    if [(r.cap, r.wire) for r in got] != [(n, n) for n in sizes]:
        fail("jumbo: written (caplen, len) %r, want %r" % ([(r.cap, r.wire) for r in got], sizes))
    if [r.data for r in got] != frames:
        fail("jumbo: frame bytes differ")
    if "error 0" not in out:
        fail("jumbo: errors counted: %r" % out)
    # through a net_ring too: pcap -> ring -> pcap; every record written whole
    expect_ok(env, "jumbo net_pcap -> net_ring -> net_pcap",
              ["--prog", env.obj, "--port", "net_pcap0,rx_pcap=j.pcap", "--port", "net_ring0",
               "--port", "net_pcap1,tx_pcap=jr.pcap", "--forward", "0:1", "--forward", "1:2",
               "--forward", "2:drop", "--no-maps"])
    ring = sl.read_pcap(env.path("jr.pcap"))[1]
    if not ring or any(r.data not in frames or r.cap != r.wire for r in ring):
        fail("jumbo through net_ring: %d records, (caplen, len) %r" % (
            len(ring), [(r.cap, r.wire) for r in ring]))
    sl.write_pcap(env.path("big.pcap"), [frame(64, 0), frame(65536, 1)], snaplen=262144,
                  stamp=sl.STAMP_USEC)
    expect_error(env, "a 65536-byte frame", ["--prog", env.obj, "--port",
                                             "net_pcap0,rx_pcap=big.pcap"], "65536 bytes", 1)
    print("ok jumbo: frames of %s bytes through net_pcap and net_ring whole; 65536 refused at start"
          % ", ".join(map(str, sizes)))


def pmd_params(driver):
    """Keys of a vdev driver, from the PMD_INFO_STRING DPDK embeds in its library."""
    for so in glob.glob("/usr/lib/*/dpdk/pmds-*/librte_*.so*"):
        with open(so, "rb") as f:
            data = f.read()
        for m in re.finditer(rb'PMD_INFO_STRING= (\{[^\n\x00]*\})', data):
            info = m.group(1).decode(errors="replace")
            if '"name": "%s"' % driver in info:
                params = re.search(r'"params": "([^"]*)"', info).group(1)
                return set(re.findall(r"([a-z_-]+)=", params))
    return None


def case_devargs(env):
    checked = 0
    for drv in ("net_pcap", "net_null", "net_ring", "net_tap", "net_memif", "net_af_packet"):
        line = expect_error(env, drv + " misspelt key",
                            ["--prog", env.obj, "--port", drv + "0,frobkey=1"], "'frobkey'", 2)
        takes = set(line.split("it takes: ")[1].rstrip(")").split())
        found = pmd_params(drv)
        if found is None:
            continue
        # net_memif's string runs keys into the previous value ("role=server|clientbsize="):
        # a found word is the key of sluice's list it ends with
        want = {w if w in takes else max((k for k in takes if w.endswith(k)), key=len,
                                         default=w) for w in found}
        if want != takes:
            fail("%s: the driver takes %r, sluice's list is %r" % (drv, sorted(want),
                                                                 sorted(takes)))
        checked += 1
    expect_error(env, "rx_pacp", ["--prog", env.obj, "--port",
                                  "net_pcap0,rx_pacp=x.pcap"], "'rx_pacp'", 2)
    print("ok devargs: misspelt keys named; %d drivers' key lists match their PMD_INFO_STRING"
          % checked)


def case_queues(env):
    """--workers 2 with two rx_pcap on one port: each queue its file, to its end."""
    a = env.gen("qa.pcap", 300, 1)
    b = env.gen("qb.pcap", 500, 2)
    out, _ = expect_ok(env, "two rx_pcap, two workers",
                       ["--prog", env.obj, "--workers", "2", "--port",
                        "net_pcap0,rx_pcap=qa.pcap,rx_pcap=qb.pcap,tx_pcap=oa.pcap,"
                        "tx_pcap=ob.pcap", "--json", "q.json"])
    import json
    with open(env.path("q.json")) as f:
        st = json.load(f)["stats"]
    if [w["rx"] for w in st["per_worker"]] != [300, 500] or st["rx"] != 800:
        fail("two queues: per-worker rx %r" % [w["rx"] for w in st["per_worker"]])
    if st.get("mbufs_in_use_at_exit") != 0:
        fail("mbufs_in_use_at_exit %r" % st.get("mbufs_in_use_at_exit"))
    for src, dst in ((a, "oa.pcap"), (b, "ob.pcap")):
        if sl.frames(src) != sl.frames(env.path(dst)):
            fail("%s is not %s packet for packet" % (dst, os.path.basename(src)))
    expect_error(env, "two rx_pcap, one worker",
                 ["--prog", env.obj, "--port", "net_pcap0,rx_pcap=qa.pcap,rx_pcap=qb.pcap"],
                 "one rx_pcap per worker", 1)
    print("ok queues: 300 + 500 packets, worker i read file i to its end and wrote it to "
          "tx_pcap i; mbufs_in_use_at_exit 0")


def case_leftovers(env):
    """Every command leaves nothing behind: its directory, /var/run/dpdk."""
    pc = env.gen("l.pcap", 10, 1)
    listing = sorted(os.listdir(env.tmp))
    env.run(["--prog", env.obj, "--port", "net_pcap0,rx_pcap=l.pcap", "--quiet"])
    for cmd, args in (("verify", [env.obj]), ("disasm", [env.obj]),
                      ("bench", ["--prog", env.obj, "--pcap", pc, "--repeat", "1"])):
        rc, _, err = env.run(args, cmd=cmd)
        if rc != 0:
            fail("%s: exit %d %r" % (cmd, rc, err))
    if sorted(os.listdir(env.tmp)) != listing:
        fail("commands left %r" % sorted(set(os.listdir(env.tmp)) - set(listing)))
    p = subprocess.Popen([env.bench_maps, "1", "array"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, cwd=env.tmp)
    _, err = p.communicate(timeout=120)
    if p.returncode != 0:
        fail("bench_maps: exit %d %r" % (p.returncode, err))
    check_no_runtime_dir("bench_maps_%d" % p.pid)
    if sorted(os.listdir(env.tmp)) != listing:
        fail("bench_maps left files")
    print("ok leftovers: run, verify, disasm, bench, bench_maps leave no file and no "
          "runtime directory")


def case_pci(env):
    """PCI addresses parsed, normalised, passed to the EAL (no NIC here)."""
    base = ["--prog", env.obj, "--quiet", "--port"]
    for addr in ("01:00.0", "0000:01:00.0", "0000:01:00.0,rxq_pkt_pad_en=1"):
        expect_error(env, "PCI " + addr, base + [addr], "'0000:01:00.0': no such PCI device", 1)
    for addr in ("0000:zz:00.0", "0000:01:20.0", "0000:01:00.8", "1:2:3:4.5", "01:00", "eth0"):
        expect_error(env, "bad PCI " + addr, base + [addr], addr.split(",")[0], 2)
    expect_error(env, "PCI twice", base + ["01:00.0", "--port", "0000:01:00.0"], "twice", 2)
    print("ok pci: addresses normalised and passed to the EAL (absent device named), "
          "malformed ones refused")


def case_ring(env):
    """2 workers over net_ring queues: per-CPU map slots sum exactly to rx.

    net_pcap (two infinite rx_pcap queues) -> XDP_PASS -> net_ring0 (2 queues,
    each looping its TX back to its RX) -> XDP_PASS -> net_pcap0 TX, for 1 s.
    count_all.bpf.o adds 1 to its worker's slot of a PERCPU_ARRAY per packet.
    """
    env.gen("ra.pcap", 200, 1)
    env.gen("rb.pcap", 300, 2)
    obj = os.path.join(os.path.dirname(env.obj), "..", "engine", "tests", "robustness",
                       "count_all.bpf.o")
    expect_ok(env, "2 workers over net_ring",
              ["--prog", obj, "--workers", "2", "--duration", "1", "--stats-interval", "0",
               "--port", "net_pcap0,rx_pcap=ra.pcap,rx_pcap=rb.pcap,infinite_rx=1",
               "--port", "net_ring0", "--json", "ring.json", "--quiet"], needle="")
    import json
    with open(env.path("ring.json")) as f:
        j = json.load(f)
    st, seen = j["stats"], j["maps"]["seen"]["entries"][0]
    per_worker = [w["rx"] for w in st["per_worker"]]
    if seen["per_core"] != per_worker or seen["value"] != st["rx"] or sum(per_worker) != st["rx"]:
        fail("per-CPU slots %r (sum %r), per-worker rx %r, rx %r" % (
            seen["per_core"], seen["value"], per_worker, st["rx"]))
    ports = {p["name"]: p for p in st["per_port"]}
    if ports["net_ring0"]["rx"] == 0 or min(per_worker) == 0:
        fail("no traffic through net_ring0 or a worker: %r" % st)
    if st["mbufs_in_use_at_exit"] != 0 or st["rx"] != st["tx"] + st["drop"] + st["error"]:
        fail("ring run: %r" % st)
    print("ok ring: 2 workers, %d packets (%d through net_ring0), per-CPU slots %r = "
          "per-worker rx" % (st["rx"], ports["net_ring0"]["rx"], seen["per_core"]))


def case_stall(env):
    """A finite input cut while running: said, the run stops and exits 1.

    The capture is cut to its header as soon as net_pcap holds it open (it
    opens it while the EAL starts, once the EAL's threads exist, after
    sluice counted the packets and before any is read), so net_pcap
    delivers at most what its stdio buffer had read, far fewer than the
    2,000 packets counted at start."""
    path = env.gen("cut.pcap", 2000, 1)
    p = subprocess.Popen([env.sluice, "run", "--prog", env.obj, "--port",
                          "net_pcap0,rx_pcap=cut.pcap", "--stats-interval", "0", "--no-maps"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=env.tmp)
    t0, cut = time.monotonic(), False
    while not cut and time.monotonic() - t0 < 20 and p.poll() is None:
        try:  # the EAL's threads exist before it probes devices; counting is before the EAL
            threads = len(os.listdir("/proc/%d/task" % p.pid))
            fds = [os.readlink("/proc/%d/fd/%s" % (p.pid, fd))
                   for fd in os.listdir("/proc/%d/fd" % p.pid)] if threads > 1 else []
        except OSError:
            fds = []
        if path in fds:
            os.truncate(path, 24)
            cut = True
        else:
            time.sleep(0.001)
    out, err = p.communicate(timeout=60)
    check_no_runtime_dir("sluice-%d" % p.pid)
    if not cut:
        fail("stall: never saw net_pcap open the capture")
    lines = err_lines(err)
    if p.returncode != 1 or len(lines) != 1 or "stopped delivering" not in lines[0]:
        fail("stall: exit %d, stderr %r" % (p.returncode, lines))
    m = re.search(r"after (\d+) of its 2000 packets", lines[0])
    if not m or "stopped (input stalled)" not in out or "stats: rx %s " % m.group(1) not in out:
        fail("stall: message %r, stdout %r" % (lines[0], out[-300:]))
    print("ok stall: %s" % lines[0])


def case_txfull(env):
    """A TX queue that never takes a packet (net_memif, no peer: link down)
    never stalls the worker: each burst is offered once, refused packets are
    freed and counted, the finite input still ends the run."""
    env.gen("tf.pcap", 5000, 3)
    rc, out, err = env.run(["--prog", env.obj, "--port", "net_pcap0,rx_pcap=tf.pcap", "--port",
                            "net_memif0,role=server,socket=" + env.path("m.sock"), "--json",
                            "tf.json", "--quiet"], timeout=60)
    if rc != 0:
        fail("tx never taken: exit %d, stderr %r" % (rc, err))
    import json
    with open(env.path("tf.json")) as f:
        st = json.load(f)["stats"]
    ports = {p["name"]: p for p in st["per_port"]}
    if (st["rx"], st["tx"], st["drop"], st["verdicts"]["pass"]) != (5000, 0, 5000, 5000):
        fail("tx never taken: %r" % st)
    if ports["net_memif0"]["link_up"] or st["mbufs_in_use_at_exit"] != 0:
        fail("tx never taken: memif %r, mbufs %r" % (ports["net_memif0"],
                                                     st["mbufs_in_use_at_exit"]))
    print("ok txfull: 5000 packets offered to a port that takes none (link down): all "
          "refused and counted, the run ended at the end of its input, mbufs 0")


CASES = {f.__name__[5:]: f for f in (case_txfull, case_stall, case_ring, case_pci, case_numbers, case_options, case_signals, case_eal,
                                      case_paths, case_endless, case_linktypes, case_jumbo,
                                      case_devargs, case_queues, case_leftovers)}


def main():
    if len(sys.argv) != 6 or sys.argv[5] not in CASES:
        print(__doc__)
        print("cases: " + " ".join(CASES))
        return 2
    if not sl.pmd_available("pcap"):
        print("SKIP: DPDK net_pcap driver not installed")
        return 77
    sl.remove_stale_runtime_dirs()
    with sl.tmpdir("sluice-robust-") as tmp:
        CASES[sys.argv[5]](Env(sys.argv, tmp))
    return 0


if __name__ == "__main__":
    sys.exit(main())
