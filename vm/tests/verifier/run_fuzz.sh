#!/bin/sh
# Run the loader+verifier libFuzzer target for a bounded time from a seed
# corpus of compiled objects and the must-reject cases' bytecode.
#   vm/tests/verifier/run_fuzz.sh BUILD_DIR [RUNS] [SECONDS]
# BUILD_DIR must be configured with CC=clang -Dfuzz=true -Db_sanitize=address,undefined.
set -e
build=${1:?usage: run_fuzz.sh BUILD_DIR [RUNS] [SECONDS]}
runs=${2:-20000}
secs=${3:-60}
fuzzer=$build/vm/tests/fuzz_loader_verifier
[ -x "$fuzzer" ] || { echo "run_fuzz.sh: $fuzzer not built (CC=clang, -Dfuzz=true)" >&2; exit 77; }
corpus=$(mktemp -d)
trap 'rm -rf "$corpus"' EXIT
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
ASAN_OPTIONS=detect_leaks=1 "$fuzzer" -runs="$runs" -max_total_time="$secs" -timeout=30 \
	-rss_limit_mb=2048 "$corpus"
