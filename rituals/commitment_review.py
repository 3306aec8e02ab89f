"""The commitment review put together: the figures, the inventory, AWS's view, the plan, and the decision.

``review(home, start, end)`` returns the headless ``finops-tui commitments --json`` object, which is also
what a closed commitment-review run freezes. ``record_decision`` stores the buy / renew / defer decision
on the run, with the approver the RACI makes accountable and an action for whoever executes it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from rituals.commitment_plan import PlanInputs, plan
from rituals.commitments import (
    TERMS_HOWTO,
    aws_figures,
    chosen_services,
    commitment_texts,
    coverage_basis,
    day_sums,
    default_window,
    eligibility,
    eligible_services,
    expiring,
    figures_from,
    hub_purchases,
    inventory,
    usage_frame,
    warnings,
)
from rituals.contracts import contracts as contract_findings
from rituals.runs import stable_floats

if TYPE_CHECKING:
    from sqlmodel import Session

    from storage.home import Home

ACTIVITY = "Commitment purchase (SP / RI)"
REDUCTION_KINDS = ("rightsizing", "cleanup")
CHOICES = ("buy", "renew", "defer")
EXPIRY_HORIZON_DAYS = 90
EXECUTE_WITHIN_DAYS = 14


def reduction_actions(home: Home) -> list[dict[str, Any]]:
    """What the baseline is reduced by: open right-sizing and clean-up actions (an accepted recommendation is
    one: ``recommendation_id`` names it) with their expected monthly savings. Open inbox items that nobody
    accepted are not subtracted."""
    from sqlmodel import col, select

    from rituals.actions import list_actions
    from storage.records import Action

    with home.records.session() as s:
        views = [v for v in list_actions(s, today=home.clock.today()) if v.kind in REDUCTION_KINDS]
        rows = {a.id: a for a in s.exec(select(Action).where(col(Action.id).in_([v.id for v in views]))).all()}
    out = []
    for v in views:
        a = rows[v.id]
        key = a.entity_key or ""
        rec = int(key) if a.entity_kind == "recommendation" and key.isdigit() else None
        out.append({"id": v.id, "title": v.title, "kind": v.kind, "status": v.status, "owner": v.owner,
                    "expected_monthly_savings": v.expected_monthly_savings, "recommendation_id": rec,
                    "resource_id": a.resource_id})
    return out


def review(home: Home, start: date | None = None, end: date | None = None,
           lookback_days: int | None = None) -> dict[str, Any]:
    """The review's numbers for ``start <= day < end`` (default: the 30 days before today)."""
    cfg = home.config.commitments
    today = home.clock.today()
    d_start, d_end = default_window(today)
    end = end or d_end
    start = start or (end - (d_end - d_start))
    if start >= end:
        raise ValueError(f"--start {start} must be before --end {end}")
    lookback = lookback_days or cfg.lookback_days
    eligible = eligible_services(cfg.eligible_services)
    lb_start = end - timedelta(days=lookback)
    frame = usage_frame(home.costs, min(start, lb_start), end, eligible)
    fig = figures_from(frame, start, end, eligible, commitment_texts(home.costs))
    items = inventory(home.costs, today, fig)
    soon = expiring(items)
    aws = aws_figures(home.costs, start, end, fig)
    purchases = hub_purchases(home.costs)
    actions = reduction_actions(home)

    # The plan's lookback: commitments expiring within the horizon are sized again, not assumed to stay.
    leaving = {i["commitment_id"] for i in items if i["end_date"] is not None
               and i["end_date"] <= today + timedelta(days=EXPIRY_HORIZON_DAYS)}
    lb = [r for r in frame if r["day"] >= lb_start]
    stay = [r for r in lb if r["commitment_id"] not in leaving]
    days = [lb_start + timedelta(days=i) for i in range(lookback)]
    eligible_by_day = day_sums(lb, "eligible")
    covered_by_day = day_sums(stay, "covered")
    aws_rec = None
    if aws and aws["recommendations"]:
        aws_rec = next((r["hourly_commitment"] for r in aws["recommendations"] if r["term_years"] == cfg.term_years),
                       None)
    inputs = PlanInputs(
        eligible=[float(eligible_by_day.get(d, 0.0)) for d in days],
        covered_retained=[float(covered_by_day.get(d, 0.0)) for d in days],
        used_retained=math.fsum(r["used"] for r in stay), unused_retained=math.fsum(r["unused"] for r in stay),
        actions_monthly_savings=sum(a["expected_monthly_savings"] or 0.0 for a in actions),
        percentile=cfg.baseline_percentile, target_coverage_pct=home.config.targets.commitment_coverage_pct,
        discount_pct=cfg.discount_rate_pct,
        expiring_hourly=sum(i["hourly_commitment"] or 0.0 for i in items if i["commitment_id"] in leaving),
        aws_recommended_hourly=aws_rec)
    p = plan(inputs)
    meta, _services = eligibility()
    has_ids = bool(fig.commitment_ids)
    currency = home.costs.info().currency or home.config.currency
    return stable_floats({
        "start": start, "end": end, "currency": currency,
        "coverage_pct": fig.coverage_pct, "utilization_pct": fig.utilization_pct,
        "effective_savings_rate_pct": fig.effective_savings_rate_pct,
        "target_coverage_pct": home.config.targets.commitment_coverage_pct,
        "eligible_cost": fig.eligible_cost, "covered_cost": fig.covered_cost,
        "used_commitment_cost": fig.used_commitment_cost, "unused_commitment_cost": fig.unused_commitment_cost,
        "coverage_basis": coverage_basis(fig), "programs": fig.programs,
        "rows_without_list_cost": fig.rows_without_list_cost,
        "committed_rows_without_list_cost": fig.committed_rows_without_list_cost,
        "committed_without_list_effective_cost": fig.committed_without_list_effective_cost,
        "warnings": warnings(fig, currency),
        "eligible_services": [s.name for s in chosen_services(cfg.eligible_services)], "eligibility_source": meta["source"],
        "daily": fig.daily, "by_service": fig.by_service, "by_account": fig.by_account,
        "inventory": items, "expiring": soon, "terms_known": bool(items),
        "terms_note": None if items else (TERMS_HOWTO if has_ids else "No commitments in the data."),
        "aws": aws, "hub_purchase_recommendations": purchases,
        "lookback_days": lookback, "baseline_percentile": p.percentile, "baseline_low_daily": p.low_daily,
        "reduction_actions": actions, "reduction_monthly_savings": p.actions_monthly_savings,
        "baseline_daily": p.baseline_daily, "baseline_hourly": p.baseline_hourly,
        "expected_eligible_hourly": p.expected_hourly, "retained_covered_hourly": p.covered_hourly,
        "target_covered_hourly": p.target_covered_hourly, "capped_at_baseline": p.capped_at_baseline,
        "expiring_hourly": inputs.expiring_hourly, "discount_rate_pct": p.discount_pct,
        "recommended_additional_hourly": p.recommended_additional_hourly,
        "aws_recommended_hourly": aws_rec, "suggestion": p.suggestion, "what_if": p.what_if,
        # Negotiated contracts (FOCUS Contract Commitment dataset): their own key, never in the coverage above.
        "contracts": contract_findings(home.costs, today),
    })


