#!/usr/bin/env bash
# synack-cps end to end. Usage: cps.sh BIN [loopback|memif|netns|all]
#  loopback (no root): bad command lines give one line naming the flag; `--loopback` with no other flag
#    runs 2 s with 0 failures, bare and with a 64-byte request; over a range of server ports with 0
#    failures; with a tuple space of 8 4-tuples, the tuple-space report;
#  memif (no root; exit 77 when net_memif cannot start): --server --port 5001-5016 and --client
#    --connect ADDR:5001-5016 --ip-count 4 in two processes joined by net_memif: connections on every
#    port from four client addresses (each resolved by the server's ARP), 0 failures;
#  netns (root, else exit 77): synack-cps on net_tap in a namespace this script creates, the Linux kernel
#    (198.18.0.1) on the other side: (b) --client against a Python accept-and-close server, (c) --server
#    for a Python client (200 connect/close, then 20 request/response), (d) --client to a closed port
#    reports 'refused' and exits 1.
set -euo pipefail
bin=$(readlink -f "$1")
what=${2:-all}
here=$(cd "$(dirname "$0")" && pwd)
fail() { echo "FAIL: $*"; exit 1; }

loopback() {
  local out rc
  source "$here/lib.sh"
  expect_flag_error "choose a mode" --
  expect_flag_error "choose one mode" -- --loopback --client
  expect_flag_error "--concurrency" -- --loopback --concurrency 0
  expect_flag_error "--connect" -- --client --ip 198.18.0.2/24 --connect nonsense
  expect_flag_error "--connect is required" -- --client --ip 198.18.0.2/24
  expect_flag_error "--request" -- --loopback --request 5000
  expect_flag_error "--duration" -- --loopback --duration x
  expect_flag_error "--concurrency" -- --server --ip 198.18.0.2/24 --concurrency 4
  expect_flag_error "--flood" -- --loopback --flood lots
  expect_flag_error "--flood-count" -- --loopback --flood-count 5
  expect_flag_error "--syn-cookies" -- --loopback --syn-cookies sometimes
  expect_flag_error "--syn-backlog" -- --loopback --syn-backlog 0
  expect_flag_error "--close" -- --loopback --close maybe
  # Port ranges: reversed, out of range, empty, a range and --ports at once, past 65535.
  expect_flag_error "--connect" -- --client --ip 198.18.0.1/24 --connect 198.18.0.2:5016-5001
  expect_flag_error "--connect" -- --client --ip 198.18.0.1/24 --connect 198.18.0.2:5001-70000
  expect_flag_error "--connect" -- --client --ip 198.18.0.1/24 --connect 198.18.0.2:
  expect_flag_error "--ports" -- --client --ip 198.18.0.1/24 --connect 198.18.0.2:5001-5016 --ports 4
  expect_flag_error "--port" -- --server --ip 198.18.0.2/24 --port 5016-5001
  expect_flag_error "--port" -- --server --ip 198.18.0.2/24 --port 0-3
  expect_flag_error "--port" -- --server --ip 198.18.0.2/24 --port=
  expect_flag_error "--port" -- --loopback --port 5001-
  expect_flag_error "--ports" -- --loopback --port 5001-5004 --ports 8
  expect_flag_error "--ports" -- --loopback --port 65530 --ports 10
  expect_flag_error "--ephemeral-ports" -- --loopback --ephemeral-ports 40000-30000
  expect_flag_error "--ephemeral-ports" -- --loopback --ephemeral-ports 0-100
  expect_flag_error "--ephemeral-ports" -- --client --ip 198.18.0.1/24 --connect 198.18.0.2:5001 --ephemeral-ports x
  expect_flag_error "--ephemeral-ports" -- --server --ip 198.18.0.2/24 --ephemeral-ports 1024-2047
  expect_flag_error "--ip-count" -- --client --ip 198.18.0.1/24 --connect 198.18.0.2:5001 --ip-count 0
  expect_flag_error "--ip-count" -- --client --ip 198.18.0.1/16 --connect 198.18.0.2:5001 --ip-count 257
  expect_flag_error "--ip-count" -- --client --ip 198.18.0.250/24 --connect 198.18.0.2:5001 --ip-count 6
  expect_flag_error "--gateway" -- --client --ip 198.18.0.10/24 --ip-count 4 --gateway 198.18.0.13 --connect 198.19.0.2:5001
  [[ $("$bin" --help) == *"--loopback"* ]] || { echo "FAIL: --help"; flag_errors=1; }
  [[ $flag_errors -eq 0 ]] || exit 1

  # Runs synack-cps --loopback with the given options into $out (shown without the counter lines);
  # a non-zero exit fails the test.
  run_loopback() {
    echo "--- synack-cps --loopback $*"
    out=$(timeout 60 "$bin" -- --loopback "$@" 2>&1) && rc=0 || rc=$?
    echo "$out" | grep -Ev '^  ' || true
    [[ $rc -eq 0 ]] || fail "--loopback $* exited $rc"
  }

  local args
  for args in "" "--request 64"; do
    # shellcheck disable=SC2086
    run_loopback --duration 2 --concurrency 16 $args
    echo "$out" | grep -Eq '^cps: [1-9][0-9]* ok, 0 failed in .*: [1-9][0-9]* conns/s' ||
      fail "loopback $args: expected successes, 0 failures and a rate"
    echo "$out" | grep -q '^connect latency: p50' || fail "loopback $args: no latency line"
  done

  # A range of server ports: the client goes round-robin over them, the server listens on all of them.
  # Fewer connections than 4-tuples (a fast machine would otherwise run through all 258,048 in well under
  # the 1 s before TIME-WAIT gives one back, and count the connects that found none).
  run_loopback --duration 10 --connections 150000 --concurrency 16 --port 6001-6004
  echo "$out" | grep -Eq '^cps client: 198\.18\.0\.2:6001-6004,' || fail "port range: not used by the client"
  echo "$out" | grep -Eq '^4-tuples: 1 address x 4 server ports x 64512 ephemeral ports = 258048 4-tuples' ||
    fail "port range: no 4-tuple count"
  echo "$out" | grep -Eq '^cps: [1-9][0-9]* ok, 0 failed' || fail "port range: expected successes and 0 failures"

  # A deliberately tiny tuple space (1 server port x 8 source ports): connects run out of 4-tuples and the
  # client says so — the tuple space and how fast TIME-WAIT gives 4-tuples back (each after 1 s).
  echo "--- synack-cps --loopback (8 4-tuples)"
  out=$(timeout 60 "$bin" -- --loopback --duration 3 --concurrency 4 --port 5001 --ports 1 \
    --ephemeral-ports 40000-40007 2>&1) && rc=0 || rc=$?
  echo "$out" | grep -Ev '^  ' || true
  [[ $rc -eq 1 ]] || fail "tiny tuple space: expected exit status 1 (connects out of 4-tuples), got $rc"
  echo "$out" | grep -Eq '^cps: [1-9][0-9]* ok, [1-9][0-9]* failed' || fail "tiny tuple space: expected successes and failures"
  echo "$out" | grep -Eq '^failures: out of ports [1-9][0-9]*$' || fail "tiny tuple space: failures other than out of ports"
  echo "$out" | grep -Eq '^tuple space: 1 address x 1 server port x 8 ephemeral ports = 8 4-tuples$' ||
    fail "tiny tuple space: no tuple space line"
  echo "$out" | grep -Eq '^tuple reuse: [1-9][0-9]* TIME-WAIT 4-tuples taken over by connect \([0-9]+/s\).* ~8 conns/s at most$' ||
    fail "tiny tuple space: no TIME-WAIT reuse line"
  echo "$out" | grep -Eq '^tuple space exhausted: [1-9][0-9]* connects found no free 4-tuple' ||
    fail "tiny tuple space: not reported as exhausted"
  echo "$out" | grep -Eq '^t=[0-9]+s .* no_4tuple=[1-9]' || fail "tiny tuple space: no no_4tuple= in the progress lines"
  echo "$out" | grep -Eq '^t=[0-9]+s .* tw_reused/s=[1-9]' || fail "tiny tuple space: no tw_reused/s= in the progress lines"

  # --close rst: both ends reset instead of closing, so no TIME-WAIT holds a 4-tuple anywhere.
  run_loopback --duration 1 --concurrency 16 --close rst
  echo "$out" | grep -Eq '^cps: [1-9][0-9]* ok, 0 failed' || fail "--close rst: expected successes and 0 failures"
  echo "$out" | grep -Eq '^cps server state: .*peak TIME-WAIT 0,' || fail "--close rst: the server kept TIME-WAIT entries"
  echo "$out" | grep -Eq '^  tcp.resets_out [1-9]' || fail "--close rst: no resets sent"
  echo "$out" | grep -Eq '^  tcp.time_wait [1-9]' && fail "--close rst: TIME-WAIT entries left"

  # --pingpong: request/response round trips on one connection; --hold: idle connections kept open.
  run_loopback --pingpong 64 --duration 1
  echo "$out" | grep -Eq '^synack pingpong: size=64 round_trips=[1-9][0-9]{3,} .* p50_us=[0-9.]+ ' || fail "pingpong: no summary"
  run_loopback --hold 20000 --duration 1
  echo "$out" | grep -Eq '^holding 20000 established connections \(0 failed\)' || fail "hold: not all held"
  echo "$out" | grep -Eq '^server holds 200[0-9]{2} connections' || fail "hold: the server does not hold them"
  echo "$out" | grep -Eq '^memory server: [0-9]+ B per connection' || fail "hold: no memory line"
  echo "$out" | grep -Eq '^cps: [1-9][0-9]* ok, 0 failed' || fail "hold: the rate run failed"
  echo "$out" | grep -q '^hold: ' && fail "hold: held connections closed during the run"

  # A spoofed SYN flood alongside the client, at a server with a tiny SYN queue: no legitimate
  # connection fails, cookies answer the flood, the half-open state stays within its bound.
  run_loopback --duration 2 --flood 100000 --syn-backlog 16 --max-half-open 16
  echo "$out" | grep -Eq '^cps: [1-9][0-9]* ok, 0 failed' || fail "loopback flood: legitimate connections failed"
  echo "$out" | grep -Eq '^flood: [1-9][0-9]{5} spoofed SYNs sent' || fail "loopback flood: no flood line"
  echo "$out" | grep -Eq '^cps server state: peak half-open ([0-9]|1[0-6]),' || fail "loopback flood: half-open over 16"
  echo "$out" | grep -Eq '^  tcp.cookies_sent [1-9][0-9]{4}' || fail "loopback flood: too few cookies"
}

