#!/usr/bin/env bash
# Interop with the Linux kernel's TCP: synack-echo on net_tap in a namespace this script creates; a
# Python client in the namespace (198.18.0.1) echoes 10 MB through it and compares SHA-256, runs 200
# short connections, and checks with `ss` that closes end cleanly. Exits 77 when not root.
# Usage: tcp_echo.sh BIN [LCORES]   (LCORES for EAL -l, default 0; "0-1" runs two engines on one
# net_tap with two queues and checks that both engines served connections)
set -euo pipefail
bin=$(readlink -f "$1")
lcores=${2:-0}
here=$(cd "$(dirname "$0")" && pwd)
[[ $(id -u) -eq 0 ]] || { echo "skipped: needs root for network namespaces"; exit 77; }
source "$here/../../scripts/netns.sh"

ns_app_setup synack-tcp-$$ stcp$$
ip netns exec "$ns" timeout -s INT 120 "$bin" --no-pci --vdev "net_tap0,iface=$iface" -l "$lcores" -- --ip 198.18.0.2/24 --port 7 >"$log" 2>&1 &
pid=$!
ns_wait_ready "$log" '^listening on 198.18.0.2:7' || { echo "FAIL: no readiness line"; cat "$log"; exit 1; }
ns_peer_up "$ns" "$iface" 5 || { echo "FAIL: no $iface in $ns"; exit 1; }

ip netns exec "$ns" timeout 90 /usr/bin/python3 - <<'PY'
import hashlib, os, socket, threading, time

ADDR = ("198.18.0.2", 7)

# 10 MB echoed and compared by hash, reading while writing.
data = os.urandom(10 * 1024 * 1024)
s = socket.create_connection(ADDR, timeout=10)
h = hashlib.sha256()
received = 0
def reader():
    global received
    while received < len(data):
        b = s.recv(1 << 16)
        if not b:
            break
        h.update(b)
        received += len(b)
t0 = time.time()
th = threading.Thread(target=reader)
th.start()
s.sendall(data)
th.join(30)
elapsed = time.time() - t0
assert received == len(data), f"echoed {received} of {len(data)} bytes"
assert h.hexdigest() == hashlib.sha256(data).hexdigest(), "echoed data differs"
print(f"10 MB echo ok, sha256 match, {len(data) * 2 * 8 / elapsed / 1e6:.0f} Mbit/s both ways")
# Linux closes first: our side answers with its own FIN (orderly close, no RST).
s.shutdown(socket.SHUT_WR)
assert s.recv(10) == b"", "expected EOF after the echo server's FIN"
s.close()

# Odd-sized writes with Nagle off: the echo goes out as segments whose payload spans several mbufs of
# odd length, which the device's checksum emulation must not be asked to sum (a regression: net_tap
# got them wrong and the transfer stalled). Compared by hash as well.
odd = os.urandom(999 * 2000)
s = socket.create_connection(ADDR, timeout=10)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
h = hashlib.sha256()
received = 0
def odd_reader():
    global received
    while received < len(odd):
        b = s.recv(1 << 16)
        if not b:
            break
        h.update(b)
        received += len(b)
th = threading.Thread(target=odd_reader)
th.start()
for i in range(0, len(odd), 999):
    s.sendall(odd[i:i + 999])
th.join(20)
assert received == len(odd), f"odd-sized echo: {received} of {len(odd)} bytes"
assert h.hexdigest() == hashlib.sha256(odd).hexdigest(), "odd-sized echo differs"
s.close()
print("2000 x 999-byte writes echoed ok")

# Many short connections: connect, one exchange, close.
t0 = time.time()
for i in range(200):
    c = socket.create_connection(ADDR, timeout=5)
    msg = b"hello %d" % i
    c.sendall(msg)
    got = b""
    while len(got) < len(msg):
        got += c.recv(100)
    assert got == msg, (got, msg)
    c.close()
print(f"200 connections ok in {time.time() - t0:.2f} s")

# Connection refused on a port nobody listens on: our stack answers the SYN with RST.
try:
    socket.create_connection(("198.18.0.2", 9), timeout=5)
    raise SystemExit("connect to a closed port succeeded")
except ConnectionRefusedError:
    print("closed port refused ok")
PY
sleep 0.5
echo "--- kernel sockets towards synack (expect only TIME-WAIT: the kernel closed first, cleanly)"
ip netns exec "$ns" ss -tan state all dst 198.18.0.2 | tee /dev/stderr | awk 'NR>1 && $1 != "TIME-WAIT" {bad=1} END {exit bad}'

kill -INT "$pid"
wait "$pid"
pid=
cat "$log"
grep -Eq 'tcp.accepted 202' "$log" || { echo "FAIL: expected 202 accepted connections"; exit 1; }
grep -Eq 'tcp.resets_unmatched [1-9]' "$log" || { echo "FAIL: the refused connect was not counted"; exit 1; }
if [[ $lcores != 0 ]]; then
  # Every engine accepted some of the 202 connections (flows are spread by the symmetric hash).
  n=$(grep -Ec '^  engine [0-9]+: .* accepted [1-9]' "$log" || true)
  [[ $n -ge 2 ]] || { echo "FAIL: expected every engine to accept connections"; exit 1; }
fi
echo PASS
