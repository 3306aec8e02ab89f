"""A hand-made AWS Data Exports COST_OPTIMIZATION_RECOMMENDATIONS file (CSV and Parquet): stored as a swap,
right-sizing and clean-up into the inbox, purchases kept for the commitment review, a bad value named by
file, row and column with nothing changed."""

from __future__ import annotations

import csv
from datetime import UTC, datetime

import pandas as pd
import pytest

from rituals import inbox
from storage import cost_queries
from storage.loader import LoadError
from storage.sources.optimization_file import header, import_recommendation_files, is_recommendations_file

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
COLUMNS = ["account_id", "account_name", "action_type", "currency_code", "current_resource_details",
           "current_resource_summary", "current_resource_type", "estimated_monthly_cost_after_discount",
           "estimated_monthly_cost_before_discount", "estimated_monthly_savings_after_discount",
           "estimated_monthly_savings_before_discount", "estimated_savings_percentage_after_discount",
           "estimated_savings_percentage_before_discount", "implementation_effort", "last_refresh_timestamp",
           "recommendation_id", "recommendation_lookback_period_in_days", "recommendation_source",
           "recommended_resource_details", "recommended_resource_summary", "recommended_resource_type", "region",
           "resource_arn", "restart_needed", "rollback_possible", "tags"]


def _row(rid: str, action: str, arn: str, before: str, after: str, effort: str = "Low",
         restart: str = "true", rtype: str = "Ec2Instance") -> dict:
    return {"account_id": "111122223333", "account_name": "web-prod", "action_type": action,
            "currency_code": "USD", "current_resource_summary": "m5.2xlarge", "current_resource_type": rtype,
            "estimated_monthly_savings_after_discount": after, "estimated_monthly_savings_before_discount": before,
            "implementation_effort": effort, "last_refresh_timestamp": "2026-11-26 04:00:00",
            "recommendation_id": rid, "recommendation_lookback_period_in_days": "14",
            "recommendation_source": "ComputeOptimizer", "recommended_resource_summary": "m5.xlarge",
            "region": "eu-west-1", "resource_arn": arn, "restart_needed": restart, "rollback_possible": "true"}


ROWS = [
    _row("r1", "Rightsize", "arn:aws:ec2:eu-west-1:111122223333:instance/i-0abc", "140.16", "98.5"),
    _row("r2", "Delete", "arn:aws:ec2:eu-west-1:111122223333:volume/vol-9", "8.0", "", effort="VeryLow",
         restart="false", rtype="EbsVolume"),
    _row("r3", "PurchaseSavingsPlans", "arn:aws:savingsplans::111122223333:savingsplan/sp", "900", "900",
         rtype="ComputeSavingsPlans"),
]


def _csv(path, rows) -> None:
    with path.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=COLUMNS)
        w.writeheader()
        w.writerows(rows)


@pytest.mark.parametrize("kind", ["csv", "parquet"])
def test_file_into_store_and_inbox(home, tmp_path, kind) -> None:
    path = tmp_path / f"recs.{kind}"
    if kind == "csv":
        _csv(path, ROWS)
    else:
        frame = pd.DataFrame(ROWS).reindex(columns=COLUMNS)
        frame["estimated_monthly_savings_before_discount"] = frame["estimated_monthly_savings_before_discount"].astype(float)
        frame["estimated_monthly_savings_after_discount"] = pd.to_numeric(
            frame["estimated_monthly_savings_after_discount"].replace("", None))
        frame["restart_needed"] = frame["restart_needed"] == "true"
        frame.to_parquet(path)
    assert is_recommendations_file(header(path))
    assert import_recommendation_files(home.costs, [path], NOW) == (3, 1)
    done = inbox.refresh_from_store(home.records, home.costs, "data_exports", NOW)
    assert (done.found, done.new, done.purchases_skipped) == (2, 2, 1)
    with home.records.session() as s:
        got = {i.resource_id: i for i in inbox.items(s, NOW.date())}
    assert set(got) == {"i-0abc", "vol-9"}
    # after-discount saving where given, before-discount otherwise; AWS's effort names in snake_case
    assert (got["i-0abc"].action_type, got["i-0abc"].estimated_monthly_savings, got["i-0abc"].effort,
            got["i-0abc"].restart_needed) == ("rightsize", 98.5, "low", True)
    assert (got["vol-9"].action_kind, got["vol-9"].estimated_monthly_savings, got["vol-9"].effort,
            got["vol-9"].restart_needed) == ("cleanup", 8.0, "very_low", False)
    purchases = cost_queries.optimization_purchases(home.costs)
    assert purchases is not None
    assert [p["recommendation_id"] for p in purchases] == ["r3"] and purchases[0]["estimated_monthly_savings"] == 900


def test_a_bad_value_is_named_and_changes_nothing(home, tmp_path) -> None:
    good = tmp_path / "good.csv"
    _csv(good, ROWS[:1])
    import_recommendation_files(home.costs, [good], NOW)
    before = cost_queries.optimization_rows(home.costs, ["data_exports"])
    bad = tmp_path / "bad.csv"
    _csv(bad, [ROWS[1], {**ROWS[0], "estimated_monthly_savings_before_discount": "lots"}])
    with pytest.raises(LoadError) as err:
        import_recommendation_files(home.costs, [bad], NOW)
    assert str(err.value.problems[0]) == (f"{bad}, row 2, column estimated_monthly_savings_before_discount: "
                                          "not a finite number")
    missing = tmp_path / "missing.csv"
    missing.write_text("recommendation_id,action_type,estimated_monthly_savings_before_discount\nr,Delete,1\n")
    with pytest.raises(LoadError, match="missing recommendations columns: account_id"):
        import_recommendation_files(home.costs, [missing], NOW)
    pd.testing.assert_frame_equal(cost_queries.optimization_rows(home.costs, ["data_exports"]), before)


def test_commitment_review_shows_purchases_and_subtracts_only_accepted(home, tmp_path) -> None:
    from datetime import timedelta

    from rituals.commitment_review import reduction_actions
    from rituals.commitments import hub_purchases
    from rituals.people import add_person

    path = tmp_path / "recs.csv"
    _csv(path, ROWS)
    import_recommendation_files(home.costs, [path], NOW)
    inbox.refresh_from_store(home.records, home.costs, "data_exports", NOW)
    assert [(p["recommendation_id"], p["estimated_monthly_savings"]) for p in hub_purchases(home.costs)] == [("r3", 900.0)]
    assert reduction_actions(home) == []  # two open inbox items, none accepted: nothing subtracted
    with home.records.write() as s:
        owner = add_person(s, "ana", "Ana", "engineering")
        rec_id = next(i.id for i in inbox.items(s, NOW.date()) if i.resource_id == "vol-9")
        action = inbox.accept(s, rec_id, owner_id=owner.id, due=NOW.date() + timedelta(days=7), today=NOW.date(),
                              now=NOW, actor_id=None)
        action_id = action.id
    assert [(a["id"], a["recommendation_id"], a["resource_id"], a["expected_monthly_savings"])
            for a in reduction_actions(home)] == [(action_id, rec_id, "vol-9", 8.0)]
