#!/usr/bin/python3
"""Turns the raw outputs of scripts/bench_loss.sh into its report: a table on stdout (loss, streams,
Synack Gbit/s, Linux Gbit/s, ratio), a second table with the loss actually applied and the counters
that explain the rates, bench/results/loss-<date>.json and loss-<date>.png (goodput against loss).

Usage: bench_loss_report.py RAW_DIR RESULTS_DIR DATE
Synack's figures come from the JSON document `synack-perf --json` wrote (synack_<tag>.json: summary and
counters); the exit status, load and scheduler lines from synack_<tag>.txt; Linux's from its tools'
output. A missing input gives "n/a", never a guess.
"""
import json
import os
import re
import sys

import benchlib

raw, results, day = benchlib.args("bench_loss_report.py", "scripts/bench_loss.sh")


def read(name):
    return benchlib.read(raw, name)


kv = benchlib.kv


meta = dict(line.split("=", 1) for line in read("meta.txt").splitlines() if "=" in line)


def gbps(nbytes, seconds):
    return nbytes * 8 / seconds / 1e9 if seconds > 0 else None


def synack(tag):
    text = read(f"synack_{tag}.txt")
    if not text:
        return None
    doc = benchlib.document(raw, f"synack_{tag}.json") or {}
    summary = doc.get("summary")
    c, s = doc.get("counters", {}).get("client", {}), doc.get("counters", {}).get("server", {})
    rc = re.search(r"^rc=(\d+)$", text, re.M)
    load = re.search(r"^load=([\d.]+)$", text, re.M)

    def share(d, lost):
        n = d.get("impair.tx.frames_in", 0)
        return d.get(lost, 0) / n if n else None  # None: no impairment configured

    return {
        # From the byte count and the seconds (the tool's own Gbit/s has two decimals only).
        "gbit_s": gbps(summary["bytes"], summary["seconds"]) if summary else None,
        "bytes": summary["bytes"] if summary else None,
        "seconds": summary["seconds"] if summary else None,
        "interrupted": bool(summary and summary["interrupted"]),
        "exit_status": int(rc.group(1)) if rc else None,
        "load_average": float(load.group(1)) if load else None,
        "data_loss": share(c, "impair.tx.lost"),   # the client's frames: data
        "ack_loss": share(s, "impair.tx.lost"),    # the server's frames: ACKs
        "retransmits": c.get("tcp.retransmits", 0),
        "fast_retransmits": c.get("tcp.fast_retransmits", 0),
        "fast_recoveries": c.get("tcp.fast_recoveries", 0),
        "rto_recoveries": c.get("tcp.rto_recoveries", 0),
        "timeouts": c.get("tcp.timeouts", 0),
        "dsacks_received": c.get("tcp.dsacks_received", 0),
        "segments_out": c.get("tcp.segments_out", 0),
        "server_ooo_segments": s.get("tcp.ooo_segments", 0),
        "server_ooo_dropped": s.get("tcp.ooo_dropped", 0),
        "server_dsacks_sent": s.get("tcp.dsacks_sent", 0),
        "no_mbufs": c.get("impair.tx.no_mbufs", 0) + s.get("impair.tx.no_mbufs", 0),
        # Each engine thread's share of the measured window on a CPU / runnable but waiting for one.
        "engines_sched": [{"thread": d["thread"], "oncpu": int(d["oncpu_ms"]) / max(int(d["wall_ms"]), 1),
                           "waiting": int(d["wait_ms"]) / max(int(d["wall_ms"]), 1)}
                          for d in (kv(l) for l in text.splitlines() if l.startswith("sched:"))],
    }


def linux(tag):
    text = read(f"linux_{tag}.txt")
    if not text:
        return None
    b = kv(next((l for l in text.splitlines() if l.startswith("linux bulk:")), ""))
    t = kv(next((l for l in text.splitlines() if l.startswith("tc:")), ""))
    n = {k: int(v) for k, v in re.findall(r"^nstat: (\w+)=(-?\d+)$", text, re.M)}
    sink = kv(next((l for l in text.splitlines() if l.startswith("linux sink:")), ""))
    rc = re.search(r"^rc=(\d+)$", text, re.M)
    load = re.search(r"^load=([\d.]+)$", text, re.M)

    def share(dropped, seen):
        return int(t[dropped]) / int(t[seen]) if t.get(seen) and int(t[seen]) > 0 else None

    return {
        "gbit_s": gbps(int(b["bytes"]), float(b["seconds"])) if "bytes" in b and "seconds" in b else None,
        "bytes": int(b["bytes"]) if "bytes" in b else None,
        "seconds": float(b["seconds"]) if "seconds" in b else None,
        "drained": b.get("drained"),
        "sink_bytes": int(sink["bytes"]) if "bytes" in sink else None,
        "exit_status": int(rc.group(1)) if rc else 0,
        "load_average": float(load.group(1)) if load else None,
        "data_loss": share("data_dropped", "data_in"),
        "ack_loss": share("ack_dropped", "ack_in"),
        "backlog_dropped": int(t["backlog_dropped"]) if "backlog_dropped" in t else None,
        "retransmits": n.get("TcpRetransSegs"),
        "sack_recoveries": n.get("TcpExtTCPSackRecovery"),
        "timeouts": n.get("TcpExtTCPTimeouts"),
        "loss_probes": n.get("TcpExtTCPLossProbes"),
        "lost_retransmits": n.get("TcpExtTCPLostRetransmit"),
        "slow_start_retransmits": n.get("TcpExtTCPSlowStartRetrans"),
        "spurious_rtos": n.get("TcpExtTCPSpuriousRTOs"),
    }


