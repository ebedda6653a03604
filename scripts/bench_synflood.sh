#!/usr/bin/env bash
# Legitimate connection rate under a SYN flood, Synack against the Linux kernel in the same run.
#
#   scripts/bench_synflood.sh            (root for parts 2 and 3; part 1 needs nothing)
#
# Part 1, Synack software mode: synack-cps --loopback (client engine on one lcore, server engine on the
#   other, joined by a net_ring pair) with the flood generated on the client's lcore, spoofed sources
#   198.19.0.0/16, at each flood rate in RATES.
# Parts 2 and 3, the same path for both servers: a network namespace with a veth pair (198.18.9.0/24).
#   The legitimate client is the Linux kernel (bench/linux_cps client, 16 connections in flight, CPU 0)
#   in a client namespace; the flood comes from synack-cps --client --flood-only on net_af_packet bound
#   to the client end of the veth (CPU 0); the server in the server namespace (CPU 1) is
#     part 2: the Linux kernel (bench/linux_cps server, net.ipv4.tcp_syncookies=1), or
#     part 3: Synack (synack-cps --server on net_af_packet bound to the namespace end).
#   Both servers route replies to spoofed sources back to the flooder, which drops them.
#   Caveat: on a veth the kernel's receive processing runs in softirq on the sending CPU, so the Linux
#   server's SYN handling partly runs on CPU 0 next to the client and flooder.
#
# For each rate it prints legitimate connections/s, its share of the unflooded rate, connect latency
# p50/p99, the flood rate actually delivered, and the server's half-open state. Results also go to
# bench/results/synflood-<date>.json. Environment: BUILD (default build), DURATION (seconds per point,
# default 3), RATES (default "0 100000 300000 1000000 max"), SYNFLOOD_LOOPBACK_ONLY=1 (part 1 only).
# The saturation point ("max") also prints where the server's core goes (--profile: share per phase)
# and every Synack row the SYNs shed unparsed (tcp.syn_shed).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$root/build}
dur=${DURATION:-3}
read -r -a rates <<<"${RATES:-0 100000 300000 1000000 max}"
cps=$build/synack-cps
linux_cps=$build/bench/linux_cps
[[ -x $cps ]] || { echo "bench_synflood.sh: $cps not built (run scripts/build.sh)" >&2; exit 2; }
results=$root/bench/results
mkdir -p "$results"
json=$results/synflood-$(date +%F).json
tmp=$(mktemp -d)
rows=()
ns=
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill -INT "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  [[ -n $ns ]] && ip netns del "$ns" 2>/dev/null || true
  [[ -n ${cns:-} ]] && ip netns del "$cns" 2>/dev/null || true
  for p in sfb sff sfs; do rm -rf "/var/run/dpdk/$p$$"; done  # our --file-prefix runtime directories
  rm -rf "$tmp"
}
trap cleanup EXIT

# "38.8 us" / "2.45 ms" / "812 ns" / "1.20 s" -> microseconds
to_us() { awk -v v="$1" -v u="$2" 'BEGIN { m = (u == "ns") ? 0.001 : (u == "us") ? 1 : (u == "ms") ? 1000 : 1000000; printf "%.1f", v * m }'; }

# Parses synack-cps client output in $1: sets rate p50 p99 flood_rate.
parse_synack_client() {
  rate=$(awk '/^cps: /{for (i = 1; i <= NF; i++) if ($i == "conns/s") print $(i - 1)}' "$1")
  local l
  l=$(grep '^connect latency:' "$1" || true)
  if [[ -n $l ]]; then
    # shellcheck disable=SC2086
    set -- $l
    p50=$(to_us "$4" "$5")
    p99=$(to_us "$7" "$8")
  else
    p50=0 p99=0
  fi
  flood_rate=0
}
parse_flood() {  # file -> flood_rate (SYNs/s delivered by the generator)
  flood_rate=$(sed -n 's/^flood: [0-9]* spoofed SYNs sent (\([0-9]*\)\/s).*/\1/p' "$1" | head -1)
  flood_rate=${flood_rate:-0}
}

