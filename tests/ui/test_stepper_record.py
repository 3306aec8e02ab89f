"""The Record step shows the minutes' summary as the minutes will open (the same renderer, on what closing
now would freeze) with the Close button on screen at 80x24; an SVG snapshot of it."""

from __future__ import annotations

from textual.widgets import Button, Markdown

from exports.minutes import render_summary
from finops_tui.app import FinOpsApp
from finops_tui.screens.tag_sweep import TagSweepScreen
from tests.workers import workers_done


async def settle(app, pilot) -> None:  # type: ignore[no-untyped-def]
    await pilot.pause()
    await workers_done(app)
    await pilot.pause()


async def _to_record(app, pilot, home) -> TagSweepScreen:  # type: ignore[no-untyped-def]
    await settle(app, pilot)
    screen = TagSweepScreen(home, facilitator="priya")
    await app.push_screen(screen)
    await settle(app, pilot)
    screen.session.add_decision("Tag the | NAT <b>gateway</b> first", "coverage")
    screen.go_to("record")
    await settle(app, pilot)
    return screen


async def test_the_record_step_shows_the_summary_the_minutes_open_with(demo_home) -> None:
    app = FinOpsApp(demo_home)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _to_record(app, pilot, demo_home)
        shown = screen.query_one("#stepper-summary", Markdown).source
        numbers = screen.session.preview(screen.findings)
        with demo_home.records.session() as s:
            from rituals.runs import get_run

            want = render_summary(s, get_run(s, screen.session.run_id), numbers, demo_home.config.currency)
        assert shown == want and shown.startswith("## Summary\n\n| figure | value | target |")
        assert "Tag the \\| NAT &lt;b>gateway&lt;/b> first" in shown  # the decision, escaped as in the minutes
        close = screen.query_one("#stepper-close-button", Button)
        region = close.region
        assert close.display and region.height > 0 and region.bottom <= 24 and region.right <= 80, region
        assert screen.get_widget_at(region.x + 1, region.y + 1)[0] is close  # on screen, not covered


def test_record_step_snapshot(demo_home, snap_compare) -> None:
    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await _to_record(pilot.app, pilot, demo_home)

    assert snap_compare(FinOpsApp(demo_home), terminal_size=(80, 24), run_before=run_before)
