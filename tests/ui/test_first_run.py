"""An empty home opens on the first-run screen, with the exact commands."""

from finops_tui.app import FinOpsApp
from finops_tui.screens.first_run import FirstRunScreen


async def test_empty_home_shows_first_run(home) -> None:
    app = FinOpsApp(home)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, FirstRunScreen)
        text = str(app.screen.query_one("#first-run-text").render())
        assert "import PATH" in text and "sync aws" in text and "finops-tui demo" in text
        await pilot.press("question_mark")
        await pilot.pause()
        assert app.screen.query("HelpPanel")  # the keys of the screen and of the focused widget
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, FirstRunScreen)
