"""The installed command: people, teams, `raci --check` on a fresh home and on a broken row, actions update
with who is acting (unknown person: exit 2), a stale --if-version (exit 1 with the message), and the digest."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

EXE = shutil.which("finops-tui")
pytestmark = [pytest.mark.slow, pytest.mark.skipif(EXE is None, reason="finops-tui is not installed"),
              pytest.mark.records_engines]  # SQLite and PostgreSQL (FINOPS_TUI_DB): tests/records_engines.py


def run(home: Path, *args: str, user: str | None = None, today: str = "2026-11-27") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FINOPS_TUI_TODAY": today}
    env.pop("FINOPS_TUI_USER", None)
    if user:
        env["FINOPS_TUI_USER"] = user
    return subprocess.run([EXE, "--home", str(home), *args], capture_output=True, text=True, env=env, timeout=120)


def test_raci_check_on_a_fresh_home_and_on_a_broken_row(tmp_path: Path, records_db_url: str | None) -> None:
    home = tmp_path / "fresh"
    out = run(home, "raci", "--check", "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["ok"] and len(data["activities"]) == 10 and data["errors"] == []
    # A row broken behind the editor's back (two A) fails the check and is named.
    from sqlmodel import select

    from storage.records import RaciActivity, RaciAssignment
    from tests.records_engines import open_records

    records = open_records(home)
    with records.write() as s:
        act = s.exec(select(RaciActivity).where(RaciActivity.name == "Budgets and guardrails")).one()
        s.add(RaciAssignment(activity_id=act.id, role="leadership", letter="A"))
    records.dispose()
    out = run(home, "raci", "--check")
    assert out.returncode == 1
    assert "RACI row 'Budgets and guardrails' has 2 A" in out.stderr and "Traceback" not in out.stderr


def test_people_teams_and_owners_updating_actions(tmp_path: Path, records_db_url: str | None) -> None:
    home = tmp_path / "h"
    assert run(home, "people", "add", "ana", "Ana Lopez", "--role", "FinOps lead").returncode == 0
    assert run(home, "people", "add", "carl", "Carl Diaz", "--role", "engineering").returncode == 0
    assert run(home, "teams", "add", "web", "--owner", "carl").returncode == 0
    assert run(home, "teams", "accounts", "web", "--add", "111111111111=web-prod").returncode == 0
    bad = run(home, "people", "add", "zed", "Zed", "--role", "accounting")
    assert bad.returncode == 2 and "role must be one of" in bad.stderr
    teams = json.loads(run(home, "teams", "list", "--json").stdout)["teams"]
    assert teams == [{"name": "web", "owner": "carl", "active": True, "members": ["carl"],
                      "accounts": [{"account_id": "111111111111", "account_name": "web-prod"}]}]

    # Added a week earlier (a new action is never due in the past), overdue by today.
    added = run(home, "actions", "add", "Tag the buckets", "--owner", "carl", "--team", "web", "--due", "2026-11-20",
                user="ana", today="2026-11-13")
    assert added.returncode == 0, added.stderr
    unknown = run(home, "actions", "update", "1", "--status", "done", user="ghost")
    assert unknown.returncode == 2 and "unknown person 'ghost'" in unknown.stderr
    ok = run(home, "actions", "update", "1", "--status", "in_progress", "--if-version", "1", "--as", "carl")
    assert ok.returncode == 0 and "version 2" in ok.stdout, ok.stderr
    stale = run(home, "actions", "update", "1", "--status", "done", "--if-version", "1", "--as", "ana")
    assert stale.returncode == 1
    assert "changed by Carl Diaz at 2026-11-27" in stale.stderr and "run again" in stale.stderr

    mine = json.loads(run(home, "actions", "list", "--mine", "--overdue", "--json", user="carl").stdout)
    assert [(a["id"], a["status"], a["overdue"], a["days_overdue"]) for a in mine["actions"]] == [
        (1, "in_progress", True, 7)]
    shown = json.loads(run(home, "actions", "show", "1", "--json").stdout)
    assert [(e["field"], e["actor"]) for e in shown["history"]] == [("created", "ana"), ("status", "carl")]
    digest = run(home, "digest", "--owner", "carl")
    assert digest.returncode == 0 and "1 open, 1 overdue" in digest.stdout and "#1 Tag the buckets" in digest.stdout


def test_whoami_is_remembered_for_an_os_user_that_is_no_person(tmp_path: Path, records_db_url: str | None) -> None:
    import getpass

    home = tmp_path / "who"
    assert run(home, "people", "add", "lena", "Lena Ortiz", "--role", "finops_lead").returncode == 0
    os_user = getpass.getuser()  # root in CI: not a person in these records
    unknown = run(home, "people", "whoami")
    assert unknown.returncode == 2 and f"unknown person '{os_user}'" in unknown.stderr
    assert "people whoami --set HANDLE" in unknown.stderr and "Traceback" not in unknown.stderr
    bad = run(home, "people", "whoami", "--set", "ghost")
    assert bad.returncode == 2 and "no active person 'ghost'" in bad.stderr
    chose = run(home, "people", "whoami", "--set", "lena", "--json")
    assert chose.returncode == 0, chose.stderr
    assert json.loads(chose.stdout) == {"os_user": os_user, "handle": "lena", "name": "Lena Ortiz",
                                        "role": "finops_lead"}
    # Remembered: the next command acts as lena without --as or FINOPS_TUI_USER.
    added = run(home, "actions", "add", "Tag the buckets", "--owner", "lena")
    assert added.returncode == 0, added.stderr
    mine = json.loads(run(home, "actions", "list", "--mine", "--json").stdout)
    assert [a["title"] for a in mine["actions"]] == ["Tag the buckets"]
    assert run(home, "people", "whoami", "--forget").returncode == 2  # forgotten: unknown again
