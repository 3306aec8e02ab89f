"""Showback: per team, its direct spend plus its share of the shared spend, for one month.

Direct spend is the sweep's allocation (``storage.cost_queries.base.allocation_sql``: the allocation tag, else the
account's owning team or a cost category), except for rows that are shared whatever they carry. Shared spend
is, in this order of precedence: the configured shared accounts, support charges, untaggable account-level
charges (Tax, Credit and Adjustment rows without an allocation tag) and unallocated spend. It is split by
the configured method: proportional to direct spend, even across the active teams, or fixed percentages.

Every charge category counts (spend is EffectiveCost), so the team totals sum to the month's spend; they are
rounded to the cent with the largest-remainder method so that the rounded lines still add up exactly.

With AWS sync data only (``storage.cost_queries.base.reads_tag_costs``) the lines come from the sync's per-tag
costs of the allocation key: shared accounts and unallocated spend are shared; support and untaggable
charges cannot be told apart there and count as unallocated.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from rituals.calendar import add_months
from storage.cost_queries import ShowbackLine, billed_by_billing_period, showback_costs
from storage.costs import CostStore

if TYPE_CHECKING:
    import pandas as pd

    from storage.home import Home

SHARED_REASONS = ("shared_account", "support", "untaggable", "unallocated")
UNTAGGABLE_CATEGORIES = ("Tax", "Credit", "Adjustment")
UNSPLIT = "(no team to split to)"
_MONTH = re.compile(r"^\d{4}-\d{2}$")


# -- months ----------------------------------------------------------------------------------------------
def parse_month(text: str, what: str = "--month") -> date:
    """``YYYY-MM`` -> the first day of that month, or a ValueError naming ``what``."""
    raw = (text or "").strip()
    if not _MONTH.match(raw) or not 1 <= int(raw[5:]) <= 12:
        raise ValueError(f"{what} must be a month YYYY-MM, got {text!r}")
    return date(int(raw[:4]), int(raw[5:]), 1)


def month_key(month: date) -> str:
    return f"{month.year}-{month.month:02d}"


def last_complete_month(today: date) -> date:
    """The month before today's month (billing data for the current month is never complete)."""
    return add_months(today.replace(day=1), -1)


# -- the pure arithmetic -----------------------------------------------------------------------------------
def split_shared(direct: dict[str, float], shared: float, method: str, fixed_pct: dict[str, float] | None = None,
                 teams: Sequence[str] = ()) -> dict[str, float]:
    """Shared spend per team (unrounded, summing to ``shared``).

    ``proportional``: by each team's positive direct spend (even when no team has any); ``even``: equally
    across ``teams`` (the active teams; the teams with direct spend when none are given); ``fixed``: by
    ``fixed_pct`` (team -> percentage, adding up to 100).
    """
    if method == "fixed":
        pct = fixed_pct or {}
        total = sum(pct.values())
        if total <= 0:
            raise ValueError("shared_costs.fixed_pct is empty: the fixed split needs a percentage per team")
        return {t: shared * p / total for t, p in pct.items()}
    if method == "proportional":
        weights = {t: max(v, 0.0) for t, v in direct.items()}
        total = sum(weights.values())
        if total > 0:
            return {t: shared * w / total for t, w in weights.items() if w > 0}
    elif method != "even":
        raise ValueError(f"unknown shared-cost split method {method!r}; use proportional, even or fixed")
    recipients = list(dict.fromkeys(teams)) or list(direct)
    if not recipients:
        return {UNSPLIT: shared} if shared else {}
    return {t: shared / len(recipients) for t in recipients}


def largest_remainder_cents(values: dict[str, float], total_cents: int) -> dict[str, int]:
    """Round each value to whole cents so that they sum to ``total_cents`` exactly: floor every value,
    then hand the missing cents to the largest remainders (ties by name, for stable output)."""
    floors = {k: math.floor(v * 100 + 1e-9) for k, v in values.items()}
    missing = total_cents - sum(floors.values())
    order = sorted(values, key=lambda k: (-(values[k] * 100 - floors[k]), k))
    if not order:
        return {}
    step = 1 if missing >= 0 else -1
    i = 0
    while missing != 0:
        floors[order[i % len(order)] if step > 0 else order[::-1][i % len(order)]] += step
        missing -= step
        i += 1
    return floors


