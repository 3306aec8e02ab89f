"""Creating, listing and updating actions. Every change to an action is an ActionEvent (who, when, field, old, new, note)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import CursorResult, update
from sqlmodel import Session, col, select

from storage.records import (
    ACTION_KINDS,
    ACTION_STATUSES,
    OPEN_ACTION_STATUSES,
    Action,
    ActionEvent,
    Person,
    Team,
)

if TYPE_CHECKING:
    from storage.db import Records


def create_action(session: Session, *, title: str, owner_id: int, now: datetime, actor_id: int | None = None,
                  kind: str = "other", detail: str = "", team_id: int | None = None, due_date: date | None = None,
                  source_run_id: int | None = None, entity_kind: str | None = None, entity_key: str | None = None,
                  expected_monthly_savings: float | None = None) -> Action:
    """Add an action and its "created" event in the caller's (write) session."""
    if kind not in ACTION_KINDS:
        raise ValueError(f"action kind must be one of {', '.join(ACTION_KINDS)}, got {kind!r}")
    if not title.strip():
        raise ValueError("an action needs a title")
    action = Action(title=title.strip(), detail=detail, kind=kind, owner_id=owner_id, team_id=team_id,
                    due_date=due_date, source_run_id=source_run_id, entity_kind=entity_kind,
                    entity_key=entity_key, expected_monthly_savings=expected_monthly_savings,
                    created_at=now, updated_at=now)
    session.add(action)
    session.flush()
    assert action.id is not None  # the flush assigned it
    session.add(ActionEvent(action_id=action.id, actor_id=actor_id, at=now, field="created", old=None,
                            new=action.status, note=title.strip()))
    return action


# -- listing ----------------------------------------------------------------------------------------------

class StaleUpdate(RuntimeError):
    """An update made against a version that is no longer current: refused, never applied."""


@dataclass(frozen=True)
class ActionView:
    id: int
    title: str
    kind: str
    status: str
    owner: str  # handle
    owner_name: str
    team: str | None
    due_date: date | None
    version: int
    overdue: bool
    days_overdue: int
    updated_at: datetime | None
    detail: str = ""
    expected_monthly_savings: float | None = None

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_ACTION_STATUSES

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "kind": self.kind, "status": self.status, "owner": self.owner,
                "owner_name": self.owner_name, "team": self.team, "due_date": self.due_date,
                "overdue": self.overdue, "days_overdue": self.days_overdue, "version": self.version,
                "updated_at": self.updated_at, "detail": self.detail,
                "expected_monthly_savings": self.expected_monthly_savings}


@dataclass(frozen=True)
class EventView:
    id: int
    at: datetime
    actor: str | None  # handle
    actor_name: str | None
    field: str
    old: str | None
    new: str | None
    note: str | None

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "at": self.at, "actor": self.actor, "actor_name": self.actor_name,
                "field": self.field, "old": self.old, "new": self.new, "note": self.note}


def _view(action: Action, people: dict[int, Person], teams: dict[int, Team], today: date) -> ActionView:
    owner = people.get(action.owner_id)
    late = (today - action.due_date).days if action.due_date is not None else 0
    overdue = action.status in OPEN_ACTION_STATUSES and late > 0
    return ActionView(action.id, action.title, action.kind, action.status,  # type: ignore[arg-type]
                      owner.handle if owner else str(action.owner_id), owner.name if owner else "?",
                      teams[action.team_id].name if action.team_id in teams else None, action.due_date,
                      action.version, overdue, late if overdue else 0, action.updated_at, action.detail,
                      action.expected_monthly_savings)


def list_actions(session: Session, *, today: date, owner: str | None = None, team: str | None = None,
                 overdue: bool = False, include_closed: bool = False) -> list[ActionView]:
    """Actions (open ones unless ``include_closed``), overdue first, then by due date. ``today`` is the
    clock's today in the configured time zone."""
    people = {p.id: p for p in session.exec(select(Person)).all() if p.id is not None}
    teams = {t.id: t for t in session.exec(select(Team)).all() if t.id is not None}
    stmt = select(Action)
    if owner is not None:
        person = next((p for p in people.values() if p.handle == owner.strip().lower()), None)
        if person is None:
            raise ValueError(f"no person with handle {owner!r}")
        stmt = stmt.where(Action.owner_id == person.id)
    if team is not None:
        found = next((t for t in teams.values() if t.name.lower() == team.strip().lower()), None)
        if found is None:
            raise ValueError(f"no team named {team!r}")
        stmt = stmt.where(Action.team_id == found.id)
    if not include_closed:
        stmt = stmt.where(col(Action.status).in_(OPEN_ACTION_STATUSES))
    views = [_view(a, people, teams, today) for a in session.exec(stmt).all()]
    if overdue:
        views = [v for v in views if v.overdue]
    return sorted(views, key=lambda v: (not v.overdue, v.due_date or date.max, v.id))


