"""The demo company's records: people for each role, team owners, the accounts teams own, budgets,
business metrics, and a plausible history of past sweeps and reviews with their actions (some done,
some overdue), so the board and the rituals have history to show."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlmodel import Session

from storage.records import (
    Action,
    ActionEvent,
    Budget,
    BusinessMetric,
    ForecastSnapshot,
    Person,
    RitualRun,
    Team,
    TeamAccount,
    TeamMember,
)
from storage.sources.demo import ACCOUNTS, CURRENCY, RETIRED_TEAM, TEAMS, DemoTruth


def _id(row: Person | Team | Action) -> int:
    """The primary key of a flushed row (SQLModel types ``id`` as ``int | None`` until the flush)."""
    assert row.id is not None, f"{type(row).__name__} not flushed"
    return row.id


PEOPLE = [
    # handle, name, role, teams
    ("priya", "Priya Raman", "finops_lead", ()),
    ("marcus", "Marcus Hale", "finance", ()),
    ("dana", "Dana Whitfield", "leadership", ()),
    ("tomas", "Tomas Berg", "engineering", ("platform",)),
    ("aisha", "Aisha Okafor", "engineering", ("payments",)),
    ("kenji", "Kenji Mori", "engineering", ("search",)),
    ("lena", "Lena Fischer", "engineering", ("data",)),
    ("ravi", "Ravi Iyer", "engineering", ("ml-inference",)),
    ("sofia", "Sofia Marin", "engineering", ("web",)),
    ("jonah", "Jonah Reyes", "engineering", ("mobile",)),
    ("mei", "Mei Chen", "engineering", ("web", "mobile")),
    ("omar", "Omar Haddad", "engineering", ("data", RETIRED_TEAM)),
]
OWNERS = {"platform": "tomas", "payments": "aisha", "search": "kenji", "data": "lena", "ml-inference": "ravi",
          "web": "sofia", "mobile": "jonah", RETIRED_TEAM: "omar"}


@dataclass(frozen=True)
class _Act:
    title: str
    kind: str
    owner: str
    team: str | None
    created: int  # days before as_of
    due: int  # days relative to as_of (negative: in the past)
    status: str
    run: str | None = None  # key of the source run
    entity: tuple[str, str] | None = None
    savings: float | None = None
    detail: str = ""


def _at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), UTC)


def seed_records(session: Session, truth: DemoTruth) -> dict[str, int]:
    """Write the demo's people, teams, budgets, metrics and history into an empty records store."""
    as_of = truth.as_of
    created = _at(truth.first_day)
    people: dict[str, Person] = {}
    for handle, name, role, _teams in PEOPLE:
        people[handle] = Person(handle=handle, name=name, role=role, email=f"{handle}@harbor.example",
                                created_at=created)
        session.add(people[handle])
    session.flush()
    teams: dict[str, Team] = {}
    for name in (*TEAMS, RETIRED_TEAM):
        teams[name] = Team(name=name, owner_id=people[OWNERS[name]].id, active=name != RETIRED_TEAM,
                           created_at=created)
        session.add(teams[name])
    session.flush()
    for handle, _name, _role, member_of in PEOPLE:
        for team in member_of:
            session.add(TeamMember(person_id=_id(people[handle]), team_id=_id(teams[team])))
    for account, (acc_name, owner, _env) in ACCOUNTS.items():
        if owner:
            session.add(TeamAccount(account_id=account, team_id=_id(teams[owner]), account_name=acc_name))
    for month, per_team in truth.budgets.items():
        first = date.fromisoformat(month + "-01")
        for team, amount in per_team.items():
            session.add(Budget(team_id=teams[team].id, month=first, amount=amount, source="demo",
                               updated_at=created))
    for month, values in truth.metrics.items():
        first = date.fromisoformat(month + "-01")
        for metric, value in values.items():
            team_id = teams["ml-inference"].id if metric == "inferences" else None
            session.add(BusinessMetric(month=first, metric=metric, value=value, team_id=team_id, source="demo"))
    _forecast_history(session, truth)
    runs = _history_runs(session, truth, people)
    actions = _history_actions(session, as_of, people, teams, runs)
    return {"people": len(people), "teams": len(teams), "runs": len(runs), "actions": actions}


