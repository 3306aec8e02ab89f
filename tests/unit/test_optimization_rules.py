"""The inbox's own rules, each on a tiny hand-made store: which resources it finds and the saving it
estimates, computed here from the rows written (run rate = last 7 days' cost / 7 x 365/12)."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import pytest

from rituals import optimization_rules as rules
from storage.config import Taxonomy
from storage.costs import CostStore
from storage.loader import Staging

MONTH = 365.0 / 12.0
LATEST = date(2026, 11, 30)


def _rows(resource: str, usage_type: str, first: date, last: date, daily: float, quantity: float | None = None,
          account: str = "111122223333", recent_daily: float | None = None) -> list[dict]:
    out, day = [], first
    while day <= last:
        cost = recent_daily if recent_daily is not None and day > LATEST - timedelta(days=7) else daily
        out.append({"ChargePeriodStart": pd.Timestamp(day), "EffectiveCost": cost, "BilledCost": cost,
                    "ChargeCategory": "Usage", "ResourceId": resource, "x_UsageType": usage_type,
                    "SubAccountId": account, "RegionId": "eu-west-1", "ConsumedQuantity": quantity,
                    "BillingAccountId": "payer", "BillingCurrency": "USD", "Tags": None})
        day += timedelta(days=1)
    return out


NOV = date(2026, 11, 1)
CASES = [
    # an unattached volume whose cost doubled in the last week: the run rate follows the last 7 days
    *_rows("vol-unattached", "EUW1-EBS:VolumeUsage.gp3", NOV, LATEST, 1.0, recent_daily=2.0),
    *_rows("vol-short", "EUW1-EBS:VolumeUsage.gp3", date(2026, 11, 21), LATEST, 1.0),  # 10 days: too few
    *_rows("vol-gp2-busy", "EUW1-EBS:VolumeUsage.gp2", NOV, LATEST, 2.0),
    *_rows("vol-gp2-busy", "EUW1-EBS:VolumeIOUsage", NOV, LATEST, 0.1, quantity=1000),
    *_rows("vol-gp2-idle", "EUW1-EBS:VolumeUsage.gp2", NOV, LATEST, 3.0),  # deleted, so not also upgraded
    *_rows("vol-gone", "EUW1-EBS:VolumeUsage.gp3", NOV, date(2026, 11, 15), 1.0),  # no longer billed
    *_rows("snap-old", "EUW1-EBS:SnapshotUsage", date(2026, 7, 1), LATEST, 0.5),
    *_rows("snap-new", "EUW1-EBS:SnapshotUsage", date(2026, 10, 15), LATEST, 0.5),
    *_rows("i-old", "EUW1-BoxUsage:m4.large", NOV, LATEST, 2.4),
    *_rows("i-new", "EUW1-BoxUsage:m5.large", NOV, LATEST, 2.3),
    *_rows("nat-idle", "EUW1-NatGateway-Hours", NOV, LATEST, 1.08),
    *_rows("nat-busy", "EUW1-NatGateway-Hours", NOV, LATEST, 1.08),
    *_rows("nat-busy", "EUW1-NatGateway-Bytes", NOV, LATEST, 0.2, quantity=4.0),
    *_rows("lb-idle", "EUW1-LoadBalancerUsage", NOV, LATEST, 0.6),
    *_rows("lb-busy", "EUW1-LoadBalancerUsage", NOV, LATEST, 0.6),
    *_rows("lb-busy", "EUW1-LCUUsage", NOV, LATEST, 0.3, quantity=10.0),
    *_rows("eip-1", "EUW1-ElasticIP:IdleAddress", NOV, LATEST, 0.12),
]


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> CostStore:
    s = CostStore(tmp_path_factory.mktemp("rules") / "costs.duckdb", Taxonomy())
    with Staging(s) as staging:
        staging.append_frame(pd.DataFrame(CASES), "test")
        staging.commit(replace_all=True)
    return s


def _found(store: CostStore, **params) -> dict[tuple[str, str], float]:
    _, found = rules.own_recommendations(store, params)
    return {(c.detail["rule"], c.resource_id): c.estimated_monthly_savings for c in found}


def test_each_rule_finds_its_resources_with_the_stated_saving(store) -> None:
    found = _found(store)
    assert found == pytest.approx({
        ("unattached_ebs", "vol-unattached"): 2.0 * MONTH,
        ("unattached_ebs", "vol-gp2-idle"): 3.0 * MONTH,
        ("gp2_volume", "vol-gp2-busy"): 0.2 * 2.0 * MONTH,  # the gp2 storage part only, not its I/O
        ("old_snapshot", "snap-old"): 0.5 * MONTH,
        ("previous_generation", "i-old"): 0.1 * 2.4 * MONTH,
        ("idle_nat_gateway", "nat-idle"): 1.08 * MONTH,
        ("idle_load_balancer", "lb-idle"): 0.6 * MONTH,
        ("idle_address", "eip-1"): 0.12 * MONTH,
    })


def test_parameters_come_from_the_waste_table(store) -> None:
    found = _found(store, snapshot_age_days=200, unattached_days=5, gp2_to_gp3_saving_share=0.25)
    assert ("old_snapshot", "snap-old") not in found  # 153 days old now counts as young
    assert found[("unattached_ebs", "vol-short")] == pytest.approx(1.0 * MONTH)
    assert found[("gp2_volume", "vol-gp2-busy")] == pytest.approx(0.25 * 2.0 * MONTH)


def test_every_rule_says_how_it_estimates_and_what_it_recommends(store) -> None:
    window, found = rules.own_recommendations(store, {})
    assert window is not None and (window.start, window.end) == (date(2026, 11, 1), date(2026, 12, 1))
    for c in found:
        assert c.source == "rules" and c.detail["estimate"] and c.detail["finds"]
        assert "{" not in c.detail["finds"] + c.detail["estimate"]  # every parameter filled in
    by_rule = {c.detail["rule"]: c for c in found}
    assert (by_rule["previous_generation"].action_type, by_rule["previous_generation"].restart_needed) == (
        "upgrade", True)
    assert by_rule["idle_nat_gateway"].action_type == "delete"


def test_like_patterns() -> None:
    assert rules.matches("USE1-EBS:VolumeUsage.gp2", ["%ebs:volumeusage%"])
    assert not rules.matches("EBS:VolumeIOUsage", ["%EBS:VolumeUsage%"])
    assert rules.instance_family("APN1-BoxUsage:c4.xlarge") == "c4"


def test_no_data_no_recommendations(tmp_path) -> None:
    assert rules.own_recommendations(CostStore(tmp_path / "none.duckdb", Taxonomy()), {}) == (None, [])
