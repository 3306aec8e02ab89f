"""The month a monthly review looks at: how much of it has happened, and its allocation and commitment
coverage measured over that month (``rituals.monthly_review`` builds the agenda from these).

A review of a month that is not over yet (the current month, on any day of it) must not compare a few
days of spend with a whole month: its figures are month to date (the complete days, through yesterday),
compared with the same days of the month before and with the budget pro-rated to those days.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from rituals.calendar import add_months, month_period
from rituals.definitions.commitment_review import KIND as COMMITMENT_REVIEW
from rituals.definitions.tag_sweep import KIND as TAG_SWEEP

if TYPE_CHECKING:
    from storage.home import Home

TREND_RUNS = 8


@dataclass(frozen=True)
class MonthProgress:
    """``month`` (its first day) seen from ``today``: the complete days are those before today."""

    month: date
    today: date

    @property
    def end(self) -> date:
        return add_months(self.month, 1)

    @property
    def through(self) -> date:
        """The end (exclusive) of the month's complete days."""
        return max(self.month, min(self.end, self.today))

    @property
    def days_in_month(self) -> int:
        return (self.end - self.month).days

    @property
    def days_complete(self) -> int:
        return (self.through - self.month).days

    @property
    def complete(self) -> bool:
        return self.through >= self.end

    @property
    def state(self) -> str:
        if self.complete:
            return "complete"
        return "in progress" if self.days_complete else "no complete day yet"

    @property
    def share(self) -> float:
        """The share of the month that is complete (0 to 1): what a month's budget is pro-rated by."""
        return self.days_complete / self.days_in_month

    @property
    def previous(self) -> date:
        return add_months(self.month, -1)

    @property
    def previous_through(self) -> date:
        """The end (exclusive) of the same days of the month before (no later than that month's end)."""
        return min(self.previous + timedelta(days=self.days_complete), self.month)

    def as_json(self) -> dict[str, Any]:
        return {"month": month_period(self.month), "state": self.state, "complete": self.complete,
                "days_complete": self.days_complete, "days_in_month": self.days_in_month,
                "through": self.through, "compared_with": {"start": self.previous, "end": self.previous_through}}


def _latest_closed(home: Home, kind: str) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """The latest closed run of ``kind`` (id, period, closed_at, coverage_pct) and the trend of the last
    few runs' coverage."""
    from rituals.runs import list_runs

    with home.records.session() as s:
        closed = [r for r in list_runs(s, kind) if r.status == "closed" and r.numbers]
    if not closed:
        return None, []
    ordered = sorted(closed, key=lambda r: (r.closed_at or r.opened_at, r.id))
    latest = ordered[-1]
    n = latest.numbers or {}
    last = {"run_id": latest.id, "period": latest.period, "closed_at": latest.closed_at, "start": n.get("start"),
            "end": n.get("end"), "coverage_pct": n.get("coverage_pct")}
    trend = [{"period": r.period, "coverage_pct": (r.numbers or {}).get("coverage_pct")} for r in ordered[-TREND_RUNS:]]
    return last, trend


def _r(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(float(value), digits)


def coverage_item(home: Home, progress: MonthProgress) -> dict[str, Any]:
    """Item 6: allocation coverage (``rituals.allocation``, the sweep's one definition) and commitment
    coverage, utilization and savings rate (``rituals.commitments``, as the quarterly KPIs read them), both
    measured over the month's complete days, so they sit beside the month's showback; with the latest
    closed sweep and commitment review for context."""
    from rituals.allocation import account_teams_from_records, coverage
    from rituals.commitments import eligible_services, totals_from, usage_frame

    cfg = home.config
    start, end = progress.month, progress.through
    cov = coverage(home.costs, account_teams_from_records(home.records), start, end, cfg.taxonomy.charge_categories)
    last_sweep, sweep_trend = _latest_closed(home, TAG_SWEEP)
    allocation = {"status": "measured", "start": start, "end": end, "charge_categories": list(cfg.taxonomy.charge_categories),
                  "coverage_pct": _r(cov.coverage_pct, 4), "by_tag_pct": _r(cov.by_tag_pct, 4),
                  "by_rule_pct": _r(cov.by_rule_pct, 4), "total_cost": _r(cov.total_cost),
                  "unallocated_cost": _r(cov.unallocated_cost), "target_pct": cfg.targets.allocation_pct,
                  "last_sweep": last_sweep, "trend": sweep_trend}
    eligible = eligible_services(cfg.commitments.eligible_services)
    frame = usage_frame(home.costs, start, end, eligible) if end > start else None
    fig = totals_from(frame, start, end) if frame else None
    last_review, review_trend = _latest_closed(home, COMMITMENT_REVIEW)
    commitments = {"status": "measured", "start": start, "end": end,
                   "coverage_pct": _r(fig.coverage_pct, 4) if fig else None,
                   "utilization_pct": _r(fig.utilization_pct, 4) if fig else None,
                   "effective_savings_rate_pct": _r(fig.effective_savings_rate_pct, 4) if fig else None,
                   "eligible_cost": _r(fig.eligible_cost) if fig else None,
                   "covered_cost": _r(fig.covered_cost) if fig else None,
                   "unused_commitment_cost": _r(fig.unused_commitment_cost) if fig else None,
                   "target_coverage_pct": cfg.targets.commitment_coverage_pct,
                   "last_review": last_review, "trend": review_trend}
    return {"source": "month", "allocation": allocation, "commitments": commitments}
