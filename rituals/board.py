"""The ritual board's figures: each ritual's last run and next due date, the KPI strip, open actions.

Everything here is computed from the two stores; a figure with no data is None (shown as "no data"),
never zero.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from rituals.actions import ActionView, list_actions
from rituals.calendar import add_months, next_due
from rituals.definitions.tag_sweep import KIND as TAG_SWEEP
from rituals.ritual import RITUALS

if TYPE_CHECKING:
    from storage.home import Home
    from storage.notification_log import Undelivered


@dataclass(frozen=True)
class RitualRow:
    kind: str
    title: str
    cadence: str
    last_period: str | None
    last_closed: datetime | None
    due_period: str
    due_date: date
    overdue: bool
    days_overdue: int
    open_run_id: int | None
    future: bool = False  # every period up to today is closed; Enter opens nothing new


@dataclass
class BoardKpis:
    currency: str
    allocation_pct: float | None = None
    allocation_window: tuple[date, date] | None = None
    allocation_target_pct: float | None = None
    # Month to date, or on the first days of a month the last complete month ("spend_label" says which).
    spend_label: str = "Month to date"
    spend_month: date | None = None
    mtd_spend: float | None = None
    mtd_budget_prorated: float | None = None
    month_budget: float | None = None
    open_actions: int = 0
    overdue_actions: int = 0
    last_data_day: date | None = None
    last_import_at: datetime | None = None
    aws_synced_at: str | None = None
    data_lag_days: int | None = None


@dataclass
class Board:
    today: date
    rituals: list[RitualRow] = field(default_factory=list)
    kpis: BoardKpis | None = None
    actions: list[ActionView] = field(default_factory=list)
    undelivered: list[Undelivered] = field(default_factory=list)  # notifications not yet sent


# The first days of a month hold no complete day of it yet (billing data lags 24-48 h): the board shows
# the month just ended against its budget until then.
LAST_MONTH_DAYS = 3


def ritual_rows(home: Home) -> list[RitualRow]:
    from sqlmodel import select

    from storage.records import RitualRun

    today = home.clock.today()
    with home.records.session() as s:
        runs = s.exec(select(RitualRun)).all()
    rows = []
    for ritual in RITUALS:
        mine = [r for r in runs if r.kind == ritual.kind]
        closed = [r for r in mine if r.status == "closed"]
        last = max(closed, key=lambda r: r.closed_at or datetime.min, default=None)
        due = next_due(ritual, today, home.config.calendar, {r.period for r in closed})
        open_run = next((r for r in mine if r.status == "open" and r.period == due.period), None)
        rows.append(RitualRow(ritual.kind, ritual.title, ritual.cadence, last.period if last else None,
                              last.closed_at if last else None, due.period, due.due_date, due.overdue,
                              due.days_overdue, open_run.id if open_run else None, due.future))
    return rows


def action_rows(home: Home) -> list[ActionView]:
    """Open actions, overdue first (the configured time zone decides "overdue")."""
    with home.records.session() as s:
        return list_actions(s, today=home.clock.today())


def kpis(home: Home, actions: list[ActionView]) -> BoardKpis:
    """The KPI strip, each figure from the ritual that owns it: allocation is the tag sweep's coverage
    for the last 7 complete days; spend and budget are the monthly review's (month to date, or the last
    complete month on the first days of a month)."""
    from rituals.monthly_review import spend_item
    from rituals.ritual import ritual

    today = home.clock.today()
    info = home.costs.info()
    currency = info.currency or home.config.currency
    out = BoardKpis(currency=currency, allocation_target_pct=home.config.targets.allocation_pct,
                    open_actions=len(actions), overdue_actions=sum(a.overdue for a in actions),
                    last_data_day=info.last_day, last_import_at=info.last_import_at,
                    aws_synced_at=home.costs.meta("aws_synced_at"))
    if info.last_day is not None:
        out.data_lag_days = (today - info.last_day).days
    if info.rows == 0:
        return out
    window = (today - timedelta(days=7), today)  # the sweep's default window: the last 7 complete days
    sweep = ritual(TAG_SWEEP).findings(home, window=window)
    coverage = next(h for h in sweep.headlines() if h.key == "coverage_pct")
    out.allocation_window = window
    out.allocation_pct = coverage.value if isinstance(coverage.value, int | float) else None
    month_start = today.replace(day=1)
    if today.day <= LAST_MONTH_DAYS:
        last_month = add_months(month_start, -1)
        total = spend_item(home, last_month, currency)["total"]
        out.spend_label, out.spend_month = f"Last month ({last_month:%b %Y})", last_month
        out.mtd_spend, out.month_budget = total["spend"], total["budget"]
        out.mtd_budget_prorated = total["budget"]
        return out
    # Month to date: the monthly review's own figure for a month not over (complete days, budget pro-rated).
    out.spend_month = month_start
    total = spend_item(home, month_start, currency)["total"]
    days = home.costs.daily_cost(month_start, today)
    out.mtd_spend = total["spend"] if not days.empty else None
    out.month_budget = total["budget"]
    out.mtd_budget_prorated = total["budget_to_date"]
    return out


def undelivered_rows(home: Home) -> list[Undelivered]:
    """Notifications logged but not delivered (failed and waiting for a retry, or never tried)."""
    from storage.notification_log import undelivered

    with home.records.session() as s:
        return undelivered(s)


def build_board(home: Home) -> Board:
    actions = action_rows(home)
    return Board(home.clock.today(), ritual_rows(home), kpis(home, actions), actions, undelivered_rows(home))
