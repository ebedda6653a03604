#!/usr/bin/env bash
# --json and --interval of synack-cps and synack-perf, no root. Usage: json_output.sh CPS_BIN PERF_BIN
#  bad --interval values give one line naming the flag; `--loopback --duration 2 --json` prints exactly one
#  JSON document on stdout (human lines on stderr) with the start parameters, at least one interval, a
#  summary rate > 0 (cps: with connect latency percentiles) that the intervals add up to, and a non-empty
#  counters object per engine; --interval 0.5 gives about twice as many intervals; scripts/bench_report.py
#  and bench_loss_report.py read the documents (and print their usage, not a traceback, on bad arguments).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cps=$(readlink -f "$1")
perf=$(readlink -f "$2")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
source "$here/lib.sh"

for bin in "$cps" "$perf"; do
  expect_flag_error "--interval" -- --loopback --interval 0
  expect_flag_error "--interval" -- --loopback --interval x
  expect_flag_error "--interval" -- --loopback --interval 3601
  expect_flag_error "--interval" -- --loopback --interval=
  expect_flag_error "--json" -- --loopback --json=yes
  [[ $("$bin" --help) == *"--json"* && $("$bin" --help) == *"--interval"* ]] || { echo "FAIL: --help"; flag_errors=1; }
done
bin=$cps
expect_flag_error "--json" -- --loopback --json --pingpong 64
[[ $flag_errors -eq 0 ]] || exit 1

# run NAME BIN ARGS...: the app's stdout in $tmp/NAME.json, stderr in $tmp/NAME.err; exit 0 expected.
run() {
  local name=$1 bin=$2
  shift 2
  echo "--- $(basename "$bin") $*"
  timeout 60 "$bin" "$@" >"$tmp/$name.json" 2>"$tmp/$name.err" || { tail -20 "$tmp/$name.err"; fail "$name exited $?"; }
}

# check NAME RATE_KEY MIN_INTERVALS: the document's shape and figures.
check() {
  /usr/bin/python3 - "$tmp/$1.json" "$2" "$3" <<'PY' || fail "$1: $(head -c 2000 "$tmp/$1.json")"
import json, sys
path, rate_key, min_intervals = sys.argv[1], sys.argv[2], int(sys.argv[3])
text = open(path).read()
d = json.loads(text)  # exactly one document: json.loads refuses anything after it
start, intervals, summary, counters = d["start"], d["intervals"], d["summary"], d["counters"]
assert start["mode"] == "loopback" and start["eal_file_prefix"].startswith("synack-"), start
assert len(intervals) >= min_intervals, f"{len(intervals)} intervals, wanted >= {min_intervals}"
for i in intervals:
    assert i["seconds"] > 0 and i["end_s"] > i["start_s"] and isinstance(i[rate_key], (int, float)), i
assert summary[rate_key] > 0, summary
assert summary["interrupted"] is False, summary
for side in ("client", "server"):
    c = counters[side]
    assert c and all(isinstance(v, int) for v in c.values()), (side, c)
    assert c["tx_frames"] > 0, (side, c)
if rate_key == "conns_per_s":
    lat = summary["connect_latency_ns"]
    assert 0 < lat["p50"] <= lat["p99"] <= lat["p999"] <= lat["max"] and lat["samples"] == summary["ok"], lat
    assert summary["failed"] == 0 and sum(summary["failures"].values()) == 0, summary
    assert counters["client"]["tcp.connected"] >= summary["ok"], counters["client"]
    assert sum(i["ok"] for i in intervals) == summary["ok"], "the intervals do not add up to the summary"
else:
    assert d["server"]["bytes"] == summary["bytes"] and d["server"]["verify_errors"] == 0, d["server"]
    assert sum(i["bytes"] for i in intervals) == summary["bytes"], "the intervals do not add up to the summary"
print(f"ok: {len(intervals)} intervals, {rate_key} {summary[rate_key]:.3g}, "
      f"{len(counters['client'])}+{len(counters['server'])} counters")
PY
  grep -Eq '^(cps|perf): ' "$tmp/$1.err" || fail "$1: the human summary is not on stderr"
}

run cps "$cps" -- --loopback --duration 2 --json
check cps conns_per_s 2
run cps_half "$cps" -- --loopback --duration 2 --interval 0.5 --json --request 64
check cps_half conns_per_s 3
run perf "$perf" -- --loopback --duration 2 --json --verify
check perf gbit_per_s 2
run perf_half "$perf" -- --loopback --duration 2 --streams 2 --interval 0.5 --json
check perf_half gbit_per_s 3

# scripts/bench_report.py reads these documents as scripts/bench.sh names them, and prints its usage (no
# traceback) on bad arguments.
report=$here/../../scripts/bench_report.py
raw=$tmp/raw
mkdir -p "$raw"
cp "$tmp/cps.json" "$raw/cps_synack_k16_r0.json"
cp "$tmp/cps_half.json" "$raw/cps_synack_k16_r64.json"
cp "$tmp/perf.json" "$raw/bulk_synack_s1.json"
/usr/bin/python3 "$report" "$raw" "$tmp/results" jsontest >"$tmp/report.txt" 2>&1 || fail "bench_report.py: $(cat "$tmp/report.txt")"
/usr/bin/python3 - "$tmp/results/jsontest.json" <<'PY' || fail "bench_report.py did not read the documents"
import json, sys
r = json.load(open(sys.argv[1]))
by_req = {c["request_bytes"]: c["synack"] for c in r["cps"] if c["concurrency"] == 16}
for req in (0, 64):
    s = by_req[req]
    assert s["conns_per_s"] > 0 and s["failed"] == 0 and 0 < s["p50_us"] <= s["p99_us"], (req, s)
assert r["bulk"][0]["synack_gbit_s"] > 0, r["bulk"]
print("ok: bench_report.py read cps (0 and 64 B) and bulk from the JSON documents")
PY
# scripts/bench_loss_report.py reads synack-perf's document (summary and counters) likewise.
loss_report=$here/../../scripts/bench_loss_report.py
lraw=$tmp/lraw
mkdir -p "$lraw"
cp "$tmp/perf.json" "$lraw/synack_s1_l0.json"
printf 'load=0.1\nrc=0\n' >"$lraw/synack_s1_l0.txt"
/usr/bin/python3 "$loss_report" "$lraw" "$tmp/results" jsontest >"$tmp/loss_report.txt" 2>&1 ||
  fail "bench_loss_report.py: $(cat "$tmp/loss_report.txt")"
/usr/bin/python3 - "$tmp/results/loss-jsontest.json" "$tmp/perf.json" <<'PY' || fail "bench_loss_report.py did not read the document"
import json, sys
r, perf = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
s = r["points"][0]["synack"]
assert s["bytes"] == perf["summary"]["bytes"] and s["gbit_s"] > 0 and s["interrupted"] is False, s
assert s["segments_out"] == perf["counters"]["client"]["tcp.segments_out"] > 0, s
print("ok: bench_loss_report.py read the perf summary and counters from the JSON document")
PY
for script in "$report" "$loss_report"; do
  for args in "" "$raw" "$raw $tmp/results" "$tmp/nonexistent $tmp/results x" "$raw $tmp/results a/b"; do
    # shellcheck disable=SC2086
    out=$(/usr/bin/python3 "$script" $args 2>&1) && rc=0 || rc=$?
    [[ $rc -eq 2 && $out == *"usage: $(basename "$script")"* && $out != *Traceback* ]] ||
      fail "$(basename "$script") $args: exit $rc, output: $out"
  done
done
echo "ok: bench_report.py and bench_loss_report.py print their usage on bad arguments"
echo PASS
