"""Anomaly triage: the queue of anomaly cases (status, then impact), a detail pane (the series with its
expected band and the anomaly window, the root causes, the case history), keys to acknowledge, assign,
change status, add a note, create an action and send AWS feedback, all inside a recorded triage run.

The logic is rituals.anomaly_cases / anomaly_report; the findings (detection, then the cases of the
session's window) are the definition's. A change to a case made during the triage is also one decision of
the run ("Case X acknowledged"), so triage decisions live in the same list as every ritual's.
"""

from __future__ import annotations

import asyncio
import threading
from datetime import timedelta
from typing import Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import DataTable, Label, Static
from textual.worker import get_current_worker

from finops_tui.modals.pick import PickOne, TextPrompt
from finops_tui.screens.stepper import RitualStepperScreen
from finops_tui.widgets.data_table import FrameTable
from finops_tui.widgets.safe_text import SafeStatic, safe_text
from finops_tui.widgets.trend_chart import TrendChart
from rituals.definitions.anomaly_triage import KIND

STATUS_LABELS = {"new": "new", "acknowledged": "acknowledged", "investigating": "investigating",
                 "resolved": "resolved", "false_positive": "false positive", "planned": "planned"}
CATEGORY_LABELS = {"misconfiguration": "misconfiguration", "new_workload": "new workload",
                   "planned_activity": "planned activity", "pricing_change": "pricing change",
                   "data_issue": "data issue", "unknown": "unknown"}


def _h(hours: float | None) -> str:
    return "-" if hours is None else f"{hours:.1f} h" if hours < 48 else f"{hours / 24:.1f} d"


def sent_text(c: dict[str, Any]) -> str:
    """Whether and when the case's event was notified, and its TTD, TTA and TTR (the event's, as JSON)."""
    e = c.get("event_timing") or {}
    notified = e.get("notified_at") or c.get("notified_at")
    sent = (f"notified {notified:%Y-%m-%d %H:%M} UTC" if notified is not None
            else "not notified yet (finops-tui notify sends it to the team's channel)")
    return (f"{sent}; event TTD {_h(e.get('ttd_hours'))}, TTA {_h(e.get('tta_hours'))}, "
            f"TTR {_h(e.get('ttr_hours'))}")


QUEUE_LABELS = {"historical": "hist", "what": "what", "days": "days"}
# What a triage needs at a glance stays (status, history, impact, team, what); the rest goes first when narrow.
QUEUE_PRIORITIES = {"status": 0, "historical": 0, "impact": 0, "team": 0, "what": 0, "start": 1, "days": 2,
                    "dimension": 3}


def queue_frame(rows: list[dict[str, Any]]) -> Any:
    """The queue as the table shows it: one row per case, in the order of the cases."""
    import pandas as pd

    return pd.DataFrame([{
        "status": STATUS_LABELS.get(c["status"], c["status"]),
        "historical": "yes" if c["historical"] else "",
        "impact": float(c["impact"]),
        "team": c["owner_team"] or "-",
        "what": (c["label"] or c["value"]) + (" (AWS)" if c["source"] == "aws" else ""),
        "start": c["start"],
        "days": int(c["days"]),
        "dimension": c["dimension"],
    } for c in rows], columns=["status", "historical", "impact", "team", "what", "start", "days", "dimension"],
        dtype=object)


