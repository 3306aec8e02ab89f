"""Negotiated contracts in the commitment review: each contract commitment's terms and its burn-down (what
the line items' ContractApplied says was applied, per billing period, against what was promised).

Never mixed into Savings Plan or reservation coverage: these are spend or usage promises to a provider.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from storage.cost_queries import contract_applied, contract_terms
from storage.costs import CostStore

# Committed is ContractCommitmentCost (Spend) or ContractCommitmentQuantity (Usage).
BASIS = "burn-down by billing period, from the line items' ContractApplied"


def _day(value: Any) -> date | None:
    if value is None or value != value:  # NaT / NaN
        return None
    if isinstance(value, datetime):
        return value.date()
    if hasattr(value, "to_pydatetime"):
        return value.to_pydatetime().date()
    return value if isinstance(value, date) else None


def _iso(value: Any) -> str | None:
    day = _day(value)
    return day.isoformat() if day else None


def _num(value: Any) -> float | None:
    return None if value is None or value != value else float(value)


def elapsed_pct(start: date | None, end: date | None, today: date) -> float | None:
    """How much of a commitment period has passed by ``today`` (0-100)."""
    if start is None or end is None or end <= start:
        return None
    done = min(max((today - start).days, 0), (end - start).days)
    return round(done / (end - start).days * 100, 2)


def contracts(store: CostStore, today: date) -> dict[str, Any]:
    """``{"contracts": [...], "basis": ...}``: per contract commitment its terms, committed amount, applied,
    remaining, burned_pct, elapsed_pct and the burn-down per billing period (applied, cumulative, remaining)."""
    terms = contract_terms(store)
    applied = contract_applied(store)
    out = []
    for t in terms:
        cid = t["contract_commitment_id"]
        usage = t["category"] == "Usage"
        field = "applied_quantity" if usage else "applied_cost"
        committed = _num(t["quantity"] if usage else t["cost"])
        mine = [r for r in applied if r["contract_commitment_id"] == cid]
        months, total = [], 0.0
        for r in mine:
            amount = _num(r[field]) or 0.0
            total += amount
            period = _iso(r["period"])
            months.append({"period": period[:7] if period else None,
                           "applied": round(amount, 2), "cumulative": round(total, 2),
                           "remaining": None if committed is None else round(committed - total, 2)})
        start, end = _day(t["period_start"]), _day(t["period_end"])
        out.append({
            "contract_id": t["contract_id"], "contract_commitment_id": cid, "category": t["category"],
            "type": t["type"], "description": t["description"], "unit": t["unit"] if usage else None,
            "currency": t["currency"], "period_start": _iso(start), "period_end": _iso(end),
            "contract_period_start": _iso(t["contract_period_start"]),
            "contract_period_end": _iso(t["contract_period_end"]),
            "committed": committed, "applied": round(total, 2),
            "remaining": None if committed is None else round(committed - total, 2),
            "burned_pct": round(total / committed * 100, 2) if committed else None,
            "elapsed_pct": elapsed_pct(start, end, today), "months": months,
        })
    return {"contracts": out, "basis": BASIS}
