"""The tag sweep's records side: the window, who fixes what, creating fix actions in bulk, and checking the
open tag-fix actions against the data (closing the verified ones with ``verified_at``).

Fix actions go to a person: the owner of the team that owns the account (or that the resource's name
points to), else whoever is R for "Tagging and allocation standard". Unused commitment belongs to whoever
the RACI makes accountable for "Commitment purchase (SP / RI)".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from rituals.actions import StaleUpdate, create_action
from rituals.allocation import account_teams_from_records
from rituals.raci import COMMITMENTS, TAGGING, Raci, RaciError
from rituals.tag_sweep import Sweep, SweepFrames, load_frames, resource_label, summed_coverage
from rituals.wording import counted
from storage.config import CalendarConfig
from storage.cost_queries import FixEntity, fix_costs
from storage.costs import CostStore
from storage.records import OPEN_ACTION_STATUSES, Action, ActionEvent, Person, Team

if TYPE_CHECKING:
    from collections.abc import Callable

    from storage.home import Home

VERIFIED_EPSILON = 0.005  # unallocated spend at or below this (in the currency) counts as none


def default_window(today: date) -> tuple[date, date]:
    """The last 7 complete days: billing data for today is never complete."""
    return today - timedelta(days=7), today


def next_sweep_day(today: date, cal: CalendarConfig) -> date:
    """The first sweep day strictly after today (fix actions are due by then)."""
    ahead = (cal.sweep_weekday - today.isoweekday()) % 7 or 7
    return today + timedelta(days=ahead)


def fix_owner(raci: Raci, team: str | None) -> Person | None:
    """The owner of ``team``, else the R of the tagging standard; None when the RACI names no one."""
    if team is not None:
        try:
            return raci.owner_for(TAGGING, team)
        except RaciError:
            pass
    try:
        return raci.owner_for(TAGGING)
    except RaciError:
        return None


def compute_sweep(home: Home, start: date, end: date,
                  progress: Callable[[dict[str, Any]], None] | None = None) -> Sweep:
    """The sweep for ``start <= day < end`` from the home's stores (what ``finops-tui sweep --json`` prints).

    ``progress`` (``Request.progress``) first gets the Coverage step's part of ``as_json()``
    (``summed_coverage``), when the rollup serves the summed spend, before the unallocated resources, the
    clusters and the fix checks are read."""
    if start >= end:
        raise ValueError(f"--start {start.isoformat()} must be before --end {end.isoformat()}")
    cfg = home.config
    account_teams = account_teams_from_records(home.records)
    with home.records.session() as s:
        teams = tuple(t.name for t in s.exec(select(Team).where(Team.active == True)))  # noqa: E712
        raci = Raci(s)
        owners: dict[str | None, str | None] = {None: _handle(fix_owner(raci, None))}
        for team in {*teams, *account_teams.values()}:
            owners[team] = _handle(fix_owner(raci, team))
        try:
            commitment_owner = _handle(raci.accountable_for(COMMITMENTS))
        except RaciError:
            commitment_owner = None
    currency = home.costs.info().currency or cfg.currency
    tax = cfg.taxonomy

    def summed(frames: SweepFrames) -> None:
        assert progress is not None
        progress(summed_coverage(frames, tax.keys, currency=currency, allocation_key=tax.allocation_key,
                                 charge_categories=tax.charge_categories, target_pct=cfg.targets.allocation_pct))

    frames = load_frames(home.costs, account_teams, start, end, tax.charge_categories,
                         summed_ready=None if progress is None else summed)
    with home.records.session() as s:
        checks = check_fixes(s, home.costs, account_teams, start, end)
    return Sweep(frames, currency, tax.allocation_key, tax.keys, tax.charge_categories, cfg.targets.allocation_pct,
                 account_teams, teams, dict(tax.allowed_values), owners, commitment_owner,
                 [c.as_dict(currency) for c in checks])


def created_text(made: int, due: date) -> str:
    """What creating fixes says: "1 tag-fix action created, due 2026-12-03"."""
    return f"{counted(made, 'tag-fix action')} created, due {due.isoformat()}"


def _handle(person: Person | None) -> str | None:
    return person.handle if person is not None else None


# -- fix candidates and creating them in bulk ---------------------------------------------------------------
@dataclass(frozen=True)
class FixCandidate:
    entity_kind: str  # "resource", "account" or "tag_value"
    entity_key: str
    title: str
    team: str | None
    cost: float
    owner: str | None  # handle
    detail: str = ""


def _money(value: float, currency: str) -> str:
    return f"{value:,.2f} {currency}"


def fix_candidates(sweep: Sweep) -> list[FixCandidate]:
    """What the sweep proposes to fix: the top unallocated resources, the accounts leaking spend, and the
    variant spellings of tag values, each with the person it would go to."""
    cur = sweep.currency
    out: list[FixCandidate] = []
    for r in sweep.top_unallocated:
        if not r["resource_id"]:
            continue
        team = r["suggested_owner"]
        name = resource_label(r["resource_id"]) or r["resource_id"]
        out.append(FixCandidate("resource", r["resource_id"], f"Tag {sweep.allocation_key} on {name}",
                                team, float(r["cost"]), sweep.fix_owner(team),
                                f"{_money(r['cost'], cur)} unallocated in {r['service']} "
                                f"({r['account_name'] or r['account_id']}), {sweep.coverage.start} to "
                                f"{sweep.coverage.end}"))
    for r in sweep.unallocated_by_account:
        if not r["account_id"] or r["unallocated_cost"] <= 0:
            continue
        team = sweep.account_teams.get(r["account_id"])
        label = f"{r['account_name']} ({r['account_id']})" if r["account_name"] else r["account_id"]
        out.append(FixCandidate("account", r["account_id"], f"Allocate the untagged spend of account {label}",
                                team, float(r["unallocated_cost"]), sweep.fix_owner(team),
                                f"{_money(r['unallocated_cost'], cur)} unallocated"))
    for r in sweep.variants:
        team = r["canonical"] if r["key"] == sweep.allocation_key and r["canonical"] in sweep.teams else None
        out.append(FixCandidate("tag_value", f"{r['key']}={r['value']}",
                                f"Retag {r['key']}={r['value']} as {r['canonical']}", team, float(r["cost"]),
                                sweep.fix_owner(team), f"{_money(r['cost'], cur)} carries the spelling"))
    return out


def open_fix_ids(session: Session) -> dict[tuple[str, str], int]:
    """(entity_kind, entity_key) -> id of an open tag-fix action already tracking it."""
    rows = session.exec(select(Action).where(Action.kind == "tag_fix",
                                             col(Action.status).in_(OPEN_ACTION_STATUSES))).all()
    return {(a.entity_kind, a.entity_key): a.id for a in rows if a.entity_kind and a.entity_key}  # type: ignore[misc]


def create_fixes(session: Session, candidates: list[FixCandidate], *, due: date, now: datetime,
                 run_id: int | None = None, actor_id: int | None = None) -> list[Action]:
    """One tag-fix action per candidate not already tracked by an open one, in the caller's write session."""
    people = {p.handle: p for p in session.exec(select(Person))}
    teams = {t.name: t for t in session.exec(select(Team))}
    tracked = open_fix_ids(session)
    made = []
    for c in candidates:
        if (c.entity_kind, c.entity_key) in tracked:
            continue
        owner = people.get(c.owner or "")
        if owner is None:
            raise ValueError(f"no one to own the fix {c.title!r}: add a FinOps lead or give the team an owner")
        team = teams.get(c.team) if c.team else None
        action = create_action(session, title=c.title, owner_id=owner.id, now=now, actor_id=actor_id,  # type: ignore[arg-type]
                               kind="tag_fix", detail=c.detail, team_id=team.id if team else None, due_date=due,
                               source_run_id=run_id, entity_kind=c.entity_kind, entity_key=c.entity_key)
        tracked[(c.entity_kind, c.entity_key)] = action.id  # type: ignore[assignment]
        made.append(action)
    return made


