#!/bin/sh
# make bench: every benchmark, each printing its figures side by side with
# its anchor measured in the same run (timings on a shared machine are
# noisy: compare the ratios).
#   scripts/bench.sh BUILD_DIR
set -eu
b=${1:-build}
sluice=$b/engine/sluice
pcap=$b/pktgen-tests/demo.pcap

echo "== programs: ns/packet over $pcap (sluice JIT and interpreter vs librte_bpf and native gcc -O2)"
for name in flowhash l4filter; do
	"$sluice" bench --prog "$b/examples/$name.bpf.o" --pcap "$pcap" --native "$b/examples/$name.so"
	echo
done
# Real-world shapes (examples/bench/shapes.h), each at clang's default
# -mcpu=v1 and at v3, against native gcc -O2 and librte_bpf's JIT (which
# takes neither v3's 32-bit jumps, nor loops, calls or global data: then
# "-"). Per program the full table, then one summary line each; code
# sizes: sluice's JIT output against gcc's functions of the same source.
shapes="jhash crc32 siphash maglev csum v6walk katran classify"
gcc_bytes() {
	nm -S -t d --defined-only "$1" | awk '$3 ~ /^[tT]$/ && $4 !~ /^(_init|_fini|deregister_tm_clones|register_tm_clones|__do_global_dtors_aux|frame_dummy)$/ {
		n += $2 } END { print n + 0 }'
}
summary=$(mktemp)
for name in $shapes; do
	for cpu in v1 v3; do
		obj=$b/examples/$name.bpf.o
		[ "$cpu" = v3 ] && obj=$b/examples/$name.v3.bpf.o
		out=$("$sluice" bench --prog "$obj" --pcap "$pcap" --native "$b/examples/$name.so" --jit --repeat 50 2>/dev/null)
		echo "$out"
		echo "$out" | awk -v n="$name" -v c="$cpu" -v g="$(gcc_bytes "$b/examples/$name.so")" '
			$1 == "sluice" && $2 == "jit" && $3 ~ /^[0-9.]+$/ { j = $3 }
			$1 == "librte_bpf" && $2 == "jit" && $3 ~ /^[0-9.]+$/ { r = $3 }
			$1 == "native" && $2 ~ /^[0-9.]+$/ { nat = $2 }
			/sluice jit code =/ { sz = $5 }
			END { printf "%-9s %-3s %7.2f %7.2f %7s %7.2f %7s %6d %6d\n", n, c, j, nat,
				r == "" ? "-" : sprintf("%.2f", r), j / nat,
				r == "" ? "-" : sprintf("%.2f", j / r), sz, g }' >> "$summary"
		echo
	done
done
echo "== real-world shapes: ns/packet (same-run ratios), code bytes"
printf "%-9s %-3s %7s %7s %7s %7s %7s %6s %6s\n" program isa jit native rte-jit jit/nat jit/rte jit-B gcc-B
cat "$summary"
awk '{ l += log($6); n++; if ($6 > 1.10) over++; if ($7 != "-") { r++; if ($7 > 0.8) rover++ } }
	END { if (n) printf "geometric mean of jit/native over %d programs: %.3fx (target <= 1.05x); above 1.10x native: %d; above 0.8x librte_bpf jit: %d of %d\n",
		n, exp(l / n), over, rover, r }' "$summary"
rm -f "$summary"
echo

