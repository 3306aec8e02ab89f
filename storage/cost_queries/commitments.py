"""Named queries of the commitment review: usage against commitments from line items (FOCUS semantics), the
stored commitment terms, and AWS's own figures when the sync stored them; and the one writer of demo terms.

A row is a **candidate** for a commitment when it is a Usage row, not unused commitment, and its usage type
(``x_UsageType``, else FOCUS ``SkuMeter``) is one a commitment can cover: ``usage_rules`` gives, per
ServiceName spelling, the parts of a usage type that qualify (a row without a usage type, or a service without
rules, qualifies by name). **Eligible** usage is the candidate usage of the services named eligible plus any
service the data shows committed (a covered row: PricingCategory 'Committed' with CommitmentDiscountStatus
'Used', or an unused-commitment row), and every covered row. All on the on-demand equivalent (ListCost; an
uncovered row without ListCost counts at its EffectiveCost). A covered row whose ListCost is 0 or missing has
no on-demand equivalent: it is counted apart (``committed_no_list``) and left out of coverage.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from storage import rollup
from storage.cost_queries.base import fetch_dicts, has_table, is_warehouse, rollup_serves, sql_list
from storage.costs import CostStore, sql_string

if TYPE_CHECKING:
    import pandas as pd

USAGE_COLUMNS = ["day", "service", "account", "account_name", "commitment_id", "commitment_name",
                 "commitment_type", "program", "eligible", "covered", "candidate", "eligible_effective", "used",
                 "unused", "no_list_rows", "committed_no_list", "committed_no_list_effective"]
# The program of a commitment: Savings Plans by type or id, anything else a reservation.
PROGRAM_SQL = ("CASE WHEN CommitmentDiscountId IS NULL THEN NULL WHEN lower(coalesce(CommitmentDiscountType, '')) "
               "LIKE '%savings%' OR lower(CommitmentDiscountId) LIKE '%savingsplan%' THEN 'savings_plans' "
               "ELSE 'reservations' END")


def _usage_ok_sql(usage_rules: Mapping[str, Sequence[str]], usage_type: str, service: str) -> str:
    """SQL true when a row's usage type is one a commitment can cover (``usage_rules``: spelling -> parts;
    ``service`` the SQL of its ServiceName, '' for none)."""
    by_parts: dict[tuple[str, ...], list[str]] = {}
    for name, parts in usage_rules.items():
        if parts:
            by_parts.setdefault(tuple(parts), []).append(name)
    if not by_parts:
        return "true"
    whens = " ".join(
        f"WHEN {service} IN ({sql_list(names)}) THEN "
        + "(" + " OR ".join(f"strpos({usage_type}, {sql_string(p)}) > 0" for p in parts) + ")"
        for parts, names in by_parts.items())
    return f"({usage_type} IS NULL OR CASE {whens} ELSE true END)"


def commitment_usage(store: CostStore, start: date, end: date, eligible_services: Iterable[str],
                     usage_rules: Mapping[str, Sequence[str]] | None = None) -> pd.DataFrame:
    """``commitment_usage_rows`` as a frame (columns ``USAGE_COLUMNS``)."""
    import pandas as pd

    return pd.DataFrame(commitment_usage_rows(store, start, end, eligible_services, usage_rules),
                        columns=USAGE_COLUMNS)


def commitment_usage_rows(store: CostStore, start: date, end: date, eligible_services: Iterable[str],
                          usage_rules: Mapping[str, Sequence[str]] | None = None) -> list[dict[str, Any]]:
    """Usage per day, service, account and commitment for ``start <= day < end``, by day (one dict per row,
    keys ``USAGE_COLUMNS``, day a date): eligible and covered on-demand equivalent, candidate usage (of any
    service a commitment can cover), the eligible usage's EffectiveCost, used and unused commitment
    (EffectiveCost), how many eligible rows have no ListCost, and the covered rows left out of coverage for
    want of one (count, EffectiveCost). Plain rows: the commitment review's figures are a few sums over tens
    of thousands of them, which the commands compute without importing pandas."""
    names = sql_list(eligible_services) or "NULL"
    with store.reader() as con:
        if con is None:
            return []
        usage_ok = _usage_ok_sql(usage_rules or {}, "usage_type", "service")
        # The services a commitment covered in the window. DuckDB materialises a CTE read twice (every row of
        # the window held at once: twice the memory on 5M rows), so locally they are read on their own, from
        # the daily rollup where it serves; a warehouse inlines the CTE, and a second scan would be billed.
        served = rollup_serves(con, store)
        params = [start, end]
        if is_warehouse(con):
            proven = "SELECT DISTINCT service FROM base WHERE is_covered OR is_unused"
        else:
            proven = (f"SELECT DISTINCT coalesce(ServiceName, '') AS service FROM "
                      f"{rollup.ROLLUP if served else 'line_items'} "
                      "WHERE charge_date >= ? AND charge_date < ? AND ChargeCategory = 'Usage' AND ((PricingCategory "
                      "= 'Committed' AND CommitmentDiscountStatus = 'Used') OR "
                      "coalesce(CommitmentDiscountStatus, '') = 'Unused')")
            params += [start, end]
        # The line items summed at the review's grain (the resources go): the rollup's rows where it serves,
        # else the same grouping over the window; the usage-type rules and the program are then evaluated per
        # group, not per row (over 90 days of 5M rows: 0.13 s from the rollup, 0.19 s grouped, 0.46 s by row).
        window = "charge_date >= ? AND charge_date < ?"
        grouped = (f"SELECT * FROM {rollup.COMMITMENTS} WHERE {window}" if served
                   else rollup.commitment_select(con, window))
        sql = f"""
        WITH grouped AS ({grouped}),
        base AS (
            SELECT charge_date AS day, service, account, SubAccountName, CommitmentDiscountId AS commitment_id,
                   CommitmentDiscountName,
                   CommitmentDiscountType, {PROGRAM_SQL} AS program,
                   CommitmentDiscountStatus AS status, PricingCategory = 'Committed' AND CommitmentDiscountStatus
                   = 'Used' AS is_covered, coalesce(CommitmentDiscountStatus, '') = 'Unused' AS is_unused,
                   od, eff, no_list, zero_list, {usage_ok} AS usage_ok, n
            FROM grouped),
        proven AS ({proven}),
        marked AS (
            SELECT *, is_covered AND zero_list AS left_out,
                   NOT is_unused AND NOT (is_covered AND zero_list)
                   AND (is_covered OR (usage_ok AND (service IN ({names}) OR service IN (SELECT service FROM proven))))
                   AS elig,
                   NOT is_unused AND NOT (is_covered AND zero_list) AND (is_covered OR usage_ok) AS cand
            FROM base)
        SELECT day, service, account, max(SubAccountName) AS account_name, commitment_id,
               max(CommitmentDiscountName) AS commitment_name, max(CommitmentDiscountType) AS commitment_type,
               program,
               coalesce(sum(od) FILTER (WHERE elig), 0) AS eligible,
               coalesce(sum(od) FILTER (WHERE elig AND is_covered), 0) AS covered,
               coalesce(sum(od) FILTER (WHERE cand), 0) AS candidate,
               coalesce(sum(eff) FILTER (WHERE elig), 0) AS eligible_effective,
               coalesce(sum(eff) FILTER (WHERE status = 'Used'), 0) AS used,
               coalesce(sum(eff) FILTER (WHERE is_unused), 0) AS unused,
               CAST(coalesce(sum(n) FILTER (WHERE elig AND no_list), 0) AS BIGINT) AS no_list_rows,
               CAST(coalesce(sum(n) FILTER (WHERE left_out), 0) AS BIGINT) AS committed_no_list,
               coalesce(sum(eff) FILTER (WHERE left_out), 0) AS committed_no_list_effective
        FROM marked GROUP BY day, service, account, commitment_id, program ORDER BY day"""
        cur = con.execute(sql, params)
        names_of = [d[0] for d in cur.description]
        fetched = cur.fetchall()
    rows = []
    for values in fetched:
        row = dict(zip(names_of, values, strict=True))
        day = row["day"]
        row["day"] = day.date() if isinstance(day, datetime) else day
        rows.append({c: row[c] for c in USAGE_COLUMNS})
    return rows


def commitment_inventory(store: CostStore) -> list[dict[str, Any]] | None:
    """The stored commitment terms (``commitment_inventory``, every column), soonest end first; None when the
    store holds none."""
    with store.reader() as con:
        if con is None or not has_table(con, "commitment_inventory"):
            return None
        return fetch_dicts(con, "SELECT * FROM commitment_inventory ORDER BY end_date NULLS LAST, commitment_id")


def aws_commitment_usage(store: CostStore, start: date, end: date) -> list[dict[str, Any]] | None:
    """AWS's coverage and utilisation per program and measure over ``start <= day < end`` as summed parts
    (columns program, measure, num, den, unit); None when the AWS sync stored none."""
    with store.reader() as con:
        if con is None or not has_table(con, "aws_commitment_usage"):
            return None
        return fetch_dicts(con, "SELECT program, measure, sum(numerator) AS num, sum(denominator) AS den, "
                                "any_value(unit) AS unit FROM aws_commitment_usage WHERE day >= ? AND day < ? "
                                "GROUP BY 1, 2 ORDER BY 1, 2", [start, end])


def aws_recommendations(store: CostStore) -> list[dict[str, Any]] | None:
    """AWS's Savings Plans purchase recommendations as the sync stored them; None when it stored none."""
    with store.reader() as con:
        if con is None or not has_table(con, "aws_recommendations"):
            return None
        return fetch_dicts(con, "SELECT term_years, payment_option, savings_plans_type, lookback_days, "
                                "hourly_commitment, monthly_savings, savings_pct, current_on_demand_spend, currency, "
                                "generated_at FROM aws_recommendations ORDER BY term_years, payment_option")


INVENTORY_COLUMNS = ("commitment_id", "type", "description", "hourly_commitment", "start_date", "end_date",
                     "term_years", "payment_option", "account_id")


def replace_commitment_inventory(store: CostStore, source: str, terms: Sequence[Sequence[Any]]) -> None:
    """Replace the commitment terms of ``source`` with ``terms`` (values in ``INVENTORY_COLUMNS`` order), through
    one writer connection."""
    with store.writer() as con:
        con.execute("DELETE FROM commitment_inventory WHERE source = ?", [source])
        for term in terms:
            con.execute("INSERT OR REPLACE INTO commitment_inventory VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        [*term, source])
