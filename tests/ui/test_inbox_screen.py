"""Pilot: the inbox screen from the board's key and the palette; filters by team; accept, dismiss and
snooze from the keyboard land in the records."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from textual.widgets import DataTable, Input, Select

from finops_tui.app import FinOpsApp
from finops_tui.modals.inbox_decision import InboxDecision
from finops_tui.screens.inbox import InboxScreen
from rituals import inbox
from rituals.people import add_account, add_person, add_team
from rituals.recommendations import Candidate
from storage.records import Action, Recommendation
from tests.workers import workers_done

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


def seed(home) -> None:
    with home.records.write() as s:
        add_person(s, "carl", "Carl", "engineering")
        add_person(s, "dee", "Dee", "engineering")
        add_team(s, "web", owner="carl")
        add_team(s, "data", owner="dee")
        add_account(s, "web", "111")
        add_account(s, "data", "222")
    inbox.refresh_source(home.records, None, "rules", [
        Candidate("rules", "delete", "vol-[prod]", 12.0, "111", title="Delete vol-[prod]"),
        Candidate("rules", "rightsize", "i-9", 80.0, "222"),
        Candidate("rules", "delete", "nat-1", 30.0, "111")], NOW)


async def settle(app, pilot) -> None:
    for _ in range(3):
        await pilot.pause()
        await workers_done(app)
    await pilot.pause()


def shown(screen) -> list[str]:
    table = screen.query_one("#inbox-table", DataTable)
    return [str(table.get_row_at(i)[2]) for i in range(table.row_count)]


async def test_inbox_screen_filters_and_decides_from_the_keyboard(home) -> None:
    seed(home)
    app = FinOpsApp(home)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.push_screen(InboxScreen(home))
        await settle(app, pilot)
        screen = app.screen
        assert shown(screen) == ["i-9", "nat-1", "vol-[prod]"]  # largest saving first; the tag value intact
        screen.query_one("#inbox-team", Select).value = "web"
        await settle(app, pilot)
        assert shown(screen) == ["nat-1", "vol-[prod]"]

        await pilot.press("c")  # accept nat-1: the routed owner and a due date are offered
        await settle(app, pilot)
        assert isinstance(app.screen, InboxDecision)
        assert app.screen.query_one("#inbox-owner", Input).value == "carl"
        app.screen.query_one("#inbox-due", Input).value = "2026-12-20"
        await pilot.press("enter")
        await settle(app, pilot)
        assert type(app.screen).__name__ == "InboxScreen", app.screen
        assert [n.message for n in app._notifications] == ["Accepted: action #1"]
        assert shown(screen) == ["vol-[prod]"]

        await pilot.press("d")
        await settle(app, pilot)
        app.screen.query_one("#inbox-reason", Input).value = "kept for the DR test"
        await pilot.press("enter")
        await settle(app, pilot)
        assert shown(screen) == []

        screen.query_one("#inbox-team", Select).value = "data"
        await settle(app, pilot)
        await pilot.press("z")
        await settle(app, pilot)
        app.screen.query_one("#inbox-until", Input).value = "2026-11-01"  # in the past: refused, nothing stored
        await pilot.press("enter")
        await settle(app, pilot)
        assert shown(screen) == ["i-9"]
        await pilot.press("z")
        await settle(app, pilot)
        app.screen.query_one("#inbox-until", Input).value = (NOW.date() + timedelta(days=5)).isoformat()
        await pilot.press("enter")
        await settle(app, pilot)
        assert shown(screen) == []
    from sqlmodel import select

    with home.records.session() as s:
        recs = {r.resource_id: r for r in s.exec(select(Recommendation)).all()}
        action = s.get(Action, recs["nat-1"].action_id)
        assert (action.kind, action.due_date, action.expected_monthly_savings) == ("cleanup", date(2026, 12, 20), 30.0)
        assert (recs["vol-[prod]"].status, recs["vol-[prod]"].dismissed_reason) == ("dismissed", "kept for the DR test")
        assert (recs["i-9"].status, recs["i-9"].snoozed_until) == ("snoozed", NOW.date() + timedelta(days=5))


async def test_inbox_is_reachable_from_the_board_and_the_palette(home) -> None:
    import pandas as pd

    from storage.loader import Staging

    seed(home)
    with Staging(home.costs) as staging:  # a home with cost data opens on the board
        staging.append_frame(pd.DataFrame([{"ChargePeriodStart": pd.Timestamp("2026-11-20"), "EffectiveCost": 1.0,
                                            "BilledCost": 1.0, "ChargeCategory": "Usage", "BillingAccountId": "p",
                                            "BillingCurrency": "USD", "Tags": None}]), "test")
        staging.commit(replace_all=True)
    app = FinOpsApp(home)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        from finops_tui.screens.board import BoardScreen

        assert isinstance(app.screen, BoardScreen)
        await pilot.press("i")
        await settle(app, pilot)
        assert isinstance(app.screen, InboxScreen)
        commands = [c.title for c in app.get_system_commands(app.screen)]
        assert "Recommendations inbox" in commands
