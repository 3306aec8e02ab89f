"""Named queries behind the waste ratio's rules over billing data (the quarterly review's KPIs): idle
addresses, idle load balancers, and resources that keep running through weekends.

Usage types are matched case-insensitively with SQL LIKE patterns (``%IdleAddress%``), as the rules in
``rituals/framework/kpi_bands.toml`` write them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from storage.cost_queries.base import is_warehouse, sql_list
from storage.costs import CostStore, sql_string

MASK_DAYS = 64  # a window this long or shorter counts its billed days in one 64-bit mask per resource
WEEKEND_COLUMNS = ["resource_id", "account_id", "env", "weekend_cost"]


def _like_any(column: str, patterns: Sequence[str]) -> str:
    return "(" + " OR ".join(f"{column} ILIKE {sql_string(p)}" for p in patterns) + ")" if patterns else "false"


def idle_address_costs(store: CostStore, usage_types: Sequence[str], start: date,
                       end: date) -> list[tuple[Any, Any, float]]:
    """(resource id, account id, EffectiveCost) of the line items whose usage type matches one of
    ``usage_types``, for ``start <= day < end``, costliest first."""
    with store.reader() as con:
        if con is None:
            return []
        return con.execute(
            f"SELECT ResourceId AS resource_id, SubAccountId AS account_id, sum(EffectiveCost) AS cost "
            f"FROM line_items WHERE charge_date >= ? AND charge_date < ? AND "
            f"{_like_any('x_UsageType', usage_types)} GROUP BY 1, 2 ORDER BY 3 DESC, 1", [start, end]).fetchall()


def idle_load_balancer_costs(store: CostStore, hour_usage_types: Sequence[str], traffic_usage_types: Sequence[str],
                             start: date, end: date) -> list[tuple[Any, Any, float]]:
    """(resource id, account id, EffectiveCost of its hours) of the resources billed for hours (a usage type
    of ``hour_usage_types``) with no row of ``traffic_usage_types`` in ``start <= day < end``, costliest
    first."""
    hours = _like_any("x_UsageType", hour_usage_types)
    traffic = _like_any("x_UsageType", traffic_usage_types)
    with store.reader() as con:
        if con is None:
            return []
        return con.execute(
            f"SELECT ResourceId AS resource_id, any_value(SubAccountId) AS account_id, "
            f"sum(EffectiveCost) FILTER (WHERE {hours}) AS cost FROM line_items "
            f"WHERE charge_date >= ? AND charge_date < ? AND ({hours} OR {traffic}) AND ResourceId IS NOT NULL "
            f"GROUP BY 1 HAVING count(*) FILTER (WHERE {traffic}) = 0 ORDER BY 3 DESC, 1", [start, end]).fetchall()


# A resource runs through weekends when its weekend spend per day is at least ``level`` times its weekday spend
# per day (``rituals.waste``); no weekday or no weekend day billed, or nothing spent on weekdays, never is.
# Missing sums count as 0 (a resource billed on weekdays only has no weekend sum).
WEEKEND_PREDICATE = ("coalesce(weekdays, 0) <> 0 AND coalesce(weekend_days, 0) <> 0 "
                     "AND coalesce(weekday_cost, 0) / weekdays > 0 "
                     "AND coalesce(weekend_cost, 0) / weekend_days >= ? * (coalesce(weekday_cost, 0) / weekdays)")


def weekend_running_costs(store: CostStore, environment_key: str, charge_categories: Sequence[str], start: date,
                          end: date, level: float) -> list[tuple[Any, ...]]:
    """The resources carrying an ``environment_key`` tag value that ran through the weekends of ``start <= day
    < end`` (the charge categories' rows) at ``level`` or more of their weekday spend per day
    (``WEEKEND_PREDICATE``, over each resource's weekday and weekend spend and distinct days billed): tuples
    of ``WEEKEND_COLUMNS`` (resource_id, account_id, env as spelled, weekend_cost), the largest weekend
    spend first, ties by resource id. The selection and the order happen in the store, so only the
    resources found reach Python (a month at 20M rows has ~10^5 tagged resources)."""
    with store.reader() as con:
        if con is None:
            return []
        env = store.tag_expr(con, environment_key)
        where = (f"charge_date >= ? AND charge_date < ? AND ChargeCategory IN ({sql_list(charge_categories)}) "
                 f"AND ResourceId IS NOT NULL AND {env} IS NOT NULL")
        if not is_warehouse(con) and (end - start).days <= MASK_DAYS:
            # The days billed as a bit mask of day offsets per resource: one aggregate of small state, where a
            # per-resource-and-day table held every resource's days at once (390 MB of kpis' peak at 5M rows).
            def days(weekend: bool) -> str:
                day = "CAST(date_diff('day', CAST(? AS DATE), charge_date) AS UBIGINT)"
                return (f"CAST(coalesce(bit_count(bit_or(CAST(1 AS UBIGINT) << {day}) FILTER (WHERE "
                        f"isodow(charge_date) {'>=' if weekend else '<'} 6)), 0) AS BIGINT)")

            per_resource = (
                f"SELECT ResourceId AS resource_id, any_value(SubAccountId) AS account_id, {env} AS env, "
                "sum(EffectiveCost) FILTER (WHERE isodow(charge_date) < 6) AS weekday_cost, "
                f"{days(False)} AS weekdays, "
                "sum(EffectiveCost) FILTER (WHERE isodow(charge_date) >= 6) AS weekend_cost, "
                f"{days(True)} AS weekend_days "
                f"FROM line_items WHERE {where} GROUP BY 1, 3")
            params: list[Any] = [start, start, start, end]
        else:
            # Per resource and day first, then per resource: the days billed are then a count of rows, where a
            # count(DISTINCT charge_date) per resource kept a set of days for each of them (the slow part of kpis).
            per_resource = (
                f"WITH daily AS (SELECT ResourceId AS resource_id, any_value(SubAccountId) AS account_id, "
                f"{env} AS env, charge_date, sum(EffectiveCost) AS cost FROM line_items WHERE {where} "
                "GROUP BY 1, 3, 4) "
                "SELECT resource_id, any_value(account_id) AS account_id, env, "
                "sum(cost) FILTER (WHERE isodow(charge_date) < 6) AS weekday_cost, "
                "count(*) FILTER (WHERE isodow(charge_date) < 6) AS weekdays, "
                "sum(cost) FILTER (WHERE isodow(charge_date) >= 6) AS weekend_cost, "
                "count(*) FILTER (WHERE isodow(charge_date) >= 6) AS weekend_days "
                "FROM daily GROUP BY resource_id, env")
            params = [start, end]
        return con.execute(
            f"SELECT {', '.join(WEEKEND_COLUMNS)} FROM ({per_resource}) WHERE {WEEKEND_PREDICATE} "
            "ORDER BY weekend_cost DESC, resource_id", [*params, float(level)]).fetchall()
