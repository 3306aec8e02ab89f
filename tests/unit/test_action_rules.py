"""The rules of ``rituals.actions`` every surface applies: due dates (never in the past on add, on update
only on purpose), who may change an action (owner, team owner, FinOps lead, the facilitator of an open run
that shows it, or forced and recorded), and what an OS user who is not a person is told."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlmodel import select

from rituals.actions import (
    NotPermitted,
    create_action,
    due_date_problem,
    may_change,
    new_action_problems,
    update_action,
)
from rituals.people import UnknownPerson, add_person, add_team, resolve_actor
from rituals.runs import close_run, open_run
from storage.records import Action, ActionEvent, Person

TODAY = date(2026, 11, 27)
NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


def test_due_dates() -> None:
    assert due_date_problem(date(2026, 11, 26), TODAY) == "due date 2026-11-26 is in the past (today is 2026-11-27)"
    assert due_date_problem(TODAY, TODAY) is None and due_date_problem(None, TODAY) is None
    assert due_date_problem(date(2020, 1, 1), TODAY, allow_past=True) is None
    assert new_action_problems("Tag it", 3, "tag_fix", date(2026, 12, 1), TODAY) == []
    assert new_action_problems(" ", None, "chores", date(2019, 5, 5), TODAY) == [
        "The action needs a title.", "Choose an owner.",
        "Choose a kind (tag_fix, anomaly_fix, rightsizing, cleanup, commitment, other).",
        "Due date 2019-05-05 is in the past (today is 2026-11-27)."]


def test_the_form_applies_the_same_rules() -> None:
    from finops_tui.modals.action_form import validate

    values, problems = validate("Tag it", 3, "tag_fix", "2019-05-05", "", TODAY)
    assert values is None and problems == ["Due date 2019-05-05 is in the past (today is 2026-11-27)."]
    values, problems = validate("Tag it", 3, "tag_fix", "2026-12-01", "", TODAY)
    assert problems == [] and values is not None and values.due_date == date(2026, 12, 1)


@pytest.fixture
def store(home):
    with home.records.write() as s:
        people = {h: add_person(s, h, h.title(), role) for h, role in (
            ("priya", "finops_lead"), ("kenji", "engineering"), ("tomas", "engineering"), ("sofia", "finance"),
            ("lena", "engineering"))}
        search = add_team(s, "search", owner="tomas")
        sweep = open_run(s, "tag_sweep", "2026-W48", people["sofia"].id, NOW)
        fix = create_action(s, title="Tag the indexer", owner_id=people["kenji"].id, kind="tag_fix", now=NOW,
                            team_id=search.id)
        other = create_action(s, title="Right-size", owner_id=people["kenji"].id, kind="rightsizing", now=NOW)
        own = create_action(s, title="From the sweep", owner_id=people["kenji"].id, kind="other", now=NOW,
                            source_run_id=sweep.id)
        ids = {h: p.id for h, p in people.items()} | {"fix": fix.id, "other": other.id, "own": own.id,
                                                       "sweep": sweep.id}
    home.ids = ids
    return home


def _why(home, action: str, who: str) -> str | None:
    with home.records.session() as s:
        return may_change(s, s.get(Action, home.ids[action]), s.get(Person, home.ids[who]))


def test_who_may_change_an_action(store) -> None:
    assert _why(store, "fix", "kenji") == "its owner"
    assert _why(store, "fix", "tomas") == "owner of team search"
    assert _why(store, "other", "priya") == "FinOps lead"
    # sofia facilitates the open sweep: it checks the open tag fixes and shows the actions it created.
    assert _why(store, "fix", "sofia") == "facilitator of open run 1 (tag sweep 2026-W48)"
    assert _why(store, "own", "sofia") == "facilitator of open run 1 (tag sweep 2026-W48)"
    assert _why(store, "other", "sofia") is None
    assert _why(store, "other", "lena") is None
    # Once the sweep is closed its facilitator is no longer anyone's permission.
    with store.records.write() as s:
        close_run(s, store.ids["sweep"], {}, NOW)
    assert _why(store, "fix", "sofia") is None


def test_a_refusal_says_who_may_and_force_is_recorded(store) -> None:
    with pytest.raises(NotPermitted) as refused:
        update_action(store.records, store.ids["fix"], actor_id=store.ids["lena"], now=NOW, status="dropped")
    assert str(refused.value).startswith("lena may not change action 1: its owner (kenji), the owner of team "
                                         "search (tomas), a FinOps lead (priya), the facilitator of an open run "
                                         "showing it (sofia), or anyone with --force")
    done = update_action(store.records, store.ids["fix"], actor_id=store.ids["lena"], now=NOW, status="dropped",
                         force=True)
    assert done.version == 2
    with store.records.session() as s:
        events = s.exec(select(ActionEvent).where(ActionEvent.action_id == store.ids["fix"])
                        .order_by(ActionEvent.id)).all()
        assert [(e.field, e.new, e.actor_id) for e in events] == [
            ("created", "open", None), ("permission", "forced", store.ids["lena"]),
            ("status", "dropped", store.ids["lena"])]
        assert events[1].note.startswith("changed with --force by lena")


def test_a_past_due_date_on_update_needs_allow_past(store) -> None:
    with pytest.raises(ValueError, match="2020-01-01 is in the past.*--allow-past"):
        update_action(store.records, store.ids["fix"], actor_id=store.ids["kenji"], now=NOW,
                      due_date=date(2020, 1, 1))
    done = update_action(store.records, store.ids["fix"], actor_id=store.ids["kenji"], now=NOW,
                         due_date=date(2026, 11, 20), allow_past=True)
    assert done.changes == (("due_date", None, "2026-11-20"),)


def test_an_os_user_who_is_not_a_person_is_told_the_exact_commands(store) -> None:
    with store.records.session() as s, pytest.raises(UnknownPerson) as err:
        resolve_actor(s, env={}, os_user="root")
    text = str(err.value)
    assert text.startswith("unknown person 'root' (from the OS user)")
    for command in ("`--as HANDLE`", "`finops-tui actions list --mine --as HANDLE`", "`export FINOPS_TUI_USER=HANDLE`",
                    '`finops-tui people add root "Your Name" --role engineering`'):
        assert command in text, command
