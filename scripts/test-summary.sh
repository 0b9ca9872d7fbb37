#!/bin/sh
# Sum meson's test counts over one or more `meson test` outputs and print the
# closing line "N passed, M failed". Exit status 0 only when nothing failed
# and something passed.
#   test-summary.sh MESON_TEST_OUTPUT [MESON_TEST_OUTPUT ...]
passed=0 failed=0 skipped=0
get() { v=$(grep -E "^$1:" "$2" | tail -n 1 | awk '{print $NF}'); echo "${v:-0}"; }
for f in "$@"; do
	if [ ! -s "$f" ] || ! grep -qE '^Ok:' "$f"; then
		echo "test-summary: $f: no meson test summary (build or setup failed?)" >&2
		failed=$((failed + 1))
		continue
	fi
	passed=$((passed + $(get 'Ok' "$f") + $(get 'Expected Fail' "$f")))
	failed=$((failed + $(get 'Fail' "$f") + $(get 'Unexpected Pass' "$f") + $(get 'Timeout' "$f")))
	skipped=$((skipped + $(get 'Skipped' "$f")))
done
[ "$skipped" != 0 ] && echo "($skipped skipped)"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ] && [ "$passed" != 0 ]
