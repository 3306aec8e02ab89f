"""Anomaly events: the cases of one spike.

One spike shows in several series at once (its service, its account, its team, the total), so it makes a
case in each; the case ids stay per series, as detection defines them. Two cases are of one event when their
windows overlap and one explains most of the other: its series is a root cause carrying at least
EVENT_SHARE_PCT percent of the other's excess. Events are the transitive closure of that link.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import select

from rituals.anomaly_cases import _load, set_status
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


def acknowledge_event(records: Any, cid: str, *, now: datetime, actor_id: int | None = None) -> list[str]:
    """Acknowledge every new case of ``cid``'s event (``cid`` included); the ids acknowledged."""
    with records.session() as s:
        _load(s, cid, None)
        group = event_groups(list(s.exec(select(AnomalyCase))))[cid]
        todo = [c for c in group if s.get(AnomalyCase, c).status == "new"]
    if not todo:
        raise ValueError(f"no case of the event of {cid} is new")
    for c in todo:
        set_status(records, c, "acknowledged", now=now, actor_id=actor_id)
    return todo
