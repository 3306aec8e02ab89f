"""People and teams: who holds which role, who owns which team, which accounts each team owns, and the
channels its notifications go to.

Pick a row to fill its form; "Save" adds or edits (a known handle or team name is an edit); "Retire" keeps
the record for history but takes it out of use. A channel (an Apprise URL or env:VAR) is added to the team
named in the team form ("practice", or an empty name, for the FinOps practice); its URL is typed into a
password field, kept in the home's 0600 secrets file and only ever shown masked.
"""

from __future__ import annotations

from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, DataTable, Footer, Header, Input, Select, Static

from finops_tui.widgets.data_table import FrameTable
from finops_tui.widgets.safe_text import SafeStatic, safe_text
from storage.home import Home
from storage.records import ROLE_LABELS, ROLES


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


class PeopleScreen(Screen[None]):
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back", id="people-back"),
        Binding("ctrl+r", "reload", "Reload", id="people-reload"),
    ]

    def __init__(self, home: Home) -> None:
        super().__init__(name="people")
        self.home = home
        self.people: dict[str, Any] = {}  # handle -> PersonView
        self.teams: dict[str, Any] = {}  # name -> TeamView

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="pp-body"):
            with Vertical(id="pp-people"):
                yield SafeStatic("People", classes="section-title")
                yield FrameTable(id="pp-people-table", export_name="people")
                yield Input(placeholder="handle", id="pp-handle")
                yield Input(placeholder="name", id="pp-name")
                yield Select([(ROLE_LABELS[r], r) for r in ROLES], prompt="role", id="pp-role")
                yield Input(placeholder="teams, comma separated", id="pp-member-of")
                with Horizontal(classes="pp-buttons"):
                    yield Button("Save person", id="pp-save-person", variant="primary")
                    yield Button("Retire person", id="pp-retire-person", variant="warning")
            with VerticalScroll(id="pp-teams"):  # the channels sit below the team form: reachable at 80x24
                yield SafeStatic("Teams", classes="section-title")
                yield FrameTable(id="pp-teams-table", export_name="teams")
                yield Input(placeholder="team name", id="pp-team-name")
                yield Input(placeholder="owner handle", id="pp-team-owner")
                yield Input(placeholder="accounts: ID or ID=name, comma separated", id="pp-team-accounts")
                with Horizontal(classes="pp-buttons"):
                    yield Button("Save team", id="pp-save-team", variant="primary")
                    yield Button("Retire team", id="pp-retire-team", variant="warning")
                yield SafeStatic("Channels (notifications)", classes="section-title")
                yield FrameTable(id="pp-channels-table", export_name="channels")
                yield Input(placeholder="Apprise URL or env:VAR for the team above", password=True,
                            id="pp-channel-url")
                with Horizontal(classes="pp-buttons"):
                    yield Button("Add channel", id="pp-add-channel", variant="primary")
                    yield Button("Remove channel", id="pp-remove-channel", variant="warning")
                    yield Button("Test", id="pp-test-channel")
        yield SafeStatic("", id="pp-message", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.title = "People and teams"
        self.action_reload()

    # -- loading ----------------------------------------------------------------------------------------
    @work(thread=True, exclusive=True, group="people-load")
    def action_reload(self) -> None:
        from rituals.channels import list_channels
        from rituals.people import list_people, list_teams

        with self.home.records.session() as s:
            people, teams = list_people(s), list_teams(s)
            channels = list_channels(s, self.home.path)
        self.app.call_from_thread(self._show, people, teams, channels)

    def _show(self, people: list[Any], teams: list[Any], channels: list[Any] | None = None) -> None:
        self.people = {p.handle: p for p in people}
        self.teams = {t.name: t for t in teams}
        import pandas as pd

        self.query_one("#pp-people-table", FrameTable).load_frame(pd.DataFrame(
            [{"handle": p.handle, "name": p.name, "role": ROLE_LABELS[p.role], "teams": ", ".join(p.teams),
              "owns": ", ".join(p.owns)} for p in people],
            columns=["handle", "name", "role", "teams", "owns"], dtype=object), keys=[p.handle for p in people])
        self.query_one("#pp-teams-table", FrameTable).load_frame(pd.DataFrame(
            [{"team": t.name, "owner": t.owner or "-", "members": len(t.members),
              "accounts": ", ".join(a for a, _ in t.accounts)} for t in teams],
            columns=["team", "owner", "members", "accounts"], dtype=object), keys=[t.name for t in teams])
        self.query_one("#pp-channels-table", FrameTable).load_frame(pd.DataFrame(
            [{"#": c.id, "team": c.owner, "channel": c.label,
              "state": safe_text("ok") if c.usable else safe_text(f"unusable: {c.problem}", style="red")}
             for c in channels or []],
            columns=["#", "team", "channel", "state"], dtype=object), keys=[str(c.id) for c in channels or []])

    def _message(self, text: str, error: bool = False) -> None:
        self.query_one("#pp-message", Static).update(safe_text(text, style="bold red" if error else "green"))

    @on(DataTable.RowSelected, "#pp-people-table")
    @on(DataTable.RowHighlighted, "#pp-people-table")
    def _person_picked(self, event: DataTable.RowHighlighted) -> None:
        person = self.people.get(str(event.row_key.value))
        if person is None:
            return
        self.query_one("#pp-handle", Input).value = person.handle
        self.query_one("#pp-name", Input).value = person.name
        self.query_one("#pp-role", Select).value = person.role
        self.query_one("#pp-member-of", Input).value = ", ".join(person.teams)

    @on(DataTable.RowSelected, "#pp-teams-table")
    @on(DataTable.RowHighlighted, "#pp-teams-table")
    def _team_picked(self, event: DataTable.RowHighlighted) -> None:
        team = self.teams.get(str(event.row_key.value))
        if team is None:
            return
        self.query_one("#pp-team-name", Input).value = team.name
        self.query_one("#pp-team-owner", Input).value = team.owner or ""
        self.query_one("#pp-team-accounts", Input).value = ", ".join(
            f"{a}={n}" if n else a for a, n in team.accounts)

    # -- saving -----------------------------------------------------------------------------------------
    @on(Button.Pressed, "#pp-save-person")
    def _save_person(self) -> None:
        role = self.query_one("#pp-role", Select).value
        self._write("save_person", handle=self.query_one("#pp-handle", Input).value,
                    name=self.query_one("#pp-name", Input).value,
                    role=None if role is Select.BLANK else str(role),
                    teams=_split(self.query_one("#pp-member-of", Input).value))

    @on(Button.Pressed, "#pp-save-team")
    def _save_team(self) -> None:
        self._write("save_team", name=self.query_one("#pp-team-name", Input).value,
                    owner=self.query_one("#pp-team-owner", Input).value.strip() or None,
                    accounts=_split(self.query_one("#pp-team-accounts", Input).value))

    @on(Button.Pressed, "#pp-retire-person")
    def _retire_person(self) -> None:
        self._confirm_retire("person", self.query_one("#pp-handle", Input).value.strip())

    @on(Button.Pressed, "#pp-retire-team")
    def _retire_team(self) -> None:
        self._confirm_retire("team", self.query_one("#pp-team-name", Input).value.strip())

    def _channel_team(self) -> str:
        from rituals.channels import PRACTICE

        return self.query_one("#pp-team-name", Input).value.strip() or PRACTICE

    @on(Button.Pressed, "#pp-add-channel")
    def _add_channel(self) -> None:
        url_input = self.query_one("#pp-channel-url", Input)
        url, team = url_input.value.strip(), self._channel_team()
        url_input.value = ""
        if not url:
            self._message("Type an Apprise URL (slack://, msteams://, mailto://, json://...) or env:VAR.", True)
            return
        self._channel_op("add", team=team, url=url)

    @on(Button.Pressed, "#pp-remove-channel")
    def _remove_channel(self) -> None:
        from finops_tui.modals.confirm import Confirm

        table = self.query_one("#pp-channels-table", FrameTable)
        if not table.row_count:
            self._message("No channel to remove.", error=True)
            return
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        channel_id = int(str(key))

        def answered(yes: bool | None) -> None:
            if yes:
                self._channel_op("remove", channel_id=channel_id)

        self.app.push_screen(Confirm(f"Remove channel #{channel_id}?", "Its secret leaves the secrets file; "
                                     "its unsent messages are dropped.", yes="Remove"), answered)

    @on(Button.Pressed, "#pp-test-channel")
    def _test_channel(self) -> None:
        self._channel_op("test", team=self._channel_team())

    @work(thread=True, exclusive=True, group="people-write")
    def _channel_op(self, op: str, **kw: Any) -> None:
        from exports.delivery import check_url, test_channels
        from rituals.channels import add_channel, remove_channel

        now = self.home.clock.now()
        try:
            if op == "add":
                check_url(kw["url"])
                view = add_channel(self.home.records, self.home.path, kw["team"], kw["url"], now=now)
                text = f"Added channel #{view.id} for {view.owner}: {view.label}."
            elif op == "remove":
                view = remove_channel(self.home.records, self.home.path, kw["channel_id"], now=now)
                text = f"Removed channel #{view.id} of {view.owner}."
            else:
                results = test_channels(self.home, kw["team"])
                failed = [f"{label}: {err}" for label, err in results if err]
                if failed:
                    raise ValueError("Test failed: " + "; ".join(failed))
                text = f"Test message sent to {len(results)} channel(s) of {kw['team']}."
        except (ValueError, RuntimeError) as exc:
            self.app.call_from_thread(self._message, str(exc), True)
            return
        self.app.call_from_thread(self._message, text)
        self.app.call_from_thread(self.action_reload)

    def _confirm_retire(self, what: str, name: str) -> None:
        from finops_tui.modals.confirm import Confirm

        if not name:
            self._message(f"Pick a {what} first.", error=True)
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self._write(f"retire_{what}", name=name)

        self.app.push_screen(Confirm(f"Retire {what} {name}?", "Kept for history; no longer in use.",
                                     yes="Retire"), answered)

    @work(thread=True, exclusive=True, group="people-write")
    def _write(self, op: str, **kw: Any) -> None:
        try:
            with self.home.records.write() as s:
                text = getattr(self, f"_op_{op}")(s, **kw)
        except (ValueError, RuntimeError) as exc:
            self.app.call_from_thread(self._message, str(exc), True)
            return
        self.app.call_from_thread(self._message, text)
        self.app.call_from_thread(self.action_reload)

    @staticmethod
    def _op_save_person(s: Any, handle: str, name: str, role: str | None, teams: list[str]) -> str:
        from rituals.people import add_person, edit_person, find_person, list_people

        if find_person(s, handle) is None:
            if role is None:
                raise ValueError("pick a role for the new person")
            person = add_person(s, handle, name, role, teams=teams)
            return f"Added {person.handle}."
        current = next((p for p in list_people(s, True) if p.handle == handle.strip().lower()), None)
        had = set(current.teams) if current else set()
        want = {t.lower() for t in teams}
        edit_person(s, handle, name=name, role=role, join=[t for t in teams if t not in had],
                    leave=[t for t in had if t.lower() not in want])
        return f"Saved {handle.strip().lower()}."

    @staticmethod
    def _op_save_team(s: Any, name: str, owner: str | None, accounts: list[str]) -> str:
        from rituals.people import add_account, add_team, edit_team, find_team, list_teams, remove_account

        team = find_team(s, name)
        team = add_team(s, name, owner=owner) if team is None else edit_team(s, name, owner=owner)
        view = next(t for t in list_teams(s, True) if t.id == team.id)
        wanted = dict(item.partition("=")[::2] for item in accounts)
        for account_id, _ in view.accounts:
            if account_id not in wanted:
                remove_account(s, team.name, account_id)
        for account_id, account_name in wanted.items():
            add_account(s, team.name, account_id.strip(), account_name=account_name.strip() or None)
        return f"Saved team {team.name}."

    @staticmethod
    def _op_retire_person(s: Any, name: str) -> str:
        from rituals.people import retire_person

        done = retire_person(s, name)
        return " ".join([f"Retired {done.name}.", *done.warnings])

    @staticmethod
    def _op_retire_team(s: Any, name: str) -> str:
        from rituals.people import retire_team

        done = retire_team(s, name)
        return " ".join([f"Retired team {done.name}.", *done.warnings])
