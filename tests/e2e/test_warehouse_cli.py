"""The Athena engine through the installed command, against moto's server on loopback (Glue, S3 and Athena;
moto's Athena runs nothing and reports 0 bytes scanned, so only the plumbing is real here: the partitions,
their sizes, the bound, the view's SQL and the metering line).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

from storage.config import load_config
from storage.warehouse.cache import scan_cost
from storage.warehouse.views import mapping_view_sql
from tests.aws_gate import AWS_ENV, moto_server

EXE = shutil.which("finops-tui")
pytestmark = pytest.mark.skipif(EXE is None, reason="finops-tui is not installed")
MB = 1024 ** 2
SIZES = {"2026-10": 3 * MB, "2026-11": 2 * MB + 17}
CONFIG = """[warehouse]
engine = "athena"
database = "cur"
table = "cur2_export"
region = "us-east-1"
"""


@pytest.fixture
def athena_home(tmp_path):
    import boto3

    with moto_server() as url:
        import requests

        requests.post(f"{url}/moto-api/reset", timeout=10)  # moto's state is per process, not per server
        session = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing",
                                region_name="us-east-1")
        s3, glue = session.client("s3", endpoint_url=url), session.client("glue", endpoint_url=url)
        s3.create_bucket(Bucket="exports")
        glue.create_database(DatabaseInput={"Name": "cur"})
        cols = [{"Name": c, "Type": "string"} for c in ("line_item_usage_start_date", "line_item_unblended_cost",
                                                        "line_item_line_item_type", "bill_billing_period_start_date",
                                                        "resource_tags")]
        glue.create_table(DatabaseName="cur", TableInput={
            "Name": "cur2_export", "PartitionKeys": [{"Name": "billing_period", "Type": "string"}],
            "StorageDescriptor": {"Location": "s3://exports/cur2/data/", "Columns": cols}})
        glue.create_table(DatabaseName="cur", TableInput={"Name": "finops_line_items", "TableType": "VIRTUAL_VIEW"})
        for month, size in SIZES.items():
            where = f"s3://exports/cur2/data/BILLING_PERIOD={month}/"
            glue.create_partition(DatabaseName="cur", TableName="cur2_export", PartitionInput={
                "Values": [month], "StorageDescriptor": {"Location": where}})
            s3.put_object(Bucket="exports", Key=f"cur2/data/BILLING_PERIOD={month}/part-0.parquet", Body=b"x" * size)
        home = tmp_path / "home"
        home.mkdir(mode=0o700)
        (home / "finops-tui.toml").write_text(CONFIG, encoding="utf-8")
        env = {**os.environ, **AWS_ENV, "AWS_ENDPOINT_URL": url, "FINOPS_TUI_TODAY": "2026-11-27"}
        yield home, env


def run(home, env, *args: str) -> subprocess.CompletedProcess[str]:  # type: ignore[no-untyped-def]
    return subprocess.run([EXE, "--home", str(home), *args], capture_output=True, text=True, timeout=120, env=env)


def test_info_setup_check_and_the_scan_bound(athena_home) -> None:
    home, env = athena_home
    info = json.loads(run(home, env, "info", "--json").stdout)
    assert (info["cost_engine"], info["records_backend"]) == ("athena", "sqlite")
    assert info["cost_rows"] is None and info["athena_queries_total"] == 0  # info scans nothing

    printed = run(home, env, "warehouse", "setup", "--print")
    assert printed.returncode == 0, printed.stderr
    config = load_config(home)
    assert printed.stdout == mapping_view_sql(config.warehouse, config.taxonomy) + ";\n"

    done = run(home, env, "warehouse", "check", "--json")
    assert done.returncode == 0, done.stderr + done.stdout
    report = json.loads(done.stdout)
    assert report["detected_shape"] == "cur2" and report["view_present"] and report["problems"] == []
    assert [(p["billing_period"], p["bytes_in_s3"]) for p in report["partitions"]] == list(SIZES.items())
    # the sweep of 2026-11-20..27 reads November; its four-week trend reaches back into October
    # (the whole sweep is planned: its tag-fix checks, its frames, and the store's summary for the currency,
    # which reads the whole history; and its shared clusters, whose _items view reads only November too)
    planned = [(q["query"], q["billing_periods"]) for q in report["sweep_queries"]]
    assert sorted(planned) == [("cluster_costs", ["2026-11"]), ("cluster_costs", ["2026-11"]),
                               ("fix_costs", ["2026-11"]), ("info", ["2026-10", "2026-11"]),
                               ("sweep_data", ["2026-10", "2026-11"]), ("sweep_data", ["2026-11"]),
                               ("sweep_data", ["2026-11"])]
    assert report["sweep_bytes_in_s3"] == sum(
        sum(SIZES[m] for m in q["billing_periods"]) for q in report["sweep_queries"])
    # one cheap query ran (moto reports 0 bytes: the 10 MB minimum is billed)
    assert f"athena: 1 queries (0 from the cache), 0 B scanned (${scan_cost(0):.6f})" in done.stderr

    again = run(home, env, "warehouse", "check", "--json")
    assert "athena: 0 queries (1 from the cache)" in again.stderr
    assert "running total 1 queries" in again.stderr

    # November alone is 2 MB: a 1 MB bound stops the sweep before any query runs; exit 2, nothing billed
    stopped = run(home, env, "--max-scan-gb", str(1 / 1024), "sweep", "--json")
    assert stopped.returncode == 2, stopped.stderr
    assert "over --max-scan-gb" in stopped.stderr and "2026-11" in stopped.stderr
    assert json.loads(run(home, env, "info", "--json").stdout)["athena_queries_total"] == 1
