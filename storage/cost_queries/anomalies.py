"""Named queries of anomaly detection and triage: daily spend series, root-cause rows, the AWS sync's Cost
Anomaly Detection results, account names and when data was first loaded.

What is measured: Usage rows (``ChargeCategory = 'Usage'``) of EffectiveCost, less the charges that repeat on
a calendar (support, fees) or happen once (credits, refunds), so a month start never alarms. The team is the
allocation value (``storage.cost_queries.base``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from storage.cost_queries.base import LINE_ITEMS_WITH_RULES, allocation_sql, create_rules, has_table
from storage.costs import CostStore, sql_string

if TYPE_CHECKING:
    import duckdb
    import pandas as pd

SPEND_FILTER = ("ChargeCategory = 'Usage' AND coalesce(ChargeFrequency, 'Usage-Based') "
                "NOT IN ('Recurring', 'One-Time')")
SERIES_DIMENSIONS = ("service", "account", "team")
ROOT_CAUSE_COLUMNS = ["day", "account", "service", "region", "resource", "team", "cost"]


def _base_sql(con: duckdb.DuckDBPyConnection, store: CostStore) -> str:
    """The measured rows at the root-cause grain ('(none)' for a missing name), with their team."""
    team, _how = allocation_sql(con, store)
    return (f"SELECT charge_date AS day, coalesce(ServiceName, '(none)') AS service, "
            f"coalesce(SubAccountId, '(none)') AS account, coalesce(RegionId, '(none)') AS region, "
            f"coalesce(ResourceId, '(none)') AS resource, {team} AS team, EffectiveCost AS cost "
            f"FROM {LINE_ITEMS_WITH_RULES} WHERE {SPEND_FILTER}")


def anomaly_series(store: CostStore, account_teams: Mapping[str, str], only: tuple[str, str] | None = None, *,
                   total_value: str = "total") -> pd.DataFrame:
    """Daily spend per service, account, team (unallocated spend in no team's series) and in total (the
    value ``total_value``): columns dimension, value, day, cost, over the store's whole history. ``only``
    (dimension, value) reads that one series; a dimension other than service, account and team reads the
    total."""
    import pandas as pd

    with store.reader() as con:
        if con is None:
            return pd.DataFrame({"dimension": [], "value": [], "day": [], "cost": []})
        create_rules(con, account_teams)
        base = _base_sql(con, store)
        if only is not None:
            col = only[0] if only[0] in SERIES_DIMENSIONS else None
            cond = f"{col} = ?" if col else "TRUE"
            return con.execute(f"WITH b AS ({base}) SELECT ? AS dimension, ? AS value, day, sum(cost) AS cost "
                               f"FROM b WHERE {cond} GROUP BY day", [only[0], only[1]] + ([only[1]] if col else [])
                               ).df()
        sql = (f"WITH b AS ({base}) "
               "SELECT 'service' AS dimension, service AS value, day, sum(cost) AS cost FROM b GROUP BY 2, 3 "
               "UNION ALL SELECT 'account', account, day, sum(cost) FROM b GROUP BY 2, 3 "
               "UNION ALL SELECT 'team', team, day, sum(cost) FROM b WHERE team IS NOT NULL GROUP BY 2, 3 "
               f"UNION ALL SELECT 'total', {sql_string(total_value)}, day, sum(cost) FROM b GROUP BY 3")
        return con.execute(sql).df()


def root_cause_rows(store: CostStore, account_teams: Mapping[str, str],
                    spans: Sequence[tuple[date, date]]) -> pd.DataFrame:
    """The measured rows at the root-cause grain summed per day, account, service, region, resource and team
    (columns ``ROOT_CAUSE_COLUMNS``) of every day in any span ``[lo, hi)``, in one query."""
    import pandas as pd

    empty = pd.DataFrame({c: [] for c in ROOT_CAUSE_COLUMNS})
    if not spans:
        return empty
    with store.reader() as con:
        if con is None:
            return empty
        create_rules(con, account_teams)
        con.execute("CREATE TEMP TABLE _spans (lo DATE, hi DATE)")
        con.executemany("INSERT INTO _spans VALUES (?, ?)", [[lo, hi] for lo, hi in spans])
        return con.execute(
            f"WITH b AS ({_base_sql(con, store)}) SELECT day, account, service, region, resource, team, "
            "sum(cost) AS cost FROM b WHERE EXISTS (SELECT 1 FROM _spans w WHERE b.day >= w.lo "
            "AND b.day < w.hi) GROUP BY ALL").df()


def first_import_at(store: CostStore) -> datetime | None:
    """When cost data was first loaded into the store (the earliest import); None before any."""
    with store.reader() as con:
        if con is None:
            return None
        row = con.execute("SELECT min(imported_at) FROM imports").fetchone()
    return row[0] if row else None


AWS_ANOMALY_COLUMNS = ("anomaly_id", "start_date", "end_date", "dimension_value", "total_expected",
                       "total_actual", "total_impact", "max_impact", "root_causes")


def aws_anomaly_rows(store: CostStore) -> list[tuple[Any, ...]]:
    """The anomalies AWS Cost Anomaly Detection found, as the sync stored them (``aws_anomalies``): tuples of
    ``AWS_ANOMALY_COLUMNS`` (dates as dates, root_causes as AWS's JSON text), those with a start date only;
    none when the sync stored none."""
    with store.reader() as con:
        if con is None or not has_table(con, "aws_anomalies"):
            return []
        return con.execute(f"SELECT {', '.join(AWS_ANOMALY_COLUMNS)} FROM aws_anomalies "
                           "WHERE start_date IS NOT NULL").fetchall()


def account_names(store: CostStore) -> dict[str, str]:
    """Account id -> its name in the line items (the greatest one when they differ; unnamed accounts left
    out)."""
    with store.reader() as con:
        if con is None:
            return {}
        rows = con.execute("SELECT SubAccountId, max(SubAccountName) FROM line_items WHERE SubAccountId IS NOT NULL "
                           "GROUP BY 1").fetchall()
    return {a: n for a, n in rows if n}
