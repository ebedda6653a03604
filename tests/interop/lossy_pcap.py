#!/usr/bin/python3
"""Reads a pcap of one TCP connection (Ethernet, IPv4) and tells, for each direction, how the sender's
retransmissions relate to the SACK blocks the receiver had sent before them (at the capture point).

Used by tests/interop/lossy.sh on a capture taken on the kernel side of the tap: the kernel's segments
are seen as it sent them, Synack's as they left its impairment (lost ones never appear). For the kernel
as sender every SACK block it got is in the capture; for Synack as sender some of the ACKs the capture
shows were then dropped by Synack's receive impairment, so a few retransmissions of SACKed data are
expected there.

A retransmission (a data segment starting below the highest sequence the sender had sent) is:
  hole_above_una  starts above the receiver's cumulative ACK, in a gap below SACKed data: only a sender
                  that keeps a SACK scoreboard picks that sequence number;
  hole_at_una     starts at the cumulative ACK with SACKed data above (fast retransmit or SACK recovery);
  sacked          every byte of it was already SACKed (a sender that ignored or missed the SACK blocks);
  no_sack_info    nothing SACKed above it (tail loss probes, RTOs, or recovery without SACK).
Prints one line per direction: `pcap SENDER->RECEIVER: stream_bytes=B data=N retransmits=R hole_above_una=A
hole_at_una=U sacked=S no_sack_info=I acks_with_sack=K dsacks=D max_sack_blocks=M` (acks_with_sack,
dsacks and max_sack_blocks are about the ACKs the receiver sent).

Usage: lossy_pcap.py FILE.pcap ADDR_A ADDR_B
"""
import struct
import sys

MOD = 1 << 32


def packets(path):
    with open(path, "rb") as f:
        head = f.read(24)
        if len(head) < 24:
            return
        magic = struct.unpack("<I", head[:4])[0]
        if magic in (0xA1B2C3D4, 0xA1B23C4D):
            end = "<"
        elif magic in (0xD4C3B2A1, 0x4D3CB2A1):
            end = ">"
        else:
            raise SystemExit(f"{path}: not a pcap file")
        linktype = struct.unpack(end + "I", head[20:24])[0]
        if linktype != 1:
            raise SystemExit(f"{path}: link type {linktype}, expected Ethernet (1)")
        while True:
            rec = f.read(16)
            if len(rec) < 16:
                return
            _, _, incl, _ = struct.unpack(end + "IIII", rec)
            data = f.read(incl)
            if len(data) < incl:
                return
            yield data


def parse(frame):
    """(src, dst, seq, ack, flags, payload_len, sack_blocks) or None."""
    if len(frame) < 14 + 20 or frame[12:14] != b"\x08\x00":
        return None
    ip = frame[14:]
    ihl = (ip[0] & 0x0F) * 4
    if ip[0] >> 4 != 4 or ip[9] != 6 or ihl < 20 or len(ip) < ihl + 20:
        return None
    total = struct.unpack("!H", ip[2:4])[0]
    src = ".".join(str(b) for b in ip[12:16])
    dst = ".".join(str(b) for b in ip[16:20])
    tcp = ip[ihl:]
    seq, ack = struct.unpack("!II", tcp[4:12])
    doff = (tcp[12] >> 4) * 4
    flags = tcp[13]
    payload = total - ihl - doff
    sacks = []
    opts = tcp[20:min(doff, len(tcp))]
    i = 0
    while i < len(opts):
        kind = opts[i]
        if kind == 0:
            break
        if kind == 1:
            i += 1
            continue
        if i + 1 >= len(opts):
            break
        ln = opts[i + 1]
        if ln < 2:
            break
        if kind == 5:
            body = opts[i + 2:i + ln]
            for k in range(0, len(body) - 7, 8):
                sacks.append(struct.unpack("!II", body[k:k + 8]))
        i += ln
    return src, dst, seq, ack, flags, max(payload, 0), sacks


class Direction:
    """Data from `sender`, ACKs (and SACK blocks) from the receiver; sequence numbers relative to the
    sender's ISN so that comparisons are plain integers (the transfers here are far below 2^31)."""

    def __init__(self, sender, receiver):
        self.sender, self.receiver = sender, receiver
        self.isn = None
        self.snd_max = 0
        self.una = 0
        self.sacked = []  # sorted disjoint [l, r) ranges above una
        self.n = dict(data=0, retransmits=0, hole_above_una=0, hole_at_una=0, sacked=0, no_sack_info=0,
                      acks_with_sack=0, dsacks=0, max_sack_blocks=0)

    def rel(self, s):
        return (s - self.isn) % MOD

    def on_data(self, seq, length, syn):
        if self.isn is None:
            if not syn:
                return
            self.isn = seq
        s = self.rel(seq)
        if syn:
            s += 1  # the SYN takes one sequence number; payload (if any) starts after it
            self.snd_max = max(self.snd_max, s)
        if length == 0:
            return
        e = s + length
        self.n["data"] += 1
        if s < self.snd_max:
            self.n["retransmits"] += 1
            top = self.sacked[-1][1] if self.sacked else 0
            if any(l <= s and e <= r for l, r in self.sacked):
                self.n["sacked"] += 1
            elif top > s and s > self.una:
                self.n["hole_above_una"] += 1
            elif top > s:
                self.n["hole_at_una"] += 1
            else:
                self.n["no_sack_info"] += 1
        self.snd_max = max(self.snd_max, e)

    def on_ack(self, ack, sacks):
        if self.isn is None:
            return
        a = self.rel(ack)
        if a <= self.snd_max:  # ignore anything nonsensical
            self.una = max(self.una, a)
        if sacks:
            self.n["acks_with_sack"] += 1
            self.n["max_sack_blocks"] = max(self.n["max_sack_blocks"], len(sacks))
        for i, (l, r) in enumerate(sacks):
            l, r = self.rel(l), self.rel(r)
            if not l < r or r > self.snd_max + 1:
                continue
            # D-SACK (RFC 2883): the first block below the cumulative ACK or inside the second block.
            if i == 0 and (r <= a or (len(sacks) > 1 and self.rel(sacks[1][0]) <= l and r <= self.rel(sacks[1][1]))):
                self.n["dsacks"] += 1
                continue
            self.add(l, r)
        self.sacked = [(max(l, self.una), r) for l, r in self.sacked if r > self.una]

    def add(self, l, r):
        out = []
        for x, y in self.sacked:
            if y < l or x > r:
                out.append((x, y))
            else:
                l, r = min(l, x), max(r, y)
        out.append((l, r))
        out.sort()
        self.sacked = out

    def line(self):
        stream = max(self.snd_max - 1, 0)  # payload bytes up to the highest sequence seen (after the SYN)
        return (f"pcap {self.sender}->{self.receiver}: stream_bytes={stream} "
                + " ".join(f"{k}={v}" for k, v in self.n.items()))


def main():
    path, a, b = sys.argv[1:4]
    dirs = {(a, b): Direction(a, b), (b, a): Direction(b, a)}
    for frame in packets(path):
        p = parse(frame)
        if p is None:
            continue
        src, dst, seq, ack, flags, length, sacks = p
        if (src, dst) not in dirs:
            continue
        dirs[(src, dst)].on_data(seq, length, bool(flags & 0x02))
        if flags & 0x10:
            dirs[(dst, src)].on_ack(ack, sacks)
    for d in dirs.values():
        print(d.line())


if __name__ == "__main__":
    main()
