#!/bin/sh
# `sluice test-run --jit` and `--blind` (constant blinding) against `--interp`
# on the same program and packet: the whole output (verdict, packet bytes,
# r0) must be identical.
# usage: cli_jit.sh SLUICE OBJ...
set -u
sluice="$1"
shift
dir=$(mktemp -d /tmp/sl-cli-jit-XXXXXX) || exit 1
trap 'rm -rf "$dir"' EXIT
# Ethernet / IPv4 / UDP 12345 -> 53 with a payload; and a VLAN-tagged IPv6 / TCP frame
printf '\000\021\042\063\104\125\146\167\210\231\252\273\010\000\105\000\000\056\000\000\100\000\100\021\000\000\012\000\000\001\012\000\000\002\060\071\000\065\000\032\000\000hello-sluice-pkt' > "$dir/udp4.bin"
printf '\000\021\042\063\104\125\146\167\210\231\252\273\201\000\000\007\206\335\140\000\000\000\000\024\006\100\040\001\015\270\000\000\000\000\000\000\000\000\000\000\000\001\040\001\015\270\000\000\000\000\000\000\000\000\000\000\000\002\001\273\303\120\000\000\000\001\000\000\000\000\120\022\040\000\000\000\000\000' > "$dir/tcp6.bin"
fail=0
for obj in "$@"; do
	for pkt in udp4 tcp6; do
		"$sluice" test-run --prog "$obj" --data "$dir/$pkt.bin" --interp > "$dir/i.out" 2>&1
		ri=$?
		for mode in --jit --blind; do
			"$sluice" test-run --prog "$obj" --data "$dir/$pkt.bin" $mode > "$dir/j.out" 2>&1
			rj=$?
			if [ $ri -ne 0 ] || [ $rj -ne 0 ] || ! cmp -s "$dir/i.out" "$dir/j.out"; then
				echo "FAIL $obj $pkt: --interp (exit $ri) and $mode (exit $rj) differ:"
				diff "$dir/i.out" "$dir/j.out" | head -10
				fail=1
			else
				echo "ok $obj $pkt $mode: $(tail -n 1 "$dir/j.out")"
			fi
		done
	done
done
exit $fail
