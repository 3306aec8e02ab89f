"""The import dialog: a bad file shows its one-line reason and stores nothing; a good file imports in a
worker, shows the summary, and the dialog hands it back."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Input, ProgressBar, Static

from finops_tui.app import FinOpsApp
from finops_tui.modals.import_dialog import ImportDialog
from tests.focus_files import with_descriptive
from tests.ui.buttons import click_button
from tests.workers import workers_done


def text_of(app: FinOpsApp, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).render())


async def test_import_dialog_refuses_then_imports(home, tmp_path: Path) -> None:
    bad = tmp_path / "bad [x].csv"  # brackets: a path is never markup
    cols = "ChargePeriodStart,ChargePeriodEnd,BillingPeriodStart,BillingPeriodEnd,ChargeCategory,BillingCurrency"
    rest = "2026-10-01,2026-10-02,2026-10-01,2026-11-01,Usage,USD"
    bad.write_text(with_descriptive(f"BillingAccountId,{cols},BilledCost,EffectiveCost\nacct-1,{rest},abc,1\n"))
    good = tmp_path / "good.csv"
    good.write_text(with_descriptive(f'{cols},BilledCost,EffectiveCost,Tags\n{rest},2.5,2.5,"{{""TEAM"": ""[prod]""}}"\n'))
    results: list = []
    app = FinOpsApp(home)
    async with app.run_test(size=(110, 40)) as pilot:
        await pilot.pause()
        app.push_screen(ImportDialog(home), results.append)
        await pilot.pause()
        app.screen.query_one("#import-path", Input).value = f"'{bad}'"
        await click_button(pilot, "#import-start")
        await workers_done(app)
        await pilot.pause()
        error = text_of(app, "#import-error")
        assert "bad [x].csv" in error and "row 1" in error and "column BilledCost" in error
        assert home.costs.totals() == (0, 0.0, 0.0)

        path_input = app.screen.query_one("#import-path", Input)
        path_input.value = str(good)
        await click_button(pilot, "#import-start")  # no BillingAccountId column: refused, naming it
        await workers_done(app)
        await pilot.pause()
        assert "good.csv" in text_of(app, "#import-error") and "--billing-account" in text_of(app, "#import-error")
        app.screen.query_one("#import-billing-account", Input).value = "acct-1"
        path_input.focus()
        await pilot.press("enter")
        await workers_done(app)
        await pilot.pause()
        assert text_of(app, "#import-error") == ""
        summary = text_of(app, "#import-summary")
        assert "Imported 1 rows" in summary and "2.50" in summary and "team <- 'TEAM'" in summary
        assert app.screen.query_one("#import-progress", ProgressBar).progress == 100
        assert home.costs.totals() == (1, 2.5, 2.5)
        await pilot.press("escape")
        await pilot.pause()
    assert results and results[0]["rows"] == 1 and results[0]["currency"] == "USD"


async def test_the_palette_offers_the_import(home) -> None:
    app = FinOpsApp(home)
    async with app.run_test(size=(110, 40)) as pilot:
        await pilot.pause()
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Import billing files" in titles
        app.action_import_files("/some/where")
        await pilot.pause()
        assert isinstance(app.screen, ImportDialog)
        assert app.screen.query_one("#import-path", Input).value == "/some/where"
