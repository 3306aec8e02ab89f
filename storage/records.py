"""The records: people, teams, the RACI, ritual runs, actions and their history.

Small and precious, written by several people at once. Every schema change is an Alembic revision in
``storage/migrations/versions``; a test compares these models with the migrated schema.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Integer, String, TypeDecorator, UniqueConstraint
from sqlmodel import Field, SQLModel

ROLES = ("engineering", "finance", "finops_lead", "leadership")
ROLE_LABELS = {
    "engineering": "engineering team",
    "finance": "finance",
    "finops_lead": "FinOps lead",
    "leadership": "leadership",
}
RUN_STATUSES = ("open", "closed")
ACTION_KINDS = ("tag_fix", "anomaly_fix", "rightsizing", "cleanup", "commitment", "other")
ACTION_STATUSES = ("open", "in_progress", "blocked", "done", "dropped")
OPEN_ACTION_STATUSES = ("open", "in_progress", "blocked")
RACI_LETTERS = ("R", "A", "C", "I")


class UTCDateTime(TypeDecorator):
    """Aware datetimes in, aware UTC datetimes out, whatever the database keeps."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utc_now() -> datetime:
    return datetime.now(UTC)


def _ts(nullable: bool = False) -> Any:
    if nullable:
        return Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    return Field(default_factory=utc_now, sa_column=Column(UTCDateTime(), nullable=False))


class Person(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    handle: str = Field(sa_column=Column(String(64), unique=True, nullable=False))
    name: str
    email: str | None = None
    role: str = Field(sa_column=Column(String(32), nullable=False, index=True))
    active: bool = True
    created_at: datetime | None = _ts()


class Team(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_column=Column(String(64), unique=True, nullable=False))
    owner_id: int | None = Field(default=None, foreign_key="person.id")
    active: bool = True
    created_at: datetime | None = _ts()


class TeamMember(SQLModel, table=True):
    __tablename__ = "team_member"
    person_id: int = Field(foreign_key="person.id", primary_key=True)
    team_id: int = Field(foreign_key="team.id", primary_key=True)


class TeamAccount(SQLModel, table=True):
    """An account owned by a team: the single source of account -> team allocation rules."""

    __tablename__ = "team_account"
    account_id: str = Field(primary_key=True)
    team_id: int = Field(foreign_key="team.id", index=True)
    account_name: str | None = None


class RaciActivity(SQLModel, table=True):
    __tablename__ = "raci_activity"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_column=Column(String(128), unique=True, nullable=False))
    position: int = 0


class RaciAssignment(SQLModel, table=True):
    __tablename__ = "raci_assignment"
    __table_args__ = (UniqueConstraint("activity_id", "role", "letter"),)
    id: int | None = Field(default=None, primary_key=True)
    activity_id: int = Field(foreign_key="raci_activity.id", index=True)
    role: str
    letter: str
    note: str | None = None


class RitualRun(SQLModel, table=True):
    __tablename__ = "ritual_run"
    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(sa_column=Column(String(32), nullable=False, index=True))
    period: str = Field(sa_column=Column(String(16), nullable=False, index=True))
    status: str = "open"
    opened_at: datetime | None = _ts()
    closed_at: datetime | None = _ts(nullable=True)
    facilitator_id: int | None = Field(default=None, foreign_key="person.id")
    attendees: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    notes: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    decisions: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    numbers: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    # What the minutes show besides the numbers (actions, people's names), frozen at close; NULL for an
    # open run and for runs closed before revision 0007.
    snapshot: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    version: int = Field(default=1, sa_column=Column(Integer, nullable=False, server_default="1"))


