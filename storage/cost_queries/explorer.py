"""The explorer's named query: spend grouped by any dimensions, over a window and the window before it, at
day, week or month granularity, with include and exclude filters.

Dimensions (``storage.config.explorer_dimension`` gives their one spelling): ``team`` is the allocation value
(``storage.cost_queries.base.allocation_sql``: the allocation tag, else the account's owning team or a cost
category, the one definition showback and the sweep use); ``account``, ``service``, ``region``,
``charge_category`` and ``resource`` are the FOCUS columns; ``cluster`` and ``namespace`` are a shared
Kubernetes / ECS cluster's and a pod's (CUR 2.0 split cost allocation data, ``containers``); ``tag:KEY`` is the
key's normalised tag value (a pod's Kubernetes labels are its tags).
A row without a value groups as NULL and is matched by the filter value ``(none)``.

Every charge category counts; the cost column is EffectiveCost unless BilledCost or ListCost is asked for.
Line items only: data from the AWS sync alone has no tags or resources, so team there is by account rule.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date
from typing import TYPE_CHECKING

from storage.config import EXPLORER_COSTS, EXPLORER_GRAINS
from storage.cost_queries.base import (
    LINE_ITEMS_WITH_RULES,
    allocation_sql,
    create_rules,
    items_from,
    sql_list,
)
from storage.costs import CostStore

if TYPE_CHECKING:
    import duckdb
    import pandas as pd

NO_VALUE = "(none)"
_COLUMNS = {"account": "SubAccountId", "service": "ServiceName", "region": "RegionId",
            "charge_category": "ChargeCategory", "resource": "ResourceId",
            # A shared cluster's spend (storage.cost_queries.containers): its nodes' cost, and a pod's share.
            "cluster": "_cluster", "namespace": "x_ContainerNamespace"}
Filters = Sequence[tuple[str, Sequence[str]]]


def _dimension_sql(con: duckdb.DuckDBPyConnection, store: CostStore, dimension: str) -> str:
    if dimension == "team":
        return allocation_sql(con, store)[0]
    if dimension in _COLUMNS:
        return f"NULLIF(TRIM({_COLUMNS[dimension]}), '')"
    if dimension.startswith("tag:"):
        return store.tag_expr(con, dimension[4:])
    raise ValueError(f"unknown dimension {dimension!r}")


def _filter_sql(sql_of: Callable[[str], str], filters: Filters, *, exclude: bool) -> str:
    parts = []
    for dimension, values in filters:
        expr = f"coalesce({sql_of(dimension)}, {sql_list([NO_VALUE])})"
        parts.append(f" AND {expr} {'NOT IN' if exclude else 'IN'} ({sql_list(values)})")
    return "".join(parts)


def explorer_costs(store: CostStore, account_teams: Mapping[str, str], start: date, end: date, *,
                   group_by: Sequence[str], filters: Filters = (), excludes: Filters = (),
                   cost: str = "effective", granularity: str = "day",
                   previous_start: date | None = None) -> pd.DataFrame:
    """Cost per period and group for ``start <= day < end``, and per group for ``previous_start <= day <
    start`` (the period before, when given), in one scan: columns ``window`` ('current' or 'previous'),
    ``period`` (the day, the ISO week's Monday or the month's first day; None for the previous window),
    one column per ``group_by`` dimension (None when the row has no value), ``cost``; ``attrs["currency"]``
    is the rows' billing currency when they have exactly one.

    ``filters`` keep rows whose value is one of the listed ones for every listed dimension; ``excludes``
    drop rows whose value is listed. ``cost``: effective, billed or list."""
    import pandas as pd

    if cost not in EXPLORER_COSTS:
        raise ValueError(f"cost must be one of {', '.join(EXPLORER_COSTS)}, got {cost!r}")
    if granularity not in EXPLORER_GRAINS:
        raise ValueError(f"granularity must be one of {', '.join(EXPLORER_GRAINS)}, got {granularity!r}")
    dims = list(group_by)
    columns = ["window", "period", *dims, "cost"]
    with store.reader() as con:
        if con is None:
            return pd.DataFrame(columns=columns)
        create_rules(con, account_teams, store)
        known: dict[str, str] = {}  # each dimension's SQL once: reading the store's layout costs a query

        def sql_of(dimension: str) -> str:
            if dimension not in known:
                known[dimension] = _dimension_sql(con, store, dimension)
            return known[dimension]

        exprs = [f"{sql_of(d)} AS d{i}" for i, d in enumerate(dims)]
        # The daily rollup serves every dimension but the resource and a tag key outside the taxonomy.
        read = [*(_COLUMNS.get(d, "") for d in [*dims, *(f for f, _v in [*filters, *excludes])]
                  if not d.startswith("tag:") and d != "team"), "BillingCurrency", EXPLORER_COSTS[cost]]
        tags = [d[4:] for d in [*dims, *(f for f, _v in [*filters, *excludes])] if d.startswith("tag:")]
        keys = set(store.taxonomy.keys)
        source = (items_from(con, store, read) if all(store.taxonomy.canonical_key(t) in keys for t in tags)
                  else LINE_ITEMS_WITH_RULES)
        where = _filter_sql(sql_of, filters, exclude=False) + _filter_sql(sql_of, excludes, exclude=True)
        first = previous_start or start
        period = "charge_date" if granularity == "day" else f"date_trunc('{granularity}', charge_date)"
        names = "".join(f", d{i}" for i in range(len(dims)))
        sql = (f"SELECT CASE WHEN charge_date >= ? THEN 'current' ELSE 'previous' END AS window, "
               f"CASE WHEN charge_date >= ? THEN CAST({period} AS DATE) END AS period{names}, "
               f"sum(cost_) AS cost, min(BillingCurrency) AS c_min, max(BillingCurrency) AS c_max FROM ("
               f"SELECT charge_date, BillingCurrency, {EXPLORER_COSTS[cost]} AS cost_{''.join(', ' + e for e in exprs)} "
               f"FROM {source} WHERE charge_date >= ? AND charge_date < ?{where}) "
               f"GROUP BY ALL ORDER BY 1, 2{names}")
        frame = con.execute(sql, [start, start, first, end]).df()
    frame.columns = [*columns, "c_min", "c_max"]
    currencies = {c for c in [*frame["c_min"], *frame["c_max"]] if isinstance(c, str)}
    frame = frame[columns].copy()
    # One billing currency across the rows: the frame's; several or none: None (the caller's default).
    frame.attrs["currency"] = currencies.pop() if len(currencies) == 1 else None
    frame["cost"] = frame["cost"].fillna(0.0).astype(float)
    frame["period"] = pd.Series([None if p is None or p != p else (p.date() if hasattr(p, "date") else p)
                                 for p in frame["period"]], index=frame.index, dtype=object)
    for d in dims:
        frame[d] = pd.Series([None if v is None or v != v else str(v) for v in frame[d]], index=frame.index,
                             dtype=object)
    return frame

