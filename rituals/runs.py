"""The ritual run lifecycle: created when a ritual is opened, saved as it goes, frozen when closed.

Every write takes the caller's copy of the run (its ``version``) and applies only the caller's change on
top of what is stored: two terminals editing different steps both keep their notes, and a note for the
same step changed by someone else since the caller last read it raises ``RunConflict`` instead of being
overwritten silently. Updates are ``UPDATE ... WHERE version = n`` so the check also holds on PostgreSQL,
where there is no ``BEGIN IMMEDIATE``. A closed run is read-only: every edit raises ``RunClosed``.
"""

from __future__ import annotations

import json
import math
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, update
from sqlmodel import Session, col, select

from rituals.calendar import period_bounds
from rituals.ritual import KINDS, PERIOD_EXAMPLES, RITUAL_BY_KIND, ritual
from rituals.run_snapshot import build_snapshot
from storage.config import CalendarConfig
from storage.records import Action, Person, RitualRun


class RunNotFound(ValueError):
    """No run with that id (bad input: the command line exits 2)."""


class RunClosed(ValueError):
    """An edit to a closed run: its record is frozen."""


class RunConflict(RuntimeError):
    """Someone else changed the same part of the run since the caller read it."""


def _shape(period: str) -> str:
    return "W" if "W" in period else "Q" if "Q" in period else "M"


def validate_kind_period(kind: str, period: str, cal: CalendarConfig | None = None) -> str:
    """The period, stripped, or a ValueError naming what is wrong."""
    want = ritual(kind).period_shape
    period = period.strip()
    period_bounds(period, cal)
    if _shape(period) != want:
        raise ValueError(f"a {kind} run reviews a period like {PERIOD_EXAMPLES[want]}, got {period!r}")
    return period


def jsonable(obj: Any) -> Any:
    """``obj`` as plain JSON values: NaN/inf -> None, dates -> ISO text, numpy scalars -> Python."""
    if isinstance(obj, bool) or obj is None or isinstance(obj, int | str):
        return obj
    if isinstance(obj, float):
        return None if math.isnan(obj) or math.isinf(obj) else obj
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [jsonable(v) for v in obj]
    if type(obj).__name__ in ("NAType", "NaTType"):
        return None
    if hasattr(obj, "isoformat"):
        return obj.isoformat()
    if hasattr(obj, "item"):
        return jsonable(obj.item())
    raise ValueError(f"frozen numbers must be JSON values, got {type(obj).__name__}: {obj!r}")


# -- reads --------------------------------------------------------------------------------------------
def get_run(session: Session, run_id: int) -> RitualRun:
    run = session.get(RitualRun, run_id, populate_existing=True)
    if run is None:
        raise RunNotFound(f"no ritual run with id {run_id}")
    return run


def list_runs(session: Session, kind: str | None = None) -> list[RitualRun]:
    """Runs, newest first (by opening time, then id)."""
    if kind is not None and kind not in KINDS:
        ritual(kind)  # raises, naming the known kinds
    query = select(RitualRun)
    if kind is not None:
        query = query.where(RitualRun.kind == kind)
    runs = list(session.exec(query))
    return sorted(runs, key=lambda r: (r.opened_at, r.id), reverse=True)


def find_open_run(session: Session, kind: str, period: str) -> RitualRun | None:
    query = (select(RitualRun).where(RitualRun.kind == kind, RitualRun.period == period,
                                     RitualRun.status == "open").order_by(col(RitualRun.id)))
    return session.exec(query).first()


def run_summary(session: Session, run: RitualRun) -> dict[str, Any]:
    """One run as the JSON of ``finops-tui runs --json``."""
    facilitator = session.get(Person, run.facilitator_id) if run.facilitator_id else None
    actions = session.exec(select(Action.id).where(Action.source_run_id == run.id)).all()
    spec = RITUAL_BY_KIND.get(run.kind)
    return {
        "id": run.id,
        "kind": run.kind,
        "title": spec.title if spec else run.kind,
        "period": run.period,
        "status": run.status,
        "opened_at": run.opened_at,
        "closed_at": run.closed_at,
        "facilitator": facilitator.handle if facilitator else None,
        "attendees": list(run.attendees),
        "notes": len([t for t in run.notes.values() if t.strip()]),
        "decisions": len(run.decisions),
        "actions": len(actions),
        "has_numbers": run.numbers is not None,
        "version": run.version,
    }


# -- writes (call inside ``home.records.write()``) ----------------------------------------------------
def open_run(session: Session, kind: str, period: str, facilitator_id: int | None, now: datetime,
             cal: CalendarConfig | None = None) -> RitualRun:
    """The open run of ``kind`` for ``period``, or a new one. A closed run of the same period stays as
    it is; opening the ritual again starts a fresh run."""
    period = validate_kind_period(kind, period, cal)
    existing = find_open_run(session, kind, period)
    if existing is not None:
        return existing
    run = RitualRun(kind=kind, period=period, status="open", opened_at=now, facilitator_id=facilitator_id,
                    attendees=[], notes={}, decisions=[], numbers=None, version=1)
    session.add(run)
    session.flush()
    return run


