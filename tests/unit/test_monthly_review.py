"""The monthly review's agenda: the action list carried across two reviews, the month-over-month drivers
against a hand-computed store, "not run yet" coverage, the demo's agenda, and golden minutes of a closed
review with hostile text in notes, decisions, action titles and team names."""

from __future__ import annotations

import json
import os
from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd

from exports import minutes
from exports.monthly_review import agenda_markdown, sparkline
from rituals import runs
from rituals.actions import create_action
from rituals.monthly_review import build_agenda, drivers, monthly_team_service
from rituals.review_actions import carried_actions, walk_update
from storage.loader import Staging
from storage.records import Person, Team, TeamAccount

GOLDEN = Path(__file__).with_name("golden")
HOSTILE = "# Not a heading | `tick` <script>x</script>\n- not a list\n[link](javascript:x) *bold* ~~del~~"


def _at(day: str, hour: int = 10) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)


def _people(home) -> dict[str, int]:
    with home.records.write() as s:
        people = [Person(handle="ana", name="Ana Lead", role="finops_lead"),
                  Person(handle="fin", name="Fin Ance", role="finance"),
                  Person(handle="bo", name="Bo Eng", role="engineering")]
        s.add_all(people)
        s.flush()
        web = Team(name="web", owner_id=people[2].id)
        s.add(web)
        s.flush()
        s.add(TeamAccount(account_id="A2", team_id=web.id, account_name="web-prod"))
        return {p.handle: p.id for p in people}


def test_carried_actions_across_two_reviews(home) -> None:
    ids = _people(home)
    with home.records.write() as s:
        sept = runs.open_run(s, "monthly_review", "2026-09", ids["ana"], _at("2026-10-05", 9))
        a = create_action(s, title="Right-size RDS", owner_id=ids["bo"], now=_at("2026-10-05"),
                          due_date=date(2026, 10, 20), source_run_id=sept.id)
        b = create_action(s, title="Delete old volumes", owner_id=ids["bo"], now=_at("2026-10-05"),
                          due_date=date(2026, 12, 20), source_run_id=sept.id)
        sweep = runs.open_run(s, "tag_sweep", "2026-W40", ids["ana"], _at("2026-10-01"))
        create_action(s, title="Tag it", owner_id=ids["bo"], now=_at("2026-10-01"), source_run_id=sweep.id)
        runs.close_run(s, sept.id, {"month": "2026-09"}, _at("2026-10-05", 11))
        a_id, b_id, sept_id = a.id, b.id, sept.id
    with home.records.session() as s:
        first = carried_actions(s, date(2026, 11, 5), before_period="2026-10")
    assert [r["id"] for r in first["open"]] == [a_id, b_id]  # the overdue one first
    assert first["overdue"] == 1 and first["open"][0]["overdue"] and first["done_since"] == []
    assert first["other_open"] == {"tag_sweep": 1}
    assert first["last_review"]["run_id"] == sept_id

    # The October review walks A to done and creates C; it closes.
    with home.records.write() as s:
        octo = runs.open_run(s, "monthly_review", "2026-10", ids["ana"], _at("2026-11-05", 9))
        c = create_action(s, title="Explain web over budget", owner_id=ids["fin"], now=_at("2026-11-05"),
                          source_run_id=octo.id)
        octo_id, c_id = octo.id, c.id
    walk_update(home.records, a_id, actor_id=ids["ana"], now=_at("2026-11-05", 10), status="done",
                note="done | `shipped`", if_version=1)
    with home.records.session() as s:
        during = carried_actions(s, date(2026, 11, 5), current_run=octo_id, before_period="2026-10")
    assert [r["id"] for r in during["open"]] == [b_id]
    assert [r["id"] for r in during["done_since"]] == [a_id]  # done since the September review closed
    assert c_id not in [r["id"] for r in during["open"]]  # the run's own action is new, not carried
    with home.records.write() as s:
        runs.close_run(s, octo_id, {"month": "2026-10"}, _at("2026-11-05", 11))

    # The November review: B and C carried, A was finished before the October review closed.
    with home.records.session() as s:
        third = carried_actions(s, date(2026, 12, 5), before_period="2026-11")
    assert [r["id"] for r in third["open"]] == [c_id, b_id] or [r["id"] for r in third["open"]] == [b_id, c_id]
    assert {r["id"] for r in third["open"]} == {b_id, c_id}
    assert third["done_since"] == [] and third["last_review"]["run_id"] == octo_id


