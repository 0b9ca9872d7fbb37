#!/bin/sh
# `make demo`: proto_count on a generated mixed capture, replayed forever by
# DPDK's net_pcap (infinite_rx=1) for 5 seconds; XDP_PASS forwards every
# packet to port 1 (net_null, which discards). Prints a rate line per second,
# the final stats, then the per-protocol counters by name.
# usage: demo.sh [BUILD_DIR]   (no NIC and no hugepages needed; run as root)
# SLUICE_DEMO_SECONDS sets the length of the run (default 5).
set -eu
BUILD=${1:-build}
SECS=${SLUICE_DEMO_SECONDS:-5}
SCRIPTS=$(cd "$(dirname "$0")" && pwd)
SLUICE=$BUILD/engine/sluice
PROG=$BUILD/examples/proto_count.bpf.o
PCAP=$BUILD/pktgen-tests/demo.pcap
for f in "$SLUICE" "$PROG" "$PCAP"; do
	[ -e "$f" ] || { echo "demo: $f is missing (build first: make build)" >&2; exit 1; }
done
TMP=$(mktemp -d /tmp/sluice-demo.XXXXXX)
trap 'rm -rf "$TMP"' EXIT INT TERM

echo "demo: $(basename "$PROG") on $PCAP ($(($(wc -c < "$PCAP") / 1024)) KiB), replayed for $SECS s"
"$SLUICE" run --prog "$PROG" \
	--port "net_pcap0,rx_pcap=$PCAP,infinite_rx=1" \
	--port "net_null0,no-rx=1" \
	--duration "$SECS" --stats-interval 1 --no-maps --json "$TMP/demo.json"
echo
python3 "$SCRIPTS/proto-report.py" "$TMP/demo.json"
