"""The demo company's records: people for each role, team owners, the accounts teams own, budgets,
business metrics and the forecast ledger's past. The past meetings and the actions they created are held
through the run session by ``rituals.demo_history`` (so their frozen numbers are real findings); this
module gives their actions and where each stands today (some done, some overdue)."""

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
class HistoryAction:
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
    return {"people": len(people), "teams": len(teams)}


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


# The actions past meetings created (``run``: which meeting, see ``rituals.demo_history``), with where each
# stands today: some done, some overdue.
HISTORY_ACTIONS = [
    HistoryAction("Tag the untagged Fargate services in prod-main", "tag_fix", "sofia", "web", 50, -43, "done",
         "sweep-7", ("account", "111100000004")),
    HistoryAction("Tag payments resources in staging", "tag_fix", "aisha", "payments", 43, -36, "done", "sweep-6",
         ("account", "111100000007")),
    HistoryAction("Tag the search indexer fleet in prod-main", "tag_fix", "kenji", "search", 29, -22, "open",
         "sweep-4", ("account", "111100000004")),
    HistoryAction("Retire or re-own the growth team's sandbox resources", "tag_fix", "omar", None, 15, -8,
         "in_progress", "sweep-2", ("account", "111100000012")),
    HistoryAction("Fix 'Payments' spelling of the team tag", "tag_fix", "aisha", "payments", 8, -1, "open",
         "sweep-1", ("tag_value", "team=Payments")),
    HistoryAction("Right-size the payments RDS instances", "rightsizing", "aisha", "payments", 80, 10, "open",
         "monthly-3", None, 1200.0, "db.r6g.4xlarge at 22% CPU; move to 2xlarge."),
    HistoryAction("Delete unattached EBS volumes in dev", "cleanup", "lena", "data", 55, -20, "open", "monthly-2",
         ("account", "111100000008"), 450.0),
    HistoryAction("Shut down the forgotten GPU dev cluster", "anomaly_fix", "ravi", "ml-inference", 90, -85, "done",
         "monthly-3", ("account", "111100000011"), 9000.0),
    HistoryAction("Alarm on NAT gateway bytes per account", "anomaly_fix", "tomas", "platform", 38, 7,
         "in_progress", "monthly-2", ("account", "111100000002")),
    HistoryAction("Instrument cost per inference", "other", "ravi", "ml-inference", 110, -60, "done", "monthly-4"),
    HistoryAction("Prepare the renewal decision for the 1-year compute Savings Plan", "commitment", "marcus", None,
         45, 20, "open", "commitment"),
    HistoryAction("Schedule dev and staging to stop at weekends", "cleanup", "tomas", "platform", 55, -5, "blocked",
         "monthly-2", ("account", "111100000007"), 800.0),
]


def history_status(session: Session, as_of: date, action: Action, act: HistoryAction, owner: Person) -> None:
    """Move an action a past meeting created to where ``act`` says it stands today, with its event."""
    if act.status == "open":
        return
    created = action.created_at or _at(as_of - timedelta(days=act.created), 11)
    changed = min(created + timedelta(days=max(act.created // 2, 1)), _at(as_of - timedelta(days=1)))
    action.status = act.status
    action.updated_at = changed
    if act.status == "done" and act.kind == "tag_fix":
        action.verified_at = changed
    session.add(ActionEvent(action_id=_id(action), actor_id=owner.id, at=changed, field="status",
                            old="open", new=act.status, note="demo history"))
    action.version = (action.version or 1) + 1
    session.add(action)
