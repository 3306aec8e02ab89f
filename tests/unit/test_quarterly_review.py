"""The quarterly review's logic: band placement at the boundaries, quarter arithmetic, each evidence rule
proposing the stage its evidence supports (and nothing without data), a KPI without data absent rather than
zero, ritual health from the records, overrides needing reasons, recorded scores and golden minutes."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest

from rituals.kpis import (
    BELOW_CRAWL,
    Measure,
    Scorecard,
    last_complete_quarter,
    load_bands,
    previous_quarters,
    ritual_health,
    scorecard,
)
from rituals.maturity import Evidence, decide, load_capabilities, propose
from storage.config import CalendarConfig

GOLDEN = Path(__file__).with_name("golden")
CAL = CalendarConfig()
FISCAL = CalendarConfig(quarter_start_months=(2, 5, 8, 11))


# -- bands -------------------------------------------------------------------------------------------------
def test_band_placement_at_the_boundaries() -> None:
    bands = load_bands().kpis
    alloc = bands["allocation_coverage_pct"]
    assert [alloc.stage(v) for v in (0.0, 89.999, 90.0, 94.999, 95.0, 100.0)] == \
        ["crawl", "crawl", "walk", "walk", "run", "run"]
    cov = bands["commitment_coverage_pct"]
    assert [cov.stage(v) for v in (59.99, 60.0, 74.99, 75.0, 79.99, 80.0)] == \
        [BELOW_CRAWL, "crawl", "crawl", "walk", "walk", "run"]
    ttd = bands["anomaly_ttd_median_hours"]  # lower is better: the number is the most a stage allows
    assert [ttd.stage(h) for h in (24.0, 24.01, 168.0, 168.01, 1000.0)] == ["run", "walk", "walk", "crawl", "crawl"]
    fc = bands["forecast_variance_pct"]
    assert [fc.stage(v) for v in (12.0, 12.01, 15.0, 15.01, 20.0, 20.01)] == \
        ["run", "walk", "walk", "crawl", "crawl", BELOW_CRAWL]
    assert bands["waste_ratio_pct"].stage(3.0) is None and alloc.stage(None) is None
    assert alloc.meets(90.0) is True and alloc.meets(89.9) is False and fc.meets(15.0) is True


def test_bands_are_versioned_data_with_a_source_and_a_home_override(home) -> None:
    b = load_bands()
    assert b.version == 2 and "FINOPS-MODEL.md" in b.source
    # The source cites only the bands the file holds (90 / 95 for allocation), never another sample's.
    assert "85" not in b.source and b.kpis["allocation_coverage_pct"].walk == 90.0
    assert b.kpis["anomaly_ttd_median_hours"].min_cases == 3 == b.kpis["anomaly_ttr_median_hours"].min_cases
    (home.path / "framework").mkdir(parents=True, exist_ok=True)
    (home.path / "framework" / "kpi_bands.toml").write_text(
        "[kpi.allocation_coverage_pct]\nwalk = 85.0\nrun = 90.0\n", encoding="utf-8")
    mine = load_bands(home).kpis["allocation_coverage_pct"]
    assert (mine.walk, mine.run, mine.title) == (85.0, 90.0, "Allocation coverage")
    assert mine.stage(88.0) == "walk"
    (home.path / "framework" / "kpi_bands.toml").write_text(
        "[kpi.allocation_coverage_pct]\nwalk = 95.0\nrun = 90.0\n", encoding="utf-8")
    with pytest.raises(ValueError, match="stricter"):
        load_bands(home)


# -- quarters ------------------------------------------------------------------------------------------------
def test_quarter_arithmetic() -> None:
    assert last_complete_quarter(date(2026, 11, 27), CAL) == "2026-Q3"
    assert last_complete_quarter(date(2026, 1, 1), CAL) == "2025-Q4"
    assert last_complete_quarter(date(2026, 3, 31), CAL) == "2025-Q4"
    assert last_complete_quarter(date(2026, 4, 1), CAL) == "2026-Q1"
    assert previous_quarters("2026-Q1", CAL) == ["2025-Q2", "2025-Q3", "2025-Q4", "2026-Q1"]
    # A fiscal year starting in February: 2026-11-27 lies in the quarter starting 2026-11-01 (Q4).
    assert last_complete_quarter(date(2026, 11, 27), FISCAL) == "2026-Q3"
    assert last_complete_quarter(date(2026, 1, 15), FISCAL) == "2025-Q3"
    assert previous_quarters("2026-Q1", FISCAL, 2) == ["2025-Q4", "2026-Q1"]


# -- evidence rules -------------------------------------------------------------------------------------------
def _card(values: dict[str, Measure]) -> Scorecard:
    bands = load_bands()
    m = {k: values.get(k, Measure(None, "no data")) for k in bands.kpis}
    return Scorecard("2026-Q3", date(2026, 7, 1), date(2026, 10, 1), "USD", bands, ["2026-Q3"], {"2026-Q3": m})


def _ev(values: dict[str, Measure] | None = None, **kw) -> Evidence:
    base = {"has_costs": True, "months": ["2026-07", "2026-08", "2026-09"]}
    return Evidence(_card(values or {}), **{**base, **kw})


CAPS = {c.id: c for c in load_capabilities()[1]}



def _stage(cap: str, ev: Evidence) -> str | None:
    return propose(CAPS.get(cap) or _catalogue()[cap], ev).stage


def _catalogue():
    import tomllib
    from importlib import resources

    from rituals.maturity import _caps

    return {c.id: c for c in _caps(tomllib.loads(resources.files("rituals").joinpath(
        "framework", "capabilities.toml").read_text()), "x")}


@pytest.mark.parametrize(("value", "stage"), [(92.0, "walk"), (96.0, "run"), (60.0, "crawl")])
def test_allocation_rule(value, stage) -> None:
    p = propose(CAPS["allocation"], _ev({"allocation_coverage_pct": Measure(value)}))
    assert p.stage == stage and f"{value:.1f}%" in p.evidence[0]["value"]


def test_cadence_rule() -> None:
    held = {"monthly_reviews_held_pct": Measure(100.0, None, {"held": 3, "due": 3})}
    assert _stage("cadence", _ev(held)) == "walk"
    assert propose(CAPS["cadence"], _ev(held)).evidence[0]["value"] == "3 of 3"
    two = {"monthly_reviews_held_pct": Measure(66.7, None, {"held": 2, "due": 3})}
    assert _stage("cadence", _ev(two)) == "crawl"


def test_anomalies_rule() -> None:
    three_days = {"anomaly_ttd_median_hours": Measure(72.0, None, {"acknowledged": 4})}
    p = propose(CAPS["anomalies"], _ev(three_days))
    assert p.stage == "walk" and "3.0 days" in p.evidence[0]["value"]
    assert _stage("anomalies", _ev({"anomaly_ttd_median_hours": Measure(12.0, None, {})})) == "run"
    assert _stage("anomalies", _ev({"anomaly_ttd_median_hours": Measure(240.0, None, {})})) == "crawl"


def test_a_kpi_from_too_few_cases_is_too_few_cases_never_a_stage() -> None:
    # One case resolved a second after it was acknowledged: a median of 0.0 h from one case rates nothing.
    one = _card({"anomaly_ttr_median_hours": Measure(0.0, None, {"resolved": 1}, cases=1)}).as_json()
    ttr = next(k for k in one["kpis"] if k["key"] == "anomaly_ttr_median_hours")
    assert (ttr["value"], ttr["stage"], ttr["stage_note"], ttr["meets_target"]) == (0.0, None, "too few cases", None)
    assert (ttr["cases"], ttr["min_cases"]) == (1, 3)
    three = _card({"anomaly_ttr_median_hours": Measure(6.0, None, {"resolved": 3}, cases=3)}).as_json()
    ttr = next(k for k in three["kpis"] if k["key"] == "anomaly_ttr_median_hours")
    assert (ttr["stage"], ttr["stage_note"], ttr["meets_target"]) == ("run", None, True)
    two = _ev({"anomaly_ttd_median_hours": Measure(12.0, None, {"acknowledged": 2}, cases=2)})
    p = propose(CAPS["anomalies"], two)
    assert p.stage is None and "too few cases" in p.evidence[0]["value"] and "2 acknowledged" in p.evidence[0]["value"]


def test_a_proposal_above_its_target_says_why() -> None:
    months = ["2026-07", "2026-08", "2026-09"]
    ev = _ev(showback_months=months, unit_metric_months=months)
    caps = [CAPS["visibility"]]
    [score] = decide(caps, [propose(c, ev) for c in caps])
    assert (score.proposed, score.target) == ("run", "walk")
    assert score.as_dict()["above_target"] == ("run is above the walk target because unit economics: business "
                                               "metrics in 3 of 3 months (run: unit economics in product dashboards)")
    [at_target] = decide(caps, [propose(c, ev) for c in caps], targets={"visibility": "run"})
    assert at_target.above_target is None


def test_anomaly_kpis_count_events_and_need_three(demo_home) -> None:
    """The reindex spike (from 2026-11-24) makes a case in its service, account and team series: one event.
    Acknowledged at 10:00 UTC on the 25th (34 h after 00:00 UTC on the 24th) and resolved a second later."""
    from datetime import timedelta

    from rituals import anomaly_cases as ac
    from rituals.anomaly_events import acknowledge_event

    ac.sync_cases(demo_home)
    with demo_home.records.session() as s:
        from sqlmodel import select

        from storage.records import AnomalyCase

        lead = next(c for c in s.exec(select(AnomalyCase)) if c.dimension == "service" and c.start == date(2026, 11, 24))
    ack = datetime(2026, 11, 25, 10, tzinfo=UTC)
    acked = acknowledge_event(demo_home.records, lead.id, now=ack)
    assert len(acked) >= 3
    ac.set_status(demo_home.records, lead.id, "resolved", now=ack + timedelta(seconds=1))
    card = scorecard(demo_home, "2026-Q4").as_json()
    ttd = next(k for k in card["kpis"] if k["key"] == "anomaly_ttd_median_hours")
    ttr = next(k for k in card["kpis"] if k["key"] == "anomaly_ttr_median_hours")
    assert (ttd["value"], ttd["cases"], ttd["detail"]["acknowledged"]) == (34.0, 1, 1)  # one event, not 3 cases
    assert (ttd["stage"], ttd["stage_note"]) == (None, "too few cases")
    assert (ttr["value"], ttr["stage"], ttr["stage_note"]) == (0.0, None, "too few cases")


def test_accountability_and_visibility_rules() -> None:
    months = ["2026-07", "2026-08", "2026-09"]
    assert _stage("accountability", _ev(showback_months=months)) == "walk"
    assert _stage("accountability", _ev(showback_months=months[:2])) == "crawl"
    assert _stage("visibility", _ev(showback_months=months)) == "walk"
    assert _stage("visibility", _ev(showback_months=months, unit_metric_months=months)) == "run"
    assert _stage("visibility", _ev(showback_months=[])) == "crawl"


def test_commitments_rule_needs_a_managed_review_for_walk() -> None:
    cov = {"commitment_coverage_pct": Measure(78.0)}
    assert _stage("commitments", _ev(cov, commitment_reviews=["2026-09"])) == "walk"
    assert _stage("commitments", _ev(cov)) == "crawl"
    assert _stage("commitments", _ev({"commitment_coverage_pct": Measure(50.0)}, commitment_reviews=["2026-09"])) \
        == "crawl"


def test_ownership_and_added_capability_rules() -> None:
    assert _stage("ownership", _ev(people=5, finops_lead="Priya (priya)")) == "walk"
    assert _stage("ownership", _ev(people=5, finops_lead="Priya (priya)", raci_errors=["no A"])) == "crawl"
    assert _stage("ownership", _ev(people=5)) == "crawl"
    assert _stage("forecasting", _ev({"forecast_variance_pct": Measure(13.0)})) == "walk"
    assert propose(_catalogue()["budgeting"], _ev()).stage is None  # no evidence rule: assessed by hand


@pytest.mark.parametrize("cap", ["allocation", "anomalies", "commitments", "cadence", "accountability",
                                 "visibility", "ownership", "forecasting", "unit_economics"])
def test_no_data_proposes_nothing(cap) -> None:
    ev = _ev(has_costs=False, months=[])
    p = propose(CAPS.get(cap) or _catalogue()[cap], ev)
    assert p.stage is None and "no data" in p.evidence[0]["value"]


def test_a_kpi_with_no_data_is_absent_not_zero() -> None:
    card = _card({"allocation_coverage_pct": Measure(91.0)})
    out = card.as_json()
    assert out["values"] == {"allocation_coverage_pct": 91.0}
    assert [k["key"] for k in out["kpis"]] == ["allocation_coverage_pct"]
    missing = {k["key"]: k for k in out["no_data"]}
    assert "anomaly_ttd_median_hours" in missing and "value" not in missing["anomaly_ttd_median_hours"]
    assert all(t["value"] is None for t in missing["waste_ratio_pct"]["trend"])


def test_empty_home_scorecard_has_no_zero_kpis(home) -> None:
    out = scorecard(home, "2026-Q3").as_json()
    assert out["kpis"] == [] and out["values"] == {}
    assert len(out["no_data"]) == len(load_bands().kpis)


# -- ritual health --------------------------------------------------------------------------------------------
def test_ritual_health_counts_held_of_due_and_actions_on_time() -> None:
    def run(kind, period, status="closed", opened=datetime(2026, 7, 1, tzinfo=UTC)):
        return SimpleNamespace(kind=kind, period=period, status=status, opened_at=opened)

    runs = [run("monthly_review", "2026-07"), run("monthly_review", "2026-08"), run("tag_sweep", "2026-W28"),
            run("tag_sweep", "2026-W29", status="open")]
    done = {1: datetime(2026, 7, 10, 12, tzinfo=UTC), 2: datetime(2026, 7, 21, tzinfo=UTC)}
    actions = [SimpleNamespace(id=1, due_date=date(2026, 7, 10)), SimpleNamespace(id=2, due_date=date(2026, 7, 20)),
               SimpleNamespace(id=3, due_date=date(2026, 8, 1)), SimpleNamespace(id=4, due_date=date(2026, 10, 2))]
    h = ritual_health(runs, actions, done, date(2026, 7, 1), date(2026, 10, 1), date(2026, 11, 27), CAL, UTC)
    assert (h["monthly_reviews_held_pct"].detail["held"], h["monthly_reviews_held_pct"].detail["due"]) == (2, 3)
    assert h["sweeps_held_pct"].detail["due"] == 13 and h["sweeps_held_pct"].detail["held"] == 1
    assert h["actions_on_time_pct"].value == pytest.approx(100 / 3, abs=1e-5)
    # Before the first recorded run nothing was due: no data, not 0%.
    early = ritual_health(runs, [], {}, date(2026, 1, 1), date(2026, 4, 1), date(2026, 11, 27), CAL, UTC)
    assert all(m.value is None for m in early.values())


# -- decisions, recording, minutes -----------------------------------------------------------------------------
def test_override_needs_a_reason_and_choice_is_one_or_two() -> None:
    caps = list(CAPS.values())
    ev = _ev({"allocation_coverage_pct": Measure(92.0)}, showback_months=["2026-07", "2026-08", "2026-09"])
    props = [propose(c, ev) for c in caps]
    with pytest.raises(ValueError, match="reason"):
        decide(caps, props, {"allocation": ("run", "  ")})
    with pytest.raises(ValueError, match="one or two"):
        decide(caps, props, chosen=["allocation", "cadence", "anomalies"])
    scores = {s.capability: s for s in decide(caps, props, {"allocation": ("crawl", "shared costs unsplit")},
                                              {"visibility": "run"}, ["allocation"])}
    a = scores["allocation"]
    assert (a.proposed, a.stage, a.overridden, a.reason, a.chosen, a.gap) == \
        ("walk", "crawl", True, "shared costs unsplit", True, True)
    assert scores["visibility"].target == "run" and scores["visibility"].gap
    assert scores["anomalies"].stage is None and scores["anomalies"].gap


def test_record_review_stores_scores_and_golden_minutes(demo_home) -> None:
    from exports.minutes import render_minutes
    from rituals.maturity import gap_proposals, record_review, review_numbers, stored_scores
    from rituals.runs import close_run, open_run

    caps = list(CAPS.values())
    ev = _ev({"allocation_coverage_pct": Measure(92.0), "waste_ratio_pct": Measure(4.0, None, {"rules": [
        {"title": "Idle [EIP] | addresses", "summary": "found 0 (nothing)"}]})},
        showback_months=["2026-07", "2026-08", "2026-09"], people=3, finops_lead="Priya Raman (priya)")
    scores = decide(caps, [propose(c, ev) for c in caps], {"cadence": ("walk", "Reviews *are* held | monthly")},
                    chosen=["anomalies", "commitments"])
    now = datetime(2026, 11, 27, 10, tzinfo=UTC)
    with demo_home.records.write() as s:
        run = open_run(s, "quarterly_review", "2026-Q3", None, now)
        gaps = gap_proposals(s, caps, scores)
        numbers = review_numbers(demo_home, ev.scorecard, scores, gaps, None)
        created = record_review(s, run, scores, gaps, now=now, today=date(2026, 11, 27))
        close_run(s, run.id, numbers, now)
        run_id = run.id
    assert [g["owner"] for g in gaps if g["chosen"]] == ["priya", "marcus"]
    assert len(created) == 2
    with demo_home.records.session() as s:
        rows = {r.capability: r for r in stored_scores(s, run_id)}
        assert rows["cadence"].overridden and rows["cadence"].reason == "Reviews *are* held | monthly"
        assert rows["allocation"].stage == "walk" and rows["anomalies"].chosen
        text = render_minutes(s, run_id)
    text = text.replace(f"run {run_id}.", "run N.")
    path = GOLDEN / "minutes_quarterly_review.md"
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8"), "UPDATE_GOLDEN=1 rewrites it on purpose"
