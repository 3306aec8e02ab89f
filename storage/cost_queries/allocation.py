"""Named queries of allocation and tags: coverage, the tag sweep's frames, and the tag-fix checks.

Allocation's definition and the AWS-sync-only fallback are in ``storage.cost_queries.base``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any, NamedTuple

from storage import rollup
from storage.cost_queries.base import (
    AWS_TAG_COSTS,
    LINE_ITEMS,
    LINE_ITEMS_WITH_RULES,
    TAG_COSTS_WITH_RULES,
    allocation_sql,
    create_rules,
    has_table,
    items_from,
    key_sql,
    reads_tag_costs,
    rollup_serves,
    sql_list,
    tag_costs_allocation_sql,
    tag_value_sql,
)
from storage.costs import CostStore, sql_string

if TYPE_CHECKING:
    import duckdb


def allocation_costs(store: CostStore, account_teams: Mapping[str, str], start: date, end: date,
                     charge_categories: Sequence[str] = ("Usage",)) -> tuple[float, float, float]:
    """(spend, allocated by tag, allocated by rule) for ``start <= day < end``: EffectiveCost of the charge
    categories (of every row, from the AWS sync's tag costs); zeros while the store holds no data."""
    return allocation_costs_of(store, account_teams, [(start, end)], charge_categories)[0]


def allocation_costs_of(store: CostStore, account_teams: Mapping[str, str], windows: Sequence[tuple[date, date]],
                        charge_categories: Sequence[str] = ("Usage",)) -> list[tuple[float, float, float]]:
    """``allocation_costs`` of each ``(start, end)`` of ``windows``, in order, over one connection (the
    rules written once: the quarterly scorecard asks for eight windows)."""
    with store.reader() as con:
        if con is None:
            return [(0.0, 0.0, 0.0) for _ in windows]
        create_rules(con, account_teams, store)
        out = []
        for start, end in windows:
            if reads_tag_costs(con, store, start, end):
                _value, how = tag_costs_allocation_sql(store)
                row = con.execute(
                    f"SELECT coalesce(sum(amortized_cost), 0), "
                    f"coalesce(sum(amortized_cost) FILTER (WHERE {how} = 'tag'), 0), "
                    f"coalesce(sum(amortized_cost) FILTER (WHERE {how} = 'rule'), 0) FROM {TAG_COSTS_WITH_RULES} "
                    "WHERE t.tag_key = ? AND t.day >= ? AND t.day < ?",
                    [store.taxonomy.allocation_key, start, end]).fetchone()
            else:
                _value, how = allocation_sql(con, store)
                row = con.execute(
                    f"SELECT coalesce(sum(EffectiveCost), 0), "
                    f"coalesce(sum(EffectiveCost) FILTER (WHERE {how} = 'tag'), 0), "
                    f"coalesce(sum(EffectiveCost) FILTER (WHERE {how} = 'rule'), 0) FROM {items_from(con, store)} "
                    f"WHERE charge_date >= ? AND charge_date < ? AND ChargeCategory IN ({sql_list(charge_categories)})",
                    [start, end]).fetchone()
            assert row is not None  # an aggregate without GROUP BY always returns its one row
            out.append((float(row[0]), float(row[1]), float(row[2])))
    return out


class SweepRow(NamedTuple):
    """Spend of one account, service and allocation state; ``flags``: per taxonomy key (in order), whether
    the rows carry it."""

    account_id: str | None
    account_name: str | None
    service: str | None
    how: str | None  # 'tag', 'rule' or None (unallocated)
    team: str | None
    unused: bool
    cost: float
    flags: tuple[bool, ...]


class ResourceLine(NamedTuple):
    """One unallocated resource's positive spend in an account and service."""

    resource_id: str | None
    account_id: str | None
    account_name: str | None
    service: str | None
    resource_name: str | None
    cost: float


class TrendBucket(NamedTuple):
    """Spend of one 7-day bucket (0 = the window's last 7 days, 1 = the 7 before...) and its allocated part."""

    bucket: int
    total: float
    by_tag: float
    by_rule: float


class ValueCost(NamedTuple):
    """Spend per normalised tag key and value as spelled (value None: rows without it)."""

    key: str
    value: str | None
    cost: float


@dataclass
class SweepData:
    """The tag sweep's rows for ``start <= day < end``, as plain tuples (the sweep imports no pandas).

    ``rows``: spend per account, service and allocation state (``SweepRow``, one flag per taxonomy key);
    ``resources``: each unallocated resource's positive spend, unused commitment left out; ``trend``: the
    7-day buckets; ``values``: spend per key and value (value None included). ``source`` is ``line_items``
    or ``aws_tag_costs``; from the latter, ``key_shares`` holds per key (spend carrying it, spend) from its
    own rows (spend None: no rows for the key), and ``resources`` is empty."""

    rows: list[SweepRow]
    resources: list[ResourceLine]
    trend: list[TrendBucket]
    values: list[ValueCost]
    source: str = LINE_ITEMS
    key_shares: dict[str, tuple[float, float | None]] | None = None


UNUSED_SQL = "coalesce(lower(CommitmentDiscountStatus) = 'unused', false)"


def _sweep_rows(found: list[tuple[Any, ...]]) -> list[SweepRow]:
    """``SweepRow``s from SQL rows of the seven columns then one flag column per key."""
    return [SweepRow(a, n, s, h, t, bool(u), float(c or 0.0), tuple(bool(f) for f in flags))
            for a, n, s, h, t, u, c, *flags in found]


def _trend(found: list[tuple[Any, ...]]) -> list[TrendBucket]:
    return [TrendBucket(int(b), float(t or 0.0), float(g or 0.0), float(r or 0.0)) for b, t, g, r in found]


def _values(found: list[tuple[Any, ...]]) -> list[ValueCost]:
    return [ValueCost(str(k), v, float(c or 0.0)) for k, v, c in found]


def sweep_data(store: CostStore, account_teams: Mapping[str, str], start: date, end: date,
               charge_categories: Sequence[str], *, trend_weeks: int,
               summed_ready: Callable[[SweepData], None] | None = None) -> SweepData | None:
    """The sweep's rows, read in one read-only connection; None while the store holds no data.

    Only the unallocated resources are read per resource (from the line items); every other figure comes
    from spend per account, service and allocation state, which the daily rollup serves. Where it does,
    ``summed_ready`` is first given those rows with no resources, before the line items are read for
    them (a screen paints the coverage meanwhile); without the rollup one scan reads both and it is not
    called."""
    with store.reader() as con:
        if con is None:
            return None
        create_rules(con, account_teams, store)
        if reads_tag_costs(con, store, start, end):
            return _tag_cost_sweep(con, store, start, end, trend_weeks)
        tax = store.taxonomy
        value, how = allocation_sql(con, store)
        flags = ", ".join(f'({key_sql(con, store, k)} IS NOT NULL) AS "key_{i}"' for i, k in enumerate(tax.keys))
        where = f"WHERE ChargeCategory IN ({sql_list(charge_categories)}) AND charge_date >= ? AND charge_date < ?"
        summed = f"FROM {items_from(con, store, ('SubAccountName',))} {where}"  # the rollup serves these
        state = f"{how} AS how, {value} AS team, {UNUSED_SQL} AS unused"
        trend_sql = (
            f"SELECT (date_diff('day', charge_date, CAST(? AS DATE)) - 1) // 7 AS bucket, "
            f"sum(EffectiveCost) AS total, coalesce(sum(EffectiveCost) FILTER (WHERE {how} = 'tag'), 0) AS by_tag, "
            f"coalesce(sum(EffectiveCost) FILTER (WHERE {how} = 'rule'), 0) AS by_rule {summed} GROUP BY 1")
        trend_params = [end, end - timedelta(days=7 * trend_weeks), end]
        parts = [f"SELECT {sql_string(k)} AS key, {store.tag_expr(con, k)} AS value, sum(EffectiveCost) AS cost "
                 f"{summed} GROUP BY 2" for k in tax.keys]
        if rollup_serves(con, store, ("SubAccountName",)):
            rows = _sweep_rows(con.execute(
                f"SELECT SubAccountId AS account_id, any_value(SubAccountName) AS account_name, ServiceName AS "
                f"service, {state}, sum(EffectiveCost) AS cost, {flags} {summed} GROUP BY ALL",
                [start, end]).fetchall())
            trend = _trend(con.execute(trend_sql, trend_params).fetchall())
            values = _values(con.execute(" UNION ALL ".join(parts), [start, end] * len(tax.keys)).fetchall())
            if summed_ready is not None:
                summed_ready(SweepData(rows, [], trend, values))
            resources = [ResourceLine(r, a, n, s, rn, float(c or 0.0)) for r, a, n, s, rn, c in con.execute(
                f"SELECT ResourceId AS resource_id, SubAccountId AS account_id, any_value(SubAccountName) AS "
                f"account_name, ServiceName AS service, any_value(ResourceName) AS resource_name, "
                f"sum(EffectiveCost) AS cost FROM {LINE_ITEMS_WITH_RULES} {where} AND ({how}) IS NULL AND NOT "
                f"{UNUSED_SQL} GROUP BY ResourceId, SubAccountId, ServiceName HAVING sum(EffectiveCost) > 0",
                [start, end]).fetchall()]
        else:
            # Without the rollup (a warehouse bills every scan): one scan per resource and allocation state,
            # split here into the two lists.
            rows, resources = _split_by_resource(con.execute(
                f"SELECT SubAccountId AS account_id, any_value(SubAccountName) AS account_name, ServiceName AS "
                f"service, ResourceId AS resource_id, any_value(ResourceName) AS resource_name, {state}, "
                f"sum(EffectiveCost) AS cost, {flags} FROM {LINE_ITEMS_WITH_RULES} {where} GROUP BY ALL",
                [start, end]).fetchall())
            trend = _trend(con.execute(trend_sql, trend_params).fetchall())
            values = _values(con.execute(" UNION ALL ".join(parts), [start, end] * len(tax.keys)).fetchall())
    return SweepData(rows, resources, trend, values)


def _split_by_resource(detail: list[tuple[Any, ...]]) -> tuple[list[SweepRow], list[ResourceLine]]:
    """Spend per resource and allocation state (account_id, account_name, service, resource_id,
    resource_name, how, team, unused, cost, flags...) as the sweep's two lists: per account, service and
    state (the resource summed away), and each unallocated resource's positive spend (unused commitment
    left out). A name is the first one found that is not NULL."""
    states: dict[tuple[Any, ...], list[Any]] = {}
    found: dict[tuple[Any, ...], list[Any]] = {}
    for account, name, service, resource, resource_name, how, team, unused, cost, *flags in detail:
        key = (account, service, how, team, bool(unused), *(bool(f) for f in flags))
        state = states.setdefault(key, [name, []])
        state[0] = state[0] if state[0] is not None else name
        state[1].append(float(cost or 0.0))
        if how is None and not unused:
            line = found.setdefault((resource, account, service), [name, resource_name, []])
            line[0] = line[0] if line[0] is not None else name
            line[1] = line[1] if line[1] is not None else resource_name
            line[2].append(float(cost or 0.0))
    rows = [SweepRow(k[0], name, k[1], k[2], k[3], k[4], math.fsum(costs), k[5:])
            for k, (name, costs) in states.items()]
    resources = [ResourceLine(r, a, name, s, rn, math.fsum(costs))
                 for (r, a, s), (name, rn, costs) in found.items()]
    return rows, [r for r in resources if r.cost > 0]


def _tag_cost_sweep(con: duckdb.DuckDBPyConnection, store: CostStore, start: date, end: date,
                    trend_weeks: int) -> SweepData:
    """The rows from the AWS sync's per-tag costs: spend per account and allocation value (no services or
    resources), each key's share from its own rows (the keys' rows cannot be joined)."""
    tax = store.taxonomy
    value, how = tag_costs_allocation_sql(store)
    names = ("(SELECT account_id AS id, any_value(name) AS name FROM aws_accounts GROUP BY 1)"
             if has_table(con, "aws_accounts") else "(SELECT NULL AS id, NULL AS name)")
    flags = ", ".join(f'{"(" + tag_value_sql(store, k) + " IS NOT NULL)" if k == tax.allocation_key else "false"} '
                      f'AS "key_{i}"' for i, k in enumerate(tax.keys))
    rows = _sweep_rows(con.execute(
        f"SELECT t.account_id, any_value(a.name) AS account_name, NULL AS service, "
        f"{how} AS how, {value} AS team, false AS unused, sum(t.amortized_cost) AS cost, "
        f"{flags} FROM {TAG_COSTS_WITH_RULES} LEFT JOIN {names} a ON a.id = t.account_id "
        "WHERE t.tag_key = ? AND t.day >= ? AND t.day < ? GROUP BY ALL",
        [tax.allocation_key, start, end]).fetchall())
    trend = _trend(con.execute(
        f"SELECT (date_diff('day', t.day, CAST(? AS DATE)) - 1) // 7 AS bucket, sum(t.amortized_cost) AS total, "
        f"coalesce(sum(t.amortized_cost) FILTER (WHERE {how} = 'tag'), 0) AS by_tag, "
        f"coalesce(sum(t.amortized_cost) FILTER (WHERE {how} = 'rule'), 0) AS by_rule FROM {TAG_COSTS_WITH_RULES} "
        "WHERE t.tag_key = ? AND t.day >= ? AND t.day < ? GROUP BY 1",
        [end, tax.allocation_key, end - timedelta(days=7 * trend_weeks), end]).fetchall())
    values = _values(con.execute(
        f"SELECT t.tag_key AS key, t.tag_value AS value, sum(t.amortized_cost) AS cost FROM {AWS_TAG_COSTS} t "
        "WHERE t.day >= ? AND t.day < ? AND NULLIF(TRIM(t.tag_value), '') IS NOT NULL GROUP BY 1, 2",
        [start, end]).fetchall())
    shares: dict[str, tuple[float, float | None]] = {}
    for key in tax.keys:
        got = con.execute(
            f"SELECT sum(t.amortized_cost), sum(t.amortized_cost) FILTER (WHERE {tag_value_sql(store, key)} "
            f"IS NOT NULL) FROM {AWS_TAG_COSTS} t WHERE t.tag_key = ? AND t.day >= ? AND t.day < ?",
            [key, start, end]).fetchone()
        total, tagged = got if got is not None else (None, None)
        shares[key] = (float(tagged or 0.0), None if total is None else float(total))
    return SweepData(rows, [], trend, values, AWS_TAG_COSTS, shares)


@dataclass(frozen=True)
class FixEntity:
    """What a tag-fix action is about: ``kind`` account, resource or tag_value (``key`` is then
    ``tag-key=value``), and the day the action was created."""

    kind: str
    key: str
    created: date


@dataclass(frozen=True)
class FixCosts:
    """An entity's unallocated spend in the 7 days before its fix was created, and its spend and unallocated
    spend in the checked window."""

    before_unallocated: float
    cost: float
    unallocated: float


def _entity_filter(con: duckdb.DuckDBPyConnection, store: CostStore,
                   entity: FixEntity) -> tuple[str, list[str], bool] | None:
    """SQL condition selecting the entity's rows; the flag says "every matching row counts as unallocated"
    (a variant spelling is the problem itself)."""
    if entity.kind == "account":
        return "SubAccountId = ?", [entity.key], False
    if entity.kind == "resource":
        return "ResourceId = ?", [entity.key], False
    if entity.kind == "tag_value" and "=" in entity.key:
        tag_key, value = entity.key.split("=", 1)
        return f"{store.tag_expr(con, tag_key)} = ?", [value], True
    return None


def fix_costs(store: CostStore, account_teams: Mapping[str, str], start: date, end: date,
              charge_categories: Sequence[str],
              entities: Sequence[FixEntity]) -> tuple[bool, list[FixCosts | None]] | None:
    """Whether ``start <= day < end`` holds spend of the charge categories, and per entity (in order) its
    ``FixCosts`` (None: an entity that cannot be checked); None while the store holds no data."""
    with store.reader() as con:
        if con is None:
            return None
        create_rules(con, account_teams, store)
        _value, how = allocation_sql(con, store)
        cats = sql_list(charge_categories)
        served = rollup_serves(con, store)  # an account's or a taxonomy tag value's rows; a resource's are not
        found = con.execute(f"SELECT count(*) > 0 FROM {rollup.ROLLUP if served else 'line_items'} "
                            f"WHERE charge_date >= ? AND charge_date < ? AND ChargeCategory IN ({cats})",
                            [start, end]).fetchone()
        out: list[FixCosts | None] = []
        for entity in entities:
            where = _entity_filter(con, store, entity)
            if where is None:
                out.append(None)
                continue
            cond, params, all_unallocated = where
            keys = set(store.taxonomy.keys)
            by_rollup = served and (entity.kind == "account" or (
                entity.kind == "tag_value" and store.taxonomy.canonical_key(entity.key.split("=", 1)[0]) in keys))
            source = items_from(con, store) if by_rollup else LINE_ITEMS_WITH_RULES
            b0, b1 = entity.created - timedelta(days=7), entity.created
            unalloc = "TRUE" if all_unallocated else f"({how}) IS NULL"
            # The outer window bounds the scan (a warehouse then reads only its billing periods); every sum
            # is filtered to one of the two windows inside it.
            row = con.execute(
                f"SELECT coalesce(sum(EffectiveCost) FILTER (WHERE charge_date >= ? AND charge_date < ? "
                f"AND {unalloc}), 0), coalesce(sum(EffectiveCost) FILTER (WHERE charge_date >= ? AND "
                f"charge_date < ?), 0), coalesce(sum(EffectiveCost) FILTER (WHERE charge_date >= ? AND "
                f"charge_date < ? AND {unalloc}), 0) FROM {source} "
                f"WHERE ChargeCategory IN ({cats}) AND {cond} AND charge_date >= ? AND charge_date < ?",
                [b0, b1, start, end, start, end, *params, min(b0, start), max(b1, end)]).fetchone()
            assert row is not None  # an aggregate without GROUP BY always returns its one row
            out.append(FixCosts(float(row[0]), float(row[1]), float(row[2])))
    return bool(found and found[0]), out