def _row(cost: float, month: int, service: str, team: str | None = None, account: str = "A1",
         category: str = "Usage") -> dict:
    return {"ChargePeriodStart": pd.Timestamp(date(2026, month, 3)), "EffectiveCost": cost, "BilledCost": cost,
            "ChargeCategory": category, "SubAccountId": account, "SubAccountName": f"n-{account}",
            "ServiceName": service, "ResourceId": "r", "Tags": json.dumps({"team": team}) if team else None,
            "BillingCurrency": "USD"}


def _load(home, rows: list[dict]) -> None:
    with Staging(home.costs) as staging:
        staging.append_frame(pd.DataFrame(rows), "test")
        staging.commit(replace_all=True)


def test_drivers_against_a_hand_computed_store(home) -> None:
    _people(home)
    _load(home, [
        _row(100, 9, "EC2", "data"), _row(250, 10, "EC2", "data"),          # data EC2 +150
        _row(80, 9, "S3", "data"), _row(30, 10, "S3", "data"),              # data S3 -50
        _row(40, 9, "EC2", account="A2"), _row(60, 10, "EC2", account="A2"),  # web by the account rule +20
        _row(10, 9, "RDS"), _row(10, 10, "RDS"),                            # unallocated, unchanged: left out
        _row(0, 9, "Lambda"), _row(-5, 10, "Lambda", category="Credit"),    # unallocated credit -5
        _row(999, 11, "EC2", "data"),                                       # outside the two months
    ])
    frame = monthly_team_service(home, date(2026, 9, 1), date(2026, 11, 1))
    got = drivers(frame, date(2026, 10, 1), date(2026, 9, 1))
    assert [(d["team"], d["service"], d["previous_spend"], d["spend"], d["change"], d["change_pct"])
            for d in got] == [
        ("data", "EC2", 100.0, 250.0, 150.0, 150.0),
        ("data", "S3", 80.0, 30.0, -50.0, -62.5),
        ("web", "EC2", 40.0, 60.0, 20.0, 50.0),
        ("(unallocated)", "Lambda", 0.0, -5.0, -5.0, None),
    ]
    assert len(drivers(frame, date(2026, 10, 1), date(2026, 9, 1), top=2)) == 2

    agenda = build_agenda(home, date(2026, 10, 1), detect_anomalies=False)
    spend = agenda["spend"]
    assert spend["available"] and spend["total"]["spend"] == 345.0 and spend["total"]["previous_spend"] == 230.0
    assert spend["drivers_change"] == 115.0 == spend["total"]["change"]
    # Coverage is the month's own: October's usage rows are 250 + 30 (data, by tag), 60 (web, by the
    # account rule) and 10 (RDS, unallocated); the credit is not a usage row.
    cov = agenda["coverage"]
    al = cov["allocation"]
    assert (al["start"], al["end"]) == (date(2026, 10, 1), date(2026, 11, 1))
    assert al["total_cost"] == 350.0 and al["unallocated_cost"] == 10.0
    assert al["coverage_pct"] == round(340 / 350 * 100, 4) and al["by_tag_pct"] == 80.0
    assert al["last_sweep"] is None and cov["commitments"]["last_review"] is None
    text = agenda_markdown(agenda)
    assert "Allocation coverage 97.1% against the 90% target over 2026-10-01 to 2026-11-01" in text
    assert "10 USD of 350 USD unallocated. No tag sweep closed yet." in text
    assert "| data | EC2 | 100 USD | 250 USD | +150 USD |" in text


def test_sparkline() -> None:
    assert sparkline([1, 5, 3]) == "▁█▅"
    assert sparkline([2, 2]) == "▄▄" and sparkline([None, 1, 2]) == " ▁█" and sparkline([]) == ""


def test_the_demo_agenda(demo_home, demo_truth) -> None:
    agenda = build_agenda(demo_home)
    assert agenda["month"] == "2026-10" and agenda["last_review"]["period"] == "2026-09"
    titles = {r["title"] for r in agenda["actions"]["open"]}
    assert "Delete unattached EBS volumes in dev" in titles and agenda["actions"]["overdue"] >= 1
    assert [r["title"] for r in agenda["actions"]["done_since"]] == ["Shut down the forgotten GPU dev cluster"]
    assert abs(agenda["spend"]["total"]["spend"] - demo_truth.monthly_totals["2026-10"]) < 1.0
    for key in ("showback", "unit_economics", "anomalies", "coverage", "decisions"):
        assert agenda[key]["available"], agenda[key]
    # The coverage item measures the month itself: its unallocated spend is the unallocated line the
    # month's showback splits (the demo bills every non-usage charge to the shared account).
    al = agenda["coverage"]["allocation"]
    assert (al["start"], al["end"]) == (date(2026, 10, 1), date(2026, 11, 1))
    assert abs(al["unallocated_cost"] - agenda["showback"]["shared_by_reason"]["unallocated"]) < 1.0
    assert al["last_sweep"]["period"] == "2026-W47"
    assert "inferences" in agenda["unit_economics"]["rising"]
    assert all(p["owner"] for p in agenda["decisions"]["proposed_actions"])


