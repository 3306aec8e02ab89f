"""Minutes are a frozen record: a closed run renders only from what it froze at close (its snapshot), byte
for byte on any later day and after any later change to its actions or to people; a draft reads the live
records; a run closed before snapshots existed says so; an old database keeps its runs when it upgrades."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import text
from sqlmodel import select

from exports import minutes
from rituals import runs
from rituals.actions import create_action, update_action
from rituals.review_actions import walk_update
from storage.db import Records, head_revision
from storage.records import Action, Person, RitualRun

pytestmark = pytest.mark.records_engines  # SQLite and PostgreSQL: tests/records_engines.py

OPENED = datetime(2026, 11, 5, 9, 0, tzinfo=UTC)
CLOSED = datetime(2026, 11, 5, 10, 0, tzinfo=UTC)
LATER = datetime(2026, 11, 6, 9, 0, tzinfo=UTC)
LEGACY_LINE = "_This run was closed before minutes froze their actions; actions are shown as they are now._"
# A monthly review's agenda as frozen at close: just enough for its minutes to render the action log.
AGENDA = {"currency": "USD", "month": "2026-10", "actions": {"available": True, "open": [], "done_since": [],
                                                           "overdue": 0, "since": None},
          "spend": {"available": False, "reason": "not in this test"}}


@pytest.fixture
def records(records_url):
    r = Records(records_url)
    yield r
    r.dispose()


def _people(records: Records) -> dict[str, int]:
    with records.write() as s:
        people = [Person(handle="ana", name="Ana Lead", role="finops_lead"),
                  Person(handle="bo", name="Bo Builder", role="engineering"),
                  Person(handle="cy", name="Cy Finance", role="finance")]
        for p in people:
            s.add(p)
        s.flush()
        return {p.handle: p.id for p in people}


def _closed_commitment_run(records: Records, ids: dict[str, int]) -> tuple[int, int]:
    """A closed commitment review with an attendee list, a decision naming an approver, and one action."""
    with records.write() as s:
        run = runs.open_run(s, "commitment_review", "2026-11", ids["ana"], OPENED)
        run = runs.set_attendees(s, run, ["ana", "bo", "cy"])
        run = runs.save_note(s, run, "coverage", "Coverage is low.")
        run = runs.add_decision(s, run, "Buy a compute Savings Plan", "ana", OPENED, step="decision",
                                detail={"kind": "commitment", "choice": "buy", "hourly_amount": 1.5,
                                        "currency": "USD", "term_years": 1, "payment_option": "No Upfront",
                                        "approver": "cy", "rationale": "steady base"})
        action = create_action(s, title="Purchase the plan", owner_id=ids["bo"], now=OPENED,
                               due_date=date(2026, 11, 20), source_run_id=run.id, kind="commitment")
        run_id, action_id = run.id, action.id
    with records.write() as s:
        runs.close_run(s, run_id, {"currency": "USD", "coverage_pct": 61.0}, CLOSED)
    return run_id, action_id


def _render(records: Records, run_id: int) -> str:
    with records.session() as s:
        return minutes.render_minutes(s, run_id, "EUR")


def _change_everything(records: Records, ids: dict[str, int], action_id: int) -> None:
    """After the close: the action moves on (status, due date, owner, title) and everyone is renamed."""
    update_action(records, action_id, actor_id=ids["bo"], now=LATER, status="in_progress",
                  due_date=date(2027, 1, 31), note="started")
    with records.write() as s:
        action = s.get(Action, action_id)
        action.owner_id, action.title, action.kind = ids["cy"], "Purchase a different plan", "other"
        for person in s.exec(select(Person)):
            person.name = f"Renamed {person.handle}"
        create_action(s, title="Added to the closed run later", owner_id=ids["ana"], now=LATER,
                      source_run_id=s.get(Action, action_id).source_run_id)


def test_closed_minutes_stay_byte_identical_after_later_changes(records, monkeypatch) -> None:
    ids = _people(records)
    run_id, action_id = _closed_commitment_run(records, ids)
    monkeypatch.setenv("FINOPS_TUI_TODAY", "2026-11-05")
    at_close = _render(records, run_id)
    assert f"| {action_id} | Purchase the plan | Bo Builder (bo) | 2026-11-20 | open |" in at_close
    assert "Ana Lead (ana)" in at_close and "Cy Finance (cy)" in at_close  # facilitator, attendee, approver
    _change_everything(records, ids, action_id)
    monkeypatch.setenv("FINOPS_TUI_TODAY", "2027-03-01")
    later = _render(records, run_id)
    assert later.encode() == at_close.encode()
    assert "Renamed" not in later and "in_progress" not in later and "Added to the closed run later" not in later


def test_a_status_change_after_close_does_not_move_the_minutes(records) -> None:
    """The bug: `minutes 14` a day later showed action #17 as in_progress where the export at close said open."""
    ids = _people(records)
    run_id, action_id = _closed_commitment_run(records, ids)
    at_close = _render(records, run_id)
    update_action(records, action_id, actor_id=ids["bo"], now=LATER, status="in_progress")
    later = _render(records, run_id)
    row = next(line for line in later.splitlines() if line.startswith(f"| {action_id} |"))
    assert row.endswith("| open |"), row
    assert later == at_close


def test_the_snapshot_holds_actions_and_the_people_mentioned(records) -> None:
    ids = _people(records)
    with records.write() as s:
        s.add(Person(handle="dee", name="Dee Unmentioned", role="leadership"))
    run_id, action_id = _closed_commitment_run(records, ids)
    with records.session() as s:
        snap = s.get(RitualRun, run_id).snapshot
    assert snap["version"] == 1 and snap["frozen_at"] == "2026-11-05T10:00:00+00:00"
    assert snap["actions"] == [{"id": action_id, "title": "Purchase the plan", "kind": "commitment",
                                "status": "open", "owner_id": ids["bo"], "owner": "bo",
                                "owner_name": "Bo Builder", "due_date": "2026-11-20"}]
    assert [p["handle"] for p in snap["people"]] == ["ana", "bo", "cy"]  # not dee: the minutes never name her


