"""`warehouse check` and `warehouse setup`: what the export's table in Athena looks like, and its view.

The check reads the table from Glue (its columns tell the export's shape), lists its partitions with their
size in S3, looks for the mapping view, runs one cheap query through the named-query path (the rows of the
latest billing period: one partition, one column) and plans a sweep without running it: the partitions each
of its queries would read, so the bytes it could scan are known before anyone runs it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from storage.costs import CostStore
from storage.warehouse.athena import AthenaBackend, WarehouseMissingTable
from storage.warehouse.views import mapping_view_sql

# The raw columns each shape cannot do without (Glue spells them in lower case).
SHAPE_COLUMNS = {
    "cur2": ("line_item_usage_start_date", "line_item_unblended_cost", "line_item_line_item_type",
             "bill_billing_period_start_date", "resource_tags"),
    "focus1.2": ("chargeperiodstart", "billedcost", "effectivecost", "billingperiodstart", "tags"),
}


def detect_shape(columns: set[str]) -> str | None:
    for shape, needed in SHAPE_COLUMNS.items():
        if all(c in columns for c in needed):
            return shape
    return None


@dataclass
class CheckReport:
    table: str
    configured_shape: str
    detected_shape: str | None
    missing_columns: list[str]
    partition_key: str | None
    partitions: list[dict[str, Any]]
    view: str
    view_present: bool
    latest_rows: int | None = None
    sweep: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def sweep_bytes(self) -> int:
        return sum(q["bytes_in_s3"] for q in self.sweep)

    def as_json(self) -> dict[str, Any]:
        return {"table": self.table, "configured_shape": self.configured_shape,
                "detected_shape": self.detected_shape, "missing_columns": self.missing_columns,
                "partition_key": self.partition_key, "partitions": self.partitions, "view": self.view,
                "view_present": self.view_present, "latest_period_rows": self.latest_rows,
                "sweep_queries": self.sweep, "sweep_bytes_in_s3": self.sweep_bytes, "problems": self.problems}


def _month_bounds(month: str) -> tuple[date, date]:
    first = date.fromisoformat(month + "-01")
    return first, date(first.year + first.month // 12, first.month % 12 + 1, 1)


def view_present(backend: AthenaBackend) -> bool:
    cfg = backend.config
    try:
        backend._call("glue", "get_table", DatabaseName=cfg.database, Name=cfg.view)
    except WarehouseMissingTable:
        return False
    return True


def check(store: CostStore, sweep: Callable[[], object]) -> CheckReport:
    """The table's shape and partitions, the view, one cheap query and a sweep's plan (``sweep`` calls the
    sweep's named query)."""
    backend: AthenaBackend = store.backend
    cfg = backend.config
    table = backend.table()
    columns = {c["Name"].lower() for c in table.get("StorageDescriptor", {}).get("Columns", [])}
    columns |= {c["Name"].lower() for c in table.get("PartitionKeys") or []}
    key = backend.partition_key()
    parts = backend.partitions()
    report = CheckReport(
        f"{cfg.database}.{cfg.table}", cfg.shape, detect_shape(columns),
        [c for c in SHAPE_COLUMNS[cfg.shape] if c not in columns], key,
        [{"billing_period": p.value, "location": p.location, "bytes_in_s3": p.size} for p in parts],
        f"{cfg.database}.{cfg.view}", view_present(backend))
    if report.missing_columns:
        report.problems.append(f"the table lacks the {cfg.shape} columns {', '.join(report.missing_columns)}"
                               + (f" (it looks like {report.detected_shape})" if report.detected_shape else ""))
    if key is None:
        report.problems.append("the table has no partitions: every query reads all of it")
    elif key != "billing_period":
        report.problems.append(f"the table is partitioned by {key}, not billing_period: the view maps it")
    if not report.view_present:
        report.problems.append(f"no view {report.view}: run `finops-tui warehouse setup`")
        return report
    latest = [p.value for p in parts if p.value != "*"]
    if latest:
        first, after = _month_bounds(max(latest))
        with store.reader() as con:
            assert con is not None  # the warehouse always answers
            row = con.execute("SELECT count(*) FROM line_items WHERE charge_date >= ? AND charge_date < ?",
                              [first, after]).fetchone()
        report.latest_rows = int(row[0]) if row else 0
    for name, _query, read in backend.plan(sweep):
        report.sweep.append({"query": name, "billing_periods": [p.value for p in read],
                             "bytes_in_s3": sum(p.size for p in read)})
    return report


def setup_sql(store: CostStore, *, partitioned: bool | None = None) -> str:
    """The mapping view's DDL for the configured table (asking Glue whether it is partitioned by
    billing_period unless ``partitioned`` says)."""
    backend: AthenaBackend = store.backend
    key = "billing_period"
    if partitioned is None:
        found = backend.partition_key()
        partitioned, key = found is not None, found or key
    return mapping_view_sql(backend.config, store.taxonomy, partitioned=partitioned, partition=key)


def setup(store: CostStore) -> tuple[str, str]:
    """Create (or replace) the mapping view in Athena; (its DDL, the query id)."""
    backend: AthenaBackend = store.backend
    sql = setup_sql(store)
    qid, _execution = backend.execute(sql, "warehouse setup")
    return sql, qid