base=()  # unflooded rate per part
record() {  # part rate_label legit p50 p99 flood_rate half_open extra
  local share="-"
  if [[ $2 == 0 ]]; then base[$1]=$3; fi
  if [[ -n ${base[$1]:-} && ${base[$1]} != 0 ]]; then share=$(awk -v a="$3" -v b="${base[$1]}" 'BEGIN { printf "%.0f%%", 100 * a / b }'); fi
  printf "%-26s %10s %12s %8s %10s %10s %12s %10s  %s\n" "$PART_NAME" "$2" "$3" "$share" "$4" "$5" "$6" "$7" "$8"
  rows+=("{\"server\": \"$PART_NAME\", \"flood\": \"$2\", \"flood_delivered_per_s\": $6, \"legit_conns_per_s\": $3, \"share_of_unflooded\": \"$share\", \"p50_us\": $4, \"p99_us\": $5, \"half_open\": \"$7\", \"server_state\": \"$8\"}")
}
header() {
  printf "%-26s %10s %12s %8s %10s %10s %12s %10s  %s\n" server flood legit/s share p50_us p99_us flood_sent/s half-open "server state"
}

echo "== bench_synflood: $(nproc) CPUs, $dur s per point, flood rates: ${rates[*]}"
header

# ---------------------------------------------------------------------------------------------------
# Part 1: Synack loopback.
PART_NAME="synack loopback"
for r in "${rates[@]}"; do
  f=$tmp/lo-$r.log
  args=(--loopback --duration "$dur" --concurrency 16)
  [[ $r != 0 ]] && args+=(--flood "$r")
  [[ $r == max ]] && args+=(--profile)  # the saturation point: where the server's core goes
  "$cps" --file-prefix "sfb$$" -- "${args[@]}" >"$f" 2>&1 || { echo "synack-cps failed:"; tail -20 "$f"; exit 1; }
  parse_synack_client "$f"
  parse_flood "$f"
  shed=$(awk '/^server counters:/ { s = 1 } s && $1 == "tcp.syn_shed" { print $2 }' "$f")
  state="$(sed -n 's/^cps server state: //p' "$f"), SYNs shed unparsed ${shed:-0}"
  ho=$(sed -n 's/^cps server state: peak half-open \([0-9]*\),.*/\1/p' "$f")
  record 1 "$r" "${rate:-0}" "$p50" "$p99" "$flood_rate" "${ho:-0}" "$state"
  if [[ $r == max ]]; then
    phases=$(awk '/^server counters:/ { s = 1 } s && /^    [a-z_]+ +[0-9.]+%/ { printf "%s %s, ", $1, $2 }' "$f")
    echo "  server core at saturation: ${phases%, }"
  fi
done

# ---------------------------------------------------------------------------------------------------
if [[ ${SYNFLOOD_LOOPBACK_ONLY:-0} == 1 ]]; then
  echo "(parts 2 and 3 skipped: SYNFLOOD_LOOPBACK_ONLY=1)"
elif [[ $(id -u) -ne 0 || ! -x $linux_cps ]]; then
  echo "(parts 2 and 3 skipped: they need root and $linux_cps)"
