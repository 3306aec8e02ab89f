"""The ritual board on the demo company: five rituals, KPI values equal to the stores' figures."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from textual.widgets import DataTable

from finops_tui.app import FinOpsApp
from finops_tui.screens.board import BoardScreen
from finops_tui.widgets.kpi_strip import KpiStrip
from rituals.allocation import account_teams_from_records, coverage
from storage.clock import Clock
from storage.home import Home
from tests.conftest import FIXED_TODAY
from tests.workers import workers_done


async def settle(pilot) -> None:  # type: ignore[no-untyped-def]
    await pilot.pause()
    await workers_done(pilot.app)
    await pilot.pause()


async def test_board_shows_rituals_and_store_figures(demo_home) -> None:
    app = FinOpsApp(demo_home)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, BoardScreen)
        rituals = app.screen.query_one("#rituals", DataTable)
        assert [str(rituals.get_row_at(i)[0]) for i in range(rituals.row_count)] == [
            "Tag sweep", "Anomaly triage", "Commitment review", "Monthly cost review", "Quarterly maturity review"]
        kpis = {k.label: k.value for k in app.screen.query_one(KpiStrip).kpis}
        # Recompute the figures independently from the stores.
        cov = coverage(demo_home.costs, account_teams_from_records(demo_home.records),
                       FIXED_TODAY - timedelta(days=7), FIXED_TODAY)
        assert kpis["Allocation, last 7 days"] == f"{cov.coverage_pct:.1f}%"
        mtd = demo_home.costs.daily_cost(FIXED_TODAY.replace(day=1), FIXED_TODAY)["cost"].sum()
        assert kpis["Month to date"] == f"{mtd:,.0f} USD"
        actions = app.screen.query_one("#actions", DataTable)
        with demo_home.records.session() as s:
            from rituals.actions import list_actions

            open_actions = list_actions(s, today=FIXED_TODAY)
        assert actions.row_count == len(open_actions) > 0
        overdue = sum(a.overdue for a in open_actions)
        assert kpis["Actions"] == f"{len(open_actions)} open, {overdue} overdue"
        assert kpis["Data freshness"] == f"to {(FIXED_TODAY - timedelta(days=1)).isoformat()}"


async def test_board_is_usable_at_80x24(demo_home) -> None:
    app = FinOpsApp(demo_home)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        table = app.screen.query_one("#rituals", DataTable)
        assert table.row_count == 5 and table.region.height >= 3
        await pilot.press("question_mark")
        await pilot.pause()
        assert app.screen.query("HelpPanel")  # the keys of the screen and of the focused widget


def test_every_ritual_has_its_screen_with_the_definitions_steps(demo_home) -> None:
    """The registry of rituals drives the screens: no kind without a screen, no screen whose steps
    differ from its ritual's definition (ids and titles, in order)."""
    from finops_tui.screens import registry
    from rituals.ritual import RITUALS

    assert set(registry.RITUAL_SCREENS) == {r.kind for r in RITUALS}
    for ritual in RITUALS:
        screen = registry.ritual_screen(ritual.kind, demo_home)
        assert screen.kind == ritual.kind
        assert [(s.id, s.title) for s in screen.steps] == [(s.id, s.title) for s in ritual.all_steps]


async def test_enter_on_a_ritual_with_nothing_due_opens_no_future_period(demo_home) -> None:
    """With every sweep up to today closed, the board's enter says when the next is due instead of
    opening next week's run."""
    from rituals.calendar import due_now
    from rituals.ritual import ritual
    from rituals.session import RunSession

    for _ in range(3):  # close the due weeks (a missed week is due before this one)
        if due_now(ritual("tag_sweep"), demo_home).future:
            break
        session = RunSession(demo_home, "tag_sweep")
        session.open()
        session.close()
    assert due_now(ritual("tag_sweep"), demo_home).future
    app = FinOpsApp(demo_home)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("enter")  # the first row is the tag sweep
        await pilot.pause()
        assert isinstance(app.screen, BoardScreen)
        assert any("Nothing due" in str(n.title) for n in app._notifications)


class NoonClock(Clock):
    """The fixed day at 09:30 UTC exactly, so the "computed at" line is the same in every run."""

    def now(self) -> datetime:
        return datetime.combine(self.today(), time(9, 30), UTC)


