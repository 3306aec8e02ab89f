"""What a run's minutes show besides its numbers, frozen when the run closes (``RitualRun.snapshot``).

The minutes of a closed run are a frozen record: an action's status, owner or title changed later, or a
person renamed later, must not move them. So ``close_run`` stores, in the same transaction, the actions
the run created (status, owner, due date, title, kind as at close), the names of everyone the minutes
mention, the headline figures of the previous closed run of the same ritual (what changed since), and a
ritual's own lists of live records (the monthly review's action log). The same functions
give an open run's draft its live view, so a draft and the minutes frozen from it render alike.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from sqlmodel import Session, select

from rituals.definitions.monthly_review import KIND as MONTHLY_REVIEW
from storage.records import Action, Person, RitualRun

SNAPSHOT_VERSION = 1


def _iso(value: Any) -> Any:
    return value.isoformat() if value is not None and hasattr(value, "isoformat") else value


def all_people(session: Session) -> dict[int, Person]:
    return {p.id: p for p in session.exec(select(Person)) if p.id is not None}


def person_entry(person: Person) -> dict[str, Any]:
    return {"id": person.id, "handle": person.handle, "name": person.name}


def action_entries(session: Session, run_id: int, people: dict[int, Person] | None = None) -> list[dict[str, Any]]:
    """The actions created in run ``run_id`` (by id), as JSON values: what the minutes' action table shows."""
    query = select(Action).where(Action.source_run_id == run_id).order_by(Action.id)  # type: ignore[arg-type]
    actions = session.exec(query).all()
    if people is None:
        people = all_people(session) if actions else {}
    out = []
    for a in actions:
        owner = people.get(a.owner_id)
        out.append({"id": a.id, "title": a.title, "kind": a.kind, "status": a.status, "owner_id": a.owner_id,
                    "owner": owner.handle if owner else None, "owner_name": owner.name if owner else None,
                    "due_date": _iso(a.due_date)})
    return out


def _strings(obj: Any) -> Iterable[str]:
    if isinstance(obj, str):
        yield obj
    elif isinstance(obj, dict):
        for v in obj.values():
            yield from _strings(v)
    elif isinstance(obj, list | tuple):
        for v in obj:
            yield from _strings(v)


def mentioned_people(run: RitualRun, numbers: dict[str, Any] | None, actions: list[dict[str, Any]],
                     people: dict[int, Person]) -> list[dict[str, Any]]:
    """Everyone the minutes can name: facilitator, attendees, decision authors, action owners, and any
    handle a ritual's decisions or numbers carry (an approver, a gap's owner), by id."""
    by_handle = {p.handle: p for p in people.values()}
    ids = {run.facilitator_id, *(a["owner_id"] for a in actions)}
    handles = set(run.attendees) | {d.get("by") for d in run.decisions if isinstance(d.get("by"), str)}
    handles |= {s for s in _strings([run.decisions, numbers]) if s in by_handle}
    ids |= {by_handle[h].id for h in handles if h in by_handle}
    return [person_entry(people[i]) for i in sorted(i for i in ids if i is not None and i in people)]


def previous_run(session: Session, run: RitualRun) -> dict[str, Any] | None:
    """The closed run of the same ritual just before ``run``'s period (the latest closed for it), with
    its headline figures as its ritual reads them: what the minutes compare with ("since the last run")."""
    from dataclasses import asdict

    from sqlmodel import col

    from rituals.ritual import RITUAL_BY_KIND

    query = (select(RitualRun).where(col(RitualRun.kind) == run.kind, col(RitualRun.status) == "closed",
                                     col(RitualRun.period) < run.period, col(RitualRun.id) != run.id)
             .order_by(col(RitualRun.period).desc(), col(RitualRun.closed_at).desc()))
    prev = session.exec(query).first()
    definition = RITUAL_BY_KIND.get(run.kind)
    if prev is None or definition is None:
        return None
    heads = definition.headlines(prev.numbers) if prev.numbers else []
    return {"run_id": prev.id, "period": prev.period, "headlines": [asdict(h) for h in heads]}


def _monthly_action_log(session: Session, run: RitualRun) -> dict[str, Any]:
    from dataclasses import asdict

    from rituals.review_actions import action_log

    closed = run.closed_at or run.opened_at
    assert closed is not None
    return asdict(action_log(session, run, closed.date()))  # the day the minutes' log has always used


# The lists of live records a ritual's minutes show besides the run's own actions, under the key the
# ritual's minutes section reads them from.
EXTRAS: dict[str, dict[str, Callable[[Session, RitualRun], Any]]] = {
    MONTHLY_REVIEW: {"action_log": _monthly_action_log},
}


def build_snapshot(session: Session, run: RitualRun, numbers: dict[str, Any] | None,
                   now: datetime) -> dict[str, Any]:
    """The snapshot of ``run`` as it closes at ``now`` with ``numbers`` (call inside the closing
    transaction, after the ritual's own writes). Dates are left as they are: close_run makes it JSON."""
    assert run.id is not None
    people = all_people(session)
    actions = action_entries(session, run.id, people)
    snapshot: dict[str, Any] = {"version": SNAPSHOT_VERSION, "frozen_at": now.isoformat(timespec="seconds"),
                                "people": mentioned_people(run, numbers, actions, people), "actions": actions,
                                "previous": previous_run(session, run)}
    if run.kind in EXTRAS:
        # The ritual's lists see the run as closed at ``now`` (a detached copy: the stored row is only
        # written by close_run's versioned update).
        closing = RitualRun(id=run.id, kind=run.kind, period=run.period, status="closed", opened_at=run.opened_at,
                            closed_at=now, facilitator_id=run.facilitator_id, attendees=list(run.attendees),
                            notes=dict(run.notes), decisions=list(run.decisions), numbers=numbers,
                            version=run.version)
        for key, build in EXTRAS[run.kind].items():
            snapshot[key] = build(session, closing)
    return snapshot
