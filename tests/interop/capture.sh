#!/usr/bin/env bash
# Packet capture, read back with tshark. Usage: capture.sh pcap|tap|pdump SYNACK-CPS [SYNACK-HELLO]
#  pcap (no root): `synack-cps --loopback --duration N --pcap F`: tshark finds a SYN, SYN-ACK, ACK handshake
#    of one 4-tuple and its FIN; with --connections 40, every SYN of the run twice (sent on the client's
#    ring port, received on the server's) and capture.dropped 0; with count=N exactly N packets;
#  tap (root, else 77): synack-hello on net_tap in a namespace with --pcap, a Linux client: the
#    handshake and FIN of the kernel's connection in the file (a real port);
#  pdump (root and hugepages, else 77): `synack-cps --loopback --pdump` and dpdk-dumpcap attached to it
#    (-D lists the ring ports; -i PORT -w F until the app ends): tshark finds a handshake in what dumpcap
#    wrote; the app exits 0 and leaves no hugepage file behind. Reserves hugepages when none are free and restores the count after.
set -euo pipefail
what=$1
cps=$(readlink -f "$2")
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
command -v tshark >/dev/null || { echo "skipped: no tshark (scripts/setup.sh installs it)"; exit 77; }

# handshake FILE: one 4-tuple with SYN (client -> server), SYN-ACK (back), the client's ACK after it, and a
# FIN from either side; prints the 4-tuple.
handshake() {
  tshark -r "$1" -Y tcp -T fields -E separator=' ' -e ip.src -e tcp.srcport -e ip.dst -e tcp.dstport \
    -e tcp.flags 2>/dev/null | python3 -c '
import sys
syn, synack, ack, fin = set(), set(), set(), set()
for line in sys.stdin:
    f = line.split()
    if len(f) != 5:
        continue
    src, sp, dst, dp, flags = f[0], f[1], f[2], f[3], int(f[4], 16)
    t = (src, sp, dst, dp)
    back = (dst, dp, src, sp)
    if flags & 0x17 == 0x02:
        syn.add(t)
    elif flags & 0x17 == 0x12 and back in syn:
        synack.add(back)
    elif flags & 0x17 == 0x10 and t in synack:
        ack.add(t)
    if flags & 0x01:
        fin.add(t)
        fin.add(back)
done = sorted(ack & fin)
if not done:
    sys.exit("no 4-tuple with SYN, SYN-ACK, ACK and FIN (%d SYNs, %d SYN-ACKs, %d ACKs, %d with FIN)"
             % (len(syn), len(synack), len(ack), len(fin)))
print("%s:%s > %s:%s" % done[0])
'
}

pcap() {
  local out n
  echo "--- synack-cps --loopback --duration 1 --concurrency 1 --pcap F,count=3000"
  out=$(timeout 60 "$cps" -- --loopback --duration 1 --concurrency 1 --pcap "$tmp/count.pcapng,count=3000" 2>&1) ||
    fail "synack-cps exited $?: $out"
  grep -E '^capture: writing' <<<"$out" || fail "no capture line"
  n=$(tshark -r "$tmp/count.pcapng" 2>/dev/null | wc -l)
  [[ $n -eq 3000 ]] || fail "count=3000 wrote $n packets"
  echo "handshake and FIN of $(handshake "$tmp/count.pcapng") in 3000 packets"

  echo "--- synack-cps --loopback --duration 2 --connections 40 --pcap F"
  out=$(timeout 60 "$cps" -- --loopback --duration 2 --connections 40 --pcap "$tmp/all.pcapng" 2>&1) ||
    fail "synack-cps exited $?: $out"
  grep -E 'capture\.' <<<"$out" || true
  if grep -Eq 'capture\.dropped [1-9]' <<<"$out"; then fail "capture.dropped at 40 connections"; fi
  echo "handshake and FIN of $(handshake "$tmp/all.pcapng")"
  n=$(tshark -r "$tmp/all.pcapng" -Y 'tcp.flags.syn == 1 && tcp.flags.ack == 0' 2>/dev/null | wc -l)
  [[ $n -eq 80 ]] || fail "expected each of 40 SYNs twice (sent and received), found $n"
  n=$(tshark -r "$tmp/all.pcapng" -Y 'tcp.flags.syn == 1 && tcp.flags.ack == 0 && frame.interface_id == 1' \
    2>/dev/null | wc -l)
  [[ $n -eq 40 ]] || fail "expected 40 SYNs on the server's port (interface 1), found $n"
  # Timestamps are wall-clock time (not DPDK 22.11's 290-year jump).
  python3 - "$tmp/all.pcapng" <<'PY'
import subprocess, sys, time
t = subprocess.run(["tshark", "-r", sys.argv[1], "-T", "fields", "-e", "frame.time_epoch"],
                   capture_output=True, text=True, check=True).stdout.split()
first, last = float(t[0]), float(t[-1])
assert abs(first - time.time()) < 120 and 0 <= last - first < 30, (first, last)
print("timestamps: %.3f s of wall-clock time" % (last - first))
PY
  echo PASS
}

