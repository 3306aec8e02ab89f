"""The inputs of one inbox decision: accept (owner, due date), dismiss (reason) or snooze (until). The form
only collects text; the screen takes the decision through rituals.inbox, which names what is wrong."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label

from finops_tui.widgets.safe_text import SafeStatic

FIELDS = {"accept": [("owner", "owner handle (empty: the routed owner)"), ("due", "due date YYYY-MM-DD")],
          "dismiss": [("reason", "why (kept with the recommendation)")],
          "snooze": [("until", "show it again on YYYY-MM-DD")]}


class InboxDecision(ModalScreen[dict[str, str] | None]):
    """``InboxDecision("accept" | "dismiss" | "snooze", title, defaults)``; dismisses with the typed values."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="inbox-decision-cancel")]
    DEFAULT_CSS = """
    InboxDecision { align: center middle; }
    InboxDecision > VerticalScroll { width: 70; height: auto; max-height: 90%; border: round $accent;
                                     background: $panel; padding: 0 1; }
    InboxDecision Horizontal { height: auto; }
    """

    def __init__(self, kind: str, title: str, defaults: dict[str, str] | None = None) -> None:
        super().__init__()
        self.kind = kind
        self.heading = title
        self.defaults = defaults or {}

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Label(self.kind.capitalize(), id="inbox-decision-kind")
            yield SafeStatic(self.heading, markup=False)
            for name, hint in FIELDS[self.kind]:
                yield Input(self.defaults.get(name, ""), placeholder=hint, id=f"inbox-{name}")
            with Horizontal():
                yield Button(self.kind.capitalize(), variant="primary", id="inbox-decision-ok")
                yield Button("Cancel", id="inbox-decision-cancel-button")

    def on_mount(self) -> None:
        self.query(Input).first().focus()

    def _values(self) -> dict[str, str]:
        return {name: self.query_one(f"#inbox-{name}", Input).value for name, _ in FIELDS[self.kind]}

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(self._values() if event.button.id == "inbox-decision-ok" else None)

    def on_input_submitted(self, _event: Input.Submitted) -> None:
        self.dismiss(self._values())

    def action_cancel(self) -> None:
        self.dismiss(None)

    def values(self) -> dict[str, Any]:
        return self._values()
