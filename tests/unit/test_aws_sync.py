"""The AWS sync against botocore's Stubber (every request and response checked against AWS's API model)
and, for throttling, a loopback HTTP endpoint that answers like Cost Explorer."""

from __future__ import annotations

import json
import threading
from datetime import date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3
import pytest
from botocore.stub import Stubber

from storage.sources.aws import SyncOptions, send_anomaly_feedback, sync_aws
from storage.sources.aws_client import AwsClients, AwsSyncError, RequestLedger, call

TODAY = date(2026, 11, 27)  # tests/conftest.py FIXED_TODAY
ACCOUNT = "999999999999"


@pytest.fixture(autouse=True)
def fake_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


class Stubs:
    """Stubbed clients for one sync; ``expect`` queues a response checked against the API model."""

    def __init__(self) -> None:
        self.clients = AwsClients(ledger=RequestLedger())
        self.stubbers: dict[str, Stubber] = {}
        self.queued = 0

    def stub(self, service: str) -> Stubber:
        if service not in self.stubbers:
            client = boto3.client(service, region_name="us-east-1")
            self.stubbers[service] = Stubber(client)
            self.stubbers[service].activate()
            self.clients.use(service, client)
        return self.stubbers[service]

    def expect(self, service: str, method: str, response: dict, params: dict | None = None) -> None:
        self.stub(service).add_response(method, response, params)
        self.queued += 1

    def fail(self, service: str, method: str, code: str, status: int = 400) -> None:
        self.stub(service).add_client_error(method, service_error_code=code, service_message=f"{code} message",
                                            http_status_code=status)
        self.queued += 1

    def done(self) -> None:
        for s in self.stubbers.values():
            s.assert_no_pending_responses()


def money(amount: float) -> dict:
    return {"Amount": str(amount), "Unit": "USD"}


def cost_day(day: str, groups: list[tuple[list[str], float, float]], estimated: bool = False) -> dict:
    return {"TimePeriod": {"Start": day, "End": day}, "Total": {}, "Estimated": estimated,
            "Groups": [{"Keys": k, "Metrics": {"UnblendedCost": money(u), "AmortizedCost": money(a)}}
                       for k, u, a in groups]}


def cost_params(start: str, token: str | None = None) -> dict:
    p = {"TimePeriod": {"Start": start, "End": TODAY.isoformat()}, "Granularity": "DAILY",
         "Metrics": ["UnblendedCost", "AmortizedCost"],
         "GroupBy": [{"Type": "DIMENSION", "Key": "LINKED_ACCOUNT"}, {"Type": "DIMENSION", "Key": "SERVICE"}]}
    if token:
        p["NextPageToken"] = token
    return p


def run(home, stubs: Stubs, only: str, **kw) -> object:
    opts = SyncOptions(only=tuple(only.split(",")), **kw)
    return sync_aws(home, opts, clients=stubs.clients)


