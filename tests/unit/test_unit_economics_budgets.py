"""Unit-cost maths and the rising flag; budget prorating and status lines; the budgets and metrics CSV
imports (row errors, nothing written on a bad file); unit economics on the demo."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import select

from rituals.budgets import budget_lines, import_budgets, import_metrics, list_budgets, prorate
from rituals.unit_economics import monthly_trend_pct, unit_cost, unit_economics, unit_metric
from storage.records import Budget, BusinessMetric, Team


def test_unit_cost_maths() -> None:
    assert unit_cost(1000.0, 4_000_000, 1000) == pytest.approx(0.25)
    assert unit_cost(500.0, 250) == 2.0
    assert unit_cost(500.0, 0) is None and unit_cost(None, 10) is None
    assert monthly_trend_pct([100, 110, 121, 133.1]) == pytest.approx(10.0)
    assert monthly_trend_pct([100, None, 90]) is None


def _points(spend, volume):
    return [(f"2026-{i + 1:02d}", s, v) for i, (s, v) in enumerate(zip(spend, volume, strict=True))]


def test_rising_flag_only_when_unit_cost_rises_while_volume_grows() -> None:
    growing = [100, 106, 112.4, 119.1, 126.2, 133.8]
    # spend grows 8.5% a month, volume 6%: unit cost rises while volume grows
    spend = [1000 * 1.085 ** i for i in range(6)]
    m = unit_metric("inferences", "ml-inference", 1.0, _points(spend, growing))
    assert m.rising and m.unit_cost_trend_pct == pytest.approx((1.085 / 1.06 - 1) * 100, rel=0.05)
    assert m.latest.unit_cost == pytest.approx(spend[-1] / growing[-1])
    # unit cost falls while volume grows: healthy
    assert not unit_metric("x", "total", 1.0, _points([1000] * 6, growing)).rising
    # unit cost rises but volume shrinks: a different problem, not this flag
    assert not unit_metric("x", "total", 1.0, _points([1000] * 6, growing[::-1])).rising
    # no data for a month leaves a gap, not a crash
    m = unit_metric("x", "total", 1000.0, _points([None, 10, 10, 10, 10, 10], [0, 5, 5, 5, 5, 5]))
    assert m.trend[0].unit_cost is None and m.latest.unit_cost == 2000.0


def test_prorating() -> None:
    nov = date(2026, 11, 1)
    assert prorate(3000.0, nov, 15) == 1500.0
    assert prorate(3100.0, date(2026, 12, 1), 31) == 3100.0
    assert prorate(3000.0, nov, 0) == 0.0 and prorate(3000.0, nov, 45) == 3000.0
    lines = budget_lines({"a": 3000.0, None: 9000.0}, {"a": 1800.0, "b": 10.0, None: 5000.0},
                         {"a": 3500.0, None: 9500.0}, nov, 15)
    by = {x.team: x for x in lines}
    assert lines[0].team is None
    assert by["a"].prorated_budget == 1500.0 and by["a"].mtd_vs_prorated_pct == pytest.approx(120.0)
    assert by["a"].forecast_vs_budget_pct == pytest.approx(116.67, abs=0.01)
    assert by["b"].budget is None and by["b"].as_dict()["mtd_vs_prorated_pct"] is None


def test_budget_import_upserts_and_reports_row_errors(demo_home, tmp_path) -> None:
    good = tmp_path / "budgets.csv"
    good.write_text("Team,Month,Amount\nweb,2027-01,15000\n,2027-01,120000\nweb,2026-11,1\n", encoding="utf-8")
    with demo_home.records.write() as s:
        assert import_budgets(s, good) == 3
    with demo_home.records.session() as s:
        web = s.exec(select(Team).where(Team.name == "web")).one()
        nov = s.exec(select(Budget).where(Budget.team_id == web.id, Budget.month == date(2026, 11, 1))).one()
        assert nov.amount == 1.0 and nov.source == "csv"
        assert any(r["team"] is None and r["month"] == "2027-01" for r in list_budgets(s))
    cases = {
        "team,month,amount\nweb,2027-02,12x\n": "row 2: field 'amount'",
        "team,month,amount\nweb,2027-02,1\nghost,2027-02,1\n": "row 3: field 'team' names no team: 'ghost'",
        "team,month,amount\nweb,Feb 2027,1\n": "row 2: field 'month' must be YYYY-MM",
        "team,month,amount\nweb,2027-02,1\nweb,2027-02,2\n": "row 3: a second budget",
        "team,amount\nweb,1\n": "missing column(s) month",
        "team,month,amount\nweb,2027-02,-5\n": "non-negative",
    }
    for text, message in cases.items():
        bad = tmp_path / "bad.csv"
        bad.write_text(text, encoding="utf-8")
        with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
            with demo_home.records.write() as s:
                import_budgets(s, bad)
    with demo_home.records.session() as s:
        assert not s.exec(select(Budget).where(Budget.month == date(2027, 2, 1))).all()


def test_metrics_import(demo_home, tmp_path) -> None:
    path = tmp_path / "m.csv"
    path.write_text("month,metric,value,team\n2026-10,inferences,5000000,ml-inference\n2026-12,signups,42,\n",
                    encoding="utf-8")
    with demo_home.records.write() as s:
        assert import_metrics(s, path) == 2
    with demo_home.records.session() as s:
        rows = s.exec(select(BusinessMetric).where(BusinessMetric.metric == "inferences",
                                                   BusinessMetric.month == date(2026, 10, 1))).all()
        assert [r.value for r in rows] == [5_000_000.0]
    path.write_text("month,metric,value\n2026-10,,3\n", encoding="utf-8")
    with pytest.raises(ValueError, match="row 2: field 'metric' is empty"):
        with demo_home.records.write() as s:
            import_metrics(s, path)


def test_demo_unit_economics_flags_the_ai_feature(demo_home, demo_truth) -> None:
    ue = unit_economics(demo_home, date(2026, 10, 1))
    by = {m.metric: m for m in ue.metrics}
    assert set(by) == {"active_customers", "api_requests", "inferences"}
    assert by["inferences"].spend_of == "ml-inference"  # recorded for that team
    assert by["api_requests"].per == 1000.0
    assert [p.month for p in by["inferences"].trend] == ["2026-05", "2026-06", "2026-07", "2026-08", "2026-09",
                                                         "2026-10"]
    customers = by["active_customers"].latest
    assert customers.volume == demo_truth.metrics["2026-10"]["active_customers"]
    assert customers.unit_cost == pytest.approx(demo_truth.monthly_totals["2026-10"] / customers.volume, rel=1e-6)
    assert by["inferences"].rising  # inferences grow slower than ML spend
    assert ue.as_json()["rising"] == ["inferences"]


def test_unit_economics_from_a_wider_showback_equals_its_own(demo_home) -> None:
    # The quarterly scorecard computes one showback over the months of its four quarters' trends and hands
    # each quarter's unit economics its slice: the figures are those of the month's own six-month showback.
    from rituals.showback import ShowbackInputs, monthly_showbacks

    inputs = ShowbackInputs.from_home(demo_home)
    wide = monthly_showbacks(demo_home.costs, inputs, date(2025, 5, 1), date(2026, 10, 1))
    for month in (date(2025, 12, 1), date(2026, 6, 1), date(2026, 9, 1)):
        own = unit_economics(demo_home, month)
        assert any(m.unit_cost_trend_pct is not None for m in own.metrics)
        assert unit_economics(demo_home, month, wide, inputs) == own
