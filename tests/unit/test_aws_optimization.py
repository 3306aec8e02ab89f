"""The sync's optimization data set against botocore's Stubber (requests and responses checked against the
real Cost Optimization Hub and Compute Optimizer models; moto emulates neither): paging, the requests
counted, purchases kept apart for the commitment review, de-duplication across the two services in the
inbox, and a missing enrolment said with the command to enrol."""

from __future__ import annotations

from datetime import UTC, datetime

from rituals import inbox
from storage import cost_queries
from storage.sources.aws import parse_only
from tests.unit.test_aws_sync import Stubs, fake_credentials, run  # noqa: F401 - the fixture is autouse

AT = datetime(2026, 11, 26, 4, 0, tzinfo=UTC)
ENROLLED = {"items": [{"accountId": "111122223333", "status": "Active"}]}


def hub_item(rid: str, action: str, resource: str, saving: float, **kw) -> dict:
    return {"recommendationId": rid, "accountId": "111122223333", "region": "eu-west-1", "resourceId": resource,
            "resourceArn": f"arn:aws:ec2:eu-west-1:111122223333:thing/{resource}", "actionType": action,
            "currentResourceType": kw.pop("rtype", "Ec2Instance"), "estimatedMonthlySavings": saving,
            "estimatedMonthlyCost": saving * 2, "currencyCode": "USD", "implementationEffort": "Low",
            "restartNeeded": True, "rollbackPossible": True, "currentResourceSummary": "m5.2xlarge",
            "recommendedResourceSummary": "m5.xlarge", "lastRefreshTimestamp": AT,
            "recommendationLookbackPeriodInDays": 14, "source": "ComputeOptimizer", **kw}


def idle_item(resource: str, rtype: str, saving: float) -> dict:
    return {"resourceArn": f"arn:aws:ec2:eu-west-1:111122223333:{rtype.lower()}/{resource}",
            "resourceId": resource, "resourceType": rtype, "accountId": "111122223333", "finding": "Unattached",
            "findingDescription": "no attachment for 32 days", "lookBackPeriodInDays": 32.0,
            "savingsOpportunity": {"savingsOpportunityPercentage": 100.0,
                                   "estimatedMonthlySavings": {"currency": "USD", "value": saving}},
            "lastRefreshTimestamp": AT}


def test_optimization_syncs_both_services_and_feeds_the_inbox(home) -> None:
    assert parse_only("optimization") == ("optimization",) and "optimization" not in parse_only(None)
    stubs = Stubs()
    stubs.expect("cost-optimization-hub", "list_enrollment_statuses", ENROLLED, {})
    stubs.expect("cost-optimization-hub", "list_recommendations",
                 {"items": [hub_item("h1", "Rightsize", "i-1", 61.2), hub_item("h2", "Delete", "vol-1", 8.0,
                                                                              rtype="EbsVolume")],
                  "nextToken": "p2"}, {"maxResults": 1000})
    stubs.expect("cost-optimization-hub", "list_recommendations",
                 {"items": [hub_item("h3", "PurchaseSavingsPlans", "sp-offer", 900.0, rtype="ComputeSavingsPlans")]},
                 {"maxResults": 1000, "nextToken": "p2"})
    stubs.expect("compute-optimizer", "get_idle_recommendations",
                 {"idleRecommendations": [idle_item("vol-1", "EBSVolume", 7.5), idle_item("nat-1", "NatGateway", 32.4)],
                  "errors": []}, {"maxResults": 1000})
    result = run(home, stubs, "optimization")
    stubs.done()
    [ds] = result.datasets
    assert (ds.status, ds.rows, ds.requests, ds.note) == ("ok", 5, 4, None)
    assert (result.ledger.count("cost-optimization-hub"), result.ledger.count("compute-optimizer"),
            result.ledger.cost) == (3, 1, 0.0)  # free APIs: counted, not priced
    assert home.costs.meta("optimization_synced_at:cost_optimization_hub") is not None

    for source in ("cost_optimization_hub", "compute_optimizer"):
        inbox.refresh_from_store(home.records, home.costs, source, AT)
    with home.records.session() as s:
        got = {(i.action_type, i.resource_id): (i.sources, i.estimated_monthly_savings)
               for i in inbox.items(s, AT.date())}
    assert got == {("rightsize", "i-1"): (("cost_optimization_hub",), 61.2),
                   ("delete", "vol-1"): (("cost_optimization_hub", "compute_optimizer"), 8.0),
                   ("delete", "nat-1"): (("compute_optimizer",), 32.4)}
    purchases = cost_queries.optimization_purchases(home.costs)
    assert purchases is not None and [p["recommendation_id"] for p in purchases] == ["h3"]


def test_missing_enrolments_name_the_command_to_enrol(home) -> None:
    stubs = Stubs()
    stubs.expect("cost-optimization-hub", "list_enrollment_statuses",
                 {"items": [{"accountId": "111122223333", "status": "Inactive"}]}, {})
    stubs.fail("compute-optimizer", "get_idle_recommendations", "OptInRequiredException")
    result = run(home, stubs, "optimization")
    stubs.done()
    [ds] = result.datasets
    assert ds.status == "failed" and not result.ok
    assert "aws cost-optimization-hub update-enrollment-status --status Active" in ds.reason
    assert "aws compute-optimizer update-enrollment-status --status Active" in ds.reason


def test_one_service_enrolled_lands_and_the_other_is_named(home) -> None:
    stubs = Stubs()
    stubs.expect("cost-optimization-hub", "list_enrollment_statuses", ENROLLED, {})
    stubs.expect("cost-optimization-hub", "list_recommendations", {"items": [hub_item("h1", "Stop", "i-2", 5.0)]},
                 {"maxResults": 1000})
    stubs.fail("compute-optimizer", "get_idle_recommendations", "OptInRequiredException")
    result = run(home, stubs, "optimization")
    [ds] = result.datasets
    assert (ds.status, ds.rows) == ("ok", 1)
    assert "aws compute-optimizer update-enrollment-status" in ds.note