# Two processes joined by net_memif (a shared-memory Ethernet pair, no root): --server on a port range and
# --client over the same range, each on its own lcore with its own --file-prefix.
memif() {
  local sock srvlog clilog spid= rc=0
  sock=/tmp/synack-cps-memif-$$.sock
  srvlog=$(mktemp)
  clilog=$(mktemp)
  # shellcheck disable=SC2317
  cleanup_memif() {
    [[ -n $spid ]] && kill -INT "$spid" 2>/dev/null && wait "$spid" 2>/dev/null
    rm -f "$sock" "$srvlog" "$clilog"
    [[ $(id -u) -eq 0 ]] && rm -rf "/var/run/dpdk/cpsms$$" "/var/run/dpdk/cpsmc$$"
    true
  }
  trap cleanup_memif EXIT
  local vdev=",id=0,socket=$sock,socket-abstract=no"
  echo "--- synack-cps --server --port 5001-5016 over net_memif"
  timeout 60 "$bin" --no-pci -l 0 --file-prefix "cpsms$$" --vdev "net_memif0,role=server$vdev" -- \
    --server --ip 198.18.0.2/24 --port 5001-5016 >"$srvlog" 2>&1 &
  spid=$!
  local i
  for i in $(seq 100); do
    grep -q '^listening on' "$srvlog" && break
    kill -0 "$spid" 2>/dev/null || break
    sleep 0.1
  done
  if ! grep -q '^listening on 198.18.0.2:5001 (cps server, ports 5001-5016' "$srvlog"; then
    cat "$srvlog"
    grep -qi 'memif' "$srvlog" && { echo "skipped: net_memif does not start here"; exit 77; }
    fail "memif: no readiness line from the server"
  fi
  echo "--- synack-cps --client --connect 198.18.0.2:5001-5016 over net_memif"
  timeout 60 "$bin" --no-pci -l 1 --file-prefix "cpsmc$$" --vdev "net_memif0,role=client$vdev" -- \
    --client --ip 198.18.0.10/24 --ip-count 4 --connect 198.18.0.2:5001-5016 --duration 2 --concurrency 16 \
    --connect-timeout-ms 3000 >"$clilog" 2>&1 &
  local cpid=$!
  # DPDK 22.11's memif driver unmaps a departing peer's memory from its control thread while the lcore
  # may be inside rx_burst (a segfault in librte_net_memif, seen about one run in ten): stop the server
  # as soon as the client has printed its summary, before the client's EAL clean-up disconnects.
  for i in $(seq 600); do
    grep -q '^cps: ' "$clilog" && break
    kill -0 "$cpid" 2>/dev/null || break
    sleep 0.01
  done
  kill -INT "$spid"
  wait "$cpid" || rc=$?
  wait "$spid" || fail "memif: the server exited $?"
  spid=
  grep -Ev '^  ' "$clilog"
  grep -Ev '^  ' "$srvlog"
  [[ $rc -eq 0 ]] || fail "memif: the client exited $rc"
  grep -Eq '^cps client: 198\.18\.0\.2:5001-5016,' "$clilog" || fail "memif: the client did not take the range"
  grep -Eq '^4-tuples: 4 addresses x 16 server ports' "$clilog" || fail "memif: the client did not take 4 addresses"
  # The server answered every client address: it learnt the first from the client's ARP request and
  # asked for the other three.
  grep -Eq '^  arp_replies_rx [3-9]' "$srvlog" || fail "memif: the server did not resolve 4 client addresses"
  grep -Eq '^cps: [1-9][0-9]* ok, 0 failed' "$clilog" || fail "memif: expected successes and 0 failures"
  grep -Eq '^cps server: accepted [1-9][0-9]*, reset/timed out 0$' "$srvlog" || fail "memif: the server accepted none"
  cleanup_memif
  trap - EXIT
}

