#!/bin/sh
# `make demo`: proto_count on a generated mixed capture, replayed forever by
# DPDK's net_pcap (infinite_rx=1) for 5 seconds; XDP_PASS forwards every
# packet to port "sink" (net_null, which discards). The run is described by
# examples/proto_count.yaml (copied into the build directory next to the
# object); --duration and --json on the command line override it. Prints a
# rate line per second, the final stats, then the per-protocol counters by name.
# usage: demo.sh [BUILD_DIR]   (no NIC and no hugepages needed; run as root)
# SLUICE_DEMO_SECONDS sets the length of the run (default 5).
set -eu
BUILD=${1:-build}
SECS=${SLUICE_DEMO_SECONDS:-5}
SCRIPTS=$(cd "$(dirname "$0")" && pwd)
SLUICE=$BUILD/engine/sluice
PROG=$BUILD/examples/proto_count.bpf.o
PCAP=$BUILD/pktgen-tests/demo.pcap
CONFIG=$BUILD/examples/proto_count.yaml
for f in "$SLUICE" "$PROG" "$PCAP" "$CONFIG"; do
	[ -e "$f" ] || { echo "demo: $f is missing (build first: make build)" >&2; exit 1; }
done
TMP=$(mktemp -d /tmp/sluice-demo.XXXXXX)
trap 'rm -rf "$TMP"' EXIT INT TERM

echo "demo: $CONFIG: $(basename "$PROG") on $PCAP ($(($(wc -c < "$PCAP") / 1024)) KiB), replayed for $SECS s"
"$SLUICE" run -c "$CONFIG" --duration "$SECS" --no-maps --json "$TMP/demo.json"
echo
python3 "$SCRIPTS/proto-report.py" "$TMP/demo.json"
