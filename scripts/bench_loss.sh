#!/usr/bin/env bash
# Goodput against packet loss (and against a 10 ms round trip), Synack against the Linux kernel in the
# same run. Prints a table and writes bench/results/loss-<date>.json and loss-<date>.png.
#
#   scripts/bench_loss.sh          (root for the Linux half; without root only Synack runs)
#
# Synack: synack-perf --loopback (client engine on CPU 0, server engine on CPU 1, joined by a net_ring
#   pair) with --impair loss=X,seed=S, which drops X of the frames each engine sends: data one way, ACKs
#   the other. The long-RTT row uses --impair delay=D (one way, per direction: RTT 2·D) and 4 MiB buffers.
# Linux: bench/linux_cps bulk (CPU 0, --congestion cubic like Synack's default, --drain so that the rate
#   counts until the sink has read everything, as synack-perf's does) to linux_cps sink (CPU 1), through
#   a forwarding namespace: client ns — veth — router ns — veth — server ns, MTU 1500. This kernel may
#   have no netem, so the loss is a tc clsact + BPF program (bench/tc_impair.bpf.c: bpf_get_prandom_u32,
#   TC_ACT_SHOT) on the ingress of both router interfaces — the same X of the data and of the ACKs
#   (a drop on a sender's own egress would be retried locally, not lost). TSO/GSO/GRO are off on every
#   veth so that a drop is one wire-sized packet, as in Synack's case (one dropped 64 KiB GSO packet
#   would be a burst of 44 losses); RPS on the router keeps each direction on one CPU (no reordering,
#   see below). The long-RTT row uses an EDT program (skb->tstamp = now + D) on the
#   router's egress under an fq root qdisc, checked with ping; a kernel without sch_fq (and netem, etf)
#   cannot delay at all, and that row is left empty with the reason.
# Each point runs Synack, then Linux, back to back (a shared machine's load changes by the minute). It
# also records the loss actually applied (Synack's impairment counters; the clsact qdisc's
# drop counts) and the retransmission counters that explain the rates (Synack: retransmits, fast
# recoveries, RTO recoveries from synack-perf's counters; Linux: nstat in the client namespace).
#
# Environment: BUILD (default build/; built with scripts/build.sh when a binary is missing), DURATION
# (seconds per point, default 3), STREAMS (default "1 8"), LOSSES (percent, default "0 0.1 1 5"),
# DELAY_MS (one-way delay of the long-RTT row, default 5; 0 skips it), SEED (default 7), LINUX_CC
# (default cubic), HUGEPAGES=1 (synack-perf --hugepages; scripts/bench.sh sets it when it reserved
# them), RESULTS (default bench/results), DAY (default today). About 2 minutes with the defaults.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$root/build}
dur=${DURATION:-3}
read -r -a streams <<<"${STREAMS:-1 8}"
read -r -a losses <<<"${LOSSES:-0 0.1 1 5}"
delay_ms=${DELAY_MS:-5}
seed=${SEED:-7}
linux_cc=${LINUX_CC:-cubic}
results=${RESULTS:-$root/bench/results}
day=${DAY:-$(date +%F)}
hp=()
[[ ${HUGEPAGES:-0} == 1 ]] && hp=(--hugepages)
perf=$build/synack-perf
lcps=$build/bench/linux_cps

raw=$(mktemp -d)
pids=()
namespaces=()
cleanup() {
  local p
  set +e
  for p in "${pids[@]}"; do kill -INT "$p" 2>/dev/null; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
  for p in "${namespaces[@]}"; do ip netns del "$p" 2>/dev/null; done
  rm -rf "/var/run/dpdk/bls$$" "$raw"  # the EAL runtime directory of our --file-prefix
}
trap cleanup EXIT
started=$SECONDS
step() { printf '[%4ds] %s\n' $((SECONDS - started)) "$*"; }

if [[ ! -x $perf || ! -x $lcps ]]; then
  step "building (release, with benchmarks)"
  bash "$root/scripts/build.sh" "$build" >"$raw/build.log" 2>&1 || { tail -30 "$raw/build.log"; exit 1; }
fi
for b in "$perf" "$lcps"; do
  [[ -x $b ]] || { echo "bench_loss.sh: $b was not built" >&2; exit 2; }
done
mkdir -p "$results"
{
  echo "date=$(date -Iseconds)"
  echo "cpus=$(nproc)"
  echo "cpu_model=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)"
  echo "kernel=$(uname -r)"
  echo "duration_s=$dur"
  echo "seed=$seed"
  echo "delay_ms=$delay_ms"
  echo "linux_cc=$linux_cc"
  echo "synack_memory=${hp[*]:---no-huge}"
  echo "load_before=$(cut -d' ' -f1-3 /proc/loadavg)"
} >"$raw/meta.txt"

