"""Allocation from the AWS sync's per-tag costs, for data from the AWS APIs only.

The sync's line items are account x service x day and carry no Tags; it stores the spend per tag value x
account x day of each taxonomy key apart (``aws_tag_costs``: Cost Explorer's TAG grouping, the untagged
bucket as NULL, a key's rows summing to the day's spend). For a window whose line items carry no Tags,
allocation (``rituals.allocation``), the sweep (``rituals.tag_sweep``) and the showback
(``rituals.showback``) read these instead: by tag where the allocation key has an (allowed) value, by rule
where the account has an owning team. Cost categories, charge frequencies, services and resources do not
exist in this data.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from storage.costs import CostStore, sql_string

if TYPE_CHECKING:
    import duckdb
    import pandas as pd

AWS_TAG_COSTS = "aws_tag_costs"


def has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return bool(con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = ?",
                            [name]).fetchone()[0])


def tag_costs_fallback(con: duckdb.DuckDBPyConnection, store: CostStore, start: date, end: date) -> bool:
    """True when allocation for ``start <= day < end`` comes from the AWS sync's per-tag costs: no line item
    of the window carries Tags (the sync's own line items have none; imported CUR and FOCUS rows do) and the
    sync stored tag costs of the allocation key for the window."""
    if not has_table(con, AWS_TAG_COSTS):
        return False
    tagged = con.execute("SELECT count(*) FROM line_items WHERE charge_date >= ? AND charge_date < ? "
                         "AND Tags IS NOT NULL", [start, end]).fetchone()[0]
    if tagged:
        return False
    return bool(con.execute(f"SELECT count(*) FROM {AWS_TAG_COSTS} WHERE tag_key = ? AND day >= ? AND day < ?",
                            [store.taxonomy.allocation_key, start, end]).fetchone()[0])


def tag_value_sql(store: CostStore, key: str, column: str = "t.tag_value") -> str:
    """SQL over ``aws_tag_costs`` (as ``t``) for a key's value as allocation counts it (see ``key_sql``)."""
    tag = f"NULLIF(TRIM({column}), '')"
    allowed = store.taxonomy.allowed_values.get(store.taxonomy.canonical_key(key))
    if allowed:
        values = ", ".join(sql_string(v) for v in allowed)
        tag = f"CASE WHEN {tag} IN ({values}) THEN {tag} END"
    return tag


def tag_costs_allocation_sql(store: CostStore) -> tuple[str, str]:
    """As ``allocation_sql``, over the allocation key's rows of ``aws_tag_costs`` (as ``t``) joined to the
    ``_rules`` account table (as ``r``)."""
    tag = tag_value_sql(store, store.taxonomy.allocation_key)
    value = f"coalesce({tag}, r.team)"
    how = f"CASE WHEN {tag} IS NOT NULL THEN 'tag' WHEN r.team IS NOT NULL THEN 'rule' END"
    return value, how


def tag_costs_coverage(con: duckdb.DuckDBPyConnection, store: CostStore, start: date,
                       end: date) -> tuple[float, float, float]:
    """(spend, allocated by tag, allocated by rule) for the window; ``_rules`` must be registered."""
    _value, how = tag_costs_allocation_sql(store)
    row = con.execute(
        f"SELECT coalesce(sum(amortized_cost), 0), coalesce(sum(amortized_cost) FILTER (WHERE {how} = 'tag'), 0), "
        f"coalesce(sum(amortized_cost) FILTER (WHERE {how} = 'rule'), 0) "
        f"FROM {AWS_TAG_COSTS} t LEFT JOIN _rules r ON r.account_id = t.account_id "
        "WHERE t.tag_key = ? AND t.day >= ? AND t.day < ?", [store.taxonomy.allocation_key, start, end]).fetchone()
    return float(row[0]), float(row[1]), float(row[2])


def tag_cost_sweep(con: duckdb.DuckDBPyConnection, store: CostStore, start: date, end: date, key_prefix: str,
                   trend_weeks: int) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame,
                                          dict[str, tuple[float, float | None]]]:
    """The sweep's rows, trend and values frames (as ``rituals.tag_sweep.load_frames`` reads them from line
    items), and per key (spend carrying it, spend) from its own rows (spend None: no rows for the key)."""
    tax = store.taxonomy
    value, how = tag_costs_allocation_sql(store)
    names = ("(SELECT account_id AS id, any_value(name) AS name FROM aws_accounts GROUP BY 1)"
             if has_table(con, "aws_accounts") else "(SELECT NULL AS id, NULL AS name)")
    flags = ", ".join(f'{"(" + tag_value_sql(store, k) + " IS NOT NULL)" if k == tax.allocation_key else "false"} '
                      f'AS "{key_prefix}{k}"' for k in tax.keys)
    joined = f"{AWS_TAG_COSTS} t LEFT JOIN _rules r ON r.account_id = t.account_id"
    rows = con.execute(
        f"SELECT t.account_id, any_value(a.name) AS account_name, NULL AS service, NULL AS resource_id, "
        f"NULL AS resource_name, {how} AS how, {value} AS team, false AS unused, sum(t.amortized_cost) AS cost, "
        f"{flags} FROM {joined} LEFT JOIN {names} a ON a.id = t.account_id "
        "WHERE t.tag_key = ? AND t.day >= ? AND t.day < ? GROUP BY ALL", [tax.allocation_key, start, end]).df()
    trend = con.execute(
        f"SELECT (date_diff('day', t.day, CAST(? AS DATE)) - 1) // 7 AS bucket, sum(t.amortized_cost) AS total, "
        f"coalesce(sum(t.amortized_cost) FILTER (WHERE {how} = 'tag'), 0) AS by_tag, "
        f"coalesce(sum(t.amortized_cost) FILTER (WHERE {how} = 'rule'), 0) AS by_rule FROM {joined} "
        "WHERE t.tag_key = ? AND t.day >= ? AND t.day < ? GROUP BY 1",
        [end, tax.allocation_key, end - timedelta(days=7 * trend_weeks), end]).df()
    values = con.execute(
        f"SELECT t.tag_key AS key, t.tag_value AS value, sum(t.amortized_cost) AS cost FROM {AWS_TAG_COSTS} t "
        "WHERE t.day >= ? AND t.day < ? AND NULLIF(TRIM(t.tag_value), '') IS NOT NULL GROUP BY 1, 2",
        [start, end]).df()
    shares: dict[str, tuple[float, float | None]] = {}
    for key in tax.keys:
        total, tagged = con.execute(
            f"SELECT sum(t.amortized_cost), sum(t.amortized_cost) FILTER (WHERE {tag_value_sql(store, key)} "
            f"IS NOT NULL) FROM {AWS_TAG_COSTS} t WHERE t.tag_key = ? AND t.day >= ? AND t.day < ?",
            [key, start, end]).fetchone()
        shares[key] = (float(tagged or 0.0), None if total is None else float(total))
    return rows, trend, values, shares


