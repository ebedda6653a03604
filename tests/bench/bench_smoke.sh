#!/usr/bin/env bash
# Smoke test of the benchmark tooling (no root needed): the Linux baseline tool's server/client, echo/
# pingpong and sink/bulk pairs over 127.0.0.1 for a second each, the device-ceiling tool on a net_ring
# pair, the handshake micro-benchmark, and bench_report.py turning those outputs into the JSON, markdown
# and table (the numbers are whatever this machine gives; the checks are that each tool ran and every
# figure was parsed), then tests/bench/steady_state_test.py (the per-second connection rates on captured
# output). Usage: bench_smoke.sh DIR (where linux_cps, synack_dev_ceiling and synack_handshake_bench
# were built)
set -euo pipefail
bin=$(readlink -f "$1")
here=$(cd "$(dirname "$0")" && pwd)
raw=$(mktemp -d)
out=$(mktemp -d)
# The EAL runtime directories of the --file-prefix values used below are ours to remove too.
trap 'rm -rf "$raw" "$out" /var/run/dpdk/smk$$ 2>/dev/null' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
lcps=$bin/linux_cps
# Below the ephemeral range (32768-60999), so no client socket of an earlier run holds it.
port=$((20000 + ($$ % 3000) * 3))

run_pair() {  # server-args -- client-args ; server output to $raw/srv.log, client output on stdout
  local srv=() cli=()
  while [[ $1 != -- ]]; do srv+=("$1"); shift; done
  shift
  cli=("$@")
  "$lcps" "${srv[@]}" --duration 10 >"$raw/srv.log" 2>&1 &
  local spid=$!
  for _ in $(seq 50); do grep -q '^listening' "$raw/srv.log" && break; sleep 0.1; done
  grep -q '^listening' "$raw/srv.log" || fail "linux_cps ${srv[0]} did not start: $(cat "$raw/srv.log")"
  "$lcps" "${cli[@]}" || true
  kill -INT "$spid" 2>/dev/null || true
  wait "$spid" || true
}

# --timeout-ms 5000: under a loaded CI run the kernel's listener sometimes drops a SYN and retries it
# after 1 s (or 3 s); the smoke test checks the tool, so a retried connect must not count as a failure.
run_pair server --port "$port" --bind 127.0.0.1 -- client --connect "127.0.0.1:$port" --concurrency 4 --duration 1 \
  --timeout-ms 5000 >"$raw/cps_linux_k4_r0.txt"
grep -Eq '^linux cps: ok=[1-9][0-9]* failed=0 .*conns_per_s=[1-9]' "$raw/cps_linux_k4_r0.txt" || fail "linux_cps client: $(cat "$raw/cps_linux_k4_r0.txt")"
run_pair echo --port $((port + 1)) --bind 127.0.0.1 -- pingpong --connect "127.0.0.1:$((port + 1))" --size 64 --duration 1 \
  >"$raw/pingpong_linux.txt"
grep -Eq '^linux pingpong: size=64 round_trips=[1-9]' "$raw/pingpong_linux.txt" || fail "linux_cps pingpong"
run_pair sink --port $((port + 2)) --bind 127.0.0.1 -- bulk --connect "127.0.0.1:$((port + 2))" --streams 2 --duration 1 \
  >"$raw/bulk_linux_s1.txt"
grep -Eq '^linux bulk: streams=2 .*gbit_per_s=[0-9.]+' "$raw/bulk_linux_s1.txt" || fail "linux_cps bulk"
"$lcps" client --concurrency 0 --connect 127.0.0.1:1 2>"$raw/err.txt" && fail "bad flag accepted"
grep -q -- '--concurrency' "$raw/err.txt" || fail "bad flag error does not name the flag"

"$bin/synack_dev_ceiling" --file-prefix "smk$$" -l 0 -- --device ring --duration 1 >"$raw/dev_ring.txt" 2>&1 ||
  fail "dev_ceiling: $(tail -3 "$raw/dev_ring.txt")"
grep -Eq '^dev_ceiling: device=ring pps=[1-9]' "$raw/dev_ring.txt" || fail "dev_ceiling: no summary"

"$bin/synack_handshake_bench" --benchmark_min_time=0.05 --benchmark_format=json \
  --benchmark_out="$raw/micro_handshake.json" --benchmark_out_format=json >/dev/null 2>&1 || fail "handshake bench"

cat >"$raw/meta.txt" <<META
date=smoke
cpus=$(nproc)
memory_mode=--no-huge
duration_s=1
META
/usr/bin/python3 "$here/../../scripts/bench_report.py" "$raw" "$out" smoke >"$raw/report.txt" || fail "bench_report.py failed"
cat "$raw/report.txt"
python3 - "$out/smoke.json" <<'PY' || fail "report JSON lacks parsed figures"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["device_ceiling_pps"] > 0, "ceiling"
assert r["cps"][0]["linux"]["conns_per_s"] > 0, "linux cps"
assert len(r["cps"][0]["linux"]["run"]["per_second"]) >= 1, "linux cps: no per-second rate (t=Ns lines)"
assert r["latency"]["linux"]["p50_us"] > 0, "linux latency"
assert r["micro"]["BM_HandshakeAndTeardown/request_bytes:0"]["ns"] > 0, "handshake"
assert r["micro"]["BM_HandshakeAndTeardown/request_bytes:0"]["failures"] == 0, "handshake failures"
PY
[[ -s $out/smoke.md ]] || fail "no markdown written"
# The connection-rate steady state (per-second rates, first/last seconds) on captured tool output.
/usr/bin/python3 "$here/steady_state_test.py" 2>"$raw/steady.txt" || fail "steady_state_test.py: $(cat "$raw/steady.txt")"
echo "PASS"
