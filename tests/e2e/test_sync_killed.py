"""A `finops-tui sync aws` killed (SIGKILL) mid-way still accounts for every request AWS answered, and what
landed before the kill stays (issue 21): moto's server on loopback behind a gate that stops answering."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from pathlib import Path

import duckdb
import pytest
import requests

from storage.config import load_config
from tests.aws_gate import AWS_ENV, gated, moto_server, tag_results

EXE = shutil.which("finops-tui")
pytestmark = pytest.mark.skipif(EXE is None, reason="finops-tui is not installed")


def test_a_killed_sync_keeps_its_request_ledger(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "finops-tui.toml").write_text("[aws]\nread_timeout_s = 120.0\ndataset_deadline_s = 300.0\n")
    keys = list(load_config(home).taxonomy.keys)
    answered = 4  # GetTags (an error from moto, still answered) and three tag keys
    with moto_server() as moto:
        results = [tag_results([f"{k}$x", f"{k}$"], "2026-11-02", 5.0) for k in keys]
        assert requests.post(f"{moto}/moto-api/static/ce/cost-and-usage-results",
                             json={"results": results}).status_code == 201
        with gated(moto, answered) as (url, gate):
            env = {**os.environ, **AWS_ENV, "FINOPS_TUI_TODAY": "2026-11-27"}
            proc = subprocess.Popen([EXE, "--home", str(home), "sync", "aws", "--endpoint-url", url, "--since",
                                     "2026-11-01", "--only", "tags"], env=env, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
            try:
                assert gate.wait_for(answered + 1), "the sync never reached the unanswered request"
            finally:
                proc.send_signal(signal.SIGKILL)
                proc.wait(30)
    assert proc.returncode == -signal.SIGKILL
    con = duckdb.connect(str(home / "costs.duckdb"), read_only=True)
    try:
        assert con.execute("SELECT count(*), round(sum(cost), 2) FROM aws_requests").fetchall() == [
            (answered, round(0.01 * answered, 2))]
        assert con.execute("SELECT value FROM meta WHERE key = 'aws_requests_total'").fetchall() == [(str(answered),)]
        landed = keys[: answered - 1]
        assert con.execute("SELECT tag_key, count(*) FROM aws_tag_costs GROUP BY 1 ORDER BY 1").fetchall() == [
            (k, 2) for k in sorted(landed)]
    finally:
        con.close()
