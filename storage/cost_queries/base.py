"""What the named queries share: the account -> team rules as a temporary table, allocation as SQL over line
items and over the AWS sync's per-tag costs, and which of the two a window reads.

Allocation has one definition. Spend is EffectiveCost; a row is allocated *by tag* when its allocation key
has a non-empty value after normalisation (and an allowed one, where the taxonomy lists allowed values), else
*by rule* when its account is owned by a team (the ``_rules`` table, from the records) or the export carries
a cost-category value for the key (``x_CostCategories``), else it is unallocated.

With data from the AWS sync only, line items carry account x service x day and no Tags; the sync stores the
spend per tag value x account x day of each taxonomy key apart (``aws_tag_costs``: Cost Explorer's TAG
grouping, the untagged bucket as NULL, a key's rows summing to the day's spend). For a window whose line
items carry no Tags, the allocation queries read there instead: by tag where the allocation key has an
(allowed) value, by rule where the account has an owning team. Cost categories, charge frequencies, services
and resources do not exist in that data.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

from storage import rollup
from storage.costs import CostStore, catalog_memo, json_path, sql_string
from storage.warehouse.session import WarehouseSession

if TYPE_CHECKING:
    import duckdb

LINE_ITEMS = "line_items"
AWS_TAG_COSTS = "aws_tag_costs"
# Line items as allocation reads them (``containers._items``: a shared cluster's node cost handed to its pods),
# joined to the account rules (``create_rules``) as ``r``.
LINE_ITEMS_WITH_RULES = "_items line_items LEFT JOIN _rules r ON r.account_id = line_items.SubAccountId"
TAG_COSTS_WITH_RULES = f"{AWS_TAG_COSTS} t LEFT JOIN _rules r ON r.account_id = t.account_id"


def fetch_dicts(con: Any, sql: str, params: Sequence[Any] | None = None) -> list[dict[str, Any]]:
    """The rows of ``sql`` as dicts (column name -> value, NULL as None), in the order the query gives them:
    for results that are a few rows, which the rituals read without importing pandas."""
    cur = con.execute(sql, list(params or []))
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def is_warehouse(con: duckdb.DuckDBPyConnection) -> bool:
    """True for a warehouse (Athena) session or its mapping view's loopback: no local tables, every scan billed."""
    return isinstance(con, WarehouseSession) or hasattr(con, "view_columns")


def rollup_serves(con: duckdb.DuckDBPyConnection, store: CostStore, dims: Iterable[str] = ()) -> bool:
    """True when the daily rollup (``storage.rollup``) can answer a query over ``_items`` that reads only the
    columns ``dims`` besides those allocation reads: never on a warehouse, nor while the rollup was made for
    another taxonomy or containers config, nor when a containers label rule names a key that is not a
    taxonomy key (the rollup keeps only the taxonomy's tag columns). ``FINOPS_TUI_ROLLUP=off`` turns it off
    (benchmarks replay the line-item SQL; tests compare the two)."""
    if is_warehouse(con):
        return False
    if os.environ.get("FINOPS_TUI_ROLLUP", "").strip().lower() in ("off", "0", "no", "false"):
        return False
    keys = set(store.taxonomy.keys)
    if any(store.taxonomy.canonical_key(label) not in keys for label, _value in store.containers.labels):
        return False
    return set(dims) <= rollup.columns(store) and rollup.is_current(con, store)


def items_from(con: duckdb.DuckDBPyConnection, store: CostStore, dims: Iterable[str] = ()) -> str:
    """The FROM clause of an allocation query (``LINE_ITEMS_WITH_RULES``'s columns, ``line_items`` joined to
    ``_rules r``): the daily rollup where it serves (``rollup_serves``), else the line items. Over the rollup
    only sums of its cost columns mean what they mean over the line items."""
    if rollup_serves(con, store, dims):
        return f"{rollup.ROLLUP} line_items LEFT JOIN _rules r ON r.account_id = line_items.SubAccountId"
    return LINE_ITEMS_WITH_RULES


def sql_list(values: Iterable[str]) -> str:
    """Comma-separated SQL string literals (for ``IN (...)``); empty when there are none."""
    return ", ".join(sql_string(v) for v in values)


def has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    if isinstance(con, WarehouseSession):  # it knows its view and the local tables
        return con.has_table(name)
    def read() -> bool:
        row = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]).fetchone()
        return bool(row and row[0])

    return bool(catalog_memo(con, ("has_table", name), read))  # the store's own tables (the callers name them)


def table_columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    """The columns of ``table`` as the connection sees it (a warehouse session: its mapping view's)."""
    if isinstance(con, WarehouseSession):
        return con.columns(table)
    return list(catalog_memo(con, ("columns", table, "any schema"), lambda: [
        r[0] for r in con.execute("SELECT column_name FROM information_schema.columns WHERE table_name = ?",
                                  [table]).fetchall()]))


RULES_PER_INSERT = 500


