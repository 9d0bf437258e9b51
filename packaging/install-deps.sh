#!/usr/bin/env bash
# Installs everything sluice needs to build, run and test on Debian 12, as root.
# Safe to run again: apt-get skips what is already installed.
set -euo pipefail

BUILD_DEPS=(build-essential cmake pkg-config clang llvm bpftool
	libbpf-dev libxdp-dev libelf-dev libjansson-dev libsystemd-dev zlib1g-dev
	dpkg-dev rpm)
RUN_DEPS=(iproute2)
TEST_DEPS=(iputils-ping socat ethtool jq python3 procps tcpdump iperf3 dnsmasq-base dnsutils
	iptables nftables lintian groff-base man-db bash-completion gnuplot-nox file bc)

if [ "$(id -u)" != 0 ]; then
	echo "install-deps: run as root (apt-get needs it)" >&2
	exit 1
fi
missing=()
for p in "${BUILD_DEPS[@]}" "${RUN_DEPS[@]}" "${TEST_DEPS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	echo "install-deps: all dependencies present"
	exit 0
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
