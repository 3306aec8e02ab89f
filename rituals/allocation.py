"""Allocation coverage: the share of spend that has an owner, by tag or, failing that, by rule.

Spend is EffectiveCost of the configured charge categories (default: Usage rows, which in FOCUS include
unused-commitment rows). A row is allocated *by tag* when its allocation key has a non-empty value after
normalisation (and an allowed one, where the taxonomy lists allowed values); otherwise *by rule* when its
account is owned by a team (records: TeamAccount) or the export carries a cost-category value for the key
(``x_CostCategories``); otherwise it is unallocated. The board, the sweep and the quarterly KPIs all read
this one definition.

With data from the AWS sync only, line items carry account x service x day and no Tags; the sync stores the
spend per tag value x account x day of each taxonomy key apart (``aws_tag_costs``, Cost Explorer's TAG
grouping, the untagged bucket as NULL). For a window whose line items carry no Tags, allocation is read from
there instead (``storage.cost_queries``): by tag where the allocation key has a (allowed) value, by rule where
the account has an owning team. Cost categories and per-resource detail do not exist in that data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from storage.cost_queries import allocation_costs_of
from storage.costs import CostStore

if TYPE_CHECKING:
    from storage.db import Records


@dataclass(frozen=True)
class Coverage:
    start: date
    end: date
    total_cost: float
    by_tag_cost: float
    by_rule_cost: float

    @property
    def allocated_cost(self) -> float:
        return self.by_tag_cost + self.by_rule_cost

    @property
    def unallocated_cost(self) -> float:
        return self.total_cost - self.allocated_cost

    def _pct(self, part: float) -> float | None:
        if self.total_cost <= 0:
            return None
        return max(0.0, min(100.0, part / self.total_cost * 100.0))

    @property
    def coverage_pct(self) -> float | None:
        return self._pct(self.allocated_cost)

    @property
    def by_tag_pct(self) -> float | None:
        return self._pct(self.by_tag_cost)

    @property
    def by_rule_pct(self) -> float | None:
        return self._pct(self.by_rule_cost)


def coverage(store: CostStore, account_teams: dict[str, str], start: date, end: date,
             charge_categories: tuple[str, ...] = ("Usage",)) -> Coverage:
    """Allocation coverage for ``start <= day < end``; ``account_teams`` maps account id -> team."""
    return coverages(store, account_teams, [(start, end)], charge_categories)[0]


def coverages(store: CostStore, account_teams: dict[str, str], windows: list[tuple[date, date]],
              charge_categories: tuple[str, ...] = ("Usage",)) -> list[Coverage]:
    """``coverage`` of each ``(start, end)`` of ``windows``, in order, in one pass over the store."""
    found = allocation_costs_of(store, account_teams, windows, charge_categories)
    return [Coverage(start, end, *costs) for (start, end), costs in zip(windows, found, strict=True)]


def account_teams_from_records(records: Records) -> dict[str, str]:
    """Account id -> owning team name, from the records (the single source of these rules)."""
    from sqlmodel import col, select

    from storage.records import Team, TeamAccount

    with records.session() as s:
        rows = s.exec(select(TeamAccount.account_id, Team.name).join(Team, col(Team.id) == TeamAccount.team_id)).all()
    return {a: t for a, t in rows}
