#!/usr/bin/python3
"""Turns the raw outputs scripts/bench.sh collected into the report: a table on stdout,
bench/results/<date>.json, <date>.md and PNG plots (<date>-cps.png, <date>-latency.png, and
<date>-cps-seconds.png: each second of the connection-rate runs at 16 in flight).

Usage: bench_report.py RAW_DIR RESULTS_DIR DATE
Synack's connection rates and bulk figures come from the JSON documents `synack-cps --json` and
`synack-perf --json` wrote (cps_synack_k<K>_r<R>.json, bulk_synack_s<S>.json, hold_synack.json); the
Linux baseline, the pingpong line and the --hold memory lines from the tools' summary lines. A connection
rate is the average of the run's per-second rates ("intervals" of the JSON; linux_cps's 't=Ns conns/s='
lines), reported with its first and last seconds (benchlib.steady_state). A missing or unreadable input
gives "n/a", never a guess.
"""
import json
import os
import re
import sys

import benchlib

raw, results, day = benchlib.args("bench_report.py", "scripts/bench.sh")


def read(name):
    return benchlib.read(raw, name)


kv = benchlib.kv


def first(pattern, text, cast=float):
    m = re.search(pattern, text, re.M)
    return cast(m.group(1)) if m else None


def document(name):
    return benchlib.document(raw, name)


meta = dict(line.split("=", 1) for line in read("meta.txt").splitlines() if "=" in line)

# --- micro-benchmarks -------------------------------------------------------------------------------
micro = {}
for b in ("net", "table", "timer", "handshake"):
    text = read(f"micro_{b}.json")
    if not text:
        continue
    for bm in json.loads(text).get("benchmarks", []):
        scale = {"ns": 1, "us": 1e3, "ms": 1e6}.get(bm.get("time_unit", "ns"), 1)
        entry = {"ns": bm["cpu_time"] * scale}
        for c in ("bytes_per_entry", "conns_per_s", "failures", "fired_per_advance"):
            if c in bm:
                entry[c] = bm[c]
        micro[bm["name"]] = entry

# --- device ceiling ---------------------------------------------------------------------------------
dev = kv(next((l for l in read("dev_ring.txt").splitlines() if l.startswith("dev_ceiling:")), ""))
ceiling_pps = float(dev["pps"]) if "pps" in dev else None


# --- connection rate --------------------------------------------------------------------------------
# conns_per_s is the average of the run's whole seconds (benchlib.steady_state: with CPS_DURATION 30 the
# steady state once the 4-tuple space is used up dominates it); the tool's own figure over the whole run
# (ramp-up and drain included) stays as summary_conns_per_s, and is what a run without per-second
# samples falls back to.
def synack_cps(doc):
    summary = (doc or {}).get("summary", {})
    lat = summary.get("connect_latency_ns", {})
    run = benchlib.steady_state(benchlib.synack_seconds(doc))
    return {"conns_per_s": run["avg_conns_per_s"] or summary.get("conns_per_s"),
            "summary_conns_per_s": summary.get("conns_per_s"), "failed": summary.get("failed"),
            "p50_us": lat["p50"] / 1e3 if "p50" in lat else None, "p99_us": lat["p99"] / 1e3 if "p99" in lat else None,
            "run": run}


def linux_cps(text):
    line = next((l for l in text.splitlines() if l.startswith("linux cps:")), "")
    d = kv(line)
    run = benchlib.steady_state(benchlib.linux_seconds(text))
    if not d:
        return {"conns_per_s": run["avg_conns_per_s"], "summary_conns_per_s": None, "failed": None, "p50_us": None,
                "p99_us": None, "run": run}
    return {"conns_per_s": run["avg_conns_per_s"] or float(d["conns_per_s"]),
            "summary_conns_per_s": float(d["conns_per_s"]), "failed": int(d["failed"]),
            "p50_us": float(d["p50_us"]), "p99_us": float(d["p99_us"]), "run": run}


