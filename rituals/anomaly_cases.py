"""Anomaly cases: the closed-loop record per anomaly, its routing, its triage and its KPIs.

``sync_cases`` detects over the full history (``rituals.anomalies``), reads the AWS Cost Anomaly
Detection results the sync stored (table ``aws_anomalies``) and stores one case per anomaly: an AWS
anomaly whose series and window overlap a local one is attached to the local case (its id kept for
feedback) instead of becoming a second case. A case is routed to the team of its top root cause and
assigned to the person the RACI makes responsible for "Anomaly detection and response" in that team.

Time to detect (TTD) is ``acknowledged_at`` minus the anomaly's start (00:00 UTC of its first billing day,
billing days being UTC days); time to acknowledge (TTA) is ``acknowledged_at`` minus ``notified_at`` (when
``finops-tui notify`` delivered it to a channel); time to resolve (TTR) is ``resolved_at`` minus
``acknowledged_at``. Cases
whose anomaly ended more than ``HISTORICAL_GRACE_DAYS`` before the data was first loaded are historical:
listed, left out of TTD/TTR (no one could have seen them in time).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlmodel import Session, select

from rituals.anomalies import Detected, Thresholds, attach_root_causes, detect, load_series
from storage import cost_queries
from storage.costs import CostStore
from storage.records import (
    ANOMALY_CATEGORIES,
    ANOMALY_STATUSES,
    OPEN_ANOMALY_STATUSES,
    AnomalyCase,
    Person,
    Team,
)

CLOSED_STATUSES = ("resolved", "false_positive", "planned")
HISTORICAL_GRACE_DAYS = 3  # billing data lags 24-48 h: an anomaly ending just before the first load was live
STATUS_ORDER = {s: i for i, s in enumerate(ANOMALY_STATUSES)}
# What AWS Cost Anomaly Detection accepts as feedback, per disposition.
AWS_FEEDBACK = {"acknowledged": "YES", "investigating": "YES", "resolved": "YES", "false_positive": "NO",
                "planned": "PLANNED_ACTIVITY"}


class CaseNotFound(ValueError):
    """No case with that id (bad input)."""


class StaleCase(RuntimeError):
    """The case changed since the caller read it."""


# -- time to detect / resolve ---------------------------------------------------------------------------

def anomaly_start_at(start: date) -> datetime:
    return datetime.combine(start, time(0), UTC)


def _aware(value: datetime, what: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware")
    return value.astimezone(UTC)


def ttd_hours(start: date, acknowledged_at: datetime | None) -> float | None:
    if acknowledged_at is None:
        return None
    return (_aware(acknowledged_at, "acknowledged_at") - anomaly_start_at(start)).total_seconds() / 3600.0


def ttr_hours(acknowledged_at: datetime | None, resolved_at: datetime | None) -> float | None:
    if acknowledged_at is None or resolved_at is None:
        return None
    return (_aware(resolved_at, "resolved_at") - _aware(acknowledged_at, "acknowledged_at")).total_seconds() / 3600.0


def tta_hours(notified_at: datetime | None, acknowledged_at: datetime | None) -> float | None:
    """Time to acknowledge: from the first delivered notification to the acknowledgement. None until both
    exist, and None when the case was acknowledged before any notification reached a channel (nothing
    was asked of anyone)."""
    if notified_at is None or acknowledged_at is None:
        return None
    hours = (_aware(acknowledged_at, "acknowledged_at") - _aware(notified_at, "notified_at")).total_seconds() / 3600.0
    return hours if hours >= 0 else None


def band(hours: float | None) -> str | None:
    """FINOPS-MODEL.md's bands for TTD/TTR: run about a day or less, walk days (<= 7 d), crawl beyond."""
    if hours is None:
        return None
    return "run" if hours <= 24.0 else "walk" if hours <= 7 * 24.0 else "crawl"


def _percentile(values: list[float], q: float) -> float | None:
    import numpy as np

    return float(np.percentile(values, q)) if values else None


def is_historical(end: date, first_load: date | None) -> bool:
    return first_load is not None and end + timedelta(days=HISTORICAL_GRACE_DAYS) < first_load


