"""The explorer: its figures against a store written by hand (expected sums computed from the same rows in
the test), windows, drill-down, the filter line, saved views in the config, and the CSV export."""

from __future__ import annotations

from datetime import date

import pytest

from exports.explorer import explorer_csv
from rituals.explorer import (
    change_pct,
    drill_down,
    explore,
    filter_line,
    next_dimension,
    parse_filter_line,
    ritual_view,
    view_window,
)
from storage.config import ConfigError, ExplorerView, build_view, load_config, save_explorer_view
from storage.records import Team, TeamAccount
from tests.explorer_data import END, PREVIOUS, RULES, START, expected, write_store

TAXONOMY = load_config(None).taxonomy


@pytest.fixture
def hand_home(home):
    write_store(home.costs)
    with home.records.write() as s:
        for account, name in RULES.items():
            team = Team(name=name)
            s.add(team)
            s.flush()
            s.add(TeamAccount(account_id=account, team_id=team.id))
    return home


def _view(group_by: list[str], filters=(), excludes=(), cost="effective", granularity="day") -> ExplorerView:
    return build_view(group_by=group_by, filters=list(filters), excludes=list(excludes), preset="custom",
                      start=START, end=END, granularity=granularity, cost=cost, taxonomy=TAXONOMY)


def _as_dict(filters) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for text in filters:
        dim, _, values = text.partition("=")
        out[dim] = values.split(",")
    return out


CASES = [
    (["team"], [], [], "effective"),
    (["team", "service"], ["team=a,b"], [], "billed"),
    (["tag:environment"], [], ["service=Tax"], "list"),
    (["service"], ["team=(none)"], [], "effective"),
    (["region", "charge_category"], ["tag:environment=prod,(none)"], ["team=c", "charge_category=Credit"], "list"),
    (["resource"], ["account=acc-a,acc-b", "service=EC2,RDS"], ["region=eu-west-1"], "billed"),
    (["account"], [], [], "effective"),
]


@pytest.mark.parametrize(("group_by", "filters", "excludes", "cost"), CASES)
def test_explorer_matches_the_hand_computed_sums(hand_home, group_by, filters, excludes, cost) -> None:
    result = explore(hand_home, _view(group_by, filters, excludes, cost))
    want = expected(group_by, _as_dict(filters), _as_dict(excludes), cost)
    assert result.total == pytest.approx(want["total"])
    assert result.previous_total == pytest.approx(want["previous"])
    got = {tuple(r.values[d] for d in group_by): (round(r.cost, 2), round(r.previous_cost, 2)) for r in result.rows}
    assert got == pytest.approx(want["groups"])
    assert (result.start, result.end, result.previous_start) == (START, END, PREVIOUS)
    # largest spend first
    assert [r.cost for r in result.rows] == sorted((r.cost for r in result.rows), reverse=True)
    data = result.as_json()
    assert data["total"] == pytest.approx(want["total"]) and data["currency"] == "USD"
    assert data["cost_column"] == {"effective": "EffectiveCost", "billed": "BilledCost", "list": "ListCost"}[cost]
    assert data["change"] == pytest.approx(round(want["total"] - want["previous"], 2))


def test_team_is_the_allocation_tag_else_the_account_rule(hand_home) -> None:
    rows = {r.values["team"]: r.cost for r in explore(hand_home, _view(["team"])).rows}
    # a: 100 + 40 (key 'Team' folded) + 12.5 (value trimmed) - 10; b by rule: 70 + 33.25 + 11; c by tag on
    # b's account; acc-x untagged and unowned: unallocated (None)
    assert rows == pytest.approx({"a": 142.5, "b": 114.25, "c": 8.0, None: 44.0})


def test_periods_follow_the_granularity(hand_home) -> None:
    weekly = explore(hand_home, _view(["team"], granularity="week"))
    # 2026-10-10 is a Saturday: the weeks start on Mondays 10-05, 10-12 and 10-19
    assert [p["period"] for p in weekly.period_totals()] == [date(2026, 10, 5), date(2026, 10, 12),
                                                            date(2026, 10, 19)]
    assert sum(p["cost"] for p in weekly.period_totals()) == pytest.approx(weekly.total)
    daily = explore(hand_home, _view(["team"]))
    assert len(daily.period_totals()) == 10
    series = daily.chart_series()
    assert sum(v for points in series.values() for _, v in points) == pytest.approx(daily.total)


