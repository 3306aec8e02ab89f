"""The recommendations inbox: one list of what to change about which resource, whoever found it.

- **De-duplication**: one row per action type and resource (``recommendation_key``), whatever the source;
  its sources are listed, each with its own estimate in the provenance. The figures shown (saving, effort,
  restart) are those of the most authoritative source present (``SOURCE_ORDER``: AWS's own first).
- **A refresh** hands the inbox one source's complete list: new ones open; known ones take the new figures;
  those the source no longer finds lose it, and a row no source finds any longer is ``gone``.
- **Routing**: the team from the resource's own allocation tag, else the account's owning team (the same
  rules as allocation); the owner from the resource's ``owner`` tag when it names a person, else the team's
  owner.
- **Decisions**: accept (an action of kind ``rightsizing`` or ``cleanup`` with the resource, the expected
  monthly saving and a due date), dismiss with a reason (kept; shown again only when a refresh moves the
  saving by more than ``REOPEN_MARGIN_PCT`` percent of the saving at dismissal), snooze until a date.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlmodel import Session, col, select

from rituals.recommendations import ACTION_KIND, ACTION_TYPES, Candidate
from storage.records import Person, Recommendation, Team, TeamAccount

if TYPE_CHECKING:
    from storage.costs import CostStore
    from storage.db import Records

SOURCE_ORDER = ("cost_optimization_hub", "data_exports", "compute_optimizer", "rules")
REOPEN_MARGIN_PCT = 20.0
SHOWN = ("open", "snoozed")  # snoozed ones show again once their date has come


class InboxError(ValueError):
    """A decision that cannot be taken (unknown id, wrong state, bad date): exit 2."""


# -- routing ------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Route:
    team_id: int | None
    owner_id: int | None
    how: str | None  # tag | rule | None


def routes(session: Session, store: CostStore | None, candidates: list[Candidate], allocation_key: str,
           owner_key: str | None) -> dict[str, Route]:
    """Per candidate key: its team (by the resource's tag, else its account's team) and owner."""
    from storage import cost_queries

    teams = {t.name: t for t in session.exec(select(Team)).all()}
    people = {p.handle: p for p in session.exec(select(Person)).all()}
    by_account = {a.account_id: a.team_id for a in session.exec(select(TeamAccount)).all()}
    keys = [allocation_key] + ([owner_key] if owner_key and owner_key != allocation_key else [])
    tags = (cost_queries.resource_tag_values(store, [c.resource_id for c in candidates], keys)
            if store is not None and store.exists() else {})
    out = {}
    for c in candidates:
        found = tags.get(c.resource_id, {})
        team, how = teams.get(found.get(allocation_key, "")), "tag"
        if team is None and c.account in by_account:
            team, how = session.get(Team, by_account[c.account]), "rule"
        owner = people.get((found.get(owner_key or "", "") or "").strip().lower())
        owner_id = owner.id if owner is not None else (team.owner_id if team is not None else None)
        out[c.key] = Route(team.id if team else None, owner_id, how if team else None)
    return out


# -- refresh ------------------------------------------------------------------------------------------------

def _best(provenance: list[dict[str, Any]]) -> dict[str, Any]:
    return min(provenance, key=lambda p: SOURCE_ORDER.index(p["source"]) if p["source"] in SOURCE_ORDER else 99)


def _apply(rec: Recommendation) -> None:
    best = _best(rec.provenance)
    rec.sources = sorted({p["source"] for p in rec.provenance},
                         key=lambda s: SOURCE_ORDER.index(s) if s in SOURCE_ORDER else 99)
    rec.estimated_monthly_savings = float(best["estimated_monthly_savings"])
    for field in ("effort", "restart_needed", "title", "currency", "resource_type", "region", "account"):
        if best.get(field) is not None:
            setattr(rec, field, best[field])


def moved_enough(dismissed: float | None, now: float, margin_pct: float = REOPEN_MARGIN_PCT) -> bool:
    """Whether a dismissed recommendation's saving moved by more than the margin since its dismissal."""
    if dismissed is None:
        return True
    if dismissed == 0:
        return now != 0
    return abs(now - dismissed) / abs(dismissed) * 100.0 > margin_pct


