"""Creating, listing and updating actions. Every change to an action is an ActionEvent (who, when, field, old, new, note).

The rules every surface applies (the app's form, ``finops-tui actions add/update``) live here:

- **Due dates**: a new action is never due in the past; an update moves a due date into the past only when
  asked explicitly (``allow_past``, the CLI's ``--allow-past``). "Today" is the clock's, in the configured
  time zone.
- **Who may change an action**: its owner, the owner of its team, anyone with the role ``finops_lead``, the
  facilitator of an open run that shows the action (the run it was created in; an open monthly review shows
  the actions carried from earlier reviews; an open tag sweep checks the open tag fixes), or anyone who
  forces it (``--force``), which is recorded in the action's events with the actor. A refusal says who may.
"""

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
    RitualRun,
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


# -- the rules: what a new action needs, due dates, who may change one --------------------------------------

def due_date_problem(due: date | None, today: date, *, allow_past: bool = False) -> str | None:
    """Why ``due`` cannot be set (it is before ``today``), or None. ``allow_past`` lets an update record a
    date already gone (a new action never needs one)."""
    if due is None or due >= today or allow_past:
        return None
    return f"due date {due.isoformat()} is in the past (today is {today.isoformat()})"


def new_action_problems(title: str, owner_id: object, kind: object, due: date | None, today: date) -> list[str]:
    """What stops a new action being saved, one line each: a title, an owner, a known kind, a due date
    that is not in the past."""
    problems = []
    if not title.strip():
        problems.append("The action needs a title.")
    if not isinstance(owner_id, int) or isinstance(owner_id, bool):
        problems.append("Choose an owner.")
    if kind not in ACTION_KINDS:
        problems.append(f"Choose a kind ({', '.join(ACTION_KINDS)}).")
    due_problem = due_date_problem(due, today)
    if due_problem:
        problems.append(due_problem[0].upper() + due_problem[1:] + ".")
    return problems


class NotPermitted(RuntimeError):
    """The person acting may not change this action (the message says who may)."""


def _runs_showing(session: Session, action: Action) -> list[RitualRun]:
    """The open runs that show ``action``: the run it was created in, an open monthly review (it walks
    the actions carried from earlier reviews), an open tag sweep (it checks the open tag fixes)."""
    from rituals.definitions.monthly_review import KIND as MONTHLY_REVIEW
    from rituals.definitions.tag_sweep import KIND as TAG_SWEEP

    runs = list(session.exec(select(RitualRun).where(col(RitualRun.status) == "open")))
    source = session.get(RitualRun, action.source_run_id) if action.source_run_id is not None else None
    out = []
    for run in runs:
        carried = (run.kind == MONTHLY_REVIEW and source is not None and source.kind == MONTHLY_REVIEW
                   and source.id != run.id and action.status in OPEN_ACTION_STATUSES)
        checked = run.kind == TAG_SWEEP and action.kind == "tag_fix" and action.status in OPEN_ACTION_STATUSES
        if run.id == action.source_run_id or carried or checked:
            out.append(run)
    return out


def may_change(session: Session, action: Action, actor: Person) -> str | None:
    """Why ``actor`` may change ``action`` ("its owner", "owner of team web", "FinOps lead", "facilitator of
    open run 12"), or None when they may not."""
    if actor.id == action.owner_id:
        return "its owner"
    team = session.get(Team, action.team_id) if action.team_id is not None else None
    if team is not None and team.owner_id is not None and team.owner_id == actor.id:
        return f"owner of team {team.name}"
    if actor.role == "finops_lead":
        return "FinOps lead"
    run = next((r for r in _runs_showing(session, action) if r.facilitator_id == actor.id), None)
    if run is not None:
        return f"facilitator of open run {run.id} ({run.kind.replace('_', ' ')} {run.period})"
    return None


def who_may_change(session: Session, action: Action) -> str:
    """Who may change ``action``, in words, for a refusal."""
    def handle(person_id: int | None) -> str | None:
        person = session.get(Person, person_id) if person_id is not None else None
        return person.handle if person is not None else None

    parts = [f"its owner ({handle(action.owner_id) or '-'})"]
    team = session.get(Team, action.team_id) if action.team_id is not None else None
    if team is not None and handle(team.owner_id):
        parts.append(f"the owner of team {team.name} ({handle(team.owner_id)})")
    leads = sorted(p.handle for p in session.exec(select(Person).where(col(Person.role) == "finops_lead",
                                                                        col(Person.active) == True)))  # noqa: E712
    parts.append("a FinOps lead" + (f" ({', '.join(leads)})" if leads else " (none named)"))
    facilitators = sorted({h for r in _runs_showing(session, action) if (h := handle(r.facilitator_id))})
    if facilitators:
        parts.append(f"the facilitator of an open run showing it ({', '.join(facilitators)})")
    return ", ".join(parts) + ", or anyone with --force (recorded in its history)"


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
                  if_version: int | None = None, tz: ZoneInfo | None = None, allow_past: bool = False,
                  force: bool = False) -> Updated:
    """Change an action's status and/or due date and/or add a note, in one BEGIN IMMEDIATE transaction.

    ``records`` is a ``storage.db.Records``. The read, the version check and the write hold the write lock
    together, so two owners never overwrite each other: with ``if_version`` a stale update raises
    StaleUpdate ("changed by NAME at TIME; run again"). Every changed field becomes an ActionEvent (a bare
    note is a "note" event) and the version goes up by one. ``due_date=None`` clears the due date; a new
    due date before today (``now`` in ``tz``) needs ``allow_past``. Only the people ``may_change`` names may
    change it (NotPermitted says who may); ``force`` lets anyone, and adds a "permission" event saying so.
    """
    if status is not None and status not in ACTION_STATUSES:
        raise ValueError(f"status must be one of {', '.join(ACTION_STATUSES)}, got {status!r}")
    note = note.strip() if note and note.strip() else None
    tz = tz or ZoneInfo("UTC")
    with records.write() as session:
        action = session.exec(select(Action).where(Action.id == action_id).with_for_update()).first()
        if action is None:
            raise ValueError(f"no action {action_id}")
        actor = session.get(Person, actor_id)
        if actor is None:
            raise ValueError(f"no person with id {actor_id}")
        allowed = may_change(session, action, actor)
        if allowed is None and not force:
            raise NotPermitted(f"{actor.handle} may not change action {action.id}: {who_may_change(session, action)}")
        if if_version is not None and action.version != if_version:
            raise StaleUpdate(stale_message(session, action, if_version, tz))
        changes: list[tuple[str, str | None, str | None]] = []
        new_status, new_due = action.status, action.due_date
        if status is not None and status != action.status:
            changes.append(("status", action.status, status))
            new_status = status
        if due_date is not KEEP and due_date != action.due_date:
            if problem := due_date_problem(due_date, now.astimezone(tz).date(), allow_past=allow_past):
                raise ValueError(f"{problem}; pass --allow-past to record it anyway")
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
            raise StaleUpdate(stale_message(session, action, version, tz))
        if allowed is None:  # forced: say so in the history, with who did it
            session.add(ActionEvent(action_id=action_id, actor_id=actor_id, at=now, field="permission", old=None,
                                    new="forced", note=f"changed with --force by {actor.handle}, who is not "
                                    f"among those who may: {who_may_change(session, action)}"))
        for name, old, new in changes:
            session.add(ActionEvent(action_id=action_id, actor_id=actor_id, at=now, field=name, old=old, new=new,
                                    note=note))
        return Updated(action.id, version + 1, tuple(changes), note)  # type: ignore[arg-type]


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day is not None else None