def test_drill_down_path(hand_home) -> None:
    top = _view(["team"], excludes=["team=c"])
    team_b = next(r for r in explore(hand_home, top).rows if r.values["team"] == "b")
    by_service = drill_down(top, team_b.values)
    assert by_service.group_by == ("service",) and by_service.filters == (("team", ("b",)),)
    assert by_service.excludes == ()  # the drilled dimension's exclude is replaced by the row's filter
    services = explore(hand_home, by_service)
    assert services.total == pytest.approx(team_b.cost)
    rds = next(r for r in services.rows if r.values["service"] == "RDS")
    by_resource = drill_down(by_service, rds.values)
    assert by_resource.group_by == ("resource",)
    assert dict(by_resource.filters) == {"team": ("b",), "service": ("RDS",)}
    assert [(r.values["resource"], r.cost) for r in explore(hand_home, by_resource).rows] == [("db-1", 44.25)]
    with pytest.raises(ValueError, match="finest"):
        drill_down(by_resource, {"resource": "db-1"})
    unallocated = drill_down(top, {"team": None})
    assert unallocated.filters == (("team", ("(none)",)),)
    assert explore(hand_home, unallocated).total == pytest.approx(44.0)
    assert [next_dimension(d) for d in ("team", "service", "account", "tag:owner")] == [
        "service", "resource", "service", "service"]


def test_windows() -> None:
    today = date(2026, 11, 27)
    assert view_window(ExplorerView(preset="last_7_days"), today) == (date(2026, 11, 13), date(2026, 11, 20), today)
    assert view_window(ExplorerView(preset="month_to_date"), today) == (
        date(2026, 10, 6), date(2026, 11, 1), today)
    assert view_window(ExplorerView(preset="last_month"), today) == (
        date(2026, 9, 1), date(2026, 10, 1), date(2026, 11, 1))
    assert view_window(ExplorerView(preset="last_12_months"), today) == (
        date(2024, 11, 1), date(2025, 11, 1), date(2026, 11, 1))
    # whole months are compared with as many whole months before; other windows with as many days
    assert view_window(ExplorerView(preset="custom", start=date(2026, 3, 1), end=date(2026, 4, 1)), today)[0] == \
        date(2026, 2, 1)
    assert view_window(ExplorerView(preset="custom", start=date(2026, 3, 2), end=date(2026, 3, 5)), today)[0] == \
        date(2026, 2, 27)
    assert view_window(ExplorerView(preset="month_to_date"), date(2026, 11, 1))[1:] == (
        date(2026, 11, 1), date(2026, 11, 2))
    assert change_pct(110.0, 100.0) == 10.0 and change_pct(5.0, 0.0) is None


def test_filter_line_round_trip_and_errors() -> None:
    filters, excludes = parse_filter_line("team=web,data; env=prod; !service=Amazon Simple Storage Service",
                                          TAXONOMY)
    assert filters == (("team", ("web", "data")), ("tag:environment", ("prod",)))
    assert excludes == (("service", ("Amazon Simple Storage Service",)),)
    view = ExplorerView(filters=filters, excludes=excludes)
    assert parse_filter_line(filter_line(view), TAXONOMY) == (filters, excludes)
    for bad, message in (("team", "DIMENSION=VALUE"), ("colour=red", "unknown dimension"), ("team=", "no value"),
                         ("tag:=x", "no tag key")):
        with pytest.raises(ValueError, match=message):
            parse_filter_line(bad, TAXONOMY)
    with pytest.raises(ValueError, match="granularity"):
        build_view(group_by=["team"], filters=[], excludes=[], preset=None, start=None, end=None,
                   granularity="hour", cost="effective", taxonomy=TAXONOMY)


