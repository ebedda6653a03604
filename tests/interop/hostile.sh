#!/usr/bin/env bash
# Hostile peers against Synack over net_tap, in a namespace this script creates (Synack 198.18.0.2,
# the kernel side 198.18.0.1 plus a few more kernel addresses for the HTTP cases). The attacks are
# crafted by tests/interop/hostile.py (Debian's /usr/bin/python3 with scapy) from spoofed addresses
# (198.18.0.50+) on the kernel side of the tap; legitimate clients are the kernel's own TCP.
#   synack-echo:  1 tiny MSS (0, 12 with timestamps, 1)
#                 2 zero-window trickle (20,000 one-byte segments in order; then 3,000 after a hole)
#                 5 RST and ACK storms on a live 4-tuple   6 challenge-ACK side channel (CVE-2016-5696)
#   synack-httpd: 3 slowloris (--max-connections 64 --header-timeout 3 --idle-timeout 5)
#                 4 full table (--max-connections 64 --syn-cookies always)
# Every case prints PASS/FAIL; each checks that fresh legitimate clients are served during and after the
# attack and that the app's pool.frames_in_use (SIGUSR1) returns to its value from before the attack.
# Checks failing on a known, reported stack bug print KNOWN-FAIL (see KNOWN_FAILURES in hostile.py).
# Exits 77 when not root or without scapy. HOSTILE_PCAP=DIR keeps a tcpdump and the log of each app run
# in DIR (for bug reports).
# Usage: hostile.sh ECHO_BIN HTTPD_BIN
set -euo pipefail
echo_bin=$(readlink -f "$1")
httpd_bin=$(readlink -f "$2")
here=$(cd "$(dirname "$0")" && pwd)
py=/usr/bin/python3
[[ $(id -u) -eq 0 ]] || { echo "skipped: needs root for network namespaces"; exit 77; }
timeout 30 "$py" -c 'import scapy.layers.inet' 2>/dev/null ||
  { echo "skipped: $py has no scapy (scripts/setup.sh installs python3-scapy)"; exit 77; }
for tool in curl ping pgrep tcpdump; do
  command -v "$tool" >/dev/null || { echo "skipped: $tool is not installed (scripts/setup.sh installs it)"; exit 77; }
done
source "$here/../../scripts/netns.sh"

t_start=$SECONDS
ns_app_setup "synack-hostile-$$" "hst$$"
base_iface=${iface:0:13}
tmp=$(mktemp -d)
pcap_pid=
app_pid=
results=$tmp/results
: >"$results"
cleanup() {
  local i
  [[ -n $pcap_pid ]] && kill "$pcap_pid" 2>/dev/null && wait "$pcap_pid" 2>/dev/null
  if [[ -n $pid && -n $app_pid ]]; then  # stopped early: SIGINT, then SIGKILL if the engine is wedged
    kill -INT "$app_pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do kill -0 "$app_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$app_pid" 2>/dev/null || true
  fi
  ns_app_teardown
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; [[ -f $log ]] && tail -n 80 "$log"; exit 1; }

# Kernel addresses besides 198.18.0.1 (hostile.py: SLOW_SOURCES, IDLE_SOURCES, EXTRA_SOURCE).
extra_addrs=(10 11 12 20 21 22 23 24)

# start_app NAME BIN TAP_SUFFIX APP_ARGS...: runs the app on a fresh tap, brings the kernel side up with
# its addresses, waits until ping answers; sets pid (the `timeout` wrapper), app_pid (the app) and tap.
start_app() {
  local name=$1 bin=$2 i
  tap=$base_iface$3
  shift 3
  : >"$log"
  ip netns exec "$ns" timeout -s INT -k 10 240 "$bin" --no-pci --vdev "net_tap0,iface=$tap" -l 0 -- --ip 198.18.0.2/24 \
    "$@" >"$log" 2>&1 &
  pid=$!
  ns_wait_ready "$log" '^listening on 198.18.0.2:' 30 || fail "$name: no readiness line"
  ns_peer_up "$ns" "$tap" 10 || fail "$name: no $tap in $ns"
  for a in "${extra_addrs[@]}"; do ip -n "$ns" addr add "198.18.0.$a/24" dev "$tap"; done
  app_pid=
  for ((i = 0; i < 50; i++)); do
    app_pid=$(pgrep -P "$pid" | head -n 1) && [[ -n $app_pid ]] && break
    sleep 0.1
  done
  [[ -n $app_pid ]] || fail "$name: cannot find the app's pid under $pid"
  for ((i = 0; i < 10; i++)); do
    ip netns exec "$ns" timeout 5 ping -n -q -c 1 -W 1 198.18.0.2 >/dev/null && break
    ((i < 9)) || fail "$name: no ping reply from synack"
  done
  if [[ -n ${HOSTILE_PCAP:-} ]]; then
    mkdir -p "$HOSTILE_PCAP"
    ip netns exec "$ns" timeout 240 tcpdump -i "$tap" -n -s 128 -w "$HOSTILE_PCAP/$name.pcap" 2>/dev/null &
    pcap_pid=$!
  fi
  echo "=== $name: $(grep -m1 '^listeners:' "$log" || true); $(grep -m1 '^http limits:' "$log" || true)"
}

