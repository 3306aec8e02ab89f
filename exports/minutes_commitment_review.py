"""The commitment review's section of its minutes: the purchase decision(s) with amount, term, payment
option, approver and rationale, and the headline figures they were taken on."""

from __future__ import annotations

from exports import markdown as md
from exports.format import pct
from exports.minutes import MinutesContext, register_section
from rituals.definitions.commitment_review import KIND as COMMITMENT_REVIEW


def commitment_section(ctx: MinutesContext) -> str | None:
    decisions = [d for d in ctx.run.decisions if isinstance(d.get("detail"), dict)
                 and d["detail"].get("kind") == "commitment"]
    numbers = ctx.run.numbers or {}
    lines = ["## Commitment decision", ""]
    if numbers:
        lines += [f"Taken on coverage {md.inline(pct(numbers.get('coverage_pct')))} (target "
                  f"{md.inline(pct(numbers.get('target_coverage_pct')))}), utilization "
                  f"{md.inline(pct(numbers.get('utilization_pct')))}, and a recommendation of "
                  f"{md.inline(_amount(numbers.get('recommended_additional_hourly')))} "
                  f"{md.inline(numbers.get('currency') or ctx.currency or '')} an hour more commitment.", ""]
    if not decisions:
        lines.append("No purchase decision recorded.")
        return "\n".join(lines)
    rows = []
    for d in decisions:
        x = d["detail"]
        rows.append([md.cell(x.get("choice")), md.cell(_amount(x.get("hourly_amount"))),
                     md.cell(x.get("currency")), md.cell(f"{x.get('term_years')} y"), md.cell(x.get("payment_option")),
                     md.cell(ctx.person_text(handle=x.get("approver"))), md.cell(x.get("rationale"))])
    lines.append(md.table(["decision", "per hour", "currency", "term", "payment", "approver", "rationale"], rows,
                          ["left", "right", "left", "left", "left", "left", "left"]))
    return "\n".join(lines)


def _amount(value: object) -> str:
    return f"{value:,.2f}" if isinstance(value, int | float) else "-"


register_section(COMMITMENT_REVIEW, commitment_section)
