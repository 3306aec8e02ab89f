"""The installed command: own rules into the inbox from an imported FOCUS file, routed to owners, then
accept (an action), dismiss and snooze; bad input exits 2 and changes nothing."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
from datetime import date, timedelta
from pathlib import Path

import pytest

EXE = shutil.which("finops-tui")
# SQLite only: the inbox's records logic runs on both engines in tests/unit/test_inbox.py.
pytestmark = [pytest.mark.slow, pytest.mark.skipif(EXE is None, reason="finops-tui is not installed")]
MONTH = 365.0 / 12.0
# The FOCUS 1.0 mandatory columns no figure rests on, which an import requires all the same.
DESCRIPTIVE = ["BillingAccountName", "ChargeClass", "ChargeDescription", "ContractedCost", "InvoiceIssuerName",
               "ListCost", "PricingQuantity", "PricingUnit", "ProviderName", "PublisherName", "ServiceCategory",
               "ServiceName"]


def run(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FINOPS_TUI_TODAY": "2026-11-27", "FINOPS_TUI_USER": "ana"}
    return subprocess.run([EXE, "--home", str(home), *args], capture_output=True, text=True, env=env, timeout=120)


def _focus(path: Path, rows: list[tuple[str, str, str, float, str]]) -> None:
    """rows: (resource, usage type, account, daily cost, tags JSON) billed every day of October 2026."""
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["BillingAccountId", "ChargePeriodStart", "ChargePeriodEnd", "BillingPeriodStart",
                    "BillingPeriodEnd", "BilledCost", "EffectiveCost", "ChargeCategory", "BillingCurrency",
                    "SubAccountId", "ResourceId", "x_UsageType", "Tags", *DESCRIPTIVE])
        day = date(2026, 10, 1)
        while day < date(2026, 11, 1):
            for rid, usage, account, cost, tags in rows:
                w.writerow(["payer", f"{day}T00:00:00Z", f"{day + timedelta(days=1)}T00:00:00Z",
                            "2026-10-01T00:00:00Z", "2026-11-01T00:00:00Z", cost, cost, "Usage", "USD", account,
                            rid, usage, tags, "Acme", "", usage, cost, "Amazon Web Services, Inc.", cost, 24,
                            "Hours", "AWS", "Amazon Web Services", "Storage", "Amazon Elastic Block Store"])
            day += timedelta(days=1)


def test_inbox_from_own_rules_to_an_owned_action(tmp_path: Path) -> None:
    home = tmp_path / "h"
    for args in (["people", "add", "ana", "Ana", "--role", "FinOps lead"],
                 ["people", "add", "carl", "Carl", "--role", "engineering"],
                 ["people", "add", "dee", "Dee", "--role", "engineering"],
                 ["teams", "add", "web", "--owner", "carl"], ["teams", "add", "data", "--owner", "dee"],
                 ["teams", "accounts", "data", "--add", "222222222222"]):
        assert run(home, *args).returncode == 0
    bill = tmp_path / "bill.csv"
    _focus(bill, [("vol-1", "EUW1-EBS:VolumeUsage.gp3", "222222222222", 1.5, '{"team": "web"}'),
                  ("nat-1", "EUW1-NatGateway-Hours", "222222222222", 1.08, ""),
                  ("i-1", "EUW1-BoxUsage:m5.large", "222222222222", 2.3, "")])
    imported = run(home, "import", str(bill))
    assert imported.returncode == 0, imported.stderr
    out = run(home, "inbox", "refresh", "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["new"] == 2
    # A Data Exports recommendations file naming the same volume (by its ARN) and a Savings Plans purchase.
    recs = tmp_path / "cost-optimization-recommendations.csv"
    recs.write_text("account_id,action_type,currency_code,estimated_monthly_savings_after_discount,"
                    "estimated_monthly_savings_before_discount,implementation_effort,recommendation_id,"
                    "resource_arn,restart_needed\n"
                    "222222222222,Delete,USD,,44.5,VeryLow,r-1,arn:aws:ec2:eu-west-1:222222222222:volume/vol-1,false\n"
                    "222222222222,PurchaseSavingsPlans,USD,300,300,Low,r-2,arn:aws:savingsplans::222222222222:x,false\n")
    out = run(home, "import", str(recs), "--json")
    assert out.returncode == 0, out.stderr
    assert {k: json.loads(out.stdout)[k] for k in ("rows", "purchases_for_commitment_review")} == {
        "rows": 2, "purchases_for_commitment_review": 1}

    listed = json.loads(run(home, "inbox", "--json").stdout)
    items = {i["resource_id"]: i for i in listed["items"]}
    assert set(items) == {"vol-1", "nat-1"}
    assert {k: items["vol-1"][k] for k in ("source", "sources", "action_type", "account", "owner", "team",
                                           "effort", "restart_needed", "status")} == {
        "source": "data_exports", "sources": ["data_exports", "rules"], "action_type": "delete",
        "account": "222222222222", "owner": "carl", "team": "web", "effort": "very_low", "restart_needed": False,
        "status": "open"}
    assert items["vol-1"]["estimated_monthly_savings"] == 44.5  # AWS's figure over the rules' 1.5 a day
    assert (items["nat-1"]["team"], items["nat-1"]["owner"]) == ("data", "dee")
    assert items["nat-1"]["estimated_monthly_savings"] == round(1.08 * MONTH, 2)
    assert [i["resource_id"] for i in listed["items"]] == ["vol-1", "nat-1"]  # largest saving first
    assert [i["resource_id"] for i in json.loads(run(home, "inbox", "--team", "data", "--json").stdout)["items"]] == [
        "nat-1"]

    bad = run(home, "inbox", "accept", str(items["vol-1"]["id"]), "--due", "2026-11-01")
    assert bad.returncode == 2 and "in the past" in bad.stderr
    accepted = run(home, "inbox", "accept", str(items["vol-1"]["id"]), "--owner", "carl", "--due", "2026-12-15",
                   "--json")
    assert accepted.returncode == 0, accepted.stderr
    action_id = json.loads(accepted.stdout)["action_id"]
    action = json.loads(run(home, "actions", "show", str(action_id), "--json").stdout)
    assert (action["kind"], action["owner"], action["due_date"]) == ("cleanup", "carl", "2026-12-15")
    assert action["expected_monthly_savings"] == 44.5

    assert run(home, "inbox", "dismiss", str(items["nat-1"]["id"]), "--reason", "").returncode == 2
    assert run(home, "inbox", "snooze", str(items["nat-1"]["id"]), "--until", "someday").returncode == 2
    assert run(home, "inbox", "snooze", str(items["nat-1"]["id"]), "--until", "2026-12-01").returncode == 0
    assert json.loads(run(home, "inbox", "--json").stdout)["items"] == []
    assert run(home, "inbox", "dismiss", str(items["nat-1"]["id"]), "--reason", "shared egress").returncode == 0
    every = json.loads(run(home, "inbox", "--all", "--json").stdout)["items"]
    assert sorted((i["resource_id"], i["status"]) for i in every) == [("nat-1", "dismissed"), ("vol-1", "accepted")]
    assert run(home, "inbox", "accept", "999").returncode == 2
