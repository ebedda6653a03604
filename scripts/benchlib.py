"""What the benchmark report scripts share: reading a run's raw files and key=value fields."""
import json
import os
import re
import sys


def read(raw, name):
    """The text of raw/name, or "" when the run did not produce it."""
    path = os.path.join(raw, name)
    if not os.path.exists(path):
        return ""
    with open(path, errors="replace") as f:
        return f.read()


def kv(line):
    """The key=value pairs of one line, as a dict of strings."""
    return {k: v for k, v in re.findall(r"(\w+)=([^\s,]+)", line)}


def args(program, what):
    """RAW_DIR RESULTS_DIR DATE from the command line; on a missing or bad argument (or --help) the usage
    on stderr and exit 2 (0 for --help), never a traceback. `what` names the script writing RAW_DIR."""
    usage = (f"usage: {program} RAW_DIR RESULTS_DIR DATE\n"
             f"  RAW_DIR      the raw outputs of one run ({what} writes them; must exist)\n"
             f"  RESULTS_DIR  where the report files go (created if missing)\n"
             f"  DATE         the run's name, e.g. 2026-12-02 (no '/')")
    argv = sys.argv[1:]
    if any(a in ("-h", "--help") for a in argv):
        print(usage, file=sys.stderr)
        sys.exit(0)
    problem = None
    if len(argv) != 3:
        problem = f"expected 3 arguments, got {len(argv)}"
    elif not os.path.isdir(argv[0]):
        problem = f"RAW_DIR {argv[0]!r} is not a directory"
    elif not argv[2] or "/" in argv[2]:
        problem = f"DATE {argv[2]!r} must be a non-empty name without '/'"
    if problem:
        print(f"{program}: {problem}\n{usage}", file=sys.stderr)
        sys.exit(2)
    return argv[0], argv[1], argv[2]


def document(raw, name):
    """The JSON document a synack tool wrote with --json into raw/name, or None (missing or unreadable)."""
    text = read(raw, name)
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        print(f"{name} is not one JSON document; its figures are n/a", file=sys.stderr)
        return None


# --- connection rate over a run ----------------------------------------------------------------------
# A connection-rate run is judged by its per-second rates: the first seconds use 4-tuples never used
# before, the later ones must take TIME-WAIT 4-tuples over (the steady state).
WINDOW_S = 5  # the first and last seconds compared


def synack_seconds(doc):
    """The per-second connection rates of a `synack-cps --json` document ("intervals", one a second
    unless the run gave --interval), in order. The final partial interval (the drain after the run
    stopped opening, usually milliseconds) is left out: an interval counts when it is at least half as
    long as the longest."""
    intervals = [i for i in (doc or {}).get("intervals", []) if "conns_per_s" in i and "seconds" in i]
    longest = max((i["seconds"] for i in intervals), default=0)
    return [i["conns_per_s"] for i in intervals if i["seconds"] >= 0.5 * longest]


def linux_seconds(text):
    """The per-second connection rates of `linux_cps client`'s progress lines
    ('t=Ns conns/s=R ok=N failed=F inflight=K'), in order."""
    return [float(m.group(1)) for m in re.finditer(r"^t=\d+s conns/s=([\d.]+) ", text, re.M)]


def mean(values):
    return sum(values) / len(values) if values else None


def steady_state(rates, window=WINDOW_S):
    """What a per-second series says about the steady state: the average over the whole run, over the
    first `window` seconds and over the last `window` seconds, and last/first. With fewer than `window`
    seconds the windows are None (the two windows overlap when the run is shorter than 2 x window)."""
    first = mean(rates[:window]) if len(rates) >= window else None
    last = mean(rates[-window:]) if len(rates) >= window else None
    return {"seconds": len(rates), "avg_conns_per_s": mean(rates), "first_conns_per_s": first,
            "last_conns_per_s": last, "last_over_first": last / first if first and last is not None else None,
            "per_second": rates}
