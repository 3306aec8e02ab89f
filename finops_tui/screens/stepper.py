"""The ritual stepper every ritual screen reuses: the definition's steps in a sidebar (``all_steps``: ids and
titles come from ``rituals/definitions``), a notes box per step, attendees, one decision input, actions
created inline, and a Record step showing what the close freezes. It renders a ``RunSession`` and collects
input; every read and write goes through the session (``finops_tui.screens.session_screen``).

A ritual screen sets ``kind``, composes a step's body in ``compose_<step id>`` and renders its findings in
``show_findings``. With ``LAZY_STEPS`` a step's body is composed when the step is first shown (the first
one with the screen): composing all seven steps' widgets at once took half the time to the first figures.
Such a screen renders only the steps ``composed`` answers for; when a step is composed, the stepper renders
the run and the figures on screen (fresh, cached or partial) again, ``composed`` then answering for that
step alone. Textual runs the handlers of every class in the hierarchy, so the stepper's handlers are
``@on`` selectors on its own widgets; a screen adds its own for its own widgets and never calls super()
from a message handler.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import (
    Button,
    ContentSwitcher,
    Footer,
    Header,
    Input,
    Label,
    ListItem,
    ListView,
    Markdown,
    SelectionList,
    Static,
    TextArea,
)

from finops_tui.modals.action_form import ActionForm, ActionValues
from finops_tui.screens.session_screen import RunSessionScreen
from finops_tui.widgets.check_list import CheckList
from finops_tui.widgets.kpi_strip import Kpi, KpiStrip
from finops_tui.widgets.safe_text import SafeStatic, safe_text
from rituals.ritual import Ritual, ritual

NO_NOTES = frozenset({"attendees", "record"})


class RitualStepperScreen(RunSessionScreen):
    kind: ClassVar[str] = ""
    RITUAL: ClassVar[Ritual | None] = None  # by default ``ritual(kind)``; a test may hold its own definition
    INITIAL_STEP: ClassVar[str] = "attendees"
    LAZY_STEPS: ClassVar[bool] = False

    DEFAULT_CSS = """
    RitualStepperScreen #stepper-steps { width: 34; max-width: 33%; border-right: vkey $primary-background; }
    RitualStepperScreen #stepper-steps Label { width: 1fr; }
    RitualStepperScreen #stepper-main { width: 1fr; padding: 0 1; }
    RitualStepperScreen #stepper-step-title { text-style: bold; height: 1; }
    RitualStepperScreen #stepper-status { color: $text-muted; height: 1; }
    RitualStepperScreen #stepper-figures-note { color: $warning; height: 1; }
    RitualStepperScreen #stepper-bodies { height: 1fr; }
    RitualStepperScreen .stepper-step { height: 1fr; }
    RitualStepperScreen .stepper-notes { height: 8; min-height: 4; }
    RitualStepperScreen #stepper-attendees { height: auto; max-height: 16; }
    RitualStepperScreen #stepper-record-bar { height: auto; }
    RitualStepperScreen #stepper-record-hint { width: 1fr; padding: 1 1 0 2; color: $text-muted; }
    RitualStepperScreen #stepper-summary { height: auto; margin: 0; }
    """
    STEP_KEYS = Binding.Group("Step", compact=True)
    BINDINGS = [
        Binding("n,ctrl+right,ctrl+pagedown", "next_step", "Next step", id="stepper-next", group=STEP_KEYS),
        Binding("b,ctrl+left,ctrl+pageup", "previous_step", "Back", id="stepper-back", group=STEP_KEYS),
        Binding("a,ctrl+n", "new_action", "Action", id="stepper-new-action"),
        Binding("c", "close_run", "Close", id="stepper-close-run"),
        Binding("m", "export_minutes", "Minutes", id="stepper-export-minutes", show=False),
        Binding("ctrl+d", "discard_run", "Discard run", id="stepper-discard-run", show=False),
        # Escape in a text box leaves the box (a typed n, b, a, c, m is text there); elsewhere the ritual.
        Binding("escape", "leave_box", "Leave box", id="stepper-leave-box"),
        Binding("escape", "leave", "Leave", id="stepper-leave", show=False),
    ]
    HELP = """\