def get_action(session: Session, action_id: int, *, today: date) -> ActionView:
    action = session.get(Action, action_id)
    if action is None:
        raise ValueError(f"no action {action_id}")
    people = {p.id: p for p in session.exec(select(Person)).all() if p.id is not None}
    teams = {t.id: t for t in session.exec(select(Team)).all() if t.id is not None}
    return _view(action, people, teams, today)


def action_history(session: Session, action_id: int) -> list[EventView]:
    people = {p.id: p for p in session.exec(select(Person)).all()}
    stmt = select(ActionEvent).where(ActionEvent.action_id == action_id).order_by(col(ActionEvent.id))
    out = []
    for e in session.exec(stmt).all():
        who = people.get(e.actor_id) if e.actor_id is not None else None
        out.append(EventView(e.id, e.at, who.handle if who else None, who.name if who else None,  # type: ignore[arg-type]
                             e.field, e.old, e.new, e.note))
    return out


# -- updating ---------------------------------------------------------------------------------------------

KEEP: Any = object()  # "leave the due date alone" (None clears it)


@dataclass(frozen=True)
class Updated:
    action_id: int
    version: int
    changes: tuple[tuple[str, str | None, str | None], ...]  # (field, old, new)
    note: str | None

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.action_id, "version": self.version, "note": self.note,
                "changes": [{"field": f, "old": o, "new": n} for f, o, n in self.changes]}


def stale_message(session: Session, action: Action, expected: int, tz: ZoneInfo) -> str:
    last = session.exec(select(ActionEvent).where(ActionEvent.action_id == action.id)
                        .order_by(col(ActionEvent.id).desc())).first()
    who = session.get(Person, last.actor_id) if last is not None and last.actor_id is not None else None
    name = who.name if who is not None else "someone"
    when = action.updated_at if last is None else last.at
    stamp = when.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S %Z") if when else "an unknown time"
    return (f"action {action.id} is at version {action.version}, not {expected}: changed by {name} at {stamp}; "
            "run again")


def update_action(records: Records, action_id: int, *, actor_id: int, now: datetime,
                  status: str | None = None, due_date: Any = KEEP, note: str | None = None,
                  if_version: int | None = None, tz: ZoneInfo | None = None) -> Updated:
    """Change an action's status and/or due date and/or add a note, in one BEGIN IMMEDIATE transaction.

    ``records`` is a ``storage.db.Records``. The read, the version check and the write hold the write lock
    together, so two owners never overwrite each other: with ``if_version`` a stale update raises
    StaleUpdate ("changed by NAME at TIME; run again"). Every changed field becomes an ActionEvent (a bare
    note is a "note" event) and the version goes up by one. ``due_date=None`` clears the due date.
    """
    if status is not None and status not in ACTION_STATUSES:
        raise ValueError(f"status must be one of {', '.join(ACTION_STATUSES)}, got {status!r}")
    note = note.strip() if note and note.strip() else None
    with records.write() as session:
        action = session.exec(select(Action).where(Action.id == action_id).with_for_update()).first()
        if action is None:
            raise ValueError(f"no action {action_id}")
        if if_version is not None and action.version != if_version:
            raise StaleUpdate(stale_message(session, action, if_version, tz or ZoneInfo("UTC")))
        changes: list[tuple[str, str | None, str | None]] = []
        new_status, new_due = action.status, action.due_date
        if status is not None and status != action.status:
            changes.append(("status", action.status, status))
            new_status = status
        if due_date is not KEEP and due_date != action.due_date:
            changes.append(("due_date", _iso(action.due_date), _iso(due_date)))
            new_due = due_date
        if not changes and note is None:
            return Updated(action.id, action.version, (), None)  # type: ignore[arg-type]
        if not changes:
            changes.append(("note", None, note))
        version = action.version
        # The guarded UPDATE is what keeps stores without BEGIN IMMEDIATE (PostgreSQL) honest too.
        result = cast(CursorResult[Any], session.execute(
            update(Action).where(Action.id == action.id, Action.version == version)  # type: ignore[arg-type]
            .values(status=new_status, due_date=new_due, version=version + 1, updated_at=now)
            .execution_options(synchronize_session=False)))
        if result.rowcount != 1:
            session.expire(action)
            raise StaleUpdate(stale_message(session, action, version, tz or ZoneInfo("UTC")))
        for name, old, new in changes:
            session.add(ActionEvent(action_id=action_id, actor_id=actor_id, at=now, field=name, old=old, new=new,
                                    note=note))
        return Updated(action.id, version + 1, tuple(changes), note)  # type: ignore[arg-type]


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day is not None else None