cps = []
for req in (0, 64):
    names = (re.match(r"cps_(?:synack_k(\d+)_r%d\.json|linux_k(\d+)_r%d\.txt)$" % (req, req), f) for f in os.listdir(raw))
    for k in sorted({int(m.group(1) or m.group(2)) for m in names if m}):
        s = synack_cps(document(f"cps_synack_k{k}_r{req}.json"))
        l = linux_cps(read(f"cps_linux_k{k}_r{req}.txt"))
        cps.append({"concurrency": k, "request_bytes": req, "synack": s, "linux": l,
                    "synack_over_linux": s["conns_per_s"] / l["conns_per_s"]
                    if s["conns_per_s"] and l["conns_per_s"] else None})

# --- latency ----------------------------------------------------------------------------------------
def pingpong(text, prefix):
    line = next((l for l in text.splitlines() if l.startswith(prefix)), "")
    d = kv(line)
    return {k: float(d[k]) for k in ("p50_us", "p99_us", "p999_us") if k in d} | (
        {"round_trips": int(d["round_trips"])} if "round_trips" in d else {})


lat = {"synack": pingpong(read("pingpong_synack.txt"), "synack pingpong:"),
       "linux": pingpong(read("pingpong_linux.txt"), "linux pingpong:")}

# --- bulk -------------------------------------------------------------------------------------------
bulk = []
for s in (1, 8):
    sy = ((document(f"bulk_synack_s{s}.json") or {}).get("summary") or {}).get("gbit_per_s")
    li = kv(next((l for l in read(f"bulk_linux_s{s}.txt").splitlines() if l.startswith("linux bulk:")), ""))
    bulk.append({"streams": s, "synack_gbit_s": sy, "linux_gbit_s": float(li["gbit_per_s"]) if "gbit_per_s" in li else None})

# --- memory -----------------------------------------------------------------------------------------
hold_text = read("hold_synack.txt")
mem = {
    "held": first(r"^holding (\d+) established", hold_text, int),
    "held_failed": first(r"^holding \d+ established connections \((\d+) failed\)", hold_text, int),
    "rss_mib": first(r"process RSS ([\d.]+) MiB", hold_text),
    "rss_before_mib": first(r"\(([\d.]+) MiB before they were opened\)", hold_text),
    "per_connection_b": first(r"^memory server: ([\d.]+) B per connection", hold_text),
    "per_time_wait_b": first(r"^memory server: .*?, ([\d.]+) B per TIME-WAIT entry", hold_text),
    "cps_with_held": ((document("hold_synack.json") or {}).get("summary") or {}).get("conns_per_s"),
}
slab = dict(l.split() for l in read("linux_slab.txt").splitlines() if len(l.split()) == 2)
linux_conn_b = sum(int(slab[k]) for k in ("TCP", "sock_inode_cache", "filp", "dentry") if k in slab) or None
linux_tw_b = int(slab["tw_sock_TCP"]) if "tw_sock_TCP" in slab else None


# --- the table --------------------------------------------------------------------------------------
def ratio(a, b):
    return a / b if a and b else None


rows = []  # (case, synack, linux, ratio, target, met)


def fmt(v, unit="", digits=0):
    if v is None:
        return "n/a"
    return f"{v:,.{digits}f}{unit}"


for c in cps:
    r = ratio(c["synack"]["conns_per_s"], c["linux"]["conns_per_s"])
    what = "connect/close" if c["request_bytes"] == 0 else f"{c['request_bytes']} B request/response"
    rows.append((f"conns/s, {what}, concurrency {c['concurrency']}", fmt(c["synack"]["conns_per_s"]),
                 fmt(c["linux"]["conns_per_s"]), fmt(r, "x", 1), ">= 25x", None if r is None else r >= 25))
for b in bulk:
    r = ratio(b["synack_gbit_s"], b["linux_gbit_s"])
    rows.append((f"Gbit/s, {b['streams']} stream(s) (Linux: veth MTU 1500)", fmt(b["synack_gbit_s"], "", 2),
                 fmt(b["linux_gbit_s"], "", 2), fmt(r, "x", 2), ">= 2x", None if r is None else r >= 2))
