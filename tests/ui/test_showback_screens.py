"""Pilot: the showback screen shows every team summing to the month and exports its CSV; the unit-economics
screen flags the AI feature; both open from the command palette."""

from __future__ import annotations

from textual.widgets import Static

from finops_tui.app import FinOpsApp
from finops_tui.screens.showback import ShowbackPanel, ShowbackScreen
from finops_tui.screens.unit_economics import UnitEconomicsPanel, UnitEconomicsScreen
from finops_tui.widgets.data_table import FrameTable


async def _wait(pilot, predicate, tries: int = 1200) -> None:  # up to a minute on a loaded machine
    for _ in range(tries):
        if predicate():
            return
        await pilot.pause(0.05)
    raise AssertionError("timed out")


async def test_showback_screen_table_chart_and_csv(demo_home) -> None:
    app = FinOpsApp(demo_home)
    async with app.run_test(size=(130, 45)) as pilot:
        app.push_screen(ShowbackScreen(demo_home))
        await pilot.pause()
        panel = app.screen.query_one(ShowbackPanel)
        await _wait(pilot, lambda: panel.showback is not None)
        await pilot.pause()
        table = panel.query_one(FrameTable)
        assert table.row_count == len(panel.showback.teams)
        assert round(sum(table.frame["total"]), 2) == panel.showback.total
        chart = str(panel.query_one("#showback-chart", Static).render())
        assert "ml-inference" in chart and "█" in chart
        table.focus()
        await pilot.press("e")  # the format picker: CSV first
        await _wait(pilot, lambda: app.screen.__class__.__name__ == "PickOne")
        await pilot.press("enter")
        await _wait(pilot, lambda: any((demo_home.path / "exports").glob("showback-2026-10*.csv")))
        csv = next((demo_home.path / "exports").glob("showback-2026-10*.csv")).read_text()
        assert csv.splitlines()[0].startswith("team,direct,shared,total")
        await pilot.press("left_square_bracket")
        await _wait(pilot, lambda: panel.showback.month == "2026-09")


async def test_unit_economics_screen_flags_rising_unit_cost(demo_home) -> None:
    app = FinOpsApp(demo_home)
    async with app.run_test(size=(130, 45)) as pilot:
        app.push_screen(UnitEconomicsScreen(demo_home))
        await pilot.pause()
        panel = app.screen.query_one(UnitEconomicsPanel)
        await _wait(pilot, lambda: panel.result is not None)
        await pilot.pause()
        assert "inferences: unit cost" in str(panel.query_one("#ue-flags", Static).render())
        assert panel.query_one(FrameTable).row_count == 3


async def test_palette_offers_both_screens(demo_home) -> None:
    app = FinOpsApp(demo_home)
    async with app.run_test() as pilot:
        await pilot.pause()
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Showback" in titles and "Unit economics" in titles
        command = next(c for c in app.get_system_commands(app.screen) if c.title == "Showback")
        command.callback()
        await pilot.pause()
        assert isinstance(app.screen, ShowbackScreen)


async def test_typing_a_budget_in_the_showback_screen(demo_home) -> None:
    from textual.widgets import Input, Select, Static

    from finops_tui.app import FinOpsApp
    from finops_tui.modals.value_form import ValueForm
    from finops_tui.screens.showback import ShowbackScreen
    from rituals.budgets import list_budgets

    app = FinOpsApp(demo_home)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.push_screen(ShowbackScreen(demo_home))
        await pilot.pause()
        await pilot.press("t")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, ValueForm)
        form.query_one("#value-team", Select).value = "search"
        form.query_one("#value-month", Input).value = "2027-02"
        form.query_one("#value-amount", Input).value = "abc"
        form.save()
        await pilot.pause()
        assert "amount must be a number" in str(form.query_one("#value-problem", Static).render())
        form.query_one("#value-amount", Input).value = "12500"
        form.save()
        await pilot.pause()
        assert isinstance(app.screen, ShowbackScreen)
    with demo_home.records.session() as s:
        assert {"month": "2027-02", "team": "search", "amount": 12500.0, "source": "typed"} in list_budgets(s)
