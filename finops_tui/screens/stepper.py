"""The ritual stepper every ritual screen reuses: steps in a sidebar, notes per step saved as they are
typed, attendees, decisions, actions created inline, and a Record step that freezes the numbers.

A ritual subclasses ``RitualStepperScreen``, sets ``kind``, lists its ``STEPS`` (each names a method that
composes the step's body) and implements ``numbers()`` (its headless ``--json`` object, frozen at close;
called in a thread). Opening the screen opens the run of ``kind`` + ``period`` or resumes the open one.
Notes are saved at most ``AUTOSAVE_DELAY`` seconds after the last keystroke, so killing the terminal
loses at most that much typing.
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
from dataclasses import dataclass
from typing import Any, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import (
    Button,
    ContentSwitcher,
    Footer,
    Header,
    Input,
    Label,
    ListItem,
    ListView,
    SelectionList,
    Static,
    TextArea,
)

from finops_tui.modals.action_form import ActionForm, ActionValues
from finops_tui.modals.confirm import Confirm


@dataclass(frozen=True)
class Step:
    """``body`` names a method of the screen returning the step's widgets; ``notes`` adds a notes box."""

    id: str
    title: str
    body: str | None = None
    notes: bool = True


ATTENDEES = Step("attendees", "Attendees", "compose_attendees", notes=False)
DECISIONS = Step("decisions", "Decisions and actions", "compose_decisions")
RECORD = Step("record", "Record", "compose_record", notes=False)


