#!/usr/bin/env bash
# Builds the API documentation of the installed public headers (the Doxyfile's INPUT) with Doxygen into
# build-docs/html, or OUT_DIR/html. Fails (non-zero) on any Doxygen warning: an undocumented public
# declaration, a wrong @param, a reference that does not resolve (WARN_AS_ERROR = FAIL_ON_WARNINGS).
# Usage: scripts/docs.sh [--no-install] [OUT_DIR]
#   --no-install  fail when doxygen is missing instead of installing it (the api_docs test; setup.sh
#                 installs it)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
install=1
if [[ ${1:-} == --no-install ]]; then
  install=0
  shift
fi
out=${1:-$root/build-docs}
if ! command -v doxygen >/dev/null; then
  if ((!install)); then
    echo "docs.sh: doxygen is missing (scripts/setup.sh installs it)" >&2
    exit 1
  fi
  [[ $(id -u) -eq 0 ]] || { echo "docs.sh: doxygen is missing; run as root to install it" >&2; exit 1; }
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q && apt-get install -y -q --no-install-recommends doxygen
fi
mkdir -p "$out"
out=$(cd "$out" && pwd)
cd "$root"
log="$out/warnings.log"
# The Doxyfile with the output directory overridden (a later assignment wins); warnings on stderr and in
# $log.
if ! { cat Doxyfile; echo "OUTPUT_DIRECTORY = $out"; echo "WARN_LOGFILE = $log"; } | doxygen - >/dev/null; then
  cat "$log" >&2
  echo "docs.sh: $(grep -cE '(warning|error):' "$log" || true) doxygen warning(s); every public declaration needs a doc comment" >&2
  exit 1
fi
if [[ -s $log ]]; then
  # Belt and braces: FAIL_ON_WARNINGS already failed above when anything was logged.
  cat "$log" >&2
  exit 1
fi
echo "docs: $out/html/index.html"