def _current(session: Session, run: RitualRun | int) -> RitualRun:
    current = get_run(session, run if isinstance(run, int) else run.id)
    if current.status != "open":
        raise RunClosed(f"run {current.id} ({current.kind} {current.period}) is closed; its record is "
                        "read-only")
    return current


def _store(session: Session, current: RitualRun, **values: Any) -> RitualRun:
    """Write ``values`` if the row still has the version just read, and return the fresh row."""
    result = cast(CursorResult[Any], session.execute(
        update(RitualRun)
        .where(col(RitualRun.id) == current.id, col(RitualRun.version) == current.version)
        .values(version=current.version + 1, **values)
    ))
    if result.rowcount != 1:
        raise RunConflict(f"run {current.id} changed while saving; reopen it and try again")
    return get_run(session, current.id)


def save_note(session: Session, run: RitualRun, step: str, text: str) -> RitualRun:
    """Store the note of one step. ``run`` is the caller's copy: if another writer changed this step's
    note since then, raise RunConflict (their text is kept); changes to other steps are merged."""
    current = _current(session, run)
    stored = current.notes.get(step, "")
    if current.version != run.version and stored != run.notes.get(step, "") and stored != text:
        raise RunConflict(f"the note of step {step!r} of run {current.id} was changed elsewhere since you "
                          "opened it; your text was not saved over it")
    if stored == text:
        return current
    return _store(session, current, notes={**current.notes, step: text})


def set_attendees(session: Session, run: RitualRun, handles: list[str]) -> RitualRun:
    """Make the attendees ``handles``: who the caller added or removed since its copy is applied to
    what is stored, so two terminals ticking different people both count."""
    current = _current(session, run)
    wanted = list(dict.fromkeys(h.strip() for h in handles if h.strip()))
    removed = set(run.attendees) - set(wanted)
    merged = [h for h in current.attendees if h not in removed]
    merged += [h for h in wanted if h not in merged]
    if merged == current.attendees:
        return current
    return _store(session, current, attendees=merged)


def add_decision(session: Session, run: RitualRun, text: str, by: str | None, now: datetime,
                 step: str | None = None, detail: dict[str, Any] | None = None) -> RitualRun:
    """Append a decision (who took it, when, at which step; ``detail``: a ritual's structured fields)."""
    if not text.strip():
        raise ValueError("a decision needs some text")
    current = _current(session, run)
    decision = {"text": text.strip(), "by": by, "at": now.isoformat(timespec="seconds"), "step": step}
    if detail:
        decision["detail"] = jsonable(detail)
    return _store(session, current, decisions=[*current.decisions, decision])


def close_run(session: Session, run_id: int, numbers: dict[str, Any], now: datetime,
              expected_version: int | None = None) -> RitualRun:
    """Freeze ``numbers`` (the ritual's headless ``--json`` object) and what the minutes show (the run's
    actions as they stand, the names of the people they mention: ``rituals.run_snapshot``) and close the
    run, in the caller's transaction, after the ritual's own writes. ``expected_version`` (optional)
    refuses to close over changes the caller has not seen."""
    if not isinstance(numbers, dict):
        raise ValueError("the frozen numbers must be one JSON object")
    frozen = json.loads(json.dumps(jsonable(numbers), allow_nan=False))
    current = _current(session, run_id)
    if expected_version is not None and current.version != expected_version:
        raise RunConflict(f"run {run_id} changed since you read it (version {current.version}, you had "
                          f"{expected_version}); review it before closing")
    snapshot = _frozen_snapshot(session, current, frozen, now)
    return _store(session, current, numbers=frozen, status="closed", closed_at=now, snapshot=snapshot)


def _frozen_snapshot(session: Session, run: RitualRun, numbers: dict[str, Any], now: datetime) -> dict[str, Any]:
    return json.loads(json.dumps(jsonable(build_snapshot(session, run, numbers, now)), allow_nan=False))


def stable_floats(obj: Any) -> Any:
    """Floats to 6 decimals, recursively. DuckDB's parallel sums differ in the last bits from run to run;
    a ritual's --json object goes through this so the numbers frozen at close equal what the headless
    command prints for the same data."""
    if isinstance(obj, float):
        return round(obj, 6) + 0.0
    if isinstance(obj, dict):
        return {k: stable_floats(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [stable_floats(v) for v in obj]
    return obj


def discard_run(session: Session, run_id: int) -> None:
    """Delete a run opened by mistake: refused once it is closed or holds decisions or actions (those
    are a record). Its notes and attendees go with it."""
    from sqlmodel import col

    run = get_run(session, run_id)
    if run.status != "open":
        raise RunClosed(f"run {run_id} ({run.kind} {run.period}) is closed; a closed run is a record and "
                        "cannot be discarded")
    if run.decisions:
        raise ValueError(f"run {run_id} holds {len(run.decisions)} decision(s); it cannot be discarded")
    actions = session.exec(select(Action.id).where(col(Action.source_run_id) == run_id)).all()
    if actions:
        raise ValueError(f"run {run_id} created {len(actions)} action(s) (#{', #'.join(map(str, actions))}); "
                         "it cannot be discarded")
    session.delete(run)
    session.flush()