def create_rules(con: duckdb.DuckDBPyConnection, account_teams: Mapping[str, str],
                 store: CostStore | None = None) -> None:
    """The account -> team rules as this connection's temporary table ``_rules`` (account_id, team), and
    the temporary view ``_items`` that ``LINE_ITEMS_WITH_RULES`` reads (``containers``: with ``store``, a
    shared cluster's node cost handed to its pods; without, the line items as they are).

    A temporary table rather than a registered pandas frame: DuckDB's pandas scan can race when two threads
    (two screens' workers) register frames at once."""
    from storage.cost_queries.containers import create_items

    create_items(con, store)
    con.execute("CREATE TEMP TABLE _rules (account_id VARCHAR, team VARCHAR)")
    # A few statements of many rows each: DuckDB runs an executemany as one statement per row (40 rules: 4.6 ms
    # against 1.1 ms, on each of a ritual's up to 13 connections).
    rules = list(account_teams.items())
    for i in range(0, len(rules), RULES_PER_INSERT):
        chunk = rules[i:i + RULES_PER_INSERT]
        con.execute("INSERT INTO _rules VALUES " + ", ".join(["(?, ?)"] * len(chunk)), [v for r in chunk for v in r])


def _allowed_only(store: CostStore, key: str, tag: str) -> str:
    allowed = store.taxonomy.allowed_values.get(store.taxonomy.canonical_key(key))
    if allowed:
        return f"CASE WHEN {tag} IN ({sql_list(allowed)}) THEN {tag} END"
    return tag


def key_sql(con: duckdb.DuckDBPyConnection, store: CostStore, key: str) -> str:
    """SQL over line_items for a taxonomy key's value as allocation counts it: non-empty after normalisation
    and, where the taxonomy lists allowed values for the key, one of them (else NULL)."""
    return _allowed_only(store, key, store.tag_expr(con, key))


def allocation_sql(con: duckdb.DuckDBPyConnection, store: CostStore) -> tuple[str, str]:
    """SQL expressions (over ``LINE_ITEMS_WITH_RULES``) for the row's allocation value and how it was
    allocated ('tag', 'rule' or NULL).

    A pod's share of a shared node (``containers``) is allocated as any row, its own labels being its tags,
    with the containers config's label and namespace rules before the account's; a node's idle share kept
    by the platform team (``idle = "platform"``) is that team's, by rule."""
    from storage.cost_queries.containers import pod_rule_sql

    key = store.taxonomy.allocation_key
    tag = key_sql(con, store, key)
    cost_category = f"NULLIF(TRIM(json_extract_string(x_CostCategories, {json_path(key)})), '')"
    pod_rule = pod_rule_sql(con, store)
    rule = f"coalesce({pod_rule + ', ' if pod_rule else ''}r.team, {cost_category})"
    value = f"coalesce({tag}, {rule})"
    how = f"CASE WHEN {tag} IS NOT NULL THEN 'tag' WHEN {rule} IS NOT NULL THEN 'rule' END"
    if pod_rule and store.containers.idle == "platform":
        idle = "_container = 'idle'"
        value = f"CASE WHEN {idle} THEN {sql_string(store.containers.platform_team)} ELSE {value} END"
        how = f"CASE WHEN {idle} THEN 'rule' ELSE {how} END"
    return value, how


def tag_value_sql(store: CostStore, key: str, column: str = "t.tag_value") -> str:
    """SQL over ``aws_tag_costs`` (as ``t``) for a key's value as allocation counts it (see ``key_sql``)."""
    return _allowed_only(store, key, f"NULLIF(TRIM({column}), '')")


def tag_costs_allocation_sql(store: CostStore) -> tuple[str, str]:
    """As ``allocation_sql``, over the allocation key's rows of ``TAG_COSTS_WITH_RULES``."""
    tag = tag_value_sql(store, store.taxonomy.allocation_key)
    value = f"coalesce({tag}, r.team)"
    how = f"CASE WHEN {tag} IS NOT NULL THEN 'tag' WHEN r.team IS NOT NULL THEN 'rule' END"
    return value, how


def reads_tag_costs(con: duckdb.DuckDBPyConnection, store: CostStore, start: date, end: date) -> bool:
    """True when allocation for ``start <= day < end`` comes from the AWS sync's per-tag costs: no line item
    of the window carries Tags (the sync's own line items have none; imported CUR and FOCUS rows do) and the
    sync stored tag costs of the allocation key for the window."""
    if not has_table(con, AWS_TAG_COSTS):
        return False
    # AllocatedTags count as tags (storage.tag_sets); a line_items view from before FOCUS 1.3 has none.
    has_allocated = con.execute("SELECT count(*) FROM information_schema.columns WHERE table_name = 'line_items' "
                                "AND column_name = 'AllocatedTags'").fetchone()
    either = "Tags IS NOT NULL OR AllocatedTags IS NOT NULL" if has_allocated and has_allocated[0] else "Tags IS NOT NULL"
    source = "line_items"
    if rollup_serves(con, store):
        source, either = rollup.ROLLUP, "_tagged"
    tagged = con.execute(f"SELECT count(*) FROM {source} WHERE charge_date >= ? AND charge_date < ? "
                         f"AND ({either})", [start, end]).fetchone()
    if tagged and tagged[0]:
        return False
    found = con.execute(f"SELECT count(*) FROM {AWS_TAG_COSTS} WHERE tag_key = ? AND day >= ? AND day < ?",
                        [store.taxonomy.allocation_key, start, end]).fetchone()
    return bool(found and found[0])
