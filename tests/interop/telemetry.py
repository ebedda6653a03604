#!/usr/bin/env python3
"""Live telemetry through the real path, no root needed. Usage: telemetry.py CPS_BIN

Starts `synack-cps --file-prefix P -- --loopback --duration 8` with the apps' default EAL options (they
include --no-shconf; telemetry is not turned off), connects to its DPDK telemetry socket
(<runtime dir>/P/dpdk_telemetry.v2, SOCK_SEQPACKET, the protocol of DPDK's usertools/dpdk-telemetry.py),
and while connections flow queries every /synack/ command, parses the JSON and checks that the numbers
are consistent and move between two queries: info names the two engines, counters grow, listeners show the
server's port with its SYNs, conns lists live connections (columns of equal length, bounded), timewait
counts the client's TIME-WAIT entries with a histogram that sums to the count, latency's phase histograms
grow and agree with their rows and with the connections established (the client's opens are active, the
server's passive; every handshake timed), and a bad engine answers an error dict. Then the process ends
cleanly.
"""
import json
import shutil
import os
import socket
import subprocess
import sys
import tempfile
import time

COMMANDS = ['/synack/info', '/synack/counters', '/synack/listeners', '/synack/conns', '/synack/timewait',
            '/synack/latency']
PHASES = ['open_passive', 'open_active', 'lifetime', 'close', 'time_wait']


def check_latency(lat, what):
    """One /synack/latency reply on its own: rows, columns and buckets agree."""
    if lat.get('phase') != PHASES:
        fail(f'{what}: phases {lat.get("phase")}')
    bounds = lat['upper_bounds_us']
    if bounds != [1 << b for b in range(len(bounds))] or len(bounds) != 39:
        fail(f'{what}: bucket bounds {bounds}')
    for i, p in enumerate(PHASES):
        hist = lat[p]
        if len(hist) != len(bounds) + 1:
            fail(f'{what}: {p} has {len(hist)} buckets')
        if sum(hist) != lat['count'][i]:
            fail(f'{what}: {p} buckets sum to {sum(hist)}, count {lat["count"][i]}')
        if lat['count'][i] > 0:
            q = [lat[k][i] for k in ('p50_us', 'p90_us', 'p99_us', 'max_us')]
            if q != sorted(q) or q[0] == 0 or lat['mean_us'][i] > q[-1]:
                fail(f'{what}: {p} percentiles {q}, mean {lat["mean_us"][i]}')
    opened = lat['count'][0] + lat['count'][1] + lat['cookie_opens']
    if opened != lat['established']:
        fail(f'{what}: {opened} timed opens (with cookies) but {lat["established"]} established')


def fail(msg, log=None):
    print(f'FAIL: {msg}')
    if log and os.path.exists(log):
        with open(log) as f:
            for line in f.read().splitlines()[-40:]:
                print(f'  | {line}')
    sys.exit(1)


def runtime_dir(prefix):
    # eal_get_runtime_dir in DPDK 22.11.
    if os.getuid() == 0:
        return f'/var/run/dpdk/{prefix}'
    return f'{os.environ.get("XDG_RUNTIME_DIR", "/tmp")}/dpdk/{prefix}'


