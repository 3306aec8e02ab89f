"""The recommendations inbox: one row per resource and action, largest monthly saving first, filtered by
team, account and action type; accept (an owned action), dismiss with a reason, or snooze, from the keys.
The screen renders rituals.inbox's list and collects the decision; rituals.inbox takes it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Select

from finops_tui.widgets.data_table import FrameTable
from finops_tui.widgets.safe_text import SafeStatic, safe_text
from storage.home import Home

COLUMNS = {"saving": "saving/mo", "action": "action", "resource": "resource", "team": "team", "owner": "owner",
           "account": "account", "effort": "effort", "restart": "restart", "age": "age", "sources": "sources"}
ANY = "__any__"


class InboxScreen(Screen[None]):
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back", id="inbox-back"),
        Binding("c", "decide('accept')", "Accept", id="inbox-accept"),
        Binding("d", "decide('dismiss')", "Dismiss", id="inbox-dismiss"),
        Binding("z", "decide('snooze')", "Snooze", id="inbox-snooze"),
        Binding("r", "reload", "Reload", id="inbox-reload"),
    ]

    def __init__(self, home: Home) -> None:
        super().__init__(name="inbox")
        self.home = home
        self.items: list[Any] = []
        self.filters: dict[str, str | None] = {"team": None, "account": None, "action_type": None}

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="inbox-filters"):
            yield Select([], prompt="team: any", id="inbox-team")
            yield Select([], prompt="account: any", id="inbox-account")
            yield Select([], prompt="action: any", id="inbox-action-type")
        yield SafeStatic("", id="inbox-summary", markup=False)
        yield FrameTable(id="inbox-table", export_name="inbox")
        yield SafeStatic("", id="inbox-detail", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.title = "Recommendations inbox"
        self.action_reload()

    def action_reload(self) -> None:
        self._load(dict(self.filters))

    @work(thread=True, exclusive=True, group="inbox-load")
    def _load(self, filters: dict[str, str | None]) -> None:
        from rituals.inbox import items

        with self.home.records.session() as s:
            every = items(s, self.home.clock.today())
            shown = items(s, self.home.clock.today(), **filters)
        self.app.call_from_thread(self._show, every, shown)

    def _show(self, every: list[Any], shown: list[Any]) -> None:
        import pandas as pd

        self.items = shown
        for sel_id, values in (("#inbox-team", sorted({i.team for i in every if i.team})),
                               ("#inbox-account", sorted({i.account for i in every if i.account})),
                               ("#inbox-action-type", sorted({i.action_type for i in every}))):
            select = self.query_one(sel_id, Select)
            current = select.value
            with select.prevent(Select.Changed):
                select.set_options([("any", ANY)] + [(v, v) for v in values])
                if current in values:
                    select.value = current
        currency = shown[0].currency if shown and len({i.currency for i in shown}) == 1 else None
        total = sum(i.estimated_monthly_savings for i in shown)
        self.query_one("#inbox-summary", SafeStatic).update(safe_text(
            f"{len(shown)} open recommendations, {total:,.2f} {currency or ''} a month "
            f"(of {len(every)} in the inbox). c accept, d dismiss, z snooze; o sorts by the current column."))
        rows = [{"saving": i.estimated_monthly_savings, "action": i.action_type, "resource": i.resource_id,
                 "team": i.team or "-", "owner": i.owner or "-", "account": i.account or "-",
                 "effort": (i.effort or "-").replace("_", " "),
                 "restart": "-" if i.restart_needed is None else ("yes" if i.restart_needed else "no"),
                 "age": f"{i.age_days}d", "sources": ", ".join(i.sources)} for i in shown]
        self.query_one("#inbox-table", FrameTable).load_frame(
            pd.DataFrame(rows, columns=list(COLUMNS), dtype=object), labels=COLUMNS, currency=currency,
            priorities={"saving": 0, "action": 0, "resource": 0, "team": 1, "owner": 1, "account": 2, "effort": 2,
                        "restart": 3, "age": 3, "sources": 3},
            keys=[str(i.id) for i in shown])
        self._detail()

    def _current(self) -> Any:
        position = self.query_one("#inbox-table", FrameTable).cursor_position()
        return self.items[position] if position is not None and position < len(self.items) else None

    def _detail(self) -> None:
        item = self._current()
        text = "" if item is None else (f"#{item.id} {item.title}\nsources: {', '.join(item.sources)}; "
                                        f"estimate: {item.estimate or '-'}")
        self.query_one("#inbox-detail", SafeStatic).update(safe_text(text))

    @on(DataTable.RowHighlighted, "#inbox-table")
    def _highlighted(self, _event: DataTable.RowHighlighted) -> None:
        self._detail()

    @on(Select.Changed)
    def _filter(self, event: Select.Changed) -> None:
        key = {"inbox-team": "team", "inbox-account": "account", "inbox-action-type": "action_type"}.get(
            event.select.id or "")
        if key is None:
            return
        value = event.value
        self.filters[key] = value if isinstance(value, str) and value != ANY else None
        self.action_reload()

    # -- decisions ----------------------------------------------------------------------------------------
    def action_decide(self, kind: str) -> None:
        item = self._current()
        if item is None:
            self.notify("No recommendation selected.", severity="warning")
            return
        defaults = {"owner": item.owner or "",
                    "due": (self.home.clock.today() + timedelta(days=30)).isoformat()} if kind == "accept" else {}
        from finops_tui.modals.inbox_decision import InboxDecision

        def take(values: dict[str, str] | None) -> None:
            if values is not None:
                self._take(kind, item.id, values)

        self.app.push_screen(InboxDecision(
            kind, f"#{item.id} {item.title}: {item.estimated_monthly_savings:,.2f} {item.currency} a month", defaults),
            callback=take)

    @work(thread=True, exclusive=True, group="inbox-take")
    def _take(self, kind: str, rec_id: int, values: dict[str, str]) -> None:
        from rituals import inbox
        from rituals.people import UnknownPerson, get_person, resolve_actor
        from storage.clock import parse_date

        clock = self.home.clock
        try:
            with self.home.records.write() as s:
                try:
                    actor_id = resolve_actor(s, None, remembered=self.home.remembered_people()).id
                except UnknownPerson:
                    actor_id = None
                if kind == "accept":
                    owner = values.get("owner", "").strip()
                    action = inbox.accept(s, rec_id, owner_id=get_person(s, owner).id if owner else None,
                                          due=parse_date(values.get("due", ""), "due date"), today=clock.today(),
                                          now=clock.now(), actor_id=actor_id)
                    done = f"Accepted: action #{action.id}"
                elif kind == "dismiss":
                    inbox.dismiss(s, rec_id, reason=values.get("reason", ""), now=clock.now(), actor_id=actor_id)
                    done = f"Dismissed #{rec_id}"
                else:
                    until = parse_date(values.get("until", ""), "snooze date")
                    inbox.snooze(s, rec_id, until=until, today=clock.today(), now=clock.now(), actor_id=actor_id)
                    done = f"Snoozed #{rec_id} until {until.isoformat()}"
        except ValueError as exc:
            self.app.call_from_thread(self.notify, str(exc), severity="error", markup=False)
            return
        self.app.call_from_thread(self.notify, done, markup=False)
        self.app.call_from_thread(self.action_reload)
