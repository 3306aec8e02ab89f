"""Anomaly events: the cases of one spike.

One spike shows in several series at once (its service, its account, its team, the total), so it makes a
case in each; the case ids stay per series, as detection defines them. Two cases are of one event when their
windows overlap and one explains most of the other: its series is a root cause carrying at least
EVENT_SHARE_PCT percent of the other's excess. Events are the transitive closure of that link.

An event is the unit of impact (``AnomalyEvent``): its impact is the largest excess among its cases, never
their sum, and every surface counts events, with cases as detail.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlmodel import select

from rituals.anomaly_cases import (
    CLOSED_STATUSES,
    STATUS_ORDER,
    _load,
    set_status,
    tta_hours,
    ttd_hours,
    ttr_hours,
)
from storage.records import AnomalyCase

EVENT_SHARE_PCT = 50.0


def _explains(cause_of: Any, other: Any) -> bool:
    """True when ``other``'s series is a root cause carrying most of ``cause_of``'s excess."""
    return any(r.get("dimension") == other.dimension and str(r.get("value")) == str(other.value)
               and (r.get("share_pct") or 0.0) >= EVENT_SHARE_PCT for r in cause_of.root_causes or [])


def event_groups(cases: list[Any]) -> dict[str, list[str]]:
    """Case id -> the ids of its event's cases, the event's lead first (the largest impact, then id).
    ``cases`` need id, dimension, value, start, end (exclusive), impact and root_causes."""
    parent = {c.id: c.id for c in cases}

    def find(cid: str) -> str:
        while parent[cid] != cid:
            parent[cid] = parent[parent[cid]]
            cid = parent[cid]
        return cid

    ordered = sorted(cases, key=lambda c: (c.start, c.id))
    for i, a in enumerate(ordered):
        for b in ordered[i + 1:]:
            if b.start >= a.end:
                break
            if (a.start < b.end and b.start < a.end) and (_explains(a, b) or _explains(b, a)):
                parent[find(a.id)] = find(b.id)
    members: dict[str, list[Any]] = {}
    for c in cases:
        members.setdefault(find(c.id), []).append(c)
    out: dict[str, list[str]] = {}
    for group in members.values():
        ids = [c.id for c in sorted(group, key=lambda c: (-c.impact, c.id))]
        for c in group:
            out[c.id] = ids
    return out


def event_cases(records: Any, cid: str) -> list[str]:
    """The ids of ``cid``'s event's cases, its lead first (an unknown id is a CaseNotFound)."""
    with records.session() as s:
        _load(s, cid, None)
        return event_groups(list(s.exec(select(AnomalyCase))))[cid]


def acknowledge_event(records: Any, cid: str, *, now: datetime, actor_id: int | None = None) -> list[str]:
    """Acknowledge every new case of ``cid``'s event (``cid`` included); the ids acknowledged."""
    group = event_cases(records, cid)
    with records.session() as s:
        todo = [c for c in group if s.get(AnomalyCase, c).status == "new"]
    if not todo:
        raise ValueError(f"no case of the event of {cid} is new")
    for c in todo:
        set_status(records, c, "acknowledged", now=now, actor_id=actor_id)
    return todo


def set_event_status(records: Any, cid: str, status: str, *, now: datetime, actor_id: int | None = None,
                     category: str | None = None, note: str | None = None) -> list[str]:
    """Move every case of ``cid``'s event to ``status`` (the ones already there keep it); the ids moved."""
    group = event_cases(records, cid)
    with records.session() as s:
        todo = [c for c in group if s.get(AnomalyCase, c).status != status or category is not None]
    for c in todo:
        set_status(records, c, status, now=now, actor_id=actor_id, category=category, note=note)
    return todo


def assign_event(records: Any, cid: str, team: str, *, now: datetime, actor_id: int | None = None) -> list[str]:
    """Route every case of ``cid``'s event to ``team``; the ids routed."""
    from rituals.anomaly_cases import assign

    group = event_cases(records, cid)
    for c in group:
        assign(records, c, team, now=now, actor_id=actor_id)
    return group


def note_event(records: Any, cid: str, text: str, *, now: datetime, actor_id: int | None = None) -> list[str]:
    """Add the note to every case of ``cid``'s event; the ids noted."""
    from rituals.anomaly_cases import add_note

    group = event_cases(records, cid)
    for c in group:
        add_note(records, c, text, now=now, actor_id=actor_id)
    return group


# -- events as the unit of impact ------------------------------------------------------------------------

def _account_of(case: Any) -> str | None:
    """The account a case is about: its own value for an account series, else its top account root cause."""
    if case.dimension == "account":
        return str(case.value)
    top = next((r for r in case.root_causes or [] if r.get("dimension") == "account"), None)
    return str(top["value"]) if top and top.get("value") is not None else None