class RitualStepperScreen(Screen[None]):
    kind: ClassVar[str] = ""
    STEPS: ClassVar[tuple[Step, ...]] = ()
    AUTOSAVE_DELAY: ClassVar[float] = 0.5

    DEFAULT_CSS = """
    RitualStepperScreen #stepper-steps { width: 26; border-right: vkey $primary-background; }
    RitualStepperScreen #stepper-main { width: 1fr; padding: 0 1; }
    RitualStepperScreen #stepper-step-title { text-style: bold; height: 1; }
    RitualStepperScreen #stepper-status { color: $text-muted; height: 1; }
    RitualStepperScreen #stepper-bodies { height: 1fr; }
    RitualStepperScreen .stepper-step { height: 1fr; }
    RitualStepperScreen .stepper-notes { height: 8; min-height: 4; }
    RitualStepperScreen #stepper-attendees { height: auto; max-height: 16; }
    RitualStepperScreen #stepper-decision-input { margin-top: 0; }
    RitualStepperScreen #stepper-numbers { height: auto; }
    """
    BINDINGS = [
        Binding("n,ctrl+right,ctrl+pagedown", "next_step", "Next step", id="stepper-next"),
        Binding("b,ctrl+left,ctrl+pageup", "previous_step", "Back", id="stepper-back"),
        Binding("a,ctrl+n", "new_action", "New action", id="stepper-new-action"),
        Binding("c", "close_run", "Close run", id="stepper-close-run"),
        Binding("m", "export_minutes", "Export minutes", id="stepper-export-minutes"),
        Binding("escape", "leave", "Leave", id="stepper-leave"),
    ]

    def __init__(self, home: Any, period: str | None = None, *, facilitator: str | None = None) -> None:
        super().__init__()
        if not self.kind:
            raise TypeError(f"{type(self).__name__} must set `kind`")
        self.home = home
        self.period = period
        self.facilitator_handle = facilitator or os.environ.get("FINOPS_TUI_USER") or None
        self.steps: tuple[Step, ...] = (ATTENDEES, *self.STEPS, DECISIONS, RECORD)
        self.step_index = 0
        self.run: Any = None  # storage.records.RitualRun, a detached copy
        self.people: list[Any] = []
        self.actions: list[Any] = []
        self.frozen_preview: dict[str, Any] | None = None
        self._pending: dict[str, str] = {}
        self._pending_lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._autosave_timer: Timer | None = None
        self.exported_path: Any = None  # where `m` last wrote the minutes

    # -- what a ritual provides ---------------------------------------------------------------------------
    def numbers(self) -> dict[str, Any]:
        """The ritual's headless ``--json`` object, frozen when the run closes (runs in a thread)."""
        raise NotImplementedError(f"{type(self).__name__} must implement numbers()")

    def default_period(self, session: Any) -> str:
        """The period whose run is due next (from the calendar and the closed runs)."""
        from rituals.calendar import default_period
        from rituals.ritual import ritual

        return default_period(ritual(self.kind), self.home)

    # -- layout -------------------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal():
            yield ListView(*[ListItem(Label(Text(f"{i + 1}. {s.title}")), id=f"stepper-item-{s.id}")
                             for i, s in enumerate(self.steps)], id="stepper-steps")
            with Vertical(id="stepper-main"):
                yield Static("", id="stepper-step-title", markup=False)
                yield Static("Opening the run...", id="stepper-status", markup=False)
                with ContentSwitcher(initial=f"step-{self.steps[0].id}", id="stepper-bodies"):
                    for step in self.steps:
                        with VerticalScroll(id=f"step-{step.id}", classes="stepper-step"):
                            if step.body:
                                yield from getattr(self, step.body)()
                            if step.notes:
                                yield Label("Notes (saved as you type)")
                                yield TextArea(id=f"notes-{step.id}", classes="stepper-notes", read_only=True)
                yield Input(placeholder="Record a decision and press enter", id="stepper-decision-input",
                            disabled=True)
        yield Footer()

    def compose_attendees(self) -> ComposeResult:
        yield Label("Who attends (space toggles)")
        yield SelectionList[str](id="stepper-attendees")

    def compose_decisions(self) -> ComposeResult:
        yield Label("Decisions")
        yield Static("None yet.", id="stepper-decisions", markup=False)
        yield Label("Actions created in this run (a: new action)")
        yield Static("None yet.", id="stepper-actions", markup=False)
        yield Button("New action", id="stepper-new-action-button")

    def compose_record(self) -> ComposeResult:
        yield Label("The numbers frozen when the run closes")
        yield Static("Computed when you reach this step.", id="stepper-numbers", markup=False)
        yield Button("Close run", id="stepper-close-button", variant="warning")

    # -- opening or resuming the run ----------------------------------------------------------------------
    def on_mount(self) -> None:
        self._show_step(0)
        self._open_run()

    @work(thread=True, exclusive=True, group="stepper-open")
    def _open_run(self) -> None:
        from sqlmodel import select

        from rituals.runs import open_run
        from storage.records import Action, Person

        with self._write_lock, self.home.records.write() as s:
            period = self.period or self.default_period(s)
            people = list(s.exec(select(Person).where(Person.active == True).order_by(Person.name)))  # noqa: E712
            facilitator = next((p for p in people if p.handle == self.facilitator_handle), None) or next(
                (p for p in people if p.role == "finops_lead"), None)
            run = open_run(s, self.kind, period, facilitator.id if facilitator else None,
                           self.home.clock.now(), self.home.config.calendar)
            actions = list(s.exec(select(Action).where(Action.source_run_id == run.id).order_by(Action.id)))
        self.app.call_from_thread(self._show_run, run, people, actions, facilitator)

    def _show_run(self, run: Any, people: list[Any], actions: list[Any], facilitator: Any) -> None:
        self.run, self.period, self.people, self.actions = run, run.period, people, actions
        self.facilitator_handle = facilitator.handle if facilitator else self.facilitator_handle
        from rituals.ritual import RITUAL_BY_KIND

        spec = RITUAL_BY_KIND.get(self.kind)
        self.title = f"{spec.title if spec else self.kind} {run.period}"
        self.sub_title = f"run {run.id}"
        with self._pending_lock:
            for area in self.query(".stepper-notes").results(TextArea):
                step = area.id.removeprefix("notes-") if area.id else ""
                if step not in self._pending:
                    area.load_text(run.notes.get(step, ""))
        attendees = self.query_one("#stepper-attendees", SelectionList)
        attendees.clear_options()
        known = {p.handle for p in people}
        options = [(Text(f"{p.name} ({p.handle})"), p.handle, p.handle in run.attendees) for p in people]
        options += [(Text(h), h, True) for h in run.attendees if h not in known]
        attendees.add_options(options)
        self._show_decisions()
        self._show_actions()
        self._set_editable(run.status == "open")
        self._status(f"Run {run.id} {'resumed' if run.version > 1 else 'opened'}: {run.kind} {run.period}")

    def _set_editable(self, editable: bool) -> None:
        for area in self.query(".stepper-notes").results(TextArea):
            area.read_only = not editable
        self.query_one("#stepper-attendees", SelectionList).disabled = not editable
        self.query_one("#stepper-decision-input", Input).disabled = not editable
        for button in ("#stepper-new-action-button", "#stepper-close-button"):
            self.query_one(button, Button).disabled = not editable

    def _status(self, text: str) -> None:
        self.query_one("#stepper-status", Static).update(Text(text))  # status lines carry user text: never markup

    def _show_decisions(self) -> None:
        lines = [f"- {d.get('text', '')}" + (f"  (by {d['by']})" if d.get("by") else "")
                 for d in (self.run.decisions if self.run else [])]
        self.query_one("#stepper-decisions", Static).update(Text("\n".join(lines) or "None yet."))

    def _show_actions(self) -> None:
        names = {p.id: p.handle for p in self.people}
        lines = [f"#{a.id} {a.title} - {names.get(a.owner_id, a.owner_id)}, due "
                 f"{a.due_date.isoformat() if a.due_date else '-'} ({a.status})" for a in self.actions]
        self.query_one("#stepper-actions", Static).update(Text("\n".join(lines) or "None yet."))

    # -- moving between steps -----------------------------------------------------------------------------
    def _show_step(self, index: int) -> None:
        self.step_index = max(0, min(index, len(self.steps) - 1))
        step = self.steps[self.step_index]
        self.query_one("#stepper-bodies", ContentSwitcher).current = f"step-{step.id}"
        self.query_one("#stepper-step-title", Static).update(
            f"Step {self.step_index + 1} of {len(self.steps)}: {step.title}")
        sidebar = self.query_one("#stepper-steps", ListView)
        if sidebar.index != self.step_index:
            sidebar.index = self.step_index
        if step is RECORD and self.run is not None:
            self._preview_numbers()

    def go_to(self, step_id: str) -> None:
        self._show_step(next(i for i, s in enumerate(self.steps) if s.id == step_id))

    def action_next_step(self) -> None:
        self._show_step(self.step_index + 1)

    def action_previous_step(self) -> None:
        self._show_step(self.step_index - 1)

    def on_list_view_highlighted(self, event: ListView.Highlighted) -> None:
        if event.list_view.id == "stepper-steps" and event.list_view.index is not None:
            if event.list_view.index != self.step_index:
                self._show_step(event.list_view.index)

    # -- autosave of notes --------------------------------------------------------------------------------
    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        area = event.text_area
        if not area.id or not area.id.startswith("notes-") or self.run is None or area.read_only:
            return
        step = area.id.removeprefix("notes-")
        if self.run.notes.get(step, "") == area.text and step not in self._pending:
            return  # loaded text, not typing
        with self._pending_lock:
            self._pending[step] = area.text
        if self._autosave_timer is not None:
            self._autosave_timer.stop()
        self._autosave_timer = self.set_timer(self.AUTOSAVE_DELAY, self._save_notes)

    @work(thread=True, group="stepper-save")
    def _save_notes(self) -> None:
        self.save_pending_notes()

    def save_pending_notes(self) -> None:
        """Write every pending note now (any thread); errors are shown, typed text stays on screen."""
        from rituals.runs import RunClosed, RunConflict, get_run, save_note

        with self._write_lock:
            with self._pending_lock:
                pending, self._pending = self._pending, {}
            for step, text in pending.items():
                try:
                    with self.home.records.write() as s:
                        self.run = save_note(s, self.run, step, text)
                except RunConflict as exc:
                    with self.home.records.session() as s:
                        self.run = get_run(s, self.run.id)
                    self._notify_any_thread(f"{exc}. Your text is still on screen.", severity="error")
                except RunClosed as exc:
                    self._notify_any_thread(str(exc), severity="error")
            if pending:
                self._status_any_thread(f"Notes saved at {self.home.clock.now():%H:%M:%S} UTC")

    def _notify_any_thread(self, message: str, severity: str = "information") -> None:
        if threading.get_ident() == self.app._thread_id:
            self.notify(message, severity=severity, markup=False)  # type: ignore[arg-type]
        else:
            self.app.call_from_thread(self.notify, message, severity=severity, markup=False)

    def _status_any_thread(self, text: str) -> None:
        if threading.get_ident() == self.app._thread_id:
            self._status(text)
        else:
            self.app.call_from_thread(self._status, text)

    def on_unmount(self) -> None:
        if self._pending and self.run is not None:
            self.save_pending_notes()

    # -- attendees, decisions, actions --------------------------------------------------------------------
    def on_selection_list_selected_changed(self, event: SelectionList.SelectedChanged) -> None:
        if event.selection_list.id == "stepper-attendees" and self.run is not None:
            handles = list(event.selection_list.selected)
            if set(handles) != set(self.run.attendees):
                self._save_attendees(handles)

    @work(thread=True, group="stepper-save")
    def _save_attendees(self, handles: list[str]) -> None:
        from rituals.runs import set_attendees

        self._write(lambda s: set_attendees(s, self.run, handles), "Attendees saved")

    def _write(self, change: Any, done: str) -> bool:
        """Apply ``change(session) -> run`` under the write lock; show errors instead of raising."""
        from rituals.runs import RunClosed, RunConflict

        with self._write_lock:
            try:
                with self.home.records.write() as s:
                    self.run = change(s)
            except (RunClosed, RunConflict, ValueError) as exc:
                self._notify_any_thread(str(exc), severity="error")
                return False
        self._status_any_thread(done)
        return True

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id != "stepper-decision-input" or self.run is None:
            return
        text = event.value.strip()
        if not text:
            return
        event.input.value = ""
        self._save_decision(text, self.steps[self.step_index].id)

    @work(thread=True, group="stepper-save")
    def _save_decision(self, text: str, step: str) -> None:
        from rituals.runs import add_decision

        if self._write(lambda s: add_decision(s, self.run, text, self.facilitator_handle,
                                              self.home.clock.now(), step=step), "Decision recorded"):
            self.app.call_from_thread(self._show_decisions)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "stepper-new-action-button":
            self.action_new_action()
        elif event.button.id == "stepper-close-button":
            self.action_close_run()

    def action_new_action(self) -> None:
        if self.run is None or self.run.status != "open":
            self.notify("This run is closed; its record is read-only.", severity="warning")
            return
        self._new_action_flow()

    @work(group="stepper-dialog", exclusive=True)
    async def _new_action_flow(self) -> None:
        people = [(f"{p.name} ({p.handle})", p.id) for p in self.people]
        owner = next((p.id for p in self.people if p.handle == self.facilitator_handle), None)
        values = await self.app.push_screen_wait(ActionForm(people, self.home.clock.today(), owner_id=owner))
        if values is not None:
            await asyncio.to_thread(self._store_action, values)

    def _store_action(self, values: ActionValues) -> None:
        from rituals.actions import create_action
        from rituals.runs import RunClosed, get_run

        actor = next((p.id for p in self.people if p.handle == self.facilitator_handle), None)
        with self._write_lock:
            try:
                with self.home.records.write() as s:
                    if get_run(s, self.run.id).status != "open":
                        raise RunClosed(f"run {self.run.id} is closed; its record is read-only")
                    action = create_action(s, title=values.title, owner_id=values.owner_id, kind=values.kind,
                                           due_date=values.due_date, detail=values.detail,
                                           now=self.home.clock.now(), actor_id=actor, source_run_id=self.run.id)
            except ValueError as exc:
                self._notify_any_thread(str(exc), severity="error")
                return
        self.actions.append(action)
        self.app.call_from_thread(self._show_actions)
        self._status_any_thread(f"Action #{action.id} created")

    # -- the Record step: freeze and close ----------------------------------------------------------------
    @work(thread=True, exclusive=True, group="stepper-numbers")
    def _preview_numbers(self) -> None:
        try:
            numbers = self.run.numbers if self.run.status == "closed" else self.numbers()
            text = json.dumps(numbers, indent=2, ensure_ascii=False, default=str)
        except Exception as exc:  # a ritual's query failing must not take the meeting down
            self.app.call_from_thread(self._show_numbers, None, f"Could not compute the numbers: {exc}")
            return
        self.app.call_from_thread(self._show_numbers, numbers, text)

    def _show_numbers(self, numbers: dict[str, Any] | None, text: str) -> None:
        self.frozen_preview = numbers
        self.query_one("#stepper-numbers", Static).update(Text(text))

    def close_in(self, session: Any, numbers: dict[str, Any]) -> Any:
        """Close the run in the caller's write transaction; a ritual that stores more at close (its own
        records) overrides this and calls it last."""
        from rituals.runs import close_run

        return close_run(session, self.run.id, numbers, self.home.clock.now())

    def action_close_run(self) -> None:
        if self.run is None or self.run.status != "open":
            self.notify("This run is already closed.", severity="warning")
            return
        self.go_to(RECORD.id)
        self._close_flow()

    @work(group="stepper-dialog", exclusive=True)
    async def _close_flow(self) -> None:

        await asyncio.to_thread(self.save_pending_notes)
        try:
            numbers = await asyncio.to_thread(self.numbers)
        except Exception as exc:
            message = f"Could not compute the numbers, the run stays open: {exc}"
            self.notify(message, severity="error", markup=False)
            return
        self._show_numbers(numbers, json.dumps(numbers, indent=2, ensure_ascii=False, default=str))
        self.numbers_ready(numbers)
        question = f"Close run {self.run.id} ({self.kind} {self.run.period}) and freeze these numbers?"
        if not await self.app.push_screen_wait(Confirm(question, self.CLOSE_DETAIL, yes="Close")):
            return
        closed = await asyncio.to_thread(
            self._write, lambda s: self.close_in(s, numbers), "Run closed")
        if closed:
            self._set_editable(False)
            self.sub_title = f"run {self.run.id} (closed)"
            if not await asyncio.to_thread(self.after_close):
                self.notify("Run closed. Press m to export its minutes.", markup=False)

    # Hooks for rituals that do more around the close (the monthly review stores a forecast).
    CLOSE_DETAIL = "A closed run is read-only."

    def numbers_ready(self, numbers: dict[str, Any]) -> None:
        """The numbers about to be frozen, on the main thread, before the confirm."""

    def after_close(self) -> bool:
        """Runs in a thread once the run is closed; True when it told the user what happened itself."""
        return False

    def action_export_minutes(self) -> None:
        if self.run is None:
            return
        self._export_minutes()

    @work(thread=True, exclusive=True, group="stepper-export")
    def _export_minutes(self) -> None:
        from exports.minutes import minutes_filename, render_minutes

        self.save_pending_notes()
        try:
            with self.home.records.session() as s:
                text = render_minutes(s, self.run.id, self.home.config.currency)
            path = self.home.path / "minutes" / minutes_filename(self.run)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        except (OSError, ValueError) as exc:
            self._notify_any_thread(f"Could not write the minutes: {exc}", severity="error")
            return
        self.exported_path = path
        self._notify_any_thread(f"Minutes written to {path}")

    def action_leave(self) -> None:
        if self._pending and self.run is not None:
            self.save_pending_notes()
        self.app.pop_screen()