for obj in "$b"/examples/*.bpf.o; do
	case "$(basename "$obj")" in flowhash.bpf.o|l4filter.bpf.o|maplookup.bpf.o) continue ;; esac
	case " $shapes " in *" $(basename "$obj" | sed 's/\.v3\.bpf\.o$//; s/\.bpf\.o$//') "*) continue ;; esac
	"$sluice" bench --prog "$obj" --pcap "$pcap"
	echo
done

echo "== inlined ARRAY / PERCPU_ARRAY lookups in JIT code (16 per packet, against the same program without them)"
jit_ns() {
	"$sluice" bench --prog "$b/examples/maplookup.bpf.o" --section "$1" --pcap "$pcap" --jit |
		awk '$1 == "sluice" && $2 == "jit" && $3 != "blinded" {print $3}'
}
base=$(jit_ns base)
for sec in array percpu; do
	ns=$(jit_ns "$sec")
	awk -v s="$sec" -v b="$base" -v n="$ns" 'BEGIN {
		printf "  %-7s %6.2f ns/packet (base %.2f): %.2f ns per lookup with its value load\n", s, n, b, (n - b) / 16 }'
done
echo

echo "== maps: ns/lookup (and ns/write), sluice vs rte_hash and rte_lpm on the same keys"
"$b/maps/tests/bench_maps"

echo
echo "== compatibility programs and xdp-tools objects: ns/packet, the kernel JIT's BPF_PROG_TEST_RUN"
echo "   (minus its harness, measured on an XDP_PASS program) beside sluice's JIT minus its own, same packets,"
echo "   each run 1000 times on one context as the kernel's test run does (end states compared), the corpus"
echo "   3 times (harness and program alternating; per packet the median of 3, spread: quartiles of the rounds)"
# the compat tests' own command lines (objects, packet corpus, map entries), plus --bench
# (object paths are relative to the build directory, where meson runs tests)
python3 - "$b" <<'PY' | while IFS= read -r line; do (cd "$b" && sh -c "$line") 2>/dev/null | grep -E '^[^ ].*: kernel|speed:|spread over|SKIP|MISMATCH end state' || true; done
import json, shlex, subprocess, sys
b = sys.argv[1]
tests = json.loads(subprocess.run(["meson", "introspect", "--tests", b], capture_output=True,
                                  text=True).stdout or "[]")
for t in tests:
    if t["name"] in ("compat-kernel-progs", "compat-xdp-tools") and t["cmd"][0].endswith("compat_kdiff"):
        print(" ".join(shlex.quote(a) for a in t["cmd"] + ["--random", "50", "--bench", "1000",
                                                          "--bench-rounds", "3"]))
PY
echo
echo "== control socket and hot reload (engine/tests/ctl/bench_ctl.py)"
python3 engine/tests/ctl/bench_ctl.py "$sluice" "$b/pktgen-tests/sl-pcapgen" \
	"$b/engine/tests/maps_mix.bpf.o" "$b/engine/tests/ctl/ctl_count_v1.bpf.o" \
	"$b/engine/tests/ctl/ctl_count_v2.bpf.o" "$b/engine/tests/ctl/ctl_big.bpf.o" \
	"$b/engine/tests/ctl/ctl_mix_ro.bpf.o"

echo
echo "== capture by verdict (scripts/bench_capture.py): capture off vs --verdict drop, Mpps and instructions/packet"
python3 "$(dirname "$0")/bench_capture.py" "$sluice" "$b/pktgen-tests/sl-pcapgen" \
	"$b/engine/tests/ops/drop_1pct.bpf.o"

echo
echo "== replay: sluice replay and sluice-replay --filter vs tcpdump -r -w, same expression, same capture, alternating rounds; instructions/packet (callgrind)"
python3 "$(dirname "$0")/bench_replay.py" "$sluice" "$b/pktgen-tests/sl-pcapgen"

echo
echo "== engine: sluice's worker against dpdk-testpmd io forwarding (--mp-alloc=xbuf, and testpmd"
echo "   + a librte_bpf keep-all JIT filter; tp-page: testpmd's default pool), one worker, 64 B frames,"
echo "   net_null and net_pcap (scripts/bench_engine.py)"
python3 "$(dirname "$0")/bench_engine.py" "$sluice" "$b"

# --- pktgen (issue 12): the local traffic harness (sluice and testpmd over
# net_memif), the programs' ns/packet by engine, then bench-results/report.md
# and its plots (scripts/bench-report.py).
out=bench-results
mkdir -p "$out"
rm -f "$out"/progbench-*.txt
echo
echo "== pktgen harness: Mpps by frame size and by program, latency, against testpmd io (same link, same run)"
python3 pktgen-tests/harness.py --build "$b" --bench --out "$out"
for name in flowhash l4filter; do
	"$sluice" bench --prog "$b/examples/$name.bpf.o" --pcap "$pcap" \
		--native "$b/examples/$name.so" > "$out/progbench-$name.txt"
done
for name in proto_count firewall flowtable l4lb ratelimit; do
	"$sluice" bench --prog "$b/examples/$name.bpf.o" --pcap "$pcap" > "$out/progbench-$name.txt"
done
# Debian's python3 has python3-matplotlib (another python3 may come first on PATH).
py=/usr/bin/python3
[ -x "$py" ] || py=python3
"$py" scripts/bench-report.py "$out"