def test_costs_page_through_and_a_resync_fetches_only_unsettled_days(home) -> None:
    stubs = Stubs()
    stubs.expect("sts", "get_caller_identity", {"Account": ACCOUNT, "Arn": "arn:aws:iam::1:user/x", "UserId": "x"})
    pages = [
        ({"ResultsByTime": [cost_day("2026-10-01", [(["111111111111", "Amazon EC2"], 10.0, 8.0)])],
          "NextPageToken": "t1"}, None),
        ({"ResultsByTime": [cost_day("2026-10-01", [(["222222222222", "Amazon S3"], 1.0, 1.0)])],
          "NextPageToken": "t2"}, "t1"),
        ({"ResultsByTime": [cost_day("2026-11-20", [(["111111111111", "Amazon EC2"], 5.0, 4.0)], True),
                            cost_day("2026-11-25", [(["111111111111", "Amazon EC2"], 3.0, 2.5)], True)],
          "DimensionValueAttributes": [{"Value": "111111111111", "Attributes": {"description": "prod"}}]}, "t2"),
    ]
    for resp, token in pages:
        stubs.expect("ce", "get_cost_and_usage", resp, cost_params("2026-10-01", token))
    result = run(home, stubs, "costs", since=date(2026, 10, 1))
    stubs.done()
    assert result.ok, result.datasets
    assert result.ledger.requests == stubs.queued == 4
    assert result.ledger.cost == 0.03  # three Cost Explorer pages; STS is free
    frame = home.costs.query("SELECT SubAccountId, SubAccountName, ServiceName, BilledCost, EffectiveCost, "
                             "charge_date, x_Extras, ProviderName, ChargeCategory, BillingAccountId, "
                             "CAST(BillingPeriodStart AS DATE) AS bp FROM line_items ORDER BY charge_date, "
                             "SubAccountId")
    assert len(frame) == 4
    assert frame["EffectiveCost"].sum() == pytest.approx(15.5)
    assert frame["BilledCost"].sum() == pytest.approx(19.0)
    assert set(frame["ProviderName"]) == {"AWS"} and set(frame["ChargeCategory"]) == {"Usage"}
    assert set(frame["BillingAccountId"]) == {ACCOUNT}
    assert frame.iloc[0]["SubAccountName"] == "prod" and frame.iloc[1]["SubAccountName"] == "222222222222"
    assert json.loads(frame.iloc[2]["x_Extras"])["x_Estimated"] is True
    assert str(frame.iloc[3]["bp"])[:10] == "2026-11-01"
    assert home.costs.meta("aws_requests_total") == "4" and home.costs.meta("aws_synced_at")

    # Nothing new: only the settling window (the last three days) is asked for; STS is cached.
    again = Stubs()
    again.expect("ce", "get_cost_and_usage", {"ResultsByTime": [
        cost_day("2026-11-25", [(["111111111111", "Amazon EC2"], 3.5, 3.0)], True)]}, cost_params("2026-11-24"))
    second = run(home, again, "costs", since=date(2026, 10, 1))
    again.done()
    assert second.ok and second.ledger.requests == 1
    totals = home.costs.query("SELECT charge_date, sum(EffectiveCost) AS c FROM line_items GROUP BY 1 ORDER BY 1")
    assert list(totals["c"]) == pytest.approx([9.0, 4.0, 3.0])  # October and Nov 20 kept, Nov 25 replaced
    # The daily rollup follows the replaced day in the same transaction.
    rolled = home.costs.query("SELECT charge_date, sum(EffectiveCost) AS c, sum(_rows) AS n FROM rollup_daily "
                              "GROUP BY 1 ORDER BY 1")
    assert list(rolled["c"]) == pytest.approx([9.0, 4.0, 3.0]) and list(rolled["n"]) == [2, 1, 1]
    assert home.costs.meta("aws_requests_total") == "5"

    # A third sync that fails leaves everything in place.
    broken = Stubs()
    broken.fail("ce", "get_cost_and_usage", "DataUnavailableException")
    third = run(home, broken, "costs", since=date(2026, 10, 1))
    assert not third.ok and "no data for this period" in third.datasets[0].reason
    assert home.costs.totals()[2] == pytest.approx(16.0)


