"""The quarterly maturity and KPI review on the ritual stepper: KPI scorecard (a chart of each trend) ->
maturity grid (capability x stage, evidence, override with a reason) -> gaps and next quarter's choice ->
record. The figures come from ``rituals.kpis.scorecard`` (what ``finops-tui kpis --json`` prints) and the
proposals from ``rituals.maturity``; closing stores the scores (MaturityScore), creates the chosen
capabilities' gap actions and freezes ``rituals.maturity.review_numbers``."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, Select, SelectionList, Static

from finops_tui.screens.stepper import RitualStepperScreen, Step
from finops_tui.widgets.data_table import FrameTable
from finops_tui.widgets.trend_chart import TrendChart

STAGE_OPTIONS = [("crawl", "crawl"), ("walk", "walk"), ("run", "run")]


class QuarterlyReviewScreen(RitualStepperScreen):
    kind: ClassVar[str] = "quarterly_review"
    STEPS = (
        Step("scorecard", "KPI scorecard", "compose_scorecard"),
        Step("maturity", "Maturity grid", "compose_maturity"),
        Step("gaps", "Gaps and next quarter", "compose_gaps"),
    )
    DEFAULT_CSS = """
    QuarterlyReviewScreen .qr-form { height: auto; }
    QuarterlyReviewScreen .qr-form > Label { width: 16; padding-top: 1; }
    QuarterlyReviewScreen .qr-form > Input { width: 1fr; }
    QuarterlyReviewScreen .qr-form > Select { width: 16; }
    QuarterlyReviewScreen FrameTable { height: auto; max-height: 16; }
    QuarterlyReviewScreen #qr-charts TrendChart { height: 10; }
    QuarterlyReviewScreen #qr-choice { height: auto; max-height: 12; }
    """

    def __init__(self, home: Any, period: str | None = None, *, facilitator: str | None = None) -> None:
        super().__init__(home, period, facilitator=facilitator)
        self.card: Any = None  # rituals.kpis.Scorecard
        self.caps: list[Any] = []
        self.proposals: list[Any] = []
        self.overrides: dict[str, tuple[str, str]] = {}
        self.targets: dict[str, str] = {}
        self.chosen: list[str] = []
        self.recorded_actions: list[int] = []

    # -- steps ----------------------------------------------------------------------------------------------
    def compose_scorecard(self) -> ComposeResult:
        yield Static("Computing the scorecard...", id="qr-scorecard-note", markup=False)
        yield FrameTable(export_name="kpi-scorecard", id="qr-scorecard")
        yield Static("", id="qr-no-data", markup=False)
        yield Vertical(id="qr-charts")

    def compose_maturity(self) -> ComposeResult:
        yield FrameTable(export_name="maturity-grid", id="qr-grid")
        yield Label("Override (pick the capability's row above, then the stage and a reason)")
        with Horizontal(classes="qr-form"):
            yield Label("Stage")
            yield Select(STAGE_OPTIONS, prompt="stage", id="qr-override-stage")
            yield Label("Target")
            yield Select(STAGE_OPTIONS, value="walk", allow_blank=False, id="qr-target")
        with Horizontal(classes="qr-form"):
            yield Label("Reason")
            yield Input(placeholder="Why the evidence does not tell the whole story", id="qr-reason")
        yield Button("Apply to the selected capability", id="qr-apply", variant="primary")

    def compose_gaps(self) -> ComposeResult:
        yield Label("Choose one or two capabilities to invest in next quarter (space toggles)")
        yield SelectionList[str](id="qr-choice")
        yield Label("Gaps to the targets (become actions for the chosen capabilities, owners from the RACI)")
        yield Static("", id="qr-gaps", markup=False)

    # -- loading --------------------------------------------------------------------------------------------
    def on_mount(self) -> None:
        _ = self.home.records  # open (and migrate) the records once, before the workers
        super().on_mount()
        self._load()

    @work(thread=True, exclusive=True, group="qr-load")
    def _load(self) -> None:
        from rituals.kpis import last_complete_quarter, scorecard
        from rituals.maturity import assess, load_capabilities

        try:
            quarter = self.period or last_complete_quarter(self.home.clock.today(), self.home.config.calendar)
            card = scorecard(self.home, quarter)
            _meta, caps = load_capabilities(self.home)
            proposals = assess(self.home, card)
        except Exception as exc:  # a failing query must not take the meeting down
            self.app.call_from_thread(self.notify, f"Could not compute the scorecard: {exc}", severity="error",
                                      markup=False)
            return
        self.app.call_from_thread(self._show_card, card, caps, proposals)

    def _show_card(self, card: Any, caps: list[Any], proposals: list[Any]) -> None:
        import pandas as pd

        from exports.minutes_quarterly_review import kpi_value

        self.card, self.caps, self.proposals = card, caps, proposals
        n = card.as_json()
        self.query_one("#qr-scorecard-note", Static).update(
            f"KPIs {n['quarter']} ({n['start']} to {n['end']}, end exclusive); trend from {n['quarters'][0]}")
        rows = [{"KPI": k["title"], "value": kpi_value(k["key"], k["value"]),
                 "previous": kpi_value(k["key"], k["previous"]) if k["previous"] is not None else "-",
                 "target": kpi_value(k["key"], k["target"]) if k["target"] is not None else "-",
                 "stage": k["stage"] or "-"} for k in n["kpis"]]
        self.query_one("#qr-scorecard", FrameTable).load_frame(pd.DataFrame(rows, columns=[
            "KPI", "value", "previous", "target", "stage"]))
        self.query_one("#qr-no-data", Static).update(Text("No data: " + "; ".join(
            f"{k['title']} ({k['reason']})" for k in n["no_data"]) if n["no_data"] else ""))
        charts = self.query_one("#qr-charts")
        charts.remove_children()
        for k in n["kpis"]:
            chart = TrendChart(k["title"])
            charts.mount(chart)
            points = [(f"{t['quarter']}", t["value"]) for t in k["trend"]]
            chart.plot({k["key"]: points}, y_label="%" if k["key"].endswith("_pct") else "h")
        self.query_one("#qr-choice", SelectionList).add_options(
            [(Text(c.title), c.id, c.id in self.chosen) for c in caps])
        self._show_grid()

    def scores(self) -> list[Any]:
        from rituals.maturity import decide

        return decide(self.caps, self.proposals, self.overrides, self.targets, self.chosen)

    def _show_grid(self) -> None:
        import pandas as pd

        scores = self.scores()
        rows = []
        for s in scores:
            row = {"capability": s.title}
            for stage in ("crawl", "walk", "run"):
                row[stage] = ("proposed" if s.proposed == stage else "") + (
                    " recorded" if s.stage == stage and s.overridden else "") + (" target" if s.target == stage else "")
            row["override reason"] = s.reason or ""
            row["evidence"] = "; ".join(f"{e['label']}: {e['value']}" for e in s.evidence)
            rows.append(row)
        table = self.query_one("#qr-grid", FrameTable)
        cursor = table.cursor_row
        table.load_frame(pd.DataFrame(rows, columns=["capability", "crawl", "walk", "run", "override reason",
                                                     "evidence"]))
        if rows:
            table.move_cursor(row=min(cursor, len(rows) - 1))
        self._show_gaps(scores)

    def _show_gaps(self, scores: list[Any]) -> None:
        by_id = {c.id: c for c in self.caps}
        lines = [f"- {s.title}: {s.stage or 'unassessed'} -> {s.target} ({by_id[s.capability].describe(s.target)})"
                 + ("  [next quarter]" if s.chosen else "") for s in scores if s.gap]
        self.query_one("#qr-gaps", Static).update(Text("\n".join(lines) or "No capability below its target."))

    # -- the facilitator's decisions --------------------------------------------------------------------------
    def set_decision(self, capability: str, *, stage: str | None = None, reason: str = "",
                     target: str | None = None) -> bool:
        """Override ``capability``'s stage (with a reason) and/or set its target; False (and a notice)
        when the decision is refused."""
        overrides, targets = dict(self.overrides), dict(self.targets)
        if stage is not None:
            overrides[capability] = (stage, reason)
        if target is not None:
            targets[capability] = target
        from rituals.maturity import decide

        try:
            decide(self.caps, self.proposals, overrides, targets, self.chosen)
        except ValueError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return False
        self.overrides, self.targets = overrides, targets
        self._show_grid()
        return True

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id != "qr-apply":
            super().on_button_pressed(event)
            return
        table = self.query_one("#qr-grid", FrameTable)
        if not self.caps or table.cursor_row is None:
            return
        cap = self.caps[table.cursor_row]
        stage = self.query_one("#qr-override-stage", Select).value
        target = self.query_one("#qr-target", Select).value
        reason = self.query_one("#qr-reason", Input).value
        if self.set_decision(cap.id, stage=stage if isinstance(stage, str) else None, reason=reason,
                             target=target if isinstance(target, str) else None):
            self.query_one("#qr-reason", Input).value = ""
            self.notify(f"{cap.title} updated", markup=False)

    def on_selection_list_selected_changed(self, event: SelectionList.SelectedChanged) -> None:
        if event.selection_list.id != "qr-choice":
            super().on_selection_list_selected_changed(event)
            return
        picked = list(event.selection_list.selected)
        if len(picked) > 2:
            self.notify("Choose one or two capabilities for next quarter.", severity="warning")
            event.selection_list.deselect(picked[-1])
            return
        self.chosen = picked
        self._show_gaps(self.scores())

    # -- record -------------------------------------------------------------------------------------------------
    def numbers(self) -> dict[str, Any]:
        from rituals.maturity import gap_proposals, previous_review, review_numbers

        if self.card is None:
            raise RuntimeError("the scorecard is still being computed")
        scores = self.scores()
        with self.home.records.session() as s:
            gaps = gap_proposals(s, self.caps, scores)
            previous = previous_review(s, self.card.quarter, exclude_run=self.run.id)
        return review_numbers(self.home, self.card, scores, gaps, previous)

    def close_in(self, session: Any, numbers: dict[str, Any]) -> Any:
        from rituals.maturity import record_review

        actor = next((p.id for p in self.people if p.handle == self.facilitator_handle), None)
        self.recorded_actions = record_review(session, self.run, self.scores(), numbers["gaps"],
                                              now=self.home.clock.now(), today=self.home.clock.today(),
                                              actor_id=actor)
        return super().close_in(session, numbers)
