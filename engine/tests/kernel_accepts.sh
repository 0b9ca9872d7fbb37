#!/bin/sh
# The Linux kernel's verifier as an oracle: every XDP object given must load
# into the kernel (bpftool prog load ... type xdp). Skips (77) where the
# kernel cannot be asked: no bpftool, not root, bpffs not mountable, or the
# kernel refuses BPF loading outright (EPERM).
# usage: kernel_accepts.sh OBJ...
set -u
command -v bpftool >/dev/null 2>&1 || { echo "SKIP: bpftool missing"; exit 77; }
[ "$(id -u)" = 0 ] || { echo "SKIP: not root"; exit 77; }
if ! grep -q ' /sys/fs/bpf bpf ' /proc/mounts; then
	mount -t bpf bpf /sys/fs/bpf 2>/dev/null || { echo "SKIP: cannot mount bpffs at /sys/fs/bpf"; exit 77; }
fi
n=0
for obj in "$@"; do
	pin=/sys/fs/bpf/sluice-test-$$-$n
	n=$((n + 1))
	if out=$(bpftool prog load "$obj" "$pin" type xdp 2>&1); then
		rm -f "$pin"
		echo "ok: kernel accepts $(basename "$obj")"
		continue
	fi
	rm -f "$pin"
	case "$out" in
	*"Operation not permitted"*) echo "SKIP: kernel refuses BPF loading"; exit 77 ;;
	esac
	echo "FAIL: kernel rejects $obj:"
	echo "$out" | tail -n 20
	exit 1
done
