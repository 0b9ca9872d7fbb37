# SPDX-License-Identifier: BSD-3-Clause
"""sltest: the scaffolding every Python test of sluice shares (the Python
side of tests/common; the C side is the sl_testsupport library).

A test finds it from its own location (meson runs the scripts from the
source tree):

    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                    "../../tests/common"))
    from sltest import EAL, fail  # noqa: E402
    import sltest as sl  # noqa: E402

What is here, and nothing that decides a test's expected results:
- Failing. fail(msg) prints "FAIL: msg", stops every process the test
  started through spawn()/run() (SIGTERM, then SIGKILL and the DPDK runtime
  directory removed) and exits 1; from a thread it ends the process.
  check(cond, what[, detail]) is the counting form: "ok WHAT" or "FAIL WHAT:
  detail", counted, never exits; exit_code() closes such a test.
  require(cond, msg) is fail() unless cond.
- Processes. EAL is the argument tail every `sluice run` of the tests ends
  with (no hugepages, 256 MB, no PCI; sluice adds its own --file-prefix),
  EAL_ARGS the same without "--", EAL_YAML the same as a config's `eal:`
  value. spawn()/run() start processes so that cleanup() (and fail()) can
  stop what still runs; wait_for_path() waits for a file (a control socket)
  while the process lives; runtime_dir() names DPDK's per-process directory,
  stale_runtime_dirs() those left by processes that are gone.
  pmd_available() says whether a DPDK virtual device driver is installed.
  Client is a raw control-socket connection (JSON lines).
- Files. tmpdir() is a temporary directory whose exit first stops the
  test's processes (their sockets and files live there). Classic pcap
  files: read_pcap() -> (header, records) with every record a Rec(sec, frac,
  cap, wire, data), either byte order, checked whole (fail() on a short
  header, a bad magic, a record cut short or trailing bytes); frames() and
  packets() are its (data) and (data, wire) views of an Ethernet capture;
  write_records() writes records as they are, write_pcap() writes frames
  with STAMP_SEC or STAMP_USEC timestamps; gen_pcap() runs sl-pcapgen.
- Packets. csum(): the Internet checksum.
"""
import collections
import glob
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

# ---- DPDK ----

EAL_ARGS = ["--no-huge", "-m", "256", "--no-pci"]
EAL = ["--"] + EAL_ARGS
EAL_YAML = json.dumps(EAL_ARGS)
RUNTIME = "/var/run/dpdk"


def runtime_dir(pid, prefix="sluice-%d"):
    """DPDK's runtime directory of the sluice (or other prefix) process pid."""
    return os.path.join(RUNTIME, prefix % pid)


def stale_runtime_dirs():
    """Names of the sluice-PID runtime directories whose process is gone (a
    sluice killed with SIGKILL cannot remove its own)."""
    if not os.path.isdir(RUNTIME):
        return set()
    return {n for n in os.listdir(RUNTIME) if n.startswith("sluice-") and n[7:].isdigit()
            and not os.path.exists("/proc/" + n[7:])}


def remove_stale_runtime_dirs():
    """Remove stale_runtime_dirs(): a later run with the same PID must not be
    blamed for them."""
    for n in stale_runtime_dirs():
        shutil.rmtree(os.path.join(RUNTIME, n), ignore_errors=True)


def pmd_available(driver):
    """True if DPDK's driver librte_net_DRIVER (pcap, memif, ...) is installed."""
    pats = ["/usr/lib/*/dpdk/pmds-*/librte_net_%s.so*", "/usr/local/lib*/**/librte_net_%s.so*",
            "/usr/lib/*/librte_net_%s.so*"]
    return any(glob.glob(p % driver, recursive=True) for p in pats)


# ---- processes ----

PROCS = []  # every process started through spawn(): stopped by cleanup()


def spawn(cmd, **kw):
    """subprocess.Popen, remembered for cleanup()."""
    p = subprocess.Popen(cmd, **kw)
    PROCS.append(p)
    return p


def run(cmd, timeout, **kw):
    """subprocess.run through spawn() (stdout and stderr captured), so that a
    timeout leaves the process for cleanup() instead of running on."""
    p = spawn(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)
    out, err = p.communicate(timeout=timeout)
    return subprocess.CompletedProcess(cmd, p.returncode, out, err)


def stop(p, sig=signal.SIGTERM, timeout=30):
    """Signal p and wait; SIGKILL after timeout s, and then remove the DPDK
    runtime directory it could not. @return p.returncode."""
    if p.poll() is None:
        p.send_signal(sig)
    try:
        p.communicate(timeout=timeout)  # pipes drained, so that it can exit
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        shutil.rmtree(runtime_dir(p.pid), ignore_errors=True)
    return p.returncode


def cleanup():
    """Stop every spawned process that still runs (stop())."""
    for p in PROCS:
        if p.poll() is None:
            stop(p)


