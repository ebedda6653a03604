"""What the benchmark report scripts share: reading a run's raw files and key=value fields."""
import os
import re


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
