"""Showback: the split methods, teams without direct spend, credits, cents that add up, and which rows
are shared when read from a real cost store."""

from __future__ import annotations

import random
from datetime import date

import pandas as pd
import pytest

from rituals.showback import (
    ShowbackInputs,
    build_showback,
    largest_remainder_cents,
    last_complete_month,
    monthly_showbacks,
    parse_month,
    showback,
    split_shared,
)
from storage.config import load_config
from storage.costs import CostStore
from storage.loader import Staging


def _lines(sb):
    return {t.team: (t.direct, t.shared, t.total) for t in sb.teams}


def test_proportional_split_follows_direct_spend() -> None:
    sb = build_showback("2026-10", "USD", {"a": 300.0, "b": 100.0}, {"unallocated": 100.0}, 500.0,
                        method="proportional", teams=["a", "b"])
    assert _lines(sb) == {"a": (300.0, 75.0, 375.0), "b": (100.0, 25.0, 125.0)}
    assert sb.total == 500.0 and sb.billed_total == 500.0
    assert [t.share_pct for t in sb.teams] == [75.0, 25.0]


def test_even_split_reaches_a_team_with_no_direct_spend() -> None:
    sb = build_showback("2026-10", "USD", {"a": 300.0}, {"support": 90.0}, 390.0, method="even",
                        teams=["a", "b", "c"])
    assert _lines(sb) == {"a": (300.0, 30.0, 330.0), "b": (0.0, 30.0, 30.0), "c": (0.0, 30.0, 30.0)}


def test_proportional_gives_nothing_to_a_team_with_no_direct_spend_but_lists_it() -> None:
    sb = build_showback("2026-10", "USD", {"a": 300.0}, {"support": 90.0}, 390.0, method="proportional",
                        teams=["a", "b"])
    assert _lines(sb) == {"a": (300.0, 90.0, 390.0), "b": (0.0, 0.0, 0.0)}


def test_fixed_split_uses_the_percentages() -> None:
    sb = build_showback("2026-10", "USD", {"a": 100.0, "b": 100.0}, {"shared_account": 200.0}, 400.0,
                        method="fixed", fixed_pct={"a": 25.0, "b": 50.0, "c": 25.0}, teams=["a", "b"])
    assert _lines(sb) == {"a": (100.0, 50.0, 150.0), "b": (100.0, 100.0, 200.0), "c": (0.0, 50.0, 50.0)}


def test_negative_credits_net_out_and_still_sum() -> None:
    # a: its own credit; the shared pool is a credit too (an untagged promotional credit).
    sb = build_showback("2026-10", "USD", {"a": -50.0, "b": 250.0}, {"untaggable": -100.0, "support": 40.0},
                        100.0, method="proportional", teams=["a", "b"])
    lines = _lines(sb)
    assert lines["a"] == (-50.0, 0.0, -50.0)  # no positive direct spend: no share of the pool
    assert lines["b"] == (250.0, -60.0, 190.0)
    assert sum(t.total for t in sb.teams) == pytest.approx(140.0) and sb.total == 140.0


def test_largest_remainder_sums_to_the_cent() -> None:
    sb = build_showback("2026-10", "USD", {"a": 10.0, "b": 10.0, "c": 10.0}, {"unallocated": 0.01}, 30.01,
                        method="even", teams=["a", "b", "c"])
    cents = sorted(round(t.total * 100) for t in sb.teams)
    assert cents == [1000, 1000, 1001]
    rng = random.Random(3)
    for _ in range(300):
        n = rng.randint(1, 9)
        direct = {f"t{i}": rng.uniform(-50, 5000) for i in range(n)}
        shared = {"unallocated": rng.uniform(-100, 3000), "support": rng.uniform(0, 99.999)}
        method = rng.choice(["proportional", "even"])
        sb = build_showback("2026-10", "USD", direct, shared, 0.0, method=method, teams=list(direct))
        month_cents = round((sum(direct.values()) + sum(shared.values())) * 100)
        assert sum(round(t.total * 100) for t in sb.teams) == month_cents
        for t in sb.teams:
            assert round(t.direct * 100) + round(t.shared * 100) == round(t.total * 100)
        assert sum(round(t.direct * 100) for t in sb.teams) == round(sum(direct.values()) * 100)