**Ritual keys.** `n`/`b` next and previous step, `a` new action, `c` close the run, `m` export the minutes,
`ctrl+d` discard a run opened by mistake, `escape` leave. In a text box every letter is text: `escape`
leaves the box (to the step's main widget) and the keys work again. `tab` moves between the widgets.
"""

    def __init__(self, home: Any, period: str | None = None, *, facilitator: str | None = None) -> None:
        if not self.kind:
            raise TypeError(f"{type(self).__name__} must set `kind`")
        super().__init__(home, self.RITUAL or ritual(self.kind), period,
                         facilitator or os.environ.get("FINOPS_TUI_USER") or None)
        self.steps = self.ritual.all_steps
        self.step_index = 0
        # The steps whose bodies are in the DOM; while a step just composed is rendered, that step alone.
        self._composed: set[str] = {s.id for s in self.steps} if not self.LAZY_STEPS else {self.INITIAL_STEP}
        self._composing: set[str] = set()
        self._rendering_only: str | None = None
        self._focus_when_composed = False

    # -- layout -------------------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal():
            yield ListView(*[ListItem(Label(safe_text(f"{i}. {s.title}")), id=f"stepper-item-{s.id}")
                             for i, s in enumerate(self.steps, 1)], id="stepper-steps")
            with Vertical(id="stepper-main"):
                yield SafeStatic("", id="stepper-step-title", markup=False)
                yield SafeStatic("Opening the run...", id="stepper-status", markup=False)
                note = SafeStatic("", id="stepper-figures-note", markup=False)
                note.display = False  # shown while the figures on screen are the cached ones
                yield note
                with ContentSwitcher(initial=f"step-{self.steps[0].id}", id="stepper-bodies"):
                    for step in self.steps:
                        with VerticalScroll(id=f"step-{step.id}", classes="stepper-step") as scroll:
                            scroll.can_focus = False  # tab goes to the step's widgets, not to its frame
                            if step.id in self._composed:
                                yield from self._step_body(step.id)
                yield Input(placeholder="Record a decision and press enter", id="stepper-decision-input",
                            classes="run-input", disabled=True)
        yield Footer(compact=True, show_command_palette=False)  # 80 columns; ? and ctrl+p list the rest

    def _step_body(self, step_id: str) -> ComposeResult:
        body = getattr(self, f"compose_{step_id}", None)
        if body is not None:
            yield from body()
        if step_id not in NO_NOTES:
            yield Label("Notes (saved as you type)")
            yield TextArea(id=f"notes-{step_id}", classes="stepper-notes", read_only=True)

    def composed(self, step_id: str) -> bool:
        """Whether ``step_id``'s widgets are to be rendered now: its body is composed (and, while a step
        just composed is being rendered, it is that step)."""
        return step_id in self._composed and self._rendering_only in (None, step_id)

    async def _compose_step(self, step_id: str) -> None:
        """Compose a step's body (first shown), then render what is on screen into it."""
        from textual.compose import compose

        scroll = next(iter(self.query(f"#step-{step_id}").results(VerticalScroll)), None)
        if scroll is None:
            return  # the screen was left before its turn came
        await scroll.mount_all(compose(scroll, self._step_body(step_id)))
        self._composing.discard(step_id)
        self._composed.add(step_id)
        self._rendering_only = step_id
        try:
            self._render_step()
        finally:
            self._rendering_only = None
        current = self.steps[self.step_index].id == step_id
        if step_id == "record" and current:
            self.preview()
        if current and self._focus_when_composed:
            self._focus_when_composed = False
            self.focus_main()

    def _render_step(self) -> None:
        """What the screen shows, rendered again (into the step just composed: ``composed``)."""
        run = self.run
        if run is not None:
            for area in self.query(".stepper-notes").results(TextArea):
                step = (area.id or "").removeprefix("notes-")
                if self.composed(step) and self.note_loadable(step):
                    area.load_text(run.notes.get(step, ""))
            self._show_attendees()
            self.set_editable(run.status == "open")
            self.show_record()
        if self.findings is not None:
            self.show_findings(self.findings)
        elif self.cached is not None:
            self.show_cached_findings(self.cached.numbers)
        elif self.partial is not None:
            self.show_partial_findings(self.partial)

    def compose_attendees(self) -> ComposeResult:
        yield Label("Who attends (space toggles)")
        yield CheckList(id="stepper-attendees", classes="run-input")

    def compose_decisions(self) -> ComposeResult:
        yield Label("Decisions")
        yield SafeStatic("None yet.", id="stepper-decisions", markup=False)
        yield Label("Actions created in this run (a: new action)")
        yield SafeStatic("None yet.", id="stepper-actions", markup=False)
        yield Button("New action", id="stepper-new-action-button", classes="run-input")

    def compose_record(self) -> ComposeResult:
        # Close first, so it is on screen whatever the summary's length (the summary scrolls below it).
        with Horizontal(id="stepper-record-bar"):
            yield Button("Close run", id="stepper-close-button", variant="warning", classes="run-input")
            yield SafeStatic("Closing freezes the figures below; m writes the minutes.", id="stepper-record-hint",
                             markup=False)
        yield KpiStrip(id="stepper-headlines")
        yield Markdown("The minutes' summary is computed when you reach this step.", id="stepper-summary")

    # -- open in explorer ---------------------------------------------------------------------------------------
    def action_open_explorer(self) -> None:
        """The explorer on what this ritual shows (``rituals.explorer.ritual_view``): its window, and for
        triage the highlighted case. Each ritual screen binds it to a key of its own."""
        from rituals.explorer import ritual_view

        view = ritual_view(self.kind, self.session.window,
                           charge_categories=self.home.config.taxonomy.charge_categories,
                           case=getattr(self, "case", None))
        self.app.open_explorer(view)  # type: ignore[attr-defined]

    # -- rendering the session ----------------------------------------------------------------------------
    def on_mount(self) -> None:
        self.go_to(self.INITIAL_STEP)
        self.call_after_refresh(self.focus_main)
        self.widgets_mounted()
        # Opened once the widgets are built: started during the composition, the worker's Python competed
        # with it for the interpreter and both took longer (measured on 2 shared cores, bench/screens.py).
        self.open_session()

    # -- focus: the step's main widget first; escape leaves a text box, not the ritual ---------------------------
    def main_widget(self) -> Any:
        """The first focusable widget of the current step that is not a text box; else the step list."""
        body = self.query_one(f"#step-{self.steps[self.step_index].id}")
        for widget in body.query("*"):
            if widget.focusable and not isinstance(widget, Input | TextArea):
                return widget
        return self.query_one("#stepper-steps", ListView)

    def focus_main(self) -> None:
        if self.steps[self.step_index].id not in self._composed:
            self._focus_when_composed = True  # once its widgets are there
            return
        self._focus_when_composed = False
        # Focused without scrolling to it: the step opens at its top, where its headline figures are (a
        # table's focus scrolled the commitment review's coverage past its KPIs at 80 x 24).
        self.main_widget().focus(scroll_visible=False)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("leave_box", "leave"):
            in_box = isinstance(self.focused, Input | TextArea)
            return in_box if action == "leave_box" else not in_box
        return True

    def action_leave_box(self) -> None:
        self.focus_main()

    def show_run(self) -> None:
        run = self.session.current_run()
        self.title = f"{self.ritual.title} {run.period}"
        self.sub_title = f"run {run.id}" + ("" if run.status == "open" else " (closed)")
        for area in self.query(".stepper-notes").results(TextArea):
            step = (area.id or "").removeprefix("notes-")
            if self.note_loadable(step):
                area.load_text(run.notes.get(step, ""))
        self._show_attendees()
        self.show_record()
        self.set_editable(run.status == "open")
        if self.focused is None or self.focused.id == "stepper-steps":
            self.call_after_refresh(self.focus_main)  # the inputs were disabled until the run opened
        self.status(f"Run {run.id} {'resumed' if run.version > 1 else 'opened'}: {self.ritual.title} {run.period}")

    def _show_attendees(self) -> None:
        run = self.run
        if run is None or not self.composed("attendees"):
            return
        attendees = self.query_one("#stepper-attendees", SelectionList)
        attendees.clear_options()
        known = {p.handle for p in self.people}
        attendees.add_options([(safe_text(f"{p.name} ({p.handle})"), p.handle, p.handle in run.attendees)
                               for p in self.people] + [(safe_text(h), h, True) for h in run.attendees if h not in known])

    def set_editable(self, editable: bool) -> None:
        for area in self.query(".stepper-notes").results(TextArea):
            area.read_only = not editable
        for widget in self.query(".run-input"):  # a screen's own inputs carry the class too
            widget.disabled = not editable

    def show_figures_note(self, text: str) -> None:
        for line in self.query("#stepper-figures-note").results(Static):
            line.update(safe_text(text))
            line.display = bool(text)

    def status(self, text: str) -> None:
        for line in self.query("#stepper-status").results(Static):  # none once the screen is torn down
            line.update(safe_text(text))  # status lines carry user text

    def show_record(self) -> None:
        if not self.composed("decisions"):
            return
        lines = [f"- {d.get('text', '')}" + (f"  (by {d['by']})" if d.get("by") else "")
                 for d in (self.run.decisions if self.run else [])]
        self.query_one("#stepper-decisions", Static).update(safe_text("\n".join(lines) or "None yet."))
        names = {p.id: p.handle for p in self.people}
        lines = [f"#{a.id} {a.title} - {names.get(a.owner_id, a.owner_id)}, due "
                 f"{a.due_date.isoformat() if a.due_date else '-'} ({a.status})" for a in self.actions]
        self.query_one("#stepper-actions", Static).update(safe_text("\n".join(lines) or "None yet."))

    def findings_ready(self, findings: Any) -> None:
        super().findings_ready(findings)
        if self.steps[self.step_index].id == "record":
            self.preview()

    def show_numbers(self, numbers: dict[str, Any] | str, summary: str | None = None) -> None:
        """The minutes' summary as they will open (markdown, user text escaped by the minutes), or why the
        figures could not be computed."""
        from exports import markdown as md
        from exports.format import headline_target, headline_text

        if not self.composed("record"):
            return  # rendered when the step is composed (``_compose_step`` previews it)
        text = md.inline(numbers) if isinstance(numbers, str) else summary
        if text is not None:
            self.query_one("#stepper-summary", Markdown).update(text)
        if self.findings is not None:  # the headline figures, as the board and the minutes' summary show them
            self.query_one("#stepper-headlines", KpiStrip).set_kpis([
                Kpi(h.title, headline_text(h.value, h.unit, h.currency),
                    hint=f"target {headline_target(h.target, h.unit, h.currency)}" if h.target is not None else "")
                for h in self.findings.headlines()])

    # -- moving between steps -----------------------------------------------------------------------------
    def _show_step(self, index: int) -> None:
        self.step_index = max(0, min(index, len(self.steps) - 1))
        step = self.steps[self.step_index]
        self.query_one("#stepper-bodies", ContentSwitcher).current = f"step-{step.id}"
        self.query_one("#stepper-step-title", Static).update(
            safe_text(f"Step {self.step_index + 1} of {len(self.steps)}: {step.title}"))
        sidebar = self.query_one("#stepper-steps", ListView)
        if sidebar.index != self.step_index:
            sidebar.index = self.step_index
        if step.id not in self._composed:
            if step.id not in self._composing:
                self._composing.add(step.id)
                self.call_later(self._compose_step, step.id)
        elif step.id == "record":
            self.preview()

    def go_to(self, step_id: str) -> None:
        self._show_step(next(i for i, s in enumerate(self.steps) if s.id == step_id))

    def action_next_step(self) -> None:
        self._show_step(self.step_index + 1)
        self.call_after_refresh(self.focus_main)

    def action_previous_step(self) -> None:
        self._show_step(self.step_index - 1)
        self.call_after_refresh(self.focus_main)

    @on(ListView.Highlighted, "#stepper-steps")
    def _step_highlighted(self, event: ListView.Highlighted) -> None:
        if event.list_view.index is not None and event.list_view.index != self.step_index:
            self._show_step(event.list_view.index)

    # -- collecting input ---------------------------------------------------------------------------------
    @on(TextArea.Changed, ".stepper-notes")
    def _note_changed(self, event: TextArea.Changed) -> None:
        if not event.text_area.read_only:
            self.note_typed((event.text_area.id or "").removeprefix("notes-"), event.text_area.text)

    @on(SelectionList.SelectedChanged, "#stepper-attendees")
    def _attendees_changed(self, event: SelectionList.SelectedChanged) -> None:
        handles = list(event.selection_list.selected)
        if self.run is not None and set(handles) != set(self.run.attendees):
            self.save(lambda: self.session.set_attendees(handles), "Attendees saved")

    @on(Input.Submitted, "#stepper-decision-input")
    def _decision_submitted(self, event: Input.Submitted) -> None:
        text, step = event.value.strip(), self.steps[self.step_index].id
        if text and self.run is not None:
            event.input.value = ""
            self.save(lambda: self.session.add_decision(text, step), "Decision recorded")

    @on(Button.Pressed, "#stepper-close-button")
    def action_close_run(self) -> None:
        if self.run is not None and self.session.is_open:
            self.go_to("record")
        super().action_close_run()

    @on(Button.Pressed, "#stepper-new-action-button")
    def action_new_action(self) -> None:
        if self.writable():
            self._new_action_flow()

    @work(group="stepper-dialog", exclusive=True)
    async def _new_action_flow(self) -> None:
        await self.open_action_form(**await asyncio.to_thread(self.action_defaults))

    async def open_action_form(self, **initial: Any) -> None:
        """The action form (from a worker); a saved form becomes an action of this run."""
        people = [(f"{p.name} ({p.handle})", p.id) for p in self.people]
        values = await self.app.push_screen_wait(ActionForm(people, self.home.clock.today(), **initial))
        if values is not None:
            self.save(lambda: self._add_action(values), "")

    def _add_action(self, values: ActionValues) -> None:
        action = self.session.add_action(title=values.title, owner_id=values.owner_id, kind=values.kind,
                                         due_date=values.due_date, detail=values.detail)
        self.status_any_thread(f"Action #{action.id} created")
