"""A screen around one month's panel (showback, unit economics): [ and ] change the month, t types a value
(a budget or a metric) through the ValueForm, escape goes back."""

from __future__ import annotations

from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer, Header


class MonthPanelScreen(Screen[None]):
    PANEL: ClassVar[type[Widget]]
    VALUE_KIND: ClassVar[str] = "budget"  # what `t` types: "budget" or "metric"
    BINDINGS = [
        Binding("left_square_bracket", "month(-1)", "Previous month", id="month-previous", key_display="["),
        Binding("right_square_bracket", "month(1)", "Next month", id="month-next", key_display="]"),
        Binding("escape", "app.pop_screen", "Back", id="month-back"),
    ]

    def __init__(self, home: Any, month: Any = None) -> None:
        super().__init__()
        self.home = home
        self.initial_month = month

    def compose(self) -> ComposeResult:
        yield Header()
        yield self.PANEL(self.home, self.initial_month, id="month-panel")  # type: ignore[call-arg]
        yield Footer()

    def action_month(self, step: int) -> None:
        from rituals.calendar import add_months

        panel: Any = self.query_one(self.PANEL)
        panel.load(add_months(panel.month, step))

    def action_type_value(self) -> None:
        from finops_tui.modals.value_form import ValueForm
        from rituals.showback import active_teams, month_key

        panel: Any = self.query_one(self.PANEL)

        def stored(row: dict | None) -> None:
            if row:
                what = row.get("metric") or "budget"
                amount = row.get("amount", row.get("value"))
                who = row["team"] or "the organisation"
                self.notify(f"Saved {what} {amount:,.2f} for {who} in {row['month']}", markup=False)
                panel.load(panel.month)

        form = ValueForm(self.home, self.VALUE_KIND, month_key(panel.month), active_teams(self.home.records))
        self.app.push_screen(form, stored)
