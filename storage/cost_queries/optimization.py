"""Named queries behind the inbox's own rules over line items (rituals/optimization_rules.py) and the check
of an action's saving in the bill: per resource and usage type, what a window billed.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from storage.costs import CostStore, one_row

if TYPE_CHECKING:
    import pandas as pd

RESOURCE_USAGE_COLUMNS = ["resource_id", "usage_type", "account_id", "region", "resource_type", "days",
                          "first_day", "last_day", "cost", "recent_cost", "quantity", "first_ever", "currency"]


def latest_usage_day(store: CostStore) -> date | None:
    """The last charge day of any usage row (None without data)."""
    with store.reader() as con:
        if con is None:
            return None
        day = one_row(con, "SELECT max(charge_date) FROM line_items WHERE ChargeCategory = 'Usage'")[0]
    return day


def resource_usage(store: CostStore, start: date, end: date, recent_start: date) -> pd.DataFrame:
    """Per resource and usage type of the usage rows of ``start <= day < end`` that carry a ResourceId:
    account, region, resource type, distinct days billed, first and last day billed in the window, EffectiveCost
    (``cost``, and ``recent_cost`` from ``recent_start``), ConsumedQuantity, the first day the resource was
    ever billed in the store (``first_ever``) and its currency."""
    import pandas as pd

    with store.reader() as con:
        if con is None:
            return pd.DataFrame(columns=RESOURCE_USAGE_COLUMNS)
        return con.execute(
            "WITH win AS (SELECT ResourceId AS resource_id, coalesce(x_UsageType, '') AS usage_type, "
            "any_value(SubAccountId) AS account_id, any_value(RegionId) AS region, "
            "any_value(ResourceType) AS resource_type, count(DISTINCT charge_date) AS days, "
            "min(charge_date) AS first_day, max(charge_date) AS last_day, sum(EffectiveCost) AS cost, "
            "coalesce(sum(EffectiveCost) FILTER (WHERE charge_date >= ?), 0) AS recent_cost, "
            "sum(ConsumedQuantity) AS quantity, any_value(BillingCurrency) AS currency FROM line_items "
            "WHERE charge_date >= ? AND charge_date < ? AND ChargeCategory = 'Usage' AND ResourceId IS NOT NULL "
            "AND ResourceId <> '' GROUP BY 1, 2), "
            "ever AS (SELECT ResourceId AS resource_id, min(charge_date) AS first_ever FROM line_items "
            "WHERE ResourceId IN (SELECT resource_id FROM win) GROUP BY 1) "
            "SELECT win.resource_id, usage_type, account_id, region, resource_type, days, first_day, last_day, "
            "cost, recent_cost, quantity, first_ever, currency FROM win JOIN ever USING (resource_id) "
            "ORDER BY 1, 2", [recent_start, start, end]).df()


def resource_tag_values(store: CostStore, resource_ids: list[str], keys: list[str]) -> dict[str, dict[str, str]]:
    """Per resource id of ``resource_ids`` billed in the store: the value of each taxonomy key of ``keys``
    its line items carry (allocation's reading of the key: normalised, allowed values only), taken from its
    latest billed day that has one."""
    from storage.cost_queries.base import key_sql

    if not resource_ids or not keys:
        return {}
    out: dict[str, dict[str, str]] = {}
    with store.reader() as con:
        if con is None:
            return {}
        con.execute("CREATE TEMP TABLE _resources (resource_id VARCHAR)")
        con.executemany("INSERT INTO _resources VALUES (?)", [[r] for r in sorted(set(resource_ids))])
        exprs = ", ".join(f"arg_max({key_sql(con, store, k)}, charge_date) FILTER (WHERE {key_sql(con, store, k)} "
                          f"IS NOT NULL) AS k{i}" for i, k in enumerate(keys))
        rows = con.execute(f"SELECT ResourceId, {exprs} FROM line_items WHERE ResourceId IN "
                           f"(SELECT resource_id FROM _resources) GROUP BY 1").fetchall()
    for rid, *values in rows:
        found = {k: v for k, v in zip(keys, values, strict=True) if v is not None}
        if found:
            out[str(rid)] = found
    return out


OPTIMIZATION_TABLE = "optimization_recommendations"


def optimization_rows(store: CostStore, sources: list[str]) -> pd.DataFrame | None:
    """The stored recommendations of ``sources`` (every action type); None when none were ever stored."""
    from storage.cost_queries.base import has_table, sql_list

    with store.reader() as con:
        if con is None or not has_table(con, OPTIMIZATION_TABLE):
            return None
        return con.execute(f"SELECT * FROM {OPTIMIZATION_TABLE} WHERE source IN ({sql_list(sources)}) "
                           "ORDER BY source, recommendation_id").df()


def optimization_purchases(store: CostStore) -> list[dict[str, Any]] | None:
    """Cost Optimization Hub's (and a Data Exports file's) purchase recommendations: Savings Plans and
    reserved instances, for the commitment review; None when none were ever stored."""
    from storage.cost_queries.base import fetch_dicts, has_table

    with store.reader() as con:
        if con is None or not has_table(con, OPTIMIZATION_TABLE):
            return None
        return fetch_dicts(con, f"SELECT source, recommendation_id, action_type, account_id, region, resource_type, "
                                f"estimated_monthly_savings, estimated_monthly_cost, currency, recommended_summary, "
                                f"lookback_days, last_refresh, fetched_at FROM {OPTIMIZATION_TABLE} "
                                "WHERE lower(action_type) LIKE 'purchase%' ORDER BY estimated_monthly_savings DESC")


def has_resource_rows(store: CostStore) -> bool:
    """Whether any line item names its resource (API-only data, Cost Explorer's, never does)."""
    with store.reader() as con:
        if con is None:
            return False
        return bool(one_row(con, "SELECT count(*) FROM (SELECT 1 FROM line_items WHERE ResourceId IS NOT NULL "
                                 "AND ResourceId <> '' LIMIT 1)")[0])


def resource_cost(store: CostStore, resource_id: str, start: date, end: date) -> tuple[float, int]:
    """A resource's EffectiveCost over ``start <= day < end`` (its ResourceId as written, or an ARN ending in
    ``/resource_id``) and the days of the window the store holds any usage for."""
    with store.reader() as con:
        if con is None:
            return 0.0, 0
        cost = one_row(con, "SELECT coalesce(sum(EffectiveCost), 0) FROM line_items WHERE charge_date >= ? AND "
                            "charge_date < ? AND (ResourceId = ? OR ResourceId LIKE ?)",
                       [start, end, resource_id, "%/" + resource_id])[0]
        days = one_row(con, "SELECT count(DISTINCT charge_date) FROM line_items WHERE charge_date >= ? AND "
                            "charge_date < ? AND ChargeCategory = 'Usage'", [start, end])[0]
    return float(cost), int(days)
