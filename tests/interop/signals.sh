#!/usr/bin/env bash
# SIGUSR1 and EAL hygiene, no root. Usage: signals.sh CPS_BIN [ECHO_BIN]
#  synack-cps --loopback (Loopback's poll loop, the app's status printer) and, when given, synack-echo on
#  net_null (Stack's poll loop, the default counters): each prints its EAL file prefix at start-up; SIGUSR1
#  prints the status (cps: the summary and both engines' counters, as at exit) and the process keeps
#  running; SIGINT ends it cleanly, and its runtime directory (/var/run/dpdk/<prefix> as root) is gone.
set -euo pipefail
cps=$(readlink -f "$1")
echo_bin=${2:+$(readlink -f "$2")}
fail() { echo "FAIL: $*"; [[ -n ${log:-} && -f $log ]] && sed 's/^/  | /' "$log"; exit 1; }
tmp=$(mktemp -d)
pid=
trap '[[ -n $pid ]] && kill -9 "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT

# DPDK's runtime directory for a file prefix (eal_get_runtime_dir in DPDK 22.11).
runtime_dir() {
  if [[ $(id -u) -eq 0 ]]; then echo "/var/run/dpdk/$1"; else echo "${XDG_RUNTIME_DIR:-/tmp}/dpdk/$1"; fi
}

# wait_for PATTERN SECONDS: until the log has a line matching PATTERN (extended regex).
wait_for() {
  for _ in $(seq $((10 * $2))); do
    grep -Eq "$1" "$log" && return 0
    kill -0 "$pid" 2>/dev/null || fail "$name exited while waiting for /$1/"
    sleep 0.1
  done
  fail "$name: no line matching /$1/ within $2 s"
}

# check NAME STATUS_PATTERN READY_PATTERN COMMAND...: runs COMMAND in the background; once a line matches
# READY_PATTERN, checks the above (STATUS_PATTERN: a line the status prints).
check() {
  name=$1 status_pattern=$2 ready_pattern=$3
  shift 3
  log=$tmp/$name.log
  echo "--- $name: $*"
  "$@" >"$log" 2>&1 &
  pid=$!
  wait_for '^eal: file prefix [^ ]+ \(dpdk-telemetry.py -f ' 20
  local prefix dir
  prefix=$(sed -n 's/^eal: file prefix \([^ ]*\) .*/\1/p' "$log" | head -1)
  dir=$(runtime_dir "$prefix")
  [[ $prefix == synack-$pid ]] || fail "$name: default prefix '$prefix' is not synack-$pid"
  [[ -d $dir ]] || fail "$name: runtime directory $dir does not exist while running"
  wait_for "$ready_pattern" 20
  kill -USR1 "$pid"
  wait_for "$status_pattern" 10
  sleep 0.5
  kill -0 "$pid" 2>/dev/null || fail "$name: died after SIGUSR1"
  # A second SIGUSR1 prints again: the flag is taken once per signal.
  kill -USR1 "$pid"
  for _ in $(seq 50); do [[ $(grep -Ec "$status_pattern" "$log") -ge 2 ]] && break; sleep 0.1; done
  [[ $(grep -Ec "$status_pattern" "$log") -ge 2 ]] || fail "$name: the second SIGUSR1 printed nothing"
  kill -0 "$pid" 2>/dev/null || fail "$name: died after the second SIGUSR1"
  kill -INT "$pid"
  local rc=0
  wait "$pid" || rc=$?
  pid=
  [[ $rc -lt 128 ]] || fail "$name: killed by a signal (exit $rc)"
  [[ ! -e $dir ]] || fail "$name: $dir left behind after a clean exit: $(ls -la "$dir")"
  echo "ok: $name: prefix $prefix, SIGUSR1 printed the status twice and it ran on, SIGINT exit $rc, $dir removed"
}

# cps: the status is the exit summary: the cps: line and both engines' counters.
check cps '^status \(SIGUSR1\):' '^t=1s ' "$cps" -- --loopback --duration 60 --concurrency 4
# The status: the exit summary of a run still going (both roles' lines, both engines' counters).
status=$(sed -n '/^status (SIGUSR1):/,/^t=/p' "$log")
grep -Eq '^cps: [0-9]+ ok, 0 failed .*\[running, [0-9]+ in flight\]' <<<"$status" || fail "cps: no cps: line in the status"
grep -Eq '^connect latency: p50 ' <<<"$status" || fail "cps: no latency line in the status"
grep -Eq '^cps server: accepted [1-9]' <<<"$status" || fail "cps: no server line in the status"
grep -Eq '^client counters:' <<<"$status" && grep -Eq '^server counters:' <<<"$status" ||
  fail "cps: no counters in the status"
grep -Eq '^  tcp\.connected [1-9]' <<<"$status" || fail "cps: no non-zero tcp.connected counter"

if [[ -n $echo_bin ]]; then
  check echo '^counters \(SIGUSR1\):' '^listening' "$echo_bin" --vdev=net_null0 -l 0 --no-pci -- --ip 198.18.0.2/24
  grep -Eq '^  (rx_frames|tx_frames|pool\.frames_in_use) [0-9]' "$log" || fail "echo: no counters in the status"
fi
echo PASS