@dataclass(frozen=True)
class Refreshed:
    source: str
    found: int
    new: int
    reopened: int
    gone: int
    purchases_skipped: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"source": self.source, "found": self.found, "new": self.new, "reopened": self.reopened,
                "gone": self.gone, "purchases_skipped": self.purchases_skipped}


def refresh(session: Session, source: str, candidates: list[Candidate], now: datetime,
            route_for: dict[str, Route] | None = None, margin_pct: float = REOPEN_MARGIN_PCT) -> Refreshed:
    """Hand the inbox ``source``'s complete list (in the caller's write session)."""
    usable = [c for c in candidates if c.action_type in ACTION_TYPES and c.source == source]
    skipped = len(candidates) - len(usable)
    merged: dict[str, Candidate] = {}
    for c in usable:  # a source listing one resource and action twice: keep the larger saving
        if c.key not in merged or c.estimated_monthly_savings > merged[c.key].estimated_monthly_savings:
            merged[c.key] = c
    known = {r.key: r for r in session.exec(select(Recommendation)).all()}
    new = reopened = gone = 0
    for key, c in merged.items():
        entry = {"source": source, "refreshed_at": now.isoformat(), "estimated_monthly_savings":
                 c.estimated_monthly_savings, "effort": c.effort, "restart_needed": c.restart_needed,
                 "title": c.describe(), "currency": c.currency, "resource_type": c.resource_type,
                 "region": c.region, "account": c.account, "detail": c.detail}
        rec = known.get(key)
        if rec is None:
            rec = Recommendation(key=key, action_type=c.action_type, resource_id=c.resource_id, status="open",
                                 provenance=[entry], first_seen=now, refreshed_at=now)
            new += 1
        else:
            rec.provenance = [p for p in rec.provenance if p["source"] != source] + [entry]
            rec.refreshed_at = now
            rec.version += 1
        _apply(rec)
        if rec.status == "gone":
            rec.status = "open"
            reopened += 1
        elif rec.status == "dismissed" and moved_enough(rec.dismissed_savings, rec.estimated_monthly_savings,
                                                       margin_pct):
            rec.status = "open"
            reopened += 1
        route = (route_for or {}).get(key)
        if route is not None and rec.status != "accepted":
            rec.team_id, rec.owner_id, rec.routed_by = route.team_id, route.owner_id, route.how
        session.add(rec)
    for key, rec in known.items():
        if key in merged or source not in rec.sources:
            continue
        rec.provenance = [p for p in rec.provenance if p["source"] != source]
        rec.version += 1
        if rec.provenance:
            _apply(rec)
        else:
            rec.sources = []
            if rec.status in SHOWN:
                rec.status = "gone"
                gone += 1
        session.add(rec)
    session.flush()
    return Refreshed(source, len(merged), new, reopened, gone, skipped)


def refresh_from_rules(records: Records, store: CostStore, waste: dict[str, Any], now: datetime) -> Refreshed:
    """The product's own rules over the store, routed and handed to the inbox in one transaction."""
    from rituals.optimization_rules import SOURCE, own_recommendations

    _, found = own_recommendations(store, waste)
    return refresh_source(records, store, SOURCE, found, now, waste)


def refresh_source(records: Records, store: CostStore | None, source: str, candidates: list[Candidate],
                   now: datetime, waste: dict[str, Any] | None = None) -> Refreshed:
    taxonomy = store.taxonomy if store is not None else None
    allocation_key = taxonomy.allocation_key if taxonomy else "team"
    owner_key = "owner" if taxonomy is None or "owner" in taxonomy.keys else None
    margin = float((waste or {}).get("dismissed_reopen_margin_pct", REOPEN_MARGIN_PCT))
    with records.write() as s:
        route_for = routes(s, store, candidates, allocation_key, owner_key)
        return refresh(s, source, candidates, now, route_for, margin)


