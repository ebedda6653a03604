#!/usr/bin/env bash
# The main job, in software mode: brings Synack up on a net_tap virtual device inside a network
# namespace this script creates, and shows it answering ARP and ping from the Linux kernel there.
# Needs root (namespaces, /dev/net/tun); installs and builds what it needs; deletes the namespace after.
# Usage: scripts/demo_tap.sh [ping count (default 20)]   (also: scripts/demo.sh tap)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
count=${1:-20}
[[ $(id -u) -eq 0 ]] || { echo "demo.sh: run as root (it creates a network namespace and a tap device)" >&2; exit 1; }
bash "$root/scripts/build.sh" "$root/build" >/dev/null
source "$root/scripts/netns.sh"

ns_app_setup synack-demo synack0
echo "\$ synack-echo --no-pci --vdev net_tap0,iface=$iface -l 0 -- --ip 198.18.0.2/24   (in namespace $ns)"
ip netns exec "$ns" timeout -s INT 300 "$root/build/synack-echo" --no-pci --vdev "net_tap0,iface=$iface" -l 0 -- \
  --ip 198.18.0.2/24 >"$log" 2>&1 &
pid=$!
ready=0
ns_wait_ready "$log" '^listening on' || ready=$?
cat "$log"
[[ $ready -eq 0 ]] || { echo "demo.sh: synack-echo did not start" >&2; exit 1; }
ns_peer_up "$ns" "$iface" 5 || { echo "demo.sh: no $iface in $ns" >&2; exit 1; }

echo
echo "\$ arping -c 3 -I $iface 198.18.0.2   (Linux kernel, 198.18.0.1)"
ip netns exec "$ns" arping -c 3 -w 5 -I "$iface" 198.18.0.2
echo
echo "\$ ping -c $count -i 0.05 198.18.0.2   (Linux kernel, 198.18.0.1)"
ip netns exec "$ns" ping -c "$count" -i 0.05 -W 2 198.18.0.2
echo
kill -INT "$pid"
wait "$pid" || true
pid=
sed -n '/stopped/,$p' "$log"
