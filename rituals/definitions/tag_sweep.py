"""The weekly tag and allocation sweep: coverage by tag and by rule, per-key hygiene, where unallocated
spend leaks, variant values and the open tag fixes checked against the data (``rituals.tag_sweep``,
``rituals.tag_fixes``). Headless: ``finops-tui sweep``; a run freezes exactly its ``--json`` object."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rituals.ritual import (
    Findings,
    Headline,
    JsonObject,
    Request,
    Ritual,
    StepDef,
    Window,
    number,
    trailing_window,
)

if TYPE_CHECKING:
    from storage.home import Home

WINDOW_DAYS = 7


def window(home: Home, period: str) -> Window:
    """The 7 days before the end of the week or today, whichever comes first."""
    return trailing_window(home, period, WINDOW_DAYS)


def headlines(numbers: JsonObject) -> list[Headline]:
    """Coverage against its target, and the money behind it."""
    currency = str(numbers.get("currency") or "")
    return [Headline("coverage_pct", "Allocation coverage", number(numbers.get("coverage_pct")), "pct",
                     target=number(numbers.get("target_pct"))),
            Headline("unallocated_cost", "Unallocated", number(numbers.get("unallocated_cost")), "money",
                     currency=currency),
            Headline("total_cost", "Spend", number(numbers.get("total_cost")), "money", currency=currency)]


def compute(home: Home, request: Request) -> Findings:
    from rituals.tag_fixes import compute_sweep

    return compute_sweep(home, *request.window)


KIND = "tag_sweep"
RITUAL = Ritual(
    kind=KIND, title="Tag sweep", cadence="weekly", owner="FinOps lead; engineering applies fixes",
    output="allocation coverage and fixes with owners", period_shape="W", reviews_ended_period=False,
    steps=(StepDef("coverage", "Coverage"), StepDef("leaks", "Where it leaks"), StepDef("variants", "Variants"),
           StepDef("fixes", "Assign fixes")),
    command="finops-tui sweep", window=window, compute=compute, headlines=headlines,
)
