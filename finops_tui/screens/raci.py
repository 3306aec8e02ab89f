"""The RACI editor: a grid of activities x roles. Pick a cell, toggle R/A/C/I with the keys, save the row.

Saving a row with zero or two A is refused with a message naming the row; a row with no R is saved with a
warning. Unsaved rows are marked with a star.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from finops_tui.widgets.data_table import FrameTable
from finops_tui.widgets.safe_text import SafeStatic, safe_text
from storage.home import Home
from storage.records import RACI_LETTERS, ROLE_LABELS, ROLES


class RaciScreen(Screen[None]):
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back", id="raci-back"),
        Binding("r", "toggle('R')", "R", id="raci-toggle-r"),
        Binding("a", "toggle('A')", "A", id="raci-toggle-a"),
        Binding("c", "toggle('C')", "C", id="raci-toggle-c"),
        Binding("i", "toggle('I')", "I", id="raci-toggle-i"),
        Binding("ctrl+s,s", "save_row", "Save row", id="raci-save-row"),
        Binding("u", "reload", "Undo unsaved", id="raci-reload"),
    ]

    def __init__(self, home: Home) -> None:
        super().__init__(name="raci")
        self.home = home
        self.rows: list[Any] = []  # RaciRow as stored
        self.edits: dict[str, dict[str, tuple[str, ...]]] = {}  # activity -> letters being edited
        self.note: tuple[str, bool] | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield SafeStatic("R responsible, A accountable (exactly one per row), C consulted, I informed. "
                     "Pick a cell, press r/a/c/i to toggle, s to save the row.", id="raci-help", markup=False)
        yield FrameTable(id="raci-grid", export_name="raci", cursor_type="cell")
        yield SafeStatic("", id="raci-message", markup=False)
        yield SafeStatic("", id="raci-holders", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.title = "RACI"
        self.action_reload()

    # -- loading ----------------------------------------------------------------------------------------
    def action_reload(self) -> None:
        self.edits.clear()
        self._load()

    @work(thread=True, exclusive=True, group="raci-load")
    def _load(self) -> None:
        from rituals.raci import RaciError, check_raci, ensure_raci, load_raci, resolve_role

        ensure_raci(self.home.records)
        holders = []
        with self.home.records.session() as s:
            rows = load_raci(s)
            for role in ROLES:
                if role == "engineering":
                    continue
                try:
                    person = resolve_role(s, role)
                    holders.append(f"{ROLE_LABELS[role]}: {person.name} ({person.handle})")
                except RaciError:
                    holders.append(f"{ROLE_LABELS[role]}: nobody")
        verdict = check_raci(rows)
        self.app.call_from_thread(self._show, rows, holders, verdict.errors + verdict.warnings)

    def _show(self, rows: list[Any], holders: list[str], problems: list[str]) -> None:
        self.rows = rows
        grid = self.query_one("#raci-grid", FrameTable)
        first = grid.frame is None
        self._fill()
        if rows and first:
            grid.move_cursor(row=0, column=1)
        self.query_one("#raci-holders", Static).update(
            safe_text("Roles resolve to: " + "; ".join(holders) + "; engineering team: the owning team's owner"))
        if self.note is not None:  # what the last save said wins over the table's verdict
            text, error = self.note
            self.note = None
            self._message(text, error)
        else:
            self._message("\n".join(problems) if problems else "Every row has exactly one A.", bool(problems))

    def _fill(self) -> None:
        """The grid from the stored rows and the edits (the table keeps the cursor on its activity)."""
        import pandas as pd

        frame = pd.DataFrame([self._cells(r.activity, self.letters_of(r.activity)) for r in self.rows],
                             columns=["activity", *ROLES], dtype=object)
        self.query_one("#raci-grid", FrameTable).load_frame(
            frame, labels=ROLE_LABELS, priorities={"activity": 0, **{role: 0 for role in ROLES}},
            keys=[r.activity for r in self.rows])

    def _cells(self, activity: str, letters: dict[str, tuple[str, ...]]) -> list[Text]:
        star = " *" if activity in self.edits else ""
        cells = [safe_text(activity + star, style="bold" if star else "")]
        for role in ROLES:
            got = letters.get(role, ())
            cells.append(safe_text(", ".join(got), style="bold yellow" if "A" in got else ""))
        return cells

    def _message(self, text: str, error: bool = False) -> None:
        self.query_one("#raci-message", Static).update(safe_text(text, style="bold red" if error else "green"))

    # -- editing ----------------------------------------------------------------------------------------
    def _current(self) -> tuple[str, str | None]:
        grid = self.query_one("#raci-grid", FrameTable)
        row = self.rows[grid.cursor_position() or 0]  # the frame's row, whatever the sort or filter
        column = grid.current_column
        return row.activity, (column.key if column is not None and column.key in ROLES else None)

    def letters_of(self, activity: str) -> dict[str, tuple[str, ...]]:
        if activity in self.edits:
            return self.edits[activity]
        return dict(next(r for r in self.rows if r.activity == activity).letters)

    def action_toggle(self, letter: str) -> None:
        if not self.rows:
            return
        activity, role = self._current()
        if role is None:
            self._message("Pick a role's cell first (not the activity name).", error=True)
            return
        letters = dict(self.letters_of(activity))
        got = set(letters.get(role, ()))
        got ^= {letter}
        letters[role] = tuple(x for x in RACI_LETTERS if x in got)
        if not letters[role]:
            del letters[role]
        self.edits[activity] = letters
        self._redraw(activity)

    def _redraw(self, activity: str) -> None:
        self._fill()

    def action_save_row(self) -> None:
        if not self.rows:
            return
        activity, _ = self._current()
        if activity not in self.edits:
            self._message(f"{activity}: nothing to save.")
            return
        self._save(activity, self.edits[activity])

    @work(thread=True, exclusive=True, group="raci-save")
    def _save(self, activity: str, letters: dict[str, tuple[str, ...]]) -> None:
        from rituals.raci import RaciError, save_raci_row

        try:
            with self.home.records.write() as s:
                warnings = save_raci_row(s, activity, letters)
        except (RaciError, RuntimeError) as exc:
            self.app.call_from_thread(self._message, f"Not saved: {exc}", True)
            return
        self.app.call_from_thread(self._saved, activity, warnings)

    def _saved(self, activity: str, warnings: list[str]) -> None:
        self.edits.pop(activity, None)
        self.note = (f"Saved {activity!r}." + "".join(f"\nwarning: {w}" for w in warnings), bool(warnings))
        self._load()
