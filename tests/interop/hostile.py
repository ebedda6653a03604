#!/usr/bin/python3
"""Hostile peers against a Synack app on net_tap; run by hostile.sh inside the test namespace.

Usage: hostile.py --iface TAP --app-pid PID --log LOG --kind echo|http CASE...
(Debian's /usr/bin/python3: it has scapy; root, inside the namespace; CASE names: see CASES below.)

The attacker crafts TCP with scapy and writes it to an AF_PACKET socket on the kernel side of the tap,
from spoofed addresses the kernel does not own (198.18.0.50 and up). It answers Synack's ARP requests
for those addresses itself, with made-up MACs (02:5a:...), so Synack's replies are addressed to MACs
the kernel drops at layer 2: the kernel never sees them and never resets the attacker's connections,
while this script reads them from the same AF_PACKET socket. Bulk sends (the 20,000-segment trickle,
the storms) copy one scapy-built frame and patch sequence numbers and the TCP checksum in place, which
is ~100 times faster than building each frame with scapy. Legitimate clients are the kernel's own TCP
(python sockets, curl, ping) from 198.18.0.1 (and the extra kernel addresses hostile.sh adds).

Each case is one function; it prints one `PASS: name: ...` or `FAIL: name: ...` line (details above
it). Every case also checks that a fresh legitimate client is served during the attack and after it,
and that the app's `pool.frames_in_use` (read by sending SIGUSR1 and parsing the counters the app
prints to its log) returns to its value from before the attack within POOL_TOLERANCE once the
attacker's connections are gone. Exit status: 0 when no case failed (known failures, listed in
KNOWN_FAILURES, are reported but do not fail the run).
"""
import argparse
import errno
import os
import random
import re
import select
import selectors
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from collections import namedtuple

from scapy.layers.inet import IP, TCP
from scapy.layers.l2 import Ether
from scapy.packet import Raw

SERVER = "198.18.0.2"
KERNEL = "198.18.0.1"
# Spoofed attacker addresses: on the tap's subnet, owned by nobody (not the kernel: it would RST).
ATTACKER = ["198.18.0.%d" % i for i in range(50, 58)]
# Extra addresses hostile.sh gives the kernel side for the httpd cases (real kernel sockets).
SLOW_SOURCES = ["198.18.0.10", "198.18.0.11", "198.18.0.12"]        # slowloris attackers
IDLE_SOURCES = ["198.18.0.20", "198.18.0.21", "198.18.0.22", "198.18.0.23"]  # full table: 4 x 16 idle
EXTRA_SOURCE = "198.18.0.24"                                          # full table: 200 more connects

# pool.frames_in_use must come back to within this many mbufs of its value before the attack. It is a
# snapshot taken while the engine runs: frames just received and not yet processed, frames built and
# waiting in the TX outbox or the device, ARP queues, a legitimate client's last segments still held
# for retransmission, and net_tap's RX refill (it replaces descriptors in bursts) move it by a few
# dozen at any instant. A leak of one mbuf per attacker segment (20,000 in the trickle) is far outside.
POOL_TOLERANCE = 64

# Checks that fail because of a known bug in the stack (not in this test): check name -> explanation.
# They still run and print their findings, labelled KNOWN-FAIL, but do not fail their case; the rest of
# the case still must pass. A known failure that passes prints a NOTE asking to remove it from here.
KNOWN_FAILURES = {}

# synack-httpd's default body (--body-size 128): byte i is 'a' + i % 26.
BODY = bytes(ord("a") + i % 26 for i in range(128))

M32 = 0xFFFFFFFF
FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10
ETH_P_ALL = 3
PACKET_OUTGOING = 4
SO_RCVBUFFORCE = 33

Seg = namedtuple("Seg", "t dst dport seq ack flags win plen payload tsval mss wscale")


