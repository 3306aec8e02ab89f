"""A ritual run as a meeting, without a terminal: open or resume, save notes, attendees, decisions and
actions as they happen, and close: the ritual's extras, its frozen numbers and the closed status in ONE
transaction. The stepper screen only renders a session and collects input; the demo's history and the
tests hold real meetings through the same object.

Every write goes through ``rituals.runs`` (version-checked, merged with other terminals' changes); the
session keeps the caller's copy of the run and serialises its own writes, so a screen may call it from
worker threads.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

from rituals.ritual import CloseInput, Findings, JsonObject, Ritual, Window, ritual

if TYPE_CHECKING:
    from sqlmodel import Session

    from rituals.findings_cache import CachedFindings
    from storage.home import Home
    from storage.records import Action, Person, RitualRun


class NothingDue(ValueError):
    """Every period up to today is closed: opening the ritual would start a future period."""


@dataclass(frozen=True)
class CloseOutcome:
    run: RitualRun
    numbers: JsonObject
    extras: JsonObject = field(default_factory=dict)


class RunSession:
    """One ritual run being held. ``open()`` must be called first (it reads and may write the records)."""

    def __init__(self, home: Home, kind: str | Ritual, period: str | None = None, *,
                 facilitator: str | None = None) -> None:
        self.home = home
        self.ritual = kind if isinstance(kind, Ritual) else ritual(kind)
        self.requested_period = period
        self.facilitator_handle = facilitator
        self.run: RitualRun | None = None
        self.people: list[Person] = []
        self.actions: list[Action] = []
        self.facilitator: Person | None = None
        self._lock = threading.RLock()
        self._pending: dict[str, str] = {}  # notes typed and not saved yet, by step
        self._pending_lock = threading.Lock()
        self._notes_lock = threading.Lock()  # one notes save at a time, so an older text never wins

    # -- reads ---------------------------------------------------------------------------------------------
    @property
    def period(self) -> str:
        if self.run is not None:
            return self.run.period
        if self.requested_period is None:
            raise RuntimeError("the session is not open yet")
        return self.requested_period

    @property
    def is_open(self) -> bool:
        return self.run is not None and self.run.status == "open"

    @property
    def window(self) -> Window:
        return self.ritual.window(self.home, self.period)

    def current_run(self) -> RitualRun:
        if self.run is None:
            raise RuntimeError("the session is not open yet")
        return self.run

    @property
    def run_id(self) -> int:
        run_id = self.current_run().id
        if run_id is None:
            raise RuntimeError("the run has no id yet")
        return run_id

    def actor_id(self) -> int | None:
        return self.facilitator.id if self.facilitator is not None else None

    def findings(self, **options: object) -> Findings:
        """The ritual's findings for this run's window (slow: DuckDB; call from a worker). An open run's
        findings are kept in the home's findings cache (``rituals.findings_cache``) for the next open."""
        return self.findings_in_steps(None, **options)

    def findings_in_steps(self, progress: Callable[[JsonObject], None] | None, **options: object) -> Findings:
        """``findings``, with ``progress`` given the figures computed so far, step by step, by a ritual
        that reports them (``Request.progress``); the findings returned are the same with or without it."""
        from rituals import findings_cache
        from rituals.ritual import Request

        run = self.current_run()
        under = findings_cache.key(self) if self.is_open else None
        at = self.home.clock.now()
        found = self.ritual.computed(self.home, Request(self.window, run.period, self.run_id, dict(options),
                                                        progress=progress))
        if under is not None:
            findings_cache.write(self, dict(options), under, found, at)
        return found

    def cached_findings(self, **options: object) -> CachedFindings | None:
        """The findings last computed for this open run with these options (``current`` False when the
        stores, config or day changed since), or None; a closed run has none (it shows what it froze)."""
        from rituals import findings_cache

        return findings_cache.read(self, dict(options))

    def refresh(self) -> RitualRun:
        from rituals.runs import get_run

        with self.home.records.session() as s:
            self.run = get_run(s, self.run_id)
        return self.run

    # -- opening -------------------------------------------------------------------------------------------
    def open(self, *, allow_future: bool = False) -> RitualRun:
        """Open the run of the requested period (default: the period due now) or resume its open run.
        Without a period and with every period up to today closed, NothingDue: never a future period."""
        from sqlmodel import col, select

        from rituals.calendar import due_now
        from rituals.runs import open_run
        from storage.records import Action, Person

        period = self.requested_period
        if period is None:
            due = due_now(self.ritual, self.home)
            if due.future and not allow_future:
                raise NothingDue(f"every {self.ritual.title.lower()} up to today is closed; the next one "
                                 f"reviews {due.period}, due {due.due_date.isoformat()}")
            period = due.period
        with self._lock, self.home.records.write() as s:
            people = list(s.exec(select(Person).where(col(Person.active) == True)  # noqa: E712
                                 .order_by(col(Person.name))))
            facilitator = next((p for p in people if p.handle == self.facilitator_handle), None) or next(
                (p for p in people if p.role == "finops_lead"), None)
            run = open_run(s, self.ritual.kind, period, facilitator.id if facilitator else None,
                           self.home.clock.now(), self.home.config.calendar)
            actions = list(s.exec(select(Action).where(col(Action.source_run_id) == run.id)
                                  .order_by(col(Action.id))))
        self.run, self.people, self.actions, self.facilitator = run, people, actions, facilitator
        if facilitator is not None:
            self.facilitator_handle = facilitator.handle
        return run

    # -- saving as the meeting goes ------------------------------------------------------------------------
    def _change(self, change: Callable[[Session, RitualRun], RitualRun]) -> RitualRun:
        with self._lock, self.home.records.write() as s:
            self.run = change(s, self.current_run())
        return self.run

    def save_note(self, step: str, text: str) -> RitualRun:
        """Store a step's note (RunConflict when someone else changed the same note since; the caller's
        copy is then refreshed so the next save compares with what is stored)."""
        from rituals.runs import RunConflict, save_note

        try:
            return self._change(lambda s, run: save_note(s, run, step, text))
        except RunConflict:
            self.refresh()
            raise

    # -- notes typed but not saved yet (a screen saves them shortly after the last keystroke) ---------------
    def stage_note(self, step: str, text: str) -> bool:
        """Keep ``text`` as the step's note to save; False when it is the stored note (loaded, not typed)."""
        with self._pending_lock:
            if self.run is None or (self.run.notes.get(step, "") == text and step not in self._pending):
                return False
            self._pending[step] = text
            return True

    def has_pending(self, step: str) -> bool:
        """Whether a typed note of ``step`` waits to be saved (the stored note must not replace it)."""
        with self._pending_lock:
            return step in self._pending

    def drop_pending(self) -> None:
        with self._pending_lock:
            self._pending.clear()

    def save_pending_notes(self) -> tuple[int, list[str]]:
        """Save every staged note now (any thread): how many were saved, and why others were refused
        (someone else changed the same note, or the run closed); a refused note is not retried."""
        from rituals.runs import RunClosed, RunConflict

        with self._notes_lock:
            with self._pending_lock:
                pending, self._pending = self._pending, {}
            if not pending or self.run is None:
                return 0, []
            saved, refused = 0, []
            for step, text in pending.items():
                try:
                    self.save_note(step, text)
                    saved += 1
                except (RunClosed, RunConflict) as exc:
                    refused.append(str(exc))
            return saved, refused

    def set_attendees(self, handles: list[str]) -> RitualRun:
        from rituals.runs import set_attendees

        return self._change(lambda s, run: set_attendees(s, run, handles))

    def add_decision(self, text: str, step: str | None = None, detail: JsonObject | None = None) -> RitualRun:
        """Record one decision (one per submit, the same list for every ritual)."""
        from rituals.runs import add_decision

        return self._change(lambda s, run: add_decision(s, run, text, self.facilitator_handle,
                                                        self.home.clock.now(), step=step, detail=detail))

    def add_action(self, *, title: str, owner_id: int, kind: str = "other", due_date: date | None = None,
                   detail: str = "", **fields: object) -> Action:
        """Create an action owned by ``owner_id`` from this run (refused once the run is closed)."""
        from rituals.actions import create_action
        from rituals.runs import RunClosed, get_run

        with self._lock, self.home.records.write() as s:
            run = get_run(s, self.run_id)
            if run.status != "open":
                raise RunClosed(f"run {run.id} is closed; its record is read-only")
            action = create_action(s, title=title, owner_id=owner_id, kind=kind, due_date=due_date, detail=detail,
                                   now=self.home.clock.now(), actor_id=self.actor_id(), source_run_id=run.id,
                                   **fields)  # type: ignore[arg-type]
        self.actions.append(action)
        return action

    def in_transaction(self, change: Callable[[Session, RitualRun], object]) -> object:
        """Run a ritual's own write (a case status, a commitment decision) against the open run, under the
        session's lock; the run is re-read afterwards."""
        from rituals.runs import RunClosed, get_run

        with self._lock:
            with self.home.records.write() as s:
                run = get_run(s, self.run_id)
                if run.status != "open":
                    raise RunClosed(f"run {run.id} is closed; its record is read-only")
                out = change(s, run)
            self.refresh()
        return out

    # -- closing -------------------------------------------------------------------------------------------
    def close(self, findings: Findings | None = None) -> CloseOutcome:
        """Freeze the findings (computed now unless given), write the ritual's extras and close the run,
        all in one transaction: a failure anywhere leaves the run open and nothing written."""
        from rituals.runs import RunClosed, close_run, get_run

        findings = findings if findings is not None else self.findings()
        run = self.current_run()
        prepared = self.ritual.prepare_close(self.home, run, findings) if self.ritual.prepare_close else None
        with self._lock, self.home.records.write() as s:
            current = get_run(s, self.run_id)
            if current.status != "open":
                raise RunClosed(f"run {self.run_id} is already closed")
            numbers = self.ritual.frozen_numbers(s, self.home, current, findings)
            extras: JsonObject = {}
            if self.ritual.close_extras is not None:
                extras = self.ritual.close_extras(s, CloseInput(self.home, current, findings, numbers, prepared,
                                                                self.actor_id()))
            closed = close_run(s, self.run_id, numbers, self.home.clock.now())
        self.run = closed
        return CloseOutcome(closed, numbers, extras)

    def preview(self, findings: Findings) -> JsonObject:
        """What closing now would freeze (read-only)."""
        run = self.current_run()
        with self.home.records.session() as s:
            return self.ritual.frozen_numbers(s, self.home, run, findings)

    def discard(self) -> None:
        """Delete this run (opened by mistake): only while it is open with no decisions or actions."""
        from rituals.runs import discard_run

        with self._lock, self.home.records.write() as s:
            discard_run(s, self.run_id)
        self.run = None
