"""Named queries of anomaly detection and triage: daily spend series, root-cause rows, the AWS sync's Cost
Anomaly Detection results, account names and when data was first loaded.

What is measured: Usage rows (``ChargeCategory = 'Usage'``) of EffectiveCost, less the charges that repeat on
a calendar (support, fees) or happen once (credits, refunds), so a month start never alarms. The team is the
allocation value (``storage.cost_queries.base``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, NamedTuple

from storage import rollup
from storage.cost_queries.base import (
    LINE_ITEMS_WITH_RULES,
    allocation_sql,
    create_rules,
    has_table,
    items_from,
    rollup_serves,
)
from storage.costs import CostStore, sql_string

if TYPE_CHECKING:
    import duckdb

SPEND_FILTER = ("ChargeCategory = 'Usage' AND coalesce(ChargeFrequency, 'Usage-Based') "
                "NOT IN ('Recurring', 'One-Time')")
SERIES_DIMENSIONS = ("service", "account", "team")


def _base_sql(con: duckdb.DuckDBPyConnection, store: CostStore) -> str:
    """The measured rows at the root-cause grain ('(none)' for a missing name), with their team."""
    team, _how = allocation_sql(con, store)
    return (f"SELECT charge_date AS day, coalesce(ServiceName, '(none)') AS service, "
            f"coalesce(SubAccountId, '(none)') AS account, coalesce(RegionId, '(none)') AS region, "
            f"coalesce(ResourceId, '(none)') AS resource, {team} AS team, EffectiveCost AS cost "
            f"FROM {LINE_ITEMS_WITH_RULES} WHERE {SPEND_FILTER}")


def _series_sql(con: duckdb.DuckDBPyConnection, store: CostStore) -> str:
    """The measured rows at the series' grain (day, service, account, team), from the daily rollup where it
    serves (``base.items_from``)."""
    team, _how = allocation_sql(con, store)
    return (f"SELECT charge_date AS day, coalesce(ServiceName, '(none)') AS service, "
            f"coalesce(SubAccountId, '(none)') AS account, {team} AS team, EffectiveCost AS cost "
            f"FROM {items_from(con, store)} WHERE {SPEND_FILTER}")


def anomaly_series(store: CostStore, account_teams: Mapping[str, str], only: tuple[str, str] | None = None, *,
                   total_value: str = "total", arrays: bool = False) -> Any:
    """Daily spend per service, account, team (unallocated spend in no team's series) and in total (the
    value ``total_value``): columns dimension, value, day, cost, over the store's whole history. ``only``
    (dimension, value) reads that one series; a dimension other than service, account and team reads the
    total.

    A pandas frame; with ``arrays`` the same columns as numpy arrays (a dict; DuckDB's ``fetchnumpy``), which
    the detector reads without importing pandas."""
    empty: dict[str, list[Any]] = {"dimension": [], "value": [], "day": [], "cost": []}
    with store.reader() as con:
        if con is None:
            if arrays:
                import numpy as np

                return {k: np.array(v, dtype=object if k != "cost" else float) for k, v in empty.items()}
            import pandas as pd

            return pd.DataFrame(empty)
        create_rules(con, account_teams, store)
        base = _series_sql(con, store)
        if only is not None:
            col = only[0] if only[0] in SERIES_DIMENSIONS else None
            cond = f"{col} = ?" if col else "TRUE"
            result = con.execute(f"WITH b AS ({base}) SELECT ? AS dimension, ? AS value, day, sum(cost) AS cost "
                                 f"FROM b WHERE {cond} GROUP BY day",
                                 [only[0], only[1]] + ([only[1]] if col else []))
        else:
            result = con.execute(
                f"WITH b AS ({base}) "
                "SELECT 'service' AS dimension, service AS value, day, sum(cost) AS cost FROM b GROUP BY 2, 3 "
                "UNION ALL SELECT 'account', account, day, sum(cost) FROM b GROUP BY 2, 3 "
                "UNION ALL SELECT 'team', team, day, sum(cost) FROM b WHERE team IS NOT NULL GROUP BY 2, 3 "
                f"UNION ALL SELECT 'total', {sql_string(total_value)}, day, sum(cost) FROM b GROUP BY 3")
        return result.fetchnumpy() if arrays else result.df()


ROOT_CAUSE_DIMENSIONS = ("account", "service", "region", "resource")


class RootCauseRow(NamedTuple):
    """One root cause of one case (``root_cause_contributions``)."""

    case: int
    dimension: str
    value: str
    contribution: float
    total: float
    team: str | None


def root_cause_contributions(store: CostStore, account_teams: Mapping[str, str],
                             cases: Sequence[tuple[str, str, date, date]], weeks: int, top: int) -> list[RootCauseRow]:
    """Each case's root causes, in one query: for case ``i`` of ``cases`` (dimension, value, start, end), the
    ``top`` accounts, services, regions and resources by their contribution to the excess over ``start <=
    day < end`` (spend in the window minus the mean of the same days 1..``weeks`` weeks earlier), positive
    contributions only. Rows: case (the index in ``cases``), dimension, value, contribution, total (the
    case's whole excess) and, for accounts and resources, the team their in-window spend is allocated to
    most. A case's dimension service, account or team limits it to that series; any other reads the total.

    Everything happens in the store: the measured rows are summed once at the root-cause grain and joined to
    the cases by series and day range, so no per-case work reaches Python. Plain tuples (``RootCauseRow``),
    ordered by case, contribution (largest first), dimension and value."""
    if not cases:
        return []
    with store.reader() as con:
        if con is None:
            return []
        create_rules(con, account_teams, store)
        con.execute("CREATE TEMP TABLE _cases (i INTEGER, dim VARCHAR, val VARCHAR, lo DATE, hi DATE)")
        con.executemany("INSERT INTO _cases VALUES (?, ?, ?, ?, ?)",
                        [[i, d, v, lo, hi] for i, (d, v, lo, hi) in enumerate(cases)])
        inside = "(g.day >= c.lo AND g.day < c.hi)"
        earlier = " + ".join(f"CAST(g.day + INTERVAL '{7 * k}' DAY >= c.lo AND g.day + INTERVAL '{7 * k}' DAY < c.hi "
                             "AS INTEGER)"
                             for k in range(1, weeks + 1))
        weight = f"(CAST({inside} AS DOUBLE) - ({earlier}) / {float(weeks)})"
        span = f"g.day >= c.lo - INTERVAL '{7 * weeks}' DAY AND g.day < c.hi"
        joins = " UNION ALL ".join(
            f"SELECT c.i, g.*, {weight} AS w, {inside} AS hot FROM g JOIN _cases c ON {cond} AND {span}"
            for cond in ("c.dim = 'service' AND g.service = c.val", "c.dim = 'account' AND g.account = c.val",
                         "c.dim = 'team' AND g.team = c.val",
                         "c.dim NOT IN ('service', 'account', 'team')"))
        dims = ", ".join(f"(i, {d})" for d in ROOT_CAUSE_DIMENSIONS)
        pick = " ".join(f"WHEN GROUPING({d}) = 0 THEN {d}" for d in ROOT_CAUSE_DIMENSIONS)
        name = " ".join(f"WHEN GROUPING({d}) = 0 THEN '{d}'" for d in ROOT_CAUSE_DIMENSIONS)
        sql = f"""
        WITH b AS ({_base_sql(con, store)}),
        g AS (SELECT day, account, service, region, resource, team, sum(cost) AS cost FROM b
              WHERE day >= (SELECT min(lo) FROM _cases) - INTERVAL '{7 * weeks}' DAY AND day < (SELECT max(hi) FROM _cases)
              GROUP BY ALL),
        j AS ({joins}),
        totals AS (SELECT i, sum(cost * w) AS total FROM j GROUP BY i),
        contrib AS (SELECT i, CASE {name} END AS dimension, CASE {pick} END AS value,
                           sum(cost * w) AS contribution
                    FROM j GROUP BY GROUPING SETS ({dims})),
        ranked AS (SELECT *, row_number() OVER (PARTITION BY i, dimension ORDER BY contribution DESC, value)
                   AS rn FROM contrib WHERE contribution > 0),
        spend AS (SELECT i, CASE WHEN GROUPING(account) = 0 THEN 'account' ELSE 'resource' END AS dimension,
                         CASE WHEN GROUPING(account) = 0 THEN account ELSE resource END AS value, team,
                         sum(cost) FILTER (WHERE w > 0) AS spent
                  FROM j WHERE team IS NOT NULL GROUP BY GROUPING SETS ((i, account, team), (i, resource, team))),
        teams AS (SELECT i, dimension, value, team FROM (
                    SELECT *, row_number() OVER (PARTITION BY i, dimension, value ORDER BY spent DESC, team) AS rn
                    FROM spend WHERE spent > 0) WHERE rn = 1)
        SELECT r.i AS "case", r.dimension, r.value, r.contribution, t.total, m.team
        FROM ranked r JOIN totals t USING (i) LEFT JOIN teams m USING (i, dimension, value)
        WHERE r.rn <= {int(top)} ORDER BY r.i, r.contribution DESC, r.dimension, r.value"""
        return [RootCauseRow(*row) for row in con.execute(sql).fetchall()]


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
        source = rollup.ROLLUP if rollup_serves(con, store) else "line_items"  # the rollup keeps both columns
        rows = con.execute(f"SELECT SubAccountId, max(SubAccountName) FROM {source} WHERE SubAccountId IS NOT NULL "
                           "GROUP BY 1").fetchall()
    return {a: n for a, n in rows if n}
