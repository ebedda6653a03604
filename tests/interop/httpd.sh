#!/usr/bin/env bash
# Interop with the Linux kernel as HTTP client: synack-httpd on net_tap in a namespace this script creates
# (the kernel side is 198.18.0.1, synack 198.18.0.2). First run (128-byte body): curl GET with the exact
# body, five GETs on one kept-alive connection, `Connection: close` making the server close first (the
# kernel socket sees EOF in CLOSE-WAIT and never enters TIME-WAIT), pipelined and byte-by-byte requests,
# HEAD, 400/405/431 refusals, and wrk with zero errors. Second run (10 MiB + 1 byte body): complete downloads with
# the right size and content. Each run ends with SIGINT: exit status 0 and counters printed.
# Exits 77 when not root. Deletes the namespace on exit.
set -euo pipefail
bin=$(readlink -f "$1")
here=$(cd "$(dirname "$0")" && pwd)
[[ $(id -u) -eq 0 ]] || { echo "skipped: needs root for network namespaces"; exit 77; }
source "$here/../../scripts/netns.sh"

ns=synack-http-$$
iface=shttp$$
iface=${iface:0:15}
tmp=$(mktemp -d)
log=
pid=
url=http://198.18.0.2/
cleanup() {
  [[ -n $pid ]] && kill -INT "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  ns_cleanup
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; [[ -n $log ]] && cat "$log"; exit 1; }
in_ns() { ip netns exec "$ns" "$@"; }
curl_ns() { in_ns curl --noproxy '*' --max-time 20 -sS "$@"; }

# The body synack-httpd serves: byte i is 'a' + i % 26.
expected_body() {  # size file
  /usr/bin/python3 -c 'import sys; n = int(sys.argv[1]); sys.stdout.buffer.write((b"abcdefghijklmnopqrstuvwxyz" * (n // 26 + 1))[:n])' "$1" >"$2"
}

start_server() {  # body-size
  log=$tmp/httpd-$1.log
  # Not through in_ns: $! must be the process SIGINT is sent to, not a subshell.
  ip netns exec "$ns" timeout -s INT 120 "$bin" --no-pci --vdev "net_tap0,iface=$iface" -l 0 -- --ip 198.18.0.2/24 --port 80 \
    --body-size "$1" >"$log" 2>&1 &
  pid=$!
  ns_wait_ready "$log" '^listening on 198.18.0.2:80 (http)' || fail "no readiness line"
  grep -q '^port: ' "$log" || fail "no port line"
  ns_peer_up "$ns" "$iface" 5 || fail "no $iface in $ns"
}

stop_server() {  # prints the log; the server must exit 0 with its counters
  local rc=0
  kill -INT "$pid"
  wait "$pid" || rc=$?
  pid=
  cat "$log"
  [[ $rc -eq 0 ]] || fail "synack-httpd exited with $rc after SIGINT"
  grep -q '^synack-httpd: stopped; counters:' "$log" || fail "no counters printed"
  grep -q 'http.requests [1-9]' "$log" || fail "no requests counted"
  grep -q 'http.responses [1-9]' "$log" || fail "no responses counted"
}

counter() { awk -v n="$1" '$1 == n {print $2}' "$log"; }

ns_create "$ns"

# ------------------------------------------------------------------------------------------------
echo "=== run 1: --body-size 128"
start_server 128
expected_body 128 "$tmp/expected"

# One GET: exact body, HTTP/1.1 200.
curl_ns -v -o "$tmp/body" -w 'curl: %{http_code} %{size_download} bytes in %{time_total} s (connect %{time_connect} s)\n' \
  "${url}index.html" 2>"$tmp/curl.err" | tee "$tmp/curl.out"
grep -q '^< HTTP/1.1 200 OK' "$tmp/curl.err" || { cat "$tmp/curl.err"; fail "curl -v shows no HTTP/1.1 200"; }
grep -qi '^< Content-Length: 128' "$tmp/curl.err" || fail "no Content-Length: 128"
cmp "$tmp/body" "$tmp/expected" || fail "GET body differs from the expected 128 bytes"
echo "ok: GET returns the 128-byte body"

# Keep-alive: five URLs in one curl, one connection.
curl_ns -v "$url" "${url}a" "${url}b" "${url}c" "${url}d" >"$tmp/body5" 2>"$tmp/curl5.err"
[[ $(stat -c %s "$tmp/body5") -eq 640 ]] || fail "five GETs returned $(stat -c %s "$tmp/body5") bytes, want 640"
reused=$(grep -ci 're-using existing connection' "$tmp/curl5.err" || true)
connects=$(grep -c '^\* Connected to' "$tmp/curl5.err" || true)
[[ $reused -eq 4 && $connects -eq 1 ]] || { cat "$tmp/curl5.err"; fail "keep-alive: $connects connects, $reused re-uses"; }
echo "ok: five GETs over one kept-alive connection (1 connect, 4 re-uses)"

