#!/usr/bin/env bash
# Builds the API documentation with Doxygen into build-docs/html (installs doxygen when missing, as root).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
if ! command -v doxygen >/dev/null; then
  [[ $(id -u) -eq 0 ]] || { echo "docs.sh: doxygen is missing; run as root to install it" >&2; exit 1; }
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q && apt-get install -y -q --no-install-recommends doxygen
fi
cd "$root"
doxygen Doxyfile
echo "docs: $root/build-docs/html/index.html"
