"""The installed `finops-tui showback --json`, `unit-costs --json`, `forecast --json` (and its ledger),
`budgets` and `metrics` on a demo home."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from storage.home import Home

EXE = shutil.which("finops-tui")
pytestmark = pytest.mark.skipif(EXE is None, reason="finops-tui is not installed")


def run(home: Path, *args: str, today: str = "2026-11-27") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FINOPS_TUI_TODAY": today}
    return subprocess.run([EXE, "--home", str(home), *args], capture_output=True, text=True, env=env, timeout=300)


def test_showback_json_sums_to_the_store(demo_home: Home, tmp_path: Path) -> None:
    out = run(demo_home.path, "showback", "--json", "--csv", str(tmp_path / "sb.csv"))
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert set(data) == {"month", "currency", "total", "billed_total", "teams", "billed_basis", "spend_basis"}
    assert data["month"] == "2026-10" and data["currency"] == "USD"
    # Spend by the day a charge falls on; billed by the billing period it is invoiced in.
    assert (data["spend_basis"], data["billed_basis"]) == ("charge_period", "billing_period")
    spend = demo_home.costs.query("SELECT sum(EffectiveCost) AS e FROM line_items "
                                  "WHERE charge_date >= DATE '2026-10-01' AND charge_date < DATE '2026-11-01'")
    billed = demo_home.costs.query("SELECT sum(BilledCost) AS b FROM line_items "
                                   "WHERE BillingPeriodStart = TIMESTAMP '2026-10-01'")
    assert data["total"] == round(float(spend["e"][0]), 2)
    assert data["billed_total"] == round(float(billed["b"][0]), 2)
    assert round(sum(t["total"] for t in data["teams"]), 2) == data["total"]
    assert set(data["teams"][0]) == {"team", "direct", "shared", "total", "share_pct"}
    assert (tmp_path / "sb.csv").read_text().startswith("team,direct,shared,total,share_pct")
    bad = run(demo_home.path, "showback", "--month", "October")
    assert bad.returncode == 2 and "--month must be a month YYYY-MM" in bad.stderr and "Traceback" not in bad.stderr


def test_unit_costs_json(demo_home: Home) -> None:
    out = run(demo_home.path, "unit-costs", "--json", "--month", "2026-09")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["month"] == "2026-09" and data["currency"] == "USD"
    by = {m["metric"]: m for m in data["metrics"]}
    assert by["api_requests"]["per"] == 1000.0 and len(by["api_requests"]["trend"]) == 6
    assert by["inferences"]["unit_cost"] == pytest.approx(by["inferences"]["spend"] / by["inferences"]["volume"])


def test_forecast_json_is_stored_and_later_scored(demo_home: Home, tmp_path: Path) -> None:
    from sqlmodel import delete

    from storage.records import ForecastSnapshot

    with demo_home.records.write() as s:  # start from an empty ledger (the demo ships a forecast history)
        s.exec(delete(ForecastSnapshot))
    demo_home.close()
    early = run(demo_home.path, "forecast", "--month", "2026-10", "--json", today="2026-09-15")
    assert early.returncode == 0, early.stderr
    out = run(demo_home.path, "forecast", "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["month"] == "2026-12" and data["interval_pct"] == 80 and data["data_through"] == "2026-11-26"
    assert data["total"]["lower"] <= data["total"]["forecast"] <= data["total"]["upper"]
    assert {t["team"] for t in data["teams"]} >= {"payments", "ml-inference"}
    assert data["cost_explorer"] is None
    ledger = json.loads(run(demo_home.path, "forecast", "--accuracy", "--json").stdout)
    assert [m["month"] for m in ledger["months"]] == ["2026-10"]
    assert ledger["months"][0]["band"] in ("run", "walk", "crawl", "outside")


def test_budgets_and_metrics_commands(demo_home: Home, tmp_path: Path) -> None:
    csv = tmp_path / "b.csv"
    csv.write_text("team,month,amount\nweb,2027-01,15000\nweb,2027-01x,1\n", encoding="utf-8")
    bad = run(demo_home.path, "budgets", "import", str(csv))
    assert bad.returncode == 2 and f"{csv} row 3: field 'month'" in bad.stderr
    csv.write_text("team,month,amount\nweb,2027-01,15000\n", encoding="utf-8")
    assert run(demo_home.path, "budgets", "import", str(csv)).returncode == 0
    listed = json.loads(run(demo_home.path, "budgets", "list", "--json").stdout)
    assert {"month": "2027-01", "team": "web", "amount": 15000.0, "source": "csv"} in listed["budgets"]
    metrics = tmp_path / "m.csv"
    metrics.write_text("month,metric,value\n2027-01,signups,42\n", encoding="utf-8")
    assert run(demo_home.path, "metrics", "import", str(metrics)).returncode == 0
    rows = json.loads(run(demo_home.path, "metrics", "list", "--json").stdout)["metrics"]
    assert {"month": "2027-01", "metric": "signups", "value": 42.0, "team": None, "source": "csv"} in rows
