#!/usr/bin/env bash
# The engine-pair TCP checks between two processes over a real virtual device: synack_vdev_pair
# (tests/dpdk/vdev_pair_main.cc) as server and as client, each with its own --file-prefix, -l and pools.
# The client echoes sizes from 1 byte to 1 MB (copied and as chained mbufs) with every byte checked, lets
# the server close first, runs 300 short connections in both close orders, and checks its pools are back
# at their start; the server checks its own when it is stopped. Both must print PASS and exit 0.
# Usage: vdev_pair.sh BIN memif|af_packet|tap [--negative]
#   memif (no root; exit 77 when net_memif cannot start): the two processes joined by net_memif over a
#     unix socket (role=server / role=client).
#   af_packet (root, else exit 77): a veth pair in a namespace this script creates, one process on each
#     end with net_af_packet (the kernel only carries the frames: no address on either end).
#   tap (root, else exit 77): the server on net_tap in a namespace, the Linux kernel's TCP as the client
#     (tests/interop/vdev_pair_client.py runs the same scenarios and checks every byte).
#   --negative: the server flips one echoed byte (--corrupt-at); the client must report it and exit 1.
set -euo pipefail
bin=$(readlink -f "$1")
device=${2:-}
negative=${3:-}
here=$(cd "$(dirname "$0")" && pwd)
fail() { echo "FAIL: $*"; exit 1; }

srvlog=$(mktemp)
clilog=$(mktemp)
spid=
cpid=
sock=/tmp/synack-vdev-pair-$$.sock
cleanup() {
  [[ -n $cpid ]] && kill -INT "$cpid" 2>/dev/null && wait "$cpid" 2>/dev/null
  [[ -n $spid ]] && kill -INT "$spid" 2>/dev/null && wait "$spid" 2>/dev/null
  declare -F ns_cleanup >/dev/null && ns_cleanup
  rm -f "$srvlog" "$clilog" "$sock"
  # The EAL runtime directories of our two --file-prefix values (DPDK leaves them; ours to remove).
  rm -rf "${XDG_RUNTIME_DIR:-/tmp}/dpdk/vdps$$" "${XDG_RUNTIME_DIR:-/tmp}/dpdk/vdpc$$" 2>/dev/null
  [[ $(id -u) -eq 0 ]] && rm -rf "/var/run/dpdk/vdps$$" "/var/run/dpdk/vdpc$$"
  true
}
trap cleanup EXIT

common=(--no-pci --no-huge -m 512 --no-shconf)
run=()  # how to run each process (in the namespace for af_packet)
case $device in
  memif)
    vdev=",id=0,socket=$sock,socket-abstract=no"
    srv_eal=(-l 0 --file-prefix "vdps$$" --vdev "net_memif0,role=server$vdev")
    cli_eal=(-l 1 --file-prefix "vdpc$$" --vdev "net_memif0,role=client$vdev")
    ;;
  af_packet)
    [[ $(id -u) -eq 0 ]] || { echo "skipped: needs root for network namespaces"; exit 77; }
    source "$here/../../scripts/netns.sh"
    ns=synack-vdp-$$
    ns_create "$ns"
    # Both ends in one namespace, up, without addresses: the kernel passes frames, answers nothing.
    ip -n "$ns" link add vdpa type veth peer name vdpb
    ip -n "$ns" link set vdpa mtu 1500 up
    ip -n "$ns" link set vdpb mtu 1500 up
    run=(ip netns exec "$ns")
    srv_eal=(-l 0 --file-prefix "vdps$$" --vdev "net_af_packet0,iface=vdpa")
    cli_eal=(-l 1 --file-prefix "vdpc$$" --vdev "net_af_packet0,iface=vdpb")
    ;;
  tap)
    [[ $(id -u) -eq 0 ]] || { echo "skipped: needs root for network namespaces"; exit 77; }
    source "$here/../../scripts/netns.sh"
    ns=synack-vdp-$$
    ns_create "$ns"
    run=(ip netns exec "$ns")
    srv_eal=(-l 0 --file-prefix "vdps$$" --vdev "net_tap0,iface=vdpt")
    ;;
  *) fail "usage: vdev_pair.sh BIN memif|af_packet|tap [--negative]" ;;
esac
srv_args=(--role server --ip 198.18.0.2/24)
[[ $negative == --negative ]] && srv_args+=(--corrupt-at 100000)

