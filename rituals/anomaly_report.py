"""The anomaly triage's figures: events and their cases as JSON, the queue order, and the KPIs of the
quarterly review. An event (``rituals.anomaly_events``) is the unit of impact: every count leads with events,
cases are the detail.

``report`` is the headless ``finops-tui anomalies --json`` object, and so also the numbers frozen when a
triage run closes.
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any

from sqlmodel import Session, select

from rituals.anomaly_cases import (
    CLOSED_STATUSES,
    STATUS_ORDER,
    _percentile,
    band,
    tta_hours,
    ttd_hours,
    ttr_hours,
)
from rituals.anomaly_events import AnomalyEvent, event_groups, events_of
from rituals.wording import counted
from storage.records import AnomalyCase, Person, Team


def queue_key(case: AnomalyCase) -> tuple[int, bool, float, str]:
    """Status first (new before acknowledged before investigating before the closed ones), live before
    historical within a status, then impact, largest first."""
    return STATUS_ORDER.get(case.status, 99), case.historical, -case.impact, case.id


def case_dict(case: AnomalyCase, teams: dict[int, Team], people: dict[int, Person],
              events: dict[str, list[str]] | None = None) -> dict[str, Any]:
    """One case as JSON; ``events`` (from ``event_groups``) adds its event's lead case and related cases."""
    group = (events or {}).get(case.id, [case.id])
    team = teams.get(case.owner_team_id) if case.owner_team_id is not None else None
    who = people.get(case.assignee_id) if case.assignee_id is not None else None
    ttd = None if case.historical else ttd_hours(case.start, case.acknowledged_at)
    ttr = None if case.historical else ttr_hours(case.acknowledged_at, case.resolved_at)
    tta = None if case.historical else tta_hours(case.notified_at, case.acknowledged_at)
    return {
        "id": case.id, "source": case.source, "aws_anomaly_id": case.aws_anomaly_id,
        "start": case.start, "end": case.end, "days": (case.end - case.start).days,
        "dimension": case.dimension, "value": case.value, "label": case.label,
        "expected_cost": round(case.expected_cost, 2), "actual_cost": round(case.actual_cost, 2),
        "impact": round(case.impact, 2),
        "impact_pct": round(case.impact / case.expected_cost * 100.0, 1) if case.expected_cost > 0 else None,
        "currency": case.currency, "status": case.status, "category": case.category,
        "owner_team": team.name if team else None, "assignee": who.handle if who else None,
        "root_causes": case.root_causes, "historical": case.historical,
        "first_seen": case.first_seen, "notified_at": case.notified_at, "acknowledged_at": case.acknowledged_at,
        "resolved_at": case.resolved_at,
        "ttd_hours": round(ttd, 2) if ttd is not None else None, "tta_hours": round(tta, 2) if tta is not None else None,
        "ttr_hours": round(ttr, 2) if ttr is not None else None,
        "notes": case.notes, "history": case.history, "aws_feedback": case.aws_feedback, "version": case.version,
        "event": group[0], "related": [c for c in group if c != case.id],
    }


def all_cases(session: Session) -> list[AnomalyCase]:
    return sorted(session.exec(select(AnomalyCase)), key=queue_key)


def in_window(cases: list[AnomalyCase], start: date, end: date) -> list[AnomalyCase]:
    """Cases whose anomaly overlaps ``start <= day < end``."""
    return [c for c in cases if c.start < end and start < c.end]


def hours_stat(values: list[float]) -> dict[str, Any]:
    median, p90 = _percentile(values, 50), _percentile(values, 90)
    return {"n": len(values), "median_hours": round(median, 2) if median is not None else None,
            "p90_hours": round(p90, 2) if p90 is not None else None, "median_band": band(median),
            "p90_band": band(p90)}


