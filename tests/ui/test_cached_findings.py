"""A ritual screen re-opened on its run paints the findings last computed at once, marked as cached with when
they were computed (STALE when the data changed since), then replaces them with the fresh ones. The fresh
computation is held back here until the cached figures have been checked."""

from __future__ import annotations

import asyncio
import threading
from datetime import date
from typing import Any

from textual.widgets import Static

from exports.format import money, pct
from finops_tui.app import FinOpsApp
from finops_tui.screens.tag_sweep import TagSweepScreen
from finops_tui.widgets.kpi_strip import KpiStrip
from rituals import findings_cache
from rituals.session import RunSession
from tests.unit.test_board_figures import row, scratch_home
from tests.unit.test_figure_cache import load
from tests.workers import show_step, workers_done

TODAY = date(2026, 11, 24)
PERIOD = "2026-W47"  # 16 to 23 November


class HeldSweep(TagSweepScreen):
    """The sweep screen, its fresh findings computed only once ``release`` is set."""

    release = threading.Event()

    def compute_findings(self) -> Any:
        assert self.release.wait(60)
        return super().compute_findings()


def week_figures(rows: list[dict]) -> tuple[float, float]:
    week = [r for r in rows if date(2026, 11, 16) <= r["ChargePeriodStart"].date() < date(2026, 11, 23)]
    total = sum(r["EffectiveCost"] for r in week)
    tagged = sum(r["EffectiveCost"] for r in week if r["Tags"] is not None)
    return total, tagged


def kpis(screen: TagSweepScreen) -> dict[str, str]:
    return {k.label: k.value for k in screen.query_one("#ts-kpis", KpiStrip).kpis}


def note(screen: TagSweepScreen) -> str | None:
    line = screen.query_one("#stepper-figures-note", Static)
    return str(line.render()) if line.display else None


async def until(pilot, check) -> None:  # type: ignore[no-untyped-def]
    for _ in range(400):
        if check():
            return
        await asyncio.sleep(0.025)
    raise AssertionError("never happened")


async def test_cached_figures_then_the_fresh_ones(tmp_path) -> None:
    first = [row(date(2026, 11, d), 10.0 * d, team="web" if d % 2 else None) for d in range(10, 24)]
    home = scratch_home(tmp_path, TODAY, first)
    app = FinOpsApp(home)
    async with app.run_test(size=(120, 40)) as pilot:
        await workers_done(app)

        async def open_sweep() -> HeldSweep:
            screen = HeldSweep(home, PERIOD)
            await app.push_screen(screen)
            await show_step(pilot, screen, "coverage")  # where the figures are, composed when first shown
            return screen

        # The first open computes (nothing cached yet) and keeps the findings for the next open.
        HeldSweep.release.set()
        screen = await open_sweep()
        await until(pilot, lambda: screen.findings is not None)
        await workers_done(app)
        total, tagged = week_figures(first)
        assert kpis(screen)["Coverage"] == pct(100 * tagged / total)
        assert note(screen) is None
        run_id = screen.session.run_id
        session = RunSession(home, "tag_sweep", PERIOD)
        session.open()
        computed = session.cached_findings()
        assert computed is not None and computed.current
        await app.pop_screen()

        # Re-opened: the same run's figures at once, marked as cached with their time, then the fresh ones.
        HeldSweep.release.clear()
        screen = await open_sweep()
        await until(pilot, lambda: note(screen) is not None)
        at = computed.computed_at.astimezone(home.clock.tz)
        assert note(screen) == f"Cached figures computed {at:%Y-%m-%d %H:%M}; refreshing…"
        assert screen.findings is None and screen.session.run_id == run_id
        assert kpis(screen)["Coverage"] == pct(100 * tagged / total)
        assert kpis(screen)["Unallocated"] == money(total - tagged, "USD")
        HeldSweep.release.set()
        await until(pilot, lambda: screen.findings is not None)
        await workers_done(app)
        assert note(screen) is None and kpis(screen)["Unallocated"] == money(total - tagged, "USD")
        await app.pop_screen()
        await workers_done(app)  # the board refreshes on resume: its reads done before the load

        # A load since: the old figures are shown marked STALE (never as current), then the new ones.
        second = [row(date(2026, 11, d), 7.0, team="web" if d % 3 else None) for d in range(10, 24)]
        load(home, second)
        HeldSweep.release.clear()
        screen = await open_sweep()
        await until(pilot, lambda: note(screen) is not None)
        assert note(screen).startswith("STALE figures, computed ")  # type: ignore[union-attr]
        assert kpis(screen)["Unallocated"] == money(total - tagged, "USD")
        HeldSweep.release.set()
        await until(pilot, lambda: screen.findings is not None)
        await workers_done(app)
        total2, tagged2 = week_figures(second)
        assert note(screen) is None
        assert kpis(screen)["Unallocated"] == money(total2 - tagged2, "USD") != money(total - tagged, "USD")
        assert kpis(screen)["Coverage"] == pct(100 * tagged2 / total2)
        fresh = findings_cache.read(screen.session)
        assert fresh is not None and fresh.current and fresh.numbers["total_cost"] == total2
