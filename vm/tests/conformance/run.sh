#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# Run a directory of bpf_conformance-style .data files ("-- asm", "-- mem",
# "-- result", "-- error") through `sluice test-run --raw`, the way an external
# conformance harness does: assemble each case with the ISA suite's assembler
# (isa_runner --asm), run `sluice test-run --raw PROG.bin --mem MEM.bin [ARGS]`,
# compare the last stdout line with the expected r0 (hex), or expect a nonzero
# exit when the case has an "-- error" section. Prints one line per failure
# and "N passed, M failed" at the end; exits 1 if anything failed.
#
# usage: vm/tests/conformance/run.sh [-b BUILDDIR] [-v] DIR [TEST-RUN ARGS...]
#   -b BUILDDIR   meson build directory (default: build)
#   -v            also print one line per passing case (expected and got)
#   TEST-RUN ARGS extra test-run flags, e.g. --interp, --jit, --no-verify
#
# The external .data files are not part of sluice: this script is not
# registered in meson.
set -u

build=build
verbose=0
while [ $# -gt 0 ]; do
	case "$1" in
	-b) build="$2"; shift 2 ;;
	-v) verbose=1; shift ;;
	-h|--help) sed -n '3,18s/^# \{0,1\}//p' "$0"; exit 0 ;;
	*) break ;;
	esac
done
if [ $# -lt 1 ] || [ ! -d "$1" ]; then
	echo "usage: $0 [-b BUILDDIR] [-v] DIR [TEST-RUN ARGS...]" >&2
	exit 2
fi
dir="$1"; shift
asm="$build/vm/tests/isa_runner"
sluice="$build/engine/sluice"
for exe in "$asm" "$sluice"; do
	if [ ! -x "$exe" ]; then
		echo "$0: $exe not found (build first, or give -b BUILDDIR)" >&2
		exit 2
	fi
done

tmp=$(mktemp -d /tmp/sl-conformance-XXXXXX) || exit 2
trap 'rm -rf "$tmp"' EXIT INT TERM

# Print the section's first meaningful line, or "" ; exit 1 if the section is absent.
section_first() { # FILE NAME
	awk -v want="-- $2" '
		/^-- / { insec = ($0 == want || index($0, want " ") == 1); if (insec) found = 1; next }
		insec && !done { sub(/#.*/, ""); gsub(/[ \t\r]/, ""); if ($0 != "") { print; done = 1 } }
		END { exit found ? 0 : 1 }' "$1"
}

# Normalise a hex value (with or without 0x) to lowercase digits without
# leading zeros; "" when it is not hex or does not fit in 64 bits.
norm_hex() {
	v=$(printf '%s' "$1" | tr 'A-F' 'a-f' | sed -e 's/^0x//' -e 's/^0*//')
	[ -z "$v" ] && v=0
	case "$v" in *[!0-9a-f]*) echo ""; return ;; esac
	[ ${#v} -gt 16 ] && { echo ""; return; }
	echo "$v"
}

pass=0; fail=0
for f in "$dir"/*.data; do
	[ -e "$f" ] || continue
	name=$(basename "$f" .data)
	expect=$(section_first "$f" result); has_result=$?
	section_first "$f" error >/dev/null; has_error=$?
	if ! "$asm" --asm "$f" "$tmp/p.bin" "$tmp/m.bin" >"$tmp/asm.txt" 2>&1; then
		echo "FAIL $name: assembler: $(tail -n 1 "$tmp/asm.txt")"
		fail=$((fail + 1)); continue
	fi
	memarg=""
	[ -s "$tmp/m.bin" ] && memarg="--mem $tmp/m.bin"
	# shellcheck disable=SC2086
	"$sluice" test-run --raw "$tmp/p.bin" $memarg "$@" >"$tmp/out.txt" 2>"$tmp/err.txt"
	st=$?
	got=$(tail -n 1 "$tmp/out.txt")
	why=""
	if [ $st -gt 128 ]; then
		why="crashed (exit $st)"
	elif [ $has_error -eq 0 ]; then
		[ $st -ne 0 ] || why="expected an error, got exit 0 with '$got'"
	elif [ $has_result -ne 0 ]; then
		why="no -- result section"
	elif [ $st -ne 0 ]; then
		why="expected $expect, got exit $st: $(tail -n 1 "$tmp/err.txt")"
	else
		want=$(norm_hex "$expect")
		have=$(norm_hex "$got")
		if [ -z "$want" ]; then
			why="expected value '$expect' is not a 64-bit hex number (got $got)"
		elif [ "$want" != "$have" ]; then
			why="expected $expect, got $got"
		fi
	fi
	if [ -z "$why" ]; then
		pass=$((pass + 1))
		if [ $verbose -eq 1 ] && [ $has_error -eq 0 ]; then
			echo "PASS $name: error as expected: $(tail -n 1 "$tmp/err.txt")"
		elif [ $verbose -eq 1 ]; then
			echo "PASS $name: expected $expect, got $got"
		fi
	else
		fail=$((fail + 1))
		echo "FAIL $name: $why"
	fi
done
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