def test_board_snapshot(demo_home, snap_compare) -> None:
    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await settle(pilot)

    home = Home(demo_home.path, clock_override=NoonClock(FIXED_TODAY))
    assert snap_compare(FinOpsApp(home), terminal_size=(120, 36), run_before=run_before)


class ClockAt(Clock):
    """The fixed day at a given UTC time of day, to tell one computation's stamp from another's."""

    def __init__(self, day, at: time) -> None:  # type: ignore[no-untyped-def]
        super().__init__(day)
        object.__setattr__(self, "at", at)

    def now(self) -> datetime:
        return datetime.combine(self.today(), self.at, UTC)  # type: ignore[attr-defined]


async def wait_for(pilot, condition, what: str) -> None:  # type: ignore[no-untyped-def]
    for _ in range(200):
        if condition():
            return
        await pilot.pause(0.05)
    raise AssertionError(f"never happened: {what}")


async def test_cached_figures_appear_at_once_with_their_time_and_a_new_load_marks_them_stale(
        demo_home, monkeypatch) -> None:
    import threading

    import pandas as pd

    import rituals.board
    from storage.loader import Staging

    def note(app) -> str:  # type: ignore[no-untyped-def]
        return str(app.screen.query_one("#figures-note").content)

    def tiles(app) -> dict[str, tuple[str, str]]:  # type: ignore[no-untyped-def]
        return {k.label: (k.value, k.hint) for k in app.screen.query_one(KpiStrip).kpis}

    first = FinOpsApp(Home(demo_home.path, clock_override=ClockAt(FIXED_TODAY, time(9, 30))))
    async with first.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert note(first) == "Figures computed 2026-11-27 09:30"
        shown = tiles(first)
    mtd = demo_home.costs.daily_cost(FIXED_TODAY.replace(day=1), FIXED_TODAY)["cost"].sum()
    assert shown["Month to date"][0] == f"{mtd:,.0f} USD"

    # Next start: the recomputation is held, so what shows is the cache alone, stamped 09:30.
    release = threading.Event()
    compute = rituals.board.kpis

    def held(home, actions):  # type: ignore[no-untyped-def]
        assert release.wait(30)
        return compute(home, actions)

    monkeypatch.setattr(rituals.board, "kpis", held)
    second = FinOpsApp(Home(demo_home.path, clock_override=ClockAt(FIXED_TODAY, time(10, 45))))
    async with second.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: note(second).startswith("Figures"), "cached figures")
        assert note(second) == "Figures computed 2026-11-27 09:30; refreshing…"
        assert tiles(second) == shown
        release.set()
        await settle(pilot)
        assert note(second) == "Figures computed 2026-11-27 10:45" and tiles(second) == shown

    # A new load (one more day of spend in another billing account): the cached figures are marked stale
    # while they are recomputed, then the new month to date shows.
    with Staging(demo_home.costs, default_currency="USD") as staging:
        staging.append_frame(pd.DataFrame([{
            "ChargePeriodStart": pd.Timestamp(FIXED_TODAY - timedelta(days=1)), "EffectiveCost": 1000.0,
            "BilledCost": 1000.0, "ChargeCategory": "Usage", "SubAccountId": "999999999999",
            "SubAccountName": "new", "ServiceName": "EC2", "ResourceId": "r-new", "BillingCurrency": "USD",
            "BillingAccountId": "999999999999", "BillingPeriodStart": pd.Timestamp(FIXED_TODAY.replace(day=1)),
        }]), "test")
        staging.commit(replace_all=False)
    release.clear()
    third = FinOpsApp(Home(demo_home.path, clock_override=ClockAt(FIXED_TODAY, time(11, 0))))
    async with third.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: "figures" in note(third).lower(), "stale figures")
        assert note(third) == ("STALE figures, computed 2026-11-27 10:45 before the data, records or day "
                               "changed; recomputing…")
        stale = tiles(third)
        assert stale["Month to date"] == (shown["Month to date"][0], "stale, recomputing")
        release.set()
        await settle(pilot)
        assert note(third) == "Figures computed 2026-11-27 11:00"
        assert tiles(third)["Month to date"][0] == f"{mtd + 1000.0:,.0f} USD"