t0=$(date +%s%N)
echo "--- synack_vdev_pair server over net_$device"
"${run[@]}" timeout 90 "$bin" "${common[@]}" "${srv_eal[@]}" -- "${srv_args[@]}" >"$srvlog" 2>&1 &
spid=$!
for _ in $(seq 100); do
  grep -q '^listening on' "$srvlog" && break
  kill -0 "$spid" 2>/dev/null || break
  sleep 0.1
done
if ! grep -q '^listening on 198.18.0.2:7,8' "$srvlog"; then
  cat "$srvlog"
  if [[ $device == memif ]] && grep -qi 'memif' "$srvlog"; then
    echo "skipped: net_memif does not start here"
    exit 77
  fi
  fail "$device: no readiness line from the server"
fi

if [[ $device == tap ]]; then
  # The Linux kernel is the client: the same scenarios from Python (tests/interop/vdev_pair_client.py).
  ns_peer_up "$ns" vdpt 10 || fail "tap: no vdpt in $ns"
  crc=0
  "${run[@]}" timeout 60 /usr/bin/python3 "$here/vdev_pair_client.py" 198.18.0.2 >"$clilog" 2>&1 || crc=$?
  kill -INT "$spid" 2>/dev/null || true
  src=0
  wait "$spid" || src=$?
  spid=
  echo "--- server (exit $src)"
  cat "$srvlog"
  echo "--- client: the Linux kernel (exit $crc)"
  cat "$clilog"
  echo "--- net_tap: $((($(date +%s%N) - t0) / 1000000)) ms"
  [[ $crc -eq 0 ]] || fail "tap: the kernel's client exited $crc"
  [[ $src -eq 0 ]] || fail "tap: the server exited $src"
  grep -Eq '^vdev_pair server: PASS: accepted 317 \(echo 162, send-and-close 155\)' "$srvlog" ||
    fail "tap: the server did not pass (or accepted another number of connections)"
  echo PASS
  exit 0
fi

echo "--- synack_vdev_pair client over net_$device"
# --linger-s: after its verdict the client stops polling and keeps its port open until the server has
# stopped (DPDK 22.11's memif driver can fault in a peer's rx_burst while the other side disconnects; see
# cps.sh): neither side polls while the other closes its port.
"${run[@]}" timeout 90 "$bin" "${common[@]}" "${cli_eal[@]}" -- --role client --ip 198.18.0.1/24 \
  --peer 198.18.0.2 --connections 300 --concurrency 64 --timeout-s 40 --linger-s 30 >"$clilog" 2>&1 &
cpid=$!
for _ in $(seq 600); do
  grep -q '^vdev_pair client: ' "$clilog" && break
  kill -0 "$cpid" 2>/dev/null || break
  sleep 0.1
done
kill -INT "$spid" 2>/dev/null || true
src=0
wait "$spid" || src=$?
spid=
kill -INT "$cpid" 2>/dev/null || true
crc=0
wait "$cpid" || crc=$?
cpid=
echo "--- server (exit $src)"
cat "$srvlog"
echo "--- client (exit $crc)"
cat "$clilog"
echo "--- net_$device: $((($(date +%s%N) - t0) / 1000000)) ms"

if [[ $negative == --negative ]]; then
  [[ $crc -eq 1 ]] || fail "$device --negative: the client exited $crc, expected 1"
  grep -Eq '^vdev_pair client: FAIL: connection [0-9]+ .*: byte 100000 is 0x[0-9a-f]{2}, expected' "$clilog" ||
    fail "$device --negative: the client did not report the corrupted byte"
  grep -q '^vdev_pair server: corrupted echoed byte 100000' "$srvlog" || fail "$device --negative: nothing corrupted"
  echo "PASS (the corrupted byte was caught)"
  exit 0
fi
[[ $src -eq 0 ]] || fail "$device: the server exited $src"
[[ $crc -eq 0 ]] || fail "$device: the client exited $crc"
grep -q '^device: device net_'"$device" "$srvlog" || fail "$device: the server did not print its device line"
grep -Eq '^vdev_pair client: PASS: 317 connections \(162 closed first by the client, 155 by the server\)' "$clilog" ||
  fail "$device: the client did not pass every scenario"
grep -Eq '^vdev_pair server: PASS: accepted 317 \(echo 162, send-and-close 155\)' "$srvlog" ||
  fail "$device: the server did not pass (or accepted another number of connections)"
echo PASS
