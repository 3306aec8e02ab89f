"""The cost-store tables the AWS sync writes beside ``line_items``, and how each is swapped in.

Each data set is fetched completely into memory (they are small: the big one, daily cost, goes through
``storage.loader.Staging``), then swapped in with one short transaction: delete what it replaces, insert.
A failed fetch therefore never touches the stored data.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from storage.costs import one_row

if TYPE_CHECKING:
    import duckdb

    from storage.costs import CostStore

SETTLE_DAYS = 3  # Cost Explorer revises recent days for about 72 hours

TABLES: dict[str, str] = {
    # Which days of which data set are stored, and whether Cost Explorer still called them estimated.
    "aws_sync_days": "dataset VARCHAR, day DATE, estimated BOOLEAN, synced_at TIMESTAMP, PRIMARY KEY (dataset, day)",
    "aws_accounts": "account_id VARCHAR PRIMARY KEY, name VARCHAR, email VARCHAR, status VARCHAR, source VARCHAR",
    "aws_tag_costs": "day DATE, tag_key VARCHAR, tag_value VARCHAR, account_id VARCHAR, unblended_cost DOUBLE, "
                     "amortized_cost DOUBLE, currency VARCHAR, estimated BOOLEAN",
    "aws_forecast": "month DATE, mean DOUBLE, lower_bound DOUBLE, upper_bound DOUBLE, interval_pct INTEGER, "
                    "metric VARCHAR, currency VARCHAR, generated_on DATE",
    "aws_anomalies": "anomaly_id VARCHAR PRIMARY KEY, start_date DATE, end_date DATE, monitor_arn VARCHAR, "
                     "dimension_value VARCHAR, max_impact DOUBLE, total_impact DOUBLE, total_actual DOUBLE, "
                     "total_expected DOUBLE, impact_pct DOUBLE, max_score DOUBLE, current_score DOUBLE, "
                     "feedback VARCHAR, root_causes VARCHAR",
    # program: savings_plans | reservations; measure: coverage | utilization. Savings Plans coverage is
    # spend (covered / on-demand-equivalent total); RI coverage is hours; utilisation is used / purchased.
    "aws_commitment_usage": "day DATE, program VARCHAR, measure VARCHAR, numerator DOUBLE, denominator DOUBLE, "
                            "pct DOUBLE, unit VARCHAR",
    "aws_recommendations": "term_years INTEGER, payment_option VARCHAR, savings_plans_type VARCHAR, "
                           "lookback_days INTEGER, hourly_commitment DOUBLE, monthly_savings DOUBLE, "
                           "savings_pct DOUBLE, roi_pct DOUBLE, current_on_demand_spend DOUBLE, currency VARCHAR, "
                           "recommendation_id VARCHAR, generated_at VARCHAR, details VARCHAR",
    "aws_budgets": "name VARCHAR PRIMARY KEY, budget_type VARCHAR, time_unit VARCHAR, limit_amount DOUBLE, "
                   "actual_spend DOUBLE, forecast_spend DOUBLE, currency VARCHAR, period_start DATE, period_end DATE",
    "aws_requests": "requested_at TIMESTAMP, service VARCHAR, operation VARCHAR, cost DOUBLE",
    # Recommendations as their source gave them (cost_optimization_hub, compute_optimizer: the sync's
    # ``optimization`` data set; data_exports: an imported COST_OPTIMIZATION_RECOMMENDATIONS file), purchases
    # included (the commitment review shows those); each source swapped as a whole, with where it came from.
    "optimization_recommendations": "source VARCHAR, recommendation_id VARCHAR, action_type VARCHAR, "
                                    "resource_id VARCHAR, resource_arn VARCHAR, account_id VARCHAR, region VARCHAR, "
                                    "resource_type VARCHAR, estimated_monthly_savings DOUBLE, "
                                    "estimated_monthly_cost DOUBLE, currency VARCHAR, effort VARCHAR, "
                                    "restart_needed BOOLEAN, rollback_possible BOOLEAN, current_summary VARCHAR, "
                                    "recommended_summary VARCHAR, last_refresh VARCHAR, lookback_days INTEGER, "
                                    "fetched_at TIMESTAMP, origin VARCHAR",
}


def create_tables(con: duckdb.DuckDBPyConnection) -> None:
    for name, body in TABLES.items():
        con.execute(f"CREATE TABLE IF NOT EXISTS {name} ({body})")


def _columns(name: str) -> list[str]:
    cols = []
    for part in TABLES[name].split(", "):
        word = part.split()[0]
        if word != "PRIMARY":
            cols.append(word)
    return cols


def swap(store: CostStore, table: str, rows: list[dict[str, Any]], *, where: str = "TRUE",
         params: list[Any] | None = None, days: tuple[str, list[tuple[date, bool]]] | None = None,
         meta: dict[str, str] | None = None, synced_at: datetime | None = None) -> int:
    """Replace the rows of ``table`` matching ``where`` with ``rows`` in one transaction; record ``days``
    (dataset, [(day, estimated)]) in the sync cache, stamped ``synced_at`` (the home's clock; required with
    ``days``), and ``meta`` in the same transaction."""
    import pandas as pd

    cols = _columns(table)
    frame = pd.DataFrame([[r.get(c) for c in cols] for r in rows], columns=cols).astype(object)
    with store.writer() as con:
        create_tables(con)
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(f"DELETE FROM {table} WHERE {where}", params or [])
            if rows:
                con.register("_rows", frame)
                con.execute(f"INSERT INTO {table} SELECT {', '.join(chr(34) + c + chr(34) for c in cols)} FROM _rows")
                con.unregister("_rows")
            if days:
                if synced_at is None:
                    raise ValueError("swap(days=...) needs synced_at (the home's clock)")
                record_days(con, *days, synced_at=synced_at)
            for key, value in (meta or {}).items():
                con.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", [key, value])
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    return len(rows)


def record_requests(store: CostStore, calls: list[dict[str, Any]]) -> tuple[int, float]:
    """Append API calls to ``aws_requests`` and update the running totals, in one committed transaction
    (the sync calls this as each request returns, so the ledger survives an interrupted sync); the totals."""
    with store.writer() as con:
        create_tables(con)
        con.execute("BEGIN TRANSACTION")
        try:
            for c in calls:
                con.execute("INSERT INTO aws_requests VALUES (?, ?, ?, ?)",
                            [c["at"], c["service"], c["operation"], c["cost"]])
            total, cost = one_row(con, "SELECT count(*), coalesce(sum(cost), 0) FROM aws_requests")
            con.execute("INSERT OR REPLACE INTO meta VALUES ('aws_requests_total', ?)", [str(total)])
            con.execute("INSERT OR REPLACE INTO meta VALUES ('aws_request_cost_total', ?)", [f"{cost:.2f}"])
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    for c in calls:
        c["recorded"] = True
    return int(total), float(cost)


def record_days(con: duckdb.DuckDBPyConnection, dataset: str, days: list[tuple[date, bool]], *,
                synced_at: datetime) -> None:
    """Record the fetched days of ``dataset``, stamped ``synced_at`` (the home's clock, stored as naive UTC)."""
    import pandas as pd

    if not days:
        return
    frame = pd.DataFrame({"day": [d for d, _ in days], "estimated": [bool(e) for _, e in days]})
    stamp = synced_at.astimezone(UTC).replace(tzinfo=None) if synced_at.tzinfo else synced_at
    con.register("_days", frame)
    con.execute("INSERT OR REPLACE INTO aws_sync_days SELECT ?, CAST(day AS DATE), estimated, ? FROM _days",
                [dataset, stamp])
    con.unregister("_days")


def fetch_start(store: CostStore, dataset: str, start: date, end: date) -> date | None:
    """The first day of ``[start, end)`` that must be fetched (None: all settled and stored).

    A day is fetched again while it is inside the settling window, or while Cost Explorer still called it
    estimated and its month has closed (the final bill then replaces the estimate). Estimated days of the
    current month outside the window are not re-fetched daily: they are refreshed once the month closes.
    """
    if start >= end:
        return None
    with store.reader() as con:
        if con is None:
            return start
        create_missing = one_row(con, "SELECT count(*) FROM information_schema.tables "
                                      "WHERE table_name = 'aws_sync_days'")[0]
        if not create_missing:
            return start
        stored = dict(con.execute("SELECT day, estimated FROM aws_sync_days WHERE dataset = ? AND day >= ? "
                                  "AND day < ?", [dataset, start, end]).fetchall())
    month_start = end.replace(day=1) if end.day > 1 else (end - timedelta(days=1)).replace(day=1)
    window = end - timedelta(days=SETTLE_DAYS)
    day = start
    while day < end:
        if day not in stored or day >= window or (stored[day] and day < month_start):
            return day
        day += timedelta(days=1)
    return None


def days_between(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days)]