async def test_back_on_the_board_current_figures_are_kept_and_stale_ones_recomputed(demo_home, monkeypatch) -> None:
    """Returning from another screen reloads the board: figures cached under the current key are kept (no
    recomputation competing with the next screen), figures made stale meanwhile (a budget written) are
    recomputed."""
    from datetime import date

    import rituals.board
    from storage.records import Budget

    calls: list[int] = []
    compute = rituals.board.kpis

    def counted(home, actions):  # type: ignore[no-untyped-def]
        calls.append(1)
        return compute(home, actions)

    monkeypatch.setattr(rituals.board, "kpis", counted)
    app = FinOpsApp(demo_home)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert len(calls) == 1  # the start recomputes once
        board = app.screen
        await pilot.press("p")  # the people screen, and back
        await settle(pilot)
        assert app.screen is not board
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is board and len(calls) == 1
        assert str(board.query_one("#figures-note").content).startswith("Figures computed")
        with demo_home.records.write() as s:  # a records write the KPI strip's key reads
            s.add(Budget(month=date(2027, 1, 1), team_id=None, amount=1.0))
        await pilot.press("p")
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is board and len(calls) == 2


async def test_the_heap_is_frozen_once_the_figures_are_computed_and_thawed_at_exit(demo_home) -> None:
    """After the board's figures are computed the app freezes what is alive (gc.freeze: the collector stops
    walking the libraries' objects while screens build their widgets); it thaws it when the app ends."""
    import gc

    assert gc.get_freeze_count() == 0
    app = FinOpsApp(demo_home)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert app.screen.query_one("#figures-note").content  # the recomputed figures are on the board
        frozen = gc.get_freeze_count()
        assert frozen > 10_000  # Textual's, pandas' and DuckDB's objects among them
        app.settle_heap()  # once a run: a second call freezes nothing more
        assert gc.get_freeze_count() == frozen
    assert gc.get_freeze_count() == 0


PRELOAD_PROBE = r"""
import asyncio, json, sys
from datetime import date
from pathlib import Path
from finops_tui.app import FinOpsApp
from finops_tui.screens.registry import RITUAL_SCREENS
from storage.clock import Clock
from storage.home import Home
from tests.workers import workers_done

ours = ("rituals", "exports", "finops_tui", "storage", "textual_plotext", "plotext")


def loaded():
    return {m for m in sys.modules if m.split(".")[0] in ours}


async def main():
    home = Home(Path(sys.argv[1]), clock_override=Clock(date.fromisoformat(sys.argv[2])))
    app = FinOpsApp(home)
    report = {}
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await workers_done(app)
        await pilot.pause()
        report["settled"] = sorted(loaded())
        for kind in RITUAL_SCREENS:
            before = loaded()
            app.open_ritual(kind)
            await pilot.pause()
            await workers_done(app)
            await pilot.pause()
            report[kind] = sorted(loaded() - before)
            app.pop_screen()
            await pilot.pause()
            await workers_done(app)
    print("REPORT " + json.dumps(report))


asyncio.run(main())
"""


def test_once_the_board_has_settled_opening_a_ritual_imports_none_of_its_modules(demo_home) -> None:
    # A fresh process, as a user's: the board's worker has imported each ritual's screen and the logic its
    # findings use, so opening one (and computing its findings) leaves nothing of ours to import.
    import json
    import subprocess
    import sys
    from pathlib import Path

    from finops_tui.screens.registry import RITUAL_SCREENS

    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-c", PRELOAD_PROBE, str(demo_home.path), FIXED_TODAY.isoformat()],
                          capture_output=True, text=True, cwd=root, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.split("REPORT ", 1)[1])
    expected = {target.split(":")[0] for target in RITUAL_SCREENS.values()} | {"textual_plotext"}
    for package in ("rituals", "exports"):  # every module file of the logic packages, read off the disk
        for path in (root / package).rglob("*.py"):
            parts = path.relative_to(root).with_suffix("").parts
            expected.add(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    assert expected - set(report["settled"]) == set()
    for kind in RITUAL_SCREENS:
        assert report[kind] == [], kind
