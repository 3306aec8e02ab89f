"""Listing and updating actions: an event per changed field, version checks, the stale-update message,
overdue against the clock's today, and the owner digest."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlmodel import select

from exports.digest import digest, owner_digest, week_end
from rituals.actions import (
    StaleUpdate,
    action_history,
    create_action,
    get_action,
    list_actions,
    update_action,
)
from rituals.people import add_person, add_team
from storage.records import Action, ActionEvent

pytestmark = pytest.mark.records_engines  # SQLite and PostgreSQL: tests/records_engines.py

TODAY = date(2026, 11, 27)  # a Friday
NOW = datetime(2026, 11, 27, 9, 30, tzinfo=UTC)


@pytest.fixture
def store(home):
    records = home.records
    with records.write() as s:
        ana = add_person(s, "ana", "Ana Lopez", "finops_lead")
        carl = add_person(s, "carl", "Carl Diaz", "engineering")
        web = add_team(s, "web", owner="carl")
        create_action(s, title="Tag the buckets", owner_id=carl.id, team_id=web.id, now=NOW, actor_id=ana.id,
                      due_date=date(2026, 11, 20))
        create_action(s, title="Delete idle volumes", owner_id=carl.id, now=NOW, actor_id=ana.id,
                      due_date=date(2026, 11, 29))
        create_action(s, title="Buy the SP", owner_id=ana.id, now=NOW, actor_id=ana.id, due_date=TODAY)
    records.ids = {"ana": ana.id, "carl": carl.id}
    return records


def test_an_update_writes_one_event_per_changed_field(store) -> None:
    done = update_action(store, 1, actor_id=store.ids["carl"], now=NOW, status="in_progress",
                         due_date=date(2026, 12, 4), note="moving it", if_version=1)
    assert done.version == 2 and [c[0] for c in done.changes] == ["status", "due_date"]
    with store.session() as s:
        history = action_history(s, 1)
        action = s.get(Action, 1)
    assert [(e.field, e.old, e.new, e.actor, e.note) for e in history[1:]] == [
        ("status", "open", "in_progress", "carl", "moving it"),
        ("due_date", "2026-11-20", "2026-12-04", "carl", "moving it"),
    ]
    assert (action.status, action.due_date, action.version) == ("in_progress", date(2026, 12, 4), 2)
    # a bare note is an event of its own and a new version; a no-op is neither
    note = update_action(store, 1, actor_id=store.ids["ana"], now=NOW, note="any news?")
    assert note.version == 3 and note.changes == (("note", None, "any news?"),)
    same = update_action(store, 1, actor_id=store.ids["ana"], now=NOW, status="in_progress")
    assert same.version == 3 and same.changes == ()
    cleared = update_action(store, 1, actor_id=store.ids["ana"], now=NOW, due_date=None)
    assert cleared.changes == (("due_date", "2026-12-04", None),)
    with store.session() as s:
        assert len(s.exec(select(ActionEvent).where(ActionEvent.action_id == 1)).all()) == 5


def test_a_stale_update_is_refused_naming_who_and_when(store) -> None:
    update_action(store, 2, actor_id=store.ids["carl"], now=NOW, status="blocked", if_version=1)
    with pytest.raises(StaleUpdate) as err:
        update_action(store, 2, actor_id=store.ids["ana"], now=NOW, status="done", if_version=1)
    msg = str(err.value)
    assert "changed by Carl Diaz at 2026-11-27 09:30:00 UTC; run again" in msg and "version 2, not 1" in msg
    with store.session() as s:
        action = s.get(Action, 2)
        assert (action.status, action.version) == ("blocked", 2)
        assert [e.field for e in action_history(s, 2)] == ["created", "status"]


def test_bad_updates_are_bad_input(store) -> None:
    with pytest.raises(ValueError, match="status must be one of"):
        update_action(store, 1, actor_id=store.ids["ana"], now=NOW, status="finished")
    with pytest.raises(ValueError, match="no action 99"):
        update_action(store, 99, actor_id=store.ids["ana"], now=NOW, status="done")


def test_listing_overdue_and_filters(store) -> None:
    with store.session() as s:
        views = list_actions(s, today=TODAY)
        assert [v.id for v in views] == [1, 3, 2]  # overdue first, then by due date
        assert [v.id for v in list_actions(s, today=TODAY, overdue=True)] == [1]
        assert list_actions(s, today=TODAY, overdue=True)[0].days_overdue == 7
        assert not get_action(s, 3, today=TODAY).overdue  # due today is not overdue
        assert get_action(s, 3, today=date(2026, 11, 28)).overdue
        assert [v.id for v in list_actions(s, today=TODAY, owner="carl")] == [1, 2]
        assert [v.id for v in list_actions(s, today=TODAY, team="web")] == [1]
        with pytest.raises(ValueError, match="no person"):
            list_actions(s, today=TODAY, owner="zed")
    update_action(store, 1, actor_id=store.ids["carl"], now=NOW, status="done")
    with store.session() as s:
        assert [v.id for v in list_actions(s, today=TODAY, overdue=True)] == []  # done is never overdue
        assert len(list_actions(s, today=TODAY, include_closed=True)) == 3


def test_the_digest_groups_each_owners_actions(store) -> None:
    assert week_end(TODAY) == date(2026, 11, 29)
    with store.session() as s:
        views = list_actions(s, today=TODAY)
    text = digest(views, TODAY)
    carl, ana = text.index("@carl"), text.index("@ana")
    assert ana < carl  # owners in handle order
    carl_part = text[carl:]
    assert "2 open, 1 overdue, 1 due this week" in carl_part
    assert "- #1 Tag the buckets (due 2026-11-20, 7 days late) [open] team web" in carl_part
    assert carl_part.index("### Overdue") < carl_part.index("### Due this week") < carl_part.index("#2 Delete")
    assert "Nothing open" in owner_digest("Zed", "zed", [], TODAY)
