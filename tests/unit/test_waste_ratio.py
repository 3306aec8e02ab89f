"""The quarterly waste / idle ratio over the quarter's last complete month, equal to a hand computation:
(unused commitment + the waste rules' findings + open inbox savings on resources no rule counted) / spend."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pandas as pd
import pytest

from rituals import inbox
from rituals.kpis import last_complete_month, measure_quarters
from rituals.recommendations import Candidate
from storage.loader import Staging


def _rows(rid: str, usage: str, first: date, last: date, daily: float) -> list[dict]:
    out, d = [], first
    while d <= last:
        out.append({"ChargePeriodStart": pd.Timestamp(d), "EffectiveCost": daily, "BilledCost": daily,
                    "ChargeCategory": "Usage", "ResourceId": rid, "x_UsageType": usage, "SubAccountId": "111",
                    "BillingAccountId": "payer", "BillingCurrency": "USD", "Tags": None})
        d += timedelta(days=1)
    return out


def test_waste_ratio_by_hand(home) -> None:
    aug, sep, end = date(2026, 8, 1), date(2026, 9, 1), date(2026, 9, 30)
    with Staging(home.costs) as staging:
        staging.append_frame(pd.DataFrame(
            _rows("i-9", "EUW1-BoxUsage:m5.large", aug, end, 10.0)  # August must not count
            + _rows("eip-1", "EUW1-ElasticIP:IdleAddress", sep, end, 0.12)
            + _rows("lb-1", "EUW1-LoadBalancerUsage", sep, end, 0.6)), "test")
        staging.commit(replace_all=True)
    now = datetime(2026, 11, 27, tzinfo=UTC)
    inbox.refresh_source(home.records, None, "rules", [
        Candidate("rules", "delete", "lb-1", 18.25, "111"),  # the idle load balancer rule counts it already
        Candidate("rules", "delete", "vol-7", 40.0, "111")], now)
    m = measure_quarters(home, ["2026-Q3"])["2026-Q3"]["waste_ratio_pct"]
    spend = 30 * (10.0 + 0.12 + 0.6)
    waste = 30 * 0.12 + 30 * 0.6 + 40.0  # unused commitment 0: the store holds none
    assert m.value == pytest.approx(waste / spend * 100.0, abs=0.01)
    assert m.detail["month"] == "2026-09" and "/ spend, for 2026-09" in m.detail["formula"]
    by_rule = {r["rule"]: r["cost"] for r in m.detail["rules"]}
    assert by_rule["open_inbox"] == 40.0 and by_rule["idle_load_balancers"] == pytest.approx(18.0)


def test_last_complete_month() -> None:
    q3 = (date(2026, 7, 1), date(2026, 10, 1))
    assert last_complete_month(*q3, date(2026, 11, 27)) == (date(2026, 9, 1), date(2026, 10, 1))
    assert last_complete_month(*q3, date(2026, 9, 15)) == (date(2026, 8, 1), date(2026, 9, 1))
    assert last_complete_month(*q3, date(2026, 7, 20)) is None
