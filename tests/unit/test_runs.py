"""The run lifecycle: open or resume, saves with optimistic checks, a frozen close, a read-only record."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from rituals import runs
from storage.db import Records
from storage.records import Person

pytestmark = pytest.mark.records_engines  # SQLite and PostgreSQL: tests/records_engines.py

NOW = datetime(2026, 11, 27, 9, 30, tzinfo=UTC)


@pytest.fixture
def records(records_url) -> Records:
    r = Records(records_url)
    with r.write() as s:
        s.add(Person(handle="ana", name="Ana Lead", role="finops_lead"))
    yield r
    r.dispose()


def test_open_resumes_the_open_run_of_a_kind_and_period(records) -> None:
    with records.write() as s:
        first = runs.open_run(s, "monthly_review", "2026-10", 1, NOW)
    with records.write() as s:
        again = runs.open_run(s, "monthly_review", " 2026-10", None, NOW)
        other = runs.open_run(s, "monthly_review", "2026-09", None, NOW)
    assert again.id == first.id and other.id != first.id
    with records.session() as s:
        assert [r.period for r in runs.list_runs(s, "monthly_review")] == ["2026-09", "2026-10"]  # newest first
        assert runs.list_runs(s, "tag_sweep") == []


@pytest.mark.parametrize(("kind", "period", "words"), [
    ("monthly", "2026-10", "run kind must be one of"),
    ("tag_sweep", "2026-10", "2026-W47"),
    ("quarterly_review", "2026-11", "2026-Q4"),
    ("monthly_review", "2026-13", "no month 13"),
    ("monthly_review", "Oct 2026", "period must look like"),
])
def test_bad_kinds_and_periods_are_refused(records, kind, period, words) -> None:
    with pytest.raises(ValueError, match=words), records.write() as s:
        runs.open_run(s, kind, period, None, NOW)


def test_saves_merge_other_steps_and_refuse_silent_overwrites(records) -> None:
    with records.write() as s:
        run = runs.open_run(s, "tag_sweep", "2026-W48", 1, NOW)
    terminal_a, terminal_b = run, run
    with records.write() as s:
        terminal_a = runs.save_note(s, terminal_a, "coverage", "A's note")
    with records.write() as s:  # B has an old copy but edits another step: merged
        terminal_b = runs.save_note(s, terminal_b, "fixes", "B's note")
    assert terminal_b.notes == {"coverage": "A's note", "fixes": "B's note"}
    assert terminal_b.version == 3
    stale = terminal_a  # version 2: does not know about B's save
    with records.write() as s:
        terminal_b = runs.save_note(s, terminal_b, "coverage", "B rewrote it")
    with pytest.raises(runs.RunConflict, match="coverage"), records.write() as s:
        runs.save_note(s, stale, "coverage", "A again")
    with records.session() as s:
        assert runs.get_run(s, run.id).notes["coverage"] == "B rewrote it"


def test_attendees_merge_and_decisions_append(records) -> None:
    with records.write() as s:
        run = runs.open_run(s, "anomaly_triage", "2026-W48", 1, NOW)
    with records.write() as s:
        a = runs.set_attendees(s, run, ["ana", "bo"])
    with records.write() as s:
        b = runs.set_attendees(s, run, ["cy"])  # a stale copy adds cy and removes nobody it knew
    assert b.attendees == ["ana", "bo", "cy"]
    with records.write() as s:
        a = runs.set_attendees(s, b, ["ana", "cy"])
        a = runs.add_decision(s, a, "  Buy the 1-year plan ", "ana", NOW, step="plan")
    assert a.attendees == ["ana", "cy"]
    assert a.decisions == [{"text": "Buy the 1-year plan", "by": "ana", "at": "2026-11-27T09:30:00+00:00",
                            "step": "plan"}]
    with pytest.raises(ValueError, match="needs some text"), records.write() as s:
        runs.add_decision(s, a, " ", "ana", NOW)


def test_close_freezes_numbers_and_the_record_is_read_only(records) -> None:
    with records.write() as s:
        run = runs.open_run(s, "commitment_review", "2026-11", 1, NOW)
        run = runs.save_note(s, run, "plan", "hold")
    numbers = {"coverage_pct": 61.5, "gap": float("nan"), "as_of": datetime(2026, 11, 1, tzinfo=UTC).date(),
               "rows": [{"team": "web", "cost": 10.0}], "currency": "USD"}
    with pytest.raises(runs.RunConflict), records.write() as s:
        runs.close_run(s, run.id, numbers, NOW, expected_version=1)
    with records.write() as s:
        closed = runs.close_run(s, run.id, numbers, NOW, expected_version=run.version)
    assert closed.status == "closed" and closed.closed_at == NOW
    with records.session() as s:
        stored = runs.get_run(s, run.id)
    assert stored.numbers == {"coverage_pct": 61.5, "gap": None, "as_of": "2026-11-01",
                              "rows": [{"team": "web", "cost": 10.0}], "currency": "USD"}
    for edit in (lambda s: runs.save_note(s, stored, "plan", "x"),
                 lambda s: runs.set_attendees(s, stored, ["ana"]),
                 lambda s: runs.add_decision(s, stored, "x", None, NOW),
                 lambda s: runs.close_run(s, stored.id, {}, NOW)):
        with pytest.raises(runs.RunClosed, match="read-only"), records.write() as s:
            edit(s)
    with records.write() as s:  # opening the ritual again for that period starts a fresh run
        assert runs.open_run(s, "commitment_review", "2026-11", None, NOW).id != run.id
    with pytest.raises(runs.RunNotFound), records.session() as s:
        runs.get_run(s, 999)
    with pytest.raises(ValueError, match="JSON values"), records.write() as s:
        runs.close_run(s, run.id + 1, {"x": object()}, NOW)
