#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Write bench-results/report.md and its PNG plots from one `make bench` run.

usage: bench-report.py DIR

Reads DIR/harness.json (pktgen-tests/harness.py --bench), DIR/progbench-*.txt
(`sluice bench` output of each program) and the latency CDFs
DIR/latency-*.cdf, all from the same run; writes DIR/report.md and
DIR/mpps-by-size.png, mpps-by-program.png, latency-cdf.png,
ns-per-packet.png (matplotlib, Agg backend). Every figure in a table sits
beside its anchor measured in the same run (testpmd io forwarding over the
same memif link; native code and librte_bpf for the program costs).
"""
import glob
import json
import os
import platform
import re
import subprocess
import sys
import time

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

LINE_RATES = (10, 25, 100)


def machine():
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            m = re.search(r"model name\s*:\s*(.*)", f.read())
            cpu = m.group(1) if m else cpu
    except OSError:
        pass
    dpdk = subprocess.run(["pkg-config", "--modversion", "libdpdk"], capture_output=True,
                          text=True).stdout.strip() or "?"
    with open("/proc/loadavg") as f:
        load = " ".join(f.read().split()[:3])
    return ("%s, %d CPUs, Linux %s, DPDK %s, no hugepages (--no-huge), load average at "
            "report time %s (the machine is shared: compare ratios, not absolutes)" %
            (cpu, os.cpu_count() or 0, platform.release(), dpdk, load))


def line_mpps(gbps, size):
    return gbps * 1e9 / ((size + 20) * 8) / 1e6


def ratio(a, b):
    return "%.2f" % (a / b) if b else "-"


def sizes_section(res, out, md):
    rows = {}
    for r in res:
        if r["label"] == "size":
            rows.setdefault(r["size"], {})[r["engine"]] = r
    if not rows:
        return
    sizes = sorted(rows)
    md.append("## Mpps by frame size (pass-through, 64 B..1518 B, 256 UDP flows)\n")
    md.append("| frame | sluice Mpps | testpmd io Mpps | ratio | sluice / testpmd CPU share |"
              " ratio per CPU-second | sluice Gbit/s | drops (sluice) |"
              " 10/25/100 GbE line rate Mpps |")
    md.append("|---|---|---|---|---|---|---|---|---|")
    s_m, t_m = [], []
    for size in sizes:
        s, t = rows[size].get("sluice"), rows[size].get("testpmd")
        sm = s["gen"]["mpps"] if s else 0
        tm = t["gen"]["mpps"] if t else 0
        s_m.append(sm)
        t_m.append(tm)
        drops = s["engine_stats"]["drop"] if s else 0
        sc, tc = (s or {}).get("cpu_share", 0), (t or {}).get("cpu_share", 0)
        md.append("| %d | %.3f | %.3f | %s | %.2f / %.2f | %s | %.3f | %d | %s |" % (
            size, sm, tm, ratio(sm, tm), sc, tc,
            ratio(sm / sc, tm / tc) if sc and tc else "-",
            s["gen"]["gbps_l1"] if s else 0, drops,
            " / ".join("%.2f" % line_mpps(g, size) for g in LINE_RATES)))
    md.append("")
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot(sizes, s_m, "o-", label="sluice (XDP_PASS)")
    ax.plot(sizes, t_m, "s--", label="testpmd io (ceiling, same link)")
    for g in LINE_RATES:
        ax.plot(sizes, [line_mpps(g, s) for s in sizes], ":", label="%d GbE line rate" % g)
    ax.set_yscale("log")
    ax.set_xlabel("frame size (bytes)")
    ax.set_ylabel("Mpps back at the generator")
    ax.set_title("Mpps by frame size over net_memif (shared 2-CPU machine)")
    ax.legend(fontsize=7)
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(os.path.join(out, "mpps-by-size.png"), dpi=80)
    plt.close(fig)
    md.append("![Mpps by frame size](mpps-by-size.png)\n")


def programs_section(res, out, md):
    progs = [r for r in res if r["label"] == "program"]
    if not progs:
        return
    anchor = next((r for r in progs if r["engine"] == "testpmd"), None)
    am = anchor["gen"]["mpps"] if anchor else 0
    md.append("## Mpps by program (64 B, 256 UDP flows), anchor testpmd io = %.3f Mpps\n" % am)
    md.append("| program | engine rx Mpps | back at generator Mpps | ratio to testpmd (rx) |"
              " engine CPU share | Mpps per CPU-second | dropped by the engine |")
    md.append("|---|---|---|---|---|---|---|")
    names, vals = [], []
    for r in progs:
        name = "testpmd io" if r["engine"] == "testpmd" else r["prog"]
        names.append(name)
        vals.append(r["engine_mpps"])
        cs = r.get("cpu_share", 0)
        md.append("| %s | %.3f | %.3f | %s | %.2f | %s | %d |" % (
            name, r["engine_mpps"], r["gen"]["mpps"],
            ratio(r["engine_mpps"], anchor["engine_mpps"] if anchor else 0), cs,
            "%.3f" % (r["engine_mpps"] / cs) if cs else "-", r["engine_stats"]["drop"]))
    md.append("")
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.bar(names, vals, color=["grey" if n == "testpmd io" else "tab:blue" for n in names])
    ax.set_ylabel("engine rx Mpps")
    ax.set_title("Mpps by program, 64 B frames (testpmd io in grey)")
    plt.setp(ax.get_xticklabels(), rotation=30, ha="right")
    fig.tight_layout()
    fig.savefig(os.path.join(out, "mpps-by-program.png"), dpi=80)
    plt.close(fig)
    md.append("![Mpps by program](mpps-by-program.png)\n")


def latency_section(res, out, md):
    lat = [r for r in res if r["label"] == "latency"]
    if not lat:
        return
    md.append("## Latency (64 B, paced at 20 kpps, TSC stamp in the payload, round trip "
              "generator -> engine -> generator)\n")
    md.append("| engine | p50 us | p99 us | p99.9 us | samples |")
    md.append("|---|---|---|---|---|")
    fig, ax = plt.subplots(figsize=(7, 4))
    for r in lat:
        g = r["gen"]
        name = "testpmd io" if r["engine"] == "testpmd" else "sluice " + r["prog"]
        md.append("| %s | %.1f | %.1f | %.1f | %d |" % (name, g["p50_ns"] / 1e3,
                                                    g["p99_ns"] / 1e3, g["p999_ns"] / 1e3,
                                                    g["samples"]))
        path = os.path.join(out, "latency-%s.cdf" % r["engine"])
        if os.path.exists(path):
            q, ns = [], []
            with open(path) as f:
                for line in f:
                    a, b = line.split()
                    q.append(float(a))
                    ns.append(max(float(b), 1) / 1e3)
            ax.plot(ns, q, label=name)
    md.append("")
    ax.set_xscale("log")
    ax.set_xlabel("round-trip latency (us)")
    ax.set_ylabel("fraction of packets")
    ax.set_title("Latency CDF over net_memif (shared machine: scheduler delays dominate)")
    ax.legend()
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(os.path.join(out, "latency-cdf.png"), dpi=80)
    plt.close(fig)
    md.append("![Latency CDF](latency-cdf.png)\n")


def flowgen_section(res, md):
    fg = [r for r in res if r["label"] == "flowgen"]
    if not fg:
        return
    md.append("## testpmd flowgen as the generator (64 B, 1024 flows)\n")
    md.append("| engine | back at generator Mpps | engine rx Mpps |")
    md.append("|---|---|---|")
    for r in fg:
        md.append("| %s | %.3f | %.3f |" % ("testpmd io" if r["engine"] == "testpmd" else
                                           "sluice " + r["prog"], r["gen"]["mpps"],
                                           r["engine_mpps"]))
    md.append("")


def flows_mix_section(res, md):
    fl = [r for r in res if r["label"] == "flows"]
    if fl:
        md.append("## flowtable by flow count (64 B)\n")
        md.append("| flows | Mpps back | engine rx Mpps |")
        md.append("|---|---|---|")
        for r in fl:
            md.append("| %d | %.3f | %.3f |" % (r["flows"], r["gen"]["mpps"], r["engine_mpps"]))
        md.append("")
    mx = {}
    for r in res:
        if r["label"] == "mix":
            mx.setdefault(r.get("mix", "?"), {})[r["engine"]] = r
    if mx:
        md.append("## proto_count by protocol mix (128 B, 256 flows) against testpmd io\n")
        md.append("| mix | sluice proto_count Mpps | testpmd io Mpps | ratio |")
        md.append("|---|---|---|---|")
        for mix, d in mx.items():
            sm = d["sluice"]["gen"]["mpps"] if "sluice" in d else 0
            tm = d["testpmd"]["gen"]["mpps"] if "testpmd" in d else 0
            md.append("| %s | %.3f | %.3f | %s |" % (mix, sm, tm, ratio(sm, tm)))
        md.append("")


def progbench_section(out, md):
    """ns/packet of `sluice bench` per program and engine."""
    table = {}
    for path in sorted(glob.glob(os.path.join(out, "progbench-*.txt"))):
        prog = os.path.basename(path)[len("progbench-"):-len(".txt")]
        with open(path) as f:
            for line in f:
                m = re.match(r"\s+(sluice interp|sluice jit|librte_bpf interp|librte_bpf jit|"
                             r"native)\s+([\d.]+) ns/packet", line)
                if m:
                    table.setdefault(prog, {})[m.group(1)] = float(m.group(2))
    if not table:
        return
    cols = ["sluice jit", "sluice interp", "librte_bpf jit", "librte_bpf interp", "native"]
    md.append("## ns/packet by execution engine (`sluice bench`, demo.pcap in memory)\n")
    md.append("| program | " + " | ".join(cols) + " | jit / librte_bpf jit | jit / native |")
    md.append("|---|" + "---|" * (len(cols) + 2))
    for prog, v in table.items():
        cell = ["%.2f" % v[c] if c in v else "-" for c in cols]
        md.append("| %s | %s | %s | %s |" % (prog, " | ".join(cell),
                                           ratio(v.get("sluice jit", 0), v.get("librte_bpf jit", 0)),
                                           ratio(v.get("sluice jit", 0), v.get("native", 0))))
    md.append("")
    fig, ax = plt.subplots(figsize=(8, 4))
    progs = list(table)
    w = 0.8 / len(cols)
    for i, c in enumerate(cols):
        ax.bar([x + i * w for x in range(len(progs))], [table[p].get(c, 0) for p in progs], w,
               label=c)
    ax.set_xticks([x + 0.4 - w / 2 for x in range(len(progs))])
    ax.set_xticklabels(progs, rotation=30, ha="right")
    ax.set_yscale("log")
    ax.set_ylabel("ns/packet (log)")
    ax.set_title("ns/packet: sluice JIT / interpreter, librte_bpf, native (missing bar: n/a)")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(os.path.join(out, "ns-per-packet.png"), dpi=80)
    plt.close(fig)
    md.append("![ns per packet](ns-per-packet.png)\n")


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    res, secs = [], 0
    hj = os.path.join(out, "harness.json")
    if os.path.exists(hj):
        with open(hj) as f:
            h = json.load(f)
        res, secs = h["results"], h["seconds"]
    md = ["# sluice benchmark report\n",
          "Generated %s by scripts/bench-report.py (the last step of `make bench`). "
          "Machine: %s.\n" %
          (time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), machine()),
          "Traffic figures come from pktgen-tests/harness.py (%.0f s): sl-memgen on one CPU "
          "sends over one net_memif link to the engine's worker on the other, which sends every passed "
          "packet back; each row's anchor is testpmd `--forward-mode=io` on the same link in "
          "the same run. Mpps 'back' is what returned to the generator; 'engine rx' is what "
          "the engine took off the link. Gbit/s count frame + FCS + 20 B preamble and gap. "
          "'CPU share' is the CPU time the engine process got while the generator ran, "
          "divided by that time: a busy-polling worker should be near 1.0; on this shared "
          "machine it is what the scheduler left it, so 'per CPU-second' figures are the "
          "fairer comparison.\n"
          % secs]
    sizes_section(res, out, md)
    programs_section(res, out, md)
    latency_section(res, out, md)
    flowgen_section(res, md)
    flows_mix_section(res, md)
    progbench_section(out, md)
    failed = [r for r in res if r.get("error")]
    for r in failed:
        md.append("- run %s/%s failed: %s" % (r["label"], r.get("prog"), r["error"]))
    with open(os.path.join(out, "report.md"), "w") as f:
        f.write("\n".join(md) + "\n")
    print("wrote %s/report.md and %d plots" % (out, len(glob.glob(os.path.join(out, "*.png")))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
