"""The commitment review's arithmetic: golden figures from the FOCUS 1.2 specification's own examples,
coverage / utilisation / ESR on rows written here, the baseline and what-if arithmetic with and without
open actions, and the demo company held against the generator's ground truth."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd
import pytest

from rituals.commitment_plan import PlanInputs, percentile, plan, suggest, what_if
from rituals.commitment_review import Decision, record_decision, review
from rituals.commitments import (
    TERMS_HOWTO,
    effective_savings_rate_pct,
    eligible_services,
    figures_from,
    inventory,
    usage_frame,
    utilization_pct,
    warnings,
)
from storage.config import load_config
from storage.costs import CostStore
from storage.loader import Staging
from storage.sources.files import import_files
from tests.focus_files import accept_for

SPEC = "focus-spec-v1.2-examples"
JAN = (date(2023, 1, 1), date(2023, 2, 1))
GOLDEN = {  # file -> utilisation %
    "commitment_discount_scenarios/commitment_discount_usage_scenario_1.csv": 100.0,
    "commitment_discount_scenarios/commitment_discount_usage_scenario_2.csv": 0.0,
    "commitment_discount_scenarios/commitment_discount_usage_scenario_3.csv": 75.0,
    "commitment_discount_scenarios/commitment_discount_usage_scenario_4.csv": 100.0,
    "commitment_discount_flexibility/one_hundred_percent_utilization_with_commitment_discount_flexibility_with_1_resource.csv": 100.0,
    "commitment_discount_flexibility/one_hundred_percent_utilization_with_commitment_discount_flexibility_with_2_resources.csv": 100.0,
    "commitment_discount_flexibility/one_hundred_percent_utilization_without_commitment_discount_flexibility.csv": 100.0,
    "commitment_discount_flexibility/zero_percent_utilization_without_commitment_discount_flexibility.csv": 0.0,
}


def new_store(path: Path) -> CostStore:
    return CostStore(path / "costs.duckdb", load_config(None).taxonomy)


@pytest.fixture(scope="module")
def spec_figures(tmp_path_factory: pytest.TempPathFactory):
    """Each golden file imported into its own store (the importer of issue 4), and its January figures."""
    from tests.conftest import SHARED_DATA

    if not SHARED_DATA.exists():
        pytest.skip("../shared/data is absent (a fresh clone has no shared billing files)")
    eligible = eligible_services()
    out = {}
    for i, name in enumerate(GOLDEN):
        store = new_store(tmp_path_factory.mktemp(f"spec{i}"))
        import_files(store, [SHARED_DATA / SPEC / name], currency="USD", billing_account="spec",
                     accept_missing=accept_for([SHARED_DATA / SPEC / name]))
        out[name] = (store, figures_from(usage_frame(store, *JAN, eligible), *JAN, eligible))
    return out


@pytest.mark.parametrize("name", list(GOLDEN))
def test_spec_examples_give_their_utilization(spec_figures, shared_data: Path, name: str) -> None:
    _store, fig = spec_figures[name]
    assert fig.utilization_pct == pytest.approx(GOLDEN[name])


def test_spec_scenario_3_used_and_unused_amounts(spec_figures, shared_data: Path) -> None:
    _store, fig = spec_figures[next(n for n in GOLDEN if n.endswith("usage_scenario_3.csv"))]
    assert (fig.used_commitment_cost, fig.unused_commitment_cost) == pytest.approx((0.75, 0.25))


def test_spec_flexibility_coverage_counts_a_covered_service_as_eligible(spec_figures, shared_data: Path) -> None:
    # The VM rows carry no ServiceName; the covered row proves the (unnamed) service can be committed:
    # 3.00 of 5.25 on demand is covered.
    _store, fig = spec_figures[next(n for n in GOLDEN if n.endswith("with_1_resource.csv"))]
    assert fig.coverage_pct == pytest.approx(3.0 / 5.25 * 100)
    # Nothing covered, but the unused commitment proves the (unnamed) service can be committed: its on-demand
    # usage is eligible, and coverage is 0%, not unknown.
    name = next(n for n in GOLDEN if n.startswith("commitment_discount_flexibility/zero"))
    raw = pd.read_csv(shared_data / SPEC / name, na_values=["null"])
    on_demand = raw[(raw["ChargeCategory"] == "Usage") & (raw["PricingCategory"] == "Standard")]["ListCost"].sum()
    _store, zero = spec_figures[name]
    assert zero.eligible_cost == pytest.approx(on_demand) and zero.covered_cost == 0.0
    assert zero.coverage_pct == 0.0
    [program] = zero.programs
    assert program["coverage_pct"] == 0.0 and program["utilization_pct"] == 0.0
    assert program["eligible_cost"] == pytest.approx(on_demand)


def test_spec_scenario_4_without_list_cost_saves_nothing(spec_figures, shared_data: Path) -> None:
    name = next(n for n in GOLDEN if n.endswith("usage_scenario_4.csv"))
    raw = pd.read_csv(shared_data / SPEC / name, na_values=["null"])
    assert "ListCost" not in raw.columns
    covered = raw[(raw["PricingCategory"] == "Committed") & (raw["CommitmentDiscountStatus"] == "Used")]
    on_demand = raw[(raw["ChargeCategory"] == "Usage") & (raw["PricingCategory"] == "Standard")]
    store, fig = spec_figures[name]
    # The covered row has no on-demand equivalent: counted, warned about and left out of coverage; the
    # on-demand row counts at its EffectiveCost.
    assert fig.committed_rows_without_list_cost == len(covered)
    assert fig.committed_without_list_effective_cost == pytest.approx(covered["EffectiveCost"].sum())
    assert fig.rows_without_list_cost == len(on_demand)
    assert fig.eligible_cost == pytest.approx(on_demand["EffectiveCost"].sum())
    assert fig.coverage_pct == 0.0
    assert fig.effective_savings_rate_pct == pytest.approx(0.0)
    [warning] = warnings(fig, "USD")
    assert "1 commitment-covered row without a ListCost" in warning and "1.00 USD" in warning
    # Commitment ids in the data but no terms anywhere: the inventory is empty, and the review says how.
    assert inventory(store, date(2023, 1, 15), fig) == []
    assert "finops-tui sync aws" in TERMS_HOWTO and "CUR 2.0" in TERMS_HOWTO


# -- rows written here -----------------------------------------------------------------------------------------
def _rows() -> pd.DataFrame:
    day = pd.Timestamp("2026-11-02")
    base = {"ChargePeriodStart": day, "ChargeCategory": "Usage", "SubAccountId": "111", "BillingCurrency": "USD"}
    rows = [
        {"ServiceName": "Amazon Elastic Compute Cloud", "PricingCategory": "Committed", "ListCost": 100.0,
         "EffectiveCost": 72.0, "CommitmentDiscountId": "sp-1", "CommitmentDiscountStatus": "Used",
         "CommitmentDiscountType": "Savings Plan"},
        {"ServiceName": "Amazon Elastic Compute Cloud", "PricingCategory": "Standard", "ListCost": 50.0,
         "EffectiveCost": 50.0},
        {"ServiceName": "Amazon Simple Storage Service", "PricingCategory": "Standard", "ListCost": 1000.0,
         "EffectiveCost": 1000.0},
        {"ServiceName": "AWS Savings Plans", "PricingCategory": "Committed", "ListCost": 0.0, "EffectiveCost": 8.0,
         "CommitmentDiscountId": "sp-1", "CommitmentDiscountStatus": "Unused",
         "CommitmentDiscountType": "Savings Plan"},
        {"ServiceName": "Amazon ElastiCache", "PricingCategory": "Committed", "ListCost": 40.0, "EffectiveCost": 26.0,
         "CommitmentDiscountId": "ri-1", "CommitmentDiscountStatus": "Used", "CommitmentDiscountType": "Reservation",
         "SubAccountId": "222"},
        {"ServiceName": "Amazon Elastic Compute Cloud", "ChargeCategory": "Credit", "ListCost": 0.0,
         "EffectiveCost": -30.0},
        {"ServiceName": "Amazon Elastic Compute Cloud", "PricingCategory": "Standard", "ListCost": 500.0,
         "EffectiveCost": 500.0, "ChargePeriodStart": pd.Timestamp("2026-12-01")},  # outside the window
    ]
    return pd.DataFrame([{**base, **r} for r in rows])


@pytest.fixture(scope="module")
def small_store(tmp_path_factory: pytest.TempPathFactory) -> CostStore:
    store = new_store(tmp_path_factory.mktemp("small"))
    with Staging(store) as staging:
        staging.append_frame(_rows(), "test")
        staging.commit()
    return store


NOV = (date(2026, 11, 1), date(2026, 12, 1))


def test_coverage_utilization_and_esr_on_written_rows(small_store: CostStore) -> None:
    eligible = eligible_services()
    fig = figures_from(usage_frame(small_store, *NOV, eligible), *NOV, eligible)
    # EC2 is eligible by the framework file, ElastiCache because a commitment covers it; S3 is not.
    assert fig.eligible_cost == pytest.approx(190.0)
    assert fig.covered_cost == pytest.approx(140.0)
    assert fig.coverage_pct == pytest.approx(140 / 190 * 100)
    assert fig.utilization_pct == pytest.approx(98 / 106 * 100)
    assert fig.unused_commitment_cost == pytest.approx(8.0)
    assert fig.effective_savings_rate_pct == pytest.approx((190 - (72 + 50 + 26 + 8)) / 190 * 100)
    usage = [r for r in fig.by_service if r["line"] == "usage"]
    assert {r["service"]: round(r["coverage_pct"], 2) for r in usage} == {
        "Amazon Elastic Compute Cloud": round(100 / 150 * 100, 2), "Amazon ElastiCache": 100.0}
    # The 8.00 unused is its Savings Plan's own line, in both tables; each table sums to the headline.
    [unused] = [r for r in fig.by_service if r["line"] == "unused_commitment"]
    assert (unused["service"], unused["unused"], unused["commitment_id"]) == ("unused: sp-1", 8.0, "sp-1")
    for table in (fig.by_service, fig.by_account):
        assert sum(r["eligible"] for r in table) == pytest.approx(fig.eligible_cost)
        assert sum(r["covered"] for r in table) == pytest.approx(fig.covered_cost)
        assert sum(r["used"] for r in table) == pytest.approx(fig.used_commitment_cost)
        assert sum(r["unused"] for r in table) == pytest.approx(fig.unused_commitment_cost)
    assert {r["account"] for r in fig.by_account} == {"111", "222"}
    assert [d["day"] for d in fig.daily] == [date(2026, 11, 2)]
    assert fig.by_program["savings_plans"]["utilization_pct"] == pytest.approx(72 / 80 * 100)
    # EC2 can take reservations too: RI coverage is 40 of the 190 RI-eligible
    assert fig.by_program["reservations"]["coverage_pct"] == pytest.approx(40 / 190 * 100)


def test_the_eligible_set_is_configurable(small_store: CostStore) -> None:
    eligible = eligible_services(("Amazon Simple Storage Service",))
    fig = figures_from(usage_frame(small_store, *NOV, eligible), *NOV, eligible)
    assert fig.eligible_cost == pytest.approx(1000 + 150 + 40)  # covered services stay eligible


HEADLINE = ("eligible_cost", "covered_cost", "eligible_effective_cost", "used_commitment_cost",
            "unused_commitment_cost", "rows_without_list_cost", "committed_rows_without_list_cost",
            "committed_without_list_effective_cost", "coverage_pct", "utilization_pct",
            "effective_savings_rate_pct")


@pytest.mark.parametrize("window", [NOV, (date(2026, 11, 2), date(2026, 11, 3)), (date(2026, 10, 1), NOV[0])])
def test_totals_are_the_headline_of_the_full_figures(small_store: CostStore, window: tuple[date, date]) -> None:
    """The quarterly KPIs and the month's coverage item read ``totals_from``; the commitment review reads
    ``figures_from``: over any window of one frame their headline figures are the same numbers."""
    from rituals.commitments import totals_from

    eligible = eligible_services()
    frame = usage_frame(small_store, *NOV, eligible)
    full, totals = figures_from(frame, *window, eligible), totals_from(frame, *window)
    assert {k: getattr(totals, k) for k in HEADLINE} == {k: getattr(full, k) for k in HEADLINE}
    assert (totals.by_service, totals.daily, totals.by_commitment, totals.programs) == ([], [], {}, [])
    if window == NOV:
        assert totals.eligible_cost == pytest.approx(190.0) and totals.unused_commitment_cost == pytest.approx(8.0)
def test_esr_and_utilization_arithmetic() -> None:
    assert effective_savings_rate_pct(100.0, 72.0) == pytest.approx(28.0)
    assert effective_savings_rate_pct(100.0, 110.0) == pytest.approx(-10.0)  # negative shown as negative
    assert effective_savings_rate_pct(None, 50.0) == 0.0  # no ListCost: no savings, no division error
    assert effective_savings_rate_pct(float("nan"), 50.0) == 0.0
    assert effective_savings_rate_pct(None, 0.0) is None
    assert effective_savings_rate_pct(0.0, 0.0) is None
    assert utilization_pct(0.75, 0.25) == pytest.approx(75.0)
    assert utilization_pct(0.0, 0.0) is None


# -- the baseline and the plan ---------------------------------------------------------------------------------
def _inputs(**kw) -> PlanInputs:
    values = {"eligible": [288.0] * 5, "covered_retained": [120.0] * 5, "used_retained": 450.0,
              "unused_retained": 50.0, "target_coverage_pct": 75.0, "discount_pct": 25.0, "percentile": 10.0}
    return PlanInputs(**{**values, **kw})


def test_percentile_is_numpys_linear_one() -> None:
    import numpy as np

    values = [100.0, 500.0, 300.0, 120.0, 90.0, 800.0]
    for p in (0, 10, 25, 50, 90, 100):
        assert percentile(values, p) == pytest.approx(float(np.percentile(values, p)))


def test_plan_without_open_actions() -> None:
    p = plan(_inputs())
    assert p.baseline_daily == pytest.approx(288.0) and p.baseline_hourly == pytest.approx(12.0)
    assert p.target_covered_hourly == pytest.approx(9.0)  # 75% of 12/h on demand
    assert p.covered_hourly == pytest.approx(5.0)
    assert p.recommended_additional_hourly == pytest.approx(3.0)  # 4/h on demand at 25% off
    assert p.suggestion == "buy" and not p.capped_at_baseline
    row = next(r for r in p.what_if if r["recommended"])
    assert row["coverage_pct"] == pytest.approx(75.0)
    assert row["monthly_savings"] == pytest.approx((96 - 72) * 365 / 12, abs=0.01)
    assert row["stranded_monthly"] == 0.0 and row["stranded_risk"] == "low"
    assert row["utilization_pct"] == pytest.approx((450 + 96 * 5 * 0.75) / (500 + 72 * 5) * 100, abs=0.001)


def test_plan_subtracts_open_right_sizing_and_clean_up() -> None:
    p = plan(_inputs(actions_monthly_savings=730.0))  # 24 a day, 1 an hour
    assert p.baseline_daily == pytest.approx(288.0 - 24.0)
    assert p.baseline_hourly == pytest.approx(11.0)
    assert p.expected_hourly == pytest.approx(11.0)
    assert p.recommended_additional_hourly == pytest.approx((0.75 * 11 - 5) * 0.75)


def test_plan_never_commits_above_the_baseline() -> None:
    p = plan(_inputs(eligible=[100.0, 500.0, 500.0, 500.0, 500.0], covered_retained=[0.0] * 5))
    assert p.low_daily == pytest.approx(260.0)
    assert p.capped_at_baseline
    assert p.target_covered_hourly == pytest.approx(260.0 / 24)
    assert p.recommended_additional_hourly == pytest.approx(260.0 / 24 * 0.75)


def test_an_oversized_commitment_strands() -> None:
    row = what_if(_inputs(), 9.0, baseline_daily=288.0)
    assert row["stranded_monthly"] == pytest.approx((216 - 168 * 0.75) * 365 / 12, abs=0.01)
    assert row["stranded_risk"] == "high"
    assert row["coverage_pct"] == pytest.approx(100.0)


def test_nothing_to_buy_defers_and_expiries_renew() -> None:
    assert plan(_inputs(covered_retained=[288.0] * 5)).suggestion == "defer"
    assert plan(_inputs(expiring_hourly=5.0)).suggestion == "renew"


def test_less_than_aws_sells_is_not_a_purchase() -> None:
    # AWS's smallest Savings Plan is 0.001 USD an hour: a smaller recommendation defers.
    assert suggest(0.000255, 0.0) == "defer" and suggest(0.001, 0.0) == "buy"
    assert suggest(0.0009, 5.0) == "defer" and suggest(0.002, 5.0) == "renew"


# -- the demo company ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def demo_review(demo_truth_and_path):
    from storage.clock import Clock
    from storage.home import Home
    from tests.conftest import FIXED_TODAY

    h = Home(demo_truth_and_path[1], clock_override=Clock(FIXED_TODAY))
    try:
        yield review(h)
    finally:
        h.close()


def test_demo_figures_match_the_generators_truth(demo_review, demo_truth) -> None:
    assert demo_review["start"] == date(2026, 10, 28) and demo_review["end"] == date(2026, 11, 27)
    assert demo_review["coverage_pct"] == pytest.approx(demo_truth.coverage_pct, abs=1.0)
    assert demo_review["utilization_pct"] == pytest.approx(demo_truth.utilization_pct, abs=1.0)
    assert 0 < demo_review["effective_savings_rate_pct"] < 30


def test_demo_lists_the_expiring_savings_plan(demo_review, demo_truth) -> None:
    soon = [c for c in demo_truth.commitments if (c.end - demo_truth.as_of).days <= 90]
    assert len(soon) == 1
    expiring = demo_review["expiring"]
    assert [c["commitment_id"] for c in expiring] == [soon[0].commitment_id]
    assert expiring[0]["expires_within_days"] == 60 and expiring[0]["days_left"] == 45
    assert expiring[0]["hourly_commitment"] == pytest.approx(soon[0].hourly)
    assert demo_review["terms_known"] and demo_review["terms_note"] is None
    assert demo_review["suggestion"] == "renew" and demo_review["recommended_additional_hourly"] > 0


def test_demo_baseline_follows_the_open_actions(demo_home) -> None:
    from sqlmodel import select

    from rituals.actions import update_action
    from storage.records import Action

    with demo_home.records.session() as s:  # the seeded reduction actions and the two accepted from the inbox
        open_reductions = sum(a.expected_monthly_savings or 0.0 for a in s.exec(select(Action)).all()
                              if a.kind in ("rightsizing", "cleanup") and a.status in ("open", "in_progress", "blocked"))
    before = review(demo_home)
    assert before["reduction_monthly_savings"] == pytest.approx(open_reductions)
    assert sum(1 for a in before["reduction_actions"] if a["recommendation_id"] is not None) == 2
    rightsizing = next(a for a in before["reduction_actions"] if a["kind"] == "rightsizing")
    update_action(demo_home.records, rightsizing["id"], actor_id=1, now=demo_home.clock.now(), status="done")
    after = review(demo_home)
    assert after["reduction_monthly_savings"] == pytest.approx(open_reductions - rightsizing["expected_monthly_savings"])
    assert after["baseline_daily"] == pytest.approx(
        before["baseline_daily"] + rightsizing["expected_monthly_savings"] * 12 / 365)


def test_synced_aws_figures_show_beside_ours(demo_home) -> None:
    from storage.sources.aws_tables import swap

    days = pd.date_range("2026-10-28", "2026-11-26").date
    swap(demo_home.costs, "aws_commitment_usage",
         [{"day": d, "program": "savings_plans", "measure": "utilization", "numerator": 90.0, "denominator": 100.0,
           "pct": 90.0, "unit": "USD"} for d in days])
    swap(demo_home.costs, "aws_recommendations",
         [{"term_years": 1, "payment_option": "NO_UPFRONT", "savings_plans_type": "COMPUTE_SP", "lookback_days": 30,
           "hourly_commitment": 6.5, "monthly_savings": 900.0, "currency": "USD"}])
    out = review(demo_home)
    row = out["aws"]["figures"][0]
    assert (row["program"], row["measure"], row["aws_pct"]) == ("savings_plans", "utilization", pytest.approx(90.0))
    assert row["difference_pts"] == pytest.approx(row["ours_pct"] - 90.0)
    assert out["aws_recommended_hourly"] == 6.5
    assert 6.5 in [r["additional_hourly"] for r in out["what_if"]]


# -- the decision ---------------------------------------------------------------------------------------------
def test_decision_names_the_accountable_approver_and_an_action(demo_home) -> None:
    from sqlmodel import select

    from rituals.raci import accountable_for, owner_for
    from rituals.runs import open_run
    from storage.records import Action

    now = datetime(2026, 11, 27, 10, tzinfo=UTC)
    with demo_home.records.write() as s:
        run = open_run(s, "commitment_review", "2026-11", None, now)
        got = record_decision(s, run, Decision("renew", 6.0, 1, "No Upfront", "Replace the expiring plan."),
                              by="priya", now=now, today=date(2026, 11, 27), currency="USD")
        with pytest.raises(ValueError, match="rationale"):
            record_decision(s, run, Decision("buy", 1.0, 1, "No Upfront", " "), by="priya", now=now,
                            today=date(2026, 11, 27), currency="USD")
        approver = accountable_for(s, "Commitment purchase (SP / RI)")
        doer = owner_for(s, "Commitment purchase (SP / RI)")
    with demo_home.records.session() as s:
        from rituals.runs import get_run

        stored = get_run(s, got.run_id)
        action = s.exec(select(Action).where(Action.id == got.action_id)).one()
    assert approver.role == "finance" and got.approver == approver.handle
    detail = stored.decisions[-1]["detail"]
    assert detail == {"kind": "commitment", "choice": "renew", "hourly_amount": 6.0, "term_years": 1,
                      "payment_option": "No Upfront", "rationale": "Replace the expiring plan.",
                      "approver": approver.handle, "currency": "USD"}
    assert action.kind == "commitment" and action.owner_id == doer.id and action.source_run_id == run.id
    assert action.due_date == date(2026, 12, 11)


# -- programs and usage types ----------------------------------------------------------------------------------
def _program_rows() -> pd.DataFrame:
    day = pd.Timestamp("2026-11-02")
    base = {"ChargePeriodStart": day, "ChargeCategory": "Usage", "SubAccountId": "111", "BillingCurrency": "USD",
            "PricingCategory": "Standard"}
    ec2, ecs, rds = "Amazon Elastic Compute Cloud", "AmazonECS", "Amazon Relational Database Service"
    sp = {"PricingCategory": "Committed", "CommitmentDiscountStatus": "Used", "CommitmentDiscountType": "Savings Plan"}
    ri_id = "arn:aws:rds:us-east-1:222:ri:db-1"
    rows = [
        {"ServiceName": ec2, "x_UsageType": "USE1-BoxUsage:m5.large", "ListCost": 100.0, "EffectiveCost": 70.0,
         "CommitmentDiscountId": "sp-c", **sp},
        {"ServiceName": ec2, "x_UsageType": "USE1-BoxUsage:m5.large", "ListCost": 60.0, "EffectiveCost": 60.0},
        {"ServiceName": ec2, "x_UsageType": "USE1-EBS:VolumeUsage.gp3", "ListCost": 40.0, "EffectiveCost": 40.0},
        {"ServiceName": ec2, "x_UsageType": "USE1-DataTransfer-Out-Bytes", "ListCost": 10.0, "EffectiveCost": 10.0},
        {"ServiceName": ec2, "x_UsageType": "USE1-BoxUsage:c6g.xlarge", "ListCost": 50.0, "EffectiveCost": 35.0,
         "CommitmentDiscountId": "sp-e", "CommitmentDiscountName": "EC2InstanceSavingsPlans c6g us-east-1", **sp},
        {"ServiceName": ecs, "x_UsageType": "USE1-Fargate-vCPU-Hours:perCPU", "ListCost": 30.0, "EffectiveCost": 30.0},
        {"ServiceName": ecs, "x_UsageType": "USE1-Fargate-EphemeralStorage-GB-Hours", "ListCost": 5.0,
         "EffectiveCost": 5.0},
        {"ServiceName": rds, "x_UsageType": "USE1-InstanceUsage:db.r6g.large", "ListCost": 80.0, "EffectiveCost": 50.0,
         "CommitmentDiscountId": ri_id, "PricingCategory": "Committed", "CommitmentDiscountStatus": "Used",
         "CommitmentDiscountType": "Reservation", "SubAccountId": "222"},
        {"ServiceName": rds, "x_UsageType": "USE1-RDS:GP3-Storage", "ListCost": 20.0, "EffectiveCost": 20.0},
        {"ServiceName": rds, "ListCost": 0.0, "EffectiveCost": 10.0, "CommitmentDiscountId": ri_id,
         "PricingCategory": "Committed", "CommitmentDiscountStatus": "Unused", "CommitmentDiscountType": "Reservation",
         "SubAccountId": "222"},
        {"ServiceName": "AWS Savings Plans", "ListCost": 0.0, "EffectiveCost": 6.0, "CommitmentDiscountId": "sp-c",
         "PricingCategory": "Committed", "CommitmentDiscountStatus": "Unused", "CommitmentDiscountType": "Savings Plan"},
        # A covered row with ListCost 0 (seen in real exports): no on-demand equivalent, left out of coverage.
        {"ServiceName": ec2, "x_UsageType": "USE1-BoxUsage:m5.large", "ListCost": 0.0, "EffectiveCost": 4.0,
         "CommitmentDiscountId": "sp-c", **sp},
        {"ServiceName": "Amazon ElastiCache", "x_UsageType": "USE1-NodeUsage:cache.r6g.large", "ListCost": 25.0,
         "EffectiveCost": 25.0},
    ]
    return pd.DataFrame([{**base, **r} for r in rows])


def test_programs_usage_types_and_unused_lines(tmp_path: Path) -> None:
    store = new_store(tmp_path)
    rows = _program_rows()
    with Staging(store) as staging:
        staging.append_frame(rows, "test")
        staging.commit()
    eligible = eligible_services()
    texts = {"sp-c": ["Savings Plan", "Compute Savings Plan, 1 year, no upfront"]}
    fig = figures_from(usage_frame(store, *NOV, eligible), *NOV, eligible, texts)

    # Expected from the rows: eligible usage is instance usage (BoxUsage, Fargate vCPU, RDS InstanceUsage) of
    # the coverage services, never EBS, data transfer, Fargate storage or RDS storage billed under them.
    ut = rows["x_UsageType"].fillna("")
    instance = ut.str.contains("BoxUsage|Fargate-vCPU-Hours|InstanceUsage")
    left_out = (rows["PricingCategory"] == "Committed") & (rows["ListCost"] == 0) & (
        rows["CommitmentDiscountStatus"] == "Used")
    headline = rows[instance & ~left_out & (rows["ServiceName"] != "Amazon ElastiCache")]
    covered = headline[headline["CommitmentDiscountStatus"] == "Used"]
    assert fig.eligible_cost == pytest.approx(headline["ListCost"].sum())
    assert fig.covered_cost == pytest.approx(covered["ListCost"].sum())
    assert fig.committed_rows_without_list_cost == int(left_out.sum()) == 1
    assert "4.00 USD" in warnings(fig, "USD")[0]

    progs = {p["id"]: p for p in fig.programs}
    assert list(progs) == ["compute_sp", "ec2_instance_sp", "ri_rds", "ri_elasticache"]

    def by_id(cid: str) -> pd.DataFrame:
        return rows[rows["CommitmentDiscountId"] == cid]

    def on_demand(services: set[str]) -> float:
        mine = rows[rows["ServiceName"].isin(services) & instance & rows["CommitmentDiscountId"].isna()]
        return float(mine["ListCost"].sum())

    sp_c, sp_e, ri = by_id("sp-c"), by_id("sp-e"), by_id("arn:aws:rds:us-east-1:222:ri:db-1")
    used_c = sp_c[sp_c["CommitmentDiscountStatus"] == "Used"]
    compute = progs["compute_sp"]
    assert compute["program"] == "Compute Savings Plans"
    assert compute["covered_cost"] == pytest.approx(used_c[used_c["ListCost"] > 0]["ListCost"].sum())
    assert compute["eligible_cost"] == pytest.approx(
        compute["covered_cost"] + on_demand({"Amazon Elastic Compute Cloud", "AmazonECS"}))
    assert compute["utilization_pct"] == pytest.approx(
        used_c["EffectiveCost"].sum() / sp_c["EffectiveCost"].sum() * 100)
    ec2i = progs["ec2_instance_sp"]
    assert ec2i["covered_cost"] == pytest.approx(sp_e["ListCost"].sum())
    assert ec2i["eligible_cost"] == pytest.approx(sp_e["ListCost"].sum() + on_demand({"Amazon Elastic Compute Cloud"}))
    assert ec2i["utilization_pct"] == pytest.approx(100.0)
    rds = progs["ri_rds"]
    assert (rds["coverage_pct"], rds["commitments"]) == (100.0, 1)
    ri_used = ri[ri["CommitmentDiscountStatus"] == "Used"]["EffectiveCost"].sum()
    assert rds["utilization_pct"] == pytest.approx(ri_used / ri["EffectiveCost"].sum() * 100)
    assert (progs["ri_elasticache"]["coverage_pct"], progs["ri_elasticache"]["eligible_cost"]) == (0.0, 25.0)
    assert sum(p["covered_cost"] for p in fig.programs) == pytest.approx(fig.covered_cost)
    assert sum(p["unused_commitment_cost"] for p in fig.programs) == pytest.approx(fig.unused_commitment_cost)

    # Unused commitment: one line per commitment, never spread over the services it was booked under.
    unused = {r["commitment_id"]: r for r in fig.by_service if r["line"] == "unused_commitment"}
    assert {c: r["unused"] for c, r in unused.items()} == {"arn:aws:rds:us-east-1:222:ri:db-1": 10.0, "sp-c": 6.0}
    assert unused["arn:aws:rds:us-east-1:222:ri:db-1"]["service"] == "unused: db-1"
    accounts = {r["account_name"]: r["account"] for r in fig.by_account if r["line"] == "unused_commitment"}
    assert accounts == {"unused: db-1": "222", "unused: sp-c": "111"}
    for table in (fig.by_service, fig.by_account):
        for col, total in (("eligible", fig.eligible_cost), ("covered", fig.covered_cost),
                           ("used", fig.used_commitment_cost), ("unused", fig.unused_commitment_cost)):
            assert sum(r[col] for r in table) == pytest.approx(total), col


def test_a_savings_plan_without_a_named_type_is_its_own_program(tmp_path: Path) -> None:
    store = new_store(tmp_path)
    with Staging(store) as staging:
        staging.append_frame(_program_rows(), "test")
        staging.commit()
    eligible = eligible_services()
    fig = figures_from(usage_frame(store, *NOV, eligible), *NOV, eligible)  # no terms say sp-c is Compute
    names = [p["program"] for p in fig.programs]
    assert "Savings Plans: Amazon Elastic Compute Cloud" in names
    assert fig.by_commitment["sp-c"]["program"].id.startswith("other:")


def test_rds_on_demand_without_a_reservation_leaves_savings_plans_coverage_unchanged(tmp_path: Path) -> None:
    rows = _program_rows()
    rds = {"ChargePeriodStart": pd.Timestamp("2026-11-02"), "ChargeCategory": "Usage", "SubAccountId": "333",
           "BillingCurrency": "USD", "PricingCategory": "Standard", "ServiceName": "Amazon Relational Database Service",
           "x_UsageType": "USE1-InstanceUsage:db.m6g.large", "ListCost": 300.0, "EffectiveCost": 300.0}
    eligible = eligible_services()
    texts = {"sp-c": ["Compute Savings Plan"]}
    figs = []
    for i, frame in enumerate((rows, pd.concat([rows, pd.DataFrame([rds])], ignore_index=True))):
        store = new_store(tmp_path / str(i))
        with Staging(store) as staging:
            staging.append_frame(frame, "test")
            staging.commit()
        fig = figures_from(usage_frame(store, *NOV, eligible), *NOV, eligible, texts)
        figs.append({p["id"]: p for p in fig.programs} | {"headline": {"eligible_cost": fig.eligible_cost}})
    before, after = figs
    for pid in ("compute_sp", "ec2_instance_sp"):
        assert after[pid]["coverage_pct"] == before[pid]["coverage_pct"]
    assert after["ri_rds"]["eligible_cost"] == pytest.approx(before["ri_rds"]["eligible_cost"] + 300.0)
    assert after["ri_rds"]["coverage_pct"] < before["ri_rds"]["coverage_pct"]
    # The headline counts RDS too (it is in the coverage set): it is the blended figure, and says so.
    assert after["headline"]["eligible_cost"] == pytest.approx(before["headline"]["eligible_cost"] + 300.0)
