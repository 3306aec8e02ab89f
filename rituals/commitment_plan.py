"""The purchase plan: a right-sized baseline, the commitment that reaches the target coverage, and what-ifs.

Usage before rate: the baseline is a low percentile of eligible on-demand spend per day over the lookback,
minus the expected savings of open right-sizing and clean-up actions (the team has already decided that
usage goes away, so committing to it would strand the commitment). Amounts of commitment are in dollars
per hour of discounted spend, as AWS sells Savings Plans; coverage is on the on-demand equivalent.

Assumptions, stated so the numbers can be checked: the actions' savings come off uncovered usage first;
commitments that expire within the horizon are not renewed unless bought again (so the plan sizes their
replacement); a new commitment gives ``discount_pct`` off the on-demand rate.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

DAYS_PER_MONTH = 365.0 / 12.0
WHAT_IF_STEPS = (0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0)


def percentile(values: list[float], pct: float) -> float:
    """Linear-interpolated percentile (numpy's default), 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    pos = (len(ordered) - 1) * pct / 100.0
    lo = int(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


@dataclass(frozen=True)
class PlanInputs:
    eligible: list[float]  # eligible on-demand equivalent per day of the lookback
    covered_retained: list[float]  # of it, covered per day by commitments that stay
    used_retained: float  # used commitment (EffectiveCost) over the lookback, commitments that stay
    unused_retained: float
    actions_monthly_savings: float = 0.0
    percentile: float = 10.0
    target_coverage_pct: float = 75.0
    discount_pct: float = 25.0
    expiring_hourly: float = 0.0  # hourly commitment of what expires within the horizon (for the suggestion)
    aws_recommended_hourly: float | None = None


@dataclass
class Plan:
    lookback_days: int
    percentile: float
    low_daily: float  # the percentile of eligible on-demand spend per day
    actions_monthly_savings: float
    baseline_daily: float
    baseline_hourly: float
    expected_hourly: float  # mean eligible on-demand per hour after the actions
    covered_hourly: float  # mean covered on-demand per hour by commitments that stay
    target_coverage_pct: float
    target_covered_hourly: float
    capped_at_baseline: bool
    recommended_additional_hourly: float  # commitment dollars per hour
    discount_pct: float
    suggestion: str
    what_if: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items()}


def _adjusted(inputs: PlanInputs) -> tuple[list[float], list[float], float]:
    """Daily eligible after the actions, the uncovered part of it, and the actions' daily savings."""
    cut = inputs.actions_monthly_savings / DAYS_PER_MONTH
    usage = [max(u - cut, 0.0) for u in inputs.eligible]
    uncovered = [max(u - c, 0.0) for u, c in zip(usage, inputs.covered_retained, strict=True)]
    return usage, uncovered, cut


def what_if(inputs: PlanInputs, additional_hourly: float, baseline_daily: float) -> dict[str, Any]:
    """Projected coverage, utilisation, monthly savings and stranded commitment of buying
    ``additional_hourly`` more, replayed over the lookback's days."""
    usage, uncovered, _cut = _adjusted(inputs)
    n = len(usage)
    rate = 1.0 - inputs.discount_pct / 100.0
    capacity = additional_hourly / rate * 24.0 if rate > 0 else 0.0  # on-demand covered per day, at most
    new_cov = [min(capacity, u) for u in uncovered]
    covered = sum(inputs.covered_retained) + sum(new_cov)
    spent = additional_hourly * 24.0 * n
    used = inputs.used_retained + sum(new_cov) * rate
    committed = inputs.used_retained + inputs.unused_retained + spent
    per_month = DAYS_PER_MONTH / n if n else 0.0
    total_daily = (sum(inputs.covered_retained) / n if n else 0.0) + capacity
    median = percentile(usage, 50.0)
    risk = "low" if total_daily <= baseline_daily + 1e-9 else "medium" if total_daily <= median else "high"
    return {
        "additional_hourly": round(additional_hourly, 4),
        "coverage_pct": round(covered / sum(usage) * 100.0, 3) if sum(usage) > 0 else None,
        "utilization_pct": round(used / committed * 100.0, 3) if committed > 0 else None,
        "monthly_savings": round((sum(new_cov) - spent) * per_month, 2),
        "stranded_monthly": round(max(spent - sum(new_cov) * rate, 0.0) * per_month, 2),
        "stranded_risk": risk if additional_hourly > 0 else "none",
    }


# The smallest hourly commitment AWS sells a Savings Plan for: a smaller recommendation cannot be bought.
MIN_HOURLY_COMMITMENT = 0.001


def suggest(recommended: float, expiring_hourly: float) -> str:
    if recommended < MIN_HOURLY_COMMITMENT:
        return "defer"
    return "renew" if expiring_hourly > 0 else "buy"


def plan(inputs: PlanInputs) -> Plan:
    n = len(inputs.eligible)
    usage, _uncovered, cut = _adjusted(inputs)
    low = percentile(inputs.eligible, inputs.percentile)
    baseline_daily = max(low - cut, 0.0)
    expected_hourly = sum(usage) / n / 24.0 if n else 0.0
    covered_hourly = sum(inputs.covered_retained) / n / 24.0 if n else 0.0
    baseline_hourly = baseline_daily / 24.0
    want = inputs.target_coverage_pct / 100.0 * expected_hourly
    target = min(want, baseline_hourly)
    rate = 1.0 - inputs.discount_pct / 100.0
    recommended = max(target - covered_hourly, 0.0) * rate
    steps = sorted({round(recommended * s, 2) for s in WHAT_IF_STEPS}
                   | ({round(inputs.aws_recommended_hourly, 2)} if inputs.aws_recommended_hourly else set()))
    rows = [what_if(inputs, a, baseline_daily) for a in steps] if n else []
    for row in rows:
        row["recommended"] = abs(row["additional_hourly"] - round(recommended, 2)) < 0.005
    return Plan(lookback_days=n, percentile=inputs.percentile, low_daily=low,
                actions_monthly_savings=inputs.actions_monthly_savings, baseline_daily=baseline_daily,
                baseline_hourly=baseline_hourly, expected_hourly=expected_hourly, covered_hourly=covered_hourly,
                target_coverage_pct=inputs.target_coverage_pct, target_covered_hourly=target,
                capped_at_baseline=want > baseline_hourly, recommended_additional_hourly=recommended,
                discount_pct=inputs.discount_pct, suggestion=suggest(recommended, inputs.expiring_hourly),
                what_if=rows)
