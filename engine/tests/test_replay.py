#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Tests of `sluice replay` and tcpdump filter expressions.

usage: test_replay.py SLUICE PCAPGEN CASE [OBJ...]

Cases:
  filters   50 expressions over a rich capture (sl-pcapgen -x): sluice replay
            --filter output byte-identical to `tcpdump -r IN -w OUT EXPR`, and
            --drops holding exactly the other records
  formats   the same capture as nanosecond pcap, big-endian pcap, pcapng with
            two interfaces and two sections (either byte order, SPBs), pcapng
            in nanoseconds: outputs compared with tcpdump's (--nano where the
            file is in nanoseconds); RAW (101) link type
  snaplen   --filter -s N: tcpdump's output with each record cut to N bytes
            by this script (wire length kept)
  disasm    sluice disasm --filter prints a verified program, and its errors
  bad       broken inputs and paths: the exact one-line messages, exit codes,
            and the records before a fault still written (tcpdump writes the
            same ones)
  fuzz      corrupted pcap/pcapng files: exit 0, or 1 with one line; never a crash
  config    -c sluice.yaml (program, engine, preloads) against --prog/--map
  live      OBJ...: replay and `sluice run` over net_pcap give the same output
            packets, the same verdict counts and the same maps
  runfilter `sluice run --filter EXPR` over net_pcap sends exactly the packets
            `tcpdump -r IN -w OUT EXPR` keeps, in order; its stats count the rest
  tsan      TSAN: sluice-replay built with ThreadSanitizer, I/O threads on: the
            window case, some filters, a failing write, without a race report
  lean      LEAN [OBJ]: sluice-replay (the replay without DPDK) gives the same
            outputs, report and JSON as `sluice replay`, and links no librte_*
  skbcb     OBJ: a socket filter that writes skb->cb reads it zero on every
            packet (interpreter and JIT): every record kept, cut to 100 bytes
  window    records from 1 byte to 256 KiB (across the reader's window, the
            read-ahead's chunks and their room), pcap and pcapng with
            skipped blocks of up to 1 MiB: outputs equal tcpdump's
  threads   window, formats, snaplen, bad and a third of the filters with
            --io-threads on, then off; an output write failing (RLIMIT_FSIZE) in
            the write-behind thread and without
  workers   --workers 2, 3 and 8: the window records (many longer than a
            worker's chunk), a third of the filters with --drops, nanosecond
            and -s trims equal tcpdump's; a record refused in the middle of a
            large file and a cut last record: the sequential reader's message,
            the records before it written; a failing write; refusals (pcapng,
            XDP programs) with exit 2

The expected outputs come from tcpdump/libpcap or from this script's own
pcap reader and writer, never from sluice. Exit 0 pass, 1 fail, 77 skip
(tcpdump or net_pcap missing).
"""
import json
import os
import re
import shutil
import struct
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../tests/common"))
from sltest import EAL, fail, read_pcap, write_records  # noqa: E402
import sltest as sl  # noqa: E402

FILTERS = [
    "", "tcp", "udp", "icmp", "ip6", "arp", "sctp", "icmp6",
    "host 10.0.0.1", "src host 10.0.0.3", "dst host 192.168.1.5",
    "net 10.0.0.0/29", "dst net 192.168.0.0/16", "src net 10.0.0.0 mask 255.255.255.252",
    "port 80", "tcp dst port 443", "udp src port 53 or udp dst port 53",
    "portrange 1000-1500", "tcp portrange 22-80", "ip proto 47", "ip proto gre",
    "ip6 and tcp", "ip6 and udp and port 53", "ip6 dst net 2001::/16",
    "vlan", "vlan and ip", "vlan and vlan", "vlan and vlan and tcp", "vlan 100 or vlan 200",
    "tcp[tcpflags] & tcp-syn != 0",
    "tcp[tcpflags] & (tcp-syn|tcp-ack) == (tcp-syn|tcp-ack)",
    "tcp[tcpflags] & tcp-rst != 0", "tcp[13] == 0x11",
    "ip[2:2] > 100", "ip[6:2] & 0x1fff != 0", "ip[6] & 0x20 != 0",
    "len > 200", "less 100", "greater 500", "udp and len < 128",
    "ether host 02:00:00:00:00:02", "ether broadcast", "ether multicast", "ip broadcast",
    "ether proto 0x88cc", "not tcp and not udp",
    "tcp and (port 80 or port 443) and not host 10.0.0.2",
    "ip and not (src net 10.0.0.0/29 or icmp)",
    "ip[9] == 6 and ip[0] & 0xf > 5", "icmp[icmptype] == icmp-echo",
    "tcp[2:2] > 1000 and tcp[2:2] < 1100", "ip host 10.0.0.1 and ip host 192.168.1.1",
    "udp[8:2] & 0x8000 == 0 and udp port 53",
    # arithmetic: scratch memory, X, every ALU operation, division by a packet value
    "ip[2:2] - 20 > 100", "ip[2:2] / 4 > 50", "ip[2:2] % 7 == 3", "tcp[0:2] * 2 > 2000",
    "ip[8] << 1 > 100", "ip[8] >> 2 == 16", "(ip[2:2] & 0xff) ^ 3 == 0", "len - 14 > 100",
    "ip[2:2] / (ip[1] & 3) > 30", "ip[2:2] / ip[8] > 1", "ip[9] % (ip[8] & 3) == 0",
    "ip[8] << (ip[1] & 0x3f) > 100",
    "ip[8] >> (ip[1] & 0x3f) == 0", "0 - ip[8] > 10", "ip[2:2] | 1 == 0x41",
    "ip[2:2] + ip[0] * 4 > len",
]


# ---- pcapng, this script's own writer (classic pcap: tests/common/sltest.py) ----

def ng_block(end, btype, body):
    body += b"\0" * (-len(body) % 4)
    n = 12 + len(body)
    return struct.pack(end + "II", btype, n) + body + struct.pack(end + "I", n)


def ng_opts(end, opts):
    out = b""
    for code, val in opts:
        out += struct.pack(end + "HH", code, len(val)) + val + b"\0" * (-len(val) % 4)
    return out + struct.pack(end + "HH", 0, 0) if opts else b""


def write_pcapng(path, sections):
    """sections: [(big, [(linktype, snaplen, tsresol or None)], [(ifid, ts, cap, wire, data, spb)])]"""
    with open(path, "wb") as f:
        for big, ifaces, pkts in sections:
            e = ">" if big else "<"
            f.write(ng_block(e, 0x0A0D0D0A, struct.pack(e + "IHHq", 0x1A2B3C4D, 1, 0, -1)))
            for lt, snap, res in ifaces:
                opts = [(9, bytes([res]))] if res is not None else []
                f.write(ng_block(e, 1, struct.pack(e + "HHI", lt, 0, snap) + ng_opts(e, opts)))
            f.write(ng_block(e, 4, struct.pack(e + "HH", 0, 0)))  # a name block: skipped
            for ifid, ts, cap, wire, data, spb in pkts:
                if spb == "blob":  # a block of an unknown type: skipped by readers
                    f.write(ng_block(e, 0x00000BAD, data))
                elif spb:
                    f.write(ng_block(e, 3, struct.pack(e + "I", wire) + data))
                else:
                    f.write(ng_block(e, 6, struct.pack(e + "IIIII", ifid, ts >> 32, ts & 0xFFFFFFFF,
                                                       cap, wire) + data))


# ---- tools ----

class Env:
    def __init__(self, sluice, pcapgen, tmp):
        self.sluice, self.pcapgen, self.tmp = sluice, pcapgen, tmp
        self.tcpdump = shutil.which("tcpdump") or "/usr/bin/tcpdump"
        if not os.path.exists(self.tcpdump):
            print("SKIP: tcpdump missing")
            sys.exit(77)
        self.tcpdump_z = ["-Z", "root"] if os.geteuid() == 0 else []
        self.extra = []  # options added to every replay (case threads: --io-threads on/off)

    def path(self, name):
        return os.path.join(self.tmp, name)

    def gen(self, name, count, seed, extra=("-x",)):
        return sl.gen_pcap(self.pcapgen, self.path(name), count, seed, extra)

    def tcpdump_w(self, src, expr, dst, nano=False):
        cmd = [self.tcpdump, *self.tcpdump_z, "-r", src, "-w", dst] + (["--nano"] if nano else [])
        r = subprocess.run(cmd + ([expr] if expr else []), capture_output=True, text=True)
        return r

    def replay(self, args, ok=True):
        r = subprocess.run([self.sluice, "replay", "--no-progress"] + self.extra + args,
                           capture_output=True,
                           text=True, timeout=300)
        if ok and r.returncode != 0:
            fail("sluice replay %s: exit %d: %s" % (" ".join(args), r.returncode, r.stderr.strip()))
        return r


def same_file(a, b, label):
    with open(a, "rb") as f, open(b, "rb") as g:
        x, y = f.read(), g.read()
    if x != y:
        ra, rb = read_pcap(a)[1], read_pcap(b)[1]
        first = next((i for i, (p, q) in enumerate(zip(ra, rb)) if p != q), min(len(ra), len(rb)))
        fail("%s: %s differs from %s (%d vs %d records, first difference at record %d)" %
             (label, a, b, len(ra), len(rb), first + 1))


def check_filter(env, src, expr, label, nano=False, extra=()):
    want, got, drops = env.path("want.pcap"), env.path("got.pcap"), env.path("drops.pcap")
    r = env.tcpdump_w(src, expr, want, nano)
    if r.returncode != 0:
        fail("%s: tcpdump '%s': %s" % (label, expr, r.stderr.strip()))
    env.replay(["--filter", expr, "-r", src, "-w", got, "--drops", drops, "-q", *extra])
    same_file(got, want, "%s '%s'" % (label, expr))
    kept = read_pcap(got)[1]
    return len(kept), len(read_pcap(drops)[1])


def case_filters(env):
    src = env.gen("rich.pcap", 20000, 11)
    total = len(read_pcap(src)[1])
    nonempty = 0
    for expr in FILTERS:
        kept, dropped = check_filter(env, src, expr, "filters")
        if kept + dropped != total:
            fail("filters '%s': %d kept + %d dropped != %d records" % (expr, kept, dropped, total))
        nonempty += kept > 0 and dropped > 0
    if nonempty < 40:
        fail("filters: only %d expressions both keep and drop records: the capture is too plain"
             % nonempty)
    print("ok filters: %d expressions identical to tcpdump (%d keep some and drop some) over %d "
          "records" % (len(FILTERS), nonempty, total))


def case_formats(env):
    src = env.gen("fmt.pcap", 6000, 12)
    hdr, recs = read_pcap(src)
    exprs = ["tcp port 80 or udp", "vlan and vlan", "ip6 or arp", "not ip"]
    # nanoseconds: distinct sub-microsecond digits
    ns = [(s, f * 1000 + i % 1000, c, w, d) for i, (s, f, c, w, d) in enumerate(recs)]
    nsp, bep, bensp = env.path("ns.pcap"), env.path("be.pcap"), env.path("bens.pcap")
    write_records(nsp, ns, nsec=True)
    write_records(bep, recs, big=True)
    write_records(bensp, ns, nsec=True, big=True)
    for expr in exprs:
        check_filter(env, nsp, expr, "nanosecond pcap", nano=True)
        check_filter(env, bep, expr, "big-endian pcap")
        check_filter(env, bensp, expr, "big-endian nanosecond pcap", nano=True)
    # pcapng, microseconds: two sections (little-, big-endian), two interfaces each
    half = len(recs) // 2
    usec = lambda part: [(i % 2, s * 10**6 + f, c, w, d, False) for i, (s, f, c, w, d) in
                         enumerate(part)]
    ifs = [(1, 65535, None), (1, 65535, 6)]
    ngp = env.path("two.pcapng")
    write_pcapng(ngp, [(False, ifs, usec(recs[:half])), (True, ifs, usec(recs[half:]))])
    for expr in exprs:
        kept_ng = env.path("ng-got.pcap")
        env.replay(["--filter", expr, "-r", ngp, "-w", kept_ng, "-q"])
        want = env.path("ng-want.pcap")
        if env.tcpdump_w(src, expr, want).returncode:
            fail("tcpdump on %s" % src)
        same_file(kept_ng, want, "pcapng (2 sections, 2 interfaces) '%s'" % expr)
    # pcapng in nanoseconds (if_tsresol 9) against the nanosecond pcap
    ngn = env.path("ns.pcapng")
    write_pcapng(ngn, [(False, [(1, 65535, 9)],
                        [(0, s * 10**9 + f, c, w, d, False) for s, f, c, w, d in ns])])
    for expr in exprs:
        got, want = env.path("ngn-got.pcap"), env.path("ngn-want.pcap")
        env.replay(["--filter", expr, "-r", ngn, "-w", got, "-q"])
        env.tcpdump_w(nsp, expr, want, nano=True)
        same_file(got, want, "pcapng nanoseconds '%s'" % expr)
    # simple packet blocks: no timestamp, caplen from the block
    spb = env.path("spb.pcapng")
    write_pcapng(spb, [(False, [(1, 0, None)], [(0, 0, c, w, d, True) for s, f, c, w, d in
                                                 recs[:500] if c == w])])
    got = env.path("spb-got.pcap")
    env.replay(["--filter", "", "-r", spb, "-w", got, "-q"])
    want = [(0, 0, c, w, d) for s, f, c, w, d in recs[:500] if c == w]
    if read_pcap(got)[1] != want or read_pcap(got)[0]["snaplen"] != 262144:
        fail("pcapng simple packet blocks: records differ")
    # RAW (101): the IP frames without their Ethernet header
    raw = [(s, f, c - 14, w - 14, d[14:]) for s, f, c, w, d in recs
           if c >= 34 and d[12:14] in (b"\x08\x00", b"\x86\xdd")]
    rawp = env.path("raw.pcap")
    write_records(rawp, raw, linktype=101)
    for expr in ["tcp", "ip6 and udp", "host 10.0.0.1 or net 192.168.1.0/24", "ip[2:2] > 100"]:
        check_filter(env, rawp, expr, "RAW link type")
    print("ok formats: nanosecond, big-endian, pcapng (sections, interfaces, SPB, ns), RAW")


def case_snaplen(env):
    src = env.gen("snap.pcap", 4000, 13)
    for expr, snap in (("tcp", 54), ("", 100), ("ip6 or vlan", 60), ("udp", 1)):
        want, got = env.path("s-want.pcap"), env.path("s-got.pcap")
        if env.tcpdump_w(src, expr, want).returncode:
            fail("tcpdump '%s'" % expr)
        hdr, recs = read_pcap(want)
        cut = [(s, f, min(c, snap), w, d[:snap]) for s, f, c, w, d in recs]
        exp = env.path("s-exp.pcap")
        write_records(exp, cut, snaplen=min(snap, hdr["snaplen"]))
        env.replay(["--filter", expr, "-s", str(snap), "-r", src, "-w", got, "-q"])
        same_file(got, exp, "-s %d '%s'" % (snap, expr))
    print("ok snaplen: records cut to -s bytes, wire length kept")
    # -w - : the capture on stdout, the report on stderr
    want = env.path("stdout-want.pcap")
    env.tcpdump_w(src, "udp", want)
    r = subprocess.run([env.sluice, "replay", "--filter", "udp", "-r", src, "-w", "-"],
                       capture_output=True, timeout=60)
    with open(want, "rb") as f:
        if r.returncode or r.stdout != f.read() or b"stats: rx" not in r.stderr:
            fail("-w -: exit %d, %d bytes on stdout, stderr %r" % (r.returncode, len(r.stdout),
                                                                  r.stderr[:200]))
    print("ok -w -: tcpdump's bytes on stdout, the report on stderr")
    # -r - : the capture from stdin (a pipe), as tcpdump -r -; then stdin empty, and cut short
    with open(src, "rb") as f:
        data = f.read()
    for label, feed, code, err in (("pipe", data, 0, None),
                                   ("empty", b"", 1, "sluice replay: -r -: empty file"),
                                   ("cut", data[:100], 1, "sluice replay: -r -: record 1 (byte 24): "
                                    "truncated")):
        r = subprocess.run([env.sluice, "replay", "--no-progress", "-q", "--filter", "udp",
                            "-r", "-", "-w", "-"], input=feed, capture_output=True, timeout=60)
        if r.returncode != code or (err is None and r.stdout != open(want, "rb").read()) or \
                (err is not None and not r.stderr.decode().startswith(err)):
            fail("-r - (%s): exit %d, %d bytes out, stderr %r" % (label, r.returncode,
                                                                  len(r.stdout), r.stderr[:200]))
    print("ok -r -: stdin read as a file (tcpdump's bytes), empty and cut stdin refused")
    # --progress (the default on a terminal): packets, percent, rate, ETA on stderr
    big = env.gen("progress.pcap", 300000, 14, extra=("-l", "64"))
    r = subprocess.run([env.sluice, "replay", "--progress", "-q", "--filter", "udp", "-r", big,
                        "-w", "/dev/null"], capture_output=True, text=True, timeout=120)
    lines = [l for l in r.stderr.replace("\r", "\n").splitlines() if l.strip()]
    if (r.returncode or len(lines) < 2 or not lines[-1].startswith("300000 packets  100.0%")
            or "Mpps" not in lines[0] or "ETA" not in lines[0]):
        fail("--progress: exit %d, stderr %r" % (r.returncode, r.stderr[-300:]))
    print("ok progress: %r" % lines[-1])


def case_disasm(env):
    r = subprocess.run([env.sluice, "disasm", "--filter", "tcp port 80"], capture_output=True,
                       text=True)
    lines = r.stdout.splitlines()
    if r.returncode or not lines or "r6 = r1" not in lines[0] or "exit" not in lines[-1]:
        fail("disasm --filter: exit %d, %r" % (r.returncode, r.stdout[:200]))
    if not any("skb[12]" in l for l in lines) or not any("262144" in l for l in lines):
        fail("disasm --filter: no EtherType load or snaplen return: %r" % lines)
    r = subprocess.run([env.sluice, "disasm", "--filter", "ip", "--linktype", "RAW", "-s", "96"],
                       capture_output=True, text=True)
    if r.returncode or "96" not in r.stdout or "skb[12]" in r.stdout:
        fail("disasm --filter --linktype RAW -s 96: %r" % r.stdout)
    for args, msg in (
            (["--filter", "tcp prt 80"],
             "sluice disasm: filter 'tcp prt 80': can't parse filter expression: syntax error"),
            (["--filter", "ip", "--linktype", "IEEE802_11"],
             "sluice disasm: --linktype: link type 'IEEE802_11' is not supported (supported: "
             "EN10MB (1), RAW (101), IPV4 (228), IPV6 (229), LINUX_SLL (113), LINUX_SLL2 (276), "
             "NULL (0), LOOP (108))"),
            (["--filter", "ip", "-s", "0"], "sluice disasm: -s: ")):
        r = subprocess.run([env.sluice, "disasm", *args], capture_output=True, text=True)
        if r.returncode == 0 or not r.stderr.startswith(msg) or r.stderr.count("\n") != 1:
            fail("disasm %r: exit %d, stderr %r, want %r" % (args, r.returncode, r.stderr, msg))
    print("ok disasm --filter")


def expect_bad(env, args, msg, label, code=1):
    r = env.replay(args, ok=False)
    if r.returncode != code:
        fail("%s: exit %d (want %d), stderr %r" % (label, r.returncode, code, r.stderr))
    first = r.stderr.splitlines()[0] if r.stderr else ""
    if first != msg:
        fail("%s: stderr\n  %r\nwant\n  %r" % (label, first, msg))
    return r


def cut_last_record(env, src, recs, name):
    """A copy of pcap @src (records @recs) without its last 7 bytes, and the message
    replay gives for it."""
    with open(src, "rb") as f:
        data = f.read()
    cut = env.path(name)
    with open(cut, "wb") as f:
        f.write(data[:-7])
    last = 24 + sum(16 + c for _, _, c, _, _ in recs[:-1])
    return cut, ("sluice replay: -r %s: record %d (byte %d): truncated: caplen %d, %d bytes "
                 "left in the file" % (cut, len(recs), last, recs[-1][2], recs[-1][2] - 7))


def case_bad(env):
    src = env.gen("bad-src.pcap", 3000, 14)
    hdr, recs = read_pcap(src)
    out = env.path("bad-out.pcap")
    with open(src, "rb") as f:
        data = f.read()
    # truncated: the last record cut; tcpdump writes the records before it too
    cut, msg = cut_last_record(env, src, recs, "cut.pcap")
    expect_bad(env, ["--filter", "tcp", "-r", cut, "-w", out], msg, "truncated")
    want = env.path("cut-want.pcap")
    env.tcpdump_w(cut, "tcp", want)
    same_file(out, want, "truncated file: records before the fault")
    js = env.path("cut.json")
    env.replay(["--filter", "tcp", "-r", cut, "-w", out, "--json", js, "-q"], ok=False)
    with open(js) as f:
        st = json.load(f)["stats"]
    if st["rx"] != len(recs) - 1 or st["tx"] != len(read_pcap(want)[1]):
        fail("truncated: counted %r, want rx %d" % (st, len(recs) - 1))
    # a record header cut
    hcut = env.path("hcut.pcap")
    with open(hcut, "wb") as f:
        f.write(data + b"\x01\x02\x03")
    expect_bad(env, ["--filter", "tcp", "-r", hcut, "-w", out],
               "sluice replay: -r %s: record %d (byte %d): truncated header (3 of 16 bytes)" %
               (hcut, len(recs) + 1, len(data)), "cut record header")
    garbage = env.path("garbage.pcap")
    with open(garbage, "wb") as f:
        f.write(b"<html><body>not a capture</body></html>\n")
    expect_bad(env, ["--filter", "tcp", "-r", garbage],
               "sluice replay: -r %s: not a pcap or pcapng file (starts 3c 68 74 6d)" % garbage,
               "garbage")
    empty = env.path("empty.pcap")
    open(empty, "wb").close()
    expect_bad(env, ["--filter", "tcp", "-r", empty], "sluice replay: -r %s: empty file" % empty,
               "empty")
    short = env.path("short.pcap")
    with open(short, "wb") as f:
        f.write(data[:10])
    expect_bad(env, ["--filter", "tcp", "-r", short],
               "sluice replay: -r %s: truncated pcap header (10 of 24 bytes)" % short, "short")
    wifi = env.path("wifi.pcap")
    write_records(wifi, recs[:10], linktype=105)
    expect_bad(env, ["--filter", "tcp", "-r", wifi],
               "sluice replay: %s: link type 105 is not supported (supported: EN10MB (1), RAW "
               "(101), IPV4 (228), IPV6 (229), LINUX_SLL (113), LINUX_SLL2 (276), NULL (0), "
               "LOOP (108))" % wifi, "unsupported link type")
    raw = env.path("rawlt.pcap")
    write_records(raw, [], linktype=101)
    obj = env.objs[0] if env.objs else None
    if obj:
        expect_bad(env, ["--prog", obj, "-r", raw],
                   "sluice replay: %s: link type 101: programs run on Ethernet frames, the only "
                   "link type --prog supports is EN10MB (1); --filter supports EN10MB (1), RAW "
                   "(101), IPV4 (228), IPV6 (229), LINUX_SLL (113), LINUX_SLL2 (276), NULL (0), "
                   "LOOP (108)" % raw, "--prog on RAW")
    big = env.path("oversnap.pcap")
    small = [r for r in recs if r[2] <= 200]
    bad_recs = small[:5] + [(1, 0, 300, 300, bytes(300))] + small[5:8]
    write_records(big, bad_recs, snaplen=200)
    off = 24 + sum(16 + r[2] for r in small[:5])
    expect_bad(env, ["--filter", "", "-r", big, "-w", out],
               "sluice replay: -r %s: record 6 (byte %d): caplen 300 is larger than the snaplen "
               "200" % (big, off), "caplen > snaplen")
    if [r[4] for r in read_pcap(out)[1]] != [r[4] for r in small[:5]]:
        fail("caplen > snaplen: the 5 records before the fault are not all written")
    capgt = env.path("capgt.pcap")
    write_records(capgt, recs[:3] + [(1, 0, 100, 60, bytes(100))])
    off = 24 + sum(16 + r[2] for r in recs[:3])
    expect_bad(env, ["--filter", "", "-r", capgt],
               "sluice replay: -r %s: record 4 (byte %d): caplen 100 is larger than the packet "
               "length 60" % (capgt, off), "caplen > len")
    ngcut = env.path("cut.pcapng")
    write_pcapng(ngcut, [(False, [(1, 65535, None)], [(0, 5, c, w, d, False) for s, f, c, w, d
                                                       in recs[:20]])])
    with open(ngcut, "rb") as f:
        ng = f.read()
    with open(ngcut, "wb") as f:
        f.write(ng[:-5])
    lastblk = len(ng) - (12 + 20 + recs[19][2] + (-recs[19][2] % 4))
    expect_bad(env, ["--filter", "", "-r", ngcut],
               "sluice replay: -r %s: block at byte %d: truncated: length %d, %d bytes left in the "
               "file" % (ngcut, lastblk, len(ng) - lastblk, len(ng) - lastblk - 5), "pcapng cut")
    missing = env.path("no-such.pcap")
    expect_bad(env, ["--filter", "", "-r", missing],
               "sluice replay: -r %s: No such file or directory" % missing, "missing input")
    expect_bad(env, ["--filter", "", "-r", src, "-w", env.path("no-dir/out.pcap")],
               "sluice replay: -w %s: No such file or directory" % env.path("no-dir/out.pcap"),
               "unwritable output")
    link = env.path("link.pcap")
    os.symlink(src, link)
    expect_bad(env, ["--filter", "", "-r", src, "-w", link],
               "sluice replay: -w '%s' is the same file as -r '%s': refusing to write over an "
               "input" % (link, src), "output = input")
    with open(src, "rb") as f:
        if f.read() != data:
            fail("output = input: the input was changed")
    expect_bad(env, ["--filter", "", "-r", src, "-w", out, "--drops", out],
               "sluice replay: --drops '%s' is the same file as -w '%s': refusing to write over "
               "another output" % (out, out), "two outputs, one file")
    expect_bad(env, ["--filter", "", "-r", src, "--json", env.path("no-dir/x.json")],
               "sluice replay: --json %s: No such file or directory" % env.path("no-dir/x.json"),
               "unwritable --json")
    if os.path.exists("/dev/full"):
        expect_bad(env, ["--filter", "", "-r", src, "-w", "/dev/full", "-q"],
                   "sluice replay: -w /dev/full: write: No space left on device", "full disk")
    if os.geteuid() != 0:
        os.chmod(src, 0)
        expect_bad(env, ["--filter", "", "-r", src], "sluice replay: -r %s: Permission denied"
                   % src, "unreadable input")
        os.chmod(src, 0o644)
    expect_bad(env, ["--filter", "tcp prt 80", "-r", src],
               "sluice replay: filter 'tcp prt 80': can't parse filter expression: syntax error",
               "bad expression")
    expect_bad(env, ["-r", src], "sluice replay: give one of --prog X.o (or -c sluice.yaml) or --filter EXPR",
               "no program", code=2)
    expect_bad(env, ["--filter", "tcp", "-r", src, "-w", "1=a.pcap", "-w", "1=b.pcap"],
               "sluice replay: -w: port 1 has two files (a.pcap, b.pcap)", "two files", code=2)
    expect_bad(env, ["--bogus", "-r", src],
               "sluice replay: --bogus: unknown option, or its value is missing (see sluice "
               "replay --help)", "unknown option", code=2)
    expect_bad(env, ["-r", src, "--filter"],
               "sluice replay: --filter: unknown option, or its value is missing (see sluice "
               "replay --help)", "missing value", code=2)
    expect_bad(env, ["--filter", "tcp", "-r", src, "-s", "10x"],
               "sluice replay: -s: want an integer in 1..262144, not '10x'", "bad -s", code=2)
    expect_bad(env, ["--filter", "tcp", "-r", src, "--workers", "65"],
               "sluice replay: --workers: want an integer in 1..64, not '65'", "--workers 65",
               code=2)
    expect_bad(env, ["--filter", "tcp", "-r", src, "--io-threads", "yes"],
               "sluice replay: --io-threads 'yes': give on, off or auto", "bad --io-threads",
               code=2)
    r = env.replay(["--filter", "tcp", "-r", src, "-w", out, "--workers", "1", "-q"])
    want = env.path("w1-want.pcap")
    env.tcpdump_w(src, "tcp", want)
    same_file(out, want, "--workers 1")
    print("ok bad inputs: exact messages, exit codes, records before the fault written")


# ---- live engine against replay ----

def full_records(env, name, count, seed):
    """A capture with caplen == len everywhere: net_pcap gives the engine no wire length."""
    src = env.gen(name + "-all.pcap", count, seed)
    hdr, recs = read_pcap(src)
    p = env.path(name)
    write_records(p, [r for r in recs if r[2] == r[3]])
    return p


# Value bytes that hold bpf_ktime_get_ns() times (the machine's clock, live and in replay).
TIME_BYTES = {"flows": (16, 32), "rl_buckets": (8, 16)}

# Preloads for the examples, given to both `sluice run` and `sluice replay` (--map).
PRELOADS = {
    "firewall.bpf.o": {"blocklist_v4": ["10.0.0.0/8", "192.168.7.7/32"],
                       "blocklist_v6": ["2001:db8::/32"],
                       "allow_ports": ["{proto: 6, port: 80}", "{proto: 17, port: 53}"]},
    "snaplen.bpf.o": {"snaplen_cfg": ["0 60"]},
    "ratelimit.bpf.o": {"rl_config": ["0 {rate_pps: 0, burst: 3}"]},
}


def mask_time(name, v):
    if isinstance(v, dict):  # typed through BTF: time fields are named *_ns
        return {k: "t" if k.endswith("_ns") else mask_time(name, x) for k, x in v.items()}
    if name not in TIME_BYTES or not isinstance(v, str):
        return [mask_time(name, x) for x in v] if isinstance(v, list) else v
    a, b = TIME_BYTES[name]
    return v[:2 * a] + "t" * (2 * (b - a)) + v[2 * b:]


def norm_maps(maps):
    """Maps with their entries in key order (a hash map lists them in its own order), times masked."""
    out = {}
    for name, m in maps.items():
        m = dict(m)
        ents = []
        for e in m.get("entries", []):
            e = dict(e)
            for k in ("value", "per_core"):
                if k in e:
                    e[k] = mask_time(name, e[k])
            ents.append(e)
        m["entries"] = sorted(ents, key=lambda e: json.dumps(e["key"]))
        out[name] = m
    return out


def preload_args(env, obj):
    args = []
    for m, lines in PRELOADS.get(os.path.basename(obj), {}).items():
        p = env.path("preload-%s.txt" % m)
        with open(p, "w") as f:
            f.write("\n".join(lines) + "\n")
        args += ["--map", "%s=%s" % (m, p)]
    return args


def run_live(env, obj, src, outs, js):
    ports = ["--port", "net_pcap0,rx_pcap=%s,tx_pcap=%s" % (src, outs[0])]
    if len(outs) > 1:
        ports += ["--port", "net_pcap1,tx_pcap=%s" % outs[1]]
    r = subprocess.run([env.sluice, "run", "--quiet", "--prog", obj, "--json", js] + ports +
                       preload_args(env, obj) + EAL,
                       capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        if "net_pcap" in r.stderr and "not" in r.stderr and "found" in r.stderr:
            print("SKIP: net_pcap missing")
            sys.exit(77)
        fail("sluice run %s: exit %d: %s" % (obj, r.returncode, r.stderr.strip()))


def case_live(env):
    if not env.objs:
        print("SKIP: no program objects (clang missing)")
        sys.exit(77)
    src = full_records(env, "live.pcap", 3000, 21)
    recs = read_pcap(src)[1]
    n = len(recs)
    # l4lb: the destinations of the first untagged IPv4 TCP and UDP packets are services
    vips = []
    for _, _, c, _, d in recs:
        if c >= 38 and d[12:14] == b"\x08\x00" and d[23] in (6, 17) and len(vips) < 2:
            ihl = (d[14] & 0xF) * 4
            key = "{addr: %s, port: %d, proto: %d} %d" % (
                ".".join(str(b) for b in d[30:34]), struct.unpack(">H", d[16 + ihl:18 + ihl])[0],
                d[23], len(vips) + 1)
            if c >= 18 + ihl and key not in vips:
                vips.append(key)
    PRELOADS["l4lb.bpf.o"] = {"lb_vips": vips, "lb_config": ["0 {local_addr: 192.0.2.1}"],
                              "lb_backends": ["0 {addr: 10.1.0.1, mac: 02:00:00:00:01:01}"]}
    for obj in env.objs:
        name = os.path.basename(obj)
        for nports in (1, 2):
            live = [env.path("live-%s-%d-%d.pcap" % (name, nports, p)) for p in range(nports)]
            rep = [env.path("rep-%s-%d-%d.pcap" % (name, nports, p)) for p in range(nports)]
            ljs, rjs = env.path("live-%s.json" % name), env.path("rep-%s.json" % name)
            run_live(env, obj, src, live, ljs)
            env.replay(["--prog", obj, "-r", src, "--json", rjs, "-q"] + preload_args(env, obj) +
                       [a for p in range(nports) for a in ("-w", "%d=%s" % (p, rep[p]))])
            for p in range(nports):
                lr = [(c, d) for _, _, c, _, d in read_pcap(live[p])[1]]
                rr = [(c, d) for _, _, c, _, d in read_pcap(rep[p])[1]]
                if lr != rr:
                    fail("live %s, %d ports: port %d: live sent %d packets, replay wrote %d (or "
                         "bytes differ)" % (name, nports, p, len(lr), len(rr)))
            with open(ljs) as f:
                lj = json.load(f)
            with open(rjs) as f:
                rj = json.load(f)
            for k in ("rx", "tx", "drop", "error", "verdicts"):
                if lj["stats"][k] != rj["stats"][k]:
                    fail("live %s, %d ports: stats %s: live %r, replay %r" %
                         (name, nports, k, lj["stats"][k], rj["stats"][k]))
            if lj["stats"]["rx"] != n:
                fail("live %s: rx %d, file has %d" % (name, lj["stats"]["rx"], n))
            lm, rm = norm_maps(lj["maps"]), norm_maps(rj["maps"])
            if lm != rm:
                diff = sorted(k for k in set(lm) | set(rm) if lm.get(k) != rm.get(k))
                fail("live %s, %d ports: maps %s differ (live %.200r, replay %.200r)" %
                     (name, nports, diff, lm.get(diff[0]), rm.get(diff[0])))
        print("ok live = replay: %s (%d packets, 1 and 2 ports; verdicts %s)" %
              (name, n, {k: v for k, v in lj["stats"]["verdicts"].items() if v}))
    check_clock(env, src, recs)


# Expressions for `sluice run --filter` (each run starts DPDK: a sample of FILTERS' kinds).
RUN_FILTERS = [
    "tcp", "udp and port 53", "ip6", "vlan and vlan and tcp", "net 10.0.0.0/29",
    "tcp[tcpflags] & tcp-syn != 0", "ip[2:2] > 100", "ether multicast", "not tcp and not udp",
    "tcp and (port 80 or port 443) and not host 10.0.0.2", "len > 200", "ip[2:2] / ip[8] > 1",
]


def case_runfilter(env):
    src = full_records(env, "runf.pcap", 3000, 23)
    recs = read_pcap(src)[1]
    for expr in RUN_FILTERS:
        want, got, js = env.path("rf-want.pcap"), env.path("rf-got.pcap"), env.path("rf.json")
        r = env.tcpdump_w(src, expr, want)
        if r.returncode != 0:
            fail("runfilter: tcpdump '%s': %s" % (expr, r.stderr.strip()))
        r = subprocess.run([env.sluice, "run", "--quiet", "--filter", expr, "--json", js,
                            "--port", "net_pcap0,rx_pcap=%s,tx_pcap=%s" % (src, got)] + EAL,
                           capture_output=True, text=True, timeout=120)
        if r.returncode != 0:
            if "net_pcap" in r.stderr and "not" in r.stderr and "found" in r.stderr:
                print("SKIP: net_pcap missing")
                sys.exit(77)
            fail("runfilter '%s': sluice run exit %d: %s" % (expr, r.returncode, r.stderr.strip()))
        w = [d for _, _, _, _, d in read_pcap(want)[1]]
        g = [d for _, _, _, _, d in read_pcap(got)[1]]
        if w != g:
            fail("runfilter '%s': sluice run sent %d packets, tcpdump keeps %d (or bytes differ)"
                 % (expr, len(g), len(w)))
        with open(js) as f:
            st = json.load(f)["stats"]
        if (st["rx"], st["tx"], st["drop"]) != (len(recs), len(w), len(recs) - len(w)):
            fail("runfilter '%s': rx %d tx %d drop %d, want %d %d %d" %
                 (expr, st["rx"], st["tx"], st["drop"], len(recs), len(w), len(recs) - len(w)))
    bad = subprocess.run([env.sluice, "run", "--filter", "tcp prt 80", "--port", "net_null0"] +
                         EAL, capture_output=True, text=True, timeout=60)
    if bad.returncode != 1 or "tcp prt 80" not in bad.stderr or len(bad.stderr.splitlines()) != 1:
        fail("runfilter: a bad expression: exit %d, %r" % (bad.returncode, bad.stderr))
    both = subprocess.run([env.sluice, "run", "--filter", "tcp", "--prog", "x.o", "--port",
                           "net_null0"], capture_output=True, text=True, timeout=60)
    if both.returncode != 2 or "exclude each other" not in both.stderr:
        fail("runfilter: --prog with --filter: exit %d, %r" % (both.returncode, both.stderr))
    print("ok runfilter: %d expressions, sluice run --filter over net_pcap sends what tcpdump "
          "keeps (%d packets each)" % (len(RUN_FILTERS), len(recs)))


def case_window(env, ng_too=True):
    """Records of every size around and beyond the reader's 256 KiB window, the
    read-ahead's 256 KiB chunks and the 64 KiB of room before them; pcapng blocks longer
    than a chunk."""
    import random
    rnd = random.Random(7)
    base = read_pcap(env.gen("w-src.pcap", 400, 5))[1]
    recs = []
    for i, (sec, frac, c, l, d) in enumerate(base):
        n = rnd.choice([1, 14, 60, 1500, 9000, 65535 - 16, 65536, 65537, 70000, 131072, 200000,
                        262144])
        if n <= len(d):
            data = d[:n]
        else:
            data = d + bytes(rnd.getrandbits(8) for _ in range(64)) * ((n - len(d)) // 64 + 1)
            data = data[:n]
        recs.append((sec, frac, len(data), len(data) + rnd.choice([0, 0, 7]), data))
    src = env.path("window.pcap")
    write_records(src, recs, snaplen=262144)
    ng = env.path("window.pcapng")
    pkts = [(0, sec * 1000000 + frac, c, w, d, False) for sec, frac, c, w, d in recs]
    for at, size in ((300, 1 << 20), (100, 300000), (5, 200000)):  # skipped blocks, long ones
        pkts.insert(at, (0, 0, 0, 0, bytes(rnd.getrandbits(8) for _ in range(64)) * (size // 64),
                         "blob"))
    write_pcapng(ng, [(False, [(1, 262144, None)], pkts)])
    for expr in ("", "tcp", "udp or ip6", "greater 60000", "less 1000"):
        check_filter(env, src, expr, "window")
        if ng_too:
            check_filter(env, ng, expr, "window pcapng")
    print("ok window: %d records of 1 byte to 256 KiB, pcap and pcapng (with long skipped "
          "blocks), identical to tcpdump" % len(recs))


def check_fsize(env, mode, exe=None):
    """An output that hits RLIMIT_FSIZE: write fails with EFBIG; the file holds what fit."""
    import resource
    import signal
    src = env.gen("fsize.pcap", 20000, 15)
    out, limit = env.path("fsize-out.pcap"), 300000
    lim = lambda: (signal.signal(signal.SIGXFSZ, signal.SIG_IGN),
                   resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit)))
    r = subprocess.run((exe or [env.sluice, "replay"]) + ["--no-progress", "--io-threads", mode,
                                                           "--filter", "", "-r", src, "-w", out,
                                                           "-q"],
                       capture_output=True, text=True, timeout=60, preexec_fn=lim)
    want = "sluice replay: -w %s: write: File too large" % out
    if r.returncode != 1 or r.stderr.splitlines() != [want]:
        fail("--io-threads %s, RLIMIT_FSIZE: exit %d, stderr %r, want %r" % (mode, r.returncode,
                                                                          r.stderr, want))
    with open(src, "rb") as f, open(out, "rb") as g:
        if g.read() != f.read(limit):
            fail("--io-threads %s, RLIMIT_FSIZE: the output is not the first %d bytes" %
                 (mode, limit))


def case_tsan(env):
    """TSAN: sluice-replay built with -fsanitize=thread. The I/O threads (read-ahead with
    records and pcapng blocks longer than a chunk's room, write-behind of -w and --drops, a
    failing write) without a data race report, outputs equal to tcpdump's."""
    tsan = env.objs[0]
    os.environ["TSAN_OPTIONS"] = "halt_on_error=1 exitcode=66"
    sub = Env(tsan, env.pcapgen, env.tmp)
    sub.replay = lambda args, ok=True: tsan_run(tsan, args, ok)
    case_window(sub)
    src = sub.gen("rich.pcap", 20000, 11)
    for expr in FILTERS[::7]:
        check_filter(sub, src, expr, "tsan")
    check_fsize(sub, "on", [tsan])  # a race report would be a second line on stderr
    sub.replay = lambda args, ok=True: tsan_run(tsan, ["--workers", "3"] + args, ok)
    case_window(sub, ng_too=False)
    for expr in FILTERS[::14]:
        check_filter(sub, src, expr, "tsan --workers 3")
    check_fsize(sub, "off", [tsan, "--workers", "3"])
    print("ok tsan: window, %d expressions, a failing write, and the same with --workers 3: "
          "no data race" % len(FILTERS[::7]))


def tsan_run(tsan, args, ok):
    r = subprocess.run([tsan, "--no-progress", "--io-threads", "on"] + args,
                       capture_output=True, text=True, timeout=300)
    if "ThreadSanitizer" in r.stderr:
        fail("tsan: %s: %s" % (" ".join(args), r.stderr[-3000:]))
    if ok and r.returncode != 0:
        fail("tsan: %s: exit %d: %s" % (" ".join(args), r.returncode, r.stderr.strip()))
    return r


def case_threads(env):
    """The window, formats and bad-input cases with the I/O threads (read-ahead, write-behind)
    forced on, then off (by default they run for inputs of 512 KiB and more only); a write
    error in the write-behind thread."""
    for mode in ("on", "off"):
        sub = Env(env.sluice, env.pcapgen, env.path(mode))
        os.mkdir(sub.tmp)
        sub.objs, sub.extra = env.objs, ["--io-threads", mode]
        case_window(sub)
        case_formats(sub)
        case_snaplen(sub)
        case_bad(sub)
        check_fsize(sub, mode)
        src = sub.gen("rich.pcap", 20000, 11)
        for expr in FILTERS[::3]:
            check_filter(sub, src, expr, "--io-threads %s" % mode)
        print("ok threads: window, formats, trims, bad inputs, a failing write, %d expressions "
              "with --io-threads %s" % (len(FILTERS[::3]), mode))


def workers_faults(env, n):
    """A record refused in the middle of a file of many chunks, and a cut last record:
    the same message as one worker gives, the records before it written, counted."""
    src = env.gen("wf-src.pcap", 30000, 21)
    hdr, recs = read_pcap(src)
    at = 25000
    bad = env.path("wf-bad.pcap")
    write_records(bad, recs[:at] + [(1, 0, 100, 60, bytes(100))] + recs[at:at + 50])
    before = env.path("wf-before.pcap")
    write_records(before, recs[:at])
    off = 24 + sum(16 + r[2] for r in recs[:at])
    out, drops, want = env.path("wf-out.pcap"), env.path("wf-drops.pcap"), env.path("wf-want.pcap")
    js = env.path("wf.json")
    expect_bad(env, ["--filter", "udp", "-r", bad, "-w", out, "--drops", drops, "--json", js],
               "sluice replay: -r %s: record %d (byte %d): caplen 100 is larger than the packet "
               "length 60" % (bad, at + 1, off), "--workers %d, caplen > len" % n)
    env.tcpdump_w(before, "udp", want)
    same_file(out, want, "--workers %d, records before a refused one" % n)
    with open(js) as f:
        st = json.load(f)["stats"]
    if st["rx"] != at or len(read_pcap(drops)[1]) + len(read_pcap(out)[1]) != at:
        fail("--workers %d, refused record: rx %d, want %d" % (n, st["rx"], at))
    cut, msg = cut_last_record(env, src, recs, "wf-cut.pcap")
    expect_bad(env, ["--filter", "tcp", "-r", cut, "-w", out], msg, "--workers %d, truncated" % n)
    env.tcpdump_w(cut, "tcp", want)
    same_file(out, want, "--workers %d, truncated file: records before the fault" % n)


def case_workers(env):
    """--workers N: the records on N threads, the outputs in record order."""
    for n in (2, 3, 8):
        sub = Env(env.sluice, env.pcapgen, env.path("w%d" % n))
        os.mkdir(sub.tmp)
        sub.objs, sub.extra = env.objs, ["--workers", str(n)]
        case_window(sub, ng_too=False)
        src = sub.gen("rich.pcap", 20000, 11)
        for expr in FILTERS[::3]:
            check_filter(sub, src, expr, "--workers %d" % n)
        hdr, recs = read_pcap(src)
        nsp = sub.path("ns.pcap")
        write_records(nsp, [(s, f * 1000 + i % 1000, c, w, d) for i, (s, f, c, w, d) in
                            enumerate(recs)], nsec=True)
        for expr in ("tcp port 80 or udp", "vlan and vlan", "not ip"):
            check_filter(sub, nsp, expr, "--workers %d, nanosecond pcap" % n, nano=True)
        case_snaplen(sub)
        workers_faults(sub, n)
        check_fsize(sub, "off", [env.sluice, "replay", "--workers", str(n)])
        print("ok workers %d: window, %d expressions with --drops, nanoseconds, trims, refused "
              "and cut records, a failing write" % (n, len(FILTERS[::3])))
    ng = env.path("w.pcapng")
    write_pcapng(ng, [(False, [(1, 65535, None)], [(0, 5, c, w, d, False) for s, f, c, w, d in
                                                   read_pcap(env.gen("wr.pcap", 50, 3))[1]])])
    expect_bad(env, ["--workers", "2", "--filter", "", "-r", ng],
               "sluice replay: --workers 2: several workers run socket filters (and --filter) "
               "without maps over a pcap file in host byte order, not pcapng files",
               "--workers on pcapng", code=2)
    if env.objs:
        expect_bad(env, ["--workers", "2", "--prog", env.objs[0], "-r", env.path("wr.pcap")],
                   "sluice replay: --workers 2: several workers run socket filters (and "
                   "--filter) without maps over a pcap file in host byte order, not XDP "
                   "programs", "--workers with an XDP program", code=2)
    print("ok workers: refused for pcapng and XDP programs (exit 2)")


def case_skbcb(env):
    src = env.gen("cb.pcap", 3000, 17)
    recs = read_pcap(src)[1]
    want = [(s, f, min(c, 100), l, d[:100]) for s, f, c, l, d in recs]
    for engine in ([], ["--interp"]):
        out = env.path("cb-out.pcap")
        env.replay(["--prog", env.objs[0], "-r", src, "-w", out, "-q", *engine])
        got = read_pcap(out)[1]
        if got != want:
            fail("skbcb %s: %d records kept of %d (or bytes differ): a packet saw another's cb"
                 % (engine or "jit", len(got), len(recs)))
    print("ok skbcb: cb zero on each of %d packets, JIT and interpreter" % len(recs))


def case_lean(env):
    lean, objs = env.objs[0], env.objs[1:]
    src = env.gen("lean.pcap", 5000, 13)
    runs = [["--filter", e] for e in ("tcp and port 80", "ip6 or vlan", "len > 300")]
    runs += [["--prog", o] for o in objs]
    for args in runs:
        outs = []
        for exe in ([env.sluice, "replay"], [lean]):
            w, d, js = (env.path("lean.%s" % x) for x in ("out", "drops", "json"))  # names: in JSON
            r = subprocess.run(exe + ["--no-progress", *args, "-r", src, "-w", w, "--drops", d,
                                      "--json", js], capture_output=True, text=True, timeout=120)
            if r.returncode != 0:
                fail("lean %s: %s: exit %d: %s" % (args, exe[0], r.returncode, r.stderr.strip()))
            with open(w, "rb") as f, open(d, "rb") as g, open(js) as h:
                j = json.load(h)
                j.pop("uptime_s", None)
                j.get("stats", {}).pop("seconds", None)
                report = sorted(l for l in r.stdout.splitlines()  # hash maps: their own order
                                if not l.startswith("sluice: replayed") and "Mpps" not in l)
                outs.append((f.read(), g.read(), json.dumps(j["stats"], sort_keys=True),
                             json.dumps(norm_maps(j.get("maps", {})), sort_keys=True), report))
        for i, what in enumerate(("-w output", "--drops output", "JSON stats", "JSON maps",
                                  "report")):
            if outs[0][i] != outs[1][i]:
                fail("lean %s: %s differs between sluice replay and sluice-replay" % (args, what))
    libs = subprocess.run(["ldd", lean], capture_output=True, text=True).stdout
    if "librte_" in libs or "libmicrohttpd" in libs:
        fail("lean: sluice-replay links %s" % [l.split()[0] for l in libs.splitlines()
                                              if "librte_" in l or "microhttpd" in l])
    # the libraries linked from their archives where the toolchain has them (start-up)
    linked_in = []
    for lib in ("bpf", "elf", "yaml", "jansson", "z"):
        a = subprocess.run([os.environ.get("CC", "cc"), "-print-file-name=lib%s.a" % lib],
                           capture_output=True, text=True).stdout.strip()
        if os.path.isabs(a) and os.path.exists(a):
            linked_in.append(lib)
            if re.search(r"\blib%s\.so" % lib, libs):
                fail("lean: sluice-replay loads lib%s.so although lib%s.a is installed" % (lib, lib))
    print("ok lean: sluice-replay = sluice replay (%d runs: outputs, drops, stats, maps, "
          "report), no DPDK library, %s linked in" % (len(runs), ", ".join(linked_in) or "none"))


def check_clock(env, src, recs):
    """In a replay, bpf_ktime_get_ns() is each record's capture time (flowtable's first/last seen)."""
    ft = next((o for o in env.objs if os.path.basename(o) == "flowtable.bpf.o"), None)
    if not ft:
        return
    js = env.path("clock.json")
    env.replay(["--prog", ft, "-r", src, "-q", "--json", js])
    with open(js) as f:
        flows = json.load(f)["maps"]["flows"]["entries"]
    times = {s * 10**9 + us * 1000 for s, us, _, _, _ in recs}
    seen = set()
    for e in flows:
        v = e["value"]
        if isinstance(v, dict):  # typed through the map's BTF
            first, last = v["first_seen_ns"], v["last_seen_ns"]
        else:
            first, last = struct.unpack("<QQ", bytes.fromhex(v)[16:32])
        if first not in times or last not in times or first > last:
            fail("clock: flow %s first %d last %d: not capture times" % (e["key"], first, last))
        seen |= {first, last}
    if len(flows) < 100 or len(seen) < 100:
        fail("clock: %d flows, %d distinct times" % (len(flows), len(seen)))
    print("ok clock: %d flows, first/last seen are capture times" % len(flows))


def case_config(env):
    """-c sluice.yaml (program, engine, preloads) = --prog --map, through the same config code."""
    fw = next((o for o in env.objs if os.path.basename(o) == "firewall.bpf.o"), None)
    if not fw:
        print("SKIP: firewall.bpf.o not given (clang missing)")
        sys.exit(77)
    src = env.gen("cfg.pcap", 4000, 31)
    bl4, allow = env.path("bl4.txt"), env.path("allow.txt")
    with open(bl4, "w") as f:
        f.write("10.0.0.0/30\n")
    with open(allow, "w") as f:
        f.write("{proto: 6, port: 80}\n{proto: 17, port: 53}\n")
    cfg = env.path("fw.yaml")
    with open(cfg, "w") as f:
        f.write("program: {object: %s, engine: interp}\nmaps:\n  blocklist_v4: {file: bl4.txt}\n"
                "  allow_ports: {file: allow.txt}\n" % os.path.abspath(fw))
    outs = {}
    for label, args in (("config", ["-c", cfg]),
                        ("command line", ["--prog", fw, "--map", "blocklist_v4=" + bl4,
                                          "--map", "allow_ports=" + allow]),
                        ("no preload", ["--prog", fw])):
        js, out = env.path("cfg-%d.json" % len(outs)), env.path("cfg-%d.pcap" % len(outs))
        r = env.replay(args + ["-r", src, "-w", out, "--json", js])
        with open(js) as f:
            j = json.load(f)
        outs[label] = (read_pcap(out)[1], j["stats"]["verdicts"], norm_maps(j["maps"]), r.stdout)
    if outs["config"][:3] != outs["command line"][:3]:
        fail("config: -c gives other packets, verdicts or maps than --prog/--map")
    if "interpreter" not in outs["config"][3] or "3 map entries preloaded" not in outs["config"][3]:
        fail("config: engine interp or preloads not taken from the file: %r" % outs["config"][3])
    if outs["config"][1] == outs["no preload"][1]:
        fail("config: the preloads changed nothing (%r)" % outs["config"][1])
    bad = env.path("bad.yaml")
    with open(bad, "w") as f:
        f.write("program: {object: a.o, bogus: 1}\n")
    expect_bad(env, ["-c", bad, "-r", src], "%s:1:24: unknown key 'bogus' in program, want one "
               "of: object, section, engine, type" % bad, "bad config")
    expect_bad(env, ["--prog", fw, "--map", "nomap=" + bl4, "-r", src],
               "sluice replay: --map nomap: the object defines no map 'nomap', want one of: "
               "blocklist_v4, blocklist_v6, allow_ports, fw_stats", "unknown map")
    expect_bad(env, ["--filter", "tcp", "--map", "x=" + bl4, "-r", src],
               "sluice replay: --map goes with --prog or -c (a filter has no maps)",
               "--map with a filter", code=2)
    print("ok config: -c = --prog/--map (verdicts %r), errors located" % outs["config"][1])


def case_fuzz(env):
    """Corrupted pcap and pcapng files: exit 0 or 1 with at most one error line, never a crash."""
    import random
    rnd = random.Random(5)
    src = env.gen("fz.pcap", 300, 41)
    hdr, recs = read_pcap(src)
    ngp = env.path("fz.pcapng")
    write_pcapng(ngp, [(False, [(1, 65535, None), (1, 65535, 9)],
                        [(i % 2, s * 10**6 + f, c, w, d, i % 7 == 0) for i, (s, f, c, w, d) in
                         enumerate(recs)])])
    bases = []
    for p in (src, ngp):
        with open(p, "rb") as f:
            bases.append(f.read())
    bad = env.path("fz-bad.bin")
    runs = 0
    for i in range(150):
        d = bytearray(bases[i % 2])
        for _ in range(rnd.randint(1, 8)):
            kind = rnd.randint(0, 3)
            pos = rnd.randrange(len(d))
            if kind == 0:
                d[pos] = rnd.randrange(256)
            elif kind == 1:  # a length-sized field overwritten
                d[pos:pos + 4] = rnd.choice([b"\xff\xff\xff\xff", b"\0\0\0\0",
                                             b"\x10\0\0\0", b"\0\0\x01\0"])
            elif kind == 2:
                del d[pos:]
                if not d:
                    d = bytearray(b"\xd4")
            else:
                d[pos:pos] = bytes(rnd.randrange(256) for _ in range(rnd.randint(1, 9)))
        with open(bad, "wb") as f:
            f.write(d)
        for args in (["--filter", "ip or vlan"], ["--prog", env.objs[0]] if env.objs else None):
            if args is None:
                continue
            r = subprocess.run([env.sluice, "replay", "--no-progress", "-q"] + args +
                               ["-r", bad, "-w", "/dev/null", "--drops", "/dev/null"],
                               capture_output=True, text=True, timeout=30)
            runs += 1
            if r.returncode not in (0, 1) or (r.returncode == 1 and len(r.stderr.splitlines()) != 1):
                kept = env.path("fz-fail-%d.bin" % i)
                shutil.copy(bad, kept)
                fail("fuzz %d: exit %d, stderr %r (file kept: %s)" % (i, r.returncode,
                                                                    r.stderr[-300:], kept))
    print("ok fuzz: %d replays of corrupted pcap/pcapng files, each exit 0 or one line and 1" % runs)


def case_aligned(env):
    """The writer's 64 KiB-aligned writes (pcapio.c: a record split between two 512 KiB
    buffers, carried-over bytes after the workers' blocks): files that end exactly at, one
    byte before and one after a buffer's end, a record header cut by a buffer's end, records
    of 64 KiB - 16 bytes (every record ends at a 64 KiB multiple), the longest records, an
    empty capture; nanoseconds and big-endian input. --filter "" keeps every record, so the
    output is the input as this script wrote it (host byte order)."""
    import random
    kib, buf, big = 1024, 512 * 1024, 262144
    rnd = random.Random(13)
    shapes = {
        "empty": [],
        "exact": [big, buf - 24 - 32 - big],
        "exact-1": [big, buf - 24 - 32 - big - 1],
        "exact+1": [big, buf - 24 - 32 - big + 1],
        "hdr-at-end": [big, buf - 24 - 48 - big, 100],
        "hdr-cut": [big, buf - 24 - 48 - big + 8, 100, 100],
        "two-bufs": [big, buf - 24 - 32 - big, big, buf - 32 - big, 5],
        "64k": [64 * kib - 16] * 20,
        "longest": [big] * 9,
        "mixed": [rnd.choice([1, 60, 1500, 65535, 100000, big]) for _ in range(60)],
    }
    modes = (["--io-threads", "off"], ["--io-threads", "on"],
             ["--io-threads", "off", "--workers", "2"], ["--io-threads", "on", "--workers", "3"])
    n = 0
    for name, sizes in shapes.items():
        recs = [(i, i % 1000, c, c + i % 3, bytes((i + j) & 0xff for j in range(c)))
                for i, c in enumerate(sizes)]
        for nsec, bige in ((False, False), (True, False), (False, True)):
            if bige and name not in ("exact", "hdr-cut", "mixed"):
                continue
            src, want = env.path("al-src.pcap"), env.path("al-want.pcap")
            write_records(src, recs, nsec=nsec, big=bige, snaplen=big)
            write_records(want, recs, nsec=nsec, snaplen=big)
            with open(want, "rb") as f:
                expect = f.read()
            for mode in modes:
                if bige and "--workers" in mode:
                    continue  # several workers take host byte order only
                out = env.path("al-out.pcap")
                env.replay(mode + ["--filter", "", "-r", src, "-w", out, "-q"])
                with open(out, "rb") as f:
                    if f.read() != expect:
                        fail("aligned %s (nsec %s, big-endian %s) %s: the output is not the input"
                             % (name, nsec, bige, " ".join(mode)))
                n += 1
    print("ok aligned: %d runs (buffer-end and 64 KiB shapes, empty, nanoseconds, big-endian), "
          "outputs byte-identical to the input" % n)


def case_eio(env):
    """--workers 2: the read of a chunk fails once (EIO, pread_eio.c preloaded) where the
    chunk's first record starts 24 bytes in (1024-byte records): the worker reads it again,
    never the bytes of the chunk its buffer held before. The output is the input (--filter
    "" keeps every record), or the run fails with a message; never other records."""
    shim = env.objs[0]
    src, out = env.path("eio.pcap"), env.path("eio-out.pcap")
    recs = [(i, i, 1008, 1008, bytes((i * 7 + j) & 0xff for j in range(1008)))
            for i in range(600)]
    write_records(src, recs)
    with open(src, "rb") as f:
        want = f.read()
    env_vars = dict(os.environ, LD_PRELOAD=shim, SL_TEST_EIO_AT=str(256 * 1024),
                    ASAN_OPTIONS=(os.environ.get("ASAN_OPTIONS", "") +
                                  ":verify_asan_link_order=0").lstrip(":"))
    for mode in (["--io-threads", "off"], ["--io-threads", "on"]):
        r = subprocess.run([env.sluice, "replay", "--no-progress", "-q", "--workers", "2"] + mode +
                           ["--filter", "", "-r", src, "-w", out], env=env_vars,
                           capture_output=True, text=True, timeout=120)
        with open(out, "rb") as f:
            got = f.read()
        if r.returncode == 0 and got != want:
            fail("eio %s: exit 0 but the output is not the input (%d bytes, want %d)"
                 % (" ".join(mode), len(got), len(want)))
        if r.returncode != 0 and len(r.stderr.splitlines()) != 1:
            fail("eio %s: exit %d, stderr %r" % (" ".join(mode), r.returncode, r.stderr))
    print("ok eio: a failed chunk read with --workers 2: the records as read, never stale ones")


def main():
    if len(sys.argv) < 4:
        print(__doc__)
        return 2
    sluice, pcapgen, case = sys.argv[1], sys.argv[2], sys.argv[3]
    with sl.tmpdir("sl-replay-") as tmp:
        os.chmod(tmp, 0o755)
        env = Env(sluice, pcapgen, tmp)
        env.objs = sys.argv[4:]
        {"filters": case_filters, "formats": case_formats, "snaplen": case_snaplen,
         "disasm": case_disasm, "bad": case_bad, "live": case_live,
         "config": case_config, "fuzz": case_fuzz, "runfilter": case_runfilter, "lean": case_lean,
         "skbcb": case_skbcb, "threads": case_threads, "tsan": case_tsan,
         "workers": case_workers, "aligned": case_aligned, "eio": case_eio,
         "window": case_window}[case](env)
    return 0


if __name__ == "__main__":
    sys.exit(main())