# stop_app NAME: SIGINT; the app must exit 0 and print its counters; keeps the log as $tmp/NAME.log.
stop_app() {
  local rc=0 i
  [[ -n $pcap_pid ]] && { kill "$pcap_pid" 2>/dev/null || true; wait "$pcap_pid" 2>/dev/null || true; pcap_pid=; }
  kill -INT "$pid"
  # A wedged engine never sees SIGINT: give it 10 s, then kill it (and fail).
  for ((i = 0; i < 100; i++)); do
    kill -0 "$app_pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$app_pid" 2>/dev/null; then
    kill -KILL "$app_pid" 2>/dev/null || true
    wait "$pid" || true
    pid=
    fail "$1 did not stop within 10 s of SIGINT (wedged?)"
  fi
  wait "$pid" || rc=$?
  pid=
  [[ -n ${HOSTILE_PCAP:-} ]] && cp "$log" "$HOSTILE_PCAP/$1.log"
  [[ $rc -ne 137 ]] || fail "$1 did not stop after SIGINT and was killed 10 s later (wedged?)"
  [[ $rc -eq 0 ]] || fail "$1 exited with $rc after SIGINT"
  grep -q 'stopped; counters:' "$log" || fail "$1 printed no counters at exit"
  echo "--- $1 counters at exit (selected):"
  local tcp='challenge_acks|unacceptable|resets_in|syn_table_full|cookie|rx_coalesced|tx_coalesced|pressure'
  tcp+='|app_timeouts|rcv_mem|snd_mem|out_of_order'
  sed -n '/stopped; counters:/,$p' "$log" |
    grep -E "^  (pool\.|tcp\.($tcp)|http\.(connections|requests|responses|source_limited)|drop\.)" || true
}

# run_cases KIND SECONDS CASE...: hostile.py against the running app, killed after SECONDS; its output
# goes to the results too. (The limits add up to well under the ctest TIMEOUT of 300 s.)
run_cases() {
  local kind=$1 limit=$2 rc=0
  shift 2
  ip netns exec "$ns" timeout "$limit" "$py" "$here/hostile.py" --iface "$tap" --app-pid "$app_pid" --log "$log" \
    --kind "$kind" "$@" 2>&1 | tee -a "$results" || rc=$?
  [[ $rc -eq 0 || $rc -eq 1 ]] || echo "FAIL: hostile.py $* exited with $rc (crash or timeout)" | tee -a "$results"
}

start_app echo "$echo_bin" e --port 7
run_cases echo 120 tiny_mss zero_window rst_ack_storm side_channel
stop_app echo

start_app httpd-slowloris "$httpd_bin" s --port 80 --max-connections 64 --header-timeout 3 --idle-timeout 5
run_cases http 60 slowloris
stop_app httpd-slowloris

# The idle connections must outlive the test: a header timeout longer than the case (default 10 s).
start_app httpd-full-table "$httpd_bin" f --port 80 --max-connections 64 --syn-cookies always --header-timeout 30
run_cases http 60 full_table
stop_app httpd-full-table

passed=$(grep -c '^PASS: ' "$results" || true)
failed=$(grep -c '^FAIL: ' "$results" || true)
known=$(grep -c '^KNOWN-FAIL: ' "$results" || true)
echo "=== summary ($((SECONDS - t_start)) s)"
grep -E '^(PASS|FAIL|KNOWN-FAIL): ' "$results"
echo "hostile: $passed passed, $failed failed, $known known failures"
[[ $failed -eq 0 && $passed -eq 6 ]] || { echo "FAIL"; exit 1; }
echo PASS
