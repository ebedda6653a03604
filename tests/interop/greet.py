#!/usr/bin/env python3
"""The synack-hello client, on the kernel's TCP. Usage: greet.py N [ADDR [PORT]]

Opens N connections in turn to ADDR:PORT (default 198.18.0.2:8080), sends one line on each and expects
exactly "hello from synack\\n" before the server closes; any other answer fails with an assertion.
"""
import socket
import sys

n = int(sys.argv[1])
addr = sys.argv[2] if len(sys.argv) > 2 else "198.18.0.2"
port = int(sys.argv[3]) if len(sys.argv) > 3 else 8080
for i in range(n):
    c = socket.create_connection((addr, port), timeout=5)
    c.sendall(b"hi %d\n" % i)
    got = b""
    while True:
        b = c.recv(100)
        if not b:
            break
        got += b
    assert got == b"hello from synack\n", got
    c.close()
print(f"{n} greetings ok")
