"""The demo generator: deterministic, realistic totals, injected anomalies, tag mess, and history."""

from __future__ import annotations

import hashlib
import json
from datetime import date, timedelta

import pandas as pd
import pytest
from sqlmodel import select

from rituals.demo_company import DemoHomeError, build_demo
from storage.records import Action, Budget, BusinessMetric, Person, RaciActivity, RitualRun, Team, TeamAccount
from storage.sources import demo

AS_OF = date(2026, 11, 27)


def digest(frame: pd.DataFrame) -> str:
    return hashlib.sha256(pd.util.hash_pandas_object(frame, index=False).values.tobytes()).hexdigest()


@pytest.fixture(scope="module")
def generated():
    return demo.generate(AS_OF)


def test_same_seed_and_date_give_the_same_rows(generated) -> None:
    frame, _ = generated
    again, _ = demo.generate(AS_OF)
    assert digest(frame) == digest(again)
    other, _ = demo.generate(AS_OF, seed=8)
    assert digest(frame) != digest(other)


def test_history_shape_and_size(generated) -> None:
    frame, truth = generated
    assert len(frame) >= 200_000
    assert frame["ChargePeriodStart"].min() == pd.Timestamp("2025-10-01")
    assert frame["ChargePeriodStart"].max() == pd.Timestamp(AS_OF - timedelta(days=1))
    assert frame["SubAccountId"].nunique() == 12
    assert frame.loc[frame["ResourceId"].notna(), "ResourceId"].nunique() > 500
    full = [m for m in truth.monthly_totals if m < "2026-11"]
    assert len(full) == 13


def test_monthly_totals_grow_to_about_95k(generated) -> None:
    _, truth = generated
    last_full = truth.monthly_totals["2026-10"]
    assert 85_000 <= last_full <= 110_000
    first = truth.monthly_totals["2025-10"]
    growth = (last_full / first) ** (1 / 12) - 1
    assert 0.02 <= growth <= 0.045


def test_injected_anomalies_stand_out(generated) -> None:
    frame, truth = generated
    assert 4 <= len(truth.anomalies) <= 6
    for a in truth.anomalies:
        rows = frame[(frame["SubAccountId"] == a.account_id) & (frame["ServiceName"] == a.service)]
        daily = rows.groupby("ChargePeriodStart")["EffectiveCost"].sum()
        inside = daily[(daily.index >= pd.Timestamp(a.start)) & (daily.index < pd.Timestamp(a.end))]
        before = daily[(daily.index >= pd.Timestamp(a.start - timedelta(days=28)))
                       & (daily.index < pd.Timestamp(a.start))]
        assert inside.mean() - before.mean() > 100, a.key
        assert inside.mean() > before.mean() * 1.4, a.key


def test_tag_mess_is_present(generated) -> None:
    frame, _ = generated
    keys, values = set(), set()
    for raw in frame["Tags"].dropna().unique():
        tags = json.loads(raw)
        keys |= set(tags)
        values |= {tags[k] for k in tags if k.strip().lower() in ("env", "environment")}
    assert {"team", "Team", " team"} <= keys
    assert {"prod", "Prod", "production"} <= values
    assert frame["Tags"].isna().any()
    assert any('"growth"' in t for t in frame["Tags"].dropna().unique())


def test_allocation_and_commitment_truth(generated) -> None:
    _, truth = generated
    weeks = list(truth.allocation_by_week.values())
    assert 50 <= sum(weeks[1:5]) / 4 <= 68
    assert 85 <= sum(weeks[-3:]) / 3 <= 95
    assert 55 <= truth.coverage_pct <= 65
    assert 90 <= truth.utilization_pct <= 97
    expiring = [c for c in truth.commitments if AS_OF <= c.end <= AS_OF + timedelta(days=60)]
    assert len(expiring) == 1


def test_demo_home_holds_records_history(demo_truth_and_path) -> None:
    from storage.home import Home

    truth, path = demo_truth_and_path
    home = Home(path)
    assert home.is_demo and home.clock.today() == AS_OF
    with home.records.session() as s:
        assert {p.role for p in s.exec(select(Person))} == {"finops_lead", "finance", "leadership", "engineering"}
        teams = s.exec(select(Team)).all()
        assert len([t for t in teams if t.active]) == 7 and all(t.owner_id for t in teams)
        assert len(s.exec(select(TeamAccount)).all()) == 8
        assert len(s.exec(select(RaciActivity)).all()) == 10
        runs = s.exec(select(RitualRun)).all()
        assert {r.kind for r in runs} >= {"tag_sweep", "monthly_review"}
        assert all(r.status == "closed" and r.numbers for r in runs)
        actions = s.exec(select(Action)).all()
        statuses = {a.status for a in actions}
        assert {"done", "open"} <= statuses
        overdue = [a for a in actions if a.status in ("open", "in_progress", "blocked") and a.due_date < AS_OF]
        assert overdue
        assert s.exec(select(Budget)).first() is not None
        assert s.exec(select(BusinessMetric)).first() is not None
    rows, _billed, effective = home.costs.totals()
    assert rows > 200_000
    assert effective == pytest.approx(sum(truth.monthly_totals.values()), rel=1e-6)
    home.close()


def test_never_over_real_data(tmp_path) -> None:
    (tmp_path / "records.sqlite").write_text("not a demo")
    with pytest.raises(DemoHomeError, match="holds real data"):
        build_demo(tmp_path, AS_OF)
    assert (tmp_path / "records.sqlite").read_text() == "not a demo"


def test_demo_ships_a_forecast_history_the_ledger_scores(demo_home, demo_truth) -> None:
    from sqlmodel import select

    from rituals.forecast import accuracy, score_snapshots
    from storage.records import ForecastSnapshot

    with demo_home.records.session() as s:
        snaps = s.exec(select(ForecastSnapshot)).all()
    # Six seeded month forecasts, plus what each held monthly review stored at its close (total + teams).
    seeded = [x for x in snaps if x.made_at.day != 5]
    held = [x for x in snaps if x.made_at.day == 5]
    assert len(seeded) == 6 and {x.made_at.date().isoformat() for x in held} == {
        "2026-08-05", "2026-09-05", "2026-10-05"}
    assert score_snapshots(demo_home) == len(seeded) + len(held)
    months = {m["month"]: m for m in accuracy(demo_home)["months"]}
    assert list(months) == ["2026-05", "2026-06", "2026-07", "2026-08", "2026-09", "2026-10"]
    aug = months["2026-08"]
    assert aug["actual"] == pytest.approx(demo_truth.monthly_totals["2026-08"], abs=0.01)
    assert aug["band"] == "crawl"  # the month of the forgotten GPU cluster was under-forecast
