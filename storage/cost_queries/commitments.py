"""Named queries of the commitment review: usage against commitments from line items (FOCUS semantics), the
stored commitment terms, and AWS's own figures when the sync stored them; and the one writer of demo terms.

Eligible usage is Usage rows, other than unused commitment, of the services named eligible plus any service
the data shows covered (covered rows: PricingCategory 'Committed' with CommitmentDiscountStatus 'Used'), on
the on-demand equivalent (ListCost; a row without ListCost counts at its EffectiveCost).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

from storage.cost_queries.base import has_table, sql_list
from storage.costs import CostStore

if TYPE_CHECKING:
    import pandas as pd

USAGE_COLUMNS = ["day", "service", "account", "account_name", "commitment_id", "program", "eligible", "covered",
                 "eligible_effective", "used", "unused", "no_list_rows"]
# The program of a commitment: Savings Plans by type or id, anything else a reservation.
PROGRAM_SQL = ("CASE WHEN CommitmentDiscountId IS NULL THEN NULL WHEN lower(coalesce(CommitmentDiscountType, '')) "
               "LIKE '%savings%' OR lower(CommitmentDiscountId) LIKE '%savingsplan%' THEN 'savings_plans' "
               "ELSE 'reservations' END")


def commitment_usage(store: CostStore, start: date, end: date, eligible_services: Iterable[str]) -> pd.DataFrame:
    """Usage per day, service, account and commitment for ``start <= day < end`` (columns ``USAGE_COLUMNS``,
    day a date): eligible and covered on-demand equivalent, the eligible usage's EffectiveCost, used and
    unused commitment (EffectiveCost), and how many eligible rows have no ListCost."""
    import pandas as pd

    names = sql_list(eligible_services) or "NULL"
    sql = f"""
    WITH base AS (
        SELECT charge_date AS day, coalesce(ServiceName, '') AS service, coalesce(SubAccountId, '') AS account,
               SubAccountName, CommitmentDiscountId AS commitment_id, {PROGRAM_SQL} AS program,
               CommitmentDiscountStatus AS status, PricingCategory AS pricing,
               coalesce(ListCost, EffectiveCost) AS od, EffectiveCost AS eff, ListCost IS NULL AS no_list
        FROM line_items
        WHERE charge_date >= ? AND charge_date < ? AND ChargeCategory = 'Usage'),
    proven AS (SELECT DISTINCT service FROM base WHERE pricing = 'Committed' AND status = 'Used'),
    marked AS (
        SELECT *, (service IN ({names}) OR service IN (SELECT service FROM proven))
                  AND coalesce(status, '') <> 'Unused' AS elig FROM base)
    SELECT day, service, account, max(SubAccountName) AS account_name, commitment_id, program,
           coalesce(sum(od) FILTER (WHERE elig), 0) AS eligible,
           coalesce(sum(od) FILTER (WHERE elig AND pricing = 'Committed' AND status = 'Used'), 0) AS covered,
           coalesce(sum(eff) FILTER (WHERE elig), 0) AS eligible_effective,
           coalesce(sum(eff) FILTER (WHERE status = 'Used'), 0) AS used,
           coalesce(sum(eff) FILTER (WHERE status = 'Unused'), 0) AS unused,
           count(*) FILTER (WHERE elig AND no_list) AS no_list_rows
    FROM marked GROUP BY day, service, account, commitment_id, program ORDER BY day"""
    with store.reader() as con:
        frame = pd.DataFrame() if con is None else con.execute(sql, [start, end]).df()
    if frame.empty:
        return pd.DataFrame(columns=USAGE_COLUMNS)
    frame["day"] = pd.to_datetime(frame["day"]).dt.date
    return frame[USAGE_COLUMNS]


def commitment_inventory(store: CostStore) -> pd.DataFrame | None:
    """The stored commitment terms (``commitment_inventory``, every column), soonest end first; None when the
    store holds none."""
    with store.reader() as con:
        if con is None or not has_table(con, "commitment_inventory"):
            return None
        return con.execute("SELECT * FROM commitment_inventory ORDER BY end_date NULLS LAST, commitment_id").df()


def aws_commitment_usage(store: CostStore, start: date, end: date) -> pd.DataFrame | None:
    """AWS's coverage and utilisation per program and measure over ``start <= day < end`` as summed parts
    (columns program, measure, num, den, unit); None when the AWS sync stored none."""
    with store.reader() as con:
        if con is None or not has_table(con, "aws_commitment_usage"):
            return None
        return con.execute("SELECT program, measure, sum(numerator) AS num, sum(denominator) AS den, "
                           "any_value(unit) AS unit FROM aws_commitment_usage WHERE day >= ? AND day < ? "
                           "GROUP BY 1, 2 ORDER BY 1, 2", [start, end]).df()


def aws_recommendations(store: CostStore) -> pd.DataFrame | None:
    """AWS's Savings Plans purchase recommendations as the sync stored them; None when it stored none."""
    with store.reader() as con:
        if con is None or not has_table(con, "aws_recommendations"):
            return None
        return con.execute("SELECT term_years, payment_option, savings_plans_type, lookback_days, hourly_commitment, "
                           "monthly_savings, savings_pct, current_on_demand_spend, currency, generated_at "
                           "FROM aws_recommendations ORDER BY term_years, payment_option").df()


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