for p, label in (("p50_us", "p50"), ("p99_us", "p99"), ("p999_us", "p99.9")):
    s, l = lat["synack"].get(p), lat["linux"].get(p)
    r = ratio(l, s)
    target = "<= 1/3 of Linux" if p == "p50_us" else ""
    met = (None if r is None else r >= 3) if p == "p50_us" else None
    rows.append((f"64 B request/response latency {label} (us)", fmt(s, "", 1), fmt(l, "", 1),
                 fmt(r, "x lower", 1), target, met))
rows.append(("bytes per established idle connection", fmt(mem["per_connection_b"]),
             fmt(linux_conn_b, " (slab objects)") if linux_conn_b else "n/a", "", "<= 1024 B",
             None if mem["per_connection_b"] is None else mem["per_connection_b"] <= 1024))
rows.append(("bytes per TIME-WAIT entry", fmt(mem["per_time_wait_b"]),
             fmt(linux_tw_b, " (tw_sock_TCP)") if linux_tw_b else "n/a", "", "<= 128 B",
             None if mem["per_time_wait_b"] is None else mem["per_time_wait_b"] <= 128))
# The --hold run lasts DURATION seconds: it is compared with the same first seconds of the unloaded run at
# 16 in flight (the steady state of a longer run would be a different regime).
hold_s = int(float(meta.get("duration_s", 0) or 0))
base16 = next((c["synack"] for c in cps if c["concurrency"] == 16 and c["request_bytes"] == 0), None)
if base16 is not None:
    base16 = benchlib.mean(base16["run"]["per_second"][:hold_s]) or base16["conns_per_s"]
rows.append((f"conns/s, concurrency 16, with {fmt(mem['held'])} connections held open", fmt(mem["cps_with_held"]), "",
             fmt(ratio(mem["cps_with_held"], base16), f" of unloaded (its first {hold_s} s)", 2), "", None))
if ceiling_pps:
    rows.append((f"net_ring pair packet ceiling (64 B frames/s, {dev.get('lcores', '?')} lcores)", fmt(ceiling_pps), "", "", "", None))
    for c in cps:
        if c["synack"]["conns_per_s"]:
            frames = 7 if c["request_bytes"] == 0 else 9
            c["fraction_of_ceiling"] = c["synack"]["conns_per_s"] * frames / ceiling_pps
    best = max((c for c in cps if c["request_bytes"] == 0 and c["synack"]["conns_per_s"]),
               key=lambda c: c["synack"]["conns_per_s"], default=None)
    if best:
        rows.append((f"best conns/s x 7 frames / ceiling (concurrency {best['concurrency']})",
                     fmt(100 * best["fraction_of_ceiling"], "%", 1), "", "", "", None))
for name, label in (("BM_HandshakeAndTeardown/request_bytes:0", "handshake + teardown, both stacks, one core (ns)"),
                    ("BM_HandshakeAndTeardown/request_bytes:64", "... with a 64 B request/response (ns)"),
                    ("BM_Checksum/64", "checksum, 64 B (ns)"), ("BM_Checksum/1500", "checksum, 1500 B (ns)"),
                    ("BM_ParseTcp/syn:1", "TCP parse + checksum verify, SYN with options (ns)"),
                    ("BM_WriteTcpHeader/syn:1", "TCP header emit + checksum, SYN with options (ns)"),
                    ("BM_LookupHit/0", "connection table lookup hit at 1M (ns)"),
                    ("BM_LookupMiss/0", "connection table lookup miss at 1M (ns)"),
                    ("BM_InsertErasePair/0", "connection table erase + insert at 1M (ns)"),
                    ("BM_Schedule", "timer wheel schedule at 1M (ns)"), ("BM_Cancel", "timer wheel cancel at 1M (ns)")):
    if name in micro:
        rows.append((label, fmt(micro[name]["ns"], "", 1), "", "", "", None))
