"""End to end: the installed `finops-tui kpis --json` on a demo home; its figures equal those of the rituals
that produce them over the same window (sweep --json, commitments --json), no-data KPIs are listed as such,
and a bad quarter exits 2."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

EXE = shutil.which("finops-tui")
pytestmark = pytest.mark.skipif(EXE is None, reason="finops-tui is not installed")


def run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FINOPS_TUI_TODAY": "2026-11-27"}
    return subprocess.run([EXE, *args], capture_output=True, text=True, env=env, timeout=300)


def test_kpis_json_equals_the_rituals(demo_home) -> None:
    home = str(demo_home.path)
    out = run("--home", home, "kpis", "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert (data["quarter"], data["start"], data["end"]) == ("2026-Q3", "2026-07-01", "2026-10-01")
    assert data["quarters"] == ["2025-Q4", "2026-Q1", "2026-Q2", "2026-Q3"] and "NaN" not in out.stdout
    values = data["values"]

    sweep = json.loads(run("--home", home, "sweep", "--start", "2026-07-01", "--end", "2026-10-01", "--json").stdout)
    assert values["allocation_coverage_pct"] == pytest.approx(sweep["coverage_pct"], abs=1e-6)
    commit = json.loads(run("--home", home, "commitments", "--start", "2026-07-01", "--end", "2026-10-01",
                            "--json").stdout)
    assert values["commitment_coverage_pct"] == pytest.approx(commit["coverage_pct"], abs=1e-6)
    assert values["commitment_utilization_pct"] == pytest.approx(commit["utilization_pct"], abs=1e-6)
    assert values["effective_savings_rate_pct"] == pytest.approx(commit["effective_savings_rate_pct"], abs=1e-6)
    # The waste ratio is over the quarter's last complete month (September), against that month's figures.
    waste = next(k for k in data["kpis"] if k["key"] == "waste_ratio_pct")
    sep_sweep = json.loads(run("--home", home, "sweep", "--start", "2026-09-01", "--end", "2026-10-01",
                               "--json").stdout)
    sep_commit = json.loads(run("--home", home, "commitments", "--start", "2026-09-01", "--end", "2026-10-01",
                                "--json").stdout)
    unused = next(r for r in waste["detail"]["rules"] if r["rule"] == "unused_commitment")
    assert unused["cost"] == pytest.approx(sep_commit["unused_commitment_cost"], abs=1e-4)
    assert waste["detail"]["total_cost"] == pytest.approx(sep_sweep["total_cost"], abs=1e-4)
    assert waste["detail"]["month"] == "2026-09" and "/ spend" in waste["detail"]["formula"]
    assert {r["rule"] for r in waste["detail"]["rules"]} >= {"idle_addresses", "idle_load_balancers",
                                                               "weekend_running", "open_inbox"}
    # The demo holds three monthly reviews of the quarter's three months.
    assert values["monthly_reviews_held_pct"] == 100.0
    # No anomaly case was triaged in the demo: no data, never 0.
    missing = {k["key"] for k in data["no_data"]}
    assert "anomaly_ttd_median_hours" in missing and "anomaly_ttd_median_hours" not in values

    older = json.loads(run("--home", home, "kpis", "--quarter", "2026-Q2", "--json").stdout)
    assert older["values"]["allocation_coverage_pct"] == data["kpis"][0]["trend"][2]["value"]

    bad = run("--home", home, "kpis", "--quarter", "2026-Q5")
    assert bad.returncode == 2 and "2026-Q5" in bad.stderr and "Traceback" not in bad.stderr
    helptext = run("kpis", "--help").stdout
    assert "last complete quarter" in helptext
