"""Unit economics: cost per business output (per active customer, per 1k API requests, per inference).

Which spend a metric divides is configured in ``[unit_economics.spend]``: "total" (the month's spend) or a
team's name (that team's showback total, its direct spend plus its share of shared costs). A metric not
listed divides the spend of the team its values are recorded for, else the total. Each metric gets a
6-month trend and a flag when its unit cost rises while its volume grows (a margin getting worse as the
feature succeeds).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from rituals.calendar import add_months
from rituals.showback import Showback, ShowbackInputs, month_key, monthly_showbacks

if TYPE_CHECKING:
    from storage.home import Home

TREND_MONTHS = 6
# A unit cost trend below this (% a month) is noise, not a rise worth a flag.
RISE_THRESHOLD_PCT = 0.5
TOTAL = "total"


@dataclass(frozen=True)
class UnitPoint:
    month: str
    spend: float | None
    volume: float | None
    unit_cost: float | None

    def as_dict(self) -> dict[str, Any]:
        return {"month": self.month, "spend": self.spend, "volume": self.volume, "unit_cost": self.unit_cost}


@dataclass(frozen=True)
class UnitMetric:
    metric: str
    spend_of: str  # "total" or a team name
    per: float
    trend: list[UnitPoint]
    unit_cost_trend_pct: float | None  # fitted change a month over the trend window
    volume_trend_pct: float | None
    rising: bool

    @property
    def latest(self) -> UnitPoint:
        return self.trend[-1]

    def as_dict(self) -> dict[str, Any]:
        last = self.latest
        return {"metric": self.metric, "spend_of": self.spend_of, "per": self.per, "spend": last.spend,
                "volume": last.volume, "unit_cost": last.unit_cost,
                "unit_cost_trend_pct": self.unit_cost_trend_pct, "volume_trend_pct": self.volume_trend_pct,
                "rising_unit_cost": self.rising, "trend": [p.as_dict() for p in self.trend]}


@dataclass(frozen=True)
class UnitEconomics:
    month: str
    currency: str
    metrics: list[UnitMetric]

    def as_json(self) -> dict[str, Any]:
        """The headless ``unit-costs --json`` object."""
        return {"month": self.month, "currency": self.currency, "trend_months": TREND_MONTHS,
                "metrics": [m.as_dict() for m in self.metrics],
                "rising": [m.metric for m in self.metrics if m.rising]}


def unit_cost(spend: float | None, volume: float | None, per: float = 1.0) -> float | None:
    if spend is None or volume is None or volume <= 0:
        return None
    return spend / volume * per


def monthly_trend_pct(values: Sequence[float | None]) -> float | None:
    """The least-squares growth a month of a positive series (log-linear fit), in percent; None with
    fewer than three positive points. One odd month moves it much less than a first-to-last ratio."""
    points = [(i, math.log(v)) for i, v in enumerate(values) if v is not None and v > 0]
    if len(points) < 3:
        return None
    n = len(points)
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    sxx = sum((x - mx) ** 2 for x, _ in points)
    slope = sum((x - mx) * (y - my) for x, y in points) / sxx
    return (math.exp(slope) - 1) * 100


def unit_metric(metric: str, spend_of: str, per: float,
                points: Sequence[tuple[str, float | None, float | None]]) -> UnitMetric:
    """A metric's unit costs from (month, spend, volume) points, oldest first."""
    trend = [UnitPoint(m, s, v, unit_cost(s, v, per)) for m, s, v in points]
    uc = monthly_trend_pct([p.unit_cost for p in trend])
    vol = monthly_trend_pct([p.volume for p in trend])
    rising = uc is not None and vol is not None and uc > RISE_THRESHOLD_PCT and vol > 0
    return UnitMetric(metric, spend_of, per, trend, uc, vol, rising)


def metric_values(records: Any, first: date, last: date) -> tuple[dict[tuple[str, date], float], dict[str, str]]:
    """(metric, month) -> value summed over teams, and metric -> the team its values are recorded for
    (when they all name one team)."""
    from sqlmodel import col, select

    from storage.records import BusinessMetric, Team

    values: dict[tuple[str, date], float] = {}
    teams: dict[str, set[str | None]] = {}
    with records.session() as s:
        rows = s.exec(select(BusinessMetric, Team.name).join(Team, col(Team.id) == BusinessMetric.team_id, isouter=True)
                      .where(BusinessMetric.month >= first, BusinessMetric.month <= last)).all()
    for m, team in rows:
        key = (m.metric, m.month)
        values[key] = values.get(key, 0.0) + float(m.value)
        teams.setdefault(m.metric, set()).add(team)
    single = {k: next(iter(v)) for k, v in teams.items() if len(v) == 1 and next(iter(v))}
    return values, single  # type: ignore[return-value]


def trend_months(month: date) -> tuple[date, date]:
    """The first and last month (first days) of ``month``'s trend: the 6 months ending there."""
    return add_months(month, -(TREND_MONTHS - 1)), month


def unit_economics(home: Home, month: date, showbacks: dict[date, Showback] | None = None,
                   inputs: ShowbackInputs | None = None) -> UnitEconomics:
    """Unit costs for ``month`` (its first day) with the 6 months ending there; ``showbacks`` (with the
    ``inputs`` they were computed with) may hold those months already, computed for several trends at once
    (``monthly_showbacks`` over their union: the quarterly scorecard's four quarters)."""
    first, _ = trend_months(month)
    inputs = inputs or ShowbackInputs.from_home(home)
    if showbacks is None:
        showbacks = monthly_showbacks(home.costs, inputs, first, month)
    else:
        showbacks = {m: showbacks[m] for m in sorted(showbacks) if first <= m <= month}
    values, metric_team = metric_values(home.records, first, month)
    cfg = home.config.unit_economics
    names = sorted({m for m, _ in values})
    metrics = []
    for name in names:
        spend_of = cfg.spend.get(name) or metric_team.get(name) or TOTAL
        points = []
        for when, sb in showbacks.items():
            if spend_of == TOTAL:
                spend = sb.total if sb.teams or sb.total else None
            else:
                line = sb.team(spend_of)
                spend = line.total if line else None
            points.append((month_key(when), spend, values.get((name, when))))
        metrics.append(unit_metric(name, spend_of, cfg.per.get(name, 1.0), points))
    return UnitEconomics(month_key(month), inputs.currency, metrics)
