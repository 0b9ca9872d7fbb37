#!/bin/sh
# `make demo` as a test: scripts/demo.sh for 2 s must print rate lines, stop
# cleanly, and name the protocols the demo capture holds. The counts
# themselves are checked exactly by engine-run-infinite.
# usage: demo_smoke.sh SOURCE_DIR BUILD_DIR
set -u
out=$(SLUICE_DEMO_SECONDS=2 "$1/scripts/demo.sh" "$2" 2>&1) || { echo "FAIL: demo exit $?"; echo "$out"; exit 1; }
echo "$out"
fail() { echo "FAIL: $1"; exit 1; }
[ "$(echo "$out" | grep -c '^\[ *[0-9.]*s\] rx .* Mpps')" -ge 2 ] || fail "fewer than 2 rate lines"
echo "$out" | grep -q 'stopped (duration reached)' || fail "no clean stop"
for p in tcp udp icmp ipv6-icmp gre sctp; do
	echo "$out" | grep -Eq "^  $p +[0-9]+ +[1-9][0-9]* " || fail "no counter for $p"
done
echo "ok: demo"
