"""My actions: the actions I own, their history, and changing status, due date or adding a note.

The screen holds the version of each action it showed; a save is made against that version, so an edit
made on stale data is refused ("changed by NAME at TIME; run again") and never overwrites anyone.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Button, DataTable, Footer, Header, Input, Select, Static

from finops_tui.widgets.data_table import FrameTable
from finops_tui.widgets.safe_text import SafeStatic, safe_text
from storage.home import Home
from storage.records import ACTION_STATUSES


@dataclass
class _Loaded:
    me: Any  # Person or None
    problem: str | None
    views: list[Any]  # ActionView
    history: list[Any]  # EventView of the selected action
    people: list[tuple[str, str]] | None = None  # (label, handle) to choose from, when nobody is known


class MyActionsScreen(Screen[None]):
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back", id="my-actions-back"),
        Binding("ctrl+s", "save", "Save", id="my-actions-save"),
        Binding("a", "toggle_all", "Mine / all open", id="my-actions-toggle-all"),
        Binding("r", "reload", "Reload", id="my-actions-reload"),
    ]

    def __init__(self, home: Home, handle: str | None = None) -> None:
        super().__init__(name="my-actions")
        self.home = home
        self.handle = handle
        self.show_all = False
        self.me: Any = None
        self.views: dict[int, Any] = {}
        self.shown_version: dict[int, int] = {}  # what the person saw: the version a save is checked against
        self.selected: int | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield SafeStatic("", id="ma-acting", markup=False)
        with Horizontal(id="ma-whoami"):  # shown only while the records do not know who is at this terminal
            yield Select([], prompt="Who are you?", id="ma-person")
            yield Button("This is me", id="ma-this-is-me", variant="primary")
        with Horizontal(id="ma-body"):
            yield FrameTable(id="ma-table", export_name="my-actions")
            with Vertical(id="ma-side"):
                yield SafeStatic("", id="ma-detail", markup=False)
                yield Select([(s.replace("_", " "), s) for s in ACTION_STATUSES], allow_blank=False,
                             id="ma-status")
                yield Input(placeholder="due date YYYY-MM-DD ('none' clears)", id="ma-due")
                yield Input(placeholder="note (kept in the history)", id="ma-note")
                yield Button("Save", id="ma-save", variant="primary")
                yield SafeStatic("", id="ma-message", markup=False)
                yield SafeStatic("History", classes="section-title")
                yield FrameTable(id="ma-history", export_name="action-history", zebra_stripes=False)
        yield Footer()

    def on_mount(self) -> None:
        self.title = "My actions"
        self.action_reload()

    # -- loading ----------------------------------------------------------------------------------------
    def action_reload(self) -> None:
        self._load(self.selected)

    def action_toggle_all(self) -> None:
        self.show_all = not self.show_all
        self.action_reload()

    @work(thread=True, exclusive=True, group="my-actions-load")
    def _load(self, selected: int | None) -> None:
        from rituals.actions import action_history, list_actions
        from rituals.people import UnknownPerson, resolve_actor

        today = self.home.clock.today()
        with self.home.records.session() as s:
            try:
                me = resolve_actor(s, self.handle, remembered=self.home.remembered_people())
            except UnknownPerson as exc:
                from rituals.people import USER_ENV, list_people

                # Asked only when nobody said who they are (no --as, no FINOPS_TUI_USER): then the choice sticks.
                asked = self.handle is None and not os.environ.get(USER_ENV, "").strip()
                people = [(f"{p.name} ({p.handle}, {p.role})", p.handle) for p in list_people(s, False)] if asked \
                    else None
                self.app.call_from_thread(self._show, _Loaded(None, str(exc), [], [], people))
                return
            owner = None if self.show_all else me.handle
            views = list_actions(s, today=today, owner=owner)
            ids = [v.id for v in views]
            chosen = selected if selected in ids else (ids[0] if ids else None)
            history = action_history(s, chosen) if chosen is not None else []
        self.app.call_from_thread(self._show, _Loaded(me, None, views, history), chosen)

    def _show(self, loaded: _Loaded, chosen: int | None = None) -> None:
        self.me = loaded.me
        acting = self.query_one("#ma-acting", Static)
        whoami = self.query_one("#ma-whoami", Horizontal)
        whoami.display = loaded.people is not None
        if loaded.people is not None:
            self.query_one("#ma-person", Select).set_options(loaded.people)
        if loaded.problem:
            asks = "\nChoose yourself below: this terminal remembers it." if loaded.people else ""
            acting.update(safe_text(loaded.problem + asks, style="bold red"))
        else:
            scope = "all open actions" if self.show_all else "the open actions you own"
            acting.update(safe_text(f"Acting as {loaded.me.name} ({loaded.me.handle}): {scope}"))
        self.views = {v.id: v for v in loaded.views}
        self.shown_version = {v.id: v.version for v in loaded.views}
        import pandas as pd

        table = self.query_one("#ma-table", FrameTable)
        rows = [{"id": v.id, "title": v.title, "status": v.status.replace("_", " "),
                 "due": safe_text(v.due_date.isoformat() if v.due_date else "-",
                                  style="bold red" if v.overdue else ""),
                 "owner": v.owner, "version": v.version} for v in loaded.views]
        # The due date and status before the title: a long title would push them off an 80-column screen.
        table.load_frame(pd.DataFrame(rows, columns=["id", "due", "status", "title", "owner", "version"],
                                      dtype=object),
                         labels={"id": "#", "title": "action", "version": "v"},
                         priorities={"title": 0, "due": 0, "status": 1, "owner": 2, "version": 3},
                         keys=[str(v.id) for v in loaded.views])
        self.selected = chosen
        if chosen is not None:
            table.move_cursor(row=table.get_row_index(str(chosen)))
        self._fill_form()
        self._fill_history(loaded.history)

    def _fill_form(self) -> None:
        view = self.views.get(self.selected) if self.selected is not None else None
        detail = self.query_one("#ma-detail", Static)
        if view is None:
            detail.update("No action selected." if self.me else "")
            return
        late = f", {view.days_overdue} days overdue" if view.overdue else ""
        detail.update(safe_text(f"#{view.id} {view.title}\nowner {view.owner_name}, team {view.team or '-'}{late}\n"
                           f"version {self.shown_version[view.id]}"))
        self.query_one("#ma-status", Select).value = view.status
        self.query_one("#ma-due", Input).value = view.due_date.isoformat() if view.due_date else ""
        self.query_one("#ma-note", Input).value = ""

    def _fill_history(self, events: list[Any]) -> None:
        import pandas as pd

        tz = self.home.clock.tz
        rows = [{"when": e.at.astimezone(tz).strftime("%Y-%m-%d %H:%M"), "who": e.actor or "-",
                 "change": e.field if e.field in ("created", "note") else f"{e.field}: {e.old or '-'} -> {e.new or '-'}",
                 "note": e.note or ""} for e in events]
        self.query_one("#ma-history", FrameTable).load_frame(
            pd.DataFrame(rows, columns=["when", "who", "change", "note"], dtype=object),
            priorities={"change": 0, "who": 1, "note": 2})

    @on(DataTable.RowHighlighted, "#ma-table")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.row_key.value is None:
            return
        picked = int(event.row_key.value)
        if picked != self.selected:
            self.selected = picked
            self._fill_form()
            self._load_history(picked)

    @work(thread=True, exclusive=True, group="my-actions-history")
    def _load_history(self, action_id: int) -> None:
        from rituals.actions import action_history

        with self.home.records.session() as s:
            events = action_history(s, action_id)
        self.app.call_from_thread(self._fill_history, events)

    # -- who is at this terminal: asked once, remembered in the home for this OS user ---------------------
    @on(Button.Pressed, "#ma-this-is-me")
    def _this_is_me(self) -> None:
        from rituals.people import current_os_user

        handle = self.query_one("#ma-person", Select).value
        if not isinstance(handle, str):
            self.notify("Choose yourself in the list first.", severity="warning")
            return
        try:
            self.home.remember_person(current_os_user(), handle)
        except OSError as exc:
            self.notify(f"Could not remember the choice: {exc}", severity="error", markup=False)
            return
        self.action_reload()

    # -- saving -----------------------------------------------------------------------------------------
    @on(Button.Pressed, "#ma-save")
    def _save_pressed(self) -> None:
        self.action_save()

    def _message(self, text: str, error: bool = False) -> None:
        self.query_one("#ma-message", Static).update(safe_text(text, style="bold red" if error else "green"))

    def action_save(self) -> None:
        from storage.clock import parse_date

        view = self.views.get(self.selected) if self.selected is not None else None
        if view is None or self.me is None:
            self._message("Nothing to save: no action selected.", error=True)
            return
        status = self.query_one("#ma-status", Select).value
        due_text = self.query_one("#ma-due", Input).value.strip()
        note = self.query_one("#ma-note", Input).value.strip() or None
        changes: dict[str, Any] = {}
        if status != view.status:
            changes["status"] = status
        shown_due = view.due_date.isoformat() if view.due_date else ""
        if due_text.lower() in ("", "none"):
            if shown_due:
                changes["due_date"] = None
        elif due_text != shown_due:
            try:
                changes["due_date"] = parse_date(due_text, "due date")
            except ValueError as exc:
                self._message(str(exc), error=True)
                return
        if not changes and note is None:
            self._message("Nothing changed.")
            return
        self._save(view.id, self.shown_version[view.id], changes, note)

    @work(thread=True, exclusive=True, group="my-actions-save")
    def _save(self, action_id: int, version: int, changes: dict[str, Any], note: str | None) -> None:
        from rituals.actions import StaleUpdate, update_action

        try:
            done = update_action(self.home.records, action_id, actor_id=self.me.id, now=self.home.clock.now(),
                                 note=note, if_version=version, tz=self.home.clock.tz, **changes)
        except (StaleUpdate, ValueError, RuntimeError) as exc:
            self.app.call_from_thread(self._refused, str(exc))
            return
        self.app.call_from_thread(self._message, f"Saved #{action_id} (version {done.version}).")
        self.app.call_from_thread(self.action_reload)

    def _refused(self, text: str) -> None:
        # The form keeps what was typed; `r` reloads what is current, then save again.
        self._message(f"{text} (press r to reload)", error=True)
        self.notify(text, title="Not saved", severity="error", markup=False)