def ratio(a, b):
    return a / b if a and b else None


streams = sorted({int(m.group(1)) for f in os.listdir(raw) for m in [re.match(r"(?:synack|linux)_s(\d+)_", f)] if m})
# Loss tags exactly as the files spell them ("0.1"), by value.
loss_tags = {float(m.group(1)): m.group(1) for f in sorted(os.listdir(raw))
             for m in [re.match(r"(?:synack|linux)_s\d+_l([\d.]+)\.txt$", f)] if m}
losses = sorted(loss_tags)
delays = sorted({int(m.group(1)) for f in os.listdir(raw) for m in [re.match(r"(?:synack|linux)_s\d+_d(\d+)\.txt$", f)] if m})
if not delays and int(meta.get("delay_ms", "0") or 0) > 0:
    delays = [int(meta["delay_ms"])]


def tag_loss(x):
    return loss_tags.get(x, "%g" % x)


points = []
for s in streams:
    for x in losses:
        t = f"s{s}_l{tag_loss(x)}"
        sy, li = synack(t), linux(t)
        points.append({"loss_pct": x, "delay_ms": 0, "streams": s, "synack": sy, "linux": li,
                       "ratio": ratio(sy and sy["gbit_s"], li and li["gbit_s"])})
    for d in delays:
        t = f"s{s}_d{d}"
        sy, li = synack(t), linux(t)
        p = {"loss_pct": 0.0, "delay_ms": d, "streams": s, "synack": sy, "linux": li,
             "ratio": ratio(sy and sy["gbit_s"], li and li["gbit_s"])}
        if li is None and meta.get("linux_delay_skipped"):
            p["linux_skipped"] = meta["linux_delay_skipped"]
        points.append(p)


def fmt(v, digits=2, unit=""):
    if v is None:
        return "n/a"
    if not unit and 0 < abs(v) < 0.1:
        return f"{v:.3f}"  # small rates: three decimals
    return f"{v:,.{digits}f}{unit}"


def pct(v):
    return "n/a" if v is None else f"{100 * v:.2f}%"


def label(p):
    return f"{tag_loss(p['loss_pct'])}%" + (f" + {p['delay_ms']} ms each way" if p["delay_ms"] else "")


def show(headers, rows):
    widths = [max(len(str(r[i])) for r in [headers] + rows) for i in range(len(headers))]
    print("  ".join(h.ljust(widths[i]) if i == 0 else h.rjust(widths[i]) for i, h in enumerate(headers)))
    print("  ".join("-" * w for w in widths))
    for r in rows:
        print("  ".join(str(c).ljust(widths[i]) if i == 0 else str(c).rjust(widths[i]) for i, c in enumerate(r)))


order = sorted(points, key=lambda p: (p["delay_ms"], p["loss_pct"], p["streams"]))
print()
print(f"Goodput against loss, Synack vs Linux — {meta.get('date', day)}, {meta.get('cpus', '?')} CPUs "
      f"({meta.get('cpu_model', '?')}), kernel {meta.get('kernel', '?')}, {meta.get('duration_s', '?')} s per point, "
      f"Linux congestion control {meta.get('linux_cc', '?')}, Synack cubic; load average before {meta.get('load_before', '?')}")
main_rows = []
for p in order:
    sy, li = p["synack"] or {}, p["linux"] or {}
    lg = fmt(li.get("gbit_s")) if p["linux"] else ("skipped" if p.get("linux_skipped") else "n/a")
    main_rows.append((label(p), p["streams"], fmt(sy.get("gbit_s")), lg, fmt(p["ratio"], 2, "x")))