AGENDA = {
    "kind": "monthly_review", "month": "2026-10", "start": "2026-10-01", "end": "2026-11-01", "currency": "USD",
    "prepared_on": "2026-11-05", "last_review": {"run_id": 1, "period": "2026-09", "closed_at": "2026-10-05"},
    "actions": {"available": True, "since": "2026-10-05T11:00:00+00:00", "overdue": 1, "other_open": {"tag_sweep": 2},
                "open": [{"id": 9, "title": "Fix | `this` <b>", "kind": "other", "status": "in_progress",
                          "owner": "bo", "owner_name": "Bo [eng]", "team": "web", "due_date": "2026-10-20",
                          "overdue": True, "days_overdue": 16, "from_review": "2026-09",
                          "expected_monthly_savings": 450.0, "version": 2}],
                "done_since": []},
    "spend": {"available": True, "currency": "USD", "source": "showback",
              "total": {"spend": 1234.5, "previous_spend": 1000.0, "change": 234.5, "change_pct": 23.5,
                        "budget": 1200.0, "over_budget": 34.5, "budget_used_pct": 102.9, "forecast": 1100.0,
                        "forecast_lower": 1000.0, "forecast_upper": 1200.0, "forecast_variance_pct": 12.2,
                        "forecast_band": "walk"},
              "teams": [{"team": "web | *front*", "spend": 1234.5, "previous_spend": 1000.0, "change": 234.5,
                         "change_pct": 23.5, "budget": 1200.0, "over_budget": 34.5, "budget_used_pct": 102.9,
                         "forecast": None, "forecast_lower": None, "forecast_upper": None,
                         "forecast_variance_pct": None, "forecast_band": None, "trend": [1, 2, 3, 4, 5, 6]}],
              "drivers": [{"team": "web | *front*", "service": "`NAT` #1", "previous_spend": 1000.0, "spend": 1234.5,
                           "change": 234.5, "change_pct": 23.5}],
              "drivers_change": 234.5, "trend": [{"month": "2026-09", "spend": 1000.0},
                                                 {"month": "2026-10", "spend": 1234.5}],
              "forecast_accuracy": {"month": "2026-10", "forecast": 1100.0, "actual": 1234.5, "lower": 1000.0,
                                    "upper": 1200.0, "made_at": "2026-09-20", "variance_pct": 12.2, "band": "walk",
                                    "target_variance_pct": 15.0}},
    "showback": {"available": False, "reason": "Showback is not available in this version"},
    "unit_economics": {"available": True, "month": "2026-10", "currency": "USD", "rising": ["inferences"],
                       "metrics": [{"metric": "inferences", "spend_of": "ml", "per": 1000.0, "unit_cost": 0.42,
                                    "unit_cost_trend_pct": 3.0, "volume_trend_pct": 8.0, "rising_unit_cost": True,
                                    "trend": [{"unit_cost": 0.4}, {"unit_cost": 0.42}]}]},
    "anomalies": {"available": True, "start": "2026-10-01", "end": "2026-11-05", "events": 1, "untriaged_events": 0,
                  "historical_events": 0, "impact": 300.0, "count": 2, "untriaged": 0, "historical": 0,
                  "ttd_median_hours": 30.0, "ttr_median_hours": 4.0, "ttd_events": 1, "ttr_events": 1,
                  "by_event": [{"id": "an-1", "start": "2026-10-11", "end": "2026-10-13", "days": 2,
                                "dimension": "service", "value": "<NAT>", "label": None, "impact": 300.0,
                                "status": "resolved", "untriaged": False, "historical": False, "owner_team": "web",
                                "cases": ["an-1", "an-2"], "dimensions": ["account", "service"],
                                "ttd_hours": 30.0, "ttr_hours": 4.0}],
                  "cases": [{"id": "an-1", "start": "2026-10-11", "end": "2026-10-13", "dimension": "service",
                             "value": "<NAT>", "label": None, "impact": 300.0, "status": "resolved",
                             "owner_team": "web", "ttd_hours": 30.0, "ttr_hours": 4.0, "historical": False,
                             "event": "an-1"},
                            {"id": "an-2", "start": "2026-10-11", "end": "2026-10-13", "dimension": "account",
                             "value": "A2", "label": "web-prod", "impact": 290.0, "status": "new",
                             "owner_team": "web", "ttd_hours": None, "ttr_hours": None, "historical": False,
                             "event": "an-1"}]},
    "coverage": {"available": True, "allocation": {"status": "not run yet", "run_id": None, "target_pct": 90.0},
                 "commitments": {"status": "recorded", "run_id": 3, "period": "2026-09", "coverage_pct": 61.3,
                                 "utilization_pct": 92.8, "target_coverage_pct": 75.0}},
    "decisions": {"available": True, "next_review_date": "2026-12-05",
                  "proposed_actions": [{"step": "drivers", "title": "Review `NAT` | now", "kind": "rightsizing",
                                        "team": "web", "owner": "bo", "due_date": "2026-12-05"}]},
}


