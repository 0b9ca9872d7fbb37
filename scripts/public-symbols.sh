#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# The public symbols of sluice's libraries: every global the static libraries
# define (nm -g --defined-only), one "library symbol" line each, sorted.
# The rule (README "House layout"): a global starting with sl_ is public API,
# declared in some <component>/include/*.h; nothing else starts with sl_.
# With --check, also list sl_ globals no public header names and exit 1 if any.
#
# usage: scripts/public-symbols.sh [--check] [BUILD_DIR]   (default build)
set -eu
check=0
[ "${1:-}" = --check ] && { check=1; shift; }
build=${1:-build}
root=$(cd "$(dirname "$0")/.." && pwd)
[ -f "$build/vm/libsl_vm.a" ] || { echo "public-symbols: no libsl_vm.a under $build (build first)" >&2; exit 1; }
for lib in maps vm jit config; do
	a="$build/$lib/libsl_$lib.a"
	[ -f "$a" ] || continue
	nm -g --defined-only "$a" | awk -v l="$lib" 'NF == 3 && $3 ~ /^sl_/ { print l, $3 }'
done | sort -u > "${TMPDIR:-/tmp}/sl_public.$$"
cat "${TMPDIR:-/tmp}/sl_public.$$"
status=0
if [ "$check" = 1 ]; then
	while read -r lib sym; do
		if ! cat "$root"/*/include/*.h | grep -qw "$sym"; then
			echo "not in any public header: $lib $sym" >&2
			status=1
		fi
	done < "${TMPDIR:-/tmp}/sl_public.$$"
fi
rm -f "${TMPDIR:-/tmp}/sl_public.$$"
exit $status
