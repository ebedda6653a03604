#!/usr/bin/env bash
# synack-perf end to end. Usage: perf.sh BIN [loopback|netns|all]
#  loopback (no root): bad command lines give one line naming the flag; `--loopback --verify` for 2 s with
#    1 and 4 streams exits 0 with a rate above 0 Gbit/s, every byte received and 0 verify errors, and
#    multi-MSS (TSO) segments across the ring; an impaired loopback (corruption; loss, reordering and
#    duplication; the same with --tso on) delivers every byte intact;
#  netns (root, else exit 77): synack-perf on net_tap in a namespace this script creates, the Linux kernel
#    (198.18.0.1) on the other side: (b) --client sends for 2 s (2 streams) to a Python receiver that
#    checks the pattern; (c) a Python sender sends for 2 s to --server --verify. Each side's byte count
#    must match the other's.
set -euo pipefail
bin=$(readlink -f "$1")
what=${2:-all}
here=$(cd "$(dirname "$0")" && pwd)
fail() { echo "FAIL: $*"; exit 1; }

loopback() {
  local out rc
  source "$here/lib.sh"
  expect_flag_error "choose a mode" --
  expect_flag_error "choose one mode" -- --loopback --server
  expect_flag_error "--streams" -- --loopback --streams 0
  expect_flag_error "--streams" -- --loopback --streams 1000
  expect_flag_error "--duration" -- --loopback --duration x
  expect_flag_error "--bytes" -- --loopback --bytes -1
  expect_flag_error "--connect" -- --client --ip 198.18.0.2/24 --connect nonsense
  expect_flag_error "--connect is required" -- --client --ip 198.18.0.2/24
  expect_flag_error "--ip is required" -- --server
  expect_flag_error "--streams" -- --server --ip 198.18.0.2/24 --streams 4
  expect_flag_error "--tso" -- --loopback --tso maybe
  expect_flag_error "--tso on with --impair mtu" -- --loopback --tso on --impair mtu=1200
  [[ $("$bin" --help) == *"--verify"* ]] || { echo "FAIL: --help"; flag_errors=1; }
  [[ $flag_errors -eq 0 ]] || exit 1

  local streams
  for streams in 1 4; do
    # One stream also runs with --profile: each engine's cycles per phase are printed with the counters.
    local extra=()
    [[ $streams -eq 1 ]] && extra=(--profile)
    echo "--- synack-perf --loopback --duration 2 --streams $streams --verify ${extra[*]}"
    out=$(timeout 60 "$bin" -- --loopback --duration 2 --streams "$streams" --verify "${extra[@]}" 2>&1) && rc=0 || rc=$?
    echo "$out" | grep -Ev '^  [a-z_.]+ [0-9]+$' || true
    [[ $rc -eq 0 ]] || fail "loopback --streams $streams exited $rc"
    echo "$out" | grep -Eq '^t=1s [0-9.]+ Gbit/s' || fail "loopback --streams $streams: no per-second line"
    local sent
    sent=$(echo "$out" | sed -nE 's/^perf: sent ([0-9]+) bytes in .* s: ([0-9.]+) Gbit\/s.*/\1 \2/p')
    [[ -n $sent ]] || fail "loopback --streams $streams: no summary line"
    read -r bytes gbps <<<"$sent"
    [[ $bytes -gt 0 ]] && awk -v g="$gbps" 'BEGIN { exit !(g > 0) }' ||
      fail "loopback --streams $streams: expected > 0 bytes and > 0 Gbit/s, got $bytes bytes, $gbps Gbit/s"
    echo "$out" | grep -Eq "^perf server: $streams connections, $bytes bytes received, verify errors 0$" ||
      fail "loopback --streams $streams: the server did not receive all $bytes bytes with 0 verify errors"
    [[ $(echo "$out" | grep -Ec '^perf server: 198\.18\.0\.1:[0-9]+ received [0-9]+ bytes .* verify errors 0$') \
      -eq $streams ]] || fail "loopback --streams $streams: expected $streams clean per-connection lines"
    # No copy on receive: the zero-copy segments arrive chained and none is gathered into one buffer.
    echo "$out" | grep -Eq '^  rx_chained [1-9][0-9]*$' || fail "loopback --streams $streams: no chained frames received"
    echo "$out" | grep -Eq '^  rx_linearized ' && fail "loopback --streams $streams: frames were linearized"
    # Segmentation offload (on by default on an unimpaired loopback): multi-MSS segments crossed the ring.
    echo "$out" | grep -q 'cross the ring whole (TSO)' || fail "loopback --streams $streams: TSO not announced"
    echo "$out" | grep -Eq '^  tcp\.tso_segments_out [1-9][0-9]*$' || fail "loopback --streams $streams: no TSO segment"
    if [[ $streams -eq 1 ]]; then
      [[ $(echo "$out" | grep -Ec '^  profile engine 0: [1-9][0-9]* polls measured') -eq 2 ]] ||
        fail "loopback --profile: expected a profile for the client and the server engine"
      echo "$out" | grep -Eq '^    parse +[0-9.]+%  +[0-9.]+ ns/frame$' || fail "loopback --profile: no parse phase line"
    fi
  done

  # The loopback ring pair sends without checksums and trusts them on receipt, unless the impaired link
  # corrupts frames: then checksums are computed and checked, corrupted frames are dropped and counted,
  # and every byte still arrives intact.
  echo "--- synack-perf --loopback --duration 2 --verify --impair corrupt=0.5%,seed=3"
  out=$(timeout 60 "$bin" -- --loopback --duration 2 --verify --impair corrupt=0.5%,seed=3 2>&1) && rc=0 || rc=$?
  echo "$out" | grep -Ev '^  [a-z_.]+ [0-9]+$' || true
  [[ $rc -eq 0 ]] || fail "loopback --impair corrupt exited $rc"
  echo "$out" | grep -Eq '^  impair\.tx\.corrupted [1-9][0-9]*$' || fail "loopback --impair corrupt: nothing corrupted"
  echo "$out" | grep -Eq '^  drop\.tcp_bad_checksum [1-9][0-9]*$' || fail "loopback --impair corrupt: no bad TCP checksum caught"
  echo "$out" | grep -Eq '^perf server: 1 connections, [1-9][0-9]* bytes received, verify errors 0$' ||
    fail "loopback --impair corrupt: corrupted bytes reached the application"

  # A verified 2 s run over the impaired link `spec` (then any extra flags): loss, reordering and
  # duplication all happened and every byte arrived intact. Leaves the output in $out.
  lossy_run() {
    local spec=$1
    shift
    local what="--loopback --duration 2 --verify --impair $spec $*"
    echo "--- synack-perf $what"
    out=$(timeout 60 "$bin" -- --loopback --duration 2 --verify --impair "$spec" "$@" 2>&1) && rc=0 || rc=$?
    echo "$out" | grep -Ev '^  [a-z_.]+ [0-9]+$' || true
    [[ $rc -eq 0 ]] || fail "$what exited $rc"
    for c in lost reordered duplicated; do
      echo "$out" | grep -Eq "^  impair\.tx\.$c [1-9][0-9]*$" || fail "$what: nothing $c"
    done
    echo "$out" | grep -Eq '^perf server: 1 connections, [1-9][0-9]* bytes received, verify errors 0$' ||
      fail "$what: the bytes did not arrive intact"
  }

  # Without corruption the checksums are left out: loss, reordering and duplication still deliver every
  # byte in order, and no frame is taken for a bad checksum. An impaired link gets one MSS per frame.
  lossy_run loss=1%,reorder=2%,dup=1%,seed=5
  echo "$out" | grep -Eq '^  drop\.(tcp|ip)_bad_checksum ' && fail "loopback --impair: a frame failed a checksum"
  echo "$out" | grep -Eq '^  tcp\.tso_segments_out ' && fail "loopback --impair: TSO should be off on an impaired link"

  # Segmentation offload through loss, reordering and duplication (whole 64 KiB segments lost, held back
  # or sent twice): recovery resends one MSS at a time and every byte arrives in order.
  lossy_run loss=1%,reorder=2%,dup=1%,seed=7 --tso on
  echo "$out" | grep -Eq '^  tcp\.tso_segments_out [1-9][0-9]*$' || fail "loopback --tso on --impair: no TSO segment"
  echo "$out" | grep -Eq '^  tcp\.retransmits [1-9][0-9]*$' || fail "loopback --tso on --impair: nothing retransmitted"
}

