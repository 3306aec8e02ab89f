"""What ``finops-tui notify`` tells whom: one notice per message, routed to the team it concerns.

Four kinds, each from the ritual that produces its figures (one number, one function):

- ``anomalies``: each live, untriaged anomaly event none of whose cases was notified before, to the team
  owning its lead series (``AnomalyEvent.owner_team``), else the practice;
- ``overdue``: open actions past their due date (in the configured time zone) not yet notified at that due
  date, grouped per owner, to the action's team (else the owner's team, else the practice);
- ``sweep``: the weekly tag sweep (``compute_sweep`` over its default window), once per ISO week from the
  sweep weekday on: coverage against target to the practice, and to each team its spend, the share its
  own tag carries, what is untagged or unallocated, and its open tag fixes;
- ``preread``: the monthly review's agenda (``build_agenda``) sliced per team, once per reviewed month,
  ``[notify] preread_days`` before the review date.

A notice is data only (figures, names, ids); ``exports.notifications`` renders its text.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from sqlmodel import Session, col, select

from storage.records import OPEN_ACTION_STATUSES, Action, Person, Team, TeamMember

if TYPE_CHECKING:
    from storage.home import Home

ANOMALIES, OVERDUE, SWEEP, PREREAD = "anomalies", "overdue", "sweep", "preread"
KINDS = (ANOMALIES, OVERDUE, SWEEP, PREREAD)
KIND_TITLES = {ANOMALIES: "new anomaly events", OVERDUE: "overdue actions", SWEEP: "the weekly sweep result",
               PREREAD: "the monthly review pre-read"}
TOP_ROOT_CAUSES = 3
TOP_RESOURCES = 3


@dataclass
class Notice:
    kind: str
    key: str  # unique per kind and channel: what makes a message "the same message"
    team: str | None  # None: the FinOps practice
    subjects: list[str]  # what the message covers (case ids, actions at their due date, ...)
    data: dict[str, Any] = field(default_factory=dict)
    fallback: bool = False  # routed to the practice because its team has no channel


def _digest(parts: list[str]) -> str:
    return hashlib.sha1("\n".join(sorted(parts)).encode()).hexdigest()[:12]


# -- anomalies --------------------------------------------------------------------------------------------
def anomaly_notices(home: Home, notified: set[str]) -> list[Notice]:
    """Live untriaged events none of whose cases is in ``notified`` (logged subjects or ``notified_at``).
    Detects first, as ``finops-tui anomalies`` does, so new cases from the last import are seen."""
    from rituals.anomaly_cases import account_names, sync_cases
    from rituals.anomaly_events import events_of
    from rituals.anomaly_report import all_cases
    from rituals.people import account_teams

    sync_cases(home)
    with home.records.session() as s:
        cases = all_cases(s)
        events = events_of(cases, account_teams(s))
        stamped = {c.id for c in cases if c.notified_at is not None}
    names = account_names(home.costs)
    out = []
    for e in events:
        ids = [c.id for c in e.cases]
        if not e.untriaged or any(i in notified or i in stamped for i in ids):
            continue
        lead = e.lead
        roots = [{"dimension": r.get("dimension"), "value": r.get("value"), "share_pct": r.get("share_pct"),
                  "contribution": r.get("contribution"),
                  "name": names.get(str(r.get("value"))) if r.get("dimension") == "account" else None}
                 for r in (lead.root_causes or [])[:TOP_ROOT_CAUSES]]
        out.append(Notice(ANOMALIES, e.id, e.owner_team, ids, {
            "event": e.id, "start": e.start, "end": e.end, "days": (e.end - e.start).days,
            "impact": round(e.impact, 2), "expected": round(float(lead.expected_cost), 2),
            "actual": round(float(lead.actual_cost), 2), "currency": lead.currency,
            "dimension": lead.dimension, "what": lead.label or lead.value, "team": e.owner_team,
            "cases": ids, "root_causes": roots, "ack_command": f"finops-tui anomalies ack {e.id}"}))
    return out


# -- overdue actions --------------------------------------------------------------------------------------
def _team_of_person(session: Session, person_id: int) -> str | None:
    owned = session.exec(select(Team).where(Team.owner_id == person_id, Team.active == True)  # noqa: E712
                         .order_by(col(Team.name))).first()
    if owned is not None:
        return owned.name
    member = session.exec(select(Team).join(TeamMember, col(TeamMember.team_id) == col(Team.id))
                          .where(TeamMember.person_id == person_id, Team.active == True)  # noqa: E712
                          .order_by(col(Team.name))).first()
    return member.name if member else None


def overdue_notices(home: Home, notified: set[str]) -> list[Notice]:
    today = home.clock.today()
    with home.records.session() as s:
        people = {p.id: p for p in s.exec(select(Person))}
        teams = {t.id: t.name for t in s.exec(select(Team))}
        late = s.exec(select(Action).where(col(Action.status).in_(OPEN_ACTION_STATUSES),
                                           col(Action.due_date).is_not(None), col(Action.due_date) < today)
                      .order_by(col(Action.due_date), col(Action.id)))
        groups: dict[tuple[str | None, int], list[Action]] = {}
        for a in late:
            if f"action:{a.id}@{a.due_date}" in notified:
                continue
            team = teams.get(a.team_id) if a.team_id is not None else _team_of_person(s, a.owner_id)
            groups.setdefault((team, a.owner_id), []).append(a)
    out = []
    for (team, owner_id), actions in groups.items():
        owner = people.get(owner_id)
        handle = owner.handle if owner else str(owner_id)
        subjects = [f"action:{a.id}@{a.due_date}" for a in actions]
        out.append(Notice(OVERDUE, f"{handle}:{_digest(subjects)}", team, subjects, {
            "owner": handle, "owner_name": owner.name if owner else handle, "team": team, "today": today,
            "actions": [{"id": a.id, "title": a.title, "due_date": a.due_date, "days_overdue": (today - a.due_date).days,  # type: ignore[operator]
                         "status": a.status} for a in actions]}))
    return out


# -- the weekly sweep ---------------------------------------------------------------------------------------
def sweep_week(home: Home) -> str | None:
    """The ISO week whose sweep result is due (from the sweep weekday on), None before that day."""
    from rituals.calendar import week_period

    today = home.clock.today()
    if today.isoweekday() < home.config.calendar.sweep_weekday:
        return None
    return week_period(today)


def sweep_notices(home: Home, teams_with_channels: set[str | None], notified: set[str]) -> list[Notice]:
    from rituals.tag_fixes import compute_sweep, default_window

    week = sweep_week(home)
    wanted = [t for t in teams_with_channels if f"sweep:{t or ''}@{week}" not in notified]
    if week is None or not wanted:
        return []
    start, end = default_window(home.clock.today())
    sweep = compute_sweep(home, start, end).as_json()
    base = {"week": week, "start": sweep["start"], "end": sweep["end"], "currency": sweep["currency"],
            "coverage_pct": sweep["coverage_pct"], "target_pct": sweep["target_pct"],
            "meets_target": sweep["meets_target"], "total_cost": sweep["total_cost"],
            "unallocated_cost": sweep["unallocated_cost"], "allocation_key": sweep["allocation_key"]}
    with home.records.session() as s:
        team_ids = {t.name: t.id for t in s.exec(select(Team))}
        fixes = list(s.exec(select(Action).where(Action.kind == "tag_fix",
                                                 col(Action.status).in_(OPEN_ACTION_STATUSES))))
    out = []
    for team in sorted(wanted, key=lambda t: (t is not None, t or "")):
        data = dict(base)
        if team is None:
            data["leaks"] = [{"account": r.get("account_name") or r.get("account_id"),
                              "unallocated_cost": r["unallocated_cost"]}
                             for r in sweep["unallocated_by_account"][:TOP_RESOURCES]]
            data["open_fixes"] = len(fixes)
        else:
            row = next((r for r in sweep["by_team"] if r["team"] == team), None)
            cost = float(row["cost"]) if row else 0.0
            tagged = cost * float(row["by_tag_pct"] or 0.0) / 100.0 if row else 0.0
            mine = [r for r in sweep["top_unallocated"] if r.get("suggested_owner") == team]
            tid = team_ids.get(team)
            own_fixes = [a for a in fixes if a.team_id == tid]
            data.update({"team": team, "team_cost": round(cost, 2),
                         "by_tag_pct": row["by_tag_pct"] if row else None,
                         "untagged_cost": round(cost - tagged, 2),
                         "unallocated_suggested_cost": round(sum(float(r["cost"]) for r in mine), 2),
                         "resources": [r["resource_id"] for r in mine[:TOP_RESOURCES]],
                         "open_fixes": len(own_fixes),
                         "fixes": [{"id": a.id, "title": a.title, "due_date": a.due_date}
                                   for a in sorted(own_fixes, key=lambda a: (a.due_date or date.max, a.id))[:5]]})
        out.append(Notice(SWEEP, f"{week}:{team or ''}", team, [f"sweep:{team or ''}@{week}"], data))
    return out


# -- the monthly review pre-read ----------------------------------------------------------------------------
def review_date(home: Home, today: date) -> date:
    """The next monthly review on or after today (the calendar's review day)."""
    from rituals.calendar import add_months

    day = home.config.calendar.monthly_review_day
    this = today.replace(day=day)
    return this if this >= today else add_months(today.replace(day=1), 1).replace(day=day)


def preread_due(home: Home) -> tuple[date, date] | None:
    """(review date, reviewed month) when today is within ``preread_days`` before the review, else None."""
    from rituals.calendar import add_months

    today = home.clock.today()
    when = review_date(home, today)
    if when - today > timedelta(days=home.config.notify.preread_days):
        return None
    return when, add_months(when.replace(day=1), -1)


def preread_notices(home: Home, teams_with_channels: set[str | None], notified: set[str]) -> list[Notice]:
    from rituals.calendar import month_period
    from rituals.monthly_review import build_agenda

    due = preread_due(home)
    if due is None:
        return []
    when, month = due
    period = month_period(month)
    wanted = [t for t in teams_with_channels if f"preread:{t or ''}@{period}" not in notified]
    if not wanted:
        return []
    agenda = build_agenda(home, month)
    cur = agenda["currency"]
    spend = agenda["spend"] if agenda["spend"].get("available") else {}
    actions = agenda["actions"]
    events = (agenda["anomalies"].get("by_event") or []) if agenda["anomalies"].get("available") else []
    proposals = (agenda["decisions"].get("proposed_actions") or []) if agenda["decisions"].get("available", True) else []
    out = []
    for team in sorted(wanted, key=lambda t: (t is not None, t or "")):
        def mine(row: dict[str, Any], team: str | None = team) -> bool:
            return team is None or row.get("team") == team or row.get("owner_team") == team
        data: dict[str, Any] = {"month": period, "review_date": when, "currency": cur, "team": team}
        if team is None:
            total = spend.get("total") or {}
            data["spend"] = {"spend": total.get("spend"), "budget": total.get("budget"),
                             "change_pct": total.get("change_pct")} if spend else None
        else:
            line = next((r for r in spend.get("teams", []) if r["team"] == team), None)
            data["spend"] = {"spend": line["spend"], "budget": line["budget"], "change_pct": line["change_pct"]} \
                if line else None
        data["drivers"] = [{"service": d["service"], "change": d["change"]} for d in spend.get("drivers", [])
                           if mine(d)][:3]
        data["actions"] = [{"id": a["id"], "title": a["title"], "owner": a["owner"], "due_date": a["due_date"],
                            "overdue": a["overdue"]} for a in actions.get("open", []) if mine(a)][:8]
        data["anomalies"] = [{"event": e["id"], "impact": e["impact"], "status": e["status"],
                              "untriaged": e["untriaged"]} for e in events if mine(e) and not e.get("historical")][:5]
        data["proposals"] = [{"title": p["title"], "owner": p["owner"]} for p in proposals if mine(p)][:5]
        out.append(Notice(PREREAD, f"{period}:{team or ''}", team, [f"preread:{team or ''}@{period}"], data))
    return out


COST_KINDS = (ANOMALIES, SWEEP, PREREAD)  # read the cost store; overdue actions need only the records


def plan(home: Home, kinds: tuple[str, ...], teams_with_channels: set[str | None],
         logged: dict[str, set[str]], skipped: dict[str, str] | None = None) -> list[Notice]:
    """Every notice of ``kinds`` not yet logged (``logged``: kind -> subjects already in the log). A kind
    that cannot be planned (no cost data yet, a store busy importing) is left out with its reason in
    ``skipped``, so the other kinds still go."""
    from storage.costs import CostStoreError

    skipped = skipped if skipped is not None else {}
    has_costs = home.costs.exists() and home.costs.info().rows > 0
    steps = {ANOMALIES: lambda: anomaly_notices(home, logged.get(ANOMALIES, set())),
             OVERDUE: lambda: overdue_notices(home, logged.get(OVERDUE, set())),
             SWEEP: lambda: sweep_notices(home, teams_with_channels, logged.get(SWEEP, set())),
             PREREAD: lambda: preread_notices(home, teams_with_channels, logged.get(PREREAD, set()))}
    out: list[Notice] = []
    for kind in KINDS:
        if kind not in kinds:
            continue
        if kind in COST_KINDS and not has_costs:
            skipped[kind] = "no cost data yet (finops-tui import PATH or sync aws)"
            continue
        try:
            out += steps[kind]()
        except (CostStoreError, ValueError) as exc:
            skipped[kind] = str(exc)
    return out
