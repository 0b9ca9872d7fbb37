#!/bin/sh
# The Linux kernel's verifier as an oracle for the engine's test and example
# programs: every object before --reject must load into the kernel
# (bpftool prog load; the program type comes from the section name), every
# object after it must be refused. Skips (77) where the kernel cannot be
# asked: no bpftool, not root, bpffs not mountable, or the kernel refuses
# BPF loading outright (EPERM).
# usage: kernel_accepts.sh OBJ... [--reject OBJ...]
set -u
command -v bpftool >/dev/null 2>&1 || { echo "SKIP: bpftool missing"; exit 77; }
[ "$(id -u)" = 0 ] || { echo "SKIP: not root"; exit 77; }
if ! grep -q ' /sys/fs/bpf bpf ' /proc/mounts; then
	mount -t bpf bpf /sys/fs/bpf 2>/dev/null || { echo "SKIP: cannot mount bpffs at /sys/fs/bpf"; exit 77; }
fi
want=accept
n=0
for obj in "$@"; do
	if [ "$obj" = --reject ]; then
		want=reject
		continue
	fi
	pin=/sys/fs/bpf/sluice-test-$$-$n
	n=$((n + 1))
	if out=$(bpftool prog load "$obj" "$pin" 2>&1); then
		got=accept
	else
		got=reject
	fi
	rm -f "$pin"
	case "$out" in
	*"Operation not permitted"*) echo "SKIP: kernel refuses BPF loading"; exit 77 ;;
	esac
	if [ "$got" != "$want" ]; then
		echo "FAIL: kernel ${got}s $obj, expected to $want it:"
		echo "$out" | tail -n 20
		exit 1
	fi
	echo "ok: kernel ${got}s $(basename "$obj")"
done