class CaseFailure(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise CaseFailure(msg)


def log(msg):
    print("  " + msg, flush=True)


def inet_checksum(data):
    if len(data) & 1:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def mac_bytes(mac):
    return bytes(int(x, 16) for x in mac.split(":"))


def mac_str(b):
    return ":".join("%02x" % x for x in b)


class FrameTemplate:
    """A frame scapy built once; copies with seq/ack/flags/window rewritten and the TCP checksum redone."""

    def __init__(self, frame):
        self.base = bytes(frame)
        ihl = (frame[14] & 0x0F) * 4
        self.t = 14 + ihl
        self.tcp_len = struct.unpack_from("!H", frame, 16)[0] - ihl
        self.pseudo = frame[26:34] + struct.pack("!BBH", 0, 6, self.tcp_len)

    def make(self, seq, ack=None, flags=None, window=None):
        b = bytearray(self.base)
        t = self.t
        struct.pack_into("!I", b, t + 4, seq & M32)
        if ack is not None:
            struct.pack_into("!I", b, t + 8, ack & M32)
        if flags is not None:
            b[t + 13] = flags
        if window is not None:
            struct.pack_into("!H", b, t + 14, window)
        b[t + 16] = b[t + 17] = 0
        struct.pack_into("!H", b, t + 16, inet_checksum(self.pseudo + bytes(b[t:t + self.tcp_len])))
        return bytes(b)


class Sub:
    """Segments Synack sent to one (address, port), in arrival order, with a read cursor."""

    def __init__(self):
        self.cond = threading.Condition()
        self.segs = []
        self.pos = 0

    def push(self, seg):
        with self.cond:
            self.segs.append(seg)
            self.cond.notify_all()

    def next(self, timeout):
        with self.cond:
            if not self.cond.wait_for(lambda: self.pos < len(self.segs), timeout):
                return None
            self.pos += 1
            return self.segs[self.pos - 1]

    def wait(self, pred, timeout):
        """The first unread segment matching pred (earlier unread ones are skipped), or None."""
        deadline = time.monotonic() + timeout
        while True:
            s = self.next(max(0.0, deadline - time.monotonic()))
            if s is None:
                return None
            if pred(s):
                return s

    def skip_all(self):
        with self.cond:
            self.pos = len(self.segs)

    def between(self, t0, t1):
        with self.cond:
            return [s for s in self.segs if t0 <= s.t <= t1]

    def last(self):
        with self.cond:
            return self.segs[-1] if self.segs else None


class Wire:
    """The kernel side of the tap at layer 2: sends raw frames, answers ARP for the spoofed attacker
    addresses, and hands every TCP segment Synack sends to whoever subscribed to its destination."""

    def __init__(self, iface):
        self.iface = iface
        self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        try:
            self.sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 32 << 20)
        except OSError:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32 << 20)
        self.sock.bind((iface, ETH_P_ALL))
        self.sock.settimeout(0.2)
        self.server4 = socket.inet_aton(SERVER)
        self.server_mac = None  # bytes, learned from Synack's frames
        self.attackers = {}     # address (4 bytes) -> MAC (bytes)
        self.subs = {}          # (address string, port) -> Sub
        self.lock = threading.Lock()
        self.stop = False
        self.arp_answered = 0
        self.rx_tcp = 0
        self.thread = threading.Thread(target=self._rx, daemon=True)
        self.thread.start()

    def close(self):
        self.stop = True
        self.thread.join(2)

    def send(self, frame):
        while True:
            try:
                self.sock.send(frame)
                return
            except OSError as e:  # the device queue is full: let it drain
                if e.errno not in (errno.ENOBUFS, errno.EAGAIN):
                    raise
                time.sleep(0.0005)

    def attacker_mac(self, addr):
        a4 = socket.inet_aton(addr)
        if a4 not in self.attackers:
            self.attackers[a4] = bytes([0x02, 0x5A, 0, 0, a4[2], a4[3]])
        return mac_str(self.attackers[a4])

    def announce(self, addr, timeout=5.0):
        """ARP request from a spoofed address to Synack: it learns our MAC (the request is for it) and
        its reply tells us its own. Retried until the server's MAC is known."""
        mac = mac_bytes(self.attacker_mac(addr))
        a4 = socket.inet_aton(addr)
        deadline = time.monotonic() + timeout
        while True:
            self.send(b"\xff" * 6 + mac + b"\x08\x06" + struct.pack("!HHBBH", 1, 0x0800, 6, 4, 1) + mac + a4 +
                      b"\0" * 6 + self.server4)
            t = time.monotonic()
            while self.server_mac is None and time.monotonic() < min(t + 0.5, deadline):
                time.sleep(0.01)
            if self.server_mac is not None:
                return
            check(time.monotonic() < deadline, "no ARP reply from %s to %s" % (SERVER, addr))

    def subscribe(self, addr, port):
        with self.lock:
            sub = self.subs.get((addr, port))
            if sub is None:
                sub = self.subs[(addr, port)] = Sub()
            return sub

    def _rx(self):
        while not self.stop:
            try:
                data, sa = self.sock.recvfrom(65535)
            except socket.timeout:
                continue
            except OSError:
                return
            if sa[2] == PACKET_OUTGOING or len(data) < 42:
                continue
            t = time.monotonic()
            et = data[12:14]
            if et == b"\x08\x06":
                self._arp(data)
                continue
            if et != b"\x08\x00" or data[23] != 6 or data[26:30] != self.server4:
                continue
            if self.server_mac is None:
                self.server_mac = data[6:12]
            ihl = (data[14] & 0x0F) * 4
            total = struct.unpack_from("!H", data, 16)[0]
            tcp = data[14 + ihl:14 + total]
            if len(tcp) < 20:
                continue
            sport, dport, seq, ack, off, flags, win = struct.unpack_from("!HHIIBBH", tcp)
            doff = (off >> 4) * 4
            tsval = mss = wscale = None
            i = 20
            while i < doff:
                kind = tcp[i]
                if kind == 0:
                    break
                if kind == 1:
                    i += 1
                    continue
                if i + 1 >= doff or tcp[i + 1] < 2:
                    break
                ln = tcp[i + 1]
                if kind == 2 and ln == 4:
                    mss = struct.unpack_from("!H", tcp, i + 2)[0]
                elif kind == 3 and ln == 3:
                    wscale = tcp[i + 2]
                elif kind == 8 and ln == 10:
                    tsval = struct.unpack_from("!I", tcp, i + 2)[0]
                i += ln
            payload = tcp[doff:]
            self.rx_tcp += 1
            seg = Seg(t, socket.inet_ntoa(data[30:34]), dport, seq, ack, flags, win, len(payload), payload, tsval,
                      mss, wscale)
            sub = self.subs.get((seg.dst, dport))
            if sub is not None:
                sub.push(seg)

    def _arp(self, data):
        if len(data) < 42:
            return
        op = struct.unpack_from("!H", data, 20)[0]
        sha, spa, tpa = data[22:28], data[28:32], data[38:42]
        if spa == self.server4 and self.server_mac is None:
            self.server_mac = sha
        if op != 1 or tpa not in self.attackers:
            return
        mac = self.attackers[tpa]
        self.send(sha + mac + b"\x08\x06" + struct.pack("!HHBBH", 1, 0x0800, 6, 4, 2) + mac + tpa + sha + spa)
        self.arp_answered += 1


class RawConn:
    """One attacker TCP connection, crafted with scapy from a spoofed address."""

    def __init__(self, wire, src, sport, dport, ts=False, mac=None):
        self.w = wire
        self.src, self.sport, self.dport = src, sport, dport
        # Spoofing someone else's tuple (mac given): their address must not be registered for ARP.
        self.mac = mac or wire.attacker_mac(src)
        self.sub = wire.subscribe(src, sport)
        self.iss = random.getrandbits(32)
        self.snd_nxt = self.iss
        self.rcv_nxt = 0
        self.ts = ts
        self.ts_recent = 0
        self.peer_wscale = 0

    def ts_opts(self):
        return [("NOP", None), ("NOP", None), ("Timestamp", (int(time.monotonic() * 1000) & M32, self.ts_recent))]

    def frame(self, flags, seq=None, ack=None, payload=b"", window=65535, options=None):
        seq = self.snd_nxt if seq is None else seq
        ack = self.rcv_nxt if ack is None else ack
        if options is None:
            options = self.ts_opts() if self.ts else []
        p = (Ether(src=self.mac, dst=mac_str(self.w.server_mac)) / IP(src=self.src, dst=SERVER, ttl=64) /
             TCP(sport=self.sport, dport=self.dport, seq=seq & M32, ack=ack & M32, flags=flags, window=window,
                 options=options))
        if payload:
            p = p / Raw(payload)
        return bytes(p)

    def send(self, flags, **kw):
        self.w.send(self.frame(flags, **kw))

    def handshake(self, mss=None, window=65535, ack_window=None, timeout=5.0):
        opts = []
        if mss is not None:
            opts.append(("MSS", mss))
        if self.ts:
            opts += self.ts_opts()
        syn = self.frame("S", seq=self.iss, ack=0, window=window, options=opts)
        deadline = time.monotonic() + timeout
        synack = None
        while synack is None and time.monotonic() < deadline:
            self.w.send(syn)
            synack = self.sub.wait(lambda s: s.flags & (SYN | ACK) == SYN | ACK and s.ack == (self.iss + 1) & M32, 1.0)
        check(synack is not None, "no SYN-ACK from %s:%d to %s:%d" % (SERVER, self.dport, self.src, self.sport))
        self.rcv_nxt = (synack.seq + 1) & M32
        self.snd_nxt = (self.iss + 1) & M32
        self.ts_recent = synack.tsval or 0
        self.peer_wscale = synack.wscale or 0
        self.send("A", window=window if ack_window is None else ack_window)
        return synack

    def reset(self):
        self.send("R", ack=0, options=[])


