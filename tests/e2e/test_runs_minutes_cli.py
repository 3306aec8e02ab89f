"""`finops-tui runs --json` and `finops-tui minutes` through the installed command, on a home whose
records the test writes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from rituals import runs
from rituals.actions import create_action
from storage.records import Person
from tests.records_engines import open_records

EXE = shutil.which("finops-tui")
pytestmark = [pytest.mark.skipif(EXE is None, reason="finops-tui is not installed"),
              pytest.mark.records_engines]  # SQLite and PostgreSQL (FINOPS_TUI_DB): tests/records_engines.py
NOW = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([EXE, *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "FINOPS_TUI_TODAY": "2026-11-27"})


@pytest.fixture
def home_with_runs(tmp_path, records_db_url) -> tuple[Path, int, int]:
    home = tmp_path / "runs-home"
    records = open_records(home)
    with records.write() as s:
        ana = Person(handle="ana", name="Ana", role="finops_lead")
        s.add(ana)
        s.flush()
        closed = runs.open_run(s, "monthly_review", "2026-10", ana.id, NOW)
        closed = runs.save_note(s, closed, "spend", "Spend | up `3%` <script>")
        create_action(s, title="Right-size search", owner_id=ana.id, now=NOW, due_date=date(2026, 12, 1),
                      source_run_id=closed.id)
        open_ = runs.open_run(s, "tag_sweep", "2026-W48", ana.id, NOW)
        ids = closed.id, open_.id
    with records.write() as s:
        runs.close_run(s, ids[0], {"currency": "USD", "total_spend": 1000.5, "coverage_pct": 80.0}, NOW)
    records.dispose()
    return home, *ids


def test_runs_json_lists_every_run_and_filters_by_kind(home_with_runs) -> None:
    home, closed_id, open_id = home_with_runs
    out = run("--home", str(home), "runs", "--json")
    assert out.returncode == 0, out.stderr
    listed = json.loads(out.stdout)["runs"]
    assert {r["id"]: (r["kind"], r["period"], r["status"]) for r in listed} == {
        closed_id: ("monthly_review", "2026-10", "closed"), open_id: ("tag_sweep", "2026-W48", "open")}
    closed = next(r for r in listed if r["id"] == closed_id)
    assert (closed["actions"], closed["notes"], closed["facilitator"], closed["has_numbers"]) == (1, 1, "ana", True)
    only = json.loads(run("--home", str(home), "runs", "--kind", "tag_sweep", "--json").stdout)["runs"]
    assert [r["id"] for r in only] == [open_id]
    assert run("--home", str(home), "runs", "--kind", "nope").returncode == 2


def test_minutes_renders_a_run_to_stdout_or_a_file(home_with_runs, tmp_path) -> None:
    home, closed_id, open_id = home_with_runs
    out = run("--home", str(home), "minutes", str(closed_id))
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("# Monthly cost review: 2026-10\n")
    assert "> **Notes.** Spend \\| up \\`3%\\` &lt;script>" in out.stdout  # 3% stays as typed
    # Figures frozen in a shape the monthly review's minutes do not read are shown as frozen.
    assert '"total_spend": 1000.5' in out.stdout and "shows them as frozen" in out.stdout
    assert "Right-size search" in out.stdout
    target = tmp_path / "out" / "m.md"
    wrote = run("--home", str(home), "minutes", str(closed_id), "-o", str(target))
    assert wrote.returncode == 0 and target.read_text(encoding="utf-8") == out.stdout
    draft = run("--home", str(home), "minutes", str(open_id))
    assert draft.returncode == 0 and "**Draft.**" in draft.stdout


def test_minutes_as_html_and_plain_text(home_with_runs, tmp_path) -> None:
    home, closed_id, _open = home_with_runs
    page = run("--home", str(home), "minutes", str(closed_id), "--format", "html")
    assert page.returncode == 0, page.stderr
    assert page.stdout.startswith("<!DOCTYPE html>") and "<title>Monthly cost review: 2026-10</title>" in page.stdout
    assert "<h2>Summary</h2>" in page.stdout and "Spend | up `3%` &lt;script&gt;" in page.stdout
    assert "<script" not in page.stdout
    text = run("--home", str(home), "minutes", str(closed_id), "--format", "txt")
    assert text.returncode == 0, text.stderr
    assert text.stdout.startswith("Monthly cost review: 2026-10\n===") and "Spend | up `3%` <script>" in text.stdout
    target = tmp_path / "m.html"  # the format follows the file's extension
    assert run("--home", str(home), "minutes", str(closed_id), "-o", str(target)).returncode == 0
    assert target.read_text(encoding="utf-8") == page.stdout
    bad = run("--home", str(home), "minutes", str(closed_id), "--format", "pdf")
    assert bad.returncode == 2 and "pdf" in bad.stderr


def test_minutes_of_an_unknown_run_exits_2(home_with_runs) -> None:
    home, *_ = home_with_runs
    out = run("--home", str(home), "minutes", "999")
    assert out.returncode == 2
    assert "no ritual run with id 999" in out.stderr and "Traceback" not in out.stderr
