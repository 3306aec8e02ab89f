"""The named queries on Athena: botocore's Stubber for Athena (every request and response checked against
AWS's API model: start, poll, paginated results, failure states, bytes scanned; moto's Athena would always
report 0 bytes) and moto's server on loopback for the Glue partitions and the S3 objects behind them.

Checked: a ritual's query returns the rows Athena gave, typed; the bytes scanned are metered and priced; the
result is cached and re-used until an object of a partition it reads changes; --max-scan-gb and the
workgroup's BytesScannedCutoffPerQuery stop a query before it runs; errors are named.
"""

from __future__ import annotations

import math
from datetime import date

import pytest
from botocore.stub import ANY, Stubber

from storage import cost_queries as cq
from storage.config import Taxonomy, WarehouseConfig
from storage.costs import CostStore
from storage.warehouse.athena import (
    AthenaBackend,
    ScanLimitExceeded,
    WarehouseAccessDenied,
    WarehouseMissingTable,
    WarehouseQueryFailed,
)
from storage.warehouse.cache import scan_cost
from tests.aws_gate import moto_server

WH = WarehouseConfig("athena", "cur", "cur2_export", "finops_line_items", "cur2")
TAX = Taxonomy("team", ("environment",))
BUCKET = "exports"
START, END = date(2026, 11, 16), date(2026, 11, 23)
MB = 1024 ** 2


@pytest.fixture(scope="module")
def aws():
    import boto3

    with moto_server() as url:
        import requests

        requests.post(f"{url}/moto-api/reset", timeout=10)  # moto's state is per process, not per server
        session = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing",
                                region_name="us-east-1")
        s3 = session.client("s3", endpoint_url=url)
        glue = session.client("glue", endpoint_url=url)
        s3.create_bucket(Bucket=BUCKET)
        glue.create_database(DatabaseInput={"Name": "cur"})
        root = f"s3://{BUCKET}/cur2/data/"
        glue.create_table(DatabaseName="cur", TableInput={
            "Name": "cur2_export", "PartitionKeys": [{"Name": "billing_period", "Type": "string"}],
            "StorageDescriptor": {"Location": root, "Columns": [{"Name": "line_item_unblended_cost",
                                                                  "Type": "double"}]}})
        for month, size in (("2026-10", 3 * MB), ("2026-11", 2 * MB)):
            where = f"{root}BILLING_PERIOD={month}/"
            glue.create_partition(DatabaseName="cur", TableName="cur2_export", PartitionInput={
                "Values": [month], "StorageDescriptor": {"Location": where}})
            s3.put_object(Bucket=BUCKET, Key=f"cur2/data/BILLING_PERIOD={month}/part-0.parquet", Body=b"x" * size)
        yield session, s3, glue


def _store(tmp_path, aws, **kwargs) -> tuple[CostStore, AthenaBackend, Stubber, list[dict]]:
    session, s3, glue = aws
    athena = session.client("athena")
    sent: list[dict] = []
    athena.meta.events.register("provide-client-params.athena.StartQueryExecution",
                                lambda params, **_: sent.append(dict(params)))
    stub = Stubber(athena)
    stub.activate()
    store = CostStore(tmp_path / "costs.duckdb", TAX, warehouse=WH)
    backend = AthenaBackend(WH, TAX, tmp_path / "warehouse-cache.duckdb", store.path, poll_s=0.0,
                            sleep=lambda _s: None, clients={"athena": athena, "glue": glue, "s3": s3}, **kwargs)
    store.backend = backend
    return store, backend, stub, sent


def _workgroup(stub: Stubber, cutoff: int | None = None) -> None:
    config = {"BytesScannedCutoffPerQuery": cutoff} if cutoff else {}
    stub.add_response("get_work_group", {"WorkGroup": {"Name": "primary", "Configuration": config}},
                      {"WorkGroup": "primary"})