class AnomalyTriageScreen(RitualStepperScreen):
    kind = KIND
    INITIAL_STEP: ClassVar[str] = "queue"
    DEFAULT_CSS = """
    AnomalyTriageScreen #anomaly-split { height: 1fr; min-height: 16; }
    AnomalyTriageScreen #anomaly-queue { width: 3fr; height: 1fr; }
    AnomalyTriageScreen #anomaly-detail { width: 2fr; height: 1fr; padding: 0 1; }
    AnomalyTriageScreen #anomaly-roots { height: auto; max-height: 10; }
    AnomalyTriageScreen #anomaly-summary, AnomalyTriageScreen #anomaly-history { height: auto; }
    """
    BINDINGS = [
        Binding("k", "acknowledge", "Ack", id="anomaly-acknowledge"),
        Binding("K", "acknowledge_event", "Acknowledge event", id="anomaly-acknowledge-event", show=False),
        Binding("s", "change_status", "Status", id="anomaly-status"),
        Binding("g", "assign", "Assign", id="anomaly-assign"),
        Binding("w", "note", "Note", id="anomaly-note"),  # `e` is the table's export
        Binding("x", "case_action", "Case action", id="anomaly-action", show=False),
        Binding("f", "aws_feedback", "AWS feedback", id="anomaly-feedback", show=False),
        Binding("X", "open_explorer", "Explorer", id="anomaly-explorer", show=False),
    ]

    HELP = RitualStepperScreen.HELP + """
**Triage keys** (on the highlighted case). `k` acknowledge, `K` acknowledge its whole event, `s` status,
`g` assign a team, `w` write a note, `x` create an action, `f` send AWS feedback. `j`/`k` do not move here.
"""

    def __init__(self, home: Any, period: str | None = None, *, facilitator: str | None = None) -> None:
        super().__init__(home, period, facilitator=facilitator)
        self.cases: list[dict[str, Any]] = []
        self.selected: str | None = None
        self.new_cases = 0  # found by the findings' detection
        # DuckDB's pandas scans are not safe from two threads at once ("pandas_scan does not exist").
        self._costs_lock = threading.Lock()

    # -- layout -------------------------------------------------------------------------------------------
    def compose_queue(self) -> ComposeResult:
        yield SafeStatic("Detecting anomalies...", id="anomaly-queue-status", markup=False)
        with Horizontal(id="anomaly-split"):
            # j/k stay off: `k` acknowledges here
            yield FrameTable(id="anomaly-queue", export_name="anomaly-queue", vim_keys=False)
            with VerticalScroll(id="anomaly-detail"):
                yield SafeStatic("", id="anomaly-summary", markup=False)
                yield TrendChart("Daily spend", id="anomaly-chart")
                yield Label("Root causes (by contribution to the excess)")
                yield FrameTable(id="anomaly-roots", export_name="anomaly-root-causes", vim_keys=False,
                                 zebra_stripes=False)
                yield Label("History")
                yield SafeStatic("", id="anomaly-history", markup=False)

    # -- loading: the findings detect and store new cases; the queue reads them back ----------------------
    def compute_findings(self) -> Any:
        with self._costs_lock:
            return self.session.findings()

    def show_run(self) -> None:
        super().show_run()
        self.load_cases()  # the stored cases at once; again once detection has run

    def opened_painted(self) -> None:
        """Detection waits for the stored cases to be painted (``_show_cases``), not only for the run."""

    def show_findings(self, findings: Any) -> None:
        self.new_cases = len(findings.as_json().get("new_cases") or [])
        self.load_cases()

    @work(thread=True, exclusive=True, group="anomaly-load")
    def load_cases(self) -> None:
        from sqlmodel import select

        from rituals.anomaly_events import event_groups, events_of
        from rituals.anomaly_report import all_cases, case_dict, in_window, summary
        from rituals.people import account_teams
        from storage.records import Person, Team

        start, end = self.session.window
        with self.home.records.session() as s:
            cases = all_cases(s)
            shown = {c.id for c in in_window(cases, start, end)}
            keep = [c for c in cases if c.id in shown or (c.status in ("new", "acknowledged", "investigating")
                                                          and not c.historical)]
            teams = {t.id: t for t in s.exec(select(Team))}
            people = {p.id: p for p in s.exec(select(Person))}
            events = event_groups(cases)
            rows = [case_dict(c, teams, people, events) for c in keep]
            # The event's times (TTD, TTA, TTR as `anomalies --json` gives them), shown with each of its cases.
            timing = {e.id: e.as_dict() for e in events_of(cases, account_teams(s), events)}
            for r in rows:
                r["event_timing"] = timing.get(r["event"])
            window = [c for c in cases if c.id in shown]
            # The header counts the window's events as `anomalies` and the minutes do (one function).
            counts = {**summary(window, events_of(window, account_teams(s), events)),
                      "currency": self.home.costs.info().currency or self.home.config.currency}
        worker = get_current_worker()
        if not worker.is_cancelled:
            self.app.call_from_thread(self._show_current_cases, worker, rows, self.new_cases, counts)

    def _show_current_cases(self, worker: Any, rows: list[dict[str, Any]], new: int, counts: dict[str, Any]) -> None:
        # A newer load (after detection) cancels this one on the UI thread, possibly after this worker's own
        # check above: only the latest load's queue is shown, never the stale one after it.
        if not worker.is_cancelled:
            self._show_cases(rows, new, counts)

    def _queue_status(self, text: str) -> None:
        self.query_one("#anomaly-queue-status", Static).update(safe_text(text))

    def _show_cases(self, rows: list[dict[str, Any]], new: int, counts: dict[str, Any]) -> None:
        from rituals.anomaly_report import summary_text

        self.cases = rows
        self.mark_painted()  # the stored cases are on screen: detection may start
        table = self.query_one("#anomaly-queue", FrameTable)
        table.load_frame(queue_frame(rows), {"impact": lambda v, c=counts["currency"]: f"{v:,.0f} {c}"},
                         QUEUE_LABELS, priorities=QUEUE_PRIORITIES, keys=[c["id"] for c in rows])
        self._queue_status(summary_text(counts, new)
                           + ". k acknowledge (K: its whole event), s status, g assign, w note, x action")
        if rows:
            ids = [table.keys[p] for p in table.order]
            row = ids.index(self.selected) if self.selected in ids else 0
            if ids:
                table.move_cursor(row=row)
                self._show_detail(rows[table.order[row]])

    @on(DataTable.RowHighlighted, "#anomaly-queue")
    def _case_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.row_key is None:
            return
        case = next((c for c in self.cases if c["id"] == event.row_key.value), None)
        if case is not None and case["id"] != self.selected:
            self._show_detail(case)

    @property
    def case(self) -> dict[str, Any] | None:
        return next((c for c in self.cases if c["id"] == self.selected), None)

    def _show_detail(self, c: dict[str, Any]) -> None:
        self.selected = c["id"]
        pct = f" (+{c['impact_pct']:.0f}%)" if c["impact_pct"] is not None else ""
        lines = [f"{c['id']}  {c['dimension']}: {c['label'] or c['value']}",
                 f"{c['start']} to {c['end']} (end exclusive, {c['days']} d)"
                 + (" - historical" if c["historical"] else ""),
                 f"expected {c['expected_cost']:,.0f}, actual {c['actual_cost']:,.0f}, impact "
                 f"{c['impact']:,.0f} {c['currency']}{pct}",
                 f"status {STATUS_LABELS.get(c['status'], c['status'])}, category "
                 f"{CATEGORY_LABELS.get(c['category'], c['category'])}, team {c['owner_team'] or '-'}, "
                 f"assignee {c['assignee'] or '-'}"]
        if c["related"]:
            lines.append(f"event {c['event']}: also " + ", ".join(c["related"]))
        lines.append(sent_text(c))
        if c["aws_anomaly_id"]:
            lines.append(f"AWS anomaly {c['aws_anomaly_id']}, feedback {c['aws_feedback'] or 'not sent'} (f sends)")
        self.query_one("#anomaly-summary", Static).update(safe_text("\n".join(lines)))
        import pandas as pd

        roots = pd.DataFrame([{"dimension": r["dimension"], "value": r["value"], "contribution": r.get("contribution"),
                               "share_pct": r.get("share_pct"), "team": r.get("team") or "-"}
                              for r in c["root_causes"][:12]],
                             columns=["dimension", "value", "contribution", "share_pct", "team"], dtype=object)
        self.query_one("#anomaly-roots", FrameTable).load_frame(
            roots, {"contribution": lambda v, cur=c["currency"]: "-" if v is None else f"{v:,.0f} {cur}",
                    "share_pct": lambda v: "-" if v is None else f"{v:.0f}%"},
            {"share_pct": "share"}, priorities={"value": 0, "contribution": 0, "share_pct": 1, "team": 1,
                                                "dimension": 2})
        history = [f"{h['at'][:16].replace('T', ' ')} {h.get('by') or 'finops-tui'}: {h['field']}"
                   + (f" {h['old']} -> {h['new']}" if h.get("new") is not None else "")
                   + (f" ({h['note']})" if h.get("note") else "") for h in c.get("history", [])]
        history += [f"note {n['at'][:16].replace('T', ' ')} {n.get('by') or '-'}: {n['text']}" for n in c["notes"]]
        self.query_one("#anomaly-history", Static).update(safe_text("\n".join(history) or "-"))
        self._load_chart(c["dimension"], c["value"], c["start"], c["end"])

    @work(thread=True, exclusive=True, group="anomaly-chart")
    def _load_chart(self, dimension: str, value: str, start: Any, end: Any) -> None:
        from rituals.allocation import account_teams_from_records
        from rituals.anomalies import Thresholds, series_frame

        with self._costs_lock:
            frame = series_frame(self.home.costs, account_teams_from_records(self.home.records), dimension, value,
                                 Thresholds.from_config(self.home.config))
        if frame.empty:
            return
        frame = frame[(frame["day"] >= start - timedelta(days=42)) & (frame["day"] < end + timedelta(days=14))]
        days = list(frame["day"])
        inside = frame[(frame["day"] >= start) & (frame["day"] < end)]
        series = {"spend": list(zip(days, frame["cost"], strict=True)),
                  "expected": list(zip(days, frame["expected"], strict=True)),
                  "alarm line": list(zip(days, frame["upper"], strict=True)),
                  "anomaly window": list(zip(inside["day"], inside["cost"], strict=True))}
        self.app.call_from_thread(self.query_one("#anomaly-chart", TrendChart).plot, series,
                                  f"{dimension}: {value}", self.home.config.currency)

    # -- the keys -------------------------------------------------------------------------------------------
    def _actor(self) -> int | None:
        return self.session.actor_id()

    def _change(self, fn: Any, done: str, case: str | None = None) -> None:
        """Run a case change (in a thread); with ``case``, it is also a decision of the open run. Errors
        become notices; then the queue is read again."""
        try:
            fn()
            if case is not None and self.session.is_open:
                self.session.add_decision(done, "queue", {"kind": "anomaly_case", "case": case})
        except (ValueError, RuntimeError) as exc:
            self.notify_any_thread(str(exc), severity="error")
            return
        self.notify_any_thread(done)
        self.app.call_from_thread(self.show_record)
        self.app.call_from_thread(self.load_cases)

    def action_acknowledge(self) -> None:
        from rituals.anomaly_cases import acknowledge

        if (c := self.case) is not None:
            self.run_worker(lambda: self._change(lambda: acknowledge(self.home.records, c["id"], now=self.home.clock.now(),
                                                                     actor_id=self._actor()),
                                                 f"Case {c['id']} acknowledged", c["id"]), thread=True, group="anomaly-save")

    def action_acknowledge_event(self) -> None:
        from rituals.anomaly_events import acknowledge_event

        if (c := self.case) is not None:
            self.run_worker(lambda: self._change(
                lambda: acknowledge_event(self.home.records, c["id"], now=self.home.clock.now(), actor_id=self._actor()),
                f"The new cases of event {c['event']} are acknowledged", c["event"]), thread=True,
                group="anomaly-save")

    def action_change_status(self) -> None:
        if self.case is not None:
            self._status_flow(self.case)

    @work(group="anomaly-dialog", exclusive=True)
    async def _status_flow(self, c: dict[str, Any]) -> None:
        from rituals.anomaly_cases import CLOSED_STATUSES, set_status

        choices = [(label, s) for s, label in STATUS_LABELS.items() if s != "new"]
        status = await self.app.push_screen_wait(PickOne(f"Status of {c['id']}", choices, c["status"]))
        if status is None:
            return
        category = None
        if status in CLOSED_STATUSES or status == "investigating":
            category = await self.app.push_screen_wait(PickOne("Root-cause category (escape keeps it)",
                                                               [(v, k) for k, v in CATEGORY_LABELS.items()],
                                                               c["category"]))
        await asyncio.to_thread(self._change, lambda: set_status(
            self.home.records, c["id"], status, now=self.home.clock.now(), actor_id=self._actor(),
            category=category, if_version=c["version"]), f"Case {c['id']} is {STATUS_LABELS[status]}", c["id"])

    def action_assign(self) -> None:
        if self.case is not None:
            self._assign_flow(self.case)

    @work(group="anomaly-dialog", exclusive=True)
    async def _assign_flow(self, c: dict[str, Any]) -> None:
        from sqlmodel import select

        from rituals.anomaly_cases import assign
        from storage.records import Team

        def names() -> list[str]:
            with self.home.records.session() as s:
                return [t.name for t in s.exec(select(Team).where(Team.active == True).order_by(Team.name))]  # noqa: E712

        teams = await asyncio.to_thread(names)
        team = await self.app.push_screen_wait(PickOne(f"Route {c['id']} to", [(t, t) for t in teams],
                                                       c["owner_team"]))
        if team is not None:
            await asyncio.to_thread(self._change, lambda: assign(self.home.records, c["id"], team,
                                                                 now=self.home.clock.now(), actor_id=self._actor()),
                                    f"Case {c['id']} routed to {team}", c["id"])

    def action_note(self) -> None:
        if self.case is not None:
            self._note_flow(self.case)

    @work(group="anomaly-dialog", exclusive=True)
    async def _note_flow(self, c: dict[str, Any]) -> None:
        from rituals.anomaly_cases import add_note

        text = await self.app.push_screen_wait(TextPrompt(f"Note on {c['id']}", "what you found or did"))
        if text:
            await asyncio.to_thread(self._change, lambda: add_note(self.home.records, c["id"], text,
                                                                   now=self.home.clock.now(), actor_id=self._actor()),
                                    "Note added")

    def action_case_action(self) -> None:
        if self.case is None or not self.writable():
            return
        c = self.case
        self.run_worker(lambda: self._case_action(c), thread=True, group="anomaly-save")

    def _case_action(self, c: dict[str, Any]) -> None:
        from rituals.anomaly_cases import create_case_action

        try:
            action = create_case_action(self.home.records, c["id"], now=self.home.clock.now(), actor_id=self._actor(),
                                        due_date=self.home.clock.today() + timedelta(days=7),
                                        source_run_id=self.run.id)
        except ValueError as exc:
            self.notify_any_thread(str(exc), severity="error")
            return
        self.actions.append(action)
        self.app.call_from_thread(self.show_record)
        self.notify_any_thread(f"Action #{action.id} created for {c['id']}")
        self.app.call_from_thread(self.load_cases)

    def action_aws_feedback(self) -> None:
        from rituals.anomaly_cases import send_feedback

        if (c := self.case) is not None:
            self.run_worker(lambda: self._change(lambda: send_feedback(self.home, c["id"]), "Feedback sent to AWS"),
                            thread=True, group="anomaly-save")