def first_load_day(store: CostStore, today: date) -> date | None:
    """The day cost data was first loaded into the store (never after today's clock)."""
    at = cost_queries.first_import_at(store)
    return min(at.date(), today) if at is not None else None


# -- AWS Cost Anomaly Detection results ------------------------------------------------------------------

def aws_anomalies(store: CostStore) -> list[tuple[str, Detected]]:
    """(AWS anomaly id, anomaly) from the sync's ``aws_anomalies`` table; none when it does not exist."""
    out = []
    for aid, start, end, value, expected, actual, impact, peak, causes in cost_queries.aws_anomaly_rows(store):
        value = (value or "").strip() or "(unknown)"
        dimension = "account" if value.isdigit() and len(value) == 12 else "service"
        last = end or start  # AWS's end date is the anomaly's last day; ongoing ones have none yet
        actual = float(actual) if actual is not None else float(impact or 0.0) + float(expected or 0.0)
        expected = float(expected) if expected is not None else actual - float(impact or 0.0)
        found = Detected(dimension, value, start, last + timedelta(days=1), round(expected, 2), round(actual, 2),
                         float(peak or 0.0), ongoing=end is None)
        found.root_causes = _aws_root_causes(causes)
        out.append((aid, found))
    return out


def _aws_root_causes(text: str | None) -> list[dict[str, Any]]:
    try:
        causes = json.loads(text or "[]")
    except json.JSONDecodeError:
        return []
    out = []
    for cause in causes if isinstance(causes, list) else []:
        contribution = (cause.get("Impact") or {}).get("Contribution")
        for key, dim in (("LinkedAccount", "account"), ("Service", "service"), ("Region", "region"),
                         ("UsageType", "usage_type")):
            if cause.get(key):
                out.append({"dimension": dim, "value": str(cause[key]),
                            "contribution": float(contribution) if contribution is not None else None,
                            "share_pct": None, "team": None})
    return sorted(out, key=lambda r: -(r["contribution"] or 0.0))


def same_series(a: Detected, b: Detected) -> bool:
    """Same dimension and value; Cost Explorer's service names may carry a suffix (" - Compute")."""
    if a.dimension != b.dimension:
        return False
    x, y = a.value.lower(), b.value.lower()
    return x == y or x.startswith(y) or y.startswith(x)


def overlaps(a: Detected, b: Detected) -> bool:
    return a.start < b.end and b.start < a.end


# -- storing cases ---------------------------------------------------------------------------------------

@dataclass
class SyncResult:
    new: list[str]
    updated: int
    aws_attached: int
    detected: int


def _entry(now: datetime, by: str | None, field: str, old: Any = None, new: Any = None,
           note: str | None = None) -> dict[str, Any]:
    return {"at": now.isoformat(timespec="seconds"), "by": by, "field": field, "old": old, "new": new, "note": note}


def _owner(session: Session, team: Team | None) -> Person | None:
    from rituals.raci import ANOMALIES, RaciError, owner_for

    try:
        return owner_for(session, ANOMALIES, team)
    except RaciError:
        return None


def account_names(store: CostStore) -> dict[str, str]:
    return cost_queries.account_names(store)


