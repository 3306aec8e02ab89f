"""The board's figures are the rituals' own, on scratch homes where the old board's own formulas drifted:
configured charge categories, a team budget beside the organisation's, and the first days of a month.
Expected figures are computed here from the rows the test writes."""

from __future__ import annotations

import json
from datetime import date

import pandas as pd
import pytest

from rituals.board import build_board
from rituals.ritual import ritual
from storage.clock import Clock
from storage.home import Home
from storage.loader import Staging

CONFIG = """
[taxonomy]
allocation_key = "team"
required_keys = ["environment"]
charge_categories = ["Usage", "Purchase"]

[taxonomy.allowed_values]
team = ["web", "data"]
"""


def row(day: date, cost: float, *, team: str | None = None, category: str = "Usage") -> dict:
    return {"ChargePeriodStart": pd.Timestamp(day), "EffectiveCost": cost, "BilledCost": cost,
            "ChargeCategory": category, "SubAccountId": "A1", "SubAccountName": "prod", "ServiceName": "EC2",
            "ResourceId": f"r-{team or 'none'}-{category}", "BillingCurrency": "USD",
            "Tags": json.dumps({"team": team}) if team else None}


def scratch_home(tmp_path, today: date, rows: list[dict]) -> Home:
    (tmp_path / "finops-tui.toml").write_text(CONFIG, encoding="utf-8")
    home = Home(tmp_path, clock_override=Clock(today))
    with Staging(home.costs, default_currency="USD") as staging:
        staging.append_frame(pd.DataFrame(rows), "test")
        staging.commit(replace_all=True)
    return home


def add_budgets(home: Home, month: date, team: float | None, org: float | None) -> None:
    from storage.records import Budget, Team

    with home.records.write() as s:
        web = Team(name="web")
        s.add(web)
        s.flush()
        if team is not None:
            s.add(Budget(team_id=web.id, month=month, amount=team))
        if org is not None:
            s.add(Budget(team_id=None, month=month, amount=org))


def test_allocation_uses_the_configured_charge_categories(tmp_path) -> None:
    # 100 tagged usage and 100 untagged purchase in the last 7 days: with Purchase configured as spend,
    # half is allocated (the old board counted Usage only and showed 100%).
    today = date(2026, 11, 20)
    rows = [row(date(2026, 11, 17), 100.0, team="web"), row(date(2026, 11, 17), 100.0, category="Purchase")]
    home = scratch_home(tmp_path, today, rows)
    board = build_board(home)
    assert board.kpis is not None and board.kpis.allocation_pct == pytest.approx(50.0)
    sweep = ritual("tag_sweep").findings(home, window=board.kpis.allocation_window).as_json()
    assert sweep["coverage_pct"] == pytest.approx(board.kpis.allocation_pct)


@pytest.mark.parametrize(("team", "org", "expected"), [(3000.0, 3000.0, 3000.0), (3000.0, None, 3000.0),
                                                       (None, 4000.0, 4000.0)])
def test_the_month_budget_is_the_organisations_not_the_sum_of_every_row(tmp_path, team, org, expected) -> None:
    today = date(2026, 11, 20)
    home = scratch_home(tmp_path, today, [row(date(2026, 11, d), 10.0, team="web") for d in range(1, 20)])
    add_budgets(home, date(2026, 11, 1), team, org)
    kpis = build_board(home).kpis
    assert kpis is not None and kpis.month_budget == pytest.approx(expected)
    assert kpis.mtd_spend == pytest.approx(19 * 10.0)  # Nov 1-19, today excluded
    assert kpis.mtd_budget_prorated == pytest.approx(expected * 19 / 30, abs=0.01)  # money, to the cent
    # The monthly review of November uses the same budget.
    from rituals.monthly_review import budgets

    assert budgets(home.records, date(2026, 11, 1))[1] == pytest.approx(expected)


@pytest.mark.parametrize("today", [date(2026, 12, 1), date(2026, 12, 3)])
def test_on_the_first_days_of_a_month_the_board_shows_last_month_against_its_budget(tmp_path, today) -> None:
    nov = [row(date(2026, 11, d), 25.0 + d, team="web") for d in range(1, 31)]
    dec = [row(date(2026, 12, d), 1000.0, team="web") for d in range(1, today.day)]
    home = scratch_home(tmp_path, today, nov + dec)
    add_budgets(home, date(2026, 11, 1), None, 2000.0)
    add_budgets_dec = 5000.0
    from storage.records import Budget

    with home.records.write() as s:
        s.add(Budget(team_id=None, month=date(2026, 12, 1), amount=add_budgets_dec))
    kpis = build_board(home).kpis
    assert kpis is not None
    assert kpis.spend_label.startswith("Last month") and kpis.spend_month == date(2026, 11, 1)
    assert kpis.mtd_spend == pytest.approx(sum(25.0 + d for d in range(1, 31)))
    assert kpis.month_budget == pytest.approx(2000.0) and kpis.mtd_budget_prorated == pytest.approx(2000.0)


def test_from_the_fourth_the_board_shows_the_month_to_date(tmp_path) -> None:
    today = date(2026, 12, 4)
    rows = [row(date(2026, 11, 30), 99.0, team="web")] + [row(date(2026, 12, d), 10.0, team="web")
                                                           for d in range(1, 4)]
    home = scratch_home(tmp_path, today, rows)
    kpis = build_board(home).kpis
    assert kpis is not None and kpis.spend_label == "Month to date"
    assert kpis.mtd_spend == pytest.approx(30.0)