show(("loss", "streams", "Synack Gbit/s", "Linux Gbit/s", "ratio"), main_rows)
for p in order:
    if p.get("linux_skipped"):
        print(f"(Linux {label(p)}: {p['linux_skipped']})")
        break

print()
print("Loss applied (data / ACK direction) and what the senders did:")
detail = []
for p in order:
    sy, li = p["synack"] or {}, p["linux"] or {}
    detail.append((
        label(p), p["streams"],
        f"{pct(sy.get('data_loss'))} / {pct(sy.get('ack_loss'))}" if sy.get("data_loss") is not None else "none",
        f"{sy.get('retransmits', 'n/a')} / {sy.get('fast_recoveries', 'n/a')} / {sy.get('rto_recoveries', 'n/a')}",
        " ".join(f"{100 * e['oncpu']:.0f}/{100 * e['waiting']:.0f}%" for e in sy.get("engines_sched", [])) or "n/a",
        f"{pct(li.get('data_loss'))} / {pct(li.get('ack_loss'))}" if p["linux"] else "",
        li.get("backlog_dropped", "n/a") if p["linux"] else "",
        f"{li.get('retransmits', 'n/a')} / {li.get('sack_recoveries', 'n/a')} / {li.get('timeouts', 'n/a')} / {li.get('loss_probes', 'n/a')}"
        if p["linux"] else ""))
show(("loss", "streams", "Synack loss", "Synack rexmit / fast rec / RTO rec", "engines on CPU/waiting",
      "Linux loss", "Linux backlog drops",
      "Linux rexmit / SACK rec / RTO / TLP"), detail)
print("(loss: share of the data / ACK frames the impairment dropped; Synack 'none' = no impairment configured.\n"
      " engines on CPU/waiting: each Synack engine thread's share of the run on a CPU / runnable but waiting for one\n"
      " (schedstat; they busy-poll, so anything short of ~100/0% is the machine's other load taking their CPUs).\n"
      " Linux backlog drops: frames the kernel dropped on a full per-CPU backlog (netdev_max_backlog) during the point,\n"
      " a loss of its own that the Linux path has and the loopback ring, with back-pressure, has not.)")

# --- files ------------------------------------------------------------------------------------------
os.makedirs(results, exist_ok=True)
json_path = os.path.join(results, f"loss-{day}.json")
with open(json_path, "w") as f:
    json.dump({"meta": meta, "points": points}, f, indent=1)

try:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.5, 4.8))
    xs = list(range(len(losses)))
    styles = {"synack": ("tab:blue", "Synack"), "linux": ("tab:red", "Linux")}
    marks = {1: ("o", "-"), 8: ("s", "--")}
    for who, (color, name) in styles.items():
        for s in streams:
            pts = [next((p for p in points if p["streams"] == s and p["delay_ms"] == 0 and p["loss_pct"] == x), None)
                   for x in losses]
            ys = [(p[who] or {}).get("gbit_s") if p else None for p in pts]
            if not any(ys):
                continue
            mk, ls = marks.get(s, ("^", ":"))
            ax.plot([x for x, y in zip(xs, ys) if y], [y for y in ys if y], mk + ls, color=color,
                    label=f"{name}, {s} stream{'s' if s > 1 else ''}")
            for d in delays:
                p = next((p for p in points if p["streams"] == s and p["delay_ms"] == d), None)
                y = (p[who] or {}).get("gbit_s") if p else None
                if y:
                    ax.plot([len(losses) + 0.5], [y], mk, color=color, fillstyle="none", markersize=9)
    if any(p.get("linux_skipped") for p in points):
        ax.annotate("Linux: not measured\n(no fq/netem here)", xy=(len(losses) + 0.5, 0.5), xycoords=("data", "axes fraction"),
                    ha="center", fontsize=7, color="tab:red")
    ticks = [f"{tag_loss(x)}%" for x in losses]
    if delays:
        ax.axvline(len(losses) - 0.25, color="grey", lw=0.8, ls=":")
        xs_all = xs + [len(losses) + 0.5]
        ticks.append(f"0%, RTT +{2 * delays[0]} ms\n(open marks)")
    else:
        xs_all = xs
    ax.set_xticks(xs_all, ticks)
    ax.set_yscale("log")
    ax.set_xlabel("random loss, each direction")
    ax.set_ylabel("goodput, Gbit/s")
    ax.set_title(f"Bulk goodput against loss, {meta.get('cpus', '?')} CPUs, same run ({day})")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(os.path.join(results, f"loss-{day}.png"), dpi=110)
    plots = f"loss-{day}.png"
except ImportError:
    plots = "no plot: python3-matplotlib is missing (scripts/setup.sh installs it)"
print(f"\nresults: {json_path}; {plots}")