@dataclass(frozen=True)
class TeamShowback:
    team: str
    direct: float
    shared: float
    total: float
    share_pct: float | None

    def as_dict(self) -> dict[str, Any]:
        return {"team": self.team, "direct": self.direct, "shared": self.shared, "total": self.total,
                "share_pct": self.share_pct}


@dataclass(frozen=True)
class Showback:
    month: str
    currency: str
    total: float
    billed_total: float
    method: str
    teams: list[TeamShowback]
    shared_by_reason: dict[str, float] = field(default_factory=dict)
    # What billed_total groups by: "billing_period" (the invoice's month) or "charge_period" (the charge's
    # month: the AWS sync's tag costs, or a part of a month). Spend (total) is always by charge period.
    billed_basis: str = "billing_period"

    @property
    def shared_total(self) -> float:
        return round(sum(self.shared_by_reason.values()), 2)

    def team(self, name: str) -> TeamShowback | None:
        return next((t for t in self.teams if t.team == name), None)

    def as_json(self) -> dict[str, Any]:
        """The headless ``showback --json`` object (frozen as the monthly review's numbers)."""
        return {"month": self.month, "currency": self.currency, "total": self.total,
                "billed_total": self.billed_total, "billed_basis": self.billed_basis,
                "spend_basis": "charge_period", "teams": [t.as_dict() for t in self.teams]}

    def frame(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame([t.as_dict() for t in self.teams], columns=["team", "direct", "shared", "total",
                                                                          "share_pct"])


def build_showback(month: str, currency: str, direct: dict[str, float], shared_by_reason: dict[str, float],
                   billed_total: float, *, method: str, fixed_pct: dict[str, float] | None = None,
                   teams: Sequence[str] = (), billed_basis: str = "billing_period") -> Showback:
    """The month's showback from its direct spend per team and its shared spend (both unrounded)."""
    shared = sum(shared_by_reason.values())
    split = split_shared(direct, shared, method, fixed_pct, teams)
    names = list(dict.fromkeys([*teams, *direct, *split]))
    raw_total = {t: direct.get(t, 0.0) + split.get(t, 0.0) for t in names}
    month_total = sum(direct.values()) + shared
    total_c = largest_remainder_cents(raw_total, round(month_total * 100))
    direct_c = largest_remainder_cents({t: direct.get(t, 0.0) for t in names}, round(sum(direct.values()) * 100))
    lines = []
    grand = sum(total_c.values()) / 100
    for t in names:
        tot = total_c[t] / 100
        pct = round(tot / grand * 100, 2) if grand and grand > 0 else None
        lines.append(TeamShowback(t, direct_c[t] / 100, (total_c[t] - direct_c[t]) / 100, tot, pct))
    lines.sort(key=lambda line: (-line.total, line.team))
    return Showback(month, currency, round(month_total, 2), round(billed_total, 2), method, lines,
                    {k: round(v, 2) for k, v in shared_by_reason.items()}, billed_basis)


# -- from the cost store -----------------------------------------------------------------------------------
def showback_lines(store: CostStore, account_teams: dict[str, str], shared_accounts: Iterable[str],
                   start: date, end: date, grain: str = "month", *, usage_based_only: bool = False,
                   recurring_only: bool = False) -> list[ShowbackLine]:
    """Cost per period (``grain`` month or day), team value and shared reason for ``start <= day < end``:
    rows of period, team (None when shared), reason (None when direct), cost, billed.

    ``usage_based_only`` / ``recurring_only`` keep only daily usage (no recurring or one-time charges) or
    only the recurring charges (the forecast treats them apart)."""
    return showback_costs(store, account_teams, shared_accounts, start, end, grain=grain,
                          untaggable_categories=UNTAGGABLE_CATEGORIES, usage_based_only=usage_based_only,
                          recurring_only=recurring_only)


def active_teams(records: Any) -> list[str]:
    """The active teams' names from the records (the even split's recipients)."""
    from sqlmodel import select

    from storage.records import Team

    with records.session() as s:
        return sorted(s.exec(select(Team.name).where(Team.active == True)).all())  # noqa: E712


BASIS_WORDS = {"billing_period": "by billing period, as invoiced", "charge_period": "by charge period"}


def basis_words(basis: str | None) -> str:
    """How outputs name a figure's basis (``billed_basis``); an older frozen run has none."""
    return BASIS_WORDS.get(basis or "", "basis not recorded")


def billed_by_period(store: CostStore, first: date, end: date) -> tuple[dict[date, float], str]:
    """BilledCost per billing period starting in ``first <= day < end`` and its basis (the invoice's month;
    see storage.cost_queries.billed_by_billing_period)."""
    return billed_by_billing_period(store, first, end)


def showbacks_from_lines(lines: Sequence[Sequence[Any]], currency: str, *, method: str, fixed_pct: dict[str, float],
                         teams: Sequence[str], billed: tuple[dict[date, float], str] | None = None
                         ) -> dict[date, Showback]:
    """One Showback per period in ``lines`` (rows of period, team, reason, cost, billed: ``showback_lines``).
    ``billed`` (``billed_by_period``) gives each month's billed total by billing period; without it billed is
    the lines' own (by charge period).

    One pass in plain Python (the showback command imports no pandas): the lines are ordered by period
    (stably, so a key that repeats is summed in row order), and each period's direct spend per team, shared
    spend per reason and billed total are summed from its rows."""
    out: dict[date, Showback] = {}
    ordered = sorted(lines, key=lambda line: line[0])
    a = 0
    while a < len(ordered):
        period = ordered[a][0]
        b = a
        direct: dict[str, float] = {}
        shared: dict[str, float] = {}
        bills = 0.0
        while b < len(ordered) and ordered[b][0] == period:
            _p, team, reason, cost, bill = ordered[b][:5]
            if not _missing(reason):
                shared[str(reason)] = shared.get(str(reason), 0.0) + float(cost)
            elif not _missing(team):
                direct[str(team)] = direct.get(str(team), 0.0) + float(cost)
            bills += float(bill)
            b += 1
        day = period.date() if hasattr(period, "date") else period
        direct = dict(sorted(direct.items()))
        shared = dict(sorted(shared.items()))
        if billed is None:
            out[day] = build_showback(month_key(day), currency, direct, shared, bills,
                                      method=method, fixed_pct=fixed_pct, teams=teams, billed_basis="charge_period")
        else:
            out[day] = build_showback(month_key(day), currency, direct, shared, billed[0].get(day, 0.0),
                                      method=method, fixed_pct=fixed_pct, teams=teams, billed_basis=billed[1])
        a = b
    if billed is not None:  # a month billed with no spend of its own (a late invoice line) still shows it
        for day, amount in billed[0].items():
            if day not in out and amount:
                out[day] = build_showback(month_key(day), currency, {}, {}, amount, method=method,
                                          fixed_pct=fixed_pct, teams=teams, billed_basis=billed[1])
    return out


def _missing(value: Any) -> bool:
    """A NULL team or reason (None, or NaN where a pandas frame handed it over)."""
    return value is None or (isinstance(value, float) and value != value)


@dataclass(frozen=True)
class ShowbackInputs:
    """What the showback reads from a home besides the cost store, gathered once."""

    account_teams: dict[str, str]
    teams: list[str]
    currency: str
    method: str
    fixed_pct: dict[str, float]
    shared_accounts: tuple[str, ...]

    @classmethod
    def from_home(cls, home: Home) -> ShowbackInputs:
        from rituals.allocation import account_teams_from_records

        info_currency = home.costs.info().currency
        sc = home.config.shared_costs
        return cls(account_teams_from_records(home.records), active_teams(home.records),
                   info_currency or home.config.currency, sc.method, dict(sc.fixed_pct), tuple(sc.shared_accounts))


def monthly_showbacks(store: CostStore, inputs: ShowbackInputs, first: date, last: date) -> dict[date, Showback]:
    """Showbacks for every month from ``first`` to ``last`` (first days, inclusive), in one query; a month
    without data gets an empty showback."""
    lines = showback_lines(store, inputs.account_teams, inputs.shared_accounts, first, add_months(last, 1))
    found = showbacks_from_lines(lines, inputs.currency, method=inputs.method, fixed_pct=inputs.fixed_pct,
                                 teams=inputs.teams, billed=billed_by_period(store, first, add_months(last, 1)))
    out: dict[date, Showback] = {}
    month = first
    while month <= last:
        out[month] = found.get(month) or build_showback(month_key(month), inputs.currency, {}, {}, 0.0,
                                                        method=inputs.method, fixed_pct=inputs.fixed_pct,
                                                        teams=inputs.teams)
        month = add_months(month, 1)
    return out


def showback(home: Home, month: date) -> Showback:
    """The showback of one month (its first day) for a home."""
    inputs = ShowbackInputs.from_home(home)
    with home.costs.held():
        return monthly_showbacks(home.costs, inputs, month, month)[month]
