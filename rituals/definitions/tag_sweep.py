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
    Unit,
    Window,
    number,
    row_fields,
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

    return compute_sweep(home, *request.window, progress=request.progress)


# The kind of every figure the sweep freezes that its minutes show.
FIELDS: dict[str, Unit] = {
    "start": "date", "end": "date", "total_cost": "money", "allocated_cost": "money", "unallocated_cost": "money",
    "by_tag_cost": "money", "by_rule_cost": "money", "coverage_pct": "pct", "by_tag_pct": "pct",
    "by_rule_pct": "pct", "target_pct": "pct", "by_key.*": "pct", "unused_commitment.cost": "money",
    "unused_commitment.owner": "text",
    **row_fields("by_account", ("account_id", "text"), ("account_name", "text"), ("cost", "money"),
        ("allocated_cost", "money"), ("unallocated_cost", "money"),
        ("coverage_pct", "pct")),
    **row_fields("by_service", ("service", "text"), ("cost", "money"), ("allocated_cost", "money"),
        ("unallocated_cost", "money"), ("coverage_pct", "pct")),
    **row_fields("by_team", ("team", "text"), ("cost", "money"), ("share_pct", "pct"),
        ("by_tag_pct", "pct"), ("by_rule_pct", "pct")),
    **row_fields("unallocated_by_account", ("account_id", "text"), ("account_name", "text"),
        ("unallocated_cost", "money"), ("share_pct", "pct")),
    **row_fields("unallocated_by_service", ("service", "text"), ("unallocated_cost", "money"),
        ("share_pct", "pct")),
    **row_fields("top_unallocated", ("resource_id", "text"), ("account_id", "text"),
        ("account_name", "text"), ("service", "text"), ("cost", "money"),
        ("suggested_owner", "text"), ("fix_owner", "text")),
    **row_fields("variants", ("key", "text"), ("value", "text"), ("canonical", "text"),
        ("cost", "money")),
    **row_fields("fix_checks", ("action_id", "count"), ("title", "text"), ("owner", "text"),
        ("before_unallocated_cost", "money"), ("unallocated_cost", "money"),
        ("moved_cost", "money"), ("verdict_text", "text")),
    **row_fields("clusters", ("cluster", "text"), ("nodes", "count"), ("pods", "count"), ("cost", "money"),
        ("pod_cost", "money"), ("idle_cost", "money"), ("idle_pct", "pct"), ("allocated_cost", "money"),
        ("unallocated_cost", "money"), ("coverage_pct", "pct"), ("by_tag_cost", "money"),
        ("by_rule_cost", "money")),
    **row_fields("cluster_namespaces", ("cluster", "text"), ("namespace", "text"), ("team", "text"),
        ("how", "text"), ("cost", "money"), ("idle_cost", "money")),
    **row_fields("trend", ("week", "text"), ("start", "date"), ("end", "date"), ("total_cost", "money"),
        ("coverage_pct", "pct"), ("by_tag_pct", "pct")),
}

KIND = "tag_sweep"
RITUAL = Ritual(
    kind=KIND, title="Tag sweep", cadence="weekly", owner="FinOps lead; engineering applies fixes",
    output="allocation coverage and fixes with owners", period_shape="W", reviews_ended_period=False,
    steps=(StepDef("coverage", "Coverage"), StepDef("leaks", "Where it leaks"), StepDef("variants", "Variants"),
           StepDef("fixes", "Assign fixes")),
    command="finops-tui sweep", window=window, compute=compute, headlines=headlines, fields=FIELDS,
)
