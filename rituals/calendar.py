"""Ritual periods and due dates: ISO weeks, months and quarters, and which run is due when.

A run's period names what it reviews: a sweep or triage its ISO week (``2026-W47``), the commitment review
its month, the monthly review the month just ended (``2026-10``, held early in November), the quarterly
review the quarter just ended (``2026-Q3``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from storage.config import CalendarConfig


@dataclass(frozen=True)
class RitualSpec:
    kind: str
    title: str
    cadence: str
    owner: str
    output: str


RITUALS: tuple[RitualSpec, ...] = (
    RitualSpec("tag_sweep", "Tag sweep", "weekly", "FinOps lead; engineering applies fixes",
               "allocation coverage and fixes with owners"),
    RitualSpec("anomaly_triage", "Anomaly triage", "continuous, weekly at least",
               "FinOps lead triages; owning team fixes", "a closed-loop record per anomaly"),
    RitualSpec("commitment_review", "Commitment review", "monthly review, quarterly purchase",
               "finance, with the FinOps lead", "coverage, utilization and a purchase plan"),
    RitualSpec("monthly_review", "Monthly cost review", "monthly, fixed date", "FinOps lead runs; all attend",
               "spend vs budget vs forecast, an action log"),
    RitualSpec("quarterly_review", "Quarterly maturity review", "quarterly", "FinOps lead with leadership",
               "KPIs, crawl/walk/run, next capability"),
)
RITUAL_BY_KIND = {r.kind: r for r in RITUALS}


def week_period(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def month_period(day: date) -> str:
    return f"{day.year}-{day.month:02d}"


def add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def quarter_start(day: date, cal: CalendarConfig) -> date:
    """The first day of the (possibly fiscal) quarter holding ``day``."""
    starts = sorted(cal.quarter_start_months)
    candidates = [date(day.year, m, 1) for m in starts] + [date(day.year - 1, m, 1) for m in starts]
    return max(c for c in candidates if c <= day)


def quarter_period(day: date, cal: CalendarConfig) -> str:
    """``YYYY-Qn``: quarters are numbered from the first configured start month; the year is the one in
    which that quarter starts."""
    start = quarter_start(day, cal)
    index = sorted(cal.quarter_start_months).index(start.month) + 1
    return f"{start.year}-Q{index}"


_PERIOD = re.compile(r"^(\d{4})-(?:W(\d{2})|Q([1-4])|(\d{2}))$")


def period_bounds(period: str, cal: CalendarConfig | None = None) -> tuple[date, date]:
    """The days a period covers: ``start`` inclusive, ``end`` exclusive."""
    m = _PERIOD.match(period.strip())
    if not m:
        raise ValueError(f"period must look like 2026-W47, 2026-11 or 2026-Q4, got {period!r}")
    year = int(m.group(1))
    if m.group(2):
        start = date.fromisocalendar(year, int(m.group(2)), 1)
        return start, start + timedelta(days=7)
    if m.group(4):
        month = int(m.group(4))
        if not 1 <= month <= 12:
            raise ValueError(f"no month {month} in period {period!r}")
        start = date(year, month, 1)
        return start, add_months(start, 1)
    starts = sorted((cal or CalendarConfig()).quarter_start_months)
    start = date(year, starts[int(m.group(3)) - 1], 1)
    return start, add_months(start, 3)


@dataclass(frozen=True)
class Due:
    kind: str
    period: str  # the period whose run is due next
    due_date: date
    overdue: bool
    days_overdue: int


def _weekday_of_week(day: date, iso_weekday: int) -> date:
    return day - timedelta(days=day.isoweekday() - 1) + timedelta(days=iso_weekday - 1)


def next_due(kind: str, today: date, cal: CalendarConfig, closed_periods: set[str]) -> Due:
    """The next run of a ritual that is due, given the periods already closed; overdue when its due date
    has passed without a closed run."""
    if kind in ("tag_sweep", "anomaly_triage"):
        day = today
        for _ in range(60):
            period = week_period(day)
            due = _weekday_of_week(day, cal.sweep_weekday)
            if period not in closed_periods:
                break
            day += timedelta(days=7)
        # A week whose due day lies ahead is not overdue; the previous open week is shown if missed.
        prev_day = today - timedelta(days=7)
        prev = week_period(prev_day)
        if period == week_period(today) and prev not in closed_periods and due > today:
            period, due = prev, _weekday_of_week(prev_day, cal.sweep_weekday)
    elif kind == "commitment_review":
        month = date(today.year, today.month, 1)
        while month_period(month) in closed_periods:
            month = add_months(month, 1)
        period, due = month_period(month), month.replace(day=cal.monthly_review_day)
    elif kind == "monthly_review":
        month = add_months(date(today.year, today.month, 1), -1)  # the month just ended
        while month_period(month) in closed_periods:
            month = add_months(month, 1)
        period, due = month_period(month), add_months(month, 1).replace(day=cal.monthly_review_day)
    elif kind == "quarterly_review":
        start = quarter_start(add_months(quarter_start(today, cal), -3), cal)  # the quarter just ended
        while quarter_period(start, cal) in closed_periods:
            start = add_months(start, 3)
        period = quarter_period(start, cal)
        due = add_months(start, 3).replace(day=cal.monthly_review_day)
    else:
        raise ValueError(f"unknown ritual kind {kind!r}")
    late = (today - due).days
    return Due(kind, period, due, late > 0, max(late, 0))