# -- the decision ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Decision:
    choice: str  # buy / renew / defer
    hourly_amount: float
    term_years: int
    payment_option: str
    rationale: str

    def check(self) -> None:
        if self.choice not in CHOICES:
            raise ValueError(f"the decision must be one of {', '.join(CHOICES)}, got {self.choice!r}")
        if self.choice != "defer" and not self.hourly_amount > 0:
            raise ValueError(f"a {self.choice} decision needs an hourly amount above 0")
        if self.hourly_amount < 0:
            raise ValueError("the hourly amount cannot be negative")
        if not self.rationale.strip():
            raise ValueError("a commitment decision needs a rationale")

    def text(self, currency: str) -> str:
        if self.choice == "defer":
            return f"Defer commitment purchases: {self.rationale.strip()}"
        return (f"{self.choice.capitalize()} {self.hourly_amount:,.2f} {currency}/hour, {self.term_years} year"
                f"{'s' if self.term_years > 1 else ''}, {self.payment_option}: {self.rationale.strip()}")


@dataclass(frozen=True)
class Recorded:
    run_id: int
    approver: str  # handle
    executor: str | None
    action_id: int | None


def record_decision(session: Session, run: Any, decision: Decision, *, by: str | None, now: datetime,
                    today: date, currency: str) -> Recorded:
    """Store the decision on the open run (approver: the person accountable for commitment purchases) and,
    unless deferred, an action of kind ``commitment`` for the person responsible for executing it."""
    from rituals.actions import create_action
    from rituals.people import find_person
    from rituals.raci import Raci
    from rituals.runs import add_decision

    decision.check()
    raci = Raci(session)
    approver = raci.accountable_for(ACTIVITY)
    detail = {"kind": "commitment", "choice": decision.choice, "hourly_amount": decision.hourly_amount,
              "term_years": decision.term_years, "payment_option": decision.payment_option,
              "rationale": decision.rationale.strip(), "approver": approver.handle, "currency": currency}
    text = f"{decision.text(currency)} (approver: {approver.name})"
    fresh = add_decision(session, run, text, by, now, step="decision", detail=detail)
    action_id, executor = None, None
    if decision.choice != "defer":
        doer = raci.owner_for(ACTIVITY)
        actor = find_person(session, by) if by else None
        action = create_action(
            session, title=f"{decision.choice.capitalize()} {decision.hourly_amount:,.2f} {currency}/h commitment "
                           f"({decision.term_years} y, {decision.payment_option})",
            owner_id=doer.id, now=now, actor_id=actor.id if actor else None, kind="commitment",
            detail=f"Approved by {approver.name}. {decision.rationale.strip()}", source_run_id=fresh.id,
            due_date=today + timedelta(days=EXECUTE_WITHIN_DAYS), entity_kind="commitment_decision",
            entity_key=f"run-{fresh.id}")
        action_id, executor = action.id, doer.handle
    return Recorded(fresh.id, approver.handle, executor, action_id)
