# Sourced by the interop scripts. expect_flag_error WANT ARGS...: runs "$bin" ARGS and expects a non-zero
# exit with exactly one line on stderr containing WANT; prints ok/FAIL and sets flag_errors=1 on failure.
flag_errors=0
expect_flag_error() {
  local want=$1 out rc name
  shift
  name=$(basename "$bin")
  out=$("$bin" "$@" 2>&1 >/dev/null) && rc=0 || rc=$?
  if [[ $rc -eq 0 || $(printf '%s\n' "$out" | grep -c .) -ne 1 || $out != *"$want"* ]]; then
    echo "FAIL: $name $* -> rc=$rc, output: $out (wanted one line containing '$want')"
    flag_errors=1
  else
    echo "ok: $name $* -> $out"
  fi
}
