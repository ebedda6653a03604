#!/usr/bin/env bash
# synack.* rte_log types, no root. Usage: log_levels.sh CPS_BIN
#  `--log-level='synack.*:debug'` prints the EAL start-up and ports (synack.dev), listeners (synack.core), the
#  applications (synack.app) and the TCP state transitions (synack.tcp) of a short `--loopback` run;
#  `--log-level=synack.tcp:debug` only the transitions; without the option no synack line at all.
set -euo pipefail
cps=$(readlink -f "$1")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() {
  echo "FAIL: $*"
  if [[ -f ${log:-} ]]; then
    grep -E '^synack\.' "$log" >"$tmp/lines" || true
    sed -n '1,30s/^/  | /p' "$tmp/lines"
  fi
  exit 1
}

# run NAME EAL_OPTIONS...: a one-second loopback run of 5 connections; output in $tmp/NAME.log.
run() {
  local name=$1
  shift
  log=$tmp/$name.log
  echo "--- $name: synack-cps $* -- --loopback --duration 1 --connections 5"
  timeout 30 "$cps" "$@" -- --loopback --duration 1 --connections 5 >"$log" 2>&1 || fail "$name: exit $?"
}

run all "--log-level=synack.*:debug"
grep -Eq '^synack\.tcp: :[0-9]+ > :5001 SYN-SENT -> ESTABLISHED$' "$log" || fail "all: no client transition line"
# The server's side: its SYN-RECEIVED comes before the client can be established (later lines may race
# the end of the run).
grep -Eq '^synack\.tcp: :5001 > :[0-9]+ CLOSED -> SYN-RECEIVED$' "$log" || fail "all: no server transition line"
grep -Eq '^synack\.core: listen on port 5001: ok$' "$log" || fail "all: no listen line"
grep -Eq '^synack\.dev: EAL started: ' "$log" || fail "all: no EAL line"
grep -Eq '^synack\.dev: port [0-9]+ \(' "$log" || fail "all: no port line"
grep -Eq '^synack\.app: loopback (client|server) application: start ok$' "$log" || fail "all: no app line"
echo "ok: $(grep -Ec '^synack\.' "$log") synack lines, $(grep -Ec '^synack\.tcp:' "$log") transitions"

run tcp "--log-level=synack.tcp:debug"
grep -Eq '^synack\.tcp: :[0-9]+ > :5001 SYN-SENT -> ESTABLISHED$' "$log" || fail "tcp: no transition line"
if grep -Eq '^synack\.(core|dev|net|app):' "$log"; then fail "tcp: lines of other types"; fi
echo "ok: only synack.tcp"

run none
if grep -Eq '^synack\.[a-z]+:' "$log"; then fail "none: synack lines without --log-level"; fi
echo "ok: silent by default"
echo "PASS: log_levels"
