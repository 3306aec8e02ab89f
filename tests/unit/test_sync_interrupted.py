"""A sync that is interrupted keeps its ledger and says what landed; an endpoint that stops answering fails
a data set within its deadline (issue 21). moto's server on loopback, behind a gate that stops answering
after N requests, and a loopback socket that never answers."""

from __future__ import annotations

import time
from datetime import date

import duckdb
import pytest
import requests

from storage.sources.aws import SyncOptions, sync_aws
from tests.aws_gate import AWS_ENV, gated, moto_server, tag_results, unresponsive

SINCE = date(2026, 11, 1)


@pytest.fixture(autouse=True)
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for k, v in AWS_ENV.items():
        monkeypatch.setenv(k, v)


def configure(home, read: float, deadline: float) -> None:  # type: ignore[no-untyped-def]
    (home.path / "finops-tui.toml").write_text(
        f"[aws]\nconnect_timeout_s = 1.0\nread_timeout_s = {read}\ndataset_deadline_s = {deadline}\n")


def stored(home, sql: str) -> list[tuple]:  # type: ignore[no-untyped-def]
    con = duckdb.connect(str(home.costs_path), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_a_sync_stopped_mid_way_keeps_its_ledger_and_reports_the_keys_that_landed(home) -> None:
    configure(home, read=3.0, deadline=30)  # a generous read timeout: moto answers slowly on a loaded machine
    keys = list(home.config.taxonomy.keys)
    values = {k: [f"{k}$a", f"{k}$"] for k in keys}  # one tagged value and the untagged bucket per key
    with moto_server() as moto:
        results = [tag_results(values[k], f"2026-11-0{i + 1}", 10.0 + i) for i, k in enumerate(keys)]
        assert requests.post(f"{moto}/moto-api/static/ce/cost-and-usage-results",
                             json={"results": results}).status_code == 201
        answered = 3  # GetTags (moto lacks it: answered with an error, still a billed request) and two keys
        with gated(moto, answered) as (url, gate):
            result = sync_aws(home, SyncOptions(since=SINCE, endpoint_url=url, only=("tags",)))
            seen = gate.seen
    tags = result.datasets[0]
    landed = keys[: answered - 1]
    assert tags.status == "partial"
    assert tags.landed_keys == landed and tags.missing_keys == keys[answered - 1:]
    assert tags.rows == sum(len(values[k]) for k in landed)
    assert tags.days == (home.clock.today() - SINCE).days
    assert "did not answer in time" in (tags.reason or "")
    # The ledger: every request made is counted; every one answered is in the store.
    assert result.ledger.requests == seen == answered + 1
    assert stored(home, "SELECT count(*), round(sum(cost), 2) FROM aws_requests") == [(answered, 0.01 * answered)]
    assert stored(home, "SELECT DISTINCT tag_key FROM aws_tag_costs ORDER BY 1") == [(k,) for k in sorted(landed)]


def test_an_endpoint_that_never_answers_fails_each_data_set_within_its_deadline(home,
                                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_MAX_ATTEMPTS")  # the product's own retries: only the deadline stops them
    # Six attempts (the product's max) of 0.6 s each outlast the 3 s deadline whatever the retry jitter, so the
    # deadline, not the retries running out, always ends a data set; and the second attempt starts well
    # inside it (0.6 s plus a first back-off under 1 s).
    read, deadline = 0.6, 3.0
    configure(home, read=read, deadline=deadline)
    with unresponsive() as url:
        started = time.monotonic()
        result = sync_aws(home, SyncOptions(since=SINCE, endpoint_url=url, only=("forecast", "anomalies")))
        elapsed = time.monotonic() - started
    assert [d.status for d in result.datasets] == ["failed", "failed"]
    assert all("deadline" in (d.reason or "") and "aws.dataset_deadline_s" in (d.reason or "")
               for d in result.datasets), [d.reason for d in result.datasets]
    assert result.ledger.attempts >= 2 * len(result.datasets)  # retried until the deadline, not one attempt each
    # Each data set stops at its deadline plus the attempt running then and a retry back-off, and, on a
    # loaded machine (load 10+ on 2 cores), the creation of its boto3 client, which alone can take seconds.
    # Without the deadline the retries would go on for minutes; the bound only has to tell those apart.
    assert elapsed < len(result.datasets) * (deadline + read + 20.0)
    assert stored(home, "SELECT count(*) FROM aws_requests") == [(0,)]  # nothing answered, nothing billed
