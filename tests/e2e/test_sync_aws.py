"""The installed `finops-tui sync aws` against moto's server on loopback: Cost Explorer results injected
through moto's API (served in the order of distinct requests), Organizations, Budgets and STS real."""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

EXE = shutil.which("finops-tui")
pytestmark = [pytest.mark.skipif(EXE is None, reason="finops-tui is not installed"), pytest.mark.slow]
TODAY = "2026-11-27"


class _Counter(logging.Handler):
    """Counts the AWS API requests moto's server answers (werkzeug logs one line per request)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.requests = 0

    def emit(self, record: logging.LogRecord) -> None:
        text = re.sub(r"\x1b\[[0-9;]*m", "", record.getMessage())
        if re.search(r'"POST /\S* HTTP/1\.1" \d{3}', text) and "/moto-api/" not in text:
            self.requests += 1


@pytest.fixture(scope="module")
def moto_url():
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def aws_env(url: str) -> dict[str, str]:
    return {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_MAX_ATTEMPTS": "1", "AWS_EC2_METADATA_DISABLED": "true", "FINOPS_TUI_TODAY": TODAY,
            "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull}


def money(a: float) -> dict:
    return {"Amount": str(a), "Unit": "USD"}


def day(d: str, groups: list, estimated: bool = False) -> dict:
    return {"TimePeriod": {"Start": d, "End": d}, "Total": {}, "Estimated": estimated,
            "Groups": [{"Keys": k, "Metrics": {"UnblendedCost": money(u), "AmortizedCost": money(a)}}
                       for k, u, a in groups]}


def test_sync_against_moto(moto_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import boto3
    import duckdb
    import requests

    for k, v in aws_env(moto_url).items():
        monkeypatch.setenv(k, v)
    assert requests.post(f"{moto_url}/moto-api/reset").status_code == 200
    org = boto3.client("organizations", endpoint_url=moto_url, region_name="us-east-1")
    org.create_organization(FeatureSet="ALL")
    prod = org.create_account(Email="prod@example.com", AccountName="prod [main]")["CreateAccountStatus"]["AccountId"]
    data = org.create_account(Email="data@example.com", AccountName="data")["CreateAccountStatus"]["AccountId"]
    budgets = boto3.client("budgets", endpoint_url=moto_url, region_name="us-east-1")
    for name, amount in (("monthly", 5000.0), ("Checkout", 1200.0)):
        budgets.create_budget(AccountId="123456789012", Budget={
            "BudgetName": name, "BudgetLimit": money(amount), "TimeUnit": "MONTHLY", "BudgetType": "COST",
            "TimePeriod": {"Start": datetime(2026, 11, 1, tzinfo=UTC), "End": datetime(2027, 11, 1, tzinfo=UTC)}})
    results = [  # served in the order of distinct requests: costs page 1, costs page 2, then tag key `team`
        {"ResultsByTime": [day("2026-11-01", [([prod, "Amazon EC2"], 100.0, 80.0)])], "NextPageToken": "p2"},
        {"ResultsByTime": [day("2026-11-02", [([data, "Amazon S3"], 20.0, 20.0)], True)]},
        {"ResultsByTime": [day("2026-11-01", [(["team$checkout", prod], 70.0, 60.0), (["team$", prod], 30.0, 20.0)])]},
    ]
    assert requests.post(f"{moto_url}/moto-api/static/ce/cost-and-usage-results",
                         json={"results": results}).status_code == 201

    home = tmp_path / "home"
    from storage.home import Home
    from storage.records import Team, TeamAccount

    h = Home(home)
    with h.records.write() as s:
        team = Team(name="checkout")
        s.add(team)
        s.flush()
        s.add(TeamAccount(account_id=prod, team_id=team.id))
    h.close()

    counter = _Counter()
    wlog = logging.getLogger("werkzeug")
    wlog.setLevel(logging.INFO)
    wlog.addHandler(counter)
    try:
        out = subprocess.run([EXE, "--home", str(home), "sync", "aws", "--endpoint-url", moto_url, "--since",
                              "2026-11-01", "--only", "costs,tags,accounts,budgets", "--json"],
                             capture_output=True, text=True, env=os.environ.copy(), timeout=180)
    finally:
        wlog.removeHandler(counter)
    assert out.returncode == 0, out.stderr + out.stdout
    report = json.loads(out.stdout)
    # sts 1 + ListAccounts 1 + costs 2 pages + GetTags 1 (moto lacks it: note) + 5 tag keys + budgets 1
    assert report["requests"] == counter.requests == 11
    assert report["cost"] == 0.08 and report["currency"] == "USD"
    assert {d["name"]: d["status"] for d in report["datasets"]} == {
        "accounts": "ok", "costs": "ok", "tags": "ok", "budgets": "ok"}

    con = duckdb.connect(str(home / "costs.duckdb"), read_only=True)
    try:
        rows = con.execute("SELECT SubAccountId, SubAccountName, ServiceName, BilledCost, EffectiveCost, "
                           "json_extract(x_Extras, '$.x_Estimated') FROM line_items ORDER BY charge_date").fetchall()
        assert rows == [(prod, "prod [main]", "Amazon EC2", 100.0, 80.0, "false"),
                        (data, "data", "Amazon S3", 20.0, 20.0, "true")]
        tags = con.execute("SELECT tag_value, amortized_cost FROM aws_tag_costs WHERE tag_key = 'team' "
                           "ORDER BY 2 DESC").fetchall()
        assert tags == [("checkout", 60.0), (None, 20.0)]
        assert sorted(con.execute("SELECT name, limit_amount FROM aws_budgets").fetchall()) == [
            ("Checkout", 1200.0), ("monthly", 5000.0)]
        meta = dict(con.execute("SELECT key, value FROM meta").fetchall())
        assert meta["aws_requests_total"] == "11" and meta["aws_synced_at"].startswith(TODAY)
    finally:
        con.close()
    h = Home(home)
    with h.records.session() as s:
        assert s.get(TeamAccount, prod).account_name == "prod [main]"
        from rituals.budgets import list_budgets

        # The budget named like a team lands in the records; "monthly" names no team and is skipped.
        assert list_budgets(s) == [{"month": "2026-11", "team": "checkout", "amount": 1200.0, "source": "aws"}]
    h.close()
    # With API data only, allocation comes from the synced tag costs: checkout's tag 60, prod's account rule 20.
    sweep = subprocess.run([EXE, "--home", str(home), "sweep", "--start", "2026-11-01", "--end", "2026-11-03",
                            "--json"], capture_output=True, text=True, env=os.environ.copy(), timeout=120)
    assert sweep.returncode == 0, sweep.stderr
    numbers = json.loads(sweep.stdout)
    assert numbers["source"] == "aws_tag_costs"
    assert (numbers["total_cost"], numbers["by_tag_cost"], numbers["by_rule_cost"]) == (80.0, 60.0, 20.0)
    assert [(r["team"], r["cost"]) for r in numbers["by_team"]] == [("checkout", 80.0)]

    # A full sync: the data sets moto lacks fail with a reason, the others land again, exit 1.
    full = subprocess.run([EXE, "--home", str(home), "sync", "aws", "--endpoint-url", moto_url,
                           "--since", "2026-11-01"], capture_output=True, text=True, env=os.environ.copy(),
                          timeout=180)
    assert full.returncode == 1, full.stdout + full.stderr
    lines = {ln.split(":")[0].strip(): ln for ln in full.stdout.splitlines() if ":" in ln}
    for name in ("forecast", "anomalies", "commitments", "recommendations"):
        assert "failed" in lines[name] and "may not offer this API" in lines[name], lines[name]
    for name in ("accounts", "costs", "tags", "budgets"):
        assert " ok " in lines[name], lines[name]
    assert "not synced: forecast, anomalies, commitments, recommendations" in full.stderr
    assert "Traceback" not in full.stderr
    con = duckdb.connect(str(home / "costs.duckdb"), read_only=True)
    try:  # only the settling window was asked for again, so the earlier days are intact
        assert con.execute("SELECT sum(EffectiveCost) FROM line_items").fetchone()[0] == 100.0
    finally:
        con.close()