def test_every_stamp_of_a_sync_is_on_the_homes_clock(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    """FINOPS_TUI_TODAY pinned years away from the real date: the sync stamp, the per-data-set stamps, the
    request ledger, the sync-day cache and the import record all carry the pinned day, not the wall clock."""
    from storage.home import Home

    pinned = date(2019, 6, 15)
    monkeypatch.setenv("FINOPS_TUI_TODAY", pinned.isoformat())
    home = Home(tmp_path / "home")
    home.path.mkdir(parents=True)
    try:
        assert home.clock.today() == pinned
        stubs = Stubs()
        stubs.expect("sts", "get_caller_identity", {"Account": ACCOUNT, "Arn": "arn:aws:iam::1:user/x", "UserId": "x"})
        params = cost_params("2019-06-01")
        params["TimePeriod"]["End"] = pinned.isoformat()
        stubs.expect("ce", "get_cost_and_usage", {"ResultsByTime": [
            cost_day("2019-06-03", [(["111111111111", "Amazon EC2"], 10.0, 8.0)])]}, params)
        stubs.expect("ce", "get_tags", {"Tags": ["team"], "ReturnSize": 1, "TotalSize": 1},
                     {"TimePeriod": {"Start": "2019-06-01", "End": pinned.isoformat()}})
        for key in ("team", "environment", "service", "cost-center", "owner"):
            stubs.expect("ce", "get_cost_and_usage", {"ResultsByTime": [cost_day("2019-06-03", [
                ([f"{key}$", "111111111111"], 10.0, 8.0)])]},
                {"TimePeriod": {"Start": "2019-06-01", "End": pinned.isoformat()}, "Granularity": "DAILY",
                 "Metrics": ["UnblendedCost", "AmortizedCost"],
                 "GroupBy": [{"Type": "TAG", "Key": key}, {"Type": "DIMENSION", "Key": "LINKED_ACCOUNT"}]})
        result = sync_aws(home, SyncOptions(only=("costs", "tags"), since=date(2019, 6, 1)), clients=stubs.clients)
        stubs.done()
        assert result.ok, result.datasets
        assert result.synced_at.startswith("2019-06-15T") and result.synced_at.endswith("Z")
        for key in ("aws_synced_at", "aws_synced_at:costs", "aws_synced_at:tags"):
            assert home.costs.meta(key) == result.synced_at, key
        q = home.costs.query
        assert {str(d)[:10] for d in q("SELECT requested_at FROM aws_requests")["requested_at"]} == {"2019-06-15"}
        days = q("SELECT DISTINCT dataset, CAST(synced_at AS DATE) AS d FROM aws_sync_days ORDER BY 1")
        assert {str(d)[:10] for d in days["d"]} == {"2019-06-15"}
        assert set(days["dataset"]) >= {"costs", "tags:team"}
        assert {str(d)[:10] for d in q("SELECT imported_at FROM imports")["imported_at"]} == {"2019-06-15"}
    finally:
        home.close()


def test_months_start_on_the_first_of_the_month_of_the_last_complete_day() -> None:
    from storage.sources.aws import months_start

    assert months_start(date(2026, 11, 27), 1) == date(2026, 11, 1)
    assert months_start(date(2026, 12, 1), 1) == date(2026, 11, 1)  # the 1st: yesterday is in November
    assert months_start(date(2026, 12, 2), 1) == date(2026, 12, 1)
    assert months_start(date(2026, 12, 1), 13) == date(2025, 11, 1)
    assert months_start(date(2026, 1, 1), 2) == date(2025, 11, 1)  # across the year


def test_sync_months_1_on_the_first_of_a_month_syncs_the_month_before(tmp_path) -> None:
    """A daily cron running `sync aws --months 1` on December 1 fetches November, never an error."""
    from storage.clock import Clock
    from storage.home import Home

    dec1 = date(2026, 12, 1)
    home = Home(tmp_path / "home", clock_override=Clock(dec1))
    home.path.mkdir(parents=True)
    try:
        stubs = Stubs()
        stubs.expect("sts", "get_caller_identity", {"Account": ACCOUNT, "Arn": "arn:aws:iam::1:user/x", "UserId": "x"})
        params = cost_params("2026-11-01")
        params["TimePeriod"]["End"] = dec1.isoformat()
        stubs.expect("ce", "get_cost_and_usage", {"ResultsByTime": [
            cost_day("2026-11-30", [(["111111111111", "Amazon EC2"], 10.0, 8.0)])]}, params)
        result = sync_aws(home, SyncOptions(only=("costs",), months=1), clients=stubs.clients)
        stubs.done()
        assert result.ok, result.datasets
        assert home.costs.totals()[2] == pytest.approx(8.0)
    finally:
        home.close()


def tag_params(key: str) -> dict:
    return {"TimePeriod": {"Start": "2026-11-01", "End": TODAY.isoformat()}, "Granularity": "DAILY",
            "Metrics": ["UnblendedCost", "AmortizedCost"],
            "GroupBy": [{"Type": "TAG", "Key": key}, {"Type": "DIMENSION", "Key": "LINKED_ACCOUNT"}]}


def test_two_spellings_of_a_tag_key_count_the_spend_once(home) -> None:
    # Each spelling's request partitions the whole spend (100 a day) into its tagged values and its own
    # untagged bucket; merged, the key must still add up to 100: pay 30 + search 20 + untagged 50.
    stubs = Stubs()
    stubs.expect("ce", "get_tags", {"Tags": ["Team", "team"], "ReturnSize": 2, "TotalSize": 2},
                 {"TimePeriod": {"Start": "2026-11-01", "End": TODAY.isoformat()}})
    acct, both = "111111111111", "222222222222"  # on `both`, one resource carries both spellings
    every = "333333333333"  # every resource carries both: no untagged group from either spelling
    stubs.expect("ce", "get_cost_and_usage", {"ResultsByTime": [cost_day("2026-11-02", [
        (["Team$pay", acct], 30.0, 27.0), (["Team$", acct], 70.0, 63.0),
        (["Team$pay", both], 8.0, 8.0), (["Team$", both], 2.0, 2.0),
        (["Team$pay", every], 10.0, 10.0)])]}, tag_params("Team"))
    stubs.expect("ce", "get_cost_and_usage", {"ResultsByTime": [cost_day("2026-11-02", [
        (["team$search", acct], 20.0, 18.0), (["team$", acct], 80.0, 72.0),
        (["team$pay", both], 8.0, 8.0), (["team$", both], 2.0, 2.0),
        (["team$pay", every], 10.0, 10.0)])]}, tag_params("team"))
    for key in ("environment", "service", "cost-center", "owner"):
        stubs.expect("ce", "get_cost_and_usage", {"ResultsByTime": [cost_day("2026-11-02", [
            ([f"{key}$", acct], 100.0, 90.0)])]}, tag_params(key))
    result = run(home, stubs, "tags", since=date(2026, 11, 1))
    stubs.done()
    assert result.ok, result.datasets
    rows = home.costs.query("SELECT tag_value, account_id, unblended_cost, amortized_cost FROM aws_tag_costs "
                            "WHERE tag_key = 'team' ORDER BY account_id, unblended_cost DESC")
    got = [(v if isinstance(v, str) else None, a, u, m) for v, a, u, m in rows.itertuples(index=False)]
    assert got == [(None, acct, pytest.approx(50.0), pytest.approx(45.0)),
                   ("pay", acct, pytest.approx(30.0), pytest.approx(27.0)),
                   ("search", acct, pytest.approx(20.0), pytest.approx(18.0)),
                   # overlap: pay counted under both spellings, untagged 2 - 8; the rows still sum to 10
                   ("pay", both, 16.0, 16.0), (None, both, -6.0, -6.0),
                   ("pay", every, 20.0, 20.0), (None, every, -10.0, -10.0)]
    one = rows[rows["account_id"] == acct]
    assert one["unblended_cost"].sum() == pytest.approx(100.0)
    assert one["amortized_cost"].sum() == pytest.approx(90.0)
    env = home.costs.query("SELECT tag_value, unblended_cost FROM aws_tag_costs WHERE tag_key = 'environment'")
    assert len(env) == 1 and env["unblended_cost"].iloc[0] == pytest.approx(100.0)


def test_forecast_anomalies_commitments_recommendations_from_stubs(home) -> None:
    stubs = Stubs()
    stubs.expect("ce", "get_cost_forecast", {
        "Total": money(300.0), "ForecastResultsByTime": [
            {"TimePeriod": {"Start": "2026-11-27", "End": "2026-12-01"}, "MeanValue": "100",
             "PredictionIntervalLowerBound": "90", "PredictionIntervalUpperBound": "110"},
            {"TimePeriod": {"Start": "2026-12-01", "End": "2027-01-01"}, "MeanValue": "200",
             "PredictionIntervalLowerBound": "180", "PredictionIntervalUpperBound": "230"}]},
        {"TimePeriod": {"Start": "2026-11-27", "End": "2027-02-01"}, "Metric": "AMORTIZED_COST",
         "Granularity": "MONTHLY", "PredictionIntervalLevel": 80})
    for i, token in enumerate([None, "a2", "a3"]):
        resp = {"Anomalies": [{
            "AnomalyId": f"an-{i}", "AnomalyStartDate": f"2026-11-1{i}", "DimensionValue": "Amazon EC2",
            "MonitorArn": "arn:aws:ce::1:anomalymonitor/m", "AnomalyScore": {"MaxScore": 0.9, "CurrentScore": 0.5},
            "Impact": {"MaxImpact": 50.0, "TotalImpact": 120.0 + i, "TotalActualSpend": 300.0,
                       "TotalExpectedSpend": 180.0, "TotalImpactPercentage": 66.7},
            "RootCauses": [{"Service": "Amazon EC2", "Region": "us-east-1", "LinkedAccount": "1",
                            "UsageType": "BoxUsage"}]}]}
        if i < 2:
            resp["NextPageToken"] = ["a2", "a3"][i]
        params = {"DateInterval": {"StartDate": "2026-08-29", "EndDate": "2026-11-27"}}
        if token:
            params["NextPageToken"] = token
        stubs.expect("ce", "get_anomalies", resp, params)
    period = {"Start": "2026-11-20", "End": "2026-11-27"}
    stubs.expect("ce", "get_savings_plans_coverage", {"SavingsPlansCoverages": [
        {"TimePeriod": {"Start": "2026-11-20", "End": "2026-11-21"}, "Coverage": {
            "SpendCoveredBySavingsPlans": "60", "OnDemandCost": "40", "TotalCost": "100", "CoveragePercentage": "60"}}]},
        {"TimePeriod": period, "Granularity": "DAILY"})
    stubs.fail("ce", "get_savings_plans_utilization", "DataUnavailableException")
    stubs.expect("ce", "get_reservation_coverage", {"CoveragesByTime": [
        {"TimePeriod": {"Start": "2026-11-20", "End": "2026-11-21"}, "Total": {"CoverageHours": {
            "ReservedHours": "30", "TotalRunningHours": "40", "CoverageHoursPercentage": "75"}}}]},
        {"TimePeriod": period, "Granularity": "DAILY"})
    stubs.expect("ce", "get_reservation_utilization", {"UtilizationsByTime": [
        {"TimePeriod": {"Start": "2026-11-20", "End": "2026-11-21"}, "Total": {
            "UtilizationPercentage": "95", "PurchasedHours": "40", "TotalActualHours": "38"}}]},
        {"TimePeriod": period, "Granularity": "DAILY"})
    stubs.expect("savingsplans", "describe_savings_plans", {"savingsPlans": [
        {"savingsPlanId": "sp-1", "savingsPlanArn": "arn:aws:savingsplans::1:savingsplan/sp-1",
         "savingsPlanType": "Compute", "paymentOption": "No Upfront", "commitment": "2.5",
         "start": "2025-01-01T00:00:00Z", "end": "2028-01-01T00:00:00Z", "termDurationInSeconds": 94608000}],
        "nextToken": "n2"}, {"states": ["active", "queued", "payment-pending"]})
    stubs.expect("savingsplans", "describe_savings_plans", {"savingsPlans": []},
                 {"states": ["active", "queued", "payment-pending"], "nextToken": "n2"})
    stubs.expect("ec2", "describe_reserved_instances", {"ReservedInstances": [
        {"ReservedInstancesId": "ri-1", "InstanceType": "m5.large", "InstanceCount": 2, "Duration": 31536000,
         "FixedPrice": 0.0, "UsagePrice": 0.0, "OfferingType": "No Upfront",
         "RecurringCharges": [{"Amount": 0.05, "Frequency": "Hourly"}],
         "Start": datetime(2026, 1, 1), "End": datetime(2027, 1, 1)}]}, None)
    stubs.expect("rds", "describe_reserved_db_instances", {"ReservedDBInstances": [], "Marker": "m2"}, {})
    stubs.expect("rds", "describe_reserved_db_instances", {"ReservedDBInstances": [
        {"ReservedDBInstanceId": "rds-1", "DBInstanceClass": "db.r6g.large", "DBInstanceCount": 1,
         "Duration": 94608000, "FixedPrice": 2628.0, "UsagePrice": 0.0, "State": "active",
         "StartTime": datetime(2025, 6, 1), "OfferingType": "All Upfront", "RecurringCharges": []}]}, {"Marker": "m2"})
    for term in ("ONE_YEAR", "THREE_YEARS"):
        stubs.expect("ce", "get_savings_plans_purchase_recommendation", {
            "Metadata": {"RecommendationId": f"r-{term}", "GenerationTimestamp": "2026-11-26T00:00:00Z"},
            "SavingsPlansPurchaseRecommendation": {"SavingsPlansPurchaseRecommendationSummary": {
                "HourlyCommitmentToPurchase": "1.2", "EstimatedMonthlySavingsAmount": "300",
                "EstimatedSavingsPercentage": "22", "EstimatedROI": "30", "CurrentOnDemandSpend": "1400",
                "CurrencyCode": "USD"}}},
            {"SavingsPlansType": "COMPUTE_SP", "TermInYears": term, "PaymentOption": "NO_UPFRONT",
             "LookbackPeriodInDays": "THIRTY_DAYS"})
    result = run(home, stubs, "forecast,anomalies,commitments,recommendations", since=date(2026, 11, 20))
    stubs.done()
    assert result.ok, result.datasets
    assert result.ledger.requests == stubs.queued == 15
    assert result.ledger.cost == 0.10  # ten Cost Explorer calls; Savings Plans, EC2 and RDS are free
    commitments = next(d for d in result.datasets if d.name == "commitments")
    assert "Savings Plans utilization: no data" in commitments.note
    q = home.costs.query
    assert list(q("SELECT mean FROM aws_forecast ORDER BY month")["mean"]) == [100.0, 200.0]
    assert q("SELECT upper_bound FROM aws_forecast ORDER BY month")["upper_bound"].iloc[1] == 230.0
    anomalies = q("SELECT * FROM aws_anomalies ORDER BY anomaly_id")
    assert list(anomalies["anomaly_id"]) == ["an-0", "an-1", "an-2"]
    assert json.loads(anomalies["root_causes"].iloc[0])[0]["UsageType"] == "BoxUsage"
    usage = q("SELECT program, measure, pct FROM aws_commitment_usage ORDER BY 1, 2")
    assert usage.values.tolist() == [["reservations", "coverage", 75.0], ["reservations", "utilization", 95.0],
                                     ["savings_plans", "coverage", 60.0]]
    inv = q("SELECT commitment_id, type, hourly_commitment, term_years, end_date FROM commitment_inventory "
            "ORDER BY 1")
    by_id = {r.commitment_id: r for r in inv.itertuples()}
    assert by_id["ri-1"].hourly_commitment == pytest.approx(0.10)
    assert by_id["rds-1"].hourly_commitment == pytest.approx(0.1) and by_id["rds-1"].term_years == 3
    assert by_id["arn:aws:savingsplans::1:savingsplan/sp-1"].term_years == 3
    recs = q("SELECT term_years, monthly_savings FROM aws_recommendations ORDER BY 1")
    assert recs.values.tolist() == [[1, 300.0], [3, 300.0]]


@pytest.mark.parametrize(("service", "method", "only", "code", "expect"), [
    ("budgets", "describe_budgets", "budgets", "AccessDeniedException", "IAM action budgets:ViewBudget"),
    ("ce", "get_anomalies", "anomalies", "AccessDeniedException", "IAM action ce:GetAnomalies"),
    ("ce", "get_cost_forecast", "forecast", "BillExpirationException", "past the bills Cost Explorer keeps"),
    ("ce", "get_cost_forecast", "forecast", "DataUnavailableException", "no data for this period yet"),
])
def test_errors_are_explained(home, service, method, only, code, expect) -> None:
    stubs = Stubs()
    if service == "budgets":
        home.costs.set_meta({"aws_account_id": ACCOUNT, "aws_account_key": "|"})
    stubs.fail(service, method, code)
    result = run(home, stubs, only)
    assert result.datasets[0].status == "failed"
    assert expect in result.datasets[0].reason
    if "IAM action" in expect:
        assert "README" in result.datasets[0].reason


def test_expired_credentials_stop_the_sync_and_say_how_to_log_in(home) -> None:
    stubs = Stubs()
    stubs.fail("ce", "get_cost_forecast", "ExpiredTokenException")
    result = run(home, stubs, "forecast,anomalies,budgets")
    assert [d.status for d in result.datasets] == ["failed", "skipped", "skipped"]
    assert "aws sso login" in result.datasets[0].reason
    assert result.ledger.requests == 1


def test_missing_credentials_say_how_to_log_in(home, monkeypatch, tmp_path) -> None:
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    result = sync_aws(home, SyncOptions(only=("forecast", "budgets"), endpoint_url="http://127.0.0.1:9"))
    assert result.datasets[0].status == "failed" and "no AWS credentials found" in result.datasets[0].reason
    assert "aws sso login" in result.datasets[0].reason and result.datasets[1].status == "skipped"
    missing = sync_aws(home, SyncOptions(profile="nope", only=("forecast",)))
    assert "profile 'nope' is not configured" in missing.datasets[0].reason


def test_max_requests_stops_cleanly_before_exceeding(home) -> None:
    stubs = Stubs()
    # Two answers are queued (the Stubber checks parameters before our hook runs); only one is used.
    stubs.expect("ce", "get_savings_plans_purchase_recommendation", {"Metadata": {}}, None)
    stubs.expect("ce", "get_savings_plans_purchase_recommendation", {"Metadata": {}}, None)
    result = run(home, stubs, "recommendations,forecast", max_requests=1)
    assert result.ledger.requests == 1
    assert result.datasets[0].status == "failed" and "--max-requests 1" in result.datasets[0].reason
    assert result.datasets[1].status == "skipped"


def test_send_anomaly_feedback(home) -> None:
    stubs = Stubs()
    stubs.expect("ce", "provide_anomaly_feedback", {"AnomalyId": "an-1"},
                 {"AnomalyId": "an-1", "Feedback": "PLANNED_ACTIVITY"})
    ledger = send_anomaly_feedback("an-1", "planned_activity", store=home.costs, clients=stubs.clients)
    stubs.done()
    assert ledger.requests == 1 and ledger.cost == 0.01
    assert home.costs.meta("aws_requests_total") == "1"
    with pytest.raises(ValueError, match="YES, NO, PLANNED_ACTIVITY"):
        send_anomaly_feedback("an-1", "maybe", clients=stubs.clients)
    stubs.fail("ce", "provide_anomaly_feedback", "AccessDeniedException")
    with pytest.raises(AwsSyncError, match="IAM action ce:ProvideAnomalyFeedback was refused"):
        send_anomaly_feedback("an-1", "YES", clients=stubs.clients)


class _Throttling(BaseHTTPRequestHandler):
    throttle_first = 2
    seen = 0

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        type(self).seen += 1
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if type(self).seen <= type(self).throttle_first:
            body, status = {"__type": "ThrottlingException", "message": "Rate exceeded"}, 400
        else:
            body, status = {"Total": {"Amount": "1", "Unit": "USD"}, "ForecastResultsByTime": []}, 200
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/x-amz-json-1.1")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.mark.parametrize(("throttle_first", "ok"), [(1, True), (99, False)])
def test_throttling_retries_in_adaptive_mode(monkeypatch, throttle_first, ok) -> None:
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "2")
    handler = type("H", (_Throttling,), {"throttle_first": throttle_first, "seen": 0})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        clients = AwsClients(endpoint_url=f"http://127.0.0.1:{server.server_address[1]}")
        assert clients.client("ce").meta.config.retries["mode"] == "adaptive"
        args = {"TimePeriod": {"Start": "2026-11-27", "End": "2026-12-01"}, "Metric": "AMORTIZED_COST",
                "Granularity": "MONTHLY"}
        if ok:
            assert call(clients, "ce", "GetCostForecast", **args)["Total"]["Amount"] == "1"
        else:
            with pytest.raises(AwsSyncError, match="kept throttling"):
                call(clients, "ce", "GetCostForecast", **args)
        assert (clients.ledger.requests, clients.ledger.attempts, handler.seen) == (1, 2, 2)
    finally:
        server.shutdown()
