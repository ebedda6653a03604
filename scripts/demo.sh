#!/usr/bin/env bash
# The main job, in software mode with no set-up: installs and builds what it needs, then runs
# `synack-cps --loopback` — a client engine and a server engine in one process, each on its own lcore,
# joined by a net_ring virtual device pair — opening and closing TCP connections as fast as it can,
# first bare (SYN, SYN-ACK, ACK, FIN, ACK, FIN, ACK) and then with a 64-byte request/response each.
# No NIC, no kernel module, no hugepages, no root needed for the run itself.
# Usage: scripts/demo.sh [seconds per run (default 5)]
#        scripts/demo.sh tap   (Synack on net_tap in a namespace answering the Linux kernel's ARP/ping)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
if [[ ${1:-} == tap ]]; then
  shift
  exec bash "$root/scripts/demo_tap.sh" "$@"
fi
secs=${1:-5}
[[ $secs =~ ^[0-9]+$ && $secs -ge 1 && $secs -le 600 ]] || { echo "demo.sh: seconds must be 1..600, got '$secs'" >&2; exit 2; }
bash "$root/scripts/build.sh" "$root/build" >/dev/null
cps="$root/build/synack-cps"
for args in "--concurrency 16" "--concurrency 16 --request 64"; do
  echo "\$ synack-cps -- --loopback --duration $secs $args"
  # shellcheck disable=SC2086
  timeout -s INT $((secs + 60)) "$cps" -- --loopback --duration "$secs" $args
  echo
done
