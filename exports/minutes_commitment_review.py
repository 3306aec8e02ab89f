"""The commitment review's minutes: coverage on the on-demand equivalent and utilization by service,
what expires and what is held, the right-sized baseline with its what-if, and the purchase decision(s)
with amount, term, payment option, approver and rationale; the daily and per-account figures in the
appendix."""

from __future__ import annotations

from typing import Any

from exports import markdown as md
from exports.format import counted
from exports.minutes import MinutesContext, MinutesSpec, register_minutes, rows_table
from rituals.definitions.commitment_review import KIND as COMMITMENT_REVIEW

SUGGESTIONS = {"buy": "buy", "renew": "renew what expires, and size it", "defer": "defer (too little to buy)"}


def _numbers(ctx: MinutesContext) -> dict[str, Any] | None:
    n = ctx.numbers or {}
    return n if "coverage_pct" in n else None


def summary(ctx: MinutesContext) -> str | None:
    n = _numbers(ctx)
    if n is None or not n.get("suggestion"):
        return None
    s = str(n["suggestion"])
    return md.inline(f"The plan suggests: {SUGGESTIONS.get(s, s)}; it recommends "
                     f"{ctx.fig('recommended_additional_hourly', n.get('recommended_additional_hourly'))} an hour "
                     f"of commitment more.")


def coverage(ctx: MinutesContext) -> str | None:
    n = _numbers(ctx)
    if n is None:
        return None
    f = ctx.fig
    out = [md.inline(
        f"From {n.get('start')} to {n.get('end')} (end exclusive), {f('covered_cost', n.get('covered_cost'), exact=False)}"
        f" of {f('eligible_cost', n.get('eligible_cost'), exact=False)} eligible spend (at on-demand prices) was "
        f"covered by commitments: coverage {f('coverage_pct', n.get('coverage_pct'))} against the "
        f"{f('target_coverage_pct', n.get('target_coverage_pct'))} target. Utilization "
        f"{f('utilization_pct', n.get('utilization_pct'))}, effective savings rate "
        f"{f('effective_savings_rate_pct', n.get('effective_savings_rate_pct'))}; "
        f"{f('unused_commitment_cost', n.get('unused_commitment_cost'), exact=False)} of commitment went unused.")]
    if n.get("rows_without_list_cost"):
        out += ["", md.inline(f"{counted(int(n['rows_without_list_cost']), 'eligible row')} had no list cost and "
                              f"could not be counted.")]
    if n.get("coverage_basis"):
        out += ["", md.inline(str(n["coverage_basis"]))]
    if n.get("committed_rows_without_list_cost"):
        out += ["", md.inline(
            f"{counted(int(n['committed_rows_without_list_cost']), 'covered row')} had no list cost "
            f"({f('committed_without_list_effective_cost', n.get('committed_without_list_effective_cost'))}) "
            f"and were left out of coverage.")]
    if n.get("warnings"):
        out += ["", md.bullets(md.inline(w) for w in n["warnings"])]
    if n.get("programs"):
        out += ["", "By commitment program, each on the usage it can cover:", "",
                rows_table(ctx, "programs", n["programs"], [
                    ("program", "program"), ("commitments", "held"), ("eligible_cost", "eligible"),
                    ("covered_cost", "covered"), ("coverage_pct", "coverage"), ("unused_commitment_cost", "unused"),
                    ("utilization_pct", "utilization")])]
    if n.get("by_service"):
        out += ["", "By service (a commitment left unused is its own line):", "",
                rows_table(ctx, "by_service", n["by_service"], [
                    ("service", "service"), ("program", "program"), ("eligible", "eligible"), ("covered", "covered"),
                    ("unused", "unused"), ("coverage_pct", "coverage"), ("utilization_pct", "utilization")])]
    return "\n".join(out)


def expiring(ctx: MinutesContext) -> str | None:
    n = _numbers(ctx)
    if n is None:
        return None
    out = []
    ending = n.get("expiring") or []
    if ending:
        out += [md.inline(f"{counted(len(ending), 'commitment')} expire soon, "
                          f"{ctx.fig('expiring_hourly', n.get('expiring_hourly'))} an hour in all:"), "",
                rows_table(ctx, "expiring", ending, [
                    ("commitment_id", "commitment"), ("description", "what"), ("hourly_commitment", "per hour"),
                    ("end_date", "ends"), ("days_left", "days left"), ("utilization_pct", "utilization")]), ""]
    else:
        out += ["No commitment expires within the review's horizon.", ""]
    held = n.get("inventory") or []
    if held:
        out += ["Commitments held:", "", rows_table(ctx, "inventory", held, [
            ("commitment_id", "commitment"), ("description", "what"), ("hourly_commitment", "per hour"),
            ("end_date", "ends"), ("payment_option", "payment"), ("utilization_pct", "utilization")])]
    if n.get("terms_note"):
        out += ["", md.inline(str(n["terms_note"]))]
    return "\n".join(out).strip()


