"""The commitment review's figures, from billing line items with FOCUS semantics.

- **Coverage** = covered eligible usage / eligible usage, both on the on-demand equivalent (ListCost; a row
  without ListCost counts at its EffectiveCost). Eligible usage is Usage rows, other than unused commitment,
  on the services ``rituals/framework/commitment_eligibility.toml`` (or ``commitments.eligible_services``)
  lists, plus any service the data shows covered: covered rows are PricingCategory 'Committed' with
  CommitmentDiscountStatus 'Used'.
- **Utilisation** = used / (used + unused) commitment, on EffectiveCost of the Usage rows whose
  CommitmentDiscountStatus is 'Used' or 'Unused' (FOCUS puts unused commitment in Usage rows).
- **Effective savings rate** = (ListCost - EffectiveCost) / ListCost over eligible usage, the unused
  commitment counted as cost with no list value: a row without ListCost saves nothing, and paying more than
  on demand is a negative rate, shown as such.
- The **inventory** of commitment terms from the cost store's ``commitment_inventory`` (the demo, CUR 2.0
  columns and the AWS sync fill it), with what expires within 30/60/90 days.
- **AWS's own figures** (``aws_commitment_usage``, ``aws_recommendations``) when the AWS sync stored them.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from storage import cost_queries
from storage.costs import CostStore

if TYPE_CHECKING:
    import pandas as pd

EXPIRY_BUCKETS = (30, 60, 90)
DEFAULT_WINDOW_DAYS = 30
TERMS_HOWTO = ("Commitment terms (hourly amount, start, end) are unknown: import a CUR 2.0 export that carries "
               "its savings_plan_* and reservation_* columns (finops-tui import PATH), or run "
               "`finops-tui sync aws` with savingsplans:Describe*, ec2:DescribeReservedInstances and "
               "rds:DescribeReservedDBInstances allowed.")


# -- the eligible set (data) --------------------------------------------------------------------------------
@dataclass(frozen=True)
class EligibleService:
    name: str
    names: tuple[str, ...]
    instruments: tuple[str, ...]
    in_coverage: bool


@lru_cache(maxsize=1)
def eligibility() -> tuple[dict[str, Any], tuple[EligibleService, ...]]:
    """The framework file's header (version, source) and its services."""
    text = resources.files("rituals").joinpath("framework", "commitment_eligibility.toml").read_text("utf-8")
    data = tomllib.loads(text)
    services = tuple(EligibleService(s["name"], tuple(dict.fromkeys([s["name"], *s.get("names", [])])),
                                     tuple(s["instruments"]), bool(s["in_coverage"])) for s in data["service"])
    return {"version": data["version"], "source": data["source"]}, services


def chosen_services(configured: tuple[str, ...] = ()) -> list[EligibleService]:
    """The services in the coverage denominator: ``configured`` (config ``commitments.eligible_services``)
    when given, a name the file knows bringing all its spellings; else the file's ``in_coverage`` set."""
    _meta, known = eligibility()
    if not configured:
        return [s for s in known if s.in_coverage]
    by_spelling = {n.lower(): s for s in known for n in s.names}
    return list(dict.fromkeys(by_spelling.get(n.lower()) or EligibleService(n, (n,), ("savings_plan", "reservation"),
                                                                            True) for n in configured))


def eligible_services(configured: tuple[str, ...] = ()) -> dict[str, tuple[str, ...]]:
    """Every ServiceName spelling counted as eligible -> the instruments that can cover it."""
    return {n: s.instruments for s in chosen_services(configured) for n in s.names}


# -- pure arithmetic ----------------------------------------------------------------------------------------
def share_pct(part: float | None, whole: float | None) -> float | None:
    if part is None or whole is None or whole <= 0:
        return None
    return part / whole * 100.0


def utilization_pct(used: float, unused: float) -> float | None:
    """Used / (used + unused) commitment, None when nothing was committed."""
    return share_pct(used, used + unused)


def effective_savings_rate_pct(list_cost: float | None, effective_cost: float) -> float | None:
    """(ListCost - EffectiveCost) / ListCost. A missing ListCost means no known saving (the effective cost
    stands in for it), and no list value at all gives None rather than a division error."""
    basis = effective_cost if list_cost is None or list_cost != list_cost else list_cost
    if basis <= 0:
        return None
    return (basis - effective_cost) / basis * 100.0


# -- the line-item query --------------------------------------------------------------------------------------
def usage_frame(store: CostStore, start: date, end: date, eligible: dict[str, tuple[str, ...]]) -> pd.DataFrame:
    """Usage per day, service, account and commitment for ``start <= day < end``: eligible and covered
    on-demand equivalent, their effective cost, used and unused commitment."""
    return cost_queries.commitment_usage(store, start, end, eligible)


# -- the figures ----------------------------------------------------------------------------------------------
@dataclass
class Figures:
    start: date
    end: date
    eligible_cost: float = 0.0
    covered_cost: float = 0.0
    eligible_effective_cost: float = 0.0
    used_commitment_cost: float = 0.0
    unused_commitment_cost: float = 0.0
    rows_without_list_cost: int = 0
    daily: list[dict[str, Any]] = field(default_factory=list)
    by_service: list[dict[str, Any]] = field(default_factory=list)
    by_account: list[dict[str, Any]] = field(default_factory=list)
    by_commitment: dict[str, dict[str, float]] = field(default_factory=dict)
    by_program: dict[str, dict[str, float | None]] = field(default_factory=dict)
    commitment_ids: list[str] = field(default_factory=list)

    @property
    def coverage_pct(self) -> float | None:
        return share_pct(self.covered_cost, self.eligible_cost)

    @property
    def utilization_pct(self) -> float | None:
        return utilization_pct(self.used_commitment_cost, self.unused_commitment_cost)

    @property
    def effective_savings_rate_pct(self) -> float | None:
        if self.eligible_cost <= 0:
            return None
        return effective_savings_rate_pct(self.eligible_cost,
                                          self.eligible_effective_cost + self.unused_commitment_cost)


