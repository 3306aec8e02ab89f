"""A new action typed inline during a ritual: title, owner (from the people), kind, due date, detail.
Dismisses with ``ActionValues`` (validated) or None when cancelled; the caller stores it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static

from finops_tui.widgets.safe_text import SafeStatic
from storage.records import ACTION_KINDS


@dataclass(frozen=True)
class ActionValues:
    title: str
    owner_id: int
    kind: str
    due_date: date | None
    detail: str


def validate(title: str, owner_id: object, kind: object, due_text: str, detail: str,
             today: date) -> tuple[ActionValues | None, list[str]]:
    """The values, or the problems (one line each) that stop them being saved: the rules of
    ``rituals.actions.new_action_problems``, the same the CLI applies."""
    from rituals.actions import new_action_problems

    due: date | None = None
    unreadable = None
    if due_text.strip():
        try:
            due = date.fromisoformat(due_text.strip())
        except ValueError:
            unreadable = f"Due date must be YYYY-MM-DD, got {due_text.strip()!r}."
    problems = new_action_problems(title, owner_id, kind, due, today)
    if unreadable:
        problems.append(unreadable)
    if problems:
        return None, problems
    return ActionValues(title.strip(), owner_id, str(kind), due, detail.strip()), []  # type: ignore[arg-type]


class ActionForm(ModalScreen[ActionValues | None]):
    DEFAULT_CSS = """
    ActionForm {
        align: center middle;
    }
    ActionForm > #action-form {
        width: 72;
        max-width: 98%;
        height: auto;
        max-height: 95%;
        border: thick $accent;
        background: $panel;
        padding: 0 1;
    }
    ActionForm Label {
        margin-top: 1;
    }
    ActionForm #action-errors {
        color: $error;
        height: auto;
    }
    ActionForm #action-buttons {
        height: auto;
        align-horizontal: right;
    }
    """
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="action-cancel"),
        Binding("ctrl+s", "save", "Save action", id="action-save"),
    ]

    def __init__(self, people: Sequence[tuple[str, int]], today: date, *, title: str = "",
                 owner_id: int | None = None, kind: str = "other", due: date | None = None,
                 detail: str = "") -> None:
        super().__init__()
        self.people = list(people)
        self.today = today
        self.initial = (title, owner_id, kind, due or today + timedelta(days=14), detail)

    def compose(self) -> ComposeResult:
        title, owner_id, kind, due, detail = self.initial
        with VerticalScroll(id="action-form"):
            yield SafeStatic("New action", classes="form-title")
            yield Label("Title")
            yield Input(title, id="action-title", placeholder="What will be done")
            yield Label("Owner")
            yield Select(self.people, id="action-owner", prompt="Choose the owner",
                         value=owner_id if owner_id is not None else Select.BLANK)
            yield Label("Kind")
            yield Select([(k.replace("_", " "), k) for k in ACTION_KINDS], id="action-kind", value=kind,
                         allow_blank=False)
            yield Label("Due (YYYY-MM-DD)")
            yield Input(due.isoformat(), id="action-due")
            yield Label("Detail")
            yield Input(detail, id="action-detail", placeholder="Optional")
            yield SafeStatic("", id="action-errors", markup=False)
            with Horizontal(id="action-buttons"):
                yield Button("Cancel", id="action-cancel-button")
                yield Button("Save", id="action-save-button", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#action-title", Input).focus()

    def action_save(self) -> None:
        values, problems = validate(
            self.query_one("#action-title", Input).value,
            self.query_one("#action-owner", Select).value,
            self.query_one("#action-kind", Select).value,
            self.query_one("#action-due", Input).value,
            self.query_one("#action-detail", Input).value,
            self.today,
        )
        if values is None:
            self.query_one("#action-errors", Static).update("\n".join(problems))
            return
        self.dismiss(values)

    def action_cancel(self) -> None:
        self.dismiss(None)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_save()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "action-save-button":
            self.action_save()
        else:
            self.action_cancel()
