#!/bin/sh
# Print meson's test counts as the closing line "N passed, M failed".
# usage: test-summary.sh MESON_TEST_OUTPUT_FILE
f="$1"
get() { v=$(grep -E "^$1:" "$f" | tail -n 1 | awk '{print $NF}'); echo "${v:-0}"; }
ok=$(get 'Ok'); xfail=$(get 'Expected Fail'); fail=$(get 'Fail')
xpass=$(get 'Unexpected Pass'); timeout=$(get 'Timeout'); skip=$(get 'Skipped')
passed=$((ok + xfail)); failed=$((fail + xpass + timeout))
if [ "$skip" != 0 ]; then echo "($skip skipped)"; fi
echo "$passed passed, $failed failed"
[ "$failed" = 0 ] && [ "$passed" != 0 ]
