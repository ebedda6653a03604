#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan + UBSan, coverage) into build-fuzz/ and runs each one for a
# while from a scratch copy of its seed corpus (tests/fuzz/corpus/<target>; nothing is written into the
# repository). Exits non-zero if any target crashes, leaks, times out or breaks an invariant, and says
# where the reproducer is and how to keep it as a regression test.
# Usage: scripts/fuzz.sh [seconds-per-target] [target...]   (default: 60 s; fuzz_net_parsers
#        fuzz_tcp_header fuzz_engine). SYNACK_FUZZ_WORK=DIR keeps the run's corpora and artifacts there.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
secs=${1:-60}
shift || true
targets=("$@")
((${#targets[@]})) || targets=(fuzz_net_parsers fuzz_tcp_header fuzz_engine)
build=$root/build-fuzz

bash "$root/scripts/setup.sh"
cmake -S "$root" -B "$build" -G Ninja -DSYNACK_FUZZ=ON -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_C_COMPILER=clang \
  -DSYNACK_BUILD_BENCH=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
build_start=$SECONDS
ninja -C "$build" -j2 "${targets[@]}"
echo "fuzz.sh: build took $((SECONDS - build_start)) s"

work=${SYNACK_FUZZ_WORK:-$(mktemp -d /tmp/synack-fuzz.XXXXXX)}
mkdir -p "$work"
declare -A max_len=([fuzz_net_parsers]=4096 [fuzz_tcp_header]=2048 [fuzz_engine]=8192)
# Engine programs get longer faster than libFuzzer's default length ramp allows (deep states need ops).
declare -A extra=([fuzz_engine]="-len_control=20")
summary=()
failed=0
for t in "${targets[@]}"; do
  corpus=$work/$t/corpus
  artifacts=$work/$t/artifacts
  mkdir -p "$corpus" "$artifacts"
  cp -r "$root/tests/fuzz/corpus/$t/." "$corpus/"
  regressions=$root/tests/fuzz/regressions/$t
  log=$work/$t/log
  echo "== $t: ${secs} s (log: $log) =="
  TIMEFORMAT='%U %S'
  set +e
  { time ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
      "$build/fuzz/$t" -max_total_time="$secs" -rss_limit_mb=2048 -timeout=25 -max_len="${max_len[$t]:-4096}" \
      -print_final_stats=1 -artifact_prefix="$artifacts/" ${extra[$t]:-} "$corpus" "$regressions" >"$log" 2>&1; } \
    2>"$work/$t/cpu"
  rc=$?
  set -e
  read -r user sys <"$work/$t/cpu" || true
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  last=$(grep -E '^#[0-9]+' "$log" | tail -1 || true)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
  cpu=$(awk -v u="${user:-0}" -v s="${sys:-0}" 'BEGIN { printf "%.0f", u + s }')
  status=ok
  if ((rc != 0)); then
    status="FAILED (exit $rc)"
    failed=1
    grep -E 'FUZZ CHECK FAILED|ERROR: (AddressSanitizer|libFuzzer|LeakSanitizer)|runtime error' "$log" | head -5 || true
    for a in "$artifacts"/*; do
      [[ -e $a ]] || continue
      echo "$t: reproducer: $a"
      for r in "$regressions"/*; do
        if [[ -f $r ]] && cmp -s "$a" "$r"; then echo "  (the same input as $r: a known regression still fails)"; fi
      done
      echo "  reproduce:  $build/fuzz/$t $a    (SYNACK_FUZZ_TRACE=1 for fuzz_engine prints every op)"
      echo "  keep it:    cp $a $root/tests/fuzz/regressions/$t/   (replayed by ctest/meson test from then on)"
    done
  fi
  summary+=("$(printf '%-18s %10s execs %6s s CPU  cov %6s  ft %7s  %s' "$t" "${execs:-?}" "$cpu" "${cov:-?}" "${ft:-?}" "$status")")
done
echo "== fuzz summary (${secs} s per target) =="
printf '%s\n' "${summary[@]}"
if ((failed == 0)) && [[ -z ${SYNACK_FUZZ_WORK:-} ]]; then
  rm -rf "$work"
else
  echo "work dir (corpora, logs, artifacts): $work"
fi
exit $failed
