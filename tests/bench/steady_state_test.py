#!/usr/bin/python3
"""The connection-rate steady state of scripts/bench.sh's report, on captured tool output: the per-second
rates read from synack-cps's JSON "intervals" and linux_cps's 't=Ns conns/s=' lines, the averages over the
run and its first and last seconds (scripts/benchlib.py), and bench_report.py putting them in its JSON,
markdown and per-second plot. No device, no root: `python3 tests/bench/steady_state_test.py`."""
import json
import os
import subprocess
import sys
import tempfile
import unittest

SCRIPTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts")
sys.path.insert(0, SCRIPTS)
import benchlib  # noqa: E402

# `synack-cps -- --loopback --duration 2 --concurrency 16 --json`, its "intervals" (2026-12-03): two
# whole seconds, then the drain after the run stopped opening (83 us).
SYNACK_INTERVALS = [
    {"start_s": 0, "end_s": 1.00000109, "seconds": 1.00000109, "ok": 452890, "failed": 0,
     "conns_per_s": 452889.50635043805, "inflight": 16, "time_wait_reused": 0, "no_4tuple": 0},
    {"start_s": 1.00000109, "end_s": 2, "seconds": 0.99999891, "ok": 478512, "failed": 0,
     "conns_per_s": 478512.52157864854, "inflight": 16, "time_wait_reused": 0, "no_4tuple": 0},
    {"start_s": 2, "end_s": 2.00008296, "seconds": 8.296e-05, "ok": 16, "failed": 0,
     "conns_per_s": 192864.03085824492, "inflight": 0, "time_wait_reused": 0, "no_4tuple": 0},
]

# `linux_cps client --connect 127.0.0.1:P --concurrency 1 --duration 3 --cpu 0` (2026-12-03).
LINUX_TEXT = """t=1s conns/s=17205 ok=17225 failed=0 inflight=0
t=2s conns/s=15750 ok=32958 failed=0 inflight=0
t=3s conns/s=15748 ok=48713 failed=0 inflight=0
linux cps: ok=48713 failed=0 seconds=3.00 conns_per_s=16235 p50_us=20.9 p99_us=1204.3 p999_us=1736.0
failures: none
"""


def synack_doc(rates, drain=True):
    """A synack-cps document with one whole-second interval per rate (and a drain interval)."""
    intervals = [{"start_s": i, "end_s": i + 1, "seconds": 1.0, "ok": int(r), "failed": 0, "conns_per_s": r}
                 for i, r in enumerate(rates)]
    if drain:
        intervals.append({"start_s": len(rates), "end_s": len(rates) + 0.001, "seconds": 0.001, "ok": 5,
                          "failed": 0, "conns_per_s": 5000.0})
    total = sum(int(r) for r in rates)
    return {"intervals": intervals,
            "summary": {"ok": total, "failed": 0, "seconds": len(rates) + 0.001,
                        "conns_per_s": total / (len(rates) + 0.001),
                        "connect_latency_ns": {"p50": 30000, "p99": 90000}}}


def linux_text(rates):
    lines = [f"t={i + 1}s conns/s={r:.0f} ok={i} failed=0 inflight=16" for i, r in enumerate(rates)]
    total = sum(rates)
    return "\n".join(lines + [f"linux cps: ok={total:.0f} failed=0 seconds={len(rates)}.00 "
                              f"conns_per_s={total / len(rates):.0f} p50_us=130.0 p99_us=300.0 p999_us=900.0",
                              "failures: none", ""])


class Parsing(unittest.TestCase):
    def test_synack_intervals_drop_the_drain(self):
        rates = benchlib.synack_seconds({"intervals": SYNACK_INTERVALS})
        self.assertEqual(len(rates), 2)
        self.assertAlmostEqual(rates[0], 452889.5, places=0)
        self.assertAlmostEqual(rates[1], 478512.5, places=0)

    def test_synack_half_second_intervals_are_kept(self):  # --interval 0.5
        doc = {"intervals": [{"seconds": 0.5, "conns_per_s": 1.0}, {"seconds": 0.5001, "conns_per_s": 2.0},
                             {"seconds": 0.01, "conns_per_s": 3.0}]}
        self.assertEqual(benchlib.synack_seconds(doc), [1.0, 2.0])

    def test_synack_missing_document(self):
        self.assertEqual(benchlib.synack_seconds(None), [])
        self.assertEqual(benchlib.synack_seconds({"summary": {}}), [])

    def test_linux_lines(self):
        self.assertEqual(benchlib.linux_seconds(LINUX_TEXT), [17205.0, 15750.0, 15748.0])
        self.assertEqual(benchlib.linux_seconds("linux cps: ok=0\n"), [])