def kpis(cases: list[AnomalyCase], account_teams: dict[str, str] | None = None,
         groups: dict[str, list[str]] | None = None) -> dict[str, Any]:
    """Per month (by start): events, their impact (the largest case of each) and cases; TTD, TTA and TTR over
    events (median, p90, bands; historical events left out) and the false-positive share of the triaged
    cases. ``groups``: ``event_groups`` over every stored case (default: ``cases`` among themselves)."""
    events = events_of(cases, account_teams, groups)
    months: dict[str, dict[str, Any]] = {}
    for e in sorted(events, key=lambda e: (e.start, e.id)):
        key = f"{e.start:%Y-%m}"
        m = months.setdefault(key, {"month": key, "events": 0, "impact": 0.0, "cases": 0})
        m["events"] += 1
        m["cases"] += len(e.cases)
        m["impact"] = round(m["impact"] + e.impact, 2)
    ttd = [h for e in events if (h := e.ttd_hours) is not None]
    tta = [h for e in events if (h := e.tta_hours) is not None]
    ttr = [h for e in events if (h := e.ttr_hours) is not None]
    triaged = [c for c in cases if c.status != "new"]
    fp = sum(c.status == "false_positive" for c in triaged)
    return {
        "per_month": list(months.values()),
        "ttd": hours_stat(ttd),
        "tta": hours_stat(tta),
        "ttr": hours_stat(ttr),
        "false_positive_pct": round(fp / len(triaged) * 100.0, 1) if triaged else None,
        "triaged": len(triaged),
        "closed": sum(c.status in CLOSED_STATUSES for c in cases),
        "historical": sum(c.historical for c in cases),
        "events": len(events),
        "live_events": sum(not e.historical for e in events),
    }


def untriaged(cases: list[AnomalyCase]) -> list[AnomalyCase]:
    """New cases that are not historical: what ``--check`` fails on."""
    return [c for c in cases if c.status == "new" and not c.historical]


def summary(shown: list[AnomalyCase], events: list[AnomalyEvent]) -> dict[str, Any]:
    """The counts every surface leads with, events first and cases as detail: events, their impact (the
    largest case of each, never the sum of cases), untriaged and historical events, and the same of the
    cases. A historical case is new but never untriaged: no one could have seen it in time."""
    statuses = Counter(c.status for c in shown)
    return {
        "events": len(events),
        "untriaged_events": sum(e.untriaged for e in events),
        "historical_events": sum(e.historical for e in events),
        "impact": round(sum(e.impact for e in events), 2),
        "count": len(shown),
        "untriaged": len(untriaged(shown)),
        "historical": sum(c.historical for c in shown),
        "by_status": {s: statuses.get(s, 0) for s in STATUS_ORDER},
    }


def summary_text(numbers: dict[str, Any], new_cases: int = 0) -> str:
    """``summary`` in words, as the CLI and the triage header say it: "2 events (6 cases), 1 untriaged,
    1 historical; 4,257 USD impact"."""
    parts = [f"{counted(numbers['events'], 'event')} ({counted(numbers['count'], 'case')})",
             f"{numbers['untriaged_events']:,} untriaged"]
    if numbers.get("historical_events"):
        parts.append(f"{numbers['historical_events']:,} historical (ended before the data was loaded)")
    text = ", ".join(parts)
    impact = numbers.get("impact")
    if isinstance(impact, int | float):
        text += f"; impact {impact:,.0f} {numbers.get('currency') or ''}".rstrip()
    if new_cases:
        text += f"; {counted(new_cases, 'new case')} stored"
    return text


def report(session: Session, start: date, end: date, currency: str, thresholds: Any = None,
           new_ids: list[str] | None = None) -> dict[str, Any]:
    from rituals.people import account_teams

    cases = all_cases(session)
    shown = in_window(cases, start, end)
    teams = {t.id: t for t in session.exec(select(Team)) if t.id is not None}
    people = {p.id: p for p in session.exec(select(Person)) if p.id is not None}
    groups = event_groups(cases)
    teams_of = account_teams(session)
    events = events_of(shown, teams_of, groups)
    return {
        "start": start, "end": end, "currency": currency,
        "thresholds": None if thresholds is None else {
            "min_impact": thresholds.min_impact, "min_impact_pct": thresholds.min_impact_pct,
            "min_history_days": thresholds.min_history_days},
        **summary(shown, events),
        "new_cases": list(new_ids or []),
        "by_event": [e.as_dict() for e in events],
        "anomalies": [case_dict(c, teams, people, groups) for c in shown],
        "kpis": kpis(cases, teams_of, groups),
    }


DEFAULT_WINDOW_DAYS = 30


def default_window(today: date) -> tuple[date, date]:
    """The 30 days before today (today excluded)."""
    from datetime import timedelta

    return today - timedelta(days=DEFAULT_WINDOW_DAYS), today


def triage(home: Any, start: date | None = None, end: date | None = None) -> dict[str, Any]:
    """Detect over the full history, store new cases, and report the cases overlapping the window: the
    headless ``finops-tui anomalies --json`` object and a triage run's frozen numbers."""
    from rituals.anomalies import Thresholds
    from rituals.anomaly_cases import sync_cases

    if start is None or end is None:
        start, end = default_window(home.clock.today())
    th = Thresholds.from_config(home.config)
    synced = sync_cases(home, th)
    with home.records.session() as s:
        return report(s, start, end, home.config.currency, th, synced.new)
