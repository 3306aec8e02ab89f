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
    Window,
    number,
    plain_json,
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


KIND = "commitment_review"
RITUAL = Ritual(
    kind=KIND, title="Commitment review", cadence="monthly review, quarterly purchase",
    owner="finance, with the FinOps lead", output="coverage, utilization and a purchase plan", period_shape="M",
    reviews_ended_period=False,
    steps=(StepDef("coverage", "Coverage and utilization"), StepDef("expiring", "Expiring"),
           StepDef("baseline", "Baseline and what-if"), StepDef("decision", "Decision")),
    command="finops-tui commitments", window=window, compute=compute, headlines=headlines,
)
