"""The rules of ``rituals.actions`` through the installed command: who may change an action (its owner, its
team's owner, a FinOps lead, the facilitator of an open run that shows it, or anyone with --force, which the
history records with the actor), and due dates (never in the past on add; on update only with
--allow-past)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

EXE = shutil.which("finops-tui")
pytestmark = pytest.mark.skipif(EXE is None, reason="finops-tui is not installed")
NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


def run(home: Path, *args: str, user: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FINOPS_TUI_TODAY": "2026-11-27", "FINOPS_TUI_USER": user}
    env.pop("FINOPS_TUI_DB", None)
    return subprocess.run([EXE, "--home", str(home), *args], capture_output=True, text=True, env=env, timeout=120)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """kenji owns action 1 of team search (owned by tomas); priya is the FinOps lead; dana facilitates the
    open monthly review that carries action 2 (from a closed earlier review); lena is none of these."""
    from rituals.actions import create_action
    from rituals.people import add_person, add_team
    from rituals.runs import close_run, open_run
    from storage.db import Records

    path = tmp_path / "home"
    records = Records.at(path / "records.sqlite")
    with records.write() as s:
        people = {h: add_person(s, h, h.title(), role) for h, role in (
            ("priya", "finops_lead"), ("kenji", "engineering"), ("tomas", "engineering"), ("lena", "engineering"),
            ("dana", "finance"))}
        search = add_team(s, "search", owner="tomas")
        create_action(s, title="Re-index off-peak", owner_id=people["kenji"].id, team_id=search.id, now=NOW,
                      actor_id=people["priya"].id, due_date=date(2026, 12, 4))
        earlier = open_run(s, "monthly_review", "2026-09", people["priya"].id, NOW)
        create_action(s, title="Right-size RDS", owner_id=people["kenji"].id, now=NOW, actor_id=people["priya"].id,
                      due_date=date(2026, 12, 11), source_run_id=earlier.id)
        close_run(s, earlier.id, {}, NOW)
        open_run(s, "monthly_review", "2026-10", people["dana"].id, NOW)
    records.dispose()
    return path


def _history(home: Path, action_id: int) -> list[tuple[str, str | None, str | None]]:
    shown = json.loads(run(home, "actions", "show", str(action_id), "--json", user="priya").stdout)
    return [(e["field"], e["new"], e["actor"]) for e in shown["history"]]


def test_only_the_permitted_change_an_action_and_force_is_recorded(home: Path) -> None:
    refused = run(home, "actions", "update", "1", "--status", "dropped", user="lena")
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    # The refusal names who may.
    for who in ("lena may not change action 1", "its owner (kenji)", "the owner of team search (tomas)",
                "a FinOps lead (priya)", "--force"):
        assert who in refused.stderr, refused.stderr
    assert _history(home, 1) == [("created", "open", "priya")]

    for user, status in (("kenji", "in_progress"), ("tomas", "blocked"), ("priya", "open")):
        ok = run(home, "actions", "update", "1", "--status", status, user=user)
        assert ok.returncode == 0, (user, ok.stderr)
    forced = run(home, "actions", "update", "1", "--status", "dropped", "--force", "--json", user="lena")
    assert forced.returncode == 0, forced.stderr
    assert json.loads(forced.stdout)["actor"] == "lena"
    assert _history(home, 1) == [("created", "open", "priya"), ("status", "in_progress", "kenji"),
                                 ("status", "blocked", "tomas"), ("status", "open", "priya"),
                                 ("permission", "forced", "lena"), ("status", "dropped", "lena")]

    # dana facilitates the open monthly review that walks action 2 (carried from an earlier review), not
    # action 1 (no run shows it).
    walked = run(home, "actions", "update", "2", "--status", "in_progress", user="dana")
    assert walked.returncode == 0, walked.stderr
    not_shown = run(home, "actions", "update", "1", "--note", "any news?", user="dana")
    assert not_shown.returncode == 1 and "dana may not change action 1" in not_shown.stderr


def test_due_dates_are_never_in_the_past_on_add_and_only_on_purpose_on_update(home: Path) -> None:
    past = run(home, "actions", "add", "Old news", "--owner", "kenji", "--due", "2019-05-05", user="priya")
    assert past.returncode == 2 and "2019-05-05 is in the past (today is 2026-11-27)" in past.stderr
    today = run(home, "actions", "add", "Due today", "--owner", "kenji", "--due", "2026-11-27", user="priya")
    assert today.returncode == 0, today.stderr

    moved = run(home, "actions", "update", "1", "--due", "2020-01-01", user="kenji")
    assert moved.returncode == 2 and "--allow-past" in moved.stderr
    assert [f for f, _new, _by in _history(home, 1)] == ["created"]
    on_purpose = run(home, "actions", "update", "1", "--due", "2026-11-20", "--allow-past", user="kenji")
    assert on_purpose.returncode == 0, on_purpose.stderr
    assert _history(home, 1)[-1] == ("due_date", "2026-11-20", "kenji")
    later = run(home, "actions", "update", "1", "--due", "2026-12-18", user="kenji")
    assert later.returncode == 0, later.stderr
