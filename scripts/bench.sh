#!/usr/bin/env bash
# Synack against the Linux kernel on this machine, in one run: micro-benchmarks, connection-setup rate,
# bulk throughput, request/response latency, memory per connection, and the virtual device's own
# packet ceiling. Prints a table and writes bench/results/<date>.json, <date>.md and <date>-*.png.
#
#   scripts/bench.sh          (root for the Linux veth runs and hugepages; the rest runs without)
#
# Each end-to-end case runs Synack in software mode (--loopback: client engine on one lcore, server
# engine on the other, joined by a net_ring pair) and Linux with client and server pinned to the same
# two CPUs (CPU 0 client, CPU 1 server): over 127.0.0.1 for connection rate and latency, over a veth
# pair with MTU 1500 between two namespaces for bulk throughput (so both sides use MSS 1460).
# Connection rate is measured as a steady state: each of its 12 cases (connect/close and a 64 B
# request/response, at every CONCURRENCY, Synack and Linux) runs CPS_DURATION seconds (default 30). The
# first 5-11 s of a Synack run use (client port, server port) 4-tuples never used before; from then on
# every connect takes a TIME-WAIT 4-tuple over, and that is the rate that lasts. The report gives each
# run's average over its whole seconds (the figure in the table), its first and last 5 s, last/first and
# Synack/Linux, and plots each second of the runs at 16 in flight (<date>-cps-seconds.png). All 12 cases
# run the full CPS_DURATION rather than only those at 16 in flight, so that no row of the table is a
# honeymoon figure (at 1 in flight Synack needs ~10 s to use the tuple space up): ~6 minutes.
# CPS_DURATION=3 gives the quick, honeymoon-only figures; CONCURRENCY=16 keeps the two cases that the
# plot shows.
# Environment: BUILD (default build/), CPS_DURATION (seconds per connection-rate run, default 30),
# DURATION (seconds per run of every other case, default 3), CONCURRENCY (default "1 16 256"), HOLD
# (connections held for the memory case, default 1000000). Runs take ~9 minutes (6 of them connection
# rate), plus ~2 for the goodput-against-loss step (scripts/bench_loss.sh: loss-<date>.json and
# loss-<date>.png; LOSS_BENCH=0 skips it). Every run is bounded: each tool gets its duration, and
# `timeout` stops a connection-rate run that outlives it by a minute.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$root/build}
dur=${DURATION:-3}
cdur=${CPS_DURATION:-30}
for v in "DURATION=$dur" "CPS_DURATION=$cdur"; do
  [[ ${v#*=} =~ ^[1-9][0-9]{0,4}$ ]] || { echo "bench.sh: $v: give whole seconds, 1-99999" >&2; exit 2; }
done
read -r -a ks <<<"${CONCURRENCY:-1 16 256}"
hold=${HOLD:-1000000}
day=$(date +%F)
results=$root/bench/results
raw=$(mktemp -d)
mkdir -p "$results"

pids=()
namespaces=()
hp_prev=
hp_mounted=
cleanup() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  for p in "${namespaces[@]}"; do ip netns del "$p" 2>/dev/null || true; done
  [[ -n $hp_mounted ]] && umount /dev/hugepages 2>/dev/null || true
  [[ -n $hp_prev ]] && echo "$hp_prev" >/proc/sys/vm/nr_hugepages 2>/dev/null || true
  # The EAL runtime directories of the --file-prefix values chosen below (the tools remove only a
  # default prefix's).
  for p in bdc bcs bpp bpf bho; do rm -rf "/var/run/dpdk/$p$$"; done
  rm -rf "$raw"
}
trap cleanup EXIT
started=$SECONDS
step() { printf '[%4ds] %s\n' $((SECONDS - started)) "$*"; }

step "building (release, with benchmarks)"
bash "$root/scripts/build.sh" "$build" >"$raw/build.log" 2>&1 || { tail -30 "$raw/build.log"; exit 1; }
cps=$build/synack-cps
perf=$build/synack-perf
lcps=$build/bench/linux_cps
for b in "$cps" "$perf" "$lcps" "$build/bench/synack_net_bench" "$build/bench/synack_dev_ceiling"; do
  [[ -x $b ]] || { echo "bench.sh: $b was not built" >&2; exit 2; }
done

# Hugepages when we can have them (root, 2 MiB pages reservable), --no-huge otherwise.
hp=()
memory_mode="--no-huge (not root)"
if [[ $(id -u) -eq 0 ]]; then
  hp_prev=$(cat /proc/sys/vm/nr_hugepages)
  ((hp_prev >= 512)) || echo 512 >/proc/sys/vm/nr_hugepages 2>/dev/null || true
  if ! grep -q ' /dev/hugepages hugetlbfs' /proc/mounts; then
    mkdir -p /dev/hugepages
    mount -t hugetlbfs nodev /dev/hugepages 2>/dev/null && hp_mounted=1 || true
  fi
  free=$(awk '/^HugePages_Free/ {print $2}' /proc/meminfo)
  if ((free >= 256)) && grep -q ' /dev/hugepages hugetlbfs' /proc/mounts; then
    hp=(--hugepages)
    memory_mode="hugepages ($free x 2 MiB free)"
  else
    memory_mode="--no-huge (could not reserve hugepages)"
  fi
fi
step "DPDK memory: $memory_mode"
{
  echo "date=$(date -Iseconds)"
  echo "cpus=$(nproc)"
  echo "cpu_model=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)"
  echo "kernel=$(uname -r)"
  echo "memory_mode=$memory_mode"
  echo "duration_s=$dur"
  echo "cps_duration_s=$cdur"
  echo "hold=$hold"
} >"$raw/meta.txt"

# ---------------------------------------------------------------------------------------------------
step "micro-benchmarks (checksum, headers, connection table and timer wheel at 1M, handshake+teardown)"
for b in net table timer handshake; do
  "$build/bench/synack_${b}_bench" --benchmark_min_time=0.2 --benchmark_format=json \
    --benchmark_out="$raw/micro_$b.json" --benchmark_out_format=json >/dev/null 2>"$raw/micro_$b.err" ||
    { echo "synack_${b}_bench failed:"; tail "$raw/micro_$b.err"; exit 1; }
done

step "device ceiling: net_ring pair, allocate + build 64 B + send + receive + free"
"$build/bench/synack_dev_ceiling" --file-prefix "bdc$$" -l 0-1 -- --device ring --duration 2 >"$raw/dev_ring.txt" 2>&1 ||
  { tail "$raw/dev_ring.txt"; exit 1; }
grep '^dev_ceiling:' "$raw/dev_ring.txt" | sed 's/^/         /'

# ---------------------------------------------------------------------------------------------------
linux_server() {  # mode args... : starts a Linux server on CPU 1 in the background, waits for it
  local log=$raw/lserver.log
  "$lcps" "$@" --cpu 1 --duration $((cdur + dur + 600)) >"$log" 2>&1 &
  pids+=($!)
  for _ in $(seq 50); do grep -q '^listening' "$log" && return 0; sleep 0.1; done
  cat "$log"
  exit 1
}
linux_server_stop() {
  kill -INT "${pids[-1]}" 2>/dev/null || true
  wait "${pids[-1]}" 2>/dev/null || true
  unset 'pids[-1]'
}

# Connection rate, CPS_DURATION seconds per case. The per-second rates are what the report reads:
# "intervals" of synack-cps's JSON, the 't=Ns conns/s=' lines of linux_cps.
for req in 0 64; do
  for k in "${ks[@]}"; do
    step "connection rate, concurrency $k, request $req B, $cdur s: Synack"
    args=(--loopback --duration "$cdur" --concurrency "$k")
    ((req > 0)) && args+=(--request "$req")
    # --json: the document on stdout (read by bench_report.py), the human lines on stderr.
    timeout -s INT -k 10 $((cdur + 60)) "$cps" --file-prefix "bcs$$" -- "${args[@]}" "${hp[@]}" --json \
      >"$raw/cps_synack_k${k}_r$req.json" 2>"$raw/cps_synack_k${k}_r$req.txt" ||
      { tail -20 "$raw/cps_synack_k${k}_r$req.txt"; exit 1; }
    grep '^cps:' "$raw/cps_synack_k${k}_r$req.txt" | sed 's/^/         /'
    step "connection rate, concurrency $k, request $req B, $cdur s: Linux (127.0.0.1)"
    if ((req > 0)); then linux_server server --port 7101 --bind 127.0.0.1 --request; else linux_server server --port 7101 --bind 127.0.0.1; fi
    cargs=(client --connect 127.0.0.1:7101 --concurrency "$k" --duration "$cdur" --cpu 0)
    ((req > 0)) && cargs+=(--request "$req")
    timeout -s INT -k 10 $((cdur + 60)) "$lcps" "${cargs[@]}" >"$raw/cps_linux_k${k}_r$req.txt" 2>&1 || true
    linux_server_stop
    grep '^linux cps:' "$raw/cps_linux_k${k}_r$req.txt" | sed 's/^/         /'
  done
done

# ---------------------------------------------------------------------------------------------------
step "request/response latency, one connection, 64 B: Synack"
"$cps" --file-prefix "bpp$$" -- --loopback --pingpong 64 --duration "$dur" "${hp[@]}" >"$raw/pingpong_synack.txt" 2>&1 ||
  { tail "$raw/pingpong_synack.txt"; exit 1; }
grep '^synack pingpong:' "$raw/pingpong_synack.txt" | sed 's/^/         /'
step "request/response latency, one connection, 64 B: Linux (127.0.0.1)"
linux_server echo --port 7102 --bind 127.0.0.1
"$lcps" pingpong --connect 127.0.0.1:7102 --size 64 --duration "$dur" --cpu 0 >"$raw/pingpong_linux.txt" 2>&1 || true
linux_server_stop
grep '^linux pingpong:' "$raw/pingpong_linux.txt" | sed 's/^/         /'

# ---------------------------------------------------------------------------------------------------
for s in 1 8; do
  step "bulk throughput, $s stream(s): Synack"
  "$perf" --file-prefix "bpf$$" -- --loopback --streams "$s" --duration "$dur" "${hp[@]}" --json \
    >"$raw/bulk_synack_s$s.json" 2>"$raw/bulk_synack_s$s.txt" || { tail "$raw/bulk_synack_s$s.txt"; exit 1; }
  grep -E '^(perf|synack-perf|summary|total)' "$raw/bulk_synack_s$s.txt" | head -3 | sed 's/^/         /' || true
done
if [[ $(id -u) -eq 0 ]]; then
  source "$root/scripts/netns.sh"
  nsc=synack-bc-$$
  nss=synack-bs-$$
  namespaces+=("$nsc" "$nss")
  ns_create "$nsc"
  ns_create "$nss"
  ns_veth_pair "$nsc" sbch0 198.18.10.1/24 "$nss" sbsh0 198.18.10.2/24
  for s in 1 8; do
    step "bulk throughput, $s stream(s): Linux (veth, MTU 1500)"
    ip netns exec "$nss" "$lcps" sink --port 7103 --cpu 1 --duration $((dur + 5)) >"$raw/lsink.log" 2>&1 &
    pids+=($!)
    for _ in $(seq 50); do grep -q '^listening' "$raw/lsink.log" && break; sleep 0.1; done
    ip netns exec "$nsc" "$lcps" bulk --connect 198.18.10.2:7103 --streams "$s" --duration "$dur" --cpu 0 \
      >"$raw/bulk_linux_s$s.txt" 2>&1 || true
    linux_server_stop
    grep '^linux bulk:' "$raw/bulk_linux_s$s.txt" | sed 's/^/         /'
  done
else
  step "bulk throughput over veth skipped (needs root for namespaces)"
fi

# ---------------------------------------------------------------------------------------------------
step "memory: $hold idle connections held (and the connection rate with them open): Synack"
"$cps" --file-prefix "bho$$" -- --loopback --hold "$hold" --duration "$dur" --concurrency 16 "${hp[@]}" --json \
  >"$raw/hold_synack.json" 2>"$raw/hold_synack.txt" || { tail "$raw/hold_synack.txt"; exit 1; }
grep -E '^(holding|memory server|cps:)' "$raw/hold_synack.txt" | sed 's/^/         /'
# Linux: the slab objects one established socket, one TIME-WAIT socket and one half-open request use.
if [[ -r /proc/slabinfo ]]; then
  awk '$1 ~ /^(TCP|tw_sock_TCP|request_sock_TCP|sock_inode_cache|filp|dentry)$/ {print $1, $4}' /proc/slabinfo \
    >"$raw/linux_slab.txt"
fi

# ---------------------------------------------------------------------------------------------------
# Goodput against loss (its own table, loss-<date>.json and loss-<date>.png; ~2 minutes). A failure
# there is reported and the main report still follows.
if [[ ${LOSS_BENCH:-1} != 0 ]]; then
  step "goodput against loss: scripts/bench_loss.sh (Synack loopback --impair vs Linux through a lossy router namespace)"
  BUILD=$build DURATION=$dur RESULTS=$results DAY=$day HUGEPAGES=$((${#hp[@]} > 0)) bash "$root/scripts/bench_loss.sh" 2>&1 |
    sed 's/^/         /' || step "bench_loss.sh failed (see above); going on with the report"
fi

step "report"
/usr/bin/python3 "$root/scripts/bench_report.py" "$raw" "$results" "$day"
step "done"
