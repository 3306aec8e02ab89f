"""Anomaly triage: detect spend anomalies over the whole history, store new cases routed to their owning
team, and review the cases overlapping the window (``rituals.anomalies``, ``rituals.anomaly_cases``,
``rituals.anomaly_report``). Headless: ``finops-tui anomalies``; a run freezes exactly its ``--json``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from rituals.ritual import (
    Headline,
    JsonObject,
    Request,
    Ritual,
    StepDef,
    Unit,
    Window,
    number,
    plain_json,
    row_fields,
    trailing_window,
)

if TYPE_CHECKING:
    from storage.home import Home

WINDOW_DAYS = 30


@dataclass(frozen=True)
class TriageFindings:
    start: str
    end: str
    currency: str
    count: int  # cases overlapping the window (the detail of the events)
    events: int  # spikes: the cases of one spike in several series are one event
    untriaged: int  # cases
    untriaged_events: int
    impact: float  # the events' excess: the largest case of each event, never the sum of cases
    payload: JsonObject

    @classmethod
    def from_report(cls, report: object) -> TriageFindings:
        data = plain_json(report)

        def num(key: str) -> float:
            value = data.get(key)
            return float(value) if isinstance(value, int | float) else 0.0

        return cls(str(data["start"]), str(data["end"]), str(data["currency"]), int(num("count")),
                   int(num("events")), int(num("untriaged")), int(num("untriaged_events")), num("impact"), data)

    def as_json(self) -> JsonObject:
        return self.payload

    def headlines(self) -> list[Headline]:
        return headlines(self.payload)


def headlines(numbers: JsonObject) -> list[Headline]:
    """Events in the window (an event is the unit of impact), the events still untriaged, their excess
    spend, and the cases behind them as detail."""
    def count(key: str) -> int | None:
        value = number(numbers.get(key))
        return int(value) if value is not None else None

    return [Headline("events", "Anomaly events", count("events"), "count"),
            Headline("untriaged_events", "Untriaged events", count("untriaged_events"), "count", target=0),
            Headline("impact", "Impact", number(numbers.get("impact")), "money",
                     currency=str(numbers.get("currency") or "")),
            Headline("count", "Cases (detail)", count("count"), "count")]


def window(home: Home, period: str) -> Window:
    """The 30 days before the end of the week or today, whichever comes first."""
    return trailing_window(home, period, WINDOW_DAYS)


def compute(home: Home, request: Request) -> TriageFindings:
    from rituals.anomaly_report import triage

    return TriageFindings.from_report(triage(home, *request.window))


# The kind of every figure a triage run freezes that its minutes show.
_CASE: tuple[tuple[str, Unit], ...] = (
    ("id", "text"), ("start", "date"), ("end", "date"), ("days", "count"), ("dimension", "text"), ("value", "text"),
    ("impact", "money"), ("impact_pct", "pct"), ("status", "text"), ("owner_team", "text"))
FIELDS: dict[str, Unit] = {
    "start": "date", "end": "date", "events": "count", "untriaged_events": "count", "historical_events": "count",
    "impact": "money", "count": "count", "untriaged": "count", "by_status.*": "count",
    "thresholds.min_impact": "money", "thresholds.min_impact_pct": "pct", "thresholds.min_history_days": "count",
    **row_fields("by_event", *_CASE),
    **row_fields("anomalies", *_CASE),
    "anomalies[].expected_cost": "money", "anomalies[].actual_cost": "money", "anomalies[].category": "text",
    "anomalies[].assignee": "text", "anomalies[].ttd_hours": "hours", "anomalies[].ttr_hours": "hours",
    "anomalies[].root_causes[].contribution": "money", "anomalies[].root_causes[].share_pct": "pct",
    "anomalies[].notes[].at": "date",
    "kpis.ttd.median_hours": "hours", "kpis.ttd.p90_hours": "hours", "kpis.ttr.median_hours": "hours",
    "kpis.ttr.p90_hours": "hours", "kpis.false_positive_pct": "pct", "kpis.triaged": "count",
    "kpis.per_month[].month": "text", "kpis.per_month[].events": "count", "kpis.per_month[].cases": "count",
    "kpis.per_month[].impact": "money",
}

KIND = "anomaly_triage"
RITUAL = Ritual(
    kind=KIND, title="Anomaly triage", cadence="continuous, weekly at least",
    owner="FinOps lead triages; owning team fixes", output="a closed-loop record per anomaly", period_shape="W",
    reviews_ended_period=False, steps=(StepDef("queue", "Queue"),),
    command="finops-tui anomalies", window=window, compute=compute, headlines=headlines, fields=FIELDS,
)
