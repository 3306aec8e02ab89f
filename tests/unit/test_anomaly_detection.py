"""The anomaly detector on hand-made series: flat, spikes, weekly patterns, level shifts, short series,
merging of consecutive days, and root causes ranked by their dollar contribution."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rituals.anomalies import Thresholds, case_id, detect, routed_team, trailing_median

START = date(2026, 1, 5)  # a Monday


def frame(values, dimension: str = "service", value: str = "Amazon EC2", start: date = START) -> pd.DataFrame:
    return pd.DataFrame({"dimension": dimension, "value": value,
                         "day": [start + timedelta(days=i) for i in range(len(values))],
                         "cost": np.asarray(values, dtype=float)})


def weekly(n: int, weekday: float = 1000.0, weekend: float = 300.0, noise: float = 0.0, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    base = np.array([weekend if (START + timedelta(days=i)).weekday() >= 5 else weekday for i in range(n)])
    return base * (1 + rng.normal(0, noise, n)) if noise else base


def test_a_flat_series_never_alarms():
    assert detect(frame(np.full(200, 500.0))) == []


def test_a_noisy_weekly_pattern_alone_does_not_alarm():
    # Weekends at 30% of weekdays would alarm every Monday against a plain trailing median.
    assert detect(frame(weekly(300, noise=0.05))) == []


def test_a_spike_alarms_with_its_window_and_figures():
    values = weekly(120, noise=0.03)
    values[60] += 2000.0
    found = detect(frame(values))
    assert len(found) == 1
    a = found[0]
    assert (a.start, a.end, a.days) == (START + timedelta(days=60), START + timedelta(days=61), 1)
    assert a.impact == pytest.approx(2000.0, rel=0.1)
    assert a.impact_pct > 100
    assert a.actual_cost == pytest.approx(values[60], abs=0.01)


def test_an_excess_below_either_threshold_does_not_alarm():
    values = np.full(100, 100.0)
    values[50] = 190.0  # +90%: above 40% but only 90 of money
    assert detect(frame(values)) == []
    big = np.full(100, 10_000.0)
    big[50] = 13_000.0  # +3000 of money but only 30%
    assert detect(frame(big)) == []
    assert len(detect(frame(big), Thresholds(min_impact_pct=25.0))) == 1


def test_consecutive_days_merge_into_one_anomaly():
    values = np.full(100, 400.0)
    values[40:45] += 600.0
    values[47] += 600.0  # a gap day: a second anomaly
    found = sorted(detect(frame(values)), key=lambda a: a.start)
    assert [(a.start, a.days) for a in found] == [(START + timedelta(days=40), 5), (START + timedelta(days=47), 1)]
    assert found[0].impact == pytest.approx(3000.0)
    assert found[0].expected_cost == pytest.approx(2000.0)


def test_a_level_shift_alarms_once_then_becomes_the_new_normal():
    values = np.concatenate([weekly(100, 1000, 600, noise=0.02), weekly(200, 2500, 1500, noise=0.02, seed=2)])
    found = detect(frame(values))
    assert len(found) == 1
    a = found[0]
    assert a.start == START + timedelta(days=100)
    assert a.end <= START + timedelta(days=100 + 28)  # gone once the baseline holds the new level
    assert not a.ongoing


def test_series_shorter_than_the_history_stay_quiet():
    values = np.full(13, 100.0)
    values[-1] = 5000.0
    assert detect(frame(values)) == []
    # A series that starts late gets its own 14 days, whatever the other series' history.
    late = np.concatenate([np.zeros(60), np.full(10, 300.0), [3000.0]])
    both = pd.concat([frame(np.full(71, 200.0), value="old"), frame(late, value="young")])
    assert detect(both) == []
    assert len(detect(both, Thresholds(min_history_days=7))) == 1


def test_only_increases_alarm_and_each_series_alone():
    values = np.full(100, 1000.0)
    values[50:60] = 100.0
    spiky = np.full(100, 1000.0)
    spiky[70] = 5000.0
    found = detect(pd.concat([frame(values, value="drop"), frame(spiky, "account", "111")]))
    assert [(a.dimension, a.value) for a in found] == [("account", "111")]


def test_an_ongoing_anomaly_runs_to_the_last_day():
    values = np.full(50, 300.0)
    values[-2:] += 900.0
    (a,) = detect(frame(values))
    assert a.ongoing and a.end == START + timedelta(days=50)


def test_case_ids_are_stable_and_distinct():
    a = case_id("service", "Amazon EC2", date(2026, 5, 1))
    assert a == case_id("service", "Amazon EC2", date(2026, 5, 1))
    assert a != case_id("account", "Amazon EC2", date(2026, 5, 1))
    assert a != case_id("service", "Amazon EC2", date(2026, 5, 2))
    assert a.startswith("an-20260501-")


def _rows(days: int, start: date, window: tuple[int, int], tagged: bool = True) -> pd.DataFrame:
    """FOCUS rows of three resources at a steady spend; in the window r-big adds 500 a day and r-small 50."""
    import json

    rows = []
    for i in range(days):
        d = start + timedelta(days=i)
        hot = window[0] <= i < window[1]
        for rid, acct, svc, team, base, extra in (("r-big", "A1", "EC2", "web", 100.0, 500.0),
                                                  ("r-small", "A2", "S3", "data", 80.0, 50.0),
                                                  ("r-flat", "A2", "EC2", None, 60.0, 0.0)):
            rows.append({"ChargePeriodStart": pd.Timestamp(d), "ChargeCategory": "Usage", "BillingCurrency": "USD",
                         "SubAccountId": acct, "ServiceName": svc, "RegionId": "us-east-1", "ResourceId": rid,
                         "Tags": json.dumps({"team": team}) if team and tagged else None,
                         "EffectiveCost": base + (extra if hot else 0.0)})
    return pd.DataFrame(rows)


def _causes(tmp_path, rows: pd.DataFrame, account_teams: dict[str, str], dimension: str = "total",
            value: str = "total") -> list[dict]:
    """The root causes of one case over days 28-31, through a real cost store (the named query)."""
    from rituals.anomalies import Detected, attach_root_causes
    from storage.config import load_config
    from storage.costs import CostStore
    from storage.loader import Staging

    store = CostStore(tmp_path / "costs.duckdb", load_config(None).taxonomy)
    with Staging(store) as staging:
        staging.append_frame(rows, "test")
        staging.commit()
    case = Detected(dimension, value, START + timedelta(days=28), START + timedelta(days=31), 0.0, 0.0, 0.0)
    attach_root_causes(store, account_teams, [case])
    return case.root_causes


def test_root_causes_are_ranked_by_dollar_contribution(tmp_path):
    causes = _causes(tmp_path, _rows(35, START, (28, 31)), {})
    by_dim = {d: [c for c in causes if c["dimension"] == d] for d in ("account", "service", "resource", "region")}
    # Expected by hand: r-big's excess is 3 days x 500 over its own 100 a day baseline; r-small 3 x 50.
    assert [c["value"] for c in by_dim["resource"]] == ["r-big", "r-small"]  # r-flat contributed nothing
    assert by_dim["resource"][0]["contribution"] == pytest.approx(1500.0)
    assert by_dim["resource"][1]["contribution"] == pytest.approx(150.0)
    assert [c["value"] for c in by_dim["account"]] == ["A1", "A2"]
    assert by_dim["region"][0]["contribution"] == pytest.approx(1650.0)
    assert by_dim["region"][0]["share_pct"] == pytest.approx(100.0)
    assert causes == sorted(causes, key=lambda c: -c["contribution"])
    assert by_dim["resource"][0]["team"] == "web"
    # Equal contributions keep the dimension order: the account before the service, region, resource.
    assert [c["dimension"] for c in causes if c["contribution"] == 1650.0] == ["region"]
    assert [c["dimension"] for c in causes[:3]] == ["region", "account", "service"]


def test_a_case_reads_only_its_own_series(tmp_path):
    # The S3 case sees only S3's excess (3 x 50); the EC2 case only EC2's (3 x 500, r-flat adds nothing).
    rows = _rows(35, START, (28, 31))
    s3 = _causes(tmp_path / "s3", rows, {}, "service", "S3")
    assert {c["dimension"]: c["value"] for c in s3 if c["dimension"] in ("resource", "account")} == {
        "resource": "r-small", "account": "A2"}
    assert max(c["contribution"] for c in s3) == pytest.approx(150.0)
    ec2 = _causes(tmp_path / "ec2", rows, {}, "service", "EC2")
    assert [c["value"] for c in ec2 if c["dimension"] == "resource"] == ["r-big"]
    assert max(c["contribution"] for c in ec2) == pytest.approx(1500.0)


def test_routing_follows_the_top_resource_then_the_account(tmp_path):
    causes = _causes(tmp_path / "tagged", _rows(35, START, (28, 31)), {})
    assert routed_team(causes, "total", "total", {}) == "web"
    untagged = _causes(tmp_path / "untagged", _rows(35, START, (28, 31), tagged=False), {})
    assert routed_team(untagged, "total", "total", {"A1": "platform"}) == "platform"
    assert routed_team([], "team", "search", {}) == "search"
    assert routed_team([], "account", "A9", {"A9": "data"}) == "data"
    assert routed_team([], "service", "EC2", {}) is None


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 5), st.integers(1, 80), st.integers(0, 2**32 - 1), st.floats(0.0, 0.9))
def test_the_trailing_median_is_pandas_rolling_median_shifted_by_a_day(n_series, n_days, seed, nan_share) -> None:
    """The noise guard's spread (numpy) equals pandas' rolling(28, min_periods=7).median().shift(1), which it
    replaced, exactly, with unknown (NaN) days anywhere and repeated values."""
    rng = np.random.default_rng(seed)
    values = rng.choice([0.0, 1.5, 2.0, 10.0, 1e6], size=(n_series, n_days)) + rng.normal(0, 1, (n_series, n_days))
    values[rng.random((n_series, n_days)) < nan_share] = np.nan
    want = pd.DataFrame(values.T).rolling(28, min_periods=7).median().shift(1).to_numpy().T
    got = trailing_median(values, 28, min_count=7, block=2)
    np.testing.assert_array_equal(got, want)


def test_detect_reads_the_store_columns_as_arrays_or_as_a_frame() -> None:
    values = weekly(120)
    values[80:84] *= 3
    long = pd.concat([frame(values), frame(weekly(120, seed=2) * 2, "account", "111")])
    arrays = {"dimension": long["dimension"].to_numpy(dtype=object), "value": long["value"].to_numpy(dtype=object),
              "day": long["day"].to_numpy(dtype="datetime64[us]"), "cost": long["cost"].to_numpy()}
    found = detect(long)
    assert found and detect(arrays) == found
