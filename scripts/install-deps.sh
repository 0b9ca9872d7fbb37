#!/bin/sh
# Install the Debian packages sluice needs to build, test and demo.
# Idempotent: does nothing when every package is already installed.
set -eu

PKGS="gcc make meson ninja-build pkg-config python3
clang llvm lld libclang-rt-14-dev
libdpdk-dev dpdk dpdk-dev
libelf-dev zlib1g-dev libpcap-dev libbpf-dev libyaml-dev linux-libc-dev
bpftool xdp-tools tcpdump
lua5.3 python3-matplotlib
libjansson-dev libmicrohttpd-dev python3-prometheus-client
valgrind"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done

[ -z "$missing" ] && exit 0

echo "install-deps: installing:$missing"
SUDO=""
if [ "$(id -u)" != 0 ]; then
	if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else
		echo "install-deps: missing packages:$missing (run as root)" >&2; exit 1
	fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