def test_largest_remainder_gives_cents_to_the_largest_remainders() -> None:
    assert largest_remainder_cents({"a": 0.333, "b": 0.333, "c": 0.334}, 100) == {"a": 33, "b": 33, "c": 34}
    assert largest_remainder_cents({"a": -1.005, "b": 2.0}, 100) == {"a": -100, "b": 200}


def test_split_refuses_unknown_methods_and_an_empty_fixed_table() -> None:
    with pytest.raises(ValueError, match="unknown"):
        split_shared({"a": 1.0}, 1.0, "weighted")
    with pytest.raises(ValueError, match="fixed_pct"):
        split_shared({"a": 1.0}, 1.0, "fixed", {})


def test_months() -> None:
    assert parse_month("2026-02") == date(2026, 2, 1)
    assert last_complete_month(date(2026, 1, 15)) == date(2025, 12, 1)
    for bad in ("2026-13", "2026-2", "26-02", ""):
        with pytest.raises(ValueError, match="YYYY-MM"):
            parse_month(bad)


@pytest.fixture
def tiny_store(tmp_path) -> CostStore:
    rows = [
        # (day, account, service, category, tags, effective, billed)
        ("2026-10-03", "acc-a", "EC2", "Usage", '{"team": "a"}', 100.0, 110.0),  # tag -> a
        ("2026-10-04", "acc-b", "EC2", "Usage", None, 50.0, 50.0),  # rule: acc-b owned by b
        ("2026-10-05", "acc-x", "S3", "Usage", None, 30.0, 30.0),  # unallocated
        ("2026-10-06", "acc-shared", "EKS", "Usage", '{"team": "a"}', 20.0, 20.0),  # shared account wins
        ("2026-10-01", "acc-a", "AWS Support (Business)", "Usage", None, 12.0, 12.0),  # support
        ("2026-10-09", "acc-b", "Credit", "Credit", None, -40.0, -40.0),  # untaggable credit
        ("2026-10-10", "acc-x", "EC2", "Credit", '{"team": "b"}', -5.0, -5.0),  # a tagged credit is direct
        ("2026-11-01", "acc-a", "EC2", "Usage", '{"team": "a"}', 999.0, 999.0),  # another month
    ]
    frame = pd.DataFrame(rows, columns=["ChargePeriodStart", "SubAccountId", "ServiceName", "ChargeCategory",
                                        "Tags", "EffectiveCost", "BilledCost"])
    frame["ChargePeriodStart"] = pd.to_datetime(frame["ChargePeriodStart"])
    frame["BillingAccountId"] = "payer"
    store = CostStore(tmp_path / "costs.duckdb", load_config(None).taxonomy)
    with Staging(store) as st:
        st.append_frame(frame, "hand.csv")
        st.commit(source="hand.csv")
    return store


def test_store_rows_become_direct_or_shared(tiny_store: CostStore) -> None:
    inputs = ShowbackInputs({"acc-a": "a", "acc-b": "b"}, ["a", "b"], "USD", "even", {}, ("acc-shared",))
    oct_ = date(2026, 10, 1)
    sb = monthly_showbacks(tiny_store, inputs, oct_, date(2026, 11, 1))[oct_]
    assert sb.shared_by_reason == {"shared_account": 20.0, "support": 12.0, "untaggable": -40.0,
                                   "unallocated": 30.0}
    # shared 22.0 split evenly: 11 each
    assert _lines(sb) == {"a": (100.0, 11.0, 111.0), "b": (45.0, 11.0, 56.0)}
    assert sb.total == 167.0 and sb.billed_total == 177.0


def test_demo_showback_sums_to_the_month(demo_home, demo_truth) -> None:
    sb = showback(demo_home, date(2026, 10, 1))
    assert sb.total == round(demo_truth.monthly_totals["2026-10"], 2)
    assert round(sum(t.total for t in sb.teams), 2) == sb.total
    assert {t.team for t in sb.teams} >= {"platform", "payments", "ml-inference"}
    assert sb.shared_by_reason["shared_account"] > 0 and sb.shared_by_reason["unallocated"] > 0