else
  source "$root/scripts/netns.sh"
  # Two namespaces joined by a veth pair: the clients' (legitimate client and flooder) and the server's.
  # The client side reuses TIME-WAIT ports over a second old (timestamps are on) and has the whole port
  # range, so a run of several million connections never runs out of 4-tuples.
  ns=synack-sfb-$$
  cns=synack-sfc-$$
  ns_create "$ns"
  ns_create "$cns"
  ns_veth_pair "$cns" sfbh0 198.18.9.1/24 "$ns" sfbn0  # the server's address depends on the part
  ip netns exec "$cns" sysctl -qw net.ipv4.tcp_tw_reuse=1 net.ipv4.ip_local_port_range="1024 65535"
  ip netns exec "$ns" sysctl -qw net.ipv4.tcp_syncookies=1
  # The kernel leaves TCP checksums to "hardware" on a veth; a DPDK process reading the other end through
  # af_packet would see them unfilled. Have the kernel fill them on both ends, for both servers alike.
  ip netns exec "$cns" ethtool -K sfbh0 tx off >/dev/null
  ip netns exec "$ns" ethtool -K sfbn0 tx off >/dev/null

  # Runs the legitimate Linux client and, unless the rate is 0, the flood; parses both into the globals.
  run_point() {  # rate
    local r=$1 fpid=
    if [[ $r != 0 ]]; then
      ip netns exec "$cns" "$cps" --file-prefix "sff$$" -l 0 --no-pci --vdev net_af_packet0,iface=sfbh0 -- --client --ip 198.18.9.3/24 \
        --connect 198.18.9.2:5001 --flood "$r" --flood-only --duration $((dur + 1)) >"$tmp/flood.log" 2>&1 &
      fpid=$!
      pids+=("$fpid")
      sleep 0.7
    fi
    ip netns exec "$cns" "$linux_cps" client --connect 198.18.9.2:5001 --concurrency 16 --duration "$dur" --cpu 0 >"$tmp/client.log" 2>&1 || true
    half_open=$(ip netns exec "$ns" ss -Htn state syn-recv 2>/dev/null | wc -l)
    [[ -n $fpid ]] && { wait "$fpid" || true; parse_flood "$tmp/flood.log"; } || flood_rate=0
    rate=$(sed -n 's/^linux cps: .*conns_per_s=\([0-9.]*\).*/\1/p' "$tmp/client.log")
    p50=$(sed -n 's/^linux cps: .*p50_us=\([0-9.]*\).*/\1/p' "$tmp/client.log")
    p99=$(sed -n 's/^linux cps: .*p99_us=\([0-9.]*\).*/\1/p' "$tmp/client.log")
    rate=${rate%.*}
  }

  # Part 2: the Linux kernel as server.
  PART_NAME="linux veth (syncookies)"
  ip -n "$ns" addr add 198.18.9.2/24 dev sfbn0
  ip -n "$ns" route add 198.19.0.0/16 via 198.18.9.3
  ip netns exec "$ns" "$linux_cps" server --port 5001 --cpu 1 >"$tmp/lserver.log" 2>&1 &
  pids+=($!)
  ns_wait_ready "$tmp/lserver.log" '^listening' 5 || { cat "$tmp/lserver.log"; exit 1; }
  for r in "${rates[@]}"; do
    run_point "$r"
    slab=$(awk '$1 == "request_sock_TCP" {printf "request_sock_TCP %d x %d B", $2, $4}' /proc/slabinfo 2>/dev/null || true)
    record 2 "$r" "${rate:-0}" "${p50:-0}" "${p99:-0}" "$flood_rate" "$half_open" "${slab:-}"
  done
  kill -INT "${pids[-1]}" 2>/dev/null || true
  wait "${pids[-1]}" 2>/dev/null || true
  ip -n "$ns" route del 198.19.0.0/16 via 198.18.9.3
  ip -n "$ns" addr flush dev sfbn0

  # Part 3: Synack as server, on the namespace end of the same veth.
  PART_NAME="synack veth (af_packet)"
  ip netns exec "$ns" "$cps" --file-prefix "sfs$$" -l 1 --no-pci --vdev net_af_packet0,iface=sfbn0 -- --server \
    --ip 198.18.9.2/24 --gateway 198.18.9.3 --port 5001 >"$tmp/sserver.log" 2>&1 &
  spid=$!
  pids+=("$spid")
  ns_wait_ready "$tmp/sserver.log" '^listening' 10 || { cat "$tmp/sserver.log"; exit 1; }
  for r in "${rates[@]}"; do
    run_point "$r"
    record 3 "$r" "${rate:-0}" "${p50:-0}" "${p99:-0}" "$flood_rate" "-" "see the server summary below"
  done
  kill -INT "$spid"
  wait "$spid" || true
  echo "synack server (all points of part 3):"
  grep -E '^cps server|^  tcp\.(syn_|cookies|half_open|synacks)' "$tmp/sserver.log" | sed 's/^/  /'
fi

{
  echo "{\"date\": \"$(date -Iseconds)\", \"duration_s\": $dur, \"cpus\": $(nproc), \"points\": ["
  for i in "${!rows[@]}"; do
    [[ $i -gt 0 ]] && echo ","
    echo "  ${rows[$i]}"
  done
  echo "]}"
} >"$json"
echo "results: $json"