netns() {
  [[ $(id -u) -eq 0 ]] || { echo "skipped: needs root for network namespaces"; exit 77; }
  source "$here/../../scripts/netns.sh"
  ns=synack-cps-$$
  iface=scps$$
  iface=${iface:0:15}
  log=$(mktemp)
  pid=
  pypid=
  cleanup() {
    [[ -n $pid ]] && kill -INT "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    [[ -n $pypid ]] && kill "$pypid" 2>/dev/null && wait "$pypid" 2>/dev/null
    ns_cleanup
    rm -f "$log"
  }
  trap cleanup EXIT
  ns_create "$ns"
  # Brings the kernel side of the tap up once synack-cps has created it.
  kernel_side() {
    ns_peer_up "$ns" "$iface" 10 || fail "no $iface in $ns"
  }
  local eal=(--no-pci --vdev "net_tap0,iface=$iface" -l 0)

  echo "--- (b) synack-cps --client against the Linux kernel (Python: accept, close)"
  ip netns exec "$ns" timeout 60 /usr/bin/python3 -c '
import socket
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 5001))
s.listen(1024)
while True:
    c, _ = s.accept()
    c.close()
' &
  pypid=$!
  sleep 0.3
  # The first SYN waits for ARP while the kernel side comes up: give it 3 s.
  ip netns exec "$ns" timeout 60 "$bin" "${eal[@]}" -- --client --ip 198.18.0.2/24 --connect 198.18.0.1:5001 \
    --duration 2 --concurrency 8 --connect-timeout-ms 3000 >"$log" 2>&1 &
  pid=$!
  kernel_side
  local rc=0
  wait "$pid" || rc=$?
  pid=
  grep -Ev '^  ' "$log"
  [[ $rc -eq 0 ]] || fail "(b) client exited $rc"
  grep -Eq '^cps: [1-9][0-9]* ok, 0 failed' "$log" || fail "(b) expected successes and 0 failures"
  kill "$pypid"; wait "$pypid" 2>/dev/null || true
  pypid=

  echo "--- (d) synack-cps --client towards a port where nothing listens"
  ip netns exec "$ns" timeout 60 "$bin" "${eal[@]}" -- --client --ip 198.18.0.2/24 --connect 198.18.0.1:5999 \
    --duration 1 --concurrency 4 --connect-timeout-ms 3000 >"$log" 2>&1 &
  pid=$!
  kernel_side
  rc=0
  wait "$pid" || rc=$?
  pid=
  grep -Ev '^  ' "$log"
  [[ $rc -eq 1 ]] || fail "(d) expected exit status 1, got $rc"
  grep -Eq '^failures: refused [1-9]' "$log" || fail "(d) expected failures by reason 'refused'"
  grep -Eq '^cps: 0 ok' "$log" || fail "(d) expected 0 ok"

  local mode
  for mode in bare request; do
    echo "--- (c) synack-cps --server ($mode) with a Python client in the namespace"
    local flag=()
    [[ $mode == request ]] && flag=(--request)
    ip netns exec "$ns" timeout 120 "$bin" "${eal[@]}" -- --server --ip 198.18.0.2/24 --port 5001 "${flag[@]}" \
      >"$log" 2>&1 &
    pid=$!
    ns_wait_ready "$log" '^listening on 198.18.0.2:5001' || { cat "$log"; fail "(c) no readiness line"; }
    kernel_side
    ip netns exec "$ns" timeout 60 /usr/bin/python3 - "$mode" <<'PY'