def _run(stub: Stubber, qid: str, scanned: int, pages: list[list[list[str | None]]],
         columns: list[tuple[str, str]], states: tuple[str, ...] = ("RUNNING",)) -> None:
    """Expect one query: start, a poll per state then SUCCEEDED, and its result pages (the header first)."""
    stub.add_response("start_query_execution", {"QueryExecutionId": qid},
                      {"QueryString": ANY, "WorkGroup": "primary", "QueryExecutionContext": {"Database": "cur"}})
    for state in states:
        stub.add_response("get_query_execution", {"QueryExecution": {"QueryExecutionId": qid,
                                                                      "Status": {"State": state}}},
                          {"QueryExecutionId": qid})
    stub.add_response("get_query_execution", {"QueryExecution": {
        "QueryExecutionId": qid, "Status": {"State": "SUCCEEDED"},
        "Statistics": {"DataScannedInBytes": scanned}}}, {"QueryExecutionId": qid})
    info = [{"Name": n, "Type": t} for n, t in columns]
    for i, rows in enumerate(pages):
        data = ([[n for n, _ in columns]] if i == 0 else []) + rows
        page = {"ResultSet": {"Rows": [{"Data": [{} if v is None else {"VarCharValue": v} for v in r]}
                                       for r in data], "ResultSetMetadata": {"ColumnInfo": info}}}
        if i < len(pages) - 1:
            page["NextToken"] = f"page-{i + 1}"
        params = {"QueryExecutionId": qid, "MaxResults": 1000, **({"NextToken": f"page-{i}"} if i else {})}
        stub.add_response("get_query_results", page, params)


ALLOC = [("_col0", "double"), ("_col1", "double"), ("_col2", "double")]


def test_a_query_runs_on_athena_is_metered_and_its_result_cached_until_the_export_changes(tmp_path, aws) -> None:
    store, backend, stub, sent = _store(tmp_path, aws)
    _workgroup(stub)
    _run(stub, "q-1", 12 * MB + 1, [[["120.5", "80.25", "0.0"]]], ALLOC, states=("QUEUED", "RUNNING"))
    assert cq.allocation_costs(store, {"111": "web"}, START, END) == (120.5, 80.25, 0.0)
    stub.assert_no_pending_responses()
    # the window's partition filter was sent, the account rule inline
    assert "billing_period >= '2026-11'" in sent[0]["QueryString"]
    assert "VALUES (CAST('111' AS VARCHAR), CAST('web' AS VARCHAR))" in sent[0]["QueryString"]
    billed = math.ceil((12 * MB + 1) / MB) * MB  # rounded up to the megabyte
    assert backend.meter.bytes_scanned == 12 * MB + 1
    assert backend.meter.cost == pytest.approx(billed / 1024 ** 4 * 5.0)
    assert backend.totals() == (1, 12 * MB + 1, pytest.approx(backend.meter.cost))

    # the same query and window: the cache answers, Athena is not asked
    assert cq.allocation_costs(store, {"111": "web"}, START, END) == (120.5, 80.25, 0.0)
    assert (backend.meter.queries, backend.meter.cached) == (1, 1)

    # another command (a new listing) after October's data changed: November's result still stands...
    _s, s3, _g = aws
    s3.put_object(Bucket=BUCKET, Key="cur2/data/BILLING_PERIOD=2026-10/part-1.parquet", Body=b"y")
    store2, backend2, stub2, _sent = _store(tmp_path, aws)
    assert cq.allocation_costs(store2, {"111": "web"}, START, END) == (120.5, 80.25, 0.0)
    assert backend2.meter.cached == 1
    # ...and once November's objects change, the query runs again
    s3.put_object(Bucket=BUCKET, Key="cur2/data/BILLING_PERIOD=2026-11/part-0.parquet", Body=b"z" * (2 * MB))
    store3, backend3, stub3, _sent = _store(tmp_path, aws)
    _workgroup(stub3)
    _run(stub3, "q-2", 0, [[["130.0", "90.0", "1.5"]]], ALLOC)
    assert cq.allocation_costs(store3, {"111": "web"}, START, END) == (130.0, 90.0, 1.5)
    stub3.assert_no_pending_responses()
    assert backend3.meter.cost == pytest.approx(scan_cost(0)) == pytest.approx(10 * MB / 1024 ** 4 * 5.0)
    assert backend3.totals()[0] == 2
    assert backend3.cache.entries() == 1  # the stale result of the same query was dropped