if "BM_Advance" in micro and micro["BM_Advance"].get("fired_per_advance"):
    a = micro["BM_Advance"]
    rows.append(("timer wheel advance at 1M, per expired entry incl. re-arm (ns)",
                 fmt(a["ns"] / a["fired_per_advance"], "", 1), "", "", "", None))

met_text = {True: "yes", False: "NO", None: ""}
headers = ("case", "Synack", "Linux", "ratio", "target", "met")
table = [headers] + [(a, b, c, d, e, met_text[f]) for a, b, c, d, e, f in rows]

# The connection rate over each run: the average of its whole seconds, the first and the last
# benchlib.WINDOW_S of them (the first use 4-tuples never used before, the last take TIME-WAIT ones over).
w = benchlib.WINDOW_S
steady_headers = ("case", "Synack avg", f"Synack first {w} s", f"Synack last {w} s", "Synack last/first",
                  "Linux avg", f"Linux first {w} s", f"Linux last {w} s", "Linux last/first", "Synack/Linux")
steady = [steady_headers]
for c in cps:
    what = "connect/close" if c["request_bytes"] == 0 else f"{c['request_bytes']} B request/response"
    cells = [f"{what}, concurrency {c['concurrency']}"]
    for side in ("synack", "linux"):
        run = c[side]["run"]
        cells += [fmt(run["avg_conns_per_s"]), fmt(run["first_conns_per_s"]), fmt(run["last_conns_per_s"]),
                  fmt(run["last_over_first"], "", 2)]
    over = ratio(c["synack"]["run"]["avg_conns_per_s"], c["linux"]["run"]["avg_conns_per_s"])
    steady.append(tuple(cells + [fmt(over, "x", 1)]))
cps_s = meta.get("cps_duration_s", meta.get("duration_s", "?"))
steady_note = (f"Connection rate over each {cps_s} s run (conns/s per whole second: the run's average, the first and "
               f"the last {w} s; the table above shows the average)")


def print_table(t):
    widths = [max(len(r[i]) for r in t) for i in range(len(t[0]))]
    for i, r in enumerate(t):
        print("  ".join(r[j].ljust(widths[j]) if j == 0 else r[j].rjust(widths[j]) for j in range(len(r))))
        if i == 0:
            print("  ".join("-" * x for x in widths))


def markdown_table(f, t):
    f.write("| " + " | ".join(t[0]) + " |\n|" + "---|" * len(t[0]) + "\n")
    for r in t[1:]:
        f.write("| " + " | ".join(x.replace("|", "/") for x in r) + " |\n")


runs = (f"{meta.get('duration_s', '?')} s per run, connection rate {cps_s} s per run")
print()
print(f"Synack vs Linux — {meta.get('date', day)}, {meta.get('cpus', '?')} CPUs ({meta.get('cpu_model', '?')}), "
      f"kernel {meta.get('kernel', '?')}, DPDK memory: {meta.get('memory_mode', '?')}, {runs}")
print_table(table)
if cps:
    print(f"\n{steady_note}:")
    print_table(steady)

# --- files ------------------------------------------------------------------------------------------
os.makedirs(results, exist_ok=True)
report = {"meta": meta, "micro": micro, "device_ceiling_pps": ceiling_pps, "cps": cps, "latency": lat,
          "bulk": bulk, "memory": mem | {"linux_slab_bytes": slab}, "table": [dict(zip(headers, r)) for r in table[1:]],
          "cps_steady_table": [dict(zip(steady_headers, r)) for r in steady[1:]]}
with open(os.path.join(results, f"{day}.json"), "w") as f:
    json.dump(report, f, indent=1)
with open(os.path.join(results, f"{day}.md"), "w") as f:
    f.write(f"# Synack vs Linux, {day}\n\n`bash scripts/bench.sh` on {meta.get('cpus', '?')} CPUs "
            f"({meta.get('cpu_model', '?')}), kernel {meta.get('kernel', '?')}, DPDK memory {meta.get('memory_mode', '?')}, "
            f"{runs}.\n\n")
    markdown_table(f, table)
    if cps:
        f.write(f"\n{steady_note}:\n\n")
        markdown_table(f, steady)
    f.write(f"\n![connections per second]({day}-cps.png)\n![connections per second over the run, 16 in flight]"
            f"({day}-cps-seconds.png)\n![latency]({day}-latency.png)\n")

try:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for req, style in ((0, "-"), (64, "--")):
        pts = [c for c in cps if c["request_bytes"] == req]
        if not pts:
            continue
        ks = [c["concurrency"] for c in pts]
        what = "connect/close" if req == 0 else "64 B req/resp"
        ax.plot(ks, [c["synack"]["conns_per_s"] or 0 for c in pts], "o" + style, color="tab:blue", label=f"Synack, {what}")
        ax.plot(ks, [c["linux"]["conns_per_s"] or 0 for c in pts], "s" + style, color="tab:red", label=f"Linux, {what}")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    all_ks = sorted({c["concurrency"] for c in cps})
    ax.set_xticks(all_ks, [str(k) for k in all_ks])
    ax.set_xlabel("connections in flight")
    ax.set_ylabel("connections per second")
    ax.set_title(f"Connection-setup rate, {meta.get('cpus', '?')} CPUs, same run ({day})")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(os.path.join(results, f"{day}-cps.png"), dpi=110)

    # Each second of the runs at 16 in flight: the honeymoon (4-tuples never used before), then the
    # steady state (each connect takes a TIME-WAIT 4-tuple over).
    k16 = [c for c in cps if c["concurrency"] == 16]
    if any(c[side]["run"]["per_second"] for c in k16 for side in ("synack", "linux")):
        fig, ax = plt.subplots(figsize=(8, 4.5))
        for c in k16:
            style = "-" if c["request_bytes"] == 0 else "--"
            what = "connect/close" if c["request_bytes"] == 0 else f"{c['request_bytes']} B req/resp"
            for side, name, color in (("synack", "Synack", "tab:blue"), ("linux", "Linux", "tab:red")):
                ys = c[side]["run"]["per_second"]
                if ys:
                    ax.plot(range(1, len(ys) + 1), ys, "." + style, color=color, label=f"{name}, {what}")
        longest = max(len(c[side]["run"]["per_second"]) for c in k16 for side in ("synack", "linux"))
        ax.axvspan(0.5, w + 0.5, color="0.93", zorder=0)
        ax.axvspan(longest - w + 0.5, longest + 0.5, color="0.93", zorder=0)
        ax.set_yscale("log")
        ax.yaxis.set_major_locator(matplotlib.ticker.LogLocator(subs=(1, 2, 3, 5)))
        ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v / 1e3:,.0f}k"))
        ax.yaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.set_xlim(0.5, longest + 0.5)
        ax.set_xlabel(f"second of the run (shaded: the first and last {w} s)")
        ax.set_ylabel("connections per second")
        ax.set_title(f"Connection rate each second, 16 in flight, same run ({day})")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize="small")
        fig.tight_layout()
        fig.savefig(os.path.join(results, f"{day}-cps-seconds.png"), dpi=110)

    fig, ax = plt.subplots(figsize=(7, 4.5))
    labels = ["p50", "p99", "p99.9"]
    keys = ["p50_us", "p99_us", "p999_us"]
    x = range(len(labels))
    ax.bar([i - 0.2 for i in x], [lat["synack"].get(k, 0) for k in keys], width=0.4, color="tab:blue", label="Synack")
    ax.bar([i + 0.2 for i in x], [lat["linux"].get(k, 0) for k in keys], width=0.4, color="tab:red", label="Linux")
    ax.set_xticks(list(x), labels)
    ax.set_yscale("log")
    ax.set_ylabel("round trip, microseconds")
    ax.set_title("64 B request/response on one connection")
    ax.grid(True, axis="y", which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(os.path.join(results, f"{day}-latency.png"), dpi=110)
    plots = "plots written"
except ImportError:
    plots = "no plots: python3-matplotlib is missing (scripts/setup.sh installs it)"
print(f"\nresults: {results}/{day}.json, {day}.md; {plots}")