def _grouped(frame: pd.DataFrame, keys: list[str]) -> list[dict[str, Any]]:
    g = frame.groupby(keys, dropna=False)[["eligible", "covered", "used", "unused"]].sum().reset_index()
    g = g[(g["eligible"] != 0) | (g["used"] != 0) | (g["unused"] != 0)]
    out = []
    for row in g.to_dict("records"):
        row["coverage_pct"] = share_pct(row["covered"], row["eligible"])
        row["utilization_pct"] = utilization_pct(row["used"], row["unused"])
        out.append(row)
    return out


def figures_from(frame: pd.DataFrame, start: date, end: date,
                 eligible: dict[str, tuple[str, ...]]) -> Figures:
    """The figures of ``usage_frame`` rows for ``start <= day < end``."""
    part = frame[(frame["day"] >= start) & (frame["day"] < end)]
    fig = Figures(start, end)
    if part.empty:
        return fig
    fig.eligible_cost = float(part["eligible"].sum())
    fig.covered_cost = float(part["covered"].sum())
    fig.eligible_effective_cost = float(part["eligible_effective"].sum())
    fig.used_commitment_cost = float(part["used"].sum())
    fig.unused_commitment_cost = float(part["unused"].sum())
    fig.rows_without_list_cost = int(part["no_list_rows"].sum())
    fig.daily = _grouped(part, ["day"])
    fig.by_service = sorted(_grouped(part[part["eligible"] != 0], ["service"]), key=lambda r: -r["eligible"])
    names = part.groupby("account")["account_name"].first().to_dict()
    fig.by_account = sorted(_grouped(part[part["eligible"] != 0], ["account"]), key=lambda r: -r["eligible"])
    for row in fig.by_account:
        row["account_name"] = names.get(row["account"])
    committed = part[part["commitment_id"].notna()]
    for cid, g in committed.groupby("commitment_id"):
        fig.by_commitment[str(cid)] = {"used": float(g["used"].sum()), "unused": float(g["unused"].sum()),
                                       "covered": float(g["covered"].sum())}
    fig.commitment_ids = sorted(fig.by_commitment)
    for program, instrument in (("savings_plans", "savings_plan"), ("reservations", "reservation")):
        services = {n for n, inst in eligible.items() if instrument in inst}
        mine = committed[committed["program"] == program]
        base = part[part["service"].isin(services) | part["service"].isin(set(mine["service"]))]
        fig.by_program[program] = {
            "coverage_pct": share_pct(float(mine["covered"].sum()), float(base["eligible"].sum())),
            "utilization_pct": utilization_pct(float(mine["used"].sum()), float(mine["unused"].sum()))}
    return fig


# -- inventory and expiries ------------------------------------------------------------------------------------
def inventory(store: CostStore, today: date, figures: Figures | None = None) -> list[dict[str, Any]]:
    """The stored commitment terms, soonest end first, with days left, expiry bucket and the window's
    utilisation of each."""
    frame = cost_queries.commitment_inventory(store)
    if frame is None:
        return []
    out = []
    for row in frame.astype(object).where(frame.notna(), None).to_dict("records"):
        end = row["end_date"].date() if hasattr(row["end_date"], "date") else row["end_date"]
        start = row["start_date"].date() if hasattr(row["start_date"], "date") else row["start_date"]
        left = (end - today).days if end is not None else None
        usage = (figures.by_commitment.get(row["commitment_id"]) if figures else None) or {}
        out.append({**row, "start_date": start, "end_date": end, "days_left": left,
                    "active": (start is None or start <= today) and (end is None or today < end),
                    "expires_within_days": next((b for b in EXPIRY_BUCKETS if left is not None and 0 <= left <= b),
                                                None),
                    "utilization_pct": utilization_pct(usage.get("used", 0.0), usage.get("unused", 0.0))})
    return out


def expiring(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [i for i in items if i["expires_within_days"] is not None]


# -- AWS's own figures, when synced ---------------------------------------------------------------------------
def aws_figures(store: CostStore, start: date, end: date, figures: Figures) -> dict[str, Any] | None:
    """AWS's coverage and utilisation per program over the window beside ours, and its recommendations;
    None when the AWS sync has not stored them."""
    usage = cost_queries.aws_commitment_usage(store, start, end)
    if usage is None:
        return None
    rows = []
    for r in usage.to_dict("records"):
        theirs = share_pct(r["num"], r["den"])
        ours = figures.by_program.get(r["program"], {}).get(f"{r['measure']}_pct")
        rows.append({"program": r["program"], "measure": r["measure"], "aws_pct": theirs, "ours_pct": ours,
                     "difference_pts": None if theirs is None or ours is None else ours - theirs,
                     "unit": r["unit"]})
    recs: list[dict[str, Any]] = []
    frame = cost_queries.aws_recommendations(store)
    if frame is not None:
        recs = frame.astype(object).where(frame.notna(), None).to_dict("records")
    return {"figures": rows, "recommendations": recs}


def default_window(today: date, days: int = DEFAULT_WINDOW_DAYS) -> tuple[date, date]:
    """The 30 days before today: ``[today - 30, today)``."""
    return today - timedelta(days=days), today
