"""The ritual board on the demo company: five rituals, KPI values equal to the stores' figures."""

from __future__ import annotations

from datetime import timedelta

from textual.widgets import DataTable

from finops_tui.app import FinOpsApp
from finops_tui.screens.board import BoardScreen
from finops_tui.widgets.kpi_strip import KpiStrip
from rituals.allocation import account_teams_from_records, coverage
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


def test_board_snapshot(demo_home, snap_compare) -> None:
    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await settle(pilot)

    assert snap_compare(FinOpsApp(demo_home), terminal_size=(120, 36), run_before=run_before)
