"""The ritual board's figures: each ritual's last run and next due date, the KPI strip, open actions.

Everything here is computed from the two stores; a figure with no data is None (shown as "no data"),
never zero.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from rituals.calendar import add_months, next_due
from rituals.definitions.tag_sweep import KIND as TAG_SWEEP
from rituals.ritual import RITUALS

if TYPE_CHECKING:
    from rituals.actions import ActionView
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
    from rituals.actions import list_actions

    with home.records.session() as s:
        return list_actions(s, today=home.clock.today())


def kpis(home: Home, actions: list[ActionView]) -> BoardKpis:
    """The KPI strip, each figure from the ritual that owns it: allocation is the tag sweep's coverage
    for the last 7 complete days; spend and budget are the monthly review's (month to date, or the last
    complete month on the first days of a month). The cost store is held open for its reads."""
    with home.costs.held():
        return _kpis(home, actions)


def _kpis(home: Home, actions: list[ActionView]) -> BoardKpis:
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


def records_board(home: Home, *, keep_counts: bool = False) -> Board:
    """The board's record rows (rituals, open actions, undelivered notifications), without the KPI strip:
    quick, and never loads DuckDB or pandas. ``keep_counts``: keep the action counts for the next start."""
    actions = live_action_rows(home) if keep_counts else action_rows(home)
    return Board(home.clock.today(), ritual_rows(home), None, actions, undelivered_rows(home))


def build_board(home: Home) -> Board:
    board = records_board(home)
    board.kpis = kpis(home, board.actions)
    return board


# -- the KPI strip, cached in the home between starts (storage.figure_cache says what the key holds) -------

CACHE_NAME = "board_kpis"
# The record tables the KPI strip's cost figures read: teams and their accounts (allocation, team spend)
# and budgets. The action counts are read live each time; the last live counts are kept under a key of
# their own (the action table, the config's time zone, today) only to be shown before the live read.
KPI_RECORD_TABLES = ("team", "team_account", "budget")
COUNTS_NAME = "board_action_counts"
COUNT_RECORD_TABLES = ("action",)
_DATE_FIELDS = {"spend_month", "last_data_day"}


@dataclass(frozen=True)
class KpiFigures:
    kpis: BoardKpis
    computed_at: datetime
    current: bool  # False: computed before the last load, a records or config change, or on another day
    counts_known: bool = True  # False: the action counts are not known yet (their tile waits for them)


def kpis_to_json(k: BoardKpis) -> dict[str, Any]:
    out = asdict(k)
    for name, value in out.items():
        if isinstance(value, date | datetime):
            out[name] = value.isoformat()
        elif name == "allocation_window" and value is not None:
            out[name] = [d.isoformat() for d in value]
    return out


def kpis_from_json(data: dict[str, Any]) -> BoardKpis:
    values: dict[str, Any] = {}
    for f in fields(BoardKpis):
        if f.name not in data:
            continue
        value = data[f.name]
        if value is not None and f.name in _DATE_FIELDS:
            value = date.fromisoformat(value)
        elif value is not None and f.name == "last_import_at":
            value = datetime.fromisoformat(value)
        elif value is not None and f.name == "allocation_window":
            value = (date.fromisoformat(value[0]), date.fromisoformat(value[1]))
        values[f.name] = value
    return BoardKpis(**values)


def action_counts(actions: list[ActionView]) -> tuple[int, int]:
    """Open and overdue actions: what the Actions tile shows."""
    return len(actions), sum(a.overdue for a in actions)


def _with_counts(k: BoardKpis, counts: tuple[int, int]) -> BoardKpis:
    k.open_actions, k.overdue_actions = counts
    return k


def cached_kpis(home: Home, actions: list[ActionView] | None) -> KpiFigures | None:
    """The KPI strip as last computed in this home; ``current`` says whether it was computed under the
    present key. With ``actions`` (read live) their counts are shown; without, the counts of the last live
    read if the action table has not changed since (else ``counts_known`` is False). On a local records
    file this needs neither SQLAlchemy nor DuckDB nor pandas: the board shows it right after its first paint.
    None when nothing usable is cached."""
    from storage import figure_cache

    found = figure_cache.read(home, CACHE_NAME, figure_cache.cache_key(home, KPI_RECORD_TABLES))
    if found is None:
        return None
    try:
        k = kpis_from_json(found.figures)
    except (TypeError, ValueError, IndexError):  # written by another version: recompute
        return None
    if actions is not None:
        return KpiFigures(_with_counts(k, action_counts(actions)), found.computed_at, found.current)
    counts = _cached_counts(home)
    if counts is None:
        return KpiFigures(k, found.computed_at, found.current, counts_known=False)
    return KpiFigures(_with_counts(k, counts), found.computed_at, found.current)


def _cached_counts(home: Home) -> tuple[int, int] | None:
    from storage import figure_cache

    found = figure_cache.read(home, COUNTS_NAME, figure_cache.cache_key(home, COUNT_RECORD_TABLES, costs=False))
    if found is None or not found.current:
        return None
    try:
        return int(found.figures["open"]), int(found.figures["overdue"])
    except (KeyError, TypeError, ValueError):
        return None


def live_action_rows(home: Home) -> list[ActionView]:
    """``action_rows``, keeping their counts for the next start's first paint. The key is taken before the
    read, so a write landing meanwhile leaves the kept counts stale, never passed off as current."""
    from storage import figure_cache

    key = figure_cache.cache_key(home, COUNT_RECORD_TABLES, costs=False)
    actions = action_rows(home)
    found = figure_cache.read(home, COUNTS_NAME, key)
    open_, overdue = action_counts(actions)
    if found is None or not found.current or found.figures != {"open": open_, "overdue": overdue}:
        figure_cache.write(home, COUNTS_NAME, key, {"open": open_, "overdue": overdue}, home.clock.now())
    return actions


def fresh_kpis(home: Home, actions: list[ActionView]) -> KpiFigures:
    """Compute the KPI strip and keep it for the next start. The key is taken before computing, so a load
    that lands meanwhile leaves the entry stale rather than passing old figures off as new."""
    from storage import figure_cache

    key = figure_cache.cache_key(home, KPI_RECORD_TABLES)
    at = home.clock.now()
    k = kpis(home, actions)
    figure_cache.write(home, CACHE_NAME, key, kpis_to_json(k), at)
    return KpiFigures(k, at, True)


class Dated(Protocol):
    computed_at: datetime
    current: bool


def figures_note(figures: Dated | None, *, refreshing: bool, tz: Any = None, what: str = "Figures") -> str:
    """The line beside cached figures (the board's KPI strip, a ritual screen's findings): when they were
    computed and whether they are being refreshed; a stale entry says so."""
    if figures is None:
        return "Computing the figures…" if refreshing else ""
    at = figures.computed_at.astimezone(tz) if tz is not None else figures.computed_at
    when = f"{at:%Y-%m-%d %H:%M}"
    if not figures.current:
        return f"STALE figures, computed {when} before the data, records or day changed; recomputing…"
    return f"{what} computed {when}" + ("; refreshing…" if refreshing else "")