def test_golden_minutes_of_a_closed_review_with_hostile_text(home) -> None:
    ids = _people(home)
    with home.records.write() as s:
        s.get(Person, ids["bo"]).name = "Bo [eng] <i>"
        sept = runs.open_run(s, "monthly_review", "2026-09", ids["ana"], _at("2026-10-05", 9))
        carried = create_action(s, title="Fix | `this` <b>", owner_id=ids["bo"], now=_at("2026-10-05"),
                                due_date=date(2026, 10, 20), source_run_id=sept.id)
        runs.close_run(s, sept.id, {"month": "2026-09"}, _at("2026-10-05", 11))
        run = runs.open_run(s, "monthly_review", "2026-10", ids["ana"], _at("2026-11-05", 9))
        run = runs.set_attendees(s, run, ["ana", "bo"])
        run = runs.save_note(s, run, "spend", HOSTILE)
        run = runs.save_note(s, run, "actions", "Walked | all\n1. of them")
        run = runs.add_decision(s, run, "Cut NAT | `egress`\n# now", "ana", _at("2026-11-05", 9), step="spend")
        create_action(s, title="New <script> | action", owner_id=ids["fin"], now=_at("2026-11-05", 9),
                      due_date=date(2026, 12, 5), source_run_id=run.id)
        run_id, carried_id = run.id, carried.id
    walk_update(home.records, carried_id, actor_id=ids["ana"], now=_at("2026-11-05", 9), status="in_progress",
                note="started | `today` <b>", if_version=1)
    with home.records.write() as s:
        runs.close_run(s, run_id, AGENDA, _at("2026-11-05", 10))
    with home.records.session() as s:
        text = minutes.render_minutes(s, run_id)
    path = GOLDEN / "minutes_monthly_review_agenda.md"
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8"), "UPDATE_GOLDEN=1 rewrites it on purpose"
    assert "<script>" not in text and "<b>" not in text and "\n# Not" not in text
    assert "1,234 USD spent" in text and "102.9%" in text and "▁▂▄▅▇█" in text
    assert "status: open → in_progress" in text and "not run yet" in text


def _day_row(cost: float, day: date, service: str, team: str | None = None, account: str = "A1") -> dict:
    return {**_row(cost, day.month, service, team, account), "ChargePeriodStart": pd.Timestamp(day)}


