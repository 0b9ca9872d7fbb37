#!/bin/sh
# Run a libFuzzer target for a bounded number of runs from a seed corpus,
# then print its coverage (instrumented edges and the last coverage line).
# The fuzz build instruments sluice's libraries (-fsanitize=fuzzer-no-link),
# so MIN_EDGES or more mean the code under test is instrumented, not only
# the harness. Every fuzz test runs through this script (config's parsers,
# the ctl protocol, vm/tests/verifier/run_fuzz.sh for loader + verifier).
#   tests/common/run_fuzz.sh FUZZER SEED_DIR [RUNS] [SECONDS] [MIN_EDGES]
# -timeout=120: a bounded loop the verifier walks to its 1,000,000-instruction
# limit takes ~2 s in a normal build and over 12 s of CPU under ASan with
# coverage; only an input slower than two minutes is a hang.
set -e
fuzzer=${1:?usage: run_fuzz.sh FUZZER SEED_DIR [RUNS] [SECONDS] [MIN_EDGES]}
seeds=${2:?usage: run_fuzz.sh FUZZER SEED_DIR [RUNS] [SECONDS] [MIN_EDGES]}
runs=${3:-20000}
secs=${4:-60}
min=${5:-500}
name=$(basename "$fuzzer")
corpus=$(mktemp -d)
log=$(mktemp)
artifacts=$(mktemp -d)   # crashing or slow inputs; kept (and named) only on failure
trap 'rm -rf "$corpus" "$log"; rmdir "$artifacts" 2>/dev/null || true' EXIT
cp "$seeds"/* "$corpus"/
status=0
ASAN_OPTIONS=detect_leaks=1 "$fuzzer" -runs="$runs" -max_total_time="$secs" -timeout=120 \
	-rss_limit_mb=2048 -artifact_prefix="$artifacts/" "$corpus" > "$log" 2>&1 || status=$?
rm -f "$artifacts"/slow-unit-* 2>/dev/null || true
tail -n 3 "$log"
[ "$status" -eq 0 ] || { echo "$name: fuzzer failed (exit $status), inputs in $artifacts"; cat "$log"; exit 1; }
edges=$(sed -n 's/.*Loaded [0-9]* modules *(\([0-9]*\) inline 8-bit counters).*/\1/p' "$log" | head -n 1)
final=$(grep -E '^#[0-9]+.*(DONE|cov:)' "$log" | tail -n 1)
echo "$name: $(ls "$seeds" | wc -l) seeds; ${edges:-?} instrumented edges; last: $final"
[ "${edges:-0}" -ge "$min" ] || { echo "$name: only ${edges:-0} edges: library not instrumented"; exit 1; }
