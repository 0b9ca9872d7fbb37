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

echo
echo "== replay: sluice replay --filter vs tcpdump -r -w, same expression, same capture"
python3 "$(dirname "$0")/bench_replay.py" "$sluice" "$b/pktgen-tests/sl-pcapgen"
