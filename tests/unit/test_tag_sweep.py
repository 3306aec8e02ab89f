"""The tag sweep's figures against small hand-computed frames loaded through the real loader, the real FOCUS
sample against a computation over the raw file, and the demo company against its generator's truth."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from rituals.allocation import coverage
from rituals.tag_sweep import Sweep, fold_value, load_frames, suggest_team, variants
from storage.config import Taxonomy
from storage.cost_queries.allocation import ValueCost
from storage.costs import CostStore
from storage.loader import Staging

D0 = date(2026, 11, 16)  # a Monday
END = D0 + timedelta(days=7)
TAX = Taxonomy("team", ("environment", "owner"), {"env": "environment"}, {"team": ("web", "data", "search")})


def row(cost: float, tags: dict | None = None, *, day: date = D0, account: str = "A1", service: str = "EC2",
        resource: str | None = "r-1", category: str = "Usage", status: str | None = None,
        cost_categories: dict | None = None) -> dict:
    return {"ChargePeriodStart": pd.Timestamp(day), "EffectiveCost": cost, "BilledCost": cost,
            "ChargeCategory": category, "SubAccountId": account, "SubAccountName": f"name-{account}",
            "ServiceName": service, "ResourceId": resource, "Tags": json.dumps(tags) if tags else None,
            "CommitmentDiscountStatus": status, "BillingCurrency": "USD",
            "x_CostCategories": json.dumps(cost_categories) if cost_categories else None}


def store_with(tmp_path: Path, rows: list[dict], taxonomy: Taxonomy = TAX) -> CostStore:
    store = CostStore(tmp_path / "costs.duckdb", taxonomy)
    with Staging(store) as staging:
        staging.append_frame(pd.DataFrame(rows), "test")
        staging.commit(replace_all=True)
    return store


def sweep_of(store: CostStore, rules: dict[str, str] | None = None, teams: tuple[str, ...] = ("web", "data"),
             start: date = D0, end: date = END, categories: tuple[str, ...] = ("Usage",)) -> Sweep:
    frames = load_frames(store, rules or {}, start, end, categories)
    tax = store.taxonomy
    return Sweep(frames, "USD", tax.allocation_key, tax.keys, categories, 90.0, rules or {}, teams,
                 dict(tax.allowed_values))


def test_all_tagged(tmp_path) -> None:
    store = store_with(tmp_path, [row(60, {"team": "web", "env": "prod"}, resource="a"),
                                  row(30, {"Team ": "data"}, resource="b"),
                                  row(10, {"team": "search", "owner": "x"}, resource="c", account="A2")])
    s = sweep_of(store)
    c = s.coverage
    assert (c.total_cost, c.by_tag_cost, c.by_rule_cost, c.unallocated_cost) == (100, 100, 0, 0)
    assert (c.coverage_pct, c.by_tag_pct, c.by_rule_pct) == (100.0, 100.0, 0.0)
    assert s.by_key == {"team": 100.0, "environment": 60.0, "owner": 10.0}
    assert s.top_unallocated == [] and s.unallocated_by_account == []
    assert [[r["team"], r["cost"], r["share_pct"], r["by_tag_pct"]] for r in s.by_team] == [
        ["web", 60.0, 60.0, 100.0], ["data", 30.0, 30.0, 100.0], ["search", 10.0, 10.0, 100.0]]
    out = s.as_json()
    assert out["meets_target"] is True and out["by_account"][0]["coverage_pct"] == 100.0


def test_none_tagged(tmp_path) -> None:
    store = store_with(tmp_path, [row(50, resource="i-web-1"), row(20, resource="i-web-1", day=D0 + timedelta(1)),
                                  row(25, {"env": "dev"}, account="A2", service="S3", resource="data-bucket"),
                                  row(5, resource=None, account="A2", service="Support")])
    s = sweep_of(store)
    assert (s.coverage.total_cost, s.coverage.unallocated_cost, s.coverage.coverage_pct) == (100, 100, 0.0)
    assert s.by_key == {"team": 0.0, "environment": 25.0, "owner": 0.0}
    top = s.as_json()["top_unallocated"]
    assert [(r["resource_id"], r["account_id"], r["service"], r["cost"], r["suggested_owner"]) for r in top] == [
        ("i-web-1", "A1", "EC2", 70.0, "web"), ("data-bucket", "A2", "S3", 25.0, "data"),
        (None, "A2", "Support", 5.0, None)]
    leaks = s.as_json()["unallocated_by_account"]
    assert [(r["account_id"], r["unallocated_cost"], r["share_pct"]) for r in leaks] == [
        ("A1", 70.0, 70.0), ("A2", 30.0, 30.0)]
    assert [(r["service"], r["coverage_pct"]) for r in s.as_json()["by_service"]] == [
        ("EC2", 0.0), ("S3", 0.0), ("Support", 0.0)]
    assert s.meets_target is False


def test_only_credits_and_negative_costs_stay_between_0_and_100(tmp_path) -> None:
    store = store_with(tmp_path, [row(-40, category="Credit", resource=None), row(-10, {"team": "web"},
                                                                                  category="Credit")])
    s = sweep_of(store)  # credits are not spend by default: nothing to measure
    assert s.coverage.total_cost == 0 and s.coverage.coverage_pct is None and s.by_key["team"] is None
    assert s.as_json()["coverage_pct"] is None
    both = sweep_of(store, categories=("Usage", "Credit"))  # negative total: still no percentage
    assert both.coverage.total_cost == -50 and both.coverage.coverage_pct is None
    assert all(r["coverage_pct"] is None for r in both.as_json()["by_account"])

    mixed = store_with(tmp_path / "m", [row(100, {"team": "web"}), row(-30, category="Credit", resource="c"),
                                        row(20, resource="u"), row(-25, resource="refund")])
    s = sweep_of(mixed, categories=("Usage", "Credit"))
    # allocated 100 of a total of 65: capped at 100, never 153.8; the unallocated share is never below 0
    assert s.coverage.total_cost == 65 and s.coverage.allocated_cost == 100
    assert s.coverage.coverage_pct == 100.0 and s.coverage.by_tag_pct == 100.0
    usage_only = sweep_of(mixed)  # 100 tagged, 20 untagged, a -25 refund row: 100 / 95
    assert usage_only.coverage.coverage_pct == 100.0
    assert [r["resource_id"] for r in usage_only.as_json()["top_unallocated"]] == ["u"]  # no negative "resource"


def test_rules_come_below_tags(tmp_path) -> None:
    store = store_with(tmp_path, [
        row(40, {"team": "data"}, account="A1", resource="tagged"),  # tag wins over A1's rule
        row(30, account="A1", resource="bare"),  # A1 is owned by web: by rule
        row(10, {"team": "Web"}, account="A1", resource="bad-value"),  # not an allowed value: the rule decides
        row(15, account="A3", resource="cc", cost_categories={"team": "search"}),  # a cost category value
        row(5, {"team": "Web"}, account="A3", resource="lost"),  # no rule: unallocated
    ])
    s = sweep_of(store, rules={"A1": "web"})
    c = s.coverage
    assert (c.total_cost, c.by_tag_cost, c.by_rule_cost, c.unallocated_cost) == (100, 40, 55, 5)
    assert (c.coverage_pct, c.by_tag_pct, c.by_rule_pct) == pytest.approx((95.0, 40.0, 55.0))
    want = coverage(store, {"A1": "web"}, D0, END)  # the one definition, read directly
    assert (want.by_tag_cost, want.by_rule_cost, want.total_cost) == (c.by_tag_cost, c.by_rule_cost, c.total_cost)
    teams = {r["team"]: (r["cost"], r["by_tag_pct"], r["by_rule_pct"]) for r in s.as_json()["by_team"]}
    assert teams == {"data": (40.0, 100.0, 0.0), "web": (40.0, 0.0, 100.0), "search": (15.0, 0.0, 100.0)}
    assert s.by_key["team"] == 40.0  # hygiene counts allowed tag values only
    assert [(r["resource_id"], r["suggested_owner"]) for r in s.as_json()["top_unallocated"]] == [("lost", None)]


def test_variant_folding(tmp_path) -> None:
    store = store_with(tmp_path, [
        row(50, {"env": "prod", "team": "web"}), row(20, {"Environment": "Prod"}, resource="b"),
        row(10, {"environment": "production"}, resource="c"), row(5, {"env": "dev"}, resource="d"),
        row(7, {"team": "Web"}, resource="e"), row(3, {"team": "WEB "}, resource="f"),
        row(4, {"team": "growth"}, resource="g")])
    got = sweep_of(store).as_json()["variants"]
    assert got == [
        {"key": "environment", "value": "Prod", "canonical": "prod", "cost": 20.0},
        {"key": "environment", "value": "production", "canonical": "prod", "cost": 10.0},
        {"key": "team", "value": "Web", "canonical": "web", "cost": 7.0},
        {"key": "team", "value": "WEB", "canonical": "web", "cost": 3.0},
    ]
    # Without allowed values the most-spent spelling is the canonical one.
    spelled = [ValueCost("env", v, c) for v, c in (("Stg", 5.0), ("staging", 9.0), ("STAGE", 1.0))]
    assert [(r["value"], r["canonical"]) for r in variants(spelled)] == [("Stg", "staging"), ("STAGE", "staging")]
    assert fold_value(" Pro_duction ") != fold_value("prod") and fold_value("Production") == "prod"


def test_a_zero_cost_window(tmp_path) -> None:
    store = store_with(tmp_path, [row(10, {"team": "web"}, day=D0 - timedelta(days=30))])
    s = sweep_of(store)
    out = s.as_json()
    assert (out["total_cost"], out["coverage_pct"], out["by_tag_pct"], out["meets_target"]) == (0, None, None, None)
    assert out["by_key"] == {"team": None, "environment": None, "owner": None}
    assert out["by_account"] == [] and out["top_unallocated"] == [] and out["variants"] == []
    assert out["unused_commitment"] is None
    json.dumps(out, allow_nan=False)  # never NaN
    zero = sweep_of(store_with(tmp_path / "z", [row(0.0, {"team": "web"}), row(0.0, resource="x")]))
    assert zero.coverage.coverage_pct is None and zero.top_unallocated == []


def test_eight_week_trend_ends_with_the_window(tmp_path) -> None:
    rows = [row(80, {"team": "web"}, day=D0), row(20, resource="u", day=D0 + timedelta(days=6)),
            row(10, {"team": "web"}, day=D0 - timedelta(days=1)), row(30, resource="u", day=D0 - timedelta(days=7)),
            row(99, {"team": "web"}, day=D0 - timedelta(days=57))]  # older than 8 weeks
    trend = sweep_of(store_with(tmp_path, rows)).as_json()["trend"]
    assert len(trend) == 8 and trend[-1]["start"] == D0.isoformat() and trend[-1]["end"] == END.isoformat()
    assert trend[-1]["week"] == "2026-W47" and trend[0]["week"] == "2026-W40"
    assert [(t["total_cost"], t["coverage_pct"]) for t in trend[-2:]] == [(40.0, 25.0), (100.0, 80.0)]
    assert all(t["total_cost"] == 0 and t["coverage_pct"] is None for t in trend[:-2])


def test_unused_commitment_is_its_own_line_not_a_resource(tmp_path) -> None:
    store = store_with(tmp_path, [row(70, {"team": "web"}), row(30, resource="sp-1", status="Unused", account="A9")])
    s = sweep_of(store)
    assert (s.unused_cost, s.unused_allocated) == (30.0, 0.0)
    assert s.top_unallocated == []  # not a mystery resource
    assert s.as_json()["unused_commitment"] == {"cost": 30.0, "allocated_cost": 0.0, "owner": None}
    assert s.coverage.coverage_pct == 70.0  # still spend, counted like every Usage row


@pytest.mark.parametrize(("rid", "name", "account", "want"), [
    ("arn:aws:ec2:us-east-1:1:i-ml-inference-004", None, "X", "ml-inference"),
    ("arn:aws:s3:::s3-data-lake", None, "X", "data"),
    ("db-web-2", None, "X", "web"),
    ("webhook-1", None, "X", None),  # "web" must end at a separator
    ("anything", None, "A1", "search"),  # the account's team first
    ("i-0abc", "data-etl", "X", "data"),  # the ResourceName, when there is one
    (None, None, "X", None),
])
def test_suggested_owner(rid, name, account, want) -> None:
    teams = ("web", "data", "ml-inference", "ml")
    assert suggest_team(rid, name, account, {"A1": "search"}, teams) == want


def test_sweep_equals_the_demo_truth_for_a_week(demo_home, demo_truth) -> None:
    from rituals.tag_fixes import compute_sweep

    for week in ("2026-W47", "2026-W44", "2026-W40"):
        start = date.fromisocalendar(2026, int(week[-2:]), 1)
        out = compute_sweep(demo_home, start, start + timedelta(days=7)).as_json()
        assert out["coverage_pct"] == pytest.approx(demo_truth.allocation_by_week[week], abs=0.1)
        total, allocated = demo_truth.usage_by_week[week]
        assert out["total_cost"] == pytest.approx(total, rel=1e-6)
        assert out["allocated_cost"] == pytest.approx(allocated, rel=1e-6)
    trend = {t["week"]: t["coverage_pct"] for t in out["trend"]}
    assert trend["2026-W37"] == pytest.approx(demo_truth.allocation_by_week["2026-W37"], abs=0.1)
    assert out["unused_commitment"]["owner"] == "marcus"  # finance is accountable for commitments
    assert {r["suggested_owner"] for r in out["top_unallocated"]} <= {"platform", "payments", "search", "data",
                                                                     "ml-inference", "web", "mobile", None}
    variants_seen = {(v["key"], v["value"]): v["canonical"] for v in out["variants"]}
    assert variants_seen[("environment", "Prod")] == "prod" and variants_seen[("team", "Payments")] == "payments"


# -- the real FOCUS sample --------------------------------------------------------------------------------
SAMPLE = "focus-sample-data/focus_sample.csv"
SAMPLE_TAX = Taxonomy("business_unit", ("environment", "application", "org"), {"env": "environment"})


def test_focus_sample_coverage_matches_the_raw_file(shared_data: Path, tmp_path) -> None:
    from storage.sources.files import import_files

    store = CostStore(tmp_path / "costs.duckdb", SAMPLE_TAX)
    import_files(store, [shared_data / SAMPLE])
    s = sweep_of(store, start=date(2024, 8, 1), end=date(2024, 11, 1))

    raw = pd.read_csv(shared_data / SAMPLE, na_values=["NULL"], keep_default_na=False, dtype={"Tags": object})
    usage = raw[raw["ChargeCategory"] == "Usage"]

    def carries(tags: object, key: str) -> bool:
        if not isinstance(tags, str):
            return False
        folded = {SAMPLE_TAX.canonical_key(k): v for k, v in json.loads(tags).items() if str(v).strip()}
        return key in folded

    total = usage["EffectiveCost"].sum()
    for key in SAMPLE_TAX.keys:
        share = usage.loc[[carries(t, key) for t in usage["Tags"]], "EffectiveCost"].sum() / total * 100
        share = min(share, 100.0)  # refunds among the untagged rows push a raw share over 100
        assert s.as_json()["by_key"][key] == pytest.approx(share, abs=1e-6), key
    tagged = usage.loc[[carries(t, "business_unit") for t in usage["Tags"]], "EffectiveCost"].sum()
    assert s.coverage.total_cost == pytest.approx(total, rel=1e-12)
    assert s.coverage.coverage_pct == pytest.approx(tagged / total * 100, abs=1e-9)
    assert 0 < s.coverage.coverage_pct < 100 and s.coverage.by_rule_cost == 0
    by_account = usage.groupby("SubAccountId", dropna=False)["EffectiveCost"].sum()
    want = {(k if isinstance(k, str) else None): v for k, v in by_account.items()}
    got = {r["account_id"]: r["cost"] for r in s.as_json()["by_account"]}
    assert got == pytest.approx(want, abs=1e-6)


# -- fixes: routing, creation, closure ---------------------------------------------------------------------
NOW = datetime(2026, 11, 27, 9, tzinfo=UTC)


def test_fixes_route_to_owners_and_close_when_the_data_says_so(home) -> None:
    from sqlmodel import select

    from rituals.raci import seed_default_raci
    from rituals.tag_fixes import check_fixes, close_verified, compute_sweep, create_fixes, fix_candidates
    from storage.records import Action, ActionEvent, Person, Team, TeamAccount

    with home.records.write() as s:
        seed_default_raci(s)
        lead, fin, wendy = (Person(handle="lea", name="Lea", role="finops_lead"),
                            Person(handle="fin", name="Fin", role="finance"),
                            Person(handle="wendy", name="Wendy", role="engineering"))
        s.add_all([lead, fin, wendy])
        s.flush()
        web = Team(name="web", owner_id=wendy.id)
        s.add(web)
        s.flush()
        s.add(TeamAccount(account_id="A1", team_id=web.id, account_name="web-prod"))
    today = home.clock.today()  # 2026-11-27
    w0, w1 = today - timedelta(days=14), today - timedelta(days=7)
    rows = [row(10, day=w0, account="A2", resource="web-api"),  # tagged the week after the fix was asked
            row(12, {"team": "web"}, day=w1, account="A2", resource="web-api"),
            row(8, day=w1, account="A2", resource="mystery"),
            row(5, {"team": "Web"}, day=w1, account="A2", resource="typo"),
            row(3, day=w1, account="A2", resource="sp", status="Unused"),
            row(20, day=w1, account="A1", resource="rule-covered")]
    store = CostStore(home.costs_path, home.config.taxonomy)
    with Staging(store) as staging:
        staging.append_frame(pd.DataFrame(rows), "test")
        staging.commit(replace_all=True)

    sweep = compute_sweep(home, w1, today)
    cands = {c.entity_key: c for c in fix_candidates(sweep)}
    assert cands["mystery"].owner == "lea" and cands["mystery"].team is None  # no team known: R of tagging
    assert cands["A2"].owner == "lea"
    assert "web-api" not in cands  # allocated this week
    assert sweep.as_json()["unused_commitment"]["owner"] == "fin"
    first = fix_candidates(compute_sweep(home, w0, w1))
    assert {c.entity_key: (c.team, c.owner) for c in first if c.entity_kind == "resource"} == {
        "web-api": ("web", "wendy")}  # the name's prefix names the team; its owner fixes it

    created_at = datetime.combine(w1, datetime.min.time(), UTC)
    with home.records.write() as s:
        made = create_fixes(s, first, due=w1 + timedelta(days=3), now=created_at, actor_id=lead.id)
        again = create_fixes(s, first, due=w1 + timedelta(days=3), now=created_at)
    assert len(made) == len([c for c in first]) and again == []  # an open fix is never doubled
    with home.records.session() as s:
        checks = {c.entity_key: c for c in check_fixes(s, store, {"A1": "web"}, w1, today)}
    web_api = checks["web-api"]
    assert (web_api.before_unallocated, web_api.now_cost, web_api.now_unallocated) == (10.0, 12.0, 0.0)
    assert web_api.verified and web_api.moved_cost == 10.0
    assert not checks["A2"].verified  # "mystery" is still unallocated there
    close_verified(home.records, web_api, actor_id=lead.id, now=NOW)
    with home.records.session() as s:
        action = s.get(Action, web_api.action_id)
        events = s.exec(select(ActionEvent.field).where(ActionEvent.action_id == action.id)).all()
    assert action.status == "done" and action.verified_at == NOW and action.version == 2
    assert events == ["created", "status", "verified_at"]
    from rituals.actions import StaleUpdate

    with pytest.raises(StaleUpdate):
        close_verified(home.records, checks["web-api"], actor_id=lead.id, now=NOW)
    with pytest.raises(ValueError, match="not verified"):
        close_verified(home.records, checks["A2"], actor_id=lead.id, now=NOW)


def test_minutes_of_a_recorded_sweep(home, tmp_path) -> None:
    from exports.minutes import render_minutes
    from rituals import runs

    store = store_with(tmp_path, [row(60, {"team": "web"}), row(40, {"env": "[prod]"}, resource="[x]|y")])
    numbers = sweep_of(store).as_json()
    with home.records.write() as s:
        run = runs.open_run(s, "tag_sweep", "2026-W47", None, NOW)
        runs.save_note(s, run, "leaks", "prod-main leaks")
    with home.records.write() as s:
        runs.close_run(s, run.id, numbers, NOW)
    with home.records.session() as s:
        text = render_minutes(s, run.id, "USD")
    assert "Allocation coverage 60.0% is below the 90.0% target" in text
    assert "60.0% by tag and 0.0% by an account rule, 60.0% in all" in text
    assert "| [x]\\|y |" in text  # a resource id as it is, its pipe escaped: never a broken table
    leaks = text[text.index("\n## Where it leaks\n"):text.index("\n## Variants\n")]
    assert "> **Notes.** prod-main leaks" in leaks  # the step's note, under the step's title


def test_a_fix_verdict_reads_its_own_figures() -> None:
    """Each verdict follows from the check's own before / now figures: nothing before and nothing now is no
    evidence (never "still unallocated"), spend left unallocated now is still unallocated."""
    from exports.minutes_tag_sweep import _verdict
    from rituals.tag_fixes import FixCheck, created_text

    def check(before: float, cost: float, unallocated: float, has_data: bool = True) -> FixCheck:
        return FixCheck(4, "Tag it", "kenji", "account", "111", 1, before, cost, unallocated, has_data)

    cases = {
        "verified": check(12.0, 30.0, 0.0),          # had 12 unallocated, 30 spent now, all allocated
        "still_unallocated": check(12.0, 30.0, 5.0),  # 5 of it still unallocated
        "no_evidence": check(0.0, 0.0, 0.0),          # the fix #4: before 0.00, now 0.00
        "no_data": check(12.0, 0.0, 0.0, has_data=False),
    }
    for verdict, c in cases.items():
        d = c.as_dict("USD")
        assert (d["verdict"], d["verified"]) == (verdict, verdict == "verified"), verdict
    assert cases["no_evidence"].as_dict()["verdict_text"] == \
        "nothing to verify: no unallocated spend before it was created and no spend now"
    assert cases["still_unallocated"].as_dict("USD")["verdict_text"] == \
        "still unallocated: 5.00 USD now (before 12.00 USD)"
    assert cases["verified"].as_dict("USD")["verdict_text"] == \
        "verified: 12.00 USD moved to allocated, none unallocated now"
    assert _verdict(cases["no_evidence"].as_dict()) == "no evidence: no spend then or now"
    assert _verdict({"verified": False}) == "no"  # a run frozen before verdicts existed
    assert created_text(1, date(2026, 12, 3)) == "1 tag-fix action created, due 2026-12-03"
    assert created_text(3, date(2026, 12, 3)) == "3 tag-fix actions created, due 2026-12-03"


def test_the_figures_do_not_depend_on_the_order_the_rows_came_in() -> None:
    """DuckDB's parallel scan returns the grouped rows in any order: every figure, and the order of every
    list, is the same for any order of the same rows (sums are exact-rounded, ties broken by key)."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from rituals.tag_sweep import (
        SweepFrames,
        coverage_by,
        coverage_by_team,
        headline,
        key_hygiene,
        unallocated_by,
    )
    from storage.cost_queries.allocation import SweepRow

    money = st.floats(min_value=-50, max_value=5000, allow_nan=False).map(lambda v: round(v, 4))
    row = st.builds(SweepRow, st.sampled_from(["A1", "A2", "A3", None]), st.sampled_from(["one", None]),
                    st.sampled_from(["EC2", "S3", None]), st.sampled_from(["tag", "rule", None]),
                    st.sampled_from(["web", "data"]), st.booleans(), money,
                    st.tuples(st.booleans(), st.booleans()))

    def figures(rows: list[SweepRow]) -> object:
        frames = SweepFrames(D0, END, rows, [], [], [])
        return (headline(frames), key_hygiene(rows, ("team", "env")), coverage_by(rows, "account_id"),
                coverage_by(rows, "service"), unallocated_by(rows, "account_id"), coverage_by_team(rows))

    @settings(max_examples=60, deadline=None)
    @given(st.lists(row, max_size=25), st.randoms(use_true_random=False))
    def check(rows: list[SweepRow], rnd) -> None:  # type: ignore[no-untyped-def]
        shuffled = list(rows)
        rnd.shuffle(shuffled)
        assert figures(shuffled) == figures(rows)

    check()
