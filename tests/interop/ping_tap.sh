#!/usr/bin/env bash
# Interop with the Linux kernel: synack-echo on net_tap inside a namespace this script creates; the
# kernel side of the tap gets 198.18.0.1/24 and must get answers to ping and arping from 198.18.0.2.
# Exits 77 (skipped) when not root. Deletes the namespace on exit.
set -euo pipefail
bin=$(readlink -f "$1")
here=$(cd "$(dirname "$0")" && pwd)
[[ $(id -u) -eq 0 ]] || { echo "skipped: needs root for network namespaces"; exit 77; }
source "$here/../../scripts/netns.sh"

ns_app_setup synack-ping-$$ stap$$
ip netns exec "$ns" timeout -s INT 60 "$bin" --no-pci --vdev "net_tap0,iface=$iface" -l 0 -- --ip 198.18.0.2/24 >"$log" 2>&1 &
pid=$!
ns_wait_ready "$log" '^listening on 198.18.0.2:7' || { echo "FAIL: no readiness line"; cat "$log"; exit 1; }
cat "$log"
ns_peer_up "$ns" "$iface" 5 || { echo "FAIL: no $iface in $ns"; exit 1; }

echo "--- ping from the kernel"
ip netns exec "$ns" ping -c 5 -i 0.2 -W 2 198.18.0.2
echo "--- ping with a large payload"
ip netns exec "$ns" ping -c 2 -s 1400 -W 2 198.18.0.2
echo "--- arping from the kernel"
ip netns exec "$ns" arping -c 3 -w 5 -I "$iface" 198.18.0.2 | tee /dev/stderr | grep -q 'Received [1-9]'
echo "--- kernel neighbour entry"
ip -n "$ns" neigh show 198.18.0.2 | tee /dev/stderr | grep -Eq 'lladdr ..:..:..:..:..:..'

kill -INT "$pid"
wait "$pid"
pid=
cat "$log"
grep -Eq 'icmp_echo_replies_tx [1-9]' "$log" || { echo "FAIL: no echo replies counted"; exit 1; }
grep -Eq 'arp_replies_tx [1-9]' "$log" || { echo "FAIL: no ARP replies counted"; exit 1; }
echo "PASS"
