"""Type a monthly budget or a business-metric value in the app. The form saves through rituals.budgets
(set_budget / set_metric) in one write; a wrong field is named in the form and nothing is stored."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static

from finops_tui.widgets.safe_text import SafeStatic, safe_text

ORG = "(the whole organisation)"


class ValueForm(ModalScreen[dict[str, Any] | None]):
    """``ValueForm(home, "budget" | "metric", month="2026-11")``; dismisses with the stored row or None."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="value-cancel")]
    DEFAULT_CSS = """
    ValueForm { align: center middle; }
    ValueForm > VerticalScroll { width: 70; height: auto; max-height: 90%; border: round $accent;
                                 background: $panel; padding: 0 1; }
    ValueForm Horizontal { height: auto; }
    ValueForm #value-problem { color: $error; }
    """

    def __init__(self, home: Any, kind: str, month: str = "", teams: list[str] | None = None) -> None:
        super().__init__()
        self.home = home
        self.kind = kind
        self.month = month
        self.teams = teams or []

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Label("Type a monthly budget" if self.kind == "budget" else "Type a business metric value")
            yield Select([(ORG, "")] + [(t, t) for t in self.teams], value="", allow_blank=False, id="value-team")
            yield Input(self.month, placeholder="month YYYY-MM", id="value-month")
            if self.kind == "metric":
                yield Input(placeholder="metric, e.g. active_customers", id="value-metric")
            yield Input(placeholder="amount" if self.kind == "budget" else "value", id="value-amount")
            yield SafeStatic("", id="value-problem")
            with Horizontal():
                yield Button("Save", variant="primary", id="value-save")
                yield Button("Cancel", id="value-cancel-button")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "value-save":
            self.save()
        else:
            self.dismiss(None)

    def on_input_submitted(self, _event: Input.Submitted) -> None:
        self.save()

    def action_cancel(self) -> None:
        self.dismiss(None)

    def save(self) -> None:
        from rituals.budgets import set_budget, set_metric

        team = str(self.query_one("#value-team", Select).value or "") or None
        month = self.query_one("#value-month", Input).value
        amount = self.query_one("#value-amount", Input).value
        try:
            with self.home.records.write() as session:
                if self.kind == "budget":
                    row = set_budget(session, team, month, amount)
                else:
                    row = set_metric(session, month, self.query_one("#value-metric", Input).value, amount, team)
        except ValueError as exc:
            self.query_one("#value-problem", Static).update(safe_text(str(exc)))
            return
        self.dismiss(row)
