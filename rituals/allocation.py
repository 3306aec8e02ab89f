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
there instead (``rituals.tag_costs``): by tag where the allocation key has a (allowed) value, by rule where
the account has an owning team. Cost categories and per-resource detail do not exist in that data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from rituals.tag_costs import tag_costs_coverage, tag_costs_fallback
from storage.costs import CostStore, json_path, sql_string

if TYPE_CHECKING:
    import duckdb
    import pandas as pd


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


def key_sql(con: duckdb.DuckDBPyConnection, store: CostStore, key: str) -> str:
    """SQL for a taxonomy key's value as allocation counts it: non-empty after normalisation and, where the
    taxonomy lists allowed values for the key, one of them (else NULL)."""
    tag = store.tag_expr(con, key)
    allowed = store.taxonomy.allowed_values.get(store.taxonomy.canonical_key(key))
    if allowed:
        values = ", ".join(sql_string(v) for v in allowed)
        tag = f"CASE WHEN {tag} IN ({values}) THEN {tag} END"
    return tag


def allocation_sql(con: duckdb.DuckDBPyConnection, store: CostStore, has_rules: bool) -> tuple[str, str]:
    """SQL expressions (over line_items joined to the ``_rules`` account table as ``r``) for the row's
    allocation value and how it was allocated ('tag', 'rule' or NULL)."""
    key = store.taxonomy.allocation_key
    tag = key_sql(con, store, key)
    cost_category = f"NULLIF(TRIM(json_extract_string(x_CostCategories, {json_path(key)})), '')"
    rule = f"coalesce(r.team, {cost_category})" if has_rules else cost_category
    value = f"coalesce({tag}, {rule})"
    how = f"CASE WHEN {tag} IS NOT NULL THEN 'tag' WHEN {rule} IS NOT NULL THEN 'rule' END"
    return value, how


def rules_frame(account_teams: dict[str, str]) -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame({"account_id": list(account_teams), "team": list(account_teams.values())},
                        dtype=object)


def coverage(store: CostStore, account_teams: dict[str, str], start: date, end: date,
             charge_categories: tuple[str, ...] = ("Usage",)) -> Coverage:
    """Allocation coverage for ``start <= day < end``; ``account_teams`` maps account id -> team."""
    with store.reader() as con:
        if con is None:
            return Coverage(start, end, 0.0, 0.0, 0.0)
        con.register("_rules", rules_frame(account_teams))
        if tag_costs_fallback(con, store, start, end):
            total, by_tag, by_rule = tag_costs_coverage(con, store, start, end)
            return Coverage(start, end, total, by_tag, by_rule)
        _value, how = allocation_sql(con, store, True)
        cats = ", ".join(sql_string(c) for c in charge_categories)
        row = con.execute(
            f"SELECT coalesce(sum(EffectiveCost), 0), "
            f"coalesce(sum(EffectiveCost) FILTER (WHERE {how} = 'tag'), 0), "
            f"coalesce(sum(EffectiveCost) FILTER (WHERE {how} = 'rule'), 0) "
            f"FROM line_items LEFT JOIN _rules r ON r.account_id = line_items.SubAccountId "
            f"WHERE charge_date >= ? AND charge_date < ? AND ChargeCategory IN ({cats})", [start, end]).fetchone()
    return Coverage(start, end, float(row[0]), float(row[1]), float(row[2]))


def account_teams_from_records(records) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Account id -> owning team name, from the records (the single source of these rules)."""
    from sqlmodel import select

    from storage.records import Team, TeamAccount

    with records.session() as s:
        rows = s.exec(select(TeamAccount.account_id, Team.name).join(Team, Team.id == TeamAccount.team_id)).all()
    return {a: t for a, t in rows}