# -- the list -----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class InboxItem:
    id: int
    source: str
    sources: tuple[str, ...]
    action_type: str
    action_kind: str
    resource_id: str
    resource_type: str | None
    account: str | None
    region: str | None
    title: str
    owner: str | None
    team: str | None
    routed_by: str | None
    estimated_monthly_savings: float
    currency: str
    effort: str | None
    restart_needed: bool | None
    status: str
    age_days: int
    first_seen: date
    estimate: str | None
    dismissed_reason: str | None
    dismissed_savings: float | None
    snoozed_until: date | None
    action_id: int | None
    version: int

    def as_dict(self) -> dict[str, Any]:
        out = {k: getattr(self, k) for k in self.__dataclass_fields__}
        out["sources"] = list(self.sources)
        out["estimated_monthly_savings"] = round(self.estimated_monthly_savings, 2)
        return out


def shown_status(rec: Recommendation, today: date) -> str:
    """``snoozed`` turns back into ``open`` on its date."""
    if rec.status == "snoozed" and rec.snoozed_until is not None and rec.snoozed_until <= today:
        return "open"
    return rec.status


def items(session: Session, today: date, *, team: str | None = None, account: str | None = None,
          action_type: str | None = None, statuses: tuple[str, ...] | None = ("open",),
          sort: str = "saving") -> list[InboxItem]:
    """The inbox, largest saving first (``sort="age"``: oldest first). ``statuses`` None: every row."""
    teams = {t.id: t.name for t in session.exec(select(Team)).all()}
    people = {p.id: p.handle for p in session.exec(select(Person)).all()}
    out = []
    for rec in session.exec(select(Recommendation).order_by(col(Recommendation.id))).all():
        status = shown_status(rec, today)
        if statuses is not None and status not in statuses:
            continue
        team_name = teams.get(rec.team_id) if rec.team_id else None
        if team is not None and (team_name or "").lower() != team.strip().lower():
            continue
        if account is not None and rec.account != account.strip():
            continue
        if action_type is not None and rec.action_type != action_type:
            continue
        best = _best(rec.provenance) if rec.provenance else {}
        first = rec.first_seen.date() if rec.first_seen else today
        assert rec.id is not None
        out.append(InboxItem(
            rec.id, rec.sources[0] if rec.sources else "-", tuple(rec.sources), rec.action_type,
            ACTION_KIND.get(rec.action_type, "other"), rec.resource_id, rec.resource_type, rec.account, rec.region,
            rec.title, people.get(rec.owner_id) if rec.owner_id else None, team_name, rec.routed_by,
            float(rec.estimated_monthly_savings), rec.currency, rec.effort, rec.restart_needed, status,
            max(0, (today - first).days), first, (best.get("detail") or {}).get("estimate"), rec.dismissed_reason,
            rec.dismissed_savings, rec.snoozed_until, rec.action_id, rec.version))
    if sort == "age":
        out.sort(key=lambda i: (-i.age_days, -i.estimated_monthly_savings, i.id))
    else:
        out.sort(key=lambda i: (-i.estimated_monthly_savings, i.id))
    return out


# -- decisions ----------------------------------------------------------------------------------------------

def _get(session: Session, rec_id: int) -> Recommendation:
    rec = session.get(Recommendation, rec_id)
    if rec is None:
        raise InboxError(f"no recommendation #{rec_id} (see `finops-tui inbox --all`)")
    return rec