import socket, sys, time
mode = sys.argv[1]
n = 200 if mode == "bare" else 20
t0 = time.time()
for i in range(n):
    c = socket.create_connection(("198.18.0.2", 5001), timeout=5)
    if mode == "request":
        msg = bytes([i % 256]) * 64
        c.sendall(msg)
        got = b""
        while len(got) < 64:
            b = c.recv(100)
            assert b, f"connection {i}: EOF after {len(got)} bytes"
            got += b
        assert got == msg, f"connection {i}: answer differs"
    assert c.recv(10) == b"", f"connection {i}: expected the server's FIN"
    c.close()
print(f"{n} {mode} connections ok in {time.time() - t0:.2f} s")
PY
    kill -INT "$pid"
    wait "$pid"
    pid=
    grep -Ev '^  ' "$log"
    if [[ $mode == bare ]]; then
      grep -Eq '^cps server: accepted 200,' "$log" || fail "(c) expected 200 accepted"
    else
      grep -Eq '^cps server: accepted 20, answered 20,' "$log" || fail "(c) expected 20 answered"
    fi
    ip -n "$ns" addr flush dev "$iface" 2>/dev/null || true
  done
}

case $what in
  loopback) loopback ;;
  memif) memif ;;
  netns) netns ;;
  all) loopback; memif; netns ;;
  *) fail "usage: cps.sh BIN [loopback|memif|netns|all]" ;;
esac
echo PASS
