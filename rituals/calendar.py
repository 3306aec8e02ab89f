"""Ritual periods and due dates: ISO weeks, months and quarters, and which run is due when.

A run's period names what it reviews: a sweep or triage its ISO week (``2026-W47``), the commitment review
its month, the monthly review the month just ended (``2026-10``, held early in November), the quarterly
review the quarter just ended (``2026-Q3``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

from storage.config import CalendarConfig

if TYPE_CHECKING:
    from rituals.ritual import Ritual
    from storage.home import Home


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
    future: bool = False  # every period up to today is closed: this one has not begun (or ended) yet


def _weekday_of_week(day: date, iso_weekday: int) -> date:
    return day - timedelta(days=day.isoweekday() - 1) + timedelta(days=iso_weekday - 1)


def next_due(ritual: Ritual, today: date, cal: CalendarConfig, closed_periods: set[str]) -> Due:
    """The next run of ``ritual`` that is due, given the periods already closed; overdue when its due date
    has passed without a closed run. Weekly rituals review the current ISO week (or the previous one if
    it was missed), the commitment review the current month, the monthly and quarterly reviews the month
    or quarter just ended. ``future`` is set when every period up to today is closed already."""
    shape = ritual.period_shape
    if shape == "W":
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
        future = period_bounds(period, cal)[0] > today
    elif shape == "M" and not ritual.reviews_ended_period:
        month = date(today.year, today.month, 1)
        while month_period(month) in closed_periods:
            month = add_months(month, 1)
        period, due = month_period(month), month.replace(day=cal.monthly_review_day)
        future = month > today
    elif shape == "M":
        month = add_months(date(today.year, today.month, 1), -1)  # the month just ended
        while month_period(month) in closed_periods:
            month = add_months(month, 1)
        period, due = month_period(month), add_months(month, 1).replace(day=cal.monthly_review_day)
        future = add_months(month, 1) > today
    else:
        start = quarter_start(add_months(quarter_start(today, cal), -3), cal)  # the quarter just ended
        while quarter_period(start, cal) in closed_periods:
            start = add_months(start, 3)
        period = quarter_period(start, cal)
        due = add_months(start, 3).replace(day=cal.monthly_review_day)
        future = add_months(start, 3) > today
    late = (today - due).days
    return Due(ritual.kind, period, due, late > 0 and not future, max(late, 0) if not future else 0, future)


def closed_periods(home: Home, kind: str) -> set[str]:
    from sqlmodel import col, select

    from storage.records import RitualRun

    with home.records.session() as s:
        return set(s.exec(select(RitualRun.period).where(col(RitualRun.kind) == kind,
                                                         col(RitualRun.status) == "closed")))


def due_now(ritual: Ritual, home: Home) -> Due:
    return next_due(ritual, home.clock.today(), home.config.calendar, closed_periods(home, ritual.kind))


def default_period(ritual: Ritual, home: Home) -> str:
    """The period a ritual opened without one reviews: the one due now; when every period up to today is
    closed, the latest one that has begun (never a future period)."""
    due = due_now(ritual, home)
    if not due.future:
        return due.period
    return current_period(ritual, home.clock.today(), home.config.calendar)


def current_period(ritual: Ritual, today: date, cal: CalendarConfig) -> str:
    """The latest period of ``ritual`` that has begun (weekly, the commitment review) or ended (the
    monthly and quarterly reviews) by ``today``."""
    if ritual.period_shape == "W":
        return week_period(today)
    if ritual.period_shape == "M":
        month = date(today.year, today.month, 1)
        return month_period(add_months(month, -1) if ritual.reviews_ended_period else month)
    return quarter_period(add_months(quarter_start(today, cal), -3), cal)