def baseline(ctx: MinutesContext) -> str | None:
    n = _numbers(ctx)
    if n is None:
        return None
    f = ctx.fig
    out = [md.inline(
        f"Baseline: the p{f('baseline_percentile', n.get('baseline_percentile'))} day of the last "
        f"{f('lookback_days', n.get('lookback_days'))} days, {f('baseline_low_daily', n.get('baseline_low_daily'))} a "
        f"day, less {f('reduction_monthly_savings', n.get('reduction_monthly_savings'))} a month of open "
        f"reduction actions: {f('baseline_daily', n.get('baseline_daily'))} a day, "
        f"{f('baseline_hourly', n.get('baseline_hourly'))} an hour. Commitment kept after expiries covers "
        f"{f('retained_covered_hourly', n.get('retained_covered_hourly'))} an hour of a target of "
        f"{f('target_covered_hourly', n.get('target_covered_hourly'))}"
        + (" (capped at the baseline)" if n.get("capped_at_baseline") else "")
        + f"; recommended: {f('recommended_additional_hourly', n.get('recommended_additional_hourly'))} an hour more"
        + (f" (AWS recommends {f('aws_recommended_hourly', n['aws_recommended_hourly'])})"
           if n.get("aws_recommended_hourly") is not None else "") + ".")]
    actions = n.get("reduction_actions") or []
    if actions:
        out += ["", "Open reduction actions taken off the baseline (accepted recommendations among them; open "
                "inbox items are not subtracted):", "", rows_table(ctx, "reduction_actions", actions, [
            ("id", "#"), ("title", "action"), ("owner", "owner"), ("status", "status"),
            ("recommendation_id", "from inbox #"), ("expected_monthly_savings", "savings a month")])]
    if n.get("what_if"):
        out += ["", md.inline(f"What if (at a {f('discount_rate_pct', n.get('discount_rate_pct'))} discount):"), "",
                rows_table(ctx, "what_if", n["what_if"], [
                    ("additional_hourly", "more an hour"), ("coverage_pct", "coverage"),
                    ("utilization_pct", "utilization"), ("monthly_savings", "savings a month"),
                    ("stranded_monthly", "stranded a month"), ("stranded_risk", "risk"),
                    ("recommended", "recommended")])]
    return "\n".join(out)


def decision(ctx: MinutesContext) -> str | None:
    decisions = [d for d in ctx.run.decisions if isinstance(d.get("detail"), dict)
                 and d["detail"].get("kind") == "commitment"]
    if not decisions:
        return "No purchase decision recorded."
    out = []
    for d in decisions:
        x = d["detail"]
        amount = ctx.fig("recommended_additional_hourly", x.get("hourly_amount"),
                         currency=x.get("currency") if isinstance(x.get("currency"), str) else None)
        line = (f"**{md.inline(str(x.get('choice') or 'decision').capitalize())}**: "
                + md.cell(f"{amount} an hour, {counted(int(x.get('term_years') or 0), 'year')}, "
                          f"{x.get('payment_option') or '-'}; approver "
                          f"{ctx.person_text(handle=x.get('approver')) if x.get('approver') else 'none named'}."))
        out.append(f"- {line}")
        if x.get("rationale"):
            out.append("  " + md.block(f"Rationale: {x['rationale']}", "  "))
    return "\n".join(out)


def appendix(ctx: MinutesContext) -> list[tuple[str, str]]:
    n = _numbers(ctx) or {}
    out = []
    if n.get("by_account"):
        out.append(("Coverage by account", rows_table(ctx, "by_account", n["by_account"], [
            ("account_name", "account"), ("account", "id"), ("program", "program"), ("eligible", "eligible"),
            ("covered", "covered"), ("unused", "unused"), ("coverage_pct", "coverage"),
            ("utilization_pct", "utilization")])))
    if n.get("daily"):
        out.append(("Day by day", rows_table(ctx, "daily", n["daily"], [
            ("day", "day"), ("eligible", "eligible"), ("covered", "covered"), ("used", "used"), ("unused", "unused"),
            ("coverage_pct", "coverage"), ("utilization_pct", "utilization")])))
    if n.get("eligible_services"):
        out.append(("What counts as eligible", md.inline(
            "Services: " + ", ".join(n["eligible_services"]) + f". Source: {n.get('eligibility_source') or '-'}.")))
    return out


register_minutes(COMMITMENT_REVIEW, MinutesSpec(
    steps={"coverage": coverage, "expiring": expiring, "baseline": baseline, "decision": decision},
    summary=summary, appendix=appendix))
