#!/bin/sh
# sluice verify accepts every example object.
# usage: verify_all.sh SLUICE OBJ...
set -u
sluice=$1
shift
for obj in "$@"; do
	if ! out=$("$sluice" verify "$obj" 2>&1); then
		echo "FAIL: sluice verify rejects $obj:"
		echo "$out" | tail -n 20
		exit 1
	fi
	echo "$out" | tail -n 1
done
