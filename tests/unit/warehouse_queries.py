"""Every named query that reads line items, called with fixed arguments on the demo store, and a loopback
runner: the Trino text a warehouse session would send, transpiled back to DuckDB and run on the demo file
(over ``line_items`` plus its ``billing_period``, the month of BillingPeriodStart, as the export's
partition). Used by the golden-SQL and round-trip tests.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from typing import Any

from storage import cost_queries as cq
from storage.config import WarehouseConfig
from storage.costs import CostStore, connect
from storage.warehouse.dialect import Translated, to_duckdb
from storage.warehouse.session import WarehouseSession
from storage.warehouse.views import view_columns

ATHENA = WarehouseConfig("athena", "cur", "cur2_export", "finops_line_items", "cur2")
END = date(2026, 11, 23)  # the Monday before the fixed day: the sweep's window end
START = END - timedelta(days=7)
MONTH = date(2026, 10, 1)
NEXT = date(2026, 11, 1)


def catalogue(store: CostStore, teams: dict[str, str], account: str, resource: str) -> dict[str, Callable[[], Any]]:
    """Named query -> a call of it (window, grain and filter arguments as the rituals pass them)."""
    cats = store.taxonomy.charge_categories
    fix = [cq.FixEntity("account", account, START), cq.FixEntity("resource", resource, START),
           cq.FixEntity("tag_value", f"{store.taxonomy.allocation_key}=web", START)]
    cases = [("service", "Amazon Elastic Compute Cloud", START, END), ("total", "total", START, END)]
    return {
        "allocation_costs": lambda: cq.allocation_costs(store, teams, START, END),
        "sweep_data": lambda: cq.sweep_data(store, teams, START, END, cats, trend_weeks=4),
        "fix_costs": lambda: cq.fix_costs(store, teams, START, END, cats, fix),
        "showback_costs_month": lambda: cq.showback_costs(store, teams, [account], MONTH, NEXT,
                                                          untaggable_categories=("Tax",)),
        "showback_costs_day": lambda: cq.showback_costs(store, teams, [], START, END, grain="day",
                                                        usage_based_only=True),
        "billed_by_billing_period": lambda: cq.billed_by_billing_period(store, MONTH, END),
        "team_service_months": lambda: cq.team_service_months(store, teams, MONTH, END),
        "anomaly_series": lambda: cq.anomaly_series(store, teams),
        "anomaly_series_one": lambda: cq.anomaly_series(store, teams, ("account", account)),
        "root_cause_contributions": lambda: cq.root_cause_contributions(store, teams, cases, 4, 5),
        "account_names": lambda: cq.account_names(store),
        "commitment_usage": lambda: cq.commitment_usage(store, MONTH, END, ["Amazon Elastic Compute Cloud"],
                                                        {"Amazon Elastic Compute Cloud": ["BoxUsage"]}),
        "explorer_costs": lambda: cq.explorer_costs(store, teams, START, END, group_by=["team", "service"],
                                                    filters=[("account", [account])], granularity="week",
                                                    previous_start=START - timedelta(days=7)),
        "explorer_costs_tag": lambda: cq.explorer_costs(store, teams, MONTH, END, group_by=["tag:environment"],
                                                        excludes=[("service", ["Tax"])], cost="list",
                                                        granularity="month"),
        "idle_address_costs": lambda: cq.idle_address_costs(store, ["%IdleAddress%"], MONTH, END),
        "idle_load_balancer_costs": lambda: cq.idle_load_balancer_costs(store, ["%LoadBalancerUsage%"],
                                                                        ["%LCUUsage%"], MONTH, END),
        "weekend_running_costs": lambda: cq.weekend_running_costs(store, "environment", cats, MONTH, END, 0.8),
        "cluster_costs": lambda: cq.cluster_costs(store, teams, START, END, cats),
        "idle_node_costs": lambda: cq.idle_node_costs(store, START, END),
        "latest_usage_day": lambda: cq.latest_usage_day(store),
        "resource_usage": lambda: cq.resource_usage(store, MONTH, END, START),
        "resource_tag_values": lambda: cq.resource_tag_values(store, [resource, "i-none"],
                                                              [store.taxonomy.allocation_key, "environment"]),
        "has_resource_rows": lambda: cq.has_resource_rows(store),
        "resource_cost": lambda: cq.resource_cost(store, resource, START, END),
        "contract_applied": lambda: cq.contract_applied(store),
        "store_info": lambda: store._read_info(),  # uncached: each call reads
    }


class LoopbackRunner:
    """Runs the Trino text on DuckDB (``to_duckdb``) over the demo file; keeps what it ran."""

    def __init__(self, con: Any) -> None:
        self.con = con
        self.sent: list[Translated] = []

    def run(self, query: Translated, name: str) -> Any:
        import sqlglot
        from sqlglot import exp

        self.sent.append(query)
        tree = sqlglot.parse_one(query.sql, read="trino")
        for table in tree.find_all(exp.Table):
            if (table.db, table.name) == (ATHENA.database, ATHENA.view):
                table.set("db", None)
                table.set("this", exp.to_identifier("wh_line_items"))
        return self.con.execute(to_duckdb(tree.sql(dialect="trino")))


class LoopbackBackend:
    """Stands where ``AthenaBackend`` does in a CostStore: sessions whose runner is the loopback."""

    def __init__(self, store: CostStore) -> None:
        self.store = store
        self.runners: list[LoopbackRunner] = []

    @contextmanager
    def session(self, local: Any) -> Iterator[WarehouseSession]:
        con = connect(self.store.path, read_only=True)
        con.execute("CREATE TEMP VIEW wh_line_items AS SELECT *, strftime(BillingPeriodStart, '%Y-%m') "
                    "AS billing_period FROM line_items")
        runner = LoopbackRunner(con)
        self.runners.append(runner)
        s = WarehouseSession(runner, local, view_columns(self.store.taxonomy), relation=f'"{ATHENA.database}"."{ATHENA.view}"')
        try:
            yield s
        finally:
            con.close()
            s.close()

    def sent(self) -> list[Translated]:
        return [q for r in self.runners for q in r.sent]


@dataclasses.dataclass
class Rows:
    """A named query's list of rows (tuples or mappings), in an order that does not depend on the engine's:
    by every field that is not a float (a group's key), then by the floats to the cent."""

    rows: list[tuple[Any, ...]]

    @classmethod
    def of(cls, value: list[Any]) -> Rows:
        def flat(row: Any) -> tuple[Any, ...]:
            fields = row.values() if isinstance(row, dict) else row
            return tuple(f for v in fields for f in (flat(v) if isinstance(v, tuple) else (v,)))

        rows = [flat(r) for r in value]

        def order(row: tuple[Any, ...]) -> tuple[Any, ...]:
            fixed = [(v is None, "" if v is None else repr(v)) for v in row if not isinstance(v, float)]
            return (*fixed, *(round(v, 2) for v in row if isinstance(v, float)))

        return cls(sorted(rows, key=order))


def frames(value: Any) -> list[Any]:
    """A named query's answer as comparable parts: frames sorted by every column, lists of rows sorted
    (``Rows``), other values as they are."""
    import pandas as pd

    if isinstance(value, pd.DataFrame):
        frame = value.copy()
        frame = frame.sort_values(list(frame.columns), na_position="first", kind="stable") if len(frame) else frame
        return [frame.reset_index(drop=True)]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return [p for f in dataclasses.fields(value) for p in frames(getattr(value, f.name))]
    if isinstance(value, list) and value and all(isinstance(r, tuple | dict) for r in value):
        return [Rows.of(value)]
    if isinstance(value, tuple | list):
        return [p for v in value for p in frames(v)]
    return [value]


def same_answer(a: Any, b: Any, name: str) -> None:
    """Two answers of a named query agree: frames equal to a relative 1e-9 once sorted, the rest equal."""
    import pandas as pd
    import pytest

    pa, pb = frames(a), frames(b)
    assert len(pa) == len(pb), name
    for x, y in zip(pa, pb, strict=True):
        if isinstance(x, pd.DataFrame) and x.empty and y.empty:  # no rows: no dtypes to agree on
            assert list(x.columns) == list(y.columns), name
        elif isinstance(x, pd.DataFrame):
            pd.testing.assert_frame_equal(x, y, check_exact=False, rtol=1e-9, obj=name)
        elif isinstance(x, Rows):
            assert isinstance(y, Rows) and len(x.rows) == len(y.rows), name
            for rx, ry in zip(x.rows, y.rows, strict=True):
                assert rx == pytest.approx(ry, rel=1e-9), (name, rx, ry)
        elif isinstance(x, float) or (isinstance(x, dict) and all(isinstance(v, float) for v in x.values())):
            assert x == pytest.approx(y, rel=1e-9), name
        else:
            assert x == y, name
