"""Named queries of spend: showback lines, spend per month x team x service, and the AWS sync's forecast and
budgets.

Spend is EffectiveCost of every charge category; the team is the allocation value (``storage.cost_queries.base``:
the allocation tag, else the account's owning team or a cost category), read from the AWS sync's per-tag
costs when no line item of the window carries Tags.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import TYPE_CHECKING, Any, NamedTuple

from storage import rollup
from storage.cost_queries.base import (
    TAG_COSTS_WITH_RULES,
    allocation_sql,
    create_rules,
    has_table,
    items_from,
    reads_tag_costs,
    rollup_serves,
    sql_list,
    tag_costs_allocation_sql,
)
from storage.costs import CostStore

if TYPE_CHECKING:
    import pandas as pd

SHOWBACK_COLUMNS = ["period", "team", "reason", "cost", "billed"]


class ShowbackLine(NamedTuple):
    """One row of ``showback_costs``: a period's spend (EffectiveCost) and billed cost for one team, or for
    one shared reason (team None)."""

    period: date
    team: str | None
    reason: str | None
    cost: float
    billed: float
TEAM_MONTH_COLUMNS = ["month", "team", "service", "cost"]


def _reason_sql(value: str, how: str, shared_accounts: Iterable[str], untaggable: Iterable[str]) -> str:
    """SQL naming why a line item is shared (NULL: the row is its allocation value's direct spend)."""
    accounts = sql_list(shared_accounts)
    parts = [f"WHEN SubAccountId IN ({accounts}) THEN 'shared_account'"] if accounts else []
    parts += ["WHEN ServiceName ILIKE '%support%' THEN 'support'",
              f"WHEN ChargeCategory IN ({sql_list(untaggable)}) AND ({how}) IS DISTINCT FROM 'tag' THEN 'untaggable'",
              f"WHEN ({value}) IS NULL THEN 'unallocated'"]
    return "CASE " + " ".join(parts) + " END"


def showback_costs(store: CostStore, account_teams: Mapping[str, str], shared_accounts: Iterable[str],
                   start: date, end: date, *, grain: str = "month", untaggable_categories: Iterable[str] = (),
                   usage_based_only: bool = False, recurring_only: bool = False) -> list[ShowbackLine]:
    """EffectiveCost and BilledCost per period (``grain`` month or day), team and shared reason for
    ``start <= day < end``: columns period, team (None when shared), reason (None when direct: shared_account,
    support, untaggable or unallocated, in that precedence), cost, billed.

    ``untaggable_categories``: charge categories shared unless their allocation tag says otherwise.
    ``usage_based_only`` / ``recurring_only`` keep only daily usage (no recurring or one-time charges) or only
    the recurring charges. From the AWS sync's tag costs (no charge frequency, no services or categories)
    only shared accounts and unallocated spend are shared, and ``recurring_only`` finds nothing.

    Rows come ordered by period, team and reason, as plain tuples: the showback command imports no pandas."""
    if grain not in ("month", "day"):
        raise ValueError(f"grain must be month or day, got {grain!r}")
    shared_accounts = list(shared_accounts)
    with store.reader() as con:
        if con is None:
            return []
        create_rules(con, account_teams, store)
        period = "date_trunc('month', charge_date)" if grain == "month" else "charge_date"
        if reads_tag_costs(con, store, start, end):
            value, _how = tag_costs_allocation_sql(store)
            accounts = sql_list(shared_accounts)
            shared = f"WHEN t.account_id IN ({accounts}) THEN 'shared_account' " if accounts else ""
            reason = f"CASE {shared}WHEN ({value}) IS NULL THEN 'unallocated' END"
            rows = con.execute(
                f"SELECT CAST({period} AS DATE) AS period, CASE WHEN r_ IS NULL THEN v_ END AS team, r_ AS reason, "
                f"sum(amortized_cost) AS cost, sum(unblended_cost) AS billed FROM ("
                f"SELECT t.day AS charge_date, t.amortized_cost, t.unblended_cost, {value} AS v_, {reason} AS r_ "
                f"FROM {TAG_COSTS_WITH_RULES} "
                f"WHERE t.tag_key = ? AND t.day >= ? AND t.day < ?{' AND false' if recurring_only else ''}) "
                "GROUP BY 1, 2, 3 ORDER BY 1, 2, 3", [store.taxonomy.allocation_key, start, end]).fetchall()
        else:
            value, how = allocation_sql(con, store)
            reason = _reason_sql(value, how, shared_accounts, untaggable_categories)
            where = ""
            freq = "coalesce(ChargeFrequency, 'Usage-Based')"
            if usage_based_only:
                where = f" AND {freq} NOT IN ('Recurring', 'One-Time')"
            elif recurring_only:
                where = f" AND {freq} = 'Recurring'"
            rows = con.execute(
                f"SELECT CAST({period} AS DATE) AS period, CASE WHEN r_ IS NULL THEN v_ END AS team, r_ AS reason, "
                f"sum(EffectiveCost) AS cost, sum(BilledCost) AS billed FROM ("
                f"SELECT charge_date, EffectiveCost, BilledCost, {value} AS v_, {reason} AS r_ "
                f"FROM {items_from(con, store)} "
                f"WHERE charge_date >= ? AND charge_date < ?{where}) GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
                [start, end]).fetchall()
    return [ShowbackLine(_day(p), t, r, float(c or 0.0), float(b or 0.0)) for p, t, r, c, b in rows]


def _day(value: Any) -> date:
    """A period as a date (a warehouse's answer may hand over a timestamp or text)."""
    if isinstance(value, str):
        return date.fromisoformat(value[:10])
    return value.date() if hasattr(value, "date") else value


def billed_by_billing_period(store: CostStore, first: date, end: date) -> tuple[dict[date, float], str]:
    """BilledCost per billing period (its first day) for the periods starting in ``first <= day < end``, so
    that each month's figure is its invoice's (a charge whose charge period spans months counts once, in the
    period that bills it), and the basis used: ``billing_period``, or ``charge_period`` for spend from the AWS
    sync's tag costs, which know no billing period (the month of the charge day)."""
    with store.reader() as con:
        if con is None:
            return {}, "billing_period"
        if reads_tag_costs(con, store, first, end):
            rows = con.execute("SELECT CAST(date_trunc('month', day) AS DATE), sum(unblended_cost) FROM "
                               "aws_tag_costs WHERE tag_key = ? AND day >= ? AND day < ? GROUP BY 1",
                               [store.taxonomy.allocation_key, first, end]).fetchall()
            return {r[0]: float(r[1] or 0.0) for r in rows}, "charge_period"
        source = rollup.ROLLUP if rollup_serves(con, store) else "line_items"
        rows = con.execute("SELECT CAST(date_trunc('month', BillingPeriodStart) AS DATE), sum(BilledCost) "
                           f"FROM {source} WHERE BillingPeriodStart >= ? AND BillingPeriodStart < ? GROUP BY 1",
                           [first, end]).fetchall()
    return {r[0]: float(r[1] or 0.0) for r in rows}, "billing_period"


def team_service_months(store: CostStore, account_teams: Mapping[str, str], first: date,
                        end: date) -> pd.DataFrame:
    """EffectiveCost (every charge category) per month, team and service for ``first <= day < end``:
    columns month (a date, the month's first day), team (the allocation value, None when unallocated),
    service ('(no service)' when the line item names none; None for spend from the AWS sync's tag costs,
    which know no services), cost."""
    import pandas as pd

    with store.reader() as con:
        if con is None:
            return pd.DataFrame(columns=TEAM_MONTH_COLUMNS)
        create_rules(con, account_teams, store)
        if reads_tag_costs(con, store, first, end):
            value, _how = tag_costs_allocation_sql(store)
            frame = con.execute(
                f"SELECT CAST(date_trunc('month', t.day) AS DATE) AS month, {value} AS team, "
                f"CAST(NULL AS VARCHAR) AS service, sum(t.amortized_cost) AS cost FROM {TAG_COSTS_WITH_RULES} "
                "WHERE t.tag_key = ? AND t.day >= ? AND t.day < ? GROUP BY 1, 2",
                [store.taxonomy.allocation_key, first, end]).df()
        else:
            value, _how = allocation_sql(con, store)
            frame = con.execute(
                f"SELECT CAST(date_trunc('month', charge_date) AS DATE) AS month, {value} AS team, "
                f"coalesce(NULLIF(TRIM(ServiceName), ''), '(no service)') AS service, sum(EffectiveCost) AS cost "
                f"FROM {items_from(con, store)} WHERE charge_date >= ? AND charge_date < ? GROUP BY 1, 2, 3",
                [first, end]).df()
    frame["month"] = pd.to_datetime(frame["month"]).dt.date
    return frame[TEAM_MONTH_COLUMNS]


def aws_forecast(store: CostStore, month: date) -> dict[str, Any] | None:
    """Cost Explorer's latest stored forecast of ``month`` (the AWS sync's ``aws_forecast``): mean,
    lower_bound, upper_bound, interval_pct, generated_on, currency; None when none is stored."""
    with store.reader() as con:
        if con is None or not has_table(con, "aws_forecast"):
            return None
        row = con.execute("SELECT mean, lower_bound, upper_bound, interval_pct, generated_on, currency "
                          "FROM aws_forecast WHERE month = ? ORDER BY generated_on DESC NULLS LAST LIMIT 1",
                          [month]).fetchone()
    if row is None:
        return None
    names = ("mean", "lower_bound", "upper_bound", "interval_pct", "generated_on", "currency")
    return dict(zip(names, row, strict=True))


def aws_budgets(store: CostStore) -> pd.DataFrame | None:
    """The budgets the AWS sync stored (``aws_budgets``, every column); None when it stored none."""
    with store.reader() as con:
        if con is None or not has_table(con, "aws_budgets"):
            return None
        return con.execute("SELECT * FROM aws_budgets").df()