def test_results_over_several_pages_come_back_typed(tmp_path, aws) -> None:
    store, backend, stub, sent = _store(tmp_path, aws)
    _workgroup(stub)
    cols = [("SubAccountId", "varchar"), ("_col1", "varchar")]
    _run(stub, "q-3", 5 * MB, [[["111", "prod"], ["222", None]], [["333", "data"]]], cols)
    assert cq.account_names(store) == {"111": "prod", "333": "data"}  # an unnamed account is left out
    stub.assert_no_pending_responses()
    assert "billing_period" not in sent[0]["QueryString"]  # no window: every partition
    frame_cols = [("period", "date"), ("team", "varchar"), ("reason", "varchar"), ("cost", "double"),
                  ("billed", "double")]
    _run(stub, "q-4", MB, [[["2026-11-01", "web", None, "10.5", "11"], ["2026-11-01", None, "support", "2", None]]],
         frame_cols)
    lines = cq.showback_costs(store, {}, [], date(2026, 11, 1), END)
    assert [line.cost for line in lines] == [10.5, 2.0] and [line.billed for line in lines] == [11.0, 0.0]
    assert lines[0].period == date(2026, 11, 1) and lines[1].reason == "support" and lines[0].team == "web"


def test_max_scan_gb_stops_a_query_before_it_runs(tmp_path, aws) -> None:
    # November is 2 MB in S3; a bound of 1 MB stops the sweep's window; October + November would be 5 MB
    store, backend, stub, sent = _store(tmp_path, aws, max_scan_gb=1 / 1024)
    with pytest.raises(ScanLimitExceeded, match=r"1 partitions \(2026-11\.\.2026-11\).*over --max-scan-gb"):
        cq.allocation_costs(store, {}, START, END)
    assert sent == [] and backend.meter.scans == []
    store, backend, stub, sent = _store(tmp_path, aws, max_scan_gb=4 / 1024)
    _workgroup(stub)
    _run(stub, "q-5", MB, [[["1", "1", "0"]]], ALLOC)
    assert cq.allocation_costs(store, {}, START, END) == (1.0, 1.0, 0.0)  # 2 MB fits
    with pytest.raises(ScanLimitExceeded, match=r"2 partitions \(2026-10\.\.2026-11\)"):
        cq.account_names(store)  # every partition: 5 MB


def test_the_workgroup_cutoff_is_honoured_before_running(tmp_path, aws) -> None:
    store, backend, stub, sent = _store(tmp_path, aws)
    _workgroup(stub, cutoff=10_000_000)
    _s, s3, _g = aws
    s3.put_object(Bucket=BUCKET, Key="cur2/data/BILLING_PERIOD=2026-11/big.parquet", Body=b"b" * (10 * MB))
    try:
        with pytest.raises(ScanLimitExceeded, match="BytesScannedCutoffPerQuery of 9.54 MB"):
            cq.allocation_costs(store, {}, START, END)
        assert sent == []
    finally:
        s3.delete_object(Bucket=BUCKET, Key="cur2/data/BILLING_PERIOD=2026-11/big.parquet")


def _fails(stub: Stubber, state: str, reason: str, scanned: int = 0, error_type: int | None = None) -> None:
    stub.add_response("start_query_execution", {"QueryExecutionId": "q-f"}, None)
    status = {"State": state, "StateChangeReason": reason}
    if error_type:
        status["AthenaError"] = {"ErrorCategory": 2, "ErrorType": error_type, "ErrorMessage": reason}
    stub.add_response("get_query_execution", {"QueryExecution": {
        "QueryExecutionId": "q-f", "Status": status, "Statistics": {"DataScannedInBytes": scanned}}}, None)


