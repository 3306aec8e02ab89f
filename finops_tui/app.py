"""FinOpsApp: the screens, bindings and command palette. Services are injected, never built here."""

from __future__ import annotations

from pathlib import Path

from textual.app import App
from textual.binding import Binding

from storage.home import Home


class FinOpsApp(App[None]):
    CSS_PATH = Path(__file__).with_name("finops.tcss")
    TITLE = "finops-tui"
    BINDINGS = [
        Binding("q", "quit", "Quit", id="quit"),
        Binding("question_mark", "help", "Help", id="help", key_display="?"),
    ]

    def __init__(self, home: Home) -> None:
        super().__init__()
        self.home = home

    def on_mount(self) -> None:
        self.sub_title = str(self.home.path)
        if not self.home.has_cost_data():
            from finops_tui.screens.first_run import FirstRunScreen

            self.push_screen(FirstRunScreen(self.home))
        else:
            from finops_tui.screens.board import BoardScreen

            self.push_screen(BoardScreen(self.home))

    def action_help(self) -> None:
        from finops_tui.screens.help import HelpScreen

        self.push_screen(HelpScreen())
