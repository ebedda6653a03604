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