def tag_cost_lines(con: Any, store: CostStore, shared_accounts: Iterable[str], start: date, end: date,
                    period: str, recurring_only: bool) -> pd.DataFrame:
    """``showback_lines`` from the AWS sync's per-tag costs (which know no charge frequency: all usage)."""
    value, _how = tag_costs_allocation_sql(store)
    accounts = ", ".join(sql_string(a) for a in shared_accounts)
    shared = f"WHEN t.account_id IN ({accounts}) THEN 'shared_account' " if accounts else ""
    reason = f"CASE {shared}WHEN ({value}) IS NULL THEN 'unallocated' END"
    frame = con.execute(
        f"SELECT CAST({period} AS DATE) AS period, CASE WHEN r_ IS NULL THEN v_ END AS team, r_ AS reason, "
        f"sum(amortized_cost) AS cost, sum(unblended_cost) AS billed FROM ("
        f"SELECT t.day AS charge_date, t.amortized_cost, t.unblended_cost, {value} AS v_, {reason} AS r_ "
        f"FROM {AWS_TAG_COSTS} t LEFT JOIN _rules r ON r.account_id = t.account_id "
        f"WHERE t.tag_key = ? AND t.day >= ? AND t.day < ?{' AND false' if recurring_only else ''}) "
        "GROUP BY 1, 2, 3 ORDER BY 1, 2, 3", [store.taxonomy.allocation_key, start, end]).df()
    frame["cost"] = frame["cost"].fillna(0.0).astype(float)
    frame["billed"] = frame["billed"].fillna(0.0).astype(float)
    return frame


def tag_cost_team_months(con: duckdb.DuckDBPyConnection, store: CostStore, first: date,
                         end: date) -> pd.DataFrame:
    """Spend per month and team (the allocation value, None when unallocated) for ``first <= day < end``;
    ``_rules`` must be registered."""
    value, _how = tag_costs_allocation_sql(store)
    return con.execute(
        f"SELECT CAST(date_trunc('month', t.day) AS DATE) AS month, {value} AS team, "
        f"sum(t.amortized_cost) AS cost FROM {AWS_TAG_COSTS} t LEFT JOIN _rules r ON r.account_id = t.account_id "
        "WHERE t.tag_key = ? AND t.day >= ? AND t.day < ? GROUP BY 1, 2",
        [store.taxonomy.allocation_key, first, end]).df()
