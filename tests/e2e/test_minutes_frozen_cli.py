"""`finops-tui minutes RUN_ID` of a closed run through the installed command: the same bytes on a later day
after its action moved on and its owner was renamed."""

from __future__ import annotations

import os
import shutil
import subprocess
from datetime import UTC, date, datetime

import pytest

from rituals import runs
from rituals.actions import create_action, update_action
from storage.records import Person
from tests.records_engines import open_records

EXE = shutil.which("finops-tui")
pytestmark = [pytest.mark.skipif(EXE is None, reason="finops-tui is not installed"),
              pytest.mark.records_engines]  # SQLite and PostgreSQL (FINOPS_TUI_DB): tests/records_engines.py
NOW = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)


def _minutes(home, run_id: int, today: str) -> str:
    out = subprocess.run([EXE, "--home", str(home), "minutes", str(run_id)], capture_output=True, text=True,
                         timeout=120, env={**os.environ, "FINOPS_TUI_TODAY": today})
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_minutes_of_a_closed_run_do_not_move(tmp_path, records_db_url) -> None:
    home = tmp_path / "home"
    records = open_records(home)
    try:
        with records.write() as s:
            ana = Person(handle="ana", name="Ana", role="finops_lead")
            s.add(ana)
            s.flush()
            run = runs.open_run(s, "monthly_review", "2026-10", ana.id, NOW)
            action = create_action(s, title="Right-size search", owner_id=ana.id, now=NOW,
                                   due_date=date(2026, 12, 1), source_run_id=run.id)
            run_id, action_id, ana_id = run.id, action.id, ana.id
        with records.write() as s:
            runs.close_run(s, run_id, {"currency": "USD", "total_spend": 1000.5}, NOW)
        at_close = _minutes(home, run_id, "2026-11-03")
        assert f"| {action_id} | Right-size search | Ana (ana) | 2026-12-01 | open |" in at_close
        update_action(records, action_id, actor_id=ana_id, now=NOW, status="in_progress")
        with records.write() as s:
            s.get(Person, ana_id).name = "Ana Renamed"
    finally:
        records.dispose()
    assert _minutes(home, run_id, "2026-11-04") == at_close