netns() {
  [[ $(id -u) -eq 0 ]] || { echo "skipped: needs root for network namespaces"; exit 77; }
  source "$here/../../scripts/netns.sh"
  ns=synack-perf-$$
  iface=sperf$$
  iface=${iface:0:15}
  log=$(mktemp)
  pylog=$(mktemp)
  pid=
  pypid=
  cleanup() {
    [[ -n $pid ]] && kill -INT "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    [[ -n $pypid ]] && kill "$pypid" 2>/dev/null && wait "$pypid" 2>/dev/null
    ns_cleanup
    rm -f "$log" "$pylog"
  }
  trap cleanup EXIT
  ns_create "$ns"
  # Brings the kernel side of the tap up once synack-perf has created it.
  kernel_side() {
    ns_peer_up "$ns" "$iface" 10 || fail "no $iface in $ns"
  }
  local eal=(--no-pci --vdev "net_tap0,iface=$iface" -l 0)

  echo "--- (b) synack-perf --client (2 streams, 2 s) to the Linux kernel (Python: read, check, discard)"
  ip netns exec "$ns" timeout 60 /usr/bin/python3 - 2 >"$pylog" 2>&1 <<'PY' &
import socket, sys, threading
streams = int(sys.argv[1])
period = 251
pattern = bytes(i % period for i in range(period)) * (65536 // period + 2)
total = [0, 0]  # bytes, verify errors
lock = threading.Lock()
def serve(c):
    buf = bytearray(65536)
    view = memoryview(buf)
    got = bad = 0
    while True:
        n = c.recv_into(buf)
        if n == 0:
            break
        o = got % period
        if view[:n] != pattern[o:o + n]:
            bad += sum(1 for i in range(n) if buf[i] != pattern[o + i])
        got += n
    c.close()
    with lock:
        total[0] += got
        total[1] += bad
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 5201))
s.listen(16)
threads = []
for _ in range(streams):
    c, _ = s.accept()
    t = threading.Thread(target=serve, args=(c,))
    t.start()
    threads.append(t)