class Telemetry:
    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.sock.settimeout(5)
        self.sock.connect(path)
        hello = json.loads(self.sock.recv(1024).decode())
        self.max_len = hello['max_output_len']

    def query(self, cmd):
        self.sock.send(cmd.encode())
        raw = self.sock.recv(self.max_len)
        if os.environ.get("TLM_DEBUG"):
            print("DEBUG", cmd, raw[:100])
        reply = json.loads(raw.decode())
        name = cmd.split(',')[0]
        if name not in reply:
            fail(f'{cmd}: reply without "{name}": {reply}')
        return reply[name]


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    cps = os.path.realpath(sys.argv[1])
    prefix = f'tlm{os.getpid()}'
    tmp = tempfile.mkdtemp()
    log = os.path.join(tmp, 'cps.log')
    with open(log, 'w') as out:
        proc = subprocess.Popen([cps, '--file-prefix', prefix, '--', '--loopback', '--duration', '8',
                                 '--concurrency', '32'], stdout=out, stderr=subprocess.STDOUT)
    try:
        path = os.path.join(runtime_dir(prefix), 'dpdk_telemetry.v2')
        deadline = time.time() + 15
        while not os.path.exists(path):
            if proc.poll() is not None:
                fail(f'synack-cps exited ({proc.returncode}) before its telemetry socket appeared', log)
            if time.time() > deadline:
                fail(f'no telemetry socket {path} within 15 s (the apps run with --no-shconf)', log)
            time.sleep(0.1)
        tel = None
        while tel is None:
            try:
                tel = Telemetry(path)
            except OSError:
                if time.time() > deadline:
                    raise
                time.sleep(0.1)
        # The commands exist once the stack is up; wait until both engines published and the client runs.
        while True:
            info = tel.query('/synack/info')
            if isinstance(info, dict) and 'engines' in info and min(info['engine_snapshots']) > 0 and \
                    tel.query('/synack/counters').get('tcp/connected', 0) > 0:
                break
            if time.time() > deadline:
                fail(f'/synack/info never showed a running stack: {info}', log)
            time.sleep(0.1)
        print('/synack/info:', json.dumps(info))
        if info['engines'] != 2 or info['engine_role'] != ['client', 'server'] or info['kind'] != 'loopback':
            fail(f'/synack/info: expected the loopback client and server engines: {info}')
        if not info['version'] or len(info['engine_address']) != 2 or len(info['ports']) != 2:
            fail(f'/synack/info: version, addresses, ports: {info}')

        first = {cmd: tel.query(cmd) for cmd in COMMANDS}
        first_client = tel.query('/synack/counters,0')
        seen_conns = seen_tw = False
        end = time.time() + 1.2
        while time.time() < end:
            conns = tel.query('/synack/conns')
            cols = ['engine_index', 'local', 'remote', 'state', 'send_q', 'recv_q', 'cwnd', 'flight', 'rto_us',
                    'srtt_us']
            lens = {c: len(conns[c]) for c in cols}
            if len(set(lens.values())) != 1 or lens['local'] != conns['listed']:
                fail(f'/synack/conns: columns of different lengths: {lens}, listed {conns["listed"]}')
            if conns['listed'] > 64 or conns['listed'] > conns['connections']:
                fail(f'/synack/conns: listed {conns["listed"]} of {conns["connections"]}')
            if conns['listed'] > 0:
                if not seen_conns:
                    print('/synack/conns:', json.dumps(conns)[:600], '...')
                seen_conns = True
                if not all(':' in a for a in conns['local'] + conns['remote']):
                    fail(f'/synack/conns: addresses: {conns}')
            tw = tel.query('/synack/timewait')
            if sum(tw['age_histogram']) != tw['count']:
                fail(f'/synack/timewait: histogram does not sum to the count: {tw}')
            if tw['count'] > 0:
                seen_tw = True
            time.sleep(0.1)
        # The client engine alone, then the sum: the sum is read later, so it cannot be smaller.
        second_client = tel.query('/synack/counters,0')
        second = {cmd: tel.query(cmd) for cmd in COMMANDS}

        c1, c2 = first['/synack/counters'], second['/synack/counters']
        print('/synack/counters (excerpt):', {k: c2[k] for k in list(c2)[:8]})
        for name in ['tcp/connected', 'tcp/accepted', 'rx_frames', 'tcp/segments_in', 'snapshots']:
            if name not in c2:
                fail(f'/synack/counters: no {name}: {sorted(c2)}')
            if not c2[name] > c1[name]:
                fail(f'/synack/counters: {name} did not increase: {c1[name]} -> {c2[name]}')
        if c2['engine'] != 'all' or first_client['engine'] != '0':
            fail(f'/synack/counters: engine names: {c2["engine"]}, {first_client["engine"]}')
        if not 0 < second_client['tcp/connected'] <= c2['tcp/connected'] or second_client['tcp/accepted'] != 0:
            fail('/synack/counters,0: the client engine connects and accepts nothing')
        if not any(k.startswith('tcp/transitions/') for k in c2):
            fail('/synack/counters: no state transitions')

        l1, l2 = first['/synack/listeners'], second['/synack/listeners']
        print('/synack/listeners:', json.dumps(l2))
        if l2['listed'] < 1 or l2['engine_index'] != [1] * l2['listed']:
            fail(f'/synack/listeners: the server engine listens: {l2}')
        if not l2['syn_received'][0] > l1['syn_received'][0] or l2['syn_backlog'][0] == 0:
            fail(f'/synack/listeners: SYNs did not increase: {l1} -> {l2}')

        if not seen_conns:
            fail('/synack/conns: never listed a connection while 32 were kept in flight')
        if not seen_tw:
            fail('/synack/timewait: never counted an entry (the client closes first)')
        print('/synack/timewait:', json.dumps(second['/synack/timewait']))

        # /synack/latency: the sum, then each engine (read later: at least as much as the sum's share).
        lat1, lat2 = first['/synack/latency'], second['/synack/latency']
        check_latency(lat1, '/synack/latency (first)')
        check_latency(lat2, '/synack/latency')
        print('/synack/latency:', json.dumps({k: lat2[k] for k in ('engine', 'established', 'phase', 'count',
                                                                   'p50_us', 'p99_us')}))
        count1, count2 = dict(zip(PHASES, lat1['count'])), dict(zip(PHASES, lat2['count']))
        for p in ['open_passive', 'open_active', 'lifetime', 'close']:
            if not count2[p] > count1[p]:
                fail(f'/synack/latency: {p} did not grow: {count1[p]} -> {count2[p]}')
        if count2['time_wait'] < count1['time_wait']:
            fail(f'/synack/latency: time_wait went back: {count1["time_wait"]} -> {count2["time_wait"]}')
        # The client (engine 0) opens actively and closes first (its close ends in TIME-WAIT); the server
        # (engine 1) opens passively. The established counts match /synack/counters' within the few
        # connections of a snapshot period or two.
        client, server = tel.query('/synack/latency,0'), tel.query('/synack/latency,1')
        check_latency(client, '/synack/latency,0')
        check_latency(server, '/synack/latency,1')
        if client['engine'] != '0' or server['engine'] != '1':
            fail(f'/synack/latency: engine names {client["engine"]}, {server["engine"]}')
        c, s = dict(zip(PHASES, client['count'])), dict(zip(PHASES, server['count']))
        if c['open_passive'] != 0 or s['open_active'] != 0 or c['open_active'] < count2['open_active'] or \
                s['open_passive'] < count2['open_passive']:
            fail(f'/synack/latency: client {c}, server {s}, sum {count2}')
        est = c2.get('tcp/connected', 0) + c2.get('tcp/accepted', 0)
        if est == 0 or abs(est - lat2['established']) > 0.25 * est:
            fail(f'/synack/latency: {lat2["established"]} established, /synack/counters {est}')
        # TIME-WAIT entries the client took over were at least 1 s old (its reuse rule): no sample below 0.5 s.
        if c['time_wait'] > 0 and sum(client['time_wait'][:20]) != 0:
            fail(f'/synack/latency,0: TIME-WAIT residencies under 0.5 s: {client["time_wait"]}')

        err = tel.query('/synack/counters,99')
        if 'error' not in err:
            fail(f'/synack/counters,99: expected an error: {err}')
        err = tel.query('/synack/latency,99')
        if 'error' not in err:
            fail(f'/synack/latency,99: expected an error: {err}')
        tel.sock.close()
        rc = proc.wait(timeout=30)
        if rc != 0:
            fail(f'synack-cps exit {rc}', log)
        print('PASS: telemetry')
        return 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        shutil.rmtree(runtime_dir(prefix), ignore_errors=True)  # DPDK leaves it for a --file-prefix


if __name__ == '__main__':
    sys.exit(main())
