#!/usr/bin/env bash
# The README's example server against the Linux kernel: synack-hello on net_tap (two engines) in a
# namespace this script creates; a Python client sends a line and must get the greeting then EOF, 50
# times, and both engines' counters must add up to 50 accepted connections. Exits 77 when not root.
set -euo pipefail
bin=$(readlink -f "$1")
here=$(cd "$(dirname "$0")" && pwd)
[[ $(id -u) -eq 0 ]] || { echo "skipped: needs root for network namespaces"; exit 77; }
source "$here/../../scripts/netns.sh"

ns_app_setup synack-hello-$$ shel$$
ip netns exec "$ns" timeout -s INT 100 "$bin" --no-pci --vdev "net_tap0,iface=$iface" -l 0-1 -- \
  --ip 198.18.0.2/24 --port 8080 >"$log" 2>&1 &
pid=$!
ns_wait_ready "$log" '^listening on 198.18.0.2:8080' || { echo "FAIL: no readiness line"; cat "$log"; exit 1; }
ns_peer_up "$ns" "$iface" 5 || { echo "FAIL: no $iface in $ns"; exit 1; }

ip netns exec "$ns" timeout 60 /usr/bin/python3 "$here/greet.py" 50
kill -INT "$pid"
wait "$pid"
pid=
cat "$log"
grep -Eq 'tcp.accepted 50$' "$log" || { echo "FAIL: expected 50 accepted connections"; exit 1; }
echo PASS
