#!/bin/sh
# Run the maps suite under ThreadSanitizer and AddressSanitizer+UBSan, each
# in its own build directory (build-maps-tsan, build-maps-asan), building
# only the maps test targets so that the rest of the tree does not matter.
# usage: maps/tests/sanitize.sh [tsan|asan]...   (default: both)
set -eu
cd "$(dirname "$0")/../.."
kinds=${*:-tsan asan}
targets="maps/tests/test_maps_kernel_diff maps/tests/test_maps_helpers maps/tests/test_maps_array maps/tests/test_maps_hash maps/tests/test_maps_lpm maps/tests/test_maps_memory maps/tests/test_maps_fib maps/tests/test_maps_stress maps/tests/test_maps_perf_event maps/tests/test_maps_csum_kdiff maps/tests/test_maps_perf_kdiff maps/tests/csum_diff.bpf.o maps/tests/perf_out.bpf.o maps/tests/test_maps_loop_kdiff maps/tests/loop.bpf.o maps/tests/test_maps_loop_verifier"
status=0
for k in $kinds; do
	case $k in
	tsan) san=thread ;;
	asan) san=address,undefined ;;
	*) echo "sanitize.sh: unknown kind '$k' (tsan, asan)" >&2; exit 2 ;;
	esac
	dir=build-maps-$k
	[ -f "$dir/build.ninja" ] || meson setup "$dir" -Db_sanitize=$san -Db_lundef=false >/dev/null
	# shellcheck disable=SC2086
	ninja -C "$dir" -j2 $targets
	export TSAN_OPTIONS="halt_on_error=1 ${TSAN_OPTIONS:-}"
	export UBSAN_OPTIONS="halt_on_error=1 print_stacktrace=1 ${UBSAN_OPTIONS:-}"
	if meson test -C "$dir" --no-rebuild --suite maps --print-errorlogs; then
		echo "sanitize.sh: $k: maps suite clean"
	else
		echo "sanitize.sh: $k: FAILED"; status=1
	fi
done
exit $status
