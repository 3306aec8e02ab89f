"""`finops-tui sweep --json` and `--check` through the installed command on a demo home."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from datetime import timedelta

import pytest

from rituals.tag_fixes import compute_sweep
from tests.conftest import FIXED_TODAY

EXE = shutil.which("finops-tui")
pytestmark = pytest.mark.skipif(EXE is None, reason="finops-tui is not installed")


def run(home, *args: str) -> subprocess.CompletedProcess[str]:  # type: ignore[no-untyped-def]
    return subprocess.run([EXE, "--home", str(home.path), "sweep", *args], capture_output=True, text=True,
                          timeout=120, env={**os.environ, "FINOPS_TUI_TODAY": FIXED_TODAY.isoformat()})


def test_sweep_json_and_check_on_the_demo(demo_home, demo_truth) -> None:
    out = run(demo_home, "--json")
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout)
    start, end = FIXED_TODAY - timedelta(days=7), FIXED_TODAY  # the default: the last 7 complete days
    assert (got["start"], got["end"], got["currency"]) == (start.isoformat(), end.isoformat(), "USD")
    for key in ("total_cost", "allocated_cost", "unallocated_cost", "coverage_pct", "by_tag_pct", "by_rule_pct",
                "by_key", "by_account", "top_unallocated"):
        assert key in got, key
    assert set(got["by_account"][0]) >= {"account_id", "account_name", "cost", "coverage_pct"}
    assert set(got["top_unallocated"][0]) >= {"resource_id", "account_id", "service", "cost", "suggested_owner"}
    assert got == json.loads(json.dumps(compute_sweep(demo_home, start, end).as_json()))

    week = run(demo_home, "--json", "--start", "2026-11-16", "--end", "2026-11-23")
    assert json.loads(week.stdout)["coverage_pct"] == pytest.approx(demo_truth.allocation_by_week["2026-W47"],
                                                                    abs=0.1)

    assert run(demo_home, "--check").returncode == 0  # 91% against the default 90% target
    (demo_home.path / "finops-tui.toml").write_text(
        (demo_home.path / "finops-tui.toml").read_text() + "\n[targets]\nallocation_pct = 95.0\n")
    failed = run(demo_home, "--check")
    assert failed.returncode == 1 and "below the target 95%" in failed.stderr
    empty = run(demo_home, "--check", "--start", "2030-01-01")
    assert empty.returncode == 1 and "no spend" in empty.stderr
    bad = run(demo_home, "--start", "2026-13-01")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr and "--start" in bad.stderr
    assert "last 7 complete days" in subprocess.run([EXE, "sweep", "--help"], capture_output=True,
                                                    text=True).stdout
