"""The quarterly maturity and KPI review on the ritual stepper: KPI scorecard (a chart of each trend) ->
maturity grid (capability x stage, evidence, override with a reason) -> gaps and next quarter's choice ->
record. The figures are the session's ``QuarterlyFindings`` (the scorecard ``finops-tui kpis --json``
prints and the proposals from ``rituals.maturity``). Overrides, targets and the choice are run decisions
(``override_decision``/``choice_decision`` of the definition), so they survive a restart and appear in the
minutes; the grid shows ``findings.scores(run)``, and the definition's close stores the scores and the
chosen capabilities' gap actions."""

from __future__ import annotations

from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, Select, SelectionList, Static

from finops_tui.screens.stepper import RitualStepperScreen
from finops_tui.widgets.check_list import CheckList
from finops_tui.widgets.data_table import FrameTable
from finops_tui.widgets.safe_text import SafeStatic, safe_text
from finops_tui.widgets.trend_chart import TrendChart
from rituals.definitions.quarterly_review import (
    KIND,
    choice_decision,
    decisions_state,
    kpi_unit,
    override_decision,
)

STAGE_OPTIONS = [("crawl", "crawl"), ("walk", "walk"), ("run", "run")]


class QuarterlyReviewScreen(RitualStepperScreen):
    kind: ClassVar[str] = KIND
    LAZY_STEPS = True
    DEFAULT_CSS = """
    QuarterlyReviewScreen .qr-form { height: auto; }
    QuarterlyReviewScreen .qr-form > Label { width: 16; padding-top: 1; }
    QuarterlyReviewScreen .qr-form > Input { width: 1fr; }
    QuarterlyReviewScreen .qr-form > Select { width: 16; }
    QuarterlyReviewScreen FrameTable { height: auto; max-height: 16; }
    QuarterlyReviewScreen #qr-charts TrendChart { height: 10; }
    QuarterlyReviewScreen #qr-choice { height: auto; max-height: 12; }
    """
    BINDINGS = [Binding("X", "open_explorer", "Explorer", id="qr-explorer")]

    # -- steps ----------------------------------------------------------------------------------------------
    def compose_scorecard(self) -> ComposeResult:
        yield SafeStatic("Computing the scorecard...", id="qr-scorecard-note", markup=False)
        yield FrameTable(export_name="kpi-scorecard", id="qr-scorecard")
        yield SafeStatic("", id="qr-no-data", markup=False)
        yield Vertical(id="qr-charts")

    def compose_maturity(self) -> ComposeResult:
        yield FrameTable(export_name="maturity-grid", id="qr-grid")
        yield Label("Override (pick the capability's row above, then the stage and a reason)")
        with Horizontal(classes="qr-form"):
            yield Label("Stage")
            yield Select(STAGE_OPTIONS, prompt="stage", id="qr-override-stage", classes="run-input")
            yield Label("Target")
            yield Select(STAGE_OPTIONS, value="walk", allow_blank=False, id="qr-target", classes="run-input")
        with Horizontal(classes="qr-form"):
            yield Label("Reason")
            yield Input(placeholder="Why the evidence does not tell the whole story", id="qr-reason",
                        classes="run-input")
        yield Button("Apply to the selected capability", id="qr-apply", variant="primary", classes="run-input")

    def compose_gaps(self) -> ComposeResult:
        yield Label("Choose one or two capabilities to invest in next quarter (space toggles)")
        yield CheckList(id="qr-choice", classes="run-input")
        yield Label("Gaps to the targets (become actions for the chosen capabilities, owners from the RACI)")
        yield SafeStatic("", id="qr-gaps", markup=False)

    # -- the findings, and the scores the run's decisions give ------------------------------------------------
    @property
    def decisions(self) -> list[dict[str, Any]]:
        return list(self.run.decisions) if self.run is not None else []

    SHOWS_CACHED = True
    SHOWS_PARTIAL = True

    def show_cached_findings(self, numbers: dict[str, Any]) -> None:
        # The scorecard; the maturity grid and the choice need the capabilities, with the fresh findings.
        self._show_scorecard(numbers)

    def show_partial_findings(self, numbers: dict[str, Any]) -> None:
        # The scorecard, reported once the KPIs are measured, while the maturity evidence is gathered.
        self._show_scorecard(numbers)

    def show_findings(self, findings: Any) -> None:
        self._show_scorecard(findings.as_json())
        if self.composed("gaps"):
            chosen = decisions_state(self.decisions)[2]
            choice = self.query_one("#qr-choice", SelectionList)
            choice.clear_options()
            choice.add_options([(safe_text(c.title), c.id, c.id in chosen) for c in findings.capabilities])
        self.show_record()

    def _show_scorecard(self, n: dict[str, Any]) -> None:
        """The KPI scorecard, from ``kpis --json`` (fresh, or as last computed)."""
        import pandas as pd

        from exports.minutes_quarterly_review import kpi_value

        if not self.composed("scorecard"):
            return
        self.query_one("#qr-scorecard-note", Static).update(
            safe_text(f"KPIs {n['quarter']} ({n['start']} to {n['end']}, end exclusive); trend from {n['quarters'][0]}"))
        rows = [{"KPI": k["title"], "value": kpi_value(k["key"], k["value"]),
                 "previous": kpi_value(k["key"], k["previous"]) if k["previous"] is not None else "-",
                 "target": kpi_value(k["key"], k["target"]) if k["target"] is not None else "-",
                 "stage": k["stage"] or k.get("stage_note") or "-"} for k in n["kpis"]]
        self.query_one("#qr-scorecard", FrameTable).load_frame(pd.DataFrame(rows, columns=[
            "KPI", "value", "previous", "target", "stage"]))
        self.query_one("#qr-no-data", Static).update(safe_text("No data: " + "; ".join(
            f"{k['title']} ({k['reason']})" for k in n["no_data"]) if n["no_data"] else ""))
        # The charts after the scorecard is painted: drawing them is the slow part of this step.
        self.call_after_refresh(self._show_charts, n["kpis"])

    def _show_charts(self, kpis: list[dict[str, Any]]) -> None:
        charts = self.query_one("#qr-charts")
        charts.remove_children()
        for k in kpis:
            chart = TrendChart(k["title"])
            charts.mount(chart)
            chart.plot({k["key"]: [(t["quarter"], t["value"]) for t in k["trend"]]},
                       y_label="%" if kpi_unit(k["key"]) == "pct" else "h")

    def show_record(self) -> None:
        super().show_record()
        if self.findings is not None:
            self._show_grid(self.findings.scores(self.run))

    def _show_grid(self, scores: list[Any]) -> None:
        import pandas as pd

        rows = []
        for s in scores:
            row = {"capability": s.title}
            for stage in ("crawl", "walk", "run"):
                row[stage] = ("proposed" if s.proposed == stage else "") + (
                    " recorded" if s.stage == stage and s.overridden else "") + (" target" if s.target == stage else "")
            row["override reason"] = s.reason or s.above_target or ""
            row["evidence"] = "; ".join(f"{e['label']}: {e['value']}" for e in s.evidence)
            rows.append(row)
        if self.composed("maturity"):
            table = self.query_one("#qr-grid", FrameTable)
            table.load_frame(pd.DataFrame(rows, columns=["capability", "crawl", "walk", "run", "override reason",
                                                         "evidence"]), keys=[s.capability for s in scores])
        if not self.composed("gaps"):
            return
        by_id = {c.id: c for c in self.findings.capabilities}
        lines = [f"- {s.title}: {s.stage or 'unassessed'} -> {s.target} ({by_id[s.capability].describe(s.target)})"
                 + ("  [next quarter]" if s.chosen else "") for s in scores if s.gap]
        self.query_one("#qr-gaps", Static).update(safe_text("\n".join(lines) or "No capability below its target."))

    # -- the facilitator's decisions: each one a run decision ---------------------------------------------------
    def record(self, decisions: list[tuple[str, dict[str, Any]]], step: str, done: str) -> None:
        def change() -> None:
            for text, detail in decisions:
                self.session.add_decision(text, step, detail)

        self.save(change, done)

    @on(Button.Pressed, "#qr-apply")
    def _apply_pressed(self) -> None:
        table = self.query_one("#qr-grid", FrameTable)
        position = table.cursor_position()  # the frame's row, whatever the sort or filter
        if self.findings is None or position is None or not self.writable():
            return
        score = self.findings.scores(self.run)[position]
        stage = self.query_one("#qr-override-stage", Select).value
        target = self.query_one("#qr-target", Select).value
        reason = self.query_one("#qr-reason", Input).value
        try:
            decisions = override_decision(self.findings, self.decisions, score.capability,
                                          stage=stage if isinstance(stage, str) else None, reason=reason,
                                          target=target if isinstance(target, str) and target != score.target
                                          else None)
        except ValueError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return
        if not decisions:
            self.notify(f"Choose a stage or a new target for {score.title} first.", severity="warning",
                        markup=False)
            return
        self.query_one("#qr-reason", Input).value = ""
        self.record(decisions, "maturity", f"{score.title} updated")

    @on(SelectionList.SelectedChanged, "#qr-choice")
    def _choice_changed(self, event: SelectionList.SelectedChanged) -> None:
        picked = list(event.selection_list.selected)
        if self.findings is None or self.run is None or set(picked) == set(decisions_state(self.decisions)[2]):
            return  # the stored choice being shown, not a new one
        if len(picked) > 2:
            self.notify("Choose one or two capabilities for next quarter.", severity="warning")
            event.selection_list.deselect(picked[-1])
            return
        try:
            decision = choice_decision(self.findings, self.decisions, picked)
        except ValueError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return
        self.record([decision], "gaps", "Next quarter's choice recorded")

    def describe_close(self, extras: dict[str, Any]) -> str:
        made = extras.get("actions") or []
        return f"scores stored, {len(made)} gap action(s) created"
