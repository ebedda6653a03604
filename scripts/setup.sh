#!/usr/bin/env bash
# Installs every Debian 12 package Synack needs to build, test and benchmark.
# Idempotent: skips apt entirely when everything is already present. Run as root.
set -euo pipefail

PKGS=(
  build-essential cmake ninja-build meson pkg-config
  dpdk dpdk-dev libdpdk-dev
  libgtest-dev libgmock-dev googletest libbenchmark-dev libabsl-dev
  iproute2 iputils-ping iputils-arping tcpdump tshark curl wrk hping3 ethtool procps
  python3 python3-scapy python3-matplotlib
  clang libclang-rt-14-dev clang-format
  doxygen
)

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "setup.sh: missing packages (${missing[*]}); run as root to install them" >&2
    exit 1
  fi
  echo "setup.sh: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # tshark's package asks whether non-root users may capture: no (the tests read files as root).
  echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections 2>/dev/null || true
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
echo "setup.sh: all packages present"
