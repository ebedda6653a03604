#!/usr/bin/env bash
# SYN flood against synack-httpd over net_tap, with the Linux kernel as both attacker and client: in a
# namespace this script creates, hping3 floods the server's port 80 (bounded count) while curl from the
# same namespace keeps fetching pages — every curl must succeed.
#   run 1: spoofed random sources (hping3 --rand-source) at a server whose SYN queue is tiny: the queue
#          stays bounded, SYN cookies answer the rest, and curl gets in through a cookie.
#   run 2: one source address flooding at a server with --syn-rate-per-source: that source is limited,
#          curl (another address) is not.
# The server's replies to spoofed sources go to its gateway, the kernel side of the tap, which does not
# forward them: nothing leaves the namespace. Exits 77 when not root or without hping3.
set -euo pipefail
bin=$(readlink -f "$1")
here=$(cd "$(dirname "$0")" && pwd)
[[ $(id -u) -eq 0 ]] || { echo "skipped: needs root for network namespaces"; exit 77; }
command -v hping3 >/dev/null || { echo "skipped: hping3 is not installed (scripts/setup.sh installs it)"; exit 77; }
source "$here/../../scripts/netns.sh"

ns_app_setup "synack-flood-$$" "sflood$$"
hping_pid=
trap 'kill "$hping_pid" 2>/dev/null || true; ns_app_teardown' EXIT
fail() { echo "FAIL: $*"; cat "$log"; exit 1; }
in_ns() { ip netns exec "$ns" "$@"; }
counter() { awk -v n="$1" '$1 == n {print $2}' "$log"; }

start_server() {  # extra flags...
  ip netns exec "$ns" timeout -s INT 120 "$bin" --no-pci --vdev "net_tap0,iface=$iface" -l 0 -- --ip 198.18.0.2/24 \
    --gateway 198.18.0.1 --port 80 --body-size 64 "$@" >"$log" 2>&1 &
  pid=$!
  ns_wait_ready "$log" '^listening on 198.18.0.2:80 (http)' || fail "no readiness line"
  if ! ip -n "$ns" link show "$iface" >/dev/null 2>&1 || ! ip -n "$ns" addr show "$iface" | grep -q 198.18.0.1; then
    ns_peer_up "$ns" "$iface" 5 || fail "no $iface in $ns"
  fi
  grep -q '^listeners: ' "$log" || fail "no listeners line"
}

stop_server() {
  local rc=0
  kill -INT "$pid"
  wait "$pid" || rc=$?
  pid=
  cat "$log"
  [[ $rc -eq 0 ]] || fail "synack-httpd exited with $rc after SIGINT"
}

# Fetches a page $1 times during the flood; every fetch must succeed with the 64-byte body.
curls_during_flood() {
  local i ok=0 size
  for ((i = 0; i < $1; i++)); do
    size=$(in_ns curl --noproxy '*' --max-time 5 -sS -o /dev/null -w '%{size_download}' http://198.18.0.2/) ||
      fail "curl $i failed during the flood"
    [[ $size == 64 ]] || fail "curl $i got $size bytes, want 64"
    ok=$((ok + 1))
    sleep 0.05
  done
  echo "ok: $ok curl fetches during the flood"
}

# hping3 floods port 80 with SYNs (its options: $@; at most 30 s) while 20 curls must succeed; then the
# server is stopped and its counters are in $log.
flood_and_fetch() {
  in_ns timeout 30 hping3 -q -S -p 80 "$@" 198.18.0.2 >/dev/null 2>&1 &
  hping_pid=$!
  sleep 0.5
  curls_during_flood 20
  wait "$hping_pid" || true
  hping_pid=
  stop_server
}

# ------------------------------------------------------------------------------------------------
echo "=== run 1: spoofed random sources, --syn-backlog 8"
start_server --syn-backlog 8 --max-half-open 16
in_ns curl --noproxy '*' --max-time 5 -sS -o /dev/null http://198.18.0.2/ || fail "curl before the flood"
# 60000 SYNs, one every 50 us (~20000/s for ~3 s), from random addresses; bounded by count and time.
flood_and_fetch --rand-source -i u50 -c 60000
syn=$(counter tcp.syn_received)
cookies=$(counter tcp.cookies_sent)
validated=$(counter tcp.cookies_validated)
overflow=$(counter tcp.syn_backlog_overflow)
echo "server: syn_received=${syn:-0} syn_backlog_overflow=${overflow:-0} cookies_sent=${cookies:-0} cookies_validated=${validated:-0}"
((${syn:-0} > 20000)) || fail "the server saw only ${syn:-0} SYNs"
((${cookies:-0} > 10000)) || fail "too few cookies sent: ${cookies:-0}"
((${validated:-0} >= 1)) || fail "no curl connection came in through a cookie"
grep -q 'tcp.syn_dropped' "$log" && fail "SYNs were dropped although cookies were on"
echo "ok: queue bounded, cookies answered the flood, curl got in"

# ------------------------------------------------------------------------------------------------
echo "=== run 2: one source address, --syn-rate-per-source 100"
start_server --syn-rate-per-source 100 --syn-burst-per-source 20
flood_and_fetch -a 198.18.0.77 -i u200 -c 10000
limited=$(counter tcp.syn_source_limited)
echo "server: syn_source_limited=${limited:-0}"
((${limited:-0} > 5000)) || fail "the flooding source was limited only ${limited:-0} times"
echo "ok: the flooding address was limited, curl was not"