# HTTP/1.0 without keep-alive: curl sees the server close.
curl_ns -0 -v -o "$tmp/body10" "$url" 2>"$tmp/curl10.err"
cmp "$tmp/body10" "$tmp/expected" || fail "HTTP/1.0 body differs"
grep -qi '^< Connection: close' "$tmp/curl10.err" || fail "HTTP/1.0 response lacks Connection: close"
echo "ok: HTTP/1.0 GET, Connection: close"

# Raw-socket clients from the kernel side.
in_ns timeout 60 /usr/bin/python3 - 128 >"$tmp/py.out" 2>&1 <<'PY' || { cat "$tmp/py.out"; fail "python client checks"; }
import socket, subprocess, sys, time

N = int(sys.argv[1])
ADDR = ("198.18.0.2", 80)
BODY = (b"abcdefghijklmnopqrstuvwxyz" * (N // 26 + 1))[:N]
GET = b"GET /x HTTP/1.1\r\nHost: 198.18.0.2\r\n\r\n"
bad = 0

def connect():
    s = socket.create_connection(ADDR, timeout=10)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s

class Reader:
    def __init__(self, s):
        self.s, self.buf = s, b""
    def more(self):
        b = self.s.recv(65536)
        if not b:
            raise EOFError("connection closed mid-response")
        self.buf += b
    def response(self, head=False):
        while b"\r\n\r\n" not in self.buf:
            self.more()
        hdr, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = hdr.decode().split("\r\n")
        status = int(lines[0].split()[1])
        assert lines[0].startswith("HTTP/1.1 "), lines[0]
        headers = {k.lower(): v.strip() for k, v in (l.split(":", 1) for l in lines[1:])}
        n = 0 if head else int(headers["content-length"])
        while len(self.buf) < n:
            self.more()
        body, self.buf = self.buf[:n], self.buf[n:]
        return status, headers, body
    def eof(self):
        """True if the peer closes with nothing more sent (we have not closed)."""
        while True:
            b = self.s.recv(65536)
            if not b:
                return self.buf == b""
            self.buf += b

def state_of(lport):
    out = subprocess.run(["ss", "-tanH", "state", "all", f"sport = :{lport}"], capture_output=True, text=True).stdout
    return [l.split()[0] for l in out.splitlines() if l.strip()]

# Connection: close (mixed case) -> the server closes first: we see EOF while still open ourselves, our
# socket sits in CLOSE-WAIT, and after our close it goes away without TIME-WAIT.
s = connect()
lport = s.getsockname()[1]
s.sendall(b"GET / HTTP/1.1\r\nHost: 198.18.0.2\r\ncOnNeCtIoN: ClOsE\r\n\r\n")
r = Reader(s)
st, h, body = r.response()
assert st == 200 and body == BODY and h.get("connection", "").lower() == "close", (st, h)
assert r.eof(), "expected EOF after the response"
time.sleep(0.1)
assert state_of(lport) == ["CLOSE-WAIT"], state_of(lport)
s.close()
time.sleep(0.3)
left = state_of(lport)
assert "TIME-WAIT" not in left, left
print(f"ok: Connection: close -> server closed first (kernel CLOSE-WAIT, then {left or 'gone'}, no TIME-WAIT)")

# Pipelined: three requests (GET, HEAD, GET with a small body) in one send, then one more GET.
s = connect()
s.sendall(GET + b"HEAD /h HTTP/1.1\r\nHost: a\r\n\r\n" +
          b"GET /b HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello" + GET)
r = Reader(s)
st, h, body = r.response()
assert st == 200 and body == BODY, (st, h)
st, h, body = r.response(head=True)
assert st == 200 and int(h["content-length"]) == N, (st, h)
for _ in range(2):
    st, h, body = r.response()
    assert st == 200 and body == BODY, (st, h)
s.sendall(b"\r\n" + GET)  # an empty line before a request line is ignored
assert r.response()[2] == BODY
s.close()
print("ok: pipelined GET, HEAD, GET with body, GET in one segment")

# Byte by byte: every byte its own segment.
s = connect()
req = b"GET /slow HTTP/1.1\r\nHost: 198.18.0.2\r\nUser-Agent: one-byte-at-a-time\r\n\r\n"
for i in range(len(req)):
    s.send(req[i:i + 1])
    time.sleep(0.002)
r = Reader(s)
st, h, body = r.response()
assert st == 200 and body == BODY, (st, h)
s.sendall(GET)  # the connection stays usable
assert r.response()[2] == BODY
s.close()
print(f"ok: request split into {len(req)} one-byte segments")

# HTTP/1.0 with keep-alive stays open.
s = connect()
r = Reader(s)
s.sendall(b"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n")
st, h, body = r.response()
assert st == 200 and body == BODY and h.get("connection", "").lower() == "keep-alive", h
s.sendall(GET)
assert r.response()[2] == BODY
s.close()
print("ok: HTTP/1.0 keep-alive")

# Refusals: the status, then the server closes.
def refused(req, want, what):
    global bad
    s = connect()
    s.sendall(req)
    r = Reader(s)
    st, h, body = r.response()
    assert st == want, (what, st, h)
    assert r.eof(), f"{what}: expected EOF after {want}"
    s.close()
    bad += 1
    print(f"ok: {what} -> {st}, then closed")

refused(b"GARBAGE\r\n\r\n", 400, "malformed request line")
refused(b"GET /a b HTTP/1.1\r\nHost: a\r\n\r\n", 400, "space in target")
refused(b"GET / HTTP/1.1\r\n\r\n", 400, "HTTP/1.1 without Host")
refused(b"GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400, "space before colon")
refused(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc", 405, "POST")
refused(b"GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505, "HTTP/2.0 request line")
refused(b"GET / HTTP/1.1\r\nHost: a\r\nX-Big: " + b"x" * 9000 + b"\r\n\r\n", 431, "9 KB header")
refused(b"GET /" + b"y" * 9000 + b" HTTP/1.1\r\n\r\n", 414, "9 KB target")
print(f"bad_requests={bad}")
PY
cat "$tmp/py.out"
bad_expected=$(awk -F= '/^bad_requests=/ {print $2}' "$tmp/py.out")

# Load: wrk over 16 kept-alive connections must see no errors and only 2xx.
in_ns timeout 30 wrk -t1 -c16 -d3s "$url" >"$tmp/wrk.out" 2>&1 || { cat "$tmp/wrk.out"; fail "wrk failed"; }
cat "$tmp/wrk.out"
if grep -q 'Socket errors' "$tmp/wrk.out"; then
  grep -Eq 'Socket errors: connect 0, read 0, write 0, timeout 0' "$tmp/wrk.out" || fail "wrk reports socket errors"
fi
grep -q 'Non-2xx' "$tmp/wrk.out" && fail "wrk saw non-2xx responses"
rps=$(awk '/^Requests\/sec:/ {print $2}' "$tmp/wrk.out")
[[ -n $rps ]] || fail "no Requests/sec from wrk"
awk -v r="$rps" 'BEGIN {exit !(r > 0)}' || fail "wrk made no requests"
echo "ok: wrk -t1 -c16 -d3s: $rps requests/s, no errors"

stop_server
[[ $(counter http.bad_requests) == "$bad_expected" ]] || fail "http.bad_requests $(counter http.bad_requests), want $bad_expected"
[[ $(counter tcp.time_wait_entries) -ge 1 ]] || fail "server-side closes left no TIME-WAIT entry in synack"
echo "ok: run 1 stopped cleanly, http.bad_requests $bad_expected, synack holds the TIME-WAIT of its closes"

# ------------------------------------------------------------------------------------------------
echo "=== run 2: --body-size 10485761"
size=10485761  # 10 MiB + 1: odd, so header and body meet at an odd offset
start_server $size
expected_body $size "$tmp/expected"
for i in 1 2; do
  curl_ns -o "$tmp/big" -w "curl: %{http_code} %{size_download} bytes in %{time_total} s, %{speed_download} B/s\n" "$url"
  [[ $(stat -c %s "$tmp/big") -eq $size ]] || fail "big GET returned $(stat -c %s "$tmp/big") bytes"
  cmp "$tmp/big" "$tmp/expected" || fail "big body differs"
done
# Keep-alive and server-side close with a body much larger than the send buffer.
curl_ns -v "$url" "$url" 2>"$tmp/curlbig.err" | cmp - <(cat "$tmp/expected" "$tmp/expected") ||
  fail "two big GETs on one connection differ"
grep -qi 're-using existing connection' "$tmp/curlbig.err" || fail "two big GETs did not share a connection"
curl_ns -H 'Connection: close' -o "$tmp/big" "$url"
cmp "$tmp/big" "$tmp/expected" || fail "big body with Connection: close differs"
echo "ok: 10 MiB + 1 byte bodies complete (twice alone, twice on one connection, once with Connection: close)"
stop_server
[[ $(counter http.server_closes) -ge 1 ]] || fail "no server-side close counted"
echo PASS
