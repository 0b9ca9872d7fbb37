#!/bin/sh
# Differential test against the Linux verifier: for each object, the kernel's
# accept/reject (bpftool prog loadall) must equal sluice's (sluice verify).
#   kernel_diff.sh SLUICE OBJ...
# Exit 77 when the kernel refuses to load any program (no bpftool, no bpffs,
# no privileges).
sluice=${1:?usage: kernel_diff.sh SLUICE OBJ...}
shift
command -v bpftool >/dev/null 2>&1 || { echo "kernel_diff: no bpftool: skipped"; exit 77; }
[ -d /sys/fs/bpf ] || exit 77
mountpoint -q /sys/fs/bpf 2>/dev/null || mount -t bpf bpf /sys/fs/bpf 2>/dev/null || {
	echo "kernel_diff: cannot mount bpffs: skipped"; exit 77; }
pin=/sys/fs/bpf/sluice_vdiff_$$
trap 'rm -rf "$pin"' EXIT
loaded=0 bad=0
for obj in "$@"; do
	if bpftool prog loadall "$obj" "$pin" >/dev/null 2>&1; then
		kernel=accept
		loaded=1
	else
		kernel=reject
	fi
	rm -rf "$pin"
	if "$sluice" verify "$obj" >/dev/null 2>&1; then ours=accept; else ours=reject; fi
	if [ "$kernel" = "$ours" ]; then
		echo "ok $obj: both $ours"
	else
		echo "FAIL $obj: kernel $kernel, sluice $ours"
		bad=1
	fi
done
[ "$loaded" = 1 ] || { echo "kernel_diff: the kernel loaded nothing: skipped"; exit 77; }
exit $bad
