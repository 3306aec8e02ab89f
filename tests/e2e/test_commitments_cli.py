"""End to end: the installed `finops-tui commitments` on a demo home prints the review's JSON (the keys the
issue lists, the demo's truth, the expiring plan), its text summary, and refuses bad dates with exit 2."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

EXE = shutil.which("finops-tui")
pytestmark = pytest.mark.skipif(EXE is None, reason="finops-tui is not installed")
KEYS = ("coverage_pct", "utilization_pct", "effective_savings_rate_pct", "eligible_cost", "covered_cost",
        "unused_commitment_cost", "expiring", "baseline_hourly", "recommended_additional_hourly", "currency")


def run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FINOPS_TUI_TODAY": "2026-11-27"}
    return subprocess.run([EXE, *args], capture_output=True, text=True, env=env, timeout=300)


def test_commitments_json_on_the_demo(demo_home, demo_truth) -> None:
    home = str(demo_home.path)
    out = run("--home", home, "commitments", "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert all(k in data for k in KEYS), [k for k in KEYS if k not in data]
    assert (data["start"], data["end"], data["currency"]) == ("2026-10-28", "2026-11-27", "USD")
    assert data["coverage_pct"] == pytest.approx(demo_truth.coverage_pct, abs=1.0)
    assert data["utilization_pct"] == pytest.approx(demo_truth.utilization_pct, abs=1.0)
    assert [c["commitment_id"].rsplit("/", 1)[-1] for c in data["expiring"]] == ["sp-1yr-compute-b"]
    assert data["recommended_additional_hourly"] > 0 and "NaN" not in out.stdout
    # Every table sums to the headline: unused commitment is a line of its own per commitment.
    for table in ("by_service", "by_account"):
        for col, total in (("eligible", "eligible_cost"), ("covered", "covered_cost"),
                           ("unused", "unused_commitment_cost")):
            assert sum(r[col] for r in data[table]) == pytest.approx(data[total], abs=0.01), (table, col)
    programs = {p["program"]: p for p in data["programs"]}
    assert programs["Compute Savings Plans"]["commitments"] == 2
    assert programs["Reserved Instances: RDS"]["commitments"] == 1
    assert sum(p["covered_cost"] for p in data["programs"]) == pytest.approx(data["covered_cost"], abs=0.01)
    assert "Amazon Elastic Compute Cloud" in data["coverage_basis"] and data["warnings"] == []

    week = json.loads(run("--home", home, "commitments", "--start", "2026-11-01", "--end", "2026-11-08",
                          "--lookback", "7", "--json").stdout)
    assert (week["start"], week["end"], week["lookback_days"], len(week["daily"])) == \
        ("2026-11-01", "2026-11-08", 7, 7)

    text = run("--home", home, "commitments")
    assert text.returncode == 0 and "coverage" in text.stdout and "sp-1yr-compute-b" in text.stdout
    assert "per program" in text.stdout and "Reserved Instances: RDS" in text.stdout

    bad = run("--home", home, "commitments", "--start", "2026-11-08", "--end", "2026-11-01")
    assert bad.returncode == 2 and "must be before" in bad.stderr and "Traceback" not in bad.stderr
    assert "the 30 days before today" in run("commitments", "--help").stdout