def test_failures_are_named_with_athenas_reason(tmp_path, aws) -> None:
    store, backend, stub, _sent = _store(tmp_path, aws)
    _workgroup(stub)
    _fails(stub, "FAILED", "TABLE_NOT_FOUND: line 1:8: Table 'awsdatacatalog.cur.finops_line_items' does not exist")
    with pytest.raises(WarehouseMissingTable, match="does not exist.*warehouse setup"):
        cq.allocation_costs(store, {}, START, END)
    _fails(stub, "FAILED", "COLUMN_NOT_FOUND: line 1:40: Column 'tag_team' cannot be resolved", error_type=1006)
    with pytest.raises(WarehouseQueryFailed, match="q-f failed: COLUMN_NOT_FOUND.*error type 1006"):
        cq.allocation_costs(store, {}, START, END)
    assert backend.meter.scans == []  # failed queries are not billed
    _fails(stub, "CANCELLED", "Query cancelled: bytes scanned limit was exceeded", scanned=12 * MB)
    with pytest.raises(WarehouseQueryFailed, match="cancelled: Query cancelled: bytes scanned limit"):
        cq.allocation_costs(store, {}, START, END)
    assert backend.meter.bytes_scanned == 12 * MB  # a cancelled query is billed for what it read
    stub.add_client_error("start_query_execution", "AccessDeniedException",
                          "User: arn:aws:iam::1:user/x is not authorized to perform: athena:StartQueryExecution")
    with pytest.raises(WarehouseAccessDenied, match="refused athena:StartQueryExecution"):
        cq.allocation_costs(store, {}, START, END)
    stub.assert_no_pending_responses()


def test_a_missing_table_is_named(tmp_path, aws) -> None:
    session, s3, glue = aws
    cfg = WarehouseConfig("athena", "cur", "no_such_table", "finops_line_items", "cur2")
    backend = AthenaBackend(cfg, TAX, tmp_path / "c.duckdb", tmp_path / "costs.duckdb",
                            clients={"athena": session.client("athena"), "glue": glue, "s3": s3})
    with pytest.raises(WarehouseMissingTable, match="glue:GetTable.*no_such_table"):
        backend.partitions()


def test_check_names_a_shape_mismatch_and_a_missing_view(tmp_path, aws) -> None:
    from storage.warehouse.check import check

    store, backend, stub, sent = _store(tmp_path, aws)
    store.backend.config = backend.config = WarehouseConfig("athena", "cur", "cur2_export", "finops_line_items",
                                                            "focus1.2")
    report = check(store, lambda: cq.allocation_costs(store, {}, START, END))
    assert report.detected_shape is None  # the fixture's table has one CUR column only
    assert [p["billing_period"] for p in report.partitions] == ["2026-10", "2026-11"]
    assert any("lacks the focus1.2 columns chargeperiodstart" in p for p in report.problems)
    assert any("no view cur.finops_line_items" in p for p in report.problems)
    assert sent == []  # without the view nothing is queried


def test_a_query_mixing_line_items_and_local_tables_is_refused_by_name(tmp_path, aws) -> None:
    from storage.warehouse.session import WarehouseError

    store, _backend, _stub, sent = _store(tmp_path, aws)
    with pytest.raises(WarehouseError, match=r"joins line_items with local tables \(imports\)"):
        cq.billing_periods(store)
    assert cq.first_import_at(store) is None  # a local table alone: read from the (empty) local store
    assert sent == []


def test_setup_creates_the_view_of_the_partitioned_table(tmp_path, aws) -> None:
    from storage.warehouse.check import setup
    from storage.warehouse.views import mapping_view_sql

    store, _backend, stub, sent = _store(tmp_path, aws)
    expected = mapping_view_sql(WH, TAX, partitioned=True, partition="billing_period")
    stub.add_response("start_query_execution", {"QueryExecutionId": "q-ddl"},
                      {"QueryString": expected, "WorkGroup": "primary", "QueryExecutionContext": {"Database": "cur"}})
    stub.add_response("get_query_execution", {"QueryExecution": {"QueryExecutionId": "q-ddl",
                                                                  "Status": {"State": "SUCCEEDED"}}}, None)
    assert setup(store) == (expected, "q-ddl")
    stub.assert_no_pending_responses()
    assert "t.billing_period AS billing_period" in expected  # the partition passes through: Athena prunes on it