def accept(session: Session, rec_id: int, *, owner_id: int | None, due: date, today: date, now: datetime,
           actor_id: int | None) -> Any:
    """The recommendation becomes an action of its kind with its resource, saving and due date."""
    from rituals.actions import create_action, due_date_problem

    rec = _get(session, rec_id)
    if rec.status == "accepted":
        raise InboxError(f"recommendation #{rec_id} is already accepted as action #{rec.action_id}")
    if rec.status == "gone":
        raise InboxError(f"recommendation #{rec_id} is no longer found by any source; nothing to accept")
    problem = due_date_problem(due, today)
    if problem:
        raise InboxError(problem)
    owner = owner_id if owner_id is not None else rec.owner_id
    if owner is None:
        raise InboxError(f"recommendation #{rec_id} has no owner from routing: name one with --owner")
    sources = ", ".join(rec.sources)
    best = _best(rec.provenance) if rec.provenance else {}
    how = (best.get("detail") or {}).get("estimate")
    detail = (f"From the recommendations inbox (#{rec.id}; sources: {sources}). Resource {rec.resource_id}"
              f"{' in account ' + rec.account if rec.account else ''}. Estimated monthly saving "
              f"{rec.estimated_monthly_savings:,.2f} {rec.currency}" + (f" ({how})" if how else "") + ".")
    action = create_action(session, title=rec.title or f"{rec.action_type} {rec.resource_id}", owner_id=owner,
                           now=now, actor_id=actor_id, kind=ACTION_KIND[rec.action_type], detail=detail,
                           team_id=rec.team_id, due_date=due, entity_kind="recommendation",
                           entity_key=str(rec.id), expected_monthly_savings=round(rec.estimated_monthly_savings, 2))
    action.resource_id, action.account_id = rec.resource_id, rec.account
    session.add(action)
    rec.status, rec.action_id, rec.decided_at, rec.decided_by_id = "accepted", action.id, now, actor_id
    rec.version += 1
    session.add(rec)
    session.flush()
    return action


def dismiss(session: Session, rec_id: int, *, reason: str, now: datetime, actor_id: int | None) -> Recommendation:
    rec = _get(session, rec_id)
    if not reason.strip():
        raise InboxError("a dismissal needs a reason (--reason)")
    if rec.status == "accepted":
        raise InboxError(f"recommendation #{rec_id} is accepted as action #{rec.action_id}: drop the action instead")
    rec.status, rec.dismissed_reason = "dismissed", reason.strip()
    rec.dismissed_savings = float(rec.estimated_monthly_savings)
    rec.decided_at, rec.decided_by_id, rec.snoozed_until = now, actor_id, None
    rec.version += 1
    session.add(rec)
    return rec


def snooze(session: Session, rec_id: int, *, until: date, today: date, now: datetime,
           actor_id: int | None) -> Recommendation:
    rec = _get(session, rec_id)
    if until <= today:
        raise InboxError(f"snooze until {until.isoformat()} is not after today ({today.isoformat()})")
    if rec.status in ("accepted", "gone"):
        raise InboxError(f"recommendation #{rec_id} is {rec.status}; only open ones can be snoozed")
    rec.status, rec.snoozed_until, rec.decided_at, rec.decided_by_id = "snoozed", until, now, actor_id
    rec.version += 1
    session.add(rec)
    return rec


def open_savings(session: Session, today: date) -> float:
    """The monthly savings of the open inbox (what is still on the table)."""
    return sum(i.estimated_monthly_savings for i in items(session, today))


def refresh_from_store(records: Records, store: CostStore, source: str, now: datetime,
                       waste: dict[str, Any] | None = None) -> Refreshed:
    """A stored source (the sync's Cost Optimization Hub / Compute Optimizer rows, an imported Data Exports
    file) into the inbox; purchases stay out (the commitment review shows them)."""
    from dataclasses import replace

    from rituals.recommendations import stored_candidates

    found, purchases = stored_candidates(store, source)
    return replace(refresh_source(records, store, source, found, now, waste), purchases_skipped=purchases)