for t in threads:
    t.join()
print(f"python receiver: {total[0]} bytes, verify errors {total[1]}", flush=True)
PY
  pypid=$!
  sleep 0.3
  ip netns exec "$ns" timeout 60 "$bin" "${eal[@]}" -- --client --ip 198.18.0.2/24 --connect 198.18.0.1:5201 \
    --duration 2 --streams 2 >"$log" 2>&1 &
  pid=$!
  kernel_side
  local rc=0
  wait "$pid" || rc=$?
  pid=
  grep -Ev '^  [a-z_.]+ [0-9]+$' "$log"
  [[ $rc -eq 0 ]] || fail "(b) client exited $rc"
  wait "$pypid" || fail "(b) the Python receiver failed: $(cat "$pylog")"
  pypid=
  cat "$pylog"
  local sent got
  sent=$(sed -nE 's/^perf: sent ([0-9]+) bytes .*/\1/p' "$log")
  got=$(sed -nE 's/^python receiver: ([0-9]+) bytes, verify errors 0$/\1/p' "$pylog")
  [[ -n $sent && $sent -gt 0 ]] || fail "(b) no bytes sent"
  [[ $got == "$sent" ]] || fail "(b) synack-perf sent $sent bytes, the kernel side received '${got}' (or verify errors)"
  grep -Eq '^t=1s [0-9.]+ Gbit/s' "$log" || fail "(b) no per-second line"

  echo "--- (c) a Python sender (2 s) to synack-perf --server --verify"
  ip netns exec "$ns" timeout 120 "$bin" "${eal[@]}" -- --server --ip 198.18.0.2/24 --port 5201 --verify \
    >"$log" 2>&1 &
  pid=$!
  ns_wait_ready "$log" '^listening on 198.18.0.2:5201' || { cat "$log"; fail "(c) no readiness line"; }
  ip -n "$ns" addr flush dev "$iface" 2>/dev/null || true
  kernel_side
  ip netns exec "$ns" timeout 60 /usr/bin/python3 - >"$pylog" 2>&1 <<'PY' || { cat "$pylog"; fail "(c) Python sender failed"; }
import socket, time
period = 251
chunk = 65536
pattern = memoryview(bytes(i % period for i in range(period)) * (chunk // period + 2))
c = socket.create_connection(("198.18.0.2", 5201), timeout=10)
sent = 0
t0 = time.time()
while time.time() - t0 < 2.0:
    o = sent % period
    c.sendall(pattern[o:o + chunk])
    sent += chunk
c.shutdown(socket.SHUT_WR)
assert c.recv(10) == b"", "expected the server's FIN"
secs = time.time() - t0
c.close()
print(f"python sender: {sent} bytes in {secs:.2f} s: {sent * 8 / secs / 1e9:.2f} Gbit/s", flush=True)
PY
  cat "$pylog"
  sleep 0.2
  kill -INT "$pid"
  rc=0
  wait "$pid" || rc=$?
  pid=
  grep -Ev '^  [a-z_.]+ [0-9]+$' "$log"
  [[ $rc -eq 0 ]] || fail "(c) server exited $rc"
  sent=$(sed -nE 's/^python sender: ([0-9]+) bytes .*/\1/p' "$pylog")
  got=$(sed -nE 's/^perf server: 198\.18\.0\.1:[0-9]+ received ([0-9]+) bytes .*, verify errors 0$/\1/p' "$log")
  [[ -n $sent && $sent -gt 0 ]] || fail "(c) no bytes sent"
  [[ $got == "$sent" ]] || fail "(c) Python sent $sent bytes, synack-perf received '${got}' (or verify errors)"
}

case $what in
  loopback) loopback ;;
  netns) netns ;;
  all) loopback; netns ;;
  *) fail "usage: perf.sh BIN [loopback|netns|all]" ;;
esac
echo PASS