# -- closure: open fixes checked against the data ------------------------------------------------------------
@dataclass(frozen=True)
class FixCheck:
    action_id: int
    title: str
    owner: str | None
    entity_kind: str
    entity_key: str
    version: int
    before_unallocated: float  # in the 7 days before the action was created
    now_cost: float  # the entity's spend in the sweep window
    now_unallocated: float
    window_has_data: bool = True  # a window with no spend at all proves nothing

    @property
    def moved_cost(self) -> float:
        """Unallocated spend that is no longer unallocated (week before creation against this window)."""
        return max(self.before_unallocated - self.now_unallocated, 0.0)

    @property
    def verified(self) -> bool:
        """Nothing of the entity is left unallocated, the window holds data, and there is evidence: the entity
        has spend now (all of it allocated), or had unallocated spend then and none now (it is gone)."""
        return (self.window_has_data and self.now_unallocated <= VERIFIED_EPSILON
                and (self.now_cost > 0 or self.before_unallocated > 0))

    @property
    def verdict(self) -> str:
        """What the check found, read from its own figures: ``verified``, ``still_unallocated`` (spend of it
        is unallocated now), ``no_data`` (the window holds no spend at all) or ``no_evidence`` (the entity
        had no unallocated spend before and has no spend now: nothing shows the fix either way)."""
        if self.verified:
            return "verified"
        if not self.window_has_data:
            return "no_data"
        if self.now_unallocated > VERIFIED_EPSILON:
            return "still_unallocated"
        return "no_evidence"

    def verdict_text(self, currency: str = "") -> str:
        """The verdict in words with the figures it reads ("still unallocated: 12.00 USD now")."""
        cur = f" {currency}" if currency else ""
        return {
            "verified": f"verified: {self.moved_cost:,.2f}{cur} moved to allocated, none unallocated now",
            "still_unallocated": f"still unallocated: {self.now_unallocated:,.2f}{cur} now "
                                 f"(before {self.before_unallocated:,.2f}{cur})",
            "no_data": "not checked: the window holds no spend",
            "no_evidence": "nothing to verify: no unallocated spend before it was created and no spend now",
        }[self.verdict]

    def as_dict(self, currency: str = "") -> dict[str, Any]:
        return {"action_id": self.action_id, "title": self.title, "owner": self.owner,
                "entity_kind": self.entity_kind, "entity_key": self.entity_key,
                "before_unallocated_cost": self.before_unallocated, "cost": self.now_cost,
                "unallocated_cost": self.now_unallocated, "moved_cost": self.moved_cost, "verified": self.verified,
                "verdict": self.verdict, "verdict_text": self.verdict_text(currency)}


