"""What an empty home shows: the three ways to get data in, with the exact commands."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header

from finops_tui.widgets.safe_text import SafeStatic, safe_text
from storage.home import Home


def first_run_text(home: Home) -> Text:
    flag = f" --home {home.path}" if home.path else ""
    text = safe_text()
    text.append("Welcome to finops-tui\n\n", style="bold")
    text.append(f"This home holds no cost data yet:\n  {home.path}\n\n")
    text.append("Get data in one of three ways, then open finops-tui again:\n\n")
    text.append("  1. Import billing files (FOCUS 1.0-1.3 or AWS CUR 2.0; CSV, CSV.gz or Parquet)\n", style="bold")
    text.append(f"       finops-tui{flag} import PATH\n\n")
    text.append("  2. Sync from AWS (Cost Explorer and friends, through your AWS profile)\n", style="bold")
    text.append(f"       finops-tui{flag} sync aws --profile PROFILE\n\n")
    text.append("  3. Open the demo company (a realistic 13-month history, in its own folder)\n", style="bold")
    text.append("       finops-tui demo\n\n")
    text.append("Press q to quit, ? for help.")
    return text


class FirstRunScreen(Screen[None]):
    def __init__(self, home: Home) -> None:
        super().__init__(name="first-run")
        self.home = home

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="first-run"):
            yield SafeStatic(first_run_text(self.home), id="first-run-text")
        yield Footer()
