"""What a screen holding a ritual run does, whatever its layout: it owns a ``rituals.session.RunSession`` and
calls it from workers (open or resume, findings, notes autosaved ``AUTOSAVE_DELAY`` seconds after the last
keystroke and on leaving, session writes, close, discard, minutes), showing every refusal as a notice.
``finops_tui.screens.stepper`` lays the steps out on top of it."""

from __future__ import annotations

import asyncio
import threading
from typing import Any, ClassVar

from textual import on, work
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.worker import get_current_worker

from finops_tui.modals.confirm import Confirm
from rituals.findings_cache import CachedFindings
from rituals.ritual import Findings, Ritual
from rituals.session import CloseOutcome, NothingDue, RunSession

Refused = (ValueError, RuntimeError)  # RunClosed, RunConflict, RaciError, StaleUpdate: shown, never raised


class Deferred(Message):
    """A call posted from the opening worker (posting does not wait for the UI thread, so the worker goes on
    to the findings while the screen is still being composed)."""

    def __init__(self, fn: Any, args: tuple[Any, ...]) -> None:
        super().__init__()
        self.fn, self.args = fn, args


class RunSessionScreen(Screen[None]):
    AUTOSAVE_DELAY: ClassVar[float] = 0.5
    # A screen that paints its first figures from the findings' as_json() (``show_cached_findings``) shows
    # the findings last computed for the run at once, marked with when, while it recomputes them.
    SHOWS_CACHED: ClassVar[bool] = False
    # A screen whose ritual reports its findings step by step (``Request.progress``: the monthly agenda) paints
    # each step's figures as they are computed (``show_partial_findings``), the first steps first.
    SHOWS_PARTIAL: ClassVar[bool] = False
    # The opening worker waits (at most this long) for the first paint before computing the findings: on
    # two shared cores the computation's Python otherwise competes with the paint for the interpreter.
    FIRST_PAINT_WAIT: ClassVar[float] = 1.0

    def __init__(self, home: Any, definition: Ritual, period: str | None, facilitator: str | None) -> None:
        super().__init__()
        self.home = home
        self.ritual = definition
        self.session = RunSession(home, definition, period, facilitator=facilitator)
        self.findings: Any = None  # the ritual's Findings, once computed
        self.outcome: CloseOutcome | None = None
        self.exported_path: Any = None  # where `m` last wrote the minutes
        self._autosave_timer: Timer | None = None
        # Opening starts while the screen composes; what it shows waits until the widgets are mounted.
        self._mounted = False
        self._until_mounted: list[tuple[Any, tuple[Any, ...]]] = []
        self.cached: CachedFindings | None = None  # the cached findings on screen until the fresh ones arrive
        self.partial: dict[str, Any] | None = None  # the part of the fresh findings on screen before the rest
        self.shown_cached: CachedFindings | None = None  # the cached findings this screen first showed, if any
        self.first_paint = threading.Event()

    @property
    def run(self) -> Any:
        return self.session.run

    @property
    def people(self) -> list[Any]:
        return self.session.people

    @property
    def actions(self) -> list[Any]:
        return self.session.actions

    # -- what the layout and the ritual screens provide ---------------------------------------------------
    def findings_options(self) -> dict[str, object]:
        """The ritual's options the findings are computed with (part of the cached findings' key)."""
        return {}

    def compute_findings(self) -> Findings:
        """The ritual's findings for this run (called in a worker thread)."""
        return self.session.findings_in_steps(self._partial_findings if self.SHOWS_PARTIAL else None,
                                              **self.findings_options())

    def show_partial_findings(self, numbers: dict[str, Any]) -> None:
        """Render the steps whose figures are in ``numbers`` (a part of the findings' ``as_json()``, freshly
        computed; the rest still being computed), main thread; the full findings follow."""

    def show_findings(self, findings: Any) -> None:
        """Render the findings (main thread): after opening, on reload and before closing."""

    def show_cached_findings(self, numbers: dict[str, Any]) -> None:
        """Render the first figures from the findings' ``as_json()`` as last computed (main thread), with
        the functions ``show_findings`` renders them with, so the fresh figures replace them one for one."""

    def show_figures_note(self, text: str) -> None:
        """Say whether the figures on screen are cached (and when they were computed); "" once fresh."""

    def describe_close(self, extras: dict[str, Any]) -> str:
        """What the ritual's close extras did, for the status line."""
        return ", ".join(f"{k}: {v}" for k, v in extras.items())

    def action_defaults(self) -> dict[str, Any]:
        """A new action's initial values (called in a thread): owned by the facilitator."""
        return {"owner_id": self.session.actor_id()}

    def show_run(self) -> None:
        """Render the opened run (main thread)."""

    def show_record(self) -> None:
        """Render the run's decisions and actions after a write (main thread)."""

    def show_numbers(self, numbers: dict[str, Any] | str, summary: str | None = None) -> None:
        """Render what the run freezes, or why it cannot be computed, with the minutes' summary of it
        (main thread)."""

    def summary_text(self, numbers: dict[str, Any] | None) -> str:
        """The summary the minutes will open with, for this run with ``numbers`` (what closing now would
        freeze; None: what the closed run froze). Any thread: it reads the records."""
        from exports.minutes import render_summary
        from rituals.runs import get_run

        with self.home.records.session() as s:
            run = get_run(s, self.session.run_id)
            return render_summary(s, run, numbers if run.status == "open" else None, self.home.config.currency)

    def set_editable(self, editable: bool) -> None:
        """Enable the inputs while the run is open."""

    def status(self, text: str) -> None:
        self.notify(text, markup=False)

    # -- opening and the findings -------------------------------------------------------------------------
    def when_mounted(self, fn: Any, *args: Any) -> None:
        """Call ``fn(*args)`` now if the screen's widgets are mounted, else as soon as they are (main thread)."""
        if self._mounted:
            fn(*args)
        else:
            self._until_mounted.append((fn, args))

    def widgets_mounted(self) -> None:
        """The layout calls this once its widgets are mounted: what the opening found is shown now."""
        self._mounted = True
        waiting, self._until_mounted = self._until_mounted, []
        for fn, args in waiting:
            fn(*args)

    @on(Deferred)
    def _deferred(self, message: Deferred) -> None:
        self.when_mounted(message.fn, *message.args)

    @work(thread=True, exclusive=True, group="stepper-open")
    def open_session(self) -> None:
        try:
            self.session.open()
        except Refused as exc:  # NothingDue, a bad period
            self.post_message(Deferred(self._cannot_open, (exc,)))
            return
        self.post_message(Deferred(self.show_run, ()))
        cached = None
        if self.SHOWS_CACHED:
            try:
                cached = self.session.cached_findings(**self.findings_options())
            except Exception:  # noqa: BLE001 - only a cache: the figures are computed below anyway
                cached = None
        if cached is not None:
            self.post_message(Deferred(self._show_cached, (cached,)))
        self.post_message(Deferred(self.opened_painted, ()))
        self.first_paint.wait(self.FIRST_PAINT_WAIT)
        self._compute_and_show()

    def opened_painted(self) -> None:
        """Called once what the opening shows is on screen (main thread): the findings are computed now.
        A screen whose first paint comes later (a worker of its own) calls ``mark_painted`` itself."""
        self.mark_painted()

    def mark_painted(self) -> None:
        self.call_after_refresh(self.first_paint.set)

    def _partial_findings(self, numbers: dict[str, Any]) -> None:
        # From the computing thread: posted, not waited for, so the computation goes on while it paints.
        self.post_message(Deferred(self._show_partial, (numbers,)))

    def _show_partial(self, numbers: dict[str, Any]) -> None:
        # Cached figures on screen stay whole until the fresh findings replace them all (one note says
        # what they are); fresh findings already shown are never replaced by a part of newer ones.
        if self.findings is None and self.cached is None:
            self.partial = {**(self.partial or {}), **numbers}  # a step just composed is rendered from it
            self.show_partial_findings(numbers)

    def _show_cached(self, cached: CachedFindings) -> None:
        from rituals.board import figures_note

        if self.findings is not None:
            return  # the fresh figures came first
        self.cached = self.shown_cached = cached
        self.show_cached_findings(cached.numbers)
        self.show_figures_note(figures_note(cached, refreshing=True, tz=self.home.clock.tz, what="Cached figures"))

    def _cannot_open(self, exc: Exception) -> None:
        self.app.notify(str(exc), title="Nothing due" if isinstance(exc, NothingDue) else "Cannot open the run",
                        severity="warning", markup=False)
        self.app.pop_screen()

    @work(thread=True, exclusive=True, group="stepper-findings")
    def reload_findings(self) -> None:
        self._compute_and_show()

    def _compute_and_show(self) -> None:
        try:
            findings = self.compute_findings()
        except Exception as exc:  # the meeting goes on with notes when a query fails
            self.notify_any_thread(f"Could not compute the figures: {exc}", severity="error")
            self.app.call_from_thread(self.when_mounted, self._not_refreshed)
            return
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self.when_mounted, self.findings_ready, findings)

    def _not_refreshed(self) -> None:
        from rituals.board import figures_note

        if self.cached is not None and self.findings is None:
            note = figures_note(self.cached, refreshing=False, tz=self.home.clock.tz, what="Cached figures")
            self.show_figures_note(note.removesuffix("; recomputing…") + "; recomputing them failed")

    def findings_ready(self, findings: Any) -> None:
        self.findings = findings
        self.show_findings(findings)
        if self.cached is not None:
            self.cached = None
            self.show_figures_note("")  # the fresh figures replaced the cached ones

    @work(thread=True, exclusive=True, group="stepper-numbers")
    def preview(self) -> None:
        """What closing now would freeze (the frozen numbers once closed), shown with ``show_numbers``."""
        if self.run is None or (self.findings is None and self.session.is_open):
            return  # shown when the findings arrive
        try:
            numbers = self.session.preview(self.findings) if self.session.is_open else self.run.numbers
            summary = self.summary_text(numbers)
        except Exception as exc:  # a ritual's query failing must not take the meeting down
            self.app.call_from_thread(self.show_numbers, f"Could not compute the numbers: {exc}")
            return
        self.app.call_from_thread(self.show_numbers, numbers, summary)

    # -- notes, saved as they are typed -------------------------------------------------------------------
    def note_typed(self, step: str, text: str) -> None:
        if not self.session.stage_note(step, text):
            return  # loaded text, not typing
        if self._autosave_timer is not None:
            self._autosave_timer.stop()
        self._autosave_timer = self.set_timer(self.AUTOSAVE_DELAY, self._save_notes)

    def note_loadable(self, step: str) -> bool:
        """Whether the stored note may replace the box's text (nothing typed is waiting to be saved)."""
        return not self.session.has_pending(step)

    @work(thread=True, group="stepper-save")
    def _save_notes(self) -> None:
        self.save_pending_notes()

    def save_pending_notes(self) -> None:
        """Write every pending note now (any thread); errors are shown, typed text stays on screen."""
        saved, refused = self.session.save_pending_notes()
        for reason in refused:
            self.notify_any_thread(f"{reason}. Your text is still on screen.", severity="error")
        if saved or refused:
            self.status_any_thread(f"Notes saved at {self.home.clock.now():%H:%M:%S} UTC")

    def on_unmount(self) -> None:
        self.save_pending_notes()

    def action_leave(self) -> None:
        self.save_pending_notes()
        self.app.pop_screen()

    # -- writes -------------------------------------------------------------------------------------------
    @work(thread=True, group="stepper-save")
    def save(self, change: Any, done: str) -> None:
        """Apply ``change()`` (a session write) in a thread; a refusal becomes a notice; then the record
        is shown again."""
        try:
            change()
        except Refused as exc:
            self.notify_any_thread(str(exc), severity="error")
            return
        if done:
            self.status_any_thread(done)
        self.app.call_from_thread(self.show_record)

    def writable(self) -> bool:
        """Whether the run takes writes (a notice says why not)."""
        if not self.session.is_open:
            self.notify("This run is not open; its record is read-only.", severity="warning")
        return self.session.is_open

    def notify_any_thread(self, message: str, severity: str = "information") -> None:
        if threading.get_ident() == self.app._thread_id:
            self.notify(message, severity=severity, markup=False)  # type: ignore[arg-type]
        else:
            self.app.call_from_thread(self.notify, message, severity=severity, markup=False)

    def status_any_thread(self, text: str) -> None:
        if threading.get_ident() == self.app._thread_id:
            self.status(text)
        else:
            self.app.call_from_thread(self.status, text)

    # -- closing, discarding, minutes ---------------------------------------------------------------------
    def action_close_run(self) -> None:
        if self.writable():
            self._close_flow()

    @work(group="stepper-dialog", exclusive=True)
    async def _close_flow(self) -> None:
        await asyncio.to_thread(self.save_pending_notes)
        try:
            findings = await asyncio.to_thread(self.compute_findings)
            preview = await asyncio.to_thread(self.session.preview, findings)
            summary = await asyncio.to_thread(self.summary_text, preview)
        except Exception as exc:
            self.notify(f"Could not compute the numbers, the run stays open: {exc}", severity="error", markup=False)
            return
        self.findings = findings
        self.show_findings(findings)
        self.show_numbers(preview, summary)
        run = self.session.current_run()
        question = f"Close run {run.id} ({self.ritual.title} {run.period}) and freeze these numbers?"
        if not await self.app.push_screen_wait(Confirm(question, self.ritual.close_detail, yes="Close")):
            return
        try:
            self.outcome = await asyncio.to_thread(self.session.close, findings)
        except Refused as exc:
            self.notify(f"The run stays open: {exc}", severity="error", markup=False)
            return
        self.set_editable(False)
        self.sub_title = f"run {run.id} (closed)"
        self.show_numbers(self.outcome.numbers, await asyncio.to_thread(self.summary_text, None))
        done = self.describe_close(self.outcome.extras)
        self.status(f"Run closed{'; ' + done if done else ''}. Press m to export the minutes.")
        self.notify("Run closed. Press m to export its minutes.", markup=False)

    def action_discard_run(self) -> None:
        """Delete a run opened by mistake: refused once it holds decisions or actions (a record)."""
        run = self.run
        if run is None or not self.writable():
            return
        if run.decisions or self.actions:
            self.notify(f"Run {run.id} holds {len(run.decisions)} decision(s) and {len(self.actions)} action(s): "
                        "it is a record and cannot be discarded.", severity="warning", markup=False)
            return
        self._discard_flow()

    @work(group="stepper-dialog", exclusive=True)
    async def _discard_flow(self) -> None:
        run = self.session.current_run()
        question = f"Discard run {run.id} ({self.ritual.title} {run.period}), opened by mistake?"
        if not await self.app.push_screen_wait(Confirm(question, "Its notes and attendees are deleted.",
                                                       yes="Discard")):
            return
        self.session.drop_pending()
        try:
            await asyncio.to_thread(self.session.discard)
        except Refused as exc:
            self.notify(str(exc), severity="error", markup=False)
            return
        self.app.notify(f"Run {run.id} ({self.ritual.title} {run.period}) discarded", markup=False)
        self.app.pop_screen()

    def action_export_minutes(self) -> None:
        if self.run is not None:
            self._export_minutes()

    @work(thread=True, exclusive=True, group="stepper-export")
    def _export_minutes(self) -> None:
        from exports.minutes import write_minutes

        self.save_pending_notes()
        try:
            path = write_minutes(self.home, self.run.id)
        except (OSError, ValueError) as exc:
            self.notify_any_thread(f"Could not write the minutes: {exc}", severity="error")
            return
        self.exported_path = path
        self.notify_any_thread(f"Minutes written to {path}")