# How far each past month's forecast (made before the month began) missed: the GPU-cluster month was
# under-forecast, the others within the walk band or better.
FORECAST_FACTORS = (1.05, 0.93, 1.04, 0.86, 0.96, 1.03)


def _forecast_history(session: Session, truth: DemoTruth) -> None:
    """The forecast ledger's past: one organisation-wide forecast per month for the last six complete
    months, made two days before each month began; the ledger scores them against the actuals."""
    first_of_month = truth.as_of.replace(day=1)
    for back, factor in zip(range(6, 0, -1), FORECAST_FACTORS, strict=True):
        idx = first_of_month.year * 12 + first_of_month.month - 1 - back
        month = date(idx // 12, idx % 12 + 1, 1)
        actual = truth.monthly_totals.get(f"{month.year}-{month.month:02d}")
        if actual is None:
            continue
        forecast = round(actual * factor, 2)
        session.add(ForecastSnapshot(made_at=_at(month - timedelta(days=2), 7), month=month, team=None,
                                     method="ets", forecast=forecast, lower=round(forecast * 0.9, 2),
                                     upper=round(forecast * 1.1, 2), interval_pct=80,
                                     data_through=month - timedelta(days=3), currency=CURRENCY))


def _history_runs(session: Session, truth: DemoTruth, people: dict[str, Person]) -> dict[str, RitualRun]:
    as_of = truth.as_of
    lead = people["priya"]
    runs: dict[str, RitualRun] = {}
    # Weekly sweeps: the last eight complete weeks, one of them missed.
    this_monday = as_of - timedelta(days=as_of.weekday())
    for back in range(1, 9):
        if back == 3:
            continue
        monday = this_monday - timedelta(days=7 * back)
        period = f"{monday.isocalendar()[0]}-W{monday.isocalendar()[1]:02d}"
        window_end = monday
        window_start = monday - timedelta(days=7)
        prev_week = f"{window_start.isocalendar()[0]}-W{window_start.isocalendar()[1]:02d}"
        total, allocated = truth.usage_by_week.get(prev_week, (0.0, 0.0))
        numbers = {
            "start": window_start.isoformat(), "end": window_end.isoformat(), "currency": CURRENCY,
            "total_cost": round(total, 2), "allocated_cost": round(allocated, 2),
            "unallocated_cost": round(total - allocated, 2),
            "coverage_pct": round(allocated / total * 100, 2) if total else None,
            "source": "demo history",
        }
        runs[f"sweep-{back}"] = _closed_run(session, "tag_sweep", period, monday, lead,
                                            ["priya", "tomas", "sofia"], numbers,
                                            {"coverage": "Coverage reviewed; fixes assigned to team owners."})
    # Monthly reviews held for the three months before last; last month's review is due.
    first_of_month = as_of.replace(day=1)
    for back in (2, 3, 4):
        idx = first_of_month.year * 12 + first_of_month.month - 1 - back
        month = date(idx // 12, idx % 12 + 1, 1)
        held = date(month.year + (month.month == 12), month.month % 12 + 1, 5)
        key = f"{month.year}-{month.month:02d}"
        numbers = {"month": key, "currency": CURRENCY, "total_cost": round(truth.monthly_totals.get(key, 0), 2),
                   "budget": round(sum(truth.budgets.get(key, {}).values()), 2), "source": "demo history"}
        runs[f"monthly-{back}"] = _closed_run(
            session, "monthly_review", key, held, lead,
            ["priya", "marcus", "dana", "tomas", "aisha", "kenji", "lena", "ravi", "sofia", "jonah"], numbers,
            {"actions": "Walked the open actions.", "spend": "Spend above budget for ml-inference."},
            decisions=[{"text": "Each team owner reviews their showback line before the next review.",
                        "by": "priya"}])
    idx = first_of_month.year * 12 + first_of_month.month - 1 - 2
    month = date(idx // 12, idx % 12 + 1, 1)
    runs["commitment"] = _closed_run(
        session, "commitment_review", f"{month.year}-{month.month:02d}", month.replace(day=5), lead,
        ["priya", "marcus"], {"coverage_pct": round(truth.coverage_pct, 2),
                              "utilization_pct": round(truth.utilization_pct, 2), "source": "demo history"},
        {"decision": "Defer new purchases until the right-sizing actions land."},
        decisions=[{"text": "Defer: right-size first, then buy against the new baseline.", "by": "marcus"}])
    return runs


def _closed_run(session: Session, kind: str, period: str, day: date, lead: Person, attendees: list[str],
                numbers: dict, notes: dict, decisions: list | None = None) -> RitualRun:
    run = RitualRun(kind=kind, period=period, status="closed", opened_at=_at(day, 9), closed_at=_at(day, 10),
                    facilitator_id=lead.id, attendees=attendees, notes=notes, decisions=decisions or [],
                    numbers=numbers)
    session.add(run)
    session.flush()
    return run


def _history_actions(session: Session, as_of: date, people: dict[str, Person], teams: dict[str, Team],
                     runs: dict[str, RitualRun]) -> int:
    acts = [
        _Act("Tag the untagged Fargate services in prod-main", "tag_fix", "sofia", "web", 50, -43, "done",
             "sweep-7", ("account", "111100000004")),
        _Act("Tag payments resources in staging", "tag_fix", "aisha", "payments", 43, -36, "done", "sweep-6",
             ("account", "111100000007")),
        _Act("Tag the search indexer fleet in prod-main", "tag_fix", "kenji", "search", 29, -22, "open",
             "sweep-4", ("account", "111100000004")),
        _Act("Retire or re-own the growth team's sandbox resources", "tag_fix", "omar", None, 15, -8,
             "in_progress", "sweep-2", ("account", "111100000012")),
        _Act("Fix 'Payments' spelling of the team tag", "tag_fix", "aisha", "payments", 8, -1, "open",
             "sweep-1", ("tag_value", "team=Payments")),
        _Act("Right-size the payments RDS instances", "rightsizing", "aisha", "payments", 80, 10, "open",
             "monthly-3", None, 1200.0, "db.r6g.4xlarge at 22% CPU; move to 2xlarge."),
        _Act("Delete unattached EBS volumes in dev", "cleanup", "lena", "data", 55, -20, "open", "monthly-2",
             ("account", "111100000008"), 450.0),
        _Act("Shut down the forgotten GPU dev cluster", "anomaly_fix", "ravi", "ml-inference", 90, -85, "done",
             "monthly-3", ("account", "111100000011"), 9000.0),
        _Act("Alarm on NAT gateway bytes per account", "anomaly_fix", "tomas", "platform", 38, 7,
             "in_progress", "monthly-2", ("account", "111100000002")),
        _Act("Instrument cost per inference", "other", "ravi", "ml-inference", 110, -60, "done", "monthly-4"),
        _Act("Prepare the renewal decision for the 1-year compute Savings Plan", "commitment", "marcus", None,
             45, 20, "open", "commitment"),
        _Act("Schedule dev and staging to stop at weekends", "cleanup", "tomas", "platform", 55, -5, "blocked",
             "monthly-2", ("account", "111100000007"), 800.0),
    ]
    for a in acts:
        created = _at(as_of - timedelta(days=a.created), 11)
        owner = people[a.owner]
        action = Action(title=a.title, detail=a.detail, kind=a.kind, owner_id=_id(owner),
                        team_id=teams[a.team].id if a.team else None, due_date=as_of + timedelta(days=a.due),
                        status=a.status, source_run_id=runs[a.run].id if a.run else None,
                        entity_kind=a.entity[0] if a.entity else None, entity_key=a.entity[1] if a.entity else None,
                        expected_monthly_savings=a.savings, created_at=created, updated_at=created)
        session.add(action)
        session.flush()
        session.add(ActionEvent(action_id=_id(action), actor_id=people["priya"].id, at=created, field="created",
                                new="open", note=a.title))
        if a.status != "open":
            changed = min(created + timedelta(days=max(a.created // 2, 1)), _at(as_of - timedelta(days=1)))
            action.updated_at = changed
            if a.status == "done" and a.kind == "tag_fix":
                action.verified_at = changed
            session.add(ActionEvent(action_id=_id(action), actor_id=owner.id, at=changed, field="status",
                                    old="open", new=a.status, note="demo history"))
            action.version = 2
    return len(acts)