class SteadyState(unittest.TestCase):
    def test_honeymoon_then_steady(self):
        rates = [460000.0] * 5 + [300000.0] * 25
        s = benchlib.steady_state(rates)
        self.assertEqual(s["seconds"], 30)
        self.assertAlmostEqual(s["avg_conns_per_s"], (5 * 460000 + 25 * 300000) / 30)
        self.assertEqual(s["first_conns_per_s"], 460000.0)
        self.assertEqual(s["last_conns_per_s"], 300000.0)
        self.assertAlmostEqual(s["last_over_first"], 300000 / 460000)
        self.assertEqual(s["per_second"], rates)

    def test_shorter_than_the_window(self):
        s = benchlib.steady_state([1.0, 3.0])
        self.assertEqual(s["avg_conns_per_s"], 2.0)
        self.assertIsNone(s["first_conns_per_s"])
        self.assertIsNone(s["last_conns_per_s"])
        self.assertIsNone(s["last_over_first"])

    def test_empty(self):
        s = benchlib.steady_state([])
        self.assertIsNone(s["avg_conns_per_s"])
        self.assertIsNone(s["last_over_first"])


class Report(unittest.TestCase):
    """bench_report.py on a raw directory holding only the connection-rate runs at 16 in flight."""

    def test_report(self):
        with tempfile.TemporaryDirectory() as tmp:
            raw, out = os.path.join(tmp, "raw"), os.path.join(tmp, "out")
            os.mkdir(raw)
            synack = [460000.0] * 5 + [300000.0] * 25
            linux = [30000.0] * 5 + [29000.0] * 25
            with open(os.path.join(raw, "cps_synack_k16_r0.json"), "w") as f:
                json.dump(synack_doc(synack), f)
            with open(os.path.join(raw, "cps_linux_k16_r0.txt"), "w") as f:
                f.write(linux_text(linux))
            with open(os.path.join(raw, "meta.txt"), "w") as f:
                f.write("date=unit\ncpus=2\nduration_s=3\ncps_duration_s=30\n")
            run = subprocess.run([sys.executable, os.path.join(SCRIPTS, "bench_report.py"), raw, out, "unit"],
                                 capture_output=True, text=True, timeout=120)
            self.assertEqual(run.returncode, 0, run.stderr)
            with open(os.path.join(out, "unit.json")) as f:
                report = json.load(f)
            c = report["cps"][0]
            avg_s, avg_l = sum(synack) / 30, sum(linux) / 30
            self.assertAlmostEqual(c["synack"]["conns_per_s"], avg_s)  # the table's figure: the run's average
            self.assertAlmostEqual(c["linux"]["conns_per_s"], avg_l)
            self.assertAlmostEqual(c["synack"]["run"]["last_over_first"], 300000 / 460000)
            self.assertAlmostEqual(c["linux"]["run"]["first_conns_per_s"], 30000.0)
            self.assertAlmostEqual(c["synack_over_linux"], avg_s / avg_l)
            row = report["cps_steady_table"][0]
            self.assertEqual(row["Synack avg"], f"{avg_s:,.0f}")
            self.assertEqual(row["Synack last/first"], "0.65")
            self.assertEqual(row["Linux last/first"], "0.97")
            self.assertEqual(row["Synack/Linux"], f"{avg_s / avg_l:.1f}x")
            with open(os.path.join(out, "unit.md")) as f:
                md = f.read()
            self.assertIn("connection rate 30 s per run", md)
            row_md = f"| connect/close, concurrency 16 | {avg_s:,.0f} | 460,000 | 300,000 | 0.65 | {avg_l:,.0f} |"
            self.assertIn(row_md, md)
            try:
                import matplotlib  # noqa: F401
            except ImportError:
                return
            self.assertTrue(os.path.getsize(os.path.join(out, "unit-cps-seconds.png")) > 0)


if __name__ == "__main__":
    unittest.main()