def test_saved_views_from_the_config_file(tmp_path) -> None:
    (tmp_path / "finops-tui.toml").write_text(
        '[explorer.views.data-prod]\ngroup_by = ["service", "Region"]\nfilters = ["team=data", "env=prod"]\n'
        'excludes = ["service=Tax"]\npreset = "last_90_days"\ngranularity = "week"\ncost = "billed"\n\n'
        '[explorer.views.october]\ngroup_by = ["tag:Owner"]\npreset = "custom"\nstart = 2026-10-01\n'
        'end = "2026-11-01"\n', encoding="utf-8")
    views = load_config(tmp_path).explorer_views
    assert views["data-prod"] == ExplorerView(("service", "region"), (("team", ("data",)),
                                              ("tag:environment", ("prod",))), (("service", ("Tax",)),),
                                              "last_90_days", None, None, "week", "billed")
    assert views["october"].group_by == ("tag:owner",)
    assert (views["october"].start, views["october"].end) == (date(2026, 10, 1), date(2026, 11, 1))


@pytest.mark.parametrize(("body", "message"), [
    ('group_by = ["colour"]', "explorer.views.v': unknown dimension 'colour'"),
    ('filters = ["team"]', "explorer.views.v': filter 'team' must be"),
    ('preset = "last_week"', "preset must be one of"),
    ('preset = "custom"\nstart = "2026-10-01"', "needs both start and end"),
    ('start = "2026-13-01"\nend = "2026-11-01"', "explorer.views.v.start' must be an ISO date"),
    ('cost = "amortized"', "cost must be one of"),
    ('colour = "red"', "unknown key 'colour'"),
    ('group_by = "team"', "explorer.views.v.group_by' must be a list of strings"),
])
def test_a_bad_saved_view_names_the_file_and_key(tmp_path, body, message) -> None:
    (tmp_path / "finops-tui.toml").write_text(f"[explorer.views.v]\n{body}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="finops-tui.toml") as err:
        load_config(tmp_path)
    assert message in str(err.value)


def test_saving_a_view_keeps_the_file_and_refuses_a_name_twice(tmp_path) -> None:
    path = tmp_path / "finops-tui.toml"
    path.write_text("# my settings\n[targets]\nallocation_pct = 80.0\n", encoding="utf-8")
    view = ExplorerView(("team", "service"), (("team", ("web", 'we"ird')),), (("service", ("Tax",)),),
                        "custom", date(2026, 10, 1), date(2026, 10, 15), "week", "list")
    save_explorer_view(tmp_path, "mine", view)
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# my settings\n[targets]\nallocation_pct = 80.0\n")
    config = load_config(tmp_path)
    assert config.explorer_views["mine"] == view and config.targets.allocation_pct == 80.0
    with pytest.raises(ValueError, match="already saved"):
        save_explorer_view(tmp_path, "mine", view)
    with pytest.raises(ValueError, match="view name"):
        save_explorer_view(tmp_path, "a b", view)
    assert path.read_text(encoding="utf-8") == text


def test_ritual_views() -> None:
    window = (date(2026, 11, 16), date(2026, 11, 23))
    sweep = ritual_view("tag_sweep", window, charge_categories=("Usage",))
    assert (sweep.group_by, sweep.filters, sweep.start, sweep.end) == (
        ("team",), (("charge_category", ("Usage",)),), *window)
    case = {"dimension": "service", "value": "Amazon EC2", "start": date(2026, 11, 3), "end": date(2026, 11, 5)}
    triage = ritual_view("anomaly_triage", window, case=case)
    assert (triage.group_by, triage.filters, triage.start, triage.end) == (
        ("resource",), (("service", ("Amazon EC2",)),), date(2026, 11, 3), date(2026, 11, 5))
    assert ritual_view("monthly_review", (date(2026, 10, 1), date(2026, 11, 1))).group_by == ("team",)


def test_csv_is_plain_text_and_never_a_formula(hand_home) -> None:
    result = explore(hand_home, _view(["team", "service"]))
    lines = explorer_csv(result).splitlines()
    assert lines[0] == "team,service,cost,previous_cost,change,change_pct"
    assert "a,EC2,130.0,80.0,50.0,62.5" in lines
    assert len(lines) == len(result.rows) + 1
    from exports.explorer import _cell

    assert _cell("=HYPERLINK(1)") == "'=HYPERLINK(1)" and _cell("\x1b[31mred") == "red" and _cell(None) == ""
