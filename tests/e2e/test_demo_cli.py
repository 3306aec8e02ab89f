"""End to end: the installed command builds the demo home, lists its runs, renders minutes, and refuses to
write over a folder holding real data."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

EXE = shutil.which("finops-tui")
pytestmark = pytest.mark.skipif(EXE is None, reason="finops-tui is not installed")


def run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FINOPS_TUI_TODAY": "2026-11-27"}
    return subprocess.run([EXE, *args], capture_output=True, text=True, env=env, timeout=300)


def test_demo_then_runs_and_minutes(tmp_path: Path) -> None:
    home = str(tmp_path / "demo")
    built = run("--home", home, "demo", "--no-tui")
    assert built.returncode == 0, built.stderr
    assert "demo ready" in built.stderr
    again = run("--home", home, "demo", "--no-tui")
    assert again.returncode == 0 and "opening the demo" in again.stderr
    runs = run("--home", home, "runs", "--json")
    assert runs.returncode == 0, runs.stderr
    listed = json.loads(runs.stdout)["runs"]
    kinds = {r["kind"] for r in listed}
    assert {"tag_sweep", "monthly_review", "commitment_review"} <= kinds
    first = listed[0]["id"]
    minutes = run("--home", home, "minutes", str(first))
    assert minutes.returncode == 0, minutes.stderr
    assert minutes.stdout.startswith("# ")
    info = json.loads(run("--home", home, "info", "--json").stdout)
    assert info["demo"] is True and info["cost_rows"] > 200_000 and info["last_day"] == "2026-11-26"


def test_demo_refuses_a_home_with_real_data(tmp_path: Path) -> None:
    (tmp_path / "finops-tui.toml").write_text("[targets]\nallocation_pct = 95\n")
    out = run("--home", str(tmp_path), "demo", "--no-tui")
    assert out.returncode == 2
    assert "holds real data" in out.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["finops-tui.toml"]
