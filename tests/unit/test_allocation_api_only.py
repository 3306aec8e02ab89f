"""Allocation with AWS sync data only: line items without Tags (account x service x day, as the sync's `costs`
data set stores them) plus the sync's per-tag costs (`aws_tag_costs`). Coverage, the sweep and the showback read
the tag costs then, and line items again as soon as any row of the window carries Tags."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import pytest

from rituals.allocation import coverage
from rituals.showback import showback_lines
from rituals.tag_sweep import Sweep, load_frames
from storage.config import Taxonomy
from storage.costs import CostStore
from storage.loader import Staging
from storage.sources.aws_tables import swap

D0 = date(2026, 11, 16)
END = D0 + timedelta(days=7)
TAX = Taxonomy("team", ("environment", "owner"), {}, {"team": ("pay", "search", "data")})
RULES = {"B": "data"}  # account B is owned by team data


def synced_store(tmp_path, *, tags: str | None = None) -> CostStore:
    """Line items as the sync writes them (no Tags, unless ``tags`` is given for one row) and tag costs:
    team on D0: A pay 30 + untagged 70, B untagged 50, C search 20 + 'Pay' 5 (not an allowed value);
    environment on D0: A prod 100, B untagged 50, C prod 25; two weeks earlier, A pay 10 of 40."""
    store = CostStore(tmp_path / "costs.duckdb", TAX)
    spend = {"A": 100.0, "B": 50.0, "C": 25.0}
    frame = pd.DataFrame([{"ChargePeriodStart": pd.Timestamp(D0), "SubAccountId": a, "ServiceName": "EC2",
                           "EffectiveCost": c, "BilledCost": c * 1.1, "ChargeCategory": "Usage",
                           "BillingAccountId": "payer", "Tags": None} for a, c in spend.items()]
                         + [{"ChargePeriodStart": pd.Timestamp(D0 - timedelta(days=14)), "SubAccountId": "A",
                             "ServiceName": "EC2", "EffectiveCost": 40.0, "BilledCost": 44.0,
                             "ChargeCategory": "Usage", "BillingAccountId": "payer", "Tags": None}])
    if tags is not None:
        frame.loc[0, "Tags"] = tags
    with Staging(store) as st:
        st.append_frame(frame, "sync")
        st.commit(replace_all=True)

    def tag(day: date, key: str, value: str | None, account: str, cost: float) -> dict:
        return {"day": day, "tag_key": key, "tag_value": value, "account_id": account, "unblended_cost": cost * 1.1,
                "amortized_cost": cost, "currency": "USD", "estimated": False}

    swap(store, "aws_tag_costs", [
        tag(D0, "team", "pay", "A", 30), tag(D0, "team", None, "A", 70), tag(D0, "team", None, "B", 50),
        tag(D0, "team", "search", "C", 20), tag(D0, "team", "Pay", "C", 5),
        tag(D0, "environment", "prod", "A", 100), tag(D0, "environment", None, "B", 50),
        tag(D0, "environment", "prod", "C", 25),
        tag(D0 - timedelta(days=14), "team", "pay", "A", 10), tag(D0 - timedelta(days=14), "team", None, "A", 30),
    ])
    return store


def test_coverage_comes_from_the_tag_costs_when_line_items_carry_no_tags(tmp_path) -> None:
    cov = coverage(synced_store(tmp_path), RULES, D0, END)
    assert (cov.total_cost, cov.by_tag_cost, cov.by_rule_cost) == (175.0, 50.0, 50.0)
    assert cov.coverage_pct == pytest.approx(100 / 175 * 100)


def test_the_sweep_reads_the_tag_costs_and_says_what_it_cannot_show(tmp_path) -> None:
    store = synced_store(tmp_path)
    frames = load_frames(store, RULES, D0, END)
    sweep = Sweep(frames, "USD", "team", TAX.keys, ("Usage",), 90.0, RULES, ("pay", "search", "data"),
                  dict(TAX.allowed_values))
    numbers = sweep.as_json()
    assert numbers["source"] == "aws_tag_costs"
    assert (numbers["total_cost"], numbers["by_tag_cost"], numbers["by_rule_cost"]) == (175.0, 50.0, 50.0)
    # Each key from its own rows; a key the sync stored nothing for has no figure (never 0).
    assert numbers["by_key"] == {"team": pytest.approx(50 / 175 * 100), "environment": pytest.approx(125 / 175 * 100),
                                 "owner": None}
    by_account = {r["account_id"]: (r["cost"], r["allocated_cost"]) for r in numbers["by_account"]}
    assert by_account == {"A": (100.0, 30.0), "B": (50.0, 50.0), "C": (25.0, 20.0)}
    teams = {r["team"]: r["cost"] for r in numbers["by_team"]}
    assert teams == {"pay": 30.0, "search": 20.0, "data": 50.0}
    assert numbers["by_service"] == [] and numbers["top_unallocated"] == []
    assert numbers["unallocated_by_service"] == []
    assert [(v["key"], v["value"], v["canonical"], v["cost"]) for v in numbers["variants"]] == [
        ("team", "Pay", "pay", 5.0)]
    # The trend's points come from the same rows: two weeks before, pay 10 of 40.
    points = {p["week"]: p["coverage_pct"] for p in numbers["trend"] if p["total_cost"]}
    assert sorted(points.values()) == [pytest.approx(25.0), pytest.approx(100 / 175 * 100)]


def test_any_tagged_line_item_in_the_window_means_line_items_are_used(tmp_path) -> None:
    store = synced_store(tmp_path, tags='{"team": "search"}')
    cov = coverage(store, RULES, D0, END)
    assert (cov.total_cost, cov.by_tag_cost, cov.by_rule_cost) == (175.0, 100.0, 50.0)
    assert load_frames(store, RULES, D0, END).source == "line_items"


def test_the_showback_splits_the_tag_costs(tmp_path) -> None:
    store = synced_store(tmp_path)
    lines = showback_lines(store, RULES, ["C"], D0, END)
    direct: dict[str, float] = {}
    shared: dict[str, float] = {}
    for line in lines:
        if line.reason is None:
            direct[line.team] = direct.get(line.team, 0.0) + line.cost
        else:
            shared[line.reason] = shared.get(line.reason, 0.0) + line.cost
    assert direct == {"pay": 30.0, "data": 50.0}
    assert shared == {"shared_account": 25.0, "unallocated": 70.0}
    assert sum(line.cost for line in lines) == 175.0
    assert sum(line.billed for line in lines) == pytest.approx(175.0 * 1.1)
    assert showback_lines(store, RULES, [], D0, END, recurring_only=True) == []


def test_the_monthly_review_tells_teams_from_the_tag_costs(tmp_path) -> None:
    from rituals.monthly_review import ALL_SERVICES, monthly_team_service
    from storage.clock import Clock
    from storage.home import Home

    home = Home(tmp_path / "home", clock_override=Clock(date(2026, 11, 27)))
    home.path.mkdir(parents=True)
    try:
        home.costs.taxonomy = TAX
        synced_store(home.path)
        frame = monthly_team_service(home, date(2026, 11, 1), date(2026, 12, 1))
        got = {(r.team if isinstance(r.team, str) else None, r.service): r.cost for r in frame.itertuples()}
        # No team owns an account in this home's records, and 'Pay' is not an allowed value: both unallocated.
        assert got == {("pay", ALL_SERVICES): 40.0, ("search", ALL_SERVICES): 20.0, (None, ALL_SERVICES): 155.0}
        assert frame["cost"].sum() == 215.0
    finally:
        home.close()


def test_several_windows_in_one_pass_each_read_from_their_own_source(tmp_path) -> None:
    # ``coverages`` (the quarterly scorecard's eight windows over one connection) decides tag costs or line
    # items per window: a tagged line item in the week of D0 switches that week only.
    from rituals.allocation import coverages

    store = synced_store(tmp_path, tags='{"team": "search"}')
    early = (D0 - timedelta(days=14), D0 - timedelta(days=7))
    found = coverages(store, RULES, [(D0, END), early, (END, END + timedelta(days=7))])
    assert [(c.start, c.end) for c in found] == [(D0, END), early, (END, END + timedelta(days=7))]
    assert [(c.total_cost, c.by_tag_cost, c.by_rule_cost) for c in found] == [
        (175.0, 100.0, 50.0),  # line items: A's row tagged search, B by rule
        (40.0, 10.0, 0.0),  # the sync's tag costs two weeks before: pay 10 of A's 40
        (0.0, 0.0, 0.0)]  # nothing billed
    assert found[:2] == [coverage(store, RULES, *w) for w in ((D0, END), early)]
