"""`finops-tui anomalies` through the installed command on the demo home: the --json object, stable cases
on a second run, --check for cron, bad dates, and the minutes of a triage run carrying its section."""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
from datetime import date

import pytest

EXE = shutil.which("finops-tui")
pytestmark = pytest.mark.skipif(EXE is None, reason="finops-tui is not installed")
KEYS = ("id", "start", "end", "dimension", "value", "expected_cost", "actual_cost", "impact", "impact_pct",
        "status", "owner_team", "root_causes", "historical")


def run(home, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([EXE, "--home", str(home.path), *args], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "FINOPS_TUI_TODAY": "2026-11-27"})


def _no_nan(obj) -> bool:
    if isinstance(obj, float):
        return not math.isnan(obj)
    if isinstance(obj, dict):
        return all(_no_nan(v) for v in obj.values())
    if isinstance(obj, list):
        return all(_no_nan(v) for v in obj)
    return True


def test_anomalies_json_on_the_demo_home(demo_home, demo_truth):
    demo_home.close()
    first = run(demo_home, "anomalies", "--json")
    assert first.returncode == 0, first.stderr
    numbers = json.loads(first.stdout)
    assert (numbers["start"], numbers["end"], numbers["currency"]) == ("2026-10-28", "2026-11-27", "USD")
    assert numbers["new_cases"] and _no_nan(numbers)
    reindex = next(x for x in demo_truth.anomalies if x.key == "reindex")
    rows = numbers["anomalies"]
    assert all(k in a for a in rows for k in KEYS)
    hit = next(a for a in rows if a["dimension"] == "service" and a["value"] == reindex.service)
    assert (hit["start"], hit["end"]) == (reindex.start.isoformat(), reindex.end.isoformat())
    assert hit["owner_team"] == reindex.team and hit["status"] == "new" and not hit["historical"]
    assert hit["impact"] == pytest.approx(reindex.extra_per_day * 3, rel=0.2)
    assert {a["dimension"] for a in rows} >= {"service", "account", "team"}
    # An event is the unit of impact: each injected spike overlapping the window is one event (seen in
    # several series), and the window's impact is their injected excess, not the sum of their cases.
    start, end = date.fromisoformat(numbers["start"]), date.fromisoformat(numbers["end"])
    injected = [x for x in demo_truth.anomalies if x.start < end and start < x.end]
    assert numbers["events"] == len(injected) == len(numbers["by_event"]) and numbers["count"] > len(injected)
    assert numbers["impact"] == pytest.approx(sum(x.extra_per_day * (x.end - x.start).days for x in injected),
                                              rel=0.1)

    # Detecting again finds the same cases.
    again = json.loads(run(demo_home, "anomalies", "--json").stdout)
    assert again["new_cases"] == [] and [a["id"] for a in again["anomalies"]] == [a["id"] for a in rows]

    # --check fails while live anomalies are untriaged, and passes on a quiet window.
    check = run(demo_home, "anomalies", "--check")
    assert check.returncode == 1 and "untriaged" in check.stderr
    quiet = run(demo_home, "anomalies", "--check", "--start", "2026-01-05", "--end", "2026-01-12")
    assert quiet.returncode == 0, quiet.stdout + quiet.stderr
    bad = run(demo_home, "anomalies", "--start", "2026-11-31")
    assert bad.returncode == 2 and "--start" in bad.stderr and "Traceback" not in bad.stderr


def test_a_closed_triage_run_renders_its_section_in_the_minutes(demo_home):
    from rituals import runs
    from rituals.anomaly_report import triage

    numbers = triage(demo_home, date(2026, 11, 20), date(2026, 11, 27))
    with demo_home.records.write() as s:
        run_ = runs.open_run(s, "anomaly_triage", "2026-W48", None, demo_home.clock.now())
        runs.close_run(s, run_.id, numbers, demo_home.clock.now())
        run_id = run_.id
    demo_home.close()
    out = run(demo_home, "minutes", str(run_id))
    assert out.returncode == 0, out.stderr
    assert "\n## Queue\n" in out.stdout and "#### Case " in out.stdout
    assert numbers["anomalies"][0]["id"] in out.stdout and "Time to detect" in out.stdout