def sync_cases(home: Any, th: Thresholds | None = None) -> SyncResult:
    """Detect over the whole history and store new cases (existing ones get their window, figures and
    ``last_seen`` refreshed; their triage is never touched). Returns the ids of the new cases."""
    from rituals.allocation import account_teams_from_records
    from rituals.anomalies import routed_team
    from rituals.raci import ensure_raci

    th = th or Thresholds.from_config(home.config)
    ensure_raci(home.records)
    teams_of = account_teams_from_records(home.records)
    found = detect(load_series(home.costs, teams_of, arrays=True), th)
    aws = aws_anomalies(home.costs)
    with home.records.session() as s:
        known = {c.id: (c.end, c.root_causes) for c in s.exec(select(AnomalyCase))}
    refresh = [a for a in found if a.case_id not in known or known[a.case_id][0] != a.end]
    if refresh:
        attach_root_causes(home.costs, teams_of, refresh)
    fresh = {a.case_id for a in refresh}
    for a in found:
        if a.case_id not in fresh:
            a.root_causes = known[a.case_id][1]
    now = home.clock.now()
    # The demo is generated "as of" a day: its data counts as loaded then, whatever the wall clock says.
    first_load = (home.demo_as_of() if home.is_demo else None) or first_load_day(home.costs, home.clock.today())
    names = account_names(home.costs)
    result = SyncResult([], 0, 0, len(found))
    with home.records.write() as s:
        teams = {t.name: t for t in s.exec(select(Team))}
        aws_of: dict[str, str] = {}
        items: list[tuple[Detected, str, str | None]] = []
        for aid, a in aws:
            twin = next((f for f in found if same_series(f, a) and overlaps(f, a)), None)
            if twin is not None:
                aws_of.setdefault(twin.case_id, aid)
                continue
            stored = s.exec(select(AnomalyCase).where(AnomalyCase.aws_anomaly_id == aid)).first()
            if stored is None or stored.source == "aws":
                items.append((a, "aws", aid))
        items = [(a, "local", aws_of.get(a.case_id)) for a in found] + items
        for a, source, aid in items:
            case = s.get(AnomalyCase, a.case_id)
            if case is None:
                team = teams.get(routed_team(a.root_causes, a.dimension, a.value, teams_of) or "")
                owner = _owner(s, team)
                case = AnomalyCase(
                    id=a.case_id, source=source, aws_anomaly_id=aid, dimension=a.dimension, value=a.value,
                    label=names.get(a.value) if a.dimension == "account" else None, start=a.start, end=a.end,
                    currency=home.config.currency, status="new", category="unknown",
                    owner_team_id=team.id if team else None, assignee_id=owner.id if owner else None,
                    historical=is_historical(a.end, first_load), first_seen=now, last_seen=now,
                    notes=[], history=[_entry(now, None, "detected", None, "new",
                                              f"routed to {team.name if team else 'no team'}")])
                result.new.append(case.id)
                result.aws_attached += int(source == "local" and aid is not None)
            else:
                result.updated += 1
                if aid and not case.aws_anomaly_id:
                    case.aws_anomaly_id = aid
                    result.aws_attached += 1
                case.last_seen = now
                case.end = a.end
            case.expected_cost, case.actual_cost = a.expected_cost, a.actual_cost
            case.impact = round(a.impact, 2)
            case.root_causes = a.root_causes
            s.add(case)
    return result


# -- triage ----------------------------------------------------------------------------------------------

def _load(session: Session, cid: str, if_version: int | None) -> AnomalyCase:
    case = session.get(AnomalyCase, cid, populate_existing=True)
    if case is None:
        raise CaseNotFound(f"no anomaly case {cid!r}")
    if if_version is not None and case.version != if_version:
        raise StaleCase(f"case {cid} changed since you read it (version {case.version}, you had {if_version}); "
                        "reload it")
    return case


def _handle(session: Session, person_id: int | None) -> str | None:
    person = session.get(Person, person_id) if person_id is not None else None
    return person.handle if person else None


def _touch(case: AnomalyCase, entry: dict[str, Any]) -> None:
    case.history = [*case.history, entry]
    case.version += 1


def set_status(records: Any, cid: str, status: str, *, now: datetime, actor_id: int | None = None,
               note: str | None = None, category: str | None = None, if_version: int | None = None) -> AnomalyCase:
    """Move a case to ``status``. Leaving "new" stamps ``acknowledged_at`` (once); a closing status
    (resolved, false_positive, planned) stamps ``resolved_at``; reopening clears it."""
    if status not in ANOMALY_STATUSES:
        raise ValueError(f"status must be one of {', '.join(ANOMALY_STATUSES)}, got {status!r}")
    if category is not None and category not in ANOMALY_CATEGORIES:
        raise ValueError(f"category must be one of {', '.join(ANOMALY_CATEGORIES)}, got {category!r}")
    now = _aware(now, "now")
    with records.write() as s:
        case = _load(s, cid, if_version)
        if status == "new" and case.status != "new":
            raise ValueError(f"case {cid} has been triaged; it cannot go back to new")
        by = _handle(s, actor_id)
        if status != case.status:
            if case.acknowledged_at is None and status != "new":
                case.acknowledged_at = now
            if status in CLOSED_STATUSES and case.resolved_at is None:
                case.resolved_at = now
            if status in OPEN_ANOMALY_STATUSES:
                case.resolved_at = None
            _touch(case, _entry(now, by, "status", case.status, status, note))
            case.status = status
        if category is not None and category != case.category:
            _touch(case, _entry(now, by, "category", case.category, category))
            case.category = category
        if note and note.strip():
            case.notes = [*case.notes, {"at": now.isoformat(timespec="seconds"), "by": by, "text": note.strip()}]
        s.add(case)
        s.flush()
        return case


