#!/usr/bin/env bash
# Bad command lines: a synack-* app ($1) prints one line naming the flag and exits non-zero, without
# starting DPDK.
set -u
bin=$1
name=$(basename "$bin")
fail=0
check() {  # expected-substring args...
  local want=$1; shift
  local out rc
  out=$("$bin" "$@" 2>&1 >/dev/null); rc=$?
  local lines; lines=$(printf '%s\n' "$out" | grep -c .)
  if [[ $rc -eq 0 || $lines -ne 1 || $out != *"$want"* ]]; then
    echo "FAIL: $name $* -> rc=$rc, output: $out (wanted one line containing '$want')"
    fail=1
  else
    echo "ok: $name $* -> $out"
  fi
}
check "--ip is required" --
check "--ip" -- --ip 198.18.0.300/24
check "prefix" -- --ip 198.18.0.2
check "--gateway" -- --ip 198.18.0.2/24 --gateway 198.19.0.1
check "--port" -- --ip 198.18.0.2/24 --port 0
check "--port" -- --ip 198.18.0.2/24 --port
check "--bogus" -- --ip 198.18.0.2/24 --bogus 1
check "unexpected argument" -- --ip 198.18.0.2/24 stray
if [[ $name == synack-httpd ]]; then
  check "--body-size" -- --ip 198.18.0.2/24 --body-size -1
  check "--body-size" -- --ip 198.18.0.2/24 --body-size 67108865
  check "--body-size" -- --ip 198.18.0.2/24 --body-size lots
fi
out=$("$bin" --help) && [[ $out == *"--ip"* ]] || { echo "FAIL: --help"; fail=1; }
exit $fail
