#!/bin/sh
# Run the loader+verifier libFuzzer target for a bounded number of runs from
# a seed corpus (every compiled object of the build: the examples and the
# test programs; the must-reject cases' bytecode), then print the coverage:
# the instrumented edges (inline 8-bit counters: the loader, verifier and
# maps libraries are built with -fsanitize=fuzzer-no-link, so the figure is
# theirs, not the harness's 25) and the coverage reached.
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
# the run and its checks: the one script every fuzz test uses; the harness
# alone has a few dozen counters, thousands mean the libraries are instrumented
status=0
"$(dirname "$0")/../../../tests/common/run_fuzz.sh" "$fuzzer" "$corpus" "$runs" "$secs" 1000 ||
	status=$?
exit $status