def test_an_agenda_for_the_current_month_is_month_to_date(home) -> None:
    """On 2026-10-11 October has 10 complete days (1st to 10th): spend is those days against the same days
    of September and the budget pro-rated to 10 of 31 days, never a drop from a whole month."""
    from storage.clock import Clock
    from storage.home import Home
    from storage.records import Budget

    ids = _people(home)
    _load(home, [
        _day_row(100, date(2026, 9, 3), "EC2", "data"), _day_row(500, date(2026, 9, 20), "EC2", "data"),
        _day_row(40, date(2026, 9, 5), "EC2", account="A2"),            # web, by the account rule
        _day_row(130, date(2026, 10, 3), "EC2", "data"), _day_row(20, date(2026, 10, 10), "EC2", account="A2"),
        _day_row(999, date(2026, 10, 11), "EC2", "data"),                # today: not a complete day
    ])
    with home.records.write() as s:
        data = Team(name="data", owner_id=ids["bo"])
        s.add(data)
        s.flush()
        s.add(Budget(team_id=data.id, month=date(2026, 10, 1), amount=310.0, source="test"))
    oct11 = Home(home.path, home.db_url, clock_override=Clock(date(2026, 10, 11), home.config.tz))
    agenda = build_agenda(oct11, date(2026, 10, 1), detect_anomalies=False)
    status = agenda["month_status"]
    assert (status["state"], status["days_complete"], status["days_in_month"]) == ("in progress", 10, 31)
    assert status["compared_with"] == {"start": date(2026, 9, 1), "end": date(2026, 9, 11)}
    spend = agenda["spend"]
    total = spend["total"]
    assert spend["month_to_date"] is True
    # 130 + 20 so far, against 100 + 40 over September 1-10 (September's 500 on the 20th is not compared).
    assert (total["spend"], total["previous_spend"], total["change"]) == (150.0, 140.0, 10.0)
    assert total["change_pct"] == round(10 / 140 * 100, 1)
    assert (total["budget"], total["budget_to_date"]) == (310.0, 100.0)  # 310 x 10/31
    assert (total["budget_used_pct"], total["over_budget"]) == (150.0, 50.0)
    assert total["forecast_variance_pct"] is None and spend["forecast_accuracy"] is None
    by_team = {t["team"]: t for t in spend["teams"]}
    assert (by_team["data"]["spend"], by_team["data"]["previous_spend"], by_team["data"]["change_pct"]) == \
        (130.0, 100.0, 30.0)
    assert (by_team["web"]["spend"], by_team["web"]["previous_spend"], by_team["web"]["change_pct"]) == \
        (20.0, 40.0, -50.0)
    assert (by_team["data"]["budget_to_date"], by_team["data"]["budget_used_pct"]) == (100.0, 130.0)
    assert [(d["team"], d["previous_spend"], d["spend"]) for d in spend["drivers"]] == [
        ("data", 100.0, 130.0), ("web", 40.0, 20.0)]
    assert agenda["showback"]["total"] == 150.0
    assert agenda["coverage"]["allocation"]["total_cost"] == 150.0
    text = agenda_markdown(agenda)
    assert "2026-10 is not over: 10 of 31 days are complete" in text
    assert "2026-10 so far: 150 USD spent, +10 USD (+7.1%) on the same days of the month before; budget to date " \
           "100 USD (of 310 USD for the month), 150.0% used" in text
    assert "-100" not in text

    # On the 1st nothing of the month is complete: empty figures, said so, no drop.
    oct1 = Home(home.path, home.db_url, clock_override=Clock(date(2026, 10, 1), home.config.tz))
    first = build_agenda(oct1, date(2026, 10, 1), detect_anomalies=False)
    t = first["spend"]["total"]
    assert (t["spend"], t["previous_spend"], t["change_pct"], t["budget_to_date"], t["budget_used_pct"]) == \
        (0.0, 0.0, None, 0.0, None)
    text = agenda_markdown(first)
    assert "2026-10 has no complete day yet" in text and "-100" not in text


def test_team_forecasts_and_variance_come_from_the_ledger(home) -> None:
    """Each series is judged by its own ledger forecast (the last made before the month, else the first):
    the organisation's made on Sep 28, the teams' made at the review that closed on Oct 5."""
    from storage.records import ForecastSnapshot

    _people(home)
    _load(home, [_row(300, 10, "EC2", "data"), _row(90, 10, "EC2", "web")])
    oct1 = date(2026, 10, 1)
    with home.records.write() as s:
        s.add(ForecastSnapshot(made_at=_at("2026-09-28"), month=oct1, team=None, forecast=400.0))
        s.add(ForecastSnapshot(made_at=_at("2026-10-05"), month=oct1, team=None, forecast=999.0))  # later: not it
        s.add(ForecastSnapshot(made_at=_at("2026-10-05"), month=oct1, team="data", forecast=250.0))
        s.add(ForecastSnapshot(made_at=_at("2026-10-05"), month=oct1, team="web", forecast=100.0))
        s.add(ForecastSnapshot(made_at=_at("2026-10-06"), month=oct1, team="web", forecast=50.0, method="cost_explorer"))
    spend = build_agenda(home, oct1, detect_anomalies=False)["spend"]
    by_team = {t["team"]: t for t in spend["teams"]}
    assert (by_team["data"]["forecast"], by_team["data"]["forecast_variance_pct"]) == (250.0, 20.0)  # 50/250
    assert by_team["data"]["forecast_band"] == "crawl"
    assert (by_team["web"]["forecast"], by_team["web"]["forecast_variance_pct"]) == (100.0, 10.0)  # 10/100
    assert (spend["total"]["forecast"], spend["total"]["forecast_variance_pct"]) == (400.0, 2.5)  # 10/400
