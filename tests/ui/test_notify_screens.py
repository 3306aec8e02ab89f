"""Notifications in the app (Pilot, demo company): the board shows undelivered notifications, the team
screen adds, lists (masked) and removes channels, and triage shows whether and when a case was sent."""

from __future__ import annotations

from sqlmodel import select
from textual.widgets import DataTable, Input, Static

from exports.delivery import notify
from finops_tui.app import FinOpsApp
from finops_tui.modals.confirm import Confirm
from finops_tui.screens.anomaly_triage import AnomalyTriageScreen
from finops_tui.screens.board import BoardScreen
from finops_tui.screens.people import PeopleScreen
from rituals.channels import add_channel
from storage.channel_secrets import read_secrets
from storage.records import AnomalyCase, NotifyChannel
from tests.receivers import JsonReceiver
from tests.ui.buttons import click_button
from tests.workers import workers_done


async def _settle(app, pilot) -> None:
    for _ in range(3):
        await workers_done(app)
        await pilot.pause()


def _text(screen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


async def test_the_board_shows_undelivered_notifications(demo_home, monkeypatch) -> None:
    monkeypatch.delenv("FINOPS_TEST_UNSET_HOOK", raising=False)
    add_channel(demo_home.records, demo_home.path, "search", "env:FINOPS_TEST_UNSET_HOOK", now=demo_home.clock.now())
    report = notify(demo_home, ("anomalies",))
    assert len(report.undelivered) == 1
    app = FinOpsApp(demo_home)
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(app, pilot)
        assert isinstance(app.screen, BoardScreen)
        note = app.screen.query_one("#notifications", Static)
        assert note.display
        text = _text(app.screen, "#notifications")
        assert text.startswith("1 undelivered notification: anomalies to search via env:FINOPS_TEST_UNSET_HOOK")
        assert "FINOPS_TEST_UNSET_HOOK is not set" in text


async def test_the_team_screen_adds_and_removes_a_channel_without_showing_its_secret(demo_home) -> None:
    secret = "SearchHookToken12345"
    url = f"json://127.0.0.1:9/hooks/{secret}"
    app = FinOpsApp(demo_home)
    async with app.run_test(size=(160, 50)) as pilot:
        await app.push_screen(PeopleScreen(demo_home))
        await _settle(app, pilot)
        screen = app.screen
        screen.query_one("#pp-team-name", Input).value = "search"
        field = screen.query_one("#pp-channel-url", Input)
        assert field.password
        field.value = url
        await click_button(pilot, "#pp-add-channel")
        await _settle(app, pilot)
        table = screen.query_one("#pp-channels-table", DataTable)
        assert table.row_count == 1
        row = [str(cell) for cell in table.get_row_at(0)]
        assert row[1:3] == ["search", "json://127.0.0.1:9/***/***"] and row[3] == "ok"
        assert secret not in _text(screen, "#pp-message") and field.value == ""
        assert list(read_secrets(demo_home.path).values()) == [url]
        table.focus()
        await click_button(pilot, "#pp-remove-channel")
        await pilot.pause()
        assert isinstance(app.screen, Confirm)
        await pilot.press("y")
        await _settle(app, pilot)
        assert screen.query_one("#pp-channels-table", DataTable).row_count == 0
    assert read_secrets(demo_home.path) == {}
    with demo_home.records.session() as s:
        [channel] = s.exec(select(NotifyChannel)).all()
    assert channel.retired_at is not None and secret not in channel.ref + channel.label


async def test_triage_shows_whether_and_when_a_case_was_sent(demo_home) -> None:
    receiver = JsonReceiver()
    try:
        add_channel(demo_home.records, demo_home.path, "search", receiver.url("/t/search"), now=demo_home.clock.now())
        assert notify(demo_home, ("anomalies",)).ok and len(receiver.posts) == 1
    finally:
        receiver.close()
    with demo_home.records.session() as s:
        sent = {c.id: c.notified_at for c in s.exec(select(AnomalyCase)) if c.notified_at is not None}
    app = FinOpsApp(demo_home)
    async with app.run_test(size=(180, 50)) as pilot:
        await _settle(app, pilot)
        screen = AnomalyTriageScreen(demo_home)
        await app.push_screen(screen)
        await _settle(app, pilot)
        queue = screen.query_one("#anomaly-queue", DataTable)
        queue.focus()
        notified = next(i for i, c in enumerate(screen.cases) if c["id"] in sent)
        queue.move_cursor(row=notified)
        await pilot.pause()
        first = min(sent.values())
        assert f"notified {first:%Y-%m-%d %H:%M} UTC; event TTD" in _text(screen, "#anomaly-summary")
        other = next(i for i, c in enumerate(screen.cases) if c["id"] not in sent)
        queue.move_cursor(row=other)
        await pilot.pause()
        assert "not notified yet" in _text(screen, "#anomaly-summary")
