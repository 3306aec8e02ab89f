"""The monthly review's action log: the actions carried from earlier reviews, walked one by one, and who
owns a new action by default.

Carried actions are those created in an earlier monthly review (their source run is a ``monthly_review``
other than the one being held): every one still open (overdue ones flagged), and those finished (done or
dropped) since the last closed monthly review. Actions from the other rituals are counted, not walked: their
own rituals review them. A status update goes through ``rituals.actions.update_action`` with the version the
facilitator saw, so an owner updating the same action from their own terminal is never overwritten.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlmodel import Session, col, select

from rituals.actions import KEEP, Updated, list_actions, update_action
from rituals.definitions.monthly_review import KIND as MONTHLY_REVIEW
from storage.records import OPEN_ACTION_STATUSES, Action, ActionEvent, Person, RitualRun

FINISHED = ("done", "dropped")

# Which RACI activity answers for an agenda item's actions (engineering rows resolve to the team's owner).
STEP_ACTIVITY = {
    "actions": "Monthly cost review",
    "spend": "Forecast and variance analysis",
    "drivers": "Right-sizing and resource clean-up",
    "showback": "Cost visibility and dashboards",
    "unit_economics": "Unit-economics reporting",
    "anomalies": "Anomaly detection and response",
    "coverage": "Tagging and allocation standard",
    "commitments": "Commitment purchase (SP / RI)",
    "decisions": "Monthly cost review",
}


def last_closed_review(session: Session, before_period: str | None = None,
                       exclude_run: int | None = None) -> RitualRun | None:
    """The most recently closed monthly review (of a period before ``before_period`` when given)."""
    runs = session.exec(select(RitualRun).where(RitualRun.kind == MONTHLY_REVIEW,
                                                RitualRun.status == "closed")).all()
    runs = [r for r in runs if r.id != exclude_run and (before_period is None or r.period < before_period)]
    return max(runs, key=lambda r: (r.closed_at or r.opened_at, r.id), default=None)


def _finished_at(session: Session, action_ids: list[int]) -> dict[int, datetime]:
    """When each action last reached done/dropped (its status events)."""
    if not action_ids:
        return {}
    events = session.exec(select(ActionEvent).where(ActionEvent.action_id.in_(action_ids),  # type: ignore[attr-defined]
                                                    ActionEvent.field == "status")).all()
    out: dict[int, datetime] = {}
    for e in events:
        if e.new in FINISHED and e.at is not None and (e.action_id not in out or e.at > out[e.action_id]):
            out[e.action_id] = e.at
    return out


def carried_actions(session: Session, today: date, current_run: int | None = None,
                    before_period: str | None = None) -> dict[str, Any]:
    """The action log a review walks: ``open`` (overdue first), ``done_since`` the last closed review,
    ``overdue`` count, and ``other_open`` (open actions of the other rituals, per kind of run)."""
    runs = {r.id: r for r in session.exec(select(RitualRun))}
    last = last_closed_review(session, before_period, exclude_run=current_run)
    since = (last.closed_at or last.opened_at) if last is not None else None
    views = list_actions(session, today=today, include_closed=True)
    source = {a.id: a.source_run_id for a in session.exec(select(Action))}

    def from_reviews(action_id: int) -> bool:
        run = runs.get(source.get(action_id))
        return run is not None and run.kind == MONTHLY_REVIEW and run.id != current_run

    carried = [v for v in views if from_reviews(v.id)]
    finished = _finished_at(session, [v.id for v in carried if v.status in FINISHED])
    open_ = [v for v in carried if v.status in OPEN_ACTION_STATUSES]
    done = [v for v in carried if v.status in FINISHED and v.id in finished
            and (since is None or finished[v.id] > since)]
    other = Counter(runs[source[v.id]].kind if source.get(v.id) in runs else "no ritual"
                    for v in views if v.status in OPEN_ACTION_STATUSES and not from_reviews(v.id)
                    and (current_run is None or source.get(v.id) != current_run))

    def row(v: Any) -> dict[str, Any]:
        run = runs.get(source.get(v.id))
        out = {"id": v.id, "title": v.title, "kind": v.kind, "status": v.status, "owner": v.owner,
               "owner_name": v.owner_name, "team": v.team, "due_date": v.due_date, "overdue": v.overdue,
               "days_overdue": v.days_overdue, "from_review": run.period if run else None,
               "expected_monthly_savings": v.expected_monthly_savings, "version": v.version}
        if v.id in finished:
            out["finished_at"] = finished[v.id]
        return out

    return {
        "since": since,
        "last_review": {"run_id": last.id, "period": last.period, "closed_at": last.closed_at} if last else None,
        "open": [row(v) for v in open_],
        "overdue": sum(v.overdue for v in open_),
        "done_since": [row(v) for v in sorted(done, key=lambda v: v.id)],
        "other_open": dict(sorted(other.items())),
    }


def walk_update(records: Any, action_id: int, *, actor_id: int, now: datetime, status: str | None = None,
                note: str | None = None, due_date: Any = KEEP, if_version: int | None = None,
                tz: Any = None) -> Updated:
    """One action's status update during the walk (a StaleUpdate when its owner changed it meanwhile)."""
    return update_action(records, action_id, actor_id=actor_id, now=now, status=status, note=note,
                         due_date=due_date, if_version=if_version, tz=tz)


@dataclass(frozen=True)
class ActionLog:
    new: list[dict[str, Any]]
    changed: list[dict[str, Any]]
    still_open: list[dict[str, Any]]


def action_log(session: Session, run: RitualRun, today: date) -> ActionLog:
    """For the minutes: actions created in this run, carried actions changed during it (their status,
    due-date and note events between opening and closing) and the carried actions still open."""
    people = {p.id: p for p in session.exec(select(Person))}
    name = {pid: f"{p.name} ({p.handle})" for pid, p in people.items()}
    created = session.exec(select(Action).where(Action.source_run_id == run.id).order_by(col(Action.id))).all()
    new = [{"id": a.id, "title": a.title, "owner": name.get(a.owner_id, str(a.owner_id)), "due_date": a.due_date,
            "status": a.status} for a in created]
    log = carried_actions(session, today, current_run=run.id, before_period=run.period)
    carried_ids = [r["id"] for r in log["open"]] + [r["id"] for r in log["done_since"]]
    end = run.closed_at
    changed = []
    if carried_ids:
        events = session.exec(select(ActionEvent).where(col(ActionEvent.action_id).in_(carried_ids))
                              .order_by(col(ActionEvent.id))).all()
        titles = {r["id"]: r["title"] for r in [*log["open"], *log["done_since"]]}
        for e in events:
            if e.field == "created" or e.at is None or e.at < run.opened_at or (end is not None and e.at > end):
                continue
            changed.append({"id": e.action_id, "title": titles[e.action_id], "field": e.field, "old": e.old,
                            "new": e.new, "note": e.note,
                            "by": name.get(e.actor_id, "-") if e.actor_id is not None else "-"})
    still_open = [{**r, "owner": name.get(next((p.id for p in people.values() if p.handle == r["owner"]), -1),
                                          r["owner"])} for r in log["open"]]
    return ActionLog(new, changed, still_open)