def catches_sigint(pid):
    """True once process @p pid catches SIGINT (its signal handlers are
    installed; also when it is gone already: its exit will tell)."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("SigCgt:"):
                    return bool(int(line.split()[1], 16) & (1 << (signal.SIGINT - 1)))
    except OSError:
        return True
    return False


def wait_for_path(path, proc, timeout, what="control socket"):
    """Wait until path exists; fail() if proc exits first or after timeout s."""
    end = time.time() + timeout
    while not os.path.exists(path):
        if proc.poll() is not None:
            err = proc.stderr.read() if proc.stderr else ""
            fail("engine exited: %s" % (err.decode() if isinstance(err, bytes) else err))
        if time.time() > end:
            fail("no %s after %g s" % (what, timeout))
        time.sleep(0.05)


class Client:
    """A raw connection to an engine's control socket: one JSON object per
    line each way."""

    def __init__(self, path, timeout=10):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(timeout)
        self.s.connect(path)
        self.buf = b""

    def send(self, obj):
        self.s.sendall((json.dumps(obj) + "\n").encode())

    def line(self, must=False):
        """The next object; None when the engine closed the connection
        (fail() instead when must)."""
        while b"\n" not in self.buf:
            d = self.s.recv(1 << 20)
            if not d:
                if must:
                    fail("the engine closed the control connection")
                return None
            self.buf += d
        l, self.buf = self.buf.split(b"\n", 1)
        return json.loads(l)

    def req(self, obj):
        self.send(obj)
        return self.line()

    def close(self):
        self.s.close()


# ---- failing and counting ----

_failures = 0


def fail(msg):
    """FAIL: msg, the test's processes stopped, exit 1."""
    print("FAIL: " + msg)
    sys.stdout.flush()
    cleanup()
    if threading.current_thread() is not threading.main_thread():
        os._exit(1)
    sys.exit(1)


def require(cond, msg):
    if not cond:
        fail(msg)


def check(cond, what, detail=""):
    """A counted check: "ok WHAT" or "FAIL WHAT: DETAIL"; never exits."""
    global _failures
    print(("ok " if cond else "FAIL ") + what + ("" if cond else ": " + detail))
    _failures += 0 if cond else 1
    return cond


def failures():
    return _failures


def exit_code():
    """0 when every check() passed, else 1."""
    return 1 if _failures else 0


class tmpdir(tempfile.TemporaryDirectory):
    """A temporary directory whose exit stops the test's processes first."""

    def __init__(self, prefix="sluice-test-"):
        super().__init__(prefix=prefix)

    def __exit__(self, *exc):
        cleanup()
        return super().__exit__(*exc)


# ---- classic pcap files ----

PCAP_USEC, PCAP_NSEC = 0xA1B2C3D4, 0xA1B23C4D


def STAMP_SEC(i):
    """write_pcap()'s default timestamps: frame i at i s."""
    return i, 0


def STAMP_USEC(i):
    """Frame i at 1 s + i us."""
    return 1, i


Rec = collections.namedtuple("Rec", "sec frac cap wire data")


def read_pcap(path, linktype=None):
    """({magic, snaplen, linktype, nsec, big}, [Rec]) of a classic pcap file,
    checked whole; linktype: the one it must have, if given."""
    with open(path, "rb") as f:
        d = f.read()
    if len(d) < 24:
        fail("%s: no pcap header (%d bytes)" % (path, len(d)))
    magic = struct.unpack("<I", d[:4])[0]
    if magic in (PCAP_USEC, PCAP_NSEC):
        end = "<"
    elif struct.unpack(">I", d[:4])[0] in (PCAP_USEC, PCAP_NSEC):
        end = ">"
    else:
        fail("%s: not a pcap file (magic %#x)" % (path, magic))
    m, _, _, _, _, snap, lt = struct.unpack(end + "IHHiIII", d[:24])
    if linktype is not None and lt != linktype:
        fail("%s: linktype %d, want %d" % (path, lt, linktype))
    recs, off = [], 24
    while off + 16 <= len(d):
        sec, frac, cap, wire = struct.unpack(end + "IIII", d[off:off + 16])
        if off + 16 + cap > len(d):
            fail("%s: record %d cut short (%d of %d bytes)" % (path, len(recs),
                                                                len(d) - off - 16, cap))
        recs.append(Rec(sec, frac, cap, wire, d[off + 16:off + 16 + cap]))
        off += 16 + cap
    if off != len(d):
        fail("%s: %d trailing bytes" % (path, len(d) - off))
    return {"magic": m, "snaplen": snap, "linktype": lt, "nsec": m == PCAP_NSEC,
            "big": end == ">"}, recs


def frames(path, linktype=1):
    """The packets' bytes of a pcap file (Ethernet unless linktype says otherwise)."""
    return [r.data for r in read_pcap(path, linktype)[1]]


def packets(path, linktype=1):
    """(bytes, wire length) of each packet of a pcap file (Ethernet, as frames())."""
    return [(r.data, r.wire) for r in read_pcap(path, linktype)[1]]


def write_records(path, recs, nsec=False, big=False, snaplen=65535, linktype=1):
    """Records (sec, frac, cap, wire, data) as they are (cap may lie)."""
    end = ">" if big else "<"
    with open(path, "wb") as f:
        f.write(struct.pack(end + "IHHiIII", PCAP_NSEC if nsec else PCAP_USEC, 2, 4, 0, 0,
                            snaplen, linktype))
        for sec, frac, cap, wire, data in recs:
            f.write(struct.pack(end + "IIII", sec, frac, cap, wire) + data)


def write_pcap(path, frames, snaplen=65535, linktype=1, stamp=STAMP_SEC):
    """Whole frames, little-endian microseconds; frame i stamped stamp(i) =
    (sec, usec) (STAMP_SEC or STAMP_USEC)."""
    write_records(path, [stamp(i) + (len(fr), len(fr), fr) for i, fr in enumerate(frames)],
                  snaplen=snaplen, linktype=linktype)


def gen_pcap(pcapgen, path, count, seed, extra=()):
    """sl-pcapgen's count frames of seed into path; @return path."""
    subprocess.run([pcapgen, "-n", str(count), "-s", str(seed), "-o", path] + list(extra),
                   check=True)
    return path


# ---- packets ----

def csum(b):
    """The Internet checksum (RFC 1071) of b."""
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF
