"""The forecast: a synthetic series with known level, trend and weekly season; scoring in the three bands;
nothing scored before the month is complete; snapshots stored with when they were made."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest
from sqlmodel import select

from rituals.forecast import (
    accuracy,
    band,
    clean_outliers,
    forecast_window,
    make_forecast,
    month_complete,
    score_snapshots,
    store_forecast,
    variance_pct,
)
from storage.clock import Clock
from storage.home import Home
from storage.records import ForecastSnapshot

SEASON = np.array([1.0, 1.05, 1.05, 1.0, 0.95, 0.6, 0.55])


def _series(seed: int, days: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(days)
    return 2000 + 3.0 * t + 300 * (SEASON[t % 7] - SEASON.mean()) + rng.normal(0, 60, days)


def test_synthetic_month_forecast_is_close_and_its_interval_holds_the_truth() -> None:
    history, skip, length = 182, 30, 31
    close = inside = 0
    for seed in range(20):
        y = _series(seed, history + skip + length)
        truth = float(y[history + skip:].sum())
        w = forecast_window(y[:history], skip, length, paths=120, seed=seed)
        close += abs(w.forecast - truth) / truth <= 0.05
        inside += w.lower <= truth <= w.upper
        assert w.lower < w.forecast < w.upper
    assert close >= 15, close
    assert inside >= 11, inside


def test_outliers_are_replaced_by_their_weekday_neighbours() -> None:
    y = _series(1, 70)
    spiked = y.copy()
    spiked[40] += 5000
    cleaned = clean_outliers(spiked)
    assert abs(cleaned[40] - y[40]) < 400
    assert np.array_equal(np.delete(cleaned, 40), np.delete(spiked, 40))


def test_a_flat_series_and_too_little_history() -> None:
    w = forecast_window(np.zeros(60), 3, 30)
    assert (w.forecast, w.lower, w.upper) == (0.0, 0.0, 0.0)
    with pytest.raises(ValueError, match="at least 28 days"):
        forecast_window(np.ones(10), 0, 30)


def test_variance_and_bands() -> None:
    assert variance_pct(110.0, 100.0) == pytest.approx(10.0)
    assert variance_pct(90.0, 100.0) == pytest.approx(10.0)
    assert variance_pct(5.0, 0.0) is None
    assert [band(v) for v in (0.0, 12.0, 12.01, 15.0, 15.5, 20.0, 20.01, None)] == \
        ["run", "run", "walk", "walk", "crawl", "crawl", "outside", None]


def test_month_complete_needs_the_month_over_and_its_last_day_loaded() -> None:
    oct_ = date(2026, 10, 1)
    assert month_complete(oct_, date(2026, 11, 2), date(2026, 10, 31))
    assert not month_complete(oct_, date(2026, 10, 31), date(2026, 10, 30))  # not over yet
    assert not month_complete(oct_, date(2026, 11, 2), date(2026, 10, 29))  # data lags
    assert not month_complete(oct_, date(2026, 11, 2), None)


def test_demo_forecast_is_stored_and_scored_only_once_complete(demo_home, demo_truth) -> None:
    from sqlmodel import delete

    with demo_home.records.write() as s:  # start from an empty ledger (the demo ships a forecast history)
        s.exec(delete(ForecastSnapshot))
    # Made on 2026-09-10 for October (data to 2026-09-09), and on 2026-11-27 for December.
    early = Home(demo_home.path, clock_override=Clock(date(2026, 9, 10)))
    oct_fc = make_forecast(early, date(2026, 10, 1), paths=100)
    assert oct_fc.data_through == date(2026, 9, 9) and oct_fc.month == "2026-10"
    store_forecast(early.records, oct_fc)
    early.close()
    dec_fc = make_forecast(demo_home, date(2026, 12, 1), paths=100)
    ids = store_forecast(demo_home.records, dec_fc)
    assert len(ids) == 1 + len(dec_fc.teams)
    budget_nov = make_forecast(demo_home, date(2026, 11, 1), paths=100)
    assert budget_nov.total.budget == pytest.approx(sum(demo_truth.budgets["2026-11"].values()))
    # The current month keeps what is already spent: the forecast is at least that much.
    assert budget_nov.total.forecast > demo_truth.monthly_totals["2026-11"]

    assert score_snapshots(demo_home) == 1 + len(oct_fc.teams)  # October only
    with demo_home.records.session() as s:
        dec = s.exec(select(ForecastSnapshot).where(ForecastSnapshot.month == date(2026, 12, 1))).all()
        assert dec and all(x.scored_at is None and x.band is None for x in dec)
    result = accuracy(demo_home)
    assert [m["month"] for m in result["months"]] == ["2026-10"]
    oct_row = result["months"][0]
    actual = round(demo_truth.monthly_totals["2026-10"], 2)
    assert oct_row["actual"] == actual
    assert oct_row["variance_pct"] == pytest.approx(abs(actual - oct_fc.total.forecast) / oct_fc.total.forecast
                                                    * 100, abs=0.01)
    assert oct_row["band"] == band(oct_row["variance_pct"])
    assert {t["team"] for t in oct_row["teams"]} == {t.team for t in oct_fc.teams}


def test_forecast_refuses_a_complete_month_and_a_far_one(demo_home) -> None:
    with pytest.raises(ValueError, match="already complete"):
        make_forecast(demo_home, date(2026, 10, 1))
    with pytest.raises(ValueError, match="months ahead"):
        make_forecast(demo_home, date(2027, 6, 1))