tap() {
  local hello=${1:-}
  [[ $(id -u) -eq 0 ]] || { echo "skipped: needs root for network namespaces"; exit 77; }
  [[ -n $hello ]] || fail "tap needs SYNACK-HELLO"
  source "$here/../../scripts/netns.sh"
  ns_app_setup synack-cap-$$ scap$$
  trap 'ns_app_teardown; rm -rf "$tmp"' EXIT
  ip netns exec "$ns" timeout -s INT 60 "$hello" --no-pci --vdev "net_tap0,iface=$iface" -- \
    --ip 198.18.0.2/24 --port 8080 --pcap "$tmp/tap.pcapng" >"$log" 2>&1 &
  pid=$!
  ns_wait_ready "$log" '^listening on 198.18.0.2:8080' || { echo "FAIL: no readiness line"; cat "$log"; exit 1; }
  ns_peer_up "$ns" "$iface" 5 || fail "no $iface in $ns"
  ip netns exec "$ns" timeout 30 /usr/bin/python3 "$here/greet.py" 3
  kill -INT "$pid"
  wait "$pid"
  pid=
  grep -E '^capture:|capture\.' "$log" || true
  echo "handshake and FIN of $(handshake "$tmp/tap.pcapng") (net_tap, the Linux kernel's connection)"
  echo PASS
}

pdump() {
  [[ $(id -u) -eq 0 ]] || { echo "skipped: dpdk-dumpcap needs root (hugepages, /var/run/dpdk)"; exit 77; }
  command -v dpdk-dumpcap >/dev/null || { echo "skipped: no dpdk-dumpcap (package dpdk)"; exit 77; }
  local free log out
  nr_file=/proc/sys/vm/nr_hugepages  # global: the EXIT trap restores the count
  old=$(cat $nr_file)
  free=$(awk '/HugePages_Free/ {print $2}' /proc/meminfo)
  if ((free < 128)); then
    echo $((old + 256)) >$nr_file 2>/dev/null || true
  fi
  mkdir -p /dev/hugepages
  mountpoint -q /dev/hugepages || mount -t hugetlbfs nodev /dev/hugepages 2>/dev/null || true
  restore() {
    [[ -n ${pid:-} ]] && kill -INT "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    [[ $(cat $nr_file) -ne $old ]] && echo "$old" >$nr_file
    rm -rf "$tmp" "/var/run/dpdk/${prefix:-none}"
  }
  prefix=synack-cap-$$
  pid=
  trap restore EXIT
  free=$(awk '/HugePages_Free/ {print $2}' /proc/meminfo)
  if ((free < 128)) || ! mountpoint -q /dev/hugepages; then
    echo "skipped: no free hugepages on a mounted hugetlbfs ($free free)"
    exit 77
  fi
  log=$tmp/app.log
  timeout -s INT 60 "$cps" --file-prefix "$prefix" -- --loopback --duration 4 --concurrency 1 --pdump >"$log" 2>&1 &
  pid=$!
  for _ in $(seq 100); do
    grep -q '^cps client' "$log" && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  grep -E '^(eal|pdump):' "$log" || { cat "$log"; fail "--pdump: the app did not start"; }
  out=$(timeout 30 dpdk-dumpcap --file-prefix "$prefix" -D 2>/dev/null) || fail "dpdk-dumpcap -D: $out"
  echo "$out"
  grep -q 'net_ring_synack_lo_a' <<<"$out" || fail "dpdk-dumpcap -D does not list the client's ring port"
  # dumpcap captures until the app ends, then exits by itself. (Stopping dumpcap first, with -c N or
  # SIGINT, can crash the app under DPDK 22.11: dumpcap frees its pool right after asking the app to
  # remove its callbacks, without waiting for an engine still inside one; see README.)
  timeout 60 dpdk-dumpcap --file-prefix "$prefix" -i net_ring_synack_lo_a -w "$tmp/dump.pcapng" -s 96 -a duration:50 -q \
    >"$tmp/dumpcap.log" 2>&1 &
  dumpcap=$!
  wait "$pid" || { cat "$log"; fail "synack-cps --pdump exited $?"; }
  pid=
  grep -E '^cps:' "$log"
  wait "$dumpcap" || { cat "$tmp/dumpcap.log"; fail "dpdk-dumpcap exited $?"; }
  grep -E 'Primary|Packets' "$tmp/dumpcap.log" || true
  capinfos -c "$tmp/dump.pcapng" 2>/dev/null | grep -i 'number of packets' || true
  echo "handshake and FIN of $(handshake "$tmp/dump.pcapng") (dpdk-dumpcap)"
  if compgen -G "/dev/hugepages/${prefix}map_*" >/dev/null; then fail "hugepage files left: /dev/hugepages/${prefix}map_*"; fi
  echo PASS
}

case $what in
  pcap) pcap ;;
  tap) tap "${3:-}" ;;
  pdump) pdump ;;
  *) fail "usage: capture.sh pcap|tap|pdump SYNACK-CPS [SYNACK-HELLO]" ;;
esac
