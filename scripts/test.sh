#!/usr/bin/env bash
# The whole test suite: installs dependencies, builds (release and ASan/UBSan), and runs every test:
# unit tests on real mbufs, engines over net_ring pairs, and interop with the Linux kernel over net_tap
# in a network namespace (root). Exit status is non-zero if anything fails.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
jobs=$(nproc)

echo "== build (release) =="
bash "$root/scripts/build.sh" "$root/build"
echo "== tests (release) =="
(cd "$root/build" && ctest --output-on-failure -j "$jobs")

echo "== build (AddressSanitizer + UndefinedBehaviorSanitizer) =="
bash "$root/scripts/build.sh" "$root/build-asan" -DSYNACK_SANITIZE=ON -DSYNACK_BUILD_BENCH=OFF -DCMAKE_BUILD_TYPE=Debug
echo "== tests (sanitizers) =="
(cd "$root/build-asan" && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --output-on-failure -j "$jobs" -LE interop)

echo "== all tests passed =="
