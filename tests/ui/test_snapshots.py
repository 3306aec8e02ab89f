"""SVG snapshots of every ritual screen on the demo company, at 80 x 24 and at 120 x 40, each on the step that
holds its main table (the queue, the inventory, the leaks...). Deterministic: the fixed clock
(FINOPS_TUI_TODAY's day, through the demo home's Clock), a private copy of the demo home, every worker
waited for and every notice cleared before the picture. Re-record on purpose (``--snapshot-update``)."""

from __future__ import annotations

import pytest

from finops_tui.app import FinOpsApp
from finops_tui.screens.registry import screen_class
from tests.workers import workers_done

SCREENS = [("tag_sweep", "leaks"), ("anomaly_triage", "queue"), ("commitment_review", "expiring"),
           ("monthly_review", "anomalies"), ("quarterly_review", "scorecard")]
SIZES = [(80, 24), (120, 40)]


async def _settle(pilot) -> None:  # type: ignore[no-untyped-def]
    for _ in range(3):
        await pilot.pause()
        await workers_done(pilot.app)
    await pilot.pause()


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize(("kind", "step"), SCREENS, ids=[k for k, _ in SCREENS])
def test_ritual_screen(kind: str, step: str, size: tuple[int, int], demo_home, snap_compare) -> None:
    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        app = pilot.app
        await _settle(pilot)
        screen = screen_class(kind)(demo_home, facilitator="priya")  # type: ignore[call-arg]
        await app.push_screen(screen)
        await _settle(pilot)
        screen.go_to(step)
        screen.focus_main()
        await _settle(pilot)
        # Focusing the main table scrolls the step to show it, and how far depends on whether its rows had
        # arrived by then (a race under load): with every row in, scroll back to the top and focus again.
        for widget in [screen, *screen.query("*")]:
            if widget.scroll_offset.y:
                widget.scroll_home(animate=False, immediate=True)
        screen.focus_main()
        await _settle(pilot)
        if size[0] == 80:  # the footer fits: every key it shows lies inside the screen
            keys = list(screen.query("FooterKey"))
            assert keys and all(k.region.right <= 80 for k in keys)
        app.clear_notifications()
        await pilot.pause()

    assert snap_compare(FinOpsApp(demo_home), terminal_size=size, run_before=run_before)