class App:
    """The Synack app under attack: its counters come from SIGUSR1 (printed to its log)."""

    HEADER = "counters (SIGUSR1):"

    def __init__(self, pid, log_path):
        self.pid = pid
        self.log_path = log_path

    def _read(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def counters(self, timeout=5.0):
        before = self._read().count(self.HEADER)
        os.kill(self.pid, signal.SIGUSR1)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self._read()
            if text.count(self.HEADER) > before:
                block = text[text.rindex(self.HEADER):]
                if "pool.frames_in_use" in block:
                    time.sleep(0.02)  # the block is one write; give a straggling line a moment anyway
                    block = self._read()
                    block = block[block.rindex(self.HEADER):]
                    out = {}
                    for line in block.splitlines()[1:]:
                        m = re.match(r"^  (\S+) (\d+)$", line)
                        if not m:
                            break
                        out[m.group(1)] = int(m.group(2))
                    return out
            time.sleep(0.02)
        raise CaseFailure("the app printed no counters within %.0f s of SIGUSR1" % timeout)

    def pool(self):
        return self.counters()["pool.frames_in_use"]


class Env:
    def __init__(self, wire, app, kind):
        self.wire, self.app, self.kind = wire, app, kind
        self.known_hits = []  # (check, text) of known failures seen

    def known_checks(self, case, names, problems):
        """Fails the case on `problems` (texts; "name:text" for a named check), except those named in
        KNOWN_FAILURES, which are recorded and printed as KNOWN-FAIL. Notes known failures that passed."""
        real = []
        failed_names = set()
        for p in problems:
            name, _, text = p.partition(":") if p.split(":", 1)[0] in names else ("", "", p)
            key = "%s/%s" % (case, name)
            if name and key in KNOWN_FAILURES:
                failed_names.add(name)
                self.known_hits.append((key, text))
                print("KNOWN-FAIL: %s: %s [%s]" % (key, text, KNOWN_FAILURES[key]), flush=True)
            else:
                real.append(text if name else p)
        for name in names:
            key = "%s/%s" % (case, name)
            if key in KNOWN_FAILURES and name not in failed_names:
                print("NOTE: %s is listed in KNOWN_FAILURES but passed: remove it from the list" % key, flush=True)
        check(not real, "; ".join(real))

    # --- legitimate clients (the kernel's own TCP) --------------------------------------------------
    def ping(self, what):
        r = subprocess.run(["timeout", "15", "ping", "-n", "-q", "-c", "3", "-i", "0.2", "-W", "2", SERVER],
                           capture_output=True, text=True)
        m = re.search(r"(\d+) received", r.stdout)
        check(m and int(m.group(1)) >= 1, "%s: ping got no reply: %s" % (what, r.stdout.strip()[-200:]))

    def echo_client(self, what, src=None, timeout=5.0):
        msg = ("legit %s %08x" % (what, random.getrandbits(32))).encode()
        try:
            s = socket.create_connection((SERVER, 7), timeout=timeout, source_address=(src, 0) if src else None)
            s.sendall(msg)
            got = b""
            while len(got) < len(msg):
                b = s.recv(4096)
                if not b:
                    break
                got += b
            s.close()
        except OSError as e:
            raise CaseFailure("%s: a fresh echo client failed: %r" % (what, e))
        check(got == msg, "%s: echo returned %r, want %r" % (what, got, msg))

    def curl(self, what, src=KERNEL):
        r = subprocess.run(["timeout", "15", "curl", "--noproxy", "*", "-sS", "--max-time", "8", "--interface", src,
                            "-o", "/dev/null", "-w", "%{http_code} %{size_download}", "http://%s/" % SERVER],
                           capture_output=True, text=True)
        check(r.returncode == 0 and r.stdout == "200 128",
              "%s: curl from %s: rc=%d out=%r err=%r" % (what, src, r.returncode, r.stdout, r.stderr.strip()))

    def alive(self, what):
        """A fresh legitimate client is served and ping answers."""
        self.ping(what)
        if self.kind == "echo":
            self.echo_client(what)
        else:
            self.curl(what)

    # --- the pool --------------------------------------------------------------------------------
    def pool_back(self, base, timeout=15.0):
        """Waits for pool.frames_in_use to return to within POOL_TOLERANCE of `base`; returns it."""
        deadline = time.monotonic() + timeout
        while True:
            c = self.app.counters()
            v = c["pool.frames_in_use"]
            if abs(v - base) <= POOL_TOLERANCE:
                return v
            if time.monotonic() > deadline:
                raise CaseFailure("pool.frames_in_use %d did not return to %d +/- %d within %.0f s (connections %d)" %
                                  (v, base, POOL_TOLERANCE, timeout, c.get("tcp.connections", 0)))
            time.sleep(0.5)


def settle(env, want_conns=0, timeout=10.0):
    """Waits until the app holds at most `want_conns` connections (earlier clients fully closed); returns
    its counters."""
    deadline = time.monotonic() + timeout
    while True:
        c = env.app.counters()
        if c.get("tcp.connections", 0) <= want_conns or time.monotonic() > deadline:
            return c
        time.sleep(0.3)


class Sampler:
    """Samples pool.frames_in_use with SIGUSR1 every `period` seconds in a thread; keeps the peak."""

    def __init__(self, app, period=0.3):
        self.app, self.period = app, period
        self.samples = []
        self.stop = threading.Event()
        self.error = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stop.is_set():
            try:
                self.samples.append(self.app.pool())
            except Exception as e:  # noqa: BLE001 - reported by the case
                self.error = e
                return
            self.stop.wait(self.period)

    def finish(self):
        self.stop.set()
        self.thread.join(10)
        if self.error:
            raise CaseFailure("sampling the pool: %s" % self.error)
        return max(self.samples) if self.samples else None


class During:
    """Runs env.alive (ping + a fresh legitimate client) in a thread `delay` seconds from now, i.e. while
    the main thread is still attacking; result() re-raises its failure."""

    def __init__(self, env, what, delay):
        self.error = None
        self.done = False
        self.thread = threading.Thread(target=self._run, args=(env, what, delay), daemon=True)
        self.thread.start()

    def _run(self, env, what, delay):
        time.sleep(delay)
        try:
            env.alive(what)
        except Exception as e:  # noqa: BLE001 - re-raised by result()
            self.error = e
        self.done = True

    def result(self):
        self.thread.join(30)
        check(self.done, "the check during the attack did not finish")
        if self.error:
            raise self.error


# ================================================================================================
# 1. Tiny MSS.

def case_tiny_mss(env):
    """SYNs announcing MSS 0, 12 (with timestamps, so the option overhead exceeds it) and 1: the echo of a
    1,000-byte segment must come back in segments of at least 48 payload bytes (the engine clamps the
    effective send MSS to [48, 1460]) and the engine must stay responsive."""
    base = settle(env)["pool.frames_in_use"]
    summary = []
    for i, (mss, ts) in enumerate([(0, False), (12, True), (1, False)]):
        name = "MSS %d%s" % (mss, " + timestamps" if ts else "")
        c = RawConn(env.wire, ATTACKER[0], 41000 + i, 7, ts=ts)
        c.handshake(mss=mss)
        try:
            sizes = tiny_mss_echo(env, c, name, i)
        finally:
            c.reset()
        summary.append("%s -> %d segments of %d..%d bytes" % (name, len(sizes), min(sizes), max(sizes)))
    env.alive("after")
    v = env.pool_back(base)
    return "; ".join(summary) + "; pool %d -> %d" % (base, v)


def tiny_mss_echo(env, c, name, i):
    """One 1,000-byte segment to the echo server on connection `c`; checks the echo's segment sizes while
    the connection is open and the engine's liveness; returns the payload sizes."""
    data = bytes((i * 31 + k) % 251 for k in range(1000))
    c.send("PA", payload=data)
    c.snd_nxt = (c.snd_nxt + len(data)) & M32
    echoed = bytearray()
    sizes, pure, total = [], 0, 0
    deadline = time.monotonic() + 8
    while len(echoed) < len(data) and time.monotonic() < deadline:
        s = c.sub.next(0.5)
        if s is None:
            continue
        total += 1
        check(total <= 400, "%s: more than 400 segments for a 1,000-byte echo (empty-segment storm)" % name)
        check(not s.flags & RST, "%s: reset by the server after %d echoed bytes" % (name, len(echoed)))
        if s.plen == 0:
            pure += 1
            continue
        sizes.append(s.plen)
        if s.seq == c.rcv_nxt:
            echoed += s.payload
            c.rcv_nxt = (c.rcv_nxt + s.plen) & M32
        if c.ts and s.tsval is not None:
            c.ts_recent = s.tsval
        c.send("A")
    log("%s: %d data segments, payload sizes %s, %d segments without data" %
        (name, len(sizes), sorted(set(sizes)), pure))
    if bytes(echoed) != data:
        wedged = subprocess.run(["timeout", "5", "ping", "-n", "-q", "-c", "1", "-W", "2", SERVER],
                                capture_output=True).returncode != 0
        raise CaseFailure("%s: echoed %d of %d bytes%s%s" % (
            name, len(echoed), len(data), "" if bytes(echoed) == data[:len(echoed)] else " (corrupt)",
            "; the engine no longer answers ping (wedged)" if wedged else ""))
    small = [n for n in sizes[:-1] if n < 48]
    check(not small, "%s: segments below the 48-byte floor: %s" % (name, small))
    check(max(sizes) <= 1460, "%s: a segment larger than 1460 bytes" % name)
    env.alive("%s, connection open" % name)  # during the attack
    return sizes


# ================================================================================================
# 2. Zero-window trickle.

def case_zero_window(env):
    """An echo client that never reads: window 0 in every ACK, 20,000 one-byte segments in order. The
    memory Synack pins for it must stay bounded (each segment pins a whole mbuf unless coalesced)."""
    base = settle(env)["pool.frames_in_use"]
    n = 20000
    c = RawConn(env.wire, ATTACKER[1], 42000, 7)
    c.handshake(mss=1460, ack_window=0)
    try:
        detail = zero_window_attack(env, c, n, base)
    finally:
        # The attacker goes away (also when a check failed): RST at exactly the server's RCV.NXT.
        last = c.sub.last()
        c.send("R", seq=last.ack if last is not None and last.flags & ACK else c.snd_nxt, ack=0, options=[])
    detail_ooo, problems = zero_window_out_of_order(env, base)
    env.known_checks("zero_window", ["ooo_hole"], problems)
    return detail + "; " + detail_ooo


def zero_window_out_of_order(env, base, n=3000):
    """The same trickle with its first byte missing: 3,000 one-byte segments out of order, then the one
    that fills the hole. The receiver may drop out-of-order data when short of memory, but must then
    accept the in-order segment (Linux prunes its out-of-order queue for it): otherwise a peer whose small
    segments see one loss stalls for good. Returns (detail, problems)."""
    c = RawConn(env.wire, ATTACKER[2], 42100, 7)
    c.handshake(mss=1460, ack_window=0)
    problems = []
    try:
        start = c.snd_nxt
        tmpl = FrameTemplate(c.frame("PA", payload=b"z", window=0))
        for k in range(1, n + 1):
            env.wire.send(tmpl.make(start + k))
            if k % 32 == 0:
                time.sleep(0.001)  # no tap-queue drops
        time.sleep(0.5)
        held = env.app.counters()
        acked = 0
        for _ in range(3):
            env.wire.send(tmpl.make(start))  # the missing first byte
            time.sleep(0.3)
            acked = (c.sub.last().ack - start) & M32
            if acked:
                break
        after = env.app.counters()
        log("out of order: %d one-byte segments after a hole pinned %d mbufs (rcv_mem_dropped +%d); the segment "
            "filling the hole (sent up to 3 times) moved the server's ACK by %d bytes (rcv_mem_dropped +%d)" %
            (n, held["pool.frames_in_use"] - base, held.get("tcp.rcv_mem_dropped", 0),
             acked, after.get("tcp.rcv_mem_dropped", 0) - held.get("tcp.rcv_mem_dropped", 0)))
        if acked == 0:
            problems.append("ooo_hole:the in-order segment filling the hole was refused (rcv_mem_dropped) while "
                            "%d out-of-order one-byte segments held the receive budget (%d mbufs): the connection "
                            "can never progress" % (n, held["pool.frames_in_use"] - base))
        env.alive("out-of-order attacker connection open")
    finally:
        last = c.sub.last()
        c.send("R", seq=last.ack if last is not None and last.flags & ACK else c.snd_nxt, ack=0, options=[])
    v = env.pool_back(base)
    return ("out of order: %d pinned %d mbufs, hole filled -> ACK +%d, pool after RST %d" %
            (n, held["pool.frames_in_use"] - base, acked, v)), problems


def zero_window_attack(env, c, n, base):
    tmpl = FrameTemplate(c.frame("PA", payload=b"z", window=0))
    t0 = time.monotonic()
    start = c.snd_nxt
    frames = [tmpl.make(start + k) for k in range(n)]
    built = time.monotonic() - t0
    dropped = "/sys/class/net/%s/statistics/tx_dropped" % env.wire.iface

    def tx_dropped():
        with open(dropped) as f:
            return int(f.read())

    def taken():  # bytes the server acknowledged so far (its latest ACK; the tap does not reorder)
        last = c.sub.last()
        return (last.ack - start) & M32 if last is not None and last.flags & ACK else 0

    # In order, as fast as the server takes them: at most `flight` segments beyond its latest ACK, so the
    # kernel's queue towards the tap (txqueuelen 1000) never overflows and no segment arrives out of
    # order. Once the server stops taking bytes (its buffers are full: it drops or refuses what comes
    # next) the rest goes out paced at the tap's speed without waiting. Bounded: 30 s.
    sampler = Sampler(env.app)
    flight, k, paced, last_acked = 256, 0, False, 0
    d0 = tx_dropped()
    t0 = last_progress = time.monotonic()
    while k < n and time.monotonic() - t0 < 30:
        now, acked = time.monotonic(), taken()
        if acked != last_acked:
            last_acked, last_progress = acked, now
        if not paced and k - acked >= flight:
            paced = now - last_progress > 0.2  # no progress for 200 ms: the server takes nothing more
            if not paced:
                time.sleep(0.0005)
                continue
        for f in frames[k:k + 32]:
            env.wire.send(f)
        k += 32
        if paced:
            time.sleep(0.001)
    send_time = time.monotonic() - t0
    check(k >= n, "sent only %d of %d segments in 30 s" % (k, n))
    time.sleep(0.7)  # Synack drains its RX queue; the sampler keeps sampling
    acks = [x for x in c.sub.between(t0, time.monotonic()) if x.flags & ACK]
    data_out = [x for x in c.sub.between(0, time.monotonic()) if x.plen > 0]
    check(acks, "no ACK from the server during the trickle")
    accepted = taken()
    held = env.app.counters()
    peak = sampler.finish()
    peak = max(peak or 0, held["pool.frames_in_use"])
    log("built %d frames in %.2f s; sent %d in %.2f s (%d dropped by the tap queue); the server took %d bytes, "
        "answered %d ACKs; %d data segments (window probes) sent to the closed window" %
        (n, built, n, send_time, tx_dropped() - d0, accepted, len(acks), len(data_out)))
    log("pool.frames_in_use: baseline %d, peak %d (+%d), while held %d; tcp: rx_coalesced %d tx_coalesced %d "
        "rcv_mem_dropped %d unacceptable %d out_of_order_dropped %d" %
        (base, peak, peak - base, held["pool.frames_in_use"], held.get("tcp.rx_coalesced", 0),
         held.get("tcp.tx_coalesced", 0), held.get("tcp.rcv_mem_dropped", 0), held.get("tcp.unacceptable", 0),
         held.get("tcp.out_of_order_dropped", 0)))
    # During the attack: the attacker's connection is still open with everything it pinned.
    env.alive("attacker connection open")
    # Bounded: the per-connection receive and send budgets (counted in mbuf truesize, small payloads
    # coalesced) hold well under 64 mbufs for this connection, plus POOL_TOLERANCE for in-flight frames.
    # Without coalescing or truesize accounting every one-byte segment pins an mbuf until the pool is gone.
    check(peak - base <= 64 + POOL_TOLERANCE, "the trickle pinned %d mbufs (peak %d, baseline %d), more than the "
          "64 + %d allowed: each small segment seems to hold its own mbuf" % (peak - base, peak, base, POOL_TOLERANCE))
    # The attacker's RST (case_zero_window's finally) must give everything back.
    last = c.sub.last()
    c.send("R", seq=last.ack, ack=0, options=[])
    deadline = time.monotonic() + 5
    while env.app.counters().get("tcp.connections", 0) > 0 and time.monotonic() < deadline:
        time.sleep(0.2)
    env.alive("after")
    v = env.pool_back(base)
    return "%d one-byte segments in %.1f s, %d bytes taken; pool baseline %d, peak %d (+%d), after RST %d" % (
        n, send_time, accepted, base, peak, peak - base, v)


# ================================================================================================
# 5. RST and ACK storms on a legitimate connection.

def kernel_connection(wire, what):
    """A kernel (python socket) connection to synack-echo whose segments from Synack we watch. Returns
    (socket, sub, state) with state: Synack's RCV.NXT, SND.NXT and receive window for this tuple."""
    s = socket.socket()
    s.bind((KERNEL, 0))
    lport = s.getsockname()[1]
    sub = wire.subscribe(KERNEL, lport)
    s.settimeout(5)
    s.connect((SERVER, 7))
    msg = ("%s %08x" % (what, random.getrandbits(32))).encode()
    s.sendall(msg)
    got = b""
    while len(got) < len(msg):
        b = s.recv(4096)
        check(b, "%s: the server closed the connection" % what)
        got += b
    check(got == msg, "%s: echo differs" % what)
    time.sleep(0.3)
    return s, sub, lport


def tuple_state(sub):
    synack = next((x for x in sub.segs if x.flags & SYN), None)
    wscale = synack.wscale or 0 if synack else 0
    last = sub.last()
    return {"rcv_nxt": last.ack, "snd_nxt": (last.seq + last.plen) & M32, "wnd": last.win << wscale}


def count_acks(sub, t0, t1):
    return len([x for x in sub.between(t0, t1) if x.plen == 0 and x.flags & (ACK | RST | SYN | FIN) == ACK])


def spray(wire, frames, duration):
    """Sends `frames` spread evenly over `duration` seconds; returns (start, end)."""
    t0 = time.monotonic()
    for i, f in enumerate(frames):
        target = t0 + duration * i / len(frames)
        delay = target - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        wire.send(f)
    end = t0 + duration
    if time.monotonic() < end:
        time.sleep(end - time.monotonic())
    return t0, time.monotonic()


def case_rst_ack_storm(env):
    """Spoofed RSTs and ACKs with a live connection's exact 4-tuple: it must survive (RFC 5961: only an
    RST at exactly RCV.NXT resets) and the challenge ACKs it provokes must be limited per connection
    (one per 500 ms)."""
    base = settle(env)["pool.frames_in_use"]
    w = env.wire
    s, sub, lport = kernel_connection(w, "storm victim")
    st = tuple_state(sub)
    log("legit connection %s:%d -> %s:7; synack RCV.NXT %d, SND.NXT %d, window %d" %
        (KERNEL, lport, SERVER, st["rcv_nxt"], st["snd_nxt"], st["wnd"]))
    spoof = RawConn(w, KERNEL, lport, 7, mac=w.attacker_mac(ATTACKER[7]))  # the source MAC does not matter to TCP
    wnd = max(2, min(st["wnd"], 1 << 16))
    rnd = random.Random(5961)

    def in_window():
        return (st["rcv_nxt"] + rnd.randint(1, wnd - 1)) & M32

    def out_of_window():
        while True:
            x = rnd.getrandbits(32)
            if ((x - st["rcv_nxt"]) & M32) >= st["wnd"] + 1:
                return x

    rst = FrameTemplate(spoof.frame("R", seq=0, ack=0, window=0, options=[]))
    ack = FrameTemplate(spoof.frame("A", seq=0, ack=0, window=502, options=[]))
    duration, per_phase = 2.0, 1000
    phases = [
        ("in-window RSTs (seq != RCV.NXT)", [rst.make(in_window()) for _ in range(per_phase)], True),
        ("in-window ACKs acking unsent data (too new)",
         [ack.make(in_window(), ack=st["snd_nxt"] + rnd.randint(1 << 20, 1 << 30)) for _ in range(per_phase)], True),
        ("in-window ACKs acking data long gone (too old)",
         [ack.make(in_window(), ack=st["snd_nxt"] - rnd.randint(1 << 29, 1 << 30)) for _ in range(per_phase)], True),
        ("out-of-window RSTs (random seq)", [rst.make(out_of_window()) for _ in range(per_phase)], None),
        ("out-of-window ACKs (random seq and ack)",
         [ack.make(out_of_window(), ack=rnd.getrandbits(32)) for _ in range(per_phase)], False),
    ]
    c0 = env.app.counters()
    sampler = Sampler(env.app, 0.5)
    limit = int(duration / 0.5) + 2
    problems, results = [], []
    for i, (name, frames, challenged) in enumerate(phases):
        during = During(env, "during the storm: " + name, duration / 2) if i in (0, len(phases) - 1) else None
        t0, t1 = spray(w, frames, duration)
        if during:
            during.result()
        time.sleep(0.3)
        n = count_acks(sub, t0, t1 + 0.25)
        results.append((name, n))
        log("%-48s %d spoofed in %.1f s -> %d ACKs from synack (%.1f/s)" %
            (name, len(frames), t1 - t0, n, n / (t1 - t0)))
        if challenged is True and not 1 <= n <= limit:
            problems.append("%s: %d challenge ACKs in %.1f s, want 1..%d (one per 500 ms)" % (name, n, t1 - t0, limit))
        if challenged is None and n > limit:
            problems.append("%s: %d ACKs in %.1f s; out-of-window RSTs must be dropped silently" % (name, n, t1 - t0))
        if challenged is False and n > limit:
            problems.append("oow_ack_ratelimit:%s: %d duplicate ACKs for %d spoofed out-of-window segments in %.1f s "
                            "(one per segment, "
                            "not rate-limited; Linux sends at most one per 500 ms per connection: "
                            "tcp_invalid_ratelimit)" % (name, n, len(frames), t1 - t0))
    peak = sampler.finish()
    c1 = env.app.counters()
    log("server counters during the storms: challenge_acks +%d, challenge_acks_conn_limited +%d, "
        "challenge_acks_suppressed +%d, resets_in +%d, unacceptable +%d, ack_too_new +%d, ack_too_old +%d" %
        tuple(c1.get("tcp." + k, 0) - c0.get("tcp." + k, 0) for k in
              ("challenge_acks", "challenge_acks_conn_limited", "challenge_acks_suppressed", "resets_in",
               "unacceptable", "ack_too_new", "ack_too_old")))
    # The connection survived and still echoes.
    msg = b"still here after the storm"
    try:
        s.sendall(msg)
        got = b""
        while len(got) < len(msg):
            b = s.recv(4096)
            check(b, "the legit connection was closed by the storm")
            got += b
    except OSError as e:
        raise CaseFailure("the legit connection did not survive the storm: %r" % e)
    check(got == msg, "the legit connection echoed %r after the storm" % got)
    env.alive("after the storm")
    s.close()
    v = env.pool_back(base)
    env.known_checks("rst_ack_storm", ["oow_ack_ratelimit"], problems)
    return "connection survived %d spoofed segments; ACKs from synack per %.0f s phase: %s; pool baseline %d, " \
           "peak %d, after %d" % (per_phase * len(phases), duration,
                                  ", ".join("%s %d" % (n.split(" (")[0], k) for n, k in results), base, peak, v)


# ================================================================================================
# 6. Challenge-ACK side channel (CVE-2016-5696).

def side_channel_probe(env, w, att):
    """Both runs of the side-channel case on the attacker's connection `att`; returns (duration, results,
    victim_seen): the attacker's challenge-ACK counts and the victim tuple's, per run."""
    own = FrameTemplate(att.frame("R", seq=0, ack=0, window=0, options=[]))
    rnd = random.Random(20165696)
    duration = 3.0
    results = {}
    victim_seen = {}
    for run in ("victim present", "victim absent"):
        s, sub, lport = kernel_connection(w, "side-channel victim")
        st = tuple_state(sub)
        if run == "victim absent":
            held = env.app.counters().get("tcp.connections", 0)
            s.close()  # the kernel closes first: synack's side is gone after its FIN is acked
            deadline = time.monotonic() + 5
            while env.app.counters().get("tcp.connections", 0) >= held and time.monotonic() < deadline:
                time.sleep(0.2)
            check(env.app.counters().get("tcp.connections", 0) < held, "the victim's connection did not close")
        spoof = RawConn(w, KERNEL, lport, 7, mac=w.attacker_mac(ATTACKER[4]))
        vt = FrameTemplate(spoof.frame("R", seq=0, ack=0, window=0, options=[]))
        # Per 10 ms: 2 RSTs in our own window (each would earn a challenge ACK without the limits) and 10
        # in-window RSTs at the victim; 300 rounds = 600 own + 3000 victim frames over 3 s.
        frames = []
        for _ in range(int(duration * 100)):
            for _ in range(2):
                frames.append(own.make(att.snd_nxt + rnd.randint(1, 1000)))
            for _ in range(10):
                frames.append(vt.make(st["rcv_nxt"] + rnd.randint(1, 60000)))
        during = During(env, "during the side-channel probe (%s)" % run, duration / 2)
        t0, t1 = spray(w, frames, duration)
        during.result()
        time.sleep(0.3)
        got = [x for x in att.sub.between(t0, t1 + 0.25) if x.plen == 0 and x.flags & (ACK | RST) == ACK]
        per_second = [len([x for x in got if t0 + k <= x.t < t0 + k + 1]) for k in range(int(duration))]
        results[run] = len(got)
        victim_seen[run] = count_acks(sub, t0, t1 + 0.25)
        log("%-15s attacker saw %d challenge ACKs on its own connection in %.1f s (per second %s); the victim "
            "tuple got %d" % (run, len(got), t1 - t0, per_second, victim_seen[run]))
        if run == "victim present":
            # The victim connection survived the spoofed RSTs.
            try:
                s.sendall(b"victim ok")
                check(s.recv(100) == b"victim ok", "the victim stopped echoing")
            except OSError as e:
                raise CaseFailure("the victim connection did not survive: %r" % e)
            s.close()
    return duration, results, victim_seen


def case_side_channel(env):
    """The off-path attacker of CVE-2016-5696: it provokes challenge ACKs on its own connection while
    spoofing in-window RSTs at a victim's 4-tuple, and counts the challenge ACKs it gets back. With a
    shared global budget the victim's challenge ACKs would eat into the attacker's and reveal that the
    victim exists; with per-connection limits the attacker sees the same count either way."""
    base = settle(env)["pool.frames_in_use"]
    w = env.wire
    att = RawConn(w, ATTACKER[3], 43000, 7)
    att.handshake(mss=1460)
    try:
        duration, results, victim_seen = side_channel_probe(env, w, att)
    finally:
        att.reset()
    env.alive("after")
    v = env.pool_back(base)
    a, b = results["victim present"], results["victim absent"]
    limit = int(duration / 0.5) + 2
    check(victim_seen["victim present"] >= 1, "the spoofed RSTs provoked no challenge ACK at the victim: the "
          "attack did not reach it, so the comparison means nothing")
    check(1 <= a <= limit and 1 <= b <= limit, "challenge ACKs on the attacker's connection not limited to one per "
          "500 ms: %d and %d in %.0f s" % (a, b, duration))
    check(abs(a - b) <= 2, "the attacker's challenge-ACK count reveals the victim: %d with it, %d without" % (a, b))
    return "attacker's challenge ACKs in %.0f s: %d with the victim, %d without (victim got %d); pool %d -> %d" % (
        duration, a, b, victim_seen["victim present"], base, v)


# ================================================================================================
# 3. Slowloris against synack-httpd (--max-connections 64 --header-timeout 3 --idle-timeout 5).

def case_slowloris(env):
    """120 connections from three attacker addresses (kernel sockets bound to them), each sending a
    request head one byte a second and reconnecting when reset, for 9 s. A curl from another address
    must be served during the attack (the per-source cap keeps the table from filling) and after; the
    attackers the server accepted must be reset (RST) about 3 s after they connected."""
    base = settle(env)["pool.frames_in_use"]
    per_source, duration = 40, 9.0
    head = b"GET / HTTP/1.1\r\nHost: slow\r\nX-Slowloris: " + b"a" * 64  # never ends with an empty line
    sel = selectors.DefaultSelector()

    class Slot:
        def __init__(self, src):
            self.src, self.sock, self.state = src, None, "idle"
            self.next_try, self.t_start, self.t_conn, self.sent, self.next_byte = 0.0, 0.0, 0.0, 0, 0.0

    slots = [Slot(src) for src in SLOW_SOURCES for _ in range(per_source)]
    lifetimes = []  # (lifetime, how) of connections that ended: how = rst | eof
    stats = {"connects": 0, "connect_timeouts": 0, "reset_while_connecting": 0, "other_errors": {}}
    curl_results = []

    def curls():
        for at in (2.0, 5.0, 7.5):
            delay = t_begin + at - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            t = time.monotonic()
            try:
                env.curl("during slowloris at %.0f s" % at)
                curl_results.append((at, True, time.monotonic() - t, ""))
            except CaseFailure as e:
                curl_results.append((at, False, time.monotonic() - t, str(e)))

    def end(slot, how, now):
        if slot.state == "open":
            lifetimes.append((now - slot.t_conn, how))
        try:
            sel.unregister(slot.sock)
        except (KeyError, ValueError):
            pass
        slot.sock.close()
        slot.sock, slot.state, slot.next_try = None, "idle", now + 0.3

    sampler = Sampler(env.app, 0.5)
    t_begin = time.monotonic()
    curl_thread = threading.Thread(target=curls, daemon=True)
    curl_thread.start()
    while True:
        now = time.monotonic()
        if now - t_begin >= duration:
            break
        for sl in slots:
            if sl.state == "idle" and now >= sl.next_try:
                s = socket.socket()
                s.setblocking(False)
                s.bind((sl.src, 0))
                rc = s.connect_ex((SERVER, 80))
                if rc not in (0, errno.EINPROGRESS):
                    s.close()
                    sl.next_try = now + 0.5
                    continue
                sl.sock, sl.state, sl.t_start = s, "connecting", now
                sel.register(s, selectors.EVENT_WRITE, sl)
                stats["connects"] += 1
            elif sl.state == "connecting" and now - sl.t_start > 3.0:
                stats["connect_timeouts"] += 1
                end(sl, "timeout", now)
            elif sl.state == "open" and now >= sl.next_byte:
                try:
                    sl.sock.send(head[sl.sent % len(head):sl.sent % len(head) + 1])
                    sl.sent += 1
                    sl.next_byte = now + 1.0
                except OSError as e:
                    end(sl, "rst" if e.errno in (errno.ECONNRESET, errno.EPIPE) else "error", now)
        for key, mask in sel.select(0.02):
            sl = key.data
            now = time.monotonic()
            if sl.state == "connecting":
                err = sl.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if err:
                    # ECONNRESET: the server accepted and reset before we looked (over the per-source cap).
                    if err == errno.ECONNRESET:
                        stats["reset_while_connecting"] += 1
                    else:
                        name = errno.errorcode.get(err, str(err))
                        stats["other_errors"][name] = stats["other_errors"].get(name, 0) + 1
                    end(sl, "refused", now)
                    continue
                sl.state, sl.t_conn, sl.next_byte = "open", now, now
                sel.modify(sl.sock, selectors.EVENT_READ, sl)
            elif sl.state == "open":
                try:
                    b = sl.sock.recv(4096)
                    if not b:
                        end(sl, "eof", now)
                    # (data would be a response to a head that never completes: ignored)
                except ConnectionResetError:
                    end(sl, "rst", now)
                except OSError:
                    end(sl, "error", now)
    now = time.monotonic()
    still_open = [now - sl.t_conn for sl in slots if sl.state == "open"]
    for sl in slots:
        if sl.sock is not None:
            try:
                sel.unregister(sl.sock)
            except (KeyError, ValueError):
                pass
            sl.sock.close()
    curl_thread.join(20)
    peak = sampler.finish()
    rsts = [lt for lt, how in lifetimes if how == "rst"]
    capped = [lt for lt in rsts if lt < 1.0]           # over the per-source cap: RST at accept
    timed_out = [lt for lt in rsts if 2.5 <= lt <= 4.5]  # --header-timeout 3
    odd = [(round(lt, 2), how) for lt, how in lifetimes if not (lt < 1.0 or 2.5 <= lt <= 4.5) or how != "rst"]
    log("attack: %d connects from %d sockets on %s in %.0f s; %d reset before the connect was seen (per-source "
        "cap), %d connect timeouts (table full), other errors %s" %
        (stats["connects"], len(slots), ",".join(SLOW_SOURCES), duration, stats["reset_while_connecting"],
         stats["connect_timeouts"], stats["other_errors"]))
    log("ended by RST: %d (%d within 1 s: over the per-source cap; %d after 2.5..4.5 s: header timeout, "
        "lifetimes %.2f..%.2f s); other endings: %s; open at the end: %d (oldest %.1f s)" %
        (len(rsts), len(capped), len(timed_out), min(timed_out or [0]), max(timed_out or [0]), odd[:10],
         len(still_open), max(still_open or [0])))
    for at, ok, took, err in curl_results:
        log("curl during the attack at %.1f s: %s in %.2f s %s" % (at, "ok" if ok else "FAILED", took, err))
    check(len(curl_results) == 3, "the curls during the attack did not finish")
    check(all(ok for _, ok, _, _ in curl_results), "a legitimate curl failed during the slowloris attack")
    check(len(timed_out) >= 30, "only %d attacker connections were reset by the header timeout (want >= 30)" %
          len(timed_out))
    check(not odd, "attacker connections ended otherwise than by RST at accept or at ~3 s: %s" % odd[:10])
    check(max(still_open or [0]) <= 4.5, "an attacker connection was still open after %.1f s" % max(still_open))
    env.alive("after slowloris")
    v = env.pool_back(base)
    check(not stats["other_errors"], "attacker connects failed unexpectedly: %s" % stats["other_errors"])
    return "%d attacker connects; %d RST at ~3 s (%.2f..%.2f s), %d RST at accept (per-source cap); 3/3 curls " \
           "during the attack ok; pool baseline %d, peak %d, after %d" % (
               stats["connects"], len(timed_out), min(timed_out), max(timed_out),
               len(capped) + stats["reset_while_connecting"], base, peak, v)


# ================================================================================================
# 4. Full table against synack-httpd (--max-connections 64 --syn-cookies always).

def http_get(s, timeout):
    """One GET on a connected socket; True if a complete 200 with the 128-byte body came back."""
    s.settimeout(timeout)
    s.sendall(b"GET / HTTP/1.1\r\nHost: full\r\nConnection: close\r\n\r\n")
    buf = b""
    while True:
        b = s.recv(65536)
        if not b:
            break
        buf += b
        if b"\r\n\r\n" in buf:
            hdr, body = buf.split(b"\r\n\r\n", 1)
            m = re.search(rb"(?i)content-length: *(\d+)", hdr)
            if m and len(body) >= int(m.group(1)):
                break
    return buf.startswith(b"HTTP/1.1 200") and buf.endswith(BODY)


def case_full_table(env):
    """64 idle kernel connections fill the table (16 from each of four addresses: the per-source cap is
    a quarter of the table); 200 more connects from a fifth address must each either fail to connect or
    be served — never connect and then fail their first request. Closing the 64 frees the table. While
    the table is full no new client can be served by design (every slot holds a live connection), so
    "during" is ping and the held connections staying open; fresh clients are checked after."""
    c0 = settle(env)
    base = c0["pool.frames_in_use"]
    sampler = Sampler(env.app, 0.5)
    idle = []
    for src in IDLE_SOURCES:
        for _ in range(16):
            s = socket.socket()
            s.bind((src, 0))
            s.settimeout(5)
            try:
                s.connect((SERVER, 80))
            except OSError as e:
                raise CaseFailure("idle connection %d from %s failed: %r" % (len(idle), src, e))
            idle.append(s)
    time.sleep(0.5)
    r, _, _ = select.select(idle, [], [], 0)
    check(not r, "%d of the 64 idle connections were reset or closed by the server" % len(r))
    c1 = env.app.counters()
    log("64 idle connections open; synack holds %d connections, pool %d" %
        (c1.get("tcp.connections", 0), c1["pool.frames_in_use"]))
    env.ping("table full")
    # 200 more connects, non-blocking, at once; 3 s to connect, 5 s for the response.
    sel = selectors.DefaultSelector()
    extra = []
    for _ in range(200):
        s = socket.socket()
        s.setblocking(False)
        s.bind((EXTRA_SOURCE, 0))
        s.connect_ex((SERVER, 80))
        sel.register(s, selectors.EVENT_WRITE)
        extra.append(s)
    outcome = {"timeout": 0, "refused": 0, "reset": 0, "served": 0, "failed_after_connect": 0}
    connected = []
    deadline = time.monotonic() + 3.0
    pending = set(extra)
    while pending and time.monotonic() < deadline:
        for key, _ in sel.select(max(0.0, deadline - time.monotonic())):
            s = key.fileobj
            sel.unregister(s)
            pending.discard(s)
            err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if err == 0:
                connected.append(s)
            elif err == errno.ECONNREFUSED:
                outcome["refused"] += 1
            elif err == errno.ECONNRESET:
                outcome["reset"] += 1
            else:
                outcome["timeout"] += 1
    outcome["timeout"] += len(pending)
    for s in pending:
        sel.unregister(s)
    failures = []
    for s in connected:
        s.setblocking(True)
        try:
            ok = http_get(s, 5.0)
        except OSError as e:
            ok = False
            failures.append(repr(e))
        outcome["served" if ok else "failed_after_connect"] += 1
    for s in extra:
        s.close()
    c2 = env.app.counters()
    log("200 extra connects: %s; server: syn_table_full +%d, cookies_sent +%d, cookie_ack_table_full +%d, "
        "table_full +%d" % (outcome, *(c2.get("tcp." + k, 0) - c1.get("tcp." + k, 0) for k in
                                       ("syn_table_full", "cookies_sent", "cookie_ack_table_full", "table_full"))))
    env.ping("after the extra connects")
    r, _, _ = select.select(idle, [], [], 0)
    check(not r, "%d of the 64 held connections were reset or closed during the extra connects" % len(r))
    peak = sampler.finish()
    for s in idle:
        s.close()
    settle(env)
    for i in range(5):
        env.curl("fresh client %d after closing the 64" % i)
    env.alive("after")
    v = env.pool_back(base)
    check(outcome["failed_after_connect"] == 0, "%d extra clients connected and then failed their first request "
          "(%s)" % (outcome["failed_after_connect"], failures[:3]))
    return "64 idle held; 200 extra connects: %d timed out, %d refused, %d reset, %d served, 0 failed after " \
           "connecting; 5/5 fresh curls after; pool baseline %d, peak %d, after %d" % (
               outcome["timeout"], outcome["refused"], outcome["reset"], outcome["served"], base, peak, v)


CASES = {
    "tiny_mss": case_tiny_mss,
    "zero_window": case_zero_window,
    "rst_ack_storm": case_rst_ack_storm,
    "side_channel": case_side_channel,
    "slowloris": case_slowloris,
    "full_table": case_full_table,
}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--iface", required=True)
    ap.add_argument("--app-pid", type=int, required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--kind", choices=("echo", "http"), required=True)
    ap.add_argument("cases", nargs="+", choices=sorted(CASES))
    args = ap.parse_args()
    random.seed()
    wire = Wire(args.iface)
    env = Env(wire, App(args.app_pid, args.log), args.kind)
    for a in ATTACKER:
        wire.announce(a)
    failed = known = 0
    for name in args.cases:
        print("--- case %s" % name, flush=True)
        t0 = time.monotonic()
        try:
            detail = CASES[name](env)
            verdict, text = "PASS", detail
        except CaseFailure as e:
            verdict, text = "FAIL", str(e)
        except Exception as e:  # noqa: BLE001 - a crash in a case is that case's failure
            verdict, text = "FAIL", "%s: %s" % (type(e).__name__, e)
        if verdict == "FAIL" and name in KNOWN_FAILURES:
            verdict = "KNOWN-FAIL"
            text += " [%s]" % KNOWN_FAILURES[name]
        elif verdict == "PASS" and any(k.startswith(name + "/") for k, _ in env.known_hits):
            text += " (except the KNOWN-FAIL check above)"
        failed += verdict == "FAIL"
        known += verdict == "KNOWN-FAIL"
        print("%s: %s (%.1f s): %s" % (verdict, name, time.monotonic() - t0, text), flush=True)
    wire.close()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
