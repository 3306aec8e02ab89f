"""The ritual board on the demo company: five rituals, KPI values equal to the stores' figures."""

from __future__ import annotations

from datetime import timedelta

from textual.widgets import DataTable

from finops_tui.app import FinOpsApp
from finops_tui.screens.board import BoardScreen
from finops_tui.widgets.kpi_strip import KpiStrip
from rituals.allocation import account_teams_from_records, coverage
from tests.conftest import FIXED_TODAY


async def settle(pilot) -> None:  # type: ignore[no-untyped-def]
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
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
        assert app.screen.__class__.__name__ == "HelpScreen"


async def test_a_ritual_not_built_says_so(demo_home, monkeypatch) -> None:
    from finops_tui.screens import registry

    monkeypatch.setattr(registry, "RITUAL_SCREENS", {})
    app = FinOpsApp(demo_home)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, BoardScreen)
        assert any("not built yet" in str(n.message) for n in app._notifications)


def test_board_snapshot(demo_home, snap_compare) -> None:
    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await settle(pilot)

    assert snap_compare(FinOpsApp(demo_home), terminal_size=(120, 36), run_before=run_before)