@dataclass(frozen=True)
class AnomalyEvent:
    """One spike and the cases it made (its lead first: the case with the largest impact).

    Service, account and team series do not nest, so each case sees the same spike: the event's impact is
    the largest excess among its cases, never their sum. Its triage state reads its cases: it is
    acknowledged when its first case is, closed when its first case is given a closing disposition, and
    untriaged while every case is still new (historical events, whose cases all ended before the data was
    first loaded, are never untriaged and stay out of TTD/TTR)."""

    id: str  # the lead case's id (the ``event`` of every case JSON)
    cases: tuple[Any, ...]
    owner_team: str | None  # for routing: the team-dimension case's team, else the lead account's team

    @property
    def lead(self) -> Any:
        return self.cases[0]

    @property
    def start(self) -> date:
        return min(c.start for c in self.cases)

    @property
    def end(self) -> date:
        return max(c.end for c in self.cases)

    @property
    def impact(self) -> float:
        return max(float(c.impact) for c in self.cases)

    @property
    def historical(self) -> bool:
        return all(c.historical for c in self.cases)

    @property
    def live_cases(self) -> list[Any]:
        return [c for c in self.cases if not c.historical]

    @property
    def status(self) -> str:
        """The furthest status any of its cases reached (new < acknowledged < investigating < closed)."""
        return max((c.status for c in self.cases), key=lambda s: STATUS_ORDER.get(s, -1))

    @property
    def untriaged(self) -> bool:
        return not self.historical and all(c.status == "new" for c in self.cases)

    @property
    def acknowledged_at(self) -> datetime | None:
        stamps = [c.acknowledged_at for c in self.live_cases if c.acknowledged_at is not None]
        return min(stamps) if stamps else None

    @property
    def resolved_at(self) -> datetime | None:
        stamps = [c.resolved_at for c in self.live_cases if c.resolved_at is not None and c.status in CLOSED_STATUSES]
        return min(stamps) if stamps else None

    @property
    def notified_at(self) -> datetime | None:
        """When a notification naming the event first reached a channel."""
        stamps = [c.notified_at for c in self.cases if getattr(c, "notified_at", None) is not None]
        return min(stamps) if stamps else None

    @property
    def ttd_hours(self) -> float | None:
        return None if self.historical else ttd_hours(self.start, self.acknowledged_at)

    @property
    def tta_hours(self) -> float | None:
        return None if self.historical else tta_hours(self.notified_at, self.acknowledged_at)

    @property
    def ttr_hours(self) -> float | None:
        return None if self.historical else ttr_hours(self.acknowledged_at, self.resolved_at)

    def as_dict(self) -> dict[str, Any]:
        lead = self.lead
        ttd, tta, ttr = self.ttd_hours, self.tta_hours, self.ttr_hours
        expected = float(lead.expected_cost)
        return {"id": self.id, "start": self.start, "end": self.end, "days": (self.end - self.start).days,
                "dimension": lead.dimension, "value": lead.value, "label": lead.label,
                "impact": round(self.impact, 2),
                "impact_pct": round(lead.impact / expected * 100.0, 1) if expected > 0 else None,
                "currency": lead.currency, "status": self.status, "untriaged": self.untriaged,
                "historical": self.historical, "owner_team": self.owner_team,
                "cases": [c.id for c in self.cases], "dimensions": sorted({c.dimension for c in self.cases}),
                "notified_at": self.notified_at,
                "ttd_hours": round(ttd, 2) if ttd is not None else None,
                "tta_hours": round(tta, 2) if tta is not None else None,
                "ttr_hours": round(ttr, 2) if ttr is not None else None}


def events_of(cases: list[Any], account_teams: dict[str, str] | None = None,
              groups: dict[str, list[str]] | None = None) -> list[AnomalyEvent]:
    """The events of ``cases``, untriaged first, then largest impact. ``groups`` (``event_groups`` over
    every stored case) names each case's event by its lead; without it the cases are grouped among
    themselves. ``account_teams`` (account id -> team) routes an event with no team-dimension case."""
    groups = groups if groups is not None else event_groups(cases)
    teams_of = account_teams or {}
    members: dict[str, list[Any]] = {}
    for c in cases:
        members.setdefault(groups.get(c.id, [c.id])[0], []).append(c)
    out = []
    for lead_id, group in members.items():
        group.sort(key=lambda c: (c.id != lead_id, -c.impact, c.id))
        team_case = next((c for c in group if c.dimension == "team"), None)
        account = _account_of(group[0])
        owner = str(team_case.value) if team_case is not None else teams_of.get(account) if account else None
        out.append(AnomalyEvent(lead_id, tuple(group), owner))
    return sorted(out, key=lambda e: (not e.untriaged, e.historical, -e.impact, e.id))