# Per thread of process $1: name, nanoseconds on a CPU, nanoseconds runnable but waiting, and the time.
sched_snapshot() {
  local t now
  now=$(date +%s%N)
  for t in /proc/"$1"/task/*; do
    echo "$(cat "$t/comm" 2>/dev/null) $(cut -d' ' -f1-2 "$t/schedstat" 2>/dev/null) $now"
  done
}

# ---------------------------------------------------------------------------------------------------
# Synack: one synack-perf --loopback per point. $1 streams, $2 file tag, $3 --impair spec (may be empty),
# then any further synack-perf options.
synack_point() {
  local args=(--loopback --streams "$1" --duration "$dur")
  [[ -n $3 ]] && args+=(--impair "$3")
  args+=("${@:4}")
  local out=$raw/synack_$2.txt p rc=0 app=
  echo "load=$(cut -d' ' -f1 /proc/loadavg)" >"$out"
  # --json: the document (summary, counters) for bench_loss_report.py, the human lines into the .txt.
  timeout $((dur + 60)) "$perf" --file-prefix "bls$$" -- "${args[@]}" "${hp[@]}" --json >"$raw/synack_$2.json" 2>"$out.run" &
  p=$!
  # How much of the run each engine's thread spent on a CPU and runnable but waiting for one (schedstat):
  # the engines busy-poll, so on a shared machine this says how much of the figure is the scheduler's.
  # (From 1 s in, when both engines are polling, to 0.2 s before the sending stops.)
  if ((dur >= 2)); then
    sleep 1
    app=$(pgrep -P "$p" -x synack-perf | head -n 1 || true)
    [[ -n $app ]] && sched_snapshot "$app" >"$out.s1"
    sleep "$(awk -v d="$dur" 'BEGIN { print d - 1.2 }')"
    [[ -n $app ]] && sched_snapshot "$app" >"$out.s2"
  fi
  wait "$p" || rc=$?
  cat "$out.run" >>"$out"
  echo "rc=$rc" >>"$out"
  if [[ -f $out.s1 && -f $out.s2 ]]; then
    paste "$out.s1" "$out.s2" | awk '$1 == $5 && ($1 == "synack-perf" || $1 ~ /^rte-worker/) {
      printf "sched: thread=%s wall_ms=%.0f oncpu_ms=%.0f wait_ms=%.0f\n", $1, ($8 - $4) / 1e6, ($6 - $2) / 1e6, ($7 - $3) / 1e6 }' >>"$out"
  fi
  rm -f "$out.run" "$out.s1" "$out.s2"
  printf '         Synack: %s\n' "$(grep -m1 '^perf: sent' "$raw/synack_$2.txt" || echo "no summary line: $(tail -n 3 "$raw/synack_$2.txt")")"
}

# ---------------------------------------------------------------------------------------------------
# Linux: the forwarding path (root only).
linux=
if [[ $(id -u) -ne 0 ]]; then
  echo "linux_skipped=needs root for namespaces and tc" >>"$raw/meta.txt"
  step "Linux: skipped (needs root for namespaces and tc); Synack only"
else
  for tool in clang tc ethtool nstat ping; do
    command -v "$tool" >/dev/null || { echo "bench_loss.sh: $tool is missing (scripts/setup.sh installs it)" >&2; exit 2; }
  done
  linux=1
  source "$root/scripts/netns.sh"
  nsc=synack-lc-$$
  nsr=synack-lr-$$
  nss=synack-ls-$$
  namespaces+=("$nsc" "$nsr" "$nss")
  ns_create "$nsc"
  ns_create "$nsr"
  ns_create "$nss"
  # client 198.18.40.1 — (rc0) router (rs0) — 198.18.41.1 server
  ns_veth_pair "$nsc" lc0 198.18.40.1/24 "$nsr" rc0 198.18.40.2/24
  ns_veth_pair "$nss" ls0 198.18.41.1/24 "$nsr" rs0 198.18.41.2/24
  ip -n "$nsc" route add default via 198.18.40.2
  ip -n "$nss" route add default via 198.18.41.2
  ip netns exec "$nsr" sysctl -qw net.ipv4.ip_forward=1
  for pair in "$nsc lc0" "$nsr rc0" "$nsr rs0" "$nss ls0"; do
    read -r n d <<<"$pair"
    ip netns exec "$n" ethtool -K "$d" tso off gso off gro off >/dev/null 2>&1 || true
  done
  # A veth delivers into the backlog of the CPU that transmits. The client sends data both from its
  # process (CPU 0) and from the softirq that handles ACKs (wherever they arrive), so two CPUs' backlogs
  # would forward one flow and reorder it (hundreds of spurious retransmissions and D-SACKs per second at
  # 0% loss). RPS on the router's interfaces keeps each direction on one CPU, as Synack's engines do:
  # data forwarded on CPU 1 (the sink's), ACKs on CPU 0 (the sender's, so its data leaves from CPU 0 only).
  if (($(nproc) >= 2)); then
    ip netns exec "$nsr" sh -c 'echo 2 >/sys/class/net/rc0/queues/rx-0/rps_cpus && echo 1 >/sys/class/net/rs0/queues/rx-0/rps_cpus' ||
      echo "         (could not set RPS on the router: the Linux path may reorder)"
  fi
  ip netns exec "$nsc" ping -c 1 -W 2 198.18.41.1 >/dev/null || { echo "bench_loss.sh: no route through the router namespace" >&2; exit 1; }
  echo "linux_path=client ns -> router ns (ip_forward; RPS: data on CPU 1, ACKs on CPU 0) -> server ns over veth, MTU 1500, TSO/GSO/GRO off" >>"$raw/meta.txt"

  bpf_obj() {  # name defines... : compiles bench/tc_impair.bpf.c into $raw/name.o
    local name=$1
    shift
    clang -O2 -g -target bpf -I"/usr/include/$(uname -m)-linux-gnu" "$@" -c "$root/bench/tc_impair.bpf.c" \
      -o "$raw/$name.o" 2>"$raw/$name.clang.log" || { cat "$raw/$name.clang.log"; exit 1; }
  }
  # The loss program on the ingress of both router interfaces.
  set_loss() {
    local x=$1 ppm d
    ppm=$(awk -v x="$x" 'BEGIN { printf "%d", x * 10000 + 0.5 }')
    for d in rc0 rs0; do
      tc -n "$nsr" qdisc del dev "$d" clsact 2>/dev/null || true
      tc -n "$nsr" qdisc add dev "$d" clsact
      # Also at 0%: the same path (and the qdisc's counts of what arrived) for every point.
      [[ -f $raw/loss$ppm.o ]] || bpf_obj "loss$ppm" -DLOSS_PPM="$ppm"
      tc -n "$nsr" filter add dev "$d" ingress bpf direct-action obj "$raw/loss$ppm.o" sec loss
    done
  }
  # "packets dropped" seen by the clsact qdisc of router interface $1 (its ingress: what arrived).
  clsact_stats() {
    tc -n "$nsr" -s qdisc show dev "$1" | awk '/^qdisc clsact/ {c = 1} c && /Sent/ {
      for (i = 1; i <= NF; i++) { if ($i == "pkt") p = $(i - 1); if ($i == "(dropped") d = $(i + 1) }
      sub(/,/, "", d); print p + 0, d + 0; exit }'
  }
  # Frames the kernel dropped because a CPU's backlog queue was full (netdev_max_backlog): on veth every
  # frame goes through one, so an overfull path loses frames there besides the ones the program drops.
  softnet_drops() {
    local total=0 _ dropped _rest
    while read -r _ dropped _rest; do total=$((total + 16#$dropped)); done </proc/net/softnet_stat
    echo "$total"
  }
  nstat_keys='TcpRetransSegs|TcpExtTCPSackRecovery|TcpExtTCPTimeouts|TcpExtTCPLossProbes|TcpExtTCPLostRetransmit|TcpExtTCPFastRetrans|TcpExtTCPSlowStartRetrans|TcpExtTCPSpuriousRTOs'
fi

# One Linux point: $1 streams, $2 file tag.
linux_point() {
  local s=$1 tag=$2 out=$raw/linux_$2.txt sink=$raw/lsink_$2.log backlog dp dd ap ad dp2 dd2 ap2 ad2
  read -r dp dd <<<"$(clsact_stats rc0)"
  read -r ap ad <<<"$(clsact_stats rs0)"
  ip netns exec "$nsc" nstat -asz | grep -E "^($nstat_keys) " >"$raw/nstat_$tag.before" || true
  backlog=$(softnet_drops)
  ip netns exec "$nss" timeout $((dur + 40)) "$lcps" sink --port 7104 --cpu 1 --duration $((dur + 30)) >"$sink" 2>&1 &
  pids+=($!)
  for _ in $(seq 50); do grep -q '^listening' "$sink" && break; sleep 0.1; done
  echo "load=$(cut -d' ' -f1 /proc/loadavg)" >"$out"
  ip netns exec "$nsc" timeout $((dur + 30)) "$lcps" bulk --connect 198.18.41.1:7104 --streams "$s" --duration "$dur" \
    --cpu 0 --congestion "$linux_cc" --drain >>"$out" 2>&1 || echo "rc=$?" >>"$out"
  kill -INT "${pids[-1]}" 2>/dev/null || true
  wait "${pids[-1]}" 2>/dev/null || true
  unset 'pids[-1]'
  cat "$sink" >>"$out"
  ip netns exec "$nsc" nstat -asz | grep -E "^($nstat_keys) " >"$raw/nstat_$tag.after" || true
  read -r dp2 dd2 <<<"$(clsact_stats rc0)"
  read -r ap2 ad2 <<<"$(clsact_stats rs0)"
  echo "tc: data_in=$((dp2 - dp)) data_dropped=$((dd2 - dd)) ack_in=$((ap2 - ap)) ack_dropped=$((ad2 - ad))" \
    "backlog_dropped=$(($(softnet_drops) - backlog))" >>"$out"
  awk 'FNR == NR {b[$1] = $2; next} {printf "nstat: %s=%d\n", $1, $2 - b[$1]}' \
    "$raw/nstat_$tag.before" "$raw/nstat_$tag.after" >>"$out"
  printf '         Linux:  %s  (%s)\n' "$(grep -m1 '^linux bulk:' "$out" || echo "no summary line: $(tail -n 3 "$out")")" \
    "$(grep -m1 '^tc:' "$out")"
}

# Each point runs Synack and then Linux back to back, so that both see the same load on a shared machine.
for s in "${streams[@]}"; do
  for x in "${losses[@]}"; do
    step "loss $x%, $s stream(s)"
    spec=
    awk -v x="$x" 'BEGIN { exit !(x > 0) }' && spec="loss=$x%,seed=$seed"
    synack_point "$s" "s${s}_l$x" "$spec"
    if [[ -n $linux ]]; then
      set_loss "$x"
      linux_point "$s" "s${s}_l$x"
    fi
  done
done

# The long-RTT row: Synack's impaired link delays each frame; Linux needs EDT timestamps on the router's
# egress honoured by an fq qdisc (if this kernel has it).
if ((delay_ms > 0)); then
  delay_ok=
  if [[ -n $linux ]]; then
    step "Linux, delay ${delay_ms} ms each way: EDT (BPF skb->tstamp) on the router's egress under an fq root qdisc"
    set_loss 0
    why=
    for d in rc0 rs0; do
      if ! err=$(tc -n "$nsr" qdisc add dev "$d" root fq limit 100000 flow_limit 100000 horizon 10s 2>&1); then
        why="tc qdisc add ... fq: ${err//$'\n'/ }"
        break
      fi
    done
    if [[ -z $why ]]; then
      bpf_obj delay -DDELAY_NS=$((delay_ms * 1000000))
      for d in rc0 rs0; do tc -n "$nsr" filter add dev "$d" egress bpf direct-action obj "$raw/delay.o" sec delay; done
      rtt=$(ip netns exec "$nsc" ping -c 5 -i 0.2 -q 198.18.41.1 | awk -F/ '/^rtt/ {print $5}')
      echo "ping_rtt_ms=$rtt" >>"$raw/meta.txt"
      if awk -v r="${rtt:-0}" -v d="$delay_ms" 'BEGIN { exit !(r >= 2 * d * 0.9) }'; then
        delay_ok=1
        echo "         ping RTT through the router: $rtt ms"
      else
        why="the EDT program and fq are in place but ping shows an RTT of ${rtt:-?} ms, not ~$((2 * delay_ms)) ms"
      fi
    fi
    if [[ -z $delay_ok ]]; then
      # Name the kernel options that are missing, when the kernel says.
      missing=$( (zcat /proc/config.gz 2>/dev/null || cat "/boot/config-$(uname -r)" 2>/dev/null || true) |
        grep -E '^# CONFIG_NET_SCH_(FQ|ETF|NETEM) is not set' | awk '{print $2}' | paste -sd, - || true)
      [[ -n $missing ]] && why+=" (this kernel: ${missing} not set$(zcat /proc/config.gz 2>/dev/null | grep -q '^CONFIG_MODULES=y' || echo ', no module support'))"
      why+="; nothing here honours skb->tstamp and there is no netem, so the kernel path cannot be delayed"
      echo "linux_delay_skipped=$why" >>"$raw/meta.txt"
      echo "         Linux delay row left empty: $why"
    fi
  fi
  for s in "${streams[@]}"; do
    step "loss 0%, delay ${delay_ms} ms each way (RTT $((2 * delay_ms)) ms), $s stream(s)"
    # A long path needs a window of bandwidth x RTT: 4 MiB buffers, what Linux's autotuning reaches
    # by default (tcp_wmem/tcp_rmem maxima of 4 and 6 MiB).
    synack_point "$s" "s${s}_d$delay_ms" "delay=${delay_ms}ms,seed=$seed" --snd-buffer 4194304 --rcv-buffer 4194304
    if [[ -n $delay_ok ]]; then linux_point "$s" "s${s}_d$delay_ms"; fi
  done
fi

step "report"
echo "load_after=$(cut -d' ' -f1-3 /proc/loadavg)" >>"$raw/meta.txt"
/usr/bin/python3 "$root/scripts/bench_loss_report.py" "$raw" "$results" "$day"
step "done"
