#!/bin/sh
# Run the loader+verifier libFuzzer target for a bounded number of runs from
# a seed corpus (every compiled object of the build: the examples and the
# test programs; the must-reject cases' bytecode), then print the coverage:
# the instrumented edges (inline 8-bit counters: the loader, verifier and
# maps libraries are built with -fsanitize=fuzzer-no-link, so the figure is
# theirs, not the harness's 25) and the coverage reached.
#   vm/tests/verifier/run_fuzz.sh BUILD_DIR [RUNS] [SECONDS]
# BUILD_DIR must be configured with CC=clang -Dfuzz=true -Db_sanitize=address,undefined.
# -timeout=120: a bounded loop the verifier walks to its 1,000,000-instruction
# limit takes ~2 s in a normal build and over 12 s of CPU under ASan with
# coverage; only an input slower than two minutes is a hang.
set -e
build=${1:?usage: run_fuzz.sh BUILD_DIR [RUNS] [SECONDS]}
runs=${2:-20000}
secs=${3:-60}
fuzzer=$build/vm/tests/fuzz_loader_verifier
[ -x "$fuzzer" ] || { echo "run_fuzz.sh: $fuzzer not built (CC=clang, -Dfuzz=true)" >&2; exit 77; }
corpus=$(mktemp -d)
log=$(mktemp)
artifacts=$(mktemp -d)   # crashing or slow inputs; kept (and named) only on failure
trap 'rm -rf "$corpus" "$log"; rmdir "$artifacts" 2>/dev/null || true' EXIT
find "$build" -name '*.bpf.o' -exec cp {} "$corpus"/ \; 2>/dev/null || true
i=0
for f in "$(dirname "$0")"/reject/*.data; do
	i=$((i + 1))
	"$build/vm/tests/isa_runner" --asm "$f" "$corpus/raw$i.bin" /dev/null >/dev/null 2>&1 || true
	# first byte: program type (the raw inputs are prefixed by one type byte)
	if [ -f "$corpus/raw$i.bin" ]; then
		{ printf '\001'; cat "$corpus/raw$i.bin"; } > "$corpus/seed$i.bin"
		rm -f "$corpus/raw$i.bin"
	fi
done
seeds=$(ls "$corpus" | wc -l)
status=0
ASAN_OPTIONS=detect_leaks=1 "$fuzzer" -runs="$runs" -max_total_time="$secs" -timeout=120 \
	-rss_limit_mb=2048 -artifact_prefix="$artifacts/" "$corpus" > "$log" 2>&1 || status=$?
rm -f "$artifacts"/slow-unit-* 2>/dev/null || true
tail -n 5 "$log"
[ "$status" -eq 0 ] || { echo "run_fuzz.sh: fuzzer failed (exit $status), inputs in $artifacts"; cat "$log"; exit 1; }
counters=$(sed -n 's/.*Loaded [0-9]* modules *(\([0-9]*\) inline 8-bit counters).*/\1/p' "$log" | head -n 1)
final=$(grep -E '^#[0-9]+.*(DONE|cov:)' "$log" | tail -n 1)
echo "fuzz-loader-verifier: $seeds seeds; ${counters:-?} instrumented edges; last: $final"
# the harness alone has a few dozen counters: thousands mean the libraries are instrumented
[ "${counters:-0}" -ge 1000 ] || { echo "run_fuzz.sh: only ${counters:-0} counters: libraries not instrumented"; exit 1; }