def test_a_draft_reads_the_live_records(records) -> None:
    ids = _people(records)
    with records.write() as s:
        run = runs.open_run(s, "tag_sweep", "2026-W45", ids["ana"], OPENED)
        action = create_action(s, title="Tag the NAT gateway", owner_id=ids["bo"], now=OPENED,
                               source_run_id=run.id, kind="tag_fix")
        run_id, action_id = run.id, action.id
    assert "| Tag the NAT gateway | Bo Builder (bo) | - | open |" in _render(records, run_id)
    update_action(records, action_id, actor_id=ids["bo"], now=LATER, status="done")
    with records.write() as s:
        s.get(Person, ids["bo"]).name = "Bo Renamed"
    draft = _render(records, run_id)
    assert "**Draft.**" in draft and "| Tag the NAT gateway | Bo Renamed (bo) | - | done |" in draft
    assert LEGACY_LINE not in draft


def test_a_run_closed_before_snapshots_says_so_and_shows_actions_as_they_are(records) -> None:
    ids = _people(records)
    run_id, action_id = _closed_commitment_run(records, ids)
    with records.write() as s:  # as a run closed before revision 0007 is stored
        s.execute(text("UPDATE ritual_run SET snapshot = NULL WHERE id = :id"), {"id": run_id})
    update_action(records, action_id, actor_id=ids["bo"], now=LATER, status="blocked")
    legacy = _render(records, run_id)
    assert legacy.count(LEGACY_LINE) == 1
    assert f"| {action_id} | Purchase the plan | Bo Builder (bo) | 2026-11-20 | blocked |" in legacy
    assert LEGACY_LINE not in _render(records, _closed_commitment_run(records, ids)[0])


def test_the_monthly_action_log_is_frozen_at_close(records) -> None:
    ids = _people(records)
    with records.write() as s:
        sept = runs.open_run(s, "monthly_review", "2026-09", ids["ana"], datetime(2026, 10, 5, 9, tzinfo=UTC))
        carried = create_action(s, title="Carried fix", owner_id=ids["bo"], now=datetime(2026, 10, 5, 9, tzinfo=UTC),
                                due_date=date(2026, 11, 30), source_run_id=sept.id)
        runs.close_run(s, sept.id, {"month": "2026-09"}, datetime(2026, 10, 5, 10, tzinfo=UTC))
        run = runs.open_run(s, "monthly_review", "2026-10", ids["ana"], OPENED)
        create_action(s, title="New in October", owner_id=ids["cy"], now=OPENED, due_date=date(2026, 12, 5),
                      source_run_id=run.id)
        run_id, carried_id = run.id, carried.id
    walk_update(records, carried_id, actor_id=ids["ana"], now=OPENED, status="in_progress", note="walked")
    with records.write() as s:
        runs.close_run(s, run_id, AGENDA, CLOSED)
    at_close = _render(records, run_id)
    new = at_close[at_close.index("### New actions"):at_close.index("### Since the last run")]
    assert "| New in October | Cy Finance (cy) | 2026-12-05 | open |" in new
    step = at_close[at_close.index("## Actions from earlier reviews"):at_close.index("## Spend against")]
    assert f"| {carried_id} | Carried fix | status: open → in_progress | walked | Ana Lead (ana) |" in step
    # Later: the carried action is finished (it would leave "still open"), becomes overdue by date, and its
    # owner and the walker are renamed; none of it moves the minutes.
    update_action(records, carried_id, actor_id=ids["bo"], now=LATER, status="done")
    with records.write() as s:
        s.get(Action, carried_id).title = "Retitled"
        for person in s.exec(select(Person)):
            person.name = "Renamed"
    assert _render(records, run_id) == at_close


def test_an_old_database_upgrades_and_keeps_its_runs(empty_records_url) -> None:
    old = Records(empty_records_url, migrate=False)
    old.upgrade("0006")
    with old.engine.begin() as conn:
        conn.execute(text("INSERT INTO person (handle, name, role, active, created_at) "
                          "VALUES ('ana', 'Ana', 'finops_lead', true, '2026-01-01 00:00:00')"))
        conn.execute(text(
            "INSERT INTO ritual_run (kind, period, status, opened_at, closed_at, facilitator_id, attendees, "
            "notes, decisions, numbers, version) VALUES ('tag_sweep', '2026-W45', 'closed', "
            "'2026-11-05 09:00:00', '2026-11-05 10:00:00', 1, '[\"ana\"]', '{\"coverage\": \"kept\"}', '[]', "
            "'{\"total_spend\": 80.0}', 2)"))
        conn.execute(text("INSERT INTO action (title, detail, kind, owner_id, status, source_run_id, version, "
                          "created_at, updated_at) VALUES ('Tag it', '', 'tag_fix', 1, 'in_progress', 1, 1, "
                          "'2026-11-05 09:30:00', '2026-11-05 09:30:00')"))
    old.dispose()
    new = Records(empty_records_url)
    try:
        assert new.current_revision() == head_revision()
        with new.session() as s:
            run = s.exec(select(RitualRun)).one()
            assert (run.status, run.notes, run.numbers, run.version) == ("closed", {"coverage": "kept"},
                                                                         {"total_spend": 80.0}, 2)
            assert run.snapshot is None
            text_ = minutes.render_minutes(s, run.id)
        assert LEGACY_LINE in text_ and "| 1 | Tag it | Ana (ana) | - | in progress |" in text_
    finally:
        new.dispose()
