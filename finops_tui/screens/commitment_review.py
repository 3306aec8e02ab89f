"""The commitment review on the ritual stepper: coverage and utilization -> expiring -> baseline and
what-if -> decision -> record. The figures are the session's ``CommitmentFindings`` (the object
``finops-tui commitments --json`` prints and a closed run freezes, for the lookback chosen here); this screen
only shows them and collects the decision, recorded with ``rituals.commitment_review.record_decision``
against the open run."""

from __future__ import annotations

from typing import Any, ClassVar, cast

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Button, Input, Label, Select, Static

from finops_tui.screens.stepper import RitualStepperScreen
from finops_tui.widgets.data_table import FrameTable
from finops_tui.widgets.kpi_strip import Kpi, KpiStrip
from finops_tui.widgets.safe_text import SafeStatic, safe_text
from finops_tui.widgets.trend_chart import TrendChart
from rituals.definitions.commitment_review import KIND

LOOKBACKS = (7, 30, 60)
TERMS = (1, 3)
PAYMENTS = ("No Upfront", "Partial Upfront", "All Upfront")


class CommitmentReviewScreen(RitualStepperScreen):
    kind: ClassVar[str] = KIND
    LAZY_STEPS = True
    DEFAULT_CSS = """
    CommitmentReviewScreen .cr-form { height: auto; }
    CommitmentReviewScreen .cr-form > Label { width: 12; padding-top: 1; }
    CommitmentReviewScreen .cr-form > Input, CommitmentReviewScreen .cr-form > Select { width: 1fr; }
    CommitmentReviewScreen FrameTable { height: auto; max-height: 14; }
    """
    BINDINGS = [Binding("X", "open_explorer", "Explorer", id="cr-explorer")]

    def __init__(self, home: Any, period: str | None = None, *, facilitator: str | None = None) -> None:
        super().__init__(home, period, facilitator=facilitator)
        self.lookback = home.config.commitments.lookback_days
        self.report: dict[str, Any] | None = None
        self.approver: str | None = None
        self._prefilled = False  # the decision's inputs take the first fresh report's suggestion

    # -- steps --------------------------------------------------------------------------------------------------
    def compose_coverage(self) -> ComposeResult:
        yield KpiStrip(id="cr-kpis")
        yield SafeStatic("", id="cr-basis", markup=False)
        yield Label("By program (each on the usage it can cover, as Cost Explorer reports it)")
        yield FrameTable(export_name="commitment-coverage-by-program", id="cr-programs")
        yield TrendChart("Coverage % (on-demand equivalent)", id="cr-coverage-chart")
        yield TrendChart("Utilisation %", id="cr-utilization-chart")
        yield Label("By service")
        yield FrameTable(export_name="commitment-coverage-by-service", id="cr-by-service")
        yield Label("By account")
        yield FrameTable(export_name="commitment-coverage-by-account", id="cr-by-account")
        yield SafeStatic("", id="cr-aws", markup=False)

    def compose_expiring(self) -> ComposeResult:
        yield SafeStatic("Loading the inventory...", id="cr-expiring-note", markup=False)
        yield FrameTable(export_name="commitment-inventory", id="cr-inventory")
        yield Label("Negotiated contracts (not in Savings Plan or RI coverage)")
        yield SafeStatic("", id="cr-contracts-note", markup=False)
        yield FrameTable(export_name="contract-commitments", id="cr-contracts")

    def compose_baseline(self) -> ComposeResult:
        with Horizontal(classes="cr-form"):
            yield Label("Lookback")
            yield Select([(f"{d} days", d) for d in LOOKBACKS], value=self.lookback, allow_blank=False,
                         id="cr-lookback")
        yield SafeStatic("Loading the baseline...", id="cr-baseline", markup=False)
        yield Label("What if we commit more (per hour of discounted spend)")
        yield FrameTable(export_name="commitment-what-if", id="cr-what-if")

    def compose_decision(self) -> ComposeResult:
        cfg = self.home.config.commitments
        with Horizontal(classes="cr-form"):
            yield Label("Decision")
            yield Select([("Buy", "buy"), ("Renew", "renew"), ("Defer", "defer")], value="defer",
                         allow_blank=False, id="cr-choice")
        with Horizontal(classes="cr-form"):
            yield Label("Per hour")
            yield Input("0", id="cr-amount", type="number")
        with Horizontal(classes="cr-form"):
            yield Label("Term")
            yield Select([(f"{t} year{'s' if t > 1 else ''}", t) for t in TERMS], value=cfg.term_years,
                         allow_blank=False, id="cr-term")
            yield Select([(p, p) for p in PAYMENTS], value=cfg.payment_option, allow_blank=False, id="cr-payment")
        with Horizontal(classes="cr-form"):
            yield Label("Rationale")
            yield Input(placeholder="Why (recorded with the decision)", id="cr-rationale")
        yield SafeStatic("Approver: resolving from the RACI...", id="cr-approver", markup=False)
        yield Button("Record decision", id="cr-record-decision", variant="primary", classes="run-input")

    # -- the findings, with the approver the RACI names -----------------------------------------------------------
    SHOWS_CACHED = True

    def findings_options(self) -> dict[str, object]:
        # The configured lookback is the findings' default: asked without it, as `commitments` computes
        # them, so the cached findings of either serve the other.
        default = self.home.config.commitments.lookback_days
        return {} if self.lookback == default else {"lookback": self.lookback}

    def compute_findings(self) -> Any:
        from rituals.commitment_review import ACTIVITY
        from rituals.raci import RaciError, accountable_for, ensure_raci

        findings = super().compute_findings()
        try:
            ensure_raci(self.home.records)
            with self.home.records.session() as s:
                person = accountable_for(s, ACTIVITY)
                self.approver = f"{person.name} ({person.handle})"
        except (RaciError, ValueError) as exc:
            self.approver = f"none: {exc}"
        return findings

    def show_findings(self, findings: Any) -> None:
        self._show_report(findings.as_json(), self.approver or "-")

    def show_cached_findings(self, numbers: dict[str, Any]) -> None:
        # The approver is read from the RACI with the fresh figures; the decision's inputs wait for them too.
        self._show_report(numbers, "resolving from the RACI...", fresh=False)

    def _show_report(self, report: dict[str, Any], approver: str, *, fresh: bool = True) -> None:
        self.report = report
        self.approver = approver if fresh else self.approver
        if self.composed("coverage"):
            self._show_coverage(report)
        if self.composed("expiring"):
            self._show_expiring(report)
        if self.composed("baseline"):
            self._show_baseline(report)
        if self.composed("decision"):
            self.query_one("#cr-approver", Static).update(safe_text(f"Approver (accountable in the RACI): {approver}"))
            if fresh and not self._prefilled:  # the first fresh report's suggestion, once
                self._prefilled = True
                self.query_one("#cr-choice", Select).value = report["suggestion"]
                self.query_one("#cr-amount", Input).value = f"{report['recommended_additional_hourly']:.2f}"

    def _show_coverage(self, report: dict[str, Any]) -> None:
        import pandas as pd

        from exports.format import money, pct

        cur = report["currency"]
        target = report["target_coverage_pct"]
        cov, util = report["coverage_pct"], report["utilization_pct"]
        self.query_one("#cr-kpis", KpiStrip).set_kpis([
            Kpi("Coverage", pct(cov), None if cov is None else "good" if cov >= target else
                "warn" if cov >= target - 15 else "bad", f"target {pct(target)}"),
            Kpi("Utilisation", pct(util), None if util is None else "good" if util >= 90 else
                "warn" if util >= 80 else "bad"),
            Kpi("Savings rate", pct(report["effective_savings_rate_pct"])),
            Kpi("Unused commitment", money(report["unused_commitment_cost"], cur)),
        ])
        self.call_after_refresh(self._plot_daily, report)  # the figures paint first; charts are the slow part
        basis = [report["coverage_basis"], *(f"Warning: {w}" for w in report["warnings"])]
        self.query_one("#cr-basis", Static).update(safe_text("\n".join(basis)))
        self.query_one("#cr-programs", FrameTable).load_frame(
            pd.DataFrame(report["programs"], columns=["program", "commitments", "eligible_cost", "covered_cost",
                                                      "coverage_pct", "utilization_pct"]),
            {"eligible_cost": lambda v: money(v, cur), "covered_cost": lambda v: money(v, cur), "coverage_pct": pct,
             "utilization_pct": pct},
            {"commitments": "held", "eligible_cost": "eligible", "covered_cost": "covered", "coverage_pct": "coverage",
             "utilization_pct": "utilisation"})
        # Unused commitment is a line of its own per commitment: each table sums to the headline.
        cols = ["eligible", "covered", "coverage_pct", "used", "unused"]
        fmt = {"eligible": lambda v: money(v, cur), "covered": lambda v: money(v, cur),
               "coverage_pct": pct, "used": lambda v: money(v, cur), "unused": lambda v: money(v, cur)}
        labels = {"coverage_pct": "coverage", "used": "used commitment", "unused": "unused commitment",
                  "account_name": "name"}
        self.query_one("#cr-by-service", FrameTable).load_frame(
            pd.DataFrame(report["by_service"], columns=["service", *cols]), fmt, labels)
        self.query_one("#cr-by-account", FrameTable).load_frame(
            pd.DataFrame(report["by_account"], columns=["account", "account_name", *cols]), fmt, labels)
        self.query_one("#cr-aws", Static).update(safe_text(self._aws_text(report)))

    def _plot_daily(self, report: dict[str, Any]) -> None:
        daily, target = report["daily"], report["target_coverage_pct"]
        self.query_one("#cr-coverage-chart", TrendChart).plot(
            {"coverage": [(d["day"], d["coverage_pct"]) for d in daily],
             "target": [(d["day"], target) for d in daily]}, y_label="%")
        self.query_one("#cr-utilization-chart", TrendChart).plot(
            {"utilisation": [(d["day"], d["utilization_pct"]) for d in daily]}, y_label="%")

    @staticmethod
    def _aws_text(report: dict[str, Any]) -> str:
        aws = report["aws"]
        hub = [f"  Cost Optimization Hub recommends {r['action_type']} {r['recommended'] or ''}, saving "
               f"{r['estimated_monthly_savings']:,.2f} {r['currency'] or ''} a month"
               for r in report.get("hub_purchase_recommendations") or []]
        if aws is None:
            return "\n".join(["AWS's own figures: not synced (finops-tui sync aws stores them to compare with ours).",
                              *hub])
        lines = ["AWS's own figures beside ours:"]
        for r in aws["figures"]:
            theirs = "-" if r["aws_pct"] is None else f"{r['aws_pct']:.1f}%"
            ours = "-" if r["ours_pct"] is None else f"{r['ours_pct']:.1f}%"
            diff = "" if r["difference_pts"] is None else f" ({r['difference_pts']:+.1f} pts)"
            lines.append(f"  {r['program']} {r['measure']}: AWS {theirs}, ours {ours}{diff} [{r['unit']}]")
        for r in aws["recommendations"]:
            lines.append(f"  AWS recommends {r['hourly_commitment']}/h ({r['term_years']} y, {r['payment_option']}, "
                         f"{r['lookback_days']}-day lookback), saving {r['monthly_savings']} a month")
        return "\n".join(lines + hub)

    def _show_expiring(self, report: dict[str, Any]) -> None:
        import pandas as pd

        from exports.format import money, pct

        cur = report["currency"]
        soon = report["expiring"]
        if report["terms_note"]:
            note = report["terms_note"]
        elif soon:
            note = "Expiring within 90 days:\n" + "\n".join(
                f"  {c['commitment_id']}: {money(c['hourly_commitment'], cur, decimals=2)}/h, ends {c['end_date']} "
                f"(in {c['days_left']} days, the {c['expires_within_days']}-day bucket)" for c in soon)
        else:
            note = "Nothing expires within 90 days."
        self.query_one("#cr-expiring-note", Static).update(safe_text(note))
        # The hourly amount and the end date before the ARN, which is long and identifies the row last.
        cols = ["program", "hourly_commitment", "end_date", "days_left", "utilization_pct", "payment_option",
                "start_date", "commitment_id"]
        self.query_one("#cr-inventory", FrameTable).load_frame(
            pd.DataFrame(report["inventory"], columns=cols),
            {"utilization_pct": pct, "hourly_commitment": lambda v: f"{v:,.2f} {cur}/h"},
            {"hourly_commitment": "per hour", "end_date": "ends", "days_left": "days left",
             "utilization_pct": "utilization", "payment_option": "payment", "start_date": "started",
             "commitment_id": "commitment"},
            priorities={"hourly_commitment": 0, "end_date": 0, "commitment_id": 0, "days_left": 1,
                        "utilization_pct": 1, "program": 2, "payment_option": 3, "start_date": 4})
        self._show_contracts(report.get("contracts") or {})

    def _show_contracts(self, found: dict[str, Any]) -> None:
        """Each contract commitment's terms and burn-down: committed, applied so far, remaining, and how much
        of its period has passed (a contract burning slower than its time runs short of its promise)."""
        import pandas as pd

        from exports.format import pct

        rows = found.get("contracts") or []
        note = found.get("basis", "") if rows else "No contract commitments imported (FOCUS 1.3 Contract Commitment files)."
        self.query_one("#cr-contracts-note", SafeStatic).update(note)
        cols = ["contract_commitment_id", "contract_id", "category", "committed", "applied", "remaining",
                "burned_pct", "elapsed_pct", "period_start", "period_end", "description"]
        money2 = {c: (lambda v: "-" if v is None else f"{v:,.2f}") for c in ("committed", "applied", "remaining")}
        self.query_one("#cr-contracts", FrameTable).load_frame(
            pd.DataFrame(rows, columns=cols), {**money2, "burned_pct": pct, "elapsed_pct": pct},
            {"contract_commitment_id": "commitment", "contract_id": "contract", "burned_pct": "burned",
             "elapsed_pct": "time gone", "period_start": "starts", "period_end": "ends"},
            priorities={"contract_commitment_id": 0, "committed": 0, "applied": 0, "remaining": 0,
                        "burned_pct": 1, "elapsed_pct": 1, "period_end": 1, "category": 2, "contract_id": 3,
                        "description": 3, "period_start": 4})

    def _show_baseline(self, report: dict[str, Any]) -> None:
        import pandas as pd

        from exports.format import money, pct

        cur = report["currency"]
        lines = [
            f"Eligible on-demand spend, p{report['baseline_percentile']:g} of {report['lookback_days']} days: "
            f"{money(report['baseline_low_daily'], cur)} a day",
            f"Less open right-sizing and clean-up ({len(report['reduction_actions'])} actions): "
            f"{money(report['reduction_monthly_savings'], cur)} a month",
            f"Baseline: {money(report['baseline_hourly'], cur, decimals=2)} an hour on demand; commitments that stay "
            f"cover {money(report['retained_covered_hourly'], cur, decimals=2)} an hour",
            f"Target coverage {pct(report['target_coverage_pct'])}: cover "
            f"{money(report['target_covered_hourly'], cur, decimals=2)} an hour"
            + (" (capped at the baseline)" if report["capped_at_baseline"] else ""),
            f"Recommended: {money(report['recommended_additional_hourly'], cur, decimals=2)} an hour more commitment "
            f"at {report['discount_rate_pct']:g}% off (suggestion: {report['suggestion']})",
        ]
        if report["aws_recommended_hourly"] is not None:
            lines.append(f"AWS recommends {money(report['aws_recommended_hourly'], cur, decimals=2)} an hour")
        self.query_one("#cr-baseline", Static).update(safe_text("\n".join(lines)))
        cols = ["additional_hourly", "coverage_pct", "utilization_pct", "monthly_savings", "stranded_monthly",
                "stranded_risk", "recommended"]
        self.query_one("#cr-what-if", FrameTable).load_frame(
            pd.DataFrame(report["what_if"], columns=cols),
            {"coverage_pct": pct, "utilization_pct": pct, "monthly_savings": lambda v: money(v, cur),
             "stranded_monthly": lambda v: money(v, cur), "recommended": lambda v: "<- ours" if v else ""})

    @on(Select.Changed, "#cr-lookback")
    def _lookback_changed(self, event: Select.Changed) -> None:
        if event.value != self.lookback and event.value in LOOKBACKS:
            self.lookback = int(event.value)
            self.reload_findings()

    # -- the decision: rituals.commitment_review.record_decision, against the open run -----------------------------
    @on(Button.Pressed, "#cr-record-decision")
    def action_record_commitment_decision(self) -> None:
        from rituals.commitment_review import Decision

        if not self.writable():
            return
        try:
            amount = float(self.query_one("#cr-amount", Input).value or 0)
        except ValueError:
            self.notify("The hourly amount must be a number.", severity="error")
            return
        decision = Decision(str(self.query_one("#cr-choice", Select).value), amount,
                            int(self.query_one("#cr-term", Select).value),  # type: ignore[arg-type]
                            str(self.query_one("#cr-payment", Select).value),
                            self.query_one("#cr-rationale", Input).value)
        try:
            decision.check()
        except ValueError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return
        self.save(lambda: self._record_decision(decision), "Commitment decision recorded")

    def _record_decision(self, decision: Any) -> None:
        from rituals.commitment_review import record_decision
        from storage.records import Action

        currency = (self.report or {}).get("currency") or self.home.config.currency

        def change(s: Any, run: Any) -> Any:
            got = record_decision(s, run, decision, by=self.session.facilitator_handle, now=self.home.clock.now(),
                                  today=self.home.clock.today(), currency=currency)
            return s.get(Action, got.action_id) if got.action_id else None

        action = cast("Action | None", self.session.in_transaction(change))
        if action is not None:
            self.session.actions.append(action)
        self.notify_any_thread("Decision recorded" + (" with an action for its execution" if action else ""))
