"""Two small modals: pick one of a few options, or type one line of text. Both dismiss with None on escape.

    choice = await self.app.push_screen_wait(PickOne("New status", [("Resolved", "resolved"), ...]))
    text = await self.app.push_screen_wait(TextPrompt("Add a note"))
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList
from textual.widgets.option_list import Option

from finops_tui.widgets.safe_text import SafeStatic, safe_text

_CSS = """
{name} {{ align: center middle; }}
{name} > Vertical {{ width: 60; max-width: 95%; height: auto; max-height: 80%; border: thick $primary;
    background: $panel; padding: 1 2; }}
{name} OptionList {{ height: auto; max-height: 16; }}
"""


class PickOne(ModalScreen[str | None]):
    DEFAULT_CSS = _CSS.format(name="PickOne")
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="pick-cancel")]

    def __init__(self, title: str, options: list[tuple[str, str]], current: str | None = None) -> None:
        super().__init__()
        self.title_text = title
        self.options = options
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical():
            yield SafeStatic(self.title_text, markup=False)
            yield OptionList(*[Option(safe_text(label), id=value) for label, value in self.options], id="pick-options")

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        values = [v for _l, v in self.options]
        if self.current in values:
            options.highlighted = values.index(self.current)
        options.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)


class TextPrompt(ModalScreen[str | None]):
    DEFAULT_CSS = _CSS.format(name="TextPrompt")
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="prompt-cancel")]

    def __init__(self, title: str, placeholder: str = "") -> None:
        super().__init__()
        self.title_text = title
        self.placeholder = placeholder

    def compose(self) -> ComposeResult:
        with Vertical():
            yield SafeStatic(self.title_text, markup=False)
            yield Input(placeholder=self.placeholder, id="prompt-input")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value.strip() or None)

    def action_cancel(self) -> None:
        self.dismiss(None)
