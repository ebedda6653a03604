#!/usr/bin/env bash
# Synack as a package: installs the CMake build ($1) into a scratch prefix, builds examples/hello out of
# the tree against it twice — with find_package(Synack) and with pkg-config — and, as root, runs each
# build against the Linux kernel over net_tap (tests/interop/hello.sh: 50 greetings on two engines).
set -euo pipefail
build=$(readlink -f "$1")
root=$(cd "$(dirname "$0")/../.." && pwd)
prefix=$(mktemp -d /tmp/synack-prefix.XXXXXX)
trap 'rm -rf "$prefix"' EXIT

cmake --install "$build" --prefix "$prefix" >/dev/null
pc=$(find "$prefix" -name synack.pc | head -n 1)
cfg=$(find "$prefix" -name SynackConfig.cmake | head -n 1)
[[ -n $pc && -n $cfg ]] || { echo "FAIL: synack.pc or SynackConfig.cmake not installed"; find "$prefix" | head -50; exit 1; }
[[ -f $prefix/include/synack/synack/synack.h && -f $prefix/include/synack/lib/api/synack.h ]] ||
  { echo "FAIL: headers not installed under include/synack"; exit 1; }
echo "installed: $(find "$prefix" -type f | wc -l) files; $(basename "$(dirname "$pc")")/synack.pc version $(PKG_CONFIG_PATH=$(dirname "$pc") pkg-config --modversion synack)"

# 1. CMake package.
cmake -S "$root/examples/hello" -B "$prefix/hello-cmake" -G Ninja -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$prefix/hello-cmake" >/dev/null
echo "ok: examples/hello built with find_package(Synack)"
# 2. pkg-config.
PKG_CONFIG_PATH=$(dirname "$pc") make -s -C "$root/examples/hello" OUT="$prefix" >/dev/null
echo "ok: examples/hello built with pkg-config"

for bin in "$prefix/hello-cmake/synack-hello" "$prefix/synack-hello"; do
  "$bin" --version | grep -q '^synack-hello [0-9]' || { echo "FAIL: $bin --version"; exit 1; }
done
if [[ $(id -u) -ne 0 ]]; then
  echo "built both; running them needs root (network namespaces): skipped"
  exit 0
fi
for bin in "$prefix/hello-cmake/synack-hello" "$prefix/synack-hello"; do
  echo "== $bin against the Linux kernel =="
  bash "$root/tests/interop/hello.sh" "$bin" | tail -n 2
done
echo PASS