class Action(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    title: str
    detail: str = ""
    kind: str = "other"
    owner_id: int = Field(foreign_key="person.id", index=True)
    team_id: int | None = Field(default=None, foreign_key="team.id")
    due_date: date | None = None
    status: str = Field(default="open", sa_column=Column(String(16), nullable=False, index=True))
    verified_at: datetime | None = _ts(nullable=True)
    source_run_id: int | None = Field(default=None, foreign_key="ritual_run.id")
    entity_kind: str | None = None
    entity_key: str | None = None
    expected_monthly_savings: float | None = None
    version: int = Field(default=1, sa_column=Column(Integer, nullable=False, server_default="1"))
    created_at: datetime | None = _ts()
    updated_at: datetime | None = _ts()
    # A right-sizing or clean-up action names the resource it changes (revision 0009), so the bill can tell
    # whether the expected saving was realised.
    resource_id: str | None = Field(default=None, sa_column=Column(String(512), nullable=True))
    account_id: str | None = Field(default=None, sa_column=Column(String(64), nullable=True))
    # What the bill showed after it was done (rituals.savings): the realised monthly saving and the state
    # (verified, not_realised, pending, cannot_verify), set only from data.
    realised_monthly_savings: float | None = None
    savings_state: str | None = Field(default=None, sa_column=Column(String(32), nullable=True))


class ActionEvent(SQLModel, table=True):
    __tablename__ = "action_event"
    id: int | None = Field(default=None, primary_key=True)
    action_id: int = Field(foreign_key="action.id", index=True)
    actor_id: int | None = Field(default=None, foreign_key="person.id")
    at: datetime | None = _ts()
    field: str
    old: str | None = None
    new: str | None = None
    note: str | None = None


class Budget(SQLModel, table=True):
    """A monthly budget per team (``team_id`` None: the whole organisation)."""

    __table_args__ = (UniqueConstraint("team_id", "month"),)
    id: int | None = Field(default=None, primary_key=True)
    team_id: int | None = Field(default=None, foreign_key="team.id")
    month: date  # the first day of the month
    amount: float
    source: str = "typed"  # typed, csv, aws, demo
    updated_at: datetime | None = _ts()


class BusinessMetric(SQLModel, table=True):
    """A monthly business output (active customers, API requests, inferences), optionally per team."""

    __tablename__ = "business_metric"
    __table_args__ = (UniqueConstraint("month", "metric", "team_id"),)
    id: int | None = Field(default=None, primary_key=True)
    month: date  # the first day of the month
    metric: str
    value: float
    team_id: int | None = Field(default=None, foreign_key="team.id")
    source: str = "typed"


ANOMALY_STATUSES = ("new", "acknowledged", "investigating", "resolved", "false_positive", "planned")
OPEN_ANOMALY_STATUSES = ("new", "acknowledged", "investigating")
ANOMALY_CATEGORIES = ("misconfiguration", "new_workload", "planned_activity", "pricing_change", "data_issue",
                      "unknown")


class AnomalyCase(SQLModel, table=True):
    """One anomaly of one series (or from AWS Cost Anomaly Detection) and its triage. The id is derived
    from dimension, value and start, so detecting again finds the same case. ``end`` is exclusive."""

    __tablename__ = "anomaly_case"
    id: str = Field(sa_column=Column(String(40), primary_key=True))
    source: str = "local"  # local | aws
    aws_anomaly_id: str | None = Field(default=None, sa_column=Column(String(128), nullable=True, index=True))
    dimension: str  # service | account | team | total
    value: str
    label: str | None = None  # e.g. the account's name
    start: date
    end: date
    expected_cost: float = 0.0
    actual_cost: float = 0.0
    impact: float = 0.0
    currency: str = "USD"
    root_causes: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    status: str = Field(default="new", sa_column=Column(String(16), nullable=False, index=True))
    category: str = "unknown"
    owner_team_id: int | None = Field(default=None, foreign_key="team.id")
    assignee_id: int | None = Field(default=None, foreign_key="person.id")
    notes: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    history: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    historical: bool = False
    aws_feedback: str | None = None
    first_seen: datetime | None = _ts()
    last_seen: datetime | None = _ts()
    acknowledged_at: datetime | None = _ts(nullable=True)
    resolved_at: datetime | None = _ts(nullable=True)
    version: int = Field(default=1, sa_column=Column(Integer, nullable=False, server_default="1"))
    # When a notification naming this case was delivered (revision 0008): the start of time to acknowledge.
    notified_at: datetime | None = _ts(nullable=True)


class ForecastSnapshot(SQLModel, table=True):
    """One forecast of one month's spend (``team`` None: the whole organisation), kept with when it was
    made; scored once the month's actuals are complete (``variance_pct``, ``band``)."""

    __tablename__ = "forecast_snapshot"
    id: int | None = Field(default=None, primary_key=True)
    made_at: datetime | None = _ts()
    month: date = Field(index=True)  # the first day of the forecast month
    team: str | None = None
    method: str = "ets"  # ets | cost_explorer
    forecast: float
    lower: float | None = None
    upper: float | None = None
    interval_pct: int | None = None
    data_through: date | None = None  # the last day of data the forecast saw
    currency: str = "USD"
    actual: float | None = None
    variance_pct: float | None = None
    band: str | None = None  # run | walk | crawl | outside
    scored_at: datetime | None = _ts(nullable=True)


class MaturityScore(SQLModel, table=True):
    """One capability's crawl/walk/run score in one quarterly review: the stage the evidence proposed (None
    when there was no data), the stage recorded (the proposal confirmed, or an override with its reason), the
    target, and whether the capability was chosen for next quarter."""

    __tablename__ = "maturity_score"
    __table_args__ = (UniqueConstraint("run_id", "capability"),)
    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="ritual_run.id", index=True)
    period: str = Field(sa_column=Column(String(16), nullable=False, index=True))
    capability: str = Field(sa_column=Column(String(64), nullable=False))
    proposed_stage: str | None = None  # crawl | walk | run, None: no data
    stage: str | None = None  # what the review recorded
    target_stage: str = "walk"
    overridden: bool = False
    reason: str | None = None
    evidence: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    chosen: bool = False  # one of the capabilities to invest in next quarter
    scored_at: datetime | None = _ts()


