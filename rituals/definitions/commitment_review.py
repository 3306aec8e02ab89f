"""The commitment review: coverage on the on-demand equivalent, utilization, effective savings rate,
what expires, and a purchase plan sized on a right-sized baseline (``rituals.commitments``,
``rituals.commitment_plan``, ``rituals.commitment_review``). The decision (buy, renew, defer) is recorded
on the run with its approver from the RACI. Headless: ``finops-tui commitments``; a run freezes exactly
its ``--json`` object."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from rituals.ritual import (
    Headline,
    JsonObject,
    Request,
    Ritual,
    StepDef,
    Unit,
    Window,
    number,
    plain_json,
    row_fields,
    trailing_window,
)

if TYPE_CHECKING:
    from storage.home import Home

WINDOW_DAYS = 30


@dataclass(frozen=True)
class CommitmentFindings:
    start: str
    end: str
    currency: str
    coverage_pct: float | None
    target_coverage_pct: float | None
    utilization_pct: float | None
    effective_savings_rate_pct: float | None
    unused_commitment_cost: float | None
    recommended_additional_hourly: float | None
    suggestion: str | None
    payload: JsonObject

    @classmethod
    def from_review(cls, review: object) -> CommitmentFindings:
        d = plain_json(review)
        suggestion = d.get("suggestion")
        return cls(str(d["start"]), str(d["end"]), str(d["currency"]), number(d.get("coverage_pct")),
                   number(d.get("target_coverage_pct")), number(d.get("utilization_pct")),
                   number(d.get("effective_savings_rate_pct")), number(d.get("unused_commitment_cost")),
                   number(d.get("recommended_additional_hourly")), suggestion if isinstance(suggestion, str) else None,
                   d)

    def as_json(self) -> JsonObject:
        return self.payload

    def headlines(self) -> list[Headline]:
        return headlines(self.payload)


def headlines(numbers: JsonObject) -> list[Headline]:
    """Coverage against its target, utilization, the savings rate and the commitment left unused."""
    return [Headline("coverage_pct", "Commitment coverage", number(numbers.get("coverage_pct")), "pct",
                     target=number(numbers.get("target_coverage_pct"))),
            Headline("utilization_pct", "Utilization", number(numbers.get("utilization_pct")), "pct"),
            Headline("effective_savings_rate_pct", "Effective savings rate",
                     number(numbers.get("effective_savings_rate_pct")), "pct"),
            Headline("unused_commitment_cost", "Unused commitment", number(numbers.get("unused_commitment_cost")),
                     "money", currency=str(numbers.get("currency") or ""))]


def window(home: Home, period: str) -> Window:
    """The 30 days before the end of the month or today, whichever comes first."""
    return trailing_window(home, period, WINDOW_DAYS)


def compute(home: Home, request: Request) -> CommitmentFindings:
    from rituals.commitment_review import review

    lookback = request.options.get("lookback")
    return CommitmentFindings.from_review(review(home, *request.window,
                                                 lookback if isinstance(lookback, int) else None))


# The kind of every figure a commitment review freezes that its minutes show.
_COMMITMENT: tuple[tuple[str, Unit], ...] = (
    ("commitment_id", "text"), ("description", "text"), ("hourly_commitment", "money"), ("end_date", "date"),
    ("days_left", "count"), ("payment_option", "text"), ("utilization_pct", "pct"))
_COVERAGE: tuple[tuple[str, Unit], ...] = (
    ("eligible", "money"), ("covered", "money"), ("used", "money"), ("unused", "money"), ("coverage_pct", "pct"),
    ("utilization_pct", "pct"))
FIELDS: dict[str, Unit] = {
    "start": "date", "end": "date", "coverage_pct": "pct", "utilization_pct": "pct",
    "effective_savings_rate_pct": "pct", "target_coverage_pct": "pct", "eligible_cost": "money",
    "covered_cost": "money", "used_commitment_cost": "money", "unused_commitment_cost": "money",
    "rows_without_list_cost": "count", "lookback_days": "count", "baseline_percentile": "count",
    "baseline_low_daily": "money", "reduction_monthly_savings": "money", "baseline_daily": "money",
    "baseline_hourly": "money", "expected_eligible_hourly": "money", "retained_covered_hourly": "money",
    "target_covered_hourly": "money", "expiring_hourly": "money", "discount_rate_pct": "pct",
    "recommended_additional_hourly": "money", "aws_recommended_hourly": "money", "suggestion": "text",
    **row_fields("inventory", *_COMMITMENT), **row_fields("expiring", *_COMMITMENT),
    **row_fields("daily", ("day", "date"), *_COVERAGE),
    **row_fields("by_service", ("service", "text"), ("program", "text"), *_COVERAGE),
    **row_fields("by_account", ("account", "text"), ("account_name", "text"), ("program", "text"), *_COVERAGE),
    **row_fields("programs", ("program", "text"), ("commitments", "count"), ("eligible_cost", "money"),
                 ("covered_cost", "money"), ("coverage_pct", "pct"), ("unused_commitment_cost", "money"),
                 ("utilization_pct", "pct")),
    "committed_rows_without_list_cost": "count", "committed_without_list_effective_cost": "money",
    **row_fields("reduction_actions", ("id", "count"), ("title", "text"), ("status", "text"),
        ("owner", "text"), ("expected_monthly_savings", "money"), ("recommendation_id", "count"),
        ("resource_id", "text")),
    **row_fields("hub_purchase_recommendations", ("source", "text"), ("recommendation_id", "text"),
        ("action_type", "text"), ("account_id", "text"), ("region", "text"), ("resource_type", "text"),
        ("recommended", "text"), ("estimated_monthly_savings", "money"), ("currency", "text"),
        ("lookback_days", "count")),
    **row_fields("what_if", ("additional_hourly", "money"), ("coverage_pct", "pct"),
        ("utilization_pct", "pct"), ("monthly_savings", "money"),
        ("stranded_monthly", "money"), ("stranded_risk", "text"),
        ("recommended", "text")),
}

KIND = "commitment_review"
RITUAL = Ritual(
    kind=KIND, title="Commitment review", cadence="monthly review, quarterly purchase",
    owner="finance, with the FinOps lead", output="coverage, utilization and a purchase plan", period_shape="M",
    reviews_ended_period=False,
    steps=(StepDef("coverage", "Coverage and utilization"), StepDef("expiring", "Expiring"),
           StepDef("baseline", "Baseline and what-if"), StepDef("decision", "Decision")),
    command="finops-tui commitments", window=window, compute=compute, headlines=headlines, fields=FIELDS,
)
