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
for obj in "$b"/examples/*.bpf.o; do
	case "$(basename "$obj")" in flowhash.bpf.o|l4filter.bpf.o|maplookup.bpf.o) continue ;; esac
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

echo "== maps: ns/lookup, sluice vs rte_hash and rte_lpm on the same keys"
"$b/maps/tests/bench_maps"

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