class NotifyChannel(SQLModel, table=True):
    """Where a team's (``team_id`` None: the FinOps practice's) notifications go. ``ref`` never holds the
    Apprise URL itself: ``secret:ID`` names an entry of the home's 0600 secrets file, ``env:VAR`` an
    environment variable (``storage.channel_secrets``)."""

    __tablename__ = "notify_channel"
    id: int | None = Field(default=None, primary_key=True)
    team_id: int | None = Field(default=None, foreign_key="team.id", index=True)
    ref: str = Field(sa_column=Column(String(200), nullable=False))
    label: str = ""  # the URL as shown: scheme and host, every token masked
    created_at: datetime | None = _ts()
    retired_at: datetime | None = _ts(nullable=True)  # removed: kept for the log of what it was sent


class Notification(SQLModel, table=True):
    """One message to one channel, logged before it is sent: claimed in a transaction (so a second
    ``notify`` never sends it), stamped ``sent_at`` once delivered, retried with backoff when not."""

    __table_args__ = (UniqueConstraint("kind", "key", "channel_id"),)
    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(sa_column=Column(String(32), nullable=False, index=True))
    key: str = Field(sa_column=Column(String(200), nullable=False))
    channel_id: int = Field(foreign_key="notify_channel.id", index=True)
    team: str | None = None  # the team it was routed to (None: the practice), as named then
    subjects: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    title: str = ""
    body: str = ""
    created_at: datetime | None = _ts()
    claimed_at: datetime | None = _ts(nullable=True)
    claimed_by: str | None = None
    sent_at: datetime | None = _ts(nullable=True)
    attempts: int = 0
    next_attempt_at: datetime | None = _ts(nullable=True)
    last_error: str | None = None


RECOMMENDATION_STATUSES = ("open", "accepted", "dismissed", "snoozed", "gone")


class Recommendation(SQLModel, table=True):
    """One thing to change about one resource (right-size, stop, delete, upgrade...), as one or more
    sources found it. ``key`` (action type + resource) de-duplicates across sources: one row, the sources
    listed in ``sources`` with each one's provenance. Accepting it creates an action (``action_id``);
    dismissing keeps the reason and the saving at that moment, so it returns only when its saving moves by
    the inbox's stated margin; snoozing hides it until ``snoozed_until``. ``gone``: no source finds it any
    longer."""

    __table_args__ = (UniqueConstraint("key"),)
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(sa_column=Column(String(600), nullable=False))
    action_type: str = Field(sa_column=Column(String(32), nullable=False, index=True))
    resource_id: str = Field(sa_column=Column(String(512), nullable=False))
    resource_type: str | None = None
    account: str | None = Field(default=None, sa_column=Column(String(64), nullable=True, index=True))
    region: str | None = None
    title: str = ""
    estimated_monthly_savings: float = 0.0
    currency: str = "USD"
    effort: str | None = None  # very_low | low | medium | high | very_high
    restart_needed: bool | None = None
    sources: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # Per source: {"source", "refreshed_at", "estimated_monthly_savings", "detail", ...}.
    provenance: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    team_id: int | None = Field(default=None, foreign_key="team.id")
    owner_id: int | None = Field(default=None, foreign_key="person.id")
    routed_by: str | None = None  # tag | rule | None (no owner found)
    status: str = Field(default="open", sa_column=Column(String(16), nullable=False, index=True))
    dismissed_reason: str | None = None
    dismissed_savings: float | None = None
    snoozed_until: date | None = None
    decided_at: datetime | None = _ts(nullable=True)
    decided_by_id: int | None = Field(default=None, foreign_key="person.id")
    action_id: int | None = Field(default=None, foreign_key="action.id")
    first_seen: datetime | None = _ts()
    refreshed_at: datetime | None = _ts()
    version: int = Field(default=1, sa_column=Column(Integer, nullable=False, server_default="1"))