def check_fixes(session: Session, store: CostStore, account_teams: dict[str, str], start: date,
                end: date) -> list[FixCheck]:
    """Each open tag-fix action linked to an account, resource or tag value, with its entity's unallocated
    spend in the week before the action was created and in the sweep window."""
    actions = session.exec(select(Action).where(Action.kind == "tag_fix",
                                                col(Action.status).in_(OPEN_ACTION_STATUSES))
                           .order_by(col(Action.id))).all()
    people = {p.id: p.handle for p in session.exec(select(Person))}
    entities = [FixEntity(a.entity_kind or "", a.entity_key or "",
                          (a.created_at or datetime.combine(start, datetime.min.time())).date()) for a in actions]
    found = fix_costs(store, account_teams, start, end, store.taxonomy.charge_categories, entities)
    if found is None:
        return []
    has_data, costs = found
    return [FixCheck(a.id, a.title, people.get(a.owner_id), a.entity_kind, a.entity_key,  # type: ignore[arg-type]
                     a.version, c.before_unallocated, c.cost, c.unallocated, has_data)
            for a, c in zip(actions, costs, strict=True) if c is not None]


def close_verified(records: Any, check: FixCheck, *, actor_id: int | None, now: datetime) -> None:
    """Close a verified fix: status done and ``verified_at`` set, with its events, in one BEGIN IMMEDIATE
    transaction; refused (StaleUpdate) when the action changed since it was checked."""
    if not check.verified:
        raise ValueError(f"action {check.action_id} is not verified: {check.verdict_text()}")
    note = (f"verified by the tag sweep: {check.moved_cost:,.2f} moved to allocated; "
            f"{check.now_unallocated:,.2f} unallocated now")
    with records.write() as s:
        action = s.get(Action, check.action_id)
        if action is None:
            raise ValueError(f"no action {check.action_id}")
        result = s.execute(update(Action).where(col(Action.id) == check.action_id,
                                                col(Action.version) == check.version)
                           .values(status="done", verified_at=now, updated_at=now, version=check.version + 1)
                           .execution_options(synchronize_session=False))
        if result.rowcount != 1:
            raise StaleUpdate(f"action {check.action_id} changed since the sweep checked it; run the check again")
        s.add(ActionEvent(action_id=check.action_id, actor_id=actor_id, at=now, field="status",
                          old=action.status, new="done", note=note))
        s.add(ActionEvent(action_id=check.action_id, actor_id=actor_id, at=now, field="verified_at", old=None,
                          new=now.isoformat(timespec="seconds"), note=note))