def acknowledge(records: Any, cid: str, *, now: datetime, actor_id: int | None = None) -> AnomalyCase:
    with records.session() as s:
        current = _load(s, cid, None).status
    if current != "new":
        raise ValueError(f"case {cid} is already {current}")
    return set_status(records, cid, "acknowledged", now=now, actor_id=actor_id)


def add_note(records: Any, cid: str, text: str, *, now: datetime, actor_id: int | None = None) -> AnomalyCase:
    if not text.strip():
        raise ValueError("a note needs some text")
    with records.write() as s:
        case = _load(s, cid, None)
        by = _handle(s, actor_id)
        case.notes = [*case.notes, {"at": now.isoformat(timespec="seconds"), "by": by, "text": text.strip()}]
        _touch(case, _entry(now, by, "note", note=text.strip()))
        s.add(case)
        s.flush()
        return case


def assign(records: Any, cid: str, team_name: str, *, now: datetime, actor_id: int | None = None) -> AnomalyCase:
    """Route the case to another team; the assignee becomes that team's responsible person."""
    from rituals.people import get_team

    with records.write() as s:
        case = _load(s, cid, None)
        team = get_team(s, team_name)
        old = s.get(Team, case.owner_team_id) if case.owner_team_id else None
        owner = _owner(s, team)
        case.owner_team_id, case.assignee_id = team.id, owner.id if owner else None
        _touch(case, _entry(now, _handle(s, actor_id), "owner_team", old.name if old else None, team.name))
        s.add(case)
        s.flush()
        return case


def create_case_action(records: Any, cid: str, *, now: datetime, actor_id: int | None = None,
                       title: str | None = None, due_date: date | None = None,
                       source_run_id: int | None = None) -> Any:
    """An "anomaly_fix" action linked to the case, owned by the RACI's R for anomaly response in the
    case's team (the team's owner), or the FinOps lead when the case has no team."""
    from rituals.actions import create_action

    with records.write() as s:
        case = _load(s, cid, None)
        team = s.get(Team, case.owner_team_id) if case.owner_team_id else None
        owner = _owner(s, team)
        if owner is None:
            raise ValueError(f"no one to own the action: team {team.name if team else '-'} has no owner and no "
                             "FinOps lead is named")
        action = create_action(
            s, title=title or f"Fix the {case.dimension} anomaly: {case.label or case.value} from {case.start}",
            owner_id=owner.id, now=now, actor_id=actor_id, kind="anomaly_fix", team_id=team.id if team else None,
            due_date=due_date, source_run_id=source_run_id, entity_kind="anomaly_case", entity_key=case.id,
            detail=f"impact {case.impact:,.0f} {case.currency}")
        _touch(case, _entry(now, _handle(s, actor_id), "action", None, str(action.id), action.title))
        s.add(case)
        s.flush()
        return action


def send_feedback(home: Any, cid: str, *, clients: Any = None) -> str:
    """Send the case's disposition to AWS Cost Anomaly Detection (YES, NO or PLANNED_ACTIVITY) and record it."""
    from storage.sources.aws import send_anomaly_feedback

    with home.records.session() as s:
        case = _load(s, cid, None)
    if not case.aws_anomaly_id:
        raise ValueError(f"case {cid} is not an AWS anomaly: there is nothing to send feedback to")
    feedback = AWS_FEEDBACK.get(case.status)
    if feedback is None:
        raise ValueError(f"case {cid} is still new: acknowledge it or give it a disposition first")
    send_anomaly_feedback(case.aws_anomaly_id, feedback, store=home.costs, clients=clients,
                          now=home.clock.now)
    now = home.clock.now()
    with home.records.write() as s:
        case = _load(s, cid, None)
        _touch(case, _entry(now, None, "aws_feedback", case.aws_feedback, feedback))
        case.aws_feedback = feedback
        s.add(case)
    return feedback
