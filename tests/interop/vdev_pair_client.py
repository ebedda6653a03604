#!/usr/bin/env python3
"""The scenarios of synack_vdev_pair's client (tests/dpdk/vdev_pair_main.cc) from the Linux kernel's TCP.

Usage: vdev_pair_client.py SERVER_ADDR. Port 7 echoes (we close first); port 8 sends what an 8-byte
request (little-endian u32 size, u32 seed) asks for and closes first. Echo of 12 sizes from 1 byte to 1 MB,
5 server-closes-first sizes, then 300 short connections alternating the two; every byte is checked
against the pattern the server computes. Exits 1 with a message at the first difference.
"""
import socket
import struct
import sys
import threading
import time

SERVER = sys.argv[1]
_cache = {}


def pattern(seed, n):
    """synack_vdev_pair's PatternByte for offsets 0..n-1."""
    key = (seed, n)
    if key not in _cache:
        s = ((seed + 1) * 40503) & 0xFFFFFFFF
        out = bytearray(n)
        for i in range(n):
            x = ((i * 2654435761) & 0xFFFFFFFF) ^ s
            x ^= x >> 15
            x = (x * 2246822519) & 0xFFFFFFFF
            out[i] = x >> 24
        _cache[key] = bytes(out)
    return _cache[key]


def check(name, got, want):
    if got != want:
        at = next((i for i in range(min(len(got), len(want))) if got[i] != want[i]), min(len(got), len(want)))
        sys.exit(f"FAIL: {name}: {len(got)} bytes, want {len(want)}; first difference at byte {at}")


def echo(number, size):
    data = pattern(number * 7 + 3, size)
    s = socket.create_connection((SERVER, 7), timeout=10)
    got = bytearray()

    def reader():
        while len(got) < size:
            b = s.recv(1 << 16)
            if not b:
                break
            got.extend(b)

    t = threading.Thread(target=reader)
    t.start()
    s.sendall(data)
    t.join(20)
    check(f"echo connection {number} ({size} bytes)", bytes(got), data)
    s.close()  # we close first


def server_closes(number, size):
    seed = number * 7 + 3
    s = socket.create_connection((SERVER, 8), timeout=10)
    s.sendall(struct.pack("<II", size, seed))
    got = bytearray()
    while True:
        b = s.recv(1 << 16)
        if not b:
            break  # the server's FIN
        got.extend(b)
    check(f"connection {number} (port 8, {size} bytes)", bytes(got), pattern(seed, size))
    s.close()


t0 = time.time()
number = 0
for size in (1, 2, 535, 1459, 1460, 1461, 2920, 4097, 65535, 65536, 262143, 1000000):
    echo(number, size)
    number += 1
for size in (0, 1, 1460, 100000, 1000000):
    server_closes(number, size)
    number += 1
for k in range(300):
    size = 1 + (k * 7919) % 4000
    (echo if k % 2 == 0 else server_closes)(number, size)
    number += 1
print(f"vdev_pair kernel client: PASS: {number} connections, every byte checked, in {time.time() - t0:.2f} s")
